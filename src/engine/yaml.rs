//! A YAML reader that keeps positions: every mapping key and every value knows its 1-based line
//! and column, so the loader and the validator can point at the exact place of a mistake.
//!
//! Only what workflow files need is accepted: one document, plain mappings, sequences and
//! scalars. Anchors, aliases, tags, complex keys and duplicate keys are errors. Plain scalars are
//! typed by the YAML 1.2 core schema (`~`/`null`, `true`/`false`, integers, floats); everything
//! else is a string. Must never panic, whatever the input.

use std::fmt;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Deepest nesting accepted; workflow files need about ten levels, and a bound keeps every
/// recursive walk over the tree far from the stack limit.
pub const MAX_DEPTH: usize = 64;

/// Most errors collected before reading stops (a garbage file should not produce thousands).
const MAX_ERRORS: usize = 50;

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl Pos {
    fn of(marker: &Marker) -> Self {
        Self {
            line: marker.line().max(1),
            column: marker.col() + 1,
        }
    }

    /// The position as a `(line, column)` pair, as [`super::diagnostic::Diagnostic`] takes it.
    pub fn pair(self) -> (usize, usize) {
        (self.line, self.column)
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A value of the YAML file with the position where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the value starts (for a block mapping: its first key).
    pub pos: Pos,
    /// The value.
    pub value: NodeValue,
}

/// The three kinds of YAML values workflow files use.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    /// A scalar, kept as written; [`Scalar::resolve`] types it.
    Scalar(Scalar),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in file order, keys unique.
    Map(Vec<Entry>),
}

/// A scalar as written in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    /// The text (after YAML unquoting and folding).
    pub text: String,
    /// How it was written; only plain scalars are typed by the core schema.
    pub style: ScalarStyle,
}

/// How a scalar was written: needed to map a position inside its text back to the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarStyle {
    /// Without quotes.
    Plain,
    /// In `'single quotes'`.
    SingleQuoted,
    /// In `"double quotes"`.
    DoubleQuoted,
    /// A `|` block.
    Literal,
    /// A `>` block.
    Folded,
}

/// A scalar typed by the YAML 1.2 core schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved<'a> {
    /// `~`, `null` or nothing.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer that fits `i64`.
    Int(i64),
    /// A positive integer beyond `i64`.
    UInt(u64),
    /// A finite float.
    Float(f64),
    /// Everything else.
    Str(&'a str),
}

/// One `key: value` of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key's text.
    pub key: String,
    /// Where the key starts.
    pub key_pos: Pos,
    /// The value.
    pub value: Node,
}

/// Why a file is not YAML we accept, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// Where the problem is.
    pub pos: Pos,
    /// What the problem is (German; the YAML parser's own text behind a German lead-in).
    pub message: String,
}

impl Scalar {
    /// The scalar typed by the YAML 1.2 core schema (quoted scalars are always strings).
    pub fn resolve(&self) -> Resolved<'_> {
        if self.style != ScalarStyle::Plain {
            return Resolved::Str(&self.text);
        }
        let text = self.text.as_str();
        match text {
            "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
            "true" | "True" | "TRUE" => return Resolved::Bool(true),
            "false" | "False" | "FALSE" => return Resolved::Bool(false),
            _ => {}
        }
        if let Some(value) = resolve_int(text) {
            return value;
        }
        if looks_like_float(text)
            && let Ok(value) = text.parse::<f64>()
            && value.is_finite()
        {
            return Resolved::Float(value);
        }
        Resolved::Str(text)
    }

    /// Whether the scalar is a YAML null (an empty value, `~` or `null`).
    pub fn is_null(&self) -> bool {
        matches!(self.resolve(), Resolved::Null)
    }
}

fn resolve_int(text: &str) -> Option<Resolved<'static>> {
    let radix_body = |prefix: &str, radix: u32| {
        text.strip_prefix(prefix)
            .filter(|body| !body.is_empty() && body.chars().all(|c| c.is_digit(radix)))
            .and_then(|body| i64::from_str_radix(body, radix).ok())
            .map(Resolved::Int)
    };
    if let Some(value) = radix_body("0x", 16).or_else(|| radix_body("0o", 8)) {
        return Some(value);
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    if let Ok(value) = unsigned.parse::<i64>() {
        return Some(Resolved::Int(value));
    }
    if let Ok(value) = unsigned.parse::<u64>() {
        return Some(Resolved::UInt(value));
    }
    unsigned
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(Resolved::Float)
}

/// `[-+]? ( . digits | digits ( . digits? )? ) ( [eE] [-+]? digits )?` with at least one digit.
fn looks_like_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (mantissa, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok =
        all_digits(whole) && all_digits(fraction) && !(whole.is_empty() && fraction.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let digits = e.strip_prefix(['-', '+']).unwrap_or(e);
        !digits.is_empty() && all_digits(digits)
    });
    mantissa_ok && exponent_ok
}

impl Node {
    /// The value of `key` if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|entry| &entry.value)
    }

    /// The entry of `key` if this is a mapping that has it.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            NodeValue::Map(entries) => entries.iter().find(|entry| entry.key == key),
            _ => None,
        }
    }

    /// The `index`th element if this is a sequence that long.
    pub fn index(&self, index: usize) -> Option<&Node> {
        match &self.value {
            NodeValue::Seq(items) => items.get(index),
            _ => None,
        }
    }

    /// The scalar text, if this is a scalar.
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.value {
            NodeValue::Scalar(scalar) => Some(scalar),
            _ => None,
        }
    }

    /// What kind of value this is, for messages ("eine Zuordnung", "der Text 'x'").
    pub fn describe(&self) -> String {
        match &self.value {
            NodeValue::Map(_) => "eine Zuordnung".into(),
            NodeValue::Seq(_) => "eine Liste".into(),
            NodeValue::Scalar(scalar) => match scalar.resolve() {
                Resolved::Null => "ein leerer Wert".into(),
                Resolved::Bool(value) => format!("der Wahrheitswert {value}"),
                Resolved::Int(_) | Resolved::UInt(_) | Resolved::Float(_) => {
                    format!("die Zahl {}", scalar.text)
                }
                Resolved::Str(text) => format!("der Text '{}'", shorten(text)),
            },
        }
    }

    /// The value as JSON (the storage format); scalars typed by [`Scalar::resolve`].
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.value {
            NodeValue::Scalar(scalar) => match scalar.resolve() {
                Resolved::Null => Value::Null,
                Resolved::Bool(value) => Value::Bool(value),
                Resolved::Int(value) => Value::from(value),
                Resolved::UInt(value) => Value::from(value),
                Resolved::Float(value) => Value::from(value),
                Resolved::Str(text) => Value::String(text.to_string()),
            },
            NodeValue::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeValue::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|entry| (entry.key.clone(), entry.value.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Long strings cut for messages.
pub(crate) fn shorten(text: &str) -> String {
    const LIMIT: usize = 40;
    if text.chars().count() <= LIMIT {
        text.to_string()
    } else {
        let cut: String = text.chars().take(LIMIT).collect();
        format!("{cut}…")
    }
}

/// A container being read.
enum Frame {
    Seq {
        pos: Pos,
        items: Vec<Node>,
    },
    Map {
        start: Pos,
        entries: Vec<Entry>,
        /// The key read last, waiting for its value; `None` inside means "drop the value".
        pending: Option<Option<(String, Pos)>>,
    },
}

/// Reads one YAML document into a tree of positioned nodes. An empty file is a null scalar at
/// 1:1. Syntax errors end the reading; other problems (duplicate keys, anchors, tags) are
/// collected so several are reported at once.
pub fn parse(text: &str) -> Result<Node, Vec<YamlError>> {
    // Editors do not count a byte order mark as a column.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    Reader::default().read(text)
}

#[derive(Default)]
struct Reader {
    stack: Vec<Frame>,
    root: Option<Node>,
    documents: usize,
    errors: Vec<YamlError>,
}

impl Reader {
    fn read(mut self, text: &str) -> Result<Node, Vec<YamlError>> {
        let mut parser = Parser::new_from_str(text);
        loop {
            let (event, marker) = match parser.next_token() {
                Ok(next) => next,
                Err(error) => {
                    self.error(
                        Pos::of(error.marker()),
                        format!("YAML-Syntaxfehler: {}", error.info()),
                    );
                    return Err(self.errors);
                }
            };
            let pos = Pos::of(&marker);
            match event {
                Event::StreamEnd => break,
                Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
                Event::DocumentStart => {
                    self.documents += 1;
                    if self.documents > 1 {
                        self.error(
                            pos,
                            "eine Workflow-Datei enthält genau ein YAML-Dokument; entfernen Sie \
                             das zweite '---' und alles Folgende oder legen Sie es in eine eigene \
                             Datei",
                        );
                        return Err(self.errors);
                    }
                }
                Event::Alias(_) => {
                    self.error(
                        pos,
                        "Aliase (*name) werden in Workflow-Dateien nicht unterstützt; schreiben \
                         Sie den Wert aus",
                    );
                    self.value(Node {
                        pos,
                        value: NodeValue::Scalar(Scalar {
                            text: String::new(),
                            style: ScalarStyle::Plain,
                        }),
                    });
                }
                Event::Scalar(text, style, anchor, tag) => {
                    self.check_decorations(pos, anchor, tag.is_some());
                    let style = match style {
                        TScalarStyle::SingleQuoted => ScalarStyle::SingleQuoted,
                        TScalarStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
                        TScalarStyle::Literal => ScalarStyle::Literal,
                        TScalarStyle::Folded => ScalarStyle::Folded,
                        TScalarStyle::Plain => ScalarStyle::Plain,
                    };
                    self.value(Node {
                        pos,
                        value: NodeValue::Scalar(Scalar { text, style }),
                    });
                }
                Event::SequenceStart(anchor, tag) => {
                    self.check_decorations(pos, anchor, tag.is_some());
                    self.open(
                        pos,
                        Frame::Seq {
                            pos,
                            items: Vec::new(),
                        },
                    )?;
                }
                Event::MappingStart(anchor, tag) => {
                    self.check_decorations(pos, anchor, tag.is_some());
                    self.open(
                        pos,
                        Frame::Map {
                            start: pos,
                            entries: Vec::new(),
                            pending: None,
                        },
                    )?;
                }
                Event::SequenceEnd | Event::MappingEnd => self.close(pos),
            }
            if self.errors.len() >= MAX_ERRORS {
                return Err(self.errors);
            }
        }
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        Ok(self.root.unwrap_or(Node {
            pos: Pos { line: 1, column: 1 },
            value: NodeValue::Scalar(Scalar {
                text: String::new(),
                style: ScalarStyle::Plain,
            }),
        }))
    }

    fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.errors.push(YamlError {
            pos,
            message: message.into(),
        });
    }

    fn check_decorations(&mut self, pos: Pos, anchor: usize, tagged: bool) {
        if anchor != 0 {
            self.error(
                pos,
                "Anker (&name) werden in Workflow-Dateien nicht unterstützt; schreiben Sie den \
                 Wert aus",
            );
        }
        if tagged {
            self.error(
                pos,
                "Tags (!name) werden in Workflow-Dateien nicht unterstützt",
            );
        }
    }

    fn open(&mut self, pos: Pos, frame: Frame) -> Result<(), Vec<YamlError>> {
        if self.stack.len() >= MAX_DEPTH {
            self.error(
                pos,
                format!(
                    "eine Verschachtelung tiefer als {MAX_DEPTH} Ebenen wird nicht unterstützt"
                ),
            );
            return Err(std::mem::take(&mut self.errors));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self, end: Pos) {
        let node = match self.stack.pop() {
            Some(Frame::Seq { pos, items }) => Node {
                pos,
                value: NodeValue::Seq(items),
            },
            Some(Frame::Map { start, entries, .. }) => {
                // A block mapping's start marker lies behind its first key; a flow mapping's
                // is its `{`. The earlier of the two is where the mapping starts.
                let pos = entries
                    .first()
                    .map_or(start, |first| first.key_pos.min(start));
                Node {
                    pos,
                    value: NodeValue::Map(entries),
                }
            }
            None => {
                self.error(end, "unerwartetes Ende einer Liste oder Zuordnung");
                return;
            }
        };
        self.value(node);
    }

    /// Places a finished value into the enclosing collection (or makes it the root).
    fn value(&mut self, mut node: Node) {
        let pos = node.pos;
        let Some(frame) = self.stack.last_mut() else {
            if self.root.is_some() {
                self.error(node.pos, "unerwarteter zweiter Wert auf der obersten Ebene");
            } else {
                self.root = Some(node);
            }
            return;
        };
        let mut problem = None;
        match frame {
            Frame::Seq { items, .. } => items.push(node),
            Frame::Map {
                entries, pending, ..
            } => match pending.take() {
                None => match &node.value {
                    NodeValue::Scalar(scalar) => {
                        let key = scalar.text.clone();
                        if let Some(first) = entries.iter().find(|entry| entry.key == key) {
                            problem = Some(format!(
                                "doppelter Schlüssel '{key}' (zuerst bei {})",
                                first.key_pos
                            ));
                            *pending = Some(None);
                        } else {
                            *pending = Some(Some((key, node.pos)));
                        }
                    }
                    _ => {
                        problem = Some(
                            "Schlüssel einer Zuordnung müssen einfache Namen sein, keine Listen \
                             oder Zuordnungen"
                                .into(),
                        );
                        *pending = Some(None);
                    }
                },
                Some(None) => {}
                Some(Some((key, key_pos))) => {
                    // An empty value has no text of its own; its marker would be the next
                    // line's key, so it is reported at its key instead.
                    if matches!(&node.value, NodeValue::Scalar(s) if s.style == ScalarStyle::Plain && s.text.is_empty())
                    {
                        node.pos = key_pos;
                    }
                    entries.push(Entry {
                        key,
                        key_pos,
                        value: node,
                    });
                }
            },
        }
        if let Some(message) = problem {
            self.error(pos, message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        parse(text)
            .unwrap_err()
            .iter()
            .map(|e| format!("{}: {}", e.pos, e.message))
            .collect()
    }

    #[test]
    fn keys_and_values_know_their_positions() {
        let root = parse("a: 1\nb:\n  c: [x, \"y\"]\n  d: {e: f}\n  g:\n    - h: 1\n").unwrap();
        assert_eq!(root.pos, Pos { line: 1, column: 1 });
        let b = root.entry("b").unwrap();
        assert_eq!(b.key_pos, Pos { line: 2, column: 1 });
        assert_eq!(b.value.pos, Pos { line: 3, column: 3 });
        let c = b.value.get("c").unwrap();
        assert_eq!(c.pos, Pos { line: 3, column: 6 });
        assert_eq!(
            c.index(1).unwrap().pos,
            Pos {
                line: 3,
                column: 10
            }
        );
        let d = b.value.get("d").unwrap();
        assert_eq!(d.pos, Pos { line: 4, column: 6 });
        let h = b
            .value
            .get("g")
            .unwrap()
            .index(0)
            .unwrap()
            .entry("h")
            .unwrap();
        assert_eq!(h.key_pos, Pos { line: 6, column: 7 });
        assert_eq!(
            h.value.pos,
            Pos {
                line: 6,
                column: 10
            }
        );
    }

    #[test]
    fn columns_count_characters() {
        let root = parse("ä: ö\nb: ü\n").unwrap();
        assert_eq!(root.get("ä").unwrap().pos, Pos { line: 1, column: 4 });
    }

    #[test]
    fn empty_values_point_at_their_key() {
        let root = parse("a:\n  b:\n  c: 1\n").unwrap();
        let b = root.get("a").unwrap().get("b").unwrap();
        assert_eq!(b.pos, Pos { line: 2, column: 3 });
        assert!(b.as_scalar().unwrap().is_null());
    }

    #[test]
    fn duplicate_keys_are_reported_at_the_second_occurrence() {
        assert_eq!(
            errors("a: 1\nb:\n  x: 1\n  x: 2\na: 3\n"),
            [
                "4:3: doppelter Schlüssel 'x' (zuerst bei 3:3)",
                "5:1: doppelter Schlüssel 'a' (zuerst bei 1:1)"
            ]
        );
    }

    #[test]
    fn anchors_aliases_and_tags_are_rejected() {
        assert_eq!(
            errors("a: &x 1\nb: *x\nc: !foo bar\n"),
            [
                "1:7: Anker (&name) werden in Workflow-Dateien nicht unterstützt; schreiben Sie \
                 den Wert aus",
                "2:4: Aliase (*name) werden in Workflow-Dateien nicht unterstützt; schreiben Sie \
                 den Wert aus",
                "3:9: Tags (!name) werden in Workflow-Dateien nicht unterstützt",
            ]
        );
    }

    #[test]
    fn several_documents_are_rejected() {
        assert_eq!(
            errors("a: 1\n---\nb: 2\n"),
            [
                "2:1: eine Workflow-Datei enthält genau ein YAML-Dokument; entfernen Sie das \
                 zweite '---' und alles Folgende oder legen Sie es in eine eigene Datei"
            ]
        );
    }

    #[test]
    fn syntax_errors_have_a_position() {
        assert_eq!(
            errors("a: 1\n b: 2\n"),
            ["2:3: YAML-Syntaxfehler: mapping values are not allowed in this context"]
        );
        assert_eq!(
            errors("a: [1, 2\n"),
            ["2:1: YAML-Syntaxfehler: while parsing a flow sequence, expected ',' or ']'"]
        );
    }

    #[test]
    fn complex_keys_and_deep_nesting_are_rejected() {
        assert_eq!(
            errors("? [a]\n: 1\n"),
            [
                "1:3: Schlüssel einer Zuordnung müssen einfache Namen sein, keine Listen oder \
              Zuordnungen"
            ]
        );
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert_eq!(
            errors(&deep),
            ["1:65: eine Verschachtelung tiefer als 64 Ebenen wird nicht unterstützt"]
        );
    }

    #[test]
    fn scalars_follow_the_core_schema() {
        let scalar = |text: &str, plain: bool| Scalar {
            text: text.into(),
            style: if plain {
                ScalarStyle::Plain
            } else {
                ScalarStyle::SingleQuoted
            },
        };
        assert_eq!(scalar("~", true).resolve(), Resolved::Null);
        assert_eq!(scalar("True", true).resolve(), Resolved::Bool(true));
        assert_eq!(scalar("-12", true).resolve(), Resolved::Int(-12));
        assert_eq!(scalar("0x1f", true).resolve(), Resolved::Int(31));
        assert_eq!(scalar("6.5", true).resolve(), Resolved::Float(6.5));
        assert_eq!(scalar("1e3", true).resolve(), Resolved::Float(1000.0));
        assert_eq!(scalar(".inf", true).resolve(), Resolved::Str(".inf"));
        assert_eq!(scalar("P4W", true).resolve(), Resolved::Str("P4W"));
        assert_eq!(scalar("yes", true).resolve(), Resolved::Str("yes"));
        assert_eq!(scalar("12", false).resolve(), Resolved::Str("12"));
        assert_eq!(
            scalar("18446744073709551615", true).resolve(),
            Resolved::UInt(u64::MAX)
        );
    }

    #[test]
    fn a_byte_order_mark_and_crlf_line_ends_are_accepted() {
        let root = parse("\u{feff}a: 1\r\nb: x\r\n").unwrap();
        assert_eq!(root.entry("a").unwrap().key_pos, Pos { line: 1, column: 1 });
        assert_eq!(root.get("b").unwrap().pos, Pos { line: 2, column: 4 });
    }

    #[test]
    fn values_are_described_in_german() {
        let root = parse(
            "m: {a: 1}\ns: [1]\nn:\nb: true\ni: 0x1f\nf: 2.50\nt: 'x'\nl: \
             abcdefghijabcdefghijabcdefghijabcdefghijabc\n",
        )
        .unwrap();
        let described: Vec<String> = ["m", "s", "n", "b", "i", "f", "t", "l"]
            .iter()
            .map(|key| root.get(key).unwrap().describe())
            .collect();
        assert_eq!(
            described,
            [
                "eine Zuordnung",
                "eine Liste",
                "ein leerer Wert",
                "der Wahrheitswert true",
                "die Zahl 0x1f",
                "die Zahl 2.50",
                "der Text 'x'",
                "der Text 'abcdefghijabcdefghijabcdefghijabcdefghij…'",
            ]
        );
    }

    #[test]
    fn empty_input_is_a_null_document() {
        let root = parse("# nothing\n").unwrap();
        assert!(root.as_scalar().unwrap().is_null());
    }

    #[test]
    fn converts_to_json() {
        let root = parse("a: [1, x, true, ~, 2.5]\nb: {c: '3'}\n").unwrap();
        assert_eq!(
            root.to_json(),
            serde_json::json!({"a": [1, "x", true, null, 2.5], "b": {"c": "3"}})
        );
    }
}
