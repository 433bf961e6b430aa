//! The data schema: consistency of the field declarations, resolving data paths against them,
//! and checking literal values that `set` writes.

use chrono::NaiveDate;
use indexmap::IndexMap;
use serde_json::Value;

use super::{At, Checker, unknown_hint};
use crate::engine::definition::{Field, FieldType};

/// The type as written in files.
pub(super) fn type_name(field_type: FieldType) -> &'static str {
    match field_type {
        FieldType::Text => "text",
        FieldType::LongText => "long_text",
        FieldType::Date => "date",
        FieldType::Number => "number",
        FieldType::Boolean => "boolean",
        FieldType::Enum => "enum",
        FieldType::Organisation => "organisation",
        FieldType::Organisations => "organisations",
        FieldType::Document => "document",
        FieldType::Group => "group",
        FieldType::List => "list",
    }
}

/// Why a data path names no field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Unresolved {
    /// Some segment is not declared.
    Unknown,
    /// The path goes on below a field that is not a group.
    BelowLeaf {
        prefix: String,
        field_type: FieldType,
    },
}

impl Unresolved {
    /// "unbekanntes Datenfeld 'x'" and the hint to append after the place
    /// (" (meinten Sie 'y'?)").
    pub(super) fn message(&self, path: &str, data: &IndexMap<String, Field>) -> (String, String) {
        let what = format!("unbekanntes Datenfeld '{path}'");
        match self {
            Unresolved::Unknown => {
                let paths = all_paths(data);
                (what, unknown_hint(path, paths.iter().map(String::as_str)))
            }
            Unresolved::BelowLeaf { prefix, field_type } => (
                what,
                format!(
                    " ('{prefix}' ist vom Typ {} und hat keine Felder)",
                    type_name(*field_type)
                ),
            ),
        }
    }
}

/// The field a dotted path names, going down through groups.
pub(super) fn resolve<'a>(
    data: &'a IndexMap<String, Field>,
    path: &str,
) -> Result<&'a Field, Unresolved> {
    let mut fields = data;
    let mut found: Option<&Field> = None;
    let mut prefix = String::new();
    for segment in path.split('.') {
        if let Some(parent) = found {
            match (&parent.fields, parent.field_type) {
                (Some(children), FieldType::Group) => fields = children,
                _ => {
                    return Err(Unresolved::BelowLeaf {
                        prefix,
                        field_type: parent.field_type,
                    });
                }
            }
        }
        let field = fields.get(segment).ok_or(Unresolved::Unknown)?;
        if !prefix.is_empty() {
            prefix.push('.');
        }
        prefix.push_str(segment);
        found = Some(field);
    }
    found.ok_or(Unresolved::Unknown)
}

/// Every path the schema declares (through groups), for suggestions.
fn all_paths(data: &IndexMap<String, Field>) -> Vec<String> {
    fn walk(fields: &IndexMap<String, Field>, prefix: &str, out: &mut Vec<String>) {
        for (name, field) in fields {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            if let (Some(children), FieldType::Group) = (&field.fields, field.field_type) {
                walk(children, &path, out);
            }
            out.push(path);
        }
    }
    let mut out = Vec::new();
    walk(data, "", &mut out);
    out
}

/// Checks every field declaration of the definition.
pub(super) fn check_schema(checker: &mut Checker<'_>) {
    let def = checker.def;
    check_fields(checker, &def.data, &At::root().k("data"));
}

fn check_fields(checker: &mut Checker<'_>, fields: &IndexMap<String, Field>, at: &At) {
    for (name, field) in fields {
        let field_at = at.k(name);
        if name.trim().is_empty() {
            checker.error(
                &field_at.clone().key(),
                format!("Datenfeldnamen in {} dürfen nicht leer sein", at.path()),
            );
        } else if name.contains('.') {
            checker.error(
                &field_at.clone().key(),
                format!(
                    "Datenfeldname '{name}' in {} darf keinen '.' enthalten (Punkte trennen \
                     die Teile eines Datenpfads)",
                    at.path()
                ),
            );
        }
        check_field(checker, field, &field_at);
    }
}

fn check_field(checker: &mut Checker<'_>, field: &Field, at: &At) {
    let kind = field.field_type;
    let type_at = at.k("type");
    let only_on = |key: &str, allowed: &str| {
        format!(
            "'{key}' ist nur bei Feldern vom Typ {allowed} erlaubt, nicht beim Feld vom Typ {} \
             in {}",
            type_name(kind),
            at.path()
        )
    };

    match (&field.options, kind == FieldType::Enum) {
        (None, true) => checker.error(
            &type_at,
            format!("Feld vom Typ enum in {} braucht 'options'", at.path()),
        ),
        (Some(options), true) => {
            if options.is_empty() {
                checker.error(
                    &at.k("options"),
                    format!(
                        "Feld vom Typ enum in {} braucht mindestens eine Option",
                        at.path()
                    ),
                );
            }
            for key in options.keys() {
                if key.trim().is_empty() {
                    checker.error(
                        &at.k("options").k(key).key(),
                        format!(
                            "Schlüssel der Optionen des Felds vom Typ enum in {} dürfen nicht \
                             leer sein",
                            at.path()
                        ),
                    );
                }
            }
        }
        (Some(_), false) => checker.error(&at.k("options").key(), only_on("options", "enum")),
        (None, false) => {}
    }

    match (&field.fields, kind == FieldType::Group) {
        (None, true) => checker.error(
            &type_at,
            format!("Feld vom Typ group in {} braucht 'fields'", at.path()),
        ),
        (Some(fields), true) => {
            if fields.is_empty() {
                checker.error(
                    &at.k("fields"),
                    format!(
                        "Feld vom Typ group in {} braucht mindestens ein Feld",
                        at.path()
                    ),
                );
            }
            check_fields(checker, fields, &at.k("fields"));
        }
        (Some(_), false) => checker.error(&at.k("fields").key(), only_on("fields", "group")),
        (None, false) => {}
    }

    match (&field.items, kind == FieldType::List) {
        (None, true) => checker.error(
            &type_at,
            format!("Feld vom Typ list in {} braucht 'items'", at.path()),
        ),
        (Some(items), true) => {
            if crate::engine::editors::names_editors(items) {
                checker.error(
                    &at.k("items"),
                    format!(
                        "'editors' ist innerhalb von 'items' des Felds vom Typ list in {} nicht \
                         erlaubt; eine Liste wird als Ganzes geändert, setzen Sie 'editors' \
                         daher bei der Liste selbst",
                        at.path()
                    ),
                );
            }
            check_field(checker, items, &at.k("items"));
        }
        (Some(_), false) => checker.error(&at.k("items").key(), only_on("items", "list")),
        (None, false) => {}
    }

    if let Some(editors) = &field.editors {
        checker.editors(editors, &at.k("editors"));
    }

    let bounded = matches!(kind, FieldType::Number | FieldType::List);
    for (key, bound) in [("min", field.min), ("max", field.max)] {
        let Some(bound) = bound else { continue };
        if !bounded {
            checker.error(&at.k(key).key(), only_on(key, "number oder list"));
        } else if kind == FieldType::List && (bound < 0.0 || bound.fract() != 0.0) {
            checker.error(
                &at.k(key),
                format!(
                    "'{key}' des Felds vom Typ list in {} muss eine ganze Zahl ab 0 sein \
                     (Anzahl der Einträge)",
                    at.path()
                ),
            );
        }
    }
    if let (true, Some(min), Some(max)) = (bounded, field.min, field.max)
        && min > max
    {
        checker.error(
            &at.k("max"),
            format!("in {} ist max ({max}) kleiner als min ({min})", at.path()),
        );
    }
}

/// A `set` entry: the key must be a declared field and the value fit its type.
pub(super) fn check_set(checker: &mut Checker<'_>, key: &str, value: &Value, at: &At) {
    let def = checker.def;
    match resolve(&def.data, key) {
        Err(problem) => {
            let (what, hint) = problem.message(key, &def.data);
            checker.error(&at.clone().key(), format!("{what} in {}{hint}", at.path()));
        }
        Ok(field) => {
            if let Err(problem) = check_value(field, value) {
                checker.error(
                    at,
                    format!("Wert für Datenfeld '{key}' in {} {problem}", at.path()),
                );
            }
        }
    }
}

/// Whether a literal fits a field; `null` always does (it clears the field).
fn check_value(field: &Field, value: &Value) -> Result<(), String> {
    if value.is_null() {
        return Ok(());
    }
    let found = describe(value);
    match field.field_type {
        FieldType::Text | FieldType::LongText | FieldType::Document | FieldType::Organisation => {
            match value {
                Value::String(_) => Ok(()),
                _ => Err(format!("muss ein Text sein, gefunden: {found}")),
            }
        }
        FieldType::Date => match value.as_str() {
            Some(text) if NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok() => Ok(()),
            _ => Err(format!(
                "muss ein Datum im Format JJJJ-MM-TT sein, gefunden: {found}"
            )),
        },
        FieldType::Number => {
            let Some(number) = value.as_f64() else {
                return Err(format!("muss eine Zahl sein, gefunden: {found}"));
            };
            if let Some(min) = field.min
                && number < min
            {
                return Err(format!("muss mindestens {min} sein, gefunden: {found}"));
            }
            if let Some(max) = field.max
                && number > max
            {
                return Err(format!("darf höchstens {max} sein, gefunden: {found}"));
            }
            Ok(())
        }
        FieldType::Boolean => match value {
            Value::Bool(_) => Ok(()),
            _ => Err(format!(
                "muss ein Wahrheitswert (true oder false) sein, gefunden: {found}"
            )),
        },
        FieldType::Enum => {
            let options = field.options.as_ref();
            match value.as_str() {
                Some(key) if options.is_some_and(|o| o.contains_key(key)) => Ok(()),
                _ => Err(format!(
                    "muss eine der Optionen sein (erlaubt: {}), gefunden: {found}",
                    options
                        .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
                        .unwrap_or_default()
                )),
            }
        }
        FieldType::Organisations => match value {
            Value::Array(items) if items.iter().all(Value::is_string) => Ok(()),
            _ => Err(format!(
                "muss eine Liste von Organisationsschlüsseln sein, gefunden: {found}"
            )),
        },
        FieldType::Group => {
            let Value::Object(members) = value else {
                return Err(format!(
                    "muss eine Zuordnung der Felder der Gruppe sein, gefunden: {found}"
                ));
            };
            let fields = field.fields.as_ref();
            for (name, member) in members {
                let Some(child) = fields.and_then(|f| f.get(name)) else {
                    return Err(format!("enthält das unbekannte Feld '{name}'"));
                };
                check_value(child, member).map_err(|e| format!("(Feld '{name}') {e}"))?;
            }
            Ok(())
        }
        FieldType::List => {
            let Value::Array(items) = value else {
                return Err(format!("muss eine Liste sein, gefunden: {found}"));
            };
            match &field.items {
                Some(item_field) => items
                    .iter()
                    .try_for_each(|item| check_value(item_field, item)),
                None => Ok(()),
            }
        }
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "ein leerer Wert".into(),
        Value::Bool(b) => format!("der Wahrheitswert {b}"),
        Value::Number(n) => format!("die Zahl {n}"),
        Value::String(s) => format!("der Text '{s}'"),
        Value::Array(_) => "eine Liste".into(),
        Value::Object(_) => "eine Zuordnung".into(),
    }
}
