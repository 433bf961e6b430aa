//! Declining a partner's request on the case page
//! (`/vorgaenge/{id}/einladungen/{invitation}/ablehnen/{art}`, `art` `fristverlaengerung` or
//! `zustaendigkeit`): the office says no to a later deadline, or keeps a partner that said it is
//! not competent, with a reason the partner reads (see `service::request_refusal`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::case_actions::{form_facts, form_refused, refused_or_error};
use super::case_invitation::{Invited, invited};
use super::case_page::{blocking, date_de};
use super::{CsrfForm, Session, UiSession, layout, render, see_other};
use crate::db::Database;
use crate::db::models::CaseId;
use crate::engine::data::DataError;
use crate::service::beteiligung::InvitationRow;
use crate::service::request_refusal::{self, PartnerRequest};
use crate::service::{ServiceError, clock, extension_request, responsibility_notice};
use crate::web::api::ApiState;
use crate::web::api::beteiligung::refuse_as;

/// The form as submitted (kept to show it again next to its error).
#[derive(Debug, Default, Deserialize)]
pub struct Input {
    grund: Option<String>,
}

/// Only an open invitation's requests are decided.
fn refused(found: &InvitationRow) -> Option<&'static str> {
    (found.status != "open" || found.closed_at.is_some()).then_some(
        "Die Stelle hat bereits geantwortet, die Beteiligung wurde zurückgenommen oder ist abgeschlossen; es ist nichts mehr zu entscheiden.",
    )
}

/// The request the address names.
fn request_of(art: &str) -> Result<PartnerRequest, ServiceError> {
    match art {
        "fristverlaengerung" => Ok(PartnerRequest::Extension),
        "zustaendigkeit" => Ok(PartnerRequest::Notice),
        _ => Err(ServiceError::NotFound("Diese Seite gibt es nicht.".into())),
    }
}

/// The invitation and what its partner asked for, as the form shows it.
fn load(
    conn: &mut crate::db::DbConnection,
    session: &Session,
    (id, invitation): (i64, i64),
    request: PartnerRequest,
) -> Result<(Invited, Value), ServiceError> {
    let invited = invited(conn, session, (CaseId(id), invitation), refused)?;
    let asked = match request {
        PartnerRequest::Extension => extension_request::pending(conn, invitation)?.map(|p| {
            json!({
                "bis": date_de(p.requested_until),
                "grund": p.reason,
                "name": p.requested_by,
                "am": clock::berlin_time_de(p.requested_at.and_utc()),
            })
        }),
        PartnerRequest::Notice => responsibility_notice::pending(conn, invitation)?.map(|n| {
            json!({
                "grund": n.reason,
                "zustaendig": n.competent,
                "name": n.reported_by,
                "am": clock::berlin_time_de(n.reported_at.and_utc()),
            })
        }),
    }
    .ok_or_else(|| ServiceError::Unprocessable(request.none_pending().into()))?;
    Ok((invited, asked))
}

fn page(
    api: &ApiState,
    session: &Session,
    status: StatusCode,
    (id, invitation, art): (i64, i64, &str),
    (invited, asked): &(Invited, Value),
    input: &Input,
    errors: &[DataError],
) -> HttpResponse {
    let notice = art == "zustaendigkeit";
    let what = if notice {
        "Mitteilung „nicht zuständig“ zurückweisen"
    } else {
        "Bitte um Fristverlängerung ablehnen"
    };
    let mut context = layout(
        &format!(
            "{what}: {} – {}",
            invited.organisation, invited.aktenzeichen
        ),
        Some(session),
        Some("/vorgaenge"),
    );
    context["fall"] = json!({ "id": id, "aktenzeichen": invited.aktenzeichen });
    context["einladung"] = json!(invitation);
    context["ueberschrift"] = json!(what);
    context["zustaendigkeit"] = json!(notice);
    context["organisation"] = json!(invited.organisation);
    context["frist"] = json!(date_de(invited.deadline));
    context["anliegen"] = asked.clone();
    context["pfad"] = json!(format!(
        "/vorgaenge/{id}/einladungen/{invitation}/ablehnen/{art}"
    ));
    context["eingabe"] = json!({ "grund": input.grund.as_deref().unwrap_or_default() });
    super::form::data_errors(&mut context, &["grund"], errors);
    render(api, status, "anliegen_ablehnen", &context)
}

/// `GET /vorgaenge/{id}/einladungen/{invitation}/ablehnen/{art}`: the form, with what the
/// partner asked for and what the partner will read.
pub async fn form(
    session: UiSession,
    path: web::Path<(i64, i64, String)>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let session = session.into_inner();
    let (id, invitation, art) = path.into_inner();
    let request = match request_of(&art) {
        Ok(request) => request,
        Err(error) => return form_refused(&db, &api, &session, CaseId(id), error).await,
    };
    let found = form_facts(&db, &api, &session, CaseId(id), move |conn, _, reader| {
        load(conn, reader, (id, invitation), request)
    });
    match found.await {
        Ok(loaded) => page(
            &api,
            &session,
            StatusCode::OK,
            (id, invitation, &art),
            &loaded,
            &Input::default(),
            &[],
        ),
        Err(answer) => answer,
    }
}

/// `POST /vorgaenge/{id}/einladungen/{invitation}/ablehnen/{art}`: declines, then back to the
/// matrix; without a reason the form comes back with the error at its field, nothing changed.
pub async fn submit(
    path: web::Path<(i64, i64, String)>,
    form: CsrfForm<Input>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let CsrfForm {
        session,
        form: input,
        ..
    } = form;
    let (id, invitation, art) = path.into_inner();
    let request = match request_of(&art) {
        Ok(request) => request,
        Err(error) => return form_refused(&db, &api, &session, CaseId(id), error).await,
    };
    let found = form_facts(&db, &api, &session, CaseId(id), move |conn, _, reader| {
        load(conn, reader, (id, invitation), request)
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
            (id, invitation, &art),
            &loaded,
            &input,
            errors,
        )
    };
    let reason = match request_refusal::check(input.grund.as_deref()) {
        Ok(reason) => reason,
        Err(errors) => return refused(&errors),
    };
    let (principal, state) = (session.principal().clone(), api.clone());
    let outcome = blocking(&db, move |conn| {
        refuse_as(
            conn,
            &state,
            &principal,
            (CaseId(id), invitation, request),
            reason,
        )
    })
    .await;
    match outcome {
        Ok(()) => see_other(&format!(
            "/vorgaenge/{id}?hinweis=anliegen-abgelehnt#beteiligung"
        )),
        Err(ServiceError::InvalidInput(errors)) => refused(&errors),
        Err(error) => refused_or_error(&db, &api, &session, CaseId(id), error).await,
    }
}
