//! Firing due timers: claim a batch under a lease, fire each through the service layer in its
//! own transaction, and record what went wrong.
//!
//! A timer is due at the start of its day in Germany. Claiming sets `lease_owner` and
//! `lease_until`; on PostgreSQL the claim skips rows another process holds (`FOR UPDATE SKIP
//! LOCKED`), and a claim whose process died expires with its lease. Firing twice is harmless:
//! the command locks the case, and the engine refuses a timer it no longer has, which marks the
//! row as done.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text, Timestamp};

use crate::db::models::CaseId;
use crate::db::schema::timers;
use crate::db::{DbConnection, write_alone, write_transaction};
use crate::engine::{Clock, EngineError, LocalId, TimerKind};
use crate::service::ServiceError;
use crate::service::cases::{self, CaseContext};

/// A claimed timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct ClaimedTimer {
    /// `timers.id`.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub case_id: i64,
    #[diesel(sql_type = BigInt)]
    pub local_id: i64,
}

/// The claim statement for `conn`'s backend. Binds, in order: owner, lease end, kind, today,
/// now, limit. Public so the timer benchmark can show the plan of exactly this statement.
///
/// The inner select walks the partial index `timers_scheduled_due` (`(kind, due, id) WHERE
/// status = 'scheduled'`) in its order and stops after `limit` rows: when nothing is due it
/// reads one index entry, whatever the number of pending or past timers.
pub fn claim_statement(conn: &DbConnection) -> String {
    // SQLite has one writer at a time (BEGIN IMMEDIATE); PostgreSQL skips rows other
    // processes are claiming right now.
    let (p, skip_locked) = match conn {
        DbConnection::Pg(_) => (
            ["$1", "$2", "$3", "$4", "$5", "$6"],
            "FOR UPDATE SKIP LOCKED",
        ),
        DbConnection::Sqlite(_) => (["?", "?", "?", "?", "?", "?"], ""),
    };
    format!(
        "UPDATE timers SET lease_owner = {}, lease_until = {}, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM timers WHERE status = 'scheduled' AND kind = {} \
         AND due <= {} AND (lease_until IS NULL OR lease_until < {}) \
         ORDER BY kind, due, id LIMIT {} {skip_locked}) \
         RETURNING id, case_id, local_id",
        p[0], p[1], p[2], p[3], p[4], p[5]
    )
}

/// Claims up to `limit` timers of `kind` due by `clock.today` for `owner` until `now + lease`.
pub fn claim_due(
    conn: &mut DbConnection,
    owner: &str,
    kind: TimerKind,
    clock: &Clock,
    limit: i64,
    lease: TimeDelta,
) -> Result<Vec<ClaimedTimer>, ServiceError> {
    let now = clock.now.naive_utc();
    let sql = claim_statement(conn);
    write_transaction(conn, |conn| {
        Ok(diesel::sql_query(&sql)
            .bind::<Text, _>(owner)
            .bind::<Timestamp, _>(now + lease)
            .bind::<Text, _>(kind.as_str())
            .bind::<Date, _>(clock.today)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .load::<ClaimedTimer>(conn)?)
    })
}

/// What happened to one claimed timer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fired {
    /// The engine processed it (the row is `fired`).
    Fired,
    /// The case no longer has it (fired before, or its step was left); the row is closed.
    Stale,
    /// It failed; the error is recorded and the timer is tried again after its lease.
    Failed(String),
}

/// Fires one claimed timer in its own transaction.
pub fn fire(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    timer: ClaimedTimer,
    clock: &Clock,
) -> Result<Fired, ServiceError> {
    match cases::fire_timer(
        conn,
        ctx,
        CaseId(timer.case_id),
        LocalId(timer.local_id as u64),
        clock,
    ) {
        Ok(_) => Ok(Fired::Fired),
        Err(ServiceError::Engine(EngineError::UnknownTimer(_) | EngineError::NotRunning)) => {
            write_alone(conn, |conn| {
                diesel::update(timers::table.find(timer.id))
                    .filter(timers::status.eq("scheduled"))
                    .set((
                        timers::status.eq("cancelled"),
                        timers::last_error.eq("Der Vorgang kennt diesen Timer nicht mehr."),
                    ))
                    .execute(conn)
            })?;
            Ok(Fired::Stale)
        }
        Err(error) => {
            let message = error.to_string();
            write_alone(conn, |conn| {
                diesel::update(timers::table.find(timer.id))
                    .set(timers::last_error.eq(&message))
                    .execute(conn)
            })?;
            Ok(Fired::Failed(message))
        }
    }
}

/// Releases the lease of a timer this process claimed but did not fire (shutting down).
pub fn release(conn: &mut DbConnection, timer: ClaimedTimer) -> Result<(), ServiceError> {
    write_alone(conn, |conn| {
        diesel::update(timers::table.find(timer.id))
            .filter(timers::status.eq("scheduled"))
            .set((
                timers::lease_owner.eq(None::<String>),
                timers::lease_until.eq(None::<NaiveDateTime>),
                timers::attempts.eq(timers::attempts - 1),
            ))
            .execute(conn)
    })?;
    Ok(())
}

/// Counts of one polling round.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimerRound {
    pub fired: usize,
    pub stale: usize,
    pub failed: usize,
}

/// Claims and fires every timer of `kind` due at `clock`, batch by batch, until none is due.
pub fn run_due(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    owner: &str,
    kind: TimerKind,
    clock: &Clock,
    lease: TimeDelta,
    stop: &dyn Fn() -> bool,
) -> Result<TimerRound, ServiceError> {
    let mut round = TimerRound::default();
    loop {
        let claimed = claim_due(conn, owner, kind, clock, 32, lease)?;
        if claimed.is_empty() {
            return Ok(round);
        }
        let mut failed_in_batch = 0;
        for (index, timer) in claimed.iter().enumerate() {
            if stop() {
                for rest in &claimed[index..] {
                    release(conn, *rest)?;
                }
                return Ok(round);
            }
            match fire(conn, ctx, *timer, clock)? {
                Fired::Fired => round.fired += 1,
                Fired::Stale => round.stale += 1,
                Fired::Failed(message) => {
                    tracing::warn!(timer = timer.id, case = timer.case_id, error = %message, "timer failed; retried after its lease");
                    round.failed += 1;
                    failed_in_batch += 1;
                }
            }
        }
        // Failed timers keep their lease, so they are not claimed again in this round.
        if failed_in_batch == claimed.len() {
            return Ok(round);
        }
    }
}
