//! Personal answer links: `{public_url}/beteiligung/{token}`, where the token is a JWT of its own
//! purpose (audience `vorgang-beteiligung`) naming one invitation, with an id (`jti`) recorded in
//! `partner_links` so that a link can be revoked. Staff tokens never verify here and these never
//! verify as staff tokens (different audiences, see [`crate::auth::token`]).
//!
//! The same link is rendered into the invitation, every reminder and the confirmation: the
//! token is re-signed from the stored row (same claims, same times), so it is never stored.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::ServiceError;
use super::mail::Outgoing;
use crate::auth::token::{Purpose, Signer, TokenError};
use crate::db::schema::{invitations, partner_links};
use crate::db::{DbConnection, Deferred, defer_insert};

/// The purpose of answer links.
pub struct PartnerLink;

/// What an answer link names.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkClaims {
    /// The link's id (row of `partner_links`).
    pub jti: String,
    /// The invitation (`invitations.id`).
    pub inv: i64,
}

impl Purpose for PartnerLink {
    const AUDIENCE: &'static str = "vorgang-beteiligung";
    type Claims = LinkClaims;
}

/// Why a link does not open the answer page. Each maps to one status and one German page.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LinkError {
    /// Malformed, tampered, wrong purpose or unknown: 403.
    #[error(
        "Dieser Link ist ungültig. Bitte verwenden Sie den vollständigen Link aus Ihrer E-Mail."
    )]
    Invalid,
    /// Past its validity: 410.
    #[error("Dieser Link ist abgelaufen. Die Beteiligung ist abgeschlossen.")]
    Expired,
    /// Replaced by a newer invitation mail: 410.
    #[error(
        "Dieser Link wurde durch einen neueren ersetzt. Bitte verwenden Sie den Link aus der zuletzt erhaltenen E-Mail."
    )]
    Revoked,
    /// The office withdrew the invitation (sent to the wrong body): 410.
    #[error(
        "Die Stelle, die Sie beteiligt hat, hat diese Beteiligung zurückgenommen. Eine Stellungnahme ist nicht erforderlich; die Unterlagen des Vorgangs sind über diesen Link nicht mehr abrufbar."
    )]
    Withdrawn,
}

/// A link that opened: which invitation, and whether the consultation still takes answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkAccess {
    /// `invitations.id`.
    pub invitation: i64,
}

/// Start of the day after `deadline` in Germany, as UTC (an upper bound: 00:00 CET).
fn end_of_deadline(deadline: NaiveDate) -> NaiveDateTime {
    deadline
        .succ_opt()
        .unwrap_or(deadline)
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        - TimeDelta::hours(1)
}

/// Revokes every link of `invitation` now (a withdrawn invitation).
pub fn revoke_all(
    conn: &mut DbConnection,
    invitation: i64,
    now: NaiveDateTime,
) -> Result<(), ServiceError> {
    diesel::update(partner_links::table)
        .filter(partner_links::invitation_id.eq(invitation))
        .filter(partner_links::revoked_at.is_null())
        .set(partner_links::revoked_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Issues a new link for `invitation`, revoking every earlier one (re-sending an invitation).
/// Valid until the end of the deadline plus the grace period; closing the consultation earlier
/// shortens that (checked in [`resolve`]).
pub fn issue(
    conn: &mut DbConnection,
    out: &Outgoing,
    invitation: i64,
    deadline: NaiveDate,
    now: NaiveDateTime,
) -> Result<String, ServiceError> {
    revoke_all(conn, invitation, now)?;
    add(conn, out, invitation, deadline, now)
}

/// Issues a further link for `invitation`, valid until the end of `deadline` plus the grace
/// period, and leaves the earlier ones valid until their own end (an extended deadline: a
/// partner who misses the mail with the new link keeps answering through the one it has).
pub fn add(
    conn: &mut DbConnection,
    out: &Outgoing,
    invitation: i64,
    deadline: NaiveDate,
    now: NaiveDateTime,
) -> Result<String, ServiceError> {
    let (link, url) = prepare_first(out, invitation, deadline, now)?;
    let mut deferred = Deferred::new();
    insert_first(conn, &mut deferred, vec![link])?;
    deferred.flush(conn)?;
    Ok(url)
}

/// A first link not yet recorded, so that the links of one command can be inserted together
/// ([`insert_first`]).
pub struct NewLink {
    jti: String,
    invitation: i64,
    created: NaiveDateTime,
    expires: NaiveDateTime,
}

/// Signs the first link of a new invitation; returns the row to record and the link's URL,
/// which is valid only once the row is recorded.
pub fn prepare_first(
    out: &Outgoing,
    invitation: i64,
    deadline: NaiveDate,
    now: NaiveDateTime,
) -> Result<(NewLink, String), ServiceError> {
    let jti = uuid::Uuid::new_v4().to_string();
    let created = now.and_utc().timestamp();
    let created = DateTime::from_timestamp(created, 0).unwrap_or_default();
    let expires = (end_of_deadline(deadline) + out.link_grace).max(now + TimeDelta::days(1));
    let expires = DateTime::from_timestamp(expires.and_utc().timestamp(), 0).unwrap_or_default();
    let url = sign(out, &jti, invitation, created, expires)?;
    let link = NewLink {
        jti,
        invitation,
        created: created.naive_utc(),
        expires: expires.naive_utc(),
    };
    Ok((link, url))
}

/// Records first links with one INSERT.
pub fn insert_first(
    conn: &mut DbConnection,
    deferred: &mut Deferred,
    links: Vec<NewLink>,
) -> Result<(), ServiceError> {
    let row = |link: NewLink| {
        (
            partner_links::jti.eq(link.jti),
            partner_links::invitation_id.eq(link.invitation),
            partner_links::created_at.eq(link.created),
            partner_links::expires_at.eq(link.expires),
        )
    };
    if links.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = links.into_iter().map(row).collect();
    // One multi-row INSERT, on PostgreSQL with the command's other writes (`deferred`).
    defer_insert!(conn, deferred, partner_links::table, rows)?;
    Ok(())
}

/// The current link of `invitation` (for reminders and confirmations), if one was issued and
/// not revoked.
pub fn current(
    conn: &mut DbConnection,
    out: &Outgoing,
    invitation: i64,
) -> Result<Option<String>, ServiceError> {
    let row: Option<(String, NaiveDateTime, NaiveDateTime)> = partner_links::table
        .filter(partner_links::invitation_id.eq(invitation))
        .filter(partner_links::revoked_at.is_null())
        .order(partner_links::created_at.desc())
        .select((
            partner_links::jti,
            partner_links::created_at,
            partner_links::expires_at,
        ))
        .first(conn)
        .optional()?;
    row.map(|(jti, created, expires)| {
        sign(out, &jti, invitation, created.and_utc(), expires.and_utc())
    })
    .transpose()
}

fn sign(
    out: &Outgoing,
    jti: &str,
    invitation: i64,
    created: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> Result<String, ServiceError> {
    let issued = out
        .signer
        .issue::<PartnerLink>(
            LinkClaims {
                jti: jti.to_string(),
                inv: invitation,
            },
            created,
            expires - created,
        )
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(out.link(&format!("beteiligung/{}", issued.token)))
}

/// Checks a link token: signature and purpose, then that its id is recorded for this invitation,
/// that the invitation was not withdrawn, that the link was not revoked, and that the
/// consultation closed less than `grace` ago (if it closed).
pub fn resolve(
    conn: &mut DbConnection,
    signer: &Signer,
    token: &str,
    grace: TimeDelta,
    now: NaiveDateTime,
) -> Result<LinkAccess, ResolveError> {
    let verified = signer
        .verify::<PartnerLink>(token)
        .map_err(|error| match error {
            TokenError::Expired => LinkError::Expired,
            _ => LinkError::Invalid,
        })?;
    let claims = verified.claims;
    let row: Option<(i64, Option<NaiveDateTime>)> = partner_links::table
        .find(&claims.jti)
        .select((partner_links::invitation_id, partner_links::revoked_at))
        .first(conn)
        .optional()?;
    let Some((invitation, revoked)) = row else {
        return Err(LinkError::Invalid.into());
    };
    if invitation != claims.inv {
        return Err(LinkError::Invalid.into());
    }
    let found: Option<(String, Option<NaiveDateTime>)> = invitations::table
        .find(invitation)
        .select((invitations::status, invitations::closed_at))
        .first(conn)
        .optional()?;
    // A withdrawn invitation's links are revoked too; the partner learns why.
    match found {
        None => Err(LinkError::Invalid.into()),
        Some((status, _)) if status == "withdrawn" => Err(LinkError::Withdrawn.into()),
        Some(_) if revoked.is_some() => Err(LinkError::Revoked.into()),
        Some((_, Some(closed))) if closed + grace < now => Err(LinkError::Expired.into()),
        Some(_) => Ok(LinkAccess { invitation }),
    }
}

/// A refused link, or storage trouble while checking it.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The link itself is refused.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// Storage failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<diesel::result::Error> for ResolveError {
    fn from(error: diesel::result::Error) -> Self {
        ResolveError::Service(error.into())
    }
}
