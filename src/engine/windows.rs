//! Time windows: periods, maintained by the administration, outside which an action is refused
//! (the KfI accepts applications only in its yearly Antragszeitraum).
//!
//! The dates are not the workflow's: they change every year and are published by the authority,
//! so an administrator enters them and the caller passes them in with the [`super::Clock`]. A
//! window nobody has entered yet is not checked at all, with a warning, rather than blocking
//! every case of an installation that has not maintained it.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::frist::Period;

/// One period of a window, as entered: „Förderjahr 2027“ from 17.04.2026 to 31.10.2026.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowSpan {
    /// German label of the period („Förderjahr 2027“).
    pub label: String,
    /// First day on which the window is open.
    pub opens_on: NaiveDate,
    /// Last day on which the window is open.
    pub closes_on: NaiveDate,
}

/// The periods of the windows a case's actions name, by window name, as far as they are
/// entered; a name without entry is a window nobody has maintained.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeWindows(BTreeMap<String, Vec<WindowSpan>>);

/// Where `today` lies relative to a window's periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowState<'a> {
    /// No period is entered: the window is not checked.
    Unmaintained,
    /// A period is open today.
    Open(&'a WindowSpan),
    /// No period is open today: the next one to open and the last one that closed, if any.
    Closed {
        next: Option<&'a WindowSpan>,
        last: Option<&'a WindowSpan>,
    },
}

impl TimeWindows {
    /// Records the periods entered for `name` (in any order); an empty list marks the window as
    /// looked up and unmaintained.
    pub fn insert(&mut self, name: impl Into<String>, mut spans: Vec<WindowSpan>) {
        spans.sort_by_key(|span| span.opens_on);
        self.0.insert(name.into(), spans);
    }

    /// Where `today` lies for window `name`.
    pub fn state(&self, name: &str, today: NaiveDate) -> WindowState<'_> {
        let spans = self.0.get(name).map(Vec::as_slice).unwrap_or_default();
        if spans.is_empty() {
            return WindowState::Unmaintained;
        }
        if let Some(open) = spans
            .iter()
            .find(|span| span.opens_on <= today && today <= span.closes_on)
        {
            return WindowState::Open(open);
        }
        WindowState::Closed {
            next: spans.iter().find(|span| span.opens_on > today),
            last: spans.iter().rev().find(|span| span.closes_on < today),
        }
    }
}

/// The German reason an action bound to window `title` is refused, or `None` when it may be
/// taken; an open window gives a note instead ([`open_until`]), an unmaintained one a warning
/// ([`unmaintained_warning`]).
pub fn refusal_message(title: &str, state: WindowState<'_>) -> Option<String> {
    let WindowState::Closed { next, last } = state else {
        return None;
    };
    Some(match (next, last) {
        (Some(next), _) => format!(
            "Außerhalb des Zeitraums „{title}“: Der nächste Zeitraum ({}) beginnt am {}.",
            next.label,
            german_date(next.opens_on)
        ),
        (None, Some(last)) => format!(
            "Außerhalb des Zeitraums „{title}“: Der letzte eingetragene Zeitraum ({}) endete am \
             {}; ein weiterer ist noch nicht eingetragen.",
            last.label,
            german_date(last.closes_on)
        ),
        (None, None) => format!("Außerhalb des Zeitraums „{title}“."),
    })
}

/// The day from which the reminder `before` the last day `closes_on` of a period is due; `None`
/// when that lies before the calendar's start.
pub fn reminder_due(closes_on: NaiveDate, before: Period) -> Option<NaiveDate> {
    super::machine::subtract_period(closes_on, before)
}

/// The note shown with an action while its window runs: until when it can be taken.
pub fn open_until(title: &str, span: &WindowSpan) -> String {
    format!(
        "Möglich bis {} (Zeitraum „{title}“, {}).",
        german_date(span.closes_on),
        span.label
    )
}

/// The warning shown with an action whose window nobody has entered.
pub fn unmaintained_warning(title: &str) -> String {
    format!(
        "Für „{title}“ ist kein Zeitraum eingetragen; ob er läuft, wird daher nicht geprüft. Die \
         Administration trägt die Zeiträume ein."
    )
}

/// `31.10.2026`.
fn german_date(date: NaiveDate) -> String {
    date.format("%d.%m.%Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn span(label: &str, opens: &str, closes: &str) -> WindowSpan {
        WindowSpan {
            label: label.into(),
            opens_on: day(opens),
            closes_on: day(closes),
        }
    }

    fn kfi() -> TimeWindows {
        let mut windows = TimeWindows::default();
        windows.insert(
            "kfi",
            vec![
                span("Förderjahr 2027", "2026-04-17", "2026-10-31"),
                span("Förderjahr 2026", "2025-04-17", "2025-10-31"),
            ],
        );
        windows
    }

    #[test]
    fn open_on_the_first_and_the_last_day_and_closed_around_them() {
        let windows = kfi();
        for open in ["2026-04-17", "2026-07-01", "2026-10-31"] {
            assert_eq!(
                windows.state("kfi", day(open)),
                WindowState::Open(&span("Förderjahr 2027", "2026-04-17", "2026-10-31")),
                "{open}"
            );
        }
        let between = windows.state("kfi", day("2026-04-16"));
        assert_eq!(
            refusal_message("Antragszeitraum", between).as_deref(),
            Some(
                "Außerhalb des Zeitraums „Antragszeitraum“: Der nächste Zeitraum (Förderjahr \
                 2027) beginnt am 17.04.2026."
            )
        );
        let after = windows.state("kfi", day("2026-11-01"));
        assert_eq!(
            refusal_message("Antragszeitraum", after).as_deref(),
            Some(
                "Außerhalb des Zeitraums „Antragszeitraum“: Der letzte eingetragene Zeitraum \
                 (Förderjahr 2027) endete am 31.10.2026; ein weiterer ist noch nicht eingetragen."
            )
        );
    }

    #[test]
    fn the_reminder_is_due_the_period_before_the_last_day() {
        let four_weeks: Period = "P4W".parse().unwrap();
        assert_eq!(
            reminder_due(day("2026-10-31"), four_weeks),
            Some(day("2026-10-03"))
        );
        let a_month: Period = "P1M".parse().unwrap();
        assert_eq!(
            reminder_due(day("2026-03-31"), a_month),
            Some(day("2026-02-28"))
        );
    }

    #[test]
    fn a_window_without_periods_is_unmaintained_and_refuses_nothing() {
        let mut windows = kfi();
        windows.insert("leer", Vec::new());
        for name in ["leer", "nie_nachgeschlagen"] {
            let state = windows.state(name, day("2026-05-01"));
            assert_eq!(state, WindowState::Unmaintained);
            assert_eq!(refusal_message("x", state), None);
        }
    }
}
