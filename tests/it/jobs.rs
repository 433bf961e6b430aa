//! Periodic jobs on both databases: each scheduled run happens once (the run lock), is recorded
//! with its counts, and the jobs do what they promise.

use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use vorgang::db::models::Organisation;
use vorgang::db::schema::{job_runs, outbox, partner_links};
use vorgang::engine::Actor;
use vorgang::scheduler::jobs::{JobContext, JobName, Jobs, RunOutcome, latest_runs, run_locked};
use vorgang::service::cases::{self, Invocation};

use crate::support::TestDatabase;
use crate::support::api::job_context;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

/// Starts the consultation of a new case on 4 March 2026 (deadline 1 April, reminder 25 March).
fn consultation(conn: &mut vorgang::db::DbConnection, api: &vorgang::web::api::ApiState) {
    let ctx = api.case_context();
    let soest = Organisation::find_by_key(conn, "05974").unwrap().unwrap();
    let actor = Actor {
        id: "k@kreis-soest.de".into(),
        roles: vec!["koordination".into()],
    };
    let clock = vorgang::service::clock::at(at("2026-03-04T09:00:00+01:00"));
    let case = cases::start_case(
        conn,
        &ctx,
        "ki-antrag",
        &soest,
        crate::beteiligung::application(),
        &actor,
        &clock,
    )
    .unwrap();
    let allow = |_| Ok(());
    let call = Invocation {
        actor: &actor,
        clock: &clock,
        check: &allow,
    };
    cases::take_action(
        conn,
        &ctx,
        case.row.id,
        1,
        "beteiligung_starten",
        None,
        None,
        call,
    )
    .unwrap();
}

both_backends! {
    fn a_scheduled_run_happens_once_and_is_recorded(backend) {
        let db = TestDatabase::migrated(backend);
        let pool = db.pool(4);
        let dir = tempfile::tempdir().unwrap();
        let api = crate::support::api::state(&pool, dir.path());
        let jobs = Jobs::default();
        let mut conn = pool.get().unwrap();
        consultation(&mut conn, &api);
        let context = |owner| job_context(&api, &jobs, owner);

        let scheduled = jobs.get(JobName::Reminders).unwrap().schedule
            .next_after(at("2026-03-24T12:00:00+01:00")).unwrap().to_utc();
        assert_eq!(scheduled, at("2026-03-25T07:00:00+01:00"));
        let first = run_locked(&mut conn, &context("a"), JobName::Reminders, scheduled, scheduled).unwrap();
        let RunOutcome::Ran { run_id, counts } = first else { panic!("{first:?}") };
        assert_eq!(counts["fired"], 1);
        let reminders: i64 = outbox::table.filter(outbox::template.eq("beteiligung_erinnerung")).count().get_result(&mut conn).unwrap();
        assert_eq!(reminders, 2, "one reminder per unanswered partner");

        // A second instance waking for the same time loses the insert and does nothing.
        let second = run_locked(&mut pool.get().unwrap(), &context("b"), JobName::Reminders, scheduled, scheduled).unwrap();
        assert_eq!(second, RunOutcome::Skipped);
        let rows: i64 = job_runs::table.count().get_result(&mut conn).unwrap();
        assert_eq!(rows, 1);

        let runs = latest_runs(&mut conn, 50).unwrap();
        assert_eq!(runs.len(), 1);
        let run = &runs[0];
        assert_eq!((run.id, run.job.as_str(), run.outcome.as_str(), run.owner.as_str()), (run_id, "reminders", "ok", "a"));
        assert_eq!(run.scheduled_for, scheduled.naive_utc());
        assert!(run.finished_at.is_some());
        let counts: serde_json::Value = serde_json::from_str(&run.counts).unwrap();
        assert_eq!(counts, serde_json::json!({"fired": 1, "stale": 0, "failed": 0, "wiedervorlagen": 0, "zeitraeume": 0}));

        // The same job at another time is another run.
        let next = at("2026-03-26T07:00:00+01:00");
        let third = run_locked(&mut conn, &context("b"), JobName::Reminders, next, next).unwrap();
        assert!(matches!(third, RunOutcome::Ran { ref counts, .. } if counts["fired"] == 0), "{third:?}");
        assert_eq!(latest_runs(&mut conn, 50).unwrap().len(), 2);
        assert_eq!(latest_runs(&mut conn, 1).unwrap().len(), 1);
    }
}

both_backends! {
    fn housekeeping_forgets_failed_logins_once_their_allowance_is_full(backend) {
        use vorgang::auth::LoginLimiter;
        use vorgang::auth::limiter::LimitKey;
        use vorgang::db::schema::attempt_limits;

        let db = TestDatabase::migrated(backend);
        let pool = db.pool(2);
        let dir = tempfile::tempdir().unwrap();
        let api = crate::support::api::state(&pool, dir.path());
        let jobs = Jobs::default();
        let mut conn = pool.get().unwrap();
        let ctx = job_context(&api, &jobs, "a");
        // Three failed logins at 03:00; with five per 15 minutes one refills every three
        // minutes, so both keys count until 03:09.
        let keys = [LimitKey::account("anna@kreis-soest.de"), LimitKey::address(Some("198.51.100.7".parse().unwrap()))];
        for _ in 0..3 {
            drop(LoginLimiter::default().reserve_at(&mut conn, &keys, at("2026-03-10T03:00:00+01:00")).unwrap());
        }
        let rows = |conn: &mut vorgang::db::DbConnection| -> i64 { attempt_limits::table.count().get_result(conn).unwrap() };
        assert_eq!(rows(&mut conn), 2);
        let run = |conn: &mut vorgang::db::DbConnection, time: &str| {
            let RunOutcome::Ran { counts, .. } = run_locked(conn, &ctx, JobName::Housekeeping, at(time), at(time)).unwrap() else { panic!("did not run") };
            counts["attempt_limits_deleted"].clone()
        };
        assert_eq!(run(&mut conn, "2026-03-10T03:05:00+01:00"), 0);
        assert_eq!(rows(&mut conn), 2, "still counting");
        assert_eq!(run(&mut conn, "2026-03-10T03:30:00+01:00"), 2);
        assert_eq!(rows(&mut conn), 0);
    }
}

both_backends! {
    fn housekeeping_deletes_unusable_links_and_old_sent_mails(backend) {
        let db = TestDatabase::migrated(backend);
        let pool = db.pool(2);
        let dir = tempfile::tempdir().unwrap();
        let api = crate::support::api::state(&pool, dir.path());
        let jobs = Jobs::default();
        let mut conn = pool.get().unwrap();
        consultation(&mut conn, &api);
        let ctx = job_context(&api, &jobs, "a");
        let links: i64 = partner_links::table.count().get_result(&mut conn).unwrap();
        assert_eq!(links, 2, "one link per invited partner");
        let mails: Vec<i64> = outbox::table.order(outbox::id).select(outbox::id).load(&mut conn).unwrap();
        assert_eq!(mails.len(), 2, "one invitation per partner: {mails:?}");

        // One link revoked; one mail sent 91 days before the run, the other 89 days.
        let now = at("2026-03-10T03:30:00+01:00");
        let first_link: String = partner_links::table.order(partner_links::jti).select(partner_links::jti).first(&mut conn).unwrap();
        diesel::update(partner_links::table.find(&first_link))
            .set(partner_links::revoked_at.eq(now.naive_utc() - TimeDelta::days(1)))
            .execute(&mut conn).unwrap();
        for (id, days) in [(mails[0], 91), (mails[1], 89)] {
            diesel::update(outbox::table.find(id))
                .set((outbox::status.eq("sent"), outbox::sent_at.eq(now.naive_utc() - TimeDelta::days(days))))
                .execute(&mut conn).unwrap();
        }

        let outcome = run_locked(&mut conn, &ctx, JobName::Housekeeping, now, now).unwrap();
        let RunOutcome::Ran { counts, .. } = outcome else { panic!("{outcome:?}") };
        assert_eq!(counts["partner_links_deleted"], 1, "only the revoked link; the other is still valid");
        assert_eq!(counts["outbox_deleted"], 1, "only the mail sent more than 90 days ago");
        let left: Vec<i64> = outbox::table.order(outbox::id).select(outbox::id).load(&mut conn).unwrap();
        assert_eq!(left, mails[1..].to_vec());

        // A year later the remaining link has expired.
        let later = at("2027-03-10T03:30:00+01:00");
        let outcome = run_locked(&mut conn, &ctx, JobName::Housekeeping, later, later).unwrap();
        let RunOutcome::Ran { counts, .. } = outcome else { panic!("{outcome:?}") };
        assert_eq!(counts["partner_links_deleted"], 1);
        let links: i64 = partner_links::table.count().get_result(&mut conn).unwrap();
        assert_eq!(links, 0);
    }
}

both_backends! {
    fn housekeeping_deletes_ended_browser_sessions(backend) {
        use vorgang::auth::session::{self, SessionLifetimes, Started};
        use vorgang::db::models::Role;
        use vorgang::db::schema::ui_sessions;

        let db = TestDatabase::migrated(backend);
        let pool = db.pool(2);
        let dir = tempfile::tempdir().unwrap();
        let api = crate::support::api::state(&pool, dir.path());
        let jobs = Jobs::default();
        let mut conn = pool.get().unwrap();
        let user = crate::support::auth::create_user(&mut conn, "a@kreis-soest.de", "05974", &[Role::Lesen], None);
        let now = at("2026-03-10T03:30:00+01:00");
        let lifetimes = SessionLifetimes::default();
        // Started 10 and 30 minutes ago, 2 hours ago (idle too long), 9 hours ago (expired).
        for minutes in [10, 30, 120, 540] {
            session::create(&mut conn, user.id, now.naive_utc() - TimeDelta::minutes(minutes), lifetimes, None, Started::Password).unwrap();
        }
        let ctx = job_context(&api, &jobs, "a");
        let outcome = run_locked(&mut conn, &ctx, JobName::Housekeeping, now, now).unwrap();
        let RunOutcome::Ran { counts, .. } = outcome else { panic!("{outcome:?}") };
        assert_eq!(counts["ui_sessions_deleted"], 2);
        let left: i64 = ui_sessions::table.count().get_result(&mut conn).unwrap();
        assert_eq!(left, 2);

        // With the configured lifetimes (3 hours idle), not the defaults (1 hour): a session
        // unused for 2 hours is alive, one unused for 3 hours and 20 minutes is not.
        let policy = SessionLifetimes { idle: TimeDelta::hours(3), absolute: TimeDelta::hours(12) };
        diesel::delete(ui_sessions::table).execute(&mut conn).unwrap();
        for minutes in [120, 200] {
            session::create(&mut conn, user.id, now.naive_utc() - TimeDelta::minutes(minutes), policy, None, Started::Password).unwrap();
        }
        let configured = Jobs { sessions: policy, ..Jobs::default() };
        let ctx = JobContext { jobs: &configured, ..ctx };
        let next = now + TimeDelta::seconds(1);
        let outcome = run_locked(&mut conn, &ctx, JobName::Housekeeping, next, next).unwrap();
        let RunOutcome::Ran { counts, .. } = outcome else { panic!("{outcome:?}") };
        assert_eq!(counts["ui_sessions_deleted"], 1);
        let left: i64 = ui_sessions::table.count().get_result(&mut conn).unwrap();
        assert_eq!(left, 1);
    }
}

both_backends! {
    async fn administrators_see_the_jobs_and_their_latest_runs(backend) {
        use actix_web::test as actix_test;
        use vorgang::auth::{Signer, StaffTokens};
        use vorgang::db::models::Role;

        let db = TestDatabase::migrated(backend);
        let pool = db.pool(2);
        let dir = tempfile::tempdir().unwrap();
        let admin = {
            let mut conn = db.connection();
            let tokens = StaffTokens::new(std::sync::Arc::new(Signer::new(&crate::support::auth::test_secret())), StaffTokens::DEFAULT_LIFETIME);
            let admin = crate::support::auth::create_user(&mut conn, "admin@kreis-soest.de", "05974", &[Role::Admin], None);
            tokens.issue(vorgang::auth::StaffToken::of(&admin)).unwrap().token
        };
        let api = crate::support::api::state(&pool, dir.path());
        {
            let ctx = job_context(&api, &api.jobs, "instanz-a");
            let mut conn = pool.get().unwrap();
            for day in ["2026-03-10", "2026-03-11"] {
                let now = at(&format!("{day}T03:30:00+01:00"));
                run_locked(&mut conn, &ctx, JobName::Housekeeping, now, now).unwrap();
            }
        }
        let app = actix_test::init_service(vorgang::web::app(pool.clone(), crate::support::auth::test_auth(), api)).await;
        let request = actix_test::TestRequest::get()
            .uri("/api/v1/admin/jobs")
            .insert_header(("Authorization", format!("Bearer {admin}")))
            .to_request();
        let body: serde_json::Value = actix_test::call_and_read_body_json(&app, request).await;
        let jobs = body["jobs"].as_array().unwrap();
        let names: Vec<&str> = jobs.iter().map(|j| j["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["reminders", "digest", "housekeeping", "backup"]);
        assert_eq!(jobs[3]["enabled"], false, "no backup_dir, no backup");
        assert_eq!(jobs[0]["schedule"], "0 0 7 * * MON-FRI");
        assert_eq!(jobs[0]["enabled"], true);
        let next = DateTime::parse_from_rfc3339(jobs[0]["next_run"].as_str().unwrap()).unwrap();
        assert!(next.to_utc() > Utc::now());
        let runs = body["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0]["scheduled_for"], "2026-03-11T02:30:00Z", "newest first: {body}");
        assert_eq!(runs[0]["job"], "housekeeping");
        assert_eq!(runs[0]["outcome"], "ok");
        assert_eq!(runs[0]["owner"], "instanz-a");
        assert_eq!(runs[0]["counts"], serde_json::json!({"partner_links_deleted": 0, "outbox_deleted": 0, "ui_sessions_deleted": 0, "absences_deleted": 0, "attempt_limits_deleted": 0}));
    }
}

both_backends! {
    fn due_wiedervorlagen_are_mailed_once_to_whoever_set_them(backend) {
        use vorgang::db::models::{CaseId, Role};
        use vorgang::db::schema::{follow_ups, users};
        use vorgang::scheduler::jobs::execute;
        use crate::support::auth::create_user;
        let db = TestDatabase::migrated(backend);
        let pool = db.pool(4);
        let dir = tempfile::tempdir().unwrap();
        let api = crate::support::api::state(&pool, dir.path());
        let jobs = Jobs::default();
        let mut conn = pool.get().unwrap();
        let anna = create_user(&mut conn, "anna@kreis-soest.de", "05974", &[Role::Koordination], None);
        let ben = create_user(&mut conn, "ben@kreis-soest.de", "05974", &[Role::Koordination], None);
        let gone = create_user(&mut conn, "gone@kreis-soest.de", "05974", &[Role::Koordination], None);
        let moved = create_user(&mut conn, "moved@kreis-soest.de", "05974", &[Role::Koordination], None);
        let soest = Organisation::find_by_key(&mut conn, "05974").unwrap().unwrap();
        let actor = Actor { id: "anna@kreis-soest.de".into(), roles: vec!["koordination".into()] };
        // Set on Thursday 5 March 2026 for the days around the run on Monday 9 March.
        let thursday = vorgang::service::clock::at(at("2026-03-05T10:00:00+01:00"));
        let case = cases::start_case(&mut conn, &api.case_context(), "ki-antrag", &soest, serde_json::json!({}), &actor, &thursday).unwrap();
        let az = case.row.aktenzeichen.clone();
        let allow = |_| Ok(());
        let mut set = |user: &vorgang::db::models::User, due: &str, reason: &str| {
            vorgang::service::follow_ups::set(&mut conn, CaseId(case.row.id.0), user.id, (due, reason), &thursday, &allow).unwrap().id
        };
        set(&anna, "2026-03-07", "Samstags fällig");
        set(&anna, "2026-03-09", "Heute fällig");
        set(&anna, "2026-03-10", "Morgen fällig");
        let closed = set(&anna, "2026-03-09", "Schon erledigt");
        set(&ben, "2026-03-09", "Bens Sache");
        set(&gone, "2026-03-09", "Konto deaktiviert");
        set(&moved, "2026-03-09", "Kreis gewechselt");
        let anna_principal = vorgang::auth::Principal::load(&mut conn, anna.id).unwrap().unwrap();
        vorgang::service::follow_ups::close(&mut conn, CaseId(case.row.id.0), closed, &anna_principal, thursday.now.naive_utc(), &allow).unwrap();
        diesel::update(users::table.find(gone.id.0)).set(users::active.eq(false)).execute(&mut conn).unwrap();
        let kleve = Organisation::find_by_key(&mut conn, "05154").unwrap().unwrap();
        diesel::update(users::table.find(moved.id.0)).set(users::organisation_id.eq(kleve.id.0)).execute(&mut conn).unwrap();

        let context = job_context(&api, &jobs, "t");
        let monday = at("2026-03-09T07:00:00+01:00");
        let counts = execute(&mut conn, &context, JobName::Reminders, monday).unwrap();
        assert_eq!(counts["wiedervorlagen"], 2, "{counts:?}");
        let mails: Vec<(String, String, String)> = outbox::table
            .filter(outbox::template.eq("wiedervorlage"))
            .order(outbox::id)
            .select((outbox::subject, outbox::rendered, outbox::recipients))
            .load(&mut conn)
            .unwrap();
        assert_eq!(mails.len(), 2, "{mails:?}");
        let (subject, rendered, recipients) = &mails[0];
        assert_eq!(subject, "2 Wiedervorlagen zum 09.03.2026");
        let rendered: serde_json::Value = serde_json::from_str(rendered).unwrap();
        assert_eq!(rendered["to"], serde_json::json!(["anna@kreis-soest.de"]));
        let text = rendered["text"].as_str().unwrap();
        assert!(text.starts_with("Guten Tag Test Person,"), "{text}");
        assert!(text.contains(&format!("- {az}: Samstags fällig (fällig seit Samstag, 07.03.2026)")), "{text}");
        assert!(text.contains(&format!("- {az}: Heute fällig\n  https://vorgang.test/vorgaenge/{}#wiedervorlage", case.row.id.0)), "{text}");
        assert!(!text.contains("Morgen fällig") && !text.contains("Schon erledigt"), "{text}");
        assert!(recipients.contains("\"user\""), "{recipients}");
        let (subject, rendered, _) = &mails[1];
        assert_eq!(subject, &format!("Wiedervorlage: {az} – Bens Sache"));
        assert!(rendered.contains("ben@kreis-soest.de"));
        assert!(!mails.iter().any(|m| m.1.contains("Konto deaktiviert") || m.1.contains("Kreis gewechselt")));

        // The next morning: only what came due since, each once.
        let tuesday = at("2026-03-10T07:00:00+01:00");
        let counts = execute(&mut conn, &context, JobName::Reminders, tuesday).unwrap();
        assert_eq!(counts["wiedervorlagen"], 1, "{counts:?}");
        let last: String = outbox::table.filter(outbox::template.eq("wiedervorlage")).order(outbox::id.desc()).select(outbox::rendered).first(&mut conn).unwrap();
        assert!(last.contains("Morgen fällig") && !last.contains("Heute fällig"), "{last}");
        let again = execute(&mut conn, &context, JobName::Reminders, tuesday).unwrap();
        assert_eq!(again["wiedervorlagen"], 0);
        let unmailed: i64 = follow_ups::table.filter(follow_ups::notified_at.is_null()).count().get_result(&mut conn).unwrap();
        assert_eq!(unmailed, 3, "closed, deactivated and moved stay unmailed");
    }
}

both_backends! {
    fn while_a_user_is_away_the_deputy_is_mailed_the_due_wiedervorlagen_too(backend) {
        use vorgang::db::models::{CaseId, Role};
        use vorgang::db::schema::users;
        use vorgang::scheduler::jobs::execute;
        use crate::support::auth::create_user;
        let db = TestDatabase::migrated(backend);
        let pool = db.pool(4);
        let dir = tempfile::tempdir().unwrap();
        let api = crate::support::api::state(&pool, dir.path());
        let jobs = Jobs::default();
        let mut conn = pool.get().unwrap();
        let anna = create_user(&mut conn, "anna@kreis-soest.de", "05974", &[Role::Koordination], None);
        let ben = create_user(&mut conn, "ben@kreis-soest.de", "05974", &[Role::Koordination], None);
        for (user, name) in [(&anna, "Anna Berger"), (&ben, "Ben Kaya")] {
            diesel::update(users::table.find(user.id.0)).set(users::display_name.eq(name)).execute(&mut conn).unwrap();
        }
        let soest = Organisation::find_by_key(&mut conn, "05974").unwrap().unwrap();
        let actor = Actor { id: "anna@kreis-soest.de".into(), roles: vec!["koordination".into()] };
        let thursday = vorgang::service::clock::at(at("2026-03-05T10:00:00+01:00"));
        let case = cases::start_case(&mut conn, &api.case_context(), "ki-antrag", &soest, serde_json::json!({}), &actor, &thursday).unwrap();
        let az = case.row.aktenzeichen.clone();
        let allow = |_| Ok(());
        vorgang::service::follow_ups::set(&mut conn, CaseId(case.row.id.0), anna.id, ("2026-03-09", "Rückmeldung des Schulamts prüfen"), &thursday, &allow).unwrap();
        vorgang::service::follow_ups::set(&mut conn, CaseId(case.row.id.0), anna.id, ("2026-03-16", "Nach dem Urlaub prüfen"), &thursday, &allow).unwrap();
        // Anna is away until Friday 13 March; Ben stands in.
        let anna_principal = vorgang::auth::Principal::load(&mut conn, anna.id).unwrap().unwrap();
        let absence = vorgang::service::absences::set(&mut conn, &anna_principal, ("13.03.2026", &ben.id.0.to_string()), thursday.today, thursday.now.naive_utc()).unwrap();
        assert_eq!((absence.until, absence.deputy_name.as_str()), (chrono::NaiveDate::from_ymd_opt(2026, 3, 13).unwrap(), "Ben Kaya"));

        let context = job_context(&api, &jobs, "t");
        let counts = execute(&mut conn, &context, JobName::Reminders, at("2026-03-09T07:00:00+01:00")).unwrap();
        assert_eq!(counts["wiedervorlagen"], 2, "Anna's and Ben's: {counts:?}");
        let mails: Vec<(String, String, String)> = outbox::table
            .filter(outbox::template.eq("wiedervorlage"))
            .order(outbox::id)
            .select((outbox::subject, outbox::rendered, outbox::recipients))
            .load(&mut conn)
            .unwrap();
        let text = |rendered: &str| serde_json::from_str::<serde_json::Value>(rendered).unwrap()["text"].as_str().unwrap().to_string();
        let own = text(&mails[0].1);
        assert!(mails[0].1.contains("anna@kreis-soest.de") && own.starts_with("Guten Tag Anna Berger,\n\ndieser Vorgang liegt Ihnen heute zur Wiedervorlage vor:"), "{own}");
        let (subject, rendered, recipients) = &mails[1];
        assert_eq!(subject, &format!("Wiedervorlage: {az} – Rückmeldung des Schulamts prüfen"));
        assert!(rendered.contains("\"to\":[\"ben@kreis-soest.de\"]"), "{rendered}");
        assert!(recipients.contains(&format!("\"vertretung_fuer\":{}", anna.id.0)), "{recipients}");
        let deputy = text(rendered);
        assert!(deputy.starts_with("Guten Tag Ben Kaya,\n\nSie vertreten Anna Berger bis 13.03.2026. Dieser Vorgang liegt Anna Berger heute zur Wiedervorlage vor:\n"), "{deputy}");
        assert!(deputy.contains(&format!("- {az}: Rückmeldung des Schulamts prüfen")), "{deputy}");
        assert!(deputy.contains("bis dahin steht sie auf Ihrer Startseite, solange Sie vertreten."), "{deputy}");

        // Over on Friday, the absence is deleted by the night's housekeeping on Saturday.
        let night = |day: &str| at(&format!("{day}T03:30:00+01:00"));
        let RunOutcome::Ran { counts, .. } = run_locked(&mut conn, &context, JobName::Housekeeping, night("2026-03-13"), night("2026-03-13")).unwrap() else { panic!() };
        assert_eq!(counts["absences_deleted"], 0, "its last day: {counts:?}");
        let RunOutcome::Ran { counts, .. } = run_locked(&mut conn, &context, JobName::Housekeeping, night("2026-03-14"), night("2026-03-14")).unwrap() else { panic!() };
        assert_eq!(counts["absences_deleted"], 1, "{counts:?}");

        // Back on Monday 16 March: the next one reaches Anna alone.
        let counts = execute(&mut conn, &context, JobName::Reminders, at("2026-03-16T07:00:00+01:00")).unwrap();
        assert_eq!(counts["wiedervorlagen"], 1, "{counts:?}");
        let last: String = outbox::table.filter(outbox::template.eq("wiedervorlage")).order(outbox::id.desc()).select(outbox::rendered).first(&mut conn).unwrap();
        assert!(last.contains("anna@kreis-soest.de") && last.contains("Nach dem Urlaub prüfen") && !last.contains("ben@"), "{last}");
    }
}

both_backends! {
    fn when_the_deputy_is_away_too_the_deputys_deputy_stands_in(backend) {
        use vorgang::db::models::{CaseId, Role};
        use vorgang::db::schema::users;
        use vorgang::scheduler::jobs::execute;
        use vorgang::service::absences;
        use crate::support::auth::create_user;
        let db = TestDatabase::migrated(backend);
        let pool = db.pool(4);
        let dir = tempfile::tempdir().unwrap();
        let api = crate::support::api::state(&pool, dir.path());
        let jobs = Jobs::default();
        let mut conn = pool.get().unwrap();
        let mut people = Vec::new();
        for (email, name) in [("anna@kreis-soest.de", "Anna Berger"), ("ben@kreis-soest.de", "Ben Kaya"), ("clara@kreis-soest.de", "Clara Diaz")] {
            let user = create_user(&mut conn, email, "05974", &[Role::Koordination], None);
            diesel::update(users::table.find(user.id.0)).set(users::display_name.eq(name)).execute(&mut conn).unwrap();
            people.push(vorgang::auth::Principal::load(&mut conn, user.id).unwrap().unwrap());
        }
        let [anna, ben, clara] = [&people[0], &people[1], &people[2]];
        let soest = Organisation::find_by_key(&mut conn, "05974").unwrap().unwrap();
        let actor = Actor { id: "anna@kreis-soest.de".into(), roles: vec!["koordination".into()] };
        let thursday = vorgang::service::clock::at(at("2026-03-05T10:00:00+01:00"));
        let case = cases::start_case(&mut conn, &api.case_context(), "ki-antrag", &soest, serde_json::json!({}), &actor, &thursday).unwrap();
        let allow = |_| Ok(());
        vorgang::service::follow_ups::set(&mut conn, CaseId(case.row.id.0), anna.user_id, ("2026-03-09", "Rückmeldung des Schulamts prüfen"), &thursday, &allow).unwrap();
        let away = |who: &vorgang::auth::Principal, until: &str, deputy: &vorgang::auth::Principal, conn: &mut vorgang::db::DbConnection| {
            absences::set(conn, who, (until, &deputy.user_id.0.to_string()), thursday.today, thursday.now.naive_utc()).unwrap();
        };
        // Anna named Ben; Ben is away as well and named Clara.
        away(anna, "13.03.2026", ben, &mut conn);
        away(ben, "11.03.2026", clara, &mut conn);
        let monday = chrono::NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        let (absence, covering) = absences::covering(&mut conn, anna.user_id, monday).unwrap().unwrap();
        assert_eq!((absence.deputy, covering.user, covering.name.as_str()), (ben.user_id, clara.user_id, "Clara Diaz"));
        let names = |list: Vec<absences::StandingIn>| list.into_iter().map(|s| s.name).collect::<Vec<_>>();
        assert_eq!(names(absences::standing_in_for(&mut conn, clara.user_id, monday).unwrap()), ["Anna Berger", "Ben Kaya"]);
        assert!(absences::standing_in_for(&mut conn, ben.user_id, monday).unwrap().is_empty());
        // What the account page and the API show stays the deputy Anna named.
        assert_eq!(absences::current(&mut conn, anna.user_id, monday).unwrap().unwrap().deputy, ben.user_id);

        // Anna's Wiedervorlage goes to Clara, who is at work, not to Ben, who is away.
        let context = job_context(&api, &jobs, "t");
        let counts = execute(&mut conn, &context, JobName::Reminders, at("2026-03-09T07:00:00+01:00")).unwrap();
        assert_eq!(counts["wiedervorlagen"], 2, "Anna's and Clara's: {counts:?}");
        let rendered: Vec<String> = outbox::table.filter(outbox::template.eq("wiedervorlage")).order(outbox::id).select(outbox::rendered).load(&mut conn).unwrap();
        assert!(rendered[1].contains("\"to\":[\"clara@kreis-soest.de\"]"), "{}", rendered[1]);
        assert!(rendered[1].contains("Guten Tag Clara Diaz") && rendered[1].contains("Sie vertreten Anna Berger bis 13.03.2026."), "{}", rendered[1]);
        assert!(!rendered.iter().any(|r| r.contains("ben@kreis-soest.de")), "{rendered:?}");

        // Back on Thursday 12 March, Ben stands in for Anna again himself.
        let thursday_after = chrono::NaiveDate::from_ymd_opt(2026, 3, 12).unwrap();
        assert_eq!(absences::covering(&mut conn, anna.user_id, thursday_after).unwrap().unwrap().1.user, ben.user_id);
        assert_eq!(names(absences::standing_in_for(&mut conn, ben.user_id, thursday_after).unwrap()), ["Anna Berger"]);

        // A chain that leads back to people away ends at the last of them.
        away(clara, "11.03.2026", anna, &mut conn);
        assert_eq!(absences::covering(&mut conn, anna.user_id, monday).unwrap().unwrap().1.user, clara.user_id);
        assert_eq!(absences::covering(&mut conn, clara.user_id, monday).unwrap().unwrap().1.user, ben.user_id);
    }
}
