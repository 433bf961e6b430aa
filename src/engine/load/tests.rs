use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;
use crate::engine::test_support::KI_ANTRAG;

fn errors(text: &str) -> Vec<String> {
    match parse_definition("w.yaml", text) {
        Ok(_) => Vec::new(),
        Err(diagnostics) => diagnostics.iter().map(ToString::to_string).collect(),
    }
}

/// A valid workflow to break in tests: a task `entwurf` leading to the end step `fertig`.
const VALID: &str = "\
workflow: w
title: W
roles:
  r: { title: R }
start: entwurf
steps:
  entwurf:
    type: task
    title: Entwurf
    role: r
    actions:
      weiter:
        title: Weiter
        to: fertig
  fertig:
    type: end
    title: Fertig
    outcome: ok
";

#[test]
fn a_valid_file_loads() {
    let definition = parse_definition("w.yaml", VALID).unwrap();
    assert_eq!(definition.steps.len(), 2);
    assert_eq!(definition.steps["entwurf"].type_name(), "task");
}

#[test]
fn unknown_keys_point_at_the_key_and_suggest_the_field() {
    let text = VALID.replace("        to: fertig", "        tto: fertig");
    assert_eq!(
        errors(&text),
        [
            "w.yaml:14:9: Fehler: unbekannter Schlüssel 'tto' in steps.entwurf.actions.weiter (meinten Sie 'to'?)"
        ]
    );
}

#[test]
fn unknown_keys_without_a_close_field_list_the_allowed_ones() {
    let text = VALID.replace("  r: { title: R }", "  r: { title: R, farbe: blau }");
    assert_eq!(
        errors(&text),
        ["w.yaml:4:18: Fehler: unbekannter Schlüssel 'farbe' in roles.r (erlaubt: title)"]
    );
}

#[test]
fn wrong_types_point_at_the_value() {
    let text = VALID.replace("        title: Weiter", "        title: [Weiter]");
    assert_eq!(
        errors(&text),
        [
            "w.yaml:13:16: Fehler: in steps.entwurf.actions.weiter.title wird ein Text erwartet, gefunden: eine Liste"
        ]
    );
}

#[test]
fn scalars_are_strings_where_strings_are_expected() {
    let text = VALID.replace("    outcome: ok", "    outcome: 2026");
    let definition = parse_definition("w.yaml", &text).unwrap();
    let Step::End(end) = &definition.steps["fertig"] else {
        panic!("end step expected");
    };
    assert_eq!(end.outcome, "2026");
}

#[test]
fn missing_keys_point_at_the_mapping_that_lacks_them() {
    let text = VALID.replace("    role: r\n", "");
    assert_eq!(
        errors(&text),
        ["w.yaml:8:5: Fehler: in steps.entwurf fehlt der Schlüssel 'role'"]
    );
    let text = VALID
        .replace("title: W\n", "")
        .replace("start: entwurf\n", "");
    assert_eq!(
        errors(&text),
        ["w.yaml:1:1: Fehler: in der Workflow-Definition fehlen die Schlüssel 'title' und 'start'"]
    );
}

#[test]
fn missing_start_is_reported() {
    let text = VALID.replace("start: entwurf\n", "");
    assert_eq!(
        errors(&text),
        ["w.yaml:1:1: Fehler: in der Workflow-Definition fehlt der Schlüssel 'start'"]
    );
}

#[test]
fn unknown_step_types_are_reported_with_a_suggestion() {
    let text = VALID.replace("    type: end", "    type: ende");
    assert_eq!(
        errors(&text),
        [
            "w.yaml:16:11: Fehler: unbekannter Schritttyp 'ende' in steps.fertig.type (meinten Sie 'end'?)"
        ]
    );
    let text = VALID.replace("    type: end", "    type: stop");
    assert_eq!(
        errors(&text),
        [
            "w.yaml:16:11: Fehler: unbekannter Schritttyp 'stop' in steps.fertig.type (erlaubt: \
             task, consultation, decision, parallel, join, wait, end)"
        ]
    );
    let text = VALID.replace("    type: end\n", "");
    assert_eq!(
        errors(&text),
        [
            "w.yaml:16:5: Fehler: in steps.fertig fehlt der Schlüssel 'type' (erlaubt: task, \
             consultation, decision, parallel, join, wait, end)"
        ]
    );
}

#[test]
fn step_types_match_the_model() {
    let steps = parse_definition("ki.yaml", KI_ANTRAG).unwrap().steps;
    let seen: BTreeSet<&str> = steps.values().map(Step::type_name).collect();
    assert_eq!(seen, STEP_TYPES.into_iter().collect());
}

#[test]
fn invalid_periods_report_the_fristen_reason() {
    let text = VALID.replace(
        "    outcome: ok",
        "    outcome: ok\n  warten:\n    type: wait\n    title: W\n    until: { period: { period: P4X } }\n    next: fertig",
    );
    assert_eq!(
        errors(&text),
        [
            "w.yaml:22:32: Fehler: ungültiger Wert in steps.warten.until.period.period: „P4X“ ist \
          keine gültige Dauer: „X“ ist keine zulässige Einheit (erlaubt: Y, M, W, D). Erlaubt \
          sind ISO-8601-Dauern wie P10D, P4W, P6M, P1Y, P1Y6M und P1M15D (ein Monat und ein \
          halber Monat) sowie halbes-jahr, vierteljahr und halber-monat."
        ]
    );
}

#[test]
fn timers_on_steps_that_do_not_wait_are_explained() {
    let text = VALID.replace(
        "    outcome: ok",
        "    outcome: ok\n    timers: [{ name: t, when: { every: P1W } }]",
    );
    assert_eq!(
        errors(&text),
        [
            "w.yaml:19:5: Fehler: unbekannter Schlüssel 'timers' in steps.fertig: Timer sind nur an \
             Schritten vom Typ 'task', 'consultation' und 'wait' erlaubt, nicht an einem Schritt \
             vom Typ 'end'"
        ]
    );
}

#[test]
fn on_enter_on_gateways_is_explained() {
    let text = VALID.replace(
        "  fertig:",
        "  pruefen:\n    type: decision\n    title: P\n    conditions: [{ when: 'true', to: fertig }]\n    otherwise: fertig\n    on_enter: []\n  fertig:",
    );
    assert_eq!(
        errors(&text),
        [
            "w.yaml:20:5: Fehler: unbekannter Schlüssel 'on_enter' in steps.pruefen: on_enter-Effekte \
             sind nur an Schritten vom Typ 'task', 'consultation', 'wait' und 'end' erlaubt, nicht \
             an einem Schritt vom Typ 'decision'"
        ]
    );
}

#[test]
fn a_consultation_without_participants_or_deadline_says_what_is_missing() {
    let text = VALID.replace(
        "  fertig:",
        "  beteiligung:
    type: consultation
    title: Beteiligung
    role: r
    question: Stellungnahme?
    invitation: einladung
    next: fertig
  fertig:",
    );
    assert_eq!(
        errors(&text),
        [
            "w.yaml:16:5: Fehler: in steps.beteiligung fehlen die Schlüssel 'participants' und \
             'deadline': ein Schritt vom Typ 'consultation' braucht das Datenfeld mit den \
             einzuladenden Organisationen (participants: data.beteiligte); ein Schritt vom Typ \
             'consultation' braucht eine Antwortfrist (deadline: { period: P4W })"
        ]
    );
}

#[test]
fn two_actions_with_the_same_name_are_a_duplicate_key() {
    let text = VALID.replace(
        "        to: fertig",
        "        to: fertig\n      weiter:\n        title: Nochmal\n        to: fertig",
    );
    assert_eq!(
        errors(&text),
        ["w.yaml:15:7: Fehler: doppelter Schlüssel 'weiter' (zuerst bei 12:7)"]
    );
}

#[test]
fn errors_of_all_steps_and_several_per_step_are_reported() {
    let text = "\
workflow: w
title: W
roles: { r: { title: R } }
start: a
steps:
  a:
    type: task
    title: A
    role: r
    actions:
      x: { title: X, to: b, requires: [f] }
      y: { title: Y }
    on_enter:
      - mial: { template: t, to: applicant }
  b:
    type: wait
    title: B
    until: { date: d }
    next: a
    timers:
      - { name: t, when: { every: P1Wx } }
      - { name: u, when: { afterr: { period: P1W } } }
  c:
    type: end
    title: C
    outcome: [ok]
";
    assert_eq!(
        errors(text),
        [
            "w.yaml:11:29: Fehler: unbekannter Schlüssel 'requires' in steps.a.actions.x (meinten Sie 'require'?)",
            "w.yaml:12:10: Fehler: in steps.a.actions.y fehlt der Schlüssel 'to'",
            "w.yaml:14:9: Fehler: unbekannter Schlüssel 'mial' in steps.a.on_enter[0] (meinten Sie 'mail'?)",
            "w.yaml:21:35: Fehler: ungültiger Wert in steps.b.timers[0].when.every: „P1Wx“ ist keine \
             gültige Dauer: „x“ ist keine zulässige Einheit (erlaubt: Y, M, W, D). Erlaubt sind \
             ISO-8601-Dauern wie P10D, P4W, P6M, P1Y, P1Y6M und P1M15D (ein Monat und ein halber \
             Monat) sowie halbes-jahr, vierteljahr und halber-monat.",
            "w.yaml:22:28: Fehler: unbekannter Schlüssel 'afterr' in steps.b.timers[1].when (meinten Sie 'after'?)",
            "w.yaml:26:14: Fehler: in steps.c.outcome wird ein Text erwartet, gefunden: eine Liste",
        ]
    );
}

#[test]
fn enums_written_as_mappings_need_exactly_one_key() {
    let text = VALID.replace(
        "    outcome: ok",
        "    outcome: ok\n    on_enter:\n      - { mail: { template: t, to: applicant }, set: { x: 1 } }",
    );
    assert_eq!(
        errors(&text),
        [
            "w.yaml:20:9: Fehler: in steps.fertig.on_enter[0] wird genau ein Schlüssel (erlaubt: \
             mail, set, escalate, start_case) erwartet, gefunden: 2 Schlüssel (mail, set)"
        ]
    );
}

#[test]
fn yaml_problems_are_reported_with_positions() {
    assert_eq!(
        errors("workflow: w\n title: x\n"),
        ["w.yaml:2:7: Fehler: YAML-Syntaxfehler: mapping values are not allowed in this context"]
    );
    assert_eq!(
        errors("workflow: &k w\ntitle: *k\n"),
        [
            "w.yaml:1:14: Fehler: Anker (&name) werden in Workflow-Dateien nicht unterstützt; \
             schreiben Sie den Wert aus",
            "w.yaml:2:8: Fehler: Aliase (*name) werden in Workflow-Dateien nicht unterstützt; \
             schreiben Sie den Wert aus",
        ]
    );
    assert_eq!(
        errors(""),
        [
            "w.yaml:1:1: Fehler: in der Workflow-Definition wird eine Zuordnung erwartet, gefunden: \
             ein leerer Wert"
        ]
    );
}

#[test]
fn the_deepest_accepted_nesting_loads_without_exhausting_the_stack() {
    let depth = crate::engine::yaml::MAX_DEPTH - 6;
    let value = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    let text = VALID.replace(
        "        to: fertig",
        &format!("        to: fertig\n        set: {{ x: {value} }}"),
    );
    assert!(parse_definition("w.yaml", &text).is_ok());
    let too_deep = VALID.replace(
        "        to: fertig",
        &format!("        to: fertig\n        set: {{ x: [{value}] }}"),
    );
    assert_eq!(
        errors(&too_deep),
        ["w.yaml:15:77: Fehler: eine Verschachtelung tiefer als 64 Ebenen wird nicht unterstützt"]
    );
}

#[test]
fn a_definition_survives_a_json_round_trip() {
    let definition = parse_definition("ki.yaml", KI_ANTRAG).unwrap();
    let json = serde_json::to_string(&definition).unwrap();
    let back: Definition = serde_json::from_str(&json).unwrap();
    assert_eq!(back, definition);
}

/// Texts near real workflow files: the example with characters deleted, replaced or inserted.
fn mutated_example() -> impl Strategy<Value = String> {
    let edits = prop::collection::vec(
        (
            0..KI_ANTRAG.len(),
            0u8..4,
            prop::sample::select(vec![
                ":", "-", " ", "\n", "{", "}", "[", "]", "&a", "*a", "!t", "'", "\"", "#", "|",
                "?", ",", "\t", "~", "0", "type: ", "P", "ä", "---\n",
            ]),
        ),
        1..8,
    );
    edits.prop_map(|edits| {
        let mut text = KI_ANTRAG.to_string();
        for (at, kind, insert) in edits {
            let mut at = at.min(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
            match kind {
                0 => text.replace_range(at..end, ""),
                1 => text.replace_range(at..end, insert),
                2 => text.insert_str(at, insert),
                _ => {
                    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
                    text.replace_range(at..line_end, "");
                }
            }
        }
        text
    })
}

proptest! {
    #[test]
    fn random_text_never_panics(text in "[a-z:{}\\[\\],&*!|>'\"#?~ \\n\\t-]{0,200}") {
        let _ = parse_definition("fuzz.yaml", &text);
    }

    #[test]
    fn mutated_workflows_never_panic(text in mutated_example()) {
        if let Ok(loaded) = load_definition("fuzz.yaml", &text) {
            let _ = crate::engine::validate::validate(
                &loaded.definition,
                &loaded.tree,
                &crate::engine::test_support::context(),
            );
        }
    }
}

#[test]
fn wrong_shapes_and_values_are_worded_in_german() {
    let text = VALID
        .replace(
            "start: entwurf\n",
            "retention_years: -1\nstart: entwurf\ndata:\n  a: { type: [text], label: A }\n  \
             b: { type: txt, label: B, partner_visible: ja, min: viel }\n",
        )
        .replace(
            "    outcome: ok",
            "    outcome: ok\n    on_enter:\n      - {}\n      - mail: { template: t, to: { \
             participants: x } }\n      - start_case\n  warten:\n    type: wait\n    title: W\n    \
             until: message\n    next: fertig\n  kaputt: [x]\n  leer:\n    type:\n",
        );
    assert_eq!(
        errors(&text),
        [
            "w.yaml:5:18: Fehler: in retention_years wird eine ganze Zahl ab 0 erwartet, gefunden: \
             die Zahl -1",
            "w.yaml:8:14: Fehler: in data.a.type wird ein Wert (erlaubt: text, long_text, date, \
             number, boolean, enum, organisation, organisations, document, group, list) erwartet, \
             gefunden: eine Liste",
            "w.yaml:9:14: Fehler: unbekannter Wert 'txt' in data.b.type (meinten Sie 'text'?)",
            "w.yaml:9:46: Fehler: in data.b.partner_visible wird ein Wahrheitswert (true oder false) \
             erwartet, gefunden: der Text 'ja'",
            "w.yaml:9:55: Fehler: in data.b.min wird eine Zahl erwartet, gefunden: der Text 'viel'",
            "w.yaml:24:9: Fehler: in steps.fertig.on_enter[0] wird genau ein Schlüssel (erlaubt: \
             mail, set, escalate, start_case) erwartet, gefunden: kein Schlüssel",
            "w.yaml:25:50: Fehler: ungültiger Wert in steps.fertig.on_enter[1].mail.to.participants: \
             zu 'participants' gehört kein Wert; schreiben Sie nur 'participants'",
            "w.yaml:26:9: Fehler: ungültiger Wert in steps.fertig.on_enter[2]: 'start_case' braucht \
             hier einen Wert; schreiben Sie 'start_case: …'",
            "w.yaml:30:12: Fehler: ungültiger Wert in steps.warten.until: 'message' braucht hier \
             einen Wert; schreiben Sie 'message: …'",
            "w.yaml:32:11: Fehler: in steps.kaputt wird eine Zuordnung erwartet, gefunden: eine Liste",
            "w.yaml:34:5: Fehler: in steps.leer.type wird ein Schritttyp (erlaubt: task, \
             consultation, decision, parallel, join, wait, end) erwartet, gefunden: ein leerer Wert",
        ]
    );
    let text = VALID.replace("start: entwurf\n", "retention_years: 1.5\nstart: entwurf\n");
    assert_eq!(
        errors(&text),
        [
            "w.yaml:5:18: Fehler: in retention_years wird eine ganze Zahl ab 0 erwartet, gefunden: \
             die Zahl 1.5"
        ]
    );
}
