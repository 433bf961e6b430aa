//! Korrektur des Bearbeitungsstands: an administrator moves a case to a task step of its
//! workflow (what BPMN engines call process instance modification).
//!
//! The workflow's own actions lead back where the procedure does (a draft revised, a
//! Beteiligung repeated); a wrong click does not: „Nicht beschlossen“ for a Kreistag that
//! adopted the concept, a case withdrawn by mistake. Such a case is moved, with a reason for
//! the file, to the task where work goes on. Every step it stands at ends with its Fristen,
//! partners still asked are told that no Stellungnahme is needed, and an ended case runs
//! again. Data, documents, Stellungnahmen and the journal stay as they are; cases it started
//! (the Betrieb after a Bewilligung) stay too.

use serde::Serialize;
use utoipa::ToSchema;

use super::ServiceError;
use super::cases::{self, CaseContext, Invocation, LoadedCase};
use super::extension::required_reason;
use crate::db::DbConnection;
use crate::db::models::CaseId;
use crate::engine::data::DataError;
use crate::engine::{Actor, Clock, EngineError, Event, step};

/// Where the step is named in a request (the API's body, the page's form).
pub const STEP_POINTER: &str = "/step";

/// A task offered for the move of one case: whether the move would be taken, and if not why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TargetOption {
    /// Der Schritt im Workflow.
    pub step: String,
    /// Sein Titel.
    pub title: String,
    /// Ob der Vorgang jetzt dorthin gesetzt werden kann.
    pub allowed: bool,
    /// Warum nicht (deutsch), etwa weil der Vorgang schon allein dort steht.
    pub reasons: Vec<String>,
}

/// The tasks `case` could be moved to, each tried on the engine without writing anything, so
/// that what is offered is what [`relocate`] would do.
pub fn options(case: &LoadedCase, clock: &Clock) -> Vec<TargetOption> {
    let workflow = &case.workflow.workflow;
    case.workflow
        .definition()
        .relocation_targets()
        .map(|(target, task)| {
            let trial = Event::Relocate {
                step: target.to_string(),
                actor: Actor::system(),
                reason: String::new(),
            };
            let reasons = match step(workflow, &case.instance, trial, clock) {
                Ok(_) => Vec::new(),
                Err(EngineError::RelocationRefused(message)) => vec![message],
                Err(EngineError::Refused { reasons }) => {
                    reasons.iter().map(|r| r.message().to_string()).collect()
                }
                Err(other) => vec![other.to_string()],
            };
            TargetOption {
                step: target.to_string(),
                title: task.title.clone(),
                allowed: reasons.is_empty(),
                reasons,
            }
        })
        .collect()
}

/// Checks the form: a step (`/step`) and a reason (`/grund`, one line) are required.
pub fn check(step: Option<&str>, grund: Option<&str>) -> Result<(String, String), Vec<DataError>> {
    let step = step.map(str::trim).filter(|s| !s.is_empty());
    let reason = required_reason(
        grund,
        "Bitte geben Sie an, warum der Bearbeitungsstand korrigiert wird.",
    );
    match (step, reason) {
        (Some(step), Ok(reason)) => Ok((step.to_string(), reason)),
        (step, reason) => {
            let mut errors = Vec::new();
            if step.is_none() {
                errors.push(DataError {
                    pointer: STEP_POINTER.into(),
                    message: "Bitte wählen Sie den Schritt, bei dem der Vorgang weitergehen soll."
                        .into(),
                });
            }
            errors.extend(reason.err().unwrap_or_default());
            Err(errors)
        }
    }
}

/// Moves case `id`, at `version`, to the task `step` (see the module); the caller's permission
/// is checked on the case (`call.check`). A step the case cannot be moved to is an error at
/// [`STEP_POINTER`], with why.
pub fn relocate(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    id: CaseId,
    version: i64,
    (step, reason): (String, String),
    call: Invocation<'_>,
) -> Result<LoadedCase, ServiceError> {
    let actor = call.actor.clone();
    let event = move |_: &_, _: &_| {
        Ok(Event::Relocate {
            step,
            actor,
            reason,
        })
    };
    match cases::apply(conn, ctx, id, Some(version), call, event, false) {
        Err(ServiceError::Engine(EngineError::RelocationRefused(message))) => {
            Err(ServiceError::InvalidInput(vec![DataError {
                pointer: STEP_POINTER.into(),
                message,
            }]))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_and_reason_are_both_required_and_named_at_their_fields() {
        let errors = check(Some("  "), None).unwrap_err();
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, [STEP_POINTER, "/grund"]);
        let errors = check(Some("entwurf"), Some("zwei\nZeilen")).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].pointer, "/grund");
        assert_eq!(
            check(Some(" entwurf "), Some(" Falsche Aktion ")).unwrap(),
            ("entwurf".to_string(), "Falsche Aktion".to_string())
        );
    }
}
