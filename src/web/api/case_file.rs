//! `GET /api/v1/cases/{id}/export`: the case file as a ZIP archive (see `service::case_file`).

use actix_web::{HttpResponse, web};

use super::ApiState;
use crate::auth::Principal;
use crate::db::Database;
use crate::db::models::CaseId;
use crate::web::case_file::{prepare, respond};
use crate::web::problem::Problem;

/// `GET /cases/{id}/export`.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/export",
    tag = "Vorgänge",
    summary = "Akte exportieren",
    description = "Die Akte als ZIP-Archiv in einem Ordner mit dem Aktenzeichen: `akte.html` (Übersicht zum Lesen), `vorgang.json`, `journal.json` (mit den Hashes), `beteiligung.json`, die Workflow-Definition unter `verfahren/`, die Dokumente unter `dokumente/` und `pruefsummen.sha256` (SHA-256 aller Dateien, prüfbar mit `sha256sum -c`). Wer den Vorgang, seine Dokumente und sein Journal lesen darf, darf ihn exportieren. Jeder Export wird im Journal des Vorgangs vermerkt (Eintrag `case_file_exported` mit dem letzten Journaleintrag, den das Archiv enthält), bevor das Archiv gesendet wird; die Version des Vorgangs bleibt gleich.",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
    ),
    responses(
        (status = 200, description = "Das ZIP-Archiv der Akte", content_type = "application/zip", body = Vec<u8>),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn export(
    principal: Principal,
    path: web::Path<i64>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    let prepared = prepare(&db, &api, principal, CaseId(path.into_inner()))
        .await
        .map_err(super::problem)?;
    Ok(respond(prepared))
}
