//! Journal heads kept outside the database: the newest entry of every case journal, written out
//! by `vorgang audit heads` and compared by `vorgang audit verify --heads FILE`.
//!
//! The hash chain shows an entry altered or removed in place, and the case's anchor a journal
//! cut short. But the hash is not keyed: whoever can write the database can rewrite a journal
//! from an entry on, recompute every later hash and move the anchor along, and the chain is
//! valid again. A list of heads kept elsewhere (printed, signed, handed to the
//! Rechnungsprüfung) closes that gap for everything up to the moment it was taken: each listed
//! entry must still be there with the same hash, and since every hash covers its predecessor's,
//! so must the whole journal up to it. Entries added since are checked by the chain alone.
//!
//! The file is plain text, one case per line: case id, sequence number of its newest entry,
//! that entry's hash and the Aktenzeichen, separated by tabs; lines starting with `#` are
//! comments. The administration's record (`service::admin_chain`) has a line of its own, with
//! [`RECORD_KEY`] in place of the case id.

use std::collections::HashMap;
use std::fmt;

use diesel::prelude::*;

use super::verify::{BreakReason, ChainBreak};
use crate::db::schema::{case_events, cases, disposed_cases};
use crate::db::{DbConnection, DbError};

/// First field of the administration's record's line, where a journal's line has its case id.
pub const RECORD_KEY: &str = "verwaltung";

/// The newest entry of the administration's record, as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordHead {
    /// Position of the entry.
    pub seq: i64,
    /// Its hash (64 lowercase hex digits).
    pub hash: String,
}

impl fmt::Display for RecordHead {
    /// The record's line of a heads file (without the line break).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{RECORD_KEY}\t{}\t{}\tVerwaltungsprotokoll",
            self.seq, self.hash
        )
    }
}

/// What a heads file lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Published {
    /// The journals' heads, in the order of the file.
    pub journals: Vec<Head>,
    /// The administration's record's head (files written before it was chained have none).
    pub record: Option<RecordHead>,
}

/// Cases read or checked per round trip.
const BATCH: i64 = 500;

/// The newest entry of one case's journal, as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The case.
    pub case_id: i64,
    /// Sequence number of the entry.
    pub seq: i32,
    /// Its hash (64 lowercase hex digits).
    pub hash: String,
    /// The case's Aktenzeichen, for the reader of the file (not checked).
    pub aktenzeichen: String,
}

impl fmt::Display for Head {
    /// One line of a heads file (without the line break).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}\t{}\t{}\t{}",
            self.case_id, self.seq, self.hash, self.aktenzeichen
        )
    }
}

/// A heads file that cannot be read; the German text names the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Zeile {line}: {message}")]
pub struct HeadsFileError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

/// The head of every journal the case rows record (`cases.journal_seq`), ordered by case id.
/// Meant to be taken right after an intact `verify`; a case whose recorded entry is missing is
/// left out (`verify` reports it).
pub fn current(conn: &mut DbConnection) -> Result<Vec<Head>, DbError> {
    let mut heads = Vec::new();
    let mut after = i64::MIN;
    loop {
        let page: Vec<(i64, i32, String, String)> = cases::table
            .inner_join(
                case_events::table.on(case_events::case_id
                    .eq(cases::id)
                    .and(case_events::seq.eq(cases::journal_seq))),
            )
            .filter(cases::id.gt(after))
            .order(cases::id)
            .limit(BATCH)
            .select((
                cases::id,
                case_events::seq,
                case_events::hash,
                cases::aktenzeichen,
            ))
            .load(conn)?;
        let Some(&(last, ..)) = page.last() else {
            return Ok(heads);
        };
        after = last;
        heads.extend(
            page.into_iter()
                .map(|(case_id, seq, hash, aktenzeichen)| Head {
                    case_id,
                    seq,
                    hash,
                    aktenzeichen,
                }),
        );
    }
}

/// Reads a heads file as `vorgang audit heads` writes it (with its header comment).
pub fn parse(text: &str) -> Result<Published, HeadsFileError> {
    let mut published = Published::default();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let error = |message: &str| HeadsFileError {
            line: line_no,
            message: message.to_string(),
        };
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.splitn(4, '\t').collect();
        let [case_id, seq, hash, aktenzeichen] = fields.as_slice() else {
            return Err(error(
                "erwartet vier durch Tabulatoren getrennte Felder: Vorgang, Eintrag, Hash, Aktenzeichen",
            ));
        };
        let seq: i64 = seq
            .parse()
            .ok()
            .filter(|&seq| seq >= 1)
            .ok_or_else(|| error("die Eintragsnummer ist keine ganze Zahl ab 1"))?;
        if hash.len() != 64
            || !hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(error("der Hash hat nicht 64 Hexadezimalziffern (0–9, a–f)"));
        }
        let hash = (*hash).to_string();
        if *case_id == RECORD_KEY {
            if published.record.is_some() {
                return Err(error("das Verwaltungsprotokoll ist zweimal verzeichnet"));
            }
            published.record = Some(RecordHead { seq, hash });
            continue;
        }
        let case_id: i64 = case_id
            .parse()
            .map_err(|_| error("die Vorgangsnummer ist keine ganze Zahl"))?;
        let seq = i32::try_from(seq).map_err(|_| error("die Eintragsnummer ist zu groß"))?;
        published.journals.push(Head {
            case_id,
            seq,
            hash,
            aktenzeichen: (*aktenzeichen).to_string(),
        });
    }
    Ok(published)
}

/// Compares the published `heads` with the journals: one break per case whose listed entry is
/// gone or carries another hash, ordered by case id.
///
/// A case deleted after its retention period (`service::retention`) has no journal any more; its
/// record keeps the newest entry's number and hash. A published head up to that entry is
/// accounted for (the same entry must have the same hash); a later one is missing.
pub fn check(conn: &mut DbConnection, heads: &[Head]) -> Result<Vec<ChainBreak>, DbError> {
    let mut breaks = Vec::new();
    for batch in heads.chunks(usize::try_from(BATCH).unwrap_or(500)) {
        let ids: Vec<i64> = batch.iter().map(|head| head.case_id).collect();
        let aktenzeichen: HashMap<i64, String> = cases::table
            .filter(cases::id.eq_any(&ids))
            .select((cases::id, cases::aktenzeichen))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .collect();
        // Every entry of these cases with one of the listed numbers: a superset of the listed
        // entries (a journal has a few dozen), in one round trip per batch.
        let mut seqs: Vec<i32> = batch.iter().map(|head| head.seq).collect();
        seqs.sort_unstable();
        seqs.dedup();
        let stored: HashMap<(i64, i32), (i64, String)> = case_events::table
            .filter(case_events::case_id.eq_any(&ids))
            .filter(case_events::seq.eq_any(&seqs))
            .select((
                case_events::case_id,
                case_events::seq,
                case_events::id,
                case_events::hash,
            ))
            .load::<(i64, i32, i64, String)>(conn)?
            .into_iter()
            .map(|(case_id, seq, id, hash)| ((case_id, seq), (id, hash)))
            .collect();
        let disposed: HashMap<i64, (i32, String, String)> = disposed_cases::table
            .filter(disposed_cases::id.eq_any(&ids))
            .select((
                disposed_cases::id,
                disposed_cases::journal_seq,
                disposed_cases::journal_head,
                disposed_cases::aktenzeichen,
            ))
            .load::<(i64, i32, String, String)>(conn)?
            .into_iter()
            .map(|(id, seq, hash, aktenzeichen)| (id, (seq, hash, aktenzeichen)))
            .collect();
        for head in batch {
            let reason = match stored.get(&(head.case_id, head.seq)) {
                None => match disposed.get(&head.case_id) {
                    Some((seq, hash, _)) if *seq == head.seq && *hash != head.hash => Some((
                        None,
                        BreakReason::Diverged {
                            published: head.hash.clone(),
                        },
                    )),
                    Some((seq, ..)) if *seq >= head.seq => None,
                    _ => Some((None, BreakReason::PublishedMissing)),
                },
                Some((id, hash)) if *hash != head.hash => Some((
                    Some(*id),
                    BreakReason::Diverged {
                        published: head.hash.clone(),
                    },
                )),
                Some(_) => None,
            };
            if let Some((event_id, reason)) = reason {
                breaks.push(ChainBreak {
                    case_id: head.case_id,
                    aktenzeichen: aktenzeichen
                        .get(&head.case_id)
                        .cloned()
                        .or_else(|| disposed.get(&head.case_id).map(|(_, _, az)| az.clone())),
                    seq: head.seq,
                    event_id,
                    reason,
                });
            }
        }
    }
    breaks.sort_by_key(|b| (b.case_id, b.seq));
    breaks.dedup_by_key(|b| b.case_id);
    Ok(breaks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(case_id: i64, seq: i32) -> Head {
        Head {
            case_id,
            seq,
            hash: "ab".repeat(32),
            aktenzeichen: format!("KI-05154-2026-{case_id:04}"),
        }
    }

    #[test]
    fn a_written_line_reads_back() {
        let heads = vec![head(1, 3), head(17, 1)];
        let record = RecordHead {
            seq: 12,
            hash: "cd".repeat(32),
        };
        let text: String = std::iter::once("# Kommentar\n".to_string())
            .chain(heads.iter().map(|h| format!("{h}\n")))
            .chain(std::iter::once(format!("{record}\n")))
            .collect();
        let expected = Published {
            journals: heads.clone(),
            record: Some(record),
        };
        assert_eq!(parse(&text).unwrap(), expected);
        // Windows line ends and blank lines are tolerated.
        assert_eq!(parse(&text.replace('\n', "\r\n\r\n")).unwrap(), expected);
        // Files from before the record was chained have no line for it.
        let old: String = heads.iter().map(|h| format!("{h}\n")).collect();
        assert_eq!(
            parse(&old).unwrap(),
            Published {
                journals: heads,
                record: None,
            }
        );
    }

    #[test]
    fn malformed_lines_are_named() {
        let good = head(1, 3).to_string();
        let cases = [
            ("1\t3\tabc", 1, "vier"),
            (&*good.replacen('1', "x", 1), 1, "Vorgangsnummer"),
            (&*good.replacen("\t3\t", "\t0\t", 1), 1, "Eintragsnummer"),
            (
                &*good.replace(&"ab".repeat(32), &"AB".repeat(32)),
                1,
                "64 Hexadezimalziffern",
            ),
            (
                &*format!("{good}\n1\t2\tzz\tKI"),
                2,
                "64 Hexadezimalziffern",
            ),
            (
                &*format!(
                    "verwaltung\t1\t{h}\tV\nverwaltung\t2\t{h}\tV",
                    h = "ab".repeat(32)
                ),
                2,
                "zweimal",
            ),
        ];
        for (text, line, needle) in cases {
            let error = parse(text).unwrap_err();
            assert_eq!(error.line, line, "{text}: {error}");
            assert!(error.to_string().contains(needle), "{text}: {error}");
        }
    }
}
