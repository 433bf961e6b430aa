//! Names of the workflow language made from ids and titles, and the texts vorgang's export
//! writes into documentation.

use std::collections::HashSet;

/// The value after `prefix` on a line of a documentation text.
pub(super) fn documented(doc: &str, prefix: &str) -> Option<String> {
    doc.lines()
        .find_map(|l| l.trim().strip_prefix(prefix))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The lines vorgang's export adds to a step's documentation, which are not its help text.
const GENERATED: [&str; 9] = [
    "Rolle: ",
    "Beteiligung der Stellen aus „",
    "Erinnerung ",
    "Wartet ",
    "Ergebnis: ",
    "Beim Eintritt: ",
    "Fristen (in BPMN",
    "Schritt „",
    "Sonst: ",
];

/// A step's help text: its documentation, without the lines vorgang's export adds to it where
/// the file is such an export (`exported`); another tool's text is taken whole.
pub(super) fn help_text(doc: &str, exported: bool) -> Option<String> {
    let kept: Vec<&str> = doc
        .lines()
        .filter(|l| !exported || !GENERATED.iter().any(|g| l.trim().starts_with(g)))
        .collect();
    Some(kept.join("\n").trim().to_string()).filter(|h| !h.is_empty())
}

/// `text` as a name of the workflow language: lower case ASCII, digits and `_`.
pub(super) fn snake(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        let mapped = match c {
            'ä' => "ae",
            'ö' => "oe",
            'ü' => "ue",
            'ß' => "ss",
            c if c.is_ascii_alphanumeric() => {
                out.push(c);
                continue;
            }
            _ => "_",
        };
        if mapped == "_" && (out.is_empty() || out.ends_with('_')) {
            continue;
        }
        out.push_str(mapped);
    }
    let out = out.trim_end_matches('_').to_string();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("s_{out}")
    } else {
        out
    }
}

/// Whether `text` is a name of the workflow language already.
pub(super) fn is_snake(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_lowercase())
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `text` with a capital first letter (a role's title made from its key).
pub(super) fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A step's name: the element's id where it is one already (vorgang's export), else from its
/// name, else from its id; unique.
pub(super) fn step_name(id: &str, name: &str, taken: &mut HashSet<String>) -> String {
    let base = if is_snake(id) {
        id.to_string()
    } else {
        Some(snake(name))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| snake(id))
    };
    let base = if base.is_empty() {
        "schritt".to_string()
    } else {
        base
    };
    let name = unique(&base, |candidate| taken.contains(candidate));
    taken.insert(name.clone());
    name
}

/// `base`, or `base_2`, `base_3` … where `taken` says it is taken.
pub(super) fn unique(base: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut candidate = base.to_string();
    let mut n = 2;
    while taken(&candidate) {
        candidate = format!("{base}_{n}");
        n += 1;
    }
    candidate
}
