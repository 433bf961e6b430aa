//! A workflow definition as a BPMN 2.0 XML file with its diagram (BPMN DI), so the procedure
//! opens in the tools process engineers already use (Camunda Modeler, bpmn.io, Signavio) and
//! can be checked, discussed or drawn further there. It describes the procedure; the YAML file
//! stays what vorgang runs (`isExecutable="false"`).
//!
//! The mapping:
//! - `task` → `userTask`, its role as `potentialOwner`; each action a conditional sequence flow
//!   `action == "name"` (CEL, the language of the workflow's own expressions), its guards in
//!   the flow's documentation;
//! - `consultation` → `userTask` with parallel multi-instance (one instance per invited partner
//!   body), the deadline in its documentation;
//! - `decision` → `exclusiveGateway`, conditions as CEL `conditionExpression`, `otherwise` as
//!   its default flow;
//! - `parallel` and `join` → diverging and converging `parallelGateway`;
//! - `wait` → `intermediateCatchEvent` with a message (declared as `message`) or a timer;
//! - `end` → `endEvent`;
//! - a timer → a timer `boundaryEvent`: interrupting with a flow to its step, or
//!   non-interrupting (`cancelActivity="false"`) for reminders that leave the token where it is.
//!
//! Timers carry the period as an ISO 8601 duration where it is one (`P4W`); periods counted
//! from a date field or before a deadline carry a readable expression. Deadlines follow §§ 187
//! ff. BGB in vorgang (end of day, next working day), which BPMN cannot state; every timer's
//! documentation says how it is counted.
//!
//! The diagram has the layout of the SVG the administration pages draw ([`super::diagram`]).

use std::collections::HashSet;
use std::fmt::Write;

use super::diagram::{self, Bounds, EdgeOrigin, Geometry, esc, num};
use crate::engine::definition::{
    Deadline, Definition, PeriodKind, Step, Timer, TimerWhen, WaitFor,
};

/// The CEL specification, named as the expression language of conditions.
const CEL: &str = "https://github.com/google/cel-spec";
/// Size of a boundary event and of the start event (BPMN's usual 36 pixels).
const EVENT_SIZE: f64 = 36.0;
/// Room for the name of a boundary event (at most two lines).
const LABEL_WIDTH: f64 = 90.0;
const LABEL_HEIGHT: f64 = 28.0;

/// The BPMN 2.0 XML document of `definition`, diagram included. `version` is the deployed
/// version number, written into the file so a downloaded copy says what it shows.
///
/// Never panics: references to steps that do not exist (an invalid definition) are left out.
pub fn workflow_bpmn(definition: &Definition, version: i32) -> String {
    let geometry = diagram::geometry(definition);
    let mut ids = Ids::new(definition);
    let mut xml = String::new();
    let _ = writeln!(xml, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        xml,
        r#"<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="{id}" targetNamespace="urn:vorgang:workflow:{key}:{version}" expressionLanguage="{CEL}" exporter="vorgang" exporterVersion="{exporter}">"#,
        id = ids.definitions,
        key = esc(&definition.workflow),
        exporter = env!("CARGO_PKG_VERSION"),
    );
    for (name, id) in &ids.messages {
        let title = definition
            .messages
            .get(name)
            .map_or(name.as_str(), |m| m.title.as_str());
        let _ = writeln!(xml, r#"  <bpmn:message id="{id}" name="{}" />"#, esc(title));
    }
    if let (Some(withdraw), Some([message, ..])) = (&definition.withdraw, &ids.withdrawal) {
        let _ = writeln!(
            xml,
            r#"  <bpmn:message id="{message}" name="{}" />"#,
            esc(withdraw.title())
        );
    }
    let _ = writeln!(
        xml,
        r#"  <bpmn:process id="{}" name="{}" isExecutable="false">"#,
        ids.process,
        esc(&definition.title)
    );
    let mut process_doc = format!("Version {version} von „{}“.", definition.workflow);
    if let Some(description) = &definition.description {
        process_doc = format!("{description}\n\n{process_doc}");
    }
    documentation(&mut xml, 4, &process_doc);

    let flows = Flows::new(definition, &geometry, &mut ids);
    write_start(&mut xml, &ids, &flows);
    for (index, (name, step)) in definition.steps.iter().enumerate() {
        write_step(&mut xml, definition, &ids, &flows, index + 1, name, step);
    }
    for (index, (name, step)) in definition.steps.iter().enumerate() {
        for timer in step.timers() {
            write_boundary(&mut xml, &ids, &flows, index + 1, name, timer);
        }
    }
    for flow in &flows.all {
        write_flow(&mut xml, definition, flow);
    }
    write_withdrawal(&mut xml, definition, &ids);
    xml.push_str("  </bpmn:process>\n");
    write_diagram(&mut xml, definition, &geometry, &ids, &flows);
    xml.push_str("</bpmn:definitions>\n");
    xml
}

/// Messages that `wait` steps name but `messages` does not declare.
fn awaited_undeclared(definition: &Definition) -> Vec<&str> {
    let mut names: Vec<&str> = definition
        .steps
        .values()
        .filter_map(Step::awaited_message)
        .filter(|name| !definition.messages.contains_key(*name))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

// ---------------------------------------------------------------------------------------------
// Ids

/// XML ids of the elements: step names where they are valid ids, unique in the document.
struct Ids {
    definitions: String,
    process: String,
    /// Per node of the geometry (the start first, then the steps in file order).
    nodes: Vec<String>,
    /// Per message name (declared or only awaited), its id.
    messages: Vec<(String, String)>,
    /// The event subprocess of a withdrawal: its message, the subprocess, its start, end and
    /// flow.
    withdrawal: Option<[String; 5]>,
    taken: HashSet<String>,
}

impl Ids {
    fn new(definition: &Definition) -> Self {
        let mut taken = HashSet::new();
        let definitions = unique(&mut taken, &format!("Definitions_{}", definition.workflow));
        let process = unique(&mut taken, &format!("Process_{}", definition.workflow));
        let mut nodes = vec![unique(&mut taken, "StartEvent")];
        for name in definition.steps.keys() {
            nodes.push(unique(&mut taken, name));
        }
        let messages = definition
            .messages
            .keys()
            .map(String::as_str)
            .chain(awaited_undeclared(definition))
            .map(|name| {
                (
                    name.to_string(),
                    unique(&mut taken, &format!("Message_{name}")),
                )
            })
            .collect();
        let withdrawal = definition.withdraw.as_ref().map(|_| {
            [
                "Message_Ruecknahme",
                "Ruecknahme",
                "Ruecknahme_start",
                "Ruecknahme_end",
                "Ruecknahme_flow",
            ]
            .map(|base| unique(&mut taken, base))
        });
        Self {
            definitions,
            process,
            nodes,
            messages,
            withdrawal,
            taken,
        }
    }

    fn message(&self, name: &str) -> &str {
        self.messages
            .iter()
            .find(|(message, _)| message == name)
            .map_or("", |(_, id)| id.as_str())
    }

    /// A new id from `base`, unique among those handed out.
    fn fresh(&mut self, base: &str) -> String {
        unique(&mut self.taken, base)
    }
}

/// `base` as an XML name, or with `_2`, `_3` … if taken; recorded as taken.
fn unique(taken: &mut HashSet<String>, base: &str) -> String {
    let base = ncname(base);
    let mut id = base.clone();
    let mut n = 2;
    while taken.contains(&id) {
        id = format!("{base}_{n}");
        n += 1;
    }
    taken.insert(id.clone());
    id
}

/// `text` as an XML name without colon: letters, digits, `-`, `_`, `.`, not starting with a
/// digit, `-` or `.`.
fn ncname(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Sequence flows

/// A sequence flow with its place in the definition and in the diagram.
struct Flow {
    id: String,
    /// Index of the geometry edge it is drawn as.
    edge: usize,
    source: String,
    target: String,
    /// The step the flow leaves (None: the start event).
    step: Option<usize>,
    origin: EdgeOrigin,
    name: String,
}

/// Every sequence flow, and the boundary events that timers with a target leave through.
struct Flows {
    all: Vec<Flow>,
    /// Boundary event id per (step index, timer name).
    boundaries: Vec<(usize, String, String)>,
}

impl Flows {
    fn new(definition: &Definition, geometry: &Geometry, ids: &mut Ids) -> Self {
        let mut boundaries = Vec::new();
        for (index, (name, step)) in definition.steps.iter().enumerate() {
            if !hosts_boundaries(step) {
                continue;
            }
            for timer in step.timers() {
                let id = ids.fresh(&format!("Timer_{name}_{}", timer.name));
                boundaries.push((index + 1, timer.name.clone(), id));
            }
        }
        let mut all = Vec::new();
        for (e, edge) in geometry.edges.iter().enumerate() {
            let source = match &edge.origin {
                // A timer of a step that cannot carry one in BPMN is left out with its flow.
                EdgeOrigin::Timer(timer) => match boundary_of(&boundaries, edge.from, timer) {
                    Some(id) => id.to_string(),
                    None => continue,
                },
                _ => ids.nodes[edge.from].clone(),
            };
            all.push(Flow {
                id: ids.fresh(&format!("Flow_{}", e + 1)),
                edge: e,
                source,
                target: ids.nodes[edge.to].clone(),
                step: edge.from.checked_sub(1),
                origin: edge.origin.clone(),
                // A timer's flow leaves its boundary event, which carries the name.
                name: match edge.origin {
                    EdgeOrigin::Timer(_) => String::new(),
                    _ => edge.label.clone(),
                },
            });
        }
        Self { all, boundaries }
    }

    fn incoming(&self, id: &str) -> impl Iterator<Item = &Flow> {
        self.all.iter().filter(move |f| f.target == id)
    }

    fn outgoing(&self, id: &str) -> impl Iterator<Item = &Flow> {
        self.all.iter().filter(move |f| f.source == id)
    }

    fn boundary(&self, step: usize, timer: &str) -> Option<&str> {
        boundary_of(&self.boundaries, step, timer)
    }
}

/// The boundary event id of `timer` of the step at node `step`.
fn boundary_of<'a>(
    boundaries: &'a [(usize, String, String)],
    step: usize,
    timer: &str,
) -> Option<&'a str> {
    boundaries
        .iter()
        .find(|(s, name, _)| *s == step && name == timer)
        .map(|(_, _, id)| id.as_str())
}

/// Whether the step becomes an activity in BPMN, the only elements boundary events attach to:
/// tasks, consultations and waits for a message (a `receiveTask`). A wait for a date or a period
/// is a timer event itself; its own timers stay in its documentation.
fn hosts_boundaries(step: &Step) -> bool {
    match step {
        Step::Task(_) | Step::Consultation(_) => true,
        Step::Wait(wait) => matches!(wait.until, WaitFor::Message(_)) && !wait.timers.is_empty(),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Process elements

fn indent(xml: &mut String, depth: usize) {
    xml.extend(std::iter::repeat_n(' ', depth));
}

fn documentation(xml: &mut String, depth: usize, text: &str) {
    if text.trim().is_empty() {
        return;
    }
    indent(xml, depth);
    let _ = writeln!(
        xml,
        "<bpmn:documentation>{}</bpmn:documentation>",
        esc(text.trim())
    );
}

fn connections(xml: &mut String, depth: usize, flows: &Flows, id: &str) {
    for flow in flows.incoming(id) {
        indent(xml, depth);
        let _ = writeln!(xml, "<bpmn:incoming>{}</bpmn:incoming>", flow.id);
    }
    for flow in flows.outgoing(id) {
        indent(xml, depth);
        let _ = writeln!(xml, "<bpmn:outgoing>{}</bpmn:outgoing>", flow.id);
    }
}

fn write_start(xml: &mut String, ids: &Ids, flows: &Flows) {
    let id = &ids.nodes[0];
    let _ = writeln!(xml, r#"    <bpmn:startEvent id="{id}" name="Start">"#);
    connections(xml, 6, flows, id);
    xml.push_str("    </bpmn:startEvent>\n");
}

fn write_step(
    xml: &mut String,
    definition: &Definition,
    ids: &Ids,
    flows: &Flows,
    node: usize,
    name: &str,
    step: &Step,
) {
    let id = &ids.nodes[node];
    let (element, extra) = match step {
        Step::Task(_) => ("userTask", String::new()),
        Step::Consultation(_) => ("receiveTask", String::new()),
        Step::Decision(_) => {
            let default = flows
                .outgoing(id)
                .find(|f| f.origin == EdgeOrigin::Otherwise)
                .map(|f| format!(r#" default="{}""#, f.id))
                .unwrap_or_default();
            (
                "exclusiveGateway",
                format!(r#" gatewayDirection="Diverging"{default}"#),
            )
        }
        Step::Parallel(_) => (
            "parallelGateway",
            r#" gatewayDirection="Diverging""#.to_string(),
        ),
        Step::Join(_) => (
            "parallelGateway",
            r#" gatewayDirection="Converging""#.to_string(),
        ),
        Step::Wait(wait) => match &wait.until {
            WaitFor::Message(message) if hosts_boundaries(step) => (
                "receiveTask",
                format!(r#" messageRef="{}""#, ids.message(message)),
            ),
            _ => ("intermediateCatchEvent", String::new()),
        },
        Step::End(_) => ("endEvent", String::new()),
    };
    let _ = writeln!(
        xml,
        r#"    <bpmn:{element} id="{id}" name="{}"{extra}>"#,
        esc(step.title())
    );
    documentation(xml, 6, &step_documentation(definition, name, step));
    connections(xml, 6, flows, id);
    match step {
        Step::Task(task) => potential_owner(xml, definition, &task.role),
        Step::Consultation(_) => {
            xml.push_str("      <bpmn:multiInstanceLoopCharacteristics />\n");
        }
        Step::Wait(_) if hosts_boundaries(step) => {}
        Step::Wait(wait) => match &wait.until {
            WaitFor::Message(message) => {
                let _ = writeln!(
                    xml,
                    r#"      <bpmn:messageEventDefinition messageRef="{}" />"#,
                    ids.message(message)
                );
            }
            WaitFor::Date(path) => {
                timer_definition(xml, "timeDate", &format!("data.{}", path.as_field_path()))
            }
            WaitFor::Period(deadline) => {
                let (kind, body) = deadline_expression(deadline);
                timer_definition(xml, kind, &body);
            }
        },
        _ => {}
    }
    let _ = writeln!(xml, "    </bpmn:{element}>");
}

/// The step's help text, its role, and what the file says that BPMN has no element for.
fn step_documentation(definition: &Definition, name: &str, step: &Step) -> String {
    let mut lines = Vec::new();
    if let Some(help) = step.help() {
        lines.push(help.trim().to_string());
    }
    if let Some(role) = step.role() {
        lines.push(format!("Rolle: {}", definition.role_title(role)));
    }
    match step {
        Step::Consultation(c) => {
            lines.push(format!(
                "Beteiligung der Stellen aus „{}“; Frist {}.",
                c.participants.as_field_path(),
                deadline_text(&c.deadline)
            ));
            for reminder in &c.remind {
                lines.push(format!(
                    "Erinnerung {} vor Fristende (Vorlage {}).",
                    accusative(&reminder.before),
                    reminder.template
                ));
            }
        }
        Step::Wait(wait) => lines.push(match &wait.until {
            WaitFor::Message(message) => format!("Wartet auf die Nachricht „{message}“."),
            WaitFor::Date(path) => format!("Wartet bis zum Datum in „{}“.", path.as_field_path()),
            WaitFor::Period(deadline) => format!("Wartet {}.", deadline_text(deadline)),
        }),
        Step::End(end) => lines.push(format!("Ergebnis: {}", end.outcome)),
        _ => {}
    }
    if !step.on_enter().is_empty() {
        lines.push(format!(
            "Beim Eintritt: {}.",
            step.on_enter()
                .iter()
                .map(effect_text)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !hosts_boundaries(step) && !step.timers().is_empty() {
        let names: Vec<&str> = step.timers().iter().map(|t| t.name.as_str()).collect();
        lines.push(format!(
            "Fristen (in BPMN an diesem Ereignis nicht darstellbar): {}.",
            names.join(", ")
        ));
    }
    lines.push(format!("Schritt „{name}“ ({}).", step.type_name()));
    lines.join("\n")
}

fn potential_owner(xml: &mut String, definition: &Definition, role: &str) {
    let _ = writeln!(
        xml,
        "      <bpmn:potentialOwner name=\"{}\">\n        <bpmn:resourceAssignmentExpression>\n          \
         <bpmn:formalExpression>{}</bpmn:formalExpression>\n        \
         </bpmn:resourceAssignmentExpression>\n      </bpmn:potentialOwner>",
        esc(definition.role_title(role)),
        esc(role)
    );
}

fn timer_definition(xml: &mut String, kind: &str, body: &str) {
    let _ = writeln!(
        xml,
        "      <bpmn:timerEventDefinition>\n        <bpmn:{kind} xsi:type=\"bpmn:tFormalExpression\">{}</bpmn:{kind}>\n      </bpmn:timerEventDefinition>",
        esc(body)
    );
}

/// A deadline as a BPMN timer: a plain duration where it runs from entering the step, else a
/// date expression over the field it is counted from.
fn deadline_expression(deadline: &Deadline) -> (&'static str, String) {
    match &deadline.from {
        None => ("timeDuration", deadline.period.to_string()),
        Some(from) => (
            "timeDate",
            format!("data.{} + {}", from.as_field_path(), deadline.period),
        ),
    }
}

/// A deadline in German words for the documentation.
fn deadline_text(deadline: &Deadline) -> String {
    let kind = match deadline.art {
        PeriodKind::Ereignis => "Ereignisfrist",
        PeriodKind::Beginn => "Beginnfrist",
    };
    let from = deadline
        .from
        .as_ref()
        .map_or("ab Eintritt in den Schritt".to_string(), |f| {
            format!("ab dem Datum in „{}“", f.as_field_path())
        });
    format!(
        "{} {from} ({kind}, §§ 187 ff. BGB; fällt das Ende auf einen Samstag, Sonntag oder \
         Feiertag, endet sie am nächsten Werktag)",
        deadline.period
    )
}

fn write_boundary(
    xml: &mut String,
    ids: &Ids,
    flows: &Flows,
    node: usize,
    step_name: &str,
    timer: &Timer,
) {
    let Some(id) = flows.boundary(node, &timer.name) else {
        return;
    };
    let interrupting = is_interrupting(timer);
    let _ = writeln!(
        xml,
        r#"    <bpmn:boundaryEvent id="{id}" name="{}" attachedToRef="{}" cancelActivity="{interrupting}">"#,
        esc(&timer_title(&timer.when)),
        ids.nodes[node]
    );
    let (kind, body, text) = match &timer.when {
        TimerWhen::After(deadline) => {
            let (kind, body) = deadline_expression(deadline);
            (
                kind,
                body,
                format!("Nach Ablauf von {}.", deadline_text(deadline)),
            )
        }
        TimerWhen::Before { deadline, before } => (
            "timeDate",
            format!("Fristende({}) - {before}", deadline_expression(deadline).1),
            format!(
                "{before} vor dem Ende der Frist {}.",
                deadline_text(deadline)
            ),
        ),
        TimerWhen::At(path) => (
            "timeDate",
            format!("data.{}", path.as_field_path()),
            format!("Zu Beginn des Tages in „{}“.", path.as_field_path()),
        ),
        TimerWhen::Every(period) => (
            "timeCycle",
            format!("R/{period}"),
            format!("Alle {period} ab Eintritt in den Schritt."),
        ),
    };
    let mut doc = format!("Frist „{}“ des Schritts „{step_name}“: {text}", timer.name);
    if !timer.effects.is_empty() {
        let _ = write!(
            doc,
            " Beim Ablauf: {}.",
            timer
                .effects
                .iter()
                .map(effect_text)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    documentation(xml, 6, &doc);
    connections(xml, 6, flows, id);
    timer_definition(xml, kind, &body);
    xml.push_str("    </bpmn:boundaryEvent>\n");
}

/// Whether the timer moves the case on, cancelling the step (a repeating one never does).
fn is_interrupting(timer: &Timer) -> bool {
    timer.to.is_some() && !matches!(timer.when, TimerWhen::Every(_))
}

/// A timer's short German name for the diagram: when it fires.
fn timer_title(when: &TimerWhen) -> String {
    match when {
        TimerWhen::After(deadline) => {
            format!("Nach Ablauf von {}", deadline.period.describe_de())
        }
        TimerWhen::Before { before, .. } => format!("{} vor Fristende", accusative(before)),
        TimerWhen::At(path) => format!("Am Datum in „{}“", path.as_field_path()),
        TimerWhen::Every(period) => format!("Wiederkehrend nach je {}", period.describe_de()),
    }
}

/// A period as a measure of time („3 Monate vor …“), where [`Period::describe_de`] gives the
/// dative („von 3 Monaten“); the plural nouns are the only words that differ.
fn accusative(period: &crate::frist::Period) -> String {
    period
        .describe_de()
        .split(' ')
        .map(|word| match word {
            "Jahren" => "Jahre",
            "Monaten" => "Monate",
            "Tagen" => "Tage",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn effect_text(effect: &crate::engine::definition::Effect) -> String {
    use crate::engine::definition::Effect;
    match effect {
        Effect::Mail(mail) => format!("Mail „{}“", mail.template),
        Effect::Escalate(mail) => format!("Eskalation per Mail „{}“", mail.template),
        Effect::Set(fields) => format!(
            "setzt {}",
            fields.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
        Effect::StartCase(_) => "startet einen Folgevorgang".to_string(),
    }
}

/// The withdrawal as BPMN has it: an interrupting event subprocess, started by the message that
/// the applicant withdraws, which ends the case whatever step it is in.
fn write_withdrawal(xml: &mut String, definition: &Definition, ids: &Ids) {
    let (Some(withdraw), Some([message, sub, start, end, flow])) =
        (&definition.withdraw, &ids.withdrawal)
    else {
        return;
    };
    let roles: Vec<&str> = withdraw
        .roles
        .iter()
        .map(|r| definition.role_title(r))
        .collect();
    let _ = writeln!(
        xml,
        r#"    <bpmn:subProcess id="{sub}" name="{}" triggeredByEvent="true">"#,
        esc(withdraw.title())
    );
    documentation(
        xml,
        6,
        &format!(
            "In jedem Schritt möglich (POST /api/v1/cases/{{id}}/withdraw), erklärt von: {}. \
             Der Vorgang endet mit dem Ergebnis „{}“; offene Schritte und Fristen enden mit ihm, \
             Stellen mit offener Beteiligung erhalten eine Mail, dass keine Stellungnahme mehr \
             erforderlich ist.",
            roles.join(", "),
            withdraw.outcome
        ),
    );
    let _ = writeln!(
        xml,
        r#"      <bpmn:startEvent id="{start}" name="Erklärt" isInterrupting="true">
        <bpmn:outgoing>{flow}</bpmn:outgoing>
        <bpmn:messageEventDefinition messageRef="{message}" />
      </bpmn:startEvent>
      <bpmn:endEvent id="{end}" name="{}">
        <bpmn:incoming>{flow}</bpmn:incoming>
      </bpmn:endEvent>
      <bpmn:sequenceFlow id="{flow}" sourceRef="{start}" targetRef="{end}" />
    </bpmn:subProcess>"#,
        esc(withdraw.outcome_title())
    );
}

fn write_flow(xml: &mut String, definition: &Definition, flow: &Flow) {
    let name = if flow.name.is_empty() {
        String::new()
    } else {
        format!(r#" name="{}""#, esc(&flow.name))
    };
    let _ = write!(
        xml,
        r#"    <bpmn:sequenceFlow id="{}" sourceRef="{}" targetRef="{}"{name}"#,
        flow.id, flow.source, flow.target
    );
    let step = flow.step.and_then(|i| definition.steps.get_index(i));
    let (doc, condition) = match (&flow.origin, step) {
        (EdgeOrigin::Action(action), Some((_, Step::Task(task)))) => {
            // Chosen, and allowed: the action's guards must hold as well.
            let guards = task.actions.get(action).map_or(&[][..], |a| &a.guard[..]);
            let mut condition = format!("action == \"{action}\"");
            for guard in guards {
                let _ = write!(condition, " && ({})", guard.expr.0.trim());
            }
            let reasons = guards
                .iter()
                .map(|g| format!("Sonst: {}", g.message.trim()))
                .collect::<Vec<_>>()
                .join("\n");
            (reasons, Some(condition))
        }
        (EdgeOrigin::Condition(n), Some((_, Step::Decision(decision)))) => (
            String::new(),
            decision.conditions.get(*n).map(|c| c.when.0.clone()),
        ),
        _ => (String::new(), None),
    };
    if doc.is_empty() && condition.is_none() {
        xml.push_str(" />\n");
        return;
    }
    xml.push_str(">\n");
    documentation(xml, 6, &doc);
    if let Some(condition) = condition {
        let _ = writeln!(
            xml,
            r#"      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="{CEL}">{}</bpmn:conditionExpression>"#,
            esc(condition.trim())
        );
    }
    xml.push_str("    </bpmn:sequenceFlow>\n");
}

// ---------------------------------------------------------------------------------------------
// Diagram interchange

fn write_diagram(
    xml: &mut String,
    definition: &Definition,
    geometry: &Geometry,
    ids: &Ids,
    flows: &Flows,
) {
    let _ = writeln!(
        xml,
        r#"  <bpmndi:BPMNDiagram id="Diagram_{0}">
    <bpmndi:BPMNPlane id="Plane_{0}" bpmnElement="{0}">"#,
        ids.process
    );
    // The start event at BPMN's usual size, centred where the SVG puts its smaller circle.
    for (node, bounds) in geometry.nodes.iter().enumerate() {
        let bounds = if node == 0 {
            centred(*bounds, EVENT_SIZE)
        } else {
            *bounds
        };
        let marker = match node
            .checked_sub(1)
            .and_then(|i| definition.steps.get_index(i))
        {
            Some((_, Step::Decision(_))) => r#" isMarkerVisible="true""#,
            _ => "",
        };
        shape(xml, &ids.nodes[node], bounds, marker, geometry.titles[node]);
    }
    for (index, step) in definition.steps.values().enumerate() {
        let host = geometry.nodes[index + 1];
        let parked_count = step.timers().iter().filter(|t| !is_interrupting(t)).count();
        let spacing = LABEL_WIDTH.min((host.w - EVENT_SIZE) / parked_count.max(1) as f64);
        let mut parked = 0;
        for timer in step.timers() {
            let Some(id) = flows.boundary(index + 1, &timer.name) else {
                continue;
            };
            // On the border where its flow leaves, its name to the right; one without a flow on
            // the top border from the right, clear of the flows below, its name above it.
            let leaving = flows
                .outgoing(id)
                .next()
                .and_then(|f| geometry.edges[f.edge].waypoints.first().copied());
            let ((cx, cy), label) = match leaving {
                Some((cx, cy)) => (
                    (cx, cy),
                    Bounds {
                        x: cx + EVENT_SIZE / 2.0 + 2.0,
                        y: cy + 4.0,
                        w: LABEL_WIDTH,
                        h: LABEL_HEIGHT,
                    },
                ),
                None => {
                    let cx = host.x + host.w - EVENT_SIZE / 2.0 - spacing * parked as f64;
                    parked += 1;
                    (
                        (cx, host.y),
                        Bounds {
                            x: cx - spacing / 2.0,
                            y: host.y - EVENT_SIZE / 2.0 - LABEL_HEIGHT - 2.0,
                            w: spacing,
                            h: LABEL_HEIGHT,
                        },
                    )
                }
            };
            let bounds = Bounds {
                x: cx - EVENT_SIZE / 2.0,
                y: cy - EVENT_SIZE / 2.0,
                w: EVENT_SIZE,
                h: EVENT_SIZE,
            };
            shape(xml, id, bounds, "", Some(label));
        }
    }
    for flow in &flows.all {
        let edge = &geometry.edges[flow.edge];
        let mut points = edge.waypoints.clone();
        if flow.step.is_none() {
            // From the bottom of the enlarged start event.
            let start = centred(geometry.nodes[0], EVENT_SIZE);
            if let Some(first) = points.first_mut() {
                first.1 = start.y + start.h;
            }
        }
        let label = edge.label_bounds.filter(|_| !flow.name.is_empty());
        edge_shape(xml, &flow.id, &points, label);
    }
    if let Some([_, sub, start, end, flow]) = &ids.withdrawal {
        // Below the whole process, at its left edge.
        let left = geometry.nodes.iter().map(|b| b.x).fold(f64::MAX, f64::min);
        let bottom = geometry
            .nodes
            .iter()
            .map(|b| b.y + b.h)
            .chain(
                geometry
                    .edges
                    .iter()
                    .flat_map(|e| e.waypoints.iter().map(|p| p.1)),
            )
            .fold(0.0, f64::max);
        let (x, y) = (left.max(0.0), bottom + 60.0);
        let frame = Bounds {
            x,
            y,
            w: 320.0,
            h: 130.0,
        };
        shape(xml, sub, frame, r#" isExpanded="true""#, None);
        let (start_box, end_box) = (
            Bounds {
                x: x + 40.0,
                y: y + 46.0,
                w: EVENT_SIZE,
                h: EVENT_SIZE,
            },
            Bounds {
                x: x + 240.0,
                y: y + 46.0,
                w: EVENT_SIZE,
                h: EVENT_SIZE,
            },
        );
        for (id, bounds) in [(start, start_box), (end, end_box)] {
            let label = Bounds {
                x: bounds.x - 27.0,
                y: bounds.y + EVENT_SIZE + 4.0,
                w: LABEL_WIDTH,
                h: LABEL_HEIGHT,
            };
            shape(xml, id, bounds, "", Some(label));
        }
        let cy = y + 46.0 + EVENT_SIZE / 2.0;
        edge_shape(
            xml,
            flow,
            &[(start_box.x + EVENT_SIZE, cy), (end_box.x, cy)],
            None,
        );
    }
    xml.push_str("    </bpmndi:BPMNPlane>\n  </bpmndi:BPMNDiagram>\n");
}

fn centred(bounds: Bounds, size: f64) -> Bounds {
    Bounds {
        x: bounds.x + bounds.w / 2.0 - size / 2.0,
        y: bounds.y + bounds.h / 2.0 - size / 2.0,
        w: size,
        h: size,
    }
}

fn shape(xml: &mut String, id: &str, bounds: Bounds, attributes: &str, label: Option<Bounds>) {
    let _ = writeln!(
        xml,
        "      <bpmndi:BPMNShape id=\"{id}_di\" bpmnElement=\"{id}\"{attributes}>\n        {}",
        dc_bounds(bounds)
    );
    if let Some(label) = label {
        let _ = writeln!(
            xml,
            "        <bpmndi:BPMNLabel>\n          {}\n        </bpmndi:BPMNLabel>",
            dc_bounds(label)
        );
    }
    xml.push_str("      </bpmndi:BPMNShape>\n");
}

fn edge_shape(xml: &mut String, id: &str, points: &[(f64, f64)], label: Option<Bounds>) {
    let _ = writeln!(
        xml,
        r#"      <bpmndi:BPMNEdge id="{id}_di" bpmnElement="{id}">"#
    );
    for (x, y) in points {
        let _ = writeln!(
            xml,
            r#"        <di:waypoint x="{}" y="{}" />"#,
            num(*x),
            num(*y)
        );
    }
    if let Some(label) = label {
        let _ = writeln!(
            xml,
            "        <bpmndi:BPMNLabel>\n          {}\n        </bpmndi:BPMNLabel>",
            dc_bounds(label)
        );
    }
    xml.push_str("      </bpmndi:BPMNEdge>\n");
}

fn dc_bounds(bounds: Bounds) -> String {
    format!(
        r#"<dc:Bounds x="{}" y="{}" width="{}" height="{}" />"#,
        num(bounds.x),
        num(bounds.y),
        num(bounds.w),
        num(bounds.h)
    )
}

#[cfg(test)]
mod tests;
