//! CSRF protection of the web interface's forms.
//!
//! **Forms of a logged-in user.** Every form carries the hidden field `csrf`: HMAC-SHA256 of a
//! fixed label, keyed with the session's random CSRF secret (stored with the session, never
//! sent). Templates write it with the partial `{{> csrf}}`; handlers take [`CsrfForm`], which
//! loads the session, checks the token (constant time) and only then parses the form. A missing
//! or wrong token answers 403 with a German page and the handler never runs, so nothing changes.
//!
//! **The login form** has no session yet: a signed double submit. `GET /login` puts a random
//! nonce into the cookie `vorgang_anmeldung` (`SameSite=Strict`, `Path=/login`) and into the form
//! a token signed with the installation's secret (its own audience, so it is good for nothing
//! else) that names the nonce; `POST /login` requires both and that they match. Another site can
//! neither read the cookie nor mint a token for it.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use chrono::{TimeDelta, Utc};
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::session::{self, Ready, Session, SessionPolicy};
use crate::auth::token::{Purpose, Signer};

/// Name of the hidden form field holding the token.
pub const FIELD: &str = "csrf";

/// What the session tokens authenticate; a label of their own keeps them apart from any other
/// use of the secret.
const LABEL: &[u8] = b"vorgang-ui-formular";

/// How long a login form may stay open before it has to be loaded again.
pub const LOGIN_FORM_LIFETIME: TimeDelta = TimeDelta::hours(2);

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; the error case cannot occur.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| <HmacSha256 as Mac>::new_from_slice(&[0]).expect("one-byte key"));
    mac.update(LABEL);
    mac
}

/// The CSRF token of the forms of the session with this secret (hex).
pub fn token_for(secret: &[u8]) -> String {
    mac(secret)
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `token` is the CSRF token of the session with this secret; constant time.
pub fn verify(secret: &[u8], token: &str) -> bool {
    let Some(bytes) = decode_hex(token) else {
        return false;
    };
    mac(secret).verify_slice(&bytes).is_ok()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// The submitted form of a logged-in user whose CSRF token checked out.
///
/// Use it as the extractor of every POST handler of the web interface: it loads the session
/// (no session → 303 to `/login`; pending password change → 303 to `/passwort` unless `P` is
/// [`super::AllowPending`]), reads the `application/x-www-form-urlencoded` body, checks the
/// field `csrf` (403 page when missing or wrong) and deserialises the rest into `T` (400 page
/// when that fails, or when any field holds a NUL character). Unknown fields, `csrf` among them, are ignored by `T`.
#[derive(Debug)]
pub struct CsrfForm<T, P: SessionPolicy = Ready> {
    /// The logged-in user.
    pub session: Session,
    /// The form's fields.
    pub form: T,
    _policy: PhantomData<P>,
}

#[derive(Deserialize)]
struct TokenField {
    csrf: Option<String>,
}

impl<T, P> FromRequest for CsrfForm<T, P>
where
    T: DeserializeOwned + 'static,
    P: SessionPolicy + 'static,
{
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let session = session::require::<P>(session::load(&req).await?, None)?;
            let body = match body.await {
                Ok(body) => body,
                Err(error) => {
                    tracing::info!(%error, "form body refused");
                    return Err(super::bad_form(&req, Some(&session)));
                }
            };
            let token = serde_urlencoded::from_bytes::<TokenField>(&body)
                .ok()
                .and_then(|field| field.csrf);
            if !token.is_some_and(|token| session.csrf_matches(&token)) {
                tracing::warn!(
                    path = %crate::web::request_id::loggable_path(req.path()),
                    "form refused: CSRF token missing or wrong"
                );
                return Err(super::csrf_refused(&req, Some(&session)));
            }
            // No browser sends a NUL from what a person typed, and PostgreSQL can neither store
            // nor compare one: such a form is refused as a whole, on both backends alike.
            if crate::web::fallback::encodes_nul(&body) {
                tracing::info!("form refused: NUL character");
                return Err(super::bad_form(&req, Some(&session)));
            }
            match serde_urlencoded::from_bytes::<T>(&body) {
                Ok(form) => Ok(Self {
                    session,
                    form,
                    _policy: PhantomData,
                }),
                Err(error) => {
                    tracing::info!(%error, "form does not parse");
                    Err(super::bad_form(&req, Some(&session)))
                }
            }
        })
    }
}

/// The purpose of login form tokens: its own audience, never accepted anywhere else.
#[derive(Debug)]
struct LoginForm;

/// Claims of a login form token: the nonce of the browser's `vorgang_anmeldung` cookie.
#[derive(Serialize, Deserialize)]
struct LoginFormClaims {
    nonce: String,
}

impl Purpose for LoginForm {
    const AUDIENCE: &'static str = "vorgang-ui-anmeldung";
    type Claims = LoginFormClaims;
}

/// The login form's token for the cookie nonce `nonce`; `None` if signing fails.
pub fn login_token(signer: &Signer, nonce: &str) -> Option<String> {
    signer
        .issue::<LoginForm>(
            LoginFormClaims {
                nonce: nonce.to_string(),
            },
            Utc::now(),
            LOGIN_FORM_LIFETIME,
        )
        .map_err(|error| tracing::error!(%error, "cannot sign a login form token"))
        .ok()
        .map(|issued| issued.token)
}

/// Whether a submitted login form token is valid, current and names the cookie's nonce.
pub fn login_token_matches(signer: &Signer, token: &str, nonce: &str) -> bool {
    match signer.verify::<LoginForm>(token) {
        Ok(verified) => constant_time_eq(verified.claims.nonce.as_bytes(), nonce.as_bytes()),
        Err(error) => {
            tracing::info!(%error, "login form token refused");
            false
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_for_their_secret() {
        let token = token_for(b"geheimnis-a");
        assert_eq!(token.len(), 64);
        assert!(verify(b"geheimnis-a", &token));
        assert!(!verify(b"geheimnis-b", &token));
        assert!(!verify(b"geheimnis-a", ""));
        assert!(!verify(b"geheimnis-a", &token[..62]));
        assert!(!verify(b"geheimnis-a", &"ü".repeat(32)));
        let mut flipped = token.clone().into_bytes();
        flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
        assert!(!verify(
            b"geheimnis-a",
            &String::from_utf8(flipped).unwrap()
        ));
    }

    #[test]
    fn login_tokens_are_bound_to_their_nonce() {
        let secret = crate::secret::Secret::from_configured(&"s".repeat(40)).unwrap();
        let signer = Signer::new(&secret);
        let token = login_token(&signer, "abc123").unwrap();
        assert!(login_token_matches(&signer, &token, "abc123"));
        assert!(!login_token_matches(&signer, &token, "abc124"));
        assert!(!login_token_matches(&signer, "kaputt", "abc123"));
        let other = Signer::new(&crate::secret::Secret::from_configured(&"t".repeat(40)).unwrap());
        assert!(!login_token_matches(&other, &token, "abc123"));
    }
}
