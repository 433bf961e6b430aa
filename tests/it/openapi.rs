//! `GET /api/openapi.json`: an OpenAPI 3 document that matches the routes really served.

use std::collections::BTreeSet;

use actix_web::test;
use serde_json::Value;

use crate::support::{Backend, TestDatabase};

/// The routes of `vorgang::web::api::configure` plus the token endpoint, written out by hand:
/// a route added there without documenting it (or documented without serving it) fails here.
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/v1/auth/token"),
    ("DELETE", "/api/v1/auth/token"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/workflows"),
    ("POST", "/api/v1/workflows"),
    ("GET", "/api/v1/workflows/{key}"),
    ("GET", "/api/v1/workflows/{key}/bpmn"),
    ("POST", "/api/v1/workflow-drafts"),
    ("POST", "/api/v1/workflows/{key}/migrate"),
    ("GET", "/api/v1/cases"),
    ("POST", "/api/v1/cases"),
    ("GET", "/api/v1/cases/{id}"),
    ("PATCH", "/api/v1/cases/{id}/data"),
    ("POST", "/api/v1/cases/{id}/actions/{action}"),
    ("POST", "/api/v1/cases/{id}/withdraw"),
    ("GET", "/api/v1/cases/{id}/relocation"),
    ("POST", "/api/v1/cases/{id}/relocation"),
    ("POST", "/api/v1/cases/{id}/migrate"),
    ("POST", "/api/v1/cases/{id}/messages/{name}"),
    ("POST", "/api/v1/messages/{name}"),
    ("GET", "/api/v1/cases/{id}/journal"),
    ("GET", "/api/v1/cases/{id}/related"),
    ("GET", "/api/v1/cases/{id}/export"),
    ("POST", "/api/v1/cases/{id}/notes"),
    ("GET", "/api/v1/cases/{id}/assignee"),
    ("PUT", "/api/v1/cases/{id}/assignee"),
    ("GET", "/api/v1/follow-ups"),
    ("GET", "/api/v1/cases/{id}/follow-ups"),
    ("POST", "/api/v1/cases/{id}/follow-ups"),
    ("POST", "/api/v1/cases/{id}/follow-ups/{follow_up}/done"),
    ("GET", "/api/v1/cases/{id}/documents"),
    ("POST", "/api/v1/cases/{id}/documents"),
    ("GET", "/api/v1/cases/{id}/documents/{doc_id}"),
    ("GET", "/api/v1/cases/{id}/consultations"),
    ("POST", "/api/v1/cases/{id}/consultations"),
    (
        "POST",
        "/api/v1/cases/{id}/consultations/{invitation}/resend",
    ),
    (
        "POST",
        "/api/v1/cases/{id}/consultations/{invitation}/answer",
    ),
    (
        "POST",
        "/api/v1/cases/{id}/consultations/{invitation}/deadline",
    ),
    (
        "POST",
        "/api/v1/cases/{id}/consultations/{invitation}/withdrawal",
    ),
    (
        "POST",
        "/api/v1/cases/{id}/consultations/{invitation}/extension-request/refusal",
    ),
    (
        "POST",
        "/api/v1/cases/{id}/consultations/{invitation}/responsibility-notice/refusal",
    ),
    ("GET", "/api/v1/beteiligung/{token}"),
    ("POST", "/api/v1/beteiligung/{token}"),
    ("POST", "/api/v1/beteiligung/{token}/deadline-extension"),
    ("POST", "/api/v1/beteiligung/{token}/not-responsible"),
    ("GET", "/api/v1/organisations"),
    ("POST", "/api/v1/organisations"),
    ("POST", "/api/v1/organisation-imports"),
    ("GET", "/api/v1/time-windows"),
    ("POST", "/api/v1/time-windows"),
    ("DELETE", "/api/v1/time-windows/{id}"),
    ("GET", "/api/v1/organisations/{key}"),
    ("PUT", "/api/v1/organisations/{key}/addresses"),
    ("GET", "/api/v1/admin/outbox"),
    ("POST", "/api/v1/admin/outbox/{id}/retry"),
    ("GET", "/api/v1/admin/jobs"),
    ("GET", "/api/v1/admin/retention"),
    ("POST", "/api/v1/admin/retention/{id}/dispose"),
    ("GET", "/api/v1/admin/events"),
    ("GET", "/api/v1/admin/users"),
    ("POST", "/api/v1/admin/users"),
    ("GET", "/api/v1/admin/users/{id}"),
    ("PUT", "/api/v1/admin/users/{id}/roles"),
    ("PUT", "/api/v1/admin/users/{id}/active"),
    ("POST", "/api/v1/admin/users/{id}/password"),
    ("POST", "/api/v1/admin/users/{id}/access-link"),
    ("DELETE", "/api/v1/admin/users/{id}/tokens"),
    ("GET", "/api/v1/admin/login-limits"),
    ("DELETE", "/api/v1/admin/login-limits/{kind}/{key}"),
    ("GET", "/api/v1/calendar/feeds"),
    ("POST", "/api/v1/calendar/feeds"),
    ("DELETE", "/api/v1/calendar/feeds/{id}"),
    ("GET", "/api/v1/me/absence"),
    ("PUT", "/api/v1/me/absence"),
    ("DELETE", "/api/v1/me/absence"),
];

/// Operations authenticated by the partner's link token instead of a bearer token.
const LINK_PREFIX: &str = "/api/v1/beteiligung/";

const TOKEN_PATH: &str = "/api/v1/auth/token";
/// The login: the one operation that takes no credentials at all.
fn is_login(method: &str, path: &str) -> bool {
    method == "POST" && path == TOKEN_PATH
}

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

macro_rules! app {
    ($db:expr, $dir:expr) => {{
        let pool = $db.pool(2);
        let api = crate::support::api::state(&pool, $dir);
        test::init_service(vorgang::web::app(
            pool,
            crate::support::auth::test_auth(),
            api,
        ))
        .await
    }};
}

async fn fetch_document() -> Value {
    let db = TestDatabase::migrated(Backend::Sqlite);
    let dir = tempfile::tempdir().unwrap();
    let app = app!(db, dir.path());
    let response = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/api/openapi.json")
            .to_request(),
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    let body = test::read_body(response).await;
    serde_json::from_slice(&body).expect("the document is JSON")
}

/// Every (METHOD, path) operation in the document with its operation object.
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(operation) = item.get(*method) {
                found.push((method.to_uppercase(), path.clone(), operation));
            }
        }
    }
    found
}

/// The path with its parameters filled in: numbers for ids, a word otherwise.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{id}" | "{doc_id}" => "1",
            s if s.starts_with('{') => "x",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[actix_web::test]
async fn is_an_openapi_3_document() {
    let doc = fetch_document().await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "vorgang API");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[actix_web::test]
async fn documents_exactly_the_routes_served() {
    let doc = fetch_document().await;
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(method, path)| (method.to_string(), path.to_string()))
        .collect();
    assert_eq!(documented, expected, "document and route table differ");

    // Independently: the app really serves every documented operation.
    let db = TestDatabase::migrated(Backend::Sqlite);
    let dir = tempfile::tempdir().unwrap();
    let app = app!(db, dir.path());
    for (method, path) in &documented {
        let request = test::TestRequest::default()
            .method(method.parse().unwrap())
            .uri(&concrete(path))
            .to_request();
        let status = test::call_service(&app, request).await.status().as_u16();
        if is_login(method, path) {
            assert_eq!(status, 400, "{method} {path}");
        } else if path.starts_with(LINK_PREFIX) {
            // No body (400) or no valid link (403); never served without a valid link.
            assert!([400, 403].contains(&status), "{method} {path}: {status}");
        } else {
            assert_eq!(status, 401, "{method} {path} without a token");
        }
    }
    // And the probe can tell: an undocumented method or path is not served, and says so as a
    // problem (the method one with the methods the address takes).
    for (method, path, status, allow) in [
        ("DELETE", "/api/v1/cases/1", 405, Some("GET")),
        ("PUT", "/api/v1/cases/1/data", 405, Some("PATCH")),
        ("GET", "/api/v1/nothing", 404, None),
    ] {
        let request = test::TestRequest::default()
            .method(method.parse().unwrap())
            .uri(path)
            .to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status().as_u16(), status, "{method} {path}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        assert_eq!(header("allow").as_deref(), allow, "{method} {path}");
        assert_eq!(
            header("content-type").as_deref(),
            Some("application/problem+json"),
            "{method} {path}"
        );
        let problem: serde_json::Value = test::read_body_json(response).await;
        assert_eq!(problem["status"], status, "{method} {path}");
        if status == 405 {
            assert_eq!(problem["title"], "Methode nicht erlaubt");
            let detail = problem["detail"].as_str().unwrap();
            assert!(
                detail.contains(method) && detail.contains(allow.unwrap()),
                "{detail}"
            );
        }
    }
}

#[actix_web::test]
async fn every_operation_but_the_login_needs_the_bearer_token() {
    let doc = fetch_document().await;
    for (method, path, operation) in operations(&doc) {
        let bearer = operation["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
        let by_link = path.starts_with(LINK_PREFIX);
        assert_eq!(
            bearer,
            !is_login(&method, &path) && !by_link,
            "{method} {path}"
        );
        if is_login(&method, &path) {
            assert!(doc.get("security").is_none(), "no global requirement");
        }
    }
}

#[actix_web::test]
async fn every_client_error_is_problem_json() {
    let doc = fetch_document().await;
    for (method, path, operation) in operations(&doc) {
        let responses = operation["responses"].as_object().unwrap();
        assert!(
            responses.contains_key("401")
                || is_login(&method, &path)
                || path.starts_with(LINK_PREFIX),
            "{method} {path}"
        );
        for (status, response) in responses {
            if !status.starts_with('4') {
                continue;
            }
            let content = response["content"].as_object().unwrap();
            let keys: Vec<_> = content.keys().collect();
            assert_eq!(
                keys,
                ["application/problem+json"],
                "{method} {path} {status}"
            );
            assert_eq!(
                content["application/problem+json"]["schema"]["$ref"],
                "#/components/schemas/Problem",
                "{method} {path} {status}"
            );
        }
    }
}

#[actix_web::test]
async fn says_what_the_routes_really_send_and_take() {
    let doc = fetch_document().await;
    let paths = &doc["paths"];
    // A download comes as the type it was admitted as: exactly the admitted types.
    let download =
        &paths["/api/v1/cases/{id}/documents/{doc_id}"]["get"]["responses"]["200"]["content"];
    let documented: BTreeSet<&str> = download
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let admitted: BTreeSet<&str> = vorgang::documents::DocumentType::ALL
        .iter()
        .map(|kind| kind.mime())
        .collect();
    assert_eq!(documented, admitted);
    // A calendar address may be asked for without a body (it then has no label).
    let feed = &paths["/api/v1/calendar/feeds"]["post"]["requestBody"];
    assert_ne!(feed["required"], true, "{feed}");
    // The case list's paging bounds, as the handler checks them.
    let parameters = paths["/api/v1/cases"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let schema = |name: &str| {
        parameters
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["schema"].clone())
            .unwrap()
    };
    assert_eq!(schema("page")["minimum"], 1);
    assert_eq!(
        (
            schema("per_page")["minimum"].clone(),
            schema("per_page")["maximum"].clone()
        ),
        (1.into(), 100.into())
    );
    let outbox = paths["/api/v1/admin/outbox"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let bounds = |name: &str| {
        let schema = &outbox.iter().find(|p| p["name"] == name).unwrap()["schema"];
        (schema["minimum"].clone(), schema["maximum"].clone())
    };
    assert_eq!(bounds("page"), (1.into(), 1_000_000.into()));
    assert_eq!(bounds("per_page"), (1.into(), 100.into()));
    // Instants of the consultation matrix are RFC 3339, as every instant the API writes.
    let matrix = &doc["components"]["schemas"]["MatrixRow"]["properties"];
    for field in ["invited_at", "answered_at", "closed_at"] {
        assert_eq!(matrix[field]["format"], "date-time", "{field}");
    }
}
