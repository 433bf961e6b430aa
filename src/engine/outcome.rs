//! What the engine returns: the new state, journal entries and side effects for the shell.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::instance::{Instance, LocalId};

/// The result of one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The case after the event.
    pub instance: Instance,
    /// What happened, in order, for the tamper-evident journal.
    pub journal: Vec<JournalEntry>,
    /// What the shell must do (in the same transaction: timers, outbox rows, invitations).
    pub effects: Vec<SideEffect>,
}

/// One journal entry: a kind and its details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Stable kind (`step_entered`, `action_taken`, …).
    pub kind: String,
    /// Details of the entry.
    pub payload: serde_json::Value,
}

/// Who a mail goes to, resolved by the engine as far as it can.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MailTarget {
    /// Members of a role (the shell resolves addresses).
    Role { role: String },
    /// The applicant's functional mailbox.
    Applicant,
    /// These organisations (by key), with the invitation each one answers through.
    Organisations { invitations: Vec<(LocalId, String)> },
}

/// Something the shell must carry out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum SideEffect {
    /// Persist a timer that fires at the start of `due`.
    ScheduleTimer {
        timer: LocalId,
        step: String,
        due: NaiveDate,
    },
    /// Remove a timer that has not fired.
    CancelTimer { timer: LocalId },
    /// Invite an organisation to a consultation (mail with a personal link).
    Invite {
        invitation: LocalId,
        step: String,
        participant: String,
        deadline: NaiveDate,
        template: String,
    },
    /// The consultation is over: revoke links after the grace period.
    CloseInvitation { invitation: LocalId },
    /// Send a mail rendered from a template.
    SendMail {
        template: String,
        step: String,
        to: MailTarget,
    },
    /// Start a case of another workflow for the same applicant.
    StartCase {
        workflow: String,
        data: serde_json::Value,
    },
    /// The case is finished (completed or withdrawn).
    Finished { outcome: String },
}
