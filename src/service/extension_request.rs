//! A partner asks for more time through its personal link („Um Fristverlängerung bitten“):
//! usually because its committee meets after the deadline. The request names a later working
//! day and why; it is journaled, kept as the invitation's pending request for the matrix, and
//! mailed to the coordinating office with a link to the Fristverlängerung form, filled in with
//! the day asked for, and one to decline. The office decides: extending
//! (`service::extension`) or declining (`service::request_refusal`) answers the request.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::{Value, json};

use super::ServiceError;
use super::beteiligung::InvitationRow;
use super::cases::{CaseContext, db_time};
use super::extension::{error, required_line};
use super::mail::{self, Envelope};
use crate::db::models::{CaseForCommand, CaseId, CaseRow, Organisation};
use crate::db::schema::{extension_requests, invitations};
use crate::db::{DbConnection, write_transaction};
use crate::engine::Clock;
use crate::engine::data::DataError;
use crate::frist::HolidayCalendar;
use crate::journal::{self, NewEvent};

/// The mail telling the coordinating office of the request
/// (`templates/mail/fristverlaengerung_erbeten.*`).
pub const TEMPLATE: &str = "fristverlaengerung_erbeten";

/// The journal kind of a request; it changes neither data nor state, so not the case version.
pub const REQUESTED: &str = "extension_requested";

/// The partner's name, required on its requests: what it is called, and the message when blank.
pub(crate) const NAME: (&str, &str) = ("Der Name", "Bitte geben Sie Ihren Namen an.");

/// A request as the partner made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionRequest {
    /// The last day asked for.
    pub until: NaiveDate,
    /// Why (the committee's meeting, for instance).
    pub reason: String,
    /// Who asks, at the partner.
    pub name: String,
}

/// A pending request, as the matrix and the partner's page show it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = extension_requests)]
pub struct PendingRequest {
    pub invitation_id: i64,
    pub requested_until: NaiveDate,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: NaiveDateTime,
}

/// Checks the typed fields (`frist` as `JJJJ-MM-TT` or `TT.MM.JJJJ`, `grund` and `name` one line
/// each) against the current `deadline` and `today`; every problem at once, worded for the
/// partner.
pub fn check(
    (frist, grund, name): (Option<&str>, Option<&str>, Option<&str>),
    deadline: NaiveDate,
    today: NaiveDate,
) -> Result<ExtensionRequest, Vec<DataError>> {
    let mut errors = Vec::new();
    let typed = frist.map(str::trim).unwrap_or_default();
    let refused = match crate::frist::parse_day(typed) {
        _ if typed.is_empty() => {
            Err("Bitte geben Sie an, bis wann Sie Ihre Stellungnahme abgeben können.".to_string())
        }
        None => Err(
            "Bitte geben Sie das gewünschte Fristende als Datum an, zum Beispiel 15.01.2027."
                .to_string(),
        ),
        Some(until) => {
            let why = HolidayCalendar::for_land(crate::engine::LAND)
                .and_then(|calendar| {
                    crate::frist::refuse_named_end(calendar, deadline, until, today)
                })
                .unwrap_or_else(|error| Some(error.to_string()));
            why.map_or(Ok(until), Err)
        }
    };
    let until = refused
        .map_err(|why| errors.push(error("/frist", &why)))
        .ok();
    let reason = required_line(
        "/grund",
        grund,
        (
            "Der Grund",
            "Bitte nennen Sie den Grund, damit die Stelle über Ihre Bitte entscheiden kann.",
        ),
        &mut errors,
    );
    let name = required_line("/name", name, NAME, &mut errors);
    match until {
        Some(until) if errors.is_empty() => Ok(ExtensionRequest {
            until,
            reason,
            name,
        }),
        _ => Err(errors),
    }
}

/// The pending request of `invitation`, if any.
pub fn pending(
    conn: &mut DbConnection,
    invitation: i64,
) -> Result<Option<PendingRequest>, ServiceError> {
    Ok(extension_requests::table
        .find(invitation)
        .select(PendingRequest::as_select())
        .first(conn)
        .optional()?)
}

/// Records the request of the partner of `invitation`, replacing an earlier one, journals it and
/// mails the coordinating office; the same request again changes and sends nothing. Only while
/// the partner can still answer in time (the invitation open, its deadline not passed, the case
/// running); otherwise Unprocessable, with why. A day that does not suit is an error at
/// `/frist`. The case is locked first, so that an answer or another request of the same moment
/// comes before or after, never in between.
pub fn request(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    invitation: i64,
    fields: (Option<&str>, Option<&str>, Option<&str>),
    clock: &Clock,
) -> Result<PendingRequest, ServiceError> {
    write_transaction(conn, |conn| {
        let asking = lock_open(
            conn,
            invitation,
            "Sie haben bereits geantwortet, oder die Beteiligung ist abgeschlossen; um eine Fristverlängerung kann nicht mehr gebeten werden.",
            clock,
        )?;
        let Asking {
            case,
            row,
            organisation,
            verfahren,
        } = &asking;
        let checked =
            check(fields, row.deadline, clock.today).map_err(ServiceError::InvalidInput)?;
        // The same request again (a form sent twice, a reload) is the one pending: no second
        // mail, no second journal entry.
        if let Some(same) = pending(conn, row.id)?.filter(|p| {
            (
                p.requested_until,
                p.reason.as_str(),
                p.requested_by.as_str(),
            ) == (
                checked.until,
                checked.reason.as_str(),
                checked.name.as_str(),
            )
        }) {
            return Ok(same);
        }
        let at = db_time(clock);
        let recorded = PendingRequest {
            invitation_id: row.id,
            requested_until: checked.until,
            reason: checked.reason.clone(),
            requested_by: checked.name.clone(),
            requested_at: at,
        };
        diesel::delete(extension_requests::table.find(row.id)).execute(conn)?;
        diesel::insert_into(extension_requests::table)
            .values((
                extension_requests::invitation_id.eq(recorded.invitation_id),
                extension_requests::requested_until.eq(recorded.requested_until),
                extension_requests::reason.eq(&recorded.reason),
                extension_requests::requested_by.eq(&recorded.requested_by),
                extension_requests::requested_at.eq(recorded.requested_at),
            ))
            .execute(conn)?;
        journal::append(
            conn,
            row.case_id,
            &[NewEvent {
                at,
                actor: format!("beteiligung:{}", organisation.key),
                kind: REQUESTED.into(),
                payload: json!({
                    "invitation": row.local_id,
                    "step": row.step,
                    "participant": organisation.key,
                    "deadline": row.deadline,
                    "until": checked.until,
                    "reason": checked.reason,
                    "name": checked.name,
                }),
            }],
        )?;
        let link = ctx.mail.link(&format!(
            "vorgaenge/{}/einladungen/{}/frist?frist={}",
            case.id.0,
            row.id,
            checked.until.format("%Y-%m-%d")
        ));
        let decline = ctx.mail.link(&format!(
            "vorgaenge/{}/einladungen/{}/ablehnen/fristverlaengerung",
            case.id.0, row.id
        ));
        let context = mail_context(MailFacts {
            aktenzeichen: &case.aktenzeichen,
            verfahren,
            stelle: &organisation.designation(),
            name: &checked.name,
            deadline: row.deadline,
            until: checked.until,
            reason: &checked.reason,
            links: (&link, &decline),
        });
        tell_office(conn, ctx, &asking, TEMPLATE, &context, at)?;
        Ok(recorded)
    })
}

/// What a partner's request through its link concerns, read before anything is written.
pub(crate) struct Asking {
    /// The case, locked for the request's transaction.
    pub case: CaseRow,
    pub row: InvitationRow,
    /// The partner.
    pub organisation: Organisation,
    /// The workflow's title, for the office's mail.
    pub verfahren: String,
}

/// Locks the case of `invitation` and reads what a partner's request concerns; the case first,
/// so that an answer or another request of the same moment comes before or after, never in
/// between. Only while the partner could still answer in time: the invitation open, the case
/// running (otherwise Unprocessable with `closed`, worded for the partner), its deadline not
/// passed (after it the partner's page is read-only).
pub(crate) fn lock_open(
    conn: &mut DbConnection,
    invitation: i64,
    closed: &str,
    clock: &Clock,
) -> Result<Asking, ServiceError> {
    let gone = || ServiceError::NotFound("Diese Beteiligung gibt es nicht mehr.".into());
    let case_id: i64 = invitations::table
        .find(invitation)
        .select(invitations::case_id)
        .first(conn)
        .optional()?
        .ok_or_else(gone)?;
    let case = CaseForCommand::lock(conn, CaseId(case_id))?
        .ok_or_else(gone)?
        .row;
    let row = InvitationRow::find(conn, invitation)?.ok_or_else(gone)?;
    if case.status != "running" || row.status != "open" || row.closed_at.is_some() {
        return Err(ServiceError::Unprocessable(closed.into()));
    }
    if row.deadline < clock.today {
        return Err(ServiceError::Unprocessable(format!(
            "Die Frist ist am {} abgelaufen; bitte wenden Sie sich direkt an die Stelle, die Sie beteiligt hat.",
            row.deadline.format("%d.%m.%Y")
        )));
    }
    let organisation = Organisation::find(conn, row.organisation_id)?.ok_or_else(gone)?;
    let verfahren = super::assignments::workflow_title(conn, &case)?;
    Ok(Asking {
        case,
        row,
        organisation,
        verfahren,
    })
}

/// Queues `template` with `context` to the applicant's office about a partner's request; a
/// reply reaches the partner, so the office asks back by answering the mail. The subject names
/// the case only (no personal data in subject lines).
pub(crate) fn tell_office(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    asking: &Asking,
    template: &'static str,
    context: &Value,
    at: NaiveDateTime,
) -> Result<(), ServiceError> {
    let to = mail::office_addresses(conn, asking.case.applicant_id)?;
    let reply_to = mail::addresses_of(conn, &asking.organisation)?
        .into_iter()
        .next();
    mail::queue_replying_to(
        conn,
        ctx.mail,
        Envelope {
            case: Some(asking.case.id.0),
            invitation: Some(asking.row.id),
            template,
            recipients: json!({ "kind": "applicant" }),
            to,
        },
        &json!({ "aktenzeichen": asking.case.aktenzeichen, "verfahren": asking.verfahren }),
        context,
        reply_to,
        at,
    )
}

/// What the office's mail names.
struct MailFacts<'a> {
    aktenzeichen: &'a str,
    verfahren: &'a str,
    stelle: &'a str,
    name: &'a str,
    deadline: NaiveDate,
    until: NaiveDate,
    reason: &'a str,
    /// The Fristverlängerung form, filled in, and the form to decline.
    links: (&'a str, &'a str),
}

fn mail_context(facts: MailFacts<'_>) -> Value {
    let day = |d: NaiveDate| d.format("%d.%m.%Y").to_string();
    json!({
        "aktenzeichen": facts.aktenzeichen,
        "verfahren": facts.verfahren,
        "stelle": facts.stelle,
        "name": facts.name,
        "frist": day(facts.deadline),
        "erbeten": day(facts.until),
        "grund": facts.reason,
        "link": facts.links.0,
        "ablehnen": facts.links.1,
    })
}

/// The mail with sample data (see [`crate::render::SampleMail`]): a broken override stops
/// start-up instead of the next request.
pub fn sample_mails() -> Vec<crate::render::SampleMail> {
    let context = mail_context(MailFacts {
        aktenzeichen: "KI-05558-2027-0001",
        verfahren: "Antrag auf Einrichtung eines Kommunalen Integrationszentrums",
        stelle: "Kreisjugendamt Coesfeld",
        name: "Dr. Jana Winter",
        deadline: NaiveDate::from_ymd_opt(2027, 1, 6).unwrap_or_default(),
        until: NaiveDate::from_ymd_opt(2027, 1, 20).unwrap_or_default(),
        reason: "Der Jugendhilfeausschuss tagt am 14.01.2027.",
        links: (
            "https://vorgang.example/vorgaenge/1/einladungen/3/frist?frist=2027-01-20",
            "https://vorgang.example/vorgaenge/1/einladungen/3/ablehnen/fristverlaengerung",
        ),
    });
    vec![crate::render::SampleMail::new(TEMPLATE, context)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_request_names_a_later_working_day_a_reason_and_who_asks() {
        let (deadline, today) = (day("2027-01-06"), day("2026-12-10"));
        let request = check(
            (
                Some("20.01.2027"),
                Some(" Ausschuss tagt am 14.01. "),
                Some("Dr. Winter"),
            ),
            deadline,
            today,
        )
        .unwrap();
        assert_eq!(
            (
                request.until,
                request.reason.as_str(),
                request.name.as_str()
            ),
            (day("2027-01-20"), "Ausschuss tagt am 14.01.", "Dr. Winter")
        );
        let errors = |fields| -> Vec<(String, String)> {
            check(fields, deadline, today)
                .unwrap_err()
                .into_iter()
                .map(|e| (e.pointer, e.message))
                .collect()
        };
        let all = errors((None, Some(" "), None));
        assert_eq!(
            all.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
            ["/frist", "/grund", "/name"]
        );
        for (frist, message) in [
            ("bald", "als Datum"),
            ("2027-01-06", "nach der bisherigen"),
            ("2027-01-09", "kein Werktag (Samstag)"),
            ("2028-01-10", "mehr als ein Jahr"),
        ] {
            let found = errors((Some(frist), Some("x"), Some("y")));
            assert!(
                found.len() == 1 && found[0].0 == "/frist" && found[0].1.contains(message),
                "{frist}: {found:?}"
            );
        }
        let found = errors((Some("2027-01-20"), Some("a\nb"), Some("y")));
        assert_eq!(found[0].0, "/grund", "{found:?}");
    }
}
