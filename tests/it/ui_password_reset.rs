//! „Passwort vergessen“: a link by mail, a new password through it, once; the request page
//! tells nobody whether an address has an account, and requests are limited.

use diesel::prelude::*;
use vorgang::db::models::{Role, User};
use vorgang::db::schema::{admin_events, ui_sessions, users};

use crate::beteiligung::mails;
use crate::support::TestDatabase;
use crate::support::auth::create_user;
use crate::support::ui::{Browser, ui_app};

const EMAIL: &str = "anna@kreis-kleve.de";
const PASSWORD: &str = "richtig-langes-passwort";
const NEW_PASSWORD: &str = "ein ganz neuer langer Satz";
const REQUEST: &str = "/login/passwort-vergessen";

/// The path of the reset link in the text of the newest `passwort_vergessen` mail to `to`.
fn link_to(db: &TestDatabase, to: &str) -> String {
    let mail = mails(db)
        .into_iter()
        .rev()
        .find(|m| m.0 == "passwort_vergessen" && m.1 == [to])
        .expect("a reset mail");
    let start =
        mail.3.find("https://vorgang.test/").expect("a link") + "https://vorgang.test".len();
    mail.3[start..]
        .split(char::is_whitespace)
        .next()
        .unwrap()
        .to_string()
}

fn reset_mails(db: &TestDatabase) -> usize {
    mails(db)
        .iter()
        .filter(|m| m.0 == "passwort_vergessen")
        .count()
}

fn user(db: &TestDatabase, email: &str) -> User {
    User::find_by_email(&mut db.connection(), email)
        .unwrap()
        .unwrap()
}

fn generation(db: &TestDatabase, email: &str) -> i32 {
    users::table
        .filter(users::email.eq(email))
        .select(users::token_generation)
        .first(&mut db.connection())
        .unwrap()
}

/// Asks for a link for `email` in a fresh browser; returns the answer.
async fn ask<S, B>(app: &S, email: &str, peer: &str) -> crate::support::ui::Page
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let mut browser = Browser::from(peer);
    let form = browser.get(app, REQUEST).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.hidden("csrf");
    browser
        .post(app, REQUEST, &[("csrf", &csrf), ("email", email)])
        .await
}

both_backends! {
    async fn a_forgotten_password_is_replaced_once_through_a_mailed_link(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), EMAIL, "05154", &[Role::Koordination], Some(PASSWORD));
        let app = ui_app!(db, dir);

        // The login page offers it.
        let mut browser = Browser::from("192.0.2.10:4000");
        let login = browser.get(&app, "/login").await;
        assert!(login.body.contains("href=\"/login/passwort-vergessen\""), "{}", login.body);

        // A form not from this browser, an empty and a malformed address: refused, no mail.
        let form = browser.get(&app, REQUEST).await;
        assert_eq!(form.status, 200);
        assert!(form.body.contains("<label for=\"feld-email\">E-Mail-Adresse</label>"));
        let csrf = form.hidden("csrf");
        let forged = Browser::from("192.0.2.10:4000").post(&app, REQUEST, &[("csrf", &csrf), ("email", EMAIL)]).await;
        assert_eq!(forged.status, 403, "{}", forged.body);
        let empty = browser.post(&app, REQUEST, &[("csrf", &csrf), ("email", " ")]).await;
        assert_eq!(empty.status, 422);
        assert!(empty.body.contains("Bitte geben Sie Ihre E-Mail-Adresse ein.") && empty.body.contains("aria-describedby=\"fehler-email\""), "{}", empty.body);
        let name = browser.post(&app, REQUEST, &[("csrf", &csrf), ("email", "Anna Berg")]).await;
        assert_eq!(name.status, 422);
        assert!(name.body.contains("wie name@kreis-beispiel.de"), "{}", name.body);
        assert_eq!(reset_mails(&db), 0);

        // An unknown address and a known one read the same, and neither answers sooner than
        // the floor that hides the time a queued mail takes; only the account gets a mail.
        let asked = std::time::Instant::now();
        let unknown = ask(&app, "niemand@kreis-kleve.de", "192.0.2.11:4000").await;
        assert!(asked.elapsed() >= std::time::Duration::from_millis(400));
        let asked = std::time::Instant::now();
        let known = ask(&app, " Anna@Kreis-Kleve.DE ", "192.0.2.12:4000").await;
        assert!(asked.elapsed() >= std::time::Duration::from_millis(400));
        assert_eq!((unknown.status, known.status), (200, 200));
        assert!(known.body.contains("Wenn zu „Anna@Kreis-Kleve.DE“ ein aktives Konto mit Passwort besteht"), "{}", known.body);
        assert_eq!(
            unknown.body.replace("niemand@kreis-kleve.de", "ADRESSE"),
            known.body.replace("Anna@Kreis-Kleve.DE", "ADRESSE"),
            "whether an address has an account must not show"
        );
        let sent: Vec<_> = mails(&db).into_iter().filter(|m| m.0 == "passwort_vergessen").collect();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].1, [EMAIL]);
        assert!(!sent[0].2.contains("anna") && !sent[0].2.contains("Anna"), "no personal data in the subject: {}", sent[0].2);
        assert!(sent[0].3.contains("gilt 60 Minuten") && sent[0].4.contains("Neues Passwort festlegen"), "{}", sent[0].3);
        let link = link_to(&db, EMAIL);
        assert!(link.starts_with("/login/passwort-vergessen/ey"), "{link}");
        // The administration finds the mail by its address, in any case, as queued (the
        // outbox's search reads the addresses out of the rendered mail), and not by its text.
        {
            use vorgang::mail::outbox::{ListFilter, ListOrder, list};
            let mut conn = db.connection();
            let mut search = |text: &str| {
                let filter = ListFilter { status: None, text: Some(text.to_string()) };
                list(&mut conn, &filter, ListOrder::Newest, 1, 10).unwrap().0
            };
            let found = search("ANNA@kreis-kleve");
            assert_eq!(found.len(), 1);
            assert_eq!(found[0].template, "passwort_vergessen");
            assert!(search("Neues Passwort festlegen").is_empty(), "the text is not searched");
            assert!(search("niemand@kreis-kleve.de").is_empty());
        }

        // Until the link is used, the old password works: a session elsewhere.
        let mut elsewhere = Browser::from("192.0.2.13:4000");
        assert_eq!(elsewhere.login(&app, EMAIL, PASSWORD).await.location(), "/");
        let before = (user(&db, EMAIL).password_hash, generation(&db, EMAIL));

        // The link's form; what is wrong with the new password is named at its field.
        let mut owner = Browser::from("192.0.2.14:4000");
        let page = owner.get(&app, &link).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains(EMAIL) && page.body.contains("autocomplete=\"new-password\""), "{}", page.body);
        assert!(page.body.contains("<h1>Neues Passwort festlegen</h1>") && !page.body.contains("Einmalpasswort"), "{}", page.body);
        let csrf = page.hidden("csrf");
        let short = owner.post(&app, &link, &[("csrf", &csrf), ("neu", "kurz"), ("wiederholung", "kurz")]).await;
        assert_eq!(short.status, 422);
        assert!(short.body.contains("mindestens") && short.body.contains("href=\"#feld-neu\""), "{}", short.body);
        let differing = owner.post(&app, &link, &[("csrf", &csrf), ("neu", NEW_PASSWORD), ("wiederholung", "ein anderer langer Satz")]).await;
        assert_eq!(differing.status, 422);
        assert!(differing.body.contains("Die Wiederholung stimmt nicht"), "{}", differing.body);
        let foreign = Browser::from("192.0.2.15:4000").post(&app, &link, &[("csrf", &csrf), ("neu", NEW_PASSWORD), ("wiederholung", NEW_PASSWORD)]).await;
        assert_eq!(foreign.status, 403, "{}", foreign.body);
        assert_eq!((user(&db, EMAIL).password_hash, generation(&db, EMAIL)), before, "nothing changed");

        // Set: to the login page, which says so; sessions and tokens ended, recorded, told.
        let done = owner.post(&app, &link, &[("csrf", &csrf), ("neu", NEW_PASSWORD), ("wiederholung", NEW_PASSWORD)]).await;
        assert_eq!(done.location(), "/login?passwort=neu", "{}", done.body);
        let login = owner.get(&app, "/login?passwort=neu").await;
        assert!(login.body.contains("Ihr neues Passwort ist festgelegt"), "{}", login.body);
        let account = user(&db, EMAIL);
        assert_ne!(account.password_hash, before.0);
        assert!(!account.must_change_password);
        assert_eq!(generation(&db, EMAIL), before.1 + 1, "API tokens end");
        let sessions: i64 = ui_sessions::table.filter(ui_sessions::user_id.eq(account.id)).count().get_result(&mut db.connection()).unwrap();
        assert_eq!(sessions, 0, "the session elsewhere ended");
        assert_eq!(elsewhere.get(&app, "/").await.status, 303);
        let recorded: Vec<(String, String, String)> = admin_events::table
            .select((admin_events::actor, admin_events::kind, admin_events::subject))
            .load(&mut db.connection())
            .unwrap();
        assert_eq!(recorded, [(EMAIL.to_string(), "user_password_reset_by_mail".to_string(), EMAIL.to_string())]);
        let changed: Vec<_> = mails(&db).into_iter().filter(|m| m.0 == "passwort_geaendert").collect();
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].1, [EMAIL]);
        assert!(changed[0].3.contains("wenden Sie sich bitte umgehend an die Administration"), "{}", changed[0].3);
        assert_eq!(changed[0].2, "Ihr Passwort für vorgang wurde geändert");
        assert!(changed[0].3.contains("ein neues Passwort für Ihr Konto in vorgang festgelegt"), "{}", changed[0].3);

        // The old password is gone, the new one works.
        assert_eq!(Browser::from("192.0.2.16:4000").login(&app, EMAIL, PASSWORD).await.status, 422);
        assert_eq!(Browser::from("192.0.2.17:4000").login(&app, EMAIL, NEW_PASSWORD).await.location(), "/");

        // The link works once: it neither opens nor sets anything again.
        let again = owner.get(&app, &link).await;
        assert_eq!(again.status, 410);
        assert!(again.body.contains("Dieser Link gilt nicht mehr") && again.body.contains("href=\"/login/passwort-vergessen\""), "{}", again.body);
        let hash = user(&db, EMAIL).password_hash;
        let replay = owner.post(&app, &link, &[("csrf", &csrf), ("neu", "noch ein langer Satz"), ("wiederholung", "noch ein langer Satz")]).await;
        assert_eq!(replay.status, 410);
        assert_eq!(user(&db, EMAIL).password_hash, hash);

        // A link altered by one character is refused as invalid.
        let mut tampered = link.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        let invalid = owner.get(&app, &tampered).await;
        assert_eq!(invalid.status, 403);
        assert!(invalid.body.contains("Dieser Link ist ungültig"), "{}", invalid.body);
    }
}

both_backends! {
    async fn inactive_and_passwordless_accounts_get_no_link_and_links_expire(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), EMAIL, "05154", &[Role::Koordination], Some(PASSWORD));
        create_user(&mut db.connection(), "sso@kreis-kleve.de", "05154", &[Role::Koordination], None);
        create_user(&mut db.connection(), "alt@kreis-kleve.de", "05154", &[Role::Koordination], Some(PASSWORD));
        diesel::update(users::table.filter(users::email.eq("alt@kreis-kleve.de")))
            .set(users::active.eq(false))
            .execute(&mut db.connection())
            .unwrap();
        let app = ui_app!(db, dir);

        // No mail for an account without a password or a deactivated one; the page is the same.
        for (i, email) in ["sso@kreis-kleve.de", "alt@kreis-kleve.de"].into_iter().enumerate() {
            let page = ask(&app, email, &format!("192.0.2.{}:4000", 20 + i)).await;
            assert_eq!(page.status, 200);
            assert!(page.body.contains("Wenn zu"), "{}", page.body);
        }
        assert_eq!(reset_mails(&db), 0);

        // A link older than an hour has expired.
        let outgoing = crate::support::partners::outgoing();
        let two_hours_ago = chrono::Utc::now() - chrono::TimeDelta::hours(2);
        assert!(vorgang::service::password_reset::request(&mut db.connection(), &outgoing, EMAIL, two_hours_ago).unwrap());
        let old = link_to(&db, EMAIL);
        let expired = Browser::from("192.0.2.30:4000").get(&app, &old).await;
        assert_eq!(expired.status, 410);
        assert!(expired.body.contains("abgelaufen"), "{}", expired.body);

        // A fresh link stops working when the account is deactivated before it is used.
        assert_eq!(ask(&app, EMAIL, "192.0.2.31:4000").await.status, 200);
        let fresh = link_to(&db, EMAIL);
        assert_ne!(fresh, old);
        assert_eq!(Browser::from("192.0.2.32:4000").get(&app, &fresh).await.status, 200);
        diesel::update(users::table.filter(users::email.eq(EMAIL)))
            .set(users::active.eq(false))
            .execute(&mut db.connection())
            .unwrap();
        assert_eq!(Browser::from("192.0.2.32:4000").get(&app, &fresh).await.status, 410);
    }
}

both_backends! {
    async fn requests_for_links_are_limited_per_address_and_per_client(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        create_user(&mut db.connection(), EMAIL, "05154", &[Role::Koordination], Some(PASSWORD));
        let app = ui_app!(db, dir);

        // Five an hour for one account, from different clients; the sixth is refused.
        for i in 0..5 {
            assert_eq!(ask(&app, EMAIL, &format!("192.0.2.{}:4000", 40 + i)).await.status, 200);
        }
        let refused = ask(&app, EMAIL, "192.0.2.50:4000").await;
        assert_eq!(refused.status, 429, "{}", refused.body);
        assert!(refused.body.contains("zu viele") && !refused.header("retry-after").is_empty(), "{}", refused.body);
        assert_eq!(reset_mails(&db), 5);

        // Five an hour from one client, whatever addresses it names, known or not.
        for i in 0..5 {
            assert_eq!(ask(&app, &format!("niemand{i}@kreis-kleve.de"), "192.0.2.60:4000").await.status, 200);
        }
        assert_eq!(ask(&app, "noch-jemand@kreis-kleve.de", "192.0.2.60:4000").await.status, 429);
        assert_eq!(reset_mails(&db), 5);
    }
}
