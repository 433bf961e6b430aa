//! Moving an installation between the backends, through the binary as an operator does it: a
//! trial on SQLite goes to PostgreSQL (by `vorgang restore` of its backup, or directly by
//! `vorgang transfer`), and back again, and every row arrives as it left, in the text and types
//! the target backend itself would have written.

use std::collections::BTreeMap;

use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};
use serde_json::Value;
use vorgang::db::DbConnection;

use crate::support::installation::{Installation, new_case};
use crate::support::{Backend, TestDatabase, db::postgres_available};

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// Every row of every table of an SQLite database as SQLite's own JSON of it (which shows an
/// integer and a text apart), sorted; the migrations' bookkeeping left out.
fn sqlite_rows(db: &TestDatabase) -> BTreeMap<String, Vec<String>> {
    let mut conn = db.connection();
    assert!(matches!(conn, DbConnection::Sqlite(_)));
    let tables: Vec<Line> = diesel::sql_query(
        "SELECT name AS line FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite%' AND name <> '__diesel_schema_migrations'",
    )
    .load(&mut conn)
    .unwrap();
    let mut rows = BTreeMap::new();
    for table in tables.into_iter().map(|t| t.line) {
        let columns: Vec<Line> = diesel::sql_query(format!(
            "SELECT name AS line FROM pragma_table_info('{table}')"
        ))
        .load(&mut conn)
        .unwrap();
        let pairs: Vec<String> = columns
            .iter()
            .map(|c| format!("'{0}', \"{0}\"", c.line))
            .collect();
        let lines: Vec<Line> = diesel::sql_query(format!(
            "SELECT json_object({}) AS line FROM \"{table}\" ORDER BY 1",
            pairs.join(", ")
        ))
        .load(&mut conn)
        .unwrap();
        rows.insert(table, lines.into_iter().map(|l| l.line).collect());
    }
    rows
}

/// `rows` with every timestamp finer than a microsecond rounded to one, as PostgreSQL stores
/// it: where vorgang wrote the clock as it came, SQLite keeps nanoseconds.
fn to_microseconds(rows: &[String]) -> Vec<String> {
    let mut rounded: Vec<String> = rows
        .iter()
        .map(|row| {
            let mut object: serde_json::Map<String, Value> = serde_json::from_str(row).unwrap();
            for value in object.values_mut() {
                let Some(text) = value.as_str() else { continue };
                let fine = text.len() > "2026-12-05 17:21:30.123456".len();
                let Ok(at) = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
                else {
                    continue;
                };
                if fine {
                    let nanos = i64::from(at.and_utc().timestamp_subsec_nanos());
                    let whole = at - chrono::Duration::nanoseconds(nanos);
                    let at = whole + chrono::Duration::microseconds((nanos + 500) / 1000);
                    *value = Value::String(at.format("%F %T%.f").to_string());
                }
            }
            Value::Object(object).to_string()
        })
        .collect();
    rounded.sort();
    rounded
}

fn postgres_is_empty(db: &TestDatabase) -> bool {
    vorgang::db::transfer::is_empty_postgres(&mut db.connection()).unwrap()
}

#[test]
fn an_sqlite_trial_moves_to_postgresql_by_its_backup_and_back_unchanged() {
    if !postgres_available() {
        return;
    }
    let trial = Installation::new(TestDatabase::migrated(Backend::Sqlite));
    let password = trial.demo();
    let (code, _, stderr) = trial.run(&["jobs", "run", "reminders"]);
    assert_eq!(code, Some(0), "{stderr}");
    let before = sqlite_rows(&trial.db);
    let filled: Vec<&String> = before
        .iter()
        .filter(|(_, rows)| !rows.is_empty())
        .map(|(t, _)| t)
        .collect();
    for table in [
        "cases",
        "case_events",
        "documents",
        "invitations",
        "outbox",
        "users",
        "answers",
        "follow_ups",
        "job_runs",
        "timers",
    ] {
        assert!(
            filled.iter().any(|t| *t == table),
            "the trial has rows in {table}: {filled:?}"
        );
    }

    let out = tempfile::tempdir().unwrap();
    let backup = out.path().join("sicherung");
    let (code, _, stderr) = trial.run(&["backup", backup.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");

    // The SQLite backup restores into an empty PostgreSQL database.
    let production = Installation::new(TestDatabase::empty(Backend::Postgres));
    let (code, stdout, stderr) = production.run(&["restore", backup.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}{stdout}");
    let cases = before["cases"].len();
    assert!(stdout.contains(&format!("{cases} Vorgänge")), "{stdout}");
    assert!(!stdout.contains("älteren Version"), "{stdout}");
    let leftovers: Vec<_> = std::fs::read_dir(production.data())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".vorgang"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "the temporary copy is gone: {leftovers:?}"
    );
    assert_eq!(production.heads(), trial.heads());
    let (code, stdout, _) = production.run(&["audit", "verify"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(production.documents(), trial.documents());
    let (code, stdout, _) = production.run(&["audit", "documents"]);
    assert_eq!(code, Some(0), "{stdout}");

    // And from there into a new SQLite file: every row as the trial had it.
    // A connection of someone else to the source is pointed out (here the test's own).
    let copy = Installation::new(TestDatabase::empty(Backend::Sqlite));
    let held = production.db.connection();
    let (code, stdout, stderr) = copy.run(&["transfer", "--from", &production.db.url_text()]);
    assert_eq!(code, Some(0), "{stderr}{stdout}");
    assert!(
        stdout.contains("Hinweis: Zu Beginn war 1 weitere Verbindung zur Quelle offen"),
        "{stdout}"
    );
    drop(held);
    // Progress on stderr, one line per table as it is done.
    assert_eq!(stderr.lines().count(), before.len(), "{stderr}");
    let journal = format!(
        "case_events: {} Zeilen kopiert (",
        before["case_events"].len()
    );
    assert!(stderr.lines().any(|l| l.starts_with(&journal)), "{stderr}");
    assert!(
        stdout.starts_with(&format!(
            "Von {} nach sqlite://",
            production.db.url.redacted()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "übertragen: {cases} Vorgänge, {} Journaleinträge, {} Dokumente;",
            before["case_events"].len(),
            before["documents"].len()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("Die Dokumentablage wurde nicht kopiert"),
        "{stdout}"
    );
    let after = sqlite_rows(&copy.db);
    for (table, rows) in &before {
        assert_eq!(
            after.get(table),
            Some(&to_microseconds(rows)),
            "table {table}"
        );
    }
    assert_eq!(after.len(), before.len());

    // The PostgreSQL installation serves on: the trial's password still opens the account,
    // and a new case is numbered after the copied ones.
    let (server, token) = production.serve_logged_in(&password);
    let created = new_case(&server, &token);
    let id = created["id"].as_i64().unwrap();
    let highest = before["cases"]
        .iter()
        .map(|row| {
            serde_json::from_str::<Value>(row).unwrap()["id"]
                .as_i64()
                .unwrap()
        })
        .max()
        .unwrap();
    assert!(id > highest, "{id} after {highest}");
}

#[test]
fn a_transfer_happens_whole_or_not_at_all() {
    if !postgres_available() {
        return;
    }
    let trial = Installation::new(TestDatabase::migrated(Backend::Sqlite));
    let password = trial.demo();
    let source = trial.db.url_text();
    let production = Installation::new(TestDatabase::empty(Backend::Postgres));

    // No database there, or no database address at all.
    let missing = trial.dir.path().join("nicht-da.sqlite3");
    let (code, _, stderr) = production.run(&[
        "transfer",
        "--from",
        &format!("sqlite://{}", missing.display()),
    ]);
    assert_eq!(code, Some(2));
    assert!(stderr.starts_with("vorgang: Quelle: "), "{stderr}");
    assert!(stderr.contains("die Datei existiert nicht"), "{stderr}");
    assert!(!missing.exists(), "a source is never created");
    let text = trial.dir.path().join("notizen.txt");
    std::fs::write(&text, "keine Datenbank").unwrap();
    let (code, _, stderr) = production.run(&[
        "transfer",
        "--from",
        &format!("sqlite://{}", text.display()),
    ]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("file is not a database"), "{stderr}");
    assert!(
        !trial.dir.path().join("notizen.txt.lock").exists(),
        "no lock file beside what is no vorgang database"
    );
    let (code, _, stderr) = production.run(&["transfer", "--from", "mysql://db/vorgang"]);
    assert_eq!(code, Some(2));
    assert!(stderr.starts_with("vorgang: Quelle: "), "{stderr}");
    assert!(postgres_is_empty(&production.db));

    // A source a server is still working on: refused while it runs.
    {
        let (_server, _token) = trial.serve_logged_in(&password);
        let (code, _, stderr) = production.run(&["transfer", "--from", &source]);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(
            stderr.contains("wird von einem laufenden vorgang-Server verwendet (Sperrdatei "),
            "{stderr}"
        );
        assert!(postgres_is_empty(&production.db));
    }

    // A source whose tables differ from this version's: refused before a row is written, and
    // the target's migrations are rolled back with the rest.
    trial
        .db
        .connection()
        .batch_execute("ALTER TABLE cases ADD COLUMN notiz TEXT")
        .unwrap();
    let (code, _, stderr) = production.run(&["transfer", "--from", &source]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("Spalten der Tabelle cases: Quelle [") && stderr.contains("notiz"),
        "{stderr}"
    );
    assert!(stderr.trim_end().ends_with("nichts übertragen"), "{stderr}");
    assert!(postgres_is_empty(&production.db), "nothing left behind");
    trial
        .db
        .connection()
        .batch_execute("ALTER TABLE cases DROP COLUMN notiz")
        .unwrap();

    // More rows than one batch holds, and an organisation under one with a higher id.
    trial
        .db
        .connection()
        .batch_execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1201) \
             INSERT INTO job_runs (job, scheduled_for, started_at, outcome, owner) \
             SELECT 'housekeeping', datetime('2020-01-01', '+' || i || ' days'), \
             '2026-12-05 01:00:00.5', 'ok', 'test' FROM n; \
             INSERT INTO organisations (key, name, kind) VALUES ('TRAEGER-ALT', 'Träger', 'traeger'); \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600) \
             INSERT INTO organisations (key, name, kind) SELECT 'SCHULE-' || i, 'Schule', 'schule' FROM n; \
             INSERT INTO organisations (key, name, kind) VALUES ('TRAEGER-NEU', 'Dachverband', 'traeger'); \
             UPDATE organisations SET parent_id = (SELECT id FROM organisations WHERE key = 'TRAEGER-NEU') \
             WHERE key = 'TRAEGER-ALT';",
        )
        .unwrap();

    // Now it goes through, directly from the SQLite file.
    let (code, stdout, stderr) = production.run(&["transfer", "--from", &source]);
    assert_eq!(code, Some(0), "{stderr}{stdout}");
    assert_eq!(production.heads(), trial.heads());
    let (code, stdout, _) = production.run(&["audit", "verify"]);
    assert_eq!(code, Some(0), "{stdout}");
    let mut conn = production.db.connection();
    let runs: Vec<Line> = diesel::sql_query(
        "SELECT count(*)::text AS line FROM job_runs WHERE job = 'housekeeping' \
         UNION ALL SELECT p.key FROM organisations o JOIN organisations p ON p.id = o.parent_id \
         WHERE o.key = 'TRAEGER-ALT'",
    )
    .load(&mut conn)
    .unwrap();
    let runs: Vec<String> = runs.into_iter().map(|l| l.line).collect();
    assert_eq!(runs, ["1201", "TRAEGER-NEU"]);

    // A second time into the same database: refused, nothing doubled.
    let (code, _, stderr) = production.run(&["transfer", "--from", &source]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("ist nicht leer; die Übertragung überschreibt nichts"),
        "{stderr}"
    );
    assert_eq!(production.heads(), trial.heads());

    // Into an SQLite file that exists: refused, the file untouched.
    let before = sqlite_rows(&trial.db);
    let (code, _, stderr) = trial.run(&["transfer", "--from", &production.db.url_text()]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("existiert bereits; die Übertragung überschreibt nichts"),
        "{stderr}"
    );
    assert_eq!(sqlite_rows(&trial.db), before);

    // Into a new SQLite file from a source that does not fit: no file, no temporary file.
    production
        .db
        .connection()
        .batch_execute("ALTER TABLE documents ADD COLUMN notiz TEXT")
        .unwrap();
    let copy = Installation::new(TestDatabase::empty(Backend::Sqlite));
    let (code, _, stderr) = copy.run(&["transfer", "--from", &production.db.url_text()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("Spalten der Tabelle documents"), "{stderr}");
    let vorgang::db::DatabaseUrl::Sqlite(path) = &copy.db.url else {
        unreachable!()
    };
    let dir = path.parent().unwrap();
    let left: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}
