//! The nightly backups of the `backup` job: named by their time, the oldest deleted once enough
//! newer complete ones exist. Only directories this job names and that hold a manifest without
//! problems are counted or deleted, and the job's own `.teil` directories of runs that were
//! interrupted before a newer backup completed; anything else in the directory is left alone.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use chrono::DateTime;
use chrono_tz::Tz;

use super::{FORMAT, MANIFEST, Manifest};

const PREFIX: &str = "vorgang-";

/// The directory name of a scheduled backup: `vorgang-2026-12-04T02-00` (German time), so names
/// sort by time.
pub fn scheduled_name(at: DateTime<Tz>) -> String {
    format!("{PREFIX}{}", at.format("%Y-%m-%dT%H-%M"))
}

fn is_scheduled_name(name: &str) -> bool {
    let Some(stamp) = name.strip_prefix(PREFIX) else {
        return false;
    };
    chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%dT%H-%M").is_ok()
}

/// True when `dir` is a complete backup whose document files are all there.
fn is_complete(dir: &Path) -> bool {
    fs::read_to_string(dir.join(MANIFEST))
        .ok()
        .and_then(|text| serde_json::from_str::<Manifest>(&text).ok())
        .is_some_and(|m| m.format == FORMAT && m.problems.is_empty())
}

/// Deletes the job's complete backups in `dir` beyond the newest `keep`, and its interrupted
/// ones older than the newest complete backup; returns those deleted.
pub fn prune(dir: &Path, keep: usize) -> io::Result<Vec<PathBuf>> {
    let mut complete: Vec<(String, PathBuf)> = Vec::new();
    let mut interrupted: Vec<(String, PathBuf)> = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let path = entry.path();
        if !entry.file_type()?.is_dir() {
            continue;
        }
        if let Some(base) = name.strip_suffix(".teil")
            && is_scheduled_name(base)
        {
            interrupted.push((base.to_string(), path));
        } else if is_scheduled_name(&name) && is_complete(&path) {
            complete.push((name, path));
        }
    }
    complete.sort();
    let newest = complete.last().map(|(name, _)| name.clone());
    let excess = complete.len().saturating_sub(keep);
    let mut deleted = Vec::new();
    let abandoned = interrupted
        .into_iter()
        .filter(|(base, _)| newest.as_ref().is_some_and(|newest| base < newest));
    for (_, path) in complete.into_iter().take(excess).chain(abandoned) {
        fs::remove_dir_all(&path)?;
        deleted.push(path);
    }
    if !deleted.is_empty() {
        crate::durable_fs::sync_dir(dir)?;
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn backup(dir: &Path, name: &str, problems: &[&str]) -> PathBuf {
        let path = dir.join(name);
        fs::create_dir(&path).unwrap();
        let manifest = serde_json::json!({
            "format": FORMAT, "created_at": "2026-12-04T01:00:00Z", "vorgang_version": "0",
            "backend": "sqlite", "database_file": "datenbank.sqlite3", "schema_version": "1",
            "cases": 0, "journal_entries": 0, "documents": 0, "document_files": 0,
            "document_bytes": 0, "problems": problems, "secret_included": true,
        });
        fs::write(path.join(MANIFEST), manifest.to_string()).unwrap();
        path
    }

    #[test]
    fn names_sort_by_german_time() {
        let at = chrono_tz::Europe::Berlin
            .with_ymd_and_hms(2026, 12, 4, 2, 0, 0)
            .unwrap();
        assert_eq!(scheduled_name(at), "vorgang-2026-12-04T02-00");
        assert!(is_scheduled_name("vorgang-2026-12-04T02-00"));
        assert!(!is_scheduled_name("vorgang-2026-12-04"));
        assert!(!is_scheduled_name("sicherung-2026-12-04T02-00"));
    }

    #[test]
    fn keeps_the_newest_complete_backups_and_touches_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let oldest = backup(dir.path(), "vorgang-2026-12-01T02-00", &[]);
        let damaged = backup(dir.path(), "vorgang-2026-12-02T02-00", &["Dokument fehlt"]);
        let older = backup(dir.path(), "vorgang-2026-12-03T02-00", &[]);
        let newer = backup(dir.path(), "vorgang-2026-12-04T02-00", &[]);
        let newest = backup(dir.path(), "vorgang-2026-12-05T02-00", &[]);
        let by_hand = backup(dir.path(), "vor-dem-update", &[]);
        fs::create_dir(dir.path().join("vorgang-2026-11-01T02-00")).unwrap(); // no manifest
        let interrupted = dir.path().join("vorgang-2026-11-02T02-00.teil");
        fs::create_dir(&interrupted).unwrap();
        // Still being written by a run that started after the newest complete one.
        let running = dir.path().join("vorgang-2026-12-06T02-00.teil");
        fs::create_dir(&running).unwrap();
        fs::create_dir(dir.path().join("fremd.teil")).unwrap();

        let mut deleted = prune(dir.path(), 3).unwrap();
        deleted.sort();
        assert_eq!(deleted, vec![interrupted.clone(), oldest.clone()]);
        assert!(!oldest.exists() && !interrupted.exists());
        for kept in [&damaged, &older, &newer, &newest, &by_hand, &running] {
            assert!(kept.exists(), "{}", kept.display());
        }
        assert!(dir.path().join("vorgang-2026-11-01T02-00").exists());
        assert!(dir.path().join("fremd.teil").exists());
        assert_eq!(prune(dir.path(), 3).unwrap(), Vec::<PathBuf>::new());
    }
}
