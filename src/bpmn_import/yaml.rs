//! The draft written as a workflow file.

use crate::engine::definition::Definition;

/// The definition as a workflow file, its fields in the order of the format.
pub(super) fn to_yaml(definition: &Definition) -> String {
    let value = serde_json::to_value(definition).unwrap_or_default();
    let mut out = String::new();
    let mut emitter = yaml_rust2::YamlEmitter::new(&mut out);
    emitter.multiline_strings(true);
    let _ = emitter.dump(&yaml_of(&value));
    let body = out.strip_prefix("---\n").unwrap_or(&out);
    format!(
        "# Entwurf aus einer BPMN-Datei: Ergänzen Sie die Datenfelder (data), Vorlagen und \
         Fristen, dann prüfen.\n{body}\n"
    )
}

/// A JSON value as the same YAML value, maps in their order.
fn yaml_of(value: &serde_json::Value) -> yaml_rust2::Yaml {
    use yaml_rust2::Yaml;
    match value {
        serde_json::Value::Null => Yaml::Null,
        serde_json::Value::Bool(b) => Yaml::Boolean(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Yaml::Integer(i),
            None => Yaml::Real(n.to_string()),
        },
        serde_json::Value::String(s) => Yaml::String(s.clone()),
        serde_json::Value::Array(items) => Yaml::Array(items.iter().map(yaml_of).collect()),
        serde_json::Value::Object(map) => Yaml::Hash(
            map.iter()
                .map(|(k, v)| (Yaml::String(k.clone()), yaml_of(v)))
                .collect(),
        ),
    }
}
