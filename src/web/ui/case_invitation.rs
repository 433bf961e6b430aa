//! The invitation an office form of the case page is about (entering a Stellungnahme, extending
//! a deadline, withdrawing it): loaded for someone who may act in the case, with what the form
//! names.

use super::Session;
use crate::auth::Permission;
use crate::db::DbConnection;
use crate::db::models::{CaseId, Organisation};
use crate::service::beteiligung::InvitationRow;
use crate::service::{ServiceError, clock, partner};
use crate::web::api::cases::permitted_row;

/// What such a form names: the case, the invited partner and its days.
pub(super) struct Invited {
    pub aktenzeichen: String,
    pub organisation: String,
    pub deadline: chrono::NaiveDate,
    /// The day of the invitation, the earliest day a Stellungnahme can have come.
    pub invited_on: chrono::NaiveDate,
}

/// Invitation `invitation` of case `id`, for someone who may act in the case. `refused` says
/// why the form cannot take this invitation (answered, closed, withdrawn), so that nobody
/// fills in a form that cannot be taken; the engine decides again when it is sent.
pub(super) fn invited(
    conn: &mut DbConnection,
    session: &Session,
    (id, invitation): (CaseId, i64),
    refused: fn(&InvitationRow) -> Option<&'static str>,
) -> Result<Invited, ServiceError> {
    let row = permitted_row(conn, session.principal(), Permission::TakeAction, id)?;
    let found = partner::invitation_of(conn, id, invitation)?;
    if let Some(why) = refused(&found) {
        return Err(ServiceError::Unprocessable(why.into()));
    }
    let organisation = Organisation::find(conn, found.organisation_id)?
        .map(|o| o.designation().into_owned())
        .unwrap_or_default();
    Ok(Invited {
        aktenzeichen: row.aktenzeichen,
        organisation,
        deadline: found.deadline,
        invited_on: clock::berlin_date(found.invited_at.and_utc()),
    })
}
