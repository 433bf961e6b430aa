//! Why the engine refuses an event: specific enough to show as the reason on a disabled button.

use serde::{Deserialize, Serialize};

use super::expr::ExprError;
use super::instance::LocalId;

/// One reason why an action cannot be taken now (German `message` for people).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    /// The case is not running.
    CaseNotRunning { message: String },
    /// No such action at the token's step, or the token is elsewhere.
    NotAvailable { message: String },
    /// The actor lacks the step's role.
    RoleNotAllowed { role: String, message: String },
    /// Required data is missing or invalid.
    MissingData { paths: Vec<String>, message: String },
    /// A guard is false.
    GuardFalse { expr: String, message: String },
    /// Today lies outside every period entered for the action's time window.
    OutsideWindow { window: String, message: String },
    /// A domain rule found an error.
    RuleViolated {
        rule: String,
        path: Option<String>,
        message: String,
    },
}

impl Refusal {
    /// The German text shown to the person.
    pub fn message(&self) -> &str {
        match self {
            Refusal::CaseNotRunning { message }
            | Refusal::NotAvailable { message }
            | Refusal::RoleNotAllowed { message, .. }
            | Refusal::MissingData { message, .. }
            | Refusal::GuardFalse { message, .. }
            | Refusal::OutsideWindow { message, .. }
            | Refusal::RuleViolated { message, .. } => message,
        }
    }
}

/// Why an event could not be applied; the instance is unchanged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// The action is not possible now, for these reasons.
    #[error("Aktion nicht möglich: {}", reasons.iter().map(Refusal::message).collect::<Vec<_>>().join("; "))]
    Refused { reasons: Vec<Refusal> },
    /// The case is new/finished and cannot take this event.
    #[error("Der Vorgang ist nicht in Bearbeitung.")]
    NotRunning,
    /// `Start` on a case that already started.
    #[error("Der Vorgang wurde bereits gestartet.")]
    AlreadyStarted,
    /// No token with this id.
    #[error("Unbekanntes Token {0}.")]
    UnknownToken(LocalId),
    /// No timer with this id (it fired already or its step was left).
    #[error("Unbekannter oder bereits erledigter Timer {0}.")]
    UnknownTimer(LocalId),
    /// No invitation with this id.
    #[error("Unbekannte Einladung {0}.")]
    UnknownInvitation(LocalId),
    /// The invitation is answered already or its consultation is over.
    #[error("Die Beteiligung ist bereits beantwortet oder abgeschlossen.")]
    InvitationClosed(LocalId),
    /// The deadline has passed and the workflow does not accept late answers.
    #[error(
        "Die Frist für die Stellungnahme ist am {0} abgelaufen; eine Antwort ist nicht mehr möglich."
    )]
    DeadlinePassed(String),
    /// A deadline cannot be extended to that day (German, names the day and why).
    #[error("{0}")]
    DeadlineExtension(String),
    /// A partner cannot be invited to the consultation later (German, for the form's field).
    #[error("{0}")]
    ParticipantRefused(String),
    /// The case cannot be moved to that step (German, for the form's field).
    #[error("{0}")]
    RelocationRefused(String),
    /// No step waits for this message.
    #[error("Kein Schritt wartet auf die Nachricht „{0}“.")]
    NoReceiver(String),
    /// The change touches data the actor's roles may not change (see [`super::editors`]).
    #[error("{}", .0.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" "))]
    NotEditable(Vec<super::data::DataError>),
    /// Patch or data not a JSON object.
    #[error("Die Daten müssen ein JSON-Objekt sein.")]
    DataNotAnObject,
    /// An expression failed at run time.
    #[error("Ausdruck „{expr}“ in Schritt {step}: {error}")]
    Expression {
        step: String,
        expr: String,
        error: ExprError,
    },
    /// A legal period could not be computed (e.g. a date outside the calendar).
    #[error("Frist in Schritt {step} nicht berechenbar: {message}")]
    Deadline { step: String, message: String },
    /// The definition and the instance do not fit (a bug or a tampered instance).
    #[error("Definition und Vorgang passen nicht zusammen: {0}")]
    Inconsistent(String),
    /// More transitions in one event than any sane definition needs (a loop without a wait).
    #[error("Zu viele Übergänge in einem Schritt (Schleife ohne Wartepunkt bei {0}).")]
    Livelock(String),
}
