//! The tamper-evident case journal: every change to a case is appended to `case_events`, and each
//! entry carries the SHA-256 of its predecessor in the same case, so altering, removing or
//! reordering an entry breaks the chain and `vorgang audit verify` names the first broken entry.
//! The case row records how many entries its journal has (`cases.journal_seq`, set in the same
//! transaction as every append), so a journal cut short at its end shows as well. Heads kept
//! outside the database ([`heads`]) reveal a journal rewritten with recomputed hashes.
//!
//! Entries are only ever inserted; nothing in vorgang updates or deletes them. How the hash is
//! computed is defined once, in [`hash`].

pub mod cli;
pub mod hash;
pub mod heads;
mod verify;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{case_events, cases};
use crate::db::{DbConnection, DbError, Deferred, defer_insert, in_transaction, insert_rows};

pub use self::hash::GENESIS_HASH;
pub use self::verify::{BreakReason, ChainBreak, VerifyReport, verify, verify_all};

/// One event to be appended; the journal assigns its sequence number and hashes.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// When it happened, in UTC; truncated to microseconds when stored.
    pub at: NaiveDateTime,
    /// Who did it: a user's e-mail address, `system`, a partner mailbox, …
    pub actor: String,
    /// What happened, a dotted name such as `case.created` or `task.completed`.
    pub kind: String,
    /// Details; stored as canonical JSON text.
    pub payload: serde_json::Value,
}

/// A stored journal entry as the API shows it (the row id and case id are not serialised).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalEntry {
    /// Primary key of the `case_events` row.
    #[serde(skip)]
    pub id: i64,
    /// The case this entry belongs to.
    #[serde(skip)]
    pub case_id: i64,
    /// 1, 2, 3, … per case, without gaps.
    pub seq: i32,
    /// UTC, whole microseconds; serialised as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    #[serde(serialize_with = "serialize_at")]
    pub at: NaiveDateTime,
    /// Who did it (see [`NewEvent::actor`]).
    pub actor: String,
    /// What happened (see [`NewEvent::kind`]).
    pub kind: String,
    /// Details, parsed from the stored canonical JSON.
    pub payload: serde_json::Value,
    /// Hash of the previous entry of the case (64 zeros for the first).
    pub prev_hash: String,
    /// SHA-256 of this entry, see [`hash`].
    pub hash: String,
}

fn serialize_at<S: serde::Serializer>(at: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hash::format_at(*at))
}

/// A row of `case_events` exactly as stored (payload still text); shared with the verifier.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = case_events)]
pub(crate) struct EventRow {
    pub id: i64,
    pub case_id: i64,
    pub seq: i32,
    pub at: NaiveDateTime,
    pub actor: String,
    pub kind: String,
    pub payload: String,
    pub prev_hash: String,
    pub hash: String,
}

impl EventRow {
    /// The hash this row should carry, recomputed from its stored fields.
    pub(crate) fn recomputed_hash(&self) -> String {
        hash::entry_hash(&hash::HashInput {
            case_id: self.case_id,
            seq: self.seq,
            at: self.at,
            actor: &self.actor,
            kind: &self.kind,
            payload: &self.payload,
            prev_hash: &self.prev_hash,
        })
    }

    fn into_entry(self) -> Result<JournalEntry, DbError> {
        let payload = serde_json::from_str(&self.payload).map_err(|e| {
            DbError::Query(diesel::result::Error::DeserializationError(
                format!(
                    "Journaleintrag {} (Vorgang {}, Nr. {}): Nutzdaten sind kein gültiges JSON: {e}",
                    self.id, self.case_id, self.seq
                )
                .into(),
            ))
        })?;
        Ok(JournalEntry {
            id: self.id,
            case_id: self.case_id,
            seq: self.seq,
            at: self.at,
            actor: self.actor,
            kind: self.kind,
            payload,
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = case_events)]
struct EventInsert {
    case_id: i64,
    seq: i32,
    at: NaiveDateTime,
    actor: String,
    kind: String,
    payload: String,
    prev_hash: String,
    hash: String,
}

/// The newest entry of a case's journal: what the next entry chains onto.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// Its sequence number (0 for an empty journal).
    pub seq: i32,
    /// Its hash ([`GENESIS_HASH`] for an empty journal).
    pub hash: String,
}

impl ChainHead {
    /// The head of an empty journal, which a new case starts from.
    pub fn genesis() -> Self {
        Self {
            seq: 0,
            hash: GENESIS_HASH.to_string(),
        }
    }

    /// The head given the newest entry's sequence number and hash, if the journal has one.
    pub fn from_newest(newest: Option<(i32, String)>) -> Self {
        newest.map_or_else(Self::genesis, |(seq, hash)| Self { seq, hash })
    }
}

/// Appends `events` to the journal of case `case_id`, in order, and returns the stored entries.
///
/// Must be called inside the caller's [`crate::db::write_transaction`], together with the change
/// the events describe, so both commit or neither does; it opens no transaction of its own and
/// returns [`diesel::result::Error::NotInTransaction`] when there is none. A missing case is
/// [`diesel::result::Error::NotFound`].
///
/// Concurrent appends to one case cannot fork the chain or duplicate a sequence number:
/// - PostgreSQL: the case row is locked (`SELECT … FOR UPDATE`) before the last entry is read, so
///   a second appender waits until the first transaction ends and then sees its entries.
/// - SQLite: `write_transaction` starts with `BEGIN IMMEDIATE`, which takes the database's write
///   lock before anything is read, so writers are serialised as a whole.
///
/// `UNIQUE (case_id, seq)` is the backstop should a caller break these rules.
pub fn append(
    conn: &mut DbConnection,
    case_id: i64,
    events: &[NewEvent],
) -> Result<Vec<JournalEntry>, DbError> {
    if !in_transaction(conn) {
        return Err(diesel::result::Error::NotInTransaction.into());
    }
    if events.is_empty() {
        return Ok(Vec::new());
    }
    lock_case(conn, case_id)?;
    let last_seq = insert_chained(conn, case_id, events)?;
    let newest = newest_after(case_id, last_seq, events.len())?;
    diesel::update(cases::table.find(case_id))
        .set(cases::journal_seq.eq(newest))
        .execute(conn)?;
    case_events::table
        .filter(case_events::case_id.eq(case_id))
        .filter(case_events::seq.gt(last_seq))
        .order(case_events::seq)
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(EventRow::into_entry)
        .collect()
}

/// The sequence number of the newest entry once `count` entries follow `seq` (what
/// `cases.journal_seq` must then say).
pub fn newest_after(case_id: i64, seq: i32, count: usize) -> Result<i32, DbError> {
    i32::try_from(count)
        .ok()
        .and_then(|count| seq.checked_add(count))
        .ok_or_else(|| exhausted(case_id))
}

fn exhausted(case_id: i64) -> DbError {
    DbError::Query(diesel::result::Error::QueryBuilderError(
        format!("Journal von Vorgang {case_id}: Nummernbereich erschöpft").into(),
    ))
}

/// Records on the case row how many entries its journal has (`cases.journal_seq`), for a caller
/// of [`append_after`] that does not update the case row anyway: deferred with the entries on
/// PostgreSQL, at once on SQLite.
pub fn anchor(
    conn: &mut DbConnection,
    deferred: &mut Deferred,
    case_id: i64,
    newest: i32,
) -> Result<(), DbError> {
    let update = diesel::update(cases::table.find(case_id)).set(cases::journal_seq.eq(newest));
    match conn {
        DbConnection::Pg(_) => deferred.push(update),
        DbConnection::Sqlite(sqlite) => {
            update.execute(sqlite)?;
        }
    }
    Ok(())
}

/// Appends `events` after `head`, for a caller that holds the case: it has locked the case row
/// in this transaction (`SELECT … FOR UPDATE` on PostgreSQL; on SQLite the `BEGIN IMMEDIATE` of
/// [`crate::db::write_transaction`]) and read the head with it, or inserted the case in it (the
/// head is then [`ChainHead::genesis`]). On PostgreSQL a caller may instead have read the head
/// with the case's version, unlocked, and guard its one statement of writes by that version
/// (`db::deferred`): the statement then fails as a whole if the case changed.
///
/// The case commands run on every API request that changes a case; this variant spares them the
/// second lock, reading the head and reading the entries back. On PostgreSQL the one multi-row
/// insert joins the command's other writes in `deferred`. A missing case fails on the foreign key;
/// `UNIQUE (case_id, seq)` remains the backstop should the head be taken meanwhile
/// ([`is_head_taken`]).
///
/// The caller also records the new newest sequence number ([`newest_after`]) on the case row,
/// in the same transaction: in its own update or insert of the case, or with [`anchor`].
pub fn append_after(
    conn: &mut DbConnection,
    deferred: &mut Deferred,
    case_id: i64,
    events: &[NewEvent],
    head: ChainHead,
) -> Result<(), DbError> {
    // On SQLite the insert runs at once; only the transaction's lock makes the head current.
    if matches!(conn, DbConnection::Sqlite(_)) && !in_transaction(conn) {
        return Err(diesel::result::Error::NotInTransaction.into());
    }
    if events.is_empty() {
        return Ok(());
    }
    let rows = rows_after(case_id, events, head)?;
    defer_insert!(conn, deferred, case_events::table, rows)
}

/// Whether `error` says that an entry after the head a command read was written meanwhile (by a
/// writer that did not change the case's version), so the head is no longer the newest.
pub fn is_head_taken(error: &DbError) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    matches!(
        error,
        DbError::Query(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info))
            if info.table_name() == Some("case_events")
                || info.constraint_name() == Some("case_events_case_id_seq_key")
    )
}

/// Reads the chain head of the case and inserts `events` after it in one statement; returns the
/// sequence number the head had (0 for an empty journal). The caller holds the case.
fn insert_chained(
    conn: &mut DbConnection,
    case_id: i64,
    events: &[NewEvent],
) -> Result<i32, DbError> {
    let last: Option<(i32, String)> = case_events::table
        .filter(case_events::case_id.eq(case_id))
        .order(case_events::seq.desc())
        .select((case_events::seq, case_events::hash))
        .first(conn)
        .optional()?;
    let head = ChainHead::from_newest(last);
    let last_seq = head.seq;
    let rows = rows_after(case_id, events, head)?;
    insert_rows!(conn, case_events::table, rows)?;
    Ok(last_seq)
}

/// The rows of `events` chained after `head`: numbered on from its sequence number, each
/// carrying the hash of its predecessor.
fn rows_after(
    case_id: i64,
    events: &[NewEvent],
    head: ChainHead,
) -> Result<Vec<EventInsert>, DbError> {
    let ChainHead {
        mut seq,
        hash: mut prev_hash,
    } = head;
    let mut rows = Vec::with_capacity(events.len());
    for event in events {
        seq = seq.checked_add(1).ok_or_else(|| exhausted(case_id))?;
        let at = hash::truncate_at(event.at);
        let payload = hash::canonical_json(&event.payload);
        let hash = hash::entry_hash(&hash::HashInput {
            case_id,
            seq,
            at,
            actor: &event.actor,
            kind: &event.kind,
            payload: &payload,
            prev_hash: &prev_hash,
        });
        let entry_prev = std::mem::replace(&mut prev_hash, hash.clone());
        rows.push(EventInsert {
            case_id,
            seq,
            at,
            actor: event.actor.clone(),
            kind: event.kind.clone(),
            payload,
            prev_hash: entry_prev,
            hash,
        });
    }
    Ok(rows)
}

/// Makes sure the case exists; on PostgreSQL also locks its row until the transaction ends.
fn lock_case(conn: &mut DbConnection, case_id: i64) -> Result<(), DbError> {
    let query = cases::table.find(case_id).select(cases::id);
    match conn {
        DbConnection::Pg(pg) => query.for_update().first::<i64>(pg)?,
        DbConnection::Sqlite(sqlite) => query.first::<i64>(sqlite)?,
    };
    Ok(())
}

/// The whole journal of a case, oldest first; what the case history view shows.
pub fn list(conn: &mut DbConnection, case_id: i64) -> Result<Vec<JournalEntry>, DbError> {
    case_events::table
        .filter(case_events::case_id.eq(case_id))
        .order(case_events::seq)
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(EventRow::into_entry)
        .collect()
}
