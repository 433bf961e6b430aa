//! Work that happens because time passes: durable timers (deadlines, reminders) fired by a
//! poller inside `vorgang serve`.

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
