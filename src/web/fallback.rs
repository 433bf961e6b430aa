//! Answers for addresses and methods no route takes. The router's own answers are empty; a
//! program calling the API expects problem+json, a person in a browser a German page with the
//! way back (a mistyped address, a bookmarked form address, a case number with a letter in it).

use actix_web::body::{BodySize, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, HttpResponse, ResponseError};

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

/// Middleware around the whole application: the router's empty `405 Method Not Allowed` (a page
/// that only takes forms, opened by its address; a method the API route, the partner page or a
/// calendar feed does not have) becomes a German page or problem, keeping its `Allow` header.
pub async fn method_not_allowed(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let response = next.call(req).await?;
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

/// Whether the router's `Allow` header names GET: the address is a page, not a form's target.
fn allows_get(allow: Option<&header::HeaderValue>) -> bool {
    allow
        .and_then(|allow| allow.to_str().ok())
        .is_some_and(|allow| allow.split(',').any(|m| m.trim() == "GET"))
}

fn is_api(req: &HttpRequest) -> bool {
    req.path().starts_with(API_PREFIX)
}
