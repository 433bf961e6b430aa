//! Fristverlängerung: the office extends one partner's deadline in a running Beteiligung, as
//! § 31 (7) VwVfG NRW allows for periods an authority set (usually because the partner asks:
//! its committee meets after the deadline). The engine moves the deadline and the
//! consultation's closing; the partner gets a mail with the new day and a link that lasts.

use chrono::NaiveDate;

use super::ServiceError;
use super::cases::{self, CaseContext, Invocation};
use crate::db::DbConnection;
use crate::db::models::CaseId;
use crate::engine::data::DataError;
use crate::engine::instance::LocalId;
use crate::engine::{EngineError, Event};

/// The longest reason kept with an extension.
const REASON_MAX: usize = 500;

/// An extension as the office asked for it: the new last day and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    pub until: NaiveDate,
    pub reason: Option<String>,
}

/// Checks the typed fields (`frist` as `JJJJ-MM-TT` or `TT.MM.JJJJ`, `grund` optional, one
/// line); every problem at once. Whether the day suits the invitation the engine decides.
pub fn check(frist: Option<&str>, grund: Option<&str>) -> Result<Extension, Vec<DataError>> {
    let mut errors = Vec::new();
    let typed = frist.map(str::trim).unwrap_or_default();
    let until = if typed.is_empty() {
        errors.push(error("/frist", "Bitte geben Sie das neue Fristende an."));
        None
    } else {
        let parsed = crate::frist::parse_day(typed);
        if parsed.is_none() {
            errors.push(error(
                "/frist",
                "Bitte geben Sie das neue Fristende als Datum an, zum Beispiel 15.01.2027.",
            ));
        }
        parsed
    };
    let reason = check_reason(grund, &mut errors);
    match (until, errors.is_empty()) {
        (Some(until), true) => Ok(Extension { until, reason }),
        _ => Err(errors),
    }
}

/// The optional reason for the file (`grund`): one line of at most 500 characters, blank is
/// none; a problem is added to `errors` at `/grund`.
pub(crate) fn check_reason(grund: Option<&str>, errors: &mut Vec<DataError>) -> Option<String> {
    check_line("/grund", grund, "Der Grund", errors)
}

/// A required line of typed text at `pointer`: as [`check_line`], and `missing` at `pointer`
/// when it is blank. The trimmed text, empty when blank.
pub(crate) fn required_line(
    pointer: &str,
    value: Option<&str>,
    (what, missing): (&str, &str),
    errors: &mut Vec<DataError>,
) -> String {
    let line = check_line(pointer, value, what, errors);
    if line.is_none() {
        errors.push(error(pointer, missing));
    }
    line.unwrap_or_default()
}

/// A required reason (`grund`) as the only field of a form: one line of at most 500
/// characters, `missing` when blank.
pub(crate) fn required_reason(
    grund: Option<&str>,
    missing: &str,
) -> Result<String, Vec<DataError>> {
    let mut errors = Vec::new();
    let reason = required_line("/grund", grund, ("Der Grund", missing), &mut errors);
    if errors.is_empty() {
        Ok(reason)
    } else {
        Err(errors)
    }
}

/// One line of typed text at `pointer`: at most 500 characters, no line breaks or other control
/// characters; a problem, naming the field as `what` („Der Grund“), is added to `errors`. The
/// trimmed text, `None` when blank.
pub(crate) fn check_line(
    pointer: &str,
    value: Option<&str>,
    what: &str,
    errors: &mut Vec<DataError>,
) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    if value.chars().count() > REASON_MAX {
        errors.push(error(
            pointer,
            &format!("{what} ist zu lang (höchstens 500 Zeichen)."),
        ));
    } else if value.chars().any(char::is_control) {
        errors.push(error(
            pointer,
            &format!(
                "{what} enthält Steuerzeichen oder Zeilenumbrüche; bitte geben Sie eine Zeile Text ein."
            ),
        ));
    }
    Some(value.to_string())
}

/// Extends the deadline of invitation `invitation` (its `invitations.id`) of `case`, checked like
/// any command on the case (`call.check`). A day the engine refuses (not later than the current
/// deadline, past, more than a year ahead, no working day) is an error at `/frist`.
pub fn extend(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    case: CaseId,
    invitation: i64,
    extension: Extension,
    call: Invocation<'_>,
) -> Result<(), ServiceError> {
    let row = super::partner::invitation_of(conn, case, invitation)?;
    let invitation = LocalId(row.local_id as u64);
    let outcome = cases::decide_consultation(
        conn,
        ctx,
        case,
        |actor| Event::ExtendDeadline {
            invitation,
            until: extension.until,
            actor,
            reason: extension.reason,
        },
        call,
    );
    match outcome {
        Ok(_) => Ok(()),
        Err(ServiceError::Engine(EngineError::DeadlineExtension(message))) => {
            Err(ServiceError::InvalidInput(vec![error("/frist", &message)]))
        }
        Err(ServiceError::Engine(EngineError::InvitationClosed(_))) => {
            Err(ServiceError::Unprocessable(
                "Die Frist dieser Einladung kann nicht mehr verlängert werden: Die Beteiligung ist abgeschlossen, oder die Stelle hat nach Fristablauf geantwortet.".into(),
            ))
        }
        Err(other) => Err(other),
    }
}

pub(crate) fn error(pointer: &str, message: &str) -> DataError {
    DataError {
        pointer: pointer.into(),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_new_day_is_a_date_and_the_reason_one_line() {
        let extension = check(Some(" 15.01.2027 "), Some("  Ausschuss tagt am 14.01.  ")).unwrap();
        assert_eq!(
            extension.until,
            NaiveDate::from_ymd_opt(2027, 1, 15).unwrap()
        );
        assert_eq!(
            extension.reason.as_deref(),
            Some("Ausschuss tagt am 14.01.")
        );
        assert_eq!(check(Some("2027-01-15"), Some(" ")).unwrap().reason, None);
        let pointers = |result: Result<Extension, Vec<DataError>>| -> Vec<String> {
            result.unwrap_err().into_iter().map(|e| e.pointer).collect()
        };
        assert_eq!(pointers(check(None, None)), ["/frist"]);
        assert_eq!(
            pointers(check(Some("bald"), Some("a\nb"))),
            ["/frist", "/grund"]
        );
        assert_eq!(
            pointers(check(Some("2027-01-15"), Some(&"x".repeat(501)))),
            ["/grund"]
        );
    }
}
