//! The one definition of how a journal entry is hashed, and the canonical JSON it relies on.
//!
//! Hash input (version 1) is the UTF-8 text of the compact JSON array
//!
//! ```text
//! ["vorgang.journal.v1", case_id, seq, at, actor, kind, payload, prev_hash]
//! ```
//!
//! - `case_id` and `seq` are JSON integers;
//! - `at` is the UTC timestamp as a string `YYYY-MM-DDTHH:MM:SS.ffffffZ` (always six fractional
//!   digits; it is truncated to microseconds before it is stored, see [`truncate_at`]);
//! - `payload` is the *stored text* of the payload (itself canonical JSON, see
//!   [`canonical_json`]) embedded as a JSON string, so verification never re-parses and
//!   re-serialises the payload (float formatting could otherwise differ);
//! - `prev_hash` is the lowercase hex hash of the previous entry of the same case, or 64 zeros.
//!
//! Strings are escaped as serde_json does: `"` and `\` with a backslash, `\b \f \n \r \t`, other
//! control characters as `\u00xx` (lowercase hex), everything else as raw UTF-8. No whitespace.
//! The hash is the lowercase hex SHA-256 of that text. The leading tag names the format, so a
//! future change cannot be confused with this one.

use std::fmt::Write as _;

use chrono::{NaiveDateTime, Timelike};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `prev_hash` of the first entry of every case.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// First element of the hashed array; names the serialisation so it can evolve.
const FORMAT_TAG: &str = "vorgang.journal.v1";

/// The fields that go into an entry's hash, borrowed from wherever they live.
#[derive(Debug, Clone, Copy)]
pub struct HashInput<'a> {
    /// The case the entry belongs to, so entries cannot be moved between cases.
    pub case_id: i64,
    /// Position in the case's journal, so entries cannot be reordered.
    pub seq: i32,
    /// UTC, already truncated to microseconds.
    pub at: NaiveDateTime,
    /// Who did it.
    pub actor: &'a str,
    /// What happened.
    pub kind: &'a str,
    /// The stored payload text (canonical JSON).
    pub payload: &'a str,
    /// Hash of the previous entry, or [`GENESIS_HASH`].
    pub prev_hash: &'a str,
}

/// Computes the hash of one entry; the single place the chain format is defined.
pub fn entry_hash(input: &HashInput<'_>) -> String {
    let text = hash_text(input);
    hex(&Sha256::digest(text.as_bytes()))
}

/// The exact text that is hashed (exposed for documentation tests and external verifiers).
pub fn hash_text(input: &HashInput<'_>) -> String {
    let array = (
        FORMAT_TAG,
        input.case_id,
        input.seq,
        format_at(input.at),
        input.actor,
        input.kind,
        input.payload,
        input.prev_hash,
    );
    serde_json::to_string(&array).expect("a tuple of strings and integers always serialises")
}

/// The timestamp as hashed and shown by the API: `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
pub fn format_at(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Cuts a timestamp to whole microseconds (both backends store exactly that) and folds a leap
/// second into the last microsecond before it, so what is hashed is what reads back.
pub fn truncate_at(at: NaiveDateTime) -> NaiveDateTime {
    let nanos = at.nanosecond().min(999_999_999);
    at.with_nanosecond(nanos / 1_000 * 1_000).unwrap_or(at)
}

/// Canonical JSON: object keys sorted by Unicode code point (byte-wise UTF-8) at every level, no
/// whitespace, strings and numbers as serde_json writes them. The same value always gives the
/// same text, whatever order its keys were inserted in (serde_json keeps insertion order here).
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::String(text) => write_string(text, out),
        scalar => out.push_str(&scalar.to_string()),
    }
}

fn write_string(text: &str, out: &mut String) {
    out.push_str(&serde_json::to_string(text).expect("a string always serialises"));
}

/// Lowercase hex of a byte string.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use serde_json::json;

    fn at(micros: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 3, 3)
            .unwrap()
            .and_hms_micro_opt(9, 30, 5, micros)
            .unwrap()
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level_and_drops_whitespace() {
        let a = json!({"b": 1, "a": {"z": [1, {"y": true, "x": null}], "ä": "ü"}, "A": 1.5});
        let b: Value = serde_json::from_str(
            r#"{ "A": 1.5, "a": {"ä": "ü", "z": [1, {"x": null, "y": true}]}, "b": 1 }"#,
        )
        .unwrap();
        let expected = r#"{"A":1.5,"a":{"z":[1,{"x":null,"y":true}],"ä":"ü"},"b":1}"#;
        assert_eq!(canonical_json(&a), expected);
        assert_eq!(canonical_json(&b), expected);
    }

    #[test]
    fn canonical_json_escapes_like_serde_json() {
        let value = json!({"t": "a\"b\\c\n\u{1}é"});
        assert_eq!(canonical_json(&value), r#"{"t":"a\"b\\c\n\u0001é"}"#);
    }

    #[test]
    fn timestamps_are_truncated_to_microseconds_and_formatted_with_six_digits() {
        let precise = at(0).with_nanosecond(123_456_789).unwrap();
        assert_eq!(truncate_at(precise), at(123_456));
        assert_eq!(format_at(at(0)), "2026-03-03T09:30:05.000000Z");
        assert_eq!(format_at(at(42)), "2026-03-03T09:30:05.000042Z");
        let leap = at(0).with_nanosecond(1_500_000_000).unwrap();
        assert_eq!(truncate_at(leap), at(999_999));
    }

    /// Pins the format: this vector was computed independently (Python: json.dumps with
    /// separators=(",", ":"), ensure_ascii=False, then hashlib.sha256). Changing the hash input
    /// breaks every stored chain, so this test must never be "fixed" by updating the constant.
    #[test]
    fn hash_of_a_known_entry_is_stable() {
        let input = HashInput {
            case_id: 7,
            seq: 1,
            at: at(123_456),
            actor: "Jürgen Beispiel <koordination@kreis-kleve.de>",
            kind: "case.created",
            payload: r#"{"aktenzeichen":"05154-KI-2026-0001","note":"\"Ärger\"\n"}"#,
            prev_hash: GENESIS_HASH,
        };
        assert_eq!(
            hash_text(&input),
            concat!(
                r#"["vorgang.journal.v1",7,1,"2026-03-03T09:30:05.123456Z","#,
                r#""Jürgen Beispiel <koordination@kreis-kleve.de>","case.created","#,
                r#""{\"aktenzeichen\":\"05154-KI-2026-0001\",\"note\":\"\\\"Ärger\\\"\\n\"}","#,
                r#""0000000000000000000000000000000000000000000000000000000000000000"]"#
            )
        );
        assert_eq!(
            entry_hash(&input),
            "f1c328b382051c0594b1d5b3e126cb8bf206caa1741dd126411c26731c199d9e"
        );
    }

    #[test]
    fn every_field_changes_the_hash() {
        let base = HashInput {
            case_id: 1,
            seq: 1,
            at: at(0),
            actor: "a",
            kind: "k",
            payload: "{}",
            prev_hash: GENESIS_HASH,
        };
        let reference = entry_hash(&base);
        let other_prev = "1".repeat(64);
        let variants = [
            HashInput { case_id: 2, ..base },
            HashInput { seq: 2, ..base },
            HashInput { at: at(1), ..base },
            HashInput { actor: "b", ..base },
            HashInput { kind: "l", ..base },
            HashInput {
                payload: "{\"x\":1}",
                ..base
            },
            HashInput {
                prev_hash: &other_prev,
                ..base
            },
            // Moving text between adjacent fields must not collide.
            HashInput {
                actor: "ak",
                kind: "",
                ..base
            },
        ];
        for variant in variants {
            assert_ne!(entry_hash(&variant), reference, "{variant:?}");
        }
    }
}
