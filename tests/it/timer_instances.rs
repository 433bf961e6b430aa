//! Several `vorgang serve` processes on one database, as operators run them: on PostgreSQL they
//! share the due timers (each fires exactly once, also when one of them is killed holding
//! claims); on SQLite a second process is refused.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeDelta, TimeZone, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use vorgang::db::DbConnection;
use vorgang::db::models::{Organisation, Role};
use vorgang::db::schema::{case_events, outbox, timers};
use vorgang::engine::{Actor, Clock};
use vorgang::service::cases::{self, Invocation};

use crate::support::auth::TEST_SECRET;
use crate::support::db::postgres_available;
use crate::support::process::{RunningServer, http};
use crate::support::{Backend, TestDatabase};

/// The day in Germany right now, as the servers see it.
fn today() -> NaiveDate {
    vorgang::service::clock::now().today
}

fn clock_on(day: NaiveDate) -> Clock {
    vorgang::service::clock::at(Utc.from_utc_datetime(&day.and_hms_opt(6, 0, 0).unwrap()))
}

/// Starts `count` ki-antrag cases of the Kreis Soest and enters their consultation 26 days ago,
/// on two threads. The four-week deadline then ends in two to six days (§ 193 BGB may move it
/// by up to four), so each case's reminder (a week before) is due today and its deadline timer
/// is not: every case has exactly one due timer, and its firing order cannot matter.
fn seed_due_reminders(db: &TestDatabase, count: usize) {
    let pool = db.pool(4);
    let dir = tempfile::tempdir().unwrap();
    let api = crate::support::api::state(&pool, dir.path());
    let mut conn = pool.get().unwrap();
    crate::support::auth::create_user(
        &mut conn,
        "k@kreis-soest.de",
        "05974",
        &[Role::Koordination],
        None,
    );
    let soest = Organisation::find_by_key(&mut conn, "05974")
        .unwrap()
        .unwrap();
    drop(conn);
    let started = clock_on(today() - TimeDelta::days(26));
    let actor = Actor {
        id: "k@kreis-soest.de".into(),
        roles: vec!["koordination".into()],
    };
    std::thread::scope(|scope| {
        for part in [count / 2, count - count / 2] {
            let (pool, api, soest, actor, started) = (&pool, &api, &soest, &actor, &started);
            scope.spawn(move || {
                let ctx = api.case_context();
                let mut conn = pool.get().unwrap();
                let allow = |_| Ok(());
                for _ in 0..part {
                    let case = cases::start_case(
                        &mut conn,
                        &ctx,
                        "ki-antrag",
                        soest,
                        crate::beteiligung::application(),
                        actor,
                        started,
                    )
                    .unwrap();
                    let call = Invocation {
                        actor,
                        clock: started,
                        check: &allow,
                    };
                    cases::take_action(
                        &mut conn,
                        &ctx,
                        case.row.id,
                        case.row.version,
                        "beteiligung_starten",
                        None,
                        None,
                        call,
                    )
                    .unwrap();
                }
            });
        }
    });
}

/// Timers due today that have not fired.
fn unfired_due(conn: &mut DbConnection) -> i64 {
    timers::table
        .filter(timers::status.eq("scheduled"))
        .filter(timers::due.le(today()))
        .count()
        .get_result(conn)
        .unwrap()
}

/// Starts `vorgang serve` on the shared database, polling every second, with its own data
/// directory (mail as files there). Secret and public URL are shared, as behind one load
/// balancer: a reminder link must not depend on the process that sent it.
fn serve(dir: &Path, database_url: &str, lease_secs: &str) -> RunningServer {
    let workflows = crate::support::partners::root().join("workflows");
    RunningServer::start(
        dir,
        &[
            ("VORGANG_DATABASE_URL", database_url),
            ("VORGANG_WORKFLOWS_DIR", workflows.to_str().unwrap()),
            ("VORGANG_DATA_DIR", dir.join("data").to_str().unwrap()),
            ("VORGANG_SECRET", TEST_SECRET),
            ("VORGANG_PUBLIC_URL", "https://vorgang.test"),
            ("VORGANG_TIMER_POLL_SECS", "1"),
            ("VORGANG_TIMER_LEASE_SECS", lease_secs),
        ],
    )
}

/// Waits (at most `limit`) until no due timer is left unfired.
fn wait_until_all_fired(conn: &mut DbConnection, limit: Duration) {
    let started = Instant::now();
    loop {
        let left = unfired_due(conn);
        if left == 0 {
            return;
        }
        assert!(
            started.elapsed() < limit,
            "{left} due timers still unfired after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Every due timer fired exactly once: the row says `fired`, the case journal has one
/// `timer_fired` entry, and each partner of each case got one reminder.
fn assert_each_fired_once(conn: &mut DbConnection, cases: i64) {
    let fired: i64 = timers::table
        .filter(timers::status.eq("fired"))
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(fired, cases, "one fired reminder timer per case");
    let cancelled: i64 = timers::table
        .filter(timers::status.eq("cancelled"))
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(cancelled, 0, "no timer was closed as stale");

    let journal: Vec<(i64, i64)> = case_events::table
        .filter(case_events::kind.eq("timer_fired"))
        .group_by(case_events::case_id)
        .select((case_events::case_id, count_star()))
        .load(conn)
        .unwrap();
    assert_eq!(journal.len() as i64, cases, "every case journals its timer");
    assert!(
        journal.iter().all(|(_, n)| *n == 1),
        "a timer was journalled twice: {:?}",
        journal.iter().filter(|(_, n)| *n != 1).collect::<Vec<_>>()
    );

    let reminders: Vec<(Option<i64>, i64)> = outbox::table
        .filter(outbox::template.eq("beteiligung_erinnerung"))
        .group_by(outbox::invitation_id)
        .select((outbox::invitation_id, count_star()))
        .load(conn)
        .unwrap();
    let partners = crate::support::partners::PARTNERS.len() as i64;
    assert_eq!(
        reminders.len() as i64,
        cases * partners,
        "one reminder per unanswered partner"
    );
    assert!(
        reminders.iter().all(|(id, n)| id.is_some() && *n == 1),
        "a reminder is in the outbox twice"
    );
}

#[test]
fn three_processes_fire_a_thousand_due_timers_exactly_once() {
    if !postgres_available() {
        return;
    }
    const CASES: i64 = 1_000;
    let db = TestDatabase::migrated(Backend::Postgres);
    seed_due_reminders(&db, CASES as usize);
    let mut conn = db.connection();
    assert_eq!(unfired_due(&mut conn), CASES, "one due reminder per case");

    let url = db.url_text();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let servers: Vec<_> = dirs
        .iter()
        .map(|dir| serve(dir.path(), &url, "300"))
        .collect();
    wait_until_all_fired(&mut conn, Duration::from_secs(180));
    assert_each_fired_once(&mut conn, CASES);
    for server in &servers {
        let ready = http().get(server.url("/readyz")).call().unwrap();
        assert_eq!(ready.status(), 200, "every process still serves");
    }
}

#[test]
fn claims_of_a_killed_process_are_fired_by_the_others_after_the_lease() {
    if !postgres_available() {
        return;
    }
    const CASES: i64 = 200;
    const LEASE_SECS: i64 = 5;
    let db = TestDatabase::migrated(Backend::Postgres);
    seed_due_reminders(&db, CASES as usize);
    let mut conn = db.connection();

    // A process that claimed a batch and died before firing any of it.
    let now = vorgang::service::clock::now();
    let orphaned = vorgang::scheduler::timers::claim_due(
        &mut conn,
        "getötet:1",
        &now,
        50,
        TimeDelta::seconds(LEASE_SECS),
    )
    .unwrap();
    assert_eq!(orphaned.len(), 50);

    let url = db.url_text();
    let lease = LEASE_SECS.to_string();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut victim = serve(dirs[0].path(), &url, &lease);
    let owner = format!("{}:{}", victim.address, victim.pid());

    // Killed once it has fired something, so it dies in the middle of its work (holding
    // claims, unless it happened to be between two batches: the outcome must not depend on it).
    let started = Instant::now();
    loop {
        let fired_by_victim: i64 = timers::table
            .filter(timers::lease_owner.eq(&owner))
            .filter(timers::status.eq("fired"))
            .count()
            .get_result(&mut conn)
            .unwrap();
        if fired_by_victim > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the first process fired nothing within a minute"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    victim.signal_and_wait("KILL", Duration::from_secs(10));
    let held: i64 = timers::table
        .filter(timers::lease_owner.eq(&owner))
        .filter(timers::status.eq("scheduled"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    eprintln!("the killed process held {held} unfired claims");

    let _survivors: Vec<_> = dirs[1..]
        .iter()
        .map(|dir| serve(dir.path(), &url, &lease))
        .collect();
    wait_until_all_fired(&mut conn, Duration::from_secs(120));
    assert_each_fired_once(&mut conn, CASES);

    // The dead claims were taken over: claimed again, by a process that lived.
    let ids: Vec<i64> = orphaned.iter().map(|t| t.id).collect();
    let taken_over: Vec<(Option<String>, i32)> = timers::table
        .filter(timers::id.eq_any(&ids))
        .select((timers::lease_owner, timers::attempts))
        .load(&mut conn)
        .unwrap();
    assert!(
        taken_over
            .iter()
            .all(|(owner, attempts)| owner.as_deref() != Some("getötet:1") && *attempts >= 2),
        "{taken_over:?}"
    );
}
