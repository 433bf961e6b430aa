//! `vorgang backup` and `vorgang restore`: the whole installation (database and document files)
//! as one directory, taken while the server runs, and put back into an empty installation.
//!
//! A backup directory holds the database (`datenbank.sqlite3` or `datenbank.pgdump`), the files
//! of the documents its rows name (`dokumente/ab/cd/SHA256`, the store's own layout), the
//! manifest `sicherung.json` and `pruefsummen.sha256` over all of them. It is written under
//! `ZIEL.teil` and renamed to `ZIEL` only when complete and synced, so a directory by the given
//! name is always a whole backup. Every document file is re-hashed while it is copied, so a
//! damaged store is noticed at the backup, not at the restore years later; the backup is still
//! completed (it is better than none) and names what is missing.

mod checksums;
/// `vorgang backup` / `vorgang restore` on the command line.
pub mod cli;
mod rotation;
mod snapshot;

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use self::rotation::{prune, scheduled_name};
pub use self::snapshot::Tools;
use crate::config::Settings;
use crate::db::transfer::Occupied;
use crate::db::{ConnectionFactory, DatabaseUrl, DbError, ExistingDbError, migrations};
use crate::documents::audit::{check_blob, check_each};
use crate::documents::{DocumentStore, sha256_hex};

/// The manifest's name inside a backup.
pub const MANIFEST: &str = "sicherung.json";
/// Format tag of the manifest; changes when the layout does.
pub const FORMAT: &str = "vorgang.sicherung.v1";
/// The folder of document files inside a backup.
const DOCUMENTS: &str = "dokumente";

/// `sicherung.json`: what a backup holds, for the operator and for the restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// When the snapshot was taken (UTC, RFC 3339).
    pub created_at: String,
    /// The vorgang version that wrote it.
    pub vorgang_version: String,
    /// `sqlite` or `postgres`: an SQLite backup is restored into either, a PostgreSQL one into
    /// PostgreSQL.
    pub backend: String,
    /// The database file inside the backup.
    pub database_file: String,
    /// Newest migration applied to the backed-up database.
    pub schema_version: String,
    /// Cases in the database.
    pub cases: i64,
    /// Journal entries of all cases.
    pub journal_entries: i64,
    /// Document rows.
    pub documents: i64,
    /// Document files copied (identical content is stored once).
    pub document_files: u64,
    /// Bytes of the copied document files.
    pub document_bytes: u64,
    /// Documents whose file was missing or altered in the store and is therefore not in the
    /// backup, one German line each.
    pub problems: Vec<String>,
    /// Whether the signing secret generated in the data directory is in the backup (as
    /// `secret`). Partner links already mailed, sessions and tokens are signed with it; a
    /// secret set in the configuration is the operator's to keep.
    pub secret_included: bool,
}

/// What a backup did.
#[derive(Debug, Clone)]
pub struct BackupReport {
    /// The complete backup directory.
    pub dir: PathBuf,
    /// Its manifest; its `problems` name the documents whose file could not be backed up
    /// (exit code 1).
    pub manifest: Manifest,
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct RestoreReport {
    /// The manifest of the restored backup.
    pub manifest: Manifest,
    /// Document files written (the others were in the store already).
    pub files_written: u64,
    /// What the operator must know about the signing secret, if anything.
    pub secret_note: Option<String>,
    /// True when this binary has newer migrations, which `vorgang migrate` or the next start
    /// applies.
    pub migrations_pending: bool,
}

/// Why a backup or restore could not be done (exit code 2). A failed backup leaves no directory
/// behind; a failed restore leaves the database as it was (document files it already placed
/// stay: they are named by their content and referenced by nothing), except for
/// [`BackupError::Unexpected`], which is found after the database was loaded.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The installation's database is missing, unreachable or not migrated.
    #[error(transparent)]
    Open(#[from] ExistingDbError),
    /// A query failed midway.
    #[error("Datenbank: {0}")]
    Database(#[from] DbError),
    /// The target is not usable as a directory name.
    #[error("Ziel {path}: {reason}")]
    InvalidTarget {
        /// As given.
        path: String,
        /// Why not.
        reason: String,
    },
    /// The target exists; a backup never overwrites.
    #[error("Ziel {0} existiert bereits; eine Sicherung überschreibt nichts")]
    TargetExists(String),
    /// A partial backup of an interrupted run is in the way.
    #[error(
        "{0} ist von einer abgebrochenen Sicherung übrig; bitte prüfen und löschen, dann erneut sichern"
    )]
    Leftover(String),
    /// Reading or writing files failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: io::Error,
    },
    /// `pg_dump` or `pg_restore` is missing or failed.
    #[error("{tool}: {reason}")]
    Tool {
        /// Which program.
        tool: &'static str,
        /// What happened, with its own message.
        reason: String,
    },
    /// The source is no vorgang backup this version can read.
    #[error("{path} ist keine lesbare vorgang-Sicherung: {reason}")]
    NotABackup {
        /// As given.
        path: String,
        /// Why not.
        reason: String,
    },
    /// A file of the backup does not match its checksum.
    #[error("Sicherung {path} ist beschädigt: {reason}; nichts wiederhergestellt")]
    Damaged {
        /// The backup directory.
        path: String,
        /// The first file that differs.
        reason: String,
    },
    /// A PostgreSQL backup goes back into PostgreSQL only (reading its dump needs a server).
    #[error(
        "Die Sicherung stammt aus einer {found}-Datenbank, eingestellt ist {configured}; bitte in eine {found}-Datenbank wiederherstellen und von dort mit „vorgang transfer --from …“ übertragen"
    )]
    WrongBackend {
        /// The backup's backend.
        found: String,
        /// The configured backend.
        configured: String,
    },
    /// The data directory has a different generated secret than the backup.
    #[error(
        "Im Datenverzeichnis liegt bereits ein anderes Signiergeheimnis ({0}); mit ihm gälten die versandten Beteiligungslinks nicht mehr. Bitte ein neues Datenverzeichnis angeben oder die Datei beiseitelegen; nichts wiederhergestellt"
    )]
    OtherSecret(String),
    /// Written by a newer vorgang.
    #[error(
        "Die Sicherung stammt von einer neueren vorgang-Version (Datenbankschema {0}); bitte mit dieser oder einer neueren Version wiederherstellen"
    )]
    NewerSchema(String),
    /// The rows of an SQLite backup could not be moved into PostgreSQL.
    #[error(transparent)]
    Transfer(#[from] crate::db::transfer::TransferError),
    /// The restored database does not hold what the manifest says; found after loading it.
    #[error(
        "Die wiederhergestellte Datenbank enthält {found}, die Sicherung nennt {expected}; bitte prüfen Sie die Datenbank, bevor Sie sie verwenden"
    )]
    Unexpected {
        /// Cases and journal entries found.
        found: String,
        /// Cases and journal entries of the manifest.
        expected: String,
    },
    /// The configured SQLite file exists; a restore never replaces it.
    #[error(
        "Einstellung database_url: die Datenbankdatei {0} existiert bereits; die Wiederherstellung überschreibt nichts (bitte einen neuen Dateinamen angeben oder die Datei beiseitelegen)"
    )]
    DatabaseFileExists(String),
    /// The configured database already holds data.
    #[error(
        "Einstellung database_url: {0} ist nicht leer; die Wiederherstellung überschreibt nichts (bitte eine neue, leere Datenbank angeben)"
    )]
    TargetNotEmpty(String),
}

impl BackupError {
    fn io(what: &str, source: io::Error) -> Self {
        Self::Io {
            what: what.to_string(),
            source,
        }
    }
}

impl From<diesel::result::Error> for BackupError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(DbError::Query(error))
    }
}

/// The backup being written; removed again unless it was completed.
struct Partial {
    path: PathBuf,
    complete: bool,
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.complete {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// What a backup copies: the database and the data directory of one installation.
#[derive(Debug, Clone)]
pub struct Installation {
    /// Its database.
    pub database_url: DatabaseUrl,
    /// Its data directory (documents, generated secret).
    pub data_dir: PathBuf,
    /// True when the signing secret is set in the configuration rather than generated in the
    /// data directory.
    pub secret_configured: bool,
}

impl Installation {
    /// The installation the settings describe.
    pub fn of(settings: &Settings) -> Self {
        Self {
            database_url: settings.database_url.clone(),
            data_dir: settings.data_dir.clone(),
            secret_configured: settings.secret.is_some(),
        }
    }
}

/// Backs up the installation into the new directory `target`.
pub fn create(
    installation: &Installation,
    target: &Path,
    tools: &Tools,
) -> Result<BackupReport, BackupError> {
    let invalid = |reason: &str| BackupError::InvalidTarget {
        path: target.display().to_string(),
        reason: reason.to_string(),
    };
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| invalid("kein Verzeichnisname"))?;
    if target.symlink_metadata().is_ok() {
        return Err(BackupError::TargetExists(target.display().to_string()));
    }
    let partial_path = target.with_file_name(format!("{name}.teil"));
    if partial_path.symlink_metadata().is_ok() {
        return Err(BackupError::Leftover(partial_path.display().to_string()));
    }
    let conn = crate::db::open_existing(&installation.database_url)?;
    fs::create_dir(&partial_path).map_err(|e| {
        BackupError::io(
            &format!("Verzeichnis {} nicht anlegbar", partial_path.display()),
            e,
        )
    })?;
    let mut partial = Partial {
        path: partial_path.clone(),
        complete: false,
    };
    // Absolute, for the SQLite copy's URI.
    partial.path = partial_path
        .canonicalize()
        .map_err(|e| BackupError::io("Zielverzeichnis nicht auffindbar", e))?;
    let created_at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let (database_file, contents) =
        snapshot::take(&installation.database_url, conn, &partial.path, tools)?;

    let source = DocumentStore::in_data_dir(&installation.data_dir);
    let copies = DocumentStore::new(partial.path.join(DOCUMENTS));
    let mut sums = BTreeMap::new();
    let report = check_each(contents.documents, |sha256, size| {
        let copied = copy_blob(&source, &copies, sha256, size)?;
        sums.insert(blob_path(sha256), sha256.to_string());
        Ok(copied)
    });
    let document_files = sums.len() as u64;
    let secret = match installation.secret_configured {
        true => None,
        false => copy_secret(&installation.data_dir, &partial.path)?,
    };
    let secret_included = secret.is_some();
    if let Some(sha256) = secret {
        sums.insert(SECRET.to_string(), sha256);
    }
    let manifest = Manifest {
        format: FORMAT.to_string(),
        created_at,
        vorgang_version: env!("CARGO_PKG_VERSION").to_string(),
        backend: installation.database_url.backend_name().to_string(),
        database_file: database_file.to_string(),
        schema_version: contents.schema_version,
        cases: contents.cases,
        journal_entries: contents.journal_entries,
        documents: report.documents as i64,
        document_files,
        document_bytes: report.bytes,
        problems: report.findings.iter().map(ToString::to_string).collect(),
        secret_included,
    };
    let write_failed = |e| BackupError::io("Sicherung nicht schreibbar", e);
    let manifest_text = serde_json::to_string_pretty(&manifest)
        .map_err(io::Error::other)
        .map_err(write_failed)?
        + "\n";
    write_synced(&partial.path.join(MANIFEST), manifest_text.as_bytes()).map_err(write_failed)?;
    sums.insert(MANIFEST.to_string(), sha256_hex(manifest_text.as_bytes()));
    let (sha256, _) = fs::File::open(partial.path.join(database_file))
        .and_then(crate::documents::digest)
        .map_err(write_failed)?;
    sums.insert(database_file.to_string(), sha256);
    checksums::write(&partial.path, &sums).map_err(write_failed)?;
    crate::durable_fs::sync_dir(&partial.path).map_err(write_failed)?;
    fs::rename(&partial.path, target).map_err(write_failed)?;
    partial.complete = true;
    crate::durable_fs::sync_parent_of(target).map_err(write_failed)?;
    Ok(BackupReport {
        dir: target.to_path_buf(),
        manifest,
    })
}

/// The signing secret's file inside a backup, as in the data directory.
const SECRET: &str = crate::secret::SECRET_FILE;

/// Copies the generated secret of `data_dir`, if there is one, into the backup (owner-only);
/// returns its SHA-256.
fn copy_secret(data_dir: &Path, backup: &Path) -> Result<Option<String>, BackupError> {
    let text = match fs::read_to_string(data_dir.join(SECRET)) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(BackupError::io("Signiergeheimnis nicht lesbar", e)),
    };
    crate::secret::write_new_private_file(&backup.join(SECRET), &text)
        .map_err(|e| BackupError::io("Signiergeheimnis nicht sicherbar", e))?;
    Ok(Some(sha256_hex(text.as_bytes())))
}

/// Writes a new file and syncs it before the caller goes on.
fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Decides what happens to the backed-up secret before anything is restored: it goes to the
/// data directory (returned as the text to write), or the operator is told what to configure.
fn plan_secret(
    settings: &Settings,
    source: &Path,
    manifest: &Manifest,
) -> Result<(Option<String>, Option<String>), BackupError> {
    if !manifest.secret_included {
        return Ok((
            None,
            Some(
                "Das Signiergeheimnis war beim Sichern eingestellt (secret bzw. VORGANG_SECRET) und ist nicht in der Sicherung: Stellen Sie denselben Wert ein, sonst gelten die versandten Beteiligungslinks nicht mehr."
                    .to_string(),
            ),
        ));
    }
    let saved = fs::read_to_string(source.join(SECRET))
        .map_err(|e| BackupError::io("Signiergeheimnis der Sicherung nicht lesbar", e))?;
    if let Some(configured) = &settings.secret {
        let note = (configured.as_bytes() != saved.trim().as_bytes()).then(|| {
            format!(
                "Achtung: Das eingestellte Signiergeheimnis (secret bzw. VORGANG_SECRET) ist ein anderes als das der Sicherung ({}); mit ihm gelten die versandten Beteiligungslinks nicht mehr.",
                source.join(SECRET).display()
            )
        });
        return Ok((None, note));
    }
    let path = settings.data_dir.join(SECRET);
    match fs::read_to_string(&path) {
        Ok(existing) if existing == saved => Ok((None, None)),
        Ok(_) => Err(BackupError::OtherSecret(path.display().to_string())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok((Some(saved), None)),
        Err(e) => Err(BackupError::io("Signiergeheimnis nicht lesbar", e)),
    }
}

fn blob_path(sha256: &str) -> String {
    format!("{DOCUMENTS}/{}/{}/{sha256}", &sha256[0..2], &sha256[2..4])
}

/// Copies one blob, re-hashing it; what is wrong with it if it cannot be copied as recorded.
fn copy_blob(
    source: &DocumentStore,
    copies: &DocumentStore,
    sha256: &str,
    size: i64,
) -> Result<u64, crate::documents::audit::BlobProblem> {
    use crate::documents::audit::BlobProblem;
    let expected = u64::try_from(size).unwrap_or(0);
    let file = match source.open(sha256) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(BlobProblem::Missing),
        Err(e) => return Err(BlobProblem::Unreadable(e.to_string())),
    };
    match copies.import(sha256, expected, file) {
        Ok(_) => Ok(expected),
        // The content differs: say how, as `audit documents` would.
        Err(e) if e.kind() == io::ErrorKind::InvalidData => Err(check_blob(source, sha256, size)
            .err()
            .unwrap_or(BlobProblem::Unreadable(e.to_string()))),
        Err(e) => Err(BlobProblem::Unreadable(e.to_string())),
    }
}

/// Reads and checks a backup directory: its manifest, and every file against its checksum.
pub fn inspect(source: &Path) -> Result<(Manifest, BTreeMap<String, String>), BackupError> {
    let not_a_backup = |reason: String| BackupError::NotABackup {
        path: source.display().to_string(),
        reason,
    };
    let text = fs::read_to_string(source.join(MANIFEST))
        .map_err(|e| not_a_backup(format!("{MANIFEST} nicht lesbar: {e}")))?;
    let manifest: Manifest = serde_json::from_str(&text)
        .map_err(|e| not_a_backup(format!("{MANIFEST} nicht lesbar: {e}")))?;
    if manifest.format != FORMAT {
        return Err(not_a_backup(format!(
            "Format „{}“ unbekannt (erwartet {FORMAT})",
            manifest.format
        )));
    }
    let sums = checksums::read(source).map_err(not_a_backup)?;
    let damaged = |reason: String| BackupError::Damaged {
        path: source.display().to_string(),
        reason,
    };
    let secret = manifest.secret_included.then_some(SECRET);
    for required in [
        Some(manifest.database_file.as_str()),
        Some(MANIFEST),
        secret,
    ]
    .into_iter()
    .flatten()
    {
        if !sums.contains_key(required) {
            return Err(damaged(format!("{required} fehlt in {}", checksums::FILE)));
        }
    }
    let files = sums.keys().filter(|p| p.starts_with(DOCUMENTS)).count() as u64;
    if files != manifest.document_files {
        return Err(damaged(format!(
            "{} nennt {files} Dokumentdateien, {MANIFEST} {}",
            checksums::FILE,
            manifest.document_files
        )));
    }
    checksums::verify(source, &sums).map_err(damaged)?;
    Ok((manifest, sums))
}

/// Restores the backup in `source` into the configured installation, whose database must be
/// empty (SQLite: the file must not exist). Document files go in first, so the restored
/// database never names a file that is not there.
pub fn restore(
    settings: &Settings,
    source: &Path,
    tools: &Tools,
) -> Result<RestoreReport, BackupError> {
    let (manifest, sums) = inspect(source)?;
    let url = &settings.database_url;
    // An SQLite backup may move to PostgreSQL (a trial becoming production): its rows are
    // transferred. The other way would need a PostgreSQL server to read the dump.
    let transferred = manifest.backend == "sqlite" && matches!(url, DatabaseUrl::Postgres(_));
    if manifest.backend != url.backend_name() && !transferred {
        let title = |name: &str| match name {
            "sqlite" => "SQLite".to_string(),
            "postgres" => "PostgreSQL".to_string(),
            other => other.to_string(),
        };
        return Err(BackupError::WrongBackend {
            found: title(&manifest.backend),
            configured: title(url.backend_name()),
        });
    }
    let known = migrations::known_versions(manifest.backend == "postgres")?;
    if !known.contains(&manifest.schema_version) {
        return Err(BackupError::NewerSchema(manifest.schema_version.clone()));
    }
    match crate::db::transfer::occupied(url)? {
        Some(Occupied::File(path)) => return Err(BackupError::DatabaseFileExists(path)),
        Some(Occupied::Tables(url)) => return Err(BackupError::TargetNotEmpty(url)),
        None => {}
    }

    let (secret, secret_note) = plan_secret(settings, source, &manifest)?;

    let store = DocumentStore::for_settings(settings);
    let mut files_written = 0;
    for (path, sha256) in sums.iter().filter(|(p, _)| p.starts_with(DOCUMENTS)) {
        let file = fs::File::open(source.join(path))
            .map_err(|e| BackupError::io(&format!("{path} nicht lesbar"), e))?;
        let size = file
            .metadata()
            .map_err(|e| BackupError::io(&format!("{path} nicht lesbar"), e))?
            .len();
        if store
            .import(sha256, size, file)
            .map_err(|e| BackupError::io("Dokumentablage nicht beschreibbar", e))?
        {
            files_written += 1;
        }
    }

    if let Some(text) = secret {
        fs::create_dir_all(&settings.data_dir)
            .and_then(|()| {
                crate::secret::write_new_private_file(&settings.data_dir.join(SECRET), &text)
            })
            .map_err(|e| BackupError::io("Signiergeheimnis nicht wiederherstellbar", e))?;
    }
    let dump = source.join(&manifest.database_file);
    match url {
        _ if transferred => transfer_sqlite(&dump, url, &settings.data_dir)?,
        DatabaseUrl::Sqlite(path) => place_sqlite(&dump, path)?,
        DatabaseUrl::Postgres(text) => snapshot::pg_restore(text, &dump, tools)?,
    }
    let mut conn = ConnectionFactory::new(url.clone()).open()?;
    let restored = snapshot::contents(&mut conn)?;
    if restored.cases != manifest.cases || restored.journal_entries != manifest.journal_entries {
        let counts =
            |cases: i64, entries: i64| format!("{cases} Vorgänge und {entries} Journaleinträge");
        return Err(BackupError::Unexpected {
            found: counts(restored.cases, restored.journal_entries),
            expected: counts(manifest.cases, manifest.journal_entries),
        });
    }
    let migrations_pending = migrations::has_pending(&mut conn)?;
    Ok(RestoreReport {
        manifest,
        files_written,
        secret_note,
        migrations_pending,
    })
}

/// Transfers the rows of the backed-up SQLite file into the (empty) PostgreSQL database at
/// `url`, through a temporary copy brought to the current schema: the backup itself stays as
/// it was, checksums and all. The copy lies in the data directory, on the server's disk,
/// rather than in a `/tmp` that may be a small tmpfs.
fn transfer_sqlite(copy: &Path, url: &DatabaseUrl, data_dir: &Path) -> Result<(), BackupError> {
    let temp = data_dir.join(format!(
        ".vorgang-wiederherstellung.{}.sqlite3",
        uuid::Uuid::new_v4().simple()
    ));
    let result = fs::create_dir_all(data_dir)
        .and_then(|()| fs::copy(copy, &temp))
        .map_err(|e| BackupError::io("Datenbank der Sicherung nicht kopierbar", e))
        .and_then(|_| {
            let mut conn = ConnectionFactory::new(DatabaseUrl::Sqlite(temp.clone())).open()?;
            migrations::run_pending(&mut conn)?;
            crate::db::transfer::transfer(&mut conn, url, &mut |_| {})?;
            Ok(())
        });
    for suffix in ["", "-wal", "-shm"] {
        let mut name = temp.clone().into_os_string();
        name.push(suffix);
        let _ = fs::remove_file(name);
    }
    result
}

/// Copies the backed-up SQLite file to `path` through a synced temporary file, never replacing
/// a file that appeared meanwhile.
fn place_sqlite(copy: &Path, path: &Path) -> Result<(), BackupError> {
    let failed = |e| {
        BackupError::io(
            &format!("Datenbankdatei {} nicht anlegbar", path.display()),
            e,
        )
    };
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => dir.to_path_buf(),
        None => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(failed)?;
    let temp = dir.join(format!(
        ".vorgang-wiederherstellung.{}.tmp",
        uuid::Uuid::new_v4().simple()
    ));
    let result = fs::copy(copy, &temp)
        .and_then(|_| fs::File::open(&temp)?.sync_all())
        .and_then(|()| fs::hard_link(&temp, path));
    let _ = fs::remove_file(&temp);
    result.map_err(failed)?;
    crate::durable_fs::sync_dir(&dir).map_err(failed)
}
