//! Aktenvermerke: what happened outside vorgang (a call with the Schulamt, an agreement with the
//! Bezirksregierung, a paper letter received) written into the case file by staff.
//!
//! A Vermerk is a journal entry of its own kind, so it stands in the tamper-evident chain with
//! its author and time and can never be edited or removed; a correction is a further Vermerk.
//! Like a document, it leaves the case's data, state and version alone: writing down a phone
//! call must not turn a colleague's pending edit into a conflict.
//!
//! A Vermerk is either part of the file for everyone who reads the case, or internal to the
//! writer's organisation: the Kreis's note about a call with its Kämmerei is none of the
//! Bewilligungsbehörde's business, and the Bezirksregierung's note on its review none of the
//! applicant's. Others see an internal Vermerk as a placeholder in its place (its time and
//! author, not its text; see [`super::internal`]).

use serde_json::json;

use super::ServiceError;
use super::cases::AccessCheck;
use super::internal::INTERNAL_TO;
use super::mail::Outgoing;
use crate::db::models::{CaseId, CaseRow, OrganisationId};
use crate::db::{DbConnection, write_transaction};
use crate::engine::data::DataError;
use crate::engine::{Actor, Clock};
use crate::journal::{self, JournalEntry, NewEvent};

/// The journal kind of a Vermerk; its payload is `{"text"}`, or `{"internal_to", "text"}` for
/// one internal to the organisation with that id.
pub const NOTE_ADDED: &str = "note_added";

/// Longest Vermerk, in characters; longer records belong in a document.
pub const MAX_CHARS: usize = 20_000;

/// Who writes a Vermerk: the person, their organisation, and whether the Vermerk stays with it.
#[derive(Clone, Copy)]
pub struct Author<'a> {
    /// The person, as the journal records them.
    pub actor: &'a Actor,
    /// The person's organisation: the owner of an internal Vermerk, and the side whose
    /// counterparts are told of one for everyone.
    pub organisation: OrganisationId,
    /// Internal to `organisation` (others see a placeholder), or for everyone reading the case.
    pub internal: bool,
}

/// Writes `text` as a Vermerk of case `id` by `author`, for everyone who reads the case or,
/// internal, for the author's organisation only: only if `check` allows the caller on this case,
/// then only a valid text (the problem at `/text`). Otherwise nothing is written. A Vermerk for
/// everyone is announced by mail to whoever is responsible for the case in the other
/// organisations (`service::assignments`), in the same transaction; the mail names the case, not
/// the text.
pub fn add(
    conn: &mut DbConnection,
    out: &Outgoing,
    id: CaseId,
    text: &str,
    author: Author<'_>,
    clock: &Clock,
    check: AccessCheck<'_>,
) -> Result<JournalEntry, ServiceError> {
    let at = super::cases::db_time(clock);
    write_transaction(conn, |conn| {
        let row = CaseRow::find(conn, id)?.ok_or_else(super::cases::not_found)?;
        check(super::cases::access(&row))?;
        let text = checked(text)?;
        let payload = if author.internal {
            json!({ INTERNAL_TO: author.organisation.0, "text": text })
        } else {
            json!({ "text": text })
        };
        let entries = journal::append(
            conn,
            id.0,
            &[NewEvent {
                at,
                actor: author.actor.id.clone(),
                kind: NOTE_ADDED.into(),
                payload,
            }],
        )?;
        if !author.internal {
            super::assignments::announce_note(
                conn,
                out,
                &row,
                author.actor,
                author.organisation,
                at,
            )?;
        }
        entries
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::Internal("Vermerk nicht im Journal".into()))
    })
}

/// The text as stored (trimmed, `\r\n` as `\n`), or why it cannot be one.
fn checked(text: &str) -> Result<String, ServiceError> {
    let text = text.trim().replace("\r\n", "\n");
    let problem = if text.is_empty() {
        Some("Bitte geben Sie den Vermerk ein.".to_string())
    } else if text.chars().count() > MAX_CHARS {
        Some(
            "Der Vermerk ist zu lang (höchstens 20.000 Zeichen); bitte fügen Sie längere \
             Ausführungen als Dokument bei."
                .to_string(),
        )
    } else if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        Some("Der Vermerk enthält Steuerzeichen; bitte geben Sie nur Text ein.".to_string())
    } else {
        None
    };
    match problem {
        Some(message) => Err(ServiceError::InvalidInput(vec![DataError {
            pointer: "/text".into(),
            message,
        }])),
        None => Ok(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: Result<String, ServiceError>) -> String {
        match result {
            Err(ServiceError::InvalidInput(errors)) => {
                assert_eq!(errors[0].pointer, "/text");
                errors[0].message.clone()
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_note_is_trimmed_and_keeps_its_lines() {
        assert_eq!(
            checked("  Telefonat mit dem Schulamt.\r\nRückruf zugesagt.\n ").unwrap(),
            "Telefonat mit dem Schulamt.\nRückruf zugesagt."
        );
    }

    #[test]
    fn empty_overlong_and_control_characters_are_refused_in_german() {
        assert_eq!(message(checked(" \n ")), "Bitte geben Sie den Vermerk ein.");
        assert!(message(checked(&"x".repeat(MAX_CHARS + 1))).contains("höchstens 20.000 Zeichen"));
        assert!(
            checked(&"ä".repeat(MAX_CHARS)).is_ok(),
            "characters, not bytes"
        );
        assert!(message(checked("a\u{0}b")).contains("Steuerzeichen"));
        assert!(checked("Spalte\tSpalte").is_ok());
    }
}
