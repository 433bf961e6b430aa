//! Limits on failed logins, per account (normalised e-mail) and per client address.
//!
//! Each key has a GCRA bucket (governor) of `max_failures` cells that refills at
//! `max_failures` per `window`. Every login attempt *reserves* a cell on each of its keys before
//! the password is checked; a failed attempt keeps it, a successful one gives it back. So only
//! failures count, a success never clears earlier failures, and concurrent attempts cannot slip
//! past the limit while their passwords are still being hashed. With no cell left the attempt is
//! refused before the password is looked at, even if it is right, until a cell refills.
//!
//! Giving a cell back is not something governor offers, so the limiter runs on a state store of
//! our own (`FailureStore`) that can do it.

use std::collections::HashMap;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use governor::clock::{Clock, MonotonicClock};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::StateStore;
use governor::{Quota, RateLimiter};

/// Longest e-mail key kept; longer input is cut (no valid address is that long).
const MAX_ACCOUNT_KEY_CHARS: usize = 320;

/// Once the store holds this many keys, stale ones are dropped on the next write.
const PRUNE_ABOVE: usize = 10_000;

/// How many failed logins are allowed per key, and over which window the allowance refills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failures allowed in a burst; the next attempt on that key is refused.
    pub max_failures: NonZeroU32,
    /// Time in which `max_failures` cells refill (one every `window / max_failures`).
    pub window: Duration,
}

impl Default for LoginLimits {
    /// Five failures per 15 minutes.
    fn default() -> Self {
        Self {
            max_failures: NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN),
            window: Duration::from_secs(15 * 60),
        }
    }
}

impl LoginLimits {
    /// Time after which one more attempt is allowed again.
    fn period(&self) -> Duration {
        (self.window / self.max_failures.get()).max(Duration::from_millis(1))
    }

    fn quota(&self) -> Quota {
        Quota::with_period(self.period())
            .unwrap_or_else(|| Quota::per_second(self.max_failures))
            .allow_burst(self.max_failures)
    }
}

/// What failed logins are counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LimitKey {
    /// The normalised e-mail address tried (whether or not such a user exists).
    Account(String),
    /// The client's address as the server sees it.
    Address(String),
}

impl LimitKey {
    /// The key for an e-mail address as typed: trimmed and lower-cased like stored addresses.
    pub fn account(email: &str) -> Self {
        Self::Account(
            super::normalise_email(email)
                .chars()
                .take(MAX_ACCOUNT_KEY_CHARS)
                .collect(),
        )
    }

    /// The key for a client address (`unbekannt` when the connection has none, e.g. in tests).
    pub fn address(address: Option<std::net::IpAddr>) -> Self {
        Self::Address(address.map_or_else(|| "unbekannt".to_string(), |ip| ip.to_string()))
    }
}

/// GCRA state per key, with the means to give a reserved cell back.
#[derive(Debug, Default)]
struct FailureStore {
    entries: Mutex<HashMap<LimitKey, Entry>>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Theoretical arrival time (GCRA), relative to the limiter's start.
    tat: Nanos,
    /// Last change, to drop entries that are indistinguishable from fresh ones.
    touched: Instant,
}

impl FailureStore {
    fn lock(&self) -> MutexGuard<'_, HashMap<LimitKey, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes one cell's worth of time off the key's state: undoes a reservation.
    fn give_back(&self, key: &LimitKey, cell: Nanos) {
        if let Some(entry) = self.lock().get_mut(key) {
            entry.tat = entry.tat.saturating_sub(cell);
        }
    }

    /// Number of keys held.
    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// The store as governor sees it: shared, so the limiter can still reach it to give cells back.
#[derive(Debug, Clone)]
struct SharedStore {
    store: Arc<FailureStore>,
    /// A bucket untouched for this long is full again and can be forgotten.
    forget_after: Duration,
}

impl StateStore for SharedStore {
    type Key = LimitKey;

    fn measure_and_replace<T, F, E>(&self, key: &LimitKey, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let mut entries = self.store.lock();
        let (outcome, tat) = f(entries.get(key).map(|entry| entry.tat))?;
        let now = Instant::now();
        if entries.len() > PRUNE_ABOVE {
            entries.retain(|_, entry| now.duration_since(entry.touched) < self.forget_after);
        }
        entries.insert(key.clone(), Entry { tat, touched: now });
        Ok(outcome)
    }
}

/// Counts failed logins and refuses attempts on keys that have used up their allowance.
pub struct LoginLimiter<C: Clock = MonotonicClock> {
    limiter: RateLimiter<LimitKey, SharedStore, C, NoOpMiddleware<C::Instant>>,
    store: Arc<FailureStore>,
    cell: Nanos,
}

impl<C: Clock> std::fmt::Debug for LoginLimiter<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginLimiter")
            .field("keys", &self.store.len())
            .finish()
    }
}

impl LoginLimiter {
    /// A limiter on the monotonic clock.
    pub fn new(limits: LoginLimits) -> Self {
        Self::with_clock(limits, MonotonicClock)
    }
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::new(LoginLimits::default())
    }
}

/// One attempt's cells. Dropping it counts the attempt as failed; [`Reservation::give_back`]
/// (after a successful login, or when the attempt could not be decided) does not.
#[must_use = "dropping a reservation counts the attempt as a failure"]
#[derive(Debug)]
pub struct Reservation {
    store: Arc<FailureStore>,
    keys: Vec<LimitKey>,
    cell: Nanos,
}

impl Reservation {
    /// The attempt did not fail: its cells are returned.
    pub fn give_back(self) {
        for key in &self.keys {
            self.store.give_back(key, self.cell);
        }
    }
}

impl<C: Clock> LoginLimiter<C> {
    /// A limiter on the given clock (tests use governor's `FakeRelativeClock`).
    pub fn with_clock(limits: LoginLimits, clock: C) -> Self {
        let store = Arc::new(FailureStore::default());
        let shared = SharedStore {
            store: Arc::clone(&store),
            forget_after: limits.window,
        };
        Self {
            limiter: RateLimiter::new(limits.quota(), shared, clock),
            store,
            cell: Nanos::from(limits.period()),
        }
    }

    /// Reserves a cell on every key for one login attempt, or says how long to wait when any
    /// key has none left (then nothing is reserved).
    pub fn reserve(&self, keys: &[LimitKey]) -> Result<Reservation, Duration> {
        let mut reserved = Reservation {
            store: Arc::clone(&self.store),
            keys: Vec::with_capacity(keys.len()),
            cell: self.cell,
        };
        let mut wait = None::<Duration>;
        for key in keys {
            match self.limiter.check_key(key) {
                Ok(()) => reserved.keys.push(key.clone()),
                Err(not_until) => {
                    let this = not_until.wait_time_from(self.limiter.clock().now());
                    wait = Some(wait.map_or(this, |w| w.max(this)));
                }
            }
        }
        match wait {
            None => Ok(reserved),
            Some(wait) => {
                reserved.give_back();
                Err(wait)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    fn limiter() -> (LoginLimiter<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        let limits = LoginLimits {
            max_failures: NonZeroU32::new(5).unwrap(),
            window: Duration::from_secs(300),
        };
        (LoginLimiter::with_clock(limits, clock.clone()), clock)
    }

    fn keys(email: &str, address: &str) -> Vec<LimitKey> {
        vec![
            LimitKey::account(email),
            LimitKey::Address(address.to_string()),
        ]
    }

    #[test]
    fn five_failures_then_refused_until_a_cell_refills() {
        let (limiter, clock) = limiter();
        let anna = keys("Anna@Example.org", "10.0.0.1");
        for _ in 0..5 {
            drop(limiter.reserve(&anna).unwrap());
        }
        let wait = limiter.reserve(&anna).unwrap_err();
        assert_eq!(wait, Duration::from_secs(60));
        // Refused attempts do not count: waiting one period frees exactly one attempt.
        clock.advance(Duration::from_secs(60));
        drop(limiter.reserve(&anna).unwrap());
        assert!(limiter.reserve(&anna).is_err());
        // After the whole window, the full allowance is back.
        clock.advance(Duration::from_secs(300));
        for _ in 0..5 {
            drop(limiter.reserve(&anna).unwrap());
        }
    }

    #[test]
    fn successes_do_not_count_and_do_not_clear_failures() {
        let (limiter, _clock) = limiter();
        let address = "10.0.0.2";
        for _ in 0..4 {
            drop(
                limiter
                    .reserve(&keys("mallory@example.org", address))
                    .unwrap(),
            );
        }
        // Many successful logins of others from the same address: not counted...
        for _ in 0..20 {
            limiter
                .reserve(&keys("bob@example.org", address))
                .unwrap()
                .give_back();
        }
        // ...and they did not reset the address: one more failure exhausts it.
        drop(
            limiter
                .reserve(&keys("mallory2@example.org", address))
                .unwrap(),
        );
        assert!(
            limiter
                .reserve(&keys("carol@example.org", address))
                .is_err()
        );
        // Other addresses are unaffected, and so is the account of bob.
        assert!(
            limiter
                .reserve(&keys("bob@example.org", "10.0.0.3"))
                .is_ok()
        );
    }

    #[test]
    fn concurrent_attempts_cannot_exceed_the_allowance() {
        let (limiter, _clock) = limiter();
        let anna = keys("anna@example.org", "10.0.0.4");
        // Six attempts in flight at once: the sixth is refused before any password is checked.
        let reservations: Vec<_> = (0..5).map(|_| limiter.reserve(&anna).unwrap()).collect();
        assert!(limiter.reserve(&anna).is_err());
        drop(reservations);
    }

    #[test]
    fn account_keys_are_normalised() {
        assert_eq!(
            LimitKey::account("  Anna.Schmidt@Kreis-Kleve.DE "),
            LimitKey::Account("anna.schmidt@kreis-kleve.de".into())
        );
    }
}
