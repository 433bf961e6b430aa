//! The case's record beyond its data: Aktenvermerke, the journal and related cases.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{as_caller, permitted_row, with_principal};
use crate::auth::{Caller, Permission};
use crate::db::Database;
use crate::db::models::CaseId;
use crate::service::case_links::CaseLinks;
use crate::web::api::ApiState;
use crate::web::api::json_object::Json;
use crate::web::problem::Problem;

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
