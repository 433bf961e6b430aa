//! The demo's story: who takes part, and how each case is played back through the commands.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use serde_json::Value;

use super::{DemoSummary, is_loaded};
use crate::db::DbConnection;
use crate::db::models::{CaseId, Organisation, Role};
use crate::db::schema::demo_records;
use crate::documents::DocumentStore;
use crate::engine::Actor;
use crate::engine::instance::Votum;
use crate::service::ServiceError;
use crate::service::cases::CaseContext;

mod playback;
mod setup;
mod stories;
mod summary;

/// The Kreis Coesfeld (AGS).
const COESFELD: &str = "05558";
/// The Stadt Bielefeld (AGS).
const BIELEFELD: &str = "05711";
/// The Bewilligungsbehörde (Kompetenzzentrum für Integration).
const KFI: &str = "KFI";

/// A partner body of the demo: key, name, kind, parent, mailbox, further contact.
struct PartnerSpec {
    key: &'static str,
    name: &'static str,
    kind: &'static str,
    parent: Option<&'static str>,
    mailbox: &'static str,
    contact: Option<(&'static str, &'static str)>,
}

const COESFELD_PARTNERS: [PartnerSpec; 6] = [
    PartnerSpec {
        key: "DEMO-COE-SCHULAMT",
        name: "Schulamt für den Kreis Coesfeld (Demo)",
        kind: "partner",
        parent: Some(COESFELD),
        mailbox: "schulamt@kreis-coesfeld.demo",
        contact: Some((
            "schulraetin@kreis-coesfeld.demo",
            "Frau Dr. Petra Lindemann (Demo)",
        )),
    },
    PartnerSpec {
        key: "DEMO-COE-SCHULVERWALTUNG",
        name: "Schulverwaltungsamt des Kreises Coesfeld (Demo)",
        kind: "partner",
        parent: Some(COESFELD),
        mailbox: "schulverwaltung@kreis-coesfeld.demo",
        contact: None,
    },
    PartnerSpec {
        key: "DEMO-COE-JUGENDAMT",
        name: "Kreisjugendamt Coesfeld (Demo)",
        kind: "partner",
        parent: Some(COESFELD),
        mailbox: "jugendamt@kreis-coesfeld.demo",
        contact: None,
    },
    PartnerSpec {
        key: "DEMO-COE-CARITAS",
        name: "Caritasverband für den Kreis Coesfeld (Demo)",
        kind: "partner",
        parent: Some(COESFELD),
        mailbox: "migration@caritas-coesfeld.demo",
        contact: Some((
            "fachdienst@caritas-coesfeld.demo",
            "Herr Jonas Kemper (Demo)",
        )),
    },
    PartnerSpec {
        key: "DEMO-COE-AWO",
        name: "AWO Unterbezirk Münsterland-Recklinghausen (Demo)",
        kind: "partner",
        parent: Some(COESFELD),
        mailbox: "integration@awo-msl-re.demo",
        contact: None,
    },
    PartnerSpec {
        key: "DEMO-COE-DUELMEN",
        name: "Stadt Dülmen (Demo)",
        kind: "gemeinde",
        parent: Some(COESFELD),
        mailbox: "integration@duelmen.demo",
        contact: None,
    },
];

const BIELEFELD_PARTNERS: [PartnerSpec; 5] = [
    PartnerSpec {
        key: "DEMO-BI-SCHULAMT",
        name: "Schulamt für die Stadt Bielefeld (Demo)",
        kind: "partner",
        parent: Some(BIELEFELD),
        mailbox: "schulamt@bielefeld.demo",
        contact: None,
    },
    PartnerSpec {
        key: "DEMO-BI-SCHULVERWALTUNG",
        name: "Amt für Schule der Stadt Bielefeld (Demo)",
        kind: "partner",
        parent: Some(BIELEFELD),
        mailbox: "amt-fuer-schule@bielefeld.demo",
        contact: None,
    },
    PartnerSpec {
        key: "DEMO-BI-JUGENDAMT",
        name: "Jugendamt der Stadt Bielefeld (Demo)",
        kind: "partner",
        parent: Some(BIELEFELD),
        mailbox: "jugendamt@bielefeld.demo",
        contact: None,
    },
    PartnerSpec {
        key: "DEMO-BI-INTEGRATIONSRAT",
        name: "Integrationsrat der Stadt Bielefeld (Demo)",
        kind: "partner",
        parent: Some(BIELEFELD),
        mailbox: "integrationsrat@bielefeld.demo",
        contact: Some((
            "vorsitz.integrationsrat@bielefeld.demo",
            "Frau Elif Demir (Demo)",
        )),
    },
    PartnerSpec {
        key: "DEMO-BI-AWO",
        name: "AWO Kreisverband Bielefeld (Demo)",
        kind: "partner",
        parent: Some(BIELEFELD),
        mailbox: "migration@awo-bielefeld.demo",
        contact: None,
    },
];

/// The offices: AGS, functional mailbox, head (Leitung).
const OFFICES: [(&str, &str, &str); 2] = [
    (
        COESFELD,
        "ki@kreis-coesfeld.demo",
        "fachbereichsleitung@kreis-coesfeld.demo",
    ),
    (
        BIELEFELD,
        "integration@bielefeld.demo",
        "amtsleitung-integration@bielefeld.demo",
    ),
];

/// The users: e-mail, display name, organisation, role.
pub(super) const USERS: [(&str, &str, &str, Role); 5] = [
    (
        "koordination@kreis-coesfeld.demo",
        "Anna Berger (Demo)",
        COESFELD,
        Role::Koordination,
    ),
    (
        "sachbearbeitung@kreis-coesfeld.demo",
        "Jonas Keller (Demo)",
        COESFELD,
        Role::Koordination,
    ),
    (
        "lesen@kreis-coesfeld.demo",
        "Tobias Hüls (Demo)",
        COESFELD,
        Role::Lesen,
    ),
    (
        "koordination@bielefeld.demo",
        "Murat Yılmaz (Demo)",
        BIELEFELD,
        Role::Koordination,
    ),
    (
        "bewilligung@kfi.demo",
        "Sabine Hoffmann (Demo)",
        KFI,
        Role::Bewilligung,
    ),
];

const COORDINATOR_COE: &str = "koordination@kreis-coesfeld.demo";
/// Anna Berger's colleague, responsible for the case at the Kreistag and away on leave, with
/// her standing in: the demo's Abwesenheitsvertretung.
const COLLEAGUE_COE: &str = "sachbearbeitung@kreis-coesfeld.demo";
/// Days from today to the last day of the colleague's leave.
const LEAVE_UNTIL: i64 = 8;
const COORDINATOR_BI: &str = "koordination@bielefeld.demo";
const APPROVER: &str = "bewilligung@kfi.demo";

/// The loading run: what it has created so far, and the time it plays back from.
pub(super) struct Loader<'a, 'c> {
    pub(super) conn: &'a mut DbConnection,
    pub(super) ctx: &'a CaseContext<'c>,
    pub(super) documents: &'a DocumentStore,
    pub(super) now: DateTime<Utc>,
    /// The day in Germany at `now`.
    pub(super) today: NaiveDate,
    /// The demo cases, in the order created, with what the summary says about them.
    pub(super) cases: Vec<(CaseId, Note)>,
    /// Blobs written to the store (not reused), to forget again if loading fails.
    pub(super) written: &'a mut Vec<String>,
}

/// What the summary says about a demo case: fixed, or read from the stored case at the end.
#[derive(Debug, Clone, Copy)]
pub(super) enum Note {
    Fixed(&'static str),
    /// Answers, reminders and deadline of its open consultation.
    Consultation,
    /// When it was submitted, when the missing decision escalates.
    Submitted,
    /// The concept deadline and its reminders.
    Operation,
}

/// An instant on a German calendar day at a German wall-clock time.
fn berlin(day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let local = day.and_hms_opt(hour, minute, 0).unwrap_or_default();
    chrono_tz::Europe::Berlin
        .from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        // Only a time in the hour skipped at the switch to summer time has no instant; the demo
        // uses none between 2 and 3 o'clock.
        .unwrap_or_else(|| Utc.from_utc_datetime(&local))
}

fn date(day: NaiveDate) -> Value {
    Value::String(day.format("%Y-%m-%d").to_string())
}

fn german(day: NaiveDate) -> String {
    day.format("%d.%m.%Y").to_string()
}

/// The first day of the month on or after `day`.
fn first_of_month_from(day: NaiveDate) -> NaiveDate {
    match day.with_day(1) {
        Some(first) if first == day => day,
        Some(first) => first.checked_add_months(Months::new(1)).unwrap_or(day),
        None => day,
    }
}

/// „Kreis Coesfeld“, „Stadt Bielefeld“: the seeded names of Gebietskörperschaften are bare.
fn display_name(organisation: &Organisation) -> String {
    use crate::db::models::OrganisationKind;
    match organisation.kind {
        OrganisationKind::Kreis if !organisation.name.contains("Kreis") => {
            format!("Kreis {}", organisation.name)
        }
        OrganisationKind::KreisfreieStadt | OrganisationKind::KreisfreieStadtInStaedteregion => {
            format!("Stadt {}", organisation.name)
        }
        _ => organisation.name.clone(),
    }
}

fn actor(email: &str, role: &str) -> Actor {
    Actor {
        id: email.to_string(),
        roles: vec![role.to_string()],
    }
}

/// Who reads a demo document besides the staff of its case.
#[derive(Debug, Clone, Copy)]
enum Audience {
    /// Also the consulted partners.
    Partners,
    /// The staff reading the case.
    Staff,
    /// Only the organisation with this key.
    Internal(&'static str),
}

/// A partner's answer in the demo.
struct Reply<'t> {
    partner: &'t str,
    /// Days relative to today.
    day: i64,
    votum: Votum,
    text: &'t str,
    name: &'t str,
    function: &'t str,
    /// File name, title and text of an attached PDF.
    attachment: Option<(&'t str, &'t str, &'t [&'t str])>,
}

impl Loader<'_, '_> {
    pub(super) fn run(&mut self, hashes: &[String]) -> Result<DemoSummary, ServiceError> {
        if is_loaded(self.conn)? {
            return Err(ServiceError::Conflict(
                "Die Demodaten sind bereits geladen. Mit „vorgang demo --remove“ entfernen Sie \
                 sie wieder; danach können sie erneut geladen werden."
                    .into(),
            ));
        }
        self.check_nobody_real_is_reached()?;
        for workflow in ["ki-antrag", "ki-betrieb"] {
            self.ctx.registry.latest(self.conn, workflow).map_err(|_| {
                ServiceError::Unprocessable(format!(
                    "Der Workflow „{workflow}“ ist nicht bereitgestellt; die Demodaten brauchen \
                     ki-antrag und ki-betrieb (Einstellung workflows_dir)."
                ))
            })?;
        }
        let at = self.now.naive_utc();
        let offices = self.set_office_addresses(at)?;
        let partners = self.register_partners(at)?;
        let users = self.create_users(hashes)?;

        // Oldest first, so the Aktenzeichen run in the order the cases began.
        self.approved_case()?;
        self.case_at_bewilligung()?;
        self.case_at_kreistag()?;
        self.case_in_consultation()?;
        self.bielefeld_draft()?;

        // Whatever fell due up to now has fired, as the server would have done it.
        let all: Vec<CaseId> = self.cases.iter().map(|(id, _)| *id).collect();
        self.advance(&all, self.now)?;
        self.summary(users, partners, offices)
    }

    fn day(&self, offset: i64) -> NaiveDate {
        if offset >= 0 {
            self.today + Days::new(offset as u64)
        } else {
            self.today - Days::new(offset.unsigned_abs())
        }
    }

    fn mark(&mut self, kind: &str, id: i64) -> Result<(), ServiceError> {
        diesel::insert_into(demo_records::table)
            .values((
                demo_records::kind.eq(kind),
                demo_records::record_id.eq(id),
                demo_records::created_at.eq(self.now.naive_utc()),
            ))
            .execute(self.conn)?;
        Ok(())
    }
}
