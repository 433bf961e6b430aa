//! `/admin/aussonderung`: ended cases whose retention period is over, the form recording the
//! archive's decision (which deletes the case), and the records of deleted cases
//! (`service::retention`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::{failure, field_errors, local_time, notice, refusal};
use crate::auth::Permission;
use crate::db::models::{CaseId, DefinitionRow};
use crate::db::{Database, DbConnection};
use crate::engine::data::DataError;
use crate::service::case_links;
use crate::service::retention::{self, Decision, Disposal, DisposedCase, DueCase, RetentionPolicy};
use crate::service::{ServiceError, clock};
use crate::web::api::ApiState;
use crate::web::ui::case_list::status_label;
use crate::web::ui::case_page::linked_cases_de;
use crate::web::ui::{CsrfForm, Session, UiSession, layout, render, see_other};

const NOTICES: &[(&str, &str)] = &[(
    "ausgesondert",
    "Der Vorgang wurde ausgesondert und gelöscht; der Nachweis steht unten.",
)];

/// The form's fields, in the order of the page.
const FIELDS: [&str; 3] = ["entscheidung", "zeichen", "bestaetigung"];

fn day(date: chrono::NaiveDate) -> String {
    date.format("%d.%m.%Y").to_string()
}

/// How the case ended, and on which day in Germany: „vorzeitig beendet am 03.03.2026“.
fn ended(status: &str, at: chrono::NaiveDateTime) -> String {
    format!(
        "{} am {}",
        status_label(status),
        day(clock::berlin_date(at.and_utc()))
    )
}

fn due_json(case: &DueCase) -> Value {
    json!({
        "id": case.id,
        "aktenzeichen": case.aktenzeichen,
        "antragsteller": case.applicant_name,
        "beendet": ended(&case.status, case.ended_at),
        "aufbewahrt_bis": day(case.retention_until),
        "exportiert": case.exported,
    })
}

fn disposed_json(case: &DisposedCase) -> Value {
    json!({
        "aktenzeichen": case.aktenzeichen,
        "antragsteller": case.applicant_name,
        "beendet": ended(&case.status, case.ended_at),
        "entscheidung": case.decision.label(),
        "zeichen": case.reference,
        "ausgesondert": local_time(case.disposed_at),
        "von": case.disposed_by,
        "dokumente": case.documents,
        "journal_eintrag": case.journal_seq,
        "journal_hash": case.journal_head,
    })
}

/// `GET /admin/aussonderung`: the due cases and the records of deleted ones.
pub async fn list(
    req: HttpRequest,
    session: UiSession,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    let session = session.into_inner();
    if let Some(refused) = refusal(&api, &session, Permission::DisposeCases) {
        return refused;
    }
    let today = clock::now().today;
    let state = api.clone();
    let listed = db
        .run(move |conn| Ok(listing(conn, &state, today)))
        .await
        .map_err(ServiceError::Db)
        .and_then(|listed| listed);
    let (policy, periods, due, disposed) = match listed {
        Ok(listed) => listed,
        Err(error) => return failure(&api, &session, error),
    };
    let mut context = layout("Aussonderung", Some(&session), Some("/admin"));
    context["hinweis"] = json!(notice(req.query_string(), NOTICES));
    context["jahre"] = json!(policy.default_years());
    context["eigene_fristen"] = json!(periods);
    context["anzahl_faellig"] = json!(due.len());
    context["faellig"] = json!(due.iter().map(due_json).collect::<Vec<_>>());
    context["ausgesondert"] = json!(disposed.iter().map(disposed_json).collect::<Vec<_>>());
    render(&api, StatusCode::OK, "admin_aussonderung", &context)
}

/// What the list shows: the policy, the workflows with a period of their own (title and
/// years), the due cases and the records of deleted ones.
type Listing = (RetentionPolicy, Vec<Value>, Vec<DueCase>, Vec<DisposedCase>);

fn listing(
    conn: &mut DbConnection,
    api: &ApiState,
    today: chrono::NaiveDate,
) -> Result<Listing, ServiceError> {
    let policy = RetentionPolicy::load(conn, api.retention_years)?;
    let mut periods = Vec::new();
    for (key, years) in policy.by_workflow() {
        let title = DefinitionRow::latest(conn, key)?.map_or_else(|| key.clone(), |row| row.title);
        periods.push(json!({ "titel": title, "jahre": years }));
    }
    let due = retention::due(conn, today, &policy)?;
    let disposed = retention::disposed(conn)?;
    Ok((policy, periods, due, disposed))
}

/// The form's fields as sent (shown again when something is missing); absent ones are empty.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct DisposeForm {
    /// `archived` or `declined`.
    entscheidung: String,
    /// The archive's reference.
    zeichen: String,
    /// `ja` when the deletion is confirmed.
    bestaetigung: String,
}

impl DisposeForm {
    fn confirmed(&self) -> bool {
        self.bestaetigung == "ja"
    }
}

/// `GET /admin/aussonderung/{id}`: the form for one due case.
pub async fn form(
    session: UiSession,
    id: web::Path<i64>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    let session = session.into_inner();
    if let Some(refused) = refusal(&api, &session, Permission::DisposeCases) {
        return refused;
    }
    form_page(
        &api,
        &db,
        &session,
        id.into_inner(),
        StatusCode::OK,
        &DisposeForm::default(),
        &[],
    )
    .await
}

/// A due case with the cases linked with it, which stay and lose the link when it goes.
struct DueWithLinks {
    case: DueCase,
    /// Whether any linked case is named.
    linked: bool,
    /// The linked cases as the form names them.
    named: Value,
}

/// Case `id` if it is due, with its linked cases.
fn due_with_links(
    conn: &mut DbConnection,
    api: &ApiState,
    id: CaseId,
    today: chrono::NaiveDate,
    reader: &crate::auth::Principal,
) -> Result<Option<DueWithLinks>, ServiceError> {
    let policy = RetentionPolicy::load(conn, api.retention_years)?;
    let Some(case) = retention::due_case(conn, id, today, &policy)? else {
        return Ok(None);
    };
    let links = case_links::of_case(conn, id, reader)?;
    let workflows = case_links::workflows_of(conn, &api.registry, &links, &[])?;
    // The form names no steps, so the case's own workflow is not read.
    let named = linked_cases_de(&links, &workflows, None);
    Ok(Some(DueWithLinks {
        case,
        linked: !links.is_empty(),
        named,
    }))
}

/// The form for due case `id`, with `input` and `errors`; "not found" when the case is not due.
async fn form_page(
    api: &web::Data<ApiState>,
    db: &Database,
    session: &Session,
    id: i64,
    status: StatusCode,
    input: &DisposeForm,
    errors: &[DataError],
) -> HttpResponse {
    let today = clock::now().today;
    let state = api.clone();
    let reader = session.principal().clone();
    let due = db
        .run(move |conn| Ok(due_with_links(conn, &state, CaseId(id), today, &reader)))
        .await
        .map_err(ServiceError::Db)
        .and_then(|due| due);
    let case = match due {
        Ok(case) => case,
        Err(error) => return failure(api, session, error),
    };
    let Some(DueWithLinks {
        case,
        linked,
        named,
    }) = case
    else {
        return failure(
            api,
            session,
            ServiceError::NotFound(
                "Dieser Vorgang ist nicht zur Aussonderung fällig: Er läuft noch, seine \
                 Aufbewahrungsfrist ist nicht abgelaufen, oder er wurde schon ausgesondert."
                    .into(),
            ),
        );
    };
    let mut context = layout(
        &format!("Vorgang {} aussondern", case.aktenzeichen),
        Some(session),
        Some("/admin"),
    );
    context["vorgang"] = due_json(&case);
    context["bezug"] = named;
    context["verknuepft"] = json!(linked);
    context["entscheidungen"] = json!(
        [Decision::Archived, Decision::Declined]
            .iter()
            .map(|d| json!({
                "wert": d.as_str(),
                "name": match d {
                    Decision::Archived => "Das Archiv übernimmt die Akte (die exportierte Akte wurde übergeben).",
                    Decision::Declined => "Das Archiv hat die Akte als nicht archivwürdig bewertet.",
                },
                "gewaehlt": input.entscheidung == d.as_str(),
            }))
            .collect::<Vec<_>>()
    );
    context["zeichen"] = json!(input.zeichen);
    context["bestaetigt"] = json!(input.confirmed());
    field_errors(&mut context, errors, &FIELDS, |pointer| {
        match pointer {
            "/reference" => "zeichen",
            "/decision" => "entscheidung",
            "/confirmed" => "bestaetigung",
            // A refusal about the case as a whole is shown at the decision.
            _ => "entscheidung",
        }
        .to_string()
    });
    render(api, status, "admin_aussonderung_vorgang", &context)
}

/// The decision as the form gives it, or what is missing: a decision, the confirmation.
fn checked(input: &DisposeForm) -> Result<Disposal, Vec<DataError>> {
    let mut errors = Vec::new();
    let decision = Decision::parse(&input.entscheidung);
    if decision.is_none() {
        errors.push(DataError {
            pointer: "/decision".into(),
            message: "Bitte wählen Sie die Entscheidung des Archivs.".into(),
        });
    }
    if !input.confirmed() {
        errors.push(DataError {
            pointer: "/confirmed".into(),
            message: "Bitte bestätigen Sie, dass der Vorgang endgültig gelöscht wird.".into(),
        });
    }
    match decision {
        Some(decision) if errors.is_empty() => Ok(Disposal {
            decision,
            reference: input.zeichen.clone(),
        }),
        _ => Err(errors),
    }
}

/// `POST /admin/aussonderung/{id}`: records the archive's decision and deletes the case, or
/// shows the form again with what is missing; nothing is deleted then.
pub async fn dispose(
    form: CsrfForm<DisposeForm>,
    id: web::Path<i64>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    let CsrfForm {
        session,
        form: input,
        ..
    } = form;
    if let Some(refused) = refusal(&api, &session, Permission::DisposeCases) {
        return refused;
    }
    let id = id.into_inner();
    let errors = match checked(&input) {
        Ok(disposal) => {
            let actor = crate::web::api::actor(session.principal());
            let state = api.clone();
            let outcome = db
                .run(move |conn| {
                    Ok(
                        RetentionPolicy::load(conn, state.retention_years).and_then(|policy| {
                            retention::dispose(
                                conn,
                                &state.documents,
                                CaseId(id),
                                &disposal,
                                &actor,
                                &clock::now(),
                                &policy,
                            )
                        }),
                    )
                })
                .await;
            match outcome {
                Ok(Ok(_)) => return see_other("/admin/aussonderung?hinweis=ausgesondert"),
                Ok(Err(ServiceError::InvalidInput(errors))) => errors,
                Ok(Err(ServiceError::Unprocessable(message) | ServiceError::Conflict(message))) => {
                    vec![DataError {
                        pointer: String::new(),
                        message,
                    }]
                }
                Ok(Err(error)) => return failure(&api, &session, error),
                Err(error) => return failure(&api, &session, ServiceError::Db(error)),
            }
        }
        Err(errors) => errors,
    };
    form_page(
        &api,
        &db,
        &session,
        id,
        StatusCode::UNPROCESSABLE_ENTITY,
        &input,
        &errors,
    )
    .await
}
