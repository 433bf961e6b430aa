//! Line diff between two versions of a workflow source, for the "what changed between versions"
//! view of the administration pages.
//!
//! The diff itself comes from `similar` (Myers); this module only numbers the lines, cuts the
//! result into hunks with [`CONTEXT`] lines of context and marks the unchanged stretches between
//! them, in a shape a handlebars template can walk without helpers beyond `eq`.
//!
//! Line endings are not content: `\r\n` and `\n` compare equal, and a missing newline at the end
//! of the file is no change. Administrators edit these files on different systems, and a diff
//! that marks every line because of the line endings hides the one change that matters.

use std::time::{Duration, Instant};

use serde::ser::{Serialize, SerializeStruct, Serializer};
use similar::{Algorithm, DiffOp, capture_diff_slices_deadline, group_diff_ops};

/// Unchanged lines shown before and after each change, as in `diff -u`.
pub const CONTEXT: usize = 3;

/// How long the diff may search for the smallest edit script; after that it settles for a
/// correct but larger one. Workflow files are a few hundred lines, so this only guards the
/// server against pathological uploads.
const DEADLINE: Duration = Duration::from_secs(1);

/// One row of the diff view.
///
/// Serialised for templates as an object with always the same five keys, so a template in strict
/// mode can read any of them on any row: `kind` (`"context"`, `"added"`, `"removed"` or
/// `"skipped"`), `old_line` and `new_line` (1-based line numbers, `null` on the side a line does
/// not exist), `text` (the line without its line ending; empty for skipped rows) and `lines`
/// (number of unchanged lines left out; `null` except for skipped rows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffLine {
    /// An unchanged line shown around a change.
    Context {
        /// Line number in the old version.
        old_line: usize,
        /// Line number in the new version.
        new_line: usize,
        /// The line, without line ending.
        text: String,
    },
    /// A line only the new version has.
    Added {
        /// Line number in the new version.
        new_line: usize,
        /// The line, without line ending.
        text: String,
    },
    /// A line only the old version has.
    Removed {
        /// Line number in the old version.
        old_line: usize,
        /// The line, without line ending.
        text: String,
    },
    /// Unchanged lines left out between (or before, or after) the hunks.
    Skipped {
        /// How many lines; the same on both sides, since they are unchanged.
        lines: usize,
    },
}

impl DiffLine {
    /// The row's kind as the template sees it.
    pub fn kind(&self) -> &'static str {
        match self {
            DiffLine::Context { .. } => "context",
            DiffLine::Added { .. } => "added",
            DiffLine::Removed { .. } => "removed",
            DiffLine::Skipped { .. } => "skipped",
        }
    }
}

impl Serialize for DiffLine {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (old_line, new_line, text, lines) = match self {
            DiffLine::Context {
                old_line,
                new_line,
                text,
            } => (Some(*old_line), Some(*new_line), text.as_str(), None),
            DiffLine::Added { new_line, text } => (None, Some(*new_line), text.as_str(), None),
            DiffLine::Removed { old_line, text } => (Some(*old_line), None, text.as_str(), None),
            DiffLine::Skipped { lines } => (None, None, "", Some(*lines)),
        };
        let mut row = serializer.serialize_struct("DiffLine", 5)?;
        row.serialize_field("kind", self.kind())?;
        row.serialize_field("old_line", &old_line)?;
        row.serialize_field("new_line", &new_line)?;
        row.serialize_field("text", text)?;
        row.serialize_field("lines", &lines)?;
        row.end()
    }
}

/// The changes from `old` to `new`, line by line, in hunks with [`CONTEXT`] lines of context and
/// a [`DiffLine::Skipped`] row for every unchanged stretch left out (also before the first and
/// after the last hunk). Equal sources, up to line endings, give no rows at all.
pub fn source_diff(old: &str, new: &str) -> Vec<DiffLine> {
    // `str::lines` drops `\n` and `\r\n` alike, and gives no empty last line for a final newline.
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    let ops = capture_diff_slices_deadline(
        Algorithm::Myers,
        &old_lines,
        &new_lines,
        Some(Instant::now() + DEADLINE),
    );
    let groups = group_diff_ops(ops, CONTEXT);

    let mut rows = Vec::new();
    // Next old line not yet shown or counted as skipped (0-based).
    let mut old_seen = 0;
    for group in &groups {
        let Some(first) = group.first() else {
            continue;
        };
        let start = first.old_range().start;
        if start > old_seen {
            rows.push(DiffLine::Skipped {
                lines: start - old_seen,
            });
        }
        for op in group {
            push_op(&mut rows, op, &old_lines, &new_lines);
            old_seen = op.old_range().end;
        }
    }
    if !groups.is_empty() && old_lines.len() > old_seen {
        rows.push(DiffLine::Skipped {
            lines: old_lines.len() - old_seen,
        });
    }
    rows
}

fn push_op(rows: &mut Vec<DiffLine>, op: &DiffOp, old: &[&str], new: &[&str]) {
    let line = |lines: &[&str], index: usize| lines.get(index).copied().unwrap_or("").to_string();
    let removed = |rows: &mut Vec<DiffLine>| {
        for index in op.old_range() {
            rows.push(DiffLine::Removed {
                old_line: index + 1,
                text: line(old, index),
            });
        }
    };
    let added = |rows: &mut Vec<DiffLine>| {
        for index in op.new_range() {
            rows.push(DiffLine::Added {
                new_line: index + 1,
                text: line(new, index),
            });
        }
    };
    match op {
        DiffOp::Equal {
            old_index,
            new_index,
            len,
        } => {
            for offset in 0..*len {
                rows.push(DiffLine::Context {
                    old_line: old_index + offset + 1,
                    new_line: new_index + offset + 1,
                    text: line(old, old_index + offset),
                });
            }
        }
        DiffOp::Delete { .. } => removed(rows),
        DiffOp::Insert { .. } => added(rows),
        DiffOp::Replace { .. } => {
            removed(rows);
            added(rows);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn numbered(n: usize) -> String {
        (1..=n).map(|i| format!("zeile {i}\n")).collect()
    }

    fn ctx(old_line: usize, new_line: usize, text: &str) -> DiffLine {
        DiffLine::Context {
            old_line,
            new_line,
            text: text.into(),
        }
    }

    fn add(new_line: usize, text: &str) -> DiffLine {
        DiffLine::Added {
            new_line,
            text: text.into(),
        }
    }

    fn del(old_line: usize, text: &str) -> DiffLine {
        DiffLine::Removed {
            old_line,
            text: text.into(),
        }
    }

    #[test]
    fn identical_sources_have_no_rows() {
        assert!(source_diff("", "").is_empty());
        let text = numbered(40);
        assert!(source_diff(&text, &text).is_empty());
    }

    #[test]
    fn an_insertion_in_the_middle_has_context_and_skipped_stretches() {
        let old = numbered(20);
        let new = old.replace("zeile 10\n", "zeile 10\nneu\n");
        assert_eq!(
            source_diff(&old, &new),
            vec![
                DiffLine::Skipped { lines: 7 },
                ctx(8, 8, "zeile 8"),
                ctx(9, 9, "zeile 9"),
                ctx(10, 10, "zeile 10"),
                add(11, "neu"),
                ctx(11, 12, "zeile 11"),
                ctx(12, 13, "zeile 12"),
                ctx(13, 14, "zeile 13"),
                DiffLine::Skipped { lines: 7 },
            ]
        );
    }

    #[test]
    fn a_deletion_at_the_start_has_no_leading_skip() {
        let old = numbered(10);
        let new = old.replacen("zeile 1\n", "", 1);
        assert_eq!(
            source_diff(&old, &new),
            vec![
                del(1, "zeile 1"),
                ctx(2, 1, "zeile 2"),
                ctx(3, 2, "zeile 3"),
                ctx(4, 3, "zeile 4"),
                DiffLine::Skipped { lines: 6 },
            ]
        );
    }

    #[test]
    fn a_modified_line_is_removed_then_added() {
        let old = "a\nb\nc\n";
        let new = "a\nB\nc\n";
        assert_eq!(
            source_diff(old, new),
            vec![ctx(1, 1, "a"), del(2, "b"), add(2, "B"), ctx(3, 3, "c")]
        );
    }

    #[test]
    fn changes_close_together_share_one_hunk_and_far_apart_ones_do_not() {
        let old = numbered(30);
        let close = old
            .replace("zeile 5\n", "fuenf\n")
            .replace("zeile 10\n", "zehn\n");
        let rows = source_diff(&old, &close);
        let skips = rows
            .iter()
            .filter(|r| matches!(r, DiffLine::Skipped { .. }))
            .count();
        assert_eq!(skips, 2, "one before, one after the single hunk: {rows:?}");

        let far = old
            .replace("zeile 5\n", "fuenf\n")
            .replace("zeile 25\n", "fuenfundzwanzig\n");
        let rows = source_diff(&old, &far);
        let between: Vec<_> = rows
            .iter()
            .filter_map(|r| match r {
                DiffLine::Skipped { lines } => Some(*lines),
                _ => None,
            })
            .collect();
        // 1 leading, 13 between (lines 9..=21), 2 trailing (29, 30).
        assert_eq!(between, vec![1, 13, 2]);
    }

    #[test]
    fn every_line_of_both_sides_is_accounted_for() {
        let old = numbered(50);
        let new = old
            .replace("zeile 3\n", "")
            .replace("zeile 20\n", "zwanzig\neinundzwanzig?\n")
            .replace("zeile 48\n", "zeile 48\nneu\n");
        let rows = source_diff(&old, &new);
        let mut old_count = 0;
        let mut new_count = 0;
        for row in &rows {
            match row {
                DiffLine::Context { .. } => {
                    old_count += 1;
                    new_count += 1;
                }
                DiffLine::Added { .. } => new_count += 1,
                DiffLine::Removed { .. } => old_count += 1,
                DiffLine::Skipped { lines } => {
                    old_count += lines;
                    new_count += lines;
                }
            }
        }
        assert_eq!(old_count, old.lines().count());
        assert_eq!(new_count, new.lines().count());
    }

    #[test]
    fn line_endings_are_not_changes() {
        let lf = "start: entwurf\nsteps:\n  entwurf:\n";
        let crlf = lf.replace('\n', "\r\n");
        assert!(source_diff(lf, &crlf).is_empty());
        assert!(source_diff(lf, lf.trim_end()).is_empty());
        // A real change in a CRLF file shows the text without the carriage return.
        let changed = crlf.replace("entwurf:", "pruefung:");
        assert_eq!(
            source_diff(&crlf, &changed),
            vec![
                ctx(1, 1, "start: entwurf"),
                ctx(2, 2, "steps:"),
                del(3, "  entwurf:"),
                add(3, "  pruefung:"),
            ]
        );
    }

    #[test]
    fn an_empty_old_source_adds_every_line() {
        let rows = source_diff("", "a\nb\n");
        assert_eq!(rows, vec![add(1, "a"), add(2, "b")]);
        let rows = source_diff("a\nb\n", "");
        assert_eq!(rows, vec![del(1, "a"), del(2, "b")]);
    }

    #[test]
    fn rows_serialise_with_the_same_keys_for_every_kind() {
        let rows = vec![
            ctx(1, 2, "a"),
            add(3, "b"),
            del(4, "c"),
            DiffLine::Skipped { lines: 9 },
        ];
        assert_eq!(
            serde_json::to_value(&rows).unwrap(),
            json!([
                {"kind": "context", "old_line": 1, "new_line": 2, "text": "a", "lines": null},
                {"kind": "added", "old_line": null, "new_line": 3, "text": "b", "lines": null},
                {"kind": "removed", "old_line": 4, "new_line": null, "text": "c", "lines": null},
                {"kind": "skipped", "old_line": null, "new_line": null, "text": "", "lines": 9},
            ])
        );
    }

    #[test]
    fn a_strict_handlebars_template_can_render_the_rows() {
        let mut hb = handlebars::Handlebars::new();
        hb.set_strict_mode(true);
        let template = "{{#each rows}}{{#if (eq kind \"skipped\")}}… {{lines}}\n\
                        {{else}}{{kind}} {{old_line}}|{{new_line}} {{text}}\n{{/if}}{{/each}}";
        hb.register_template_string("diff", template).unwrap();
        let rows = source_diff("a\n<b>\nc\n", "a\nc\nd\n");
        let out = hb.render("diff", &json!({ "rows": rows })).unwrap();
        assert_eq!(
            out,
            "context 1|1 a\nremoved 2| &lt;b&gt;\ncontext 3|2 c\nadded |3 d\n"
        );
    }
}
