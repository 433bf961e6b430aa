//! `/konto/abwesenheit`: the user says „I am away until …, my colleague … stands in“, and ends
//! it again (see `service::absences`). The form lives on the account page.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::account::{AbsenceInput, Shown, failed, page};
use super::case_page::blocking;
use super::{CsrfForm, UiState, see_other};
use crate::db::Database;
use crate::service::absences::{self, Absence};
use crate::service::follow_ups::Successor;
use crate::service::{ServiceError, clock};
use crate::web::api::ApiState;

/// The absence form's fields, as typed.
#[derive(Deserialize)]
pub struct AbsenceForm {
    #[serde(default)]
    bis: String,
    #[serde(default)]
    vertretung: String,
}

/// The end button's form has no field besides the token.
#[derive(Deserialize)]
pub struct NoFields {}

/// `POST /konto/abwesenheit`: records the absence, or shows the page again with the input and
/// its errors (422), changing nothing.
pub async fn set(
    form: CsrfForm<AbsenceForm>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
    ui: web::Data<UiState>,
) -> HttpResponse {
    let CsrfForm { session, form, .. } = form;
    let principal = session.principal().clone();
    let (until, deputy) = (form.bis.clone(), form.vertretung.clone());
    let stored = blocking(&db, move |conn| {
        let now = clock::now();
        absences::set(
            conn,
            &principal,
            (&until, &deputy),
            now.today,
            now.now.naive_utc(),
        )
    })
    .await;
    match stored {
        Ok(_) => see_other("/konto?hinweis=abwesenheit#abwesenheit"),
        Err(ServiceError::InvalidInput(errors)) => {
            let shown = Shown {
                absence: Some(AbsenceInput {
                    until: form.bis,
                    deputy: form.vertretung,
                    // The service names the fields as the API does.
                    errors: errors
                        .into_iter()
                        .map(|e| (form_field(&e.pointer).to_string(), e.message))
                        .collect(),
                }),
                ..Shown::default()
            };
            page(
                &db,
                &api,
                &ui,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                shown,
            )
            .await
        }
        Err(error) => not_changed(&api, &session, error),
    }
}

/// `POST /konto/abwesenheit/beenden`: the user is back.
pub async fn end(
    form: CsrfForm<NoFields>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let session = form.session;
    let principal = session.principal().clone();
    match blocking(&db, move |conn| absences::end(conn, &principal)).await {
        Ok(()) => {
            tracing::info!(user_id = %session.principal().user_id, "absence ended");
            see_other("/konto?hinweis=abwesenheit-beendet#abwesenheit")
        }
        Err(error) => not_changed(&api, &session, error),
    }
}

/// The form's field (`bis`, `vertretung`) of a service error's pointer.
fn form_field(pointer: &str) -> &'static str {
    match pointer {
        "/until" => "bis",
        _ => "vertretung",
    }
}

/// The page for a change the server could not make.
fn not_changed(api: &ApiState, session: &super::Session, error: ServiceError) -> HttpResponse {
    tracing::error!(%error, "absence not changed");
    failed(
        api,
        session,
        "Ihre Abwesenheit konnte nicht geändert werden.",
    )
}

/// The account page's absence section: the current absence, the colleagues to choose from, and
/// the form as typed with its errors (`fehler_bis`, `fehler_vertretung`, null without).
pub(super) fn fill(
    context: &mut Value,
    current: Option<&Absence>,
    candidates: &[Successor],
    typed: Option<&AbsenceInput>,
    today: chrono::NaiveDate,
) {
    context["abwesenheit_von"] = json!(today.format("%Y-%m-%d").to_string());
    context["abwesenheit"] = json!(current.map(|absence| json!({
        "bis": absence.until.format("%d.%m.%Y").to_string(),
        "vertretung": absence.deputy_name,
    })));
    let chosen = typed
        .map(|t| t.deputy.clone())
        .or_else(|| current.map(|absence| absence.deputy.0.to_string()))
        .unwrap_or_default();
    context["vertretungen"] = json!(
        candidates
            .iter()
            .map(|c| json!({
                "id": c.id.0,
                "name": c.name,
                "email": c.email,
                "gewaehlt": c.id.0.to_string() == chosen,
            }))
            .collect::<Vec<_>>()
    );
    context["abwesenheit_bis"] = json!(
        typed
            .map(|t| t.until.clone())
            .or_else(|| current.map(|absence| absence.until.format("%Y-%m-%d").to_string()))
            .unwrap_or_default()
    );
    let error_at = |field: &str| {
        typed.and_then(|t| {
            t.errors
                .iter()
                .find(|(name, _)| name == field)
                .map(|(_, message)| message.clone())
        })
    };
    context["fehler_bis"] = json!(error_at("bis"));
    context["fehler_vertretung"] = json!(error_at("vertretung"));
    context["abwesenheit_fehler"] = json!(
        typed
            .map(|t| t
                .errors
                .iter()
                .map(|(name, message)| json!({
                    "ziel": format!("feld-{name}"),
                    "meldung": message,
                }))
                .collect::<Vec<_>>())
            .unwrap_or_default()
    );
}
