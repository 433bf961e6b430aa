//! Queues SQLite write transactions of one process on a mutex instead of SQLite's busy handler.
//!
//! SQLite lets one writer at a time hold a database. A second `BEGIN IMMEDIATE` gets
//! `SQLITE_BUSY` and the busy handler retries after sleeping 1, 2, 5, 10, … up to 100 ms, however
//! soon the lock comes free. Under concurrent commands most of that time the lock is free and
//! nobody holds it: the cores idle and the slowest requests wait hundreds of milliseconds for a
//! transaction of one. Writers of the same process therefore wait for each other on a mutex per
//! database file, which wakes the next one the moment the previous one commits. `busy_timeout`
//! still covers writers of other processes (the command line next to a running server).
//!
//! The gate travels with each connection as its diesel instrumentation (the one per-connection
//! slot diesel offers that can be read back by type), so `write_transaction` finds it from
//! nothing but the connection.
//!
//! A thread that already holds a file's gate and opens a second write transaction on another
//! connection to the same file would wait for itself forever. The gate remembers which gates
//! its thread holds and refuses that second entry with an error instead.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use diesel::connection::{Instrumentation, InstrumentationEvent};

/// Commits between two checkpoints. A command writes about ten pages to the WAL, so this is
/// near SQLite's own default of a checkpoint per 1,000 pages.
const COMMITS_PER_CHECKPOINT: u32 = 100;

/// The shared part of a gate: the lock and the commits since the last checkpoint.
#[derive(Debug, Default)]
struct Shared {
    lock: Mutex<()>,
    commits: AtomicU32,
}

/// The write gate of one SQLite database file, shared by all connections of the process to it.
#[derive(Debug, Clone)]
pub struct WriteGate {
    shared: Arc<Shared>,
}

impl WriteGate {
    /// The gate for `path`: the same one for every connection to the same file.
    pub fn for_path(path: &Path) -> Self {
        static GATES: OnceLock<Mutex<HashMap<PathBuf, Arc<Shared>>>> = OnceLock::new();
        // A file that exists is named by its canonical path, so `./data/x.db` and its absolute
        // form share a gate; the connection has just opened (and so created) it.
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let mut gates = GATES
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let shared = Arc::clone(gates.entry(key).or_default());
        Self { shared }
    }

    /// Waits until no other write transaction of this process holds the database; refuses when
    /// the calling thread holds it already (through another connection), which would never end.
    ///
    /// A panic in another writer leaves nothing to protect here (SQLite rolled its transaction
    /// back), so a poisoned mutex is simply taken over.
    pub fn enter(&self) -> Result<Entered<'_>, HeldByThisThread> {
        let key = Arc::as_ptr(&self.shared) as usize;
        if HELD.with(|held| held.borrow().contains(&key)) {
            return Err(HeldByThisThread);
        }
        let guard = self
            .shared
            .lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        HELD.with(|held| held.borrow_mut().push(key));
        Ok(Entered { _guard: guard, key })
    }

    /// Counts a commit; true for every [`COMMITS_PER_CHECKPOINT`]th, after which the committer
    /// checkpoints the WAL once it has left the gate.
    ///
    /// SQLite's automatic checkpoint runs inside the `COMMIT` that crosses its threshold, and so
    /// inside the gate: every writer of the process waited for it to copy the WAL into the
    /// database file and sync it. Connections therefore go without it (the group commit's WAL
    /// hook replaces it, `db::durable_commit`) and checkpoint passively outside the gate, while
    /// the next writers go on.
    pub fn count_commit(&self) -> bool {
        let commits = self.shared.commits.fetch_add(1, Ordering::Relaxed) + 1;
        commits.is_multiple_of(COMMITS_PER_CHECKPOINT)
    }
}

thread_local! {
    /// The gates the current thread holds, by the address of their shared part.
    static HELD: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// The gate, held until dropped.
#[derive(Debug)]
pub struct Entered<'a> {
    _guard: MutexGuard<'a, ()>,
    key: usize,
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        HELD.with(|held| {
            let mut held = held.borrow_mut();
            if let Some(at) = held.iter().rposition(|&key| key == self.key) {
                held.swap_remove(at);
            }
        });
    }
}

/// A write transaction was opened on a second connection to a file while the same thread's
/// write transaction on another connection holds it: waiting would never end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "Schreibtransaktion auf einer zweiten Verbindung zur selben SQLite-Datei, während derselbe \
     Thread dort schon schreibt"
)]
pub struct HeldByThisThread;

/// Installed as the connection's instrumentation, it only carries the gate.
impl Instrumentation for WriteGate {
    fn on_connection_event(&mut self, _event: InstrumentationEvent<'_>) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_file_one_gate_whatever_the_spelling() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.db");
        std::fs::write(&file, b"").unwrap();
        let spelled_differently = dir.path().join(".").join("a.db");
        let a = WriteGate::for_path(&file);
        let b = WriteGate::for_path(&spelled_differently);
        assert!(Arc::ptr_eq(&a.shared, &b.shared));
        let other = WriteGate::for_path(&dir.path().join("b.db"));
        assert!(!Arc::ptr_eq(&a.shared, &other.shared));
    }

    #[test]
    fn a_second_writer_waits_for_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let gate = WriteGate::for_path(&dir.path().join("c.db"));
        let held = gate.enter().unwrap();
        let waiter = gate.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let _entered = waiter.enter().unwrap();
            tx.send(()).unwrap();
        });
        assert!(
            rx.recv_timeout(std::time::Duration::from_millis(100))
                .is_err(),
            "the second writer entered while the first held the gate"
        );
        drop(held);
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("the second writer enters once the first leaves");
        thread.join().unwrap();
    }

    #[test]
    fn the_holding_thread_is_refused_instead_of_waiting_for_itself() {
        let dir = tempfile::tempdir().unwrap();
        let gate = WriteGate::for_path(&dir.path().join("d.db"));
        let other_file = WriteGate::for_path(&dir.path().join("e.db"));
        let held = gate.enter().unwrap();
        assert_eq!(gate.clone().enter().unwrap_err(), HeldByThisThread);
        // Another file's gate is a different lock.
        drop(other_file.enter().unwrap());
        drop(held);
        // Leaving the gate clears the mark: the thread may enter again.
        drop(gate.enter().unwrap());
    }
}
