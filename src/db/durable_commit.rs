//! Makes every SQLite commit durable before its caller hears of it, with one `fdatasync` of the
//! WAL for all commits waiting at that moment (group commit), and never while a writer lock is
//! held.
//!
//! `PRAGMA synchronous = FULL` syncs the WAL inside every `COMMIT`, while SQLite's write lock
//! and the process's write gate are held: every other writer waits for the disk, one commit at
//! a time. `NORMAL` does not sync commits at all; a power failure or an operating system crash
//! can then take back commits that were already answered with 200 (the database stays
//! consistent, but data is lost). Connections therefore run with `NORMAL`, and a WAL hook, which
//! SQLite calls after each commit once its write lock is released, makes the commit durable:
//! - outside a write transaction of `db::write_transaction` (a single autocommit statement) the
//!   hook syncs at once;
//! - inside one, the process's write gate is still held, so the hook only notes the commit and
//!   `write_transaction` syncs after leaving the gate ([`Pending::wait`]).
//!
//! Either way the sync is a group commit: commits are numbered in the order their hooks run, and
//! a sync covers every commit numbered before it started, because the WAL is one file written in
//! order and `fdatasync` flushes all of it, whichever connection wrote it. Whoever comes next
//! finds its number covered and returns without a sync of its own. A WAL file the sync has not
//! seen before (SQLite created it anew) gets its directory synced as well, so that the file
//! itself survives.
//!
//! Registering a WAL hook replaces SQLite's automatic checkpoint (itself a WAL hook), which the
//! write gate's own checkpoints replace anyway (`WriteGate::count_commit`).

use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use libsqlite3_sys as ffi;

/// The WAL of one database file and how far it is known to be on disk.
#[derive(Debug)]
pub struct WalLog {
    /// `<database>-wal`.
    wal: PathBuf,
    /// Commits whose hook has run, numbered from 1.
    committed: AtomicU64,
    /// How far the WAL is known to be on disk.
    synced: Mutex<Synced>,
    /// Syncs performed; fewer than commits where commits were grouped (read by the tests).
    syncs: AtomicU64,
}

impl WalLog {
    /// The log of `database` (its path as SQLite reports it), the same for every connection.
    pub fn for_database(database: &Path) -> &'static WalLog {
        static LOGS: OnceLock<Mutex<HashMap<PathBuf, &'static WalLog>>> = OnceLock::new();
        let mut logs = LOGS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        logs.entry(database.to_path_buf()).or_insert_with(|| {
            let mut wal = database.as_os_str().to_owned();
            wal.push("-wal");
            // One per database file for the life of the process: the hooks of its connections
            // point at it.
            Box::leak(Box::new(WalLog {
                wal: PathBuf::from(wal),
                committed: AtomicU64::new(0),
                synced: Mutex::new(Synced::default()),
                syncs: AtomicU64::new(0),
            }))
        })
    }

    /// Numbers a commit whose hook is running.
    fn count(&self) -> u64 {
        self.committed.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Returns once commit `number` is on disk, syncing the WAL unless a sync that started
    /// after that commit has already completed.
    fn sync_to(&self, number: u64) -> io::Result<()> {
        let mut synced = self
            .synced
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if synced.number >= number {
            return Ok(());
        }
        // Every commit numbered up to here has written its frames: a sync from now on covers it.
        let target = self.committed.load(Ordering::SeqCst);
        match std::fs::File::open(&self.wal) {
            Ok(file) => {
                file.sync_data()?;
                // A WAL file SQLite has just created needs its directory entry on disk too.
                let identity = file_identity(&file)?;
                if synced.file != Some(identity) {
                    crate::durable_fs::sync_parent_of(&self.wal)?;
                    synced.file = Some(identity);
                }
            }
            // The last connection closed, checkpointed and removed the WAL: everything is in
            // the database file, which SQLite synced before removing it.
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
        self.syncs.fetch_add(1, Ordering::Relaxed);
        synced.number = target;
        Ok(())
    }

    /// Commits counted so far.
    #[cfg(test)]
    pub fn committed(&self) -> u64 {
        self.committed.load(Ordering::SeqCst)
    }

    /// The highest commit number known to be on disk.
    #[cfg(test)]
    pub fn synced(&self) -> u64 {
        self.synced
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .number
    }

    /// Syncs performed so far; fewer than commits when commits were grouped.
    #[cfg(test)]
    pub fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }
}

/// The highest commit number covered by a completed sync, and the WAL file that sync found.
#[derive(Debug, Default)]
struct Synced {
    number: u64,
    /// Device and inode of the WAL file whose directory entry is known to be on disk.
    file: Option<(u64, u64)>,
}

#[cfg(unix)]
fn file_identity(file: &std::fs::File) -> io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let metadata = file.metadata()?;
    Ok((metadata.dev(), metadata.ino()))
}

#[cfg(not(unix))]
fn file_identity(_file: &std::fs::File) -> io::Result<(u64, u64)> {
    Ok((0, 0))
}

thread_local! {
    /// Set by `write_transaction` around its `COMMIT`: the hook then only notes the commit.
    static DEFER: Cell<bool> = const { Cell::new(false) };
    /// The commit noted while deferring, to be made durable after leaving the gate.
    static NOTED: Cell<Option<(&'static WalLog, u64)>> = const { Cell::new(None) };
}

/// A commit made inside the write gate that is not yet known to be on disk.
#[must_use = "the commit is durable only once waited for"]
#[derive(Debug)]
pub struct Pending {
    log: &'static WalLog,
    number: u64,
}

impl Pending {
    /// Returns once the commit is on disk (one sync for every commit waiting with it).
    pub fn wait(self) -> io::Result<()> {
        self.log.sync_to(self.number)
    }
}

/// Runs `commit` (the `COMMIT` of a write transaction inside the gate) with the sync deferred;
/// returns its outcome and the commit to wait for, if it wrote anything.
pub fn deferred<T>(commit: impl FnOnce() -> T) -> (T, Option<Pending>) {
    NOTED.set(None);
    DEFER.set(true);
    let outcome = commit();
    DEFER.set(false);
    let pending = NOTED.take().map(|(log, number)| Pending { log, number });
    (outcome, pending)
}

/// SQLite's WAL hook: runs after every commit of the connection, its write lock released.
unsafe extern "C" fn on_commit(
    log: *mut c_void,
    _db: *mut ffi::sqlite3,
    _schema: *const c_char,
    _pages: c_int,
) -> c_int {
    // SAFETY: registered with a pointer to a leaked, never freed `WalLog`.
    let log: &'static WalLog = unsafe { &*(log as *const WalLog) };
    let number = log.count();
    if DEFER.get() {
        NOTED.set(Some((log, number)));
        return ffi::SQLITE_OK;
    }
    match log.sync_to(number) {
        Ok(()) => ffi::SQLITE_OK,
        Err(error) => {
            // The commit stands; its statement reports the error, as with `synchronous = FULL`.
            tracing::error!(error = %error, wal = %log.wal.display(), "WAL sync failed");
            ffi::SQLITE_IOERR_FSYNC
        }
    }
}

/// `vorgang_group_commit()`: registers the hook on the connection that calls it and returns 1,
/// or 0 for a database without a file. A function, called once the connection is open, because
/// SQLite installs its automatic checkpoint (a WAL hook of its own) after running the
/// auto-extensions of a new connection, replacing any hook set there.
unsafe extern "C" fn enable_hook(
    context: *mut ffi::sqlite3_context,
    _argc: c_int,
    _argv: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: SQLite passes a valid context during the call; the file name it returns lives as
    // long as the connection and is copied at once.
    unsafe {
        let db = ffi::sqlite3_context_db_handle(context);
        let name = ffi::sqlite3_db_filename(db, c"main".as_ptr());
        let database = if name.is_null() {
            String::new()
        } else {
            CStr::from_ptr(name).to_string_lossy().into_owned()
        };
        // An in-memory or temporary database has no file to make durable.
        if database.is_empty() {
            ffi::sqlite3_result_int(context, 0);
            return;
        }
        let log = WalLog::for_database(Path::new(&database));
        // `on_commit` matches the hook's signature; `log` is never freed.
        ffi::sqlite3_wal_hook(db, Some(on_commit), log as *const WalLog as *mut c_void);
        ffi::sqlite3_result_int(context, 1);
    }
}

/// The auto-extension: gives every new connection the function [`enable_hook`].
unsafe extern "C" fn register(
    db: *mut ffi::sqlite3,
    _error: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    // SAFETY: SQLite passes the handle of the connection being opened, valid for this call;
    // `enable_hook` matches the scalar function signature and needs no user data.
    unsafe {
        ffi::sqlite3_create_function_v2(
            db,
            c"vorgang_group_commit".as_ptr(),
            0,
            ffi::SQLITE_UTF8,
            std::ptr::null_mut(),
            Some(enable_hook),
            None,
            None,
            None,
        )
    }
}

/// Registers the auto-extension once per process; it must precede the connections that
/// [`enable`] is called on.
pub fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        // SAFETY: `register` has the signature SQLite expects of an extension entry point and
        // stays valid for the life of the process.
        let rc = unsafe { ffi::sqlite3_auto_extension(Some(register)) };
        if rc != ffi::SQLITE_OK {
            tracing::warn!(
                code = rc,
                "SQLite auto-extension for group commits not registered"
            );
        }
    });
}

/// Gives an open connection the group commit described above; false where it cannot have it
/// (no file, or the extension is missing), and then every commit must sync itself
/// (`synchronous = FULL`).
pub fn enable(conn: &mut diesel::sqlite::SqliteConnection) -> bool {
    use diesel::RunQueryDsl;
    install();
    diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>(
        "vorgang_group_commit()",
    ))
    .get_result::<i32>(conn)
    .is_ok_and(|enabled| enabled == 1)
}
