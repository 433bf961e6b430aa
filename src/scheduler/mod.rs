//! Work that happens because time passes, inside `vorgang serve`: durable timers (deadlines,
//! reminders) fired by a poller, and the periodic jobs run at their cron times.

pub mod digest;
pub mod jobs;
pub mod timers;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::web;
use chrono::TimeDelta;
use tokio::sync::Notify;

use crate::db::Database;
use crate::web::api::ApiState;

/// The timer poller of one `vorgang serve` process.
pub struct TimerWorker {
    stop: Arc<AtomicBool>,
    wake: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl TimerWorker {
    /// Starts polling every `interval` on the current runtime; claims are made as `owner` and
    /// last `lease` (`timer_lease_secs`): another process takes a timer over only after that.
    pub fn spawn(
        db: Database,
        api: web::Data<ApiState>,
        owner: String,
        interval: Duration,
        lease: Duration,
    ) -> Self {
        // `timer_lease_secs` is at most a day, so the fallback is never taken.
        let lease = TimeDelta::from_std(lease).unwrap_or(TimeDelta::days(1));
        let stop = Arc::new(AtomicBool::new(false));
        let wake = Arc::new(Notify::new());
        let task = {
            let stop = stop.clone();
            let wake = wake.clone();
            actix_web::rt::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let db = db.clone();
                    let api = api.clone();
                    let owner = owner.clone();
                    let flag = stop.clone();
                    let outcome = web::block(move || {
                        let mut conn = db.get().map_err(crate::service::ServiceError::Db)?;
                        let clock = crate::service::clock::now();
                        timers::run_due(
                            &mut conn,
                            &api.case_context(),
                            &owner,
                            crate::engine::TimerKind::Flow,
                            &clock,
                            lease,
                            &|| flag.load(Ordering::SeqCst),
                        )
                    })
                    .await;
                    match outcome {
                        Ok(Ok(round)) if round != timers::TimerRound::default() => {
                            tracing::info!(
                                fired = round.fired,
                                stale = round.stale,
                                failed = round.failed,
                                "timers processed"
                            );
                        }
                        Ok(Ok(_)) => {}
                        Ok(Err(error)) => tracing::warn!(%error, "timer round failed"),
                        Err(error) => tracing::warn!(%error, "timer round could not run"),
                    }
                    tokio::select! {
                        _ = actix_web::rt::time::sleep(interval) => {}
                        _ = wake.notified() => {}
                    }
                }
            })
        };
        Self { stop, wake, task }
    }

    /// Stops after the timer being fired (if any); claimed but unfired timers are released.
    pub async fn shutdown(self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake.notify_one();
        let _ = self.task.await;
    }
}

/// Runs the enabled periodic jobs of one `vorgang serve` process at their scheduled times.
///
/// Each job's next time is computed after its previous scheduled time (not after "now"), so two
/// jobs due at the same moment both run. Every run goes through [`jobs::run_locked`]: with
/// several instances each scheduled time runs once; the others find the run lock taken.
pub struct JobWorker {
    stop: Arc<AtomicBool>,
    wake: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl JobWorker {
    /// Starts the schedule loop on the current runtime.
    pub fn spawn(
        db: Database,
        api: web::Data<ApiState>,
        settings: jobs::Jobs,
        owner: String,
        lease: Duration,
    ) -> Self {
        let lease = TimeDelta::from_std(lease).unwrap_or(TimeDelta::days(1));
        let stop = Arc::new(AtomicBool::new(false));
        let wake = Arc::new(Notify::new());
        let task = {
            let stop = stop.clone();
            let wake = wake.clone();
            actix_web::rt::spawn(async move {
                let started = chrono::Utc::now();
                let mut after: std::collections::HashMap<
                    jobs::JobName,
                    chrono::DateTime<chrono::Utc>,
                > = settings
                    .jobs
                    .iter()
                    .map(|job| (job.name, started))
                    .collect();
                while !stop.load(Ordering::SeqCst) {
                    let next = settings
                        .jobs
                        .iter()
                        .filter(|job| job.enabled)
                        .filter_map(|job| {
                            let from = after.get(&job.name).copied().unwrap_or(started);
                            job.schedule
                                .next_after(from)
                                .map(|at| (job.name, at.with_timezone(&chrono::Utc)))
                        })
                        .min_by_key(|(_, at)| *at);
                    let Some((name, at)) = next else {
                        // No job enabled: wait for shutdown.
                        wake.notified().await;
                        continue;
                    };
                    let wait = (at - chrono::Utc::now()).to_std().unwrap_or_default();
                    tokio::select! {
                        _ = actix_web::rt::time::sleep(wait) => {}
                        _ = wake.notified() => continue,
                    }
                    after.insert(name, at);
                    let db = db.clone();
                    let api = api.clone();
                    let owner = owner.clone();
                    let flag = stop.clone();
                    let jobs_settings = settings.clone();
                    let outcome = web::block(move || {
                        let mut conn = db.get().map_err(crate::service::ServiceError::Db)?;
                        let ctx = jobs::JobContext {
                            case: api.case_context(),
                            jobs: &jobs_settings,
                            owner: &owner,
                            timer_lease: lease,
                            stop: &|| flag.load(Ordering::SeqCst),
                        };
                        jobs::run_locked(&mut conn, &ctx, name, at, chrono::Utc::now())
                    })
                    .await;
                    match outcome {
                        Ok(Ok(jobs::RunOutcome::Ran { counts, .. })) => {
                            tracing::info!(job = name.as_str(), counts = %serde_json::Value::Object(counts), "job ran");
                        }
                        Ok(Ok(jobs::RunOutcome::Failed { error, .. })) => {
                            tracing::warn!(job = name.as_str(), %error, "job failed");
                        }
                        Ok(Ok(jobs::RunOutcome::Skipped)) => {
                            tracing::debug!(job = name.as_str(), "job ran in another instance");
                        }
                        Ok(Err(error)) => {
                            tracing::warn!(job = name.as_str(), %error, "job could not run")
                        }
                        Err(error) => {
                            tracing::warn!(job = name.as_str(), %error, "job could not run")
                        }
                    }
                }
            })
        };
        Self { stop, wake, task }
    }

    /// Stops; a job running now finishes (its timers stop early, see `JobContext::stop`).
    pub async fn shutdown(self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake.notify_one();
        let _ = self.task.await;
    }
}
