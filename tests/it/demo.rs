//! `vorgang demo`: the demo data set is built through the real commands (journals, timers,
//! invitations, answers, documents and mails are genuine), every stage of the procedure is there
//! with deadlines ahead, loading twice changes nothing, and removing deletes exactly the demo –
//! on both databases, and through the binary.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use serde_json::Value;
use vorgang::db::DbConnection;
use vorgang::db::models::{CaseId, Organisation, Role};
use vorgang::db::schema::{
    answers, case_events, cases, demo_records, documents, invitations, organisation_contacts,
    organisations, outbox, partner_links, timers, user_roles, users,
};
use vorgang::engine::Actor;
use vorgang::service::ServiceError;
use vorgang::service::cases::{self as commands, Invocation};
use vorgang::service::demo::{self, DemoSummary};

use crate::support::TestDatabase;
use crate::support::auth::{cheap_passwords, create_user};
use crate::support::process::vorgang;

const PASSWORD: &str = "demo-passwort-fuer-tests";

/// Monday, 23 November 2026, 10:30 in Germany: the demo's „now“ in these tests.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).unwrap()
}

fn today() -> NaiveDate {
    vorgang::service::clock::at(now()).today
}

/// A migrated database with the workflows deployed, and its API state (documents in `dir`).
struct Setup {
    db: TestDatabase,
    pool: vorgang::db::Database,
    api: actix_web::web::Data<vorgang::web::api::ApiState>,
    _dir: tempfile::TempDir,
}

fn setup(backend: crate::support::Backend) -> Setup {
    let db = TestDatabase::migrated(backend);
    let pool = db.pool(2);
    let dir = tempfile::tempdir().unwrap();
    let api = crate::support::api::state(&pool, dir.path());
    Setup {
        db,
        pool,
        api,
        _dir: dir,
    }
}

impl Setup {
    fn load(&self, at: DateTime<Utc>) -> Result<DemoSummary, ServiceError> {
        let mut conn = self.pool.get().unwrap();
        demo::load(
            &mut conn,
            &self.api.case_context(),
            &self.api.documents,
            &cheap_passwords(),
            PASSWORD,
            at,
        )
    }

    fn conn(&self) -> DbConnection {
        self.db.connection()
    }

    /// Files in the document store.
    fn blobs(&self) -> BTreeSet<String> {
        fn walk(dir: &std::path::Path, out: &mut BTreeSet<String>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.insert(path.file_name().unwrap().to_string_lossy().into_owned());
                }
            }
        }
        let mut out = BTreeSet::new();
        walk(self.api.documents.root(), &mut out);
        out
    }
}

/// Row counts of every table the demo writes to.
fn counts(conn: &mut DbConnection) -> Vec<(&'static str, i64)> {
    vec![
        ("users", users::table.count().get_result(conn).unwrap()),
        (
            "user_roles",
            user_roles::table.count().get_result(conn).unwrap(),
        ),
        (
            "organisations",
            organisations::table.count().get_result(conn).unwrap(),
        ),
        (
            "organisation_contacts",
            organisation_contacts::table
                .count()
                .get_result(conn)
                .unwrap(),
        ),
        ("cases", cases::table.count().get_result(conn).unwrap()),
        (
            "case_events",
            case_events::table.count().get_result(conn).unwrap(),
        ),
        ("timers", timers::table.count().get_result(conn).unwrap()),
        (
            "follow_ups",
            vorgang::db::schema::follow_ups::table
                .count()
                .get_result(conn)
                .unwrap(),
        ),
        (
            "invitations",
            invitations::table.count().get_result(conn).unwrap(),
        ),
        (
            "partner_links",
            partner_links::table.count().get_result(conn).unwrap(),
        ),
        ("answers", answers::table.count().get_result(conn).unwrap()),
        (
            "extension_requests",
            vorgang::db::schema::extension_requests::table
                .count()
                .get_result(conn)
                .unwrap(),
        ),
        (
            "documents",
            documents::table.count().get_result(conn).unwrap(),
        ),
        ("outbox", outbox::table.count().get_result(conn).unwrap()),
        (
            "demo_records",
            demo_records::table.count().get_result(conn).unwrap(),
        ),
    ]
}

/// Addresses and head of an organisation.
fn addresses(conn: &mut DbConnection, key: &str) -> (Option<String>, Option<String>, i64) {
    let organisation = Organisation::find_by_key(conn, key).unwrap().unwrap();
    let contacts = organisation_contacts::table
        .filter(organisation_contacts::organisation_id.eq(organisation.id))
        .count()
        .get_result(conn)
        .unwrap();
    (organisation.mailbox, organisation.head_email, contacts)
}

fn soest_coordinator() -> Actor {
    Actor {
        id: "k@kreis-soest.de".into(),
        roles: vec!["koordination".into()],
    }
}

/// A real (non-demo) case of the Kreis Soest in its Beteiligung, with a document; returns its id.
fn real_case(setup: &Setup) -> i64 {
    let mut conn = setup.pool.get().unwrap();
    create_user(
        &mut conn,
        "k@kreis-soest.de",
        "05974",
        &[Role::Koordination],
        None,
    );
    let soest = Organisation::find_by_key(&mut conn, "05974")
        .unwrap()
        .unwrap();
    let ctx = setup.api.case_context();
    let actor = soest_coordinator();
    let clock = vorgang::service::clock::at(now() - chrono::TimeDelta::days(3));
    let case = commands::start_case(
        &mut conn,
        &ctx,
        "ki-antrag",
        &soest,
        crate::beteiligung::application(),
        &actor,
        &clock,
    )
    .unwrap();
    let blob = setup
        .api
        .documents
        .store(&demo::pdf::one_page("Konzept Soest", &["Echte Daten."]))
        .unwrap();
    vorgang::documents::insert(
        &mut conn,
        vorgang::documents::NewDocument::for_blob(
            case.row.id.0,
            &blob,
            "konzept.pdf",
            &actor.id,
            true,
        ),
    )
    .unwrap();
    let allow = |_| Ok(());
    commands::take_action(
        &mut conn,
        &ctx,
        case.row.id,
        case.row.version,
        "beteiligung_starten",
        None,
        None,
        Invocation {
            actor: &actor,
            clock: &clock,
            check: &allow,
        },
    )
    .unwrap();
    case.row.id.0
}

/// id, workflow, current steps, status, outcome, submitted at.
type CaseLine = (
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<chrono::NaiveDateTime>,
);

/// Everything stored for one case: journal, timers, invitations, mails, documents.
fn case_rows(conn: &mut DbConnection, id: i64) -> (i64, i64, i64, i64, i64) {
    (
        case_events::table
            .filter(case_events::case_id.eq(id))
            .count()
            .get_result(conn)
            .unwrap(),
        timers::table
            .filter(timers::case_id.eq(id))
            .count()
            .get_result(conn)
            .unwrap(),
        invitations::table
            .filter(invitations::case_id.eq(id))
            .count()
            .get_result(conn)
            .unwrap(),
        outbox::table
            .filter(outbox::case_id.eq(id))
            .count()
            .get_result(conn)
            .unwrap(),
        documents::table
            .filter(documents::case_id.eq(id))
            .count()
            .get_result(conn)
            .unwrap(),
    )
}

both_backends! {
    fn loading_builds_every_stage_through_the_real_commands(backend) {
        let setup = setup(backend);
        let summary = setup.load(now()).unwrap();
        let mut conn = setup.conn();

        // Users: five, at .demo addresses, with their roles and the given password.
        let emails: Vec<&str> = summary.users.iter().map(|u| u.email.as_str()).collect();
        assert_eq!(
            emails,
            [
                "koordination@kreis-coesfeld.demo",
                "sachbearbeitung@kreis-coesfeld.demo",
                "lesen@kreis-coesfeld.demo",
                "koordination@bielefeld.demo",
                "bewilligung@kfi.demo"
            ]
        );
        let roles: Vec<(String, String)> = users::table
            .inner_join(user_roles::table)
            .filter(users::email.like("%.demo"))
            .order(users::email)
            .select((users::email, user_roles::role))
            .load(&mut conn)
            .unwrap();
        assert_eq!(roles.len(), 5);
        assert!(roles.contains(&("bewilligung@kfi.demo".into(), "bewilligung".into())));
        let hash: Option<String> = users::table
            .filter(users::email.eq("lesen@kreis-coesfeld.demo"))
            .select(users::password_hash)
            .first(&mut conn)
            .unwrap();
        assert!(cheap_passwords().verify(hash.as_deref(), PASSWORD));
        assert!(summary.users.iter().all(|u| u.name.ends_with("(Demo)")));

        // Every journal reads in order of time, as if the demo had happened day by day.
        let entries: Vec<(i64, i32, chrono::NaiveDateTime)> = case_events::table
            .order((case_events::case_id, case_events::seq))
            .select((case_events::case_id, case_events::seq, case_events::at))
            .load(&mut conn)
            .unwrap();
        assert!(!entries.is_empty());
        for pair in entries.windows(2) {
            if pair[0].0 == pair[1].0 {
                assert!(pair[0].2 <= pair[1].2, "case {}: entry {} at {} after entry {} at {}", pair[0].0, pair[1].1, pair[1].2, pair[0].1, pair[0].2);
            }
        }

        // The case under review carries two Aktenvermerke of its coordinator, the second one
        // internal to the Kreis.
        let notes: Vec<(String, String)> = case_events::table
            .filter(case_events::kind.eq("note_added"))
            .order(case_events::id)
            .select((case_events::actor, case_events::payload))
            .load(&mut conn)
            .unwrap();
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes.iter().all(|(actor, _)| actor.starts_with("koordination@")), "{notes:?}");
        assert!(notes[0].1.contains("Telefonat mit dem Kompetenzzentrum"), "{notes:?}");
        let coesfeld = vorgang::db::models::Organisation::find_by_key(&mut conn, "05558").unwrap().unwrap();
        let internal: serde_json::Value = serde_json::from_str(&notes[1].1).unwrap();
        assert_eq!(internal["internal_to"], coesfeld.id.0, "{notes:?}");
        // Every document's arrival is in its case's journal, as an upload's is; one of them is
        // a working paper internal to the Kreis.
        let documents: Vec<(i64, i64, Option<i64>)> = vorgang::db::schema::documents::table
            .order(vorgang::db::schema::documents::id)
            .select((
                vorgang::db::schema::documents::id,
                vorgang::db::schema::documents::case_id,
                vorgang::db::schema::documents::internal_to,
            ))
            .load(&mut conn)
            .unwrap();
        let uploads: Vec<(i64, String)> = case_events::table
            .filter(case_events::kind.eq("document_uploaded"))
            .select((case_events::case_id, case_events::payload))
            .load(&mut conn)
            .unwrap();
        for (id, case, internal_to) in &documents {
            let entries: Vec<serde_json::Value> = uploads
                .iter()
                .filter(|(c, _)| c == case)
                .map(|(_, payload)| serde_json::from_str(payload).unwrap())
                .filter(|payload: &serde_json::Value| payload["document"] == *id)
                .collect();
            assert_eq!(entries.len(), 1, "document {id}: {entries:?}");
            assert_eq!(entries[0]["internal_to"].as_i64(), *internal_to, "document {id}");
        }
        let internal: Vec<_> = documents.iter().filter(|(_, _, owner)| owner.is_some()).collect();
        assert_eq!(internal.len(), 1, "{documents:?}");
        assert_eq!(internal[0].2, Some(coesfeld.id.0));
        // And its coordinator a Wiedervorlage for the coming days; her colleague, on leave, one
        // for today.
        let follow_ups: i64 = vorgang::db::schema::follow_ups::table.count().get_result(&mut conn).unwrap();
        assert_eq!(follow_ups, 2);

        // The colleague is away for a week and more, with the coordinator standing in: she sees
        // his Wiedervorlage of today, on the case at the Kreistag he is responsible for.
        let anna = vorgang::db::models::User::find_by_email(&mut conn, "koordination@kreis-coesfeld.demo").unwrap().unwrap();
        let jonas = vorgang::db::models::User::find_by_email(&mut conn, "sachbearbeitung@kreis-coesfeld.demo").unwrap().unwrap();
        let away = vorgang::service::absences::current(&mut conn, jonas.id, today()).unwrap().unwrap();
        assert_eq!((away.deputy, away.until), (anna.id, today() + chrono::Days::new(8)));
        let notes: Vec<(&str, Option<&str>)> = summary.users.iter().map(|u| (u.email.as_str(), u.note.as_deref())).collect();
        assert_eq!(notes[1], ("sachbearbeitung@kreis-coesfeld.demo", Some("abwesend bis 01.12.2026, vertreten durch Anna Berger (Demo)")));
        assert!(notes.iter().enumerate().all(|(i, (_, note))| i == 1 || note.is_none()), "{notes:?}");
        let standing_in = vorgang::service::absences::standing_in_for(&mut conn, anna.id, today()).unwrap();
        assert_eq!(standing_in.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["Jonas Keller (Demo)"]);
        let deputy = vorgang::auth::Principal::load(&mut conn, anna.id).unwrap().unwrap();
        let due = vorgang::service::follow_ups::due_standing_in(&mut conn, &deputy, &standing_in, today()).unwrap();
        assert_eq!(due.len(), 1, "{due:?}");
        assert_eq!(due[0].1.due, today());
        let kreistag_case: i64 = vorgang::db::schema::case_assignments::table
            .filter(vorgang::db::schema::case_assignments::user_id.eq(jonas.id.0))
            .select(vorgang::db::schema::case_assignments::case_id)
            .first(&mut conn)
            .unwrap();
        assert_eq!(due[0].1.case_id, CaseId(kreistag_case));
        let steps: String = cases::table.find(kreistag_case).select(cases::current_steps).first(&mut conn).unwrap();
        assert_eq!(steps, ",kreistag,");

        // Partner bodies with .demo mailboxes; the offices have a mailbox and a head.
        assert_eq!(summary.partners.len(), 11);
        let partners: Vec<(String, String, Option<String>)> = organisations::table
            .filter(organisations::key.like("DEMO-%"))
            .select((organisations::key, organisations::name, organisations::mailbox))
            .load(&mut conn)
            .unwrap();
        assert_eq!(partners.len(), 11);
        for (key, name, mailbox) in &partners {
            assert!(name.ends_with("(Demo)"), "{key}: {name}");
            assert!(mailbox.as_deref().is_some_and(|m| m.ends_with(".demo")), "{key}");
        }
        for key in ["05558", "05711"] {
            let (mailbox, head, _) = addresses(&mut conn, key);
            assert!(mailbox.unwrap().ends_with(".demo"));
            assert!(head.unwrap().ends_with(".demo"));
        }

        // Cases per workflow and stage.
        let rows: Vec<CaseLine> = cases::table
            .order(cases::id)
            .select((cases::id, cases::workflow_key, cases::current_steps, cases::status, cases::outcome, cases::submitted_at))
            .load(&mut conn)
            .unwrap();
        assert_eq!(summary.cases.len(), 6);
        assert_eq!(rows.len(), 6);
        assert_eq!(rows.iter().filter(|r| r.1 == "ki-antrag").count(), 5);
        assert_eq!(rows.iter().filter(|r| r.1 == "ki-betrieb").count(), 1);
        let at = |step: &str| rows.iter().filter(|r| r.1 == "ki-antrag" && r.2 == format!(",{step},")).count();
        assert_eq!(at("beteiligung"), 1, "{rows:?}");
        assert_eq!(at("kreistag"), 1, "{rows:?}");
        assert_eq!(at("bewilligung"), 1, "{rows:?}");
        assert_eq!(at("entwurf"), 1, "{rows:?}");
        let approved: Vec<_> = rows.iter().filter(|r| r.4.as_deref() == Some("bewilligt")).collect();
        assert_eq!(approved.len(), 1);
        assert_eq!(approved[0].3, "completed");
        let betrieb = rows.iter().find(|r| r.1 == "ki-betrieb").unwrap();
        assert_eq!(betrieb.3, "running");
        assert_eq!(betrieb.2, ",konzept_aktualisiert,schwerpunkte_laufzeit,");
        let bewilligung = rows.iter().find(|r| r.2 == ",bewilligung,").unwrap();
        assert!(bewilligung.5.is_some(), "submitted to the Bewilligungsbehörde");
        // The Aktenzeichen follow the order the cases began.
        let numbers: Vec<&str> = summary.cases.iter().map(|c| c.aktenzeichen.as_str()).collect();
        assert!(numbers[0].starts_with("KI-05558-2025-"), "{numbers:?}");
        assert!(numbers.iter().any(|n| n.starts_with("KIB-05558-")), "{numbers:?}");
        assert!(numbers.iter().any(|n| n.starts_with("KI-05711-2026-")), "{numbers:?}");

        // The consultation in progress: answers in, one with Bedenken and a Stellungnahme with an
        // attached PDF, the others reminded, the deadline ahead; the partner page takes answers.
        let open = rows.iter().find(|r| r.2 == ",beteiligung,").unwrap().0;
        let inv: Vec<(i64, String, Option<String>, NaiveDate, i32)> = invitations::table
            .filter(invitations::case_id.eq(open))
            .select((invitations::id, invitations::status, invitations::votum, invitations::deadline, invitations::reminders_sent))
            .load(&mut conn)
            .unwrap();
        // Six partners, and a seventh invited by mistake and withdrawn the same morning.
        assert_eq!(inv.len(), 7);
        assert_eq!(inv.iter().filter(|i| i.1 == "answered").count(), 4);
        assert_eq!(inv.iter().filter(|i| i.1 == "withdrawn").count(), 1, "{inv:?}");
        let journal: Vec<String> = vorgang::db::schema::case_events::table
            .filter(vorgang::db::schema::case_events::case_id.eq(open))
            .select(vorgang::db::schema::case_events::kind)
            .load(&mut conn)
            .unwrap();
        for kind in ["participant_added", "not_responsible_reported", "participant_withdrawn"] {
            assert!(journal.iter().any(|k| k == kind), "{kind}: {journal:?}");
        }
        let inv: Vec<_> = inv.into_iter().filter(|i| i.1 != "withdrawn").collect();
        assert!(inv.iter().all(|i| i.3 > today()), "deadline ahead: {inv:?}");
        assert!(inv.iter().filter(|i| i.1 == "open").all(|i| i.4 == 1), "open ones reminded: {inv:?}");
        let concerns: Vec<(String, Option<i64>)> = answers::table
            .inner_join(invitations::table)
            .filter(invitations::case_id.eq(open))
            .filter(answers::votum.eq("bedenken"))
            .select((answers::text, answers::document_id))
            .load(&mut conn)
            .unwrap();
        assert_eq!(concerns.len(), 1);
        assert!(concerns[0].0.contains("Zeitplan"), "{}", concerns[0].0);
        assert!(concerns[0].1.is_some(), "the Stellungnahme has an attachment");
        let waiting = inv.iter().find(|i| i.1 == "open").unwrap().0;
        let page = vorgang::service::partner::page(
            &mut conn,
            &setup.api.case_context(),
            waiting,
            &vorgang::service::clock::at(now()),
        )
        .unwrap();
        assert!(page.kann_antworten && !page.verspaetet);
        // The Stadt Dülmen asked for more time after its reminder; the request waits for the
        // office (its mail went out with the others).
        let asking: Vec<(i64, NaiveDate)> = vorgang::db::schema::extension_requests::table
            .inner_join(invitations::table)
            .filter(invitations::case_id.eq(open))
            .select((invitations::id, vorgang::db::schema::extension_requests::requested_until))
            .load(&mut conn)
            .unwrap();
        assert_eq!(asking.len(), 1, "{asking:?}");
        let asked = inv.iter().find(|i| i.0 == asking[0].0).unwrap();
        assert!(asked.1 == "open" && asking[0].1 > asked.3, "{asked:?} {asking:?}");
        assert!(page.dokumente.iter().any(|d| d.filename == "Integrationskonzept_Kreis_Coesfeld.pdf"));
        // The data names documents and partner bodies instead of showing their ids and keys.
        let value = |label: &str| page.angaben.iter().find(|line| line.label == label).map(|line| line.value.clone()).unwrap_or_default();
        let konzept = value("Integrationskonzept");
        assert!(konzept.contains("Integrationskonzept_Kreis_Coesfeld.pdf (unter „Unterlagen“)"), "{konzept}");
        let personal = value("Personalausstattung");
        assert!(personal.contains("Auszug aus dem Stellenplan: liegt vor (für Beteiligte nicht freigegeben)"), "{personal}");
        let stellen = value("Zu beteiligende Stellen");
        assert!(stellen.contains("Schulamt für den Kreis Coesfeld (Demo)") && !stellen.contains("DEMO-COE"), "{stellen}");
        let note = &summary.cases.iter().find(|c| c.id == open).unwrap().note;
        assert!(note.contains("4 von 6") && note.contains("1 mit Bedenken"), "{note}");

        // Documents: generated PDFs, stored, some shared with partners.
        let docs: Vec<(String, String, bool)> = documents::table
            .select((documents::sha256, documents::content_type, documents::partner_visible))
            .load(&mut conn)
            .unwrap();
        assert_eq!(docs.len(), summary.documents);
        assert!(docs.len() >= 20, "{}", docs.len());
        assert!(docs.iter().any(|d| d.2));
        for (sha, content_type, _) in &docs {
            assert_eq!(content_type, "application/pdf");
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut setup.api.documents.open(sha).unwrap(), &mut bytes).unwrap();
            assert!(bytes.starts_with(b"%PDF-1.4"));
        }

        // Timers: what fell due has fired (reminders sent), the rest lies ahead with deadlines.
        let scheduled: Vec<(i64, String, NaiveDate, Option<NaiveDate>, String)> = timers::table
            .filter(timers::status.eq("scheduled"))
            .select((timers::case_id, timers::step, timers::due, timers::deadline, timers::kind))
            .load(&mut conn)
            .unwrap();
        assert_eq!(scheduled.len(), summary.timers_scheduled);
        assert!(scheduled.iter().all(|t| t.2 > today()), "nothing overdue: {scheduled:?}");
        let ahead: BTreeSet<i64> = scheduled.iter().filter(|t| t.3.is_some_and(|d| d > today())).map(|t| t.0).collect();
        assert!(ahead.len() >= 3, "deadlines ahead in the consultation, the Bewilligung and the operation: {scheduled:?}");
        let concept = scheduled.iter().find(|t| t.1 == "konzept_aktualisiert" && t.4 == "flow").unwrap();
        let concept_deadline = concept.3.unwrap();
        assert!(concept_deadline > today() + chrono::Days::new(14) && concept_deadline < today() + chrono::Days::new(35), "{concept_deadline}");
        let fired: Vec<(String, String)> = timers::table
            .filter(timers::status.eq("fired"))
            .select((timers::step, timers::kind))
            .load(&mut conn)
            .unwrap();
        assert_eq!(fired.len(), summary.timers_fired);
        assert!(fired.contains(&("beteiligung".into(), "reminder".into())), "{fired:?}");
        assert!(fired.contains(&("konzept_aktualisiert".into(), "reminder".into())), "{fired:?}");

        // Mails: genuine outbox rows, only ever to .demo addresses.
        let mails: Vec<(String, String)> = outbox::table
            .select((outbox::template, outbox::rendered))
            .load(&mut conn)
            .unwrap();
        assert_eq!(mails.len(), summary.mails);
        for template in ["beteiligung_einladung", "beteiligung_erinnerung", "beteiligung_bestaetigung",
                         "beteiligung_abgeschlossen", "antrag_eingegangen", "antrag_bewilligt", "frist_erinnerung",
                         "fristverlaengerung_erbeten", "nicht_zustaendig_gemeldet", "beteiligung_zurueckgenommen"] {
            assert!(mails.iter().any(|m| m.0 == template), "no {template} mail");
        }
        for (template, rendered) in &mails {
            let rendered: Value = serde_json::from_str(rendered).unwrap();
            let to = rendered["to"].as_array().unwrap();
            assert!(!to.is_empty());
            assert!(to.iter().all(|a| a.as_str().unwrap().ends_with(".demo")), "{template}: {to:?}");
        }

        // Every journal is intact, and each case's journal was written by the engine.
        let report = vorgang::journal::verify(&mut conn).unwrap();
        assert!(report.intact(), "{:?}", report.breaks);
        assert_eq!(report.journals, 6);
        assert!(demo::is_loaded(&mut conn).unwrap());

        // The Bielefeld draft is ready for its Beteiligung.
        let draft = rows.iter().find(|r| r.2 == ",entwurf,").unwrap().0;
        let coordinator = Actor { id: "koordination@bielefeld.demo".into(), roles: vec!["koordination".into()] };
        let clock = vorgang::service::clock::at(now());
        let allow = |_| Ok(());
        let version: i64 = cases::table.find(draft).select(cases::version).first(&mut conn).unwrap();
        let started = commands::take_action(&mut conn, &setup.api.case_context(), CaseId(draft), version,
            "beteiligung_starten", None, None, Invocation { actor: &coordinator, clock: &clock, check: &allow });
        assert!(started.is_ok(), "{started:?}");
    }
}

both_backends! {
    fn loading_twice_is_refused_and_changes_nothing(backend) {
        let setup = setup(backend);
        setup.load(now()).unwrap();
        let before = counts(&mut setup.conn());
        let blobs = setup.blobs();
        let error = setup.load(now()).unwrap_err();
        assert!(matches!(error, ServiceError::Conflict(_)), "{error:?}");
        assert!(error.to_string().starts_with("Die Demodaten sind bereits geladen."), "{error}");
        assert_eq!(counts(&mut setup.conn()), before);
        assert_eq!(setup.blobs(), blobs);
    }
}

both_backends! {
    fn removing_deletes_exactly_the_demo(backend) {
        let setup = setup(backend);
        let real = real_case(&setup);
        let mut conn = setup.conn();
        let real_rows = case_rows(&mut conn, real);
        let before = counts(&mut conn);
        let real_blobs = setup.blobs();
        assert_eq!(real_blobs.len(), 1);

        let summary = setup.load(now()).unwrap();
        // Every generated document is a file of its own.
        assert_eq!(setup.blobs().len(), 1 + summary.documents);
        // A visitor starts another application as the demo coordinator: it goes with the demo.
        {
            let mut conn = setup.pool.get().unwrap();
            let coesfeld = Organisation::find_by_key(&mut conn, "05558").unwrap().unwrap();
            let coordinator = Actor { id: "koordination@kreis-coesfeld.demo".into(), roles: vec!["koordination".into()] };
            commands::start_case(&mut conn, &setup.api.case_context(), "ki-antrag", &coesfeld,
                serde_json::json!({}), &coordinator, &vorgang::service::clock::now()).unwrap();
            // Absences naming a demo user, either way: they go with the demo user (written
            // directly, as the form offers only colleagues of the same Kreis).
            use vorgang::db::schema::absences;
            let demo_user = vorgang::db::models::User::find_by_email(&mut conn, "koordination@kreis-coesfeld.demo").unwrap().unwrap();
            let real_user = vorgang::db::models::User::find_by_email(&mut conn, "k@kreis-soest.de").unwrap().unwrap();
            for (away, deputy) in [(demo_user.id, real_user.id), (real_user.id, demo_user.id)] {
                diesel::insert_into(absences::table)
                    .values((absences::user_id.eq(away.0), absences::until.eq(today() + chrono::Days::new(3)), absences::deputy_id.eq(deputy.0), absences::set_at.eq(now().naive_utc())))
                    .execute(&mut conn)
                    .unwrap();
            }
        }

        let removed = demo::remove(&mut conn, &setup.api.documents).unwrap();
        assert_eq!(removed.cases, 7);
        assert_eq!(removed.users, 5);
        assert_eq!(removed.organisations, 11);
        assert_eq!(removed.offices, 2);
        assert!(removed.kept_organisations.is_empty());
        assert_eq!(removed.documents, summary.documents);
        assert_eq!(removed.blobs, summary.documents);

        // Exactly what was there before the demo is left, untouched.
        let absences: i64 = vorgang::db::schema::absences::table.count().get_result(&mut conn).unwrap();
        assert_eq!(absences, 0);
        assert_eq!(counts(&mut conn), before);
        assert_eq!(case_rows(&mut conn, real), real_rows);
        assert_eq!(setup.blobs(), real_blobs);
        let emails: i64 = users::table.filter(users::email.like("%.demo")).count().get_result(&mut conn).unwrap();
        assert_eq!(emails, 0);
        for key in ["05558", "05711"] {
            assert_eq!(addresses(&mut conn, key), (None, None, 0));
        }
        let report = vorgang::journal::verify(&mut conn).unwrap();
        assert!(report.intact(), "{:?}", report.breaks);
        assert_eq!(report.journals, 1);
        assert!(!demo::is_loaded(&mut conn).unwrap());

        // Nothing left to remove; the demo can be loaded again.
        let error = demo::remove(&mut conn, &setup.api.documents).unwrap_err();
        assert_eq!(error.to_string(), "Es sind keine Demodaten geladen; es gibt nichts zu entfernen.");
        setup.load(now()).unwrap();
    }
}

both_backends! {
    fn a_demo_partner_that_real_data_uses_is_kept(backend) {
        let setup = setup(backend);
        setup.load(now()).unwrap();
        // A real application of the Kreis Soest invites a demo partner body.
        let mut conn = setup.pool.get().unwrap();
        create_user(&mut conn, "k@kreis-soest.de", "05974", &[Role::Koordination], None);
        let soest = Organisation::find_by_key(&mut conn, "05974").unwrap().unwrap();
        let mut data = crate::beteiligung::application();
        data["beteiligte"] = serde_json::json!(["SCHULAMT-SO", "DEMO-COE-CARITAS"]);
        let actor = soest_coordinator();
        let clock = vorgang::service::clock::at(now());
        let ctx = setup.api.case_context();
        let case = commands::start_case(&mut conn, &ctx, "ki-antrag", &soest, data, &actor, &clock).unwrap();
        let allow = |_| Ok(());
        commands::take_action(&mut conn, &ctx, case.row.id, case.row.version, "beteiligung_starten", None, None,
            Invocation { actor: &actor, clock: &clock, check: &allow }).unwrap();
        let real_rows = case_rows(&mut conn, case.row.id.0);

        let removed = demo::remove(&mut conn, &setup.api.documents).unwrap();
        assert_eq!(removed.kept_organisations, ["Caritasverband für den Kreis Coesfeld (Demo)"]);
        assert_eq!(removed.organisations, 10);
        assert!(Organisation::find_by_key(&mut conn, "DEMO-COE-CARITAS").unwrap().is_some());
        assert_eq!(case_rows(&mut conn, case.row.id.0), real_rows);
        assert!(!demo::is_loaded(&mut conn).unwrap());
        assert!(vorgang::journal::verify(&mut conn).unwrap().intact());

        // Loading again names the organisation in the way.
        let error = setup.load(now()).unwrap_err().to_string();
        assert!(error.contains("DEMO-COE-CARITAS"), "{error}");
    }
}

both_backends! {
    fn loading_is_refused_where_demo_mails_would_reach_real_people(backend) {
        let setup = setup(backend);
        let mut conn = setup.conn();
        create_user(&mut conn, "pruefung@bezreg-arnsberg.nrw.de", "KFI", &[Role::Bewilligung], None);
        let before = counts(&mut conn);
        let error = setup.load(now()).unwrap_err().to_string();
        assert!(error.starts_with("Die Demodaten werden nicht geladen:"), "{error}");
        assert!(error.contains("pruefung@bezreg-arnsberg.nrw.de"), "{error}");
        assert_eq!(counts(&mut conn), before);
        assert!(setup.blobs().is_empty());
    }
}

/// Runs `vorgang` in `dir` on the database there, with the project's workflows.
fn run(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    let workflows = crate::support::partners::root().join("workflows");
    let output = vorgang()
        .args(args)
        .current_dir(dir)
        .env("VORGANG_DATA_DIR", dir.join("data"))
        .env("VORGANG_WORKFLOWS_DIR", workflows)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_command_loads_prints_the_logins_and_removes_again() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(dir.path(), &["demo"]);
    assert_eq!(code, Some(0), "{stderr}\n{stdout}");
    assert!(
        stdout.starts_with("Demodaten geladen: 6 Vorgänge, 5 Benutzer, 11 Partnerstellen"),
        "{stdout}"
    );
    // The colleague on leave, with who stands in for him, under his line.
    assert!(
        stdout
            .lines()
            .any(|l| l.trim_start().starts_with("abwesend bis ")
                && l.ends_with(", vertreten durch Anna Berger (Demo)")),
        "{stdout}"
    );
    for email in [
        "koordination@kreis-coesfeld.demo",
        "sachbearbeitung@kreis-coesfeld.demo",
        "lesen@kreis-coesfeld.demo",
        "koordination@bielefeld.demo",
        "bewilligung@kfi.demo",
    ] {
        assert!(stdout.contains(email), "{stdout}");
    }
    assert!(stdout.contains(".eml-Dateien nach"), "{stdout}");
    // The password is printed once and is what the users log in with.
    let password = stdout
        .lines()
        .find_map(|l| l.split("(wird nur jetzt angezeigt): ").nth(1))
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(password.len(), 19, "{password}");
    let url = vorgang::db::DatabaseUrl::Sqlite(dir.path().join("data/vorgang.db"));
    let mut conn = vorgang::db::ConnectionFactory::new(url).open().unwrap();
    let hash: Option<String> = users::table
        .filter(users::email.eq("bewilligung@kfi.demo"))
        .select(users::password_hash)
        .first(&mut conn)
        .unwrap();
    assert!(vorgang::auth::Passwords::new().verify(hash.as_deref(), &password));
    assert!(!stderr.contains(&password));

    let (code, _, stderr) = run(dir.path(), &["demo"]);
    assert_eq!(code, Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("vorgang: Die Demodaten sind bereits geladen."),
        "{stderr}"
    );

    let (code, stdout, stderr) = run(dir.path(), &["audit", "verify"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");

    let (code, stdout, stderr) = run(dir.path(), &["demo", "--remove"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.starts_with("Demodaten entfernt: 6 Vorgänge"),
        "{stdout}"
    );
    let (code, _, stderr) = run(dir.path(), &["demo", "--remove"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr.trim(),
        "vorgang: Es sind keine Demodaten geladen; es gibt nichts zu entfernen."
    );
    let (code, _, stderr) = run(dir.path(), &["audit", "verify"]);
    assert_eq!(code, Some(0), "{stderr}");
}

/// Whatever day the demo is loaded on (weekends, holidays, the change to summer time), every
/// stage is there and nothing is left overdue.
#[test]
fn the_demo_fits_any_day() {
    for at in [
        Utc.with_ymd_and_hms(2027, 3, 28, 6, 0, 0).unwrap(), // Sunday, summer time begins
        Utc.with_ymd_and_hms(2027, 1, 1, 11, 0, 0).unwrap(), // Neujahr
        Utc.with_ymd_and_hms(2026, 4, 6, 16, 0, 0).unwrap(), // Ostermontag
        Utc.with_ymd_and_hms(2026, 8, 31, 23, 30, 0).unwrap(), // just after midnight in Germany
    ] {
        let setup = setup(crate::support::Backend::Sqlite);
        let summary = setup.load(at).unwrap_or_else(|e| panic!("{at}: {e:?}"));
        assert_eq!(summary.cases.len(), 6, "{at}");
        let day = vorgang::service::clock::at(at).today;
        let mut conn = setup.conn();
        let overdue: i64 = timers::table
            .filter(timers::status.eq("scheduled"))
            .filter(timers::kind.eq("flow"))
            .filter(timers::due.le(day))
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(overdue, 0, "{at}");
        let steps: BTreeSet<String> = cases::table
            .select(cases::current_steps)
            .load(&mut conn)
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(steps.len(), 6, "{at}: {steps:?}");
    }
}
