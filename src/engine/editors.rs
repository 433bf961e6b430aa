//! Who may change which case data. A field's `editors` hold for it and the fields inside it;
//! where no field on the way names any, the workflow's `data_editors` hold; where neither does,
//! every role that may change the case's data at all. An administrator holds every role.
//!
//! Only changes count: a form or a patch that sends a locked field's value unchanged passes, so a
//! client never has to know which fields to leave out.
//!
//! And only who is at work changes the data: a person's roles count only while a task or
//! consultation of that role is active. The Antrag stays as submitted while the
//! Bewilligungsbehörde examines it, and the authority's decision is written in its own step.

use indexmap::IndexMap;
use serde_json::Value;

use super::data::DataError;
use super::definition::{Definition, Field};
use super::error::Refusal;
use super::instance::Instance;
use super::workflow::Workflow;

/// The roles that may change `field`, given those it inherits (`None`: no restriction).
pub fn effective<'a>(field: &'a Field, inherited: Option<&'a [String]>) -> Option<&'a [String]> {
    field.editors.as_deref().or(inherited)
}

/// Whether someone holding `roles` may change a field restricted to `editors`.
pub fn may_edit(editors: Option<&[String]>, roles: &[String]) -> bool {
    editors.is_none_or(|editors| editors.iter().any(|e| roles.contains(e)))
}

/// Whether the field or one inside it (a group's fields, a list's items) names `editors`.
pub fn names_editors(field: &Field) -> bool {
    field.editors.is_some()
        || field
            .fields
            .iter()
            .flat_map(IndexMap::values)
            .any(names_editors)
        || field.items.as_deref().is_some_and(names_editors)
}

/// Of `roles`, those whose task or consultation is active: the roles in which a person may
/// change the case data now. When none of them is, why not, as the refusal a person reads.
pub fn at_work(
    workflow: &Workflow,
    instance: &Instance,
    roles: &[String],
) -> Result<Vec<String>, Refusal> {
    let at_work = roles_at_work(workflow, instance);
    let acting: Vec<String> = roles
        .iter()
        .filter(|role| at_work.contains(&role.as_str()))
        .cloned()
        .collect();
    if !acting.is_empty() {
        return Ok(acting);
    }
    let definition = workflow.definition();
    let steps: Vec<String> = instance
        .active_steps()
        .filter_map(|token| workflow.step(&token.step))
        .filter(|step| step.role().is_some())
        .map(|step| format!("„{}“", step.title()))
        .collect();
    let message = if at_work.is_empty() {
        "Zurzeit ist kein Schritt in Bearbeitung; die Angaben können nicht geändert werden."
            .to_string()
    } else {
        let titles: Vec<&str> = at_work
            .iter()
            .map(|role| definition.role_title(role))
            .collect();
        let running = match steps.as_slice() {
            [one] => format!("der Schritt {one} läuft"),
            more => format!("die Schritte {} laufen", more.join(", ")),
        };
        format!(
            "Solange {running}, ändert die Angaben nur: {}.",
            titles.join(", ")
        )
    };
    Err(Refusal::RoleNotAllowed {
        role: at_work.join(", "),
        message,
    })
}

/// The roles of the active tasks and consultations, each once.
fn roles_at_work<'w>(workflow: &'w Workflow, instance: &Instance) -> Vec<&'w str> {
    let mut roles: Vec<&str> = Vec::new();
    for token in instance.active_steps() {
        if let Some(role) = workflow.step(&token.step).and_then(|step| step.role())
            && !roles.contains(&role)
        {
            roles.push(role);
        }
    }
    roles
}

/// Every field whose value differs between `old` and `new` and which `roles` may not change,
/// as a German error at the field's pointer.
pub fn refused_changes(
    definition: &Definition,
    roles: &[String],
    old: &Value,
    new: &Value,
) -> Vec<DataError> {
    let mut errors = Vec::new();
    walk(
        definition,
        &definition.data,
        definition.data_editors.as_deref(),
        roles,
        old,
        new,
        "",
        &mut errors,
    );
    errors
}

#[allow(clippy::too_many_arguments)]
fn walk(
    definition: &Definition,
    fields: &IndexMap<String, Field>,
    inherited: Option<&[String]>,
    roles: &[String],
    old: &Value,
    new: &Value,
    pointer: &str,
    errors: &mut Vec<DataError>,
) {
    for (key, field) in fields {
        let before = old.get(key).filter(|v| !v.is_null());
        let after = new.get(key).filter(|v| !v.is_null());
        if before == after {
            continue;
        }
        let editors = effective(field, inherited);
        let here = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
        let inner = field
            .fields
            .as_ref()
            .filter(|_| before.is_none_or(Value::is_object) && after.is_none_or(Value::is_object));
        match inner {
            // A group: the change is judged field by field, so that a role may fill in its part.
            Some(inner) => walk(
                definition,
                inner,
                editors,
                roles,
                before.unwrap_or(&Value::Null),
                after.unwrap_or(&Value::Null),
                &here,
                errors,
            ),
            None if !may_edit(editors, roles) => errors.push(DataError {
                pointer: here,
                message: refusal(definition, &field.label, editors.unwrap_or_default()),
            }),
            None => {}
        }
    }
}

fn refusal(definition: &Definition, label: &str, editors: &[String]) -> String {
    let titles: Vec<String> = editors
        .iter()
        .map(|role| format!("„{}“", definition.role_title(role)))
        .collect();
    let who = match titles.as_slice() {
        [one] => format!("nur die Rolle {one}"),
        _ => format!("nur die Rollen {}", titles.join(", ")),
    };
    format!("„{label}“ ändert {who}; Ihre Änderung wurde nicht übernommen.")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn definition() -> Definition {
        crate::engine::load::parse_definition(
            "w.yaml",
            r#"
workflow: w
title: W
roles:
  koordination: { title: Koordination }
  bewilligung: { title: Bewilligungsbehörde }
data_editors: [koordination]
data:
  name: { type: text, label: Name }
  vorlage:
    type: group
    label: Vorlage
    fields:
      datum: { type: date, label: Vorgelegt am }
      hinweise: { type: long_text, label: Hinweise, editors: [bewilligung] }
  bescheid:
    type: group
    label: Bescheid
    editors: [bewilligung]
    fields:
      datum: { type: date, label: Datum des Bescheids }
start: a
steps:
  a: { type: end, title: A, outcome: ok }
"#,
        )
        .expect("the test definition parses")
    }

    fn roles(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn pointers(errors: &[DataError]) -> Vec<&str> {
        errors.iter().map(|e| e.pointer.as_str()).collect()
    }

    #[test]
    fn each_role_changes_its_own_fields_only() {
        let def = definition();
        let old = json!({"name": "A", "vorlage": {"datum": "2026-01-01"}});
        let by_coordinator = json!({"name": "B", "vorlage": {"datum": "2026-02-01", "hinweise": "x"}, "bescheid": {"datum": "2026-03-01"}});
        let errors = refused_changes(&def, &roles(&["koordination"]), &old, &by_coordinator);
        assert_eq!(pointers(&errors), ["/vorlage/hinweise", "/bescheid/datum"]);
        assert_eq!(
            errors[1].message,
            "„Datum des Bescheids“ ändert nur die Rolle „Bewilligungsbehörde“; Ihre Änderung wurde nicht übernommen."
        );
        let errors = refused_changes(&def, &roles(&["bewilligung"]), &old, &by_coordinator);
        assert_eq!(pointers(&errors), ["/name", "/vorlage/datum"]);
        // An administrator holds every role.
        let all = roles(&["koordination", "bewilligung"]);
        assert!(refused_changes(&def, &all, &old, &by_coordinator).is_empty());
    }

    #[test]
    fn unchanged_values_and_cleared_nulls_are_not_changes() {
        let def = definition();
        let old = json!({"name": "A", "bescheid": {"datum": "2026-03-01"}});
        let same = json!({"name": "A", "bescheid": {"datum": "2026-03-01"}, "vorlage": null});
        assert!(refused_changes(&def, &roles(&["koordination"]), &old, &same).is_empty());
        // Removing a locked value is a change as well.
        let removed = json!({"name": "A"});
        let errors = refused_changes(&def, &roles(&["koordination"]), &old, &removed);
        assert_eq!(pointers(&errors), ["/bescheid/datum"]);
    }

    #[test]
    fn without_editors_every_role_may_change_the_data() {
        let mut def = definition();
        def.data_editors = None;
        let old = json!({});
        let new = json!({"name": "B", "vorlage": {"datum": "2026-02-01"}});
        assert!(refused_changes(&def, &roles(&["bewilligung"]), &old, &new).is_empty());
        assert!(refused_changes(&def, &[], &old, &new).is_empty());
    }

    #[test]
    fn a_group_replaced_by_a_scalar_is_judged_as_a_whole() {
        let def = definition();
        let errors = refused_changes(
            &def,
            &roles(&["koordination"]),
            &json!({}),
            &json!({"bescheid": "kein Objekt"}),
        );
        assert_eq!(pointers(&errors), ["/bescheid"]);
    }
}
