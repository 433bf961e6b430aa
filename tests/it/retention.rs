//! Aussonderung on both databases: a withdrawn case with documents, a Vermerk, a Wiedervorlage
//! and an answered Beteiligung is kept while its retention period runs, then deleted with all
//! of it after the archive's decision, leaving a record; a document file another case shares
//! stays. Every refusal changes nothing.

use actix_web::http::StatusCode;
use actix_web::test as actix_test;
use diesel::prelude::*;
use serde_json::{Value, json};
use vorgang::db::models::Role;
use vorgang::db::schema::{
    answers, case_assignments, case_events, cases, documents, follow_ups, invitations, outbox,
    partner_links, timers,
};

use crate::support::TestDatabase;
use crate::support::auth::{create_user, staff_token, test_auth};

struct Reply {
    status: StatusCode,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

macro_rules! send {
    ($app:expr, $request:expr) => {{
        let response = actix_test::call_service(&$app, $request.to_request()).await;
        let status = response.status();
        let body = actix_test::read_body(response).await.to_vec();
        Reply { status, body }
    }};
}

fn bearer(token: &str) -> (&'static str, String) {
    ("Authorization", format!("Bearer {token}"))
}

fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.7\n% {text}\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
        .into_bytes()
}

fn dispose(id: i64, token: &str, body: Value) -> actix_test::TestRequest {
    actix_test::TestRequest::post()
        .uri(&format!("/api/v1/admin/retention/{id}/dispose"))
        .insert_header(bearer(token))
        .set_json(body)
}

fn overview(token: &str) -> actix_test::TestRequest {
    actix_test::TestRequest::get()
        .uri("/api/v1/admin/retention")
        .insert_header(bearer(token))
}

/// Rows of every table that holds a part of case `id`.
fn rows_of(db: &TestDatabase, id: i64) -> Vec<(&'static str, i64)> {
    let mut conn = db.connection();
    let invitation_ids: Vec<i64> = invitations::table
        .filter(invitations::case_id.eq(id))
        .select(invitations::id)
        .load(&mut conn)
        .unwrap();
    let count = |n: QueryResult<i64>| n.unwrap();
    vec![
        (
            "cases",
            count(
                cases::table
                    .filter(cases::id.eq(id))
                    .count()
                    .get_result(&mut conn),
            ),
        ),
        (
            "case_events",
            count(
                case_events::table
                    .filter(case_events::case_id.eq(id))
                    .count()
                    .get_result(&mut conn),
            ),
        ),
        (
            "documents",
            count(
                documents::table
                    .filter(documents::case_id.eq(id))
                    .count()
                    .get_result(&mut conn),
            ),
        ),
        ("invitations", invitation_ids.len() as i64),
        (
            "answers",
            count(
                answers::table
                    .filter(answers::invitation_id.eq_any(&invitation_ids))
                    .count()
                    .get_result(&mut conn),
            ),
        ),
        (
            "partner_links",
            count(
                partner_links::table
                    .filter(partner_links::invitation_id.eq_any(&invitation_ids))
                    .count()
                    .get_result(&mut conn),
            ),
        ),
        (
            "outbox",
            count(
                outbox::table
                    .filter(outbox::case_id.eq(id))
                    .count()
                    .get_result(&mut conn),
            ),
        ),
        (
            "timers",
            count(
                timers::table
                    .filter(timers::case_id.eq(id))
                    .count()
                    .get_result(&mut conn),
            ),
        ),
        (
            "follow_ups",
            count(
                follow_ups::table
                    .filter(follow_ups::case_id.eq(id))
                    .count()
                    .get_result(&mut conn),
            ),
        ),
        (
            "case_assignments",
            count(
                case_assignments::table
                    .filter(case_assignments::case_id.eq(id))
                    .count()
                    .get_result(&mut conn),
            ),
        ),
    ]
}

/// Moves the end of case `id` back to `at` (UTC), as if it had ended then.
fn ended_at(db: &TestDatabase, id: i64, at: &str) {
    let at = chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M:%S").unwrap();
    diesel::update(cases::table.find(id))
        .set(cases::updated_at.eq(at))
        .execute(&mut db.connection())
        .unwrap();
}

/// The personal link's token from the first invitation mail of case `id`.
fn invitation_token(db: &TestDatabase, id: i64) -> String {
    let rendered: String = outbox::table
        .filter(outbox::template.eq("beteiligung_einladung"))
        .filter(outbox::case_id.eq(id))
        .order(outbox::id)
        .select(outbox::rendered)
        .first(&mut db.connection())
        .unwrap();
    let rendered: Value = serde_json::from_str(&rendered).unwrap();
    let text = rendered["text"].as_str().unwrap();
    let start = text.find("/beteiligung/").expect("link in mail") + "/beteiligung/".len();
    text[start..]
        .split(char::is_whitespace)
        .next()
        .unwrap()
        .to_string()
}

both_backends! {
    async fn a_case_past_its_retention_period_goes_with_all_it_holds_and_leaves_a_record(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let (admin, soest) = {
            let mut conn = db.connection();
            (
                staff_token(&create_user(&mut conn, "admin@bra.nrw.de", "KFI", &[Role::Admin], None)),
                staff_token(&create_user(&mut conn, "k@kreis-soest.de", "05974", &[Role::Koordination], None)),
            )
        };
        let pool = db.pool(4);
        let api = crate::support::api::state(&pool, dir.path());
        let store = api.documents.clone();
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;
        let create = || actix_test::TestRequest::post().uri("/api/v1/cases").insert_header(bearer(&soest))
            .set_json(json!({ "workflow": "ki-antrag", "data": crate::beteiligung::application() }));

        // Another case holds the same Konzept as the one to be deleted.
        let other = send!(app, create()).json();
        let other_id = other["id"].as_i64().unwrap();
        let shared = pdf("Integrationskonzept 2019");
        let kept = send!(app, crate::support::api::upload(other_id, &soest, "konzept.pdf", "application/pdf", &shared));
        assert_eq!(kept.status, StatusCode::CREATED, "{}", kept.text());
        let kept = kept.json();

        // The case: created last (the newest id), with two documents, a Vermerk, a
        // Wiedervorlage, someone responsible and an answered Beteiligung, then withdrawn.
        let case = send!(app, create()).json();
        let id = case["id"].as_i64().unwrap();
        let aktenzeichen = case["aktenzeichen"].as_str().unwrap().to_string();
        let own = pdf("Stellenplan 2019");
        for (name, bytes) in [("konzept.pdf", &shared), ("stellenplan.pdf", &own)] {
            let stored = send!(app, crate::support::api::upload(id, &soest, name, "application/pdf", bytes));
            assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text());
        }
        let own_sha = vorgang::documents::sha256_hex(&own);
        let shared_sha = vorgang::documents::sha256_hex(&shared);
        let noted = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/notes")).insert_header(bearer(&soest))
            .set_json(json!({ "text": "Telefonat mit dem Schulamt." })));
        assert_eq!(noted.status, StatusCode::CREATED, "{}", noted.text());
        let follow_up = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/follow-ups")).insert_header(bearer(&soest))
            .set_json(json!({ "due": "2027-06-01", "reason": "Konzept nachfragen" })));
        assert_eq!(follow_up.status, StatusCode::CREATED, "{}", follow_up.text());
        let assigned = send!(app, actix_test::TestRequest::put().uri(&format!("/api/v1/cases/{id}/assignee")).insert_header(bearer(&soest))
            .set_json(json!({ "user": "k@kreis-soest.de" })));
        assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.text());
        let started = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/actions/beteiligung_starten"))
            .insert_header(bearer(&soest)).set_json(json!({ "version": 1 })));
        assert_eq!(started.status, StatusCode::OK, "{}", started.text());
        let token = invitation_token(&db, id);
        let answered = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/beteiligung/{token}"))
            .set_json(json!({ "votum": "zustimmung", "stellungnahme": "Einverstanden.", "name": "Frau Muster" })));
        assert_eq!(answered.status, StatusCode::OK, "{}", answered.text());
        let version = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}")).insert_header(bearer(&soest))).json()["version"].clone();
        let withdrawn = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/withdraw")).insert_header(bearer(&soest))
            .set_json(json!({ "version": version })));
        assert_eq!(withdrawn.status, StatusCode::OK, "{}", withdrawn.text());
        let before = rows_of(&db, id);
        for (table, n) in &before {
            assert!(*n > 0 || *table == "timers", "the case has {table} rows: {before:?}");
        }
        let declined = json!({ "decision": "declined", "reference": "Kreisarchiv Soest, Az. 47.11" });

        // Just ended: kept until the end of the year five years on.
        let listed = send!(app, overview(&admin));
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
        assert_eq!(listed.json()["retention_years"], 5);
        assert_eq!(listed.json()["due"], json!([]));
        let early = send!(app, dispose(id, &admin, declined.clone()));
        assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", early.text());
        assert!(early.json()["detail"].as_str().unwrap().contains("läuft noch bis zum 31.12."), "{}", early.text());
        assert_eq!(rows_of(&db, id), before);

        // Ended in 2019: kept until 31.12.2024, due since.
        ended_at(&db, id, "2019-03-01 10:00:00");
        let listed = send!(app, overview(&admin)).json();
        let due = listed["due"].as_array().unwrap();
        assert_eq!(due.len(), 1, "{listed}");
        assert_eq!(due[0]["id"], id);
        assert_eq!(due[0]["aktenzeichen"], aktenzeichen.as_str());
        assert_eq!(due[0]["applicant"], "05974");
        assert_eq!(due[0]["status"], "withdrawn");
        assert_eq!(due[0]["ended_at"], "2019-03-01T10:00:00Z");
        assert_eq!(due[0]["retention_until"], "2024-12-31");
        assert_eq!(due[0]["exported"], false);

        // The archive takes the exported file: not exported yet, refused.
        let unexported = send!(app, dispose(id, &admin, json!({ "decision": "archived" })));
        assert_eq!(unexported.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unexported.text());
        assert!(unexported.json()["detail"].as_str().unwrap().contains("exportieren Sie die Akte"), "{}", unexported.text());
        // Mails still waiting would be lost: refused.
        let unsent = send!(app, dispose(id, &admin, declined.clone()));
        assert_eq!(unsent.status, StatusCode::CONFLICT, "{}", unsent.text());
        assert!(unsent.json()["detail"].as_str().unwrap().contains("noch"), "{}", unsent.text());
        assert_eq!(rows_of(&db, id), before);
        diesel::update(outbox::table)
            .set(outbox::status.eq("sent"))
            .execute(&mut db.connection())
            .unwrap();

        // Exported, then a Vermerk: the export no longer holds the whole journal.
        let export = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/export")).insert_header(bearer(&admin)));
        assert_eq!(export.status, StatusCode::OK, "{}", export.text());
        assert_eq!(send!(app, overview(&admin)).json()["due"][0]["exported"], true);
        let late_note = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/notes")).insert_header(bearer(&admin))
            .set_json(json!({ "text": "Akte dem Kreisarchiv angeboten." })));
        assert_eq!(late_note.status, StatusCode::CREATED, "{}", late_note.text());
        assert_eq!(send!(app, overview(&admin)).json()["due"][0]["exported"], false);
        let export = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/export")).insert_header(bearer(&admin)));
        assert_eq!(export.status, StatusCode::OK);
        let journal = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/journal")).insert_header(bearer(&admin))).json();
        let newest = journal.as_array().unwrap().last().unwrap().clone();
        assert_eq!(newest["kind"], "case_file_exported");
        let heads = vorgang::journal::heads::current(&mut db.connection()).unwrap();

        let disposed = send!(app, dispose(id, &admin, json!({ "decision": "archived", "reference": " Übernahme vom 2.2.2026 " })));
        assert_eq!(disposed.status, StatusCode::CREATED, "{}", disposed.text());
        let record = disposed.json();
        assert_eq!(record["id"], id);
        assert_eq!(record["aktenzeichen"], aktenzeichen.as_str());
        assert_eq!(record["workflow"], "ki-antrag");
        assert_eq!(record["applicant"], "05974");
        assert_eq!(record["applicant_name"], "Kreis Soest");
        assert_eq!(record["status"], "withdrawn");
        assert_eq!(record["decision"], "archived");
        assert_eq!(record["reference"], "Übernahme vom 2.2.2026");
        assert_eq!(record["retention_until"], "2024-12-31");
        assert_eq!(record["journal_seq"], newest["seq"]);
        assert_eq!(record["journal_head"], newest["hash"]);
        assert_eq!(record["documents"], 2);
        assert_eq!(record["disposed_by"], "admin@bra.nrw.de");
        let logged: Vec<(String, String, String, String)> = vorgang::db::schema::admin_events::table
            .select((
                vorgang::db::schema::admin_events::actor,
                vorgang::db::schema::admin_events::kind,
                vorgang::db::schema::admin_events::subject,
                vorgang::db::schema::admin_events::details,
            ))
            .load(&mut db.connection())
            .unwrap();
        assert_eq!(logged, [("admin@bra.nrw.de".to_string(), "case_disposed".to_string(), aktenzeichen.clone(), r#"{"decision":"archived"}"#.to_string())], "the refusals left no entry");

        // Nothing of the case is left; its own file is gone, the shared one stays.
        for (table, n) in rows_of(&db, id) {
            assert_eq!(n, 0, "{table}");
        }
        let shown = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}")).insert_header(bearer(&admin)));
        assert_eq!(shown.status, StatusCode::NOT_FOUND);
        assert!(!store.contains(&own_sha), "the deleted case's own document file is removed");
        assert!(store.contains(&shared_sha), "a file another case has stays");
        let download = send!(app, actix_test::TestRequest::get()
            .uri(&format!("/api/v1/cases/{other_id}/documents/{}", kept["id"])).insert_header(bearer(&soest)));
        assert_eq!(download.status, StatusCode::OK);
        assert_eq!(download.body, shared);

        // The journals still verify, and so do the heads published before the deletion; a head
        // of the deleted case with another hash does not.
        let mut conn = db.connection();
        assert!(vorgang::journal::verify(&mut conn).unwrap().breaks.is_empty());
        assert_eq!(vorgang::journal::heads::check(&mut conn, &heads).unwrap(), vec![]);
        let mut forged = heads.clone();
        let head = forged.iter_mut().find(|h| h.case_id == id).expect("the case's head was published");
        head.hash = "0".repeat(64);
        let breaks = vorgang::journal::heads::check(&mut conn, &forged).unwrap();
        assert_eq!(breaks.len(), 1, "{breaks:?}");
        assert_eq!(breaks[0].aktenzeichen.as_deref(), Some(aktenzeichen.as_str()));
        drop(conn);

        // The record is listed; the case is no longer due and cannot be disposed of twice.
        let listed = send!(app, overview(&admin)).json();
        assert_eq!(listed["due"], json!([]));
        assert_eq!(listed["disposed"].as_array().unwrap().len(), 1);
        assert_eq!(listed["disposed"][0], record);
        let again = send!(app, dispose(id, &admin, declined.clone()));
        assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.text());

        // Its id is never given to another case.
        let next = send!(app, create()).json();
        assert!(next["id"].as_i64().unwrap() > id, "{next}");
        let other_after = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{other_id}")).insert_header(bearer(&soest)));
        assert_eq!(other_after.status, StatusCode::OK);
    }
}

both_backends! {
    async fn refusals_change_nothing(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let (admin, soest) = {
            let mut conn = db.connection();
            (
                staff_token(&create_user(&mut conn, "admin@bra.nrw.de", "KFI", &[Role::Admin], None)),
                staff_token(&create_user(&mut conn, "k@kreis-soest.de", "05974", &[Role::Koordination], None)),
            )
        };
        let pool = db.pool(2);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;
        let case = send!(app, actix_test::TestRequest::post().uri("/api/v1/cases").insert_header(bearer(&soest))
            .set_json(json!({ "workflow": "ki-antrag", "data": crate::beteiligung::application() }))).json();
        let id = case["id"].as_i64().unwrap();
        // Still running, however old.
        ended_at(&db, id, "2001-01-01 00:00:00");
        let before = rows_of(&db, id);

        let running = send!(app, dispose(id, &admin, json!({ "decision": "declined" })));
        assert_eq!(running.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", running.text());
        assert!(running.json()["detail"].as_str().unwrap().contains("nicht abgeschlossen"), "{}", running.text());
        assert_eq!(send!(app, overview(&admin)).json()["due"], json!([]), "a running case is never due");

        let coordinator = send!(app, dispose(id, &soest, json!({ "decision": "declined" })));
        assert_eq!(coordinator.status, StatusCode::FORBIDDEN, "{}", coordinator.text());
        assert_eq!(send!(app, overview(&soest)).status, StatusCode::FORBIDDEN);

        let reference = send!(app, dispose(id, &admin, json!({ "decision": "declined", "reference": "Zeile 1\nZeile 2" })));
        assert_eq!(reference.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reference.text());
        assert_eq!(reference.json()["errors"][0]["pointer"], "/reference");

        for body in [json!({ "decision": "vernichtet" }), json!({}), json!({ "decision": "declined", "grund": "x" })] {
            let bad = send!(app, dispose(id, &admin, body.clone()));
            assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{body}: {}", bad.text());
        }
        let unknown = send!(app, dispose(id + 1000, &admin, json!({ "decision": "declined" })));
        assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text());

        assert_eq!(rows_of(&db, id), before);
        assert_eq!(send!(app, overview(&admin)).json()["disposed"], json!([]));
    }
}

/// Deploys `ki-antrag` as shipped, with `extra` put in front of its `start:` line.
fn deploy_ki_antrag(extra: &str, token: &str) -> actix_test::TestRequest {
    let source = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/workflows/ki-antrag.yaml"
    ))
    .unwrap();
    assert!(
        source.contains("\nstart: "),
        "ki-antrag.yaml names its start step at the top level"
    );
    actix_test::TestRequest::post()
        .uri("/api/v1/workflows")
        .insert_header(bearer(token))
        .insert_header(("Content-Type", "application/yaml"))
        .set_payload(source.replacen("\nstart: ", &format!("\n{extra}start: "), 1))
}

both_backends! {
    async fn a_workflow_sets_its_own_period_and_its_newest_version_applies(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let (admin, soest) = {
            let mut conn = db.connection();
            (
                staff_token(&create_user(&mut conn, "admin@bra.nrw.de", "KFI", &[Role::Admin], None)),
                staff_token(&create_user(&mut conn, "k@kreis-soest.de", "05974", &[Role::Koordination], None)),
            )
        };
        let pool = db.pool(2);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;
        let mut ids = Vec::new();
        for ended in ["2019-03-01 10:00:00", "2014-06-01 10:00:00"] {
            let case = send!(app, actix_test::TestRequest::post().uri("/api/v1/cases").insert_header(bearer(&soest))
                .set_json(json!({ "workflow": "ki-antrag", "data": crate::beteiligung::application() }))).json();
            let id = case["id"].as_i64().unwrap();
            let withdrawn = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/withdraw")).insert_header(bearer(&soest))
                .set_json(json!({ "version": case["version"] })));
            assert_eq!(withdrawn.status, StatusCode::OK, "{}", withdrawn.text());
            ended_at(&db, id, ended);
            ids.push(id);
        }
        let (ended_2019, ended_2014) = (ids[0], ids[1]);
        let due_ids = |listed: &Value| -> Vec<i64> {
            listed["due"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect()
        };

        // The installation's five years: both are due.
        let listed = send!(app, overview(&admin)).json();
        assert_eq!(listed["retention_years_by_workflow"], json!({}));
        assert_eq!(due_ids(&listed), [ended_2014, ended_2019]);

        // Ten years for ki-antrag: the case of 2019 is kept to the end of 2029.
        let bad = send!(app, deploy_ki_antrag("retention_years: 0\n", &admin));
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text());
        assert!(bad.text().contains("retention_years muss zwischen 1 und 100 liegen"), "{}", bad.text());
        assert_eq!(send!(app, overview(&admin)).json()["retention_years_by_workflow"], json!({}));
        let deployed = send!(app, deploy_ki_antrag("retention_years: 10\n", &admin));
        assert_eq!(deployed.status, StatusCode::CREATED, "{}", deployed.text());
        let listed = send!(app, overview(&admin)).json();
        assert_eq!(listed["retention_years"], 5);
        assert_eq!(listed["retention_years_by_workflow"], json!({ "ki-antrag": 10 }));
        assert_eq!(due_ids(&listed), [ended_2014]);
        assert_eq!(listed["due"][0]["retention_years"], 10);
        assert_eq!(listed["due"][0]["retention_until"], "2024-12-31");
        let kept = send!(app, dispose(ended_2019, &admin, json!({ "decision": "declined" })));
        assert_eq!(kept.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", kept.text());
        assert!(kept.json()["detail"].as_str().unwrap().contains("läuft noch bis zum 31.12.2029"), "{}", kept.text());
        let before = rows_of(&db, ended_2019);
        let gone = send!(app, dispose(ended_2014, &admin, json!({ "decision": "declined" })));
        assert_eq!(gone.status, StatusCode::CREATED, "{}", gone.text());
        assert_eq!(gone.json()["retention_until"], "2024-12-31");
        assert_eq!(rows_of(&db, ended_2019), before);

        // A newer version with six years: the case of 2019 was kept to the end of 2025.
        let deployed = send!(app, deploy_ki_antrag("retention_years: 6\n", &admin));
        assert_eq!(deployed.status, StatusCode::CREATED, "{}", deployed.text());
        let listed = send!(app, overview(&admin)).json();
        assert_eq!(listed["retention_years_by_workflow"], json!({ "ki-antrag": 6 }));
        assert_eq!(due_ids(&listed), [ended_2019]);
        assert_eq!(listed["due"][0]["retention_years"], 6);
        assert_eq!(listed["due"][0]["retention_until"], "2025-12-31");
    }
}
