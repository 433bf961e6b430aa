//! `vorgang jobs`: listing the jobs and running one once, as a real process.

use crate::support::process::vorgang;

use crate::support::process::run_in as run;

#[test]
fn list_shows_schedules_and_next_runs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("vorgang.toml"),
        "[jobs.housekeeping]\nenabled = false\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run(dir.path(), &["jobs", "list"]);
    assert_eq!(code, Some(0), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(lines[0].starts_with("reminders"), "{stdout}");
    assert!(lines[0].contains("0 0 7 * * MON-FRI"), "{stdout}");
    assert!(lines[0].contains("T07:00:00+0"), "{stdout}");
    assert!(lines[1].starts_with("digest"), "{stdout}");
    assert!(lines[1].contains("0 0 7 * * MON "), "{stdout}");
    assert!(lines[2].starts_with("housekeeping"), "{stdout}");
    assert!(lines[2].ends_with("abgeschaltet"), "{stdout}");
    assert!(lines[3].starts_with("backup"), "{stdout}");
    assert!(
        lines[3].ends_with("abgeschaltet"),
        "off without backup_dir: {stdout}"
    );
}

#[test]
fn run_executes_once_per_time_and_reports_in_german() {
    let dir = tempfile::tempdir().unwrap();
    let now = "2027-06-01T03:30:00+02:00";
    let (code, stdout, stderr) = run(dir.path(), &["jobs", "run", "housekeeping", "--now", now]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout.trim(),
        "Aufgabe housekeeping für 2027-06-01T03:30:00+02:00 ausgeführt: \
         {\"partner_links_deleted\":0,\"outbox_deleted\":0,\"ui_sessions_deleted\":0,\"absences_deleted\":0,\"attempt_limits_deleted\":0}"
    );

    // The same time again: the run lock says it ran.
    let (code, stdout, stderr) = run(dir.path(), &["jobs", "run", "housekeeping", "--now", now]);
    assert_eq!(code, Some(1), "{stdout}");
    assert_eq!(
        stderr.trim(),
        "vorgang: Aufgabe housekeeping für 2027-06-01T03:30:00+02:00 ist bereits gelaufen"
    );

    let (code, _, stderr) = run(dir.path(), &["jobs", "run", "reminders", "--now", now]);
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn unknown_jobs_and_bad_times_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for (args, expected) in [
        (
            &["jobs", "run", "nightly"][..],
            "vorgang: Unbekannte Aufgabe „nightly“ (bekannt: reminders, digest, housekeeping, backup)",
        ),
        (
            &["jobs", "run", "reminders", "--now", "gestern"][..],
            "vorgang: --now: „gestern“ ist kein Zeitpunkt nach RFC 3339",
        ),
    ] {
        let (code, _, stderr) = run(dir.path(), args);
        assert_eq!(code, Some(2), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with(expected), "{stderr}");
    }
}

#[test]
fn serve_runs_enabled_jobs_on_their_schedule_and_each_time_once() {
    use diesel::prelude::*;
    use vorgang::db::schema::job_runs;
    let dir = tempfile::tempdir().unwrap();
    // Housekeeping every second, reminders switched off.
    std::fs::write(
        dir.path().join("vorgang.toml"),
        "[jobs.housekeeping]\nschedule = \"* * * * * *\"\n\n[jobs.reminders]\nenabled = false\n",
    )
    .unwrap();
    let mut server = crate::support::process::RunningServer::start(dir.path(), &[]);
    let url = vorgang::db::DatabaseUrl::Sqlite(dir.path().join("data/vorgang.db"));
    let mut conn = vorgang::db::ConnectionFactory::new(url).open().unwrap();
    let started = std::time::Instant::now();
    let mut runs: Vec<(String, chrono::NaiveDateTime, String)> = Vec::new();
    while started.elapsed() < std::time::Duration::from_secs(60) {
        runs = job_runs::table
            .order(job_runs::scheduled_for)
            .select((job_runs::job, job_runs::scheduled_for, job_runs::outcome))
            .load(&mut conn)
            .unwrap();
        if runs.iter().filter(|r| r.2 == "ok").count() >= 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(
        runs.iter().filter(|r| r.2 == "ok").count() >= 3,
        "{runs:?}\n{}",
        server.log_lines().join("\n")
    );
    assert!(
        runs.iter().all(|r| r.0 == "housekeeping"),
        "disabled jobs do not run: {runs:?}"
    );
    let mut times: Vec<_> = runs.iter().map(|r| r.1).collect();
    times.dedup();
    assert_eq!(times.len(), runs.len(), "each scheduled time runs once");
    let status = server.signal_and_wait("TERM", std::time::Duration::from_secs(40));
    assert!(status.success(), "{status:?}");
}

#[test]
fn the_backup_job_writes_dated_backups_and_keeps_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("sicherungen");
    std::fs::write(
        dir.path().join("vorgang.toml"),
        format!("backup_dir = \"{}\"\nbackup_keep = 2\n", backups.display()),
    )
    .unwrap();
    let (code, stdout, _) = run(dir.path(), &["jobs", "list"]);
    assert_eq!(code, Some(0));
    let line = stdout.lines().find(|l| l.starts_with("backup")).unwrap();
    assert!(line.contains("0 0 2 * * *"), "on by backup_dir: {line}");
    assert!(!line.ends_with("abgeschaltet"), "{line}");

    // The database exists once the server or `migrate` made it.
    let output = vorgang()
        .arg("migrate")
        .current_dir(dir.path())
        .env("VORGANG_DATA_DIR", dir.path().join("data"))
        .output()
        .unwrap();
    assert!(output.status.success());
    for night in ["2027-06-01", "2027-06-02", "2027-06-03"] {
        let now = format!("{night}T02:00:00+02:00");
        let (code, stdout, stderr) = run(dir.path(), &["jobs", "run", "backup", "--now", &now]);
        assert_eq!(code, Some(0), "{stderr}{stdout}");
        assert!(stdout.contains("\"cases\":0"), "{stdout}");
    }
    let mut names: Vec<String> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["vorgang-2027-06-02T02-00", "vorgang-2027-06-03T02-00"]
    );
    let manifest = std::fs::read_to_string(backups.join(&names[1]).join("sicherung.json")).unwrap();
    assert!(
        manifest.contains("\"format\": \"vorgang.sicherung.v1\""),
        "{manifest}"
    );

    // A missing document file fails the run (monitoring sees it) and deletes nothing.
    let url = vorgang::db::DatabaseUrl::Sqlite(dir.path().join("data/vorgang.db"));
    let mut conn = vorgang::db::ConnectionFactory::new(url).open().unwrap();
    let case = crate::support::cases::insert_case(&mut conn, "KI-05154-2027-0001");
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "INSERT INTO documents (case_id, sha256, size, content_type, filename, uploaded_by, partner_visible, created_at) \
             VALUES ({case}, '{}', 5, 'application/pdf', 'weg.pdf', 'a@b.de', false, CURRENT_TIMESTAMP)",
            "ab".repeat(32)
        )),
        &mut conn,
    )
    .unwrap();
    let (code, _, stderr) = run(
        dir.path(),
        &[
            "jobs",
            "run",
            "backup",
            "--now",
            "2027-06-04T02:00:00+02:00",
        ],
    );
    assert_eq!(code, Some(1));
    assert!(stderr.contains("ohne 1 Dokumentdateien"), "{stderr}");
    assert!(
        stderr.contains("ältere Sicherungen bleiben erhalten"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(&backups).unwrap().count(), 3);
}

#[test]
fn the_backup_job_needs_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(dir.path(), &["jobs", "run", "backup"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("kein Zielverzeichnis eingestellt (backup_dir"),
        "{stderr}"
    );

    std::fs::write(
        dir.path().join("vorgang.toml"),
        "[jobs.backup]\nenabled = true\n",
    )
    .unwrap();
    let (code, _, stderr) = run(dir.path(), &["jobs", "list"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.starts_with("vorgang: Einstellung jobs.backup.enabled"),
        "{stderr}"
    );
    assert!(
        stderr.contains("backup_dir (VORGANG_BACKUP_DIR)"),
        "{stderr}"
    );
}
