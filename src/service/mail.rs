//! Putting mails into the outbox: recipients resolved, templates rendered, all inside the
//! command's transaction, so a mail exists exactly when the change that caused it exists.
//!
//! Every mail template sees the same variables (missing ones are `null`, so strict rendering
//! catches a template that uses a variable its kind of mail never has):
//! `aktenzeichen`, `verfahren`, `schritt`, `antragsteller`, `kontakt.{stelle,telefon,email}`,
//! `empfaenger.name`, `frage`, `frist.{datum,wochentag,begruendung}`, `link`,
//! `antwort.{votum,text,name,version,verspaetet,zeitpunkt}`, `ergebnis[].{organisation,votum,
//! beantwortet}`, `anliegen.fristverlaengerung.{bis,wochentag,erbeten_am}` and
//! `anliegen.nicht_zustaendig.{gemeldet_am,zustaendig}` (what an invited partner asked of the
//! office and is still waiting for; both keys always there, null when nothing is pending) and
//! `vorgang_beendet` (how the case's end reads, when the mail goes out because it ended) and
//! `weiter_bei` (the task the administration moved the case to, when it left a step). The
//! subject sees only `aktenzeichen`, `verfahren`, `schritt` and `frist`, so no personal data can
//! end up in a subject line.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde_json::{Value, json};
use url::Url;

use super::ServiceError;
use crate::auth::token::Signer;
use crate::db::schema::outbox;
use crate::db::{DbConnection, Deferred, defer_insert, write_transaction};
use crate::designation::in_sentence;
use crate::engine::validate::{TemplateUse, ValidationContext};
use crate::mail::outbox::{self as outbox_rows, OutboxRow, OutboxStatus, RetryError};
use crate::render::{RenderedMail, TemplateError, Templates};

mod recipients;
pub use recipients::{
    addresses_of, head_addresses, office_addresses, organisation_addresses,
    organisations_with_addresses, role_addresses,
};
use recipients::{current_addresses, no_address_reason};

/// What commands need to write mails: templates, the link signer and the sender.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Parsed mail and page templates.
    pub templates: Arc<Templates>,
    /// Signs personal answer links.
    pub signer: Arc<Signer>,
    /// Base of links in mails (no trailing slash).
    pub public_url: Url,
    /// The `From` mailbox (`Name <address>`).
    pub from: String,
    /// Host part of Message-IDs.
    pub mail_domain: String,
    /// How long a partner may still read the page after the consultation closed.
    pub link_grace: TimeDelta,
    /// Mails prepared with this go out no earlier (UTC): what a timer writes outside office
    /// hours waits for them (see [`Outgoing::holding_until`]).
    pub hold_until: Option<NaiveDateTime>,
}

impl Outgoing {
    /// The same, with the mails it prepares due no earlier than `at`.
    pub fn holding_until(&self, at: NaiveDateTime) -> Self {
        Self {
            hold_until: Some(at),
            ..self.clone()
        }
    }

    /// A link below the public URL (`path` without leading slash).
    pub fn link(&self, path: &str) -> String {
        format!("{}/{path}", self.public_url.as_str().trim_end_matches('/'))
    }
}

/// The kinds of mail, each with the variables it provides; used to check templates before use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MailKind {
    /// To a participant about its invitation: question, deadline, personal link.
    Invitation,
    /// To a participant after it answered: its answer.
    Confirmation,
    /// To the coordinating office when a consultation is over: the result per participant.
    ConsultationResult,
    /// Any other mail about a case (to the applicant, a role).
    Case,
}

impl MailKind {
    /// Every kind, for checks.
    pub const ALL: [MailKind; 4] = [
        Self::Invitation,
        Self::Confirmation,
        Self::ConsultationResult,
        Self::Case,
    ];
}

/// Template every installation needs besides those the workflows name.
pub const CONFIRMATION_TEMPLATE: &str = "beteiligung_bestaetigung";
/// Sent to the coordinating office when a consultation completes.
pub const RESULT_TEMPLATE: &str = "beteiligung_abgeschlossen";
/// The mail telling a partner that its deadline was extended, with its link.
pub const EXTENSION_TEMPLATE: &str = "beteiligung_fristverlaengerung";
/// The mail telling a partner that its invitation was withdrawn and no answer is needed.
pub const WITHDRAWAL_TEMPLATE: &str = "beteiligung_zurueckgenommen";
/// The mail telling a role whose step the case stood at that the case ended (withdrawn).
pub const CASE_ENDED_TEMPLATE: &str = "vorgang_beendet";
/// The mail telling a role whose step the case stood at that the administration moved the
/// case elsewhere (Korrektur des Bearbeitungsstands).
pub const STEP_DROPPED_TEMPLATE: &str = "schritt_entfallen";

/// The variables of a mail; `base` parts come from the case, the rest from the occasion.
#[derive(Debug, Clone, Default)]
pub struct MailContext {
    /// Case-level variables (aktenzeichen, verfahren, antragsteller, kontakt).
    pub case: CaseMailFacts,
    pub schritt: Option<String>,
    pub empfaenger: Option<String>,
    pub frage: Option<String>,
    pub frist: Option<(NaiveDate, Option<String>)>,
    pub link: Option<String>,
    pub antwort: Option<Value>,
    pub ergebnis: Option<Value>,
    /// What the invited partner asked of the office that is still undecided.
    pub anliegen: PendingAsks,
    /// How the case's end reads („Zurückgezogen“) when a mail goes out because the whole case
    /// ended: a partner whose Beteiligung ends with it learns why.
    pub vorgang_beendet: Option<String>,
    /// The task the case now stands at, when a mail goes out because the administration moved
    /// it there and the recipient's step no longer waits for them.
    pub weiter_bei: Option<String>,
}

/// A partner's requests the office has not decided yet, as mails to the partner mention them:
/// a reminder that ignored them would read as if they had never arrived.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PendingAsks {
    /// A later deadline asked for: the day asked for, and the day it was asked (Berlin).
    pub extension: Option<(NaiveDate, NaiveDate)>,
    /// „Nicht zuständig“ reported: the day (Berlin), and the body named as competent, if any.
    pub notice: Option<(NaiveDate, Option<String>)>,
}

impl PendingAsks {
    fn value(&self) -> Value {
        let day = |date: &NaiveDate| date.format("%d.%m.%Y").to_string();
        json!({
            "fristverlaengerung": self.extension.as_ref().map(|(until, asked)| json!({
                "bis": day(until),
                "wochentag": weekday_de(*until),
                "erbeten_am": day(asked),
            })),
            "nicht_zustaendig": self.notice.as_ref().map(|(reported, competent)| json!({
                "gemeldet_am": day(reported),
                "zustaendig": competent,
            })),
        })
    }
}

/// What every mail about a case says about the case.
#[derive(Debug, Clone, Default)]
pub struct CaseMailFacts {
    pub aktenzeichen: String,
    pub verfahren: String,
    pub antragsteller: String,
    pub kontakt_stelle: String,
    pub kontakt_telefon: Option<String>,
    pub kontakt_email: Option<String>,
}

impl MailContext {
    /// The full context for text and HTML parts.
    pub fn full(&self) -> Value {
        let applicant = in_sentence(&self.case.antragsteller);
        json!({
            "aktenzeichen": self.case.aktenzeichen,
            "verfahren": self.case.verfahren,
            "schritt": self.schritt,
            "antragsteller": self.case.antragsteller,
            // The applicant in a sentence: „Der Kreis Coesfeld bittet Sie …“, „… vom Kreis Coesfeld“.
            "antragsteller_satzanfang": applicant.subject,
            // The same as the first words after the salutation, where a German letter goes on
            // in lower case: „Sehr geehrte Damen und Herren, der Kreis Coesfeld bittet Sie …“.
            "antragsteller_nach_anrede": after_salutation(&applicant.subject),
            "vom_antragsteller": applicant.from,
            "kontakt": {
                "stelle": self.case.kontakt_stelle,
                "telefon": self.case.kontakt_telefon,
                "email": self.case.kontakt_email,
            },
            "empfaenger": self.empfaenger.as_ref().map(|name| json!({ "name": name })),
            "frage": self.frage,
            "frist": self.frist_value(),
            "link": self.link,
            "antwort": self.antwort,
            "ergebnis": self.ergebnis,
            "anliegen": self.anliegen.value(),
            "vorgang_beendet": self.vorgang_beendet,
            "weiter_bei": self.weiter_bei,
        })
    }

    /// The restricted context of the subject line.
    pub fn subject(&self) -> Value {
        json!({
            "aktenzeichen": self.case.aktenzeichen,
            "verfahren": self.case.verfahren,
            "schritt": self.schritt,
            "frist": self.frist_value(),
        })
    }

    fn frist_value(&self) -> Value {
        match &self.frist {
            Some((date, reason)) => json!({
                "datum": date.format("%d.%m.%Y").to_string(),
                "wochentag": weekday_de(*date),
                "begruendung": reason,
            }),
            None => Value::Null,
        }
    }

    /// A realistic context of `kind`, for checking templates before they are used.
    pub fn sample(kind: MailKind) -> Self {
        let mut context = MailContext {
            case: CaseMailFacts {
                aktenzeichen: "KI-05558-2026-0001".into(),
                verfahren: "Antrag auf Förderung eines Kommunalen Integrationszentrums".into(),
                antragsteller: "Kreis Coesfeld".into(),
                kontakt_stelle: "Kreis Coesfeld, Fachbereich Bildung".into(),
                kontakt_telefon: Some("02541 18-0".into()),
                kontakt_email: Some("ki@kreis-coesfeld.de".into()),
            },
            schritt: Some("Beteiligung".into()),
            ..Default::default()
        };
        let deadline = NaiveDate::from_ymd_opt(2026, 10, 5).unwrap_or_default();
        match kind {
            MailKind::Invitation | MailKind::Confirmation => {
                context.empfaenger = Some("Schulamt für den Kreis Coesfeld".into());
                context.frage = Some("Bitte nehmen Sie zum Integrationskonzept Stellung.".into());
                context.frist = Some((
                    deadline,
                    Some("Das Fristende verschiebt sich nach § 193 BGB.".into()),
                ));
                context.link = Some("https://vorgang.example/beteiligung/eyJ0eXAi".into());
                if kind == MailKind::Invitation {
                    // Both pending, so that a check renders every branch a reminder has.
                    let asked = NaiveDate::from_ymd_opt(2026, 9, 28).unwrap_or_default();
                    context.anliegen = PendingAsks {
                        extension: Some((deadline + TimeDelta::days(14), asked)),
                        notice: Some((asked, Some("Schulamt für die Stadt Münster".into()))),
                    };
                }
                if kind == MailKind::Confirmation {
                    context.antwort = Some(answer_value(
                        "Zustimmung mit Hinweisen",
                        "Wir stimmen zu.",
                        "Frau Muster, Schulrätin",
                        1,
                        false,
                        NaiveDateTime::default(),
                        None,
                    ));
                }
            }
            MailKind::ConsultationResult => {
                context.ergebnis = Some(json!([{
                    "organisation": "Schulamt für den Kreis Coesfeld",
                    "votum": "Zustimmung",
                    "beantwortet": true,
                }]));
            }
            MailKind::Case => {}
        }
        context
    }
}

/// The answer as mail templates see it.
pub fn answer_value(
    votum: &str,
    text: &str,
    name: &str,
    version: u32,
    late: bool,
    at: NaiveDateTime,
    received_on: Option<NaiveDate>,
) -> Value {
    json!({
        "votum": votum,
        "text": text,
        "name": name,
        "version": version,
        "verspaetet": late,
        "zeitpunkt": crate::service::clock::berlin_time_de(at.and_utc()),
        // The day a Stellungnahme the office entered had reached it (null for one by link).
        "eingegangen_am": received_on.map(|day| day.format("%d.%m.%Y").to_string()),
    })
}

/// `subject` as the first words after a letter's salutation: its article in lower case, a bare
/// name as it is.
fn after_salutation(subject: &str) -> String {
    match subject.split_once(' ') {
        Some((article @ ("Der" | "Die"), rest)) => format!("{} {rest}", article.to_lowercase()),
        _ => subject.to_string(),
    }
}

/// German weekday name.
pub fn weekday_de(date: NaiveDate) -> &'static str {
    match date.weekday() {
        chrono::Weekday::Mon => "Montag",
        chrono::Weekday::Tue => "Dienstag",
        chrono::Weekday::Wed => "Mittwoch",
        chrono::Weekday::Thu => "Donnerstag",
        chrono::Weekday::Fri => "Freitag",
        chrono::Weekday::Sat => "Samstag",
        chrono::Weekday::Sun => "Sonntag",
    }
}

/// Renders `template` as a mail of `kind` with sample values: an error names the template and
/// the variable it lacks, before any real mail depends on it.
pub fn check_template(
    templates: &Templates,
    template: &str,
    kind: MailKind,
) -> Result<(), TemplateError> {
    let context = MailContext::sample(kind);
    templates.render_mail(template, &context.subject(), &context.full())?;
    if kind == MailKind::Case {
        // A case mail names a deadline only when a timer sent it: it must render both ways.
        let with_deadline = MailContext {
            frist: Some((
                NaiveDate::from_ymd_opt(2027, 3, 30).unwrap_or_default(),
                Some("Das Fristende verschiebt sich nach § 193 BGB.".into()),
            )),
            ..context
        };
        templates.render_mail(template, &with_deadline.subject(), &with_deadline.full())?;
    }
    Ok(())
}

/// What workflow definitions may refer to: the complete mail templates, each checked for the
/// uses a definition can put it to, and the domain rules compiled in.
pub fn validation_context(templates: &Templates) -> ValidationContext {
    let mut template_problems = std::collections::BTreeMap::new();
    for name in templates.mail_names() {
        for (usage, kind) in [
            (TemplateUse::Invitation, MailKind::Invitation),
            (TemplateUse::Case, MailKind::Case),
        ] {
            if let Err(error) = check_template(templates, name, kind) {
                template_problems.insert((name.clone(), usage), error.to_string());
            }
        }
    }
    ValidationContext {
        templates: templates.mail_names().clone(),
        rules: crate::rules::known_rules()
            .iter()
            .map(|rule| rule.to_string())
            .collect(),
        workflows: Default::default(),
        template_problems,
    }
}

/// Checks the templates every installation needs, whatever its workflows: the confirmation to
/// partners, the result mail to the coordinating office, the partner mails about a longer
/// deadline, a withdrawn invitation and a declined request, the mail to a role whose step ended
/// with a withdrawn case, the weekly digest, the mails about
/// due Wiedervorlagen and about a period that ends soon, the one to someone made responsible
/// for a case, and those about a forgotten password.
pub fn check_builtin_templates(templates: &Templates) -> Result<(), TemplateError> {
    check_template(templates, CONFIRMATION_TEMPLATE, MailKind::Confirmation)?;
    check_template(templates, RESULT_TEMPLATE, MailKind::ConsultationResult)?;
    check_template(templates, EXTENSION_TEMPLATE, MailKind::Invitation)?;
    check_template(templates, WITHDRAWAL_TEMPLATE, MailKind::Invitation)?;
    check_template(templates, CASE_ENDED_TEMPLATE, MailKind::Case)?;
    check_template(templates, STEP_DROPPED_TEMPLATE, MailKind::Case)?;
    for sample in staff_sample_mails()
        .into_iter()
        .chain(super::request_refusal::sample_mails())
    {
        sample.render(templates)?;
    }
    Ok(())
}

/// The mails to staff that are not about one case's events (the digest, due Wiedervorlagen, a
/// period that ends soon, Zuständigkeit, Vermerke, a partner's request for more time and its
/// notice that it is not competent, the links to choose a password and the notice that it was
/// replaced), each with its sample contexts.
pub fn staff_sample_mails() -> Vec<crate::render::SampleMail> {
    [
        crate::scheduler::digest::sample_mails(),
        super::follow_ups::sample_mails(),
        super::time_windows::sample_mails(),
        super::assignments::sample_mails(),
        super::extension_request::sample_mails(),
        super::responsibility_notice::sample_mails(),
        super::password_reset::sample_mails(),
    ]
    .concat()
}

/// One mail to write into the outbox.
pub struct QueuedMail<'a> {
    pub case: Option<i64>,
    pub invitation: Option<i64>,
    pub template: &'a str,
    /// Who, logically (kept for the record, e.g. `{"kind":"invitation",…}`).
    pub recipients: Value,
    /// Addresses.
    pub to: Vec<String>,
    pub context: &'a MailContext,
}

/// Renders and inserts one outbox row with a fresh, stable Message-ID.
pub fn queue(
    conn: &mut DbConnection,
    out: &Outgoing,
    mail: QueuedMail<'_>,
    at: NaiveDateTime,
) -> Result<(), ServiceError> {
    let prepared = prepare(out, mail)?;
    insert_now(conn, vec![prepared], at)
}

/// [`insert_prepared`] for a caller without other writes to send along.
fn insert_now(
    conn: &mut DbConnection,
    mails: Vec<PreparedMail>,
    at: NaiveDateTime,
) -> Result<(), ServiceError> {
    let mut deferred = Deferred::new();
    insert_prepared(conn, &mut deferred, mails, at)?;
    Ok(deferred.flush(conn)?)
}

/// Where a mail goes and what it is about, for mails whose context is not a [`MailContext`]
/// (the weekly deadline digest).
pub struct Envelope<'a> {
    pub case: Option<i64>,
    pub invitation: Option<i64>,
    pub template: &'a str,
    pub recipients: Value,
    pub to: Vec<String>,
}

/// Renders `template` with the given subject and body contexts into one outbox row.
pub fn queue_with(
    conn: &mut DbConnection,
    out: &Outgoing,
    mail: Envelope<'_>,
    subject: &Value,
    context: &Value,
    at: NaiveDateTime,
) -> Result<(), ServiceError> {
    let prepared = prepare_with(out, mail, subject, context, None)?;
    insert_now(conn, vec![prepared], at)
}

/// As [`queue_with`], with a `Reply-To`: a mail written on someone's behalf (a partner's request
/// to the office) that its reader answers by replying.
#[allow(clippy::too_many_arguments)]
pub fn queue_replying_to(
    conn: &mut DbConnection,
    out: &Outgoing,
    mail: Envelope<'_>,
    subject: &Value,
    context: &Value,
    reply_to: Option<String>,
    at: NaiveDateTime,
) -> Result<(), ServiceError> {
    let prepared = prepare_with(out, mail, subject, context, reply_to)?;
    insert_now(conn, vec![prepared], at)
}

/// A rendered mail not yet in the outbox, so that the mails of one command can be inserted
/// together ([`insert_prepared`]).
pub struct PreparedMail {
    message_id: String,
    case: Option<i64>,
    invitation: Option<i64>,
    template: String,
    recipients: String,
    context: String,
    subject: String,
    rendered: String,
    /// Why the mail cannot go out (nobody to send it to): it is stored as failed with this
    /// reason, so it shows in the outbox instead of vanishing.
    held: Option<String>,
    /// Not to be sent before this ([`Outgoing::hold_until`]).
    not_before: Option<NaiveDateTime>,
}

/// Renders a mail like [`queue`] without inserting it.
pub fn prepare(out: &Outgoing, mail: QueuedMail<'_>) -> Result<PreparedMail, ServiceError> {
    let envelope = Envelope {
        case: mail.case,
        invitation: mail.invitation,
        template: mail.template,
        recipients: mail.recipients,
        to: mail.to,
    };
    let reply_to = reply_address(mail.context.case.kontakt_email.as_deref(), &envelope.to);
    prepare_with(
        out,
        envelope,
        &mail.context.subject(),
        &mail.context.full(),
        reply_to,
    )
}

/// Where answers to a mail about a case should go: the case's contact address, so that a partner
/// who replies reaches the office instead of the installation's sender. None when the mail goes
/// to that address anyway, or when it is no address (the mail must not fail for it).
fn reply_address(contact: Option<&str>, to: &[String]) -> Option<String> {
    let contact = contact.map(str::trim)?;
    let valid = contact.parse::<lettre::Address>().is_ok();
    let addressed = to.iter().any(|to| to.trim().eq_ignore_ascii_case(contact));
    (valid && !addressed).then(|| contact.to_owned())
}

fn prepare_with(
    out: &Outgoing,
    mail: Envelope<'_>,
    subject: &Value,
    context: &Value,
    reply_to: Option<String>,
) -> Result<PreparedMail, ServiceError> {
    let rendered: RenderedMail = out
        .templates
        .render_mail(mail.template, subject, context)
        .map_err(|e| ServiceError::Template(e.to_string()))?;
    let held = mail
        .to
        .is_empty()
        .then(|| no_address_reason(&mail.recipients));
    if let Some(reason) = &held {
        tracing::warn!(case = ?mail.case, template = mail.template, %reason, "mail held: no recipient address");
    }
    // In this order: the outbox's search finds an address between `"to":[` and `],"text":`
    // (`mail::outbox::list`).
    let mut body = json!({
        "from": out.from,
        "to": mail.to,
        "text": rendered.text,
        "html": rendered.html,
    });
    if let Some(reply_to) = reply_to {
        body["reply_to"] = json!(reply_to);
    }
    Ok(PreparedMail {
        message_id: format!("<{}@{}>", uuid::Uuid::new_v4(), out.mail_domain),
        case: mail.case,
        invitation: mail.invitation,
        template: mail.template.to_string(),
        recipients: mail.recipients.to_string(),
        context: context.to_string(),
        subject: rendered.subject,
        rendered: body.to_string(),
        held,
        not_before: out.hold_until,
    })
}

/// Puts prepared mails into the outbox with one INSERT, written at `at` and due then (or, if
/// held for office hours, at the opening); a mail without addresses goes in as failed, with the
/// reason, for an administrator to retry. On PostgreSQL the INSERT joins the command's other
/// writes in `deferred`.
pub fn insert_prepared(
    conn: &mut DbConnection,
    deferred: &mut Deferred,
    mails: Vec<PreparedMail>,
    at: NaiveDateTime,
) -> Result<(), ServiceError> {
    let row = |mail: PreparedMail| {
        (
            outbox::message_id.eq(mail.message_id),
            outbox::case_id.eq(mail.case),
            outbox::invitation_id.eq(mail.invitation),
            outbox::template.eq(mail.template),
            outbox::recipients.eq(mail.recipients),
            outbox::context.eq(mail.context),
            outbox::subject.eq(mail.subject),
            outbox::rendered.eq(mail.rendered),
            outbox::next_attempt_at.eq(mail.not_before.map_or(at, |held| held.max(at))),
            outbox::created_at.eq(at),
            outbox::status.eq(match mail.held {
                Some(_) => OutboxStatus::Failed.as_str(),
                None => OutboxStatus::Pending.as_str(),
            }),
            outbox::last_error.eq(mail.held),
        )
    };
    if mails.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = mails.into_iter().map(row).collect();
    defer_insert!(conn, deferred, outbox::table, rows)?;
    Ok(())
}

/// An administrator's retry of a failed mail. A mail that was held for want of an address is
/// addressed anew from its logical recipients first, so an address recorded since then is used;
/// if there still is none, nothing changes.
pub fn retry(
    conn: &mut DbConnection,
    id: i64,
    now: NaiveDateTime,
) -> Result<OutboxRow, RetryError> {
    write_transaction(conn, |conn| {
        let row = outbox_rows::find(conn, id)?.ok_or(RetryError::NotFound)?;
        if row.status == OutboxStatus::Failed.as_str() {
            let mut rendered: Value = serde_json::from_str(&row.rendered).unwrap_or(Value::Null);
            let unaddressed = rendered["to"].as_array().is_none_or(|to| to.is_empty());
            if rendered.is_object() && unaddressed {
                let to = current_addresses(conn, &row)?;
                if to.is_empty() {
                    let recipients = serde_json::from_str(&row.recipients).unwrap_or(Value::Null);
                    return Err(RetryError::NoAddress(no_address_reason(&recipients)));
                }
                rendered["to"] = json!(to);
                diesel::update(outbox::table.find(id))
                    .set(outbox::rendered.eq(rendered.to_string()))
                    .execute(conn)?;
            }
        }
        outbox_rows::retry(conn, id, now)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_template_renders_for_the_kinds_it_serves() {
        let templates = Templates::embedded().unwrap();
        for name in ["beteiligung_einladung", "beteiligung_erinnerung"] {
            check_template(&templates, name, MailKind::Invitation).unwrap();
        }
        check_template(&templates, CONFIRMATION_TEMPLATE, MailKind::Confirmation).unwrap();
        check_template(&templates, RESULT_TEMPLATE, MailKind::ConsultationResult).unwrap();
        check_template(&templates, "antrag_eingegangen", MailKind::Case).unwrap();
    }

    #[test]
    fn an_invitation_template_cannot_serve_as_a_case_mail() {
        let templates = Templates::embedded().unwrap();
        let error = check_template(&templates, "beteiligung_einladung", MailKind::Case)
            .unwrap_err()
            .to_string();
        assert!(error.contains("frist"), "{error}");
    }

    #[test]
    fn answers_go_to_the_contact_unless_it_is_the_recipient_or_no_address() {
        let to = |list: &[&str]| list.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            reply_address(
                Some(" ki@kreis-soest.de "),
                &to(&["schulamt@kreis-soest.de"])
            ),
            Some("ki@kreis-soest.de".to_owned())
        );
        assert_eq!(
            reply_address(
                Some("KI@kreis-soest.de"),
                &to(&["a@b.de", "ki@kreis-soest.de"])
            ),
            None
        );
        assert_eq!(reply_address(Some("keine Adresse"), &to(&["a@b.de"])), None);
        assert_eq!(reply_address(None, &to(&["a@b.de"])), None);
    }

    #[test]
    fn the_confirmation_reads_as_a_letter_in_every_variant() {
        let templates = Templates::embedded().unwrap();
        for (text, version, late, received) in [
            ("Wir stimmen zu.", 1, false, None),
            ("", 1, false, None),
            ("Wir stimmen zu.", 2, true, None),
            ("", 3, true, None),
            (
                "Wir stimmen zu.",
                1,
                false,
                NaiveDate::from_ymd_opt(2026, 11, 9),
            ),
        ] {
            let mut context = MailContext::sample(MailKind::Confirmation);
            context.antwort = Some(answer_value(
                "Zustimmung",
                text,
                "Frau Muster",
                version,
                late,
                NaiveDateTime::default(),
                received,
            ));
            let mail = templates
                .render_mail(CONFIRMATION_TEMPLATE, &context.subject(), &context.full())
                .unwrap();
            let variant = format!("text {text:?}, version {version}, late {late}");
            assert!(!mail.text.contains("\n\n\n"), "{variant}: {}", mail.text);
            for paragraph in ["Ihre Angaben im Wortlaut:", "Mit freundlichen Grüßen"] {
                assert!(
                    mail.text.contains(&format!("\n\n{paragraph}")),
                    "{variant}: a blank line before {paragraph:?}: {}",
                    mail.text
                );
            }
            assert_eq!(
                mail.text.contains("Stellungnahme:\n"),
                !text.is_empty(),
                "{variant}"
            );
            assert_eq!(
                mail.html.contains("<dt>Stellungnahme</dt>"),
                !text.is_empty(),
                "{variant}"
            );
            // One the office entered says when it came and when it was entered.
            for body in [&mail.text, &mail.html] {
                assert_eq!(
                    body.contains("Sie ist am 09.11.2026 bei uns eingegangen und wurde am "),
                    received.is_some(),
                    "{variant}: {body}"
                );
                assert_eq!(body.contains(" erfasst"), received.is_some(), "{variant}");
            }
        }
    }

    #[test]
    fn every_shipped_mail_reads_as_a_letter() {
        let templates = Templates::embedded().unwrap();
        let mut rendered = Vec::new();
        for name in templates.mail_names() {
            // Each as it is used: the consultation's own mails with their contexts, every other
            // template as a mail about a case, with and without a deadline; the mails to staff
            // below, with contexts of their own.
            let kind = match name.as_str() {
                "beteiligung_einladung"
                | "beteiligung_erinnerung"
                | EXTENSION_TEMPLATE
                | WITHDRAWAL_TEMPLATE => MailKind::Invitation,
                CONFIRMATION_TEMPLATE => MailKind::Confirmation,
                RESULT_TEMPLATE => MailKind::ConsultationResult,
                _ => MailKind::Case,
            };
            let mut contexts = Vec::new();
            {
                let context = MailContext::sample(kind);
                if kind == MailKind::Case {
                    let mut with_deadline = context.clone();
                    with_deadline.frist = Some((
                        NaiveDate::from_ymd_opt(2026, 12, 28).unwrap(),
                        Some("Die Frist endet rechnerisch am 26.12.2026.".into()),
                    ));
                    contexts.push(with_deadline);
                }
                contexts.push(context);
            }
            for context in contexts {
                // A template serves some kinds only; the others do not render (strict mode).
                if let Ok(mail) = templates.render_mail(name, &context.subject(), &context.full()) {
                    rendered.push((name.clone(), mail.text));
                }
            }
        }
        for sample in super::super::request_refusal::sample_mails() {
            let mail = sample.render(&templates).unwrap();
            rendered.push((sample.template.to_string(), mail.text));
        }
        let case_mails = rendered.len();
        for sample in staff_sample_mails() {
            let mail = sample.render(&templates).unwrap();
            rendered.push((sample.template.to_string(), mail.text));
        }
        for (name, text) in &rendered {
            assert!(!text.contains("\n\n\n"), "{name}: two blank lines: {text}");
            assert!(
                text.contains("\n\nMit freundlichen Grüßen"),
                "{name}: no blank line before the closing: {text}"
            );
            let opening = [
                "Sehr geehrte Damen und Herren,\n\n",
                "Guten Tag Anna Berg,\n\n",
            ]
            .iter()
            .find_map(|salutation| text.split_once(salutation))
            .map(|(_, rest)| rest)
            .unwrap_or_else(|| panic!("{name}: no salutation: {text}"));
            assert!(
                !["Der ", "Die ", "Das ", "Dieser ", "Diese "]
                    .iter()
                    .any(|article| opening.starts_with(article)),
                "{name}: after the salutation a letter goes on in lower case: {text}"
            );
            // A list ends in a blank line before the next paragraph.
            let lines: Vec<&str> = text.lines().collect();
            for pair in lines.windows(2) {
                let ends_list = pair[0].starts_with("- ") || pair[0].starts_with("  ");
                assert!(
                    !(ends_list
                        && !pair[1].is_empty()
                        && !pair[1].starts_with("- ")
                        && !pair[1].starts_with("  ")),
                    "{name}: a list runs into the next paragraph: {text}"
                );
            }
        }
        assert!(case_mails >= 10, "only {case_mails} case mails rendered");
        let staff: std::collections::BTreeSet<&str> = rendered[case_mails..]
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        assert_eq!(staff.len(), 10, "every mail to staff: {staff:?}");
    }

    #[test]
    fn after_the_salutation_the_article_is_lower_case() {
        assert_eq!(after_salutation("Der Kreis Coesfeld"), "der Kreis Coesfeld");
        assert_eq!(
            after_salutation("Die StädteRegion Aachen"),
            "die StädteRegion Aachen"
        );
        assert_eq!(
            after_salutation("Caritasverband Coesfeld"),
            "Caritasverband Coesfeld"
        );
    }

    #[test]
    fn weekdays_are_german() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(weekday_de(date), "Montag");
    }
}
