//! `/admin/anmeldesperren`: the accounts and client addresses with failed logins counted, those
//! refused for now first, and lifting the limit on one of them
//! ([`crate::service::login_limits`]). The account page offers the same for its own address.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::{failure, local_time, notice, refusal};
use crate::auth::{Auth, CountedKey, LimitKey, Permission};
use crate::db::Database;
use crate::service::{ServiceError, login_limits};
use crate::web::api::ApiState;
use crate::web::ui::{CsrfForm, UiSession, layout, render, see_other};

const NOTICES: &[(&str, &str)] = &[(
    "aufgehoben",
    "Die Sperre wurde aufgehoben; die gezählten Fehlversuche sind gelöscht.",
)];

/// A counted key as the pages show it (also the account page's section).
pub(crate) fn key_json(counted: &CountedKey) -> Value {
    let (art, art_text) = match counted.key {
        LimitKey::Account(_) => ("konto", "E-Mail-Adresse"),
        LimitKey::Address(_) => ("adresse", "Client-Adresse"),
    };
    let grenze = if counted.scope == "login" {
        "Anmeldungen"
    } else {
        "Links zum Zurücksetzen des Passworts"
    };
    json!({
        "art": art,
        "art_text": art_text,
        "schluessel": counted.key.value(),
        "grenze": grenze,
        "fehlversuche": counted.failures,
        "gesperrt_bis": counted.refused_until.map(|until| local_time(until.naive_utc())),
    })
}

/// `GET /admin/anmeldesperren`: who has failures counted and who is refused for now.
pub async fn list(
    req: HttpRequest,
    session: UiSession,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
    auth: web::Data<Auth>,
) -> HttpResponse {
    if let Some(refused) = refusal(&api, &session, Permission::ManageUsers) {
        return refused;
    }
    let limiters = auth.limiters();
    let keys = db
        .run(move |conn| Ok(login_limits::counted(conn, &limiters, chrono::Utc::now())))
        .await;
    let keys = match keys {
        Ok(Ok(keys)) => keys,
        Ok(Err(error)) => return failure(&api, &session, error),
        Err(error) => return failure(&api, &session, ServiceError::Db(error)),
    };
    let mut context = layout("Anmeldesperren", Some(&session), Some("/admin"));
    context["hinweis"] = json!(notice(req.query_string(), NOTICES));
    context["schluessel"] = json!(keys.iter().map(key_json).collect::<Vec<_>>());
    context["anzahl"] = json!(keys.len());
    render(&api, StatusCode::OK, "admin_anmeldesperren", &context)
}

/// The form lifting a limit: what kind of key (`konto`, `adresse`) and which.
#[derive(serde::Deserialize)]
pub struct LiftForm {
    #[serde(default)]
    art: String,
    #[serde(default)]
    schluessel: String,
}

/// `POST /admin/anmeldesperren/aufheben`: forgets the failures counted against one account or
/// address; a German 404 page when none are (any more).
pub async fn lift(
    form: CsrfForm<LiftForm>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
    auth: web::Data<Auth>,
) -> HttpResponse {
    let CsrfForm { session, form, .. } = form;
    if let Some(refused) = refusal(&api, &session, Permission::ManageUsers) {
        return refused;
    }
    let key = match form.art.as_str() {
        "konto" => Some(LimitKey::account(&form.schluessel)),
        "adresse" => LimitKey::address_named(&form.schluessel),
        _ => None,
    };
    let Some(key) = key else {
        return failure(
            &api,
            &session,
            ServiceError::NotFound(
                "Für diese Angabe sind keine fehlgeschlagenen Anmeldungen gezählt.".into(),
            ),
        );
    };
    let limiters = auth.limiters();
    let actor = session.principal().email.clone();
    let lifted = db
        .run(move |conn| {
            Ok(login_limits::lift(
                conn,
                &limiters,
                &actor,
                &key,
                chrono::Utc::now(),
            ))
        })
        .await;
    match lifted {
        Ok(Ok(_)) => see_other("/admin/anmeldesperren?hinweis=aufgehoben"),
        Ok(Err(error)) => failure(&api, &session, error),
        Err(error) => failure(&api, &session, ServiceError::Db(error)),
    }
}
