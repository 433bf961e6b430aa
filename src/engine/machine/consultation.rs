//! Beteiligung in the state machine: opening a consultation with its invitations, answers,
//! deadline extensions, further and withdrawn participants, and closing it after the latest
//! deadline.

use chrono::NaiveDate;
use serde_json::Value;

use crate::engine::data::lookup;
use crate::engine::definition::{ConsultationStep, Step};
use crate::engine::error::{EngineError, Refusal};
use crate::engine::event::Actor;
use crate::engine::instance::{InvitationState, InvitationStatus, LocalId, TimerPurpose};
use crate::engine::outcome::{
    CompletionReason, JournalEntry, SideEffect, TimerDeadline, TimerKind,
};
use crate::frist::HolidayCalendar;

use super::timers::{day_after, legal_deadline, shift_reason, subtract_period};
use super::{LAND, Run};

impl Run<'_> {
    /// Withdraws every open invitation, telling its partner (with how the case ended, when it
    /// ends with them); their links end at once.
    pub(super) fn withdraw_open_invitations(&mut self, case_ended: Option<&str>) {
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

    pub(super) fn consultation(&self, step: &str) -> Result<&ConsultationStep, EngineError> {
        match self.workflow.step(step) {
            Some(Step::Consultation(c)) => Ok(c),
            _ => Err(EngineError::Inconsistent(format!(
                "{step} is not a consultation"
            ))),
        }
    }

    /// Records a partner's answer: the first one, an amendment while the consultation is open
    /// and the deadline not passed, or a late one where the workflow accepts it.
    pub(super) fn answer(
        &mut self,
        invitation: LocalId,
        answer: crate::engine::instance::Answer,
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
            answer: crate::engine::instance::Answer {
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
            && completion == crate::engine::definition::Completion::AllAnswered
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
    pub(super) fn extend_deadline(
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
    pub(super) fn add_participant(
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
    pub(super) fn withdraw_participant(
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
            || (none_open
                && consultation.complete == crate::engine::definition::Completion::AllAnswered)
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

    pub(super) fn open_consultation(
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

    pub(super) fn invitations_of(&self, token: LocalId, only_open: bool) -> Vec<(LocalId, String)> {
        self.instance
            .invitations
            .iter()
            .filter(|i| i.token == token && (!only_open || i.status == InvitationStatus::Open))
            .map(|i| (i.id, i.participant.clone()))
            .collect()
    }
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
