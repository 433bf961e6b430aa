//! The shipped workflows, run through the engine: a KI application from draft to approval, the
//! refusals a person would meet on the way, and random event sequences on every shipped file.

use std::path::Path;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::definition::Definition;
use super::instance::Votum;
use super::machine_tests::clock;
use super::property_tests::run_and_check;
use super::*;

fn shipped(key: &str) -> Workflow {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("workflows/{key}.yaml"));
    let text = std::fs::read_to_string(&path).unwrap();
    let definition: Definition = load::parse_definition(&path.display().to_string(), &text)
        .unwrap_or_else(|errors| panic!("{key}: {errors:?}"));
    Workflow::new(definition).unwrap()
}

fn applicant(kind: &str) -> Applicant {
    Applicant {
        key: "05974".into(),
        kind: kind.into(),
        name: "Kreis Soest".into(),
    }
}

fn role(name: &str) -> Actor {
    Actor {
        id: format!("{name}@example.org"),
        roles: vec![name.into()],
    }
}

/// A complete application in the shape of ki-antrag's data schema.
fn complete_application() -> Value {
    json!({
        "antragsteller": { "dienststelle": "Fachbereich Bildung", "ansprechperson": "Frau Beispiel",
                           "telefon": "02921 30-0", "email": "ki@kreis-soest.de" },
        "zentrum_name": "Kommunales Integrationszentrum Kreis Soest",
        "oeffentliche_bezeichnung": "Kommunales Integrationszentrum Kreis Soest – anerkannt durch das Land NRW als Kommunales Integrationszentrum nach § 8 Teilhabe- und Integrationsgesetz",
        "ausgangslage": "Rund 12 % der Schülerinnen und Schüler sind neu zugewandert.",
        "standorte": [{ "bezeichnung": "Kreishaus", "anschrift": "Hoher Weg 1–3, 59494 Soest" }],
        "organisatorische_anbindung": "Fachbereich Bildung",
        "arbeitsaufnahme": "2026-09-01",
        "integrationskonzept": { "status": "beschlossen", "gremium": "kreistag",
                                 "beschluss_datum": "2025-06-26", "fortschreibung": "aktualisiert" },
        "personal": { "lehrkraefte_vze": 2, "fachkraefte_vze": 6, "verwaltungsassistenz_vze": 0.5 },
        "leitung": { "name": "Herr Beispiel", "gruppe": "fachkraft",
                     "stellvertretung_name": "Frau Muster", "stellvertretung_gruppe": "lehrkraft" },
        "schwerpunkte": "Sprachbildung, Seiteneinstieg",
        "beteiligte": ["SCHULAMT-SO", "05974-JA"],
        "beteiligung_abdeckung": { "untere_schulaufsicht": true, "schulverwaltung": true,
            "jugendhilfe_oeffentlich": true, "jugendhilfe_frei": true, "wohlfahrtsverbaende": true,
            "integrationsrat": false }
    })
}

fn act(
    wf: &Workflow,
    instance: &Instance,
    actor: &Actor,
    action: &str,
    data: Option<Value>,
    date: &str,
) -> Outcome {
    let token = instance
        .active_steps()
        .find(|t| matches!(wf.step(&t.step), Some(definition::Step::Task(task)) if task.actions.contains_key(action)))
        .unwrap_or_else(|| panic!("no task offers {action}: {:?}", instance.tokens))
        .id;
    step(
        wf,
        instance,
        Event::Act {
            token,
            action: action.into(),
            actor: actor.clone(),
            data,
        },
        &clock(date),
    )
    .unwrap_or_else(|e| panic!("{action}: {e}"))
}

#[test]
fn a_ki_application_runs_from_draft_to_approval_and_starts_the_operation_case() {
    let wf = shipped("ki-antrag");
    assert_eq!(
        validate_data_ok(&wf, &complete_application()),
        Vec::<String>::new()
    );
    let new = Instance::new(wf.key(), wf.version(), applicant("kreis"));
    let koordination = role("koordination");
    let started = step(
        &wf,
        &new,
        Event::Start {
            actor: koordination.clone(),
            data: complete_application(),
            origin: None,
        },
        &clock("2026-03-04"),
    )
    .unwrap();
    let invited = act(
        &wf,
        &started.instance,
        &koordination,
        "beteiligung_starten",
        None,
        "2026-03-04",
    );
    let invitations: Vec<LocalId> = invited.instance.invitations.iter().map(|i| i.id).collect();
    assert_eq!(invitations.len(), 2);
    assert!(
        invited
            .instance
            .invitations
            .iter()
            .all(|i| i.deadline.to_string() == "2026-04-01")
    );

    let mut state = invited.instance;
    for invitation in invitations {
        let answer = instance::Answer {
            votum: Votum::Zustimmung,
            text: String::new(),
            answered_by: "Schulamt".into(),
            attachment: None,
            received_on: None,
        };
        state = step(
            &wf,
            &state,
            Event::Answer { invitation, answer },
            &clock("2026-03-10"),
        )
        .unwrap()
        .instance;
    }
    let state = act(
        &wf,
        &state,
        &koordination,
        "zum_beschluss",
        Some(json!({ "auswertung": { "zusammenfassung": "Zustimmung aller Stellen." } })),
        "2026-03-11",
    )
    .instance;
    let state = act(&wf, &state, &koordination, "beschlossen", Some(json!({ "beschluss": { "gremium": "kreistag", "datum": "2026-03-26", "drucksache": "XV/123",
        "beratungsfolge": [{ "gremium": "Kreisausschuss", "datum": "2026-03-12", "ergebnis": "empfohlen" }] } })), "2026-03-27").instance;
    let submitted = act(
        &wf,
        &state,
        &koordination,
        "einreichen",
        Some(
            json!({ "unterlagen": { "antragsformular": "1", "finanzierungsplan": "2", "arbeitsplan": "3" } }),
        ),
        "2026-03-30",
    );
    assert!(submitted.effects.iter().any(|e| matches!(e, SideEffect::SendMail { template, to: MailTarget::Role { role }, .. } if template == "antrag_eingegangen" && role == "bewilligung")));

    // Koordination cannot approve its own application.
    let token = submitted.instance.active_steps().next().unwrap().id;
    let refused = step(
        &wf,
        &submitted.instance,
        Event::Act {
            token,
            action: "bewilligen".into(),
            actor: koordination,
            data: None,
        },
        &clock("2026-04-15"),
    );
    assert!(
        matches!(refused, Err(EngineError::Refused { ref reasons }) if matches!(reasons[0], Refusal::RoleNotAllowed { .. }))
    );

    let approved = act(
        &wf,
        &submitted.instance,
        &role("bewilligung"),
        "bewilligen",
        Some(json!({ "bewilligung": { "datum": "2026-04-15", "bescheid": "4" } })),
        "2026-04-15",
    );
    assert_eq!(approved.instance.status, CaseStatus::Completed);
    assert_eq!(approved.instance.outcome.as_deref(), Some("bewilligt"));
    let started_case = approved.effects.iter().find_map(|e| match e {
        SideEffect::StartCase { workflow, data, .. } => Some((workflow.clone(), data.clone())),
        _ => None,
    });
    let (workflow, data) = started_case.expect("the operation case is started");
    assert_eq!(workflow, "ki-betrieb");
    assert_eq!(data["arbeitsaufnahme"], "2026-09-01");
    let betrieb = shipped("ki-betrieb");
    assert_eq!(validate_data_ok(&betrieb, &data), Vec::<String>::new());
}

fn validate_data_ok(wf: &Workflow, data: &Value) -> Vec<String> {
    data::validate_data(&wf.definition().data, data)
        .into_iter()
        .map(|e| format!("{}: {}", e.pointer, e.message))
        .collect()
}

#[test]
fn the_kreistag_decision_names_the_committees_that_advised_it_in_order() {
    let wf = shipped("ki-antrag");
    let advised = json!({ "beschluss": { "gremium": "kreistag", "beratungsfolge": [
        { "gremium": "Ausschuss für Schule und Bildung", "datum": "2026-05-04", "ergebnis": "kenntnis" },
        { "gremium": "Kreisausschuss", "datum": "2026-05-18", "ergebnis": "geaendert" }
    ] } });
    assert_eq!(validate_data_ok(&wf, &advised), Vec::<String>::new());
    let wrong = json!({ "beschluss": { "beratungsfolge": [
        { "gremium": "Kreisausschuss", "datum": "18.05.2026", "ergebnis": "zugestimmt" }
    ] } });
    let pointers: Vec<String> = data::validate_data(&wf.definition().data, &wrong)
        .into_iter()
        .map(|e| e.pointer)
        .collect();
    assert_eq!(
        pointers,
        [
            "/beschluss/beratungsfolge/0/datum",
            "/beschluss/beratungsfolge/0/ergebnis"
        ]
    );
}

#[test]
fn a_gemeinde_is_pointed_to_the_anregung() {
    let wf = shipped("ki-antrag");
    let new = Instance::new(wf.key(), wf.version(), applicant("gemeinde"));
    let started = step(
        &wf,
        &new,
        Event::Start {
            actor: role("koordination"),
            data: complete_application(),
            origin: None,
        },
        &clock("2026-03-04"),
    )
    .unwrap();
    let token = started.instance.active_steps().next().unwrap().id;
    let error = step(
        &wf,
        &started.instance,
        Event::Act {
            token,
            action: "beteiligung_starten".into(),
            actor: role("koordination"),
            data: None,
        },
        &clock("2026-03-04"),
    )
    .unwrap_err();
    let EngineError::Refused { reasons } = error else {
        panic!("{error:?}")
    };
    assert!(
        reasons.iter().any(|r| matches!(r, Refusal::RuleViolated { rule, message, .. } if rule == "antragsberechtigt" && message.contains("ki-anregung") || message.contains("Anregung"))),
        "{reasons:?}"
    );
}

#[test]
fn a_second_location_blocks_the_consultation_with_the_rule_message() {
    let wf = shipped("ki-antrag");
    let mut data = complete_application();
    data["standorte"] = json!([{ "bezeichnung": "A", "anschrift": "A-Straße 1" }, { "bezeichnung": "B", "anschrift": "B-Straße 2" }]);
    let new = Instance::new(wf.key(), wf.version(), applicant("kreis"));
    let started = step(
        &wf,
        &new,
        Event::Start {
            actor: role("koordination"),
            data,
            origin: None,
        },
        &clock("2026-03-04"),
    )
    .unwrap();
    let actions = available_actions(
        &wf,
        &started.instance,
        &role("koordination"),
        &clock("2026-03-04"),
    );
    let start = actions
        .iter()
        .find(|a| a.action == "beteiligung_starten")
        .unwrap();
    assert!(!start.allowed);
    assert!(
        start
            .reasons
            .iter()
            .any(|r| matches!(r, Refusal::RuleViolated { rule, .. } if rule == "ein_standort")),
        "{:?}",
        start.reasons
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn shipped_workflows_survive_random_event_sequences(
        which in 0usize..3,
        picks in prop::collection::vec(any::<u16>(), 0..60),
    ) {
        let wf = shipped(["ki-antrag", "ki-betrieb", "ki-anregung"][which]);
        let first = run_and_check(&wf, &picks);
        let second = run_and_check(&wf, &picks);
        prop_assert_eq!(first, second);
    }
}
