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
use vorgang::engine::{Actor, Clock, TimerKind};
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

/// What is due today in a seeded case.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Due {
    /// Consultation entered 26 days ago: the four-week deadline ends in two to six days (§ 193
    /// BGB may move it by up to four), so the reminder a week before is due and the deadline
    /// is not. A reminder timer: fired by the `reminders` job.
    Reminder,
    /// Consultation entered 33 days ago, its reminder already sent: the deadline (at most 32
    /// days after entry) has passed. A flow timer: fired by the poller; it closes the
    /// consultation and mails the result to the office.
    Deadline,
}

/// Starts `count` ki-antrag cases of the Kreis Soest with one due timer each, of the kind
/// `due` says, on two threads; the firing order of different cases cannot matter.
fn seed(db: &TestDatabase, count: usize, due: Due) {
    let pool = db.pool(4);
    let dir = tempfile::tempdir().unwrap();
    let api = crate::support::api::state(&pool, dir.path());
    let mut conn = pool.get().unwrap();
    let exists: i64 = vorgang::db::schema::users::table
        .filter(vorgang::db::schema::users::email.eq("k@kreis-soest.de"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    if exists == 0 {
        crate::support::auth::create_user(
            &mut conn,
            "k@kreis-soest.de",
            "05974",
            &[Role::Koordination],
            None,
        );
    }
    let soest = Organisation::find_by_key(&mut conn, "05974")
        .unwrap()
        .unwrap();
    drop(conn);
    let days_ago = match due {
        Due::Reminder => 26,
        Due::Deadline => 33,
    };
    let started = clock_on(today() - TimeDelta::days(days_ago));
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
    if due == Due::Deadline {
        // The reminders of these cases went out long ago (on their day, at a reminder run). That
        // day is read from the timers: a reminder due on a weekend or holiday moves to the next
        // working day, so a fixed offset from today would miss it on some days of the year. The
        // earliest scheduled reminder is this batch's (a batch seeded with `Due::Reminder` is
        // a week younger).
        let ctx = api.case_context();
        let mut conn = pool.get().unwrap();
        let reminder_due: Option<NaiveDate> = timers::table
            .filter(timers::kind.eq("reminder"))
            .filter(timers::status.eq("scheduled"))
            .select(diesel::dsl::min(timers::due))
            .first(&mut conn)
            .unwrap();
        let reminder_due = reminder_due.expect("the Beteiligung scheduled reminders");
        assert!(
            reminder_due < today(),
            "reminders due {reminder_due}, not in the past"
        );
        let reminder_day = clock_on(reminder_due);
        let round = vorgang::scheduler::timers::run_due(
            &mut conn,
            &ctx,
            "seed",
            TimerKind::Reminder,
            &reminder_day,
            TimeDelta::minutes(5),
            &|| false,
        )
        .unwrap();
        assert_eq!(round.fired, count);
    }
}

/// Whether today is a public holiday in North Rhine-Westphalia: the `reminders` job then
/// rightly sends nothing, and only flow timers can be expected to fire.
fn holiday_today() -> bool {
    vorgang::frist::HolidayCalendar::for_land("NW")
        .unwrap()
        .holiday_name(today())
        .unwrap()
        .is_some()
}

/// Timers due today that have not fired (of the kinds that fire today).
fn unfired_due(conn: &mut DbConnection) -> i64 {
    let mut query = timers::table
        .filter(timers::status.eq("scheduled"))
        .filter(timers::due.le(today()))
        .into_boxed();
    if holiday_today() {
        query = query.filter(timers::kind.eq("flow"));
    }
    query.count().get_result(conn).unwrap()
}

/// Starts `vorgang serve` on the shared database, polling every second and running the
/// `reminders` job every second (each second's run in one process; a long run overlaps the
/// next second's run in another), with its own data directory (mail as files there). Secret
/// and public URL are shared, as behind one load balancer: a reminder link must not depend on
/// the process that sent it.
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
            ("VORGANG_JOBS_REMINDERS_SCHEDULE", "* * * * * *"),
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
/// `timer_fired` entry per fired timer, each partner of each reminder case got one reminder
/// and the office of each deadline case one result mail.
fn assert_each_fired_once(conn: &mut DbConnection, reminder_cases: i64, deadline_cases: i64) {
    let holiday = holiday_today();
    let fired = |conn: &mut DbConnection, kind: &str| -> i64 {
        timers::table
            .filter(timers::status.eq("fired"))
            .filter(timers::kind.eq(kind))
            .count()
            .get_result(conn)
            .unwrap()
    };
    // The deadline cases' reminders were fired while seeding.
    let expected_reminders = if holiday { 0 } else { reminder_cases };
    assert_eq!(
        fired(conn, "reminder"),
        expected_reminders + deadline_cases,
        "one fired reminder timer per case"
    );
    assert_eq!(
        fired(conn, "flow"),
        deadline_cases,
        "one fired deadline per case"
    );
    let stale: i64 = timers::table
        .filter(timers::status.eq("cancelled"))
        .filter(timers::last_error.is_not_null())
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(stale, 0, "no timer was closed as stale");

    let journal: Vec<(i64, i64)> = case_events::table
        .filter(case_events::kind.eq("timer_fired"))
        .group_by(case_events::case_id)
        .select((case_events::case_id, count_star()))
        .load(conn)
        .unwrap();
    let per_case = |n: i64| journal.iter().filter(|(_, c)| *c == n).count() as i64;
    assert_eq!(
        per_case(2),
        deadline_cases,
        "reminder and deadline journalled once each"
    );
    assert_eq!(
        per_case(1),
        expected_reminders,
        "the reminder journalled once"
    );
    assert_eq!(journal.len() as i64, expected_reminders + deadline_cases);

    let reminders: Vec<(Option<i64>, i64)> = outbox::table
        .filter(outbox::template.eq("beteiligung_erinnerung"))
        .group_by(outbox::invitation_id)
        .select((outbox::invitation_id, count_star()))
        .load(conn)
        .unwrap();
    let partners = crate::support::partners::PARTNERS.len() as i64;
    assert_eq!(
        reminders.len() as i64,
        (expected_reminders + deadline_cases) * partners,
        "one reminder per unanswered partner"
    );
    assert!(
        reminders.iter().all(|(id, n)| id.is_some() && *n == 1),
        "a reminder is in the outbox twice"
    );
    let results: Vec<(Option<i64>, i64)> = outbox::table
        .filter(outbox::template.eq("beteiligung_abgeschlossen"))
        .group_by(outbox::case_id)
        .select((outbox::case_id, count_star()))
        .load(conn)
        .unwrap();
    assert_eq!(
        results.len() as i64,
        deadline_cases,
        "one result mail per closed consultation"
    );
    assert!(
        results.iter().all(|(id, n)| id.is_some() && *n == 1),
        "a result mail is in the outbox twice"
    );
}

#[test]
fn three_processes_fire_a_thousand_due_timers_exactly_once() {
    if !postgres_available() {
        return;
    }
    const CASES: i64 = 500;
    let db = TestDatabase::migrated(Backend::Postgres);
    seed(&db, CASES as usize, Due::Reminder);
    seed(&db, CASES as usize, Due::Deadline);
    let mut conn = db.connection();
    let expected_due = if holiday_today() { CASES } else { 2 * CASES };
    assert_eq!(
        unfired_due(&mut conn),
        expected_due,
        "one due timer per case"
    );

    let url = db.url_text();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let servers: Vec<_> = dirs
        .iter()
        .map(|dir| serve(dir.path(), &url, "300"))
        .collect();
    wait_until_all_fired(&mut conn, Duration::from_secs(180));
    assert_each_fired_once(&mut conn, CASES, CASES);
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
    seed(&db, CASES as usize, Due::Deadline);
    let mut conn = db.connection();

    // A process that claimed a batch and died before firing any of it.
    let now = vorgang::service::clock::now();
    let orphaned = vorgang::scheduler::timers::claim_due(
        &mut conn,
        "getötet:1",
        TimerKind::Flow,
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
    assert_each_fired_once(&mut conn, 0, CASES);

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
