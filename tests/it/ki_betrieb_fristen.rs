//! The KI deadlines end to end, with the clock under test control: a `ki-betrieb` case walked
//! day by day from the Arbeitsaufnahme through more than two years, the timer poller running
//! just after midnight and the `reminders` job at every time its default cron schedule names
//! (working days, 07:00 in Germany). Every mail is checked for its day, template and recipients.
//!
//! The Arbeitsaufnahme on Friday 15 October 2027 makes the six-month concept deadline end on
//! Good Friday, 14 April 2028 (Beginnfrist, § 187 Abs. 2, § 188 Abs. 2 BGB); § 193 BGB moves it
//! over Easter to Tuesday 18 April 2028.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use vorgang::db::models::{CaseId, Organisation, Role};
use vorgang::db::schema::{invitations, organisations, outbox};
use vorgang::documents::{NewDocument, insert};
use vorgang::engine::instance::Votum;
use vorgang::engine::{Actor, TimerKind};
use vorgang::scheduler::jobs::{JobContext, JobName, Jobs, execute};
use vorgang::service::cases::{self, CaseContext, Invocation};
use vorgang::service::partner::{self, PartnerAnswer};

use crate::support::TestDatabase;

const ZONE: chrono_tz::Tz = chrono_tz::Europe::Berlin;

const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// `hh:mm` on `date` in Germany.
fn at(date: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    ZONE.from_local_datetime(&date.and_hms_opt(hour, minute, 0).unwrap())
        .single()
        .unwrap()
        .to_utc()
}

fn clock(date: NaiveDate, hour: u32) -> vorgang::engine::Clock {
    vorgang::service::clock::at(at(date, hour, 0))
}

/// An action the walk takes on its day: who, which action, with which data.
type Planned<'a> = (&'a Actor, &'a str, Option<Value>);

/// One mail as the test compares it: day (in Germany), template, sorted recipients.
type Sent = (NaiveDate, String, Vec<String>);

fn mails(conn: &mut vorgang::db::DbConnection) -> Vec<Sent> {
    let rows: Vec<(chrono::NaiveDateTime, String, String)> = outbox::table
        .order(outbox::id)
        .select((outbox::created_at, outbox::template, outbox::rendered))
        .load(conn)
        .unwrap();
    rows.into_iter()
        .map(|(created, template, rendered)| {
            let rendered: Value = serde_json::from_str(&rendered).unwrap();
            let mut to: Vec<String> = rendered["to"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect();
            to.sort();
            let local = Utc.from_utc_datetime(&created).with_timezone(&ZONE);
            (local.date_naive(), template, to)
        })
        .collect()
}

fn sent(date: &str, template: &str, to: &[&str]) -> Sent {
    let mut to: Vec<String> = to.iter().map(|s| s.to_string()).collect();
    to.sort();
    (day(date), template.to_string(), to)
}

const KOORDINATION: &str = "ki@kreis-coesfeld.test";
const LEITUNG: &str = "leitung@kreis-coesfeld.test";
const BEWILLIGUNG: &str = "kfi@bezreg-arnsberg.test";
const SCHULAMT: &str = "schulamt@kreis-coesfeld.test";
const JUGENDAMT: &str = "jugendamt@kreis-coesfeld.test";

struct Walk<'a> {
    conn: &'a mut vorgang::db::DbConnection,
    ctx: CaseContext<'a>,
    jobs: Jobs,
    case: CaseId,
}

impl Walk<'_> {
    fn version(&mut self) -> i64 {
        cases::load(self.conn, self.ctx.registry, self.case)
            .unwrap()
            .row
            .version
    }

    fn act(&mut self, on: NaiveDate, actor: &Actor, action: &str, data: Option<Value>) {
        let version = self.version();
        let allow = |_| Ok(());
        let clock = clock(on, 10);
        let call = Invocation {
            actor,
            clock: &clock,
            check: &allow,
        };
        cases::take_action(
            self.conn, &self.ctx, self.case, version, action, None, data, call,
        )
        .unwrap_or_else(|e| panic!("{action} on {on}: {e}"));
    }

    fn steps(&mut self) -> Vec<String> {
        let loaded = cases::load(self.conn, self.ctx.registry, self.case).unwrap();
        let mut steps: Vec<String> = loaded
            .instance
            .active_steps()
            .map(|t| t.step.clone())
            .collect();
        steps.sort();
        steps
    }

    /// One day as the server lives it: the poller just after midnight, then the reminders job
    /// if its schedule names 07:00 of this day.
    fn live(&mut self, date: NaiveDate) {
        let stop = || false;
        let round = vorgang::scheduler::timers::run_due(
            self.conn,
            &self.ctx,
            "poller",
            TimerKind::Flow,
            &clock(date, 0),
            Duration::minutes(5),
            &stop,
        )
        .unwrap();
        assert_eq!(round.failed, 0, "{date}");
        let schedule = &self.jobs.get(JobName::Reminders).unwrap().schedule;
        let seven = at(date, 7, 0);
        if schedule
            .next_after(seven - Duration::seconds(1))
            .map(|t| t.to_utc())
            == Some(seven)
        {
            let job = JobContext {
                case: CaseContext {
                    registry: self.ctx.registry,
                    pattern: self.ctx.pattern,
                    mail: self.ctx.mail,
                },
                jobs: &self.jobs,
                owner: "jobs",
                timer_lease: Duration::minutes(5),
                stop: &stop,
            };
            let counts = execute(self.conn, &job, JobName::Reminders, seven).unwrap();
            assert_eq!(
                counts.get("failed").and_then(Value::as_u64).unwrap_or(0),
                0,
                "{date}: {counts:?}"
            );
        }
    }
}

both_backends! {
    fn a_ki_betrieb_case_gets_exactly_its_reminders_on_exactly_their_days(backend) {
        let db = TestDatabase::migrated(backend);
        let pool = db.pool(2);
        let dir = tempfile::tempdir().unwrap();
        let api = crate::support::api::state(&pool, dir.path());
        let mut conn = pool.get().unwrap();

        // The office of the Kreis Coesfeld with its head, two partners, the authority.
        crate::support::auth::create_user(&mut conn, "k@kreis-coesfeld.test", "05558", &[Role::Koordination], None);
        crate::support::auth::create_user(&mut conn, BEWILLIGUNG, "KFI", &[Role::Bewilligung], None);
        diesel::update(organisations::table.filter(organisations::key.eq("05558")))
            .set((organisations::mailbox.eq(KOORDINATION), organisations::head_email.eq(LEITUNG)))
            .execute(&mut conn)
            .unwrap();
        crate::support::partners::add_partner(&mut conn, "SCHULAMT-COE", "Schulamt für den Kreis Coesfeld", Some(SCHULAMT));
        crate::support::partners::add_partner(&mut conn, "05558-JA", "Jugendamt des Kreises Coesfeld", Some(JUGENDAMT));
        let coesfeld = Organisation::find_by_key(&mut conn, "05558").unwrap().unwrap();
        let koordination = Actor { id: "k@kreis-coesfeld.test".into(), roles: vec!["koordination".into()] };
        let bewilligung = Actor { id: BEWILLIGUNG.into(), roles: vec!["bewilligung".into()] };

        let ctx = api.case_context();
        let start = day("2027-10-15");
        let case = cases::start_case(&mut conn, &ctx, "ki-betrieb", &coesfeld, json!({
            "arbeitsaufnahme": "2027-10-15",
            "konzept_art": "aktualisiert",
            "zentrum_name": "Kommunales Integrationszentrum Kreis Coesfeld",
            "partner": ["SCHULAMT-COE", "05558-JA"],
        }), &koordination, &clock(start, 9)).unwrap();
        let documents = api.documents.clone();
        let mut walk = Walk { conn: &mut conn, ctx, jobs: Jobs::default(), case: case.row.id };
        walk.act(start, &koordination, "bestaetigen", None);
        assert_eq!(walk.steps(), ["konzept_aktualisiert", "schwerpunkte_entwurf"]);

        // The two deadlines as the engine computed them.
        let deadlines: Vec<(String, Option<NaiveDate>, Option<String>)> = vorgang::db::schema::timers::table
            .filter(vorgang::db::schema::timers::case_id.eq(case.row.id))
            .filter(vorgang::db::schema::timers::status.eq("scheduled"))
            .order(vorgang::db::schema::timers::due)
            .select((vorgang::db::schema::timers::kind, vorgang::db::schema::timers::deadline, vorgang::db::schema::timers::deadline_reason))
            .load(walk.conn)
            .unwrap();
        assert_eq!(deadlines.len(), 3, "{deadlines:?}");
        assert!(deadlines.iter().all(|(_, end, _)| *end == Some(day("2028-04-18"))), "{deadlines:?}");
        let reason = deadlines[0].2.clone().unwrap();
        assert!(reason.contains("14.04.2028") && reason.contains("Karfreitag") && reason.contains("Ostermontag"), "{reason}");
        assert_eq!(deadlines.iter().map(|d| d.0.as_str()).collect::<Vec<_>>(), ["reminder", "reminder", "flow"]);

        let actions: BTreeMap<NaiveDate, Vec<Planned<'_>>> = BTreeMap::from([
            (day("2027-11-02"), vec![(&koordination, "beteiligung_starten", Some(json!({ "schwerpunkte": { "entwurf": "Sprachbildung, Übergang Schule–Beruf, Elternarbeit." } })))]),
            (day("2027-11-22"), vec![(&koordination, "festlegen", Some(json!({
                "schwerpunkte": { "entwurf": "Sprachbildung, Übergang Schule–Beruf, Elternarbeit.", "festlegung": "Sprachbildung und Elternarbeit." },
                "schwerpunkte_beginn": "2028-01-01",
            })))]),
            (day("2028-07-10"), vec![(&bewilligung, "zur_kenntnis_genommen", None)]),
        ]);
        let answers_on = day("2027-11-10");
        let submitted_on = day("2028-06-30");
        let end = day("2030-01-20");
        let mut date = start + Duration::days(1);
        while date <= end {
            walk.live(date);
            if date == answers_on {
                let invited: Vec<i64> = invitations::table.filter(invitations::case_id.eq(walk.case.0)).order(invitations::id).select(invitations::id).load(walk.conn).unwrap();
                assert_eq!(invited.len(), 2);
                for invitation in invited {
                    let answer = PartnerAnswer { votum: Votum::Zustimmung, text: "Einverstanden.".into(), name: "Frau Muster".into(), function: String::new() };
                    partner::answer(walk.conn, &walk.ctx, invitation, answer, None, &clock(date, 11)).unwrap();
                }
            }
            if date == submitted_on {
                // „Konzept vorgelegt“: the document, then the action; the monthly reminders stop.
                let blob = documents.store(PDF).unwrap();
                let document = insert(walk.conn, NewDocument::for_blob(walk.case.0, &blob, "konzept.pdf", "k@kreis-coesfeld.test", false)).unwrap();
                walk.act(date, &koordination, "vorgelegt", Some(json!({ "konzept_vorlage": { "datum": "2028-06-30", "dokument": document.id.to_string() } })));
            }
            if let Some(list) = actions.get(&date) {
                for (actor, action, data) in list {
                    walk.act(date, actor, action, data.clone());
                }
            }
            date += Duration::days(1);
        }

        let expected = vec![
            // The Schwerpunkte: partners invited, they answer, the office learns the result.
            sent("2027-11-02", "beteiligung_einladung", &[SCHULAMT]),
            sent("2027-11-02", "beteiligung_einladung", &[JUGENDAMT]),
            sent("2027-11-10", "beteiligung_bestaetigung", &[SCHULAMT]),
            sent("2027-11-10", "beteiligung_bestaetigung", &[JUGENDAMT]),
            sent("2027-11-10", "beteiligung_abgeschlossen", &[KOORDINATION]),
            // One month before 18 April 2028 is Saturday 18 March: Monday's run sends it.
            sent("2028-03-20", "frist_erinnerung", &["k@kreis-coesfeld.test"]),
            // One week before: Tuesday 11 April.
            sent("2028-04-11", "frist_erinnerung", &["k@kreis-coesfeld.test"]),
            // The day after the moved end: escalation to the head of the office.
            sent("2028-04-19", "frist_ueberschritten", &[LEITUNG]),
            // Four weeks later (end Wednesday 17 May): the Bewilligungsbehörde.
            sent("2028-05-18", "frist_ueberschritten", &[BEWILLIGUNG]),
            // Monthly reminders while overdue: 19 May, 19 June; the concept comes on 30 June.
            sent("2028-05-19", "frist_ueberschritten", &["k@kreis-coesfeld.test"]),
            sent("2028-06-19", "frist_ueberschritten", &["k@kreis-coesfeld.test"]),
            sent("2028-06-30", "konzept_vorgelegt", &[BEWILLIGUNG]),
            // The Schwerpunkte period 2028-01-01 to 2029-12-31: three months before its end is
            // Sunday 30 September 2029, so Monday 1 October.
            sent("2029-10-01", "frist_erinnerung", &["k@kreis-coesfeld.test"]),
            // The period is over on New Year's Day: the next one opens (flow timer, at once).
            sent("2030-01-01", "frist_ueberschritten", &["k@kreis-coesfeld.test"]),
        ];
        let actual = mails(walk.conn);
        assert_eq!(actual, expected);
        // The next two-year cycle is open; the concept branch is done.
        assert_eq!(walk.steps(), ["schwerpunkte_entwurf"]);
    }
}
