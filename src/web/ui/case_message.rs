//! Recording that a message a waiting step expects has arrived. A message without data is one
//! button on the case page; a message that brings data (`messages.NAME.data`: the Bescheid's
//! date comes with the Bescheid) has a page of its own with a form of exactly those fields, so
//! its errors show where they were made.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use indexmap::IndexMap;
use serde_json::{Value, json};

use super::case_actions::{bad_version, command_failed, errors_by_pointer, version_of};
use super::case_page::{blocking, service_error};
use super::form::{self, Choices, FieldErrors, Submitted};
use super::{CsrfForm, Session, UiSession, layout, render, see_other};
use crate::auth::{InternalReader, Permission};
use crate::db::Database;
use crate::db::models::{CaseId, Organisation};
use crate::documents;
use crate::engine::definition::{Definition, Field};
use crate::service::cases::{self, Invocation, LoadedCase};
use crate::service::{ServiceError, clock};
use crate::web::api::ApiState;
use crate::web::api::cases::{permit, permitted_row};

/// The address of the message's page and form: the name as one path segment, whatever
/// characters it holds.
pub fn path(id: CaseId, name: &str) -> String {
    format!(
        "/vorgaenge/{}/nachrichten/{}",
        id.0,
        percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC)
    )
}

/// What the page shows besides the form's values and errors.
struct Context {
    case: LoadedCase,
    choices: Choices,
}

/// Reads the case for someone who may act in it (a hidden case is 404).
fn load_case(
    conn: &mut crate::db::DbConnection,
    api: &ApiState,
    session: &Session,
    id: CaseId,
) -> Result<LoadedCase, ServiceError> {
    let principal = session.principal();
    let row = permitted_row(conn, principal, Permission::ReadCase, id)?;
    let case = cases::from_row(conn, &api.registry, row)?;
    permit(principal, Permission::TakeAction, case.access())?;
    Ok(case)
}

/// What the form's pickers offer: the organisations, and the case's documents but internal ones
/// (as on the case page). Read only where the form is shown.
fn choices(
    conn: &mut crate::db::DbConnection,
    session: &Session,
    id: CaseId,
) -> Result<Choices, ServiceError> {
    let organisations = Organisation::all(conn)?
        .iter()
        .map(|o| (o.key.clone(), o.designation().into_owned()))
        .collect();
    let documents = documents::list_for(conn, id.0, InternalReader::of(session.principal()))?
        .into_iter()
        .filter(|d| d.internal_to.is_none())
        .map(|d| (d.id.to_string(), d.filename))
        .collect();
    Ok(Choices {
        organisations,
        documents,
    })
}

/// What the form holds: the case version it was loaded with, its values and their errors.
struct Filled<'a> {
    version: i64,
    values: &'a Value,
    errors: &'a FieldErrors,
}

/// The message's page: its title and help, the form of the fields it brings.
fn page(
    api: &ApiState,
    session: &Session,
    status: StatusCode,
    context: &Context,
    name: &str,
    filled: Filled<'_>,
) -> HttpResponse {
    let Filled {
        version,
        values,
        errors,
    } = filled;
    let case = &context.case;
    let definition = case.workflow.definition();
    let title = definition.message_title(name);
    let mut page = layout(
        &format!("Nachricht „{title}“ – {}", case.row.aktenzeichen),
        Some(session),
        Some("/vorgaenge"),
    );
    // The form edits only the message's fields, and these are the message's to set.
    let carried = Definition {
        data: definition.message_fields(name),
        data_editors: None,
        ..definition.clone()
    };
    page["fall"] = json!({
        "id": case.row.id.0,
        "aktenzeichen": case.row.aktenzeichen,
        "version": version,
    });
    page["nachricht"] = json!({
        "titel": title,
        "hilfe": definition.messages.get(name).and_then(|m| m.help.as_deref()),
        "pfad": path(case.row.id, name),
    });
    page["felder"] = json!(form::render(
        values,
        errors,
        &context.choices,
        form::Editing {
            definition: &carried,
            roles: &[],
        },
    ));
    page["fehler"] = json!(
        errors
            .iter()
            .map(
                |(pointer, message)| json!({ "ziel": form::field_id(pointer), "meldung": message })
            )
            .collect::<Vec<_>>()
    );
    render(api, status, "nachricht", &page)
}

/// `GET /vorgaenge/{id}/nachrichten/{name}`: the form of a message that brings data.
pub async fn form(
    session: UiSession,
    path: web::Path<(i64, String)>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let session = session.into_inner();
    let (id, name) = path.into_inner();
    let (state, reader) = (api.clone(), session.clone());
    let loaded = blocking(&db, move |conn| {
        let case = load_case(conn, &state, &reader, CaseId(id))?;
        let choices = choices(conn, &reader, CaseId(id))?;
        Ok(Context { case, choices })
    })
    .await;
    match loaded {
        Ok(context)
            if !context
                .case
                .workflow
                .definition()
                .messages
                .contains_key(&name) =>
        {
            service_error(
                &api,
                &session,
                ServiceError::NotFound(format!(
                    "Das Verfahren dieses Vorgangs kennt keine Nachricht „{name}“."
                )),
            )
        }
        Ok(context) => {
            let filled = Filled {
                version: context.case.row.version,
                values: &json!({}),
                errors: &FieldErrors::new(),
            };
            page(&api, &session, StatusCode::OK, &context, &name, filled)
        }
        Err(error) => service_error(&api, &session, error),
    }
}

/// `POST /vorgaenge/{id}/nachrichten/{name}`: the message has arrived, with what its form holds.
/// Values that do not parse or do not fit the schema bring the form back with the errors at
/// their fields; nothing is recorded.
pub async fn receive(
    path: web::Path<(i64, String)>,
    form: CsrfForm<Vec<(String, String)>>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let CsrfForm {
        session,
        form: pairs,
        ..
    } = form;
    let (id, name) = path.into_inner();
    let id = CaseId(id);
    let Some(version) = version_of(&pairs) else {
        return bad_version(&api, &session);
    };
    let (state, reader) = (api.clone(), session.clone());
    let case = match blocking(&db, move |conn| load_case(conn, &state, &reader, id)).await {
        Ok(case) => case,
        Err(error) => return service_error(&api, &session, error),
    };
    let fields: IndexMap<String, Field> = case.workflow.definition().message_fields(&name);
    let (values, parse_errors) = form::parse(&fields, &Submitted::new(&pairs));
    if !parse_errors.is_empty() {
        let errors = errors_by_pointer(parse_errors);
        return form_again(&db, &api, &session, case, &name, (version, values, errors)).await;
    }
    // Fields left empty are not part of the message; a message with none filled brings nothing.
    let data = Some(values.clone()).filter(|v| v.as_object().is_some_and(|o| !o.is_empty()));
    let principal = session.principal().clone();
    let state = api.clone();
    let message = name.clone();
    let outcome = blocking(&db, move |conn| {
        let actor = crate::web::api::actor(&principal);
        let now = clock::now();
        let check = |access| permit(&principal, Permission::TakeAction, access);
        let call = Invocation {
            actor: &actor,
            clock: &now,
            check: &check,
        };
        cases::receive_message(
            conn,
            &state.case_context(),
            id,
            version,
            &message,
            data,
            call,
        )
    })
    .await;
    match outcome {
        Ok(_) => see_other(&format!("/vorgaenge/{}?hinweis=nachricht", id.0)),
        Err(ServiceError::InvalidData(errors)) if !fields.is_empty() => {
            let errors = errors_by_pointer(errors);
            form_again(&db, &api, &session, case, &name, (version, values, errors)).await
        }
        Err(error) => command_failed(&db, &api, &session, id, version, error).await,
    }
}

/// The form shown again after a refused submission: `(version, values, errors)` as submitted,
/// the errors at their fields.
async fn form_again(
    db: &Database,
    api: &ApiState,
    session: &Session,
    case: LoadedCase,
    name: &str,
    (version, values, errors): (i64, Value, FieldErrors),
) -> HttpResponse {
    let (reader, id) = (session.clone(), case.row.id);
    match blocking(db, move |conn| choices(conn, &reader, id)).await {
        Ok(choices) => {
            let filled = Filled {
                version,
                values: &values,
                errors: &errors,
            };
            let context = Context { case, choices };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            page(api, session, status, &context, name, filled)
        }
        Err(error) => service_error(api, session, error),
    }
}
