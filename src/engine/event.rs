//! What can happen to a case: the engine's inputs.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::instance::{Answer, LocalId};
use super::windows::TimeWindows;

/// The time of an event, passed in by the caller (the engine never reads the clock), with the
/// time windows that were entered for it (the engine never reads the database either).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    /// The instant, for the journal.
    pub now: DateTime<Utc>,
    /// The calendar day at the authority (Europe/Berlin), for legal periods.
    pub today: NaiveDate,
    /// The periods of the windows the case's actions are bound to (`within`); empty where the
    /// caller looked none up, which leaves such actions unchecked.
    #[serde(default)]
    pub windows: TimeWindows,
}

/// Who does something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// User id, e-mail or `system`; recorded in the journal.
    pub id: String,
    /// Workflow roles the actor holds for this case.
    pub roles: Vec<String>,
}

impl Actor {
    /// The actor for timers and other automatic events.
    pub fn system() -> Self {
        Self {
            id: "system".into(),
            roles: Vec::new(),
        }
    }

    /// Whether this is the actor of automatic events ([`Actor::system`]); user ids are numbers
    /// or e-mail addresses, never this word.
    pub fn is_system(&self) -> bool {
        self.id == "system"
    }

    /// Whether the actor holds the role.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// An input to [`super::step`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Start the case with initial data.
    Start {
        actor: Actor,
        #[serde(default)]
        data: serde_json::Value,
        /// The Aktenzeichen of the case whose step started this one, for its journal.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        origin: Option<String>,
    },
    /// Take an action on the token's task, after applying `data` as a JSON merge patch.
    Act {
        token: LocalId,
        action: String,
        actor: Actor,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<serde_json::Value>,
    },
    /// Change case data without moving (a JSON merge patch).
    ChangeData {
        actor: Actor,
        data: serde_json::Value,
    },
    /// A partner answered an invitation.
    Answer { invitation: LocalId, answer: Answer },
    /// The office extends one partner's deadline (§ 31 (7) VwVfG NRW: a period the authority
    /// set can be extended, also once it has run out), usually at the partner's request.
    ExtendDeadline {
        invitation: LocalId,
        /// The new last day; a working day the authority names, so nothing shifts.
        until: NaiveDate,
        actor: Actor,
        /// Why, for the file (the partner's request, a committee meeting).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The office invites one more partner to a running consultation (one forgotten at the
    /// start, or a further local partner the Schwerpunkte call for, Nr. 2 des Erlasses). The
    /// partner gets the step's full period, counted from its own invitation.
    AddParticipant {
        /// The consultation step.
        step: String,
        /// Key of the organisation to invite.
        participant: String,
        actor: Actor,
        /// Why, for the file.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The office withdraws an open invitation of a running consultation, usually one sent to
    /// the wrong body: the partner is told, its link ends, and the consultation no longer waits
    /// for it.
    WithdrawParticipant {
        invitation: LocalId,
        actor: Actor,
        /// Why, for the file (required: the file must say why a partner was asked and then not).
        reason: String,
    },
    /// A scheduled timer is due.
    TimerFired { timer: LocalId },
    /// A named message arrived for waiting steps, with the data it carries (a merge patch
    /// limited to the fields the message declares).
    Message {
        name: String,
        actor: Actor,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<serde_json::Value>,
    },
    /// An administrator moves the case to a task step, to mend what the workflow's own actions
    /// cannot: a wrong action taken, a case ended or withdrawn by mistake (what BPMN engines
    /// call process instance modification). Every step the case stands at is left, open
    /// invitations are withdrawn, and an ended case runs again.
    Relocate {
        /// The task step the case continues at.
        step: String,
        actor: Actor,
        /// Why, for the file (required: the case leaves its workflow's path).
        reason: String,
    },
    /// The applicant withdraws the case.
    Withdraw {
        actor: Actor,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}
