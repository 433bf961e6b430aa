//! Beteiligung end to end in process, on both databases: entering the consultation writes one
//! invitation mail per partner with a personal link; the link opens the answer page; answers
//! and amendments are recorded (journal, matrix, confirmation mail); every kind of bad link is
//! refused and records nothing; user text is escaped in HTML and left alone in plain text.

use actix_web::http::StatusCode;
use actix_web::test as actix_test;
use base64::Engine as _;
use diesel::prelude::*;
use mail_parser::MimeHeaders;
use serde_json::{Value, json};
use vorgang::db::models::Role;
use vorgang::db::schema::{answers, case_events, outbox};

use crate::support::TestDatabase;
use crate::support::auth::{create_user, test_auth};

/// The full application of the Kreis Soest, ready for the Beteiligung (shared fixture).
pub fn application() -> Value {
    serde_json::from_str(include_str!("../fixtures/antrag-kreis-soest.json"))
        .expect("the fixture is JSON")
}

struct Reply {
    status: StatusCode,
    headers: actix_web::http::header::HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

macro_rules! send {
    ($app:expr, $request:expr) => {{
        let response = actix_test::call_service(&$app, $request.to_request()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = actix_test::read_body(response).await;
        Reply {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }};
}

fn bearer(token: &str) -> (&'static str, String) {
    ("Authorization", format!("Bearer {token}"))
}

/// An outbox row: (template, to, subject, text, html, invitation id).
pub type Mail = (String, Vec<String>, String, String, String, Option<i64>);

/// The outbox rows, oldest first.
pub fn mails(db: &TestDatabase) -> Vec<Mail> {
    let rows: Vec<(String, String, String, Option<i64>)> = outbox::table
        .order(outbox::id)
        .select((
            outbox::template,
            outbox::subject,
            outbox::rendered,
            outbox::invitation_id,
        ))
        .load(&mut db.connection())
        .unwrap();
    rows.into_iter()
        .map(|(template, subject, rendered, invitation)| {
            let rendered: Value = serde_json::from_str(&rendered).unwrap();
            let to = rendered["to"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            (
                template,
                to,
                subject,
                rendered["text"].as_str().unwrap().to_string(),
                rendered["html"].as_str().unwrap().to_string(),
                invitation,
            )
        })
        .collect()
}

/// The `Reply-To` of each outbox row of `template`, oldest first.
fn reply_to(db: &TestDatabase, template: &str) -> Vec<Option<String>> {
    outbox::table
        .filter(outbox::template.eq(template))
        .order(outbox::id)
        .select(outbox::rendered)
        .load::<String>(&mut db.connection())
        .unwrap()
        .iter()
        .map(|rendered| {
            let rendered: Value = serde_json::from_str(rendered).unwrap();
            rendered["reply_to"].as_str().map(str::to_owned)
        })
        .collect()
}

/// The personal link's token from a plain-text mail.
pub fn token_in(text: &str) -> String {
    let start = text
        .find("https://vorgang.test/beteiligung/")
        .expect("link in mail")
        + "https://vorgang.test/beteiligung/".len();
    text[start..]
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap()
        .to_string()
}

fn counts(db: &TestDatabase) -> (i64, i64) {
    let mut conn = db.connection();
    let answers: i64 = answers::table.count().get_result(&mut conn).unwrap();
    let events: i64 = case_events::table.count().get_result(&mut conn).unwrap();
    (answers, events)
}

both_backends! {
    async fn partners_answer_through_their_personal_link(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let coordinator = create_user(&mut db.connection(), "k@kreis-soest.de", "05974", &[Role::Koordination], None);
        let staff = crate::support::auth::staff_token(&coordinator);
        let pool = db.pool(4);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;

        let created = send!(app, actix_test::TestRequest::post().uri("/api/v1/cases").insert_header(bearer(&staff))
            .set_json(json!({ "workflow": "ki-antrag", "data": application() })));
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let case = created.json();
        let id = case["id"].as_i64().unwrap();
        let aktenzeichen = case["aktenzeichen"].as_str().unwrap().to_string();
        let started = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/actions/beteiligung_starten"))
            .insert_header(bearer(&staff)).set_json(json!({ "version": 1 })));
        assert_eq!(started.status, StatusCode::OK, "{}", started.text);

        // One invitation per partner, to its mailbox, with the Aktenzeichen and no personal data
        // in the subject, and the link intact in the plain-text part.
        let invitations: Vec<_> = mails(&db).into_iter().filter(|m| m.0 == "beteiligung_einladung").collect();
        assert_eq!(invitations.len(), 2);
        let schulamt = invitations.iter().find(|m| m.1 == ["schulamt@kreis-soest.test"]).unwrap();
        let jugendamt = invitations.iter().find(|m| m.1 == ["jugendamt@kreis-soest.test"]).unwrap();
        assert!(schulamt.2.contains(&aktenzeichen), "{}", schulamt.2);
        assert!(!schulamt.2.contains("Beispiel") && !schulamt.2.contains("Muster"), "{}", schulamt.2);
        // The applicant as written in text, not its bare area name („Soest“ is also a town).
        assert!(schulamt.3.contains("Sehr geehrte Damen und Herren,\n\nder Kreis Soest bittet Sie"), "{}", schulamt.3);
        assert!(schulamt.3.contains("Integrationskonzept"), "the question: {}", schulamt.3);
        let token = token_in(&schulamt.3);
        assert!(schulamt.4.contains(&format!("href=\"https://vorgang.test/beteiligung/{token}\"")), "{}", schulamt.4);
        assert!(schulamt.5.is_some());
        // A partner who answers the mail reaches the applicant's contact, not the sender nobody reads.
        let contact = application()["antragsteller"]["email"].as_str().unwrap().to_string();
        assert_eq!(reply_to(&db, "beteiligung_einladung"), [Some(contact.clone()), Some(contact.clone())]);

        // The page: who asks, what, the deadline; strict headers; only partner-visible data.
        let page = send!(app, actix_test::TestRequest::get().uri(&format!("/beteiligung/{token}")));
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(page.text.contains("<html lang=\"de\">"));
        assert!(page.text.contains(&aktenzeichen));
        assert!(page.text.contains("Der Kreis Soest bittet Sie um eine Stellungnahme."), "{}", page.text);
        assert!(page.text.contains("<dt>Angefragte Stelle</dt><dd>Schulamt für den Kreis Soest</dd>"), "{}", page.text);
        assert!(page.text.contains("Kommunales Integrationszentrum Kreis Soest"));
        assert!(page.text.contains("02921 30-0"), "the applicant's contact is partner-visible");
        assert!(!page.text.contains("Nach Nr. 2 des Erlasses zu beteiligende Stellen"), "fields not marked partner-visible stay hidden");
        // Organisations by their names, not their keys.
        assert!(page.text.contains("Schulamt für den Kreis Soest, Jugendamt des Kreises Soest"), "{}", page.text);
        assert!(!page.text.contains("SCHULAMT-SO"), "{}", page.text);
        assert!(page.header("content-security-policy").contains("frame-ancestors 'none'"));
        assert!(!page.header("content-security-policy").contains("unsafe-inline"));
        assert_eq!(page.header("referrer-policy"), "no-referrer");
        assert_eq!(page.header("x-content-type-options"), "nosniff");

        // Bad input: nothing recorded, German messages next to the fields.
        let before = counts(&db);
        let incomplete = send!(app, actix_test::TestRequest::post().uri(&format!("/beteiligung/{token}"))
            .set_form([("votum", "bedenken"), ("stellungnahme", ""), ("name", "")]));
        assert_eq!(incomplete.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(incomplete.text.contains("Bitte begründen Sie Ihr Votum"));
        assert!(incomplete.text.contains("href=\"#feld-name\""));
        assert_eq!(counts(&db), before);

        // A real answer with markup in it.
        let answered = send!(app, actix_test::TestRequest::post().uri(&format!("/beteiligung/{token}"))
            .set_form([("votum", "bedenken"), ("stellungnahme", "<script>alert(1)</script> Die Räume fehlen."),
                       ("name", "Frau Muster"), ("funktion", "Schulrätin")]));
        assert_eq!(answered.status, StatusCode::OK, "{}", answered.text);
        assert!(answered.text.contains("Vielen Dank"));
        let again = send!(app, actix_test::TestRequest::get().uri(&format!("/beteiligung/{token}")));
        assert!(again.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "escaped on the page");
        assert!(!again.text.contains("<script>"));

        // The confirmation carries a copy: escaped in HTML, verbatim in plain text.
        let confirmation = mails(&db).into_iter().find(|m| m.0 == "beteiligung_bestaetigung").unwrap();
        assert_eq!(confirmation.1, ["schulamt@kreis-soest.test"]);
        assert!(confirmation.3.contains("Integrationszentrums“ (Aktenzeichen "), "{}", confirmation.3);
        assert!(confirmation.3.contains(") vom Kreis Soest. Sie ist am"), "{}", confirmation.3);
        assert!(confirmation.3.contains("<script>alert(1)</script> Die Räume fehlen."));
        assert!(confirmation.4.contains("&lt;script&gt;"));
        assert!(!confirmation.4.contains("<script>"));

        // The coordinator's matrix and the journal show it.
        let matrix = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/consultations")).insert_header(bearer(&staff)));
        assert_eq!(matrix.status, StatusCode::OK, "{}", matrix.text);
        let rows = matrix.json();
        let row = rows.as_array().unwrap().iter().find(|r| r["organisation"] == "SCHULAMT-SO").unwrap();
        assert_eq!(row["status"], "answered");
        assert_eq!(row["votum"], "bedenken");
        assert_eq!(row["versions"], 1);
        assert_eq!(row["late"], false);
        assert!(row["deadline"].is_string());
        for field in ["invited_at", "answered_at"] {
            assert!(crate::support::api::is_utc_instant(&row[field]), "{field}: {}", row[field]);
        }
        let journal = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/journal")).insert_header(bearer(&staff)));
        assert!(journal.json().as_array().unwrap().iter().any(|e| e["kind"] == "answer_recorded"));

        // Amending through the API keeps both versions.
        let amended = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/beteiligung/{token}"))
            .set_json(json!({ "votum": "zustimmung_mit_hinweisen", "stellungnahme": "Räume sind gefunden.", "name": "Frau Muster" })));
        assert_eq!(amended.status, StatusCode::OK, "{}", amended.text);
        let versions = amended.json()["antworten"].as_array().unwrap().len();
        assert_eq!(versions, 2);
        let invalid = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/beteiligung/{token}"))
            .set_json(json!({ "votum": "vielleicht", "name": "" })));
        assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(invalid.header("content-type"), "application/problem+json");
        assert!(invalid.json()["errors"].as_array().unwrap().iter().any(|e| e["pointer"] == "/votum"));

        // Token abuse: refused with a German page, nothing recorded.
        let before = counts(&db);
        let jugendamt_token = token_in(&jugendamt.3);
        let mut altered = jugendamt_token.clone();
        let last = altered.pop().unwrap();
        altered.push(if last == 'A' { 'B' } else { 'A' });
        let parts: Vec<&str> = jugendamt_token.split('.').collect();
        let claims: Value = serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        let none_header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let alg_none = format!("{none_header}.{}.", parts[1]);
        let key = jsonwebtoken::EncodingKey::from_secret(crate::support::auth::TEST_SECRET.as_bytes());
        let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        let mut other_invitation = claims.clone();
        other_invitation["inv"] = json!(schulamt.5.unwrap());
        let other_invitation = jsonwebtoken::encode(&header, &other_invitation, &key).unwrap();
        let mut expired = claims.clone();
        expired["iat"] = json!(1_700_000_000);
        expired["exp"] = json!(1_700_000_600);
        let expired = jsonwebtoken::encode(&header, &expired, &key).unwrap();
        for (bad, status) in [
            (altered.as_str(), StatusCode::FORBIDDEN),
            (alg_none.as_str(), StatusCode::FORBIDDEN),
            (staff.as_str(), StatusCode::FORBIDDEN),
            (other_invitation.as_str(), StatusCode::FORBIDDEN),
            (expired.as_str(), StatusCode::GONE),
            ("kein-token", StatusCode::FORBIDDEN),
        ] {
            let page = send!(app, actix_test::TestRequest::get().uri(&format!("/beteiligung/{bad}")));
            assert_eq!(page.status, status, "{bad}");
            assert!(page.text.contains("<html lang=\"de\">") && page.text.contains("Link"), "{}", page.text);
            let post = send!(app, actix_test::TestRequest::post().uri(&format!("/beteiligung/{bad}"))
                .set_form([("votum", "zustimmung"), ("name", "Eindringling")]));
            assert_eq!(post.status, status, "{bad}");
            let api = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/beteiligung/{bad}"))
                .set_json(json!({ "votum": "zustimmung", "name": "Eindringling" })));
            assert_eq!(api.status, status, "{bad}");
            assert_eq!(api.header("content-type"), "application/problem+json");
        }
        // A partner link is no staff token.
        let as_staff = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}")).insert_header(bearer(&jugendamt_token)));
        assert_eq!(as_staff.status, StatusCode::UNAUTHORIZED);
        assert_eq!(counts(&db), before);

        // Re-sending revokes the old link; the new one works.
        let jugendamt_invitation = jugendamt.5.unwrap();
        let resent = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/consultations/{jugendamt_invitation}/resend")).insert_header(bearer(&staff)));
        assert_eq!(resent.status, StatusCode::OK, "{}", resent.text);
        let revoked = send!(app, actix_test::TestRequest::get().uri(&format!("/beteiligung/{jugendamt_token}")));
        assert_eq!(revoked.status, StatusCode::GONE);
        let fresh = mails(&db).into_iter().rev().find(|m| m.0 == "beteiligung_einladung" && m.5 == Some(jugendamt_invitation)).unwrap();
        let fresh_token = token_in(&fresh.3);
        assert_ne!(fresh_token, jugendamt_token);

        // The last answer completes the consultation; the office is told the result.
        let last = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/beteiligung/{fresh_token}"))
            .set_json(json!({ "votum": "zustimmung", "name": "Herr Jugend", "funktion": "Amtsleiter" })));
        assert_eq!(last.status, StatusCode::OK, "{}", last.text);
        let result = mails(&db).into_iter().find(|m| m.0 == "beteiligung_abgeschlossen").unwrap();
        assert_eq!(result.1, ["k@kreis-soest.de"]);
        assert_eq!(reply_to(&db, "beteiligung_abgeschlossen"), [Some(contact.clone())], "the coordinator's answer goes to the contact too");
        assert!(result.3.contains("Schulamt für den Kreis Soest: Zustimmung mit Hinweisen"), "{}", result.3);
        let case = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}")).insert_header(bearer(&staff)));
        assert_eq!(case.json()["active_steps"][0]["step"], "auswertung");
        // Now the page is read-only and says so; answering is refused.
        let closed = send!(app, actix_test::TestRequest::get().uri(&format!("/beteiligung/{token}")));
        assert_eq!(closed.status, StatusCode::OK);
        assert!(closed.text.contains("Die Beteiligung ist abgeschlossen"));
        assert!(!closed.text.contains("<form"));
        let refused = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/beteiligung/{token}"))
            .set_json(json!({ "votum": "zustimmung", "name": "Frau Muster" })));
        assert_eq!(refused.status, StatusCode::CONFLICT);
    }
}

/// Waits until the server's worker delivered `count` mails.
fn received(
    smtp: &crate::support::smtp::SmtpServer,
    count: usize,
) -> Vec<crate::support::smtp::Received> {
    let mails = smtp.wait_for(count, std::time::Duration::from_secs(60));
    assert!(
        mails.len() >= count,
        "only {} of {count} mails arrived",
        mails.len()
    );
    mails
}

both_backends! {
    fn the_full_path_from_the_received_mail_to_the_matrix(backend) {
        use crate::support::process::{RunningServer, http};
        let db = TestDatabase::migrated(backend);
        {
            let mut conn = db.connection();
            crate::support::partners::add_partners(&mut conn);
            create_user(&mut conn, "k@kreis-soest.de", "05974", &[Role::Koordination], Some("ein-sehr-gutes-passwort"));
        }
        let smtp = crate::support::smtp::SmtpServer::start();
        let dir = tempfile::tempdir().unwrap();
        let workflows = crate::support::partners::root().join("workflows");
        let server = RunningServer::start(dir.path(), &[
            ("VORGANG_DATABASE_URL", &db.url_text()),
            ("VORGANG_WORKFLOWS_DIR", workflows.to_str().unwrap()),
            ("VORGANG_MAIL_URL", &format!("smtp://127.0.0.1:{}?tls=none", smtp.port)),
            ("VORGANG_MAIL_FROM", "Kreis Soest – Beteiligung <beteiligung@kreis-soest.test>"),
            ("VORGANG_PUBLIC_URL", "https://vorgang.kreis-soest.test"),
        ]);
        let client = http();
        let mut login = client.post(server.url("/api/v1/auth/token"))
            .send_json(json!({ "email": "k@kreis-soest.de", "password": "ein-sehr-gutes-passwort" })).unwrap();
        assert_eq!(login.status(), 200);
        let token = login.body_mut().read_json::<Value>().unwrap()["token"].as_str().unwrap().to_string();
        let auth = format!("Bearer {token}");
        let mut created = client.post(server.url("/api/v1/cases")).header("Authorization", &auth)
            .send_json(json!({ "workflow": "ki-antrag", "data": application() })).unwrap();
        assert_eq!(created.status(), 201);
        let case: Value = created.body_mut().read_json().unwrap();
        let id = case["id"].as_i64().unwrap();
        let aktenzeichen = case["aktenzeichen"].as_str().unwrap().to_string();
        let started = client.post(server.url(&format!("/api/v1/cases/{id}/actions/beteiligung_starten")))
            .header("Authorization", &auth).send_json(json!({ "version": 1 })).unwrap();
        assert_eq!(started.status(), 200);

        // The invitations arrive at the partners' mailboxes.
        let mails = received(&smtp, 2);
        let invitation = mails.iter().find(|m| m.to == ["schulamt@kreis-soest.test"]).expect("mail to the Schulamt");
        assert_eq!(invitation.from, "beteiligung@kreis-soest.test");
        let parsed = invitation.parsed();
        assert!(parsed.message_id().is_some_and(|m| m.ends_with("@vorgang.kreis-soest.test")));
        assert!(parsed.date().is_some());
        assert_eq!(parsed.from().and_then(|f| f.first()).and_then(|a| a.name()), Some("Kreis Soest – Beteiligung"));
        let subject = parsed.subject().unwrap().to_string();
        assert!(subject.contains(&aktenzeichen), "{subject}");
        let root = parsed.content_type().unwrap();
        assert_eq!((root.ctype(), root.subtype()), ("multipart", Some("alternative")));
        let text = parsed.body_text(0).unwrap().replace("\r\n", "\n");
        assert!(text.contains("Sehr geehrte Damen und Herren") && text.contains("Stellungnahme"), "{text}");
        assert!(text.contains("Über diesen persönlichen Link"), "umlauts survive: {text}");
        assert!(text.contains("Mit freundlichen Grüßen\nKreis Soest, Fachbereich Bildung"), "closing block with the office: {text}");
        let prefix = "https://vorgang.kreis-soest.test";
        let start = text.find(&format!("{prefix}/beteiligung/")).expect("the personal link");
        let link = text[start..].split_whitespace().next().unwrap().to_string();
        let html = parsed.body_html(0).unwrap();
        assert!(html.contains(&format!("href=\"{link}\"")), "{html}");

        // The partner opens the link and answers.
        let path = link.trim_start_matches(prefix).to_string();
        let mut page = client.get(server.url(&path)).call().unwrap();
        assert_eq!(page.status(), 200);
        let body = page.body_mut().read_to_string().unwrap();
        assert!(body.contains(&aktenzeichen) && body.contains("<form"), "{body}");
        let mut answered = client.post(server.url(&path))
            .send_form([("votum", "zustimmung_mit_hinweisen"), ("stellungnahme", "Bitte die Schulsozialarbeit einbeziehen."),
                        ("name", "Frau Muster"), ("funktion", "Schulrätin")]).unwrap();
        assert_eq!(answered.status(), 200);
        assert!(answered.body_mut().read_to_string().unwrap().contains("Vielen Dank"));

        // The coordinator sees it in the matrix and the journal; the partner gets a copy.
        let mut matrix = client.get(server.url(&format!("/api/v1/cases/{id}/consultations"))).header("Authorization", &auth).call().unwrap();
        let rows: Value = matrix.body_mut().read_json().unwrap();
        let row = rows.as_array().unwrap().iter().find(|r| r["organisation"] == "SCHULAMT-SO").unwrap();
        assert_eq!(row["votum"], "zustimmung_mit_hinweisen");
        assert_eq!(row["status"], "answered");
        let mut journal = client.get(server.url(&format!("/api/v1/cases/{id}/journal"))).header("Authorization", &auth).call().unwrap();
        let entries: Value = journal.body_mut().read_json().unwrap();
        assert!(entries.as_array().unwrap().iter().any(|e| e["kind"] == "answer_recorded" && e["payload"]["participant"] == "SCHULAMT-SO"));
        let mails = received(&smtp, 3);
        let copy = mails.iter().find(|m| m.parsed().subject().is_some_and(|s| s.contains("eingegangen"))).expect("confirmation");
        assert_eq!(copy.to, ["schulamt@kreis-soest.test"]);
        assert!(copy.parsed().body_text(0).unwrap().contains("Bitte die Schulsozialarbeit einbeziehen."));
        drop(server);
    }
}

both_backends! {
    async fn after_the_deadline_the_page_is_read_only_and_records_nothing(backend) {
        use vorgang::service::cases::{self, Invocation};
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let pool = db.pool(4);
        let api = crate::support::api::state(&pool, dir.path());
        // Invited five weeks ago: the four-week deadline has passed, the link is still valid
        // (deadline plus the grace period for reading).
        let then = vorgang::service::clock::at(chrono::Utc::now() - chrono::TimeDelta::days(35));
        {
            let ctx = api.case_context();
            let mut conn = pool.get().unwrap();
            let soest = vorgang::db::models::Organisation::find_by_key(&mut conn, "05974").unwrap().unwrap();
            let actor = vorgang::engine::Actor { id: "k@kreis-soest.de".into(), roles: vec!["koordination".into()] };
            let case = cases::start_case(&mut conn, &ctx, "ki-antrag", &soest, application(), &actor, &then).unwrap();
            let allow = |_| Ok(());
            let call = Invocation { actor: &actor, clock: &then, check: &allow };
            cases::take_action(&mut conn, &ctx, case.row.id, 1, "beteiligung_starten", None, None, call).unwrap();
        }
        let invitation = mails(&db).into_iter().find(|m| m.0 == "beteiligung_einladung").unwrap();
        let token = token_in(&invitation.3);
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;

        let page = send!(app, actix_test::TestRequest::get().uri(&format!("/beteiligung/{token}")));
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text.contains("abgelaufen"), "{}", page.text);
        assert!(!page.text.contains("<form"), "read-only after the deadline");
        let before = counts(&db);
        let late = send!(app, actix_test::TestRequest::post().uri(&format!("/beteiligung/{token}"))
            .set_form([("votum", "zustimmung"), ("name", "Frau Spät")]));
        assert_eq!(late.status, StatusCode::CONFLICT);
        assert!(late.text.contains("abgelaufen"));
        let api_late = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/beteiligung/{token}"))
            .set_json(json!({ "votum": "zustimmung", "name": "Frau Spät" })));
        assert_eq!(api_late.status, StatusCode::CONFLICT);
        // Nor does it take a notice that the partner is not competent.
        let notice = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/beteiligung/{token}/not-responsible"))
            .set_json(json!({ "grund": "Nicht unsere Aufgabe", "name": "Frau Spät" })));
        assert_eq!(notice.status, StatusCode::CONFLICT, "{}", notice.text);
        assert!(notice.json()["detail"].as_str().unwrap().contains("abgelaufen"), "{}", notice.text);
        assert_eq!(counts(&db), before, "nothing recorded");
        let json = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/beteiligung/{token}")));
        assert_eq!(json.json()["kann_antworten"], false);
    }
}

both_backends! {
    async fn a_stellungnahme_that_reached_the_office_in_time_counts_as_in_time_when_entered_later(backend) {
        use vorgang::service::cases::{self, Invocation};
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let coordinator = create_user(&mut db.connection(), "k@kreis-soest.de", "05974", &[Role::Koordination], None);
        let staff = crate::support::auth::staff_token(&coordinator);
        let pool = db.pool(4);
        let api = crate::support::api::state(&pool, dir.path());
        // Invited five weeks ago: the four-week deadline has passed, its timer has not fired yet.
        let then = vorgang::service::clock::at(chrono::Utc::now() - chrono::TimeDelta::days(35));
        let id = {
            let ctx = api.case_context();
            let mut conn = pool.get().unwrap();
            let soest = vorgang::db::models::Organisation::find_by_key(&mut conn, "05974").unwrap().unwrap();
            let actor = vorgang::engine::Actor { id: "k@kreis-soest.de".into(), roles: vec!["koordination".into()] };
            let case = cases::start_case(&mut conn, &ctx, "ki-antrag", &soest, application(), &actor, &then).unwrap();
            let allow = |_| Ok(());
            let call = Invocation { actor: &actor, clock: &then, check: &allow };
            cases::take_action(&mut conn, &ctx, case.row.id, 1, "beteiligung_starten", None, None, call).unwrap();
            case.row.id.0
        };
        let app = actix_test::init_service(vorgang::web::app(pool.clone(), test_auth(), api.clone())).await;
        let matrix = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/consultations")).insert_header(bearer(&staff)));
        let rows = matrix.json().as_array().unwrap().clone();
        let invitation = |key: &str| rows.iter().find(|r| r["organisation"] == key).unwrap()["invitation"].as_i64().unwrap();
        let deadline: chrono::NaiveDate = rows[0]["deadline"].as_str().unwrap().parse().unwrap();
        let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
        let letter = |received: String| json!({ "votum": "zustimmung", "name": "Frau Muster", "funktion": "Schulrätin",
                                                "eingang": "post", "eingegangen_am": received });
        let uri = format!("/api/v1/cases/{id}/consultations/{}/answer", invitation("SCHULAMT-SO"));
        let before = counts(&db);

        // A day of receipt in the future, before the invitation, or no date at all is named at
        // its field; one after the deadline is refused as late (ki-antrag takes no late answers).
        let today = vorgang::service::clock::now().today;
        let invited = then.today;
        for (received, message) in [
            (day(today + chrono::TimeDelta::days(1)), "in der Zukunft".to_string()),
            (day(invited - chrono::TimeDelta::days(1)), format!("vor der Einladung vom {}", invited.format("%d.%m.%Y"))),
            ("31.02.2026".to_string(), "als Datum".to_string()),
        ] {
            let refused = send!(app, actix_test::TestRequest::post().uri(&uri).insert_header(bearer(&staff)).set_json(letter(received.clone())));
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{received}: {}", refused.text);
            let errors = refused.json()["errors"].clone();
            assert_eq!(errors[0]["pointer"], "/eingegangen_am", "{received}: {}", refused.text);
            assert!(errors[0]["message"].as_str().unwrap().contains(&message), "{received}: {}", refused.text);
        }
        let late = send!(app, actix_test::TestRequest::post().uri(&uri).insert_header(bearer(&staff))
            .set_json(letter(day(deadline + chrono::TimeDelta::days(1)))));
        assert_eq!(late.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", late.text);
        assert_eq!(late.json()["errors"][0]["pointer"], "/eingegangen_am", "{}", late.text);
        assert!(late.json()["errors"][0]["message"].as_str().unwrap().contains("abgelaufen"), "{}", late.text);
        assert_eq!(counts(&db), before, "nothing recorded");

        // The letter that came on the last day counts as in time, a week after the deadline.
        let recorded = send!(app, actix_test::TestRequest::post().uri(&uri).insert_header(bearer(&staff)).set_json(letter(day(deadline))));
        assert_eq!(recorded.status, StatusCode::OK, "{}", recorded.text);
        let row = recorded.json().as_array().unwrap().iter().find(|r| r["organisation"] == "SCHULAMT-SO").unwrap().clone();
        assert_eq!((row["status"].as_str(), row["late"].as_bool()), (Some("answered"), Some(false)), "{row}");
        assert_eq!(row["received_on"], day(deadline));
        let journal = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/journal")).insert_header(bearer(&staff)));
        let answered = journal.json().as_array().unwrap().iter().find(|e| e["kind"] == "answer_recorded").unwrap().clone();
        assert_eq!(answered["payload"]["received_on"], day(deadline));
        assert_eq!(answered["payload"].get("late"), None, "not late");
        let confirmation = mails(&db).into_iter().find(|m| m.0 == "beteiligung_bestaetigung").unwrap();
        assert!(confirmation.3.contains(&format!("(am {} per Post eingegangen", deadline.format("%d.%m.%Y"))), "{}", confirmation.3);
        assert!(confirmation.3.contains(&format!("Sie ist am {} bei uns eingegangen und wurde am ", deadline.format("%d.%m.%Y"))), "{}", confirmation.3);

        // The deadline's timer closes the consultation; a letter that had come in time is
        // still taken, as in time, and the case stays where the deadline moved it.
        {
            let ctx = api.case_context();
            let mut conn = pool.get().unwrap();
            let now = vorgang::service::clock::now();
            vorgang::scheduler::timers::run_due(&mut conn, &ctx, "t", vorgang::engine::TimerKind::Flow, &now, chrono::TimeDelta::minutes(5), &|| false).unwrap();
        }
        let closed = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}")).insert_header(bearer(&staff)));
        let steps = closed.json()["active_steps"].clone();
        assert_ne!(steps[0]["step"], "beteiligung", "{steps}");
        let jugendamt = format!("/api/v1/cases/{id}/consultations/{}/answer", invitation("05974-JA"));
        let entered = send!(app, actix_test::TestRequest::post().uri(&jugendamt).insert_header(bearer(&staff)).set_json(letter(day(deadline))));
        assert_eq!(entered.status, StatusCode::OK, "{}", entered.text);
        let row = entered.json().as_array().unwrap().iter().find(|r| r["organisation"] == "05974-JA").unwrap().clone();
        assert_eq!((row["status"].as_str(), row["late"].as_bool()), (Some("answered"), Some(false)), "{row}");
        let after = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}")).insert_header(bearer(&staff)));
        assert_eq!(after.json()["active_steps"], steps);
        let report = vorgang::journal::verify(&mut db.connection()).unwrap();
        assert!(report.intact(), "{:?}", report.breaks);
    }
}

both_backends! {
    async fn a_partners_deadline_is_extended_on_request(backend) {
        use vorgang::db::schema::timers;
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let coordinator = create_user(&mut db.connection(), "k@kreis-soest.de", "05974", &[Role::Koordination], None);
        let reader = create_user(&mut db.connection(), "l@kreis-soest.de", "05974", &[Role::Lesen], None);
        let staff = crate::support::auth::staff_token(&coordinator);
        let reader = crate::support::auth::staff_token(&reader);
        let pool = db.pool(4);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;
        let created = send!(app, actix_test::TestRequest::post().uri("/api/v1/cases").insert_header(bearer(&staff))
            .set_json(json!({ "workflow": "ki-antrag", "data": application() })));
        let id = created.json()["id"].as_i64().unwrap();
        let started = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/actions/beteiligung_starten"))
            .insert_header(bearer(&staff)).set_json(json!({ "version": 1 })));
        assert_eq!(started.status, StatusCode::OK, "{}", started.text);
        let old_token = token_in(&mails(&db).into_iter().find(|m| m.0 == "beteiligung_einladung").unwrap().3);
        let matrix = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/consultations")).insert_header(bearer(&staff)));
        let rows = matrix.json().as_array().unwrap().clone();
        let schulamt = rows.iter().find(|r| r["organisation"] == "SCHULAMT-SO").unwrap()["invitation"].as_i64().unwrap();
        let deadline: chrono::NaiveDate = rows[0]["deadline"].as_str().unwrap().parse().unwrap();
        let calendar = vorgang::frist::HolidayCalendar::for_land("NW").unwrap();
        let working = |mut day: chrono::NaiveDate| {
            while calendar.is_working_day(day) != Ok(true) {
                day = day.succ_opt().unwrap();
            }
            day
        };
        let saturday = (1..8).map(|n| deadline + chrono::TimeDelta::days(n)).find(|d| chrono::Datelike::weekday(d) == chrono::Weekday::Sat).unwrap();
        let until = working(deadline + chrono::TimeDelta::days(14));
        let iso = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
        let uri = format!("/api/v1/cases/{id}/consultations/{schulamt}/deadline");
        let state = |db: &TestDatabase| (counts(db), mails(db).len(), timers::table.count().get_result::<i64>(&mut db.connection()).unwrap());
        let before = state(&db);

        // A reader may not; a day that is no extension, no date or no working day is named at
        // `/frist`; an unknown invitation is 404; nothing changes.
        let refused = send!(app, actix_test::TestRequest::post().uri(&uri).insert_header(bearer(&reader)).set_json(json!({ "frist": iso(until) })));
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
        for (frist, message) in [(iso(deadline), "nach der bisherigen"), ("bald".to_string(), "als Datum"), (iso(saturday), "kein Werktag (Samstag)")] {
            let invalid = send!(app, actix_test::TestRequest::post().uri(&uri).insert_header(bearer(&staff)).set_json(json!({ "frist": frist })));
            assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY, "{frist}: {}", invalid.text);
            assert_eq!(invalid.json()["errors"][0]["pointer"], "/frist", "{}", invalid.text);
            assert!(invalid.json()["errors"][0]["message"].as_str().unwrap().contains(message), "{frist}: {}", invalid.text);
        }
        let unknown = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/consultations/999999/deadline"))
            .insert_header(bearer(&staff)).set_json(json!({ "frist": iso(until) })));
        assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
        assert_eq!(state(&db), before, "nothing changed");

        // Extended: the Schulamt's deadline moves, the others' stays, the consultation closes
        // after the new one, and the Schulamt gets a mail with the day and a fresh link.
        let extended = send!(app, actix_test::TestRequest::post().uri(&uri).insert_header(bearer(&staff))
            .set_json(json!({ "frist": iso(until), "grund": "Schulausschuss tagt erst danach" })));
        assert_eq!(extended.status, StatusCode::OK, "{}", extended.text);
        let rows = extended.json().as_array().unwrap().clone();
        for row in &rows {
            let expected = if row["organisation"] == "SCHULAMT-SO" { until } else { deadline };
            assert_eq!(row["deadline"], iso(expected), "{row}");
        }
        let extended_row = rows.iter().find(|r| r["organisation"] == "SCHULAMT-SO").unwrap();
        assert_eq!(extended_row["deadline_reason"], format!("Die Frist wurde am {} verlängert (bisher: {}).",
            vorgang::service::clock::now().today.format("%d.%m.%Y"), deadline.format("%d.%m.%Y")));
        let due: Vec<(chrono::NaiveDate, String)> = timers::table
            .filter(timers::kind.eq("flow"))
            .order(timers::id)
            .select((timers::due, timers::status))
            .load(&mut db.connection())
            .unwrap();
        assert_eq!(due.last().unwrap(), &(until.succ_opt().unwrap(), "scheduled".to_string()), "{due:?}");
        assert!(due.iter().any(|(day, status)| *day == deadline.succ_opt().unwrap() && status == "cancelled"), "{due:?}");
        // The Schulamt is reminded a week before its own deadline.
        let reminders: Vec<(chrono::NaiveDate, Option<chrono::NaiveDate>)> = timers::table
            .filter(timers::kind.eq("reminder"))
            .filter(timers::status.eq("scheduled"))
            .select((timers::due, timers::deadline))
            .load(&mut db.connection())
            .unwrap();
        assert!(reminders.contains(&(until - chrono::TimeDelta::days(7), Some(until))), "{reminders:?}");
        let journal = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/journal")).insert_header(bearer(&staff)));
        let entry = journal.json().as_array().unwrap().iter().find(|e| e["kind"] == "deadline_extended").unwrap().clone();
        assert_eq!(entry["actor"], "k@kreis-soest.de");
        assert_eq!((entry["payload"]["from"].as_str(), entry["payload"]["until"].as_str()), (Some(iso(deadline).as_str()), Some(iso(until).as_str())));
        assert_eq!(entry["payload"]["reason"], "Schulausschuss tagt erst danach");
        let mail = mails(&db).into_iter().find(|m| m.0 == "beteiligung_fristverlaengerung").expect("the partner is told");
        let de = until.format("%d.%m.%Y").to_string();
        assert_eq!(mail.1, ["schulamt@kreis-soest.test"]);
        assert!(mail.2.contains(&format!("Frist verlängert bis {de}")), "{}", mail.2);
        assert!(mail.3.contains("Sie endet nun am ") && mail.3.contains(&de), "{}", mail.3);
        assert!(!mail.3.contains("Schulausschuss"), "the reason is for the file: {}", mail.3);
        let new_token = token_in(&mail.3);
        assert_ne!(new_token, old_token);
        for token in [&new_token, &old_token] {
            let page = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/beteiligung/{token}")));
            assert_eq!(page.status, StatusCode::OK, "{}", page.text);
            assert_eq!(page.json()["frist"], de, "both links show the new deadline");
            assert!(page.json()["frist_begruendung"].as_str().unwrap().contains("verlängert"), "{}", page.text);
        }
        let report = vorgang::journal::verify(&mut db.connection()).unwrap();
        assert!(report.intact(), "{:?}", report.breaks);
    }
}

both_backends! {
    async fn a_further_partner_is_invited_to_the_running_beteiligung(backend) {
        use vorgang::db::schema::timers;
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let coordinator = create_user(&mut db.connection(), "k@kreis-soest.de", "05974", &[Role::Koordination], None);
        let reader = create_user(&mut db.connection(), "l@kreis-soest.de", "05974", &[Role::Lesen], None);
        let staff = crate::support::auth::staff_token(&coordinator);
        let reader = crate::support::auth::staff_token(&reader);
        let pool = db.pool(4);
        let api = crate::support::api::state(&pool, dir.path());
        crate::support::partners::add_partner(&mut db.connection(), "05974-IR", "Integrationsrat des Kreises Soest", Some("integrationsrat@kreis-soest.test"));
        crate::support::partners::add_partner(&mut db.connection(), "05974-OHNE", "Stelle ohne Adresse", None);
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;
        let created = send!(app, actix_test::TestRequest::post().uri("/api/v1/cases").insert_header(bearer(&staff))
            .set_json(json!({ "workflow": "ki-antrag", "data": application() })));
        let id = created.json()["id"].as_i64().unwrap();
        let uri = format!("/api/v1/cases/{id}/consultations");
        let add = |body: Value, token: &str| actix_test::TestRequest::post().uri(&uri).insert_header(bearer(token)).set_json(body);

        // Before the Beteiligung runs, nobody is added.
        let early = send!(app, add(json!({ "stelle": "05974-IR" }), &staff));
        assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", early.text);
        assert!(early.json()["detail"].as_str().unwrap().contains("keine Beteiligung"), "{}", early.text);

        let started = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/actions/beteiligung_starten"))
            .insert_header(bearer(&staff)).set_json(json!({ "version": 1 })));
        assert_eq!(started.status, StatusCode::OK, "{}", started.text);
        let version = started.json()["version"].as_i64().unwrap();
        let state = |db: &TestDatabase| (counts(db), mails(db).len(), timers::table.count().get_result::<i64>(&mut db.connection()).unwrap());
        let before = state(&db);

        // A reader may not; every partner that cannot be invited is named at `/stelle`, a step
        // that runs no consultation at `/schritt`; an unknown case is 404; nothing changes.
        let refused = send!(app, add(json!({ "stelle": "05974-IR" }), &reader));
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
        for (body, pointer, message) in [
            (json!({}), "/stelle", "Bitte wählen Sie"),
            (json!({ "stelle": "UNBEKANNT" }), "/stelle", "nicht als Organisation erfasst"),
            (json!({ "stelle": "05974-OHNE" }), "/stelle", "weder ein Funktionspostfach"),
            (json!({ "stelle": "SCHULAMT-SO" }), "/stelle", "bereits beteiligt"),
            (json!({ "stelle": "05974" }), "/stelle", "nicht selbst beteiligt"),
            (json!({ "stelle": "05974-IR", "schritt": "entwurf" }), "/schritt", "keine Beteiligung im Schritt „entwurf“"),
            (json!({ "stelle": "05974-IR", "grund": "a\nb" }), "/grund", "Zeilenumbrüche"),
        ] {
            let invalid = send!(app, add(body.clone(), &staff));
            assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", invalid.text);
            assert_eq!(invalid.json()["errors"][0]["pointer"], pointer, "{body}: {}", invalid.text);
            assert!(invalid.json()["errors"][0]["message"].as_str().unwrap().contains(message), "{body}: {}", invalid.text);
        }
        let unknown = send!(app, actix_test::TestRequest::post().uri("/api/v1/cases/999999/consultations")
            .insert_header(bearer(&staff)).set_json(json!({ "stelle": "05974-IR" })));
        assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
        assert_eq!(state(&db), before, "nothing changed");

        let reminders = |db: &TestDatabase| -> i64 {
            timers::table.filter(timers::kind.eq("reminder")).filter(timers::status.eq("scheduled")).count().get_result(&mut db.connection()).unwrap()
        };
        let reminders_before = reminders(&db);
        assert!(reminders_before > 0);
        // Invited: a third row with the step's period from today (today, so the others' day),
        // the invitation mail with a personal link, the partner in the case's data.
        let added = send!(app, add(json!({ "stelle": "05974-IR", "grund": "Integrationsrat war nicht eingeladen" }), &staff));
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
        let rows = added.json().as_array().unwrap().clone();
        assert_eq!(rows.len(), 3, "{rows:?}");
        let row = rows.iter().find(|r| r["organisation"] == "05974-IR").unwrap();
        assert_eq!((row["status"].as_str(), &row["deadline"]), (Some("open"), &rows[0]["deadline"]));
        let case = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}")).insert_header(bearer(&staff)));
        assert_eq!(case.json()["data"]["beteiligte"], json!(["SCHULAMT-SO", "05974-JA", "05974-IR"]));
        assert_eq!(case.json()["version"].as_i64(), Some(version + 1));
        let mail = mails(&db).into_iter().rev().find(|m| m.0 == "beteiligung_einladung").unwrap();
        assert_eq!(mail.1, ["integrationsrat@kreis-soest.test"]);
        assert!(!mail.3.contains("nicht eingeladen"), "the reason is for the file: {}", mail.3);
        // Invited on the day the others were, it shares the consultation's reminder.
        assert_eq!(reminders(&db), reminders_before, "no reminder of its own");
        let journal = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/journal")).insert_header(bearer(&staff)));
        let entry = journal.json().as_array().unwrap().iter().find(|e| e["kind"] == "participant_added").unwrap().clone();
        assert_eq!(entry["actor"], "k@kreis-soest.de");
        assert_eq!(entry["payload"]["participant"], "05974-IR");
        assert_eq!(entry["payload"]["reason"], "Integrationsrat war nicht eingeladen");
        // Invited twice: refused.
        let again = send!(app, add(json!({ "stelle": "05974-IR" }), &staff));
        assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", again.text);

        // The new partner answers through its link like the others.
        let token = token_in(&mail.3);
        let answered = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/beteiligung/{token}"))
            .set_json(json!({ "votum": "zustimmung", "stellungnahme": "Der Integrationsrat begrüßt das Vorhaben.", "name": "Frau Yilmaz" })));
        assert!(answered.status.is_success(), "{}", answered.text);
        let matrix = send!(app, actix_test::TestRequest::get().uri(&uri).insert_header(bearer(&staff)));
        let row = matrix.json().as_array().unwrap().iter().find(|r| r["organisation"] == "05974-IR").unwrap().clone();
        assert_eq!(row["status"], "answered", "{row}");
        let report = vorgang::journal::verify(&mut db.connection()).unwrap();
        assert!(report.intact(), "{:?}", report.breaks);
    }
}

both_backends! {
    async fn an_invitation_sent_to_the_wrong_body_is_withdrawn(backend) {
        use vorgang::db::schema::{extension_requests, partner_links};
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let coordinator = create_user(&mut db.connection(), "k@kreis-soest.de", "05974", &[Role::Koordination], None);
        let reader = create_user(&mut db.connection(), "l@kreis-soest.de", "05974", &[Role::Lesen], None);
        let staff = crate::support::auth::staff_token(&coordinator);
        let reader = crate::support::auth::staff_token(&reader);
        let pool = db.pool(4);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;
        let created = send!(app, actix_test::TestRequest::post().uri("/api/v1/cases").insert_header(bearer(&staff))
            .set_json(json!({ "workflow": "ki-antrag", "data": application() })));
        let id = created.json()["id"].as_i64().unwrap();
        let started = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/actions/beteiligung_starten"))
            .insert_header(bearer(&staff)).set_json(json!({ "version": 1 })));
        assert_eq!(started.status, StatusCode::OK, "{}", started.text);
        let link_of = |mailbox: &str| token_in(&mails(&db).into_iter().find(|m| m.0 == "beteiligung_einladung" && m.1 == [mailbox]).unwrap().3);
        let (jugendamt_token, schulamt_token) = (link_of("jugendamt@kreis-soest.test"), link_of("schulamt@kreis-soest.test"));
        let matrix = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/consultations")).insert_header(bearer(&staff)));
        let jugendamt = matrix.json().as_array().unwrap().iter().find(|r| r["organisation"] == "05974-JA").unwrap()["invitation"].as_i64().unwrap();
        // The Jugendamt asked for more time before the office noticed the mistake.
        let deadline: chrono::NaiveDate = matrix.json()[0]["deadline"].as_str().unwrap().parse().unwrap();
        let calendar = vorgang::frist::HolidayCalendar::for_land("NW").unwrap();
        let mut wanted = deadline + chrono::TimeDelta::days(14);
        while calendar.is_working_day(wanted) != Ok(true) {
            wanted = wanted.succ_opt().unwrap();
        }
        let asked = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/beteiligung/{jugendamt_token}/deadline-extension"))
            .set_json(json!({ "frist": wanted.format("%Y-%m-%d").to_string(), "grund": "Ausschuss", "name": "Herr Kaya" })));
        assert_eq!(asked.status, StatusCode::OK, "{}", asked.text);
        let uri = format!("/api/v1/cases/{id}/consultations/{jugendamt}/withdrawal");
        let withdraw = |body: Value, token: &str| actix_test::TestRequest::post().uri(&uri).insert_header(bearer(token)).set_json(body);
        let before = (counts(&db), mails(&db).len());

        // A reader may not; the reason is required and one line; an unknown invitation is 404;
        // nothing changes.
        let refused = send!(app, withdraw(json!({ "grund": "Irrtum" }), &reader));
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
        for (body, message) in [(json!({}), "Bitte geben Sie an, warum"), (json!({ "grund": "  " }), "Bitte geben Sie an, warum"), (json!({ "grund": "a\nb" }), "Zeilenumbrüche")] {
            let invalid = send!(app, withdraw(body.clone(), &staff));
            assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", invalid.text);
            assert_eq!(invalid.json()["errors"][0]["pointer"], "/grund", "{body}: {}", invalid.text);
            assert!(invalid.json()["errors"][0]["message"].as_str().unwrap().contains(message), "{body}: {}", invalid.text);
        }
        let unknown = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/consultations/999999/withdrawal"))
            .insert_header(bearer(&staff)).set_json(json!({ "grund": "Irrtum" })));
        assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
        assert_eq!((counts(&db), mails(&db).len()), before, "nothing changed");

        // Withdrawn: the row stays as withdrawn, without the pending request; the partner
        // leaves the case's data; the journal says who and why; the partner is told.
        let done = send!(app, withdraw(json!({ "grund": "Irrtümlich eingeladen; zuständig ist das Jugendamt der Stadt" }), &staff));
        assert_eq!(done.status, StatusCode::OK, "{}", done.text);
        let rows = done.json().as_array().unwrap().clone();
        let row = rows.iter().find(|r| r["invitation"] == jugendamt).unwrap();
        assert_eq!((row["status"].as_str(), row["extension_request"].is_null(), row["closed_at"].is_string()), (Some("withdrawn"), true, true), "{row}");
        let pending: i64 = extension_requests::table.count().get_result(&mut db.connection()).unwrap();
        assert_eq!(pending, 0);
        let case = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}")).insert_header(bearer(&staff)));
        assert_eq!(case.json()["data"]["beteiligte"], json!(["SCHULAMT-SO"]));
        let journal = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/journal")).insert_header(bearer(&staff)));
        let entry = journal.json().as_array().unwrap().iter().find(|e| e["kind"] == "participant_withdrawn").unwrap().clone();
        assert_eq!((entry["actor"].as_str(), entry["payload"]["participant"].as_str()), (Some("k@kreis-soest.de"), Some("05974-JA")));
        assert_eq!(entry["payload"]["reason"], "Irrtümlich eingeladen; zuständig ist das Jugendamt der Stadt");
        let notice: Vec<Mail> = mails(&db).into_iter().filter(|m| m.0 == "beteiligung_zurueckgenommen").collect();
        assert_eq!(notice.len(), 1, "{notice:?}");
        let aktenzeichen = created.json()["aktenzeichen"].as_str().unwrap().to_string();
        assert_eq!(notice[0].1, ["jugendamt@kreis-soest.test"]);
        assert!(notice[0].2.contains(&aktenzeichen) && notice[0].2.contains("zurückgenommen"), "{}", notice[0].2);
        for body in [&notice[0].3, &notice[0].4] {
            assert!(body.contains("Eine Stellungnahme ist nicht erforderlich."), "{body}");
            assert!(!body.contains("zuständig ist") && !body.contains("/beteiligung/"), "neither the reason nor a link: {body}");
        }
        // Its links are revoked, and say why, on the page and through the API; the other
        // partner's link still works.
        let revoked: i64 = partner_links::table.filter(partner_links::invitation_id.eq(jugendamt)).filter(partner_links::revoked_at.is_null()).count().get_result(&mut db.connection()).unwrap();
        assert_eq!(revoked, 0, "no link of the withdrawn invitation is valid");
        let page = send!(app, actix_test::TestRequest::get().uri(&format!("/beteiligung/{jugendamt_token}")));
        assert_eq!(page.status, StatusCode::GONE, "{}", page.text);
        assert!(page.text.contains("Beteiligung zurückgenommen") && page.text.contains("Eine Stellungnahme ist nicht erforderlich"), "{}", page.text);
        assert!(!page.text.contains("Kreis Soest"), "nothing of the case: {}", page.text);
        let api_page = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/beteiligung/{jugendamt_token}")));
        assert_eq!((api_page.status, api_page.json()["title"].as_str()), (StatusCode::GONE, Some("Beteiligung zurückgenommen")), "{}", api_page.text);
        let late = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/beteiligung/{jugendamt_token}"))
            .set_json(json!({ "votum": "zustimmung", "stellungnahme": "Doch noch.", "name": "Herr Kaya" })));
        assert_eq!(late.status, StatusCode::GONE, "{}", late.text);
        // Once withdrawn, it is not withdrawn again, nor answered on the office's side.
        let again = send!(app, withdraw(json!({ "grund": "Irrtum" }), &staff));
        assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", again.text);
        assert!(again.json()["detail"].as_str().unwrap().contains("kann nicht mehr zurückgenommen werden"), "{}", again.text);
        let recorded = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/consultations/{jugendamt}/answer"))
            .insert_header(bearer(&staff)).set_json(json!({ "votum": "zustimmung", "stellungnahme": "Per Post.", "name": "Herr Kaya", "eingang": "post" })));
        assert_eq!(recorded.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", recorded.text);

        // The Schulamt's answer completes the consultation: nobody else is waited for, and the
        // result mail to the office does not list the withdrawn partner.
        let answered = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/beteiligung/{schulamt_token}"))
            .set_json(json!({ "votum": "zustimmung", "stellungnahme": "Einverstanden.", "name": "Frau Berg" })));
        assert!(answered.status.is_success(), "{}", answered.text);
        let case = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}")).insert_header(bearer(&staff)));
        let steps: Vec<String> = case.json()["active_steps"].as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap().to_string()).collect();
        assert!(!steps.iter().any(|s| s == "beteiligung"), "{steps:?}");
        let result = mails(&db).into_iter().find(|m| m.0 == "beteiligung_abgeschlossen").expect("the office gets the result");
        assert!(result.3.contains("Schulamt") && !result.3.contains("Jugendamt"), "{}", result.3);
        let report = vorgang::journal::verify(&mut db.connection()).unwrap();
        assert!(report.intact(), "{:?}", report.breaks);
    }
}

both_backends! {
    async fn a_partner_asks_for_more_time_through_its_link(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let coordinator = create_user(&mut db.connection(), "k@kreis-soest.de", "05974", &[Role::Koordination], None);
        let staff = crate::support::auth::staff_token(&coordinator);
        let pool = db.pool(4);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;
        let created = send!(app, actix_test::TestRequest::post().uri("/api/v1/cases").insert_header(bearer(&staff))
            .set_json(json!({ "workflow": "ki-antrag", "data": application() })));
        let id = created.json()["id"].as_i64().unwrap();
        let started = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/actions/beteiligung_starten"))
            .insert_header(bearer(&staff)).set_json(json!({ "version": 1 })));
        assert_eq!(started.status, StatusCode::OK, "{}", started.text);
        let version = started.json()["version"].clone();
        let invitation = mails(&db).into_iter().find(|m| m.0 == "beteiligung_einladung" && m.1 == ["schulamt@kreis-soest.test"]).unwrap();
        let token = token_in(&invitation.3);
        let html = format!("/beteiligung/{token}/fristverlaengerung");
        let json_uri = format!("/api/v1/beteiligung/{token}/deadline-extension");
        let matrix = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/consultations")).insert_header(bearer(&staff)));
        let row = matrix.json().as_array().unwrap().iter().find(|r| r["organisation"] == "SCHULAMT-SO").unwrap().clone();
        assert_eq!(row["extension_request"], Value::Null);
        let deadline: chrono::NaiveDate = row["deadline"].as_str().unwrap().parse().unwrap();
        let calendar = vorgang::frist::HolidayCalendar::for_land("NW").unwrap();
        let mut wanted = deadline + chrono::TimeDelta::days(14);
        while calendar.is_working_day(wanted) != Ok(true) {
            wanted = wanted.succ_opt().unwrap();
        }
        let saturday = (1..8).map(|n| deadline + chrono::TimeDelta::days(n)).find(|d| chrono::Datelike::weekday(d) == chrono::Weekday::Sat).unwrap();
        let iso = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
        let before = (counts(&db), mails(&db).len());

        // The page offers the request; an incomplete one is refused at its fields, a Saturday
        // with its reason, and nothing is recorded or sent.
        let page = send!(app, actix_test::TestRequest::get().uri(&format!("/beteiligung/{token}")));
        assert!(page.text.contains("Sie benötigen mehr Zeit?") && page.text.contains(&format!("action=\"{html}\"")), "{}", page.text);
        let incomplete = send!(app, actix_test::TestRequest::post().uri(&html).set_form([("frist", ""), ("grund", "Ausschuss"), ("name", "")]));
        assert_eq!(incomplete.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", incomplete.text);
        assert!(incomplete.text.contains("id=\"fehler-verlaengerung-frist\">Bitte geben Sie an, bis wann"), "{}", incomplete.text);
        assert!(incomplete.text.contains("id=\"fehler-verlaengerung-name\">Bitte geben Sie Ihren Namen an."), "{}", incomplete.text);
        assert!(incomplete.text.contains("value=\"Ausschuss\""), "the input is kept: {}", incomplete.text);
        let weekend = send!(app, actix_test::TestRequest::post().uri(&json_uri).set_json(json!({ "frist": iso(saturday), "grund": "Ausschuss", "name": "Frau Muster" })));
        assert_eq!(weekend.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", weekend.text);
        assert_eq!(weekend.json()["errors"][0]["pointer"], "/frist");
        assert!(weekend.json()["errors"][0]["message"].as_str().unwrap().contains("kein Werktag (Samstag)"), "{}", weekend.text);
        assert_eq!((counts(&db), mails(&db).len()), before, "nothing recorded");

        // Asked: the page shows the pending request, the office gets a mail with the form filled
        // in, the journal keeps it, the matrix shows it, and the case's version stays.
        let asked = send!(app, actix_test::TestRequest::post().uri(&json_uri)
            .set_json(json!({ "frist": iso(wanted), "grund": "Der Schulausschuss tagt erst danach.", "name": "Frau Muster" })));
        assert_eq!(asked.status, StatusCode::OK, "{}", asked.text);
        let de = wanted.format("%d.%m.%Y").to_string();
        assert_eq!(asked.json()["verlaengerung_erbeten"]["bis"], de.as_str());
        assert_eq!(asked.json()["frist"], deadline.format("%d.%m.%Y").to_string(), "the deadline itself stays");
        let mail = mails(&db).into_iter().find(|m| m.0 == "fristverlaengerung_erbeten").expect("the office is told");
        assert!(!mail.1.is_empty() && !mail.1.contains(&"schulamt@kreis-soest.test".to_string()), "{:?}", mail.1);
        assert!(mail.2.contains("Bitte um Fristverlängerung") && !mail.2.contains("Muster"), "no names in the subject: {}", mail.2);
        assert!(mail.3.contains(&format!("/vorgaenge/{id}/einladungen/{}/frist?frist={}", row["invitation"], iso(wanted))), "{}", mail.3);
        assert!(mail.3.contains(&format!("/vorgaenge/{id}/einladungen/{}/ablehnen/fristverlaengerung", row["invitation"])), "{}", mail.3);
        assert!(mail.3.contains("Der Schulausschuss tagt erst danach.") && mail.3.contains("Frau Muster") && mail.3.contains(&de), "{}", mail.3);
        // The office declines or asks back by replying: the reply reaches the partner.
        assert_eq!(reply_to(&db, "fristverlaengerung_erbeten"), [Some("schulamt@kreis-soest.test".to_string())]);
        let journal = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/journal")).insert_header(bearer(&staff)));
        let entry = journal.json().as_array().unwrap().iter().find(|e| e["kind"] == "extension_requested").unwrap().clone();
        assert_eq!(entry["actor"], "beteiligung:SCHULAMT-SO");
        assert_eq!((entry["payload"]["until"].as_str(), entry["payload"]["name"].as_str()), (Some(iso(wanted).as_str()), Some("Frau Muster")));
        let case = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}")).insert_header(bearer(&staff)));
        assert_eq!(case.json()["version"], version);
        let matrix = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/consultations")).insert_header(bearer(&staff)));
        let pending = matrix.json().as_array().unwrap().iter().find(|r| r["organisation"] == "SCHULAMT-SO").unwrap()["extension_request"].clone();
        assert_eq!((pending["until"].as_str(), pending["name"].as_str()), (Some(iso(wanted).as_str()), Some("Frau Muster")));

        // Asked again through the page: it replaces the first; the page confirms it.
        let later = wanted + chrono::TimeDelta::days(7);
        let again = send!(app, actix_test::TestRequest::post().uri(&html).set_form([("frist", iso(later).as_str()), ("grund", "Sitzung verschoben"), ("name", "Frau Muster")]));
        assert_eq!(again.status, StatusCode::OK, "{}", again.text);
        assert!(again.text.contains("Ihre Bitte um Fristverlängerung ist bei der Stelle eingegangen"), "{}", again.text);
        assert!(again.text.contains(&format!("Verlängerung bis zum <strong>{}</strong>", later.format("%d.%m.%Y"))), "{}", again.text);
        assert_eq!(mails(&db).iter().filter(|m| m.0 == "fristverlaengerung_erbeten").count(), 2);
        // The same form sent once more (a reload) sends and records nothing more.
        let events = counts(&db);
        let twice = send!(app, actix_test::TestRequest::post().uri(&html).set_form([("frist", iso(later).as_str()), ("grund", "Sitzung verschoben"), ("name", "Frau Muster")]));
        assert_eq!(twice.status, StatusCode::OK, "{}", twice.text);
        assert_eq!((mails(&db).iter().filter(|m| m.0 == "fristverlaengerung_erbeten").count(), counts(&db)), (2, events));

        // The office extends: the request is answered and gone from the matrix.
        let extended = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/consultations/{}/deadline", row["invitation"]))
            .insert_header(bearer(&staff)).set_json(json!({ "frist": iso(wanted) })));
        assert_eq!(extended.status, StatusCode::OK, "{}", extended.text);
        let row = extended.json().as_array().unwrap().iter().find(|r| r["organisation"] == "SCHULAMT-SO").unwrap().clone();
        assert_eq!((row["extension_request"].clone(), row["deadline"].as_str()), (Value::Null, Some(iso(wanted).as_str())));

        // Once it has answered, it asks no more.
        let answered = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/beteiligung/{token}"))
            .set_json(json!({ "votum": "zustimmung", "stellungnahme": "Einverstanden.", "name": "Frau Muster" })));
        assert_eq!(answered.status, StatusCode::OK, "{}", answered.text);
        assert_eq!(answered.json()["kann_verlaengerung_erbitten"], false);
        let late = send!(app, actix_test::TestRequest::post().uri(&json_uri).set_json(json!({ "frist": iso(later), "grund": "x", "name": "y" })));
        assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.text);
        assert!(late.json()["detail"].as_str().unwrap().contains("bereits geantwortet"), "{}", late.text);
        let report = vorgang::journal::verify(&mut db.connection()).unwrap();
        assert!(report.intact(), "{:?}", report.breaks);
    }
}

both_backends! {
    async fn a_partner_says_through_its_link_that_it_is_not_competent(backend) {
        use vorgang::db::schema::responsibility_notices;
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let coordinator = create_user(&mut db.connection(), "k@kreis-soest.de", "05974", &[Role::Koordination], None);
        let staff = crate::support::auth::staff_token(&coordinator);
        let pool = db.pool(4);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;
        let created = send!(app, actix_test::TestRequest::post().uri("/api/v1/cases").insert_header(bearer(&staff))
            .set_json(json!({ "workflow": "ki-antrag", "data": application() })));
        let id = created.json()["id"].as_i64().unwrap();
        let started = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/actions/beteiligung_starten"))
            .insert_header(bearer(&staff)).set_json(json!({ "version": 1 })));
        assert_eq!(started.status, StatusCode::OK, "{}", started.text);
        let version = started.json()["version"].clone();
        let link_of = |mailbox: &str| token_in(&mails(&db).into_iter().find(|m| m.0 == "beteiligung_einladung" && m.1 == [mailbox]).unwrap().3);
        let (token, schulamt_token) = (link_of("jugendamt@kreis-soest.test"), link_of("schulamt@kreis-soest.test"));
        let html = format!("/beteiligung/{token}/nicht-zustaendig");
        let json_uri = format!("/api/v1/beteiligung/{token}/not-responsible");
        let matrix = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/consultations")).insert_header(bearer(&staff)));
        let row = matrix.json().as_array().unwrap().iter().find(|r| r["organisation"] == "05974-JA").unwrap().clone();
        assert_eq!(row["responsibility_notice"], Value::Null);
        let invitation = row["invitation"].as_i64().unwrap();
        let before = (counts(&db), mails(&db).len());

        // The page offers the notice; an incomplete one is refused at its fields with the input
        // kept, a line break in the competent body at its field; nothing is recorded or sent.
        let page = send!(app, actix_test::TestRequest::get().uri(&format!("/beteiligung/{token}")));
        assert!(page.text.contains("Sie sind nicht zuständig?") && page.text.contains(&format!("action=\"{html}\"")), "{}", page.text);
        let incomplete = send!(app, actix_test::TestRequest::post().uri(&html).set_form([("grund", " "), ("zustaendig", "Jugendamt der Stadt Soest"), ("name", "")]));
        assert_eq!(incomplete.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", incomplete.text);
        assert!(incomplete.text.contains("id=\"fehler-zustaendigkeit-grund\">Bitte begründen Sie kurz"), "{}", incomplete.text);
        assert!(incomplete.text.contains("id=\"fehler-zustaendigkeit-name\">Bitte geben Sie Ihren Namen an."), "{}", incomplete.text);
        assert!(incomplete.text.contains("href=\"#zustaendigkeit-grund\"") && incomplete.text.contains("value=\"Jugendamt der Stadt Soest\""), "{}", incomplete.text);
        let broken = send!(app, actix_test::TestRequest::post().uri(&json_uri).set_json(json!({ "grund": "Nicht unsere Aufgabe", "zustaendig": "a\nb", "name": "Herr Kaya" })));
        assert_eq!(broken.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", broken.text);
        assert_eq!(broken.json()["errors"][0]["pointer"], "/zustaendig", "{}", broken.text);
        let unknown_field = send!(app, actix_test::TestRequest::post().uri(&json_uri).set_json(json!({ "grund": "x", "name": "y", "votum": "zustimmung" })));
        assert_eq!(unknown_field.status, StatusCode::BAD_REQUEST, "{}", unknown_field.text);
        assert_eq!((counts(&db), mails(&db).len()), before, "nothing recorded");

        // Reported: the page shows it and still takes an answer; the office gets a mail with the
        // withdrawal form; the journal keeps it; the matrix shows it; the version stays.
        let grund = "Die Schulsozialarbeit liegt beim Jugendamt der Stadt Soest.";
        let reported = send!(app, actix_test::TestRequest::post().uri(&json_uri)
            .set_json(json!({ "grund": grund, "zustaendig": "Jugendamt der Stadt Soest", "name": "Herr Kaya" })));
        assert_eq!(reported.status, StatusCode::OK, "{}", reported.text);
        let shown = reported.json();
        assert_eq!((shown["nicht_zustaendig_gemeldet"]["grund"].as_str(), shown["nicht_zustaendig_gemeldet"]["zustaendig"].as_str()), (Some(grund), Some("Jugendamt der Stadt Soest")));
        assert_eq!((shown["kann_antworten"].as_bool(), shown["status"].as_str()), (Some(true), Some("offen")), "the invitation stays open");
        let mail = mails(&db).into_iter().find(|m| m.0 == "nicht_zustaendig_gemeldet").expect("the office is told");
        assert!(!mail.1.is_empty() && !mail.1.contains(&"jugendamt@kreis-soest.test".to_string()), "{:?}", mail.1);
        assert!(mail.2.contains("Zuständigkeit") && mail.2.contains(created.json()["aktenzeichen"].as_str().unwrap()) && !mail.2.contains("Kaya"), "no names in the subject: {}", mail.2);
        for body in [&mail.3, &mail.4] {
            assert!(body.contains(&format!("/vorgaenge/{id}/einladungen/{invitation}/zuruecknehmen")), "{body}");
            assert!(body.contains(&format!("/vorgaenge/{id}/einladungen/{invitation}/ablehnen/zustaendigkeit")), "{body}");
            assert!(body.contains(grund) && body.contains("Jugendamt der Stadt Soest") && body.contains("Herr Kaya"), "{body}");
        }
        assert_eq!(reply_to(&db, "nicht_zustaendig_gemeldet"), [Some("jugendamt@kreis-soest.test".to_string())]);
        let journal = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/journal")).insert_header(bearer(&staff)));
        let entry = journal.json().as_array().unwrap().iter().find(|e| e["kind"] == "not_responsible_reported").unwrap().clone();
        assert_eq!((entry["actor"].as_str(), entry["payload"]["reason"].as_str(), entry["payload"]["competent"].as_str()), (Some("beteiligung:05974-JA"), Some(grund), Some("Jugendamt der Stadt Soest")));
        let case = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}")).insert_header(bearer(&staff)));
        assert_eq!(case.json()["version"], version);
        let matrix = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/consultations")).insert_header(bearer(&staff)));
        let pending = matrix.json().as_array().unwrap().iter().find(|r| r["invitation"] == invitation).unwrap()["responsibility_notice"].clone();
        assert_eq!((pending["reason"].as_str(), pending["name"].as_str()), (Some(grund), Some("Herr Kaya")));

        // The same notice through the page (a second click) records and sends nothing more;
        // the page confirms it and shows the pending notice.
        let events = counts(&db);
        let again = send!(app, actix_test::TestRequest::post().uri(&html).set_form([("grund", grund), ("zustaendig", "Jugendamt der Stadt Soest"), ("name", "Herr Kaya")]));
        assert_eq!(again.status, StatusCode::OK, "{}", again.text);
        assert!(again.text.contains("ist bei der Stelle eingegangen") && again.text.contains(&format!("(Begründung: „{grund}“, zuständig nach Ihrer Angabe: Jugendamt der Stadt Soest)")), "{}", again.text);
        assert_eq!((mails(&db).iter().filter(|m| m.0 == "nicht_zustaendig_gemeldet").count(), counts(&db)), (1, events));
        // Corrected (without a competent body): replaces the first, told again.
        let corrected = send!(app, actix_test::TestRequest::post().uri(&json_uri).set_json(json!({ "grund": "Nicht unsere Aufgabe.", "name": "Herr Kaya" })));
        assert_eq!(corrected.status, StatusCode::OK, "{}", corrected.text);
        assert_eq!(corrected.json()["nicht_zustaendig_gemeldet"]["zustaendig"], Value::Null);
        assert_eq!(mails(&db).iter().filter(|m| m.0 == "nicht_zustaendig_gemeldet").count(), 2);
        let stored: i64 = responsibility_notices::table.count().get_result(&mut db.connection()).unwrap();
        assert_eq!(stored, 1, "one pending notice per invitation");

        // A partner that has answered reports nothing.
        let answered = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/beteiligung/{schulamt_token}"))
            .set_json(json!({ "votum": "zustimmung", "stellungnahme": "Einverstanden.", "name": "Frau Berg" })));
        assert_eq!((answered.status, answered.json()["kann_zustaendigkeit_melden"].as_bool()), (StatusCode::OK, Some(false)), "{}", answered.text);
        let late = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/beteiligung/{schulamt_token}/not-responsible"))
            .set_json(json!({ "grund": "x", "name": "y" })));
        assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.text);
        assert!(late.json()["detail"].as_str().unwrap().contains("bereits geantwortet"), "{}", late.text);

        // The office withdraws: the notice is answered and gone; the link, also for a notice,
        // no longer works.
        let withdrawn = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/consultations/{invitation}/withdrawal"))
            .insert_header(bearer(&staff)).set_json(json!({ "grund": "Nach Mitteilung der Stelle nicht zuständig" })));
        assert_eq!(withdrawn.status, StatusCode::OK, "{}", withdrawn.text);
        let row = withdrawn.json().as_array().unwrap().iter().find(|r| r["invitation"] == invitation).unwrap().clone();
        assert_eq!((row["status"].as_str(), row["responsibility_notice"].is_null()), (Some("withdrawn"), true), "{row}");
        let stored: i64 = responsibility_notices::table.count().get_result(&mut db.connection()).unwrap();
        assert_eq!(stored, 0);
        let gone = send!(app, actix_test::TestRequest::post().uri(&json_uri).set_json(json!({ "grund": "x", "name": "y" })));
        assert_eq!((gone.status, gone.json()["title"].as_str()), (StatusCode::GONE, Some("Beteiligung zurückgenommen")), "{}", gone.text);
        let gone_page = send!(app, actix_test::TestRequest::post().uri(&html).set_form([("grund", "x"), ("name", "y")]));
        assert_eq!(gone_page.status, StatusCode::GONE, "{}", gone_page.text);
        let report = vorgang::journal::verify(&mut db.connection()).unwrap();
        assert!(report.intact(), "{:?}", report.breaks);
    }
}

both_backends! {
    async fn the_office_declines_a_partners_request_with_a_reason_the_partner_reads(backend) {
        use vorgang::db::schema::{extension_requests, responsibility_notices};
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let coordinator = create_user(&mut db.connection(), "k@kreis-soest.de", "05974", &[Role::Koordination], None);
        let reader = create_user(&mut db.connection(), "l@kreis-soest.de", "05974", &[Role::Lesen], None);
        let authority = create_user(&mut db.connection(), "kfi@bezreg-arnsberg.nrw.de", "KFI", &[Role::Bewilligung], None);
        let (staff, reader, authority) = (
            crate::support::auth::staff_token(&coordinator),
            crate::support::auth::staff_token(&reader),
            crate::support::auth::staff_token(&authority),
        );
        let pool = db.pool(4);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;
        let created = send!(app, actix_test::TestRequest::post().uri("/api/v1/cases").insert_header(bearer(&staff))
            .set_json(json!({ "workflow": "ki-antrag", "data": application() })));
        let id = created.json()["id"].as_i64().unwrap();
        let started = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/actions/beteiligung_starten"))
            .insert_header(bearer(&staff)).set_json(json!({ "version": 1 })));
        assert_eq!(started.status, StatusCode::OK, "{}", started.text);
        let version = started.json()["version"].clone();
        let link_of = |mailbox: &str| token_in(&mails(&db).into_iter().find(|m| m.0 == "beteiligung_einladung" && m.1 == [mailbox]).unwrap().3);
        let (jugendamt_token, schulamt_token) = (link_of("jugendamt@kreis-soest.test"), link_of("schulamt@kreis-soest.test"));
        let matrix = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/consultations")).insert_header(bearer(&staff)));
        let invitation_of = |key: &str| matrix.json().as_array().unwrap().iter().find(|r| r["organisation"] == key).unwrap()["invitation"].as_i64().unwrap();
        let (jugendamt, schulamt) = (invitation_of("05974-JA"), invitation_of("SCHULAMT-SO"));
        let deadline: chrono::NaiveDate = matrix.json()[0]["deadline"].as_str().unwrap().parse().unwrap();
        let calendar = vorgang::frist::HolidayCalendar::for_land("NW").unwrap();
        let mut wanted = deadline + chrono::TimeDelta::days(14);
        while calendar.is_working_day(wanted) != Ok(true) {
            wanted = wanted.succ_opt().unwrap();
        }
        let reported = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/beteiligung/{jugendamt_token}/not-responsible"))
            .set_json(json!({ "grund": "Nicht unsere Aufgabe.", "name": "Herr Kaya" })));
        assert_eq!(reported.status, StatusCode::OK, "{}", reported.text);
        let asked = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/beteiligung/{schulamt_token}/deadline-extension"))
            .set_json(json!({ "frist": wanted.format("%Y-%m-%d").to_string(), "grund": "Ausschuss", "name": "Frau Berg" })));
        assert_eq!(asked.status, StatusCode::OK, "{}", asked.text);
        let notice_uri = format!("/api/v1/cases/{id}/consultations/{jugendamt}/responsibility-notice/refusal");
        let request_uri = format!("/api/v1/cases/{id}/consultations/{schulamt}/extension-request/refusal");
        let post = |uri: &str, token: &str, body: Value| actix_test::TestRequest::post().uri(uri).insert_header(bearer(token)).set_json(body);
        let before = (counts(&db), mails(&db).len());
        let link_rows = || -> i64 { vorgang::db::schema::partner_links::table.count().get_result(&mut db.connection()).unwrap() };
        let links_before = link_rows();

        // A reader may not; the reason is required; an invitation without such a request has
        // nothing to decline; nothing changes.
        let refused = send!(app, post(&notice_uri, &reader, json!({ "grund": "x" })));
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
        let missing = send!(app, post(&notice_uri, &staff, json!({ "grund": " " })));
        assert_eq!((missing.status, missing.json()["errors"][0]["pointer"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("/grund")), "{}", missing.text);
        let nothing = send!(app, post(&format!("/api/v1/cases/{id}/consultations/{jugendamt}/extension-request/refusal"), &staff, json!({ "grund": "x" })));
        assert_eq!(nothing.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", nothing.text);
        assert!(nothing.json()["detail"].as_str().unwrap().contains("um keine Fristverlängerung gebeten"), "{}", nothing.text);
        // The Bewilligungsbehörde may act on the submitted case, but the consultation is the
        // Kreis's: its role decides.
        crate::support::cases::mark_submitted(&mut db.connection(), id);
        let foreign = send!(app, post(&notice_uri, &authority, json!({ "grund": "x" })));
        assert_eq!(foreign.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", foreign.text);
        assert!(foreign.text.contains("entscheidet die Rolle"), "{}", foreign.text);
        assert_eq!((counts(&db), mails(&db).len()), before, "nothing changed");

        // The notice is refused: gone from the matrix, the invitation stays open, the journal
        // keeps the decision, the partner reads why with its deadline and the link it holds.
        let reason = "Die Schulsozialarbeit des Kreises liegt beim Kreisjugendamt.";
        let done = send!(app, post(&notice_uri, &staff, json!({ "grund": reason })));
        assert_eq!(done.status, StatusCode::OK, "{}", done.text);
        let row = done.json().as_array().unwrap().iter().find(|r| r["invitation"] == jugendamt).unwrap().clone();
        assert_eq!((row["status"].as_str(), row["responsibility_notice"].is_null()), (Some("open"), true), "{row}");
        let stored: i64 = responsibility_notices::table.count().get_result(&mut db.connection()).unwrap();
        assert_eq!(stored, 0);
        let mail = mails(&db).into_iter().find(|m| m.0 == "anliegen_abgelehnt").expect("the partner is told");
        assert_eq!(mail.1, ["jugendamt@kreis-soest.test"]);
        assert!(mail.2.contains("Ihre Mitteilung zur Zuständigkeit") && mail.2.contains(created.json()["aktenzeichen"].as_str().unwrap()), "{}", mail.2);
        for body in [&mail.3, &mail.4] {
            assert!(body.contains(reason) && body.contains("hält an Ihrer Beteiligung fest") && body.contains(&deadline.format("%d.%m.%Y").to_string()), "{body}");
        }
        // The deadline stands, so the mail repeats the link of the invitation: no second valid
        // link to the same invitation.
        assert_eq!(token_in(&mail.3), jugendamt_token);
        assert_eq!(link_rows(), links_before, "no further link");
        let page = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/beteiligung/{jugendamt_token}")));
        assert_eq!((page.status, page.json()["nicht_zustaendig_gemeldet"].is_null(), page.json()["kann_antworten"].as_bool()), (StatusCode::OK, true, Some(true)), "{}", page.text);
        let journal = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/journal")).insert_header(bearer(&staff)));
        let entry = journal.json().as_array().unwrap().iter().find(|e| e["kind"] == "not_responsible_refused").unwrap().clone();
        assert_eq!((entry["actor"].as_str(), entry["payload"]["reason"].as_str(), entry["payload"]["asked"]["reason"].as_str()), (Some("k@kreis-soest.de"), Some(reason), Some("Nicht unsere Aufgabe.")));

        // The request for more time is declined: the deadline stays, the partner reads why.
        let done = send!(app, post(&request_uri, &staff, json!({ "grund": "Der Kreistag beschließt am Tag nach der Frist." })));
        assert_eq!(done.status, StatusCode::OK, "{}", done.text);
        let row = done.json().as_array().unwrap().iter().find(|r| r["invitation"] == schulamt).unwrap().clone();
        assert_eq!((row["extension_request"].is_null(), row["deadline"].as_str()), (true, Some(deadline.format("%Y-%m-%d").to_string().as_str())), "{row}");
        let stored: i64 = extension_requests::table.count().get_result(&mut db.connection()).unwrap();
        assert_eq!(stored, 0);
        let mail = mails(&db).into_iter().filter(|m| m.0 == "anliegen_abgelehnt").find(|m| m.1 == ["schulamt@kreis-soest.test"]).expect("the partner is told");
        assert!(mail.2.contains("Ihre Bitte um Fristverlängerung"), "{}", mail.2);
        assert!(mail.3.contains("verlängert die Frist nicht") && mail.3.contains(&wanted.format("%d.%m.%Y").to_string()) && mail.3.contains("Der Kreistag beschließt"), "{}", mail.3);
        // A reply reaches the office.
        let replies = reply_to(&db, "anliegen_abgelehnt");
        assert!(replies.len() == 2 && replies.iter().all(Option::is_some), "{replies:?}");
        // Decided once: a second refusal finds nothing; the case's version never moved.
        let again = send!(app, post(&request_uri, &staff, json!({ "grund": "x" })));
        assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", again.text);
        let case = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}")).insert_header(bearer(&staff)));
        assert_eq!(case.json()["version"], version);
        let report = vorgang::journal::verify(&mut db.connection()).unwrap();
        assert!(report.intact(), "{:?}", report.breaks);
    }
}

/// A multipart body with text fields and one file field.
pub(crate) fn form_with_file(
    fields: &[(&str, &str)],
    file: (&str, &str, &str, &[u8]),
) -> (String, Vec<u8>) {
    let boundary = "beteiligungsgrenze";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    let (name, filename, content_type, bytes) = file;
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n").as_bytes());
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub(crate) const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

both_backends! {
    async fn shared_documents_attachments_and_markup_in_organisation_names(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let coordinator = create_user(&mut db.connection(), "k@kreis-soest.de", "05974", &[Role::Koordination], None);
        let staff = crate::support::auth::staff_token(&coordinator);
        crate::support::partners::add_partner(&mut db.connection(), "RAT-SO", "Integrationsrat <script>alert(2)</script>", Some("rat@kreis-soest.test"));
        let pool = db.pool(4);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;
        let mut data = application();
        data["beteiligte"] = json!(["RAT-SO"]);
        let created = send!(app, actix_test::TestRequest::post().uri("/api/v1/cases").insert_header(bearer(&staff))
            .set_json(json!({ "workflow": "ki-antrag", "data": data })));
        let id = created.json()["id"].as_i64().unwrap();
        // One document shared with partners, one internal.
        let mut shared = None;
        for (name, visible) in [("Entwurf.pdf", "true"), ("Intern.pdf", "false")] {
            let (content_type, body) = form_with_file(&[("partner_visible", visible)], ("file", name, "application/pdf", PDF));
            let stored = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/documents"))
                .insert_header(bearer(&staff)).insert_header(("Content-Type", content_type)).set_payload(body));
            assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
            if visible == "true" {
                shared = stored.json()["id"].as_i64();
            }
        }
        let shared = shared.unwrap();
        let internal = shared + 1;
        // A value that says neither is refused, and nothing is stored.
        for unclear in ["yes", "wahr", "{}"] {
            let (content_type, body) = form_with_file(&[("partner_visible", unclear)], ("file", "Unklar.pdf", "application/pdf", PDF));
            let refused = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/documents"))
                .insert_header(bearer(&staff)).insert_header(("Content-Type", content_type)).set_payload(body));
            assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{unclear}: {}", refused.text);
            assert!(refused.text.contains("partner_visible"), "{}", refused.text);
        }
        let listed = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/documents")).insert_header(bearer(&staff)));
        assert_eq!(listed.json().as_array().unwrap().len(), 2);
        let started = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/actions/beteiligung_starten"))
            .insert_header(bearer(&staff)).set_json(json!({ "version": 1 })));
        assert_eq!(started.status, StatusCode::OK, "{}", started.text);

        // The organisation's name is escaped in the HTML mail and left alone in plain text.
        let invitation = mails(&db).into_iter().find(|m| m.0 == "beteiligung_einladung").unwrap();
        let token = token_in(&invitation.3);
        assert!(!invitation.4.contains("<script>"), "{}", invitation.4);

        // The page lists the shared document only; it downloads through the same link.
        let page = send!(app, actix_test::TestRequest::get().uri(&format!("/beteiligung/{token}")));
        assert!(page.text.contains("Integrationsrat &lt;script&gt;"), "escaped on the page");
        assert!(!page.text.contains("<script>"));
        assert!(page.text.contains("Entwurf.pdf") && !page.text.contains("Intern.pdf"));
        let download = send!(app, actix_test::TestRequest::get().uri(&format!("/beteiligung/{token}/dokumente/{shared}")));
        assert_eq!(download.status, StatusCode::OK);
        assert_eq!(download.header("content-type"), "application/pdf");
        assert!(download.header("content-disposition").contains("Entwurf.pdf"));
        let hidden = send!(app, actix_test::TestRequest::get().uri(&format!("/beteiligung/{token}/dokumente/{internal}")));
        assert_eq!(hidden.status, StatusCode::NOT_FOUND);
        let forged = send!(app, actix_test::TestRequest::get().uri(&format!("/beteiligung/x{token}/dokumente/{shared}")));
        assert_eq!(forged.status, StatusCode::FORBIDDEN);

        // An attachment that lies about its type is refused next to the field; nothing recorded.
        let before = counts(&db);
        let fields = [("votum", "zustimmung"), ("name", "Herr Rat")];
        let (content_type, body) = form_with_file(&fields, ("anhang", "stellungnahme.pdf", "application/pdf", b"MZ\x90\x00 not a pdf"));
        let refused = send!(app, actix_test::TestRequest::post().uri(&format!("/beteiligung/{token}"))
            .insert_header(("Content-Type", content_type)).set_payload(body));
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text);
        assert!(refused.text.contains("id=\"fehler-anhang\""), "{}", refused.text);
        assert_eq!(counts(&db), before);

        // A real PDF attachment is stored with the answer and downloadable by the partner.
        let (content_type, body) = form_with_file(&fields, ("anhang", "stellungnahme.pdf", "application/pdf", PDF));
        let answered = send!(app, actix_test::TestRequest::post().uri(&format!("/beteiligung/{token}"))
            .insert_header(("Content-Type", content_type)).set_payload(body));
        assert_eq!(answered.status, StatusCode::OK, "{}", answered.text);
        let view = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/beteiligung/{token}")));
        let attachment = view.json()["antworten"][0]["attachment"]["id"].as_i64().expect("attachment recorded");
        let own = send!(app, actix_test::TestRequest::get().uri(&format!("/beteiligung/{token}/dokumente/{attachment}")));
        assert_eq!(own.status, StatusCode::OK);
        let listed = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/documents")).insert_header(bearer(&staff)));
        assert!(listed.json().as_array().unwrap().iter().any(|d| d["uploaded_by"] == "beteiligung:RAT-SO"));
        // Every document's arrival is journaled with its hash: the two uploads, and the
        // attachment right after the answer it came with.
        let journal = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/journal")).insert_header(bearer(&staff)));
        let entries = journal.json().as_array().unwrap().clone();
        let arrivals: Vec<&Value> = entries.iter().filter(|e| e["kind"] == "document_uploaded").collect();
        assert_eq!(arrivals.len(), 3, "{entries:?}");
        let last = entries.last().unwrap();
        assert_eq!(last["kind"], "document_uploaded");
        assert_eq!(last["actor"], "beteiligung:RAT-SO");
        assert_eq!(last["payload"]["document"], attachment);
        assert_eq!(last["payload"]["filename"], "stellungnahme.pdf");
        assert_eq!(last["payload"]["sha256"].as_str().unwrap().len(), 64);
        let report = vorgang::journal::verify(&mut db.connection()).unwrap();
        assert!(report.intact(), "{:?}", report.breaks);

        // The result mail names the organisation: verbatim in plain text, escaped in HTML.
        let result = mails(&db).into_iter().find(|m| m.0 == "beteiligung_abgeschlossen").unwrap();
        assert!(result.3.contains("Integrationsrat <script>alert(2)</script>: Zustimmung"), "{}", result.3);
        assert!(result.4.contains("Integrationsrat &lt;script&gt;alert(2)&lt;/script&gt;"), "{}", result.4);
        assert!(!result.4.contains("<script>"));
    }
}

both_backends! {
    async fn the_office_records_a_stellungnahme_that_came_by_letter(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let coordinator = create_user(&mut db.connection(), "k@kreis-soest.de", "05974", &[Role::Koordination], None);
        let reader = create_user(&mut db.connection(), "l@kreis-soest.de", "05974", &[Role::Lesen], None);
        let staff = crate::support::auth::staff_token(&coordinator);
        let reader = crate::support::auth::staff_token(&reader);
        let pool = db.pool(4);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;
        let created = send!(app, actix_test::TestRequest::post().uri("/api/v1/cases").insert_header(bearer(&staff))
            .set_json(json!({ "workflow": "ki-antrag", "data": application() })));
        let id = created.json()["id"].as_i64().unwrap();
        let started = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/actions/beteiligung_starten"))
            .insert_header(bearer(&staff)).set_json(json!({ "version": 1 })));
        assert_eq!(started.status, StatusCode::OK, "{}", started.text);
        let matrix = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/consultations")).insert_header(bearer(&staff)));
        let schulamt = matrix.json().as_array().unwrap().iter()
            .find(|r| r["organisation"] == "SCHULAMT-SO").unwrap()["invitation"].as_i64().unwrap();
        let uri = format!("/api/v1/cases/{id}/consultations/{schulamt}/answer");
        let letter = json!({ "votum": "bedenken", "stellungnahme": "Die Räume fehlen noch.", "name": "Frau Muster",
                             "funktion": "Schulrätin", "eingang": "post" });
        let before = counts(&db);

        // A reader may not record it; bad fields are named, all at once; nothing is stored.
        let refused = send!(app, actix_test::TestRequest::post().uri(&uri).insert_header(bearer(&reader)).set_json(&letter));
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
        let invalid = send!(app, actix_test::TestRequest::post().uri(&uri).insert_header(bearer(&staff))
            .set_json(json!({ "votum": "bedenken", "name": " ", "eingang": "brieftaube" })));
        assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", invalid.text);
        assert_eq!(invalid.header("content-type"), "application/problem+json");
        let errors = invalid.json()["errors"].clone();
        let pointers: Vec<&str> = errors.as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
        assert_eq!(pointers, ["/stellungnahme", "/name", "/eingang"], "{}", invalid.text);
        assert_eq!(errors[0]["message"], "Bitte geben Sie die Begründung des Votums in der Stellungnahme an.", "worded for the office");
        let elsewhere = send!(app, actix_test::TestRequest::post().uri(&format!("/api/v1/cases/{id}/consultations/999999/answer"))
            .insert_header(bearer(&staff)).set_json(&letter));
        assert_eq!(elsewhere.status, StatusCode::NOT_FOUND, "{}", elsewhere.text);
        assert_eq!(counts(&db), before, "nothing recorded");

        // Recorded: it counts as the Schulamt's answer, says how it came and who entered it.
        let recorded = send!(app, actix_test::TestRequest::post().uri(&uri).insert_header(bearer(&staff)).set_json(&letter));
        assert_eq!(recorded.status, StatusCode::OK, "{}", recorded.text);
        let row = recorded.json().as_array().unwrap().iter().find(|r| r["organisation"] == "SCHULAMT-SO").unwrap().clone();
        assert_eq!((row["status"].as_str(), row["votum"].as_str(), row["versions"].as_i64()), (Some("answered"), Some("bedenken"), Some(1)));
        let journal = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/journal")).insert_header(bearer(&staff)));
        let entries = journal.json().as_array().unwrap().clone();
        let answered = entries.iter().find(|e| e["kind"] == "answer_recorded").expect("journaled");
        assert_eq!(answered["actor"], "k@kreis-soest.de", "the user who entered it");
        assert_eq!(answered["payload"]["participant"], "SCHULAMT-SO");
        // The Schulamt gets the usual confirmation with the text as recorded.
        let confirmation = mails(&db).into_iter().find(|m| m.0 == "beteiligung_bestaetigung").expect("confirmation queued");
        assert_eq!(confirmation.1, ["schulamt@kreis-soest.test"]);
        let today = vorgang::service::clock::now().today.format("%d.%m.%Y").to_string();
        assert!(confirmation.3.contains(&format!("Abgegeben von: Frau Muster, Schulrätin (am {today} per Post eingegangen, erfasst von k@kreis-soest.de)")), "{}", confirmation.3);
        assert!(confirmation.3.contains("Die Räume fehlen noch."), "{}", confirmation.3);
        let report = vorgang::journal::verify(&mut db.connection()).unwrap();
        assert!(report.intact(), "{:?}", report.breaks);
    }
}
