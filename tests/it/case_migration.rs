//! Moving running cases to a newer version of their workflow, on both databases: one case or
//! all of a version, only where every step it stands at exists as the same kind of step; refused
//! moves change nothing, a move is journaled and keeps the chain intact.

use actix_web::http::StatusCode;
use actix_web::test as actix_test;
use serde_json::{Value, json};
use vorgang::db::models::Role;

use crate::support::TestDatabase;
use crate::support::api::send;
use crate::support::auth::{create_user, staff_token, test_auth};

fn post(uri: &str, token: &str, body: Value) -> actix_test::TestRequest {
    actix_test::TestRequest::post()
        .uri(uri)
        .insert_header(("Authorization", format!("Bearer {token}")))
        .set_json(body)
}

/// `ki-antrag` as shipped, with `edit` applied to its source, deployed as a new version.
fn deploy(token: &str, edit: impl Fn(&str) -> String) -> actix_test::TestRequest {
    let source = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/workflows/ki-antrag.yaml"
    ))
    .unwrap();
    let changed = edit(&source);
    assert_ne!(changed, source, "the edit must change the definition");
    actix_test::TestRequest::post()
        .uri("/api/v1/workflows")
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Content-Type", "application/yaml"))
        .set_payload(changed)
}

/// A new title: every step stays as it is.
fn retitled(source: &str) -> String {
    source.replacen("\ntitle: ", "\ntitle: (Fassung 2) ", 1)
}

/// The first step renamed: a case standing there has no place in this version.
fn first_step_renamed(source: &str) -> String {
    source
        .replace("start: entwurf", "start: ausarbeitung")
        .replace("\n  entwurf:", "\n  ausarbeitung:")
        .replace("to: entwurf", "to: ausarbeitung")
}

both_backends! {
    async fn running_cases_move_to_a_newer_version_only_where_their_steps_exist(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let (admin, kleve) = {
            let mut conn = db.connection();
            (
                staff_token(&create_user(&mut conn, "admin@kfi.nrw.de", "KFI", &[Role::Admin], None)),
                staff_token(&create_user(&mut conn, "k@kreis-kleve.de", "05154", &[Role::Koordination], None)),
            )
        };
        let pool = db.pool(2);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;
        let mut started = Vec::new();
        for _ in 0..3 {
            let created = send!(app, post("/api/v1/cases", &kleve, json!({ "workflow": "ki-antrag" })));
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
            assert_eq!(created.body["workflow_version"], 1);
            started.push(created.body);
        }
        let (a, b) = (&started[0], &started[1]);
        let (a_id, a_version) = (a["id"].as_i64().unwrap(), a["version"].as_i64().unwrap());
        let deployed = send!(app, deploy(&admin, retitled));
        assert_eq!(deployed.status, StatusCode::CREATED, "{}", deployed.body);
        assert_eq!(deployed.body["version"], 2);

        // Only administrators, only at the case's current version, only to a version that exists.
        let migrate = |id: i64, body: Value, token: &str| post(&format!("/api/v1/cases/{id}/migrate"), token, body);
        assert_eq!(send!(app, migrate(a_id, json!({ "version": a_version }), &kleve)).status, StatusCode::FORBIDDEN);
        let stale = send!(app, migrate(a_id, json!({ "version": a_version + 5 }), &admin));
        assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
        assert_eq!(stale.body["current_version"], a_version);
        let nowhere = send!(app, migrate(a_id, json!({ "version": a_version, "to": 99 }), &admin));
        assert_eq!(nowhere.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", nowhere.body);
        assert!(nowhere.body["detail"].as_str().unwrap().contains("nicht in Version 99"), "{}", nowhere.body);
        assert_eq!(send!(app, migrate(a_id, json!({ "version": a_version, "schritt": 1 }), &admin)).status, StatusCode::BAD_REQUEST);

        // Moved: the new version, a new case version, the same place, one journal entry.
        let moved = send!(app, migrate(a_id, json!({ "version": a_version }), &admin));
        assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
        assert_eq!(moved.body["workflow_version"], 2);
        assert_eq!(moved.body["version"], a_version + 1);
        assert_eq!(moved.body["active_steps"], a["active_steps"]);
        assert_eq!(moved.body["data"], a["data"]);
        let journal = send!(app, actix_test::TestRequest::get()
            .uri(&format!("/api/v1/cases/{a_id}/journal"))
            .insert_header(("Authorization", format!("Bearer {admin}"))));
        let last = journal.body.as_array().unwrap().last().unwrap().clone();
        assert_eq!((last["kind"].clone(), last["payload"].clone(), last["actor"].clone()), (json!("workflow_version_changed"), json!({ "from": 1, "to": 2 }), json!("admin@kfi.nrw.de")));
        // Its actions still work on the new version.
        let patched = send!(app, actix_test::TestRequest::patch()
            .uri(&format!("/api/v1/cases/{a_id}/data"))
            .insert_header(("Authorization", format!("Bearer {kleve}")))
            .set_json(json!({ "version": a_version + 1, "data": { "zentrum_name": "KI Kleve" } })));
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
        // Not again, and never back.
        let again = send!(app, migrate(a_id, json!({ "version": a_version + 2 }), &admin));
        assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", again.body);
        assert!(again.body["reasons"][0]["message"].as_str().unwrap().contains("läuft nach Version 2"), "{}", again.body);
        let back = send!(app, migrate(a_id, json!({ "version": a_version + 2, "to": 1 }), &admin));
        assert_eq!(back.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", back.body);

        // A version without the step the cases stand at: refused with the step named, nothing changes.
        let deployed = send!(app, deploy(&admin, |s| first_step_renamed(&retitled(s))));
        assert_eq!(deployed.status, StatusCode::CREATED, "{}", deployed.body);
        assert_eq!(deployed.body["version"], 3);
        let b_id = b["id"].as_i64().unwrap();
        let refused = send!(app, migrate(b_id, json!({ "version": b["version"] }), &admin));
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
        assert_eq!(refused.body["reasons"][0]["message"], "Den Schritt „entwurf“, an dem der Vorgang steht, gibt es in Version 3 nicht.");
        let unchanged = send!(app, actix_test::TestRequest::get()
            .uri(&format!("/api/v1/cases/{b_id}"))
            .insert_header(("Authorization", format!("Bearer {admin}"))));
        assert_eq!((unchanged.body["workflow_version"].clone(), unchanged.body["version"].clone()), (json!(1), b["version"].clone()));

        // All of version 1 at once: a trial changes nothing, then both remaining cases move to 2.
        let all = |body: Value| post("/api/v1/workflows/ki-antrag/migrate", &admin, body);
        let to_three = send!(app, all(json!({ "from": 1 })));
        assert_eq!(to_three.status, StatusCode::OK, "{}", to_three.body);
        assert_eq!(to_three.body["moved"], json!([]));
        assert_eq!(to_three.body["refused"].as_array().unwrap().len(), 2, "{}", to_three.body);
        let trial = send!(app, all(json!({ "from": 1, "to": 2, "trial": true })));
        assert_eq!((trial.body["moved"].clone(), trial.body["movable"].as_array().unwrap().len()), (json!([]), 2), "{}", trial.body);
        let done = send!(app, all(json!({ "from": 1, "to": 2 })));
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        assert_eq!(done.body["moved"], json!([b["aktenzeichen"], started[2]["aktenzeichen"]]));
        assert_eq!(done.body["refused"], json!([]));
        assert_eq!(send!(app, all(json!({ "from": 7 }))).status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(send!(app, post("/api/v1/workflows/ki-antrag/migrate", &kleve, json!({ "from": 1 }))).status, StatusCode::FORBIDDEN);

        // Every journal is still a valid chain.
        assert!(vorgang::journal::verify_all(&mut db.connection()).unwrap().is_empty());
    }
}

/// The consultation step `beteiligung` renamed to `partnerbeteiligung`.
fn consultation_renamed(source: &str) -> String {
    source
        .replace("\n  beteiligung:\n", "\n  partnerbeteiligung:\n")
        .replace("to: beteiligung\n", "to: partnerbeteiligung\n")
}

/// The step each of the case's rows in `table` names (`timers` or `invitations`).
fn mirrored_steps(db: &TestDatabase, case: i64) -> (Vec<String>, Vec<String>) {
    use diesel::prelude::*;
    use vorgang::db::schema::{invitations, timers};
    let mut conn = db.connection();
    let timer_steps = timers::table
        .filter(timers::case_id.eq(case))
        .select(timers::step)
        .load(&mut conn)
        .unwrap();
    let invitation_steps = invitations::table
        .filter(invitations::case_id.eq(case))
        .select(invitations::step)
        .load(&mut conn)
        .unwrap();
    (timer_steps, invitation_steps)
}

both_backends! {
    async fn a_case_in_a_renamed_consultation_moves_with_a_step_mapping_and_its_partners_links_keep_working(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let (admin, soest) = {
            let mut conn = db.connection();
            (
                staff_token(&create_user(&mut conn, "admin@kfi.nrw.de", "KFI", &[Role::Admin], None)),
                staff_token(&create_user(&mut conn, "k@kreis-soest.de", "05974", &[Role::Koordination], None)),
            )
        };
        let pool = db.pool(2);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;
        let created = send!(app, post("/api/v1/cases", &soest, json!({ "workflow": "ki-antrag", "data": crate::beteiligung::application() })));
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let id = created.body["id"].as_i64().unwrap();
        let started = send!(app, post(&format!("/api/v1/cases/{id}/actions/beteiligung_starten"), &soest, json!({ "version": 1 })));
        assert_eq!(started.status, StatusCode::OK, "{}", started.body);
        let version = started.body["version"].as_i64().unwrap();
        let (timer_steps, invitation_steps) = mirrored_steps(&db, id);
        assert!(!timer_steps.is_empty() && timer_steps.iter().all(|s| s == "beteiligung"), "{timer_steps:?}");
        assert_eq!(invitation_steps, ["beteiligung", "beteiligung"]);
        let deployed = send!(app, deploy(&admin, consultation_renamed));
        assert_eq!(deployed.body["version"], 2, "{}", deployed.body);

        // Without a mapping the case stays; the trial names the step to map and where it could go.
        let migrate = |body: Value| post(&format!("/api/v1/cases/{id}/migrate"), &admin, body);
        let refused = send!(app, migrate(json!({ "version": version })));
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
        assert_eq!(refused.body["reasons"][0]["message"], "Den Schritt „beteiligung“, an dem der Vorgang steht, gibt es in Version 2 nicht.");
        let trial = send!(app, post("/api/v1/workflows/ki-antrag/migrate", &admin, json!({ "from": 1, "trial": true })));
        assert_eq!(trial.status, StatusCode::OK, "{}", trial.body);
        assert_eq!(trial.body["unmatched"], json!([{
            "step": "beteiligung",
            "title": "Beteiligung der örtlichen Partner",
            "kind": "Beteiligung",
            "cases": 1,
            "candidates": [{ "step": "partnerbeteiligung", "title": "Beteiligung der örtlichen Partner" }],
        }]));

        // A mapping onto another kind of step or from a step that never was: 422 at the entry,
        // for one case and for all; nothing changes.
        let wrong_kind = send!(app, migrate(json!({ "version": version, "steps": { "beteiligung": "auswertung" } })));
        assert_eq!(wrong_kind.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong_kind.body);
        assert_eq!(wrong_kind.body["errors"], json!([{
            "pointer": "/steps/beteiligung",
            "message": "Der Schritt „auswertung“ (Aufgabe) ist nicht von derselben Art wie „beteiligung“ (Beteiligung); zugeordnet wird nur ein Schritt derselben Art.",
        }]));
        let unknown = send!(app, post("/api/v1/workflows/ki-antrag/migrate", &admin, json!({ "from": 1, "steps": { "beteiligungen": "partnerbeteiligung" } })));
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown.body);
        assert_eq!(unknown.body["errors"][0]["message"], "Den Schritt „beteiligungen“ gibt es in Version 1 nicht.");
        let unchanged = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}"))
            .insert_header(("Authorization", format!("Bearer {admin}"))));
        assert_eq!((unchanged.body["workflow_version"].clone(), unchanged.body["version"].clone()), (json!(1), json!(version)));

        // With the mapping it moves: the consultation, its invitations and timers carry the new name.
        let moved = send!(app, migrate(json!({ "version": version, "steps": { "beteiligung": "partnerbeteiligung" } })));
        assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
        assert_eq!(moved.body["workflow_version"], 2);
        assert_eq!(moved.body["active_steps"][0]["step"], "partnerbeteiligung");
        assert_eq!(moved.body["active_steps"][0]["deadline"], started.body["active_steps"][0]["deadline"]);
        let (timer_steps, invitation_steps) = mirrored_steps(&db, id);
        assert!(!timer_steps.is_empty() && timer_steps.iter().all(|s| s == "partnerbeteiligung"), "{timer_steps:?}");
        assert_eq!(invitation_steps, ["partnerbeteiligung", "partnerbeteiligung"]);
        let listed = send!(app, actix_test::TestRequest::get().uri("/api/v1/cases?step=partnerbeteiligung")
            .insert_header(("Authorization", format!("Bearer {soest}"))));
        assert_eq!(listed.body["total"], 1, "{}", listed.body);
        let journal = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/journal"))
            .insert_header(("Authorization", format!("Bearer {admin}"))));
        let last = journal.body.as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["payload"], json!({ "from": 1, "to": 2, "steps": { "beteiligung": "partnerbeteiligung" } }));

        // The partners answer through the links they were sent before the move; the
        // consultation of the new version completes and the case goes on.
        let links: Vec<String> = crate::beteiligung::mails(&db).into_iter()
            .filter(|m| m.0 == "beteiligung_einladung")
            .map(|m| crate::beteiligung::token_in(&m.3))
            .collect();
        assert_eq!(links.len(), 2);
        for link in &links {
            let answered = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/beteiligung/{link}"))
                .set_json(json!({ "votum": "zustimmung", "stellungnahme": "Einverstanden.", "name": "Frau Muster" })));
            assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
        }
        let after = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}"))
            .insert_header(("Authorization", format!("Bearer {soest}"))));
        assert_eq!(after.body["active_steps"][0]["step"], "auswertung", "{}", after.body);
        let (timer_steps, _) = mirrored_steps(&db, id);
        assert!(timer_steps.iter().all(|s| s == "partnerbeteiligung"), "{timer_steps:?}");
        assert!(vorgang::journal::verify_all(&mut db.connection()).unwrap().is_empty());
    }
}
