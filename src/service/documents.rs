//! Attaching a document to a case: the `documents` row and its journal entry, in one transaction.
//!
//! A document is part of the case file, so its arrival belongs in the case's tamper-evident
//! journal: who added which content (its SHA-256) under which name, and whether partners see it.
//! The entry does not change the case's version: a document neither touches the case's data nor
//! its state, and a colleague's upload must not turn someone's pending edit into a conflict.

use serde_json::json;

use crate::db::{DbConnection, write_transaction};
use crate::documents::{self, Document, NewDocument};
use crate::journal::{self, NewEvent};
use crate::service::ServiceError;

/// The journal kind of a document's arrival: uploaded by a user, or attached to a partner's
/// answer (journaled right after the answer).
pub const UPLOADED: &str = "document_uploaded";

/// Records `new` (its blob already stored) as a document of its case and journals it, by its
/// uploader. A case that does not exist changes nothing.
pub fn attach(conn: &mut DbConnection, new: NewDocument) -> Result<Document, ServiceError> {
    write_transaction(conn, |conn| {
        let document = documents::insert(conn, new)?;
        journal::append(conn, document.case_id, &[uploaded(&document)])?;
        Ok(document)
    })
}

/// The journal entry for `document`'s arrival.
pub(crate) fn uploaded(document: &Document) -> NewEvent {
    NewEvent {
        at: document.created_at,
        actor: document.uploaded_by.clone(),
        kind: UPLOADED.to_string(),
        payload: json!({
            "document": document.id,
            "filename": document.filename,
            "sha256": document.sha256,
            "size": document.size,
            "content_type": document.content_type,
            "partner_visible": document.partner_visible,
        }),
    }
}
