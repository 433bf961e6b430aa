//! Text in the diagram: widths estimated from character classes, wrapping, and escaping and
//! numbers for SVG.

/// Estimated advance of a character in em, erring on the wide side (DejaVu Sans is wider than
/// Arial or Liberation Sans).
fn char_em(c: char) -> f64 {
    match c {
        'i' | 'j' | 'l' | '!' | '|' | '.' | ',' | ':' | ';' | '\'' | '´' | '`' => 0.32,
        'f' | 't' | 'r' | 'I' | ' ' | '(' | ')' | '[' | ']' | '-' | '/' | '"' => 0.42,
        'm' | 'w' | 'M' | 'W' | '—' | '%' | '@' => 0.95,
        'A'..='Z' | 'Ä' | 'Ö' | 'Ü' | '&' | '_' | '=' | '<' | '>' | '–' | '„' | '“' => {
            0.74
        }
        c if c.is_ascii() || ('\u{a0}'..='\u{24f}').contains(&c) => 0.62,
        _ => 1.0,
    }
}

pub(super) fn text_width(text: &str, font: f64) -> f64 {
    text.chars().map(char_em).sum::<f64>() * font
}

/// Greedy word wrap to `max_width`; words wider than a line are cut, and the last of
/// `max_lines` lines ends in "…" when text is left over.
pub(super) fn wrap(text: &str, max_width: f64, font: f64, max_lines: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    for word in text.split_whitespace() {
        if text_width(word, font) <= max_width {
            pieces.push(word.to_string());
            continue;
        }
        let mut piece = String::new();
        for c in word.chars() {
            if !piece.is_empty() && text_width(&piece, font) + char_em(c) * font > max_width {
                pieces.push(std::mem::take(&mut piece));
            }
            piece.push(c);
        }
        pieces.push(piece);
    }
    let mut lines: Vec<String> = Vec::new();
    let mut truncated = false;
    for piece in pieces {
        let fits = |line: &&mut String| text_width(&format!("{line} {piece}"), font) <= max_width;
        if let Some(line) = lines.last_mut().filter(fits) {
            line.push(' ');
            line.push_str(&piece);
        } else if lines.len() == max_lines {
            truncated = true;
            break;
        } else {
            lines.push(piece);
        }
    }
    if truncated && let Some(last) = lines.last_mut() {
        while !last.is_empty() && text_width(&format!("{last} …"), font) > max_width {
            last.pop();
        }
        let kept = last.trim_end().to_string();
        *last = format!("{kept} …").trim_start().to_string();
    }
    lines
}

/// Escapes text for XML content and attribute values, and replaces characters XML 1.0 does not
/// allow (control characters from a YAML escape) so the document stays well-formed.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate with at most one decimal.
pub(crate) fn num(value: f64) -> String {
    let value = if value.is_finite() { value } else { 0.0 };
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    }
}
