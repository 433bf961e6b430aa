//! „Passwort vergessen“: a user with an active account and a password asks for a link by mail
//! and chooses a new password through it, without waiting for the administration.
//!
//! The link is a token of its own purpose (audience `vorgang-passwort`), valid for
//! [`LINK_MINUTES`], naming the user and a fingerprint of the password hash it replaces. So it
//! works once: the new password changes the hash, and with it every link issued before (also
//! one the administration's reset or the user's own change overtook). Nothing is stored for a
//! link; the mail goes through the outbox like every other.
//!
//! Who asks never learns whether the address has an account: the page reads the same either
//! way, and only the account's own mailbox receives the link. Users without a password (those
//! the proxy logs in) get no link: they set a first password only through the proxy (see
//! `web::ui::password`).
//!
//! The administration sends the same kind of link, valid for [`ACCESS_LINK_DAYS`], to hand
//! over a new account instead of reading out its one-time password ([`send_access_link`]).

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::ServiceError;
use super::mail::{self, Envelope, Outgoing};
use crate::auth::token::{Purpose, Signer, TokenError};
use crate::db::models::{User, UserId};
use crate::db::schema::{ui_sessions, users};
use crate::db::{DbConnection, write_transaction};

/// How long a link is valid, in minutes.
pub const LINK_MINUTES: i64 = 60;
/// How long a link the administration sends to a new or locked-out account is valid, in days:
/// it may arrive on a Friday afternoon.
pub const ACCESS_LINK_DAYS: i64 = 7;
/// The mail with the administration's link (`templates/mail/zugang_einrichten.*`).
pub const ACCESS_TEMPLATE: &str = "zugang_einrichten";
/// The mail with the link (`templates/mail/passwort_vergessen.*`).
pub const TEMPLATE: &str = "passwort_vergessen";
/// The mail confirming the change, so that a user who did not ask notices
/// (`templates/mail/passwort_geaendert.*`).
pub const CHANGED_TEMPLATE: &str = "passwort_geaendert";
/// The address of the pages, below the public URL; the token follows it.
pub const PATH: &str = "login/passwort-vergessen";

/// The purpose of reset links.
pub struct PasswordResetLink;

/// What a reset link names.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResetClaims {
    /// The user id, as a decimal string.
    pub sub: String,
    /// [`fingerprint`] of the password hash the link replaces.
    pub pwd: String,
}

impl Purpose for PasswordResetLink {
    const AUDIENCE: &'static str = "vorgang-passwort";
    type Claims = ResetClaims;
}

/// Why a link does not open the form (German, shown on the page; 410 for all but `Invalid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkProblem {
    /// Malformed, tampered, of another purpose or naming nobody.
    #[error(
        "Dieser Link ist ungültig. Bitte verwenden Sie den vollständigen Link aus der E-Mail \
         oder fordern Sie einen neuen an."
    )]
    Invalid,
    /// Past its validity ([`LINK_MINUTES`], or [`ACCESS_LINK_DAYS`] for the administration's).
    #[error(
        "Dieser Link ist abgelaufen. Bitte fordern Sie unter „Passwort vergessen?“ einen neuen \
         an."
    )]
    Expired,
    /// The password changed since (through this link or otherwise), or the account was
    /// deactivated.
    #[error(
        "Dieser Link gilt nicht mehr: Das Passwort wurde inzwischen geändert, oder das Konto \
         ist nicht mehr aktiv. Fordern Sie bei Bedarf einen neuen Link an."
    )]
    Used,
}

/// The account a link opened, with the hash it may replace.
#[derive(Debug, Clone)]
pub struct ResetAccount {
    pub user: UserId,
    pub email: String,
    /// How the confirmation mail addresses the user.
    name: String,
    /// The account still has the one-time password the administration gave it: the link
    /// sets its first own password, and the page and the confirmation say so.
    pub first: bool,
    replaces: String,
}

/// A short, one-way fingerprint of a password hash: the token is readable by whoever holds it
/// and must not carry the hash itself.
fn fingerprint(hash: &str) -> String {
    let digest = Sha256::digest(hash.as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// A link for `user`, whose password hash is `hash`, issued at `now` for `lifetime`: its
/// address and when it ends.
fn link_for(
    out: &Outgoing,
    user: &User,
    hash: &str,
    now: DateTime<Utc>,
    lifetime: TimeDelta,
) -> Result<(String, DateTime<Utc>), ServiceError> {
    let claims = ResetClaims {
        sub: user.id.0.to_string(),
        pwd: fingerprint(hash),
    };
    let issued = out
        .signer
        .issue::<PasswordResetLink>(claims, now, lifetime)
        .map_err(|error| ServiceError::Internal(error.to_string()))?;
    let link = out.link(&format!("{PATH}/{}", issued.token));
    Ok((link, issued.expires_at))
}

/// Mails a reset link to the account of `email` if it is active and has a password; returns
/// whether a mail was queued (for the log only: the page must not tell).
pub fn request(
    conn: &mut DbConnection,
    out: &Outgoing,
    email: &str,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    let Some(user) = User::find_by_email(conn, email)?.filter(|user| user.active) else {
        return Ok(false);
    };
    let Some(hash) = user.password_hash.as_deref() else {
        return Ok(false);
    };
    let (link, expires) = link_for(out, &user, hash, now, TimeDelta::minutes(LINK_MINUTES))?;
    let context = json!({
        "name": user.display_name,
        "link": link,
        "minuten": LINK_MINUTES,
        "gueltig_bis": super::clock::berlin_time_de(expires),
        "anmeldung": out.link("login"),
    });
    let to = (user.id, user.email.as_str());
    queue_to(conn, out, to, TEMPLATE, &context, now.naive_utc())?;
    Ok(true)
}

/// Mails `user` a link to choose a password, valid for [`ACCESS_LINK_DAYS`]: the
/// administration's way to hand over a new account (or one whose one-time password it just
/// replaced) without reading a password out to anyone. The one-time password stays valid until
/// either is used. Recorded in the administration's record; returns the address mailed.
pub fn send_access_link(
    conn: &mut DbConnection,
    out: &Outgoing,
    actor: &super::admin_log::Administrator,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<String, ServiceError> {
    let refused = |message: &str| {
        ServiceError::InvalidInput(vec![crate::engine::data::DataError {
            pointer: "/access_link".into(),
            message: message.into(),
        }])
    };
    let account = User::find_by_id(conn, user)?
        .ok_or_else(|| ServiceError::NotFound("Diesen Benutzer gibt es nicht.".into()))?;
    if actor.id == user {
        return Err(refused(
            "Ihr eigenes Passwort ändern Sie unter „Passwort ändern“.",
        ));
    }
    if !account.active {
        return Err(refused(
            "Das Konto ist deaktiviert; aktivieren Sie es zuerst wieder.",
        ));
    }
    let Some(hash) = account.password_hash.as_deref() else {
        return Err(refused(
            "Dieses Konto meldet sich über das Netz der Verwaltung an und braucht kein Passwort.",
        ));
    };
    let (link, expires) = link_for(out, &account, hash, now, TimeDelta::days(ACCESS_LINK_DAYS))?;
    let context = json!({
        "name": account.display_name,
        "link": link,
        "tage": ACCESS_LINK_DAYS,
        "gueltig_bis": super::clock::berlin_time_de(expires),
        "anmeldung": out.link("login"),
        "email": account.email,
    });
    let at = now.naive_utc();
    write_transaction(conn, |conn| {
        let to = (account.id, account.email.as_str());
        queue_to(conn, out, to, ACCESS_TEMPLATE, &context, at)?;
        super::admin_log::record(
            conn,
            at,
            &actor.email,
            super::admin_log::ACCESS_LINK_SENT,
            &account.email,
            &json!({}),
        )?;
        Ok::<(), ServiceError>(())
    })?;
    tracing::info!(user_id = %user, actor = %actor.id, "access link mailed");
    Ok(account.email)
}

/// One mail to the user `(id, address)`, its subject read from the same context.
fn queue_to(
    conn: &mut DbConnection,
    out: &Outgoing,
    (user, email): (UserId, &str),
    template: &str,
    context: &Value,
    at: NaiveDateTime,
) -> Result<(), ServiceError> {
    mail::queue_with(
        conn,
        out,
        Envelope {
            case: None,
            invitation: None,
            template,
            recipients: json!({ "kind": "user", "user": user.0 }),
            to: vec![email.to_string()],
        },
        context,
        context,
        at,
    )
}

/// The account `token` may set a new password for.
pub fn open(
    conn: &mut DbConnection,
    signer: &Signer,
    token: &str,
) -> Result<Result<ResetAccount, LinkProblem>, ServiceError> {
    let claims = match signer.verify::<PasswordResetLink>(token) {
        Ok(verified) => verified.claims,
        Err(TokenError::Expired) => return Ok(Err(LinkProblem::Expired)),
        Err(_) => return Ok(Err(LinkProblem::Invalid)),
    };
    let Ok(id) = claims.sub.parse::<i64>() else {
        return Ok(Err(LinkProblem::Invalid));
    };
    let Some(user) = User::find_by_id(conn, UserId(id))? else {
        return Ok(Err(LinkProblem::Invalid));
    };
    let current = user.password_hash.as_deref().map(fingerprint);
    if !user.active || current.as_deref() != Some(claims.pwd.as_str()) {
        return Ok(Err(LinkProblem::Used));
    }
    Ok(Ok(ResetAccount {
        user: user.id,
        email: user.email,
        name: user.display_name,
        first: user.must_change_password,
        replaces: user.password_hash.unwrap_or_default(),
    }))
}

/// Replaces the password of `account` with `new_hash`, unless it changed since the link was
/// opened (then `false`, nothing changes). Like a change on the password page it clears a
/// pending one-time password and ends the user's API tokens; it also ends every web session
/// (whoever knew the old password may be logged in), records the change in the administration
/// log and mails the user that it happened.
pub fn complete(
    conn: &mut DbConnection,
    out: &Outgoing,
    account: &ResetAccount,
    new_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    let at = now.naive_utc();
    write_transaction(conn, |conn| {
        let updated = diesel::update(
            users::table
                .find(account.user)
                .filter(users::active.eq(true))
                .filter(users::password_hash.eq(&account.replaces)),
        )
        .set((
            users::password_hash.eq(new_hash),
            users::must_change_password.eq(false),
            users::updated_at.eq(at),
            users::token_generation.eq(users::token_generation + 1),
        ))
        .execute(conn)?;
        if updated == 0 {
            return Ok(false);
        }
        diesel::delete(ui_sessions::table.filter(ui_sessions::user_id.eq(account.user)))
            .execute(conn)?;
        super::admin_log::record(
            conn,
            at,
            &account.email,
            super::admin_log::PASSWORD_RESET_BY_MAIL,
            &account.email,
            &json!({}),
        )?;
        let context = json!({
            "name": account.name,
            "zeitpunkt": super::clock::berlin_time_de(now),
            "anmeldung": out.link("login"),
            "erstes": account.first,
        });
        let to = (account.user, account.email.as_str());
        queue_to(conn, out, to, CHANGED_TEMPLATE, &context, at)?;
        Ok(true)
    })
}

/// The three mails with sample contexts (the confirmation of a first and of a new password),
/// for the template checks.
pub fn sample_mails() -> Vec<crate::render::SampleMail> {
    vec![
        crate::render::SampleMail::new(
            ACCESS_TEMPLATE,
            json!({
                "name": "Anna Berg",
                "link": "https://vorgang.example/login/passwort-vergessen/eyJ0",
                "tage": ACCESS_LINK_DAYS,
                "gueltig_bis": "30.11.2026, 14:05 Uhr",
                "anmeldung": "https://vorgang.example/login",
                "email": "anna.berg@kreis-soest.de",
            }),
        ),
        crate::render::SampleMail::new(
            TEMPLATE,
            json!({
                "name": "Anna Berg",
                "link": "https://vorgang.example/login/passwort-vergessen/eyJ0",
                "minuten": LINK_MINUTES,
                "gueltig_bis": "23.11.2026, 15:05 Uhr",
                "anmeldung": "https://vorgang.example/login",
            }),
        ),
        crate::render::SampleMail::new(
            CHANGED_TEMPLATE,
            json!({
                "name": "Anna Berg",
                "zeitpunkt": "23.11.2026, 14:12 Uhr",
                "anmeldung": "https://vorgang.example/login",
                "erstes": false,
            }),
        ),
        crate::render::SampleMail::new(
            CHANGED_TEMPLATE,
            json!({
                "name": "Anna Berg",
                "zeitpunkt": "23.11.2026, 14:12 Uhr",
                "anmeldung": "https://vorgang.example/login",
                "erstes": true,
            }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_is_short_stable_and_not_the_hash() {
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
        assert_eq!(fingerprint(hash), fingerprint(hash));
        assert_eq!(fingerprint(hash).len(), 32);
        assert_ne!(fingerprint(hash), fingerprint("$argon2id$v=19$other"));
        assert!(!fingerprint(hash).contains("argon2"));
    }

    #[test]
    fn links_of_other_purposes_do_not_open_the_form() {
        let secret = crate::secret::Secret::from_configured(&"s".repeat(40)).unwrap();
        let signer = Signer::new(&secret);
        let staff = signer
            .issue::<crate::auth::token::StaffAccess>(
                crate::auth::token::StaffClaims {
                    sub: "1".into(),
                    generation: 0,
                },
                Utc::now(),
                TimeDelta::minutes(5),
            )
            .unwrap();
        assert!(signer.verify::<PasswordResetLink>(&staff.token).is_err());
        let reset = signer
            .issue::<PasswordResetLink>(
                ResetClaims {
                    sub: "1".into(),
                    pwd: "x".into(),
                },
                Utc::now(),
                TimeDelta::minutes(5),
            )
            .unwrap();
        assert!(
            signer
                .verify::<crate::auth::token::StaffAccess>(&reset.token)
                .is_err()
        );
    }
}
