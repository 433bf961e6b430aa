//! `vorgang audit`: checks the journals and the documents' files from the command line, for
//! operators and auditors.
//!
//! Nothing is printed here; [`run`] returns the lines and whether every chain is intact, and the
//! caller prints them and picks the exit code (0 intact, 1 broken, 2 cannot check).

use std::path::{Path, PathBuf};

use super::heads;
use crate::config::Settings;
use crate::db::{DbError, ExistingDbError};
use crate::service::admin_chain;

/// Options of `vorgang audit`.
#[derive(clap::Args, Debug, Clone)]
#[command(
    about = "Prüft die Unversehrtheit der Vorgangsjournale und der Dokumentablage",
    long_about = None
)]
pub struct AuditArgs {
    /// Which check to run.
    #[command(subcommand)]
    pub command: AuditCommand,
}

/// The audit subcommands.
#[derive(clap::Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum AuditCommand {
    /// Prüft die Hash-Kette jedes Vorgangsjournals und des Verwaltungsprotokolls und nennt je
    /// gebrochener Kette den ersten gebrochenen Eintrag (Exit-Code 0: alle unversehrt, 1:
    /// mindestens eine gebrochen).
    Verify {
        /// Vergleicht zusätzlich mit früher veröffentlichten Journalständen (Ausgabe von
        /// „vorgang audit heads“): jeder dort verzeichnete Eintrag muss unverändert vorhanden
        /// sein.
        #[arg(long, value_name = "DATEI")]
        heads: Option<PathBuf>,
    },
    /// Gibt den neuesten Eintrag jedes Journals mit seinem Hash aus, zum Aufbewahren außerhalb
    /// der Datenbank; nur wenn alle Journale unversehrt sind (sonst wie „verify“, Exit-Code 1).
    Heads,
    /// Prüft, ob die Datei jedes Dokuments in der Dokumentablage vorhanden und unverändert ist
    /// (Größe und SHA-256 wie beim Hochladen; Exit-Code 0: alle unversehrt, 1: mindestens eine
    /// fehlt oder ist verändert).
    Documents,
}

/// Why the journals or documents could not be checked at all (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The database is missing, unreachable or not migrated.
    #[error(transparent)]
    Open(#[from] ExistingDbError),
    /// Reading the journal failed midway.
    #[error("Prüfung abgebrochen: {0}")]
    Database(#[from] DbError),
    /// The file of published heads cannot be read or is malformed.
    #[error("Journalstände {path}: {reason}")]
    HeadsFile {
        /// The file as given.
        path: String,
        /// Why it cannot be used.
        reason: String,
    },
}

/// What `vorgang audit …` prints, and whether everything was intact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditOutcome {
    /// Lines for stdout: the report of `verify`, the heads file of `heads`.
    pub lines: Vec<String>,
    /// Lines for stderr: breaks that stop `heads`, which must not end up in the file its
    /// stdout is redirected to.
    pub problems: Vec<String>,
    /// Exit code 0 when true, 1 otherwise.
    pub intact: bool,
}

/// Runs an audit subcommand against the configured database (without migrating it).
pub fn run(args: &AuditArgs, settings: &Settings) -> Result<AuditOutcome, AuditError> {
    match &args.command {
        AuditCommand::Verify { heads } => verify(settings, heads.as_deref()),
        AuditCommand::Heads => current_heads(settings),
        AuditCommand::Documents => documents(settings),
    }
}

/// `vorgang audit documents`: one line per document whose file is missing or altered, or a
/// summary when all are intact.
fn documents(settings: &Settings) -> Result<AuditOutcome, AuditError> {
    let mut conn = open(settings)?;
    let listed = crate::documents::audit::listed(&mut conn)?;
    drop(conn);
    let store = crate::documents::DocumentStore::for_settings(settings);
    let report = crate::documents::audit::check(&store, listed);
    let intact = report.findings.is_empty();
    let lines = if intact {
        vec![documents_summary(
            report.documents,
            report.blobs,
            report.bytes,
        )]
    } else {
        report.findings.iter().map(ToString::to_string).collect()
    };
    Ok(AuditOutcome {
        lines,
        problems: Vec::new(),
        intact,
    })
}

fn documents_summary(documents: u64, blobs: u64, bytes: u64) -> String {
    let files = match blobs {
        1 => "1 Datei".to_string(),
        n => format!("{n} Dateien"),
    };
    match documents {
        0 => "Es gibt noch keine Dokumente; nichts zu prüfen.".to_string(),
        1 => format!("Das eine Dokument ist unversehrt ({files}, {bytes} Bytes)."),
        n => format!("Alle {n} Dokumente sind unversehrt ({files}, {bytes} Bytes)."),
    }
}

/// A connection to the configured database, which must exist and be migrated.
fn open(settings: &Settings) -> Result<crate::db::DbConnection, AuditError> {
    Ok(crate::db::open_existing(&settings.database_url)?)
}

/// The published heads in `path`, read before anything is checked (a typo in the path must not
/// cost a full check first).
fn read_heads(path: &Path) -> Result<heads::Published, AuditError> {
    let error = |reason: String| AuditError::HeadsFile {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(format!("nicht lesbar: {e}")))?;
    heads::parse(&text).map_err(|e| error(e.to_string()))
}

fn verify(settings: &Settings, heads_path: Option<&Path>) -> Result<AuditOutcome, AuditError> {
    let published = heads_path.map(read_heads).transpose()?;
    let mut conn = open(settings)?;
    let mut report = super::verify(&mut conn)?;
    if let Some(published) = &published {
        report
            .breaks
            .extend(heads::check(&mut conn, &published.journals)?);
        // One line per case, its earliest break; at the same entry the chain's own finding.
        report.breaks.sort_by_key(|b| (b.case_id, b.seq));
        report.breaks.dedup_by_key(|b| b.case_id);
    }
    let mut record = admin_chain::verify(&mut conn)?;
    let published_record = published.as_ref().and_then(|p| p.record.as_ref());
    if let Some(head) = published_record {
        // The earlier break of the two; at the same entry the chain's own finding.
        if let Some(found) = admin_chain::check_published(&mut conn, head)?
            && record.broken.as_ref().is_none_or(|b| b.seq > found.seq)
        {
            record.broken = Some(found);
        }
    }
    let mut lines: Vec<String> = if report.intact() {
        let mut line = summary(report.journals, report.entries);
        if let Some(published) = &published {
            line.push_str(&format!(" {}", published_summary(published.journals.len())));
        }
        vec![line]
    } else {
        report.breaks.iter().map(ToString::to_string).collect()
    };
    lines.push(match &record.broken {
        None if published_record.is_some() => format!(
            "{} Der veröffentlichte Stand stimmt überein.",
            record_summary(record.entries)
        ),
        None => record_summary(record.entries),
        Some(broken) => broken.to_string(),
    });
    Ok(AuditOutcome {
        lines,
        problems: Vec::new(),
        intact: report.intact() && record.broken.is_none(),
    })
}

fn record_summary(entries: u64) -> String {
    match entries {
        0 => "Das Verwaltungsprotokoll ist noch leer.".to_string(),
        1 => "Das Verwaltungsprotokoll ist unversehrt (1 Eintrag).".to_string(),
        n => format!("Das Verwaltungsprotokoll ist unversehrt ({n} Einträge)."),
    }
}

/// `vorgang audit heads`: the heads of intact journals and of the intact administration's
/// record, or the breaks.
fn current_heads(settings: &Settings) -> Result<AuditOutcome, AuditError> {
    let mut conn = open(settings)?;
    let report = super::verify(&mut conn)?;
    let record = admin_chain::verify(&mut conn)?;
    if !report.intact() || record.broken.is_some() {
        let mut broken: Vec<String> = Vec::new();
        if !report.intact() {
            broken.push(match report.breaks.len() {
                1 => "1 Journal".to_string(),
                n => format!("{n} Journale"),
            });
        }
        if record.broken.is_some() {
            broken.push("das Verwaltungsprotokoll".to_string());
        }
        let count = report.breaks.len() + usize::from(record.broken.is_some());
        let verb = if count == 1 { "ist" } else { "sind" };
        let refusal = format!(
            "Keine Journalstände ausgegeben: {} {verb} gebrochen.",
            broken.join(" und ")
        );
        return Ok(AuditOutcome {
            lines: Vec::new(),
            problems: report
                .breaks
                .iter()
                .map(ToString::to_string)
                .chain(record.broken.iter().map(ToString::to_string))
                .chain(std::iter::once(refusal))
                .collect(),
            intact: false,
        });
    }
    let taken = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
    let lines = std::iter::once(format!(
        "# vorgang Journalstände vom {taken}: Vorgang, Eintrag, Hash, Aktenzeichen (durch Tabulatoren getrennt; „verwaltung“: das Verwaltungsprotokoll)"
    ))
    .chain(
        heads::current(&mut conn)?
            .iter()
            .map(ToString::to_string),
    )
    .chain(
        admin_chain::current_head(&mut conn)?
            .iter()
            .map(ToString::to_string),
    )
    .collect();
    Ok(AuditOutcome {
        lines,
        problems: Vec::new(),
        intact: true,
    })
}

fn published_summary(count: usize) -> String {
    match count {
        0 => "Die Datei verzeichnet keine Journalstände.".to_string(),
        1 => "Der veröffentlichte Journalstand stimmt überein.".to_string(),
        n => format!("Alle {n} veröffentlichten Journalstände stimmen überein."),
    }
}

fn summary(journals: u64, entries: u64) -> String {
    let entries = match entries {
        1 => "1 Eintrag".to_string(),
        n => format!("{n} Einträge"),
    };
    match journals {
        0 => "Es gibt noch keine Journale; nichts zu prüfen.".to_string(),
        1 => format!("Das eine Journal ist unversehrt ({entries})."),
        n => format!("Alle {n} Journale sind unversehrt ({entries})."),
    }
}

#[cfg(test)]
mod tests {
    use super::{documents_summary, summary};

    #[test]
    fn documents_summary_counts_files_separately() {
        assert_eq!(
            documents_summary(3, 2, 1500),
            "Alle 3 Dokumente sind unversehrt (2 Dateien, 1500 Bytes)."
        );
        assert_eq!(
            documents_summary(1, 1, 9),
            "Das eine Dokument ist unversehrt (1 Datei, 9 Bytes)."
        );
        assert_eq!(
            documents_summary(0, 0, 0),
            "Es gibt noch keine Dokumente; nichts zu prüfen."
        );
    }

    #[test]
    fn summary_is_german_with_singular_and_plural() {
        assert_eq!(
            summary(3, 17),
            "Alle 3 Journale sind unversehrt (17 Einträge)."
        );
        assert_eq!(
            summary(1, 1),
            "Das eine Journal ist unversehrt (1 Eintrag)."
        );
        assert_eq!(
            summary(0, 0),
            "Es gibt noch keine Journale; nichts zu prüfen."
        );
    }
}
