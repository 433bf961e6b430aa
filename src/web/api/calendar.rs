//! `/api/v1/calendar/feeds`: the caller's personal calendar feed addresses – issue one, list
//! them, revoke one. The secret address is returned once, when issued.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiState, bad_request, blocking};
use crate::auth::Principal;
use crate::db::Database;
use crate::service::calendar::{self, FeedToken};
use crate::utc::rfc3339;
use crate::web::problem::Problem;

/// Body of `POST /calendar/feeds`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFeed {
    /// Bezeichnung, an der Sie die Adresse wiedererkennen (z. B. „Outlook Büro“).
    #[serde(default)]
    pub label: String,
}

/// A feed address as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedView {
    pub id: i64,
    pub label: String,
    pub created_at: String,
    /// Gesetzt, wenn die Adresse widerrufen ist.
    pub revoked_at: Option<String>,
}

/// A newly issued feed address.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedFeedView {
    #[serde(flatten)]
    pub feed: FeedView,
    /// Die Abonnement-Adresse für das Kalenderprogramm. Wird nur jetzt angezeigt.
    pub url: String,
}

impl From<FeedToken> for FeedView {
    fn from(token: FeedToken) -> Self {
        Self {
            id: token.id,
            label: token.label,
            created_at: rfc3339(token.created_at),
            revoked_at: token.revoked_at.map(rfc3339),
        }
    }
}

/// `POST /calendar/feeds`: issues a new personal feed address.
#[utoipa::path(
    post,
    path = "/api/v1/calendar/feeds",
    tag = "Kalender",
    summary = "Kalenderadresse anlegen",
    description = "Legt eine persönliche, widerrufbare Adresse an, unter der Kalenderprogramme die Fristen der Vorgänge abonnieren, die Sie sehen dürfen (iCalendar). Die Adresse wird nur in dieser Antwort angezeigt.",
    request_body(content = Option<NewFeed>, description = "Optional; ohne Inhalt erhält die Adresse keine Bezeichnung", content_type = "application/json"),
    responses(
        (status = 201, description = "Adresse angelegt", body = IssuedFeedView),
        (status = 400, description = "Inhalt ist kein gültiges JSON-Objekt mit `label`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bezeichnung zu lang", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn issue(
    principal: Principal,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let label = label_of(&body).map_err(bad_request)?;
    let user = principal.user_id;
    let issued = blocking(&db, move |conn| {
        calendar::issue(conn, user, &label, chrono::Utc::now().naive_utc())
    })
    .await?;
    let url = api
        .outgoing
        .link(&format!("kalender/{}.ics", issued.secret));
    Ok(HttpResponse::Created().json(IssuedFeedView {
        feed: issued.token.into(),
        url,
    }))
}

/// The label a request body asks for: none without a body (or `null`); a body that is not a valid
/// [`NewFeed`] (a misspelt field, a number) is refused rather than taken as no label.
fn label_of(body: &[u8]) -> Result<String, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(String::new());
    }
    super::json_object::parse::<Option<NewFeed>>(body)
        .map(|feed| feed.map(|feed| feed.label).unwrap_or_default())
}

/// `GET /calendar/feeds`: the caller's feed addresses (without the secret part).
#[utoipa::path(
    get,
    path = "/api/v1/calendar/feeds",
    tag = "Kalender",
    summary = "Eigene Kalenderadressen anzeigen",
    responses(
        (status = 200, description = "Ihre Kalenderadressen, neueste zuerst", body = Vec<FeedView>),
        (status = 401, description = "Nicht angemeldet", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(principal: Principal, db: web::Data<Database>) -> Result<HttpResponse, Problem> {
    let user = principal.user_id;
    let feeds = blocking(&db, move |conn| calendar::list(conn, user)).await?;
    Ok(HttpResponse::Ok().json(feeds.into_iter().map(FeedView::from).collect::<Vec<_>>()))
}

/// `DELETE /calendar/feeds/{id}`: revokes one of the caller's feed addresses.
#[utoipa::path(
    delete,
    path = "/api/v1/calendar/feeds/{id}",
    tag = "Kalender",
    summary = "Kalenderadresse widerrufen",
    description = "Die Adresse liefert danach keine Fristen mehr (404).",
    params(("id" = i64, Path, description = "Nummer der Adresse")),
    responses(
        (status = 204, description = "Widerrufen"),
        (status = 401, description = "Nicht angemeldet", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Keine eigene Adresse mit dieser Nummer", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke(
    principal: Principal,
    db: web::Data<Database>,
    id: web::Path<i64>,
) -> Result<HttpResponse, Problem> {
    let user = principal.user_id;
    let id = id.into_inner();
    blocking(&db, move |conn| {
        calendar::revoke(conn, user, id, chrono::Utc::now().naive_utc())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
