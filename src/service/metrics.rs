//! What an operator's monitoring needs to know about a running installation, read from the
//! database at each scrape (so every instance on one database reports the same): cases by
//! procedure and status, the mail outbox and the age of its oldest unsent mail, timers that are
//! due, each periodic job's last run, and the accounts and addresses under a failed-login
//! limit. The text format is written by `web::metrics`.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::dsl::{count_star, max, min};
use diesel::prelude::*;

use super::ServiceError;
use crate::auth::LoginLimiter;
use crate::auth::limiter::KeyTally;
use crate::db::DbConnection;
use crate::db::schema::{cases, job_runs, outbox, timers};
use crate::scheduler::jobs::JobName;

/// The outbox's statuses, always reported (a status without mails as 0).
pub const OUTBOX_STATUSES: [&str; 4] = ["pending", "sending", "sent", "failed"];

/// One periodic job's latest finished run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobState {
    pub job: String,
    /// When the latest run that succeeded finished.
    pub last_success: Option<NaiveDateTime>,
    /// Whether the latest finished run failed.
    pub last_failed: bool,
}

/// The figures of one scrape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// (workflow, status) → cases.
    pub cases: BTreeMap<(String, String), i64>,
    /// Status → mails, for every status of [`OUTBOX_STATUSES`].
    pub outbox: BTreeMap<String, i64>,
    /// When the oldest mail not yet sent (pending or sending) was queued.
    pub oldest_unsent: Option<NaiveDateTime>,
    /// Kind (`flow`, `reminder`) → scheduled timers due on or before today.
    pub timers_due: BTreeMap<String, i64>,
    /// Every periodic job of [`JobName::ALL`], in that order.
    pub jobs: Vec<JobState>,
    /// Accounts and addresses under each limit the server applies.
    pub login_limits: Vec<KeyTally>,
}

/// Reads the figures at `now`; `today` is the authority's calendar day, `limiters` the limits
/// the server applies (logins, reset links).
pub fn snapshot(
    conn: &mut DbConnection,
    today: NaiveDate,
    now: DateTime<Utc>,
    limiters: &[LoginLimiter],
) -> Result<Snapshot, ServiceError> {
    let cases = cases::table
        .group_by((cases::workflow_key, cases::status))
        .select((cases::workflow_key, cases::status, count_star()))
        .load::<(String, String, i64)>(conn)?
        .into_iter()
        .map(|(workflow, status, count)| ((workflow, status), count))
        .collect();
    let mut outbox_counts: BTreeMap<String, i64> = OUTBOX_STATUSES
        .iter()
        .map(|status| (status.to_string(), 0))
        .collect();
    for (status, count) in outbox::table
        .group_by(outbox::status)
        .select((outbox::status, count_star()))
        .load::<(String, i64)>(conn)?
    {
        outbox_counts.insert(status, count);
    }
    let oldest_unsent = outbox::table
        .filter(outbox::status.eq_any(["pending", "sending"]))
        .select(min(outbox::created_at))
        .first::<Option<NaiveDateTime>>(conn)?;
    let mut timers_due: BTreeMap<String, i64> = ["flow", "reminder"]
        .iter()
        .map(|kind| (kind.to_string(), 0))
        .collect();
    for (kind, count) in timers::table
        .filter(timers::status.eq("scheduled"))
        .filter(timers::due.le(today))
        .group_by(timers::kind)
        .select((timers::kind, count_star()))
        .load::<(String, i64)>(conn)?
    {
        timers_due.insert(kind, count);
    }
    let successes: BTreeMap<String, Option<NaiveDateTime>> = job_runs::table
        .filter(job_runs::outcome.eq("ok"))
        .group_by(job_runs::job)
        .select((job_runs::job, max(job_runs::finished_at)))
        .load::<(String, Option<NaiveDateTime>)>(conn)?
        .into_iter()
        .collect();
    let mut jobs = Vec::with_capacity(JobName::ALL.len());
    // Every job, also one that never ran (a monitor then sees 0 as its last success).
    for job in JobName::ALL.map(|job| job.as_str().to_string()) {
        let latest: Option<String> = job_runs::table
            .filter(job_runs::job.eq(&job))
            .filter(job_runs::finished_at.is_not_null())
            .order((job_runs::finished_at.desc(), job_runs::id.desc()))
            .select(job_runs::outcome)
            .first(conn)
            .optional()?;
        jobs.push(JobState {
            last_success: successes.get(&job).copied().flatten(),
            last_failed: latest.as_deref() == Some("failed"),
            job,
        });
    }
    let mut login_limits = Vec::with_capacity(2 * limiters.len());
    for limiter in limiters {
        login_limits.extend(limiter.tally(conn, now)?);
    }
    Ok(Snapshot {
        cases,
        outbox: outbox_counts,
        oldest_unsent,
        timers_due,
        jobs,
        login_limits,
    })
}
