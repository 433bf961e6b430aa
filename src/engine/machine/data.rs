//! Case data in the state machine: merge patches with the editors' check, data a message
//! brings, and values set by effects.

use serde_json::Value;

use crate::engine::data::{DataError, escape_pointer, merge_patch, set_path};
use crate::engine::definition::DataPath;
use crate::engine::error::EngineError;
use crate::engine::event::Actor;
use crate::engine::outcome::JournalEntry;

use super::Run;

impl Run<'_> {
    /// Merges a person's patch into the data: refused unless a step of one of their roles is
    /// active, and for the fields those roles may not change.
    pub(super) fn patch_data(&mut self, actor: &Actor, patch: &Value) -> Result<(), EngineError> {
        if !patch.is_object() {
            return Err(EngineError::DataNotAnObject);
        }
        let acting = crate::engine::editors::at_work(self.workflow, &self.instance, &actor.roles)
            .map_err(|refusal| EngineError::Refused {
            reasons: vec![refusal],
        })?;
        let before = self.instance.data.clone();
        merge_patch(&mut self.instance.data, patch);
        self.check_editors(&acting, &before)?;
        self.record(JournalEntry::DataChanged {
            actor: actor.id.clone(),
            patch: patch.clone(),
        });
        Ok(())
    }

    /// Merges the data a message carries, before the steps waiting for it move on (a decision
    /// behind them reads it). Every field the patch touches must be one the message declares,
    /// or lie inside one; the fields' `editors` do not apply, the declaration is the permission.
    pub(super) fn message_data(
        &mut self,
        name: &str,
        actor: &Actor,
        patch: &Value,
    ) -> Result<(), EngineError> {
        let Value::Object(object) = patch else {
            return Err(EngineError::DataNotAnObject);
        };
        let definition = self.workflow.definition();
        let declared: Vec<&DataPath> = definition
            .messages
            .get(name)
            .map(|message| message.data.iter().collect())
            .unwrap_or_default();
        let mut touched = Vec::new();
        touched_paths(object, &mut Vec::new(), &mut touched);
        // By segments, so that a key holding a dot is no path into a declared group.
        let carried = |path: &[&str]| {
            declared
                .iter()
                .any(|field| path.starts_with(&field.segments().collect::<Vec<_>>()))
        };
        let title = definition.message_title(name);
        let errors: Vec<DataError> = touched
            .iter()
            .filter(|path| !carried(path))
            .map(|path| DataError {
                pointer: path
                    .iter()
                    .map(|s| format!("/{}", escape_pointer(s)))
                    .collect(),
                message: if declared.is_empty() {
                    format!("Die Nachricht „{title}“ trägt keine Daten.")
                } else {
                    format!(
                        "Die Nachricht „{title}“ setzt nur {}, nicht „{}“.",
                        declared
                            .iter()
                            .map(|field| format!("„{}“", field.as_field_path()))
                            .collect::<Vec<_>>()
                            .join(", "),
                        path.join(".")
                    )
                },
            })
            .collect();
        if !errors.is_empty() {
            return Err(EngineError::NotEditable(errors));
        }
        if object.is_empty() {
            return Ok(());
        }
        merge_patch(&mut self.instance.data, patch);
        self.record(JournalEntry::DataChanged {
            actor: actor.id.clone(),
            patch: patch.clone(),
        });
        Ok(())
    }

    /// Refuses a change from `before` to the current data that touches fields `roles` may not
    /// change (the event fails as a whole, so nothing of it is kept). For a running case these
    /// are the actor's roles at work ([`crate::engine::editors::at_work`]).
    pub(super) fn check_editors(
        &self,
        roles: &[String],
        before: &Value,
    ) -> Result<(), EngineError> {
        let errors = crate::engine::editors::refused_changes(
            self.workflow.definition(),
            roles,
            before,
            &self.instance.data,
        );
        if errors.is_empty() {
            Ok(())
        } else {
            Err(EngineError::NotEditable(errors))
        }
    }

    pub(super) fn set_data(&mut self, step: &str, path: &str, value: Value) {
        if set_path(&mut self.instance.data, path, value.clone()) {
            self.record(JournalEntry::DataSet {
                step: step.to_string(),
                path: path.to_string(),
                value,
            });
        }
    }
}

/// The paths (as segments) a merge patch sets or removes: its leaves, an object counting
/// through its members (an empty object is a leaf of its own).
fn touched_paths<'a>(
    object: &'a serde_json::Map<String, Value>,
    prefix: &mut Vec<&'a str>,
    out: &mut Vec<Vec<&'a str>>,
) {
    for (key, value) in object {
        prefix.push(key);
        match value {
            Value::Object(members) if !members.is_empty() => touched_paths(members, prefix, out),
            _ => out.push(prefix.clone()),
        }
        prefix.pop();
    }
}
