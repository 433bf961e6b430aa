//! Beteiligung over the API: the partner's view and answer for programs
//! (`/api/v1/beteiligung/{token}`, authenticated by the link token alone), and the coordinator's
//! consultation matrix, re-sending of invitations, Fristverlängerung, inviting a further
//! partner and withdrawing an invitation. A partner asks for more time or says it is not
//! competent through its token as well.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::cases::{as_caller, as_caller_at, permit, permitted_row};
use super::json_object::Json;
use super::{ApiState, actor, blocking};
use crate::auth::{Permission, Principal};
use crate::db::Database;
use crate::db::models::CaseId;
use crate::service::partner;
use crate::service::request_refusal::{self, PartnerRequest};
use crate::service::{beteiligung, cases, clock, extension, further_participant, withdrawal};
use crate::web::beteiligung::{
    NoticeInput, RecordError, RequestInput, link_status, load_page, record, record_notice,
    record_request, resolve,
};
use crate::web::problem::Problem;

async fn invitation_of(
    db: &Database,
    api: &web::Data<ApiState>,
    token: String,
) -> Result<i64, Problem> {
    match resolve(db, api, token).await {
        Ok(invitation) => Ok(invitation),
        Err(Ok(error)) => {
            let (status, title) = link_status(&error);
            let kind = if status == StatusCode::GONE {
                "link-expired"
            } else {
                "link-invalid"
            };
            Err(Problem::new(status, kind, title).with_detail(error.to_string()))
        }
        Err(Err(problem)) => Err(problem),
    }
}

/// `GET /api/v1/beteiligung/{token}`: what the partner's page shows.
#[utoipa::path(
    get,
    path = "/api/v1/beteiligung/{token}",
    tag = "Beteiligung",
    summary = "Beteiligung über den persönlichen Link lesen",
    description = "Ohne Anmeldung: der Link-Token ist der Nachweis. Nur die für Beteiligte freigegebenen Angaben und Dokumente.",
    params(("token" = String, Path, description = "Token aus dem persönlichen Link")),
    responses(
        (status = 200, description = "Die Beteiligung", body = partner::PartnerPage),
        (status = 403, description = "Link ungültig (verändert, falscher Zweck, unbekannt)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Link abgelaufen oder durch einen neueren ersetzt", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn show(
    path: web::Path<String>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    let invitation = invitation_of(&db, &api, path.into_inner()).await?;
    let page = load_page(&db, &api, invitation).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Body of `POST /api/v1/beteiligung/{token}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// `zustimmung`, `zustimmung_mit_hinweisen`, `bedenken` or `keine_stellungnahme`.
    pub votum: Option<String>,
    #[serde(default)]
    pub stellungnahme: String,
    /// Name of the person answering.
    #[serde(default)]
    pub name: String,
    /// Their function.
    #[serde(default)]
    pub funktion: String,
}

/// `POST /api/v1/beteiligung/{token}`: answer or amend.
#[utoipa::path(
    post,
    path = "/api/v1/beteiligung/{token}",
    tag = "Beteiligung",
    summary = "Stellungnahme abgeben oder ändern",
    params(("token" = String, Path, description = "Token aus dem persönlichen Link")),
    request_body = AnswerBody,
    responses(
        (status = 200, description = "Gespeichert; die Beteiligung mit allen Fassungen", body = partner::PartnerPage),
        (status = 400, description = "Ungültiges JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Link ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Frist abgelaufen oder Beteiligung abgeschlossen", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Link abgelaufen, ersetzt oder Beteiligung zurückgenommen", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Ungültige Angaben (`errors`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn answer(
    path: web::Path<String>,
    body: Json<AnswerBody>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    let invitation = invitation_of(&db, &api, path.into_inner()).await?;
    let body = body.into_inner();
    let checked = partner::check_answer(
        body.votum.as_deref(),
        &body.stellungnahme,
        &body.name,
        &body.funktion,
    )
    .map_err(|errors| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-answer",
            "Ungültige Angaben",
        )
        .with_detail("Die Stellungnahme ist unvollständig oder ungültig.")
        .with("errors", json!(errors))
    })?;
    match record(&db, &api, invitation, checked, None).await {
        Ok(page) => Ok(HttpResponse::Ok().json(page)),
        Err(RecordError::Closed) => {
            let page = load_page(&db, &api, invitation).await?;
            Err(Problem::new(
                StatusCode::CONFLICT,
                "consultation-closed",
                "Keine Stellungnahme mehr möglich",
            )
            .with_detail(
                page.hinweis
                    .unwrap_or_else(|| "Die Beteiligung nimmt keine Stellungnahme mehr an.".into()),
            ))
        }
        Err(RecordError::Other(problem)) => Err(problem),
    }
}

/// Body of `POST /api/v1/beteiligung/{token}/deadline-extension`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionRequestBody {
    /// The last day asked for (`JJJJ-MM-TT`): a working day after the current deadline, at most
    /// a year ahead.
    #[schema(value_type = String, format = Date)]
    pub frist: Option<String>,
    /// Why (one line, at most 500 characters).
    pub grund: Option<String>,
    /// Who asks.
    pub name: Option<String>,
}

/// `POST /api/v1/beteiligung/{token}/deadline-extension`: the partner asks for more time.
#[utoipa::path(
    post,
    path = "/api/v1/beteiligung/{token}/deadline-extension",
    tag = "Beteiligung",
    summary = "Um Fristverlängerung bitten",
    description = "Ohne Anmeldung: der Link-Token ist der Nachweis. Solange die Stelle noch nicht geantwortet hat und ihre Frist läuft, bittet sie um ein späteres Fristende, mit Grund und Namen. Die beteiligende Stelle erhält eine Mail und entscheidet; eine neue Bitte ersetzt die vorige. Die Frist ändert sich erst, wenn die beteiligende Stelle sie verlängert.",
    params(("token" = String, Path, description = "Token aus dem persönlichen Link")),
    request_body = ExtensionRequestBody,
    responses(
        (status = 200, description = "Die Bitte ist eingegangen; die Beteiligung mit der offenen Bitte", body = partner::PartnerPage),
        (status = 400, description = "Ungültiges JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Link ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Bereits geantwortet, Frist abgelaufen oder Beteiligung abgeschlossen", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Link abgelaufen, ersetzt oder Beteiligung zurückgenommen", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Ungültige Angaben (`errors`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn request_extension(
    path: web::Path<String>,
    body: Json<ExtensionRequestBody>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    let invitation = invitation_of(&db, &api, path.into_inner()).await?;
    let body = body.into_inner();
    let input = RequestInput {
        frist: body.frist,
        grund: body.grund,
        name: body.name,
    };
    let outcome = record_request(&db, &api, invitation, input).await?;
    Ok(page_or_problem(
        outcome,
        "Keine Fristverlängerung mehr möglich",
    ))
}

/// The page after one of the partner's requests, or its problem: 422 with the fields' errors,
/// 409 titled `closed` with why no such request is taken now.
fn page_or_problem(
    outcome: Result<partner::PartnerPage, crate::service::ServiceError>,
    closed: &str,
) -> HttpResponse {
    let problem = match outcome {
        Ok(page) => return HttpResponse::Ok().json(page),
        Err(error @ crate::service::ServiceError::InvalidInput(_)) => super::problem(error),
        Err(other) => Problem::new(StatusCode::CONFLICT, "consultation-closed", closed)
            .with_detail(other.to_string()),
    };
    actix_web::ResponseError::error_response(&problem)
}

/// Body of `POST /api/v1/beteiligung/{token}/not-responsible`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeBody {
    /// Why the partner is not the competent body (one line, at most 500 characters).
    pub grund: Option<String>,
    /// The body competent instead, if the partner knows it (one line).
    pub zustaendig: Option<String>,
    /// Who writes.
    pub name: Option<String>,
}

/// `POST /api/v1/beteiligung/{token}/not-responsible`: the partner tells the office it is not
/// the competent body.
#[utoipa::path(
    post,
    path = "/api/v1/beteiligung/{token}/not-responsible",
    tag = "Beteiligung",
    summary = "Nicht zuständig",
    description = "Ohne Anmeldung: der Link-Token ist der Nachweis. Solange die Stelle noch nicht geantwortet hat und ihre Frist läuft, teilt sie mit, dass sie nicht zuständig ist: mit Begründung, Namen und, wenn bekannt, der zuständigen Stelle. Die beteiligende Stelle erhält eine Mail und entscheidet, ob sie die Beteiligung zurücknimmt; eine neue Mitteilung ersetzt die vorige. Bis dahin bleibt die Beteiligung offen.",
    params(("token" = String, Path, description = "Token aus dem persönlichen Link")),
    request_body = NoticeBody,
    responses(
        (status = 200, description = "Die Mitteilung ist eingegangen; die Beteiligung mit der offenen Mitteilung", body = partner::PartnerPage),
        (status = 400, description = "Ungültiges JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Link ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Bereits geantwortet, Frist abgelaufen oder Beteiligung abgeschlossen", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Link abgelaufen, ersetzt oder Beteiligung zurückgenommen", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Ungültige Angaben (`errors`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn report_not_responsible(
    path: web::Path<String>,
    body: Json<NoticeBody>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    let invitation = invitation_of(&db, &api, path.into_inner()).await?;
    let body = body.into_inner();
    let input = NoticeInput {
        grund: body.grund,
        zustaendig: body.zustaendig,
        name: body.name,
    };
    let outcome = record_notice(&db, &api, invitation, input).await?;
    Ok(page_or_problem(
        outcome,
        "Keine Mitteilung zur Zuständigkeit mehr möglich",
    ))
}

/// `GET /api/v1/cases/{id}/consultations`: the consultation matrix.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/consultations",
    tag = "Beteiligung",
    summary = "Beteiligungsmatrix eines Vorgangs",
    description = "Je eingeladener Stelle: eingeladen am, Frist, Erinnerungen, beantwortet am, Votum, verspätet, Zahl der Fassungen.",
    params(("id" = i64, Path, description = "Nummer des Vorgangs")),
    responses(
        (status = 200, description = "Die Einladungen", body = [beteiligung::MatrixRow]),
        (status = 401, description = "Nicht angemeldet", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn matrix(
    principal: Principal,
    path: web::Path<i64>,
    db: web::Data<Database>,
) -> Result<HttpResponse, Problem> {
    let id = CaseId(path.into_inner());
    let rows = blocking(&db, move |conn| {
        permitted_row(conn, &principal, Permission::ReadCase, id)?;
        beteiligung::matrix(conn, id.0)
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// `POST /api/v1/cases/{id}/consultations/{invitation}/resend`: new link, mail again.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/consultations/{invitation}/resend",
    tag = "Beteiligung",
    summary = "Einladung erneut senden",
    description = "Sendet die Einladung mit einem neuen persönlichen Link; der bisherige Link wird ungültig.",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
        ("invitation" = i64, Path, description = "Nummer der Einladung (aus der Beteiligungsmatrix)"),
    ),
    responses(
        (status = 200, description = "Die Beteiligungsmatrix nach dem Versand", body = [beteiligung::MatrixRow]),
        (status = 401, description = "Nicht angemeldet", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Einladung beantwortet oder Beteiligung abgeschlossen", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn resend(
    principal: Principal,
    path: web::Path<(i64, i64)>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    let (id, invitation) = path.into_inner();
    let id = CaseId(id);
    let rows = blocking(&db, move |conn| {
        let caller = actor(&principal);
        let check = |access| permit(&principal, Permission::TakeAction, access);
        cases::resend_invitation(
            conn,
            &api.case_context(),
            id,
            invitation,
            &caller,
            &clock::now(),
            &check,
        )?;
        beteiligung::matrix(conn, id.0)
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// Body of `POST /api/v1/cases/{id}/consultations/{invitation}/deadline`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionBody {
    /// The new last day (`JJJJ-MM-TT`): a working day after the current deadline, not in the
    /// past, at most a year ahead.
    #[schema(value_type = String, format = Date)]
    pub frist: Option<String>,
    /// Why, for the file (one line, at most 500 characters); the partner's mail does not show it.
    pub grund: Option<String>,
}

/// `POST /api/v1/cases/{id}/consultations/{invitation}/deadline`: Fristverlängerung for one
/// partner.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/consultations/{invitation}/deadline",
    tag = "Beteiligung",
    summary = "Frist einer beteiligten Stelle verlängern",
    description = "Verlängert die Frist einer Einladung (§ 31 Abs. 7 VwVfG NRW), etwa auf Bitte der Stelle. Das neue Fristende ist ein Werktag nach dem bisherigen, nicht in der Vergangenheit und höchstens ein Jahr entfernt; die Beteiligung schließt nicht vor der längsten Frist ihrer Einladungen. Die Stelle erhält eine Mail mit dem neuen Fristende und einem Link, der bis dahin gilt; der Verlauf vermerkt die Verlängerung mit Grund.",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
        ("invitation" = i64, Path, description = "Nummer der Einladung (aus der Beteiligungsmatrix)"),
    ),
    request_body = ExtensionBody,
    responses(
        (status = 200, description = "Die Beteiligungsmatrix mit der neuen Frist", body = [beteiligung::MatrixRow]),
        (status = 400, description = "Ungültiges JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Ungültiges Fristende (`errors`), oder die Beteiligung ist abgeschlossen", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn extend_deadline(
    principal: Principal,
    path: web::Path<(i64, i64)>,
    body: Json<ExtensionBody>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    let (id, invitation) = path.into_inner();
    let id = CaseId(id);
    let body = body.into_inner();
    // Whoever may not act on the case learns that first, whatever the body holds.
    let caller = principal.clone();
    blocking(&db, move |conn| {
        permitted_row(conn, &caller, Permission::TakeAction, id)?;
        partner::invitation_of(conn, id, invitation).map(drop)
    })
    .await?;
    let extension = extension::check(body.frist.as_deref(), body.grund.as_deref())
        .map_err(|errors| super::problem(crate::service::ServiceError::InvalidInput(errors)))?;
    let rows = blocking(&db, move |conn| {
        extend_as(conn, &api, &principal, (id, invitation), extension)?;
        beteiligung::matrix(conn, id.0)
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// Extends the deadline as `principal`, who must be allowed to act on the case (checked on the
/// locked case); for the API and the case page alike.
pub(crate) fn extend_as(
    conn: &mut crate::db::DbConnection,
    api: &ApiState,
    principal: &Principal,
    (id, invitation): (CaseId, i64),
    extension: extension::Extension,
) -> Result<(), crate::service::ServiceError> {
    as_caller(principal, Permission::TakeAction, |call| {
        extension::extend(conn, &api.case_context(), id, invitation, extension, call)
    })
}

/// Body of `POST /api/v1/cases/{id}/consultations/{invitation}/withdrawal`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalBody {
    /// Why, for the file (required; one line, at most 500 characters); the partner's mail does
    /// not show it.
    pub grund: Option<String>,
}

/// `POST /api/v1/cases/{id}/consultations/{invitation}/withdrawal`: withdraws an invitation
/// sent to the wrong body.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/consultations/{invitation}/withdrawal",
    tag = "Beteiligung",
    summary = "Beteiligung einer Stelle zurücknehmen",
    description = "Nimmt eine offene Einladung zurück, etwa an eine irrtümlich beteiligte Stelle. Die Stelle erhält eine Mail, dass keine Stellungnahme erforderlich ist; ihr persönlicher Link zeigt den Vorgang nicht mehr. Sie wird aus den zu beteiligenden Stellen des Vorgangs entfernt, bleibt aber in der Beteiligungsmatrix als „zurückgenommen“ stehen. Die Beteiligung schließt nach der längsten Frist der übrigen Einladungen, und sobald alle übrigen geantwortet haben. Der Verlauf vermerkt die Zurücknahme mit Grund (Pflichtangabe). Eine beantwortete Einladung kann nicht zurückgenommen werden.",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
        ("invitation" = i64, Path, description = "Nummer der Einladung (aus der Beteiligungsmatrix)"),
    ),
    request_body = WithdrawalBody,
    responses(
        (status = 200, description = "Die Beteiligungsmatrix mit der zurückgenommenen Einladung", body = [beteiligung::MatrixRow]),
        (status = 400, description = "Ungültiges JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Grund fehlt (`errors`), oder die Einladung ist beantwortet, zurückgenommen oder abgeschlossen", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn withdraw(
    principal: Principal,
    path: web::Path<(i64, i64)>,
    body: Json<WithdrawalBody>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    let (id, invitation) = path.into_inner();
    let id = CaseId(id);
    let body = body.into_inner();
    // Whoever may not act on the case learns that first, whatever the body holds.
    let caller = principal.clone();
    blocking(&db, move |conn| {
        permitted_row(conn, &caller, Permission::TakeAction, id)?;
        partner::invitation_of(conn, id, invitation).map(drop)
    })
    .await?;
    let reason = withdrawal::check(body.grund.as_deref())
        .map_err(|errors| super::problem(crate::service::ServiceError::InvalidInput(errors)))?;
    let rows = blocking(&db, move |conn| {
        withdraw_as(conn, &api, &principal, (id, invitation), reason)?;
        beteiligung::matrix(conn, id.0)
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// Withdraws the invitation as `principal`, who must be allowed to act on the case (checked on
/// the locked case); for the API and the case page alike.
pub(crate) fn withdraw_as(
    conn: &mut crate::db::DbConnection,
    api: &ApiState,
    principal: &Principal,
    (id, invitation): (CaseId, i64),
    reason: String,
) -> Result<(), crate::service::ServiceError> {
    as_caller(principal, Permission::TakeAction, |call| {
        withdrawal::withdraw(conn, &api.case_context(), id, invitation, reason, call)
    })
}

/// Body of declining a partner's request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefusalBody {
    /// Why (required; one line, at most 500 characters); the partner's mail shows it.
    pub grund: Option<String>,
}

/// `POST /api/v1/cases/{id}/consultations/{invitation}/extension-request/refusal`: the office
/// declines a partner's request for more time.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/consultations/{invitation}/extension-request/refusal",
    tag = "Beteiligung",
    summary = "Bitte um Fristverlängerung ablehnen",
    description = "Lehnt die offene Bitte einer Stelle um Fristverlängerung ab, mit Begründung. Der Rolle vorbehalten, die die Beteiligung koordiniert. Die Bitte ist damit beantwortet; die Stelle erhält eine Mail mit der Begründung, ihrer unveränderten Frist und einem neuen persönlichen Link. Der Verlauf vermerkt die Ablehnung; die Version des Vorgangs ändert sich nicht.",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
        ("invitation" = i64, Path, description = "Nummer der Einladung (`invitation` der Matrix)"),
    ),
    request_body = RefusalBody,
    responses(
        (status = 200, description = "Abgelehnt; die Beteiligungsmatrix", body = [beteiligung::MatrixRow]),
        (status = 400, description = "Ungültiges JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Vorgang oder Einladung nicht gefunden", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Begründung fehlt (`errors`), keine offene Bitte, Beteiligung abgeschlossen oder Rolle fehlt (`reasons`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn refuse_extension_request(
    principal: Principal,
    path: web::Path<(i64, i64)>,
    body: Json<RefusalBody>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    refuse(principal, path, body, db, api, PartnerRequest::Extension).await
}

/// `POST /api/v1/cases/{id}/consultations/{invitation}/responsibility-notice/refusal`: the
/// office keeps a partner that said it is not competent.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/consultations/{invitation}/responsibility-notice/refusal",
    tag = "Beteiligung",
    summary = "Mitteilung „nicht zuständig“ zurückweisen",
    description = "Weist die offene Mitteilung einer Stelle, nicht zuständig zu sein, mit Begründung zurück: Die Beteiligung bleibt bestehen. Der Rolle vorbehalten, die die Beteiligung koordiniert. Die Mitteilung ist damit beantwortet; die Stelle erhält eine Mail mit der Begründung, ihrer Frist und einem neuen persönlichen Link. Der Verlauf vermerkt die Entscheidung; die Version des Vorgangs ändert sich nicht.",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
        ("invitation" = i64, Path, description = "Nummer der Einladung (`invitation` der Matrix)"),
    ),
    request_body = RefusalBody,
    responses(
        (status = 200, description = "Zurückgewiesen; die Beteiligungsmatrix", body = [beteiligung::MatrixRow]),
        (status = 400, description = "Ungültiges JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Vorgang oder Einladung nicht gefunden", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Begründung fehlt (`errors`), keine offene Mitteilung, Beteiligung abgeschlossen oder Rolle fehlt (`reasons`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn refuse_responsibility_notice(
    principal: Principal,
    path: web::Path<(i64, i64)>,
    body: Json<RefusalBody>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    refuse(principal, path, body, db, api, PartnerRequest::Notice).await
}

async fn refuse(
    principal: Principal,
    path: web::Path<(i64, i64)>,
    body: Json<RefusalBody>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
    request: PartnerRequest,
) -> Result<HttpResponse, Problem> {
    let (id, invitation) = path.into_inner();
    let id = CaseId(id);
    // Whoever may not act on the case learns that first, whatever the body holds.
    let caller = principal.clone();
    blocking(&db, move |conn| {
        permitted_row(conn, &caller, Permission::TakeAction, id)?;
        partner::invitation_of(conn, id, invitation).map(drop)
    })
    .await?;
    let reason = request_refusal::check(body.into_inner().grund.as_deref())
        .map_err(|errors| super::problem(crate::service::ServiceError::InvalidInput(errors)))?;
    let rows = blocking(&db, move |conn| {
        refuse_as(conn, &api, &principal, (id, invitation, request), reason)?;
        beteiligung::matrix(conn, id.0)
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// Declines a partner's request as `principal`, who must be allowed to act on the case
/// (checked on the locked case); for the API and the case page alike.
pub(crate) fn refuse_as(
    conn: &mut crate::db::DbConnection,
    api: &ApiState,
    principal: &Principal,
    (id, invitation, request): (CaseId, i64, PartnerRequest),
    reason: String,
) -> Result<(), crate::service::ServiceError> {
    as_caller(principal, Permission::TakeAction, |call| {
        request_refusal::refuse(
            conn,
            &api.case_context(),
            id,
            (invitation, request),
            reason,
            call,
        )
    })
}

/// Body of `POST /api/v1/cases/{id}/consultations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FurtherParticipantBody {
    /// Key of the organisation to invite (as in `GET /api/v1/admin/organisations`).
    pub stelle: Option<String>,
    /// Why, for the file (one line, at most 500 characters); the partner's mail does not show it.
    pub grund: Option<String>,
    /// The consultation step; needed only while several consultations of the case run.
    pub schritt: Option<String>,
}

/// `POST /api/v1/cases/{id}/consultations`: invites one more partner to a running Beteiligung.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/consultations",
    tag = "Beteiligung",
    summary = "Weitere Stelle nachträglich beteiligen",
    description = "Lädt eine weitere Stelle zur laufenden Beteiligung ein, etwa eine zu Beginn vergessene oder einen weiteren örtlichen Partner (Nr. 2 des Erlasses). Die Stelle erhält die Frist des Schritts ab ihrer eigenen Einladung, die Einladungsmail mit ihrem persönlichen Link und Erinnerungen vor ihrer Frist; sie wird den zu beteiligenden Stellen des Vorgangs hinzugefügt, und die Beteiligung schließt nicht vor ihrer Frist. Der Verlauf vermerkt die Einladung mit Grund.",
    params(("id" = i64, Path, description = "Nummer des Vorgangs")),
    request_body = FurtherParticipantBody,
    responses(
        (status = 201, description = "Die Beteiligungsmatrix mit der neuen Einladung", body = [beteiligung::MatrixRow]),
        (status = 400, description = "Ungültiges JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Stelle unbekannt, ohne Adresse oder bereits beteiligt (`errors`), oder es läuft keine Beteiligung", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn add_participant(
    principal: Principal,
    path: web::Path<i64>,
    body: Json<FurtherParticipantBody>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    let id = CaseId(path.into_inner());
    let body = body.into_inner();
    // Whoever may not act on the case learns that first, whatever the body holds.
    let caller = principal.clone();
    blocking(&db, move |conn| {
        permitted_row(conn, &caller, Permission::TakeAction, id).map(drop)
    })
    .await?;
    let addition = further_participant::check(body.stelle.as_deref(), body.grund.as_deref())
        .map_err(|errors| super::problem(crate::service::ServiceError::InvalidInput(errors)))?;
    let rows = blocking(&db, move |conn| {
        add_participant_as(
            conn,
            &api,
            &principal,
            id,
            body.schritt.as_deref(),
            addition,
        )?;
        beteiligung::matrix(conn, id.0)
    })
    .await?;
    Ok(HttpResponse::Created().json(rows))
}

/// Invites the further partner as `principal`, who must be allowed to act on the case (checked
/// on the locked case); for the API and the case page alike.
pub(crate) fn add_participant_as(
    conn: &mut crate::db::DbConnection,
    api: &ApiState,
    principal: &Principal,
    id: CaseId,
    step: Option<&str>,
    addition: further_participant::Addition,
) -> Result<(), crate::service::ServiceError> {
    as_caller(principal, Permission::TakeAction, |call| {
        further_participant::add(conn, &api.case_context(), id, step, addition, call)
    })
}

/// Body of `POST /api/v1/cases/{id}/consultations/{invitation}/answer`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordedAnswerBody {
    /// `zustimmung`, `zustimmung_mit_hinweisen`, `bedenken` or `keine_stellungnahme`.
    pub votum: Option<String>,
    #[serde(default)]
    pub stellungnahme: String,
    /// Name of the person at the partner who gave the Stellungnahme.
    #[serde(default)]
    pub name: String,
    /// Their function.
    #[serde(default)]
    pub funktion: String,
    /// How it reached the office: `post`, `email`, `telefon` or `persoenlich`.
    pub eingang: Option<String>,
    /// The day it reached the office (`JJJJ-MM-TT`), which decides whether it was in time;
    /// today when absent. Not after today, not before the invitation.
    #[schema(value_type = Option<String>, format = Date)]
    pub eingegangen_am: Option<String>,
}

/// `POST /api/v1/cases/{id}/consultations/{invitation}/answer`: a Stellungnahme that came by
/// letter, e-mail or phone, recorded by the office.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/consultations/{invitation}/answer",
    tag = "Beteiligung",
    summary = "Stellungnahme für eine beteiligte Stelle erfassen",
    description = "Erfasst eine Stellungnahme, die per Post, per E-Mail, telefonisch oder persönlich eingegangen ist, als Antwort der beteiligten Stelle auf ihre Einladung. Sie zählt wie eine über den persönlichen Link abgegebene; ob sie rechtzeitig war, entscheidet der Tag des Eingangs (`eingegangen_am`), nicht der Tag der Erfassung. Der Verlauf nennt, wer sie erfasst hat, und die Stelle erhält die übliche Eingangsbestätigung.",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
        ("invitation" = i64, Path, description = "Nummer der Einladung (aus der Beteiligungsmatrix)"),
    ),
    request_body = RecordedAnswerBody,
    responses(
        (status = 200, description = "Die Beteiligungsmatrix mit der erfassten Stellungnahme", body = [beteiligung::MatrixRow]),
        (status = 400, description = "Ungültiges JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Ungültige Angaben (`errors`), Frist abgelaufen oder Beteiligung abgeschlossen", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn record_answer(
    principal: Principal,
    path: web::Path<(i64, i64)>,
    body: Json<RecordedAnswerBody>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    let (id, invitation) = path.into_inner();
    let id = CaseId(id);
    let body = body.into_inner();
    // Whoever may not act on the case learns that first, whatever the body holds; the
    // invitation's day bounds the day of receipt.
    let caller = principal.clone();
    let invited_at = blocking(&db, move |conn| {
        permitted_row(conn, &caller, Permission::TakeAction, id)?;
        Ok(partner::invitation_of(conn, id, invitation)?.invited_at)
    })
    .await?;
    let now = clock::now();
    let recorded = partner::check_recorded_answer(
        partner::RecordedFields {
            votum: body.votum.as_deref(),
            stellungnahme: &body.stellungnahme,
            name: &body.name,
            funktion: &body.funktion,
            eingang: body.eingang.as_deref(),
            eingegangen_am: body.eingegangen_am.as_deref(),
        },
        now.today,
        clock::berlin_date(invited_at.and_utc()),
    )
    .map_err(|errors| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-answer",
            "Ungültige Angaben",
        )
        .with_detail("Die Stellungnahme ist unvollständig oder ungültig.")
        .with("errors", json!(errors))
    })?;
    let rows = blocking(&db, move |conn| {
        record_as(conn, &api, &principal, (id, invitation), recorded, &now)?;
        beteiligung::matrix(conn, id.0)
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// Records the checked answer as `principal`, who must be allowed to act on the case (checked
/// on the locked case); for the API and the case page alike.
pub(crate) fn record_as(
    conn: &mut crate::db::DbConnection,
    api: &ApiState,
    principal: &Principal,
    (id, invitation): (CaseId, i64),
    recorded: partner::RecordedAnswer,
    clock: &crate::engine::Clock,
) -> Result<(), crate::service::ServiceError> {
    as_caller_at(principal, Permission::TakeAction, clock, |call| {
        partner::record_for_partner(conn, &api.case_context(), id, invitation, recorded, call)
    })
}
