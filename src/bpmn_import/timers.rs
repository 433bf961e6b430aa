//! BPMN timers as vorgang counts them: a duration, a cycle, a date field, a period from a date
//! field, or the export's `Fristende(…) - duration`; anything else is not counted (and noted).

use roxmltree::Node;

use super::names::is_snake;
use super::{Reader, TimerSpec, child, text};
use crate::engine::definition::{DataPath, Deadline, PeriodKind, TimerWhen, WaitFor};
use crate::frist::Period;

/// The period assumed where a file gives none that vorgang can count (noted).
pub(super) const ASSUMED_PERIOD: &str = "P4W";

impl Reader<'_, '_> {
    /// What a timer catch event waits for, counted as its documentation says (see
    /// [`counted_as_documented`]); a reminder or a cycle is nothing to wait for.
    pub(super) fn wait_until(&mut self, timer: &TimerSpec, doc: &str) -> Option<WaitFor> {
        let (kind, expression) = timer;
        match counted_as_documented(self.timer_when(kind, expression)?, doc) {
            TimerWhen::After(deadline) => Some(WaitFor::Period(deadline)),
            TimerWhen::At(field) => Some(WaitFor::Date(field)),
            TimerWhen::Before { .. } | TimerWhen::Every(_) => None,
        }
    }

    /// A BPMN timer as vorgang counts it, where it is one: a duration, `R/duration`, a date
    /// field, a period from a date field, or the export's `Fristende(…) - duration`.
    pub(super) fn timer_when(&mut self, kind: &str, expression: &str) -> Option<TimerWhen> {
        let expression = expression.trim();
        match kind {
            "timeDuration" => Some(TimerWhen::After(plain_deadline(expression.parse().ok()?))),
            "timeCycle" => {
                let period = expression.rsplit('/').next()?.parse().ok()?;
                Some(TimerWhen::Every(period))
            }
            "timeDate" => {
                if let Some(inner) = expression.strip_prefix("Fristende(") {
                    let (deadline, before) = inner.rsplit_once(") - ")?;
                    let deadline = match self.timer_when("timeDate", deadline)? {
                        TimerWhen::After(deadline) => deadline,
                        _ => return None,
                    };
                    return Some(TimerWhen::Before {
                        deadline,
                        before: before.trim().parse().ok()?,
                    });
                }
                if let Ok(period) = expression.parse::<Period>() {
                    return Some(TimerWhen::After(plain_deadline(period)));
                }
                let (field, period) = match expression.split_once(" + ") {
                    Some((field, period)) => (field.trim(), Some(period.trim().parse().ok()?)),
                    None => (expression, None),
                };
                let field = field.strip_prefix("data.")?;
                if field.is_empty() || !field.split('.').all(is_snake) {
                    return None;
                }
                self.fields
                    .push(field.split('.').next().unwrap_or(field).to_string());
                Some(match period {
                    None => TimerWhen::At(DataPath(field.to_string())),
                    Some(period) => TimerWhen::After(Deadline {
                        period,
                        art: PeriodKind::Ereignis,
                        from: Some(DataPath(field.to_string())),
                    }),
                })
            }
            _ => None,
        }
    }
}

/// A timer counted as a Beginnfrist where vorgang's export says so in its documentation (BPMN
/// has no words for § 187 (2) BGB).
pub(super) fn counted_as_documented(when: TimerWhen, doc: &str) -> TimerWhen {
    if !doc.contains("(Beginnfrist") {
        return when;
    }
    let beginn = |deadline: Deadline| Deadline {
        art: PeriodKind::Beginn,
        ..deadline
    };
    match when {
        TimerWhen::After(deadline) => TimerWhen::After(beginn(deadline)),
        TimerWhen::Before { deadline, before } => TimerWhen::Before {
            deadline: beginn(deadline),
            before,
        },
        other => other,
    }
}

/// The kind and expression of a `timerEventDefinition`, if it has one of the three.
pub(super) fn timer_spec(timer: Node) -> Option<TimerSpec> {
    ["timeDuration", "timeDate", "timeCycle"]
        .iter()
        .find_map(|kind| child(timer, kind).map(|n| (kind.to_string(), text(Some(n)))))
}

/// A period counted from entering the step, as an Ereignisfrist (the workflow language's
/// default).
pub(super) fn plain_deadline(period: Period) -> Deadline {
    Deadline {
        period,
        art: PeriodKind::Ereignis,
        from: None,
    }
}

/// [`ASSUMED_PERIOD`] as a period.
pub(super) fn assumed_period() -> Period {
    ASSUMED_PERIOD.parse().expect("a valid period")
}

/// [`ASSUMED_PERIOD`] from entering the step.
pub(super) fn assumed_deadline() -> Deadline {
    plain_deadline(assumed_period())
}
