//! The case page's Aktenvermerk form: a Vermerk written into the case's journal
//! (`service::notes`). It needs no version: a Vermerk changes neither data nor state, so it
//! never conflicts with a colleague's edit.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::case_page::{Overrides, blocking, service_error, show};
use super::{CsrfForm, see_other};
use crate::auth::Permission;
use crate::db::Database;
use crate::db::models::CaseId;
use crate::service::{ServiceError, clock, notes};
use crate::web::api::ApiState;
use crate::web::api::cases::permit;

/// The form's fields: the text, and the box that keeps it within the writer's organisation.
#[derive(Debug, Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    intern: Option<String>,
}

/// `POST /vorgaenge/{id}/vermerke`: writes the Vermerk, or shows the page again with the text
/// and the reason at the field.
pub async fn add(
    path: web::Path<i64>,
    form: CsrfForm<NoteForm>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let CsrfForm { session, form, .. } = form;
    let id = CaseId(path.into_inner());
    let principal = session.principal().clone();
    let text = form.text.clone();
    let internal = form.intern.is_some();
    let state = api.clone().into_inner();
    let outcome = blocking(&db, move |conn| {
        // Refused on a case the user may not even read, it answers 404 (the case stays hidden).
        let actor = crate::web::api::actor(&principal);
        let check = |access| permit(&principal, Permission::AddNote, access);
        let author = notes::Author {
            actor: &actor,
            organisation: principal.organisation_id,
            internal,
        };
        notes::add(
            conn,
            &state.outgoing,
            id,
            &text,
            author,
            &clock::now(),
            &check,
        )
    })
    .await;
    match outcome {
        Ok(_) => see_other(&format!("/vorgaenge/{}?hinweis=vermerk#journal", id.0)),
        Err(ServiceError::InvalidInput(errors)) => {
            show(
                &db,
                &api,
                &session,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Overrides {
                    note: Some(form.text),
                    note_internal: form.intern.is_some(),
                    // Named at the top as well: the page opens there, far from the form.
                    summary: errors
                        .iter()
                        .map(|e| ("feld-vermerk".to_string(), e.message.clone()))
                        .collect(),
                    note_error: errors.into_iter().next().map(|e| e.message),
                    ..Overrides::default()
                },
            )
            .await
        }
        Err(error) => service_error(&api, &session, error),
    }
}
