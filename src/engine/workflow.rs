//! A workflow version ready to run: the definition, its content hash and its compiled expressions.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::definition::{Definition, Expression, Step};
use super::expr::{CompiledExpr, ExprError};

/// One immutable version of a workflow; cases keep the version they started with.
#[derive(Debug, Clone)]
pub struct Workflow {
    definition: Definition,
    version: String,
    expressions: HashMap<String, CompiledExpr>,
}

impl Workflow {
    /// Compiles every expression of the definition and derives its version from the content.
    pub fn new(definition: Definition) -> Result<Self, (String, ExprError)> {
        let mut expressions = HashMap::new();
        for expression in all_expressions(&definition) {
            if !expressions.contains_key(&expression.0) {
                let compiled =
                    CompiledExpr::compile(expression).map_err(|e| (expression.0.clone(), e))?;
                expressions.insert(expression.0.clone(), compiled);
            }
        }
        let version = version_of(&definition);
        Ok(Self {
            definition,
            version,
            expressions,
        })
    }

    /// The definition as written.
    pub fn definition(&self) -> &Definition {
        &self.definition
    }

    /// The workflow key (`ki-antrag`).
    pub fn key(&self) -> &str {
        &self.definition.workflow
    }

    /// SHA-256 of the definition's canonical JSON: equal content, equal version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// A step by name.
    pub fn step(&self, name: &str) -> Option<&Step> {
        self.definition.steps.get(name)
    }

    /// The compiled form of an expression of this definition.
    pub(crate) fn compiled(&self, expression: &Expression) -> Option<&CompiledExpr> {
        self.expressions.get(&expression.0)
    }
}

/// The version hash of a definition (hex SHA-256 of its JSON form).
pub fn version_of(definition: &Definition) -> String {
    let json = serde_json::to_vec(definition).unwrap_or_default();
    Sha256::digest(&json)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every expression in the definition: action guards and decision conditions.
pub fn all_expressions(definition: &Definition) -> Vec<&Expression> {
    let mut out = Vec::new();
    for step in definition.steps.values() {
        match step {
            Step::Task(task) => {
                for action in task.actions.values() {
                    out.extend(action.guard.iter().map(|g| &g.expr));
                }
            }
            Step::Decision(decision) => out.extend(decision.conditions.iter().map(|c| &c.when)),
            _ => {}
        }
    }
    out
}
