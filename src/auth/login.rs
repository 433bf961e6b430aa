//! `POST /api/v1/auth/token`: e-mail and password in, a staff access token out;
//! `DELETE` on the same path ends every token of the caller.
//!
//! Unknown address, wrong password, inactive user and user without password all get the same
//! answer, after the same amount of work (one argon2 verification). Failed attempts are limited
//! per account and per client address (see [`super::limiter`]).

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Auth;
use super::limiter::{LimitKey, Refused};
use super::principal::{Caller, internal_error};
use super::token::StaffToken;
use crate::db::Database;
use crate::db::models::User;
use crate::service::users;
use crate::web::api::blocking;
use crate::web::problem::Problem;

/// Path of the token endpoint.
pub const TOKEN_PATH: &str = "/api/v1/auth/token";

/// Largest request body accepted: an e-mail address and a password fit easily.
const BODY_LIMIT: usize = 4 * 1024;

/// The login request body.
#[derive(Deserialize, ToSchema)]
pub struct Credentials {
    /// E-Mail-Adresse des Kontos.
    email: String,
    /// Passwort des Kontos.
    #[schema(format = Password)]
    password: String,
}

/// The login response body.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedToken {
    /// Zugangstoken (JWT) für `Authorization: Bearer …`.
    pub token: String,
    /// Ablaufzeitpunkt (UTC, RFC 3339).
    pub expires_at: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("email", &self.email)
            .field("password", &"<verborgen>")
            .finish()
    }
}

/// Why no token was issued.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown e-mail, wrong password, inactive user: deliberately indistinguishable.
    #[error("Anmeldung fehlgeschlagen")]
    InvalidCredentials,
    /// Too many failed attempts for the account or the address.
    #[error("zu viele Anmeldeversuche, erneut in {0:?}")]
    TooManyAttempts(Duration),
    /// The database or token signing failed.
    #[error("interner Fehler: {0}")]
    Internal(String),
}

impl ResponseError for LoginError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::InvalidCredentials => {
                let mut response = Problem::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid-credentials",
                    "Anmeldung fehlgeschlagen",
                )
                .with_detail("E-Mail-Adresse oder Passwort ist nicht korrekt.")
                .error_response();
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"vorgang\""),
                );
                response
            }
            Self::TooManyAttempts(wait) => {
                let seconds = retry_after_seconds(*wait);
                let mut response = Problem::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too-many-login-attempts",
                    "Zu viele Anmeldeversuche",
                )
                .with_detail(format!(
                    "Zu viele fehlgeschlagene Anmeldeversuche. Bitte versuchen Sie es in {} erneut.",
                    describe_wait(seconds)
                ))
                .error_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                response
            }
            Self::Internal(_) => internal_error().error_response(),
        }
    }
}

/// Whole seconds to wait, rounded up, at least one.
pub(crate) fn retry_after_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// "1 Sekunde", "45 Sekunden", "3 Minuten" (rounded up).
pub(crate) fn describe_wait(seconds: u64) -> String {
    match seconds {
        1 => "1 Sekunde".into(),
        0..=90 => format!("{seconds} Sekunden"),
        _ => {
            let minutes = seconds.div_ceil(60);
            format!("{minutes} Minuten")
        }
    }
}

/// The answer to a body that is not `{"email": …, "password": …}`; never echoes the input.
fn bad_request() -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, "bad-request", "Ungültige Anfrage").with_detail(
        "Erwartet wird ein JSON-Objekt mit den Feldern „email“ und „password“ \
         (Content-Type: application/json).",
    )
}

/// Body parsing for the token endpoint: small, and errors as problem+json.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(BODY_LIMIT)
        .error_handler(|_error, _req| bad_request().into())
}

/// Any method but POST and DELETE on the token path: 405 problem+json naming the allowed ones.
pub async fn method_not_allowed() -> HttpResponse {
    let mut response = Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Methode nicht erlaubt",
    )
    .with_detail(
        "Ein Zugangstoken erhalten Sie mit POST; mit DELETE sperren Sie alle Ihre Zugangstoken.",
    )
    .error_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST, DELETE"));
    response
}

/// Checks the credentials and issues a staff access token: `{"token", "expires_at"}`.
#[utoipa::path(
    post,
    path = "/api/v1/auth/token",
    tag = "Anmeldung",
    summary = "Zugangstoken anfordern",
    description = "Anmeldung mit E-Mail-Adresse und Passwort; keine Authentifizierung nötig.",
    request_body = Credentials,
    responses(
        (status = 200, description = "Das Zugangstoken", body = IssuedToken),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Anmeldung fehlgeschlagen", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Das Konto hat noch sein Einmalpasswort; es muss zuerst in der Weboberfläche ersetzt werden", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Zu viele fehlgeschlagene Anmeldeversuche (`Retry-After`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn issue_token(
    req: HttpRequest,
    credentials: web::Json<Credentials>,
    db: web::Data<Database>,
    auth: web::Data<Auth>,
) -> Result<HttpResponse, LoginError> {
    let Credentials { email, password } = credentials.into_inner();
    let peer = auth.proxies.client_of(&req);
    let user = authenticate(&auth, &db, peer, email, password).await?;
    // A one-time password is for the first login in the web interface, which makes the user
    // replace it; a program could otherwise go on using it for good.
    if user.must_change_password {
        return Ok(Problem::new(
            StatusCode::FORBIDDEN,
            "password-change-required",
            "Einmalpasswort noch nicht ersetzt",
        )
        .with_detail(
            "Bitte melden Sie sich in der Weboberfläche an und ersetzen Sie Ihr Einmalpasswort; \
             danach erhalten Sie hier ein Zugangstoken.",
        )
        .error_response());
    }
    let issued = auth.tokens.issue(StaffToken::of(&user)).map_err(|error| {
        tracing::error!(%error, "cannot sign a token");
        LoginError::Internal(error.to_string())
    })?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(IssuedToken {
            token: issued.token,
            expires_at: issued.expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        }))
}

/// Ends every staff token of the caller, the one presented included: signing off everywhere, or
/// stopping a token that leaked (anyone holding it can end it, but nothing more).
#[utoipa::path(
    delete,
    path = "/api/v1/auth/token",
    tag = "Anmeldung",
    summary = "Alle eigenen Zugangstoken sperren",
    description = "Beendet jedes API-Zugangstoken des eigenen Kontos, auch das gesendete: zum Abmelden überall oder wenn ein Token in falsche Hände geraten ist. Ein neues erhalten Sie wieder mit POST. Sitzungen in der Weboberfläche bleiben bestehen.",
    responses(
        (status = 204, description = "Alle Zugangstoken des Kontos sind gesperrt"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke_own_tokens(
    caller: Caller,
    db: web::Data<Database>,
) -> Result<HttpResponse, actix_web::Error> {
    let outcome = blocking(&db, move |conn| match caller.principal(conn)? {
        Ok(principal) => {
            users::revoke_own_tokens(conn, principal.user_id, chrono::Utc::now().naive_utc())
                .map(Ok)
        }
        Err(refused) => Ok(Err(refused)),
    })
    .await?;
    outcome?;
    Ok(HttpResponse::NoContent().finish())
}

/// Checks e-mail and password under the failed-login limits and returns the active user.
///
/// The one credential check of the server: the token endpoint and the web login both call it,
/// with the same [`Auth::limiter`], so failures on either count against the same account and
/// client address. Unknown address, wrong password, inactive user and user without password are
/// the same [`LoginError::InvalidCredentials`], after the same work (one argon2 verification).
pub async fn authenticate(
    auth: &web::Data<Auth>,
    db: &Database,
    peer: Option<IpAddr>,
    email: String,
    password: String,
) -> Result<User, LoginError> {
    let keys = [LimitKey::account(&email), LimitKey::address(peer)];
    let reservation = auth
        .limiter
        .reserve(db, &keys)
        .await
        .map_err(|refused| match refused {
            Refused::TooMany(wait) => {
                tracing::warn!(
                    wait_s = wait.as_secs(),
                    "login refused: too many failed attempts"
                );
                LoginError::TooManyAttempts(wait)
            }
            Refused::Database(error) => {
                tracing::error!(%error, "login: the attempt could not be counted");
                LoginError::Internal(error.to_string())
            }
        })?;

    let lookup = db.run(move |conn| User::find_by_email(conn, &email)).await;
    let user = match lookup {
        Ok(user) => user,
        Err(error) => {
            reservation.give_back(db).await;
            tracing::error!(%error, "login: user lookup failed");
            return Err(LoginError::Internal(error.to_string()));
        }
    };

    let checker = auth.clone();
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let verified = web::block(move || checker.passwords.verify(stored.as_deref(), &password)).await;
    let password_ok = match verified {
        Ok(ok) => ok,
        Err(error) => {
            reservation.give_back(db).await;
            return Err(LoginError::Internal(error.to_string()));
        }
    };

    match user {
        Some(user) if password_ok && user.active => {
            reservation.give_back(db).await;
            tracing::info!(user_id = %user.id, "login succeeded");
            Ok(user)
        }
        _ => {
            drop(reservation); // counts as a failure
            tracing::info!("login failed");
            Err(LoginError::InvalidCredentials)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_rounded_up_and_worded() {
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_seconds(Duration::from_secs(180)), 180);
        assert_eq!(describe_wait(1), "1 Sekunde");
        assert_eq!(describe_wait(45), "45 Sekunden");
        assert_eq!(describe_wait(180), "3 Minuten");
        assert_eq!(describe_wait(181), "4 Minuten");
    }

    #[test]
    fn credentials_debug_hides_the_password() {
        let credentials: Credentials =
            serde_json::from_str(r#"{"email":"a@b.de","password":"geheim-geheim"}"#).unwrap();
        assert!(!format!("{credentials:?}").contains("geheim"));
    }
}
