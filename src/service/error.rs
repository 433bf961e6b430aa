//! What a command can fail with; the web layer maps each kind to one HTTP status.

use crate::db::DbError;
use crate::engine::data::DataError;
use crate::engine::diagnostic::Diagnostic;
use crate::engine::{EngineError, Refusal};

/// Why a command did not happen; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The case, workflow or document does not exist (or must not be seen).
    #[error("{0}")]
    NotFound(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The case changed since the caller read it.
    #[error("Der Vorgang wurde inzwischen geändert (aktuelle Version {current}).")]
    VersionConflict { current: i64 },
    /// Data does not fit the workflow's data schema.
    #[error("Die Daten passen nicht zum Verfahren.")]
    InvalidData(Vec<DataError>),
    /// The engine refused an action, with every reason.
    #[error("Die Aktion ist nicht möglich.")]
    Refused(Vec<Refusal>),
    /// Any other engine refusal (closed invitation, unknown timer, …).
    #[error("{0}")]
    Engine(EngineError),
    /// A request's fields are invalid (every problem, each with its JSON pointer); used where no
    /// workflow data schema is involved, e.g. registering an organisation.
    #[error("Die Angaben sind ungültig.")]
    InvalidInput(Vec<DataError>),
    /// The request clashes with what is stored (e.g. a key that is already taken).
    #[error("{0}")]
    Conflict(String),
    /// A workflow definition is invalid.
    #[error("Die Workflow-Definition ist ungültig.")]
    InvalidDefinition(Vec<Diagnostic>),
    /// The request itself is malformed (e.g. an ambiguous action).
    #[error("{0}")]
    BadRequest(String),
    /// The command cannot be carried out as the stored facts stand (e.g. a partner body
    /// without any mail address); German message for the user.
    #[error("{0}")]
    Unprocessable(String),
    /// A mail or page template failed to render (a template the start-up check did not cover).
    #[error("Vorlagenfehler: {0}")]
    Template(String),
    /// Something that cannot fail with valid settings failed (e.g. signing a link).
    #[error("Interner Fehler: {0}")]
    Internal(String),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<EngineError> for ServiceError {
    fn from(error: EngineError) -> Self {
        match error {
            EngineError::Refused { reasons } => ServiceError::Refused(reasons),
            EngineError::NotEditable(errors) => ServiceError::InvalidData(errors),
            other => ServiceError::Engine(other),
        }
    }
}

impl From<diesel::result::Error> for ServiceError {
    fn from(error: diesel::result::Error) -> Self {
        ServiceError::Db(DbError::Query(error))
    }
}
