//! `/api/v1/cases/{id}/documents`: upload (multipart), list, download.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{HttpResponse, web};
use futures_util::StreamExt;
use serde_json::json;

use super::cases::permitted_row;
use super::{ApiState, blocking};
use crate::auth::{InternalReader, Permission, Principal};
use crate::db::Database;
use crate::db::models::CaseId;
use crate::documents::{self, Declared, DocumentError, NewDocument};
use crate::service::ServiceError;
use crate::web::problem::Problem;

fn rejected(error: DocumentError) -> Problem {
    match error {
        DocumentError::Io(error) => {
            tracing::error!(error = %error, "document store failed");
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Interner Fehler",
            )
            .with_detail("Das Dokument konnte nicht gespeichert werden; es wurde nichts geändert.")
        }
        other => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-document",
            "Dokument abgelehnt",
        )
        .with_detail(other.to_string())
        .with(
            "errors",
            json!([{ "pointer": "/file", "message": other.to_string() }]),
        ),
    }
}

/// `POST /cases/{id}/documents` with one multipart field `file` (and optional `partner_visible`,
/// `internal`).
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/documents",
    tag = "Dokumente",
    summary = "Dokument hochladen",
    description = "Multipart-Feld `file` (PDF, ODT, DOCX, XLSX, PNG oder JPEG, erkannt am Inhalt) und optional `partner_visible` (für Beteiligte sichtbar) oder `internal` (nur für die eigene Stelle sichtbar; nicht zusammen mit `partner_visible`).",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
    ),
    request_body(content = crate::web::openapi::UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Das gespeicherte Dokument", body = Object),
        (status = 400, description = "Ungültige Anfrage (JSON oder Parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fachlich nicht möglich oder ungültige Angaben (`errors`, `reasons`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn upload(
    principal: Principal,
    path: web::Path<i64>,
    mut form: Multipart,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    let id = CaseId(path.into_inner());
    // Check the permission before reading a possibly large body.
    let check_principal = principal.clone();
    blocking(&db, move |conn| {
        permitted_row(conn, &check_principal, Permission::UploadDocument, id).map(|_| ())
    })
    .await?;

    let mut file = None;
    let mut partner_visible = false;
    let mut internal = false;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| super::bad_request(format!("Ungültiger Upload: {e}")))?;
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" if file.is_none() => {
                let filename = field
                    .content_disposition()
                    .and_then(|d| d.get_filename())
                    .map(str::to_string);
                let content_type = field.content_type().map(|m| m.essence_str().to_string());
                let mut buffer = api.documents.upload_buffer();
                while let Some(chunk) = field.next().await {
                    let chunk =
                        chunk.map_err(|e| super::bad_request(format!("Ungültiger Upload: {e}")))?;
                    buffer.push(&chunk).map_err(rejected)?;
                }
                file = Some((filename, content_type, buffer.into_bytes()));
            }
            "partner_visible" => partner_visible = flag(&mut field, "partner_visible").await?,
            "internal" => internal = flag(&mut field, "internal").await?,
            other => {
                return Err(super::bad_request(format!(
                    "Unbekanntes Feld „{other}“; erwartet werden „file“ und optional \
                     „partner_visible“ und „internal“."
                )));
            }
        }
    }
    if internal && partner_visible {
        // Refused before the content is stored.
        let message = crate::service::documents::INTERNAL_AND_SHARED;
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-document",
            "Dokument abgelehnt",
        )
        .with_detail(message)
        .with(
            "errors",
            json!([{ "pointer": "/internal", "message": message }]),
        ));
    }
    let Some((filename, content_type, bytes)) = file else {
        return Err(rejected(DocumentError::Empty));
    };
    let declared = Declared {
        content_type: content_type.as_deref(),
        filename: filename.as_deref(),
    };
    let blob = api
        .documents
        .store_upload(&bytes, &declared)
        .map_err(rejected)?;
    let uploaded_by = principal.email.clone();
    let internal_to = internal.then_some(principal.organisation_id);
    let document = blocking(&db, move |conn| {
        let new = NewDocument::for_blob(
            id.0,
            &blob,
            filename.as_deref().unwrap_or("dokument"),
            &uploaded_by,
            partner_visible,
        )
        .internal_to(internal_to);
        crate::service::documents::attach(conn, new)
    })
    .await?;
    api.documents.keep(&document.sha256, &bytes);
    Ok(HttpResponse::Created().json(document))
}

/// A yes/no multipart field. A value that says neither (`yes`, `wahr`, a typo) is refused rather
/// than read as "no": the uploader meant something by it.
async fn flag(field: &mut actix_multipart::Field, name: &str) -> Result<bool, Problem> {
    let mut value = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|e| super::bad_request(format!("Ungültiger Upload: {e}")))?;
        value.extend_from_slice(&chunk);
        if value.len() > 16 {
            break;
        }
    }
    match value.trim_ascii() {
        b"true" | b"1" | b"ja" => Ok(true),
        b"false" | b"0" | b"nein" | b"" => Ok(false),
        _ => Err(super::bad_request(format!(
            "„{name}“ muss „true“ oder „false“ sein (auch „1“/„0“, „ja“/„nein“)."
        ))),
    }
}

/// `GET /cases/{id}/documents`.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/documents",
    tag = "Dokumente",
    summary = "Dokumente auflisten",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
    ),
    responses(
        (status = 200, description = "Die Dokumente des Vorgangs", body = [Object]),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    principal: Principal,
    path: web::Path<i64>,
    db: web::Data<Database>,
) -> Result<HttpResponse, Problem> {
    let id = CaseId(path.into_inner());
    let list = blocking(&db, move |conn| {
        permitted_row(conn, &principal, Permission::ReadDocument, id)?;
        Ok(documents::list_for(
            conn,
            id.0,
            InternalReader::of(&principal),
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// `GET /cases/{id}/documents/{doc_id}`: the file with its type and name.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/documents/{doc_id}",
    tag = "Dokumente",
    summary = "Dokument herunterladen",
    params(
        ("id" = i64, Path, description = "Nummer des Vorgangs"),
        ("doc_id" = i64, Path, description = "Nummer des Dokuments"),
    ),
    responses(
        (status = 200, description = "Die Datei mit ihrem Inhaltstyp (einem der zugelassenen) und `Content-Disposition`", content(
            (Vec<u8> = "application/pdf"),
            (Vec<u8> = "application/vnd.oasis.opendocument.text"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Vec<u8> = "image/png"),
            (Vec<u8> = "image/jpeg"),
        )),
        (status = 401, description = "Nicht angemeldet: Bearer-Token fehlt oder ist ungültig", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Keine Berechtigung", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Nicht gefunden (oder für den Aufrufer nicht sichtbar)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn download(
    principal: Principal,
    path: web::Path<(i64, i64)>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, Problem> {
    let (case_id, doc_id) = path.into_inner();
    let document = blocking(&db, move |conn| {
        permitted_row(conn, &principal, Permission::ReadDocument, CaseId(case_id))?;
        documents::find_for(conn, case_id, doc_id, InternalReader::of(&principal))?
            .ok_or_else(|| ServiceError::NotFound("Dieses Dokument gibt es nicht.".into()))
    })
    .await?;
    let api = api.into_inner();
    let sha = document.sha256.clone();
    let bytes = web::block(move || -> std::io::Result<Vec<u8>> {
        use std::io::Read;
        let mut file = api.documents.open(&sha)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(bytes)
    })
    .await
    .map_err(|e| rejected(DocumentError::Io(std::io::Error::other(e.to_string()))))?
    .map_err(|e| rejected(DocumentError::Io(e)))?;
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, document.content_type.clone()))
        .insert_header((CONTENT_DISPOSITION, document.content_disposition()))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(bytes))
}
