//! The pages of daily work: the start page (tasks, deadlines, counts per step, answers), the
//! case list (filters, sorting, pages) and the account page with the calendar addresses.

use actix_web::test as actix_test;
use actix_web::web;
use chrono::{Datelike, NaiveDate, TimeDelta, Utc, Weekday};
use diesel::prelude::*;
use vorgang::db::models::{Organisation, Role};
use vorgang::db::schema::organisations;
use vorgang::engine::Actor;
use vorgang::service::cases;
use vorgang::web::ui::{LegalTexts, UiState};

use crate::kalender::{consultation, deadline_of};
use crate::support::TestDatabase;
use crate::support::auth::{create_user, test_auth};
use crate::support::ui::{Browser, unescape};

const PASSWORD: &str = "richtig-langes-passwort";
const SOEST: &str = "k@kreis-soest.de";

macro_rules! ui_app {
    ($db:expr, $api:expr) => {
        actix_test::init_service(vorgang::web::app_with_ui(
            $db,
            test_auth(),
            $api,
            web::Data::new(UiState::new(
                &"http://127.0.0.1:8080".parse().unwrap(),
                LegalTexts::builtin(),
            )),
        ))
        .await
    };
}

fn german(date: NaiveDate) -> String {
    let day = match date.weekday() {
        Weekday::Mon => "Montag",
        Weekday::Tue => "Dienstag",
        Weekday::Wed => "Mittwoch",
        Weekday::Thu => "Donnerstag",
        Weekday::Fri => "Freitag",
        Weekday::Sat => "Samstag",
        Weekday::Sun => "Sonntag",
    };
    format!("{day}, {}", date.format("%d.%m.%Y"))
}

/// Starts a ki-antrag case of `kreis` now (no further step).
fn application(
    conn: &mut vorgang::db::DbConnection,
    api: &vorgang::web::api::ApiState,
    kreis: &str,
) -> String {
    let applicant = Organisation::find_by_key(conn, kreis).unwrap().unwrap();
    let actor = Actor {
        id: "test".into(),
        roles: vec!["koordination".into()],
    };
    let case = cases::start_case(
        conn,
        &api.case_context(),
        "ki-antrag",
        &applicant,
        crate::beteiligung::application(),
        &actor,
        &vorgang::service::clock::now(),
    )
    .unwrap();
    case.row.aktenzeichen
}

/// The start page's „Meine Aufgaben“ section.
fn tasks_section(body: &str) -> &str {
    &body[body.find("Meine Aufgaben").unwrap()..body.find("Fristen der nächsten").unwrap()]
}

fn aktenzeichen(conn: &mut vorgang::db::DbConnection, id: vorgang::db::models::CaseId) -> String {
    vorgang::db::models::CaseRow::find(conn, id)
        .unwrap()
        .unwrap()
        .aktenzeichen
}

both_backends! {
    async fn ui_start_page_shows_own_deadlines_tasks_and_counts(backend) {
        let db = TestDatabase::migrated(backend);
        let pool = db.pool(2);
        let dir = tempfile::tempdir().unwrap();
        let api = crate::support::api::state(&pool, dir.path());
        let mut conn = pool.get().unwrap();
        crate::support::partners::add_partners(&mut conn);
        create_user(&mut conn, SOEST, "05974", &[Role::Koordination], Some(PASSWORD));
        create_user(&mut conn, "k@kreis-coesfeld.de", "05558", &[Role::Koordination], None);
        create_user(&mut conn, "admin@it.nrw.de", "KFI", &[Role::Admin], Some(PASSWORD));
        create_user(&mut conn, "l@kreis-soest.de", "05974", &[Role::Lesen], Some(PASSWORD));
        // Opened three weeks ago: the four-week consultation ends within the next 14 days.
        let started = Utc::now() - TimeDelta::days(21);
        let soest = consultation(&mut conn, &api, "05974", SOEST, started);
        let coesfeld = consultation(&mut conn, &api, "05558", "k@kreis-coesfeld.de", started);
        let fresh = application(&mut conn, &api, "05974");
        let end = deadline_of(&mut conn, soest);
        let soest_az = aktenzeichen(&mut conn, soest);
        let coesfeld_az = aktenzeichen(&mut conn, coesfeld);
        diesel::update(organisations::table.filter(organisations::key.eq("05974")))
            .set(organisations::name.eq("Kreis <script>alert(1)</script> Soest"))
            .execute(&mut conn)
            .unwrap();
        drop(conn);
        let app = ui_app!(pool, api);
        let mut browser = Browser::default();
        assert_eq!(browser.login(&app, SOEST, PASSWORD).await.location(), "/");

        let page = browser.get(&app, "/").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let body = &page.body;
        assert!(body.contains("Guten Tag"), "{body}");
        assert!(body.contains(&german(end)), "{} missing: {body}", german(end));
        assert!(body.contains(&format!("href=\"/vorgaenge/{}\">{}</a>", soest.0, soest_az)), "{body}");
        assert!(!body.contains(&coesfeld_az), "a foreign Kreis's case on the start page: {body}");
        // The fresh application waits for the coordinator: a task.
        let tasks = tasks_section(body);
        assert!(tasks.contains(&fresh), "{tasks}");
        // The coordinator's tasks are its own organisation's cases: no name beside them.
        assert!(!tasks.contains("Soest · "), "{tasks}");
        // Two running cases in two different steps: each counted once, chart and table agree.
        let chart = &body[body.find("<svg").unwrap()..body.find("</svg>").unwrap()];
        assert!(chart.contains("role=\"img\"") && chart.contains("<title"), "{chart}");
        assert_eq!(chart.matches("<rect").count(), 2, "{chart}");
        assert_eq!(chart.matches(">1</text>").count(), 2, "{chart}");
        assert_eq!(body.matches("<td class=\"zahl\">1</td>").count(), 2, "{body}");
        assert!(body.contains("2 laufende Vorgänge"), "{body}");
        assert!(!body.contains(" style="), "inline styles are forbidden by the CSP");
        // The applicant's name is escaped wherever it appears.
        assert!(!body.contains("<script>alert"), "{body}");
        assert!(body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{body}");

        // An administrator may take every action, so the coordinator's task is theirs as well;
        // a reader may take none.
        for (email, listed) in [("admin@it.nrw.de", true), ("l@kreis-soest.de", false)] {
            let mut browser = Browser::default();
            browser.login(&app, email, PASSWORD).await;
            let page = browser.get(&app, "/").await;
            assert_eq!(page.status, 200, "{}", page.body);
            let tasks = tasks_section(&page.body);
            assert_eq!(tasks.contains(&fresh), listed, "{email}: {tasks}");
            if listed {
                // Someone else's case says whose it is (escaped like every name).
                assert!(tasks.contains("<span class=\"nebenangabe\">Kreis &lt;script&gt;alert(1)&lt;/script&gt; Soest · "), "{tasks}");
            }
        }
    }
}

both_backends! {
    async fn ui_case_list_filters_sorts_pages_and_refuses_unknown_sort(backend) {
        let db = TestDatabase::migrated(backend);
        let pool = db.pool(2);
        let dir = tempfile::tempdir().unwrap();
        let api = crate::support::api::state(&pool, dir.path());
        let mut conn = pool.get().unwrap();
        create_user(&mut conn, SOEST, "05974", &[Role::Koordination], Some(PASSWORD));
        create_user(&mut conn, "l@kreis-soest.de", "05974", &[Role::Lesen], Some(PASSWORD));
        let mut numbers: Vec<String> = (0..21).map(|_| application(&mut conn, &api, "05974")).collect();
        let foreign = application(&mut conn, &api, "05558");
        numbers.sort();
        drop(conn);
        let app = ui_app!(pool, api);
        let mut browser = Browser::default();
        browser.login(&app, SOEST, PASSWORD).await;

        let first = browser.get(&app, "/vorgaenge").await;
        assert_eq!(first.status, 200, "{}", first.body);
        assert!(first.body.contains("21 Vorgänge gefunden, Seite 1 von 2."), "{}", first.body);
        assert!(first.body.contains("role=\"status\""));
        assert!(first.body.contains("aria-sort=\"descending\""));
        assert!(!first.body.contains(&foreign), "a foreign case listed");
        assert!(first.body.contains("<label for=\"feld-q\">"));
        // The applicant as written in text: the Kreis, not the town of the same name.
        assert!(first.body.contains("<td>Kreis Soest</td>"), "{}", first.body);

        let sorted = browser.get(&app, "/vorgaenge?status=running&sort=aktenzeichen&richtung=auf").await;
        assert_eq!(sorted.status, 200, "{}", sorted.body);
        assert!(sorted.body.contains("aria-sort=\"ascending\""), "{}", sorted.body);
        let rows = &sorted.body[sorted.body.find("<tbody>").unwrap()..];
        let position = |az: &str| rows.find(&format!(">{az}</a>")).unwrap_or(usize::MAX);
        assert!(position(&numbers[0]) < position(&numbers[1]), "not ascending: {rows}");
        assert_eq!(position(&numbers[20]), usize::MAX, "the last one is on page 2");
        let next = unescape(&sorted.body);
        assert!(next.contains("/vorgaenge?status=running&sort=aktenzeichen&richtung=auf&seite=2"), "filters lost: {next}");

        let second = browser.get(&app, "/vorgaenge?status=running&sort=aktenzeichen&richtung=auf&seite=2").await;
        assert!(second.body.contains("Seite 2 von 2"), "{}", second.body);
        assert!(second.body.contains(&format!(">{}</a>", numbers[20])), "{}", second.body);
        assert!(second.body.contains("rel=\"prev\""));

        // The whole list, not a page of it, as a CSV file with the same filters and order.
        assert!(next.contains("href=\"/vorgaenge/liste.csv?status=running&sort=aktenzeichen&richtung=auf\""), "{next}");
        let file = browser.get(&app, "/vorgaenge/liste.csv?status=running&sort=aktenzeichen&richtung=auf").await;
        assert_eq!(file.status, 200, "{}", file.body);
        assert_eq!(file.header("content-type"), "text/csv; charset=utf-8");
        assert!(file.header("content-disposition").starts_with("attachment; filename=\"vorgaenge-"), "{}", file.header("content-disposition"));
        let text = file.body.strip_prefix('\u{feff}').expect("a byte order mark for spreadsheets");
        let lines: Vec<&str> = text.split("\r\n").filter(|line| !line.is_empty()).collect();
        assert!(lines[0].starts_with("Aktenzeichen;Verfahren;Antragsteller;Gemeindeschlüssel bzw. Kennung;Status;"), "{}", lines[0]);
        let listed: Vec<&str> = lines[1..].iter().map(|line| line.split(';').next().unwrap()).collect();
        assert_eq!(listed, numbers, "all 21, in the order of the list");
        assert!(lines[1].contains(";Kreis Soest;05974;laufend;Antrag entwerfen;"), "{}", lines[1]);
        assert!(!text.contains(&foreign), "a foreign case exported");
        let refused = browser.get(&app, "/vorgaenge/liste.csv?sort=id").await;
        assert_eq!(refused.status, 400);
        assert!(refused.body.contains("Nach dieser Spalte kann nicht sortiert werden."), "{}", refused.body);

        let one = browser.get(&app, &format!("/vorgaenge?q={}", numbers[3])).await;
        assert!(one.body.contains("1 Vorgang gefunden, Seite 1 von 1."), "{}", one.body);
        let none = browser.get(&app, "/vorgaenge?status=completed").await;
        assert!(none.body.contains("Keine Vorgänge gefunden."), "{}", none.body);

        for bad in ["/vorgaenge?sort=id", "/vorgaenge?richtung=quer", "/vorgaenge?seite=0", "/vorgaenge?status=geloescht"] {
            let refused = browser.get(&app, bad).await;
            assert_eq!(refused.status, 400, "{bad}: {}", refused.body);
            assert!(refused.body.contains("Ungültige Suchangaben"), "{bad}: {}", refused.body);
        }
        let refused = browser.get(&app, "/vorgaenge?sort=id").await;
        assert!(refused.body.contains("Nach dieser Spalte kann nicht sortiert werden."));

        let mut reader = Browser::default();
        reader.login(&app, "l@kreis-soest.de", PASSWORD).await;
        let list = reader.get(&app, "/vorgaenge").await;
        assert_eq!(list.status, 200);
        assert!(list.body.contains("21 Vorgänge gefunden"), "{}", list.body);
        assert!(!list.body.contains("Neuer Vorgang"), "a reader is offered case creation");
        assert!(!reader.get(&app, "/").await.body.contains("Neuer Vorgang"));
    }
}

both_backends! {
    async fn ui_calendar_address_is_shown_once_and_revocable(backend) {
        let db = TestDatabase::migrated(backend);
        let pool = db.pool(2);
        let dir = tempfile::tempdir().unwrap();
        let api = crate::support::api::state(&pool, dir.path());
        create_user(&mut pool.get().unwrap(), SOEST, "05974", &[Role::Koordination], Some(PASSWORD));
        let app = ui_app!(pool, api);
        let mut browser = Browser::default();
        browser.login(&app, SOEST, PASSWORD).await;

        let account = browser.get(&app, "/konto").await;
        assert_eq!(account.status, 200);
        assert!(account.body.contains("href=\"/passwort\""));
        assert!(account.body.contains("Sie haben noch keine Kalenderadresse."));
        let csrf = account.hidden("csrf");

        let forged = browser.post(&app, "/konto/kalender", &[("bezeichnung", "Outlook")]).await;
        assert_eq!(forged.status, 403, "{}", forged.body);

        let created = browser.post(&app, "/konto/kalender", &[("csrf", &csrf), ("bezeichnung", "Outlook <b>Büro</b>")]).await;
        assert_eq!(created.status, 200, "{}", created.body);
        assert!(created.body.contains("Outlook &lt;b&gt;Büro&lt;/b&gt;"), "{}", created.body);
        assert!(created.body.contains("Thunderbird"));
        let marker = "id=\"feld-adresse\" value=\"";
        let start = created.body.find(marker).unwrap() + marker.len();
        let url = unescape(&created.body[start..start + created.body[start..].find('"').unwrap()]);
        let path = &url[url.find("/kalender/").unwrap()..];
        assert!(path.ends_with(".ics"), "{url}");
        assert_eq!(browser.get(&app, path).await.status, 200);

        let again = browser.get(&app, "/konto").await;
        assert!(!again.body.contains(path), "the address is shown only once");
        assert!(again.body.contains("gültig"));
        let action = "action=\"/konto/kalender/";
        let at = again.body.find(action).unwrap() + "action=\"".len();
        let revoke = again.body[at..at + again.body[at..].find('"').unwrap()].to_string();

        assert_eq!(browser.post(&app, &revoke, &[]).await.status, 403);
        let done = browser.post(&app, &revoke, &[("csrf", &csrf)]).await;
        assert_eq!(done.location(), "/konto?hinweis=widerrufen");
        assert_eq!(browser.get(&app, path).await.status, 404);
        let after = browser.get(&app, "/konto?hinweis=widerrufen").await;
        assert!(after.body.contains("wurde widerrufen"));
        assert!(after.body.contains("widerrufen am"));
    }
}

both_backends! {
    async fn ui_users_revoke_their_own_api_tokens(backend) {
        let db = TestDatabase::migrated(backend);
        let pool = db.pool(2);
        let dir = tempfile::tempdir().unwrap();
        let api = crate::support::api::state(&pool, dir.path());
        let soest = create_user(&mut pool.get().unwrap(), SOEST, "05974", &[Role::Koordination], Some(PASSWORD));
        let other = create_user(&mut pool.get().unwrap(), "l@kreis-soest.de", "05974", &[Role::Lesen], Some(PASSWORD));
        let app = ui_app!(pool, api);
        let mut browser = Browser::default();
        browser.login(&app, SOEST, PASSWORD).await;
        let cases_with = |token: &str| {
            actix_test::TestRequest::get()
                .uri("/api/v1/cases")
                .insert_header(("Authorization", format!("Bearer {token}")))
                .to_request()
        };
        let token = crate::support::auth::staff_token(&soest);
        let others = crate::support::auth::staff_token(&other);
        assert_eq!(actix_test::call_service(&app, cases_with(&token)).await.status(), 200);

        let account = browser.get(&app, "/konto").await;
        assert!(account.body.contains("Alle meine API-Zugangstoken sperren"), "{}", account.body);
        let csrf = account.hidden("csrf");
        assert_eq!(browser.post(&app, "/konto/token-sperren", &[]).await.status, 403);
        assert_eq!(actix_test::call_service(&app, cases_with(&token)).await.status(), 200);

        let done = browser.post(&app, "/konto/token-sperren", &[("csrf", &csrf)]).await;
        assert_eq!(done.location(), "/konto?hinweis=token-gesperrt");
        let after = browser.get(&app, done.location()).await;
        assert!(after.body.contains("Alle API-Zugangstoken Ihres Kontos wurden gesperrt."), "{}", after.body);
        // The own tokens end, the session and other accounts' tokens go on.
        assert_eq!(actix_test::call_service(&app, cases_with(&token)).await.status(), 401);
        assert_eq!(actix_test::call_service(&app, cases_with(&others)).await.status(), 200);
        assert_eq!(browser.get(&app, "/").await.status, 200);
    }
}

both_backends! {
    async fn ui_users_see_their_logins_and_end_the_others(backend) {
        let db = TestDatabase::migrated(backend);
        let pool = db.pool(2);
        let dir = tempfile::tempdir().unwrap();
        let api = crate::support::api::state(&pool, dir.path());
        create_user(&mut pool.get().unwrap(), SOEST, "05974", &[Role::Koordination], Some(PASSWORD));
        create_user(&mut pool.get().unwrap(), "l@kreis-soest.de", "05974", &[Role::Lesen], Some(PASSWORD));
        let app = ui_app!(pool, api);
        let mut office = Browser::from("10.20.30.40:50000")
            .with_user_agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0");
        let mut home = Browser::from("192.0.2.7:41000")
            .with_user_agent("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1");
        let mut script = Browser::default();
        let mut colleague = Browser::default();
        office.login(&app, SOEST, PASSWORD).await;
        home.login(&app, SOEST, PASSWORD).await;
        script.login(&app, SOEST, PASSWORD).await;
        colleague.login(&app, "l@kreis-soest.de", PASSWORD).await;

        // Each login with its browser, as far as it was told; no address.
        let account = office.get(&app, "/konto").await;
        let rows: Vec<&str> = account.body.split("<tr><td>").skip(1).map(|row| &row[..row.find("</tr>").unwrap()]).collect();
        assert_eq!(rows.len(), 3, "{}", account.body);
        let row_with = |text: &str| rows.iter().filter(|row| row.ends_with(text)).count();
        assert_eq!(row_with("<td>Firefox unter Windows (dieser Browser)</td>"), 1, "{rows:?}");
        assert_eq!(row_with("<td>Safari unter iOS</td>"), 1, "{rows:?}");
        assert_eq!(row_with("<td>unbekannter Browser</td>"), 1, "{rows:?}");
        assert!(!account.body.contains("10.20.30.40") && !account.body.contains("192.0.2.7"));
        assert_eq!(account.body.matches("(dieser Browser)").count(), 1, "{}", account.body);
        assert!(account.body.contains("Alle anderen Anmeldungen beenden"));
        let csrf = account.hidden("csrf");
        assert_eq!(office.post(&app, "/konto/sitzungen-beenden", &[]).await.status, 403);
        assert_eq!(home.get(&app, "/").await.status, 200);

        let done = office.post(&app, "/konto/sitzungen-beenden", &[("csrf", &csrf)]).await;
        assert_eq!(done.location(), "/konto?hinweis=abgemeldet");
        let after = office.get(&app, done.location()).await;
        assert!(after.body.contains("Alle anderen Anmeldungen wurden beendet"), "{}", after.body);
        assert!(!after.body.contains("Safari unter iOS") && !after.body.contains("unbekannter Browser"), "{}", after.body);
        assert!(!after.body.contains("Alle anderen Anmeldungen beenden"), "{}", after.body);
        // The other browser is logged out; this one and the colleague's stay.
        assert!(home.get(&app, "/").await.location().starts_with("/login"));
        assert!(script.get(&app, "/").await.location().starts_with("/login"));
        assert_eq!(office.get(&app, "/").await.status, 200);
        assert_eq!(colleague.get(&app, "/").await.status, 200);
    }
}
