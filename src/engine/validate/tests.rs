//! One test per check. Every snippet starts with `HEAD` (12 lines), so steps start at line 13.

use super::*;
use crate::engine::load::load_definition;
use crate::engine::test_support::{KI_ANTRAG, context};

const HEAD: &str = "\
workflow: w
title: W
roles:
  r: { title: R }
data:
  tag: { type: date, label: Tag }
  orgs: { type: organisations, label: Stellen }
  text: { type: text, label: Text }
  flag: { type: boolean, label: Flag }
  gruppe: { type: group, label: Gruppe, fields: { status: { type: enum, label: S, options: { a: A } } } }
start: a
steps:
";

/// An end step to finish snippets with.
const END: &str = "  ende:\n    type: end\n    title: Ende\n    outcome: ok\n";

/// Loads (structural errors fail the test) and validates; all diagnostics as printed.
fn check(text: &str) -> Vec<String> {
    let loaded = load_definition("w.yaml", text).unwrap_or_else(|diagnostics| {
        panic!(
            "structural errors:\n{}",
            diagnostics
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    validate(&loaded.definition, &loaded.tree, &context())
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// `check` with `HEAD` in front, keeping the diagnostics that contain `needle`.
fn check_steps(steps: &str, needle: &str) -> Vec<String> {
    check(&format!("{HEAD}{steps}"))
        .into_iter()
        .filter(|line| line.contains(needle))
        .collect()
}

/// A task `a` with one action `weiter` to `to`.
fn task_to(to: &str) -> String {
    format!(
        "  a:\n    type: task\n    title: A\n    role: r\n    actions:\n      weiter: {{ title: W, to: {to} }}\n"
    )
}

#[test]
fn the_documented_example_is_valid() {
    let loaded = load_definition("workflows/ki-antrag.yaml", KI_ANTRAG).unwrap();
    let diagnostics = validate(&loaded.definition, &loaded.tree, &context());
    assert_eq!(diagnostics, Vec::new());
}

#[test]
fn a_minimal_workflow_is_valid() {
    assert_eq!(
        check(&format!("{HEAD}{}{END}", task_to("ende"))),
        Vec::<String>::new()
    );
}

#[test]
fn unknown_start_step() {
    let text = format!(
        "{}{}{END}",
        HEAD.replace("start: a", "start: aa"),
        task_to("ende")
    );
    assert_eq!(
        check(&text),
        ["w.yaml:11:8: Fehler: unbekannter Schritt 'aa' in start (meinten Sie 'a'?)"]
    );
}

#[test]
fn unknown_steps_in_actions_conditions_and_next() {
    let steps = "  a:
    type: task
    title: A
    role: r
    actions:
      weiter: { title: W, to: pruefng }
  pruefung:
    type: decision
    title: P
    conditions:
      - { when: data.flag, to: wartn }
    otherwise: endee
  warten:
    type: wait
    title: W
    until: { message: los }
    next: ened
  ende:
    type: end
    title: Ende
    outcome: ok
";
    assert_eq!(
        check_steps(steps, "unbekannter Schritt"),
        [
            "w.yaml:18:31: Fehler: unbekannter Schritt 'pruefng' in steps.a.actions.weiter.to (meinten Sie 'pruefung'?)",
            "w.yaml:23:32: Fehler: unbekannter Schritt 'wartn' in steps.pruefung.conditions[0].to (meinten Sie 'warten'?)",
            "w.yaml:24:16: Fehler: unbekannter Schritt 'endee' in steps.pruefung.otherwise (meinten Sie 'ende'?)",
            "w.yaml:29:11: Fehler: unbekannter Schritt 'ened' in steps.warten.next (meinten Sie 'ende'?)",
        ]
    );
}

#[test]
fn unknown_steps_in_branches_join_consultation_and_timers() {
    let steps = "  a:
    type: parallel
    title: A
    branches: [b, cc]
    join: jion
  b:
    type: consultation
    title: B
    role: r
    question: Q?
    participants: data.orgs
    deadline: { period: P4W }
    invitation: beteiligung_einladung
    next: jn
    timers:
      - { name: t, when: { after: { period: P6W } }, to: xende }
  c:
    type: join
    title: C
    next: endx
  j:
    type: join
    title: J
    next: ende
";
    assert_eq!(
        check_steps(&format!("{steps}{END}"), "unbekannter Schritt"),
        [
            "w.yaml:16:19: Fehler: unbekannter Schritt 'cc' in steps.a.branches[1] (meinten Sie 'c'?)",
            "w.yaml:17:11: Fehler: unbekannter Schritt 'jion' in steps.a.join (bekannt: a, b, c, j, ende)",
            "w.yaml:26:11: Fehler: unbekannter Schritt 'jn' in steps.b.next (meinten Sie 'j'?)",
            "w.yaml:28:58: Fehler: unbekannter Schritt 'xende' in steps.b.timers[0].to (meinten Sie 'ende'?)",
            "w.yaml:32:11: Fehler: unbekannter Schritt 'endx' in steps.c.next (meinten Sie 'ende'?)",
        ]
    );
}

#[test]
fn the_key_is_plain_enough_for_addresses_and_not_the_editors_own() {
    let with = |key: &str| {
        let head = HEAD.replace("workflow: w", &format!("workflow: '{key}'"));
        check(&format!("{head}{}{END}", task_to("ende")))
            .into_iter()
            .filter(|l| l.contains("der Schlüssel '"))
            .collect::<Vec<_>>()
    };
    for fine in [
        "w",
        "ki-antrag",
        "ki_betrieb_2",
        "2027-raeume",
        &"k".repeat(64),
    ] {
        assert!(with(fine).is_empty(), "{fine}: {:?}", with(fine));
    }
    for wrong in [
        "",
        "KI-Antrag",
        "ki antrag",
        "ki/antrag",
        "-ki",
        "räume",
        &"k".repeat(65),
    ] {
        let errors = with(wrong);
        assert_eq!(errors.len(), 1, "{wrong}: {errors:?}");
        assert!(
            errors[0].starts_with(&format!(
                "w.yaml:1:11: Fehler: der Schlüssel '{wrong}' taugt nicht als Name des Workflows"
            )),
            "{errors:?}"
        );
    }
    assert_eq!(
        with("neu"),
        [
            "w.yaml:1:11: Fehler: der Schlüssel 'neu' ist vergeben: /admin/workflows/neu ist die Adresse des Editors für neue Workflows"
        ]
    );
}

#[test]
fn a_withdrawal_names_itself_with_text_or_not_at_all() {
    let with = |titles: &str| {
        let head = HEAD.replace(
            "start: a",
            &format!("withdraw: {{ roles: [r], outcome: eingestellt{titles} }}\nstart: a"),
        );
        check(&format!("{head}{}{END}", task_to("ende")))
            .into_iter()
            .filter(|l| l.contains("withdraw"))
            .collect::<Vec<_>>()
    };
    assert!(with("").is_empty());
    assert!(with(", title: Arbeit einstellen, outcome_title: Eingestellt").is_empty());
    assert_eq!(
        with(", title: '  ', outcome_title: ''"),
        [
            "w.yaml:11:54: Fehler: withdraw.title darf nicht leer sein; ohne die Angabe gilt der Standardtext",
            "w.yaml:11:75: Fehler: withdraw.outcome_title darf nicht leer sein; ohne die Angabe gilt der Standardtext",
        ]
    );
}

#[test]
fn unknown_roles() {
    let text = format!(
        "{}{}",
        HEAD.replace(
            "start: a",
            "withdraw: { roles: [rr], outcome: zurueck }\nstart: a"
        ),
        "  a:
    type: task
    title: A
    role: koordination
    on_enter:
      - mail: { template: antrag_eingegangen, to: { role: R } }
    actions:
      weiter: { title: W, to: b }
  b:
    type: consultation
    title: B
    role: x
    question: Q?
    participants: data.orgs
    deadline: { period: P4W }
    invitation: beteiligung_einladung
    next: ende
"
    );
    assert_eq!(
        check(&format!("{text}{END}"))
            .into_iter()
            .filter(|l| l.contains("Rolle"))
            .collect::<Vec<_>>(),
        [
            "w.yaml:11:21: Fehler: unbekannte Rolle 'rr' in withdraw.roles[0] (meinten Sie 'r'?)",
            "w.yaml:17:11: Fehler: unbekannte Rolle 'koordination' in steps.a.role (bekannt: r)",
            "w.yaml:19:59: Fehler: unbekannte Rolle 'R' in steps.a.on_enter[0].mail.to.role (meinten Sie 'r'?)",
            "w.yaml:25:11: Fehler: unbekannte Rolle 'x' in steps.b.role (bekannt: r)",
        ]
    );
}

#[test]
fn unknown_templates() {
    let steps = "  a:
    type: consultation
    title: A
    role: r
    question: Q?
    participants: data.orgs
    deadline: { period: P4W }
    invitation: beteiligung_einladng
    remind:
      - { before: P1W, template: erinnerung }
    next: ende
    timers:
      - name: t
        when: { after: { period: P5W } }
        effects:
          - escalate: { template: eskalation, to: { role: r } }
  ende:
    type: end
    title: Ende
    outcome: ok
    on_enter:
      - mail: { template: fertig, to: applicant }
";
    assert_eq!(
        check_steps(steps, "Mailvorlage"),
        [
            "w.yaml:20:17: Fehler: unbekannte Mailvorlage 'beteiligung_einladng' in steps.a.invitation (meinten Sie 'beteiligung_einladung'?)",
            "w.yaml:22:34: Fehler: unbekannte Mailvorlage 'erinnerung' in steps.a.remind[0].template (erwartet werden templates/mail/erinnerung.subject.hbs, erinnerung.text.hbs und erinnerung.html.hbs)",
            "w.yaml:28:35: Fehler: unbekannte Mailvorlage 'eskalation' in steps.a.timers[0].effects[0].escalate.template (erwartet werden templates/mail/eskalation.subject.hbs, eskalation.text.hbs und eskalation.html.hbs)",
            "w.yaml:34:27: Fehler: unbekannte Mailvorlage 'fertig' in steps.ende.on_enter[0].mail.template (erwartet werden templates/mail/fertig.subject.hbs, fertig.text.hbs und fertig.html.hbs)",
        ]
    );
}

#[test]
fn unknown_data_fields_in_require() {
    let steps = "  a:
    type: task
    title: A
    role: r
    actions:
      weiter: { title: W, to: ende, require: [txt, gruppe.stauts, text.x, data.flag] }
";
    assert_eq!(
        check_steps(&format!("{steps}{END}"), "Datenfeld"),
        [
            "w.yaml:18:47: Fehler: unbekanntes Datenfeld 'txt' in steps.a.actions.weiter.require[0] (meinten Sie 'text'?)",
            "w.yaml:18:52: Fehler: unbekanntes Datenfeld 'gruppe.stauts' in steps.a.actions.weiter.require[1] (meinten Sie 'gruppe.status'?)",
            "w.yaml:18:67: Fehler: unbekanntes Datenfeld 'text.x' in steps.a.actions.weiter.require[2] ('text' ist vom Typ text und hat keine Felder)",
        ]
    );
}

#[test]
fn participants_must_be_organisations() {
    let steps = "  a:
    type: consultation
    title: A
    role: r
    question: Q?
    participants: data.text
    deadline: { period: P4W }
    invitation: beteiligung_einladung
    next: b
  b:
    type: consultation
    title: B
    role: r
    question: Q?
    participants: data.orgz
    deadline: { period: P4W }
    invitation: beteiligung_einladung
    next: ende
";
    assert_eq!(
        check_steps(&format!("{steps}{END}"), "Datenfeld"),
        [
            "w.yaml:18:19: Fehler: Datenfeld 'text' in steps.a.participants ist vom Typ text, muss aber vom Typ organisations oder organisation sein",
            "w.yaml:27:19: Fehler: unbekanntes Datenfeld 'orgz' in steps.b.participants (meinten Sie 'orgs'?)",
        ]
    );
}

#[test]
fn dates_must_be_date_fields() {
    let steps = "  a:
    type: task
    title: A
    role: r
    actions:
      weiter: { title: W, to: b }
    timers:
      - { name: t, when: { at: text } }
      - { name: u, when: { after: { period: P1M, from: tga } } }
  b:
    type: wait
    title: B
    until: { date: flag }
    next: ende
";
    assert_eq!(
        check_steps(&format!("{steps}{END}"), "Datenfeld"),
        [
            "w.yaml:20:32: Fehler: Datenfeld 'text' in steps.a.timers[0].when.at ist vom Typ text, muss aber vom Typ date sein",
            "w.yaml:21:56: Fehler: unbekanntes Datenfeld 'tga' in steps.a.timers[1].when.after.from (meinten Sie 'tag'?)",
            "w.yaml:25:20: Fehler: Datenfeld 'flag' in steps.b.until.date ist vom Typ boolean, muss aber vom Typ date sein",
        ]
    );
}

#[test]
fn set_keys_and_values_must_fit_the_schema() {
    let steps = "  a:
    type: task
    title: A
    role: r
    actions:
      weiter:
        title: W
        to: ende
        set: { flg: true, flag: ja, gruppe: { status: b }, tag: 2026-02-30, text: null }
";
    assert_eq!(
        check_steps(&format!("{steps}{END}"), "Datenfeld"),
        [
            "w.yaml:21:16: Fehler: unbekanntes Datenfeld 'flg' in steps.a.actions.weiter.set.flg (meinten Sie 'flag'?)",
            "w.yaml:21:33: Fehler: Wert für Datenfeld 'flag' in steps.a.actions.weiter.set.flag muss ein Wahrheitswert (true oder false) sein, gefunden: der Text 'ja'",
            "w.yaml:21:45: Fehler: Wert für Datenfeld 'gruppe' in steps.a.actions.weiter.set.gruppe (Feld 'status') muss eine der Optionen sein (erlaubt: a), gefunden: der Text 'b'",
            "w.yaml:21:65: Fehler: Wert für Datenfeld 'tag' in steps.a.actions.weiter.set.tag muss ein Datum im Format JJJJ-MM-TT sein, gefunden: der Text '2026-02-30'",
        ]
    );
}

#[test]
fn start_case_needs_known_workflow_and_data() {
    let steps = "  a:
    type: task
    title: A
    role: r
    actions:
      weiter: { title: W, to: ende }
  ende:
    type: end
    title: Ende
    outcome: ok
    on_enter:
      - start_case: { workflow: ki-betreib, data: { beginn: data.tga } }
";
    assert_eq!(
        check_steps(steps, "start_case"),
        [
            "w.yaml:24:33: Fehler: unbekannter Workflow 'ki-betreib' in steps.ende.on_enter[0].start_case.workflow (meinten Sie 'ki-betrieb'?)",
            "w.yaml:24:61: Fehler: unbekanntes Datenfeld 'tga' in steps.ende.on_enter[0].start_case.data.beginn (meinten Sie 'tag'?)",
        ]
    );
}

#[test]
fn unknown_rules() {
    let steps = "  a:
    type: task
    title: A
    role: r
    actions:
      weiter: { title: W, to: ende, rules: [antragsberechtig, ein_standort, zauberei] }
";
    assert_eq!(
        check_steps(&format!("{steps}{END}"), "Regel"),
        [
            "w.yaml:18:45: Fehler: unbekannte Regel 'antragsberechtig' in steps.a.actions.weiter.rules[0] (meinten Sie 'antragsberechtigt'?)",
            "w.yaml:18:77: Fehler: unbekannte Regel 'zauberei' in steps.a.actions.weiter.rules[2] (bekannt: antragsberechtigt, ein_standort)",
        ]
    );
}

/// Where the file's text does not map one to one onto the expression (escapes), the position
/// inside the expression is named in the message instead.
#[test]
fn expressions_that_do_not_compile_point_into_the_expression() {
    let steps = "  a:
    type: task
    title: A
    role: r
    actions:
      weiter:
        title: W
        to: ende
        guard:
          - { expr: data.flag = true, message: Nein }
          - expr: |
              data.flag &&
              data.text ==
            message: Nein
          - { expr: \"data.text = \\\"x\\\"\", message: Nein }
";
    assert_eq!(
        check_steps(&format!("{steps}{END}"), "Ausdruck"),
        [
            "w.yaml:22:31: Fehler: Ausdruck in steps.a.actions.weiter.guard[0].expr lässt sich nicht übersetzen: Syntax error: token recognition error at: '= '",
            "w.yaml:25:27: Fehler: Ausdruck in steps.a.actions.weiter.guard[1].expr lässt sich nicht übersetzen: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}",
            "w.yaml:27:21: Fehler: Ausdruck in steps.a.actions.weiter.guard[2].expr lässt sich nicht übersetzen (bei 1:11 des Ausdrucks): Syntax error: token recognition error at: '= '",
        ]
    );
}

#[test]
fn expressions_that_read_unknown_fields() {
    let steps = "  a:
    type: decision
    title: A
    conditions:
      - when: \"data.flag && size(data.orgz) > 2\"
        to: ende
      - when: has(data.gruppe.status) && data.text.laenge > 3
        to: ende
    otherwise: ende
";
    assert_eq!(
        check_steps(&format!("{steps}{END}"), "Ausdruck"),
        [
            "w.yaml:17:34: Fehler: Ausdruck in steps.a.conditions[0].when liest ein unbekanntes Datenfeld 'orgz' (meinten Sie 'orgs'?)",
            "w.yaml:19:42: Fehler: Ausdruck in steps.a.conditions[1].when liest ein unbekanntes Datenfeld 'text.laenge' ('text' ist vom Typ text und hat keine Felder)",
        ]
    );
}

#[test]
fn unreachable_steps() {
    let steps = format!(
        "{}  b:\n    type: task\n    title: B\n    role: r\n    actions:\n      weiter: {{ title: W, to: ende }}\n{END}",
        task_to("ende")
    );
    assert_eq!(
        check(&format!("{HEAD}{steps}")),
        ["w.yaml:19:3: Fehler: Schritt 'b' ist vom Startschritt 'a' aus nicht erreichbar"]
    );
}

#[test]
fn steps_that_cannot_reach_an_end() {
    let steps = format!(
        "{}  b:\n    type: task\n    title: B\n    role: r\n    actions:\n      zurueck: {{ title: Z, to: a }}\n{END}",
        task_to("b")
    );
    assert_eq!(
        check(&format!("{HEAD}{steps}")),
        [
            "w.yaml:13:3: Fehler: vom Schritt 'a' aus ist kein Schritt vom Typ 'end' erreichbar: ein Vorgang dort könnte nie enden",
            "w.yaml:19:3: Fehler: vom Schritt 'b' aus ist kein Schritt vom Typ 'end' erreichbar: ein Vorgang dort könnte nie enden",
            "w.yaml:25:3: Fehler: Schritt 'ende' ist vom Startschritt 'a' aus nicht erreichbar",
        ]
    );
}

/// A parallel `a` over `b` and `c` joined in `j`; `b_to`/`c_to` are where the branches go.
fn fork(b_to: &str, c_to: &str, extra: &str) -> String {
    format!(
        "{HEAD}  a:
    type: parallel
    title: A
    branches: [b, c]
    join: j
  b:
    type: task
    title: B
    role: r
    actions:
      weiter: {{ title: W, to: {b_to} }}
  c:
    type: task
    title: C
    role: r
    actions:
      weiter: {{ title: W, to: {c_to} }}
  j:
    type: join
    title: J
    next: ende
{extra}{END}"
    )
}

#[test]
fn a_proper_parallel_is_valid() {
    assert_eq!(check(&fork("j", "j", "")), Vec::<String>::new());
}

#[test]
fn every_branch_must_reach_its_join_not_an_end() {
    let extra = "  c2:\n    type: task\n    title: C2\n    role: r\n    actions:\n      nochmal: { title: N, to: c }\n";
    assert_eq!(
        check(&fork("ende", "c2", extra)),
        [
            "w.yaml:16:16: Fehler: Zweig 'b' des Schritts 'a' vom Typ 'parallel' kann den Vorgang im Schritt 'ende' vom Typ 'end' beenden, ohne den zugehörigen Schritt 'j' vom Typ 'join' zu erreichen",
            "w.yaml:16:19: Fehler: Zweig 'c' des Schritts 'a' vom Typ 'parallel' erreicht nie den zugehörigen Schritt 'j' vom Typ 'join'",
            "w.yaml:24:3: Fehler: vom Schritt 'c' aus ist kein Schritt vom Typ 'end' erreichbar: ein Vorgang dort könnte nie enden",
            "w.yaml:30:3: Fehler: Schritt 'j' ist vom Startschritt 'a' aus nicht erreichbar",
            "w.yaml:34:3: Fehler: vom Schritt 'c2' aus ist kein Schritt vom Typ 'end' erreichbar: ein Vorgang dort könnte nie enden",
        ]
    );
}

#[test]
fn join_without_parallel_and_parallel_without_join() {
    let text = format!(
        "{HEAD}  a:
    type: task
    title: A
    role: r
    actions:
      weiter: {{ title: W, to: j }}
  j:
    type: join
    title: J
    next: p
  p:
    type: parallel
    title: P
    branches: [x, y]
    join: x
  x:
    type: task
    title: X
    role: r
    actions:
      weiter: {{ title: W, to: ende }}
  y:
    type: task
    title: Y
    role: r
    actions:
      weiter: {{ title: W, to: x }}
{END}"
    );
    assert_eq!(
        check(&text),
        [
            "w.yaml:19:3: Fehler: Schritt 'j' vom Typ 'join' gehört zu keinem Schritt vom Typ 'parallel' (keiner nennt ihn in 'join')",
            "w.yaml:27:11: Fehler: 'x' in steps.p.join ist ein Schritt vom Typ 'task', nicht vom Typ 'join'",
        ]
    );
}

#[test]
fn a_join_used_by_two_parallels() {
    let extra = "  a2:\n    type: parallel\n    title: A2\n    branches: [b, c]\n    join: j\n";
    let text = fork("j", "j", extra).replace("    next: ende\n", "    next: a2\n");
    let lines = check(&text);
    assert!(
        lines.contains(
            &"w.yaml:38:11: Fehler: Schritt 'j' vom Typ 'join' gehört schon zum Schritt 'a' vom Typ 'parallel'; jeder Schritt vom Typ 'join' gehört zu genau einem Schritt vom Typ 'parallel'".to_string()
        ),
        "{lines:#?}"
    );
}

#[test]
fn a_parallel_needs_two_branches() {
    let text = fork("j", "j", "").replace("branches: [b, c]", "branches: [b]");
    assert_eq!(
        check(&text),
        [
            "w.yaml:16:15: Fehler: Schritt 'a' vom Typ 'parallel' braucht mindestens 2 Zweige, gefunden: 1",
            "w.yaml:24:3: Fehler: Schritt 'c' ist vom Startschritt 'a' aus nicht erreichbar",
        ]
    );
}

#[test]
fn a_decision_needs_conditions() {
    let steps = "  a:\n    type: decision\n    title: A\n    conditions: []\n    otherwise: ende\n";
    assert_eq!(
        check(&format!("{HEAD}{steps}{END}")),
        [
            "w.yaml:4:3: Warnung: Rolle 'r' ist deklariert, wird aber nie verwendet",
            "w.yaml:16:17: Fehler: Schritt 'a' vom Typ 'decision' braucht mindestens eine Bedingung; ohne Bedingung verwenden Sie direkt den Schritt aus 'otherwise'",
        ]
    );
}

#[test]
fn timers_need_unique_names_and_existing_targets() {
    let steps = "  a:
    type: task
    title: A
    role: r
    actions:
      weiter: { title: W, to: ende }
    timers:
      - { name: frist, when: { after: { period: P1M } }, to: ende }
      - { name: frist, when: { after: { period: P2M } }, to: nirgends }
      - { name: immer, when: { every: P1W }, to: ende }
";
    assert_eq!(
        check(&format!("{HEAD}{steps}{END}")),
        [
            "w.yaml:21:17: Fehler: doppelter Timer-Name 'frist' in steps.a.timers (zuerst bei 20:17); Timer-Namen müssen innerhalb eines Schritts eindeutig sein",
            "w.yaml:21:62: Fehler: unbekannter Schritt 'nirgends' in steps.a.timers[1].to (bekannt: a, ende)",
            "w.yaml:22:50: Fehler: Timer 'immer' wiederholt sich ('every') und kann daher nicht unterbrechend sein; entfernen Sie 'to' oder verwenden Sie 'after'",
        ]
    );
}

#[test]
fn participants_recipients_only_on_consultations() {
    let steps = "  a:
    type: task
    title: A
    role: r
    on_enter:
      - mail: { template: antrag_eingegangen, to: unanswered }
    actions:
      weiter: { title: W, to: ende }
";
    assert_eq!(
        check(&format!("{HEAD}{steps}{END}")),
        [
            "w.yaml:18:51: Fehler: Empfänger 'unanswered' in steps.a.on_enter[0].mail.to gibt es nur in Schritten vom Typ 'consultation'"
        ]
    );
}

#[test]
fn data_schema_must_be_consistent() {
    let text = format!(
        "{}{}{END}",
        HEAD.replace(
            "data:\n",
            "data:
  wahl: { type: enum, label: Wahl }
  leer: { type: enum, label: Leer, options: { '': Nichts } }
  name: { type: text, label: Name, options: { a: A }, min: 1 }
  gruppe2: { type: group, label: G }
  liste: { type: list, label: L, fields: { x: { type: text, label: X } } }
  zahl: { type: number, label: Z, min: 5, max: 1, items: { type: text, label: T } }
  viele: { type: list, label: V, min: 1.5, items: { type: text, label: T } }
",
        ),
        task_to("ende")
    );
    assert_eq!(
        check(&text),
        [
            "w.yaml:6:17: Fehler: Feld vom Typ enum in data.wahl braucht 'options'",
            "w.yaml:7:47: Fehler: Schlüssel der Optionen des Felds vom Typ enum in data.leer dürfen nicht leer sein",
            "w.yaml:8:36: Fehler: 'options' ist nur bei Feldern vom Typ enum erlaubt, nicht beim Feld vom Typ text in data.name",
            "w.yaml:8:55: Fehler: 'min' ist nur bei Feldern vom Typ number oder list erlaubt, nicht beim Feld vom Typ text in data.name",
            "w.yaml:9:20: Fehler: Feld vom Typ group in data.gruppe2 braucht 'fields'",
            "w.yaml:10:18: Fehler: Feld vom Typ list in data.liste braucht 'items'",
            "w.yaml:10:34: Fehler: 'fields' ist nur bei Feldern vom Typ group erlaubt, nicht beim Feld vom Typ list in data.liste",
            "w.yaml:11:48: Fehler: in data.zahl ist max (1) kleiner als min (5)",
            "w.yaml:11:51: Fehler: 'items' ist nur bei Feldern vom Typ list erlaubt, nicht beim Feld vom Typ number in data.zahl",
            "w.yaml:12:39: Fehler: 'min' des Felds vom Typ list in data.viele muss eine ganze Zahl ab 0 sein (Anzahl der Einträge)",
        ]
    );
}

#[test]
fn editors_name_known_roles_and_stay_out_of_list_items() {
    let head = HEAD
        .replace("data:\n", "data_editors: [r, rx]\ndata:\n")
        .replace(
            "  text: { type: text, label: Text }\n",
            "  text: { type: text, label: Text, editors: [] }\n  \
             liste: { type: list, label: L, items: { type: group, label: E, fields: { x: { type: text, label: X, editors: [r] } } } }\n",
        )
        .replace(
            "  flag: { type: boolean, label: Flag }\n",
            "  flag: { type: boolean, label: Flag, editors: [q] }\n",
        );
    let steps = "  a:\n    type: task\n    title: A\n    role: r\n    actions:\n      weiter: { title: W, to: ende }\n";
    assert_eq!(
        check(&format!("{head}{steps}{END}")),
        [
            "w.yaml:5:19: Fehler: unbekannte Rolle 'rx' in data_editors[1] (meinten Sie 'r'?)",
            "w.yaml:9:45: Fehler: in data.text.editors muss mindestens eine Rolle stehen (lassen Sie den Schlüssel weg, damit jede Rolle die Daten ändern darf)",
            "w.yaml:10:41: Fehler: 'editors' ist innerhalb von 'items' des Felds vom Typ list in data.liste nicht erlaubt; eine Liste wird als Ganzes geändert, setzen Sie 'editors' daher bei der Liste selbst",
            "w.yaml:11:49: Fehler: unbekannte Rolle 'q' in data.flag.editors[0] (bekannt: r)",
        ]
    );
}

#[test]
fn retention_years_run_from_one_to_a_hundred() {
    let steps = format!("{}{END}", task_to("ende"));
    let with = |years: &str| {
        check(&format!(
            "{}{steps}",
            HEAD.replace(
                "start: a\n",
                &format!("retention_years: {years}\nstart: a\n")
            )
        ))
    };
    assert_eq!(with("10"), Vec::<String>::new());
    assert_eq!(with("1"), Vec::<String>::new());
    assert_eq!(with("100"), Vec::<String>::new());
    for (years, column) in [("0", 18), ("101", 18)] {
        assert_eq!(
            with(years),
            [format!(
                "w.yaml:11:{column}: Fehler: retention_years muss zwischen 1 und 100 liegen \
                 (Jahre nach dem Ende des Jahres, in dem ein Vorgang endete), nicht {years}"
            )]
        );
    }
    let negative = format!(
        "{}{steps}",
        HEAD.replace("start: a\n", "retention_years: -1\nstart: a\n")
    );
    assert!(load_definition("w.yaml", &negative).is_err());
}

/// A task `a` moving on to a step `w` waiting for `message`, with `messages` in front of the
/// steps (empty: no section).
fn waiting_for(message: &str, messages: &str) -> String {
    let head = HEAD.replace("start: a\n", &format!("{messages}start: a\n"));
    format!(
        "{head}{}  w:\n    type: wait\n    title: W\n    until: {{ message: {message} }}\n    next: ende\n{END}",
        task_to("w")
    )
}

#[test]
fn a_declared_message_is_valid() {
    let text = waiting_for(
        "uebergeben",
        "messages:\n  uebergeben: { title: Räume übergeben }\n",
    );
    assert_eq!(check(&text), Vec::<String>::new());
}

#[test]
fn an_undeclared_message_is_an_error_where_messages_are_declared() {
    let text = waiting_for(
        "uebergebn",
        "messages:\n  uebergeben: { title: Räume übergeben }\n",
    );
    assert_eq!(
        check(&text),
        [
            "w.yaml:12:3: Warnung: Nachricht 'uebergeben' ist deklariert, aber kein Schritt wartet auf sie",
            "w.yaml:24:23: Fehler: unbekannte Nachricht 'uebergebn' in steps.w.until.message (meinten Sie 'uebergeben'?)",
        ]
    );
}

#[test]
fn the_data_a_message_carries_must_be_declared() {
    let text = waiting_for(
        "uebergeben",
        "messages:\n  uebergeben:\n    title: Räume übergeben\n    data: [tag, gruppe.status, tagg]\n",
    );
    assert_eq!(
        check(&text),
        [
            "w.yaml:14:32: Fehler: unbekanntes Datenfeld 'tagg' in messages.uebergeben.data[2] (meinten Sie 'tag'?)"
        ]
    );
}

#[test]
fn a_file_without_messages_still_works_with_a_warning() {
    assert_eq!(
        check(&waiting_for("los", "")),
        [
            "w.yaml:22:23: Warnung: Nachricht 'los' in steps.w.until.message ist nicht deklariert; deklarieren Sie sie unter 'messages' mit einem deutschen Titel, den die Seite des Vorgangs statt des Namens zeigt"
        ]
    );
}

/// A task `a` whose action is bound to window `within`, with `windows` in front of the steps.
fn bound_to(within: &str, windows: &str) -> String {
    let head = HEAD.replace("start: a\n", &format!("{windows}start: a\n"));
    format!(
        "{head}  a:\n    type: task\n    title: A\n    role: r\n    actions:\n      weiter: {{ title: W, to: ende, within: {within} }}\n{END}"
    )
}

#[test]
fn an_action_bound_to_a_declared_window_is_valid() {
    let text = bound_to("kfi", "windows:\n  kfi: { title: Antragszeitraum }\n");
    assert_eq!(check(&text), Vec::<String>::new());
}

#[test]
fn an_undeclared_window_is_an_error_and_an_unbound_one_a_warning() {
    let text = bound_to(
        "kfj",
        "windows:\n  kfi: { title: Antragszeitraum }\n  frei: { title: Ohne Bindung }\n",
    );
    assert_eq!(
        check(&text),
        [
            "w.yaml:12:3: Warnung: Zeitraum 'kfi' ist deklariert, aber keine Aktion ist an ihn gebunden ('within')",
            "w.yaml:13:3: Warnung: Zeitraum 'frei' ist deklariert, aber keine Aktion ist an ihn gebunden ('within')",
            "w.yaml:21:45: Fehler: unbekannter Zeitraum 'kfj' in steps.a.actions.weiter.within (meinten Sie 'kfi'?)",
        ]
    );
    assert_eq!(
        check(&bound_to("kfi", "")),
        [
            "w.yaml:18:45: Fehler: unbekannter Zeitraum 'kfi' in steps.a.actions.weiter.within (keine deklariert)"
        ]
    );
}
