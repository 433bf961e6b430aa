//! Vermerke and documents internal to one organisation, in the journal that every reader of a
//! case shares.
//!
//! Others see such an entry as a placeholder in its place (its time and author, not its
//! content), as a file handed over for Akteneinsicht keeps a sheet saying that one was taken out:
//! the journal stays complete and its chain of hashes visibly unbroken. Who reads what is
//! [`InternalReader`]'s rule.

use serde_json::json;

use super::{documents, notes};
use crate::auth::InternalReader;
use crate::db::models::OrganisationId;
use crate::journal::JournalEntry;

/// Payload key naming the organisation an internal Vermerk or document belongs to.
pub const INTERNAL_TO: &str = "internal_to";

/// Payload key (`true`) of an internal entry another organisation sees without its content.
pub const WITHHELD: &str = "withheld";

/// The organisation `entry` is internal to, if it is an internal Vermerk or the arrival of an
/// internal document (no other kind of entry is ever withheld).
fn internal_to(entry: &JournalEntry) -> Option<OrganisationId> {
    [notes::NOTE_ADDED, documents::UPLOADED]
        .contains(&entry.kind.as_str())
        .then(|| entry.payload.get(INTERNAL_TO)?.as_i64())
        .flatten()
        .map(OrganisationId)
}

/// `journal` as `reader` may see it: another organisation's internal entry keeps its place,
/// time, author and hashes, and its payload becomes `{"internal_to", "withheld": true}`.
pub fn redact(journal: Vec<JournalEntry>, reader: InternalReader) -> Vec<JournalEntry> {
    journal
        .into_iter()
        .map(|mut entry| {
            if let Some(owner) = internal_to(&entry).filter(|owner| !reader.sees(Some(*owner))) {
                entry.payload = json!({ INTERNAL_TO: owner.0, WITHHELD: true });
            }
            entry
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn another_organisations_internal_entry_keeps_its_place_but_not_its_content() {
        let journal = vec![
            entry(1, notes::NOTE_ADDED, json!({ "text": "für alle" })),
            entry(
                2,
                notes::NOTE_ADDED,
                json!({ INTERNAL_TO: 7, "text": "Kreis intern" }),
            ),
            entry(
                3,
                notes::NOTE_ADDED,
                json!({ INTERNAL_TO: 9, "text": "Bezirksregierung intern" }),
            ),
            // Only a Vermerk or a document is ever internal, whatever another payload holds.
            entry(4, "data_changed", json!({ INTERNAL_TO: 9, "patch": {} })),
            entry(
                5,
                crate::service::documents::UPLOADED,
                json!({ INTERNAL_TO: 9, "filename": "Prüfvermerk.pdf" }),
            ),
        ];
        let texts = |reader| {
            redact(journal.clone(), reader)
                .into_iter()
                .map(|e| e.payload)
                .collect::<Vec<_>>()
        };
        let kreis = texts(InternalReader::Of(OrganisationId(7)));
        assert_eq!(kreis[1]["text"], "Kreis intern");
        assert_eq!(kreis[2], json!({ INTERNAL_TO: 9, "withheld": true }));
        assert_eq!(kreis[3], journal[3].payload);
        assert_eq!(kreis[4], json!({ INTERNAL_TO: 9, "withheld": true }));
        let bezirksregierung = texts(InternalReader::Of(OrganisationId(9)));
        assert_eq!(
            bezirksregierung[1],
            json!({ INTERNAL_TO: 7, "withheld": true })
        );
        assert_eq!(bezirksregierung[2]["text"], "Bezirksregierung intern");
        let admin = texts(InternalReader::All);
        assert_eq!(
            admin,
            journal
                .iter()
                .map(|e| e.payload.clone())
                .collect::<Vec<_>>()
        );
        // The chain stays visible: place, time, author and hashes are untouched.
        let withheld = &redact(journal.clone(), InternalReader::Of(OrganisationId(7)))[2];
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
