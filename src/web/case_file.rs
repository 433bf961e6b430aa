//! The case file export shared by the API (`GET /api/v1/cases/{id}/export`) and the staff pages
//! (`GET /vorgaenge/{id}/akte.zip`): read it ([`prepare`]), then stream the ZIP archive while it
//! is written ([`respond`]).
//!
//! Everything that can fail for a reason of the case (access, a document missing from the
//! store, the overview template, journaling the export) fails in [`prepare`], before the
//! response begins; a failure while writing (a disk error) can only end the transfer early,
//! which the client sees as an incomplete download, never as a complete-looking archive.

use std::collections::HashMap;
use std::io::{self, Write};

use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use chrono::NaiveDateTime;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::auth::{Permission, Principal};
use crate::db::Database;
use crate::db::models::CaseId;
use crate::documents::content_disposition;
use crate::service::beteiligung::{parse_votum, votum_de};
use crate::service::case_file::{self, CaseFile, archive};
use crate::service::{ServiceError, clock};
use crate::web::api::ApiState;
use crate::web::api::cases::permit;
use crate::web::ui::case_page::{
    actor_de, journal_item, linked_cases_de, size_de, status_de, status_invitation_de, time_de,
};

/// Bytes collected before they are handed to the connection.
const CHUNK: usize = 64 * 1024;
/// Chunks in flight between the writer and the connection: bounds the memory of a slow download.
const CHUNKS_IN_FLIGHT: usize = 4;

/// A case file ready to be written: its members (documents already opened) and its name.
pub struct Prepared {
    folder: String,
    members: Vec<archive::Member>,
    exported_at: NaiveDateTime,
}

/// Reads case `id`'s file for `principal`, who must be allowed to read the case, its documents
/// and its journal, renders the overview and opens the documents.
pub async fn prepare(
    db: &Database,
    api: &web::Data<ApiState>,
    principal: Principal,
    id: CaseId,
) -> Result<Prepared, ServiceError> {
    let database = db.clone();
    let api = api.clone();
    web::block(move || {
        let mut conn = database.get().map_err(ServiceError::Db)?;
        let check = |access| {
            for permission in [
                Permission::ReadCase,
                Permission::ReadDocument,
                Permission::ReadJournal,
            ] {
                permit(&principal, permission, access)?;
            }
            Ok(())
        };
        let file = case_file::load(&mut conn, &api.registry, id, &principal, &check)?;
        let exported_at = case_file::export_time(&clock::now());
        let overview = api
            .outgoing
            .templates
            .render_page("akte", &overview(&file, &principal.email, exported_at))
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let members = file.members(&api.documents, overview, &principal.email, exported_at)?;
        case_file::record_export(
            &mut conn,
            id,
            file.journal_seq(),
            &principal.email,
            exported_at,
        )?;
        drop(conn);
        Ok(Prepared {
            folder: file.folder(),
            members,
            exported_at,
        })
    })
    .await
    .map_err(|e| ServiceError::Internal(e.to_string()))?
}

/// The archive as a download (`application/zip`, named after the Aktenzeichen), written on a
/// blocking thread while the client receives it.
pub fn respond(prepared: Prepared) -> HttpResponse {
    let (sender, receiver) = mpsc::channel::<io::Result<Bytes>>(CHUNKS_IN_FLIGHT);
    let filename = format!("{}.zip", prepared.folder);
    actix_web::rt::task::spawn_blocking(move || {
        let writer = ChannelWriter {
            sender: sender.clone(),
            buffer: Vec::with_capacity(CHUNK),
        };
        let Prepared {
            folder,
            members,
            exported_at,
        } = prepared;
        if let Err(error) = archive::write(writer, &folder, members, exported_at)
            && error.kind() != io::ErrorKind::BrokenPipe
        {
            tracing::error!(%error, archive = %folder, "writing the case file failed");
            // Ends the response without its last chunk: the download is visibly incomplete.
            let _ = sender.blocking_send(Err(error));
        }
    });
    let body = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/zip"))
        .insert_header((CONTENT_DISPOSITION, content_disposition(&filename)))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "no-store"))
        .streaming(body)
}

/// Hands the archive to the connection in chunks; fails with `BrokenPipe` once the client has
/// gone, which ends the writing.
struct ChannelWriter {
    sender: mpsc::Sender<io::Result<Bytes>>,
    buffer: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK),
        ));
        self.sender
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "download abgebrochen"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            Ok(())
        } else {
            self.send()
        }
    }
}

/// What `ui/akte.hbs` shows: the case file for people.
fn overview(file: &CaseFile, exported_by: &str, exported_at: NaiveDateTime) -> Value {
    let case = &file.case;
    let row = &case.row;
    let definition = case.workflow.definition();
    let names: HashMap<&str, _> = file
        .organisations
        .iter()
        .map(|o| (o.key.as_str(), o.designation()))
        .collect();
    let documents: HashMap<i64, &str> = file
        .documents
        .iter()
        .map(|d| (d.id, d.filename.as_str()))
        .collect();
    json!({
        "fall": {
            "aktenzeichen": row.aktenzeichen,
            "verfahren": case.workflow.title,
            "verfahrensversion": case.workflow.version,
            "verfahrensdatei": file.definition_path(),
            "antragsteller": file.applicant.designation(),
            "status": status_de(definition, &row.status, row.outcome.as_deref()),
            "angelegt": time_de(row.created_at),
            "geaendert": time_de(row.updated_at),
            "eingereicht": row.submitted_at.map(time_de),
        },
        "bezug": linked_cases_de(&file.links, &file.linked_workflows, Some(definition)),
        "export": {
            "am": time_de(exported_at),
            "durch": exported_by,
        },
        "journal": file.journal.last().map(|newest| json!({
            "eintraege": newest.seq,
            "hash": newest.hash,
        })),
        "angaben": file.summary,
        "beteiligung": file.consultations.iter().map(|c| {
            let i = &c.invitation;
            json!({
                "beteiligte": i.organisation_name,
                "schritt": definition.steps.get(&i.step).map_or(i.step.as_str(), |s| s.title()),
                "eingeladen": time_de(i.invited_at),
                "frist": i.deadline.format("%d.%m.%Y").to_string(),
                "status": status_invitation_de(&i.status),
                "fassungen": c.answers.iter().map(|a| json!({
                    "fassung": a.version,
                    "votum": parse_votum(&a.votum).map_or_else(|| a.votum.clone(), |v| votum_de(v).to_string()),
                    "text": a.text,
                    "von": a.answered_by,
                    "am": time_de(a.created_at),
                    "verspaetet": a.late,
                    "dokument": a.document_id.and_then(|id| documents.get(&id)),
                })).collect::<Vec<_>>(),
            })
        }).collect::<Vec<_>>(),
        "dokumente": file.documents.iter().map(|d| json!({
            "nr": d.id,
            "name": d.filename,
            "pfad": CaseFile::document_path(d),
            "typ": d.content_type,
            "groesse": size_de(d.size),
            "von": actor_de(&d.uploaded_by, &names),
            "am": time_de(d.created_at),
            "sha256": d.sha256,
            "fuer_beteiligte": d.partner_visible,
            "intern": d.internal_to.is_some(),
        })).collect::<Vec<_>>(),
        "verlauf": file.journal.iter().map(|entry| {
            let mut item = journal_item(entry, definition, &names, &file.linked_workflows);
            item["hash"] = json!(entry.hash);
            item
        }).collect::<Vec<_>>(),
    })
}
