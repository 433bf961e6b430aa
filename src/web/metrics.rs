//! `GET /metrics`: the figures of `service::metrics` in the Prometheus text format (0.0.4), for
//! the Kreis's monitoring: alert when mails stop going out (`vorgang_outbox_oldest_unsent_age_
//! seconds` grows, `vorgang_outbox_mails{status="failed"}` rises), when due timers are not fired
//! (`vorgang_timers_due{kind="flow"}` stays above 0), when a periodic job fails, or when many
//! addresses are refused for failed logins (`vorgang_login_limit_keys`: someone guesses
//! passwords).
//!
//! Off unless `metrics_token` is configured (404 then); with it, only a request carrying
//! `Authorization: Bearer <metrics_token>` is answered (401 otherwise). The figures hold no
//! personal data, but the number of cases of each procedure is the authority's business.

use std::fmt::Write as _;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};

use super::api::ApiState;
use super::problem::Problem;
use crate::auth::Auth;
use crate::db::Database;
use crate::service::metrics::{self, Snapshot};
use crate::service::{ServiceError, clock};

/// Where the figures are served.
pub const PATH: &str = "/metrics";

/// Whether the request carries the configured token. Compares digests, so the time taken says
/// nothing about how much of the token was right.
fn authorised(req: &HttpRequest, token: &crate::secret::Secret) -> bool {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    Sha256::digest(given.trim().as_bytes()) == Sha256::digest(token.as_bytes())
}

/// `GET /metrics`.
pub async fn serve(
    req: HttpRequest,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
    auth: web::Data<Auth>,
) -> HttpResponse {
    let Some(token) = &api.metrics_token else {
        return Problem::not_found().error_response();
    };
    if !authorised(&req, token) {
        let mut response =
            Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Nicht angemeldet")
                .with_detail(
                    "Die Kennzahlen verlangen `Authorization: Bearer` mit dem metrics_token.",
                )
                .error_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"vorgang-metrics\""),
        );
        return response;
    }
    let backend = db.url().backend_name();
    let clock = clock::now();
    let (today, now) = (clock.today, clock.now.naive_utc());
    let database = db.get_ref().clone();
    let limiters = auth.limiters();
    let at = clock.now;
    let snapshot = web::block(move || -> Result<Snapshot, ServiceError> {
        let mut conn = database.get().map_err(ServiceError::Db)?;
        metrics::snapshot(&mut conn, today, at, &limiters)
    })
    .await;
    match snapshot {
        Ok(Ok(snapshot)) => HttpResponse::Ok()
            .insert_header((
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            ))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(exposition(&snapshot, backend, now)),
        Ok(Err(error)) => {
            tracing::error!(%error, "metrics failed");
            crate::web::api::problem(error).error_response()
        }
        Err(error) => {
            tracing::error!(%error, "metrics failed");
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Interner Fehler",
            )
            .error_response()
        }
    }
}

/// A label value as the format wants it: backslash, quotation mark and line feed escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn seconds(at: NaiveDateTime) -> f64 {
    at.and_utc().timestamp_micros() as f64 / 1e6
}

/// The text format of `snapshot`, `now` being the scrape's time (UTC).
pub fn exposition(snapshot: &Snapshot, backend: &str, now: NaiveDateTime) -> String {
    let mut out = String::new();
    let mut family = |name: &str, help: &str, samples: Vec<(String, String)>| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    family(
        "vorgang_build_info",
        "The running vorgang: its version and database backend.",
        vec![(
            format!(
                "{{version=\"{}\",database=\"{}\"}}",
                label(env!("CARGO_PKG_VERSION")),
                label(backend)
            ),
            "1".into(),
        )],
    );
    family(
        "vorgang_cases",
        "Cases by workflow and status.",
        snapshot
            .cases
            .iter()
            .map(|((workflow, status), count)| {
                (
                    format!(
                        "{{workflow=\"{}\",status=\"{}\"}}",
                        label(workflow),
                        label(status)
                    ),
                    count.to_string(),
                )
            })
            .collect(),
    );
    family(
        "vorgang_outbox_mails",
        "Mails in the outbox by status (sent ones until housekeeping removes them).",
        snapshot
            .outbox
            .iter()
            .map(|(status, count)| {
                (
                    format!("{{status=\"{}\"}}", label(status)),
                    count.to_string(),
                )
            })
            .collect(),
    );
    let age = snapshot
        .oldest_unsent
        .map_or(0.0, |queued| (seconds(now) - seconds(queued)).max(0.0));
    family(
        "vorgang_outbox_oldest_unsent_age_seconds",
        "How long the oldest mail not yet sent has waited; 0 when every mail is out.",
        vec![(String::new(), format!("{age:.3}"))],
    );
    family(
        "vorgang_timers_due",
        "Scheduled timers due today or earlier, by kind (flow: the poller fires them within \
         seconds; reminder: the reminders job on working days).",
        snapshot
            .timers_due
            .iter()
            .map(|(kind, count)| (format!("{{kind=\"{}\"}}", label(kind)), count.to_string()))
            .collect(),
    );
    family(
        "vorgang_job_last_success_timestamp_seconds",
        "When each periodic job last finished successfully (Unix time); 0 if never.",
        snapshot
            .jobs
            .iter()
            .map(|job| {
                (
                    format!("{{job=\"{}\"}}", label(&job.job)),
                    format!("{:.3}", job.last_success.map_or(0.0, seconds)),
                )
            })
            .collect(),
    );
    family(
        "vorgang_job_last_run_failed",
        "1 if the latest finished run of the job failed, else 0.",
        snapshot
            .jobs
            .iter()
            .map(|job| {
                (
                    format!("{{job=\"{}\"}}", label(&job.job)),
                    u8::from(job.last_failed).to_string(),
                )
            })
            .collect(),
    );
    family(
        "vorgang_login_limit_keys",
        "Accounts and client addresses with failed attempts still counted (state counting) and \
         those refused for now (state refusing), by limit (login; reset-link: requests for a \
         password link).",
        snapshot
            .login_limits
            .iter()
            .flat_map(|tally| {
                [("counting", tally.counting), ("refusing", tally.refusing)].map(
                    |(state, count)| {
                        (
                            format!(
                                "{{limit=\"{}\",key=\"{}\",state=\"{state}\"}}",
                                label(tally.scope),
                                label(tally.kind)
                            ),
                            count.to_string(),
                        )
                    },
                )
            })
            .collect(),
    );
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::auth::limiter::KeyTally;
    use crate::service::metrics::JobState;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn the_text_format_names_every_family_once_with_its_samples() {
        let snapshot = Snapshot {
            cases: BTreeMap::from([(("ki-antrag".into(), "running".into()), 3)]),
            outbox: BTreeMap::from([("failed".into(), 1), ("pending".into(), 2)]),
            oldest_unsent: Some(at("2026-12-04 10:00:00")),
            timers_due: BTreeMap::from([("flow".into(), 0), ("reminder".into(), 4)]),
            jobs: vec![JobState {
                job: "digest".into(),
                last_success: Some(at("2026-11-30 05:00:00")),
                last_failed: true,
            }],
            login_limits: vec![KeyTally {
                scope: "login",
                kind: "address",
                counting: 7,
                refusing: 2,
            }],
        };
        let text = exposition(&snapshot, "sqlite", at("2026-12-04 10:01:30"));
        for line in [
            "# TYPE vorgang_cases gauge",
            "vorgang_cases{workflow=\"ki-antrag\",status=\"running\"} 3",
            "vorgang_outbox_mails{status=\"failed\"} 1",
            "vorgang_outbox_oldest_unsent_age_seconds 90.000",
            "vorgang_timers_due{kind=\"reminder\"} 4",
            "vorgang_job_last_success_timestamp_seconds{job=\"digest\"} 1796014800.000",
            "vorgang_job_last_run_failed{job=\"digest\"} 1",
            "vorgang_login_limit_keys{limit=\"login\",key=\"address\",state=\"counting\"} 7",
            "vorgang_login_limit_keys{limit=\"login\",key=\"address\",state=\"refusing\"} 2",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing in:\n{text}"
            );
        }
        assert!(text.contains("vorgang_build_info{version=\""));
        assert_eq!(text.matches("# HELP vorgang_cases ").count(), 1);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
