//! `/api/v1/admin/jobs`: the periodic jobs for administrators – when each runs next, and how the
//! latest runs went.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ApiState, blocking, denied};
use crate::auth::{Permission, Principal, authorize};
use crate::db::Database;
use crate::scheduler::jobs::{self, JobRun};
use crate::utc::rfc3339;
use crate::web::problem::Problem;

/// How many runs the overview shows.
const LATEST_RUNS: i64 = 50;

/// One configured job.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    /// `reminders` oder `housekeeping`.
    pub name: String,
    /// Cron-Ausdruck (Sekunde zuerst), gelesen in deutscher Ortszeit (Europe/Berlin).
    pub schedule: String,
    /// `false`: der Zeitplan ist abgeschaltet.
    pub enabled: bool,
    /// Nächster geplanter Lauf (RFC 3339 mit deutschem Versatz); fehlt, wenn abgeschaltet.
    pub next_run: Option<String>,
}

/// One recorded run.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobRunView {
    pub id: i64,
    pub job: String,
    pub scheduled_for: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// `running`, `ok` oder `failed`.
    pub outcome: String,
    /// Zähler des Laufs, z. B. `{"fired": 3, "stale": 0, "failed": 0}`.
    #[schema(value_type = Object)]
    pub counts: serde_json::Value,
    pub error: Option<String>,
    /// Die Instanz, die den Lauf ausgeführt hat.
    pub owner: String,
}

/// Answer of `GET /admin/jobs`.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobsOverview {
    pub jobs: Vec<JobView>,
    /// Die letzten 50 Läufe, neueste zuerst.
    pub runs: Vec<JobRunView>,
}

impl From<JobRun> for JobRunView {
    fn from(run: JobRun) -> Self {
        Self {
            id: run.id,
            job: run.job,
            scheduled_for: rfc3339(run.scheduled_for),
            started_at: rfc3339(run.started_at),
            finished_at: run.finished_at.map(rfc3339),
            outcome: run.outcome,
            // Written by `run_locked` from a JSON object; anything else shows as empty.
            counts: serde_json::from_str(&run.counts).unwrap_or_else(|_| serde_json::json!({})),
            error: run.error,
            owner: run.owner,
        }
    }
}

/// `GET /admin/jobs`: the jobs with their next run, and the latest runs.
#[utoipa::path(
    get,
    path = "/api/v1/admin/jobs",
    tag = "Aufgaben",
    summary = "Regelmäßige Aufgaben anzeigen",
    description = "Nur für Administratoren: die konfigurierten Aufgaben mit Zeitplan und nächstem Lauf sowie die letzten 50 Läufe.",
    responses(
        (status = 200, description = "Aufgaben und Läufe", body = JobsOverview),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    principal: Principal,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    authorize(&principal, Permission::ViewJobs, None).map_err(denied)?;
    let now = chrono::Utc::now();
    let jobs = api
        .jobs
        .jobs
        .iter()
        .map(|job| JobView {
            name: job.name.as_str().to_string(),
            schedule: job.schedule.expression().to_string(),
            enabled: job.enabled,
            next_run: job
                .enabled
                .then(|| job.schedule.next_after(now))
                .flatten()
                .map(|at| at.to_rfc3339()),
        })
        .collect();
    let runs = blocking(&db, |conn| jobs::latest_runs(conn, LATEST_RUNS)).await?;
    Ok(HttpResponse::Ok().json(JobsOverview {
        jobs,
        runs: runs.into_iter().map(JobRunView::from).collect(),
    }))
}
