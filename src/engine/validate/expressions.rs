//! Guard and condition expressions: they must compile, and every `data.` field they read must be
//! declared. Positions point into the expression where the file allows it.

use super::{At, Checker, schema};
use crate::engine::definition::Expression;
use crate::engine::expr::{CompiledExpr, ExprError};
use crate::engine::yaml::{Node, Pos, ScalarStyle};

impl Checker<'_> {
    /// Compiles an expression and checks the data fields it reads.
    pub(super) fn expression(&mut self, expression: &Expression, at: &At) {
        let base = self.pos(at);
        let node = self.node(at).cloned();
        match CompiledExpr::compile(expression) {
            Err(ExprError::Parse {
                message,
                line,
                column,
            }) => {
                let (pos, exact) = inner_pos(node.as_ref(), base, line, column);
                let inside = if exact {
                    String::new()
                } else {
                    format!(" (bei {line}:{column} des Ausdrucks)")
                };
                self.error_at(
                    pos,
                    at,
                    format!(
                        "Ausdruck in {} lässt sich nicht übersetzen{inside}: {message}",
                        at.path()
                    ),
                );
            }
            Err(other) => self.error_at(
                base,
                at,
                format!("fehlerhafter Ausdruck in {}: {other}", at.path()),
            ),
            Ok(compiled) => {
                for path in compiled.data_paths().iter() {
                    if let Err(problem) = schema::resolve(&self.def.data, path) {
                        let offset = expression
                            .0
                            .find(&format!("data.{path}"))
                            .map(|bytes| expression.0[..bytes].chars().count());
                        let pos = match offset {
                            Some(offset) => inner_pos(node.as_ref(), base, 1, offset + 1).0,
                            None => base,
                        };
                        let (what, hint) = problem.message(path, &self.def.data);
                        self.error_at(
                            pos,
                            at,
                            format!("Ausdruck in {} liest ein {what}{hint}", at.path()),
                        );
                    }
                }
            }
        }
    }
}

/// The file position of `line:column` inside the scalar `node`, and whether it is exact (the
/// scalar's text maps one to one onto the file: one line, no escapes).
fn inner_pos(node: Option<&Node>, base: Pos, line: usize, column: usize) -> (Pos, bool) {
    let Some(scalar) = node.and_then(Node::as_scalar) else {
        return (base, false);
    };
    // A position just past the text (an unexpected end) is shown at the end of its last line.
    let lines: Vec<&str> = scalar.text.trim_end_matches('\n').split('\n').collect();
    let (line, column) = match lines.last() {
        Some(last) if line > lines.len() => (lines.len(), last.chars().count() + 1),
        _ => (line, column),
    };
    let single_line = !scalar.text.trim_end_matches('\n').contains('\n') && line == 1;
    let shift = match scalar.style {
        ScalarStyle::Plain if single_line => Some(0),
        ScalarStyle::SingleQuoted if single_line && !scalar.text.contains('\'') => Some(1),
        ScalarStyle::DoubleQuoted if single_line && !scalar.text.contains(['\\', '"', '\t']) => {
            Some(1)
        }
        ScalarStyle::Literal => {
            return (
                Pos {
                    line: base.line + line.saturating_sub(1),
                    column: base.column + column.saturating_sub(1),
                },
                true,
            );
        }
        _ => None,
    };
    match shift {
        Some(shift) => (
            Pos {
                line: base.line,
                column: base.column + shift + column.saturating_sub(1),
            },
            true,
        ),
        None => (base, false),
    }
}
