//! Guard and decision expressions: CEL, compiled once when a definition is loaded.
//!
//! Pure: evaluation sees only what the caller passes in ([`ExprInput`]); `today` is a value, not a
//! clock read. CEL is not Turing-complete and has no I/O, so a definition cannot do harm.

use std::sync::Arc;

use cel::common::ast::{EntryExpr, Expr, IdedExpr};
use cel::{Context, Program, Value};
use chrono::NaiveDate;

use super::definition::Expression;

/// Why an expression cannot be compiled or evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExprError {
    /// The text is not valid CEL; `line`/`column` are 1-based positions inside the expression.
    #[error("Ausdruck lässt sich nicht übersetzen: {message}")]
    Parse {
        message: String,
        line: usize,
        column: usize,
    },
    /// Evaluation failed (e.g. a type mismatch, or a field that is absent in the data).
    #[error("Ausdruck lässt sich nicht auswerten: {0}")]
    Eval(String),
    /// A guard or condition gave something other than `true`/`false`.
    #[error("Ausdruck ergibt {0}, nicht true oder false")]
    NotBoolean(String),
}

/// What an expression can see.
#[derive(Debug, Clone, Copy)]
pub struct ExprInput<'a> {
    /// The case data (an object).
    pub data: &'a serde_json::Value,
    /// AGS or key of the applicant organisation.
    pub applicant_key: &'a str,
    /// Kind of the applicant organisation (`kreis`, `kreisfreie_stadt`, …).
    pub applicant_kind: &'a str,
    /// The current date, passed in by the caller.
    pub today: NaiveDate,
}

/// A compiled expression, cheap to clone and share between threads.
#[derive(Debug, Clone)]
pub struct CompiledExpr {
    source: Arc<str>,
    program: Arc<Program>,
    data_paths: Arc<[String]>,
    /// The top-level data fields the expression can reach; `None` when it uses `data` as a
    /// whole (`size(data)`, `data[key]`, a macro over `data`).
    data_roots: Option<Arc<[String]>>,
}

impl PartialEq for CompiledExpr {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl CompiledExpr {
    /// Compiles the expression and records the data fields it reads.
    pub fn compile(expression: &Expression) -> Result<Self, ExprError> {
        let program = std::panic::catch_unwind(|| Program::compile(&expression.0))
            .map_err(|_| ExprError::Parse {
                message: "the expression could not be parsed".into(),
                line: 1,
                column: 1,
            })?
            .map_err(|errors| {
                let first = errors.errors.first();
                ExprError::Parse {
                    message: first
                        .map(|e| e.msg.clone())
                        .unwrap_or_else(|| "invalid expression".into()),
                    line: first.map_or(1, |e| usize::try_from(e.pos.0).unwrap_or(0).max(1)),
                    column: first.map_or(1, |e| usize::try_from(e.pos.1).unwrap_or(0).max(1)),
                }
            })?;
        let mut paths = Vec::new();
        let mut whole = false;
        collect_data_paths(program.expression(), &mut paths, &mut whole);
        paths.sort();
        paths.dedup();
        let data_roots = (!whole).then(|| {
            let mut roots: Vec<String> = paths
                .iter()
                .map(|path| path.split('.').next().unwrap_or(path).to_string())
                .collect();
            roots.sort();
            roots.dedup();
            roots.into()
        });
        Ok(Self {
            source: expression.0.as_str().into(),
            program: Arc::new(program),
            data_paths: paths.into(),
            data_roots,
        })
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Dotted field paths below `data` that the expression reads (`integrationskonzept.status`),
    /// so the validator can check them against the data schema.
    pub fn data_paths(&self) -> &[String] {
        &self.data_paths
    }

    /// Evaluates to a boolean; anything else is an error, never a silent `false`.
    pub fn eval_bool(&self, input: &ExprInput<'_>) -> Result<bool, ExprError> {
        match self.eval(input)? {
            Value::Bool(value) => Ok(value),
            other => Err(ExprError::NotBoolean(format!("{other:?}"))),
        }
    }

    /// The top-level data fields the expression can reach, `None` for all of them.
    pub fn data_roots(&self) -> Option<&[String]> {
        self.data_roots.as_deref()
    }

    fn eval(&self, input: &ExprInput<'_>) -> Result<Value, ExprError> {
        // Only the fields the expression can reach are converted to CEL values: a guard reads one
        // or two fields, the data of an application holds dozens, and the conversion of all of
        // them for every guard of every offered action was most of the cost of listing actions.
        let data = match (&self.data_roots, input.data) {
            (Some(roots), serde_json::Value::Object(fields)) => {
                cel::to_value(Reachable { fields, roots })
            }
            _ => cel::to_value(input.data),
        }
        .map_err(|e| ExprError::Eval(e.to_string()))?;
        let applicant = cel::to_value(serde_json::json!({
            "key": input.applicant_key,
            "kind": input.applicant_kind,
        }))
        .map_err(|e| ExprError::Eval(e.to_string()))?;
        ROOT_CONTEXT.with(|root| {
            let mut context = root.new_inner_scope();
            context.add_variable_from_value("data", data);
            context.add_variable_from_value("applicant", applicant);
            context.add_variable_from_value("today", input.today.format("%Y-%m-%d").to_string());
            self.program
                .execute(&context)
                .map_err(|e| ExprError::Eval(e.to_string()))
        })
    }
}

/// The part of an object of data that an expression can reach: its fields named in `roots`
/// that are present (so `has()` answers as on the whole object).
struct Reachable<'a> {
    fields: &'a serde_json::Map<String, serde_json::Value>,
    roots: &'a [String],
}

impl serde::Serialize for Reachable<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        for root in self.roots {
            if let Some(value) = self.fields.get(root) {
                map.serialize_entry(root, value)?;
            }
        }
        map.end()
    }
}

thread_local! {
    /// The standard function registry, built once per thread instead of once per evaluation.
    static ROOT_CONTEXT: Context<'static, 'static> = Context::default();
}

/// Walks the AST and records every member chain rooted at the variable `data`.
/// Sets `whole` where `data` itself is used, not one of its fields.
fn collect_data_paths(expr: &IdedExpr, out: &mut Vec<String>, whole: &mut bool) {
    if let Some(path) = data_path_of(expr) {
        if path.is_empty() {
            *whole = true;
        } else {
            out.push(path.join("."));
        }
        return;
    }
    match &expr.expr {
        Expr::Call(call) => {
            if let Some(target) = &call.target {
                collect_data_paths(target, out, whole);
            }
            for arg in &call.args {
                collect_data_paths(arg, out, whole);
            }
        }
        Expr::Comprehension(comprehension) => {
            for part in [
                &comprehension.iter_range,
                &comprehension.accu_init,
                &comprehension.loop_cond,
                &comprehension.loop_step,
                &comprehension.result,
            ] {
                collect_data_paths(part, out, whole);
            }
        }
        Expr::List(list) => {
            for element in &list.elements {
                collect_data_paths(element, out, whole);
            }
        }
        Expr::Map(map) => {
            for entry in &map.entries {
                if let EntryExpr::MapEntry(entry) = &entry.expr {
                    collect_data_paths(&entry.key, out, whole);
                    collect_data_paths(&entry.value, out, whole);
                }
            }
        }
        Expr::Struct(structure) => {
            for entry in &structure.entries {
                if let EntryExpr::StructField(field) = &entry.expr {
                    collect_data_paths(&field.value, out, whole);
                }
            }
        }
        Expr::Select(select) => collect_data_paths(&select.operand, out, whole),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// `data.a.b` → `["a", "b"]`; `data` alone → `[]`; anything else → `None`.
fn data_path_of(expr: &IdedExpr) -> Option<Vec<String>> {
    match &expr.expr {
        Expr::Ident(name) if name == "data" => Some(Vec::new()),
        Expr::Select(select) => {
            let mut path = data_path_of(&select.operand)?;
            path.push(select.field.clone());
            Some(path)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn compile(text: &str) -> CompiledExpr {
        CompiledExpr::compile(&Expression(text.into())).unwrap()
    }

    fn eval(text: &str, data: serde_json::Value) -> Result<bool, ExprError> {
        compile(text).eval_bool(&ExprInput {
            data: &data,
            applicant_key: "05154",
            applicant_kind: "kreis",
            today: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        })
    }

    #[test]
    fn reads_data_applicant_and_today() {
        assert_eq!(eval("data.x == 'a'", json!({"x": "a"})), Ok(true));
        assert_eq!(
            eval("size(data.orgs) >= 2", json!({"orgs": ["a"]})),
            Ok(false)
        );
        assert_eq!(eval("applicant.kind == 'kreis'", json!({})), Ok(true));
        assert_eq!(
            eval("data.frist < today", json!({"frist": "2026-11-22"})),
            Ok(true)
        );
        assert_eq!(
            eval("has(data.konzept.status)", json!({"konzept": {}})),
            Ok(false)
        );
        assert_eq!(
            eval("data.personal.vze <= 6.5", json!({"personal": {"vze": 6}})),
            Ok(true)
        );
    }

    #[test]
    fn non_boolean_and_failing_expressions_are_errors() {
        assert!(matches!(
            eval("data.x", json!({"x": 1})),
            Err(ExprError::NotBoolean(_))
        ));
        assert!(matches!(
            eval("data.missing == 1", json!({})),
            Err(ExprError::Eval(_))
        ));
    }

    #[test]
    fn syntax_errors_carry_a_position() {
        let error = CompiledExpr::compile(&Expression("data.x ==".into())).unwrap_err();
        assert!(
            matches!(error, ExprError::Parse { line: 1, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn data_paths_are_collected_through_calls_and_macros() {
        let expr = compile(
            "size(data.beteiligte) > 0 && data.konzept.status == 'x' \
             && data.standorte.all(s, s.ort != '') && has(data.leitung.gruppe) && applicant.kind == 'kreis'",
        );
        assert_eq!(
            expr.data_paths(),
            [
                "beteiligte",
                "konzept.status",
                "leitung.gruppe",
                "standorte"
            ]
        );
        assert_eq!(
            expr.data_roots(),
            Some(&["beteiligte", "konzept", "leitung", "standorte"].map(String::from)[..])
        );
    }

    #[test]
    fn data_used_as_a_whole_is_converted_whole() {
        for text in [
            "size(data) == 2",
            "data['a'] == 1",
            "data.all(k, k != '')",
            "data.a == 1 && size(data) == 2",
        ] {
            assert_eq!(compile(text).data_roots(), None, "{text}");
            assert_eq!(eval(text, json!({"a": 1, "b": 2})), Ok(true), "{text}");
        }
    }

    #[test]
    fn only_reachable_fields_are_converted_and_they_answer_as_the_whole() {
        let data = json!({
            "a": {"b": 1, "c": [1, 2]},
            "ab": "x",
            "d": {"nested": {"deep": true}},
            "e": null
        });
        let cases = [
            ("data.a.b == 1", Ok(true)),
            ("size(data.a.c) == 2 && data.ab == 'x'", Ok(true)),
            ("has(data.a.b) && !has(data.a.z)", Ok(true)),
            ("has(data.missing)", Ok(false)),
            ("data.d.nested.deep", Ok(true)),
            ("data.e == null", Ok(true)),
        ];
        for (text, expected) in cases {
            assert_eq!(eval(text, data.clone()), expected, "{text}");
        }
        assert!(matches!(
            eval("data.missing == 1", data.clone()),
            Err(ExprError::Eval(_))
        ));
        // Other fields are simply not there for the expression, as if `data` held only these.
        assert_eq!(
            compile("data.a.b == 1 && data.ab == 'x'").data_roots(),
            Some(&["a", "ab"].map(String::from)[..])
        );
    }
}
