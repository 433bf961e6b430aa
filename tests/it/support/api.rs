//! The API's shared state for in-process tests: the shipped workflows, a temporary document store.

use std::path::Path;
use std::sync::Arc;

use actix_web::web;
use vorgang::db::Database;
use vorgang::documents::DocumentStore;
use vorgang::scheduler::jobs::{JobContext, Jobs};
use vorgang::service::aktenzeichen::AktenzeichenPattern;
use vorgang::service::workflows::{WorkflowRegistry, WorkflowSources};
use vorgang::web::api::ApiState;

/// API state over `db` with the project's workflows deployed and documents under `data_dir`.
pub fn state(db: &Database, data_dir: &Path) -> web::Data<ApiState> {
    state_with_documents(db, DocumentStore::in_data_dir(data_dir), None)
}

/// The context a test runs jobs in: the API's workflows and mail, timers claimed as `owner` for
/// five minutes, never asked to stop.
pub fn job_context<'a>(api: &'a ApiState, jobs: &'a Jobs, owner: &'a str) -> JobContext<'a> {
    JobContext {
        case: api.case_context(),
        jobs,
        owner,
        timer_lease: chrono::TimeDelta::minutes(5),
        stop: &never,
    }
}

fn never() -> bool {
    false
}

/// Like [`state`], with `GET /metrics` open to the bearer of `token`.
pub fn state_with_metrics_token(
    db: &Database,
    data_dir: &Path,
    token: &str,
) -> web::Data<ApiState> {
    let token = vorgang::secret::Secret::from_configured(token).expect("a long enough token");
    state_with_documents(db, DocumentStore::in_data_dir(data_dir), Some(token))
}

/// Like [`state`], with documents limited to `max_size` bytes (to provoke oversized uploads).
pub fn state_with_max_size(db: &Database, data_dir: &Path, max_size: u64) -> web::Data<ApiState> {
    state_with_documents(
        db,
        DocumentStore::in_data_dir(data_dir).with_max_size(max_size),
        None,
    )
}

fn state_with_documents(
    db: &Database,
    documents: DocumentStore,
    metrics_token: Option<vorgang::secret::Secret>,
) -> web::Data<ApiState> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let outgoing = super::partners::outgoing();
    let sources = WorkflowSources {
        workflows_dir: root.join("workflows"),
        templates: outgoing.templates.clone(),
    };
    let registry = Arc::new(WorkflowRegistry::default());
    if let Ok(mut conn) = db.get() {
        // An unmigrated test database has no tables to deploy into; the API then has no workflows.
        if registry
            .sync_directory(&mut conn, &sources, chrono::Utc::now().naive_utc())
            .is_ok()
        {
            super::partners::add_partners(&mut conn);
        }
    }
    web::Data::new(ApiState {
        registry,
        pattern: AktenzeichenPattern::default(),
        sources,
        documents,
        outgoing,
        jobs: vorgang::scheduler::jobs::Jobs::default(),
        metrics_token,
        retention_years: vorgang::service::retention::DEFAULT_RETENTION_YEARS,
    })
}

/// `POST /api/v1/cases/{case}/documents` with `bytes` as the multipart field `file`, named
/// `filename` and declared as `content_type`, as staff `token`.
pub fn upload(
    case: i64,
    token: &str,
    filename: &str,
    content_type: &str,
    bytes: &[u8],
) -> actix_web::test::TestRequest {
    let boundary = "vorgangtestgrenze";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    actix_web::test::TestRequest::post()
        .uri(&format!("/api/v1/cases/{case}/documents"))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header((
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        ))
        .set_payload(body)
}

/// Whether `value` is an instant as the API writes them: RFC 3339 in UTC (`…Z`), not a bare
/// local-looking time.
pub fn is_utc_instant(value: &serde_json::Value) -> bool {
    value.as_str().is_some_and(|text| {
        text.ends_with('Z')
            && chrono::DateTime::parse_from_rfc3339(text)
                .is_ok_and(|at| at.offset().local_minus_utc() == 0)
    })
}

/// An API answer as the tests read it: the status and the JSON body (`null` where there is none).
pub struct Reply {
    pub status: actix_web::http::StatusCode,
    pub body: serde_json::Value,
}

/// Sends the request builder `$request` to the in-process `$app`; the answer as a [`Reply`].
macro_rules! send {
    ($app:expr, $request:expr) => {{
        let response = actix_web::test::call_service(&$app, $request.to_request()).await;
        let status = response.status();
        let body = serde_json::from_slice(&actix_web::test::read_body(response).await)
            .unwrap_or(serde_json::Value::Null);
        $crate::support::api::Reply { status, body }
    }};
}
pub(crate) use send;
