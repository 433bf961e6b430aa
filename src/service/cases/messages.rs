//! Messages a case waits for (BPMN message events): a letter or a council decision recorded by
//! the office, or another system's signal that names the case by its Aktenzeichen.

use diesel::prelude::*;
use serde_json::Value;

use super::{CaseContext, Invocation, LoadedCase, apply};
use crate::db::DbConnection;
use crate::db::models::CaseId;
use crate::db::schema::cases;
use crate::engine::{Event, Instance};
use crate::service::error::ServiceError;
use crate::service::workflows::DeployedWorkflow;

/// Records that the message `name` arrived (a letter, a council decision, another system's
/// signal): every active step waiting for it moves on (BPMN message correlation), after the
/// `data` it carries is merged (only fields the message declares; validated against the data
/// schema). Refused with a reason when no step waits for it.
pub fn receive_message(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    id: CaseId,
    version: i64,
    name: &str,
    data: Option<Value>,
    call: Invocation<'_>,
) -> Result<LoadedCase, ServiceError> {
    deliver_message(conn, ctx, id, Some(version), name, data, call)
}

/// `receive_message` for a sender that knows the case by its Aktenzeichen, as another system
/// does (Camunda's correlation by business key): the message applies to the case as it is when
/// it arrives, so there is no version to match. A case the caller may not see is not found.
pub fn correlate_message(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    aktenzeichen: &str,
    name: &str,
    data: Option<Value>,
    call: Invocation<'_>,
) -> Result<LoadedCase, ServiceError> {
    let aktenzeichen = aktenzeichen.trim();
    // One answer whether the case does not exist or belongs to someone else, so that the
    // answer does not tell which Aktenzeichen are taken.
    let unknown = || {
        ServiceError::NotFound(format!(
            "Einen Vorgang mit dem Aktenzeichen „{aktenzeichen}“ gibt es nicht."
        ))
    };
    let id: Option<CaseId> = cases::table
        .filter(cases::aktenzeichen.eq(aktenzeichen))
        .select(cases::id)
        .first(conn)
        .optional()?;
    match deliver_message(conn, ctx, id.ok_or_else(unknown)?, None, name, data, call) {
        Err(ServiceError::NotFound(_)) => Err(unknown()),
        other => other,
    }
}

/// Moves the steps waiting for `name` on, at `version` if one is expected.
fn deliver_message(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    id: CaseId,
    version: Option<i64>,
    name: &str,
    data: Option<Value>,
    call: Invocation<'_>,
) -> Result<LoadedCase, ServiceError> {
    let actor_for_event = call.actor.clone();
    // Data is validated against the schema only when the message carries some.
    let validate = data.is_some();
    apply(
        conn,
        ctx,
        id,
        version,
        call,
        move |workflow, instance| {
            if awaited_messages(workflow, instance).any(|awaited| awaited == name) {
                Ok(Event::Message {
                    name: name.to_string(),
                    actor: actor_for_event,
                    data,
                })
            } else {
                Err(ServiceError::Refused(vec![
                    crate::engine::Refusal::NotAvailable {
                        message: format!(
                            "Im aktuellen Stand wartet kein Schritt des Vorgangs auf die \
                             Nachricht „{}“.",
                            workflow.definition().message_title(name)
                        ),
                    },
                ]))
            }
        },
        validate,
    )
}

/// The messages the active steps of `instance` wait for.
fn awaited_messages<'a>(
    workflow: &'a DeployedWorkflow,
    instance: &'a Instance,
) -> impl Iterator<Item = &'a str> {
    instance
        .active_steps()
        .filter_map(|token| workflow.workflow.step(&token.step)?.awaited_message())
}
