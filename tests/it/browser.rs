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
