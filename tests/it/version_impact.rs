//! What a new version would mean for running cases (the editor's „Prüfen“), on both databases:
//! the steps the cases occupy that the new version lacks or has as another kind of step, with
//! the cases concerned; nothing for a version that keeps them, nothing of ended cases.

use actix_web::http::StatusCode;
use actix_web::test as actix_test;
use serde_json::{Value, json};
use vorgang::db::models::Role;
use vorgang::engine::definition::Definition;
use vorgang::service::version_impact::{StrandedStep, stranded_steps};

use crate::support::TestDatabase;
use crate::support::auth::{create_user, staff_token, test_auth};

/// Two tasks one after the other; a case may also be withdrawn.
const ABLAUF: &str = r#"workflow: ki-ablauf
title: Ablauf
prefix: KIA
roles:
  koordination: { title: Koordination }
withdraw: { roles: [koordination], outcome: zurueckgezogen }
start: sammeln
steps:
  sammeln:
    type: task
    title: Unterlagen sammeln
    role: koordination
    actions:
      weiter: { title: Weiter, to: pruefen }
  pruefen:
    type: task
    title: Unterlagen prüfen
    role: koordination
    actions:
      fertig: { title: Fertig, to: ende }
  ende:
    type: end
    title: Erledigt
    outcome: erledigt
"#;

fn definition(source: &str) -> Definition {
    vorgang::engine::load::parse_definition("ki-ablauf.yaml", source).expect("a valid definition")
}

fn request(uri: &str, token: &str, body: Value) -> actix_test::TestRequest {
    actix_test::TestRequest::post()
        .uri(uri)
        .insert_header(("Authorization", format!("Bearer {token}")))
        .set_json(body)
}

both_backends! {
    async fn checking_a_new_version_names_the_steps_it_would_take_from_running_cases(backend) {
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
        let registry = api.registry.clone();
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;
        let deployed = actix_test::call_service(&app, actix_test::TestRequest::post()
            .uri("/api/v1/workflows")
            .insert_header(("Authorization", format!("Bearer {admin}")))
            .insert_header(("Content-Type", "application/yaml"))
            .set_payload(ABLAUF)
            .to_request()).await;
        assert_eq!(deployed.status(), StatusCode::CREATED);

        // Three cases at „sammeln“, one moved on to „pruefen“, one withdrawn (ended).
        let mut aktenzeichen = Vec::new();
        for i in 0..4 {
            let created = actix_test::call_service(&app, request("/api/v1/cases", &kleve, json!({ "workflow": "ki-ablauf" })).to_request()).await;
            assert_eq!(created.status(), StatusCode::CREATED);
            let case: Value = actix_test::read_body_json(created).await;
            let id = case["id"].as_i64().unwrap();
            let uri = match i {
                1 => format!("/api/v1/cases/{id}/actions/weiter"),
                3 => format!("/api/v1/cases/{id}/withdraw"),
                _ => { aktenzeichen.push(case["aktenzeichen"].as_str().unwrap().to_string()); continue; }
            };
            let moved = actix_test::call_service(&app, request(&uri, &kleve, json!({ "version": 1 })).to_request()).await;
            assert_eq!(moved.status(), StatusCode::OK);
            if i == 1 {
                aktenzeichen.push(case["aktenzeichen"].as_str().unwrap().to_string());
            }
        }
        let (sammeln, pruefen) = ([aktenzeichen[0].clone(), aktenzeichen[2].clone()], aktenzeichen[1].clone());
        let stranded = |source: &str| stranded_steps(&mut db.connection(), &registry, "ki-ablauf", &definition(source)).unwrap();

        // A new title keeps every step: nothing is left behind.
        assert_eq!(stranded(&ABLAUF.replace("title: Ablauf", "title: Ablauf (neu)")), Vec::new());

        // „sammeln“ becomes a waiting step, „pruefen“ is renamed: both are named with their cases.
        let changed = ABLAUF
            .replace("  sammeln:\n    type: task\n    title: Unterlagen sammeln\n    role: koordination\n    actions:\n      weiter: { title: Weiter, to: pruefen }",
                     "  sammeln:\n    type: wait\n    title: Unterlagen abwarten\n    until: { period: { period: P2W } }\n    next: kontrolle")
            .replace("  pruefen:", "  kontrolle:");
        assert_ne!(changed, ABLAUF);
        assert_eq!(stranded(&changed), vec![
            StrandedStep {
                step: "sammeln".into(),
                title: "Unterlagen sammeln".into(),
                kind: "Aufgabe",
                new_kind: Some("Warteschritt"),
                cases: sammeln.to_vec(),
            },
            StrandedStep {
                step: "pruefen".into(),
                title: "Unterlagen prüfen".into(),
                kind: "Aufgabe",
                new_kind: None,
                cases: vec![pruefen.clone()],
            },
        ]);

        // The API says the same when deploying, and on a trial run deploys nothing.
        let versions = || vorgang::db::models::DefinitionRow::history(&mut db.connection(), "ki-ablauf").unwrap().len();
        let post = |query: &str, source: String| actix_test::TestRequest::post()
            .uri(&format!("/api/v1/workflows{query}"))
            .insert_header(("Authorization", format!("Bearer {admin}")))
            .insert_header(("Content-Type", "application/yaml"))
            .set_payload(source)
            .to_request();
        let with_unused_role = changed.replace("roles:\n", "roles:\n  pruefer: { title: Prüfer }\n");
        let trial = actix_test::call_service(&app, post("?dry_run=true", with_unused_role.clone())).await;
        assert_eq!(trial.status(), StatusCode::OK);
        let trial: Value = actix_test::read_body_json(trial).await;
        assert_eq!((trial["key"].clone(), trial["version"].clone()), (json!("ki-ablauf"), Value::Null), "{trial}");
        assert_eq!(trial["warnings"].as_array().unwrap().len(), 1, "{trial}");
        assert_eq!((trial["warnings"][0]["line"].clone(), trial["warnings"][0]["message"].clone()), (json!(5), json!("Rolle 'pruefer' ist deklariert, wird aber nie verwendet")), "{trial}");
        assert_eq!(trial["stranded"], json!([
            { "step": "sammeln", "title": "Unterlagen sammeln", "kind": "Aufgabe", "new_kind": "Warteschritt", "cases": sammeln },
            { "step": "pruefen", "title": "Unterlagen prüfen", "kind": "Aufgabe", "new_kind": null, "cases": [pruefen] },
        ]));
        assert_eq!(versions(), 1, "a trial run deploys nothing");
        let deployed = actix_test::call_service(&app, post("", with_unused_role)).await;
        assert_eq!(deployed.status(), StatusCode::CREATED);
        let deployed: Value = actix_test::read_body_json(deployed).await;
        assert_eq!((deployed["version"].clone(), deployed["stranded"].clone(), deployed["warnings"].as_array().map(Vec::len)), (json!(2), trial["stranded"].clone(), Some(1)), "{deployed}");
        assert_eq!(versions(), 2);
        let wrong = actix_test::call_service(&app, post("?dry_run=vielleicht", ABLAUF.to_string())).await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    }
}
