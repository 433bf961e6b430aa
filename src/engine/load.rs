//! Loading a workflow file: YAML text → positioned tree → [`Definition`], with every structural
//! error reported at the exact line and column of the offending key or value.
//!
//! The top level and every step are deserialized separately, and after an error the offending
//! entry is skipped and the rest tried again, so one run reports the errors of all steps and
//! usually several per step. Steps are read by their
//! `type` here rather than through serde's internally tagged enum, which would lose positions.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;

use super::de::{
    DeError, DeErrorKind, Loc, Pass, Seg, allowed, display_path, from_node, missing_keys,
};
use super::definition::{
    ConsultationStep, DecisionStep, Definition, EndStep, JoinStep, ParallelStep, Step, TaskStep,
    WaitStep,
};
use super::diagnostic::suggestion;
use super::diagnostic::{Diagnostic, did_you_mean};
use super::yaml::{self, Node, NodeValue};

/// The step types as written in files, in the order of [`Step`]'s variants.
pub const STEP_TYPES: [&str; 7] = [
    "task",
    "consultation",
    "decision",
    "parallel",
    "join",
    "wait",
    "end",
];

/// Step types on which a token waits, so boundary timers make sense.
const WAITING_STEP_TYPES: [&str; 3] = ["task", "consultation", "wait"];

/// Most attempts per step (or for the top level) to find further errors after the first.
const MAX_TRIES_PER_UNIT: usize = 50;

/// A file's positioned tree and its name, so the validator can point into it.
#[derive(Debug, Clone)]
pub struct SourceTree {
    /// The file as named in diagnostics.
    pub file: String,
    /// The file's YAML tree.
    pub root: Node,
}

/// A definition together with the tree it was read from, for the validator's positions.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The definition.
    pub definition: Definition,
    /// Where each part of the definition is in the file.
    pub tree: SourceTree,
}

/// Parses a workflow file; `path_for_messages` is only used to name the file in diagnostics.
pub fn parse_definition(
    path_for_messages: &str,
    text: &str,
) -> Result<Definition, Vec<Diagnostic>> {
    load_definition(path_for_messages, text).map(|loaded| loaded.definition)
}

/// Parses a workflow file and keeps its tree, which [`super::validate::validate`] needs.
pub fn load_definition(path_for_messages: &str, text: &str) -> Result<Loaded, Vec<Diagnostic>> {
    let file = path_for_messages;
    let nodes = yaml::parse(text).map_err(|errors| {
        errors
            .into_iter()
            .map(|e| Diagnostic::error(file, e.pos.pair(), "", e.message))
            .collect::<Vec<_>>()
    })?;

    let mut diagnostics = Vec::new();
    let (top, top_errors) = recover::<Definition>(&without_steps(&nodes), &[]);
    diagnostics.extend(top_errors.iter().map(|e| to_diagnostic(file, e, &nodes)));

    let mut steps = indexmap::IndexMap::new();
    if let Some((steps_index, NodeValue::Map(entries))) = nodes
        .entry_index("steps")
        .map(|(index, entry)| (index, &entry.value.value))
    {
        for (index, entry) in entries.iter().enumerate() {
            let path = vec![
                Seg::Key("steps".into(), steps_index),
                Seg::Key(entry.key.clone(), index),
            ];
            match load_step(file, &entry.value, &path) {
                Ok(step) => {
                    steps.insert(entry.key.clone(), step);
                }
                Err(errors) => diagnostics.extend(errors),
            }
        }
    }

    match top {
        Some(mut definition) if diagnostics.is_empty() => {
            definition.steps = steps;
            Ok(Loaded {
                definition,
                tree: SourceTree {
                    file: file.to_string(),
                    root: nodes,
                },
            })
        }
        _ => {
            diagnostics.sort_by_key(|d| (d.line, d.column));
            diagnostics.dedup();
            Err(diagnostics)
        }
    }
}

/// The root with an empty `steps` mapping: steps are read one by one by [`load_step`].
fn without_steps(root: &Node) -> Node {
    let mut root = root.clone();
    if let NodeValue::Map(entries) = &mut root.value {
        for entry in entries.iter_mut() {
            if entry.key == "steps" && matches!(entry.value.value, NodeValue::Map(_)) {
                entry.value.value = NodeValue::Map(Vec::new());
            }
        }
    }
    root
}

/// Reads one step by its `type`.
fn load_step(file: &str, node: &Node, path: &[Seg]) -> Result<Step, Vec<Diagnostic>> {
    let here = display_path(path);
    let NodeValue::Map(entries) = &node.value else {
        return Err(vec![Diagnostic::error(
            file,
            node.pos.pair(),
            &here,
            format!(
                "in {here} wird eine Zuordnung erwartet, gefunden: {}",
                node.describe()
            ),
        )]);
    };
    let Some(type_entry) = entries.iter().find(|e| e.key == "type") else {
        return Err(vec![Diagnostic::error(
            file,
            node.pos.pair(),
            &here,
            format!(
                "{}{}",
                missing_keys(&here, &["type".to_string()]),
                allowed(&STEP_TYPES)
            ),
        )]);
    };
    let type_path = format!("{here}.type");
    let type_node = &type_entry.value;
    let step_type = match type_node.as_scalar() {
        Some(scalar) if !scalar.is_null() => scalar.text.as_str(),
        _ => {
            return Err(vec![Diagnostic::error(
                file,
                type_node.pos.pair(),
                &type_path,
                format!(
                    "in {type_path} wird ein Schritttyp{} erwartet, gefunden: {}",
                    allowed(&STEP_TYPES),
                    type_node.describe()
                ),
            )]);
        }
    };

    let mut body = node.clone();
    if let NodeValue::Map(entries) = &mut body.value {
        entries.retain(|e| e.key != "type");
    }
    let result = match step_type {
        "task" => finish(recover(&body, path), Step::Task),
        "consultation" => finish(recover(&body, path), Step::Consultation),
        "decision" => finish(recover(&body, path), Step::Decision),
        "parallel" => finish(recover(&body, path), Step::Parallel),
        "join" => finish(recover(&body, path), Step::Join),
        "wait" => finish(recover(&body, path), Step::Wait),
        "end" => finish(recover(&body, path), Step::End),
        unknown => {
            let hint = match suggestion(unknown, STEP_TYPES) {
                s if s.is_empty() => allowed(&STEP_TYPES),
                s => s,
            };
            return Err(vec![Diagnostic::error(
                file,
                type_node.pos.pair(),
                &type_path,
                format!("unbekannter Schritttyp '{unknown}' in {type_path}{hint}"),
            )]);
        }
    };
    result.map_err(|errors| {
        errors
            .iter()
            .map(|e| {
                let mut diagnostic = to_diagnostic(file, e, node);
                if let Some(message) = step_message(step_type, e, path.len()) {
                    diagnostic.message = message;
                }
                diagnostic
            })
            .collect()
    })
}

fn finish<T>(
    (value, errors): (Option<T>, Vec<DeError>),
    wrap: fn(T) -> Step,
) -> Result<Step, Vec<DeError>> {
    match value {
        Some(value) if errors.is_empty() => Ok(wrap(value)),
        _ => Err(errors),
    }
}

/// Clearer messages for mistakes that are about the step type rather than a typo.
fn step_message(step_type: &str, error: &DeError, step_depth: usize) -> Option<String> {
    let loc = error.loc.as_ref()?;
    let step = display_path(&loc.path[..step_depth.min(loc.path.len())]);
    match &error.kind {
        DeErrorKind::UnknownKey { key, .. } if loc.path.len() == step_depth + 1 => {
            match key.as_str() {
                "timers" if !WAITING_STEP_TYPES.contains(&step_type) => Some(format!(
                    "unbekannter Schlüssel 'timers' in {step}: Timer sind nur an Schritten vom \
                     Typ 'task', 'consultation' und 'wait' erlaubt, nicht an einem Schritt vom \
                     Typ '{step_type}'"
                )),
                "on_enter" if matches!(step_type, "decision" | "parallel" | "join") => {
                    Some(format!(
                        "unbekannter Schlüssel 'on_enter' in {step}: on_enter-Effekte sind nur an \
                         Schritten vom Typ 'task', 'consultation', 'wait' und 'end' erlaubt, nicht \
                         an einem Schritt vom Typ '{step_type}'"
                    ))
                }
                _ => None,
            }
        }
        DeErrorKind::MissingKeys(keys) if loc.path.len() == step_depth => {
            let hints: Vec<&str> = keys
                .iter()
                .filter_map(|key| missing_key_hint(step_type, key))
                .collect();
            if hints.is_empty() {
                return None;
            }
            Some(format!(
                "{}: {}",
                missing_keys(&step, keys),
                hints.join("; ")
            ))
        }
        _ => None,
    }
}

/// Why a step type needs a key, for "fehlt der Schlüssel" messages.
fn missing_key_hint(step_type: &str, key: &str) -> Option<&'static str> {
    Some(match (step_type, key) {
        ("consultation", "participants") => {
            "ein Schritt vom Typ 'consultation' braucht das Datenfeld mit den einzuladenden \
             Organisationen (participants: data.beteiligte)"
        }
        ("consultation", "deadline") => {
            "ein Schritt vom Typ 'consultation' braucht eine Antwortfrist (deadline: { period: P4W })"
        }
        ("consultation", "invitation") => {
            "ein Schritt vom Typ 'consultation' braucht die Mailvorlage seiner Einladung"
        }
        ("decision", "otherwise") => {
            "ein Schritt vom Typ 'decision' braucht den Schritt, der folgt, wenn keine Bedingung \
             zutrifft"
        }
        ("parallel", "join") => {
            "ein Schritt vom Typ 'parallel' braucht den Schritt vom Typ 'join', in dem seine \
             Zweige zusammenlaufen"
        }
        _ => return None,
    })
}

/// The required keys of each struct of the model, from its JSON Schema.
fn required_keys(struct_name: &str) -> Option<&'static [String]> {
    static REQUIRED: OnceLock<HashMap<String, Vec<String>>> = OnceLock::new();
    let required = REQUIRED.get_or_init(|| {
        fn required_of(schema: &serde_json::Value) -> Vec<String> {
            schema
                .get("required")
                .and_then(|r| r.as_array())
                .map(|r| {
                    r.iter()
                        .filter_map(|k| k.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        }
        let mut out = HashMap::new();
        let mut add_root = |name: &str, schema: schemars::Schema| {
            let schema = schema.to_value();
            if let Some(defs) = schema.get("$defs").and_then(|d| d.as_object()) {
                for (def_name, def) in defs {
                    out.insert(def_name.clone(), required_of(def));
                }
            }
            out.insert(name.to_string(), required_of(&schema));
        };
        add_root("Definition", schemars::schema_for!(Definition));
        add_root("TaskStep", schemars::schema_for!(TaskStep));
        add_root("ConsultationStep", schemars::schema_for!(ConsultationStep));
        add_root("DecisionStep", schemars::schema_for!(DecisionStep));
        add_root("ParallelStep", schemars::schema_for!(ParallelStep));
        add_root("JoinStep", schemars::schema_for!(JoinStep));
        add_root("WaitStep", schemars::schema_for!(WaitStep));
        add_root("EndStep", schemars::schema_for!(EndStep));
        out
    });
    required.get(struct_name).map(Vec::as_slice)
}

/// Deserializes `node` (at `base` in the file). After an error, the entry it is about is
/// skipped and deserialization tried again, so further independent errors are found. Errors
/// that skipping itself causes are not reported: anything at the mapping an entry was cut from
/// (a missing key, "genau ein Schlüssel … erwartet"), except that after an unknown key only the
/// missing key it was probably meant to be is held back. The value is only returned when there
/// was no error.
fn recover<T: DeserializeOwned>(node: &Node, base: &[Seg]) -> (Option<T>, Vec<DeError>) {
    /// A mapping an entry was cut from, and which error about it to hold back (`None`: all).
    struct Cut {
        parent: Vec<Seg>,
        missing: Option<String>,
    }
    let mut skip: Vec<Vec<Seg>> = Vec::new();
    let mut cuts: Vec<Cut> = Vec::new();
    let mut errors = Vec::new();
    for _ in 0..MAX_TRIES_PER_UNIT {
        let pass = Pass {
            skip: &skip,
            required_keys,
        };
        let error = match from_node::<T>(node, base.to_vec(), pass) {
            Ok(value) => return (errors.is_empty().then_some(value), errors),
            Err(error) => error,
        };
        let Some(loc) = error.loc.clone() else {
            errors.push(error);
            break;
        };
        let mut error = error;
        let mut caused_by_cut = false;
        for cut in cuts.iter().filter(|cut| cut.parent == loc.path) {
            match (&cut.missing, &mut error.kind) {
                (None, _) => caused_by_cut = true,
                (Some(key), DeErrorKind::MissingKeys(missing)) => {
                    missing.retain(|m| m != key);
                    caused_by_cut |= missing.is_empty();
                }
                _ => {}
            }
        }
        if !caused_by_cut {
            errors.push(error.clone());
        }
        if loc.path.len() <= base.len() || skip.contains(&loc.path) {
            break;
        }
        let parent = loc.path[..loc.path.len() - 1].to_vec();
        let missing = match &error.kind {
            DeErrorKind::UnknownKey { key, expected } => {
                did_you_mean(key, expected.iter().copied()).map(str::to_string)
            }
            _ => None,
        };
        if missing.is_some() || !matches!(error.kind, DeErrorKind::UnknownKey { .. }) {
            cuts.push(Cut { parent, missing });
        }
        skip.push(loc.path);
    }
    (None, errors)
}

fn to_diagnostic(file: &str, error: &DeError, fallback: &Node) -> Diagnostic {
    let loc = error.loc.clone().unwrap_or(Loc {
        pos: fallback.pos,
        path: Vec::new(),
        is_key: false,
    });
    Diagnostic::error(
        file,
        loc.pos.pair(),
        display_path(&loc.path),
        error.message(),
    )
}

/// Where the `steps` mapping is, for paths.
trait EntryIndex {
    fn entry_index(&self, key: &str) -> Option<(usize, &yaml::Entry)>;
}

impl EntryIndex for Node {
    fn entry_index(&self, key: &str) -> Option<(usize, &yaml::Entry)> {
        match &self.value {
            NodeValue::Map(entries) => entries.iter().enumerate().find(|(_, e)| e.key == key),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
