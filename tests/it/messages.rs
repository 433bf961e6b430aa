//! Messages a waiting step expects (`wait` with `until: { message: NAME }`), on both databases:
//! reported over the API and on the case page, only where a step waits for them, only by whoever
//! may act in the case, at the case's current version; journaled with who reported them; with
//! the data they declare, and no other.

use actix_web::http::StatusCode;
use actix_web::test as actix_test;
use serde_json::{Value, json};
use vorgang::db::models::Role;

use crate::support::TestDatabase;
use crate::support::api::send;
use crate::support::auth::{create_user, staff_token, test_auth};
use crate::support::ui::{Browser, ui_app, unescape};

const PASSWORD: &str = "richtig-langes-passwort";
const COORDINATOR: &str = "k@kreis-soest.de";

/// A procedure that waits for the rooms of the KI to be ready (also the browser story's).
pub(crate) const RAEUME: &str = r#"workflow: ki-raeume
title: Räume für das Kommunale Integrationszentrum
prefix: KIR
roles:
  koordination: { title: Koordination }
data:
  notiz: { type: text, label: Notiz }
  uebergabe:
    type: group
    label: Übergabe
    fields:
      datum: { type: date, label: Tag der Übergabe }
      schluessel: { type: number, label: Zahl der Schlüssel }
messages:
  raeume_uebergeben:
    title: Räume übergeben
    help: Der Vermieter meldet die Übergabe schriftlich.
    data: [uebergabe]
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

fn post(uri: &str, token: &str, body: Value) -> actix_test::TestRequest {
    actix_test::TestRequest::post()
        .uri(uri)
        .insert_header(("Authorization", format!("Bearer {token}")))
        .set_json(body)
}

fn deploy(token: &str) -> actix_test::TestRequest {
    deploy_source(token, RAEUME)
}

fn deploy_source(token: &str, source: &str) -> actix_test::TestRequest {
    actix_test::TestRequest::post()
        .uri("/api/v1/workflows")
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Content-Type", "application/yaml"))
        .set_payload(source.to_string())
}

/// For the page tests: the administrator's and Soest's coordinator's tokens; the coordinator
/// and a reader at Soest log in with [`PASSWORD`].
fn page_users(db: &TestDatabase) -> [String; 2] {
    let mut conn = db.connection();
    let admin = create_user(&mut conn, "admin@kfi.nrw.de", "KFI", &[Role::Admin], None);
    let soest = create_user(
        &mut conn,
        COORDINATOR,
        "05974",
        &[Role::Koordination],
        Some(PASSWORD),
    );
    create_user(
        &mut conn,
        "l@kreis-soest.de",
        "05974",
        &[Role::Lesen],
        Some(PASSWORD),
    );
    [staff_token(&admin), staff_token(&soest)]
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
        let [admin, soest] = page_users(&db);
        let app = ui_app!(db, dir);
        // A message that brings no data: one button on the case page.
        let without_data = RAEUME.replace("    data: [uebergabe]\n", "");
        assert_eq!(send!(app, deploy_source(&admin, &without_data)).status, StatusCode::CREATED);
        let created = send!(app, post("/api/v1/cases", &soest, json!({ "workflow": "ki-raeume" })));
        let id = created.body["id"].as_i64().unwrap();
        let rented = send!(app, post(&format!("/api/v1/cases/{id}/actions/angemietet"), &soest, json!({ "version": 1 })));
        assert_eq!(rented.status, StatusCode::OK, "{}", rented.body);
        let path = format!("/vorgaenge/{id}");

        // Someone who only reads sees what the step waits for, without the button, and finds
        // nothing to do on the start page.
        let mut reader = Browser::from("10.0.0.9:1000");
        reader.login(&app, "l@kreis-soest.de", PASSWORD).await;
        assert!(!reader.get(&app, "/").await.body.contains("Erwartete Nachrichten"));
        let read = unescape(&reader.get(&app, &path).await.body);
        assert!(read.contains("Wartet auf die Nachricht „Räume übergeben“.<p class=\"hilfe\">Der Vermieter meldet die Übergabe schriftlich.</p>"), "{read}");
        assert!(!read.contains("vermerken</button>"), "{read}");

        let mut browser = Browser::from("10.0.0.7:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;
        // The coordinator's start page names the case among the messages expected.
        let aktenzeichen = created.body["aktenzeichen"].as_str().unwrap();
        let start = unescape(&browser.get(&app, "/").await.body);
        assert!(start.contains("<h3>Erwartete Nachrichten</h3>"), "{start}");
        assert!(start.contains(&format!("<a class=\"az\" href=\"/vorgaenge/{id}\">{aktenzeichen}</a>: Übergabe der Räume – wartet auf „Räume übergeben“")), "{start}");
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
        assert!(!browser.get(&app, "/").await.body.contains("Erwartete Nachrichten"), "no longer expected");
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

both_backends! {
    async fn a_message_brings_the_data_it_declares_and_no_other(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let [admin, soest, _, _] = staff(&db);
        let pool = db.pool(2);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;
        assert_eq!(send!(app, deploy(&admin)).status, StatusCode::CREATED);
        let created = send!(app, post("/api/v1/cases", &soest, json!({ "workflow": "ki-raeume", "data": { "notiz": "Erdgeschoss" } })));
        let (id, aktenzeichen) = (created.body["id"].as_i64().unwrap(), created.body["aktenzeichen"].as_str().unwrap().to_string());
        let rented = send!(app, post(&format!("/api/v1/cases/{id}/actions/angemietet"), &soest, json!({ "version": 1 })));
        assert_eq!(rented.status, StatusCode::OK, "{}", rented.body);
        let version = rented.body["version"].as_i64().unwrap();
        let message = |data: Value| post(&format!("/api/v1/cases/{id}/messages/raeume_uebergeben"), &soest, json!({ "version": version, "data": data }));
        let journal_length = || {
            use diesel::prelude::*;
            use vorgang::db::schema::case_events;
            case_events::table.filter(case_events::case_id.eq(id)).count().get_result::<i64>(&mut db.connection()).unwrap()
        };
        let entries = journal_length();

        // A field the message does not declare, or a value the schema does not allow: 422 at
        // the field, and the case stays as it was.
        let undeclared = send!(app, message(json!({ "uebergabe": { "datum": "2026-12-01" }, "notiz": null })));
        assert_eq!(undeclared.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", undeclared.body);
        assert_eq!(undeclared.body["errors"], json!([{ "pointer": "/notiz", "message": "Die Nachricht „Räume übergeben“ setzt nur „uebergabe“, nicht „notiz“." }]));
        let invalid = send!(app, message(json!({ "uebergabe": { "datum": "morgen" } })));
        assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", invalid.body);
        assert_eq!(invalid.body["errors"][0]["pointer"], "/uebergabe/datum", "{}", invalid.body);
        let not_an_object = send!(app, message(json!("2026-12-01")));
        assert_eq!(not_an_object.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", not_an_object.body);
        let case = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}")).insert_header(("Authorization", format!("Bearer {soest}"))));
        assert_eq!((case.body["version"].clone(), case.body["data"].clone()), (json!(version), json!({ "notiz": "Erdgeschoss" })));
        assert_eq!(journal_length(), entries, "nothing journaled");

        // Reported by another system under the Aktenzeichen, with the Übergabe's details: kept
        // before the case moves on, and journaled as a change of the reporter's.
        let carried = json!({ "uebergabe": { "datum": "2026-12-01", "schluessel": 3 } });
        let reported = send!(app, post("/api/v1/messages/raeume_uebergeben", &soest, json!({ "aktenzeichen": aktenzeichen, "data": carried })));
        assert_eq!(reported.status, StatusCode::OK, "{}", reported.body);
        assert_eq!(reported.body["status"], "completed", "{}", reported.body);
        assert_eq!(reported.body["data"], json!({ "notiz": "Erdgeschoss", "uebergabe": { "datum": "2026-12-01", "schluessel": 3 } }));
        let journal = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/journal"))
            .insert_header(("Authorization", format!("Bearer {soest}"))));
        let tail: Vec<(Value, Value)> = journal.body.as_array().unwrap().iter()
            .filter(|e| e["kind"] == "message_received" || e["kind"] == "data_changed")
            .map(|e| (e["kind"].clone(), e["actor"].clone()))
            .collect();
        assert_eq!(tail, [(json!("message_received"), json!(COORDINATOR)), (json!("data_changed"), json!(COORDINATOR))], "{}", journal.body);
        let changed = journal.body.as_array().unwrap().iter().find(|e| e["kind"] == "data_changed").unwrap();
        assert_eq!(changed["payload"]["patch"], carried, "{}", journal.body);
        assert!(vorgang::journal::verify_all(&mut db.connection()).unwrap().is_empty());
    }
}

both_backends! {
    async fn a_message_that_brings_data_is_recorded_on_a_page_of_its_own(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let [admin, soest] = page_users(&db);
        let app = ui_app!(db, dir);
        assert_eq!(send!(app, deploy(&admin)).status, StatusCode::CREATED);
        let created = send!(app, post("/api/v1/cases", &soest, json!({ "workflow": "ki-raeume", "data": { "notiz": "Erdgeschoss" } })));
        let id = created.body["id"].as_i64().unwrap();
        let rented = send!(app, post(&format!("/api/v1/cases/{id}/actions/angemietet"), &soest, json!({ "version": 1 })));
        assert_eq!(rented.status, StatusCode::OK, "{}", rented.body);
        let version = rented.body["version"].to_string();
        let form_path = format!("/vorgaenge/{id}/nachrichten/raeume%5Fuebergeben");
        let case = |db: &TestDatabase| {
            use diesel::prelude::*;
            use vorgang::db::schema::cases;
            cases::table.find(id).select((cases::version, cases::status)).first::<(i64, String)>(&mut db.connection()).unwrap()
        };

        // The case page leads to the message's own page instead of recording it at once.
        let mut browser = Browser::from("10.0.0.7:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;
        let page = unescape(&browser.get(&app, &format!("/vorgaenge/{id}")).await.body);
        assert!(page.contains(&format!("<a class=\"knopf\" href=\"{form_path}\">Eingang der Nachricht „Räume übergeben“ erfassen …</a>")), "{page}");
        assert!(!page.contains(&format!("<form method=\"post\" action=\"{form_path}\">")), "{page}");

        // Its page holds the fields the message brings, and no others.
        let form_page = browser.get(&app, &form_path).await;
        assert_eq!(form_page.status, 200, "{}", form_page.body);
        let form_page = unescape(&form_page.body);
        assert!(form_page.contains("<h1>Eingang der Nachricht „Räume übergeben“</h1>"), "{form_page}");
        assert!(form_page.contains("Der Vermieter meldet die Übergabe schriftlich."), "{form_page}");
        assert!(form_page.contains(&format!("<input type=\"hidden\" name=\"version\" value=\"{version}\">")), "{form_page}");
        assert!(form_page.contains("<legend>Übergabe</legend>"), "{form_page}");
        assert!(form_page.contains("name=\"uebergabe[datum]\" id=\"feld-uebergabe-datum\""), "{form_page}");
        assert!(form_page.contains("name=\"uebergabe[schluessel]\""), "{form_page}");
        assert!(!form_page.contains("name=\"notiz\""), "{form_page}");
        // Someone who only reads may not record it; a message the procedure lacks is not found.
        let mut reader = Browser::from("10.0.0.9:1000");
        reader.login(&app, "l@kreis-soest.de", PASSWORD).await;
        assert_eq!(reader.get(&app, &form_path).await.status, 403);
        assert_eq!(browser.get(&app, &format!("/vorgaenge/{id}/nachrichten/schluessel_verloren")).await.status, 404);

        // A date that is none: the page again, the error at its field, the entry kept; nothing changes.
        let csrf = browser.csrf_token(&app, &form_path).await;
        let before = case(&db);
        let wrong = browser.post(&app, &form_path, &[("csrf", &csrf), ("version", &version), ("uebergabe[datum]", "morgen"), ("uebergabe[schluessel]", "3")]).await;
        assert_eq!(wrong.status, 422, "{}", wrong.body);
        let wrong = unescape(&wrong.body);
        assert!(wrong.contains("<a href=\"#feld-uebergabe-datum\">"), "{wrong}");
        assert!(wrong.contains("value=\"morgen\""), "{wrong}");
        assert!(wrong.contains(&format!("<input type=\"hidden\" name=\"version\" value=\"{version}\">")), "{wrong}");
        assert_eq!(case(&db), before);

        // Filled in: recorded with its data, and the case moves on.
        let done = browser.post(&app, &form_path, &[("csrf", &csrf), ("version", &version), ("uebergabe[datum]", "01.12.2026"), ("uebergabe[schluessel]", "3")]).await;
        assert_eq!(done.location(), format!("/vorgaenge/{id}?hinweis=nachricht"), "{}", done.body);
        assert_eq!(case(&db).1, "completed");
        let read = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}")).insert_header(("Authorization", format!("Bearer {soest}"))));
        assert_eq!(read.body["data"], json!({ "notiz": "Erdgeschoss", "uebergabe": { "datum": "2026-12-01", "schluessel": 3 } }));
        // The same form again: the case no longer waits, refused in German on the case page.
        let twice = browser.post(&app, &form_path, &[("csrf", &csrf), ("version", &(before.0 + 1).to_string()), ("uebergabe[datum]", "2026-12-01")]).await;
        assert_eq!(twice.status, 422, "{}", twice.body);
        assert!(unescape(&twice.body).contains("wartet kein Schritt des Vorgangs auf die Nachricht „Räume übergeben“"), "{}", twice.body);
    }
}
