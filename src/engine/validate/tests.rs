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
        ["w.yaml:11:8: error: unknown step 'aa' in start (did you mean 'a'?)"]
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
        check_steps(steps, "unknown step"),
        [
            "w.yaml:18:31: error: unknown step 'pruefng' in steps.a.actions.weiter.to (did you mean 'pruefung'?)",
            "w.yaml:23:32: error: unknown step 'wartn' in steps.pruefung.conditions[0].to (did you mean 'warten'?)",
            "w.yaml:24:16: error: unknown step 'endee' in steps.pruefung.otherwise (did you mean 'ende'?)",
            "w.yaml:29:11: error: unknown step 'ened' in steps.warten.next (did you mean 'ende'?)",
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
        check_steps(&format!("{steps}{END}"), "unknown step"),
        [
            "w.yaml:16:19: error: unknown step 'cc' in steps.a.branches[1] (did you mean 'c'?)",
            "w.yaml:17:11: error: unknown step 'jion' in steps.a.join (known: a, b, c, j, ende)",
            "w.yaml:26:11: error: unknown step 'jn' in steps.b.next (did you mean 'j'?)",
            "w.yaml:28:58: error: unknown step 'xende' in steps.b.timers[0].to (did you mean 'ende'?)",
            "w.yaml:32:11: error: unknown step 'endx' in steps.c.next (did you mean 'ende'?)",
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
            .filter(|l| l.contains("role"))
            .collect::<Vec<_>>(),
        [
            "w.yaml:11:21: error: unknown role 'rr' in withdraw.roles[0] (did you mean 'r'?)",
            "w.yaml:17:11: error: unknown role 'koordination' in steps.a.role (known: r)",
            "w.yaml:19:59: error: unknown role 'R' in steps.a.on_enter[0].mail.to.role (did you mean 'r'?)",
            "w.yaml:25:11: error: unknown role 'x' in steps.b.role (known: r)",
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
        check_steps(steps, "template"),
        [
            "w.yaml:20:17: error: unknown mail template 'beteiligung_einladng' in steps.a.invitation (did you mean 'beteiligung_einladung'?)",
            "w.yaml:22:34: error: unknown mail template 'erinnerung' in steps.a.remind[0].template (expected templates/mail/erinnerung.subject.hbs, erinnerung.text.hbs and erinnerung.html.hbs)",
            "w.yaml:28:35: error: unknown mail template 'eskalation' in steps.a.timers[0].effects[0].escalate.template (expected templates/mail/eskalation.subject.hbs, eskalation.text.hbs and eskalation.html.hbs)",
            "w.yaml:34:27: error: unknown mail template 'fertig' in steps.ende.on_enter[0].mail.template (expected templates/mail/fertig.subject.hbs, fertig.text.hbs and fertig.html.hbs)",
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
        check_steps(&format!("{steps}{END}"), "data field"),
        [
            "w.yaml:18:47: error: unknown data field 'txt' in steps.a.actions.weiter.require[0] (did you mean 'text'?)",
            "w.yaml:18:52: error: unknown data field 'gruppe.stauts' in steps.a.actions.weiter.require[1] (did you mean 'gruppe.status'?)",
            "w.yaml:18:67: error: unknown data field 'text.x' in steps.a.actions.weiter.require[2] ('text' is of type text and has no fields)",
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
        check_steps(&format!("{steps}{END}"), "data field"),
        [
            "w.yaml:18:19: error: data field 'text' in steps.a.participants is of type text, but must be of type organisations or organisation",
            "w.yaml:27:19: error: unknown data field 'orgz' in steps.b.participants (did you mean 'orgs'?)",
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
        check_steps(&format!("{steps}{END}"), "data field"),
        [
            "w.yaml:20:32: error: data field 'text' in steps.a.timers[0].when.at is of type text, but must be of type date",
            "w.yaml:21:56: error: unknown data field 'tga' in steps.a.timers[1].when.after.from (did you mean 'tag'?)",
            "w.yaml:25:20: error: data field 'flag' in steps.b.until.date is of type boolean, but must be of type date",
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
        check_steps(&format!("{steps}{END}"), "data field"),
        [
            "w.yaml:21:16: error: unknown data field 'flg' in steps.a.actions.weiter.set.flg (did you mean 'flag'?)",
            "w.yaml:21:33: error: value for data field 'flag' in steps.a.actions.weiter.set.flag must be true or false, found the string 'ja'",
            "w.yaml:21:45: error: value for data field 'gruppe' in steps.a.actions.weiter.set.gruppe (field 'status') must be one of the options (a), found the string 'b'",
            "w.yaml:21:65: error: value for data field 'tag' in steps.a.actions.weiter.set.tag must be a date (YYYY-MM-DD), found the string '2026-02-30'",
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
            "w.yaml:24:33: error: unknown workflow 'ki-betreib' in steps.ende.on_enter[0].start_case.workflow (did you mean 'ki-betrieb'?)",
            "w.yaml:24:61: error: unknown data field 'tga' in steps.ende.on_enter[0].start_case.data.beginn (did you mean 'tag'?)",
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
        check_steps(&format!("{steps}{END}"), "rule"),
        [
            "w.yaml:18:45: error: unknown rule 'antragsberechtig' in steps.a.actions.weiter.rules[0] (did you mean 'antragsberechtigt'?)",
            "w.yaml:18:77: error: unknown rule 'zauberei' in steps.a.actions.weiter.rules[2] (known: antragsberechtigt, ein_standort)",
        ]
    );
}

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
";
    assert_eq!(
        check_steps(&format!("{steps}{END}"), "expression"),
        [
            "w.yaml:22:31: error: expression in steps.a.actions.weiter.guard[0].expr does not compile: Syntax error: token recognition error at: '= '",
            "w.yaml:25:27: error: expression in steps.a.actions.weiter.guard[1].expr does not compile: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}",
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
        check_steps(&format!("{steps}{END}"), "expression"),
        [
            "w.yaml:17:34: error: expression in steps.a.conditions[0].when reads unknown data field 'orgz' (did you mean 'orgs'?)",
            "w.yaml:19:42: error: expression in steps.a.conditions[1].when reads unknown data field 'text.laenge' ('text' is of type text and has no fields)",
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
        ["w.yaml:19:3: error: step 'b' is unreachable from the start step 'a'"]
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
            "w.yaml:13:3: error: no end step can be reached from step 'a': a case there could never finish",
            "w.yaml:19:3: error: no end step can be reached from step 'b': a case there could never finish",
            "w.yaml:25:3: error: step 'ende' is unreachable from the start step 'a'",
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
            "w.yaml:16:16: error: branch 'b' of parallel step 'a' can end the case in end step 'ende' without reaching its join 'j'",
            "w.yaml:16:19: error: branch 'c' of parallel step 'a' never reaches its join 'j'",
            "w.yaml:24:3: error: no end step can be reached from step 'c': a case there could never finish",
            "w.yaml:30:3: error: step 'j' is unreachable from the start step 'a'",
            "w.yaml:34:3: error: no end step can be reached from step 'c2': a case there could never finish",
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
            "w.yaml:19:3: error: join step 'j' is not the join of any parallel step (no parallel names it in 'join')",
            "w.yaml:27:11: error: 'x' in steps.p.join is a task step, not a join step",
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
            &"w.yaml:38:11: error: join step 'j' is already the join of parallel step 'a'; each join belongs to exactly one parallel step".to_string()
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
            "w.yaml:16:15: error: parallel step 'a' needs at least 2 branches, found 1",
            "w.yaml:24:3: error: step 'c' is unreachable from the start step 'a'",
        ]
    );
}

#[test]
fn a_decision_needs_conditions() {
    let steps = "  a:\n    type: decision\n    title: A\n    conditions: []\n    otherwise: ende\n";
    assert_eq!(
        check(&format!("{HEAD}{steps}{END}")),
        [
            "w.yaml:4:3: warning: role 'r' is declared but never used",
            "w.yaml:16:17: error: decision step 'a' needs at least one condition; without one, use the step in 'otherwise' directly",
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
            "w.yaml:21:17: error: duplicate timer name 'frist' in steps.a.timers (first at 20:17); timer names must be unique within a step",
            "w.yaml:21:62: error: unknown step 'nirgends' in steps.a.timers[1].to (known: a, ende)",
            "w.yaml:22:50: error: timer 'immer' repeats ('every') and so cannot be interrupting; remove 'to' or use 'after'",
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
            "w.yaml:18:51: error: recipients 'unanswered' in steps.a.on_enter[0].mail.to exist only on consultation steps"
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
            "w.yaml:6:17: error: enum field data.wahl needs 'options'",
            "w.yaml:7:47: error: option keys of enum field data.leer must not be empty",
            "w.yaml:8:36: error: 'options' is only allowed on enum fields, not on the text field data.name",
            "w.yaml:8:55: error: 'min' is only allowed on number and list fields, not on the text field data.name",
            "w.yaml:9:20: error: group field data.gruppe2 needs 'fields'",
            "w.yaml:10:18: error: list field data.liste needs 'items'",
            "w.yaml:10:34: error: 'fields' is only allowed on group fields, not on the list field data.liste",
            "w.yaml:11:48: error: max (1) is less than min (5) in data.zahl",
            "w.yaml:11:51: error: 'items' is only allowed on list fields, not on the number field data.zahl",
            "w.yaml:12:39: error: 'min' of list field data.viele must be a whole number of items, at least 0",
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
            "w.yaml:5:19: error: unknown role 'rx' in data_editors[1] (did you mean 'r'?)",
            "w.yaml:9:45: error: data.text.editors must name at least one role (leave it out to let every role change the data)",
            "w.yaml:10:41: error: 'editors' is not allowed inside the items of list field data.liste; a list is changed as a whole, so set 'editors' on the list itself",
            "w.yaml:11:49: error: unknown role 'q' in data.flag.editors[0] (known: r)",
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
                "w.yaml:11:{column}: error: retention_years must be from 1 to 100 (years after \
                 the end of the year a case ended in), not {years}"
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
            "w.yaml:12:3: warning: message 'uebergeben' is declared but no step waits for it",
            "w.yaml:24:23: error: unknown message 'uebergebn' in steps.w.until.message (did you mean 'uebergeben'?)",
        ]
    );
}

#[test]
fn a_file_without_messages_still_works_with_a_warning() {
    assert_eq!(
        check(&waiting_for("los", "")),
        [
            "w.yaml:22:23: warning: message 'los' in steps.w.until.message is not declared; declare it under 'messages' with a German title, which the case page shows instead of the name"
        ]
    );
}
