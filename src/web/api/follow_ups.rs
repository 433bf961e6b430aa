//! `/api/v1/cases/{id}/follow-ups`: the Wiedervorlagen of a case (`service::follow_ups`) – list
//! the open ones, set one for the caller, close one; `/api/v1/follow-ups`: the caller's own.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::blocking;
use super::cases::{permit, permitted_row};
use super::json_object::Json;
use crate::auth::{Permission, Principal};
use crate::db::Database;
use crate::db::models::CaseId;
use crate::service::{clock, follow_ups};
use crate::web::problem::Problem;

/// Body of `POST /cases/{id}/follow-ups`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetFollowUp {
    /// The day it comes back, `YYYY-MM-DD`: today or later, at most five years ahead.
    pub due: String,
    /// Why, in one line of up to 500 characters.
    pub reason: String,
}

/// `GET /follow-ups`: the caller's own open Wiedervorlagen, on cases the caller may read.
#[utoipa::path(
    get,
    path = "/api/v1/follow-ups",
    tag = "Vorgänge",
    summary = "Eigene Wiedervorlagen",
    description = "Die offenen Wiedervorlagen des Aufrufers, früheste zuerst – fällige und \
                   künftige, nur auf Vorgängen, die er lesen darf.",
    responses(
        (status = 200, description = "Die offenen Wiedervorlagen des Aufrufers", body = [follow_ups::DueFollowUp]),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn mine(principal: Principal, db: web::Data<Database>) -> Result<HttpResponse, Problem> {
    let open = blocking(&db, move |conn| {
        follow_ups::open_for(conn, &principal, clock::now().today)
    })
    .await?;
    Ok(HttpResponse::Ok().json(open))
}

/// `GET /cases/{id}/follow-ups`: the open Wiedervorlagen set in the caller's organisation,
/// earliest first.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/follow-ups",
    tag = "Vorgänge",
    summary = "Offene Wiedervorlagen",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
    ),
    responses(
        (status = 200, description = "Die offenen Wiedervorlagen der eigenen Organisation, früheste zuerst", body = [follow_ups::OpenFollowUp]),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    principal: Principal,
    path: web::Path<i64>,
    db: web::Data<Database>,
) -> Result<HttpResponse, Problem> {
    let id = CaseId(path.into_inner());
    let open = blocking(&db, move |conn| {
        permitted_row(conn, &principal, Permission::ReadCase, id)?;
        follow_ups::open_of_case(conn, id, principal.organisation_id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(open))
}

/// `POST /cases/{id}/follow-ups`: a Wiedervorlage for the caller.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/follow-ups",
    tag = "Vorgänge",
    summary = "Wiedervorlage setzen",
    description = "Legt den Vorgang dem Aufrufer am angegebenen Tag wieder vor: Die \\
                   Wiedervorlage erscheint ab dann auf seiner Startseite. Sie ändert weder den \\
                   Vorgang noch sein Journal.",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
    ),
    request_body = SetFollowUp,
    responses(
        (status = 201, description = "Die gesetzte Wiedervorlage", body = follow_ups::OpenFollowUp),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Ungültiger Tag oder Anlass (`errors` mit Zeigern `/due`, `/reason`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn set(
    principal: Principal,
    path: web::Path<i64>,
    body: Json<SetFollowUp>,
    db: web::Data<Database>,
) -> Result<HttpResponse, Problem> {
    let id = CaseId(path.into_inner());
    let body = body.into_inner();
    let set = blocking(&db, move |conn| {
        let check = |access| permit(&principal, Permission::AddNote, access);
        follow_ups::set(
            conn,
            id,
            principal.user_id,
            (&body.due, &body.reason),
            &clock::now(),
            &check,
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(set))
}

/// `POST /cases/{id}/follow-ups/{follow_up}/done`: closes a Wiedervorlage (anyone of the setter's
/// organisation who may write to the case, e.g. standing in for a colleague); closing it again
/// changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/follow-ups/{follow_up}/done",
    tag = "Vorgänge",
    summary = "Wiedervorlage erledigen",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
        ("follow_up" = i64, Path, description = "Nummer der Wiedervorlage"),
    ),
    responses(
        (status = 204, description = "Erledigt (auch wenn sie es schon war)"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Vorgang oder Wiedervorlage nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn close(
    principal: Principal,
    path: web::Path<(i64, i64)>,
    db: web::Data<Database>,
) -> Result<HttpResponse, Problem> {
    let (id, follow_up) = path.into_inner();
    let id = CaseId(id);
    blocking(&db, move |conn| {
        let check = |access| permit(&principal, Permission::AddNote, access);
        let at = clock::now().now.naive_utc();
        follow_ups::close(conn, id, follow_up, &principal, at, &check)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
