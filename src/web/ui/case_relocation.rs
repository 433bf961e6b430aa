//! Korrektur des Bearbeitungsstands on a case's page (`/vorgaenge/{id}/korrektur`): an
//! administrator moves the case to a task of its workflow, ended cases included, with a reason
//! for the file (`service::case_relocation`). The form first says where the case stands, what
//! ends and what stays.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;

use super::case_actions::{bad_version, command_failed, form_facts};
use super::case_page::{blocking, status_de};
use super::{CsrfForm, Session, UiSession, layout, render, see_other};
use crate::auth::Permission;
use crate::db::models::{CaseId, Organisation};
use crate::db::schema::{invitations, organisations};
use crate::db::{Database, DbConnection};
use crate::engine::data::DataError;
use crate::service::case_relocation::{self, TargetOption};
use crate::service::{ServiceError, cases, clock};
use crate::web::api::ApiState;
use crate::web::api::cases::{permit, permitted_row};

/// The form as submitted (kept to show it again next to its error).
#[derive(Debug, Default, Deserialize)]
pub struct Input {
    schritt: Option<String>,
    grund: Option<String>,
    version: Option<String>,
}

/// What the form names about the case.
struct Standing {
    aktenzeichen: String,
    /// The case's version when the form was loaded: a change since is a conflict, not lost.
    version: i64,
    /// „In Bearbeitung“, or how it ended.
    status: String,
    /// Whether it has ended (it would run again).
    ended: bool,
    /// Titles of the steps it stands at.
    steps: Vec<String>,
    /// The partners whose Stellungnahme is still open: they get a mail.
    partners: Vec<String>,
    /// The tasks of its workflow, each with whether it can be moved there now.
    targets: Vec<TargetOption>,
}

/// Case `id` as the form shows it, for an administrator (others get the error page).
fn load(
    conn: &mut DbConnection,
    api: &ApiState,
    session: &Session,
    id: CaseId,
) -> Result<Standing, ServiceError> {
    let row = permitted_row(conn, session.principal(), Permission::RelocateCase, id)?;
    let case = cases::from_row(conn, api.case_context().registry, row)?;
    let definition = case.workflow.definition();
    let partners: Vec<Organisation> = invitations::table
        .inner_join(organisations::table)
        .filter(invitations::case_id.eq(id.0))
        .filter(invitations::status.eq("open"))
        .order(invitations::id)
        .select(Organisation::as_select())
        .load(conn)?;
    Ok(Standing {
        aktenzeichen: case.row.aktenzeichen.clone(),
        version: case.row.version,
        status: status_de(
            definition,
            &case.row.status,
            case.instance.outcome.as_deref(),
        ),
        ended: matches!(case.row.status.as_str(), "completed" | "withdrawn"),
        steps: case
            .instance
            .active_steps()
            .map(|token| definition.step_title(&token.step).to_string())
            .collect(),
        partners: partners
            .iter()
            .map(|o| o.designation().into_owned())
            .collect(),
        targets: case_relocation::options(&case, &clock::now()),
    })
}

fn page(
    api: &ApiState,
    session: &Session,
    status: StatusCode,
    (id, standing): (CaseId, &Standing),
    input: &Input,
    errors: &[DataError],
) -> HttpResponse {
    let mut context = layout(
        &format!("Bearbeitungsstand korrigieren: {}", standing.aktenzeichen),
        Some(session),
        Some("/vorgaenge"),
    );
    let chosen = input.schritt.as_deref().unwrap_or_default();
    context["fall"] = json!({ "id": id.0, "aktenzeichen": standing.aktenzeichen });
    context["status"] = json!(standing.status);
    context["beendet"] = json!(standing.ended);
    context["schritte"] = json!(standing.steps);
    context["stellen"] = json!(standing.partners);
    context["ziele"] = json!(
        standing
            .targets
            .iter()
            .map(|t| {
                json!({
                    "schritt": t.step,
                    "titel": t.title,
                    "gewaehlt": t.step == chosen,
                    "gesperrt": !t.allowed,
                    "grund": t.reasons.join(" "),
                })
            })
            .collect::<Vec<_>>()
    );
    context["version"] = json!(standing.version);
    context["eingabe"] = json!({ "grund": input.grund.as_deref().unwrap_or_default() });
    // The service names the step at `/step`; the form's field is `schritt`.
    let errors: Vec<DataError> = errors
        .iter()
        .map(|e| DataError {
            pointer: e.pointer.replace(case_relocation::STEP_POINTER, "/schritt"),
            message: e.message.clone(),
        })
        .collect();
    super::form::data_errors(&mut context, &["schritt", "grund"], &errors);
    render(api, status, "vorgang_korrektur", &context)
}

/// `GET /vorgaenge/{id}/korrektur`: the form, saying where the case stands and what changes.
pub async fn form(
    session: UiSession,
    path: web::Path<i64>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let session = session.into_inner();
    let id = CaseId(path.into_inner());
    let found = form_facts(&db, &api, &session, id, move |conn, api, reader| {
        load(conn, api, reader, id)
    });
    match found.await {
        Ok(standing) => page(
            &api,
            &session,
            StatusCode::OK,
            (id, &standing),
            &Input::default(),
            &[],
        ),
        Err(answer) => answer,
    }
}

/// `POST /vorgaenge/{id}/korrektur`: moves the case at the version the form was loaded with,
/// then back to the case page. A missing choice or reason, or a step the case cannot be moved
/// to, brings the form back with the error at its field; a case changed since gives the
/// conflict page. Nothing changes in either case.
pub async fn submit(
    path: web::Path<i64>,
    form: CsrfForm<Input>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let CsrfForm {
        session,
        form: input,
        ..
    } = form;
    let id = CaseId(path.into_inner());
    let Some(version) = input.version.as_deref().and_then(|v| v.trim().parse().ok()) else {
        return bad_version(&api, &session);
    };
    let errors = match case_relocation::check(input.schritt.as_deref(), input.grund.as_deref()) {
        Ok(checked) => {
            let (principal, state) = (session.principal().clone(), api.clone());
            let outcome = blocking(&db, move |conn| {
                let actor = crate::web::api::actor(&principal);
                let now = clock::now();
                let check = |access| permit(&principal, Permission::RelocateCase, access);
                let call = cases::Invocation {
                    actor: &actor,
                    clock: &now,
                    check: &check,
                };
                case_relocation::relocate(conn, &state.case_context(), id, version, checked, call)
            })
            .await;
            match outcome {
                Ok(_) => return see_other(&format!("/vorgaenge/{}?hinweis=korrigiert", id.0)),
                Err(ServiceError::InvalidInput(errors)) => errors,
                Err(error) => return command_failed(&db, &api, &session, id, version, error).await,
            }
        }
        Err(errors) => errors,
    };
    let found = form_facts(&db, &api, &session, id, move |conn, api, reader| {
        load(conn, api, reader, id)
    });
    match found.await {
        Ok(standing) => page(
            &api,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            // Sent again, it still moves only the case the user looked at.
            (
                id,
                &Standing {
                    version,
                    ..standing
                },
            ),
            &input,
            &errors,
        ),
        Err(answer) => answer,
    }
}
