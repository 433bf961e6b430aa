//! `/admin/zeitraeume…`: the periods of the time windows workflows bind actions to (the KfI's
//! Antragszeitraum), entered and removed through [`crate::service::time_windows`], whose field
//! errors are shown at the form's fields.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use serde_json::{Value, json};

use super::{failure, field_errors, local_time, notice, refusal};
use crate::auth::Permission;
use crate::db::Database;
use crate::engine::data::DataError;
use crate::service::time_windows::{self, NewPeriod, WindowView};
use crate::service::{ServiceError, clock};
use crate::web::api::ApiState;
use crate::web::ui::account::NoFields;
use crate::web::ui::{CsrfForm, Session, UiSession, layout, render, see_other};

const NOTICES: &[(&str, &str)] = &[
    ("eingetragen", "Der Zeitraum wurde eingetragen."),
    ("entfernt", "Der Zeitraum wurde entfernt."),
];

/// The form's fields.
#[derive(Debug, Default, serde::Deserialize)]
pub struct PeriodForm {
    #[serde(default)]
    zeitraum: String,
    #[serde(default)]
    bezeichnung: String,
    #[serde(default)]
    beginn: String,
    #[serde(default)]
    ende: String,
}

/// `GET /admin/zeitraeume`.
pub async fn list(
    session: UiSession,
    request: HttpRequest,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    if let Some(refused) = refusal(&api, &session, Permission::DeployWorkflow) {
        return refused;
    }
    let hinweis = notice(request.query_string(), NOTICES);
    page(
        &api,
        &db,
        StatusCode::OK,
        &session,
        &PeriodForm::default(),
        &[],
        hinweis,
    )
    .await
}

/// `POST /admin/zeitraeume`: enters a period.
pub async fn add(
    form: CsrfForm<PeriodForm>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    let CsrfForm { session, form, .. } = form;
    if let Some(refused) = refusal(&api, &session, Permission::DeployWorkflow) {
        return refused;
    }
    let input = NewPeriod {
        name: Some(form.zeitraum.clone()),
        label: Some(form.bezeichnung.clone()),
        opens_on: Some(form.beginn.clone()),
        closes_on: Some(form.ende.clone()),
    };
    let by = session.principal().email.clone();
    let registry = api.registry.clone();
    let outcome = db
        .run(move |conn| {
            Ok(time_windows::add(
                conn,
                &registry,
                input,
                &by,
                clock::now().now.naive_utc(),
            ))
        })
        .await;
    let errors = match outcome {
        Ok(Ok(_)) => return see_other("/admin/zeitraeume?hinweis=eingetragen"),
        Ok(Err(ServiceError::InvalidInput(errors))) => errors,
        Ok(Err(error)) => return failure(&api, &session, error),
        Err(error) => return failure(&api, &session, ServiceError::Db(error)),
    };
    page(
        &api,
        &db,
        StatusCode::UNPROCESSABLE_ENTITY,
        &session,
        &form,
        &errors,
        None,
    )
    .await
}

/// `POST /admin/zeitraeume/{id}/entfernen`: removes a period entered by mistake.
pub async fn remove(
    path: web::Path<i64>,
    form: CsrfForm<NoFields>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    let session = form.session;
    if let Some(refused) = refusal(&api, &session, Permission::DeployWorkflow) {
        return refused;
    }
    let id = path.into_inner();
    let by = session.principal().email.clone();
    let outcome = db
        .run(move |conn| {
            Ok(time_windows::remove(
                conn,
                id,
                &by,
                clock::now().now.naive_utc(),
            ))
        })
        .await;
    match outcome {
        Ok(Ok(())) => see_other("/admin/zeitraeume?hinweis=entfernt"),
        Ok(Err(error)) => failure(&api, &session, error),
        Err(error) => failure(&api, &session, ServiceError::Db(error)),
    }
}

async fn page(
    api: &ApiState,
    db: &Database,
    status: StatusCode,
    session: &Session,
    form: &PeriodForm,
    errors: &[DataError],
    hinweis: Option<&str>,
) -> HttpResponse {
    let registry = api.registry.clone();
    let windows = db
        .run(move |conn| Ok(time_windows::list(conn, &registry)))
        .await;
    let windows = match windows {
        Ok(Ok(windows)) => windows,
        Ok(Err(error)) => return failure(api, session, error),
        Err(error) => return failure(api, session, ServiceError::Db(error)),
    };
    let today = clock::now().today;
    let mut context = layout("Zeiträume", Some(session), Some("/admin"));
    context["hinweis"] = json!(hinweis);
    context["zeitraeume"] = json!(
        windows
            .iter()
            .map(|window| window_json(window, today))
            .collect::<Vec<_>>()
    );
    // The form offers the declared windows; the first is chosen unless the form says otherwise.
    let declared: Vec<&WindowView> = windows.iter().filter(|w| !w.workflows.is_empty()).collect();
    context["auswahl"] = json!(
        declared
            .iter()
            .enumerate()
            .map(|(i, w)| json!({
                "name": w.name,
                "titel": w.title,
                "gewaehlt": form.zeitraum == w.name || (form.zeitraum.is_empty() && i == 0),
            }))
            .collect::<Vec<_>>()
    );
    context["bezeichnung"] = json!(form.bezeichnung);
    context["beginn"] = json!(form.beginn);
    context["ende"] = json!(form.ende);
    let fields = ["zeitraum", "bezeichnung", "beginn", "ende"];
    field_errors(&mut context, errors, &fields, |pointer| {
        match pointer {
            "/name" => "zeitraum",
            "/label" => "bezeichnung",
            "/opens_on" => "beginn",
            _ => "ende",
        }
        .to_string()
    });
    render(api, status, "admin_zeitraeume", &context)
}

/// One window's section: its title, help, the workflows binding actions to it, its periods.
fn window_json(window: &WindowView, today: NaiveDate) -> Value {
    json!({
        "name": window.name,
        "titel": window.title,
        "hilfe": window.help,
        "workflows": window.workflows,
        "erinnerung": window
            .remind
            .as_deref()
            .and_then(|text| text.parse::<crate::frist::Period>().ok())
            .map(|period| period.describe_de()),
        "abschnitte": window.periods.iter().map(|period| json!({
            "id": period.id,
            "bezeichnung": period.label,
            "beginn": period.opens_on.format("%d.%m.%Y").to_string(),
            "ende": period.closes_on.format("%d.%m.%Y").to_string(),
            "stand": if today < period.opens_on {
                "noch nicht begonnen"
            } else if today > period.closes_on {
                "abgelaufen"
            } else {
                "läuft"
            },
            "laeuft": period.opens_on <= today && today <= period.closes_on,
            "eingetragen": format!("{} von {}", local_time(period.created_at), period.created_by),
        })).collect::<Vec<_>>(),
    })
}
