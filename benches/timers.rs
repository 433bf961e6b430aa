//! The timer poller at scale: 1,000,000 pending timers of which 1,000 are due.
//!
//! Run on SQLite (a temporary file) or on PostgreSQL (a fresh database on the given server,
//! dropped afterwards):
//!
//! ```sh
//! cargo bench --bench timers
//! cargo bench --bench timers -- --pg postgres://postgres@127.0.0.1:5432/postgres
//! ```
//!
//! 1,000 real `ki-antrag` cases enter their consultation 26 days ago through the service layer,
//! so each has a due reminder (one week before the deadline) and a deadline timer that is not due
//! yet. 998,000 more pending timers, due 30 to 394 days from now, are inserted by SQL and point at
//! those cases. Printed: the plan of the claim statement (`EXPLAIN ANALYZE` inside a rolled-back
//! transaction on PostgreSQL, `EXPLAIN QUERY PLAN` on SQLite) with 1,000 due and with none due,
//! the time `run_due` takes to claim and fire the 1,000 due timers in one poller (each in its own
//! transaction, reminder mails included), and the cost of an idle tick (`run_due` finding nothing)
//! over 2,000 ticks.
//!
//! On the 2-core development machine (shared with other builds): firing the 1,000 took 1.0 s on
//! SQLite and 5.0 s on PostgreSQL; an idle tick 0.03 ms (p99 0.06) on SQLite and 0.6 ms (p99 1.0)
//! on PostgreSQL, where the claim itself executes in 0.05 ms and the rest is three round trips.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeDelta, TimeZone, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use vorgang::db::models::{NewOrganisation, NewUser, Organisation, Role};
use vorgang::db::{DatabaseUrl, DbConnection, migrations};
use vorgang::engine::{Actor, Clock, TimerKind};
use vorgang::scheduler::timers::{claim_statement, run_due};
use vorgang::service::cases::{self, Invocation};
use vorgang::web::api::ApiState;

const DUE: usize = 1_000;
const PENDING: i64 = 1_000_000;
const IDLE_TICKS: usize = 2_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let pg_admin = args
        .iter()
        .position(|a| a == "--pg")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let dir = tempfile::tempdir().expect("temporary directory");
    let (url, database) = match &pg_admin {
        Some(admin) => {
            let name = format!("vorgang_bench_timers_{}", std::process::id());
            let mut conn = diesel::pg::PgConnection::establish(admin).expect("--pg URL reachable");
            conn.batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("CREATE DATABASE");
            let mut url = url::Url::parse(admin).expect("--pg is a URL");
            url.set_path(&format!("/{name}"));
            (DatabaseUrl::Postgres(url.to_string()), Some(name))
        }
        None => (DatabaseUrl::Sqlite(dir.path().join("vorgang.db")), None),
    };
    let outcome = std::panic::catch_unwind(|| run(&url, dir.path()));
    if let (Some(admin), Some(name)) = (&pg_admin, database) {
        let mut conn = diesel::pg::PgConnection::establish(admin).expect("--pg URL reachable");
        let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
    if outcome.is_err() {
        std::process::exit(1);
    }
}

fn run(url: &DatabaseUrl, data_dir: &std::path::Path) {
    println!("backend: {}", url.backend_name());
    let db = vorgang::db::Database::connect(url.clone(), 4).expect("database");
    let mut conn = db.get().expect("connection");
    migrations::run_pending(&mut conn).expect("migrations");
    let api = api_state(&mut conn, data_dir);
    let ctx = api.case_context();

    let today = vorgang::service::clock::now().today;
    let started = clock_on(today - TimeDelta::days(26));
    let actor = Actor {
        id: "k@kreis-soest.de".into(),
        roles: vec!["koordination".into()],
    };
    let soest = Organisation::find_by_key(&mut conn, "05974")
        .expect("query")
        .expect("Kreis Soest is seeded");
    let t = Instant::now();
    let mut case_ids = Vec::with_capacity(DUE);
    for _ in 0..DUE {
        let case = cases::start_case(
            &mut conn,
            &ctx,
            "ki-antrag",
            &soest,
            application(),
            &actor,
            &started,
        )
        .expect("case starts");
        let allow = |_| Ok(());
        let call = Invocation {
            actor: &actor,
            clock: &started,
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
        .expect("consultation starts");
        case_ids.push(case.row.id.0);
    }
    println!(
        "seeded {DUE} cases in consultation in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let filler = PENDING - 2 * DUE as i64;
    seed_pending(&mut conn, filler, case_ids[0], case_ids[case_ids.len() - 1]);
    let (pending, due) = counts(&mut conn, today);
    println!(
        "inserted {filler} more pending timers in {:.1} s: {pending} pending, {due} due",
        t.elapsed().as_secs_f64()
    );
    assert_eq!(due, DUE as i64);

    let now = vorgang::service::clock::now();
    println!("\nplan of the reminders job's claim with {DUE} due:");
    explain(&mut conn, TimerKind::Reminder, &now);

    let t = Instant::now();
    let round = run_due(
        &mut conn,
        &ctx,
        "bench",
        TimerKind::Reminder,
        &now,
        TimeDelta::minutes(5),
        &|| false,
    )
    .expect("run_due");
    let elapsed = t.elapsed();
    assert_eq!(round.fired, DUE, "{round:?}");
    println!(
        "\nclaimed and fired {} due timers in {:.2} s ({:.0} timers/s, {:.1} ms each)",
        round.fired,
        elapsed.as_secs_f64(),
        round.fired as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / round.fired as f64
    );

    println!("\nplan of the reminders job's claim with nothing due:");
    explain(&mut conn, TimerKind::Reminder, &now);
    println!("\nplan of the poller's claim with nothing due:");
    explain(&mut conn, TimerKind::Flow, &now);

    drop(conn);
    let mut ticks = Vec::with_capacity(IDLE_TICKS);
    for _ in 0..IDLE_TICKS {
        let t = Instant::now();
        // As a poller tick does it: a pooled connection, the clock, one claim that finds nothing.
        let mut conn = db.get().expect("connection");
        let clock = vorgang::service::clock::now();
        let round = run_due(
            &mut conn,
            &ctx,
            "bench",
            TimerKind::Flow,
            &clock,
            TimeDelta::minutes(5),
            &|| false,
        )
        .expect("run_due");
        ticks.push(t.elapsed());
        assert_eq!(round.fired, 0);
    }
    ticks.sort();
    let mean = ticks.iter().sum::<Duration>() / IDLE_TICKS as u32;
    let at = |q: f64| ticks[((IDLE_TICKS as f64 * q) as usize).min(IDLE_TICKS - 1)];
    println!(
        "\nidle tick over {IDLE_TICKS} ticks: mean {:.3} ms, p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        ms(mean),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(ticks[IDLE_TICKS - 1])
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn clock_on(day: NaiveDate) -> Clock {
    vorgang::service::clock::at(
        Utc.from_utc_datetime(&day.and_hms_opt(6, 0, 0).expect("a valid time")),
    )
}

/// Shipped workflows and templates, the two partners the application names, a coordinator.
fn api_state(conn: &mut DbConnection, data_dir: &std::path::Path) -> ApiState {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let templates =
        Arc::new(vorgang::render::Templates::load(&root.join("templates")).expect("templates"));
    let secret =
        vorgang::secret::Secret::from_configured("bench-secret-0123456789abcdef0123456789")
            .expect("secret");
    let sources = vorgang::service::workflows::WorkflowSources {
        workflows_dir: root.join("workflows"),
        templates: templates.clone(),
    };
    let registry = Arc::new(vorgang::service::workflows::WorkflowRegistry::default());
    registry
        .sync_directory(conn, &sources, Utc::now().naive_utc())
        .expect("workflows deploy");
    for (key, name, mailbox) in [
        (
            "SCHULAMT-SO",
            "Schulamt für den Kreis Soest",
            "schulamt@kreis-soest.test",
        ),
        (
            "05974-JA",
            "Jugendamt des Kreises Soest",
            "jugendamt@kreis-soest.test",
        ),
    ] {
        NewOrganisation {
            key,
            name,
            kind: "partner",
            parent_id: None,
            mailbox: Some(mailbox),
        }
        .insert(conn)
        .expect("partner");
    }
    let soest = Organisation::find_by_key(conn, "05974")
        .expect("query")
        .expect("Kreis Soest is seeded");
    NewUser::new(soest.id, "k@kreis-soest.de", "Koordination")
        .create(conn, &[Role::Koordination])
        .expect("user");
    ApiState {
        registry,
        pattern: Default::default(),
        sources,
        documents: vorgang::documents::DocumentStore::in_data_dir(data_dir),
        outgoing: vorgang::service::mail::Outgoing {
            templates,
            signer: Arc::new(vorgang::auth::Signer::new(&secret)),
            public_url: url::Url::parse("https://vorgang.test").expect("URL"),
            from: "vorgang <noreply@vorgang.test>".into(),
            mail_domain: "vorgang.test".into(),
            link_grace: TimeDelta::days(14),
            hold_until: None,
        },
        jobs: vorgang::scheduler::jobs::Jobs::default(),
        metrics_token: None,
        retention_years: vorgang::service::retention::DEFAULT_RETENTION_YEARS,
    }
}

/// `n` pending timers due 30 to 394 days from now, spread over the cases `first..=last`.
fn seed_pending(conn: &mut DbConnection, n: i64, first: i64, last: i64) {
    let cases = last - first + 1;
    let sql = match conn {
        DbConnection::Pg(_) => format!(
            "INSERT INTO timers (case_id, local_id, step, due) \
             SELECT {first} + g % {cases}, 1000000 + g, 'beteiligung', \
                    CURRENT_DATE + (30 + g % 365)::int \
             FROM generate_series(1, {n}) AS g"
        ),
        DbConnection::Sqlite(_) => format!(
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {n}) \
             INSERT INTO timers (case_id, local_id, step, due) \
             SELECT {first} + n % {cases}, 1000000 + n, 'beteiligung', \
                    date('now', '+' || (30 + n % 365) || ' days') FROM g"
        ),
    };
    conn.batch_execute(&sql).expect("pending timers");
    // Statistics as autovacuum would have them by now; VACUUM must run on its own.
    let analyze = match conn {
        DbConnection::Pg(_) => "VACUUM ANALYZE timers",
        DbConnection::Sqlite(_) => "ANALYZE",
    };
    conn.batch_execute(analyze).expect("ANALYZE");
}

#[derive(QueryableByName)]
struct Counts {
    #[diesel(sql_type = BigInt)]
    pending: i64,
    #[diesel(sql_type = BigInt)]
    due: i64,
}

fn counts(conn: &mut DbConnection, today: NaiveDate) -> (i64, i64) {
    let today = today.format("%Y-%m-%d").to_string();
    let sql = format!(
        "SELECT count(*) AS pending, \
         coalesce(sum(CASE WHEN due <= '{today}' THEN 1 ELSE 0 END), 0) AS due \
         FROM timers WHERE status = 'scheduled'"
    );
    let row: Counts = diesel::sql_query(sql).get_result(conn).expect("counts");
    (row.pending, row.due)
}

/// Prints the plan of the claim statement with this clock's values in place of the binds.
fn explain(conn: &mut DbConnection, kind: TimerKind, clock: &Clock) {
    let now = clock.now.naive_utc();
    let lease_end = now + TimeDelta::minutes(5);
    let mut sql = claim_statement(conn);
    let values = [
        "'bench'".to_string(),
        format!("'{}'", lease_end.format("%Y-%m-%d %H:%M:%S%.6f")),
        format!("'{}'", kind.as_str()),
        format!("'{}'", clock.today.format("%Y-%m-%d")),
        format!("'{}'", now.format("%Y-%m-%d %H:%M:%S%.6f")),
        "32".to_string(),
    ];
    match conn {
        DbConnection::Pg(_) => {
            for (i, value) in values.iter().enumerate().rev() {
                sql = sql.replace(&format!("${}", i + 1), value);
            }
            // ANALYZE runs the UPDATE; the transaction is rolled back so nothing is claimed.
            conn.batch_execute("BEGIN").expect("BEGIN");
            let lines: Vec<QueryPlanRow> =
                diesel::sql_query(format!("EXPLAIN (ANALYZE, BUFFERS) {sql}"))
                    .load(conn)
                    .expect("EXPLAIN");
            conn.batch_execute("ROLLBACK").expect("ROLLBACK");
            for line in lines {
                println!("  {}", line.query_plan);
            }
        }
        DbConnection::Sqlite(_) => {
            for value in &values {
                sql = sql.replacen('?', value, 1);
            }
            for row in sqlite_plan(conn, &sql) {
                println!("  {row}");
            }
        }
    }
}

#[derive(QueryableByName)]
struct QueryPlanRow {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    query_plan: String,
}

#[derive(QueryableByName)]
struct SqlitePlanRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    parent: i64,
    #[diesel(sql_type = Text)]
    detail: String,
}

/// `EXPLAIN QUERY PLAN` as an indented tree, and the statement's run time (it is rolled back).
fn sqlite_plan(conn: &mut DbConnection, sql: &str) -> Vec<String> {
    let rows: Vec<SqlitePlanRow> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
        .load(conn)
        .expect("EXPLAIN QUERY PLAN");
    let mut depth = std::collections::HashMap::new();
    let mut lines = Vec::new();
    for row in rows {
        let level = depth.get(&row.parent).map_or(0, |d| d + 1);
        depth.insert(row.id, level);
        lines.push(format!("{}{}", "  ".repeat(level), row.detail));
    }
    conn.batch_execute("BEGIN IMMEDIATE").expect("BEGIN");
    let t = Instant::now();
    conn.batch_execute(sql).expect("claim");
    let took = t.elapsed();
    conn.batch_execute("ROLLBACK").expect("ROLLBACK");
    lines.push(format!("execution time: {:.3} ms", ms(took)));
    lines
}

/// The Kreis Soest's application, complete for the consultation (the tests' fixture).
fn application() -> serde_json::Value {
    serde_json::from_str(include_str!("../tests/fixtures/antrag-kreis-soest.json"))
        .expect("the fixture is JSON")
}
