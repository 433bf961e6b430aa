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
    #[error("expression does not compile: {message}")]
    Parse {
        message: String,
        line: usize,
        column: usize,
    },
    /// Evaluation failed (e.g. a type mismatch, or a field that is absent in the data).
    #[error("expression cannot be evaluated: {0}")]
    Eval(String),
    /// A guard or condition gave something other than `true`/`false`.
    #[error("expression gives {0}, not true or false")]
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
        collect_data_paths(program.expression(), &mut paths);
        paths.sort();
        paths.dedup();
        Ok(Self {
            source: expression.0.as_str().into(),
            program: Arc::new(program),
            data_paths: paths.into(),
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

    fn eval(&self, input: &ExprInput<'_>) -> Result<Value, ExprError> {
        let data = cel::to_value(input.data).map_err(|e| ExprError::Eval(e.to_string()))?;
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

thread_local! {
    /// The standard function registry, built once per thread instead of once per evaluation.
    static ROOT_CONTEXT: Context<'static, 'static> = Context::default();
}

/// Walks the AST and records every member chain rooted at the variable `data`.
fn collect_data_paths(expr: &IdedExpr, out: &mut Vec<String>) {
    if let Some(path) = data_path_of(expr) {
        if !path.is_empty() {
            out.push(path.join("."));
        }
        return;
    }
    match &expr.expr {
        Expr::Call(call) => {
            if let Some(target) = &call.target {
                collect_data_paths(target, out);
            }
            for arg in &call.args {
                collect_data_paths(arg, out);
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
                collect_data_paths(part, out);
            }
        }
        Expr::List(list) => {
            for element in &list.elements {
                collect_data_paths(element, out);
            }
        }
        Expr::Map(map) => {
            for entry in &map.entries {
                if let EntryExpr::MapEntry(entry) = &entry.expr {
                    collect_data_paths(&entry.key, out);
                    collect_data_paths(&entry.value, out);
                }
            }
        }
        Expr::Struct(structure) => {
            for entry in &structure.entries {
                if let EntryExpr::StructField(field) = &entry.expr {
                    collect_data_paths(&field.value, out);
                }
            }
        }
        Expr::Select(select) => collect_data_paths(&select.operand, out),
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
    }
}
