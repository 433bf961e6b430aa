//! The state machine: one event in, the new state plus journal and side effects out.
//!
//! Works on a copy of the instance; on any error the caller's instance is untouched. Tokens move
//! through non-waiting steps (decision, parallel, join, end) within the same event.

use std::collections::VecDeque;

use chrono::{Days, Months, NaiveDate};
use serde_json::Value;

use super::actions::check_action;
use super::data::{DataError, escape_pointer, lookup, merge_patch, set_path};
use super::definition::{
    ConsultationStep, DataPath, Deadline, Effect, PeriodKind, Recipient, Step, TimerWhen, WaitFor,
};
use super::error::{EngineError, Refusal};
use super::event::{Actor, Clock, Event};
use super::expr::ExprInput;
use super::instance::{
    CaseStatus, ForkFrame, Instance, InvitationState, InvitationStatus, LocalId, StartedCase,
    TimerPurpose, TimerState, Token,
};
use super::outcome::{
    CompletionReason, JournalEntry, MailTarget, Outcome, SideEffect, TimerDeadline, TimerKind,
};
use super::workflow::Workflow;
use crate::frist::{EndShift, HolidayCalendar, StartKind, compute_deadline};

/// Transitions one event may cause before the engine assumes a loop without a waiting step.
const MAX_TRANSITIONS: usize = 10_000;

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

    /// Withdraws every open invitation, telling its partner (with how the case ended, when it
    /// ends with them); their links end at once.
    fn withdraw_open_invitations(&mut self, case_ended: Option<&str>) {
        for invitation in self
            .instance
            .invitations
            .iter_mut()
            .filter(|i| i.status == InvitationStatus::Open)
        {
            invitation.status = InvitationStatus::Withdrawn;
            self.effects.push(SideEffect::WithdrawInvitation {
                invitation: invitation.id,
                case_ended: case_ended.map(str::to_string),
            });
        }
    }

    /// Leaves every step the case stands at, the tokens parked at joins included.
    fn leave_all(&mut self, via: &str) {
        let tokens: Vec<LocalId> = self.instance.tokens.iter().map(|t| t.id).collect();
        for token in tokens {
            self.leave(token, via);
        }
    }

    /// Merges a person's patch into the data: refused unless a step of one of their roles is
    /// active, and for the fields those roles may not change.
    fn patch_data(&mut self, actor: &Actor, patch: &Value) -> Result<(), EngineError> {
        if !patch.is_object() {
            return Err(EngineError::DataNotAnObject);
        }
        let acting = super::editors::at_work(self.workflow, &self.instance, &actor.roles).map_err(
            |refusal| EngineError::Refused {
                reasons: vec![refusal],
            },
        )?;
        let before = self.instance.data.clone();
        merge_patch(&mut self.instance.data, patch);
        self.check_editors(&acting, &before)?;
        self.record(JournalEntry::DataChanged {
            actor: actor.id.clone(),
            patch: patch.clone(),
        });
        Ok(())
    }

    /// Merges the data a message carries, before the steps waiting for it move on (a decision
    /// behind them reads it). Every field the patch touches must be one the message declares,
    /// or lie inside one; the fields' `editors` do not apply, the declaration is the permission.
    fn message_data(
        &mut self,
        name: &str,
        actor: &Actor,
        patch: &Value,
    ) -> Result<(), EngineError> {
        let Value::Object(object) = patch else {
            return Err(EngineError::DataNotAnObject);
        };
        let definition = self.workflow.definition();
        let declared: Vec<&DataPath> = definition
            .messages
            .get(name)
            .map(|message| message.data.iter().collect())
            .unwrap_or_default();
        let mut touched = Vec::new();
        touched_paths(object, &mut Vec::new(), &mut touched);
        // By segments, so that a key holding a dot is no path into a declared group.
        let carried = |path: &[&str]| {
            declared
                .iter()
                .any(|field| path.starts_with(&field.segments().collect::<Vec<_>>()))
        };
        let title = definition.message_title(name);
        let errors: Vec<DataError> = touched
            .iter()
            .filter(|path| !carried(path))
            .map(|path| DataError {
                pointer: path
                    .iter()
                    .map(|s| format!("/{}", escape_pointer(s)))
                    .collect(),
                message: if declared.is_empty() {
                    format!("Die Nachricht „{title}“ trägt keine Daten.")
                } else {
                    format!(
                        "Die Nachricht „{title}“ setzt nur {}, nicht „{}“.",
                        declared
                            .iter()
                            .map(|field| format!("„{}“", field.as_field_path()))
                            .collect::<Vec<_>>()
                            .join(", "),
                        path.join(".")
                    )
                },
            })
            .collect();
        if !errors.is_empty() {
            return Err(EngineError::NotEditable(errors));
        }
        if object.is_empty() {
            return Ok(());
        }
        merge_patch(&mut self.instance.data, patch);
        self.record(JournalEntry::DataChanged {
            actor: actor.id.clone(),
            patch: patch.clone(),
        });
        Ok(())
    }

    /// Refuses a change from `before` to the current data that touches fields `roles` may not
    /// change (the event fails as a whole, so nothing of it is kept). For a running case these
    /// are the actor's roles at work ([`super::editors::at_work`]).
    fn check_editors(&self, roles: &[String], before: &Value) -> Result<(), EngineError> {
        let errors = super::editors::refused_changes(
            self.workflow.definition(),
            roles,
            before,
            &self.instance.data,
        );
        if errors.is_empty() {
            Ok(())
        } else {
            Err(EngineError::NotEditable(errors))
        }
    }

    fn set_data(&mut self, step: &str, path: &str, value: Value) {
        if set_path(&mut self.instance.data, path, value.clone()) {
            self.record(JournalEntry::DataSet {
                step: step.to_string(),
                path: path.to_string(),
                value,
            });
        }
    }

    fn consultation(&self, step: &str) -> Result<&ConsultationStep, EngineError> {
        match self.workflow.step(step) {
            Some(Step::Consultation(c)) => Ok(c),
            _ => Err(EngineError::Inconsistent(format!(
                "{step} is not a consultation"
            ))),
        }
    }

    /// Records a partner's answer: the first one, an amendment while the consultation is open
    /// and the deadline not passed, or a late one where the workflow accepts it.
    fn answer(
        &mut self,
        invitation: LocalId,
        answer: super::instance::Answer,
    ) -> Result<(), EngineError> {
        let index = self
            .instance
            .invitations
            .iter()
            .position(|i| i.id == invitation)
            .ok_or(EngineError::UnknownInvitation(invitation))?;
        let (token, step_name, participant, deadline) = {
            let inv = &self.instance.invitations[index];
            (
                inv.token,
                inv.step.clone(),
                inv.participant.clone(),
                inv.deadline,
            )
        };
        let consultation = self.consultation(&step_name)?;
        let late_allowed = consultation.late_answers;
        let completion = consultation.complete;
        let next = consultation.next.clone();
        let open_step = self
            .instance
            .tokens
            .iter()
            .any(|t| t.id == token && t.step == step_name);
        // A Stellungnahme the office enters counts from the day it reached the office (never
        // later than today); one through the link from today.
        let received_on = answer.received_on.map(|day| day.min(self.clock.today));
        let in_time = received_on.unwrap_or(self.clock.today) <= deadline;
        let (version, late) = match &self.instance.invitations[index].status {
            InvitationStatus::Open if in_time => (1, false),
            InvitationStatus::Answered { version, late, .. } if in_time && open_step && !late => {
                (version + 1, false)
            }
            // It reached the office in time, but the consultation closed before it was entered:
            // it is recorded as in time; the step has moved on already and stays where it is.
            InvitationStatus::Expired if in_time && received_on.is_some() => (1, false),
            InvitationStatus::Open | InvitationStatus::Expired if !in_time && late_allowed => {
                (1, true)
            }
            InvitationStatus::Answered {
                version,
                late: true,
                ..
            } if late_allowed => (version + 1, true),
            InvitationStatus::Open | InvitationStatus::Expired if !in_time => {
                return Err(EngineError::DeadlinePassed(
                    deadline.format("%d.%m.%Y").to_string(),
                ));
            }
            _ => return Err(EngineError::InvitationClosed(invitation)),
        };
        let was_open = self.instance.invitations[index].status == InvitationStatus::Open;
        self.record(JournalEntry::AnswerRecorded {
            step: step_name.clone(),
            invitation,
            participant,
            votum: answer.votum,
            answered_by: answer.answered_by.clone(),
            version,
            late,
            received_on,
        });
        self.instance.invitations[index].status = InvitationStatus::Answered {
            answer: super::instance::Answer {
                received_on,
                ..answer
            },
            at: self.clock.now,
            version,
            late,
        };
        let all_answered = !self
            .instance
            .invitations
            .iter()
            .any(|i| i.token == token && i.status == InvitationStatus::Open);
        if was_open
            && open_step
            && all_answered
            && completion == super::definition::Completion::AllAnswered
        {
            self.record(JournalEntry::ConsultationCompleted {
                step: step_name,
                reason: CompletionReason::AllAnswered,
                unanswered: Vec::new(),
            });
            self.move_on(token, "all_answered", next)?;
        }
        Ok(())
    }

    /// Invitation `invitation`: its index, a copy, and whether its step is still active (the
    /// consultation runs), for the office's decisions about it.
    fn invitation(
        &self,
        invitation: LocalId,
    ) -> Result<(usize, InvitationState, bool), EngineError> {
        let index = self
            .instance
            .invitations
            .iter()
            .position(|i| i.id == invitation)
            .ok_or(EngineError::UnknownInvitation(invitation))?;
        let current = self.instance.invitations[index].clone();
        let open_step = self
            .instance
            .tokens
            .iter()
            .any(|t| t.id == current.token && t.step == current.step);
        Ok((index, current, open_step))
    }

    /// Extends one invitation's deadline to `until`, a working day after the current deadline and
    /// not before today, while its consultation runs and the partner may still answer in time
    /// (open, or answered in time and so amendable). The consultation's own deadline timer moves
    /// to the latest deadline of its invitations, so the step does not close before it.
    fn extend_deadline(
        &mut self,
        invitation: LocalId,
        until: NaiveDate,
        actor: &Actor,
        reason: Option<String>,
    ) -> Result<(), EngineError> {
        let (index, current, open_step) = self.invitation(invitation)?;
        let extendable = match &current.status {
            InvitationStatus::Open => true,
            InvitationStatus::Answered { late, .. } => !late,
            InvitationStatus::Expired | InvitationStatus::Withdrawn => false,
        };
        if !open_step || !extendable {
            return Err(EngineError::InvitationClosed(invitation));
        }
        let consultation = self.consultation(&current.step)?.clone();
        self.require_coordinator(&consultation, actor, "Eine Frist zu verlängern")?;
        self.check_extension(&current, until)?;
        self.instance.invitations[index].deadline = until;
        self.record(JournalEntry::DeadlineExtended {
            step: current.step.clone(),
            invitation,
            participant: current.participant.clone(),
            from: current.deadline,
            until,
            actor: actor.id.clone(),
            reason,
        });
        self.effects.push(SideEffect::ExtendInvitation {
            invitation,
            deadline: until,
        });
        self.remind_before_own_deadline(&current, until)?;
        self.close_after_latest_deadline(current.token, &current.step)
    }

    /// Invites `participant` to the running consultation `step` with the step's period counted
    /// from today (the partner has the whole period from its own invitation, as an Ereignisfrist
    /// from sending), adds it to the data the participants come from, and keeps the step open
    /// until its deadline. Refused when the step runs no consultation or the partner is invited
    /// already (answered, open or expired).
    fn add_participant(
        &mut self,
        step: &str,
        participant: &str,
        actor: &Actor,
        reason: Option<String>,
    ) -> Result<(), EngineError> {
        let refuse = |message: String| Err(EngineError::ParticipantRefused(message));
        let consultation = match self.workflow.step(step) {
            Some(Step::Consultation(c)) => c.clone(),
            _ => return refuse(format!("Der Schritt „{step}“ ist keine Beteiligung.")),
        };
        self.require_coordinator(
            &consultation,
            actor,
            "Eine Stelle nachträglich zu beteiligen",
        )?;
        if participant.is_empty() {
            return refuse("Bitte wählen Sie die Stelle, die beteiligt werden soll.".into());
        }
        let Some(token) = self
            .instance
            .tokens
            .iter()
            .find(|t| t.step == step)
            .map(|t| t.id)
        else {
            return refuse(format!(
                "Die Beteiligung „{}“ läuft nicht; eine Stelle kann nur während der Beteiligung \
                 nachträglich beteiligt werden.",
                consultation.title
            ));
        };
        if self
            .instance
            .invitations
            .iter()
            .any(|i| i.token == token && i.participant == participant)
        {
            return refuse(
                "Diese Stelle ist an der laufenden Beteiligung bereits beteiligt.".into(),
            );
        }
        let computed = legal_deadline(step, self.clock.today, &consultation.deadline)?;
        let end = computed.end;
        let id = self.instance.allocate_id();
        let invitation = InvitationState {
            id,
            step: step.to_string(),
            token,
            participant: participant.to_string(),
            deadline: end,
            status: InvitationStatus::Open,
        };
        self.instance.invitations.push(invitation.clone());
        self.effects.push(SideEffect::Invite {
            invitation: id,
            step: step.to_string(),
            participant: participant.to_string(),
            deadline: end,
            deadline_reason: shift_reason(&computed),
            template: consultation.invitation.clone(),
        });
        self.record(JournalEntry::ParticipantAdded {
            step: step.to_string(),
            invitation: id,
            participant: participant.to_string(),
            deadline: end,
            actor: actor.id.clone(),
            reason,
        });
        // The data names every partner of the Beteiligung, the later one too (where it is a
        // list; a single key cannot take a second).
        let path = consultation.participants.as_field_path();
        let listed = match lookup(&self.instance.data, path) {
            Some(Value::Array(items)) => Some(items.clone()),
            None | Some(Value::Null) => Some(Vec::new()),
            Some(_) => None,
        };
        if let Some(mut items) = listed
            && !items.iter().any(|item| item.as_str() == Some(participant))
        {
            items.push(Value::String(participant.to_string()));
            self.set_data(step, path, Value::Array(items));
        }
        // The consultation's reminders reach the partner where they are about its deadline
        // (invited on the day the consultation opened); otherwise it gets its own.
        let covered = self.instance.timers.iter().any(|t| {
            t.token == token
                && matches!(
                    t.purpose,
                    TimerPurpose::ConsultationReminder {
                        invitation: None,
                        ..
                    }
                )
                && t.deadline.as_ref().is_some_and(|d| d.end == end)
        });
        if !covered {
            self.remind_before_own_deadline(&invitation, end)?;
        }
        self.close_after_latest_deadline(token, step)
    }

    /// Withdraws the open invitation `invitation` of a running consultation (a body invited by
    /// mistake): it no longer counts, its own reminders are cancelled, it leaves the data the
    /// participants come from, and the consultation closes after the latest deadline of the
    /// invitations that still count. Where no open invitation remains and the step completes
    /// once all have answered, it completes now. Refused once the partner answered (its
    /// Stellungnahme stays in the file) or the consultation closed.
    fn withdraw_participant(
        &mut self,
        invitation: LocalId,
        actor: &Actor,
        reason: String,
    ) -> Result<(), EngineError> {
        let (index, current, open_step) = self.invitation(invitation)?;
        if !open_step || current.status != InvitationStatus::Open {
            return Err(EngineError::InvitationClosed(invitation));
        }
        let consultation = self.consultation(&current.step)?.clone();
        self.require_coordinator(&consultation, actor, "Eine Beteiligung zurückzunehmen")?;
        self.instance.invitations[index].status = InvitationStatus::Withdrawn;
        self.record(JournalEntry::ParticipantWithdrawn {
            step: current.step.clone(),
            invitation,
            participant: current.participant.clone(),
            actor: actor.id.clone(),
            reason,
        });
        self.effects.push(SideEffect::WithdrawInvitation {
            invitation,
            case_ended: None,
        });
        self.cancel_own_reminders(invitation);
        // The data names the partners of the Beteiligung; the withdrawn one no longer (where it
        // is a list: a single key is the consultation's only partner and stays on record).
        let path = consultation.participants.as_field_path();
        if let Some(Value::Array(items)) = lookup(&self.instance.data, path) {
            let kept: Vec<Value> = items
                .iter()
                .filter(|item| item.as_str() != Some(current.participant.as_str()))
                .cloned()
                .collect();
            if kept.len() != items.len() {
                self.set_data(&current.step, path, Value::Array(kept));
            }
        }
        let counting: Vec<&InvitationState> = self
            .instance
            .invitations
            .iter()
            .filter(|i| i.token == current.token && i.status != InvitationStatus::Withdrawn)
            .collect();
        let none_open = !counting.iter().any(|i| i.status == InvitationStatus::Open);
        if counting.is_empty()
            || (none_open && consultation.complete == super::definition::Completion::AllAnswered)
        {
            let (reason, via) = if counting.is_empty() {
                (CompletionReason::NoParticipants, "no_participants")
            } else {
                (CompletionReason::AllAnswered, "all_answered")
            };
            self.record(JournalEntry::ConsultationCompleted {
                step: current.step.clone(),
                reason,
                unanswered: Vec::new(),
            });
            return self.move_on(current.token, via, consultation.next.clone());
        }
        self.close_after_latest_deadline(current.token, &current.step)
    }

    /// Refuses `actor` unless it has the role coordinating `consultation` (the office's
    /// decisions about a Beteiligung: further partners, longer deadlines); `what` names the
    /// decision in the message.
    fn require_coordinator(
        &self,
        consultation: &ConsultationStep,
        actor: &Actor,
        what: &str,
    ) -> Result<(), EngineError> {
        if actor.has_role(&consultation.role) {
            return Ok(());
        }
        let title = self.workflow.definition().role_title(&consultation.role);
        Err(EngineError::Refused {
            reasons: vec![Refusal::RoleNotAllowed {
                role: consultation.role.clone(),
                message: format!(
                    "{what} in der Beteiligung „{}“ ist der Rolle „{title}“ vorbehalten.",
                    consultation.title
                ),
            }],
        })
    }

    /// The consultation's reminders before `until`, the invitation's own deadline (extended, or
    /// that of a partner invited later), for the invitation alone (replacing those of an
    /// earlier extension); the consultation's own reminders do not reach it, as they are about
    /// another day.
    fn remind_before_own_deadline(
        &mut self,
        current: &InvitationState,
        until: NaiveDate,
    ) -> Result<(), EngineError> {
        self.cancel_own_reminders(current.id);
        let befores: Vec<_> = self
            .consultation(&current.step)?
            .remind
            .iter()
            .map(|reminder| reminder.before)
            .collect();
        for (index, before) in befores.into_iter().enumerate() {
            if let Some(due) = subtract_period(until, before)
                && due > self.clock.today
            {
                self.schedule(
                    current.token,
                    &current.step,
                    TimerPurpose::ConsultationReminder {
                        index,
                        invitation: Some(current.id),
                    },
                    due,
                    TimerKind::Reminder,
                    Some(TimerDeadline {
                        end: until,
                        reason: None,
                    }),
                );
            }
        }
        Ok(())
    }

    /// Cancels the reminders scheduled for `invitation` alone (after an extension, for a partner
    /// invited later); the consultation's own reminders stay.
    fn cancel_own_reminders(&mut self, invitation: LocalId) {
        let own = |purpose: &TimerPurpose| matches!(purpose, TimerPurpose::ConsultationReminder { invitation: Some(id), .. } if *id == invitation);
        let effects = &mut self.effects;
        self.instance.timers.retain(|timer| {
            let keep = !own(&timer.purpose);
            if !keep {
                effects.push(SideEffect::CancelTimer { timer: timer.id });
            }
            keep
        });
    }

    /// Refuses an extension of `current` to `until` that is none (not later), lies in the past
    /// or more than a year ahead, or ends on a day that is no working day: the office names the
    /// day, so § 193 BGB does not move it (§ 31 (3) sentence 2 VwVfG NRW).
    fn check_extension(
        &self,
        current: &InvitationState,
        until: NaiveDate,
    ) -> Result<(), EngineError> {
        let calendar = HolidayCalendar::for_land(LAND).map_err(|e| EngineError::Deadline {
            step: current.step.clone(),
            message: e.to_string(),
        })?;
        match crate::frist::refuse_named_end(calendar, current.deadline, until, self.clock.today) {
            Ok(None) => Ok(()),
            Ok(Some(why)) => Err(EngineError::DeadlineExtension(why)),
            Err(error) => Err(EngineError::Deadline {
                step: current.step.clone(),
                message: error.to_string(),
            }),
        }
    }

    /// Moves the consultation's deadline timer of `token` to the day after the latest deadline
    /// of its invitations that count (not withdrawn): later after an extension or a further
    /// partner, earlier when the partner with the latest deadline was withdrawn.
    fn close_after_latest_deadline(
        &mut self,
        token: LocalId,
        step: &str,
    ) -> Result<(), EngineError> {
        let Some(latest) = self
            .instance
            .invitations
            .iter()
            .filter(|i| i.token == token && i.status != InvitationStatus::Withdrawn)
            .map(|i| i.deadline)
            .max()
        else {
            return Ok(());
        };
        let due = day_after(step, latest)?;
        let moved = self.instance.timers.iter().position(|t| {
            t.token == token && t.purpose == TimerPurpose::ConsultationDeadline && t.due != due
        });
        if let Some(position) = moved {
            let old = self.instance.timers.remove(position);
            self.effects.push(SideEffect::CancelTimer { timer: old.id });
            self.schedule(
                token,
                step,
                TimerPurpose::ConsultationDeadline,
                due,
                TimerKind::Flow,
                Some(TimerDeadline {
                    end: latest,
                    reason: None,
                }),
            );
        }
        Ok(())
    }

    /// Removes a token: cancels its timers and closes its invitations.
    fn leave(&mut self, token: LocalId, via: &str) {
        let Some(index) = self.instance.tokens.iter().position(|t| t.id == token) else {
            return;
        };
        let left = self.instance.tokens.remove(index);
        let effects = &mut self.effects;
        self.instance.timers.retain(|timer| {
            let keep = timer.token != token;
            if !keep {
                effects.push(SideEffect::CancelTimer { timer: timer.id });
            }
            keep
        });
        let mut closed = Vec::new();
        for invitation in self
            .instance
            .invitations
            .iter_mut()
            .filter(|i| i.token == token)
        {
            if invitation.status == InvitationStatus::Open {
                invitation.status = InvitationStatus::Expired;
            }
            closed.push(invitation.id);
        }
        for invitation in closed {
            self.effects
                .push(SideEffect::CloseInvitation { invitation });
        }
        if !left.at_join {
            self.record(JournalEntry::StepLeft {
                step: left.step,
                token: left.id,
                via: via.to_string(),
            });
        }
    }

    /// Leaves the token's step and continues at `next` with the same fork frames.
    fn move_on(&mut self, token: LocalId, via: &str, next: String) -> Result<(), EngineError> {
        let forks = self
            .instance
            .token(token)
            .map(|t| t.forks.clone())
            .ok_or(EngineError::UnknownToken(token))?;
        self.leave(token, via);
        self.queue.push_back((next, forks));
        Ok(())
    }

    fn process_queue(&mut self) -> Result<(), EngineError> {
        let mut transitions = 0;
        while let Some((step_name, forks)) = self.queue.pop_front() {
            transitions += 1;
            if transitions > MAX_TRANSITIONS {
                return Err(EngineError::Livelock(step_name));
            }
            self.enter(step_name, forks)?;
        }
        Ok(())
    }

    fn new_token(&mut self, step: &str, forks: Vec<ForkFrame>, at_join: bool) -> LocalId {
        let id = self.instance.allocate_id();
        self.instance.tokens.push(Token {
            id,
            step: step.to_string(),
            since: self.clock.now,
            entered_on: self.clock.today,
            forks,
            at_join,
        });
        id
    }

    fn enter(&mut self, name: String, forks: Vec<ForkFrame>) -> Result<(), EngineError> {
        let workflow = self.workflow;
        let step = workflow
            .step(&name)
            .ok_or_else(|| EngineError::Inconsistent(format!("unknown step {name}")))?;
        match step {
            Step::Task(task) => {
                let token = self.new_token(&name, forks, false);
                self.record(JournalEntry::StepEntered {
                    step: name.clone(),
                    token,
                });
                self.run_effects(&task.on_enter, &name, token, None)?;
                self.schedule_boundary_timers(&name, token, &task.timers)?;
            }
            Step::Consultation(consultation) => {
                let token = self.new_token(&name, forks, false);
                self.record(JournalEntry::StepEntered {
                    step: name.clone(),
                    token,
                });
                self.run_effects(&consultation.on_enter, &name, token, None)?;
                self.open_consultation(&name, token, consultation)?;
                self.schedule_boundary_timers(&name, token, &consultation.timers)?;
            }
            Step::Wait(wait) => {
                let token = self.new_token(&name, forks, false);
                self.record(JournalEntry::StepEntered {
                    step: name.clone(),
                    token,
                });
                self.run_effects(&wait.on_enter, &name, token, None)?;
                let due = match &wait.until {
                    WaitFor::Date(path) => Some(self.required_date(&name, path.as_field_path())?),
                    WaitFor::Period(deadline) => {
                        Some(day_after(&name, self.deadline_end(&name, deadline)?)?)
                    }
                    WaitFor::Message(_) => None,
                };
                if let Some(due) = due {
                    self.schedule(
                        token,
                        &name,
                        TimerPurpose::WaitOver,
                        due,
                        TimerKind::Flow,
                        None,
                    );
                }
                self.schedule_boundary_timers(&name, token, &wait.timers)?;
            }
            Step::Decision(decision) => {
                let input = ExprInput {
                    data: &self.instance.data,
                    applicant_key: &self.instance.applicant.key,
                    applicant_kind: &self.instance.applicant.kind,
                    today: self.clock.today,
                };
                let mut chosen = None;
                for condition in &decision.conditions {
                    let compiled = workflow.compiled(&condition.when).ok_or_else(|| {
                        EngineError::Inconsistent(format!("uncompiled {}", condition.when.0))
                    })?;
                    let holds =
                        compiled
                            .eval_bool(&input)
                            .map_err(|error| EngineError::Expression {
                                step: name.clone(),
                                expr: condition.when.0.clone(),
                                error,
                            })?;
                    if holds {
                        chosen = Some((condition.to.clone(), condition.when.0.clone()));
                        break;
                    }
                }
                let (to, because) =
                    chosen.unwrap_or_else(|| (decision.otherwise.clone(), "otherwise".to_string()));
                self.record(JournalEntry::DecisionTaken {
                    step: name.clone(),
                    to: to.clone(),
                    because,
                });
                self.queue.push_back((to, forks));
            }
            Step::Parallel(parallel) => {
                let fork = self.instance.allocate_id();
                self.record(JournalEntry::ParallelStarted {
                    step: name.clone(),
                    fork,
                    branches: parallel.branches.clone(),
                });
                for (branch, first) in parallel.branches.iter().enumerate() {
                    let mut frames = forks.clone();
                    frames.push(ForkFrame {
                        fork,
                        parallel: name.clone(),
                        branch,
                    });
                    self.queue.push_back((first.clone(), frames));
                }
            }
            Step::Join(join) => {
                let frame = forks.last().cloned().ok_or_else(|| {
                    EngineError::Inconsistent(format!(
                        "token reached join {name} outside a parallel"
                    ))
                })?;
                let branches = match workflow.step(&frame.parallel) {
                    Some(Step::Parallel(p)) if p.join == name => p.branches.len(),
                    _ => {
                        return Err(EngineError::Inconsistent(format!(
                            "join {name} does not belong to parallel {}",
                            frame.parallel
                        )));
                    }
                };
                self.new_token(&name, forks.clone(), true);
                let arrived: Vec<LocalId> = self
                    .instance
                    .tokens
                    .iter()
                    .filter(|t| {
                        t.at_join
                            && t.step == name
                            && t.forks.last().map(|f| f.fork) == Some(frame.fork)
                    })
                    .map(|t| t.id)
                    .collect();
                if arrived.len() == branches {
                    for token in arrived {
                        self.leave(token, "joined");
                    }
                    self.record(JournalEntry::JoinCompleted {
                        step: name.clone(),
                        fork: frame.fork,
                    });
                    let mut outer = forks;
                    outer.pop();
                    self.queue.push_back((join.next.clone(), outer));
                }
            }
            Step::End(end) => {
                let token = self.new_token(&name, forks, false);
                self.record(JournalEntry::StepEntered {
                    step: name.clone(),
                    token,
                });
                self.run_effects(&end.on_enter, &name, token, None)?;
                self.leave(token, "end");
                self.last_outcome = Some(end.outcome.clone());
            }
        }
        Ok(())
    }

    fn open_consultation(
        &mut self,
        name: &str,
        token: LocalId,
        consultation: &ConsultationStep,
    ) -> Result<(), EngineError> {
        let participants = participants(
            &self.instance.data,
            consultation.participants.as_field_path(),
        );
        let start = match &consultation.deadline.from {
            Some(path) => self.required_date(name, path.as_field_path())?,
            None => self.clock.today,
        };
        let computed = legal_deadline(name, start, &consultation.deadline)?;
        let end = computed.end;
        let deadline_reason = shift_reason(&computed);
        let about = TimerDeadline {
            end,
            reason: deadline_reason.clone(),
        };
        if participants.is_empty() {
            self.record(JournalEntry::ConsultationCompleted {
                step: name.to_string(),
                reason: CompletionReason::NoParticipants,
                unanswered: Vec::new(),
            });
            let next = consultation.next.clone();
            return self.move_on(token, "no_participants", next);
        }
        for participant in participants {
            let id = self.instance.allocate_id();
            self.instance.invitations.push(InvitationState {
                id,
                step: name.to_string(),
                token,
                participant: participant.clone(),
                deadline: end,
                status: InvitationStatus::Open,
            });
            self.effects.push(SideEffect::Invite {
                invitation: id,
                step: name.to_string(),
                participant,
                deadline: end,
                deadline_reason: deadline_reason.clone(),
                template: consultation.invitation.clone(),
            });
        }
        self.record(JournalEntry::ConsultationOpened {
            step: name.to_string(),
            deadline: end,
        });
        self.schedule(
            token,
            name,
            TimerPurpose::ConsultationDeadline,
            day_after(name, end)?,
            TimerKind::Flow,
            Some(about.clone()),
        );
        for (index, reminder) in consultation.remind.iter().enumerate() {
            if let Some(due) = subtract_period(end, reminder.before)
                && due > self.clock.today
            {
                self.schedule(
                    token,
                    name,
                    TimerPurpose::ConsultationReminder {
                        index,
                        invitation: None,
                    },
                    due,
                    TimerKind::Reminder,
                    Some(about.clone()),
                );
            }
        }
        Ok(())
    }

    fn schedule(
        &mut self,
        token: LocalId,
        step: &str,
        purpose: TimerPurpose,
        due: NaiveDate,
        kind: TimerKind,
        deadline: Option<TimerDeadline>,
    ) {
        let id = self.instance.allocate_id();
        self.instance.timers.push(TimerState {
            id,
            token,
            step: step.to_string(),
            purpose,
            due,
            deadline: deadline.clone(),
        });
        self.effects.push(SideEffect::ScheduleTimer {
            timer: id,
            step: step.to_string(),
            due,
            kind,
            deadline,
        });
    }

    fn schedule_boundary_timers(
        &mut self,
        step: &str,
        token: LocalId,
        timers: &[super::definition::Timer],
    ) -> Result<(), EngineError> {
        for timer in timers {
            let (due, about) = match &timer.when {
                TimerWhen::After(deadline) => match self.optional_deadline(step, deadline)? {
                    Some(about) => (Some(day_after(step, about.end)?), Some(about)),
                    None => (None, None),
                },
                TimerWhen::Before { deadline, before } => match self
                    .optional_deadline(step, deadline)?
                {
                    Some(about) => (
                        subtract_period(about.end, *before).filter(|due| *due > self.clock.today),
                        Some(about),
                    ),
                    None => (None, None),
                },
                TimerWhen::At(path) => (date_at(&self.instance.data, path.as_field_path()), None),
                TimerWhen::Every(period) => (add_period(self.clock.today, *period), None),
            };
            match due {
                Some(due) => self.schedule(
                    token,
                    step,
                    TimerPurpose::Boundary {
                        name: timer.name.clone(),
                    },
                    due,
                    boundary_kind(timer),
                    about,
                ),
                None => self.record(JournalEntry::TimerNotScheduled {
                    step: step.to_string(),
                    timer: timer.name.clone(),
                }),
            }
        }
        Ok(())
    }

    fn fire(&mut self, timer: TimerState) -> Result<(), EngineError> {
        let token = self
            .instance
            .token(timer.token)
            .filter(|t| t.step == timer.step)
            .cloned()
            .ok_or_else(|| {
                EngineError::Inconsistent(format!("timer {} without token", timer.id))
            })?;
        self.record(JournalEntry::TimerFired {
            step: timer.step.clone(),
            timer: timer.id,
            purpose: timer.purpose.clone(),
            due: timer.due,
        });
        let workflow = self.workflow;
        let step = workflow
            .step(&timer.step)
            .ok_or_else(|| EngineError::Inconsistent(format!("unknown step {}", timer.step)))?;
        match &timer.purpose {
            TimerPurpose::Boundary { name } => {
                let definition = step
                    .timers()
                    .iter()
                    .find(|t| &t.name == name)
                    .ok_or_else(|| EngineError::Inconsistent(format!("unknown timer {name}")))?;
                self.run_effects(
                    &definition.effects,
                    &timer.step,
                    token.id,
                    timer.deadline.as_ref(),
                )?;
                if let Some(to) = &definition.to {
                    self.move_on(token.id, &format!("timer:{name}"), to.clone())?;
                } else if let TimerWhen::Every(period) = &definition.when
                    && let Some(due) = add_period(timer.due, *period)
                {
                    self.schedule(
                        token.id,
                        &timer.step,
                        timer.purpose.clone(),
                        due,
                        boundary_kind(definition),
                        None,
                    );
                }
            }
            TimerPurpose::ConsultationDeadline => {
                let consultation = self.consultation(&timer.step)?;
                let next = consultation.next.clone();
                let unanswered: Vec<String> = self
                    .instance
                    .invitations
                    .iter()
                    .filter(|i| i.token == token.id && i.status == InvitationStatus::Open)
                    .map(|i| i.participant.clone())
                    .collect();
                self.record(JournalEntry::ConsultationCompleted {
                    step: timer.step.clone(),
                    reason: CompletionReason::Deadline,
                    unanswered,
                });
                self.move_on(token.id, "deadline", next)?;
            }
            TimerPurpose::ConsultationReminder { index, invitation } => {
                let consultation = self.consultation(&timer.step)?;
                let reminder = consultation.remind.get(*index).ok_or_else(|| {
                    EngineError::Inconsistent(format!("no reminder {index} at {}", timer.step))
                })?;
                let template = reminder.template.clone();
                // Who is still open with the deadline the reminder is about: one partner after
                // its extension, else everyone whose deadline was not extended.
                let about = timer.deadline.as_ref().map(|d| d.end);
                let invitations: Vec<(LocalId, String)> = self
                    .instance
                    .invitations
                    .iter()
                    .filter(|i| i.token == token.id && i.status == InvitationStatus::Open)
                    .filter(|i| invitation.is_none_or(|only| i.id == only))
                    .filter(|i| about.is_none_or(|end| i.deadline == end))
                    .map(|i| (i.id, i.participant.clone()))
                    .collect();
                if !invitations.is_empty() {
                    self.effects.push(SideEffect::SendMail {
                        template,
                        step: timer.step.clone(),
                        to: MailTarget::Organisations { invitations },
                        reminder: true,
                        deadline: timer.deadline.clone(),
                    });
                }
            }
            TimerPurpose::WaitOver => {
                let Step::Wait(wait) = step else {
                    return Err(EngineError::Inconsistent(format!(
                        "{} is not a wait step",
                        timer.step
                    )));
                };
                self.move_on(token.id, "wait_over", wait.next.clone())?;
            }
        }
        Ok(())
    }

    fn invitations_of(&self, token: LocalId, only_open: bool) -> Vec<(LocalId, String)> {
        self.instance
            .invitations
            .iter()
            .filter(|i| i.token == token && (!only_open || i.status == InvitationStatus::Open))
            .map(|i| (i.id, i.participant.clone()))
            .collect()
    }

    fn run_effects(
        &mut self,
        effects: &[Effect],
        step: &str,
        token: LocalId,
        deadline: Option<&TimerDeadline>,
    ) -> Result<(), EngineError> {
        for effect in effects {
            match effect {
                Effect::Mail(mail) | Effect::Escalate(mail) => {
                    if matches!(effect, Effect::Escalate(_)) {
                        self.record(JournalEntry::Escalated {
                            step: step.to_string(),
                            template: mail.template.clone(),
                            to: mail.to.clone(),
                        });
                    }
                    let to = match &mail.to {
                        Recipient::Role(role) => MailTarget::Role { role: role.clone() },
                        Recipient::Applicant => MailTarget::Applicant,
                        Recipient::Leitung => MailTarget::Leitung,
                        Recipient::Participants => MailTarget::Organisations {
                            invitations: self.invitations_of(token, false),
                        },
                        Recipient::Unanswered => MailTarget::Organisations {
                            invitations: self.invitations_of(token, true),
                        },
                    };
                    let empty = matches!(&to, MailTarget::Organisations { invitations } if invitations.is_empty());
                    if !empty {
                        self.effects.push(SideEffect::SendMail {
                            template: mail.template.clone(),
                            step: step.to_string(),
                            to,
                            reminder: false,
                            deadline: deadline.cloned(),
                        });
                    }
                }
                Effect::Set(values) => {
                    for (path, value) in values {
                        self.set_data(step, path, value.clone());
                    }
                }
                Effect::StartCase(start) => {
                    let again = self
                        .instance
                        .started
                        .iter()
                        .any(|s| s.step == step && s.workflow == start.workflow);
                    if again {
                        self.record(JournalEntry::CaseStartOmitted {
                            step: step.to_string(),
                            workflow: start.workflow.clone(),
                        });
                        continue;
                    }
                    self.instance.started.push(StartedCase {
                        step: step.to_string(),
                        workflow: start.workflow.clone(),
                    });
                    let mut data = Value::Object(Default::default());
                    for (target, source) in &start.data {
                        if let Some(value) = lookup(&self.instance.data, source.as_field_path()) {
                            set_path(&mut data, target, value.clone());
                        }
                    }
                    self.record(JournalEntry::CaseStartRequested {
                        step: step.to_string(),
                        workflow: start.workflow.clone(),
                    });
                    self.effects.push(SideEffect::StartCase {
                        step: step.to_string(),
                        workflow: start.workflow.clone(),
                        data,
                    });
                }
            }
        }
        Ok(())
    }

    fn required_date(&self, step: &str, path: &str) -> Result<NaiveDate, EngineError> {
        date_at(&self.instance.data, path).ok_or_else(|| EngineError::Refused {
            reasons: vec![Refusal::MissingData {
                paths: vec![path.to_string()],
                message: format!(
                    "Für den Schritt „{}“ fehlt das Datum „{path}“.",
                    self.workflow.step(step).map_or(step, Step::title)
                ),
            }],
        })
    }

    /// The last day of a legal period; its start is the field `from` or the day of entry.
    fn deadline_end(&self, step: &str, deadline: &Deadline) -> Result<NaiveDate, EngineError> {
        let start = match &deadline.from {
            Some(path) => self.required_date(step, path.as_field_path())?,
            None => self.clock.today,
        };
        legal_end(step, start, deadline)
    }

    /// Like [`Self::deadline_end`] with the reason of a shift; a missing `from` date means
    /// "no timer", not an error.
    fn optional_deadline(
        &self,
        step: &str,
        deadline: &Deadline,
    ) -> Result<Option<TimerDeadline>, EngineError> {
        let start = match &deadline.from {
            Some(path) => match date_at(&self.instance.data, path.as_field_path()) {
                Some(date) => date,
                None => return Ok(None),
            },
            None => self.clock.today,
        };
        let computed = legal_deadline(step, start, deadline)?;
        Ok(Some(TimerDeadline {
            end: computed.end,
            reason: shift_reason(&computed),
        }))
    }
}

/// The paths (as segments) a merge patch sets or removes: its leaves, an object counting
/// through its members (an empty object is a leaf of its own).
fn touched_paths<'a>(
    object: &'a serde_json::Map<String, Value>,
    prefix: &mut Vec<&'a str>,
    out: &mut Vec<Vec<&'a str>>,
) {
    for (key, value) in object {
        prefix.push(key);
        match value {
            Value::Object(members) if !members.is_empty() => touched_paths(members, prefix, out),
            _ => out.push(prefix.clone()),
        }
        prefix.pop();
    }
}

fn legal_end(step: &str, start: NaiveDate, deadline: &Deadline) -> Result<NaiveDate, EngineError> {
    legal_deadline(step, start, deadline).map(|d| d.end)
}

/// The deadline with its explanation (which non-working days moved the end).
fn legal_deadline(
    step: &str,
    start: NaiveDate,
    deadline: &Deadline,
) -> Result<crate::frist::Deadline, EngineError> {
    let error = |message: String| EngineError::Deadline {
        step: step.to_string(),
        message,
    };
    let calendar = HolidayCalendar::for_land(LAND).map_err(|e| error(e.to_string()))?;
    let kind = match deadline.art {
        PeriodKind::Ereignis => StartKind::Event,
        PeriodKind::Beginn => StartKind::StartOfDay,
    };
    compute_deadline(
        start,
        deadline.period,
        kind,
        calendar,
        EndShift::NextWorkingDay,
    )
    .map_err(|e| error(e.to_string()))
}

/// Why the end is not the day §§ 187–189 BGB alone give, in German; `None` when it is.
fn shift_reason(deadline: &crate::frist::Deadline) -> Option<String> {
    if deadline.skipped.is_empty() {
        return None;
    }
    let days: Vec<String> = deadline
        .skipped
        .iter()
        .map(|day| format!("der {} ({})", day.date.format("%d.%m.%Y"), day.reason))
        .collect();
    // „der 12.10. (Sonntag) kein Werktag ist“, „der 26.12. (…) und der 27.12. (…) keine
    // Werktage sind“.
    let (listed, verb) = match days.split_last() {
        Some((last, [])) => (last.clone(), "kein Werktag ist"),
        Some((last, rest)) => (
            format!("{} und {last}", rest.join(", ")),
            "keine Werktage sind",
        ),
        None => return None,
    };
    Some(format!(
        "Die Frist endet rechnerisch am {}; weil {listed} {verb}, verschiebt sich das Fristende \
         nach § 193 BGB auf den nächsten Werktag.",
        deadline.unshifted_end.format("%d.%m.%Y"),
    ))
}

/// A boundary timer that only sends mail is a reminder; one that moves the token or changes
/// data belongs to the flow.
fn boundary_kind(timer: &super::definition::Timer) -> TimerKind {
    let mail_only = !timer.effects.is_empty()
        && timer
            .effects
            .iter()
            .all(|effect| matches!(effect, Effect::Mail(_) | Effect::Escalate(_)));
    if timer.to.is_none() && mail_only {
        TimerKind::Reminder
    } else {
        TimerKind::Flow
    }
}

fn day_after(step: &str, date: NaiveDate) -> Result<NaiveDate, EngineError> {
    date.checked_add_days(Days::new(1))
        .ok_or_else(|| EngineError::Deadline {
            step: step.to_string(),
            message: format!("{date} liegt außerhalb des Kalenders"),
        })
}

fn date_at(data: &Value, path: &str) -> Option<NaiveDate> {
    lookup(data, path)
        .and_then(Value::as_str)
        .and_then(|text| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
}

fn participants(data: &Value, path: &str) -> Vec<String> {
    let mut keys: Vec<String> = match lookup(data, path) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        Some(Value::String(key)) if !key.trim().is_empty() => vec![key.trim().to_string()],
        _ => Vec::new(),
    };
    let mut seen = std::collections::HashSet::new();
    keys.retain(|k| seen.insert(k.clone()));
    keys
}

fn period_parts(period: crate::frist::Period) -> (u32, u64) {
    (
        period.years() * 12 + period.months(),
        u64::from(period.weeks()) * 7 + u64::from(period.days()),
    )
}

/// `date` plus the period, counted like a calendar (`every` timers).
fn add_period(date: NaiveDate, period: crate::frist::Period) -> Option<NaiveDate> {
    let (months, days) = period_parts(period);
    date.checked_add_months(Months::new(months))?
        .checked_add_days(Days::new(days))
}

/// `date` minus the period (reminders `before` a deadline).
pub(super) fn subtract_period(date: NaiveDate, period: crate::frist::Period) -> Option<NaiveDate> {
    let (months, days) = period_parts(period);
    date.checked_sub_months(Months::new(months))?
        .checked_sub_days(Days::new(days))
}

#[cfg(test)]
mod shift_reason_tests {
    use chrono::NaiveDate;

    use super::shift_reason;
    use crate::frist::{EndShift, HolidayCalendar, StartKind, compute_deadline};

    fn reason(start: (i32, u32, u32), period: &str) -> Option<String> {
        let start = NaiveDate::from_ymd_opt(start.0, start.1, start.2).unwrap();
        let calendar = HolidayCalendar::for_land("NW").unwrap();
        let deadline = compute_deadline(
            start,
            period.parse().unwrap(),
            StartKind::Event,
            calendar,
            EndShift::NextWorkingDay,
        )
        .unwrap();
        shift_reason(&deadline)
    }

    #[test]
    fn the_shift_is_explained_in_a_german_sentence_for_one_day_and_for_several() {
        // Ends on Sunday, 12.10.2025.
        assert_eq!(
            reason((2025, 9, 28), "P2W").as_deref(),
            Some(
                "Die Frist endet rechnerisch am 12.10.2025; weil der 12.10.2025 (Sonntag) kein \
                 Werktag ist, verschiebt sich das Fristende nach § 193 BGB auf den nächsten Werktag."
            )
        );
        // Ends on Saturday, 26.12.2026 (2. Weihnachtstag); Sunday follows.
        let several = reason((2026, 12, 12), "P2W").unwrap();
        assert!(
            several.contains(
                "weil der 26.12.2026 (2. Weihnachtstag) und der 27.12.2026 (Sonntag) keine \
                 Werktage sind, verschiebt"
            ),
            "{several}"
        );
        // Ends on a working day: nothing to explain.
        assert_eq!(reason((2025, 9, 29), "P2W"), None);
    }
}
