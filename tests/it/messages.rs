//! Messages a waiting step expects (`wait` with `until: { message: NAME }`), on both databases:
//! reported over the API and on the case page, only where a step waits for them, only by whoever
//! may act in the case, at the case's current version; journaled with who reported them.

use actix_web::http::StatusCode;
use actix_web::test as actix_test;
use actix_web::web;
use serde_json::{Value, json};
use vorgang::db::models::{Role, User};
use vorgang::web::ui::{LegalTexts, UiState};

use crate::support::TestDatabase;
use crate::support::auth::{create_user, staff_token, test_auth};
use crate::support::ui::{Browser, unescape};

const PASSWORD: &str = "richtig-langes-passwort";
const COORDINATOR: &str = "k@kreis-soest.de";

/// A procedure that waits for the rooms of the KI to be ready.
const RAEUME: &str = r#"workflow: ki-raeume
title: Räume für das Kommunale Integrationszentrum
prefix: KIR
roles:
  koordination: { title: Koordination }
data:
  notiz: { type: text, label: Notiz }
messages:
  raeume_uebergeben:
    title: Räume übergeben
    help: Der Vermieter meldet die Übergabe schriftlich.
start: vorbereiten
steps:
  vorbereiten:
    type: task
    title: Räume suchen
    role: koordination
    actions:
      angemietet: { title: Mietvertrag geschlossen, to: raeume }
  raeume:
    type: wait
    title: Übergabe der Räume
    until: { message: raeume_uebergeben }
    next: bezogen
  bezogen:
    type: end
    title: Räume bezogen
    outcome: bezogen
"#;

struct Reply {
    status: StatusCode,
    body: Value,
}

macro_rules! send {
    ($app:expr, $request:expr) => {{
        let response = actix_test::call_service(&$app, $request.to_request()).await;
        let status = response.status();
        let body =
            serde_json::from_slice(&actix_test::read_body(response).await).unwrap_or(Value::Null);
        Reply { status, body }
    }};
}

fn post(uri: &str, token: &str, body: Value) -> actix_test::TestRequest {
    actix_test::TestRequest::post()
        .uri(uri)
        .insert_header(("Authorization", format!("Bearer {token}")))
        .set_json(body)
}

fn deploy(token: &str) -> actix_test::TestRequest {
    actix_test::TestRequest::post()
        .uri("/api/v1/workflows")
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Content-Type", "application/yaml"))
        .set_payload(RAEUME)
}

/// Tokens of an administrator, Soest's coordinator, a reader at Soest and Kleve's coordinator.
fn staff(db: &TestDatabase) -> [String; 4] {
    let mut conn = db.connection();
    [
        ("admin@kfi.nrw.de", "KFI", Role::Admin),
        (COORDINATOR, "05974", Role::Koordination),
        ("l@kreis-soest.de", "05974", Role::Lesen),
        ("k@kreis-kleve.de", "05154", Role::Koordination),
    ]
    .map(|(email, org, role)| staff_token(&create_user(&mut conn, email, org, &[role], None)))
}

both_backends! {
    async fn a_waiting_step_moves_on_when_its_message_is_reported(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let [admin, soest, reader, kleve] = staff(&db);
        let pool = db.pool(2);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;
        let deployed = send!(app, deploy(&admin));
        assert_eq!(deployed.status, StatusCode::CREATED, "{}", deployed.body);
        let created = send!(app, post("/api/v1/cases", &soest, json!({ "workflow": "ki-raeume" })));
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let id = created.body["id"].as_i64().unwrap();
        let message = |name: &str, version: i64, token: &str| {
            post(&format!("/api/v1/cases/{id}/messages/{name}"), token, json!({ "version": version }))
        };

        // Before the step that waits for it: refused with the reason, nothing changes.
        let early = send!(app, message("raeume_uebergeben", 1, &soest));
        assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", early.body);
        assert_eq!(early.body["reasons"][0]["message"], "Im aktuellen Stand wartet kein Schritt des Vorgangs auf die Nachricht „Räume übergeben“.");
        let rented = send!(app, post(&format!("/api/v1/cases/{id}/actions/angemietet"), &soest, json!({ "version": 1 })));
        assert_eq!(rented.status, StatusCode::OK, "{}", rented.body);
        assert_eq!(rented.body["active_steps"][0]["step"], "raeume");
        assert_eq!(rented.body["active_steps"][0]["message"], "raeume_uebergeben", "the case says what it waits for");
        assert_eq!(rented.body["active_steps"][0]["message_title"], "Räume übergeben", "by the title the workflow declares");
        assert!(created.body["active_steps"][0].get("message").is_none(), "only a step waiting for a message names one");
        let version = rented.body["version"].as_i64().unwrap();

        // A message nobody waits for, a stale version, a reader, another Kreis: nothing changes.
        let unknown = send!(app, message("schluessel_verloren", version, &soest));
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown.body);
        assert!(unknown.body["reasons"][0]["message"].as_str().unwrap().contains("„schluessel_verloren“"), "{}", unknown.body);
        let stale = send!(app, message("raeume_uebergeben", version - 1, &soest));
        assert_eq!((stale.status, stale.body["current_version"].clone()), (StatusCode::CONFLICT, json!(version)), "{}", stale.body);
        assert_eq!(send!(app, message("raeume_uebergeben", version, &reader)).status, StatusCode::FORBIDDEN);
        assert_eq!(send!(app, message("raeume_uebergeben", version, &kleve)).status, StatusCode::NOT_FOUND);
        assert_eq!(send!(app, post(&format!("/api/v1/cases/{id}/messages/raeume_uebergeben"), &soest, json!({ "version": version, "von": "x" }))).status, StatusCode::BAD_REQUEST);

        // Reported: the case goes on to its end, journaled with who reported it.
        let reported = send!(app, message("raeume_uebergeben", version, &soest));
        assert_eq!(reported.status, StatusCode::OK, "{}", reported.body);
        assert_eq!((reported.body["status"].clone(), reported.body["version"].clone()), (json!("completed"), json!(version + 1)), "{}", reported.body);
        let journal = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/journal"))
            .insert_header(("Authorization", format!("Bearer {soest}"))));
        let received: Vec<&Value> = journal.body.as_array().unwrap().iter().filter(|e| e["kind"] == "message_received").collect();
        assert_eq!(received.len(), 1, "{}", journal.body);
        assert_eq!((received[0]["actor"].clone(), received[0]["payload"]["message"].clone()), (json!(COORDINATOR), json!("raeume_uebergeben")));
        // Once only.
        let again = send!(app, message("raeume_uebergeben", version + 1, &soest));
        assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", again.body);
        assert!(vorgang::journal::verify_all(&mut db.connection()).unwrap().is_empty());
    }
}

both_backends! {
    async fn the_case_page_offers_to_record_the_message_its_step_waits_for(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let admin = staff_token(&create_user(&mut db.connection(), "admin@kfi.nrw.de", "KFI", &[Role::Admin], None));
        create_user(&mut db.connection(), COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        create_user(&mut db.connection(), "l@kreis-soest.de", "05974", &[Role::Lesen], Some(PASSWORD));
        let soest = staff_token(&User::find_by_email(&mut db.connection(), COORDINATOR).unwrap().unwrap());
        let pool = db.pool(4);
        let api = crate::support::api::state(&pool, dir.path());
        let ui = UiState::new(&"http://127.0.0.1:8080".parse().unwrap(), LegalTexts::builtin());
        let app = actix_test::init_service(vorgang::web::app_with_ui(pool, test_auth(), api, web::Data::new(ui))).await;
        assert_eq!(send!(app, deploy(&admin)).status, StatusCode::CREATED);
        let created = send!(app, post("/api/v1/cases", &soest, json!({ "workflow": "ki-raeume" })));
        let id = created.body["id"].as_i64().unwrap();
        let rented = send!(app, post(&format!("/api/v1/cases/{id}/actions/angemietet"), &soest, json!({ "version": 1 })));
        assert_eq!(rented.status, StatusCode::OK, "{}", rented.body);
        let path = format!("/vorgaenge/{id}");

        // Someone who only reads sees what the step waits for, without the button.
        let mut reader = Browser::from("10.0.0.9:1000");
        reader.login(&app, "l@kreis-soest.de", PASSWORD).await;
        let read = unescape(&reader.get(&app, &path).await.body);
        assert!(read.contains("Wartet auf die Nachricht „Räume übergeben“.<p class=\"hilfe\">Der Vermieter meldet die Übergabe schriftlich.</p>"), "{read}");
        assert!(!read.contains("vermerken</button>"), "{read}");

        let mut browser = Browser::from("10.0.0.7:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;
        let page = unescape(&browser.get(&app, &path).await.body);
        assert!(page.contains(&format!("<form method=\"post\" action=\"/vorgaenge/{id}/nachrichten/raeume%5Fuebergeben\">")), "{page}");
        assert!(page.contains("<button type=\"submit\">Eingang der Nachricht „Räume übergeben“ vermerken</button>"), "{page}");
        let csrf = browser.csrf_token(&app, &path).await;
        let form_path = format!("/vorgaenge/{id}/nachrichten/raeume%5Fuebergeben");

        // A form loaded before a change elsewhere: a conflict, nothing recorded.
        let stale = browser.post(&app, &form_path, &[("csrf", &csrf), ("version", "1")]).await;
        assert_eq!(stale.status, 409, "{}", stale.body);
        let done = browser.post(&app, &form_path, &[("csrf", &csrf), ("version", &rented.body["version"].to_string())]).await;
        assert_eq!(done.location(), format!("/vorgaenge/{id}?hinweis=nachricht"));
        let after = unescape(&browser.get(&app, &format!("/vorgaenge/{id}?hinweis=nachricht")).await.body);
        assert!(after.contains("Der Eingang der Nachricht ist vermerkt; der Vorgang geht weiter."), "{after}");
        assert!(after.contains("Nachricht „Räume übergeben“ eingegangen"), "{after}");
        assert!(!after.contains("vermerken</button>"), "{after}");
        // Reported again from the same old page: refused in German, nothing changes.
        let twice = browser.post(&app, &form_path, &[("csrf", &csrf), ("version", &(rented.body["version"].as_i64().unwrap() + 1).to_string())]).await;
        assert_eq!(twice.status, 422, "{}", twice.body);
        assert!(unescape(&twice.body).contains("wartet kein Schritt des Vorgangs auf die Nachricht „Räume übergeben“"), "{}", twice.body);
    }
}

both_backends! {
    async fn another_system_reports_a_message_by_the_aktenzeichen(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let [admin, soest, reader, kleve] = staff(&db);
        let pool = db.pool(2);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;
        assert_eq!(send!(app, deploy(&admin)).status, StatusCode::CREATED);
        let created = send!(app, post("/api/v1/cases", &soest, json!({ "workflow": "ki-raeume" })));
        let (id, aktenzeichen) = (created.body["id"].as_i64().unwrap(), created.body["aktenzeichen"].as_str().unwrap().to_string());
        let kleves = send!(app, post("/api/v1/cases", &kleve, json!({ "workflow": "ki-raeume" })));
        let kleves_aktenzeichen = kleves.body["aktenzeichen"].as_str().unwrap().to_string();
        let report = |name: &str, body: Value, token: &str| post(&format!("/api/v1/messages/{name}"), token, body);
        let versions = |db: &TestDatabase| -> Vec<i64> {
            use diesel::prelude::*;
            use vorgang::db::schema::cases;
            cases::table.order(cases::id).select(cases::version).load(&mut db.connection()).unwrap()
        };

        // Before the step that waits for it: refused with the reason, nothing changes.
        let early = send!(app, report("raeume_uebergeben", json!({ "aktenzeichen": aktenzeichen }), &soest));
        assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", early.body);
        assert_eq!(early.body["reasons"][0]["message"], "Im aktuellen Stand wartet kein Schritt des Vorgangs auf die Nachricht „Räume übergeben“.");
        let rented = send!(app, post(&format!("/api/v1/cases/{id}/actions/angemietet"), &soest, json!({ "version": 1 })));
        assert_eq!(rented.status, StatusCode::OK, "{}", rented.body);
        let before = versions(&db);

        // An Aktenzeichen nobody has and one of another Kreis read alike: nothing tells them apart.
        let unknown = send!(app, report("raeume_uebergeben", json!({ "aktenzeichen": "KIR-05974-2026-9999" }), &soest));
        assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
        assert_eq!(unknown.body["detail"], "Einen Vorgang mit dem Aktenzeichen „KIR-05974-2026-9999“ gibt es nicht.");
        let foreign = send!(app, report("raeume_uebergeben", json!({ "aktenzeichen": aktenzeichen }), &kleve));
        assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", foreign.body);
        assert_eq!(foreign.body["detail"], format!("Einen Vorgang mit dem Aktenzeichen „{aktenzeichen}“ gibt es nicht."));
        let other = send!(app, report("raeume_uebergeben", json!({ "aktenzeichen": kleves_aktenzeichen }), &soest));
        assert_eq!((other.status, other.body["detail"].clone()), (StatusCode::NOT_FOUND, json!(format!("Einen Vorgang mit dem Aktenzeichen „{kleves_aktenzeichen}“ gibt es nicht."))));
        // A reader may not report; a body without the Aktenzeichen or with more is refused.
        assert_eq!(send!(app, report("raeume_uebergeben", json!({ "aktenzeichen": aktenzeichen }), &reader)).status, StatusCode::FORBIDDEN);
        assert_eq!(send!(app, report("raeume_uebergeben", json!({}), &soest)).status, StatusCode::BAD_REQUEST);
        assert_eq!(send!(app, report("raeume_uebergeben", json!({ "aktenzeichen": aktenzeichen, "version": 2 }), &soest)).status, StatusCode::BAD_REQUEST);
        let unawaited = send!(app, report("schluessel_verloren", json!({ "aktenzeichen": aktenzeichen }), &soest));
        assert_eq!(unawaited.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unawaited.body);
        assert_eq!(versions(&db), before, "nothing changed");

        // Reported as another system writes it (with blanks around): the case as it stands moves on.
        let reported = send!(app, report("raeume_uebergeben", json!({ "aktenzeichen": format!(" {aktenzeichen} ") }), &soest));
        assert_eq!(reported.status, StatusCode::OK, "{}", reported.body);
        assert_eq!((reported.body["id"].clone(), reported.body["status"].clone()), (json!(id), json!("completed")), "{}", reported.body);
        let journal = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/journal"))
            .insert_header(("Authorization", format!("Bearer {soest}"))));
        let received: Vec<&Value> = journal.body.as_array().unwrap().iter().filter(|e| e["kind"] == "message_received").collect();
        assert_eq!((received.len(), received[0]["actor"].clone()), (1, json!(COORDINATOR)), "{}", journal.body);
        let again = send!(app, report("raeume_uebergeben", json!({ "aktenzeichen": aktenzeichen }), &soest));
        assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", again.body);
        assert_eq!(versions(&db)[1], before[1], "the other Kreis's case is untouched");
        assert!(vorgang::journal::verify_all(&mut db.connection()).unwrap().is_empty());
    }
}
