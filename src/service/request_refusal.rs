//! The office declines what a partner asked for through its link: a later deadline
//! (`service::extension_request`) or being let go as not competent
//! (`service::responsibility_notice`). Until now the office declined by replying to its mail,
//! and the request stayed pending on the matrix and the start page until the consultation
//! closed. Declining is the coordinating role's decision, like granting: it needs a reason,
//! which the partner reads; the request is removed, the decision journaled, and the partner gets
//! a mail with its deadline, which stands, and the link it already has (a new one only if none is
//! left).

use diesel::prelude::*;
use serde_json::{Value, json};

use super::ServiceError;
use super::beteiligung::InvitationRow;
use super::cases::{CaseContext, Invocation, access, case_mail_context, db_time, parse_state};
use super::extension::required_reason;
use super::mail::{self, Envelope, MailContext, MailKind};
use crate::db::models::{CaseForCommand, CaseId, Organisation};
use crate::db::schema::{extension_requests, responsibility_notices};
use crate::db::{DbConnection, write_transaction};
use crate::engine::data::DataError;
use crate::engine::definition::Step;
use crate::engine::{EngineError, Refusal};
use crate::journal::{self, NewEvent};

/// The partner's mail (`templates/mail/anliegen_abgelehnt.*`).
pub const TEMPLATE: &str = "anliegen_abgelehnt";

/// The journal kind of a declined request for more time.
pub const EXTENSION_REFUSED: &str = "extension_request_refused";

/// The journal kind of a declined notice that the partner is not competent.
pub const NOTICE_REFUSED: &str = "not_responsible_refused";

/// What the partner asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnerRequest {
    /// A later deadline.
    Extension,
    /// To be let go as not competent.
    Notice,
}

impl PartnerRequest {
    /// The journal kind of declining it.
    pub fn refused_kind(self) -> &'static str {
        match self {
            PartnerRequest::Extension => EXTENSION_REFUSED,
            PartnerRequest::Notice => NOTICE_REFUSED,
        }
    }

    /// Why there is nothing to decline, worded for the office.
    pub fn none_pending(self) -> &'static str {
        match self {
            PartnerRequest::Extension => {
                "Die Stelle hat um keine Fristverlängerung gebeten, über die noch zu entscheiden wäre."
            }
            PartnerRequest::Notice => {
                "Die Stelle hat keine Mitteilung zur Zuständigkeit gemacht, über die noch zu entscheiden wäre."
            }
        }
    }
}

/// Checks the reason (`grund`): required, since the partner reads why; one line of at most 500
/// characters.
pub fn check(grund: Option<&str>) -> Result<String, Vec<DataError>> {
    required_reason(
        grund,
        "Bitte begründen Sie die Ablehnung; die Stelle erhält die Begründung per Mail.",
    )
}

/// Declines the pending `request` of the partner of invitation `invitation` (its
/// `invitations.id`) of case `id`, checked like any command on the case (`call.check`); only
/// the role coordinating the consultation may. Refused (Unprocessable, with why) when the
/// invitation is no longer open or nothing of the kind is pending. Journaled under the caller;
/// the case version does not change, since neither data nor state does.
pub fn refuse(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    id: CaseId,
    (invitation, request): (i64, PartnerRequest),
    reason: String,
    call: Invocation<'_>,
) -> Result<(), ServiceError> {
    write_transaction(conn, |conn| {
        let locked = CaseForCommand::lock(conn, id)?.ok_or_else(super::cases::not_found)?;
        let case = locked.row;
        (call.check)(access(&case))?;
        let row = InvitationRow::find(conn, invitation)?
            .filter(|i| i.case_id == id.0)
            .ok_or_else(|| ServiceError::NotFound("Diese Einladung gibt es nicht.".into()))?;
        let workflow = ctx.registry.by_id(conn, case.definition_id)?;
        let Some(Step::Consultation(consultation)) = workflow.workflow.step(&row.step) else {
            return Err(ServiceError::NotFound(
                "Diese Einladung gibt es nicht.".into(),
            ));
        };
        if !call.actor.has_role(&consultation.role) {
            let title = workflow.definition().role_title(&consultation.role);
            return Err(ServiceError::Engine(EngineError::Refused {
                reasons: vec![Refusal::RoleNotAllowed {
                    role: consultation.role.clone(),
                    message: format!(
                        "Über Bitten der Beteiligten in der Beteiligung „{}“ entscheidet die Rolle „{title}“.",
                        consultation.title
                    ),
                }],
            }));
        }
        if case.status != "running" || row.status != "open" || row.closed_at.is_some() {
            return Err(ServiceError::Unprocessable(
                "Die Stelle hat bereits geantwortet, die Beteiligung wurde zurückgenommen oder ist abgeschlossen; es ist nichts mehr zu entscheiden.".into(),
            ));
        }
        let asked = match request {
            PartnerRequest::Extension => super::extension_request::pending(conn, row.id)?
                .map(|p| json!({ "until": p.requested_until, "reason": p.reason })),
            PartnerRequest::Notice => super::responsibility_notice::pending(conn, row.id)?
                .map(|n| json!({ "reason": n.reason, "competent": n.competent })),
        }
        .ok_or_else(|| ServiceError::Unprocessable(request.none_pending().into()))?;
        match request {
            PartnerRequest::Extension => {
                diesel::delete(extension_requests::table.find(row.id)).execute(conn)?
            }
            PartnerRequest::Notice => {
                diesel::delete(responsibility_notices::table.find(row.id)).execute(conn)?
            }
        };
        let organisation = Organisation::find(conn, row.organisation_id)?
            .ok_or_else(|| ServiceError::NotFound("Die beteiligte Stelle fehlt.".into()))?;
        let at = db_time(call.clock);
        journal::append(
            conn,
            case.id.0,
            &[NewEvent {
                at,
                actor: call.actor.id.clone(),
                kind: request.refused_kind().into(),
                payload: json!({
                    "invitation": row.local_id,
                    "step": row.step,
                    "participant": organisation.key,
                    "asked": asked,
                    "reason": reason,
                }),
            }],
        )?;
        let to = mail::addresses_of(conn, &organisation)?;
        if to.is_empty() {
            return Err(ServiceError::Unprocessable(format!(
                "Für „{}“ ist weder ein Funktionspostfach noch eine Kontaktadresse hinterlegt; die Stelle erführe nichts von der Ablehnung.",
                organisation.designation()
            )));
        }
        let instance = parse_state(&case)?;
        let mut base = case_mail_context(
            &case,
            locked.applicant_mailbox.as_deref(),
            &workflow,
            &instance,
        );
        base.schritt = Some(consultation.title.clone());
        base.empfaenger = Some(organisation.designation().into_owned());
        base.frist = Some((row.deadline, row.deadline_reason.clone()));
        // The deadline stands, so the link the partner holds stays the right one; another row
        // per declined request would only multiply valid links to the same invitation.
        let link = match super::partner_link::current(conn, ctx.mail, row.id)? {
            Some(link) => link,
            None => super::partner_link::add(conn, ctx.mail, row.id, row.deadline, at)?,
        };
        base.link = Some(link);
        let (subject, context) = mail_context(&base, request, &asked, &reason);
        let reply_to = base.case.kontakt_email.clone();
        mail::queue_replying_to(
            conn,
            ctx.mail,
            Envelope {
                case: Some(case.id.0),
                invitation: Some(row.id),
                template: TEMPLATE,
                recipients: json!({ "kind": "invitation", "invitation": row.local_id, "organisation": organisation.key }),
                to,
            },
            &subject,
            &context,
            reply_to,
            at,
        )
    })
}

/// Subject and body context of the partner's mail: the invitation's, with what was asked and
/// why it is declined.
fn mail_context(
    base: &MailContext,
    request: PartnerRequest,
    asked: &Value,
    reason: &str,
) -> (Value, Value) {
    let notice = request == PartnerRequest::Notice;
    let mut subject = base.subject();
    subject["zustaendigkeit"] = json!(notice);
    let mut context = base.full();
    context["zustaendigkeit"] = json!(notice);
    context["grund"] = json!(reason);
    context["erbeten"] = json!(
        asked["until"]
            .as_str()
            .and_then(crate::frist::parse_day)
            .map(|day| day.format("%d.%m.%Y").to_string())
    );
    (subject, context)
}

/// The mail with sample data for both requests (see [`crate::render::SampleMail`]): a broken
/// override stops start-up instead of the next decision.
pub fn sample_mails() -> Vec<crate::render::SampleMail> {
    let base = MailContext::sample(MailKind::Invitation);
    [
        (
            PartnerRequest::Extension,
            json!({ "until": "2026-10-19", "reason": "Ausschuss" }),
        ),
        (
            PartnerRequest::Notice,
            json!({ "reason": "Nicht zuständig", "competent": null }),
        ),
    ]
    .into_iter()
    .map(|(request, asked)| {
        let (subject, context) = mail_context(
            &base,
            request,
            &asked,
            "Der Kreistag beschließt am 20.10.; spätere Stellungnahmen kann er nicht mehr berücksichtigen.",
        );
        crate::render::SampleMail {
            template: TEMPLATE,
            subject,
            context,
        }
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_is_required_and_one_line() {
        assert_eq!(
            check(Some("  Kreistag am 20.10.  ")).unwrap(),
            "Kreistag am 20.10."
        );
        for missing in [None, Some(""), Some("  ")] {
            let errors = check(missing).unwrap_err();
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].pointer, "/grund");
            assert!(errors[0].message.starts_with("Bitte begründen Sie"));
        }
        assert!(
            check(Some("a\nb")).unwrap_err()[0]
                .message
                .contains("Steuerzeichen")
        );
    }
}
