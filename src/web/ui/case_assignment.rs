//! The case page's Zuständigkeit form (`service::assignments`): make someone of the own
//! organisation responsible for the case, or nobody. Needs no case version: the Zuständigkeit
//! changes neither data nor state.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::case_page::{Overrides, blocking, service_error, show};
use super::{CsrfForm, see_other};
use crate::auth::Permission;
use crate::db::Database;
use crate::db::models::CaseId;
use crate::service::{ServiceError, assignments, clock};
use crate::web::api::ApiState;
use crate::web::api::cases::permit;

/// The form's field: the e-mail address of the person, empty for nobody.
#[derive(Debug, Deserialize)]
pub struct AssignmentForm {
    #[serde(default)]
    person: String,
}

/// `POST /vorgaenge/{id}/zustaendigkeit`: stores the Zuständigkeit, or shows the page again
/// with the reason at the field.
pub async fn set(
    path: web::Path<i64>,
    form: CsrfForm<AssignmentForm>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let CsrfForm { session, form, .. } = form;
    let id = CaseId(path.into_inner());
    let principal = session.principal().clone();
    let state = api.clone().into_inner();
    let outcome = blocking(&db, move |conn| {
        let check = |access| permit(&principal, Permission::AddNote, access);
        let at = clock::now().now.naive_utc();
        assignments::assign(
            conn,
            &state.outgoing,
            id,
            &principal,
            Some(&form.person),
            at,
            &check,
        )
    })
    .await;
    match outcome {
        Ok(_) => see_other(&format!(
            "/vorgaenge/{}?hinweis=zustaendigkeit#zustaendigkeit",
            id.0
        )),
        Err(ServiceError::InvalidInput(refused)) => {
            let message = refused
                .into_iter()
                .next()
                .map(|error| error.message)
                .unwrap_or_default();
            show(
                &db,
                &api,
                &session,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Overrides {
                    summary: vec![("feld-zustaendig".into(), message.clone())],
                    assignment_error: Some(message),
                    ..Overrides::default()
                },
            )
            .await
        }
        Err(error) => service_error(&api, &session, error),
    }
}
