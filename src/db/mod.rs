//! Storage: one connection type over SQLite and PostgreSQL, the pool, and the transaction helpers.
//!
//! Everything here blocks; async callers go through [`Database::run`], which moves the work onto
//! actix-web's blocking thread pool. Nothing in this module reads configuration files or the clock.

mod deferred;
mod durable_commit;
pub mod migrations;
pub mod models;
mod reused;
pub mod schema;
mod sqlite_plans;
pub(crate) mod text_search;
pub mod transfer;
mod url;
mod write_gate;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::{Connection, ConnectionError};

pub(crate) use self::deferred::defer_insert;
pub use self::deferred::{Deferred, is_guard_failure};
pub use self::reused::{Reused, one_per_row, reused};
pub(crate) use self::reused::{execute_reused, insert_rows};
pub use self::url::DatabaseUrl;
use self::write_gate::WriteGate;

/// One connection to either backend; all queries are written once against this type.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// The embedded default.
    Sqlite(diesel::sqlite::SqliteConnection),
    /// Production, several instances side by side.
    Pg(diesel::pg::PgConnection),
}

/// Set on every SQLite connection: wait for locks instead of failing, WAL for concurrent readers,
/// and enforce foreign keys (SQLite's default is off). Commits do not sync inside `COMMIT`:
/// `durable_commit` syncs them after the locks are released, and its WAL hook also replaces the
/// automatic checkpoint, which the committer runs after leaving the write gate (`write_gate`).
/// Connections set no `wal_autocheckpoint`: setting it would remove that hook.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; \
     PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = NORMAL; \
     PRAGMA foreign_keys = ON;";

/// Without the group commit's hook every commit must sync itself.
const SQLITE_SYNC_EVERY_COMMIT: &str = "PRAGMA synchronous = FULL;";

/// Errors of the storage layer, kept apart so callers can map them to HTTP or exit codes.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database could not be reached or opened.
    #[error("Datenbank {url} nicht erreichbar: {reason}")]
    Unreachable { url: String, reason: String },
    /// No pooled connection became free in time.
    #[error("keine Datenbankverbindung verfügbar: {0}")]
    Pool(String),
    /// A query failed.
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    /// Applying or reverting migrations failed.
    #[error("Migration fehlgeschlagen: {0}")]
    Migration(String),
    /// The blocking thread pool refused or lost the job.
    #[error("Hintergrundausführung fehlgeschlagen: {0}")]
    Blocking(String),
}

/// Why a command that works on an existing installation (audit, backup) cannot use its database.
#[derive(Debug, thiserror::Error)]
pub enum ExistingDbError {
    /// Missing (an SQLite file is never created by such a command) or unreachable.
    #[error("Einstellung database_url: {0}")]
    Unreachable(#[from] DbError),
    /// The database schema is older than this binary.
    #[error(
        "Einstellung database_url: Datenbank {0} ist nicht auf dem aktuellen Stand; bitte zuerst „vorgang migrate“ ausführen"
    )]
    NotMigrated(String),
}

/// One connection to a database that must exist and be migrated, for commands that check or
/// copy an installation and must never create or migrate it.
pub fn open_existing(url: &DatabaseUrl) -> Result<DbConnection, ExistingDbError> {
    // Opening SQLite would create an empty file; checking a database that is not there is a
    // configuration mistake, not an intact installation.
    if let DatabaseUrl::Sqlite(path) = url
        && !path.exists()
    {
        return Err(DbError::Unreachable {
            url: url.redacted(),
            reason: "die Datei existiert nicht".into(),
        }
        .into());
    }
    let mut conn = ConnectionFactory::new(url.clone()).open()?;
    if migrations::has_pending(&mut conn)? {
        return Err(ExistingDbError::NotMigrated(url.redacted()));
    }
    Ok(conn)
}

/// Initialises OpenSSL, which libpq uses for TLS, without the handler that frees it when the
/// process exits; to be called before libpq's first connection, as OpenSSL's first initialisation
/// decides. The pool opens its reserve connection on its own thread; a process that ended while
/// that thread was in a TLS handshake (`vorgang migrate` finishes within milliseconds) crashed in
/// the freed OpenSSL with SIGSEGV although its work was done (diesel-rs/diesel#3441). Memory is
/// returned at exit anyway. Idempotent and cheap after the first call.
pub fn init_openssl() {
    openssl_sys::init();
}

/// Opens connections for the pool and prepares each one for its backend.
#[derive(Debug, Clone)]
pub struct ConnectionFactory {
    url: DatabaseUrl,
}

impl ConnectionFactory {
    /// A factory for the given database.
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }

    /// Opens one connection, creating the SQLite file's directory if needed.
    pub fn open(&self) -> Result<DbConnection, DbError> {
        let unreachable = |reason: String| DbError::Unreachable {
            url: self.url.redacted(),
            reason: one_line(&reason),
        };
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        unreachable(format!("Verzeichnis {} nicht anlegbar: {e}", dir.display()))
                    })?;
                }
                let path = path
                    .to_str()
                    .ok_or_else(|| unreachable("Pfad ist kein gültiges UTF-8".into()))?;
                sqlite_plans::install();
                durable_commit::install();
                let mut conn = diesel::sqlite::SqliteConnection::establish(path)
                    .map_err(|e| unreachable(connection_error_text(e)))?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(|e| unreachable(e.to_string()))?;
                if !durable_commit::enable(&mut conn) {
                    conn.batch_execute(SQLITE_SYNC_EVERY_COMMIT)
                        .map_err(|e| unreachable(e.to_string()))?;
                }
                conn.set_instrumentation(WriteGate::for_path(std::path::Path::new(path)));
                Ok(DbConnection::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => {
                init_openssl();
                diesel::pg::PgConnection::establish(url)
                    .map(DbConnection::Pg)
                    .map_err(|e| unreachable(connection_error_text(e)))
            }
        }
    }
}

fn connection_error_text(error: ConnectionError) -> String {
    match error {
        ConnectionError::BadConnection(text) | ConnectionError::InvalidConnectionUrl(text) => text,
        other => other.to_string(),
    }
}

/// Copies what the WAL holds into the database file without waiting for anyone (see
/// `WriteGate::count_commit`). A checkpoint that finds another one running, or readers still on
/// old pages, copies what it can; the next one continues. Its failure loses nothing (the WAL
/// keeps the pages), so it is only logged.
fn checkpoint(conn: &mut diesel::sqlite::SqliteConnection) {
    if let Err(error) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)") {
        tracing::warn!(error = %error, "WAL checkpoint failed");
    }
}

/// Multi-line driver messages (libpq's in particular) folded into one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl ManageConnection for ConnectionFactory {
    type Connection = DbConnection;
    type Error = DbError;

    fn connect(&self) -> Result<DbConnection, DbError> {
        self.open()
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        conn.ping().map_err(DbError::Query)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// A pooled connection, returned to the pool on drop.
pub type PooledConnection = r2d2::PooledConnection<ConnectionFactory>;

/// The process-wide handle to the database: cheap to clone, shared by web handlers and workers.
#[derive(Clone)]
pub struct Database {
    pool: r2d2::Pool<ConnectionFactory>,
    url: DatabaseUrl,
}

impl Database {
    /// Connects once (so an unreachable database fails now, with its reason) and builds the pool.
    ///
    /// Connections are not tested on checkout: r2d2's default pings (`SELECT 1`) before handing
    /// out every connection, one extra round trip per request, and it only catches connections
    /// that broke while idle (a database restart), which the first query finds just as well. Such
    /// a query fails its request, diesel marks the connection broken, and the pool discards it on
    /// return; the next request gets a fresh one.
    pub fn connect(url: DatabaseUrl, pool_size: u32) -> Result<Self, DbError> {
        Self::build(url, pool_size, 1)
    }

    /// The pool of a command that ends when its work is done (`migrate`, `user`, `demo`): it
    /// opens a connection only when asked for one, and the caller waits for it. A pool that
    /// keeps a connection in reserve opens it on a thread of its own, and a process that exits
    /// while that thread is inside libpq's connection set-up (TLS, Kerberos) has the libraries'
    /// exit handlers pull the ground from under it: an abort after the work was done.
    pub fn connect_for_command(url: DatabaseUrl, pool_size: u32) -> Result<Self, DbError> {
        Self::build(url, pool_size, 0)
    }

    fn build(url: DatabaseUrl, pool_size: u32, reserve: u32) -> Result<Self, DbError> {
        let factory = ConnectionFactory::new(url.clone());
        let first = factory.open()?;
        drop(first);
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .min_idle(Some(reserve))
            .test_on_check_out(false)
            .connection_timeout(Duration::from_secs(15))
            .error_handler(Box::new(LogPoolErrors))
            .build_unchecked(factory);
        Ok(Self { pool, url })
    }

    /// How many connections the pool holds, idle or in use (not those still being opened).
    pub fn connections(&self) -> u32 {
        self.pool.state().connections
    }

    /// Which database this is (password redacted).
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Takes a connection, waiting at most `timeout`.
    pub fn get_timeout(&self, timeout: Duration) -> Result<PooledConnection, DbError> {
        self.pool
            .get_timeout(timeout)
            .map_err(|e| DbError::Pool(e.to_string()))
    }

    /// Takes a connection, waiting up to the pool's configured timeout.
    pub fn get(&self) -> Result<PooledConnection, DbError> {
        self.pool.get().map_err(|e| DbError::Pool(e.to_string()))
    }

    /// Runs blocking database work on actix-web's blocking pool, inside the caller's tracing span.
    pub async fn run<T, F>(&self, work: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
        T: Send + 'static,
    {
        let database = self.clone();
        let span = tracing::Span::current();
        actix_web::web::block(move || {
            span.in_scope(|| {
                let mut conn = database.get()?;
                work(&mut conn)
            })
        })
        .await
        .map_err(|e| DbError::Blocking(e.to_string()))?
    }
}

#[derive(Debug)]
struct LogPoolErrors;

impl r2d2::HandleError<DbError> for LogPoolErrors {
    fn handle_error(&self, error: DbError) {
        tracing::warn!(error = %error, "database connection failed");
    }
}

/// True while `conn` is inside a transaction (ours or a caller's): code that must write in one
/// with the caller's other changes, or that may only run outside one, asks here.
pub fn in_transaction(conn: &mut DbConnection) -> bool {
    <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .is_ok_and(|depth| depth.is_some())
}

/// Runs `work` in a write transaction. On SQLite it starts with `BEGIN IMMEDIATE`, so the write
/// lock is taken up front and a concurrent writer waits instead of failing with SQLITE_BUSY when a
/// deferred transaction tries to upgrade its read lock: a writer of the same process on the
/// file's write gate (see `write_gate`), one of another process through busy_timeout. Inside a
/// transaction it nests as a savepoint, so commands can be composed into one atomic unit.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConnection::Pg(_) => conn.transaction(work),
        DbConnection::Sqlite(inner) => {
            let nested = matches!(
                AnsiTransactionManager::transaction_manager_status_mut(inner).transaction_depth(),
                Ok(Some(_))
            );
            if nested {
                return conn.transaction(work);
            }
            let gate = inner.instrumentation().downcast_ref::<WriteGate>().cloned();
            let entered = gate
                .as_ref()
                .map(WriteGate::enter)
                .transpose()
                .map_err(|refused| failure(refused.to_string()))?;
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
            let outcome = work(conn);
            let DbConnection::Sqlite(inner) = conn else {
                unreachable!("the backend of a connection never changes");
            };
            match outcome {
                Ok(value) => {
                    let (committed, pending) = durable_commit::deferred(|| {
                        AnsiTransactionManager::commit_transaction(inner)
                    });
                    committed?;
                    drop(entered);
                    if let Some(pending) = pending {
                        pending.wait().map_err(|error| {
                            failure(format!("WAL nicht auf die Platte geschrieben: {error}"))
                        })?;
                    }
                    if gate.as_ref().is_some_and(WriteGate::count_commit) {
                        checkpoint(inner);
                    }
                    Ok(value)
                }
                Err(error) => {
                    AnsiTransactionManager::rollback_transaction(inner)?;
                    Err(error)
                }
            }
        }
    }
}

/// Runs reads that must see one state of the database, such as everything an exported case
/// file holds (the journal must name exactly the documents the archive carries): on PostgreSQL
/// in a `REPEATABLE READ, READ ONLY` transaction (its default `READ COMMITTED` takes a new
/// snapshot per statement), on SQLite in a deferred transaction, whose first read fixes the
/// snapshot in WAL mode. It takes no write lock and does not queue at the write gate.
pub fn read_snapshot<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    conn.transaction(|conn| {
        if matches!(conn, DbConnection::Pg(_)) {
            diesel::RunQueryDsl::execute(
                diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"),
                conn,
            )?;
        }
        work(conn)
    })
}

/// A failure of the write path itself (not of a statement), as diesel's error type so that it
/// reaches callers like any other database error.
fn failure(message: String) -> diesel::result::Error {
    diesel::result::Error::DatabaseError(
        diesel::result::DatabaseErrorKind::Unknown,
        Box::new(message),
    )
}

/// Runs one write that needs no transaction of its own (a single statement, committed by
/// itself): on PostgreSQL as it is, on SQLite in a write transaction, so that it queues at the
/// file's write gate with the other writers of the process. Outside the gate it would wait in
/// SQLite's busy handler, which only polls (after 1, 2, 5 … 100 ms) and under a steady stream
/// of write transactions can miss every free moment until `busy_timeout` runs out ("database is
/// locked").
pub fn write_alone<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConnection::Pg(_) => work(conn),
        DbConnection::Sqlite(_) => write_transaction(conn, work),
    }
}

#[cfg(test)]
mod tests {
    use diesel::RunQueryDsl;

    use super::*;

    fn file_len(path: &std::path::Path) -> u64 {
        std::fs::metadata(path).map_or(0, |m| m.len())
    }

    /// Commits stay in the WAL until every hundredth, whose committer copies them into the
    /// database file after leaving the write gate; no `COMMIT` checkpoints on its own.
    #[test]
    fn the_hundredth_commit_checkpoints_the_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.db");
        let url = DatabaseUrl::parse(path.to_str().unwrap()).unwrap();
        let mut conn = ConnectionFactory::new(url).open().unwrap();
        conn.batch_execute("CREATE TABLE pages (body BLOB NOT NULL)")
            .unwrap();
        let empty = file_len(&path);
        // The file is new, so its gate counts from zero. 100 commits of 80 kB are about 2,000 WAL
        // pages: twice SQLite's own checkpoint threshold.
        for n in 1..=100 {
            write_transaction(&mut conn, |conn| {
                conn.batch_execute("INSERT INTO pages (body) VALUES (zeroblob(80000))")
            })
            .unwrap();
            if n < 100 {
                assert_eq!(file_len(&path), empty, "commit {n} wrote the database file");
            }
        }
        assert!(
            file_len(&path) > 100 * 80_000,
            "the hundredth commit did not checkpoint: {} bytes",
            file_len(&path)
        );
    }

    fn open(path: &std::path::Path) -> DbConnection {
        let url = DatabaseUrl::parse(path.to_str().unwrap()).unwrap();
        ConnectionFactory::new(url).open().unwrap()
    }

    /// A write transaction on a second connection to the same file, opened from inside the
    /// first, fails at once; the outer transaction goes on and commits. Before, it waited for
    /// its own thread forever.
    #[test]
    fn a_nested_writer_on_a_second_connection_fails_instead_of_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested.db");
        let mut first = open(&path);
        first
            .batch_execute("CREATE TABLE t (n INTEGER NOT NULL)")
            .unwrap();
        let mut second = open(&path);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let inner = write_transaction(&mut first, |first| {
                first.batch_execute("INSERT INTO t VALUES (1)")?;
                let inner = write_transaction(&mut second, |second| {
                    second.batch_execute("INSERT INTO t VALUES (2)")
                });
                Ok::<_, diesel::result::Error>(inner.map_err(|e| e.to_string()))
            });
            let rows: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "(SELECT count(*) FROM t)",
            ))
            .get_result(&mut first)
            .unwrap();
            tx.send((inner.unwrap(), rows)).unwrap();
        });
        let (inner, rows) = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("the nested write transaction hangs");
        let error = inner.unwrap_err();
        assert!(error.contains("zweiten Verbindung"), "{error}");
        assert_eq!(
            rows, 1,
            "the outer transaction's row is committed, the inner's is not"
        );
    }

    /// A single write queues at the gate behind a long write transaction of another thread,
    /// where on its own it gives up after its busy timeout.
    #[test]
    fn a_write_alone_waits_at_the_gate_instead_of_failing_busy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alone.db");
        let mut holder = open(&path);
        holder
            .batch_execute("CREATE TABLE t (n INTEGER NOT NULL)")
            .unwrap();
        let (inside, entered) = std::sync::mpsc::channel();
        let long = std::thread::spawn(move || {
            write_transaction(&mut holder, |conn| {
                conn.batch_execute("INSERT INTO t VALUES (1)")?;
                inside.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(400));
                Ok::<_, diesel::result::Error>(())
            })
        });
        entered.recv().unwrap();
        let mut other = open(&path);
        other.batch_execute("PRAGMA busy_timeout = 50").unwrap();
        let busy = other.batch_execute("INSERT INTO t VALUES (2)");
        assert!(busy.is_err(), "a plain write got past the held lock");
        write_alone(&mut other, |conn| {
            conn.batch_execute("INSERT INTO t VALUES (3)")
        })
        .unwrap();
        long.join().unwrap().unwrap();
        let rows: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT count(*) FROM t)",
        ))
        .get_result(&mut other)
        .unwrap();
        assert_eq!(rows, 2);
    }

    /// Every commit is on disk when its caller hears of it: those of write transactions (synced
    /// after the gate) and single statements outside one (synced by the hook itself).
    #[test]
    fn every_commit_is_synced_before_it_returns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("durable.db");
        let mut conn = open(&path);
        conn.batch_execute("CREATE TABLE t (n INTEGER NOT NULL)")
            .unwrap();
        let log = durable_commit::WalLog::for_database(&std::fs::canonicalize(&path).unwrap());
        let before = log.committed();
        assert!(before > 0, "the CREATE TABLE was counted");
        assert_eq!(log.synced(), before);
        for n in 0..5 {
            write_transaction(&mut conn, |conn| {
                conn.batch_execute(&format!("INSERT INTO t (n) VALUES ({n})"))
            })
            .unwrap();
            assert_eq!(log.committed(), before + n + 1);
            assert_eq!(
                log.synced(),
                log.committed(),
                "commit {n} returned unsynced"
            );
        }
        conn.batch_execute("INSERT INTO t (n) VALUES (99)").unwrap();
        assert_eq!(log.committed(), before + 6);
        assert_eq!(
            log.synced(),
            before + 6,
            "an autocommit statement returned unsynced"
        );
        // A transaction that writes nothing, or is rolled back, commits no frames.
        write_transaction(&mut conn, |conn| conn.batch_execute("SELECT 1")).unwrap();
        let failed: Result<(), diesel::result::Error> = write_transaction(&mut conn, |conn| {
            conn.batch_execute("INSERT INTO t (n) VALUES (100)")?;
            Err(diesel::result::Error::RollbackTransaction)
        });
        assert!(failed.is_err());
        assert_eq!(log.committed(), before + 6);
    }

    /// Writers of several threads all return synced, and no write is lost.
    #[test]
    fn concurrent_writers_are_all_synced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("group.db");
        open(&path)
            .batch_execute("CREATE TABLE t (n INTEGER NOT NULL)")
            .unwrap();
        let log = durable_commit::WalLog::for_database(&std::fs::canonicalize(&path).unwrap());
        let start = log.committed();
        let threads: Vec<_> = (0..8)
            .map(|thread| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let mut conn = open(&path);
                    let log = durable_commit::WalLog::for_database(
                        &std::fs::canonicalize(&path).unwrap(),
                    );
                    for n in 0..25 {
                        // This commit's number will be above everything counted now.
                        let counted = log.committed();
                        write_transaction(&mut conn, |conn| {
                            conn.batch_execute(&format!(
                                "INSERT INTO t (n) VALUES ({})",
                                thread * 100 + n
                            ))
                        })
                        .unwrap();
                        assert!(log.synced() > counted, "a commit returned before its sync");
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(log.committed(), start + 200);
        assert_eq!(log.synced(), start + 200);
        assert!(log.syncs() <= start + 200);
        let mut conn = open(&path);
        let DbConnection::Sqlite(inner) = &mut conn else {
            unreachable!()
        };
        let rows: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT count(*) FROM t)",
        ))
        .get_result(inner)
        .unwrap();
        assert_eq!(rows, 200);
    }
}
