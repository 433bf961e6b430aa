//! Timers and Fristen in the state machine: scheduling a step's deadlines and boundary timers,
//! firing them, and counting legal periods (§§ 187–193 BGB) in the NRW holiday calendar.

use chrono::{Days, Months, NaiveDate};
use serde_json::Value;

use crate::engine::data::lookup;
use crate::engine::definition::{Deadline, Effect, PeriodKind, Step, TimerWhen};
use crate::engine::error::{EngineError, Refusal};
use crate::engine::instance::{InvitationStatus, LocalId, TimerPurpose, TimerState};
use crate::engine::outcome::{
    CompletionReason, JournalEntry, MailTarget, SideEffect, TimerDeadline, TimerKind,
};
use crate::frist::{EndShift, HolidayCalendar, StartKind, compute_deadline};

use super::{LAND, Run};

impl Run<'_> {
    pub(super) fn schedule(
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

    pub(super) fn schedule_boundary_timers(
        &mut self,
        step: &str,
        token: LocalId,
        timers: &[crate::engine::definition::Timer],
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

    pub(super) fn fire(&mut self, timer: TimerState) -> Result<(), EngineError> {
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

    pub(super) fn required_date(&self, step: &str, path: &str) -> Result<NaiveDate, EngineError> {
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
    pub(super) fn deadline_end(
        &self,
        step: &str,
        deadline: &Deadline,
    ) -> Result<NaiveDate, EngineError> {
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

fn legal_end(step: &str, start: NaiveDate, deadline: &Deadline) -> Result<NaiveDate, EngineError> {
    legal_deadline(step, start, deadline).map(|d| d.end)
}

/// The deadline with its explanation (which non-working days moved the end).
pub(super) fn legal_deadline(
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
pub(super) fn shift_reason(deadline: &crate::frist::Deadline) -> Option<String> {
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
fn boundary_kind(timer: &crate::engine::definition::Timer) -> TimerKind {
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

pub(super) fn day_after(step: &str, date: NaiveDate) -> Result<NaiveDate, EngineError> {
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
pub(in crate::engine) fn subtract_period(
    date: NaiveDate,
    period: crate::frist::Period,
) -> Option<NaiveDate> {
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
