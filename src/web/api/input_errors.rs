//! German details for request bodies and query strings that do not deserialize. serde's own
//! messages are English (`invalid type: floating point `1.5`, expected i64`); a client's user
//! reads the detail, so the common cases are said in German, with the JSON position where there
//! is one. A message of a shape not known here is named generically rather than passed through.

use actix_web::error::{JsonPayloadError, QueryPayloadError};
use serde_json::error::Category;

/// The detail for a JSON body the API's extractor refused.
pub fn json_payload(error: &JsonPayloadError) -> String {
    match error {
        JsonPayloadError::Deserialize(error) => json_body(error),
        JsonPayloadError::ContentType => {
            "Erwartet wird ein JSON-Inhalt (Content-Type: application/json).".into()
        }
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => {
            format!("Der Inhalt ist zu groß (höchstens {limit} Bytes).")
        }
        _ => "Der Inhalt konnte nicht gelesen werden.".into(),
    }
}

/// The detail for a JSON body that serde_json refused.
pub fn json_body(error: &serde_json::Error) -> String {
    let at = format!("Zeile {}, Spalte {}", error.line(), error.column());
    match error.classify() {
        Category::Syntax | Category::Eof => {
            format!("Der Inhalt ist kein gültiges JSON ({at}).")
        }
        Category::Data => {
            let message = error.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(message, _)| message);
            format!(
                "Der JSON-Inhalt ist ungültig ({at}): {}",
                data_error(message)
            )
        }
        Category::Io => "Der Inhalt konnte nicht gelesen werden.".into(),
    }
}

/// The detail for a query string the API's extractor refused.
pub fn query(error: &QueryPayloadError) -> String {
    match error {
        QueryPayloadError::Deserialize(error) => format!(
            "Die Abfrageparameter sind ungültig: {}",
            data_error(&error.to_string())
        ),
        _ => "Die Abfrageparameter sind ungültig.".into(),
    }
}

/// serde's data error (without position) in German.
fn data_error(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("missing field ") {
        return format!("Das Feld {} fehlt.", quoted(rest));
    }
    if let Some(rest) = message.strip_prefix("duplicate field ") {
        return format!("Das Feld {} ist doppelt angegeben.", quoted(rest));
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let (field, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return format!(
            "Das Feld {} ist hier nicht vorgesehen{}.",
            quoted(field),
            allowed(expected)
        );
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let (value, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return format!(
            "Der Wert {} ist nicht vorgesehen{}.",
            quoted(value),
            allowed(expected)
        );
    }
    if let Some(rest) = message.strip_prefix("invalid type: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        return format!(
            "Erwartet wird {}, angegeben ist {}.",
            expected_de(expected),
            found_de(found)
        );
    }
    if message.contains("invalid digit") || message.contains("parse integer") {
        return "Ein Wert ist keine ganze Zahl.".into();
    }
    if message.contains("too large") || message.contains("too small") {
        return "Eine Zahl liegt außerhalb des möglichen Bereichs.".into();
    }
    "Die Angaben passen nicht zur erwarteten Form.".into()
}

/// serde's `` `name` `` as „name“.
fn quoted(text: &str) -> String {
    format!("„{}“", text.trim().trim_matches('`'))
}

/// serde's list of what it expected (`` `a` ``, `` `a` or `b` ``, ``one of `a`, `b`, `c` ``,
/// `there are no fields`) as „ (erlaubt: „a“, „b“)“.
fn allowed(expected: &str) -> String {
    // The names are what stands between backticks: every second piece.
    let names: Vec<String> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|name| format!("„{name}“"))
        .collect();
    if names.is_empty() {
        String::new()
    } else {
        format!(" (erlaubt: {})", names.join(", "))
    }
}

/// What serde expected, in German.
fn expected_de(expected: &str) -> String {
    let expected = expected.trim();
    if [
        "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "usize", "isize",
    ]
    .contains(&expected)
    {
        "eine ganze Zahl".into()
    } else if ["f32", "f64"].contains(&expected) {
        "eine Zahl".into()
    } else if expected == "a string" || expected == "a borrowed string" {
        "ein Text".into()
    } else if expected == "a boolean" {
        "true oder false".into()
    } else if expected.starts_with("struct ") || expected == "a map" {
        "ein JSON-Objekt".into()
    } else if expected == "a sequence" || expected.starts_with("a sequence") {
        "eine Liste".into()
    } else {
        "ein anderer Wert".into()
    }
}

/// What was given instead, as serde names it (`floating point `1.5``), in German.
fn found_de(found: &str) -> String {
    let value = found.find(['`', '"']).map(|start| found[start..].trim());
    let kind = if found.starts_with("floating point") {
        "eine Zahl mit Nachkommastellen"
    } else if found.starts_with("integer") {
        "eine ganze Zahl"
    } else if found.starts_with("string") {
        "ein Text"
    } else if found.starts_with("boolean") {
        "ein Wahrheitswert"
    } else if found.starts_with("null") || found.starts_with("unit") {
        return "null".into();
    } else if found.starts_with("map") {
        return "ein JSON-Objekt".into();
    } else if found.starts_with("sequence") {
        return "eine Liste".into();
    } else {
        return "ein anderer Wert".into();
    };
    match value {
        Some(value) => format!(
            "{kind} ({})",
            shortened(value.trim_matches('`').trim_matches('"'))
        ),
        None => kind.to_string(),
    }
}

/// Longest part of a refused value repeated in a detail, in characters.
const SHOWN_CHARS: usize = 40;

/// A refused value as a detail repeats it: a long text is cut, the detail is no echo of the body.
fn shortened(value: &str) -> String {
    if value.chars().count() <= SHOWN_CHARS {
        value.to_string()
    } else {
        let start: String = value.chars().take(SHOWN_CHARS).collect();
        format!("{start}…")
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        version: i64,
        text: Option<String>,
        flag: Option<bool>,
        kind: Option<Kind>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Eins,
        Zwei,
    }

    fn detail(json: &str) -> String {
        json_body(&serde_json::from_str::<Body>(json).unwrap_err())
    }

    #[test]
    fn wrong_types_are_named_in_german_with_the_position() {
        assert_eq!(
            detail(r#"{"version": 4705205.0}"#),
            "Der JSON-Inhalt ist ungültig (Zeile 1, Spalte 21): Erwartet wird eine ganze Zahl, \
             angegeben ist eine Zahl mit Nachkommastellen (4705205.0)."
        );
        assert!(
            detail(r#"{"version": "3"}"#)
                .ends_with("Erwartet wird eine ganze Zahl, angegeben ist ein Text (3)."),
            "{}",
            detail(r#"{"version": "3"}"#)
        );
        assert!(
            detail(r#"{"version": 1, "text": 5}"#)
                .ends_with("Erwartet wird ein Text, angegeben ist eine ganze Zahl (5).")
        );
        assert!(
            detail(r#"{"version": 1, "flag": "ja"}"#)
                .ends_with("Erwartet wird true oder false, angegeben ist ein Text (ja).")
        );
        assert!(
            detail("7")
                .ends_with("Erwartet wird ein JSON-Objekt, angegeben ist eine ganze Zahl (7).")
        );
        assert!(
            detail(r#"{"version": 1, "text": ["a"]}"#)
                .ends_with("Erwartet wird ein Text, angegeben ist eine Liste.")
        );
    }

    #[test]
    fn missing_unknown_and_doubled_fields_and_values_are_named() {
        assert!(
            detail("{}").ends_with("Das Feld „version“ fehlt."),
            "{}",
            detail("{}")
        );
        assert!(
            detail(r#"{"version": 1, "lable": "x"}"#).ends_with(
                "Das Feld „lable“ ist hier nicht vorgesehen (erlaubt: „version“, „text“, „flag“, „kind“)."
            ),
            "{}",
            detail(r#"{"version": 1, "lable": "x"}"#)
        );
        assert!(
            detail(r#"{"version": 1, "version": 2}"#)
                .ends_with("Das Feld „version“ ist doppelt angegeben.")
        );
        assert!(
            detail(r#"{"version": 1, "kind": "drei"}"#)
                .ends_with("Der Wert „drei“ ist nicht vorgesehen (erlaubt: „eins“, „zwei“)."),
            "{}",
            detail(r#"{"version": 1, "kind": "drei"}"#)
        );
    }

    #[test]
    fn a_long_refused_value_is_cut() {
        let long = "ä".repeat(500);
        let detail = detail(&format!(r#"{{"version": "{long}"}}"#));
        assert!(
            detail.ends_with(&format!("angegeben ist ein Text ({}…).", "ä".repeat(40))),
            "{detail}"
        );
    }

    #[test]
    fn broken_json_is_named_as_such() {
        assert_eq!(
            detail(r#"{"version": 1"#),
            "Der Inhalt ist kein gültiges JSON (Zeile 1, Spalte 13)."
        );
        assert_eq!(
            detail("{\n  \"version\": x}"),
            "Der Inhalt ist kein gültiges JSON (Zeile 2, Spalte 14)."
        );
    }

    #[test]
    fn no_english_reaches_the_detail() {
        for json in [
            r#"{"version": 1.5}"#,
            "{}",
            r#"{"version": 1, "x": 1}"#,
            "null",
            "7",
        ] {
            let detail = detail(json);
            for english in ["invalid", "expected", "missing", "unknown", "field"] {
                assert!(!detail.contains(english), "{json}: {detail}");
            }
        }
    }
}
