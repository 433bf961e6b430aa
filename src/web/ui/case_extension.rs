//! Fristverlängerung on the case page (`/vorgaenge/{id}/einladungen/{invitation}/frist`): the
//! office gives one partner a later deadline, with a reason for the file (see
//! `service::extension`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::case_actions::refused_or_error;
use super::case_invitation::{Invited, invited_for_form};
use super::case_page::{blocking, date_de};
use super::{CsrfForm, Session, UiSession, layout, render, see_other};
use crate::db::Database;
use crate::db::models::CaseId;
use crate::engine::data::DataError;
use crate::service::beteiligung::{self, InvitationRow};
use crate::service::{ServiceError, clock, extension};
use crate::web::api::ApiState;
use crate::web::api::beteiligung::extend_as;

/// The form as submitted (kept to show it again next to its errors).
#[derive(Debug, Default, Deserialize)]
pub struct Input {
    frist: Option<String>,
    grund: Option<String>,
}

/// Only the deadline of an invitation the partner may still answer in time is extended: an open
/// one, or one answered in time, whose Stellungnahme the partner may amend until the deadline.
fn refused(found: &InvitationRow) -> Option<&'static str> {
    (!beteiligung::deadline_extendable(&found.status, found.late, found.closed_at)).then_some(
        "Die Beteiligung dieser Stelle ist beendet (zurückgenommen, verspätet beantwortet oder \
         die Beteiligung abgeschlossen); ihre Frist wird nicht mehr verlängert.",
    )
}

fn page(
    api: &ApiState,
    session: &Session,
    status: StatusCode,
    (id, invitation): (i64, i64),
    invited: &Invited,
    input: &Input,
    errors: &[DataError],
) -> HttpResponse {
    let mut context = layout(
        &format!(
            "Frist verlängern: {} – {}",
            invited.organisation, invited.aktenzeichen
        ),
        Some(session),
        Some("/vorgaenge"),
    );
    let today = clock::now().today;
    context["fall"] = json!({ "id": id, "aktenzeichen": invited.aktenzeichen });
    context["organisation"] = json!(invited.organisation);
    context["frist"] = json!(date_de(invited.deadline));
    context["pfad"] = json!(format!("/vorgaenge/{id}/einladungen/{invitation}/frist"));
    // The earliest day the form offers: after the current deadline, not before today.
    let earliest = invited
        .deadline
        .succ_opt()
        .unwrap_or(invited.deadline)
        .max(today);
    context["frist_von"] = json!(earliest.format("%Y-%m-%d").to_string());
    context["eingabe"] = json!({
        "frist": input.frist.as_deref().unwrap_or_default(),
        "grund": input.grund.as_deref().unwrap_or_default(),
    });
    super::form::data_errors(&mut context, &["frist", "grund"], errors);
    render(api, status, "frist_verlaengern", &context)
}

/// `GET /vorgaenge/{id}/einladungen/{invitation}/frist`: the form, empty or filled in from the
/// query (`?frist=`, the day a partner asked for, linked from the matrix and the office's mail).
pub async fn form(
    session: UiSession,
    path: web::Path<(i64, i64)>,
    query: web::Query<Input>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let session = session.into_inner();
    let (id, invitation) = path.into_inner();
    match invited_for_form(&db, &api, &session, (id, invitation), refused).await {
        Ok(invited) => page(
            &api,
            &session,
            StatusCode::OK,
            (id, invitation),
            &invited,
            &query,
            &[],
        ),
        Err(answer) => answer,
    }
}

/// `POST /vorgaenge/{id}/einladungen/{invitation}/frist`: extends, then back to the matrix; a
/// day that does not suit brings the form back with the error at its field, nothing changed.
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
    let invited = match invited_for_form(&db, &api, &session, (id, invitation), refused).await {
        Ok(invited) => invited,
        Err(answer) => return answer,
    };
    let refused = |errors: &[DataError]| {
        page(
            &api,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            (id, invitation),
            &invited,
            &input,
            errors,
        )
    };
    let extension = match extension::check(input.frist.as_deref(), input.grund.as_deref()) {
        Ok(extension) => extension,
        Err(errors) => return refused(&errors),
    };
    let (principal, state) = (session.principal().clone(), api.clone());
    let outcome = blocking(&db, move |conn| {
        extend_as(
            conn,
            &state,
            &principal,
            (CaseId(id), invitation),
            extension,
        )
    })
    .await;
    match outcome {
        Ok(()) => see_other(&format!(
            "/vorgaenge/{id}?hinweis=frist-verlaengert#beteiligung"
        )),
        Err(ServiceError::InvalidInput(errors)) => refused(&errors),
        Err(error) => refused_or_error(&db, &api, &session, CaseId(id), error).await,
    }
}
