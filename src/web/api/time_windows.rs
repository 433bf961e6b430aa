//! `/api/v1/time-windows`: the periods of the time windows workflows bind actions to (the KfI's
//! Antragszeitraum), listed for every user and entered or removed by administrators.

use actix_web::{HttpResponse, web};

use super::json_object::Json;
use super::{ApiState, blocking, denied};
use crate::auth::{Permission, Principal, authorize};
use crate::db::Database;
use crate::service::time_windows::{self, NewPeriod, PeriodView, WindowView};
use crate::web::problem::Problem;

/// `GET /time-windows`: every declared window with its periods.
#[utoipa::path(
    get,
    path = "/api/v1/time-windows",
    tag = "Zeiträume",
    summary = "Zeiträume auflisten",
    description = "Die Zeiträume, die die neuesten Workflow-Versionen deklarieren (`windows`), mit ihren eingetragenen Abschnitten. Eine an einen Zeitraum gebundene Aktion (`within`) ist nur an den Tagen eines Abschnitts möglich; ohne eingetragene Abschnitte wird der Zeitraum nicht geprüft.",
    responses(
        (status = 200, description = "Die Zeiträume", body = [WindowView]),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    principal: Principal,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::ListWorkflows, None).map_err(denied)?;
    let api = api.into_inner();
    let windows = blocking(&db, move |conn| time_windows::list(conn, &api.registry)).await?;
    Ok(HttpResponse::Ok().json(windows))
}

/// `POST /time-windows`: enters a period.
#[utoipa::path(
    post,
    path = "/api/v1/time-windows",
    tag = "Zeiträume",
    summary = "Abschnitt eines Zeitraums eintragen",
    description = "Nur für Administratoren (wie das Bereitstellen von Workflows): trägt einen Abschnitt ein, z. B. den Antragszeitraum für ein Förderjahr. Abschnitte desselben Zeitraums dürfen sich nicht überschneiden. Wird im Verwaltungsprotokoll vermerkt.",
    request_body = NewPeriod,
    responses(
        (status = 201, description = "Der eingetragene Abschnitt", body = PeriodView),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Ungültige Angaben (`errors` mit `pointer` und `message`); nichts wurde eingetragen", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn add(
    principal: Principal,
    body: Json<NewPeriod>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::DeployWorkflow, None).map_err(denied)?;
    let body = body.into_inner();
    let api = api.into_inner();
    let by = principal.email.clone();
    let period = blocking(&db, move |conn| {
        time_windows::add(
            conn,
            &api.registry,
            body,
            &by,
            chrono::Utc::now().naive_utc(),
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(period))
}

/// `DELETE /time-windows/{id}`: removes a period entered by mistake.
#[utoipa::path(
    delete,
    path = "/api/v1/time-windows/{id}",
    tag = "Zeiträume",
    summary = "Abschnitt eines Zeitraums entfernen",
    description = "Nur für Administratoren: entfernt einen versehentlich eingetragenen Abschnitt. Wird im Verwaltungsprotokoll vermerkt.",
    params(
        ("id" = i64, Path, description = "Nummer des Abschnitts"),
    ),
    responses(
        (status = 204, description = "Entfernt"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn remove(
    principal: Principal,
    id: web::Path<i64>,
    db: web::Data<Database>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::DeployWorkflow, None).map_err(denied)?;
    let id = id.into_inner();
    let by = principal.email.clone();
    blocking(&db, move |conn| {
        time_windows::remove(conn, id, &by, chrono::Utc::now().naive_utc())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
