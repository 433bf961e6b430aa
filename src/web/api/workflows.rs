//! `/api/v1/workflows`: list, show, deploy.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::{ApiState, blocking, denied};
use crate::auth::{Permission, Principal, authorize};
use crate::db::Database;
use crate::db::models::DefinitionRow;
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

/// `POST /workflows` (admin, `Content-Type: application/yaml`): deploys a new version.
#[utoipa::path(
    post,
    path = "/api/v1/workflows",
    tag = "Verfahren",
    summary = "Verfahren bereitstellen",
    description = "Nur für Administratoren: stellt eine neue Version aus einer YAML-Definition bereit.",
    request_body(content = String, content_type = "application/yaml", description = "Die Workflow-Definition als YAML"),
    responses(
        (status = 201, description = "Die neue Version", body = crate::web::openapi::WorkflowSummary),
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
    body: web::Bytes,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::DeployWorkflow, None).map_err(denied)?;
    let content_type = request
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !matches!(
        content_type.split(';').next().map(str::trim),
        Some("application/yaml" | "application/x-yaml" | "text/yaml")
    ) {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Falscher Inhaltstyp",
        )
        .with_detail(
            "Bitte senden Sie die Definition als YAML (Content-Type: application/yaml).",
        ));
    }
    let source = String::from_utf8(body.to_vec())
        .map_err(|_| super::bad_request("Die Definition ist kein gültiges UTF-8.".into()))?;
    let actor = principal.email.clone();
    let api = api.into_inner();
    let deployed = blocking(&db, move |conn| {
        api.registry.deploy(
            conn,
            &api.sources,
            &source,
            &actor,
            chrono::Utc::now().naive_utc(),
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(json!({
        "key": deployed.key(),
        "version": deployed.version,
        "title": deployed.title,
    })))
}
