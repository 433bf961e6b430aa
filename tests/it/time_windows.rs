//! Time windows (`windows` in a workflow, `within` on an action), on both databases: their
//! periods are entered and removed by administrators only, over the API and on the
//! administration's page, each change in the administration's record; an action bound to a
//! window is refused outside its periods, with the reason, and not checked while none is
//! entered.

use actix_web::http::StatusCode;
use actix_web::test as actix_test;
use chrono::{Days, NaiveDate};
use diesel::prelude::*;
use serde_json::{Value, json};
use vorgang::db::models::Role;
use vorgang::db::schema::time_windows;

use crate::support::TestDatabase;
use crate::support::api::send;
use crate::support::auth::{create_user, staff_token, test_auth};
use crate::support::ui::{Browser, ui_app, unescape};

const PASSWORD: &str = "richtig-langes-passwort";
const ADMIN: &str = "admin@kfi.nrw.de";
const COORDINATOR: &str = "k@kreis-soest.de";

/// A procedure whose one action is bound to the window `antragszeitraum`.
const FRIST: &str = r#"workflow: ki-zeitraum
title: Antrag im Antragszeitraum
prefix: KIZ
roles:
  koordination: { title: Koordination }
windows:
  antragszeitraum:
    title: Antragszeitraum
    help: Gibt die Bewilligungsbehörde jedes Jahr bekannt.
start: entwurf
steps:
  entwurf:
    type: task
    title: Antrag entwerfen
    role: koordination
    actions:
      einreichen: { title: Antrag einreichen, to: eingereicht, within: antragszeitraum }
  eingereicht:
    type: end
    title: Eingereicht
    outcome: eingereicht
"#;

fn request(method: actix_test::TestRequest, uri: &str, token: &str) -> actix_test::TestRequest {
    method
        .uri(uri)
        .insert_header(("Authorization", format!("Bearer {token}")))
}

/// Tokens of an administrator and of Soest's coordinator (who logs in with [`PASSWORD`]).
fn staff(db: &TestDatabase) -> [String; 2] {
    let mut conn = db.connection();
    let admin = create_user(&mut conn, ADMIN, "KFI", &[Role::Admin], Some(PASSWORD));
    let soest = create_user(
        &mut conn,
        COORDINATOR,
        "05974",
        &[Role::Koordination],
        Some(PASSWORD),
    );
    [staff_token(&admin), staff_token(&soest)]
}

/// The day in Germany `offset` days from today (the server judges by it).
fn day(offset: i64) -> NaiveDate {
    let today = vorgang::service::clock::now().today;
    if offset >= 0 {
        today + Days::new(offset.unsigned_abs())
    } else {
        today - Days::new(offset.unsigned_abs())
    }
}

fn german(date: NaiveDate) -> String {
    date.format("%d.%m.%Y").to_string()
}

fn period(label: &str, opens: NaiveDate, closes: NaiveDate) -> Value {
    json!({ "name": "antragszeitraum", "label": label, "opens_on": opens, "closes_on": closes })
}

/// The stored periods: (label, opens, closes), ordered by their start.
fn stored(db: &TestDatabase) -> Vec<(String, NaiveDate, NaiveDate)> {
    time_windows::table
        .order(time_windows::opens_on)
        .select((
            time_windows::label,
            time_windows::opens_on,
            time_windows::closes_on,
        ))
        .load(&mut db.connection())
        .unwrap()
}

both_backends! {
    async fn an_action_bound_to_a_window_waits_for_a_period_the_administration_entered(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let [admin, soest] = staff(&db);
        let app = ui_app!(db, dir);
        let deployed = send!(app, request(actix_test::TestRequest::post(), "/api/v1/workflows", &admin)
            .insert_header(("Content-Type", "application/yaml"))
            .set_payload(FRIST));
        assert_eq!(deployed.status, StatusCode::CREATED, "{}", deployed.body);
        let created = send!(app, request(actix_test::TestRequest::post(), "/api/v1/cases", &soest)
            .set_json(json!({ "workflow": "ki-zeitraum" })));
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let id = created.body["id"].as_i64().unwrap();
        let show = || request(actix_test::TestRequest::get(), &format!("/api/v1/cases/{id}"), &soest);

        // Nothing entered: the action is offered, with a warning that the window is not checked.
        let unchecked = send!(app, show());
        assert_eq!(unchecked.body["actions"][0]["allowed"], true, "{}", unchecked.body);
        assert_eq!(unchecked.body["actions"][0]["warnings"], json!(["Für „Antragszeitraum“ ist kein Zeitraum eingetragen; ob er läuft, wird daher nicht geprüft. Die Administration trägt die Zeiträume ein."]));

        // Everybody sees the declared windows; the shipped Antrag binds its submission too.
        let listed = send!(app, request(actix_test::TestRequest::get(), "/api/v1/time-windows", &soest));
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
        let names: Vec<&str> = listed.body.as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["antragszeitraum", "kfi_antragszeitraum"], "{}", listed.body);
        assert_eq!(listed.body[0]["workflows"], json!(["ki-zeitraum"]));
        assert_eq!((listed.body[0]["remind"].clone(), listed.body[1]["remind"].clone()), (Value::Null, json!("P4W")));
        assert_eq!(listed.body[0]["periods"], json!([]));

        // Only administrators enter periods; bad input gets every error at its field.
        let enter = |body: Value, token: &str| request(actix_test::TestRequest::post(), "/api/v1/time-windows", token).set_json(body);
        let last_year = period("Förderjahr A", day(-60), day(-1));
        assert_eq!(send!(app, enter(last_year.clone(), &soest)).status, StatusCode::FORBIDDEN);
        let invalid = send!(app, enter(json!({ "name": "antragszeitraum_", "label": " ", "opens_on": "17.04.2026", "closes_on": "2026-02-30" }), &admin));
        assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", invalid.body);
        assert_eq!(invalid.body["errors"], json!([
            { "pointer": "/name", "message": "Den Zeitraum „antragszeitraum_“ deklariert kein Workflow (deklariert: antragszeitraum, kfi_antragszeitraum)." },
            { "pointer": "/label", "message": "Bitte geben Sie eine Bezeichnung an, z. B. „Förderjahr 2027“." },
            { "pointer": "/opens_on", "message": "„17.04.2026“ ist kein Datum im Format JJJJ-MM-TT." },
            { "pointer": "/closes_on", "message": "„2026-02-30“ ist kein Datum im Format JJJJ-MM-TT." },
        ]));
        let backwards = send!(app, enter(period("Förderjahr A", day(-1), day(-60)), &admin));
        assert_eq!(backwards.body["errors"], json!([{ "pointer": "/closes_on", "message": "Der letzte Tag liegt vor dem ersten; beide Tage zählen zum Zeitraum." }]));
        assert_eq!(send!(app, enter(json!({ "name": "antragszeitraum", "von": "x" }), &admin)).status, StatusCode::BAD_REQUEST);
        assert!(stored(&db).is_empty(), "nothing entered");
        assert!(db.admin_record().is_empty(), "nothing recorded");

        // A period that ended yesterday: refused, saying when it ended.
        let entered = send!(app, enter(last_year, &admin));
        assert_eq!(entered.status, StatusCode::CREATED, "{}", entered.body);
        assert_eq!((entered.body["label"].clone(), entered.body["created_by"].clone()), (json!("Förderjahr A"), json!(ADMIN)));
        // A UTC instant as everywhere in the API: RFC 3339 with `Z`, to the second.
        let created_at = entered.body["created_at"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(created_at).is_ok() && created_at.len() == 20 && created_at.ends_with('Z'), "{created_at}");
        let after = send!(app, show());
        assert_eq!(after.body["actions"][0]["allowed"], false, "{}", after.body);
        assert_eq!(after.body["actions"][0]["reasons"], json!([format!(
            "Außerhalb des Zeitraums „Antragszeitraum“: Der letzte eingetragene Zeitraum (Förderjahr A) endete am {}; ein weiterer ist noch nicht eingetragen.",
            german(day(-1))
        )]));
        let act = |version: i64| request(actix_test::TestRequest::post(), &format!("/api/v1/cases/{id}/actions/einreichen"), &soest).set_json(json!({ "version": version }));
        // The case list judges its cases alike (the periods read once for the page).
        let listed_cases = send!(app, request(actix_test::TestRequest::get(), "/api/v1/cases?workflow=ki-zeitraum", &soest));
        assert_eq!(listed_cases.body["items"][0]["actions"][0]["reasons"], after.body["actions"][0]["reasons"], "{}", listed_cases.body);
        let refused = send!(app, act(1));
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
        assert_eq!(refused.body["reasons"][0]["reason"], "outside_window", "{}", refused.body);

        // The next one, announced: refused, saying when it opens; one overlapping either: 422.
        let next = send!(app, enter(period("Förderjahr B", day(10), day(40)), &admin));
        assert_eq!(next.status, StatusCode::CREATED, "{}", next.body);
        let waiting = send!(app, show());
        assert_eq!(waiting.body["actions"][0]["reasons"], json!([format!(
            "Außerhalb des Zeitraums „Antragszeitraum“: Der nächste Zeitraum (Förderjahr B) beginnt am {}.",
            german(day(10))
        )]));
        let overlapping = send!(app, enter(period("Doppelt", day(-5), day(5)), &admin));
        assert_eq!(overlapping.body["errors"], json!([{ "pointer": "/opens_on", "message": format!(
            "Dieser Zeitraum überschneidet sich mit dem eingetragenen Zeitraum „Förderjahr A“ ({} bis {}).", german(day(-60)), german(day(-1))
        ) }]));

        // B was announced wrongly: removed, and the right one entered; now the case goes on.
        let next_id = next.body["id"].as_i64().unwrap();
        let remove = |id: i64, token: &str| request(actix_test::TestRequest::delete(), &format!("/api/v1/time-windows/{id}"), token);
        assert_eq!(send!(app, remove(next_id, &soest)).status, StatusCode::FORBIDDEN);
        assert_eq!(send!(app, remove(next_id, &admin)).status, StatusCode::NO_CONTENT);
        assert_eq!(send!(app, remove(next_id, &admin)).status, StatusCode::NOT_FOUND);
        assert_eq!(send!(app, enter(period("Förderjahr B", day(0), day(9)), &admin)).status, StatusCode::CREATED);
        assert_eq!(stored(&db), [("Förderjahr A".to_string(), day(-60), day(-1)), ("Förderjahr B".to_string(), day(0), day(9))]);
        let open = send!(app, show());
        assert_eq!((open.body["actions"][0]["allowed"].clone(), open.body["actions"][0]["warnings"].clone()), (json!(true), json!([format!("Möglich bis {} (Zeitraum „Antragszeitraum“, Förderjahr B).", german(day(9)))])), "{}", open.body);
        let submitted = send!(app, act(1));
        assert_eq!(submitted.status, StatusCode::OK, "{}", submitted.body);
        assert_eq!(submitted.body["status"], "completed");

        let subject = "antragszeitraum".to_string();
        assert_eq!(db.admin_record(), [
            ("time_window_added".to_string(), subject.clone()),
            ("time_window_added".to_string(), subject.clone()),
            ("time_window_removed".to_string(), subject.clone()),
            ("time_window_added".to_string(), subject),
        ]);
        let report = vorgang::service::admin_chain::verify(&mut db.connection()).unwrap();
        assert_eq!((report.entries, report.broken), (4, None));
    }
}

both_backends! {
    async fn administrators_enter_periods_on_their_page_and_the_case_page_says_why_not(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let [admin_token, soest] = staff(&db);
        let app = ui_app!(db, dir);
        let deployed = send!(app, request(actix_test::TestRequest::post(), "/api/v1/workflows", &admin_token)
            .insert_header(("Content-Type", "application/yaml"))
            .set_payload(FRIST));
        assert_eq!(deployed.status, StatusCode::CREATED, "{}", deployed.body);
        let created = send!(app, request(actix_test::TestRequest::post(), "/api/v1/cases", &soest)
            .set_json(json!({ "workflow": "ki-zeitraum" })));
        let id = created.body["id"].as_i64().unwrap();

        // A coordinator may not open the page.
        let mut coordinator = Browser::from("10.0.0.7:1000");
        coordinator.login(&app, COORDINATOR, PASSWORD).await;
        assert_eq!(coordinator.get(&app, "/admin/zeitraeume").await.status, 403);

        let mut admin = Browser::from("10.0.0.8:1000");
        admin.login(&app, ADMIN, PASSWORD).await;
        let page = unescape(&admin.get(&app, "/admin/zeitraeume").await.body);
        assert!(page.contains("<h2 id=\"zeitraum-antragszeitraum\">Antragszeitraum</h2>"), "{page}");
        assert!(page.contains("<p>Gibt die Bewilligungsbehörde jedes Jahr bekannt.</p>"), "{page}");
        assert!(page.contains("Gebunden in: <a href=\"/admin/workflows/ki-zeitraum\">ki-zeitraum</a></p>"), "{page}");
        // The shipped Antrag's window reminds four weeks ahead.
        assert!(page.contains("Gebunden in: <a href=\"/admin/workflows/ki-antrag\">ki-antrag</a> Erinnerung an die Stellen, deren Vorgänge noch an einer gebundenen Aktion stehen: 4 Wochen vor dem letzten Tag.</p>"), "{page}");
        assert!(page.contains("Noch kein Zeitraum eingetragen; die gebundenen Aktionen werden nicht geprüft."), "{page}");
        assert!(admin.get(&app, "/admin").await.body.contains("href=\"/admin/zeitraeume\""));

        // Errors at their fields, the values typed kept, nothing stored.
        let csrf = admin.csrf_token(&app, "/admin/zeitraeume").await;
        let (opens, closes) = (day(-30).to_string(), day(-1).to_string());
        let invalid = admin.post(&app, "/admin/zeitraeume", &[
            ("csrf", &csrf), ("zeitraum", "antragszeitraum"), ("bezeichnung", "Förderjahr A"), ("beginn", &closes), ("ende", &opens),
        ]).await;
        assert_eq!(invalid.status, 422, "{}", invalid.body);
        let invalid_page = unescape(&invalid.body);
        assert!(invalid_page.contains("<a href=\"#feld-ende\">Der letzte Tag liegt vor dem ersten; beide Tage zählen zum Zeitraum.</a>"), "{invalid_page}");
        assert!(invalid_page.contains("aria-describedby=\"fehler-ende\""), "{invalid_page}");
        assert!(invalid_page.contains("value=\"Förderjahr A\""), "{invalid_page}");
        assert!(stored(&db).is_empty());

        let entered = admin.post(&app, "/admin/zeitraeume", &[
            ("csrf", &csrf), ("zeitraum", "antragszeitraum"), ("bezeichnung", "Förderjahr A"), ("beginn", &opens), ("ende", &closes),
        ]).await;
        assert_eq!(entered.location(), "/admin/zeitraeume?hinweis=eingetragen");
        let listed = unescape(&admin.get(&app, "/admin/zeitraeume?hinweis=eingetragen").await.body);
        assert!(listed.contains("Der Zeitraum wurde eingetragen."), "{listed}");
        assert!(listed.contains(&format!("<th scope=\"row\">Förderjahr A</th><td>{}</td><td>{}</td><td>abgelaufen</td>", german(day(-30)), german(day(-1)))), "{listed}");

        // The case page names the reason at the action.
        let case_page = unescape(&coordinator.get(&app, &format!("/vorgaenge/{id}")).await.body);
        assert!(case_page.contains(&format!("Außerhalb des Zeitraums „Antragszeitraum“: Der letzte eingetragene Zeitraum (Förderjahr A) endete am {}; ein weiterer ist noch nicht eingetragen.", german(day(-1)))), "{case_page}");

        // Removed again: recorded, and the record page says what it was.
        let period_id: i64 = time_windows::table.select(time_windows::id).first(&mut db.connection()).unwrap();
        let removed = admin.post(&app, &format!("/admin/zeitraeume/{period_id}/entfernen"), &[("csrf", &csrf)]).await;
        assert_eq!(removed.location(), "/admin/zeitraeume?hinweis=entfernt");
        assert!(stored(&db).is_empty());
        let gone = admin.post(&app, &format!("/admin/zeitraeume/{period_id}/entfernen"), &[("csrf", &csrf)]).await;
        assert_eq!(gone.status, 404, "{}", gone.body);
        // A period running until five days from now: its last day is among the coordinator's
        // deadlines on the start page, with what ends then.
        let running = admin.post(&app, "/admin/zeitraeume", &[
            ("csrf", &csrf), ("zeitraum", "antragszeitraum"), ("bezeichnung", "Förderjahr B"), ("beginn", &day(-1).to_string()), ("ende", &day(5).to_string()),
        ]).await;
        assert_eq!(running.location(), "/admin/zeitraeume?hinweis=eingetragen");
        let listed = unescape(&admin.get(&app, "/admin/zeitraeume").await.body);
        assert!(listed.contains(&format!("<th scope=\"row\">Förderjahr B</th><td>{}</td><td>{}</td><td><strong>läuft</strong></td>", german(day(-1)), german(day(5)))), "{listed}");
        let start = unescape(&coordinator.get(&app, "/").await.body);
        assert!(start.contains(&format!(
            "{}</time><span class=\"nebenangabe\">Letzter Tag des Zeitraums „Antragszeitraum“ (Förderjahr B): danach ist „Antrag einreichen“ erst im nächsten Zeitraum möglich.</span></td><td><a class=\"az\" href=\"/vorgaenge/{id}\">",
            german(day(5))
        )), "{start}");
        assert!(start.contains(&format!("<time datetime=\"{}\">", day(5))), "{start}");
        let case_page = unescape(&coordinator.get(&app, &format!("/vorgaenge/{id}")).await.body);
        assert!(case_page.contains(&format!("Hinweis: Möglich bis {} (Zeitraum „Antragszeitraum“, Förderjahr B).", german(day(5)))), "{case_page}");
        let record = unescape(&admin.get(&app, "/admin/protokoll").await.body);
        assert!(record.contains(&format!("Zeitraum antragszeitraum: „Förderjahr A“ vom {} bis {} entfernt", german(day(-30)), german(day(-1)))), "{record}");
    }
}

both_backends! {
    async fn the_office_of_a_case_waiting_at_a_bound_action_is_reminded_once_before_the_period_ends(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let [admin, soest] = staff(&db);
        let pool = db.pool(4);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool.clone(), test_auth(), api.clone())).await;
        let reminding = FRIST.replace(
            "    help: Gibt die Bewilligungsbehörde jedes Jahr bekannt.\n",
            "    help: Gibt die Bewilligungsbehörde jedes Jahr bekannt.\n    remind: P2W\n",
        );
        let deployed = send!(app, request(actix_test::TestRequest::post(), "/api/v1/workflows", &admin)
            .insert_header(("Content-Type", "application/yaml"))
            .set_payload(reminding));
        assert_eq!(deployed.status, StatusCode::CREATED, "{}", deployed.body);
        let enter = |body: Value| request(actix_test::TestRequest::post(), "/api/v1/time-windows", &admin).set_json(body);
        // A period running today, in which the second case is submitted; and the one of 2030,
        // whose last day is Thursday 31 October.
        assert_eq!(send!(app, enter(period("Heute", day(-1), day(1)))).status, StatusCode::CREATED);
        let later = send!(app, enter(period("Förderjahr 2031", "2030-04-17".parse().unwrap(), "2030-10-31".parse().unwrap())));
        assert_eq!(later.status, StatusCode::CREATED, "{}", later.body);
        let mut cases = Vec::new();
        for _ in 0..2 {
            let created = send!(app, request(actix_test::TestRequest::post(), "/api/v1/cases", &soest)
                .set_json(json!({ "workflow": "ki-zeitraum" })));
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
            cases.push((created.body["id"].as_i64().unwrap(), created.body["aktenzeichen"].as_str().unwrap().to_string()));
        }
        let submitted = send!(app, request(actix_test::TestRequest::post(), &format!("/api/v1/cases/{}/actions/einreichen", cases[1].0), &soest)
            .set_json(json!({ "version": 1 })));
        assert_eq!(submitted.status, StatusCode::OK, "{}", submitted.body);

        let jobs = vorgang::scheduler::jobs::Jobs::default();
        let context = crate::support::api::job_context(&api, &jobs, "a");
        let mut conn = pool.get().unwrap();
        let mut run = |morning: &str| {
            let now = chrono::DateTime::parse_from_rfc3339(&format!("{morning}T07:00:00+02:00")).unwrap().to_utc();
            let counts = vorgang::scheduler::jobs::execute(&mut conn, &context, vorgang::scheduler::jobs::JobName::Reminders, now).unwrap();
            counts["zeitraeume"].as_u64().unwrap()
        };
        let mails = |db: &TestDatabase| -> Vec<(Option<i64>, String, String)> {
            use vorgang::db::schema::outbox;
            outbox::table
                .filter(outbox::template.eq("zeitraum_endet"))
                .select((outbox::case_id, outbox::subject, outbox::rendered))
                .load(&mut db.connection())
                .unwrap()
        };

        // Two weeks before the last day, not a day earlier; the case already submitted is left
        // out; the next mornings remind nobody again.
        assert_eq!(run("2030-10-16"), 0);
        assert!(mails(&db).is_empty());
        assert_eq!(run("2030-10-17"), 1);
        assert_eq!(run("2030-10-18"), 0);
        let sent = mails(&db);
        assert_eq!(sent.len(), 1, "{sent:?}");
        let (case, subject, rendered) = &sent[0];
        assert_eq!(*case, Some(cases[0].0));
        assert_eq!(subject, &format!("Zeitraum endet am 31.10.2030: {} – Antrag einreichen", cases[0].1));
        let rendered: Value = serde_json::from_str(rendered).unwrap();
        assert_eq!(rendered["to"], json!([COORDINATOR]), "no mailbox at Soest: its coordinators");
        let text = rendered["text"].as_str().unwrap();
        assert!(text.contains("der Zeitraum „Antragszeitraum“ (Förderjahr 2031) endet am Donnerstag, 31.10.2030."), "{text}");
        assert!(text.contains("steht im Schritt „Antrag entwerfen“. Die Aktion „Antrag einreichen“ ist nur bis zu diesem Tag möglich"), "{text}");
        assert!(text.contains(&format!("/vorgaenge/{}", cases[0].0)), "{text}");

        // For the office the period's end is a deadline of the waiting case: in the digest, the
        // calendar feed and on the start page, which all list these.
        use vorgang::service::fristen::{Scope, between};
        let (from, to) = ("2030-10-17".parse().unwrap(), "2030-10-31".parse().unwrap());
        let deadlines = between(&mut conn, &api.registry, Scope::All, from, to).unwrap();
        let listed: Vec<(i64, &str, &str, NaiveDate, Option<&str>)> = deadlines.iter()
            .map(|d| (d.case_id, d.step.as_str(), d.step_title.as_str(), d.end, d.reason.as_deref()))
            .collect();
        assert_eq!(listed, [(cases[0].0, "entwurf", "Antrag entwerfen", to, Some(
            "Letzter Tag des Zeitraums „Antragszeitraum“ (Förderjahr 2031): danach ist „Antrag einreichen“ erst im nächsten Zeitraum möglich."
        ))]);
        let soest = vorgang::db::models::Organisation::find_by_key(&mut conn, "05974").unwrap().unwrap();
        let kleve = vorgang::db::models::Organisation::find_by_key(&mut conn, "05154").unwrap().unwrap();
        assert_eq!(between(&mut conn, &api.registry, Scope::Applicant(soest.id), from, to).unwrap(), deadlines);
        assert!(between(&mut conn, &api.registry, Scope::Applicant(kleve.id), from, to).unwrap().is_empty());
        assert!(between(&mut conn, &api.registry, Scope::All, from, "2030-10-30".parse().unwrap()).unwrap().is_empty());
        // In a calendar feed it is an event of its own, apart from the step's deadlines.
        let feed = vorgang::service::calendar::ics(&deadlines, &[], &vorgang::service::calendar::FeedMeta {
            name: "Fristen",
            public_url: "https://vorgang.example",
            uid_domain: "vorgang.example",
            now: chrono::Utc::now(),
        });
        assert!(feed.contains(&format!("UID:zeitraum-{}-antragszeitraum-20301031@vorgang.example", cases[0].0)), "{feed}");
    }
}
