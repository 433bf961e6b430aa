//! `/api/v1/cases/{id}/messages`: messages from outside that a waiting case receives, by id or
//! by correlation key.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::command_answer;
use crate::auth::{Caller, Permission};
use crate::db::Database;
use crate::db::models::CaseId;
use crate::service::cases;
use crate::web::api::ApiState;
use crate::web::api::json_object::Json;
use crate::web::api::view::CaseView;
use crate::web::problem::Problem;

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
    command_answer(&db, caller, Permission::TakeAction, move |conn, call| {
        cases::receive_message(
            conn,
            &api.case_context(),
            CaseId(id),
            version,
            &name,
            data,
            call,
        )
    })
    .await
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
    command_answer(&db, caller, Permission::TakeAction, move |conn, call| {
        cases::correlate_message(conn, &api.case_context(), &aktenzeichen, &name, data, call)
    })
    .await
}
