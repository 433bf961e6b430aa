//! Documents attached to cases: what may be uploaded (decided by content, never by name), where
//! the bytes live (content-addressed under `{data_dir}/documents`), and the `documents` rows.
//!
//! An upload handler collects the multipart field with [`UploadBuffer`] (capped at
//! [`DocumentStore::max_size`]), calls [`DocumentStore::store_upload`] with the declared type and
//! name, and records the result with [`insert`] and [`NewDocument::for_blob`].

/// `vorgang audit documents`: is every document's content still on disk, unaltered?
pub mod audit;
mod filename;
mod kind;
mod record;
mod store;
/// Also reads the exported case files back in the tests (an implementation independent of the
/// writer).
pub mod zip;

pub use self::filename::{content_disposition, sanitize_filename};
pub use self::kind::{Declared, DocumentType, check_declared, identify, sniff};
pub use self::record::{Document, NewDocument, find, find_for, insert, list, list_for};
pub use self::store::{
    DocumentStore, StoredBlob, UploadBuffer, digest, is_valid_sha256, read_limited, sha256_hex,
};

/// Default upper bound of one document: 20 MiB.
pub const DEFAULT_MAX_SIZE: u64 = 20 * 1024 * 1024;

/// Why an upload is refused or could not be stored; the German text is shown to the uploader.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// Nothing was uploaded.
    #[error("Die Datei ist leer.")]
    Empty,
    /// Larger than the configured limit.
    #[error("Die Datei ist zu groß: erlaubt sind höchstens {}.", format_size(*limit))]
    TooLarge {
        /// The limit in bytes, named in the message.
        limit: u64,
    },
    /// The content is not one of the accepted types.
    #[error("{}", not_allowed_text(detected.as_deref()))]
    NotAllowed {
        /// What the content is, with article ("ein ZIP-Archiv"), if it could be named.
        detected: Option<String>,
    },
    /// The declared type (MIME type or extension) contradicts the content.
    #[error("Die Datei gibt sich als {declared} aus, ist aber {}.", actual.with_article())]
    Mismatch {
        /// What was declared ("PDF", "EXE", "text/html").
        declared: String,
        /// What the content really is.
        actual: DocumentType,
    },
    /// Reading the upload or writing the blob failed.
    #[error("Die Datei konnte nicht gespeichert werden: {0}")]
    Io(#[from] std::io::Error),
}

const ALLOWED_TEXT: &str = "erlaubt sind PDF, ODT, DOCX, XLSX, PNG und JPEG";

fn not_allowed_text(detected: Option<&str>) -> String {
    match detected {
        Some(what) => {
            format!("Dieser Dateityp ist nicht erlaubt: Die Datei ist {what}; {ALLOWED_TEXT}.")
        }
        None => format!(
            "Dieser Dateityp ist nicht erlaubt: Der Inhalt ist keinem erlaubten Typ zuzuordnen; {ALLOWED_TEXT}."
        ),
    }
}

/// "20 MB" for whole mebibytes (as people say it), else bytes.
fn format_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MB", bytes / MIB)
    } else {
        format!("{bytes} Bytes")
    }
}
