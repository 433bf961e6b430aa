//! File-system durability shared by everything that writes files the database refers to (stored
//! documents, mails written as files, SQLite's WAL): a new or renamed file survives a power
//! failure only once its directory entry is on disk too.

use std::io;
use std::path::Path;

/// Makes a directory's entries durable (a no-op where directories cannot be opened).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// [`sync_dir`] of the directory holding `path` (the current directory for a bare file name).
pub fn sync_parent_of(path: &Path) -> io::Result<()> {
    match path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        Some(dir) => sync_dir(dir),
        None => sync_dir(Path::new(".")),
    }
}
