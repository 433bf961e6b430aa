//! `/admin…`: the administration pages – workflows, time windows, organisations, users, mail
//! outbox, jobs and timers, Aussonderung, the administration's record. Every page is for administrators only: each handler first asks
//! [`Session::authorize`] for its permission, the same decision the API makes, and anybody else
//! gets a German 403 page.

pub mod events;
pub mod jobs;
pub mod login_limits;
pub mod organisation_table;
pub mod organisations;
pub mod outbox;
pub mod retention;
pub mod time_windows;
pub mod users;
pub mod workflow_import;
pub mod workflows;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use chrono::NaiveDateTime;
use serde_json::{Value, json};

use super::{Session, UiSession, error_page, layout, render};
use crate::auth::Permission;
use crate::engine::data::DataError;
use crate::service::ServiceError;
use crate::web::api::ApiState;

/// `GET /admin`: the overview of the sections.
pub async fn overview(session: UiSession, api: actix_web::web::Data<ApiState>) -> HttpResponse {
    let permissions = [
        Permission::DeployWorkflow,
        Permission::ManageOrganisations,
        Permission::ManageUsers,
        Permission::ManageOutbox,
        Permission::ViewJobs,
        Permission::DisposeCases,
    ];
    if let Some(refused) = permissions.iter().find_map(|p| refusal(&api, &session, *p)) {
        return refused;
    }
    let context = layout("Verwaltung", Some(&session), Some("/admin"));
    render(&api, StatusCode::OK, "admin", &context)
}

/// The logged-in administrator, as the administration's record names them.
pub(crate) fn administrator(session: &Session) -> crate::service::admin_log::Administrator {
    session.principal().into()
}

/// The German 403 page to answer with when the session may not do `permission`.
pub(crate) fn refusal(
    api: &ApiState,
    session: &Session,
    permission: Permission,
) -> Option<HttpResponse> {
    session.authorize(permission, None).err().map(|denied| {
        error_page(
            api,
            StatusCode::FORBIDDEN,
            Some(session),
            "Keine Berechtigung",
            denied.message(),
            "Die Verwaltung steht nur Administratorinnen und Administratoren offen.",
        )
    })
}

/// The page for a service failure that is not the user's input: 404 for things that do not
/// exist, a German message for refusals, 500 (logged) for the rest.
pub(crate) fn failure(api: &ApiState, session: &Session, error: ServiceError) -> HttpResponse {
    let (status, titel, meldung) = match &error {
        ServiceError::NotFound(message) => {
            (StatusCode::NOT_FOUND, "Nicht gefunden", message.clone())
        }
        ServiceError::Unprocessable(message) | ServiceError::Conflict(message) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Nicht möglich",
            message.clone(),
        ),
        ServiceError::InvalidInput(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Nicht möglich",
            errors
                .iter()
                .map(|error| error.message.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        _ => {
            tracing::error!(%error, "administration page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Interner Fehler",
                "Die Seite kann gerade nicht angezeigt werden; es wurde nichts geändert. Bitte \
                 versuchen Sie es später erneut."
                    .to_string(),
            )
        }
    };
    error_page(api, status, Some(session), titel, &meldung, "")
}

/// A UTC time as people in NRW read it (`24.12.2026, 14:30`, German local time).
pub(crate) fn local_time(at: NaiveDateTime) -> String {
    at.and_utc()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .format("%d.%m.%Y, %H:%M")
        .to_string()
}

/// Field errors for the summary (`fehler`: `feld`, `meldung`) and, per field name, the message
/// shown at the field (`fehler_<feld>`). `field_of` maps a service pointer to the form field's
/// name (the element id is `feld-<name>`).
pub(crate) fn field_errors(
    context: &mut Value,
    errors: &[DataError],
    fields: &[&str],
    field_of: impl Fn(&str) -> String,
) {
    let listed: Vec<(String, String)> = errors
        .iter()
        .map(|e| (field_of(&e.pointer), e.message.clone()))
        .collect();
    context["fehler"] = json!(
        listed
            .iter()
            .map(|(feld, meldung)| json!({ "feld": feld, "meldung": meldung }))
            .collect::<Vec<_>>()
    );
    for field in fields {
        let message = listed
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>();
        context[format!("fehler_{field}")] = if message.is_empty() {
            Value::Null
        } else {
            json!(message.join(" "))
        };
    }
}

/// The fixed confirmation for `?hinweis=key` among `notices`; never the parameter itself.
pub(crate) fn notice(
    query: &str,
    notices: &[(&'static str, &'static str)],
) -> Option<&'static str> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "hinweis")
        .and_then(|(_, key)| notices.iter().find(|(k, _)| *k == key).map(|(_, t)| *t))
}

/// One query parameter's value.
pub(crate) fn query_value(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The page `seite` of the query asks for, or the German 400 page saying why it names none;
/// `again` tells how to start over (which list to open anew).
pub(crate) fn page_or_refusal(
    api: &ApiState,
    session: &Session,
    query: &str,
    again: &str,
) -> Result<i64, Box<HttpResponse>> {
    super::case_list::page_number(query_value(query, "seite").as_deref()).map_err(|message| {
        Box::new(error_page(
            api,
            StatusCode::BAD_REQUEST,
            Some(session),
            "Ungültige Seitenangabe",
            message,
            again,
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_are_fixed_texts() {
        let notices = [("gespeichert", "Gespeichert.")];
        assert_eq!(
            notice("hinweis=gespeichert", &notices),
            Some("Gespeichert.")
        );
        assert_eq!(notice("hinweis=%3Cscript%3E", &notices), None);
        assert_eq!(notice("", &notices), None);
    }

    #[test]
    fn times_are_german_local_time() {
        let winter = chrono::NaiveDate::from_ymd_opt(2026, 12, 24)
            .unwrap()
            .and_hms_opt(13, 30, 0)
            .unwrap();
        assert_eq!(local_time(winter), "24.12.2026, 14:30");
    }
}
