//! Starting a case: the data validated and the engine's start event run before the write
//! transaction, which only numbers the case (its Aktenzeichen) and writes it with its first
//! journal entries, timers and mails. Also the start of a case by another case's `start_case`
//! effect (see `record`), which links the two.

use std::sync::Arc;

use chrono::Datelike;
use diesel::prelude::*;
use serde_json::{Value, json};

use super::{
    CaseContext, Held, LoadedCase, current_steps, db_time, internal, record, stand_rank,
    status_name, submitted,
};
use crate::db::models::{CaseId, CaseRow, NewCase, Organisation};
use crate::db::schema::{case_origins, cases};
use crate::db::{DbConnection, Deferred, defer_insert, write_transaction};
use crate::engine::data::validate_data;
use crate::engine::{Actor, Applicant, Clock, Event, Instance, Outcome, SideEffect, step_owned};
use crate::journal::ChainHead;
use crate::service::error::ServiceError;
use crate::service::next_deadline::next_deadline;
use crate::service::workflows::DeployedWorkflow;

/// Starts a case of the newest version of `workflow_key` for `applicant`. The data is
/// validated and the engine run before the write transaction, which only numbers the case and
/// writes it: on PostgreSQL the Aktenzeichen counter's row stays locked for less time, on SQLite
/// the write gate.
pub fn start_case(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    workflow_key: &str,
    applicant: &Organisation,
    data: Value,
    actor: &Actor,
    clock: &Clock,
) -> Result<LoadedCase, ServiceError> {
    let workflow = ctx.registry.latest(conn, workflow_key)?;
    let start = Start::compute(&workflow, applicant, data, actor, clock, None)?;
    write_transaction(conn, |conn| {
        let mut deferred = Deferred::new();
        let started = start.write(conn, &mut deferred, ctx, &workflow, applicant, actor, clock)?;
        deferred.flush(conn)?;
        Ok(started)
    })
}

/// A new case's first state, computed before it has an Aktenzeichen (the engine does not see
/// it) and not yet written.
pub(super) struct Start {
    outcome: Outcome,
    state: String,
    /// The case and step that start it, for a case started by a `start_case` effect.
    origin: Option<(CaseId, String)>,
}

/// The case whose step starts a new case through its `start_case` effect.
pub(super) struct Origin<'a> {
    pub(super) case: &'a CaseRow,
    pub(super) step: &'a str,
}

impl Start {
    /// Validates the data and runs the engine's start event.
    pub(super) fn compute(
        workflow: &DeployedWorkflow,
        applicant: &Organisation,
        data: Value,
        actor: &Actor,
        clock: &Clock,
        origin: Option<Origin<'_>>,
    ) -> Result<Self, ServiceError> {
        let data = match data {
            Value::Null => json!({}),
            other => other,
        };
        let errors = validate_data(&workflow.definition().data, &data);
        if !errors.is_empty() {
            return Err(ServiceError::InvalidData(errors));
        }
        let instance = Instance::new(
            workflow.key(),
            workflow.workflow.version(),
            Applicant {
                key: applicant.key.clone(),
                kind: applicant.kind.as_str().to_string(),
                name: applicant.name.clone(),
            },
        );
        let outcome = step_owned(
            &workflow.workflow,
            instance,
            Event::Start {
                actor: actor.clone(),
                data,
                origin: origin.as_ref().map(|o| o.case.aktenzeichen.clone()),
            },
            clock,
        )?;
        let state = serde_json::to_string(&outcome.instance).map_err(internal)?;
        Ok(Self {
            outcome,
            state,
            origin: origin.map(|o| (o.case.id, o.step.to_string())),
        })
    }

    /// Reserves the Aktenzeichen and writes the case with what its outcome asks for.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn write(
        self,
        conn: &mut DbConnection,
        deferred: &mut Deferred,
        ctx: &CaseContext<'_>,
        workflow: &Arc<DeployedWorkflow>,
        applicant: &Organisation,
        actor: &Actor,
        clock: &Clock,
    ) -> Result<LoadedCase, ServiceError> {
        let Self {
            outcome,
            state,
            origin,
        } = self;
        let definition = workflow.definition();
        let prefix = definition
            .prefix
            .clone()
            .unwrap_or_else(|| definition.workflow.to_uppercase());
        let year = clock.today.year();
        let counter = ctx.pattern.counter(&prefix, &applicant.key, year);
        let reserved = crate::service::aktenzeichen::reserve(conn, counter)?;
        let aktenzeichen = ctx
            .pattern
            .render(&prefix, &applicant.key, year, reserved.number);
        let now = db_time(clock);
        let steps = current_steps(&outcome.instance);
        let new = NewCase {
            aktenzeichen: &aktenzeichen,
            definition_id: workflow.id,
            workflow_key: workflow.key(),
            applicant_id: applicant.id,
            status: status_name(outcome.instance.status),
            outcome: outcome.instance.outcome.as_deref(),
            state: &state,
            version: 1,
            submitted_at: submitted(workflow, &outcome.instance).then_some(now),
            current_steps: &steps,
            stand_rank: Some(stand_rank(workflow, &steps)),
            next_deadline: Some(next_deadline(&workflow.workflow, &outcome.instance)),
            created_at: now,
            updated_at: now,
            journal_seq: i32::try_from(outcome.journal.len())
                .map_err(|_| ServiceError::Internal("zu viele Journaleinträge".into()))?,
        };
        let row = match reserved.case_id {
            // PostgreSQL: the row is known in full, so its INSERT joins the command's other
            // writes. Effects that write at once (invitations, mails, a started case) reference
            // the case, which must then exist first.
            Some(id) => {
                let row = new.row_with_id(id);
                deferred.push(diesel::insert_into(cases::table).values((
                    row.clone(),
                    cases::journal_seq.eq(new.journal_seq),
                    cases::stand_rank.eq(new.stand_rank),
                    cases::next_deadline.eq(new.next_deadline),
                )));
                if outcome.effects.iter().any(|effect| {
                    !matches!(
                        effect,
                        SideEffect::ScheduleTimer { .. }
                            | SideEffect::CancelTimer { .. }
                            | SideEffect::Finished { .. }
                    )
                }) {
                    deferred.flush(conn)?;
                }
                row
            }
            None => new.insert(conn)?,
        };
        if let Some((origin, step)) = origin {
            let link = (
                case_origins::case_id.eq(row.id),
                case_origins::origin_case_id.eq(origin),
                case_origins::step.eq(step),
            );
            defer_insert!(conn, deferred, case_origins::table, vec![link])?;
        }
        let held = Held {
            row: &row,
            head: ChainHead::genesis(),
            applicant_mailbox: applicant.mailbox.as_deref(),
        };
        record(conn, deferred, ctx, held, workflow, &outcome, actor, clock)?;
        // `record` changes no column of the case row, so the inserted row is the stored one.
        Ok(LoadedCase {
            row,
            instance: outcome.instance,
            workflow: Arc::clone(workflow),
        })
    }
}
