//! The state machine: one event in, the new state plus journal and side effects out.
//!
//! Works on a copy of the instance; on any error the caller's instance is untouched. Tokens move
//! through non-waiting steps (decision, parallel, join, end) within the same event.
//!
//! Here: the run of one event and the events that act on the case as a whole (relocation,
//! withdrawal). The run's other parts are methods of the same `Run` in the submodules: `flow`
//! (entering and leaving steps), `consultation` (the Beteiligung), `timers` (Fristen and
//! timers), `data` (merge patches and the editors' check) and `effects`.

use std::collections::VecDeque;

use serde_json::Value;

use super::actions::check_action;
use super::definition::{Step, WaitFor};
use super::error::{EngineError, Refusal};
use super::event::{Actor, Clock, Event};
use super::instance::{CaseStatus, ForkFrame, Instance, LocalId};
use super::outcome::{JournalEntry, Outcome, SideEffect};
use super::workflow::Workflow;

mod consultation;
mod data;
mod effects;
mod flow;
mod timers;

pub(super) use timers::subtract_period;

/// Holiday calendar for legal periods (the procedure is NRW's).
pub const LAND: &str = "NW";

/// Applies one event to a case. Pure: same inputs, same outputs; `instance` is left untouched.
pub fn step(
    workflow: &Workflow,
    instance: &Instance,
    event: Event,
    clock: &Clock,
) -> Result<Outcome, EngineError> {
    step_owned(workflow, instance.clone(), event, clock)
}

/// Like [`step`], but consumes the instance instead of copying it: for callers that load the
/// state, apply one event and store the result (the service layer), this saves a deep copy.
pub fn step_owned(
    workflow: &Workflow,
    instance: Instance,
    event: Event,
    clock: &Clock,
) -> Result<Outcome, EngineError> {
    if instance.workflow != workflow.key() || instance.workflow_version != workflow.version() {
        return Err(EngineError::Inconsistent(format!(
            "case runs on {}@{}, definition is {}@{}",
            instance.workflow,
            instance.workflow_version,
            workflow.key(),
            workflow.version()
        )));
    }
    let mut run = Run {
        workflow,
        instance,
        clock,
        journal: Vec::new(),
        effects: Vec::new(),
        queue: VecDeque::new(),
        last_outcome: None,
    };
    run.apply(event)?;
    Ok(Outcome {
        instance: run.instance,
        journal: run.journal,
        effects: run.effects,
    })
}

struct Run<'w> {
    workflow: &'w Workflow,
    instance: Instance,
    clock: &'w Clock,
    journal: Vec<JournalEntry>,
    effects: Vec<SideEffect>,
    /// Steps to enter, with the fork frames of the arriving token.
    queue: VecDeque<(String, Vec<ForkFrame>)>,
    last_outcome: Option<String>,
}

impl Run<'_> {
    fn record(&mut self, entry: JournalEntry) {
        self.journal.push(entry);
    }

    fn require_running(&self) -> Result<(), EngineError> {
        match self.instance.status {
            CaseStatus::Running => Ok(()),
            _ => Err(EngineError::NotRunning),
        }
    }

    fn apply(&mut self, event: Event) -> Result<(), EngineError> {
        match event {
            Event::Start {
                actor,
                data,
                origin,
            } => {
                if self.instance.status != CaseStatus::New {
                    return Err(EngineError::AlreadyStarted);
                }
                self.instance.data = match data {
                    Value::Null => Value::Object(Default::default()),
                    Value::Object(object) => Value::Object(object),
                    _ => return Err(EngineError::DataNotAnObject),
                };
                // A case another one starts carries data its workflow hands over; a person
                // starting a case fills in only what their roles may.
                if !actor.is_system() {
                    self.check_editors(&actor.roles, &Value::Object(Default::default()))?;
                }
                self.instance.status = CaseStatus::Running;
                self.record(JournalEntry::CaseStarted {
                    actor: actor.id.clone(),
                    workflow: self.workflow.key().to_string(),
                    version: self.workflow.version().to_string(),
                    applicant: self.instance.applicant.key.clone(),
                    origin,
                });
                let start = self.workflow.definition().start.clone();
                self.queue.push_back((start, Vec::new()));
            }
            Event::Act {
                token,
                action,
                actor,
                data,
            } => {
                self.require_running()?;
                let token = self
                    .instance
                    .token(token)
                    .cloned()
                    .ok_or(EngineError::UnknownToken(token))?;
                if let Some(patch) = &data {
                    self.patch_data(&actor, patch)?;
                }
                let checked = check_action(
                    self.workflow,
                    &self.instance,
                    &token,
                    &action,
                    &actor,
                    self.clock,
                );
                let target = match checked {
                    Ok(action) => action,
                    Err(reasons) => return Err(EngineError::Refused { reasons }),
                };
                let (to, set) = (target.to.clone(), target.set.clone());
                self.record(JournalEntry::ActionTaken {
                    step: token.step.clone(),
                    action: action.clone(),
                    actor: actor.id,
                    token: token.id,
                });
                for (path, value) in set {
                    self.set_data(&token.step, &path, value);
                }
                self.leave(token.id, &format!("action:{action}"));
                self.queue.push_back((to, token.forks));
            }
            Event::ChangeData { actor, data } => {
                self.require_running()?;
                self.patch_data(&actor, &data)?;
            }
            Event::Answer { invitation, answer } => {
                self.require_running()?;
                self.answer(invitation, answer)?;
            }
            Event::ExtendDeadline {
                invitation,
                until,
                actor,
                reason,
            } => {
                self.require_running()?;
                self.extend_deadline(invitation, until, &actor, reason)?;
            }
            Event::AddParticipant {
                step,
                participant,
                actor,
                reason,
            } => {
                self.require_running()?;
                self.add_participant(&step, participant.trim(), &actor, reason)?;
            }
            Event::WithdrawParticipant {
                invitation,
                actor,
                reason,
            } => {
                self.require_running()?;
                self.withdraw_participant(invitation, &actor, reason)?;
            }
            Event::TimerFired { timer } => {
                self.require_running()?;
                let index = self
                    .instance
                    .timers
                    .iter()
                    .position(|t| t.id == timer)
                    .ok_or(EngineError::UnknownTimer(timer))?;
                let fired = self.instance.timers.remove(index);
                self.fire(fired)?;
            }
            Event::Message { name, actor, data } => {
                self.require_running()?;
                let receivers: Vec<(LocalId, String)> = self
                    .instance
                    .active_steps()
                    .filter_map(|token| match self.workflow.step(&token.step) {
                        Some(Step::Wait(wait)) if wait.until == WaitFor::Message(name.clone()) => {
                            Some((token.id, wait.next.clone()))
                        }
                        _ => None,
                    })
                    .collect();
                if receivers.is_empty() {
                    return Err(EngineError::NoReceiver(name));
                }
                self.record(JournalEntry::MessageReceived {
                    message: name.clone(),
                    actor: actor.id.clone(),
                });
                if let Some(patch) = &data {
                    self.message_data(&name, &actor, patch)?;
                }
                for (token, next) in receivers {
                    self.move_on(token, &format!("message:{name}"), next)?;
                }
            }
            Event::Relocate {
                step,
                actor,
                reason,
            } => self.relocate(step, actor, reason)?,
            Event::Withdraw { actor, reason } => {
                self.require_running()?;
                let Some(withdrawal) = self.workflow.definition().withdraw.clone() else {
                    return Err(EngineError::Refused {
                        reasons: vec![Refusal::NotAvailable {
                            message: "Dieser Vorgang kann nicht zurückgezogen werden.".into(),
                        }],
                    });
                };
                if !withdrawal.open_to(&actor) {
                    return Err(EngineError::Refused {
                        reasons: vec![Refusal::RoleNotAllowed {
                            role: withdrawal.roles.join(", "),
                            message: "Sie dürfen diesen Vorgang nicht zurückziehen.".into(),
                        }],
                    });
                }
                // A role other than those who withdraw, at whose step the case stands (the
                // Bewilligungsbehörde examining the Antrag), learns that it need not go on.
                for (role, step) in self.roles_at_active_steps() {
                    if withdrawal.roles.contains(&role) {
                        continue;
                    }
                    self.effects.push(SideEffect::TellCaseEnded {
                        role,
                        step,
                        outcome: withdrawal.outcome_title().to_string(),
                    });
                }
                // Partners still asked for a Stellungnahme are told it is no longer needed;
                // their links end now, not after the grace period of a closed consultation.
                self.withdraw_open_invitations(Some(withdrawal.outcome_title()));
                self.leave_all("withdrawn");
                self.instance.status = CaseStatus::Withdrawn;
                self.instance.outcome = Some(withdrawal.outcome.clone());
                self.record(JournalEntry::CaseWithdrawn {
                    actor: actor.id,
                    reason,
                    outcome: withdrawal.outcome.clone(),
                });
                self.effects.push(SideEffect::Finished {
                    outcome: withdrawal.outcome,
                });
                return Ok(());
            }
        }
        self.process_queue()?;
        if self.instance.status == CaseStatus::Running && self.instance.tokens.is_empty() {
            let outcome = self
                .last_outcome
                .clone()
                .unwrap_or_else(|| "beendet".to_string());
            self.instance.status = CaseStatus::Completed;
            self.instance.outcome = Some(outcome.clone());
            self.record(JournalEntry::CaseCompleted {
                outcome: outcome.clone(),
            });
            self.effects.push(SideEffect::Finished { outcome });
        }
        Ok(())
    }

    /// Moves the whole case to the task `target` ([`Event::Relocate`]): withdraws the open
    /// invitations (their partners are told), leaves every step, and enters `target` afresh
    /// with its deadlines, also when the case had ended. Only a task outside every parallel
    /// can take the case: a step on a branch belongs to a fork the case is not in.
    fn relocate(
        &mut self,
        target: String,
        actor: Actor,
        reason: String,
    ) -> Result<(), EngineError> {
        let refuse = |message: String| Err(EngineError::RelocationRefused(message));
        match self.workflow.step(&target) {
            None => {
                return refuse(format!(
                    "Einen Schritt „{target}“ gibt es in dieser Version des Workflows nicht."
                ));
            }
            Some(Step::Task(_)) if self.workflow.definition().in_parallel_branch(&target) => {
                return refuse(format!(
                    "„{}“ liegt in einem Zweig paralleler Bearbeitung; der Vorgang kann nur zu \
                     einer Aufgabe außerhalb paralleler Zweige gesetzt werden.",
                    self.workflow.definition().step_title(&target)
                ));
            }
            Some(Step::Task(_)) => {}
            Some(_) => {
                return refuse(format!(
                    "„{}“ ist keine Aufgabe; der Vorgang kann nur zu einer Aufgabe gesetzt werden, \
                     von der aus es mit den Aktionen des Verfahrens weitergeht.",
                    self.workflow.definition().step_title(&target)
                ));
            }
        }
        let reopened = match self.instance.status {
            CaseStatus::New => return Err(EngineError::NotRunning),
            CaseStatus::Running => None,
            CaseStatus::Completed | CaseStatus::Withdrawn => {
                Some(self.instance.outcome.clone().unwrap_or_default())
            }
        };
        let from: Vec<String> = self
            .instance
            .active_steps()
            .map(|token| token.step.clone())
            .collect();
        if reopened.is_none() && from == [target.as_str()] {
            return refuse(format!(
                "Der Vorgang steht bereits bei „{}“.",
                self.workflow.definition().step_title(&target)
            ));
        }
        self.record(JournalEntry::CaseRelocated {
            from,
            to: target.clone(),
            actor: actor.id,
            reason,
            reopened,
        });
        // Each role whose step the case leaves learns it, once, with where the case now stands:
        // the move is the administration's, not theirs.
        for (role, step) in self.roles_at_active_steps() {
            self.effects.push(SideEffect::TellStepDropped {
                role,
                step,
                continues_at: target.clone(),
            });
        }
        // Partners still asked would otherwise wait for a consultation that no longer runs.
        self.withdraw_open_invitations(None);
        self.leave_all("relocated");
        self.instance.status = CaseStatus::Running;
        self.instance.outcome = None;
        self.queue.push_back((target, Vec::new()));
        Ok(())
    }

    /// The roles of the steps the case stands at, each once with the first such step, in the
    /// order of the tokens: whom to tell when those steps end from outside.
    fn roles_at_active_steps(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for token in self.instance.active_steps() {
            let Some(role) = self.workflow.step(&token.step).and_then(Step::role) else {
                continue;
            };
            if !out.iter().any(|(told, _)| told == role) {
                out.push((role.to_string(), token.step.clone()));
            }
        }
        out
    }

    /// Leaves every step the case stands at, the tokens parked at joins included.
    fn leave_all(&mut self, via: &str) {
        let tokens: Vec<LocalId> = self.instance.tokens.iter().map(|t| t.id).collect();
        for token in tokens {
            self.leave(token, via);
        }
    }
}
