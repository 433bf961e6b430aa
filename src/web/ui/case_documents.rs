//! Documents and statements on the case page: upload (multipart, CSRF token as a form field),
//! download, and one partner's Stellungnahme with all its versions.
//!
//! The upload uses the same store as the API: the same size limit while reading, and the type
//! sniffed from the content (a text file named `.pdf` is refused with a German message).

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde_json::json;

use super::case_page::{Overrides, blocking, date_de, service_error, show, time_de};
use super::session::{self, Ready};
use super::{Session, UiSession, layout, render, see_other};
use crate::auth::Permission;
use crate::db::Database;
use crate::db::models::{CaseId, Organisation};
use crate::documents::{self, Declared, DocumentError, NewDocument};
use crate::service::ServiceError;
use crate::service::beteiligung::{self, InvitationRow};
use crate::web::api::ApiState;
use crate::web::api::cases::permitted_row;

/// What the browser sent in the upload form.
#[derive(Default)]
struct Upload {
    csrf: Option<String>,
    file: Option<(Option<String>, Option<String>, Vec<u8>)>,
    partner_visible: bool,
    internal: bool,
}

/// A multipart field's content, or `None` when it is longer than `limit` bytes or breaks off.
pub(super) async fn read_field(
    field: &mut actix_multipart::Field,
    limit: usize,
) -> Option<Vec<u8>> {
    let mut value = Vec::new();
    while let Some(chunk) = field.next().await {
        value.extend_from_slice(&chunk.ok()?);
        if value.len() > limit {
            return None;
        }
    }
    Some(value)
}

/// A text field of a multipart form (a CSRF token, a choice, a table carried over); `None` if
/// it is longer than `limit` bytes, not UTF-8 or holds a NUL character (which no form field
/// means, and PostgreSQL cannot store), like a field that is missing.
pub(super) async fn text_field(field: &mut actix_multipart::Field, limit: usize) -> Option<String> {
    read_field(field, limit)
        .await
        .and_then(|value| String::from_utf8(value).ok())
        .filter(|text| !text.contains('\0'))
}

/// A file field read to its end: the file name the browser gave (empty where none) and the
/// content, `None` where it is larger than `limit` (read on all the same, so that the answer can
/// be read by the browser); `None` altogether when the upload broke off.
pub(super) async fn read_file_field(
    field: &mut actix_multipart::Field,
    limit: usize,
) -> Option<(String, Option<Vec<u8>>)> {
    let name = field
        .content_disposition()
        .and_then(|d| d.get_filename())
        .unwrap_or_default()
        .to_string();
    let mut content = Some(Vec::new());
    while let Some(chunk) = field.next().await {
        let chunk = chunk.ok()?;
        if content
            .as_ref()
            .is_some_and(|c| c.len() + chunk.len() > limit)
        {
            content = None;
        }
        if let Some(content) = content.as_mut() {
            content.extend_from_slice(&chunk);
        }
    }
    Some((name, content))
}

/// `POST /vorgaenge/{id}/dokumente` (multipart: `csrf`, `datei`, optional `fuer_beteiligte`,
/// `intern`).
pub async fn upload(
    req: HttpRequest,
    path: web::Path<i64>,
    mut multipart: Multipart,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, actix_web::Error> {
    let session = session::require::<Ready>(session::load(&req).await?, None)?;
    let id = CaseId(path.into_inner());
    // Permission first, before reading a possibly large body.
    let principal = session.principal().clone();
    if let Err(error) = blocking(&db, move |conn| {
        permitted_row(conn, &principal, Permission::ReadCase, id)?;
        permitted_row(conn, &principal, Permission::UploadDocument, id).map(|_| ())
    })
    .await
    {
        return Ok(service_error(&api, &session, error));
    }

    let mut upload = Upload::default();
    let mut refused: Option<DocumentError> = None;
    while let Some(field) = multipart.next().await {
        let Ok(mut field) = field else {
            return Err(super::bad_form(&req, Some(&session)));
        };
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "csrf" => upload.csrf = text_field(&mut field, 128).await,
            "fuer_beteiligte" => {
                upload.partner_visible = read_field(&mut field, 16).await.is_some();
            }
            "intern" => upload.internal = read_field(&mut field, 16).await.is_some(),
            "datei" if upload.file.is_none() => {
                let filename = field
                    .content_disposition()
                    .and_then(|d| d.get_filename())
                    .filter(|f| !f.is_empty())
                    .map(str::to_string);
                let content_type = field.content_type().map(|m| m.essence_str().to_string());
                let mut buffer = api.documents.upload_buffer();
                while let Some(chunk) = field.next().await {
                    let Ok(chunk) = chunk else {
                        return Err(super::bad_form(&req, Some(&session)));
                    };
                    if refused.is_none()
                        && let Err(error) = buffer.push(&chunk)
                    {
                        refused = Some(error);
                    }
                }
                if filename.is_some() {
                    upload.file = Some((filename, content_type, buffer.into_bytes()));
                }
            }
            _ => {
                // Unknown fields are drained and ignored.
                while field.next().await.is_some() {}
            }
        }
    }
    super::check_multipart_csrf(&req, &session, upload.csrf.as_deref())?;
    let ticked = Ticked {
        internal: upload.internal,
        partner_visible: upload.partner_visible,
    };
    if upload.internal && upload.partner_visible {
        let message = crate::service::documents::INTERNAL_AND_SHARED.to_string();
        let field = "feld-dokument-intern";
        return Ok(refused_upload(&db, &api, &session, id, field, message, ticked).await);
    }
    let stored = match (refused, upload.file) {
        (Some(error), _) => Err(error),
        (None, None) => Err(DocumentError::Empty),
        (None, Some((filename, content_type, bytes))) => {
            let declared = Declared {
                content_type: content_type.as_deref(),
                filename: filename.as_deref(),
            };
            api.documents
                .store_upload(&bytes, &declared)
                .map(|blob| (blob, filename, bytes))
        }
    };
    let (blob, filename, bytes) = match stored {
        Ok(stored) => stored,
        Err(DocumentError::Io(error)) => {
            tracing::error!(%error, "document store failed");
            return Ok(service_error(
                &api,
                &session,
                ServiceError::Internal(error.to_string()),
            ));
        }
        Err(error) => {
            let message = if matches!(error, DocumentError::Empty) {
                "Bitte wählen Sie eine Datei aus.".to_string()
            } else {
                error.to_string()
            };
            let field = "feld-datei";
            return Ok(refused_upload(&db, &api, &session, id, field, message, ticked).await);
        }
    };
    let uploaded_by = session.principal().email.clone();
    let partner_visible = upload.partner_visible;
    let internal_to = upload
        .internal
        .then_some(session.principal().organisation_id);
    let kept = (blob.sha256.clone(), bytes);
    let inserted = blocking(&db, move |conn| {
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
    .await;
    Ok(match inserted {
        Ok(_) => {
            api.documents.keep(&kept.0, &kept.1);
            see_other(&format!(
                "/vorgaenge/{}?hinweis=hochgeladen#dokumente",
                id.0
            ))
        }
        Err(error) => service_error(&api, &session, error),
    })
}

/// The upload form's boxes as the user ticked them, kept when the upload is refused.
#[derive(Debug, Clone, Copy)]
struct Ticked {
    internal: bool,
    partner_visible: bool,
}

/// The case page again (422) with why the upload was refused, at the form field `field`.
async fn refused_upload(
    db: &web::Data<Database>,
    api: &web::Data<ApiState>,
    session: &Session,
    id: CaseId,
    field: &str,
    message: String,
    ticked: Ticked,
) -> HttpResponse {
    show(
        db,
        api,
        session,
        id,
        StatusCode::UNPROCESSABLE_ENTITY,
        Overrides {
            upload_error: Some(message.clone()),
            summary: vec![(field.to_string(), message)],
            document_internal: ticked.internal,
            document_partner_visible: ticked.partner_visible,
            ..Overrides::default()
        },
    )
    .await
}

/// `GET /vorgaenge/{id}/dokumente/{doc}`: the file, with its type and name.
pub async fn download(
    session: UiSession,
    path: web::Path<(i64, i64)>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let session = session.into_inner();
    let (case_id, doc_id) = path.into_inner();
    let principal = session.principal().clone();
    let state = api.clone();
    let found = blocking(&db, move |conn| {
        permitted_row(conn, &principal, Permission::ReadCase, CaseId(case_id))?;
        permitted_row(conn, &principal, Permission::ReadDocument, CaseId(case_id))?;
        let reader = crate::auth::InternalReader::of(&principal);
        let document = documents::find_for(conn, case_id, doc_id, reader)?
            .ok_or_else(|| ServiceError::NotFound("Dieses Dokument gibt es nicht.".into()))?;
        let mut file = state
            .documents
            .open(&document.sha256)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut bytes)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        Ok((document, bytes))
    })
    .await;
    match found {
        Ok((document, bytes)) => HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, document.content_type.clone()))
            .insert_header((CONTENT_DISPOSITION, document.content_disposition()))
            .body(bytes),
        Err(error) => service_error(&api, &session, error),
    }
}

/// `GET /vorgaenge/{id}/stellungnahmen/{invitation}`: the statement and every version of it.
pub async fn statement(
    session: UiSession,
    path: web::Path<(i64, i64)>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let session = session.into_inner();
    let (case_id, invitation) = path.into_inner();
    let principal = session.principal().clone();
    let found = blocking(&db, move |conn| {
        let row = permitted_row(conn, &principal, Permission::ReadCase, CaseId(case_id))?;
        let invitation = InvitationRow::find(conn, invitation)?
            .filter(|i| i.case_id == case_id)
            .ok_or_else(|| ServiceError::NotFound("Diese Stellungnahme gibt es nicht.".into()))?;
        let organisation = Organisation::find(conn, invitation.organisation_id)?
            .map_or_else(String::new, |o| o.designation().into_owned());
        let versions = beteiligung::answer_versions(conn, invitation.id)?;
        Ok((row, invitation, organisation, versions))
    })
    .await;
    let (row, invitation, organisation, versions) = match found {
        Ok(found) => found,
        Err(error) => return service_error(&api, &session, error),
    };
    let versions: Vec<_> = versions
        .iter()
        .rev()
        .map(|v| {
            json!({
                "fassung": v.version,
                "votum": beteiligung::parse_votum(&v.votum).map_or_else(|| v.votum.clone(), |x| beteiligung::votum_de(x).to_string()),
                "text": v.text,
                "von": v.answered_by,
                "am": time_de(v.created_at),
                "verspaetet": v.late,
            })
        })
        .collect();
    let mut context = layout(
        &format!("Stellungnahme von {organisation}"),
        Some(&session),
        None,
    );
    context["fall"] = json!({ "id": case_id, "aktenzeichen": row.aktenzeichen });
    context["organisation"] = json!(organisation);
    context["frist"] = json!(date_de(invitation.deadline));
    context["aktuell"] = json!(versions.first());
    context["fassungen"] = json!(versions);
    render(&api, StatusCode::OK, "stellungnahme", &context)
}
