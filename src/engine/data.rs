//! Case data: reading and writing dotted paths, JSON merge patches, and validation against the
//! workflow's data schema (German messages with JSON pointers, for problem+json `errors`).

use chrono::NaiveDate;
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value};

use super::definition::{Field, FieldType};

/// The value at a dotted path (`integrationskonzept.status`), if present.
pub fn lookup<'a>(data: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(data, |value, segment| value.as_object()?.get(segment))
}

/// Present and not empty: not null, not `""`, not `[]`, not `{}`.
pub fn is_filled(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    }
}

/// Sets the value at a dotted path, creating intermediate objects; `false` if a non-object is in the way.
pub fn set_path(data: &mut Value, path: &str, value: Value) -> bool {
    let mut segments: Vec<&str> = path.split('.').collect();
    let Some(last) = segments.pop() else {
        return false;
    };
    let mut current = data;
    for segment in segments {
        let Some(object) = current.as_object_mut() else {
            return false;
        };
        current = object
            .entry(segment.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    match current.as_object_mut() {
        Some(object) => {
            object.insert(last.to_string(), value);
            true
        }
        None => false,
    }
}

/// Applies an RFC 7396 JSON merge patch (null removes a member).
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(object) = target {
        for (key, value) in patch {
            if value.is_null() {
                object.remove(key);
            } else {
                merge_patch(object.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// One problem with a data value: where (JSON pointer into the data) and what (German).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataError {
    /// RFC 6901 pointer, e.g. `/standorte/0/anschrift`.
    pub pointer: String,
    /// German explanation.
    pub message: String,
}

/// Checks data against the schema: unknown fields, types, enumeration values, ranges.
/// Missing fields are fine here; what an action requires is checked when it is taken.
pub fn validate_data(schema: &IndexMap<String, Field>, data: &Value) -> Vec<DataError> {
    let mut errors = Vec::new();
    match data {
        Value::Object(object) => validate_object(schema, object, "", &mut errors),
        _ => errors.push(DataError {
            pointer: String::new(),
            message: "Die Daten müssen ein Objekt sein.".into(),
        }),
    }
    errors
}

/// One segment of a JSON pointer (RFC 6901: `~` and `/` escaped).
pub(crate) fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn validate_object(
    fields: &IndexMap<String, Field>,
    object: &Map<String, Value>,
    pointer: &str,
    errors: &mut Vec<DataError>,
) {
    for (key, field) in fields {
        if let Some(value) = object.get(key) {
            let child = format!("{pointer}/{}", escape_pointer(key));
            validate_value(field, value, &child, errors);
        }
    }
    for key in object.keys().filter(|key| !fields.contains_key(*key)) {
        errors.push(DataError {
            pointer: format!("{pointer}/{}", escape_pointer(key)),
            message: format!("Das Feld „{key}“ ist in diesem Verfahren nicht vorgesehen."),
        });
    }
}

/// Checks one value against its field definition (null always allowed: it means "not filled").
pub fn validate_value(field: &Field, value: &Value, pointer: &str, errors: &mut Vec<DataError>) {
    if value.is_null() {
        return;
    }
    let mut fail = |message: String| {
        errors.push(DataError {
            pointer: pointer.to_string(),
            message: format!("{}: {message}", field.label),
        })
    };
    match field.field_type {
        FieldType::Text | FieldType::LongText => {
            if !value.is_string() {
                fail("Bitte geben Sie einen Text ein.".into());
            }
        }
        FieldType::Document | FieldType::Organisation => match value.as_str() {
            Some(text) if !text.trim().is_empty() => {}
            _ => fail("Bitte geben Sie eine Kennung als Text an.".into()),
        },
        FieldType::Date => match value.as_str() {
            Some(text) if NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok() => {}
            _ => fail(format!(
                "„{}“ ist kein gültiges Datum (erwartet JJJJ-MM-TT).",
                display(value)
            )),
        },
        FieldType::Number => match value.as_f64() {
            Some(number) => {
                if let Some(min) = field.min.filter(|min| number < *min) {
                    fail(format!("Der Wert {number} ist kleiner als {min}."));
                }
                if let Some(max) = field.max.filter(|max| number > *max) {
                    fail(format!("Der Wert {number} ist größer als {max}."));
                }
            }
            None => fail("Bitte geben Sie eine Zahl ein.".into()),
        },
        FieldType::Boolean => {
            if !value.is_boolean() {
                fail("Bitte wählen Sie Ja oder Nein (true/false).".into());
            }
        }
        FieldType::Enum => {
            let options = field.options.as_ref();
            match value.as_str() {
                Some(text) if options.is_some_and(|o| o.contains_key(text)) => {}
                _ => fail(format!(
                    "„{}“ ist keine der erlaubten Angaben ({}).",
                    display(value),
                    options
                        .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
                        .unwrap_or_default()
                )),
            }
        }
        FieldType::Organisations => match value.as_array() {
            Some(items) => {
                for (index, item) in items.iter().enumerate() {
                    if item.as_str().is_none_or(|s| s.trim().is_empty()) {
                        errors.push(DataError {
                            pointer: format!("{pointer}/{index}"),
                            message: format!(
                                "{}: Bitte geben Sie jede Organisation als Kennung (AGS oder Schlüssel) an.",
                                field.label
                            ),
                        });
                    }
                }
            }
            None => fail("Bitte geben Sie eine Liste von Organisationen an.".into()),
        },
        FieldType::Group => match (value.as_object(), field.fields.as_ref()) {
            (Some(object), Some(fields)) => validate_object(fields, object, pointer, errors),
            _ => fail("Bitte geben Sie die Angaben als Gruppe (Objekt) an.".into()),
        },
        FieldType::List => match (value.as_array(), field.items.as_deref()) {
            (Some(items), Some(item_field)) => {
                let count = items.len() as f64;
                if let Some(min) = field.min.filter(|min| count < *min) {
                    fail(format!("Bitte geben Sie mindestens {min} Einträge an."));
                }
                if let Some(max) = field.max.filter(|max| count > *max) {
                    fail(format!("Bitte geben Sie höchstens {max} Einträge an."));
                }
                for (index, item) in items.iter().enumerate() {
                    validate_value(item_field, item, &format!("{pointer}/{index}"), errors);
                }
            }
            _ => fail("Bitte geben Sie eine Liste an.".into()),
        },
    }
}

fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The field definition at a dotted path (through groups), if the schema declares it.
pub fn field_at<'a>(schema: &'a IndexMap<String, Field>, path: &str) -> Option<&'a Field> {
    let mut fields = Some(schema);
    let mut found = None;
    for segment in path.split('.') {
        let field = fields?.get(segment)?;
        found = Some(field);
        fields = field.fields.as_ref();
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> IndexMap<String, Field> {
        serde_json::from_value(json!({
            "name": { "type": "text", "label": "Name" },
            "datum": { "type": "date", "label": "Datum" },
            "vze": { "type": "number", "label": "VZE", "min": 0, "max": 6 },
            "aktiv": { "type": "boolean", "label": "Aktiv" },
            "status": { "type": "enum", "label": "Stand", "options": { "a": "A", "b": "B" } },
            "orgs": { "type": "organisations", "label": "Beteiligte" },
            "leitung": { "type": "group", "label": "Leitung", "fields": {
                "gruppe": { "type": "enum", "label": "Gruppe", "options": { "lehrkraft": "Lehrkraft", "fachkraft": "Fachkraft" } } } },
            "standorte": { "type": "list", "label": "Standorte", "max": 1, "items": {
                "type": "group", "label": "Standort", "fields": { "ort": { "type": "text", "label": "Ort" } } } }
        }))
        .unwrap()
    }

    #[test]
    fn valid_data_passes_and_null_means_not_filled() {
        let data = json!({
            "name": "Kreis Kleve", "datum": "2026-02-28", "vze": 5.5, "aktiv": true, "status": "a",
            "orgs": ["05154"], "leitung": { "gruppe": "lehrkraft" }, "standorte": [{ "ort": "Kleve" }],
        });
        assert_eq!(validate_data(&schema(), &data), []);
        assert_eq!(validate_data(&schema(), &json!({ "name": null })), []);
    }

    #[test]
    fn every_violation_is_reported_with_its_pointer_in_german() {
        let data = json!({
            "name": 3, "datum": "2026-02-30", "vze": 7, "aktiv": "ja", "status": "c",
            "orgs": ["", 5], "leitung": { "gruppe": "x", "extra": 1 },
            "standorte": [{ "ort": "A" }, { "ort": 2 }], "unbekannt": 1,
        });
        let errors = validate_data(&schema(), &data);
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/name",
                "/datum",
                "/vze",
                "/aktiv",
                "/status",
                "/orgs/0",
                "/orgs/1",
                "/leitung/gruppe",
                "/leitung/extra",
                "/standorte",
                "/standorte/1/ort",
                "/unbekannt"
            ]
        );
        assert_eq!(
            errors[1].message,
            "Datum: „2026-02-30“ ist kein gültiges Datum (erwartet JJJJ-MM-TT)."
        );
        assert_eq!(errors[2].message, "VZE: Der Wert 7 ist größer als 6.");
        assert_eq!(
            errors[4].message,
            "Stand: „c“ ist keine der erlaubten Angaben (a, b)."
        );
        assert!(
            validate_data(&schema(), &json!([1]))[0]
                .message
                .contains("Objekt")
        );
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut target = json!({ "a": "b", "c": { "d": "e", "f": "g" } });
        merge_patch(&mut target, &json!({ "a": "z", "c": { "f": null } }));
        assert_eq!(target, json!({ "a": "z", "c": { "d": "e" } }));
        merge_patch(&mut target, &json!({ "a": { "x": 1 } }));
        assert_eq!(target["a"], json!({ "x": 1 }));
    }

    #[test]
    fn paths_read_and_write_nested_objects() {
        let mut data = json!({});
        assert!(set_path(&mut data, "a.b.c", json!(1)));
        assert_eq!(lookup(&data, "a.b.c"), Some(&json!(1)));
        assert!(
            !set_path(&mut data, "a.b.c.d", json!(2)),
            "a number is in the way"
        );
        assert!(is_filled(lookup(&data, "a")));
        assert!(!is_filled(lookup(&json!({ "x": " " }), "x")));
        assert!(!is_filled(lookup(&json!({ "x": [] }), "x")));
        assert_eq!(
            field_at(&schema(), "leitung.gruppe").map(|f| f.label.as_str()),
            Some("Gruppe")
        );
        assert!(field_at(&schema(), "leitung.fehlt").is_none());
        assert!(field_at(&schema(), "name.tief").is_none());
    }
}
