//! Tables for spreadsheets, written as a German spreadsheet opens them without an import
//! dialogue: UTF-8 with a byte order mark, `;` between the cells, CRLF line ends.
//!
//! A cell that a spreadsheet would take for a formula (starting with `=`, `+`, `-`, `@`, a tab or
//! a carriage return) is written with a leading `'`, so text someone typed (an organisation's
//! name, an Aktenzeichen pattern) cannot run one; [`read_cell`] takes the mark off again when
//! such a table comes back.

use std::borrow::Cow;

/// The byte order mark a table starts with.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Characters that make a spreadsheet evaluate a cell.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell a spreadsheet shows as text, never evaluates.
pub fn text_cell(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// A cell as [`text_cell`] wrote it, without the mark it added.
pub fn read_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

/// The table of `headings` and `rows`, every cell written with [`text_cell`].
pub fn table<R>(headings: &[&str], rows: impl IntoIterator<Item = R>) -> Result<Vec<u8>, csv::Error>
where
    R: IntoIterator,
    R::Item: AsRef<str>,
{
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .from_writer(BOM.to_vec());
    writer.write_record(headings)?;
    for row in rows {
        writer.write_record(
            row.into_iter()
                .map(|cell| text_cell(cell.as_ref()).into_owned()),
        )?;
    }
    writer
        .into_inner()
        .map_err(|error| csv::Error::from(error.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_in_a_cell_runs_as_a_formula_and_the_mark_comes_off_again() {
        for text in ["=HYPERLINK(\"x\")", "+1", "-1", "@SUM(A1)", "\tx"] {
            assert!(text_cell(text).starts_with('\''), "{text}");
            assert_eq!(read_cell(&text_cell(text)), text);
        }
        assert_eq!(text_cell("KI-05974-2026-0001"), "KI-05974-2026-0001");
        // An apostrophe someone typed stays.
        assert_eq!(read_cell("'s Hertogenbosch"), "'s Hertogenbosch");
    }
}
