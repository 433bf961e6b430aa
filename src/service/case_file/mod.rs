//! The case file (Akte) of one case as a single archive, for Akteneinsicht, for handing a case
//! over, and for offering it to the Kreisarchiv before a retention period ends: what the case
//! holds, readable by people (`akte.html`) and by programs (JSON), with every document and the
//! procedure's definition, checked by SHA-256 sums.
//!
//! Layout below a folder named after the Aktenzeichen:
//! - `akte.html`: overview, data, consultation with the Stellungnahmen, documents, timeline
//!   (rendered by the caller from the page template `ui/akte.hbs`);
//! - `vorgang.json`: the case with its data, the list of documents and the linked cases
//!   (`related`: the one it was started from, the ones it started);
//! - `journal.json`: every journal entry with its hashes, so the chain can be checked without
//!   vorgang (see `docs/architecture.md`, Journal); another organisation's internal Vermerk
//!   stands there without its text, as everywhere the exporter reads the journal;
//! - `beteiligung.json`: every invitation with every version of its answer;
//! - `verfahren/{key}-v{version}.yaml`: the workflow definition the case runs under;
//! - `dokumente/{id}-{name}`: the documents as uploaded;
//! - `pruefsummen.sha256` (see [`archive`]).
//!
//! Everything is read in one snapshot ([`crate::db::read_snapshot`]): a document uploaded
//! during the export is in all of the file or in none of it. Wiedervorlagen are not part of
//! the file (see `service::follow_ups`). Each export is journaled ([`EXPORTED`]) once the archive
//! is ready: the next export's file shows who took the earlier ones.

pub mod archive;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDateTime;
use serde_json::{Value, json};

use self::archive::{Content, Member};
use super::ServiceError;
use super::beteiligung::{self, AnswerVersion, MatrixRow};
use super::case_links::{self, CaseLinks};
use super::cases::{self, AccessCheck, LoadedCase};
use super::data_summary::{self, Readers, References, SummaryLine};
use super::internal;
use super::workflows::{DeployedWorkflow, WorkflowRegistry};
use crate::auth::{InternalReader, Principal};
use crate::db::models::{CaseId, Organisation};
use crate::db::{DbConnection, read_snapshot, write_transaction};
use crate::documents::{self, Document, DocumentStore};
use crate::engine::Clock;
use crate::journal::{self, JournalEntry, NewEvent, hash::format_at};

/// Tag of the JSON members' format, so that a reader knows what it holds.
pub const FORMAT: &str = "vorgang.akte.v1";

/// One invitation of a Beteiligung with every version of its answer, oldest first.
#[derive(Debug, Clone)]
pub struct Consultation {
    pub invitation: MatrixRow,
    pub answers: Vec<AnswerVersion>,
}

/// Everything the case file holds, read in one snapshot.
#[derive(Debug)]
pub struct CaseFile {
    pub case: LoadedCase,
    pub applicant: Organisation,
    pub documents: Vec<Document>,
    pub journal: Vec<JournalEntry>,
    pub consultations: Vec<Consultation>,
    /// Every field with a value, labelled and formatted for reading.
    pub summary: Vec<SummaryLine>,
    /// All organisations, to name participants in the timeline.
    pub organisations: Vec<Organisation>,
    /// The case it was started from and the cases it started, as far as the reader may read
    /// them.
    pub links: CaseLinks,
    /// The newest versions of the workflows of the linked cases and of those the journal names
    /// as started, by key, for their titles (`case_links::workflows_of`).
    pub linked_workflows: BTreeMap<String, Arc<DeployedWorkflow>>,
}

/// Reads the case file of case `id` if `check` allows it (else nothing is read beyond the case),
/// with the internal Vermerke and documents of other organisations than the `principal`'s
/// withheld (`internal::redact`; their documents are left out), and the linked cases the
/// principal may read.
pub fn load(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
    id: CaseId,
    principal: &Principal,
    check: AccessCheck<'_>,
) -> Result<CaseFile, ServiceError> {
    let reader = InternalReader::of(principal);
    read_snapshot(conn, |conn| {
        let (case, applicant) = cases::load_with_applicant(conn, registry, id)?;
        check(case.access())?;
        let every_document = documents::list(conn, id.0)?;
        let journal = internal::redact(journal::list(conn, id.0)?, reader);
        let consultations = beteiligung::matrix(conn, id.0)?
            .into_iter()
            .map(|invitation| {
                let answers = beteiligung::answer_versions(conn, invitation.invitation)?;
                Ok(Consultation {
                    invitation,
                    answers,
                })
            })
            .collect::<Result<Vec<_>, ServiceError>>()?;
        let organisations = Organisation::all(conn)?;
        let definition = case.workflow.definition();
        // Another organisation's internal document is referred to without its name.
        let references = References::with_names(
            Readers::CaseFile,
            every_document
                .iter()
                .map(|d| (d.id, reader.sees(d.internal_to).then(|| d.filename.clone()))),
            organisations
                .iter()
                .map(|o| (o.key.clone(), o.designation().into_owned()))
                .collect(),
        );
        let summary = data_summary::summary(&definition.data, &case.instance.data, &references);
        let documents = every_document
            .into_iter()
            .filter(|d| reader.sees(d.internal_to))
            .collect();
        let links = case_links::of_case(conn, id, principal)?;
        let linked_workflows = case_links::workflows_of(conn, registry, &links, &journal)?;
        Ok(CaseFile {
            case,
            applicant,
            documents,
            journal,
            consultations,
            summary,
            organisations,
            links,
            linked_workflows,
        })
    })
}

/// The journal kind recording that a case file left vorgang, who took it and when; payload
/// `{"journal_seq"}`: the newest journal entry the archive holds. Who has seen the whole file
/// (Akteneinsicht, a hand-over, the Kreisarchiv) is part of the file's history.
pub const EXPORTED: &str = "case_file_exported";

/// The time an export is stamped with, as the journal stores times (whole microseconds), so the
/// archive and the journal entry recording it name the same moment.
pub fn export_time(clock: &Clock) -> NaiveDateTime {
    cases::db_time(clock)
}

/// Journals that `actor` exported the file of case `id` at `at`, holding the journal up to
/// entry `journal_seq`. Called once the archive is ready and before it is sent: an export that
/// cannot be recorded is not handed out. Leaves the case's version alone, like a Vermerk.
pub fn record_export(
    conn: &mut DbConnection,
    id: CaseId,
    journal_seq: i32,
    actor: &str,
    at: NaiveDateTime,
) -> Result<JournalEntry, ServiceError> {
    write_transaction(conn, |conn| {
        let entries = journal::append(
            conn,
            id.0,
            &[NewEvent {
                at,
                actor: actor.to_string(),
                kind: EXPORTED.into(),
                payload: json!({ "journal_seq": journal_seq }),
            }],
        )?;
        entries
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::Internal("Export nicht im Journal".into()))
    })
}

impl CaseFile {
    /// The newest journal entry the file holds (0 for none).
    pub fn journal_seq(&self) -> i32 {
        self.journal.last().map_or(0, |entry| entry.seq)
    }

    /// The archive's folder and file name: the Aktenzeichen, made safe for file systems.
    pub fn folder(&self) -> String {
        archive::portable_name(&self.case.row.aktenzeichen)
    }

    /// Where document `document` lies in the archive.
    pub fn document_path(document: &Document) -> String {
        format!(
            "dokumente/{:04}-{}",
            document.id,
            archive::portable_name(&document.filename)
        )
    }

    /// Where the workflow definition lies in the archive.
    pub fn definition_path(&self) -> String {
        format!(
            "verfahren/{}-v{}.yaml",
            archive::portable_name(self.case.workflow.key()),
            self.case.workflow.version
        )
    }

    /// The archive's members: `overview` as `akte.html`, the JSON members, the definition and
    /// the documents, whose blobs are looked up now: a blob missing from `store` fails the
    /// export before anything is sent.
    pub fn members(
        &self,
        store: &DocumentStore,
        overview: String,
        exported_by: &str,
        exported_at: NaiveDateTime,
    ) -> Result<Vec<Member>, ServiceError> {
        let row = &self.case.row;
        let json_member = |path: &str, value: Value| -> Result<Member, ServiceError> {
            let mut bytes = serde_json::to_vec_pretty(&value)
                .map_err(|e| ServiceError::Internal(e.to_string()))?;
            bytes.push(b'\n');
            Ok(Member {
                path: path.to_string(),
                modified: exported_at,
                content: Content::Bytes(bytes),
            })
        };
        let mut members = vec![
            Member {
                path: "akte.html".into(),
                modified: exported_at,
                content: Content::Bytes(overview.into_bytes()),
            },
            json_member("vorgang.json", self.case_json(exported_by, exported_at))?,
            json_member(
                "journal.json",
                json!({ "format": FORMAT, "aktenzeichen": row.aktenzeichen, "entries": self.journal }),
            )?,
            json_member("beteiligung.json", self.consultations_json())?,
            Member {
                path: self.definition_path(),
                modified: exported_at,
                content: Content::Bytes(self.case.workflow.source.clone().into_bytes()),
            },
        ];
        for document in &self.documents {
            // Only `vorgang demo --remove` removes blobs (with the demo's cases); one found now
            // is there when its turn comes, or the download ends incomplete.
            let path = store
                .path_of(&document.sha256)
                .ok()
                .filter(|path| path.is_file())
                .ok_or_else(|| {
                    ServiceError::Internal(format!(
                        "Dokument {} ({}) fehlt in der Ablage",
                        document.id, document.sha256
                    ))
                })?;
            members.push(Member {
                path: Self::document_path(document),
                modified: document.created_at,
                content: Content::File(path),
            });
        }
        Ok(members)
    }

    fn case_json(&self, exported_by: &str, exported_at: NaiveDateTime) -> Value {
        let row = &self.case.row;
        let time = |at: NaiveDateTime| format_at(at);
        json!({
            "format": FORMAT,
            "exported_at": time(exported_at),
            "exported_by": exported_by,
            "case": {
                "id": row.id.0,
                "aktenzeichen": row.aktenzeichen,
                "workflow": self.case.workflow.key(),
                "workflow_version": self.case.workflow.version,
                "workflow_title": self.case.workflow.title,
                "version": row.version,
                "status": row.status,
                "outcome": row.outcome,
                "applicant": {
                    "key": self.applicant.key,
                    "name": self.applicant.name,
                    "designation": self.applicant.designation(),
                },
                "data": self.case.instance.data,
                "created_at": time(row.created_at),
                "updated_at": time(row.updated_at),
                "submitted_at": row.submitted_at.map(time),
            },
            "documents": self.documents.iter().map(|d| json!({
                "id": d.id,
                "path": Self::document_path(d),
                "filename": d.filename,
                "content_type": d.content_type,
                "size": d.size,
                "sha256": d.sha256,
                "uploaded_by": d.uploaded_by,
                "uploaded_at": time(d.created_at),
                "partner_visible": d.partner_visible,
                "internal_to": d.internal_to,
            })).collect::<Vec<_>>(),
            "journal": self.journal.last().map(|newest| json!({
                "entries": newest.seq,
                "newest_hash": newest.hash,
            })),
            "related": self.links,
        })
    }

    fn consultations_json(&self) -> Value {
        let time = |at: NaiveDateTime| format_at(at);
        json!({
            "format": FORMAT,
            "invitations": self.consultations.iter().map(|c| {
                let i = &c.invitation;
                json!({
                    "step": i.step,
                    "organisation": i.organisation,
                    "organisation_name": i.organisation_name,
                    "invited_at": time(i.invited_at),
                    "deadline": i.deadline,
                    "deadline_reason": i.deadline_reason,
                    "reminders_sent": i.reminders_sent,
                    "status": i.status,
                    "closed_at": i.closed_at.map(time),
                    "answers": c.answers.iter().map(|a| json!({
                        "version": a.version,
                        "votum": a.votum,
                        "text": a.text,
                        "answered_by": a.answered_by,
                        "document_id": a.document_id,
                        "late": a.late,
                        "answered_at": time(a.created_at),
                        "received_on": a.received_on,
                    })).collect::<Vec<_>>(),
                })
            }).collect::<Vec<_>>(),
        })
    }
}
