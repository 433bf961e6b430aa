//! The administration pages of the web interface: admin-only, the workflow editor, organisation
//! addresses, users with one-time passwords, the outbox retry, jobs and timers, escaping.

use actix_web::test as actix_test;
use actix_web::web;
use chrono::Utc;
use diesel::prelude::*;
use serde_json::{Value, json};
use vorgang::db::models::{DefinitionRow, Organisation, Role, User};
use vorgang::db::schema::{
    admin_events, cases, job_runs, organisations, outbox, timers, users, workflow_definitions,
};
use vorgang::service::organisations as orgs;
use vorgang::web::ui::{LegalTexts, UiState};

use crate::support::TestDatabase;
use crate::support::auth::{create_user, test_auth};
use crate::support::cases::insert_case;
use crate::support::ui::{Browser, unescape};

const PASSWORD: &str = "richtig-langes-passwort";
const ADMIN: &str = "admin@kfi.nrw.de";

macro_rules! admin_app {
    ($db:expr) => {{
        let db = $db;
        let api =
            crate::support::api::state(&db, &std::env::temp_dir().join("vorgang-ui-admin-tests"));
        let ui = UiState::new(
            &"http://127.0.0.1:8080".parse().unwrap(),
            LegalTexts::builtin(),
        );
        actix_test::init_service(vorgang::web::app_with_ui(
            db,
            test_auth(),
            api,
            web::Data::new(ui),
        ))
        .await
    }};
}

/// A browser logged in as a new admin.
macro_rules! admin_browser {
    ($app:expr, $db:expr) => {{
        create_user(
            &mut $db.connection(),
            ADMIN,
            "KFI",
            &[Role::Admin],
            Some(PASSWORD),
        );
        let mut browser = Browser::default();
        assert_eq!(browser.login(&$app, ADMIN, PASSWORD).await.location(), "/");
        browser
    }};
}

/// The administration's record as stored, oldest first: (actor, kind, subject).
fn recorded(db: &TestDatabase) -> Vec<(String, String, String)> {
    admin_events::table
        .order(admin_events::id)
        .select((
            admin_events::actor,
            admin_events::kind,
            admin_events::subject,
        ))
        .load(&mut db.connection())
        .unwrap()
}

const PAGES: [&str; 15] = [
    "/admin",
    "/admin/workflows",
    "/admin/zeitraeume",
    "/admin/workflows/ki-antrag",
    "/admin/workflows/ki-antrag/bpmn",
    "/admin/workflows/ki-antrag/bearbeiten",
    "/admin/workflows/neu",
    "/admin/organisationen",
    "/admin/organisationen/KFI",
    "/admin/benutzer",
    "/admin/anmeldesperren",
    "/admin/postausgang",
    "/admin/aufgaben",
    "/admin/aussonderung",
    "/admin/protokoll",
];

both_backends! {
    async fn only_admins_see_the_administration(backend) {
        let db = TestDatabase::migrated(backend);
        let app = admin_app!(db.pool(2));
        create_user(&mut db.connection(), "ko@kreis-kleve.de", "05154", &[Role::Koordination, Role::Lesen, Role::Bewilligung], Some(PASSWORD));
        let mut other = Browser::default();
        assert_eq!(other.login(&app, "ko@kreis-kleve.de", PASSWORD).await.location(), "/");
        for path in PAGES {
            let page = other.get(&app, path).await;
            assert_eq!(page.status, 403, "{path}");
            assert!(page.body.contains("Keine Berechtigung"), "{path}: {}", page.body);
            assert!(page.body.contains("<html lang=\"de\">"));
        }
        let csrf = other.csrf_token(&app, "/").await;
        let refused = other.post(&app, "/admin/benutzer/neu", &[("csrf", &csrf), ("email", "x@y.de"), ("name", "X"), ("organisation", "KFI"), ("rolle", "admin")]).await;
        assert_eq!(refused.status, 403);
        assert!(User::find_by_email(&mut db.connection(), "x@y.de").unwrap().is_none());

        let mut admin = admin_browser!(app, db);
        for path in PAGES {
            let page = admin.get(&app, path).await;
            assert_eq!(page.status, 200, "{path}: {}", page.body);
        }
        let overview = admin.get(&app, "/admin").await;
        for link in ["/admin/workflows", "/admin/zeitraeume", "/admin/organisationen", "/admin/benutzer", "/admin/anmeldesperren", "/admin/postausgang", "/admin/aufgaben", "/admin/aussonderung", "/admin/protokoll"] {
            assert!(overview.body.contains(&format!("href=\"{link}\"")), "{link}");
        }
        // Without a session: to the login.
        let anonymous = Browser::default().get(&app, "/admin/benutzer").await;
        assert!(anonymous.location().starts_with("/login"));
    }
}

both_backends! {
    async fn the_workflow_editor_checks_and_deploys(backend) {
        let db = TestDatabase::migrated(backend);
        let app = admin_app!(db.pool(2));
        let mut admin = admin_browser!(app, db);
        let versions = |db: &TestDatabase| DefinitionRow::history(&mut db.connection(), "ki-antrag").unwrap().len();
        let before = versions(&db);
        let source = DefinitionRow::latest(&mut db.connection(), "ki-antrag").unwrap().unwrap().source;

        let list = admin.get(&app, "/admin/workflows").await;
        assert!(list.body.contains("href=\"/admin/workflows/ki-antrag\""), "{}", list.body);
        let shown = admin.get(&app, "/admin/workflows/ki-antrag").await;
        assert!(shown.body.contains("id=\"zeile-1\""));
        assert!(shown.body.contains("Ablaufdiagramm"));
        assert!(shown.body.contains("Unterschiede zur Vorversion"));
        assert!(shown.body.contains("und weitere 5 Jahre aufbewahrt (Einstellung der Installation;"), "{}", shown.body);

        let csrf = admin.csrf_token(&app, "/admin/workflows/ki-antrag/bearbeiten").await;
        let broken = format!("{source}\nsteps: [kaputt\n");
        let checked = admin.post(&app, "/admin/workflows/ki-antrag/bearbeiten", &[("csrf", &csrf), ("quelle", &broken), ("aktion", "bereitstellen")]).await;
        assert_eq!(checked.status, 422, "{}", checked.body);
        assert!(checked.body.contains("Die Definition enthält Fehler"));
        assert!(checked.body.contains("href=\"#zeile-"), "{}", checked.body);
        assert!(checked.body.contains("» Fehler:"));
        assert!(checked.body.contains("aria-invalid=\"true\""));
        assert_eq!(versions(&db), before, "nothing deployed");

        let changed = source.replacen("title: ", "title: Geändert ", 1).replacen("\nstart: ", "\nretention_years: 10\nstart: ", 1);
        let valid = admin.post(&app, "/admin/workflows/ki-antrag/bearbeiten", &[("csrf", &csrf), ("quelle", &changed.replace('\n', "\r\n")), ("aktion", "pruefen")]).await;
        assert_eq!(valid.status, 200, "{}", valid.body);
        assert!(valid.body.contains("Die Definition ist gültig."));
        assert_eq!(versions(&db), before, "checking deploys nothing");

        let deployed = admin.post(&app, "/admin/workflows/ki-antrag/bearbeiten", &[("csrf", &csrf), ("quelle", &changed), ("aktion", "bereitstellen")]).await;
        let location = deployed.location().to_string();
        assert_eq!(location, format!("/admin/workflows/ki-antrag?version={}&hinweis=bereitgestellt", before + 1));
        assert_eq!(versions(&db), before + 1);
        let page = admin.get(&app, &location).await;
        assert!(page.body.contains(&format!("Version {} wurde bereitgestellt.", before + 1)), "{}", page.body);
        assert!(page.body.contains("Geändert"));
        let own_period = format!("und weitere 10 Jahre aufbewahrt (eigene Frist des Workflows, Version {})", before + 1);
        assert!(page.body.contains(&own_period), "{}", page.body);
        assert!(page.body.contains(ADMIN));
        // The diagram of the new version, and what changed against the previous one.
        assert!(page.body.contains("<svg") && page.body.contains("role=\"img\""), "{}", page.body);
        assert!(page.body.contains(&format!("Version {before} → Version {}", before + 1)), "{}", page.body);
        assert!(page.body.contains("+ hinzugefügt") && page.body.contains("− entfernt"), "{}", page.body);
        assert!(page.body.contains("title: Geändert "), "{}", page.body);
        let first = admin.get(&app, "/admin/workflows/ki-antrag?version=1").await;
        assert!(first.body.contains("Dies ist die erste Version"), "{}", first.body);
        assert!(first.body.contains(&own_period), "the newest version's period holds: {}", first.body);
        // A version that does not exist, or is no number, is not silently the newest.
        for wrong in ["999", "abc", ""] {
            let missing = admin.get(&app, &format!("/admin/workflows/ki-antrag?version={wrong}")).await;
            assert_eq!(missing.status, 404, "{wrong}");
            assert!(missing.body.contains("hat keine solche Version"), "{wrong}: {}", missing.body);
        }

        // Each version as a BPMN file for a modelling tool, offered beside its diagram.
        let newest = before + 1;
        let link = format!("/admin/workflows/ki-antrag/bpmn?version={newest}");
        assert!(page.body.contains(&format!("href=\"{link}\"")), "{}", page.body);
        let original = "Antrag auf Einrichtung eines Kommunalen Integrationszentrums";
        for (version, title) in [(newest, format!("Geändert {original}")), (1, original.to_string())] {
            let file = admin.get(&app, &format!("/admin/workflows/ki-antrag/bpmn?version={version}")).await;
            assert_eq!(file.status, 200, "{}", file.body);
            assert_eq!(file.headers.get("content-type").unwrap(), "application/xml; charset=utf-8");
            let disposition = file.headers.get("content-disposition").unwrap().to_str().unwrap();
            assert!(disposition.contains(&format!("filename=\"ki-antrag-v{version}.bpmn\"")), "{disposition}");
            let xml = roxmltree::Document::parse(&file.body).unwrap();
            let process = xml.descendants().find(|n| n.tag_name().name() == "process").unwrap();
            assert_eq!(process.attribute("name"), Some(title.as_str()), "version {version}");
            assert!(file.body.contains(&format!("urn:vorgang:workflow:ki-antrag:{version}")));
        }
        for wrong in ["999", "abc"] {
            let missing = admin.get(&app, &format!("/admin/workflows/ki-antrag/bpmn?version={wrong}")).await;
            assert_eq!(missing.status, 404, "{wrong}");
            assert!(missing.body.contains("keine"), "{wrong}: {}", missing.body);
        }

        // A new workflow may not take an existing key.
        let taken = admin.post(&app, "/admin/workflows/neu", &[("csrf", &csrf), ("quelle", &source), ("aktion", "pruefen")]).await;
        assert_eq!(taken.status, 422);
        assert!(taken.body.contains("gibt es bereits"), "{}", taken.body);
    }
}

both_backends! {
    async fn organisation_addresses_are_edited_with_field_errors(backend) {
        let db = TestDatabase::migrated(backend);
        let app = admin_app!(db.pool(2));
        let mut admin = admin_browser!(app, db);
        let csrf = admin.csrf_token(&app, "/admin/organisationen/05154").await;

        let saved = admin.post(&app, "/admin/organisationen/05154", &[
            ("csrf", &csrf), ("postfach", "ki@kreis-kleve.de"), ("leitung", "Leitung@Kreis-Kleve.de"),
            ("kontakt_email", "anna@kreis-kleve.de"), ("kontakt_name", "Anna"),
            ("kontakt_email", ""), ("kontakt_name", ""),
        ]).await;
        assert_eq!(saved.location(), "/admin/organisationen/05154?hinweis=gespeichert");
        let view = orgs::show(&mut db.connection(), "05154").unwrap();
        assert_eq!(view.mailbox.as_deref(), Some("ki@kreis-kleve.de"));
        assert_eq!(view.head.as_deref(), Some("leitung@kreis-kleve.de"));
        assert_eq!(view.contacts.len(), 1);
        let page = admin.get(&app, "/admin/organisationen/05154?hinweis=gespeichert").await;
        assert!(page.body.contains("<h1>Adressen: Kreis Kleve</h1>"), "the Kreis, not the town: {}", page.body);
        assert!(page.body.contains("Die Adressen wurden gespeichert."));
        assert!(page.body.contains("value=\"anna@kreis-kleve.de\""));

        let invalid = admin.post(&app, "/admin/organisationen/05154", &[
            ("csrf", &csrf), ("postfach", "kein-postfach"), ("leitung", ""),
            ("kontakt_email", "neu@kreis-kleve.de"), ("kontakt_name", ""),
        ]).await;
        assert_eq!(invalid.status, 422, "{}", invalid.body);
        assert!(invalid.body.contains("href=\"#feld-postfach\""), "{}", invalid.body);
        assert!(invalid.body.contains("aria-describedby=\"fehler-postfach\""));
        assert!(invalid.body.contains("value=\"kein-postfach\""));
        assert_eq!(orgs::show(&mut db.connection(), "05154").unwrap(), view, "nothing changed");
        // One change, one entry, without the addresses themselves.
        assert_eq!(recorded(&db), [(ADMIN.to_string(), "organisation_addresses_replaced".to_string(), "05154".to_string())]);
        let record = admin.get(&app, "/admin/protokoll").await;
        assert!(record.body.contains("Adressen von 05154 ersetzt: mit Funktionspostfach, 1 Kontakte, Leitung eingetragen"), "{}", record.body);
        assert!(!record.body.contains("anna@kreis-kleve.de"));

        let list = admin.get(&app, "/admin/organisationen?q=kleve&art=kreis").await;
        assert!(list.body.contains("leitung@kreis-kleve.de"), "{}", list.body);
        assert!(list.body.contains("Anna"));
    }
}

both_backends! {
    async fn organisations_are_registered_and_names_escaped(backend) {
        let db = TestDatabase::migrated(backend);
        let app = admin_app!(db.pool(2));
        let mut admin = admin_browser!(app, db);
        let csrf = admin.csrf_token(&app, "/admin/organisationen/neu").await;
        let wrong = admin.post(&app, "/admin/organisationen/neu", &[("csrf", &csrf), ("schluessel", "mit leerzeichen"), ("name", ""), ("art", "partner"), ("uebergeordnet", ""), ("postfach", "")]).await;
        assert_eq!(wrong.status, 422);
        assert!(wrong.body.contains("href=\"#feld-schluessel\""));
        assert!(wrong.body.contains("href=\"#feld-name\""));

        let name = "<script>alert(1)</script> Schulamt";
        let made = admin.post(&app, "/admin/organisationen/neu", &[("csrf", &csrf), ("schluessel", "SCHULAMT-KLE"), ("name", name), ("art", "partner"), ("uebergeordnet", "05154"), ("postfach", "schulamt@kreis-kleve.de")]).await;
        assert_eq!(made.location(), "/admin/organisationen/SCHULAMT-KLE?hinweis=angelegt");
        for path in ["/admin/organisationen?q=schulamt", "/admin/organisationen/SCHULAMT-KLE"] {
            let page = admin.get(&app, path).await;
            assert!(!page.body.contains("<script>"), "{path}");
            assert!(page.body.contains("&lt;script&gt;"), "{path}: {}", page.body);
        }
        let stored: String = organisations::table.filter(organisations::key.eq("SCHULAMT-KLE")).select(organisations::name).first(&mut db.connection()).unwrap();
        assert_eq!(stored, name);
        assert_eq!(recorded(&db), [(ADMIN.to_string(), "organisation_registered".to_string(), "SCHULAMT-KLE".to_string())], "the refused form left no entry");
        let record = admin.get(&app, "/admin/protokoll").await;
        assert!(record.body.contains("Schulamt“ (SCHULAMT-KLE) registriert"), "{}", record.body);
        assert!(record.body.contains("Organisation „&lt;script&gt;"), "{}", record.body);
        assert!(!record.body.contains("<script>"));
    }
}

both_backends! {
    async fn users_are_created_with_a_one_time_password(backend) {
        let db = TestDatabase::migrated(backend);
        let app = admin_app!(db.pool(2));
        let mut admin = admin_browser!(app, db);
        let csrf = admin.csrf_token(&app, "/admin/benutzer/neu").await;

        let missing = admin.post(&app, "/admin/benutzer/neu", &[("csrf", &csrf), ("email", "kaputt"), ("name", ""), ("organisation", "05154")]).await;
        assert_eq!(missing.status, 422);
        assert!(missing.body.contains("href=\"#feld-email\""));
        assert!(missing.body.contains("href=\"#feld-rolle\""));

        let created = admin.post(&app, "/admin/benutzer/neu", &[("csrf", &csrf), ("email", "Neu@Kreis-Kleve.de"), ("name", "Nora Neu"), ("organisation", "05154"), ("rolle", "koordination"), ("rolle", "lesen")]).await;
        assert_eq!(created.status, 200, "{}", created.body);
        assert!(created.body.contains("nur jetzt angezeigt"));
        let start = created.body.find("<p class=\"passwort\"><code>").unwrap() + "<p class=\"passwort\"><code>".len();
        let end = created.body[start..].find("</code>").unwrap();
        let password = unescape(&created.body[start..start + end]);
        assert_eq!(password.len(), 20);
        let user = User::find_by_email(&mut db.connection(), "neu@kreis-kleve.de").unwrap().unwrap();
        assert!(user.must_change_password);
        assert_eq!(user.roles(&mut db.connection()).unwrap(), [Role::Koordination, Role::Lesen]);
        let list = admin.get(&app, "/admin/benutzer").await;
        assert!(list.body.contains("neu@kreis-kleve.de"));
        assert!(!list.body.contains(&password), "shown once only");
        let row = list.body.split("<tr>").find(|row| row.contains("neu@kreis-kleve.de")).unwrap();
        assert!(row.contains("aktiv, Einmalpasswort noch nicht ersetzt</td>"), "{row}");
        // The list is searched by address, name or organisation, in any case, and by state.
        let total = list.body.matches("<th scope=\"row\"").count();
        assert!(total >= 2, "{}", list.body);
        assert!(list.body.contains(&format!("Alle {total} Benutzerkonten")), "{}", list.body);
        let found = admin.get(&app, "/admin/benutzer?q=+NORA+").await;
        assert_eq!(found.body.matches("<th scope=\"row\"").count(), 1, "{}", found.body);
        assert!(found.body.contains("neu@kreis-kleve.de") && !found.body.contains(&format!(">{ADMIN}<")), "{}", found.body);
        assert!(found.body.contains(&format!("Benutzerkonten: 1 von {total} passen zur Suche")), "{}", found.body);
        assert!(found.body.contains("value=\" NORA \""), "the search stays in its field: {}", found.body);
        let by_organisation = admin.get(&app, "/admin/benutzer?q=kreis%20kleve").await;
        assert!(by_organisation.body.contains("neu@kreis-kleve.de"), "{}", by_organisation.body);
        let inactive = admin.get(&app, "/admin/benutzer?status=deaktiviert").await;
        assert!(inactive.body.contains("Kein Benutzerkonto passt zur Suche."), "{}", inactive.body);
        assert!(inactive.body.contains("<option value=\"deaktiviert\" selected>"), "{}", inactive.body);
        let active = admin.get(&app, "/admin/benutzer?status=aktiv&q=neu@").await;
        assert_eq!(active.body.matches("<th scope=\"row\"").count(), 1, "{}", active.body);
        // Without single sign-on nothing says the password could lapse.
        assert!(!created.body.contains("Single Sign-on"), "{}", created.body);
        // An account without a password can only come in through the proxy; the list says so.
        diesel::update(users::table.find(user.id)).set(users::password_hash.eq(None::<String>)).execute(&mut db.connection()).unwrap();
        let list = admin.get(&app, "/admin/benutzer").await;
        let row = list.body.split("<tr>").find(|row| row.contains("neu@kreis-kleve.de")).unwrap();
        assert!(row.contains(", ohne Passwort (nur Anmeldung über das Netz)</td>"), "{row}");
        diesel::update(users::table.find(user.id)).set(users::password_hash.eq(&user.password_hash)).execute(&mut db.connection()).unwrap();

        let mut nora = Browser::default();
        assert_eq!(nora.login(&app, "neu@kreis-kleve.de", &password).await.location(), "/passwort");
        assert_eq!(nora.get(&app, "/").await.location(), "/passwort");

        // Roles change; the admin may not drop their own admin role nor deactivate themselves.
        let roles = admin.post(&app, &format!("/admin/benutzer/{}/rollen", user.id.0), &[("csrf", &csrf), ("rolle", "lesen")]).await;
        assert_eq!(roles.location(), format!("/admin/benutzer/{}?hinweis=rollen", user.id.0));
        assert_eq!(user.roles(&mut db.connection()).unwrap(), [Role::Lesen]);
        let me = User::find_by_email(&mut db.connection(), ADMIN).unwrap().unwrap();
        let own = admin.post(&app, &format!("/admin/benutzer/{}/rollen", me.id.0), &[("csrf", &csrf), ("rolle", "lesen")]).await;
        assert_eq!(own.status, 422);
        assert!(own.body.contains("nicht selbst entziehen"), "{}", own.body);
        assert_eq!(me.roles(&mut db.connection()).unwrap(), [Role::Admin]);
        let self_off = admin.post(&app, &format!("/admin/benutzer/{}/aktiv", me.id.0), &[("csrf", &csrf), ("aktiv", "nein")]).await;
        assert_eq!(self_off.status, 422);
        assert!(self_off.body.contains("Sie können Ihr eigenes Konto nicht deaktivieren."), "{}", self_off.body);
        let active: bool = users::table.find(me.id).select(users::active).first(&mut db.connection()).unwrap();
        assert!(active);

        // Deactivating another user ends their session; reactivating works.
        let off = admin.post(&app, &format!("/admin/benutzer/{}/aktiv", user.id.0), &[("csrf", &csrf), ("aktiv", "nein")]).await;
        assert_eq!(off.location(), format!("/admin/benutzer/{}?hinweis=deaktiviert", user.id.0));
        assert!(nora.get(&app, "/passwort").await.location().starts_with("/login"));
        let on = admin.post(&app, &format!("/admin/benutzer/{}/aktiv", user.id.0), &[("csrf", &csrf), ("aktiv", "ja")]).await;
        assert_eq!(on.status, 303);
        let active: bool = users::table.find(user.id).select(users::active).first(&mut db.connection()).unwrap();
        assert!(active);

        // The administration's record: the four changes, by whom, newest first; the refused
        // forms (missing fields, dropping one's own admin role, deactivating oneself) left none.
        let nora_address = "neu@kreis-kleve.de".to_string();
        assert_eq!(recorded(&db), [
            (ADMIN.to_string(), "user_created".to_string(), nora_address.clone()),
            (ADMIN.to_string(), "user_roles_changed".to_string(), nora_address.clone()),
            (ADMIN.to_string(), "user_activation_changed".to_string(), nora_address.clone()),
            (ADMIN.to_string(), "user_activation_changed".to_string(), nora_address),
        ]);
        let record = admin.get(&app, "/admin/protokoll").await;
        assert_eq!(record.status, 200, "{}", record.body);
        assert!(record.body.contains("4 Einträge, Seite 1 von 1."), "{}", record.body);
        let position = |text: &str| record.body.find(text).unwrap_or_else(|| panic!("{text}: {}", record.body));
        let sentences = [
            "Benutzer neu@kreis-kleve.de wieder aktiviert",
            "Benutzer neu@kreis-kleve.de deaktiviert",
            "Rollen von neu@kreis-kleve.de geändert: vorher Koordination, Lesen, jetzt Lesen",
            "Benutzer neu@kreis-kleve.de angelegt (Organisation 05154, Rollen: Koordination, Lesen)",
        ];
        for pair in sentences.windows(2) {
            assert!(position(pair[0]) < position(pair[1]), "newest first: {pair:?}");
        }
        assert!(record.body.contains(ADMIN));
    }
}

both_backends! {
    async fn failed_mails_are_retried(backend) {
        let db = TestDatabase::migrated(backend);
        let app = admin_app!(db.pool(2));
        let mut admin = admin_browser!(app, db);
        let now = Utc::now().naive_utc();
        let rendered = json!({ "from": "ki@kreis-kleve.de", "to": ["partner@example.org"], "text": "Hallo", "html": "<p>Hallo</p>" });
        diesel::insert_into(outbox::table)
            .values((
                outbox::message_id.eq("<fehl@vorgang>"),
                outbox::template.eq("beteiligung_einladung"),
                outbox::recipients.eq("[]"),
                outbox::context.eq("{}"),
                outbox::status.eq("failed"),
                outbox::attempts.eq(5),
                outbox::last_error.eq("550 Postfach unbekannt"),
                outbox::next_attempt_at.eq(now),
                outbox::created_at.eq(now),
                outbox::subject.eq("Einladung <Beteiligung>"),
                outbox::rendered.eq(rendered.to_string()),
            ))
            .execute(&mut db.connection())
            .unwrap();
        let id: i64 = outbox::table.select(outbox::id).first(&mut db.connection()).unwrap();
        let start = admin.get(&app, "/").await;
        assert!(start.body.contains("1 Mail wurde nicht versandt"), "{}", start.body);
        assert!(start.body.contains("href=\"/admin/postausgang?status=failed\""));
        let page = admin.get(&app, "/admin/postausgang").await;
        assert!(page.body.contains("550 Postfach unbekannt"), "{}", page.body);
        assert!(page.body.contains("partner@example.org"));
        assert!(page.body.contains("Einladung &lt;Beteiligung&gt;"));
        assert!(page.body.contains(&format!("action=\"/admin/postausgang/{id}/erneut\"")));
        let csrf = page.hidden("csrf");
        let retried = admin.post(&app, &format!("/admin/postausgang/{id}/erneut"), &[("csrf", &csrf)]).await;
        assert_eq!(retried.location(), "/admin/postausgang?hinweis=erneut");
        let (status, attempts): (String, i32) = outbox::table.find(id).select((outbox::status, outbox::attempts)).first(&mut db.connection()).unwrap();
        assert_eq!((status.as_str(), attempts), ("pending", 0));
        let again = admin.post(&app, &format!("/admin/postausgang/{id}/erneut"), &[("csrf", &csrf)]).await;
        assert_eq!(again.status, 409);

        // A digest held because the Kreis Soest had no address: the retry says so and changes
        // nothing, until the office's mailbox is recorded.
        let soest = Organisation::find_by_key(&mut db.connection(), "05974").unwrap().unwrap();
        let unaddressed = json!({ "from": "", "to": [], "text": "Fristen", "html": "<p>Fristen</p>" });
        let reason = "Keine Empfängeradresse: Für die Stelle ist weder ein Funktionspostfach noch ein Kontakt noch ein Konto mit der Rolle „koordination“ hinterlegt. Bitte tragen Sie eine Adresse nach und senden Sie die Mail dann erneut.";
        diesel::insert_into(outbox::table)
            .values((
                outbox::message_id.eq("<digest@vorgang>"),
                outbox::template.eq("fristen_uebersicht"),
                outbox::recipients.eq(json!({ "kind": "office", "organisation": soest.id.0 }).to_string()),
                outbox::context.eq("{}"),
                outbox::status.eq("failed"),
                outbox::last_error.eq(reason),
                outbox::next_attempt_at.eq(now),
                outbox::created_at.eq(now),
                outbox::subject.eq("Fristen der nächsten 14 Tage"),
                outbox::rendered.eq(unaddressed.to_string()),
            ))
            .execute(&mut db.connection())
            .unwrap();
        let held: i64 = outbox::table.filter(outbox::message_id.eq("<digest@vorgang>")).select(outbox::id).first(&mut db.connection()).unwrap();
        let page = admin.get(&app, "/admin/postausgang").await;
        assert!(page.body.contains("Keine Empfängeradresse: Für die Stelle"), "{}", page.body);
        let refused = admin.post(&app, &format!("/admin/postausgang/{held}/erneut"), &[("csrf", &csrf)]).await;
        assert_eq!(refused.status, 422);
        assert!(refused.body.contains("Für die Stelle ist weder ein Funktionspostfach"), "{}", refused.body);
        let (status, rendered): (String, String) = outbox::table.find(held).select((outbox::status, outbox::rendered)).first(&mut db.connection()).unwrap();
        assert_eq!((status.as_str(), rendered), ("failed", unaddressed.to_string()));
        diesel::update(organisations::table.find(soest.id))
            .set(organisations::mailbox.eq("ki@kreis-soest.de"))
            .execute(&mut db.connection())
            .unwrap();
        let retried = admin.post(&app, &format!("/admin/postausgang/{held}/erneut"), &[("csrf", &csrf)]).await;
        assert_eq!(retried.location(), "/admin/postausgang?hinweis=erneut");
        let (status, rendered): (String, String) = outbox::table.find(held).select((outbox::status, outbox::rendered)).first(&mut db.connection()).unwrap();
        assert_eq!(status, "pending");
        let rendered: Value = serde_json::from_str(&rendered).unwrap();
        assert_eq!(rendered["to"], json!(["ki@kreis-soest.de"]));
        assert_eq!(rendered["text"], "Fristen", "only the addresses change");
        let start = admin.get(&app, "/").await;
        assert!(!start.body.contains("nicht versandt"), "nothing failed any more: {}", start.body);
    }
}

both_backends! {
    async fn the_outbox_pages_and_searches_its_mails_failed_ones_first(backend) {
        let db = TestDatabase::migrated(backend);
        let app = admin_app!(db.pool(2));
        let mut admin = admin_browser!(app, db);
        let now = Utc::now().naive_utc();
        // 230 mails: the third and the 150th failed, the others sent.
        let rows: Vec<_> = (1..=230)
            .map(|n: i32| {
                let failed = n == 3 || n == 150;
                (
                    outbox::message_id.eq(format!("<mail-{n}@vorgang>")),
                    outbox::template.eq("beteiligung_einladung"),
                    outbox::recipients.eq("[]"),
                    outbox::context.eq("{}"),
                    outbox::status.eq(if failed { "failed" } else { "sent" }),
                    outbox::next_attempt_at.eq(now),
                    outbox::created_at.eq(now),
                    outbox::subject.eq(format!("Mail Nummer {n}.")),
                    outbox::rendered.eq(json!({ "from": "ki@kreis-kleve.de", "to": [format!("stelle-{n}@example.org")], "text": "Hallo" }).to_string()),
                )
            })
            .collect();
        let mut conn = db.connection();
        for row in rows {
            diesel::insert_into(outbox::table).values(row).execute(&mut conn).unwrap();
        }
        drop(conn);
        let subjects = |body: &str| -> Vec<i32> {
            body.match_indices("Mail Nummer ")
                .map(|(at, needle)| {
                    let rest = &body[at + needle.len()..];
                    rest[..rest.find('.').unwrap()].parse().unwrap()
                })
                .collect()
        };

        let first = admin.get(&app, "/admin/postausgang").await;
        assert_eq!(first.status, 200, "{}", first.body);
        assert!(first.body.contains("230 Mails, Seite 1 von 3"), "{}", first.body);
        let shown = subjects(&first.body);
        assert_eq!(shown.len(), 100);
        assert_eq!(shown[..3], [150, 3, 230], "failed ones first, then the newest");
        assert!(unescape(&first.body).contains("href=\"/admin/postausgang?seite=2\" rel=\"next\""), "{}", first.body);
        assert!(!first.body.contains("rel=\"prev\""));

        // After two pages of 100: 31 down to 1, without the failed 3 shown first.
        let last = admin.get(&app, "/admin/postausgang?seite=3").await;
        let shown = subjects(&last.body);
        assert_eq!(shown, (1..=31).rev().filter(|n| *n != 3).collect::<Vec<_>>());
        assert!(unescape(&last.body).contains("href=\"/admin/postausgang?seite=2\" rel=\"prev\""));
        assert!(!last.body.contains("rel=\"next\""));
        // Every mail stands on exactly one page.
        let second = subjects(&admin.get(&app, "/admin/postausgang?seite=2").await.body);
        let mut all: Vec<i32> = subjects(&first.body).into_iter().chain(second).chain(shown).collect();
        all.sort_unstable();
        assert_eq!(all, (1..=230).collect::<Vec<_>>());

        // A status filter keeps its pages; the sent ones alone are 228.
        let sent = admin.get(&app, "/admin/postausgang?status=sent&seite=2").await;
        assert!(sent.body.contains("228 Mails, Seite 2 von 3"), "{}", sent.body);
        assert!(unescape(&sent.body).contains("href=\"/admin/postausgang?status=sent&seite=3\" rel=\"next\""), "{}", sent.body);

        // Past the end: no mails, a way back to the last page.
        let beyond = admin.get(&app, "/admin/postausgang?seite=9").await;
        assert!(beyond.body.contains("Keine Mails."), "{}", beyond.body);
        assert!(unescape(&beyond.body).contains("href=\"/admin/postausgang?seite=3\" rel=\"prev\""), "{}", beyond.body);
        let beyond_one = admin.get(&app, "/admin/postausgang?status=failed&seite=2").await;
        assert!(beyond_one.body.contains("Keine Mails."), "{}", beyond_one.body);
        assert!(unescape(&beyond_one.body).contains("href=\"/admin/postausgang?status=failed&seite=1\" rel=\"prev\""), "{}", beyond_one.body);

        // The subjects are searched in any case, and the search stays in the page links:
        // „nummer 1“ is in 1, 10–19 and 100–199 (111 mails, two pages; 150 failed, first).
        let searched = admin.get(&app, "/admin/postausgang?q=NUMMER+1").await;
        assert!(searched.body.contains("111 Mails, Seite 1 von 2"), "{}", searched.body);
        assert_eq!(subjects(&searched.body)[..2], [150, 199]);
        assert!(searched.body.contains("value=\"NUMMER 1\""), "{}", searched.body);
        assert!(unescape(&searched.body).contains("href=\"/admin/postausgang?q=NUMMER+1&seite=2\" rel=\"next\""), "{}", searched.body);
        let one = admin.get(&app, "/admin/postausgang?q=Nummer%2015.&status=sent").await;
        assert_eq!(subjects(&one.body), [15], "{}", one.body);
        // The addresses are searched too (not the sender, not the text).
        let to_one = admin.get(&app, "/admin/postausgang?q=STELLE-15%40").await;
        assert_eq!(subjects(&to_one.body), [15], "{}", to_one.body);
        let failed_to_all = admin.get(&app, "/admin/postausgang?q=example.org&status=failed").await;
        assert_eq!(subjects(&failed_to_all.body), [150, 3], "{}", failed_to_all.body);
        for elsewhere in ["kreis-kleve", "Hallo"] {
            let none = admin.get(&app, &format!("/admin/postausgang?q={elsewhere}")).await;
            assert!(none.body.contains("Keine Mail passt zur Suche."), "{elsewhere}: {}", none.body);
        }
        // LIKE's wildcards are searched for as they are.
        for wildcard in ["_", "%25"] {
            let none = admin.get(&app, &format!("/admin/postausgang?q={wildcard}")).await;
            assert!(none.body.contains("Keine Mail passt zur Suche."), "{wildcard}: {}", none.body);
        }

        for bad in ["0", "-1", "zwei", "1.5"] {
            let refused = admin.get(&app, &format!("/admin/postausgang?seite={bad}")).await;
            assert_eq!(refused.status, 400, "{bad}");
            assert!(refused.body.contains("Die Seitenzahl muss eine positive ganze Zahl sein."), "{bad}: {}", refused.body);
        }
    }
}

both_backends! {
    async fn the_jobs_page_lists_runs_and_timers(backend) {
        let db = TestDatabase::migrated(backend);
        let app = admin_app!(db.pool(2));
        let mut admin = admin_browser!(app, db);
        let now = Utc::now().naive_utc();
        let case = insert_case(&mut db.connection(), "KI-05154-2026-0007");
        // A second case on the shipped Antrag, whose steps have German titles.
        let antrag = insert_case(&mut db.connection(), "KI-05154-2026-0008");
        diesel::update(cases::table.find(antrag))
            .set(cases::definition_id.eq(workflow_definitions::table
                .filter(workflow_definitions::key.eq("ki-antrag"))
                .select(workflow_definitions::id)
                .single_value()
                .assume_not_null()))
            .execute(&mut db.connection())
            .unwrap();
        let today = now.date();
        for (case, local, step, error) in [(case, 1, "pruefung", None), (case, 2, "entscheidung", Some("Vorlage fehlt")), (antrag, 1, "beteiligung", None)] {
            diesel::insert_into(timers::table)
                .values((
                    timers::case_id.eq(case),
                    timers::local_id.eq(local),
                    timers::step.eq(step),
                    timers::due.eq(today),
                    timers::kind.eq("reminder"),
                    timers::deadline.eq(today),
                    timers::last_error.eq(error),
                    timers::created_at.eq(now),
                ))
                .execute(&mut db.connection())
                .unwrap();
        }
        diesel::insert_into(job_runs::table)
            .values((
                job_runs::job.eq("reminders"),
                job_runs::scheduled_for.eq(now),
                job_runs::started_at.eq(now),
                job_runs::finished_at.eq(now),
                job_runs::outcome.eq("failed"),
                job_runs::counts.eq("{\"fired\": 3}"),
                job_runs::error.eq("Datenbank nicht erreichbar"),
                job_runs::owner.eq("test"),
            ))
            .execute(&mut db.connection())
            .unwrap();
        let page = admin.get(&app, "/admin/aufgaben").await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Datenbank nicht erreichbar"));
        assert!(page.body.contains("fired: 3"));
        assert!(page.body.contains(&format!("href=\"/vorgaenge/{case}\">KI-05154-2026-0007</a>")), "{}", page.body);
        assert!(page.body.contains("entscheidung"), "a step its version does not know keeps its key");
        assert!(page.body.contains("Vorlage fehlt"));
        assert!(page.body.contains("<td>Beteiligung der örtlichen Partner</td>"), "the step by its title: {}", page.body);
        assert!(page.body.contains("housekeeping"));
    }
}

both_backends! {
    async fn an_ended_case_past_its_retention_period_is_disposed_of_through_the_form(backend) {
        let db = TestDatabase::migrated(backend);
        let app = admin_app!(db.pool(2));
        let mut admin = admin_browser!(app, db);
        let id = insert_case(&mut db.connection(), "KI-05154-2018-0003");
        let running = insert_case(&mut db.connection(), "KI-05154-2018-0004");
        let ended = chrono::NaiveDate::from_ymd_opt(2018, 6, 30).unwrap().and_hms_opt(8, 0, 0).unwrap();
        diesel::update(cases::table.find(id))
            .set((cases::status.eq("completed"), cases::updated_at.eq(ended)))
            .execute(&mut db.connection())
            .unwrap();
        diesel::update(cases::table.find(running))
            .set(cases::updated_at.eq(ended))
            .execute(&mut db.connection())
            .unwrap();
        let exists = |id: i64| cases::table.find(id).count().get_result::<i64>(&mut db.connection()).unwrap() == 1;

        let list = admin.get(&app, "/admin/aussonderung").await;
        assert_eq!(list.status, 200, "{}", list.body);
        assert!(list.body.contains("KI-05154-2018-0003"), "{}", list.body);
        assert!(!list.body.contains("KI-05154-2018-0004"), "a running case is not due");
        assert!(list.body.contains("31.12.2023"), "kept until the end of 2018 plus five years");
        assert!(list.body.contains(&format!("href=\"/admin/aussonderung/{id}\"")));
        assert!(list.body.contains("Noch kein Vorgang ausgesondert."));
        let start = admin.get(&app, "/").await;
        assert!(start.body.contains("1 Vorgang ist zur Aussonderung fällig"), "{}", start.body);
        assert!(start.body.contains("href=\"/admin/aussonderung\""));

        let form = admin.get(&app, &format!("/admin/aussonderung/{id}")).await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert_eq!(admin.get(&app, &format!("/admin/aussonderung/{running}")).await.status, 404, "a running case has no form");
        assert!(form.body.contains("Vorgang KI-05154-2018-0003 aussondern"));
        let csrf = form.hidden("csrf");
        let path = format!("/admin/aussonderung/{id}");

        // Neither decision nor confirmation: both named, nothing deleted.
        let incomplete = admin.post(&app, &path, &[("csrf", &csrf), ("zeichen", "Az. 1")]).await;
        assert_eq!(incomplete.status, 422, "{}", incomplete.body);
        assert!(incomplete.body.contains("Bitte wählen Sie die Entscheidung des Archivs."));
        assert!(incomplete.body.contains("Bitte bestätigen Sie, dass der Vorgang endgültig gelöscht wird."));
        assert!(incomplete.body.contains("value=\"Az. 1\""), "the input is kept");
        assert!(exists(id));
        // Taken by the archive, but never exported: refused with the reason.
        let unexported = admin.post(&app, &path, &[("csrf", &csrf), ("entscheidung", "archived"), ("bestaetigung", "ja")]).await;
        assert_eq!(unexported.status, 422, "{}", unexported.body);
        assert!(unexported.body.contains("exportieren Sie die Akte"), "{}", unexported.body);
        assert!(exists(id));
        // A reference that is no line of text.
        let bad = admin.post(&app, &path, &[("csrf", &csrf), ("entscheidung", "declined"), ("zeichen", "a\u{7}b"), ("bestaetigung", "ja")]).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(bad.body.contains("Steuerzeichen"), "{}", bad.body);
        assert!(exists(id));
        // Without the form's token: refused.
        let forged = admin.post(&app, &path, &[("entscheidung", "declined"), ("bestaetigung", "ja")]).await;
        assert_eq!(forged.status, 403);
        assert!(exists(id));

        let done = admin.post(&app, &path, &[("csrf", &csrf), ("entscheidung", "declined"), ("zeichen", "Kreisarchiv <Kleve>, Az. 47"), ("bestaetigung", "ja")]).await;
        assert_eq!(done.location(), "/admin/aussonderung?hinweis=ausgesondert");
        assert!(!exists(id));
        assert!(exists(running));
        let list = admin.get(&app, "/admin/aussonderung?hinweis=ausgesondert").await;
        assert!(list.body.contains("Der Vorgang wurde ausgesondert und gelöscht"));
        assert!(list.body.contains("Kein Vorgang ist zur Aussonderung fällig."));
        assert!(list.body.contains("vom Archiv als nicht archivwürdig bewertet"));
        assert!(list.body.contains("Kreisarchiv &lt;Kleve&gt;, Az. 47"), "escaped: {}", list.body);
        assert!(list.body.contains(ADMIN));
        assert!(!admin.get(&app, "/").await.body.contains("zur Aussonderung fällig"));
        // Gone: the form is not found, and posting again deletes nothing.
        assert_eq!(admin.get(&app, &path).await.status, 404);
        let again = admin.post(&app, &path, &[("csrf", &csrf), ("entscheidung", "declined"), ("bestaetigung", "ja")]).await;
        assert_eq!(again.status, 404, "{}", again.body);
    }
}

both_backends! {
    async fn the_record_page_filters_by_kind_and_text_and_pages(backend) {
        let db = TestDatabase::migrated(backend);
        {
            let mut conn = db.connection();
            let start = chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap().and_hms_opt(8, 0, 0).unwrap();
            // 60 role changes of one account, then one account created: 61 entries.
            for i in 0..60 {
                vorgang::service::admin_log::record(&mut conn, start + chrono::Duration::minutes(i), "chefin@kfi.nrw.de",
                    vorgang::service::admin_log::ROLES_CHANGED, "anna@kreis-kleve.de",
                    &json!({ "before": ["lesen"], "after": ["koordination"] })).unwrap();
            }
            vorgang::service::admin_log::record(&mut conn, start + chrono::Duration::hours(2), vorgang::service::admin_log::COMMAND_LINE,
                vorgang::service::admin_log::USER_CREATED, "bernd@kreis-soest.de",
                &json!({ "organisation": "05974", "roles": ["lesen"] })).unwrap();
        }
        let app = admin_app!(db.pool(2));
        let mut admin = admin_browser!(app, db);

        let first = admin.get(&app, "/admin/protokoll").await;
        assert_eq!(first.status, 200);
        assert!(first.body.contains("61 Einträge, Seite 1 von 2."), "{}", first.body);
        assert_eq!(first.body.matches("<tr><td>").count(), 50);
        // Newest first: the account created on the command line heads the first page.
        let newest = first.body.find("Benutzer bernd@kreis-soest.de angelegt (Organisation 05974, Rollen: Lesen)").expect("newest entry");
        assert!(newest < first.body.find("Rollen von anna@kreis-kleve.de geändert").unwrap());
        assert!(unescape(&first.body).contains("href=\"/admin/protokoll?seite=2\" rel=\"next\""), "{}", first.body);
        assert!(!first.body.contains("rel=\"prev\""));

        let second = admin.get(&app, "/admin/protokoll?seite=2").await;
        assert!(second.body.contains("Seite 2 von 2."));
        assert_eq!(second.body.matches("<tr><td>").count(), 11);
        assert!(unescape(&second.body).contains("href=\"/admin/protokoll\" rel=\"prev\""), "{}", second.body);
        assert!(!second.body.contains("rel=\"next\""));

        let created = admin.get(&app, "/admin/protokoll?art=user_created").await;
        assert!(created.body.contains("1 Eintrag gefunden, Seite 1 von 1."), "{}", created.body);
        assert!(unescape(&created.body).contains("<option value=\"user_created\" selected>Benutzer angelegt</option>"), "{}", created.body);
        assert!(!created.body.contains("class=\"seiten\""));

        // Text in the actor or the subject, in any case; the filter stays in the page links.
        let by_text = admin.get(&app, "/admin/protokoll?q=ANNA%40kreis&art=user_roles_changed").await;
        assert!(by_text.body.contains("60 Einträge gefunden, Seite 1 von 2."), "{}", by_text.body);
        assert!(unescape(&by_text.body).contains("value=\"ANNA@kreis\""));
        assert!(unescape(&by_text.body).contains("href=\"/admin/protokoll?art=user_roles_changed&q=ANNA%40kreis&seite=2\""), "{}", by_text.body);
        let by_actor = admin.get(&app, "/admin/protokoll?q=kommandozeile").await;
        assert!(by_actor.body.contains("1 Eintrag gefunden"), "{}", by_actor.body);
        let none = admin.get(&app, "/admin/protokoll?q=niemand").await;
        assert!(none.body.contains("Keine Einträge gefunden."), "{}", none.body);

        // Unknown kinds show everything, past the end the last page; a page that is no
        // positive number is refused, as on the case list and the outbox.
        let unknown = admin.get(&app, "/admin/protokoll?art=erfunden").await;
        assert!(unknown.body.contains("61 Einträge, Seite 1 von 2."), "{}", unknown.body);
        for bad in ["null", "0", "-1", "zwei"] {
            let refused = admin.get(&app, &format!("/admin/protokoll?seite={bad}")).await;
            assert_eq!(refused.status, 400, "{bad}");
            assert!(refused.body.contains("Die Seitenzahl muss eine positive ganze Zahl sein."), "{}", refused.body);
        }
        let beyond = admin.get(&app, "/admin/protokoll?seite=9").await;
        assert!(beyond.body.contains("61 Einträge, Seite 2 von 2."), "{}", beyond.body);
        assert_eq!(beyond.body.matches("<tr><td>").count(), 11);
    }
}

both_backends! {
    async fn a_forgotten_password_is_replaced_by_a_new_one_time_password(backend) {
        let db = TestDatabase::migrated(backend);
        let app = admin_app!(db.pool(2));
        let mut admin = admin_browser!(app, db);
        let anna = create_user(&mut db.connection(), "anna@kreis-kleve.de", "05154", &[Role::Koordination], Some(PASSWORD));
        let me = User::find_by_email(&mut db.connection(), ADMIN).unwrap().unwrap();
        let mut browser = Browser::default();
        assert_eq!(browser.login(&app, "anna@kreis-kleve.de", PASSWORD).await.location(), "/");

        let page = admin.get(&app, &format!("/admin/benutzer/{}", anna.id.0)).await;
        assert!(page.body.contains("Neues Einmalpasswort vergeben"), "{}", page.body);
        let own = admin.get(&app, &format!("/admin/benutzer/{}", me.id.0)).await;
        assert!(!own.body.contains("Neues Einmalpasswort vergeben"), "not for oneself: {}", own.body);

        let csrf = admin.csrf_token(&app, &format!("/admin/benutzer/{}", anna.id.0)).await;
        let issued = admin.post(&app, &format!("/admin/benutzer/{}/passwort", anna.id.0), &[("csrf", &csrf)]).await;
        assert_eq!(issued.status, 200, "{}", issued.body);
        assert!(issued.body.contains("nur jetzt angezeigt"));
        let start = issued.body.find("<p class=\"passwort\"><code>").unwrap() + "<p class=\"passwort\"><code>".len();
        let end = issued.body[start..].find("</code>").unwrap();
        let password = unescape(&issued.body[start..start + end]);
        assert_eq!(password.len(), 20);

        // The old password and the running session are over; the new one leads to „Passwort ändern“.
        assert!(browser.get(&app, "/").await.location().starts_with("/login"));
        assert_eq!(Browser::default().login(&app, "anna@kreis-kleve.de", PASSWORD).await.status, 422);
        assert_eq!(Browser::default().login(&app, "anna@kreis-kleve.de", &password).await.location(), "/passwort");
        assert!(User::find_by_email(&mut db.connection(), "anna@kreis-kleve.de").unwrap().unwrap().must_change_password);

        // Not for oneself, not for nobody; neither leaves a record.
        let myself = admin.post(&app, &format!("/admin/benutzer/{}/passwort", me.id.0), &[("csrf", &csrf)]).await;
        assert_eq!(myself.status, 422);
        assert!(myself.body.contains("Ihr eigenes Passwort ändern Sie unter „Passwort ändern“."), "{}", myself.body);
        let nobody = admin.post(&app, "/admin/benutzer/999999/passwort", &[("csrf", &csrf)]).await;
        assert_eq!(nobody.status, 404);
        assert_eq!(recorded(&db), [(ADMIN.to_string(), "user_password_reset".to_string(), "anna@kreis-kleve.de".to_string())]);
        let record = admin.get(&app, "/admin/protokoll").await;
        assert!(record.body.contains("Einmalpasswort für anna@kreis-kleve.de neu vergeben"), "{}", record.body);
    }
}

both_backends! {
    async fn an_administrator_revokes_a_users_api_tokens(backend) {
        let db = TestDatabase::migrated(backend);
        let app = admin_app!(db.pool(2));
        let mut admin = admin_browser!(app, db);
        let anna = create_user(&mut db.connection(), "anna@kreis-kleve.de", "05154", &[Role::Koordination], Some(PASSWORD));
        let mut browser = Browser::default();
        assert_eq!(browser.login(&app, "anna@kreis-kleve.de", PASSWORD).await.location(), "/");
        let token = crate::support::auth::staff_token(&anna);
        let cases_with = |token: &str| {
            actix_test::TestRequest::get()
                .uri("/api/v1/cases")
                .insert_header(("Authorization", format!("Bearer {token}")))
                .to_request()
        };
        assert_eq!(actix_test::call_service(&app, cases_with(&token)).await.status(), 200);

        let path = format!("/admin/benutzer/{}", anna.id.0);
        let page = admin.get(&app, &path).await;
        assert!(page.body.contains("Alle API-Zugangstoken sperren"), "{}", page.body);
        let csrf = admin.csrf_token(&app, &path).await;
        let done = admin.post(&app, &format!("{path}/token-sperren"), &[("csrf", &csrf)]).await;
        assert_eq!(done.location(), format!("{path}?hinweis=token-gesperrt"));
        let shown = admin.get(&app, done.location()).await;
        assert!(shown.body.contains("Alle API-Zugangstoken des Kontos wurden gesperrt"), "{}", shown.body);

        // The token is refused at once; the password and the web session stay.
        assert_eq!(actix_test::call_service(&app, cases_with(&token)).await.status(), 401);
        assert_eq!(browser.get(&app, "/").await.status, 200);
        let fresh = User::find_by_email(&mut db.connection(), "anna@kreis-kleve.de").unwrap().unwrap();
        assert_eq!(actix_test::call_service(&app, cases_with(&crate::support::auth::staff_token(&fresh))).await.status(), 200);

        // Nobody's tokens: 404 and no record; the one change is in the record.
        assert_eq!(admin.post(&app, "/admin/benutzer/999999/token-sperren", &[("csrf", &csrf)]).await.status, 404);
        assert_eq!(recorded(&db), [(ADMIN.to_string(), "user_tokens_revoked".to_string(), "anna@kreis-kleve.de".to_string())]);
        let record = admin.get(&app, "/admin/protokoll").await;
        assert!(record.body.contains("API-Zugangstoken von anna@kreis-kleve.de gesperrt"), "{}", record.body);
        assert!(record.body.contains("Die Verkettung ist unversehrt (1 Eintrag geprüft)."), "{}", record.body);

        // An entry changed past vorgang shows at the next look.
        diesel::sql_query("UPDATE admin_events SET actor = 'jemand@kfi.nrw.de'").execute(&mut db.connection()).unwrap();
        let record = admin.get(&app, "/admin/protokoll").await;
        assert!(record.body.contains("Das Verwaltungsprotokoll ist nicht unversehrt."), "{}", record.body);
        assert!(record.body.contains("Verwaltungsprotokoll gebrochen bei Eintrag Nr. 1"), "{}", record.body);
        assert!(!record.body.contains("Die Verkettung ist unversehrt"), "{}", record.body);
    }
}

both_backends! {
    async fn administrators_move_running_cases_to_the_newest_version(backend) {
        let db = TestDatabase::migrated(backend);
        let app = admin_app!(db.pool(2));
        let mut admin = admin_browser!(app, db);
        let admin_token = crate::support::auth::staff_token(&User::find_by_email(&mut db.connection(), ADMIN).unwrap().unwrap());
        let kleve = crate::support::auth::staff_token(&create_user(&mut db.connection(), "k@kreis-kleve.de", "05154", &[Role::Koordination], Some(PASSWORD)));
        let mut coordinator = Browser::default();
        assert_eq!(coordinator.login(&app, "k@kreis-kleve.de", PASSWORD).await.location(), "/");
        let call = |request: actix_test::TestRequest, token: &str| request.insert_header(("Authorization", format!("Bearer {token}"))).to_request();
        let mut ids = Vec::new();
        for _ in 0..2 {
            let created = actix_test::call_service(&app, call(actix_test::TestRequest::post().uri("/api/v1/cases").set_json(json!({ "workflow": "ki-antrag" })), &kleve)).await;
            assert_eq!(created.status(), 201);
            let body: Value = actix_test::read_body_json(created).await;
            ids.push(body["id"].as_i64().unwrap());
        }
        let workflow_version = |id: i64| {
            let request = call(actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}")), &admin_token);
            let app = &app;
            async move {
                let body: Value = actix_test::read_body_json(actix_test::call_service(app, request).await).await;
                body["workflow_version"].as_i64().unwrap()
            }
        };
        // Nothing to move while there is one version.
        assert!(!admin.get(&app, "/admin/workflows/ki-antrag").await.body.contains("umstellen"));
        let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/workflows/ki-antrag.yaml")).unwrap();
        let deployed = actix_test::call_service(&app, call(actix_test::TestRequest::post().uri("/api/v1/workflows")
            .insert_header(("Content-Type", "application/yaml"))
            .set_payload(source.replacen("\ntitle: ", "\ntitle: (Fassung 2) ", 1)), &admin_token)).await;
        assert_eq!(deployed.status(), 201);

        // The case page tells administrators that a newer version exists, nobody else.
        let case_path = format!("/vorgaenge/{}", ids[0]);
        let shown = admin.get(&app, &case_path).await;
        assert!(unescape(&shown.body).contains("Version 1 (neueste: Version 2; <a href=\"/admin/workflows/ki-antrag#umstellen\">"), "{}", shown.body);
        let seen = coordinator.get(&app, &case_path).await;
        assert!(seen.body.contains("Version 1") && !seen.body.contains("neueste"), "{}", seen.body);

        let page = admin.get(&app, "/admin/workflows/ki-antrag").await;
        assert!(page.body.contains("Laufende Vorgänge auf Version 2 umstellen"), "{}", page.body);
        assert!(page.body.contains("Version 1 (2 laufende Vorgänge)"), "{}", page.body);
        let csrf = admin.csrf_token(&app, "/admin/workflows/ki-antrag").await;

        let trial = admin.post(&app, "/admin/workflows/ki-antrag/umstellen", &[("csrf", &csrf), ("von", "1"), ("aktion", "pruefen")]).await;
        assert_eq!(trial.status, 200, "{}", trial.body);
        assert!(trial.body.contains("2 Vorgänge würden umgestellt; geändert wurde nichts."), "{}", trial.body);
        assert_eq!(workflow_version(ids[0]).await, 1);
        assert_eq!(admin.post(&app, "/admin/workflows/ki-antrag/umstellen", &[("von", "1"), ("aktion", "umstellen")]).await.status, 403);
        assert_eq!(admin.post(&app, "/admin/workflows/ki-antrag/umstellen", &[("csrf", &csrf), ("von", "eins"), ("aktion", "umstellen")]).await.status, 422);

        let done = admin.post(&app, "/admin/workflows/ki-antrag/umstellen", &[("csrf", &csrf), ("von", "1"), ("aktion", "umstellen")]).await;
        assert_eq!(done.status, 200, "{}", done.body);
        assert!(done.body.contains("2 Vorgänge wurden auf Version 2 umgestellt."), "{}", done.body);
        assert_eq!((workflow_version(ids[0]).await, workflow_version(ids[1]).await), (2, 2));
        assert!(!admin.get(&app, "/admin/workflows/ki-antrag").await.body.contains("Laufende Vorgänge auf Version"));
        let case_page = admin.get(&app, &case_path).await;
        assert!(case_page.body.contains("Auf Version 2 des Workflows umgestellt (vorher Version 1)"), "{}", case_page.body);
        assert!(case_page.body.contains("Version 2") && !case_page.body.contains("neueste"), "{}", case_page.body);
    }
}

both_backends! {
    async fn a_renamed_step_is_mapped_on_the_page_before_its_cases_move(backend) {
        let db = TestDatabase::migrated(backend);
        let app = admin_app!(db.pool(2));
        let mut admin = admin_browser!(app, db);
        let admin_token = crate::support::auth::staff_token(&User::find_by_email(&mut db.connection(), ADMIN).unwrap().unwrap());
        let kleve = crate::support::auth::staff_token(&create_user(&mut db.connection(), "k@kreis-kleve.de", "05154", &[Role::Koordination], None));
        let call = |request: actix_test::TestRequest, token: &str| request.insert_header(("Authorization", format!("Bearer {token}"))).to_request();
        let created = actix_test::call_service(&app, call(actix_test::TestRequest::post().uri("/api/v1/cases").set_json(json!({ "workflow": "ki-antrag" })), &kleve)).await;
        assert_eq!(created.status(), 201);
        let case: Value = actix_test::read_body_json(created).await;
        let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/workflows/ki-antrag.yaml")).unwrap();
        let renamed = source
            .replace("start: entwurf", "start: ausarbeitung")
            .replace("\n  entwurf:", "\n  ausarbeitung:")
            .replace("to: entwurf", "to: ausarbeitung");
        let deployed = actix_test::call_service(&app, call(actix_test::TestRequest::post().uri("/api/v1/workflows")
            .insert_header(("Content-Type", "application/yaml")).set_payload(renamed), &admin_token)).await;
        assert_eq!(deployed.status(), 201);
        let csrf = admin.csrf_token(&app, "/admin/workflows/ki-antrag").await;
        let umstellen = "/admin/workflows/ki-antrag/umstellen";

        // The trial names the missing step and offers the new version's tasks.
        let trial = admin.post(&app, umstellen, &[("csrf", &csrf), ("von", "1"), ("aktion", "pruefen")]).await;
        assert_eq!(trial.status, 200, "{}", trial.body);
        let page = unescape(&trial.body);
        assert!(page.contains("Kein Vorgang würde umgestellt"), "{page}");
        assert!(page.contains("Schritte zuordnen"), "{page}");
        assert!(page.contains("<label for=\"feld-schritt-0\">Aufgabe „Antrag entwerfen“ (entwurf; 1 Vorgang) in Version 2 zuordnen zu</label>"), "{page}");
        assert!(page.contains("<select name=\"schritt.entwurf\" id=\"feld-schritt-0\">"), "{page}");
        assert!(page.contains("<option value=\"ausarbeitung\">„Antrag entwerfen“ (ausarbeitung)</option>"), "{page}");
        assert!(!page.contains("<option value=\"bewilligt\">"), "only tasks are offered: {page}");

        // Chosen: the trial finds the case movable and carries the mapping into „Jetzt umstellen“.
        let mapped = [("csrf", csrf.as_str()), ("von", "1"), ("aktion", "pruefen"), ("schritt.entwurf", "ausarbeitung")];
        let trial = admin.post(&app, umstellen, &mapped).await;
        let page = unescape(&trial.body);
        assert!(page.contains("1 Vorgang würde umgestellt"), "{page}");
        assert!(page.contains("Zugeordnete Schritte (Name in Version 1 → Name in Version 2): „entwurf“ → „ausarbeitung“."), "{page}");
        assert!(page.contains("<input type=\"hidden\" name=\"schritt.entwurf\" value=\"ausarbeitung\">"), "{page}");
        assert!(!page.contains("Schritte zuordnen"), "{page}");

        // A forged mapping is refused and moves nothing.
        let forged = admin.post(&app, umstellen, &[("csrf", &csrf), ("von", "1"), ("aktion", "umstellen"), ("schritt.entwurf", "bewilligt")]).await;
        assert_eq!(forged.status, 422, "{}", forged.body);
        assert!(unescape(&forged.body).contains("Der Schritt „bewilligt“ (Ende) ist nicht von derselben Art wie „entwurf“ (Aufgabe)"), "{}", forged.body);

        let done = admin.post(&app, umstellen, &[("csrf", &csrf), ("von", "1"), ("aktion", "umstellen"), ("schritt.entwurf", "ausarbeitung")]).await;
        assert!(done.body.contains("1 Vorgang wurde auf Version 2 umgestellt."), "{}", done.body);
        let case_page = admin.get(&app, &format!("/vorgaenge/{}", case["id"])).await;
        assert!(unescape(&case_page.body).contains("Auf Version 2 des Workflows umgestellt (vorher Version 1); Schritte zugeordnet: „entwurf“ → „Antrag entwerfen“"), "{}", case_page.body);
    }
}

both_backends! {
    async fn checking_a_new_version_shows_its_warnings_changes_and_the_cases_it_would_leave_behind(backend) {
        let db = TestDatabase::migrated(backend);
        let app = admin_app!(db.pool(2));
        let mut admin = admin_browser!(app, db);
        let kleve = crate::support::auth::staff_token(&create_user(&mut db.connection(), "k@kreis-kleve.de", "05154", &[Role::Koordination], None));
        let created = actix_test::call_service(&app, actix_test::TestRequest::post().uri("/api/v1/cases")
            .insert_header(("Authorization", format!("Bearer {kleve}")))
            .set_json(json!({ "workflow": "ki-antrag" })).to_request()).await;
        assert_eq!(created.status(), 201);
        let case: Value = actix_test::read_body_json(created).await;
        let aktenzeichen = case["aktenzeichen"].as_str().unwrap();
        let versions = || DefinitionRow::history(&mut db.connection(), "ki-antrag").unwrap().len();
        let before = versions();
        let source = DefinitionRow::latest(&mut db.connection(), "ki-antrag").unwrap().unwrap().source;
        let editor = "/admin/workflows/ki-antrag/bearbeiten";
        let csrf = admin.csrf_token(&app, editor).await;

        // The first step renamed and a role nobody uses: valid, with a warning, the changed lines
        // and the running case that would stay behind at the step the new version lacks.
        let changed = source
            .replace("start: entwurf", "start: ausarbeitung")
            .replace("\n  entwurf:", "\n  ausarbeitung:")
            .replace("to: entwurf", "to: ausarbeitung")
            .replacen("roles:\n", "roles:\n  pruefer: { title: Prüfer }\n", 1);
        let role_line = changed.lines().position(|line| line.starts_with("  pruefer:")).unwrap() + 1;
        let checked = admin.post(&app, editor, &[("csrf", &csrf), ("quelle", &changed), ("aktion", "pruefen")]).await;
        assert_eq!(checked.status, 200, "{}", checked.body);
        let page = unescape(&checked.body);
        assert!(page.contains("Die Definition ist gültig."), "{page}");
        assert!(page.contains(&format!("<li><a href=\"#zeile-{role_line}\">Zeile {role_line}:3</a> – Rolle 'pruefer' ist deklariert, wird aber nie verwendet</li>")), "{page}");
        assert!(page.contains(&format!("id=\"zeile-{role_line}\"")), "the warning's link has its target: {page}");
        assert!(!page.contains("» Fehler:"), "a warning marks no line as an error: {page}");
        assert!(page.contains(&format!("<tr><td>Antrag entwerfen (<code>entwurf</code>)</td><td>Aufgabe</td><td>fehlt</td><td>1: {aktenzeichen}</td></tr>")), "{page}");
        assert!(page.contains("<caption>Version 1 → geprüfte Fassung</caption>"), "{page}");
        assert!(page.contains("<code>  ausarbeitung:</code>") && page.contains("+ hinzugefügt"), "{page}");
        assert!(!page.contains("künftig"), "no placeholder is left: {page}");
        assert_eq!(versions(), before, "checking deploys nothing");

        // The deployed source unchanged: nothing left behind, nothing to deploy.
        let same = unescape(&admin.post(&app, editor, &[("csrf", &csrf), ("quelle", &source), ("aktion", "pruefen")]).await.body);
        assert!(same.contains("Der laufende Vorgang steht an keinem Schritt, den die geprüfte Fassung nicht mehr oder als andere Art von Schritt enthält."), "{same}");
        assert!(same.contains("Die geprüfte Fassung stimmt mit Version 1 überein"), "{same}");
        assert!(!same.contains("id=\"hinweise\""), "{same}");

        // A new workflow has no running cases and no deployed version to compare with.
        let new = unescape(&admin.post(&app, "/admin/workflows/neu", &[("csrf", &csrf), ("quelle", "workflow: ki-neu\ntitle: Neu\nroles:\n  k: { title: K }\nstart: ende\nsteps:\n  ende: { type: end, title: Ende, outcome: ok }\n"), ("aktion", "pruefen")]).await.body);
        assert!(new.contains("Die Definition ist gültig."), "{new}");
        assert!(!new.contains("Laufende Vorgänge") && !new.contains("Unterschiede zur bereitgestellten Version"), "{new}");
    }
}

/// A file of a form: its name and content.
type FormFile<'a> = (&'a str, &'a [u8]);

/// The new workflow editor's BPMN form, sent with a file (or without one: `None`).
fn bpmn_upload(csrf: Option<&str>, file: Option<FormFile>) -> actix_web::test::TestRequest {
    let boundary = "----vorgangbpmngrenze";
    let mut body = Vec::new();
    if let Some(csrf) = csrf {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((name, content)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"datei\"; filename=\"{name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    actix_web::test::TestRequest::post()
        .uri("/admin/workflows/neu/bpmn")
        .insert_header((
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        ))
        .set_payload(body)
}

both_backends! {
    async fn a_bpmn_file_becomes_a_draft_in_the_editor_and_nothing_is_deployed(backend) {
        let db = TestDatabase::migrated(backend);
        let app = admin_app!(db.pool(2));
        let count = |db: &TestDatabase| -> i64 {
            workflow_definitions::table.count().get_result(&mut db.connection()).unwrap()
        };
        let before = count(&db);
        let mut admin = admin_browser!(app, db);
        let editor = admin.get(&app, "/admin/workflows/neu").await;
        assert!(editor.body.contains("action=\"/admin/workflows/neu/bpmn\" enctype=\"multipart/form-data\""), "{}", editor.body);
        let csrf = editor.hidden("csrf");
        // The edit page of an existing workflow offers no import: a draft starts a new one.
        let edit = admin.get(&app, "/admin/workflows/ki-antrag/bearbeiten").await;
        assert!(!edit.body.contains("/admin/workflows/neu/bpmn"));

        let exported = admin.get(&app, "/admin/workflows/ki-antrag/bpmn").await;
        assert_eq!(exported.status, 200);
        let page = admin.send(&app, bpmn_upload(Some(&csrf), Some(("antrag.bpmn", exported.body.as_bytes())))).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Entwurf aus „antrag.bpmn“"), "{}", page.body);
        // The flow as read, drawn: the consultation is one of its steps.
        let diagram = page.body.split("id=\"uebernahme-diagramm\"").nth(1).expect("the draft's diagram");
        assert!(diagram.contains("<svg") && diagram.contains("Beteiligung der örtlichen Partner"), "{diagram}");
        let source = unescape(page.body.split("id=\"feld-quelle\"").nth(1).unwrap().split("</textarea>").next().unwrap());
        assert!(source.contains("workflow: ki-antrag\n"), "{source}");
        assert!(source.contains("beteiligung_starten:"), "{source}");
        assert!(source.contains("type: consultation"), "{source}");
        // What BPMN does not carry is named: the data fields the conditions use.
        assert!(page.body.contains("Die Datenfelder") && page.body.contains("„beteiligte“"), "{}", page.body);
        assert_eq!(count(&db), before, "a draft is not deployed");

        // Files it cannot read leave the editor as it was, with the reason.
        let refusals: [(Option<FormFile>, &str); 4] = [
            (Some(("kaputt.bpmn", b"<definitions")), "kein lesbares XML"),
            (Some(("fremd.xml", b"<definitions xmlns=\"urn:x\"/>")), "keine BPMN-2.0-Datei"),
            (Some(("latin1.bpmn", b"<a>\xe4</a>")), "nicht in UTF-8"),
            (None, "Bitte wählen Sie eine BPMN-Datei aus."),
        ];
        for (file, message) in refusals {
            let refused = admin.send(&app, bpmn_upload(Some(&csrf), file)).await;
            assert_eq!(refused.status, 422, "{message}");
            assert!(refused.body.contains("Die Datei wurde nicht übernommen"), "{}", refused.body);
            assert!(refused.body.contains(message), "{message}: {}", refused.body);
            assert!(refused.body.contains("workflow: neuer-workflow"), "the skeleton stays");
        }
        let large = vec![b' '; vorgang::bpmn_import::MAX_BPMN_BYTES + 1];
        let too_large = admin.send(&app, bpmn_upload(Some(&csrf), Some(("gross.bpmn", &large)))).await;
        assert_eq!(too_large.status, 422);
        assert!(too_large.body.contains("größer als 5 MB"), "{}", too_large.body);

        // Without the form's token nothing is read; others than administrators are refused.
        let forged = admin.send(&app, bpmn_upload(Some("falsch"), Some(("antrag.bpmn", exported.body.as_bytes())))).await;
        assert_eq!(forged.status, 403);
        create_user(&mut db.connection(), "ko@kreis-kleve.de", "05154", &[Role::Koordination], Some(PASSWORD));
        let mut other = Browser::default();
        other.login(&app, "ko@kreis-kleve.de", PASSWORD).await;
        let token = other.csrf_token(&app, "/").await;
        let denied = other.send(&app, bpmn_upload(Some(&token), Some(("antrag.bpmn", exported.body.as_bytes())))).await;
        assert_eq!(denied.status, 403);
        assert!(denied.body.contains("Keine Berechtigung"));
        assert_eq!(count(&db), before);
    }
}

/// A multipart form of text fields and, optionally, one file field `datei`.
fn table_upload(fields: &[(&str, &str)], file: Option<FormFile>) -> actix_web::test::TestRequest {
    let boundary = "----vorgangtabellengrenze";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((name, content)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"datei\"; filename=\"{name}\"\r\n\
                 Content-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    actix_web::test::TestRequest::post()
        .uri("/admin/organisationen/neu/tabelle")
        .insert_header((
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        ))
        .set_payload(body)
}

both_backends! {
    async fn a_table_of_organisations_is_checked_then_taken_over_in_the_browser(backend) {
        let db = TestDatabase::migrated(backend);
        let app = admin_app!(db.pool(2));
        let count = |db: &TestDatabase| -> i64 {
            organisations::table.count().get_result(&mut db.connection()).unwrap()
        };
        let before = count(&db);
        let mut admin = admin_browser!(app, db);
        let list = admin.get(&app, "/admin/organisationen").await;
        assert!(list.body.contains("href=\"/admin/organisationen/neu/tabelle\""), "{}", list.body);
        let form = admin.get(&app, "/admin/organisationen/neu/tabelle").await;
        assert_eq!(form.status, 200);
        assert!(form.body.contains("<dt>funktionspostfach</dt>"), "{}", form.body);
        let csrf = form.hidden("csrf");
        let table = "schluessel;name;art;uebergeordnet;funktionspostfach\n\
                     05558004;Stadt Dülmen;gemeinde;05558;integration@duelmen.de\n\
                     AWO-COE;AWO Kreisverband Coesfeld;;05558;info@awo-coesfeld.de\n";

        // Without a form token: refused, nothing stored.
        let forged = admin.send(&app, table_upload(&[("aktion", "uebernehmen")], Some(("partner.csv", table.as_bytes())))).await;
        assert_eq!(forged.status, 403);
        assert_eq!(count(&db), before);

        // „Prüfen“ lists what would happen and stores nothing; the page carries the table on.
        let checked = admin.send(&app, table_upload(&[("csrf", &csrf), ("aktion", "pruefen")], Some(("partner.csv", table.as_bytes())))).await;
        assert_eq!(checked.status, 200, "{}", checked.body);
        assert!(checked.body.contains("Geprüft: „partner.csv“") && checked.body.contains("Neu anzulegen: 05558004, AWO-COE"), "{}", checked.body);
        assert_eq!(count(&db), before);
        let carried = checked.hidden("inhalt");

        // A carried table with a NUL character counts as none: nothing stored.
        let with_nul = format!("{carried}\0");
        let refused = admin.send(&app, table_upload(&[("csrf", &csrf), ("inhalt", &with_nul), ("aktion", "uebernehmen")], None)).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(refused.body.contains("Bitte wählen Sie eine Tabelle (CSV-Datei) aus."), "{}", refused.body);
        assert_eq!(count(&db), before);

        // „Jetzt übernehmen“ takes the table carried over, and the list says what was done.
        let done = admin.send(&app, table_upload(&[("csrf", &csrf), ("inhalt", &carried), ("aktion", "uebernehmen")], None)).await;
        assert_eq!(done.status, 303, "{}", done.body);
        assert_eq!(count(&db), before + 2);
        let list = admin.get(&app, done.location()).await;
        assert!(list.body.contains("Die Tabelle wurde übernommen: 2 Organisationen neu angelegt, bei 0 Organisationen die Adressen ersetzt."), "{}", list.body);
        assert!(list.body.contains("AWO Kreisverband Coesfeld") && list.body.contains("integration@duelmen.de"));
        let kinds: Vec<String> = recorded(&db).into_iter().map(|(_, kind, _)| kind).filter(|k| k.starts_with("organisation")).collect();
        assert_eq!(kinds, ["organisation_registered", "organisation_registered"]);

        // The organisations as a table, which comes back unchanged: the addresses can be kept
        // in a spreadsheet.
        let exported = admin.get(&app, "/admin/organisationen.csv").await;
        assert_eq!(exported.status, 200);
        assert_eq!(exported.header("content-type"), "text/csv; charset=utf-8");
        assert!(exported.header("content-disposition").contains("organisationen-"));
        assert!(exported.body.starts_with("\u{feff}schluessel;name;art;uebergeordnet;funktionspostfach;kontakte;leitung\r\n"), "{}", &exported.body[..200]);
        assert!(exported.body.contains("\r\nAWO-COE;AWO Kreisverband Coesfeld;partner;05558;info@awo-coesfeld.de;;\r\n"), "{}", exported.body);
        let back = admin.send(&app, table_upload(&[("csrf", &csrf), ("aktion", "pruefen")], Some(("organisationen.csv", exported.body.as_bytes())))).await;
        assert_eq!(back.status, 200, "{}", back.body);
        assert!(back.body.contains("Neu anzulegen: keine") && back.body.contains("Adressen zu ersetzen: keine"), "{}", back.body);
        assert!(!back.body.contains("Jetzt übernehmen"), "nothing to take over");
        let filtered = admin.get(&app, "/admin/organisationen.csv?q=awo&art=partner").await;
        assert_eq!(filtered.body.lines().count(), 2, "{}", filtered.body);

        // Errors by line and column, in German; nothing stored.
        let faulty = "schluessel;name;funktionspostfach\nDRK-COE;;drk@coesfeld.de\nCARITAS-COE;Caritas;caritas(at)coesfeld.de\n";
        let refused = admin.send(&app, table_upload(&[("csrf", &csrf), ("aktion", "uebernehmen")], Some(("fehler.csv", faulty.as_bytes())))).await;
        assert_eq!(refused.status, 422);
        assert!(refused.body.contains("Zeile 2, Spalte „name“: Bitte geben Sie einen Namen an.") && refused.body.contains("Zeile 3, Spalte „funktionspostfach“"), "{}", refused.body);
        assert_eq!(count(&db), before + 2);
        let empty = admin.send(&app, table_upload(&[("csrf", &csrf), ("aktion", "pruefen")], None)).await;
        assert_eq!(empty.status, 422);
        assert!(empty.body.contains("Bitte wählen Sie eine Tabelle (CSV-Datei) aus."), "{}", empty.body);

        // Only administrators.
        create_user(&mut db.connection(), "k@kreis-coesfeld.de", "05558", &[Role::Koordination], Some(PASSWORD));
        let mut coordinator = Browser::default();
        coordinator.login(&app, "k@kreis-coesfeld.de", PASSWORD).await;
        assert_eq!(coordinator.get(&app, "/admin/organisationen/neu/tabelle").await.status, 403);
    }
}

both_backends! {
    async fn a_new_account_gets_a_link_to_choose_its_password_instead_of_a_read_out_one(backend) {
        let db = TestDatabase::migrated(backend);
        let app = admin_app!(db.pool(2));
        let mut admin = admin_browser!(app, db);
        let csrf = admin.csrf_token(&app, "/admin/benutzer/neu").await;
        let created = admin.post(&app, "/admin/benutzer/neu", &[("csrf", &csrf), ("email", "nora@kreis-kleve.de"), ("name", "Nora Neu"), ("organisation", "05154"), ("rolle", "koordination")]).await;
        assert_eq!(created.status, 200, "{}", created.body);
        assert!(created.body.contains("Zugangslink senden"), "{}", created.body);
        let nora = User::find_by_email(&mut db.connection(), "nora@kreis-kleve.de").unwrap().unwrap();
        let path = format!("/admin/benutzer/{}/zugangslink", nora.id.0);

        // Sent: back to the account with the notice, one mail, recorded.
        let sent = admin.post(&app, &path, &[("csrf", &csrf)]).await;
        assert_eq!(sent.location(), format!("/admin/benutzer/{}?hinweis=zugangslink", nora.id.0));
        let page = admin.get(&app, sent.location()).await;
        assert!(page.body.contains("Der Zugangslink wurde per E-Mail gesendet"), "{}", page.body);
        let mails: Vec<_> = crate::beteiligung::mails(&db).into_iter().filter(|m| m.0 == "zugang_einrichten").collect();
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].1, ["nora@kreis-kleve.de"]);
        assert!(mails[0].3.contains("gilt 7 Tage") && mails[0].3.contains("nora@kreis-kleve.de"), "{}", mails[0].3);
        assert_eq!(recorded(&db).last().unwrap(), &(ADMIN.to_string(), "user_access_link_sent".to_string(), "nora@kreis-kleve.de".to_string()));
        let start = mails[0].3.find("https://vorgang.test/").unwrap() + "https://vorgang.test".len();
        let link = mails[0].3[start..].split_whitespace().next().unwrap().to_string();

        // Nora chooses her password through it; the one-time password is gone, she logs in.
        let mut nora_browser = Browser::default();
        let form = nora_browser.get(&app, &link).await;
        assert_eq!(form.status, 200, "{}", form.body);
        // Her first own password, not a new one: the page says what it replaces.
        assert!(form.body.contains("<h1>Passwort festlegen</h1>") && form.body.contains("Es ersetzt das Einmalpasswort"), "{}", form.body);
        let token = form.hidden("csrf");
        let chosen = "Noras eigener langer Satz";
        let done = nora_browser.post(&app, &link, &[("csrf", &token), ("neu", chosen), ("wiederholung", chosen)]).await;
        assert_eq!(done.location(), "/login?passwort=festgelegt");
        let login = nora_browser.get(&app, done.location()).await;
        assert!(login.body.contains("Ihr Passwort ist festgelegt. Bitte melden Sie sich damit an."), "{}", login.body);
        let account = User::find_by_email(&mut db.connection(), "nora@kreis-kleve.de").unwrap().unwrap();
        assert!(!account.must_change_password, "no forced change after choosing one");
        assert_eq!(Browser::default().login(&app, "nora@kreis-kleve.de", chosen).await.location(), "/");
        assert_eq!(nora_browser.get(&app, &link).await.status, 410, "once only");
        let confirmed: Vec<_> = crate::beteiligung::mails(&db).into_iter().filter(|m| m.0 == "passwort_geaendert").collect();
        assert_eq!(confirmed.len(), 1);
        assert_eq!(confirmed[0].2, "Ihr Passwort für vorgang wurde festgelegt");
        assert!(confirmed[0].3.contains("das Passwort für Ihr Konto in vorgang festgelegt; das Einmalpasswort der Administration gilt nicht mehr"), "{}", confirmed[0].3);

        // Refused, at the form, for the own account, a deactivated one and one without a password.
        let own = User::find_by_email(&mut db.connection(), ADMIN).unwrap().unwrap();
        let refused = admin.post(&app, &format!("/admin/benutzer/{}/zugangslink", own.id.0), &[("csrf", &csrf)]).await;
        assert_eq!(refused.status, 422);
        assert!(refused.body.contains("Ihr eigenes Passwort ändern Sie"), "{}", refused.body);
        let sso = create_user(&mut db.connection(), "sso@kreis-kleve.de", "05154", &[Role::Koordination], None);
        let account_page = admin.get(&app, &format!("/admin/benutzer/{}", sso.id.0)).await;
        assert!(!account_page.body.contains("Zugangslink senden"), "{}", account_page.body);
        let refused = admin.post(&app, &format!("/admin/benutzer/{}/zugangslink", sso.id.0), &[("csrf", &csrf)]).await;
        assert_eq!(refused.status, 422);
        assert!(refused.body.contains("braucht kein Passwort") && refused.body.contains("id=\"feld-zugangslink\""), "{}", refused.body);
        diesel::update(users::table.filter(users::email.eq("nora@kreis-kleve.de"))).set(users::active.eq(false)).execute(&mut db.connection()).unwrap();
        let refused = admin.post(&app, &path, &[("csrf", &csrf)]).await;
        assert_eq!(refused.status, 422);
        assert!(refused.body.contains("deaktiviert"), "{}", refused.body);
        let count = crate::beteiligung::mails(&db).iter().filter(|m| m.0 == "zugang_einrichten").count();
        assert_eq!(count, 1, "no further mail");

        // A link of the administration is valid for seven days, not one hour.
        diesel::update(users::table.filter(users::email.eq("nora@kreis-kleve.de"))).set(users::active.eq(true)).execute(&mut db.connection()).unwrap();
        let outgoing = crate::support::partners::outgoing();
        let admin_account = vorgang::service::admin_log::Administrator { id: own.id, email: ADMIN.to_string() };
        let six_days_ago = Utc::now() - chrono::TimeDelta::days(6);
        vorgang::service::password_reset::send_access_link(&mut db.connection(), &outgoing, &admin_account, account.id, six_days_ago).unwrap();
        let mail = crate::beteiligung::mails(&db).into_iter().rfind(|m| m.0 == "zugang_einrichten").unwrap();
        let start = mail.3.find("https://vorgang.test/").unwrap() + "https://vorgang.test".len();
        let old = mail.3[start..].split_whitespace().next().unwrap().to_string();
        assert_eq!(Browser::default().get(&app, &old).await.status, 200);
    }
}

both_backends! {
    async fn an_administrator_lifts_a_login_limit_on_the_account_page_and_the_list(backend) {
        let db = TestDatabase::migrated(backend);
        let app = admin_app!(db.pool(2));
        let mut admin = admin_browser!(app, db);
        let anna = create_user(&mut db.connection(), "anna@kreis-kleve.de", "05154", &[Role::Koordination], Some(PASSWORD));
        let path = format!("/admin/benutzer/{}", anna.id.0);
        assert!(!admin.get(&app, &path).await.body.contains("Fehlgeschlagene Anmeldungen"));
        let empty = admin.get(&app, "/admin/anmeldesperren").await;
        assert!(empty.body.contains("Derzeit sind keine Fehlversuche gezählt."), "{}", empty.body);

        // Anna mistypes her password five times at her desk; then even the right one is refused.
        let mut desk = Browser::from("198.51.100.30:1");
        for _ in 0..5 {
            assert_ne!(desk.login(&app, "anna@kreis-kleve.de", "falsches-passwort").await.status, 429);
        }
        assert_eq!(desk.login(&app, "anna@kreis-kleve.de", PASSWORD).await.status, 429);

        // The list of users marks her account, linked to its page.
        let listed = admin.get(&app, "/admin/benutzer").await;
        assert!(listed.body.contains(&format!("<a href=\"{path}#anmeldesperre\"><strong>Anmeldung nach Fehlversuchen gesperrt</strong></a>")), "{}", listed.body);
        assert_eq!(listed.body.matches("Anmeldung nach Fehlversuchen gesperrt").count(), 1);
        let refused = admin.get(&app, "/admin/benutzer?status=gesperrt").await;
        assert_eq!(refused.body.matches("<th scope=\"row\"").count(), 1, "{}", refused.body);
        assert!(refused.body.contains("anna@kreis-kleve.de"), "{}", refused.body);
        // Her account page says so and offers to lift it.
        let page = admin.get(&app, &path).await;
        assert!(page.body.contains("Anmeldungen: 5 Fehlversuche gezählt, <strong>weitere Versuche werden bis etwa"), "{}", page.body);
        let csrf = admin.csrf_token(&app, &path).await;
        let done = admin.post(&app, &format!("{path}/anmeldesperre"), &[("csrf", &csrf)]).await;
        assert_eq!(done.location(), format!("{path}?hinweis=sperre-aufgehoben"));
        let shown = admin.get(&app, done.location()).await;
        assert!(shown.body.contains("Die Anmeldesperre wurde aufgehoben"), "{}", shown.body);
        assert!(!shown.body.contains("Fehlversuche gezählt"), "{}", shown.body);
        assert!(!admin.get(&app, "/admin/benutzer").await.body.contains("Anmeldung nach Fehlversuchen gesperrt"));
        // Nothing left to lift: a German 404 page, nothing recorded.
        let again = admin.post(&app, &format!("{path}/anmeldesperre"), &[("csrf", &csrf)]).await;
        assert_eq!(again.status, 404);
        assert!(again.body.contains("Für „anna@kreis-kleve.de“ sind keine fehlgeschlagenen Anmeldungen gezählt."), "{}", again.body);

        // Her desk is still refused: the list shows its address, refused, with a button.
        assert_eq!(desk.login(&app, "anna@kreis-kleve.de", PASSWORD).await.status, 429);
        let list = admin.get(&app, "/admin/anmeldesperren").await;
        assert!(list.body.contains("<th scope=\"row\" class=\"adresse\">198.51.100.30</th><td>Anmeldungen</td><td>5</td><td><strong>etwa"), "{}", list.body);
        assert!(list.body.contains("<input type=\"hidden\" name=\"schluessel\" value=\"198.51.100.30\">"), "{}", list.body);
        // Without a valid token, or for a key of no kind, nothing is lifted.
        assert_eq!(admin.post(&app, "/admin/anmeldesperren/aufheben", &[("csrf", "falsch"), ("art", "adresse"), ("schluessel", "198.51.100.30")]).await.status, 403);
        let unknown = admin.post(&app, "/admin/anmeldesperren/aufheben", &[("csrf", &csrf), ("art", "irgendwas"), ("schluessel", "198.51.100.30")]).await;
        assert_eq!(unknown.status, 404);
        assert!(unknown.body.contains("<html lang=\"de\">"));
        assert_eq!(desk.login(&app, "anna@kreis-kleve.de", PASSWORD).await.status, 429);

        let lifted = admin.post(&app, "/admin/anmeldesperren/aufheben", &[("csrf", &csrf), ("art", "adresse"), ("schluessel", "198.51.100.30")]).await;
        assert_eq!(lifted.location(), "/admin/anmeldesperren?hinweis=aufgehoben");
        let list = admin.get(&app, lifted.location()).await;
        assert!(list.body.contains("Die Sperre wurde aufgehoben"), "{}", list.body);
        assert!(list.body.contains("Derzeit sind keine Fehlversuche gezählt."), "{}", list.body);
        assert_eq!(desk.login(&app, "anna@kreis-kleve.de", PASSWORD).await.location(), "/");

        assert_eq!(recorded(&db), [
            (ADMIN.to_string(), "login_limit_lifted".to_string(), "anna@kreis-kleve.de".to_string()),
            (ADMIN.to_string(), "login_limit_lifted".to_string(), "198.51.100.30".to_string()),
        ]);
        let record = admin.get(&app, "/admin/protokoll").await;
        assert!(record.body.contains("Anmeldesperre für anna@kreis-kleve.de aufgehoben (5 gezählte Fehlversuche gelöscht)"), "{}", record.body);
        assert!(record.body.contains("Anmeldesperre für die Adresse 198.51.100.30 aufgehoben"), "{}", record.body);
    }
}
