//! `POST /admin/workflows/neu/bpmn`: a BPMN file (multipart: `csrf`, `datei`) read into a draft
//! in the editor of a new workflow ([`crate::bpmn_import`]). Nothing is deployed: the
//! administrator completes the draft, checks and deploys it as any other source, and reads
//! above it what the file did not say.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde_json::json;

use super::refusal;
use super::workflows::{SKELETON, new_editor_context};
use crate::auth::Permission;
use crate::bpmn_import::{MAX_BPMN_BYTES, import_bpmn};
use crate::web::api::ApiState;
use crate::web::ui::case_documents::{read_file_field, text_field};
use crate::web::ui::session::{self, Ready};
use crate::web::ui::{Session, render};

/// What the form sent.
#[derive(Default)]
struct Upload {
    csrf: Option<String>,
    /// File name and content; `None` content when it was too large.
    file: Option<(String, Option<Vec<u8>>)>,
}

/// `POST /admin/workflows/neu/bpmn`.
pub async fn import(
    req: HttpRequest,
    mut multipart: Multipart,
    api: web::Data<ApiState>,
) -> Result<HttpResponse, actix_web::Error> {
    let session = session::require::<Ready>(session::load(&req).await?, None)?;
    if let Some(refused) = refusal(&api, &session, Permission::DeployWorkflow) {
        return Ok(refused);
    }
    let mut upload = Upload::default();
    while let Some(field) = multipart.next().await {
        let Ok(mut field) = field else {
            return Err(crate::web::ui::bad_form(&req, Some(&session)));
        };
        match field.name().unwrap_or_default() {
            "csrf" => upload.csrf = text_field(&mut field, 128).await,
            "datei" if upload.file.is_none() => {
                let Some((name, content)) = read_file_field(&mut field, MAX_BPMN_BYTES).await
                else {
                    return Err(crate::web::ui::bad_form(&req, Some(&session)));
                };
                if !name.is_empty() {
                    upload.file = Some((name, content));
                }
            }
            _ => while field.next().await.is_some() {},
        }
    }
    crate::web::ui::check_multipart_csrf(&req, &session, upload.csrf.as_deref())?;
    let (name, content) = match upload.file {
        None => {
            return Ok(refused(
                &api,
                &session,
                None,
                "Bitte wählen Sie eine BPMN-Datei aus.",
            ));
        }
        Some((name, None)) => {
            let message = format!(
                "Die Datei ist größer als {} MB.",
                MAX_BPMN_BYTES / (1024 * 1024)
            );
            return Ok(refused(&api, &session, Some(&name), &message));
        }
        Some((name, Some(content))) => (name, content),
    };
    let Ok(text) = String::from_utf8(content) else {
        let message = "Die Datei ist nicht in UTF-8 kodiert, wie BPMN-Werkzeuge sie speichern.";
        return Ok(refused(&api, &session, Some(&name), message));
    };
    // Reading a large file takes a while: off the worker that serves other requests.
    let Ok(imported) = web::block(move || import_bpmn(&text)).await else {
        let message = "Die Datei konnte nicht gelesen werden.";
        return Ok(refused(&api, &session, Some(&name), message));
    };
    match imported {
        Ok(draft) => {
            tracing::info!(
                workflow = %draft.definition.workflow,
                notes = draft.notes.len(),
                "BPMN file read into a draft"
            );
            let mut context = new_editor_context(&session, &draft.yaml);
            // Drawn from the draft by the generator, titles escaped: inserted as markup.
            let diagram = crate::render::diagram::workflow_svg(&draft.definition);
            context["uebernahme"] =
                json!({ "datei": name, "hinweise": draft.notes, "diagramm": diagram });
            Ok(render(
                &api,
                StatusCode::OK,
                "admin_workflow_editor",
                &context,
            ))
        }
        Err(error) => Ok(refused(&api, &session, Some(&name), &error.to_string())),
    }
}

/// The new workflow's editor, unchanged, with why the file was not taken (422).
fn refused(api: &ApiState, session: &Session, file: Option<&str>, message: &str) -> HttpResponse {
    let mut context = new_editor_context(session, SKELETON);
    context["uebernahme_fehler"] = json!({ "datei": file, "meldung": message });
    render(
        api,
        StatusCode::UNPROCESSABLE_ENTITY,
        "admin_workflow_editor",
        &context,
    )
}
