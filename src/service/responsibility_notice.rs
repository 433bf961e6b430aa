//! A partner tells the office through its personal link that it is not the competent body
//! („Wir sind nicht zuständig“): invited by mistake, it usually notices first. The notice says
//! why and, if the partner knows, which body is competent instead; it is journaled, kept as the
//! invitation's pending notice for the matrix and the start page, and mailed to the
//! coordinating office with a link to the withdrawal form, filled in with the partner's
//! reason. The office decides (`service::withdrawal`); withdrawing answers the notice. Until
//! then the invitation stays open and the partner may still answer.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{Value, json};

use super::ServiceError;
use super::cases::{CaseContext, db_time};
use super::extension::{check_line, required_line};
use super::extension_request::{Asking, NAME, lock_open, tell_office};
use crate::db::schema::responsibility_notices;
use crate::db::{DbConnection, write_transaction};
use crate::engine::Clock;
use crate::engine::data::DataError;
use crate::journal::{self, NewEvent};

/// The mail telling the coordinating office of the notice
/// (`templates/mail/nicht_zustaendig_gemeldet.*`).
pub const TEMPLATE: &str = "nicht_zustaendig_gemeldet";

/// The journal kind of a notice; it changes neither data nor state, so not the case version.
pub const REPORTED: &str = "not_responsible_reported";

/// A notice as the partner wrote it, and as it is pending.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = responsibility_notices)]
pub struct Notice {
    pub invitation_id: i64,
    /// Why the partner is not the competent body.
    pub reason: String,
    /// The body the partner names as competent instead, if it knows one.
    pub competent: Option<String>,
    /// Who wrote it, at the partner.
    pub reported_by: String,
    pub reported_at: NaiveDateTime,
}

/// The typed fields, checked: reason, competent body (if named), name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub reason: String,
    pub competent: Option<String>,
    pub name: String,
}

/// Checks the typed fields (`grund` and `name` required, `zustaendig` optional; one line each);
/// every problem at once, worded for the partner.
pub fn check(
    (grund, zustaendig, name): (Option<&str>, Option<&str>, Option<&str>),
) -> Result<Checked, Vec<DataError>> {
    let mut errors = Vec::new();
    let reason = required_line(
        "/grund",
        grund,
        (
            "Die Begründung",
            "Bitte begründen Sie kurz, warum Sie nicht zuständig sind.",
        ),
        &mut errors,
    );
    let competent = check_line("/zustaendig", zustaendig, "Die Angabe", &mut errors);
    let name = required_line("/name", name, NAME, &mut errors);
    if errors.is_empty() {
        Ok(Checked {
            reason,
            competent,
            name,
        })
    } else {
        Err(errors)
    }
}

/// The pending notice of `invitation`, if any.
pub fn pending(conn: &mut DbConnection, invitation: i64) -> Result<Option<Notice>, ServiceError> {
    Ok(responsibility_notices::table
        .find(invitation)
        .select(Notice::as_select())
        .first(conn)
        .optional()?)
}

/// The reason the withdrawal form is filled in with, for the file: the partner's own words.
pub fn withdrawal_reason(notice: &Notice) -> String {
    let competent = notice
        .competent
        .as_ref()
        .map(|competent| format!("; zuständig sei nach ihrer Angabe: {competent}"))
        .unwrap_or_default();
    let text = format!(
        "Die Stelle hat mitgeteilt, nicht zuständig zu sein: „{}“{competent}",
        notice.reason
    );
    // The withdrawal's reason is one line of at most 500 characters, like the notice's fields.
    text.chars().take(500).collect()
}

/// Records the notice of the partner of `invitation`, replacing an earlier one, journals it and
/// mails the coordinating office; the same notice again changes and sends nothing. Only while
/// the partner could still answer in time (the invitation open, its deadline not passed, the
/// case running): after the deadline its page is read-only. Otherwise Unprocessable, with why.
/// A field's problem is an error at its pointer.
pub fn report(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    invitation: i64,
    fields: (Option<&str>, Option<&str>, Option<&str>),
    clock: &Clock,
) -> Result<Notice, ServiceError> {
    write_transaction(conn, |conn| {
        let asking = lock_open(
            conn,
            invitation,
            "Sie haben bereits geantwortet, oder die Beteiligung ist abgeschlossen oder zurückgenommen; eine Mitteilung zur Zuständigkeit wird nicht mehr entgegengenommen.",
            clock,
        )?;
        let checked = check(fields).map_err(ServiceError::InvalidInput)?;
        let Asking {
            case,
            row,
            organisation,
            verfahren,
        } = &asking;
        // The same notice again (a form sent twice, a reload) is the one pending: no second
        // mail, no second journal entry.
        if let Some(same) = pending(conn, row.id)?.filter(|p| {
            (&p.reason, &p.competent, &p.reported_by)
                == (&checked.reason, &checked.competent, &checked.name)
        }) {
            return Ok(same);
        }
        let at = db_time(clock);
        let recorded = Notice {
            invitation_id: row.id,
            reason: checked.reason,
            competent: checked.competent,
            reported_by: checked.name,
            reported_at: at,
        };
        diesel::delete(responsibility_notices::table.find(row.id)).execute(conn)?;
        diesel::insert_into(responsibility_notices::table)
            .values(&recorded)
            .execute(conn)?;
        journal::append(
            conn,
            row.case_id,
            &[NewEvent {
                at,
                actor: format!("beteiligung:{}", organisation.key),
                kind: REPORTED.into(),
                payload: json!({
                    "invitation": row.local_id,
                    "step": row.step,
                    "participant": organisation.key,
                    "reason": recorded.reason,
                    "competent": recorded.competent,
                    "name": recorded.reported_by,
                }),
            }],
        )?;
        let form = |path: &str| {
            ctx.mail.link(&format!(
                "vorgaenge/{}/einladungen/{}/{path}",
                case.id.0, row.id
            ))
        };
        let (withdraw, keep) = (form("zuruecknehmen"), form("ablehnen/zustaendigkeit"));
        let context = mail_context(MailFacts {
            aktenzeichen: &case.aktenzeichen,
            verfahren,
            stelle: &organisation.designation(),
            notice: &recorded,
            links: (&withdraw, &keep),
        });
        tell_office(conn, ctx, &asking, TEMPLATE, &context, at)?;
        Ok(recorded)
    })
}

/// What the office's mail names.
struct MailFacts<'a> {
    aktenzeichen: &'a str,
    verfahren: &'a str,
    stelle: &'a str,
    notice: &'a Notice,
    /// The withdrawal form, filled in, and the form to keep the partner.
    links: (&'a str, &'a str),
}

fn mail_context(facts: MailFacts<'_>) -> Value {
    json!({
        "aktenzeichen": facts.aktenzeichen,
        "verfahren": facts.verfahren,
        "stelle": facts.stelle,
        "grund": facts.notice.reason,
        "zustaendig": facts.notice.competent,
        "name": facts.notice.reported_by,
        "link": facts.links.0,
        "zurueckweisen": facts.links.1,
    })
}

/// The mail with sample data (see [`crate::render::SampleMail`]): a broken override stops
/// start-up instead of the next notice.
pub fn sample_mails() -> Vec<crate::render::SampleMail> {
    let notice = Notice {
        invitation_id: 3,
        reason: "Für Schulen im Kreisgebiet ist das Schulamt für den Kreis Coesfeld zuständig."
            .into(),
        competent: Some("Schulamt für den Kreis Coesfeld".into()),
        reported_by: "Dr. Jana Winter".into(),
        reported_at: NaiveDateTime::default(),
    };
    let context = mail_context(MailFacts {
        aktenzeichen: "KI-05558-2027-0001",
        verfahren: "Antrag auf Einrichtung eines Kommunalen Integrationszentrums",
        stelle: "Schulamt für die Stadt Münster",
        notice: &notice,
        links: (
            "https://vorgang.example/vorgaenge/1/einladungen/3/zuruecknehmen",
            "https://vorgang.example/vorgaenge/1/einladungen/3/ablehnen/zustaendigkeit",
        ),
    });
    vec![crate::render::SampleMail::new(TEMPLATE, context)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_needs_a_reason_and_a_name_and_may_name_the_competent_body() {
        let checked = check((
            Some("  Kein Schulträger im Kreis "),
            Some(" Schulamt für den Kreis Coesfeld "),
            Some("Dr. Winter"),
        ))
        .unwrap();
        assert_eq!(
            (
                checked.reason.as_str(),
                checked.competent.as_deref(),
                checked.name.as_str()
            ),
            (
                "Kein Schulträger im Kreis",
                Some("Schulamt für den Kreis Coesfeld"),
                "Dr. Winter"
            )
        );
        assert_eq!(
            check((Some("x"), Some("  "), Some("y"))).unwrap().competent,
            None
        );
        let pointers = |fields| -> Vec<String> {
            check(fields)
                .unwrap_err()
                .into_iter()
                .map(|e| e.pointer)
                .collect()
        };
        assert_eq!(pointers((None, None, Some(" "))), ["/grund", "/name"]);
        assert_eq!(
            pointers((Some("a\nb"), Some(&"x".repeat(501)), None)),
            ["/grund", "/zustaendig", "/name"]
        );
    }

    #[test]
    fn the_withdrawal_reason_quotes_the_partner_in_one_line_of_at_most_500_characters() {
        let mut notice = Notice {
            invitation_id: 1,
            reason: "Kein Schulträger im Kreis.".into(),
            competent: Some("Schulamt Coesfeld".into()),
            reported_by: "Winter".into(),
            reported_at: NaiveDateTime::default(),
        };
        assert_eq!(
            withdrawal_reason(&notice),
            "Die Stelle hat mitgeteilt, nicht zuständig zu sein: „Kein Schulträger im Kreis.“; \
             zuständig sei nach ihrer Angabe: Schulamt Coesfeld"
        );
        notice.competent = None;
        notice.reason = "ä".repeat(500);
        let reason = withdrawal_reason(&notice);
        assert_eq!(reason.chars().count(), 500);
        assert!(super::super::withdrawal::check(Some(&reason)).is_ok());
    }
}
