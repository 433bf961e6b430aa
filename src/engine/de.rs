//! A serde `Deserializer` over the positioned YAML tree: every error it returns carries the
//! position and path of the key or value it is about. Entries listed as skipped are passed over
//! as if absent, so the loader can cut out what was wrong and look for further errors while
//! every path and position stays as in the file.
//!
//! Strings are taken as written (`title: 2026` is the string "2026"); numbers and booleans must
//! be plain YAML numbers and booleans. Internally tagged enums are not supported here (serde
//! buffers them and positions would be lost): the loader handles `Step` itself.

use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Unexpected, Visitor};

use super::diagnostic::suggestion;
use super::yaml::{Entry, Node, NodeValue, Pos, Resolved, shorten};

/// One step of a path into the file: a mapping key (with its index among the entries) or a
/// sequence index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// The entry `key`, the `usize`th of its mapping.
    Key(String, usize),
    /// The `usize`th element of a sequence.
    Index(usize),
}

/// The path as shown in messages: `steps.entwurf.on_enter[0].mail`.
pub fn display_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(key, _) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Seg::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

/// `steps.entwurf`, or "der Workflow-Definition" for the root: a place always follows "in".
pub fn place(path: &[Seg]) -> String {
    if path.is_empty() {
        "der Workflow-Definition".into()
    } else {
        display_path(path)
    }
}

/// What went wrong while turning the tree into the model.
#[derive(Debug, Clone, PartialEq)]
pub enum DeErrorKind {
    /// A key the struct does not have.
    UnknownKey {
        /// The key as written.
        key: String,
        /// The keys the struct has.
        expected: &'static [&'static str],
    },
    /// A value (or the key of a one-key mapping) that names no variant of an enum.
    UnknownVariant {
        /// The name as written.
        value: String,
        /// The variants the enum has.
        expected: &'static [&'static str],
    },
    /// Required keys are absent (at least one).
    MissingKeys(Vec<String>),
    /// The value has the wrong shape.
    InvalidType {
        /// What the model wants ("eine Liste").
        expected: String,
        /// What the file has ("der Text 'x'").
        found: String,
    },
    /// Any other message, e.g. the Fristen module's reason why a period is invalid.
    Custom(String),
}

/// Where an error is: the position, the path, and whether it is about a key or a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Loc {
    /// Position of the offending key or value.
    pub pos: Pos,
    /// Path of the offending key or value.
    pub path: Vec<Seg>,
    /// The error is about a mapping key (not its value).
    pub is_key: bool,
}

/// An error with its place.
#[derive(Debug, Clone, PartialEq)]
pub struct DeError {
    /// What went wrong.
    pub kind: DeErrorKind,
    /// Where; set by the innermost node the error passed through.
    pub loc: Option<Loc>,
}

impl DeError {
    fn new(kind: DeErrorKind) -> Self {
        Self { kind, loc: None }
    }

    fn at(mut self, pos: Pos, path: &[Seg], is_key: bool) -> Self {
        if self.loc.is_none() {
            self.loc = Some(Loc {
                pos,
                path: path.to_vec(),
                is_key,
            });
        }
        self
    }

    /// The German message, compiler style, naming the place in the file.
    pub fn message(&self) -> String {
        let path = self.loc.as_ref().map_or(&[][..], |loc| &loc.path[..]);
        let parent = &path[..path.len().saturating_sub(1)];
        let is_key = self.loc.as_ref().is_some_and(|loc| loc.is_key);
        match &self.kind {
            DeErrorKind::UnknownKey { key, expected } => format!(
                "unbekannter Schlüssel '{key}' in {}{}",
                place(parent),
                hint(key, expected)
            ),
            DeErrorKind::UnknownVariant { value, expected } if is_key => format!(
                "unbekannter Schlüssel '{value}' in {}{}",
                place(parent),
                hint(value, expected)
            ),
            DeErrorKind::UnknownVariant { value, expected } => format!(
                "unbekannter Wert '{value}' in {}{}",
                place(path),
                hint(value, expected)
            ),
            DeErrorKind::MissingKeys(keys) => missing_keys(&place(path), keys),
            DeErrorKind::InvalidType { expected, found } => {
                format!(
                    "in {} wird {expected} erwartet, gefunden: {found}",
                    place(path)
                )
            }
            DeErrorKind::Custom(message) => {
                format!("ungültiger Wert in {}: {message}", place(path))
            }
        }
    }
}

/// "in P fehlt der Schlüssel 'a'" or "in P fehlen die Schlüssel 'a' und 'b'", `place` being
/// what [`place`] gives.
pub fn missing_keys(place: &str, keys: &[String]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("'{k}'")).collect();
    match quoted.as_slice() {
        [one] => format!("in {place} fehlt der Schlüssel {one}"),
        [init @ .., last] => format!(
            "in {place} fehlen die Schlüssel {} und {last}",
            init.join(", ")
        ),
        [] => format!("in {place} fehlt ein Schlüssel"),
    }
}

/// ` (erlaubt: a, b)`, ready to append to a message.
pub fn allowed(names: &[&str]) -> String {
    format!(" (erlaubt: {})", names.join(", "))
}

/// ` (meinten Sie 'x'?)`, else the list of what is allowed.
fn hint(name: &str, expected: &[&str]) -> String {
    let suggested = suggestion(name, expected.iter().copied());
    if !suggested.is_empty() || expected.is_empty() {
        suggested
    } else {
        allowed(expected)
    }
}

/// What serde's derived and built-in visitors expect ("a sequence", "u32", "struct Timer"), in
/// the German of the other messages; anything else is kept as serde wrote it.
pub fn german_expected(expected: &str) -> String {
    let german = match expected {
        "a string"
        | "a borrowed string"
        | "a byte array"
        | "a borrowed byte array"
        | "byte array" => "ein Text",
        "a character" => "ein einzelnes Zeichen",
        "a sequence" => "eine Liste",
        "a map" => "eine Zuordnung",
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "eine ganze Zahl ab 0",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "an integer" => "eine ganze Zahl",
        "f32" | "f64" => "eine Zahl",
        "a boolean" => "ein Wahrheitswert (true oder false)",
        "unit" => "ein leerer Wert",
        "option" => "ein Wert oder ein leerer Wert",
        "any valid JSON value" => "ein beliebiger Wert",
        "field identifier" => "ein Schlüssel",
        "variant identifier" => "ein Name",
        _ if expected.starts_with("unit struct ") => "ein leerer Wert",
        _ if expected.starts_with("struct ") => "eine Zuordnung",
        _ if expected.starts_with("tuple ") => "eine Liste",
        _ if expected.starts_with("enum ") => "ein erlaubter Wert",
        _ => {
            if let Some(size) = expected
                .strip_prefix("a tuple of size ")
                .and_then(|n| n.parse::<usize>().ok())
            {
                return match size {
                    1 => "eine Liste mit 1 Element".into(),
                    n => format!("eine Liste mit {n} Elementen"),
                };
            }
            if let Some(names) = expected
                .strip_prefix("one of: ")
                .or_else(|| expected.strip_prefix("one of "))
            {
                return format!("ein Wert (erlaubt: {})", names.replace('`', ""));
            }
            return expected.to_string();
        }
    };
    german.to_string()
}

/// What serde found instead ("integer `-1`", "a sequence"), worded like
/// [`Node::describe`](super::yaml::Node::describe).
pub fn german_unexpected(unexpected: &Unexpected<'_>) -> String {
    match unexpected {
        Unexpected::Bool(value) => format!("der Wahrheitswert {value}"),
        Unexpected::Unsigned(value) => format!("die Zahl {value}"),
        Unexpected::Signed(value) => format!("die Zahl {value}"),
        Unexpected::Float(value) => format!("die Zahl {value:?}"),
        Unexpected::Char(value) => format!("der Text '{value}'"),
        Unexpected::Str(text) => format!("der Text '{}'", shorten(text)),
        Unexpected::Bytes(_) => "Binärdaten".into(),
        Unexpected::Unit => "ein leerer Wert".into(),
        Unexpected::Option => "ein optionaler Wert".into(),
        Unexpected::NewtypeStruct | Unexpected::NewtypeVariant => "ein einzelner Wert".into(),
        Unexpected::Seq | Unexpected::TupleVariant => "eine Liste".into(),
        Unexpected::Map | Unexpected::StructVariant => "eine Zuordnung".into(),
        Unexpected::Enum | Unexpected::UnitVariant => "ein Aufzählungswert".into(),
        Unexpected::Other(other) => (*other).to_string(),
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self::new(DeErrorKind::Custom(msg.to_string()))
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self::new(DeErrorKind::InvalidType {
            expected: german_expected(&exp.to_string()),
            found: german_unexpected(&unexp),
        })
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self::invalid_type(unexp, exp)
    }

    fn invalid_length(len: usize, exp: &dyn de::Expected) -> Self {
        Self::new(DeErrorKind::InvalidType {
            expected: german_expected(&exp.to_string()),
            found: match len {
                0 => "eine leere Liste".into(),
                1 => "eine Liste mit 1 Element".into(),
                n => format!("eine Liste mit {n} Elementen"),
            },
        })
    }

    fn duplicate_field(field: &'static str) -> Self {
        Self::new(DeErrorKind::Custom(format!(
            "doppelter Schlüssel '{field}'"
        )))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        Self::new(DeErrorKind::UnknownVariant {
            value: variant.to_string(),
            expected,
        })
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Self::new(DeErrorKind::UnknownKey {
            key: field.to_string(),
            expected,
        })
    }

    fn missing_field(field: &'static str) -> Self {
        Self::new(DeErrorKind::MissingKeys(vec![field.to_string()]))
    }
}

/// What one deserialization pass knows besides the tree.
#[derive(Clone, Copy)]
pub struct Pass<'a> {
    /// Entries and elements (by path) to pass over as if absent.
    pub skip: &'a [Vec<Seg>],
    /// The required keys of a struct by its Rust name, in any order, so a "missing key" error
    /// can name every missing key at once (serde only names the first); `None`: unknown.
    pub required_keys: fn(&str) -> Option<&'static [String]>,
}

/// Deserializes `node`, which lies at `path` in the file.
pub fn from_node<T: DeserializeOwned>(
    node: &Node,
    path: Vec<Seg>,
    pass: Pass<'_>,
) -> Result<T, DeError> {
    T::deserialize(NodeDe { node, path, pass })
}

fn child(path: &[Seg], seg: Seg) -> Vec<Seg> {
    let mut out = Vec::with_capacity(path.len() + 1);
    out.extend_from_slice(path);
    out.push(seg);
    out
}

/// Deserializer for one node.
struct NodeDe<'a> {
    node: &'a Node,
    path: Vec<Seg>,
    pass: Pass<'a>,
}

impl NodeDe<'_> {
    fn wrong_type(&self, expected: &str) -> DeError {
        DeError::new(DeErrorKind::InvalidType {
            expected: expected.to_string(),
            found: self.node.describe(),
        })
        .at(self.node.pos, &self.path, false)
    }

    fn locate<T>(&self, result: Result<T, DeError>) -> Result<T, DeError> {
        result.map_err(|e| e.at(self.node.pos, &self.path, false))
    }

    fn number<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match &self.node.value {
            NodeValue::Scalar(scalar) => match scalar.resolve() {
                Resolved::Int(value) => visitor.visit_i64(value),
                Resolved::UInt(value) => visitor.visit_u64(value),
                Resolved::Float(value) => visitor.visit_f64(value),
                _ => return Err(self.wrong_type("eine Zahl")),
            },
            _ => return Err(self.wrong_type("eine Zahl")),
        };
        self.locate(result)
    }

    fn map<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let NodeValue::Map(entries) = &self.node.value else {
            return Err(self.wrong_type("eine Zuordnung"));
        };
        let result = visitor.visit_map(MapDe {
            entries,
            next: 0,
            current: None,
            path: &self.path,
            pass: self.pass,
        });
        self.locate(result)
    }
}

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match &self.node.value {
            NodeValue::Scalar(scalar) => match scalar.resolve() {
                Resolved::Null => visitor.visit_unit(),
                Resolved::Bool(value) => visitor.visit_bool(value),
                Resolved::Int(value) => visitor.visit_i64(value),
                Resolved::UInt(value) => visitor.visit_u64(value),
                Resolved::Float(value) => visitor.visit_f64(value),
                Resolved::Str(text) => visitor.visit_str(text),
            },
            NodeValue::Seq(_) => return self.deserialize_seq(visitor),
            NodeValue::Map(_) => return self.map(visitor),
        };
        self.locate(result)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            NodeValue::Scalar(scalar) => match scalar.resolve() {
                Resolved::Bool(value) => {
                    let result = visitor.visit_bool(value);
                    self.locate(result)
                }
                _ => Err(self.wrong_type("ein Wahrheitswert (true oder false)")),
            },
            _ => Err(self.wrong_type("ein Wahrheitswert (true oder false)")),
        }
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.number(visitor)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.number(visitor)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.number(visitor)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.number(visitor)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.number(visitor)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.number(visitor)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.number(visitor)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.number(visitor)
    }
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.number(visitor)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.number(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            NodeValue::Scalar(scalar) if !scalar.is_null() => {
                let result = visitor.visit_str(&scalar.text);
                self.locate(result)
            }
            _ => Err(self.wrong_type("ein Text")),
        }
    }
    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let is_null = self.node.as_scalar().is_some_and(|s| s.is_null());
        if is_null {
            let result = visitor.visit_none();
            self.locate(result)
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.as_scalar().is_some_and(|s| s.is_null()) {
            let result = visitor.visit_unit();
            self.locate(result)
        } else {
            Err(self.wrong_type("ein leerer Wert"))
        }
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let NodeValue::Seq(items) = &self.node.value else {
            return Err(self.wrong_type("eine Liste"));
        };
        let result = visitor.visit_seq(SeqDe {
            items,
            index: 0,
            path: &self.path,
            pass: self.pass,
        });
        self.locate(result)
    }
    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.map(visitor)
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let (node, path, pass) = (self.node, self.path.clone(), self.pass);
        self.map(visitor).map_err(|mut error| {
            let here = error.loc.as_ref().is_some_and(|loc| loc.path == path);
            if let (true, DeErrorKind::MissingKeys(keys)) = (here, &mut error.kind)
                && let Some(required) = (pass.required_keys)(name)
            {
                let all: Vec<String> = fields
                    .iter()
                    .filter(|field| required.iter().any(|r| r == *field))
                    .filter(|field| !present(node, &path, pass, field))
                    .map(|field| field.to_string())
                    .collect();
                if keys.iter().all(|key| all.contains(key)) {
                    *keys = all;
                }
            }
            error
        })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let entries: Vec<(usize, &Entry)> = match &self.node.value {
            NodeValue::Map(entries) => entries
                .iter()
                .enumerate()
                .filter(|(index, entry)| {
                    let path = child(&self.path, Seg::Key(entry.key.clone(), *index));
                    !self.pass.skip.contains(&path)
                })
                .collect(),
            _ => Vec::new(),
        };
        let result = match (&self.node.value, entries.as_slice()) {
            (NodeValue::Scalar(scalar), _) if !scalar.is_null() => visitor.visit_enum(ScalarEnum {
                text: &scalar.text,
                node: self.node,
                path: &self.path,
            }),
            (NodeValue::Map(_), [(index, entry)]) => visitor.visit_enum(MapEnum {
                entry,
                index: *index,
                path: &self.path,
                pass: self.pass,
            }),
            (NodeValue::Map(_), _) => {
                let found = match entries.len() {
                    0 => "kein Schlüssel".to_string(),
                    n => format!(
                        "{n} Schlüssel ({})",
                        entries
                            .iter()
                            .map(|(_, e)| e.key.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                return Err(DeError::new(DeErrorKind::InvalidType {
                    expected: format!("genau ein Schlüssel{}", allowed(variants)),
                    found,
                })
                .at(self.node.pos, &self.path, false));
            }
            _ => {
                return Err(self.wrong_type(&format!("ein Wert{}", allowed(variants))));
            }
        };
        self.locate(result)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

/// Whether the mapping `node` (at `path`) has `key`, not counting skipped entries.
fn present(node: &Node, path: &[Seg], pass: Pass<'_>, key: &str) -> bool {
    let NodeValue::Map(entries) = &node.value else {
        return false;
    };
    entries.iter().enumerate().any(|(index, entry)| {
        entry.key == key
            && !pass
                .skip
                .contains(&child(path, Seg::Key(entry.key.clone(), index)))
    })
}

/// Entries of a mapping, without the skipped ones.
struct MapDe<'a> {
    entries: &'a [Entry],
    next: usize,
    current: Option<(&'a Entry, Vec<Seg>)>,
    path: &'a [Seg],
    pass: Pass<'a>,
}

impl<'de> de::MapAccess<'de> for MapDe<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        while let Some(entry) = self.entries.get(self.next) {
            let path = child(self.path, Seg::Key(entry.key.clone(), self.next));
            self.next += 1;
            if self.pass.skip.contains(&path) {
                continue;
            }
            let key = seed
                .deserialize(entry.key.as_str().into_deserializer())
                .map_err(|e: DeError| e.at(entry.key_pos, &path, true))?;
            self.current = Some((entry, path));
            return Ok(Some(key));
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some((entry, path)) = self.current.take() else {
            return Err(de::Error::custom("Wert ohne Schlüssel"));
        };
        seed.deserialize(NodeDe {
            node: &entry.value,
            path: path.clone(),
            pass: self.pass,
        })
        .map_err(|e| e.at(entry.value.pos, &path, false))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len().saturating_sub(self.next))
    }
}

/// Elements of a sequence, without the skipped ones.
struct SeqDe<'a> {
    items: &'a [Node],
    index: usize,
    path: &'a [Seg],
    pass: Pass<'a>,
}

impl<'de> de::SeqAccess<'de> for SeqDe<'_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        while let Some(item) = self.items.get(self.index) {
            let path = child(self.path, Seg::Index(self.index));
            self.index += 1;
            if self.pass.skip.contains(&path) {
                continue;
            }
            return seed
                .deserialize(NodeDe {
                    node: item,
                    path: path.clone(),
                    pass: self.pass,
                })
                .map(Some)
                .map_err(|e| e.at(item.pos, &path, false));
        }
        Ok(None)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len().saturating_sub(self.index))
    }
}

/// An enum written as a plain string (`complete: deadline`, `to: applicant`).
struct ScalarEnum<'a> {
    text: &'a str,
    node: &'a Node,
    path: &'a [Seg],
}

impl ScalarEnum<'_> {
    fn needs_value(&self) -> DeError {
        DeError::new(DeErrorKind::Custom(format!(
            "'{}' braucht hier einen Wert; schreiben Sie '{}: …'",
            self.text, self.text
        )))
        .at(self.node.pos, self.path, false)
    }
}

impl<'de> de::EnumAccess<'de> for ScalarEnum<'_> {
    type Error = DeError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), DeError> {
        let variant = seed
            .deserialize(self.text.into_deserializer())
            .map_err(|e: DeError| e.at(self.node.pos, self.path, false))?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for ScalarEnum<'_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Result<T::Value, DeError> {
        Err(self.needs_value())
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value, DeError> {
        Err(self.needs_value())
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, DeError> {
        Err(self.needs_value())
    }
}

/// An enum written as a one-key mapping (`mail: {…}`, `to: { role: koordination }`).
struct MapEnum<'a> {
    entry: &'a Entry,
    index: usize,
    path: &'a [Seg],
    pass: Pass<'a>,
}

impl MapEnum<'_> {
    fn entry_path(&self) -> Vec<Seg> {
        child(self.path, Seg::Key(self.entry.key.clone(), self.index))
    }

    fn value_de(&self) -> NodeDe<'_> {
        NodeDe {
            node: &self.entry.value,
            path: self.entry_path(),
            pass: self.pass,
        }
    }
}

impl<'de> de::EnumAccess<'de> for MapEnum<'_> {
    type Error = DeError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), DeError> {
        let path = self.entry_path();
        let variant = seed
            .deserialize(self.entry.key.as_str().into_deserializer())
            .map_err(|e: DeError| e.at(self.entry.key_pos, &path, true))?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for MapEnum<'_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        let value = self.value_de();
        if value.node.as_scalar().is_some_and(|s| s.is_null()) {
            Ok(())
        } else {
            Err(DeError::new(DeErrorKind::Custom(format!(
                "zu '{}' gehört kein Wert; schreiben Sie nur '{}'",
                self.entry.key, self.entry.key
            )))
            .at(value.node.pos, &value.path, false))
        }
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        let value = self.value_de();
        let (pos, path) = (value.node.pos, value.path.clone());
        seed.deserialize(value).map_err(|e| e.at(pos, &path, false))
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_seq(self.value_de(), visitor)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_struct(self.value_de(), "", fields, visitor)
    }
}

#[cfg(test)]
mod tests {
    use serde::de::{Error as _, Unexpected};

    use super::*;

    #[test]
    fn serde_expectations_are_worded_in_german() {
        let cases = [
            ("a string", "ein Text"),
            ("a borrowed string", "ein Text"),
            ("a character", "ein einzelnes Zeichen"),
            ("a sequence", "eine Liste"),
            ("a map", "eine Zuordnung"),
            ("struct Timer", "eine Zuordnung"),
            ("struct variant TimerWhen::Before", "eine Zuordnung"),
            ("u32", "eine ganze Zahl ab 0"),
            ("usize", "eine ganze Zahl ab 0"),
            ("u64", "eine ganze Zahl ab 0"),
            ("i64", "eine ganze Zahl"),
            ("an integer", "eine ganze Zahl"),
            ("f64", "eine Zahl"),
            ("a boolean", "ein Wahrheitswert (true oder false)"),
            ("unit", "ein leerer Wert"),
            ("unit struct Leer", "ein leerer Wert"),
            ("a tuple of size 2", "eine Liste mit 2 Elementen"),
            ("a tuple of size 1", "eine Liste mit 1 Element"),
            ("tuple struct Paar", "eine Liste"),
            ("enum Recipient", "ein erlaubter Wert"),
            ("one of: mail, set", "ein Wert (erlaubt: mail, set)"),
            ("one of `a`, `b`, `c`", "ein Wert (erlaubt: a, b, c)"),
            ("any valid JSON value", "ein beliebiger Wert"),
            ("a Fristen period", "a Fristen period"),
        ];
        for (english, german) in cases {
            assert_eq!(german_expected(english), german, "{english}");
        }
    }

    #[test]
    fn what_serde_found_is_worded_like_describe() {
        let cases = [
            (Unexpected::Bool(false), "der Wahrheitswert false"),
            (Unexpected::Unsigned(7), "die Zahl 7"),
            (Unexpected::Signed(-1), "die Zahl -1"),
            (Unexpected::Float(1.5), "die Zahl 1.5"),
            (Unexpected::Float(2.0), "die Zahl 2.0"),
            (Unexpected::Char('x'), "der Text 'x'"),
            (Unexpected::Str("P4W"), "der Text 'P4W'"),
            (Unexpected::Unit, "ein leerer Wert"),
            (Unexpected::Seq, "eine Liste"),
            (Unexpected::Map, "eine Zuordnung"),
            (Unexpected::Other("etwas anderes"), "etwas anderes"),
        ];
        for (unexpected, german) in cases {
            assert_eq!(german_unexpected(&unexpected), german, "{unexpected}");
        }
    }

    #[test]
    fn serde_errors_become_german_messages() {
        let at = |error: DeError| error.at(Pos { line: 3, column: 5 }, &[], false).message();
        assert_eq!(
            at(DeError::invalid_type(Unexpected::Float(1.5), &"u32")),
            "in der Workflow-Definition wird eine ganze Zahl ab 0 erwartet, gefunden: die Zahl 1.5"
        );
        assert_eq!(
            at(DeError::invalid_value(Unexpected::Signed(-1), &"u32")),
            "in der Workflow-Definition wird eine ganze Zahl ab 0 erwartet, gefunden: die Zahl -1"
        );
        assert_eq!(
            at(DeError::invalid_length(3, &"a tuple of size 2")),
            "in der Workflow-Definition wird eine Liste mit 2 Elementen erwartet, gefunden: eine \
             Liste mit 3 Elementen"
        );
        assert_eq!(
            at(DeError::missing_field("start")),
            "in der Workflow-Definition fehlt der Schlüssel 'start'"
        );
        assert_eq!(
            at(DeError::duplicate_field("title")),
            "ungültiger Wert in der Workflow-Definition: doppelter Schlüssel 'title'"
        );
    }

    #[test]
    fn missing_keys_are_listed_in_one_sentence() {
        let keys = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(
            missing_keys("steps.a", &keys(&["to"])),
            "in steps.a fehlt der Schlüssel 'to'"
        );
        assert_eq!(
            missing_keys("steps.a", &keys(&["a", "b", "c"])),
            "in steps.a fehlen die Schlüssel 'a', 'b' und 'c'"
        );
    }
}
