//! Effects in the state machine: what an action, a timer or an outcome does besides moving
//! tokens (set data, mails, escalations, started cases).

use serde_json::Value;

use crate::engine::data::{lookup, set_path};
use crate::engine::definition::{Effect, Recipient};
use crate::engine::error::EngineError;
use crate::engine::instance::{LocalId, StartedCase};
use crate::engine::outcome::{JournalEntry, MailTarget, SideEffect, TimerDeadline};

use super::Run;

impl Run<'_> {
    pub(super) fn run_effects(
        &mut self,
        effects: &[Effect],
        step: &str,
        token: LocalId,
        deadline: Option<&TimerDeadline>,
    ) -> Result<(), EngineError> {
        for effect in effects {
            match effect {
                Effect::Mail(mail) | Effect::Escalate(mail) => {
                    if matches!(effect, Effect::Escalate(_)) {
                        self.record(JournalEntry::Escalated {
                            step: step.to_string(),
                            template: mail.template.clone(),
                            to: mail.to.clone(),
                        });
                    }
                    let to = match &mail.to {
                        Recipient::Role(role) => MailTarget::Role { role: role.clone() },
                        Recipient::Applicant => MailTarget::Applicant,
                        Recipient::Leitung => MailTarget::Leitung,
                        Recipient::Participants => MailTarget::Organisations {
                            invitations: self.invitations_of(token, false),
                        },
                        Recipient::Unanswered => MailTarget::Organisations {
                            invitations: self.invitations_of(token, true),
                        },
                    };
                    let empty = matches!(&to, MailTarget::Organisations { invitations } if invitations.is_empty());
                    if !empty {
                        self.effects.push(SideEffect::SendMail {
                            template: mail.template.clone(),
                            step: step.to_string(),
                            to,
                            reminder: false,
                            deadline: deadline.cloned(),
                        });
                    }
                }
                Effect::Set(values) => {
                    for (path, value) in values {
                        self.set_data(step, path, value.clone());
                    }
                }
                Effect::StartCase(start) => {
                    let again = self
                        .instance
                        .started
                        .iter()
                        .any(|s| s.step == step && s.workflow == start.workflow);
                    if again {
                        self.record(JournalEntry::CaseStartOmitted {
                            step: step.to_string(),
                            workflow: start.workflow.clone(),
                        });
                        continue;
                    }
                    self.instance.started.push(StartedCase {
                        step: step.to_string(),
                        workflow: start.workflow.clone(),
                    });
                    let mut data = Value::Object(Default::default());
                    for (target, source) in &start.data {
                        if let Some(value) = lookup(&self.instance.data, source.as_field_path()) {
                            set_path(&mut data, target, value.clone());
                        }
                    }
                    self.record(JournalEntry::CaseStartRequested {
                        step: step.to_string(),
                        workflow: start.workflow.clone(),
                    });
                    self.effects.push(SideEffect::StartCase {
                        step: step.to_string(),
                        workflow: start.workflow.clone(),
                        data,
                    });
                }
            }
        }
        Ok(())
    }
}
