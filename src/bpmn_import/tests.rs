//! The import read against the export (every shipped workflow exported and read back), against
//! a file as Camunda Modeler writes it, and against files it must refuse.

use std::path::Path;

use super::timers::plain_deadline;
use super::*;
use crate::engine::definition::{Step, TimerWhen, WaitFor};
use crate::engine::load::{load_definition, parse_definition};
use crate::engine::validate::{ValidationContext, validate};
use crate::render::bpmn::workflow_bpmn;

fn shipped(key: &str) -> Definition {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("workflows/{key}.yaml"));
    let text = std::fs::read_to_string(&path).unwrap();
    parse_definition(&path.display().to_string(), &text).unwrap()
}

/// The YAML of a draft parses back into the draft's definition.
fn reparsed(draft: &Draft) -> Definition {
    parse_definition("import.yaml", &draft.yaml).unwrap_or_else(|errors| {
        panic!("{errors:?}\n{}", draft.yaml);
    })
}

/// What BPMN carries of a step: its kind, title and where it leads.
fn structure(step: &Step) -> serde_json::Value {
    let timers: Vec<serde_json::Value> = step
        .timers()
        .iter()
        .map(|t| serde_json::json!([t.name, t.to, serde_json::to_value(&t.when).unwrap()]))
        .collect();
    let shape = match step {
        Step::Task(task) => serde_json::json!({
            "role": task.role,
            "actions": task.actions.iter().map(|(name, a)| serde_json::json!([
                name, a.title, a.to, a.guard.iter().map(|g| g.expr.0.trim()).collect::<Vec<_>>(),
            ])).collect::<Vec<_>>(),
        }),
        Step::Consultation(c) => serde_json::json!({
            "role": c.role,
            "participants": c.participants.as_field_path(),
            "deadline": c.deadline.period.to_string(),
            "next": c.next,
        }),
        Step::Decision(d) => serde_json::json!({
            "conditions": d.conditions.iter().map(|c| [c.when.0.trim(), &c.to]).collect::<Vec<_>>(),
            "otherwise": d.otherwise,
        }),
        Step::Parallel(p) => serde_json::json!({ "branches": p.branches, "join": p.join }),
        Step::Join(j) => serde_json::json!({ "next": j.next }),
        Step::Wait(w) => serde_json::json!({ "until": w.until, "next": w.next }),
        Step::End(e) => serde_json::json!({ "outcome": e.outcome }),
    };
    serde_json::json!({
        "type": step.type_name(),
        "title": step.title(),
        "shape": shape,
        "timers": timers,
    })
}

/// Whether BPMN can attach the step's timers: those of activities (a wait for a date or a
/// period is an event, a gateway or an end has none).
fn attachable(step: &Step) -> bool {
    match step {
        Step::Task(_) | Step::Consultation(_) => true,
        Step::Wait(wait) => matches!(wait.until, WaitFor::Message(_)),
        Step::Decision(_) | Step::Parallel(_) | Step::Join(_) | Step::End(_) => false,
    }
}

#[test]
fn every_shipped_workflow_comes_back_from_its_export_with_its_flow() {
    for key in ["ki-antrag", "ki-anregung", "ki-betrieb"] {
        let original = shipped(key);
        let draft = import_bpmn(&workflow_bpmn(&original, 3)).unwrap();
        let imported = &draft.definition;
        assert_eq!(
            reparsed(&draft),
            *imported,
            "{key}: the YAML says what was read"
        );
        assert_eq!(imported.workflow, original.workflow);
        assert_eq!(imported.title, original.title);
        assert_eq!(
            imported.description.as_deref(),
            original.description.as_deref().map(str::trim),
            "{key}"
        );
        assert_eq!(imported.start, original.start);
        assert_eq!(
            imported.steps.keys().collect::<Vec<_>>(),
            original.steps.keys().collect::<Vec<_>>(),
            "{key}: the steps in their order"
        );
        for (name, step) in &original.steps {
            let mut expected = structure(step);
            if !attachable(step) {
                expected["timers"] = serde_json::json!([]);
            }
            assert_eq!(
                structure(&imported.steps[name]),
                expected,
                "{key}: step {name}"
            );
        }
        assert_eq!(imported.withdraw, original.withdraw, "{key}");
        for (role, definition) in &imported.roles {
            assert_eq!(
                original.roles.get(role).map(|r| &r.title),
                Some(&definition.title),
                "{key}: role {role}"
            );
        }
        for (name, message) in &imported.messages {
            assert_eq!(original.messages[name].title, message.title, "{key}");
        }
    }
}

/// The fields a note on the data fields names (in „…“, before what it asks).
fn named_fields(note: &str) -> Vec<&str> {
    let listed = note.split(" werden verwendet").next().unwrap_or_default();
    listed
        .split('„')
        .skip(1)
        .filter_map(|part| part.split_once('“').map(|(name, _)| name))
        .collect()
}

#[test]
fn the_data_fields_named_are_those_of_the_original() {
    for key in ["ki-antrag", "ki-anregung", "ki-betrieb"] {
        let original = shipped(key);
        let draft = import_bpmn(&workflow_bpmn(&original, 1)).unwrap();
        let note = draft
            .notes
            .iter()
            .find(|n| n.starts_with("Die Datenfelder"))
            .expect("a note on the data fields");
        for field in named_fields(note) {
            assert!(
                original.data.contains_key(field),
                "{key}: {field} in {note}"
            );
        }
    }
}

#[test]
fn an_exported_workflow_with_its_data_declared_again_is_valid() {
    // BPMN carries the flow, not the data: with the original's data section back, the draft of
    // ki-antrag passes the validator, so only what the notes name is left to fill in.
    let original = shipped("ki-antrag");
    let draft = import_bpmn(&workflow_bpmn(&original, 1)).unwrap();
    let fields: Vec<String> = original.data.keys().cloned().collect();
    let note = draft
        .notes
        .iter()
        .find(|n| n.starts_with("Die Datenfelder"))
        .expect("a note on the data fields");
    assert!(note.contains("„beteiligte“"), "{note}");
    assert_eq!(named_fields(note).len(), 5, "{note}");
    let mut completed = draft.definition.clone();
    completed.data = original.data.clone();
    let text = to_yaml(&completed);
    let loaded = load_definition("import.yaml", &text).unwrap();
    let context = ValidationContext {
        templates: ["beteiligung_einladung", "beteiligung_erinnerung"]
            .map(String::from)
            .into(),
        ..Default::default()
    };
    let errors: Vec<_> = validate(&loaded.definition, &loaded.tree, &context)
        .into_iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{text}\n{fields:?}");
}

/// A procedure as drawn in Camunda Modeler 5: generated ids, candidate groups, JUEL-free CEL
/// conditions, a lane, a timer catch event, a message, an interrupting and a non-interrupting
/// boundary timer, a merging exclusive gateway.
const MODELER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_1"
    targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler" exporterVersion="5.30.0">
  <bpmn:message id="Message_0ab" name="Bescheid eingegangen" />
  <bpmn:collaboration id="Collaboration_1">
    <bpmn:participant id="Participant_1" processRef="Process_0x1" />
  </bpmn:collaboration>
  <bpmn:process id="Process_0x1" name="Förderantrag Sprachmittlerpool" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_1" name="Sachbearbeitung">
        <bpmn:flowNodeRef>Activity_pruefen</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1" name="Antrag geht ein">
      <bpmn:outgoing>Flow_1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:userTask id="Activity_1x2y" name="Antrag erfassen" camunda:candidateGroups="koordination, leitung">
      <bpmn:documentation>Bitte alle Anlagen hochladen.
Erinnerung an die Frist: eine Woche.</bpmn:documentation>
    </bpmn:userTask>
    <bpmn:userTask id="Activity_pruefen" name="Antrag prüfen" />
    <bpmn:exclusiveGateway id="Gateway_1" name="Vollständig?" default="Flow_nein" />
    <bpmn:exclusiveGateway id="Gateway_merge" />
    <bpmn:intermediateCatchEvent id="Event_warten" name="Zwei Wochen warten">
      <bpmn:timerEventDefinition><bpmn:timeDuration>P2W</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:intermediateCatchEvent id="Event_bescheid" name="Bescheid abwarten">
      <bpmn:messageEventDefinition messageRef="Message_0ab" />
    </bpmn:intermediateCatchEvent>
    <bpmn:parallelGateway id="Gateway_fork" />
    <bpmn:userTask id="Activity_a" name="Haushalt beteiligen" camunda:candidateGroups="koordination" />
    <bpmn:userTask id="Activity_b" name="Personalrat beteiligen" camunda:candidateGroups="koordination" />
    <bpmn:parallelGateway id="Gateway_join" />
    <bpmn:boundaryEvent id="Event_frist" name="Frist abgelaufen" attachedToRef="Activity_pruefen">
      <bpmn:outgoing>Flow_frist</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>P1M</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:boundaryEvent id="Event_erinnerung" name="Erinnerung" cancelActivity="false" attachedToRef="Activity_pruefen">
      <bpmn:timerEventDefinition><bpmn:timeCycle>R/P1W</bpmn:timeCycle></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="Event_ende" name="Bewilligt" />
    <bpmn:endEvent id="Event_abgelehnt" name="Abgelehnt" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Activity_1x2y" />
    <bpmn:sequenceFlow id="Flow_2" name="Zur Prüfung geben" sourceRef="Activity_1x2y" targetRef="Gateway_merge" />
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Gateway_merge" targetRef="Activity_pruefen" />
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Activity_pruefen" targetRef="Gateway_1" />
    <bpmn:sequenceFlow id="Flow_ja" name="ja" sourceRef="Gateway_1" targetRef="Event_warten">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">data.vollstaendig == true</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_nein" name="nein" sourceRef="Gateway_1" targetRef="Gateway_merge" />
    <bpmn:sequenceFlow id="Flow_5" sourceRef="Event_warten" targetRef="Gateway_fork" />
    <bpmn:sequenceFlow id="Flow_6" sourceRef="Gateway_fork" targetRef="Activity_a" />
    <bpmn:sequenceFlow id="Flow_7" sourceRef="Gateway_fork" targetRef="Activity_b" />
    <bpmn:sequenceFlow id="Flow_8" sourceRef="Activity_a" targetRef="Gateway_join" />
    <bpmn:sequenceFlow id="Flow_9" sourceRef="Activity_b" targetRef="Gateway_join" />
    <bpmn:sequenceFlow id="Flow_10" sourceRef="Gateway_join" targetRef="Event_bescheid" />
    <bpmn:sequenceFlow id="Flow_11" sourceRef="Event_bescheid" targetRef="Event_ende" />
    <bpmn:sequenceFlow id="Flow_frist" sourceRef="Event_frist" targetRef="Event_abgelehnt" />
  </bpmn:process>
</bpmn:definitions>
"#;

#[test]
fn a_modeler_file_becomes_steps_roles_actions_and_timers() {
    let draft = import_bpmn(MODELER).unwrap();
    let d = &draft.definition;
    assert_eq!(reparsed(&draft), *d);
    assert_eq!(d.workflow, "foerderantrag-sprachmittlerpool");
    assert_eq!(d.title, "Förderantrag Sprachmittlerpool");
    assert_eq!(d.start, "antrag_erfassen");
    assert_eq!(
        d.steps.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "antrag_erfassen",
            "antrag_pruefen",
            "vollstaendig",
            "zwei_wochen_warten",
            "bescheid_abwarten",
            "gateway_fork",
            "haushalt_beteiligen",
            "personalrat_beteiligen",
            "gateway_join",
            "bewilligt",
            "abgelehnt",
        ]
    );
    let Step::Task(erfassen) = &d.steps["antrag_erfassen"] else {
        panic!("a task")
    };
    assert_eq!(erfassen.role, "koordination", "the first candidate group");
    assert_eq!(
        erfassen.help.as_deref(),
        Some("Bitte alle Anlagen hochladen.\nErinnerung an die Frist: eine Woche."),
        "another tool's documentation is taken whole"
    );
    let action = &erfassen.actions["zur_pruefung_geben"];
    assert_eq!(action.title, "Zur Prüfung geben");
    assert_eq!(action.to, "antrag_pruefen", "through the merging gateway");
    let Step::Task(pruefen) = &d.steps["antrag_pruefen"] else {
        panic!("a task")
    };
    assert_eq!(pruefen.role, "sachbearbeitung", "the lane");
    assert_eq!(d.roles["sachbearbeitung"].title, "Sachbearbeitung");
    assert_eq!(
        pruefen.actions.keys().collect::<Vec<_>>(),
        ["weiter_vollstaendig"]
    );
    assert_eq!(
        pruefen.actions["weiter_vollstaendig"].title,
        "Weiter zu „Vollständig?“"
    );
    assert_eq!(pruefen.timers.len(), 2);
    assert_eq!(pruefen.timers[0].to.as_deref(), Some("abgelehnt"));
    assert_eq!(
        pruefen.timers[0].when,
        TimerWhen::After(plain_deadline("P1M".parse().unwrap()))
    );
    assert_eq!(pruefen.timers[1].to, None, "a reminder keeps the token");
    assert_eq!(
        pruefen.timers[1].when,
        TimerWhen::Every("P1W".parse().unwrap())
    );
    let Step::Decision(decision) = &d.steps["vollstaendig"] else {
        panic!("a decision")
    };
    assert_eq!(decision.conditions.len(), 1);
    assert_eq!(decision.conditions[0].when.0, "data.vollstaendig == true");
    assert_eq!(decision.conditions[0].to, "zwei_wochen_warten");
    assert_eq!(
        decision.otherwise, "antrag_pruefen",
        "the default flow, merged"
    );
    let Step::Wait(warten) = &d.steps["zwei_wochen_warten"] else {
        panic!("a wait")
    };
    assert_eq!(
        warten.until,
        WaitFor::Period(plain_deadline("P2W".parse().unwrap()))
    );
    let Step::Parallel(fork) = &d.steps["gateway_fork"] else {
        panic!("a parallel")
    };
    assert_eq!(
        fork.branches,
        ["haushalt_beteiligen", "personalrat_beteiligen"]
    );
    assert_eq!(fork.join, "gateway_join");
    let Step::Wait(bescheid) = &d.steps["bescheid_abwarten"] else {
        panic!("a wait")
    };
    assert_eq!(
        bescheid.until,
        WaitFor::Message("bescheid_eingegangen".into())
    );
    assert_eq!(
        d.messages["bescheid_eingegangen"].title,
        "Bescheid eingegangen"
    );
    let Step::End(end) = &d.steps["bewilligt"] else {
        panic!("an end")
    };
    assert_eq!(end.outcome, "bewilligt");

    let notes = draft.notes.join("\n");
    assert!(notes.contains("„vollstaendig“"), "{notes}");
    assert!(
        notes.contains("Der Timer „Erinnerung“ unterbricht nicht"),
        "{notes}"
    );
}

#[test]
fn what_cannot_be_counted_or_drawn_is_noted_not_invented() {
    let xml = MODELER
        .replace(
            "<bpmn:timeDuration>P2W</bpmn:timeDuration>",
            "<bpmn:timeDuration>PT36H</bpmn:timeDuration>",
        )
        .replace(
            "<bpmn:timeDuration>P1M</bpmn:timeDuration>",
            "<bpmn:timeDuration>${frist}</bpmn:timeDuration>",
        )
        .replace(
            r#"<bpmn:userTask id="Activity_pruefen" name="Antrag prüfen" />"#,
            r#"<bpmn:serviceTask id="Activity_pruefen" name="Antrag prüfen" />"#,
        );
    let draft = import_bpmn(&xml).unwrap();
    let notes = draft.notes.join("\n");
    assert!(
        notes.contains("„Zwei Wochen warten“") && notes.contains("P4W"),
        "{notes}"
    );
    assert!(notes.contains("Timers „Frist abgelaufen“"), "{notes}");
    assert!(notes.contains("serviceTask"), "{notes}");
    let Step::Task(pruefen) = &draft.definition.steps["antrag_pruefen"] else {
        panic!("a task")
    };
    assert_eq!(
        pruefen
            .timers
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        ["erinnerung"],
        "the timer it cannot count is left out"
    );
}

#[test]
fn odd_ids_and_names_become_unique_names() {
    let xml = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">
      <process id="P">
        <startEvent id="s"><outgoing>f1</outgoing></startEvent>
        <task id="1 Übergabe" name="Übergabe an Straße 7" />
        <task id="T2" name="Übergabe an Straße 7" />
        <task id="T3" />
        <endEvent id="E" />
        <sequenceFlow id="f1" sourceRef="s" targetRef="1 Übergabe" />
        <sequenceFlow id="f2" sourceRef="1 Übergabe" targetRef="T2" />
        <sequenceFlow id="f3" sourceRef="T2" targetRef="T3" />
        <sequenceFlow id="f4" sourceRef="T3" targetRef="E" />
      </process>
    </definitions>"#;
    let draft = import_bpmn(xml).unwrap();
    assert_eq!(
        draft
            .definition
            .steps
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        [
            "uebergabe_an_strasse_7",
            "uebergabe_an_strasse_7_2",
            "t3",
            "e"
        ]
    );
    assert_eq!(draft.definition.workflow, "p", "from the process's id");
    assert_eq!(draft.definition.title, "Importierter Ablauf");
    assert_eq!(reparsed(&draft), draft.definition);
    assert!(
        draft
            .notes
            .iter()
            .any(|n| n.contains("„koordination“ zugeordnet"))
    );
}

#[test]
fn a_long_process_name_becomes_a_key_short_enough_cut_after_a_word() {
    let xml = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">
      <process id="P" name="Anregung eines Kommunalen Integrationszentrums durch eine kreisangehörige Gemeinde">
        <startEvent id="s"><outgoing>f1</outgoing></startEvent>
        <endEvent id="E" />
        <sequenceFlow id="f1" sourceRef="s" targetRef="E" />
      </process>
    </definitions>"#;
    let draft = import_bpmn(xml).unwrap();
    assert_eq!(
        draft.definition.workflow,
        "anregung-eines-kommunalen-integrationszentrums-durch-eine"
    );
    assert!(draft.definition.workflow.len() <= crate::engine::validate::KEY_MAX);
    // Without a word to cut after, at the limit itself.
    assert_eq!(super::shortened_key(&"k".repeat(80)), "k".repeat(64));
    let exact = format!("{}-{}", "a".repeat(30), "b".repeat(33));
    assert_eq!(
        super::shortened_key(&exact),
        exact,
        "64 characters stay whole"
    );
    assert_eq!(
        super::shortened_key(&format!("{exact}-c")),
        exact,
        "cut where the next word begins"
    );
}

#[test]
fn the_reference_process_of_other_engines_becomes_the_same_flow() {
    // The benchmark's reference process as written for SpiffWorkflow and bpmn-engine: plain
    // BPMN of other authors, unnamed gateways, Python and JavaScript conditions.
    for file in ["ki_antrag.spiff.bpmn", "ki_antrag.node.bpmn"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("bench/peers")
            .join(file);
        let draft = import_bpmn(&std::fs::read_to_string(path).unwrap()).unwrap();
        let d = &draft.definition;
        assert_eq!(reparsed(&draft), *d, "{file}");
        assert_eq!(d.workflow, "ki-antrag", "{file}: from the process id");
        let Step::Parallel(fork) = &d.steps["fork"] else {
            panic!("{file}: a parallel")
        };
        assert_eq!(fork.branches.len(), 6, "{file}");
        assert_eq!(fork.join, "join", "{file}");
        for branch in &fork.branches {
            let Step::Task(task) = &d.steps[branch] else {
                panic!("{file}: {branch} a task")
            };
            assert!(
                task.title.starts_with("Stellungnahme"),
                "{file}: {}",
                task.title
            );
            let action = &task.actions["erledigt"];
            assert_eq!(
                (action.title.as_str(), action.to.as_str()),
                ("Erledigt", "join")
            );
        }
        let Step::Decision(decision) = &d.steps["beschluss"] else {
            panic!("{file}: a decision")
        };
        assert_eq!(decision.conditions.len(), 1, "{file}");
        assert!(!decision.otherwise.is_empty(), "{file}");
        let tasks = d
            .steps
            .values()
            .filter(|s| matches!(s, Step::Task(_)))
            .count();
        assert_eq!(tasks, 9, "{file}: the nine user tasks");
    }
}

#[test]
fn camunda_8_names_its_roles_in_extension_elements_and_writes_feel() {
    let xml = r#"<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
        xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
      <bpmn:process id="antrag_c8" name="Antrag" isExecutable="true">
        <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
        <bpmn:userTask id="pruefen" name="Prüfen">
          <bpmn:extensionElements>
            <zeebe:assignmentDefinition candidateGroups="bewilligung" />
          </bpmn:extensionElements>
        </bpmn:userTask>
        <bpmn:exclusiveGateway id="g" name="Bewilligt?" default="f4" />
        <bpmn:endEvent id="ja" name="Bewilligt" />
        <bpmn:endEvent id="nein" name="Abgelehnt" />
        <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="pruefen" />
        <bpmn:sequenceFlow id="f2" sourceRef="pruefen" targetRef="g" />
        <bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="ja">
          <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">=bewilligt = true</bpmn:conditionExpression>
        </bpmn:sequenceFlow>
        <bpmn:sequenceFlow id="f4" sourceRef="g" targetRef="nein" />
      </bpmn:process>
    </bpmn:definitions>"#;
    let draft = import_bpmn(xml).unwrap();
    let Step::Task(task) = &draft.definition.steps["pruefen"] else {
        panic!("a task")
    };
    assert_eq!(task.role, "bewilligung");
    assert_eq!(draft.definition.roles["bewilligung"].title, "Bewilligung");
    assert!(
        draft
            .notes
            .iter()
            .any(|n| n.contains("ein FEEL-Ausdruck (Camunda 8)")),
        "{:?}",
        draft.notes
    );
    assert!(
        !draft.notes.iter().any(|n| n.contains("zugeordnet")),
        "{:?}",
        draft.notes
    );
}

#[test]
fn files_that_are_no_bpmn_process_are_refused() {
    assert!(matches!(import_bpmn("<a>"), Err(ImportError::Xml { .. })));
    assert!(matches!(import_bpmn(""), Err(ImportError::Xml { .. })));
    let broken = import_bpmn("<definitions>\n  <process>\n</definitions>").unwrap_err();
    assert!(
        matches!(broken, ImportError::Xml { line: 3, .. }),
        "{broken:?}"
    );
    assert!(broken.to_string().contains("Zeile 3"), "{broken}");
    let with_dtd = r#"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]><definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>"#;
    assert_eq!(import_bpmn(with_dtd).unwrap_err(), ImportError::Dtd);
    assert_eq!(
        import_bpmn(r#"<definitions xmlns="urn:other"><process id="p"/></definitions>"#)
            .unwrap_err(),
        ImportError::NotBpmn
    );
    assert_eq!(
        import_bpmn(r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p"/></definitions>"#)
            .unwrap_err(),
        ImportError::NoProcess
    );
    let no_start = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">
      <process id="p"><task id="t"/></process></definitions>"#;
    assert_eq!(import_bpmn(no_start).unwrap_err(), ImportError::NoStart);
    assert!(
        ImportError::NotBpmn
            .to_string()
            .contains("keine BPMN-2.0-Datei")
    );
    assert!(
        ImportError::NoProcess
            .to_string()
            .contains("keinen Prozess")
    );
    assert!(
        ImportError::NoStart
            .to_string()
            .contains("kein Startereignis")
    );
}

#[test]
fn a_cycle_of_merging_gateways_leads_nowhere_instead_of_looping() {
    let xml = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">
      <process id="p">
        <startEvent id="s"><outgoing>f1</outgoing></startEvent>
        <exclusiveGateway id="g1" /><exclusiveGateway id="g2" />
        <sequenceFlow id="f1" sourceRef="s" targetRef="g1" />
        <sequenceFlow id="f2" sourceRef="g1" targetRef="g2" />
        <sequenceFlow id="f3" sourceRef="g2" targetRef="g1" />
      </process></definitions>"#;
    let draft = import_bpmn(xml).unwrap();
    assert_eq!(draft.definition.start, "");
    assert!(draft.definition.steps.is_empty());
}

/// The places in `xml` where an element refers to another by id (`…Ref="x"`, `default="x"`),
/// as byte ranges of the value, and every id the file declares.
fn references(xml: &str) -> (Vec<std::ops::Range<usize>>, Vec<String>) {
    let mut places = Vec::new();
    let mut ids = Vec::new();
    for (at, _) in xml.match_indices("=\"") {
        let name_start = xml[..at]
            .rfind(|c: char| c.is_whitespace())
            .map_or(0, |i| i + 1);
        let name = &xml[name_start..at];
        let value_start = at + 2;
        let Some(length) = xml[value_start..].find('"') else {
            continue;
        };
        let value = value_start..value_start + length;
        if name == "id" {
            ids.push(xml[value].to_string());
        } else if name.ends_with("Ref") || name == "default" {
            places.push(value);
        }
    }
    (places, ids)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// References rewired at random (to other elements, to themselves, to nothing) make cycles,
    /// dangling flows, boundary events on gateways and defaults that are no outgoing flow: the
    /// import never panics, and what it reads, its YAML says.
    #[test]
    fn rewired_references_never_make_the_import_panic(
        rewirings in proptest::collection::vec((0usize..10_000, 0usize..10_000), 1..12),
    ) {
        let original = shipped("ki-betrieb");
        let xml = workflow_bpmn(&original, 1);
        let (places, mut ids) = references(&xml);
        ids.push("gibt_es_nicht".to_string());
        let mut chosen: Vec<(std::ops::Range<usize>, &str)> = rewirings
            .iter()
            .map(|(place, id)| (places[place % places.len()].clone(), ids[id % ids.len()].as_str()))
            .collect();
        chosen.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
        chosen.dedup_by_key(|(range, _)| range.start);
        let mut rewired = xml.clone();
        for (range, id) in chosen {
            rewired.replace_range(range, id);
        }
        if let Ok(draft) = import_bpmn(&rewired) {
            proptest::prop_assert_eq!(reparsed(&draft), draft.definition);
        }
    }
}
