//! Limits on failed logins, and on requests for a password-reset link, per account (normalised
//! e-mail) and per client address.
//!
//! Each key has a GCRA bucket of `max_failures` cells that refills at `max_failures` per
//! `window`. Every attempt *reserves* a cell on each of its keys before the password is checked;
//! a failed attempt keeps it, a successful one gives it back. So only failures count, a success
//! never clears earlier failures, and concurrent attempts cannot slip past the limit while their
//! passwords are still being hashed. With no cell left the attempt is refused before the password
//! is looked at, even if it is right, until a cell refills.
//!
//! The buckets live in the database (`attempt_limits`), not in the process: every instance on
//! one database counts the same failures (five per account, not five per instance behind a load
//! balancer), and a restart forgets none. A bucket is stored as its theoretical arrival time in
//! wall-clock milliseconds, the one time that instances share; a monotonic clock starts anew in
//! every process. An in-process rate limiter such as governor keeps its state relative to its
//! own start and offers no way to give a cell back, so the arithmetic (a few lines) is here.

use std::num::NonZeroU32;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::schema::attempt_limits;
use crate::db::{Database, DbConnection, DbError, reused, write_alone, write_transaction};

/// Longest e-mail key kept; longer input is cut (no valid address is that long).
const MAX_ACCOUNT_KEY_CHARS: usize = 320;

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
    /// Milliseconds after which one more attempt is allowed again (one cell).
    fn period_ms(&self) -> i64 {
        let period = self.window / self.max_failures.get();
        i64::try_from(period.as_millis()).unwrap_or(i64::MAX).max(1)
    }

    /// How far a bucket's time may run ahead of now and still take one more attempt.
    fn tolerance_ms(&self) -> i64 {
        self.period_ms()
            .saturating_mul(i64::from(self.max_failures.get()) - 1)
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
        // A NUL character (no account's address has one) cannot be stored on PostgreSQL.
        Self::Account(
            super::normalise_email(email)
                .replace('\0', "\u{FFFD}")
                .chars()
                .take(MAX_ACCOUNT_KEY_CHARS)
                .collect(),
        )
    }

    /// The key for a client address (`unbekannt` when the connection has none, e.g. in tests).
    pub fn address(address: Option<std::net::IpAddr>) -> Self {
        Self::Address(address.map_or_else(|| "unbekannt".to_string(), |ip| ip.to_string()))
    }

    /// The key of a client address as an administrator names it (an IPv6 address in any of its
    /// notations finds the key stored in the canonical one), or `unbekannt`; `None` for text
    /// that is no address.
    pub fn address_named(text: &str) -> Option<Self> {
        let text = text.trim();
        if text == "unbekannt" {
            return Some(Self::Address(text.to_string()));
        }
        text.parse::<std::net::IpAddr>()
            .ok()
            .map(|ip| Self::address(Some(ip)))
    }

    /// `account` or `address`, as the API names the kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Account(_) => "account",
            Self::Address(_) => "address",
        }
    }

    /// The e-mail address or client address itself.
    pub fn value(&self) -> &str {
        match self {
            Self::Account(value) | Self::Address(value) => value,
        }
    }

    /// The key of a stored subject; `None` for one of no known kind.
    fn from_subject(subject: &str) -> Option<Self> {
        if let Some(email) = subject.strip_prefix("account:") {
            return Some(Self::Account(email.to_string()));
        }
        subject
            .strip_prefix("address:")
            .map(|address| Self::Address(address.to_string()))
    }

    /// The key as stored: kind and value, so that an address never meets an account.
    fn subject(&self) -> String {
        match self {
            Self::Account(email) => format!("account:{email}"),
            Self::Address(address) => format!("address:{address}"),
        }
    }
}

/// Why an attempt may not go ahead.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// A key has used up its allowance; a cell refills after this long.
    #[error("zu viele Versuche, erneut in {0:?}")]
    TooMany(Duration),
    /// The limits could not be read or written; the attempt is not let through uncounted.
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<diesel::result::Error> for Refused {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(error.into())
    }
}

/// Counts attempts of one kind (logins, or requests for a reset link) and refuses attempts on
/// keys that have used up their allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimiter {
    scope: &'static str,
    limits: LoginLimits,
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
    scope: &'static str,
    subjects: Vec<String>,
    period_ms: i64,
}

impl Reservation {
    /// The attempt did not fail: its cells are returned. A failure to do so is logged and
    /// otherwise ignored (the attempt then counts, which is the safe side).
    pub async fn give_back(self, db: &Database) {
        let outcome = db.run(move |conn| self.give_back_now(conn)).await;
        if let Err(error) = outcome {
            tracing::warn!(%error, "could not return a reserved login attempt");
        }
    }

    /// [`Self::give_back`] on a connection of the caller's.
    pub fn give_back_now(self, conn: &mut DbConnection) -> Result<(), DbError> {
        write_alone(conn, |conn| {
            for subject in &self.subjects {
                diesel::update(
                    attempt_limits::table
                        .filter(attempt_limits::scope.eq(self.scope))
                        .filter(attempt_limits::subject.eq(subject)),
                )
                .set(attempt_limits::tat_ms.eq(attempt_limits::tat_ms - self.period_ms))
                .execute(conn)?;
            }
            Ok(())
        })
    }
}

/// The row an upsert returns when it counted the attempt (none when it was refused); only its
/// presence matters.
#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = BigInt, column_name = tat_ms)]
    _tat_ms: i64,
}

impl LoginLimiter {
    /// The limiter of failed logins (API token and web login alike).
    pub const fn new(limits: LoginLimits) -> Self {
        Self {
            scope: "login",
            limits,
        }
    }

    /// The limiter of requests for a password-reset link: counted apart from logins.
    pub const fn for_reset_links(limits: LoginLimits) -> Self {
        Self {
            scope: "reset-link",
            limits,
        }
    }

    /// Reserves a cell on every key for one attempt, now; see [`Self::reserve_at`].
    pub async fn reserve(&self, db: &Database, keys: &[LimitKey]) -> Result<Reservation, Refused> {
        let limiter = *self;
        let keys = keys.to_vec();
        let now = Utc::now();
        db.run(move |conn| Ok(limiter.reserve_at(conn, &keys, now)))
            .await?
    }

    /// Reserves a cell on every key for one attempt at `now`, or says how long to wait when any
    /// key has none left (then nothing is reserved). A used-up key is found by a read; the cells
    /// are taken in one write transaction, the keys in a fixed order, so two attempts sharing
    /// keys never wait for each other in a circle.
    pub fn reserve_at(
        &self,
        conn: &mut DbConnection,
        keys: &[LimitKey],
        now: DateTime<Utc>,
    ) -> Result<Reservation, Refused> {
        let mut subjects: Vec<String> = keys.iter().map(LimitKey::subject).collect();
        subjects.sort();
        subjects.dedup();
        let now_ms = now.timestamp_millis();
        // A key that is used up is refused on a plain read: a flood of refused attempts takes no
        // write lock (on SQLite the one writer of the database) and writes nothing.
        if let Some(wait) = self.wait_before_counting(conn, &subjects, now_ms)? {
            return Err(Refused::TooMany(wait));
        }
        write_transaction(conn, |conn| {
            let mut wait = None::<Duration>;
            for subject in &subjects {
                if let Some(this) = self.count(conn, subject, now_ms)? {
                    wait = Some(wait.map_or(this, |w| w.max(this)));
                }
            }
            if let Some(wait) = wait {
                // Rolls the transaction back: the other keys' cells are not taken either.
                return Err(Refused::TooMany(wait));
            }
            forget_refilled(conn, now)?;
            Ok(())
        })?;
        Ok(Reservation {
            scope: self.scope,
            subjects,
            period_ms: self.limits.period_ms(),
        })
    }

    /// How long until every one of `subjects` has a cell again, if one has none now.
    fn wait_before_counting(
        &self,
        conn: &mut DbConnection,
        subjects: &[String],
        now_ms: i64,
    ) -> QueryResult<Option<Duration>> {
        let latest: Option<i64> = attempt_limits::table
            .filter(attempt_limits::scope.eq(self.scope))
            .filter(attempt_limits::subject.eq_any(subjects))
            .select(diesel::dsl::max(attempt_limits::tat_ms))
            .first(conn)?;
        let tolerance = self.limits.tolerance_ms();
        Ok(latest
            .map(|tat_ms| tat_ms.saturating_sub(now_ms).saturating_sub(tolerance))
            .filter(|wait_ms| *wait_ms > 0)
            .map(wait_of))
    }

    /// Takes a cell of `subject`'s bucket if it has one; else how long until it has.
    fn count(
        &self,
        conn: &mut DbConnection,
        subject: &str,
        now_ms: i64,
    ) -> Result<Option<Duration>, Refused> {
        let period = self.limits.period_ms();
        let tolerance = self.limits.tolerance_ms();
        // GCRA in one statement, atomic on both backends: a new key starts a cell ahead of now;
        // a known one moves on by a cell from its time or from now, whichever is later, unless
        // its time is already more than the tolerance ahead (then no row comes back).
        let upsert = |p: char| {
            format!(
                "INSERT INTO attempt_limits (scope, subject, tat_ms) VALUES ({p}1, {p}2, {p}3 + {p}4) \
                 ON CONFLICT (scope, subject) DO UPDATE SET tat_ms = \
                 CASE WHEN attempt_limits.tat_ms > {p}3 THEN attempt_limits.tat_ms ELSE {p}3 END + {p}4 \
                 WHERE attempt_limits.tat_ms - {p}3 <= {p}5 \
                 RETURNING tat_ms"
            )
        };
        macro_rules! counted {
            ($sql:expr, $conn:expr) => {
                reused(
                    diesel::sql_query($sql)
                        .bind::<Text, _>(self.scope)
                        .bind::<Text, _>(subject)
                        .bind::<BigInt, _>(now_ms)
                        .bind::<BigInt, _>(period)
                        .bind::<BigInt, _>(tolerance),
                )
                .get_result::<Counted>($conn)
                .optional()?
            };
        }
        let counted = match conn {
            DbConnection::Sqlite(c) => counted!(upsert('?'), c),
            DbConnection::Pg(c) => counted!(upsert('$'), c),
        };
        if counted.is_some() {
            return Ok(None);
        }
        let tat_ms: i64 = attempt_limits::table
            .filter(attempt_limits::scope.eq(self.scope))
            .filter(attempt_limits::subject.eq(subject))
            .select(attempt_limits::tat_ms)
            .first(conn)?;
        Ok(Some(wait_of(
            tat_ms.saturating_sub(now_ms).saturating_sub(tolerance),
        )))
    }
}

/// A key with failures still counted under one limit, as administrators see it: whom the limit
/// holds back, and for how long, before they lift it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountedKey {
    /// The limit: `login` or `reset-link`.
    pub scope: &'static str,
    /// The account or address.
    pub key: LimitKey,
    /// Failures still counted (not yet refilled), at most the allowance.
    pub failures: u32,
    /// Until when attempts on the key are refused; `None` while it may still try.
    pub refused_until: Option<DateTime<Utc>>,
}

impl LoginLimiter {
    /// Every key with failures still counted under this limit at `now`, those held back longest
    /// first.
    pub fn counted(
        &self,
        conn: &mut DbConnection,
        now: DateTime<Utc>,
    ) -> QueryResult<Vec<CountedKey>> {
        self.counted_where(conn, None, now)
    }

    /// The failures still counted against `key` under this limit at `now`, if any: one row
    /// read, however many keys are counted (an attack from many addresses leaves many).
    pub fn counted_for(
        &self,
        conn: &mut DbConnection,
        key: &LimitKey,
        now: DateTime<Utc>,
    ) -> QueryResult<Option<CountedKey>> {
        Ok(self
            .counted_where(conn, Some(&key.subject()), now)?
            .into_iter()
            .next())
    }

    /// The keys counted at `now`, all of them or the one stored as `subject`.
    fn counted_where(
        &self,
        conn: &mut DbConnection,
        subject: Option<&str>,
        now: DateTime<Utc>,
    ) -> QueryResult<Vec<CountedKey>> {
        let now_ms = now.timestamp_millis();
        let mut query = attempt_limits::table
            .filter(attempt_limits::scope.eq(self.scope))
            .filter(attempt_limits::tat_ms.gt(now_ms))
            .select((attempt_limits::subject, attempt_limits::tat_ms))
            .order((attempt_limits::tat_ms.desc(), attempt_limits::subject))
            .into_boxed();
        if let Some(subject) = subject {
            query = query.filter(attempt_limits::subject.eq(subject.to_string()));
        }
        let rows: Vec<(String, i64)> = query.load(conn)?;
        let period = self.limits.period_ms();
        let tolerance = self.limits.tolerance_ms();
        Ok(rows
            .into_iter()
            .filter_map(|(subject, tat_ms)| {
                let key = LimitKey::from_subject(&subject)?;
                let ahead = tat_ms.saturating_sub(now_ms);
                let cells = (ahead.saturating_add(period - 1) / period).max(1);
                let failures = u32::try_from(cells)
                    .unwrap_or(u32::MAX)
                    .min(self.limits.max_failures.get());
                let refused_until = (ahead > tolerance).then(|| {
                    now + chrono::TimeDelta::milliseconds(ahead.saturating_sub(tolerance))
                });
                Some(CountedKey {
                    scope: self.scope,
                    key,
                    failures,
                    refused_until,
                })
            })
            .collect())
    }
}

/// Forgets every failure counted against `key`, under every limit, so that it may try again at
/// once: an administrator lifting a block. Returns the number of buckets deleted.
pub fn forget(conn: &mut DbConnection, key: &LimitKey) -> QueryResult<usize> {
    diesel::delete(attempt_limits::table.filter(attempt_limits::subject.eq(key.subject())))
        .execute(conn)
}

/// A wait in milliseconds as a duration, at least one millisecond.
fn wait_of(wait_ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(wait_ms.max(1)).unwrap_or(1))
}

/// The keys of one kind under one limit, as monitoring reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTally {
    /// The limit: `login` or `reset-link`.
    pub scope: &'static str,
    /// What the keys are: `account` or `address`.
    pub kind: &'static str,
    /// Keys with failures still counted (some of their allowance is used).
    pub counting: i64,
    /// Keys refused for now: their allowance is used up. Many of them at once, above all
    /// addresses, mean that someone is guessing passwords.
    pub refusing: i64,
}

impl LoginLimiter {
    /// How many accounts and addresses stand where under this limit at `now`.
    pub fn tally(&self, conn: &mut DbConnection, now: DateTime<Utc>) -> QueryResult<[KeyTally; 2]> {
        let now_ms = now.timestamp_millis();
        let tolerance = self.limits.tolerance_ms();
        let mut keys_of = |kind: &'static str| -> QueryResult<KeyTally> {
            let mut ahead_of = |ms: i64| -> QueryResult<i64> {
                attempt_limits::table
                    .filter(attempt_limits::scope.eq(self.scope))
                    .filter(attempt_limits::subject.like(format!("{kind}:%")))
                    .filter(attempt_limits::tat_ms.gt(ms))
                    .count()
                    .get_result(conn)
            };
            Ok(KeyTally {
                scope: self.scope,
                kind,
                counting: ahead_of(now_ms)?,
                refusing: ahead_of(now_ms.saturating_add(tolerance))?,
            })
        };
        Ok([keys_of("account")?, keys_of("address")?])
    }
}

/// Deletes the buckets that are full again (their time has passed), of every scope: they count as
/// no row. Each counted attempt calls it, and the nightly `housekeeping` job, so that no address
/// stays stored long after its last attempt. On PostgreSQL it skips rows an attempt holds, so it
/// never waits for one.
pub fn forget_refilled(conn: &mut DbConnection, now: DateTime<Utc>) -> QueryResult<usize> {
    let now_ms = now.timestamp_millis();
    match conn {
        DbConnection::Sqlite(c) => {
            diesel::delete(attempt_limits::table.filter(attempt_limits::tat_ms.lt(now_ms)))
                .execute(c)
        }
        DbConnection::Pg(c) => diesel::sql_query(
            "DELETE FROM attempt_limits WHERE (scope, subject) IN \
             (SELECT scope, subject FROM attempt_limits WHERE tat_ms < $1 \
              FOR UPDATE SKIP LOCKED)",
        )
        .bind::<BigInt, _>(now_ms)
        .execute(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{ConnectionFactory, DatabaseUrl, migrations};

    struct Fixture {
        _dir: tempfile::TempDir,
        url: DatabaseUrl,
        conn: DbConnection,
        limiter: LoginLimiter,
        now: DateTime<Utc>,
    }

    impl Fixture {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("limits.db");
            let url = DatabaseUrl::parse(path.to_str().unwrap()).unwrap();
            let mut conn = ConnectionFactory::new(url.clone()).open().unwrap();
            migrations::run_pending(&mut conn).unwrap();
            let limiter = LoginLimiter::new(LoginLimits {
                max_failures: NonZeroU32::new(5).unwrap(),
                window: Duration::from_secs(300),
            });
            let now = DateTime::parse_from_rfc3339("2026-12-07T08:00:00Z")
                .unwrap()
                .to_utc();
            Self {
                _dir: dir,
                url,
                conn,
                limiter,
                now,
            }
        }

        fn reserve(&mut self, keys: &[LimitKey]) -> Result<Reservation, Duration> {
            match self.limiter.reserve_at(&mut self.conn, keys, self.now) {
                Ok(reservation) => Ok(reservation),
                Err(Refused::TooMany(wait)) => Err(wait),
                Err(Refused::Database(error)) => panic!("{error}"),
            }
        }

        fn fail(&mut self, keys: &[LimitKey]) {
            drop(self.reserve(keys).unwrap());
        }

        fn succeed(&mut self, keys: &[LimitKey]) {
            let reservation = self.reserve(keys).unwrap();
            reservation.give_back_now(&mut self.conn).unwrap();
        }

        fn advance(&mut self, by: Duration) {
            self.now += chrono::TimeDelta::from_std(by).unwrap();
        }

        fn rows(&mut self) -> Vec<String> {
            attempt_limits::table
                .select(attempt_limits::subject)
                .order(attempt_limits::subject)
                .load(&mut self.conn)
                .unwrap()
        }
    }

    fn keys(email: &str, address: &str) -> Vec<LimitKey> {
        vec![
            LimitKey::account(email),
            LimitKey::Address(address.to_string()),
        ]
    }

    #[test]
    fn five_failures_then_refused_until_a_cell_refills() {
        let mut f = Fixture::new();
        let anna = keys("Anna@Example.org", "10.0.0.1");
        for _ in 0..5 {
            f.fail(&anna);
        }
        let wait = f.reserve(&anna).unwrap_err();
        assert_eq!(wait, Duration::from_secs(60));
        // Refused attempts do not count: waiting one period frees exactly one attempt.
        f.advance(Duration::from_secs(30));
        assert_eq!(f.reserve(&anna).unwrap_err(), Duration::from_secs(30));
        f.advance(Duration::from_secs(30));
        f.fail(&anna);
        assert!(f.reserve(&anna).is_err());
        // After the whole window, the full allowance is back.
        f.advance(Duration::from_secs(300));
        for _ in 0..5 {
            f.fail(&anna);
        }
        assert!(f.reserve(&anna).is_err());
    }

    #[test]
    fn successes_do_not_count_and_do_not_clear_failures() {
        let mut f = Fixture::new();
        let address = "10.0.0.2";
        for _ in 0..4 {
            f.fail(&keys("mallory@example.org", address));
        }
        // Many successful logins of others from the same address: not counted...
        for _ in 0..20 {
            f.succeed(&keys("bob@example.org", address));
        }
        // ...and they did not reset the address: one more failure exhausts it.
        f.fail(&keys("mallory2@example.org", address));
        assert!(f.reserve(&keys("carol@example.org", address)).is_err());
        // Other addresses are unaffected, and so is the account of bob.
        assert!(f.reserve(&keys("bob@example.org", "10.0.0.3")).is_ok());
    }

    #[test]
    fn a_used_up_key_is_refused_without_taking_the_write_lock() {
        let mut f = Fixture::new();
        let anna = keys("anna@example.org", "10.0.0.11");
        for _ in 0..5 {
            f.fail(&anna);
        }
        // Another connection of the process writes meanwhile: a refusal does not queue
        // behind it (a writer inside another's transaction would fail at once instead).
        let mut other = ConnectionFactory::new(f.url.clone()).open().unwrap();
        write_transaction(&mut other, |_| {
            assert_eq!(f.reserve(&anna).unwrap_err(), Duration::from_secs(60));
            Ok::<_, diesel::result::Error>(())
        })
        .unwrap();
        // An attempt that may count does take it.
        f.advance(Duration::from_secs(60));
        write_transaction(&mut other, |_| {
            let outcome = f.limiter.reserve_at(&mut f.conn, &anna, f.now);
            assert!(matches!(outcome, Err(Refused::Database(_))), "{outcome:?}");
            Ok::<_, diesel::result::Error>(())
        })
        .unwrap();
    }

    #[test]
    fn a_refused_attempt_takes_no_cell_of_its_other_key() {
        let mut f = Fixture::new();
        for _ in 0..5 {
            f.fail(&keys("mallory@example.org", "10.0.0.5"));
        }
        // The account is used up; an attempt on it from a fresh address is refused and does
        // not count against that address, which still has all five.
        for _ in 0..3 {
            assert!(f.reserve(&keys("mallory@example.org", "10.0.0.6")).is_err());
        }
        for _ in 0..5 {
            f.fail(&keys("bob@example.org", "10.0.0.6"));
        }
        assert!(f.reserve(&keys("carol@example.org", "10.0.0.6")).is_err());
    }

    #[test]
    fn outstanding_reservations_cannot_exceed_the_allowance() {
        let mut f = Fixture::new();
        let anna = keys("anna@example.org", "10.0.0.4");
        // Five attempts still being checked: the sixth is refused before any password is.
        let reservations: Vec<_> = (0..5).map(|_| f.reserve(&anna).unwrap()).collect();
        assert!(f.reserve(&anna).is_err());
        // One of them succeeds and gives its cell back: one more attempt may start.
        let mut reservations = reservations.into_iter();
        reservations
            .next()
            .unwrap()
            .give_back_now(&mut f.conn)
            .unwrap();
        assert!(f.reserve(&anna).is_ok());
        assert!(f.reserve(&anna).is_err());
    }

    #[test]
    fn logins_and_reset_links_are_counted_apart() {
        let mut f = Fixture::new();
        let anna = keys("anna@example.org", "10.0.0.7");
        for _ in 0..5 {
            f.fail(&anna);
        }
        let resets = LoginLimiter::for_reset_links(f.limiter.limits);
        assert!(resets.reserve_at(&mut f.conn, &anna, f.now).is_ok());
    }

    #[test]
    fn full_buckets_are_forgotten_by_the_next_attempt() {
        let mut f = Fixture::new();
        f.fail(&keys("anna@example.org", "10.0.0.8"));
        f.succeed(&keys("bob@example.org", "10.0.0.9"));
        assert_eq!(
            f.rows(),
            [
                "account:anna@example.org",
                "account:bob@example.org",
                "address:10.0.0.8",
                "address:10.0.0.9"
            ]
        );
        // Bob's cells were given back: his buckets are full already. Anna's refill after one
        // period; the next attempt of anyone deletes what is full.
        f.advance(Duration::from_millis(60_001));
        f.fail(&keys("carol@example.org", "10.0.0.10"));
        assert_eq!(f.rows(), ["account:carol@example.org", "address:10.0.0.10"]);
    }

    #[test]
    fn the_tally_counts_keys_in_use_and_keys_refused() {
        let mut f = Fixture::new();
        for i in 0..5 {
            f.fail(&keys("anna@example.org", &format!("10.0.1.{i}")));
        }
        f.fail(&keys("bob@example.org", "10.0.1.0"));
        let [accounts, addresses] = f.limiter.tally(&mut f.conn, f.now).unwrap();
        assert_eq!(
            (
                accounts.scope,
                accounts.kind,
                accounts.counting,
                accounts.refusing
            ),
            ("login", "account", 2, 1)
        );
        assert_eq!(
            (addresses.kind, addresses.counting, addresses.refusing),
            ("address", 5, 0)
        );
        let resets = LoginLimiter::for_reset_links(f.limiter.limits);
        let [accounts, _] = resets.tally(&mut f.conn, f.now).unwrap();
        assert_eq!((accounts.scope, accounts.counting), ("reset-link", 0));
        // One cell later Anna may try once more; after the window nothing is counted.
        f.advance(Duration::from_secs(60));
        assert_eq!(f.limiter.tally(&mut f.conn, f.now).unwrap()[0].refusing, 0);
        f.advance(Duration::from_secs(300));
        assert_eq!(f.limiter.tally(&mut f.conn, f.now).unwrap()[0].counting, 0);
    }

    #[test]
    fn counted_keys_show_failures_and_how_long_they_are_refused() {
        let mut f = Fixture::new();
        for _ in 0..5 {
            f.fail(&keys("anna@example.org", "10.0.2.1"));
        }
        f.fail(&keys("bob@example.org", "10.0.2.2"));
        f.advance(Duration::from_secs(20));
        let counted = f.limiter.counted(&mut f.conn, f.now).unwrap();
        let shown: Vec<_> = counted
            .iter()
            .map(|c| (c.key.kind(), c.key.value(), c.failures, c.refused_until))
            .collect();
        // Anna's account and address are used up: a cell refills 60 s after the fifth
        // failure, 40 s from now. Bob has one failure counted and may try again.
        let until = Some(f.now + chrono::TimeDelta::seconds(40));
        assert_eq!(
            shown,
            [
                ("account", "anna@example.org", 5, until),
                ("address", "10.0.2.1", 5, until),
                ("account", "bob@example.org", 1, None),
                ("address", "10.0.2.2", 1, None),
            ]
        );
        assert!(counted.iter().all(|c| c.scope == "login"));
        let resets = LoginLimiter::for_reset_links(f.limiter.limits);
        assert!(resets.counted(&mut f.conn, f.now).unwrap().is_empty());
        // One key alone, as the account's page reads it.
        let bob = LimitKey::account("Bob@Example.org");
        assert_eq!(
            f.limiter.counted_for(&mut f.conn, &bob, f.now).unwrap(),
            Some(counted[2].clone())
        );
        assert_eq!(resets.counted_for(&mut f.conn, &bob, f.now).unwrap(), None);
        let nobody = LimitKey::account("niemand@example.org");
        assert_eq!(
            f.limiter.counted_for(&mut f.conn, &nobody, f.now).unwrap(),
            None
        );
    }

    #[test]
    fn a_forgotten_key_may_try_again_at_once_and_others_stay_counted() {
        let mut f = Fixture::new();
        let anna = keys("anna@example.org", "10.0.3.1");
        for _ in 0..5 {
            f.fail(&anna);
        }
        let resets = LoginLimiter::for_reset_links(f.limiter.limits);
        drop(
            resets
                .reserve_at(&mut f.conn, &[LimitKey::account("anna@example.org")], f.now)
                .unwrap(),
        );
        // Her account under both limits; her address stays used up.
        assert_eq!(
            forget(&mut f.conn, &LimitKey::account("Anna@Example.org")).unwrap(),
            2
        );
        assert!(f.reserve(&anna).is_err());
        assert!(f.reserve(&keys("anna@example.org", "10.0.3.2")).is_ok());
        assert_eq!(
            forget(&mut f.conn, &LimitKey::address_named("10.0.3.1").unwrap()).unwrap(),
            1
        );
        assert!(f.reserve(&anna).is_ok());
        assert_eq!(
            forget(&mut f.conn, &LimitKey::account("nobody@example.org")).unwrap(),
            0
        );
    }

    #[test]
    fn addresses_are_named_in_any_notation() {
        assert_eq!(
            LimitKey::address_named(" 2001:DB8:0:0::1 "),
            Some(LimitKey::Address("2001:db8::1".into()))
        );
        assert_eq!(
            LimitKey::address_named("unbekannt"),
            Some(LimitKey::address(None))
        );
        assert_eq!(LimitKey::address_named("10.0.0.300"), None);
        assert_eq!(LimitKey::address_named("anna@example.org"), None);
    }

    #[test]
    fn account_keys_are_normalised() {
        assert_eq!(
            LimitKey::account("  Anna.Schmidt@Kreis-Kleve.DE "),
            LimitKey::Account("anna.schmidt@kreis-kleve.de".into())
        );
    }
}
