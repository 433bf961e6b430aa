//! `/api/v1/admin/retention`: cases whose retention period has run out, and their deletion
//! after the archive's decision (Aussonderung, see `service::retention`).

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::json_object::Json;
use super::{ApiState, actor, blocking, denied};
use crate::auth::{Permission, Principal, authorize};
use crate::db::Database;
use crate::db::models::CaseId;
use crate::service::clock;
use crate::service::retention::{self, Decision, Disposal, DisposedCase, DueCase, RetentionPolicy};
use crate::web::problem::Problem;

/// Answer of `GET /admin/retention`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetentionOverview {
    /// Jahre, die ein beendeter Vorgang nach Ablauf des Jahres seines Endes aufbewahrt wird,
    /// wenn sein Workflow keine eigene Frist setzt.
    pub retention_years: u32,
    /// Workflows mit eigener Aufbewahrungsfrist (`retention_years` der neuesten Version):
    /// Schlüssel des Workflows → Jahre.
    pub retention_years_by_workflow: BTreeMap<String, u32>,
    /// Der Tag, für den die fälligen Vorgänge bestimmt wurden.
    pub today: NaiveDate,
    /// Beendete Vorgänge, deren Aufbewahrungsfrist abgelaufen ist, ältestes Ende zuerst.
    pub due: Vec<DueCase>,
    /// Ausgesonderte Vorgänge, zuletzt ausgesonderte zuerst.
    pub disposed: Vec<DisposedCase>,
}

/// `GET /admin/retention`: what is due for Aussonderung, and what was disposed of.
#[utoipa::path(
    get,
    path = "/api/v1/admin/retention",
    tag = "Aussonderung",
    summary = "Fällige und ausgesonderte Vorgänge",
    description = "Nur für Administratoren: abgeschlossene und zurückgenommene Vorgänge, deren Aufbewahrungsfrist (Ende des Jahres, in dem der Vorgang endete, plus die Jahre seines Workflows, sonst `retention_years`) abgelaufen ist, und die Nachweise der bereits ausgesonderten Vorgänge.",
    responses(
        (status = 200, description = "Fällige und ausgesonderte Vorgänge", body = RetentionOverview),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn overview(
    principal: Principal,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::DisposeCases, None).map_err(denied)?;
    let today = clock::now().today;
    let state = api.clone();
    let (policy, due, disposed) = blocking(&db, move |conn| {
        let policy = RetentionPolicy::load(conn, state.retention_years)?;
        let due = retention::due(conn, today, &policy)?;
        Ok((policy, due, retention::disposed(conn)?))
    })
    .await?;
    Ok(HttpResponse::Ok().json(RetentionOverview {
        retention_years: policy.default_years(),
        retention_years_by_workflow: policy.by_workflow().clone(),
        today,
        due,
        disposed,
    }))
}

/// Body of `POST /admin/retention/{id}/dispose`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Dispose {
    /// `archived`: das Archiv übernimmt die (zuvor vollständig exportierte) Akte;
    /// `declined`: das Archiv hat sie als nicht archivwürdig bewertet.
    pub decision: Decision,
    /// Zeichen oder Schreiben des Archivs, höchstens 500 Zeichen, eine Zeile.
    #[serde(default)]
    pub reference: String,
}

/// `POST /admin/retention/{id}/dispose`: deletes a case whose retention period is over.
#[utoipa::path(
    post,
    path = "/api/v1/admin/retention/{id}/dispose",
    tag = "Aussonderung",
    summary = "Vorgang aussondern",
    description = "Nur für Administratoren, nicht umkehrbar: trägt die Entscheidung des Archivs ein und löscht den Vorgang mit Journal, Dokumenten, Beteiligungen, Fristen, Mails und Wiedervorlagen. Es bleibt ein Nachweis (Aktenzeichen, Ende, Entscheidung, wer wann ausgesondert hat, letzter Journaleintrag mit Hash). Nur für abgeschlossene oder zurückgenommene Vorgänge nach Ablauf der Aufbewahrungsfrist; `archived` erst, wenn die Akte mit dem ganzen Journal exportiert wurde.",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
    ),
    request_body = Dispose,
    responses(
        (status = 201, description = "Der Nachweis des ausgesonderten Vorgangs", body = DisposedCase),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Vorgang nicht gefunden", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Zum Vorgang sind noch Mails zu versenden", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Vorgang nicht beendet, Aufbewahrungsfrist läuft noch, Akte nicht vollständig exportiert, oder ungültiges Zeichen (`errors` mit Zeiger `/reference`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn dispose(
    principal: Principal,
    path: web::Path<i64>,
    body: Json<Dispose>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::DisposeCases, None).map_err(denied)?;
    let id = CaseId(path.into_inner());
    let body = body.into_inner();
    let disposal = Disposal {
        decision: body.decision,
        reference: body.reference,
    };
    let actor = actor(&principal);
    let state = api.clone();
    let disposed = blocking(&db, move |conn| {
        let policy = RetentionPolicy::load(conn, state.retention_years)?;
        retention::dispose(
            conn,
            &state.documents,
            id,
            &disposal,
            &actor,
            &clock::now(),
            &policy,
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(disposed))
}
