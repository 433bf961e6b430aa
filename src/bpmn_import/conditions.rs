//! Conditions of sequence flows: the export's `action == "name" && (guard)…`.

use super::names::is_snake;

/// `action == "name"` with an optional `&& guard`: the action's name and its guard.
pub(super) fn action_condition(condition: &str) -> Option<(String, Option<String>)> {
    let rest = condition.trim().strip_prefix("action")?.trim_start();
    let rest = rest.strip_prefix("==")?.trim_start();
    let rest = rest.strip_prefix('"')?;
    let (name, rest) = rest.split_once('"')?;
    if !is_snake(name) {
        return None;
    }
    let rest = rest.trim();
    if rest.is_empty() {
        return Some((name.to_string(), None));
    }
    let guard = rest.strip_prefix("&&")?.trim();
    Some((
        name.to_string(),
        Some(guard.to_string()).filter(|g| !g.is_empty()),
    ))
}

/// The guards of an action condition's rest as the export joins them, `(g1) && (g2)`; anything
/// else is one guard.
pub(super) fn split_guards(rest: &str) -> Vec<String> {
    let mut guards = Vec::new();
    let mut remaining = rest.trim();
    while !remaining.is_empty() {
        let Some(inner) = remaining.strip_prefix('(') else {
            return vec![rest.trim().to_string()];
        };
        let Some(end) = closing_parenthesis(inner) else {
            return vec![rest.trim().to_string()];
        };
        guards.push(inner[..end].trim().to_string());
        remaining = inner[end + 1..].trim_start();
        if remaining.is_empty() {
            break;
        }
        match remaining.strip_prefix("&&") {
            Some(next) => remaining = next.trim_start(),
            None => return vec![rest.trim().to_string()],
        }
    }
    guards
}

/// The byte index of the `)` closing an opened `(`, skipping string literals.
fn closing_parenthesis(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (index, c) in text.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '(' => depth += 1,
            ')' if depth == 0 => return Some(index),
            ')' => depth -= 1,
            _ => {}
        }
    }
    None
}
