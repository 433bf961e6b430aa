//! Commands that end or correct a case outside its workflow's actions: withdrawal, relocation
//! to another step, migration to a newer workflow version.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    as_caller, command_answer, permitted_row, view, with_principal, with_principal_and_organisation,
};
use crate::auth::{Caller, Permission, authorize};
use crate::db::Database;
use crate::db::models::CaseId;
use crate::service::ServiceError;
use crate::service::case_relocation::{self, TargetOption};
use crate::service::{cases, clock};
use crate::web::api::json_object::Json;
use crate::web::api::view::CaseView;
use crate::web::api::{ApiState, actor};
use crate::web::problem::Problem;

/// Body of `POST /cases/{id}/withdraw`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Withdraw {
    pub version: i64,
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST /cases/{id}/withdraw`: the applicant withdraws the case.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/withdraw",
    tag = "Vorgänge",
    summary = "Vorgang zurückziehen",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
    ),
    request_body = Withdraw,
    responses(
        (status = 200, description = "Der zurückgezogene Vorgang", body = CaseView),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Versionskonflikt; `current_version` nennt die aktuelle Version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fachlich nicht möglich oder ungültige Angaben (`errors`, `reasons`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn withdraw(
    caller: Caller,
    path: web::Path<i64>,
    body: Json<Withdraw>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, actix_web::Error> {
    let id = CaseId(path.into_inner());
    let body = body.into_inner();
    let api = api.into_inner();
    command_answer(&db, caller, Permission::WithdrawCase, move |conn, call| {
        cases::withdraw(
            conn,
            &api.case_context(),
            id,
            body.version,
            body.reason,
            call,
        )
    })
    .await
}

/// Body of `POST /cases/{id}/relocation`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Relocate {
    /// Die Version des Vorgangs, auf die sich die Korrektur bezieht.
    pub version: i64,
    /// Der Schritt, bei dem der Vorgang weitergeht: eine Aufgabe (`task`) seiner
    /// Workflow-Version außerhalb paralleler Zweige.
    #[serde(default)]
    #[schema(example = "entwurf")]
    pub step: Option<String>,
    /// Warum, für die Akte: eine Zeile, höchstens 500 Zeichen.
    #[serde(default)]
    #[schema(
        example = "Versehentlich „Nicht beschlossen“ gewählt; der Kreistag hat am 12.11.2026 beschlossen."
    )]
    pub grund: Option<String>,
}

/// What `GET /cases/{id}/relocation` answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct RelocationTargets {
    /// Die aktuelle Version des Vorgangs, für die Korrektur.
    pub version: i64,
    /// Die Aufgaben seiner Workflow-Version außerhalb paralleler Zweige, in der Reihenfolge des
    /// Workflows, jeweils mit `allowed` und den Gründen, wenn nicht.
    pub targets: Vec<TargetOption>,
}

/// `GET /cases/{id}/relocation`: the tasks an administrator can move the case to.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/relocation",
    tag = "Vorgänge",
    summary = "Mögliche Ziele einer Korrektur des Bearbeitungsstands",
    description = "Nur für die Administration. Nennt jede Aufgabe, zu der der Vorgang gesetzt \
                   werden könnte, und ob die Korrektur jetzt angenommen würde (`allowed`; \
                   sonst `reasons`, etwa weil der Vorgang schon allein dort steht). Dieselbe \
                   Prüfung wie `POST /cases/{id}/relocation`, ohne etwas zu ändern.",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
    ),
    responses(
        (status = 200, description = "Die möglichen Ziele", body = RelocationTargets),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung (nur die Administration)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn relocation_targets(
    caller: Caller,
    path: web::Path<i64>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, actix_web::Error> {
    let id = CaseId(path.into_inner());
    let api = api.into_inner();
    let answer = with_principal(&db, caller, move |conn, principal| {
        let row = permitted_row(conn, &principal, Permission::RelocateCase, id)?;
        let case = cases::from_row(conn, &api.registry, row)?;
        Ok(RelocationTargets {
            version: case.row.version,
            targets: case_relocation::options(&case, &clock::now()),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// `POST /cases/{id}/relocation`: an administrator moves the case to a task of its workflow.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/relocation",
    tag = "Vorgänge",
    summary = "Bearbeitungsstand korrigieren",
    description = "Nur für die Administration (in BPMN-Engines: Modifikation einer Prozessinstanz). Setzt den Vorgang zu einer Aufgabe seiner Workflow-Version, um zu berichtigen, was die Aktionen des Verfahrens nicht zurücknehmen (eine versehentlich gewählte Aktion, ein irrtümlich beendeter Vorgang). Alle Schritte, bei denen der Vorgang steht, enden mit ihren Fristen; Stellen, deren Stellungnahme noch aussteht, erhalten eine Mail, dass sie nicht mehr erforderlich ist; ein beendeter Vorgang läuft wieder. Die Aufgabe beginnt neu, mit ihren Fristen ab heute. Angaben, Dokumente, Stellungnahmen und Verlauf bleiben; der Verlauf vermerkt die Korrektur mit dem Grund (`case_relocated`).",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
    ),
    request_body = Relocate,
    responses(
        (status = 200, description = "Der Vorgang an seinem neuen Schritt", body = CaseView),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung (nur die Administration)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Versionskonflikt; `current_version` nennt die aktuelle Version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Ungültige Angaben (`errors` bei `/step` oder `/grund`): kein solcher Schritt, keine Aufgabe, ein Schritt in einem parallelen Zweig, der Schritt, bei dem der Vorgang schon allein steht, oder ein fehlender Grund", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn relocate(
    caller: Caller,
    path: web::Path<i64>,
    body: Json<Relocate>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, actix_web::Error> {
    let id = CaseId(path.into_inner());
    let body = body.into_inner();
    let api = api.into_inner();
    let view = with_principal_and_organisation(&db, caller, move |conn, principal, own| {
        // Who may not correct the case learns that first, not what is wrong with the input.
        let input = match case_relocation::check(body.step.as_deref(), body.grund.as_deref()) {
            Ok(input) => input,
            Err(errors) => {
                permitted_row(conn, &principal, Permission::RelocateCase, id)?;
                return Err(ServiceError::InvalidInput(errors));
            }
        };
        let case = as_caller(&principal, Permission::RelocateCase, |call| {
            case_relocation::relocate(conn, &api.case_context(), id, body.version, input, call)
        })?;
        view(conn, &case, &principal, &own)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Body of `POST /cases/{id}/migrate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Migrate {
    /// Die Version des Vorgangs, auf die sich die Umstellung bezieht.
    pub version: i64,
    /// Die Workflow-Version, auf die umgestellt wird; ohne: die neueste.
    #[serde(default)]
    pub to: Option<i32>,
    /// Umbenannte oder ersetzte Schritte: alter Name → Name in der neuen Version (nur Schritte
    /// derselben Art). Nicht genannte Schritte behalten ihren Namen.
    #[serde(default)]
    pub steps: std::collections::BTreeMap<String, String>,
}

/// `POST /cases/{id}/migrate`: moves a running case to a newer version of its workflow.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/migrate",
    tag = "Vorgänge",
    summary = "Vorgang auf eine neuere Workflow-Version umstellen",
    description = "Nur für Administratoren. Der Vorgang wird umgestellt, wenn jeder Schritt, an dem er steht, wartet oder beteiligt, in der neuen Version als Schritt derselben Art besteht, jede Verzweigung, in der er läuft, ihren Zweig behält und seine Daten zum Datenschema der neuen Version passen; sonst bleibt alles, wie es ist, und `reasons` nennt die Gründe. Umbenannte oder ersetzte Schritte ordnet `steps` zu (alter Name → neuer Name, nur Schritte derselben Art). Fristen, Einladungen und Daten werden übernommen; die Umstellung steht im Journal (`workflow_version_changed`).",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
    ),
    request_body = Migrate,
    responses(
        (status = 200, description = "Der umgestellte Vorgang", body = CaseView),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Versionskonflikt; `current_version` nennt die aktuelle Version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Nicht umstellbar (`reasons`), die Workflow-Version gibt es nicht, oder `steps` passt nicht zu den Versionen (`errors`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn migrate(
    caller: Caller,
    path: web::Path<i64>,
    body: Json<Migrate>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, actix_web::Error> {
    let id = CaseId(path.into_inner());
    let Migrate { version, to, steps } = body.into_inner();
    let steps = crate::service::case_migration::StepMapping::new(steps);
    let api = api.into_inner();
    let view = with_principal_and_organisation(&db, caller, move |conn, principal, own| {
        authorize(&principal, Permission::DeployWorkflow, None)
            .map_err(|_| ServiceError::Forbidden(forbidden_migration()))?;
        let case = crate::service::case_migration::migrate(
            conn,
            &api.case_context(),
            id,
            crate::service::case_migration::CaseMove {
                expected: version,
                to,
                steps: &steps,
            },
            &actor(&principal),
            &clock::now(),
        )?;
        view(conn, &case, &principal, &own)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

fn forbidden_migration() -> String {
    "Vorgänge auf eine neue Workflow-Version umstellen dürfen nur Administratoren.".to_string()
}
