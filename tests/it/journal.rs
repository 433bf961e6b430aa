//! The tamper-evident journal on both backends: appending, listing, verifying, detecting
//! tampering, concurrent appenders, and `vorgang audit verify` as a process.

use chrono::{NaiveDate, NaiveDateTime, Timelike};
use diesel::prelude::*;
use serde_json::json;
use vorgang::db::schema::case_events;
use vorgang::db::{DbConnection, DbError, Deferred, write_transaction};
use vorgang::journal::{self, BreakReason, ChainHead, GENESIS_HASH, JournalEntry, NewEvent};

use crate::support::cases::insert_case;
use crate::support::process::vorgang;
use crate::support::{Backend, TestDatabase};

fn at(minute: u32, nanos: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 3, 3)
        .unwrap()
        .and_hms_nano_opt(9, minute, 0, nanos)
        .unwrap()
}

fn event(n: u32) -> NewEvent {
    NewEvent {
        at: at(n % 60, 0),
        actor: "koordination@kreis-kleve.de".into(),
        kind: "test.event".into(),
        payload: json!({"n": n, "text": "Grüße"}),
    }
}

fn append(conn: &mut DbConnection, case_id: i64, events: &[NewEvent]) -> Vec<JournalEntry> {
    write_transaction(conn, |conn| journal::append(conn, case_id, events)).unwrap()
}

/// `journal::append_after` as the commands use it: deferred, then sent.
fn append_after(
    conn: &mut DbConnection,
    case_id: i64,
    events: &[NewEvent],
    head: ChainHead,
) -> Result<(), DbError> {
    let mut deferred = Deferred::new();
    let newest = journal::newest_after(case_id, head.seq, events.len())?;
    journal::append_after(conn, &mut deferred, case_id, events, head)?;
    journal::anchor(conn, &mut deferred, case_id, newest)?;
    deferred.flush(conn)
}

/// A case with `n` journal entries; returns its id.
fn case_with_entries(conn: &mut DbConnection, aktenzeichen: &str, n: u32) -> i64 {
    let case_id = insert_case(conn, aktenzeichen);
    let events: Vec<NewEvent> = (1..=n).map(event).collect();
    append(conn, case_id, &events);
    case_id
}

fn execute(conn: &mut DbConnection, sql: &str) {
    diesel::sql_query(sql).execute(conn).unwrap();
}

both_backends! {
    fn append_assigns_consecutive_numbers_and_links_the_chain(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let case_id = insert_case(&mut conn, "05154-KI-2026-0001");

        let precise = at(1, 123_456_789);
        let first = NewEvent {
            at: precise,
            actor: "Jürgen Beispiel".into(),
            kind: "case.created".into(),
            payload: json!({"z": 1, "a": {"y": [1, 2.5, null], "b": "\"Ärger\""}}),
        };
        let written = append(&mut conn, case_id, &[first, event(2)]);
        let more = append(&mut conn, case_id, &[event(3)]);
        assert_eq!(written.len(), 2);
        assert_eq!(more.len(), 1);

        let listed = journal::list(&mut conn, case_id).unwrap();
        assert_eq!(listed.len(), 3);
        assert_eq!(listed[..2], written[..]);
        assert_eq!(listed[2], more[0]);
        assert_eq!(listed.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(listed[0].prev_hash, GENESIS_HASH);
        assert_eq!(listed[1].prev_hash, listed[0].hash);
        assert_eq!(listed[2].prev_hash, listed[1].hash);
        assert!(listed.iter().all(|e| e.hash.len() == 64 && e.case_id == case_id));

        // Truncated to microseconds before storing, and read back exactly.
        assert_eq!(listed[0].at, precise.with_nanosecond(123_456_000).unwrap());
        assert_eq!(written[0].at, listed[0].at);
        assert_eq!(
            listed[0].payload,
            json!({"a": {"b": "\"Ärger\"", "y": [1, 2.5, null]}, "z": 1})
        );

        // The stored payload is canonical JSON (sorted keys, no whitespace).
        let stored: String = case_events::table
            .filter(case_events::id.eq(listed[0].id))
            .select(case_events::payload)
            .first(&mut conn)
            .unwrap();
        assert_eq!(stored, r#"{"a":{"b":"\"Ärger\"","y":[1,2.5,null]},"z":1}"#);

        // The API shape: no row ids, UTC timestamps with six fractional digits.
        let api = serde_json::to_value(&listed[0]).unwrap();
        assert_eq!(api["at"], "2026-03-03T09:01:00.123456Z");
        assert_eq!(api["seq"], 1);
        assert_eq!(api["actor"], "Jürgen Beispiel");
        assert_eq!(api["kind"], "case.created");
        assert_eq!(api["hash"], listed[0].hash.as_str());
        assert!(api.get("id").is_none() && api.get("case_id").is_none());

        assert!(journal::verify_all(&mut conn).unwrap().is_empty());
        assert!(journal::list(&mut conn, case_id + 1000).unwrap().is_empty());
    }
}

both_backends! {
    fn append_needs_a_transaction_and_an_existing_case(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let case_id = insert_case(&mut conn, "05154-KI-2026-0001");
        let outside = journal::append(&mut conn, case_id, &[event(1)]);
        assert!(
            matches!(outside, Err(DbError::Query(diesel::result::Error::NotInTransaction))),
            "{outside:?}"
        );
        let missing = write_transaction(&mut conn, |conn| journal::append(conn, case_id + 99, &[event(1)]));
        assert!(
            matches!(missing, Err(DbError::Query(diesel::result::Error::NotFound))),
            "{missing:?}"
        );
        assert!(append(&mut conn, case_id, &[]).is_empty());
        assert!(journal::list(&mut conn, case_id).unwrap().is_empty());
    }
}

both_backends! {
    fn a_new_cases_journal_starts_at_the_genesis_and_only_there(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let case_id = insert_case(&mut conn, "05154-KI-2026-0001");
        write_transaction(&mut conn, |conn| append_after(conn, case_id, &[event(1), event(2)], ChainHead::genesis()))
            .unwrap();
        let first = journal::list(&mut conn, case_id).unwrap();
        assert_eq!(first.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(first[0].prev_hash, GENESIS_HASH);
        assert_eq!(first[1].prev_hash, first[0].hash);
        // The audit recomputes every hash from the genesis.
        let report = journal::verify(&mut conn).unwrap();
        assert!(report.intact(), "{report:?}");
        assert_eq!((report.journals, report.entries), (1, 2));
        // Later entries chain on as usual.
        append(&mut conn, case_id, &[event(3)]);
        assert!(journal::verify(&mut conn).unwrap().intact());
        let first: Vec<JournalEntry> = journal::list(&mut conn, case_id).unwrap();

        // A journal that has entries already is not started again: the insert is refused and
        // nothing changes.
        let again = write_transaction(&mut conn, |conn| append_after(conn, case_id, &[event(4)], ChainHead::genesis()));
        assert!(
            matches!(again, Err(DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation, _)))),
            "{again:?}"
        );
        assert_eq!(journal::list(&mut conn, case_id).unwrap(), first);
        // So is an entry after a head that is no longer the newest (a caller not holding the case).
        let stale = ChainHead { seq: first[1].seq, hash: first[1].hash.clone() };
        let forked = write_transaction(&mut conn, |conn| append_after(conn, case_id, &[event(4)], stale));
        assert!(
            matches!(forked, Err(DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation, _)))),
            "{forked:?}"
        );
        assert_eq!(journal::list(&mut conn, case_id).unwrap(), first);
        // After the true head it chains on.
        let newest = ChainHead { seq: first[2].seq, hash: first[2].hash.clone() };
        write_transaction(&mut conn, |conn| append_after(conn, case_id, &[event(4)], newest)).unwrap();
        assert_eq!(journal::list(&mut conn, case_id).unwrap().len(), 4);
        assert!(journal::verify(&mut conn).unwrap().intact());
        // Outside a transaction, SQLite refuses (its insert would run at once, unguarded); on
        // PostgreSQL the write waits for the flush, whose one statement the unique key guards.
        let outside = append_after(&mut conn, case_id, &[event(5)], ChainHead::genesis());
        match backend {
            Backend::Sqlite => assert!(
                matches!(outside, Err(DbError::Query(diesel::result::Error::NotInTransaction))),
                "{outside:?}"
            ),
            Backend::Postgres => assert!(
                outside.as_ref().is_err_and(journal::is_head_taken),
                "{outside:?}"
            ),
        }
        assert_eq!(journal::list(&mut conn, case_id).unwrap().len(), 4);
    }
}

both_backends! {
    fn intact_chains_verify_and_are_counted(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        case_with_entries(&mut conn, "05154-KI-2026-0001", 3);
        case_with_entries(&mut conn, "05154-KI-2026-0002", 1);
        insert_case(&mut conn, "05154-KI-2026-0003");
        let report = journal::verify(&mut conn).unwrap();
        assert!(report.intact(), "{report:?}");
        assert_eq!((report.journals, report.entries), (2, 4));
    }
}

both_backends! {
    fn an_edited_payload_is_detected_and_named(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let intact = case_with_entries(&mut conn, "05154-KI-2026-0001", 3);
        let tampered = case_with_entries(&mut conn, "05154-KI-2026-0002", 3);
        let victim = journal::list(&mut conn, tampered).unwrap()[1].clone();
        execute(
            &mut conn,
            &format!(r#"UPDATE case_events SET payload = '{{"n":99,"text":"Grüße"}}' WHERE id = {}"#, victim.id),
        );

        let breaks = journal::verify_all(&mut conn).unwrap();
        assert_eq!(breaks.len(), 1, "{breaks:?}");
        let found = &breaks[0];
        assert_ne!(found.case_id, intact);
        assert_eq!(found.case_id, tampered);
        assert_eq!(found.aktenzeichen.as_deref(), Some("05154-KI-2026-0002"));
        assert_eq!((found.seq, found.event_id), (2, Some(victim.id)));
        assert_eq!(found.reason, BreakReason::HashMismatch);
        assert_eq!(found.reason.to_string(), "Hash stimmt nicht: Eintrag wurde verändert");
        assert_eq!(
            found.to_string(),
            format!(
                "Journal von Vorgang 05154-KI-2026-0002 (ID {tampered}) gebrochen bei Eintrag Nr. 2 \
                 (Ereignis-ID {}): Hash stimmt nicht: Eintrag wurde verändert",
                victim.id
            )
        );
    }
}

both_backends! {
    fn an_edited_actor_or_time_is_detected(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let first = case_with_entries(&mut conn, "05154-KI-2026-0001", 2);
        let second = case_with_entries(&mut conn, "05154-KI-2026-0002", 2);
        execute(&mut conn, &format!("UPDATE case_events SET actor = 'jemand' WHERE case_id = {first} AND seq = 1"));
        let shifted = at(30, 0).format("%Y-%m-%d %H:%M:%S").to_string();
        execute(&mut conn, &format!("UPDATE case_events SET at = '{shifted}' WHERE case_id = {second} AND seq = 2"));
        let breaks = journal::verify_all(&mut conn).unwrap();
        let found: Vec<_> = breaks.iter().map(|b| (b.case_id, b.seq, b.reason.clone())).collect();
        assert_eq!(
            found,
            [(first, 1, BreakReason::HashMismatch), (second, 2, BreakReason::HashMismatch)]
        );
    }
}

both_backends! {
    fn a_deleted_entry_is_reported_as_a_gap(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let case_id = case_with_entries(&mut conn, "05154-KI-2026-0001", 6);
        let entries = journal::list(&mut conn, case_id).unwrap();
        execute(&mut conn, &format!("DELETE FROM case_events WHERE id = {}", entries[3].id));

        let breaks = journal::verify_all(&mut conn).unwrap();
        assert_eq!(breaks.len(), 1, "{breaks:?}");
        assert_eq!(breaks[0].seq, 5);
        assert_eq!(breaks[0].event_id, Some(entries[4].id));
        assert_eq!(breaks[0].reason, BreakReason::Gap { expected: 4, found: 5 });
        assert_eq!(
            breaks[0].reason.to_string(),
            "Lücke in der Nummerierung (erwartet 4, gefunden 5)"
        );

        // Losing the first entry is a gap at the start.
        execute(&mut conn, &format!("DELETE FROM case_events WHERE id = {}", entries[0].id));
        let breaks = journal::verify_all(&mut conn).unwrap();
        assert_eq!(breaks[0].reason, BreakReason::Gap { expected: 1, found: 2 });
    }
}

both_backends! {
    fn removing_the_newest_entries_is_detected_by_the_case_anchor(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let intact = case_with_entries(&mut conn, "05154-KI-2026-0001", 2);
        let case_id = case_with_entries(&mut conn, "05154-KI-2026-0002", 5);
        // What is left is a valid chain; only the case's record of five entries tells.
        execute(&mut conn, &format!("DELETE FROM case_events WHERE case_id = {case_id} AND seq >= 4"));
        let breaks = journal::verify_all(&mut conn).unwrap();
        assert_eq!(breaks.len(), 1, "{breaks:?}");
        assert_eq!((breaks[0].case_id, breaks[0].seq, breaks[0].event_id), (case_id, 4, None));
        assert_eq!(breaks[0].reason, BreakReason::Truncated { recorded: 5, last: 3 });
        assert_eq!(
            breaks[0].to_string(),
            format!(
                "Journal von Vorgang 05154-KI-2026-0002 (ID {case_id}) gebrochen bei Eintrag Nr. 4: \
                 Einträge am Ende fehlen (der Vorgang verzeichnet 5, vorhanden bis Nr. 3)"
            )
        );

        // A journal removed entirely is found too, although no entry of it is left to walk.
        execute(&mut conn, &format!("DELETE FROM case_events WHERE case_id = {case_id}"));
        let report = journal::verify(&mut conn).unwrap();
        assert_eq!(report.journals, 1, "only the intact journal has entries");
        assert_eq!(report.breaks.len(), 1, "{:?}", report.breaks);
        assert_eq!(report.breaks[0].case_id, case_id);
        assert_ne!(report.breaks[0].case_id, intact);
        assert_eq!(report.breaks[0].reason, BreakReason::Truncated { recorded: 5, last: 0 });
        assert_eq!(report.breaks[0].reason.to_string(), "alle Einträge fehlen (der Vorgang verzeichnet 5)");
    }
}

both_backends! {
    fn an_entry_the_case_did_not_record_is_reported(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let case_id = case_with_entries(&mut conn, "05154-KI-2026-0001", 3);
        let entries = journal::list(&mut conn, case_id).unwrap();
        // A correctly chained entry written without the case's record of it (as by SQL from
        // outside, copying what a writer would insert).
        let head = ChainHead { seq: entries[2].seq, hash: entries[2].hash.clone() };
        write_transaction(&mut conn, |conn| {
            let mut deferred = Deferred::new();
            journal::append_after(conn, &mut deferred, case_id, &[event(4)], head)?;
            deferred.flush(conn)
        })
        .unwrap();
        let added = journal::list(&mut conn, case_id).unwrap()[3].id;
        let breaks = journal::verify_all(&mut conn).unwrap();
        assert_eq!(breaks.len(), 1, "{breaks:?}");
        assert_eq!((breaks[0].seq, breaks[0].event_id), (4, Some(added)));
        assert_eq!(breaks[0].reason, BreakReason::Unrecorded { recorded: 3 });
    }
}

both_backends! {
    fn a_changed_prev_hash_is_detected(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let case_id = case_with_entries(&mut conn, "05154-KI-2026-0001", 4);
        let entries = journal::list(&mut conn, case_id).unwrap();
        execute(
            &mut conn,
            &format!("UPDATE case_events SET prev_hash = '{}' WHERE id = {}", "a".repeat(64), entries[2].id),
        );
        let breaks = journal::verify_all(&mut conn).unwrap();
        assert_eq!(breaks.len(), 1);
        assert_eq!((breaks[0].seq, breaks[0].event_id), (3, Some(entries[2].id)));
        assert_eq!(breaks[0].reason, BreakReason::PrevHashMismatch);
        assert_eq!(breaks[0].reason.to_string(), "Vorgänger-Hash passt nicht");
    }
}

both_backends! {
    fn a_rewritten_entry_with_a_fresh_hash_breaks_the_next_link(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let case_id = case_with_entries(&mut conn, "05154-KI-2026-0001", 3);
        let entries = journal::list(&mut conn, case_id).unwrap();
        // A forger who edits entry 2 and stores a matching hash for it still breaks entry 3.
        let forged_payload = r#"{"n":2,"text":"gefälscht"}"#;
        let forged_hash = journal::hash::entry_hash(&journal::hash::HashInput {
            case_id,
            seq: 2,
            at: entries[1].at,
            actor: &entries[1].actor,
            kind: &entries[1].kind,
            payload: forged_payload,
            prev_hash: &entries[1].prev_hash,
        });
        execute(
            &mut conn,
            &format!(
                "UPDATE case_events SET payload = '{forged_payload}', hash = '{forged_hash}' WHERE id = {}",
                entries[1].id
            ),
        );
        let breaks = journal::verify_all(&mut conn).unwrap();
        assert_eq!(breaks.len(), 1);
        assert_eq!(breaks[0].seq, 3);
        assert_eq!(breaks[0].reason, BreakReason::PrevHashMismatch);
    }
}

both_backends! {
    fn long_journals_are_verified_across_pages(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let case_id = insert_case(&mut conn, "05154-KI-2026-0001");
        let events: Vec<NewEvent> = (1..=2_345).map(event).collect();
        append(&mut conn, case_id, &events);
        let report = journal::verify(&mut conn).unwrap();
        assert!(report.intact(), "{report:?}");
        assert_eq!(report.entries, 2_345);

        execute(&mut conn, &format!("UPDATE case_events SET kind = 'x' WHERE case_id = {case_id} AND seq = 2001"));
        let breaks = journal::verify_all(&mut conn).unwrap();
        assert_eq!(breaks.len(), 1);
        assert_eq!(breaks[0].seq, 2001);
    }
}

both_backends! {
    fn concurrent_appends_to_one_case_keep_a_valid_chain(backend) {
        const THREADS: usize = 6;
        const PER_THREAD: u32 = 12;
        let db = TestDatabase::migrated(backend);
        let case_id = insert_case(&mut db.connection(), "05154-KI-2026-0001");
        let pool = db.pool(THREADS as u32);
        let start = std::sync::Arc::new(std::sync::Barrier::new(THREADS));
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let pool = pool.clone();
                let start = start.clone();
                std::thread::spawn(move || {
                    let mut conn = pool.get().unwrap();
                    start.wait();
                    for i in 0..PER_THREAD {
                        let events = [event(i), event(i + 100)];
                        let written = write_transaction(&mut conn, |conn| {
                            let written = journal::append(conn, case_id, &events)?;
                            // Widen the window between reading the chain head and committing.
                            std::thread::sleep(std::time::Duration::from_millis(1));
                            Ok::<_, DbError>(written)
                        })
                        .unwrap_or_else(|e| panic!("thread {t}: {e}"));
                        assert_eq!(written[1].seq, written[0].seq + 1);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let mut conn = pool.get().unwrap();
        let entries = journal::list(&mut conn, case_id).unwrap();
        let total = THREADS * PER_THREAD as usize * 2;
        assert_eq!(entries.len(), total);
        assert!(entries.iter().enumerate().all(|(i, e)| e.seq as usize == i + 1));
        assert!(journal::verify_all(&mut conn).unwrap().is_empty());
    }
}

fn audit_verify(db: &TestDatabase, dir: &std::path::Path) -> std::process::Output {
    vorgang()
        .args(["audit", "verify"])
        .current_dir(dir)
        .env("VORGANG_DATABASE_URL", db.url_text())
        .output()
        .unwrap()
}

both_backends! {
    fn audit_verify_exits_0_when_intact_and_1_naming_the_broken_case(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let mut conn = db.connection();
        case_with_entries(&mut conn, "05154-KI-2026-0001", 3);
        let broken = case_with_entries(&mut conn, "05154-KI-2026-0002", 2);

        let output = audit_verify(&db, dir.path());
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert_eq!(output.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
        assert_eq!(stdout, "Alle 2 Journale sind unversehrt (5 Einträge).\nDas Verwaltungsprotokoll ist noch leer.\n");

        execute(&mut conn, &format!("UPDATE case_events SET payload = '{{}}' WHERE case_id = {broken} AND seq = 2"));
        let output = audit_verify(&db, dir.path());
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert_eq!(output.status.code(), Some(1), "{stdout}");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 2, "{stdout}");
        assert_eq!(lines[1], "Das Verwaltungsprotokoll ist noch leer.", "{stdout}");
        assert!(lines[0].contains("05154-KI-2026-0002"), "{stdout}");
        assert!(lines[0].contains("Eintrag Nr. 2"), "{stdout}");
        assert!(lines[0].ends_with("Hash stimmt nicht: Eintrag wurde verändert"), "{stdout}");
    }
}

#[test]
fn audit_verify_exits_2_when_the_database_cannot_be_checked() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("fehlt.db");
    let output = vorgang()
        .args(["audit", "verify"])
        .current_dir(dir.path())
        .env(
            "VORGANG_DATABASE_URL",
            format!("sqlite://{}", missing.display()),
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("vorgang: Einstellung database_url:"),
        "{stderr}"
    );
    assert!(stderr.contains("existiert nicht"), "{stderr}");
    assert!(!missing.exists(), "the check must not create the database");
    assert!(output.stdout.is_empty());

    // An existing but unmigrated database is not "intact" either.
    let empty = TestDatabase::empty(Backend::Sqlite);
    drop(empty.connection());
    let output = audit_verify(&empty, dir.path());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("vorgang migrate"), "{stderr}");
}

fn audit(db: &TestDatabase, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    vorgang()
        .arg("audit")
        .args(args)
        .current_dir(dir)
        .env("VORGANG_DATABASE_URL", db.url_text())
        .output()
        .unwrap()
}

/// What someone with write access to the database can do that the chain alone cannot show:
/// alter an entry and recompute every hash after it, so the chain is valid again.
fn rewrite_consistently(conn: &mut DbConnection, case_id: i64, first_payload: &str) {
    type Row = (i64, i32, NaiveDateTime, String, String, String);
    let rows: Vec<Row> = case_events::table
        .filter(case_events::case_id.eq(case_id))
        .order(case_events::seq)
        .select((
            case_events::id,
            case_events::seq,
            case_events::at,
            case_events::actor,
            case_events::kind,
            case_events::payload,
        ))
        .load(conn)
        .unwrap();
    let mut prev = GENESIS_HASH.to_string();
    for (id, seq, at, actor, kind, payload) in rows {
        let payload = if seq == 1 {
            first_payload.to_string()
        } else {
            payload
        };
        let hash = journal::hash::entry_hash(&journal::hash::HashInput {
            case_id,
            seq,
            at,
            actor: &actor,
            kind: &kind,
            payload: &payload,
            prev_hash: &prev,
        });
        diesel::update(case_events::table.find(id))
            .set((
                case_events::payload.eq(&payload),
                case_events::prev_hash.eq(&prev),
                case_events::hash.eq(&hash),
            ))
            .execute(conn)
            .unwrap();
        prev = hash;
    }
}

both_backends! {
    fn published_heads_reveal_a_journal_rewritten_with_recomputed_hashes(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let mut conn = db.connection();
        let kept = case_with_entries(&mut conn, "05154-KI-2026-0001", 3);
        let rewritten = case_with_entries(&mut conn, "05154-KI-2026-0002", 2);

        let output = audit(&db, dir.path(), &["heads"]);
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert_eq!(output.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 3, "{stdout}");
        assert!(lines[0].starts_with("# vorgang Journalstände vom "), "{stdout}");
        let newest = |case_id: i64| journal::list(&mut db.connection(), case_id).unwrap().pop().unwrap();
        let head = newest(kept);
        assert_eq!(lines[1], format!("{kept}\t3\t{}\t05154-KI-2026-0001", head.hash));
        assert_eq!(lines[2], format!("{rewritten}\t2\t{}\t05154-KI-2026-0002", newest(rewritten).hash));
        let heads_file = dir.path().join("journalstaende.tsv");
        std::fs::write(&heads_file, &stdout).unwrap();
        let heads_arg = heads_file.to_str().unwrap();

        // The journals grow after publication: still in agreement.
        append(&mut conn, kept, &[event(4)]);
        let output = audit(&db, dir.path(), &["verify", "--heads", heads_arg]);
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert_eq!(output.status.code(), Some(0), "{stdout}");
        assert_eq!(
            stdout,
            "Alle 2 Journale sind unversehrt (6 Einträge). Alle 2 veröffentlichten Journalstände stimmen überein.\nDas Verwaltungsprotokoll ist noch leer.\n"
        );

        // Rewritten with recomputed hashes: the chain alone is content, the heads are not.
        rewrite_consistently(&mut conn, rewritten, r#"{"n":999}"#);
        let output = audit(&db, dir.path(), &["verify"]);
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stdout));
        let output = audit(&db, dir.path(), &["verify", "--heads", heads_arg]);
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert_eq!(output.status.code(), Some(1), "{stdout}");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 2, "{stdout}");
        assert!(lines[0].starts_with(&format!("Journal von Vorgang 05154-KI-2026-0002 (ID {rewritten}) gebrochen bei Eintrag Nr. 2")), "{stdout}");
        assert!(lines[0].contains("weicht vom veröffentlichten Journalstand ab"), "{stdout}");

        // A published entry that is gone altogether (and the case's anchor moved back with it).
        execute(&mut conn, &format!("DELETE FROM case_events WHERE case_id = {kept} AND seq >= 3"));
        execute(&mut conn, &format!("UPDATE cases SET journal_seq = 2 WHERE id = {kept}"));
        let output = audit(&db, dir.path(), &["verify", "--heads", heads_arg]);
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert_eq!(output.status.code(), Some(1), "{stdout}");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 3, "{stdout}");
        assert!(lines[0].contains("05154-KI-2026-0001") && lines[0].contains("Eintrag Nr. 3"), "{stdout}");
        assert!(lines[0].ends_with("Eintrag fehlt, den der veröffentlichte Journalstand verzeichnet"), "{stdout}");

        // Heads are not published from a broken journal.
        execute(&mut conn, &format!("UPDATE case_events SET payload = '{{}}' WHERE case_id = {kept} AND seq = 1"));
        // The breaks go to stderr: stdout is the file the heads are redirected to.
        let output = audit(&db, dir.path(), &["heads"]);
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(output.stdout.is_empty(), "{}", String::from_utf8_lossy(&output.stdout));
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 2, "{stderr}");
        assert!(lines[0].contains("Eintrag Nr. 1") && lines[0].contains("Hash stimmt nicht"), "{stderr}");
        assert_eq!(lines[1], "Keine Journalstände ausgegeben: 1 Journal ist gebrochen.");
    }
}

#[test]
fn audit_verify_refuses_an_unreadable_heads_file_before_checking() {
    let db = TestDatabase::migrated(Backend::Sqlite);
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("fehlt.tsv");
    let output = audit(
        &db,
        dir.path(),
        &["verify", "--heads", missing.to_str().unwrap()],
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("fehlt.tsv: nicht lesbar"), "{stderr}");
    assert!(output.stdout.is_empty());

    let garbled = dir.path().join("kaputt.tsv");
    std::fs::write(&garbled, "# Kommentar\n1\t2\tnicht-hex\tKI-1\n").unwrap();
    let output = audit(
        &db,
        dir.path(),
        &["verify", "--heads", garbled.to_str().unwrap()],
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("kaputt.tsv: Zeile 2: der Hash hat nicht 64 Hexadezimalziffern"),
        "{stderr}"
    );
}
