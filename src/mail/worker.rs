//! The delivery worker: a background task of `vorgang serve` that sends due outbox rows.
//!
//! Each round runs on the blocking thread pool: `concurrency` threads (one per pooled SMTP
//! connection) each claim a few due rows at a time, send them and record each outcome, until
//! nothing is due. Between rounds the task sleeps for the poll interval or until woken
//! ([`WorkerHandle::wake`]). Stopping ([`Worker::shutdown`]) lets every send in flight finish
//! and be recorded; rows claimed but not yet sent are given back untouched.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use lettre::message::Mailbox;
use tokio::sync::Notify;

use super::compose::compose;
use super::outbox::{self, Claimed};
use super::transport::{MailTransport, SendError};
use crate::config::Settings;
use crate::db::{Database, DbError};

/// Rows one thread claims at a time: few, so a lease covers only a handful of sends.
const CLAIM_BATCH: i64 = 8;

/// How sending is paced and when a mail is given up.
#[derive(Debug, Clone)]
pub struct DeliveryPolicy {
    /// Envelope sender of every mail; `From` of mails rendered without one.
    pub sender: Mailbox,
    /// First retry delay after a transient failure (doubled per attempt, at most an hour).
    pub retry_base: Duration,
    /// Attempts after which a transient failure becomes `failed`.
    pub max_attempts: u32,
    /// How long a claim is exclusive; must outlast [`CLAIM_BATCH`] sends at their timeouts.
    pub lease: Duration,
    /// Threads sending at once (the SMTP pool's size).
    pub concurrency: usize,
    /// Time between two looks at the outbox when nobody wakes the worker.
    pub poll_interval: Duration,
}

impl DeliveryPolicy {
    /// The policy of the configured installation. The lease allows every send of a claim its
    /// timeout several times over (connect, each command, the data), plus a minute.
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            sender: settings.mail_from.clone(),
            retry_base: settings.mail_retry_base,
            max_attempts: settings.mail_max_attempts,
            lease: settings.mail_timeout * (CLAIM_BATCH as u32 * 3) + Duration::from_secs(60),
            concurrency: settings.mail_pool_size as usize,
            poll_interval: Duration::from_secs(1),
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Accepted by the transport.
    pub sent: usize,
    /// Failed transiently, scheduled again.
    pub retried: usize,
    /// Marked failed (permanent, or out of attempts).
    pub failed: usize,
    /// Claimed but given back because the worker is stopping.
    pub released: usize,
}

#[derive(Default)]
struct Counters {
    sent: AtomicUsize,
    retried: AtomicUsize,
    failed: AtomicUsize,
    released: AtomicUsize,
}

/// Sends due outbox rows; the blocking core of the worker, usable on its own (tests, benchmarks).
#[derive(Clone)]
pub struct Deliverer {
    db: Database,
    transport: MailTransport,
    policy: DeliveryPolicy,
}

fn now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

impl Deliverer {
    /// A deliverer over `db` sending through `transport`.
    pub fn new(db: Database, transport: MailTransport, policy: DeliveryPolicy) -> Self {
        Self {
            db,
            transport,
            policy,
        }
    }

    /// Sends everything due now (blocking) and returns what happened. Stops early, giving
    /// claimed rows back, once `stop` is set.
    pub fn deliver_due(&self, stop: &AtomicBool) -> Result<Round, DbError> {
        let counters = Counters::default();
        // Most rounds find nothing: look once before starting any thread.
        let first = self.claim()?;
        if first.is_empty() {
            return Ok(Round::default());
        }
        let threads = self.policy.concurrency.max(1);
        let results: Vec<Result<(), DbError>> = std::thread::scope(|scope| {
            let counters = &counters;
            let mut first = Some(first);
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    let start = first.take().unwrap_or_default();
                    scope.spawn(move || self.drain(start, stop, counters))
                })
                .collect();
            workers
                .into_iter()
                .map(|w| {
                    w.join().unwrap_or_else(|_| {
                        Err(DbError::Blocking("ein Versandfaden ist abgestürzt".into()))
                    })
                })
                .collect()
        });
        let round = Round {
            sent: counters.sent.load(Ordering::Relaxed),
            retried: counters.retried.load(Ordering::Relaxed),
            failed: counters.failed.load(Ordering::Relaxed),
            released: counters.released.load(Ordering::Relaxed),
        };
        // A storage error of one thread is reported after the others have finished their sends.
        results.into_iter().collect::<Result<Vec<()>, _>>()?;
        Ok(round)
    }

    fn claim(&self) -> Result<Vec<Claimed>, DbError> {
        let mut conn = self.db.get()?;
        outbox::claim_due(&mut conn, now(), self.policy.lease, CLAIM_BATCH)
    }

    /// One thread's loop: send `start`, then claim a few rows at a time and send them, until
    /// nothing is due or `stop` is set.
    fn drain(
        &self,
        start: Vec<Claimed>,
        stop: &AtomicBool,
        counters: &Counters,
    ) -> Result<(), DbError> {
        let mut claimed = start;
        loop {
            for claim in &claimed {
                if stop.load(Ordering::Relaxed) {
                    let mut conn = self.db.get()?;
                    outbox::release(&mut conn, claim)?;
                    counters.released.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                self.deliver(claim, counters)?;
            }
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            claimed = self.claim()?;
            if claimed.is_empty() {
                return Ok(());
            }
        }
    }

    /// Sends one claimed row and records the outcome.
    fn deliver(&self, claim: &Claimed, counters: &Counters) -> Result<(), DbError> {
        let row = &claim.row;
        let outcome = compose(row, &self.policy.sender)
            .map_err(|e| SendError::Permanent(e.to_string()))
            .and_then(|mail| self.transport.send(&row.message_id, &mail));
        let mut conn = self.db.get()?;
        let attempts = u32::try_from(row.attempts).unwrap_or(0);
        let recorded = match &outcome {
            Ok(()) => {
                counters.sent.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(id = row.id, message_id = %row.message_id, "mail sent");
                outbox::mark_sent(&mut conn, claim, now())?
            }
            Err(SendError::Permanent(error)) => {
                counters.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(id = row.id, message_id = %row.message_id, error = %error, "mail refused");
                outbox::mark_failed(&mut conn, claim, error)?
            }
            Err(SendError::Transient(error)) if attempts >= self.policy.max_attempts => {
                counters.failed.fetch_add(1, Ordering::Relaxed);
                let error = format!("{error} (nach {attempts} Versuchen aufgegeben)");
                tracing::warn!(id = row.id, message_id = %row.message_id, error = %error, "mail given up");
                outbox::mark_failed(&mut conn, claim, &error)?
            }
            Err(SendError::Transient(error)) => {
                counters.retried.fetch_add(1, Ordering::Relaxed);
                let delay = outbox::backoff(self.policy.retry_base, attempts);
                let next = now() + TimeDelta::from_std(delay).unwrap_or(TimeDelta::hours(1));
                tracing::info!(id = row.id, message_id = %row.message_id, error = %error, attempts, "mail deferred");
                outbox::reschedule(&mut conn, claim, error, next)?
            }
        };
        if !recorded {
            tracing::warn!(
                id = row.id,
                message_id = %row.message_id,
                "outbox row was claimed again after its lease expired; outcome not recorded"
            );
        }
        Ok(())
    }
}

struct Shared {
    wake: Notify,
    stop: AtomicBool,
}

/// Wakes the worker (e.g. right after a command queued a mail); cheap to clone.
#[derive(Clone)]
pub struct WorkerHandle {
    shared: Arc<Shared>,
}

impl WorkerHandle {
    /// Makes the worker look at the outbox now instead of at the next poll. A wake while a round
    /// is running is remembered and starts the next round right after it.
    pub fn wake(&self) {
        self.shared.wake.notify_one();
    }
}

/// The running background task.
pub struct Worker {
    handle: WorkerHandle,
    task: tokio::task::JoinHandle<()>,
}

impl Worker {
    /// Starts the worker on the current actix/tokio runtime.
    pub fn spawn(deliverer: Deliverer) -> Self {
        let shared = Arc::new(Shared {
            wake: Notify::new(),
            stop: AtomicBool::new(false),
        });
        let handle = WorkerHandle {
            shared: Arc::clone(&shared),
        };
        let task = actix_web::rt::spawn(run(deliverer, shared));
        Self { handle, task }
    }

    /// A handle that wakes this worker.
    pub fn handle(&self) -> WorkerHandle {
        self.handle.clone()
    }

    /// Stops the worker: sends in flight finish and are recorded, claimed rows not yet sent go
    /// back to `pending`. Returns when the task has ended.
    pub async fn shutdown(self) {
        self.handle.shared.stop.store(true, Ordering::Relaxed);
        self.handle.shared.wake.notify_one();
        if let Err(error) = self.task.await {
            tracing::error!(error = %error, "mail worker ended abnormally");
        }
    }
}

async fn run(deliverer: Deliverer, shared: Arc<Shared>) {
    let poll_interval = deliverer.policy.poll_interval;
    while !shared.stop.load(Ordering::Relaxed) {
        let round = {
            let deliverer = deliverer.clone();
            let shared = Arc::clone(&shared);
            actix_web::rt::task::spawn_blocking(move || deliverer.deliver_due(&shared.stop)).await
        };
        match round {
            Ok(Ok(round)) if round != Round::default() => {
                tracing::info!(
                    sent = round.sent,
                    retried = round.retried,
                    failed = round.failed,
                    "outbox round finished"
                );
            }
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!(error = %error, "outbox round failed"),
            Err(error) => tracing::error!(error = %error, "outbox round aborted"),
        }
        if shared.stop.load(Ordering::Relaxed) {
            break;
        }
        let _ = tokio::time::timeout(poll_interval, shared.wake.notified()).await;
    }
}
