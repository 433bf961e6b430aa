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
    /// "unknown data field 'x'" and the hint to append after the place
    /// (" (did you mean 'y'?)").
    pub(super) fn message(&self, path: &str, data: &IndexMap<String, Field>) -> (String, String) {
        let what = format!("unknown data field '{path}'");
        match self {
            Unresolved::Unknown => {
                let paths = all_paths(data);
                (what, unknown_hint(path, paths.iter().map(String::as_str)))
            }
            Unresolved::BelowLeaf { prefix, field_type } => (
                what,
                format!(
                    " ('{prefix}' is of type {} and has no fields)",
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
                format!("data field names in {} must not be empty", at.path()),
            );
        } else if name.contains('.') {
            checker.error(
                &field_at.clone().key(),
                format!(
                    "data field name '{name}' in {} must not contain '.' (dots separate the \
                     parts of a data path)",
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
            "'{key}' is only allowed on {allowed} fields, not on the {} field {}",
            type_name(kind),
            at.path()
        )
    };

    match (&field.options, kind == FieldType::Enum) {
        (None, true) => checker.error(
            &type_at,
            format!("enum field {} needs 'options'", at.path()),
        ),
        (Some(options), true) => {
            if options.is_empty() {
                checker.error(
                    &at.k("options"),
                    format!("enum field {} needs at least one option", at.path()),
                );
            }
            for key in options.keys() {
                if key.trim().is_empty() {
                    checker.error(
                        &at.k("options").k(key).key(),
                        format!("option keys of enum field {} must not be empty", at.path()),
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
            format!("group field {} needs 'fields'", at.path()),
        ),
        (Some(fields), true) => {
            if fields.is_empty() {
                checker.error(
                    &at.k("fields"),
                    format!("group field {} needs at least one field", at.path()),
                );
            }
            check_fields(checker, fields, &at.k("fields"));
        }
        (Some(_), false) => checker.error(&at.k("fields").key(), only_on("fields", "group")),
        (None, false) => {}
    }

    match (&field.items, kind == FieldType::List) {
        (None, true) => checker.error(&type_at, format!("list field {} needs 'items'", at.path())),
        (Some(items), true) => {
            if crate::engine::editors::names_editors(items) {
                checker.error(
                    &at.k("items"),
                    format!(
                        "'editors' is not allowed inside the items of list field {}; a list is \
                         changed as a whole, so set 'editors' on the list itself",
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
            checker.error(&at.k(key).key(), only_on(key, "number and list"));
        } else if kind == FieldType::List && (bound < 0.0 || bound.fract() != 0.0) {
            checker.error(
                &at.k(key),
                format!(
                    "'{key}' of list field {} must be a whole number of items, at least 0",
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
            format!("max ({max}) is less than min ({min}) in {}", at.path()),
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
                    format!("value for data field '{key}' in {} {problem}", at.path()),
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
                _ => Err(format!("must be a string, found {found}")),
            }
        }
        FieldType::Date => match value.as_str() {
            Some(text) if NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok() => Ok(()),
            _ => Err(format!("must be a date (YYYY-MM-DD), found {found}")),
        },
        FieldType::Number => {
            let Some(number) = value.as_f64() else {
                return Err(format!("must be a number, found {found}"));
            };
            if let Some(min) = field.min
                && number < min
            {
                return Err(format!("must be at least {min}, found {found}"));
            }
            if let Some(max) = field.max
                && number > max
            {
                return Err(format!("must be at most {max}, found {found}"));
            }
            Ok(())
        }
        FieldType::Boolean => match value {
            Value::Bool(_) => Ok(()),
            _ => Err(format!("must be true or false, found {found}")),
        },
        FieldType::Enum => {
            let options = field.options.as_ref();
            match value.as_str() {
                Some(key) if options.is_some_and(|o| o.contains_key(key)) => Ok(()),
                _ => Err(format!(
                    "must be one of the options ({}), found {found}",
                    options
                        .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
                        .unwrap_or_default()
                )),
            }
        }
        FieldType::Organisations => match value {
            Value::Array(items) if items.iter().all(Value::is_string) => Ok(()),
            _ => Err(format!(
                "must be a list of organisation keys, found {found}"
            )),
        },
        FieldType::Group => {
            let Value::Object(members) = value else {
                return Err(format!("must be a mapping of its fields, found {found}"));
            };
            let fields = field.fields.as_ref();
            for (name, member) in members {
                let Some(child) = fields.and_then(|f| f.get(name)) else {
                    return Err(format!("has no field '{name}'"));
                };
                check_value(child, member).map_err(|e| format!("(field '{name}') {e}"))?;
            }
            Ok(())
        }
        FieldType::List => {
            let Value::Array(items) = value else {
                return Err(format!("must be a list, found {found}"));
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
        Value::Null => "nothing".into(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string '{s}'"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}
