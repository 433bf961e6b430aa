//! Which actions a person can take now, and every reason why not.

use serde::Serialize;

use super::data::{field_at, is_filled, lookup, validate_value};
use super::definition::{Action, Step};
use super::error::Refusal;
use super::event::{Actor, Clock};
use super::expr::ExprInput;
use super::instance::{CaseStatus, Instance, LocalId, Token};
use super::windows::{self, WindowState};
use super::workflow::Workflow;
use crate::rules::{self, RuleContext, Severity};

/// One action of an active step, with whether it can be taken and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionAvailability {
    /// The token waiting at the step.
    pub token: LocalId,
    pub step: String,
    pub action: String,
    /// German label.
    pub title: String,
    pub allowed: bool,
    /// Why it cannot be taken (empty when allowed).
    pub reasons: Vec<Refusal>,
    /// Rule warnings that do not block (e.g. a recommendation of the Erlass).
    pub warnings: Vec<String>,
}

/// Every action of every active task, evaluated for this actor.
pub fn available_actions(
    workflow: &Workflow,
    instance: &Instance,
    actor: &Actor,
    clock: &Clock,
) -> Vec<ActionAvailability> {
    let mut out = Vec::new();
    for token in instance.active_steps() {
        let Some(Step::Task(task)) = workflow.step(&token.step) else {
            continue;
        };
        for (name, action) in &task.actions {
            let mut warnings = Vec::new();
            let reasons = assess(workflow, instance, token, name, actor, clock, &mut warnings)
                .err()
                .unwrap_or_default();
            out.push(ActionAvailability {
                token: token.id,
                step: token.step.clone(),
                action: name.clone(),
                title: action.title.clone(),
                allowed: reasons.is_empty(),
                reasons,
                warnings,
            });
        }
    }
    out
}

/// Checks one action; on refusal returns every reason, not just the first.
pub fn check_action<'w>(
    workflow: &'w Workflow,
    instance: &Instance,
    token: &Token,
    action_name: &str,
    actor: &Actor,
    clock: &Clock,
) -> Result<&'w Action, Vec<Refusal>> {
    assess(
        workflow,
        instance,
        token,
        action_name,
        actor,
        clock,
        &mut Vec::new(),
    )
}

/// The checks of [`check_action`]; rule warnings go to `warnings`, so each rule runs once.
fn assess<'w>(
    workflow: &'w Workflow,
    instance: &Instance,
    token: &Token,
    action_name: &str,
    actor: &Actor,
    clock: &Clock,
    warnings: &mut Vec<String>,
) -> Result<&'w Action, Vec<Refusal>> {
    if instance.status != CaseStatus::Running {
        return Err(vec![Refusal::CaseNotRunning {
            message: "Der Vorgang ist nicht in Bearbeitung.".into(),
        }]);
    }
    let task = match workflow.step(&token.step) {
        Some(Step::Task(task)) if !token.at_join => task,
        _ => {
            return Err(vec![Refusal::NotAvailable {
                message: format!(
                    "Im Schritt „{}“ gibt es keine Aktionen.",
                    workflow
                        .step(&token.step)
                        .map_or(token.step.as_str(), Step::title)
                ),
            }]);
        }
    };
    let Some(action) = task.actions.get(action_name) else {
        return Err(vec![Refusal::NotAvailable {
            message: format!(
                "Die Aktion „{action_name}“ ist im Schritt „{}“ nicht vorgesehen.",
                task.title
            ),
        }]);
    };

    let mut reasons = Vec::new();
    if !actor.has_role(&task.role) {
        let role_title = workflow.definition().role_title(&task.role);
        reasons.push(Refusal::RoleNotAllowed {
            role: task.role.clone(),
            message: format!("Diese Aktion ist der Rolle „{role_title}“ vorbehalten."),
        });
    }

    let schema = &workflow.definition().data;
    let mut missing = Vec::new();
    let mut labels = Vec::new();
    for path in &action.require {
        let path = path.as_field_path();
        let value = lookup(&instance.data, path);
        let field = field_at(schema, path);
        let mut invalid = Vec::new();
        if let (Some(field), Some(value)) = (field, value) {
            validate_value(field, value, "", &mut invalid);
        }
        if !is_filled(value) || !invalid.is_empty() {
            missing.push(path.to_string());
            labels.push(field.map_or(path.to_string(), |f| f.label.clone()));
        }
    }
    if !missing.is_empty() {
        reasons.push(Refusal::MissingData {
            paths: missing,
            message: format!("Bitte ergänzen Sie: {}.", labels.join(", ")),
        });
    }

    if let Some(window) = &action.within {
        let title = workflow.definition().window_title(window);
        let state = clock.windows.state(window, clock.today);
        if let Some(message) = windows::refusal_message(title, state) {
            reasons.push(Refusal::OutsideWindow {
                window: window.clone(),
                message,
            });
        } else if let WindowState::Open(span) = state {
            warnings.push(windows::open_until(title, span));
        } else {
            warnings.push(windows::unmaintained_warning(title));
        }
    }

    let input = ExprInput {
        data: &instance.data,
        applicant_key: &instance.applicant.key,
        applicant_kind: &instance.applicant.kind,
        today: clock.today,
    };
    for guard in &action.guard {
        let holds = workflow
            .compiled(&guard.expr)
            .map(|compiled| compiled.eval_bool(&input));
        if !matches!(holds, Some(Ok(true))) {
            reasons.push(Refusal::GuardFalse {
                expr: guard.expr.0.clone(),
                message: guard.message.clone(),
            });
        }
    }

    for rule in &action.rules {
        let context = RuleContext {
            data: &instance.data,
            applicant_kind: &instance.applicant.kind,
            applicant_name: &instance.applicant.name,
        };
        match rules::check(rule, &context) {
            Ok(findings) => {
                for finding in findings {
                    match finding.severity {
                        Severity::Error => reasons.push(Refusal::RuleViolated {
                            rule: finding.rule,
                            path: finding.path,
                            message: finding.message,
                        }),
                        Severity::Warning => warnings.push(finding.message),
                    }
                }
            }
            Err(_) => reasons.push(Refusal::RuleViolated {
                rule: rule.clone(),
                path: None,
                message: format!("Die Prüfregel „{rule}“ ist unbekannt."),
            }),
        }
    }

    if reasons.is_empty() {
        Ok(action)
    } else {
        Err(reasons)
    }
}
