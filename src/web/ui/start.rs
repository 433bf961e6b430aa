//! `GET /`: the start page of a logged-in user. For now a greeting with organisation and roles;
//! tasks and deadlines come later.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::{UiSession, layout, render, role_label};
use crate::web::api::ApiState;

/// Confirmations other pages send the user here with (`/?hinweis=…`); only these fixed texts
/// are ever shown, never the parameter itself.
const NOTICES: &[(&str, &str)] = &[("passwort-geaendert", "Ihr Passwort wurde geändert.")];

#[derive(Deserialize)]
struct StartQuery {
    hinweis: Option<String>,
}

/// The start page.
pub async fn show(req: HttpRequest, session: UiSession, api: web::Data<ApiState>) -> HttpResponse {
    let notice = serde_urlencoded::from_str::<StartQuery>(req.query_string())
        .ok()
        .and_then(|query| query.hinweis)
        .and_then(|key| NOTICES.iter().find(|(k, _)| *k == key))
        .map(|(_, text)| *text);
    let organisation = session.organisation();
    let mut context = layout("Startseite", Some(&session), Some("/"));
    context["hinweis"] = json!(notice);
    context["benutzer"] = json!({
        "name": session.display_name(),
        "email": session.principal().email,
        "organisation": organisation.name,
        "organisation_schluessel": organisation.key,
        "rollen": session.principal().roles.iter().map(|r| role_label(*r)).collect::<Vec<_>>(),
    });
    render(&api, StatusCode::OK, "start", &context)
}
