//! `vorgang organisations import DATEI [--dry-run]` and `vorgang organisations export`: the
//! table of [`super::organisation_table`] on the command line, for setting up an installation
//! (its partner bodies and Gemeinden) before anyone logs in, and for keeping the addresses in a
//! file under version control.
//!
//! Errors are reported like a compiler's, one line each: `DATEI:ZEILE: Spalte „…“: …`. Exit code
//! 0 when the table was taken (or, with `--dry-run`, would be), 1 when rows have errors, 2 when
//! nothing could be read; nothing is stored unless the code is 0.

use std::path::PathBuf;

use crate::config::Settings;
use crate::server::{self, StartupError};

use super::admin_log::COMMAND_LINE;
use super::organisation_table::{self, ImportError, MAX_BYTES};

/// The subcommands of `vorgang organisations`.
#[derive(clap::Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum OrganisationsCommand {
    /// Takes a table of organisations in.
    #[command(
        about = "Übernimmt eine Tabelle (CSV) mit Partnerstellen, Gemeinden und Adressen \
                 (Exit-Code 0: übernommen, 1: Fehler in Zeilen, 2: nicht lesbar; bei 1 und 2 \
                 wird nichts gespeichert)"
    )]
    Import {
        /// The CSV file.
        #[arg(value_name = "DATEI")]
        file: PathBuf,
        /// Only check and report.
        #[arg(long, help = "Nur prüfen und berichten, nichts speichern")]
        dry_run: bool,
    },
    /// Writes every organisation as such a table to stdout.
    #[command(about = "Gibt alle Organisationen als Tabelle (CSV) auf der Standardausgabe aus")]
    Export,
}

/// How a run ended: what to print, and the exit code.
#[derive(Debug)]
pub struct Outcome {
    /// For stdout.
    pub output: Vec<u8>,
    /// For stderr, one line each.
    pub problems: Vec<String>,
    /// 0, 1 or 2.
    pub code: u8,
}

/// Runs the subcommand against the configured database.
pub fn run(command: &OrganisationsCommand, settings: &Settings) -> Result<Outcome, StartupError> {
    match command {
        OrganisationsCommand::Import { file, dry_run } => {
            let shown = file.display().to_string();
            let refused = |message: String| Outcome {
                output: Vec::new(),
                problems: vec![format!("{shown}: {message}")],
                code: 2,
            };
            let bytes = match std::fs::metadata(file) {
                Ok(meta) if meta.len() > MAX_BYTES as u64 => {
                    return Ok(refused(format!(
                        "Die Tabelle ist größer als {} MB.",
                        MAX_BYTES / (1024 * 1024)
                    )));
                }
                Ok(_) => match std::fs::read(file) {
                    Ok(bytes) => bytes,
                    Err(error) => return Ok(refused(format!("nicht lesbar: {error}"))),
                },
                Err(error) => return Ok(refused(format!("nicht lesbar: {error}"))),
            };
            let mut conn = open(settings)?;
            let at = chrono::Utc::now().naive_utc();
            let result = organisation_table::import(&mut conn, &bytes, COMMAND_LINE, at, !dry_run);
            Ok(match result {
                Ok(report) => {
                    let verb = if *dry_run { "würden" } else { "wurden" };
                    let list = |keys: &[String]| match keys.len() {
                        0 => "keine".to_string(),
                        _ => keys.join(", "),
                    };
                    let text = format!(
                        "{shown}: {} Organisationen {verb} angelegt ({}), bei {} die Adressen \
                         ersetzt ({}), {} unverändert.\n",
                        report.registered.len(),
                        list(&report.registered),
                        report.updated.len(),
                        list(&report.updated),
                        report.unchanged.len(),
                    );
                    Outcome {
                        output: text.into_bytes(),
                        problems: Vec::new(),
                        code: 0,
                    }
                }
                Err(ImportError::Unreadable(message)) => refused(message),
                Err(ImportError::Rows(errors)) => Outcome {
                    output: Vec::new(),
                    problems: errors
                        .iter()
                        .map(|e| match e.column {
                            Some(column) => {
                                format!("{shown}:{}: Spalte „{column}“: {}", e.line, e.message)
                            }
                            None => format!("{shown}:{}: {}", e.line, e.message),
                        })
                        .collect(),
                    code: 1,
                },
                Err(ImportError::Service(error)) => refused(error.to_string()),
            })
        }
        OrganisationsCommand::Export => {
            let mut conn = open(settings)?;
            let table = super::organisations::list(&mut conn, None, None)
                .and_then(|views| organisation_table::export(&views));
            Ok(match table {
                Ok(output) => Outcome {
                    output,
                    problems: Vec::new(),
                    code: 0,
                },
                Err(error) => Outcome {
                    output: Vec::new(),
                    problems: vec![error.to_string()],
                    code: 2,
                },
            })
        }
    }
}

fn open(settings: &Settings) -> Result<crate::db::PooledConnection, StartupError> {
    server::ensure_data_dir(settings)?;
    let (db, _applied) = server::open_and_migrate(settings)?;
    Ok(db.get()?)
}
