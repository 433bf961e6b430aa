//! The case page's forms: change the data, take an action, send an invitation again.
//!
//! Each form carries the `version` it was loaded with. A stale version never overwrites: the
//! page comes back with 409, the notice „Der Vorgang wurde inzwischen geändert …“, what changed,
//! and (for the data form) the user's own values kept in the form with the current version, so
//! a second submit is a deliberate decision.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::Value;

use super::case_page::{self, Conflict, Overrides, blocking, service_error, show};
use super::form::{self, FieldErrors, Submitted};
use super::{CsrfForm, Session, encode_query_value, see_other};
use crate::auth::Permission;
use crate::db::Database;
use crate::db::models::CaseId;
use crate::engine::data::{DataError, merge_patch};
use crate::engine::editors;
use crate::service::cases::{self, Invocation};
use crate::service::{ServiceError, clock};
use crate::web::api::ApiState;
use crate::web::api::cases::{permit, permitted_row};

/// The notice of every version conflict.
pub const CONFLICT_NOTICE: &str = "Der Vorgang wurde inzwischen geändert, während Sie ihn \
     bearbeitet haben. Ihre Eingaben wurden nicht gespeichert, damit nichts überschrieben wird. \
     Bitte prüfen Sie die Änderungen unten und senden Sie das Formular erneut, wenn Ihre Angaben \
     weiterhin gelten sollen.";

/// Schema errors by the pointer of their field, the first per field.
pub(super) fn errors_by_pointer(errors: Vec<DataError>) -> FieldErrors {
    let mut out = FieldErrors::new();
    for error in errors {
        out.entry(error.pointer).or_insert(error.message);
    }
    out
}

/// The `version` a form was loaded with.
pub(super) fn version_of(pairs: &[(String, String)]) -> Option<i64> {
    pairs
        .iter()
        .find(|(k, _)| k == "version")
        .and_then(|(_, v)| v.trim().parse().ok())
}

/// The page for a form without a valid version: nothing was changed.
pub(super) fn bad_version(api: &ApiState, session: &Session) -> HttpResponse {
    super::error_page(
        api,
        StatusCode::BAD_REQUEST,
        Some(session),
        "Ungültiges Formular",
        "Das Formular nennt keine gültige Version des Vorgangs. Es wurde nichts geändert. Bitte \
         laden Sie die Seite neu.",
        "",
    )
}

/// `POST /vorgaenge/{id}/daten`: the data form, saved as a JSON merge patch of what changed.
pub async fn change_data(
    path: web::Path<i64>,
    form: CsrfForm<Vec<(String, String)>>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let CsrfForm {
        session,
        form: pairs,
        ..
    } = form;
    let id = CaseId(path.into_inner());
    let Some(version) = version_of(&pairs) else {
        return bad_version(&api, &session);
    };
    let principal = session.principal().clone();
    let state = api.clone();
    // The case as stored now (hidden → 404 before anything is parsed against its schema).
    let current = blocking(&db, move |conn| {
        let (case, _) = cases::load_with_applicant(conn, &state.registry, id)?;
        permit(&principal, Permission::ReadCase, case.access())?;
        permit(&principal, Permission::ChangeCaseData, case.access())?;
        Ok(case)
    })
    .await;
    let current = match current {
        Ok(case) => case,
        Err(error) => return service_error(&api, &session, error),
    };
    let schema = &current.workflow.definition().data;
    let roles = crate::auth::workflow_roles(session.principal());
    // A form sent while another role's step came up (the Antrag was submitted meanwhile).
    let acting = match editors::at_work(&current.workflow.workflow, &current.instance, &roles) {
        Ok(acting) => acting,
        Err(refusal) => {
            let error = ServiceError::Refused(vec![refusal]);
            return refused_or_error(&db, &api, &session, id, error).await;
        }
    };
    let (submitted, parse_errors) = form::parse(schema, &Submitted::new(&pairs));
    let editing = form::Editing {
        definition: current.workflow.definition(),
        roles: &acting,
    };
    let patch = form::patch(editing, &current.instance.data, &submitted);
    // What the form shows again after a failure: the input, and the fields the viewer may not
    // change (disabled, so not submitted) as they are stored.
    let submitted = {
        let mut shown = current.instance.data.clone();
        merge_patch(&mut shown, &patch);
        shown
    };
    if !parse_errors.is_empty() {
        return show(
            &db,
            &api,
            &session,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            Overrides {
                data: Some(submitted),
                errors: errors_by_pointer(parse_errors),
                notice: Some(
                    "Einige Angaben konnten nicht gelesen werden; es wurde nichts gespeichert."
                        .into(),
                ),
                ..Overrides::default()
            },
        )
        .await;
    }
    if version != current.row.version {
        return conflict(
            &db,
            &api,
            &session,
            id,
            version,
            Some(submitted),
            &current.instance.data,
            schema,
        )
        .await;
    }
    if patch.as_object().is_some_and(|o| o.is_empty()) {
        return see_other(&format!("/vorgaenge/{}?hinweis=unveraendert", id.0));
    }
    // The page after saving opens the sections of what changed.
    let changed: Vec<String> = patch
        .as_object()
        .map(|fields| fields.keys().cloned().collect())
        .unwrap_or_default();
    let principal = session.principal().clone();
    let state = api.clone();
    let outcome = blocking(&db, move |conn| {
        let actor = crate::web::api::actor(&principal);
        let now = clock::now();
        let check = |access| permit(&principal, Permission::ChangeCaseData, access);
        cases::change_data(
            conn,
            &state.case_context(),
            id,
            version,
            patch,
            Invocation {
                actor: &actor,
                clock: &now,
                check: &check,
            },
        )
    })
    .await;
    match outcome {
        Ok(_) => see_other(&format!(
            "/vorgaenge/{}?hinweis=gespeichert&offen={}",
            id.0,
            encode_query_value(&changed.join(","))
        )),
        Err(ServiceError::VersionConflict { .. }) => {
            // Someone saved between our read and the write: compare with what is stored now.
            let state = api.clone();
            let principal = session.principal().clone();
            let now = blocking(&db, move |conn| {
                Ok(case_page::load(conn, &state, &principal, id)?
                    .case
                    .instance
                    .data)
            })
            .await
            .unwrap_or(Value::Null);
            conflict(
                &db,
                &api,
                &session,
                id,
                version,
                Some(submitted),
                &now,
                schema,
            )
            .await
        }
        Err(ServiceError::InvalidData(errors)) => {
            show(
                &db,
                &api,
                &session,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Overrides {
                    data: Some(submitted),
                    errors: errors_by_pointer(errors),
                    notice: Some(
                        "Einige Angaben passen nicht zum Verfahren; es wurde nichts gespeichert."
                            .into(),
                    ),
                    ..Overrides::default()
                },
            )
            .await
        }
        Err(error) => refused_or_error(&db, &api, &session, id, error).await,
    }
}

/// The 409 page: notice, comparison, and the submitted values in the form.
#[allow(clippy::too_many_arguments)]
async fn conflict(
    db: &Database,
    api: &web::Data<ApiState>,
    session: &Session,
    id: CaseId,
    version: i64,
    submitted: Option<Value>,
    current: &Value,
    schema: &indexmap::IndexMap<String, crate::engine::definition::Field>,
) -> HttpResponse {
    let differences = submitted
        .as_ref()
        .map(|s| form::differences(schema, s, current))
        .unwrap_or_default();
    show(
        db,
        api,
        session,
        id,
        StatusCode::CONFLICT,
        Overrides {
            data: submitted,
            notice: Some(CONFLICT_NOTICE.into()),
            conflict: Some(Conflict {
                submitted_version: version,
                differences,
            }),
            ..Overrides::default()
        },
    )
    .await
}

/// A refusal (422 with the reasons) or an error page.
/// A form about a case that cannot be used now (an invitation answered or closed) leads back to
/// the case page, which says why; a hidden case or a refused user gets the error page.
pub(super) async fn form_refused(
    db: &Database,
    api: &web::Data<ApiState>,
    session: &Session,
    id: CaseId,
    error: ServiceError,
) -> HttpResponse {
    match error {
        ServiceError::Unprocessable(_) => refused_or_error(db, api, session, id, error).await,
        other => service_error(api, session, other),
    }
}

/// What a form about case `id` shows, read by `load` as the session's user on the blocking
/// pool; when the form cannot be shown, the answer to give instead ([`form_refused`]). Every
/// form reads again on submit, so that an error shows the form as it stands now.
pub(super) async fn form_facts<T, L>(
    db: &web::Data<Database>,
    api: &web::Data<ApiState>,
    session: &Session,
    id: CaseId,
    load: L,
) -> Result<T, HttpResponse>
where
    L: FnOnce(&mut crate::db::DbConnection, &ApiState, &Session) -> Result<T, ServiceError>
        + Send
        + 'static,
    T: Send + 'static,
{
    let (reader, state) = (session.clone(), api.clone());
    match blocking(db, move |conn| load(conn, &state, &reader)).await {
        Ok(facts) => Ok(facts),
        Err(error) => Err(form_refused(db, api, session, id, error).await),
    }
}

pub(super) async fn refused_or_error(
    db: &Database,
    api: &web::Data<ApiState>,
    session: &Session,
    id: CaseId,
    error: ServiceError,
) -> HttpResponse {
    let reasons: Vec<String> = match &error {
        ServiceError::Refused(reasons) => reasons.iter().map(|r| r.message().to_string()).collect(),
        ServiceError::Engine(error) => vec![error.to_string()],
        ServiceError::BadRequest(message) | ServiceError::Unprocessable(message) => {
            vec![message.clone()]
        }
        _ => return service_error(api, session, error),
    };
    show(
        db,
        api,
        session,
        id,
        StatusCode::UNPROCESSABLE_ENTITY,
        Overrides {
            notice: Some(format!(
                "Das war nicht möglich; es wurde nichts geändert. {}",
                reasons.join(" ")
            )),
            ..Overrides::default()
        },
    )
    .await
}

/// The action form's fields.
#[derive(Debug, Deserialize)]
pub struct ActionForm {
    version: Option<String>,
    #[serde(default)]
    schritt: Option<String>,
}

/// `POST /vorgaenge/{id}/aktionen/{action}`.
pub async fn take_action(
    path: web::Path<(i64, String)>,
    form: CsrfForm<ActionForm>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let CsrfForm { session, form, .. } = form;
    let (id, action) = path.into_inner();
    let Some(version) = form.version.as_deref().and_then(|v| v.trim().parse().ok()) else {
        return bad_version(&api, &session);
    };
    let step = form.schritt.filter(|s| !s.is_empty());
    let command = (CaseId(id), version, Permission::TakeAction);
    run_case_command(&db, &api, &session, command, "aktion", {
        move |conn, ctx, call| {
            let step = step.as_deref();
            cases::take_action(conn, ctx, CaseId(id), version, &action, step, None, call)
        }
    })
    .await
}

/// Runs `command` on case `id` (the form's `version`) as the session's user, who must read the
/// case (a hidden one stays 404, even for a user who could act on visible ones) and hold
/// `permission` in it, then answers as the case page does: back to the page with `hinweis` when
/// it happened, the conflict page for a stale version, the refusal with its reasons otherwise.
pub(super) async fn run_case_command<F>(
    db: &web::Data<Database>,
    api: &web::Data<ApiState>,
    session: &Session,
    (id, version, permission): (CaseId, i64, Permission),
    hinweis: &str,
    command: F,
) -> HttpResponse
where
    F: FnOnce(
            &mut crate::db::DbConnection,
            &cases::CaseContext<'_>,
            Invocation<'_>,
        ) -> Result<cases::LoadedCase, ServiceError>
        + Send
        + 'static,
{
    let principal = session.principal().clone();
    let state = api.clone();
    let outcome = blocking(db, move |conn| {
        permitted_row(conn, &principal, Permission::ReadCase, id)?;
        let actor = crate::web::api::actor(&principal);
        let now = clock::now();
        let check = |access| permit(&principal, permission, access);
        command(
            conn,
            &state.case_context(),
            Invocation {
                actor: &actor,
                clock: &now,
                check: &check,
            },
        )
    })
    .await;
    match outcome {
        Ok(_) => see_other(&format!("/vorgaenge/{}?hinweis={hinweis}", id.0)),
        Err(error) => command_failed(db, api, session, id, version, error).await,
    }
}

/// The case page after a command on it failed: the conflict for a stale version, the schema's
/// errors at their fields, the refusal with its reasons, else the error page.
pub(super) async fn command_failed(
    db: &web::Data<Database>,
    api: &web::Data<ApiState>,
    session: &Session,
    id: CaseId,
    version: i64,
    error: ServiceError,
) -> HttpResponse {
    match error {
        ServiceError::VersionConflict { .. } => {
            show(
                db,
                api,
                session,
                id,
                StatusCode::CONFLICT,
                Overrides {
                    notice: Some(CONFLICT_NOTICE.into()),
                    conflict: Some(Conflict {
                        submitted_version: version,
                        differences: Vec::new(),
                    }),
                    ..Overrides::default()
                },
            )
            .await
        }
        ServiceError::InvalidData(errors) => {
            show(
                db,
                api,
                session,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Overrides {
                    errors: errors_by_pointer(errors),
                    notice: Some(
                        "Die Daten passen nicht zum Verfahren; es wurde nichts geändert.".into(),
                    ),
                    ..Overrides::default()
                },
            )
            .await
        }
        error => refused_or_error(db, api, session, id, error).await,
    }
}

/// `POST /vorgaenge/{id}/einladungen/{invitation}/erneut-senden`: a new link, mailed again.
pub async fn resend(
    path: web::Path<(i64, i64)>,
    form: CsrfForm<std::collections::HashMap<String, String>>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let session = form.session;
    let (id, invitation) = path.into_inner();
    let id = CaseId(id);
    let principal = session.principal().clone();
    let state = api.clone();
    let outcome = blocking(&db, move |conn| {
        permitted_row(conn, &principal, Permission::ReadCase, id)?;
        let actor = crate::web::api::actor(&principal);
        let check = |access| permit(&principal, Permission::TakeAction, access);
        cases::resend_invitation(
            conn,
            &state.case_context(),
            id,
            invitation,
            &actor,
            &clock::now(),
            &check,
        )
    })
    .await;
    match outcome {
        Ok(_) => see_other(&format!(
            "/vorgaenge/{}?hinweis=erneut-gesendet#beteiligung",
            id.0
        )),
        Err(error) => refused_or_error(&db, &api, &session, id, error).await,
    }
}
