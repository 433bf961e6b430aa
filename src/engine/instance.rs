//! The state of one running case, as the engine sees it; serialises to JSON and back unchanged.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Identifies a token, timer or invitation within one case (never reused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LocalId(pub u64);

impl std::fmt::Display for LocalId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a case stands as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Created, start event not yet processed.
    New,
    /// Tokens are moving.
    Running,
    /// Reached an end; `outcome` says which.
    Completed,
    /// Withdrawn by the applicant.
    Withdrawn,
}

/// The organisation that owns the case (the Antragsteller).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applicant {
    /// AGS or key.
    pub key: String,
    /// Organisation kind as stored (`kreis`, `kreisfreie_stadt`, `gemeinde`, …).
    pub kind: String,
    /// Name as registered („Coesfeld“); text shows [`Applicant::designation`].
    pub name: String,
}

impl Applicant {
    /// The name as written in text („Kreis Coesfeld“), see [`crate::designation`].
    pub fn designation(&self) -> std::borrow::Cow<'_, str> {
        crate::designation::designation(&self.kind, &self.name)
    }
}

/// The parallel a token belongs to: which fork and which branch of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForkFrame {
    /// Unique id of this execution of the parallel step.
    pub fork: LocalId,
    /// The parallel step.
    pub parallel: String,
    /// Index of the branch.
    pub branch: usize,
}

/// A token: one thread of control resting at a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    pub id: LocalId,
    /// The step it rests at.
    pub step: String,
    /// When it arrived there.
    pub since: DateTime<Utc>,
    /// The calendar day it arrived (start of legal periods counted from entry).
    pub entered_on: NaiveDate,
    /// Enclosing parallels, innermost last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forks: Vec<ForkFrame>,
    /// True while it waits at a join for its sibling branches.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub at_join: bool,
}

/// Why a timer exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TimerPurpose {
    /// A boundary timer declared on the step (by name).
    Boundary { name: String },
    /// The answer deadline of a consultation.
    ConsultationDeadline,
    /// A reminder before the consultation deadline (index into `remind`): to every partner
    /// still open with that deadline, or to `invitation` alone before its extended deadline.
    ConsultationReminder {
        index: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        invitation: Option<LocalId>,
    },
    /// The end of a wait step (date or period).
    WaitOver,
}

/// A scheduled timer; removed from the instance when it fires or its step is left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerState {
    pub id: LocalId,
    /// The token whose step the timer is attached to.
    pub token: LocalId,
    /// The step.
    pub step: String,
    pub purpose: TimerPurpose,
    /// The day at whose start it fires.
    pub due: NaiveDate,
    /// The legal deadline it is about; its mails name it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<super::outcome::TimerDeadline>,
}

/// A partner's answer (Stellungnahme) to a consultation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// Zustimmung, Zustimmung mit Hinweisen, Bedenken, Keine Stellungnahme.
    pub votum: Votum,
    /// The Stellungnahme text.
    #[serde(default)]
    pub text: String,
    /// Name and function of the person answering.
    pub answered_by: String,
    /// Document id of an attachment, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<String>,
    /// The day a Stellungnahme that came by letter, e-mail or phone reached the office, when the
    /// office enters it later: whether it was in time is decided by that day (a period ends at
    /// 24:00 of its last day, § 188 BGB), not by the day it was entered. None for an answer
    /// through the partner's link, which is received when it is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_on: Option<NaiveDate>,
}

/// The vote of a Stellungnahme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Votum {
    Zustimmung,
    ZustimmungMitHinweisen,
    Bedenken,
    KeineStellungnahme,
}

/// Where an invitation stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum InvitationStatus {
    /// Waiting for the answer.
    Open,
    /// Answered; `version` counts amendments (1 = first answer), `late` marks an answer after
    /// the deadline that the workflow accepts.
    Answered {
        answer: Answer,
        at: DateTime<Utc>,
        #[serde(default = "first_version")]
        version: u32,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        late: bool,
    },
    /// The consultation closed without an answer (counts as „keine Stellungnahme“).
    Expired,
    /// The office withdrew the invitation (a body invited by mistake): the partner is no longer
    /// asked, and its silence counts for nothing.
    Withdrawn,
}

fn first_version() -> u32 {
    1
}

/// One participant's invitation in one consultation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationState {
    pub id: LocalId,
    /// The consultation step.
    pub step: String,
    /// The token that entered the consultation.
    pub token: LocalId,
    /// AGS or key of the invited organisation.
    pub participant: String,
    /// Last day to answer.
    pub deadline: NaiveDate,
    #[serde(flatten)]
    pub status: InvitationStatus,
}

/// Everything the engine knows about a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// Workflow key.
    pub workflow: String,
    /// Content hash of the definition version the case runs on (it never changes).
    pub workflow_version: String,
    pub status: CaseStatus,
    /// Set when completed or withdrawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    pub applicant: Applicant,
    /// The case data (a JSON object).
    pub data: serde_json::Value,
    pub tokens: Vec<Token>,
    pub timers: Vec<TimerState>,
    pub invitations: Vec<InvitationState>,
    /// The cases this one started, by step: a step passed again (after the administration
    /// moved the case back) does not start a second one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub started: Vec<StartedCase>,
    /// Next free [`LocalId`].
    pub next_id: u64,
}

/// A case of another workflow that a step of this one started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartedCase {
    /// The step whose `start_case` effect started it.
    pub step: String,
    /// The workflow of the started case.
    pub workflow: String,
}

impl Instance {
    /// A case that exists but has not started (the start event moves it).
    pub fn new(workflow: &str, workflow_version: &str, applicant: Applicant) -> Self {
        Self {
            workflow: workflow.to_string(),
            workflow_version: workflow_version.to_string(),
            status: CaseStatus::New,
            outcome: None,
            applicant,
            data: serde_json::Value::Object(Default::default()),
            tokens: Vec::new(),
            timers: Vec::new(),
            invitations: Vec::new(),
            started: Vec::new(),
            next_id: 1,
        }
    }

    /// A fresh id.
    pub(crate) fn allocate_id(&mut self) -> LocalId {
        let id = LocalId(self.next_id);
        self.next_id += 1;
        id
    }

    /// The token with this id.
    pub fn token(&self, id: LocalId) -> Option<&Token> {
        self.tokens.iter().find(|t| t.id == id)
    }

    /// Steps where tokens currently wait (excluding tokens parked at joins).
    pub fn active_steps(&self) -> impl Iterator<Item = &Token> {
        self.tokens.iter().filter(|t| !t.at_join)
    }
}
