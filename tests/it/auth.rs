//! Authentication: the token endpoint, bearer tokens on API calls, failed-login limits, and
//! `vorgang user` as a real process.

use std::io::Write;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use actix_web::http::header::HeaderMap;
use actix_web::test as actix_test;
use actix_web::{HttpResponse, web};
use chrono::{TimeDelta, Utc};
use diesel::prelude::*;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};
use vorgang::auth::token::{Purpose, StaffAccess, StaffClaims, StaffToken, TokenError};
use vorgang::auth::{Passwords, Principal, Signer};
use vorgang::db::models::{Role, User};
use vorgang::db::schema::{user_roles, users};

use crate::support::TestDatabase;
use crate::support::auth::{
    TEST_SECRET, cheap_passwords, create_user, test_auth, test_auth_behind, test_auth_with,
    test_secret,
};
use crate::support::process::{RunningServer, http, vorgang};

const PASSWORD: &str = "richtig-langes-passwort";
const PEER: &str = "192.0.2.10:40000";

/// A response, read completely.
struct Reply {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }
}

/// Calls the app with a `TestRequest` and reads the whole response.
macro_rules! send {
    ($app:expr, $request:expr) => {{
        let response = actix_test::call_service(&$app, $request.to_request()).await;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = actix_test::read_body(response).await.to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }};
}

/// The application as served, plus a protected route that echoes its [`Principal`].
macro_rules! app {
    ($db:expr, $auth:expr) => {{
        let db = $db;
        let api = crate::support::api::state(&db, &std::env::temp_dir().join("vorgang-auth-tests"));
        actix_test::init_service(
            vorgang::web::app(db, $auth, api).route("/test/whoami", web::get().to(whoami)),
        )
        .await
    }};
}

async fn whoami(principal: Principal) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "user_id": principal.user_id,
        "email": principal.email,
        "organisation_id": principal.organisation_id,
        "roles": principal.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
    }))
}

fn login(email: &str, password: &str) -> actix_test::TestRequest {
    login_from(email, password, PEER)
}

fn login_from(email: &str, password: &str, peer: &str) -> actix_test::TestRequest {
    actix_test::TestRequest::post()
        .uri("/api/v1/auth/token")
        .peer_addr(peer.parse().unwrap())
        .set_json(json!({ "email": email, "password": password }))
}

fn whoami_with(token: &str) -> actix_test::TestRequest {
    actix_test::TestRequest::get()
        .uri("/test/whoami")
        .insert_header(("Authorization", format!("Bearer {token}")))
}

/// Claims of a token, verified independently of vorgang's own code.
fn verified_claims(token: &str) -> Value {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&["vorgang-api"]);
    validation.set_issuer(&["vorgang"]);
    jsonwebtoken::decode::<Value>(
        token,
        &DecodingKey::from_secret(TEST_SECRET.as_bytes()),
        &validation,
    )
    .unwrap()
    .claims
}

fn assert_unauthorized(reply: &Reply) {
    assert_eq!(
        reply.status,
        401,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert!(reply.header("www-authenticate").starts_with("Bearer"));
    assert_eq!(reply.header("content-type"), "application/problem+json");
    let body = reply.json();
    assert_eq!(body["type"], "urn:vorgang:problem:unauthorized");
    assert_eq!(body["title"], "Nicht angemeldet");
    assert_eq!(body["status"], 401);
}

both_backends! {
    async fn the_token_endpoint_issues_a_verifiable_token(backend) {
        let db = TestDatabase::migrated(backend);
        let user = create_user(&mut db.connection(), "Anna@Kreis-Kleve.de", "05154", &[Role::Koordination], Some(PASSWORD));
        let app = app!(db.pool(2), test_auth());

        let before = Utc::now();
        let reply = send!(app, login(" ANNA@kreis-kleve.de ", PASSWORD));
        assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
        assert_eq!(reply.header("cache-control"), "no-store");
        let body = reply.json();
        assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
        let token = body["token"].as_str().unwrap();

        let claims = verified_claims(token);
        assert_eq!(claims["sub"], user.id.0.to_string());
        assert_eq!(claims["iss"], "vorgang");
        assert_eq!(claims["aud"], "vorgang-api");
        let iat = claims["iat"].as_i64().unwrap();
        let exp = claims["exp"].as_i64().unwrap();
        assert!((before.timestamp() - 1..=Utc::now().timestamp()).contains(&iat));
        assert_eq!(exp - iat, 8 * 3600);
        let expires_at = chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap()).unwrap();
        assert_eq!(expires_at.timestamp(), exp);
        let expected = before + TimeDelta::hours(8);
        assert!((expires_at.timestamp() - expected.timestamp()).abs() <= 2, "{expires_at} vs {expected}");

        // The token opens protected routes, with the user's data from the database.
        let me = send!(app, whoami_with(token));
        assert_eq!(me.status, 200);
        assert_eq!(me.json()["email"], "anna@kreis-kleve.de");
        assert_eq!(me.json()["user_id"], user.id.0);
        assert_eq!(me.json()["organisation_id"], user.organisation_id.0);
        assert_eq!(me.json()["roles"], json!(["koordination"]));
    }
}

both_backends! {
    async fn failed_logins_are_indistinguishable(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        create_user(&mut conn, "anna@kreis-kleve.de", "05154", &[Role::Lesen], Some(PASSWORD));
        create_user(&mut conn, "ohne@kreis-kleve.de", "05154", &[Role::Lesen], None);
        let inactive = create_user(&mut conn, "alt@kreis-kleve.de", "05154", &[Role::Lesen], Some(PASSWORD));
        diesel::update(users::table.find(inactive.id)).set(users::active.eq(false)).execute(&mut conn).unwrap();
        let app = app!(db.pool(2), test_auth());

        // Each from its own address, so the address limit does not interfere.
        let wrong_password = send!(app, login_from("anna@kreis-kleve.de", "falsches-passwort", "192.0.2.1:1"));
        let unknown = send!(app, login_from("niemand@kreis-kleve.de", "falsches-passwort", "192.0.2.2:1"));
        let without_password = send!(app, login_from("ohne@kreis-kleve.de", PASSWORD, "192.0.2.3:1"));
        let inactive_user = send!(app, login_from("alt@kreis-kleve.de", PASSWORD, "192.0.2.4:1"));

        assert_eq!(wrong_password.status, 401);
        assert_eq!(wrong_password.header("content-type"), "application/problem+json");
        let body = wrong_password.json();
        assert_eq!(body["type"], "urn:vorgang:problem:invalid-credentials");
        assert_eq!(body["title"], "Anmeldung fehlgeschlagen");
        assert!(!String::from_utf8_lossy(&wrong_password.body).contains("falsches"));
        for other in [&unknown, &without_password, &inactive_user] {
            assert_eq!(other.status, wrong_password.status);
            assert_eq!(other.body, wrong_password.body, "bodies must be byte-identical");
            let names = |r: &Reply| {
                let mut names: Vec<String> = r.headers.keys().map(|k| k.to_string()).filter(|k| k != "x-request-id").collect();
                names.sort();
                names
            };
            assert_eq!(names(other), names(&wrong_password));
            assert_eq!(other.header("content-type"), wrong_password.header("content-type"));
        }
    }
}

both_backends! {
    async fn an_inactive_user_is_refused_even_with_a_valid_token(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let user = create_user(&mut conn, "anna@kreis-kleve.de", "05154", &[Role::Lesen, Role::Koordination], Some(PASSWORD));
        let app = app!(db.pool(2), test_auth());
        let token = send!(app, login("anna@kreis-kleve.de", PASSWORD)).json()["token"].as_str().unwrap().to_string();
        assert_eq!(send!(app, whoami_with(&token)).json()["roles"], json!(["koordination", "lesen"]));

        // A revoked role is gone with the next request: roles come from the database.
        diesel::delete(user_roles::table.filter(user_roles::user_id.eq(user.id)).filter(user_roles::role.eq("koordination")))
            .execute(&mut conn).unwrap();
        assert_eq!(send!(app, whoami_with(&token)).json()["roles"], json!(["lesen"]));

        diesel::update(users::table.find(user.id)).set(users::active.eq(false)).execute(&mut conn).unwrap();
        assert_unauthorized(&send!(app, whoami_with(&token)));
        assert_eq!(send!(app, login("anna@kreis-kleve.de", PASSWORD)).status, 401);

        diesel::delete(users::table.find(user.id)).execute(&mut conn).unwrap();
        assert_unauthorized(&send!(app, whoami_with(&token)));
    }
}

fn revoke_with(token: &str) -> actix_test::TestRequest {
    actix_test::TestRequest::delete()
        .uri("/api/v1/auth/token")
        .insert_header(("Authorization", format!("Bearer {token}")))
}

both_backends! {
    async fn revoked_tokens_are_refused_and_new_ones_work(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let user = create_user(&mut conn, "anna@kreis-kleve.de", "05154", &[Role::Koordination], Some(PASSWORD));
        let other = create_user(&mut conn, "bob@kreis-kleve.de", "05154", &[Role::Koordination], Some(PASSWORD));
        let app = app!(db.pool(2), test_auth());
        let token = |app_reply: Reply| app_reply.json()["token"].as_str().unwrap().to_string();
        let first = token(send!(app, login("anna@kreis-kleve.de", PASSWORD)));
        let second = token(send!(app, login("anna@kreis-kleve.de", PASSWORD)));
        let bobs = token(send!(app, login("bob@kreis-kleve.de", PASSWORD)));
        assert_eq!(verified_claims(&first)["gen"], 0);
        assert_eq!(send!(app, whoami_with(&second)).status, 200);

        // Signing off everywhere: every token of the account ends, the one sent included; other
        // accounts keep theirs.
        let revoked = send!(app, revoke_with(&first));
        assert_eq!(revoked.status, 204, "{}", String::from_utf8_lossy(&revoked.body));
        assert!(revoked.body.is_empty());
        assert_unauthorized(&send!(app, whoami_with(&first)));
        assert_unauthorized(&send!(app, whoami_with(&second)));
        assert_eq!(send!(app, whoami_with(&bobs)).json()["user_id"], other.id.0);
        // A revoked token cannot revoke again (nor anything else), nor can no token at all.
        assert_unauthorized(&send!(app, revoke_with(&first)));
        let anonymous = send!(app, actix_test::TestRequest::delete().uri("/api/v1/auth/token"));
        assert_unauthorized(&anonymous);
        let generation = |conn: &mut vorgang::db::DbConnection| {
            users::table.find(user.id).select(users::token_generation).first::<i32>(conn).unwrap()
        };
        assert_eq!(generation(&mut conn), 1);

        // The password still works and gives tokens of the new generation.
        let third = token(send!(app, login("anna@kreis-kleve.de", PASSWORD)));
        assert_eq!(verified_claims(&third)["gen"], 1);
        assert_eq!(send!(app, whoami_with(&third)).json()["user_id"], user.id.0);

        // A changed password ends the tokens too, whether the user changes it or it is set
        // on the command line.
        User::change_password(&mut conn, user.id, &cheap_passwords().hash("ein-neues-passwort").unwrap()).unwrap();
        assert_unauthorized(&send!(app, whoami_with(&third)));
        let fourth = token(send!(app, login("anna@kreis-kleve.de", "ein-neues-passwort")));
        assert_eq!(send!(app, whoami_with(&fourth)).status, 200);
        User::set_password_hash(&mut conn, user.id, &cheap_passwords().hash(PASSWORD).unwrap()).unwrap();
        assert_unauthorized(&send!(app, whoami_with(&fourth)));
        assert_eq!(generation(&mut conn), 3);
        assert_eq!(send!(app, whoami_with(&bobs)).status, 200);
    }
}

both_backends! {
    async fn failed_logins_are_limited_per_account_and_per_address(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        create_user(&mut conn, "anna@kreis-kleve.de", "05154", &[Role::Lesen], Some(PASSWORD));
        create_user(&mut conn, "bob@kreis-kleve.de", "05154", &[Role::Lesen], Some(PASSWORD));
        let app = app!(db.pool(2), test_auth());

        // Per account: five failures from five addresses, then even the right password is refused.
        for i in 0..5 {
            let reply = send!(app, login_from("anna@kreis-kleve.de", "falsches-passwort", &format!("198.51.100.{i}:1")));
            assert_eq!(reply.status, 401);
        }
        let refused = send!(app, login_from("Anna@Kreis-Kleve.de", PASSWORD, "198.51.100.99:1"));
        assert_eq!(refused.status, 429, "{}", String::from_utf8_lossy(&refused.body));
        let retry_after: u64 = refused.header("retry-after").parse().unwrap();
        assert!((1..=180).contains(&retry_after), "{retry_after}");
        assert_eq!(refused.header("content-type"), "application/problem+json");
        let body = refused.json();
        assert_eq!(body["type"], "urn:vorgang:problem:too-many-login-attempts");
        assert_eq!(body["status"], 429);
        assert!(body["detail"].as_str().unwrap().contains("Bitte versuchen Sie es in"), "{body}");
        // Other accounts are not affected.
        assert_eq!(send!(app, login_from("bob@kreis-kleve.de", PASSWORD, "198.51.100.99:1")).status, 200);

        // Per address: failures on different accounts from one address add up, and a success
        // in between does not reset them.
        let address = "203.0.113.7:1";
        for i in 0..4 {
            let reply = send!(app, login_from(&format!("probe{i}@kreis-kleve.de"), "falsches-passwort", address));
            assert_eq!(reply.status, 401);
        }
        assert_eq!(send!(app, login_from("bob@kreis-kleve.de", PASSWORD, address)).status, 200);
        assert_eq!(send!(app, login_from("probe4@kreis-kleve.de", "falsches-passwort", address)).status, 401);
        let refused = send!(app, login_from("bob@kreis-kleve.de", PASSWORD, address));
        assert_eq!(refused.status, 429);
        assert!(refused.headers.contains_key("retry-after"));
    }
}

both_backends! {
    async fn instances_on_one_database_count_the_same_failures(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        create_user(&mut conn, "anna@kreis-kleve.de", "05154", &[Role::Lesen], Some(PASSWORD));
        create_user(&mut conn, "bob@kreis-kleve.de", "05154", &[Role::Lesen], Some(PASSWORD));
        // Two instances behind one load balancer: pools and auth state of their own, one
        // database.
        let first = app!(db.pool(4), test_auth());
        let second = app!(db.pool(4), test_auth());

        // Failures alternate between them: five in all, not five each.
        for i in 0..5 {
            let app = if i % 2 == 0 { &first } else { &second };
            let reply = send!(app, login_from("anna@kreis-kleve.de", "falsches-passwort", &format!("198.51.100.{i}:1")));
            assert_eq!(reply.status, 401);
        }
        assert_eq!(send!(first, login_from("anna@kreis-kleve.de", PASSWORD, "198.51.100.50:1")).status, 429);
        assert_eq!(send!(second, login_from("anna@kreis-kleve.de", PASSWORD, "198.51.100.51:1")).status, 429);
        // An instance started afterwards (or restarted) knows them too.
        let third = app!(db.pool(2), test_auth());
        assert_eq!(send!(third, login_from("anna@kreis-kleve.de", PASSWORD, "198.51.100.52:1")).status, 429);

        // Twelve wrong passwords for bob at once, from twelve addresses, spread over both
        // instances: exactly five are checked (401), seven refused before checking (429).
        let attempts = (0..12).map(|i| {
            let app = if i % 2 == 0 { &first } else { &second };
            let request = login_from("bob@kreis-kleve.de", "falsches-passwort", &format!("203.0.113.{i}:1"));
            async move { actix_test::call_service(app, request.to_request()).await.status().as_u16() }
        });
        let mut statuses = futures_util::future::join_all(attempts).await;
        statuses.sort_unstable();
        assert_eq!(statuses, [[401; 5].as_slice(), [429; 7].as_slice()].concat());
        assert_eq!(send!(third, login_from("bob@kreis-kleve.de", PASSWORD, "203.0.113.99:1")).status, 429);
    }
}

/// A login through the reverse proxy at `10.0.0.5`, which names `client` in `X-Forwarded-For`.
fn login_via_proxy(email: &str, password: &str, client: &str) -> actix_test::TestRequest {
    login_from(email, password, "10.0.0.5:40000").insert_header(("X-Forwarded-For", client))
}

both_backends! {
    async fn behind_a_trusted_proxy_failed_logins_count_per_client(backend) {
        let db = TestDatabase::migrated(backend);
        create_user(&mut db.connection(), "bob@kreis-kleve.de", "05154", &[Role::Lesen], Some(PASSWORD));
        let app = app!(db.pool(2), test_auth_behind("10.0.0.5"));

        // Five failures of one client on five accounts: that client is refused, the others
        // behind the same proxy are not.
        for i in 0..5 {
            let reply = send!(app, login_via_proxy(&format!("probe{i}@kreis-kleve.de"), "falsches-passwort", "198.51.100.1"));
            assert_eq!(reply.status, 401);
        }
        assert_eq!(send!(app, login_via_proxy("bob@kreis-kleve.de", PASSWORD, "198.51.100.1")).status, 429);
        assert_eq!(send!(app, login_via_proxy("bob@kreis-kleve.de", PASSWORD, "198.51.100.2")).status, 200);
        // The client is the nearest untrusted hop: what it wrote in front itself does not count.
        assert_eq!(send!(app, login_via_proxy("bob@kreis-kleve.de", PASSWORD, "203.0.113.50, 198.51.100.1")).status, 429);

        // A client that is no trusted proxy cannot name another address to escape the limit.
        for i in 0..5 {
            let reply = send!(app, login_from(&format!("probe{i}@kreis-kleve.de"), "falsches-passwort", "192.0.2.9:1")
                .insert_header(("X-Forwarded-For", format!("198.51.100.{}", 100 + i))));
            assert_eq!(reply.status, 401);
        }
        let spoofed = login_from("bob@kreis-kleve.de", PASSWORD, "192.0.2.9:1").insert_header(("X-Forwarded-For", "198.51.100.3"));
        assert_eq!(send!(app, spoofed).status, 429);
        assert_eq!(send!(app, login_via_proxy("bob@kreis-kleve.de", PASSWORD, "198.51.100.3")).status, 200);
    }
}

both_backends! {
    async fn behind_a_proxy_writing_forwarded_the_client_is_read_from_it_alone(backend) {
        use vorgang::web::client_addr::{ForwardedHeader, TrustedProxies};
        let db = TestDatabase::migrated(backend);
        create_user(&mut db.connection(), "bob@kreis-kleve.de", "05154", &[Role::Lesen], Some(PASSWORD));
        let proxies = TrustedProxies::parse("10.0.0.5").unwrap().with_header(ForwardedHeader::Forwarded);
        let app = app!(db.pool(2), crate::support::auth::test_auth_behind_proxies(proxies));
        let via = |email: &str, password: &str, forwarded: &str| {
            login_from(email, password, "10.0.0.5:40000").insert_header(("Forwarded", forwarded.to_string()))
        };
        for i in 0..5 {
            let reply = send!(app, via(&format!("probe{i}@kreis-kleve.de"), "falsches-passwort", "for=198.51.100.1;proto=https"));
            assert_eq!(reply.status, 401);
        }
        assert_eq!(send!(app, via("bob@kreis-kleve.de", PASSWORD, "for=\"198.51.100.1:5123\"")).status, 429);
        assert_eq!(send!(app, via("bob@kreis-kleve.de", PASSWORD, "for=198.51.100.2")).status, 200);
        // An `X-Forwarded-For` the client sent and the proxy passed on is not believed: the
        // request counts for the proxy itself, which has failed nothing yet.
        let passed_on = login_via_proxy("bob@kreis-kleve.de", PASSWORD, "198.51.100.2");
        assert_eq!(send!(app, passed_on).status, 200);
        for i in 0..5 {
            let reply = send!(app, login_via_proxy(&format!("probe{i}@kreis-kleve.de"), "falsches-passwort", "198.51.100.3"));
            assert_eq!(reply.status, 401);
        }
        // Those five counted for the proxy's address, not for 198.51.100.3.
        assert_eq!(send!(app, via("bob@kreis-kleve.de", PASSWORD, "for=198.51.100.3")).status, 200);
        assert_eq!(send!(app, login_from("bob@kreis-kleve.de", PASSWORD, "10.0.0.5:40000")).status, 429);
    }
}

both_backends! {
    async fn behind_an_untrusted_proxy_all_clients_share_its_address(backend) {
        let db = TestDatabase::migrated(backend);
        create_user(&mut db.connection(), "bob@kreis-kleve.de", "05154", &[Role::Lesen], Some(PASSWORD));
        let app = app!(db.pool(2), test_auth());
        for i in 0..5 {
            let reply = send!(app, login_via_proxy(&format!("probe{i}@kreis-kleve.de"), "falsches-passwort", "198.51.100.1"));
            assert_eq!(reply.status, 401);
        }
        // Without `trusted_proxies` the header is ignored: everyone behind the proxy is refused.
        assert_eq!(send!(app, login_via_proxy("bob@kreis-kleve.de", PASSWORD, "198.51.100.2")).status, 429);
    }
}

both_backends! {
    async fn unknown_addresses_take_as_long_as_wrong_passwords(backend) {
        // Real cost parameters here: the point is that both paths run one argon2 verification.
        let db = TestDatabase::migrated(backend);
        let production = Passwords::new();
        let mut conn = db.connection();
        let user = create_user(&mut conn, "anna@kreis-kleve.de", "05154", &[Role::Lesen], None);
        User::set_password_hash(&mut conn, user.id, &production.hash(PASSWORD).unwrap()).unwrap();
        let app = app!(db.pool(2), test_auth_with(production));

        let mut known = Vec::new();
        let mut unknown = Vec::new();
        for i in 0..3 {
            let started = Instant::now();
            assert_eq!(send!(app, login_from("anna@kreis-kleve.de", "falsches-passwort", &format!("192.0.2.{i}:1"))).status, 401);
            known.push(started.elapsed());
            let started = Instant::now();
            assert_eq!(send!(app, login_from(&format!("niemand{i}@kreis-kleve.de"), "falsches-passwort", &format!("192.0.2.{}:1", 10 + i))).status, 401);
            unknown.push(started.elapsed());
        }
        known.sort();
        unknown.sort();
        let ratio = unknown[1].as_secs_f64() / known[1].as_secs_f64();
        // Without the dummy verification the unknown path would be ~100 times faster; the wide band
        // keeps the check meaningful on a loaded machine.
        assert!((0.2..=5.0).contains(&ratio), "median unknown {:?} vs known {:?}", unknown[1], known[1]);
    }
}

#[actix_web::test]
async fn malformed_login_requests_get_problem_json_without_echo() {
    let db = TestDatabase::migrated(crate::support::Backend::Sqlite);
    let app = app!(db.pool(2), test_auth());
    for request in [
        actix_test::TestRequest::post()
            .uri("/api/v1/auth/token")
            .insert_header(("content-type", "application/json"))
            .set_payload(r#"{"email": "a@b.de", "password": 12345678901234}"#),
        actix_test::TestRequest::post()
            .uri("/api/v1/auth/token")
            .insert_header(("content-type", "text/plain"))
            .set_payload("geheimes-passwort"),
        actix_test::TestRequest::post()
            .uri("/api/v1/auth/token")
            .set_json(json!({ "email": "a@b.de", "password": "x".repeat(10_000) })),
    ] {
        let reply = send!(app, request);
        assert_eq!(reply.status, 400);
        assert_eq!(reply.header("content-type"), "application/problem+json");
        assert_eq!(reply.json()["type"], "urn:vorgang:problem:bad-request");
        let text = String::from_utf8_lossy(&reply.body);
        assert!(
            !text.contains("12345678901234") && !text.contains("geheim"),
            "{text}"
        );
    }
    let get = send!(
        app,
        actix_test::TestRequest::get().uri("/api/v1/auth/token")
    );
    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), "POST, DELETE");
    assert_eq!(get.header("content-type"), "application/problem+json");
}

/// A token of another purpose, standing in for the partner links of the next issue.
struct Beteiligung;
impl Purpose for Beteiligung {
    const AUDIENCE: &'static str = "vorgang-beteiligung";
    type Claims = StaffClaims;
}

fn sign(header: Header, claims: &Value, key: &[u8]) -> String {
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(key)).unwrap()
}

fn b64(value: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

both_backends! {
    async fn bad_tokens_are_rejected(backend) {
        let db = TestDatabase::migrated(backend);
        let user = create_user(&mut db.connection(), "anna@kreis-kleve.de", "05154", &[Role::Lesen], Some(PASSWORD));
        let auth = test_auth();
        let app = app!(db.pool(2), auth.clone());
        let now = Utc::now().timestamp();
        let sub = user.id.0.to_string();
        let good_claims = json!({ "sub": sub, "iss": "vorgang", "aud": "vorgang-api", "iat": now, "exp": now + 3600 });
        let key = TEST_SECRET.as_bytes();

        // The reference: a hand-made token with the right algorithm, key and claims is accepted.
        let good = sign(Header::new(Algorithm::HS256), &good_claims, key);
        assert_eq!(send!(app, whoami_with(&good)).status, 200);

        let without = |claim: &str| {
            let mut claims = good_claims.clone();
            claims.as_object_mut().unwrap().remove(claim);
            sign(Header::new(Algorithm::HS256), &claims, key)
        };
        let missing_exp = without("exp");
        let missing_iat = without("iat");
        let missing_aud = without("aud");
        let with = |name: &str, value: Value| {
            let mut claims = good_claims.clone();
            claims[name] = value;
            sign(Header::new(Algorithm::HS256), &claims, key)
        };
        let cases = [
            ("alg none", format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), b64(&good_claims))),
            ("alg none, signature kept", format!("{}.{}.{}", b64(&json!({"alg": "none"})), b64(&good_claims), good.rsplit('.').next().unwrap())),
            ("HS512 with the right key", sign(Header::new(Algorithm::HS512), &good_claims, key)),
            ("HS256 with another key", sign(Header::new(Algorithm::HS256), &good_claims, b"ein-ganz-anderer-schluessel-0123456789")),
            ("expired", with("exp", json!(now - 3600))),
            ("wrong audience", with("aud", json!("vorgang-beteiligung"))),
            ("wrong issuer", with("iss", json!("jemand-anderes"))),
            ("issued in the future", with("iat", json!(now + 3600))),
            ("subject not a user id", with("sub", json!("anna"))),
            ("unknown user", with("sub", json!("987654"))),
            ("missing exp", missing_exp),
            ("missing iat", missing_iat),
            ("missing aud", missing_aud),
            ("garbage", "kein.jwt.token".to_string()),
            ("another purpose", Signer::new(&test_secret()).issue::<Beteiligung>(StaffClaims { sub: sub.clone(), generation: 0 }, Utc::now(), TimeDelta::hours(1)).unwrap().token),
            ("expired by vorgang", auth.tokens.issue_at(StaffToken::of(&user), Utc::now() - TimeDelta::hours(9)).unwrap().token),
        ];
        for (name, token) in &cases {
            let reply = send!(app, whoami_with(token));
            assert_eq!(reply.status, 401, "{name} must be rejected");
            assert_unauthorized(&reply);
            assert!(reply.header("www-authenticate").contains("invalid_token"), "{name}");
            assert!(reply.json()["detail"].as_str().unwrap().contains("ungültig oder abgelaufen"));
        }

        // No credentials, or other schemes: 401 with a plain challenge.
        for request in [
            actix_test::TestRequest::get().uri("/test/whoami"),
            actix_test::TestRequest::get().uri("/test/whoami").insert_header(("Authorization", "Basic YW5uYTpwdw==")),
            actix_test::TestRequest::get().uri("/test/whoami").insert_header(("Authorization", "Bearer ")),
        ] {
            let reply = send!(app, request);
            assert_unauthorized(&reply);
            assert!(reply.json()["detail"].as_str().unwrap().contains("Anmeldung erforderlich"));
        }
        // The scheme is case-insensitive.
        let lower = actix_test::TestRequest::get().uri("/test/whoami").insert_header(("Authorization", format!("bearer {good}")));
        assert_eq!(send!(app, lower).status, 200);
    }
}

#[test]
fn a_token_of_one_purpose_never_verifies_for_another() {
    let signer = Signer::new(&test_secret());
    let claims = || StaffClaims {
        sub: "1".into(),
        generation: 0,
    };
    let staff = signer
        .issue::<StaffAccess>(claims(), Utc::now(), TimeDelta::hours(1))
        .unwrap();
    let partner = signer
        .issue::<Beteiligung>(claims(), Utc::now(), TimeDelta::hours(1))
        .unwrap();
    assert!(signer.verify::<StaffAccess>(&staff.token).is_ok());
    assert!(signer.verify::<Beteiligung>(&partner.token).is_ok());
    assert!(matches!(
        signer.verify::<Beteiligung>(&staff.token),
        Err(TokenError::Invalid(_))
    ));
    assert!(matches!(
        signer.verify::<StaffAccess>(&partner.token),
        Err(TokenError::Invalid(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// `vorgang user` as a real process

/// Runs `vorgang user ARGS` against the database with `stdin` piped in.
fn user_command(db: &TestDatabase, args: &[&str], stdin: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut child = vorgang()
        .arg("user")
        .args(args)
        .current_dir(dir.path())
        .env("VORGANG_DATABASE_URL", db.url_text())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn assert_exit_2_one_line(output: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line expected: {stderr}");
    assert!(
        stderr.starts_with(&format!("vorgang: {expected}")),
        "expected {expected:?}, got {stderr}"
    );
    assert!(output.stdout.is_empty());
}

fn add_anna<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "add",
        "--email",
        "Anna.Schmidt@Kreis-Kleve.de",
        "--name",
        "Anna Schmidt",
        "--org",
        "05154",
        "--role",
        "koordination",
        "--role",
        "lesen",
    ];
    args.extend_from_slice(extra);
    args
}

both_backends! {
    fn user_add_and_passwd_as_processes(backend) {
        let db = TestDatabase::migrated(backend);

        let created = user_command(&db, &add_anna(&[]), "ein-sehr-gutes-passwort\n");
        let stdout = String::from_utf8_lossy(&created.stdout);
        assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
        assert_eq!(stdout.trim(), "Benutzer anna.schmidt@kreis-kleve.de angelegt: Kreis Kleve (05154), Rollen: koordination, lesen.");

        let mut conn = db.connection();
        let anna = User::find_by_email(&mut conn, "anna.schmidt@kreis-kleve.de").unwrap().unwrap();
        assert_eq!(anna.display_name, "Anna Schmidt");
        assert_eq!(anna.roles(&mut conn).unwrap(), [Role::Koordination, Role::Lesen]);
        let hash = anna.password_hash.clone().unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "production parameters: {hash}");
        assert!(!hash.contains("ein-sehr-gutes-passwort"));
        let passwords = cheap_passwords();
        assert!(passwords.verify(Some(&hash), "ein-sehr-gutes-passwort"));

        // Duplicate address (in another spelling): exit 2, one line, nothing changed.
        let duplicate = user_command(&db, &["add", "--email", "ANNA.SCHMIDT@kreis-kleve.de", "--name", "Andere", "--org", "05315", "--role", "admin"], "noch-ein-gutes-passwort\n");
        assert_exit_2_one_line(&duplicate, "Ein Benutzer mit der E-Mail-Adresse „anna.schmidt@kreis-kleve.de“ existiert bereits.");
        let again = User::find_by_email(&mut conn, "anna.schmidt@kreis-kleve.de").unwrap().unwrap();
        assert_eq!(again.display_name, "Anna Schmidt");
        assert_eq!(again.roles(&mut conn).unwrap(), [Role::Koordination, Role::Lesen]);

        // passwd: the new password replaces the old one.
        let changed = user_command(&db, &["passwd", "--email", "anna.schmidt@kreis-kleve.de"], "das-neue-passwort-1\r\nignoriert\n");
        assert!(changed.status.success(), "{}", String::from_utf8_lossy(&changed.stderr));
        assert_eq!(String::from_utf8_lossy(&changed.stdout).trim(), "Passwort für anna.schmidt@kreis-kleve.de gesetzt.");
        let new_hash = User::find_by_email(&mut conn, "anna.schmidt@kreis-kleve.de").unwrap().unwrap().password_hash.unwrap();
        assert!(passwords.verify(Some(&new_hash), "das-neue-passwort-1"));
        assert!(!passwords.verify(Some(&new_hash), "ein-sehr-gutes-passwort"));

        let short = user_command(&db, &["passwd", "--email", "anna.schmidt@kreis-kleve.de"], "zu-kurz\n");
        assert_exit_2_one_line(&short, "Passwort: Das Passwort muss mindestens 12 Zeichen lang sein.");
        let unchanged = User::find_by_email(&mut conn, "anna.schmidt@kreis-kleve.de").unwrap().unwrap().password_hash.unwrap();
        assert_eq!(unchanged, new_hash);

        let nobody = user_command(&db, &["passwd", "--email", "niemand@kreis-kleve.de"], "ein-sehr-gutes-passwort\n");
        assert_exit_2_one_line(&nobody, "Es gibt keinen Benutzer mit der E-Mail-Adresse „niemand@kreis-kleve.de“.");

        // The administration's record: the creation and the one password that was set, both
        // from the command line; the refused attempts left nothing.
        use vorgang::db::schema::admin_events;
        let recorded: Vec<(String, String, String)> = admin_events::table
            .order(admin_events::id)
            .select((admin_events::actor, admin_events::kind, admin_events::subject))
            .load(&mut conn)
            .unwrap();
        let anna = "anna.schmidt@kreis-kleve.de".to_string();
        assert_eq!(recorded, [
            ("Kommandozeile".to_string(), "user_created".to_string(), anna.clone()),
            ("Kommandozeile".to_string(), "user_password_set".to_string(), anna),
        ]);
    }
}

both_backends! {
    fn user_add_rejects_bad_input_and_creates_nothing(backend) {
        let db = TestDatabase::migrated(backend);
        let cases: [(Vec<&str>, &str, &str); 6] = [
            (
                vec!["add", "--email", "b@kreis-kleve.de", "--name", "B", "--org", "99999", "--role", "lesen"],
                "ein-sehr-gutes-passwort\n",
                "--org: Organisation „99999“ ist unbekannt.",
            ),
            (
                vec!["add", "--email", "b@kreis-kleve.de", "--name", "B", "--org", "05154", "--role", "chef"],
                "ein-sehr-gutes-passwort\n",
                "--role: unbekannte Rolle „chef“",
            ),
            (
                vec!["add", "--email", "b@kreis-kleve.de", "--name", "B", "--org", "05154", "--role", "lesen"],
                "elf-zeichen\n",
                "Passwort: Das Passwort muss mindestens 12 Zeichen lang sein.",
            ),
            (
                vec!["add", "--email", "b@kreis-kleve.de", "--name", "B", "--org", "05154", "--role", "lesen"],
                "",
                "Passwort: Die Standardeingabe ist leer",
            ),
            (
                vec!["add", "--email", "b@kreis-kleve.de", "--name", "B", "--org", "05154"],
                "ein-sehr-gutes-passwort\n",
                "--role fehlt",
            ),
            (
                vec!["add", "--email", "kein-at", "--name", "B", "--org", "05154", "--role", "lesen"],
                "ein-sehr-gutes-passwort\n",
                "--email: „kein-at“ ist keine gültige E-Mail-Adresse.",
            ),
        ];
        for (args, stdin, expected) in cases {
            let output = user_command(&db, &args, stdin);
            assert_exit_2_one_line(&output, expected);
        }
        assert!(User::find_by_email(&mut db.connection(), "b@kreis-kleve.de").unwrap().is_none());
    }
}

both_backends! {
    fn a_user_created_by_the_cli_logs_in_at_the_running_server(backend) {
        let db = TestDatabase::migrated(backend);
        let created = user_command(&db, &add_anna(&[]), "ein-sehr-gutes-passwort\n");
        assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));

        let dir = tempfile::tempdir().unwrap();
        let url = db.url_text();
        let server = RunningServer::start(dir.path(), &[
            ("VORGANG_DATABASE_URL", &url),
            ("VORGANG_SECRET", TEST_SECRET),
            ("VORGANG_TOKEN_LIFETIME_MINUTES", "30"),
        ]);
        let mut reply = http()
            .post(server.url("/api/v1/auth/token"))
            .send_json(json!({ "email": "anna.schmidt@kreis-kleve.de", "password": "ein-sehr-gutes-passwort" }))
            .unwrap();
        assert_eq!(reply.status(), 200);
        let body: Value = reply.body_mut().read_json().unwrap();
        let token = body["token"].as_str().unwrap().to_string();
        let claims = verified_claims(&token);
        assert_eq!(claims["iss"], "vorgang");
        // The configured lifetime, not the default working day.
        assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 30 * 60);

        let mut wrong = http()
            .post(server.url("/api/v1/auth/token"))
            .send_json(json!({ "email": "anna.schmidt@kreis-kleve.de", "password": "falsches-passwort" }))
            .unwrap();
        assert_eq!(wrong.status(), 401);
        let problem: Value = wrong.body_mut().read_json().unwrap();
        assert_eq!(problem["type"], "urn:vorgang:problem:invalid-credentials");

        // Neither the password nor the token ever reaches the log.
        std::thread::sleep(Duration::from_millis(200));
        let log = server.log_lines().join("\n");
        assert!(log.contains("login succeeded"), "{log}");
        for secret in ["ein-sehr-gutes-passwort", "falsches-passwort", token.as_str(), TEST_SECRET] {
            assert!(!log.contains(secret), "{secret} appears in the log");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Lifting login limits

fn as_staff(request: actix_test::TestRequest, user: &User) -> actix_test::TestRequest {
    request.insert_header((
        "Authorization",
        format!("Bearer {}", crate::support::auth::staff_token(user)),
    ))
}

fn counted_rows(db: &TestDatabase) -> i64 {
    use vorgang::db::schema::attempt_limits;
    attempt_limits::table
        .count()
        .get_result(&mut db.connection())
        .unwrap()
}

/// The keys of a `GET /api/v1/admin/login-limits` answer, in its order.
fn listed_keys(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["key"].as_str().unwrap().to_string())
        .collect()
}

both_backends! {
    async fn an_administrator_sees_and_lifts_login_limits(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        create_user(&mut conn, "anna@kreis-kleve.de", "05154", &[Role::Lesen], Some(PASSWORD));
        let admin = create_user(&mut conn, "admin@bra.nrw.de", "KFI", &[Role::Admin], None);
        let reader = create_user(&mut conn, "leser@kreis-kleve.de", "05154", &[Role::Lesen], None);
        let app = app!(db.pool(2), test_auth());
        let list = || as_staff(actix_test::TestRequest::get().uri("/api/v1/admin/login-limits"), &admin);
        let lift = |path: &str, user: &User| {
            as_staff(actix_test::TestRequest::delete().uri(&format!("/api/v1/admin/login-limits/{path}")), user)
        };
        assert_eq!(send!(app, list()).json(), json!({ "items": [] }));

        // Anna mistypes her new password five times at her desk: even the right one is refused.
        let office = "198.51.100.20:1";
        for _ in 0..5 {
            assert_eq!(send!(app, login_from("anna@kreis-kleve.de", "falsches-passwort", office)).status, 401);
        }
        assert_eq!(send!(app, login_from("anna@kreis-kleve.de", PASSWORD, "198.51.100.21:1")).status, 429);
        // One failure from an IPv6 address, on another account.
        assert_eq!(send!(app, login_from("probe@kreis-kleve.de", "falsches-passwort", "[2001:db8::5]:1")).status, 401);

        let before = Utc::now();
        let listed = send!(app, list());
        assert_eq!(listed.status, 200);
        let items = listed.json()["items"].as_array().unwrap().clone();
        let shown: Vec<(&str, &str, &str, u64, bool)> = items
            .iter()
            .map(|item| (
                item["limit"].as_str().unwrap(),
                item["kind"].as_str().unwrap(),
                item["key"].as_str().unwrap(),
                item["failures"].as_u64().unwrap(),
                !item["refused_until"].is_null(),
            ))
            .collect();
        assert_eq!(shown, [
            ("login", "account", "anna@kreis-kleve.de", 5, true),
            ("login", "address", "198.51.100.20", 5, true),
            ("login", "account", "probe@kreis-kleve.de", 1, false),
            ("login", "address", "2001:db8::5", 1, false),
        ]);
        // Refused until a cell refills: three minutes after the fifth failure at most.
        let until: chrono::DateTime<Utc> = items[0]["refused_until"].as_str().unwrap().parse().unwrap();
        assert!(until > before && until <= before + TimeDelta::minutes(3), "{until}");

        // Nobody else sees or lifts them; wrong addresses change nothing either.
        assert_eq!(send!(app, as_staff(actix_test::TestRequest::get().uri("/api/v1/admin/login-limits"), &reader)).status, 403);
        assert_eq!(send!(app, lift("account/anna@kreis-kleve.de", &reader)).status, 403);
        for (path, detail) in [
            ("konto/anna@kreis-kleve.de", "Unbekannte Art „konto“"),
            ("address/198.51.100.300", "keine Client-Adresse"),
            ("account/bob@kreis-kleve.de", "Für „bob@kreis-kleve.de“ sind keine fehlgeschlagenen Anmeldungen gezählt."),
            ("address/198.51.100.21", "Für die Adresse „198.51.100.21“ sind keine"),
        ] {
            let refused = send!(app, lift(path, &admin));
            assert_eq!(refused.status, 404, "{path}");
            assert_eq!(refused.header("content-type"), "application/problem+json");
            assert!(refused.json()["detail"].as_str().unwrap().contains(detail), "{path}: {}", refused.json());
        }
        assert_eq!(counted_rows(&db), 4);
        assert!(db.admin_record().is_empty());

        // The account, named in any spelling: the answer is what was counted, and Anna logs in
        // at once from another desk.
        let lifted = send!(app, lift("account/Anna@Kreis-Kleve.de", &admin));
        assert_eq!(lifted.status, 200);
        let items = lifted.json()["items"].clone();
        assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
        assert_eq!((items[0]["kind"].as_str(), items[0]["key"].as_str(), items[0]["failures"].as_u64()), (Some("account"), Some("anna@kreis-kleve.de"), Some(5)));
        assert_eq!(send!(app, login_from("anna@kreis-kleve.de", PASSWORD, "198.51.100.21:1")).status, 200);
        // Her desk's address is still refused until it is lifted as well.
        assert_eq!(send!(app, login_from("anna@kreis-kleve.de", PASSWORD, office)).status, 429);
        assert_eq!(send!(app, lift("address/198.51.100.20", &admin)).status, 200);
        assert_eq!(send!(app, login_from("anna@kreis-kleve.de", PASSWORD, office)).status, 200);
        // An IPv6 address in another notation finds its key.
        assert_eq!(send!(app, lift("address/2001:DB8:0::5", &admin)).status, 200);

        let left = listed_keys(&send!(app, list()).json());
        assert_eq!(left, ["probe@kreis-kleve.de"]);
        assert_eq!(db.admin_record(), [
            ("login_limit_lifted".to_string(), "anna@kreis-kleve.de".to_string()),
            ("login_limit_lifted".to_string(), "198.51.100.20".to_string()),
            ("login_limit_lifted".to_string(), "2001:db8::5".to_string()),
        ]);
        // Lifted once is lifted: a second time finds nothing and records nothing.
        assert_eq!(send!(app, lift("account/anna@kreis-kleve.de", &admin)).status, 404);
        assert_eq!(db.admin_record().len(), 3);

        // An address with `/` in it (allowed before the `@`) is named in the path as it is, or
        // with the slash encoded.
        for (typed, path) in [
            ("post/stelle@kreis-kleve.de", "account/Post/Stelle@kreis-kleve.de"),
            ("ki/team@kreis-kleve.de", "account/ki%2Fteam@kreis-kleve.de"),
        ] {
            assert_eq!(send!(app, login_from(typed, "falsches-passwort", "198.51.100.30:1")).status, 401);
            let lifted = send!(app, lift(path, &admin));
            assert_eq!(lifted.status, 200, "{path}: {}", lifted.json());
            assert_eq!(lifted.json()["items"][0]["key"].as_str(), Some(typed), "{path}");
        }
        let left = listed_keys(&send!(app, list()).json());
        assert_eq!(left, ["probe@kreis-kleve.de", "198.51.100.30"]);
    }
}

both_backends! {
    fn user_unlock_lifts_a_limit_from_the_command_line(backend) {
        use vorgang::auth::{LimitKey, LoginLimiter};
        let db = TestDatabase::migrated(backend);
        {
            // The only administrator mistyped five times: the server's own limits count it.
            let mut conn = db.connection();
            let keys = [LimitKey::account("root@kreis-kleve.de"), LimitKey::address(Some("192.0.2.44".parse().unwrap()))];
            for _ in 0..5 {
                drop(LoginLimiter::default().reserve_at(&mut conn, &keys, Utc::now()).unwrap());
            }
            assert!(LoginLimiter::default().reserve_at(&mut conn, &keys, Utc::now()).is_err());
        }
        let unlocked = user_command(&db, &["unlock", "--email", "Root@Kreis-Kleve.de"], "");
        assert!(unlocked.status.success(), "{}", String::from_utf8_lossy(&unlocked.stderr));
        assert_eq!(
            String::from_utf8_lossy(&unlocked.stdout).trim(),
            "Anmeldesperre für root@kreis-kleve.de aufgehoben (5 gezählte Fehlversuche gelöscht)."
        );
        let by_address = user_command(&db, &["unlock", "--address", "192.0.2.44"], "");
        assert_eq!(
            String::from_utf8_lossy(&by_address.stdout).trim(),
            "Anmeldesperre für die Adresse 192.0.2.44 aufgehoben (5 gezählte Fehlversuche gelöscht)."
        );
        assert_eq!(counted_rows(&db), 0);
        let again = user_command(&db, &["unlock", "--email", "root@kreis-kleve.de"], "");
        assert!(again.status.success());
        assert_eq!(
            String::from_utf8_lossy(&again.stdout).trim(),
            "Für root@kreis-kleve.de sind keine fehlgeschlagenen Anmeldungen gezählt; es gab nichts aufzuheben."
        );

        assert_exit_2_one_line(
            &user_command(&db, &["unlock", "--email", "root@kreis-kleve.de", "--address", "192.0.2.44"], ""),
            "Bitte geben Sie entweder --email oder --address an, nicht beides.",
        );
        assert_exit_2_one_line(&user_command(&db, &["unlock"], ""), "--email oder --address fehlt");
        assert_exit_2_one_line(
            &user_command(&db, &["unlock", "--address", "192.0.2.300"], ""),
            "--address: „192.0.2.300“ ist keine IPv4- oder IPv6-Adresse.",
        );
        assert_exit_2_one_line(
            &user_command(&db, &["unlock", "--email", "kein-at-zeichen"], ""),
            "--email: „kein-at-zeichen“ ist keine gültige E-Mail-Adresse.",
        );

        use vorgang::db::schema::admin_events;
        let recorded: Vec<(String, String, String)> = admin_events::table
            .order(admin_events::id)
            .select((admin_events::actor, admin_events::kind, admin_events::subject))
            .load(&mut db.connection())
            .unwrap();
        assert_eq!(recorded, [
            ("Kommandozeile".to_string(), "login_limit_lifted".to_string(), "root@kreis-kleve.de".to_string()),
            ("Kommandozeile".to_string(), "login_limit_lifted".to_string(), "192.0.2.44".to_string()),
        ]);
    }
}
