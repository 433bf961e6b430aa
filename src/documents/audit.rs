//! Checks the blob store against the `documents` rows: every document's file must be there with
//! the size and SHA-256 its row records. The journal's hash chain says which content entered a
//! case; this says whether that content is still on disk (after a restore, a move of the data
//! directory, or a disk fault).

use std::collections::BTreeMap;
use std::fmt;
use std::io;

use diesel::prelude::*;

use super::store::{DocumentStore, digest};
use crate::db::schema::{cases, documents};
use crate::db::{DbConnection, DbError};

/// A document row, named the way an operator finds it again.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct ListedDocument {
    /// Primary key of the row.
    pub id: i64,
    /// Aktenzeichen of its case.
    pub aktenzeichen: String,
    /// Sanitised file name.
    pub filename: String,
    /// The blob's name: lowercase hex SHA-256.
    pub sha256: String,
    /// Bytes recorded at upload.
    pub size: i64,
}

/// What is wrong with a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobProblem {
    /// No file under the blob's name.
    Missing,
    /// The file's content differs from what its name and row say.
    Altered {
        /// Length of the file found.
        size: u64,
        /// SHA-256 of the file found.
        sha256: String,
    },
    /// The file could not be read.
    Unreadable(String),
}

impl fmt::Display for BlobProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("Datei fehlt in der Dokumentablage"),
            Self::Altered { size, sha256 } => write!(
                f,
                "Inhalt wurde verändert ({size} Bytes mit SHA-256 {sha256})"
            ),
            Self::Unreadable(reason) => write!(f, "Datei nicht lesbar: {reason}"),
        }
    }
}

/// One document whose blob is missing or altered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentFinding {
    /// The document concerned.
    pub document: ListedDocument,
    /// What is wrong with its blob.
    pub problem: BlobProblem,
}

impl fmt::Display for DocumentFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.document;
        write!(
            f,
            "Vorgang {}, Dokument {} „{}“ (SHA-256 {}): {}",
            d.aktenzeichen, d.id, d.filename, d.sha256, self.problem
        )
    }
}

/// The result of checking every document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentReport {
    /// Document rows checked.
    pub documents: u64,
    /// Distinct blobs read (identical content is stored once).
    pub blobs: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Every document whose blob is missing or altered, by id.
    pub findings: Vec<DocumentFinding>,
}

/// Every document row with its case's Aktenzeichen, by id.
pub fn listed(conn: &mut DbConnection) -> Result<Vec<ListedDocument>, DbError> {
    Ok(documents::table
        .inner_join(cases::table)
        .select((
            documents::id,
            cases::aktenzeichen,
            documents::filename,
            documents::sha256,
            documents::size,
        ))
        .order(documents::id)
        .load(conn)?)
}

/// Reads the blob named `sha256` and compares it with its name and the recorded `size`.
pub fn check_blob(store: &DocumentStore, sha256: &str, size: i64) -> Result<u64, BlobProblem> {
    let file = match store.open(sha256) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(BlobProblem::Missing),
        Err(e) => return Err(BlobProblem::Unreadable(e.to_string())),
    };
    let (found, len) = digest(file).map_err(|e| BlobProblem::Unreadable(e.to_string()))?;
    if found == sha256 && i64::try_from(len).is_ok_and(|len| len == size) {
        Ok(len)
    } else {
        Err(BlobProblem::Altered {
            size: len,
            sha256: found,
        })
    }
}

/// Checks the blob of every listed document, each distinct blob once.
pub fn check(store: &DocumentStore, documents: Vec<ListedDocument>) -> DocumentReport {
    check_each(documents, |sha256, size| check_blob(store, sha256, size))
}

/// Runs `blob` (check, copy) once per distinct blob of `documents` (identical content is stored
/// once) and names every document whose blob it refused; `blob` answers the bytes it read.
pub fn check_each(
    documents: Vec<ListedDocument>,
    mut blob: impl FnMut(&str, i64) -> Result<u64, BlobProblem>,
) -> DocumentReport {
    let mut report = DocumentReport {
        documents: documents.len() as u64,
        ..DocumentReport::default()
    };
    let mut outcomes: BTreeMap<(String, i64), Result<(), BlobProblem>> = BTreeMap::new();
    for document in documents {
        let key = (document.sha256.clone(), document.size);
        let outcome = outcomes.entry(key).or_insert_with(|| {
            report.blobs += 1;
            blob(&document.sha256, document.size).map(|len| {
                report.bytes += len;
            })
        });
        if let Err(problem) = outcome {
            report.findings.push(DocumentFinding {
                problem: problem.clone(),
                document,
            });
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(id: i64, sha256: &str, size: i64) -> ListedDocument {
        ListedDocument {
            id,
            aktenzeichen: "KI-05154-2026-0001".into(),
            filename: "antrag.pdf".into(),
            sha256: sha256.into(),
            size,
        }
    }

    #[test]
    fn finds_missing_altered_and_intact_blobs_reading_each_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = DocumentStore::new(dir.path());
        let intact = store.store(b"%PDF-1.7\nintact").unwrap();
        let altered = store.store(b"%PDF-1.7\nbefore").unwrap();
        std::fs::write(store.path_of(&altered.sha256).unwrap(), b"%PDF-1.7\nafter!").unwrap();
        let missing = "0".repeat(64);

        let report = check(
            &store,
            vec![
                listed(1, &intact.sha256, intact.size as i64),
                listed(2, &altered.sha256, altered.size as i64),
                listed(3, &intact.sha256, intact.size as i64),
                listed(4, &missing, 10),
                // Right content, wrong recorded size: the row and the file disagree.
                listed(5, &intact.sha256, 3),
            ],
        );
        assert_eq!(report.documents, 5);
        assert_eq!(report.blobs, 4);
        let problems: Vec<(i64, &BlobProblem)> = report
            .findings
            .iter()
            .map(|f| (f.document.id, &f.problem))
            .collect();
        let (after, after_len) = digest(&b"%PDF-1.7\nafter!"[..]).unwrap();
        assert_eq!(
            problems,
            vec![
                (
                    2,
                    &BlobProblem::Altered {
                        size: after_len,
                        sha256: after
                    }
                ),
                (4, &BlobProblem::Missing),
                (
                    5,
                    &BlobProblem::Altered {
                        size: intact.size,
                        sha256: intact.sha256.clone()
                    }
                ),
            ]
        );
        assert_eq!(
            report.findings[1].to_string(),
            format!(
                "Vorgang KI-05154-2026-0001, Dokument 4 „antrag.pdf“ (SHA-256 {missing}): Datei fehlt in der Dokumentablage"
            )
        );
    }
}
