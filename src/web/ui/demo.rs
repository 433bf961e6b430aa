//! The demo offered to administrators on the start page: load it (the logins are shown once),
//! remove it again. The same service as `vorgang demo`; see `service::demo`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::{CsrfForm, Session, error_page, layout, render, role_label, see_other};
use crate::auth::{Auth, Permission};
use crate::db::Database;
use crate::service::{ServiceError, demo};
use crate::web::api::ApiState;

/// The demo forms carry nothing but their CSRF token.
#[derive(Debug, Deserialize)]
pub struct Empty {}

/// What the start page offers an administrator: `laden` on an installation without any case,
/// `entfernen` while the demo is loaded; nothing otherwise.
pub fn offer(
    conn: &mut crate::db::DbConnection,
    session: &Session,
) -> Result<serde_json::Value, ServiceError> {
    if session.authorize(Permission::ManageUsers, None).is_err() {
        return Ok(serde_json::Value::Null);
    }
    if demo::is_loaded(conn)? {
        return Ok(json!({ "entfernen": true }));
    }
    use diesel::prelude::*;
    let cases: i64 = crate::db::schema::cases::table.count().get_result(conn)?;
    Ok(if cases == 0 {
        json!({ "laden": true })
    } else {
        serde_json::Value::Null
    })
}

/// Runs `work` on a pooled connection off the async workers, keeping the service's error.
async fn on_connection<T, F>(db: &Database, work: F) -> Result<T, ServiceError>
where
    F: FnOnce(&mut crate::db::DbConnection) -> Result<T, ServiceError> + Send + 'static,
    T: Send + 'static,
{
    let db = db.clone();
    web::block(move || {
        let mut conn = db.get().map_err(ServiceError::Db)?;
        work(&mut conn)
    })
    .await
    .map_err(|e| ServiceError::Internal(e.to_string()))?
}

fn refused(api: &ApiState, session: &Session, error: ServiceError) -> HttpResponse {
    tracing::warn!(%error, "demo refused");
    let message = match &error {
        ServiceError::Internal(_) | ServiceError::Db(_) => {
            "Die Demodaten konnten nicht verarbeitet werden; es wurde nichts geändert.".to_string()
        }
        other => other.to_string(),
    };
    error_page(
        api,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some(session),
        "Demodaten",
        &message,
        "",
    )
}

/// `POST /demo`: loads the demo and shows its logins once.
pub async fn load(
    form: CsrfForm<Empty>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
    auth: web::Data<Auth>,
) -> HttpResponse {
    let session = form.session;
    if let Some(refusal) = super::admin::refusal(&api, &session, Permission::ManageUsers) {
        return refusal;
    }
    let password = match demo::generate_password() {
        Ok(password) => password,
        Err(error) => return refused(&api, &session, error),
    };
    let state = api.clone().into_inner();
    let passwords = auth.passwords.clone();
    let shown = password.clone();
    let loaded = on_connection(&db, move |conn| {
        demo::load(
            conn,
            &state.case_context(),
            &state.documents,
            &passwords,
            &password,
            chrono::Utc::now(),
        )
    })
    .await;
    let summary = match loaded {
        Ok(summary) => summary,
        Err(error) => return refused(&api, &session, error),
    };
    let mut context = layout("Demodaten geladen", Some(&session), Some("/"));
    context["passwort"] = json!(shown);
    context["benutzer"] = json!(summary
        .users
        .iter()
        .map(|u| json!({ "email": u.email, "name": u.name, "rolle": role_label(u.role), "organisation": u.organisation, "hinweis": u.note }))
        .collect::<Vec<_>>());
    context["vorgaenge"] = json!(summary
        .cases
        .iter()
        .map(|c| json!({ "id": c.id, "aktenzeichen": c.aktenzeichen, "antragsteller": c.applicant, "stand": c.stage, "hinweis": c.note }))
        .collect::<Vec<_>>());
    render(&api, StatusCode::OK, "demo_geladen", &context)
}

/// `POST /demo/entfernen`: removes the demo data with everything hanging off it.
pub async fn remove(
    form: CsrfForm<Empty>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let session = form.session;
    if let Some(refusal) = super::admin::refusal(&api, &session, Permission::ManageUsers) {
        return refusal;
    }
    let state = api.clone().into_inner();
    match on_connection(&db, move |conn| demo::remove(conn, &state.documents)).await {
        Ok(_) => see_other("/?hinweis=demo-entfernt"),
        Err(error) => refused(&api, &session, error),
    }
}
