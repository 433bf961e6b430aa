//! Forms generated from a workflow's data schema: rendering (for `partials/feld.hbs`) and
//! parsing the submitted form back into the case data.
//!
//! **Names** follow the data's structure in brackets: `zentrum_name`, `antragsteller[email]`,
//! `standorte[0][anschrift]`, `personal[teilzeit][0][anteile][1]`; `organisations` fields
//! repeat their name once per chosen organisation. **Ids** are derived from the JSON pointer of
//! the value: `/standorte/0/anschrift` → `feld-standorte-0-anschrift` (see [`field_id`]), so
//! schema errors (pointers) and missing fields of actions (dotted paths) link to the field.
//!
//! Parsing drops empty values, so fields nobody filled stay absent from the data; values that do
//! not parse (a bad date, a bad number) become German field errors and nothing is saved.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use crate::engine::data::DataError;
use crate::engine::definition::{Definition, Field, FieldType};
use crate::engine::editors::{effective, may_edit, names_editors};

/// German messages per JSON pointer of the data.
pub type FieldErrors = BTreeMap<String, String>;

/// What pickers offer: the registered organisations and the case's documents.
#[derive(Debug, Default)]
pub struct Choices {
    /// (key, name) of every organisation, in display order.
    pub organisations: Vec<(String, String)>,
    /// (id, file name) of the case's documents.
    pub documents: Vec<(String, String)>,
}

/// Who fills in the form: the fields their workflow roles may not change (`editors`, see
/// [`crate::engine::editors`]) are shown disabled, and the patch leaves them out.
#[derive(Debug, Clone, Copy)]
pub struct Editing<'a> {
    /// The workflow whose data the form edits (its `data_editors` and role titles).
    pub definition: &'a Definition,
    /// The viewer's workflow roles.
    pub roles: &'a [String],
}

impl Editing<'_> {
    /// "Nur lesbar" hint of a field restricted to `editors`.
    fn hint(&self, editors: &[String]) -> String {
        format!("Diese Angaben ändert nur: {}.", self.titles(editors))
    }

    /// The roles' titles, quoted: „Koordination“, „Bewilligungsbehörde“.
    fn titles(&self, editors: &[String]) -> String {
        let titles: Vec<String> = editors
            .iter()
            .map(|role| format!("„{}“", self.definition.role_title(role)))
            .collect();
        titles.join(", ")
    }
}

/// Whether a field is locked or open as a whole: anything but a group whose parts name editors
/// of their own (there the parts decide).
fn judged_as_a_whole(field: &Field) -> bool {
    field.field_type != FieldType::Group
        || !field
            .fields
            .iter()
            .flat_map(IndexMap::values)
            .any(names_editors)
}

/// The id of the form element of the value at JSON `pointer` (`/a/0/b` → `feld-a-0-b`).
pub fn field_id(pointer: &str) -> String {
    format!("feld{}", pointer.replace(['/', '~'], "-"))
}

/// A dotted data path (`antragsteller.email`, as actions require them) as JSON pointer.
pub fn pointer_of_path(path: &str) -> String {
    path.split('.').map(|s| format!("/{s}")).collect()
}

/// The template nodes of every field of the workflow's data, with the values of `data` and
/// `errors`, disabled where the viewer may not change them.
pub fn render(
    data: &Value,
    errors: &FieldErrors,
    choices: &Choices,
    editing: Editing<'_>,
) -> Vec<Value> {
    let lock = Lock {
        editing,
        inherited: editing.definition.data_editors.as_deref(),
        inside_locked: false,
        named_by_field: false,
    };
    editing
        .definition
        .data
        .iter()
        .map(|(key, field)| {
            field_node(
                field,
                &field.label,
                key,
                &format!("/{key}"),
                data.get(key),
                errors,
                choices,
                lock,
            )
        })
        .collect()
}

/// Where a field stands as to editing: the editors it inherits, whether an enclosing group is
/// disabled already (then the field needs no hint of its own), and whether a field named the
/// editors (those of `data_editors` are said once above the form, [`locked_by_default`]).
#[derive(Clone, Copy)]
struct Lock<'a> {
    editing: Editing<'a>,
    inherited: Option<&'a [String]>,
    inside_locked: bool,
    named_by_field: bool,
}

/// The note above a form whose fields the viewer mostly may not change: the workflow's
/// `data_editors` exclude them.
pub fn locked_by_default(editing: Editing<'_>) -> Option<String> {
    editing
        .definition
        .data_editors
        .as_deref()
        .filter(|editors| !may_edit(Some(editors), editing.roles))
        .map(|editors| {
            format!(
                "Grau dargestellte Angaben ändert nur: {}.",
                editing.titles(editors)
            )
        })
}

#[allow(clippy::too_many_arguments)]
fn field_node(
    field: &Field,
    label: &str,
    name: &str,
    pointer: &str,
    value: Option<&Value>,
    errors: &FieldErrors,
    choices: &Choices,
    lock: Lock<'_>,
) -> Value {
    let editors = effective(field, lock.inherited);
    let locked =
        judged_as_a_whole(field) && !lock.inside_locked && !may_edit(editors, lock.editing.roles);
    let named_by_field = lock.named_by_field || field.editors.is_some();
    let inner = Lock {
        inherited: editors,
        inside_locked: lock.inside_locked || locked,
        named_by_field,
        ..lock
    };
    let id = field_id(pointer);
    let suffix = &id["feld".len()..];
    let hilfe_id = format!("hilfe{suffix}");
    let fehler_id = format!("fehler{suffix}");
    let fehler = errors.get(pointer);
    let mut described = Vec::new();
    if field.help.is_some() {
        described.push(hilfe_id.clone());
    }
    if fehler.is_some() {
        described.push(fehler_id.clone());
    }
    let mut node = json!({
        "name": name,
        "id": id,
        "label": label,
        "hilfe": field.help,
        "hilfe_id": hilfe_id,
        "fehler": fehler,
        "fehler_id": fehler_id,
        "beschreibung": if described.is_empty() { Value::Null } else { json!(described.join(" ")) },
        "wert": scalar_text(value),
        "gesperrt": locked,
        "gesperrt_hinweis": editors
            .filter(|_| locked && named_by_field)
            .map(|e| lock.editing.hint(e)),
    });
    let flag = match field.field_type {
        FieldType::Text => "ist_text",
        FieldType::LongText => "ist_langtext",
        FieldType::Date => "ist_datum",
        FieldType::Number => "ist_zahl",
        FieldType::Boolean => "ist_janein",
        FieldType::Enum => "ist_auswahl",
        FieldType::Organisation => "ist_organisation",
        FieldType::Organisations => "ist_organisationen",
        FieldType::Document => "ist_dokument",
        FieldType::Group => "ist_gruppe",
        FieldType::List => "ist_liste",
    };
    node[flag] = json!(true);
    match field.field_type {
        FieldType::Boolean => node["aktiv"] = json!(value == Some(&Value::Bool(true))),
        FieldType::Enum => {
            let current = value.and_then(Value::as_str);
            node["optionen"] = options(
                field
                    .options
                    .iter()
                    .flatten()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
                |k| current == Some(k),
            );
        }
        FieldType::Organisation | FieldType::Organisations => {
            let chosen: BTreeSet<&str> = match value {
                Some(Value::String(s)) => BTreeSet::from([s.as_str()]),
                Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
                _ => BTreeSet::new(),
            };
            let mut known: Vec<(&str, &str)> = choices
                .organisations
                .iter()
                .map(|(k, n)| (k.as_str(), n.as_str()))
                .collect();
            // A stored key that is no longer registered stays selectable, not silently lost.
            for key in &chosen {
                if !known.iter().any(|(k, _)| k == key) {
                    known.push((key, key));
                }
            }
            node["optionen"] = options(known.into_iter(), |k| chosen.contains(k));
        }
        FieldType::Document => {
            let current = value.and_then(Value::as_str);
            let mut known: Vec<(&str, &str)> = choices
                .documents
                .iter()
                .map(|(k, n)| (k.as_str(), n.as_str()))
                .collect();
            if let Some(current) = current
                && !known.iter().any(|(k, _)| *k == current)
            {
                known.push((current, current));
            }
            node["dokument_name"] =
                json!(current.and_then(|c| known.iter().find(|(k, _)| *k == c).map(|(_, n)| *n)));
            node["optionen"] = options(known.into_iter(), |k| current == Some(k));
        }
        FieldType::Group => {
            let object = value.and_then(Value::as_object);
            node["kinder"] = json!(
                field
                    .fields
                    .iter()
                    .flatten()
                    .map(|(key, child)| field_node(
                        child,
                        &child.label,
                        &format!("{name}[{key}]"),
                        &format!("{pointer}/{key}"),
                        object.and_then(|o| o.get(key)),
                        errors,
                        choices,
                        inner,
                    ))
                    .collect::<Vec<_>>()
            );
        }
        FieldType::List => {
            let items = value.and_then(Value::as_array).cloned().unwrap_or_default();
            let item_field = field.items.as_deref();
            // A blank entry to add one, unless the viewer may not change the list.
            let blank = usize::from(!inner.inside_locked);
            let entries: Vec<Value> = item_field
                .map(|item| {
                    (0..items.len() + blank)
                        .map(|index| {
                            let mut entry = field_node(
                                item,
                                &format!("{} {}", item.label, index + 1),
                                &format!("{name}[{index}]"),
                                &format!("{pointer}/{index}"),
                                items.get(index),
                                errors,
                                choices,
                                inner,
                            );
                            entry["neu"] = json!(index == items.len());
                            entry
                        })
                        .collect()
                })
                .unwrap_or_default();
            node["eintraege"] = json!(entries);
        }
        _ => {}
    }
    node
}

fn options<'a>(
    items: impl Iterator<Item = (&'a str, &'a str)>,
    chosen: impl Fn(&str) -> bool,
) -> Value {
    json!(
        items
            .map(|(key, label)| json!({ "wert": key, "label": label, "gewaehlt": chosen(key) }))
            .collect::<Vec<_>>()
    )
}

/// The text of a scalar value as an input shows it.
fn scalar_text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The submitted fields by name (all values of repeated names).
#[derive(Debug, Default)]
pub struct Submitted {
    values: HashMap<String, Vec<String>>,
}

impl Submitted {
    /// Collects the pairs of a urlencoded form.
    pub fn new(pairs: &[(String, String)]) -> Self {
        let mut values: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in pairs {
            values.entry(name.clone()).or_default().push(value.clone());
        }
        Self { values }
    }

    fn first(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    /// The item indices submitted under list `name` (`name[3]…`), in order.
    fn indices(&self, name: &str) -> BTreeSet<usize> {
        let prefix = format!("{name}[");
        self.values
            .keys()
            .filter_map(|key| key.strip_prefix(&prefix))
            .filter_map(|rest| rest.split(']').next()?.parse().ok())
            .collect()
    }
}

/// The case data of a submitted form, with empty values dropped, and the German errors of values
/// that do not parse (their raw text is kept in the data, so the form shows it again).
pub fn parse(schema: &IndexMap<String, Field>, form: &Submitted) -> (Value, Vec<DataError>) {
    let mut errors = Vec::new();
    let data = parse_fields(schema, "", "", form, &mut errors);
    (Value::Object(data), errors)
}

fn parse_fields(
    schema: &IndexMap<String, Field>,
    name_prefix: &str,
    pointer: &str,
    form: &Submitted,
    errors: &mut Vec<DataError>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, field) in schema {
        let name = if name_prefix.is_empty() {
            key.clone()
        } else {
            format!("{name_prefix}[{key}]")
        };
        if let Some(value) = parse_field(field, &name, &format!("{pointer}/{key}"), form, errors) {
            out.insert(key.clone(), value);
        }
    }
    out
}

fn parse_field(
    field: &Field,
    name: &str,
    pointer: &str,
    form: &Submitted,
    errors: &mut Vec<DataError>,
) -> Option<Value> {
    let text = form.first(name).map(str::trim).filter(|t| !t.is_empty());
    let mut fail = |raw: &str, message: String| {
        errors.push(DataError {
            pointer: pointer.to_string(),
            message: format!("{}: {message}", field.label),
        });
        Some(Value::String(raw.to_string()))
    };
    match field.field_type {
        FieldType::Text | FieldType::LongText | FieldType::Organisation | FieldType::Document => {
            text.map(|t| json!(t))
        }
        FieldType::Date => {
            let text = text?;
            match crate::frist::parse_day(text) {
                Some(date) => Some(json!(date.format("%Y-%m-%d").to_string())),
                None => fail(
                    text,
                    format!(
                        "„{text}“ ist kein gültiges Datum. Bitte geben Sie das Datum als \
                         TT.MM.JJJJ an, z. B. 01.09.2026."
                    ),
                ),
            }
        }
        FieldType::Number => {
            let text = text?;
            match parse_number(text) {
                Some(number) => Some(number),
                None => fail(
                    text,
                    format!("„{text}“ ist keine Zahl. Bitte geben Sie z. B. 2 oder 0,5 an."),
                ),
            }
        }
        FieldType::Boolean => text.map(|_| Value::Bool(true)),
        FieldType::Enum => {
            let text = text?;
            if field.options.as_ref().is_some_and(|o| o.contains_key(text)) {
                Some(json!(text))
            } else {
                fail(
                    text,
                    "Bitte wählen Sie einen der angebotenen Werte.".to_string(),
                )
            }
        }
        FieldType::Organisations => {
            let chosen: Vec<Value> = form
                .values
                .get(name)
                .into_iter()
                .flatten()
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .map(|v| json!(v))
                .collect();
            (!chosen.is_empty()).then_some(Value::Array(chosen))
        }
        FieldType::Group => {
            let fields = field.fields.as_ref()?;
            let object = parse_fields(fields, name, pointer, form, errors);
            (!object.is_empty()).then_some(Value::Object(object))
        }
        FieldType::List => {
            let item = field.items.as_deref()?;
            let mut items = Vec::new();
            for index in form.indices(name) {
                let item_pointer = format!("{pointer}/{}", items.len());
                if let Some(value) = parse_field(
                    item,
                    &format!("{name}[{index}]"),
                    &item_pointer,
                    form,
                    errors,
                ) {
                    items.push(value);
                }
            }
            (!items.is_empty()).then_some(Value::Array(items))
        }
    }
}

/// `2`, `0,5` or `0.5`; whole numbers stay integers.
fn parse_number(text: &str) -> Option<Value> {
    let normalised = text.replace(' ', "").replace(',', ".");
    if let Ok(whole) = normalised.parse::<i64>() {
        return Some(json!(whole));
    }
    let number: f64 = normalised.parse().ok()?;
    serde_json::Number::from_f64(number)
        .filter(|_| number.is_finite())
        .map(Value::Number)
}

/// The JSON merge patch that turns `current` into what the form `submitted`: changed values,
/// `null` for cleared ones. An unchecked box only clears a `true` (it cannot say "no answer").
/// Fields the viewer may not change are left out: the form shows them disabled, so it does not
/// send them, which is not a wish to clear them.
pub fn patch(editing: Editing<'_>, current: &Value, submitted: &Value) -> Value {
    Value::Object(patch_fields(
        &editing.definition.data,
        current,
        submitted,
        editing,
        editing.definition.data_editors.as_deref(),
    ))
}

fn patch_fields(
    schema: &IndexMap<String, Field>,
    current: &Value,
    submitted: &Value,
    editing: Editing<'_>,
    inherited: Option<&[String]>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, field) in schema {
        let editors = effective(field, inherited);
        if judged_as_a_whole(field) && !may_edit(editors, editing.roles) {
            continue;
        }
        let old = current.get(key).filter(|v| !v.is_null());
        let new = submitted.get(key);
        match field.field_type {
            FieldType::Group => {
                let empty = Value::Object(Map::new());
                let inner = patch_fields(
                    field.fields.as_ref().unwrap_or(&IndexMap::new()),
                    old.unwrap_or(&empty),
                    new.unwrap_or(&empty),
                    editing,
                    editors,
                );
                if !inner.is_empty() {
                    if old.is_some_and(|o| !o.is_object()) {
                        out.insert(key.clone(), new.cloned().unwrap_or(Value::Null));
                    } else {
                        out.insert(key.clone(), Value::Object(inner));
                    }
                }
            }
            FieldType::Boolean => match (old, new) {
                (Some(Value::Bool(true)), None) => {
                    out.insert(key.clone(), Value::Bool(false));
                }
                (old, Some(new)) if old != Some(new) => {
                    out.insert(key.clone(), new.clone());
                }
                _ => {}
            },
            _ => {
                if old != new {
                    out.insert(key.clone(), new.cloned().unwrap_or(Value::Null));
                }
            }
        }
    }
    out
}

/// One line of a comparison: the field's label path, the submitted and the current value.
pub fn differences(
    schema: &IndexMap<String, Field>,
    submitted: &Value,
    current: &Value,
) -> Vec<Value> {
    let mut out = Vec::new();
    compare(schema, "", "", submitted, current, &mut out);
    out
}

fn compare(
    schema: &IndexMap<String, Field>,
    labels: &str,
    pointer: &str,
    submitted: &Value,
    current: &Value,
    out: &mut Vec<Value>,
) {
    for (key, field) in schema {
        let label = if labels.is_empty() {
            field.label.clone()
        } else {
            format!("{labels} › {}", field.label)
        };
        let pointer = format!("{pointer}/{key}");
        let (a, b) = (submitted.get(key), current.get(key));
        if field.field_type == FieldType::Group {
            let null = Value::Null;
            compare(
                field.fields.as_ref().unwrap_or(&IndexMap::new()),
                &label,
                &pointer,
                a.unwrap_or(&null),
                b.unwrap_or(&null),
                out,
            );
        } else if a.filter(|v| !v.is_null()) != b.filter(|v| !v.is_null()) {
            out.push(json!({
                "feld": label,
                "id": field_id(&pointer),
                "ihre": shown(a),
                "aktuell": shown(b),
            }));
        }
    }
}

/// A value as plain text for the comparison.
fn shown(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "(leer)".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(true)) => "ja".to_string(),
        Some(Value::Bool(false)) => "nein".to_string(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| shown(Some(v)))
            .collect::<Vec<_>>()
            .join("; "),
        Some(Value::Object(object)) => object
            .values()
            .map(|v| shown(Some(v)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    }
}

/// [`field_errors`] for a service's data errors, as the case page's small forms get them.
pub fn data_errors(
    context: &mut Value,
    fields: &[&str],
    errors: &[crate::engine::data::DataError],
) {
    let errors: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.pointer.as_str(), e.message.as_str()))
        .collect();
    field_errors(context, fields, &errors);
}

/// Puts the errors of a small form into its page's context: `fehler_{field}` for each of
/// `fields` (null where the field has none, as the templates are strict) and `fehler`, the
/// summary that links each message to its field (`#feld-{field}`). `errors` are pairs of JSON
/// pointer and message.
pub fn field_errors(context: &mut Value, fields: &[&str], errors: &[(&str, &str)]) {
    let field_of = |pointer: &str| pointer.trim_start_matches('/').to_string();
    for field in fields {
        let message = errors
            .iter()
            .find(|(pointer, _)| field_of(pointer) == *field)
            .map(|(_, message)| *message);
        context[format!("fehler_{field}")] = json!(message);
    }
    context["fehler"] = json!(
        errors
            .iter()
            .map(|(pointer, message)| json!({ "ziel": format!("feld-{}", field_of(pointer)), "meldung": message }))
            .collect::<Vec<_>>()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> IndexMap<String, Field> {
        serde_json::from_value(json!({
            "name": { "type": "text", "label": "Name" },
            "datum": { "type": "date", "label": "Datum" },
            "zahl": { "type": "number", "label": "Zahl" },
            "ok": { "type": "boolean", "label": "OK" },
            "gruppe": { "type": "group", "label": "Gruppe",
                        "fields": { "email": { "type": "text", "label": "E-Mail" } } },
            "liste": { "type": "list", "label": "Standort",
                       "items": { "type": "group", "label": "Standort",
                                  "fields": { "anschrift": { "type": "text", "label": "Anschrift" } } } },
            "orgs": { "type": "organisations", "label": "Beteiligte" }
        }))
        .unwrap()
    }

    /// A workflow with `schema()` as its data, which `koordination` changes (`data_editors`).
    fn definition() -> Definition {
        let mut definition = crate::engine::load::parse_definition(
            "w.yaml",
            "workflow: w\ntitle: W\nroles: { koordination: { title: Koordination }, \
             bewilligung: { title: Bewilligungsbehörde } }\nstart: a\nsteps:\n  \
             a: { type: end, title: A, outcome: ok }\n",
        )
        .expect("the test workflow parses");
        definition.data = schema();
        definition.data_editors = Some(vec!["koordination".into()]);
        definition
    }

    fn roles(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn form(pairs: &[(&str, &str)]) -> Submitted {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        Submitted::new(&pairs)
    }

    #[test]
    fn parses_nested_names_and_drops_empty_values() {
        let (data, errors) = parse(
            &schema(),
            &form(&[
                ("name", " KI "),
                ("datum", "1.9.2026"),
                ("zahl", "0,5"),
                ("gruppe[email]", ""),
                ("liste[0][anschrift]", ""),
                ("liste[1][anschrift]", "Hoher Weg 1"),
                ("orgs", "A"),
                ("orgs", "B"),
            ]),
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            data,
            json!({ "name": "KI", "datum": "2026-09-01", "zahl": 0.5,
                    "liste": [{ "anschrift": "Hoher Weg 1" }], "orgs": ["A", "B"] })
        );
    }

    #[test]
    fn bad_values_become_field_errors() {
        let (data, errors) = parse(
            &schema(),
            &form(&[("datum", "31.02.2026"), ("zahl", "zwei")]),
        );
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].pointer, "/datum");
        assert!(errors[0].message.contains("kein gültiges Datum"));
        assert_eq!(data["datum"], "31.02.2026");
    }

    #[test]
    fn a_list_offers_a_blank_entry_only_to_whoever_may_change_it() {
        let mut definition = definition();
        let current = json!({ "liste": [{ "anschrift": "Hoher Weg 1" }] });
        let entries = |nodes: &[Value]| -> Vec<String> {
            let list = nodes.iter().find(|n| n["name"] == "liste").unwrap();
            list["eintraege"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["kinder"][0]["wert"].as_str().unwrap().to_string())
                .collect()
        };
        let roles = roles(&["koordination"]);
        let editing = Editing {
            definition: &definition,
            roles: &roles,
        };
        let nodes = render(&current, &FieldErrors::new(), &Choices::default(), editing);
        assert_eq!(entries(&nodes), ["Hoher Weg 1", ""]);
        // With the list reserved to another role, or for a viewer at work on no step (a case
        // only read, one that ended): no blank entry.
        let nobody: Vec<String> = Vec::new();
        let reading = Editing {
            definition: &definition,
            roles: &nobody,
        };
        let nodes = render(&current, &FieldErrors::new(), &Choices::default(), reading);
        assert_eq!(entries(&nodes), ["Hoher Weg 1"]);
        definition.data["liste"].editors = Some(vec!["bewilligung".into()]);
        let editing = Editing {
            definition: &definition,
            roles: &roles,
        };
        let nodes = render(&current, &FieldErrors::new(), &Choices::default(), editing);
        assert_eq!(entries(&nodes), ["Hoher Weg 1"]);
    }

    #[test]
    fn patch_contains_changes_and_clears() {
        let current = json!({ "name": "alt", "ok": true, "gruppe": { "email": "a@b" } });
        let submitted = json!({ "name": "neu", "gruppe": { "email": "a@b" } });
        let definition = definition();
        let roles = roles(&["koordination"]);
        let editing = Editing {
            definition: &definition,
            roles: &roles,
        };
        assert_eq!(
            patch(editing, &current, &submitted),
            json!({ "name": "neu", "ok": false })
        );
        assert_eq!(
            patch(editing, &json!({ "name": "x" }), &json!({})),
            json!({ "name": null })
        );
    }

    #[test]
    fn fields_the_viewer_may_not_change_are_disabled_and_left_out_of_the_patch() {
        let mut definition = definition();
        definition.data["gruppe"].editors = Some(vec!["bewilligung".into()]);
        let roles = roles(&["koordination"]);
        let editing = Editing {
            definition: &definition,
            roles: &roles,
        };
        // The disabled group is not submitted: that keeps its value, it does not clear it.
        let current = json!({ "name": "alt", "gruppe": { "email": "a@b" } });
        assert_eq!(
            patch(editing, &current, &json!({ "name": "neu" })),
            json!({ "name": "neu" })
        );
        let nodes = render(&current, &FieldErrors::new(), &Choices::default(), editing);
        let node = |key: &str| nodes.iter().find(|n| n["name"] == key).unwrap().clone();
        assert_eq!(node("name")["gesperrt"], false);
        assert_eq!(node("gruppe")["gesperrt"], true);
        assert_eq!(
            node("gruppe")["gesperrt_hinweis"],
            "Diese Angaben ändert nur: „Bewilligungsbehörde“."
        );
        // Inside a disabled group the fields need no hint of their own.
        assert_eq!(node("gruppe")["kinder"][0]["gesperrt"], false);
        // The Bewilligungsbehörde, the other way round.
        let roles = self::roles(&["bewilligung"]);
        let other = Editing {
            definition: &definition,
            roles: &roles,
        };
        let nodes = render(&current, &FieldErrors::new(), &Choices::default(), other);
        assert_eq!(nodes[0]["gesperrt"], true);
        // The workflow's default is said once above the form, not at every field.
        assert_eq!(nodes[0]["gesperrt_hinweis"], Value::Null);
        assert_eq!(
            locked_by_default(other).as_deref(),
            Some("Grau dargestellte Angaben ändert nur: „Koordination“.")
        );
        assert_eq!(locked_by_default(editing), None);
        assert_eq!(
            patch(other, &current, &json!({ "gruppe": { "email": "c@d" } })),
            json!({ "gruppe": { "email": "c@d" } })
        );
    }

    #[test]
    fn ids_follow_pointers() {
        assert_eq!(
            field_id("/standorte/0/anschrift"),
            "feld-standorte-0-anschrift"
        );
        assert_eq!(
            pointer_of_path("antragsteller.email"),
            "/antragsteller/email"
        );
    }
}
