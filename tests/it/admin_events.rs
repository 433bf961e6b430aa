//! The administration's record through the API, on both databases: newest first, filtered by
//! kind and by text in the subject or the actor, paged; bad queries are refused with 400.

use actix_web::http::StatusCode;
use actix_web::test as actix_test;
use diesel::prelude::*;
use serde_json::{Value, json};
use vorgang::db::models::Role;
use vorgang::service::admin_log;

use crate::support::TestDatabase;
use crate::support::auth::{create_user, staff_token, test_auth};

macro_rules! get {
    ($app:expr, $uri:expr, $token:expr) => {{
        let request = actix_test::TestRequest::get()
            .uri(&$uri)
            .insert_header(("Authorization", format!("Bearer {}", $token)))
            .to_request();
        let response = actix_test::call_service(&$app, request).await;
        let status = response.status();
        let body: Value =
            serde_json::from_slice(&actix_test::read_body(response).await).unwrap_or(Value::Null);
        (status, body)
    }};
}

/// `(kind, subject)` of each listed entry.
fn listed(body: &Value) -> Vec<(String, String)> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

both_backends! {
    async fn the_record_is_listed_newest_first_filtered_and_paged(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let admin = {
            let mut conn = db.connection();
            let at = |h| chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap().and_hms_opt(h, 0, 0).unwrap();
            admin_log::record(&mut conn, at(8), admin_log::FIRST_START, admin_log::USER_CREATED, "admin@bra.nrw.de", &json!({ "organisation": "KFI", "roles": ["admin"] })).unwrap();
            admin_log::record(&mut conn, at(9), "admin@bra.nrw.de", admin_log::USER_CREATED, "Anna.Muster@Kreis-Kleve.de", &json!({ "organisation": "05154", "roles": ["koordination"] })).unwrap();
            admin_log::record(&mut conn, at(10), "admin@bra.nrw.de", admin_log::ROLES_CHANGED, "anna.muster@kreis-kleve.de", &json!({ "before": ["koordination"], "after": ["admin"] })).unwrap();
            admin_log::record(&mut conn, at(11), admin_log::COMMAND_LINE, admin_log::PASSWORD_SET, "b_100%@kreis-kleve.de", &json!({})).unwrap();
            staff_token(&create_user(&mut conn, "admin@bra.nrw.de", "KFI", &[Role::Admin], None))
        };
        let koordination = staff_token(&create_user(&mut db.connection(), "k@kreis-soest.de", "05974", &[Role::Koordination], None));
        let pool = db.pool(2);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;

        // A change through the API is recorded with its actor and read back.
        let register = actix_test::TestRequest::post()
            .uri("/api/v1/organisations")
            .insert_header(("Authorization", format!("Bearer {admin}")))
            .set_json(json!({ "key": "SCHULAMT-KLE", "name": "Schulamt für den Kreis Kleve", "mailbox": "schulamt@kreis-kleve.de" }))
            .to_request();
        assert_eq!(actix_test::call_service(&app, register).await.status(), StatusCode::CREATED);

        let (status, all) = get!(app, "/api/v1/admin/events", admin);
        assert_eq!(status, StatusCode::OK, "{all}");
        assert_eq!((all["total"].clone(), all["page"].clone(), all["per_page"].clone()), (json!(5), json!(1), json!(20)));
        assert_eq!(listed(&all), [
            ("organisation_registered".to_string(), "SCHULAMT-KLE".to_string()),
            ("user_password_set".to_string(), "b_100%@kreis-kleve.de".to_string()),
            ("user_roles_changed".to_string(), "anna.muster@kreis-kleve.de".to_string()),
            ("user_created".to_string(), "Anna.Muster@Kreis-Kleve.de".to_string()),
            ("user_created".to_string(), "admin@bra.nrw.de".to_string()),
        ]);
        let newest = &all["items"][0];
        assert_eq!(newest["actor"], "admin@bra.nrw.de");
        assert_eq!(newest["details"], json!({ "name": "Schulamt für den Kreis Kleve", "kind": "partner" }));
        assert!(newest["at"].as_str().unwrap().ends_with('Z'), "{newest}");
        assert_eq!(all["items"][2]["details"], json!({ "before": ["koordination"], "after": ["admin"] }));
        assert_eq!(all["items"][2]["at"], "2026-11-02T10:00:00Z");

        // By kind; by text in the subject or the actor, in any case; LIKE's wildcards are text.
        let (_, created) = get!(app, "/api/v1/admin/events?kind=user_created", admin);
        assert_eq!(created["total"], 2);
        assert_eq!(listed(&created)[0].1, "Anna.Muster@Kreis-Kleve.de");
        let (_, anna) = get!(app, "/api/v1/admin/events?q=ANNA.muster", admin);
        assert_eq!(listed(&anna).iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["user_roles_changed", "user_created"]);
        let (_, by_actor) = get!(app, "/api/v1/admin/events?q=kommandozeile", admin);
        assert_eq!(listed(&by_actor), [("user_password_set".to_string(), "b_100%@kreis-kleve.de".to_string())]);
        let (_, percent) = get!(app, "/api/v1/admin/events?q=_100%25", admin);
        assert_eq!(percent["total"], 1, "{percent}");
        let (_, literal) = get!(app, "/api/v1/admin/events?q=a%25k", admin);
        assert_eq!(literal["total"], 0, "% is no wildcard: {literal}");
        let (_, both) = get!(app, "/api/v1/admin/events?kind=user_created&q=kreis-kleve", admin);
        assert_eq!(both["total"], 1);
        let (_, empty) = get!(app, "/api/v1/admin/events?kind=&q=", admin);
        assert_eq!(empty["total"], 5, "empty filters filter nothing");

        // Paged.
        let (_, second) = get!(app, "/api/v1/admin/events?per_page=2&page=2", admin);
        assert_eq!((second["total"].clone(), second["page"].clone(), second["per_page"].clone()), (json!(5), json!(2), json!(2)));
        assert_eq!(listed(&second), listed(&all)[2..4]);
        let (_, beyond) = get!(app, "/api/v1/admin/events?per_page=2&page=4", admin);
        assert_eq!(beyond["items"], json!([]));
        assert_eq!(beyond["total"], 5);

        // Bad queries.
        for (query, says) in [
            ("kind=user_deleted", "Unbekannte Art „user_deleted“"),
            ("page=0", "„page“ muss zwischen 1 und 1.000.000"),
            ("per_page=101", "„per_page“ zwischen 1 und 100"),
            ("page=zwei", ""),
            ("since=2026-01-01", ""),
        ] {
            let (status, body) = get!(app, format!("/api/v1/admin/events?{query}"), admin);
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
            assert!(body["detail"].as_str().unwrap_or("").contains(says), "{query}: {body}");
        }
        let (status, _) = get!(app, "/api/v1/admin/events", koordination);
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}

/// Runs raw SQL, as someone with access to the database would.
fn execute(conn: &mut vorgang::db::DbConnection, sql: &str) {
    diesel::sql_query(sql).execute(conn).unwrap();
}

/// A record of four entries, as administrators leave it.
fn four_entries(db: &TestDatabase) {
    let mut conn = db.connection();
    let at = |m| {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 5)
            .unwrap()
            .and_hms_nano_opt(9, m, 0, 123_456_789)
            .unwrap()
    };
    admin_log::record(
        &mut conn,
        at(1),
        admin_log::FIRST_START,
        admin_log::USER_CREATED,
        "admin@kfi.nrw.de",
        &json!({ "organisation": "KFI", "roles": ["admin"] }),
    )
    .unwrap();
    admin_log::record(
        &mut conn,
        at(2),
        "admin@kfi.nrw.de",
        admin_log::USER_CREATED,
        "anna@kreis-kleve.de",
        &json!({ "organisation": "05154", "roles": ["koordination"] }),
    )
    .unwrap();
    admin_log::record(
        &mut conn,
        at(3),
        "admin@kfi.nrw.de",
        admin_log::ROLES_CHANGED,
        "anna@kreis-kleve.de",
        &json!({ "before": ["koordination"], "after": ["admin"] }),
    )
    .unwrap();
    admin_log::record(
        &mut conn,
        at(4),
        "admin@kfi.nrw.de",
        admin_log::CASE_DISPOSED,
        "KI-05154-2014-0001",
        &json!({ "decision": "declined" }),
    )
    .unwrap();
}

fn audit_verify(db: &TestDatabase) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let output = crate::support::process::vorgang()
        .args(["audit", "verify"])
        .current_dir(dir.path())
        .env("VORGANG_DATABASE_URL", db.url_text())
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

both_backends! {
    fn the_record_is_a_hash_chain_that_shows_every_change_made_outside_vorgang(backend) {
        use vorgang::service::admin_chain::{self, EntryFields, RecordBreakReason as Reason};

        let db = TestDatabase::migrated(backend);
        four_entries(&db);
        let report = admin_chain::verify(&mut db.connection()).unwrap();
        assert_eq!((report.entries, report.broken), (4, None));
        let (code, stdout) = audit_verify(&db);
        assert_eq!(code, Some(0), "{stdout}");
        assert_eq!(stdout.lines().last(), Some("Das Verwaltungsprotokoll ist unversehrt (4 Einträge)."), "{stdout}");

        // The last entry rewritten with a matching hash: only the record's end tells.
        let rewritten_hash = admin_chain::entry_hash(&EntryFields {
            seq: 4,
            at: chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap().and_hms_nano_opt(9, 4, 0, 123_456_000).unwrap(),
            actor: "jemand@kfi.nrw.de",
            kind: admin_log::CASE_DISPOSED,
            subject: "KI-05154-2014-0001",
            details: r#"{"decision":"declined"}"#,
            prev_hash: &vorgang::db::schema::admin_events::table
                .filter(vorgang::db::schema::admin_events::seq.eq(3))
                .select(vorgang::db::schema::admin_events::hash)
                .first::<String>(&mut db.connection())
                .unwrap(),
        });
        let tampering: Vec<(&str, String, i64, Reason)> = vec![
            ("edited", "UPDATE admin_events SET details = '{}' WHERE seq = 2".into(), 2, Reason::HashMismatch),
            ("relinked", format!("UPDATE admin_events SET prev_hash = '{}' WHERE seq = 3", "0".repeat(64)), 3, Reason::PrevHashMismatch),
            ("removed inside", "DELETE FROM admin_events WHERE seq = 2".into(), 3, Reason::Gap { expected: 2, found: 3 }),
            ("removed at the end", "DELETE FROM admin_events WHERE seq = 4".into(), 4, Reason::Truncated { recorded: 4, last: 3 }),
            ("end moved back", "UPDATE admin_chain SET last_seq = 3".into(), 4, Reason::Unrecorded { recorded: 3 }),
            ("rewritten at the end", format!("UPDATE admin_events SET actor = 'jemand@kfi.nrw.de', hash = '{rewritten_hash}' WHERE seq = 4"), 4, Reason::EndMismatch),
            ("inserted", "INSERT INTO admin_events (at, actor, kind, subject, details) VALUES ('2026-12-05 10:00:00', 'x', 'user_created', 'y', '{}')".into(), 0, Reason::Unchained),
            ("end removed", "DELETE FROM admin_chain".into(), 0, Reason::EndMissing),
        ];
        for (what, sql, seq, reason) in tampering {
            let db = TestDatabase::migrated(backend);
            four_entries(&db);
            execute(&mut db.connection(), &sql);
            let report = admin_chain::verify(&mut db.connection()).unwrap();
            let broken = report.broken.unwrap_or_else(|| panic!("{what}: not detected"));
            assert_eq!((broken.seq, broken.reason), (seq, reason), "{what}");
            let (code, stdout) = audit_verify(&db);
            assert_eq!(code, Some(1), "{what}: {stdout}");
            assert!(stdout.lines().last().unwrap().starts_with("Verwaltungsprotokoll gebrochen"), "{what}: {stdout}");
        }
    }
}

both_backends! {
    fn entries_from_before_the_chain_are_chained_in_their_order_at_the_next_start(backend) {
        use vorgang::db::schema::admin_events;
        use vorgang::service::admin_chain::{self, RecordBreakReason};

        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        // As an installation upgraded from a version without the chain holds them.
        for (minute, subject) in [(1, "c@kreis-kleve.de"), (2, "a@kreis-kleve.de"), (3, "b@kreis-kleve.de")] {
            execute(&mut conn, &format!(
                "INSERT INTO admin_events (at, actor, kind, subject, details) VALUES ('2026-11-02 09:0{minute}:00', 'admin@kfi.nrw.de', 'user_created', '{subject}', '{{}}')"
            ));
        }
        let report = admin_chain::verify(&mut conn).unwrap();
        assert_eq!(report.broken.map(|b| b.reason), Some(RecordBreakReason::Unchained));

        // `vorgang migrate` (as every start) chains them.
        let dir = tempfile::tempdir().unwrap();
        let output = crate::support::process::vorgang()
            .arg("migrate")
            .current_dir(dir.path())
            .env("VORGANG_DATABASE_URL", db.url_text())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
        let chained: Vec<(i64, String)> = admin_events::table
            .order(admin_events::id)
            .select((admin_events::seq, admin_events::subject))
            .load(&mut conn)
            .unwrap();
        assert_eq!(chained, [(1, "c@kreis-kleve.de".to_string()), (2, "a@kreis-kleve.de".to_string()), (3, "b@kreis-kleve.de".to_string())]);
        assert_eq!(admin_chain::chain_legacy(&mut conn).unwrap(), 0, "nothing left to chain");

        // New entries follow them.
        admin_log::record(&mut conn, chrono::Utc::now().naive_utc(), "admin@kfi.nrw.de", admin_log::PASSWORD_RESET, "a@kreis-kleve.de", &json!({})).unwrap();
        let report = admin_chain::verify(&mut conn).unwrap();
        assert_eq!((report.entries, report.broken), (4, None));

        // An entry inserted past vorgang from then on is never taken into the chain, neither by
        // the next change nor by the next start.
        execute(&mut conn, "INSERT INTO admin_events (at, actor, kind, subject, details) VALUES ('2026-12-05 10:00:00', 'x@kfi.nrw.de', 'user_created', 'y@kreis-kleve.de', '{}')");
        admin_log::record(&mut conn, chrono::Utc::now().naive_utc(), "admin@kfi.nrw.de", admin_log::PASSWORD_RESET, "b@kreis-kleve.de", &json!({})).unwrap();
        assert_eq!(admin_chain::chain_legacy(&mut conn).unwrap(), 0);
        let report = admin_chain::verify(&mut conn).unwrap();
        assert_eq!((report.entries, report.broken.map(|b| b.reason)), (5, Some(RecordBreakReason::Unchained)));
    }
}

both_backends! {
    fn concurrent_changes_never_fork_the_record(backend) {
        use vorgang::service::admin_chain;

        let db = TestDatabase::migrated(backend);
        let pool = db.pool(4);
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let pool = pool.clone();
                std::thread::spawn(move || {
                    for i in 0..5 {
                        let mut conn = pool.get().unwrap();
                        let subject = format!("nutzer{t}-{i}@kreis-kleve.de");
                        vorgang::db::write_transaction(&mut conn, |conn| {
                            admin_log::record(conn, chrono::Utc::now().naive_utc(), "admin@kfi.nrw.de", admin_log::USER_CREATED, &subject, &json!({}))
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let report = admin_chain::verify(&mut db.connection()).unwrap();
        assert_eq!((report.entries, report.broken), (20, None));
    }
}

/// Rewrites the record from entry 2 on as someone who knows the format would: entry 2 gets
/// another actor, every later hash and the end are recomputed, so the chain alone is content.
fn rewrite_from_the_second_entry(conn: &mut vorgang::db::DbConnection) {
    use vorgang::db::schema::{admin_chain, admin_events};
    use vorgang::service::admin_chain::{EntryFields, entry_hash};

    type Row = (
        i64,
        i64,
        chrono::NaiveDateTime,
        String,
        String,
        String,
        String,
        String,
    );
    let rows: Vec<Row> = admin_events::table
        .order(admin_events::seq)
        .select((
            admin_events::id,
            admin_events::seq,
            admin_events::at,
            admin_events::actor,
            admin_events::kind,
            admin_events::subject,
            admin_events::details,
            admin_events::hash,
        ))
        .load(conn)
        .unwrap();
    let mut prev = rows[0].7.clone();
    for (id, seq, at, actor, kind, subject, details, _) in rows.into_iter().skip(1) {
        let actor = if seq == 2 {
            "jemand@kfi.nrw.de".to_string()
        } else {
            actor
        };
        let hash = entry_hash(&EntryFields {
            seq,
            at,
            actor: &actor,
            kind: &kind,
            subject: &subject,
            details: &details,
            prev_hash: &prev,
        });
        diesel::update(admin_events::table.find(id))
            .set((
                admin_events::actor.eq(&actor),
                admin_events::prev_hash.eq(&prev),
                admin_events::hash.eq(&hash),
            ))
            .execute(conn)
            .unwrap();
        prev = hash;
    }
    diesel::update(admin_chain::table)
        .set(admin_chain::last_hash.eq(&prev))
        .execute(conn)
        .unwrap();
}

fn audit(db: &TestDatabase, dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = crate::support::process::vorgang()
        .arg("audit")
        .args(args)
        .current_dir(dir)
        .env("VORGANG_DATABASE_URL", db.url_text())
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

both_backends! {
    fn published_heads_reveal_a_record_rewritten_with_recomputed_hashes(backend) {
        use vorgang::service::admin_chain;

        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        four_entries(&db);
        let (code, stdout, stderr) = audit(&db, dir.path(), &["heads"]);
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        let end = admin_chain::current_head(&mut db.connection()).unwrap().unwrap();
        assert_eq!(end.seq, 4);
        assert_eq!(stdout.lines().last(), Some(format!("verwaltung\t4\t{}\tVerwaltungsprotokoll", end.hash).as_str()), "{stdout}");
        let heads_file = dir.path().join("staende.tsv");
        std::fs::write(&heads_file, &stdout).unwrap();
        let heads_arg = heads_file.to_str().unwrap();

        // The record grows after publication: still in agreement.
        admin_log::record(&mut db.connection(), chrono::Utc::now().naive_utc(), "admin@kfi.nrw.de", admin_log::PASSWORD_RESET, "anna@kreis-kleve.de", &json!({})).unwrap();
        let (code, stdout, _) = audit(&db, dir.path(), &["verify", "--heads", heads_arg]);
        assert_eq!(code, Some(0), "{stdout}");
        assert_eq!(stdout.lines().last(), Some("Das Verwaltungsprotokoll ist unversehrt (5 Einträge). Der veröffentlichte Stand stimmt überein."), "{stdout}");

        // Rewritten with recomputed hashes: the chain alone is content, the published head is not.
        rewrite_from_the_second_entry(&mut db.connection());
        assert_eq!(audit(&db, dir.path(), &["verify"]).0, Some(0));
        let (code, stdout, _) = audit(&db, dir.path(), &["verify", "--heads", heads_arg]);
        assert_eq!(code, Some(1), "{stdout}");
        let last = stdout.lines().last().unwrap();
        assert!(last.starts_with("Verwaltungsprotokoll gebrochen bei Eintrag Nr. 4"), "{stdout}");
        assert!(last.contains("Hash weicht vom veröffentlichten Stand ab"), "{stdout}");

        // The published entry gone altogether, the end moved back with it.
        execute(&mut db.connection(), "DELETE FROM admin_events WHERE seq >= 4");
        let third: String = vorgang::db::schema::admin_events::table
            .filter(vorgang::db::schema::admin_events::seq.eq(3))
            .select(vorgang::db::schema::admin_events::hash)
            .first(&mut db.connection())
            .unwrap();
        execute(&mut db.connection(), &format!("UPDATE admin_chain SET last_seq = 3, last_hash = '{third}'"));
        assert_eq!(audit(&db, dir.path(), &["verify"]).0, Some(0));
        let (code, stdout, _) = audit(&db, dir.path(), &["verify", "--heads", heads_arg]);
        assert_eq!(code, Some(1), "{stdout}");
        assert!(stdout.lines().last().unwrap().ends_with("Eintrag fehlt, den der veröffentlichte Stand verzeichnet"), "{stdout}");

        // No heads are published from a broken record.
        execute(&mut db.connection(), "UPDATE admin_events SET details = '{}' WHERE seq = 1");
        let (code, stdout, stderr) = audit(&db, dir.path(), &["heads"]);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 2, "{stderr}");
        assert!(lines[0].starts_with("Verwaltungsprotokoll gebrochen bei Eintrag Nr. 1"), "{stderr}");
        assert_eq!(lines[1], "Keine Journalstände ausgegeben: das Verwaltungsprotokoll ist gebrochen.");
    }
}
