//! The invitation an office form of the case page is about (entering a Stellungnahme, extending
//! a deadline, withdrawing it): loaded for someone who may act in the case, with what the form
//! names.

use actix_web::{HttpResponse, web};

use super::Session;
use super::case_actions::form_facts;
use crate::auth::Permission;
use crate::db::models::{CaseId, Organisation};
use crate::db::{Database, DbConnection};
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

/// [`invited`] for a form's handler: the invitation, or the answer to give when the form cannot
/// be shown ([`form_facts`]).
pub(super) async fn invited_for_form(
    db: &web::Data<Database>,
    api: &web::Data<crate::web::api::ApiState>,
    session: &Session,
    (id, invitation): (i64, i64),
    refused: fn(&InvitationRow) -> Option<&'static str>,
) -> Result<Invited, HttpResponse> {
    form_facts(db, api, session, CaseId(id), move |conn, _, reader| {
        invited(conn, reader, (CaseId(id), invitation), refused)
    })
    .await
}
