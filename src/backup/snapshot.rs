//! The database half of a backup: a consistent copy of the database, and what it holds (the
//! documents whose files belong with it, counts, schema version) read from the same moment.
//!
//! SQLite: `VACUUM INTO` writes a consistent copy while the server goes on writing (WAL); the
//! document list is then read from the copy itself. PostgreSQL: a `REPEATABLE READ` transaction
//! exports its snapshot, `pg_dump --snapshot` dumps exactly that state, and the document list is
//! read in the same transaction. Either way the backup's files are the ones its database names:
//! blobs are written before the row that refers to them commits, and are never changed.

use std::path::{Path, PathBuf};
use std::process::Command;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::BackupError;
use crate::db::{DatabaseUrl, DbConnection, migrations, read_snapshot};
use crate::documents::audit::{ListedDocument, listed};

/// The database file of a backup of an SQLite installation.
pub const SQLITE_FILE: &str = "datenbank.sqlite3";
/// The database file of a backup of a PostgreSQL installation (`pg_dump --format=custom`).
pub const POSTGRES_FILE: &str = "datenbank.pgdump";

/// The external programs a PostgreSQL backup or restore runs.
#[derive(Debug, Clone)]
pub struct Tools {
    /// `pg_dump`, by default from `PATH`.
    pub pg_dump: PathBuf,
    /// `pg_restore`, by default from `PATH`.
    pub pg_restore: PathBuf,
}

impl Default for Tools {
    fn default() -> Self {
        Self {
            pg_dump: "pg_dump".into(),
            pg_restore: "pg_restore".into(),
        }
    }
}

/// What the database held at the moment of the backup.
#[derive(Debug, Clone)]
pub struct Contents {
    /// Every document row, with its case's Aktenzeichen.
    pub documents: Vec<ListedDocument>,
    /// Cases.
    pub cases: i64,
    /// Journal entries of all cases.
    pub journal_entries: i64,
    /// Newest migration applied.
    pub schema_version: String,
}

/// Copies the database into `dir` (absolute) and reads its contents as of the copy.
pub fn take(
    url: &DatabaseUrl,
    mut conn: DbConnection,
    dir: &Path,
    tools: &Tools,
) -> Result<(&'static str, Contents), BackupError> {
    match url {
        DatabaseUrl::Sqlite(_) => {
            let copy = dir.join(SQLITE_FILE);
            let text = copy.to_str().ok_or_else(|| BackupError::InvalidTarget {
                path: dir.display().to_string(),
                reason: "Pfad ist kein gültiges UTF-8".into(),
            })?;
            diesel::sql_query(format!("VACUUM INTO '{}'", text.replace('\'', "''")))
                .execute(&mut conn)?;
            drop(conn);
            std::fs::File::open(&copy)
                .and_then(|f| f.sync_all())
                .map_err(|e| BackupError::io("Datenbankkopie nicht speicherbar", e))?;
            let mut copy = open_read_only(&copy)?;
            Ok((SQLITE_FILE, contents(&mut copy)?))
        }
        DatabaseUrl::Postgres(text) => {
            let contents = read_snapshot(&mut conn, |conn| {
                #[derive(QueryableByName)]
                struct Exported {
                    #[diesel(sql_type = Text)]
                    id: String,
                }
                let snapshot: Exported =
                    diesel::sql_query("SELECT pg_export_snapshot() AS id").get_result(conn)?;
                let (target, password) = libpq_target(text)?;
                let mut command = Command::new(&tools.pg_dump);
                command
                    .args(["--format=custom", "--no-owner", "--no-privileges"])
                    .arg(format!("--snapshot={}", snapshot.id))
                    .arg("--file")
                    .arg(dir.join(POSTGRES_FILE))
                    .arg("--dbname")
                    .arg(target);
                run_tool(command, &tools.pg_dump, "pg_dump", password)?;
                contents(conn)
            })?;
            Ok((POSTGRES_FILE, contents))
        }
    }
}

/// The backed-up SQLite file, opened so that reading it cannot change it.
pub fn open_read_only(path: &Path) -> Result<DbConnection, BackupError> {
    let uri = url::Url::from_file_path(path).map_err(|()| BackupError::InvalidTarget {
        path: path.display().to_string(),
        reason: "kein absoluter Pfad".into(),
    })?;
    let conn = diesel::sqlite::SqliteConnection::establish(&format!("{uri}?mode=ro"))
        .map_err(|e| BackupError::io("Datenbankkopie nicht lesbar", std::io::Error::other(e)))?;
    Ok(DbConnection::Sqlite(conn))
}

/// Counts, document list and schema version of the database `conn` reads.
pub fn contents(conn: &mut DbConnection) -> Result<Contents, BackupError> {
    #[derive(QueryableByName)]
    struct Counts {
        #[diesel(sql_type = BigInt)]
        cases: i64,
        #[diesel(sql_type = BigInt)]
        journal_entries: i64,
    }
    let counts: Counts = diesel::sql_query(
        "SELECT (SELECT count(*) FROM cases) AS cases, \
         (SELECT count(*) FROM case_events) AS journal_entries",
    )
    .get_result(conn)?;
    Ok(Contents {
        documents: listed(conn)?,
        cases: counts.cases,
        journal_entries: counts.journal_entries,
        schema_version: migrations::newest_applied(conn)?.unwrap_or_default(),
    })
}

/// Loads a dump into the (empty) database at `url` in one transaction: all or nothing.
pub fn pg_restore(url: &str, dump: &Path, tools: &Tools) -> Result<(), BackupError> {
    let (target, password) = libpq_target(url)?;
    let mut command = Command::new(&tools.pg_restore);
    command
        .args([
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-privileges",
        ])
        .arg("--dbname")
        .arg(target)
        .arg(dump);
    run_tool(command, &tools.pg_restore, "pg_restore", password)
}

/// The connection URL without its password, and the password (for `PGPASSWORD`): a password on
/// the command line would be visible to every user of the machine.
fn libpq_target(url: &str) -> Result<(String, Option<String>), BackupError> {
    let mut parsed = url::Url::parse(url).map_err(|e| BackupError::Tool {
        tool: "pg_dump",
        reason: format!("database_url nicht lesbar: {e}"),
    })?;
    let password = parsed.password().map(|p| {
        percent_encoding::percent_decode_str(p)
            .decode_utf8_lossy()
            .into_owned()
    });
    let _ = parsed.set_password(None);
    Ok((parsed.to_string(), password))
}

fn run_tool(
    mut command: Command,
    program: &Path,
    tool: &'static str,
    password: Option<String>,
) -> Result<(), BackupError> {
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let output = command.output().map_err(|e| BackupError::Tool {
        tool,
        reason: if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "Programm {} nicht gefunden; bitte die PostgreSQL-Clientprogramme in der Version des Servers installieren oder den Pfad angeben (--{tool} PFAD)",
                program.display()
            )
            .replace("--pg_", "--pg-")
        } else {
            format!("nicht ausführbar: {e}")
        },
    })?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(BackupError::Tool {
        tool,
        reason: format!(
            "fehlgeschlagen ({}): {}",
            output.status,
            stderr.trim().lines().collect::<Vec<_>>().join(" / ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::libpq_target;

    #[test]
    fn the_password_leaves_the_url_decoded_for_pgpassword() {
        let (url, password) = libpq_target(
            "postgres://vorgang:g%40heim%3Aw0rt@db.example:5432/vorgang?sslmode=require",
        )
        .unwrap();
        assert_eq!(
            url,
            "postgres://vorgang@db.example:5432/vorgang?sslmode=require"
        );
        assert_eq!(password.as_deref(), Some("g@heim:w0rt"));
        let (url, password) = libpq_target("postgres://postgres@127.0.0.1/vorgang").unwrap();
        assert_eq!(url, "postgres://postgres@127.0.0.1/vorgang");
        assert_eq!(password, None);
    }
}
