//! A Stellungnahme that reached the office by letter, e-mail or phone, entered by staff for the
//! partner (`/vorgaenge/{id}/einladungen/{invitation}/stellungnahme`): the partner's fields, and
//! how it came. It then counts as the partner's answer (see `partner::record_for_partner`).

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
use crate::service::ServiceError;
use crate::service::beteiligung::InvitationRow;
use crate::service::clock;
use crate::service::partner::{self, Channel, FieldError};
use crate::web::api::ApiState;
use crate::web::api::beteiligung::record_as;

/// The form as submitted (kept to show it again next to its errors).
#[derive(Debug, Default, Deserialize)]
pub struct Input {
    votum: Option<String>,
    #[serde(default)]
    stellungnahme: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    funktion: String,
    eingang: Option<String>,
    eingegangen_am: Option<String>,
}

/// An expired invitation takes a Stellungnahme that reached the office in time (or a late one,
/// where the workflow accepts it); an answered or withdrawn one is refused here.
fn refused(found: &InvitationRow) -> Option<&'static str> {
    match found.status.as_str() {
        "answered" => Some(
            "Die Einladung ist bereits beantwortet; eine Stellungnahme kann hier nicht mehr erfasst werden.",
        ),
        "withdrawn" => Some(
            "Diese Beteiligung wurde zurückgenommen; eine Stellungnahme der Stelle wird nicht mehr erfasst.",
        ),
        _ => None,
    }
}

fn page(
    api: &ApiState,
    session: &Session,
    status: StatusCode,
    (id, invitation): (i64, i64),
    invited: &Invited,
    input: &Input,
    errors: &[FieldError],
) -> HttpResponse {
    let mut context = layout(
        &format!(
            "Stellungnahme erfassen: {} – {}",
            invited.organisation, invited.aktenzeichen
        ),
        Some(session),
        Some("/vorgaenge"),
    );
    context["fall"] = json!({ "id": id, "aktenzeichen": invited.aktenzeichen });
    context["organisation"] = json!(invited.organisation);
    context["frist"] = json!(date_de(invited.deadline));
    context["pfad"] = json!(format!(
        "/vorgaenge/{id}/einladungen/{invitation}/stellungnahme"
    ));
    context["voten"] = json!(partner::votum_options(input.votum.as_deref()));
    context["wege"] = json!(
        Channel::ALL
            .iter()
            .map(|(_, key, label)| json!({
                "key": key,
                "label": label,
                "selected": input.eingang.as_deref() == Some(*key),
            }))
            .collect::<Vec<_>>()
    );
    let today = clock::now().today;
    context["eingabe"] = json!({
        "stellungnahme": input.stellungnahme,
        "name": input.name,
        "funktion": input.funktion,
        // The form offers today; what was typed stays, even when it is wrong.
        "eingegangen_am": input.eingegangen_am.clone().unwrap_or_else(|| today.format("%Y-%m-%d").to_string()),
    });
    context["eingang_von"] = json!(invited.invited_on.format("%Y-%m-%d").to_string());
    context["eingang_bis"] = json!(today.format("%Y-%m-%d").to_string());
    context["frist_abgelaufen"] = json!(today > invited.deadline);
    let errors: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.pointer.as_str(), e.message.as_str()))
        .collect();
    let fields = [
        "votum",
        "stellungnahme",
        "name",
        "funktion",
        "eingang",
        "eingegangen_am",
    ];
    super::form::field_errors(&mut context, &fields, &errors);
    render(api, status, "stellungnahme_erfassen", &context)
}

/// `GET /vorgaenge/{id}/einladungen/{invitation}/stellungnahme`: the empty form.
pub async fn form(
    session: UiSession,
    path: web::Path<(i64, i64)>,
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
            &Input::default(),
            &[],
        ),
        Err(answer) => answer,
    }
}

/// `POST /vorgaenge/{id}/einladungen/{invitation}/stellungnahme`: records it, then back to the
/// matrix; bad fields bring the form back with the errors at their fields, nothing recorded.
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
    let now = clock::now();
    let checked = partner::check_recorded_answer(
        partner::RecordedFields {
            votum: input.votum.as_deref(),
            stellungnahme: &input.stellungnahme,
            name: &input.name,
            funktion: &input.funktion,
            eingang: input.eingang.as_deref(),
            // A form sent without the field (a scripted client) counts as a cleared one.
            eingegangen_am: Some(input.eingegangen_am.as_deref().unwrap_or("")),
        },
        now.today,
        invited.invited_on,
    );
    let recorded = match checked {
        Ok(checked) => checked,
        Err(errors) => {
            return page(
                &api,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                (id, invitation),
                &invited,
                &input,
                &errors,
            );
        }
    };
    let (principal, state) = (session.principal().clone(), api.clone());
    let outcome = blocking(&db, move |conn| {
        record_as(
            conn,
            &state,
            &principal,
            (CaseId(id), invitation),
            recorded,
            &now,
        )
    })
    .await;
    match outcome {
        Ok(()) => see_other(&format!(
            "/vorgaenge/{id}?hinweis=stellungnahme-erfasst#beteiligung"
        )),
        // A field the engine found wrong (a day of receipt after the deadline) stands at its field.
        Err(ServiceError::InvalidInput(errors)) => {
            let errors: Vec<FieldError> = errors
                .into_iter()
                .map(|e| FieldError {
                    pointer: e.pointer,
                    message: e.message,
                })
                .collect();
            page(
                &api,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                (id, invitation),
                &invited,
                &input,
                &errors,
            )
        }
        Err(error) => refused_or_error(&db, &api, &session, CaseId(id), error).await,
    }
}
