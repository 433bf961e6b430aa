//! What the engine returns: the new state, journal entries and side effects for the shell.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::definition::Recipient;
use super::instance::{Instance, LocalId, TimerPurpose, Votum};

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

/// Why a consultation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompletionReason {
    /// Every participant answered.
    AllAnswered,
    /// The deadline passed.
    Deadline,
    /// Nobody was to be invited.
    NoParticipants,
}

/// One journal entry: what happened, with its details (serialised with a `kind` tag).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JournalEntry {
    /// The case started on this workflow version.
    CaseStarted {
        actor: String,
        workflow: String,
        version: String,
        applicant: String,
        /// The Aktenzeichen of the case that started this one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        origin: Option<String>,
    },
    /// A person took an action.
    ActionTaken {
        step: String,
        action: String,
        actor: String,
        token: LocalId,
    },
    /// Data changed by a JSON merge patch.
    DataChanged {
        actor: String,
        patch: serde_json::Value,
    },
    /// The definition set a data field (action `set`, `on_enter` `set`).
    DataSet {
        step: String,
        path: String,
        value: serde_json::Value,
    },
    /// A partner answered.
    AnswerRecorded {
        step: String,
        invitation: LocalId,
        participant: String,
        votum: Votum,
        answered_by: String,
        /// 1 for the first answer, higher for amendments.
        #[serde(default = "first_version")]
        version: u32,
        /// After the deadline (accepted because the workflow allows late answers).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        late: bool,
        /// The day it reached the office, for a Stellungnahme the office entered later.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        received_on: Option<NaiveDate>,
    },
    /// One partner's deadline was extended.
    DeadlineExtended {
        step: String,
        invitation: LocalId,
        participant: String,
        from: NaiveDate,
        until: NaiveDate,
        actor: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// One more partner was invited to a running consultation, with its own deadline.
    ParticipantAdded {
        step: String,
        invitation: LocalId,
        participant: String,
        deadline: NaiveDate,
        actor: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The office withdrew an open invitation; the partner is no longer asked.
    ParticipantWithdrawn {
        step: String,
        invitation: LocalId,
        participant: String,
        actor: String,
        reason: String,
    },
    /// Invitations went out with this deadline.
    ConsultationOpened { step: String, deadline: NaiveDate },
    /// The consultation ended.
    ConsultationCompleted {
        step: String,
        reason: CompletionReason,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        unanswered: Vec<String>,
    },
    /// A named message arrived.
    MessageReceived { message: String, actor: String },
    /// A token arrived at a step.
    StepEntered { step: String, token: LocalId },
    /// A token left a step (`via` an action, a timer, the deadline, …).
    StepLeft {
        step: String,
        token: LocalId,
        via: String,
    },
    /// A decision chose its branch.
    DecisionTaken {
        step: String,
        to: String,
        because: String,
    },
    /// A parallel forked.
    ParallelStarted {
        step: String,
        fork: LocalId,
        branches: Vec<String>,
    },
    /// All branches of a fork arrived at the join.
    JoinCompleted { step: String, fork: LocalId },
    /// A timer could not be scheduled (its date field is empty).
    TimerNotScheduled { step: String, timer: String },
    /// A timer fired.
    TimerFired {
        step: String,
        timer: LocalId,
        purpose: TimerPurpose,
        due: NaiveDate,
    },
    /// An escalation was raised.
    Escalated {
        step: String,
        template: String,
        to: Recipient,
    },
    /// Another case is to be started.
    CaseStartRequested { step: String, workflow: String },
    /// The step had started a case of `workflow` before (the case was moved back and passed it
    /// again): no second one is started.
    CaseStartOmitted { step: String, workflow: String },
    /// An administrator moved the case to the task step `to`, leaving the steps `from` (none
    /// for a case that had ended, which then runs again: `reopened` names how it had ended).
    CaseRelocated {
        from: Vec<String>,
        to: String,
        actor: String,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reopened: Option<String>,
    },
    /// The case was withdrawn.
    CaseWithdrawn {
        actor: String,
        reason: Option<String>,
        outcome: String,
    },
    /// The case reached its end.
    CaseCompleted { outcome: String },
}

impl JournalEntry {
    /// The stable kind name stored in `case_events.kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::CaseStarted { .. } => "case_started",
            Self::ActionTaken { .. } => "action_taken",
            Self::DataChanged { .. } => "data_changed",
            Self::DataSet { .. } => "data_set",
            Self::AnswerRecorded { .. } => "answer_recorded",
            Self::DeadlineExtended { .. } => "deadline_extended",
            Self::ParticipantAdded { .. } => "participant_added",
            Self::ParticipantWithdrawn { .. } => "participant_withdrawn",
            Self::ConsultationOpened { .. } => "consultation_opened",
            Self::ConsultationCompleted { .. } => "consultation_completed",
            Self::MessageReceived { .. } => "message_received",
            Self::StepEntered { .. } => "step_entered",
            Self::StepLeft { .. } => "step_left",
            Self::DecisionTaken { .. } => "decision_taken",
            Self::ParallelStarted { .. } => "parallel_started",
            Self::JoinCompleted { .. } => "join_completed",
            Self::TimerNotScheduled { .. } => "timer_not_scheduled",
            Self::TimerFired { .. } => "timer_fired",
            Self::Escalated { .. } => "escalated",
            Self::CaseStartRequested { .. } => "case_start_requested",
            Self::CaseStartOmitted { .. } => "case_start_omitted",
            Self::CaseRelocated { .. } => "case_relocated",
            Self::CaseWithdrawn { .. } => "case_withdrawn",
            Self::CaseCompleted { .. } => "case_completed",
        }
    }

    /// The details as JSON (everything but the kind), for the journal table.
    pub fn payload(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let Some(object) = value.as_object_mut() {
            object.remove("kind");
        }
        value
    }
}

/// Who fires a timer, and when.
///
/// Flow timers move a case (a deadline ends a consultation, a boundary timer leads elsewhere)
/// and fire at the start of their day. Reminder timers only send mail; they go out with the
/// `reminders` job on working days at office hours, so nobody is mailed at midnight or on a
/// Sunday, and each still fires once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    #[default]
    Flow,
    Reminder,
}

impl TimerKind {
    /// The value of `timers.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            TimerKind::Flow => "flow",
            TimerKind::Reminder => "reminder",
        }
    }
}

/// The last day of a legal period and, when § 193 BGB moved it, why (German).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerDeadline {
    pub end: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Who a mail goes to, resolved by the engine as far as it can.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MailTarget {
    /// Members of a role (the shell resolves addresses).
    Role { role: String },
    /// The applicant's functional mailbox.
    Applicant,
    /// The head of the applicant's office (Leitung).
    Leitung,
    /// These organisations (by key), with the invitation each one answers through.
    Organisations { invitations: Vec<(LocalId, String)> },
}

/// Something the shell must carry out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum SideEffect {
    /// Persist a timer that fires at the start of `due` (flow) or with the next reminder run.
    ScheduleTimer {
        timer: LocalId,
        step: String,
        due: NaiveDate,
        #[serde(default)]
        kind: TimerKind,
        /// The legal deadline the timer is about, for deadline lists and calendars.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline: Option<TimerDeadline>,
    },
    /// Remove a timer that has not fired.
    CancelTimer { timer: LocalId },
    /// Invite an organisation to a consultation (mail with a personal link).
    Invite {
        invitation: LocalId,
        step: String,
        participant: String,
        deadline: NaiveDate,
        /// Why the deadline falls on that day, in German, when it was moved (§ 193 BGB).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline_reason: Option<String>,
        template: String,
    },
    /// An invitation's deadline was extended: store it and tell the partner, with a link that
    /// lasts until the new deadline.
    ExtendInvitation {
        invitation: LocalId,
        deadline: NaiveDate,
    },
    /// The office withdrew the invitation, or the whole case ended while it was open: store it,
    /// revoke its links at once and tell the partner that no Stellungnahme is needed.
    WithdrawInvitation {
        invitation: LocalId,
        /// How the case's end reads („Zurückgezogen“, „Eingestellt“) when the invitation ends
        /// with the case, so that the mail says why; absent for a single invitation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        case_ended: Option<String>,
    },
    /// The consultation is over: revoke links after the grace period.
    CloseInvitation { invitation: LocalId },
    /// The case ended while a step of `role` was active (the withdrawal): tell that role that
    /// the step at `step` no longer waits for it, with how the case ended (`outcome`, its title).
    TellCaseEnded {
        role: String,
        step: String,
        outcome: String,
    },
    /// An administrator moved the case away from a step of `role` (`Event::Relocate`): tell
    /// that role that the step at `step` no longer waits for it and where the case now stands
    /// (`continues_at`, a task).
    TellStepDropped {
        role: String,
        step: String,
        continues_at: String,
    },
    /// Send a mail rendered from a template.
    SendMail {
        template: String,
        step: String,
        to: MailTarget,
        /// A reminder before a consultation deadline (counted per invitation).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        reminder: bool,
        /// The deadline the mail is about (a timer's), for the template's `frist`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline: Option<TimerDeadline>,
    },
    /// Start a case of another workflow for the same applicant.
    StartCase {
        /// The step whose effect asks for it, recorded with the link between the cases.
        step: String,
        workflow: String,
        data: serde_json::Value,
    },
    /// The case is finished (completed or withdrawn).
    Finished { outcome: String },
}

fn first_version() -> u32 {
    1
}
