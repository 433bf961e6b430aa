//! File names from uploads: made safe to store and to send back in `Content-Disposition`.
//!
//! A client may send anything as a file name: paths (`../../etc/passwd`, `C:\Users\…`), control
//! characters, or bidirectional overrides (U+202E) that make `rechnung<U+202E>fdp.exe` look
//! like `rechnungexe.pdf`. We keep the last path component, drop those characters and keep everything
//! else, Umlauts included.

/// Longest stored name in bytes (common file system limit).
const MAX_BYTES: usize = 255;
/// Extensions up to this length are kept when a long name is shortened.
const MAX_EXTENSION_BYTES: usize = 16;
/// Used when nothing is left of the name.
const FALLBACK: &str = "Dokument";

/// Characters that reorder text (bidi controls) or are invisible marks; never kept in a name.
fn is_invisible_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// The name as stored: last path component only, no control or bidi characters, no leading dots
/// (hidden files), no trailing dots or spaces (invalid on Windows), at most 255 bytes (keeping
/// the extension), and never empty.
pub fn sanitize_filename(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|&c| !c.is_control() && !is_invisible_control(c))
        .collect();
    let trimmed = cleaned
        .trim()
        .trim_start_matches('.')
        .trim_end_matches(['.', ' '])
        .trim();
    if trimmed.is_empty() {
        return FALLBACK.to_string();
    }
    shorten(trimmed)
}

fn shorten(name: &str) -> String {
    if name.len() <= MAX_BYTES {
        return name.to_string();
    }
    let (stem, extension) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= MAX_EXTENSION_BYTES => {
            (stem, Some(ext))
        }
        _ => (name, None),
    };
    let budget = MAX_BYTES - extension.map_or(0, |e| e.len() + 1);
    let mut cut = budget.min(stem.len());
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    let stem = stem[..cut].trim_end();
    match extension {
        Some(ext) => format!("{stem}.{ext}"),
        None => stem.to_string(),
    }
}

/// `Content-Disposition` for a download (RFC 6266): `attachment; filename="…"; filename*=UTF-8''…`.
///
/// `filename` is an ASCII fallback for old clients (German letters transliterated, other
/// non-ASCII as `_`, `"` as `'` since backslash escapes are not understood everywhere);
/// `filename*` carries the exact name, UTF-8 and percent-encoded (RFC 5987), and wins wherever
/// it is understood.
pub fn content_disposition(filename: &str) -> String {
    let name = sanitize_filename(filename);
    format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        ascii_fallback(&name),
        percent_encode(&name)
    )
}

fn ascii_fallback(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'Ä' => out.push_str("Ae"),
            'Ö' => out.push_str("Oe"),
            'Ü' => out.push_str("Ue"),
            'ß' => out.push_str("ss"),
            '"' => out.push('\''),
            '\\' => out.push('_'),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            _ => out.push('_'),
        }
    }
    out
}

/// RFC 5987 `attr-char` is kept, every other byte is `%XX`.
fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len() * 3);
    for byte in name.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            );
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_control_characters_are_stripped_umlauts_kept() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(
            sanitize_filename("C:\\Users\\Jürgen\\Bescheid Müller.pdf"),
            "Bescheid Müller.pdf"
        );
        assert_eq!(sanitize_filename("Antrag\r\n\t\u{0}.odt"), "Antrag.odt");
        assert_eq!(
            sanitize_filename("rechnung\u{202E}fdp.exe"),
            "rechnungfdp.exe"
        );
        assert_eq!(sanitize_filename(".htaccess"), "htaccess");
        assert_eq!(sanitize_filename("Ende. . "), "Ende");
        assert_eq!(sanitize_filename("  Größe ÄÖÜß.xlsx "), "Größe ÄÖÜß.xlsx");
        for empty in ["", "/", "..", "dir/", " \u{7} ", "\u{202E}"] {
            assert_eq!(sanitize_filename(empty), "Dokument", "{empty:?}");
        }
    }

    #[test]
    fn long_names_are_cut_at_a_char_boundary_keeping_the_extension() {
        let long = format!("{}.pdf", "ä".repeat(300));
        let short = sanitize_filename(&long);
        assert!(short.len() <= 255, "{}", short.len());
        assert!(short.ends_with("ä.pdf"));
        let no_extension = "ü".repeat(200);
        assert!(sanitize_filename(&no_extension).len() <= 255);
    }

    #[test]
    fn sanitizing_is_idempotent() {
        for name in [
            "a/b\\c.pdf",
            " ..x.. ",
            "Ärger \"zitiert\".docx",
            &"x".repeat(400),
        ] {
            let once = sanitize_filename(name);
            assert_eq!(sanitize_filename(&once), once);
        }
    }
}
