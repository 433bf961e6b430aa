//! Zurücknahme einer Beteiligung: the office withdraws an open invitation, usually one sent to
//! the wrong body (the Jugendamt of the neighbouring Kreis, a Verband twice under two names).
//! The engine stops counting it and closes the consultation after the deadlines that still
//! count; the partner is told that no Stellungnahme is needed, and its link no longer shows the
//! case. The invitation stays in the matrix as „zurückgenommen“, the reason in the journal.

use super::ServiceError;
use super::cases::{self, CaseContext, Invocation};
use super::extension::required_reason;
use crate::db::DbConnection;
use crate::db::models::CaseId;
use crate::engine::data::DataError;
use crate::engine::instance::LocalId;
use crate::engine::{EngineError, Event};

/// Checks the reason (`grund`): required, since the file must say why a body was asked and then
/// not; one line of at most 500 characters.
pub fn check(grund: Option<&str>) -> Result<String, Vec<DataError>> {
    required_reason(
        grund,
        "Bitte geben Sie an, warum die Beteiligung zurückgenommen wird.",
    )
}

/// Withdraws invitation `invitation` (its `invitations.id`) of `case`, checked like any command
/// on the case (`call.check`); only the role coordinating the consultation may. An invitation
/// answered already, or of a consultation that closed, is refused (Unprocessable, with why).
pub fn withdraw(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    case: CaseId,
    invitation: i64,
    reason: String,
    call: Invocation<'_>,
) -> Result<(), ServiceError> {
    let row = super::partner::invitation_of(conn, case, invitation)?;
    let invitation = LocalId(row.local_id as u64);
    let outcome = cases::decide_consultation(
        conn,
        ctx,
        case,
        |actor| Event::WithdrawParticipant {
            invitation,
            actor,
            reason,
        },
        call,
    );
    match outcome {
        Ok(_) => Ok(()),
        Err(ServiceError::Engine(EngineError::InvitationClosed(_))) => {
            Err(ServiceError::Unprocessable(
                "Diese Beteiligung kann nicht mehr zurückgenommen werden: Die Stelle hat bereits Stellung genommen, die Beteiligung wurde schon zurückgenommen, oder sie ist abgeschlossen.".into(),
            ))
        }
        Err(other) => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_is_required_and_one_line() {
        assert_eq!(
            check(Some("  Irrtümlich eingeladen  ")).unwrap(),
            "Irrtümlich eingeladen"
        );
        for missing in [None, Some(""), Some("   ")] {
            let errors = check(missing).unwrap_err();
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].pointer, "/grund");
            assert!(errors[0].message.starts_with("Bitte geben Sie an"));
        }
        let errors = check(Some("a\nb")).unwrap_err();
        assert_eq!((errors.len(), errors[0].pointer.as_str()), (1, "/grund"));
        assert!(errors[0].message.contains("Steuerzeichen"));
        assert!(check(Some(&"x".repeat(501))).is_err());
        assert!(check(Some(&"x".repeat(500))).is_ok());
    }
}
