//! `vorgang backup`, `vorgang restore` and `vorgang audit documents`, through the binary as an
//! operator runs them: a demo installation is backed up, restored into an empty one, and the
//! restored installation has the same journals and documents and goes on working (a running
//! server creates the next case after the restored ones). Damage is named, never passed on.

use std::collections::BTreeMap;
use std::path::Path;

use diesel::prelude::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use vorgang::db::schema::cases;

use crate::support::installation::{Installation, new_case};
use crate::support::process::{RunningServer, http};
use crate::support::{Backend, TestDatabase};

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks `pruefsummen.sha256` independently of vorgang's own reader: every line's file
/// hashes as listed, and every file of the backup is listed.
fn checksums_hold(backup: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(backup.join("pruefsummen.sha256")).unwrap();
    let mut listed = BTreeMap::new();
    for line in text.lines() {
        let (hash, path) = line.split_once("  ").unwrap();
        let bytes = std::fs::read(backup.join(path)).unwrap();
        assert_eq!(sha256_hex(&bytes), hash, "{path}");
        listed.insert(path.to_string(), hash.to_string());
    }
    let mut files = Vec::new();
    let mut stack = vec![backup.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path.strip_prefix(backup).unwrap().display().to_string());
            }
        }
    }
    files.retain(|f| f != "pruefsummen.sha256");
    files.sort();
    assert_eq!(files, listed.keys().cloned().collect::<Vec<_>>());
    listed
}

fn manifest(backup: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(backup.join("sicherung.json")).unwrap()).unwrap()
}

both_backends! {
    fn a_backup_restores_into_an_empty_installation_that_goes_on_working(backend) {
        let source = Installation::new(TestDatabase::migrated(backend));
        let password = source.demo();
        let documents = source.documents();
        assert!(documents.len() > 5, "the demo has documents");
        let out = tempfile::tempdir().unwrap();
        let backup = out.path().join("sicherung-2026-12-04");

        let (code, stdout, stderr) = source.run(&["backup", backup.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{stderr}{stdout}");
        assert!(stderr.is_empty(), "{stderr}");
        let case_count: i64 = cases::table.count().get_result(&mut source.db.connection()).unwrap();
        assert!(
            stdout.starts_with(&format!(
                "Sicherung {} angelegt: {case_count} Vorgänge, ",
                backup.display()
            )),
            "{stdout}"
        );
        assert!(!out.path().join("sicherung-2026-12-04.teil").exists());

        let listed = checksums_hold(&backup);
        let blobs: std::collections::BTreeSet<&String> = documents.iter().map(|d| &d.2).collect();
        for hash in &blobs {
            let path = format!("dokumente/{}/{}/{hash}", &hash[0..2], &hash[2..4]);
            assert_eq!(listed.get(&path), Some(*hash), "{path}");
        }
        let database_file = match backend {
            Backend::Sqlite => "datenbank.sqlite3",
            Backend::Postgres => "datenbank.pgdump",
        };
        assert!(listed.contains_key(database_file));
        assert!(listed.contains_key("secret"), "the generated secret signs the mailed links");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(backup.join("secret")).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "the secret is readable by its owner only");
        }
        let m = manifest(&backup);
        assert_eq!(m["format"], "vorgang.sicherung.v1");
        assert_eq!(m["backend"], backend_name(backend));
        assert_eq!(m["database_file"], database_file);
        assert_eq!(m["cases"], case_count);
        assert_eq!(m["documents"], documents.len() as i64);
        assert_eq!(m["document_files"], blobs.len() as u64);
        assert_eq!(m["problems"], json!([]));
        assert_eq!(m["secret_included"], true);

        // Restore into a database that was never used.
        let target = Installation::new(TestDatabase::empty(backend));
        let (code, stdout, stderr) = target.run(&["restore", backup.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{stderr}{stdout}");
        assert!(stdout.contains(&format!("{case_count} Vorgänge")), "{stdout}");
        assert!(stdout.contains("„vorgang audit verify“"), "{stdout}");

        assert_eq!(target.heads(), source.heads());
        assert_eq!(target.documents(), documents);
        for (_, _, hash, _, _) in &documents {
            assert_eq!(std::fs::read(target.blob(hash)).unwrap(), std::fs::read(source.blob(hash)).unwrap());
        }
        let (code, stdout, _) = target.run(&["audit", "documents"]);
        assert_eq!(code, Some(0), "{stdout}");
        assert_eq!(stdout, source.run(&["audit", "documents"]).1);
        assert_eq!(
            std::fs::read(target.data().join("secret")).unwrap(),
            std::fs::read(source.data().join("secret")).unwrap()
        );

        // The restored installation serves and numbers on: a user's password (a hash in the
        // database) still works, and a new case gets an id and Aktenzeichen of its own.
        let (server, token) = target.serve_logged_in(&password);
        let created = new_case(&server, &token);
        let backed_up: Vec<(i64, String)> = cases::table
            .select((cases::id, cases::aktenzeichen))
            .load(&mut source.db.connection())
            .unwrap();
        let id = created["id"].as_i64().unwrap();
        assert!(backed_up.iter().all(|(old, _)| *old < id), "{id} {backed_up:?}");
        let aktenzeichen = created["aktenzeichen"].as_str().unwrap();
        assert!(backed_up.iter().all(|(_, old)| old != aktenzeichen), "{aktenzeichen}");
    }
}

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

both_backends! {
    fn missing_and_altered_files_are_named_and_the_backup_is_still_complete(backend) {
        let source = Installation::new(TestDatabase::migrated(backend));
        source.demo();
        let documents = source.documents();
        let (missing_id, _, missing, _, _) = documents[0].clone();
        let (altered_id, _, altered, _, _) = documents
            .iter()
            .find(|d| d.2 != missing)
            .cloned()
            .unwrap();
        std::fs::remove_file(source.blob(&missing)).unwrap();
        let path = source.blob(&altered);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[0] ^= 1;
        let mut permissions = std::fs::metadata(&path).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        permissions.set_readonly(false);
        std::fs::set_permissions(&path, permissions).unwrap();
        std::fs::write(&path, &bytes).unwrap();

        let (code, stdout, _) = source.run(&["audit", "documents"]);
        assert_eq!(code, Some(1), "{stdout}");
        let findings: Vec<&str> = stdout.lines().collect();
        let on = |hash: &str| documents.iter().filter(|d| d.2 == hash).count();
        assert_eq!(findings.len(), on(&missing) + on(&altered), "{stdout}");
        assert!(findings.iter().any(|l| l.contains(&format!("Dokument {missing_id} ")) && l.ends_with("Datei fehlt in der Dokumentablage")), "{stdout}");
        let altered_line = format!(
            "Inhalt wurde verändert ({} Bytes mit SHA-256 {})",
            bytes.len(),
            sha256_hex(&bytes)
        );
        assert!(findings.iter().any(|l| l.contains(&format!("Dokument {altered_id} ")) && l.ends_with(&altered_line)), "{stdout}");

        let out = tempfile::tempdir().unwrap();
        let backup = out.path().join("sicherung");
        let (code, stdout, stderr) = source.run(&["backup", backup.to_str().unwrap()]);
        assert_eq!(code, Some(1), "{stderr}{stdout}");
        assert!(stdout.contains(&format!("{} Dokumente fehlen darin", findings.len())), "{stdout}");
        assert_eq!(stderr.lines().collect::<Vec<_>>(), findings);
        let listed = checksums_hold(&backup);
        assert!(!listed.keys().any(|p| p.ends_with(&missing) || p.ends_with(&altered)));
        assert_eq!(manifest(&backup)["problems"].as_array().unwrap().len(), findings.len());

        // The backup restores; the restore repeats what was missing already.
        let target = Installation::new(TestDatabase::empty(backend));
        let (code, stdout, stderr) = target.run(&["restore", backup.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{stderr}{stdout}");
        assert!(stdout.contains(&format!("Schon beim Sichern fehlten {} Dokumentdateien", findings.len())), "{stdout}");
        // The same documents lack their file there, all of them now as missing.
        let (code, restored, _) = target.run(&["audit", "documents"]);
        assert_eq!(code, Some(1));
        let named = |line: &str| line.split("): ").next().unwrap().to_string();
        assert_eq!(
            restored.lines().map(named).collect::<Vec<_>>(),
            findings.iter().map(|l| named(l)).collect::<Vec<_>>()
        );
        assert!(restored.lines().all(|l| l.ends_with("): Datei fehlt in der Dokumentablage")), "{restored}");
    }
}

both_backends! {
    fn a_restore_that_cannot_be_done_whole_changes_nothing(backend) {
        let source = Installation::new(TestDatabase::migrated(backend));
        source.demo();
        let out = tempfile::tempdir().unwrap();
        let backup = out.path().join("sicherung");
        let (code, _, stderr) = source.run(&["backup", backup.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{stderr}");

        // Into a database in use: refused.
        let (code, stdout, stderr) = source.run(&["restore", backup.to_str().unwrap()]);
        assert_eq!(code, Some(2), "{stdout}");
        assert!(stderr.starts_with("vorgang: Einstellung database_url: "), "{stderr}");
        assert!(stderr.contains("überschreibt nichts"), "{stderr}");

        // A damaged backup: refused before anything is written.
        let damaged = out.path().join("beschaedigt");
        copy_dir(&backup, &damaged);
        let hash = source.documents()[0].2.clone();
        let file = damaged.join(format!("dokumente/{}/{}/{hash}", &hash[0..2], &hash[2..4]));
        let mut bytes = std::fs::read(&file).unwrap();
        bytes.push(b'!');
        std::fs::write(&file, bytes).unwrap();
        let target = Installation::new(TestDatabase::empty(backend));
        let (code, _, stderr) = target.run(&["restore", damaged.to_str().unwrap()]);
        assert_eq!(code, Some(2));
        assert!(stderr.contains("ist beschädigt: dokumente/"), "{stderr}");
        assert!(stderr.trim_end().ends_with("nichts wiederhergestellt"), "{stderr}");
        assert!(!target.data().exists(), "nothing written to the data directory");
        if backend == Backend::Sqlite {
            assert!(!Path::new(&target.db.url_text().trim_start_matches("sqlite://")).exists());
        }

        // A generated secret of another installation in the way: refused, nothing written.
        std::fs::create_dir_all(target.data()).unwrap();
        std::fs::write(target.data().join("secret"), "a".repeat(64)).unwrap();
        let (code, _, stderr) = target.run(&["restore", backup.to_str().unwrap()]);
        assert_eq!(code, Some(2));
        assert!(stderr.contains("anderes Signiergeheimnis"), "{stderr}");
        assert!(!target.data().join("documents").exists());
        std::fs::remove_file(target.data().join("secret")).unwrap();

        // Not a backup, or one of the other backend.
        let (code, _, stderr) = target.run(&["restore", out.path().to_str().unwrap()]);
        assert_eq!(code, Some(2));
        assert!(stderr.contains("ist keine lesbare vorgang-Sicherung: sicherung.json nicht lesbar"), "{stderr}");
        let mut other = manifest(&backup);
        other["backend"] = json!(match backend { Backend::Sqlite => "postgres", Backend::Postgres => "sqlite" });
        let relabelled = out.path().join("andere");
        copy_dir(&backup, &relabelled);
        std::fs::write(relabelled.join("sicherung.json"), other.to_string()).unwrap();
        let (code, _, stderr) = target.run(&["restore", relabelled.to_str().unwrap()]);
        assert_eq!(code, Some(2));
        assert!(stderr.contains("sicherung.json ist verändert"), "the manifest is covered by the checksums: {stderr}");

        // And then the intact backup restores.
        let (code, stdout, stderr) = target.run(&["restore", backup.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{stderr}{stdout}");
        assert_eq!(target.heads(), source.heads());
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).unwrap();
        }
    }
}

#[test]
fn a_backup_never_overwrites_and_leaves_nothing_half_written() {
    let source = Installation::new(TestDatabase::migrated(Backend::Sqlite));
    let out = tempfile::tempdir().unwrap();
    let existing = out.path().join("vorhanden");
    std::fs::create_dir(&existing).unwrap();
    let (code, _, stderr) = source.run(&["backup", existing.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert_eq!(
        stderr,
        format!(
            "vorgang: Ziel {} existiert bereits; eine Sicherung überschreibt nichts\n",
            existing.display()
        )
    );

    let leftover = out.path().join("neu.teil");
    std::fs::create_dir(&leftover).unwrap();
    let (code, _, stderr) = source.run(&["backup", out.path().join("neu").to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("von einer abgebrochenen Sicherung übrig"),
        "{stderr}"
    );
    assert!(leftover.exists(), "never removes what another run left");

    // A database that is not there is a configuration mistake, and creates nothing.
    let missing = Installation::new(TestDatabase::empty(Backend::Sqlite));
    let (code, _, stderr) = missing.run(&["backup", out.path().join("b").to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("existiert nicht"), "{stderr}");
    assert!(!out.path().join("b").exists() && !out.path().join("b.teil").exists());
}

#[test]
fn a_postgres_backup_without_pg_dump_says_so_and_leaves_nothing() {
    if !crate::support::db::postgres_available() {
        return;
    }
    let source = Installation::new(TestDatabase::migrated(Backend::Postgres));
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("sicherung");
    let (code, _, stderr) = source.run(&[
        "backup",
        target.to_str().unwrap(),
        "--pg-dump",
        "/nicht/vorhanden/pg_dump",
    ]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.starts_with("vorgang: pg_dump: Programm /nicht/vorhanden/pg_dump nicht gefunden;"),
        "{stderr}"
    );
    assert!(stderr.contains("--pg-dump PFAD"), "{stderr}");
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}

/// Creates a case and attaches a PDF of its own to it through the running server's API.
fn case_with_document(server: &RunningServer, token: &str, n: usize) {
    let id = new_case(server, token)["id"].as_i64().unwrap();
    let boundary = "vorgangtestgrenze";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"anlage-{n}.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\nAnlage {n}\n"
    )
    .into_bytes();
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let reply = http()
        .post(server.url(&format!("/api/v1/cases/{id}/documents")))
        .header("Authorization", &format!("Bearer {token}"))
        .header(
            "Content-Type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .send(&body[..])
        .unwrap();
    assert_eq!(reply.status(), 201);
}

both_backends! {
    fn a_backup_taken_while_the_server_writes_is_consistent(backend) {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

        let source = Installation::new(TestDatabase::migrated(backend));
        let password = source.demo();
        let (server, token) = source.serve_logged_in(&password);
        let before: i64 = cases::table.count().get_result(&mut source.db.connection()).unwrap();

        let out = tempfile::tempdir().unwrap();
        let backup = out.path().join("sicherung");
        let stop = AtomicBool::new(false);
        let written = AtomicUsize::new(0);
        let wait_for = |n: usize| {
            while written.load(Ordering::SeqCst) < n {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        };
        let (code, stdout, stderr) = std::thread::scope(|scope| {
            scope.spawn(|| {
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    case_with_document(&server, &token, n);
                    n += 1;
                    written.store(n, Ordering::SeqCst);
                }
            });
            wait_for(5);
            let result = source.run(&["backup", backup.to_str().unwrap()]);
            let at_backup = written.load(Ordering::SeqCst);
            wait_for(at_backup + 5);
            stop.store(true, Ordering::SeqCst);
            result
        });
        assert_eq!(code, Some(0), "{stderr}{stdout}");
        let after: i64 = cases::table.count().get_result(&mut source.db.connection()).unwrap();
        let backed_up = manifest(&backup)["cases"].as_i64().unwrap();
        assert!(before + 5 <= backed_up && backed_up + 5 <= after, "{before} {backed_up} {after}");

        let target = Installation::new(TestDatabase::empty(backend));
        let (code, stdout, stderr) = target.run(&["restore", backup.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{stderr}{stdout}");
        let (code, stdout, _) = target.run(&["audit", "verify"]);
        assert_eq!(code, Some(0), "{stdout}");
        let (code, stdout, _) = target.run(&["audit", "documents"]);
        assert_eq!(code, Some(0), "every document of the snapshot has its file: {stdout}");
        let restored: i64 = cases::table.count().get_result(&mut target.db.connection()).unwrap();
        assert_eq!(restored, backed_up);
    }
}
