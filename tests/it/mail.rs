//! Outbox delivery against a real SMTP server on loopback (`support::smtp`): what arrives, what
//! happens when the server is down or refuses, the admin API, concurrent claimers, and the
//! default `file://` transport of `vorgang serve`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use actix_web::test as actix_test;
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use mail_parser::MimeHeaders;
use serde_json::{Value, json};
use vorgang::config::MailUrl;
use vorgang::db::models::Role;
use vorgang::db::schema::outbox;
use vorgang::db::{Database, DbConnection};
use vorgang::mail::outbox::{self as queue, OutboxRow};
use vorgang::mail::{Deliverer, DeliveryPolicy, MailTransport, Round, SmtpOptions, Worker};

use crate::support::TestDatabase;
use crate::support::auth::{create_user, test_auth};
use crate::support::smtp::{SmtpServer, free_port};

/// A link as partner mails carry it: longer than a line of quoted-printable, with `=` and `&`.
const LINK: &str = "https://vorgang.kreis-soest.de/beteiligung/antwort?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiIsImF1ZCI6InZvcmdhbmctYmV0ZWlsaWd1bmcifQ.c2lnbmF0dXJl&sprache=de";

fn now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// Inserts a rendered mail as a command would; returns its id.
fn queue_mail(conn: &mut DbConnection, message_id: &str, subject: &str, rendered: &Value) -> i64 {
    let at = now();
    diesel::insert_into(outbox::table)
        .values((
            outbox::message_id.eq(message_id),
            outbox::template.eq("beteiligung_einladung"),
            outbox::recipients.eq("[]"),
            outbox::context.eq("{}"),
            outbox::next_attempt_at.eq(at),
            outbox::created_at.eq(at),
            outbox::subject.eq(subject),
            outbox::rendered.eq(rendered.to_string()),
        ))
        .execute(conn)
        .unwrap();
    outbox::table
        .filter(outbox::message_id.eq(message_id))
        .select(outbox::id)
        .first(conn)
        .unwrap()
}

fn simple_mail(to: &str) -> Value {
    json!({
        "from": "Kreis Soest <ki@kreis-soest.de>",
        "to": [to],
        "text": "Guten Tag,\nbitte antworten Sie.",
        "html": "<p>Guten Tag,</p><p>bitte antworten Sie.</p>",
    })
}

fn row(conn: &mut DbConnection, id: i64) -> OutboxRow {
    queue::find(conn, id).unwrap().expect("the row exists")
}

fn policy(max_attempts: u32) -> DeliveryPolicy {
    DeliveryPolicy {
        sender: "vorgang <noreply@vorgang.test>".parse().unwrap(),
        retry_base: Duration::from_secs(1),
        max_attempts,
        lease: Duration::from_secs(300),
        concurrency: 2,
        poll_interval: Duration::from_millis(200),
    }
}

pub(crate) fn smtp_deliverer(pool: &Database, port: u16, max_attempts: u32) -> Deliverer {
    let url = url::Url::parse(&format!("smtp://127.0.0.1:{port}?tls=none")).unwrap();
    let transport = MailTransport::new(
        &MailUrl::Smtp(url),
        &SmtpOptions {
            timeout: Duration::from_secs(10),
            pool_size: 2,
            hello_name: "vorgang.test".into(),
        },
    )
    .unwrap();
    Deliverer::new(pool.clone(), transport, policy(max_attempts))
}

pub(crate) fn deliver(deliverer: &Deliverer) -> Round {
    deliverer.deliver_due(&AtomicBool::new(false)).unwrap()
}

/// Makes every pending row due now (instead of waiting for its backoff).
fn make_due(conn: &mut DbConnection) {
    diesel::update(outbox::table.filter(outbox::status.eq("pending")))
        .set(outbox::next_attempt_at.eq(now() - TimeDelta::seconds(1)))
        .execute(conn)
        .unwrap();
}

both_backends! {
    fn what_arrives_has_headers_parts_umlauts_and_an_intact_link(backend) {
        let db = TestDatabase::migrated(backend);
        let pool = db.pool(4);
        let server = SmtpServer::start();
        let mut conn = db.connection();
        let text = format!(
            "Sehr geehrte Damen und Herren,\n\nbitte äußern Sie sich bis zum 14. März zur Förderung \
             des Kommunalen Integrationszentrums (Größe, Straße, Übergänge).\n\nIhr Link:\n{LINK}\n\n\
             Mit freundlichen Grüßen\nKreis Soest"
        );
        let html = format!(
            "<p>Sehr geehrte Damen und Herren,</p><p>bitte äußern Sie sich bis zum 14. März.</p>\
             <p><a href=\"{}\">Stellungnahme abgeben</a></p>",
            LINK.replace('&', "&amp;")
        );
        let id = queue_mail(
            &mut conn,
            "<7f3e9c1a-0b1d-4e2f-9a8b-1c2d3e4f5a6b@vorgang.test>",
            "Beteiligung: Förderung des KI – Stellungnahme erbeten",
            &json!({
                "from": "Kreis Söst – Integration <ki@kreis-soest.de>",
                "to": ["schulamt@kreis-soest.de", "jugendamt@kreis-soest.de"],
                "reply_to": "integration@kreis-soest.de",
                "text": text,
                "html": html,
            }),
        );
        let created_at = row(&mut conn, id).created_at;

        let round = deliver(&smtp_deliverer(&pool, server.port, 8));
        assert_eq!(round.sent, 1, "{round:?}");
        let received = server.received();
        assert_eq!(received.len(), 1);
        let mail = &received[0];
        assert_eq!(mail.from, "noreply@vorgang.test", "envelope sender");
        assert_eq!(mail.to, ["schulamt@kreis-soest.de", "jugendamt@kreis-soest.de"]);

        let parsed = mail.parsed();
        assert_eq!(parsed.message_id(), Some("7f3e9c1a-0b1d-4e2f-9a8b-1c2d3e4f5a6b@vorgang.test"));
        assert_eq!(
            parsed.date().map(|d| d.to_timestamp()),
            Some(created_at.and_utc().timestamp()),
            "Date is the row's created_at"
        );
        let from = parsed.from().and_then(|f| f.first()).unwrap();
        assert_eq!(from.name(), Some("Kreis Söst – Integration"));
        assert_eq!(from.address(), Some("ki@kreis-soest.de"));
        let to: Vec<_> = parsed.to().unwrap().iter().filter_map(|a| a.address()).collect();
        assert_eq!(to, ["schulamt@kreis-soest.de", "jugendamt@kreis-soest.de"]);
        assert_eq!(parsed.subject(), Some("Beteiligung: Förderung des KI – Stellungnahme erbeten"));
        let reply_to = parsed.reply_to().and_then(|r| r.first()).and_then(|r| r.address());
        assert_eq!(reply_to, Some("integration@kreis-soest.de"), "answers go to the office");
        // Sent by a machine: absence notices do not answer it.
        assert_eq!(parsed.header_raw("Auto-Submitted").map(str::trim), Some("auto-generated"));
        assert_eq!(parsed.header_raw("X-Auto-Response-Suppress").map(str::trim), Some("OOF, AutoReply"));

        let root = parsed.content_type().unwrap();
        assert_eq!((root.ctype(), root.subtype()), ("multipart", Some("alternative")));
        let leaves: Vec<(String, String)> = parsed
            .parts
            .iter()
            .skip(1)
            .map(|p| {
                let ct = p.content_type().unwrap();
                (ct.ctype().to_string(), ct.subtype().unwrap_or("").to_string())
            })
            .collect();
        assert_eq!(
            leaves,
            [("text".into(), "plain".into()), ("text".into(), "html".into())],
            "plain text first, then HTML"
        );

        let plain = parsed.body_text(0).unwrap();
        assert_eq!(plain.replace("\r\n", "\n"), text, "the plain part arrives unchanged");
        assert!(plain.contains(LINK), "the link survives encoding: {plain}");
        assert!(!plain.contains("&amp;"), "the plain part is not HTML-escaped");
        let html_part = parsed.body_html(0).unwrap();
        assert!(html_part.contains(&LINK.replace('&', "&amp;")), "{html_part}");
        assert!(html_part.contains("äußern"), "{html_part}");

        // The link was really wrapped or encoded on the wire: no raw line holds it whole, and
        // every line stays within SMTP's limit.
        let raw = String::from_utf8_lossy(&mail.data);
        assert!(!raw.contains(LINK), "the long link was sent as one line");
        assert!(raw.lines().all(|l| l.len() <= 998), "a line exceeds 998 octets");

        let stored = row(&mut conn, id);
        assert_eq!(stored.status, "sent");
        assert_eq!(stored.attempts, 1);
        assert!(stored.sent_at.is_some());
        assert!(stored.lease_until.is_none());
        assert_eq!(deliver(&smtp_deliverer(&pool, server.port, 8)), Round::default(), "nothing is sent twice");
    }
}

both_backends! {
    async fn mails_queued_while_the_server_is_down_arrive_exactly_once(backend) {
        let db = TestDatabase::migrated(backend);
        let pool = db.pool(4);
        let port = free_port();
        let ids: Vec<i64> = {
            let mut conn = db.connection();
            (0..5)
                .map(|i| queue_mail(&mut conn, &format!("<down-{i}@vorgang.test>"), "Erinnerung", &simple_mail(&format!("partner{i}@example.org"))))
                .collect()
        };

        // Nobody listens: every row stays queued with the error and one attempt counted.
        let deliverer = smtp_deliverer(&pool, port, 8);
        let round = deliver(&deliverer);
        assert_eq!(round, Round { retried: 5, ..Round::default() });
        {
            let mut conn = db.connection();
            for &id in &ids {
                let stored = row(&mut conn, id);
                assert_eq!(stored.status, "pending");
                assert_eq!(stored.attempts, 1);
                let error = stored.last_error.unwrap_or_default();
                assert!(error.contains("Mailserver"), "{error}");
                assert!(stored.next_attempt_at > stored.created_at, "retried later, not at once");
            }
        }

        // The server comes up on the same port; the worker (polling, backoff of one second)
        // delivers everything.
        let server = SmtpServer::start_on(port);
        let worker = Worker::spawn(deliverer.clone());
        worker.handle().wake();
        let received =
            actix_web::rt::task::spawn_blocking(move || server.wait_for(5, Duration::from_secs(60)))
                .await
                .unwrap();
        worker.shutdown().await;
        // Another round after the worker stopped finds nothing left.
        assert_eq!(deliver(&deliverer), Round::default());

        let mut per_id: BTreeMap<String, usize> = BTreeMap::new();
        for mail in &received {
            let id = mail.parsed().message_id().unwrap().to_string();
            *per_id.entry(id).or_default() += 1;
        }
        let expected: BTreeMap<String, usize> =
            (0..5).map(|i| (format!("down-{i}@vorgang.test"), 1)).collect();
        assert_eq!(per_id, expected, "each mail exactly once");
        let mut conn = db.connection();
        for &id in &ids {
            let stored = row(&mut conn, id);
            assert_eq!(stored.status, "sent");
            assert_eq!(stored.attempts, 2);
        }
    }
}

fn bearer(token: &str) -> (&'static str, String) {
    ("Authorization", format!("Bearer {token}"))
}

both_backends! {
    async fn a_5xx_answer_fails_the_mail_visibly_and_an_admin_can_retry_it(backend) {
        let db = TestDatabase::migrated(backend);
        let pool = db.pool(4);
        let dir = tempfile::tempdir().unwrap();
        let server = SmtpServer::start();
        server.refuse_with(550, "5.1.1 Postfach unbekannt");
        let (admin, koordination) = {
            let mut conn = db.connection();
            let admin = create_user(&mut conn, "admin@kreis-soest.de", "05974", &[Role::Admin], None);
            let koordination = create_user(&mut conn, "k@kreis-soest.de", "05974", &[Role::Koordination], None);
            (crate::support::auth::staff_token(&admin), crate::support::auth::staff_token(&koordination))
        };
        let (id, other) = {
            let mut conn = db.connection();
            (
                queue_mail(&mut conn, "<refused@vorgang.test>", "Einladung", &simple_mail("niemand@example.org")),
                queue_mail(&mut conn, "<other@vorgang.test>", "Einladung", &simple_mail("jemand@example.org")),
            )
        };
        let deliverer = smtp_deliverer(&pool, server.port, 8);
        let round = actix_web::rt::task::spawn_blocking({
            let deliverer = deliverer.clone();
            move || deliver(&deliverer)
        })
        .await
        .unwrap();
        assert_eq!(round, Round { failed: 2, ..Round::default() });
        diesel::update(outbox::table.find(other))
            .set(outbox::status.eq("sent"))
            .execute(&mut db.connection())
            .unwrap();

        // A mail held for want of an address: nobody holds the role it is for.
        let held = {
            let mut conn = db.connection();
            let held = queue_mail(&mut conn, "<held@vorgang.test>", "Antrag eingegangen", &json!({ "from": "", "to": [], "text": "x", "html": "x" }));
            diesel::update(outbox::table.find(held))
                .set((outbox::status.eq("failed"), outbox::recipients.eq(r#"{"kind":"role","role":"bewilligung"}"#)))
                .execute(&mut conn)
                .unwrap();
            held
        };

        let api = crate::support::api::state(&pool, dir.path());
        let app = actix_test::init_service(vorgang::web::app(pool.clone(), test_auth(), api)).await;
        let get = |token: &str, uri: &str| actix_test::TestRequest::get().uri(uri).insert_header(bearer(token)).to_request();
        let post = |token: &str, uri: &str| actix_test::TestRequest::post().uri(uri).insert_header(bearer(token)).to_request();

        let listed: Value = actix_test::call_and_read_body_json(&app, get(&admin, "/api/v1/admin/outbox?status=failed")).await;
        assert_eq!(listed["total"], 2, "{listed}");
        assert_eq!((listed["page"].as_i64(), listed["per_page"].as_i64()), (Some(1), Some(20)));
        assert_eq!(listed["items"][0]["id"], held, "newest first");
        let item = &listed["items"][1];
        assert_eq!(item["id"], id);
        assert_eq!(item["message_id"], "<refused@vorgang.test>");
        assert_eq!(item["status"], "failed");
        assert_eq!(item["attempts"], 1);
        assert_eq!(item["to"], json!(["niemand@example.org"]));
        assert_eq!(item["subject"], "Einladung");
        let error = item["last_error"].as_str().unwrap();
        assert!(error.contains("550") && error.contains("Postfach unbekannt"), "the server's answer: {error}");
        for key in ["case_id", "template", "next_attempt_at", "created_at", "sent_at"] {
            assert!(item.get(key).is_some(), "{key} missing: {item}");
        }
        let all: Value = actix_test::call_and_read_body_json(&app, get(&admin, "/api/v1/admin/outbox")).await;
        assert_eq!(all["total"], 3, "{all}");
        // `q` finds mails by an address or the subject, in any case.
        let to_one: Value = actix_test::call_and_read_body_json(&app, get(&admin, "/api/v1/admin/outbox?q=NIEMAND%40example")).await;
        assert_eq!((to_one["total"].as_i64(), &to_one["items"][0]["id"]), (Some(1), &json!(id)), "{to_one}");
        let by_subject: Value = actix_test::call_and_read_body_json(&app, get(&admin, "/api/v1/admin/outbox?q=eingegangen&status=failed")).await;
        assert_eq!((by_subject["total"].as_i64(), &by_subject["items"][0]["id"]), (Some(1), &json!(held)), "{by_subject}");

        for (request, status) in [
            (get(&koordination, "/api/v1/admin/outbox?status=failed"), 403),
            (post(&koordination, &format!("/api/v1/admin/outbox/{id}/retry")), 403),
            (get(&admin, "/api/v1/admin/outbox?status=lost"), 400),
            (get(&admin, "/api/v1/admin/outbox?per_page=0"), 400),
            (post(&admin, "/api/v1/admin/outbox/999999/retry"), 404),
            (post(&admin, &format!("/api/v1/admin/outbox/{other}/retry")), 409),
            (post(&admin, &format!("/api/v1/admin/outbox/{held}/retry")), 422),
        ] {
            let response = actix_test::call_service(&app, request).await;
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(response.headers().get("content-type").unwrap(), "application/problem+json");
            if status == 422 {
                let problem: Value = actix_test::read_body_json(response).await;
                assert_eq!(problem["title"], "Keine Empfängeradresse");
                assert!(problem["detail"].as_str().unwrap().contains("Rolle „bewilligung“"), "{problem}");
            }
        }
        assert_eq!(row(&mut db.connection(), held).status, "failed", "a refused retry changes nothing");
        assert!(server.received().is_empty());

        // The admin retries; the server accepts again; the mail arrives, once.
        server.accept();
        let retried: Value = actix_test::call_and_read_body_json(&app, post(&admin, &format!("/api/v1/admin/outbox/{id}/retry"))).await;
        assert_eq!(retried["status"], "pending", "{retried}");
        assert_eq!(retried["attempts"], 0, "{retried}");
        let again = actix_test::call_service(&app, post(&admin, &format!("/api/v1/admin/outbox/{id}/retry"))).await;
        assert_eq!(again.status().as_u16(), 409, "only failed mails are retried");
        let round = actix_web::rt::task::spawn_blocking(move || deliver(&deliverer)).await.unwrap();
        assert_eq!(round, Round { sent: 1, ..Round::default() });
        let received = server.received();
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].parsed().message_id(), Some("refused@vorgang.test"));
        let failed: Value = actix_test::call_and_read_body_json(&app, get(&admin, "/api/v1/admin/outbox?status=failed")).await;
        assert_eq!(failed["total"], 1, "only the held mail: {failed}");
    }
}

both_backends! {
    fn transient_answers_are_retried_until_the_attempts_run_out(backend) {
        let db = TestDatabase::migrated(backend);
        let pool = db.pool(4);
        let server = SmtpServer::start();
        server.refuse_with(451, "4.3.0 Bitte später erneut versuchen");
        let mut conn = db.connection();
        let id = queue_mail(&mut conn, "<busy@vorgang.test>", "Frist", &simple_mail("a@example.org"));
        let deliverer = smtp_deliverer(&pool, server.port, 2);

        assert_eq!(deliver(&deliverer), Round { retried: 1, ..Round::default() });
        let first = row(&mut conn, id);
        assert_eq!((first.status.as_str(), first.attempts), ("pending", 1));
        assert!(first.last_error.unwrap().contains("451"));
        // Not due before its backoff has passed.
        assert_eq!(deliver(&deliverer), Round::default());

        make_due(&mut conn);
        assert_eq!(deliver(&deliverer), Round { failed: 1, ..Round::default() });
        let last = row(&mut conn, id);
        assert_eq!((last.status.as_str(), last.attempts), ("failed", 2));
        let error = last.last_error.unwrap();
        assert!(error.contains("451") && error.contains("nach 2 Versuchen"), "{error}");
        assert!(server.received().is_empty());
    }
}

both_backends! {
    fn concurrent_claimers_never_hold_one_row_at_once(backend) {
        let db = TestDatabase::migrated(backend);
        {
            let mut conn = db.connection();
            for i in 0..120 {
                queue_mail(&mut conn, &format!("<claim-{i}@vorgang.test>"), "x", &simple_mail("a@example.org"));
            }
        }
        let claimed: Vec<Vec<i64>> = std::thread::scope(|scope| {
            let claimers: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        let mut conn = db.connection();
                        let mut mine = Vec::new();
                        loop {
                            let batch = queue::claim_due(&mut conn, now(), Duration::from_secs(300), 7).unwrap();
                            if batch.is_empty() {
                                return mine;
                            }
                            mine.extend(batch.iter().map(|c| c.row.id));
                        }
                    })
                })
                .collect();
            claimers.into_iter().map(|c| c.join().unwrap()).collect()
        });
        let total: usize = claimed.iter().map(Vec::len).sum();
        let distinct: BTreeSet<i64> = claimed.iter().flatten().copied().collect();
        assert_eq!(total, 120, "every row claimed once: {claimed:?}");
        assert_eq!(distinct.len(), 120);

        // While the leases are valid nobody gets a row; once one has expired, it is claimed again.
        let mut conn = db.connection();
        assert!(queue::claim_due(&mut conn, now(), Duration::from_secs(300), 200).unwrap().is_empty());
        let stuck = *distinct.iter().next().unwrap();
        diesel::update(outbox::table.find(stuck))
            .set(outbox::lease_until.eq(Some(now() - TimeDelta::seconds(1))))
            .execute(&mut conn)
            .unwrap();
        let again = queue::claim_due(&mut conn, now(), Duration::from_secs(300), 200).unwrap();
        assert_eq!(again.iter().map(|c| c.row.id).collect::<Vec<_>>(), [stuck]);
        assert_eq!(again[0].row.attempts, 2, "the lost attempt counts");
        // The expired claim can no longer record an outcome.
        let expired = queue::Claimed { row: again[0].row.clone(), lease: now() - TimeDelta::seconds(1) };
        assert!(!queue::mark_sent(&mut conn, &expired, now()).unwrap());
        assert!(queue::mark_sent(&mut conn, &again[0], now()).unwrap());
    }
}

both_backends! {
    fn a_claim_takes_the_oldest_due_rows_of_both_kinds_and_nothing_else(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let start = now() - TimeDelta::minutes(10);
        // (message id, status, next attempt after `start` in minutes, lease expired?)
        let rows = [
            ("<p3@t>", "pending", 3, false),
            ("<s2@t>", "sending", 2, true),
            ("<p1@t>", "pending", 1, false),
            ("<s0@t>", "sending", 0, false),
            ("<f0@t>", "failed", 0, false),
            ("<x0@t>", "sent", 0, false),
            ("<p4@t>", "pending", 4, false),
            ("<later@t>", "pending", 20, false),
        ];
        let mut ids = BTreeMap::new();
        for (message_id, status, minutes, expired) in rows {
            let id = queue_mail(&mut conn, message_id, "x", &simple_mail("a@example.org"));
            let lease = (status == "sending")
                .then(|| if expired { now() - TimeDelta::seconds(1) } else { now() + TimeDelta::minutes(5) });
            diesel::update(outbox::table.find(id))
                .set((
                    outbox::status.eq(status),
                    outbox::next_attempt_at.eq(start + TimeDelta::minutes(minutes)),
                    outbox::lease_until.eq(lease),
                ))
                .execute(&mut conn)
                .unwrap();
            ids.insert(message_id, id);
        }
        let claim = |conn: &mut DbConnection, limit| -> Vec<i64> {
            queue::claim_due(conn, now(), Duration::from_secs(300), limit)
                .unwrap()
                .iter()
                .map(|c| c.row.id)
                .collect()
        };
        // Oldest first across an expired lease and pending rows; the live lease, failed, sent
        // and not yet due rows are left alone.
        assert_eq!(claim(&mut conn, 2), [ids["<p1@t>"], ids["<s2@t>"]]);
        assert_eq!(claim(&mut conn, 5), [ids["<p3@t>"], ids["<p4@t>"]]);
        assert!(claim(&mut conn, 5).is_empty());
        assert_eq!(row(&mut conn, ids["<later@t>"]).status, "pending");
        assert_eq!(row(&mut conn, ids["<f0@t>"]).status, "failed");
        assert_eq!(row(&mut conn, ids["<s0@t>"]).attempts, 0);
    }
}

#[test]
fn recording_outcomes_reuses_one_prepared_statement_on_postgres() {
    if !crate::support::db::postgres_available() {
        return;
    }
    let db = TestDatabase::migrated(crate::support::Backend::Postgres);
    let mut conn = db.connection();
    for i in 0..3 {
        queue_mail(
            &mut conn,
            &format!("<prepared-{i}@vorgang.test>"),
            "x",
            &simple_mail("a@example.org"),
        );
    }
    let claimed = queue::claim_due(&mut conn, now(), Duration::from_secs(300), 10).unwrap();
    assert_eq!(claimed.len(), 3);
    for claim in &claimed {
        assert!(queue::mark_sent(&mut conn, claim, now()).unwrap());
    }
    // Three outcomes, one statement parsed once and executed three times on this connection.
    let uses: Vec<i64> = crate::support::db::prepared_statements(&mut conn)
        .into_iter()
        .filter(|(statement, _)| {
            statement.starts_with(r#"UPDATE "outbox" SET "status" = $1, "sent_at""#)
        })
        .map(|(_, executions)| executions)
        .collect();
    assert_eq!(uses, [3]);
    for claim in &claimed {
        assert_eq!(row(&mut conn, claim.row.id).status, "sent");
    }
}

#[test]
fn serve_writes_eml_files_into_the_data_directory_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = crate::support::process::RunningServer::start(dir.path(), &[]);
    // The server has created and migrated ./data/vorgang.db; a command would queue like this.
    let url = vorgang::db::DatabaseUrl::Sqlite(dir.path().join("data/vorgang.db"));
    let mut conn = vorgang::db::ConnectionFactory::new(url).open().unwrap();
    let id = queue_mail(
        &mut conn,
        "<datei@vorgang.test>",
        "Übersicht für März",
        &simple_mail("ki@kreis-soest.de"),
    );

    let file = dir.path().join("data/outbox/datei@vorgang.test.eml");
    let started = std::time::Instant::now();
    while !(file.exists() && row(&mut conn, id).status == "sent")
        && started.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let bytes = std::fs::read(&file).unwrap_or_else(|e| {
        panic!(
            "{} not written ({e}); log:\n{}",
            file.display(),
            server.log_lines().join("\n")
        )
    });
    let parsed = mail_parser::MessageParser::default().parse(&bytes).unwrap();
    assert_eq!(parsed.message_id(), Some("datei@vorgang.test"));
    assert_eq!(parsed.subject(), Some("Übersicht für März"));
    assert_eq!(
        parsed.body_text(0).unwrap().replace("\r\n", "\n"),
        "Guten Tag,\nbitte antworten Sie."
    );
    assert_eq!(row(&mut conn, id).status, "sent");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("data/outbox"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let status = server.signal_and_wait("TERM", Duration::from_secs(40));
    assert!(status.success(), "{status:?}");
}
