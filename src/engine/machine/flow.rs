//! Tokens in the state machine: entering a step (and passing through decisions, parallels,
//! joins and ends within the same event), moving on, and leaving.

use crate::engine::definition::{Step, WaitFor};
use crate::engine::error::EngineError;
use crate::engine::expr::ExprInput;
use crate::engine::instance::{ForkFrame, InvitationStatus, LocalId, TimerPurpose, Token};
use crate::engine::outcome::{JournalEntry, SideEffect, TimerKind};

use super::Run;
use super::timers::day_after;

/// Transitions one event may cause before the engine assumes a loop without a waiting step.
const MAX_TRANSITIONS: usize = 10_000;

impl Run<'_> {
    /// Removes a token: cancels its timers and closes its invitations.
    pub(super) fn leave(&mut self, token: LocalId, via: &str) {
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
    pub(super) fn move_on(
        &mut self,
        token: LocalId,
        via: &str,
        next: String,
    ) -> Result<(), EngineError> {
        let forks = self
            .instance
            .token(token)
            .map(|t| t.forks.clone())
            .ok_or(EngineError::UnknownToken(token))?;
        self.leave(token, via);
        self.queue.push_back((next, forks));
        Ok(())
    }

    pub(super) fn process_queue(&mut self) -> Result<(), EngineError> {
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
}
