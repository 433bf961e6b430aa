//! `/admin/aufgaben`: the periodic jobs (schedule, next run, latest runs) and the engine's
//! timers – how many of each kind and status, the next ones due, and those that failed.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde_json::{Value, json};

use super::{failure, local_time, refusal};
use crate::auth::Permission;
use crate::db::models::DefinitionId;
use crate::db::schema::{cases, timers};
use crate::db::{Database, DbConnection, DbError};
use crate::scheduler::jobs;
use crate::service::ServiceError;
use crate::service::workflows::WorkflowRegistry;
use crate::web::api::ApiState;
use crate::web::ui::{UiSession, layout, render};

/// How many runs, upcoming and failed timers the page lists.
const LATEST: i64 = 50;

/// One timer as the page lists it (the step by its title, see [`with_step_titles`]).
type TimerRow = (
    i64,
    i64,
    String,
    String,
    NaiveDate,
    Option<NaiveDate>,
    String,
    i32,
    Option<String>,
);

/// A timer as read, with the workflow version of its case.
type TimerRead = (DefinitionId, TimerRow);

fn timer_query(conn: &mut DbConnection, failed: bool) -> Result<Vec<TimerRead>, DbError> {
    let mut query = timers::table
        .inner_join(cases::table)
        .select((
            cases::definition_id,
            (
                timers::id,
                timers::case_id,
                cases::aktenzeichen,
                timers::kind,
                timers::due,
                timers::deadline,
                timers::step,
                timers::attempts,
                timers::last_error,
            ),
        ))
        .into_boxed();
    query = if failed {
        query
            .filter(timers::last_error.is_not_null())
            .order(timers::id.desc())
    } else {
        query
            .filter(timers::status.eq("scheduled"))
            .order((timers::due, timers::id))
    };
    Ok(query.limit(LATEST).load(conn)?)
}

/// Names each timer's step by its German title in the workflow version of its case, as the case
/// page does. A version that cannot be loaded, or a step it does not know, keeps the key: the page
/// is where an administrator looks when something is broken, so it must not fail for a label.
fn with_step_titles(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
    rows: Vec<TimerRead>,
) -> Vec<TimerRow> {
    rows.into_iter()
        .map(|(definition, mut row)| {
            if let Ok(deployed) = registry.by_id(conn, definition) {
                row.6 = deployed
                    .workflow
                    .definition()
                    .step_title(&row.6)
                    .to_string();
            }
            row
        })
        .collect()
}

fn date(day: NaiveDate) -> String {
    day.format("%d.%m.%Y").to_string()
}

fn timer_json(row: &TimerRow) -> Value {
    let (id, case, aktenzeichen, kind, due, deadline, step, attempts, error) = row;
    json!({
        "id": id,
        "vorgang": case,
        "aktenzeichen": aktenzeichen,
        "art": kind_label(kind),
        "faellig": date(*due),
        "frist": deadline.map(date),
        "schritt": step,
        "versuche": attempts,
        "fehler": error,
    })
}

fn kind_label(kind: &str) -> &str {
    match kind {
        "flow" => "Ablauf",
        "reminder" => "Erinnerung",
        other => other,
    }
}

fn status_label(status: &str) -> &str {
    match status {
        "scheduled" => "Geplant",
        "fired" => "Ausgelöst",
        "cancelled" => "Aufgehoben",
        other => other,
    }
}

/// `GET /admin/aufgaben`.
pub async fn show(
    session: UiSession,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    if let Some(refused) = refusal(&api, &session, Permission::ViewJobs) {
        return refused;
    }
    let registry = api.registry.clone();
    let loaded = db
        .run(move |conn| {
            let runs = jobs::latest_runs(conn, LATEST).map_err(|e| match e {
                ServiceError::Db(error) => error,
                other => DbError::Blocking(other.to_string()),
            })?;
            let counts: Vec<(String, String, i64)> = timers::table
                .group_by((timers::kind, timers::status))
                .select((timers::kind, timers::status, diesel::dsl::count_star()))
                .order((timers::kind, timers::status))
                .load(conn)?;
            let upcoming = timer_query(conn, false)?;
            let failed = timer_query(conn, true)?;
            Ok((
                runs,
                counts,
                with_step_titles(conn, &registry, upcoming),
                with_step_titles(conn, &registry, failed),
            ))
        })
        .await;
    let (runs, counts, upcoming, failed) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure(&api, &session, ServiceError::Db(error)),
    };
    let now = chrono::Utc::now();
    let configured: Vec<Value> = api
        .jobs
        .jobs
        .iter()
        .map(|job| {
            json!({
                "name": job.name.as_str(),
                "zeitplan": job.schedule.expression(),
                "aktiv": job.enabled,
                "naechster": job
                    .enabled
                    .then(|| job.schedule.next_after(now))
                    .flatten()
                    .map(|at| local_time(at.naive_utc())),
            })
        })
        .collect();
    let runs: Vec<Value> = runs
        .iter()
        .map(|run| {
            let counts: serde_json::Map<String, Value> =
                serde_json::from_str(&run.counts).unwrap_or_default();
            json!({
                "job": run.job,
                "geplant": local_time(run.scheduled_for),
                "begonnen": local_time(run.started_at),
                "beendet": run.finished_at.map(local_time),
                "ergebnis": match run.outcome.as_str() {
                    "ok" => "Erfolgreich",
                    "failed" => "Fehlgeschlagen",
                    "running" => "Läuft",
                    _ => "Unbekannt",
                },
                "zaehler": counts.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", "),
                "fehler": run.error,
            })
        })
        .collect();
    let mut context = layout("Aufgaben und Zeitgeber", Some(&session), Some("/admin"));
    context["jobs"] = json!(configured);
    context["laeufe"] = json!(runs);
    context["zaehlung"] = json!(
        counts
            .iter()
            .map(|(kind, status, n)| json!({ "art": kind_label(kind), "status": status_label(status), "anzahl": n }))
            .collect::<Vec<_>>()
    );
    context["anstehend"] = json!(upcoming.iter().map(timer_json).collect::<Vec<_>>());
    context["fehlerhaft"] = json!(failed.iter().map(timer_json).collect::<Vec<_>>());
    render(&api, StatusCode::OK, "admin_aufgaben", &context)
}
