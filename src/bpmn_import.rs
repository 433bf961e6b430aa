//! A BPMN 2.0 file (drawn in Camunda Modeler, bpmn.io or Signavio, or exported by vorgang) read
//! into a draft workflow definition, so a procedure modelled elsewhere does not have to be typed
//! again. BPMN describes the flow but not what vorgang needs besides it (the case data, mail
//! templates, how each Frist is counted), so the result is a draft for the editor, never
//! deployed as it is: what could not be taken over or had to be assumed is listed in
//! [`Draft::notes`], and the validator names what is still missing.
//!
//! The mapping is the export's ([`crate::render::bpmn`]) read backwards:
//! - `userTask` (and `task`, `manualTask`) → `task`; the role from `potentialOwner`, the
//!   candidate groups of Camunda 7 and 8, Flowable or Activiti, or the lane; each outgoing flow an action, named by a
//!   condition `action == "name"` or by the flow's name; the rest of such a condition a guard;
//! - an activity with multi-instance → `consultation`;
//! - `receiveTask`, message catch event → `wait` for the message; timer catch event → `wait`
//!   for a period or a date field;
//! - diverging `exclusiveGateway` → `decision` (conditions, the default flow as `otherwise`);
//!   converging ones are passed through;
//! - diverging and converging `parallelGateway` → `parallel` and `join`;
//! - `endEvent` → `end`;
//! - timer `boundaryEvent` → a timer of its step, with `to` where it interrupts;
//! - an event subprocess started by a message → the withdrawal.

mod conditions;
mod names;
mod steps;
mod timers;
mod yaml;

use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;
use roxmltree::{Document, Node};

use crate::engine::definition::{Definition, Expression, MessageDefinition, RoleDefinition};
use crate::engine::expr::CompiledExpr;
use names::{snake, step_name};
use timers::timer_spec;
use yaml::to_yaml;

const BPMN: &str = "http://www.omg.org/spec/BPMN/20100524/MODEL";
const CAMUNDA: &str = "http://camunda.org/schema/1.0/bpmn";
const FLOWABLE: &str = "http://flowable.org/bpmn";
const ACTIVITI: &str = "http://activiti.org/bpmn";
const ZEEBE: &str = "http://camunda.org/schema/zeebe/1.0";
/// Largest BPMN file taken, on the API and in the editor (a drawn procedure of some hundred
/// elements with its diagram is well under 1 MB).
pub const MAX_BPMN_BYTES: usize = 5 * 1024 * 1024;

/// A workflow definition drafted from a BPMN file.
#[derive(Debug)]
pub struct Draft {
    /// The definition as read.
    pub definition: Definition,
    /// The definition as a YAML file for the editor.
    pub yaml: String,
    /// German notes on what was assumed, left out or still needs to be filled in.
    pub notes: Vec<String>,
}

/// Why a file could not be read at all (German, shown to the administrator).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImportError {
    /// Not well-formed XML: where the reader stopped, and its own (English) words.
    #[error("Die Datei ist kein lesbares XML: Fehler in Zeile {line}, Spalte {column} ({detail}).")]
    Xml {
        /// Line where reading stopped (from 1).
        line: u32,
        /// Column where reading stopped (from 1).
        column: u32,
        /// The XML reader's own description.
        detail: String,
    },
    /// A document type definition, which is refused: its entities could expand without end.
    #[error(
        "Die Datei enthält eine Dokumenttyp-Definition (DTD); solche Dateien werden aus \
         Sicherheitsgründen nicht gelesen. BPMN-Werkzeuge schreiben keine."
    )]
    Dtd,
    /// XML, but no BPMN 2.0 model.
    #[error(
        "Die Datei ist keine BPMN-2.0-Datei: Das Wurzelelement muss „definitions“ im \
         Namensraum {BPMN} sein."
    )]
    NotBpmn,
    /// No process with flow elements (a pure collaboration or an empty model).
    #[error("Die Datei enthält keinen Prozess mit Elementen.")]
    NoProcess,
    /// Nowhere to begin.
    #[error("Der Prozess hat kein Startereignis mit ausgehendem Sequenzfluss.")]
    NoStart,
}

/// Reads `xml` into a draft definition. Never panics on any input.
pub fn import_bpmn(xml: &str) -> Result<Draft, ImportError> {
    let document = Document::parse(xml).map_err(|error| match error {
        roxmltree::Error::DtdDetected => ImportError::Dtd,
        other => ImportError::Xml {
            line: other.pos().row,
            column: other.pos().col,
            detail: other.to_string(),
        },
    })?;
    let root = document.root_element();
    if !is(root, "definitions") {
        return Err(ImportError::NotBpmn);
    }
    let processes: Vec<Node> = root
        .children()
        .filter(|n| is(*n, "process") && n.children().any(|c| c.is_element()))
        .collect();
    let Some(process) = processes.first().copied() else {
        return Err(ImportError::NoProcess);
    };
    let mut reader = Reader::new(root, process);
    if processes.len() > 1 {
        reader.note(format!(
            "Die Datei enthält {} Prozesse; übernommen ist nur der erste („{}“).",
            processes.len(),
            label(process)
        ));
    }
    let definition = reader.definition()?;
    let yaml = to_yaml(&definition);
    Ok(Draft {
        definition,
        yaml,
        notes: reader.notes,
    })
}

fn is(node: Node, name: &str) -> bool {
    node.is_element() && node.tag_name().name() == name && node.tag_name().namespace() == Some(BPMN)
}

fn child<'a, 'input>(node: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    node.children().find(|c| is(*c, name))
}

fn text(node: Option<Node>) -> String {
    node.and_then(|n| n.text()).unwrap_or("").trim().to_string()
}

/// An element's name, else its id.
fn label(node: Node) -> String {
    given_name(node).unwrap_or_else(|| node.attribute("id").unwrap_or("").to_string())
}

/// `key` cut to the length a workflow key may have, after a whole word.
fn shortened_key(key: &str) -> String {
    let max = crate::engine::validate::KEY_MAX;
    if key.len() <= max {
        return key.to_string();
    }
    // ASCII only (`snake`), so every byte index is a character boundary.
    let cut = &key[..=max];
    let cut = cut.rsplit_once('-').map_or(&key[..max], |(words, _)| words);
    cut.trim_end_matches('-').to_string()
}

/// The element's `name` with its white space collapsed; `None` where it has none.
fn given_name(node: Node) -> Option<String> {
    let name = node.attribute("name").unwrap_or("");
    Some(name.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|n| !n.is_empty())
}

// ---------------------------------------------------------------------------------------------
// The process as a graph

/// A BPMN timer definition: its kind (`timeDuration`, `timeDate`, `timeCycle`) and expression.
type TimerSpec = (String, String);

/// What a flow node becomes.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Start,
    Task,
    Consultation,
    Decision,
    Fork,
    Join,
    /// A timer catch event: the timer's kind and expression.
    WaitTimer(Option<TimerSpec>),
    /// A message catch event or receive task: the message's id.
    WaitMessage(Option<String>),
    End,
    /// Passed through: a converging exclusive gateway, a throw event.
    Pass,
    /// A timer boundary event: its host, whether it interrupts, its timer.
    Boundary {
        host: String,
        cancel: bool,
        timer: Option<TimerSpec>,
    },
}

struct FlowNode<'a, 'input> {
    id: String,
    kind: Kind,
    element: Node<'a, 'input>,
}

struct SequenceFlow<'a, 'input> {
    id: String,
    source: String,
    target: String,
    element: Node<'a, 'input>,
}

impl SequenceFlow<'_, '_> {
    fn name(&self) -> String {
        self.element
            .attribute("name")
            .unwrap_or("")
            .trim()
            .to_string()
    }

    fn condition(&self) -> Option<String> {
        Some(text(child(self.element, "conditionExpression"))).filter(|c| !c.is_empty())
    }
}

struct Reader<'a, 'input> {
    root: Node<'a, 'input>,
    process: Node<'a, 'input>,
    /// Whether vorgang wrote the file, whose documentation carries what it adds.
    exported: bool,
    nodes: Vec<FlowNode<'a, 'input>>,
    flows: Vec<SequenceFlow<'a, 'input>>,
    /// Index in `nodes` per id (the first, should ids repeat).
    index: HashMap<String, usize>,
    /// Indices in `flows` per source id and per target id.
    leaving: HashMap<String, Vec<usize>>,
    entering: HashMap<String, Vec<usize>>,
    /// The name of the lane each node lies in.
    lanes: HashMap<String, String>,
    /// Step name per node id.
    names: HashMap<String, String>,
    roles: IndexMap<String, RoleDefinition>,
    messages: IndexMap<String, MessageDefinition>,
    /// Data fields the draft refers to without declaring them.
    fields: Vec<String>,
    notes: Vec<String>,
    noted: HashSet<String>,
}

impl<'a, 'input> Reader<'a, 'input> {
    fn new(root: Node<'a, 'input>, process: Node<'a, 'input>) -> Self {
        let mut reader = Self {
            root,
            process,
            exported: root.attribute("exporter") == Some("vorgang"),
            nodes: Vec::new(),
            flows: Vec::new(),
            index: HashMap::new(),
            leaving: HashMap::new(),
            entering: HashMap::new(),
            lanes: HashMap::new(),
            names: HashMap::new(),
            roles: IndexMap::new(),
            messages: IndexMap::new(),
            fields: Vec::new(),
            notes: Vec::new(),
            noted: HashSet::new(),
        };
        reader.collect();
        reader
    }

    fn note(&mut self, note: String) {
        if self.noted.insert(note.clone()) {
            self.notes.push(note);
        }
    }

    fn collect(&mut self) {
        for element in self.process.children().filter(|n| n.is_element()) {
            let Some(id) = element.attribute("id").map(str::to_string) else {
                continue;
            };
            if element.tag_name().namespace() != Some(BPMN) {
                continue;
            }
            let tag = element.tag_name().name();
            if tag == "sequenceFlow" {
                self.flows.push(SequenceFlow {
                    id,
                    source: element.attribute("sourceRef").unwrap_or("").to_string(),
                    target: element.attribute("targetRef").unwrap_or("").to_string(),
                    element,
                });
                continue;
            }
            let multi = child(element, "multiInstanceLoopCharacteristics").is_some();
            let kind = match tag {
                "startEvent" => Kind::Start,
                "userTask" | "task" | "manualTask" | "receiveTask" | "sendTask" | "serviceTask"
                | "scriptTask" | "businessRuleTask" | "callActivity"
                    if multi =>
                {
                    Kind::Consultation
                }
                "userTask" | "task" | "manualTask" => Kind::Task,
                "sendTask" | "serviceTask" | "scriptTask" | "businessRuleTask" | "callActivity" => {
                    self.note(format!(
                        "„{}“ ({tag}) ist eine automatische Aktivität; vorgang führt keine \
                         aus. Sie ist als Aufgabe übernommen, die eine Person erledigt.",
                        label(element)
                    ));
                    Kind::Task
                }
                "subProcess" if element.attribute("triggeredByEvent") == Some("true") => continue,
                "subProcess" | "transaction" | "adHocSubProcess" => {
                    self.note(format!(
                        "Der Teilprozess „{}“ ist als eine Aufgabe übernommen; seine inneren \
                         Schritte nicht.",
                        label(element)
                    ));
                    Kind::Task
                }
                "receiveTask" => {
                    Kind::WaitMessage(element.attribute("messageRef").map(str::to_string))
                }
                "exclusiveGateway" | "inclusiveGateway" | "complexGateway"
                | "eventBasedGateway" => {
                    if tag != "exclusiveGateway" {
                        self.note(format!(
                            "Das Gateway „{}“ ({tag}) ist als exklusive Entscheidung \
                             übernommen: Es gilt der erste zutreffende Weg.",
                            label(element)
                        ));
                    }
                    Kind::Decision
                }
                "parallelGateway" => Kind::Fork,
                "intermediateCatchEvent" => {
                    if let Some(timer) = child(element, "timerEventDefinition") {
                        Kind::WaitTimer(timer_spec(timer))
                    } else if let Some(message) = child(element, "messageEventDefinition") {
                        Kind::WaitMessage(message.attribute("messageRef").map(str::to_string))
                    } else {
                        self.note(format!(
                            "Das Zwischenereignis „{}“ ist als Warten auf eine Nachricht \
                             übernommen.",
                            label(element)
                        ));
                        Kind::WaitMessage(None)
                    }
                }
                "intermediateThrowEvent" => {
                    self.note(format!(
                        "Das auslösende Ereignis „{}“ ist übergangen; eine Mail an dieser \
                         Stelle schreiben Sie als „on_enter“ des folgenden Schritts.",
                        label(element)
                    ));
                    Kind::Pass
                }
                "endEvent" => Kind::End,
                "boundaryEvent" => {
                    let host = element.attribute("attachedToRef").unwrap_or("").to_string();
                    let cancel = element.attribute("cancelActivity") != Some("false");
                    match child(element, "timerEventDefinition") {
                        Some(timer) => Kind::Boundary {
                            host,
                            cancel,
                            timer: timer_spec(timer),
                        },
                        None => {
                            self.note(format!(
                                "Das angeheftete Ereignis „{}“ ist kein Timer und wurde nicht \
                                 übernommen.",
                                label(element)
                            ));
                            continue;
                        }
                    }
                }
                _ => continue,
            };
            self.nodes.push(FlowNode { id, kind, element });
        }
        for (i, node) in self.nodes.iter().enumerate() {
            self.index.entry(node.id.clone()).or_insert(i);
        }
        for (i, flow) in self.flows.iter().enumerate() {
            self.leaving.entry(flow.source.clone()).or_default().push(i);
            self.entering
                .entry(flow.target.clone())
                .or_default()
                .push(i);
        }
        for lane in self.root.descendants().filter(|n| is(*n, "lane")) {
            for reference in lane.children().filter(|r| is(*r, "flowNodeRef")) {
                if let Some(id) = reference.text() {
                    self.lanes
                        .entry(id.trim().to_string())
                        .or_insert_with(|| label(lane));
                }
            }
        }
        // Gateways by their direction: a diverging one decides or forks; one that only merges
        // is passed through (exclusive) or joins (parallel).
        let directions: Vec<(usize, usize)> = self
            .nodes
            .iter()
            .map(|n| (self.incoming(&n.id).count(), self.outgoing(&n.id).count()))
            .collect();
        for (node, (incoming, outgoing)) in self.nodes.iter_mut().zip(directions) {
            node.kind = match node.kind {
                Kind::Decision if outgoing <= 1 => Kind::Pass,
                Kind::Fork if outgoing <= 1 && incoming > 1 => Kind::Join,
                Kind::Fork if outgoing <= 1 => Kind::Pass,
                ref other => other.clone(),
            };
        }
    }

    fn node(&self, id: &str) -> Option<&FlowNode<'a, 'input>> {
        self.index.get(id).map(|&i| &self.nodes[i])
    }

    fn incoming<'s>(
        &'s self,
        id: &str,
    ) -> impl Iterator<Item = &'s SequenceFlow<'a, 'input>> + use<'s, 'a, 'input> {
        self.indexed(&self.entering, id)
    }

    fn outgoing<'s>(
        &'s self,
        id: &str,
    ) -> impl Iterator<Item = &'s SequenceFlow<'a, 'input>> + use<'s, 'a, 'input> {
        self.indexed(&self.leaving, id)
    }

    /// The flows an index (`entering` or `leaving`) lists for node `id`.
    fn indexed<'s>(
        &'s self,
        index: &'s HashMap<String, Vec<usize>>,
        id: &str,
    ) -> impl Iterator<Item = &'s SequenceFlow<'a, 'input>> + use<'s, 'a, 'input> {
        let flows = &self.flows;
        index.get(id).into_iter().flatten().map(move |&i| &flows[i])
    }

    /// The node a flow into `id` really reaches: passed-through nodes followed, at most as
    /// often as there are nodes (a cycle of them ends nowhere).
    fn resolve(&self, id: &str) -> Option<String> {
        let mut current = id.to_string();
        for _ in 0..=self.nodes.len() {
            let node = self.node(&current)?;
            if node.kind != Kind::Pass {
                return Some(current);
            }
            current = self.outgoing(&current).next()?.target.clone();
        }
        None
    }

    /// The step name of the node a flow into `id` reaches ("" where it reaches nothing known,
    /// which the validator names).
    fn step_to(&self, id: &str) -> String {
        self.resolve(id)
            .and_then(|id| self.names.get(&id).cloned())
            .unwrap_or_default()
    }

    /// Whether a node of this kind becomes a step (start events, passed-through nodes and
    /// boundary events do not).
    fn is_step(kind: &Kind) -> bool {
        !matches!(kind, Kind::Start | Kind::Pass | Kind::Boundary { .. })
    }

    // -----------------------------------------------------------------------------------------
    // The definition

    fn definition(&mut self) -> Result<Definition, ImportError> {
        let step_nodes: Vec<(String, String)> = self
            .nodes
            .iter()
            .filter(|n| Self::is_step(&n.kind))
            .map(|n| {
                (
                    n.id.clone(),
                    n.element.attribute("name").unwrap_or("").to_string(),
                )
            })
            .collect();
        let mut taken = HashSet::new();
        self.names = step_nodes
            .iter()
            .map(|(id, name)| (id.clone(), step_name(id, name, &mut taken)))
            .collect();

        let start_event = self
            .nodes
            .iter()
            .filter(|n| n.kind == Kind::Start)
            .find_map(|n| self.outgoing(&n.id).next().map(|f| f.target.clone()))
            .ok_or(ImportError::NoStart)?;
        let start = self.step_to(&start_event);
        if self.nodes.iter().filter(|n| n.kind == Kind::Start).count() > 1 {
            self.note(
                "Der Prozess hat mehrere Startereignisse; ein Vorgang beginnt beim ersten."
                    .to_string(),
            );
        }

        let mut steps = IndexMap::new();
        for (id, _) in &step_nodes {
            let step = self.step(id);
            steps.insert(self.names[id].clone(), step);
        }
        self.attach_timers(&mut steps);
        let withdraw = self.withdrawal(&steps);

        let (workflow, title) = self.key_and_title();
        if self.roles.is_empty() {
            self.roles.insert(
                "koordination".to_string(),
                RoleDefinition {
                    title: "Koordination".to_string(),
                },
            );
        }
        self.fields.sort();
        self.fields.dedup();
        if !self.fields.is_empty() {
            let fields = self
                .fields
                .iter()
                .map(|f| format!("„{f}“"))
                .collect::<Vec<_>>()
                .join(", ");
            self.note(format!(
                "Die Datenfelder {fields} werden verwendet, sind aber noch nicht angelegt: \
                 Tragen Sie sie mit Typ und Beschriftung unter „data“ ein."
            ));
        }
        Ok(Definition {
            workflow,
            title,
            description: self.description(),
            prefix: None,
            roles: self.roles.clone(),
            data_editors: None,
            data: IndexMap::new(),
            withdraw,
            retention_years: None,
            messages: self.messages.clone(),
            windows: IndexMap::new(),
            start,
            steps,
        })
    }

    /// The key from vorgang's own export (its target namespace), else from the process's name,
    /// else from its id; the title from the process's or the file's name.
    fn key_and_title(&self) -> (String, String) {
        let title = given_name(self.process).or_else(|| given_name(self.root));
        let exported = self
            .root
            .attribute("targetNamespace")
            .and_then(|ns| ns.strip_prefix("urn:vorgang:workflow:"))
            .and_then(|rest| rest.rsplit_once(':'))
            .map(|(key, _)| key.to_string())
            .filter(|key| !key.is_empty());
        // Else from the title, else from the process's id (`ki_antrag` → `ki-antrag`).
        let key = exported
            .or_else(|| {
                [
                    title.clone(),
                    self.process.attribute("id").map(str::to_string),
                ]
                .into_iter()
                .flatten()
                .map(|text| shortened_key(&snake(&text).replace('_', "-")))
                .find(|key| !key.is_empty())
            })
            .unwrap_or_else(|| "importierter-ablauf".to_string());
        let title = title.unwrap_or_else(|| "Importierter Ablauf".to_string());
        (key, title)
    }

    /// The process's documentation, without the version line vorgang's export adds to it.
    fn description(&self) -> Option<String> {
        let doc = text(child(self.process, "documentation"));
        let kept: Vec<&str> = doc
            .lines()
            .filter(|line| {
                !(self.exported && line.starts_with("Version ") && line.contains(" von „"))
            })
            .collect();
        Some(kept.join("\n").trim().to_string()).filter(|d| !d.is_empty())
    }

    /// Records the top-level data fields an expression reads, as the engine's compiler finds
    /// them; one that is no CEL (JUEL, FEEL) names none, its error is the validator's.
    fn fields_of(&mut self, expression: &str) {
        let compiled = CompiledExpr::compile(&Expression(expression.to_string()));
        if let Some(roots) = compiled.as_ref().ok().and_then(|c| c.data_roots()) {
            self.fields.extend(roots.iter().cloned());
        }
    }
}

#[cfg(test)]
mod tests;
