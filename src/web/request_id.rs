//! Request ids: taken from `X-Request-Id` when the caller sends a sane one, generated otherwise,
//! echoed in the response and attached to every log line of the request.
//!
//! Paths are logged without the secrets some of them carry (see [`loggable_path`]).

use std::borrow::Cow;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Instrument;

/// The header carrying the request id in both directions.
pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request, available to handlers through request extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn acceptable(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Path segments after which the next segment is a secret: a partner's personal link
/// (`/beteiligung/{token}`, also under `/api/v1`) and a personal calendar address
/// (`/kalender/{token}.ics`), and a link to choose a new password
/// (`/login/passwort-vergessen/{token}`). Whoever reads the log must not be able to answer for
/// a partner, subscribe to someone's deadlines or take over an account.
const SECRET_FOLLOWS: [&str; 3] = ["beteiligung", "kalender", "passwort-vergessen"];

/// `path` as it may be logged: the segment after each of [`SECRET_FOLLOWS`] replaced by
/// `[redacted]`; other paths unchanged.
pub fn loggable_path(path: &str) -> Cow<'_, str> {
    let segments: Vec<&str> = path.split('/').collect();
    let secret = |i: usize| i > 0 && SECRET_FOLLOWS.contains(&segments[i - 1]);
    if !(0..segments.len()).any(|i| secret(i) && !segments[i].is_empty()) {
        return Cow::Borrowed(path);
    }
    Cow::Owned(
        segments
            .iter()
            .enumerate()
            .map(|(i, segment)| {
                if secret(i) && !segment.is_empty() {
                    "[redacted]"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/"),
    )
}

/// Middleware: assigns the id, wraps the request in a tracing span and logs its outcome.
pub async fn assign_request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %loggable_path(req.path()),
    );
    let started = Instant::now();
    let result = next.call(req).instrument(span.clone()).await;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let _entered = span.enter();
    match result {
        Ok(mut response) => {
            if let Ok(value) = HeaderValue::from_str(&id) {
                response
                    .headers_mut()
                    .insert(REQUEST_ID_HEADER.clone(), value);
            }
            tracing::info!(
                status = response.status().as_u16(),
                elapsed_ms,
                "request finished"
            );
            Ok(response)
        }
        Err(error) => {
            tracing::warn!(error = %error, elapsed_ms, "request failed");
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn secrets_in_paths_are_not_logged() {
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXI";
        for (path, logged) in [
            (format!("/beteiligung/{token}"), "/beteiligung/[redacted]"),
            (
                format!("/beteiligung/{token}/dokumente/3"),
                "/beteiligung/[redacted]/dokumente/3",
            ),
            (
                format!("/api/v1/beteiligung/{token}"),
                "/api/v1/beteiligung/[redacted]",
            ),
            (format!("/kalender/{token}.ics"), "/kalender/[redacted]"),
            (
                format!("/login/passwort-vergessen/{token}"),
                "/login/passwort-vergessen/[redacted]",
            ),
        ] {
            assert_eq!(loggable_path(&path), logged);
        }
        for path in [
            "/",
            "/vorgaenge/12",
            "/api/v1/cases/3/journal",
            "/beteiligung/",
            "/kalender",
            "/login/passwort-vergessen",
        ] {
            assert_eq!(loggable_path(path), path);
        }
    }
}
