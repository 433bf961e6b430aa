//! `/api/v1/me/absence`: the caller's own absence with its deputy (see `service::absences`), for
//! a program that takes it from the leave planner, as `/konto` offers it to people.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::blocking;
use super::json_object::Json;
use crate::auth::Principal;
use crate::db::Database;
use crate::service::{ServiceError, absences, clock};
use crate::web::problem::Problem;

/// Body of `PUT /me/absence`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AbsenceInput {
    /// Letzter Tag der Abwesenheit (`JJJJ-MM-TT`), heute oder später, höchstens ein Jahr voraus.
    #[schema(value_type = String, format = Date)]
    pub until: String,
    /// Nummer des Kontos der Vertretung: eine Kollegin oder ein Kollege derselben Organisation
    /// mit einer Rolle, die an Vorgängen arbeitet.
    pub deputy: i64,
}

/// The caller's current absence.
#[derive(Debug, Serialize, ToSchema)]
pub struct AbsenceView {
    /// Letzter Tag der Abwesenheit.
    #[schema(value_type = String, format = Date)]
    pub until: chrono::NaiveDate,
    pub deputy: DeputyView,
}

/// Who stands in.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeputyView {
    pub id: i64,
    pub name: String,
}

impl From<absences::Absence> for AbsenceView {
    fn from(absence: absences::Absence) -> Self {
        Self {
            until: absence.until,
            deputy: DeputyView {
                id: absence.deputy.0,
                name: absence.deputy_name,
            },
        }
    }
}

/// `GET /me/absence`: the caller's current absence.
#[utoipa::path(
    get,
    path = "/api/v1/me/absence",
    tag = "Anmeldung",
    summary = "Eigene Abwesenheit anzeigen",
    responses(
        (status = 200, description = "Die laufende oder kommende Abwesenheit mit der Vertretung", body = AbsenceView),
        (status = 401, description = "Nicht angemeldet", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Keine Abwesenheit eingetragen", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn show(principal: Principal, db: web::Data<Database>) -> Result<HttpResponse, Problem> {
    let user = principal.user_id;
    let absence = blocking(&db, move |conn| {
        absences::current(conn, user, clock::now().today)?.ok_or_else(|| {
            ServiceError::NotFound("Sie haben keine Abwesenheit eingetragen.".into())
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(AbsenceView::from(absence)))
}

/// `PUT /me/absence`: records the caller's absence, replacing an earlier one.
#[utoipa::path(
    put,
    path = "/api/v1/me/absence",
    tag = "Anmeldung",
    summary = "Abwesenheit eintragen",
    description = "Bis zum letzten Tag erhält die Vertretung die fällig werdenden Wiedervorlagen ebenfalls und sieht die Aufgaben der Vorgänge, für die Sie zuständig sind. Ersetzt eine frühere Abwesenheit.",
    request_body(content = AbsenceInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Eingetragen", body = AbsenceView),
        (status = 400, description = "Inhalt ist kein gültiges JSON-Objekt mit `until` und `deputy`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Tag oder Vertretung nicht möglich (`errors` mit `/until`, `/deputy`); nichts geändert", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn set(
    principal: Principal,
    db: web::Data<Database>,
    body: Json<AbsenceInput>,
) -> Result<HttpResponse, Problem> {
    let input = body.into_inner();
    let absence = blocking(&db, move |conn| {
        let now = clock::now();
        absences::set(
            conn,
            &principal,
            (&input.until, &input.deputy.to_string()),
            now.today,
            now.now.naive_utc(),
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(AbsenceView::from(absence)))
}

/// `DELETE /me/absence`: the caller is back; none is no error.
#[utoipa::path(
    delete,
    path = "/api/v1/me/absence",
    tag = "Anmeldung",
    summary = "Abwesenheit beenden",
    responses(
        (status = 204, description = "Beendet (oder keine eingetragen)"),
        (status = 401, description = "Nicht angemeldet", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn end(principal: Principal, db: web::Data<Database>) -> Result<HttpResponse, Problem> {
    blocking(&db, move |conn| absences::end(conn, &principal)).await?;
    Ok(HttpResponse::NoContent().finish())
}
