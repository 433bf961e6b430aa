//! The command-line side of backups: options, and the German lines printed.

use std::path::PathBuf;

use super::{BackupError, BackupReport, RestoreReport, Tools};
use crate::config::Settings;
use crate::db::DatabaseUrl;
use crate::db::transfer::{TransferError, open_source, other_sessions};
use crate::server::{InstanceLock, StartupError};

/// Options of `vorgang backup`.
#[derive(clap::Args, Debug, Clone)]
pub struct BackupArgs {
    /// Neues Verzeichnis für die Sicherung (darf noch nicht existieren).
    #[arg(value_name = "ZIEL")]
    pub target: PathBuf,
    /// Programm pg_dump (nur PostgreSQL; Voreinstellung: pg_dump aus PATH, in der Version des
    /// Datenbankservers).
    #[arg(long, value_name = "PFAD", default_value = "pg_dump")]
    pub pg_dump: PathBuf,
}

/// Options of `vorgang restore`.
#[derive(clap::Args, Debug, Clone)]
pub struct RestoreArgs {
    /// Verzeichnis einer Sicherung von „vorgang backup“.
    #[arg(value_name = "QUELLE")]
    pub source: PathBuf,
    /// Programm pg_restore (nur PostgreSQL; Voreinstellung: pg_restore aus PATH).
    #[arg(long, value_name = "PFAD", default_value = "pg_restore")]
    pub pg_restore: PathBuf,
}

/// Options of `vorgang transfer`.
#[derive(clap::Args, Debug, Clone)]
pub struct TransferArgs {
    /// Datenbank, aus der übertragen wird, geschrieben wie database_url (z. B.
    /// sqlite://data/vorgang.db oder postgres://…); sie bleibt unverändert. Ziel ist die
    /// eingestellte database_url.
    #[arg(long = "from", value_name = "DATENBANK")]
    pub from: String,
}

/// Runs `vorgang backup`: the lines for stdout and stderr (documents that could not be backed
/// up; exit code 1 when there are any).
pub fn backup(
    args: &BackupArgs,
    settings: &Settings,
) -> Result<(Vec<String>, Vec<String>), BackupError> {
    let tools = Tools {
        pg_dump: args.pg_dump.clone(),
        ..Tools::default()
    };
    let report = super::create(&super::Installation::of(settings), &args.target, &tools)?;
    let mut lines = vec![backup_summary(&report)];
    if !report.manifest.secret_included {
        lines.push(
            "Das Signiergeheimnis ist eingestellt (secret bzw. VORGANG_SECRET) und daher nicht in der Sicherung; bewahren Sie es getrennt auf: Ohne es gelten die versandten Beteiligungslinks nach einer Wiederherstellung nicht mehr."
                .to_string(),
        );
    }
    Ok((lines, report.manifest.problems.clone()))
}

/// Runs `vorgang restore`: the lines for stdout.
pub fn restore(args: &RestoreArgs, settings: &Settings) -> Result<Vec<String>, BackupError> {
    let tools = Tools {
        pg_restore: args.pg_restore.clone(),
        ..Tools::default()
    };
    let report = super::restore(settings, &args.source, &tools)?;
    Ok(restore_summary(&report))
}

/// Runs `vorgang transfer`: the lines for stdout.
pub fn transfer(args: &TransferArgs, settings: &Settings) -> Result<Vec<String>, BackupError> {
    let source = DatabaseUrl::parse(args.from.trim()).map_err(TransferError::Source)?;
    let target = &settings.database_url;
    // Opened first, so that only a vorgang database gets a lock file beside it.
    let mut conn = open_source(&source)?;
    // What a server changes after the snapshot would not move along: an SQLite source is held
    // with the server's own lock for the whole transfer; PostgreSQL can only be asked who else
    // is connected.
    let (_lock, others) = match &source {
        DatabaseUrl::Sqlite(_) => {
            let lock = InstanceLock::acquire(&source).map_err(|error| {
                TransferError::Source(match error {
                    StartupError::DatabaseInUse { url, lock } => format!(
                        "{url} wird von einem laufenden vorgang-Server verwendet (Sperrdatei {lock}); bitte beenden Sie ihn vor der Übertragung, sonst käme nicht mit, was er danach ändert"
                    ),
                    other => other.to_string(),
                })
            })?;
            (Some(lock), 0)
        }
        DatabaseUrl::Postgres(_) => {
            let others =
                other_sessions(&mut conn).map_err(|e| TransferError::Source(e.to_string()))?;
            (None, others)
        }
    };
    let started = std::time::Instant::now();
    let tables = crate::db::transfer::transfer(&mut conn, target, &mut |done| {
        // On stderr as it happens: a large installation takes minutes.
        eprintln!(
            "{}: {} Zeilen kopiert ({} s)",
            done.table,
            done.rows,
            started.elapsed().as_secs()
        );
    })?;
    let rows_of = |name: &str| {
        tables
            .iter()
            .find(|t| t.table == name)
            .map_or(0, |t| t.rows)
    };
    let total: i64 = tables.iter().map(|t| t.rows).sum();
    let mut lines = vec![
        format!(
            "Von {} nach {} übertragen: {} Vorgänge, {} Journaleinträge, {} Dokumente; {total} Zeilen in {} Tabellen.",
            source.redacted(),
            target.redacted(),
            rows_of("cases"),
            rows_of("case_events"),
            rows_of("documents"),
            tables.len()
        ),
        format!(
            "Die Dokumentablage wurde nicht kopiert: Sie liegt weiter in {}; ein Server mit der neuen Datenbank braucht dasselbe Datenverzeichnis (data_dir) oder eine Kopie davon.",
            settings.data_dir.display()
        ),
    ];
    if others > 0 {
        let connections = if others == 1 {
            "war 1 weitere Verbindung".to_string()
        } else {
            format!("waren {others} weitere Verbindungen")
        };
        lines.push(format!(
            "Hinweis: Zu Beginn {connections} zur Quelle offen (etwa ein laufender Server); was danach dort geändert wurde, ist nicht übertragen."
        ));
    }
    lines.push("Zur Kontrolle: „vorgang audit verify“ und „vorgang audit documents“.".to_string());
    Ok(lines)
}

fn backup_summary(report: &BackupReport) -> String {
    let m = &report.manifest;
    let mut line = format!(
        "Sicherung {} angelegt: {} Vorgänge, {} Journaleinträge, {} Dokumente in {} Dateien ({} Bytes).",
        report.dir.display(),
        m.cases,
        m.journal_entries,
        m.documents,
        m.document_files,
        m.document_bytes
    );
    if !m.problems.is_empty() {
        line.push_str(&format!(
            " {} Dokumente fehlen darin, weil ihre Datei in der Dokumentablage fehlt oder verändert ist (siehe unten und „vorgang audit documents“).",
            m.problems.len()
        ));
    }
    line
}

fn restore_summary(report: &RestoreReport) -> Vec<String> {
    let m = &report.manifest;
    let mut lines = vec![format!(
        "Sicherung vom {} wiederhergestellt: {} Vorgänge, {} Journaleinträge, {} Dokumente ({} Dateien neu abgelegt).",
        m.created_at, m.cases, m.journal_entries, m.documents, report.files_written
    )];
    if !m.problems.is_empty() {
        lines.push(format!(
            "Schon beim Sichern fehlten {} Dokumentdateien; sie sind in sicherung.json genannt.",
            m.problems.len()
        ));
    }
    if let Some(note) = &report.secret_note {
        lines.push(note.clone());
    }
    if report.migrations_pending {
        lines.push(
            "Die Datenbank stammt von einer älteren Version; „vorgang migrate“ oder der nächste Start bringt sie auf den aktuellen Stand."
                .to_string(),
        );
    }
    lines.push("Zur Kontrolle: „vorgang audit verify“ und „vorgang audit documents“.".to_string());
    lines
}
