//! `GET /vorgaenge/{id}/akte.zip`: the case file as a ZIP archive, from the case page.

use actix_web::{HttpResponse, web};

use super::UiSession;
use super::case_page::service_error;
use crate::db::Database;
use crate::db::models::CaseId;
use crate::web::api::ApiState;
use crate::web::case_file::{prepare, respond};

/// `GET /vorgaenge/{id}/akte.zip`; a refusal is a German page like the case page's.
pub async fn download(
    session: UiSession,
    path: web::Path<i64>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let session = session.into_inner();
    let principal = session.principal().clone();
    match prepare(&db, &api, principal, CaseId(path.into_inner())).await {
        Ok(prepared) => respond(prepared),
        Err(error) => service_error(&api, &session, error),
    }
}
