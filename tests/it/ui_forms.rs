//! Every page and form of the web interface, walked as the demo's users and its partners walk
//! it, then sent what a careless or hostile browser sends: a form without its CSRF token, with
//! a wrong one or as JSON; each field left out, empty, overlong, with control characters,
//! negative, huge, an impossible date, markup, or twice; files that are empty or lie about
//! their type; addresses with ids and query values that do not exist or do not parse.
//!
//! Whatever arrives, the answer is never a server error; a refusal (4xx) is a page in German
//! and changes nothing in the database; and no page shows submitted markup unescaped.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::test::TestRequest;
use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};
use vorgang::db::DbConnection;
use vorgang::db::models::Role;

use crate::support::TestDatabase;
use crate::support::auth::create_user;
use crate::support::html::{Form, links, post_forms};
use crate::support::ui::{Browser, ui_app};

const PASSWORD: &str = "richtig-langes-passwort";
/// Addresses of one shape (ids replaced) visited at most this often.
const PER_SHAPE: usize = 2;
/// Fields of one kind of element varied per form.
const FIELDS_PER_KIND: usize = 2;
/// Submitted as a field's value; must never come back unescaped.
const MARKUP: &str = "<script>alert(1)</script>";
/// Tables a refused request may still write (its session's last use, the counts of failed
/// logins), and those no request writes.
const BOOKKEEPING: [&str; 4] = [
    "ui_sessions",
    "attempt_limits",
    "job_runs",
    "__diesel_schema_migrations",
];

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// One query that reads every table but [`BOOKKEEPING`] as one line per table, `table:` and
/// its rows (on PostgreSQL their digest), so that a change to any row changes its line.
fn snapshot_query(conn: &mut DbConnection) -> String {
    let sqlite = matches!(conn, DbConnection::Sqlite(_));
    let tables: Vec<Line> = diesel::sql_query(if sqlite {
        "SELECT name AS line FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
    } else {
        "SELECT table_name::text AS line FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
    })
    .load(conn)
    .unwrap();
    let mut parts = Vec::new();
    for table in tables.into_iter().map(|t| t.line) {
        if BOOKKEEPING.contains(&table.as_str()) {
            continue;
        }
        parts.push(if sqlite {
            let columns: Vec<Line> = diesel::sql_query(format!(
                "SELECT name AS line FROM pragma_table_info('{table}')"
            ))
            .load(conn)
            .unwrap();
            let pairs: Vec<String> = columns
                .iter()
                .map(|c| format!("'{0}', \"{0}\"", c.line))
                .collect();
            format!(
                "SELECT '{table}:' || coalesce((SELECT group_concat(j, '|') FROM \
                 (SELECT json_object({}) AS j FROM \"{table}\" ORDER BY 1)), '') AS line",
                pairs.join(", ")
            )
        } else {
            format!(
                "SELECT '{table}:' || md5(coalesce(string_agg(row_to_json(t)::text, '|' \
                 ORDER BY row_to_json(t)::text), '')) AS line FROM \"{table}\" t"
            )
        });
    }
    parts.join(" UNION ALL ")
}

/// The database as [`snapshot_query`] reads it.
fn rows(conn: &mut DbConnection, query: &str) -> Vec<String> {
    let lines: Vec<Line> = diesel::sql_query(query).load(conn).unwrap();
    lines.into_iter().map(|l| l.line).collect()
}

/// The tables whose rows differ, for the failure message.
fn changed(before: &[String], after: &[String]) -> Vec<String> {
    after
        .iter()
        .filter(|line| !before.contains(line))
        .map(|line| line.split(':').next().unwrap_or_default().to_string())
        .collect()
}

/// The shape of an address: digit runs and long tokens replaced, query names only.
fn shape(address: &str) -> String {
    let (path, query) = address.split_once('?').unwrap_or((address, ""));
    let path: Vec<String> = path
        .split('/')
        .map(|segment| {
            if segment.len() > 24 {
                "T".to_string()
            } else {
                let mut out = String::new();
                for c in segment.chars() {
                    if c.is_ascii_digit() {
                        if !out.ends_with('N') {
                            out.push('N');
                        }
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        })
        .collect();
    let mut names: Vec<&str> = query
        .split('&')
        .filter_map(|pair| pair.split('=').next())
        .filter(|name| !name.is_empty())
        .collect();
    names.sort_unstable();
    names.dedup();
    format!("{}?{}", path.join("/"), names.join("&"))
}

/// The `Content-Type` of an answer (empty when absent).
fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// What a refusal must look like: a page in German.
fn assert_german_page(status: u16, content_type: &str, body: &str, what: &str) {
    assert!(status < 500, "{what}: server error {status}: {body}");
    if status >= 400 {
        assert!(
            content_type.starts_with("text/html"),
            "{what}: {status} answered as {content_type}: {body}"
        );
        assert!(
            body.contains("<html lang=\"de\">"),
            "{what}: {status} is no German page: {body}"
        );
    }
}

/// Pages and forms found by one user's walk.
#[derive(Default)]
struct Walk {
    visited: Vec<String>,
    shapes: BTreeMap<String, usize>,
    forms: Vec<(String, Form)>,
    form_shapes: BTreeSet<String>,
}

/// Whether the walk leaves `address` alone: files to download, not pages.
fn not_a_page(address: &str) -> bool {
    let path = address.split('?').next().unwrap_or_default();
    path.starts_with("/assets/")
        || path == "/logout"
        || [".zip", ".csv", ".ics", ".bpmn", ".svg", ".pdf"]
            .iter()
            .any(|end| path.ends_with(end))
}

/// Walks every same-site link reachable from `start` (each of them, then each shape of
/// address at most [`PER_SHAPE`] times), asserting that no page fails; collects the forms sent
/// with POST.
async fn walk<S, B>(app: &S, browser: &mut Browser, start: &[String], walk: &mut Walk)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut queue: VecDeque<String> = start.iter().cloned().collect();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    while let Some(address) = queue.pop_front() {
        if !seen.insert(address.clone()) || not_a_page(&address) {
            continue;
        }
        let count = walk.shapes.entry(shape(&address)).or_default();
        if *count >= PER_SHAPE && !start.contains(&address) {
            continue;
        }
        *count += 1;
        let (status, headers, body) = browser
            .send_raw(app, TestRequest::get().uri(&address))
            .await;
        let content_type = content_type(&headers);
        let text = String::from_utf8_lossy(&body);
        assert_german_page(status, content_type, &text, &format!("GET {address}"));
        walk.visited.push(address.clone());
        if (300..400).contains(&status) {
            if let Some(location) = headers.get("location").and_then(|v| v.to_str().ok())
                && location.starts_with('/')
            {
                queue.push_back(location.to_string());
            }
            continue;
        }
        if !content_type.starts_with("text/html") {
            continue;
        }
        assert!(
            !text.contains(MARKUP),
            "GET {address} shows markup unescaped"
        );
        queue.extend(links(&text));
        for form in post_forms(&text, &address) {
            let mut names: Vec<&str> = form.fields.iter().map(|(k, _)| k.as_str()).collect();
            names.sort_unstable();
            let key = format!("{} {}", shape(&form.action), names.join(","));
            if walk.form_shapes.insert(key) {
                walk.forms.push((address.clone(), form));
            }
        }
    }
}

/// A request body and its content type.
struct Body {
    content_type: String,
    bytes: Vec<u8>,
}

fn urlencoded(fields: &[(String, String)]) -> Body {
    Body {
        content_type: "application/x-www-form-urlencoded".to_string(),
        bytes: serde_urlencoded::to_string(fields).unwrap().into_bytes(),
    }
}

const BOUNDARY: &str = "----vorgang-formulartest";

/// A multipart body: the fields as text parts, then `files` (name, file name, content).
fn multipart(fields: &[(String, String)], files: &[(&str, &str, &[u8])]) -> Body {
    let mut bytes = Vec::new();
    for (key, value) in fields {
        bytes.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{key}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (key, filename, content) in files {
        bytes.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{key}\"; \
                 filename=\"{filename}\"\r\nContent-Type: application/pdf\r\n\r\n"
            )
            .as_bytes(),
        );
        bytes.extend_from_slice(content);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    Body {
        content_type: format!("multipart/form-data; boundary={BOUNDARY}"),
        bytes,
    }
}

/// What to send for one form: (label, body, whether it must be refused).
fn variants(form: &Form) -> Vec<(String, Body, bool)> {
    let encode = |fields: &[(String, String)]| {
        if form.multipart {
            multipart(fields, &[])
        } else {
            urlencoded(fields)
        }
    };
    let mut out = Vec::new();
    let has_csrf = form.fields.iter().any(|(k, _)| k == "csrf");
    if has_csrf {
        let without: Vec<(String, String)> = form
            .fields
            .iter()
            .filter(|(k, _)| k != "csrf")
            .cloned()
            .collect();
        out.push(("ohne CSRF-Token".to_string(), encode(&without), true));
        let wrong: Vec<(String, String)> = form
            .fields
            .iter()
            .map(|(k, v)| {
                if k == "csrf" {
                    let last = if v.ends_with('0') { '1' } else { '0' };
                    (
                        k.clone(),
                        format!("{}{last}", &v[..v.len().saturating_sub(1)]),
                    )
                } else {
                    (k.clone(), v.clone())
                }
            })
            .collect();
        out.push(("falsches CSRF-Token".to_string(), encode(&wrong), true));
        let json: serde_json::Map<String, serde_json::Value> = form
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        out.push((
            "als JSON".to_string(),
            Body {
                content_type: "application/json".to_string(),
                bytes: serde_json::Value::Object(json).to_string().into_bytes(),
            },
            true,
        ));
    }
    if form.multipart {
        out.push((
            "urlencoded statt multipart".to_string(),
            urlencoded(&form.fields),
            has_csrf,
        ));
    }
    for file in &form.files {
        out.push((
            format!("{file}: leere Datei"),
            multipart(&form.fields, &[(file, "leer.pdf", b"")]),
            false,
        ));
        out.push((
            format!("{file}: Datei, die kein PDF ist"),
            multipart(
                &form.fields,
                &[(file, "antrag.pdf", b"MZ\x90\x00 kein PDF")],
            ),
            false,
        ));
    }
    let long = "x".repeat(5000);
    let values: [(&str, &str); 8] = [
        ("leer", ""),
        ("5000 Zeichen", &long),
        ("Steuerzeichen", "a\u{0}b\u{7}\u{1b}[31m\u{202e}c\r\n"),
        ("negativ", "-1"),
        ("riesig", "99999999999999999999999999"),
        ("unmögliches Datum", "2026-02-30"),
        ("Markup", MARKUP),
        ("Emoji", "👩‍⚖️ 𝔄"),
    ];
    // Fields of one kind take the same way through the handler; a form generated from a
    // workflow's data has dozens of them. Two of each kind are varied.
    let mut per_kind: BTreeMap<&str, usize> = BTreeMap::new();
    let mut names: Vec<&String> = Vec::new();
    for ((name, _), kind) in form.fields.iter().zip(&form.kinds) {
        let count = per_kind.entry(kind).or_default();
        if name != "csrf" && *count < FIELDS_PER_KIND && !names.contains(&name) {
            *count += 1;
            names.push(name);
        }
    }
    for name in names {
        let without: Vec<(String, String)> = form
            .fields
            .iter()
            .filter(|(k, _)| k != name)
            .cloned()
            .collect();
        out.push((format!("{name} fehlt"), encode(&without), false));
        for (label, value) in values {
            let fields: Vec<(String, String)> = form
                .fields
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        if k == name {
                            value.to_string()
                        } else {
                            v.clone()
                        },
                    )
                })
                .collect();
            out.push((format!("{name}: {label}"), encode(&fields), false));
        }
        let mut twice = form.fields.clone();
        twice.push((name.clone(), "anders".to_string()));
        out.push((format!("{name} doppelt"), encode(&twice), false));
    }
    out
}

/// Sends every variant of every form of `walk`, checking each answer and the database.
async fn submit_all<S, B>(
    app: &S,
    browser: &mut Browser,
    walk: &Walk,
    db: &TestDatabase,
    login: Option<(&str, &str)>,
) -> usize
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut conn = db.connection();
    let mut sent = 0;
    let query = snapshot_query(&mut conn);
    let mut before = rows(&mut conn, &query);
    for (page, form) in &walk.forms {
        for (label, body, must_refuse) in variants(form) {
            let what = format!("POST {} ({label}), Formular von {page}", form.action);
            let request = TestRequest::post()
                .uri(&form.action)
                .insert_header(("content-type", body.content_type.as_str()))
                .set_payload(body.bytes);
            let (status, headers, answer) = browser.send_raw(app, request).await;
            sent += 1;
            let text = String::from_utf8_lossy(&answer);
            assert_german_page(status, content_type(&headers), &text, &what);
            assert!(
                !text.contains(MARKUP),
                "{what}: shows markup unescaped: {text}"
            );
            let after = rows(&mut conn, &query);
            if status >= 400 || must_refuse {
                assert!(status >= 400, "{what}: not refused ({status}): {text}");
                assert!(
                    after == before,
                    "{what}: refused with {status}, but changed {:?}: {text}",
                    changed(&before, &after)
                );
            }
            before = after;
            // Some forms end the session on purpose (a password changed, the user's own
            // sessions ended); the walk goes on logged in. A refusal changed nothing.
            if let Some((email, password)) = login.filter(|_| status < 400)
                && browser.get(app, "/konto").await.status != 200
            {
                let page = browser.login(app, email, password).await;
                assert_eq!(
                    page.status, 303,
                    "{what}: logged out for good: {}",
                    page.body
                );
            }
        }
    }
    sent
}

/// The partners' personal links in the mails queued so far (`/beteiligung/{token}`).
fn partner_addresses(conn: &mut DbConnection) -> Vec<String> {
    use diesel::prelude::*;
    use vorgang::db::schema::outbox;
    let mails: Vec<String> = outbox::table.select(outbox::rendered).load(conn).unwrap();
    let mut out = BTreeSet::new();
    for mail in &mails {
        for rest in mail.split("/beteiligung/").skip(1) {
            let token: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "_-.".contains(*c))
                .collect();
            if !token.is_empty() {
                out.insert(format!("/beteiligung/{token}"));
            }
        }
    }
    out.into_iter().collect()
}

/// Addresses like the visited ones (one of each shape) with each id, token and query value
/// replaced by one that does not exist or does not parse.
fn odd_addresses(visited: &[String]) -> Vec<String> {
    let mut shapes = BTreeSet::new();
    let mut out = Vec::new();
    for address in visited {
        if !shapes.insert(shape(address)) {
            continue;
        }
        let (path, query) = address.split_once('?').unwrap_or((address, ""));
        let segments: Vec<&str> = path.split('/').collect();
        for (i, segment) in segments.iter().enumerate() {
            let odd: &[&str] = if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit())
            {
                &["0", "-1", "99999999999999999999", "abc", "1.5", "%00"]
            } else if segment.len() > 24 {
                &["x", "%FF%FE", "%00"]
            } else if i == segments.len() - 1 && !segment.is_empty() && i > 1 {
                // The last part of a deeper address may be a key (`/admin/organisationen/05154`).
                &["%00", "%FF%FE"]
            } else {
                continue;
            };
            for value in odd {
                let mut changed = segments.clone();
                changed[i] = value;
                let query = if query.is_empty() {
                    String::new()
                } else {
                    format!("?{query}")
                };
                out.push(format!("{}{query}", changed.join("/")));
            }
        }
        let pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
        let long = "x".repeat(3000);
        for (i, pair) in pairs.iter().enumerate() {
            let name = pair.split('=').next().unwrap_or_default();
            for value in [
                "%FF%FE",
                "%00",
                "-1",
                "99999999999999999999",
                "2026-02-30",
                "",
                long.as_str(),
            ] {
                let mut changed: Vec<String> = pairs.iter().map(|p| p.to_string()).collect();
                changed[i] = format!("{name}={value}");
                out.push(format!("{path}?{}", changed.join("&")));
            }
        }
    }
    out
}

/// Sends each odd address; none may fail, refusals are German pages.
async fn visit_odd<S, B>(app: &S, browser: &mut Browser, visited: &[String]) -> usize
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let addresses = odd_addresses(visited);
    for address in &addresses {
        let (status, headers, body) = browser.send_raw(app, TestRequest::get().uri(address)).await;
        assert_german_page(
            status,
            content_type(&headers),
            &String::from_utf8_lossy(&body),
            &format!("GET {address}"),
        );
    }
    addresses.len()
}

/// What one visitor's walk covered, for the summary and the coverage checks.
#[derive(Default)]
struct Tally {
    pages: usize,
    forms: usize,
    submissions: usize,
    odd_addresses: usize,
}

/// One visitor: walks from `start`, sends every variant of every form found, then the odd
/// addresses; returns the walk for coverage checks.
async fn visit<S, B>(
    app: &S,
    browser: &mut Browser,
    start: &[String],
    db: &TestDatabase,
    login: Option<(&str, &str)>,
    tally: &mut Tally,
) -> Walk
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut found = Walk::default();
    walk(app, browser, start, &mut found).await;
    tally.submissions += submit_all(app, browser, &found, db, login).await;
    tally.odd_addresses += visit_odd(app, browser, &found.visited).await;
    tally.pages += found.visited.len();
    tally.forms += found.forms.len();
    found
}

/// Asserts that `walk` found a form sent to an address containing each of `needed`.
fn assert_forms(walk: &Walk, who: &str, needed: &[&str]) {
    for part in needed {
        assert!(
            walk.forms
                .iter()
                .any(|(_, form)| form.action.contains(part)),
            "{who}: no form to …{part}…; forms: {:?}",
            walk.forms
                .iter()
                .map(|(_, f)| &f.action)
                .collect::<Vec<_>>()
        );
    }
}

both_backends! {
    async fn every_page_and_form_answers_bad_input_with_a_german_page_and_changes_nothing(backend) {
        let db = TestDatabase::migrated(backend);
        let dir = tempfile::tempdir().unwrap();
        let app = ui_app!(db, dir);
        create_user(&mut db.connection(), "admin@kfi.test", "KFI", &[Role::Admin], Some(PASSWORD));
        let mut admin = Browser::default();
        assert_eq!(admin.login(&app, "admin@kfi.test", PASSWORD).await.status, 303);
        let csrf = admin.csrf_token(&app, "/").await;
        let loaded = admin.post(&app, "/demo", &[("csrf", &csrf)]).await;
        assert_eq!(loaded.status, 200, "{}", loaded.body);
        let demo_password = loaded
            .body
            .split("<code class=\"passwort\">")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .unwrap()
            .to_string();
        let home = ["/".to_string()];
        let mut tally = Tally::default();

        // The partners first, while their consultations are open.
        let invitations = partner_addresses(&mut db.connection());
        assert!(invitations.len() >= 3, "{invitations:?}");
        let found = visit(&app, &mut Browser::default(), &invitations, &db, None, &mut tally).await;
        assert_forms(&found, "Partner", &["/fristverlaengerung", "/nicht-zustaendig"]);
        assert!(found.forms.iter().any(|(_, f)| f.multipart && !f.files.is_empty()), "no answer form");

        // The staff: a reader, the Bewilligungsbehörde before the coordinator can withdraw the
        // submitted application, the administrator.
        let staff: [(&str, &str, &[&str]); 4] = [
            ("lesen@kreis-coesfeld.demo", &demo_password, &["/logout", "/konto/abwesenheit"]),
            ("bewilligung@kfi.demo", &demo_password, &["/daten", "/dokumente", "/vermerke"]),
            ("koordination@kreis-coesfeld.demo", &demo_password, &["/daten", "/aktionen/", "/dokumente", "/vermerke", "/wiedervorlagen", "/zustaendigkeit"]),
            ("admin@kfi.test", PASSWORD, &["/admin/workflows/neu", "/admin/benutzer/neu", "/admin/organisationen/neu", "/korrektur"]),
        ];
        for (email, password, needed) in staff {
            let mut other = Browser::default();
            let user = if email == "admin@kfi.test" {
                &mut admin
            } else {
                assert_eq!(other.login(&app, email, password).await.status, 303, "{email}");
                &mut other
            };
            let found = visit(&app, user, &home, &db, Some((email, password)), &mut tally).await;
            assert_forms(&found, email, needed);
        }

        // Last, someone not logged in: the login and the request for a new password (the
        // failed logins lock nobody who still has to log in).
        let found = visit(&app, &mut Browser::default(), &["/login".to_string()], &db, None, &mut tally).await;
        assert_forms(&found, "nicht angemeldet", &["/login", "/login/passwort-vergessen"]);

        // What was stored is shown escaped everywhere.
        walk(&app, &mut admin, &home, &mut Walk::default()).await;
        eprintln!(
            "{backend:?}: {} pages, {} forms, {} submissions, {} odd addresses",
            tally.pages, tally.forms, tally.submissions, tally.odd_addresses
        );
    }
}
