//! `/vorgaenge/neu`: start a case in two steps — choose the procedure, then fill in its form.
//!
//! Coordinators start cases for their own organisation; administrators choose the applicant.
//! Rules about the applicant itself (`antragsberechtigt`: only Kreise and kreisfreie Städte may
//! apply) are checked before the form is offered, so a kreisangehörige Gemeinde learns at once
//! that it cannot apply and that the Anregung at its Kreis is the way — not only after filling
//! in the whole application.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::case_page::{blocking, service_error};
use super::form::{self, Choices, FieldErrors, Submitted};
use super::{CsrfForm, Session, UiSession, encode_query_value, layout, render, see_other};
use crate::auth::{CaseScope, Permission};
use crate::db::Database;
use crate::db::models::{DefinitionRow, Organisation, Role};
use crate::engine::definition::Step;
use crate::rules::{self, RuleContext};
use crate::service::workflows::DeployedWorkflow;
use crate::service::{ServiceError, cases, clock};
use crate::web::api::ApiState;
use crate::web::api::cases::permit;

/// Why `applicant` cannot use `workflow` (German rule message), if a rule of the first step's
/// actions that judges the applicant alone ([`rules::judges_applicant_only`]) says so.
pub fn applicant_refusal(workflow: &DeployedWorkflow, applicant: &Organisation) -> Option<String> {
    let definition = workflow.definition();
    let Some(Step::Task(task)) = definition.steps.get(&definition.start) else {
        return None;
    };
    let data = json!({});
    task.actions
        .values()
        .flat_map(|action| action.rules.iter())
        .filter(|rule| rules::judges_applicant_only(rule))
        .filter_map(|rule| {
            rules::check(
                rule,
                &RuleContext {
                    data: &data,
                    applicant_kind: applicant.kind.as_str(),
                    applicant_name: &applicant.name,
                },
            )
            .ok()
        })
        .flatten()
        .find(|finding| finding.is_error())
        .map(|finding| finding.message)
}

fn may_create(session: &Session, applicant: &Organisation) -> bool {
    session
        .authorize(
            Permission::CreateCase,
            Some(&CaseScope {
                applicant: applicant.id,
                submitted: false,
            }),
        )
        .is_ok()
}

fn is_admin(session: &Session) -> bool {
    session.principal().has_role(Role::Admin)
}

fn forbidden(api: &ApiState, session: &Session) -> HttpResponse {
    super::error_page(
        api,
        StatusCode::FORBIDDEN,
        Some(session),
        "Keine Berechtigung",
        "Sie dürfen keine Vorgänge anlegen. Vorgänge legen die Koordination und die \
         Administration an.",
        "",
    )
}

/// Query of the first step: the chosen procedure.
#[derive(Debug, Deserialize)]
pub struct ChooseQuery {
    verfahren: Option<String>,
}

/// `GET /vorgaenge/neu`: the procedures to choose from (a GET form leads to the second step).
pub async fn choose(
    session: UiSession,
    query: web::Query<ChooseQuery>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let session = session.into_inner();
    if let Some(key) = query.verfahren.as_deref().filter(|k| !k.is_empty()) {
        return see_other(&format!("/vorgaenge/neu/{}", encode_query_value(key)));
    }
    if !may_create(&session, session.organisation()) && !is_admin(&session) {
        return forbidden(&api, &session);
    }
    let state = api.clone();
    let own = session.organisation().clone();
    let admin = is_admin(&session);
    let listed = blocking(&db, move |conn| {
        let rows = DefinitionRow::all_latest(conn)?;
        let mut out = Vec::new();
        for row in rows {
            let workflow = state.registry.by_id(conn, row.id)?;
            let hinweis = if admin {
                None
            } else {
                applicant_refusal(&workflow, &own)
            };
            out.push(json!({
                "key": row.key,
                "titel": row.title,
                "beschreibung": workflow.definition().description,
                "hinweis": hinweis,
                "id": format!("verfahren-{}", row.key),
            }));
        }
        Ok(out)
    })
    .await;
    let listed = match listed {
        Ok(listed) => listed,
        Err(error) => return service_error(&api, &session, error),
    };
    let mut context = layout("Neuer Vorgang", Some(&session), Some("/vorgaenge/neu"));
    context["verfahren"] = json!(listed);
    render(&api, StatusCode::OK, "vorgang_neu", &context)
}

/// What the second step shows besides the generated fields.
struct FormPage<'a> {
    workflow: &'a DeployedWorkflow,
    organisations: &'a [Organisation],
    data: Value,
    errors: FieldErrors,
    applicant: Option<String>,
    refusal: Option<String>,
}

fn form_page(
    api: &ApiState,
    session: &Session,
    status: StatusCode,
    page: FormPage<'_>,
) -> HttpResponse {
    let definition = page.workflow.definition();
    let mut context = layout(
        &format!("Neuer Vorgang: {}", page.workflow.title),
        Some(session),
        Some("/vorgaenge/neu"),
    );
    let choices = Choices {
        organisations: page
            .organisations
            .iter()
            .map(|o| (o.key.clone(), o.designation().into_owned()))
            .collect(),
        documents: Vec::new(),
    };
    context["verfahren"] = json!({
        "key": page.workflow.key(),
        "titel": page.workflow.title,
        "beschreibung": definition.description,
    });
    let roles = crate::auth::workflow_roles(session.principal());
    // A new case has nothing yet in the fields its creator may not fill in: they are left out.
    let fields: Vec<Value> = form::render(
        &page.data,
        &page.errors,
        &choices,
        form::Editing {
            definition,
            roles: &roles,
        },
    )
    .into_iter()
    .filter(|node| node["gesperrt"] != true)
    .collect();
    context["felder"] = json!(fields);
    context["fehler"] = json!(
        page.errors
            .iter()
            .map(
                |(pointer, message)| json!({ "ziel": form::field_id(pointer), "meldung": message })
            )
            .collect::<Vec<_>>()
    );
    context["regel"] = json!(page.refusal);
    context["antragsteller_waehlen"] = json!(is_admin(session));
    context["antragsteller"] = json!(
        page.organisations
            .iter()
            .map(|o| json!({
                "wert": o.key,
                "label": o.designation(),
                "gewaehlt": page.applicant.as_deref().unwrap_or(&session.organisation().key) == o.key,
            }))
            .collect::<Vec<_>>()
    );
    context["eigene_organisation"] = json!(session.organisation().designation());
    render(api, status, "vorgang_neu_formular", &context)
}

/// `GET /vorgaenge/neu/{workflow}`: the generated form of the procedure.
pub async fn form(
    session: UiSession,
    path: web::Path<String>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let session = session.into_inner();
    if !may_create(&session, session.organisation()) && !is_admin(&session) {
        return forbidden(&api, &session);
    }
    let key = path.into_inner();
    let state = api.clone();
    let loaded = blocking(&db, move |conn| {
        Ok((state.registry.latest(conn, &key)?, Organisation::all(conn)?))
    })
    .await;
    let (workflow, organisations) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return service_error(&api, &session, error),
    };
    let refusal = if is_admin(&session) {
        None
    } else {
        applicant_refusal(&workflow, session.organisation())
    };
    let status = if refusal.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    form_page(
        &api,
        &session,
        status,
        FormPage {
            workflow: &workflow,
            organisations: &organisations,
            data: json!({}),
            errors: FieldErrors::new(),
            applicant: None,
            refusal,
        },
    )
}

/// `POST /vorgaenge/neu/{workflow}`: starts the case, or shows the form again with the errors.
pub async fn create(
    path: web::Path<String>,
    form: CsrfForm<Vec<(String, String)>>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let CsrfForm {
        session,
        form: pairs,
        ..
    } = form;
    let key = path.into_inner();
    let chosen = pairs
        .iter()
        .find(|(k, _)| k == "_antragsteller")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty() && is_admin(&session));
    let state = api.clone();
    let lookup_key = key.clone();
    let loaded = blocking(&db, move |conn| {
        Ok((
            state.registry.latest(conn, &lookup_key)?,
            Organisation::all(conn)?,
        ))
    })
    .await;
    let (workflow, organisations) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return service_error(&api, &session, error),
    };
    let applicant = match &chosen {
        Some(chosen) => match organisations.iter().find(|o| &o.key == chosen) {
            Some(found) => found.clone(),
            None => {
                return service_error(
                    &api,
                    &session,
                    ServiceError::NotFound(format!("Die Organisation „{chosen}“ gibt es nicht.")),
                );
            }
        },
        None => session.organisation().clone(),
    };
    let (data, parse_errors) = form::parse(&workflow.definition().data, &Submitted::new(&pairs));
    let refusal = applicant_refusal(&workflow, &applicant);
    let again = |status, data, errors: FieldErrors, refusal| {
        form_page(
            &api,
            &session,
            status,
            FormPage {
                workflow: &workflow,
                organisations: &organisations,
                data,
                errors,
                applicant: chosen.clone(),
                refusal,
            },
        )
    };
    if refusal.is_some() {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            data,
            FieldErrors::new(),
            refusal,
        );
    }
    if !parse_errors.is_empty() {
        let errors = parse_errors
            .into_iter()
            .map(|e| (e.pointer, e.message))
            .collect();
        return again(StatusCode::UNPROCESSABLE_ENTITY, data, errors, None);
    }
    let principal = session.principal().clone();
    let state = api.clone();
    let submitted = data.clone();
    let started_for = applicant.clone();
    let outcome = blocking(&db, move |conn| {
        permit(
            &principal,
            Permission::CreateCase,
            cases::CaseAccess {
                applicant: started_for.id,
                submitted: false,
            },
        )?;
        let case = cases::start_case(
            conn,
            &state.case_context(),
            &key,
            &started_for,
            submitted,
            &crate::web::api::actor(&principal),
            &clock::now(),
        )?;
        Ok(case.row.id.0)
    })
    .await;
    match outcome {
        Ok(id) => see_other(&format!("/vorgaenge/{id}?hinweis=angelegt")),
        Err(ServiceError::InvalidData(errors)) => {
            let mut by_pointer = FieldErrors::new();
            for error in errors {
                by_pointer.entry(error.pointer).or_insert(error.message);
            }
            again(StatusCode::UNPROCESSABLE_ENTITY, data, by_pointer, None)
        }
        Err(error) => service_error(&api, &session, error),
    }
}
