//! The case pages of the web interface: a new case through the generated form, the case page
//! (actions with reasons linked to fields, the data form, documents, the consultation matrix,
//! the journal), version conflicts, permissions and escaping.

use std::time::Instant;

use actix_web::test::{self as actix_test, TestRequest};
use actix_web::web;
use diesel::prelude::*;
use serde_json::{Value, json};
use vorgang::db::DbConnection;
use vorgang::db::models::{CaseId, NewOrganisation, Organisation, Role};
use vorgang::db::schema::outbox;
use vorgang::engine::Actor;
use vorgang::service::cases::{self, Invocation};
use vorgang::service::clock;
use vorgang::web::api::ApiState;
use vorgang::web::ui::{LegalTexts, UiState};

use crate::beteiligung::application;
use crate::support::TestDatabase;
use crate::support::auth::{create_user, test_auth};
use crate::support::partners::add_partners;
use crate::support::ui::{Browser, Page};

const PASSWORD: &str = "richtig-langes-passwort";
const COORDINATOR: &str = "k@kreis-soest.de";

const PDF: &[u8] =
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

macro_rules! ui_app {
    ($db:expr, $dir:expr) => {{
        let pool = $db.pool(4);
        let api = crate::support::api::state(&pool, $dir);
        let ui = UiState::new(
            &"http://127.0.0.1:8080".parse().unwrap(),
            LegalTexts::builtin(),
        );
        let app = actix_test::init_service(vorgang::web::app_with_ui(
            pool,
            test_auth(),
            api.clone(),
            web::Data::new(ui),
        ))
        .await;
        (app, api)
    }};
}

fn actor(email: &str) -> Actor {
    Actor {
        id: email.into(),
        roles: vec!["koordination".into()],
    }
}

/// Starts a ki-antrag case of `org` with `data` through the service layer.
/// Starts the Beteiligung of case `id` (version 1) as the coordinator.
fn start_consultation(conn: &mut DbConnection, api: &ApiState, id: i64) {
    let allow = |_| Ok(());
    let now = clock::now();
    let call = Invocation {
        actor: &actor(COORDINATOR),
        clock: &now,
        check: &allow,
    };
    cases::take_action(
        conn,
        &api.case_context(),
        CaseId(id),
        1,
        "beteiligung_starten",
        None,
        None,
        call,
    )
    .unwrap();
}

fn start(conn: &mut DbConnection, api: &ApiState, org: &str, data: Value) -> i64 {
    let applicant = Organisation::find_by_key(conn, org).unwrap().unwrap();
    cases::start_case(
        conn,
        &api.case_context(),
        "ki-antrag",
        &applicant,
        data,
        &actor(COORDINATOR),
        &clock::now(),
    )
    .unwrap()
    .row
    .id
    .0
}

fn change(conn: &mut DbConnection, api: &ApiState, id: i64, version: i64, patch: Value) {
    let allow = |_| Ok(());
    let actor = actor("jemand@kreis-soest.de");
    let now = clock::now();
    cases::change_data(
        conn,
        &api.case_context(),
        CaseId(id),
        version,
        patch,
        Invocation {
            actor: &actor,
            clock: &now,
            check: &allow,
        },
    )
    .unwrap();
}

fn case_data(conn: &mut DbConnection, api: &ApiState, id: i64) -> (i64, Value, String) {
    let case = cases::load(conn, &api.registry, CaseId(id)).unwrap();
    (case.row.version, case.instance.data, case.row.current_steps)
}

/// The first working day in North Rhine-Westphalia `days` after `day`: a deadline a form accepts.
fn working_day_after(day: chrono::NaiveDate, days: i64) -> chrono::NaiveDate {
    let calendar = vorgang::frist::HolidayCalendar::for_land("NW").unwrap();
    let mut found = day + chrono::TimeDelta::days(days);
    while calendar.is_working_day(found) != Ok(true) {
        found = found.succ_opt().unwrap();
    }
    found
}

fn multipart(fields: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----vorgangtestgrenze";
    let mut body = Vec::new();
    for (name, filename, content) in fields {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(filename) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\
                     Content-Type: application/pdf\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The case page's upload form, sent with these multipart fields (name, file name, content).
fn upload_request(case: i64, fields: &[(&str, Option<&str>, Vec<u8>)]) -> TestRequest {
    let borrowed: Vec<(&str, Option<&str>, &[u8])> = fields
        .iter()
        .map(|(a, b, c)| (*a, *b, c.as_slice()))
        .collect();
    let (content_type, body) = multipart(&borrowed);
    TestRequest::post()
        .uri(&format!("/vorgaenge/{case}/dokumente"))
        .insert_header(("content-type", content_type))
        .set_payload(body)
}

fn assert_no_raw_script(page: &Page) {
    assert!(
        !page.body.contains("<script"),
        "unescaped markup: {}",
        page.body
    );
}

both_backends! {
    async fn a_new_case_is_started_through_the_generated_form(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        let (app, api) = ui_app!(db, dir.path());
        let mut browser = Browser::from("10.0.0.1:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;

        let choose = browser.get(&app, "/vorgaenge/neu").await;
        assert_eq!(choose.status, 200, "{}", choose.body);
        assert!(choose.body.contains("name=\"verfahren\" id=\"verfahren-ki-antrag\" value=\"ki-antrag\""), "{}", choose.body);
        assert_eq!(browser.get(&app, "/vorgaenge/neu?verfahren=ki-antrag").await.location(), "/vorgaenge/neu/ki-antrag");

        let form = browser.get(&app, "/vorgaenge/neu/ki-antrag").await;
        assert_eq!(form.status, 200, "{}", form.body);
        for expected in [
            "<label for=\"feld-antragsteller-email\">",
            "name=\"antragsteller[email]\" id=\"feld-antragsteller-email\"",
            "type=\"date\" name=\"arbeitsaufnahme\" id=\"feld-arbeitsaufnahme\"",
            "name=\"standorte[0][anschrift]\" id=\"feld-standorte-0-anschrift\"",
            "<legend>Antragsteller</legend>",
            "aria-describedby=\"hilfe-zentrum_name\"",
            "<select multiple size=\"6\" name=\"beteiligte\" id=\"feld-beteiligte\"",
            "<textarea name=\"ausgangslage\" id=\"feld-ausgangslage\"",
        ] {
            assert!(form.body.contains(expected), "missing {expected}");
        }
        // The Bewilligungsbehörde's decision is not the applicant's to fill in: not offered at all.
        assert!(!form.body.contains("feld-bewilligung"), "{}", form.body);
        let csrf = form.hidden("csrf");

        // A bad date: German message at the field, in the summary, nothing saved.
        let bad = browser.post(&app, "/vorgaenge/neu/ki-antrag", &[
            ("csrf", &csrf), ("zentrum_name", "KI Kreis Soest"), ("arbeitsaufnahme", "31.02.2026"),
        ]).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(bad.body.contains("<span class=\"feldfehler\" id=\"fehler-arbeitsaufnahme\">Geplante Arbeitsaufnahme: „31.02.2026“ ist kein gültiges Datum."), "{}", bad.body);
        assert!(bad.body.contains("href=\"#feld-arbeitsaufnahme\""));
        assert!(bad.body.contains("aria-invalid=\"true\""));
        assert!(bad.body.contains("value=\"KI Kreis Soest\""), "the other input is kept");
        let count = || -> i64 {
            use diesel::prelude::*;
            vorgang::db::schema::cases::table.count().get_result(&mut db.connection()).unwrap()
        };
        assert_eq!(count(), 0);

        // A number out of range is refused by the service's schema check, at its field.
        let range = browser.post(&app, "/vorgaenge/neu/ki-antrag", &[
            ("csrf", &csrf), ("personal[lehrkraefte_vze]", "-1"),
        ]).await;
        assert_eq!(range.status, 422, "{}", range.body);
        assert!(range.body.contains("id=\"fehler-personal-lehrkraefte_vze\""), "{}", range.body);
        assert_eq!(count(), 0);

        let created = browser.post(&app, "/vorgaenge/neu/ki-antrag", &[
            ("csrf", &csrf),
            ("zentrum_name", "KI Kreis Soest"),
            ("arbeitsaufnahme", "01.09.2026"),
            ("antragsteller[email]", "ki@kreis-soest.de"),
            ("antragsteller[telefon]", ""),
            ("standorte[0][bezeichnung]", "Kreishaus"),
            ("standorte[0][anschrift]", "Hoher Weg 1"),
            ("standorte[1][bezeichnung]", ""),
            ("personal[lehrkraefte_vze]", "1,5"),
            ("beteiligung_abdeckung[untere_schulaufsicht]", "ja"),
        ]).await;
        let location = created.location().to_string();
        assert!(location.starts_with("/vorgaenge/"), "{location}");
        let id: i64 = location.trim_start_matches("/vorgaenge/").split('?').next().unwrap().parse().unwrap();
        let (_, data, _) = case_data(&mut db.connection(), &api, id);
        assert_eq!(data, json!({
            "zentrum_name": "KI Kreis Soest",
            "arbeitsaufnahme": "2026-09-01",
            "antragsteller": { "email": "ki@kreis-soest.de" },
            "standorte": [{ "bezeichnung": "Kreishaus", "anschrift": "Hoher Weg 1" }],
            "personal": { "lehrkraefte_vze": 1.5 },
            "beteiligung_abdeckung": { "untere_schulaufsicht": true },
        }));
        let page = browser.get(&app, &location).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Der Vorgang wurde angelegt."));
    }
}

both_backends! {
    async fn a_kreisangehoerige_gemeinde_is_pointed_to_the_anregung(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        {
            let mut conn = db.connection();
            let kreis = Organisation::find_by_key(&mut conn, "05974").unwrap().unwrap();
            NewOrganisation { key: "05974028", name: "Lippstadt", kind: "gemeinde", parent_id: Some(kreis.id), mailbox: None }
                .insert(&mut conn).unwrap();
            create_user(&mut conn, "k@lippstadt.de", "05974028", &[Role::Koordination], Some(PASSWORD));
        }
        let (app, _api) = ui_app!(db, dir.path());
        let mut browser = Browser::from("10.0.0.2:1000");
        browser.login(&app, "k@lippstadt.de", PASSWORD).await;

        let choose = browser.get(&app, "/vorgaenge/neu").await;
        assert_eq!(choose.status, 200, "{}", choose.body);
        assert!(choose.body.contains("„Lippstadt“ ist eine kreisangehörige Gemeinde"), "{}", choose.body);

        let form = browser.get(&app, "/vorgaenge/neu/ki-antrag").await;
        assert_eq!(form.status, 422, "{}", form.body);
        assert!(form.body.contains("role=\"alert\""));
        assert!(form.body.contains("kreisangehörige Gemeinde und kann keinen Antrag"));
        assert!(form.body.contains("der Kreis erfasst Ihre Anregung im Verfahren"), "{}", form.body);
        assert!(form.body.contains("(ki-anregung)"), "{}", form.body);
        // Nor can it record the Anregung itself: that is its Kreis's procedure.
        let anregung = browser.get(&app, "/vorgaenge/neu/ki-anregung").await;
        assert_eq!(anregung.status, 422, "{}", anregung.body);
        assert!(anregung.body.contains("„Lippstadt“ ist eine kreisangehörige Gemeinde"), "{}", anregung.body);
        assert!(!form.body.contains("Vorgang anlegen</button>"), "no form to fill in for nothing");

        let csrf = browser.csrf_token(&app, "/vorgaenge/neu").await;
        let refused = browser.post(&app, "/vorgaenge/neu/ki-antrag", &[("csrf", &csrf), ("zentrum_name", "X")]).await;
        assert_eq!(refused.status, 422);
        assert!(refused.body.contains("(ki-anregung)"));
    }
}

both_backends! {
    async fn a_kreisfreie_stadt_is_pointed_from_the_anregung_to_its_own_antrag(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), "k@bielefeld.de", "05711", &[Role::Koordination], Some(PASSWORD));
        let (app, _api) = ui_app!(db, dir.path());
        let mut browser = Browser::from("10.0.0.3:1000");
        browser.login(&app, "k@bielefeld.de", PASSWORD).await;

        let choose = browser.get(&app, "/vorgaenge/neu").await;
        assert_eq!(choose.status, 200, "{}", choose.body);
        assert!(choose.body.contains("„Stadt Bielefeld“ ist eine kreisfreie Stadt und hat keine kreisangehörigen Gemeinden"), "{}", choose.body);
        // The Anregung cannot be chosen; the Antrag can, and one procedure must be.
        assert!(choose.body.contains("value=\"ki-anregung\" aria-describedby=\"verfahren-ki-anregung-beschreibung verfahren-ki-anregung-hinweis\" disabled>"), "{}", choose.body);
        assert!(choose.body.contains("value=\"ki-antrag\" aria-describedby=\"verfahren-ki-antrag-beschreibung\" required>"), "{}", choose.body);
        let form = browser.get(&app, "/vorgaenge/neu/ki-anregung").await;
        assert_eq!(form.status, 422, "{}", form.body);
        assert!(form.body.contains("(ki-antrag)"), "{}", form.body);
        assert!(!form.body.contains("Vorgang anlegen</button>"), "no form to fill in for nothing");
        // Its own Antrag is open to it.
        assert_eq!(browser.get(&app, "/vorgaenge/neu/ki-antrag").await.status, 200);
    }
}

both_backends! {
    async fn the_office_extends_a_partners_deadline_from_the_matrix(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        let (app, api) = ui_app!(db, dir.path());
        let id = start(&mut db.connection(), &api, "05974", application());
        start_consultation(&mut db.connection(), &api, id);
        let deadline: chrono::NaiveDate = vorgang::db::schema::invitations::table
            .select(vorgang::db::schema::invitations::deadline)
            .first(&mut db.connection())
            .unwrap();
        let until = working_day_after(deadline, 14);
        let sunday = (1..8).map(|n| deadline + chrono::TimeDelta::days(n)).find(|d| chrono::Datelike::weekday(d) == chrono::Weekday::Sun).unwrap();
        let mut browser = Browser::from("10.0.0.3:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;
        let csrf = browser.csrf_token(&app, &format!("/vorgaenge/{id}")).await;

        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        let matrix = &page.body[page.body.find("id=\"beteiligung\"").unwrap()..page.body.find("id=\"journal\"").unwrap()];
        assert_eq!(matrix.matches(">Frist verlängern<").count(), 2, "{matrix}");
        assert!(!matrix.contains("<th scope=\"col\">Frist</th>"), "one shared deadline: {matrix}");
        let entry = matrix.split("href=\"/vorgaenge/").find(|part| part.contains("/frist\"")).unwrap();
        let entry = format!("/vorgaenge/{}", entry.split('"').next().unwrap());
        let form = browser.get(&app, &entry).await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.body.contains("<h1>Frist verlängern: "), "{}", form.body);

        // A Sunday is refused at its field, with the input kept; nothing changes.
        let iso = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
        let refused = browser.post(&app, &entry, &[("csrf", &csrf), ("frist", &iso(sunday)), ("grund", "Bitte vom 02.12.")]).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(refused.body.contains("<span class=\"feldfehler\" id=\"fehler-frist\">Der "), "{}", refused.body);
        assert!(refused.body.contains("(Sonntag)") && refused.body.contains("value=\"Bitte vom 02.12.\""), "{}", refused.body);
        assert!(refused.body.contains("href=\"#feld-frist\""), "{}", refused.body);

        let extended = browser.post(&app, &entry, &[("csrf", &csrf), ("frist", &iso(until)), ("grund", "Bitte vom 02.12.")]).await;
        assert_eq!(extended.location(), format!("/vorgaenge/{id}?hinweis=frist-verlaengert#beteiligung"), "{}", extended.body);
        let page = browser.get(&app, extended.location().split('#').next().unwrap()).await;
        assert!(page.body.contains("Die Frist wurde verlängert"), "{}", page.body);
        let matrix = &page.body[page.body.find("id=\"beteiligung\"").unwrap()..page.body.find("id=\"journal\"").unwrap()];
        assert!(matrix.contains("<th scope=\"col\">Frist</th>"), "the deadlines differ now: {matrix}");
        assert!(matrix.contains(&until.format("%d.%m.%Y").to_string()), "{matrix}");
        assert!(page.body.contains(&format!("vom {} auf den {} verlängert (Grund: Bitte vom 02.12.)", deadline.format("%d.%m.%Y"), until.format("%d.%m.%Y"))), "{}", page.body);
    }
}

both_backends! {
    async fn an_answer_in_time_may_get_a_later_deadline_until_the_consultation_closes(backend) {
        use vorgang::db::schema::{invitations, organisations};
        use vorgang::service::partner::{self, PartnerAnswer};
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        let (app, api) = ui_app!(db, dir.path());
        let id = start(&mut db.connection(), &api, "05974", application());
        start_consultation(&mut db.connection(), &api, id);
        let invited: Vec<(i64, chrono::NaiveDate)> = invitations::table
            .inner_join(organisations::table)
            .order(invitations::id)
            .select((invitations::id, invitations::deadline))
            .load(&mut db.connection())
            .unwrap();
        assert_eq!(invited.len(), 2);
        let (answered, deadline) = invited[0];
        let answer = |invitation: i64| {
            let input = PartnerAnswer { votum: vorgang::engine::instance::Votum::Zustimmung, text: "Einverstanden.".into(), name: "Frau Muster".into(), function: String::new() };
            partner::answer(&mut db.connection(), &api.case_context(), invitation, input, None, &clock::now()).unwrap();
        };
        answer(answered);

        // The partner answered in time and may amend until its deadline: the office can give
        // it more time (its committee meets later), as it can the partner still to answer.
        let mut browser = Browser::from("10.0.0.3:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        let matrix = &page.body[page.body.find("id=\"beteiligung\"").unwrap()..page.body.find("id=\"journal\"").unwrap()];
        let entry = format!("/vorgaenge/{id}/einladungen/{answered}/frist");
        assert!(matrix.contains(&format!("href=\"{entry}\"")), "{matrix}");
        assert_eq!(matrix.matches(">Frist verlängern<").count(), 2, "{matrix}");
        let form = browser.get(&app, &entry).await;
        assert_eq!(form.status, 200, "{}", form.body);
        let until = working_day_after(deadline, 14);
        let mails_before: i64 = outbox::table.count().get_result(&mut db.connection()).unwrap();
        let extended = browser.post(&app, &entry, &[("csrf", &form.hidden("csrf")), ("frist", &until.format("%Y-%m-%d").to_string()), ("grund", "Ausschuss tagt später")]).await;
        assert_eq!(extended.location(), format!("/vorgaenge/{id}?hinweis=frist-verlaengert#beteiligung"), "{}", extended.body);
        let stored: (chrono::NaiveDate, String) = invitations::table.find(answered).select((invitations::deadline, invitations::status)).first(&mut db.connection()).unwrap();
        assert_eq!(stored, (until, "answered".to_string()));
        let mails: Vec<String> = outbox::table.order(outbox::id).select(outbox::template).load(&mut db.connection()).unwrap();
        assert_eq!(mails.len() as i64, mails_before + 1);
        assert_eq!(mails.last().map(String::as_str), Some("beteiligung_fristverlaengerung"));

        // Once every partner has answered, the consultation is over: nothing is extended any more.
        answer(invited[1].0);
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        let matrix = &page.body[page.body.find("id=\"beteiligung\"").unwrap()..page.body.find("id=\"journal\"").unwrap()];
        assert!(!matrix.contains(">Frist verlängern<"), "{matrix}");
        let form = browser.get(&app, &entry).await;
        assert_ne!(form.status, 200, "{}", form.body);
        assert!(form.body.contains("ihre Frist wird nicht mehr verlängert"), "{}", form.body);
    }
}

both_backends! {
    async fn a_partners_request_for_more_time_shows_in_the_matrix_and_fills_in_the_form(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        let (app, api) = ui_app!(db, dir.path());
        let id = start(&mut db.connection(), &api, "05974", application());
        start_consultation(&mut db.connection(), &api, id);
        let (invitation, deadline): (i64, chrono::NaiveDate) = vorgang::db::schema::invitations::table
            .inner_join(vorgang::db::schema::organisations::table)
            .filter(vorgang::db::schema::organisations::key.eq("SCHULAMT-SO"))
            .select((vorgang::db::schema::invitations::id, vorgang::db::schema::invitations::deadline))
            .first(&mut db.connection())
            .unwrap();
        let wanted = working_day_after(deadline, 14);
        let iso = wanted.format("%Y-%m-%d").to_string();
        vorgang::service::extension_request::request(
            &mut db.connection(),
            &api.case_context(),
            invitation,
            (Some(iso.as_str()), Some("Schulausschuss tagt später"), Some("Frau Muster")),
            &clock::now(),
        )
        .unwrap();
        let mut browser = Browser::from("10.0.0.3:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        let matrix = &page.body[page.body.find("id=\"beteiligung\"").unwrap()..page.body.find("id=\"journal\"").unwrap()];
        let de = wanted.format("%d.%m.%Y").to_string();
        assert!(matrix.contains(&format!("{de} erbeten (Frau Muster: Schulausschuss tagt später)")), "{matrix}");
        let entry = format!("/vorgaenge/{id}/einladungen/{invitation}/frist?frist={iso}");
        assert!(matrix.contains(&format!("href=\"{entry}\"")), "{matrix}");
        assert!(page.body.contains(&format!("bittet um Fristverlängerung bis {de} (Frau Muster: Schulausschuss tagt später)")), "the journal: {}", page.body);
        // The start page lists it among the tasks, with the same way to the form.
        let start = browser.get(&app, "/").await;
        let tasks = &start.body[start.body.find("id=\"aufgaben\"").unwrap()..start.body.find("id=\"wiedervorlagen\"").unwrap()];
        assert!(!tasks.contains("keine Aufgaben"), "{tasks}");
        assert!(tasks.contains("Bitten um Fristverlängerung") && tasks.contains(&format!("Schulamt für den Kreis Soest bittet um Verlängerung bis {} (bisher", vorgang::frist::format_date_de(wanted))), "{tasks}");
        assert!(tasks.contains(&format!("href=\"{entry}\"")), "{tasks}");
        let form = browser.get(&app, &entry).await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.body.contains(&format!("name=\"frist\" id=\"feld-frist\" value=\"{iso}\"")), "{}", form.body);
        // Once the case is submitted the Bewilligungsbehörde may act on it, but the consultation
        // is the Kreis's: neither its start page nor the case page offers it the office's
        // decisions, which the engine would refuse.
        crate::support::cases::mark_submitted(&mut db.connection(), id);
        create_user(&mut db.connection(), "kfi@bezreg-arnsberg.nrw.de", "KFI", &[Role::Bewilligung], Some(PASSWORD));
        let mut authority = Browser::from("10.0.0.4:1000");
        authority.login(&app, "kfi@bezreg-arnsberg.nrw.de", PASSWORD).await;
        let start = authority.get(&app, "/").await;
        assert!(!start.body.contains("Bitten um Fristverlängerung"), "{}", start.body);
        let page = authority.get(&app, &format!("/vorgaenge/{id}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let matrix = &page.body[page.body.find("id=\"beteiligung\"").unwrap()..page.body.find("id=\"journal\"").unwrap()];
        assert!(matrix.contains("Schulamt für den Kreis Soest"), "{matrix}");
        for link in ["Frist verlängern", "Beteiligung zurücknehmen", "Weitere Stelle beteiligen"] {
            assert!(!matrix.contains(link), "{link}: {matrix}");
        }
        // The coordinator still has it on the start page.
        let start = browser.get(&app, "/").await;
        assert!(start.body.contains("Bitten um Fristverlängerung"), "{}", start.body);
        // Extended as asked: the request is answered, gone from the matrix and the start page.
        let csrf = browser.csrf_token(&app, &format!("/vorgaenge/{id}")).await;
        let extended = browser.post(&app, entry.split('?').next().unwrap(), &[("csrf", &csrf), ("frist", &iso), ("grund", "")]).await;
        assert_eq!(extended.location(), format!("/vorgaenge/{id}?hinweis=frist-verlaengert#beteiligung"), "{}", extended.body);
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        assert!(!page.body.contains(" erbeten ("), "{}", page.body);
        let start = browser.get(&app, "/").await;
        assert!(!start.body.contains("Bitten um Fristverlängerung"), "{}", start.body);
    }
}

both_backends! {
    async fn a_partners_notice_that_it_is_not_competent_fills_in_the_withdrawal(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        let (app, api) = ui_app!(db, dir.path());
        let id = start(&mut db.connection(), &api, "05974", application());
        start_consultation(&mut db.connection(), &api, id);
        let invitation: i64 = vorgang::db::schema::invitations::table
            .inner_join(vorgang::db::schema::organisations::table)
            .filter(vorgang::db::schema::organisations::key.eq("05974-JA"))
            .select(vorgang::db::schema::invitations::id)
            .first(&mut db.connection())
            .unwrap();
        let mut browser = Browser::from("10.0.0.3:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;
        let entry = format!("/vorgaenge/{id}/einladungen/{invitation}/zuruecknehmen");
        // Without a notice the form is empty.
        let form = browser.get(&app, &entry).await;
        assert!(form.body.contains("name=\"grund\" id=\"feld-grund\" value=\"\""), "{}", form.body);
        vorgang::service::responsibility_notice::report(
            &mut db.connection(),
            &api.case_context(),
            invitation,
            (Some("Zuständig ist die Stadt."), Some("Jugendamt der Stadt Soest"), Some("Herr Kaya")),
            &clock::now(),
        )
        .unwrap();
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        let matrix = &page.body[page.body.find("id=\"beteiligung\"").unwrap()..page.body.find("id=\"journal\"").unwrap()];
        assert!(matrix.contains("Meldet: nicht zuständig (Herr Kaya: „Zuständig ist die Stadt.“, zuständig sei: Jugendamt der Stadt Soest)"), "{matrix}");
        assert!(matrix.contains(&format!("href=\"{entry}\"")), "{matrix}");
        assert!(page.body.contains("teilt mit, nicht zuständig zu sein (Herr Kaya: „Zuständig ist die Stadt.“, zuständig sei: Jugendamt der Stadt Soest)"), "the journal: {}", page.body);
        // The start page lists it among the tasks, with the way to the form.
        let start = browser.get(&app, "/").await;
        let tasks = &start.body[start.body.find("id=\"aufgaben\"").unwrap()..start.body.find("id=\"wiedervorlagen\"").unwrap()];
        assert!(tasks.contains("Mitteilungen: nicht zuständig") && tasks.contains("Jugendamt des Kreises Soest ist nach eigener Angabe nicht zuständig (zuständig sei: Jugendamt der Stadt Soest)"), "{tasks}");
        assert!(tasks.contains(&format!("href=\"{entry}\"")), "{tasks}");
        // The form shows the notice and is filled in with it.
        let form = browser.get(&app, &entry).await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.body.contains("mitgeteilt, nicht zuständig zu sein (Herr Kaya: „Zuständig ist die Stadt.“, zuständig sei: Jugendamt der Stadt Soest)"), "{}", form.body);
        let filled = "Die Stelle hat mitgeteilt, nicht zuständig zu sein: „Zuständig ist die Stadt.“; zuständig sei nach ihrer Angabe: Jugendamt der Stadt Soest";
        assert!(form.body.contains(&format!("id=\"feld-grund\" value=\"{filled}\"")), "{}", form.body);
        // Withdrawn with that reason: the notice is answered, gone from the matrix and the
        // start page, and the reason stands in the journal.
        let csrf = browser.csrf_token(&app, &format!("/vorgaenge/{id}")).await;
        let done = browser.post(&app, &entry, &[("csrf", &csrf), ("grund", filled)]).await;
        assert_eq!(done.location(), format!("/vorgaenge/{id}?hinweis=beteiligung-zurueckgenommen#beteiligung"), "{}", done.body);
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        assert!(!page.body.contains("Meldet: nicht zuständig"), "{}", page.body);
        assert!(page.body.contains(&format!("zurückgenommen (Grund: {filled})")), "{}", page.body);
        let start = browser.get(&app, "/").await;
        assert!(!start.body.contains("Mitteilungen: nicht zuständig"), "{}", start.body);
        // The partner's mail says its notice is settled.
        let told: Vec<_> = crate::beteiligung::mails(&db).into_iter().filter(|m| m.0 == "beteiligung_zurueckgenommen").collect();
        assert_eq!(told.len(), 1);
        let today = clock::now().today.format("%d.%m.%Y").to_string();
        assert!(told[0].3.contains(&format!("Diese Beteiligung wurde zurückgenommen. Damit ist auch Ihre Mitteilung vom {today} erledigt, dass Sie nicht zuständig sind.")), "{}", told[0].3);
        assert!(!told[0].3.contains("Verlängerung"), "{}", told[0].3);
    }
}

both_backends! {
    async fn the_office_declines_a_partners_request_from_the_matrix(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        let (app, api) = ui_app!(db, dir.path());
        let id = start(&mut db.connection(), &api, "05974", application());
        start_consultation(&mut db.connection(), &api, id);
        let invitation: i64 = vorgang::db::schema::invitations::table
            .inner_join(vorgang::db::schema::organisations::table)
            .filter(vorgang::db::schema::organisations::key.eq("05974-JA"))
            .select(vorgang::db::schema::invitations::id)
            .first(&mut db.connection())
            .unwrap();
        vorgang::service::responsibility_notice::report(
            &mut db.connection(),
            &api.case_context(),
            invitation,
            (Some("Nicht unsere Aufgabe."), None, Some("Herr Kaya")),
            &clock::now(),
        )
        .unwrap();
        let mut browser = Browser::from("10.0.0.3:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;
        let entry = format!("/vorgaenge/{id}/einladungen/{invitation}/ablehnen/zustaendigkeit");
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        let matrix = &page.body[page.body.find("id=\"beteiligung\"").unwrap()..page.body.find("id=\"journal\"").unwrap()];
        assert!(matrix.contains(&format!("<a href=\"{entry}\">Mitteilung „nicht zuständig“ zurückweisen")), "{matrix}");
        assert!(!matrix.contains("/ablehnen/fristverlaengerung"), "nobody asked for more time: {matrix}");
        let start = browser.get(&app, "/").await;
        assert!(start.body.contains(&format!("href=\"{entry}\"")), "{}", start.body);
        // The form names the notice; without a reason it comes back with the error, and an
        // unknown kind of request is not found.
        let form = browser.get(&app, &entry).await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.body.contains("(Herr Kaya: „Nicht unsere Aufgabe.“)") && form.body.contains("Mitteilung zurückweisen</button>"), "{}", form.body);
        let unknown = browser.get(&app, &format!("/vorgaenge/{id}/einladungen/{invitation}/ablehnen/sonstiges")).await;
        assert_eq!(unknown.status, 404, "{}", unknown.body);
        let csrf = browser.csrf_token(&app, &format!("/vorgaenge/{id}")).await;
        let empty = browser.post(&app, &entry, &[("csrf", &csrf), ("grund", "")]).await;
        assert_eq!(empty.status, 422, "{}", empty.body);
        assert!(empty.body.contains("id=\"fehler-grund\">Bitte begründen Sie die Ablehnung"), "{}", empty.body);
        let done = browser.post(&app, &entry, &[("csrf", &csrf), ("grund", "Das Jugendamt ist nach dem Erlass zu hören.")]).await;
        assert_eq!(done.location(), format!("/vorgaenge/{id}?hinweis=anliegen-abgelehnt#beteiligung"), "{}", done.body);
        let page = browser.get(&app, done.location().split('#').next().unwrap()).await;
        assert!(page.body.contains("Die Entscheidung ist vermerkt"), "{}", page.body);
        assert!(!page.body.contains("Meldet: nicht zuständig") && !page.body.contains(&entry), "{}", page.body);
        assert!(page.body.contains("zurückgewiesen; die Beteiligung bleibt bestehen (Begründung: Das Jugendamt ist nach dem Erlass zu hören.)"), "the journal: {}", page.body);
        let start = browser.get(&app, "/").await;
        assert!(!start.body.contains("Mitteilungen: nicht zuständig"), "{}", start.body);
        // Decided: the form now says there is nothing left to decide.
        let again = browser.get(&app, &entry).await;
        assert_eq!(again.status, 422, "{}", again.body);
        assert!(again.body.contains("keine Mitteilung zur Zuständigkeit gemacht"), "{}", again.body);
    }
}

both_backends! {
    async fn the_office_invites_a_further_partner_from_the_matrix(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        let (app, api) = ui_app!(db, dir.path());
        crate::support::partners::add_partner(&mut db.connection(), "05974-IR", "Integrationsrat des Kreises Soest", Some("integrationsrat@kreis-soest.test"));
        crate::support::partners::add_partner(&mut db.connection(), "05974-OHNE", "Stelle ohne Adresse", None);
        let soest = Organisation::find_by_key(&mut db.connection(), "05974").unwrap().unwrap();
        NewOrganisation { key: "05974-VHS", name: "Volkshochschule Soest", kind: "partner", parent_id: Some(soest.id), mailbox: Some("vhs@kreis-soest.test") }
            .insert(&mut db.connection())
            .unwrap();
        let id = start(&mut db.connection(), &api, "05974", application());
        let mut browser = Browser::from("10.0.0.3:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;
        let entry = format!("/vorgaenge/{id}/beteiligungen/beteiligung/stelle");
        // Before the Beteiligung runs, the page offers no link, and the form says why.
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        assert!(!page.body.contains(&entry), "{}", page.body);
        let early = browser.get(&app, &entry).await;
        assert_eq!(early.status, 422, "{}", early.body);
        assert!(early.body.contains("läuft nicht"), "{}", early.body);
        start_consultation(&mut db.connection(), &api, id);
        let csrf = browser.csrf_token(&app, &format!("/vorgaenge/{id}")).await;
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        let matrix = &page.body[page.body.find("id=\"beteiligung\"").unwrap()..page.body.find("id=\"journal\"").unwrap()];
        assert!(matrix.contains(&format!("<a href=\"{entry}\">Weitere Stelle beteiligen</a>")), "{matrix}");

        // The form offers the registered bodies not yet invited: not the Schulamt, not the
        // applicant itself.
        let form = browser.get(&app, &entry).await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.body.contains("<option value=\"05974-IR\">Integrationsrat des Kreises Soest</option>"), "{}", form.body);
        assert!(!form.body.contains("value=\"SCHULAMT-SO\"") && !form.body.contains("value=\"05974\""), "{}", form.body);
        assert!(form.body.contains("4 Wochen ab heute"), "{}", form.body);
        // The Kreis's own bodies come first, then the other partner bodies.
        let own = form.body.find("<optgroup label=\"Kreis Soest – Partnerstellen und Gemeinden\">").expect("the Kreis's own group");
        let further = form.body.find("<optgroup label=\"Weitere Partnerstellen\">").expect("the other partner bodies");
        let (vhs, ir) = (form.body.find("value=\"05974-VHS\"").unwrap(), form.body.find("value=\"05974-IR\"").unwrap());
        assert!(own < vhs && vhs < further && further < ir, "{}", form.body);

        // A body without address is refused at its field, the choice and reason kept; nothing
        // is sent.
        let mails_before = outbox::table.count().get_result::<i64>(&mut db.connection()).unwrap();
        let refused = browser.post(&app, &entry, &[("csrf", &csrf), ("stelle", "05974-OHNE"), ("grund", "Vergessen")]).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(refused.body.contains("<span class=\"feldfehler\" id=\"fehler-stelle\">Für „Stelle ohne Adresse“ ist weder"), "{}", refused.body);
        assert!(refused.body.contains("<option value=\"05974-OHNE\" selected>") && refused.body.contains("value=\"Vergessen\""), "{}", refused.body);
        assert!(refused.body.contains("href=\"#feld-stelle\""), "{}", refused.body);
        assert_eq!(outbox::table.count().get_result::<i64>(&mut db.connection()).unwrap(), mails_before);

        let added = browser.post(&app, &entry, &[("csrf", &csrf), ("stelle", "05974-IR"), ("grund", "Vergessen")]).await;
        assert_eq!(added.location(), format!("/vorgaenge/{id}?hinweis=stelle-beteiligt#beteiligung"), "{}", added.body);
        let page = browser.get(&app, added.location().split('#').next().unwrap()).await;
        assert!(page.body.contains("Die Stelle wurde zur Beteiligung eingeladen"), "{}", page.body);
        let matrix = &page.body[page.body.find("id=\"beteiligung\"").unwrap()..page.body.find("id=\"journal\"").unwrap()];
        assert!(matrix.contains("<th scope=\"row\">Integrationsrat des Kreises Soest</th>"), "{matrix}");
        assert!(page.body.contains("Integrationsrat des Kreises Soest nachträglich zur Beteiligung „Beteiligung der örtlichen Partner“ eingeladen (Frist bis "), "{}", page.body);
        assert!(page.body.contains("; Grund: Vergessen)"), "{}", page.body);
        // The list of partners in the data grew by it, named by the field's label.
        assert!(page.body.contains("Feld „Zu beteiligende Stellen“ vom Verfahren gesetzt"), "{}", page.body);
        assert_eq!(outbox::table.count().get_result::<i64>(&mut db.connection()).unwrap(), mails_before + 1);
        // Now invited, it is no longer offered.
        let form = browser.get(&app, &entry).await;
        assert!(!form.body.contains("value=\"05974-IR\""), "{}", form.body);
    }
}

both_backends! {
    async fn the_office_withdraws_an_invitation_sent_to_the_wrong_body(backend) {
        use vorgang::db::schema::{invitations, organisations};
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        let (app, api) = ui_app!(db, dir.path());
        let id = start(&mut db.connection(), &api, "05974", application());
        start_consultation(&mut db.connection(), &api, id);
        let jugendamt: i64 = invitations::table
            .inner_join(organisations::table)
            .filter(organisations::key.eq("05974-JA"))
            .select(invitations::id)
            .first(&mut db.connection())
            .unwrap();
        let entry = format!("/vorgaenge/{id}/einladungen/{jugendamt}/zuruecknehmen");
        let mut browser = Browser::from("10.0.0.3:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;
        let csrf = browser.csrf_token(&app, &format!("/vorgaenge/{id}")).await;
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        let matrix = &page.body[page.body.find("id=\"beteiligung\"").unwrap()..page.body.find("id=\"journal\"").unwrap()];
        assert_eq!(matrix.matches(">Beteiligung zurücknehmen<").count(), 2, "{matrix}");
        assert!(matrix.contains(&format!("<a href=\"{entry}\">Beteiligung zurücknehmen<span class=\"versteckt\"> von Jugendamt des Kreises Soest</span></a>")), "{matrix}");
        let form = browser.get(&app, &entry).await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.body.contains("<h1>Beteiligung zurücknehmen: Jugendamt des Kreises Soest</h1>"), "{}", form.body);
        assert!(form.body.contains("keine Stellungnahme erforderlich"), "{}", form.body);

        // Without a reason the form comes back with the error at its field; nothing is sent.
        let mails_before = outbox::table.count().get_result::<i64>(&mut db.connection()).unwrap();
        let refused = browser.post(&app, &entry, &[("csrf", &csrf), ("grund", " ")]).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(refused.body.contains("<span class=\"feldfehler\" id=\"fehler-grund\">Bitte geben Sie an, warum"), "{}", refused.body);
        assert!(refused.body.contains("href=\"#feld-grund\"") && refused.body.contains("aria-invalid=\"true\""), "{}", refused.body);
        assert_eq!(outbox::table.count().get_result::<i64>(&mut db.connection()).unwrap(), mails_before);

        let done = browser.post(&app, &entry, &[("csrf", &csrf), ("grund", "Irrtümlich eingeladen")]).await;
        assert_eq!(done.location(), format!("/vorgaenge/{id}?hinweis=beteiligung-zurueckgenommen#beteiligung"), "{}", done.body);
        let page = browser.get(&app, done.location().split('#').next().unwrap()).await;
        assert!(page.body.contains("Die Beteiligung wurde zurückgenommen"), "{}", page.body);
        let matrix = &page.body[page.body.find("id=\"beteiligung\"").unwrap()..page.body.find("id=\"journal\"").unwrap()];
        let row = matrix.split("<tr>").find(|row| row.contains("Jugendamt des Kreises Soest")).unwrap();
        assert!(row.contains("<td>zurückgenommen am "), "{row}");
        assert!(!row.contains("Stellungnahme erfassen") && !row.contains("Frist verlängern") && !row.contains("erneut senden"), "nothing left to do: {row}");
        assert_eq!(matrix.matches(">Beteiligung zurücknehmen<").count(), 1, "{matrix}");
        assert!(page.body.contains("Beteiligung von Jugendamt des Kreises Soest an „Beteiligung der örtlichen Partner“ zurückgenommen (Grund: Irrtümlich eingeladen)"), "{}", page.body);
        assert_eq!(outbox::table.count().get_result::<i64>(&mut db.connection()).unwrap(), mails_before + 1);
        // Withdrawn once, the form says so instead of offering it again.
        let again = browser.get(&app, &entry).await;
        assert_eq!(again.status, 422, "{}", again.body);
        assert!(again.body.contains("bereits zurückgenommen"), "{}", again.body);
    }
}

both_backends! {
    async fn the_office_withdraws_the_whole_case_and_partners_still_asked_are_told(backend) {
        use vorgang::db::schema::cases as case_rows;
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let coordinator = create_user(&mut db.connection(), COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        create_user(&mut db.connection(), "l@kreis-soest.de", "05974", &[Role::Lesen], Some(PASSWORD));
        let (app, api) = ui_app!(db, dir.path());
        let id = start(&mut db.connection(), &api, "05974", application());
        start_consultation(&mut db.connection(), &api, id);
        let now = clock::now();
        let today = now.today.format("%Y-%m-%d").to_string();
        let allow = |_| Ok(());
        vorgang::service::follow_ups::set(&mut db.connection(), CaseId(id), coordinator.id, (today.as_str(), "Beim Kreistagsbüro nachfragen"), &now, &allow).unwrap();
        // One partner has answered; the other is still asked.
        let (answered, open) = {
            let mut conn = db.connection();
            let case = cases::load(&mut conn, &api.registry, CaseId(id)).unwrap();
            let [first, second] = [&case.instance.invitations[0], &case.instance.invitations[1]];
            let now = clock::now();
            cases::record_answer(&mut conn, &api.case_context(), CaseId(id), first.id,
                vorgang::engine::instance::Answer {
                    votum: vorgang::engine::instance::Votum::Zustimmung,
                    text: "Einverstanden.".into(),
                    answered_by: "Frau Muster".into(),
                    attachment: None,
                    received_on: None,
                }, &actor(COORDINATOR), &now).unwrap();
            (first.participant.clone(), (second.participant.clone(), second.id.0 as i64))
        };
        let (open, open_local) = open;
        let open_row: i64 = vorgang::db::schema::invitations::table
            .filter(vorgang::db::schema::invitations::case_id.eq(id))
            .filter(vorgang::db::schema::invitations::local_id.eq(open_local))
            .select(vorgang::db::schema::invitations::id)
            .first(&mut db.connection())
            .unwrap();
        // The partner still asked has asked for more time; the withdrawal settles that too.
        let deadline: chrono::NaiveDate = vorgang::db::schema::invitations::table
            .find(open_row)
            .select(vorgang::db::schema::invitations::deadline)
            .first(&mut db.connection())
            .unwrap();
        let wanted = working_day_after(deadline, 14);
        vorgang::service::extension_request::request(
            &mut db.connection(),
            &api.case_context(),
            open_row,
            (Some(wanted.format("%Y-%m-%d").to_string().as_str()), Some("Ausschuss tagt später"), Some("Frau Muster")),
            &clock::now(),
        )
        .unwrap();
        let open_name = Organisation::find_by_key(&mut db.connection(), &open).unwrap().unwrap().designation().into_owned();
        let answered_name = Organisation::find_by_key(&mut db.connection(), &answered).unwrap().unwrap().designation().into_owned();
        let invitation_mail = crate::beteiligung::mails(&db).into_iter()
            .find(|m| m.0 == "beteiligung_einladung" && m.5 == Some(open_row))
            .expect("the open partner's invitation");
        let token = crate::beteiligung::token_in(&invitation_mail.3);
        let entry = format!("/vorgaenge/{id}/zurueckziehen");
        let state = |db: &TestDatabase| -> (String, i64) {
            case_rows::table.find(id).select((case_rows::status, case_rows::version)).first(&mut db.connection()).unwrap()
        };
        let (_, version) = state(&db);

        // Whoever only reads the case is not offered it, and cannot open the form.
        let mut reader = Browser::from("10.0.0.4:1000");
        reader.login(&app, "l@kreis-soest.de", PASSWORD).await;
        let page = reader.get(&app, &format!("/vorgaenge/{id}")).await;
        assert!(!page.body.contains(&entry), "{}", page.body);
        assert_eq!(reader.get(&app, &entry).await.status, 403);
        // A form only read offers no blank entry to add to its lists („Standorte“).
        assert!(page.body.contains("Angaben (nur lesen)") && page.body.contains("Standort 1"), "{}", page.body);
        assert!(!page.body.contains("Weiterer Eintrag") && !page.body.contains("Standort 2"), "{}", page.body);

        let mut browser = Browser::from("10.0.0.3:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;
        let csrf = browser.csrf_token(&app, &format!("/vorgaenge/{id}")).await;
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        assert!(page.body.contains(&format!("<a href=\"{entry}\">Antrag zurückziehen …</a>")), "{}", page.body);
        let form = browser.get(&app, &entry).await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.body.contains("<h1>Antrag zurückziehen: KI-05974-"), "{}", form.body);
        assert!(form.body.contains("mit dem Ergebnis „Zurückgezogen“"), "{}", form.body);
        assert!(form.body.contains("„Beteiligung der örtlichen Partner“"), "{}", form.body);
        assert!(form.body.contains(&open_name) && !form.body.contains(&answered_name), "only the partner still asked: {}", form.body);
        assert_eq!(form.hidden("version"), version.to_string());

        // Without a reason the form comes back with the error at its field; nothing changes.
        let mails_before = outbox::table.count().get_result::<i64>(&mut db.connection()).unwrap();
        let refused = browser.post(&app, &entry, &[("csrf", &csrf), ("version", &version.to_string()), ("grund", " ")]).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(refused.body.contains("<span class=\"feldfehler\" id=\"fehler-grund\">Bitte geben Sie an, warum der Vorgang beendet wird."), "{}", refused.body);
        assert_eq!(refused.hidden("version"), version.to_string());
        // A form older than the case is a conflict, not a withdrawal of something unseen.
        let stale = browser.post(&app, &entry, &[("csrf", &csrf), ("version", &(version - 1).to_string()), ("grund", "Kreistag hat abgelehnt")]).await;
        assert_eq!(stale.status, 409, "{}", stale.body);
        assert_eq!(state(&db), ("running".to_string(), version));
        assert_eq!(outbox::table.count().get_result::<i64>(&mut db.connection()).unwrap(), mails_before);

        let done = browser.post(&app, &entry, &[("csrf", &csrf), ("version", &version.to_string()), ("grund", "Kreistag hat die Antragstellung abgelehnt")]).await;
        assert_eq!(done.location(), format!("/vorgaenge/{id}?hinweis=beendet"), "{}", done.body);
        assert_eq!(state(&db).0, "withdrawn");
        let page = browser.get(&app, done.location()).await;
        assert!(page.body.contains("Der Vorgang ist beendet."), "{}", page.body);
        assert!(page.body.contains("Zurückgezogen"), "{}", page.body);
        assert!(page.body.contains("Vorgang beendet: Zurückgezogen; Grund: Kreistag hat die Antragstellung abgelehnt"), "{}", page.body);
        assert!(!page.body.contains(&entry), "not offered twice: {}", page.body);
        // The coordinator's own fields, now only read: no blank entry either.
        assert!(page.body.contains("Angaben (nur lesen)") && page.body.contains("Standort 1"), "{}", page.body);
        assert!(!page.body.contains("Weiterer Eintrag"), "{}", page.body);
        // The Wiedervorlage stays, marked: it is left to close, not to work on.
        let start_page = browser.get(&app, "/").await;
        assert!(start_page.body.contains("</a> <span class=\"nebenangabe\">(Vorgang beendet)</span> – Beim Kreistagsbüro nachfragen"), "{}", start_page.body);
        let list = browser.get(&app, "/vorgaenge?status=withdrawn").await;
        assert!(list.body.contains("vorzeitig beendet: Zurückgezogen"), "{}", list.body);
        // The draft was done; the Beteiligung was broken off, not done.
        assert!(page.body.contains("Antrag entwerfen <span class=\"marke-schritt\">(erledigt)</span>"), "{}", page.body);
        assert!(!page.body.contains("Beteiligung der örtlichen Partner <span class=\"marke-schritt\">(erledigt)"), "{}", page.body);

        // Exactly the partner still asked is told why, and its link no longer opens the case.
        let told: Vec<_> = crate::beteiligung::mails(&db).into_iter().filter(|m| m.0 == "beteiligung_zurueckgenommen").collect();
        assert_eq!(told.len(), 1, "{told:?}");
        assert!(told[0].3.contains(&format!(
            "Der Vorgang ist beendet (Ergebnis: Zurückgezogen); Ihre Beteiligung entfällt damit. Ihre Bitte vom {} um Verlängerung der Frist bis zum {} hat sich damit erledigt.",
            clock::now().today.format("%d.%m.%Y"),
            wanted.format("%d.%m.%Y")
        )), "{}", told[0].3);
        assert!(!told[0].3.contains("Kreistag"), "the reason is for the file: {}", told[0].3);
        assert_eq!((&told[0].1, told[0].5), (&invitation_mail.1, Some(open_row)));
        let link = browser.get(&app, &format!("/beteiligung/{token}")).await;
        assert_eq!(link.status, 410, "{}", link.body);
        let again = browser.get(&app, &entry).await;
        assert_eq!(again.status, 422, "{}", again.body);
        assert!(again.body.contains("Der Vorgang ist bereits beendet."), "{}", again.body);
    }
}

both_backends! {
    async fn a_partner_past_its_deadline_while_another_was_extended_is_shown_as_such(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        let (app, api) = ui_app!(db, dir.path());
        // Invited five weeks ago; before the deadline's timer fired, the Schulamt's deadline was
        // extended (also possible once it has run out), so the consultation still runs.
        let then = clock::at(chrono::Utc::now() - chrono::TimeDelta::days(35));
        let until = working_day_after(clock::now().today, 7);
        let id = {
            let mut conn = db.connection();
            let ctx = api.case_context();
            let soest = Organisation::find_by_key(&mut conn, "05974").unwrap().unwrap();
            let case = cases::start_case(&mut conn, &ctx, "ki-antrag", &soest, application(), &actor(COORDINATOR), &then).unwrap();
            let allow = |_| Ok(());
            let call = Invocation { actor: &actor(COORDINATOR), clock: &then, check: &allow };
            cases::take_action(&mut conn, &ctx, case.row.id, 1, "beteiligung_starten", None, None, call).unwrap();
            let schulamt: i64 = vorgang::db::schema::invitations::table
                .inner_join(vorgang::db::schema::organisations::table)
                .filter(vorgang::db::schema::organisations::key.eq("SCHULAMT-SO"))
                .select(vorgang::db::schema::invitations::id)
                .first(&mut conn)
                .unwrap();
            let now = clock::now();
            let call = Invocation { actor: &actor(COORDINATOR), clock: &now, check: &allow };
            let extension = vorgang::service::extension::Extension { until, reason: None };
            vorgang::service::extension::extend(&mut conn, &ctx, case.row.id, schulamt, extension, call).unwrap();
            vorgang::scheduler::timers::run_due(&mut conn, &ctx, "t", vorgang::engine::TimerKind::Flow, &now, chrono::TimeDelta::minutes(5), &|| false).unwrap();
            case.row.id.0
        };
        let mut browser = Browser::from("10.0.0.3:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        let matrix = &page.body[page.body.find("id=\"beteiligung\"").unwrap()..page.body.find("id=\"journal\"").unwrap()];
        let rows: Vec<&str> = matrix.split("<tr>").skip(2).collect();
        assert_eq!(rows.len(), 2, "{matrix}");
        let (extended, passed): (Vec<&str>, Vec<&str>) = rows.iter().partition(|row| row.contains("<td>offen<"));
        assert_eq!((extended.len(), passed.len()), (1, 1), "{matrix}");
        // The extended partner may still be reminded by a resent link; the other may not answer
        // through its link any more, so it is offered an extension or an entry, not a resend.
        assert!(extended[0].contains("Einladung erneut senden"), "{}", extended[0]);
        assert!(passed[0].contains("<td>offen, Frist abgelaufen"), "{}", passed[0]);
        assert!(!passed[0].contains("Einladung erneut senden"), "{}", passed[0]);
        assert!(passed[0].contains(">Frist verlängern<") && passed[0].contains(">Stellungnahme erfassen<"), "{}", passed[0]);
    }
}

both_backends! {
    async fn a_letter_that_came_by_the_deadline_is_entered_after_the_consultation_closed(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        let (app, api) = ui_app!(db, dir.path());
        // Invited five weeks ago; the deadline's timer has closed the consultation since.
        let then = clock::at(chrono::Utc::now() - chrono::TimeDelta::days(35));
        let id = {
            let mut conn = db.connection();
            let ctx = api.case_context();
            let soest = Organisation::find_by_key(&mut conn, "05974").unwrap().unwrap();
            let case = cases::start_case(&mut conn, &ctx, "ki-antrag", &soest, application(), &actor(COORDINATOR), &then).unwrap();
            let allow = |_| Ok(());
            let call = Invocation { actor: &actor(COORDINATOR), clock: &then, check: &allow };
            cases::take_action(&mut conn, &ctx, case.row.id, 1, "beteiligung_starten", None, None, call).unwrap();
            vorgang::scheduler::timers::run_due(&mut conn, &ctx, "t", vorgang::engine::TimerKind::Flow, &clock::now(), chrono::TimeDelta::minutes(5), &|| false).unwrap();
            case.row.id.0
        };
        let deadline: chrono::NaiveDate = vorgang::db::schema::invitations::table
            .select(vorgang::db::schema::invitations::deadline)
            .first(&mut db.connection())
            .unwrap();
        let mut browser = Browser::from("10.0.0.3:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;
        let csrf = browser.csrf_token(&app, &format!("/vorgaenge/{id}")).await;

        // Both invitations expired unanswered; each still offers the entry, not the resend.
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        let matrix = &page.body[page.body.find("id=\"beteiligung\"").unwrap()..page.body.find("id=\"journal\"").unwrap()];
        assert_eq!(matrix.matches("<td>abgelaufen").count(), 2, "{matrix}");
        assert_eq!(matrix.matches(">Stellungnahme erfassen<").count(), 2, "{matrix}");
        assert!(!matrix.contains("Einladung erneut senden"), "{matrix}");
        let entry = matrix.split("href=\"/vorgaenge/").find(|part| part.contains("/stellungnahme\"")).unwrap();
        let entry = format!("/vorgaenge/{}", entry.split('"').next().unwrap());
        let form = browser.get(&app, &entry).await;
        assert_eq!(form.status, 200, "{}", form.body);
        let de = deadline.format("%d.%m.%Y").to_string();
        assert!(form.body.contains("Die Frist ist abgelaufen: Ist die Stellungnahme bis zum"), "{}", form.body);

        // A letter stamped the day after the deadline is refused (ki-antrag takes no late
        // answers); one stamped on the last day counts as in time.
        let late = browser.post(&app, &entry, &[("csrf", &csrf), ("votum", "zustimmung"), ("name", "Frau Muster"), ("eingang", "post"),
            ("eingegangen_am", &(deadline + chrono::TimeDelta::days(1)).format("%Y-%m-%d").to_string())]).await;
        assert_eq!(late.status, 422, "{}", late.body);
        assert!(late.body.contains(&format!("<span class=\"feldfehler\" id=\"fehler-eingegangen_am\">Die Frist ist am {de} abgelaufen")), "{}", late.body);
        assert!(late.body.contains("value=\"Frau Muster\""), "the input is kept: {}", late.body);
        let entered = browser.post(&app, &entry, &[("csrf", &csrf), ("votum", "zustimmung"), ("name", "Frau Muster"), ("eingang", "post"),
            ("eingegangen_am", &deadline.format("%Y-%m-%d").to_string())]).await;
        assert_eq!(entered.location(), format!("/vorgaenge/{id}?hinweis=stellungnahme-erfasst#beteiligung"), "{}", entered.body);
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        let matrix = &page.body[page.body.find("id=\"beteiligung\"").unwrap()..page.body.find("id=\"journal\"").unwrap()];
        assert!(matrix.contains(&format!("<td>beantwortet, eingegangen am {de}<")), "{matrix}");
        assert!(!matrix.contains("nach Fristablauf"), "in time: {matrix}");
        assert!(page.body.contains(&format!(" erfasst (am {de} eingegangen, Votum: Zustimmung)")), "the journal names the day: {}", page.body);
        let start = browser.get(&app, "/").await;
        assert!(start.body.contains(&format!("<td>{de} (erfasst ")), "the start page names the day it came: {}", start.body);
        assert_eq!(matrix.matches(">Stellungnahme erfassen<").count(), 1, "{matrix}");
    }
}

both_backends! {
    async fn the_case_page_shows_actions_and_takes_them(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        create_user(&mut db.connection(), "leser@kreis-soest.de", "05974", &[Role::Lesen], Some(PASSWORD));
        create_user(&mut db.connection(), "k@kreis-kleve.de", "05154", &[Role::Koordination], Some(PASSWORD));
        add_partners(&mut db.connection());
        let (app, api) = ui_app!(db, dir.path());
        let id = start(&mut db.connection(), &api, "05974", json!({ "zentrum_name": "KI <script>alert(1)</script>" }));
        // The Bewilligungsbehörde's part, as after a return for revision: the coordinator sees it
        // disabled, and saving the form (which does not send it) keeps it.
        {
            let mut conn = db.connection();
            let mut instance = cases::load(&mut conn, &api.registry, CaseId(id)).unwrap().instance;
            instance.data["bewilligung"] = json!({ "hinweise": "Bitte den Standort erläutern." });
            diesel::update(vorgang::db::schema::cases::table.find(CaseId(id)))
                .set(vorgang::db::schema::cases::state.eq(serde_json::to_string(&instance).unwrap()))
                .execute(&mut conn)
                .unwrap();
        }
        let mut browser = Browser::from("10.0.0.3:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;

        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("<fieldset class=\"gruppe\" id=\"feld-bewilligung\" disabled>"), "{}", page.body);
        assert!(page.body.contains("<p class=\"hinweis\">Diese Angaben ändert nur: „Bewilligungsbehörde (Kompetenzzentrum für Integration, Bezirksregierung Arnsberg)“.</p>"), "{}", page.body);
        assert!(page.body.contains("Bitte den Standort erläutern."));
        assert!(!page.body.contains("Grau dargestellte Angaben"), "the coordinator writes the Antrag");
        assert!(!page.body.contains("<input disabled type=\"text\" name=\"zentrum_name\""), "the coordinator's own fields stay open");
        assert!(page.body.contains("KI-05974-"), "Aktenzeichen");
        assert!(page.body.contains("Antrag auf Einrichtung eines Kommunalen Integrationszentrums"));
        assert!(page.body.contains("aria-current=\"step\""));
        assert!(page.body.contains("Antrag entwerfen <span class=\"marke-schritt\">(aktueller Schritt)</span>"));
        assert_eq!(diagram_marks(&page.body), (vec!["Antrag entwerfen".to_string()], vec![]));
        // One step active: its actions under a plain heading.
        assert!(page.body.contains("<h3>Aktionen</h3>") && !page.body.contains("Aktionen zu „"), "{}", page.body);
        // Not possible yet: the reasons, and links to the missing fields.
        assert!(page.body.contains("<strong>Beteiligung der Partner starten</strong> ist noch nicht möglich"), "{}", page.body);
        assert!(page.body.contains("href=\"#feld-antragsteller-email\""));
        assert!(page.body.contains("id=\"feld-antragsteller-email\""));
        // The data's groups are sections, closed unless the page points into them: the
        // Antragsteller and the Standort are open for the fields the action needs; the Anregung
        // and the decision's group, which no action of this step needs, are closed and say how
        // much they hold.
        assert!(page.body.contains("<details class=\"abschnitt\" open>\n<summary>Antragsteller <span class=\"stand\">(noch keine Angaben)</span></summary>"), "{}", page.body);
        assert!(page.body.contains("<details class=\"abschnitt\" open>\n<summary>Standort <span class=\"stand\">(noch kein Eintrag)</span></summary>"), "{}", page.body);
        assert!(page.body.contains("<details class=\"abschnitt\">\n<summary>Anregung einer kreisangehörigen Gemeinde <span class=\"stand\">(noch keine Angaben)</span></summary>"), "{}", page.body);
        assert!(page.body.contains("<details class=\"abschnitt\">\n<summary>Entscheidung der Bewilligungsbehörde <span class=\"stand\">(1 von 4 Angaben ausgefüllt)</span></summary>"), "{}", page.body);
        assert!(page.body.contains("Bitte beteiligen Sie die untere Schulaufsicht"));
        // Escaped data value.
        assert!(page.body.contains("KI &lt;script&gt;alert(1)&lt;/script&gt;"));
        assert_no_raw_script(&page);
        assert!(page.body.contains("<ol class=\"zeitleiste\" reversed>"));
        assert!(page.body.contains("Vorgang angelegt"));
        assert!(!page.body.contains("Nicht versandte Mails"), "nothing failed yet");

        // Fill in the application through the data form, then start the consultation.
        let csrf = page.hidden("csrf");
        let version = page.hidden("version");
        // A bad date shows the form again with the input, and the disabled part as stored.
        let bad = browser.post(&app, &format!("/vorgaenge/{id}/daten"), &[
            ("csrf", &csrf), ("version", &version), ("arbeitsaufnahme", "31.02.2026"),
            ("personal[lehrkraefte_vze]", "zwei"),
        ]).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(bad.body.contains("value=\"31.02.2026\""), "{}", bad.body);
        // The section with an error opens, so the summary's link reaches the field.
        assert!(bad.body.contains("href=\"#feld-personal-lehrkraefte_vze\""), "{}", bad.body);
        assert!(bad.body.contains("<details class=\"abschnitt\" open>\n<summary>Personalausstattung <span class=\"stand\">(1 von "), "{}", bad.body);
        assert!(bad.body.contains("Bitte den Standort erläutern.</textarea>"), "{}", bad.body);
        let app_data = application();
        let mut fields: Vec<(String, String)> = vec![("csrf".into(), csrf.clone()), ("version".into(), version.clone())];
        flatten(&app_data, "", &mut fields);
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let saved = browser.post(&app, &format!("/vorgaenge/{id}/daten"), &pairs).await;
        assert!(saved.location().starts_with(&format!("/vorgaenge/{id}?hinweis=gespeichert&offen=antragsteller%2C")), "{}", saved.location());
        // The page after saving shows the sections just filled in open, the others closed.
        let after = browser.get(&app, saved.location()).await;
        assert!(after.body.contains("Die Änderungen wurden gespeichert."), "{}", after.body);
        assert!(after.body.contains("<details class=\"abschnitt\" open>\n<summary>Antragsteller <span class=\"stand\">(vollständig ausgefüllt)</span></summary>"), "{}", after.body);
        assert!(after.body.contains("<details class=\"abschnitt\">\n<summary>Entscheidung der Bewilligungsbehörde <span class=\"stand\">(1 von 4 Angaben ausgefüllt)</span></summary>"), "{}", after.body);
        let (version, data, _) = case_data(&mut db.connection(), &api, id);
        assert_eq!(data["antragsteller"]["email"], "ki@kreis-soest.de");
        assert_eq!(data["zentrum_name"], "Kommunales Integrationszentrum Kreis Soest");
        assert_eq!(data["beteiligte"], json!(["SCHULAMT-SO", "05974-JA"]));
        assert_eq!(data["personal"]["verwaltungsassistenz_vze"], json!(0.5));
        assert_eq!(data["bewilligung"]["hinweise"], "Bitte den Standort erläutern.", "the disabled part is kept");

        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        assert!(page.body.contains(&format!("action=\"/vorgaenge/{id}/aktionen/beteiligung_starten\"")), "{}", page.body);
        // Nothing is missing any more: the Antragsteller closes and says it is complete.
        assert!(page.body.contains("<details class=\"abschnitt\">\n<summary>Antragsteller <span class=\"stand\">(vollständig ausgefüllt)</span></summary>"), "{}", page.body);
        let taken = browser.post(&app, &format!("/vorgaenge/{id}/aktionen/beteiligung_starten"), &[
            ("csrf", &csrf), ("version", &version.to_string()), ("schritt", "entwurf"),
        ]).await;
        assert_eq!(taken.location(), format!("/vorgaenge/{id}?hinweis=aktion"));
        let (_, _, steps) = case_data(&mut db.connection(), &api, id);
        assert_eq!(steps, ",beteiligung,");

        // The consultation matrix lists the invited partners, with a resend button each.
        let page = browser.get(&app, taken.location()).await;
        assert!(page.body.contains("Die Aktion wurde ausgeführt."));
        assert_eq!(
            diagram_marks(&page.body),
            (vec!["Beteiligung der örtlichen Partner".to_string()], vec!["Antrag entwerfen".to_string()])
        );
        assert!(page.body.contains("<th scope=\"row\">Schulamt für den Kreis Soest</th>"), "{}", page.body);
        assert!(page.body.contains("<th scope=\"row\">Jugendamt des Kreises Soest</th>"));
        assert!(page.body.contains("Einladung erneut senden"));
        // Both share one deadline: said once above the table, the rows carry the date alone.
        let matrix = &page.body[page.body.find("id=\"beteiligung\"").unwrap()..page.body.find("id=\"journal\"").unwrap()];
        assert_eq!(matrix.matches("Frist aller beteiligten Stellen: <strong>").count(), 1, "{matrix}");
        let rows = &matrix[matrix.find("<tbody>").unwrap()..];
        assert!(!rows.contains("class=\"hinweis\""), "{rows}");
        assert!(!matrix.contains("<th scope=\"col\">Frist</th>"), "no column repeating the shared deadline: {matrix}");
        assert!(matrix.contains("<th scope=\"col\">Aktion</th>"), "{matrix}");
        assert!(page.body.contains("Beteiligung „"), "journal describes the consultation");
        // The list names the case's next deadline, and says when it has passed.
        let deadline = cases::load(&mut db.connection(), &api.registry, CaseId(id)).unwrap().instance.invitations[0].deadline;
        let list = browser.get(&app, "/vorgaenge").await;
        assert!(list.body.contains("<th scope=\"col\"><a href=\"/vorgaenge?sort&#x3D;frist&amp;richtung&#x3D;auf\">Nächste Frist</a></th>"), "{}", list.body);
        let by_deadline = browser.get(&app, "/vorgaenge?sort=frist&richtung=ab").await;
        assert!(by_deadline.body.contains("<th scope=\"col\" aria-sort=\"descending\"><a href=\"/vorgaenge?sort&#x3D;frist&amp;richtung&#x3D;auf\">Nächste Frist <span class=\"sortierung\">(absteigend sortiert)</span></a></th>"), "{}", by_deadline.body);
        assert!(by_deadline.body.contains(&format!("<td><time datetime=\"{deadline}\">")), "{}", by_deadline.body);
        // Filtered by when the next deadline ends; the choice stays selected and in the links.
        let today = chrono::Utc::now().date_naive();
        let within_30 = browser.get(&app, "/vorgaenge?frist=30").await;
        assert!(within_30.body.contains("<option value=\"30\" selected>bis in 30 Tagen</option>"), "{}", within_30.body);
        assert!(within_30.body.contains("sort&#x3D;frist&amp;richtung&#x3D;auf") && within_30.body.contains("frist&#x3D;30&amp;sort"), "{}", within_30.body);
        assert_eq!(within_30.body.contains(&format!("<td><time datetime=\"{deadline}\">")), deadline <= today + chrono::Days::new(30), "{}", within_30.body);
        let passed = browser.get(&app, "/vorgaenge?frist=abgelaufen").await;
        assert!(passed.body.contains("Keine Vorgänge gefunden."), "{}", passed.body);
        let unknown = browser.get(&app, "/vorgaenge?frist=morgen").await;
        assert_eq!(unknown.status, 400);
        assert!(unknown.body.contains("Diesen Filter „Nächste Frist endet“ gibt es nicht."), "{}", unknown.body);
        assert!(list.body.contains(&format!("<td><time datetime=\"{deadline}\">{}</time></td>", deadline.format("%d.%m.%Y"))), "{}", list.body);
        {
            let mut conn = db.connection();
            let mut instance = cases::load(&mut conn, &api.registry, CaseId(id)).unwrap().instance;
            let passed = chrono::Utc::now().date_naive() - chrono::Days::new(2);
            for invitation in &mut instance.invitations {
                invitation.deadline = passed;
            }
            diesel::update(vorgang::db::schema::cases::table.find(CaseId(id)))
                .set(vorgang::db::schema::cases::state.eq(serde_json::to_string(&instance).unwrap()))
                .execute(&mut conn)
                .unwrap();
            let list = browser.get(&app, "/vorgaenge").await;
            assert!(list.body.contains(&format!("<time datetime=\"{passed}\">{}</time> <strong class=\"frist-abgelaufen\">(abgelaufen)</strong>", passed.format("%d.%m.%Y"))), "{}", list.body);
            instance.invitations.iter_mut().for_each(|invitation| invitation.deadline = deadline);
            diesel::update(vorgang::db::schema::cases::table.find(CaseId(id)))
                .set(vorgang::db::schema::cases::state.eq(serde_json::to_string(&instance).unwrap()))
                .execute(&mut conn)
                .unwrap();
        }
        let resend = page.body.split("/einladungen/").nth(1).unwrap().split('/').next().unwrap().to_string();
        let resent = browser.post(&app, &format!("/vorgaenge/{id}/einladungen/{resend}/erneut-senden"), &[("csrf", &csrf)]).await;
        assert_eq!(resent.location(), format!("/vorgaenge/{id}?hinweis=erneut-gesendet#beteiligung"));
        // The resend's journal entry is recorded on the case like every other.
        let report = vorgang::journal::verify(&mut db.connection()).unwrap();
        assert!(report.intact(), "{:?}", report.breaks);

        // A partner answers through its link with an attachment: the matrix says when, links
        // the Votum, and the document names the partner, not its internal key.
        let token = crate::case_file::first_invitation_token(&db);
        let (content_type, body) = crate::beteiligung::form_with_file(
            &[("votum", "bedenken"), ("stellungnahme", "Die Räume fehlen."), ("name", "Frau Muster")],
            ("anhang", "stellungnahme.pdf", "application/pdf", crate::beteiligung::PDF),
        );
        let answered = actix_test::call_service(&app, TestRequest::post().uri(&format!("/beteiligung/{token}"))
            .insert_header(("Content-Type", content_type)).set_payload(body).to_request()).await;
        assert_eq!(answered.status(), 200);
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        let matrix = &page.body[page.body.find("id=\"beteiligung\"").unwrap()..page.body.find("id=\"journal\"").unwrap()];
        let answered_row = matrix.split("<tr>").find(|row| row.contains("beantwortet am")).unwrap_or_else(|| panic!("{matrix}"));
        let partner = answered_row.split("<th scope=\"row\">").nth(1).unwrap().split("</th>").next().unwrap();
        assert!(answered_row.contains(">Bedenken<span class=\"versteckt\">"), "{answered_row}");
        assert!(!answered_row.contains("Einladung erneut senden"), "{answered_row}");
        assert!(page.body.contains(&format!("<td>{partner} (über den persönlichen Link)</td>")), "{}", page.body);
        assert!(!page.body.contains("beteiligung:"), "no internal key on the page: {}", page.body);

        // The other partner answered by letter: the coordinator enters it from the matrix.
        let entry = page.body.split("href=\"/vorgaenge/").find(|part| part.contains("/stellungnahme\"")).unwrap_or_else(|| panic!("{}", page.body));
        let entry = format!("/vorgaenge/{}", entry.split('"').next().unwrap());
        let form = browser.get(&app, &entry).await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.body.contains("<h1>Stellungnahme erfassen: "), "{}", form.body);
        // The day of receipt is offered as today, between the invitation and today.
        let today = vorgang::service::clock::now().today;
        let iso = today.format("%Y-%m-%d").to_string();
        assert!(form.body.contains(&format!("name=\"eingegangen_am\" id=\"feld-eingegangen_am\" value=\"{iso}\" min=\"{iso}\" max=\"{iso}\"")), "{}", form.body);
        let incomplete = browser.post(&app, &entry, &[("csrf", &csrf), ("votum", "bedenken"), ("name", "Herr Amt"), ("eingegangen_am", "")]).await;
        assert_eq!(incomplete.status, 422, "{}", incomplete.body);
        assert!(incomplete.body.contains("href=\"#feld-stellungnahme\"") && incomplete.body.contains("href=\"#feld-eingang\""), "{}", incomplete.body);
        assert!(incomplete.body.contains("<span class=\"feldfehler\" id=\"fehler-eingegangen_am\">Bitte geben Sie an, an welchem Tag"), "{}", incomplete.body);
        let tomorrow = (today + chrono::TimeDelta::days(1)).format("%Y-%m-%d").to_string();
        let future = browser.post(&app, &entry, &[("csrf", &csrf), ("votum", "zustimmung"), ("name", "Herr Amt"),
            ("eingang", "email"), ("eingegangen_am", &tomorrow)]).await;
        assert_eq!(future.status, 422, "{}", future.body);
        assert!(future.body.contains("liegt in der Zukunft") && future.body.contains(&format!("value=\"{tomorrow}\"")), "kept: {}", future.body);
        assert!(incomplete.body.contains("value=\"Herr Amt\""), "the input is kept: {}", incomplete.body);
        assert!(incomplete.body.contains("value=\"bedenken\" id=\"votum-bedenken\" checked"), "{}", incomplete.body);
        let entered = browser.post(&app, &entry, &[("csrf", &csrf), ("votum", "zustimmung"), ("name", "Herr Amt"),
            ("funktion", "Amtsleiter"), ("eingang", "email"), ("eingegangen_am", &iso)]).await;
        assert_eq!(entered.location(), format!("/vorgaenge/{id}?hinweis=stellungnahme-erfasst#beteiligung"));
        let page = browser.get(&app, entered.location().split('#').next().unwrap()).await;
        let matrix = &page.body[page.body.find("id=\"beteiligung\"").unwrap()..page.body.find("id=\"journal\"").unwrap()];
        assert_eq!(matrix.matches("beantwortet am").count(), 1, "{matrix}");
        assert!(matrix.contains(&format!("beantwortet, eingegangen am {}", today.format("%d.%m.%Y"))), "{matrix}");
        assert!(!matrix.contains("Stellungnahme erfassen"), "nothing open any more: {matrix}");
        assert!(page.body.contains("Die Stellungnahme wurde erfasst"), "{}", page.body);
        let again = browser.get(&app, &entry).await;
        assert_eq!(again.status, 422, "an answered invitation takes no second entry here: {}", again.body);
        assert!(again.body.contains("Die Einladung ist bereits beantwortet"), "the case page says why: {}", again.body);

        // A mail of the case that did not go out is named on the case page, with the reason.
        let now = chrono::Utc::now().naive_utc();
        diesel::insert_into(outbox::table)
            .values((
                outbox::message_id.eq("<gehalten@vorgang>"),
                outbox::case_id.eq(id),
                outbox::template.eq("beteiligung_erinnerung"),
                outbox::recipients.eq(r#"{"kind":"invitation","invitation":1,"organisation":"SCHULAMT-SO"}"#),
                outbox::context.eq("{}"),
                outbox::status.eq("failed"),
                outbox::last_error.eq("Keine Empfängeradresse: Für die beteiligte Organisation „SCHULAMT-SO“ ist weder ein Funktionspostfach noch ein Kontakt hinterlegt."),
                outbox::next_attempt_at.eq(now),
                outbox::created_at.eq(now),
                outbox::subject.eq("Erinnerung: Beteiligung <KI-05974>"),
                outbox::rendered.eq(r#"{"from":"","to":[],"text":"x","html":"x"}"#),
            ))
            .execute(&mut db.connection())
            .unwrap();
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        assert!(page.body.contains("<h2 id=\"nicht-versandt\">Nicht versandte Mails</h2>"), "{}", page.body);
        assert!(page.body.contains("„Erinnerung: Beteiligung &lt;KI-05974&gt;“ – Keine Empfängeradresse: Für die beteiligte Organisation „SCHULAMT-SO“"), "{}", page.body);

        // A `lesen` user sees the case but no action buttons and no editable form.
        let mut reader = Browser::from("10.0.0.4:1000");
        reader.login(&app, "leser@kreis-soest.de", PASSWORD).await;
        let read = reader.get(&app, &format!("/vorgaenge/{id}")).await;
        assert_eq!(read.status, 200, "{}", read.body);
        assert!(!read.body.contains("/aktionen/"));
        assert!(!read.body.contains("Einladung erneut senden"));
        assert!(!read.body.contains("<th scope=\"col\">Aktion</th>"), "no column of actions the reader cannot take");
        assert_eq!(reader.get(&app, &entry).await.status, 403, "a reader enters no Stellungnahme");
        assert!(!read.body.contains("Angaben speichern"));
        assert!(read.body.contains("<fieldset disabled"));

        // Another Kreis's coordinator: the case does not exist for them.
        let mut foreign = Browser::from("10.0.0.5:1000");
        foreign.login(&app, "k@kreis-kleve.de", PASSWORD).await;
        let hidden = foreign.get(&app, &format!("/vorgaenge/{id}")).await;
        assert_eq!(hidden.status, 404, "{}", hidden.body);
        assert!(!hidden.body.contains("Kreis Soest"));
        let csrf_foreign = foreign.csrf_token(&app, "/passwort").await;
        let post = foreign.post(&app, &format!("/vorgaenge/{id}/daten"), &[("csrf", &csrf_foreign), ("version", "1")]).await;
        assert_eq!(post.status, 404);
        assert_eq!(foreign.get(&app, &format!("/vorgaenge/{id}/stellungnahmen/1")).await.status, 404);
    }
}

/// The form fields of a JSON value under the UI's naming scheme.
fn flatten(value: &Value, prefix: &str, out: &mut Vec<(String, String)>) {
    let name = |key: &str| {
        if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}[{key}]")
        }
    };
    match value {
        Value::Object(object) => {
            for (key, value) in object {
                flatten(value, &name(key), out);
            }
        }
        Value::Array(items) if items.iter().all(Value::is_string) && prefix == "beteiligte" => {
            for item in items {
                out.push((prefix.to_string(), item.as_str().unwrap().to_string()));
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                flatten(item, &name(&index.to_string()), out);
            }
        }
        Value::Bool(true) => out.push((prefix.to_string(), "ja".into())),
        Value::Bool(false) => {}
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

both_backends! {
    async fn an_outdated_version_is_a_409_that_overwrites_nothing(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        let (app, api) = ui_app!(db, dir.path());
        let id = start(&mut db.connection(), &api, "05974", json!({ "zentrum_name": "Alt", "ausgangslage": "Bisher" }));
        let mut browser = Browser::from("10.0.0.6:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        let csrf = page.hidden("csrf");
        assert_eq!(page.hidden("version"), "1");

        // Someone else saves in between, and then adds a document (which keeps the version).
        change(&mut db.connection(), &api, id, 1, json!({ "ausgangslage": "Von jemand anderem" }));
        vorgang::service::documents::attach(&mut db.connection(), vorgang::documents::NewDocument {
            case_id: id,
            sha256: "ab".repeat(32),
            size: 1234,
            content_type: "application/pdf".into(),
            filename: "Stellenplan.pdf".into(),
            uploaded_by: "kollegin@kreis-soest.de".into(),
            partner_visible: false,
            internal_to: None,
        }).unwrap();

        let stale = browser.post(&app, &format!("/vorgaenge/{id}/daten"), &[
            ("csrf", &csrf), ("version", "1"), ("zentrum_name", "Mein neuer Name"), ("ausgangslage", "Bisher"),
        ]).await;
        assert_eq!(stale.status, 409, "{}", stale.body);
        assert!(stale.body.contains("Der Vorgang wurde inzwischen geändert"));
        assert!(stale.body.contains("Ihre Eingaben im Vergleich zum aktuellen Stand"));
        assert!(stale.body.contains("Von jemand anderem"), "the current value is shown");
        assert!(stale.body.contains("value=\"Mein neuer Name\""), "the user's input is kept");
        // What happened since: the one change of version 2, not the document that followed it.
        let since = stale.body.split("<h2>Inzwischen geschehen</h2>").nth(1).and_then(|rest| rest.split("</ul>").next()).unwrap_or_default();
        assert!(since.contains("Daten geändert"), "{}", stale.body);
        assert!(!since.contains("Stellenplan.pdf"), "{since}");
        assert_eq!(crate::support::ui::hidden_field(&stale.body, "version").unwrap(), "2");
        let (version, data, _) = case_data(&mut db.connection(), &api, id);
        assert_eq!(version, 2);
        assert_eq!(data, json!({ "zentrum_name": "Alt", "ausgangslage": "Von jemand anderem" }));

        // An action with the old version: 409 as well, nothing taken.
        let action = browser.post(&app, &format!("/vorgaenge/{id}/aktionen/beteiligung_starten"), &[
            ("csrf", &csrf), ("version", "1"),
        ]).await;
        assert_eq!(action.status, 409);
        assert!(action.body.contains("Der Vorgang wurde inzwischen geändert"));

        // Retrying with the current version saves the user's values (only what changed).
        let retry = browser.post(&app, &format!("/vorgaenge/{id}/daten"), &[
            ("csrf", &csrf), ("version", "2"), ("zentrum_name", "Mein neuer Name"), ("ausgangslage", "Von jemand anderem"),
        ]).await;
        assert_eq!(retry.location(), format!("/vorgaenge/{id}?hinweis=gespeichert&offen=zentrum_name"));
        let (version, data, _) = case_data(&mut db.connection(), &api, id);
        assert_eq!(version, 3);
        assert_eq!(data, json!({ "zentrum_name": "Mein neuer Name", "ausgangslage": "Von jemand anderem" }));

        // A bad number in the data form: at the field, nothing saved.
        let bad = browser.post(&app, &format!("/vorgaenge/{id}/daten"), &[
            ("csrf", &csrf), ("version", "3"), ("personal[fachkraefte_vze]", "sechs"),
        ]).await;
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("id=\"fehler-personal-fachkraefte_vze\""));
        assert!(bad.body.contains("„sechs“ ist keine Zahl"));
        assert_eq!(case_data(&mut db.connection(), &api, id).0, 3);
    }
}

both_backends! {
    async fn documents_are_uploaded_checked_and_downloaded(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        let (app, api) = ui_app!(db, dir.path());
        let id = start(&mut db.connection(), &api, "05974", json!({}));
        let mut browser = Browser::from("10.0.0.7:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;
        let csrf = browser.csrf_token(&app, &format!("/vorgaenge/{id}")).await;

        let upload = |fields: Vec<(&'static str, Option<&'static str>, Vec<u8>)>| upload_request(id, &fields);
        // Without the CSRF token: refused, nothing stored.
        let forged = browser.send(&app, upload(vec![("datei", Some("Antrag.pdf"), PDF.to_vec())])).await;
        assert_eq!(forged.status, 403);

        // A text file named .pdf: refused in German, at the field.
        let fake = browser.send(&app, upload(vec![
            ("csrf", None, csrf.clone().into_bytes()),
            ("datei", Some("Antrag.pdf"), b"Das ist nur Text.".to_vec()),
        ])).await;
        assert_eq!(fake.status, 422, "{}", fake.body);
        assert!(fake.body.contains("id=\"fehler-datei\">Dieser Dateityp ist nicht erlaubt: Die Datei ist eine Textdatei"), "{}", fake.body);
        assert!(fake.body.contains("href=\"#feld-datei\""));

        let stored = browser.send(&app, upload(vec![
            ("csrf", None, csrf.clone().into_bytes()),
            ("datei", Some("Antrag <final>.pdf"), PDF.to_vec()),
            ("fuer_beteiligte", None, b"ja".to_vec()),
        ])).await;
        assert_eq!(stored.location(), format!("/vorgaenge/{id}?hinweis=hochgeladen#dokumente"));
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        assert!(page.body.contains("Antrag &lt;final&gt;.pdf") || page.body.contains("Antrag _final_.pdf"), "{}", page.body);
        assert!(page.body.contains(COORDINATOR));
        // The journal names the upload; the refused and forged ones left no entry.
        assert_eq!(page.body.matches("hinzugefügt (für Beteiligte sichtbar)").count(), 1, "{}", page.body);
        assert!(page.body.contains("Dokument „Antrag"), "{}", page.body);
        let doc = page.body.split(&format!("/vorgaenge/{id}/dokumente/")).nth(1).unwrap().split('"').next().unwrap().to_string();
        let cookie = browser.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let download = actix_test::call_service(&app, TestRequest::get()
            .uri(&format!("/vorgaenge/{id}/dokumente/{doc}")).insert_header(("cookie", cookie)).to_request()).await;
        assert_eq!(download.status(), 200);
        let header = |name: &str| download.headers().get(name).unwrap().to_str().unwrap().to_string();
        assert_eq!(header("content-type"), "application/pdf");
        assert!(header("content-disposition").starts_with("attachment"), "{}", header("content-disposition"));
        assert_eq!(actix_test::read_body(download).await.as_ref(), PDF);
        // The document can now be linked in a document field.
        assert!(page.body.contains(&format!("<option value=\"{doc}\">")));
    }
}

both_backends! {
    async fn an_internal_document_stays_with_the_organisation_that_uploaded_it(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        create_user(&mut db.connection(), "pruefung@bezreg-arnsberg.nrw.de", "KFI", &[Role::Bewilligung], Some(PASSWORD));
        let (app, api) = ui_app!(db, dir.path());
        let id = start(&mut db.connection(), &api, "05974", json!({}));
        crate::support::cases::mark_submitted(&mut db.connection(), id);
        let mut browser = Browser::from("10.0.0.7:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;
        let csrf = browser.csrf_token(&app, &format!("/vorgaenge/{id}")).await;
        let upload = |fields: Vec<(&'static str, Option<&'static str>, Vec<u8>)>| upload_request(id, &fields);

        // Both boxes ticked: refused at the form, the boxes kept, nothing stored.
        let both = browser.send(&app, upload(vec![
            ("csrf", None, csrf.clone().into_bytes()),
            ("datei", Some("Vermerk Kämmerei.pdf"), PDF.to_vec()),
            ("fuer_beteiligte", None, b"ja".to_vec()),
            ("intern", None, b"ja".to_vec()),
        ])).await;
        assert_eq!(both.status, 422, "{}", both.body);
        assert!(both.body.contains("Ein internes Dokument kann nicht für Beteiligte sichtbar sein"), "{}", both.body);
        assert!(both.body.contains("href=\"#feld-dokument-intern\""), "{}", both.body);
        assert!(both.body.contains("id=\"feld-dokument-intern\" value=\"ja\" checked"), "{}", both.body);
        assert!(both.body.contains("id=\"feld-fuer-beteiligte\" value=\"ja\" checked"), "{}", both.body);
        assert!(!both.body.contains("Vermerk Kämmerei.pdf"), "nothing stored");
        // A file refused for its content keeps the box ticked as well.
        let text = browser.send(&app, upload(vec![
            ("csrf", None, csrf.clone().into_bytes()),
            ("datei", Some("Vermerk Kämmerei.pdf"), b"Nur Text.".to_vec()),
            ("intern", None, b"ja".to_vec()),
        ])).await;
        assert_eq!(text.status, 422, "{}", text.body);
        assert!(text.body.contains("id=\"fehler-datei\">Dieser Dateityp ist nicht erlaubt"), "{}", text.body);
        assert!(text.body.contains("id=\"feld-dokument-intern\" value=\"ja\" checked"), "{}", text.body);
        assert!(!text.body.contains("id=\"feld-fuer-beteiligte\" value=\"ja\" checked"), "{}", text.body);

        let stored = browser.send(&app, upload(vec![
            ("csrf", None, csrf.clone().into_bytes()),
            ("datei", Some("Vermerk Kämmerei.pdf"), PDF.to_vec()),
            ("intern", None, b"ja".to_vec()),
        ])).await;
        assert_eq!(stored.location(), format!("/vorgaenge/{id}?hinweis=hochgeladen#dokumente"));
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        assert!(page.body.contains("Vermerk Kämmerei.pdf</a> <span class=\"markierung\">(intern)</span>"), "{}", page.body);
        assert!(page.body.contains("Dokument „Vermerk Kämmerei.pdf“ hinzugefügt (intern, nur für die hochladende Stelle sichtbar)"), "{}", page.body);
        let doc = page.body.split(&format!("/vorgaenge/{id}/dokumente/")).nth(1).unwrap().split('"').next().unwrap().to_string();

        // The Bewilligungsbehörde reads the case, but neither the document nor its name.
        let mut bezreg = Browser::from("10.0.0.8:1000");
        bezreg.login(&app, "pruefung@bezreg-arnsberg.nrw.de", PASSWORD).await;
        let seen = bezreg.get(&app, &format!("/vorgaenge/{id}")).await;
        assert_eq!(seen.status, 200, "{}", seen.body);
        assert!(!seen.body.contains("Kämmerei"), "{}", seen.body);
        assert!(seen.body.contains("Internes Dokument einer anderen Stelle hinzugefügt (nicht einsehbar)"), "{}", seen.body);
        assert!(seen.body.contains("Noch keine Dokumente."), "{}", seen.body);
        assert_eq!(bezreg.get(&app, &format!("/vorgaenge/{id}/dokumente/{doc}")).await.status, 404);
        let cookie = browser.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let own = actix_test::call_service(&app, TestRequest::get()
            .uri(&format!("/vorgaenge/{id}/dokumente/{doc}")).insert_header(("cookie", cookie)).to_request()).await;
        assert_eq!(own.status(), 200);
        assert_eq!(actix_test::read_body(own).await.as_ref(), PDF);
    }
}

both_backends! {
    async fn statements_are_escaped_and_the_page_is_fast(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        add_partners(&mut db.connection());
        let (app, api) = ui_app!(db, dir.path());
        let id = start(&mut db.connection(), &api, "05974", application());
        {
            let mut conn = db.connection();
            let allow = |_| Ok(());
            let actor = actor(COORDINATOR);
            let now = clock::now();
            let call = Invocation { actor: &actor, clock: &now, check: &allow };
            cases::take_action(&mut conn, &api.case_context(), CaseId(id), 1, "beteiligung_starten", None, None, call).unwrap();
            let case = cases::load(&mut conn, &api.registry, CaseId(id)).unwrap();
            let invitation = case.instance.invitations[0].id;
            cases::record_answer(&mut conn, &api.case_context(), CaseId(id), invitation,
                vorgang::engine::instance::Answer {
                    votum: vorgang::engine::instance::Votum::Bedenken,
                    text: "<script>alert(2)</script> Räume fehlen.".into(),
                    answered_by: "Frau Muster".into(),
                    attachment: None,
                    received_on: None,
                }, &actor, &now).unwrap();
        }
        let mut browser = Browser::from("10.0.0.8:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Bedenken"));
        let link = page.body.split(&format!("/vorgaenge/{id}/stellungnahmen/")).nth(1).unwrap().split('"').next().unwrap().to_string();
        let statement = browser.get(&app, &format!("/vorgaenge/{id}/stellungnahmen/{link}")).await;
        assert_eq!(statement.status, 200, "{}", statement.body);
        assert!(statement.body.contains("&lt;script&gt;alert(2)&lt;/script&gt; Räume fehlen."));
        assert!(statement.body.contains("Fassung 1"));
        assert_no_raw_script(&statement);

        // 100 journal entries: time the page (printed, not asserted).
        let mut version = cases::load(&mut db.connection(), &api.registry, CaseId(id)).unwrap().row.version;
        while journal_len(&db, id) < 100 {
            change(&mut db.connection(), &api, id, version, json!({ "schwerpunkte": format!("Fassung {version}") }));
            version += 1;
        }
        let _ = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        let mut best = std::time::Duration::MAX;
        for _ in 0..5 {
            let started = Instant::now();
            let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
            best = best.min(started.elapsed());
            assert_eq!(page.status, 200);
        }
        println!("case page with {} journal entries ({backend:?}): {best:?} (best of 5, debug build)", journal_len(&db, id));
    }
}

fn journal_len(db: &TestDatabase, id: i64) -> i64 {
    use diesel::prelude::*;
    vorgang::db::schema::case_events::table
        .filter(vorgang::db::schema::case_events::case_id.eq(id))
        .count()
        .get_result(&mut db.connection())
        .unwrap()
}

both_backends! {
    async fn a_vermerk_is_written_on_the_case_page_and_stands_in_the_timeline(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        create_user(&mut db.connection(), "leser@kreis-soest.de", "05974", &[Role::Lesen], Some(PASSWORD));
        create_user(&mut db.connection(), "k@kreis-kleve.de", "05154", &[Role::Koordination], Some(PASSWORD));
        let (app, api) = ui_app!(db, dir.path());
        let id = start(&mut db.connection(), &api, "05974", json!({}));
        let (version, ..) = case_data(&mut db.connection(), &api, id);
        let mut browser = Browser::from("10.0.0.3:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;

        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        assert!(page.body.contains("<label for=\"feld-vermerk\">Aktenvermerk</label>"), "{}", page.body);
        // The long page starts with links to its sections, each of which exists.
        let nav = &page.body[page.body.find("class=\"sprungmarken\"").unwrap()..];
        let nav = &nav[..nav.find("</nav>").unwrap()];
        let targets: Vec<&str> = nav.split("href=\"#").skip(1).map(|rest| &rest[..rest.find('"').unwrap()]).collect();
        assert_eq!(targets, ["aufgaben", "zustaendigkeit", "wiedervorlage", "daten", "dokumente", "beteiligung", "journal"]);
        for target in targets {
            assert!(page.body.contains(&format!("<h2 id=\"{target}\">")), "{target}");
        }
        let csrf = page.hidden("csrf");
        // Empty: the page again, the reason at the field, nothing written.
        let empty = browser.post(&app, &format!("/vorgaenge/{id}/vermerke"), &[("csrf", &csrf), ("text", "   ")]).await;
        assert_eq!(empty.status, 422, "{}", empty.body);
        assert!(empty.body.contains("<span class=\"feldfehler\" id=\"fehler-vermerk\">Bitte geben Sie den Vermerk ein.</span>"), "{}", empty.body);
        assert!(empty.body.contains("aria-invalid=\"true\">   </textarea>"), "the input is kept: {}", empty.body);
        assert!(empty.body.contains("<li><a href=\"#feld-vermerk\">Bitte geben Sie den Vermerk ein.</a></li>"), "named at the top: {}", empty.body);
        assert!(!empty.body.contains("<span class=\"vermerk\">"));

        let text = "Telefonat mit Frau Berg (Schulamt): <Rückruf> bis Freitag.\r\nTermin folgt.";
        let written = browser.post(&app, &format!("/vorgaenge/{id}/vermerke"), &[("csrf", &csrf), ("text", text)]).await;
        assert_eq!(written.location(), format!("/vorgaenge/{id}?hinweis=vermerk#journal"));
        let page = browser.get(&app, written.location()).await;
        assert!(page.body.contains("Der Vermerk wurde in den Verlauf aufgenommen."));
        assert!(page.body.contains("<span class=\"text\">Vermerk</span><span class=\"vermerk\">Telefonat mit Frau Berg (Schulamt): &lt;Rückruf&gt; bis Freitag.\nTermin folgt.</span> <span class=\"wer\">k@kreis-soest.de</span>"), "{}", page.body);
        let (after, ..) = case_data(&mut db.connection(), &api, id);
        assert_eq!(after, version, "a Vermerk needs no version and makes none");

        // A reader sees the Vermerk but no form, and cannot post one.
        let mut reader = Browser::from("10.0.0.4:1000");
        reader.login(&app, "leser@kreis-soest.de", PASSWORD).await;
        let read = reader.get(&app, &format!("/vorgaenge/{id}")).await;
        assert!(read.body.contains("Termin folgt."));
        assert!(!read.body.contains("feld-vermerk"));
        let csrf_reader = read.hidden("csrf");
        let refused = reader.post(&app, &format!("/vorgaenge/{id}/vermerke"), &[("csrf", &csrf_reader), ("text", "Gelesen.")]).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        // Another Kreis: the case does not exist.
        let mut foreign = Browser::from("10.0.0.5:1000");
        foreign.login(&app, "k@kreis-kleve.de", PASSWORD).await;
        let csrf_foreign = foreign.csrf_token(&app, "/passwort").await;
        let hidden = foreign.post(&app, &format!("/vorgaenge/{id}/vermerke"), &[("csrf", &csrf_foreign), ("text", "Hallo.")]).await;
        assert_eq!(hidden.status, 404, "{}", hidden.body);
        let notes = vorgang::journal::list(&mut db.connection(), id).unwrap().into_iter().filter(|e| e.kind == "note_added").count();
        assert_eq!(notes, 1, "only the coordinator's Vermerk was written");
    }
}

both_backends! {
    async fn an_internal_vermerk_stays_within_the_writers_organisation_on_the_page_and_in_the_file(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        create_user(&mut db.connection(), "leser@kreis-soest.de", "05974", &[Role::Lesen], Some(PASSWORD));
        create_user(&mut db.connection(), "b@bra.nrw.de", "KFI", &[Role::Bewilligung], Some(PASSWORD));
        let (app, api) = ui_app!(db, dir.path());
        let id = start(&mut db.connection(), &api, "05974", json!({}));
        crate::support::cases::mark_submitted(&mut db.connection(), id);
        let aktenzeichen = cases::load(&mut db.connection(), &api.registry, CaseId(id)).unwrap().row.aktenzeichen;
        let mut browser = Browser::from("10.0.0.3:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        assert!(page.body.contains("<input type=\"checkbox\" name=\"intern\" id=\"feld-vermerk-intern\" value=\"ja\">"), "{}", page.body);
        let csrf = page.hidden("csrf");

        // Refused, the page keeps the box ticked.
        let empty = browser.post(&app, &format!("/vorgaenge/{id}/vermerke"), &[("csrf", &csrf), ("text", " "), ("intern", "ja")]).await;
        assert_eq!(empty.status, 422, "{}", empty.body);
        assert!(empty.body.contains("id=\"feld-vermerk-intern\" value=\"ja\" checked>"), "{}", empty.body);

        let written = browser.post(&app, &format!("/vorgaenge/{id}/vermerke"), &[("csrf", &csrf), ("text", "Kämmerei: Eigenanteil noch offen."), ("intern", "ja")]).await;
        assert_eq!(written.status, 303, "{}", written.body);
        let shared = browser.post(&app, &format!("/vorgaenge/{id}/vermerke"), &[("csrf", &csrf), ("text", "Unterlagen vollständig übersandt.")]).await;
        assert_eq!(shared.status, 303, "{}", shared.body);
        let internal_item = "<span class=\"text\">Interner Vermerk (nur für die verfassende Stelle sichtbar)</span><span class=\"vermerk\">Kämmerei: Eigenanteil noch offen.</span>";
        for (who, mut reader) in [("Koordination", browser), ("Lesen", {
            let mut reader = Browser::from("10.0.0.4:1000");
            reader.login(&app, "leser@kreis-soest.de", PASSWORD).await;
            reader
        })] {
            let page = reader.get(&app, &format!("/vorgaenge/{id}")).await;
            assert!(page.body.contains(internal_item), "{who}: {}", page.body);
            assert!(page.body.contains("<span class=\"text\">Vermerk</span><span class=\"vermerk\">Unterlagen vollständig übersandt.</span>"), "{who}");
        }

        // The Bewilligungsbehörde sees that a Vermerk stands there, not what it says: on the page
        // and in the case file it exports.
        let mut authority = Browser::from("10.0.0.5:1000");
        authority.login(&app, "b@bra.nrw.de", PASSWORD).await;
        let seen = authority.get(&app, &format!("/vorgaenge/{id}")).await;
        assert_eq!(seen.status, 200, "{}", seen.body);
        assert!(seen.body.contains("<span class=\"text\">Interner Vermerk einer anderen Stelle (nicht einsehbar)</span> <span class=\"wer\">k@kreis-soest.de</span>"), "{}", seen.body);
        assert!(seen.body.contains("Unterlagen vollständig übersandt."));
        assert!(!seen.body.contains("Eigenanteil"), "{}", seen.body);
        let cookie = authority.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let download = actix_test::call_service(&app, TestRequest::get()
            .uri(&format!("/vorgaenge/{id}/akte.zip")).insert_header(("cookie", cookie)).to_request()).await;
        assert_eq!(download.status(), 200);
        let bytes = actix_test::read_body(download).await;
        let archive = vorgang::documents::zip::Archive::parse(&bytes).expect("a ZIP archive");
        let member = |name: &str| {
            let content = archive.stored_content(&format!("{aktenzeichen}/{name}"), 1 << 20).unwrap_or_else(|| panic!("{name}"));
            String::from_utf8(content.to_vec()).unwrap()
        };
        let (overview, journal) = (member("akte.html"), member("journal.json"));
        assert!(overview.contains("Interner Vermerk einer anderen Stelle (nicht einsehbar)"), "{overview}");
        assert!(!overview.contains("Eigenanteil") && !journal.contains("Eigenanteil"), "{journal}");
        let journal: Value = serde_json::from_str(&journal).unwrap();
        let withheld: Vec<&Value> = journal["entries"].as_array().unwrap().iter().filter(|e| e["payload"]["withheld"] == true).collect();
        assert_eq!(withheld.len(), 1, "{journal}");
        assert_eq!(withheld[0]["actor"], COORDINATOR);
    }
}

both_backends! {
    async fn a_wiedervorlage_comes_back_on_the_start_page_until_someone_closes_it(backend) {
        use vorgang::db::schema::{follow_ups, users};
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        create_user(&mut db.connection(), "vertretung@kreis-soest.de", "05974", &[Role::Koordination], Some(PASSWORD));
        create_user(&mut db.connection(), "leser@kreis-soest.de", "05974", &[Role::Lesen], Some(PASSWORD));
        create_user(&mut db.connection(), "k@kreis-kleve.de", "05154", &[Role::Koordination], Some(PASSWORD));
        let (app, api) = ui_app!(db, dir.path());
        let id = start(&mut db.connection(), &api, "05974", json!({}));
        let aktenzeichen: String = vorgang::db::schema::cases::table.find(id).select(vorgang::db::schema::cases::aktenzeichen).first(&mut db.connection()).unwrap();
        let (version, ..) = case_data(&mut db.connection(), &api, id);
        let today = clock::now().today;
        let iso = |days: u64| (today + chrono::Days::new(days)).format("%Y-%m-%d").to_string();
        let mut browser = Browser::from("10.0.0.3:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        assert!(page.body.contains("Keine offene Wiedervorlage."), "{}", page.body);
        assert!(page.body.contains(&format!("min=\"{}\"", iso(0))));
        let csrf = page.hidden("csrf");
        let path = format!("/vorgaenge/{id}/wiedervorlagen");

        // A past day and no reason: both named at their fields, the input kept, nothing stored.
        let yesterday = (today - chrono::Days::new(1)).format("%Y-%m-%d").to_string();
        let refused = browser.post(&app, &path, &[("csrf", &csrf), ("tag", &yesterday), ("anlass", " ")]).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(refused.body.contains("<span class=\"feldfehler\" id=\"fehler-wv-tag\">Der Tag der Wiedervorlage liegt in der Vergangenheit"), "{}", refused.body);
        assert!(refused.body.contains("<span class=\"feldfehler\" id=\"fehler-wv-anlass\">Bitte geben Sie an, worum es bei der Wiedervorlage geht.</span>"));
        assert!(refused.body.contains(&format!("value=\"{yesterday}\"")));
        assert!(refused.body.contains("<li><a href=\"#feld-wv-anlass\">Bitte geben Sie an, worum es bei der Wiedervorlage geht.</a></li>"), "named at the top: {}", refused.body);
        assert!(refused.body.contains("<li><a href=\"#feld-wv-tag\">Der Tag der Wiedervorlage liegt in der Vergangenheit"), "{}", refused.body);
        let typo = browser.post(&app, &path, &[("csrf", &csrf), ("tag", "31.02.2027"), ("anlass", "Prüfen")]).await;
        assert_eq!(typo.status, 422);
        assert!(typo.body.contains("Bitte geben Sie den Tag als Datum an, zum Beispiel 15.01.2027."), "{}", typo.body);
        assert!(typo.body.contains("value=\"Prüfen\""));
        let stored: i64 = follow_ups::table.count().get_result(&mut db.connection()).unwrap();
        assert_eq!(stored, 0);

        // Today and in thirty days: the start page lists today's, not the far one.
        let set = browser.post(&app, &path, &[("csrf", &csrf), ("tag", &iso(0)), ("anlass", "Rückmeldung des Schulamts prüfen")]).await;
        assert_eq!(set.location(), format!("/vorgaenge/{id}?hinweis=wiedervorlage#wiedervorlage"));
        let typed = (today + chrono::Days::new(30)).format("%d.%m.%Y").to_string();
        let later = browser.post(&app, &path, &[("csrf", &csrf), ("tag", &typed), ("anlass", "Sitzungstermin erfragen")]).await;
        assert_eq!(later.status, 303, "German dates are read too: {}", later.body);
        let start_page = browser.get(&app, "/").await;
        let section = &start_page.body[start_page.body.find("Meine Wiedervorlagen").unwrap()..start_page.body.find("id=\"fristen\"").unwrap()];
        assert!(section.contains(&format!("<strong>Heute</strong>, <time datetime=\"{}\">", iso(0))), "{section}");
        assert!(section.contains(&format!("<a class=\"az\" href=\"/vorgaenge/{id}#wiedervorlage\">{aktenzeichen}</a> – Rückmeldung des Schulamts prüfen")), "{section}");
        assert!(!section.contains("Sitzungstermin erfragen"), "beyond the horizon: {section}");
        let later_day = (today + chrono::Days::new(30)).format("%d.%m.%Y").to_string();
        assert!(section.contains("Eine weitere Wiedervorlage liegt später, am "), "{section}");
        assert!(section.contains(&format!(", {later_day}.</p>")), "the weekday and the day: {section}");
        let (after, ..) = case_data(&mut db.connection(), &api, id);
        assert_eq!(after, version, "a Wiedervorlage leaves the case alone");

        // Personal: a colleague's start page does not list it; the case page shows both to
        // every reader, the buttons only to those who may write.
        let mut colleague = Browser::from("10.0.0.6:1000");
        colleague.login(&app, "vertretung@kreis-soest.de", PASSWORD).await;
        assert!(!colleague.get(&app, "/").await.body.contains("Rückmeldung des Schulamts prüfen"));
        let mut reader = Browser::from("10.0.0.4:1000");
        reader.login(&app, "leser@kreis-soest.de", PASSWORD).await;
        let read = reader.get(&app, &format!("/vorgaenge/{id}")).await;
        assert!(read.body.contains("Rückmeldung des Schulamts prüfen") && read.body.contains("Sitzungstermin erfragen"));
        assert!(!read.body.contains("/erledigt\"") && !read.body.contains("feld-wv-tag"));
        let csrf_reader = read.hidden("csrf");
        let first: i64 = follow_ups::table.order(follow_ups::id).select(follow_ups::id).first(&mut db.connection()).unwrap();
        let close = format!("/vorgaenge/{id}/wiedervorlagen/{first}/erledigt");
        assert_eq!(reader.post(&app, &close, &[("csrf", &csrf_reader)]).await.status, 403);
        let mut foreign = Browser::from("10.0.0.5:1000");
        foreign.login(&app, "k@kreis-kleve.de", PASSWORD).await;
        let csrf_foreign = foreign.csrf_token(&app, "/passwort").await;
        assert_eq!(foreign.post(&app, &close, &[("csrf", &csrf_foreign)]).await.status, 404);
        assert_eq!(foreign.post(&app, &path, &[("csrf", &csrf_foreign), ("tag", &iso(1)), ("anlass", "x")]).await.status, 404);

        // The colleague standing in closes it: gone from the start page, recorded with who.
        let csrf_colleague = colleague.csrf_token(&app, &format!("/vorgaenge/{id}")).await;
        let closed = colleague.post(&app, &close, &[("csrf", &csrf_colleague)]).await;
        assert_eq!(closed.location(), format!("/vorgaenge/{id}?hinweis=wiedervorlage-erledigt#wiedervorlage"));
        assert_eq!(colleague.post(&app, &close, &[("csrf", &csrf_colleague)]).await.status, 303, "a second click changes nothing");
        let done: (Option<String>, bool) = follow_ups::table.find(first).select((follow_ups::done_by, follow_ups::done_at.is_not_null())).first(&mut db.connection()).unwrap();
        assert_eq!(done, (Some("vertretung@kreis-soest.de".to_string()), true));
        assert!(!browser.get(&app, "/").await.body.contains("Rückmeldung des Schulamts prüfen"));
        // Through another case's address it does not exist.
        let second = browser.post(&app, &path, &[("csrf", &csrf), ("tag", &iso(1)), ("anlass", "Offen lassen")]).await;
        assert_eq!(second.status, 303);
        let open: i64 = follow_ups::table.filter(follow_ups::reason.eq("Offen lassen")).select(follow_ups::id).first(&mut db.connection()).unwrap();
        let other = start(&mut db.connection(), &api, "05974", json!({}));
        let wrong = colleague.post(&app, &format!("/vorgaenge/{other}/wiedervorlagen/{open}/erledigt"), &[("csrf", &csrf_colleague)]).await;
        assert_eq!(wrong.status, 404, "{}", wrong.body);
        assert!(wrong.body.contains("Diese Wiedervorlage gibt es nicht."), "{}", wrong.body);
        let still_open: bool = follow_ups::table.find(open).select(follow_ups::done_at.is_null()).first(&mut db.connection()).unwrap();
        assert!(still_open);

        // Submitted, the case is open to the Bewilligungsbehörde: it sees and closes none of the
        // applicant's working notes, but may set its own.
        create_user(&mut db.connection(), "b@bra.nrw.de", "KFI", &[Role::Bewilligung], Some(PASSWORD));
        crate::support::cases::mark_submitted(&mut db.connection(), id);
        let mut authority = Browser::from("10.0.0.8:1000");
        authority.login(&app, "b@bra.nrw.de", PASSWORD).await;
        let seen = authority.get(&app, &format!("/vorgaenge/{id}")).await;
        assert_eq!(seen.status, 200, "{}", seen.body);
        assert!(!seen.body.contains("Offen lassen") && !seen.body.contains("Sitzungstermin erfragen"), "{}", seen.body);
        assert!(seen.body.contains("Keine offene Wiedervorlage."));
        let csrf_authority = seen.hidden("csrf");
        let foreign_close = authority.post(&app, &format!("/vorgaenge/{id}/wiedervorlagen/{open}/erledigt"), &[("csrf", &csrf_authority)]).await;
        assert_eq!(foreign_close.status, 404, "{}", foreign_close.body);
        let own = authority.post(&app, &path, &[("csrf", &csrf_authority), ("tag", &iso(3)), ("anlass", "Bescheid entwerfen")]).await;
        assert_eq!(own.status, 303, "{}", own.body);
        assert!(!browser.get(&app, &format!("/vorgaenge/{id}")).await.body.contains("Bescheid entwerfen"), "nor the other way round");
        let still_open: bool = follow_ups::table.find(open).select(follow_ups::done_at.is_null()).first(&mut db.connection()).unwrap();
        assert!(still_open);

        // Moved to another Kreis, the user no longer sees the old case's Wiedervorlage.
        let far = browser.post(&app, &path, &[("csrf", &csrf), ("tag", &iso(2)), ("anlass", "Nachfassen")]).await;
        assert_eq!(far.status, 303);
        assert!(browser.get(&app, "/").await.body.contains("Nachfassen"));
        let kleve: i64 = vorgang::db::schema::organisations::table.filter(vorgang::db::schema::organisations::key.eq("05154")).select(vorgang::db::schema::organisations::id).first(&mut db.connection()).unwrap();
        diesel::update(users::table.filter(users::email.eq(COORDINATOR))).set(users::organisation_id.eq(kleve)).execute(&mut db.connection()).unwrap();
        assert!(!browser.get(&app, "/").await.body.contains("Nachfassen"));

        // Before deactivating the account, the administrator learns of its open Wiedervorlagen.
        create_user(&mut db.connection(), "admin@kreis-soest.de", "05974", &[Role::Admin], Some(PASSWORD));
        let mut admin = Browser::from("10.0.0.7:1000");
        admin.login(&app, "admin@kreis-soest.de", PASSWORD).await;
        let user_id: i64 = users::table.filter(users::email.eq(COORDINATOR)).select(users::id).first(&mut db.connection()).unwrap();
        let account = admin.get(&app, &format!("/admin/benutzer/{user_id}")).await;
        assert!(account.body.contains("3 Wiedervorlagen dieses Kontos sind offen."), "{}", account.body);
    }
}

both_backends! {
    async fn the_case_file_is_downloaded_from_the_case_page(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        create_user(&mut db.connection(), "k@kreis-kleve.de", "05154", &[Role::Koordination], Some(PASSWORD));
        let (app, api) = ui_app!(db, dir.path());
        let id = start(&mut db.connection(), &api, "05974", json!({ "zentrum_name": "KI <Soest>" }));
        let aktenzeichen = cases::load(&mut db.connection(), &api.registry, CaseId(id)).unwrap().row.aktenzeichen;
        let mut browser = Browser::from("10.0.0.8:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;

        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        let link = format!("<a href=\"/vorgaenge/{id}/akte.zip\" download>Akte als ZIP-Datei herunterladen</a>");
        assert!(page.body.contains(&link), "{}", page.body);

        let cookie = browser.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let download = actix_test::call_service(&app, TestRequest::get()
            .uri(&format!("/vorgaenge/{id}/akte.zip")).insert_header(("cookie", cookie)).to_request()).await;
        assert_eq!(download.status(), 200);
        let header = |name: &str| download.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        assert_eq!(header("content-type"), "application/zip");
        assert!(header("content-disposition").starts_with(&format!("attachment; filename=\"{aktenzeichen}.zip\"")), "{}", header("content-disposition"));
        let bytes = actix_test::read_body(download).await;
        let archive = vorgang::documents::zip::Archive::parse(&bytes).expect("a ZIP archive");
        let overview = archive.stored_content(&format!("{aktenzeichen}/akte.html"), 1 << 20).expect("the overview");
        let overview = std::str::from_utf8(overview).unwrap();
        assert!(overview.contains("<th scope=\"row\">Name des Zentrums</th><td class=\"text\">KI &lt;Soest&gt;</td>"), "{overview}");
        assert!(overview.contains("Der Vorgang hat keine Dokumente."));
        assert!(overview.contains("Es wurde niemand beteiligt."));
        // The case page's journal names who took the file.
        let page = browser.get(&app, &format!("/vorgaenge/{id}")).await;
        assert!(page.body.contains("Akte exportiert (ZIP-Archiv mit dem Journal bis Eintrag "), "{}", page.body);

        // Another Kreis gets the German page of a case that does not exist.
        let mut foreign = Browser::from("10.0.0.9:1000");
        foreign.login(&app, "k@kreis-kleve.de", PASSWORD).await;
        let hidden = foreign.get(&app, &format!("/vorgaenge/{id}/akte.zip")).await;
        assert_eq!(hidden.status, 404);
        assert!(hidden.header("content-type").starts_with("text/html"), "{}", hidden.header("content-type"));
        assert!(hidden.body.contains("Diesen Vorgang gibt es nicht."), "{}", hidden.body);
    }
}

both_backends! {
    async fn an_administrator_hands_open_wiedervorlagen_to_a_colleague(backend) {
        use vorgang::db::schema::{follow_ups, users};
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let mut conn = db.connection();
        create_user(&mut conn, COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        create_user(&mut conn, "kollegin@kreis-soest.de", "05974", &[Role::Koordination], Some(PASSWORD));
        create_user(&mut conn, "leser@kreis-soest.de", "05974", &[Role::Lesen], Some(PASSWORD));
        let gone = create_user(&mut conn, "ehemals@kreis-soest.de", "05974", &[Role::Koordination], Some(PASSWORD));
        diesel::update(users::table.find(gone.id.0)).set(users::active.eq(false)).execute(&mut conn).unwrap();
        let kleve = create_user(&mut conn, "k@kreis-kleve.de", "05154", &[Role::Koordination], Some(PASSWORD));
        create_user(&mut conn, "admin@kreis-soest.de", "05974", &[Role::Admin], Some(PASSWORD));
        drop(conn);
        let (app, api) = ui_app!(db, dir.path());
        let id = start(&mut db.connection(), &api, "05974", json!({}));
        let today = clock::now().today;
        let iso = |days: u64| (today + chrono::Days::new(days)).format("%Y-%m-%d").to_string();

        // The coordinator has three Wiedervorlagen: today's (already mailed), a later one, and
        // one closed.
        let mut leaving = Browser::from("10.0.0.3:1000");
        leaving.login(&app, COORDINATOR, PASSWORD).await;
        let csrf = leaving.csrf_token(&app, &format!("/vorgaenge/{id}")).await;
        let path = format!("/vorgaenge/{id}/wiedervorlagen");
        for (day, reason) in [(0, "Rückmeldung des Schulamts prüfen"), (20, "Sitzungstermin erfragen"), (5, "Erledigt")] {
            let set = leaving.post(&app, &path, &[("csrf", &csrf), ("tag", &iso(day)), ("anlass", reason)]).await;
            assert_eq!(set.status, 303, "{}", set.body);
        }
        let closed: i64 = follow_ups::table.filter(follow_ups::reason.eq("Erledigt")).select(follow_ups::id).first(&mut db.connection()).unwrap();
        let done = leaving.post(&app, &format!("{path}/{closed}/erledigt"), &[("csrf", &csrf)]).await;
        assert_eq!(done.status, 303, "{}", done.body);
        diesel::update(follow_ups::table.filter(follow_ups::reason.eq("Rückmeldung des Schulamts prüfen")))
            .set(follow_ups::notified_at.eq(Some(chrono::Utc::now().naive_utc())))
            .execute(&mut db.connection()).unwrap();
        let owners = || -> Vec<(String, String, bool)> {
            follow_ups::table.inner_join(users::table).order(follow_ups::reason)
                .select((follow_ups::reason, users::email, follow_ups::notified_at.is_not_null()))
                .load(&mut db.connection()).unwrap()
        };
        let before = owners();
        // And she is responsible for the case.
        let taken = leaving.post(&app, &format!("/vorgaenge/{id}/zustaendigkeit"), &[("csrf", &csrf), ("person", COORDINATOR)]).await;
        assert_eq!(taken.status, 303, "{}", taken.body);
        let responsible = || -> Vec<(String, String)> {
            use vorgang::db::schema::case_assignments;
            case_assignments::table.inner_join(users::table)
                .select((users::email, case_assignments::assigned_by))
                .load(&mut db.connection()).unwrap()
        };

        let mut admin = Browser::from("10.0.0.7:1000");
        admin.login(&app, "admin@kreis-soest.de", PASSWORD).await;
        let user_id: i64 = users::table.filter(users::email.eq(COORDINATOR)).select(users::id).first(&mut db.connection()).unwrap();
        let account = admin.get(&app, &format!("/admin/benutzer/{user_id}")).await;
        assert!(account.body.contains("<h2 id=\"wiedervorlagen\">Wiedervorlagen und Zuständigkeiten übergeben</h2>"), "{}", account.body);
        assert!(account.body.contains("<label for=\"feld-nachfolge\">Die 2 offenen Wiedervorlagen und die Zuständigkeit für 1 laufenden Vorgang dieses Kontos übernimmt</label>"), "{}", account.body);
        assert!(account.body.contains("Dieses Konto ist für einen laufenden Vorgang zuständig. Nach der Deaktivierung gelten dessen Aufgaben als niemandem zugewiesen"), "{}", account.body);
        // Only active colleagues of the same organisation who may write to its cases.
        let select = &account.body[account.body.find("id=\"feld-nachfolge\"").unwrap()..];
        let select = &select[..select.find("</select>").unwrap()];
        assert_eq!(select.matches("<option").count(), 2, "{select}");
        assert!(select.contains("(kollegin@kreis-soest.de)") && select.contains("(admin@kreis-soest.de)"), "{select}");
        let csrf_admin = account.hidden("csrf");
        let hand_over = format!("/admin/benutzer/{user_id}/wiedervorlagen");

        // Someone of another Kreis, an inactive account, a reader or no number: refused at the
        // field, nothing moves.
        for wrong in [kleve.id.0.to_string(), gone.id.0.to_string(), "keiner".to_string(), user_id.to_string()] {
            let refused = admin.post(&app, &hand_over, &[("csrf", &csrf_admin), ("nachfolge", &wrong)]).await;
            assert_eq!(refused.status, 422, "{wrong}: {}", refused.body);
            assert!(refused.body.contains("<span class=\"feldfehler\" id=\"fehler-nachfolge\">Bitte wählen Sie ein aktives Konto derselben Organisation"), "{}", refused.body);
            assert!(refused.body.contains("<a href=\"#feld-nachfolge\">"), "named at the top: {}", refused.body);
        }
        let reader: i64 = users::table.filter(users::email.eq("leser@kreis-soest.de")).select(users::id).first(&mut db.connection()).unwrap();
        let refused = admin.post(&app, &hand_over, &[("csrf", &csrf_admin), ("nachfolge", &reader.to_string())]).await;
        assert_eq!(refused.status, 422, "a reader cannot close them");
        assert_eq!(owners(), before);
        assert_eq!(responsible(), [(COORDINATOR.to_string(), COORDINATOR.to_string())]);

        // To the colleague: both open ones move, mailed again to her; the closed one stays; the
        // case is hers now, as the administrator arranged.
        let colleague: i64 = users::table.filter(users::email.eq("kollegin@kreis-soest.de")).select(users::id).first(&mut db.connection()).unwrap();
        let moved = admin.post(&app, &hand_over, &[("csrf", &csrf_admin), ("nachfolge", &colleague.to_string())]).await;
        assert_eq!(moved.location(), format!("/admin/benutzer/{user_id}?hinweis=uebergeben"));
        assert!(admin.get(&app, moved.location()).await.body.contains("Die offenen Wiedervorlagen und Zuständigkeiten wurden übergeben"));
        assert_eq!(responsible(), [("kollegin@kreis-soest.de".to_string(), "admin@kreis-soest.de".to_string())]);
        assert_eq!(owners(), [
            ("Erledigt".to_string(), COORDINATOR.to_string(), false),
            ("Rückmeldung des Schulamts prüfen".to_string(), "kollegin@kreis-soest.de".to_string(), false),
            ("Sitzungstermin erfragen".to_string(), "kollegin@kreis-soest.de".to_string(), false),
        ]);
        let mut successor = Browser::from("10.0.0.4:1000");
        successor.login(&app, "kollegin@kreis-soest.de", PASSWORD).await;
        assert!(successor.get(&app, "/").await.body.contains("Rückmeldung des Schulamts prüfen"));
        assert!(!leaving.get(&app, "/").await.body.contains("Rückmeldung des Schulamts prüfen"));
        let account = admin.get(&app, &format!("/admin/benutzer/{user_id}")).await;
        assert!(!account.body.contains("feld-nachfolge"), "nothing left to hand over");
        let unknown = admin.post(&app, "/admin/benutzer/999999/wiedervorlagen", &[("csrf", &csrf_admin), ("nachfolge", &colleague.to_string())]).await;
        assert_eq!(unknown.status, 404, "{}", unknown.body);
        // One entry in the administration's record, for the one hand-over that happened.
        use vorgang::db::schema::admin_events;
        let handed: Vec<(String, String)> = admin_events::table
            .filter(admin_events::kind.eq("follow_ups_handed_over"))
            .select((admin_events::subject, admin_events::details))
            .load(&mut db.connection())
            .unwrap();
        assert_eq!(handed.len(), 1, "{handed:?}");
        assert_eq!(handed[0].0, COORDINATOR);
        assert_eq!(serde_json::from_str::<serde_json::Value>(&handed[0].1).unwrap(), serde_json::json!({ "to": "kollegin@kreis-soest.de", "count": 2, "cases": 1 }));

        // The user list names a deactivated account whose open Wiedervorlagen nobody took over,
        // and only such an account: mailed to nobody, they wait for the administrator.
        let stranded = |body: &str| body.matches("nicht übergeben</a>").count();
        assert_eq!(stranded(&admin.get(&app, "/admin/benutzer").await.body), 0, "all accounts with open ones are active");
        diesel::update(users::table.filter(users::email.eq_any([COORDINATOR, "kollegin@kreis-soest.de"])))
            .set(users::active.eq(false)).execute(&mut db.connection()).unwrap();
        let list = admin.get(&app, "/admin/benutzer").await.body;
        assert_eq!(stranded(&list), 1, "{list}");
        assert!(list.contains(&format!("<strong>deaktiviert</strong>, <a href=\"/admin/benutzer/{colleague}#wiedervorlagen\">2 offene Wiedervorlagen und eine Zuständigkeit nicht übergeben</a>")), "{list}");
    }
}

both_backends! {
    async fn the_zustaendigkeit_is_set_on_the_case_page_and_filters_the_list(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        create_user(&mut db.connection(), "vertretung@kreis-soest.de", "05974", &[Role::Koordination], Some(PASSWORD));
        create_user(&mut db.connection(), "leser@kreis-soest.de", "05974", &[Role::Lesen], Some(PASSWORD));
        let (app, api) = ui_app!(db, dir.path());
        let id = start(&mut db.connection(), &api, "05974", json!({}));
        let other = start(&mut db.connection(), &api, "05974", json!({}));
        let mut browser = Browser::from("10.0.0.3:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;
        let page = crate::support::ui::unescape(&browser.get(&app, &format!("/vorgaenge/{id}")).await.body);
        assert!(page.contains("Niemand ist als zuständig eingetragen."), "{page}");
        // Only people who work on cases are offered; the reader is not.
        assert!(page.contains("<option value=\"vertretung@kreis-soest.de\">Test Person (vertretung@kreis-soest.de)</option>"), "{page}");
        assert!(!page.contains("value=\"leser@kreis-soest.de\""), "{page}");
        assert!(page.contains(&format!("<input type=\"hidden\" name=\"person\" value=\"{COORDINATOR}\">")), "„Mir zuweisen“: {page}");
        let csrf = browser.csrf_token(&app, &format!("/vorgaenge/{id}")).await;
        let path = format!("/vorgaenge/{id}/zustaendigkeit");

        // A forged choice: refused at the field, nothing stored.
        let forged = browser.post(&app, &path, &[("csrf", &csrf), ("person", "leser@kreis-soest.de")]).await;
        assert_eq!(forged.status, 422, "{}", forged.body);
        let forged = crate::support::ui::unescape(&forged.body);
        assert!(forged.contains("<span class=\"feldfehler\" id=\"fehler-zustaendig\">Zuständig kann nur sein, wer in Ihrer Organisation Vorgänge bearbeitet"), "{forged}");
        assert!(forged.contains("<li><a href=\"#feld-zustaendig\">"), "named at the top: {forged}");
        assert!(forged.contains("Niemand ist als zuständig eingetragen."), "{forged}");

        // „Mir zuweisen“: the case is the coordinator's, and the list filter finds it alone.
        let mine = browser.post(&app, &path, &[("csrf", &csrf), ("person", COORDINATOR)]).await;
        assert_eq!(mine.location(), format!("/vorgaenge/{id}?hinweis=zustaendigkeit#zustaendigkeit"));
        let page = crate::support::ui::unescape(&browser.get(&app, &format!("/vorgaenge/{id}?hinweis=zustaendigkeit")).await.body);
        assert!(page.contains("Die Zuständigkeit wurde gespeichert."), "{page}");
        assert!(page.contains("Zuständig: <strong>Test Person</strong>"), "{page}");
        assert!(page.contains(&format!("eingetragen von {COORDINATOR}")), "{page}");
        assert!(!page.contains("Mir zuweisen"), "already the user's: {page}");
        let list = crate::support::ui::unescape(&browser.get(&app, "/vorgaenge?zustaendig=ich").await.body);
        assert!(list.contains("1 Vorgang gefunden"), "{list}");
        assert!(list.contains(&format!("href=\"/vorgaenge/{id}\"")) && !list.contains(&format!("href=\"/vorgaenge/{other}\"")), "{list}");
        assert!(list.contains("name=\"zustaendig\" value=\"ich\" id=\"feld-zustaendig\" checked"), "{list}");
        assert!(list.contains("zustaendig=ich&amp;sort=") || list.contains("zustaendig=ich&sort="), "sorting keeps the filter: {list}");
        assert_eq!(browser.get(&app, "/vorgaenge?zustaendig=alle").await.status, 400);
        // The whole list names who works on a case, under its Aktenzeichen; so does its CSV file,
        // in the last column.
        let all = crate::support::ui::unescape(&browser.get(&app, "/vorgaenge?sort=aktenzeichen&richtung=auf").await.body);
        assert_eq!(all.matches("<span class=\"nebenangabe\">zuständig: Test Person</span>").count(), 1, "{all}");
        let file = browser.get(&app, "/vorgaenge/liste.csv?sort=aktenzeichen&richtung=auf").await.body;
        let lines: Vec<&str> = file.split("\r\n").filter(|line| !line.is_empty()).collect();
        assert!(lines[0].ends_with(";Eingereicht;Zuständig (eigene Organisation)"), "{}", lines[0]);
        assert!(lines[1].ends_with(";Test Person") && lines[2].ends_with(';'), "{file}");
        // The start page lists the assigned task first, marked; the unassigned one still follows.
        let tasks = |body: &str| body[body.find("Meine Aufgaben").unwrap()..body.find("Meine Wiedervorlagen").unwrap()].to_string();
        let start = tasks(&browser.get(&app, "/").await.body);
        let (first, second) = (start.find(&format!("href=\"/vorgaenge/{id}\"")).unwrap(), start.find(&format!("href=\"/vorgaenge/{other}\"")).unwrap());
        assert!(first < second, "{start}");
        assert_eq!(start.matches("(Ihnen zugewiesen)").count(), 1, "{start}");
        assert!(start.contains("<a href=\"/vorgaenge?zustaendig=ich&amp;status=running\">Ein laufender Vorgang, für den Sie zuständig sind</a>"), "{start}");

        // Handed to the colleague: no longer in the coordinator's list.
        browser.post(&app, &path, &[("csrf", &csrf), ("person", "vertretung@kreis-soest.de")]).await;
        let list = crate::support::ui::unescape(&browser.get(&app, "/vorgaenge?zustaendig=ich").await.body);
        assert!(list.contains("Keine Vorgänge gefunden."), "{list}");
        // It is the colleague's task now: left out of the coordinator's, said in a line.
        let start = tasks(&browser.get(&app, "/").await.body);
        assert!(!start.contains(&format!("href=\"/vorgaenge/{id}\"")) && start.contains(&format!("href=\"/vorgaenge/{other}\"")), "{start}");
        assert!(start.contains("Eine weitere Aufgabe ist Kolleginnen und Kollegen zugewiesen"), "{start}");
        assert!(!start.contains("für den Sie zuständig sind"), "{start}");
        let mut colleague = Browser::from("10.0.0.5:1000");
        colleague.login(&app, "vertretung@kreis-soest.de", PASSWORD).await;
        let theirs = tasks(&colleague.get(&app, "/").await.body);
        assert!(theirs.contains(&format!("href=\"/vorgaenge/{id}\"")) && theirs.contains("(Ihnen zugewiesen)"), "{theirs}");
        // The colleague's account is deactivated: the task is everyone's again, the page says why.
        {
            use vorgang::db::schema::users;
            diesel::update(users::table.filter(users::email.eq("vertretung@kreis-soest.de"))).set(users::active.eq(false)).execute(&mut db.connection()).unwrap();
        }
        let start = tasks(&browser.get(&app, "/").await.body);
        assert!(start.contains(&format!("href=\"/vorgaenge/{id}\"")) && !start.contains("Kolleginnen und Kollegen zugewiesen"), "{start}");
        let page = crate::support::ui::unescape(&browser.get(&app, &format!("/vorgaenge/{id}")).await.body);
        assert!(page.contains("(Konto deaktiviert; bis jemand anderes eingetragen ist, gelten die Aufgaben des Vorgangs als niemandem zugewiesen)"), "{page}");

        // Someone who only reads sees who it is, without the form.
        let mut reader = Browser::from("10.0.0.4:1000");
        reader.login(&app, "leser@kreis-soest.de", PASSWORD).await;
        let read = crate::support::ui::unescape(&reader.get(&app, &format!("/vorgaenge/{id}")).await.body);
        assert!(read.contains("Zuständig: <strong>Test Person</strong>"), "{read}");
        assert!(!read.contains(&format!("action=\"/vorgaenge/{id}/zustaendigkeit\"")), "{read}");
    }
}

both_backends! {
    async fn a_user_away_names_a_deputy_who_sees_the_due_wiedervorlagen(backend) {
        use vorgang::db::schema::{absences, users};
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let anna = create_user(&mut db.connection(), COORDINATOR, "05974", &[Role::Koordination], Some(PASSWORD));
        let ben = create_user(&mut db.connection(), "ben@kreis-soest.de", "05974", &[Role::Koordination], Some(PASSWORD));
        create_user(&mut db.connection(), "leser@kreis-soest.de", "05974", &[Role::Lesen], Some(PASSWORD));
        let kleve = create_user(&mut db.connection(), "k@kreis-kleve.de", "05154", &[Role::Koordination], Some(PASSWORD));
        for (user, name) in [(&anna, "Anna Berger"), (&ben, "Ben Kaya")] {
            diesel::update(users::table.find(user.id.0)).set(users::display_name.eq(name)).execute(&mut db.connection()).unwrap();
        }
        let (app, api) = ui_app!(db, dir.path());
        let id = start(&mut db.connection(), &api, "05974", json!({}));
        let now = clock::now();
        let allow = |_| Ok(());
        let today = now.today.format("%Y-%m-%d").to_string();
        vorgang::service::follow_ups::set(&mut db.connection(), CaseId(id), anna.id, (today.as_str(), "Rückmeldung des Schulamts prüfen"), &now, &allow).unwrap();
        // The case is Anna's: its task is hers, Ben's start page only counts it.
        let anna_principal = vorgang::auth::Principal::load(&mut db.connection(), anna.id).unwrap().unwrap();
        vorgang::service::assignments::assign(&mut db.connection(), &api.outgoing, CaseId(id), &anna_principal, Some(COORDINATOR), now.now.naive_utc(), &allow).unwrap();
        let aktenzeichen: String = vorgang::db::schema::cases::table.find(id).select(vorgang::db::schema::cases::aktenzeichen).first(&mut db.connection()).unwrap();
        let mut deputy = Browser::from("10.0.0.6:1000");
        deputy.login(&app, "ben@kreis-soest.de", PASSWORD).await;
        let before = deputy.get(&app, "/").await;
        assert!(!before.body.contains(&format!(">{aktenzeichen}</a>: Antrag")), "{}", before.body);
        assert!(before.body.contains("Eine weitere Aufgabe ist Kolleginnen und Kollegen zugewiesen"), "{}", before.body);

        let mut browser = Browser::from("10.0.0.3:1000");
        browser.login(&app, COORDINATOR, PASSWORD).await;
        let konto = browser.get(&app, "/konto").await;
        assert!(konto.body.contains("<h2 id=\"abwesenheit\">Abwesenheit und Vertretung</h2>"), "{}", konto.body);
        assert!(konto.body.contains(&format!("name=\"bis\" id=\"feld-bis\" value=\"\" min=\"{today}\" required")), "{}", konto.body);
        // Colleagues who work on cases are offered; the reader, the other Kreis and Anna are not.
        assert!(konto.body.contains(&format!("<option value=\"{}\">Ben Kaya (ben@kreis-soest.de)</option>", ben.id.0)), "{}", konto.body);
        assert!(!konto.body.contains("leser@kreis-soest.de") && !konto.body.contains("k@kreis-kleve.de") && !konto.body.contains("(k@kreis-soest.de)"), "{}", konto.body);
        let csrf = konto.hidden("csrf");

        // Nothing typed, a past day, someone of another Kreis: named at the fields, nothing stored.
        let empty = browser.post(&app, "/konto/abwesenheit", &[("csrf", &csrf), ("bis", ""), ("vertretung", "")]).await;
        assert_eq!(empty.status, 422, "{}", empty.body);
        assert!(empty.body.contains("<span class=\"feldfehler\" id=\"fehler-bis\">Bitte geben Sie den letzten Tag Ihrer Abwesenheit an.</span>"), "{}", empty.body);
        assert!(empty.body.contains("<li><a href=\"#feld-vertretung\">Bitte wählen Sie eine Kollegin oder einen Kollegen Ihrer Organisation als Vertretung.</a></li>"), "{}", empty.body);
        let yesterday = (now.today - chrono::Days::new(1)).format("%Y-%m-%d").to_string();
        let foreign = browser.post(&app, "/konto/abwesenheit", &[("csrf", &csrf), ("bis", &yesterday), ("vertretung", &kleve.id.0.to_string())]).await;
        assert_eq!(foreign.status, 422);
        assert!(foreign.body.contains("Der letzte Tag der Abwesenheit liegt in der Vergangenheit."), "{}", foreign.body);
        assert!(foreign.body.contains(&format!("value=\"{yesterday}\"")), "the input is kept: {}", foreign.body);
        assert!(foreign.body.contains("id=\"fehler-vertretung\""), "{}", foreign.body);
        let stored: i64 = absences::table.count().get_result(&mut db.connection()).unwrap();
        assert_eq!(stored, 0);

        // Away until next week, Ben standing in.
        let until = now.today + chrono::Days::new(7);
        let set = browser.post(&app, "/konto/abwesenheit", &[("csrf", &csrf), ("bis", &until.format("%d.%m.%Y").to_string()), ("vertretung", &ben.id.0.to_string())]).await;
        assert_eq!(set.location(), "/konto?hinweis=abwesenheit#abwesenheit");
        let konto = browser.get(&app, "/konto?hinweis=abwesenheit").await;
        assert!(konto.body.contains("Ihre Abwesenheit ist eingetragen."), "{}", konto.body);
        assert!(konto.body.contains(&format!("Sie sind abwesend bis <strong>{}</strong>; es vertritt Sie <strong>Ben Kaya</strong>.", until.format("%d.%m.%Y"))), "{}", konto.body);
        assert!(konto.body.contains(&format!("<option value=\"{}\" selected>", ben.id.0)), "{}", konto.body);

        // Ben's start page lists Anna's due Wiedervorlage and her case's task, marked; the
        // reader's does not. The case page says whom to turn to.
        let start_page = deputy.get(&app, "/").await;
        let tasks = &start_page.body[start_page.body.find("id=\"aufgaben\"").unwrap()..start_page.body.find("id=\"wiedervorlagen\"").unwrap()];
        assert!(tasks.contains(&format!(">{aktenzeichen}</a>: Antrag entwerfen <strong>(in Vertretung für Anna Berger)</strong>")), "{tasks}");
        assert!(!tasks.contains("Kolleginnen und Kollegen zugewiesen"), "{tasks}");
        let case_page = deputy.get(&app, &format!("/vorgaenge/{id}")).await;
        assert!(case_page.body.contains(&format!("Zuständig: <strong>Anna Berger</strong> (abwesend bis {}; es vertritt Ben Kaya)", vorgang::frist::format_date_de(until))), "{}", case_page.body);
        let section = &start_page.body[start_page.body.find("Meine Wiedervorlagen").unwrap()..start_page.body.find("id=\"fristen\"").unwrap()];
        assert!(section.contains("– Rückmeldung des Schulamts prüfen <span class=\"nebenangabe\">(in Vertretung für Anna Berger)</span>"), "{section}");
        let mut reader = Browser::from("10.0.0.7:1000");
        reader.login(&app, "leser@kreis-soest.de", PASSWORD).await;
        assert!(!reader.get(&app, "/").await.body.contains("Rückmeldung des Schulamts prüfen"));

        // Back early: Anna ends it, and Ben's start page no longer lists it.
        let csrf = browser.csrf_token(&app, "/konto").await;
        let ended = browser.post(&app, "/konto/abwesenheit/beenden", &[("csrf", &csrf)]).await;
        assert_eq!(ended.location(), "/konto?hinweis=abwesenheit-beendet#abwesenheit");
        let stored: i64 = absences::table.count().get_result(&mut db.connection()).unwrap();
        assert_eq!(stored, 0);
        let after = deputy.get(&app, "/").await;
        assert!(!after.body.contains("Rückmeldung des Schulamts prüfen"));
        assert!(!after.body.contains("in Vertretung für"), "{}", after.body);
        assert!(!deputy.get(&app, &format!("/vorgaenge/{id}")).await.body.contains("abwesend bis"));
    }
}

/// The case page's diagram: the titles of the steps marked current and done, read from the SVG.
fn diagram_marks(body: &str) -> (Vec<String>, Vec<String>) {
    let start = body
        .find("<details class=\"ablauf\">")
        .expect("the diagram on the case page");
    let svg_start = start + body[start..].find("<svg").unwrap();
    let svg_end = svg_start + body[svg_start..].find("</svg>").unwrap() + "</svg>".len();
    let svg = &body[svg_start..svg_end];
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}: {svg}"));
    let desc = doc
        .descendants()
        .find(|n| n.has_tag_name("desc"))
        .and_then(|n| n.text())
        .unwrap_or_default();
    let titled = |class: &str| -> Vec<String> {
        doc.descendants()
            .filter(|n| {
                n.attribute("class")
                    .is_some_and(|c| c.split(' ').any(|c| c == class))
            })
            .map(|g| {
                let title = g
                    .children()
                    .find(|n| n.has_tag_name("title"))
                    .and_then(|n| n.text())
                    .unwrap();
                // „{title}“ (step) – mark
                title[title.find('„').unwrap() + '„'.len_utf8()..title.find('“').unwrap()]
                    .to_string()
            })
            .collect()
    };
    let current = titled("schritt-aktuell");
    for title in &current {
        assert!(
            desc.starts_with("Der Vorgang steht bei: ") && desc.contains(&format!("„{title}“")),
            "{desc}"
        );
    }
    (current, titled("schritt-erledigt"))
}
