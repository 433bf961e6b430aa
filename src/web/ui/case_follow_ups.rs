//! The case page's Wiedervorlage forms: set one (day and reason) and close one
//! (`service::follow_ups`). Neither needs the case's version: a Wiedervorlage changes neither
//! data nor state.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::case_page::{Overrides, blocking, service_error, show};
use super::form::FieldErrors;
use super::{CsrfForm, see_other};
use crate::auth::Permission;
use crate::db::Database;
use crate::db::models::CaseId;
use crate::service::{ServiceError, clock, follow_ups};
use crate::web::api::ApiState;
use crate::web::api::cases::permit;

/// The form's fields: `tag` as the date input sends it (or typed as `TT.MM.JJJJ`).
#[derive(Debug, Deserialize)]
pub struct FollowUpForm {
    #[serde(default)]
    tag: String,
    #[serde(default)]
    anlass: String,
}

/// `POST /vorgaenge/{id}/wiedervorlagen`: sets the Wiedervorlage for the logged-in user, or
/// shows the page again with the input and the reasons at the fields.
pub async fn set(
    path: web::Path<i64>,
    form: CsrfForm<FollowUpForm>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let CsrfForm { session, form, .. } = form;
    let id = CaseId(path.into_inner());
    let principal = session.principal().clone();
    let (due, reason) = (form.tag.clone(), form.anlass.clone());
    let outcome = blocking(&db, move |conn| {
        // Refused on a case the user may not even read, it answers 404 (the case stays hidden).
        let check = |access| permit(&principal, Permission::AddNote, access);
        follow_ups::set(
            conn,
            id,
            principal.user_id,
            (&due, &reason),
            &clock::now(),
            &check,
        )
    })
    .await;
    let mut errors = FieldErrors::new();
    match outcome {
        Ok(_) => {
            return see_other(&format!(
                "/vorgaenge/{}?hinweis=wiedervorlage#wiedervorlage",
                id.0
            ));
        }
        Err(ServiceError::InvalidInput(refused)) => {
            for error in refused {
                let field = if error.pointer == "/due" {
                    "tag"
                } else {
                    "anlass"
                };
                errors.entry(field.to_string()).or_insert(error.message);
            }
        }
        Err(error) => return service_error(&api, &session, error),
    }
    show(
        &db,
        &api,
        &session,
        id,
        StatusCode::UNPROCESSABLE_ENTITY,
        Overrides {
            follow_up: Some((form.tag, form.anlass)),
            // Named at the top as well: the page opens there, far from the form.
            summary: errors
                .iter()
                .map(|(field, message)| (format!("feld-wv-{field}"), message.clone()))
                .collect(),
            follow_up_errors: errors,
            ..Overrides::default()
        },
    )
    .await
}

/// `POST /vorgaenge/{id}/wiedervorlagen/{follow_up}/erledigt`: closes the Wiedervorlage.
pub async fn close(
    path: web::Path<(i64, i64)>,
    form: CsrfForm<std::collections::HashMap<String, String>>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let session = form.session;
    let (id, follow_up) = path.into_inner();
    let id = CaseId(id);
    let principal = session.principal().clone();
    let outcome = blocking(&db, move |conn| {
        let check = |access| permit(&principal, Permission::AddNote, access);
        let at = clock::now().now.naive_utc();
        follow_ups::close(conn, id, follow_up, &principal, at, &check)
    })
    .await;
    match outcome {
        Ok(()) => see_other(&format!(
            "/vorgaenge/{}?hinweis=wiedervorlage-erledigt#wiedervorlage",
            id.0
        )),
        Err(error) => service_error(&api, &session, error),
    }
}
