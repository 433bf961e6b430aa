//! Checking every chain: what `vorgang audit verify` runs.
//!
//! Journals are read case by case and each case in pages of [`PAGE`] entries (keyset pagination
//! on the `UNIQUE (case_id, seq)` index), so memory stays flat however large the table grows.

use std::collections::HashMap;
use std::fmt;

use diesel::prelude::*;
use serde::Serialize;

use super::EventRow;
use super::hash::GENESIS_HASH;
use crate::db::schema::{case_events, cases};
use crate::db::{DbConnection, DbError};

/// Case ids fetched per round trip.
const CASE_BATCH: i64 = 500;
/// Entries fetched per round trip.
const PAGE: i64 = 1_000;

/// Why a chain is broken at an entry; the German text is what operators read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "art", rename_all = "snake_case")]
pub enum BreakReason {
    /// The stored hash does not match the entry's fields: the entry was edited.
    HashMismatch,
    /// `prev_hash` is not the hash of the entry before: an entry was replaced or reordered.
    PrevHashMismatch,
    /// Sequence numbers skip: entries were removed (or the first one is missing).
    Gap {
        /// The number the next entry should have had.
        expected: i32,
        /// The number it has.
        found: i32,
    },
    /// The journal ends before the last entry its case recorded (`cases.journal_seq`): the
    /// newest entries, or all of them, were removed.
    Truncated {
        /// Entries the case recorded.
        recorded: i32,
        /// The last entry present (0: none).
        last: i32,
    },
    /// An entry beyond the last one its case recorded: added outside vorgang.
    Unrecorded {
        /// Entries the case recorded.
        recorded: i32,
    },
    /// An entry listed in published heads (`vorgang audit heads`) is gone.
    PublishedMissing,
    /// An entry listed in published heads carries another hash now: the journal was rewritten
    /// up to it, its hashes recomputed.
    Diverged {
        /// The hash the heads list.
        published: String,
    },
}

impl fmt::Display for BreakReason {
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
                "alle Einträge fehlen (der Vorgang verzeichnet {recorded})"
            ),
            Self::Truncated { recorded, last } => write!(
                f,
                "Einträge am Ende fehlen (der Vorgang verzeichnet {recorded}, vorhanden bis Nr. {last})"
            ),
            Self::Unrecorded { recorded } => write!(
                f,
                "Eintrag nicht verzeichnet (der Vorgang verzeichnet nur {recorded}): außerhalb von vorgang angefügt"
            ),
            Self::PublishedMissing => write!(
                f,
                "Eintrag fehlt, den der veröffentlichte Journalstand verzeichnet"
            ),
            Self::Diverged { published } => write!(
                f,
                "Hash weicht vom veröffentlichten Journalstand ab (dort {}…): das Journal wurde bis hier neu geschrieben",
                published.get(..12).unwrap_or(published)
            ),
        }
    }
}

/// The first broken entry of one case's journal; later entries of that case are not judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    /// The case whose journal is broken.
    pub case_id: i64,
    /// `None` only if the case row itself is gone (possible only with foreign keys bypassed).
    pub aktenzeichen: Option<String>,
    /// Sequence number of the first broken entry (of the first missing one for
    /// [`BreakReason::Truncated`]).
    pub seq: i32,
    /// Row id of that entry in `case_events`; `None` when it is missing.
    pub event_id: Option<i64>,
    /// What is wrong with that entry.
    pub reason: BreakReason,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let aktenzeichen = self.aktenzeichen.as_deref().unwrap_or("(Vorgang fehlt)");
        write!(
            f,
            "Journal von Vorgang {aktenzeichen} (ID {}) gebrochen bei Eintrag Nr. {}",
            self.case_id, self.seq
        )?;
        if let Some(event_id) = self.event_id {
            write!(f, " (Ereignis-ID {event_id})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// The outcome of checking every journal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Cases with at least one journal entry.
    pub journals: u64,
    /// Entries checked (a broken journal is not read past its first break).
    pub entries: u64,
    /// One per broken journal, ordered by case id.
    pub breaks: Vec<ChainBreak>,
}

impl VerifyReport {
    /// True when no chain is broken.
    pub fn intact(&self) -> bool {
        self.breaks.is_empty()
    }
}

/// Checks every case's chain and returns the first broken entry of each broken one.
pub fn verify_all(conn: &mut DbConnection) -> Result<Vec<ChainBreak>, DbError> {
    Ok(verify(conn)?.breaks)
}

/// Like [`verify_all`], with the counts `vorgang audit verify` reports.
///
/// The chain of a case is intact when its sequence numbers run 1, 2, 3, … without gaps, each
/// entry's `prev_hash` is the stored hash of the entry before (64 zeros for the first), and each
/// stored hash equals the hash recomputed from the entry's fields. Removing the newest entries
/// of a case leaves a valid, shorter chain; the case row's anchor (`cases.journal_seq`, the
/// number of entries its writers recorded) catches that, also for a journal removed entirely,
/// and an entry appended behind vorgang's back.
pub fn verify(conn: &mut DbConnection) -> Result<VerifyReport, DbError> {
    let mut report = VerifyReport::default();
    let mut after_case = i64::MIN;
    loop {
        let case_ids: Vec<i64> = case_events::table
            .filter(case_events::case_id.gt(after_case))
            .select(case_events::case_id)
            .distinct()
            .order(case_events::case_id)
            .limit(CASE_BATCH)
            .load(conn)?;
        let Some(&last) = case_ids.last() else {
            break;
        };
        let recorded: HashMap<i64, (String, i32)> = cases::table
            .filter(cases::id.eq_any(&case_ids))
            .select((cases::id, cases::aktenzeichen, cases::journal_seq))
            .load::<(i64, String, i32)>(conn)?
            .into_iter()
            .map(|(id, aktenzeichen, seq)| (id, (aktenzeichen, seq)))
            .collect();
        for case_id in case_ids {
            report.journals += 1;
            let case = recorded.get(&case_id);
            let anchor = case.map(|(_, seq)| *seq);
            if let Some(found) = verify_case(conn, case_id, anchor, &mut report.entries)? {
                report.breaks.push(ChainBreak {
                    case_id,
                    aktenzeichen: case.map(|(aktenzeichen, _)| aktenzeichen.clone()),
                    seq: found.seq,
                    event_id: found.event_id,
                    reason: found.reason,
                });
            }
        }
        after_case = last;
    }
    // Cases that recorded entries of which none is left.
    let emptied: Vec<(i64, String, i32)> = cases::table
        .filter(cases::journal_seq.gt(0))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            case_events::table.filter(case_events::case_id.eq(cases::id)),
        )))
        .select((cases::id, cases::aktenzeichen, cases::journal_seq))
        .load(conn)?;
    for (case_id, aktenzeichen, recorded) in emptied {
        report.breaks.push(ChainBreak {
            case_id,
            aktenzeichen: Some(aktenzeichen),
            seq: 1,
            event_id: None,
            reason: BreakReason::Truncated { recorded, last: 0 },
        });
    }
    report.breaks.sort_by_key(|b| b.case_id);
    Ok(report)
}

struct FirstBreak {
    seq: i32,
    event_id: Option<i64>,
    reason: BreakReason,
}

/// Walks one case's journal page by page; stops at the first broken entry. `recorded` is the
/// case's anchor (`None` when the case row is gone, which the foreign key prevents).
fn verify_case(
    conn: &mut DbConnection,
    case_id: i64,
    recorded: Option<i32>,
    entries: &mut u64,
) -> Result<Option<FirstBreak>, DbError> {
    let mut checker = ChainChecker::new();
    let mut after_seq = i32::MIN;
    loop {
        let page: Vec<EventRow> = case_events::table
            .filter(case_events::case_id.eq(case_id))
            .filter(case_events::seq.gt(after_seq))
            .order(case_events::seq)
            .limit(PAGE)
            .select(EventRow::as_select())
            .load(conn)?;
        let Some(last) = page.last() else {
            // The end of an intact chain: is it the end the case recorded?
            let last = after_seq.max(0);
            return Ok(recorded
                .filter(|&recorded| recorded > last)
                .map(|recorded| FirstBreak {
                    seq: last + 1,
                    event_id: None,
                    reason: BreakReason::Truncated { recorded, last },
                }));
        };
        after_seq = last.seq;
        for row in &page {
            *entries += 1;
            let reason = checker.check(row).or_else(|| {
                recorded
                    .filter(|&recorded| row.seq > recorded)
                    .map(|recorded| BreakReason::Unrecorded { recorded })
            });
            if let Some(reason) = reason {
                return Ok(Some(FirstBreak {
                    seq: row.seq,
                    event_id: Some(row.id),
                    reason,
                }));
            }
        }
    }
}

/// The state of one chain walk: what the next entry must look like.
struct ChainChecker {
    expected_seq: i32,
    expected_prev: String,
}

impl ChainChecker {
    fn new() -> Self {
        Self {
            expected_seq: 1,
            expected_prev: GENESIS_HASH.to_string(),
        }
    }

    /// Judges the next row (rows arrive ordered by seq); `None` means it continues the chain.
    fn check(&mut self, row: &EventRow) -> Option<BreakReason> {
        if row.seq != self.expected_seq {
            return Some(BreakReason::Gap {
                expected: self.expected_seq,
                found: row.seq,
            });
        }
        if row.prev_hash != self.expected_prev {
            return Some(BreakReason::PrevHashMismatch);
        }
        if row.recomputed_hash() != row.hash {
            return Some(BreakReason::HashMismatch);
        }
        self.expected_seq = self.expected_seq.saturating_add(1);
        self.expected_prev.clone_from(&row.hash);
        None
    }
}
