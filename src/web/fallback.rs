//! Answers for addresses and methods no route takes. The router's own answers are empty; a
//! program calling the API expects problem+json, a person in a browser a German page with the
//! way back (a mistyped address, a bookmarked form address, a case number with a letter in it).

use actix_web::body::{BodySize, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, HttpResponse, ResponseError, web};

use super::problem::Problem;
use super::ui;

/// Path prefix of the JSON API: what lies under it is answered as problem+json.
const API_PREFIX: &str = "/api/";

/// The application's default service: no route has this address.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    if is_api(&req) {
        return Problem::not_found().error_response();
    }
    ui::status_page(
        &req,
        StatusCode::NOT_FOUND,
        "Seite nicht gefunden",
        "Unter dieser Adresse gibt es keine Seite.",
        "Bitte prüfen Sie die Adresse.",
    )
    .await
}

/// Marks the framework's refusal of an address part or a query string that does not parse, so
/// [`answer_in_kind`] answers it in kind (the refusal itself is made where no session, and
/// so no navigation, can be loaded).
#[derive(Debug, Clone, Copy)]
struct Unparsable;

/// Path parameters of the pages that do not parse (`/vorgaenge/99999999999999999999`, a
/// document id with a letter in it): answered as an address that does not exist. The API has
/// its own (problem+json).
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|error, _| unparsable(error, StatusCode::NOT_FOUND))
}

/// A query string of a page that does not parse (a letter where a number belongs, a value
/// not offered): a German page saying so, not the framework's English text.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _| unparsable(error, StatusCode::BAD_REQUEST))
}

fn unparsable(error: impl ResponseError + 'static, status: StatusCode) -> Error {
    tracing::info!(%error, "address does not parse");
    let mut response = HttpResponse::build(status).finish();
    response.extensions_mut().insert(Unparsable);
    actix_web::error::InternalError::from_response(error, response).into()
}

/// Middleware around the whole application, so that what the framework refuses on its own is
/// answered like every other refusal, as a German page or as problem+json:
/// - the router's empty `405 Method Not Allowed` (a page that only takes forms, opened by its
///   address; a method the API route, the partner page or a calendar feed does not have),
///   keeping its `Allow` header;
/// - an address or query that does not parse ([`path_config`], [`query_config`]);
/// - an address or query holding an encoded NUL character (`%00`), before any handler sees it:
///   PostgreSQL cannot compare text with one, so a lookup of such a key would fail instead of
///   finding nothing.
pub async fn answer_in_kind(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if let Some(status) = nul_in_address(req.uri().path(), req.query_string()) {
        tracing::info!("address refused: NUL character");
        let (req, _) = req.into_parts();
        let answer = unparsable_page(&req, status).await;
        return Ok(ServiceResponse::new(req, answer).map_into_right_body());
    }
    let response = next.call(req).await?;
    if response
        .response()
        .extensions()
        .get::<Unparsable>()
        .is_some()
    {
        let status = response.status();
        let (req, _) = response.into_parts();
        let answer = unparsable_page(&req, status).await;
        return Ok(ServiceResponse::new(req, answer).map_into_right_body());
    }
    if response.status() != StatusCode::METHOD_NOT_ALLOWED
        || response.response().body().size() != BodySize::Sized(0)
    {
        return Ok(response.map_into_left_body());
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let (req, original) = response.into_parts();
    let mut answer = if is_api(&req) {
        Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Methode nicht erlaubt",
        )
        .with_detail(format!(
            "Diese Adresse nimmt {} nicht an; erlaubt: {}.",
            req.method(),
            allow
                .as_ref()
                .and_then(|a| a.to_str().ok())
                .unwrap_or("keine Methode")
        ))
        .error_response()
    } else if allows_get(allow.as_ref()) {
        // A page or file (the partner page, a calendar feed, the stylesheet) sent something
        // other than a plain request or its form.
        ui::status_page(
            &req,
            StatusCode::METHOD_NOT_ALLOWED,
            "Anfrage nicht möglich",
            &format!(
                "Diese Adresse nimmt Anfragen der Art {} nicht entgegen.",
                req.method()
            ),
            "Bitte öffnen Sie die Seite über ihren Link oder die Adresszeile des Browsers.",
        )
        .await
    } else {
        ui::status_page(
            &req,
            StatusCode::METHOD_NOT_ALLOWED,
            "Seite nicht abrufbar",
            "Diese Adresse nimmt nur ausgefüllte Formulare entgegen und lässt sich nicht direkt \
             aufrufen.",
            "Bitte öffnen Sie die Seite, zu der das Formular gehört, und senden Sie es dort ab.",
        )
        .await
    };
    // The router's headers (`Allow`) and those of the middleware inside (security headers).
    for (name, value) in original.headers() {
        if !answer.headers().contains_key(name) && name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    Ok(ServiceResponse::new(req, answer).map_into_right_body())
}

/// 404 for a path holding an encoded NUL character, 400 for such a query; `None` for others.
fn nul_in_address(path: &str, query: &str) -> Option<StatusCode> {
    if encodes_nul(path.as_bytes()) {
        Some(StatusCode::NOT_FOUND)
    } else if encodes_nul(query.as_bytes()) {
        Some(StatusCode::BAD_REQUEST)
    } else {
        None
    }
}

/// Whether percent-encoded text (an address, a query, an urlencoded form) decodes to a NUL
/// character: `%00`, or the byte itself. Read on the encoded bytes, since a `%` that is text is
/// itself encoded (`%25`), so nothing else decodes to NUL.
pub(crate) fn encodes_nul(encoded: &[u8]) -> bool {
    encoded.contains(&0) || encoded.windows(3).any(|w| w == b"%00")
}

/// The answer to an address ([`StatusCode::NOT_FOUND`]) or query that does not parse.
async fn unparsable_page(req: &HttpRequest, status: StatusCode) -> HttpResponse {
    if status == StatusCode::NOT_FOUND {
        return not_found(req.clone()).await;
    }
    if is_api(req) {
        return super::api::bad_request(
            "Die Angaben in der Adresse konnten nicht gelesen werden.".to_string(),
        )
        .error_response();
    }
    ui::status_page(
        req,
        status,
        "Ungültige Anfrage",
        "Die Angaben in der Adresse (nach dem Fragezeichen) konnten nicht gelesen werden.",
        "Bitte öffnen Sie die Seite über die Navigation oder einen Link.",
    )
    .await
}

/// Whether the router's `Allow` header names GET: the address is a page, not a form's target.
fn allows_get(allow: Option<&header::HeaderValue>) -> bool {
    allow
        .and_then(|allow| allow.to_str().ok())
        .is_some_and(|allow| allow.split(',').any(|m| m.trim() == "GET"))
}

fn is_api(req: &HttpRequest) -> bool {
    req.path().starts_with(API_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::encodes_nul;

    #[test]
    fn only_what_decodes_to_nul_is_found() {
        assert!(encodes_nul(b"text=a%00b"));
        assert!(encodes_nul(b"text=a\0b"));
        assert!(encodes_nul(b"/vorgaenge/%00"));
        // A percent sign that is text is encoded itself: `%2500` is the text "%00".
        assert!(!encodes_nul(b"text=%2500"));
        assert!(!encodes_nul(b"text=100%25+sicher&n=0"));
    }
}
