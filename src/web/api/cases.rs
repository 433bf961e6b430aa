//! `/api/v1/cases`: create, list, show, change data, take actions, withdraw, relocate, journal,
//! related cases.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
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
use crate::service::case_links::CaseLinks;
use crate::service::case_list::{self, CaseFilter, Sort, SortKey};
use crate::service::case_relocation::{self, TargetOption};
use crate::service::cases::{self, CaseAccess, Invocation, LoadedCase};
use crate::service::clock;
use crate::service::time_windows::PeriodLookup;
use crate::web::problem::Problem;

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
    /// Sortierung: `created_at` (Standard `-created_at`, neueste zuerst), `updated_at`,
    /// `aktenzeichen`, `applicant` (Name des Antragstellers) oder `stand` (Status, dann Position
    /// im Verfahren); ein vorangestelltes `-` kehrt die Reihenfolge um.
    #[param(pattern = "^(-?(created_at|updated_at|aktenzeichen|applicant|stand))?$")]
    pub sort: Option<String>,
    /// Seite, 1 bis 1.000.000 (Standard 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<i64>,
    /// Vorgänge je Seite, 1 bis 100 (Standard 20).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<i64>,
}

/// The API's names of the sort keys of `GET /cases`.
const SORT_KEYS: [(&str, SortKey); 5] = [
    ("created_at", SortKey::Created),
    ("updated_at", SortKey::Updated),
    ("aktenzeichen", SortKey::Aktenzeichen),
    ("applicant", SortKey::Applicant),
    ("stand", SortKey::Stand),
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
    let api = api.into_inner();
    let result = with_principal(&db, caller, move |conn, principal| {
        let filter = CaseFilter {
            status: query.status,
            step: query.step,
            workflow: query.workflow,
            q: query.q,
            assigned_to: mine.then_some(principal.user_id),
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
    let view = with_principal_and_organisation(&db, caller, move |conn, principal, own| {
        let case = as_caller(&principal, Permission::ChangeCaseData, |call| {
            cases::change_data(conn, &api.case_context(), id, body.version, body.data, call)
        })?;
        view(conn, &case, &principal, &own)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
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
    let view = with_principal_and_organisation(&db, caller, move |conn, principal, own| {
        let case = as_caller(&principal, Permission::TakeAction, |call| {
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
        })?;
        view(conn, &case, &principal, &own)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Body of `POST /cases/{id}/messages/{name}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveMessage {
    /// Die Version des Vorgangs, auf die sich die Nachricht bezieht.
    pub version: i64,
    /// Daten, die die Nachricht mitbringt (JSON Merge Patch), nur in den Feldern, die der
    /// Workflow unter `messages.NAME.data` für sie nennt.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub data: Option<Value>,
}

/// `POST /cases/{id}/messages/{name}`: a message a waiting step expects has arrived.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/messages/{name}",
    tag = "Vorgänge",
    summary = "Eingang einer Nachricht melden",
    description = "Ein Schritt der Art `wait` mit `until: { message: NAME }` wartet, bis der Eingang der Nachricht gemeldet wird (ein Schreiben, ein Beschluss, das Signal eines anderen Systems); jeder aktive Schritt, der auf sie wartet, geht weiter. Wer im Vorgang Aktionen ausführen darf, darf den Eingang melden. Die Nachricht kann Daten mitbringen (`data`, ein JSON Merge Patch), aber nur in den Feldern, die der Workflow für sie nennt; sie werden vor dem Weitergehen übernommen und gegen das Datenschema geprüft. Wartet kein Schritt auf die Nachricht, ist die Antwort 422 mit `reasons`; bringt sie andere oder ungültige Daten, 422 mit `errors`. In beiden Fällen ändert sich nichts.",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
        ("name" = String, Path, description = "Name der Nachricht, wie ihn der Workflow nennt"),
    ),
    request_body = ReceiveMessage,
    responses(
        (status = 200, description = "Der Vorgang nach dem Eingang", body = CaseView),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Versionskonflikt; `current_version` nennt die aktuelle Version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Kein Schritt wartet auf diese Nachricht (`reasons`), oder ihre Daten sind nicht vorgesehen oder ungültig (`errors`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn receive_message(
    caller: Caller,
    path: web::Path<(i64, String)>,
    body: Json<ReceiveMessage>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, actix_web::Error> {
    let (id, name) = path.into_inner();
    let ReceiveMessage { version, data } = body.into_inner();
    let api = api.into_inner();
    let view = with_principal_and_organisation(&db, caller, move |conn, principal, own| {
        let case = as_caller(&principal, Permission::TakeAction, |call| {
            cases::receive_message(
                conn,
                &api.case_context(),
                CaseId(id),
                version,
                &name,
                data,
                call,
            )
        })?;
        view(conn, &case, &principal, &own)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Body of `POST /messages/{name}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrelateMessage {
    /// Das Aktenzeichen des Vorgangs, für den die Nachricht eingegangen ist.
    #[schema(example = "KI-05154-2026-0007")]
    pub aktenzeichen: String,
    /// Daten, die die Nachricht mitbringt (JSON Merge Patch), nur in den Feldern, die der
    /// Workflow unter `messages.NAME.data` für sie nennt.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub data: Option<Value>,
}

/// `POST /messages/{name}`: a message for the case with an Aktenzeichen has arrived.
#[utoipa::path(
    post,
    path = "/api/v1/messages/{name}",
    tag = "Vorgänge",
    summary = "Eingang einer Nachricht zu einem Aktenzeichen melden",
    description = "Für andere Systeme, die einen Vorgang unter seinem Aktenzeichen kennen (Zuordnung über den Geschäftsschlüssel): Die Nachricht gilt dem Vorgang in seinem Stand bei Eingang, eine Version wird nicht angegeben. Sonst wie `POST /api/v1/cases/{id}/messages/{name}`. Ein Aktenzeichen, das es nicht gibt oder dessen Vorgang der Aufrufer nicht sehen darf, ergibt 404.",
    params(
        ("name" = String, Path, description = "Name der Nachricht, wie ihn der Workflow nennt"),
    ),
    request_body = CorrelateMessage,
    responses(
        (status = 200, description = "Der Vorgang nach dem Eingang", body = CaseView),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Kein (für den Aufrufer sichtbarer) Vorgang mit diesem Aktenzeichen", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Kein Schritt wartet auf diese Nachricht (`reasons`), oder ihre Daten sind nicht vorgesehen oder ungültig (`errors`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn correlate_message(
    caller: Caller,
    path: web::Path<String>,
    body: Json<CorrelateMessage>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, actix_web::Error> {
    let name = path.into_inner();
    let CorrelateMessage { aktenzeichen, data } = body.into_inner();
    let api = api.into_inner();
    let view = with_principal_and_organisation(&db, caller, move |conn, principal, own| {
        let case = as_caller(&principal, Permission::TakeAction, |call| {
            cases::correlate_message(conn, &api.case_context(), &aktenzeichen, &name, data, call)
        })?;
        view(conn, &case, &principal, &own)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Body of `POST /cases/{id}/withdraw`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Withdraw {
    pub version: i64,
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST /cases/{id}/withdraw`: the applicant withdraws the case.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/withdraw",
    tag = "Vorgänge",
    summary = "Vorgang zurückziehen",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
    ),
    request_body = Withdraw,
    responses(
        (status = 200, description = "Der zurückgezogene Vorgang", body = CaseView),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Versionskonflikt; `current_version` nennt die aktuelle Version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fachlich nicht möglich oder ungültige Angaben (`errors`, `reasons`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn withdraw(
    caller: Caller,
    path: web::Path<i64>,
    body: Json<Withdraw>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, actix_web::Error> {
    let id = CaseId(path.into_inner());
    let body = body.into_inner();
    let api = api.into_inner();
    let view = with_principal_and_organisation(&db, caller, move |conn, principal, own| {
        let case = as_caller(&principal, Permission::WithdrawCase, |call| {
            cases::withdraw(
                conn,
                &api.case_context(),
                id,
                body.version,
                body.reason,
                call,
            )
        })?;
        view(conn, &case, &principal, &own)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Body of `POST /cases/{id}/relocation`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Relocate {
    /// Die Version des Vorgangs, auf die sich die Korrektur bezieht.
    pub version: i64,
    /// Der Schritt, bei dem der Vorgang weitergeht: eine Aufgabe (`task`) seiner
    /// Workflow-Version außerhalb paralleler Zweige.
    #[serde(default)]
    #[schema(example = "entwurf")]
    pub step: Option<String>,
    /// Warum, für die Akte: eine Zeile, höchstens 500 Zeichen.
    #[serde(default)]
    #[schema(
        example = "Versehentlich „Nicht beschlossen“ gewählt; der Kreistag hat am 12.11.2026 beschlossen."
    )]
    pub grund: Option<String>,
}

/// What `GET /cases/{id}/relocation` answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct RelocationTargets {
    /// Die aktuelle Version des Vorgangs, für die Korrektur.
    pub version: i64,
    /// Die Aufgaben seiner Workflow-Version außerhalb paralleler Zweige, in der Reihenfolge des
    /// Workflows, jeweils mit `allowed` und den Gründen, wenn nicht.
    pub targets: Vec<TargetOption>,
}

/// `GET /cases/{id}/relocation`: the tasks an administrator can move the case to.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/relocation",
    tag = "Vorgänge",
    summary = "Mögliche Ziele einer Korrektur des Bearbeitungsstands",
    description = "Nur für die Administration. Nennt jede Aufgabe, zu der der Vorgang gesetzt \
                   werden könnte, und ob die Korrektur jetzt angenommen würde (`allowed`; \
                   sonst `reasons`, etwa weil der Vorgang schon allein dort steht). Dieselbe \
                   Prüfung wie `POST /cases/{id}/relocation`, ohne etwas zu ändern.",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
    ),
    responses(
        (status = 200, description = "Die möglichen Ziele", body = RelocationTargets),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung (nur die Administration)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn relocation_targets(
    caller: Caller,
    path: web::Path<i64>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, actix_web::Error> {
    let id = CaseId(path.into_inner());
    let api = api.into_inner();
    let answer = with_principal(&db, caller, move |conn, principal| {
        let row = permitted_row(conn, &principal, Permission::RelocateCase, id)?;
        let case = cases::from_row(conn, &api.registry, row)?;
        Ok(RelocationTargets {
            version: case.row.version,
            targets: case_relocation::options(&case, &clock::now()),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// `POST /cases/{id}/relocation`: an administrator moves the case to a task of its workflow.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/relocation",
    tag = "Vorgänge",
    summary = "Bearbeitungsstand korrigieren",
    description = "Nur für die Administration (in BPMN-Engines: Modifikation einer Prozessinstanz). Setzt den Vorgang zu einer Aufgabe seiner Workflow-Version, um zu berichtigen, was die Aktionen des Verfahrens nicht zurücknehmen (eine versehentlich gewählte Aktion, ein irrtümlich beendeter Vorgang). Alle Schritte, bei denen der Vorgang steht, enden mit ihren Fristen; Stellen, deren Stellungnahme noch aussteht, erhalten eine Mail, dass sie nicht mehr erforderlich ist; ein beendeter Vorgang läuft wieder. Die Aufgabe beginnt neu, mit ihren Fristen ab heute. Angaben, Dokumente, Stellungnahmen und Verlauf bleiben; der Verlauf vermerkt die Korrektur mit dem Grund (`case_relocated`).",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
    ),
    request_body = Relocate,
    responses(
        (status = 200, description = "Der Vorgang an seinem neuen Schritt", body = CaseView),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung (nur die Administration)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Versionskonflikt; `current_version` nennt die aktuelle Version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Ungültige Angaben (`errors` bei `/step` oder `/grund`): kein solcher Schritt, keine Aufgabe, ein Schritt in einem parallelen Zweig, der Schritt, bei dem der Vorgang schon allein steht, oder ein fehlender Grund", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn relocate(
    caller: Caller,
    path: web::Path<i64>,
    body: Json<Relocate>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, actix_web::Error> {
    let id = CaseId(path.into_inner());
    let body = body.into_inner();
    let api = api.into_inner();
    let view = with_principal_and_organisation(&db, caller, move |conn, principal, own| {
        // Who may not correct the case learns that first, not what is wrong with the input.
        let input = match case_relocation::check(body.step.as_deref(), body.grund.as_deref()) {
            Ok(input) => input,
            Err(errors) => {
                permitted_row(conn, &principal, Permission::RelocateCase, id)?;
                return Err(ServiceError::InvalidInput(errors));
            }
        };
        let case = as_caller(&principal, Permission::RelocateCase, |call| {
            case_relocation::relocate(conn, &api.case_context(), id, body.version, input, call)
        })?;
        view(conn, &case, &principal, &own)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Body of `POST /cases/{id}/notes`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddNote {
    /// The Vermerk, up to 20,000 characters; line breaks are kept.
    pub text: String,
    /// Nur für die eigene Organisation: andere, die den Vorgang lesen, sehen an seiner Stelle
    /// nur Zeit und Verfasser (Nutzlast `{"internal_to", "withheld": true}`).
    #[serde(default)]
    pub internal: bool,
}

/// `POST /cases/{id}/notes`: an Aktenvermerk, appended to the case's journal.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/notes",
    tag = "Vorgänge",
    summary = "Aktenvermerk schreiben",
    description = "Schreibt einen Vermerk (Telefonat, Absprache, Posteingang auf Papier) als \
                   Eintrag `note_added` in das Journal des Vorgangs. Vermerke lassen sich weder \
                   ändern noch löschen; die Version des Vorgangs bleibt unverändert. Ein \
                   interner Vermerk (`internal: true`) ist nur für die Organisation des \
                   Verfassers lesbar.",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
    ),
    request_body = AddNote,
    responses(
        (status = 201, description = "Der Journaleintrag des Vermerks", body = Object),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Leerer, zu langer oder ungültiger Text (`errors` mit Zeiger `/text`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn add_note(
    caller: Caller,
    path: web::Path<i64>,
    body: Json<AddNote>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, actix_web::Error> {
    let id = CaseId(path.into_inner());
    let AddNote { text, internal } = body.into_inner();
    let api = api.into_inner();
    let entry = with_principal(&db, caller, move |conn, principal| {
        as_caller(&principal, Permission::AddNote, |call| {
            let author = crate::service::notes::Author {
                actor: call.actor,
                organisation: principal.organisation_id,
                internal,
            };
            crate::service::notes::add(
                conn,
                &api.outgoing,
                id,
                &text,
                author,
                call.clock,
                call.check,
            )
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(entry))
}

/// `GET /cases/{id}/journal`: every entry with its hash.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/journal",
    tag = "Vorgänge",
    summary = "Journal des Vorgangs",
    description = "Alle Einträge des hash-verketteten Journals, ältester zuerst. Interne \
                   Vermerke einer anderen Organisation stehen mit Zeit, Verfasser und Hashes an \
                   ihrer Stelle, ihre Nutzlast ist `{\"internal_to\", \"withheld\": true}`.",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
    ),
    responses(
        (status = 200, description = "Die Journaleinträge", body = [Object]),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn journal(
    caller: Caller,
    path: web::Path<i64>,
    db: web::Data<Database>,
) -> Result<HttpResponse, actix_web::Error> {
    let id = CaseId(path.into_inner());
    let entries = with_principal(&db, caller, move |conn, principal| {
        permitted_row(conn, &principal, Permission::ReadJournal, id)?;
        let journal = crate::journal::list(conn, id.0)?;
        Ok(crate::service::internal::redact(
            journal,
            crate::auth::InternalReader::of(&principal),
        ))
    })
    .await?;
    Ok(HttpResponse::Ok().json(entries))
}

/// `GET /cases/{id}/related`: the case that started this one and the cases it started.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/related",
    tag = "Vorgänge",
    summary = "Vorgänger und Folgevorgänge",
    description = "Der Vorgang, aus dem dieser gestartet wurde (`origin`), und die Vorgänge, die \
                   er gestartet hat (`started`), jeweils mit dem auslösenden Schritt (`step`), \
                   etwa der Betrieb, den die Bewilligung eines Antrags startet. Genannt werden \
                   nur Vorgänge, die der Aufrufer selbst lesen darf.",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
    ),
    responses(
        (status = 200, description = "Vorgänger und Folgevorgänge", body = CaseLinks),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn related(
    caller: Caller,
    path: web::Path<i64>,
    db: web::Data<Database>,
) -> Result<HttpResponse, actix_web::Error> {
    let id = CaseId(path.into_inner());
    let links = with_principal(&db, caller, move |conn, principal| {
        permitted_row(conn, &principal, Permission::ReadCase, id)?;
        crate::service::case_links::of_case(conn, id, &principal)
    })
    .await?;
    Ok(HttpResponse::Ok().json(links))
}

/// Body of `POST /cases/{id}/migrate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Migrate {
    /// Die Version des Vorgangs, auf die sich die Umstellung bezieht.
    pub version: i64,
    /// Die Workflow-Version, auf die umgestellt wird; ohne: die neueste.
    #[serde(default)]
    pub to: Option<i32>,
    /// Umbenannte oder ersetzte Schritte: alter Name → Name in der neuen Version (nur Schritte
    /// derselben Art). Nicht genannte Schritte behalten ihren Namen.
    #[serde(default)]
    pub steps: std::collections::BTreeMap<String, String>,
}

/// `POST /cases/{id}/migrate`: moves a running case to a newer version of its workflow.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/migrate",
    tag = "Vorgänge",
    summary = "Vorgang auf eine neuere Workflow-Version umstellen",
    description = "Nur für Administratoren. Der Vorgang wird umgestellt, wenn jeder Schritt, an dem er steht, wartet oder beteiligt, in der neuen Version als Schritt derselben Art besteht, jede Verzweigung, in der er läuft, ihren Zweig behält und seine Daten zum Datenschema der neuen Version passen; sonst bleibt alles, wie es ist, und `reasons` nennt die Gründe. Umbenannte oder ersetzte Schritte ordnet `steps` zu (alter Name → neuer Name, nur Schritte derselben Art). Fristen, Einladungen und Daten werden übernommen; die Umstellung steht im Journal (`workflow_version_changed`).",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
    ),
    request_body = Migrate,
    responses(
        (status = 200, description = "Der umgestellte Vorgang", body = CaseView),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Versionskonflikt; `current_version` nennt die aktuelle Version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Nicht umstellbar (`reasons`), die Workflow-Version gibt es nicht, oder `steps` passt nicht zu den Versionen (`errors`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn migrate(
    caller: Caller,
    path: web::Path<i64>,
    body: Json<Migrate>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, actix_web::Error> {
    let id = CaseId(path.into_inner());
    let Migrate { version, to, steps } = body.into_inner();
    let steps = crate::service::case_migration::StepMapping::new(steps);
    let api = api.into_inner();
    let view = with_principal_and_organisation(&db, caller, move |conn, principal, own| {
        authorize(&principal, Permission::DeployWorkflow, None)
            .map_err(|_| ServiceError::Forbidden(forbidden_migration()))?;
        let case = crate::service::case_migration::migrate(
            conn,
            &api.case_context(),
            id,
            crate::service::case_migration::CaseMove {
                expected: version,
                to,
                steps: &steps,
            },
            &actor(&principal),
            &clock::now(),
        )?;
        view(conn, &case, &principal, &own)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

fn forbidden_migration() -> String {
    "Vorgänge auf eine neue Workflow-Version umstellen dürfen nur Administratoren.".to_string()
}
