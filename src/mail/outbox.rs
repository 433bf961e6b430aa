//! The `outbox` table as the delivery side sees it: claim due rows, record each outcome, list and
//! retry for the admin API.
//!
//! A claimed row has `status = 'sending'` and a lease (`lease_until`). The lease doubles as the
//! claim's token: every outcome is written with `WHERE status = 'sending' AND lease_until =
//! <the lease we set>`, so a worker whose lease expired (and whose row was claimed again by
//! another) cannot overwrite the newer claim's outcome. Rows left in `sending` by a crashed
//! process become due again once their lease has expired.

use std::time::Duration;

use chrono::{NaiveDateTime, SubsecRound, TimeDelta};
use diesel::prelude::*;

use crate::db::models::CaseId;
use crate::db::schema::outbox;
use crate::db::{DbConnection, DbError, execute_reused, reused, write_alone, write_transaction};

/// Longest delay between two attempts, whatever the base and the attempt count.
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// The life cycle of an outbox row (the `status` column's CHECK constraint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxStatus {
    /// Waiting for its next attempt (`next_attempt_at`).
    Pending,
    /// Claimed by a worker until `lease_until`.
    Sending,
    /// Accepted by the transport.
    Sent,
    /// Refused permanently or out of attempts; waits for an admin's retry.
    Failed,
}

impl OutboxStatus {
    /// The value stored in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
        }
    }

    /// Parses a stored or requested status; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(OutboxStatus::Pending),
            "sending" => Some(OutboxStatus::Sending),
            "sent" => Some(OutboxStatus::Sent),
            "failed" => Some(OutboxStatus::Failed),
            _ => None,
        }
    }
}

/// A row of `outbox`, as written by the command that queued the mail.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: i64,
    /// `<uuid@domain>`, fixed when the row is written, so a resend carries the same id.
    pub message_id: String,
    pub case_id: Option<CaseId>,
    pub template: String,
    /// The logical recipients (JSON), as the command chose them.
    pub recipients: String,
    /// The template context (JSON).
    pub context: String,
    pub status: String,
    /// Attempts started so far (counted when a row is claimed).
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_until: Option<NaiveDateTime>,
    /// The last failure, with the server's answer where there was one.
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub invitation_id: Option<i64>,
    pub subject: String,
    /// `{"from", "to": [...], "text", "html"}`.
    pub rendered: String,
}

/// A row claimed for one attempt, with the lease that identifies the claim.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The row as it was claimed (`status = 'sending'`, `attempts` already counted).
    pub row: OutboxRow,
    /// The claim's token; every outcome must present it.
    pub lease: NaiveDateTime,
}

/// Why an admin's retry did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    /// No row has this id.
    #[error("Diese Mail gibt es nicht.")]
    NotFound,
    /// Only failed mails can be retried.
    #[error("Nur fehlgeschlagene Mails können erneut gesendet werden; diese ist „{0}“.")]
    NotFailed(String),
    /// The mail still has nobody to go to (the reason says who is missing).
    #[error("{0}")]
    NoAddress(String),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for RetryError {
    fn from(error: diesel::result::Error) -> Self {
        RetryError::Db(DbError::Query(error))
    }
}

/// Delay before the next attempt after `attempts` attempts have failed transiently:
/// `base × 2^(attempts − 1)` (the first retry waits `base`), at most [`MAX_BACKOFF`].
pub fn backoff(base: Duration, attempts: u32) -> Duration {
    let exponent = attempts.saturating_sub(1).min(31);
    base.checked_mul(1_u32 << exponent)
        .map_or(MAX_BACKOFF, |delay| delay.min(MAX_BACKOFF))
}

fn delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

/// Claims up to `limit` due rows for one attempt each: pending rows whose `next_attempt_at` has
/// come, and rows in `sending` whose lease has expired, oldest first. They become `sending` with
/// `lease_until = now + lease` and one more attempt counted.
///
/// PostgreSQL: one statement ([`CLAIM_POSTGRES`]), so a claim costs one round trip and no
/// transaction of its own; the candidates are locked `FOR UPDATE SKIP LOCKED`, so concurrent
/// claimers (threads or processes) take disjoint rows without waiting for each other. SQLite:
/// the same selection in a write transaction, whose `BEGIN IMMEDIATE` serialises claimers.
pub fn claim_due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease: Duration,
    limit: i64,
) -> Result<Vec<Claimed>, DbError> {
    // Stored and compared back as the claim token: both backends keep microseconds.
    let lease_until = (now + delta(lease)).trunc_subsecs(6);
    let mut rows: Vec<OutboxRow> = match conn {
        DbConnection::Pg(pg) => {
            use diesel::sql_types::{BigInt, Text, Timestamp};
            reused(
                diesel::sql_query(CLAIM_POSTGRES)
                    .bind::<Timestamp, _>(lease_until)
                    .bind::<Timestamp, _>(now)
                    .bind::<BigInt, _>(limit)
                    .bind::<Text, _>(OutboxStatus::Sending.as_str())
                    .bind::<Text, _>(OutboxStatus::Pending.as_str()),
            )
            .load(pg)?
        }
        DbConnection::Sqlite(_) => claim_in_transaction(conn, now, lease_until, limit)?,
    };
    rows.sort_by_key(|row| (row.next_attempt_at, row.id));
    Ok(rows
        .into_iter()
        .map(|row| Claimed {
            row,
            lease: lease_until,
        })
        .collect())
}

/// The claim on PostgreSQL: `$1` the new lease, `$2` now, `$3` the batch size, `$4`/`$5` the
/// statuses `sending` and `pending`. Each branch is an ordered range of the index
/// (status, next_attempt_at, id) that stops after `$3` rows: one condition with `OR` would read
/// and sort the whole backlog on every claim, which under load made claiming cost more than
/// queuing.
const CLAIM_POSTGRES: &str = "WITH \
     expired AS (SELECT id, next_attempt_at FROM outbox WHERE status = $4 AND lease_until < $2 \
                 ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED), \
     pending AS (SELECT id, next_attempt_at FROM outbox WHERE status = $5 AND next_attempt_at <= $2 \
                 ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED), \
     due AS (SELECT id FROM (SELECT * FROM expired UNION ALL SELECT * FROM pending) AS candidates \
             ORDER BY next_attempt_at, id LIMIT $3) \
     UPDATE outbox SET status = $4, lease_until = $1, attempts = attempts + 1 \
     WHERE id IN (SELECT id FROM due) \
     RETURNING *";

/// The claim on SQLite, as [`CLAIM_POSTGRES`] does it, in steps.
fn claim_in_transaction(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<OutboxRow>, DbError> {
    write_transaction(conn, |conn| {
        let range = |status: OutboxStatus| {
            outbox::table
                .select((outbox::id, outbox::next_attempt_at))
                .filter(outbox::status.eq(status.as_str()))
                .order((outbox::next_attempt_at, outbox::id))
                .limit(limit)
        };
        let mut due: Vec<(i64, NaiveDateTime)> = range(OutboxStatus::Sending)
            .filter(outbox::lease_until.lt(now))
            .load(conn)?;
        due.extend(
            range(OutboxStatus::Pending)
                .filter(outbox::next_attempt_at.le(now))
                .load::<(i64, NaiveDateTime)>(conn)?,
        );
        due.sort_by_key(|&(id, at)| (at, id));
        due.truncate(usize::try_from(limit).unwrap_or(0));
        let ids: Vec<i64> = due.into_iter().map(|(id, _)| id).collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
            .set((
                outbox::status.eq(OutboxStatus::Sending.as_str()),
                outbox::lease_until.eq(Some(lease_until)),
                outbox::attempts.eq(outbox::attempts + 1),
            ))
            .execute(conn)?;
        Ok(outbox::table
            .filter(outbox::id.eq_any(&ids))
            .select(OutboxRow::as_select())
            .load(conn)?)
    })
}

/// The filter that finds a row only while this claim still holds it.
macro_rules! held {
    ($claim:expr) => {
        outbox::table
            .filter(outbox::id.eq($claim.row.id))
            .filter(outbox::status.eq(OutboxStatus::Sending.as_str()))
            .filter(outbox::lease_until.eq(Some($claim.lease)))
    };
}

/// Records a successful send. False when the claim had been lost (lease expired and the row
/// claimed again), in which case nothing is written.
pub fn mark_sent(
    conn: &mut DbConnection,
    claim: &Claimed,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let updated = write_alone(conn, |conn| {
        let update = diesel::update(held!(claim)).set((
            outbox::status.eq(OutboxStatus::Sent.as_str()),
            outbox::sent_at.eq(Some(now)),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
        ));
        execute_reused!(conn, update)
    })?;
    Ok(updated == 1)
}

/// Records a transient failure: back to `pending` at `next_attempt_at` with the error.
pub fn reschedule(
    conn: &mut DbConnection,
    claim: &Claimed,
    error: &str,
    next_attempt_at: NaiveDateTime,
) -> Result<bool, DbError> {
    let updated = write_alone(conn, |conn| {
        diesel::update(held!(claim))
            .set((
                outbox::status.eq(OutboxStatus::Pending.as_str()),
                outbox::next_attempt_at.eq(next_attempt_at),
                outbox::lease_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(Some(error)),
            ))
            .execute(conn)
    })?;
    Ok(updated == 1)
}

/// Records a permanent failure (or the last allowed attempt): `failed` with the error.
pub fn mark_failed(conn: &mut DbConnection, claim: &Claimed, error: &str) -> Result<bool, DbError> {
    let updated = write_alone(conn, |conn| {
        diesel::update(held!(claim))
            .set((
                outbox::status.eq(OutboxStatus::Failed.as_str()),
                outbox::lease_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(Some(error)),
            ))
            .execute(conn)
    })?;
    Ok(updated == 1)
}

/// Gives a claimed row back untouched (the worker is stopping before it sent it): `pending`
/// again, the attempt not counted.
pub fn release(conn: &mut DbConnection, claim: &Claimed) -> Result<bool, DbError> {
    let updated = write_alone(conn, |conn| {
        diesel::update(held!(claim))
            .set((
                outbox::status.eq(OutboxStatus::Pending.as_str()),
                outbox::lease_until.eq(None::<NaiveDateTime>),
                outbox::attempts.eq(outbox::attempts - 1),
            ))
            .execute(conn)
    })?;
    Ok(updated == 1)
}

/// An admin's retry of a failed mail: `pending` now, with a fresh set of attempts. The last
/// error stays visible until the next attempt's outcome replaces it.
pub fn retry(
    conn: &mut DbConnection,
    id: i64,
    now: NaiveDateTime,
) -> Result<OutboxRow, RetryError> {
    write_transaction(conn, |conn| {
        let updated = diesel::update(
            outbox::table
                .filter(outbox::id.eq(id))
                .filter(outbox::status.eq(OutboxStatus::Failed.as_str())),
        )
        .set((
            outbox::status.eq(OutboxStatus::Pending.as_str()),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now),
            outbox::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
        let row = find(conn, id)?.ok_or(RetryError::NotFound)?;
        if updated == 0 {
            return Err(RetryError::NotFailed(row.status));
        }
        Ok(row)
    })
}

/// One row by id.
pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<OutboxRow>, DbError> {
    Ok(outbox::table
        .find(id)
        .select(OutboxRow::as_select())
        .first(conn)
        .optional()?)
}

/// A mail of a case that failed: what it was about, why, and since when.
#[derive(Debug, Clone, Queryable)]
pub struct FailedMail {
    /// The subject line (no personal data by design, so it may be shown to the case's readers).
    pub subject: String,
    /// Why it failed: no address, or the mail server's answer.
    pub last_error: Option<String>,
    /// When the command queued it.
    pub created_at: NaiveDateTime,
}

/// The failed mails of one case, oldest first, for the people working on it.
pub fn failed_of_case(conn: &mut DbConnection, case: CaseId) -> Result<Vec<FailedMail>, DbError> {
    Ok(outbox::table
        .filter(outbox::case_id.eq(case))
        .filter(outbox::status.eq(OutboxStatus::Failed.as_str()))
        .order(outbox::id)
        .select((outbox::subject, outbox::last_error, outbox::created_at))
        .load(conn)?)
}

/// How many rows have `status`, e.g. the failed mails an administrator should look at.
pub fn count(conn: &mut DbConnection, status: OutboxStatus) -> Result<i64, DbError> {
    Ok(outbox::table
        .filter(outbox::status.eq(status.as_str()))
        .count()
        .get_result(conn)?)
}

/// How [`list`] orders the mails: the newest first, or the failed ones (which wait for an
/// administrator) before all others, each the newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOrder {
    /// By id, descending.
    Newest,
    /// Failed mails first, then by id, descending.
    FailedFirst,
}

/// Which mails [`list`] shows.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only mails of this status.
    pub status: Option<OutboxStatus>,
    /// Only mails whose subject (it names the Aktenzeichen) or one of whose addresses contains
    /// this text, in any case. Not the text of the mail: administrators see a mail's envelope,
    /// not what a Stellungnahme or a Vermerk said.
    pub text: Option<String>,
}

/// The LIKE pattern, for `lower(rendered)`, of the mails with `needle` in one of their
/// addresses. `rendered` is the JSON `{"from":…,"to":[…],"text":…,"html":…}` with its keys in
/// this order (`service::mail` writes it so); quotes inside its strings are escaped, so `"to":[`
/// and `],"text":` stand there once each, around the addresses.
fn addressed_pattern(needle: &str) -> String {
    format!(
        "%\"to\":[%{}%],\"text\":%",
        crate::db::text_search::escape_like(&needle.to_lowercase())
    )
}

/// One page of rows in `order` that pass `filter`, and the number of all that do.
pub fn list(
    conn: &mut DbConnection,
    filter: &ListFilter,
    order: ListOrder,
    page: i64,
    per_page: i64,
) -> Result<(Vec<OutboxRow>, i64), DbError> {
    use crate::db::text_search::{contains_pattern, lower};
    let text = filter
        .text
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|needle| (contains_pattern(needle), addressed_pattern(needle)));
    let filtered = || {
        let mut query = outbox::table.into_boxed();
        if let Some(status) = filter.status {
            query = query.filter(outbox::status.eq(status.as_str()));
        }
        if let Some((in_subject, in_addresses)) = &text {
            query = query.filter(
                lower(outbox::subject)
                    .like(in_subject.clone())
                    .escape('\\')
                    .or(lower(outbox::rendered)
                        .like(in_addresses.clone())
                        .escape('\\')),
            );
        }
        query
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let rows = match order {
        ListOrder::Newest => filtered().order(outbox::id.desc()),
        ListOrder::FailedFirst => filtered().order((
            outbox::status.eq(OutboxStatus::Failed.as_str()).desc(),
            outbox::id.desc(),
        )),
    };
    let rows = rows
        .limit(per_page)
        .offset((page - 1).saturating_mul(per_page))
        .select(OutboxRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_and_is_capped_at_an_hour() {
        let base = Duration::from_secs(60);
        assert_eq!(backoff(base, 1), Duration::from_secs(60));
        assert_eq!(backoff(base, 2), Duration::from_secs(120));
        assert_eq!(backoff(base, 4), Duration::from_secs(480));
        assert_eq!(backoff(base, 7), MAX_BACKOFF);
        assert_eq!(backoff(base, 500), MAX_BACKOFF);
        assert_eq!(backoff(Duration::from_secs(1), 0), Duration::from_secs(1));
    }

    #[test]
    fn status_round_trips() {
        for status in [
            OutboxStatus::Pending,
            OutboxStatus::Sending,
            OutboxStatus::Sent,
            OutboxStatus::Failed,
        ] {
            assert_eq!(OutboxStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(OutboxStatus::parse("lost"), None);
    }
}
