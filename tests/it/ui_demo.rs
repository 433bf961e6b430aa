//! The demo offered on the start page: an administrator of an installation without cases loads
//! it (the logins shown once) and removes it again; nobody else can.

use actix_web::test as actix_test;
use actix_web::web;
use diesel::prelude::*;
use vorgang::db::models::Role;
use vorgang::db::schema::cases;
use vorgang::web::ui::{LegalTexts, UiState};

use crate::support::TestDatabase;
use crate::support::auth::{create_user, test_auth};
use crate::support::ui::Browser;

const PASSWORD: &str = "richtig-langes-passwort";

both_backends! {
    async fn administrators_load_and_remove_the_demo_from_the_start_page(backend) {
        let db = TestDatabase::migrated(backend);
        let pool = db.pool(2);
        let dir = tempfile::tempdir().unwrap();
        let api = crate::support::api::state(&pool, dir.path());
        let ui = UiState::new(&"http://127.0.0.1:8080".parse().unwrap(), LegalTexts::builtin());
        let app = actix_test::init_service(vorgang::web::app_with_ui(pool.clone(), test_auth(), api, web::Data::new(ui))).await;
        create_user(&mut db.connection(), "admin@kfi.test", "KFI", &[Role::Admin], Some(PASSWORD));
        create_user(&mut db.connection(), "k@kreis-soest.test", "05974", &[Role::Koordination], Some(PASSWORD));

        // A coordinator is offered nothing and may not load it.
        let mut coordinator = Browser::default();
        coordinator.login(&app, "k@kreis-soest.test", PASSWORD).await;
        let start = coordinator.get(&app, "/").await;
        assert!(!start.body.contains("Demodaten laden"), "{}", start.body);
        let csrf = coordinator.csrf_token(&app, "/").await;
        let refused = coordinator.post(&app, "/demo", &[("csrf", &csrf)]).await;
        assert_eq!(refused.status, 403, "{}", refused.body);

        let mut admin = Browser::default();
        admin.login(&app, "admin@kfi.test", PASSWORD).await;
        let start = admin.get(&app, "/").await;
        assert!(start.body.contains("Demodaten laden"), "{}", start.body);
        let csrf = admin.csrf_token(&app, "/").await;
        let without_token = admin.post(&app, "/demo", &[]).await;
        assert_eq!(without_token.status, 403);
        let loaded = admin.post(&app, "/demo", &[("csrf", &csrf)]).await;
        assert_eq!(loaded.status, 200, "{}", loaded.body);
        assert!(loaded.body.contains("koordination@kreis-coesfeld.demo"), "{}", loaded.body);
        assert!(loaded.body.contains("class=\"passwort\""), "{}", loaded.body);
        let demo_cases: i64 = cases::table.count().get_result(&mut db.connection()).unwrap();
        assert!(demo_cases >= 6, "{demo_cases}");
        assert!(loaded.body.contains("Jonas Keller (Demo)<br><span class=\"hinweis\">abwesend bis "), "{}", loaded.body);

        // The shown password logs the demo coordinator in; her start page shows the case
        // assigned to her and, standing in for her colleague on leave, his case and his
        // Wiedervorlage of today.
        let password = loaded.body.split("<code class=\"passwort\">").nth(1).and_then(|rest| rest.split('<').next()).unwrap().to_string();
        let mut anna = Browser::default();
        anna.login(&app, "koordination@kreis-coesfeld.demo", &password).await;
        let start = anna.get(&app, "/").await;
        assert_eq!(start.status, 200, "{}", start.body);
        assert!(start.body.contains("<strong>(Ihnen zugewiesen)</strong>"), "{}", start.body);
        assert!(start.body.contains("<strong>(in Vertretung für Jonas Keller (Demo))</strong>"), "{}", start.body);
        assert!(start.body.contains("Beim Kreistagsbüro nachfragen"), "{}", start.body);
        assert!(start.body.contains("<span class=\"nebenangabe\">(in Vertretung für Jonas Keller (Demo))</span>"), "{}", start.body);

        // The running Beteiligung: its journal says what each timer was for.
        let consulting: i64 = cases::table
            .filter(cases::current_steps.eq(",beteiligung,"))
            .select(cases::id)
            .first(&mut db.connection())
            .unwrap();
        let page = admin.get(&app, &format!("/vorgaenge/{consulting}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Erinnerung vor Ablauf der Frist in „Beteiligung der örtlichen Partner“ fällig"), "{}", page.body);
        assert!(!page.body.contains("Frist in „Beteiligung der örtlichen Partner“ erreicht"), "{}", page.body);

        // The approved application and the operation case its approval started name each other.
        let (betrieb, betrieb_az): (i64, String) = cases::table
            .filter(cases::workflow_key.eq("ki-betrieb"))
            .select((cases::id, cases::aktenzeichen))
            .first(&mut db.connection())
            .unwrap();
        let (antrag, antrag_az): (i64, String) = cases::table
            .filter(cases::workflow_key.eq("ki-antrag").and(cases::outcome.eq("bewilligt")))
            .select((cases::id, cases::aktenzeichen))
            .first(&mut db.connection())
            .unwrap();
        let page = admin.get(&app, &format!("/vorgaenge/{antrag}")).await;
        assert!(page.body.contains("<dt>Folgevorgänge</dt>"), "{}", page.body);
        assert!(page.body.contains(&format!("<a href=\"/vorgaenge/{betrieb}\">{betrieb_az}</a> Betrieb eines Kommunalen Integrationszentrums, gestartet bei „Bewilligt“ (In Bearbeitung)")), "{}", page.body);
        assert!(page.body.contains("Folgevorgang „Betrieb eines Kommunalen Integrationszentrums“ angestoßen"), "{}", page.body);
        let page = admin.get(&app, &format!("/vorgaenge/{betrieb}")).await;
        assert!(page.body.contains(&format!("<dt>Gestartet aus</dt><dd><a href=\"/vorgaenge/{antrag}\">{antrag_az}</a> Antrag auf Einrichtung eines Kommunalen Integrationszentrums, Schritt „Bewilligt“")), "{}", page.body);
        assert!(page.body.contains(&format!("Vorgang angelegt, gestartet aus Vorgang {antrag_az}")), "{}", page.body);
        assert!(!page.body.contains("<dt>Folgevorgänge</dt>"), "{}", page.body);

        let start = admin.get(&app, "/").await;
        assert!(start.body.contains("Demodaten entfernen") && !start.body.contains("Demodaten laden"), "{}", start.body);
        let again = admin.post(&app, "/demo", &[("csrf", &csrf)]).await;
        assert_eq!(again.status, 422, "loading twice is refused: {}", again.body);
        let removed = admin.post(&app, "/demo/entfernen", &[("csrf", &csrf)]).await;
        assert_eq!(removed.location(), "/?hinweis=demo-entfernt");
        let left: i64 = cases::table.count().get_result(&mut db.connection()).unwrap();
        assert_eq!(left, 0);
        let start = admin.get(&app, "/?hinweis=demo-entfernt").await;
        assert!(start.body.contains("Die Demodaten wurden entfernt."), "{}", start.body);
        assert!(start.body.contains("Demodaten laden"), "offered again on the empty installation");
    }
}
