//! The foundation of the staff web interface: login and logout, sessions and their cookie,
//! CSRF checks, the forced password change, the legal pages, security headers, and the first
//! start of a real `vorgang serve`.

use std::time::{Duration, Instant};

use actix_web::test::{self as actix_test, TestRequest};
use actix_web::{HttpResponse, web};
use chrono::{TimeDelta, Utc};
use diesel::prelude::*;
use serde_json::json;
use vorgang::db::models::{Role, User};
use vorgang::db::schema::{ui_sessions, users};
use vorgang::web::ui::{LegalTexts, UiSession, UiState};

use crate::support::auth::{cheap_passwords, create_user, test_auth};
use crate::support::process::RunningServer;
use crate::support::ui::{Browser, hidden_field};
use crate::support::{Backend, TestDatabase};

const PASSWORD: &str = "richtig-langes-passwort";
const EMAIL: &str = "anna@kreis-kleve.de";
const WRONG: &str = "E-Mail-Adresse oder Passwort ist nicht korrekt.";

/// The web interface's settings for `http://` (no `Secure` cookies) and the built-in texts.
fn plain_ui() -> UiState {
    UiState::new(
        &"http://127.0.0.1:8080".parse().unwrap(),
        LegalTexts::builtin(),
    )
}

/// The application as served, with a POST route that (wrongly) asks for a `UiSession`.
macro_rules! ui_app {
    ($db:expr) => {
        ui_app!($db, test_auth(), plain_ui())
    };
    ($db:expr, $auth:expr, $ui:expr) => {{
        let db = $db;
        let api = crate::support::api::state(&db, &std::env::temp_dir().join("vorgang-ui-tests"));
        actix_test::init_service(
            vorgang::web::app_with_ui(db, $auth, api, web::Data::new($ui))
                .route("/test/formular", web::post().to(misused_session)),
        )
        .await
    }};
}

async fn misused_session(_session: UiSession) -> HttpResponse {
    HttpResponse::Ok().body("darf nie erreicht werden")
}

fn session_rows(db: &TestDatabase) -> i64 {
    ui_sessions::table
        .count()
        .get_result(&mut db.connection())
        .unwrap()
}

fn password_hash(db: &TestDatabase, email: &str) -> Option<String> {
    User::find_by_email(&mut db.connection(), email)
        .unwrap()
        .unwrap()
        .password_hash
}

/// Asserts the headers every page of the web interface carries.
fn assert_security_headers(page: &crate::support::ui::Page) {
    assert_eq!(
        page.header("content-security-policy"),
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    assert_eq!(page.header("referrer-policy"), "same-origin");
    assert_eq!(page.header("x-content-type-options"), "nosniff");
    assert_eq!(page.header("cache-control"), "no-store");
}

/// The page without the values that change from one rendering to the next (form tokens).
fn without_tokens(body: &str) -> String {
    let mut out = body.to_string();
    while let Some(token) = hidden_field(&out, "csrf") {
        out = out.replace(&token, "TOKEN");
        if token == "TOKEN" {
            break;
        }
    }
    out
}

both_backends! {
    async fn login_succeeds_and_fails_in_german(backend) {
        let db = TestDatabase::migrated(backend);
        create_user(&mut db.connection(), EMAIL, "05154", &[Role::Koordination, Role::Lesen], Some(PASSWORD));
        let app = ui_app!(db.pool(2));
        let mut browser = Browser::default();

        let form = browser.get(&app, "/login").await;
        assert_eq!(form.status, 200);
        assert_security_headers(&form);
        assert!(form.body.contains("<html lang=\"de\">"));
        assert!(form.body.contains("Zum Inhalt springen"));
        // The icon the page links is served, also where browsers look on their own.
        assert!(form.body.contains("<link rel=\"icon\" href=\"/static/vorgang.svg\" type=\"image/svg+xml\">"));
        for path in ["/static/vorgang.svg", "/favicon.ico"] {
            let icon = browser.get(&app, path).await;
            assert_eq!(icon.status, 200, "{path}");
            assert_eq!(icon.header("content-type"), "image/svg+xml", "{path}");
            assert_eq!(icon.header("x-content-type-options"), "nosniff", "{path}");
            assert!(icon.body.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{path}: {}", icon.body);
        }
        assert!(form.body.contains("<label for=\"feld-email\">E-Mail-Adresse</label>"));
        assert!(form.body.contains("autocomplete=\"username\""));
        assert!(form.body.contains("autocomplete=\"current-password\""));
        let nonce_cookie = form.set_cookie("vorgang_anmeldung");
        assert!(nonce_cookie.contains("HttpOnly"), "{nonce_cookie}");
        assert!(nonce_cookie.contains("SameSite=Strict"), "{nonce_cookie}");
        assert!(!nonce_cookie.contains("Secure"), "{nonce_cookie}");

        // Wrong password and unknown address read the same, and nobody is logged in.
        let csrf = form.hidden("csrf");
        let wrong = browser.post(&app, "/login", &[("csrf", &csrf), ("email", EMAIL), ("passwort", "falsches-passwort")]).await;
        assert_eq!(wrong.status, 422);
        assert!(wrong.body.contains(WRONG), "{}", wrong.body);
        assert!(wrong.body.contains("role=\"alert\""));
        assert!(!wrong.body.contains("falsches-passwort"));
        assert!(!browser.cookies.contains_key("vorgang_session"));
        let unknown = browser.post(&app, "/login", &[("csrf", &csrf), ("email", "niemand@kreis-kleve.de"), ("passwort", "falsches-passwort")]).await;
        assert_eq!(unknown.status, wrong.status);
        assert_eq!(
            without_tokens(&unknown.body).replace("niemand@kreis-kleve.de", "EMAIL"),
            without_tokens(&wrong.body).replace(EMAIL, "EMAIL"),
            "an unknown address must not be distinguishable"
        );

        // Empty fields are named at the field.
        let empty = browser.post(&app, "/login", &[("csrf", &csrf), ("email", ""), ("passwort", "")]).await;
        assert_eq!(empty.status, 422);
        assert!(empty.body.contains("Bitte geben Sie Ihre E-Mail-Adresse ein."));
        assert!(empty.body.contains("aria-describedby=\"fehler-email\""));
        assert!(empty.body.contains("href=\"#feld-passwort\""));

        let done = browser.post(&app, "/login", &[("csrf", &csrf), ("email", " Anna@Kreis-Kleve.DE "), ("passwort", PASSWORD)]).await;
        assert_eq!(done.location(), "/");
        assert_security_headers(&done);
        let cookie = done.set_cookie("vorgang_session");
        assert!(cookie.contains("; Path=/"), "{cookie}");
        assert!(cookie.contains("; HttpOnly"), "{cookie}");
        assert!(cookie.contains("; SameSite=Lax"), "{cookie}");
        assert!(!cookie.contains("Secure"), "{cookie}");
        assert!(done.set_cookie("vorgang_anmeldung").contains("Max-Age=0"));
        // Only the hash of the session id is stored.
        let id = browser.cookies["vorgang_session"].clone();
        let stored: String = ui_sessions::table.select(ui_sessions::token_hash).first(&mut db.connection()).unwrap();
        assert_ne!(stored, id);
        assert_eq!(stored.len(), 64);

        let start = browser.get(&app, "/").await;
        assert_eq!(start.status, 200, "{}", start.body);
        assert_security_headers(&start);
        assert!(start.body.contains("Guten Tag, Test Person"), "{}", start.body);
        assert!(start.body.contains("Kleve"));
        assert!(start.body.contains("<li>Koordination</li>"));
        assert!(start.body.contains("<li>Lesen</li>"));
        assert!(start.body.contains("<main id=\"inhalt\""));
        assert!(start.body.contains("aria-label=\"Hauptnavigation\""));
        assert!(start.body.contains("href=\"/barrierefreiheit\""));
        assert!(start.body.contains("<form method=\"post\" action=\"/logout\">"));

        // A logged-in user asking for the login form goes straight on.
        assert_eq!(browser.get(&app, "/login?next=/passwort").await.location(), "/passwort");
    }
}

both_backends! {
    async fn cookies_are_secure_when_the_public_url_is_https(backend) {
        let db = TestDatabase::migrated(backend);
        create_user(&mut db.connection(), EMAIL, "05154", &[Role::Lesen], Some(PASSWORD));
        let ui = UiState::new(&"https://vorgang.kreis-kleve.de".parse().unwrap(), LegalTexts::builtin());
        let app = ui_app!(db.pool(2), test_auth(), ui);
        let mut browser = Browser::default();
        let form = browser.get(&app, "/login").await;
        assert!(form.set_cookie("vorgang_anmeldung").ends_with("; Secure"));
        let done = browser.post(&app, "/login", &[("csrf", &form.hidden("csrf")), ("email", EMAIL), ("passwort", PASSWORD)]).await;
        let cookie = done.set_cookie("vorgang_session");
        assert!(cookie.contains("; HttpOnly; SameSite=Lax"), "{cookie}");
        assert!(cookie.ends_with("; Secure"), "{cookie}");
    }
}

both_backends! {
    async fn forms_without_a_valid_csrf_token_are_refused_and_change_nothing(backend) {
        let db = TestDatabase::migrated(backend);
        create_user(&mut db.connection(), EMAIL, "05154", &[Role::Lesen], Some(PASSWORD));
        let app = ui_app!(db.pool(2));

        // The login form: without its token, or with one for another browser's nonce.
        let mut stranger = Browser::default();
        let refused = stranger.post(&app, "/login", &[("email", EMAIL), ("passwort", PASSWORD)]).await;
        assert_eq!(refused.status, 403);
        assert!(refused.body.contains("nicht sicher zugeordnet"), "{}", refused.body);
        let mut other = Browser::default();
        let foreign_token = other.get(&app, "/login").await.hidden("csrf");
        stranger.get(&app, "/login").await;
        let refused = stranger.post(&app, "/login", &[("csrf", &foreign_token), ("email", EMAIL), ("passwort", PASSWORD)]).await;
        assert_eq!(refused.status, 403);
        assert_eq!(session_rows(&db), 0, "no session for a refused login");

        let mut browser = Browser::default();
        assert_eq!(browser.login(&app, EMAIL, PASSWORD).await.location(), "/");
        let token = browser.csrf_token(&app, "/").await;
        let mut second = Browser::default();
        second.login(&app, EMAIL, PASSWORD).await;
        let token_of_second = second.csrf_token(&app, "/").await;
        assert_ne!(token, token_of_second, "every session has its own token");

        let before = password_hash(&db, EMAIL);
        let change = |csrf: Option<&str>| {
            let mut form = vec![("aktuell", PASSWORD), ("neu", "ganz-neues-passwort"), ("wiederholung", "ganz-neues-passwort")];
            if let Some(csrf) = csrf {
                form.push(("csrf", csrf));
            }
            form.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>()
        };
        let zeros = "0".repeat(64);
        for csrf in [None, Some(zeros.as_str()), Some("kaputt"), Some(token_of_second.as_str())] {
            let form = change(csrf);
            let refused = browser.send(&app, TestRequest::post().uri("/passwort").set_form(&form)).await;
            assert_eq!(refused.status, 403, "{csrf:?}");
            assert_security_headers(&refused);
            assert!(refused.body.contains("<h1>Sicherheitsprüfung fehlgeschlagen</h1>"), "{}", refused.body);
            assert!(refused.body.contains("Es wurde nichts geändert."));
        }
        assert_eq!(password_hash(&db, EMAIL), before, "the password is unchanged");

        // Logout without the token logs nobody out.
        let refused = browser.post(&app, "/logout", &[]).await;
        assert_eq!(refused.status, 403);
        assert_eq!(browser.get(&app, "/").await.status, 200);
        assert_eq!(session_rows(&db), 2);

        // A POST handler cannot get a session without the CSRF check.
        let misuse = browser.post(&app, "/test/formular", &[("csrf", &token)]).await;
        assert_eq!(misuse.status, 500);
        assert!(!misuse.body.contains("darf nie erreicht werden"));

        // With the right token the same form goes through.
        let form = change(Some(&token));
        let done = browser.send(&app, TestRequest::post().uri("/passwort").set_form(&form)).await;
        assert_eq!(done.location(), "/?hinweis=passwort-geaendert");
        assert_ne!(password_hash(&db, EMAIL), before);
    }
}

both_backends! {
    async fn logout_ends_the_session_on_the_server(backend) {
        let db = TestDatabase::migrated(backend);
        create_user(&mut db.connection(), EMAIL, "05154", &[Role::Lesen], Some(PASSWORD));
        let app = ui_app!(db.pool(2));
        let mut browser = Browser::default();
        browser.login(&app, EMAIL, PASSWORD).await;
        let stolen = browser.clone();
        let token = browser.csrf_token(&app, "/").await;

        let out = browser.post(&app, "/logout", &[("csrf", &token)]).await;
        assert_eq!(out.location(), "/login?abgemeldet=1");
        assert_security_headers(&out);
        assert!(out.set_cookie("vorgang_session").contains("Max-Age=0"));
        assert!(!browser.cookies.contains_key("vorgang_session"));
        assert_eq!(session_rows(&db), 0);
        let login = browser.get(&app, "/login?abgemeldet=1").await;
        assert!(login.body.contains("Sie haben sich abgemeldet."));

        // The old cookie is worth nothing any more.
        let mut stolen = stolen;
        assert_eq!(stolen.get(&app, "/").await.location(), "/login?next=%2F");
        let replay = stolen.post(&app, "/logout", &[("csrf", &token)]).await;
        assert_eq!(replay.location(), "/login");
    }
}

both_backends! {
    async fn sessions_end_when_idle_too_long_expired_or_the_user_is_deactivated(backend) {
        let db = TestDatabase::migrated(backend);
        let user = create_user(&mut db.connection(), EMAIL, "05154", &[Role::Lesen], Some(PASSWORD));
        let app = ui_app!(db.pool(2));
        let now = Utc::now().naive_utc();
        let mut conn = db.connection();

        let mut browser = Browser::default();
        browser.login(&app, EMAIL, PASSWORD).await;
        // Used 59 minutes ago: still alive, and marked as used again.
        diesel::update(ui_sessions::table).set(ui_sessions::last_seen_at.eq(now - TimeDelta::minutes(59))).execute(&mut conn).unwrap();
        assert_eq!(browser.get(&app, "/").await.status, 200);
        let seen: chrono::NaiveDateTime = ui_sessions::table.select(ui_sessions::last_seen_at).first(&mut conn).unwrap();
        assert!(seen >= now - TimeDelta::seconds(5), "{seen}");
        // Unused for more than an hour: over.
        diesel::update(ui_sessions::table).set(ui_sessions::last_seen_at.eq(now - TimeDelta::minutes(61))).execute(&mut conn).unwrap();
        assert_eq!(browser.get(&app, "/").await.location(), "/login?next=%2F");

        // Past its absolute lifetime: over, however busy.
        browser.login(&app, EMAIL, PASSWORD).await;
        let expires: chrono::NaiveDateTime = ui_sessions::table.select(ui_sessions::expires_at).order(ui_sessions::id.desc()).first(&mut conn).unwrap();
        assert!((expires - now - TimeDelta::hours(8)).num_seconds().abs() < 60, "{expires}");
        assert_eq!(browser.get(&app, "/").await.status, 200);
        diesel::update(ui_sessions::table).set(ui_sessions::expires_at.eq(now - TimeDelta::seconds(1))).execute(&mut conn).unwrap();
        assert_eq!(browser.get(&app, "/").await.status, 303);

        // A deactivated user is logged out at the next request.
        browser.login(&app, EMAIL, PASSWORD).await;
        assert_eq!(browser.get(&app, "/").await.status, 200);
        diesel::update(users::table.find(user.id)).set(users::active.eq(false)).execute(&mut conn).unwrap();
        assert_eq!(browser.get(&app, "/").await.status, 303);

        // A malformed or unknown cookie is simply no session.
        let mut forger = Browser::default();
        forger.cookies.insert("vorgang_session".into(), "' OR 1=1 --".into());
        assert_eq!(forger.get(&app, "/").await.status, 303);
        forger.cookies.insert("vorgang_session".into(), "a".repeat(64));
        assert_eq!(forger.get(&app, "/").await.status, 303);
    }
}

both_backends! {
    async fn shorter_session_lifetimes_of_a_security_policy_apply(backend) {
        let db = TestDatabase::migrated(backend);
        create_user(&mut db.connection(), EMAIL, "05154", &[Role::Lesen], Some(PASSWORD));
        let policy = vorgang::auth::session::SessionLifetimes { idle: TimeDelta::minutes(15), absolute: TimeDelta::hours(2) };
        let app = ui_app!(db.pool(2), test_auth(), plain_ui().with_sessions(policy));
        let now = Utc::now().naive_utc();
        let mut conn = db.connection();

        let mut browser = Browser::default();
        browser.login(&app, EMAIL, PASSWORD).await;
        let expires: chrono::NaiveDateTime = ui_sessions::table.select(ui_sessions::expires_at).first(&mut conn).unwrap();
        assert!((expires - now - TimeDelta::hours(2)).num_seconds().abs() < 60, "{expires}");
        // Unused for 14 minutes: alive; for 16: over (the default would keep it for an hour).
        diesel::update(ui_sessions::table).set(ui_sessions::last_seen_at.eq(now - TimeDelta::minutes(14))).execute(&mut conn).unwrap();
        assert_eq!(browser.get(&app, "/").await.status, 200);
        diesel::update(ui_sessions::table).set(ui_sessions::last_seen_at.eq(now - TimeDelta::minutes(16))).execute(&mut conn).unwrap();
        assert_eq!(browser.get(&app, "/").await.location(), "/login?next=%2F");
    }
}

both_backends! {
    async fn next_is_followed_only_to_local_paths(backend) {
        let db = TestDatabase::migrated(backend);
        create_user(&mut db.connection(), EMAIL, "05154", &[Role::Lesen], Some(PASSWORD));
        let app = ui_app!(db.pool(2));

        let mut browser = Browser::default();
        assert_eq!(browser.get(&app, "/passwort?x=1&y=2").await.location(), "/login?next=%2Fpasswort%3Fx%3D1%26y%3D2");
        let form = browser.get(&app, "/login?next=%2Fpasswort%3Fx%3D1").await;
        assert_eq!(form.hidden("next"), "/passwort?x=1");
        let csrf = form.hidden("csrf");
        let done = browser.post(&app, "/login", &[("csrf", &csrf), ("email", EMAIL), ("passwort", PASSWORD), ("next", "/passwort?x=1")]).await;
        assert_eq!(done.location(), "/passwort?x=1");

        for evil in ["//evil.example/", "https://evil.example/", "/\\evil.example", "evil.example", "/%0d%0aSet-Cookie:x", " /x"] {
            let mut browser = Browser::default();
            let form = browser.get(&app, &format!("/login?next={}", urlencode(evil))).await;
            assert_eq!(form.status, 200);
            let kept = hidden_field(&form.body, "next");
            assert!(kept.as_deref().is_none_or(|k| k.starts_with('/') && !k.starts_with("//")), "{evil}: {kept:?}");
            let csrf = form.hidden("csrf");
            let done = browser.post(&app, "/login", &[("csrf", &csrf), ("email", EMAIL), ("passwort", PASSWORD), ("next", evil)]).await;
            let location = done.location();
            assert!(location.starts_with('/') && !location.starts_with("//") && !location.contains('\\'), "{evil} → {location}");
            if !evil.starts_with("/%") {
                assert_eq!(location, "/", "{evil}");
            }
        }
    }
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

both_backends! {
    async fn failed_logins_are_limited_together_with_the_api(backend) {
        let db = TestDatabase::migrated(backend);
        create_user(&mut db.connection(), EMAIL, "05154", &[Role::Lesen], Some(PASSWORD));
        let app = ui_app!(db.pool(2));

        // Three failures in the browser and two on the API, each from its own address: the
        // account has used up its five.
        for peer in ["192.0.2.1:1", "192.0.2.2:1", "192.0.2.3:1"] {
            let mut browser = Browser::from(peer);
            assert_eq!(browser.login(&app, EMAIL, "falsches-passwort").await.status, 422);
        }
        for peer in ["192.0.2.4:1", "192.0.2.5:1"] {
            let mut client = Browser::from(peer);
            let reply = client.send(&app, TestRequest::post().uri("/api/v1/auth/token").set_json(json!({"email": EMAIL, "password": "falsch-falsch"}))).await;
            assert_eq!(reply.status, 401);
        }
        let mut browser = Browser::from("192.0.2.6:1");
        let refused = browser.login(&app, EMAIL, PASSWORD).await;
        assert_eq!(refused.status, 429, "{}", refused.body);
        assert!(refused.body.contains("Zu viele fehlgeschlagene Anmeldeversuche. Bitte versuchen Sie es in"), "{}", refused.body);
        assert!(refused.body.contains("Wenn es eilt, kann Ihre Administration die Sperre aufheben."), "{}", refused.body);
        assert!(refused.header("retry-after").parse::<u64>().unwrap() >= 1);
        assert!(!browser.cookies.contains_key("vorgang_session"));
        let mut client = Browser::from("192.0.2.7:1");
        let reply = client.send(&app, TestRequest::post().uri("/api/v1/auth/token").set_json(json!({"email": EMAIL, "password": PASSWORD}))).await;
        assert_eq!(reply.status, 429);

        // The address limit is shared as well: five failures in the browser from one address
        // block the API from there, for another account.
        let other = "bob@kreis-kleve.de";
        create_user(&mut db.connection(), other, "05154", &[Role::Lesen], Some(PASSWORD));
        for n in 0..5 {
            let mut browser = Browser::from("198.51.100.9:1");
            let reply = browser.login(&app, &format!("x{n}@kreis-kleve.de"), "falsches-passwort").await;
            assert_eq!(reply.status, 422);
        }
        let mut client = Browser::from("198.51.100.9:2");
        let reply = client.send(&app, TestRequest::post().uri("/api/v1/auth/token").set_json(json!({"email": other, "password": PASSWORD}))).await;
        assert_eq!(reply.status, 429);
    }
}

both_backends! {
    async fn a_pending_password_change_comes_first(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let user = create_user(&mut conn, EMAIL, "05154", &[Role::Koordination], Some(PASSWORD));
        diesel::update(users::table.find(user.id)).set(users::must_change_password.eq(true)).execute(&mut conn).unwrap();
        let app = ui_app!(db.pool(2));

        // Another browser logged in before the change; it is logged out by it.
        let mut elsewhere = Browser::default();
        elsewhere.login(&app, EMAIL, PASSWORD).await;

        let mut browser = Browser::default();
        assert_eq!(browser.login(&app, EMAIL, PASSWORD).await.location(), "/passwort");
        assert_eq!(browser.get(&app, "/").await.location(), "/passwort");
        assert_eq!(browser.get(&app, "/login").await.location(), "/passwort");
        let form = browser.get(&app, "/passwort").await;
        assert_eq!(form.status, 200);
        assert_security_headers(&form);
        assert!(form.body.contains("Einmalpasswort"), "{}", form.body);
        assert!(form.body.contains("autocomplete=\"new-password\""));
        assert!(form.body.contains("<label for=\"feld-wiederholung\">"));
        assert!(!form.body.contains("aria-label=\"Hauptnavigation\""), "no way around the form");
        let csrf = form.hidden("csrf");

        // Field errors: a summary at the top, each message linked to its field.
        let bad = browser.post(&app, "/passwort", &[("csrf", &csrf), ("aktuell", ""), ("neu", "zu-kurz"), ("wiederholung", "anders")]).await;
        assert_eq!(bad.status, 422);
        let summary = bad.body.find("role=\"alert\"").expect("an error summary");
        assert!(summary < bad.body.find("<form method=\"post\" action=\"/passwort\"").unwrap());
        assert!(bad.body.contains("<a href=\"#feld-aktuell\">Bitte geben Sie Ihr bisheriges Passwort ein.</a>"), "{}", bad.body);
        assert!(bad.body.contains("<a href=\"#feld-neu\">Das neue Passwort muss mindestens 12 Zeichen lang sein.</a>"));
        assert!(bad.body.contains("id=\"feld-neu\""));
        assert!(bad.body.contains("aria-describedby=\"hilfe-neu fehler-neu\" aria-invalid=\"true\""));
        assert!(bad.body.contains("aria-invalid=\"true\" aria-describedby=\"fehler-wiederholung\""));
        assert!(bad.body.contains("id=\"fehler-wiederholung\">Die Wiederholung stimmt nicht mit dem neuen Passwort überein.</span>"));

        let wrong = browser.post(&app, "/passwort", &[("csrf", &csrf), ("aktuell", "falsches-passwort"), ("neu", "ganz-neues-passwort"), ("wiederholung", "ganz-neues-passwort")]).await;
        assert_eq!(wrong.status, 422);
        assert!(wrong.body.contains("Das bisherige Passwort ist nicht korrekt."));
        let same = browser.post(&app, "/passwort", &[("csrf", &csrf), ("aktuell", PASSWORD), ("neu", PASSWORD), ("wiederholung", PASSWORD)]).await;
        assert!(same.body.contains("Das neue Passwort muss sich vom bisherigen unterscheiden."));

        let done = browser.post(&app, "/passwort", &[("csrf", &csrf), ("aktuell", PASSWORD), ("neu", "ganz-neues-passwort"), ("wiederholung", "ganz-neues-passwort")]).await;
        assert_eq!(done.location(), "/?hinweis=passwort-geaendert");
        let start = browser.get(&app, "/?hinweis=passwort-geaendert").await;
        assert_eq!(start.status, 200);
        assert!(start.body.contains("Ihr Passwort wurde geändert."));
        let stored = User::find_by_email(&mut conn, EMAIL).unwrap().unwrap();
        assert!(!stored.must_change_password);
        assert!(cheap_passwords().verify(stored.password_hash.as_deref(), "ganz-neues-passwort"));
        // Unknown notices are never echoed.
        assert!(!browser.get(&app, "/?hinweis=%3Cb%3Eboese").await.body.contains("boese"));

        assert_eq!(elsewhere.get(&app, "/").await.status, 303, "the other session ended");
        let mut again = Browser::default();
        assert_eq!(again.login(&app, EMAIL, "ganz-neues-passwort").await.location(), "/");
    }
}

both_backends! {
    async fn user_supplied_text_is_escaped(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let user = create_user(&mut conn, EMAIL, "05154", &[Role::Lesen], Some(PASSWORD));
        diesel::update(users::table.find(user.id)).set(users::display_name.eq("<script>alert(1)</script>")).execute(&mut conn).unwrap();
        let app = ui_app!(db.pool(2));

        let mut browser = Browser::default();
        let form = browser.get(&app, "/login?next=%2F%22%3E%3Cscript%3E").await;
        assert!(!form.body.contains("\"><script>"), "{}", form.body);
        let typed = browser.post(&app, "/login", &[("csrf", &form.hidden("csrf")), ("email", "\"><script>x</script>"), ("passwort", "egal-was")]).await;
        assert!(!typed.body.contains("<script>"), "{}", typed.body);
        assert!(typed.body.contains("&quot;&gt;&lt;script&gt;"));

        browser.login(&app, EMAIL, PASSWORD).await;
        let start = browser.get(&app, "/").await;
        assert!(!start.body.contains("<script>"), "{}", start.body);
        assert!(start.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }
}

both_backends! {
    async fn unknown_addresses_and_form_addresses_opened_directly_get_a_german_page(backend) {
        let db = TestDatabase::migrated(backend);
        create_user(&mut db.connection(), EMAIL, "05154", &[Role::Lesen], Some(PASSWORD));
        let app = ui_app!(db.pool(2));
        let mut browser = Browser::default();

        for path in ["/nirgends", "/vorgaenge/abc", "/static/nicht-da.css"] {
            let page = browser.get(&app, path).await;
            assert_eq!(page.status, 404, "{path}");
            assert_eq!(page.header("content-type"), "text/html; charset=utf-8", "{path}");
            assert_security_headers(&page);
            assert!(page.body.contains("<h1>Seite nicht gefunden</h1>"), "{path}: {}", page.body);
            assert!(page.body.contains("<a href=\"/\">Zur Startseite</a>"), "{path}");
            assert!(!page.body.contains("Angemeldet als"), "{path}");
        }
        // A form's address (POST only) opened as a page names what to do instead, and the
        // methods it takes.
        let form_address = browser.get(&app, "/logout").await;
        assert_eq!(form_address.status, 405);
        assert_eq!(form_address.header("allow"), "POST");
        assert_security_headers(&form_address);
        assert!(form_address.body.contains("<h1>Seite nicht abrufbar</h1>"), "{}", form_address.body);
        assert!(form_address.body.contains("nimmt nur ausgefüllte Formulare entgegen"));
        // Pages and files outside the staff pages (the partner page, a calendar feed, the
        // stylesheet) answer a method they lack the same way, naming the method.
        for (method, path, allow) in [
            ("DELETE", "/beteiligung/kein-link", "GET, POST"),
            ("POST", "/kalender/kein-abo.ics", "GET"),
            ("PUT", "/static/vorgang.css", "GET"),
        ] {
            let request = actix_test::TestRequest::default().method(method.parse().unwrap()).uri(path);
            let page = browser.send(&app, request).await;
            assert_eq!(page.status, 405, "{method} {path}");
            assert_eq!(page.header("allow"), allow, "{method} {path}");
            assert_eq!(page.header("content-type"), "text/html; charset=utf-8", "{method} {path}");
            assert_security_headers(&page);
            assert!(page.body.contains("<h1>Anfrage nicht möglich</h1>"), "{method} {path}: {}", page.body);
            assert!(page.body.contains(&format!("nimmt Anfragen der Art {method} nicht entgegen")), "{method} {path}");
        }

        // Logged in, both pages keep the header with the user and the navigation.
        browser.login(&app, EMAIL, PASSWORD).await;
        for (path, status) in [("/nirgends", 404), ("/logout", 405)] {
            let page = browser.get(&app, path).await;
            assert_eq!(page.status, status, "{path}");
            assert!(page.body.contains("Angemeldet als"), "{path}: {}", page.body);
            assert!(page.body.contains("href=\"/vorgaenge\""), "{path}");
        }
        // Under /api/ an unknown address stays a problem for programs.
        let api = browser.get(&app, "/api/v1/nirgends").await;
        assert_eq!(api.status, 404);
        assert_eq!(api.header("content-type"), "application/problem+json");
    }
}

both_backends! {
    async fn legal_pages_are_open_and_replaceable_from_legal_dir(backend) {
        let db = TestDatabase::migrated(backend);
        create_user(&mut db.connection(), EMAIL, "05154", &[Role::Lesen], Some(PASSWORD));
        let app = ui_app!(db.pool(2));
        let mut browser = Browser::default();
        for (path, heading) in [("/impressum", "Impressum"), ("/datenschutz", "Datenschutzerklärung"), ("/barrierefreiheit", "Erklärung zur Barrierefreiheit")] {
            let page = browser.get(&app, path).await;
            assert_eq!(page.status, 200, "{path}");
            assert_security_headers(&page);
            assert!(page.body.contains(&format!("<h1>{heading}</h1>")), "{path}");
            assert!(page.body.contains("Hinweis für den Betrieb"), "{path}: the placeholder says so");
            assert!(page.body.contains("legal_dir"));
        }
        let statement = browser.get(&app, "/barrierefreiheit").await.body;
        for section in ["Stand der Vereinbarkeit mit den Anforderungen", "Nicht barrierefreie Inhalte", "Erstellung dieser Erklärung zur Barrierefreiheit", "Feedback und Kontaktangaben", "Durchsetzungsverfahren"] {
            assert!(statement.contains(&format!("<h2>{section}</h2>")), "{section}");
        }
        assert!(statement.contains("BITV NRW"));
        assert!(statement.contains("Ombudsstelle"));

        // Logged in, the same pages show the user in the header.
        browser.login(&app, EMAIL, PASSWORD).await;
        assert!(browser.get(&app, "/impressum").await.body.contains("Angemeldet als"));

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("impressum.html"), "<p>Kreis <em>Kleve</em>, Nassauerallee 15–23</p>").unwrap();
        let ui = UiState::new(&"http://127.0.0.1:8080".parse().unwrap(), LegalTexts::load(dir.path()).unwrap());
        let app = ui_app!(db.pool(2), test_auth(), ui);
        let mut visitor = Browser::default();
        let page = visitor.get(&app, "/impressum").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("<p>Kreis <em>Kleve</em>, Nassauerallee 15–23</p>"), "{}", page.body);
        assert!(!page.body.contains("Hinweis für den Betrieb"));
        assert!(visitor.get(&app, "/datenschutz").await.body.contains("Hinweis für den Betrieb"));
    }
}

both_backends! {
    async fn partner_pages_keep_their_own_headers(backend) {
        let db = TestDatabase::migrated(backend);
        let app = ui_app!(db.pool(2));
        let mut browser = Browser::default();
        let page = browser.get(&app, "/beteiligung/kein-gueltiger-link").await;
        assert_eq!(page.status, 403);
        assert_eq!(page.header("referrer-policy"), "no-referrer");
        assert!(page.body.contains("Wenn Sie Fragen haben"));
        assert!(!page.body.contains("Abmelden"));
    }
}

/// Waits until the server printed a line containing `needle` on stdout.
fn printed(server: &RunningServer, needle: &str) -> Option<String> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if let Some(line) = server
            .stdout_lines()
            .into_iter()
            .find(|l| l.contains(needle))
        {
            return Some(line);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// An HTTP client that does not follow redirects.
fn client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

fn first_run_on(backend: Backend) {
    let db = TestDatabase::empty(backend);
    let dir = tempfile::tempdir().unwrap();
    let url = db.url_text();
    let env = [
        ("VORGANG_DATABASE_URL", url.as_str()),
        ("VORGANG_PUBLIC_URL", "https://vorgang.kreis-kleve.de"),
    ];
    let mut server = RunningServer::start(dir.path(), &env);
    let line = printed(&server, "Passwort:").expect("the password is printed on stdout");
    let password = line.split_whitespace().last().unwrap().to_string();
    assert_eq!(password.len(), 20, "{line}");
    let stdout = server.stdout_lines().join("\n");
    assert!(
        stdout.contains("Anmeldung:  https://vorgang.kreis-kleve.de/login"),
        "{stdout}"
    );
    assert!(
        stdout.contains("E-Mail:     admin@vorgang.kreis-kleve.de"),
        "{stdout}"
    );
    let log = server.log_lines();
    assert!(
        !log.iter().any(|l| l.contains(&password)),
        "the password must not reach the log"
    );
    assert!(
        log.iter()
            .any(|l| l.contains("first start: administrator created"))
    );

    // The administrator logs in with it and is sent to change it.
    let http = client();
    let form = http.get(&server.url("/login")).call().unwrap();
    let nonce = form
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let body = form.into_body().read_to_string().unwrap();
    let csrf = hidden_field(&body, "csrf").unwrap();
    let done = http
        .post(&server.url("/login"))
        .header("cookie", &nonce)
        .send_form([
            ("csrf", csrf.as_str()),
            ("email", "admin@vorgang.kreis-kleve.de"),
            ("passwort", password.as_str()),
        ])
        .unwrap();
    assert_eq!(done.status().as_u16(), 303);
    assert_eq!(done.headers().get("location").unwrap(), "/passwort");
    let mut conn = db.connection();
    let admin = User::find_by_email(&mut conn, "admin@vorgang.kreis-kleve.de")
        .unwrap()
        .unwrap();
    assert!(admin.must_change_password);
    assert_eq!(admin.roles(&mut conn).unwrap(), [Role::Admin]);
    assert!(
        server
            .signal_and_wait("TERM", Duration::from_secs(30))
            .success()
    );

    // The second start creates nothing and prints nothing.
    let mut again = RunningServer::start(dir.path(), &env);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        again.stdout_lines().is_empty(),
        "{:?}",
        again.stdout_lines()
    );
    let count: i64 = users::table.count().get_result(&mut conn).unwrap();
    assert_eq!(count, 1);
    // Recorded once, by the first start.
    use vorgang::db::schema::admin_events;
    let recorded: Vec<(String, String, String)> = admin_events::table
        .select((
            admin_events::actor,
            admin_events::kind,
            admin_events::subject,
        ))
        .load(&mut conn)
        .unwrap();
    assert_eq!(
        recorded,
        [(
            "Erststart".to_string(),
            "user_created".to_string(),
            "admin@vorgang.kreis-kleve.de".to_string()
        )]
    );
    assert!(
        again
            .signal_and_wait("TERM", Duration::from_secs(30))
            .success()
    );
}

#[test]
fn first_start_creates_an_administrator_and_prints_the_password_once_on_sqlite() {
    first_run_on(Backend::Sqlite);
}

#[test]
fn first_start_creates_an_administrator_and_prints_the_password_once_on_postgres() {
    if !crate::support::db::postgres_available() {
        return;
    }
    first_run_on(Backend::Postgres);
}

#[test]
fn serve_creates_no_administrator_when_vorgang_user_add_came_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut add = crate::support::process::vorgang();
    add.args([
        "user",
        "add",
        "--email",
        EMAIL,
        "--name",
        "Anna Schmidt",
        "--org",
        "05154",
        "--role",
        "koordination",
    ])
    .current_dir(dir.path())
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let mut child = add.spawn().unwrap();
    {
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let mut server = RunningServer::start(dir.path(), &[]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        server.stdout_lines().is_empty(),
        "{:?}",
        server.stdout_lines()
    );
    assert!(
        server
            .signal_and_wait("TERM", Duration::from_secs(30))
            .success()
    );
    let db = vorgang::db::Database::connect(
        vorgang::db::DatabaseUrl::Sqlite(dir.path().join("data/vorgang.db")),
        1,
    )
    .unwrap();
    let mut conn = db.get().unwrap();
    let count: i64 = users::table.count().get_result(&mut conn).unwrap();
    assert_eq!(count, 1, "only the user of `vorgang user add`");
    let user = User::find_by_email(&mut conn, EMAIL).unwrap().unwrap();
    assert!(
        !user.must_change_password,
        "users of `vorgang user add` keep their password"
    );
}

/// On SQLite a session's writes (marking it used, ending it) queue at the file's write gate
/// behind the server's write transactions, as every write of the process does. Outside the gate
/// they would wait in SQLite's busy handler, which under a stream of commands can miss every
/// free moment and fail the page view with "database is locked"; the short busy timeout here
/// makes that failure certain for a plain statement.
#[test]
fn session_writes_wait_at_the_sqlite_write_gate() {
    use diesel::connection::SimpleConnection;
    use vorgang::auth::session::{self, SessionLifetimes, Started};
    use vorgang::db::write_transaction;

    let db = TestDatabase::migrated(Backend::Sqlite);
    let user = create_user(
        &mut db.connection(),
        "k@kreis-soest.de",
        "05974",
        &[Role::Koordination],
        None,
    );
    let lifetimes = SessionLifetimes::default();
    let now = Utc::now().naive_utc();
    let started = session::create(
        &mut db.connection(),
        user.id,
        now - TimeDelta::minutes(5),
        lifetimes,
        None,
        Started::Password,
    )
    .unwrap();

    // Another writer of the process holds the write lock for a while, twice.
    let hold = || {
        let mut holder = db.connection();
        let (inside, entered) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            write_transaction(&mut holder, |conn| {
                conn.batch_execute("UPDATE users SET updated_at = updated_at")?;
                inside.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(400));
                Ok::<_, diesel::result::Error>(())
            })
        });
        entered.recv().unwrap();
        thread
    };
    let mut conn = db.connection();
    conn.batch_execute("PRAGMA busy_timeout = 50").unwrap();

    let holder = hold();
    assert!(
        conn.batch_execute("UPDATE ui_sessions SET last_seen_at = last_seen_at")
            .is_err(),
        "a plain write got past the held lock"
    );
    let found = session::lookup(&mut conn, &started.cookie_value, now, lifetimes)
        .unwrap()
        .expect("the session is live");
    holder.join().unwrap().unwrap();
    let seen: chrono::NaiveDateTime = ui_sessions::table
        .find(found.id)
        .select(ui_sessions::last_seen_at)
        .first(&mut conn)
        .unwrap();
    assert!(
        seen > now - TimeDelta::minutes(1),
        "the session was marked as used: {seen}"
    );

    let holder = hold();
    assert!(
        session::delete_by_cookie(&mut conn, &started.cookie_value).unwrap(),
        "logged out"
    );
    holder.join().unwrap().unwrap();
    let left: i64 = ui_sessions::table.count().get_result(&mut conn).unwrap();
    assert_eq!(left, 0);
}

both_backends! {
    async fn a_user_the_trusted_proxy_names_is_logged_in_without_a_password(backend) {
        let db = TestDatabase::migrated(backend);
        create_user(&mut db.connection(), EMAIL, "05154", &[Role::Koordination], None);
        create_user(&mut db.connection(), "ehemalig@kreis-kleve.de", "05154", &[Role::Lesen], Some(PASSWORD));
        diesel::update(users::table.filter(users::email.eq("ehemalig@kreis-kleve.de")))
            .set(users::active.eq(false))
            .execute(&mut db.connection())
            .unwrap();
        let auth = crate::support::auth::test_auth_with_proxy_login("10.0.0.1", "X-Remote-User");
        let app = ui_app!(db.pool(2), auth, plain_ui());
        let named = |path: &str, user: &str| TestRequest::get().uri(path).insert_header(("X-Remote-User", user.to_string()));

        // A page without a session goes to the login, which the proxy's word completes.
        let mut browser = Browser::from("10.0.0.1:5000");
        let start = browser.send(&app, named("/vorgaenge", EMAIL)).await;
        assert_eq!(start.location(), "/login?next=%2Fvorgaenge");
        let login = browser.send(&app, named("/login?next=%2Fvorgaenge", " Anna@Kreis-Kleve.de ")).await;
        assert_eq!(login.status, 303, "{}", login.body);
        assert_eq!(login.location(), "/vorgaenge");
        assert!(login.set_cookie("vorgang_session").contains("HttpOnly"));
        assert_eq!(session_rows(&db), 1);
        let list = browser.get(&app, "/vorgaenge").await;
        assert_eq!(list.status, 200, "{}", list.body);
        assert!(list.body.contains("Angemeldet als"), "{}", list.body);

        // Logged out, the login page does not log in again on its own, but offers to.
        let token = browser.csrf_token(&app, "/").await;
        let out = browser.post(&app, "/logout", &[("csrf", &token)]).await;
        assert_eq!(out.location(), "/login?abgemeldet=1");
        let page = browser.send(&app, named("/login?abgemeldet=1", EMAIL)).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("Sie haben sich abgemeldet."), "{}", page.body);
        assert!(page.body.contains("<a href=\"/login\">Erneut über das Netz Ihrer Verwaltung anmelden</a>"), "{}", page.body);
        assert_eq!(session_rows(&db), 0);
        assert_eq!(browser.send(&app, named("/login", EMAIL)).await.location(), "/");
        assert_eq!(session_rows(&db), 1);

        // The header from anyone but the proxy is a client's claim: the form, no session.
        let mut intruder = Browser::from("10.0.0.9:5000");
        let form = intruder.send(&app, named("/login", EMAIL)).await;
        assert_eq!(form.status, 200);
        assert!(form.body.contains("name=\"passwort\""), "{}", form.body);
        assert!(!form.body.contains("Erneut über das Netz"), "{}", form.body);
        assert!(!intruder.cookies.contains_key("vorgang_session"));
        assert_eq!(session_rows(&db), 1);

        // An address without an active account is told so; nothing starts.
        for (user, shown) in [("unbekannt@kreis-kleve.de", "unbekannt@kreis-kleve.de"), ("Ehemalig@kreis-kleve.de", "ehemalig@kreis-kleve.de")] {
            let mut other = Browser::from("10.0.0.1:5001");
            let refused = other.send(&app, named("/login", user)).await;
            assert_eq!(refused.status, 403, "{}", refused.body);
            assert!(refused.body.contains(&format!("Sie sind im Netz Ihrer Verwaltung als „{shown}“ angemeldet; dazu gibt es in vorgang kein aktives Konto.")), "{}", refused.body);
            assert!(!other.cookies.contains_key("vorgang_session"));
        }
        assert_eq!(session_rows(&db), 1);
    }
}

/// Whose sessions there are, and whether the proxy started them, by address.
fn session_users(db: &TestDatabase) -> Vec<(String, bool)> {
    ui_sessions::table
        .inner_join(users::table)
        .select((users::email, ui_sessions::through_proxy))
        .order(users::email)
        .load(&mut db.connection())
        .unwrap()
}

both_backends! {
    async fn a_session_the_proxy_started_ends_when_the_proxy_names_someone_else(backend) {
        const COLLEAGUE: &str = "bernd@kreis-kleve.de";
        const ADMIN: &str = "it@kreis-kleve.de";
        let db = TestDatabase::migrated(backend);
        create_user(&mut db.connection(), EMAIL, "05154", &[Role::Koordination], None);
        create_user(&mut db.connection(), COLLEAGUE, "05154", &[Role::Koordination], None);
        create_user(&mut db.connection(), ADMIN, "05154", &[Role::Admin], Some(PASSWORD));
        let auth = crate::support::auth::test_auth_with_proxy_login("10.0.0.1", "X-Remote-User");
        let app = ui_app!(db.pool(2), auth, plain_ui());
        let named = |request: TestRequest, user: &str| request.insert_header(("X-Remote-User", user.to_string()));

        let mut workstation = Browser::from("10.0.0.1:5000");
        assert_eq!(workstation.send(&app, named(TestRequest::get().uri("/login"), EMAIL)).await.location(), "/");
        let start = workstation.send(&app, named(TestRequest::get().uri("/"), EMAIL)).await;
        assert_eq!(start.status, 200, "{}", start.body);
        let token = start.hidden("csrf");
        assert_eq!(session_users(&db), vec![(EMAIL.to_string(), true)]);

        // A colleague logs in to the network at the same workstation: the form the first user
        // left open does nothing in the first user's name, and that session is over.
        let form = named(TestRequest::post().uri("/konto/abwesenheit/beenden").set_form([("csrf", token.as_str())]), COLLEAGUE);
        let posted = workstation.send(&app, form).await;
        assert_eq!(posted.status, 303, "{}", posted.body);
        assert_eq!(posted.location(), "/login");
        assert!(session_users(&db).is_empty());
        let page = workstation.send(&app, named(TestRequest::get().uri("/vorgaenge"), COLLEAGUE)).await;
        assert_eq!(page.location(), "/login?next=%2Fvorgaenge");
        let login = workstation.send(&app, named(TestRequest::get().uri("/login?next=%2Fvorgaenge"), COLLEAGUE)).await;
        assert_eq!(login.location(), "/vorgaenge");
        assert_eq!(session_users(&db), vec![(COLLEAGUE.to_string(), true)]);
        let page = workstation.send(&app, named(TestRequest::get().uri("/vorgaenge"), COLLEAGUE)).await;
        assert_eq!(page.status, 200, "{}", page.body);
        // A request the proxy names nobody in (a path it does not guard) keeps the session.
        assert_eq!(workstation.get(&app, "/vorgaenge").await.status, 200);
        assert_eq!(session_users(&db), vec![(COLLEAGUE.to_string(), true)]);

        // A session started with a password is the account's, whoever the proxy names.
        let mut admin = Browser::from("10.0.0.1:5001");
        assert_eq!(admin.login(&app, ADMIN, PASSWORD).await.location(), "/");
        let page = admin.send(&app, named(TestRequest::get().uri("/vorgaenge"), EMAIL)).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert_eq!(
            session_users(&db),
            vec![(COLLEAGUE.to_string(), true), (ADMIN.to_string(), false)]
        );
    }
}

both_backends! {
    async fn without_a_proxy_login_header_the_proxy_names_nobody(backend) {
        let db = TestDatabase::migrated(backend);
        create_user(&mut db.connection(), EMAIL, "05154", &[Role::Koordination], Some(PASSWORD));
        let app = ui_app!(db.pool(2), crate::support::auth::test_auth_behind("10.0.0.1"), plain_ui());
        let mut browser = Browser::from("10.0.0.1:5000");
        let form = browser.send(&app, TestRequest::get().uri("/login").insert_header(("X-Remote-User", EMAIL))).await;
        assert_eq!(form.status, 200);
        assert!(form.body.contains("name=\"passwort\""), "{}", form.body);
        assert_eq!(session_rows(&db), 0);
    }
}

both_backends! {
    async fn through_the_proxy_a_one_time_password_lapses_and_a_first_password_needs_its_word(backend) {
        let db = TestDatabase::migrated(backend);
        create_user(&mut db.connection(), "it@kreis-kleve.de", "05154", &[Role::Admin], Some(PASSWORD));
        let auth = crate::support::auth::test_auth_with_proxy_login("10.0.0.1", "X-Remote-User");
        let app = ui_app!(db.pool(2), auth, plain_ui());
        let named = |request: TestRequest| request.insert_header(("X-Remote-User", EMAIL));
        let stored = || User::find_by_email(&mut db.connection(), EMAIL).unwrap().unwrap();

        // The administration creates the account; its page says the one-time password lapses
        // at a login through the network.
        let mut admin = Browser::from("10.0.0.9:4000");
        assert_eq!(admin.login(&app, "it@kreis-kleve.de", PASSWORD).await.location(), "/");
        let csrf = admin.csrf_token(&app, "/admin/benutzer/neu").await;
        let created = admin.post(&app, "/admin/benutzer/neu", &[("csrf", &csrf), ("email", EMAIL), ("name", "Anna Muster"), ("organisation", "05154"), ("rolle", "koordination")]).await;
        assert_eq!(created.status, 200, "{}", created.body);
        assert!(created.body.contains("(Single Sign-on), braucht es das Einmalpasswort nicht: Es verfällt bei dieser ersten Anmeldung."), "{}", created.body);
        let start = created.body.find("<p class=\"passwort\"><code>").unwrap() + "<p class=\"passwort\"><code>".len();
        let one_time = created.body[start..].split("</code>").next().unwrap().to_string();
        assert!(stored().must_change_password);

        // The proxy vouches for the user: no detour through the password form, and the
        // one-time password the administration saw no longer logs anybody in.
        let mut browser = Browser::from("10.0.0.1:5000");
        let login = browser.send(&app, named(TestRequest::get().uri("/login?next=%2Fvorgaenge"))).await;
        assert_eq!(login.location(), "/vorgaenge");
        assert_eq!(browser.send(&app, named(TestRequest::get().uri("/vorgaenge"))).await.status, 200);
        let after = stored();
        assert!(!after.must_change_password);
        assert_eq!(after.password_hash, None);
        let mut someone = Browser::from("10.0.0.9:5000");
        let refused = someone.login(&app, EMAIL, &one_time).await;
        assert!(refused.body.contains(WRONG), "{}", refused.body);

        // The account page says so; with the proxy's word in the request, the user may set a
        // password without a current one (for the API, or a login outside the network).
        let account = browser.send(&app, named(TestRequest::get().uri("/konto"))).await;
        assert!(account.body.contains("kein eigenes Passwort. <a href=\"/passwort\">Passwort festlegen</a>"), "{}", account.body);
        let form = browser.send(&app, named(TestRequest::get().uri("/passwort"))).await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.body.contains("<h1>Passwort festlegen</h1>"), "{}", form.body);
        assert!(form.body.contains("kein eigenes Passwort. Sie brauchen keines"), "{}", form.body);
        assert!(!form.body.contains("name=\"aktuell\""), "{}", form.body);
        let csrf = form.hidden("csrf");
        let fields = [("csrf", csrf.as_str()), ("neu", "mein-eigenes-passwort"), ("wiederholung", "mein-eigenes-passwort")];

        // Without it, the session cookie alone sets nothing.
        let page = browser.get(&app, "/passwort").await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Sie haben in vorgang kein Passwort."), "{}", page.body);
        assert!(!page.body.contains("<form method=\"post\" action=\"/passwort\""), "{}", page.body);
        let unvouched = browser.post(&app, "/passwort", &fields).await;
        assert_eq!(unvouched.status, 403, "{}", unvouched.body);
        assert!(unvouched.body.contains("Sie haben in vorgang kein Passwort."), "{}", unvouched.body);
        assert_eq!(stored().password_hash, None);

        let short = browser.send(&app, named(TestRequest::post().uri("/passwort").set_form([("csrf", csrf.as_str()), ("neu", "kurz"), ("wiederholung", "kurz")]))).await;
        assert_eq!(short.status, 422, "{}", short.body);
        assert!(short.body.contains("Das neue Passwort muss mindestens 12 Zeichen lang sein."), "{}", short.body);
        assert_eq!(stored().password_hash, None);

        let done = browser.send(&app, named(TestRequest::post().uri("/passwort").set_form(fields))).await;
        assert_eq!(done.location(), "/?hinweis=passwort-geaendert", "{}", done.body);
        assert!(cheap_passwords().verify(stored().password_hash.as_deref(), "mein-eigenes-passwort"));
        let mut elsewhere = Browser::from("10.0.0.9:5001");
        assert_eq!(elsewhere.login(&app, EMAIL, "mein-eigenes-passwort").await.location(), "/");

        // From now on a change proves the current password, as for everybody.
        let account = browser.send(&app, named(TestRequest::get().uri("/konto"))).await;
        assert!(account.body.contains("<a href=\"/passwort\">Passwort ändern</a>"), "{}", account.body);
        let form = browser.send(&app, named(TestRequest::get().uri("/passwort"))).await;
        assert!(form.body.contains("<h1>Passwort ändern</h1>") && form.body.contains("name=\"aktuell\""), "{}", form.body);
        let csrf = form.hidden("csrf");
        let again = browser.send(&app, named(TestRequest::post().uri("/passwort").set_form([("csrf", csrf.as_str()), ("neu", "noch-ein-passwort"), ("wiederholung", "noch-ein-passwort")]))).await;
        assert_eq!(again.status, 422, "{}", again.body);
        assert!(cheap_passwords().verify(stored().password_hash.as_deref(), "mein-eigenes-passwort"));
    }
}
