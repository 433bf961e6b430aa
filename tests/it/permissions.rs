//! The API's permission matrix, end to end: every role × every endpoint × own/foreign case and
//! submitted/unsubmitted case, against an expected table written out here (not derived from
//! `authorize`). Plus error statuses of authentication, content type and upload size.
//!
//! Writes use a stale `version`: the service checks access before the version
//! (`service::cases::apply`), so a permitted write answers 409, a refused one 403 and a hidden one
//! 404 – and nothing changes. Uploads send an empty file, Vermerke and Wiedervorlagen an empty
//! text: permitted → 422, else 403/404.

use actix_web::http::StatusCode;
use actix_web::test as actix_test;
use serde_json::{Value, json};
use vorgang::auth::StaffTokens;
use vorgang::auth::token::Signer;
use vorgang::db::models::{Role, User};

use crate::support::TestDatabase;
use crate::support::auth::{create_user, test_auth, test_secret};

fn tokens() -> StaffTokens {
    StaffTokens::new(
        std::sync::Arc::new(Signer::new(&test_secret())),
        StaffTokens::DEFAULT_LIFETIME,
    )
}

fn token(user: &User) -> String {
    crate::support::auth::staff_token(user)
}

struct Reply {
    status: StatusCode,
    content_type: String,
    body: Value,
}

/// Sends a request and collects status, content type and (JSON) body.
macro_rules! send {
    ($app:expr, $request:expr) => {{
        let response = actix_test::call_service(&$app, $request.to_request()).await;
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

fn bearer(token: &str) -> (&'static str, String) {
    ("Authorization", format!("Bearer {token}"))
}

fn png() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
    png.extend_from_slice(&[
        0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
    ]);
    png
}

/// The principals, in the row order of the tables below.
const PRINCIPALS: [&str; 5] = [
    "admin 05974",
    "koordination 05974",
    "bewilligung KFI",
    "lesen 05974",
    "koordination 05154 (Kleve)",
];

/// Workflow endpoints per principal: GET /workflows, GET /workflows/ki-antrag, POST /workflows
/// (an invalid definition: permitted → 422, nothing is deployed), POST
/// /workflows/ki-antrag/migrate (from a version that does not exist: permitted → 422), GET
/// /workflows/ki-antrag/bpmn, POST /workflow-drafts (XML without a process: permitted → 422).
#[rustfmt::skip]
const WORKFLOWS: [[u16; 6]; 5] = [
    //  list  show  deploy  migrate  bpmn  draft
    [200, 200, 422, 422, 200, 422], // admin
    [200, 200, 403, 403, 200, 403], // koordination
    [200, 200, 403, 403, 200, 403], // bewilligung
    [200, 200, 403, 403, 200, 403], // lesen
    [200, 200, 403, 403, 200, 403], // koordination Kleve
];

/// The outbox per principal: GET /admin/outbox, POST /admin/outbox/0/retry (an unknown mail:
/// permitted → 404).
#[rustfmt::skip]
const OUTBOX: [[u16; 2]; 5] = [
    //  list  retry
    [200, 404], // admin
    [403, 403], // koordination
    [403, 403], // bewilligung
    [403, 403], // lesen
    [403, 403], // koordination Kleve
];

/// The periodic jobs per principal: GET /admin/jobs.
const JOBS: [u16; 5] = [200, 403, 403, 403, 403];

/// Aussonderung per principal: GET /admin/retention, POST /admin/retention/0/dispose (an
/// unknown case: permitted → 404).
#[rustfmt::skip]
const RETENTION: [[u16; 2]; 5] = [
    //  list  dispose
    [200, 404], // admin
    [403, 403], // koordination
    [403, 403], // bewilligung
    [403, 403], // lesen
    [403, 403], // koordination Kleve
];

/// The administration's record per principal: GET /admin/events.
const EVENTS: [u16; 5] = [200, 403, 403, 403, 403];

/// Login limits per principal: GET /admin/login-limits, DELETE
/// /admin/login-limits/account/niemand@example.org (nothing counted: permitted → 404).
#[rustfmt::skip]
const LOGIN_LIMITS: [[u16; 2]; 5] = [
    //  list  lift
    [200, 404], // admin
    [403, 403], // koordination
    [403, 403], // bewilligung
    [403, 403], // lesen
    [403, 403], // koordination Kleve
];

/// The own account per principal: GET /me (everybody has one).
const ME: [u16; 5] = [200, 200, 200, 200, 200];

/// Staff accounts per principal: GET /admin/users, PUT /admin/users/0/active, POST
/// /admin/users/0/password, DELETE /admin/users/0/tokens, POST /admin/users/0/access-link (an
/// unknown account: permitted → 404).
#[rustfmt::skip]
const USERS: [[u16; 5]; 5] = [
    //  list  active  password  tokens  access link
    [200, 404, 404, 404, 404], // admin
    [403, 403, 403, 403, 403], // koordination
    [403, 403, 403, 403, 403], // bewilligung
    [403, 403, 403, 403, 403], // lesen
    [403, 403, 403, 403, 403], // koordination Kleve
];

/// Organisations per principal: GET /organisations, GET /organisations/KFI, POST /organisations
/// (without a name: permitted → 422, nothing is created), PUT /organisations/UNBEKANNT/addresses
/// (an unknown organisation: permitted → 404), POST /organisation-imports (a table without a
/// name for its new organisation: permitted → 422, nothing is created).
#[rustfmt::skip]
const ORGANISATIONS: [[u16; 5]; 5] = [
    //  list  show  create  addresses  import
    [200, 200, 422, 404, 422], // admin
    [200, 200, 403, 403, 403], // koordination
    [200, 200, 403, 403, 403], // bewilligung
    [200, 200, 403, 403, 403], // lesen
    [200, 200, 403, 403, 403], // koordination Kleve
];

/// Time windows per principal: GET /time-windows, POST /time-windows (without a label:
/// permitted → 422, nothing is entered), DELETE /time-windows/0 (an unknown period: permitted →
/// 404).
#[rustfmt::skip]
const TIME_WINDOWS: [[u16; 3]; 5] = [
    //  list  enter  remove
    [200, 422, 404], // admin
    [200, 403, 403], // koordination
    [200, 403, 403], // bewilligung
    [200, 403, 403], // lesen
    [200, 403, 403], // koordination Kleve
];

/// POST /cases per principal: for applicant 05974 (Soest), for applicant 05154 (Kleve).
#[rustfmt::skip]
const CREATE: [[u16; 2]; 5] = [
    [201, 201], // admin
    [201, 403], // koordination 05974
    [403, 403], // bewilligung
    [403, 403], // lesen
    [403, 201], // koordination Kleve
];

/// GET /cases: which of the two cases (O = open/unsubmitted, S = submitted) appear in `items`.
const LISTED: [&str; 5] = ["OS", "OS", "S", "OS", ""];

/// Case endpoints × principal: `[unsubmitted case, submitted case]`, both owned by 05974.
#[rustfmt::skip]
const CASE_ENDPOINTS: [(&str, [[u16; 2]; 5]); 28] = [
    //                                  admin       koord 05974  bewilligung  lesen       koord Kleve
    ("GET /cases/{id}",                [[200, 200], [200, 200], [404, 200], [200, 200], [404, 404]]),
    ("PATCH /cases/{id}/data",         [[409, 409], [409, 409], [404, 409], [403, 403], [404, 404]]),
    ("POST /cases/{id}/actions/{a}",   [[409, 409], [409, 409], [404, 409], [403, 403], [404, 404]]),
    ("POST /cases/{id}/withdraw",      [[409, 409], [409, 409], [404, 403], [403, 403], [404, 404]]),
    // Administrators only; decided on the case, so a case hidden from the caller stays hidden.
    ("POST /cases/{id}/relocation",    [[409, 409], [403, 403], [404, 403], [403, 403], [404, 404]]),
    ("GET /cases/{id}/relocation",     [[200, 200], [403, 403], [404, 403], [403, 403], [404, 404]]),
    ("POST /cases/{id}/messages/{n}",  [[409, 409], [409, 409], [404, 409], [403, 403], [404, 404]]),
    // By Aktenzeichen, without a version: permitted → 422 (no step of ki-antrag waits for it).
    ("POST /messages/{n}",             [[422, 422], [422, 422], [404, 422], [403, 403], [404, 404]]),
    // Administrators only, decided before the case is read (so 403 even for a foreign case).
    ("POST /cases/{id}/migrate",       [[409, 409], [403, 403], [403, 403], [403, 403], [403, 403]]),
    ("GET /cases/{id}/journal",        [[200, 200], [200, 200], [404, 200], [200, 200], [404, 404]]),
    ("GET /cases/{id}/related",        [[200, 200], [200, 200], [404, 200], [200, 200], [404, 404]]),
    ("GET /cases/{id}/documents",      [[200, 200], [200, 200], [404, 200], [200, 200], [404, 404]]),
    ("GET /cases/{id}/export",         [[200, 200], [200, 200], [404, 200], [200, 200], [404, 404]]),
    ("POST /cases/{id}/documents",     [[422, 422], [422, 422], [404, 422], [403, 403], [404, 404]]),
    ("POST /cases/{id}/notes",         [[422, 422], [422, 422], [404, 422], [403, 403], [404, 404]]),
    ("GET /cases/{id}/assignee",       [[200, 200], [200, 200], [404, 200], [200, 200], [404, 404]]),
    // An unknown person behind a writable case: refused (422), but only after the case check.
    ("PUT /cases/{id}/assignee",       [[422, 422], [422, 422], [404, 422], [403, 403], [404, 404]]),
    ("GET /cases/{id}/follow-ups",     [[200, 200], [200, 200], [404, 200], [200, 200], [404, 404]]),
    ("POST /cases/{id}/follow-ups",    [[422, 422], [422, 422], [404, 422], [403, 403], [404, 404]]),
    // An unknown Wiedervorlage behind a writable case: not found, but only after the case check.
    ("POST /cases/{id}/follow-ups/0/done", [[404, 404], [404, 404], [404, 404], [403, 403], [404, 404]]),
    // An unknown invitation behind a writable case: not found, but only after the case check.
    ("POST /cases/{id}/consultations/0/answer", [[404, 404], [404, 404], [404, 404], [403, 403], [404, 404]]),
    ("POST /cases/{id}/consultations/0/deadline", [[404, 404], [404, 404], [404, 404], [403, 403], [404, 404]]),
    ("POST /cases/{id}/consultations/0/withdrawal", [[404, 404], [404, 404], [404, 404], [403, 403], [404, 404]]),
    ("POST /cases/{id}/consultations/0/extension-request/refusal", [[404, 404], [404, 404], [404, 404], [403, 403], [404, 404]]),
    ("POST /cases/{id}/consultations/0/responsibility-notice/refusal", [[404, 404], [404, 404], [404, 404], [403, 403], [404, 404]]),
    // No consultation runs in either case: permitted → 422, nobody is invited.
    ("POST /cases/{id}/consultations", [[422, 422], [422, 422], [404, 422], [403, 403], [404, 404]]),
    ("GET /cases/{id}/documents/{d}",  [[200, 200], [200, 200], [404, 200], [200, 200], [404, 404]]),
    // The unknown document id behind a readable case: not found, but only after the case check.
    ("GET /cases/{id}/documents/0",    [[404, 404], [404, 404], [404, 404], [404, 404], [404, 404]]),
];

const CASE_NAMES: [&str; 2] = ["unsubmitted case of 05974", "submitted case of 05974"];

/// A case of the matrix: its id, its Aktenzeichen and the id of its document.
struct MatrixCase {
    id: i64,
    aktenzeichen: String,
    document: i64,
}

fn case_request(endpoint: &str, case: &MatrixCase, token: &str) -> actix_test::TestRequest {
    let MatrixCase {
        id: case,
        ref aktenzeichen,
        document,
    } = *case;
    let uri = |suffix: &str| format!("/api/v1/cases/{case}{suffix}");
    // Version 0 is stale for every case (versions start at 1).
    let stale = json!({ "version": 0 });
    let request = match endpoint {
        "GET /cases/{id}" => actix_test::TestRequest::get().uri(&uri("")),
        "PATCH /cases/{id}/data" => actix_test::TestRequest::patch()
            .uri(&uri("/data"))
            .set_json(json!({ "version": 0, "data": { "ausgangslage": "x" } })),
        "POST /cases/{id}/actions/{a}" => actix_test::TestRequest::post()
            .uri(&uri("/actions/beteiligung_starten"))
            .set_json(stale),
        "POST /cases/{id}/withdraw" => actix_test::TestRequest::post()
            .uri(&uri("/withdraw"))
            .set_json(stale),
        "GET /cases/{id}/relocation" => actix_test::TestRequest::get().uri(&uri("/relocation")),
        "POST /cases/{id}/relocation" => actix_test::TestRequest::post()
            .uri(&uri("/relocation"))
            .set_json(json!({ "version": 0, "step": "entwurf", "grund": "Falsche Aktion" })),
        "POST /cases/{id}/messages/{n}" => actix_test::TestRequest::post()
            .uri(&uri("/messages/raeume_bereit"))
            .set_json(stale),
        "POST /messages/{n}" => actix_test::TestRequest::post()
            .uri("/api/v1/messages/raeume_bereit")
            .set_json(json!({ "aktenzeichen": aktenzeichen })),
        "POST /cases/{id}/migrate" => actix_test::TestRequest::post()
            .uri(&uri("/migrate"))
            .set_json(stale),
        "GET /cases/{id}/journal" => actix_test::TestRequest::get().uri(&uri("/journal")),
        "GET /cases/{id}/related" => actix_test::TestRequest::get().uri(&uri("/related")),
        "GET /cases/{id}/documents" => actix_test::TestRequest::get().uri(&uri("/documents")),
        "GET /cases/{id}/export" => actix_test::TestRequest::get().uri(&uri("/export")),
        "POST /cases/{id}/documents" => {
            return crate::support::api::upload(case, token, "plan.png", "image/png", b"");
        }
        "GET /cases/{id}/assignee" => actix_test::TestRequest::get().uri(&uri("/assignee")),
        "PUT /cases/{id}/assignee" => actix_test::TestRequest::put()
            .uri(&uri("/assignee"))
            .set_json(json!({ "user": "niemand@example.org" })),
        "GET /cases/{id}/follow-ups" => actix_test::TestRequest::get().uri(&uri("/follow-ups")),
        "POST /cases/{id}/follow-ups" => actix_test::TestRequest::post()
            .uri(&uri("/follow-ups"))
            .set_json(json!({ "due": "2999-01-01", "reason": "" })),
        "POST /cases/{id}/follow-ups/0/done" => {
            actix_test::TestRequest::post().uri(&uri("/follow-ups/0/done"))
        }
        "POST /cases/{id}/notes" => actix_test::TestRequest::post()
            .uri(&uri("/notes"))
            .set_json(json!({ "text": " " })),
        "GET /cases/{id}/documents/{d}" => {
            actix_test::TestRequest::get().uri(&uri(&format!("/documents/{document}")))
        }
        "GET /cases/{id}/documents/0" => actix_test::TestRequest::get().uri(&uri("/documents/0")),
        "POST /cases/{id}/consultations/0/answer" => actix_test::TestRequest::post()
            .uri(&uri("/consultations/0/answer"))
            .set_json(json!({ "votum": "zustimmung", "name": "Frau Muster", "eingang": "post" })),
        "POST /cases/{id}/consultations/0/deadline" => actix_test::TestRequest::post()
            .uri(&uri("/consultations/0/deadline"))
            .set_json(json!({ "frist": "2999-01-04" })),
        "POST /cases/{id}/consultations/0/withdrawal" => actix_test::TestRequest::post()
            .uri(&uri("/consultations/0/withdrawal"))
            .set_json(json!({ "grund": "Irrtümlich eingeladen" })),
        "POST /cases/{id}/consultations/0/extension-request/refusal" => {
            actix_test::TestRequest::post()
                .uri(&uri("/consultations/0/extension-request/refusal"))
                .set_json(json!({ "grund": "Kreistag am 20.10." }))
        }
        "POST /cases/{id}/consultations/0/responsibility-notice/refusal" => {
            actix_test::TestRequest::post()
                .uri(&uri("/consultations/0/responsibility-notice/refusal"))
                .set_json(json!({ "grund": "Die Stelle ist zu hören." }))
        }
        "POST /cases/{id}/consultations" => actix_test::TestRequest::post()
            .uri(&uri("/consultations"))
            .set_json(json!({ "stelle": "SCHULAMT-SO" })),
        other => panic!("no request for {other}"),
    };
    request.insert_header(bearer(token))
}

/// Records a mismatch of status or error format.
fn check(mismatches: &mut Vec<String>, what: String, expected: u16, reply: &Reply) {
    if reply.status.as_u16() != expected {
        mismatches.push(format!(
            "{what}: expected {expected}, got {} {}",
            reply.status.as_u16(),
            reply.body
        ));
    } else if reply.status.is_client_error() && reply.content_type != "application/problem+json" {
        mismatches.push(format!(
            "{what}: error {} as {:?}, not application/problem+json",
            reply.status.as_u16(),
            reply.content_type
        ));
    } else if expected == 409 && !reply.body["current_version"].is_i64() {
        mismatches.push(format!(
            "{what}: 409 without current_version: {}",
            reply.body
        ));
    }
}

both_backends! {
    async fn every_role_on_every_endpoint(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let principals: Vec<String> = {
            let mut conn = db.connection();
            [
                ("admin@kreis-soest.de", "05974", Role::Admin),
                ("k@kreis-soest.de", "05974", Role::Koordination),
                ("b@bra.nrw.de", "KFI", Role::Bewilligung),
                ("l@kreis-soest.de", "05974", Role::Lesen),
                ("k@kreis-kleve.de", "05154", Role::Koordination),
            ]
            .iter()
            .map(|(email, org, role)| token(&create_user(&mut conn, email, org, &[*role], None)))
            .collect()
        };
        let soest = &principals[1];
        let pool = db.pool(4);
        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;

        // Two cases of 05974 with a document each; the second one is marked submitted directly
        // in the table (the service sets `submitted_at` when a token reaches a `bewilligung`
        // step; walking the workflow there is not what this test is about).
        let mut case_ids = [0_i64; 2];
        let mut document_ids = [0_i64; 2];
        let mut aktenzeichen = [String::new(), String::new()];
        for (i, name) in CASE_NAMES.iter().enumerate() {
            let created = send!(app, actix_test::TestRequest::post()
                .uri("/api/v1/cases")
                .insert_header(bearer(soest))
                .set_json(json!({ "workflow": "ki-antrag", "data": { "zentrum_name": name } })));
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
            case_ids[i] = created.body["id"].as_i64().unwrap();
            aktenzeichen[i] = created.body["aktenzeichen"].as_str().unwrap().to_string();
            let stored = send!(app, crate::support::api::upload(case_ids[i], soest, "plan.png", "image/png", &png()));
            assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.body);
            document_ids[i] = stored.body["id"].as_i64().unwrap();
        }
        crate::support::cases::mark_submitted(&mut db.connection(), case_ids[1]);

        let mut mismatches = Vec::new();
        for (p, token) in principals.iter().enumerate() {
            let who = PRINCIPALS[p];

            // Workflows.
            let list = send!(app, actix_test::TestRequest::get().uri("/api/v1/workflows").insert_header(bearer(token)));
            check(&mut mismatches, format!("{who} GET /workflows"), WORKFLOWS[p][0], &list);
            let show = send!(app, actix_test::TestRequest::get().uri("/api/v1/workflows/ki-antrag").insert_header(bearer(token)));
            check(&mut mismatches, format!("{who} GET /workflows/ki-antrag"), WORKFLOWS[p][1], &show);
            let deploy = send!(app, actix_test::TestRequest::post()
                .uri("/api/v1/workflows")
                .insert_header(bearer(token))
                .insert_header(("Content-Type", "application/yaml"))
                .set_payload("workflow: x\ntitle: X\n"));
            check(&mut mismatches, format!("{who} POST /workflows"), WORKFLOWS[p][2], &deploy);
            let migrate = send!(app, actix_test::TestRequest::post()
                .uri("/api/v1/workflows/ki-antrag/migrate")
                .insert_header(bearer(token))
                .set_json(json!({ "from": 99 })));
            check(&mut mismatches, format!("{who} POST /workflows/ki-antrag/migrate"), WORKFLOWS[p][3], &migrate);
            let bpmn = send!(app, actix_test::TestRequest::get().uri("/api/v1/workflows/ki-antrag/bpmn").insert_header(bearer(token)));
            check(&mut mismatches, format!("{who} GET /workflows/ki-antrag/bpmn"), WORKFLOWS[p][4], &bpmn);
            let draft = send!(app, actix_test::TestRequest::post()
                .uri("/api/v1/workflow-drafts")
                .insert_header(bearer(token))
                .insert_header(("Content-Type", "application/xml"))
                .set_payload("<leer/>"));
            check(&mut mismatches, format!("{who} POST /workflow-drafts"), WORKFLOWS[p][5], &draft);

            // The outbox.
            let outbox = send!(app, actix_test::TestRequest::get().uri("/api/v1/admin/outbox?status=failed").insert_header(bearer(token)));
            check(&mut mismatches, format!("{who} GET /admin/outbox"), OUTBOX[p][0], &outbox);
            let retry = send!(app, actix_test::TestRequest::post().uri("/api/v1/admin/outbox/0/retry").insert_header(bearer(token)));
            check(&mut mismatches, format!("{who} POST /admin/outbox/0/retry"), OUTBOX[p][1], &retry);

            // The periodic jobs.
            let jobs = send!(app, actix_test::TestRequest::get().uri("/api/v1/admin/jobs").insert_header(bearer(token)));
            check(&mut mismatches, format!("{who} GET /admin/jobs"), JOBS[p], &jobs);

            // Aussonderung.
            let retention = send!(app, actix_test::TestRequest::get().uri("/api/v1/admin/retention").insert_header(bearer(token)));
            check(&mut mismatches, format!("{who} GET /admin/retention"), RETENTION[p][0], &retention);
            let dispose = send!(app, actix_test::TestRequest::post().uri("/api/v1/admin/retention/0/dispose")
                .insert_header(bearer(token)).set_json(json!({ "decision": "declined" })));
            check(&mut mismatches, format!("{who} POST /admin/retention/0/dispose"), RETENTION[p][1], &dispose);

            // The administration's record.
            let events = send!(app, actix_test::TestRequest::get().uri("/api/v1/admin/events?kind=user_created").insert_header(bearer(token)));
            check(&mut mismatches, format!("{who} GET /admin/events"), EVENTS[p], &events);
            let me = send!(app, actix_test::TestRequest::get().uri("/api/v1/me").insert_header(bearer(token)));
            check(&mut mismatches, format!("{who} GET /me"), ME[p], &me);

            // Staff accounts.
            let users = send!(app, actix_test::TestRequest::get().uri("/api/v1/admin/users").insert_header(bearer(token)));
            check(&mut mismatches, format!("{who} GET /admin/users"), USERS[p][0], &users);
            let active = send!(app, actix_test::TestRequest::put().uri("/api/v1/admin/users/0/active")
                .insert_header(bearer(token)).set_json(json!({ "active": true })));
            check(&mut mismatches, format!("{who} PUT /admin/users/0/active"), USERS[p][1], &active);
            let password = send!(app, actix_test::TestRequest::post().uri("/api/v1/admin/users/0/password").insert_header(bearer(token)));
            check(&mut mismatches, format!("{who} POST /admin/users/0/password"), USERS[p][2], &password);
            let tokens = send!(app, actix_test::TestRequest::delete().uri("/api/v1/admin/users/0/tokens").insert_header(bearer(token)));
            check(&mut mismatches, format!("{who} DELETE /admin/users/0/tokens"), USERS[p][3], &tokens);
            let link = send!(app, actix_test::TestRequest::post().uri("/api/v1/admin/users/0/access-link").insert_header(bearer(token)));
            check(&mut mismatches, format!("{who} POST /admin/users/0/access-link"), USERS[p][4], &link);

            // Login limits.
            let limits = send!(app, actix_test::TestRequest::get().uri("/api/v1/admin/login-limits").insert_header(bearer(token)));
            check(&mut mismatches, format!("{who} GET /admin/login-limits"), LOGIN_LIMITS[p][0], &limits);
            let lift = send!(app, actix_test::TestRequest::delete().uri("/api/v1/admin/login-limits/account/niemand@example.org").insert_header(bearer(token)));
            check(&mut mismatches, format!("{who} DELETE /admin/login-limits/account/niemand@example.org"), LOGIN_LIMITS[p][1], &lift);

            // Organisations.
            let organisations = send!(app, actix_test::TestRequest::get().uri("/api/v1/organisations").insert_header(bearer(token)));
            check(&mut mismatches, format!("{who} GET /organisations"), ORGANISATIONS[p][0], &organisations);
            let organisation = send!(app, actix_test::TestRequest::get().uri("/api/v1/organisations/KFI").insert_header(bearer(token)));
            check(&mut mismatches, format!("{who} GET /organisations/KFI"), ORGANISATIONS[p][1], &organisation);
            let register = send!(app, actix_test::TestRequest::post()
                .uri("/api/v1/organisations")
                .insert_header(bearer(token))
                .set_json(json!({ "key": "NEU" })));
            check(&mut mismatches, format!("{who} POST /organisations"), ORGANISATIONS[p][2], &register);
            let addresses = send!(app, actix_test::TestRequest::put()
                .uri("/api/v1/organisations/UNBEKANNT/addresses")
                .insert_header(bearer(token))
                .set_json(json!({ "mailbox": "x@example.org", "contacts": [] })));
            check(&mut mismatches, format!("{who} PUT /organisations/UNBEKANNT/addresses"), ORGANISATIONS[p][3], &addresses);
            let import = send!(app, actix_test::TestRequest::post()
                .uri("/api/v1/organisation-imports")
                .insert_header(bearer(token))
                .insert_header(("Content-Type", "text/csv"))
                .set_payload("schluessel\nNEU\n"));
            check(&mut mismatches, format!("{who} POST /organisation-imports"), ORGANISATIONS[p][4], &import);

            // Time windows.
            let windows = send!(app, actix_test::TestRequest::get().uri("/api/v1/time-windows").insert_header(bearer(token)));
            check(&mut mismatches, format!("{who} GET /time-windows"), TIME_WINDOWS[p][0], &windows);
            let enter = send!(app, actix_test::TestRequest::post()
                .uri("/api/v1/time-windows")
                .insert_header(bearer(token))
                .set_json(json!({ "name": "kfi_antragszeitraum", "opens_on": "2027-04-17", "closes_on": "2027-10-31" })));
            check(&mut mismatches, format!("{who} POST /time-windows"), TIME_WINDOWS[p][1], &enter);
            let remove = send!(app, actix_test::TestRequest::delete().uri("/api/v1/time-windows/0").insert_header(bearer(token)));
            check(&mut mismatches, format!("{who} DELETE /time-windows/0"), TIME_WINDOWS[p][2], &remove);

            // The list, before anyone creates further cases.
            let listed = send!(app, actix_test::TestRequest::get().uri("/api/v1/cases?per_page=100").insert_header(bearer(token)));
            check(&mut mismatches, format!("{who} GET /cases"), 200, &listed);
            let ids: Vec<i64> = listed.body["items"]
                .as_array()
                .map(|items| items.iter().filter_map(|c| c["id"].as_i64()).collect())
                .unwrap_or_default();
            let expected: Vec<i64> = LISTED[p]
                .chars()
                .map(|c| if c == 'O' { case_ids[0] } else { case_ids[1] })
                .rev() // the list is newest first
                .collect();
            if ids != expected {
                mismatches.push(format!("{who} GET /cases: expected items {expected:?} (O={}, S={}), got {ids:?}", case_ids[0], case_ids[1]));
            }

            // Every case endpoint on both cases.
            for (endpoint, expected) in CASE_ENDPOINTS {
                for (c, case_name) in CASE_NAMES.iter().enumerate() {
                    let case = MatrixCase { id: case_ids[c], aktenzeichen: aktenzeichen[c].clone(), document: document_ids[c] };
                    let reply = send!(app, case_request(endpoint, &case, token));
                    check(&mut mismatches, format!("{who} {endpoint} on {case_name}"), expected[p][c], &reply);
                }
            }
        }

        // Creating cases (last: permitted requests create cases).
        for (p, token) in principals.iter().enumerate() {
            for (a, applicant) in ["05974", "05154"].iter().enumerate() {
                let reply = send!(app, actix_test::TestRequest::post()
                    .uri("/api/v1/cases")
                    .insert_header(bearer(token))
                    .set_json(json!({ "workflow": "ki-antrag", "applicant": applicant })));
                check(&mut mismatches, format!("{} POST /cases for applicant {applicant}", PRINCIPALS[p]), CREATE[p][a], &reply);
            }
        }

        // Nothing the matrix sent changed the two cases.
        for (c, case_name) in CASE_NAMES.iter().enumerate() {
            let case = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{}", case_ids[c])).insert_header(bearer(&principals[0])));
            assert_eq!(case.body["version"], 1, "{case_name} changed: {}", case.body);
            assert_eq!(case.body["status"], "running", "{case_name}: {}", case.body);
            let documents = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{}/documents", case_ids[c])).insert_header(bearer(&principals[0])));
            assert_eq!(documents.body.as_array().map(Vec::len), Some(1), "{case_name}: {}", documents.body);
            let journal = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{}/journal", case_ids[c])).insert_header(bearer(&principals[0])));
            assert!(journal.body.as_array().unwrap().iter().all(|e| e["kind"] != "note_added"), "{case_name}: {}", journal.body);
        }

        // Nor did it create an organisation.
        let missing = send!(app, actix_test::TestRequest::get().uri("/api/v1/organisations/NEU").insert_header(bearer(&principals[0])));
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);

        assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
    }
}

both_backends! {
    async fn authentication_content_type_and_size_errors(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let (admin, soest) = {
            let mut conn = db.connection();
            (
                create_user(&mut conn, "admin@kreis-soest.de", "05974", &[Role::Admin], None),
                create_user(&mut conn, "k@kreis-soest.de", "05974", &[Role::Koordination], None),
            )
        };
        let pool = db.pool(4);
        // Documents of at most 16 bytes: the minimal PNG is larger.
        let api = crate::support::api::state_with_max_size(&pool, dir.path(), 16);
        let app = actix_test::init_service(vorgang::web::app(pool, test_auth(), api)).await;
        let created = send!(app, actix_test::TestRequest::post()
            .uri("/api/v1/cases")
            .insert_header(bearer(&token(&soest)))
            .set_json(json!({ "workflow": "ki-antrag" })));
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let id = created.body["id"].as_i64().unwrap();

        let expired = tokens()
            .issue_at(vorgang::auth::StaffToken::of(&soest), chrono::Utc::now() - chrono::TimeDelta::days(1))
            .unwrap()
            .token;
        for (name, bad) in [("garbage", "not.a.token".to_string()), ("expired", expired)] {
            let reply = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}")).insert_header(bearer(&bad)));
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{name} token: {}", reply.body);
            assert_eq!(reply.content_type, "application/problem+json", "{name} token");
        }

        let json_deploy = send!(app, actix_test::TestRequest::post()
            .uri("/api/v1/workflows")
            .insert_header(bearer(&token(&admin)))
            .set_json(json!({ "workflow": "x" })));
        assert_eq!(json_deploy.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", json_deploy.body);
        assert_eq!(json_deploy.content_type, "application/problem+json");

        let oversized = send!(app, crate::support::api::upload(id, &token(&soest), "plan.png", "image/png", &png()));
        assert_eq!(oversized.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", oversized.body);
        assert_eq!(oversized.content_type, "application/problem+json");
        assert_eq!(oversized.body["errors"][0]["pointer"], "/file");
        let documents = send!(app, actix_test::TestRequest::get().uri(&format!("/api/v1/cases/{id}/documents")).insert_header(bearer(&token(&soest))));
        assert_eq!(documents.body, json!([]), "an oversized upload stores nothing");
    }
}
