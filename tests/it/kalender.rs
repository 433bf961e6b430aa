//! Deadlines leave vorgang in two ways besides reminders: the weekly digest mail to each
//! coordinating office, and the calendar feed behind a personal, revocable address, parsed here
//! by an independent iCalendar parser (the `ical` crate).

use actix_web::http::StatusCode;
use actix_web::test as actix_test;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use diesel::prelude::*;
use serde_json::Value;
use vorgang::db::models::{CaseId, Organisation, Role};
use vorgang::db::schema::{outbox, timers};
use vorgang::engine::Actor;
use vorgang::scheduler::jobs::{JobName, execute};
use vorgang::service::cases::{self, Invocation};

use crate::support::TestDatabase;
use crate::support::api::job_context;
use crate::support::auth::{create_user, staff_token};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

/// Starts a ki-antrag case of `kreis` and its Beteiligung at `when`; returns the case.
pub(crate) fn consultation(
    conn: &mut vorgang::db::DbConnection,
    api: &vorgang::web::api::ApiState,
    kreis: &str,
    coordinator: &str,
    when: DateTime<Utc>,
) -> CaseId {
    let ctx = api.case_context();
    let applicant = Organisation::find_by_key(conn, kreis).unwrap().unwrap();
    let actor = Actor {
        id: coordinator.into(),
        roles: vec!["koordination".into()],
    };
    let clock = vorgang::service::clock::at(when);
    let application = crate::beteiligung::application();
    let case = cases::start_case(
        conn,
        &ctx,
        "ki-antrag",
        &applicant,
        application,
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
        case.row.version,
        "beteiligung_starten",
        None,
        None,
        call,
    )
    .unwrap();
    case.row.id
}

pub(crate) fn deadline_of(conn: &mut vorgang::db::DbConnection, case: CaseId) -> NaiveDate {
    timers::table
        .filter(timers::case_id.eq(case))
        .filter(timers::kind.eq("flow"))
        .select(timers::deadline.assume_not_null())
        .first(conn)
        .unwrap()
}

both_backends! {
    fn the_monday_digest_lists_each_office_its_deadlines_of_the_next_14_days(backend) {
        let db = TestDatabase::migrated(backend);
        let pool = db.pool(2);
        let dir = tempfile::tempdir().unwrap();
        let api = crate::support::api::state(&pool, dir.path());
        let mut conn = pool.get().unwrap();
        crate::support::partners::add_partners(&mut conn);
        create_user(&mut conn, "k@kreis-soest.de", "05974", &[Role::Koordination], None);
        create_user(&mut conn, "k@kreis-coesfeld.de", "05558", &[Role::Koordination], None);
        // Soest: the consultation opened on 4 March ends on Wednesday 1 April, inside the
        // window of Monday 23 March; Coesfeld's, opened on 20 March, ends on 17 April, outside.
        let soest = consultation(&mut conn, &api, "05974", "k@kreis-soest.de", at("2026-03-04T09:00:00+01:00"));
        let coesfeld = consultation(&mut conn, &api, "05558", "k@kreis-coesfeld.de", at("2026-03-20T09:00:00+01:00"));
        assert_eq!(deadline_of(&mut conn, soest), NaiveDate::from_ymd_opt(2026, 4, 1).unwrap());
        assert_eq!(deadline_of(&mut conn, coesfeld), NaiveDate::from_ymd_opt(2026, 4, 17).unwrap());
        // Soest's coordinator is responsible for the case (a mail to nobody: she took it herself).
        let coordinator = vorgang::db::models::User::find_by_email(&mut conn, "k@kreis-soest.de").unwrap().unwrap();
        let coordinator = vorgang::auth::Principal::load(&mut conn, coordinator.id).unwrap().unwrap();
        let allow = |_| Ok(());
        vorgang::service::assignments::assign(&mut conn, &api.outgoing, soest, &coordinator, Some("k@kreis-soest.de"), chrono::Utc::now().naive_utc(), &allow).unwrap();
        let before: i64 = outbox::table.count().get_result(&mut conn).unwrap();

        let ctx = job_context(&api, &api.jobs, "test");
        let counts = execute(&mut conn, &ctx, JobName::Digest, at("2026-03-23T07:00:00+01:00")).unwrap();
        assert_eq!(counts["mails"], 1, "{counts:?}");
        assert_eq!(counts["deadlines"], 1, "{counts:?}");

        let digests: Vec<(String, String, String)> = outbox::table
            .filter(outbox::template.eq("fristen_uebersicht"))
            .select((outbox::subject, outbox::rendered, outbox::recipients))
            .load(&mut conn)
            .unwrap();
        assert_eq!(digests.len(), 1);
        let (subject, rendered, _) = &digests[0];
        assert_eq!(subject, "Fristen der nächsten 14 Tage (23.03.2026 bis 05.04.2026): 1 Frist");
        let rendered: Value = serde_json::from_str(rendered).unwrap();
        assert_eq!(rendered["to"], serde_json::json!(["k@kreis-soest.de"]));
        let text = rendered["text"].as_str().unwrap();
        let aktenzeichen: String = vorgang::db::schema::cases::table.find(soest).select(vorgang::db::schema::cases::aktenzeichen).first(&mut conn).unwrap();
        assert!(text.contains(&format!("Mittwoch, 01.04.2026: {aktenzeichen} – Beteiligung")), "{text}");
        assert!(text.contains("(Antrag auf Einrichtung eines Kommunalen Integrationszentrums), zuständig: Test Person"), "{text}");
        let other: String = vorgang::db::schema::cases::table.find(coesfeld).select(vorgang::db::schema::cases::aktenzeichen).first(&mut conn).unwrap();
        assert!(!text.contains(&other), "{text}");
        let html = rendered["html"].as_str().unwrap();
        assert!(html.contains("<caption>Fristen vom 23.03.2026 bis 05.04.2026</caption>"), "{html}");
        assert!(html.contains("<td>Test Person</td></tr>"), "{html}");

        // A week later the window reaches Coesfeld's deadline, but Coesfeld's only coordinator
        // has left and the office has no mailbox: its digest is held as a failed mail, with the
        // reason, instead of vanishing.
        diesel::update(vorgang::db::schema::users::table.filter(vorgang::db::schema::users::email.eq("k@kreis-coesfeld.de")))
            .set(vorgang::db::schema::users::active.eq(false))
            .execute(&mut conn)
            .unwrap();
        let counts = execute(&mut conn, &ctx, JobName::Digest, at("2026-04-06T07:00:00+02:00")).unwrap();
        assert_eq!(counts["mails"], 0, "Soest's deadline has passed: {counts:?}");
        assert_eq!(counts["unreachable"], 1, "{counts:?}");
        let after: i64 = outbox::table.count().get_result(&mut conn).unwrap();
        assert_eq!(after, before + 2);
        let (status, error, rendered): (String, Option<String>, String) = outbox::table
            .order(outbox::id.desc())
            .select((outbox::status, outbox::last_error, outbox::rendered))
            .first(&mut conn)
            .unwrap();
        assert_eq!(status, "failed");
        assert!(error.unwrap().starts_with("Keine Empfängeradresse: Für die Stelle"));
        let rendered: Value = serde_json::from_str(&rendered).unwrap();
        assert_eq!(rendered["to"], serde_json::json!([]));
        assert!(rendered["text"].as_str().unwrap().contains(&other), "the held digest lists Coesfeld's deadline");
    }
}

/// A parsed feed: (DTSTART value, SUMMARY, DESCRIPTION) per event.
fn events(body: &str) -> Vec<(String, String, String)> {
    let mut parser = ical::IcalParser::new(body.as_bytes());
    let calendar = parser
        .next()
        .expect("one calendar")
        .expect("a valid calendar");
    assert!(parser.next().is_none(), "exactly one calendar");
    calendar
        .events
        .iter()
        .map(|event| {
            let value = |name: &str| {
                event
                    .properties
                    .iter()
                    .find(|p| p.name == name)
                    .and_then(|p| p.value.clone())
                    .unwrap_or_default()
            };
            let start = event
                .properties
                .iter()
                .find(|p| p.name == "DTSTART")
                .unwrap();
            let is_date = start.params.as_ref().is_some_and(|params| {
                params
                    .iter()
                    .any(|(k, v)| k == "VALUE" && v.iter().any(|x| x == "DATE"))
            });
            assert!(is_date, "deadlines are all-day events");
            (value("DTSTART"), value("SUMMARY"), value("DESCRIPTION"))
        })
        .collect()
}

both_backends! {
    async fn the_calendar_feed_lists_the_deadlines_a_user_may_see_until_revoked(backend) {
        let db = TestDatabase::migrated(backend);
        let pool = db.pool(2);
        let dir = tempfile::tempdir().unwrap();
        let api = crate::support::api::state(&pool, dir.path());
        let (soest_user, coesfeld_user, soest_case, coesfeld_case) = {
            let mut conn = pool.get().unwrap();
            crate::support::partners::add_partners(&mut conn);
            let soest_user = create_user(&mut conn, "k@kreis-soest.de", "05974", &[Role::Koordination], None);
            let coesfeld_user = create_user(&mut conn, "k@kreis-coesfeld.de", "05558", &[Role::Koordination], None);
            // Opened three days ago: the deadline lies about 25 days ahead.
            let when = Utc::now() - TimeDelta::days(3);
            let soest_case = consultation(&mut conn, &api, "05974", "k@kreis-soest.de", when);
            let coesfeld_case = consultation(&mut conn, &api, "05558", "k@kreis-coesfeld.de", when);
            (soest_user, coesfeld_user, soest_case, coesfeld_case)
        };
        let (soest_end, soest_az) = {
            let mut conn = pool.get().unwrap();
            let az: String = vorgang::db::schema::cases::table.find(soest_case).select(vorgang::db::schema::cases::aktenzeichen).first(&mut conn).unwrap();
            (deadline_of(&mut conn, soest_case), az)
        };
        let coesfeld_az: String = {
            let mut conn = pool.get().unwrap();
            vorgang::db::schema::cases::table.find(coesfeld_case).select(vorgang::db::schema::cases::aktenzeichen).first(&mut conn).unwrap()
        };
        // Wiedervorlagen: the Soest user's own appears in its feed, the Coesfeld user's does not.
        let follow_up_day = Utc::now().date_naive() + chrono::Days::new(9);
        {
            let mut conn = pool.get().unwrap();
            let allow = |_| Ok(());
            let now = vorgang::service::clock::now();
            for (user, case, reason) in [(&soest_user, soest_case, "Schulamt anrufen"), (&coesfeld_user, coesfeld_case, "Coesfelder Sache")] {
                vorgang::service::follow_ups::set(&mut conn, case, user.id, (&follow_up_day.format("%Y-%m-%d").to_string(), reason), &now, &allow).unwrap();
            }
        }
        let app = actix_test::init_service(vorgang::web::app(pool.clone(), crate::support::auth::test_auth(), api)).await;
        let token = staff_token(&soest_user);

        // Issue an address; its secret appears once, the list shows it without.
        let request = actix_test::TestRequest::post()
            .uri("/api/v1/calendar/feeds")
            .insert_header(("Authorization", format!("Bearer {token}")))
            .set_json(serde_json::json!({ "label": "Outlook Büro" }))
            .to_request();
        let response = actix_test::call_service(&app, request).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let issued: Value = actix_test::read_body_json(response).await;
        let url = issued["url"].as_str().unwrap();
        let path = url.strip_prefix("https://vorgang.test").expect("below the public URL");
        assert!(path.starts_with("/kalender/") && path.ends_with(".ics"), "{path}");
        let listed: Value = actix_test::call_and_read_body_json(&app, actix_test::TestRequest::get()
            .uri("/api/v1/calendar/feeds")
            .insert_header(("Authorization", format!("Bearer {token}")))
            .to_request()).await;
        assert_eq!(listed.as_array().unwrap().len(), 1);
        assert_eq!(listed[0]["label"], "Outlook Büro");
        assert!(!listed.to_string().contains(&path["/kalender/".len()..path.len() - 4]), "the secret is shown only once");
        // A body that is not what the address takes (a misspelt field, a number, no JSON, an
        // array) is refused and issues nothing; no body at all issues an address without a label.
        for body in [r#"{"lable":"Outlook"}"#, r#"{"label":5}"#, "Outlook", "[]", r#" ["Outlook"]"#] {
            let refused = actix_test::call_service(&app, actix_test::TestRequest::post()
                .uri("/api/v1/calendar/feeds")
                .insert_header(("Authorization", format!("Bearer {token}")))
                .insert_header(("Content-Type", "application/json"))
                .set_payload(body)
                .to_request()).await;
            assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(refused.headers().get("content-type").unwrap(), "application/problem+json");
        }
        let count = || actix_test::TestRequest::get().uri("/api/v1/calendar/feeds").insert_header(("Authorization", format!("Bearer {token}"))).to_request();
        assert_eq!(actix_test::call_and_read_body_json::<_, _, Value>(&app, count()).await.as_array().unwrap().len(), 1);
        for body in ["", "null"] {
            let unlabelled = actix_test::call_service(&app, actix_test::TestRequest::post()
                .uri("/api/v1/calendar/feeds")
                .insert_header(("Authorization", format!("Bearer {token}")))
                .insert_header(("Content-Type", "application/json"))
                .set_payload(body)
                .to_request()).await;
            assert_eq!(unlabelled.status(), StatusCode::CREATED, "{body:?}");
            let unlabelled: Value = actix_test::read_body_json(unlabelled).await;
            assert_eq!(unlabelled["label"], "");
            let revoke = actix_test::call_service(&app, actix_test::TestRequest::delete()
                .uri(&format!("/api/v1/calendar/feeds/{}", unlabelled["id"]))
                .insert_header(("Authorization", format!("Bearer {token}")))
                .to_request()).await;
            assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
        }

        // The feed: Soest's deadline as an all-day event, not Coesfeld's.
        let response = actix_test::call_service(&app, actix_test::TestRequest::get().uri(path).to_request()).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers().get("content-type").unwrap(), "text/calendar; charset=utf-8");
        let body = String::from_utf8(actix_test::read_body(response).await.to_vec()).unwrap();
        assert!(body.contains("\r\n"), "lines end in CRLF");
        assert!(body.lines().all(|line| line.len() <= 75), "lines are folded at 75 octets");
        let events = events(&body);
        assert_eq!(events.len(), 2, "{body}");
        assert_eq!(events[0].0, soest_end.format("%Y%m%d").to_string());
        assert!(events[0].1.contains(&soest_az), "{:?}", events[0]);
        assert!(events[0].1.contains("Beteiligung"), "{:?}", events[0]);
        assert_eq!(events[1].0, follow_up_day.format("%Y%m%d").to_string());
        assert_eq!(events[1].1, format!("Wiedervorlage: Schulamt anrufen ({soest_az})"));
        assert!(body.contains("X-WR-CALNAME:Fristen und Wiedervorlagen – Kreis Soest"), "{body}");
        assert!(!body.contains(&coesfeld_az));
        assert!(!body.contains("Coesfelder Sache"));

        // Another user cannot revoke it; its owner can, and then the feed is gone.
        let foreign = staff_token(&coesfeld_user);
        let id = issued["id"].as_i64().unwrap();
        let refused = actix_test::call_service(&app, actix_test::TestRequest::delete()
            .uri(&format!("/api/v1/calendar/feeds/{id}"))
            .insert_header(("Authorization", format!("Bearer {foreign}")))
            .to_request()).await;
        assert_eq!(refused.status(), StatusCode::NOT_FOUND);
        let still = actix_test::call_service(&app, actix_test::TestRequest::get().uri(path).to_request()).await;
        assert_eq!(still.status(), StatusCode::OK);
        let revoked = actix_test::call_service(&app, actix_test::TestRequest::delete()
            .uri(&format!("/api/v1/calendar/feeds/{id}"))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .to_request()).await;
        assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
        for uri in [path.to_string(), "/kalender/unbekannt.ics".into(), "/kalender/x".into(), format!("{}x.ics", &path[..path.len() - 4])] {
            let gone = actix_test::call_service(&app, actix_test::TestRequest::get().uri(&uri).to_request()).await;
            assert_eq!(gone.status(), StatusCode::NOT_FOUND, "{uri}");
        }
        // Without a staff token the management API refuses.
        let anonymous = actix_test::call_service(&app, actix_test::TestRequest::post().uri("/api/v1/calendar/feeds").to_request()).await;
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    }
}

both_backends! {
    fn the_monday_digest_lists_the_partners_requests_the_office_has_not_decided(backend) {
        let db = TestDatabase::migrated(backend);
        let pool = db.pool(2);
        let dir = tempfile::tempdir().unwrap();
        let api = crate::support::api::state(&pool, dir.path());
        let mut conn = pool.get().unwrap();
        crate::support::partners::add_partners(&mut conn);
        create_user(&mut conn, "k@kreis-soest.de", "05974", &[Role::Koordination], None);
        // The consultation opened on 4 March ends on 1 April, after the fortnight from Monday
        // 9 March: only the partners' requests are news for the office that Monday.
        let soest = consultation(&mut conn, &api, "05974", "k@kreis-soest.de", at("2026-03-04T09:00:00+01:00"));
        let invited: Vec<(i64, String)> = vorgang::db::schema::invitations::table
            .inner_join(vorgang::db::schema::organisations::table)
            .filter(vorgang::db::schema::invitations::case_id.eq(soest.0))
            .order(vorgang::db::schema::invitations::id)
            .select((vorgang::db::schema::invitations::id, vorgang::db::schema::organisations::name))
            .load(&mut conn)
            .unwrap();
        let ctx = api.case_context();
        let asked = vorgang::service::clock::at(at("2026-03-05T10:00:00+01:00"));
        vorgang::service::extension_request::request(&mut conn, &ctx, invited[0].0, (Some("2026-04-15"), Some("Der Ausschuss tagt später."), Some("Frau Muster")), &asked).unwrap();
        let reported = vorgang::service::clock::at(at("2026-03-06T10:00:00+01:00"));
        vorgang::service::responsibility_notice::report(&mut conn, &ctx, invited[1].0, (Some("Zuständig ist die Stadt."), Some("Jugendamt der Stadt Soest"), Some("Herr Kaya")), &reported).unwrap();

        let jobs = job_context(&api, &api.jobs, "test");
        let counts = execute(&mut conn, &jobs, JobName::Digest, at("2026-03-09T07:00:00+01:00")).unwrap();
        assert_eq!((counts["mails"].as_u64(), counts["deadlines"].as_u64(), counts["anliegen"].as_u64()), (Some(1), Some(0), Some(2)), "{counts:?}");
        let digest = |conn: &mut vorgang::db::DbConnection| -> (String, Value) {
            let (subject, rendered): (String, String) = outbox::table
                .filter(outbox::template.eq("fristen_uebersicht"))
                .order(outbox::id.desc())
                .select((outbox::subject, outbox::rendered))
                .first(conn)
                .unwrap();
            (subject, serde_json::from_str(&rendered).unwrap())
        };
        let (subject, rendered) = digest(&mut conn);
        assert_eq!(subject, "Fristen der nächsten 14 Tage (09.03.2026 bis 22.03.2026): keine Fristen, 2 offene Anliegen");
        let text = rendered["text"].as_str().unwrap();
        let aktenzeichen: String = vorgang::db::schema::cases::table.find(soest).select(vorgang::db::schema::cases::aktenzeichen).first(&mut conn).unwrap();
        assert!(text.contains("enden für Kreis Soest keine Fristen.\n\nÜber diese Anliegen"), "{text}");
        let (first, second) = (&invited[0].1, &invited[1].1);
        assert!(text.contains(&format!("Über diese Anliegen beteiligter Stellen haben Sie noch nicht entschieden; die Stellen warten auf Ihre Antwort:\n- {aktenzeichen}: {first}")), "{text}");
        assert!(text.contains("bittet seit dem 05.03.2026 um Fristverlängerung bis Mittwoch, 15.04.2026\n"), "{text}");
        assert!(text.contains(&format!("- {aktenzeichen}: {second}")), "{text}");
        assert!(text.contains("teilt seit dem 06.03.2026 mit, nicht zuständig zu sein (zuständig sei: Jugendamt der Stadt Soest)\n"), "{text}");
        assert!(!text.contains("\n\n\n"), "{text}");
        let html = rendered["html"].as_str().unwrap();
        assert!(html.contains("teilt seit dem 06.03.2026 mit, nicht zuständig zu sein (zuständig sei: Jugendamt der Stadt Soest)</li>"), "{html}");
        assert!(!html.contains("<table>"), "no deadlines, no table: {html}");

        // The office declines the request for more time; two weeks later the deadline is due
        // and only the notice still waits.
        let actor = Actor { id: "k@kreis-soest.de".into(), roles: vec!["koordination".into()] };
        let allow = |_| Ok(());
        let decided = vorgang::service::clock::at(at("2026-03-10T10:00:00+01:00"));
        let call = Invocation { actor: &actor, clock: &decided, check: &allow };
        vorgang::service::request_refusal::refuse(&mut conn, &ctx, soest, (invited[0].0, vorgang::service::request_refusal::PartnerRequest::Extension), "Der Kreistag tagt am 20.04.2026.".into(), call).unwrap();
        let counts = execute(&mut conn, &jobs, JobName::Digest, at("2026-03-23T07:00:00+01:00")).unwrap();
        assert_eq!((counts["deadlines"].as_u64(), counts["anliegen"].as_u64()), (Some(1), Some(1)), "{counts:?}");
        let (subject, rendered) = digest(&mut conn);
        assert_eq!(subject, "Fristen der nächsten 14 Tage (23.03.2026 bis 05.04.2026): 1 Frist, 1 offenes Anliegen");
        let text = rendered["text"].as_str().unwrap();
        assert!(text.contains(&format!("Mittwoch, 01.04.2026: {aktenzeichen} – Beteiligung")), "{text}");
        assert!(!text.contains("Fristverlängerung"), "{text}");
        assert!(text.contains("nicht zuständig zu sein"), "{text}");
    }
}
