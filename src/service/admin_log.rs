//! The administration's record (Verwaltungsprotokoll): who created a user, changed someone's
//! roles, deactivated or reactivated an account, handed over Wiedervorlagen, registered an
//! organisation, replaced its addresses or disposed of a case, and when.
//!
//! Cases carry their own journal; rights and addresses are changed outside any case, and "who
//! gave this account the admin role?" must be answerable all the same. Each entry is written in
//! the transaction of the change it records, so there is no change without its entry and no
//! entry without its change. Entries are never changed or deleted, and are hash-chained
//! (`service::admin_chain`) so that a change made outside vorgang shows. They name people only
//! by the staff e-mail address (accounts are never deleted either) and keep no contact addresses
//! of organisations, which are replaced and then gone (see docs/data-protection.md).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::Value;

use crate::db::models::UserId;
use crate::db::schema::admin_events;
use crate::db::{DbConnection, DbError};

/// A user was created (details: `organisation`, `roles`).
pub const USER_CREATED: &str = "user_created";
/// A user's password was set on the command line (`vorgang user passwd`; details: none).
pub const PASSWORD_SET: &str = "user_password_set";
/// An administrator gave a user a new one-time password (details: none).
pub const PASSWORD_RESET: &str = "user_password_reset";
/// A user chose a new password through a link mailed to them („Passwort vergessen“; actor and
/// subject: the user; details: none).
pub const PASSWORD_RESET_BY_MAIL: &str = "user_password_reset_by_mail";
/// An administrator mailed a user a link to choose a password (details: none).
pub const ACCESS_LINK_SENT: &str = "user_access_link_sent";
/// An administrator revoked a user's API access tokens (details: none).
pub const TOKENS_REVOKED: &str = "user_tokens_revoked";
/// An administrator lifted the limit on failed logins of an account or a client address
/// (subject: the e-mail address or the client address; details: `kind`, `account` or
/// `address`, and `failures`, the failures that were counted per limit).
pub const LOGIN_LIMIT_LIFTED: &str = "login_limit_lifted";
/// A user's roles were replaced (details: `before`, `after`).
pub const ROLES_CHANGED: &str = "user_roles_changed";
/// A user was deactivated or reactivated (details: `active`).
pub const ACTIVATION_CHANGED: &str = "user_activation_changed";
/// A user's open Wiedervorlagen went to a colleague (details: `to`, `count`).
pub const FOLLOW_UPS_HANDED_OVER: &str = "follow_ups_handed_over";
/// An organisation was registered (details: `name`, `kind`).
pub const ORGANISATION_REGISTERED: &str = "organisation_registered";
/// An organisation's addresses were replaced (details: `mailbox`, `contacts`, `head`: whether
/// there is one, how many, whether the Leitung was set; not the addresses themselves).
pub const ADDRESSES_REPLACED: &str = "organisation_addresses_replaced";
/// A case was deleted after its retention period (details: `decision`).
pub const CASE_DISPOSED: &str = "case_disposed";
/// A period of a time window was entered (subject: the window; details: `label`, `opens_on`,
/// `closes_on`).
pub const TIME_WINDOW_ADDED: &str = "time_window_added";
/// A period of a time window was removed (details as for [`TIME_WINDOW_ADDED`]).
pub const TIME_WINDOW_REMOVED: &str = "time_window_removed";

/// The actor of changes made on the server's command line (`vorgang user …`), where nobody is
/// logged in: whoever may run the command administers the installation.
pub const COMMAND_LINE: &str = "Kommandozeile";
/// The actor of the first administrator's creation at the first start.
pub const FIRST_START: &str = "Erststart";

/// The administrator making a change: the id for checks on oneself, the address for the record.
#[derive(Debug, Clone)]
pub struct Administrator {
    pub id: UserId,
    pub email: String,
}

impl From<&crate::auth::Principal> for Administrator {
    fn from(principal: &crate::auth::Principal) -> Self {
        Self {
            id: principal.user_id,
            email: principal.email.clone(),
        }
    }
}

/// One entry.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = admin_events)]
pub struct AdminEvent {
    pub id: i64,
    pub at: NaiveDateTime,
    pub actor: String,
    pub kind: String,
    pub subject: String,
    /// The particulars as JSON text (see the kinds).
    pub details: String,
}

impl AdminEvent {
    /// The particulars; an empty object should the text not be JSON.
    pub fn details(&self) -> Value {
        serde_json::from_str(&self.details).unwrap_or_else(|_| Value::Object(Default::default()))
    }
}

/// Records `kind` about `subject` by `actor` at `at`, at the end of the record's hash chain
/// (`service::admin_chain`). Call inside the change's transaction.
pub fn record(
    conn: &mut DbConnection,
    at: NaiveDateTime,
    actor: &str,
    kind: &str,
    subject: &str,
    details: &Value,
) -> Result<(), DbError> {
    super::admin_chain::append(conn, at, actor, kind, subject, &details.to_string())
}

/// Every kind, for filters and their checks.
pub const KINDS: [&str; 15] = [
    USER_CREATED,
    PASSWORD_SET,
    PASSWORD_RESET,
    PASSWORD_RESET_BY_MAIL,
    ACCESS_LINK_SENT,
    TOKENS_REVOKED,
    LOGIN_LIMIT_LIFTED,
    ROLES_CHANGED,
    ACTIVATION_CHANGED,
    FOLLOW_UPS_HANDED_OVER,
    ORGANISATION_REGISTERED,
    ADDRESSES_REPLACED,
    CASE_DISPOSED,
    TIME_WINDOW_ADDED,
    TIME_WINDOW_REMOVED,
];

/// Which entries to find: "what happened to this account", "what did this administrator do".
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// One of [`KINDS`].
    pub kind: Option<String>,
    /// Text contained in the subject or the actor, in any case.
    pub q: Option<String>,
}

/// Page `page` (from 1) of `per_page` entries matching `filter`, newest first, and how many
/// match in all.
pub fn search(
    conn: &mut DbConnection,
    filter: &EventFilter,
    page: i64,
    per_page: i64,
) -> Result<(Vec<AdminEvent>, i64), DbError> {
    use crate::db::text_search::{contains_pattern, lower};
    let matching = || {
        let mut select = admin_events::table.into_boxed();
        if let Some(kind) = &filter.kind {
            select = select.filter(admin_events::kind.eq(kind.clone()));
        }
        if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let pattern = contains_pattern(q);
            select = select.filter(
                lower(admin_events::subject)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(admin_events::actor).like(pattern).escape('\\')),
            );
        }
        select
    };
    let entries = matching()
        .order(admin_events::id.desc())
        .limit(per_page)
        .offset((page - 1).saturating_mul(per_page))
        .select(AdminEvent::as_select())
        .load(conn)?;
    let total = matching().count().get_result(conn)?;
    Ok((entries, total))
}
