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
//! author, not its text), as a file handed over for Akteneinsicht keeps a sheet saying that one
//! was taken out: the journal stays complete and its chain of hashes visibly unbroken.

use serde_json::json;

use super::ServiceError;
use super::cases::AccessCheck;
use crate::auth::Principal;
use crate::db::models::{CaseId, CaseRow, OrganisationId, Role};
use crate::db::{DbConnection, write_transaction};
use crate::engine::data::DataError;
use crate::engine::{Actor, Clock};
use crate::journal::{self, JournalEntry, NewEvent};

/// The journal kind of a Vermerk; its payload is `{"text"}`, or `{"internal_to", "text"}` for
/// one internal to the organisation with that id.
pub const NOTE_ADDED: &str = "note_added";

/// Payload key naming the organisation an internal Vermerk belongs to.
pub const INTERNAL_TO: &str = "internal_to";

/// Payload key (`true`) of an internal Vermerk another organisation sees without its text.
pub const WITHHELD: &str = "withheld";

/// Who reads a journal, as far as internal Vermerke are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteReader {
    /// Reads every Vermerk: administrators, who may do everything anyway.
    All,
    /// Reads the Vermerke for everyone and the internal ones of this organisation.
    Of(OrganisationId),
}

impl NoteReader {
    /// The reader `principal` is.
    pub fn of(principal: &Principal) -> Self {
        if principal.has_role(Role::Admin) {
            Self::All
        } else {
            Self::Of(principal.organisation_id)
        }
    }

    /// Whether this reader may read the text of `entry` (any entry but another organisation's
    /// internal Vermerk).
    pub fn may_read(&self, entry: &JournalEntry) -> bool {
        match (self, internal_to(entry)) {
            (_, None) | (Self::All, Some(_)) => true,
            (Self::Of(own), Some(owner)) => *own == owner,
        }
    }
}

/// The organisation `entry` is internal to, if it is an internal Vermerk.
pub fn internal_to(entry: &JournalEntry) -> Option<OrganisationId> {
    (entry.kind == NOTE_ADDED)
        .then(|| entry.payload.get(INTERNAL_TO)?.as_i64())
        .flatten()
        .map(OrganisationId)
}

/// `journal` as `reader` may see it: another organisation's internal Vermerk keeps its place,
/// time, author and hashes, and its payload becomes `{"internal_to", "withheld": true}`.
pub fn redact(journal: Vec<JournalEntry>, reader: NoteReader) -> Vec<JournalEntry> {
    journal
        .into_iter()
        .map(|mut entry| {
            if let Some(owner) = internal_to(&entry).filter(|_| !reader.may_read(&entry)) {
                entry.payload = json!({ INTERNAL_TO: owner.0, WITHHELD: true });
            }
            entry
        })
        .collect()
}

/// Longest Vermerk, in characters; longer records belong in a document.
pub const MAX_CHARS: usize = 20_000;

/// Writes `text` as a Vermerk of case `id` by `actor`, for everyone who reads the case or, with
/// `internal_to`, for that organisation only: only if `check` allows the caller on this case,
/// then only a valid text (the problem at `/text`). Otherwise nothing is written.
pub fn add(
    conn: &mut DbConnection,
    id: CaseId,
    text: &str,
    internal_to: Option<OrganisationId>,
    actor: &Actor,
    clock: &Clock,
    check: AccessCheck<'_>,
) -> Result<JournalEntry, ServiceError> {
    let at = super::cases::db_time(clock);
    write_transaction(conn, |conn| {
        let row = CaseRow::find(conn, id)?.ok_or_else(super::cases::not_found)?;
        check(super::cases::access(&row))?;
        let text = checked(text)?;
        let payload = match internal_to {
            Some(owner) => json!({ INTERNAL_TO: owner.0, "text": text }),
            None => json!({ "text": text }),
        };
        let entries = journal::append(
            conn,
            id.0,
            &[NewEvent {
                at,
                actor: actor.id.clone(),
                kind: NOTE_ADDED.into(),
                payload,
            }],
        )?;
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

    fn entry(seq: i32, kind: &str, payload: serde_json::Value) -> JournalEntry {
        JournalEntry {
            id: i64::from(seq),
            case_id: 1,
            seq,
            at: chrono::NaiveDate::from_ymd_opt(2026, 12, 5)
                .unwrap()
                .and_hms_opt(9, 0, 0)
                .unwrap(),
            actor: "sb@kreis-kleve.de".into(),
            kind: kind.into(),
            payload,
            prev_hash: format!("{:064}", seq - 1),
            hash: format!("{seq:064}"),
        }
    }

    #[test]
    fn another_organisations_internal_vermerk_keeps_its_place_but_not_its_text() {
        let journal = vec![
            entry(1, NOTE_ADDED, json!({ "text": "für alle" })),
            entry(
                2,
                NOTE_ADDED,
                json!({ INTERNAL_TO: 7, "text": "Kreis intern" }),
            ),
            entry(
                3,
                NOTE_ADDED,
                json!({ INTERNAL_TO: 9, "text": "Bezirksregierung intern" }),
            ),
            // Only a Vermerk is ever internal, whatever another payload holds.
            entry(4, "data_changed", json!({ INTERNAL_TO: 9, "patch": {} })),
        ];
        let texts = |reader| {
            redact(journal.clone(), reader)
                .into_iter()
                .map(|e| e.payload)
                .collect::<Vec<_>>()
        };
        let kreis = texts(NoteReader::Of(OrganisationId(7)));
        assert_eq!(kreis[1]["text"], "Kreis intern");
        assert_eq!(kreis[2], json!({ INTERNAL_TO: 9, "withheld": true }));
        assert_eq!(kreis[3], journal[3].payload);
        let bezirksregierung = texts(NoteReader::Of(OrganisationId(9)));
        assert_eq!(
            bezirksregierung[1],
            json!({ INTERNAL_TO: 7, "withheld": true })
        );
        assert_eq!(bezirksregierung[2]["text"], "Bezirksregierung intern");
        let admin = texts(NoteReader::All);
        assert_eq!(
            admin,
            journal
                .iter()
                .map(|e| e.payload.clone())
                .collect::<Vec<_>>()
        );
        // The chain stays visible: place, time, author and hashes are untouched.
        let withheld = &redact(journal.clone(), NoteReader::Of(OrganisationId(7)))[2];
        assert_eq!(
            (
                withheld.seq,
                withheld.at,
                &withheld.actor,
                &withheld.prev_hash,
                &withheld.hash
            ),
            (
                3,
                journal[2].at,
                &journal[2].actor,
                &journal[2].prev_hash,
                &journal[2].hash
            )
        );
    }
}
