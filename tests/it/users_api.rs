//! Staff accounts through the API, on both databases: listed, created with a one-time password
//! that only the answer names, roles replaced, deactivated (its tokens stop working, also after
//! reactivation), reactivated, given a new one-time password and its API tokens revoked; every
//! refusal changes nothing, and each change is in the administration's record.

use actix_web::http::StatusCode;
use actix_web::test as actix_test;
use diesel::prelude::*;
use serde_json::{Value, json};
use vorgang::db::models::{Role, UserId};
use vorgang::db::schema::users;
use vorgang::service::calendar;

use crate::support::TestDatabase;
use crate::support::auth::{create_user, staff_token, test_auth};

struct Reply {
    status: StatusCode,
    cache_control: String,
    body: Value,
}

macro_rules! call {
    ($app:expr, $method:ident, $uri:expr, $token:expr) => {
        call!($app, $method, $uri, $token, None::<Value>)
    };
    ($app:expr, $method:ident, $uri:expr, $token:expr, $body:expr) => {{
        let mut request = actix_test::TestRequest::$method()
            .uri(&$uri)
            .insert_header(("Authorization", format!("Bearer {}", $token)));
        if let Some(body) = $body {
            request = request.set_json(body);
        }
        let response = actix_test::call_service(&$app, request.to_request()).await;
        let status = response.status();
        let cache_control = response
            .headers()
            .get("Cache-Control")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body =
            serde_json::from_slice(&actix_test::read_body(response).await).unwrap_or(Value::Null);
        Reply {
            status,
            cache_control,
            body,
        }
    }};
}

/// A token for account `id` as it is now (a login now would issue one like it).
fn current_token(db: &TestDatabase, id: i64) -> String {
    let user = vorgang::db::models::User::find_by_id(
        &mut db.connection(),
        vorgang::db::models::UserId(id),
    )
    .unwrap()
    .unwrap();
    staff_token(&user)
}

/// A new calendar feed address of account `id` (its secret).
fn feed_address(db: &TestDatabase, id: i64) -> String {
    let now = chrono::Utc::now().naive_utc();
    calendar::issue(&mut db.connection(), UserId(id), "Outlook", now)
        .unwrap()
        .secret
}

/// Whether the calendar feed address still leads to its account.
fn feed_works(db: &TestDatabase, secret: &str) -> bool {
    calendar::resolve(&mut db.connection(), secret)
        .unwrap()
        .is_some()
}

fn password_hash(db: &TestDatabase, id: i64) -> Option<String> {
    users::table
        .find(id)
        .select(users::password_hash)
        .first(&mut db.connection())
        .unwrap()
}

fn user_count(db: &TestDatabase) -> i64 {
    users::table
        .count()
        .get_result(&mut db.connection())
        .unwrap()
}

/// The pointers of a 422's `errors`.
fn pointers(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["pointer"].as_str().unwrap_or("").to_string())
        .collect()
}

both_backends! {
    async fn accounts_are_created_changed_and_deactivated_through_the_api(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let (admin_user, admin, soest) = {
            let mut conn = db.connection();
            let admin_user = create_user(&mut conn, "admin@bra.nrw.de", "KFI", &[Role::Admin], None);
            let admin = staff_token(&admin_user);
            (admin_user, admin, staff_token(&create_user(&mut conn, "k@kreis-soest.de", "05974", &[Role::Koordination], None)))
        };
        let pool = db.pool(2);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;

        let listed = call!(app, get, "/api/v1/admin/users", admin);
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
        let emails: Vec<&str> = listed.body.as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
        assert_eq!(emails, ["admin@bra.nrw.de", "k@kreis-soest.de"]);
        // Both were made without a password (only a proxy could log them in).
        assert!(listed.body.as_array().unwrap().iter().all(|u| u["has_password"] == json!(false)), "{}", listed.body);
        assert_eq!(listed.body[1]["organisation"], "05974");
        assert_eq!(listed.body[1]["organisation_name"], "Kreis Soest");
        assert_eq!(listed.body[1]["roles"], json!(["koordination"]));

        // Created with a one-time password that only this answer names.
        let created = call!(app, post, "/api/v1/admin/users", admin, Some(json!({
            "email": " Anna.Muster@Kreis-Kleve.DE ", "name": "Anna Muster", "organisation": "05154", "roles": ["lesen", "koordination"]
        })));
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        assert_eq!(created.cache_control, "no-store");
        let anna = &created.body["user"];
        let id = anna["id"].as_i64().unwrap();
        assert_eq!(anna["email"], "anna.muster@kreis-kleve.de");
        assert_eq!(anna["organisation"], "05154");
        assert_eq!(anna["roles"], json!(["koordination", "lesen"]));
        assert_eq!((anna["active"].clone(), anna["must_change_password"].clone()), (json!(true), json!(true)));
        assert_eq!(anna["has_password"], json!(true));
        let password = created.body["password"].as_str().unwrap();
        assert!(password.len() >= 12, "{password}");
        let shown = call!(app, get, format!("/api/v1/admin/users/{id}"), admin);
        assert_eq!(shown.body, *anna);
        assert!(!shown.body.to_string().contains(password), "the password is named once");
        // The one-time password is for the web interface's first login, not for programs.
        let login = actix_test::TestRequest::post().uri("/api/v1/auth/token")
            .set_json(json!({ "email": "anna.muster@kreis-kleve.de", "password": password })).to_request();
        let login = actix_test::call_service(&app, login).await;
        assert_eq!(login.status(), StatusCode::FORBIDDEN);
        let problem: Value = actix_test::read_body_json(login).await;
        assert_eq!(problem["title"], "Einmalpasswort noch nicht ersetzt", "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("Weboberfläche"), "{problem}");
        let wrong = actix_test::TestRequest::post().uri("/api/v1/auth/token")
            .set_json(json!({ "email": "anna.muster@kreis-kleve.de", "password": "falsch-falsch-falsch" })).to_request();
        assert_eq!(actix_test::call_service(&app, wrong).await.status(), StatusCode::UNAUTHORIZED, "a wrong password learns nothing");

        // Refused creations change nothing.
        let before = (user_count(&db), db.admin_record());
        let taken = call!(app, post, "/api/v1/admin/users", admin, Some(json!({
            "email": "ANNA.MUSTER@kreis-kleve.de", "name": "Noch eine", "organisation": "05154", "roles": ["lesen"]
        })));
        assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", taken.body);
        assert_eq!(pointers(&taken.body), ["/email"]);
        let wrong = call!(app, post, "/api/v1/admin/users", admin, Some(json!({
            "email": "kein-at", "name": "", "organisation": "GIBTSNICHT", "roles": []
        })));
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong.body);
        assert_eq!(pointers(&wrong.body), ["/email", "/name", "/organisation", "/roles"]);
        let unknown_role = call!(app, post, "/api/v1/admin/users", admin, Some(json!({
            "email": "b@kreis-kleve.de", "name": "B", "organisation": "05154", "roles": ["lesen", "chef"]
        })));
        assert_eq!(unknown_role.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown_role.body);
        assert_eq!(pointers(&unknown_role.body), ["/roles/1"]);
        assert!(unknown_role.body["errors"][0]["message"].as_str().unwrap().contains("Unbekannte Rolle „chef“"));
        let extra = call!(app, post, "/api/v1/admin/users", admin, Some(json!({
            "email": "b@kreis-kleve.de", "name": "B", "organisation": "05154", "roles": ["lesen"], "password": "selbst-gewaehlt"
        })));
        assert_eq!(extra.status, StatusCode::BAD_REQUEST, "{}", extra.body);
        assert_eq!((user_count(&db), db.admin_record()), before);

        // Roles replaced; an administrator keeps their own admin role.
        let roles = call!(app, put, format!("/api/v1/admin/users/{id}/roles"), admin, Some(json!({ "roles": ["bewilligung"] })));
        assert_eq!(roles.status, StatusCode::OK, "{}", roles.body);
        assert_eq!(roles.body["roles"], json!(["bewilligung"]));
        let own = call!(app, put, format!("/api/v1/admin/users/{}/roles", admin_user.id.0), admin, Some(json!({ "roles": ["lesen"] })));
        assert_eq!(own.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", own.body);
        assert_eq!(pointers(&own.body), ["/roles"]);
        let none = call!(app, put, format!("/api/v1/admin/users/{id}/roles"), admin, Some(json!({ "roles": [] })));
        assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", none.body);
        let missing = call!(app, put, "/api/v1/admin/users/999999/roles", admin, Some(json!({ "roles": ["lesen"] })));
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);

        // Deactivated: the account's token and calendar address stop working, and stay refused
        // after reactivation; a token issued after that works.
        let feed = feed_address(&db, id);
        assert!(feed_works(&db, &feed));
        let token = current_token(&db, id);
        assert_eq!(call!(app, get, "/api/v1/cases", token).status, StatusCode::OK);
        let off = call!(app, put, format!("/api/v1/admin/users/{id}/active"), admin, Some(json!({ "active": false })));
        assert_eq!(off.status, StatusCode::OK, "{}", off.body);
        assert_eq!(off.body["active"], false);
        assert_eq!(call!(app, get, "/api/v1/cases", token).status, StatusCode::UNAUTHORIZED);
        let on = call!(app, put, format!("/api/v1/admin/users/{id}/active"), admin, Some(json!({ "active": true })));
        assert_eq!(on.body["active"], true);
        assert_eq!(call!(app, get, "/api/v1/cases", token).status, StatusCode::UNAUTHORIZED);
        assert!(!feed_works(&db, &feed));
        let token = current_token(&db, id);
        assert_eq!(call!(app, get, "/api/v1/cases", token).status, StatusCode::OK);
        let myself = call!(app, put, format!("/api/v1/admin/users/{}/active", admin_user.id.0), admin, Some(json!({ "active": false })));
        assert_eq!(myself.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", myself.body);
        let not_bool = call!(app, put, format!("/api/v1/admin/users/{id}/active"), admin, Some(json!({ "active": "nein" })));
        assert_eq!(not_bool.status, StatusCode::BAD_REQUEST, "{}", not_bool.body);

        // A new one-time password for a forgotten one, named once, ending the account's tokens
        // and calendar addresses; not for oneself.
        let feed = feed_address(&db, id);
        assert!(feed_works(&db, &feed));
        let reset = call!(app, post, format!("/api/v1/admin/users/{id}/password"), admin);
        assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
        assert_eq!(call!(app, get, "/api/v1/cases", token).status, StatusCode::UNAUTHORIZED);
        assert!(!feed_works(&db, &feed));
        assert_eq!(reset.cache_control, "no-store");
        let second = reset.body["password"].as_str().unwrap();
        assert_eq!(second.len(), 20);
        assert_ne!(second, password);
        assert_eq!(reset.body["user"]["must_change_password"], true);
        let own_reset = call!(app, post, format!("/api/v1/admin/users/{}/password", admin_user.id.0), admin);
        assert_eq!(own_reset.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", own_reset.body);
        assert_eq!(call!(app, post, "/api/v1/admin/users/999999/password", admin).status, StatusCode::NOT_FOUND);
        assert_eq!(call!(app, post, format!("/api/v1/admin/users/{id}/password"), soest).status, StatusCode::FORBIDDEN);

        // A link by mail instead of a one-time password: 202 with the address and the link's
        // end, one mail in the outbox, the password unchanged until the link is used.
        let hash_before_link = password_hash(&db, id);
        let sent = call!(app, post, format!("/api/v1/admin/users/{id}/access-link"), admin);
        assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.body);
        let expires: chrono::DateTime<chrono::Utc> = sent.body["expires_at"].as_str().unwrap().parse().unwrap();
        assert!(expires > chrono::Utc::now() + chrono::TimeDelta::days(6), "{}", sent.body);
        let mails: Vec<_> = crate::beteiligung::mails(&db).into_iter().filter(|m| m.0 == "zugang_einrichten").collect();
        assert_eq!((mails.len(), mails[0].1.first()), (1, sent.body["email"].as_str().map(str::to_string).as_ref()));
        assert_eq!(password_hash(&db, id), hash_before_link);
        let own_link = call!(app, post, format!("/api/v1/admin/users/{}/access-link", admin_user.id.0), admin);
        assert_eq!((own_link.status, own_link.body["errors"][0]["pointer"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("/access_link")), "{}", own_link.body);
        assert_eq!(call!(app, post, "/api/v1/admin/users/999999/access-link", admin).status, StatusCode::NOT_FOUND);
        assert_eq!(call!(app, post, format!("/api/v1/admin/users/{id}/access-link"), soest).status, StatusCode::FORBIDDEN);

        // Revoking the API tokens: the account's token is refused at once, its password stays.
        let token = current_token(&db, id);
        assert_eq!(call!(app, get, "/api/v1/cases", token).status, StatusCode::OK);
        let hash_before = password_hash(&db, id);
        assert_eq!(call!(app, delete, format!("/api/v1/admin/users/{id}/tokens"), soest).status, StatusCode::FORBIDDEN);
        assert_eq!(call!(app, get, "/api/v1/cases", token).status, StatusCode::OK);
        assert_eq!(call!(app, delete, "/api/v1/admin/users/999999/tokens", admin).status, StatusCode::NOT_FOUND);
        let revoked = call!(app, delete, format!("/api/v1/admin/users/{id}/tokens"), admin);
        assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
        assert_eq!(revoked.body["email"], "anna.muster@kreis-kleve.de");
        assert_eq!(call!(app, get, "/api/v1/cases", token).status, StatusCode::UNAUTHORIZED);
        assert_eq!(password_hash(&db, id), hash_before);
        assert_eq!(call!(app, get, "/api/v1/cases", current_token(&db, id)).status, StatusCode::OK);

        // Everybody reads their own account.
        let me = call!(app, get, "/api/v1/me", soest);
        assert_eq!(me.status, StatusCode::OK, "{}", me.body);
        assert_eq!((me.body["email"].clone(), me.body["organisation"].clone(), me.body["roles"].clone()), (json!("k@kreis-soest.de"), json!("05974"), json!(["koordination"])));
        assert_eq!(me.body["organisation_name"], "Kreis Soest");
        assert_eq!(call!(app, get, "/api/v1/me", admin).body["id"], admin_user.id.0);
        assert_eq!(call!(app, get, "/api/v1/me", "kein.gueltiges.token").status, StatusCode::UNAUTHORIZED);

        // Only administrators.
        assert_eq!(call!(app, get, "/api/v1/admin/users", soest).status, StatusCode::FORBIDDEN);
        assert_eq!(call!(app, put, format!("/api/v1/admin/users/{id}/active"), soest, Some(json!({ "active": false }))).status, StatusCode::FORBIDDEN);

        let subject = "anna.muster@kreis-kleve.de".to_string();
        assert_eq!(db.admin_record(), [
            ("user_created".to_string(), subject.clone()),
            ("user_roles_changed".to_string(), subject.clone()),
            ("user_activation_changed".to_string(), subject.clone()),
            ("user_activation_changed".to_string(), subject.clone()),
            ("user_password_reset".to_string(), subject.clone()),
            ("user_access_link_sent".to_string(), subject.clone()),
            ("user_tokens_revoked".to_string(), subject),
        ]);
    }
}

both_backends! {
    async fn the_own_absence_is_set_read_and_ended_through_the_api(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let (anna, ben, reader, kleve) = {
            let mut conn = db.connection();
            (
                create_user(&mut conn, "anna@kreis-soest.de", "05974", &[Role::Koordination], None),
                create_user(&mut conn, "ben@kreis-soest.de", "05974", &[Role::Koordination], None),
                create_user(&mut conn, "leser@kreis-soest.de", "05974", &[Role::Lesen], None),
                create_user(&mut conn, "k@kreis-kleve.de", "05154", &[Role::Koordination], None),
            )
        };
        let token = staff_token(&anna);
        let pool = db.pool(2);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;
        let today = vorgang::service::clock::now().today;
        let until = (today + chrono::Days::new(10)).format("%Y-%m-%d").to_string();

        let none = call!(app, get, "/api/v1/me/absence", token);
        assert_eq!(none.status, StatusCode::NOT_FOUND, "{}", none.body);
        assert_eq!(none.body["detail"], "Sie haben keine Abwesenheit eingetragen.");

        // A reader, a colleague of another Kreis, Anna herself, a past day: 422 at the field.
        for (deputy, day) in [(reader.id.0, until.clone()), (kleve.id.0, until.clone()), (anna.id.0, until.clone())] {
            let refused = call!(app, put, "/api/v1/me/absence", token, Some(json!({ "until": day, "deputy": deputy })));
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
            assert_eq!(pointers(&refused.body), ["/deputy"], "{}", refused.body);
        }
        let yesterday = (today - chrono::Days::new(1)).format("%Y-%m-%d").to_string();
        let past = call!(app, put, "/api/v1/me/absence", token, Some(json!({ "until": yesterday, "deputy": ben.id.0 })));
        assert_eq!(pointers(&past.body), ["/until"], "{}", past.body);
        assert_eq!(past.body["type"], "urn:vorgang:problem:invalid-input", "{}", past.body);
        assert_eq!(past.body["detail"], "Bitte korrigieren Sie die markierten Angaben; es wurde nichts geändert.");
        let far = (today + chrono::Days::new(400)).format("%Y-%m-%d").to_string();
        let too_far = call!(app, put, "/api/v1/me/absence", token, Some(json!({ "until": far, "deputy": ben.id.0 })));
        assert_eq!(pointers(&too_far.body), ["/until"], "{}", too_far.body);
        let misspelt = call!(app, put, "/api/v1/me/absence", token, Some(json!({ "bis": until, "deputy": ben.id.0 })));
        assert_eq!(misspelt.status, StatusCode::BAD_REQUEST, "{}", misspelt.body);
        assert_eq!(call!(app, get, "/api/v1/me/absence", token).status, StatusCode::NOT_FOUND, "nothing stored");

        let set = call!(app, put, "/api/v1/me/absence", token, Some(json!({ "until": until, "deputy": ben.id.0 })));
        assert_eq!(set.status, StatusCode::OK, "{}", set.body);
        assert_eq!(set.body, json!({ "until": until, "deputy": { "id": ben.id.0, "name": "Test Person" } }));
        assert_eq!(call!(app, get, "/api/v1/me/absence", token).body, set.body);
        // Only the caller's own: Ben has none.
        assert_eq!(call!(app, get, "/api/v1/me/absence", staff_token(&ben)).status, StatusCode::NOT_FOUND);

        let ended = call!(app, delete, "/api/v1/me/absence", token);
        assert_eq!(ended.status, StatusCode::NO_CONTENT);
        assert_eq!(call!(app, get, "/api/v1/me/absence", token).status, StatusCode::NOT_FOUND);
        assert_eq!(call!(app, delete, "/api/v1/me/absence", token).status, StatusCode::NO_CONTENT, "none is no error");
    }
}
