//! The weekly digest „Fristen der nächsten 14 Tage“: one mail per coordinating office listing
//! its cases' deadlines that end within the coming two weeks, so nothing due next week comes
//! as a surprise. Offices without such a deadline get no mail.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::db::DbConnection;
use crate::db::models::{CaseId, OrganisationId};
use crate::render::SampleMail;
use crate::service::cases::CaseContext;
use crate::service::fristen::{self, CaseDeadline, Scope};
use crate::service::mail::{self, Envelope, weekday_de};
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
    /// Offices with deadlines but no address to write to: their digest is stored as a failed
    /// mail, for an administrator to retry once an address is recorded.
    pub unreachable: usize,
}

/// Queues the digest of every office with deadlines in the 14 days from `now`'s day in Germany.
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
    let mut by_office: BTreeMap<OrganisationId, Vec<CaseDeadline>> = BTreeMap::new();
    for deadline in deadlines {
        by_office
            .entry(deadline.applicant_id)
            .or_default()
            .push(deadline);
    }
    let at = now.naive_utc();
    let mut done = DigestRun::default();
    for (office, deadlines) in by_office {
        let addresses = mail::office_addresses(conn, office)?;
        let held = addresses.is_empty();
        let ids: Vec<CaseId> = deadlines.iter().map(|d| CaseId(d.case_id)).collect();
        let responsible = assignments::names_of(conn, office, &ids)?;
        let context = context(&deadlines, &responsible, from, to);
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
    }
    Ok(done)
}

fn date_de(date: NaiveDate) -> String {
    date.format("%d.%m.%Y").to_string()
}

/// The template context: the office, the period and one entry per deadline, with who in the
/// office is responsible for its case (`zustaendig`, null where nobody is named).
fn context(
    deadlines: &[CaseDeadline],
    responsible: &HashMap<CaseId, String>,
    from: NaiveDate,
    to: NaiveDate,
) -> Value {
    let stelle = deadlines
        .first()
        .map(|d| d.applicant_name.clone())
        .unwrap_or_default();
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
    })
}

/// The subject sees the office, the period and the count only.
fn subject_context(context: &Value) -> Value {
    json!({
        "stelle": context["stelle"],
        "zeitraum": context["zeitraum"],
        "anzahl": context["anzahl"],
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
    let context = context(&[sample, plain], &responsible, from, to);
    vec![SampleMail {
        template: TEMPLATE,
        subject: subject_context(&context),
        context,
    }]
}
