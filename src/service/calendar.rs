//! Calendar feeds: the deadlines a user may see, as an iCalendar file (RFC 5545) behind a
//! personal, revocable address, so coordinators see them in their groupware.
//!
//! Groupware cannot log in, so the address itself is the credential: 32 random bytes,
//! base64url. Only their SHA-256 is stored; a lost address is revoked and a new one issued.
//! The feed is computed on every fetch with the user's current roles and organisation, through
//! the same permission decision as the API.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use icalendar::{Calendar, Component, EventLike};
use sha2::{Digest, Sha256};

use super::ServiceError;
use super::follow_ups::DueFollowUp;
use super::fristen::{self, CaseDeadline, Scope};
use super::workflows::WorkflowRegistry;
use crate::auth::{CaseScope, Permission, Principal, authorize};
use crate::db::DbConnection;
use crate::db::models::{Role, UserId};
use crate::db::schema::calendar_tokens;

/// How far ahead the feed reaches: the longest periods of the shipped workflows are two years.
const YEARS_AHEAD: u64 = 3;

/// Longest label accepted for a feed address ("Outlook Büro").
const LABEL_MAX: usize = 100;

/// One feed address of a user (without the secret, which is shown once).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = calendar_tokens)]
pub struct FeedToken {
    pub id: i64,
    pub user_id: i64,
    pub label: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

/// A newly issued feed address: `secret` goes into the URL and is not stored.
#[derive(Debug, Clone)]
pub struct IssuedFeed {
    pub token: FeedToken,
    pub secret: String,
}

fn hash(secret: &str) -> String {
    hex_lower(&Sha256::digest(secret.as_bytes()))
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Issues a new feed address for `user`.
pub fn issue(
    conn: &mut DbConnection,
    user: UserId,
    label: &str,
    now: NaiveDateTime,
) -> Result<IssuedFeed, ServiceError> {
    let label = label.trim();
    if label.chars().count() > LABEL_MAX {
        return Err(ServiceError::Unprocessable(format!(
            "Die Bezeichnung darf höchstens {LABEL_MAX} Zeichen lang sein."
        )));
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    let token = crate::db::write_transaction(conn, |conn| {
        diesel::insert_into(calendar_tokens::table)
            .values((
                calendar_tokens::user_id.eq(user.0),
                calendar_tokens::token_hash.eq(hash(&secret)),
                calendar_tokens::label.eq(label),
                calendar_tokens::created_at.eq(now),
            ))
            .execute(conn)?;
        calendar_tokens::table
            .filter(calendar_tokens::token_hash.eq(hash(&secret)))
            .select(FeedToken::as_select())
            .first(conn)
    })?;
    Ok(IssuedFeed { token, secret })
}

/// The feed addresses of `user`, newest first, revoked ones included (marked).
pub fn list(conn: &mut DbConnection, user: UserId) -> Result<Vec<FeedToken>, ServiceError> {
    Ok(calendar_tokens::table
        .filter(calendar_tokens::user_id.eq(user.0))
        .order(calendar_tokens::id.desc())
        .select(FeedToken::as_select())
        .load(conn)?)
}

/// Revokes feed address `id` of `user`; revoking twice is harmless. `NotFound` when the user has
/// no such address.
pub fn revoke(
    conn: &mut DbConnection,
    user: UserId,
    id: i64,
    now: NaiveDateTime,
) -> Result<(), ServiceError> {
    let exists: i64 = calendar_tokens::table
        .filter(calendar_tokens::id.eq(id))
        .filter(calendar_tokens::user_id.eq(user.0))
        .count()
        .get_result(conn)?;
    if exists == 0 {
        return Err(ServiceError::NotFound(
            "Diese Kalenderadresse gibt es nicht.".into(),
        ));
    }
    crate::db::write_alone(conn, |conn| {
        diesel::update(calendar_tokens::table.find(id))
            .filter(calendar_tokens::revoked_at.is_null())
            .set(calendar_tokens::revoked_at.eq(now))
            .execute(conn)
    })?;
    Ok(())
}

/// The user behind a feed secret, if the address is valid and not revoked.
pub fn resolve(conn: &mut DbConnection, secret: &str) -> Result<Option<UserId>, ServiceError> {
    if secret.is_empty() || secret.len() > 64 {
        return Ok(None);
    }
    Ok(calendar_tokens::table
        .filter(calendar_tokens::token_hash.eq(hash(secret)))
        .filter(calendar_tokens::revoked_at.is_null())
        .select(calendar_tokens::user_id)
        .first::<i64>(conn)
        .optional()?
        .map(UserId))
}

/// The deadlines `principal` may see, from `today` on.
pub fn visible_deadlines(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
    principal: &Principal,
    today: NaiveDate,
) -> Result<Vec<CaseDeadline>, ServiceError> {
    let until = today
        .checked_add_days(Days::new(YEARS_AHEAD * 366))
        .unwrap_or(today);
    visible_between(conn, registry, principal, today, until)
}

/// The deadlines `principal` may see ending between `from` and `to` (both included): the feed
/// and the start page list the same ones.
pub fn visible_between(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
    principal: &Principal,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<CaseDeadline>, ServiceError> {
    let sees_foreign = principal.has_role(Role::Admin) || principal.has_role(Role::Bewilligung);
    let scope = if sees_foreign {
        Scope::All
    } else {
        Scope::Applicant(principal.organisation_id)
    };
    let deadlines = fristen::between(conn, registry, scope, from, to)?;
    Ok(deadlines
        .into_iter()
        .filter(|d| {
            let case = CaseScope {
                applicant: d.applicant_id,
                submitted: d.submitted,
            };
            authorize(principal, Permission::ReadCase, Some(&case)).is_ok()
        })
        .collect())
}

/// What the feed needs besides the deadlines.
pub struct FeedMeta<'a> {
    /// The calendar's name in the groupware ("Fristen und Wiedervorlagen – Kreis Coesfeld").
    pub name: &'a str,
    /// Base of links to cases (`public_url`).
    pub public_url: &'a str,
    /// Domain part of the event UIDs (stable across fetches, so groupware updates, not duplicates).
    pub uid_domain: &'a str,
    pub now: DateTime<Utc>,
}

/// The iCalendar document: one all-day event per deadline, on its last day, and one per open
/// Wiedervorlage of the user's, on its day.
pub fn ics(deadlines: &[CaseDeadline], follow_ups: &[DueFollowUp], meta: &FeedMeta<'_>) -> String {
    let mut calendar = Calendar::new();
    calendar.name(meta.name);
    calendar.append_property(("PRODID", "-//vorgang//Fristen//DE"));
    calendar.append_property(("METHOD", "PUBLISH"));
    calendar.append_property(("X-PUBLISHED-TTL", "PT1H"));
    for deadline in deadlines {
        let mut description = format!(
            "{}\nAntragsteller: {}\nSchritt: {}\nFristende: {}",
            deadline.workflow_title,
            deadline.applicant_name,
            deadline.step_title,
            deadline.end.format("%d.%m.%Y")
        );
        if let Some(reason) = &deadline.reason {
            description.push('\n');
            description.push_str(reason);
        }
        let url = format!(
            "{}/vorgaenge/{}",
            meta.public_url.trim_end_matches('/'),
            deadline.case_id
        );
        // A period's last day and a timer's deadline of the same step and day stay two events.
        let uid = match &deadline.window {
            Some(window) => format!("zeitraum-{}-{window}", deadline.case_id),
            None => format!("frist-{}-{}", deadline.case_id, deadline.step),
        };
        let event = icalendar::Event::new()
            .uid(&format!(
                "{uid}-{}@{}",
                deadline.end.format("%Y%m%d"),
                meta.uid_domain
            ))
            .timestamp(meta.now)
            .all_day(deadline.end)
            .summary(&format!(
                "Fristende: {} ({})",
                deadline.step_title, deadline.aktenzeichen
            ))
            .description(&description)
            .url(&url)
            .add_property("TRANSP", "TRANSPARENT")
            .done();
        calendar.push(event);
    }
    for follow_up in follow_ups {
        let url = format!(
            "{}/vorgaenge/{}#wiedervorlage",
            meta.public_url.trim_end_matches('/'),
            follow_up.case_id.0
        );
        let event = icalendar::Event::new()
            .uid(&format!(
                "wiedervorlage-{}@{}",
                follow_up.id, meta.uid_domain
            ))
            .timestamp(meta.now)
            .all_day(follow_up.due)
            .summary(&format!(
                "Wiedervorlage: {} ({})",
                follow_up.reason, follow_up.aktenzeichen
            ))
            .description(&format!(
                "{}\nVorgang {}",
                follow_up.reason, follow_up.aktenzeichen
            ))
            .url(&url)
            .add_property("TRANSP", "TRANSPARENT")
            .done();
        calendar.push(event);
    }
    calendar.done().to_string()
}
