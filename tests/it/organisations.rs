//! Organisations through the API, on both databases: registering partner bodies, listing and
//! filtering them, replacing addresses, every validation error with its pointer (and nothing
//! stored), conflicts and permissions – and that a registered partner is what a Beteiligung
//! invites, while one without any address is refused and the case stays as it was.

use actix_web::http::StatusCode;
use actix_web::test as actix_test;
use diesel::prelude::*;
use serde_json::{Value, json};
use vorgang::db::models::{Role, User};
use vorgang::db::schema::{case_events, invitations, organisation_contacts, organisations, outbox};

use crate::support::TestDatabase;
use crate::support::auth::{create_user, test_auth};

struct Reply {
    status: StatusCode,
    content_type: String,
    body: Value,
}

fn token(user: &User) -> String {
    crate::support::auth::staff_token(user)
}

/// Sends a request with the bearer token (and a JSON body, if given).
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
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = actix_test::read_body(response).await;
        Reply {
            status,
            content_type,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }};
}

macro_rules! app {
    ($db:expr, $dir:expr) => {{
        let pool = $db.pool(4);
        let api = crate::support::api::state(&pool, $dir);
        actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await
    }};
}

struct Users {
    admin: String,
    coordinator: String,
    reader: String,
}

fn users(db: &TestDatabase) -> Users {
    let mut conn = db.connection();
    Users {
        admin: token(&create_user(
            &mut conn,
            "admin@it.nrw.de",
            "KFI",
            &[Role::Admin],
            None,
        )),
        coordinator: token(&create_user(
            &mut conn,
            "k@kreis-soest.de",
            "05974",
            &[Role::Koordination],
            None,
        )),
        reader: token(&create_user(
            &mut conn,
            "l@kreis-soest.de",
            "05974",
            &[Role::Lesen],
            None,
        )),
    }
}

/// What a refused request might have touched: the number of organisations, every mailbox by
/// key, every contact as `(organisation id, email, name)`.
type Stored = (
    i64,
    Vec<(String, Option<String>)>,
    Vec<(i64, String, String)>,
);

/// The stored organisations and addresses (see [`Stored`]).
fn stored(db: &TestDatabase) -> Stored {
    let mut conn = db.connection();
    let count = organisations::table.count().get_result(&mut conn).unwrap();
    let mailboxes = organisations::table
        .order(organisations::key)
        .select((organisations::key, organisations::mailbox))
        .load(&mut conn)
        .unwrap();
    let contacts = organisation_contacts::table
        .order((
            organisation_contacts::organisation_id,
            organisation_contacts::email,
        ))
        .select((
            organisation_contacts::organisation_id,
            organisation_contacts::email,
            organisation_contacts::name,
        ))
        .load(&mut conn)
        .unwrap();
    (count, mailboxes, contacts)
}

fn keys(reply: &Reply) -> Vec<String> {
    reply
        .body
        .as_array()
        .unwrap_or_else(|| panic!("a list: {}", reply.body))
        .iter()
        .map(|o| o["key"].as_str().unwrap().to_string())
        .collect()
}

fn pointers(reply: &Reply) -> Vec<String> {
    reply.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("errors: {}", reply.body))
        .iter()
        .map(|e| {
            let message = e["message"].as_str().unwrap();
            assert!(!message.is_empty(), "{e}");
            e["pointer"].as_str().unwrap().to_string()
        })
        .collect()
}

fn integrationsrat() -> Value {
    json!({
        "key": "INTEGRATIONSRAT-SO",
        "name": "Integrationsrat des Kreises Soest",
        "parent": "05974",
        "mailbox": " Integrationsrat@Kreis-Soest.TEST ",
        "contacts": [
            { "email": "Vorsitz@kreis-soest.test", "name": "Frau Vorsitzende" },
            { "email": "geschaeftsstelle@kreis-soest.test" }
        ]
    })
}

both_backends! {
    async fn register_list_show_and_replace_addresses(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let users = users(&db);
        let app = app!(db, dir.path());

        let created = call!(app, post, "/api/v1/organisations", users.admin, Some(integrationsrat()));
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let expected = json!({
            "key": "INTEGRATIONSRAT-SO",
            "name": "Integrationsrat des Kreises Soest",
            "kind": "partner",
            "parent": "05974",
            "regierungsbezirk": "Arnsberg",
            "mailbox": "integrationsrat@kreis-soest.test",
            "head": null,
            "contacts": [
                { "email": "geschaeftsstelle@kreis-soest.test", "name": "" },
                { "email": "vorsitz@kreis-soest.test", "name": "Frau Vorsitzende" }
            ]
        });
        assert_eq!(created.body, expected);
        let shown = call!(app, get, "/api/v1/organisations/INTEGRATIONSRAT-SO", users.reader);
        assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
        assert_eq!(shown.body, expected);

        let gemeinde = call!(app, post, "/api/v1/organisations", users.admin, Some(json!({
            "key": "05974028", "name": "Lippstadt", "kind": "gemeinde", "parent": "05974"
        })));
        assert_eq!(gemeinde.status, StatusCode::CREATED, "{}", gemeinde.body);
        assert_eq!(gemeinde.body, json!({
            "key": "05974028", "name": "Lippstadt", "kind": "gemeinde", "parent": "05974",
            "regierungsbezirk": "Arnsberg", "mailbox": null, "head": null, "contacts": []
        }));
        let without_parent = call!(app, post, "/api/v1/organisations", users.admin, Some(json!({
            "key": "awo_westfalen", "name": "AWO Westliches Westfalen", "parent": "", "mailbox": ""
        })));
        assert_eq!(without_parent.status, StatusCode::CREATED, "{}", without_parent.body);
        assert_eq!(without_parent.body["parent"], Value::Null);
        assert_eq!(without_parent.body["regierungsbezirk"], Value::Null);
        assert_eq!(without_parent.body["mailbox"], Value::Null);

        // Every role lists; ordered by name, Umlauts with their base letter.
        for who in [&users.admin, &users.coordinator, &users.reader] {
            let all = call!(app, get, "/api/v1/organisations", who);
            assert_eq!(all.status, StatusCode::OK, "{}", all.body);
            let names: Vec<&str> = all.body.as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
            let position = |name: &str| names.iter().position(|n| *n == name).unwrap();
            assert!(position("AWO Westliches Westfalen") < position("Bezirksregierung Arnsberg"));
            assert!(position("Märkischer Kreis") < position("Mettmann"), "{names:?}");
            assert!(position("Mettmann") < position("Minden-Lübbecke"));
        }
        let partners = call!(app, get, "/api/v1/organisations?kind=partner", users.coordinator);
        assert_eq!(keys(&partners), ["awo_westfalen", "INTEGRATIONSRAT-SO", "05974-JA", "SCHULAMT-SO"]);
        let gemeinden = call!(app, get, "/api/v1/organisations?kind=gemeinde", users.coordinator);
        assert_eq!(keys(&gemeinden), ["05974028"]);
        let soest = call!(app, get, "/api/v1/organisations?q=SOEST", users.coordinator);
        assert_eq!(keys(&soest), ["INTEGRATIONSRAT-SO", "05974-JA", "SCHULAMT-SO", "05974"]);
        let by_key = call!(app, get, "/api/v1/organisations?q=05974", users.coordinator);
        assert_eq!(keys(&by_key), ["05974-JA", "05974028", "05974"]);
        let umlaut = call!(app, get, "/api/v1/organisations?q=m%C3%84rkisch", users.coordinator);
        assert_eq!(keys(&umlaut), ["05962"]);
        let kreise = call!(app, get, "/api/v1/organisations?kind=kreis&q=kleve", users.coordinator);
        assert_eq!(keys(&kreise), ["05154"]);
        let nothing = call!(app, get, "/api/v1/organisations?kind=partner&q=kleve", users.coordinator);
        assert_eq!(nothing.body, json!([]));
        let bad_kind = call!(app, get, "/api/v1/organisations?kind=verein", users.coordinator);
        assert_eq!(bad_kind.status, StatusCode::BAD_REQUEST, "{}", bad_kind.body);
        assert_eq!(bad_kind.content_type, "application/problem+json");

        // Replacing addresses: both fields, the old ones are gone.
        let replaced = call!(app, put, "/api/v1/organisations/INTEGRATIONSRAT-SO/addresses", users.admin, Some(json!({
            "mailbox": null,
            "contacts": [{ "email": "Neu@Kreis-Soest.test", "name": " Herr Neu " }]
        })));
        assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
        assert_eq!(replaced.body["mailbox"], Value::Null);
        assert_eq!(replaced.body["contacts"], json!([{ "email": "neu@kreis-soest.test", "name": "Herr Neu" }]));
        assert_eq!(call!(app, get, "/api/v1/organisations/INTEGRATIONSRAT-SO", users.reader).body, replaced.body);
        // Seeded organisations too: a Kreis receives result mails at its mailbox, its head
        // (Leitung) the escalations of missed deadlines.
        let kreis = call!(app, put, "/api/v1/organisations/05974/addresses", users.admin, Some(json!({
            "mailbox": "ki@kreis-soest.test", "contacts": [], "head": " Leitung@Kreis-Soest.test "
        })));
        assert_eq!(kreis.status, StatusCode::OK, "{}", kreis.body);
        assert_eq!(kreis.body, json!({
            "key": "05974", "name": "Soest", "kind": "kreis", "parent": null,
            "regierungsbezirk": "Arnsberg", "mailbox": "ki@kreis-soest.test",
            "head": "leitung@kreis-soest.test", "contacts": []
        }));
        // Without `head` it stays; `null` removes it; a bad address is named.
        let kept = call!(app, put, "/api/v1/organisations/05974/addresses", users.admin, Some(json!({
            "mailbox": "ki@kreis-soest.test", "contacts": []
        })));
        assert_eq!(kept.body["head"], "leitung@kreis-soest.test");
        let bad = call!(app, put, "/api/v1/organisations/05974/addresses", users.admin, Some(json!({
            "mailbox": "ki@kreis-soest.test", "contacts": [], "head": "keine-adresse"
        })));
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
        assert_eq!(bad.body["errors"][0]["pointer"], "/head");
        let removed = call!(app, put, "/api/v1/organisations/05974/addresses", users.admin, Some(json!({
            "mailbox": "ki@kreis-soest.test", "contacts": [], "head": null
        })));
        assert_eq!(removed.body["head"], Value::Null);

        // Unknown organisations.
        for reply in [
            call!(app, get, "/api/v1/organisations/UNBEKANNT", users.reader),
            call!(app, put, "/api/v1/organisations/UNBEKANNT/addresses", users.admin, Some(json!({ "mailbox": null, "contacts": [] }))),
        ] {
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
            assert_eq!(reply.content_type, "application/problem+json");
            assert!(reply.body["detail"].as_str().unwrap().contains("UNBEKANNT"), "{}", reply.body);
        }

        // Only administrators register and change addresses.
        let before = stored(&db);
        for who in [&users.coordinator, &users.reader] {
            let refused = call!(app, post, "/api/v1/organisations", who, Some(json!({ "key": "X", "name": "X" })));
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
            assert_eq!(refused.content_type, "application/problem+json");
            assert_eq!(refused.body["detail"], "Sie haben keine Berechtigung, Organisationen und ihre Adressen zu verwalten.");
            let refused = call!(app, put, "/api/v1/organisations/05974/addresses", who, Some(json!({ "mailbox": "x@y.de", "contacts": [] })));
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        }
        assert_eq!(stored(&db), before);
    }
}

both_backends! {
    async fn every_invalid_field_is_named_and_nothing_is_stored(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let users = users(&db);
        let app = app!(db, dir.path());
        let before = stored(&db);
        let valid = |changes: Value| {
            let mut body = json!({ "key": "NEU", "name": "Neue Stelle" });
            for (field, value) in changes.as_object().unwrap() {
                body[field] = value.clone();
            }
            body
        };
        let contacts = |n: usize| -> Value {
            (0..n).map(|i| json!({ "email": format!("p{i}@example.org") })).collect()
        };

        let cases: Vec<(&str, Value, Vec<&str>)> = vec![
            ("empty body", json!({}), vec!["/key", "/name"]),
            ("empty key", valid(json!({ "key": "" })), vec!["/key"]),
            ("blank in key", valid(json!({ "key": "Schul amt" })), vec!["/key"]),
            ("Umlaut in key", valid(json!({ "key": "JUGENDAMT-LÜDENSCHEID" })), vec!["/key"]),
            ("long key", valid(json!({ "key": "K".repeat(65) })), vec!["/key"]),
            ("blank name", valid(json!({ "name": "   " })), vec!["/name"]),
            ("long name", valid(json!({ "name": "N".repeat(201) })), vec!["/name"]),
            ("line break in name", valid(json!({ "name": "Neue\nStelle" })), vec!["/name"]),
            ("unknown kind", valid(json!({ "kind": "verein" })), vec!["/kind"]),
            ("kreis", valid(json!({ "kind": "kreis" })), vec!["/kind"]),
            ("kreisfreie Stadt", valid(json!({ "kind": "kreisfreie_stadt" })), vec!["/kind"]),
            ("Aachen", valid(json!({ "kind": "kreisfreie_stadt_in_staedteregion" })), vec!["/kind"]),
            ("Bezirksregierung", valid(json!({ "kind": "bezirksregierung" })), vec!["/kind"]),
            ("Bewilligungsbehörde", valid(json!({ "kind": "bewilligungsbehoerde" })), vec!["/kind"]),
            ("unknown parent", valid(json!({ "parent": "NIRGENDWO" })), vec!["/parent"]),
            ("bad mailbox", valid(json!({ "mailbox": "kein-postfach" })), vec!["/mailbox"]),
            ("mailbox with display name", valid(json!({ "mailbox": "Schulamt <schulamt@kreis-soest.test>" })), vec!["/mailbox"]),
            ("contact without address", valid(json!({ "contacts": [{ "name": "Frau Muster" }] })), vec!["/contacts/0/email"]),
            ("bad contact", valid(json!({ "contacts": [{ "email": "a@b.de" }, { "email": "@b.de" }] })), vec!["/contacts/1/email"]),
            ("duplicate contact", valid(json!({ "contacts": [{ "email": "a@b.de" }, { "email": "A@B.DE" }] })), vec!["/contacts/1/email"]),
            ("contact repeats mailbox", valid(json!({ "mailbox": "a@b.de", "contacts": [{ "email": "A@b.de" }] })), vec!["/contacts/0/email"]),
            ("long contact name", valid(json!({ "contacts": [{ "email": "a@b.de", "name": "N".repeat(201) }] })), vec!["/contacts/0/name"]),
            ("too many contacts", valid(json!({ "contacts": contacts(51) })), vec!["/contacts"]),
            ("everything at once", json!({
                "key": "a/b", "name": "", "kind": "kreis", "parent": "NIRGENDWO", "mailbox": "x",
                "contacts": [{ "email": "ok@b.de" }, { "email": "OK@b.de", "name": "x\u{7}" }]
            }), vec!["/key", "/name", "/kind", "/parent", "/mailbox", "/contacts/1/email", "/contacts/1/name"]),
        ];
        for (what, body, expected) in cases {
            let reply = call!(app, post, "/api/v1/organisations", users.admin, Some(body));
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {}", reply.body);
            assert_eq!(reply.content_type, "application/problem+json", "{what}");
            assert_eq!(reply.body["type"], "urn:vorgang:problem:invalid-input", "{what}");
            assert_eq!(pointers(&reply), expected, "{what}: {}", reply.body);
            assert_eq!(stored(&db), before, "{what} stored something");
        }
        // A German message, naming the problem.
        let reply = call!(app, post, "/api/v1/organisations", users.admin, Some(valid(json!({ "kind": "kreis" }))));
        assert!(reply.body["errors"][0]["message"].as_str().unwrap().contains("fest hinterlegt"), "{}", reply.body);

        // The limits themselves are allowed.
        let longest = call!(app, post, "/api/v1/organisations", users.admin, Some(valid(json!({
            "key": "K".repeat(64), "name": "N".repeat(200), "contacts": contacts(50)
        }))));
        assert_eq!(longest.status, StatusCode::CREATED, "{}", longest.body);
        assert_eq!(longest.body["contacts"].as_array().unwrap().len(), 50);

        // A taken key is a conflict; the existing organisation is untouched.
        let before = stored(&db);
        for key in ["SCHULAMT-SO", "05974"] {
            let taken = call!(app, post, "/api/v1/organisations", users.admin, Some(valid(json!({ "key": key, "mailbox": "neu@example.org" }))));
            assert_eq!(taken.status, StatusCode::CONFLICT, "{key}: {}", taken.body);
            assert_eq!(taken.content_type, "application/problem+json");
            assert!(taken.body["detail"].as_str().unwrap().contains(key), "{}", taken.body);
        }
        assert_eq!(stored(&db), before);
        assert_eq!(call!(app, get, "/api/v1/organisations/SCHULAMT-SO", users.admin).body["name"], "Schulamt für den Kreis Soest");

        // Replacing addresses: both fields required, every address checked, nothing changed.
        let addresses: Vec<(&str, Value, Vec<&str>)> = vec![
            ("no mailbox field", json!({ "contacts": [] }), vec!["/mailbox"]),
            ("no contacts field", json!({ "mailbox": null }), vec!["/contacts"]),
            ("empty body", json!({}), vec!["/mailbox", "/contacts"]),
            ("bad addresses", json!({ "mailbox": "schulamt", "contacts": [{ "email": "a@b.de" }, { "email": "a@b.de" }, { "email": "x y@b.de" }] }),
             vec!["/mailbox", "/contacts/1/email", "/contacts/2/email"]),
        ];
        for (what, body, expected) in addresses {
            let reply = call!(app, put, "/api/v1/organisations/SCHULAMT-SO/addresses", users.admin, Some(body));
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {}", reply.body);
            assert_eq!(reply.content_type, "application/problem+json", "{what}");
            assert_eq!(pointers(&reply), expected, "{what}: {}", reply.body);
            assert_eq!(stored(&db), before, "{what} changed something");
        }

        // Malformed JSON and unknown fields are bad requests.
        for body in [json!({ "key": "NEU2", "name": "X", "email": "x@y.de" }), json!({ "key": 5, "name": "X" }), json!("NEU")] {
            let reply = call!(app, post, "/api/v1/organisations", users.admin, Some(body));
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
            assert_eq!(reply.content_type, "application/problem+json");
        }
        assert_eq!(stored(&db), before);
    }
}

/// `(template, to)` of every outbox mail, oldest first.
fn mails(db: &TestDatabase) -> Vec<(String, Vec<String>)> {
    let rows: Vec<(String, String)> = outbox::table
        .order(outbox::id)
        .select((outbox::template, outbox::rendered))
        .load(&mut db.connection())
        .unwrap();
    rows.into_iter()
        .map(|(template, rendered)| {
            let rendered: Value = serde_json::from_str(&rendered).unwrap();
            let to = rendered["to"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            (template, to)
        })
        .collect()
}

fn invitations_of(db: &TestDatabase, case: i64) -> i64 {
    invitations::table
        .filter(invitations::case_id.eq(case))
        .count()
        .get_result(&mut db.connection())
        .unwrap()
}

fn events_of(db: &TestDatabase, case: i64) -> i64 {
    case_events::table
        .filter(case_events::case_id.eq(case))
        .count()
        .get_result(&mut db.connection())
        .unwrap()
}

both_backends! {
    async fn a_registered_partner_is_consulted_and_unknown_or_addressless_ones_refused(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let users = users(&db);
        let app = app!(db, dir.path());

        let registered = call!(app, post, "/api/v1/organisations", users.admin, Some(json!({
            "key": "INTEGRATIONSRAT-SO", "name": "Integrationsrat des Kreises Soest",
            "parent": "05974", "mailbox": "integrationsrat@kreis-soest.test"
        })));
        assert_eq!(registered.status, StatusCode::CREATED, "{}", registered.body);
        let silent = call!(app, post, "/api/v1/organisations", users.admin, Some(json!({
            "key": "SCHULVERWALTUNG-SO", "name": "Schulverwaltung des Kreises Soest", "parent": "05974"
        })));
        assert_eq!(silent.status, StatusCode::CREATED, "{}", silent.body);

        let start_case = |beteiligte: Value| {
            let mut data = crate::beteiligung::application();
            data["beteiligte"] = beteiligte;
            json!({ "workflow": "ki-antrag", "data": data })
        };

        // The registered partner is invited at its mailbox.
        let created = call!(app, post, "/api/v1/cases", users.coordinator, Some(start_case(json!(["INTEGRATIONSRAT-SO"]))));
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let consulted = created.body["id"].as_i64().unwrap();
        let started = call!(app, post, format!("/api/v1/cases/{consulted}/actions/beteiligung_starten"), users.coordinator, Some(json!({ "version": 1 })));
        assert_eq!(started.status, StatusCode::OK, "{}", started.body);
        assert_eq!(invitations_of(&db, consulted), 1);
        let invitations: Vec<_> = mails(&db).into_iter().filter(|m| m.0 == "beteiligung_einladung").collect();
        assert_eq!(invitations.len(), 1);
        assert_eq!(invitations[0].1, ["integrationsrat@kreis-soest.test"]);

        // A named organisation without any address: refused, the case as it was.
        let created = call!(app, post, "/api/v1/cases", users.coordinator, Some(start_case(json!(["INTEGRATIONSRAT-SO", "SCHULVERWALTUNG-SO"]))));
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let refused_case = created.body["id"].as_i64().unwrap();
        let uri = format!("/api/v1/cases/{refused_case}");
        let case_before = call!(app, get, uri, users.coordinator).body;
        let events_before = events_of(&db, refused_case);
        let mails_before = mails(&db);
        let refused = call!(app, post, format!("{uri}/actions/beteiligung_starten"), users.coordinator, Some(json!({ "version": 1 })));
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
        assert_eq!(refused.content_type, "application/problem+json");
        assert!(refused.body["detail"].as_str().unwrap().contains("Schulverwaltung des Kreises Soest"), "{}", refused.body);
        assert_eq!(call!(app, get, uri, users.coordinator).body, case_before);
        assert_eq!(events_of(&db, refused_case), events_before);
        assert_eq!(invitations_of(&db, refused_case), 0);
        assert_eq!(mails(&db), mails_before);

        // An organisation nobody registered: refused as well, naming it, nothing written.
        let created = call!(app, post, "/api/v1/cases", users.coordinator, Some(start_case(json!(["INTEGRATIONSRAT-SO", "GIBT-ES-NICHT"]))));
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let unknown_case = created.body["id"].as_i64().unwrap();
        let refused = call!(app, post, format!("/api/v1/cases/{unknown_case}/actions/beteiligung_starten"), users.coordinator, Some(json!({ "version": 1 })));
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
        assert!(refused.body["detail"].as_str().unwrap().contains("„GIBT-ES-NICHT“ ist nicht als Organisation erfasst"), "{}", refused.body);
        assert_eq!(invitations_of(&db, unknown_case), 0);
        assert_eq!(mails(&db), mails_before);

        // With a contact address the same case can start its Beteiligung.
        let addresses = call!(app, put, "/api/v1/organisations/SCHULVERWALTUNG-SO/addresses", users.admin, Some(json!({
            "mailbox": null, "contacts": [{ "email": "schulverwaltung@kreis-soest.test", "name": "Herr Beispiel" }]
        })));
        assert_eq!(addresses.status, StatusCode::OK, "{}", addresses.body);
        let started = call!(app, post, format!("{uri}/actions/beteiligung_starten"), users.coordinator, Some(json!({ "version": 1 })));
        assert_eq!(started.status, StatusCode::OK, "{}", started.body);
        assert_eq!(invitations_of(&db, refused_case), 2);
        let recipients: Vec<Vec<String>> = mails(&db)[mails_before.len()..].iter().filter(|m| m.0 == "beteiligung_einladung").map(|m| m.1.clone()).collect();
        assert!(recipients.contains(&vec!["schulverwaltung@kreis-soest.test".to_string()]), "{recipients:?}");
        assert!(recipients.contains(&vec!["integrationsrat@kreis-soest.test".to_string()]), "{recipients:?}");
    }
}

/// Sends `body` as a table to the import, with `content_type`.
macro_rules! import {
    ($app:expr, $uri:expr, $token:expr, $content_type:expr, $body:expr) => {{
        let request = actix_test::TestRequest::post()
            .uri($uri)
            .insert_header(("Authorization", format!("Bearer {}", $token)))
            .insert_header(("Content-Type", $content_type))
            .set_payload($body);
        let response = actix_test::call_service(&$app, request.to_request()).await;
        let status = response.status();
        let bytes = actix_test::read_body(response).await;
        (
            status,
            serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
        )
    }};
}

/// (kind, subject) of each entry of the administration's record.
fn recorded(db: &TestDatabase) -> Vec<(String, String)> {
    use vorgang::db::schema::admin_events;
    admin_events::table
        .order(admin_events::id)
        .select((admin_events::kind, admin_events::subject))
        .load(&mut db.connection())
        .unwrap()
}

const TABLE: &str = "Schlüssel;Name;Art;Übergeordnet;Funktionspostfach;Kontakte;Leitung\n\
SCHULAUFSICHT-SO;Untere Schulaufsicht Soest;partner;05974;Schulaufsicht@Kreis-Soest.de;\"\"\"Berg, Anna\"\" <berg@kreis-soest.de>, info@kreis-soest.de\";\n\
05974048;Stadt Soest;gemeinde;05974;integration@soest.de;;buergermeister@soest.de\n\
05974;Kreis Soest;;;ki@kreis-soest.de;;\n";

both_backends! {
    async fn a_table_registers_and_updates_organisations_all_or_nothing(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let users = users(&db);
        let app = app!(db, dir.path());
        let uri = "/api/v1/organisation-imports";
        let count = || -> i64 { organisations::table.count().get_result(&mut db.connection()).unwrap() };
        let before = count();

        // Only administrators, only CSV; nothing changes.
        let (status, _) = import!(app, uri, users.coordinator, "text/csv", TABLE);
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, body) = import!(app, uri, users.admin, "application/json", TABLE);
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");

        // A trial run says what would happen and stores nothing.
        let (status, report) = import!(app, &format!("{uri}?dry_run=true"), users.admin, "text/csv; charset=utf-8", TABLE);
        assert_eq!(status, StatusCode::OK, "{report}");
        let expected = json!({ "registered": ["SCHULAUFSICHT-SO", "05974048"], "updated": ["05974"], "unchanged": [] });
        assert_eq!(report, expected);
        assert_eq!(count(), before);
        assert!(recorded(&db).is_empty());

        // Taken over: registered with their addresses, the Kreis's mailbox replaced, recorded.
        let (status, report) = import!(app, uri, users.admin, "text/csv", TABLE);
        assert_eq!((status, &report), (StatusCode::OK, &expected));
        assert_eq!(count(), before + 2);
        let schulamt = call!(app, get, "/api/v1/organisations/SCHULAUFSICHT-SO", users.admin);
        assert_eq!(schulamt.body["mailbox"], "schulaufsicht@kreis-soest.de");
        assert_eq!(schulamt.body["parent"], "05974");
        assert_eq!(schulamt.body["contacts"], json!([{ "email": "berg@kreis-soest.de", "name": "Berg, Anna" }, { "email": "info@kreis-soest.de", "name": "" }]));
        let stadt = call!(app, get, "/api/v1/organisations/05974048", users.admin);
        assert_eq!((stadt.body["kind"].as_str(), stadt.body["head"].as_str()), (Some("gemeinde"), Some("buergermeister@soest.de")), "{}", stadt.body);
        let kreis = call!(app, get, "/api/v1/organisations/05974", users.admin);
        assert_eq!(kreis.body["mailbox"], "ki@kreis-soest.de");
        let entries = vec![
            ("organisation_registered".to_string(), "SCHULAUFSICHT-SO".to_string()),
            ("organisation_registered".to_string(), "05974048".to_string()),
            ("organisation_addresses_replaced".to_string(), "05974".to_string()),
        ];
        assert_eq!(recorded(&db), entries);

        // The same table again changes nothing and records nothing.
        let (status, report) = import!(app, uri, users.admin, "text/csv", TABLE);
        assert_eq!(status, StatusCode::OK);
        assert_eq!(report, json!({ "registered": [], "updated": [], "unchanged": ["SCHULAUFSICHT-SO", "05974048", "05974"] }));
        assert_eq!(recorded(&db), entries);

        // A table without an address column leaves those addresses alone: only the Leitung
        // changes here, the mailbox and contacts stay.
        let (status, report) = import!(app, uri, users.admin, "text/csv", "schluessel;leitung\nSCHULAUFSICHT-SO;leitung@kreis-soest.de\n");
        assert_eq!((status, &report["updated"]), (StatusCode::OK, &json!(["SCHULAUFSICHT-SO"])), "{report}");
        let after = call!(app, get, "/api/v1/organisations/SCHULAUFSICHT-SO", users.admin);
        assert_eq!(after.body["head"], "leitung@kreis-soest.de");
        assert_eq!((&after.body["mailbox"], &after.body["contacts"]), (&schulamt.body["mailbox"], &schulamt.body["contacts"]), "{}", after.body);
        // An empty cell of a column the table has removes that address.
        let (status, _) = import!(app, uri, users.admin, "text/csv", "schluessel;kontakte\nSCHULAUFSICHT-SO;\n");
        assert_eq!(status, StatusCode::OK);
        let after = call!(app, get, "/api/v1/organisations/SCHULAUFSICHT-SO", users.admin);
        assert_eq!((&after.body["mailbox"], &after.body["contacts"]), (&schulamt.body["mailbox"], &json!([])), "{}", after.body);
        let entries = [entries, vec![("organisation_addresses_replaced".to_string(), "SCHULAUFSICHT-SO".to_string()); 2]].concat();

        // Errors are named by line and column; the valid rows are not stored either.
        let faulty = "schluessel,name,uebergeordnet,funktionspostfach\n\
            JUGENDAMT-SO,Jugendamt,05974,jugendamt-at-kreis-soest.de\n\
            05974,Kreis Sost,,\n\
            CARITAS-SO,Caritas,99999,caritas@soest.de\n\
            DIAKONIE-SO,Diakonie,05974,diakonie@soest.de\n";
        let (status, problem) = import!(app, uri, users.admin, "text/csv", faulty);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        let pointers: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
        assert_eq!(pointers, ["/2/funktionspostfach", "/3/name", "/4/uebergeordnet"], "{problem}");
        assert!(problem["errors"][1]["message"].as_str().unwrap().contains("als „Kreis Soest“ registriert"), "{problem}");
        assert_eq!(count(), before + 2, "nothing of the faulty table is stored");
        assert_eq!(call!(app, get, "/api/v1/organisations/DIAKONIE-SO", users.admin).status, StatusCode::NOT_FOUND);
        assert_eq!(recorded(&db), entries);

        // A table in another encoding, or too large, is refused as a whole.
        let (status, problem) = import!(app, uri, users.admin, "text/csv", &b"Schl\xfcssel;Name\nA;B\n"[..]);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(problem["detail"].as_str().unwrap().contains("UTF-8"), "{problem}");
        let huge = format!("schluessel\n{}", "A\n".repeat(1_100_000));
        let (status, _) = import!(app, uri, users.admin, "text/csv", huge);
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(count(), before + 2);
    }
}
