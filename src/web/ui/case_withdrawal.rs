//! Zurücknahme einer Beteiligung on the case page
//! (`/vorgaenge/{id}/einladungen/{invitation}/zuruecknehmen`): the office withdraws an open
//! invitation sent to the wrong body, with the reason for the file (see `service::withdrawal`).
//! When the partner itself said it is not competent, the form shows its notice and is filled in
//! with it (see `service::responsibility_notice`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::case_actions::{form_facts, refused_or_error};
use super::case_invitation::{Invited, invited};
use super::case_page::{blocking, date_de};
use super::{CsrfForm, Session, UiSession, layout, render, see_other};
use crate::db::Database;
use crate::db::models::CaseId;
use crate::engine::data::DataError;
use crate::service::beteiligung::InvitationRow;
use crate::service::responsibility_notice::{self, Notice};
use crate::service::{ServiceError, withdrawal};
use crate::web::api::ApiState;
use crate::web::api::beteiligung::withdraw_as;

/// The form as submitted (kept to show it again next to its error).
#[derive(Debug, Default, Deserialize)]
pub struct Input {
    grund: Option<String>,
}

/// Only an open invitation is withdrawn; an answer stays in the file.
fn refused(found: &InvitationRow) -> Option<&'static str> {
    match found.status.as_str() {
        "open" if found.closed_at.is_none() => None,
        "answered" => Some(
            "Die Stelle hat bereits Stellung genommen; ihre Stellungnahme bleibt in der Akte, die Beteiligung wird nicht mehr zurückgenommen.",
        ),
        "withdrawn" => Some("Diese Beteiligung wurde bereits zurückgenommen."),
        _ => Some("Die Beteiligung ist abgeschlossen; sie wird nicht mehr zurückgenommen."),
    }
}

/// The invitation the form is about, and its partner's pending notice that it is not competent.
fn load(
    conn: &mut crate::db::DbConnection,
    session: &Session,
    (id, invitation): (i64, i64),
) -> Result<(Invited, Option<Notice>), ServiceError> {
    let invited = invited(conn, session, (CaseId(id), invitation), refused)?;
    Ok((invited, responsibility_notice::pending(conn, invitation)?))
}

fn page(
    api: &ApiState,
    session: &Session,
    status: StatusCode,
    (id, invitation): (i64, i64),
    (invited, notice): &(Invited, Option<Notice>),
    input: &Input,
    errors: &[DataError],
) -> HttpResponse {
    let mut context = layout(
        &format!(
            "Beteiligung zurücknehmen: {} – {}",
            invited.organisation, invited.aktenzeichen
        ),
        Some(session),
        Some("/vorgaenge"),
    );
    context["fall"] = json!({ "id": id, "aktenzeichen": invited.aktenzeichen });
    context["organisation"] = json!(invited.organisation);
    context["eingeladen"] = json!(date_de(invited.invited_on));
    context["frist"] = json!(date_de(invited.deadline));
    context["pfad"] = json!(format!(
        "/vorgaenge/{id}/einladungen/{invitation}/zuruecknehmen"
    ));
    context["eingabe"] = json!({ "grund": input.grund.as_deref().unwrap_or_default() });
    context["mitteilung"] = json!(notice.as_ref().map(|n| json!({
        "grund": n.reason,
        "zustaendig": n.competent,
        "name": n.reported_by,
        "am": crate::service::clock::berlin_time_de(n.reported_at.and_utc()),
    })));
    super::form::data_errors(&mut context, &["grund"], errors);
    render(api, status, "beteiligung_zuruecknehmen", &context)
}

/// `GET /vorgaenge/{id}/einladungen/{invitation}/zuruecknehmen`: the form, saying what happens.
pub async fn form(
    session: UiSession,
    path: web::Path<(i64, i64)>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let session = session.into_inner();
    let (id, invitation) = path.into_inner();
    let found = form_facts(&db, &api, &session, CaseId(id), move |conn, _, reader| {
        load(conn, reader, (id, invitation))
    });
    match found.await {
        Ok(loaded) => {
            // Filled in with the partner's own words, when it said it is not competent.
            let input = Input {
                grund: loaded
                    .1
                    .as_ref()
                    .map(responsibility_notice::withdrawal_reason),
            };
            page(
                &api,
                &session,
                StatusCode::OK,
                (id, invitation),
                &loaded,
                &input,
                &[],
            )
        }
        Err(answer) => answer,
    }
}

/// `POST /vorgaenge/{id}/einladungen/{invitation}/zuruecknehmen`: withdraws, then back to the
/// matrix; without a reason the form comes back with the error at its field, nothing changed.
pub async fn submit(
    path: web::Path<(i64, i64)>,
    form: CsrfForm<Input>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let CsrfForm {
        session,
        form: input,
        ..
    } = form;
    let (id, invitation) = path.into_inner();
    let found = form_facts(&db, &api, &session, CaseId(id), move |conn, _, reader| {
        load(conn, reader, (id, invitation))
    });
    let loaded = match found.await {
        Ok(loaded) => loaded,
        Err(answer) => return answer,
    };
    let refused = |errors: &[DataError]| {
        page(
            &api,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            (id, invitation),
            &loaded,
            &input,
            errors,
        )
    };
    let reason = match withdrawal::check(input.grund.as_deref()) {
        Ok(reason) => reason,
        Err(errors) => return refused(&errors),
    };
    let (principal, state) = (session.principal().clone(), api.clone());
    let outcome = blocking(&db, move |conn| {
        withdraw_as(conn, &state, &principal, (CaseId(id), invitation), reason)
    })
    .await;
    match outcome {
        Ok(()) => see_other(&format!(
            "/vorgaenge/{id}?hinweis=beteiligung-zurueckgenommen#beteiligung"
        )),
        Err(ServiceError::InvalidInput(errors)) => refused(&errors),
        Err(error) => refused_or_error(&db, &api, &session, CaseId(id), error).await,
    }
}
