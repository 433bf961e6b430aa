//! Periodic jobs: what runs on a cron schedule, when it runs next, and the record of each run.
//!
//! Schedules are cron expressions (seconds first) read as wall-clock time in Germany, so
//! "07:00 on working days" stays 07:00 across the change to and from summer time.
//! Each run is a row of `job_runs`; its `UNIQUE (job, scheduled_for)` is the run lock: with
//! several instances on one database, each scheduled run happens once, in the instance whose
//! insert succeeds. Runs missed while no instance was up are not caught up; the next one is.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::schema::{job_runs, outbox, partner_links};
use crate::db::{DbConnection, write_alone, write_transaction};
use crate::service::ServiceError;
use crate::service::cases::CaseContext;

/// The time zone schedules are read in: the authority's.
pub const ZONE: Tz = chrono_tz::Europe::Berlin;

/// The periodic jobs there are; any other name in the configuration is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobName {
    /// Sends the reminder mails that are due, the mails about due Wiedervorlagen and those
    /// about periods of time windows that end soon.
    Reminders,
    /// Mails each coordinating office its deadlines of the next 14 days.
    Digest,
    /// Deletes data that is no longer needed.
    Housekeeping,
    /// Backs up the installation into `backup_dir` (only when that is set).
    Backup,
}

impl JobName {
    /// Every job, in the order they are listed.
    pub const ALL: [JobName; 4] = [
        JobName::Reminders,
        JobName::Digest,
        JobName::Housekeeping,
        JobName::Backup,
    ];

    /// The name used in configuration, on the command line and in `job_runs.job`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobName::Reminders => "reminders",
            JobName::Digest => "digest",
            JobName::Housekeeping => "housekeeping",
            JobName::Backup => "backup",
        }
    }

    /// The job called `name`, if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|job| job.as_str() == name)
    }

    /// The built-in schedule: reminders on working days at 07:00 (before office hours), the
    /// digest on Mondays at 07:00, the backup and housekeeping at night when nobody works.
    pub fn default_schedule(self) -> &'static str {
        match self {
            JobName::Reminders => "0 0 7 * * MON-FRI",
            JobName::Digest => "0 0 7 * * MON",
            JobName::Housekeeping => "0 30 3 * * *",
            JobName::Backup => "0 0 2 * * *",
        }
    }

    /// The known names, for error messages.
    pub fn known() -> String {
        Self::ALL.map(JobName::as_str).join(", ")
    }
}

impl fmt::Display for JobName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated cron schedule together with the text it was written as.
#[derive(Debug, Clone)]
pub struct Schedule {
    expression: String,
    parsed: cron::Schedule,
}

impl Schedule {
    /// Parses a cron expression with 6 or 7 fields (seconds first); the error is one German line.
    pub fn parse(expression: &str) -> Result<Self, String> {
        let trimmed = expression.trim();
        let fields = trimmed.split_whitespace().count();
        if !(6..=7).contains(&fields) {
            return Err(format!(
                "„{expression}“ hat {fields} Felder; erwartet sind 6 oder 7 (Sekunde zuerst), \
                 z. B. „0 0 7 * * MON-FRI“"
            ));
        }
        let parsed = cron::Schedule::from_str(trimmed).map_err(|e| {
            format!(
                "„{expression}“ ist kein gültiger Cron-Ausdruck ({}); erwartet sind 6 oder 7 \
                 Felder (Sekunde zuerst), z. B. „0 0 7 * * MON-FRI“",
                e.to_string().replace('\n', " ")
            )
        })?;
        if parsed.upcoming(ZONE).next().is_none() {
            return Err(format!("„{expression}“ liegt nie in der Zukunft"));
        }
        Ok(Self {
            expression: trimmed.to_string(),
            parsed,
        })
    }

    /// The expression as configured.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The first scheduled time strictly after `after`, in German wall-clock time.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Tz>> {
        self.parsed.after(&after.with_timezone(&ZONE)).next()
    }
}

/// One job's settings (`[jobs.<name>]`).
#[derive(Debug, Clone)]
pub struct JobSettings {
    pub name: JobName,
    pub schedule: Schedule,
    /// `enabled = false` keeps the scheduler from running it; `vorgang jobs run` still can.
    pub enabled: bool,
}

/// The settings of all jobs.
#[derive(Debug, Clone)]
pub struct Jobs {
    /// One entry per [`JobName::ALL`], in that order.
    pub jobs: Vec<JobSettings>,
    /// Sent mails older than this many days are deleted by `housekeeping`.
    pub outbox_retention_days: u32,
    /// What the `backup` job backs up and where; `None` when `backup_dir` is not set.
    pub backup: Option<BackupPlan>,
    /// The web sessions' lifetimes, by which `housekeeping` judges a session ended (the
    /// configured ones: with the defaults it would delete sessions a longer idle time keeps).
    pub sessions: crate::auth::session::SessionLifetimes,
}

/// Where the `backup` job writes, and how many of its backups it keeps.
#[derive(Debug, Clone)]
pub struct BackupPlan {
    /// `backup_dir`: one directory per run, `vorgang-YYYY-MM-DDTHH-MM` (German time).
    pub dir: std::path::PathBuf,
    /// `backup_keep`: complete backups kept; older ones are deleted after a complete run.
    pub keep: u32,
    /// `pg_dump` for PostgreSQL installations.
    pub pg_dump: std::path::PathBuf,
    /// What is backed up.
    pub installation: crate::backup::Installation,
}

/// Two weeks of nightly backups.
pub const DEFAULT_BACKUP_KEEP: u32 = 14;

/// Sent mails stay in the outbox for three months, long enough to answer "did the mail go out?".
pub const DEFAULT_OUTBOX_RETENTION_DAYS: u32 = 90;

impl Default for Jobs {
    fn default() -> Self {
        Self {
            jobs: JobName::ALL
                .into_iter()
                .map(|name| JobSettings {
                    name,
                    schedule: Schedule::parse(name.default_schedule())
                        .expect("the built-in schedules are valid"),
                    // The backup has no directory to write to by default.
                    enabled: name != JobName::Backup,
                })
                .collect(),
            outbox_retention_days: DEFAULT_OUTBOX_RETENTION_DAYS,
            backup: None,
            sessions: Default::default(),
        }
    }
}

impl Jobs {
    /// The settings of `name`.
    pub fn get(&self, name: JobName) -> Option<&JobSettings> {
        self.jobs.iter().find(|job| job.name == name)
    }
}

/// What a run counted, as recorded in `job_runs.counts`.
pub type Counts = serde_json::Map<String, serde_json::Value>;

/// Everything a job needs to run.
pub struct JobContext<'a> {
    pub case: CaseContext<'a>,
    pub jobs: &'a Jobs,
    /// Timer claims are made as this owner (see `scheduler::timers`).
    pub owner: &'a str,
    /// How long claimed timers stay with this process.
    pub timer_lease: TimeDelta,
    /// Asked between timers: `true` stops the run early (shutdown).
    pub stop: &'a dyn Fn() -> bool,
}

/// Runs `job` as if it were `now`; returns what it counted.
pub fn execute(
    conn: &mut DbConnection,
    ctx: &JobContext<'_>,
    job: JobName,
    now: DateTime<Utc>,
) -> Result<Counts, ServiceError> {
    match job {
        JobName::Reminders => reminders(conn, ctx, now),
        JobName::Digest => {
            let run = super::digest::run(conn, &ctx.case, now)?;
            let mut counts = Counts::new();
            counts.insert("mails".into(), run.mails.into());
            counts.insert("deadlines".into(), run.deadlines.into());
            counts.insert("anliegen".into(), run.asks.into());
            counts.insert("unreachable".into(), run.unreachable.into());
            Ok(counts)
        }
        JobName::Housekeeping => housekeeping(conn, ctx.jobs, now),
        JobName::Backup => backup(ctx.jobs, now),
    }
}

/// Backs up the installation into a new directory of `backup_dir` named after the run's time,
/// then deletes the oldest of the job's complete backups beyond `backup_keep`. A backup that
/// lacks document files fails the run (so monitoring sees it) and deletes nothing: older
/// backups may be the last ones holding those files.
fn backup(jobs: &Jobs, now: DateTime<Utc>) -> Result<Counts, ServiceError> {
    let plan = jobs.backup.as_ref().ok_or_else(|| {
        ServiceError::Internal(
            "Für die Sicherung ist kein Zielverzeichnis eingestellt (backup_dir bzw. VORGANG_BACKUP_DIR)."
                .into(),
        )
    })?;
    let failed = |e: crate::backup::BackupError| ServiceError::Internal(e.to_string());
    std::fs::create_dir_all(&plan.dir).map_err(|e| {
        ServiceError::Internal(format!(
            "Sicherungsverzeichnis {} nicht anlegbar: {e}",
            plan.dir.display()
        ))
    })?;
    let target = plan
        .dir
        .join(crate::backup::scheduled_name(now.with_timezone(&ZONE)));
    let tools = crate::backup::Tools {
        pg_dump: plan.pg_dump.clone(),
        ..crate::backup::Tools::default()
    };
    let report = crate::backup::create(&plan.installation, &target, &tools).map_err(failed)?;
    let m = &report.manifest;
    if !m.problems.is_empty() {
        return Err(ServiceError::Internal(format!(
            "Sicherung {} angelegt, aber ohne {} Dokumentdateien, die in der Dokumentablage fehlen oder verändert sind (vorgang audit documents); ältere Sicherungen bleiben erhalten.",
            target.display(),
            m.problems.len()
        )));
    }
    let removed = crate::backup::prune(&plan.dir, plan.keep as usize).map_err(|e| {
        ServiceError::Internal(format!(
            "Sicherung {} angelegt, ältere nicht gelöscht: {e}",
            target.display()
        ))
    })?;
    let mut counts = Counts::new();
    counts.insert("cases".into(), m.cases.into());
    counts.insert("documents".into(), m.documents.into());
    counts.insert("document_files".into(), m.document_files.into());
    counts.insert("bytes".into(), m.document_bytes.into());
    counts.insert("deleted".into(), removed.len().into());
    Ok(counts)
}

/// Fires the reminder timers due at `now` through the engine, which sends each reminder mail
/// once (the timer row is marked fired in the same transaction as the mails).
///
/// Schedules say "working days"; cron knows weekdays, not public holidays, so on a holiday in
/// North Rhine-Westphalia the run sends nothing and the reminders go out on the next working
/// day's run, like the post.
fn reminders(
    conn: &mut DbConnection,
    ctx: &JobContext<'_>,
    now: DateTime<Utc>,
) -> Result<Counts, ServiceError> {
    let clock = crate::service::clock::at(now);
    let mut counts = Counts::new();
    let calendar = crate::frist::HolidayCalendar::for_land("NW")
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    if let Some(holiday) = calendar
        .holiday_name(clock.today)
        .map_err(|e| ServiceError::Internal(e.to_string()))?
    {
        counts.insert("feiertag".into(), holiday.into());
        counts.insert("fired".into(), 0.into());
        return Ok(counts);
    }
    let round = super::timers::run_due(
        conn,
        &ctx.case,
        ctx.owner,
        crate::engine::TimerKind::Reminder,
        &clock,
        ctx.timer_lease,
        ctx.stop,
    )?;
    counts.insert("fired".into(), round.fired.into());
    counts.insert("stale".into(), round.stale.into());
    counts.insert("failed".into(), round.failed.into());
    let follow_ups = crate::service::follow_ups::mail_due(conn, ctx.case.mail, &clock)?;
    counts.insert("wiedervorlagen".into(), follow_ups.into());
    let windows =
        crate::service::time_windows::mail_closing(conn, ctx.case.registry, ctx.case.mail, &clock)?;
    counts.insert("zeitraeume".into(), windows.into());
    Ok(counts)
}

/// Deletes partner links that can no longer be used (revoked, or expired: the answer page of an
/// expired link cannot be opened anyway), sent mails older than `outbox_retention_days`,
/// browser sessions that have ended (idle too long or past their lifetime), absences that are
/// over, and the counts of failed logins and link requests whose allowance is full again.
fn housekeeping(
    conn: &mut DbConnection,
    jobs: &Jobs,
    now: DateTime<Utc>,
) -> Result<Counts, ServiceError> {
    let now = now.naive_utc();
    write_transaction(conn, |conn| housekeep(conn, jobs, now))
}

fn housekeep(
    conn: &mut DbConnection,
    jobs: &Jobs,
    now: NaiveDateTime,
) -> Result<Counts, ServiceError> {
    let links = diesel::delete(
        partner_links::table.filter(
            partner_links::revoked_at
                .is_not_null()
                .or(partner_links::expires_at.lt(now)),
        ),
    )
    .execute(conn)?;
    let sent_before = now - TimeDelta::days(i64::from(jobs.outbox_retention_days));
    let mails = diesel::delete(
        outbox::table
            .filter(outbox::status.eq("sent"))
            .filter(outbox::sent_at.lt(sent_before)),
    )
    .execute(conn)?;
    let sessions = crate::auth::session::purge_ended(conn, now, jobs.sessions)?;
    let today = crate::service::clock::berlin_date(now.and_utc());
    let absences = crate::service::absences::purge_past(conn, today)?;
    let limits = crate::auth::limiter::forget_refilled(conn, now.and_utc())?;
    let mut counts = Counts::new();
    counts.insert("partner_links_deleted".into(), links.into());
    counts.insert("outbox_deleted".into(), mails.into());
    counts.insert("ui_sessions_deleted".into(), sessions.into());
    counts.insert("absences_deleted".into(), absences.into());
    counts.insert("attempt_limits_deleted".into(), limits.into());
    Ok(counts)
}

/// One row of `job_runs`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = job_runs)]
pub struct JobRun {
    pub id: i64,
    pub job: String,
    pub scheduled_for: NaiveDateTime,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    /// `running`, `ok` or `failed`.
    pub outcome: String,
    /// The counts as JSON text.
    pub counts: String,
    pub error: Option<String>,
    /// The instance that ran it.
    pub owner: String,
}

/// How a run attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// This instance ran the job.
    Ran { run_id: i64, counts: Counts },
    /// The job ran and failed; the error is recorded.
    Failed { run_id: i64, error: String },
    /// Another run holds the lock for this scheduled time; nothing was done.
    Skipped,
}

/// Takes the run lock for `job` at `scheduled_for`, runs the job as of `now` and records the result.
pub fn run_locked(
    conn: &mut DbConnection,
    ctx: &JobContext<'_>,
    job: JobName,
    scheduled_for: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<RunOutcome, ServiceError> {
    let scheduled = scheduled_for.naive_utc();
    let inserted = write_alone(conn, |conn| {
        diesel::insert_into(job_runs::table)
            .values((
                job_runs::job.eq(job.as_str()),
                job_runs::scheduled_for.eq(scheduled),
                job_runs::started_at.eq(Utc::now().naive_utc()),
                job_runs::outcome.eq("running"),
                job_runs::counts.eq("{}"),
                job_runs::owner.eq(ctx.owner),
            ))
            .execute(conn)
    });
    match inserted {
        Ok(_) => {}
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            return Ok(RunOutcome::Skipped);
        }
        Err(error) => return Err(error.into()),
    }
    let run_id: i64 = job_runs::table
        .filter(job_runs::job.eq(job.as_str()))
        .filter(job_runs::scheduled_for.eq(scheduled))
        .select(job_runs::id)
        .first(conn)?;
    let result = execute(conn, ctx, job, now);
    let finished = Utc::now().naive_utc();
    let (outcome, counts, error) = match &result {
        Ok(counts) => ("ok", serde_json::Value::Object(counts.clone()), None),
        Err(error) => ("failed", serde_json::json!({}), Some(error.to_string())),
    };
    write_alone(conn, |conn| {
        diesel::update(job_runs::table.find(run_id))
            .set((
                job_runs::finished_at.eq(finished),
                job_runs::outcome.eq(outcome),
                job_runs::counts.eq(counts.to_string()),
                job_runs::error.eq(error.as_deref()),
            ))
            .execute(conn)
    })?;
    Ok(match result {
        Ok(counts) => RunOutcome::Ran { run_id, counts },
        Err(error) => RunOutcome::Failed {
            run_id,
            error: error.to_string(),
        },
    })
}

/// The latest `limit` runs, newest first.
pub fn latest_runs(conn: &mut DbConnection, limit: i64) -> Result<Vec<JobRun>, ServiceError> {
    Ok(job_runs::table
        .order((job_runs::started_at.desc(), job_runs::id.desc()))
        .limit(limit)
        .select(JobRun::as_select())
        .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn defaults_parse_and_follow_german_wall_clock_time() {
        let jobs = Jobs::default();
        let reminders = &jobs.get(JobName::Reminders).unwrap().schedule;
        // Friday after 07:00 in winter: next is Monday 07:00, after the change to summer time
        // on Sunday 28 March 2027, so 05:00 UTC instead of 06:00.
        let next = reminders
            .next_after(utc("2027-03-26T08:00:00+01:00"))
            .unwrap();
        assert_eq!(next.to_rfc3339(), "2027-03-29T07:00:00+02:00");
        let next = reminders
            .next_after(utc("2027-03-29T07:00:00+02:00"))
            .unwrap();
        assert_eq!(next.to_rfc3339(), "2027-03-30T07:00:00+02:00");
        let housekeeping = &jobs.get(JobName::Housekeeping).unwrap().schedule;
        // The night summer time ends (31 October 2027) still has its 03:30, once.
        let next = housekeeping
            .next_after(utc("2027-10-30T12:00:00+02:00"))
            .unwrap();
        assert_eq!(next.to_rfc3339(), "2027-10-31T03:30:00+01:00");
    }

    #[test]
    fn invalid_expressions_are_one_german_line() {
        for text in [
            "0 7 * * *",
            "0 0 25 * * *",
            "x y z a b c",
            "0 0 7 * * MON-FRI 1999",
        ] {
            let error = Schedule::parse(text).unwrap_err();
            assert!(error.contains(text), "{error}");
            assert!(!error.contains('\n'), "{error}");
        }
        assert!(Schedule::parse("0 0 7 * * MON-FRI 2030-2099").is_ok());
    }
}
