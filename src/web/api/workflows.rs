//! `/api/v1/workflows`: list, show (also as BPMN 2.0), deploy, migrate.

use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_DISPOSITION;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::json_object::Json;
use super::{ApiState, blocking, denied};
use crate::auth::{Permission, Principal, authorize};
use crate::db::Database;
use crate::db::models::DefinitionRow;
use crate::documents::content_disposition;
use crate::service::version_impact;
use crate::service::workflows::DeployedWorkflow;
use crate::web::problem::Problem;

/// `GET /workflows`: the newest version of every workflow.
#[utoipa::path(
    get,
    path = "/api/v1/workflows",
    tag = "Verfahren",
    summary = "Verfahren auflisten",
    responses(
        (status = 200, description = "Die neueste Version jedes Verfahrens", body = [crate::web::openapi::WorkflowSummary]),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(principal: Principal, db: web::Data<Database>) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::ListWorkflows, None).map_err(denied)?;
    let rows = blocking(&db, |conn| Ok(DefinitionRow::all_latest(conn)?)).await?;
    let items: Vec<_> = rows
        .into_iter()
        .map(|row| json!({ "key": row.key, "version": row.version, "title": row.title }))
        .collect();
    Ok(HttpResponse::Ok().json(items))
}

/// `GET /workflows/{key}`: the newest version with its source and data schema.
#[utoipa::path(
    get,
    path = "/api/v1/workflows/{key}",
    tag = "Verfahren",
    summary = "Verfahren anzeigen",
    params(
        ("key" = String, Path, description = "Schlüssel des Verfahrens"),
    ),
    responses(
        (status = 200, description = "Neueste Version mit YAML-Quelle, Datenschema und Definition", body = Object),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn show(
    principal: Principal,
    key: web::Path<String>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::ReadWorkflow, None).map_err(denied)?;
    let key = key.into_inner();
    let registry = api.registry.clone();
    let deployed = blocking(&db, move |conn| registry.latest(conn, &key)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "key": deployed.key(),
        "version": deployed.version,
        "title": deployed.title,
        "hash": deployed.workflow.version(),
        "source": deployed.source,
        "data": deployed.definition().data,
        "definition": deployed.definition(),
    })))
}

/// Query of `GET /workflows/{key}/bpmn`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct BpmnQuery {
    /// Die Version (ab 1); ohne Angabe die neueste.
    pub version: Option<i32>,
}

/// `GET /workflows/{key}/bpmn`: a version as a BPMN 2.0 file with its diagram, for the
/// modelling tools process engineers already use (Camunda Modeler, bpmn.io).
#[utoipa::path(
    get,
    path = "/api/v1/workflows/{key}/bpmn",
    tag = "Verfahren",
    summary = "Verfahren als BPMN 2.0",
    params(
        ("key" = String, Path, description = "Schlüssel des Verfahrens"),
        BpmnQuery,
    ),
    responses(
        (status = 200, description = "BPMN-2.0-XML mit Diagramm (BPMN DI), nicht ausführbar (`isExecutable=\"false\"`): Aufgaben, Beteiligungen, Entscheidungen, Verzweigungen, Warteschritte und Fristen", body = String, content_type = "application/xml"),
        (status = 400, description = "Ungültige Versionsangabe", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Verfahren oder Version gibt es nicht", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn bpmn(
    principal: Principal,
    key: web::Path<String>,
    query: web::Query<BpmnQuery>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::ReadWorkflow, None).map_err(denied)?;
    let key = key.into_inner();
    let version = query.version;
    let registry = api.registry.clone();
    let deployed = blocking(&db, move |conn| {
        registry.version_or_latest(conn, &key, version)
    })
    .await?;
    Ok(bpmn_download(&deployed))
}

/// The BPMN file of a deployed version as a download named after key and version; the
/// administration's page offers the same file.
pub(crate) fn bpmn_download(deployed: &DeployedWorkflow) -> HttpResponse {
    let xml = crate::render::bpmn::workflow_bpmn(deployed.definition(), deployed.version);
    let filename = format!("{}-v{}.bpmn", deployed.key(), deployed.version);
    HttpResponse::Ok()
        .content_type("application/xml; charset=utf-8")
        .insert_header((CONTENT_DISPOSITION, content_disposition(&filename)))
        .body(xml)
}

/// A draft workflow definition read from a BPMN file.
#[derive(Debug, Serialize, ToSchema)]
pub struct BpmnDraft {
    /// Der Schlüssel des Entwurfs (aus vorgangs eigenem Export, sonst aus Name oder Kennung des
    /// Prozesses).
    pub workflow: String,
    /// Der Titel des Verfahrens.
    pub title: String,
    /// Der Entwurf als YAML-Definition; bereitstellen mit `POST /workflows`, sobald er ergänzt ist.
    pub source: String,
    /// Was die Datei nicht beschreibt, angenommen wurde oder fehlt (Deutsch).
    pub notes: Vec<String>,
}

/// `POST /workflow-drafts` (admin, a BPMN 2.0 file): the draft of a definition, deployed nowhere.
#[utoipa::path(
    post,
    path = "/api/v1/workflow-drafts",
    tag = "Verfahren",
    summary = "Entwurf aus BPMN 2.0",
    description = "Nur für Administratoren: liest eine BPMN-2.0-Datei (Camunda Modeler, bpmn.io, oder den Export `GET /workflows/{key}/bpmn`) und gibt einen Entwurf der YAML-Definition zurück. Es wird nichts gespeichert: Was BPMN nicht beschreibt (Datenfelder, Vorlagen, Fristen), nennen die `notes`; den ergänzten Entwurf stellt `POST /workflows` bereit.",
    request_body(content = String, content_type = "application/xml", description = "Die BPMN-2.0-Datei (höchstens 5 MB, UTF-8)"),
    responses(
        (status = 200, description = "Der Entwurf mit Hinweisen", body = BpmnDraft),
        (status = 400, description = "Die Datei ist kein gültiges UTF-8", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Die Datei ist größer als 5 MB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Falscher Inhaltstyp", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Kein lesbarer BPMN-2.0-Prozess", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn draft_from_bpmn(
    principal: Principal,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    use crate::bpmn_import::MAX_BPMN_BYTES;
    authorize(&principal, Permission::DeployWorkflow, None).map_err(denied)?;
    if let Some(problem) = super::unsupported_media_type(
        &request,
        &["application/xml", "text/xml", "application/bpmn+xml"],
        "Bitte senden Sie die BPMN-Datei als XML (Content-Type: application/xml).",
    ) {
        return Err(problem);
    }
    let body = super::read_capped(payload, MAX_BPMN_BYTES, "Die BPMN-Datei").await?;
    let text = String::from_utf8(body)
        .map_err(|_| super::bad_request("Die Datei ist kein gültiges UTF-8.".into()))?;
    // Reading a large file takes a while: off the worker that serves other requests.
    let imported = web::block(move || crate::bpmn_import::import_bpmn(&text))
        .await
        .map_err(|error| {
            super::problem(crate::service::ServiceError::Internal(error.to_string()))
        })?;
    let draft = imported.map_err(|error| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-bpmn",
            "Keine lesbare BPMN-Datei",
        )
        .with_detail(error.to_string())
    })?;
    Ok(HttpResponse::Ok().json(BpmnDraft {
        workflow: draft.definition.workflow,
        title: draft.definition.title,
        source: draft.yaml,
        notes: draft.notes,
    }))
}

/// Query of `POST /workflows`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct DeployQuery {
    /// `true`: nur prüfen und berichten, nichts bereitstellen (Antwort 200 statt 201).
    #[serde(default)]
    pub dry_run: bool,
}

/// A finding that does not stop a deployment.
#[derive(Debug, Serialize, ToSchema)]
pub struct WarningView {
    /// Zeile in der Datei (ab 1).
    pub line: usize,
    /// Spalte in der Zeile (ab 1).
    pub column: usize,
    /// Die Stelle in der Datei (`steps.entwurf.actions.weiter.to`).
    pub pointer: String,
    /// Was auffällt (wie die Meldungen von `vorgang validate`).
    pub message: String,
}

/// A step that running cases occupy and the new version lacks or has as another kind of step.
#[derive(Debug, Serialize, ToSchema)]
pub struct StrandedStepView {
    /// Der Name des Schritts in den Versionen, nach denen die Vorgänge laufen.
    pub step: String,
    /// Sein Titel dort.
    pub title: String,
    /// Seine Art dort (deutsch).
    pub kind: String,
    /// Seine Art in der neuen Version, wenn es ihn dort als andere Art gibt; `null`: es gibt ihn
    /// dort nicht.
    pub new_kind: Option<String>,
    /// Aktenzeichen der Vorgänge, die dort stehen.
    pub cases: Vec<String>,
}

/// What `POST /workflows` deployed (or would deploy) and found.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeployReport {
    /// Der Schlüssel des Verfahrens.
    pub key: String,
    /// Die bereitgestellte Version (bei unverändertem Inhalt die bestehende); `null` bei
    /// `dry_run`.
    pub version: Option<i32>,
    /// Der Titel des Verfahrens.
    pub title: String,
    /// Hinweise, die das Bereitstellen nicht verhindern.
    pub warnings: Vec<WarningView>,
    /// Schritte laufender Vorgänge, die die Version nicht übernimmt: Diese Vorgänge lassen sich
    /// erst mit einer Zuordnung (`steps` in `POST /workflows/{key}/migrate`) auf sie umstellen.
    pub stranded: Vec<StrandedStepView>,
}

/// `POST /workflows` (admin, `Content-Type: application/yaml`): deploys a new version, or with
/// `dry_run=true` only reports what deploying it would find.
#[utoipa::path(
    post,
    path = "/api/v1/workflows",
    tag = "Verfahren",
    summary = "Verfahren bereitstellen",
    description = "Nur für Administratoren: stellt eine neue Version aus einer YAML-Definition bereit. Die Antwort nennt die Hinweise der Prüfung (`warnings`) und die Schritte laufender Vorgänge, die die Version nicht übernimmt (`stranded`). Mit `dry_run=true` wird nur geprüft und berichtet (200).",
    params(DeployQuery),
    request_body(content = String, content_type = "application/yaml", description = "Die Workflow-Definition als YAML"),
    responses(
        (status = 200, description = "Nur geprüft (`dry_run=true`): was das Bereitstellen ergäbe", body = DeployReport),
        (status = 201, description = "Die neue Version, mit Hinweisen und betroffenen laufenden Vorgängen", body = DeployReport),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Falscher Inhaltstyp", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fachlich nicht möglich oder ungültige Angaben (`errors`, `reasons`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn deploy(
    principal: Principal,
    request: HttpRequest,
    query: web::Query<DeployQuery>,
    body: web::Bytes,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::DeployWorkflow, None).map_err(denied)?;
    if let Some(problem) = super::unsupported_media_type(
        &request,
        &["application/yaml", "application/x-yaml", "text/yaml"],
        "Bitte senden Sie die Definition als YAML (Content-Type: application/yaml).",
    ) {
        return Err(problem);
    }
    let source = String::from_utf8(body.to_vec())
        .map_err(|_| super::bad_request("Die Definition ist kein gültiges UTF-8.".into()))?;
    let actor = principal.email.clone();
    let dry_run = query.dry_run;
    let api = api.into_inner();
    let report = blocking(&db, move |conn| {
        let mut checked = api.registry.check(conn, &api.sources, &source)?;
        let key = checked.definition.workflow.clone();
        let title = checked.definition.title.clone();
        // The running cases are measured against the definition itself, deployed or not.
        let stranded =
            version_impact::stranded_steps(conn, &api.registry, &key, &checked.definition)?;
        let warnings = std::mem::take(&mut checked.warnings);
        let version = if dry_run {
            None
        } else {
            let now = chrono::Utc::now().naive_utc();
            Some(
                api.registry
                    .deploy_checked(conn, checked, &source, &actor, now)?
                    .version,
            )
        };
        Ok(DeployReport {
            title,
            key,
            version,
            warnings: warnings
                .into_iter()
                .map(|d| WarningView {
                    line: d.line,
                    column: d.column,
                    pointer: d.path,
                    message: d.message,
                })
                .collect(),
            stranded: stranded
                .into_iter()
                .map(|s| StrandedStepView {
                    step: s.step,
                    title: s.title,
                    kind: s.kind.into(),
                    new_kind: s.new_kind.map(Into::into),
                    cases: s.cases,
                })
                .collect(),
        })
    })
    .await?;
    Ok(if dry_run {
        HttpResponse::Ok().json(report)
    } else {
        HttpResponse::Created().json(report)
    })
}

/// Body of `POST /workflows/{key}/migrate`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrateAll {
    /// Die Workflow-Version, deren laufende Vorgänge umgestellt werden.
    pub from: i32,
    /// Die Workflow-Version, auf die umgestellt wird; ohne: die neueste.
    #[serde(default)]
    pub to: Option<i32>,
    /// Umbenannte oder ersetzte Schritte: alter Name → Name in der neuen Version (nur Schritte
    /// derselben Art), für alle Vorgänge gleich. Nicht genannte Schritte behalten ihren Namen.
    #[serde(default)]
    pub steps: std::collections::BTreeMap<String, String>,
    /// Nur prüfen: nennt, welche Vorgänge umgestellt würden, und ändert nichts.
    #[serde(default)]
    pub trial: bool,
}

/// One case that stays on its version, and why.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct RefusedMigration {
    pub aktenzeichen: String,
    /// Die Gründe, deutsch.
    pub reasons: Vec<String>,
}

/// Answer of `POST /workflows/{key}/migrate`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct MigrationReport {
    /// Die Workflow-Version, auf die umgestellt wurde (bei `trial`: würde).
    pub to: i32,
    /// Aktenzeichen der umgestellten Vorgänge (bei `trial` keine).
    pub moved: Vec<String>,
    /// Bei `trial`: Aktenzeichen der Vorgänge, die umgestellt würden.
    pub movable: Vec<String>,
    /// Vorgänge, die bei ihrer Version bleiben.
    pub refused: Vec<RefusedMigration>,
    /// Schritte, an denen bleibende Vorgänge stehen, die es in der neuen Version nicht gibt und
    /// die `steps` nicht zuordnet: mit den Schritten derselben Art, denen sie zugeordnet werden
    /// könnten.
    pub unmatched: Vec<UnmatchedStepView>,
}

/// A step that needs a mapping before the cases occupying it can move.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct UnmatchedStepView {
    /// Der Name des Schritts in der alten Version.
    pub step: String,
    pub title: String,
    /// Die Art des Schritts, deutsch.
    pub kind: String,
    /// Wie viele der Vorgänge dort stehen.
    pub cases: usize,
    /// Die Schritte derselben Art in der neuen Version.
    pub candidates: Vec<StepCandidate>,
}

/// A step of the new version a missing one could be mapped to.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct StepCandidate {
    pub step: String,
    pub title: String,
}

/// `POST /workflows/{key}/migrate`: moves every running case of one version to a newer one.
#[utoipa::path(
    post,
    path = "/api/v1/workflows/{key}/migrate",
    tag = "Verfahren",
    summary = "Laufende Vorgänge einer Version umstellen",
    description = "Nur für Administratoren: stellt jeden laufenden Vorgang der Version `from` auf die Version `to` (ohne: die neueste) um, jeden für sich und nach denselben Regeln wie `POST /cases/{id}/migrate`; Vorgänge, die nicht umgestellt werden können, bleiben mit ihren Gründen bei ihrer Version. Umbenannte Schritte ordnet `steps` zu (alter Name → neuer Name); `unmatched` nennt die fehlenden Schritte bleibender Vorgänge mit den möglichen Zielen. Mit `trial` wird nur geprüft.",
    params(("key" = String, Path, description = "Schlüssel des Workflows")),
    request_body = MigrateAll,
    responses(
        (status = 200, description = "Was umgestellt wurde und was nicht", body = MigrationReport),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Die Workflow-Version gibt es nicht, oder `steps` nennt einen Schritt, den es nicht gibt oder der nicht von derselben Art ist (`errors`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn migrate_all(
    principal: Principal,
    key: web::Path<String>,
    body: Json<MigrateAll>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::DeployWorkflow, None).map_err(denied)?;
    let key = key.into_inner();
    let MigrateAll {
        from,
        to,
        steps,
        trial,
    } = body.into_inner();
    let actor = super::actor(&principal);
    let api = api.into_inner();
    let outcome = blocking(&db, move |conn| {
        let plan = crate::service::case_migration::BulkMove {
            key,
            from,
            to,
            steps: crate::service::case_migration::StepMapping::new(steps),
            trial,
        };
        crate::service::case_migration::migrate_all(
            conn,
            &api.case_context(),
            &plan,
            &actor,
            &crate::service::clock::now(),
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(MigrationReport {
        to: outcome.to,
        moved: outcome.moved,
        movable: outcome.movable,
        refused: outcome
            .refused
            .into_iter()
            .map(|(aktenzeichen, reasons)| RefusedMigration {
                aktenzeichen,
                reasons,
            })
            .collect(),
        unmatched: outcome
            .unmatched
            .into_iter()
            .map(|unmatched| UnmatchedStepView {
                step: unmatched.step,
                title: unmatched.title,
                kind: unmatched.kind.to_string(),
                cases: unmatched.cases,
                candidates: unmatched
                    .candidates
                    .into_iter()
                    .map(|(step, title)| StepCandidate { step, title })
                    .collect(),
            })
            .collect(),
    }))
}
