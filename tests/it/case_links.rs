//! Vorgänger and Folgevorgänge, on both databases: the Kreis takes up a Gemeinde's Anregung,
//! which starts its Antrag; each case names the other, in the API and in its case file, and only
//! to those who may read it; the Aussonderung of the Anregung names the Antrag, which stays.

use actix_web::http::StatusCode;
use actix_web::test::{self as actix_test, TestRequest};
use diesel::prelude::*;
use serde_json::json;
use vorgang::db::models::{NewOrganisation, Organisation, Role};
use vorgang::db::schema::{cases, outbox};
use vorgang::documents::zip::Archive;

use crate::support::TestDatabase;
use crate::support::api::send;
use crate::support::auth::{create_user, staff_token};
use crate::support::ui::{Browser, ui_app};

const PASSWORD: &str = "richtig-langes-passwort";

fn get(uri: &str, token: &str) -> TestRequest {
    TestRequest::get()
        .uri(uri)
        .insert_header(("Authorization", format!("Bearer {token}")))
}

both_backends! {
    async fn an_anregung_and_the_antrag_it_started_name_each_other(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        {
            let mut conn = db.connection();
            let kreis = Organisation::find_by_key(&mut conn, "05974").unwrap().unwrap();
            NewOrganisation { key: "05974028", name: "Lippstadt", kind: "gemeinde", parent_id: Some(kreis.id), mailbox: None }
                .insert(&mut conn)
                .unwrap();
        }
        let coordinator = staff_token(&create_user(&mut db.connection(), "k@kreis-soest.de", "05974", &[Role::Koordination], None));
        let reader = staff_token(&create_user(&mut db.connection(), "l@kreis-soest.de", "05974", &[Role::Lesen], None));
        let foreign = staff_token(&create_user(&mut db.connection(), "k@kreis-kleve.de", "05154", &[Role::Koordination], None));
        let authority = staff_token(&create_user(&mut db.connection(), "p@bezreg-arnsberg.nrw.de", "KFI", &[Role::Bewilligung], None));
        let admin = staff_token(&create_user(&mut db.connection(), "it@kreis-soest.de", "05974", &[Role::Admin], Some(PASSWORD)));
        let app = ui_app!(db, dir);

        let anregung = json!({ "gemeinde": "05974028", "eingang_am": "2026-11-02", "inhalt": "Bedarf an Sprachmittlung" });
        let created = send!(app, TestRequest::post()
            .uri("/api/v1/cases")
            .insert_header(("Authorization", format!("Bearer {coordinator}")))
            .set_json(json!({ "workflow": "ki-anregung", "data": { "anregung": anregung } })));
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let origin = created.body["id"].as_i64().unwrap();
        let origin_az = created.body["aktenzeichen"].as_str().unwrap().to_string();
        let uri = format!("/api/v1/cases/{origin}/related");
        // Started by hand, and nothing started yet.
        let none = send!(app, get(&uri, &coordinator));
        assert_eq!(none.status, StatusCode::OK, "{}", none.body);
        assert_eq!(none.body, json!({ "origin": null, "started": [] }));

        let taken_up = send!(app, TestRequest::post()
            .uri(&format!("/api/v1/cases/{origin}/actions/antrag_einleiten"))
            .insert_header(("Authorization", format!("Bearer {coordinator}")))
            .set_json(json!({ "version": 1 })));
        assert_eq!(taken_up.status, StatusCode::OK, "{}", taken_up.body);
        assert_eq!(taken_up.body["status"], "completed");

        let related = send!(app, get(&uri, &reader));
        assert_eq!(related.status, StatusCode::OK, "{}", related.body);
        assert_eq!(related.body["origin"], json!(null));
        let started = related.body["started"].as_array().unwrap();
        assert_eq!(started.len(), 1, "{}", related.body);
        assert_eq!(started[0]["workflow"], "ki-antrag");
        assert_eq!(started[0]["status"], "running");
        assert_eq!(started[0]["outcome"], json!(null));
        assert_eq!(started[0]["step"], "antrag_eingeleitet");
        let antrag = started[0]["id"].as_i64().unwrap();
        let antrag_case = send!(app, get(&format!("/api/v1/cases/{antrag}"), &reader));
        assert_eq!(started[0]["aktenzeichen"], antrag_case.body["aktenzeichen"]);
        assert_eq!(antrag_case.body["data"]["anregung"]["gemeinde"], "05974028", "the Anregung is handed over");

        let back = send!(app, get(&format!("/api/v1/cases/{antrag}/related"), &coordinator));
        assert_eq!(back.status, StatusCode::OK, "{}", back.body);
        assert_eq!(back.body, json!({
            "origin": {
                "id": origin,
                "aktenzeichen": origin_az,
                "workflow": "ki-anregung",
                "status": "completed",
                "outcome": "antrag_eingeleitet",
                "step": "antrag_eingeleitet",
            },
            "started": [],
        }));
        let journal = send!(app, get(&format!("/api/v1/cases/{antrag}/journal"), &coordinator));
        assert_eq!(journal.body[0]["kind"], "case_started");
        assert_eq!(journal.body[0]["payload"]["origin"], json!(origin_az));

        // The Antrag's case file names its Vorgänger, for people and for programs.
        let export = actix_test::call_service(&app, get(&format!("/api/v1/cases/{antrag}/export"), &coordinator).to_request()).await;
        assert_eq!(export.status(), StatusCode::OK);
        let bytes = actix_test::read_body(export).await;
        let archive = Archive::parse(&bytes).expect("a well-formed ZIP archive");
        let folder = antrag_case.body["aktenzeichen"].as_str().unwrap();
        let member = |name: &str| archive.stored_content(&format!("{folder}/{name}"), 1 << 24).unwrap_or_else(|| panic!("{name} missing"));
        let case_json: serde_json::Value = serde_json::from_slice(member("vorgang.json")).unwrap();
        assert_eq!(case_json["related"], back.body);
        let overview = String::from_utf8(member("akte.html").to_vec()).unwrap();
        assert!(overview.contains(&format!("<dt>Gestartet aus</dt><dd>{origin_az} Anregung eines Kommunalen Integrationszentrums durch eine kreisangehörige Gemeinde, Schritt „Antrag eingeleitet“ (Abgeschlossen: ")), "{overview}");
        let export = actix_test::call_service(&app, get(&format!("/api/v1/cases/{origin}/export"), &coordinator).to_request()).await;
        let bytes = actix_test::read_body(export).await;
        let archive = Archive::parse(&bytes).expect("a well-formed ZIP archive");
        let overview = archive.stored_content(&format!("{origin_az}/akte.html"), 1 << 24).expect("akte.html");
        let overview = String::from_utf8(overview.to_vec()).unwrap();
        assert!(overview.contains(&format!("<dt>Folgevorgänge</dt><dd>{} Antrag auf Einrichtung eines Kommunalen Integrationszentrums, gestartet bei „Antrag eingeleitet“ (In Bearbeitung)</dd>", antrag_case.body["aktenzeichen"].as_str().unwrap())), "{overview}");
        assert!(overview.contains("Folgevorgang „Antrag auf Einrichtung eines Kommunalen Integrationszentrums“ angestoßen"), "{overview}");

        // Another Kreis sees neither case; the Bewilligungsbehörde sees no unsubmitted one.
        for token in [&foreign, &authority] {
            let hidden = send!(app, get(&uri, token));
            assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.body);
            assert_eq!(hidden.body["title"], "Nicht gefunden");
        }
        let unknown = send!(app, get("/api/v1/cases/999999/related", &coordinator));
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        let anonymous = send!(app, TestRequest::get().uri(&uri));
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

        // Years later the Anregung is due for the Aussonderung: the form names the Antrag that
        // stays. Once it is gone, the Antrag has no Vorgänger, its journal still names it.
        diesel::update(cases::table.find(origin))
            .set(cases::updated_at.eq(chrono::NaiveDate::from_ymd_opt(2019, 3, 1).unwrap().and_hms_opt(10, 0, 0).unwrap()))
            .execute(&mut db.connection())
            .unwrap();
        diesel::update(outbox::table).set(outbox::status.eq("sent")).execute(&mut db.connection()).unwrap();
        let mut browser = Browser::from("10.0.0.5:1000");
        browser.login(&app, "it@kreis-soest.de", PASSWORD).await;
        let form = browser.get(&app, &format!("/admin/aussonderung/{origin}")).await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.body.contains(&format!("<dt>Folgevorgänge</dt><dd><a href=\"/vorgaenge/{antrag}\">{}</a> Antrag auf Einrichtung eines Kommunalen Integrationszentrums (In Bearbeitung)</dd>", antrag_case.body["aktenzeichen"].as_str().unwrap())), "{}", form.body);
        assert!(form.body.contains("Die verknüpften Vorgänge bleiben bestehen"), "{}", form.body);
        let disposed = send!(app, TestRequest::post()
            .uri(&format!("/api/v1/admin/retention/{origin}/dispose"))
            .insert_header(("Authorization", format!("Bearer {admin}")))
            .set_json(json!({ "decision": "declined" })));
        assert_eq!(disposed.status, StatusCode::CREATED, "{}", disposed.body);
        let after = send!(app, get(&format!("/api/v1/cases/{antrag}/related"), &coordinator));
        assert_eq!(after.body, json!({ "origin": null, "started": [] }));
        let journal = send!(app, get(&format!("/api/v1/cases/{antrag}/journal"), &coordinator));
        assert_eq!(journal.body[0]["payload"]["origin"], json!(origin_az));
        let breaks = vorgang::journal::verify_all(&mut db.connection()).unwrap();
        assert!(breaks.is_empty(), "{breaks:?}");
    }
}
