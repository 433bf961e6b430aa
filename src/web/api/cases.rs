//! `/api/v1/cases`: create, list, show, change data, take actions; messages, corrections and the
//! record (Vermerke, journal, related cases) in the submodules.

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::json_object::Json;
use super::view::{CaseView, case_view};
use super::{ApiState, actor, blocking};
use crate::auth::{Caller, CaseScope, Permission, Principal, authorize};
use crate::db::models::{CaseId, CaseRow, Organisation};
use crate::db::{Database, DbConnection};
use crate::engine::data::DataError;
use crate::service::ServiceError;
use crate::service::case_list::{self, CaseFilter, Sort, SortKey};
use crate::service::cases::{self, CaseAccess, Invocation, LoadedCase};
use crate::service::clock;
use crate::service::time_windows::PeriodLookup;
use crate::web::problem::Problem;

mod corrections;
mod messages;
mod record;

pub use corrections::*;
pub use messages::*;
pub use record::*;

/// Runs `work` on the blocking pool with the caller's principal, loaded on the same connection
/// (see [`Caller`]); a gone or inactive user is refused with 401 like an invalid token.
async fn with_principal<T, F>(db: &Database, caller: Caller, work: F) -> Result<T, actix_web::Error>
where
    F: FnOnce(&mut DbConnection, Principal) -> Result<T, ServiceError> + Send + 'static,
    T: Send + 'static,
{
    let outcome = blocking(db, move |conn| match caller.principal(conn)? {
        Ok(principal) => work(conn, principal).map(Ok),
        Err(refused) => Ok(Err(refused)),
    })
    .await?;
    Ok(outcome?)
}

/// Like [`with_principal`], with the caller's organisation loaded in the same query: commands
/// answer with the case, which names its applicant, and that is usually the caller's own
/// organisation (see [`view`]).
async fn with_principal_and_organisation<T, F>(
    db: &Database,
    caller: Caller,
    work: F,
) -> Result<T, actix_web::Error>
where
    F: FnOnce(&mut DbConnection, Principal, Organisation) -> Result<T, ServiceError>
        + Send
        + 'static,
    T: Send + 'static,
{
    let outcome = blocking(db, move |conn| {
        match caller.principal_with_organisation(conn)? {
            Ok((principal, own)) => work(conn, principal, own).map(Ok),
            Err(refused) => Ok(Err(refused)),
        }
    })
    .await?;
    Ok(outcome?)
}

/// The shape of a case command over the API: `command` runs as the caller, with `permission`
/// checked on the case it loads, and the answer is the case as the caller sees it afterwards.
async fn command_answer<F>(
    db: &Database,
    caller: Caller,
    permission: Permission,
    command: F,
) -> Result<HttpResponse, actix_web::Error>
where
    F: FnOnce(&mut DbConnection, Invocation<'_>) -> Result<LoadedCase, ServiceError>
        + Send
        + 'static,
{
    let view = with_principal_and_organisation(db, caller, move |conn, principal, own| {
        let case = as_caller(&principal, permission, |call| command(conn, call))?;
        view(conn, &case, &principal, &own)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Decides one permission on a case; a denial the caller must not notice becomes "not found".
pub(crate) fn permit(
    principal: &Principal,
    permission: Permission,
    access: CaseAccess,
) -> Result<(), ServiceError> {
    let scope = CaseScope {
        applicant: access.applicant,
        submitted: access.submitted,
    };
    authorize(principal, permission, Some(&scope)).map_err(|d| {
        if d.hides_existence() {
            ServiceError::NotFound("Diesen Vorgang gibt es nicht.".into())
        } else {
            ServiceError::Forbidden(d.message().to_string())
        }
    })
}

/// The case row, if the caller holds `permission` on it (else not found / forbidden).
pub(crate) fn permitted_row(
    conn: &mut DbConnection,
    principal: &Principal,
    permission: Permission,
    id: CaseId,
) -> Result<CaseRow, ServiceError> {
    let row = CaseRow::find(conn, id)?
        .ok_or_else(|| ServiceError::NotFound("Diesen Vorgang gibt es nicht.".into()))?;
    permit(
        principal,
        permission,
        CaseAccess {
            applicant: row.applicant_id,
            submitted: row.submitted_at.is_some(),
        },
    )?;
    Ok(row)
}

/// Runs a command as the caller, with `permission` checked on the loaded case.
pub(crate) fn as_caller<T>(
    principal: &Principal,
    permission: Permission,
    run: impl FnOnce(Invocation<'_>) -> Result<T, ServiceError>,
) -> Result<T, ServiceError> {
    as_caller_at(principal, permission, &clock::now(), run)
}

/// [`as_caller`] at `now`, for a command whose input was checked against the same day.
pub(crate) fn as_caller_at<T>(
    principal: &Principal,
    permission: Permission,
    now: &crate::engine::Clock,
    run: impl FnOnce(Invocation<'_>) -> Result<T, ServiceError>,
) -> Result<T, ServiceError> {
    let actor = actor(principal);
    let check = |access| permit(principal, permission, access);
    run(Invocation {
        actor: &actor,
        clock: now,
        check: &check,
    })
}

/// The view after a command. The applicant is read only when it is not the caller's own
/// organisation (`own`), which a coordinator's commands always concern.
fn view(
    conn: &mut DbConnection,
    case: &LoadedCase,
    principal: &Principal,
    own: &Organisation,
) -> Result<CaseView, ServiceError> {
    if case.row.applicant_id == own.id {
        return view_with(conn, case, own, principal);
    }
    let applicant = Organisation::find(conn, case.row.applicant_id)?
        .ok_or_else(|| ServiceError::NotFound("Antragsteller fehlt.".into()))?;
    view_with(conn, case, &applicant, principal)
}

/// The view when the caller already has the applicant organisation at hand; the periods of
/// the time windows its actions are bound to are looked up.
fn view_with(
    conn: &mut DbConnection,
    case: &LoadedCase,
    applicant: &Organisation,
    principal: &Principal,
) -> Result<CaseView, ServiceError> {
    view_looking_up(
        conn,
        &mut PeriodLookup::default(),
        case,
        applicant,
        principal,
    )
}

/// [`view_with`] with the periods read once for all the views of a request.
fn view_looking_up(
    conn: &mut DbConnection,
    periods: &mut PeriodLookup,
    case: &LoadedCase,
    applicant: &Organisation,
    principal: &Principal,
) -> Result<CaseView, ServiceError> {
    let now = clock::now();
    let clock = periods.clock_for(conn, case.workflow.definition(), &case.instance, &now)?;
    Ok(case_view(case, applicant, &actor(principal), &clock))
}

/// Body of `POST /cases`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCase {
    /// Schlüssel des Workflows.
    #[schema(example = "ki-antrag")]
    pub workflow: String,
    /// Die fachlichen Daten, soweit schon bekannt (nach dem Datenschema des Workflows); ohne
    /// Angabe oder `null`: noch keine.
    #[serde(default)]
    #[schema(value_type = Option<Object>, example = json!({}))]
    pub data: Value,
    /// AGS or key of the applicant; defaults to the caller's organisation.
    #[serde(default)]
    pub applicant: Option<String>,
}

/// `POST /cases` → 201 with the case.
#[utoipa::path(
    post,
    path = "/api/v1/cases",
    tag = "Vorgänge",
    summary = "Vorgang anlegen",
    request_body = CreateCase,
    responses(
        (status = 201, description = "Der neue Vorgang", body = CaseView),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fachlich nicht möglich oder ungültige Angaben (`errors`, `reasons`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    caller: Caller,
    body: Json<CreateCase>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, actix_web::Error> {
    let body = body.into_inner();
    let api = api.into_inner();
    let view = with_principal_and_organisation(&db, caller, move |conn, principal, own| {
        let applicant = match &body.applicant {
            Some(key) if *key != own.key => {
                Organisation::find_by_key(conn, key)?.ok_or_else(|| {
                    ServiceError::InvalidInput(vec![DataError {
                        pointer: "/applicant".into(),
                        message: format!("Die Organisation „{key}“ gibt es nicht."),
                    }])
                })?
            }
            _ => own,
        };
        permit(
            &principal,
            Permission::CreateCase,
            CaseAccess {
                applicant: applicant.id,
                submitted: false,
            },
        )?;
        let case = cases::start_case(
            conn,
            &api.case_context(),
            &body.workflow,
            &applicant,
            body.data,
            &actor(&principal),
            &clock::now(),
        )?;
        // The case was started for `applicant`; no need to read the organisation again.
        view_with(conn, &case, &applicant, &principal)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Query of `GET /cases`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `running`, `completed` oder `withdrawn`.
    #[param(pattern = "^(running|completed|withdrawn)?$")]
    pub status: Option<String>,
    pub step: Option<String>,
    pub workflow: Option<String>,
    /// Suchtext: Teil des Aktenzeichens, des Namens des Antragstellers oder des Textes eines
    /// Vermerks, ohne Unterscheidung von Groß- und Kleinschreibung.
    pub q: Option<String>,
    /// `me`: nur Vorgänge, für die der Aufrufer in seiner Organisation zuständig ist.
    #[param(pattern = "^(me)?$")]
    pub assignee: Option<String>,
    /// Nur Vorgänge, deren nächste Frist (`active_steps[].deadline`, die früheste) spätestens
    /// an diesem Tag endet, abgelaufene eingeschlossen (`JJJJ-MM-TT`); Vorgänge ohne Frist nie.
    #[param(pattern = "^([0-9]{4}-[0-9]{2}-[0-9]{2})?$", example = "2026-12-31")]
    pub due_by: Option<String>,
    /// Sortierung: `created_at` (Standard `-created_at`, neueste zuerst), `updated_at`,
    /// `aktenzeichen`, `applicant` (Name des Antragstellers), `stand` (Status, dann Position
    /// im Verfahren) oder `deadline` (nächste Frist der aktiven Schritte; Vorgänge ohne Frist
    /// stehen in beiden Richtungen zuletzt); ein vorangestelltes `-` kehrt die Reihenfolge um.
    #[param(pattern = "^(-?(created_at|updated_at|aktenzeichen|applicant|stand|deadline))?$")]
    pub sort: Option<String>,
    /// Seite, 1 bis 1.000.000 (Standard 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<i64>,
    /// Vorgänge je Seite, 1 bis 100 (Standard 20).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
}

/// The API's names of the sort keys of `GET /cases`.
const SORT_KEYS: [(&str, SortKey); 6] = [
    ("created_at", SortKey::Created),
    ("updated_at", SortKey::Updated),
    ("aktenzeichen", SortKey::Aktenzeichen),
    ("applicant", SortKey::Applicant),
    ("stand", SortKey::Stand),
    ("deadline", SortKey::Deadline),
];

/// Reads `sort` of `GET /cases` (`key` or `-key`); a German message for anything else.
fn parse_sort(sort: Option<&str>) -> Result<Sort, String> {
    let Some(text) = sort else {
        return Ok(Sort {
            key: SortKey::Created,
            descending: true,
        });
    };
    let (name, descending) = match text.strip_prefix('-') {
        Some(name) => (name, true),
        None => (text, false),
    };
    SORT_KEYS
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, key)| Sort {
            key: *key,
            descending,
        })
        .ok_or_else(|| {
            let names: Vec<&str> = SORT_KEYS.iter().map(|(known, _)| *known).collect();
            format!(
                "Unbekannte Sortierung „{text}“ (erlaubt: {}; mit vorangestelltem „-“ absteigend).",
                names.join(", ")
            )
        })
}

/// `GET /cases` → `{"items","total","page","per_page"}`, only cases the caller may read.
#[utoipa::path(
    get,
    path = "/api/v1/cases",
    tag = "Vorgänge",
    summary = "Vorgänge suchen",
    description = "Nur Vorgänge, die der Aufrufer lesen darf; ohne „sort“ neueste zuerst. „q“ sucht im Aktenzeichen und im Namen des Antragstellers.",
    params(ListQuery),
    responses(
        (status = 200, description = "Eine Seite Vorgänge", body = crate::web::openapi::CaseList),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    caller: Caller,
    query: web::Query<ListQuery>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, actix_web::Error> {
    // An empty value (`?status=&q=`, as a form or a query builder sends an unset filter) filters
    // nothing, for every filter alike.
    let mut query = query.into_inner();
    for value in [
        &mut query.status,
        &mut query.step,
        &mut query.workflow,
        &mut query.q,
        &mut query.assignee,
        &mut query.due_by,
        &mut query.sort,
    ] {
        if value.as_deref() == Some("") {
            *value = None;
        }
    }
    let (page, per_page) = super::paging(query.page, query.per_page).map_err(super::bad_request)?;
    if let Some(status) = &query.status
        && !["running", "completed", "withdrawn"].contains(&status.as_str())
    {
        return Err(super::bad_request(format!(
            "Unbekannter Status „{status}“ (erlaubt: running, completed, withdrawn)."
        ))
        .into());
    }
    let mine = match query.assignee.as_deref() {
        None => false,
        Some("me") => true,
        Some(other) => {
            return Err(super::bad_request(format!(
                "Unbekannter Wert „{other}“ für „assignee“ (erlaubt: me)."
            ))
            .into());
        }
    };
    let sort = parse_sort(query.sort.as_deref()).map_err(super::bad_request)?;
    let due_by = match query.due_by.as_deref() {
        None => None,
        Some(text) => Some(NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
            super::bad_request(format!(
                "Ungültiges Datum „{text}“ für „due_by“ (erwartet: JJJJ-MM-TT, z. B. 2026-12-31)."
            ))
        })?),
    };
    let api = api.into_inner();
    let result = with_principal(&db, caller, move |conn, principal| {
        let filter = CaseFilter {
            status: query.status,
            step: query.step,
            workflow: query.workflow,
            q: query.q,
            assigned_to: mine.then_some(principal.user_id),
            due_by,
        };
        let found = case_list::search(conn, &principal, &filter, sort, page, per_page)?;
        let mut items = Vec::with_capacity(found.rows.len());
        let mut periods = PeriodLookup::default();
        for (row, applicant) in found.rows {
            let case = cases::from_row(conn, &api.registry, row)?;
            items.push(view_looking_up(
                conn,
                &mut periods,
                &case,
                &applicant,
                &principal,
            )?);
        }
        Ok(json!({ "items": items, "total": found.total, "page": page, "per_page": per_page }))
    })
    .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// `GET /cases/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}",
    tag = "Vorgänge",
    summary = "Vorgang anzeigen",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
    ),
    responses(
        (status = 200, description = "Der Vorgang mit den für den Aufrufer möglichen Aktionen", body = CaseView),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn show(
    caller: Caller,
    path: web::Path<i64>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, actix_web::Error> {
    let id = CaseId(path.into_inner());
    let api = api.into_inner();
    // The principal and the case come from one query (`Caller::principal_with_case`).
    let outcome = blocking(&db, move |conn| {
        let (principal, found) = match caller.principal_with_case(conn, id)? {
            Ok(loaded) => loaded,
            Err(refused) => return Ok(Err(refused)),
        };
        let (case, applicant) = cases::with_applicant(conn, &api.registry, found)?;
        permit(&principal, Permission::ReadCase, case.access())?;
        Ok(Ok(view_with(conn, &case, &applicant, &principal)?))
    })
    .await?;
    Ok(HttpResponse::Ok().json(outcome?))
}

/// Body of `PATCH /cases/{id}/data`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeData {
    /// Die Version des Vorgangs, auf die sich die Änderung bezieht.
    #[schema(example = 1)]
    pub version: i64,
    /// JSON-Merge-Patch auf die Daten des Vorgangs.
    #[schema(value_type = Object, example = json!({}))]
    pub data: Value,
}

/// `PATCH /cases/{id}/data` (JSON merge patch semantics).
#[utoipa::path(
    patch,
    path = "/api/v1/cases/{id}/data",
    tag = "Vorgänge",
    summary = "Daten ändern",
    description = "Ändert die Daten des Vorgangs (JSON-Merge-Patch); `version` muss die aktuelle sein.",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
    ),
    request_body = ChangeData,
    responses(
        (status = 200, description = "Der geänderte Vorgang", body = CaseView),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Versionskonflikt; `current_version` nennt die aktuelle Version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fachlich nicht möglich oder ungültige Angaben (`errors`, `reasons`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn change_data(
    caller: Caller,
    path: web::Path<i64>,
    body: Json<ChangeData>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, actix_web::Error> {
    let id = CaseId(path.into_inner());
    let body = body.into_inner();
    if !body.data.is_object() {
        return Err(super::bad_request("„data“ muss ein JSON-Objekt sein.".into()).into());
    }
    let api = api.into_inner();
    command_answer(
        &db,
        caller,
        Permission::ChangeCaseData,
        move |conn, call| {
            cases::change_data(conn, &api.case_context(), id, body.version, body.data, call)
        },
    )
    .await
}

/// Body of `POST /cases/{id}/actions/{action}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TakeAction {
    /// Die Version des Vorgangs, auf die sich die Aktion bezieht.
    #[schema(example = 1)]
    pub version: i64,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub data: Option<Value>,
    /// Which step, when several active steps offer the action.
    #[serde(default)]
    pub step: Option<String>,
}

/// `POST /cases/{id}/actions/{action}` → 200 with the case, 409 on a stale version, 422 with reasons.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/actions/{action}",
    tag = "Vorgänge",
    summary = "Aktion ausführen",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
        ("action" = String, Path, description = "Schlüssel der Aktion, z. B. `einreichen`"),
    ),
    request_body = TakeAction,
    responses(
        (status = 200, description = "Der Vorgang nach der Aktion", body = CaseView),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Versionskonflikt; `current_version` nennt die aktuelle Version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fachlich nicht möglich oder ungültige Angaben (`errors`, `reasons`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn act(
    caller: Caller,
    path: web::Path<(i64, String)>,
    body: Json<TakeAction>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, actix_web::Error> {
    let (id, action) = path.into_inner();
    let body = body.into_inner();
    if body.data.as_ref().is_some_and(|d| !d.is_object()) {
        return Err(super::bad_request("„data“ muss ein JSON-Objekt sein.".into()).into());
    }
    let api = api.into_inner();
    command_answer(&db, caller, Permission::TakeAction, move |conn, call| {
        cases::take_action(
            conn,
            &api.case_context(),
            CaseId(id),
            body.version,
            &action,
            body.step.as_deref(),
            body.data,
            call,
        )
    })
    .await
}
