//! The `documents` rows: which blob belongs to which case, under which name, uploaded by whom.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::filename::{content_disposition, sanitize_filename};
use super::store::StoredBlob;
use crate::auth::InternalReader;
use crate::db::models::OrganisationId;
use crate::db::schema::documents;
use crate::db::{DbConnection, DbError};

/// A row of `documents`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Serialize)]
#[diesel(table_name = documents)]
pub struct Document {
    /// Primary key; part of download URLs.
    pub id: i64,
    /// The case the document belongs to; access follows the case.
    pub case_id: i64,
    /// Name of the blob in the [`super::DocumentStore`].
    pub sha256: String,
    /// Bytes.
    pub size: i64,
    /// Canonical MIME type of the sniffed content.
    pub content_type: String,
    /// Sanitised file name (see [`sanitize_filename`]).
    pub filename: String,
    /// Who uploaded it (user e-mail address or partner mailbox).
    pub uploaded_by: String,
    /// Whether consulted partners may see it.
    pub partner_visible: bool,
    /// When it was recorded (UTC; RFC 3339 in JSON).
    #[serde(serialize_with = "crate::utc::serialize")]
    pub created_at: NaiveDateTime,
    /// The organisation the document is internal to (the uploader's); `None`: for everyone who
    /// reads the case.
    pub internal_to: Option<OrganisationId>,
}

impl Document {
    /// The `Content-Disposition` header value for downloading this document.
    pub fn content_disposition(&self) -> String {
        content_disposition(&self.filename)
    }
}

/// What is needed to record a stored blob as a document of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDocument {
    /// The case it is attached to.
    pub case_id: i64,
    /// Hash of a blob already in the [`super::DocumentStore`].
    pub sha256: String,
    /// Bytes (positive).
    pub size: i64,
    /// Canonical MIME type from sniffing, never the client's claim.
    pub content_type: String,
    /// As sent by the client; sanitised on insert.
    pub filename: String,
    /// Who uploaded it (user e-mail address or partner mailbox).
    pub uploaded_by: String,
    /// Whether consulted partners may see it.
    pub partner_visible: bool,
    /// The organisation it is internal to; never together with `partner_visible`.
    pub internal_to: Option<OrganisationId>,
}

impl NewDocument {
    /// The record for a blob just stored, with its sniffed MIME type.
    pub fn for_blob(
        case_id: i64,
        blob: &StoredBlob,
        filename: &str,
        uploaded_by: &str,
        partner_visible: bool,
    ) -> Self {
        Self {
            case_id,
            sha256: blob.sha256.clone(),
            size: i64::try_from(blob.size).unwrap_or(i64::MAX),
            content_type: blob.document_type.mime().to_string(),
            filename: filename.to_string(),
            uploaded_by: uploaded_by.to_string(),
            partner_visible,
            internal_to: None,
        }
    }

    /// The same record, internal to `organisation` (or for everyone with `None`).
    #[must_use]
    pub fn internal_to(self, organisation: Option<OrganisationId>) -> Self {
        Self {
            internal_to: organisation,
            ..self
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = documents)]
struct DocumentInsert<'a> {
    case_id: i64,
    sha256: &'a str,
    size: i64,
    content_type: &'a str,
    filename: &'a str,
    uploaded_by: &'a str,
    partner_visible: bool,
    internal_to: Option<OrganisationId>,
}

/// Records a document (the blob must already be stored); the file name is sanitised here.
pub fn insert(conn: &mut DbConnection, new: NewDocument) -> Result<Document, DbError> {
    let filename = sanitize_filename(&new.filename);
    let row = DocumentInsert {
        case_id: new.case_id,
        sha256: &new.sha256,
        size: new.size,
        content_type: &new.content_type,
        filename: &filename,
        uploaded_by: &new.uploaded_by,
        partner_visible: new.partner_visible,
        internal_to: new.internal_to,
    };
    let id: i64 = match conn {
        DbConnection::Pg(pg) => diesel::insert_into(documents::table)
            .values(&row)
            .returning(documents::id)
            .get_result(pg)?,
        DbConnection::Sqlite(sqlite) => {
            diesel::insert_into(documents::table)
                .values(&row)
                .execute(sqlite)?;
            // The id of the row just inserted on this connection.
            diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "last_insert_rowid()",
            ))
            .get_result(sqlite)?
        }
    };
    Ok(documents::table
        .find(id)
        .select(Document::as_select())
        .first(conn)?)
}

/// The document `id` if it belongs to case `case_id` (ids of other cases are not found).
pub fn find(conn: &mut DbConnection, case_id: i64, id: i64) -> Result<Option<Document>, DbError> {
    Ok(documents::table
        .filter(documents::id.eq(id))
        .filter(documents::case_id.eq(case_id))
        .select(Document::as_select())
        .first(conn)
        .optional()?)
}

/// The document `id` of case `case_id` if `reader` sees it (another organisation's internal
/// document is not found, as if it did not exist).
pub fn find_for(
    conn: &mut DbConnection,
    case_id: i64,
    id: i64,
    reader: InternalReader,
) -> Result<Option<Document>, DbError> {
    Ok(find(conn, case_id, id)?.filter(|document| reader.sees(document.internal_to)))
}

/// All documents of a case, oldest first.
pub fn list(conn: &mut DbConnection, case_id: i64) -> Result<Vec<Document>, DbError> {
    Ok(documents::table
        .filter(documents::case_id.eq(case_id))
        .order((documents::created_at, documents::id))
        .select(Document::as_select())
        .load(conn)?)
}

/// The documents of a case `reader` sees, oldest first: without other organisations' internal
/// ones.
pub fn list_for(
    conn: &mut DbConnection,
    case_id: i64,
    reader: InternalReader,
) -> Result<Vec<Document>, DbError> {
    let mut documents = list(conn, case_id)?;
    documents.retain(|document| reader.sees(document.internal_to));
    Ok(documents)
}
