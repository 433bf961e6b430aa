//! End to end in a real browser (Playwright driving Chromium, axe-core on every page): the
//! stories under `tests/e2e/`, each against its own running `vorgang serve` with real mail.
//! Run just these with `cargo test --test it browser`; screenshots land in
//! `target/e2e-screenshots/<story>/`.

use diesel::prelude::*;
use serde_json::{Value, json};
use vorgang::db::schema::answers;

use crate::beteiligung::application;
use crate::support::browser::{self, Stage};

const SCHULAMT: &str = "schulamt@kreis-soest.test";

/// The partner opens the link from the invitation mail, on a phone and on a desktop, answers
/// by keyboard alone, then gets German errors for empty and incomplete input. Every page passes
/// axe (WCAG 2.1 AA); the answer is recorded once, with the Votum given.
#[test]
fn partner_answers_through_the_link_in_the_mail() {
    if !browser::available() {
        return;
    }
    let stage = Stage::start();
    let staff = stage.staff_token();
    let (status, case) = stage.post(
        "/api/v1/cases",
        Some(&staff),
        &json!({ "workflow": "ki-antrag", "data": application() }),
    );
    assert_eq!(status, 201, "{case}");
    let id = case["id"].as_i64().unwrap();
    let aktenzeichen = case["aktenzeichen"].as_str().unwrap();
    let (status, started) = stage.post(
        &format!("/api/v1/cases/{id}/actions/beteiligung_starten"),
        Some(&staff),
        &json!({ "version": 1 }),
    );
    assert_eq!(status, 200, "{started}");

    stage
        .story("partner_answer")
        .env("PARTNER_MAIL", SCHULAMT)
        .env("AKTENZEICHEN", aktenzeichen)
        .run();

    // Recorded once (the refused submissions left nothing), with what was typed.
    let (status, matrix) = stage.get(&format!("/api/v1/cases/{id}/consultations"), Some(&staff));
    assert_eq!(status, 200, "{matrix}");
    let row = matrix
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["organisation"] == "SCHULAMT-SO")
        .unwrap();
    assert_eq!(row["status"], "answered", "{row}");
    assert_eq!(row["votum"], "bedenken", "{row}");
    assert_eq!(row["versions"], 1, "{row}");
    assert!(
        row["extension_request"].is_null() && row["responsibility_notice"].is_null(),
        "the refused requests left nothing: {row}"
    );
    let stored: i64 = answers::table
        .count()
        .get_result(&mut stage.db.connection())
        .unwrap();
    assert_eq!(stored, 1, "one answer in the database");
    let (_, journal) = stage.get(&format!("/api/v1/cases/{id}/journal"), Some(&staff));
    let recorded: Vec<&Value> = journal
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "answer_recorded")
        .collect();
    assert_eq!(recorded.len(), 1, "{journal}");
    assert_eq!(recorded[0]["payload"]["participant"], "SCHULAMT-SO");
    let confirmation = stage
        .smtp
        .received()
        .into_iter()
        .find(|m| {
            m.to == [SCHULAMT]
                && m.parsed()
                    .subject()
                    .is_some_and(|s| s.contains("eingegangen"))
        })
        .expect("the confirmation mail");
    let text = confirmation.parsed().body_text(0).unwrap().into_owned();
    assert!(
        text.contains("Die Räume für die Sprachförderung fehlen."),
        "{text}"
    );
}

const PASSWORD: &str = "ein-sehr-gutes-passwort";
const ADMIN: &str = "admin@kfi.test";
const COORDINATOR: &str = "koordination@kreis-coesfeld.test";
const BEWILLIGUNG: &str = "bewilligung@kfi.test";
const GEMEINDE: &str = "koordination@duelmen.test";

/// The Coesfeld partners of the story: key, name, mailbox, the Votum their person gives.
const COESFELD_PARTNERS: [(&str, &str, &str, &str); 3] = [
    (
        "SCHULAMT-COE",
        "Schulamt für den Kreis Coesfeld",
        "schulamt@kreis-coesfeld.test",
        "bedenken",
    ),
    (
        "05558-JA",
        "Jugendamt des Kreises Coesfeld",
        "jugendamt@kreis-coesfeld.test",
        "zustimmung",
    ),
    (
        "CARITAS-COE",
        "Caritasverband für den Kreis Coesfeld",
        "caritas@coesfeld.test",
        "zustimmung",
    ),
];

/// The application of the Kreis Coesfeld as the coordinator types it into the form.
fn coesfeld_application() -> Value {
    let mut data = application();
    data["antragsteller"]["email"] = json!("ki@kreis-coesfeld.test");
    data["antragsteller"]["telefon"] = json!("02541 18-0");
    data["zentrum_name"] = json!("Kommunales Integrationszentrum Kreis Coesfeld");
    data["oeffentliche_bezeichnung"] = json!(
        "Kommunales Integrationszentrum Kreis Coesfeld – anerkannt durch das Land NRW als \
         Kommunales Integrationszentrum nach § 8 Teilhabe- und Integrationsgesetz"
    );
    data["standorte"] = json!([{ "bezeichnung": "Kreishaus", "anschrift": "Friedrich-Ebert-Straße 7, 48653 Coesfeld" }]);
    data["arbeitsaufnahme"] = json!("2027-01-01");
    data["schwerpunkte"] = json!("Sprachbildung, Übergang Schule–Beruf, Elternarbeit.");
    data["beteiligte"] = json!(COESFELD_PARTNERS.map(|p| p.0));
    data
}

/// The whole procedure in the browser, from deploying the workflows to the operation case with
/// its deadlines (see tests/e2e/procedure.mjs); every page passes axe (WCAG 2.1 AA).
#[test]
fn the_whole_procedure_in_the_browser() {
    if !browser::available() {
        return;
    }
    // No shipped definitions at start-up (a missing directory deploys nothing): the
    // administrator deploys them through the editor.
    let nothing = tempfile::tempdir().unwrap();
    let stage = Stage::start_with(&nothing.path().join("keine-workflows"), |conn| {
        use vorgang::db::models::{NewOrganisation, Organisation, Role};
        for (key, name, mailbox, _) in COESFELD_PARTNERS {
            crate::support::partners::add_partner(conn, key, name, Some(mailbox));
        }
        let coesfeld = Organisation::find_by_key(conn, "05558").unwrap().unwrap();
        NewOrganisation {
            key: "05558012",
            name: "Stadt Dülmen",
            kind: "gemeinde",
            parent_id: Some(coesfeld.id),
            mailbox: None,
        }
        .insert(conn)
        .unwrap();
        let users = [
            (ADMIN, "KFI", Role::Admin),
            (COORDINATOR, "05558", Role::Koordination),
            (BEWILLIGUNG, "KFI", Role::Bewilligung),
            (GEMEINDE, "05558012", Role::Koordination),
        ];
        for (email, organisation, role) in users {
            crate::support::auth::create_user(conn, email, organisation, &[role], Some(PASSWORD));
        }
    });
    let files = tempfile::tempdir().unwrap();
    let pdf = files.path().join("unterlage.pdf");
    std::fs::write(&pdf, crate::beteiligung::PDF).unwrap();
    let partners: Vec<Value> = COESFELD_PARTNERS
        .iter()
        .map(|(_, _, email, votum)| json!({ "email": email, "votum": votum }))
        .collect();

    stage
        .story("procedure")
        .env("PASSWORD", PASSWORD)
        .env("ADMIN_EMAIL", ADMIN)
        .env("COORDINATOR_EMAIL", COORDINATOR)
        .env("BEWILLIGUNG_EMAIL", BEWILLIGUNG)
        .env("GEMEINDE_EMAIL", GEMEINDE)
        .env("APPLICATION", &coesfeld_application().to_string())
        .env("PARTNERS", &Value::Array(partners).to_string())
        .env("PDF_FILE", pdf.to_str().unwrap())
        .env("RAEUME_WORKFLOW", crate::messages::RAEUME)
        .run();

    // Afterwards, through the database: the application approved, every partner answered once
    // (one with Bedenken), the operation case running with its concept deadline, the rooms'
    // case ended with the data of its message, the second application withdrawn and reopened, the
    // Antragszeitraum entered.
    let mut conn = stage.db.connection();
    use vorgang::db::schema::{cases, invitations, timers};
    let outcomes: Vec<(String, String, Option<String>)> = cases::table
        .order(cases::id)
        .select((cases::workflow_key, cases::status, cases::outcome))
        .load(&mut conn)
        .unwrap();
    assert_eq!(outcomes.len(), 4, "{outcomes:?}");
    assert_eq!(outcomes[0].0, "ki-antrag");
    assert_eq!(outcomes[0].2.as_deref(), Some("bewilligt"), "{outcomes:?}");
    assert_eq!(outcomes[1].0, "ki-betrieb");
    assert_eq!(outcomes[1].1, "running");
    // The rooms' case ended with the hand-over its message brought.
    assert_eq!(outcomes[2].2.as_deref(), Some("bezogen"), "{outcomes:?}");
    // The second application, withdrawn in its draft and reopened there by the administrator.
    assert_eq!(
        (outcomes[3].0.as_str(), outcomes[3].1.as_str()),
        ("ki-antrag", "running"),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[3].2, None);
    let reopened: i64 = cases::table
        .order(cases::id)
        .select(cases::id)
        .offset(3)
        .first(&mut conn)
        .unwrap();
    let kinds: Vec<String> = vorgang::db::schema::case_events::table
        .filter(vorgang::db::schema::case_events::case_id.eq(reopened))
        .order(vorgang::db::schema::case_events::seq.desc())
        .select(vorgang::db::schema::case_events::kind)
        .limit(3)
        .load(&mut conn)
        .unwrap();
    assert_eq!(kinds, ["step_entered", "case_relocated", "case_withdrawn"]);
    // The Kreistag's decision with the committee that advised it, through the generated form.
    let approved: String = cases::table
        .order(cases::id)
        .select(cases::state)
        .first(&mut conn)
        .unwrap();
    let approved: Value = serde_json::from_str(&approved).unwrap();
    assert_eq!(
        approved["data"]["beschluss"]["beratungsfolge"],
        json!([{ "gremium": "Ausschuss für Soziales und Integration", "datum": "2026-11-05", "ergebnis": "empfohlen" }])
    );
    let state: String = cases::table
        .filter(cases::workflow_key.eq("ki-raeume"))
        .select(cases::state)
        .first(&mut conn)
        .unwrap();
    let state: Value = serde_json::from_str(&state).unwrap();
    assert_eq!(
        state["data"]["uebergabe"],
        json!({ "datum": "2027-01-04", "schluessel": 3 })
    );
    // The Antragszeitraum the administrator entered, which the submission was judged by.
    let windows: Vec<(String, String)> = vorgang::db::schema::time_windows::table
        .select((
            vorgang::db::schema::time_windows::name,
            vorgang::db::schema::time_windows::label,
        ))
        .load(&mut conn)
        .unwrap();
    assert_eq!(
        windows,
        [(
            "kfi_antragszeitraum".to_string(),
            "Förderjahr 2027".to_string()
        )]
    );
    let voten: Vec<Option<String>> = invitations::table
        .order(invitations::id)
        .select(invitations::votum)
        .load(&mut conn)
        .unwrap();
    assert_eq!(voten.len(), 3);
    assert_eq!(
        voten
            .iter()
            .filter(|v| v.as_deref() == Some("bedenken"))
            .count(),
        1,
        "{voten:?}"
    );
    let deadlines: Vec<Option<chrono::NaiveDate>> = timers::table
        .filter(timers::status.eq("scheduled"))
        .filter(timers::kind.eq("flow"))
        .select(timers::deadline)
        .load(&mut conn)
        .unwrap();
    // Arbeitsaufnahme 1 January 2027, updated concept six months on: Wednesday 30 June 2027.
    assert!(
        deadlines.contains(&chrono::NaiveDate::from_ymd_opt(2027, 6, 30)),
        "{deadlines:?}"
    );
}
