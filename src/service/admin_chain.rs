//! The administration's record as a hash chain, like the case journals: each entry carries its
//! position (`seq`, from 1 without gaps), the hash of the entry before and its own hash, and the
//! one row of `admin_chain` names the newest entry. Altering an entry, removing one or adding one
//! outside vorgang breaks the chain; `vorgang audit verify` names the first broken entry.
//!
//! The record is where a disposal leaves its only trace once the case and its journal are gone,
//! and where rights are handed out; it deserves the same protection as a journal. As there, the
//! hash is not keyed: whoever can write the database could rewrite the record from an entry on
//! and recompute every later hash. The chain shows edits made with ordinary SQL, by mistake or
//! in haste, and makes a rewrite a deliberate act.
//!
//! Hash input (version 1) is the compact JSON array
//! `["vorgang.verwaltung.v1", seq, at, actor, kind, subject, details, prev_hash]`, serialised as
//! the journal's (see [`crate::journal::hash`]): `at` as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (cut to
//! microseconds), `details` the stored text, the hash the lowercase hex SHA-256 of that text.

use std::fmt;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::schema::{admin_chain, admin_events};
use crate::db::{DbConnection, DbError, write_transaction};
use crate::journal::hash::{GENESIS_HASH, format_at, truncate_at};
use crate::journal::heads::RecordHead;

/// First element of the hashed array; names the serialisation so it can evolve.
const FORMAT_TAG: &str = "vorgang.verwaltung.v1";

/// Entries read per round trip when verifying.
const PAGE: i64 = 1_000;

/// The fields that go into an entry's hash.
#[derive(Debug, Clone, Copy)]
pub struct EntryFields<'a> {
    /// Position in the record, from 1.
    pub seq: i64,
    /// When; cut to microseconds before hashing (both databases store exactly that).
    pub at: NaiveDateTime,
    /// Who made the change.
    pub actor: &'a str,
    /// What kind of change (see `admin_log`).
    pub kind: &'a str,
    /// Whom or what it concerned.
    pub subject: &'a str,
    /// The stored details text.
    pub details: &'a str,
    /// Hash of the entry before, or [`GENESIS_HASH`].
    pub prev_hash: &'a str,
}

/// The hash of one entry; the single place the record's chain format is defined.
pub fn entry_hash(fields: &EntryFields<'_>) -> String {
    let text = serde_json::to_string(&(
        FORMAT_TAG,
        fields.seq,
        format_at(truncate_at(fields.at)),
        fields.actor,
        fields.kind,
        fields.subject,
        fields.details,
        fields.prev_hash,
    ))
    .expect("a tuple of strings and integers always serialises");
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// The record's end as the `admin_chain` row holds it.
struct End {
    /// Position of the newest entry (0: none yet).
    seq: i64,
    /// Its hash, or [`GENESIS_HASH`].
    hash: String,
    /// Entries from before the chain existed still wait to be chained.
    legacy_pending: bool,
}

/// Locks the record's end (the `admin_chain` row) for the rest of the transaction and reads it.
/// Every writer updates the row first, so PostgreSQL queues concurrent appends on its row lock;
/// SQLite has one writer anyway.
fn lock_end(conn: &mut DbConnection) -> Result<End, DbError> {
    diesel::update(admin_chain::table.find(1))
        .set(admin_chain::last_seq.eq(admin_chain::last_seq))
        .execute(conn)?;
    let (seq, hash, legacy_pending) = admin_chain::table
        .find(1)
        .select((
            admin_chain::last_seq,
            admin_chain::last_hash,
            admin_chain::legacy_pending,
        ))
        .first(conn)?;
    Ok(End {
        seq,
        hash,
        legacy_pending,
    })
}

/// The end as stored (position and hash of the newest entry), without locking it; `None` when
/// its row is gone.
fn stored_end(conn: &mut DbConnection) -> Result<Option<(i64, String)>, DbError> {
    Ok(admin_chain::table
        .find(1)
        .select((admin_chain::last_seq, admin_chain::last_hash))
        .first(conn)
        .optional()?)
}

/// Moves the end to the entry `seq` with `hash`; the legacy entries are chained by then.
fn set_end(conn: &mut DbConnection, seq: i64, hash: &str) -> Result<(), DbError> {
    diesel::update(admin_chain::table.find(1))
        .set((
            admin_chain::last_seq.eq(seq),
            admin_chain::last_hash.eq(hash),
            admin_chain::legacy_pending.eq(false),
        ))
        .execute(conn)?;
    Ok(())
}

/// Appends an entry at the end of the chain, in one transaction with the caller's, if any.
pub(crate) fn append(
    conn: &mut DbConnection,
    at: NaiveDateTime,
    actor: &str,
    kind: &str,
    subject: &str,
    details: &str,
) -> Result<(), DbError> {
    write_transaction(conn, |conn| {
        let mut end = lock_end(conn)?;
        if end.legacy_pending {
            // A process that appends before any start has chained the old entries (a command
            // line tool right after the upgrade): they go first, as they were written first.
            chain_legacy_rows(conn, &mut end)?;
        }
        let at = truncate_at(at);
        let seq = end.seq + 1;
        let hash = entry_hash(&EntryFields {
            seq,
            at,
            actor,
            kind,
            subject,
            details,
            prev_hash: &end.hash,
        });
        diesel::insert_into(admin_events::table)
            .values((
                admin_events::at.eq(at),
                admin_events::actor.eq(actor),
                admin_events::kind.eq(kind),
                admin_events::subject.eq(subject),
                admin_events::details.eq(details),
                admin_events::seq.eq(seq),
                admin_events::prev_hash.eq(&end.hash),
                admin_events::hash.eq(&hash),
            ))
            .execute(conn)?;
        set_end(conn, seq, &hash)
    })
}

/// Chains the entries written before the record was chained (`seq` 0), in the order they were
/// written, once: at the first start after the upgrade. Returns how many; 0 on every later start.
/// An entry with `seq` 0 found later was inserted past vorgang and is left for `verify` to name,
/// not taken into the chain.
pub fn chain_legacy(conn: &mut DbConnection) -> Result<usize, DbError> {
    write_transaction(conn, |conn| {
        let mut end = lock_end(conn)?;
        if !end.legacy_pending {
            return Ok(0);
        }
        chain_legacy_rows(conn, &mut end)
    })
}

/// Chains every entry with `seq` 0 after `end`, moves `end` along and marks the legacy entries
/// done; returns how many were chained.
fn chain_legacy_rows(conn: &mut DbConnection, end: &mut End) -> Result<usize, DbError> {
    type Unchained = (i64, NaiveDateTime, String, String, String, String);
    let rows: Vec<Unchained> = admin_events::table
        .filter(admin_events::seq.eq(0))
        .order(admin_events::id)
        .select((
            admin_events::id,
            admin_events::at,
            admin_events::actor,
            admin_events::kind,
            admin_events::subject,
            admin_events::details,
        ))
        .load(conn)?;
    let chained = rows.len();
    for (id, at, actor, kind, subject, details) in rows {
        let seq = end.seq + 1;
        let hash = entry_hash(&EntryFields {
            seq,
            at,
            actor: &actor,
            kind: &kind,
            subject: &subject,
            details: &details,
            prev_hash: &end.hash,
        });
        diesel::update(admin_events::table.find(id))
            .set((
                admin_events::seq.eq(seq),
                admin_events::prev_hash.eq(&end.hash),
                admin_events::hash.eq(&hash),
            ))
            .execute(conn)?;
        end.seq = seq;
        end.hash = hash;
    }
    set_end(conn, end.seq, &end.hash)?;
    end.legacy_pending = false;
    if chained > 0 {
        tracing::info!(chained, "administration's record: earlier entries chained");
    }
    Ok(chained)
}

/// Why the record's chain is broken at an entry; the German text is what operators read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "art", rename_all = "snake_case")]
pub enum RecordBreakReason {
    /// The stored hash does not match the entry's fields: the entry was edited.
    HashMismatch,
    /// `prev_hash` is not the hash of the entry before: an entry was replaced or reordered.
    PrevHashMismatch,
    /// Positions skip: entries were removed.
    Gap {
        /// The position the next entry should have had.
        expected: i64,
        /// The position it has.
        found: i64,
    },
    /// The record ends before the entry its end names: the newest entries were removed.
    Truncated {
        /// Entries the end names.
        recorded: i64,
        /// The last entry present (0: none).
        last: i64,
    },
    /// An entry beyond the one the end names: added outside vorgang.
    Unrecorded {
        /// Entries the end names.
        recorded: i64,
    },
    /// The newest entry is there but its hash is not the one the end names.
    EndMismatch,
    /// An entry without a position: inserted outside vorgang after the record was chained.
    Unchained,
    /// The row naming the record's end is gone.
    EndMissing,
    /// The entry listed in published heads (`vorgang audit heads`) is gone.
    PublishedMissing,
    /// The entry listed in published heads carries another hash now: the record was rewritten
    /// up to it, its hashes recomputed.
    Diverged {
        /// The hash the heads list.
        published: String,
    },
}

impl fmt::Display for RecordBreakReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HashMismatch => f.write_str("Hash stimmt nicht: Eintrag wurde verändert"),
            Self::PrevHashMismatch => f.write_str("Vorgänger-Hash passt nicht"),
            Self::Gap { expected, found } => write!(
                f,
                "Lücke in der Nummerierung (erwartet {expected}, gefunden {found})"
            ),
            Self::Truncated { recorded, last: 0 } => write!(
                f,
                "alle Einträge fehlen (das Protokoll verzeichnet {recorded})"
            ),
            Self::Truncated { recorded, last } => write!(
                f,
                "Einträge am Ende fehlen (das Protokoll verzeichnet {recorded}, vorhanden bis Nr. {last})"
            ),
            Self::Unrecorded { recorded } => write!(
                f,
                "Eintrag nicht verzeichnet (das Protokoll verzeichnet nur {recorded}): außerhalb von vorgang angefügt"
            ),
            Self::EndMismatch => {
                f.write_str("der neueste Eintrag ist nicht der, den das Protokoll verzeichnet")
            }
            Self::Unchained => {
                f.write_str("Eintrag ohne Verkettung: außerhalb von vorgang eingefügt")
            }
            Self::EndMissing => f.write_str("der Verweis auf den neuesten Eintrag fehlt"),
            Self::PublishedMissing => {
                f.write_str("Eintrag fehlt, den der veröffentlichte Stand verzeichnet")
            }
            Self::Diverged { published } => write!(
                f,
                "Hash weicht vom veröffentlichten Stand ab (dort {}…): das Protokoll wurde bis hier neu geschrieben",
                published.get(..12).unwrap_or(published)
            ),
        }
    }
}

/// The first broken entry of the record; later entries are not judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordBreak {
    /// Position of the first broken entry (of the first missing one for
    /// [`RecordBreakReason::Truncated`]; 0 for an entry without one).
    pub seq: i64,
    /// Row id of that entry; `None` when it is missing.
    pub event_id: Option<i64>,
    /// What is wrong.
    pub reason: RecordBreakReason,
}

impl fmt::Display for RecordBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Verwaltungsprotokoll gebrochen")?;
        if self.seq > 0 {
            write!(f, " bei Eintrag Nr. {}", self.seq)?;
        }
        if let Some(id) = self.event_id {
            write!(f, " (Eintrags-ID {id})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// The outcome of checking the record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecordReport {
    /// Entries checked (up to the first break).
    pub entries: u64,
    /// The first break, if any.
    pub broken: Option<RecordBreak>,
}

type Row = (
    i64,
    i64,
    NaiveDateTime,
    String,
    String,
    String,
    String,
    String,
    String,
);

/// Checks the whole record: every entry's hash and link, the positions, and the end.
pub fn verify(conn: &mut DbConnection) -> Result<RecordReport, DbError> {
    let mut report = RecordReport::default();
    let mut expected = 1_i64;
    let mut prev = GENESIS_HASH.to_string();
    let broken = |seq, event_id, reason| {
        Some(RecordBreak {
            seq,
            event_id,
            reason,
        })
    };
    loop {
        let page: Vec<Row> = admin_events::table
            .filter(admin_events::seq.ge(expected))
            .order(admin_events::seq)
            .limit(PAGE)
            .select((
                admin_events::id,
                admin_events::seq,
                admin_events::at,
                admin_events::actor,
                admin_events::kind,
                admin_events::subject,
                admin_events::details,
                admin_events::prev_hash,
                admin_events::hash,
            ))
            .load(conn)?;
        let done = page.len() < usize::try_from(PAGE).unwrap_or(usize::MAX);
        for (id, seq, at, actor, kind, subject, details, prev_hash, hash) in page {
            let reason = if seq != expected {
                Some(RecordBreakReason::Gap {
                    expected,
                    found: seq,
                })
            } else if prev_hash != prev {
                Some(RecordBreakReason::PrevHashMismatch)
            } else if entry_hash(&EntryFields {
                seq,
                at,
                actor: &actor,
                kind: &kind,
                subject: &subject,
                details: &details,
                prev_hash: &prev_hash,
            }) != hash
            {
                Some(RecordBreakReason::HashMismatch)
            } else {
                None
            };
            if let Some(reason) = reason {
                report.broken = broken(seq, Some(id), reason);
                return Ok(report);
            }
            report.entries += 1;
            expected += 1;
            prev = hash;
        }
        if done {
            break;
        }
    }
    let last = expected - 1;
    let unchained: Option<i64> = admin_events::table
        .filter(admin_events::seq.lt(1))
        .order(admin_events::id)
        .select(admin_events::id)
        .first(conn)
        .optional()?;
    if let Some(id) = unchained {
        report.broken = broken(0, Some(id), RecordBreakReason::Unchained);
        return Ok(report);
    }
    report.broken = match stored_end(conn)? {
        None => broken(0, None, RecordBreakReason::EndMissing),
        Some((recorded, _)) if recorded > last => broken(
            last + 1,
            None,
            RecordBreakReason::Truncated { recorded, last },
        ),
        Some((recorded, _)) if recorded < last => {
            let id = admin_events::table
                .filter(admin_events::seq.eq(recorded + 1))
                .select(admin_events::id)
                .first(conn)
                .optional()?;
            broken(recorded + 1, id, RecordBreakReason::Unrecorded { recorded })
        }
        Some((_, hash)) if hash != prev => {
            let id = admin_events::table
                .filter(admin_events::seq.eq(last))
                .select(admin_events::id)
                .first(conn)
                .optional()?;
            broken(last, id, RecordBreakReason::EndMismatch)
        }
        Some(_) => None,
    };
    Ok(report)
}

/// The record's newest entry as `vorgang audit heads` publishes it; `None` while it is empty.
pub fn current_head(conn: &mut DbConnection) -> Result<Option<RecordHead>, DbError> {
    Ok(stored_end(conn)?
        .filter(|(seq, _)| *seq > 0)
        .map(|(seq, hash)| RecordHead { seq, hash }))
}

/// Compares a published head with the record: the entry it lists must still be there with the
/// same hash, and since every hash covers its predecessor's, so must every entry before it.
pub fn check_published(
    conn: &mut DbConnection,
    published: &RecordHead,
) -> Result<Option<RecordBreak>, DbError> {
    let stored: Option<(i64, String)> = admin_events::table
        .filter(admin_events::seq.eq(published.seq))
        .select((admin_events::id, admin_events::hash))
        .first(conn)
        .optional()?;
    Ok(match stored {
        None => Some(RecordBreak {
            seq: published.seq,
            event_id: None,
            reason: RecordBreakReason::PublishedMissing,
        }),
        Some((id, hash)) if hash != published.hash => Some(RecordBreak {
            seq: published.seq,
            event_id: Some(id),
            reason: RecordBreakReason::Diverged {
                published: published.hash.clone(),
            },
        }),
        Some(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use chrono::Timelike;

    use super::*;

    fn fields(prev_hash: &str) -> EntryFields<'_> {
        EntryFields {
            seq: 1,
            at: chrono::NaiveDate::from_ymd_opt(2026, 12, 5)
                .unwrap()
                .and_hms_nano_opt(9, 30, 0, 123_456_789)
                .unwrap(),
            actor: "admin@kfi.nrw.de",
            kind: "user_created",
            subject: "anna@kreis-kleve.de",
            details: r#"{"organisation":"05154"}"#,
            prev_hash,
        }
    }

    #[test]
    fn the_hash_covers_every_field_and_is_stable() {
        let base = entry_hash(&fields(GENESIS_HASH));
        assert_eq!(base.len(), 64);
        assert!(
            base.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        // Nanoseconds below the microsecond are not stored, so they do not count.
        let mut same = fields(GENESIS_HASH);
        same.at = same.at.with_nanosecond(123_456_000).unwrap();
        assert_eq!(entry_hash(&same), base);
        let other_prev = "1".repeat(64);
        let changed = [
            EntryFields {
                seq: 2,
                ..fields(GENESIS_HASH)
            },
            EntryFields {
                actor: "x@kfi.nrw.de",
                ..fields(GENESIS_HASH)
            },
            EntryFields {
                kind: "user_roles_changed",
                ..fields(GENESIS_HASH)
            },
            EntryFields {
                subject: "bob@kreis-kleve.de",
                ..fields(GENESIS_HASH)
            },
            EntryFields {
                details: "{}",
                ..fields(GENESIS_HASH)
            },
            fields(&other_prev),
        ];
        for other in changed {
            assert_ne!(entry_hash(&other), base, "{other:?}");
        }
    }

    #[test]
    fn breaks_read_as_german_sentences() {
        let text = RecordBreak {
            seq: 3,
            event_id: Some(17),
            reason: RecordBreakReason::Truncated {
                recorded: 5,
                last: 2,
            },
        }
        .to_string();
        assert_eq!(
            text,
            "Verwaltungsprotokoll gebrochen bei Eintrag Nr. 3 (Eintrags-ID 17): Einträge am Ende \
             fehlen (das Protokoll verzeichnet 5, vorhanden bis Nr. 2)"
        );
    }
}
