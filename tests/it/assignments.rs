//! Zuständigkeit over the API, on both databases: each organisation names who works on a case
//! and sees only its own; only active people who work on cases can be named; the list filters
//! by it; neither the case nor its journal changes.

use actix_web::http::StatusCode;
use actix_web::test as actix_test;
use diesel::prelude::*;
use serde_json::{Value, json};
use vorgang::db::models::Role;
use vorgang::db::schema::{case_events, cases, outbox, users};

use crate::support::TestDatabase;
use crate::support::api::send;
use crate::support::auth::{create_user, staff_token, test_auth};

fn get(uri: &str, token: &str) -> actix_test::TestRequest {
    actix_test::TestRequest::get()
        .uri(uri)
        .insert_header(("Authorization", format!("Bearer {token}")))
}

fn put(uri: &str, token: &str, body: Value) -> actix_test::TestRequest {
    actix_test::TestRequest::put()
        .uri(uri)
        .insert_header(("Authorization", format!("Bearer {token}")))
        .set_json(body)
}

/// The mails about Zuständigkeit in the outbox, oldest first: (case, subject, rendered mail).
fn told(db: &TestDatabase) -> Vec<(Option<i64>, String, String)> {
    outbox::table
        .filter(outbox::template.eq("zustaendigkeit"))
        .order(outbox::id)
        .select((outbox::case_id, outbox::subject, outbox::rendered))
        .load(&mut db.connection())
        .unwrap()
}

/// The ids of `GET /api/v1/cases?assignee=me` for `token`.
macro_rules! mine {
    ($app:expr, $token:expr) => {{
        let listed = send!($app, get("/api/v1/cases?assignee=me", $token));
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
        listed.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect::<Vec<i64>>()
    }};
}

both_backends! {
    async fn each_organisation_names_who_works_on_a_case(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let [anna, ben, leser, kleve, pruefer, kollegin] = {
            let mut conn = db.connection();
            [
                ("anna@kreis-soest.de", "05974", Role::Koordination),
                ("ben@kreis-soest.de", "05974", Role::Koordination),
                ("leser@kreis-soest.de", "05974", Role::Lesen),
                ("k@kreis-kleve.de", "05154", Role::Koordination),
                ("pruefer@kfi.nrw.de", "KFI", Role::Bewilligung),
                ("kollegin@kfi.nrw.de", "KFI", Role::Bewilligung),
            ]
            .map(|(email, org, role)| staff_token(&create_user(&mut conn, email, org, &[role], None)))
        };
        let pool = db.pool(2);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;
        let mut ids = Vec::new();
        for _ in 0..2 {
            let created = send!(app, actix_test::TestRequest::post().uri("/api/v1/cases")
                .insert_header(("Authorization", format!("Bearer {anna}")))
                .set_json(json!({ "workflow": "ki-antrag" })));
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
            ids.push(created.body["id"].as_i64().unwrap());
        }
        let id = ids[0];
        let uri = format!("/api/v1/cases/{id}/assignee");
        let unchanged = |db: &TestDatabase| -> (Vec<i64>, i64) {
            let mut conn = db.connection();
            (
                cases::table.order(cases::id).select(cases::version).load(&mut conn).unwrap(),
                case_events::table.count().get_result(&mut conn).unwrap(),
            )
        };
        let before = unchanged(&db);

        // Nobody at first; Anna makes Ben responsible.
        let nobody = send!(app, get(&uri, &anna)).body;
        assert_eq!(nobody["assignee"], Value::Null);
        // Who can be named: the Kreis's people who work on cases, not its reader, nobody elsewhere.
        let candidates: Vec<&str> = nobody["candidates"].as_array().unwrap().iter().map(|c| c["email"].as_str().unwrap()).collect();
        assert_eq!(candidates, ["anna@kreis-soest.de", "ben@kreis-soest.de"], "{nobody}");
        let assigned = send!(app, put(&uri, &anna, json!({ "user": " Ben@Kreis-Soest.de " })));
        assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.body);
        assert_eq!((assigned.body["assignee"]["email"].clone(), assigned.body["assignee"]["by"].clone()), (json!("ben@kreis-soest.de"), json!("anna@kreis-soest.de")));
        assert_eq!(assigned.body["assignee"]["active"], true);
        let since = assigned.body["assignee"]["since"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(since).is_ok() && since.len() == 20 && since.ends_with('Z'), "{since}");
        assert_eq!(send!(app, get(&uri, &leser)).body["assignee"]["email"], "ben@kreis-soest.de", "a reader of the Kreis sees it");
        // An array is no body of this call, though serde would read `[null]` as `{"user": null}`.
        let array = send!(app, put(&uri, &anna, json!([null])));
        assert_eq!(array.status, StatusCode::BAD_REQUEST, "{}", array.body);
        assert_eq!(array.body["detail"], "Der Inhalt muss ein JSON-Objekt sein ({ … }), keine Liste.");
        assert_eq!(send!(app, get(&uri, &anna)).body["assignee"]["email"], "ben@kreis-soest.de", "still assigned");
        // Ben is told by mail, with the case's Aktenzeichen and not a word more in the subject.
        let aktenzeichen: String = cases::table.find(id).select(cases::aktenzeichen).first(&mut db.connection()).unwrap();
        let mails = told(&db);
        assert_eq!(mails.len(), 1, "{mails:?}");
        assert_eq!((mails[0].0, mails[0].1.as_str()), (None, format!("Zuständigkeit für {aktenzeichen}").as_str()));
        assert!(mails[0].2.contains(r#""to":["ben@kreis-soest.de"]"#) && mails[0].2.contains("Test Person hat Sie in Ihrer Organisation als zuständig für den Vorgang"), "{}", mails[0].2);
        // Assigned again: nothing changes, nobody is mailed twice.
        assert_eq!(send!(app, put(&uri, &anna, json!({ "user": "ben@kreis-soest.de" }))).body["assignee"]["by"], "anna@kreis-soest.de");
        assert_eq!(told(&db).len(), 1);

        // Someone who only reads, someone of another organisation, someone unknown or inactive:
        // refused at /user, nothing changes.
        diesel::update(users::table.filter(users::email.eq("kollegin@kfi.nrw.de"))).set(users::active.eq(false)).execute(&mut db.connection()).unwrap();
        for wrong in ["leser@kreis-soest.de", "k@kreis-kleve.de", "niemand@kreis-soest.de", "kollegin@kfi.nrw.de"] {
            let refused = send!(app, put(&uri, &anna, json!({ "user": wrong })));
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{wrong}: {}", refused.body);
            assert_eq!(refused.body["errors"][0]["pointer"], "/user");
            assert!(refused.body["errors"][0]["message"].as_str().unwrap().contains(&format!("„{wrong}“ gehört nicht dazu")), "{}", refused.body);
        }
        diesel::update(users::table.filter(users::email.eq("kollegin@kfi.nrw.de"))).set(users::active.eq(true)).execute(&mut db.connection()).unwrap();
        assert_eq!(send!(app, get(&uri, &anna)).body["assignee"]["email"], "ben@kreis-soest.de");
        assert_eq!(told(&db).len(), 1, "a refusal mails nobody");
        // Who may not write to the case may not assign it; another Kreis does not find it.
        assert_eq!(send!(app, put(&uri, &leser, json!({ "user": null }))).status, StatusCode::FORBIDDEN);
        assert_eq!(send!(app, put(&uri, &kleve, json!({ "user": null }))).status, StatusCode::NOT_FOUND);
        assert_eq!(send!(app, get(&uri, &kleve)).status, StatusCode::NOT_FOUND);
        assert_eq!(send!(app, put(&uri, &pruefer, json!({ "user": null }))).status, StatusCode::NOT_FOUND, "not yet submitted");
        assert_eq!(send!(app, put(&uri, &anna, json!({ "person": "ben@kreis-soest.de" }))).status, StatusCode::BAD_REQUEST);

        // The list: Ben's own cases only.
        assert_eq!(mine!(app, &ben), vec![id]);
        assert_eq!(mine!(app, &anna), Vec::<i64>::new());
        assert_eq!(send!(app, get("/api/v1/cases?assignee=ben", &anna)).status, StatusCode::BAD_REQUEST);

        // Submitted: the Bewilligungsbehörde names its own person; each sees only its own.
        crate::support::cases::mark_submitted(&mut db.connection(), id);
        assert_eq!(send!(app, get(&uri, &pruefer)).body["assignee"], Value::Null, "the Kreis's arrangement stays with the Kreis");
        let theirs = send!(app, put(&uri, &pruefer, json!({ "user": "kollegin@kfi.nrw.de" })));
        assert_eq!(theirs.status, StatusCode::OK, "{}", theirs.body);
        assert_eq!(send!(app, get(&uri, &anna)).body["assignee"]["email"], "ben@kreis-soest.de");
        assert_eq!(mine!(app, &kollegin), vec![id]);
        assert!(told(&db)[1].2.contains(r#""to":["kollegin@kfi.nrw.de"]"#), "{:?}", told(&db));
        assert_eq!(mine!(app, &ben), vec![id]);

        // Taken over by Anna, then nobody: the list follows.
        assert_eq!(send!(app, put(&uri, &anna, json!({ "user": "anna@kreis-soest.de" }))).body["assignee"]["email"], "anna@kreis-soest.de");
        assert_eq!((mine!(app, &anna), mine!(app, &ben)), (vec![id], Vec::new()));
        assert_eq!(told(&db).len(), 2, "taking a case over oneself mails nobody");
        assert_eq!(send!(app, put(&uri, &anna, json!({ "user": null }))).body["assignee"], Value::Null);
        assert_eq!(mine!(app, &anna), Vec::<i64>::new());
        assert_eq!(send!(app, get(&uri, &pruefer)).body["assignee"]["email"], "kollegin@kfi.nrw.de", "the other organisation's stays");

        // Neither the cases nor any journal changed (the submission above was set in the table).
        assert_eq!(unchanged(&db), before);
    }
}

both_backends! {
    fn concurrent_assignments_of_one_case_all_succeed_and_leave_one(backend) {
        use std::sync::{Arc, Barrier};
        use vorgang::auth::Principal;
        use vorgang::db::schema::case_assignments;

        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let people: Vec<Principal> = {
            let mut conn = db.connection();
            (0..4)
                .map(|i| {
                    let user = create_user(&mut conn, &format!("k{i}@kreis-soest.de"), "05974", &[Role::Koordination], None);
                    Principal::load(&mut conn, user.id).unwrap().unwrap()
                })
                .collect()
        };
        let pool = db.pool(4);
        let api = crate::support::api::state(&pool, dir.path());
        let id = {
            let mut conn = pool.get().unwrap();
            let soest = vorgang::db::models::Organisation::find_by_key(&mut conn, "05974").unwrap().unwrap();
            let actor = vorgang::engine::Actor { id: "k0@kreis-soest.de".into(), roles: vec!["koordination".into()] };
            vorgang::service::cases::start_case(&mut conn, &api.case_context(), "ki-antrag", &soest, json!({}), &actor, &vorgang::service::clock::now()).unwrap().row.id
        };
        let barrier = Arc::new(Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let (pool, api, barrier) = (pool.clone(), api.clone(), Arc::clone(&barrier));
                let by = people[i % 4].clone();
                let to = people[(i + 1) % 4].email.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    let mut conn = pool.get().unwrap();
                    let allow = |_| Ok(());
                    let at = chrono::Utc::now().naive_utc();
                    vorgang::service::assignments::assign(&mut conn, &api.outgoing, id, &by, Some(&to), at, &allow).map(|_| ())
                })
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let rows: i64 = case_assignments::table.count().get_result(&mut db.connection()).unwrap();
        assert_eq!(rows, 1);
    }
}

both_backends! {
    async fn a_vermerk_for_everyone_is_announced_to_whoever_is_responsible_elsewhere(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let [anna, pruefer] = {
            let mut conn = db.connection();
            create_user(&mut conn, "ben@kreis-soest.de", "05974", &[Role::Koordination], None);
            create_user(&mut conn, "kollegin@kfi.nrw.de", "KFI", &[Role::Bewilligung], None);
            [
                ("anna@kreis-soest.de", "05974", Role::Koordination),
                ("pruefer@kfi.nrw.de", "KFI", Role::Bewilligung),
            ]
            .map(|(email, org, role)| staff_token(&create_user(&mut conn, email, org, &[role], None)))
        };
        let pool = db.pool(2);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;
        let created = send!(app, actix_test::TestRequest::post().uri("/api/v1/cases")
            .insert_header(("Authorization", format!("Bearer {anna}")))
            .set_json(json!({ "workflow": "ki-antrag" })));
        let id = created.body["id"].as_i64().unwrap();
        let aktenzeichen = created.body["aktenzeichen"].as_str().unwrap().to_string();
        crate::support::cases::mark_submitted(&mut db.connection(), id);
        let note = |token: &str, text: &str, internal: bool| actix_test::TestRequest::post()
            .uri(&format!("/api/v1/cases/{id}/notes"))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .set_json(json!({ "text": text, "internal": internal }));
        let announced = |db: &TestDatabase| -> Vec<(String, String)> {
            outbox::table
                .filter(outbox::template.eq("vermerk_eingegangen"))
                .order(outbox::id)
                .select((outbox::subject, outbox::rendered))
                .load(&mut db.connection())
                .unwrap()
        };

        // Nobody responsible anywhere: nobody is mailed.
        assert_eq!(send!(app, note(&anna, "Telefonat mit dem Schulamt", false)).status, StatusCode::CREATED);
        assert_eq!(announced(&db).len(), 0);

        // Each side names its person.
        let uri = format!("/api/v1/cases/{id}/assignee");
        assert_eq!(send!(app, put(&uri, &anna, json!({ "user": "ben@kreis-soest.de" }))).status, StatusCode::OK);
        assert_eq!(send!(app, put(&uri, &pruefer, json!({ "user": "kollegin@kfi.nrw.de" }))).status, StatusCode::OK);

        // The Kreis writes for everyone: the KfI's person is told, not Ben of the Kreis, and not
        // what was written.
        assert_eq!(send!(app, note(&anna, "Rückfrage der Kämmerei geklärt", false)).status, StatusCode::CREATED);
        let mails = announced(&db);
        assert_eq!(mails.len(), 1, "{mails:?}");
        assert_eq!(mails[0].0, format!("Neuer Vermerk zu {aktenzeichen}"));
        assert!(mails[0].1.contains(r#""to":["kollegin@kfi.nrw.de"]"#), "{}", mails[0].1);
        assert!(mails[0].1.contains("Test Person (Kreis Soest) hat zum Vorgang"), "{}", mails[0].1);
        assert!(!mails[0].1.contains("Kämmerei"), "the text stays in the file: {}", mails[0].1);
        // An internal Vermerk stays with the Kreis: nobody is told.
        assert_eq!(send!(app, note(&anna, "Intern: Haushaltsmittel", true)).status, StatusCode::CREATED);
        assert_eq!(announced(&db).len(), 1);
        // The KfI writes: Ben is told.
        assert_eq!(send!(app, note(&pruefer, "Unterlagen vollständig", false)).status, StatusCode::CREATED);
        let mails = announced(&db);
        assert_eq!(mails.len(), 2, "{mails:?}");
        assert!(mails[1].1.contains(r#""to":["ben@kreis-soest.de"]"#), "{}", mails[1].1);
        // A deactivated person is no longer told.
        diesel::update(users::table.filter(users::email.eq("kollegin@kfi.nrw.de"))).set(users::active.eq(false)).execute(&mut db.connection()).unwrap();
        assert_eq!(send!(app, note(&anna, "Nachtrag", false)).status, StatusCode::CREATED);
        assert_eq!(announced(&db).len(), 2);
    }
}
