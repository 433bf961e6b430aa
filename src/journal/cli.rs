//! `vorgang audit`: checks the journals from the command line, for operators and auditors.
//!
//! Nothing is printed here; [`run`] returns the lines and whether every chain is intact, and the
//! caller prints them and picks the exit code (0 intact, 1 broken, 2 cannot check).

use crate::config::Settings;
use crate::db::{ConnectionFactory, DatabaseUrl, DbError, migrations};
use crate::server::StartupError;

/// Options of `vorgang audit`.
#[derive(clap::Args, Debug, Clone)]
#[command(about = "Prüft die Unversehrtheit der Vorgangsjournale", long_about = None)]
pub struct AuditArgs {
    /// Which check to run.
    #[command(subcommand)]
    pub command: AuditCommand,
}

/// The audit subcommands.
#[derive(clap::Subcommand, Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditCommand {
    /// Prüft die Hash-Kette jedes Vorgangsjournals und nennt je gebrochener Kette den ersten
    /// gebrochenen Eintrag (Exit-Code 0: alle unversehrt, 1: mindestens eine gebrochen).
    Verify,
}

/// Why the journals could not be checked at all (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Settings or the database connection failed, as at start-up.
    #[error(transparent)]
    Startup(#[from] StartupError),
    /// The database schema is older than this binary.
    #[error(
        "Einstellung database_url: Datenbank {0} ist nicht auf dem aktuellen Stand; bitte zuerst „vorgang migrate“ ausführen"
    )]
    NotMigrated(String),
    /// Reading the journal failed midway.
    #[error("Prüfung abgebrochen: {0}")]
    Database(#[from] DbError),
}

/// What `vorgang audit …` prints, and whether everything was intact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditOutcome {
    /// Lines for stdout.
    pub lines: Vec<String>,
    /// Exit code 0 when true, 1 otherwise.
    pub intact: bool,
}

/// Runs an audit subcommand against the configured database (without migrating it).
pub fn run(args: &AuditArgs, settings: &Settings) -> Result<AuditOutcome, AuditError> {
    match args.command {
        AuditCommand::Verify => verify(settings),
    }
}

fn verify(settings: &Settings) -> Result<AuditOutcome, AuditError> {
    let url = &settings.database_url;
    // Opening SQLite would create an empty file; checking a database that is not there is a
    // configuration mistake, not an intact journal.
    if let DatabaseUrl::Sqlite(path) = url
        && !path.exists()
    {
        return Err(StartupError::Database(DbError::Unreachable {
            url: url.redacted(),
            reason: "die Datei existiert nicht".into(),
        })
        .into());
    }
    let mut conn = ConnectionFactory::new(url.clone())
        .open()
        .map_err(StartupError::Database)?;
    if migrations::has_pending(&mut conn).map_err(StartupError::Database)? {
        return Err(AuditError::NotMigrated(url.redacted()));
    }
    let report = super::verify(&mut conn)?;
    let lines = if report.intact() {
        vec![summary(report.journals, report.entries)]
    } else {
        report.breaks.iter().map(ToString::to_string).collect()
    };
    Ok(AuditOutcome {
        lines,
        intact: report.intact(),
    })
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
    use super::summary;

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
