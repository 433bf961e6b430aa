//! The demo's story: who takes part, and how each case is played back through the commands.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, TimeZone, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};

use super::{DemoCase, DemoSummary, DemoUser, is_loaded, pdf};
use crate::db::DbConnection;
use crate::db::models::{CaseId, CaseRow, NewUser, Organisation, Role, User};
use crate::db::schema::{
    answers, cases, demo_records, documents, invitations, organisation_contacts, outbox, timers,
    user_roles, users,
};
use crate::documents::{self as store, DocumentStore, NewDocument};
use crate::engine::definition::Step;
use crate::engine::instance::Votum;
use crate::engine::{Actor, EngineError, LocalId};
use crate::service::ServiceError;
use crate::service::cases::{self as commands, CaseContext, Invocation, LoadedCase};
use crate::service::organisations::{
    self as registry, ContactInput, RegisterOrganisation, ReplaceAddresses,
};
use crate::service::partner::{self, PartnerAnswer};

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

    /// Demo mails go to the offices' addresses, to the users of the offices' roles and to every
    /// user of the Bewilligungsbehörde's role: none of them may be a real person. Nor may the
    /// demo's users or partner keys exist already.
    fn check_nobody_real_is_reached(&mut self) -> Result<(), ServiceError> {
        let refuse = |what: String| {
            ServiceError::Conflict(format!(
                "Die Demodaten werden nicht geladen: {what} Die Demo würde E-Mails dorthin \
                 schicken. Sie ist für eine leere Installation oder eine Testdatenbank gedacht."
            ))
        };
        for (key, _, _) in OFFICES {
            let office = self.organisation(key)?;
            let contacts: i64 = organisation_contacts::table
                .filter(organisation_contacts::organisation_id.eq(office.id))
                .count()
                .get_result(self.conn)?;
            if office.mailbox.is_some() || office.head_email.is_some() || contacts > 0 {
                return Err(refuse(format!(
                    "Für {} sind bereits E-Mail-Adressen hinterlegt.",
                    office.name
                )));
            }
            let office_users: Vec<String> = users::table
                .inner_join(user_roles::table)
                .filter(users::organisation_id.eq(office.id))
                .filter(user_roles::role.eq_any(["koordination", "lesen"]))
                .filter(users::active.eq(true))
                .select(users::email)
                .load(self.conn)?;
            if let Some(email) = office_users.first() {
                return Err(refuse(format!(
                    "{} hat bereits Benutzer (z. B. {email}).",
                    office.name
                )));
            }
        }
        let approvers: Vec<String> = users::table
            .inner_join(user_roles::table)
            .filter(user_roles::role.eq("bewilligung"))
            .filter(users::active.eq(true))
            .select(users::email)
            .load(self.conn)?;
        if let Some(email) = approvers.first() {
            return Err(refuse(format!(
                "Es gibt bereits Benutzer der Bewilligungsbehörde (z. B. {email}); sie erhalten \
                 die Mails zu allen eingereichten Anträgen."
            )));
        }
        for (email, ..) in USERS {
            if User::find_by_email(self.conn, email)?.is_some() {
                return Err(ServiceError::Conflict(format!(
                    "Die Demodaten werden nicht geladen: Ein Benutzer mit der E-Mail-Adresse \
                     „{email}“ existiert bereits."
                )));
            }
        }
        for spec in COESFELD_PARTNERS.iter().chain(&BIELEFELD_PARTNERS) {
            if let Some(existing) = Organisation::find_by_key(self.conn, spec.key)? {
                return Err(ServiceError::Conflict(format!(
                    "Die Demodaten werden nicht geladen: Die Organisation „{}“ ({}) gibt es \
                     bereits, etwa weil Daten außerhalb der Demo sie beim Entfernen früherer \
                     Demodaten noch verwendeten.",
                    existing.name, spec.key
                )));
            }
        }
        Ok(())
    }

    fn organisation(&mut self, key: &str) -> Result<Organisation, ServiceError> {
        Organisation::find_by_key(self.conn, key)?.ok_or_else(|| {
            ServiceError::NotFound(format!(
                "Die Organisation „{key}“ fehlt; ist die Datenbank vollständig migriert?"
            ))
        })
    }

    fn set_office_addresses(&mut self, at: NaiveDateTime) -> Result<Vec<String>, ServiceError> {
        let mut names = Vec::new();
        for (key, mailbox, head) in OFFICES {
            registry::replace_addresses(
                self.conn,
                key,
                ReplaceAddresses {
                    mailbox: Some(Some(mailbox.to_string())),
                    contacts: Some(Vec::new()),
                    head: Some(Some(head.to_string())),
                },
                None,
                at,
            )?;
            let office = self.organisation(key)?;
            self.mark("office", office.id.0)?;
            names.push(display_name(&office));
        }
        Ok(names)
    }

    fn register_partners(&mut self, at: NaiveDateTime) -> Result<Vec<String>, ServiceError> {
        let mut names = Vec::new();
        for spec in COESFELD_PARTNERS.iter().chain(&BIELEFELD_PARTNERS) {
            let view = registry::register(
                self.conn,
                RegisterOrganisation {
                    key: Some(spec.key.to_string()),
                    name: Some(spec.name.to_string()),
                    kind: Some(spec.kind.to_string()),
                    parent: spec.parent.map(str::to_string),
                    mailbox: Some(spec.mailbox.to_string()),
                    contacts: Some(
                        spec.contact
                            .iter()
                            .map(|(email, name)| ContactInput {
                                email: Some(email.to_string()),
                                name: Some(name.to_string()),
                            })
                            .collect(),
                    ),
                },
                None,
                at,
            )?;
            let organisation = self.organisation(spec.key)?;
            self.mark("organisation", organisation.id.0)?;
            names.push(view.name);
        }
        Ok(names)
    }

    fn create_users(&mut self, hashes: &[String]) -> Result<Vec<DemoUser>, ServiceError> {
        let mut created = Vec::new();
        for ((email, name, org, role), hash) in USERS.iter().zip(hashes) {
            let organisation = self.organisation(org)?;
            let mut new_user = NewUser::new(organisation.id, email, name);
            new_user.password_hash = Some(hash.clone());
            let user = new_user.create(self.conn, &[*role])?;
            self.mark("user", user.id.0)?;
            created.push(DemoUser {
                email: user.email,
                name: user.display_name,
                role: *role,
                organisation: display_name(&organisation),
                note: None,
            });
        }
        Ok(created)
    }

    // --- Playing back ------------------------------------------------------------------------

    /// Fires the scheduled timers of `family` that the server would have fired by `until`, in
    /// order: flow timers at the start of their day, reminders with the `reminders` job at 07:00
    /// on the first working day from their day on.
    fn advance(&mut self, family: &[CaseId], until: DateTime<Utc>) -> Result<(), ServiceError> {
        let ids: Vec<i64> = family.iter().map(|id| id.0).collect();
        let calendar = crate::frist::HolidayCalendar::for_land("NW")
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        loop {
            let pending: Vec<(i64, i64, i64, NaiveDate, String)> = timers::table
                .filter(timers::case_id.eq_any(&ids))
                .filter(timers::status.eq("scheduled"))
                .order((timers::due, timers::id))
                .select((
                    timers::id,
                    timers::case_id,
                    timers::local_id,
                    timers::due,
                    timers::kind,
                ))
                .load(self.conn)?;
            let mut next: Option<(DateTime<Utc>, i64, i64, i64)> = None;
            for (id, case, local, due, kind) in pending {
                let at = if kind == "reminder" {
                    let mut day = due;
                    while !calendar
                        .is_working_day(day)
                        .map_err(|e| ServiceError::Internal(e.to_string()))?
                    {
                        day = day + Days::new(1);
                    }
                    berlin(day, 7, 0)
                } else {
                    berlin(due, 0, 1)
                };
                if next.is_none_or(|(best, ..)| at < best) {
                    next = Some((at, id, case, local));
                }
            }
            let Some((at, id, case, local)) = next.filter(|(at, ..)| *at <= until) else {
                return Ok(());
            };
            match commands::fire_timer(
                self.conn,
                self.ctx,
                CaseId(case),
                LocalId(local as u64),
                &crate::service::clock::at(at),
            ) {
                Ok(_) => {}
                Err(ServiceError::Engine(
                    EngineError::UnknownTimer(_) | EngineError::NotRunning,
                )) => {
                    diesel::update(timers::table.find(id))
                        .set(timers::status.eq("cancelled"))
                        .execute(self.conn)?;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Starts a case at `at` for the office `key`; `note` says what the visitor finds there.
    fn start(
        &mut self,
        key: &str,
        coordinator: &Actor,
        data: Value,
        at: DateTime<Utc>,
        note: Note,
    ) -> Result<CaseId, ServiceError> {
        let applicant = self.organisation(key)?;
        let case = commands::start_case(
            self.conn,
            self.ctx,
            "ki-antrag",
            &applicant,
            data,
            coordinator,
            &crate::service::clock::at(at),
        )?;
        self.mark("case", case.row.id.0)?;
        self.cases.push((case.row.id, note));
        Ok(case.row.id)
    }

    fn version(&mut self, case: CaseId) -> Result<i64, ServiceError> {
        Ok(CaseRow::find(self.conn, case)?
            .ok_or_else(|| ServiceError::NotFound("Demo-Vorgang fehlt.".into()))?
            .version)
    }

    /// Takes `action` at `at`, after the timers due before then have fired.
    fn act(
        &mut self,
        case: CaseId,
        who: &Actor,
        at: DateTime<Utc>,
        action: &str,
        data: Option<Value>,
    ) -> Result<LoadedCase, ServiceError> {
        self.advance(&[case], at)?;
        let version = self.version(case)?;
        let clock = crate::service::clock::at(at);
        let allow = |_| Ok(());
        commands::take_action(
            self.conn,
            self.ctx,
            case,
            version,
            action,
            None,
            data,
            Invocation {
                actor: who,
                clock: &clock,
                check: &allow,
            },
        )
    }

    /// An Aktenvermerk in the journal of `case`, written by `who` at `at`; internal to the
    /// organisation with key `internal_to` if given.
    fn note(
        &mut self,
        case: CaseId,
        who: &Actor,
        at: DateTime<Utc>,
        text: &str,
        internal_to: Option<&str>,
    ) -> Result<(), ServiceError> {
        self.advance(&[case], at)?;
        let organisation = User::find_by_email(self.conn, &who.id)?
            .map(|user| user.organisation_id)
            .ok_or_else(|| ServiceError::Internal("Demo-Benutzer fehlt".into()))?;
        if let Some(key) = internal_to
            && self.organisation(key)?.id != organisation
        {
            return Err(ServiceError::Internal(format!(
                "Demo: ein interner Vermerk von {} für {key}",
                who.id
            )));
        }
        let author = crate::service::notes::Author {
            actor: who,
            organisation,
            internal: internal_to.is_some(),
        };
        let clock = crate::service::clock::at(at);
        let allow = |_| Ok(());
        crate::service::notes::add(self.conn, self.ctx.mail, case, text, author, &clock, &allow)?;
        Ok(())
    }

    fn change(
        &mut self,
        case: CaseId,
        who: &Actor,
        at: DateTime<Utc>,
        patch: Value,
    ) -> Result<(), ServiceError> {
        self.advance(&[case], at)?;
        let version = self.version(case)?;
        let clock = crate::service::clock::at(at);
        let allow = |_| Ok(());
        commands::change_data(
            self.conn,
            self.ctx,
            case,
            version,
            patch,
            Invocation {
                actor: who,
                clock: &clock,
                check: &allow,
            },
        )?;
        Ok(())
    }

    /// Stores a generated PDF about `case` as a blob (remembering it if it is new); the first
    /// line names the case's Aktenzeichen, as letters in a file do.
    fn blob(
        &mut self,
        case: CaseId,
        title: &str,
        text: &[&str],
    ) -> Result<store::StoredBlob, ServiceError> {
        let aktenzeichen: String = cases::table
            .find(case.0)
            .select(cases::aktenzeichen)
            .first(self.conn)?;
        let reference = format!("Aktenzeichen {aktenzeichen}");
        let mut paragraphs = vec![reference.as_str()];
        paragraphs.extend_from_slice(text);
        let bytes = pdf::one_page(title, &paragraphs);
        let blob = self
            .documents
            .store(&bytes)
            .map_err(|e| ServiceError::Internal(format!("Demo-Dokument „{title}“: {e}")))?;
        if blob.newly_written {
            self.written.push(blob.sha256.clone());
        }
        Ok(blob)
    }

    /// Uploads a generated PDF to the case as `who` at `at`, journaled as an upload is; returns
    /// its id as case data holds it.
    #[allow(clippy::too_many_arguments)]
    fn upload(
        &mut self,
        case: CaseId,
        who: &str,
        at: DateTime<Utc>,
        filename: &str,
        title: &str,
        text: &[&str],
        audience: Audience,
    ) -> Result<Value, ServiceError> {
        self.advance(&[case], at)?;
        let blob = self.blob(case, title, text)?;
        let internal_to = match audience {
            Audience::Internal(key) => Some(self.organisation(key)?.id),
            Audience::Partners | Audience::Staff => None,
        };
        let new = NewDocument::for_blob(
            case.0,
            &blob,
            filename,
            who,
            matches!(audience, Audience::Partners),
        )
        .internal_to(internal_to);
        let mut document = store::insert(self.conn, new)?;
        document.created_at = at.naive_utc();
        diesel::update(documents::table.find(document.id))
            .set(documents::created_at.eq(document.created_at))
            .execute(self.conn)?;
        crate::journal::append(
            self.conn,
            case.0,
            &[crate::service::documents::uploaded(&document)],
        )?;
        Ok(Value::String(document.id.to_string()))
    }

    /// A partner answers through its (open) invitation of `case`, at 10:00 on its day.
    fn reply(&mut self, case: CaseId, reply: &Reply<'_>) -> Result<(), ServiceError> {
        let at = berlin(self.day(reply.day), 10, 15);
        self.advance(&[case], at)?;
        let organisation = self.organisation(reply.partner)?;
        let invitation: i64 = invitations::table
            .filter(invitations::case_id.eq(case.0))
            .filter(invitations::organisation_id.eq(organisation.id))
            .filter(invitations::status.eq("open"))
            .filter(invitations::closed_at.is_null())
            .order(invitations::id.desc())
            .select(invitations::id)
            .first(self.conn)?;
        let attachment = match reply.attachment {
            Some((filename, title, text)) => {
                Some((self.blob(case, title, text)?, filename.to_string()))
            }
            None => None,
        };
        partner::answer(
            self.conn,
            self.ctx,
            invitation,
            PartnerAnswer {
                votum: reply.votum,
                text: reply.text.to_string(),
                name: reply.name.to_string(),
                function: reply.function.to_string(),
            },
            attachment,
            &crate::service::clock::at(at),
        )?;
        // The attachment was recorded now; date it to the answer.
        let attached: Option<i64> = answers::table
            .filter(answers::invitation_id.eq(invitation))
            .order(answers::version.desc())
            .select(answers::document_id)
            .first::<Option<i64>>(self.conn)?;
        if let Some(document) = attached {
            diesel::update(documents::table.find(document))
                .set(documents::created_at.eq(at.naive_utc()))
                .execute(self.conn)?;
        }
        Ok(())
    }

    /// Every Coesfeld partner answers (the four kinds of Votum, one amendment-free round).
    fn all_reply(&mut self, case: CaseId, first_day: i64) -> Result<(), ServiceError> {
        let replies = [
            Reply {
                partner: "DEMO-COE-SCHULAMT",
                day: first_day,
                votum: Votum::ZustimmungMitHinweisen,
                text: "Das Schulamt unterstützt den Antrag. Die beiden Lehrerstellen nach Nr. 4.2 \
                       des Erlasses sollten zum Schulhalbjahr besetzt werden; bitte stimmen Sie \
                       den Schwerpunkt „Seiteneinstieg in die Sekundarstufe I“ frühzeitig mit \
                       uns ab.",
                name: "Dr. Petra Lindemann (Demo)",
                function: "Schulrätin",
                attachment: None,
            },
            Reply {
                partner: "DEMO-COE-JUGENDAMT",
                day: first_day + 2,
                votum: Votum::Zustimmung,
                text: "Wir stimmen zu und beteiligen uns an der Arbeitsgruppe „Übergang Kita – \
                       Schule“.",
                name: "Markus Tenbrink (Demo)",
                function: "Leitung Kreisjugendamt",
                attachment: None,
            },
            Reply {
                partner: "DEMO-COE-AWO",
                day: first_day + 3,
                votum: Votum::Zustimmung,
                text: "",
                name: "Claudia Wessels (Demo)",
                function: "Fachbereichsleitung Migration",
                attachment: None,
            },
            Reply {
                partner: "DEMO-COE-SCHULVERWALTUNG",
                day: first_day + 6,
                votum: Votum::KeineStellungnahme,
                text: "",
                name: "Stefan Brüning (Demo)",
                function: "Sachgebietsleitung",
                attachment: None,
            },
            Reply {
                partner: "DEMO-COE-CARITAS",
                day: first_day + 9,
                votum: Votum::ZustimmungMitHinweisen,
                text: "Wir begrüßen das Vorhaben. Die Migrationsberatung für Erwachsene und der \
                       Jugendmigrationsdienst sollten im Netzwerk von Anfang an vertreten sein.",
                name: "Jonas Kemper (Demo)",
                function: "Fachdienstleitung Integration und Migration",
                attachment: None,
            },
            // After the reminder, a week before the deadline.
            Reply {
                partner: "DEMO-COE-DUELMEN",
                day: first_day + 23,
                votum: Votum::Zustimmung,
                text: "Die Stadt Dülmen unterstützt den Antrag des Kreises.",
                name: "Heike Schulze Althoff (Demo)",
                function: "Fachbereich Bildung, Familie und Soziales",
                attachment: None,
            },
        ];
        for reply in &replies {
            self.reply(case, reply)?;
        }
        Ok(())
    }

    // --- The cases ---------------------------------------------------------------------------

    /// The application of the Kreis Coesfeld.
    fn coesfeld_application(&self, arbeitsaufnahme: NaiveDate, konzept: NaiveDate) -> Value {
        json!({
            "antragsteller": {
                "dienststelle": "Fachbereich 50 – Bildung, Integration und Teilhabe",
                "ansprechperson": "Frau Anna Berger (Demo)",
                "telefon": "02541 18-5010",
                "email": "ki@kreis-coesfeld.demo"
            },
            "zentrum_name": "Kommunales Integrationszentrum Kreis Coesfeld",
            "oeffentliche_bezeichnung": "Kommunales Integrationszentrum Kreis Coesfeld – anerkannt durch das Land NRW als Kommunales Integrationszentrum nach § 8 Teilhabe- und Integrationsgesetz",
            "ausgangslage": "(Demodaten) Im Kreis Coesfeld leben rund 225.000 Menschen in elf Städten und Gemeinden; etwa 14 % haben eine Einwanderungsgeschichte. Seit 2022 sind rund 2.400 Menschen neu zugewandert, darunter viele Kinder und Jugendliche im schulpflichtigen Alter. Es gibt Sprachkurse, Migrationsberatung und ehrenamtliche Initiativen, aber keine Stelle, die Bildungs- und Integrationsangebote kreisweit koordiniert.",
            "standorte": [{
                "bezeichnung": "Kreishaus I",
                "anschrift": "Friedrich-Ebert-Straße 7, 48653 Coesfeld"
            }],
            "organisatorische_anbindung": "Das Zentrum wird als eigenes Sachgebiet im Fachbereich 50 eingerichtet und berichtet an die Fachbereichsleitung.",
            "arbeitsaufnahme": date(arbeitsaufnahme),
            "integrationskonzept": {
                "status": "beschlossen",
                "gremium": "kreistag",
                "beschluss_datum": date(konzept),
                "fortschreibung": "aktualisiert"
            },
            "personal": {
                "lehrkraefte_vze": 2,
                "fachkraefte_vze": 5.5,
                "verwaltungsassistenz_vze": 0.5,
                "teilzeit": [{
                    "gruppe": "fachkraft",
                    "bezeichnung": "Fachkraft Bildungskoordination",
                    "anteile": [0.5, 0.5]
                }]
            },
            "leitung": {
                "name": "Frau Dr. Miriam Overhage (Demo)",
                "gruppe": "fachkraft",
                "stellvertretung_name": "Herr Jan Roters (Demo)",
                "stellvertretung_gruppe": "lehrkraft"
            },
            "schwerpunkte": "1. Seiteneinstieg neu zugewanderter Kinder und Jugendlicher in Schule und Ausbildung. 2. Sprachbildung entlang der Bildungskette von der Kita bis zum Übergang in den Beruf. 3. Interkulturelle Öffnung der Verwaltung und Stärkung der Migrantenorganisationen.",
            "beteiligte": COESFELD_PARTNERS.iter().map(|p| p.key).collect::<Vec<_>>(),
            "beteiligung_abdeckung": {
                "untere_schulaufsicht": true,
                "schulverwaltung": true,
                "jugendhilfe_oeffentlich": true,
                "jugendhilfe_frei": true,
                "wohlfahrtsverbaende": true,
                "integrationsrat": false,
                "weitere_partner": "Stadt Dülmen als betroffene kreisangehörige Gemeinde; weitere Städte und Gemeinden folgen im Schwerpunktverfahren."
            }
        })
    }

    /// The Integrationskonzept, shared with the partners, before the consultation.
    fn concept(
        &mut self,
        case: CaseId,
        at: DateTime<Utc>,
        beschluss: NaiveDate,
    ) -> Result<(), ServiceError> {
        let coordinator = actor(COORDINATOR_COE, "koordination");
        let konzept = self.upload(
            case,
            COORDINATOR_COE,
            at,
            "Integrationskonzept_Kreis_Coesfeld.pdf",
            "Integrationskonzept des Kreises Coesfeld (Demo)",
            &[
                &format!("Beschlossen vom Kreistag am {}. Demodaten – kein echtes Dokument.", german(beschluss)),
                "1. Ausgangslage: Zuwanderung und Vielfalt im Kreis Coesfeld, Bevölkerungsdaten, vorhandene Angebote der Städte und Gemeinden, der Wohlfahrtsverbände und der Migrantenorganisationen.",
                "2. Handlungsfelder: Bildung und Sprache, Arbeit und Ausbildung, Gesundheit, Wohnen, gesellschaftliche Teilhabe und interkulturelle Öffnung der Verwaltung.",
                "3. Ziele und Maßnahmen: Koordination der Angebote für neu Zugewanderte, Sprachbildung entlang der Bildungskette, Qualifizierung von Fachkräften.",
                "4. Steuerung: Lenkungskreis Integration unter Vorsitz des Landrats, jährlicher Integrationsbericht an den Kreistag.",
            ],
            Audience::Partners,
        )?;
        let stellenplan = self.upload(
            case,
            COORDINATOR_COE,
            at,
            "Stellenplan_Auszug_KI.pdf",
            "Auszug aus dem Stellenplan (Demo)",
            &[
                "Sachgebiet 50.4 Kommunales Integrationszentrum: 2,0 Stellen Lehrkräfte (vom Land frei gestellt), 5,5 Stellen Fachkräfte (EG 10/11 TVöD), 0,5 Stelle Verwaltungsassistenz (EG 6 TVöD).",
                "Demodaten – kein echtes Dokument.",
            ],
            Audience::Staff,
        )?;
        self.change(
            case,
            &coordinator,
            at,
            json!({
                "integrationskonzept": { "dokument": konzept },
                "personal": { "stellenplan": stellenplan }
            }),
        )
    }

    /// From the start through the consultation (all partners answer) to the Kreistag's agenda.
    fn play_until_kreistag(&mut self, case: CaseId, start: i64) -> Result<(), ServiceError> {
        let coordinator = actor(COORDINATOR_COE, "koordination");
        let beschluss = self.day(start - 240);
        self.concept(case, berlin(self.day(start + 2), 9, 40), beschluss)?;
        self.act(
            case,
            &coordinator,
            berlin(self.day(start + 14), 9, 5),
            "beteiligung_starten",
            None,
        )?;
        self.all_reply(case, start + 17)?;
        self.act(
            case,
            &coordinator,
            berlin(self.day(start + 50), 11, 20),
            "zum_beschluss",
            Some(json!({
                "auswertung": {
                    "zusammenfassung": "Alle sechs beteiligten Stellen haben geantwortet: vier Zustimmungen (zwei mit Hinweisen), eine ohne Stellungnahme. Schulamt und Caritasverband bitten um frühe Abstimmung der Schwerpunkte.",
                    "aenderungen": "Schwerpunkt 1 um den Übergang Schule – Beruf ergänzt; Jugendmigrationsdienst in das Netzwerk aufgenommen."
                },
                "beschluss": { "gremium": "kreistag", "drucksache": "SV-11-0427 (Demo)" }
            })),
        )?;
        Ok(())
    }

    /// From the Kreistag's decision to the submission.
    fn play_until_submission(
        &mut self,
        case: CaseId,
        decided: i64,
        submitted: i64,
    ) -> Result<(), ServiceError> {
        let coordinator = actor(COORDINATOR_COE, "koordination");
        let session = self.day(decided - 2);
        let at = berlin(self.day(decided), 10, 30);
        let niederschrift = self.upload(
            case,
            COORDINATOR_COE,
            at,
            "Niederschrift_Kreistag_Auszug.pdf",
            "Auszug aus der Niederschrift der Sitzung des Kreistags (Demo)",
            &[
                &format!("Sitzung vom {}, TOP 7: Einrichtung eines Kommunalen Integrationszentrums (SV-11-0427).", german(session)),
                "Beschluss: Der Kreistag beschließt die Einrichtung eines Kommunalen Integrationszentrums nach § 8 TIntG und beauftragt die Verwaltung, die Förderung beim Kompetenzzentrum für Integration zu beantragen.",
                "Abstimmungsergebnis: einstimmig bei zwei Enthaltungen. Demodaten – kein echtes Dokument.",
            ],
            Audience::Staff,
        )?;
        self.act(
            case,
            &coordinator,
            at,
            "beschlossen",
            Some(json!({
                "beschluss": {
                    "datum": date(session),
                    // The committees that met on the weekday of the Kreistag's session before it.
                    "beratungsfolge": [
                        { "gremium": "Ausschuss für Schule und Bildung", "datum": date(session - Days::new(21)), "ergebnis": "kenntnis" },
                        { "gremium": "Ausschuss für Soziales, Gesundheit und Integration", "datum": date(session - Days::new(14)), "ergebnis": "geaendert" },
                        { "gremium": "Kreisausschuss", "datum": date(session - Days::new(7)), "ergebnis": "empfohlen" }
                    ],
                    "konzept_beschlossen": false,
                    "niederschrift": niederschrift
                }
            })),
        )?;
        let at = berlin(self.day(submitted), 9, 15);
        let formular = self.upload(
            case,
            COORDINATOR_COE,
            at,
            "Antragsformular_unterschrieben.pdf",
            "Antrag auf Förderung eines Kommunalen Integrationszentrums (Demo)",
            &[
                "Antragsteller: Kreis Coesfeld, Fachbereich 50. Gefördert werden sollen 5,5 Fachkraftstellen und 0,5 Stelle Verwaltungsassistenz; die Abordnung von zwei Lehrkräften wird beantragt.",
                "Unterschrieben vom Landrat. Demodaten – kein echtes Dokument.",
            ],
            Audience::Staff,
        )?;
        let finanzen = self.upload(
            case,
            COORDINATOR_COE,
            at,
            "Finanzierungsplan.pdf",
            "Finanzierungsplan (Demo)",
            &[
                "Personalausgaben Fachkräfte: 412.000 €; Verwaltungsassistenz: 29.000 €; Sachausgaben: 35.000 €. Eigenanteil des Kreises: 20 %.",
                "Demodaten – kein echtes Dokument.",
            ],
            Audience::Staff,
        )?;
        let arbeitsplan = self.upload(
            case,
            COORDINATOR_COE,
            at,
            "Arbeitsplan_erste_zwei_Jahre.pdf",
            "Arbeitsplan für die ersten zwei Jahre (Demo)",
            &[
                "Jahr 1: Aufbau des Netzwerks, Bestandsaufnahme der Angebote, Seiteneinstiegsberatung für Schulen.",
                "Jahr 2: Sprachbildung in Kitas und Grundschulen, Fortbildungen zur interkulturellen Öffnung, erster Integrationsbericht.",
                "Demodaten – kein echtes Dokument.",
            ],
            Audience::Staff,
        )?;
        self.act(
            case,
            &coordinator,
            at,
            "einreichen",
            Some(json!({
                "unterlagen": {
                    "antragsformular": formular,
                    "finanzierungsplan": finanzen,
                    "arbeitsplan": arbeitsplan
                }
            })),
        )?;
        Ok(())
    }

    /// Approved months ago; its operation runs towards the deadline of the updated concept,
    /// which ends in about three weeks.
    fn approved_case(&mut self) -> Result<(), ServiceError> {
        // The updated concept is due six months after the start of work (Beginnfrist).
        let deadline = self.day(21);
        let arbeitsaufnahme = deadline
            .checked_sub_months(Months::new(6))
            .unwrap_or(deadline)
            + Days::new(1);
        let offset = (arbeitsaufnahme - self.today).num_days();
        let start = offset - 300;
        let coordinator = actor(COORDINATOR_COE, "koordination");
        let data = self.coesfeld_application(arbeitsaufnahme, self.day(start - 240));
        let case = self.start(
            COESFELD,
            &coordinator,
            data,
            berlin(self.day(start), 10, 0),
            Note::Fixed("Bewilligt; der Betrieb eines Kommunalen Integrationszentrums läuft"),
        )?;
        self.play_until_kreistag(case, start)?;
        self.play_until_submission(case, start + 90, start + 130)?;

        let approver = actor(APPROVER, "bewilligung");
        let decided = self.day(start + 190);
        let at = berlin(decided, 14, 10);
        let bescheid = self.upload(
            case,
            APPROVER,
            at,
            "Bewilligungsbescheid.pdf",
            "Bewilligungsbescheid (Demo)",
            &[
                &format!("Bezirksregierung Arnsberg – Kompetenzzentrum für Integration, {}.", german(decided)),
                "Auf Ihren Antrag bewillige ich dem Kreis Coesfeld für die Einrichtung eines Kommunalen Integrationszentrums nach § 8 TIntG eine Zuwendung als Festbetragsfinanzierung.",
                "Nebenbestimmung: Sechs Monate nach Arbeitsaufnahme ist ein aktualisiertes Integrationskonzept vorzulegen.",
                "Demodaten – kein echtes Dokument.",
            ],
            Audience::Staff,
        )?;
        let before: i64 = cases::table
            .select(diesel::dsl::max(cases::id))
            .first::<Option<i64>>(self.conn)?
            .unwrap_or(0);
        self.act(
            case,
            &approver,
            at,
            "bewilligen",
            Some(json!({ "bewilligung": { "datum": date(decided), "bescheid": bescheid } })),
        )?;
        // The approval started the operation case.
        let betrieb: i64 = cases::table
            .filter(cases::id.gt(before))
            .filter(cases::workflow_key.eq("ki-betrieb"))
            .select(cases::id)
            .first(self.conn)?;
        let betrieb = CaseId(betrieb);
        self.mark("case", betrieb.0)?;
        self.cases.push((betrieb, Note::Operation));

        // Start of work confirmed; the concept deadline and the Schwerpunkte run side by side.
        // The coordinator took the operation over, so her start page marks it as hers.
        self.act(
            betrieb,
            &coordinator,
            berlin(arbeitsaufnahme + Days::new(1), 9, 30),
            "bestaetigen",
            None,
        )?;
        self.assign(
            betrieb,
            COORDINATOR_COE,
            berlin(arbeitsaufnahme + Days::new(1), 9, 35),
        )?;
        let at = berlin(arbeitsaufnahme + Days::new(20), 11, 0);
        self.act(
            betrieb,
            &coordinator,
            at,
            "beteiligung_starten",
            Some(json!({
                "schwerpunkte": {
                    "entwurf": "Für die Jahre eins und zwei: 1. Seiteneinstieg in Schule und Ausbildung, 2. Sprachbildung von der Kita bis zum Beruf, 3. Interkulturelle Öffnung der Kreisverwaltung. (Demodaten)"
                }
            })),
        )?;
        let base = offset + 23;
        let replies = [
            ("DEMO-COE-SCHULAMT", 0, Votum::Zustimmung, ""),
            ("DEMO-COE-JUGENDAMT", 1, Votum::Zustimmung, ""),
            (
                "DEMO-COE-CARITAS",
                2,
                Votum::ZustimmungMitHinweisen,
                "Bitte nehmen Sie die Elternarbeit als eigenen Schwerpunkt auf.",
            ),
            ("DEMO-COE-AWO", 4, Votum::Zustimmung, ""),
            ("DEMO-COE-SCHULVERWALTUNG", 5, Votum::KeineStellungnahme, ""),
            ("DEMO-COE-DUELMEN", 7, Votum::Zustimmung, ""),
        ];
        for (partner, day, votum, text) in replies {
            self.reply(
                betrieb,
                &Reply {
                    partner,
                    day: base + day,
                    votum,
                    text,
                    name: "Sachbearbeitung (Demo)",
                    function: "",
                    attachment: None,
                },
            )?;
        }
        let at = berlin(arbeitsaufnahme + Days::new(40), 10, 0);
        let plan = self.upload(
            betrieb,
            COORDINATOR_COE,
            at,
            "Schwerpunkte_der_Arbeit.pdf",
            "Schwerpunkte der Arbeit für zwei Jahre (Demo)",
            &[
                "1. Seiteneinstieg in Schule und Ausbildung. 2. Sprachbildung von der Kita bis zum Beruf, mit Elternarbeit. 3. Interkulturelle Öffnung der Kreisverwaltung.",
                "Festgelegt im Benehmen mit den örtlichen Partnern (Nr. 4.6 des Erlasses). Demodaten – kein echtes Dokument.",
            ],
            Audience::Partners,
        )?;
        self.act(
            betrieb,
            &coordinator,
            at,
            "festlegen",
            Some(json!({
                "schwerpunkte": {
                    "festlegung": "1. Seiteneinstieg in Schule und Ausbildung. 2. Sprachbildung von der Kita bis zum Beruf, mit Elternarbeit. 3. Interkulturelle Öffnung der Kreisverwaltung.",
                    "dokument": plan
                },
                "schwerpunkte_beginn": date(first_of_month_from(arbeitsaufnahme + Days::new(41)))
            })),
        )?;
        Ok(())
    }

    /// Submitted three weeks ago; at the Bewilligungsbehörde, which has three months to decide.
    fn case_at_bewilligung(&mut self) -> Result<(), ServiceError> {
        let start = -230;
        let arbeitsaufnahme = first_of_month_from(self.day(75));
        let coordinator = actor(COORDINATOR_COE, "koordination");
        let data = self.coesfeld_application(arbeitsaufnahme, self.day(start - 240));
        let case = self.start(
            COESFELD,
            &coordinator,
            data,
            berlin(self.day(start), 10, 0),
            Note::Submitted,
        )?;
        self.play_until_kreistag(case, start)?;
        self.play_until_submission(case, start + 95, -20)?;
        self.note(
            case,
            &coordinator,
            berlin(self.day(-13), 11, 20),
            "Telefonat mit dem Kompetenzzentrum für Integration: Der Antrag ist vollständig \
             eingegangen. Rückfragen zum Personalkonzept kommen gegebenenfalls schriftlich.",
            None,
        )?;
        // Only the Kreis reads this one; the Bewilligungsbehörde sees that it stands there.
        self.note(
            case,
            &coordinator,
            berlin(self.day(-12), 9, 5),
            "Kämmerei: Der Eigenanteil für 2027 ist im Haushaltsentwurf eingeplant, der \
             Kreistag beschließt den Haushalt im Dezember.",
            Some(COESFELD),
        )?;
        self.upload(
            case,
            COORDINATOR_COE,
            berlin(self.day(-12), 9, 10),
            "Haushaltsentwurf_2027_Auszug_KI.pdf",
            "Auszug aus dem Haushaltsentwurf 2027 (Demo)",
            &[
                "Produkt 05.04 Integration: Eigenanteil des Kreises für das Kommunale Integrationszentrum, Personal- und Sachkosten 2027.",
                "Nur für den Dienstgebrauch des Kreises. Demodaten – kein echtes Dokument.",
            ],
            Audience::Internal(COESFELD),
        )?;
        // The coordinator's reminder to ask again if the Bescheid is still outstanding.
        let coordinator_id = self.principal(COORDINATOR_COE)?.user_id;
        let allow = |_| Ok(());
        crate::service::follow_ups::set(
            self.conn,
            case,
            coordinator_id,
            (
                &self.day(3).format("%Y-%m-%d").to_string(),
                "Beim Kompetenzzentrum nachfragen, falls der Bescheid noch aussteht",
            ),
            &crate::service::clock::at(berlin(self.day(-13), 11, 25)),
            &allow,
        )?;
        // Each side names who works on it: the coordinator at the Kreis, the examiner at the KfI.
        for (email, at) in [
            (COORDINATOR_COE, berlin(self.day(-60), 8, 40)),
            (APPROVER, berlin(self.day(-20), 9, 5)),
        ] {
            self.assign(case, email, at)?;
        }
        Ok(())
    }

    /// The demo user `email`, as the permission checks see them.
    fn principal(&mut self, email: &str) -> Result<crate::auth::Principal, ServiceError> {
        User::find_by_email(self.conn, email)?
            .map(|user| user.id)
            .and_then(|id| crate::auth::Principal::load(self.conn, id).transpose())
            .transpose()?
            .ok_or_else(|| ServiceError::Internal("Demo-Benutzer fehlt".into()))
    }

    /// Makes the user `email` responsible for `case` in their organisation, as they did at `at`.
    fn assign(
        &mut self,
        case: CaseId,
        email: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), ServiceError> {
        let principal = self.principal(email)?;
        let allow = |_| Ok(());
        crate::service::assignments::assign(
            self.conn,
            self.ctx.mail,
            case,
            &principal,
            Some(email),
            at.naive_utc(),
            &allow,
        )?;
        Ok(())
    }

    /// The consultation is over; the Kreistag decides next.
    fn case_at_kreistag(&mut self) -> Result<(), ServiceError> {
        let start = -120;
        let arbeitsaufnahme = first_of_month_from(self.day(150));
        let coordinator = actor(COORDINATOR_COE, "koordination");
        let data = self.coesfeld_application(arbeitsaufnahme, self.day(start - 240));
        let case = self.start(
            COESFELD,
            &coordinator,
            data,
            berlin(self.day(start), 10, 0),
            Note::Fixed(
                "Stellungnahmen ausgewertet; wartet auf den Beschluss des Kreistags. Zuständig \
                 ist Jonas Keller, der im Urlaub ist; seine Wiedervorlage von heute sieht Anna \
                 Berger als Vertretung auf ihrer Startseite",
            ),
        )?;
        self.play_until_kreistag(case, start)?;
        self.assign(case, COLLEAGUE_COE, berlin(self.day(start), 10, 5))?;
        let colleague = self.principal(COLLEAGUE_COE)?;
        let allow = |_| Ok(());
        crate::service::follow_ups::set(
            self.conn,
            case,
            colleague.user_id,
            (
                &self.day(0).format("%Y-%m-%d").to_string(),
                "Beim Kreistagsbüro nachfragen, ob die Sitzungsvorlage zum Integrationskonzept \
                 auf der Tagesordnung steht",
            ),
            &crate::service::clock::at(berlin(self.day(-9), 14, 30)),
            &allow,
        )?;
        // Before his leave he named his colleague as deputy (Mein Konto → Abwesenheit).
        let deputy = self.principal(COORDINATOR_COE)?.user_id.0.to_string();
        crate::service::absences::set(
            self.conn,
            &colleague,
            (
                &self.day(LEAVE_UNTIL).format("%Y-%m-%d").to_string(),
                &deputy,
            ),
            self.today,
            berlin(self.day(-3), 16, 10).naive_utc(),
        )?;
        Ok(())
    }

    /// In the consultation: four answers in (one with Bedenken), two partners reminded, the
    /// deadline ends in a few days.
    fn case_in_consultation(&mut self) -> Result<(), ServiceError> {
        let start = -45;
        let arbeitsaufnahme = first_of_month_from(self.day(210));
        let coordinator = actor(COORDINATOR_COE, "koordination");
        let data = self.coesfeld_application(arbeitsaufnahme, self.day(start - 240));
        let case = self.start(
            COESFELD,
            &coordinator,
            data,
            berlin(self.day(start), 10, 0),
            Note::Consultation,
        )?;
        self.concept(case, berlin(self.day(-40), 15, 20), self.day(start - 240))?;
        self.act(
            case,
            &coordinator,
            berlin(self.day(-26), 9, 0),
            "beteiligung_starten",
            None,
        )?;
        self.invite_by_mistake(case, &coordinator)?;
        let bedenken: &[&str] = &[
            "Stellungnahme des Schulamts für den Kreis Coesfeld zum Entwurf des Antrags. Demodaten – kein echtes Dokument.",
            "Das Schulamt begrüßt die Einrichtung eines Kommunalen Integrationszentrums. Bedenken bestehen gegen den Zeitplan: Die beiden Lehrerstellen (Nr. 4.2 des Erlasses) können frühestens zum Schulhalbjahr besetzt werden, weil Abordnungen erst dann möglich sind.",
            "Wir bitten, die Arbeitsaufnahme entsprechend zu verschieben und die Schwerpunkte „Seiteneinstieg“ und „Sprachbildung“ vor der Beschlussfassung mit uns abzustimmen.",
        ];
        let replies = [
            Reply {
                partner: "DEMO-COE-AWO",
                day: -22,
                votum: Votum::Zustimmung,
                text: "Wir unterstützen den Antrag und bringen unsere Erfahrung aus der Migrationsberatung gern ein.",
                name: "Claudia Wessels (Demo)",
                function: "Fachbereichsleitung Migration",
                attachment: None,
            },
            Reply {
                partner: "DEMO-COE-JUGENDAMT",
                day: -19,
                votum: Votum::ZustimmungMitHinweisen,
                text: "Wir stimmen zu. Bitte beziehen Sie die Familienzentren und die Jugendmigrationsdienste in die Arbeitsgruppe „Übergang Kita – Schule“ ein.",
                name: "Markus Tenbrink (Demo)",
                function: "Leitung Kreisjugendamt",
                attachment: None,
            },
            Reply {
                partner: "DEMO-COE-SCHULAMT",
                day: -12,
                votum: Votum::Bedenken,
                text: "Das Schulamt begrüßt die Einrichtung eines Kommunalen Integrationszentrums. Bedenken bestehen jedoch gegen den Zeitplan: Die beiden Lehrerstellen (Nr. 4.2 des Erlasses) können frühestens zum Schulhalbjahr besetzt werden. Wir bitten, die Arbeitsaufnahme anzupassen und die Schwerpunkte vor der Beschlussfassung mit uns abzustimmen; Einzelheiten in der beigefügten Stellungnahme.",
                name: "Dr. Petra Lindemann (Demo)",
                function: "Schulrätin",
                attachment: Some((
                    "Stellungnahme_Schulamt_Coesfeld.pdf",
                    "Stellungnahme des Schulamts (Demo)",
                    bedenken,
                )),
            },
            Reply {
                partner: "DEMO-COE-CARITAS",
                day: -9,
                votum: Votum::Zustimmung,
                text: "Wir freuen uns auf die Zusammenarbeit.",
                name: "Jonas Kemper (Demo)",
                function: "Fachdienstleitung Integration und Migration",
                attachment: None,
            },
        ];
        for reply in &replies {
            self.reply(case, reply)?;
        }
        self.ask_for_more_time(case)
    }

    /// The day after the start the office means to add the Jugendamt, overlooks that the
    /// Kreisjugendamt is invited already and picks the Jugendamt of the Stadt Bielefeld. The
    /// Jugendamt answers through its link that it is not competent, and the office withdraws
    /// the invitation within the hour, so the matrix shows a withdrawn row and the journal both
    /// the notice and why it was withdrawn.
    fn invite_by_mistake(&mut self, case: CaseId, coordinator: &Actor) -> Result<(), ServiceError> {
        let allow = |_| Ok(());
        let at = berlin(self.day(-25), 8, 40);
        self.advance(&[case], at)?;
        crate::service::further_participant::add(
            self.conn,
            self.ctx,
            case,
            None,
            crate::service::further_participant::Addition {
                participant: "DEMO-BI-JUGENDAMT".into(),
                reason: Some(
                    "Jugendamt für den Schwerpunkt Übergang Kita – Schule beteiligen".into(),
                ),
            },
            Invocation {
                actor: coordinator,
                clock: &crate::service::clock::at(at),
                check: &allow,
            },
        )?;
        let organisation = self.organisation("DEMO-BI-JUGENDAMT")?;
        let invitation: i64 = invitations::table
            .filter(invitations::case_id.eq(case.0))
            .filter(invitations::organisation_id.eq(organisation.id))
            .select(invitations::id)
            .first(self.conn)?;
        let at = berlin(self.day(-25), 9, 20);
        self.advance(&[case], at)?;
        crate::service::responsibility_notice::report(
            self.conn,
            self.ctx,
            invitation,
            (
                Some(
                    "Das Jugendamt der Stadt Bielefeld ist für Einrichtungen im Kreis Coesfeld nicht zuständig.",
                ),
                Some("Kreisjugendamt Coesfeld"),
                Some("Jan Brinkmann (Demo)"),
            ),
            &crate::service::clock::at(at),
        )?;
        let at = berlin(self.day(-25), 9, 45);
        self.advance(&[case], at)?;
        crate::service::withdrawal::withdraw(
            self.conn,
            self.ctx,
            case,
            invitation,
            "Irrtümlich ausgewählt; die Stelle hat mitgeteilt, dass sie nicht zuständig ist. Zuständig ist das bereits beteiligte Kreisjugendamt.".into(),
            Invocation {
                actor: coordinator,
                clock: &crate::service::clock::at(at),
                check: &allow,
            },
        )
    }

    /// After its reminder, the Stadt Dülmen asks for two more weeks through its link: its
    /// committee meets after the deadline. The request waits for the office's decision (start
    /// page, matrix, the office's mail).
    fn ask_for_more_time(&mut self, case: CaseId) -> Result<(), ServiceError> {
        let at = berlin(self.day(-1), 11, 30);
        self.advance(&[case], at)?;
        let organisation = self.organisation("DEMO-COE-DUELMEN")?;
        let (invitation, deadline): (i64, NaiveDate) = invitations::table
            .filter(invitations::case_id.eq(case.0))
            .filter(invitations::organisation_id.eq(organisation.id))
            .filter(invitations::status.eq("open"))
            .select((invitations::id, invitations::deadline))
            .first(self.conn)?;
        let calendar = crate::frist::HolidayCalendar::for_land(crate::engine::LAND)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let mut until = deadline + Days::new(14);
        while calendar.is_working_day(until) != Ok(true) {
            until = until + Days::new(1);
        }
        // The committee meets on the working day before the day asked for.
        let mut meeting = until - Days::new(1);
        while calendar.is_working_day(meeting) != Ok(true) {
            meeting = meeting - Days::new(1);
        }
        let reason = format!(
            "Der Haupt- und Finanzausschuss der Stadt Dülmen berät den Entwurf erst am {}.",
            german(meeting)
        );
        crate::service::extension_request::request(
            self.conn,
            self.ctx,
            invitation,
            (
                Some(&until.format("%Y-%m-%d").to_string()),
                Some(&reason),
                Some("Sabine Hölscher (Demo)"),
            ),
            &crate::service::clock::at(at),
        )?;
        Ok(())
    }

    /// The Stadt Bielefeld's draft: complete, the Beteiligung can be started.
    fn bielefeld_draft(&mut self) -> Result<(), ServiceError> {
        let coordinator = actor(COORDINATOR_BI, "koordination");
        let arbeitsaufnahme = first_of_month_from(self.day(240));
        let vorlage = arbeitsaufnahme
            .checked_add_months(Months::new(10))
            .unwrap_or(arbeitsaufnahme);
        let data = json!({
            "antragsteller": {
                "dienststelle": "Amt für Integration und interkulturelle Angelegenheiten",
                "ansprechperson": "Herr Murat Yılmaz (Demo)",
                "telefon": "0521 51-6010",
                "email": "integration@bielefeld.demo"
            },
            "zentrum_name": "Kommunales Integrationszentrum Bielefeld",
            "oeffentliche_bezeichnung": "Kommunales Integrationszentrum Bielefeld – anerkannt durch das Land NRW als Kommunales Integrationszentrum nach § 8 Teilhabe- und Integrationsgesetz",
            "ausgangslage": "(Demodaten) Bielefeld hat rund 340.000 Einwohnerinnen und Einwohner; fast 40 % haben eine Einwanderungsgeschichte. Die Angebote für neu Zugewanderte sind zahlreich, aber auf viele Träger verteilt.",
            "standorte": [{ "bezeichnung": "Neues Rathaus", "anschrift": "Niederwall 23, 33602 Bielefeld" }],
            "organisatorische_anbindung": "Das Zentrum wird dem Amt für Integration und interkulturelle Angelegenheiten zugeordnet.",
            "arbeitsaufnahme": date(arbeitsaufnahme),
            "integrationskonzept": {
                "status": "in_arbeit",
                "gremium": "rat",
                "vorlage_bis": date(vorlage),
                "fortschreibung": "neu"
            },
            "personal": { "lehrkraefte_vze": 2, "fachkraefte_vze": 4.5, "verwaltungsassistenz_vze": 0.5 },
            "leitung": {
                "name": "Frau Lena Krüger (Demo)",
                "gruppe": "lehrkraft",
                "stellvertretung_name": "Herr Ali Şahin (Demo)",
                "stellvertretung_gruppe": "fachkraft"
            },
            "schwerpunkte": "Sprachbildung, Übergang Schule – Beruf, Stärkung der Migrantenselbstorganisationen.",
            "beteiligte": BIELEFELD_PARTNERS.iter().map(|p| p.key).collect::<Vec<_>>(),
            "beteiligung_abdeckung": {
                "untere_schulaufsicht": true,
                "schulverwaltung": true,
                "jugendhilfe_oeffentlich": true,
                "jugendhilfe_frei": true,
                "wohlfahrtsverbaende": true,
                "integrationsrat": true
            }
        });
        let applicant = self.organisation(BIELEFELD)?;
        let case = commands::start_case(
            self.conn,
            self.ctx,
            "ki-antrag",
            &applicant,
            data,
            &coordinator,
            &crate::service::clock::at(berlin(self.day(-6), 11, 45)),
        )?;
        let case = case.row.id;
        self.mark("case", case.0)?;
        self.cases.push((
            case,
            Note::Fixed("Entwurf vollständig; die Beteiligung der Partner kann gestartet werden"),
        ));
        let at = berlin(self.day(-2), 16, 5);
        let entwurf = self.upload(
            case,
            COORDINATOR_BI,
            at,
            "Integrationskonzept_Entwurf_Bielefeld.pdf",
            "Entwurf der Fortschreibung des Integrationskonzepts (Demo)",
            &[
                &format!("Stand {}. Das neue Integrationskonzept wird dem Rat bis zum {} vorgelegt.", german(self.day(-2)), german(vorlage)),
                "Leitziele: Chancengerechte Bildung, Teilhabe am Arbeitsmarkt, Zusammenleben im Quartier, interkulturelle Öffnung.",
                "Demodaten – kein echtes Dokument.",
            ],
            Audience::Partners,
        )?;
        self.change(
            case,
            &coordinator,
            at,
            json!({ "integrationskonzept": { "dokument": entwurf } }),
        )?;
        Ok(())
    }

    // --- Summary -----------------------------------------------------------------------------

    fn summary(
        &mut self,
        users: Vec<DemoUser>,
        partners: Vec<String>,
        offices: Vec<String>,
    ) -> Result<DemoSummary, ServiceError> {
        let mut users = users;
        for user in &mut users {
            let away =
                crate::service::absences::covering_of_email(self.conn, &user.email, self.today)?;
            user.note = away.map(|(absence, covering)| {
                format!(
                    "abwesend bis {}, vertreten durch {}",
                    german(absence.until),
                    covering.name
                )
            });
        }
        let ids: Vec<i64> = self.cases.iter().map(|(id, _)| id.0).collect();
        let mut listed = Vec::new();
        for (id, note) in self.cases.clone() {
            let (case, applicant) =
                commands::load_with_applicant(self.conn, self.ctx.registry, id)?;
            let workflow = &case.workflow.workflow;
            let mut steps: Vec<String> = case
                .instance
                .active_steps()
                .map(|t| {
                    workflow
                        .step(&t.step)
                        .map_or(t.step.as_str(), Step::title)
                        .to_string()
                })
                .collect();
            steps.dedup();
            let stage = if steps.is_empty() {
                // Ended: the title of the end step that records this outcome.
                let outcome = case.row.outcome.clone().unwrap_or_default();
                workflow
                    .definition()
                    .steps
                    .values()
                    .find_map(|step| match step {
                        Step::End(end) if end.outcome == outcome => Some(end.title.clone()),
                        _ => None,
                    })
                    .unwrap_or(outcome)
            } else {
                steps.join(", ")
            };
            let note = match note {
                Note::Fixed(text) => text.to_string(),
                Note::Consultation => self.consultation_note(id)?,
                Note::Submitted => self.submitted_note(&case.row)?,
                Note::Operation => self.operation_note(id)?,
            };
            listed.push(DemoCase {
                id: id.0,
                aktenzeichen: case.row.aktenzeichen.clone(),
                workflow: case.row.workflow_key.clone(),
                applicant: display_name(&applicant),
                stage,
                note,
            });
        }
        let count = |n: i64| usize::try_from(n).unwrap_or(0);
        let documents: i64 = documents::table
            .filter(documents::case_id.eq_any(&ids))
            .count()
            .get_result(self.conn)?;
        let answers: i64 = answers::table
            .inner_join(invitations::table)
            .filter(invitations::case_id.eq_any(&ids))
            .count()
            .get_result(self.conn)?;
        let mails: i64 = outbox::table
            .filter(outbox::case_id.eq_any(&ids))
            .count()
            .get_result(self.conn)?;
        let scheduled: i64 = timers::table
            .filter(timers::case_id.eq_any(&ids))
            .filter(timers::status.eq("scheduled"))
            .count()
            .get_result(self.conn)?;
        let fired: i64 = timers::table
            .filter(timers::case_id.eq_any(&ids))
            .filter(timers::status.eq("fired"))
            .count()
            .get_result(self.conn)?;
        Ok(DemoSummary {
            users,
            partners,
            offices,
            cases: listed,
            documents: count(documents),
            answers: count(answers),
            mails: count(mails),
            timers_scheduled: count(scheduled),
            timers_fired: count(fired),
        })
    }

    /// The scheduled timers of `case` at `step` of `kind`: (due, deadline), earliest first.
    fn scheduled(
        &mut self,
        case: CaseId,
        step: &str,
        kind: &str,
    ) -> Result<Vec<(NaiveDate, Option<NaiveDate>)>, ServiceError> {
        Ok(timers::table
            .filter(timers::case_id.eq(case.0))
            .filter(timers::step.eq(step))
            .filter(timers::kind.eq(kind))
            .filter(timers::status.eq("scheduled"))
            .order(timers::due)
            .select((timers::due, timers::deadline))
            .load(self.conn)?)
    }

    /// „Eingereicht am …; … eskaliert am …“ for the case at the Bewilligungsbehörde.
    fn submitted_note(&mut self, row: &CaseRow) -> Result<String, ServiceError> {
        let mut note = String::from("Eingereicht");
        if let Some(at) = row.submitted_at {
            note.push_str(&format!(
                " am {}",
                german(crate::service::clock::berlin_date(at.and_utc()))
            ));
        }
        note.push_str("; liegt beim Kompetenzzentrum für Integration zur Bewilligung");
        if let Some((_, Some(deadline))) =
            self.scheduled(row.id, "bewilligung", "reminder")?.first()
        {
            note.push_str(&format!(
                "; ein Bescheid wird bis zum {} erwartet, danach wird eskaliert",
                german(*deadline)
            ));
        }
        Ok(note)
    }

    /// „Aktualisiertes Integrationskonzept fällig am …“ for the operation case.
    fn operation_note(&mut self, case: CaseId) -> Result<String, ServiceError> {
        let step = "konzept_aktualisiert";
        let deadline = self
            .scheduled(case, step, "flow")?
            .first()
            .and_then(|(_, deadline)| *deadline);
        let sent: i64 = timers::table
            .filter(timers::case_id.eq(case.0))
            .filter(timers::step.eq(step))
            .filter(timers::kind.eq("reminder"))
            .filter(timers::status.eq("fired"))
            .count()
            .get_result(self.conn)?;
        let next = self.scheduled(case, step, "reminder")?.first().map(|t| t.0);
        let mut note = String::from("Aktualisiertes Integrationskonzept");
        if let Some(deadline) = deadline {
            note.push_str(&format!(" fällig am {}", german(deadline)));
        }
        match sent {
            0 => {}
            1 => note.push_str("; eine Erinnerung versandt"),
            n => note.push_str(&format!("; {n} Erinnerungen versandt")),
        }
        if let Some(next) = next {
            note.push_str(&format!(", die nächste am {}", german(next)));
        }
        note.push_str(". Schwerpunkte der Arbeit sind mit den Partnern festgelegt.");
        Ok(note)
    }

    /// „Beteiligung läuft: 4 von 6 Stellungnahmen …, Frist bis …“ for the case in consultation.
    fn consultation_note(&mut self, case: CaseId) -> Result<String, ServiceError> {
        let rows: Vec<(String, Option<String>, NaiveDate, i32)> = invitations::table
            .filter(invitations::case_id.eq(case.0))
            .filter(invitations::closed_at.is_null())
            .select((
                invitations::status,
                invitations::votum,
                invitations::deadline,
                invitations::reminders_sent,
            ))
            .load(self.conn)?;
        let answered = rows.iter().filter(|r| r.0 == "answered").count();
        let concerns = rows
            .iter()
            .filter(|r| r.1.as_deref() == Some("bedenken"))
            .count();
        let reminded = rows.iter().filter(|r| r.3 > 0).count();
        let deadline = rows.iter().map(|r| r.2).max();
        let mut note = format!(
            "Beteiligung läuft: {answered} von {} Stellungnahmen liegen vor, {concerns} mit Bedenken",
            rows.len()
        );
        match reminded {
            0 => {}
            1 => note.push_str("; eine Stelle wurde erinnert"),
            n => note.push_str(&format!("; {n} Stellen wurden erinnert")),
        }
        if let Some(deadline) = deadline {
            note.push_str(&format!("; die Frist endet am {}", german(deadline)));
        }
        let asking: i64 = crate::db::schema::extension_requests::table
            .inner_join(invitations::table)
            .filter(invitations::case_id.eq(case.0))
            .count()
            .get_result(self.conn)?;
        if asking > 0 {
            note.push_str("; eine Stelle bittet um Fristverlängerung");
        }
        Ok(note)
    }
}
