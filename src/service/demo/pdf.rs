//! Small, valid PDF 1.4 files with one page of German text, written by hand: the demo's
//! documents (Integrationskonzept, Bescheid, Stellungnahme …) without any PDF library.
//!
//! Text is set in the standard fonts Helvetica and Helvetica-Bold with `WinAnsiEncoding`, which
//! every reader has built in and which covers Umlauts, ß, „“, – and €.

/// Characters per line; Helvetica at 11 pt on an A4 page with 2.5 cm margins holds about this.
const LINE_WIDTH: usize = 86;
/// Lines below the title that fit on the page.
const MAX_LINES: usize = 50;

/// A one-page PDF with a bold `title` and the `paragraphs` below it, wrapped at word boundaries
/// (an empty line between paragraphs). Text that does not fit on the page is cut off.
pub fn one_page(title: &str, paragraphs: &[&str]) -> Vec<u8> {
    let mut lines: Vec<String> = Vec::new();
    for (index, paragraph) in paragraphs.iter().enumerate() {
        if index > 0 {
            lines.push(String::new());
        }
        lines.extend(wrap(paragraph, LINE_WIDTH));
    }
    lines.truncate(MAX_LINES);

    let mut content = Vec::new();
    content.extend_from_slice(b"BT\n/F2 15 Tf\n71 771 Td\n");
    push_string(&mut content, title);
    content.extend_from_slice(b" Tj\n/F1 11 Tf\n14 TL\n0 -30 Td\n");
    for line in &lines {
        if !line.is_empty() {
            push_string(&mut content, line);
            content.extend_from_slice(b" Tj ");
        }
        content.extend_from_slice(b"T*\n");
    }
    content.extend_from_slice(b"ET\n");

    let mut info = b"<< /Title ".to_vec();
    push_text_string(&mut info, title);
    info.extend_from_slice(b" /Producer (vorgang demo) >>");

    let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
    stream.extend_from_slice(&content);
    stream.extend_from_slice(b"endstream");

    let objects: [Vec<u8>; 7] = [
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] \
          /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>"
            .to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
            .to_vec(),
        stream,
        info,
    ];

    // The header's second line marks the file as binary (bytes above 127), as PDF 1.4 advises.
    let mut pdf = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (index, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", index + 1).as_bytes());
        pdf.extend_from_slice(object);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n", objects.len() + 1).as_bytes());
    // Each entry is exactly 20 bytes, line end included.
    pdf.extend_from_slice(b"0000000000 65535 f \n");
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /Info 7 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

/// Splits `text` into lines of at most `width` characters at spaces (longer words stay whole).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let needed = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if !line.is_empty() && needed > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Appends `text` as a PDF literal string in WinAnsiEncoding, parentheses and backslashes escaped.
fn push_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'(');
    for c in text.chars() {
        let byte = win_ansi(c);
        if matches!(byte, b'(' | b')' | b'\\') {
            out.push(b'\\');
        }
        out.push(byte);
    }
    out.push(b')');
}

/// Appends `text` as a PDF text string (document information): UTF-16BE with byte order mark,
/// written in hex, so every character survives.
fn push_text_string(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(b"<FEFF");
    for unit in text.encode_utf16() {
        out.extend_from_slice(format!("{unit:04X}").as_bytes());
    }
    out.push(b'>');
}

/// The WinAnsiEncoding byte of `c`, `?` for characters the encoding lacks.
fn win_ansi(c: char) -> u8 {
    match c {
        ' '..='~' => c as u8,
        '\u{A0}'..='\u{FF}' => c as u32 as u8,
        '€' => 0x80,
        '‚' => 0x82,
        '„' => 0x84,
        '…' => 0x85,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        _ => b'?',
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pdf_is_one_page_with_a_correct_cross_reference_table() {
        let pdf = one_page(
            "Stellungnahme (Demo)",
            &[
                "Größere Räume für „Sprachförderung“ – 100 € (Teil 1)\\2.",
                "Zweiter Absatz.",
            ],
        );
        assert!(pdf.starts_with(b"%PDF-1.4\n"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        assert_eq!(
            crate::documents::sniff(&pdf).unwrap(),
            crate::documents::DocumentType::Pdf
        );
        // Byte offsets: the file is not UTF-8 (WinAnsi text, the binary marker).
        let find = |needle: &[u8]| pdf.windows(needle.len()).position(|w| w == needle).unwrap();
        let ascii = |from: usize| -> String {
            pdf[from..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .map(|b| char::from(*b))
                .collect()
        };
        // startxref points at the table, and every entry at its object.
        let start: usize = ascii(find(b"startxref\n") + 10).parse().unwrap();
        assert!(pdf[start..].starts_with(b"xref\n0 8\n0000000000 65535 f \n"));
        for index in 0..7 {
            let entry = start + b"xref\n0 8\n".len() + 20 * (index + 1);
            let offset: usize = ascii(entry).parse().unwrap();
            assert!(
                pdf[offset..].starts_with(format!("{} 0 obj", index + 1).as_bytes()),
                "object {}",
                index + 1
            );
        }
        // The stream's declared length is its length.
        let stream_at = find(b"stream\n") + b"stream\n".len();
        let declared: usize = ascii(find(b"/Length ") + 8).parse().unwrap();
        assert_eq!(find(b"endstream") - stream_at, declared);
        // Umlauts and typographic quotes in WinAnsi; brackets and backslashes escaped.
        assert!(pdf.windows(3).any(|w| w == b"Gr\xF6"));
        assert!(pdf.windows(2).any(|w| w == b"\x84S"));
        assert!(pdf.windows(3).any(|w| w == b"1\\)"));
        assert!(pdf.windows(4).any(|w| w == b"\\\\2."));
    }

    #[test]
    fn long_paragraphs_are_wrapped_at_spaces() {
        let lines = wrap("eins zwei drei vier", 9);
        assert_eq!(lines, ["eins zwei", "drei vier"]);
        assert_eq!(wrap("", 10), Vec::<String>::new());
    }
}
