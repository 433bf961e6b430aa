//! `pruefsummen.sha256`: one line per file of a backup in the format of `sha256sum`, so the
//! backup can be checked with standard tools before anyone relies on it.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use crate::documents::{digest, is_valid_sha256};

/// The checksum file's name inside a backup.
pub const FILE: &str = "pruefsummen.sha256";

/// Writes `entries` (relative path → SHA-256) as `HASH  PATH` lines, sorted by path, synced.
pub fn write(dir: &Path, entries: &BTreeMap<String, String>) -> io::Result<()> {
    let mut text = String::new();
    for (path, sha256) in entries {
        text.push_str(&format!("{sha256}  {path}\n"));
    }
    let mut file = std::fs::File::create(dir.join(FILE))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// Reads the checksum file of `dir` back: relative path → SHA-256. Paths must be relative and
/// stay inside the backup.
pub fn read(dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let text =
        std::fs::read_to_string(dir.join(FILE)).map_err(|e| format!("{FILE} nicht lesbar: {e}"))?;
    let mut entries = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let malformed = || format!("{FILE}, Zeile {}: kein Eintrag „HASH  PFAD“", number + 1);
        let (sha256, path) = line.split_once("  ").ok_or_else(malformed)?;
        let inside = !path.is_empty()
            && !path.starts_with('/')
            && path.split('/').all(|part| !part.is_empty() && part != "..");
        if !is_valid_sha256(sha256) || !inside {
            return Err(malformed());
        }
        entries.insert(path.to_string(), sha256.to_string());
    }
    Ok(entries)
}

/// Recomputes every listed file's SHA-256; the first file that is missing or differs.
pub fn verify(dir: &Path, entries: &BTreeMap<String, String>) -> Result<(), String> {
    for (path, expected) in entries {
        let file =
            std::fs::File::open(dir.join(path)).map_err(|e| format!("{path} nicht lesbar: {e}"))?;
        let (found, _) = digest(file).map_err(|e| format!("{path} nicht lesbar: {e}"))?;
        if &found != expected {
            return Err(format!(
                "{path} ist verändert (SHA-256 {found} statt {expected})"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_detection_of_a_changed_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/b.txt"), b"abc").unwrap();
        let (sha256, _) = digest(&b"abc"[..]).unwrap();
        let entries = BTreeMap::from([("a/b.txt".to_string(), sha256.clone())]);
        write(dir.path(), &entries).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join(FILE)).unwrap(),
            format!("{sha256}  a/b.txt\n")
        );
        assert_eq!(read(dir.path()).unwrap(), entries);
        verify(dir.path(), &entries).unwrap();

        std::fs::write(dir.path().join("a/b.txt"), b"abd").unwrap();
        let error = verify(dir.path(), &entries).unwrap_err();
        assert!(error.starts_with("a/b.txt ist verändert"), "{error}");
    }

    #[test]
    fn paths_leaving_the_backup_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let hash = "0".repeat(64);
        for path in ["../etc/passwd", "/etc/passwd", "a//b", ""] {
            std::fs::write(dir.path().join(FILE), format!("{hash}  {path}\n")).unwrap();
            assert!(read(dir.path()).is_err(), "{path}");
        }
        std::fs::write(dir.path().join(FILE), "kaputt\n").unwrap();
        assert_eq!(
            read(dir.path()).unwrap_err(),
            "pruefsummen.sha256, Zeile 1: kein Eintrag „HASH  PFAD“"
        );
    }
}
