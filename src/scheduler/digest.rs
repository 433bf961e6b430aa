//! The weekly digest „Fristen der nächsten 14 Tage“: one mail per coordinating office listing
//! its cases' deadlines that end within the coming two weeks, so nothing due next week comes
//! as a surprise, and the partners' requests it has not decided yet (more time, „nicht
//! zuständig“), which wait for it while the partner's deadline runs. Offices with neither get
//! no mail.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::db::DbConnection;
use crate::db::models::{CaseId, OrganisationId};
use crate::db::schema::{cases, extension_requests, organisations, responsibility_notices};
use crate::designation::designation;
use crate::render::SampleMail;
use crate::service::cases::CaseContext;
use crate::service::fristen::{self, CaseDeadline, Scope};
use crate::service::mail::{self, Envelope, weekday_de};
use crate::service::overview::waiting_requests;
use crate::service::{ServiceError, assignments};

/// The template of the digest (`templates/mail/fristen_uebersicht.*`).
pub const TEMPLATE: &str = "fristen_uebersicht";

/// How far ahead the digest looks, the day of the run included.
pub const DAYS_AHEAD: u64 = 14;

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DigestRun {
    /// Mails queued for delivery (one per office with deadlines and an address).
    pub mails: usize,
    /// Deadlines listed in all digests, held ones included.
    pub deadlines: usize,
    /// Undecided partner requests listed in all digests, held ones included.
    pub asks: usize,
    /// Offices with deadlines but no address to write to: their digest is stored as a failed
    /// mail, for an administrator to retry once an address is recorded.
    pub unreachable: usize,
}

/// A partner's request on an open invitation of a running case that the office has not
/// decided yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndecidedAsk {
    pub office: OrganisationId,
    pub aktenzeichen: String,
    /// The asking organisation, as named in text.
    pub partner: String,
    /// When it asked (UTC).
    pub since: NaiveDateTime,
    pub what: Ask,
}

/// What a partner asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// A later deadline: the day asked for.
    Extension(NaiveDate),
    /// It says it is not competent, naming the competent body if it knows one.
    NotCompetent(Option<String>),
}

/// Every undecided request of partners on open invitations of running cases, oldest first.
pub fn undecided_asks(conn: &mut DbConnection) -> Result<Vec<UndecidedAsk>, ServiceError> {
    type Row<T> = ((OrganisationId, String), (String, String), NaiveDateTime, T);
    let extensions: Vec<Row<NaiveDate>> = waiting_requests!(extension_requests)
        .select((
            (cases::applicant_id, cases::aktenzeichen),
            (organisations::kind, organisations::name),
            extension_requests::requested_at,
            extension_requests::requested_until,
        ))
        .load(conn)?;
    let notices: Vec<Row<Option<String>>> = waiting_requests!(responsibility_notices)
        .select((
            (cases::applicant_id, cases::aktenzeichen),
            (organisations::kind, organisations::name),
            responsibility_notices::reported_at,
            responsibility_notices::competent,
        ))
        .load(conn)?;
    let ask = |((office, aktenzeichen), (kind, name), since, what): Row<Ask>| UndecidedAsk {
        office,
        aktenzeichen,
        partner: designation(&kind, &name).into_owned(),
        since,
        what,
    };
    let mut asks: Vec<UndecidedAsk> = extensions
        .into_iter()
        .map(|(case, partner, since, until)| ask((case, partner, since, Ask::Extension(until))))
        .chain(
            notices
                .into_iter()
                .map(|(case, partner, since, competent)| {
                    ask((case, partner, since, Ask::NotCompetent(competent)))
                }),
        )
        .collect();
    asks.sort_by(|a, b| (a.since, &a.aktenzeichen).cmp(&(b.since, &b.aktenzeichen)));
    Ok(asks)
}

/// Queues the digest of every office with deadlines in the 14 days from `now`'s day in Germany
/// or with partners' requests it has not decided.
pub fn run(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    now: DateTime<Utc>,
) -> Result<DigestRun, ServiceError> {
    let clock = crate::service::clock::at(now);
    let from = clock.today;
    let to = from
        .checked_add_days(Days::new(DAYS_AHEAD - 1))
        .unwrap_or(from);
    let deadlines = fristen::between(conn, ctx.registry, Scope::All, from, to)?;
    let mut by_office: BTreeMap<OrganisationId, (Vec<CaseDeadline>, Vec<UndecidedAsk>)> =
        BTreeMap::new();
    for deadline in deadlines {
        by_office
            .entry(deadline.applicant_id)
            .or_default()
            .0
            .push(deadline);
    }
    for ask in undecided_asks(conn)? {
        by_office.entry(ask.office).or_default().1.push(ask);
    }
    let at = now.naive_utc();
    let mut done = DigestRun::default();
    for (office, (deadlines, asks)) in by_office {
        let addresses = mail::office_addresses(conn, office)?;
        let held = addresses.is_empty();
        let ids: Vec<CaseId> = deadlines.iter().map(|d| CaseId(d.case_id)).collect();
        let responsible = assignments::names_of(conn, office, &ids)?;
        let stelle = organisations::table
            .find(office)
            .select((organisations::kind, organisations::name))
            .first::<(String, String)>(conn)
            .map(|(kind, name)| designation(&kind, &name).into_owned())?;
        let context = context(&stelle, (&deadlines, &asks), &responsible, (from, to));
        crate::db::write_transaction(conn, |conn| {
            mail::queue_with(
                conn,
                ctx.mail,
                Envelope {
                    case: None,
                    invitation: None,
                    template: TEMPLATE,
                    recipients: json!({ "kind": "office", "organisation": office.0 }),
                    to: addresses.clone(),
                },
                &subject_context(&context),
                &context,
                at,
            )
        })?;
        if held {
            done.unreachable += 1;
        } else {
            done.mails += 1;
        }
        done.deadlines += deadlines.len();
        done.asks += asks.len();
    }
    Ok(done)
}

fn date_de(date: NaiveDate) -> String {
    date.format("%d.%m.%Y").to_string()
}

/// The template context: the office, the period, one entry per deadline, with who in the
/// office is responsible for its case (`zustaendig`, null where nobody is named), and one per
/// undecided request (`anliegen`: `bis` and `bis_wochentag` for more time, else `zustaendig`).
fn context(
    stelle: &str,
    (deadlines, asks): (&[CaseDeadline], &[UndecidedAsk]),
    responsible: &HashMap<CaseId, String>,
    (from, to): (NaiveDate, NaiveDate),
) -> Value {
    let anliegen: Vec<Value> = asks
        .iter()
        .map(|ask| {
            let since = crate::service::clock::berlin_date(ask.since.and_utc());
            let (bis, bis_wochentag, zustaendig) = match &ask.what {
                Ask::Extension(until) => (Some(date_de(*until)), Some(weekday_de(*until)), None),
                Ask::NotCompetent(competent) => (None, None, competent.clone()),
            };
            json!({
                "aktenzeichen": ask.aktenzeichen,
                "stelle": ask.partner,
                "seit": date_de(since),
                "fristverlaengerung": matches!(ask.what, Ask::Extension(_)),
                "bis": bis,
                "bis_wochentag": bis_wochentag,
                "zustaendig": zustaendig,
            })
        })
        .collect();
    let fristen: Vec<Value> = deadlines
        .iter()
        .map(|d| {
            let days = (d.end - from).num_days();
            json!({
                "aktenzeichen": d.aktenzeichen,
                "verfahren": d.workflow_title,
                "schritt": d.step_title,
                "datum": date_de(d.end),
                "wochentag": weekday_de(d.end),
                "begruendung": d.reason,
                "resttage": days,
                "zustaendig": responsible.get(&CaseId(d.case_id)),
            })
        })
        .collect();
    json!({
        "stelle": stelle,
        "zeitraum": { "von": date_de(from), "bis": date_de(to) },
        "anzahl": fristen.len(),
        "fristen": fristen,
        "anzahl_anliegen": anliegen.len(),
        "anliegen": anliegen,
    })
}

/// The subject sees the office, the period and the counts only.
fn subject_context(context: &Value) -> Value {
    json!({
        "stelle": context["stelle"],
        "zeitraum": context["zeitraum"],
        "anzahl": context["anzahl"],
        "anzahl_anliegen": context["anzahl_anliegen"],
    })
}

/// The digest with sample data (see [`crate::render::SampleMail`]): a broken override stops
/// start-up instead of the Monday run.
pub fn sample_mails() -> Vec<SampleMail> {
    let sample = CaseDeadline {
        case_id: 1,
        aktenzeichen: "KIB-05558-2027-0001".into(),
        workflow_key: "ki-betrieb".into(),
        workflow_title: "Betrieb eines Kommunalen Integrationszentrums".into(),
        applicant_id: OrganisationId(1),
        applicant_name: "Kreis Coesfeld".into(),
        submitted: false,
        step: "konzept_aktualisiert".into(),
        step_title: "Aktualisiertes Integrationskonzept vorlegen".into(),
        end: NaiveDate::from_ymd_opt(2028, 4, 18).unwrap_or_default(),
        reason: Some("Das Fristende verschiebt sich nach § 193 BGB.".into()),
        window: None,
    };
    let mut plain = sample.clone();
    plain.reason = None;
    let from = NaiveDate::from_ymd_opt(2028, 4, 10).unwrap_or_default();
    let to = NaiveDate::from_ymd_opt(2028, 4, 23).unwrap_or_default();
    let responsible = HashMap::from([(CaseId(1), "Anna Berg".to_string())]);
    plain.case_id = 2;
    let asked = NaiveDate::from_ymd_opt(2028, 4, 3)
        .and_then(|day| day.and_hms_opt(8, 30, 0))
        .unwrap_or_default();
    let ask = |what| UndecidedAsk {
        office: OrganisationId(1),
        aktenzeichen: "KIB-05558-2027-0001".into(),
        partner: "Stadt Dülmen".into(),
        since: asked,
        what,
    };
    let asks = [
        ask(Ask::Extension(
            NaiveDate::from_ymd_opt(2028, 5, 2).unwrap_or_default(),
        )),
        ask(Ask::NotCompetent(Some("Jugendamt der Stadt Dülmen".into()))),
        ask(Ask::NotCompetent(None)),
    ];
    let deadlines = [sample, plain];
    // Deadlines and requests, deadlines only, requests only: each way the mail can read.
    [
        (&deadlines[..], &asks[..]),
        (&deadlines[..], &[][..]),
        (&[][..], &asks[..1]),
    ]
    .into_iter()
    .map(|listed| {
        let context = context("Kreis Coesfeld", listed, &responsible, (from, to));
        SampleMail {
            template: TEMPLATE,
            subject: subject_context(&context),
            context,
        }
    })
    .collect()
}
