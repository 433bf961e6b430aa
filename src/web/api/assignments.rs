//! `/api/v1/cases/{id}/assignee`: who in the caller's organisation works on a case
//! (`service::assignments`) – read it, assign the case to someone or to nobody.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::cases::{permit, permitted_row};
use super::json_object::Json;
use super::{ApiState, blocking};
use crate::auth::{Permission, Principal};
use crate::db::Database;
use crate::db::models::CaseId;
use crate::service::{assignments, clock};
use crate::web::problem::Problem;

/// Who is responsible for the case in the caller's organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssigneeView {
    /// Die zuständige Person der eigenen Organisation; `null`, wenn niemand zuständig ist.
    pub assignee: Option<assignments::Assignment>,
    /// Wer in der eigenen Organisation zuständig sein kann (aktiv, bearbeitet Vorgänge), nach
    /// Namen: die Werte für `user` in `PUT`.
    pub candidates: Vec<assignments::Candidate>,
}

/// Body of `PUT /cases/{id}/assignee`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetAssignee {
    /// E-Mail-Adresse einer aktiven Person der eigenen Organisation, die Vorgänge bearbeitet;
    /// `null`: niemand ist zuständig.
    pub user: Option<String>,
}

/// `GET /cases/{id}/assignee`.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/assignee",
    tag = "Vorgänge",
    summary = "Zuständigkeit anzeigen",
    description = "Wer in der Organisation des Aufrufers für den Vorgang zuständig ist. Jede Organisation (der Kreis, die Bewilligungsbehörde) regelt ihre Zuständigkeit selbst und sieht nur ihre eigene.",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
    ),
    responses(
        (status = 200, description = "Die Zuständigkeit in der eigenen Organisation", body = AssigneeView),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn show(
    principal: Principal,
    path: web::Path<i64>,
    db: web::Data<Database>,
) -> Result<HttpResponse, Problem> {
    let id = CaseId(path.into_inner());
    let view = blocking(&db, move |conn| {
        permitted_row(conn, &principal, Permission::ReadCase, id)?;
        let assignee = assignments::of_case(conn, id, principal.organisation_id)?;
        let candidates = assignments::candidates(conn, principal.organisation_id)?;
        Ok(AssigneeView {
            assignee,
            candidates,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// `PUT /cases/{id}/assignee`.
#[utoipa::path(
    put,
    path = "/api/v1/cases/{id}/assignee",
    tag = "Vorgänge",
    summary = "Zuständigkeit regeln",
    description = "Macht eine Person der eigenen Organisation für den Vorgang zuständig (`user`: ihre E-Mail-Adresse) oder hebt die Zuständigkeit auf (`null`). Zuständig sein kann, wer aktiv ist und Vorgänge bearbeitet (nicht nur liest). Die Zuständigkeit ändert weder den Vorgang noch sein Journal; `GET /api/v1/cases?assignee=me` listet die eigenen Vorgänge.",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
    ),
    request_body = SetAssignee,
    responses(
        (status = 200, description = "Die Zuständigkeit danach", body = AssigneeView),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Diese Person kann nicht zuständig sein (`errors` mit Zeiger `/user`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn set(
    principal: Principal,
    path: web::Path<i64>,
    body: Json<SetAssignee>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    let id = CaseId(path.into_inner());
    let user = body.into_inner().user;
    let api = api.into_inner();
    let view = blocking(&db, move |conn| {
        let check = |access| permit(&principal, Permission::AddNote, access);
        let at = clock::now().now.naive_utc();
        let assignee = assignments::assign(
            conn,
            &api.outgoing,
            id,
            &principal,
            user.as_deref(),
            at,
            &check,
        )?;
        let candidates = assignments::candidates(conn, principal.organisation_id)?;
        Ok(AssigneeView {
            assignee,
            candidates,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
