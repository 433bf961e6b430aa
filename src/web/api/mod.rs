//! The JSON API under `/api/v1`: workflows, cases, their journal and documents, organisations.
//!
//! Handlers authenticate ([`Principal`]), decide permissions through [`authorize`] only, and call
//! the service layer inside `Database::run`; every error leaves as problem+json.

pub(crate) mod absence;
pub(crate) mod admin_events;
pub(crate) mod assignments;
pub(crate) mod beteiligung;
pub(crate) mod calendar;
pub(crate) mod case_file;
pub(crate) mod cases;
pub(crate) mod documents;
pub(crate) mod follow_ups;
pub(crate) mod input_errors;
pub(crate) mod jobs;
pub(crate) mod json_object;
pub(crate) mod login_limits;
pub(crate) mod organisations;
pub(crate) mod outbox;
pub(crate) mod retention;
pub(crate) mod time_windows;
pub(crate) mod users;
pub(crate) mod view;
pub(crate) mod workflows;

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::web;
use serde_json::json;

use super::problem::Problem;
use crate::auth::{Denied, Principal};
use crate::documents::DocumentStore;
use crate::service::ServiceError;
use crate::service::aktenzeichen::AktenzeichenPattern;
use crate::service::cases::CaseContext;
use crate::service::workflows::{WorkflowRegistry, WorkflowSources};

/// What the API handlers share: the compiled workflows and the settings commands need.
#[derive(Debug)]
pub struct ApiState {
    pub registry: Arc<WorkflowRegistry>,
    pub pattern: AktenzeichenPattern,
    pub sources: WorkflowSources,
    pub documents: DocumentStore,
    /// Templates, link signer and sender for mails and partner pages.
    pub outgoing: crate::service::mail::Outgoing,
    /// The periodic jobs' settings, shown at `/admin/jobs`.
    pub jobs: crate::scheduler::jobs::Jobs,
    /// Bearer token of `GET /metrics`; `None` leaves the endpoint off.
    pub metrics_token: Option<crate::secret::Secret>,
    /// Years ended cases are kept (see `service::retention`).
    pub retention_years: u32,
}

impl ApiState {
    /// The context case commands run in.
    pub fn case_context(&self) -> CaseContext<'_> {
        CaseContext {
            registry: &self.registry,
            pattern: &self.pattern,
            mail: &self.outgoing,
        }
    }
}

/// Registers the API routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .app_data(
                web::JsonConfig::default().error_handler(|error, _| {
                    bad_request(input_errors::json_payload(&error)).into()
                }),
            )
            .app_data(web::PathConfig::default().error_handler(|_, _| Problem::not_found().into()))
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|error, _| bad_request(input_errors::query(&error)).into()),
            )
            .service(
                web::resource("/workflows")
                    .route(web::get().to(workflows::list))
                    .route(web::post().to(workflows::deploy)),
            )
            .service(
                web::resource("/workflow-drafts").route(web::post().to(workflows::draft_from_bpmn)),
            )
            .service(web::resource("/workflows/{key}").route(web::get().to(workflows::show)))
            .service(web::resource("/workflows/{key}/bpmn").route(web::get().to(workflows::bpmn)))
            .service(
                web::resource("/workflows/{key}/migrate")
                    .route(web::post().to(workflows::migrate_all)),
            )
            .service(
                web::resource("/cases")
                    .route(web::get().to(cases::list))
                    .route(web::post().to(cases::create)),
            )
            .service(web::resource("/cases/{id}").route(web::get().to(cases::show)))
            .service(web::resource("/cases/{id}/data").route(web::patch().to(cases::change_data)))
            .service(
                web::resource("/cases/{id}/actions/{action}").route(web::post().to(cases::act)),
            )
            .service(web::resource("/cases/{id}/withdraw").route(web::post().to(cases::withdraw)))
            .service(
                web::resource("/cases/{id}/relocation")
                    .route(web::get().to(cases::relocation_targets))
                    .route(web::post().to(cases::relocate)),
            )
            .service(
                web::resource("/cases/{id}/messages/{name}")
                    .route(web::post().to(cases::receive_message)),
            )
            .service(
                web::resource("/messages/{name}").route(web::post().to(cases::correlate_message)),
            )
            .service(web::resource("/cases/{id}/migrate").route(web::post().to(cases::migrate)))
            .service(web::resource("/cases/{id}/journal").route(web::get().to(cases::journal)))
            .service(web::resource("/cases/{id}/related").route(web::get().to(cases::related)))
            .service(web::resource("/cases/{id}/export").route(web::get().to(case_file::export)))
            .service(web::resource("/cases/{id}/notes").route(web::post().to(cases::add_note)))
            .service(
                web::resource("/cases/{id}/assignee")
                    .route(web::get().to(assignments::show))
                    .route(web::put().to(assignments::set)),
            )
            .service(web::resource("/follow-ups").route(web::get().to(follow_ups::mine)))
            .service(
                web::resource("/cases/{id}/follow-ups")
                    .route(web::get().to(follow_ups::list))
                    .route(web::post().to(follow_ups::set)),
            )
            .service(
                web::resource("/cases/{id}/follow-ups/{follow_up}/done")
                    .route(web::post().to(follow_ups::close)),
            )
            .service(
                web::resource("/cases/{id}/consultations")
                    .route(web::get().to(beteiligung::matrix))
                    .route(web::post().to(beteiligung::add_participant)),
            )
            .service(
                web::resource("/cases/{id}/consultations/{invitation}/resend")
                    .route(web::post().to(beteiligung::resend)),
            )
            .service(
                web::resource("/cases/{id}/consultations/{invitation}/answer")
                    .route(web::post().to(beteiligung::record_answer)),
            )
            .service(
                web::resource("/cases/{id}/consultations/{invitation}/deadline")
                    .route(web::post().to(beteiligung::extend_deadline)),
            )
            .service(
                web::resource("/cases/{id}/consultations/{invitation}/withdrawal")
                    .route(web::post().to(beteiligung::withdraw)),
            )
            .service(
                web::resource("/cases/{id}/consultations/{invitation}/extension-request/refusal")
                    .route(web::post().to(beteiligung::refuse_extension_request)),
            )
            .service(
                web::resource(
                    "/cases/{id}/consultations/{invitation}/responsibility-notice/refusal",
                )
                .route(web::post().to(beteiligung::refuse_responsibility_notice)),
            )
            .service(
                web::resource("/beteiligung/{token}")
                    .route(web::get().to(beteiligung::show))
                    .route(web::post().to(beteiligung::answer)),
            )
            .service(
                web::resource("/beteiligung/{token}/deadline-extension")
                    .route(web::post().to(beteiligung::request_extension)),
            )
            .service(
                web::resource("/beteiligung/{token}/not-responsible")
                    .route(web::post().to(beteiligung::report_not_responsible)),
            )
            .service(
                web::resource("/cases/{id}/documents")
                    .route(web::get().to(documents::list))
                    .route(web::post().to(documents::upload)),
            )
            .service(
                web::resource("/cases/{id}/documents/{doc_id}")
                    .route(web::get().to(documents::download)),
            )
            .service(
                web::resource("/organisations")
                    .route(web::get().to(organisations::list))
                    .route(web::post().to(organisations::register)),
            )
            .service(
                web::resource("/organisation-imports").route(web::post().to(organisations::import)),
            )
            .service(
                web::resource("/organisations/{key}").route(web::get().to(organisations::show)),
            )
            .service(
                web::resource("/organisations/{key}/addresses")
                    .route(web::put().to(organisations::replace_addresses)),
            )
            .service(
                web::resource("/time-windows")
                    .route(web::get().to(time_windows::list))
                    .route(web::post().to(time_windows::add)),
            )
            .service(
                web::resource("/time-windows/{id}").route(web::delete().to(time_windows::remove)),
            )
            .service(web::resource("/admin/outbox").route(web::get().to(outbox::list)))
            .service(web::resource("/admin/events").route(web::get().to(admin_events::list)))
            .service(
                web::resource("/admin/users")
                    .route(web::get().to(users::list))
                    .route(web::post().to(users::create)),
            )
            .service(web::resource("/me").route(web::get().to(users::me)))
            .service(
                web::resource("/me/absence")
                    .route(web::get().to(absence::show))
                    .route(web::put().to(absence::set))
                    .route(web::delete().to(absence::end)),
            )
            .service(web::resource("/admin/users/{id}").route(web::get().to(users::show)))
            .service(
                web::resource("/admin/users/{id}/roles").route(web::put().to(users::set_roles)),
            )
            .service(
                web::resource("/admin/users/{id}/active").route(web::put().to(users::set_active)),
            )
            .service(
                web::resource("/admin/users/{id}/tokens")
                    .route(web::delete().to(users::revoke_tokens)),
            )
            .service(
                web::resource("/admin/users/{id}/password")
                    .route(web::post().to(users::reset_password)),
            )
            .service(
                web::resource("/admin/users/{id}/access-link")
                    .route(web::post().to(users::send_access_link)),
            )
            .service(web::resource("/admin/login-limits").route(web::get().to(login_limits::list)))
            .service(
                // The key runs to the end of the path: an address may contain `/`.
                web::resource("/admin/login-limits/{kind}/{key:.*}")
                    .route(web::delete().to(login_limits::lift)),
            )
            .service(web::resource("/admin/jobs").route(web::get().to(jobs::list)))
            .service(web::resource("/admin/retention").route(web::get().to(retention::overview)))
            .service(
                web::resource("/admin/retention/{id}/dispose")
                    .route(web::post().to(retention::dispose)),
            )
            .service(
                web::resource("/calendar/feeds")
                    .route(web::get().to(calendar::list))
                    .route(web::post().to(calendar::issue)),
            )
            .service(
                web::resource("/calendar/feeds/{id}").route(web::delete().to(calendar::revoke)),
            )
            .service(
                web::resource("/admin/outbox/{id}/retry").route(web::post().to(outbox::retry)),
            ),
    );
}

/// 400 with a German explanation.
pub(crate) fn bad_request(detail: String) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, "bad-request", "Ungültige Anfrage").with_detail(detail)
}

/// `page` and `per_page` of a list with their defaults (1 and 20), or why they cannot be (for
/// [`bad_request`]).
pub(crate) fn paging(page: Option<i64>, per_page: Option<i64>) -> Result<(i64, i64), String> {
    let page = page.unwrap_or(1);
    let per_page = per_page.unwrap_or(20);
    if !(1..=1_000_000).contains(&page) || !(1..=100).contains(&per_page) {
        return Err(
            "„page“ muss zwischen 1 und 1.000.000 und „per_page“ zwischen 1 und 100 liegen.".into(),
        );
    }
    Ok((page, per_page))
}

/// A denied permission: 404 when the caller must not learn that the case exists, else 403.
pub(crate) fn denied(denied: Denied) -> Problem {
    if denied.hides_existence() {
        Problem::not_found().with_detail("Diesen Vorgang gibt es nicht.")
    } else {
        denied.to_problem()
    }
}

/// Maps a service error to its problem document.
pub(crate) fn problem(error: ServiceError) -> Problem {
    match error {
        ServiceError::NotFound(detail) => Problem::not_found().with_detail(detail),
        ServiceError::Forbidden(detail) => {
            Problem::new(StatusCode::FORBIDDEN, "forbidden", "Keine Berechtigung").with_detail(detail)
        }
        ServiceError::VersionConflict { current } => Problem::new(
            StatusCode::CONFLICT,
            "version-conflict",
            "Versionskonflikt",
        )
        .with_detail(format!(
            "Der Vorgang wurde inzwischen geändert; die aktuelle Version ist {current}. Bitte laden Sie ihn neu."
        ))
        .with("current_version", json!(current)),
        ServiceError::InvalidData(errors) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-data",
            "Ungültige Angaben",
        )
        .with_detail("Die Daten passen nicht zum Datenschema des Verfahrens.")
        .with("errors", json!(errors)),
        ServiceError::InvalidInput(errors) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-input",
            "Ungültige Angaben",
        )
        .with_detail("Bitte korrigieren Sie die markierten Angaben; es wurde nichts geändert.")
        .with("errors", json!(errors)),
        ServiceError::Conflict(detail) => {
            Problem::new(StatusCode::CONFLICT, "conflict", "Konflikt").with_detail(detail)
        }
        ServiceError::Unprocessable(detail) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not-possible",
            "Nicht möglich",
        )
        .with_detail(detail),
        ServiceError::Template(detail) => {
            tracing::error!(%detail, "template failed to render");
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "template-error",
                "Interner Fehler",
            )
            .with_detail("Eine Mailvorlage konnte nicht verarbeitet werden; der Vorgang wurde nicht geändert.")
        }
        ServiceError::Internal(detail) => {
            tracing::error!(%detail, "internal error");
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Interner Fehler",
            )
            .with_detail("Die Anfrage konnte nicht bearbeitet werden; es wurde nichts geändert.")
        }
        ServiceError::Refused(reasons) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "action-refused",
            "Aktion nicht möglich",
        )
        .with_detail(
            reasons
                .iter()
                .map(|r| r.message().to_string())
                .collect::<Vec<_>>()
                .join(" "),
        )
        .with("reasons", json!(reasons)),
        ServiceError::Engine(error) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not-possible",
            "Nicht möglich",
        )
        .with_detail(error.to_string()),
        ServiceError::InvalidDefinition(diagnostics) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-workflow",
            "Ungültige Workflow-Definition",
        )
        .with_detail(format!("{} Fehler in der Definition.", diagnostics.len()))
        .with(
            "errors",
            json!(
                diagnostics
                    .iter()
                    .map(|d| json!({
                        "line": d.line,
                        "column": d.column,
                        "pointer": d.path,
                        "message": d.message,
                    }))
                    .collect::<Vec<_>>()
            ),
        ),
        ServiceError::BadRequest(detail) => bad_request(detail),
        ServiceError::Db(error) => {
            tracing::error!(error = %error, "storage failed");
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Interner Fehler",
            )
            .with_detail("Die Anfrage konnte nicht verarbeitet werden; es wurde nichts geändert.")
        }
    }
}

/// Runs blocking service work on the blocking pool and maps its errors.
pub(crate) async fn blocking<T, F>(db: &crate::db::Database, work: F) -> Result<T, Problem>
where
    F: FnOnce(&mut crate::db::DbConnection) -> Result<T, ServiceError> + Send + 'static,
    T: Send + 'static,
{
    let database = db.clone();
    let span = tracing::Span::current();
    web::block(move || {
        span.in_scope(|| {
            let mut conn = database.get().map_err(ServiceError::Db)?;
            work(&mut conn)
        })
    })
    .await
    .map_err(|e| {
        problem(ServiceError::Db(crate::db::DbError::Blocking(
            e.to_string(),
        )))
    })?
    .map_err(problem)
}

/// The engine's view of the caller.
pub(crate) fn actor(principal: &Principal) -> crate::engine::Actor {
    crate::engine::Actor {
        id: principal.email.clone(),
        roles: crate::auth::workflow_roles(principal),
    }
}

/// The 415 problem, unless the request's media type is one of `accepted`; `detail` says what
/// to send.
pub(crate) fn unsupported_media_type(
    request: &actix_web::HttpRequest,
    accepted: &[&str],
    detail: &str,
) -> Option<Problem> {
    let content_type = request
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if accepted.iter().any(|a| a.eq_ignore_ascii_case(essence)) {
        return None;
    }
    Some(
        Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Falscher Inhaltstyp",
        )
        .with_detail(detail),
    )
}

/// The request body, up to `limit` bytes: 413 beyond, naming `what` („Die Tabelle“), 400 when it
/// broke off.
pub(crate) async fn read_capped(
    mut payload: web::Payload,
    limit: usize,
    what: &str,
) -> Result<Vec<u8>, Problem> {
    use futures_util::StreamExt;
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| bad_request(format!("{what} kam nicht vollständig an.")))?;
        if body.len() + chunk.len() > limit {
            return Err(Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Datei zu groß",
            )
            .with_detail(format!(
                "{what} ist größer als {} MB.",
                limit / (1024 * 1024)
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
