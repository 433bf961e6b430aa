//! Readiness in-process: it reports the database's real state.

use actix_web::test;
use diesel::connection::SimpleConnection;
use vorgang::db::Database;

use crate::support::db::postgres_available;
use crate::support::{Backend, TestDatabase};

async fn readyz_status(db: Database) -> (u16, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let api = crate::support::api::state(&db, dir.path());
    let app = test::init_service(vorgang::web::app(
        db,
        crate::support::auth::test_auth(),
        api,
    ))
    .await;
    let response =
        test::call_service(&app, test::TestRequest::get().uri("/readyz").to_request()).await;
    let status = response.status().as_u16();
    let body: serde_json::Value = test::read_body_json(response).await;
    (status, body)
}

both_backends! {
    async fn not_ready_while_migrations_are_pending(backend) {
        let db = TestDatabase::empty(backend);
        let (status, body) = readyz_status(db.pool(2)).await;
        assert_eq!(status, 503);
        assert_eq!(body["type"], "urn:vorgang:problem:not-ready");
        assert!(body["detail"].as_str().unwrap().contains("Migrationen"), "{body}");
    }
}

both_backends! {
    async fn ready_when_migrated(backend) {
        let db = TestDatabase::migrated(backend);
        let (status, body) = readyz_status(db.pool(2)).await;
        assert_eq!(status, 200, "{body}");
    }
}

#[actix_web::test]
async fn not_ready_when_the_database_goes_away() {
    if !postgres_available() {
        return;
    }
    let db = TestDatabase::migrated(Backend::Postgres);
    let pool = db.pool(2);
    let vorgang::db::DatabaseUrl::Postgres(url) = &db.url else {
        unreachable!()
    };
    let name = url.rsplit('/').next().unwrap().to_string();
    // Drop the database under the running pool (terminating its connections).
    let mut admin = <diesel::pg::PgConnection as diesel::Connection>::establish(
        &std::env::var("VORGANG_TEST_PG_URL").unwrap(),
    )
    .unwrap();
    admin
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .unwrap();
    let (status, body) = readyz_status(pool).await;
    assert_eq!(status, 503);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("nicht erreichbar"),
        "{body}"
    );
}

/// (status, headers, body) of `GET /metrics` with this Authorization header.
async fn scrape<S, B>(
    app: &S,
    authorization: Option<&str>,
) -> (u16, actix_web::http::header::HeaderMap, String)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let mut request = test::TestRequest::get().uri("/metrics");
    if let Some(value) = authorization {
        request = request.insert_header(("Authorization", value));
    }
    let response = test::call_service(app, request.to_request()).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
    (status, headers, body)
}

both_backends! {
    async fn metrics_report_cases_mails_timers_and_jobs_to_the_bearer_of_the_token(backend) {
        use chrono::{TimeDelta, Utc};
        use diesel::prelude::*;
        use vorgang::db::schema::{job_runs, outbox, timers};

        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let token = "metrik-token-0123456789abcdef0123456789";

        // Off without a token.
        let off = test::init_service(vorgang::web::app(db.pool(2), crate::support::auth::test_auth(), crate::support::api::state(&db.pool(2), dir.path()))).await;
        assert_eq!(scrape(&off, Some(&format!("Bearer {token}"))).await.0, 404);

        let pool = db.pool(2);
        let api = crate::support::api::state_with_metrics_token(&pool, dir.path(), token);
        let app = test::init_service(vorgang::web::app(pool, crate::support::auth::test_auth(), api)).await;
        let (status, headers, body) = scrape(&app, None).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(headers.get("www-authenticate").unwrap(), "Bearer realm=\"vorgang-metrics\"");
        assert_eq!(headers.get("content-type").unwrap(), "application/problem+json");
        assert_eq!(scrape(&app, Some("Bearer falsch")).await.0, 401);
        assert_eq!(scrape(&app, Some(token)).await.0, 401, "the scheme is required");

        // An empty installation: zeros, and the families are there.
        let (status, headers, body) = scrape(&app, Some(&format!("Bearer {token}"))).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(headers.get("content-type").unwrap(), "text/plain; version=0.0.4; charset=utf-8");
        let database = match backend { Backend::Sqlite => "sqlite", Backend::Postgres => "postgres" };
        assert!(body.contains(&format!(",database=\"{database}\"}} 1\n")), "{body}");
        for line in ["vorgang_outbox_mails{status=\"pending\"} 0", "vorgang_outbox_oldest_unsent_age_seconds 0.000", "vorgang_timers_due{kind=\"flow\"} 0",
                     "vorgang_job_last_success_timestamp_seconds{job=\"reminders\"} 0.000", "vorgang_job_last_run_failed{job=\"housekeeping\"} 0",
                     "vorgang_login_limit_keys{limit=\"login\",key=\"account\",state=\"refusing\"} 0",
                     "vorgang_login_limit_keys{limit=\"reset-link\",key=\"address\",state=\"counting\"} 0"] {
            assert!(body.lines().any(|l| l == line), "{line}:\n{body}");
        }

        // Two cases, a mail waiting for an hour and one failed, a timer due yesterday, a job
        // that succeeded and then failed.
        let mut conn = db.connection();
        let first = crate::support::cases::insert_case(&mut conn, "KI-05154-2026-0001");
        crate::support::cases::insert_case(&mut conn, "KI-05154-2026-0002");
        let now = Utc::now().naive_utc();
        for (id, status, age) in [(1, "pending", 3600), (2, "failed", 7200), (3, "sent", 9000)] {
            diesel::insert_into(outbox::table)
                .values((
                    outbox::message_id.eq(format!("<{id}@vorgang>")),
                    outbox::template.eq("beteiligung_einladung"),
                    outbox::recipients.eq("[]"),
                    outbox::context.eq("{}"),
                    outbox::status.eq(status),
                    outbox::next_attempt_at.eq(now),
                    outbox::created_at.eq(now - TimeDelta::seconds(age)),
                    outbox::subject.eq("Einladung"),
                    outbox::rendered.eq("{}"),
                ))
                .execute(&mut conn)
                .unwrap();
        }
        let yesterday = vorgang::service::clock::now().today - chrono::Days::new(1);
        diesel::insert_into(timers::table)
            .values((
                timers::case_id.eq(first),
                timers::local_id.eq(1_i64),
                timers::step.eq("pruefung"),
                timers::due.eq(yesterday),
                timers::kind.eq("flow"),
                timers::created_at.eq(now),
            ))
            .execute(&mut conn)
            .unwrap();
        let succeeded = now - TimeDelta::days(1);
        for (outcome, finished) in [("ok", succeeded), ("failed", now)] {
            diesel::insert_into(job_runs::table)
                .values((
                    job_runs::job.eq("digest"),
                    job_runs::scheduled_for.eq(finished),
                    job_runs::started_at.eq(finished),
                    job_runs::finished_at.eq(finished),
                    job_runs::outcome.eq(outcome),
                    job_runs::counts.eq("{}"),
                    job_runs::owner.eq("test"),
                ))
                .execute(&mut conn)
                .unwrap();
        }
        drop(conn);
        // Five wrong passwords for one address, each from a client of its own.
        for i in 0..5 {
            let request = test::TestRequest::post()
                .uri("/api/v1/auth/token")
                .peer_addr(format!("198.51.100.{i}:1").parse().unwrap())
                .set_json(serde_json::json!({"email": "anna@kreis-kleve.de", "password": "falsches-passwort"}))
                .to_request();
            assert_eq!(test::call_service(&app, request).await.status(), 401);
        }

        let (status, _, body) = scrape(&app, Some(&format!("Bearer {token}"))).await;
        assert_eq!(status, 200, "{body}");
        let value = |prefix: &str| -> f64 {
            body.lines()
                .find_map(|l| l.strip_prefix(prefix).and_then(|rest| rest.strip_prefix(' ')))
                .unwrap_or_else(|| panic!("{prefix} missing:\n{body}"))
                .parse()
                .unwrap()
        };
        assert_eq!(value("vorgang_cases{workflow=\"test-workflow\",status=\"new\"}"), 2.0);
        assert_eq!(value("vorgang_outbox_mails{status=\"pending\"}"), 1.0);
        assert_eq!(value("vorgang_outbox_mails{status=\"failed\"}"), 1.0);
        assert_eq!(value("vorgang_outbox_mails{status=\"sent\"}"), 1.0);
        let age = value("vorgang_outbox_oldest_unsent_age_seconds");
        assert!((3600.0..3700.0).contains(&age), "the pending mail's age, not the failed one's: {age}");
        assert_eq!(value("vorgang_timers_due{kind=\"flow\"}"), 1.0);
        assert_eq!(value("vorgang_job_last_run_failed{job=\"digest\"}"), 1.0);
        let success = value("vorgang_job_last_success_timestamp_seconds{job=\"digest\"}");
        assert!((success - succeeded.and_utc().timestamp() as f64).abs() < 1.0, "{success}");
        let keys = |limit: &str, key: &str| {
            let state = |state: &str| value(&format!("vorgang_login_limit_keys{{limit=\"{limit}\",key=\"{key}\",state=\"{state}\"}}"));
            (state("counting"), state("refusing"))
        };
        assert_eq!(keys("login", "account"), (1.0, 1.0), "the account is refused now");
        assert_eq!(keys("login", "address"), (5.0, 0.0), "each address has four attempts left");
        assert_eq!(keys("reset-link", "account"), (0.0, 0.0));
    }
}
