//! The BPMN export read back with an XML parser: every step an element of the right kind,
//! every flow between existing elements and listed on both ends, every element drawn once,
//! conditions and titles as written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Value, json};

use super::*;
use crate::engine::load::parse_definition;

const MODEL: &str = "http://www.omg.org/spec/BPMN/20100524/MODEL";
const DI: &str = "http://www.omg.org/spec/BPMN/20100524/DI";

fn shipped(key: &str) -> Definition {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("workflows/{key}.yaml"));
    let text = std::fs::read_to_string(&path).unwrap();
    parse_definition(&path.display().to_string(), &text).unwrap()
}

fn synthetic(steps: Value, messages: Value) -> Definition {
    serde_json::from_value(json!({
        "workflow": "probe",
        "title": "Probe <&> \"Ablauf\"",
        "roles": { "koordination": { "title": "Koordination & Steuerung" } },
        "messages": messages,
        "start": "2. Schritt",
        "steps": steps,
    }))
    .unwrap()
}

/// What the export says, read back.
#[derive(Debug)]
struct Model {
    /// Flow node id → (element name, name attribute, incoming, outgoing).
    nodes: BTreeMap<String, (String, String, Vec<String>, Vec<String>)>,
    /// Flow id → (source, target, name, condition).
    flows: BTreeMap<String, (String, String, String, Option<String>)>,
    /// Boundary event id → (host, cancelActivity, timer kind).
    boundaries: BTreeMap<String, (String, String, String)>,
    /// Element ids with a shape, and with an edge.
    shapes: BTreeSet<String>,
    edges: BTreeMap<String, usize>,
}

fn read(xml: &str) -> Model {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().namespace(), Some(MODEL));
    assert_eq!(root.tag_name().name(), "definitions");
    let mut ids = BTreeSet::new();
    for node in doc.descendants().filter(|n| n.is_element()) {
        if let Some(id) = node.attribute("id") {
            assert!(ids.insert(id.to_string()), "duplicate id {id}");
        }
    }
    let process = root
        .children()
        .find(|n| n.tag_name().name() == "process")
        .expect("a process");
    assert_eq!(process.attribute("isExecutable"), Some("false"));
    let children = |node: roxmltree::Node, name: &str| -> Vec<String> {
        node.children()
            .filter(|c| c.tag_name().name() == name)
            .map(|c| c.text().unwrap_or_default().to_string())
            .collect()
    };
    let mut model = Model {
        nodes: BTreeMap::new(),
        flows: BTreeMap::new(),
        boundaries: BTreeMap::new(),
        shapes: BTreeSet::new(),
        edges: BTreeMap::new(),
    };
    // The process's elements and those of its event subprocesses.
    let elements = process.descendants().filter(|n| {
        n.is_element()
            && n.parent_element()
                .is_some_and(|p| ["process", "subProcess"].contains(&p.tag_name().name()))
    });
    for element in elements {
        assert_eq!(element.tag_name().namespace(), Some(MODEL));
        let id = element.attribute("id").unwrap_or_default().to_string();
        match element.tag_name().name() {
            "documentation" => {}
            "sequenceFlow" => {
                let condition = element
                    .children()
                    .find(|c| c.tag_name().name() == "conditionExpression")
                    .map(|c| c.text().unwrap_or_default().to_string());
                model.flows.insert(
                    id,
                    (
                        element.attribute("sourceRef").unwrap().to_string(),
                        element.attribute("targetRef").unwrap().to_string(),
                        element.attribute("name").unwrap_or_default().to_string(),
                        condition,
                    ),
                );
            }
            name => {
                if name == "boundaryEvent" {
                    let timer = element
                        .descendants()
                        .find(|c| {
                            ["timeDuration", "timeDate", "timeCycle"].contains(&c.tag_name().name())
                        })
                        .map(|c| c.tag_name().name().to_string())
                        .expect("a timer definition");
                    model.boundaries.insert(
                        id.clone(),
                        (
                            element.attribute("attachedToRef").unwrap().to_string(),
                            element.attribute("cancelActivity").unwrap().to_string(),
                            timer,
                        ),
                    );
                }
                model.nodes.insert(
                    id,
                    (
                        name.to_string(),
                        element.attribute("name").unwrap_or_default().to_string(),
                        children(element, "incoming"),
                        children(element, "outgoing"),
                    ),
                );
            }
        }
    }
    for element in doc.descendants().filter(|n| n.is_element()) {
        if element.tag_name().namespace() != Some(DI) {
            continue;
        }
        let target = element.attribute("bpmnElement").unwrap_or_default();
        match element.tag_name().name() {
            "BPMNShape" => {
                let bounds = element
                    .children()
                    .find(|c| c.tag_name().name() == "Bounds")
                    .expect("bounds");
                for attribute in ["x", "y", "width", "height"] {
                    let value: f64 = bounds.attribute(attribute).unwrap().parse().unwrap();
                    assert!(value.is_finite() && value >= 0.0, "{target}: {attribute}");
                }
                assert!(
                    model.shapes.insert(target.to_string()),
                    "{target} drawn twice"
                );
            }
            "BPMNEdge" => {
                let points = element
                    .children()
                    .filter(|c| c.tag_name().name() == "waypoint")
                    .count();
                assert!(model.edges.insert(target.to_string(), points).is_none());
            }
            _ => {}
        }
    }
    model
}

/// The structural rules every export keeps.
fn check(model: &Model) {
    for (id, (source, target, _, _)) in &model.flows {
        let (_, _, _, outgoing) = model.nodes.get(source).expect("source exists");
        assert!(outgoing.contains(id), "{source} lists {id} as outgoing");
        let (_, _, incoming, _) = model.nodes.get(target).expect("target exists");
        assert!(incoming.contains(id), "{target} lists {id} as incoming");
        let points = model.edges.get(id).copied().unwrap_or(0);
        assert!(points >= 2, "{id} drawn with {points} waypoints");
    }
    for (id, (_, _, incoming, outgoing)) in &model.nodes {
        for flow in incoming.iter().chain(outgoing) {
            assert!(model.flows.contains_key(flow), "{id} names {flow}");
        }
        assert!(model.shapes.contains(id), "{id} has a shape");
    }
    for (id, (host, _, _)) in &model.boundaries {
        let (kind, _, _, _) = &model.nodes[host];
        assert!(
            ["userTask", "receiveTask"].contains(&kind.as_str()),
            "{id} attached to an activity, not a {kind}"
        );
    }
    assert_eq!(model.shapes.len(), model.nodes.len());
    assert_eq!(model.edges.len(), model.flows.len());
}

#[test]
fn the_application_procedure_reads_back_step_by_step() {
    let definition = shipped("ki-antrag");
    let xml = workflow_bpmn(&definition, 3);
    let model = read(&xml);
    check(&model);
    assert!(xml.contains(r#"targetNamespace="urn:vorgang:workflow:ki-antrag:3""#));

    for (name, step) in &definition.steps {
        let (kind, title, _, outgoing) = model.nodes.get(name).expect(name);
        assert_eq!(title, step.title(), "{name}");
        let expected = match step {
            Step::Task(_) => "userTask",
            Step::Consultation(_) => "receiveTask",
            Step::Decision(_) => "exclusiveGateway",
            Step::Parallel(_) | Step::Join(_) => "parallelGateway",
            Step::Wait(_) => "intermediateCatchEvent",
            Step::End(_) => "endEvent",
        };
        assert_eq!(kind, expected, "{name}");
        // Each action is a flow to its step, taken when that action is chosen.
        if let Step::Task(task) = step {
            for (action, spec) in &task.actions {
                let flow = outgoing
                    .iter()
                    .map(|id| &model.flows[id])
                    .find(|(_, _, title, _)| *title == spec.title)
                    .unwrap_or_else(|| panic!("{name}: action {action}"));
                assert_eq!(flow.1, spec.to, "{name}.{action}");
                // Chosen and allowed: the guards hold as well.
                let mut condition = format!("action == \"{action}\"");
                for guard in &spec.guard {
                    condition.push_str(&format!(" && ({})", guard.expr.0.trim()));
                }
                assert_eq!(flow.3.as_deref(), Some(condition.as_str()));
            }
        }
    }
    // The Beteiligung waits for one answer per invited body; the roles are named.
    assert!(xml.contains("<bpmn:multiInstanceLoopCharacteristics />"));
    assert!(xml.contains("<bpmn:formalExpression>koordination</bpmn:formalExpression>"));
    // The withdrawal ends the case from any step: an interrupting event subprocess.
    let (kind, title, _, _) = &model.nodes["Ruecknahme"];
    assert_eq!(
        (kind.as_str(), title.as_str()),
        ("subProcess", "Antrag zurückziehen")
    );
    assert!(xml.contains(r#"triggeredByEvent="true""#));
    let (kind, _, _, outgoing) = &model.nodes["Ruecknahme_start"];
    assert_eq!((kind.as_str(), outgoing.len()), ("startEvent", 1));
    assert_eq!(model.flows[&outgoing[0]].1, "Ruecknahme_end");
    assert_eq!(model.nodes["Ruecknahme_end"].1, "Zurückgezogen");
    // The awaited Bescheid reminds without moving the case on.
    let (host, cancel, kind) = &model.boundaries["Timer_bewilligung_bescheid_ausstehend"];
    assert_eq!(
        (host.as_str(), cancel.as_str(), kind.as_str()),
        ("bewilligung", "false", "timeDuration")
    );
    // Deterministic, like the SVG.
    assert_eq!(workflow_bpmn(&definition, 3), xml);
}

#[test]
fn deadlines_of_the_operation_become_timer_boundary_events() {
    let definition = shipped("ki-betrieb");
    let model = read(&workflow_bpmn(&definition, 1));
    check(&model);
    // The expired Frist moves the case on; the reminders before it do not.
    let (host, cancel, kind) = &model.boundaries["Timer_konzept_aktualisiert_frist_abgelaufen"];
    assert_eq!(host, "konzept_aktualisiert");
    assert_eq!(cancel, "true");
    assert!(["timeDuration", "timeDate"].contains(&kind.as_str()));
    let (_, _, _, outgoing) = &model.nodes["Timer_konzept_aktualisiert_frist_abgelaufen"];
    assert_eq!(outgoing.len(), 1);
    assert_eq!(model.flows[&outgoing[0]].1, "konzept_ueberfaellig");
    let (_, cancel, kind) = &model.boundaries["Timer_konzept_aktualisiert_erinnerung_ein_monat"];
    assert_eq!((cancel.as_str(), kind.as_str()), ("false", "timeDate"));
    let (_, cancel, kind) = &model.boundaries["Timer_konzept_ueberfaellig_monatliche_erinnerung"];
    assert_eq!((cancel.as_str(), kind.as_str()), ("false", "timeCycle"));
    // The Begleitung is ended, not withdrawn: the subprocess and its end say so.
    assert_eq!(
        model.nodes["Ruecknahme"].1,
        "Begleitung des Integrationszentrums einstellen"
    );
    assert_eq!(model.nodes["Ruecknahme_end"].1, "Eingestellt");
    // Every shipped workflow keeps the rules.
    check(&read(&workflow_bpmn(&shipped("ki-anregung"), 1)));
}

#[test]
fn decisions_waits_and_odd_names_stay_valid_bpmn() {
    let definition = synthetic(
        json!({
            "2. Schritt": {
                "type": "task", "title": "Prüfen & <entscheiden>", "role": "koordination",
                "actions": {
                    "weiter": { "title": "Weiter \"jetzt\"", "to": "weiche",
                        "guard": [{ "expr": "has(data.x) && data.x > 1", "message": "x > 1" }] }
                }
            },
            "weiche": {
                "type": "decision", "title": "Weiche",
                "conditions": [{ "when": "data.x > 2 && data.y < 3", "to": "Message_eingang" }],
                "otherwise": "bis_datum"
            },
            "Message_eingang": {
                "type": "wait", "title": "Eingang", "until": { "message": "bescheid" },
                "next": "ende",
                "timers": [{ "name": "zu spät", "when": { "after": { "period": "P4W" } },
                             "to": "ende" }]
            },
            "bis_datum": {
                "type": "wait", "title": "Bis zum Tag", "until": { "date": "termin" },
                "next": "ende",
                "timers": [{ "name": "nie", "when": { "after": { "period": "P1W" } },
                             "to": "ende" }]
            },
            "ende": { "type": "end", "title": "Ende", "outcome": "fertig" }
        }),
        json!({ "bescheid": { "title": "Bescheid <eingegangen>" } }),
    );
    let xml = workflow_bpmn(&definition, 1);
    let model = read(&xml);
    check(&model);

    // Names that are no XML ids become ids; a step named like a message id does not clash.
    let (kind, title, _, outgoing) = &model.nodes["_2._Schritt"];
    assert_eq!(
        (kind.as_str(), title.as_str()),
        ("userTask", "Prüfen & <entscheiden>")
    );
    let (_, _, name, condition) = &model.flows[&outgoing[0]];
    assert_eq!(name, "Weiter \"jetzt\"");
    assert_eq!(
        condition.as_deref(),
        Some("action == \"weiter\" && (has(data.x) && data.x > 1)")
    );
    assert!(xml.contains("Sonst: x &gt; 1"));

    // The decision: its condition as written, the otherwise as default flow.
    let (kind, _, _, outgoing) = &model.nodes["weiche"];
    assert_eq!(kind, "exclusiveGateway");
    let conditions: Vec<_> = outgoing.iter().map(|f| model.flows[f].3.clone()).collect();
    assert_eq!(
        conditions,
        vec![Some("data.x > 2 && data.y < 3".to_string()), None]
    );
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let gateway = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("weiche"))
        .unwrap();
    assert_eq!(
        model.flows[gateway.attribute("default").unwrap()].1,
        "bis_datum"
    );

    // A wait for a message with a timer is a receive task carrying it.
    let (kind, _, _, _) = &model.nodes["Message_eingang"];
    assert_eq!(kind, "receiveTask");
    let message_ref = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("Message_eingang"))
        .unwrap()
        .attribute("messageRef")
        .unwrap();
    assert_ne!(message_ref, "Message_eingang");
    let message = doc
        .descendants()
        .find(|n| n.attribute("id") == Some(message_ref))
        .unwrap();
    assert_eq!(message.tag_name().name(), "message");
    assert_eq!(message.attribute("name"), Some("Bescheid <eingegangen>"));
    assert_eq!(model.boundaries.len(), 1, "{:?}", model.boundaries);
    let (host, cancel, _) = model.boundaries.values().next().unwrap();
    assert_eq!(
        (host.as_str(), cancel.as_str()),
        ("Message_eingang", "true")
    );

    // A wait for a date is a timer event; its own timer cannot attach and is only documented.
    let (kind, _, _, outgoing) = &model.nodes["bis_datum"];
    assert_eq!(kind, "intermediateCatchEvent");
    assert_eq!(outgoing.len(), 1);
    assert!(xml.contains("nicht darstellbar): nie."));
}

/// Writes `target/diagrams/{key}.bpmn` of every shipped workflow, to open in a BPMN modeler.
#[test]
fn shipped_workflows_are_written_for_review() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/diagrams");
    std::fs::create_dir_all(&dir).unwrap();
    for key in ["ki-anregung", "ki-antrag", "ki-betrieb"] {
        let xml = workflow_bpmn(&shipped(key), 1);
        let path = dir.join(format!("{key}.bpmn"));
        std::fs::write(&path, &xml).unwrap();
        check(&read(&std::fs::read_to_string(&path).unwrap()));
    }
}
