//! Nachträgliche Beteiligung on the case page (`/vorgaenge/{id}/beteiligungen/{step}/stelle`):
//! the office invites one more partner to a running Beteiligung, with a reason for the file
//! (see `service::further_participant`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::case_actions::{form_facts, refused_or_error};
use super::case_page::blocking;
use super::{CsrfForm, Session, UiSession, layout, render, see_other};
use crate::auth::Permission;
use crate::db::Database;
use crate::db::models::{CaseId, Organisation, OrganisationKind};
use crate::engine::data::DataError;
use crate::service::further_participant::{self, Offer};
use crate::service::{ServiceError, clock};
use crate::web::api::ApiState;
use crate::web::api::beteiligung::add_participant_as;
use crate::web::api::cases::permitted_row;

/// The groups of the choice after the applicant's own bodies, which come first.
const GROUPS: [&str; 4] = [
    "Weitere Partnerstellen",
    "Gemeinden",
    "Kreise und kreisfreie Städte",
    "Bezirksregierungen und Bewilligungsbehörde",
];

/// The index in [`GROUPS`] of an organisation of `kind` (a new kind must be placed here).
fn group_of(kind: OrganisationKind) -> usize {
    match kind {
        OrganisationKind::Partner => 0,
        OrganisationKind::Gemeinde => 1,
        OrganisationKind::Kreis
        | OrganisationKind::KreisfreieStadt
        | OrganisationKind::KreisfreieStadtInStaedteregion => 2,
        OrganisationKind::Bezirksregierung | OrganisationKind::Bewilligungsbehoerde => 3,
    }
}

/// The form as submitted (kept to show it again next to its errors).
#[derive(Debug, Default, Deserialize)]
pub struct Input {
    stelle: Option<String>,
    grund: Option<String>,
}

/// The form's offer for someone who may act in the case, or the answer when the form cannot
/// be shown.
async fn load_offer(
    db: &web::Data<Database>,
    api: &web::Data<ApiState>,
    session: &Session,
    (id, step): (i64, String),
) -> Result<Offer, HttpResponse> {
    form_facts(db, api, session, CaseId(id), move |conn, api, reader| {
        let row = permitted_row(conn, reader.principal(), Permission::TakeAction, CaseId(id))?;
        further_participant::offer(conn, &api.registry, row, &step)
    })
    .await
}

fn page(
    api: &ApiState,
    session: &Session,
    status: StatusCode,
    (id, step): (i64, &str),
    offer: &Offer,
    input: &Input,
    errors: &[DataError],
) -> HttpResponse {
    let mut context = layout(
        &format!("Weitere Stelle beteiligen – {}", offer.aktenzeichen),
        Some(session),
        Some("/vorgaenge"),
    );
    context["fall"] = json!({ "id": id, "aktenzeichen": offer.aktenzeichen });
    context["beteiligung"] = json!(offer.consultation.title);
    context["frist"] = json!(offer.period);
    context["heute"] = json!(clock::now().today.format("%d.%m.%Y").to_string());
    context["pfad"] = json!(format!("/vorgaenge/{id}/beteiligungen/{step}/stelle"));
    let chosen = input.stelle.as_deref().unwrap_or_default();
    // The applicant's own partner bodies and Gemeinden first: usually the one meant.
    let own = |o: &&Organisation| o.parent_id == Some(offer.applicant.id);
    let option = |o: &Organisation| json!({ "key": o.key, "name": o.designation(), "gewaehlt": o.key == chosen });
    let first = json!({
        "titel": format!("{} – Partnerstellen und Gemeinden", offer.applicant.designation()),
        "stellen": offer.organisations.iter().filter(own).map(option).collect::<Vec<_>>(),
    });
    let rest = GROUPS.iter().enumerate().map(|(index, label)| {
        json!({
            "titel": label,
            "stellen": offer
                .organisations
                .iter()
                .filter(|o| !own(o) && group_of(o.kind) == index)
                .map(option)
                .collect::<Vec<_>>(),
        })
    });
    context["gruppen"] = json!(
        std::iter::once(first)
            .chain(rest)
            .filter(|group| group["stellen"].as_array().is_some_and(|m| !m.is_empty()))
            .collect::<Vec<_>>()
    );
    context["stellen"] = json!(!offer.organisations.is_empty());
    context["eingabe"] = json!({ "grund": input.grund.as_deref().unwrap_or_default() });
    super::form::data_errors(&mut context, &["stelle", "grund"], errors);
    render(api, status, "stelle_beteiligen", &context)
}

/// `GET /vorgaenge/{id}/beteiligungen/{step}/stelle`: the empty form.
pub async fn form(
    session: UiSession,
    path: web::Path<(i64, String)>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let session = session.into_inner();
    let (id, step) = path.into_inner();
    match load_offer(&db, &api, &session, (id, step.clone())).await {
        Ok(offer) => page(
            &api,
            &session,
            StatusCode::OK,
            (id, &step),
            &offer,
            &Input::default(),
            &[],
        ),
        Err(answer) => answer,
    }
}

/// `POST /vorgaenge/{id}/beteiligungen/{step}/stelle`: invites, then back to the matrix; a
/// partner that cannot be invited brings the form back with the error at its field, nothing
/// changed.
pub async fn submit(
    path: web::Path<(i64, String)>,
    form: CsrfForm<Input>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let CsrfForm {
        session,
        form: input,
        ..
    } = form;
    let (id, step) = path.into_inner();
    let offer = match load_offer(&db, &api, &session, (id, step.clone())).await {
        Ok(offer) => offer,
        Err(answer) => return answer,
    };
    let refused = |errors: &[DataError]| {
        page(
            &api,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            (id, &step),
            &offer,
            &input,
            errors,
        )
    };
    let addition = match further_participant::check(input.stelle.as_deref(), input.grund.as_deref())
    {
        Ok(addition) => addition,
        Err(errors) => return refused(&errors),
    };
    let (principal, state, at) = (session.principal().clone(), api.clone(), step.clone());
    let outcome = blocking(&db, move |conn| {
        add_participant_as(conn, &state, &principal, CaseId(id), Some(&at), addition)
    })
    .await;
    match outcome {
        Ok(()) => see_other(&format!(
            "/vorgaenge/{id}?hinweis=stelle-beteiligt#beteiligung"
        )),
        Err(ServiceError::InvalidInput(errors)) => refused(&errors),
        Err(error) => refused_or_error(&db, &api, &session, CaseId(id), error).await,
    }
}
