//! Browser sessions of the staff web interface, as stored in `ui_sessions`.
//!
//! The browser holds a random session id (256 bits, hex) in a cookie; the table holds only its
//! SHA-256, so neither a database dump nor a log of queries hands out live sessions. A session
//! ends at its absolute lifetime, after [`SessionLifetimes::idle`] without a request, when its
//! user is deactivated, or when it is deleted (logout, password change elsewhere). Looking a
//! session up is one query that also loads the user's organisation and roles, read the same way
//! as for bearer tokens ([`Principal::from_rows`]), so role changes apply to the next request.

use std::fmt;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::principal::Principal;
use crate::db::models::{Organisation, UserId};
use crate::db::schema::{organisations, ui_sessions, user_roles, users};
use crate::db::{DbConnection, DbError, write_alone, write_transaction};

/// Bytes of randomness in a session id and in a session's CSRF secret.
const RANDOM_BYTES: usize = 32;

/// `last_seen_at` is written at most this often per session, not on every request: the idle
/// timeout is coarse anyway, and a write per page view would queue behind SQLite's one writer.
const TOUCH_AFTER: TimeDelta = TimeDelta::seconds(60);

/// How long sessions live; the defaults match the API's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLifetimes {
    /// A session unused for this long is over (the user must log in again).
    pub idle: TimeDelta,
    /// A session is over this long after login, however busy (like a staff token).
    pub absolute: TimeDelta,
}

impl Default for SessionLifetimes {
    /// One hour idle, eight hours at most (one working day, as the API's tokens).
    fn default() -> Self {
        Self {
            idle: TimeDelta::hours(1),
            absolute: super::StaffTokens::DEFAULT_LIFETIME,
        }
    }
}

/// Why a session could not be created.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The operating system gave no randomness.
    #[error("kein Zufall verfügbar: {0}")]
    Random(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for SessionError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Db(error.into())
    }
}

/// A freshly created session: the cookie value goes to the browser and is never stored.
pub struct NewSession {
    /// The session id for the cookie (64 hex characters).
    pub cookie_value: String,
    /// When the session ends at the latest.
    pub expires_at: NaiveDateTime,
}

impl fmt::Debug for NewSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewSession")
            .field("cookie_value", &"<verborgen>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A live session with the user behind it, as loaded for one request.
#[derive(Clone)]
pub struct SessionRecord {
    /// Row id in `ui_sessions`.
    pub id: i64,
    /// The user as the permission checks see it (same as for a bearer token).
    pub principal: Principal,
    /// The user's organisation.
    pub organisation: Organisation,
    /// The user's name as shown in the header.
    pub display_name: String,
    /// The user must set a new password before doing anything else.
    pub must_change_password: bool,
    /// The user has a password of vorgang (one the proxy logs in need not have one).
    pub has_password: bool,
    /// The session started because a trusted proxy named the user (see [`Started`]).
    pub through_proxy: bool,
    /// Key of the session's CSRF tokens (see `web::ui::csrf`); never sent to the browser.
    csrf_secret: String,
}

impl fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRecord")
            .field("id", &self.id)
            .field("principal", &self.principal)
            .field("must_change_password", &self.must_change_password)
            .finish_non_exhaustive()
    }
}

impl SessionRecord {
    /// The key the session's CSRF tokens are derived from.
    pub fn csrf_secret(&self) -> &[u8] {
        self.csrf_secret.as_bytes()
    }
}

/// `bytes` random bytes from the operating system, as lower-case hex.
pub fn random_hex(bytes: usize) -> Result<String, SessionError> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).map_err(|e| SessionError::Random(e.to_string()))?;
    Ok(buffer.iter().map(|b| format!("{b:02x}")).collect())
}

/// The stored form of a session id: SHA-256, lower-case hex.
pub fn hash_session_id(cookie_value: &str) -> String {
    Sha256::digest(cookie_value.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether a cookie value has the shape of a session id (so junk never reaches a query).
fn well_formed(cookie_value: &str) -> bool {
    cookie_value.len() == RANDOM_BYTES * 2
        && cookie_value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The SQL condition [`alive`] builds.
type Alive = diesel::dsl::And<
    diesel::dsl::Gt<ui_sessions::expires_at, NaiveDateTime>,
    diesel::dsl::Gt<ui_sessions::last_seen_at, NaiveDateTime>,
>;

/// The condition of a session that has not ended by `now`: within its absolute lifetime and used
/// within the idle time. The one statement of that rule, for looking sessions up, listing them
/// and deleting the ended ones.
fn alive(now: NaiveDateTime, lifetimes: SessionLifetimes) -> Alive {
    ui_sessions::expires_at
        .gt(now)
        .and(ui_sessions::last_seen_at.gt(now - lifetimes.idle))
}

/// How a session came about: it decides whom the session belongs to when a trusted proxy names
/// a user later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// E-mail address and password: the session is the account's, whatever the proxy says.
    Password,
    /// A trusted proxy named the user (`proxy_login_header`): the session is the proxy's user's
    /// and ends when the proxy names someone else in the same browser.
    ThroughProxy,
}

/// Starts a session for `user` at `now` in `browser` (a short description such as „Firefox
/// unter Windows“, never the whole `User-Agent` header, so that the account page can tell the
/// user's logins apart); also forgets the user's sessions that have ended.
pub fn create(
    conn: &mut DbConnection,
    user: UserId,
    now: NaiveDateTime,
    lifetimes: SessionLifetimes,
    browser: Option<&str>,
    started: Started,
) -> Result<NewSession, SessionError> {
    let cookie_value = random_hex(RANDOM_BYTES)?;
    let csrf_secret = random_hex(RANDOM_BYTES)?;
    let expires_at = now + lifetimes.absolute;
    let token_hash = hash_session_id(&cookie_value);
    write_transaction(conn, |conn| {
        diesel::delete(
            ui_sessions::table
                .filter(ui_sessions::user_id.eq(user))
                .filter(diesel::dsl::not(alive(now, lifetimes))),
        )
        .execute(conn)?;
        diesel::insert_into(ui_sessions::table)
            .values((
                ui_sessions::token_hash.eq(token_hash),
                ui_sessions::user_id.eq(user),
                ui_sessions::csrf_secret.eq(csrf_secret),
                ui_sessions::created_at.eq(now),
                ui_sessions::last_seen_at.eq(now),
                ui_sessions::expires_at.eq(expires_at),
                ui_sessions::browser.eq(browser),
                ui_sessions::through_proxy.eq(started == Started::ThroughProxy),
            ))
            .execute(conn)
    })?;
    Ok(NewSession {
        cookie_value,
        expires_at,
    })
}

/// The live session behind a cookie value, with its active user, organisation and roles (one
/// query); `None` for unknown, ended or malformed ids and for inactive users. Marks the session
/// as used (at most once a minute).
pub fn lookup(
    conn: &mut DbConnection,
    cookie_value: &str,
    now: NaiveDateTime,
    lifetimes: SessionLifetimes,
) -> Result<Option<SessionRecord>, DbError> {
    if !well_formed(cookie_value) {
        return Ok(None);
    }
    type Row = (
        i64,
        String,
        NaiveDateTime,
        bool,
        String,
        bool,
        bool,
        UserId,
        String,
        Organisation,
        Option<String>,
    );
    let rows: Vec<Row> = ui_sessions::table
        .inner_join(
            users::table
                .inner_join(organisations::table)
                .left_join(user_roles::table),
        )
        .filter(ui_sessions::token_hash.eq(hash_session_id(cookie_value)))
        .filter(alive(now, lifetimes))
        .filter(users::active.eq(true))
        .select((
            ui_sessions::id,
            ui_sessions::csrf_secret,
            ui_sessions::last_seen_at,
            ui_sessions::through_proxy,
            users::display_name,
            users::must_change_password,
            users::password_hash.is_not_null(),
            users::id,
            users::email,
            Organisation::as_select(),
            user_roles::role.nullable(),
        ))
        .load(conn)?;
    let Some((
        id,
        csrf_secret,
        last_seen_at,
        through_proxy,
        display_name,
        must_change_password,
        has_password,
        ..,
    )) = rows.first().cloned()
    else {
        return Ok(None);
    };
    let Some((principal, organisation)) = Principal::from_rows(
        rows.into_iter()
            .map(|(.., user, email, organisation, role)| (user, email, organisation, role))
            .collect(),
    ) else {
        return Ok(None);
    };
    if now - last_seen_at >= TOUCH_AFTER {
        write_alone(conn, |conn| {
            diesel::update(ui_sessions::table.find(id))
                .set(ui_sessions::last_seen_at.eq(now))
                .execute(conn)
        })?;
    }
    Ok(Some(SessionRecord {
        id,
        principal,
        organisation,
        display_name,
        must_change_password,
        has_password,
        through_proxy,
        csrf_secret,
    }))
}

/// Ends a session (logout); true when it was still there.
pub fn delete(conn: &mut DbConnection, id: i64) -> Result<bool, DbError> {
    let deleted = write_alone(conn, |conn| {
        diesel::delete(ui_sessions::table.find(id)).execute(conn)
    })?;
    Ok(deleted > 0)
}

/// Ends the session behind a cookie value (a new login in the same browser); true when there
/// was one.
pub fn delete_by_cookie(conn: &mut DbConnection, cookie_value: &str) -> Result<bool, DbError> {
    if !well_formed(cookie_value) {
        return Ok(false);
    }
    let token_hash = hash_session_id(cookie_value);
    let deleted = write_alone(conn, |conn| {
        diesel::delete(ui_sessions::table.filter(ui_sessions::token_hash.eq(token_hash)))
            .execute(conn)
    })?;
    Ok(deleted > 0)
}

/// Ends every session of `user` except `keep` (after a password change: whoever else was
/// logged in with the old password is logged out).
pub fn delete_others(conn: &mut DbConnection, user: UserId, keep: i64) -> Result<usize, DbError> {
    Ok(write_alone(conn, |conn| {
        diesel::delete(
            ui_sessions::table
                .filter(ui_sessions::user_id.eq(user))
                .filter(ui_sessions::id.ne(keep)),
        )
        .execute(conn)
    })?)
}

/// A live session of a user, as the account page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct LiveSession {
    /// Row id (compared with the current session's).
    pub id: i64,
    /// When its login happened.
    pub created_at: NaiveDateTime,
    /// When it was last used (to the minute, see `TOUCH_AFTER`).
    pub last_seen_at: NaiveDateTime,
    /// Which browser logged in, described (none if unrecognised, or for sessions started
    /// before this was recorded).
    pub browser: Option<String>,
}

/// The sessions of `user` that have not ended by `now`, the most recently used first.
pub fn live(
    conn: &mut DbConnection,
    user: UserId,
    now: NaiveDateTime,
    lifetimes: SessionLifetimes,
) -> Result<Vec<LiveSession>, DbError> {
    Ok(ui_sessions::table
        .filter(ui_sessions::user_id.eq(user))
        .filter(alive(now, lifetimes))
        .order((ui_sessions::last_seen_at.desc(), ui_sessions::id.desc()))
        .select((
            ui_sessions::id,
            ui_sessions::created_at,
            ui_sessions::last_seen_at,
            ui_sessions::browser,
        ))
        .load(conn)?)
}

/// Deletes every session that has ended by `now` (housekeeping); returns how many.
pub fn purge_ended(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lifetimes: SessionLifetimes,
) -> Result<usize, DbError> {
    Ok(write_alone(conn, |conn| {
        diesel::delete(ui_sessions::table.filter(diesel::dsl::not(alive(now, lifetimes))))
            .execute(conn)
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_hex_and_stored_hashed() {
        let a = random_hex(RANDOM_BYTES).unwrap();
        let b = random_hex(RANDOM_BYTES).unwrap();
        assert_ne!(a, b);
        assert!(well_formed(&a), "{a}");
        let hash = hash_session_id(&a);
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, a);
        assert!(!well_formed("zz"));
        assert!(!well_formed(&a.to_uppercase()));
        assert!(!well_formed(&format!("{a}0")));
    }
}
