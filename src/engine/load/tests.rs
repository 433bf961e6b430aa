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
            "w.yaml:14:9: error: unknown key 'tto' in steps.entwurf.actions.weiter (did you mean 'to'?)"
        ]
    );
}

#[test]
fn unknown_keys_without_a_close_field_list_the_allowed_ones() {
    let text = VALID.replace("  r: { title: R }", "  r: { title: R, farbe: blau }");
    assert_eq!(
        errors(&text),
        ["w.yaml:4:18: error: unknown key 'farbe' in roles.r (expected one of: title)"]
    );
}

#[test]
fn wrong_types_point_at_the_value() {
    let text = VALID.replace("        title: Weiter", "        title: [Weiter]");
    assert_eq!(
        errors(&text),
        [
            "w.yaml:13:16: error: expected a string for steps.entwurf.actions.weiter.title, found a sequence"
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
        ["w.yaml:8:5: error: missing key 'role' in steps.entwurf"]
    );
    let text = VALID
        .replace("title: W\n", "")
        .replace("start: entwurf\n", "");
    assert_eq!(
        errors(&text),
        ["w.yaml:1:1: error: missing keys 'title' and 'start' in the workflow definition"]
    );
}

#[test]
fn missing_start_is_reported() {
    let text = VALID.replace("start: entwurf\n", "");
    assert_eq!(
        errors(&text),
        ["w.yaml:1:1: error: missing key 'start' in the workflow definition"]
    );
}

#[test]
fn unknown_step_types_are_reported_with_a_suggestion() {
    let text = VALID.replace("    type: end", "    type: ende");
    assert_eq!(
        errors(&text),
        [
            "w.yaml:16:11: error: unknown step type 'ende' in steps.fertig.type (did you mean 'end'?)"
        ]
    );
    let text = VALID.replace("    type: end", "    type: stop");
    assert_eq!(
        errors(&text),
        [
            "w.yaml:16:11: error: unknown step type 'stop' in steps.fertig.type (expected one of: \
          task, consultation, decision, parallel, join, wait, end)"
        ]
    );
    let text = VALID.replace("    type: end\n", "");
    assert_eq!(
        errors(&text),
        [
            "w.yaml:16:5: error: missing key 'type' in steps.fertig (one of: task, consultation, \
          decision, parallel, join, wait, end)"
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
            "w.yaml:22:32: error: invalid value for steps.warten.until.period.period: „P4X“ ist \
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
            "w.yaml:19:5: error: unknown key 'timers' in steps.fertig: timers are only allowed on \
          task, consultation and wait steps, not on an end step"
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
            "w.yaml:20:5: error: unknown key 'on_enter' in steps.pruefen: on_enter effects are only \
          allowed on task, consultation, wait and end steps, not on a decision step"
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
            "w.yaml:16:5: error: missing keys 'participants' and 'deadline' in steps.beteiligung: a \
          consultation needs the data field of the organisations to invite (participants: \
          data.beteiligte); a consultation needs an answer deadline (deadline: { period: P4W })"
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
        ["w.yaml:15:7: error: duplicate key 'weiter' (first at 12:7)"]
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
            "w.yaml:11:29: error: unknown key 'requires' in steps.a.actions.x (did you mean 'require'?)",
            "w.yaml:12:10: error: missing key 'to' in steps.a.actions.y",
            "w.yaml:14:9: error: unknown key 'mial' in steps.a.on_enter[0] (did you mean 'mail'?)",
            "w.yaml:21:35: error: invalid value for steps.b.timers[0].when.every: „P1Wx“ ist keine \
             gültige Dauer: „x“ ist keine zulässige Einheit (erlaubt: Y, M, W, D). Erlaubt sind \
             ISO-8601-Dauern wie P10D, P4W, P6M, P1Y, P1Y6M und P1M15D (ein Monat und ein halber \
             Monat) sowie halbes-jahr, vierteljahr und halber-monat.",
            "w.yaml:22:28: error: unknown key 'afterr' in steps.b.timers[1].when (did you mean 'after'?)",
            "w.yaml:26:14: error: expected a string for steps.c.outcome, found a sequence",
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
            "w.yaml:20:9: error: invalid value for steps.fertig.on_enter[0]: expected exactly one key \
          (one of: mail, set, escalate, start_case), found 2: mail, set"
        ]
    );
}

#[test]
fn yaml_problems_are_reported_with_positions() {
    assert_eq!(
        errors("workflow: w\n title: x\n"),
        ["w.yaml:2:7: error: YAML syntax error: mapping values are not allowed in this context"]
    );
    assert_eq!(
        errors("workflow: &k w\ntitle: *k\n"),
        [
            "w.yaml:1:14: error: anchors (&name) are not supported in workflow files; write the value out",
            "w.yaml:2:8: error: aliases (*name) are not supported in workflow files; write the value out",
        ]
    );
    assert_eq!(
        errors(""),
        ["w.yaml:1:1: error: expected a mapping for the workflow definition, found an empty value"]
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
        ["w.yaml:15:77: error: nesting deeper than 64 levels is not supported"]
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
