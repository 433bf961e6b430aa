//! The API against its own OpenAPI document, by Schemathesis: a running `vorgang serve` (the
//! browser stories' stage, on SQLite and on PostgreSQL) is sent generated requests, valid and
//! invalid, for every documented operation, first as a coordinator, then as an administrator.
//! No answer may be a server error; every status, content type, header and body must be one the
//! document declares; a request the document rules out must be refused; nothing is served
//! without a token.
//!
//! Needs Schemathesis (`pip install schemathesis`; the `st` command, or the path in
//! `SCHEMATHESIS`). Without it the test is skipped with a notice, and fails when `CI=true`
//! (`.ci/run` installs it). Run just this with `cargo test --test it contract -- --nocapture`.

use std::process::{Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use serde_json::json;
use vorgang::db::models::Role;

use crate::beteiligung::application;
use crate::support::auth::create_user;
use crate::support::browser::Stage;
use crate::support::process::wait_at_most;
use crate::support::skip_or_fail;

const ADMIN: &str = "admin@kreis-soest.de";
const ADMIN_PASSWORD: &str = "ein-anderes-gutes-passwort";

/// How long one Schemathesis run may take before it is killed.
const RUN_LIMIT: Duration = Duration::from_secs(300);

/// The checks that hold for every answer. Left out: `positive_data_acceptance`, since a request
/// the schema allows may still be refused for a reason of the domain (an unknown organisation,
/// a past date: 422), and the stateful checks that assume a resource stays (cases are withdrawn).
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance,\
                      negative_data_rejection,ignored_auth";

/// Operations left out, each tested on its own elsewhere: those that end the run's own token
/// (`DELETE /auth/token`, `DELETE /admin/users/{id}/tokens`), and the login, whose limit per
/// address would slow every later login from this machine.
const EXCLUDED: &str = r"/auth/token$|/admin/users/\{id\}/tokens$";

/// The Schemathesis command: `SCHEMATHESIS`, else `st` on the PATH.
fn schemathesis() -> String {
    std::env::var("SCHEMATHESIS").unwrap_or_else(|_| "st".to_string())
}

/// True when Schemathesis runs here; otherwise a notice once (or a failure under `CI=true`).
fn available() -> bool {
    let runs = Command::new(schemathesis())
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if runs {
        return true;
    }
    let missing = format!(
        "`{}` (pip install schemathesis, or set SCHEMATHESIS)",
        schemathesis()
    );
    static SKIP_NOTICE: Once = Once::new();
    skip_or_fail(
        &SKIP_NOTICE,
        &format!("the contract test cannot run; missing: {missing}"),
        &format!("the API contract test is skipped; missing: {missing}."),
    )
}

/// Runs Schemathesis against `stage` with `token`; its report when a check failed.
fn fuzz(stage: &Stage, token: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("schemathesis.txt");
    // Path ids of things that exist (the case, the coordinator's account), so that operations
    // on one case or account answer more than 404; Schemathesis reads the file from its cwd.
    std::fs::write(
        dir.path().join("schemathesis.toml"),
        "[parameters]\n\"path.id\" = 1\n",
    )
    .unwrap();
    let started = Instant::now();
    let mut child = Command::new(schemathesis())
        .args(["--no-color", "run"])
        .arg(format!("{}/api/openapi.json", stage.base_url()))
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", CHECKS])
        .args(["--exclude-path-regex", EXCLUDED])
        // Reproducible: a fixed seed, one worker, no examples remembered from earlier runs.
        .args([
            "--seed",
            "1",
            "--workers",
            "1",
            "--generation-database",
            "none",
        ])
        .args(["--max-examples", "60", "--request-timeout", "20"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&report).unwrap())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("schemathesis starts");
    let Some(status) = wait_at_most(&mut child, started, RUN_LIMIT) else {
        return Err(format!("Schemathesis did not finish within {RUN_LIMIT:?}"));
    };
    let output = std::fs::read_to_string(&report).unwrap();
    let summary = output
        .rsplit_once("SUMMARY")
        .map_or(output.as_str(), |(_, summary)| summary);
    eprintln!("[schemathesis] {summary}");
    if status.success() {
        Ok(())
    } else {
        Err(output)
    }
}

both_backends! {
    fn the_api_keeps_to_its_openapi_document_under_generated_requests(backend) {
        if !available() {
            return;
        }
        let stage = Stage::start_on_backend(backend);
        create_user(
            &mut stage.db.connection(),
            ADMIN,
            "05974",
            &[Role::Admin],
            Some(ADMIN_PASSWORD),
        );
        let coordinator = stage.staff_token();
        let (status, admin) = stage.post(
            "/api/v1/auth/token",
            None,
            &json!({ "email": ADMIN, "password": ADMIN_PASSWORD }),
        );
        assert_eq!(status, 200, "{admin}");
        let admin = admin["token"].as_str().unwrap().to_string();
        // Something to find: a case in its Beteiligung, with invitations and a journal.
        let (status, case) = stage.post(
            "/api/v1/cases",
            Some(&coordinator),
            &json!({ "workflow": "ki-antrag", "data": application() }),
        );
        assert_eq!(status, 201, "{case}");
        let (status, started) = stage.post(
            &format!("/api/v1/cases/{}/actions/beteiligung_starten", case["id"]),
            Some(&coordinator),
            &json!({ "version": 1 }),
        );
        assert_eq!(status, 200, "{started}");

        // The coordinator first: the administrator's run may change the coordinator's account.
        for (who, token) in [("coordinator", &coordinator), ("administrator", &admin)] {
            if let Err(report) = fuzz(&stage, token) {
                let log = stage.server.log_lines();
                panic!(
                    "Schemathesis found answers that break the OpenAPI document, as the {who}:\n\
                     {report}\nthe server's last log lines:\n{}",
                    log[log.len().saturating_sub(100)..].join("\n")
                );
            }
        }
    }
}
