//! The JSON API in process, on both databases: the case contract, errors as problem+json,
//! permissions by role and organisation, documents.

use actix_web::http::StatusCode;
use actix_web::test as actix_test;
use serde_json::{Value, json};
use vorgang::db::models::{DefinitionRow, Role};

use crate::support::TestDatabase;
use crate::support::auth::{create_user, test_auth};

struct Reply {
    status: StatusCode,
    content_type: String,
    body: Value,
}

fn token(user: &vorgang::db::models::User) -> String {
    crate::support::auth::staff_token(user)
}

macro_rules! call {
    ($app:expr, $method:ident, $uri:expr, $token:expr, $body:expr) => {{
        let mut request = actix_test::TestRequest::$method()
            .uri(&$uri)
            .insert_header(("Authorization", format!("Bearer {}", $token)));
        let body: Option<Value> = $body;
        if let Some(body) = body {
            request = request.set_json(body);
        }
        let response = actix_test::call_service(&$app, request.to_request()).await;
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = actix_test::read_body(response).await;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            content_type,
            body,
        }
    }};
}

macro_rules! app {
    ($db:expr, $dir:expr) => {{
        let pool = $db.pool(4);
        let api = crate::support::api::state(&pool, $dir);
        actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await
    }};
}

struct Users {
    soest: String,
    kleve: String,
    reader_soest: String,
    kfi: String,
    admin: String,
}

fn users(db: &TestDatabase) -> Users {
    let mut conn = db.connection();
    Users {
        soest: token(&create_user(
            &mut conn,
            "k@kreis-soest.de",
            "05974",
            &[Role::Koordination],
            None,
        )),
        kleve: token(&create_user(
            &mut conn,
            "k@kreis-kleve.de",
            "05154",
            &[Role::Koordination],
            None,
        )),
        reader_soest: token(&create_user(
            &mut conn,
            "l@kreis-soest.de",
            "05974",
            &[Role::Lesen],
            None,
        )),
        kfi: token(&create_user(
            &mut conn,
            "b@bra.nrw.de",
            "KFI",
            &[Role::Bewilligung],
            None,
        )),
        admin: token(&create_user(
            &mut conn,
            "admin@it.nrw.de",
            "KFI",
            &[Role::Admin],
            None,
        )),
    }
}

both_backends! {
    async fn the_case_contract_and_its_errors(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let users = users(&db);
        let app = app!(db, dir.path());

        let workflows = call!(app, get, "/api/v1/workflows", users.soest, None);
        assert_eq!(workflows.status, StatusCode::OK);
        let keys: Vec<&str> = workflows.body.as_array().unwrap().iter().map(|w| w["key"].as_str().unwrap()).collect();
        assert_eq!(keys, ["ki-anregung", "ki-antrag", "ki-betrieb"]);

        let created = call!(app, post, "/api/v1/cases", users.soest, Some(json!({ "workflow": "ki-antrag", "data": { "zentrum_name": "KI Soest" } })));
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let case = &created.body;
        for key in ["id", "aktenzeichen", "workflow", "workflow_version", "version", "status", "applicant", "data", "active_steps", "actions", "created_at", "updated_at"] {
            assert!(case.get(key).is_some(), "missing {key}: {case}");
        }
        assert_eq!(case["aktenzeichen"], "KI-05974-2026-0001".replace("2026", &chrono::Utc::now().format("%Y").to_string()));
        assert_eq!(case["applicant"]["key"], "05974");
        assert_eq!(case["active_steps"][0]["step"], "entwurf");
        let start = case["actions"].as_array().unwrap().iter().find(|a| a["action"] == "beteiligung_starten").unwrap();
        assert_eq!(start["allowed"], false);
        assert!(!start["reasons"].as_array().unwrap().is_empty());
        let id = case["id"].as_i64().unwrap();

        let invalid = call!(app, patch, format!("/api/v1/cases/{id}/data"), users.soest, Some(json!({ "version": 1, "data": { "arbeitsaufnahme": "bald" } })));
        assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(invalid.content_type, "application/problem+json");
        assert_eq!(invalid.body["errors"][0]["pointer"], "/arbeitsaufnahme");

        // The decision is the Bewilligungsbehörde's to write (`editors`), at creation as later.
        let decided = call!(app, patch, format!("/api/v1/cases/{id}/data"), users.soest, Some(json!({ "version": 1, "data": { "bewilligung": { "datum": "2026-09-01" } } })));
        assert_eq!(decided.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", decided.body);
        assert_eq!(decided.content_type, "application/problem+json");
        assert_eq!(decided.body["errors"][0]["pointer"], "/bewilligung/datum");
        assert!(decided.body["errors"][0]["message"].as_str().unwrap().starts_with("„Datum des Bescheids“ ändert nur die Rolle „Bewilligungsbehörde"), "{}", decided.body);
        let self_approved = call!(app, post, "/api/v1/cases", users.soest, Some(json!({ "workflow": "ki-antrag", "data": { "bewilligung": { "datum": "2026-09-01" } } })));
        assert_eq!(self_approved.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", self_approved.body);
        assert_eq!(self_approved.body["errors"][0]["pointer"], "/bewilligung/datum");

        let changed = call!(app, patch, format!("/api/v1/cases/{id}/data"), users.soest, Some(json!({ "version": 1, "data": { "arbeitsaufnahme": "2026-09-01" } })));
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
        assert_eq!(changed.body["version"], 2);
        assert_eq!(changed.body["data"]["zentrum_name"], "KI Soest", "merge patch keeps other fields");

        let stale = call!(app, patch, format!("/api/v1/cases/{id}/data"), users.soest, Some(json!({ "version": 1, "data": { "ausgangslage": "x" } })));
        assert_eq!(stale.status, StatusCode::CONFLICT);
        assert_eq!(stale.body["current_version"], 2);

        let refused = call!(app, post, format!("/api/v1/cases/{id}/actions/beteiligung_starten"), users.soest, Some(json!({ "version": 2 })));
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!refused.body["reasons"].as_array().unwrap().is_empty());

        let unknown = call!(app, post, format!("/api/v1/cases/{id}/actions/zaubern"), users.soest, Some(json!({ "version": 2 })));
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);

        let bad_json = call!(app, post, "/api/v1/cases", users.soest, Some(json!({ "workflow": 3 })));
        assert_eq!(bad_json.status, StatusCode::BAD_REQUEST);
        // Said in German, with where and what: not serde's English.
        assert_eq!(bad_json.body["detail"], "Der JSON-Inhalt ist ungültig (Zeile 1, Spalte 13): Erwartet wird ein Text, angegeben ist eine ganze Zahl (3).");
        let float_version = call!(app, post, format!("/api/v1/cases/{id}/withdraw"), users.soest, Some(json!({ "version": 2.5 })));
        assert_eq!(float_version.status, StatusCode::BAD_REQUEST);
        assert!(float_version.body["detail"].as_str().unwrap().ends_with("Erwartet wird eine ganze Zahl, angegeben ist eine Zahl mit Nachkommastellen (2.5)."), "{}", float_version.body);
        let misspelt = call!(app, get, "/api/v1/cases?seite=2", users.soest, None);
        assert_eq!(misspelt.status, StatusCode::BAD_REQUEST);
        assert!(misspelt.body["detail"].as_str().unwrap().starts_with("Die Abfrageparameter sind ungültig: Das Feld „seite“ ist hier nicht vorgesehen (erlaubt: „status“,"), "{}", misspelt.body);
        let not_a_number = call!(app, get, "/api/v1/cases?page=zwei", users.soest, None);
        assert_eq!(not_a_number.body["detail"], "Die Abfrageparameter sind ungültig: Ein Wert ist keine ganze Zahl.");
        let unknown_workflow = call!(app, post, "/api/v1/cases", users.soest, Some(json!({ "workflow": "gibtsnicht" })));
        assert_eq!(unknown_workflow.status, StatusCode::NOT_FOUND);

        let journal = call!(app, get, format!("/api/v1/cases/{id}/journal"), users.soest, None);
        assert_eq!(journal.status, StatusCode::OK);
        assert_eq!(journal.body[0]["kind"], "case_started");
        assert_eq!(journal.body[0]["seq"], 1);

        let listed = call!(app, get, "/api/v1/cases?workflow=ki-antrag&step=entwurf&per_page=10", users.soest, None);
        assert_eq!(listed.status, StatusCode::OK);
        assert_eq!(listed.body["total"], 1);
        assert_eq!(listed.body["items"][0]["id"], id);
        let other_step = call!(app, get, "/api/v1/cases?step=bewilligung", users.soest, None);
        assert_eq!(other_step.body["total"], 0);
        let bad_page = call!(app, get, "/api/v1/cases?per_page=1000", users.soest, None);
        assert_eq!(bad_page.status, StatusCode::BAD_REQUEST);

        // The reason goes into the file as one line; anything else changes nothing.
        let multiline = call!(app, post, format!("/api/v1/cases/{id}/withdraw"), users.soest, Some(json!({ "version": 2, "reason": "Neuer\nAnlauf" })));
        assert_eq!(multiline.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", multiline.body);
        assert_eq!(multiline.body["errors"][0]["pointer"], "/reason", "{}", multiline.body);
        assert!(multiline.body["errors"][0]["message"].as_str().unwrap().starts_with("Der Grund enthält Steuerzeichen"), "{}", multiline.body);
        let still = call!(app, get, format!("/api/v1/cases/{id}"), users.soest, None);
        assert_eq!((still.body["status"].as_str(), still.body["version"].as_i64()), (Some("running"), Some(2)));
        let withdrawn = call!(app, post, format!("/api/v1/cases/{id}/withdraw"), users.soest, Some(json!({ "version": 2, "reason": "Neuer Anlauf" })));
        assert_eq!(withdrawn.status, StatusCode::OK, "{}", withdrawn.body);
        assert_eq!(withdrawn.body["status"], "withdrawn");
        assert_eq!(withdrawn.body["outcome"], "zurueckgezogen");
    }
}

both_backends! {
    async fn the_case_list_sorts_by_the_named_key_in_either_direction(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let users = users(&db);
        let app = app!(db, dir.path());
        let mut ids = Vec::new();
        for token in [&users.soest, &users.kleve, &users.soest] {
            let created = call!(app, post, "/api/v1/cases", token, Some(json!({ "workflow": "ki-antrag" })));
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
            ids.push(created.body["id"].as_i64().unwrap());
        }
        let [soest_first, kleve, soest_second] = [ids[0], ids[1], ids[2]];
        // Withdrawn sorts after running by „Stand“ (status first).
        let withdrawn = call!(app, post, format!("/api/v1/cases/{soest_first}/withdraw"), users.soest, Some(json!({ "version": 1 })));
        assert_eq!(withdrawn.status, StatusCode::OK, "{}", withdrawn.body);

        let order = |body: &Value| -> Vec<i64> {
            body["items"].as_array().unwrap().iter().map(|case| case["id"].as_i64().unwrap()).collect()
        };
        let expected: [(&str, [i64; 3]); 12] = [
            ("", [soest_second, kleve, soest_first]),
            // Empty filters, as a form sends them unset, filter nothing.
            ("&status=&step=&workflow=&q=&sort=", [soest_second, kleve, soest_first]),
            ("&sort=-created_at", [soest_second, kleve, soest_first]),
            ("&sort=created_at", [soest_first, kleve, soest_second]),
            // KI-05154-… (Kleve) before KI-05974-…-0001 and -0002 (Soest).
            ("&sort=aktenzeichen", [kleve, soest_first, soest_second]),
            ("&sort=-aktenzeichen", [soest_second, soest_first, kleve]),
            // „Kreis Kleve“ before „Kreis Soest“, then by creation.
            ("&sort=applicant", [kleve, soest_first, soest_second]),
            ("&sort=-applicant", [soest_second, soest_first, kleve]),
            ("&sort=stand", [kleve, soest_second, soest_first]),
            ("&sort=-stand", [soest_first, soest_second, kleve]),
            // None of them has a deadline yet: by creation, in the direction asked for.
            ("&sort=deadline", [soest_first, kleve, soest_second]),
            ("&sort=-deadline", [soest_second, kleve, soest_first]),
        ];
        for (sort, ids) in expected {
            let listed = call!(app, get, format!("/api/v1/cases?per_page=10{sort}"), users.admin, None);
            assert_eq!(listed.status, StatusCode::OK, "{sort}: {}", listed.body);
            assert_eq!(order(&listed.body), ids, "{sort}");
        }
        // The order holds across pages.
        let second_page = call!(app, get, "/api/v1/cases?sort=aktenzeichen&per_page=2&page=2", users.admin, None);
        assert_eq!(order(&second_page.body), [soest_second]);
        assert_eq!(second_page.body["total"], 3);

        // None has a deadline yet, so none is due by any day; a date must be one.
        let due = call!(app, get, "/api/v1/cases?due_by=2099-12-31", users.admin, None);
        assert_eq!((due.status, due.body["total"].as_i64()), (StatusCode::OK, Some(0)), "{}", due.body);
        for bad in ["2026-13-01", "31.12.2026", "morgen"] {
            let refused = call!(app, get, format!("/api/v1/cases?due_by={bad}"), users.admin, None);
            assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad}");
            assert!(refused.body["detail"].as_str().unwrap().contains("für „due_by“"), "{}", refused.body);
        }
        for bad in ["zauber", "-", "--created_at", "Aktenzeichen", "created_at,stand"] {
            let refused = call!(app, get, format!("/api/v1/cases?sort={bad}"), users.admin, None);
            assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad}");
            assert_eq!(refused.content_type, "application/problem+json");
            let detail = refused.body["detail"].as_str().unwrap();
            assert!(detail.contains("Unbekannte Sortierung") && detail.contains("aktenzeichen, applicant, stand"), "{detail}");
        }
    }
}

both_backends! {
    async fn roles_and_organisations_decide_what_is_visible(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let users = users(&db);
        let app = app!(db, dir.path());
        let created = call!(app, post, "/api/v1/cases", users.soest, Some(json!({ "workflow": "ki-antrag" })));
        let id = created.body["id"].as_i64().unwrap();
        let case = format!("/api/v1/cases/{id}");

        assert_eq!(call!(app, get, case, users.soest, None).status, StatusCode::OK);
        assert_eq!(call!(app, get, case, users.reader_soest, None).status, StatusCode::OK);
        assert_eq!(call!(app, get, case, users.admin, None).status, StatusCode::OK);
        // A foreign Kreis and the Bewilligungsbehörde (before submission) do not learn it exists.
        assert_eq!(call!(app, get, case, users.kleve, None).status, StatusCode::NOT_FOUND);
        assert_eq!(call!(app, get, case, users.kfi, None).status, StatusCode::NOT_FOUND);
        assert_eq!(call!(app, get, "/api/v1/cases", users.kleve, None).body["total"], 0);
        // Reading is not writing.
        let write = call!(app, patch, format!("{case}/data"), users.reader_soest, Some(json!({ "version": 1, "data": { "ausgangslage": "x" } })));
        assert_eq!(write.status, StatusCode::FORBIDDEN);
        assert_eq!(write.content_type, "application/problem+json");
        // Cases for another organisation cannot be opened by Koordination.
        let foreign = call!(app, post, "/api/v1/cases", users.soest, Some(json!({ "workflow": "ki-antrag", "applicant": "05154" })));
        assert_eq!(foreign.status, StatusCode::FORBIDDEN);
        // An applicant that does not exist is named at its field.
        let unknown = call!(app, post, "/api/v1/cases", users.admin, Some(json!({ "workflow": "ki-antrag", "applicant": "99999" })));
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown.body);
        assert_eq!(unknown.body["errors"], json!([{ "pointer": "/applicant", "message": "Die Organisation „99999“ gibt es nicht." }]));
        // Only admins deploy workflows.
        let deploy = actix_test::TestRequest::post()
            .uri("/api/v1/workflows")
            .insert_header(("Authorization", format!("Bearer {}", users.soest)))
            .insert_header(("Content-Type", "application/yaml"))
            .set_payload("workflow: x\n")
            .to_request();
        assert_eq!(actix_test::call_service(&app, deploy).await.status(), StatusCode::FORBIDDEN);
        let invalid = actix_test::TestRequest::post()
            .uri("/api/v1/workflows")
            .insert_header(("Authorization", format!("Bearer {}", users.admin)))
            .insert_header(("Content-Type", "application/yaml"))
            .set_payload("workflow: x\ntitle: X\n")
            .to_request();
        let response = actix_test::call_service(&app, invalid).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = actix_test::read_body_json(response).await;
        assert!(body["errors"][0]["line"].as_u64().is_some(), "{body}");
        // A key that would be the editor's own address is refused where it stands.
        let shadowing = actix_test::TestRequest::post()
            .uri("/api/v1/workflows")
            .insert_header(("Authorization", format!("Bearer {}", users.admin)))
            .insert_header(("Content-Type", "application/yaml"))
            .set_payload(include_str!("../../workflows/ki-anregung.yaml").replacen("workflow: ki-anregung", "workflow: neu", 1))
            .to_request();
        let response = actix_test::call_service(&app, shadowing).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = actix_test::read_body_json(response).await;
        let errors = body["errors"].as_array().unwrap();
        assert!(errors.iter().any(|e| e["message"].as_str().unwrap().starts_with("der Schlüssel 'neu' ist vergeben") && e["line"] == 9), "{body}");
        assert_eq!(call!(app, get, "/api/v1/workflows/neu", users.admin, None).status, StatusCode::NOT_FOUND);
        // A case of the approving authority's own organisation that was never submitted is not
        // counted in its list either (the list filter follows the same rule as reading).
        let own_kfi = call!(app, post, "/api/v1/cases", users.admin, Some(json!({ "workflow": "ki-antrag", "applicant": "KFI" })));
        assert_eq!(own_kfi.status, StatusCode::CREATED);
        let listed = call!(app, get, "/api/v1/cases", users.kfi, None);
        assert_eq!(listed.body["total"], 0, "{}", listed.body);
        assert_eq!(listed.body["items"], json!([]));
        // Without a token nothing is served.
        let anonymous = actix_test::call_service(&app, actix_test::TestRequest::get().uri(&case).to_request()).await;
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    }
}

both_backends! {
    async fn showing_a_case_reads_the_caller_afresh_with_it(backend) {
        use diesel::prelude::*;
        use vorgang::db::schema::{user_roles, users};

        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let mut conn = db.connection();
        let anna = create_user(&mut conn, "anna@kreis-soest.de", "05974", &[Role::Koordination, Role::Lesen], None);
        let token = token(&anna);
        let app = app!(db, dir.path());
        let created = call!(app, post, "/api/v1/cases", token, Some(json!({ "workflow": "ki-antrag" })));
        let id = created.body["id"].as_i64().unwrap();
        let case = format!("/api/v1/cases/{id}");

        // Several roles give several rows of the caller's query, still one case and its applicant.
        let shown = call!(app, get, case, token, None);
        assert_eq!(shown.status, StatusCode::OK);
        assert_eq!(shown.body["id"], id);
        assert_eq!(shown.body["aktenzeichen"], created.body["aktenzeichen"]);
        assert_eq!(shown.body["applicant"]["key"], "05974", "{}", shown.body);
        assert_eq!(shown.body["data"], created.body["data"]);
        let missing = call!(app, get, format!("/api/v1/cases/{}", id + 1000), token, None);
        assert_eq!((missing.status, missing.content_type.as_str()), (StatusCode::NOT_FOUND, "application/problem+json"));

        // Without any role the case is not visible; roles come from the database on each request.
        diesel::delete(user_roles::table.filter(user_roles::user_id.eq(anna.id))).execute(&mut conn).unwrap();
        assert_eq!(call!(app, get, case, token, None).status, StatusCode::NOT_FOUND);
        create_user_role(&mut conn, anna.id, "lesen");
        assert_eq!(call!(app, get, case, token, None).status, StatusCode::OK);

        // A deactivated user is refused as unauthenticated, whether the case exists or not.
        diesel::update(users::table.find(anna.id)).set(users::active.eq(false)).execute(&mut conn).unwrap();
        for uri in [case.clone(), format!("/api/v1/cases/{}", id + 1000)] {
            let refused = call!(app, get, uri, token, None);
            assert_eq!((refused.status, refused.content_type.as_str()), (StatusCode::UNAUTHORIZED, "application/problem+json"));
        }
    }
}

fn create_user_role(
    conn: &mut vorgang::db::DbConnection,
    user: vorgang::db::models::UserId,
    role: &str,
) {
    use diesel::prelude::*;
    use vorgang::db::schema::user_roles;
    diesel::insert_into(user_roles::table)
        .values((user_roles::user_id.eq(user), user_roles::role.eq(role)))
        .execute(conn)
        .unwrap();
}

both_backends! {
    async fn every_answer_names_the_case_s_own_applicant(backend) {
        // Commands answer with the caller's organisation when it is the applicant (read with
        // the caller) and read the applicant otherwise; the list reads a page's applicants at
        // once. Each answer must name the applicant of its own case either way.
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let users = users(&db);
        let app = app!(db, dir.path());
        let soest = call!(app, post, "/api/v1/cases", users.soest, Some(json!({ "workflow": "ki-antrag", "applicant": "05974" })));
        assert_eq!(soest.status, StatusCode::CREATED, "{}", soest.body);
        assert_eq!(soest.body["applicant"], json!({ "key": "05974", "name": "Soest", "designation": "Kreis Soest" }));
        let kleve = call!(app, post, "/api/v1/cases", users.admin, Some(json!({ "workflow": "ki-antrag", "applicant": "05154" })));
        assert_eq!(kleve.status, StatusCode::CREATED, "{}", kleve.body);
        assert_eq!(kleve.body["applicant"], json!({ "key": "05154", "name": "Kleve", "designation": "Kreis Kleve" }));
        let kfi = call!(app, post, "/api/v1/cases", users.admin, Some(json!({ "workflow": "ki-antrag" })));
        assert_eq!(kfi.status, StatusCode::CREATED, "{}", kfi.body);
        assert_eq!(kfi.body["applicant"]["key"], "KFI");

        let kleve_id = kleve.body["id"].as_i64().unwrap();
        let by_admin = call!(app, patch, format!("/api/v1/cases/{kleve_id}/data"), users.admin, Some(json!({ "version": 1, "data": { "ausgangslage": "x" } })));
        assert_eq!(by_admin.status, StatusCode::OK, "{}", by_admin.body);
        assert_eq!(by_admin.body["applicant"], json!({ "key": "05154", "name": "Kleve", "designation": "Kreis Kleve" }));
        let by_kleve = call!(app, patch, format!("/api/v1/cases/{kleve_id}/data"), users.kleve, Some(json!({ "version": 2, "data": { "ausgangslage": "y" } })));
        assert_eq!(by_kleve.status, StatusCode::OK, "{}", by_kleve.body);
        assert_eq!(by_kleve.body["applicant"], json!({ "key": "05154", "name": "Kleve", "designation": "Kreis Kleve" }));

        let listed = call!(app, get, "/api/v1/cases", users.admin, None);
        assert_eq!(listed.status, StatusCode::OK);
        let applicants: Vec<&str> = listed.body["items"].as_array().unwrap().iter().map(|c| c["applicant"]["key"].as_str().unwrap()).collect();
        assert_eq!(applicants, ["KFI", "05154", "05974"], "newest first: {}", listed.body);
        let names: Vec<&str> = listed.body["items"].as_array().unwrap().iter().map(|c| c["applicant"]["name"].as_str().unwrap()).collect();
        assert_eq!(names[1..], ["Kleve", "Soest"]);
        let designations: Vec<&str> = listed.body["items"].as_array().unwrap().iter().map(|c| c["applicant"]["designation"].as_str().unwrap()).collect();
        assert_eq!(designations[1..], ["Kreis Kleve", "Kreis Soest"]);
        assert_eq!(listed.body["items"][1]["version"], 3, "the list shows the stored row");
    }
}

fn multipart(name: &str, filename: &str, content_type: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "vorgangtestgrenze";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n").as_bytes());
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

both_backends! {
    async fn documents_are_sniffed_stored_and_served(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let users = users(&db);
        let app = app!(db, dir.path());
        let created = call!(app, post, "/api/v1/cases", users.soest, Some(json!({ "workflow": "ki-antrag" })));
        let id = created.body["id"].as_i64().unwrap();
        let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
        png.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89]);
        let png = png.as_slice();
        let upload = |filename: &str, content_type: &str, bytes: &[u8]| {
            let (header, body) = multipart("file", filename, content_type, bytes);
            actix_test::TestRequest::post()
                .uri(&format!("/api/v1/cases/{id}/documents"))
                .insert_header(("Authorization", format!("Bearer {}", users.soest)))
                .insert_header(("Content-Type", header))
                .set_payload(body)
                .to_request()
        };
        let stored = actix_test::call_service(&app, upload("Lageplan Kreishaus.png", "image/png", png)).await;
        assert_eq!(stored.status(), StatusCode::CREATED);
        let document: Value = actix_test::read_body_json(stored).await;
        assert_eq!(document["content_type"], "image/png");
        assert!(crate::support::api::is_utc_instant(&document["created_at"]), "{}", document["created_at"]);

        let lying = actix_test::call_service(&app, upload("antrag.pdf", "application/pdf", png)).await;
        assert_eq!(lying.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let empty = actix_test::call_service(&app, upload("leer.pdf", "application/pdf", b"")).await;
        assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = actix_test::call_service(&app, upload("x.html", "text/html", b"<html><script>alert(1)</script></html>")).await;
        assert_eq!(html.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let listed = call!(app, get, format!("/api/v1/cases/{id}/documents"), users.soest, None);
        assert_eq!(listed.body.as_array().unwrap().len(), 1, "rejected uploads store nothing");
        assert_eq!(listed.body[0]["created_at"], document["created_at"]);

        // The upload is in the case's journal, chained after the case's start, naming the
        // content by its hash; the refused uploads left no entry, and the version is unchanged.
        let journal = call!(app, get, format!("/api/v1/cases/{id}/journal"), users.soest, None);
        let entries = journal.body.as_array().unwrap();
        let uploads: Vec<&Value> = entries.iter().filter(|e| e["kind"] == "document_uploaded").collect();
        assert_eq!(uploads.len(), 1, "one entry per stored document: {entries:?}");
        let entry = uploads[0];
        assert_eq!(entry["actor"], "k@kreis-soest.de");
        assert_eq!(entry["payload"]["document"], document["id"]);
        assert_eq!(entry["payload"]["filename"], "Lageplan Kreishaus.png");
        assert_eq!(entry["payload"]["sha256"], document["sha256"]);
        assert_eq!(entry["payload"]["partner_visible"], false);
        assert_eq!(entry["seq"], entries.len(), "the upload is the newest entry");
        assert_eq!(entry["prev_hash"], entries[entries.len() - 2]["hash"]);
        let case = call!(app, get, format!("/api/v1/cases/{id}"), users.soest, None);
        assert_eq!(case.body["version"], created.body["version"]);
        let report = vorgang::journal::verify(&mut db.connection()).unwrap();
        assert!(report.intact(), "{:?}", report.breaks);

        let download = actix_test::TestRequest::get()
            .uri(&format!("/api/v1/cases/{id}/documents/{}", document["id"]))
            .insert_header(("Authorization", format!("Bearer {}", users.soest)))
            .to_request();
        let response = actix_test::call_service(&app, download).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers().get("content-type").unwrap(), "image/png");
        assert!(response.headers().get("content-disposition").unwrap().to_str().unwrap().contains("Lageplan"));
        assert_eq!(actix_test::read_body(response).await.as_ref(), png);

        let foreign = call!(app, get, format!("/api/v1/cases/{id}/documents/{}", document["id"]), users.kleve, None);
        assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    }
}

both_backends! {
    async fn an_internal_vermerk_is_read_only_within_its_organisation(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let users = users(&db);
        let app = app!(db, dir.path());
        let created = call!(app, post, "/api/v1/cases", users.soest, Some(json!({ "workflow": "ki-antrag", "data": {} })));
        let id = created.body["id"].as_i64().unwrap();
        // Submitted, so that the Bewilligungsbehörde reads the case and may write Vermerke.
        crate::support::cases::mark_submitted(&mut db.connection(), id);
        let notes = format!("/api/v1/cases/{id}/notes");
        let write = |token: &str, text: &str, internal: bool| (token.to_string(), json!({ "text": text, "internal": internal }));

        let (token, body) = write(&users.soest, "Kämmerei: Eigenanteil noch offen.", true);
        let kreis = call!(app, post, notes, token, Some(body));
        assert_eq!(kreis.status, StatusCode::CREATED, "{}", kreis.body);
        let soest_org = kreis.body["payload"]["internal_to"].clone();
        assert!(soest_org.is_i64(), "{}", kreis.body);
        assert_eq!(kreis.body["payload"]["text"], "Kämmerei: Eigenanteil noch offen.");
        let (token, body) = write(&users.kfi, "Prüfvermerk: Stellenplan fraglich.", true);
        let bezreg = call!(app, post, notes, token, Some(body));
        assert_eq!(bezreg.status, StatusCode::CREATED, "{}", bezreg.body);
        let kfi_org = bezreg.body["payload"]["internal_to"].clone();
        assert_ne!(kfi_org, soest_org);
        let (token, body) = write(&users.kfi, "Bitte den Stellenplan nachreichen.", false);
        let open = call!(app, post, notes, token, Some(body));
        assert_eq!(open.body["payload"], json!({ "text": "Bitte den Stellenplan nachreichen." }));

        // Each reads its own organisation's internal Vermerk; the other's stands in its place
        // with time, author and hashes, without its text. Administrators read all.
        let journal = |token: &str| (format!("/api/v1/cases/{id}/journal"), token.to_string());
        let withheld = |org: &Value| json!({ "internal_to": org, "withheld": true });
        let mut seen = Vec::new();
        for (who, token, kreis_payload, bezreg_payload) in [
            ("Koordination Soest", &users.soest, kreis.body["payload"].clone(), withheld(&kfi_org)),
            ("Lesen Soest", &users.reader_soest, kreis.body["payload"].clone(), withheld(&kfi_org)),
            ("Bewilligung", &users.kfi, withheld(&soest_org), bezreg.body["payload"].clone()),
            ("Administration", &users.admin, kreis.body["payload"].clone(), bezreg.body["payload"].clone()),
        ] {
            let (uri, token) = journal(token);
            let read = call!(app, get, uri, token, None);
            assert_eq!(read.status, StatusCode::OK, "{who}: {}", read.body);
            let entries = read.body.as_array().unwrap().clone();
            let at = |seq: &Value| entries.iter().find(|e| e["seq"] == *seq).unwrap().clone();
            let (k, b) = (at(&kreis.body["seq"]), at(&bezreg.body["seq"]));
            assert_eq!(k["payload"], kreis_payload, "{who}");
            assert_eq!(b["payload"], bezreg_payload, "{who}");
            for (entry, written) in [(&k, &kreis.body), (&b, &bezreg.body)] {
                for key in ["at", "actor", "kind", "prev_hash", "hash"] {
                    assert_eq!(entry[key], written[key], "{who}: {key}");
                }
            }
            assert_eq!(at(&open.body["seq"])["payload"], open.body["payload"], "{who}");
            for pair in entries.windows(2) {
                assert_eq!(pair[1]["prev_hash"], pair[0]["hash"], "{who}: the chain shows no gap");
            }
            seen.push(read.body.to_string());
        }
        assert!(!seen[2].contains("Eigenanteil"), "{}", seen[2]);
        assert!(!seen[0].contains("fraglich") && !seen[1].contains("fraglich"));
        assert!(vorgang::journal::verify(&mut db.connection()).unwrap().intact());

        // Searching finds a case by the words of a Vermerk the searcher may read, never by
        // another organisation's internal one.
        for (who, token, q, found) in [
            ("Koordination Soest", &users.soest, "eigenanteil", true),
            ("Lesen Soest", &users.reader_soest, "eigenanteil", true),
            ("Bewilligung", &users.kfi, "eigenanteil", false),
            ("Koordination Soest", &users.soest, "stellenplan fraglich", false),
            ("Bewilligung", &users.kfi, "stellenplan fraglich", true),
            ("Koordination Soest", &users.soest, "stellenplan nachreichen", true),
            ("Administration", &users.admin, "eigenanteil", true),
            ("Administration", &users.admin, "stellenplan fraglich", true),
        ] {
            let q = percent_encoding::utf8_percent_encode(q, percent_encoding::NON_ALPHANUMERIC);
            let (uri, token) = (format!("/api/v1/cases?q={q}"), token.to_string());
            let listed = call!(app, get, uri, token, None);
            assert_eq!(listed.status, StatusCode::OK, "{who}: {}", listed.body);
            assert_eq!(listed.body["total"], i64::from(found), "{who} searching {q}");
        }

        // `internal` must be a truth value.
        let refused = call!(app, post, notes, users.soest, Some(json!({ "text": "x", "internal": "ja" })));
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    }
}

both_backends! {
    async fn a_vermerk_joins_the_journal_without_a_new_version(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let users = users(&db);
        let app = app!(db, dir.path());
        let created = call!(app, post, "/api/v1/cases", users.soest, Some(json!({ "workflow": "ki-antrag", "data": {} })));
        let id = created.body["id"].as_i64().unwrap();
        let version = created.body["version"].clone();
        let notes = format!("/api/v1/cases/{id}/notes");

        let text = "Telefonat mit dem Schulamt:\nRückmeldung bis Freitag zugesagt.";
        let added = call!(app, post, notes, users.soest, Some(json!({ "text": format!("  {text}\r\n") })));
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
        assert_eq!(added.body["kind"], "note_added");
        assert_eq!(added.body["actor"], "k@kreis-soest.de");
        assert_eq!(added.body["payload"], json!({ "text": text }), "trimmed, lines kept");
        let journal = call!(app, get, format!("/api/v1/cases/{id}/journal"), users.soest, None);
        let entries = journal.body.as_array().unwrap();
        assert_eq!(entries.last().unwrap(), &added.body, "the answer is the stored entry");
        assert_eq!(entries[entries.len() - 2]["hash"], added.body["prev_hash"], "chained");
        let case = call!(app, get, format!("/api/v1/cases/{id}"), users.soest, None);
        assert_eq!(case.body["version"], version, "a Vermerk leaves the version alone");
        assert!(vorgang::journal::verify(&mut db.connection()).unwrap().intact());

        // Bad input: a problem at `/text`, and nothing written.
        for (body, status, pointer) in [
            (json!({ "text": " \n " }), StatusCode::UNPROCESSABLE_ENTITY, Some("/text")),
            (json!({ "text": "x".repeat(20_001) }), StatusCode::UNPROCESSABLE_ENTITY, Some("/text")),
            (json!({ "text": "a\u{7}b" }), StatusCode::UNPROCESSABLE_ENTITY, Some("/text")),
            (json!({ "text": "x", "version": 1 }), StatusCode::BAD_REQUEST, None),
            (json!({}), StatusCode::BAD_REQUEST, None),
        ] {
            let refused = call!(app, post, notes, users.soest, Some(body.clone()));
            assert_eq!(refused.status, status, "{body}: {}", refused.body);
            assert_eq!(refused.content_type, "application/problem+json");
            if let Some(pointer) = pointer {
                assert_eq!(refused.body["errors"][0]["pointer"], pointer, "{}", refused.body);
            }
        }
        // A reader may not write one, another Kreis does not see the case.
        let reader = call!(app, post, notes, users.reader_soest, Some(json!({ "text": "Gelesen." })));
        assert_eq!(reader.status, StatusCode::FORBIDDEN, "{}", reader.body);
        let foreign = call!(app, post, notes, users.kleve, Some(json!({ "text": "Hallo." })));
        assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", foreign.body);
        let missing = call!(app, post, "/api/v1/cases/999999/notes", users.admin, Some(json!({ "text": "Hallo." })));
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
        let journal = call!(app, get, format!("/api/v1/cases/{id}/journal"), users.soest, None);
        assert_eq!(journal.body.as_array().unwrap().len(), entries.len(), "nothing more was written");

        // The list finds a case by a Vermerk's words, in any case; only inside the text (the
        // stored key `text` finds nothing), quotation marks included, and only readable cases.
        let other = call!(app, post, "/api/v1/cases", users.soest, Some(json!({ "workflow": "ki-antrag", "data": {} })));
        let other = other.body["id"].as_i64().unwrap();
        let quoted = call!(app, post, format!("/api/v1/cases/{other}/notes"), users.soest, Some(json!({ "text": "Zitat: \"Räume 100% frei\"" })));
        assert_eq!(quoted.status, StatusCode::CREATED);
        let found = |q: &str, who: &str| {
            let q = percent_encoding::utf8_percent_encode(q, percent_encoding::NON_ALPHANUMERIC);
            (format!("/api/v1/cases?q={q}"), who.to_string())
        };
        for (q, expected) in [
            ("schulamt:\nrückmeldung", vec![id]), // across the line break
            (r"schulamt:\nrückmeldung", vec![]), // a typed backslash is no line break
            ("RÜCKMELDUNG BIS", vec![id]),
            ("schulamt", vec![id]),
            ("text", vec![]),
            ("\"räume 100% frei\"", vec![other]),
            ("100%", vec![other]),
            ("SOEST", vec![other, id]),
        ] {
            let (uri, token) = found(q, &users.soest);
            let listed = call!(app, get, uri, token, None);
            assert_eq!(listed.status, StatusCode::OK, "{q}: {}", listed.body);
            let ids: Vec<i64> = listed.body["items"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
            assert_eq!(ids, expected, "q={q}");
        }
        let (uri, token) = found("schulamt", &users.kleve);
        let foreign = call!(app, get, uri, token, None);
        assert_eq!(foreign.body["total"], 0, "another Kreis finds nothing by its words");
    }
}

both_backends! {
    async fn wiedervorlagen_are_set_listed_and_closed(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let users = users(&db);
        let app = app!(db, dir.path());
        let created = call!(app, post, "/api/v1/cases", users.soest, Some(json!({ "workflow": "ki-antrag", "data": {} })));
        let id = created.body["id"].as_i64().unwrap();
        let path = format!("/api/v1/cases/{id}/follow-ups");
        let today = vorgang::service::clock::now().today;
        let day = |days: u64| (today + chrono::Days::new(days)).format("%Y-%m-%d").to_string();

        let later = call!(app, post, path, users.soest, Some(json!({ "due": day(7), "reason": "Sitzungstermin erfragen" })));
        assert_eq!(later.status, StatusCode::CREATED, "{}", later.body);
        let sooner = call!(app, post, path, users.soest, Some(json!({ "due": day(1), "reason": " Rückmeldung prüfen " })));
        assert_eq!(sooner.body["reason"], "Rückmeldung prüfen");
        assert_eq!(sooner.body["due"], day(1));
        assert_eq!(sooner.body["set_by"], "Test Person", "the display name of whoever set it");
        // The caller's own, across cases; another user has none.
        let mine = call!(app, get, "/api/v1/follow-ups", users.soest, None);
        assert_eq!(mine.status, StatusCode::OK);
        let own: Vec<(&str, i64, &str)> = mine.body.as_array().unwrap().iter().map(|f| (f["reason"].as_str().unwrap(), f["case_id"].as_i64().unwrap(), f["aktenzeichen"].as_str().unwrap())).collect();
        let az = created.body["aktenzeichen"].as_str().unwrap();
        assert_eq!(own, [("Rückmeldung prüfen", id, az), ("Sitzungstermin erfragen", id, az)]);
        assert_eq!(call!(app, get, "/api/v1/follow-ups", users.reader_soest, None).body, json!([]));
        let listed = call!(app, get, path, users.reader_soest, None);
        assert_eq!(listed.status, StatusCode::OK);
        let reasons: Vec<&str> = listed.body.as_array().unwrap().iter().map(|f| f["reason"].as_str().unwrap()).collect();
        assert_eq!(reasons, ["Rückmeldung prüfen", "Sitzungstermin erfragen"], "earliest first");

        // Bad input: every problem at its pointer; a reader may not set one; nothing stored.
        let yesterday = (today - chrono::Days::new(1)).format("%Y-%m-%d").to_string();
        let refused = call!(app, post, path, users.soest, Some(json!({ "due": yesterday, "reason": "" })));
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        let pointers: Vec<&str> = refused.body["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
        assert_eq!(pointers, ["/due", "/reason"]);
        let garbage = call!(app, post, path, users.soest, Some(json!({ "due": "morgen", "reason": "x" })));
        assert_eq!(garbage.body["errors"][0]["pointer"], "/due", "{}", garbage.body);
        assert_eq!(call!(app, post, path, users.soest, Some(json!({ "due": day(1) }))).status, StatusCode::BAD_REQUEST);
        assert_eq!(call!(app, post, path, users.reader_soest, Some(json!({ "due": day(1), "reason": "x" }))).status, StatusCode::FORBIDDEN);
        assert_eq!(call!(app, post, path, users.kleve, Some(json!({ "due": day(1), "reason": "x" }))).status, StatusCode::NOT_FOUND);
        assert_eq!(call!(app, get, path, users.soest, None).body.as_array().unwrap().len(), 2);

        // Submitted, the case is open to the Bewilligungsbehörde, but not the applicant's notes.
        crate::support::cases::mark_submitted(&mut db.connection(), id);
        assert_eq!(call!(app, get, path, users.kfi, None).body, json!([]));
        let foreign = call!(app, post, format!("{path}/{}/done", sooner.body["id"]), users.kfi, None);
        assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", foreign.body);
        assert_eq!(call!(app, get, path, users.soest, None).body.as_array().unwrap().len(), 2);

        // Closing: 204, again 204, an unknown one 404; the list keeps the other.
        let done = format!("{path}/{}/done", sooner.body["id"]);
        assert_eq!(call!(app, post, done, users.soest, None).status, StatusCode::NO_CONTENT);
        assert_eq!(call!(app, post, done, users.soest, None).status, StatusCode::NO_CONTENT);
        assert_eq!(call!(app, post, format!("{path}/999999/done"), users.soest, None).status, StatusCode::NOT_FOUND);
        let left = call!(app, get, path, users.soest, None);
        assert_eq!(left.body.as_array().unwrap().len(), 1);
        assert_eq!(left.body[0]["reason"], "Sitzungstermin erfragen");
        // The case itself is untouched.
        let case = call!(app, get, format!("/api/v1/cases/{id}"), users.soest, None);
        assert_eq!(case.body["version"], created.body["version"]);
    }
}

/// `POST /api/v1/cases/{id}/documents` of a PDF named `filename` with the further text fields
/// `fields` (`internal`, `partner_visible`).
fn upload_with(
    id: i64,
    token: &str,
    filename: &str,
    fields: &[(&str, &str)],
) -> actix_test::TestRequest {
    let boundary = "vorgangtestgrenze";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/pdf\r\n\r\n").as_bytes());
    body.extend_from_slice(crate::beteiligung::PDF);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    actix_test::TestRequest::post()
        .uri(&format!("/api/v1/cases/{id}/documents"))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header((
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        ))
        .set_payload(body)
}

both_backends! {
    async fn an_internal_document_is_seen_only_within_its_organisation(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let users = users(&db);
        let app = app!(db, dir.path());
        let created = call!(app, post, "/api/v1/cases", users.soest, Some(json!({ "workflow": "ki-antrag", "data": {} })));
        let id = created.body["id"].as_i64().unwrap();
        crate::support::cases::mark_submitted(&mut db.connection(), id);
        let send = |request: actix_test::TestRequest| {
            let app = &app;
            async move {
                let response = actix_test::call_service(app, request.to_request()).await;
                let status = response.status();
                let body: Value = serde_json::from_slice(&actix_test::read_body(response).await).unwrap_or(Value::Null);
                (status, body)
            }
        };

        let (status, kreis) = send(upload_with(id, &users.soest, "Eigenanteil Kämmerei.pdf", &[("internal", "true")])).await;
        assert_eq!(status, StatusCode::CREATED, "{kreis}");
        let soest_org = kreis["internal_to"].clone();
        assert!(soest_org.is_i64(), "{kreis}");
        let (status, bezreg) = send(upload_with(id, &users.kfi, "Prüfvermerk Stellenplan.pdf", &[("internal", "ja")])).await;
        assert_eq!(status, StatusCode::CREATED, "{bezreg}");
        assert_ne!(bezreg["internal_to"], soest_org);
        let (status, shared) = send(upload_with(id, &users.soest, "Konzept.pdf", &[("internal", "false")])).await;
        assert_eq!(status, StatusCode::CREATED, "{shared}");
        assert_eq!(shared["internal_to"], Value::Null);

        // Internal and shown to the partners at once, or a value that is no yes or no: refused,
        // nothing stored.
        let (status, both) = send(upload_with(id, &users.soest, "Beides.pdf", &[("internal", "1"), ("partner_visible", "1")])).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{both}");
        assert!(both["detail"].as_str().unwrap().contains("Ein internes Dokument kann nicht für Beteiligte sichtbar sein"), "{both}");
        assert_eq!(both["errors"][0]["pointer"], "/internal", "{both}");
        let (status, unclear) = send(upload_with(id, &users.soest, "Unklar.pdf", &[("internal", "vielleicht")])).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{unclear}");
        assert!(unclear["detail"].as_str().unwrap().contains("„internal“ muss „true“ oder „false“ sein"), "{unclear}");

        // Each organisation lists and downloads its own internal documents and the shared
        // one; another's is not found. Administrators see all.
        let names = |token: &str| {
            let (uri, token) = (format!("/api/v1/cases/{id}/documents"), token.to_string());
            let app = &app;
            async move {
                let listed = call!(app, get, uri, token, None);
                assert_eq!(listed.status, StatusCode::OK);
                listed.body.as_array().unwrap().iter().map(|d| d["filename"].as_str().unwrap().to_string()).collect::<Vec<_>>()
            }
        };
        assert_eq!(names(&users.soest).await, ["Eigenanteil Kämmerei.pdf", "Konzept.pdf"]);
        assert_eq!(names(&users.reader_soest).await, ["Eigenanteil Kämmerei.pdf", "Konzept.pdf"]);
        assert_eq!(names(&users.kfi).await, ["Prüfvermerk Stellenplan.pdf", "Konzept.pdf"]);
        assert_eq!(names(&users.admin).await, ["Eigenanteil Kämmerei.pdf", "Prüfvermerk Stellenplan.pdf", "Konzept.pdf"]);
        let download = |doc: &Value, token: &str| (format!("/api/v1/cases/{id}/documents/{doc}"), token.to_string());
        for (who, doc, token, status) in [
            ("Lesen Soest", &kreis["id"], &users.reader_soest, StatusCode::OK),
            ("Bewilligung", &kreis["id"], &users.kfi, StatusCode::NOT_FOUND),
            ("Koordination Soest", &bezreg["id"], &users.soest, StatusCode::NOT_FOUND),
            ("Administration", &bezreg["id"], &users.admin, StatusCode::OK),
        ] {
            let (uri, token) = download(doc, token);
            assert_eq!(call!(app, get, uri, token, None).status, status, "{who}");
        }

        // In the journal another organisation sees that a document arrived, not which.
        let (uri, token) = (format!("/api/v1/cases/{id}/journal"), users.kfi.clone());
        let journal = call!(app, get, uri, token, None);
        let uploads: Vec<Value> = journal.body.as_array().unwrap().iter()
            .filter(|e| e["kind"] == "document_uploaded").map(|e| e["payload"].clone()).collect();
        assert_eq!(uploads[0], json!({ "internal_to": soest_org, "withheld": true }));
        assert_eq!(uploads[1]["filename"], "Prüfvermerk Stellenplan.pdf");
        assert_eq!(uploads[1]["internal_to"], bezreg["internal_to"]);
        assert_eq!(uploads[2]["filename"], "Konzept.pdf");
        assert!(vorgang::journal::verify(&mut db.connection()).unwrap().intact());

        // The case file the Bewilligungsbehörde exports holds neither the document nor its name.
        let export = actix_test::call_service(&app, actix_test::TestRequest::get()
            .uri(&format!("/api/v1/cases/{id}/export"))
            .insert_header(("Authorization", format!("Bearer {}", users.kfi))).to_request()).await;
        assert_eq!(export.status(), StatusCode::OK);
        let bytes = actix_test::read_body(export).await;
        let archive = vorgang::documents::zip::Archive::parse(&bytes).expect("a ZIP archive");
        let mut everything = String::new();
        for entry in archive.entries() {
            everything.push_str(&entry.name);
            everything.push_str(&String::from_utf8_lossy(archive.stored_content(&entry.name, 1 << 26).unwrap()));
        }
        assert!(!everything.contains("Eigenanteil"), "another organisation's internal document leaked");
        assert!(everything.contains("Prüfvermerk Stellenplan") && everything.contains("Konzept.pdf"));
    }
}

both_backends! {
    async fn a_workflow_version_comes_as_bpmn_for_modelling_tools(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let users = users(&db);
        let app = app!(db, dir.path());
        let get = |uri: &str, token: Option<&str>| {
            let mut request = actix_test::TestRequest::get().uri(uri);
            if let Some(token) = token {
                request = request.insert_header(("Authorization", format!("Bearer {token}")));
            }
            request.to_request()
        };

        // Anyone who may read workflows gets the newest version, named after key and version.
        for token in [&users.soest, &users.reader_soest, &users.kfi] {
            let response = actix_test::call_service(&app, get("/api/v1/workflows/ki-betrieb/bpmn", Some(token))).await;
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.headers().get("content-type").unwrap(), "application/xml; charset=utf-8");
            let disposition = response.headers().get("content-disposition").unwrap().to_str().unwrap().to_string();
            assert!(disposition.starts_with("attachment; filename=\"ki-betrieb-v1.bpmn\""), "{disposition}");
            let body = String::from_utf8(actix_test::read_body(response).await.to_vec()).unwrap();
            let xml = roxmltree::Document::parse(&body).unwrap();
            let tasks = xml.descendants().filter(|n| n.tag_name().name() == "userTask").count();
            let timers = xml.descendants().filter(|n| n.tag_name().name() == "boundaryEvent").count();
            assert!(tasks >= 8 && timers >= 8, "{tasks} tasks, {timers} timers");
            assert!(xml.descendants().any(|n| n.tag_name().name() == "BPMNDiagram"));
        }
        let first = actix_test::call_service(&app, get("/api/v1/workflows/ki-antrag/bpmn?version=1", Some(&users.soest))).await;
        assert_eq!(first.status(), StatusCode::OK);

        // What does not exist, or is no version, is a problem, not the newest version.
        for (uri, status) in [
            ("/api/v1/workflows/ki-antrag/bpmn?version=2", StatusCode::NOT_FOUND),
            ("/api/v1/workflows/gibt-es-nicht/bpmn", StatusCode::NOT_FOUND),
            ("/api/v1/workflows/ki-antrag/bpmn?version=zwei", StatusCode::BAD_REQUEST),
        ] {
            let response = actix_test::call_service(&app, get(uri, Some(&users.soest))).await;
            assert_eq!(response.status(), status, "{uri}");
            assert_eq!(response.headers().get("content-type").unwrap(), "application/problem+json", "{uri}");
            let problem: Value = actix_test::read_body_json(response).await;
            assert!(!problem["title"].as_str().unwrap().is_empty(), "{problem}");
        }
        let anonymous = actix_test::call_service(&app, get("/api/v1/workflows/ki-antrag/bpmn", None)).await;
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    }
}

both_backends! {
    async fn a_bpmn_file_comes_back_as_a_draft_definition_and_nothing_is_deployed(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let users = users(&db);
        let app = app!(db, dir.path());
        let deployed = |db: &TestDatabase| DefinitionRow::history(&mut db.connection(), "ki-betrieb").unwrap().len();
        let before = deployed(&db);
        let post = |token: &str, content_type: &str, body: Vec<u8>| {
            actix_test::TestRequest::post()
                .uri("/api/v1/workflow-drafts")
                .insert_header(("Authorization", format!("Bearer {token}")))
                .insert_header(("Content-Type", content_type.to_string()))
                .set_payload(body)
                .to_request()
        };
        let exported = actix_test::call_service(&app, actix_test::TestRequest::get()
            .uri("/api/v1/workflows/ki-betrieb/bpmn")
            .insert_header(("Authorization", format!("Bearer {}", users.admin)))
            .to_request()).await;
        let xml = actix_test::read_body(exported).await.to_vec();

        let response = actix_test::call_service(&app, post(&users.admin, "application/xml", xml.clone())).await;
        assert_eq!(response.status(), StatusCode::OK);
        let draft: Value = actix_test::read_body_json(response).await;
        assert_eq!(draft["workflow"], "ki-betrieb");
        assert_eq!(draft["title"], "Betrieb eines Kommunalen Integrationszentrums");
        let source = draft["source"].as_str().unwrap();
        let parsed = vorgang::engine::load::parse_definition("entwurf.yaml", source).unwrap();
        let original = vorgang::engine::load::parse_definition(
            "ki-betrieb.yaml",
            &DefinitionRow::latest(&mut db.connection(), "ki-betrieb").unwrap().unwrap().source,
        ).unwrap();
        assert_eq!(parsed.steps.keys().collect::<Vec<_>>(), original.steps.keys().collect::<Vec<_>>());
        assert!(draft["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("Datenfelder")), "{draft}");
        assert_eq!(deployed(&db), before, "a draft is deployed nowhere");

        // Bad input is a problem and changes nothing.
        let large = vec![b' '; vorgang::bpmn_import::MAX_BPMN_BYTES + 1];
        for (token, content_type, body, status) in [
            (&users.admin, "application/yaml", xml.clone(), StatusCode::UNSUPPORTED_MEDIA_TYPE),
            (&users.admin, "application/xml", b"<definitions".to_vec(), StatusCode::UNPROCESSABLE_ENTITY),
            (&users.admin, "text/xml", b"<leer/>".to_vec(), StatusCode::UNPROCESSABLE_ENTITY),
            (&users.admin, "application/xml", vec![0xff, 0xfe], StatusCode::BAD_REQUEST),
            (&users.admin, "application/xml", large, StatusCode::PAYLOAD_TOO_LARGE),
            (&users.soest, "application/xml", xml.clone(), StatusCode::FORBIDDEN),
        ] {
            let response = actix_test::call_service(&app, post(token, content_type, body)).await;
            assert_eq!(response.status(), status);
            assert_eq!(response.headers().get("content-type").unwrap(), "application/problem+json", "{status}");
            let problem: Value = actix_test::read_body_json(response).await;
            assert!(!problem["detail"].as_str().unwrap_or_default().is_empty() || status == StatusCode::FORBIDDEN, "{problem}");
        }
        assert_eq!(deployed(&db), before);
    }
}

both_backends! {
    /// PostgreSQL can neither store a NUL character nor compare text with one; SQLite can. On
    /// both, a NUL in a body, a query or an address is refused before it reaches the database.
    async fn nul_characters_are_refused_wherever_they_arrive(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let users = users(&db);
        let app = app!(db, dir.path());
        let created = call!(app, post, "/api/v1/cases", users.soest, Some(json!({ "workflow": "ki-antrag" })));
        let id = created.body["id"].as_i64().unwrap();
        let journal = |db: &TestDatabase| vorgang::journal::list(&mut db.connection(), id).unwrap().len();
        let entries = journal(&db);

        let bodies: Vec<(&str, String, Value)> = vec![
            ("post", "/api/v1/cases".into(), json!({ "workflow": "ki-antrag\u{0}" })),
            ("post", "/api/v1/cases".into(), json!({ "workflow": "ki-antrag", "data": { "zentrum_name": "KI\u{0}" } })),
            ("patch", format!("/api/v1/cases/{id}/data"), json!({ "version": 1, "data": { "zentrum_name": "KI\u{0}" } })),
            ("patch", format!("/api/v1/cases/{id}/data"), json!({ "version": 1, "data": { "standorte": [{ "anschrift": "\u{0}" }] } })),
            ("post", format!("/api/v1/cases/{id}/notes"), json!({ "text": "a\u{0}b" })),
        ];
        for (method, uri, body) in bodies {
            let reply = match method {
                "post" => call!(app, post, uri, users.soest, Some(body)),
                _ => call!(app, patch, uri, users.soest, Some(body)),
            };
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{method} {uri}: {}", reply.body);
            assert_eq!(reply.content_type, "application/problem+json");
            assert!(reply.body["detail"].as_str().unwrap().contains("NUL-Zeichen"), "{}", reply.body);
        }
        for (uri, status) in [
            ("/api/v1/cases?q=%00", StatusCode::BAD_REQUEST),
            ("/api/v1/cases?workflow=ki%00", StatusCode::BAD_REQUEST),
            ("/api/v1/workflows/ki%00antrag", StatusCode::NOT_FOUND),
            ("/api/v1/workflows/ki-antrag/bpmn?version=%00", StatusCode::BAD_REQUEST),
        ] {
            let reply = call!(app, get, uri, users.soest, None);
            assert_eq!(reply.status, status, "{uri}: {}", reply.body);
            assert_eq!(reply.content_type, "application/problem+json", "{uri}");
        }
        let cases: i64 = {
            use diesel::prelude::*;
            vorgang::db::schema::cases::table.count().get_result(&mut db.connection()).unwrap()
        };
        assert_eq!(cases, 1);
        assert_eq!(journal(&db), entries);
        let case = call!(app, get, format!("/api/v1/cases/{id}"), users.soest, None);
        assert_eq!(case.body["version"], 1);

        // An address with NUL is no account: refused like any unknown one.
        let login = actix_test::call_service(
            &app,
            actix_test::TestRequest::post()
                .uri("/api/v1/auth/token")
                .set_json(json!({ "email": "k@kreis-soest.de\u{0}", "password": "x" }))
                .to_request(),
        )
        .await;
        assert_eq!(login.status(), StatusCode::UNAUTHORIZED);
    }
}
