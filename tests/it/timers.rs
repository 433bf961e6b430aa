//! The timer poller's core on both databases: due timers are claimed under a lease and fired
//! once, reminders reach each unanswered partner exactly once, and stale timers are closed.

use chrono::{TimeDelta, TimeZone, Utc};
use diesel::prelude::*;
use vorgang::db::models::Organisation;
use vorgang::db::schema::{outbox, timers};
use vorgang::engine::{Actor, Clock, TimerKind};
use vorgang::scheduler::timers::{Fired, TimerRound, claim_due, fire, run_due};
use vorgang::service::cases::{self, CaseContext, Invocation};

use crate::support::TestDatabase;

fn clock(date: &str) -> Clock {
    let day = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    vorgang::service::clock::at(Utc.from_utc_datetime(&day.and_hms_opt(6, 0, 0).unwrap()))
}

/// A migrated database with the shipped workflows, and the Kreis Soest with a coordinator who
/// acts in the tests' cases.
struct Soest {
    _db: TestDatabase,
    pool: vorgang::db::Database,
    _dir: tempfile::TempDir,
    api: actix_web::web::Data<vorgang::web::api::ApiState>,
    soest: Organisation,
    actor: Actor,
}

impl Soest {
    fn with_coordinator(backend: crate::support::Backend) -> Self {
        let db = TestDatabase::migrated(backend);
        let pool = db.pool(4);
        let dir = tempfile::tempdir().unwrap();
        let api = crate::support::api::state(&pool, dir.path());
        let mut conn = pool.get().unwrap();
        let soest = Organisation::find_by_key(&mut conn, "05974")
            .unwrap()
            .unwrap();
        crate::support::auth::create_user(
            &mut conn,
            "k@kreis-soest.de",
            "05974",
            &[vorgang::db::models::Role::Koordination],
            None,
        );
        drop(conn);
        let actor = Actor {
            id: "k@kreis-soest.de".into(),
            roles: vec!["koordination".into()],
        };
        Self {
            _db: db,
            pool,
            _dir: dir,
            api,
            soest,
            actor,
        }
    }
}

fn reminders(conn: &mut vorgang::db::DbConnection) -> i64 {
    outbox::table
        .filter(outbox::template.eq("beteiligung_erinnerung"))
        .count()
        .get_result(conn)
        .unwrap()
}

both_backends! {
    fn due_timers_fire_once_and_reminders_go_out_once_per_partner(backend) {
        let Soest { _db, pool, _dir, api, soest, actor } = Soest::with_coordinator(backend);
        let ctx: CaseContext<'_> = api.case_context();
        let mut conn = pool.get().unwrap();
        let case = cases::start_case(&mut conn, &ctx, "ki-antrag", &soest, crate::beteiligung::application(), &actor, &clock("2026-03-04")).unwrap();
        let allow = |_| Ok(());
        let call = Invocation { actor: &actor, clock: &clock("2026-03-04"), check: &allow };
        cases::take_action(&mut conn, &ctx, case.row.id, 1, "beteiligung_starten", None, None, call).unwrap();

        // The reminder is a reminder timer, the deadline a flow timer; both name the deadline.
        let rows: Vec<(String, Option<chrono::NaiveDate>)> = timers::table.filter(timers::case_id.eq(case.row.id)).order(timers::due).select((timers::kind, timers::deadline)).load(&mut conn).unwrap();
        let end = chrono::NaiveDate::from_ymd_opt(2026, 4, 1);
        assert_eq!(rows, [("reminder".to_string(), end), ("flow".to_string(), end)]);

        // Nothing is due before the reminder day (one week before the deadline 01.04.2026).
        let early = run_due(&mut conn, &ctx, "a", TimerKind::Reminder, &clock("2026-03-24"), TimeDelta::minutes(5), &|| false).unwrap();
        assert_eq!(early, TimerRound::default());
        // The poller leaves reminders to the reminders job.
        let poller = run_due(&mut conn, &ctx, "a", TimerKind::Flow, &clock("2026-03-25"), TimeDelta::minutes(5), &|| false).unwrap();
        assert_eq!(poller, TimerRound::default());

        // Two runs on the reminder day: the first claims it, the second finds nothing.
        let claimed = claim_due(&mut conn, "a", TimerKind::Reminder, &clock("2026-03-25"), 10, TimeDelta::minutes(5)).unwrap();
        assert_eq!(claimed.len(), 1);
        let other = claim_due(&mut pool.get().unwrap(), "b", TimerKind::Reminder, &clock("2026-03-25"), 10, TimeDelta::minutes(5)).unwrap();
        assert!(other.is_empty(), "a leased timer is not claimed twice");
        vorgang::scheduler::timers::fire(&mut conn, &ctx, claimed[0], &clock("2026-03-25")).unwrap();
        assert_eq!(reminders(&mut conn), 2, "one reminder per unanswered partner");

        // After the lease ran out a claim would be possible again, but the timer fired: nothing
        // is due, nothing is sent twice.
        let later = run_due(&mut conn, &ctx, "b", TimerKind::Reminder, &clock("2026-03-26"), TimeDelta::minutes(5), &|| false).unwrap();
        assert_eq!(later, TimerRound::default());
        assert_eq!(reminders(&mut conn), 2);

        // A claim whose process died: the lease expires and another process fires the timer.
        let deadline_day = clock("2026-04-02");
        let dead = claim_due(&mut conn, "dead", TimerKind::Flow, &deadline_day, 10, TimeDelta::minutes(5)).unwrap();
        assert_eq!(dead.len(), 1);
        let during = run_due(&mut conn, &ctx, "b", TimerKind::Flow, &deadline_day, TimeDelta::minutes(5), &|| false).unwrap();
        assert_eq!(during, TimerRound::default(), "still leased");
        let after_lease = vorgang::service::clock::at(deadline_day.now + TimeDelta::minutes(6));
        let round = run_due(&mut conn, &ctx, "b", TimerKind::Flow, &after_lease, TimeDelta::minutes(5), &|| false).unwrap();
        assert_eq!(round.fired, 1);
        let statuses: Vec<String> = timers::table.filter(timers::case_id.eq(case.row.id)).order(timers::id).select(timers::status).load(&mut conn).unwrap();
        assert_eq!(statuses, ["fired", "fired"]);
        let result: i64 = outbox::table.filter(outbox::template.eq("beteiligung_abgeschlossen")).count().get_result(&mut conn).unwrap();
        assert_eq!(result, 1, "the office is told when the deadline closes the consultation");
        let view = cases::load(&mut conn, ctx.registry, case.row.id).unwrap();
        assert!(view.instance.active_steps().any(|t| t.step == "auswertung"));
    }
}

both_backends! {
    fn a_reminder_says_what_the_partner_asked_that_is_not_decided_yet(backend) {
        let Soest { _db, pool, _dir, api, soest, actor } = Soest::with_coordinator(backend);
        let ctx: CaseContext<'_> = api.case_context();
        let mut conn = pool.get().unwrap();
        let case = cases::start_case(&mut conn, &ctx, "ki-antrag", &soest, crate::beteiligung::application(), &actor, &clock("2026-03-04")).unwrap();
        let allow = |_| Ok(());
        let call = Invocation { actor: &actor, clock: &clock("2026-03-04"), check: &allow };
        cases::take_action(&mut conn, &ctx, case.row.id, 1, "beteiligung_starten", None, None, call).unwrap();
        let invited: Vec<i64> = vorgang::db::schema::invitations::table
            .filter(vorgang::db::schema::invitations::case_id.eq(case.row.id))
            .order(vorgang::db::schema::invitations::id)
            .select(vorgang::db::schema::invitations::id)
            .load(&mut conn)
            .unwrap();
        assert_eq!(invited.len(), 2);
        // One partner asks for more time, the other says it is not competent; the office has
        // decided neither when the reminder goes out a week before the deadline 01.04.2026.
        vorgang::service::extension_request::request(&mut conn, &ctx, invited[0], (Some("2026-04-15"), Some("Der Schulausschuss tagt später."), Some("Frau Muster")), &clock("2026-03-10")).unwrap();
        vorgang::service::responsibility_notice::report(&mut conn, &ctx, invited[1], (Some("Zuständig ist die Stadt."), Some("Jugendamt der Stadt Soest"), Some("Herr Kaya")), &clock("2026-03-11")).unwrap();
        let claimed = claim_due(&mut conn, "a", TimerKind::Reminder, &clock("2026-03-25"), 10, TimeDelta::minutes(5)).unwrap();
        assert_eq!(fire(&mut conn, &ctx, claimed[0], &clock("2026-03-25")).unwrap(), Fired::Fired);

        let reminder = |conn: &mut vorgang::db::DbConnection, invitation: i64| -> String {
            outbox::table
                .filter(outbox::invitation_id.eq(invitation))
                .filter(outbox::template.eq("beteiligung_erinnerung"))
                .select(outbox::rendered)
                .first(conn)
                .unwrap()
        };
        let asked = reminder(&mut conn, invited[0]);
        assert!(asked.contains("Die Frist endet am Mittwoch, 01.04.2026."), "{asked}");
        assert!(asked.contains("Ihre Bitte vom 10.03.2026, die Frist bis zum Mittwoch, 15.04.2026 zu verlängern, liegt uns vor. Wir haben darüber noch nicht entschieden; bis zu unserer Entscheidung gilt die genannte Frist."), "{asked}");
        assert!(!asked.contains("nicht zuständig"), "{asked}");
        let noticed = reminder(&mut conn, invited[1]);
        assert!(noticed.contains("Ihre Mitteilung vom 11.03.2026, dass Sie nicht zuständig sind (zuständig sei nach Ihrer Angabe: Jugendamt der Stadt Soest), liegt uns vor. Wir haben darüber noch nicht entschieden; bis dahin bleibt unsere Bitte um Ihre Stellungnahme bestehen."), "{noticed}");
        assert!(!noticed.contains("verlängern"), "{noticed}");
    }
}

both_backends! {
    fn a_timer_fired_by_two_processes_takes_effect_once(backend) {
        let Soest { _db, pool, _dir, api, soest, actor } = Soest::with_coordinator(backend);
        let ctx: CaseContext<'_> = api.case_context();
        let mut conn = pool.get().unwrap();
        let case = cases::start_case(&mut conn, &ctx, "ki-antrag", &soest, crate::beteiligung::application(), &actor, &clock("2026-03-04")).unwrap();
        let allow = |_| Ok(());
        let call = Invocation { actor: &actor, clock: &clock("2026-03-04"), check: &allow };
        cases::take_action(&mut conn, &ctx, case.row.id, 1, "beteiligung_starten", None, None, call).unwrap();

        // Process a claims the reminder and is slow; its lease runs out and b claims it too.
        let day = clock("2026-03-25");
        let by_a = claim_due(&mut conn, "a", TimerKind::Reminder, &day, 10, TimeDelta::minutes(5)).unwrap();
        let after_lease = vorgang::service::clock::at(day.now + TimeDelta::minutes(6));
        let by_b = claim_due(&mut conn, "b", TimerKind::Reminder, &after_lease, 10, TimeDelta::minutes(5)).unwrap();
        assert_eq!((by_a.len(), by_b.len()), (1, 1));
        assert_eq!(by_a[0], by_b[0]);

        // Both fire it; the engine takes it once, the second firing finds it gone.
        assert_eq!(fire(&mut conn, &ctx, by_b[0], &after_lease).unwrap(), Fired::Fired);
        assert_eq!(fire(&mut conn, &ctx, by_a[0], &day).unwrap(), Fired::Stale);
        assert_eq!(reminders(&mut conn), 2, "one reminder per unanswered partner");
        let status: String = timers::table.find(by_a[0].id).select(timers::status).first(&mut conn).unwrap();
        assert_eq!(status, "fired", "the stale firing does not overwrite the outcome");
        let journalled: i64 = vorgang::db::schema::case_events::table
            .filter(vorgang::db::schema::case_events::case_id.eq(case.row.id))
            .filter(vorgang::db::schema::case_events::kind.eq("timer_fired"))
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(journalled, 1);
    }
}

both_backends! {
    fn mail_a_flow_timer_writes_at_night_or_on_a_holiday_waits_for_office_hours(backend) {
        let Soest { _db, pool, _dir, api, soest, actor } = Soest::with_coordinator(backend);
        let ctx: CaseContext<'_> = api.case_context();
        let mut conn = pool.get().unwrap();
        let allow = |_| Ok(());
        let mut consulting = || {
            let case = cases::start_case(&mut conn, &ctx, "ki-antrag", &soest, crate::beteiligung::application(), &actor, &clock("2026-03-04")).unwrap();
            let call = Invocation { actor: &actor, clock: &clock("2026-03-04"), check: &allow };
            cases::take_action(&mut conn, &ctx, case.row.id, 1, "beteiligung_starten", None, None, call).unwrap();
            case.row.id
        };
        let (at_night, in_office) = (consulting(), consulting());
        let utc = |text: &str| chrono::DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc);
        let naive = |text: &str| utc(text).naive_utc();

        // Both consultations end on Wednesday 01.04.2026; the flow timers are due on 02.04.
        // One fires at 00:05 on Karfreitag 03.04. (a server that was down on Thursday),
        // the other at 10:00 on Thursday.
        let karfreitag = vorgang::service::clock::at(utc("2026-04-02T22:05:00Z"));
        let thursday = vorgang::service::clock::at(utc("2026-04-02T08:00:00Z"));
        let due = claim_due(&mut conn, "a", TimerKind::Flow, &karfreitag, 10, TimeDelta::minutes(5)).unwrap();
        assert_eq!(due.len(), 2);
        for timer in due {
            let when = if timer.case_id == at_night.0 { &karfreitag } else { &thursday };
            assert_eq!(fire(&mut conn, &ctx, timer, when).unwrap(), Fired::Fired);
        }

        let mail = |case: vorgang::db::models::CaseId, conn: &mut vorgang::db::DbConnection| -> (chrono::NaiveDateTime, chrono::NaiveDateTime) {
            outbox::table
                .filter(outbox::case_id.eq(case.0))
                .filter(outbox::template.eq("beteiligung_abgeschlossen"))
                .filter(outbox::status.eq("pending"))
                .select((outbox::created_at, outbox::next_attempt_at))
                .first(conn)
                .unwrap()
        };
        // Written at once, sent on Tuesday after Easter at 07:00 in Germany (05:00 UTC).
        assert_eq!(mail(at_night, &mut conn), (naive("2026-04-02T22:05:00Z"), naive("2026-04-07T05:00:00Z")));
        // During office hours it is due at once.
        assert_eq!(mail(in_office, &mut conn), (naive("2026-04-02T08:00:00Z"), naive("2026-04-02T08:00:00Z")));

        // Delivery claims it no earlier.
        let lease = std::time::Duration::from_secs(300);
        let claimed = vorgang::mail::outbox::claim_due(&mut conn, naive("2026-04-06T12:00:00Z"), lease, 50).unwrap();
        let closing = |c: &vorgang::mail::outbox::Claimed| c.row.case_id == Some(at_night) && c.row.template == "beteiligung_abgeschlossen";
        assert!(!claimed.is_empty(), "the other mails are due");
        assert!(!claimed.iter().any(closing), "claimed on Ostermontag");
        let claimed = vorgang::mail::outbox::claim_due(&mut conn, naive("2026-04-07T05:00:00Z"), lease, 50).unwrap();
        assert!(claimed.iter().any(closing), "{claimed:?}");
    }
}

both_backends! {
    fn a_case_a_timer_starts_at_night_mails_in_office_hours(backend) {
        let Soest { _db, pool, _dir, api, soest, actor } = Soest::with_coordinator(backend);
        let ctx: CaseContext<'_> = api.case_context();
        let mut conn = pool.get().unwrap();
        let deployed_at = clock("2026-03-01").now.naive_utc();
        for source in [
            include_str!("../fixtures/workflows/folge.yaml"),
            include_str!("../fixtures/workflows/nachtstart.yaml"),
        ] {
            api.registry.deploy(&mut conn, &api.sources, source, "admin", deployed_at).unwrap();
        }
        let waiting = cases::start_case(&mut conn, &ctx, "nachtstart", &soest, serde_json::json!({}), &actor, &clock("2026-04-01")).unwrap();

        // The one-day period ends on Thursday 02.04.2026; the timer fires at 00:05 on Karfreitag.
        let utc = |text: &str| chrono::DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc);
        let karfreitag = vorgang::service::clock::at(utc("2026-04-02T22:05:00Z"));
        let due = claim_due(&mut conn, "a", TimerKind::Flow, &karfreitag, 10, TimeDelta::minutes(5)).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].case_id, waiting.row.id.0);
        assert_eq!(fire(&mut conn, &ctx, due.into_iter().next().unwrap(), &karfreitag).unwrap(), Fired::Fired);

        // The follow-up case exists at once; its first mail waits for Tuesday 07:00 in Germany.
        let started: Vec<i64> = vorgang::db::schema::cases::table
            .filter(vorgang::db::schema::cases::workflow_key.eq("folge"))
            .select(vorgang::db::schema::cases::id)
            .load(&mut conn)
            .unwrap();
        assert_eq!(started.len(), 1, "{started:?}");
        let mails: Vec<(String, chrono::NaiveDateTime, chrono::NaiveDateTime)> = outbox::table
            .filter(outbox::case_id.eq(started[0]))
            .select((outbox::template, outbox::created_at, outbox::next_attempt_at))
            .load(&mut conn)
            .unwrap();
        let naive = |text: &str| utc(text).naive_utc();
        assert_eq!(
            mails,
            vec![("frist_erinnerung".to_string(), naive("2026-04-02T22:05:00Z"), naive("2026-04-07T05:00:00Z"))]
        );
    }
}
