//! Korrektur des Bearbeitungsstands, on both databases: an administrator moves a case back from
//! its Beteiligung and reopens a withdrawn one, through the API and the pages; partners still
//! asked are told, their links end; bad input, a stale version and other roles change nothing.

use actix_web::http::StatusCode;
use actix_web::test as actix_test;
use diesel::prelude::*;
use serde_json::{Value, json};
use vorgang::db::models::Role;
use vorgang::db::schema::{case_events, cases as case_rows, outbox};

use crate::beteiligung::{application, mails, token_in};
use crate::support::TestDatabase;
use crate::support::api::{Reply, send};
use crate::support::auth::{create_user, staff_token, test_auth};
use crate::support::ui::{Browser, ui_app};

const PASSWORD: &str = "richtig-langes-passwort";

/// A call of the API as the holder of `$token`, with an optional JSON body.
macro_rules! call {
    ($app:expr, $method:ident, $uri:expr, $token:expr, $body:expr) => {{
        let request = actix_test::TestRequest::$method()
            .uri(&$uri)
            .insert_header(("Authorization", format!("Bearer {}", $token)));
        let body: Option<Value> = $body;
        match body {
            Some(body) => send!($app, request.set_json(body)),
            None => send!($app, request),
        }
    }};
}

/// Journal entries, mails and the case's version: what a refused request must leave alone.
fn footprint(db: &TestDatabase, id: i64) -> (i64, i64, i64) {
    let mut conn = db.connection();
    let events = case_events::table.count().get_result(&mut conn).unwrap();
    let mails = outbox::table.count().get_result(&mut conn).unwrap();
    let version = case_rows::table
        .find(id)
        .select(case_rows::version)
        .first(&mut conn)
        .unwrap();
    (events, mails, version)
}

fn pointers(reply: &Reply) -> Vec<String> {
    reply.body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["pointer"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn steps(case: &Value) -> Vec<&str> {
    case["active_steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect()
}

both_backends! {
    async fn an_administrator_moves_a_case_back_from_its_beteiligung_and_reopens_it(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let coordinator = staff_token(&create_user(&mut db.connection(), "k@kreis-soest.de", "05974", &[Role::Koordination], None));
        let admin = staff_token(&create_user(&mut db.connection(), "it@kreis-soest.de", "05974", &[Role::Admin], None));
        let pool = db.pool(4);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;

        let created = call!(app, post, "/api/v1/cases", coordinator, Some(json!({ "workflow": "ki-antrag", "data": application() })));
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let id = created.body["id"].as_i64().unwrap();
        let started = call!(app, post, format!("/api/v1/cases/{id}/actions/beteiligung_starten"), coordinator, Some(json!({ "version": 1 })));
        assert_eq!(started.status, StatusCode::OK, "{}", started.body);
        let invitations: Vec<_> = mails(&db).into_iter().filter(|m| m.0 == "beteiligung_einladung").collect();
        assert_eq!(invitations.len(), 2);
        let token = token_in(&invitations[0].3);
        let uri = format!("/api/v1/cases/{id}/relocation");
        let before = footprint(&db, id);
        assert_eq!(before.2, 2);

        // The coordinator may not leave the workflow's path, nor ask where to.
        let refused = call!(app, post, uri, coordinator, Some(json!({ "version": 2, "step": "entwurf", "grund": "Falsch geklickt" })));
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        assert_eq!(call!(app, get, uri, coordinator, None).status, StatusCode::FORBIDDEN);
        // The administrator is offered the five tasks of ki-antrag, all open from the Beteiligung.
        let offered = call!(app, get, uri, admin, None);
        assert_eq!(offered.status, StatusCode::OK, "{}", offered.body);
        assert_eq!(offered.body["version"], 2);
        let targets: Vec<(&str, bool)> = offered.body["targets"].as_array().unwrap().iter()
            .map(|t| (t["step"].as_str().unwrap(), t["allowed"].as_bool().unwrap()))
            .collect();
        assert_eq!(targets, [("entwurf", true), ("auswertung", true), ("kreistag", true), ("einreichung", true), ("bewilligung", true)]);
        assert_eq!(offered.body["targets"][0]["title"], "Antrag entwerfen");
        assert_eq!(offered.body["targets"][0]["reasons"], json!([]));
        // Bad input, each error at its field.
        let empty = call!(app, post, uri, admin, Some(json!({ "version": 2 })));
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", empty.body);
        assert_eq!(pointers(&empty), ["/step", "/grund"]);
        for (step, says) in [
            ("gibt_es_nicht", "Einen Schritt „gibt_es_nicht“ gibt es in dieser Version des Workflows nicht."),
            ("beteiligung", "„Beteiligung der örtlichen Partner“ ist keine Aufgabe"),
            ("bewilligt", "„Bewilligt“ ist keine Aufgabe"),
        ] {
            let wrong = call!(app, post, uri, admin, Some(json!({ "version": 2, "step": step, "grund": "Falsch geklickt" })));
            assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{step}: {}", wrong.body);
            assert_eq!(pointers(&wrong), ["/step"], "{step}");
            assert!(wrong.body["errors"][0]["message"].as_str().unwrap().starts_with(says), "{}", wrong.body);
        }
        let stale = call!(app, post, uri, admin, Some(json!({ "version": 1, "step": "entwurf", "grund": "Falsch geklickt" })));
        assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
        assert_eq!(stale.body["current_version"], 2);
        assert_eq!(footprint(&db, id), before, "refusals change nothing");

        // Back to the draft: the Beteiligung ends, its partners are told, their links end.
        let moved = call!(app, post, uri, admin, Some(json!({ "version": 2, "step": "entwurf", "grund": "Beteiligung versehentlich gestartet" })));
        assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
        assert_eq!(moved.body["status"], "running");
        assert_eq!(moved.body["version"], 3);
        assert_eq!(steps(&moved.body), ["entwurf"]);
        let told: Vec<_> = mails(&db).into_iter().filter(|m| m.0 == "beteiligung_zurueckgenommen").collect();
        let mut told_to: Vec<_> = told.iter().map(|m| m.1.clone()).collect();
        told_to.sort();
        let mut invited_to: Vec<_> = invitations.iter().map(|m| m.1.clone()).collect();
        invited_to.sort();
        assert_eq!(told_to, invited_to);
        assert!(!told[0].3.contains("versehentlich"), "the reason is for the file: {}", told[0].3);
        // The coordination, whose Beteiligung no longer runs, learns where the case stands.
        let dropped: Vec<_> = mails(&db).into_iter().filter(|m| m.0 == "schritt_entfallen").collect();
        assert_eq!(dropped.len(), 1, "{dropped:?}");
        assert_eq!(dropped[0].1, ["k@kreis-soest.de"]);
        assert!(dropped[0].2.contains("Bearbeitungsstand korrigiert, „Beteiligung der örtlichen Partner“ entfällt"), "{}", dropped[0].2);
        assert!(dropped[0].3.contains("er steht jetzt bei „Antrag entwerfen“. Der Schritt „Beteiligung der örtlichen Partner“, der bei Ihnen lag, entfällt damit samt seinen Fristen."), "{}", dropped[0].3);
        let link = actix_test::call_service(&app, actix_test::TestRequest::get().uri(&format!("/beteiligung/{token}")).to_request()).await;
        assert_eq!(link.status(), StatusCode::GONE);
        let matrix = call!(app, get, format!("/api/v1/cases/{id}/consultations"), coordinator, None);
        let statuses: Vec<&str> = matrix.body.as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["withdrawn", "withdrawn"]);
        let journal = call!(app, get, format!("/api/v1/cases/{id}/journal"), coordinator, None);
        let relocated: Vec<&Value> = journal.body.as_array().unwrap().iter().filter(|e| e["kind"] == "case_relocated").collect();
        assert_eq!(relocated.len(), 1, "{}", journal.body);
        assert_eq!(relocated[0]["payload"]["from"], json!(["beteiligung"]));
        assert_eq!(relocated[0]["payload"]["to"], "entwurf");
        assert_eq!(relocated[0]["payload"]["reason"], "Beteiligung versehentlich gestartet");
        // The case stands alone at the draft: moving it there again would change nothing, and
        // the offer says so with the same words.
        let same = call!(app, post, uri, admin, Some(json!({ "version": 3, "step": "entwurf", "grund": "Nochmals" })));
        assert_eq!(same.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", same.body);
        assert!(same.body["errors"][0]["message"].as_str().unwrap().contains("steht bereits"), "{}", same.body);
        let offered = call!(app, get, uri, admin, None);
        assert_eq!(offered.body["version"], 3);
        assert_eq!(offered.body["targets"][0]["allowed"], false);
        assert_eq!(offered.body["targets"][0]["reasons"], json!([same.body["errors"][0]["message"]]));
        assert_eq!(offered.body["targets"][1]["allowed"], true);

        // From the draft the workflow goes on: the coordinator starts the Beteiligung afresh.
        let again = call!(app, post, format!("/api/v1/cases/{id}/actions/beteiligung_starten"), coordinator, Some(json!({ "version": 3 })));
        assert_eq!(again.status, StatusCode::OK, "{}", again.body);
        assert_eq!(mails(&db).into_iter().filter(|m| m.0 == "beteiligung_einladung").count(), 4);

        // A case withdrawn by mistake runs again, at the task the administrator names.
        let withdrawn = call!(app, post, format!("/api/v1/cases/{id}/withdraw"), coordinator, Some(json!({ "version": 4, "reason": "Irrtum" })));
        assert_eq!(withdrawn.body["status"], "withdrawn", "{}", withdrawn.body);
        let reopened = call!(app, post, uri, admin, Some(json!({ "version": 5, "step": "auswertung", "grund": "Rücknahme war ein Irrtum" })));
        assert_eq!(reopened.status, StatusCode::OK, "{}", reopened.body);
        assert_eq!(reopened.body["status"], "running");
        assert!(reopened.body["outcome"].is_null(), "{}", reopened.body);
        assert_eq!(steps(&reopened.body), ["auswertung"]);
        let journal = call!(app, get, format!("/api/v1/cases/{id}/journal"), coordinator, None);
        let last = journal.body.as_array().unwrap().iter().rev().find(|e| e["kind"] == "case_relocated").unwrap().clone();
        assert_eq!(last["payload"]["from"], json!([]));
        assert_eq!(last["payload"]["reopened"], "zurueckgezogen");
        let listed = call!(app, get, "/api/v1/cases?status=running", coordinator, None);
        assert_eq!(listed.body["total"], 1, "{}", listed.body);
        // The coordinator works on the case again.
        let patched = call!(app, patch, format!("/api/v1/cases/{id}/data"), coordinator,
            Some(json!({ "version": 6, "data": { "auswertung": { "zusammenfassung": "Keine Bedenken." } } })));
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);

        // Every entry is chained: the corrections are part of the tamper-evident journal.
        let breaks = vorgang::journal::verify_all(&mut db.connection()).unwrap();
        assert!(breaks.is_empty(), "{breaks:?}");
    }
}

both_backends! {
    async fn the_page_offers_the_correction_to_administrators_and_says_what_changes(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let coordinator = create_user(&mut db.connection(), "k@kreis-soest.de", "05974", &[Role::Koordination], Some(PASSWORD));
        create_user(&mut db.connection(), "it@kreis-soest.de", "05974", &[Role::Admin], Some(PASSWORD));
        let app = ui_app!(db, dir);
        let token = staff_token(&coordinator);
        let created = call!(app, post, "/api/v1/cases", token, Some(json!({ "workflow": "ki-antrag", "data": application() })));
        let id = created.body["id"].as_i64().unwrap();
        let started = call!(app, post, format!("/api/v1/cases/{id}/actions/beteiligung_starten"), token, Some(json!({ "version": 1 })));
        assert_eq!(started.status, StatusCode::OK, "{}", started.body);
        let entry = format!("/vorgaenge/{id}/korrektur");

        // The coordinator is not offered it and cannot open the form.
        let mut browser = Browser::from("10.0.0.3:1000");
        browser.login(&app, "k@kreis-soest.de", PASSWORD).await;
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        assert!(!page.body.contains(&entry), "{}", page.body);
        assert_eq!(browser.get(&app, &entry).await.status, 403);

        let mut admin = Browser::from("10.0.0.4:1000");
        admin.login(&app, "it@kreis-soest.de", PASSWORD).await;
        let page = admin.get(&app, &format!("/vorgaenge/{id}")).await;
        assert!(page.body.contains(&format!("<a href=\"{entry}\" class=\"nebenangabe\">Bearbeitungsstand korrigieren</a>")), "{}", page.body);
        let form = admin.get(&app, &entry).await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.body.contains("<h1>Bearbeitungsstand korrigieren: KI-05974-"), "{}", form.body);
        assert!(form.body.contains("In Bearbeitung: „Beteiligung der örtlichen Partner“."), "{}", form.body);
        assert!(form.body.contains("Schulamt für den Kreis Soest"), "the partners still asked: {}", form.body);
        // The tasks of ki-antrag, none of its other steps.
        for task in ["entwurf", "auswertung", "kreistag", "einreichung", "bewilligung"] {
            assert!(form.body.contains(&format!("id=\"schritt-{task}\"")), "{task}: {}", form.body);
        }
        assert!(!form.body.contains("id=\"schritt-beteiligung\""), "{}", form.body);
        assert!(!form.body.contains(" disabled><label"), "the consultation is no task: {}", form.body);
        assert_eq!(form.hidden("version"), "2");
        let csrf = form.hidden("csrf");

        // Without a choice and a reason the form comes back with both errors; nothing changes.
        let before = footprint(&db, id);
        let refused = admin.post(&app, &entry, &[("csrf", &csrf), ("version", "2"), ("grund", " ")]).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(refused.body.contains("<span class=\"feldfehler\" id=\"fehler-schritt\">Bitte wählen Sie den Schritt, bei dem der Vorgang weitergehen soll."), "{}", refused.body);
        assert!(refused.body.contains("<span class=\"feldfehler\" id=\"fehler-grund\">Bitte geben Sie an, warum der Bearbeitungsstand korrigiert wird."), "{}", refused.body);
        let stale = admin.post(&app, &entry, &[("csrf", &csrf), ("version", "1"), ("schritt", "entwurf"), ("grund", "Falsch geklickt")]).await;
        assert_eq!(stale.status, 409, "{}", stale.body);
        assert_eq!(footprint(&db, id), before);

        let done = admin.post(&app, &entry, &[("csrf", &csrf), ("version", "2"), ("schritt", "entwurf"), ("grund", "Beteiligung versehentlich gestartet")]).await;
        assert_eq!(done.location(), format!("/vorgaenge/{id}?hinweis=korrigiert"), "{}", done.body);
        let page = admin.get(&app, done.location()).await;
        assert!(page.body.contains("Der Bearbeitungsstand wurde korrigiert."), "{}", page.body);
        assert!(page.body.contains("Bearbeitungsstand korrigiert: von „Beteiligung der örtlichen Partner“ zu „Antrag entwerfen“ (Grund: Beteiligung versehentlich gestartet)"), "{}", page.body);
        // Where it now stands alone is not offered again.
        let again = admin.get(&app, &entry).await;
        assert!(again.body.contains("id=\"schritt-entwurf\" disabled><label for=\"schritt-entwurf\">Antrag entwerfen <span class=\"nebenangabe\">– Der Vorgang steht bereits bei „Antrag entwerfen“.</span></label>"), "{}", again.body);
        assert!(again.body.contains("id=\"schritt-kreistag\"><label"), "{}", again.body);
        let status: String = case_rows::table.find(id).select(case_rows::current_steps).first(&mut db.connection()).unwrap();
        assert!(status.contains("entwurf") && !status.contains("beteiligung"), "{status}");
    }
}
