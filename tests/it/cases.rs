//! The service layer on both databases: cases start with an Aktenzeichen, commands change them in
//! one transaction, stale versions are refused, and the journal stays a valid chain.

use std::path::Path;
use std::sync::{Arc, Barrier};

use chrono::{TimeZone, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use vorgang::db::models::{Organisation, Role};
use vorgang::db::schema::{outbox, timers};
use vorgang::db::{Database, DbConnection};
use vorgang::engine::{Actor, CaseStatus, Clock};
use vorgang::mail::compose::Rendered;
use vorgang::mail::outbox::{OutboxRow, RetryError};
use vorgang::service::ServiceError;
use vorgang::service::aktenzeichen::AktenzeichenPattern;
use vorgang::service::cases::{self, CaseContext, Invocation};
use vorgang::service::mail;
use vorgang::service::workflows::{WorkflowRegistry, WorkflowSources};

use crate::support::smtp::SmtpServer;
use crate::support::{Backend, TestDatabase};

fn sources() -> WorkflowSources {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    WorkflowSources {
        workflows_dir: root.join("workflows"),
        templates: crate::support::partners::outgoing().templates,
    }
}

fn clock(date: &str) -> Clock {
    let day = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    vorgang::service::clock::at(Utc.from_utc_datetime(&day.and_hms_opt(10, 0, 0).unwrap()))
}

fn koordination() -> Actor {
    Actor {
        id: "anna@kreis-soest.de".into(),
        roles: vec!["koordination".into()],
    }
}

struct Fixture {
    _db: TestDatabase,
    pool: Database,
    registry: WorkflowRegistry,
    pattern: AktenzeichenPattern,
    outgoing: vorgang::service::mail::Outgoing,
}

impl Fixture {
    /// The ids of the first ten cases of the list an administrator of the Kreis Soest sees.
    fn listed(
        &self,
        filter: &vorgang::service::case_list::CaseFilter,
        sort: vorgang::service::case_list::Sort,
    ) -> Vec<i64> {
        let admin = vorgang::auth::Principal {
            user_id: vorgang::db::models::UserId(0),
            email: "admin@example.org".into(),
            organisation_id: self.org("05974").id,
            roles: vec![Role::Admin],
        };
        let page =
            vorgang::service::case_list::search(&mut self.conn(), &admin, filter, sort, 1, 10)
                .unwrap();
        assert_eq!(page.total, page.rows.len() as i64, "all on the first page");
        page.rows.iter().map(|(row, _)| row.id.0).collect()
    }

    fn new(backend: Backend) -> Self {
        let db = TestDatabase::migrated(backend);
        let pool = db.pool(8);
        let registry = WorkflowRegistry::default();
        let added = registry
            .sync_directory(
                &mut pool.get().unwrap(),
                &sources(),
                clock("2026-03-01").now.naive_utc(),
            )
            .unwrap();
        assert_eq!(added.len(), 3, "{added:?}");
        crate::support::partners::add_partners(&mut pool.get().unwrap());
        Self {
            _db: db,
            pool,
            registry,
            pattern: AktenzeichenPattern::default(),
            outgoing: crate::support::partners::outgoing(),
        }
    }

    fn ctx(&self) -> CaseContext<'_> {
        CaseContext {
            registry: &self.registry,
            pattern: &self.pattern,
            mail: &self.outgoing,
        }
    }

    fn conn(&self) -> vorgang::db::PooledConnection {
        self.pool.get().unwrap()
    }

    fn org(&self, key: &str) -> Organisation {
        Organisation::find_by_key(&mut self.conn(), key)
            .unwrap()
            .unwrap()
    }

    /// The Kreis Soest's complete application, started by its coordinator on 4 March 2026.
    fn started_application(&self) -> cases::LoadedCase {
        cases::start_case(
            &mut self.conn(),
            &self.ctx(),
            "ki-antrag",
            &self.org("05974"),
            application(),
            &koordination(),
            &clock("2026-03-04"),
        )
        .unwrap()
    }

    /// Revises a freshly started application's draft (version 1 to 2) and starts its
    /// Beteiligung (to 3) on `conn`; the case after each command.
    fn revise_and_start_beteiligung(
        &self,
        conn: &mut DbConnection,
        case: &cases::LoadedCase,
        call: Invocation<'_>,
    ) -> (cases::LoadedCase, cases::LoadedCase) {
        let changed = cases::change_data(
            conn,
            &self.ctx(),
            case.row.id,
            1,
            json!({ "ausgangslage": "Neu gefasst." }),
            call,
        )
        .unwrap();
        let moved = cases::take_action(
            conn,
            &self.ctx(),
            case.row.id,
            2,
            "beteiligung_starten",
            None,
            None,
            call,
        )
        .unwrap();
        (changed, moved)
    }
}

fn application() -> Value {
    crate::beteiligung::application()
}

fn allow() -> impl Fn(cases::CaseAccess) -> Result<(), ServiceError> {
    |_| Ok(())
}

/// Appends a note to the case's journal without changing its version, as resending an
/// invitation does: the entry another writer slips in between a command's read and its write.
fn append_note(
    conn: &mut DbConnection,
    id: vorgang::db::models::CaseId,
) -> Result<(), vorgang::db::DbError> {
    vorgang::journal::append(
        conn,
        id.0,
        &[vorgang::journal::NewEvent {
            at: chrono::NaiveDate::from_ymd_opt(2026, 3, 4)
                .unwrap()
                .and_hms_opt(10, 0, 0)
                .unwrap(),
            actor: "dazwischen@kreis-soest.de".into(),
            kind: "note".into(),
            payload: json!({ "text": "dazwischen" }),
        }],
    )?;
    Ok(())
}

/// The journal ends with the note and then the command's one entry, and every chain is intact.
fn assert_note_then_change(f: &Fixture, id: vorgang::db::models::CaseId, before: usize) {
    let journal = vorgang::journal::list(&mut f.conn(), id.0).unwrap();
    let kinds: Vec<&str> = journal.iter().map(|entry| entry.kind.as_str()).collect();
    assert_eq!(kinds.len(), before + 2, "{kinds:?}");
    assert_eq!(kinds[kinds.len() - 2], "note", "{kinds:?}");
    assert!(vorgang::journal::verify(&mut f.conn()).unwrap().intact());
}

both_backends! {
    fn a_case_starts_with_an_aktenzeichen_and_a_journal(backend) {
        let f = Fixture::new(backend);
        let soest = f.org("05974");
        let first = cases::start_case(&mut f.conn(), &f.ctx(), "ki-antrag", &soest, application(), &koordination(), &clock("2026-03-04")).unwrap();
        let second = cases::start_case(&mut f.conn(), &f.ctx(), "ki-antrag", &soest, json!({}), &koordination(), &clock("2026-03-05")).unwrap();
        assert_eq!(first.row.aktenzeichen, "KI-05974-2026-0001");
        assert_eq!(second.row.aktenzeichen, "KI-05974-2026-0002");
        let kleve = cases::start_case(&mut f.conn(), &f.ctx(), "ki-antrag", &f.org("05154"), json!({}), &koordination(), &clock("2026-03-05")).unwrap();
        assert_eq!(kleve.row.aktenzeichen, "KI-05154-2026-0001");
        assert_eq!(first.row.version, 1);
        assert_eq!(first.row.status, "running");
        let journal = vorgang::journal::list(&mut f.conn(), first.row.id.0).unwrap();
        let kinds: Vec<&str> = journal.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["case_started", "step_entered"]);
        assert_eq!(journal[0].actor, "anna@kreis-soest.de");
    }
}

both_backends! {
    fn a_pattern_without_the_applicant_or_year_still_gives_every_case_its_own_aktenzeichen(backend) {
        let mut f = Fixture::new(backend);
        let start = |f: &Fixture, org: &str, day: &str| {
            cases::start_case(&mut f.conn(), &f.ctx(), "ki-antrag", &f.org(org), json!({}), &koordination(), &clock(day)).unwrap().row.aktenzeichen
        };
        f.pattern = AktenzeichenPattern::parse("{prefix}/{year}/{number}").unwrap();
        // Soest and Kleve share one sequence: „KI/2026/1“ exists once.
        assert_eq!(start(&f, "05974", "2026-03-04"), "KI/2026/1");
        assert_eq!(start(&f, "05154", "2026-03-04"), "KI/2026/2");
        assert_eq!(start(&f, "05974", "2027-01-04"), "KI/2027/1");
        // Without the year, the numbers go on into the next one.
        f.pattern = AktenzeichenPattern::parse("{prefix}-{ags}-{number:03}").unwrap();
        assert_eq!(start(&f, "05974", "2026-12-30"), "KI-05974-001");
        assert_eq!(start(&f, "05974", "2027-01-04"), "KI-05974-002");
    }
}

both_backends! {
    fn invalid_data_is_refused_with_pointers_and_nothing_is_stored(backend) {
        let f = Fixture::new(backend);
        let error = cases::start_case(&mut f.conn(), &f.ctx(), "ki-antrag", &f.org("05974"), json!({ "arbeitsaufnahme": "morgen", "erfunden": 1 }), &koordination(), &clock("2026-03-04")).unwrap_err();
        let ServiceError::InvalidData(errors) = error else { panic!("{error:?}") };
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/arbeitsaufnahme", "/erfunden"]);
        let count: i64 = vorgang::db::schema::cases::table.count().get_result(&mut *f.conn()).unwrap();
        assert_eq!(count, 0);
        // The failed attempt did not use up a running number.
        let ok = cases::start_case(&mut f.conn(), &f.ctx(), "ki-antrag", &f.org("05974"), json!({}), &koordination(), &clock("2026-03-04")).unwrap();
        assert_eq!(ok.row.aktenzeichen, "KI-05974-2026-0001");
    }
}

both_backends! {
    fn actions_need_the_current_version_and_write_timers_and_mail(backend) {
        let f = Fixture::new(backend);
        let case = f.started_application();
        let actor = koordination();
        let check = allow();
        let call = Invocation { actor: &actor, clock: &clock("2026-03-04"), check: &check };
        let stale = cases::take_action(&mut f.conn(), &f.ctx(), case.row.id, 7, "beteiligung_starten", None, None, call);
        assert!(matches!(stale, Err(ServiceError::VersionConflict { current: 1 })));
        let moved = cases::take_action(&mut f.conn(), &f.ctx(), case.row.id, 1, "beteiligung_starten", None, None, call).unwrap();
        assert_eq!(moved.row.version, 2);
        let due: Vec<(String, String)> = timers::table
            .filter(timers::case_id.eq(case.row.id))
            .select((timers::step, timers::status))
            .load(&mut *f.conn())
            .unwrap();
        assert_eq!(due.len(), 2, "deadline and reminder: {due:?}");
        let mails: Vec<(String, String)> = outbox::table
            .filter(outbox::case_id.eq(case.row.id))
            .select((outbox::template, outbox::recipients))
            .load(&mut *f.conn())
            .unwrap();
        assert_eq!(mails.len(), 2, "one invitation per participant");
        assert!(mails.iter().all(|(template, _)| template == "beteiligung_einladung"));
        assert!(mails[0].1.contains("SCHULAMT-SO"));
        // A refused action changes nothing, not even the version.
        let refused = cases::take_action(&mut f.conn(), &f.ctx(), case.row.id, 2, "zum_beschluss", None, None, call);
        assert!(matches!(refused, Err(ServiceError::Refused(_))), "{refused:?}");
        let reloaded = cases::load(&mut f.conn(), &f.registry, case.row.id).unwrap();
        assert_eq!(reloaded.row.version, 2);
    }
}

#[test]
fn a_new_case_is_written_with_its_journal_in_one_statement_on_postgres() {
    if !crate::support::db::postgres_available() {
        return;
    }
    let f = Fixture::new(Backend::Postgres);
    let mut conn = f.conn();
    let started = cases::start_case(
        &mut conn,
        &f.ctx(),
        "ki-antrag",
        &f.org("05974"),
        application(),
        &koordination(),
        &clock("2026-03-04"),
    )
    .unwrap();
    let again = cases::start_case(
        &mut conn,
        &f.ctx(),
        "ki-antrag",
        &f.org("05974"),
        json!({}),
        &koordination(),
        &clock("2026-03-05"),
    )
    .unwrap();
    assert_eq!(again.row.aktenzeichen, "KI-05974-2026-0002");
    let prepared = crate::support::db::prepared_statements(&mut conn);
    let chains: Vec<&(String, i64)> = prepared
        .iter()
        .filter(|(statement, _)| statement.starts_with(r#"WITH "w0" AS (INSERT INTO "cases""#))
        .collect();
    assert_eq!(chains.len(), 1, "{prepared:#?}");
    assert!(
        chains[0].0.contains(r#"INSERT INTO "case_events""#),
        "{}",
        chains[0].0
    );
    assert_eq!(chains[0].1, 2);
    assert!(
        !prepared
            .iter()
            .any(|(statement, _)| statement.starts_with(r#"INSERT INTO "cases""#)),
        "{prepared:#?}"
    );
    // The row the command answered with is the row stored, id included.
    for case in [&started, &again] {
        let stored = vorgang::db::models::CaseRow::find(&mut conn, case.row.id)
            .unwrap()
            .unwrap();
        assert_eq!(format!("{stored:?}"), format!("{:?}", case.row));
        let journal = vorgang::journal::list(&mut conn, case.row.id.0).unwrap();
        assert_eq!(
            journal.first().map(|e| e.prev_hash.as_str()),
            Some(vorgang::journal::GENESIS_HASH)
        );
    }
    assert!(vorgang::journal::verify(&mut conn).unwrap().intact());
}

#[test]
fn an_action_sends_its_writes_as_one_statement_on_postgres() {
    if !crate::support::db::postgres_available() {
        return;
    }
    let f = Fixture::new(Backend::Postgres);
    let case = f.started_application();
    let actor = koordination();
    let check = allow();
    let call = Invocation {
        actor: &actor,
        clock: &clock("2026-03-04"),
        check: &check,
    };
    let mut conn = f.conn();
    let (changed, moved) = f.revise_and_start_beteiligung(&mut conn, &case, call);
    assert_eq!(changed.row.version, 2);
    assert_eq!(moved.row.version, 3);
    let prepared = crate::support::db::prepared_statements(&mut conn);
    // Each command read the case without locking it and wrote everything in one statement,
    // guarded by the version it read; so neither opened a transaction to hold a lock in.
    assert!(
        !prepared
            .iter()
            .any(|(statement, _)| statement.contains("FOR UPDATE")),
        "{prepared:#?}"
    );
    let chains: Vec<&(String, i64)> = prepared
        .iter()
        .filter(|(statement, _)| statement.starts_with(r#"WITH "w0" AS (UPDATE "cases""#))
        .collect();
    assert_eq!(chains.len(), 2, "{prepared:#?}");
    assert!(
        chains
            .iter()
            .all(|(chain, runs)| *runs == 1 && chain.contains("vorgang_expect_rows(count(*)")),
        "{chains:#?}"
    );
    // The Beteiligung's: the case update, the journal entries, the timers, the invitations, the
    // partner links and the invitation mails.
    let (chain, _) = chains
        .iter()
        .find(|(chain, _)| chain.contains(r#"INSERT INTO "outbox""#))
        .expect("the Beteiligung's statement");
    let written_alone = |prefix: &str| {
        prepared
            .iter()
            .any(|(statement, _)| statement.starts_with(prefix))
    };
    for table in [
        "case_events",
        "timers",
        "invitations",
        "partner_links",
        "outbox",
    ] {
        let insert = format!(r#"INSERT INTO "{table}""#);
        assert!(chain.contains(&insert), "{table}: {chain}");
        assert!(
            !written_alone(&insert),
            "{table} written on its own: {prepared:#?}"
        );
    }
    assert!(!written_alone(r#"UPDATE "cases""#), "{prepared:#?}");
    // What the statement wrote is there.
    let journal = vorgang::journal::list(&mut conn, case.row.id.0).unwrap();
    assert!(journal.len() > 2, "{journal:?}");
    assert!(vorgang::journal::verify(&mut conn).unwrap().intact());
    let mails: i64 = outbox::table
        .filter(outbox::case_id.eq(case.row.id))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(mails, 2);
    // The stored invitations are those the links and mails name (ids drawn beforehand).
    let linked: Vec<(i64, i64)> = vorgang::db::schema::partner_links::table
        .inner_join(vorgang::db::schema::invitations::table)
        .select((
            vorgang::db::schema::invitations::id,
            vorgang::db::schema::invitations::local_id,
        ))
        .order(vorgang::db::schema::invitations::id)
        .load(&mut *conn)
        .unwrap();
    assert_eq!(linked.len(), 2, "{linked:?}");

    // Inside a caller's transaction, where a failed statement would abort the caller's work, the
    // command takes the lock as always.
    vorgang::db::write_transaction(&mut conn, |conn| {
        cases::change_data(
            conn,
            &f.ctx(),
            case.row.id,
            3,
            json!({ "ausgangslage": "Im Verbund geändert." }),
            call,
        )
    })
    .unwrap();
    let prepared = crate::support::db::prepared_statements(&mut conn);
    assert!(
        prepared
            .iter()
            .any(|(statement, runs)| statement.contains("FOR UPDATE") && *runs == 1),
        "{prepared:#?}"
    );
}

/// What a SQLite connection ran, and what it added to its statement cache (diesel reports both
/// through the connection's instrumentation).
#[derive(Clone, Default)]
struct StatementLog {
    seen: Arc<std::sync::Mutex<(Vec<String>, std::collections::HashSet<String>)>>,
}

impl diesel::connection::Instrumentation for StatementLog {
    fn on_connection_event(&mut self, event: diesel::connection::InstrumentationEvent<'_>) {
        use diesel::connection::InstrumentationEvent;
        let mut seen = self.seen.lock().unwrap();
        match event {
            // Rendered with its binds appended; the SQL is what comes before them.
            InstrumentationEvent::StartQuery { query, .. } => {
                let text = query.to_string();
                let sql = text.split(" -- binds:").next().unwrap_or_default();
                seen.0.push(sql.trim().to_string());
            }
            InstrumentationEvent::CacheQuery { sql, .. } => {
                seen.1.insert(sql.trim().to_string());
            }
            _ => {}
        }
    }
}

#[test]
fn commands_keep_their_statements_prepared_on_sqlite() {
    let f = Fixture::new(Backend::Sqlite);
    let actor = koordination();
    let check = allow();
    let call = Invocation {
        actor: &actor,
        clock: &clock("2026-03-04"),
        check: &check,
    };
    let log = StatementLog::default();
    let mut conn = f.conn();
    match &mut *conn {
        DbConnection::Sqlite(sqlite) => sqlite.set_instrumentation(log.clone()),
        DbConnection::Pg(_) => unreachable!("a SQLite fixture"),
    }
    // The same round twice: create a case, change its data, start the Beteiligung. The second
    // round must find every statement of the case, its Aktenzeichen, the journal, timers,
    // invitations, links and mails prepared; the log keeps the statements of the last round.
    for _ in 0..2 {
        log.seen.lock().unwrap().0.clear();
        let case = cases::start_case(
            &mut conn,
            &f.ctx(),
            "ki-antrag",
            &f.org("05974"),
            application(),
            &actor,
            &clock("2026-03-04"),
        )
        .unwrap();
        let (_, moved) = f.revise_and_start_beteiligung(&mut conn, &case, call);
        assert_eq!(moved.row.version, 3);
    }
    let seen = log.seen.lock().unwrap();
    let (ran, cached) = (&seen.0, &seen.1);
    for table in [
        "aktenzeichen_counters",
        "cases",
        "case_events",
        "timers",
        "invitations",
        "partner_links",
        "outbox",
    ] {
        // Diesel quotes names with backticks, the hand-written counter upsert does not.
        let writes = |sql: &String| {
            let plain = sql.replace('`', "");
            plain.contains(&format!("INSERT INTO {table} "))
                || plain.starts_with(&format!("UPDATE {table} "))
        };
        assert!(ran.iter().any(writes), "no write to {table} in {ran:#?}");
    }
    // Transaction control is no prepared statement, and a filter on a list of keys (`IN (?, ?)`)
    // has a text of its own for every length of the list.
    let prepared_anew: Vec<&String> = ran
        .iter()
        .filter(|sql| !cached.contains(*sql))
        .filter(|sql| !sql.starts_with("BEGIN") && !sql.starts_with("COMMIT"))
        .filter(|sql| !sql.contains(" IN ("))
        .collect();
    assert!(prepared_anew.is_empty(), "parsed anew: {prepared_anew:#?}");
}

#[test]
fn a_command_whose_journal_head_was_taken_meanwhile_is_written_after_it_on_postgres() {
    if !crate::support::db::postgres_available() {
        return;
    }
    let f = Arc::new(Fixture::new(Backend::Postgres));
    let case = f.started_application();
    let id = case.row.id;
    let before = vorgang::journal::list(&mut f.conn(), id.0).unwrap().len();
    let waiting = |f: &Fixture| -> i64 {
        diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT count(*) FROM pg_stat_activity \
              WHERE datname = current_database() AND wait_event_type = 'Lock')",
        ))
        .get_result(&mut *f.conn())
        .unwrap()
    };
    // Another writer holds the case and appends to its journal without changing its version,
    // as resending an invitation does. Meanwhile the command reads the case (and the old head)
    // unlocked, then waits for the row.
    let patch = vorgang::db::write_transaction(&mut f.conn(), |conn| {
        vorgang::db::models::CaseForCommand::lock(conn, id)?.expect("the case");
        append_note(conn, id)?;
        let patch = {
            let f = Arc::clone(&f);
            std::thread::spawn(move || {
                let actor = koordination();
                let check = allow();
                let call = Invocation {
                    actor: &actor,
                    clock: &clock("2026-03-04"),
                    check: &check,
                };
                cases::change_data(
                    &mut f.conn(),
                    &f.ctx(),
                    id,
                    1,
                    json!({ "ausgangslage": "Nach dem Warten." }),
                    call,
                )
                .map(|changed| changed.row.version)
            })
        };
        let started = std::time::Instant::now();
        while waiting(&f) == 0 {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "the command never waited for the row"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Ok::<_, vorgang::db::DbError>(patch)
    })
    .unwrap();
    // Its one statement fails on the journal's unique key; it writes again under the lock,
    // after the entry that came in between.
    assert_eq!(patch.join().unwrap().unwrap(), 2);
    assert_note_then_change(&f, id, before);
    let stored = cases::load(&mut f.conn(), &f.registry, id).unwrap();
    assert_eq!(stored.row.version, 2);
    assert_eq!(stored.instance.data["ausgangslage"], "Nach dem Warten.");
}

both_backends! {
    fn a_journal_grown_between_reading_and_writing_is_written_after(backend) {
        // The command reads the case without a lock and computes; its access check is the
        // moment in between. There another writer appends to the journal without changing the
        // version, as resending an invitation does. The command must not chain onto the head it
        // read (on SQLite it reads the case again inside the write gate; on PostgreSQL its one
        // statement fails on the unique key and it writes again under the lock) and must chain
        // its entries after the one that came in between.
        let f = Fixture::new(backend);
        let case = f.started_application();
        let id = case.row.id;
        let before = vorgang::journal::list(&mut f.conn(), id.0).unwrap().len();
        let appended = std::cell::Cell::new(false);
        let append_between = |_| {
            if !appended.replace(true) {
                vorgang::db::write_transaction(&mut f.conn(), |conn| append_note(conn, id)).unwrap();
            }
            Ok(())
        };
        let actor = koordination();
        let call = Invocation { actor: &actor, clock: &clock("2026-03-04"), check: &append_between };
        let changed = cases::change_data(&mut f.conn(), &f.ctx(), id, 1, json!({ "ausgangslage": "Nach dem Eintrag." }), call).unwrap();
        assert!(appended.get());
        assert_eq!(changed.row.version, 2);
        assert_note_then_change(&f, id, before);
        let stored = cases::load(&mut f.conn(), &f.registry, id).unwrap();
        assert_eq!(stored.instance.data["ausgangslage"], "Nach dem Eintrag.");
    }
}

both_backends! {
    fn a_change_between_reading_and_writing_is_a_version_conflict(backend) {
        // As above, but in between another command changes the case: the first one must not
        // write over it.
        let f = Fixture::new(backend);
        let id = f.started_application().row.id;
        let changed_between = std::cell::Cell::new(false);
        let change_between = |_| {
            if !changed_between.replace(true) {
                let actor = koordination();
                let check = allow();
                let call = Invocation { actor: &actor, clock: &clock("2026-03-04"), check: &check };
                cases::change_data(&mut f.conn(), &f.ctx(), id, 1, json!({ "ausgangslage": "Dazwischen." }), call).unwrap();
            }
            Ok(())
        };
        let actor = koordination();
        let call = Invocation { actor: &actor, clock: &clock("2026-03-04"), check: &change_between };
        let late = cases::change_data(&mut f.conn(), &f.ctx(), id, 1, json!({ "ausgangslage": "Zu spät." }), call);
        assert!(matches!(late, Err(ServiceError::VersionConflict { current: 2 })), "{late:?}");
        let stored = cases::load(&mut f.conn(), &f.registry, id).unwrap();
        assert_eq!(stored.row.version, 2);
        assert_eq!(stored.instance.data["ausgangslage"], "Dazwischen.");
        assert!(vorgang::journal::verify(&mut f.conn()).unwrap().intact());
    }
}

both_backends! {
    fn the_access_check_runs_before_anything_changes(backend) {
        let f = Fixture::new(backend);
        let case = cases::start_case(&mut f.conn(), &f.ctx(), "ki-antrag", &f.org("05974"), json!({}), &koordination(), &clock("2026-03-04")).unwrap();
        let actor = koordination();
        let deny = |_| Err(ServiceError::Forbidden("nein".into()));
        let call = Invocation { actor: &actor, clock: &clock("2026-03-04"), check: &deny };
        let result = cases::change_data(&mut f.conn(), &f.ctx(), case.row.id, 1, json!({ "ausgangslage": "x" }), call);
        assert!(matches!(result, Err(ServiceError::Forbidden(_))));
        assert_eq!(cases::load(&mut f.conn(), &f.registry, case.row.id).unwrap().row.version, 1);
    }
}

both_backends! {
    fn twenty_concurrent_actions_on_one_version_yield_exactly_one_success(backend) {
        let f = Arc::new(Fixture::new(backend));
        let case = f.started_application();
        let barrier = Arc::new(Barrier::new(20));
        let threads: Vec<_> = (0..20)
            .map(|i| {
                let f = Arc::clone(&f);
                let barrier = Arc::clone(&barrier);
                let id = case.row.id;
                std::thread::spawn(move || {
                    let actor = koordination();
                    let check = allow();
                    let call = Invocation { actor: &actor, clock: &clock("2026-03-04"), check: &check };
                    // Wait for all threads first: the pool has fewer connections than threads.
                    barrier.wait();
                    let mut conn = f.conn();
                    if i % 2 == 0 {
                        cases::take_action(&mut conn, &f.ctx(), id, 1, "beteiligung_starten", None, None, call).map(|_| ())
                    } else {
                        cases::change_data(&mut conn, &f.ctx(), id, 1, json!({ "ausgangslage": format!("Fassung {i}") }), call).map(|_| ())
                    }
                })
            })
            .collect();
        let results: Vec<Result<(), ServiceError>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let successes = results.iter().filter(|r| r.is_ok()).count();
        let conflicts = results.iter().filter(|r| matches!(r, Err(ServiceError::VersionConflict { current: 2 }))).count();
        assert_eq!(successes, 1, "{results:?}");
        assert_eq!(conflicts, 19, "{results:?}");
        let report = vorgang::journal::verify(&mut f.conn()).unwrap();
        assert!(report.breaks.is_empty(), "{:?}", report.breaks);
        assert_eq!(cases::load(&mut f.conn(), &f.registry, case.row.id).unwrap().row.version, 2);
    }
}

both_backends! {
    fn concurrent_creations_never_share_an_aktenzeichen(backend) {
        let f = Arc::new(Fixture::new(backend));
        let barrier = Arc::new(Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let f = Arc::clone(&f);
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    let soest = f.org("05974");
                    barrier.wait();
                    let mut conn = f.conn();
                    cases::start_case(&mut conn, &f.ctx(), "ki-antrag", &soest, json!({}), &koordination(), &clock("2026-03-04"))
                        .map(|case| case.row.aktenzeichen)
                })
            })
            .collect();
        let mut numbers: Vec<String> = threads.into_iter().map(|t| t.join().unwrap().unwrap()).collect();
        numbers.sort();
        let expected: Vec<String> = (1..=8).map(|n| format!("KI-05974-2026-{n:04}")).collect();
        assert_eq!(numbers, expected);
    }
}

/// Takes `action` on the case's current version at 10:00 on `date`.
fn act(
    f: &Fixture,
    id: vorgang::db::models::CaseId,
    action: &str,
    data: Option<Value>,
    actor: &Actor,
    date: &str,
) -> cases::LoadedCase {
    let now = clock(date);
    let check = allow();
    let call = Invocation {
        actor,
        clock: &now,
        check: &check,
    };
    let version = cases::load(&mut f.conn(), &f.registry, id)
        .unwrap()
        .row
        .version;
    cases::take_action(
        &mut f.conn(),
        &f.ctx(),
        id,
        version,
        action,
        None,
        data,
        call,
    )
    .unwrap_or_else(|e| panic!("{action}: {e:?}"))
}

/// Walks an application through the Beteiligung (every partner agrees) and the Kreistag to
/// its submission on 30 March 2026.
fn submit(f: &Fixture, id: vorgang::db::models::CaseId) -> cases::LoadedCase {
    let actor = koordination();
    act(f, id, "beteiligung_starten", None, &actor, "2026-03-04");
    let invitations: Vec<_> = cases::load(&mut f.conn(), &f.registry, id)
        .unwrap()
        .instance
        .invitations
        .iter()
        .map(|i| i.id)
        .collect();
    for invitation in invitations {
        let answer = vorgang::engine::instance::Answer {
            votum: vorgang::engine::instance::Votum::Zustimmung,
            text: "Einverstanden.".into(),
            answered_by: "Schulamt".into(),
            attachment: None,
            received_on: None,
        };
        cases::record_answer(
            &mut f.conn(),
            &f.ctx(),
            id,
            invitation,
            answer,
            &Actor {
                id: "partner".into(),
                roles: vec![],
            },
            &clock("2026-03-10"),
        )
        .unwrap();
    }
    act(
        f,
        id,
        "zum_beschluss",
        Some(json!({ "auswertung": { "zusammenfassung": "Zustimmung." } })),
        &actor,
        "2026-03-11",
    );
    act(
        f,
        id,
        "beschlossen",
        Some(
            json!({ "beschluss": { "gremium": "kreistag", "datum": "2026-03-26", "drucksache": "XV/1" } }),
        ),
        &actor,
        "2026-03-27",
    );
    act(
        f,
        id,
        "einreichen",
        Some(
            json!({ "schwerpunkte": "Sprachbildung", "unterlagen": { "antragsformular": "1", "finanzierungsplan": "2", "arbeitsplan": "3" } }),
        ),
        &actor,
        "2026-03-30",
    )
}

both_backends! {
    fn approval_completes_the_application_and_starts_the_operation_case(backend) {
        let f = Fixture::new(backend);
        let case = f.started_application();
        let submitted = submit(&f, case.row.id);
        assert!(submitted.row.submitted_at.is_some(), "visible to the Bewilligungsbehörde now");
        let bewilligung = Actor { id: "kfi@bra.nrw.de".into(), roles: vec!["bewilligung".into()] };
        let approved = act(&f, case.row.id, "bewilligen", Some(json!({ "bewilligung": { "datum": "2026-04-15", "bescheid": "4" } })), &bewilligung, "2026-04-15");
        assert_eq!(approved.instance.status, CaseStatus::Completed);
        assert_eq!(approved.row.status, "completed");
        assert_eq!(approved.row.outcome.as_deref(), Some("bewilligt"));
        let betrieb: Vec<(String, String)> = vorgang::db::schema::cases::table
            .filter(vorgang::db::schema::cases::workflow_key.eq("ki-betrieb"))
            .select((vorgang::db::schema::cases::aktenzeichen, vorgang::db::schema::cases::status))
            .load(&mut *f.conn())
            .unwrap();
        assert_eq!(betrieb.len(), 1, "the operation case was started in the same transaction");
        assert_eq!(betrieb[0].1, "running");
        let report = vorgang::journal::verify(&mut f.conn()).unwrap();
        assert!(report.breaks.is_empty());
    }
}

both_backends! {
    fn the_operation_case_knows_its_application_and_a_second_approval_starts_no_second_one(backend) {
        use vorgang::db::models::CaseId;
        use vorgang::db::schema::{case_events, cases as case_rows};
        use vorgang::service::case_links::{self, LinkedCase};
        let f = Fixture::new(backend);
        let case = f.started_application();
        submit(&f, case.row.id);
        let bewilligung = Actor { id: "kfi@bra.nrw.de".into(), roles: vec!["bewilligung".into()] };
        let approve = |day: &str| act(&f, case.row.id, "bewilligen", Some(json!({ "bewilligung": { "datum": day, "bescheid": "4" } })), &bewilligung, day);
        let approved = approve("2026-04-15");
        let principal = |org: &str, role: Role| vorgang::auth::Principal {
            user_id: vorgang::db::models::UserId(0),
            email: "someone@example.org".into(),
            organisation_id: f.org(org).id,
            roles: vec![role],
        };
        let own = principal("05974", Role::Lesen);
        let links = case_links::of_case(&mut f.conn(), case.row.id, &own).unwrap();
        assert_eq!(links.origin, None, "the application was started by hand");
        assert_eq!(links.started.len(), 1, "{links:?}");
        let betrieb = links.started[0].clone();
        assert_eq!((betrieb.workflow.as_str(), betrieb.step.as_str(), betrieb.status.as_str()), ("ki-betrieb", "bewilligt", "running"));
        let back = case_links::of_case(&mut f.conn(), CaseId(betrieb.id), &own).unwrap();
        assert_eq!(back.origin, Some(LinkedCase {
            id: case.row.id.0,
            aktenzeichen: case.row.aktenzeichen.clone(),
            workflow: "ki-antrag".into(),
            status: "completed".into(),
            outcome: Some("bewilligt".into()),
            step: "bewilligt".into(),
        }));
        assert!(back.started.is_empty());
        // The started case's journal names where it came from.
        let first: (String, String) = case_events::table
            .filter(case_events::case_id.eq(betrieb.id))
            .order(case_events::seq)
            .select((case_events::kind, case_events::payload))
            .first(&mut *f.conn())
            .unwrap();
        let payload: Value = serde_json::from_str(&first.1).unwrap();
        assert_eq!((first.0.as_str(), &payload["origin"]), ("case_started", &json!(case.row.aktenzeichen)));
        // Another Kreis's coordinator learns nothing of either.
        let foreign = principal("05154", Role::Koordination);
        assert!(case_links::of_case(&mut f.conn(), CaseId(betrieb.id), &foreign).unwrap().is_empty());

        // The approval's date was wrong: the administration moves the application back to the
        // authority, which approves it again. The operation case it started stays the one.
        let admin = Actor { id: "it@kreis-soest.de".into(), roles: vec!["admin".into()] };
        let check = allow();
        let now = clock("2026-04-16");
        vorgang::service::case_relocation::relocate(
            &mut f.conn(), &f.ctx(), case.row.id, approved.row.version,
            ("bewilligung".into(), "Bescheiddatum falsch erfasst".into()),
            Invocation { actor: &admin, clock: &now, check: &check },
        ).unwrap();
        let again = approve("2026-04-16");
        assert_eq!(again.row.status, "completed");
        let operation_cases: i64 = case_rows::table
            .filter(case_rows::workflow_key.eq("ki-betrieb"))
            .count()
            .get_result(&mut *f.conn())
            .unwrap();
        assert_eq!(operation_cases, 1);
        let kinds: Vec<String> = case_events::table
            .filter(case_events::case_id.eq(case.row.id.0))
            .order(case_events::seq)
            .select(case_events::kind)
            .load(&mut *f.conn())
            .unwrap();
        assert_eq!(kinds.iter().filter(|k| *k == "case_start_requested").count(), 1);
        assert_eq!(kinds.iter().filter(|k| *k == "case_start_omitted").count(), 1);
        let links = case_links::of_case(&mut f.conn(), case.row.id, &own).unwrap();
        assert_eq!(links.started.iter().map(|c| c.id).collect::<Vec<_>>(), [betrieb.id]);
        let report = vorgang::journal::verify(&mut f.conn()).unwrap();
        assert!(report.breaks.is_empty());
    }
}

both_backends! {
    fn the_authority_examining_a_withdrawn_application_is_told_it_need_not_go_on(backend) {
        let f = Fixture::new(backend);
        crate::support::auth::create_user(&mut f.conn(), "pruefung@bezreg-arnsberg.nrw.de", "KFI", &[Role::Bewilligung], None);
        let told = |f: &Fixture| -> Vec<(String, String)> {
            outbox::table
                .filter(outbox::template.eq(mail::CASE_ENDED_TEMPLATE))
                .select((outbox::subject, outbox::rendered))
                .load(&mut *f.conn())
                .unwrap()
        };
        // Withdrawn in its draft, at the coordinator's own step: nobody else is told.
        let draft = f.started_application();
        let allow = |_| Ok(());
        let withdraw = |f: &Fixture, case: &cases::LoadedCase, day: &str| {
            let clock = clock(day);
            cases::withdraw(&mut f.conn(), &f.ctx(), case.row.id, case.row.version, Some("Kreistag hat vertagt".into()),
                Invocation { actor: &koordination(), clock: &clock, check: &allow }).unwrap()
        };
        withdraw(&f, &draft, "2026-03-05");
        assert!(told(&f).is_empty());

        // Withdrawn while the Bewilligungsbehörde examines it: its people learn that the step ends.
        let case = f.started_application();
        let submitted = submit(&f, case.row.id);
        let withdrawn = withdraw(&f, &submitted, "2026-04-02");
        assert_eq!(withdrawn.row.status, "withdrawn");
        let mails = told(&f);
        assert_eq!(mails.len(), 1, "{mails:?}");
        let (subject, rendered) = &mails[0];
        assert_eq!(subject, &format!("Vorgang {}: beendet, „Antrag prüfen und bescheiden“ entfällt", submitted.row.aktenzeichen));
        let rendered = Rendered::parse(rendered).unwrap();
        assert_eq!(rendered.to, ["pruefung@bezreg-arnsberg.nrw.de"]);
        assert!(rendered.text.contains("vom Kreis Soest ist beendet (Ergebnis: Zurückgezogen). Der Schritt „Antrag prüfen und bescheiden“, der bei Ihnen lag, entfällt damit"), "{}", rendered.text);
        assert!(!rendered.text.contains("vertagt"), "the reason is for the file: {}", rendered.text);
    }
}

both_backends! {
    fn a_mail_nobody_can_receive_is_held_visibly_and_goes_out_once_an_address_exists(backend) {
        let f = Fixture::new(backend);
        let case = f.started_application();
        let submitted = submit(&f, case.row.id);
        let notice = |f: &Fixture| -> OutboxRow {
            let id: i64 = outbox::table
                .filter(outbox::template.eq("antrag_eingegangen"))
                .select(outbox::id)
                .get_result(&mut *f.conn())
                .expect("exactly one notice of the submission");
            vorgang::mail::outbox::find(&mut f.conn(), id).unwrap().unwrap()
        };

        // Nobody holds the role `bewilligung` yet: the notice is stored as failed, with the reason.
        let held = notice(&f);
        assert_eq!(held.status, "failed");
        assert_eq!(held.attempts, 0);
        let reason = "Keine Empfängeradresse: Niemand mit der Rolle „bewilligung“ hat ein aktives Konto. \
                      Bitte tragen Sie eine Adresse nach und senden Sie die Mail dann erneut.";
        assert_eq!(held.last_error.as_deref(), Some(reason));
        assert_eq!(Rendered::parse(&held.rendered).unwrap().to, Vec::<String>::new());
        assert!(held.subject.contains(&submitted.row.aktenzeichen), "{}", held.subject);

        // Delivery leaves it alone; every other mail goes out.
        let server = SmtpServer::start();
        let deliverer = crate::mail::smtp_deliverer(&f.pool, server.port, 3);
        let round = crate::mail::deliver(&deliverer);
        assert_eq!(round.failed, 0, "{round:?}");
        assert!(round.sent > 0, "{round:?}");
        let before = server.received().len();
        assert_eq!(notice(&f).status, "failed");

        // A retry while there still is nobody is refused with the same reason and changes nothing.
        let now = clock("2026-03-31").now.naive_utc();
        let refused = mail::retry(&mut f.conn(), held.id, now);
        assert!(matches!(refused, Err(RetryError::NoAddress(ref r)) if r == reason), "{refused:?}");
        let unchanged = notice(&f);
        assert_eq!((unchanged.status.as_str(), unchanged.rendered.as_str()), ("failed", held.rendered.as_str()));

        // Once an account with the role exists, the retry addresses the mail to it; it arrives once.
        crate::support::auth::create_user(&mut f.conn(), "pruefung@bezreg-arnsberg.nrw.de", "KFI", &[Role::Bewilligung], None);
        let retried = mail::retry(&mut f.conn(), held.id, now).unwrap();
        assert_eq!(retried.status, "pending");
        assert_eq!(Rendered::parse(&retried.rendered).unwrap().to, ["pruefung@bezreg-arnsberg.nrw.de"]);
        assert_eq!(crate::mail::deliver(&deliverer).sent, 1);
        let received = server.received();
        assert_eq!(received.len(), before + 1);
        let arrived = received.last().unwrap();
        assert_eq!(arrived.to, ["pruefung@bezreg-arnsberg.nrw.de"]);
        assert_eq!(arrived.parsed().message_id(), Some(held.message_id.trim_matches(['<', '>'])));
        let text = arrived.parsed().body_text(0).unwrap().replace("\r\n", "\n");
        assert!(text.contains("Sehr geehrte Damen und Herren,\n\nder Kreis Soest hat im Verfahren"), "{text}");
        assert_eq!(notice(&f).status, "sent");
    }
}

both_backends! {
    fn unchanged_workflow_files_do_not_make_new_versions(backend) {
        let f = Fixture::new(backend);
        let again = f.registry.sync_directory(&mut f.conn(), &sources(), clock("2026-03-02").now.naive_utc()).unwrap();
        assert_eq!(again, Vec::<(String, i32)>::new());
        let yaml = std::fs::read_to_string(sources().workflows_dir.join("ki-anregung.yaml")).unwrap();
        let changed = yaml.replacen("title: ", "title: Geänderte ", 1);
        let deployed = f.registry.deploy(&mut f.conn(), &sources(), &changed, "admin", clock("2026-03-02").now.naive_utc()).unwrap();
        assert_eq!(deployed.version, 2);
        let same = f.registry.deploy(&mut f.conn(), &sources(), &changed, "admin", clock("2026-03-03").now.naive_utc()).unwrap();
        assert_eq!(same.version, 2, "same content, same version");
        let broken = f.registry.deploy(&mut f.conn(), &sources(), "workflow: x\n", "admin", clock("2026-03-03").now.naive_utc());
        assert!(matches!(broken, Err(ServiceError::InvalidDefinition(ref d)) if !d.is_empty()));
        let _: &mut DbConnection = &mut f.conn();
    }
}

both_backends! {
    fn a_fired_timer_is_marked_in_the_same_transaction(backend) {
        let f = Fixture::new(backend);
        let case = f.started_application();
        let actor = koordination();
        let check = allow();
        let call = Invocation { actor: &actor, clock: &clock("2026-03-04"), check: &check };
        let opened = cases::take_action(&mut f.conn(), &f.ctx(), case.row.id, 1, "beteiligung_starten", None, None, call).unwrap();
        let reminder = opened.instance.timers.iter().find(|t| matches!(t.purpose, vorgang::engine::instance::TimerPurpose::ConsultationReminder { .. })).unwrap().id;
        cases::fire_timer(&mut f.conn(), &f.ctx(), case.row.id, reminder, &clock("2026-03-25")).unwrap();
        let status: String = timers::table
            .filter(timers::case_id.eq(case.row.id))
            .filter(timers::local_id.eq(reminder.0 as i64))
            .select(timers::status)
            .first(&mut *f.conn())
            .unwrap();
        assert_eq!(status, "fired");
        let reminders: i64 = outbox::table
            .filter(outbox::template.eq("beteiligung_erinnerung"))
            .count()
            .get_result(&mut *f.conn())
            .unwrap();
        assert_eq!(reminders, 2, "one reminder mail per unanswered participant");
        let counted: Vec<i32> = vorgang::db::schema::invitations::table
            .filter(vorgang::db::schema::invitations::case_id.eq(case.row.id))
            .select(vorgang::db::schema::invitations::reminders_sent)
            .load(&mut *f.conn())
            .unwrap();
        assert_eq!(counted, [1, 1]);
        // Firing it again is refused and changes nothing.
        let again = cases::fire_timer(&mut f.conn(), &f.ctx(), case.row.id, reminder, &clock("2026-03-25"));
        assert!(matches!(again, Err(ServiceError::Engine(_))), "{again:?}");
    }
}

both_backends! {
    fn lists_sort_by_stand_in_procedure_order_and_older_cases_are_ranked(backend) {
        let f = Fixture::new(backend);
        let actor = koordination();
        let check = allow();
        let call = Invocation { actor: &actor, clock: &clock("2026-03-04"), check: &check };
        // „Entwurf“ comes before „Beteiligung“ in the procedure, after it by key.
        let drafting = f.started_application();
        let consulting = f.started_application();
        cases::take_action(&mut f.conn(), &f.ctx(), consulting.row.id, 1, "beteiligung_starten", None, None, call).unwrap();
        let order = |descending: bool| {
            f.listed(&Default::default(), vorgang::service::case_list::Sort { key: vorgang::service::case_list::SortKey::Stand, descending })
        };
        let ids = [drafting.row.id.0, consulting.row.id.0];
        assert_eq!(order(false), ids);
        assert_eq!(order(true), [ids[1], ids[0]]);

        // Cases from before the column: ranked at start-up, once, as a command would have.
        let ranks = |conn: &mut DbConnection| -> Vec<Option<i32>> {
            vorgang::db::schema::cases::table
                .order(vorgang::db::schema::cases::id)
                .select(vorgang::db::schema::cases::stand_rank)
                .load(conn)
                .unwrap()
        };
        let written = ranks(&mut f.conn());
        assert_eq!(written.len(), 2);
        assert!(written[0].unwrap() < written[1].unwrap(), "{written:?}");
        diesel::update(vorgang::db::schema::cases::table)
            .set(vorgang::db::schema::cases::stand_rank.eq(None::<i32>))
            .execute(&mut f.conn())
            .unwrap();
        assert_eq!(vorgang::service::case_list::rank_unranked(&mut f.conn(), &f.registry).unwrap(), 2);
        assert_eq!(ranks(&mut f.conn()), written);
        assert_eq!(vorgang::service::case_list::rank_unranked(&mut f.conn(), &f.registry).unwrap(), 0);
    }
}

both_backends! {
    fn lists_sort_by_the_next_deadline_and_older_cases_get_theirs(backend) {
        use vorgang::db::schema::cases as table;
        use vorgang::service::case_list::{Sort, SortKey};
        use vorgang::service::next_deadline::{NO_DEADLINE, fill_unknown};
        let f = Fixture::new(backend);
        let actor = koordination();
        let check = allow();
        // Two Beteiligungen started on different days, so their deadlines differ, and a draft
        // without any deadline.
        let consulted = |day: &str| {
            let case = f.started_application();
            let call = Invocation { actor: &actor, clock: &clock(day), check: &check };
            cases::take_action(&mut f.conn(), &f.ctx(), case.row.id, 1, "beteiligung_starten", None, None, call).unwrap()
        };
        let later = consulted("2026-03-20");
        let drafting = f.started_application();
        let earlier = consulted("2026-03-04");
        let deadline = |case: &cases::LoadedCase| case.instance.invitations[0].deadline;
        assert!(deadline(&earlier) < deadline(&later), "{} {}", deadline(&earlier), deadline(&later));

        let stored = |conn: &mut DbConnection| -> Vec<Option<chrono::NaiveDate>> {
            table::table.order(table::id).select(table::next_deadline).load(conn).unwrap()
        };
        let written = stored(&mut f.conn());
        assert_eq!(written, [Some(deadline(&later)), Some(NO_DEADLINE), Some(deadline(&earlier))]);

        let order = |descending: bool| f.listed(&Default::default(), Sort { key: SortKey::Deadline, descending });
        let (first, second) = (deadline(&earlier), deadline(&later));
        let [later, drafting, earlier] = [later.row.id.0, drafting.row.id.0, earlier.row.id.0];
        // The case without a deadline comes last in either direction.
        assert_eq!(order(false), [earlier, later, drafting]);
        assert_eq!(order(true), [later, earlier, drafting]);
        // Filtered to what is due by a day: passed deadlines count, cases without one never.
        let due_by = |day: chrono::NaiveDate| {
            let filter = vorgang::service::case_list::CaseFilter { due_by: Some(day), ..Default::default() };
            f.listed(&filter, Sort { key: SortKey::Deadline, descending: false })
        };
        assert_eq!(due_by(first.pred_opt().unwrap()), Vec::<i64>::new());
        assert_eq!(due_by(first), [earlier]);
        assert_eq!(due_by(second), [earlier, later]);
        assert_eq!(due_by(NO_DEADLINE), [earlier, later], "a case without a deadline is never due");

        // Leaving the Beteiligung for a step without a deadline writes that too.
        let withdrawn = cases::withdraw(&mut f.conn(), &f.ctx(), vorgang::db::models::CaseId(earlier), 2, None, Invocation { actor: &actor, clock: &clock("2026-03-05"), check: &check });
        assert!(withdrawn.is_ok(), "{withdrawn:?}");
        assert_eq!(stored(&mut f.conn())[2], Some(NO_DEADLINE));
        assert_eq!(order(false), [later, drafting, earlier]);

        // Cases from before the column: computed at start-up, once, as a command would have.
        let written = stored(&mut f.conn());
        diesel::update(table::table)
            .set(table::next_deadline.eq(None::<chrono::NaiveDate>))
            .execute(&mut f.conn())
            .unwrap();
        assert_eq!(fill_unknown(&mut f.conn(), &f.registry).unwrap(), 3);
        assert_eq!(stored(&mut f.conn()), written);
        assert_eq!(fill_unknown(&mut f.conn(), &f.registry).unwrap(), 0);
    }
}

both_backends! {
    fn each_role_changes_only_the_data_it_is_editor_of(backend) {
        let f = Fixture::new(backend);
        let case = f.started_application();
        let submitted = submit(&f, case.row.id);
        let bewilligung = Actor { id: "kfi@bra.nrw.de".into(), roles: vec!["bewilligung".into()] };
        let change = |actor: &Actor, version: i64, patch: Value| {
            let now = clock("2026-04-02");
            let check = allow();
            let call = Invocation { actor, clock: &now, check: &check };
            cases::change_data(&mut f.conn(), &f.ctx(), case.row.id, version, patch, call)
        };
        let refused = |result: Result<cases::LoadedCase, ServiceError>| match result {
            Err(ServiceError::InvalidData(errors)) => errors.into_iter().map(|e| (e.pointer, e.message)).collect::<Vec<_>>(),
            Err(other) => panic!("expected InvalidData, got {other:?}"),
            Ok(case) => panic!("expected InvalidData, the change went through (version {})", case.row.version),
        };
        let version = submitted.row.version;

        // The Bewilligungsbehörde may not rewrite the Antrag, not even together with its own part.
        let errors = refused(change(&bewilligung, version, json!({
            "antragsteller": { "ansprechperson": "Jemand anderes" },
            "bewilligung": { "datum": "2026-04-02" },
        })));
        assert_eq!(errors, [(
            "/antragsteller/ansprechperson".to_string(),
            "„Ansprechperson“ ändert nur die Rolle „Koordination (Kreis bzw. kreisfreie Stadt)“; Ihre Änderung wurde nicht übernommen.".to_string(),
        )]);
        // The applicant changes nothing while the authority examines its Antrag: neither the
        // decision nor its own part.
        for patch in [json!({ "bewilligung": { "datum": "2026-04-02" } }), json!({ "zentrum_name": "Umbenannt" })] {
            match change(&koordination(), version, patch) {
                Err(ServiceError::Refused(reasons)) => assert_eq!(
                    reasons[0].message(),
                    "Solange der Schritt „Antrag prüfen und bescheiden“ läuft, ändert die Angaben nur: \
                     Bewilligungsbehörde (Kompetenzzentrum für Integration, Bezirksregierung Arnsberg)."
                ),
                other => panic!("expected a refusal, got {:?}", other.map(|c| c.row.version)),
            }
        }
        let stored = cases::load(&mut f.conn(), &f.registry, case.row.id).unwrap();
        assert_eq!(stored.row.version, version, "nothing was written");
        assert_eq!(stored.instance.data, submitted.instance.data);

        // Each writes its own part; a value sent unchanged is no change.
        let decided = change(&bewilligung, version, json!({
            "bewilligung": { "datum": "2026-04-02" },
            "zentrum_name": submitted.instance.data["zentrum_name"].clone(),
        })).unwrap();
        assert_eq!(decided.instance.data["bewilligung"]["datum"], "2026-04-02");
        let refused_action = cases::take_action(
            &mut f.conn(), &f.ctx(), case.row.id, decided.row.version, "bewilligen", None,
            Some(json!({ "bewilligung": { "bescheid": "4" }, "arbeitsaufnahme": "2026-10-01" })),
            Invocation { actor: &bewilligung, clock: &clock("2026-04-02"), check: &allow() },
        );
        assert_eq!(refused(refused_action)[0].0, "/arbeitsaufnahme", "an action's data is judged alike");

        // Returned for revision, the Antrag is the applicant's again and the decision is closed.
        let returned = cases::take_action(
            &mut f.conn(), &f.ctx(), case.row.id, decided.row.version, "zurueckgeben", None,
            Some(json!({ "bewilligung": { "hinweise": "Bitte den Standort ergänzen." } })),
            Invocation { actor: &bewilligung, clock: &clock("2026-04-02"), check: &allow() },
        ).unwrap();
        let revised = change(&koordination(), returned.row.version, json!({ "zentrum_name": "Umbenannt" })).unwrap();
        assert_eq!(revised.instance.data["zentrum_name"], "Umbenannt");
        assert!(matches!(
            change(&bewilligung, revised.row.version, json!({ "bewilligung": { "datum": "2026-04-03" } })),
            Err(ServiceError::Refused(_))
        ));
    }
}
