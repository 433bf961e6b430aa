//! Attaching a document to a case: the `documents` row and its journal entry, in one transaction.
//!
//! A document is part of the case file, so its arrival belongs in the case's tamper-evident
//! journal: who added which content (its SHA-256) under which name, and whether partners see it.
//! The entry does not change the case's version: a document neither touches the case's data nor
//! its state, and a colleague's upload must not turn someone's pending edit into a conflict.

use serde_json::json;

use super::internal::INTERNAL_TO;
use crate::db::{DbConnection, write_transaction};
use crate::documents::{self, Document, NewDocument};
use crate::journal::{self, NewEvent};
use crate::service::ServiceError;

/// The journal kind of a document's arrival: uploaded by a user, or attached to a partner's
/// answer (journaled right after the answer).
pub const UPLOADED: &str = "document_uploaded";

/// Records `new` (its blob already stored) as a document of its case and journals it, by its
/// uploader. A case that does not exist changes nothing; an internal document cannot be shown
/// to the consulted partners.
pub fn attach(conn: &mut DbConnection, new: NewDocument) -> Result<Document, ServiceError> {
    if new.internal_to.is_some() && new.partner_visible {
        return Err(ServiceError::Unprocessable(INTERNAL_AND_SHARED.into()));
    }
    write_transaction(conn, |conn| {
        let document = documents::insert(conn, new)?;
        journal::append(conn, document.case_id, &[uploaded(&document)])?;
        Ok(document)
    })
}

/// Why a document cannot be both internal and shown to the consulted partners.
pub const INTERNAL_AND_SHARED: &str = "Ein internes Dokument kann nicht für Beteiligte sichtbar \
     sein; bitte wählen Sie eines von beiden.";

/// The journal entry for `document`'s arrival.
/// An internal one names its organisation (`internal_to`), so that other organisations read the
/// entry withheld (`service::internal`): its file name is as much the owner's business as its
/// content.
pub(crate) fn uploaded(document: &Document) -> NewEvent {
    let mut payload = json!({
        "document": document.id,
        "filename": document.filename,
        "sha256": document.sha256,
        "size": document.size,
        "content_type": document.content_type,
        "partner_visible": document.partner_visible,
    });
    if let Some(owner) = document.internal_to {
        payload[INTERNAL_TO] = json!(owner.0);
    }
    NewEvent {
        at: document.created_at,
        actor: document.uploaded_by.clone(),
        kind: UPLOADED.to_string(),
        payload,
    }
}
