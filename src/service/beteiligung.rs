//! Beteiligung in storage: the `invitations` rows that mirror the engine's invitations (for the
//! consultation matrix and for links), every answer version in `answers`, and the mails that go
//! with them. Called from the case commands' transaction, so rows, journal and mails agree.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};

use super::ServiceError;
use super::mail::{self, MailContext, Outgoing, PendingAsks, QueuedMail};
use super::{clock, extension_request, partner_link, responsibility_notice};
use crate::db::models::{Organisation, OrganisationId};
use crate::db::schema::{
    answers, extension_requests, invitations, organisations, responsibility_notices,
};
use crate::db::{DbConnection, Deferred, insert_rows, reused};
use crate::designation::designation;
use crate::engine::instance::{Answer, InvitationStatus, LocalId, Votum};

/// German label of a Votum, as partners chose it.
pub fn votum_de(votum: Votum) -> &'static str {
    match votum {
        Votum::Zustimmung => "Zustimmung",
        Votum::ZustimmungMitHinweisen => "Zustimmung mit Hinweisen",
        Votum::Bedenken => "Bedenken",
        Votum::KeineStellungnahme => "Keine Stellungnahme",
    }
}

/// The stored name of a Votum (`zustimmung_mit_hinweisen`).
pub fn votum_key(votum: Votum) -> &'static str {
    match votum {
        Votum::Zustimmung => "zustimmung",
        Votum::ZustimmungMitHinweisen => "zustimmung_mit_hinweisen",
        Votum::Bedenken => "bedenken",
        Votum::KeineStellungnahme => "keine_stellungnahme",
    }
}

/// Parses a stored or submitted Votum name.
pub fn parse_votum(text: &str) -> Option<Votum> {
    [
        Votum::Zustimmung,
        Votum::ZustimmungMitHinweisen,
        Votum::Bedenken,
        Votum::KeineStellungnahme,
    ]
    .into_iter()
    .find(|v| votum_key(*v) == text)
}

/// A row of `invitations`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invitations)]
pub struct InvitationRow {
    pub id: i64,
    pub case_id: i64,
    pub local_id: i64,
    pub step: String,
    pub organisation_id: OrganisationId,
    pub deadline: NaiveDate,
    pub deadline_reason: Option<String>,
    pub status: String,
    pub invited_at: NaiveDateTime,
    pub answered_at: Option<NaiveDateTime>,
    pub votum: Option<String>,
    pub late: bool,
    pub versions: i32,
    pub reminders_sent: i32,
    pub closed_at: Option<NaiveDateTime>,
    /// The day the latest answer reached the office, when the office entered it.
    pub received_on: Option<NaiveDate>,
}

impl InvitationRow {
    /// The invitation with this id.
    pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<Self>, ServiceError> {
        Ok(invitations::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()?)
    }

    /// The invitation of a case by its engine id.
    pub fn by_local(
        conn: &mut DbConnection,
        case: i64,
        local: LocalId,
    ) -> Result<Option<Self>, ServiceError> {
        Ok(invitations::table
            .filter(invitations::case_id.eq(case))
            .filter(invitations::local_id.eq(local.0 as i64))
            .select(Self::as_select())
            .first(conn)
            .optional()?)
    }
}

/// One answer version, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = answers)]
pub struct AnswerVersion {
    #[serde(skip)]
    pub id: i64,
    #[serde(skip)]
    pub invitation_id: i64,
    pub version: i32,
    pub votum: String,
    pub text: String,
    pub answered_by: String,
    pub document_id: Option<i64>,
    pub late: bool,
    pub created_at: NaiveDateTime,
    /// The day it reached the office, when the office entered it.
    pub received_on: Option<NaiveDate>,
}

/// Every version of the answers to `invitation`, oldest first.
pub fn answer_versions(
    conn: &mut DbConnection,
    invitation: i64,
) -> Result<Vec<AnswerVersion>, ServiceError> {
    Ok(answers::table
        .filter(answers::invitation_id.eq(invitation))
        .order(answers::version)
        .select(AnswerVersion::as_select())
        .load(conn)?)
}

/// Everything a mail about one invitation needs besides the case facts.
fn invitation_context(
    base: &MailContext,
    organisation: &Organisation,
    row: &InvitationRow,
    link: Option<String>,
) -> MailContext {
    let mut context = base.clone();
    context.empfaenger = Some(organisation.designation().into_owned());
    context.frist = Some((row.deadline, row.deadline_reason.clone()));
    context.link = link;
    context
}

/// What the partner of `invitation` asked and the office has not decided yet, for the mails
/// that remind it of its deadline.
fn pending_asks(conn: &mut DbConnection, invitation: i64) -> Result<PendingAsks, ServiceError> {
    let day = |at: NaiveDateTime| clock::berlin_date(at.and_utc());
    Ok(PendingAsks {
        extension: extension_request::pending(conn, invitation)?
            .map(|request| (request.requested_until, day(request.requested_at))),
        notice: responsibility_notice::pending(conn, invitation)?
            .map(|notice| (day(notice.reported_at), notice.competent)),
    })
}

/// One invitation an engine outcome asks for (`SideEffect::Invite`), with the mail context of
/// its step.
pub struct NewInvitation<'a> {
    pub invitation: LocalId,
    pub step: &'a str,
    pub participant: &'a str,
    pub deadline: NaiveDate,
    pub deadline_reason: Option<&'a str>,
    pub template: &'a str,
    pub base: MailContext,
}

/// New invitations of one command: their rows, their first links and the invitation mails.
/// However many partners a step names, it takes one statement each for the organisations,
/// their contact addresses, the invitations, the links and the mails (five per partner when
/// written one by one). A participant that is not a known organisation, or has no address,
/// refuses the whole command, the first such in `new` named.
pub fn invite_all(
    conn: &mut DbConnection,
    deferred: &mut Deferred,
    out: &Outgoing,
    case: i64,
    new: &[NewInvitation<'_>],
    at: NaiveDateTime,
) -> Result<(), ServiceError> {
    if new.is_empty() {
        return Ok(());
    }
    let keys: Vec<&str> = new.iter().map(|n| n.participant).collect();
    let found = mail::organisations_with_addresses(conn, &keys)?;
    let mut recipients: Vec<(&Organisation, &Vec<String>)> = Vec::with_capacity(new.len());
    for n in new {
        let participant = n.participant;
        let Some(index) = found.iter().position(|(o, _)| o.key == participant) else {
            return Err(ServiceError::Unprocessable(format!(
                "Die zu beteiligende Stelle „{participant}“ ist nicht als Organisation erfasst; \
                 bitte legen Sie sie zuerst an."
            )));
        };
        let (organisation, to) = (&found[index].0, &found[index].1);
        if to.is_empty() {
            return Err(ServiceError::Unprocessable(format!(
                "Für „{}“ ist weder ein Funktionspostfach noch eine Kontaktadresse hinterlegt; \
                 die Einladung zur Beteiligung kann nicht versandt werden.",
                organisation.designation()
            )));
        }
        recipients.push((organisation, to));
    }

    // The columns every invitation is written with; owned, since on PostgreSQL the INSERT waits
    // in `deferred` for the command's one statement.
    let values = |n: &NewInvitation<'_>, organisation: &Organisation| {
        (
            invitations::case_id.eq(case),
            invitations::local_id.eq(n.invitation.0 as i64),
            invitations::step.eq(n.step.to_string()),
            invitations::organisation_id.eq(organisation.id),
            invitations::deadline.eq(n.deadline),
            invitations::deadline_reason.eq(n.deadline_reason.map(str::to_string)),
            invitations::invited_at.eq(at),
        )
    };
    let stored: Vec<InvitationRow> = match conn {
        // PostgreSQL draws the ids first, so the invitations can join the command's other writes
        // (`deferred`) and the rows are known in full before they are written.
        DbConnection::Pg(pg) => {
            let ids = draw_invitation_ids(pg, new.len())?;
            let rows: Vec<_> = new
                .iter()
                .zip(&recipients)
                .zip(&ids)
                .map(|((n, (organisation, _)), id)| {
                    (invitations::id.eq(*id), values(n, organisation))
                })
                .collect();
            deferred.push(diesel::insert_into(invitations::table).values(rows));
            new.iter()
                .zip(&recipients)
                .zip(ids)
                .map(|((n, (organisation, _)), id)| InvitationRow {
                    id,
                    case_id: case,
                    local_id: n.invitation.0 as i64,
                    step: n.step.to_string(),
                    organisation_id: organisation.id,
                    deadline: n.deadline,
                    deadline_reason: n.deadline_reason.map(str::to_string),
                    status: "open".to_string(),
                    invited_at: at,
                    answered_at: None,
                    votum: None,
                    late: false,
                    versions: 0,
                    reminders_sent: 0,
                    closed_at: None,
                    received_on: None,
                })
                .collect()
        }
        // SQLite, where a statement costs no round trip, inserts them and reads them back.
        DbConnection::Sqlite(_) => {
            let rows: Vec<_> = new
                .iter()
                .zip(&recipients)
                .map(|(n, (organisation, _))| values(n, organisation))
                .collect();
            insert_rows!(conn, invitations::table, rows)?;
            let locals: Vec<i64> = new.iter().map(|n| n.invitation.0 as i64).collect();
            invitations::table
                .filter(invitations::case_id.eq(case))
                .filter(invitations::local_id.eq_any(&locals))
                .select(InvitationRow::as_select())
                .load(conn)?
        }
    };

    let mut links = Vec::with_capacity(new.len());
    let mut mails = Vec::with_capacity(new.len());
    for (n, (organisation, to)) in new.iter().zip(&recipients) {
        let row = stored
            .iter()
            .find(|row| row.local_id == n.invitation.0 as i64)
            .ok_or_else(|| {
                ServiceError::NotFound("Die Einladung wurde soeben angelegt, fehlt aber.".into())
            })?;
        // The invitation is new, so it has no link yet that would have to be revoked.
        let (link, url) = partner_link::prepare_first(out, row.id, n.deadline, at)?;
        links.push(link);
        let context = invitation_context(&n.base, organisation, row, Some(url));
        mails.push(mail::prepare(
            out,
            QueuedMail {
                case: Some(case),
                invitation: Some(row.id),
                template: n.template,
                recipients: json!({ "kind": "invitation", "invitation": n.invitation, "organisation": n.participant }),
                to: to.to_vec(),
                context: &context,
            },
        )?);
    }
    partner_link::insert_first(conn, deferred, links)?;
    mail::insert_prepared(conn, deferred, mails, at)
}

/// `count` fresh ids of `invitations` (PostgreSQL), in one round trip.
fn draw_invitation_ids(
    pg: &mut diesel::pg::PgConnection,
    count: usize,
) -> Result<Vec<i64>, ServiceError> {
    #[derive(QueryableByName)]
    struct Drawn {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    let drawn: Vec<Drawn> = reused(
        diesel::sql_query(
            "SELECT nextval('invitations_id_seq'::regclass) AS id FROM generate_series(1, $1)",
        )
        .bind::<diesel::sql_types::BigInt, _>(count as i64),
    )
    .load(pg)?;
    Ok(drawn.into_iter().map(|d| d.id).collect())
}

/// Re-sends the invitation mail of an open invitation with a new link (the old one is revoked).
pub fn resend(
    conn: &mut DbConnection,
    out: &Outgoing,
    row: &InvitationRow,
    template: &str,
    base: &MailContext,
    at: NaiveDateTime,
) -> Result<(), ServiceError> {
    let organisation = Organisation::find(conn, row.organisation_id)?
        .ok_or_else(|| ServiceError::NotFound("Die beteiligte Stelle fehlt.".into()))?;
    let to = mail::addresses_of(conn, &organisation)?;
    if to.is_empty() {
        return Err(ServiceError::Unprocessable(format!(
            "Für „{}“ ist weder ein Funktionspostfach noch eine Kontaktadresse hinterlegt.",
            organisation.designation()
        )));
    }
    let link = partner_link::issue(conn, out, row.id, row.deadline, at)?;
    let context = invitation_context(base, &organisation, row, Some(link));
    mail::queue(
        conn,
        out,
        QueuedMail {
            case: Some(row.case_id),
            invitation: Some(row.id),
            template,
            recipients: json!({ "kind": "invitation", "invitation": row.local_id, "organisation": organisation.key, "resent": true }),
            to,
            context: &context,
        },
        at,
    )
}

/// Stores an extended deadline (`SideEffect::ExtendInvitation`) and tells the partner, with a
/// further link that lasts until the new deadline plus the grace period (see
/// [`partner_link::add`]).
pub fn extended(
    conn: &mut DbConnection,
    out: &Outgoing,
    mut row: InvitationRow,
    deadline: NaiveDate,
    base: &MailContext,
    at: NaiveDateTime,
) -> Result<(), ServiceError> {
    // The new day stands with why it is that day, on the matrix, the partner's page and in
    // later mails („Bitte antworten Sie bis …“).
    let reason = format!(
        "Die Frist wurde am {} verlängert (bisher: {}).",
        super::clock::berlin_date(at.and_utc()).format("%d.%m.%Y"),
        row.deadline.format("%d.%m.%Y")
    );
    // A request of the partner's is answered by the extension, whatever day it names.
    diesel::update(invitations::table.find(row.id))
        .set((
            invitations::deadline.eq(deadline),
            invitations::deadline_reason.eq(&reason),
        ))
        .execute(conn)?;
    diesel::delete(extension_requests::table.find(row.id)).execute(conn)?;
    row.deadline = deadline;
    row.deadline_reason = Some(reason);
    let organisation = Organisation::find(conn, row.organisation_id)?
        .ok_or_else(|| ServiceError::NotFound("Die beteiligte Stelle fehlt.".into()))?;
    let to = mail::addresses_of(conn, &organisation)?;
    if to.is_empty() {
        return Err(ServiceError::Unprocessable(format!(
            "Für „{}“ ist weder ein Funktionspostfach noch eine Kontaktadresse hinterlegt; die Stelle erführe nichts von der neuen Frist.",
            organisation.designation()
        )));
    }
    let link = partner_link::add(conn, out, row.id, deadline, at)?;
    let context = invitation_context(base, &organisation, &row, Some(link));
    mail::queue(
        conn,
        out,
        QueuedMail {
            case: Some(row.case_id),
            invitation: Some(row.id),
            template: mail::EXTENSION_TEMPLATE,
            recipients: json!({ "kind": "invitation", "invitation": row.local_id, "organisation": organisation.key }),
            to,
            context: &context,
        },
        at,
    )
}

/// Stores a withdrawn invitation (`SideEffect::WithdrawInvitation`): closed now, its links
/// revoked at once (the partner no longer sees the case), a pending request for more time
/// and a notice that it is not competent gone, and the partner told that no Stellungnahme is needed.
pub fn withdrawn(
    conn: &mut DbConnection,
    out: &Outgoing,
    row: InvitationRow,
    base: &MailContext,
    at: NaiveDateTime,
) -> Result<(), ServiceError> {
    diesel::update(invitations::table.find(row.id))
        .set((
            invitations::status.eq("withdrawn"),
            invitations::closed_at.eq(at),
        ))
        .execute(conn)?;
    partner_link::revoke_all(conn, row.id, at)?;
    // What the partner asked is settled by the withdrawal; the mail says so.
    let asked = pending_asks(conn, row.id)?;
    diesel::delete(extension_requests::table.find(row.id)).execute(conn)?;
    // The partner's notice that it is not competent is answered by the withdrawal.
    diesel::delete(responsibility_notices::table.find(row.id)).execute(conn)?;
    let organisation = Organisation::find(conn, row.organisation_id)?
        .ok_or_else(|| ServiceError::NotFound("Die beteiligte Stelle fehlt.".into()))?;
    let to = mail::addresses_of(conn, &organisation)?;
    if to.is_empty() {
        // Its address was removed since the invitation: nothing to tell, the link is dead.
        return Ok(());
    }
    let mut context = invitation_context(base, &organisation, &row, None);
    context.anliegen = asked;
    mail::queue(
        conn,
        out,
        QueuedMail {
            case: Some(row.case_id),
            invitation: Some(row.id),
            template: mail::WITHDRAWAL_TEMPLATE,
            recipients: json!({ "kind": "invitation", "invitation": row.local_id, "organisation": organisation.key }),
            to,
            context: &context,
        },
        at,
    )
}

/// A mail to invited organisations (a reminder, or a workflow's mail to participants), each
/// with its own personal link.
#[allow(clippy::too_many_arguments)]
pub fn mail_invited(
    conn: &mut DbConnection,
    out: &Outgoing,
    case: i64,
    invitations_to: &[(LocalId, String)],
    template: &str,
    reminder: bool,
    base: &MailContext,
    at: NaiveDateTime,
) -> Result<(), ServiceError> {
    for (local, participant) in invitations_to {
        let Some(row) = InvitationRow::by_local(conn, case, *local)? else {
            continue;
        };
        let Some(organisation) = Organisation::find(conn, row.organisation_id)? else {
            continue;
        };
        let to = mail::addresses_of(conn, &organisation)?;
        let link = partner_link::current(conn, out, row.id)?;
        let mut context = invitation_context(base, &organisation, &row, link);
        context.anliegen = pending_asks(conn, row.id)?;
        mail::queue(
            conn,
            out,
            QueuedMail {
                case: Some(case),
                invitation: Some(row.id),
                template,
                recipients: json!({ "kind": "invitation", "invitation": local, "organisation": participant }),
                to,
                context: &context,
            },
            at,
        )?;
        if reminder {
            diesel::update(invitations::table.find(row.id))
                .set(invitations::reminders_sent.eq(invitations::reminders_sent + 1))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Stores an answer version the engine accepted, updates the invitation and mails the partner
/// a confirmation with a copy of the answer.
#[allow(clippy::too_many_arguments)]
pub fn answered(
    conn: &mut DbConnection,
    out: &Outgoing,
    case: i64,
    local: LocalId,
    status: &InvitationStatus,
    base: &MailContext,
    at: NaiveDateTime,
) -> Result<(), ServiceError> {
    let InvitationStatus::Answered {
        answer,
        version,
        late,
        ..
    } = status
    else {
        return Ok(());
    };
    let Some(row) = InvitationRow::by_local(conn, case, local)? else {
        return Ok(());
    };
    let document = answer
        .attachment
        .as_deref()
        .and_then(|id| id.parse::<i64>().ok());
    diesel::insert_into(answers::table)
        .values((
            answers::invitation_id.eq(row.id),
            answers::version.eq(*version as i32),
            answers::votum.eq(votum_key(answer.votum)),
            answers::text.eq(&answer.text),
            answers::answered_by.eq(&answer.answered_by),
            answers::document_id.eq(document),
            answers::late.eq(*late),
            answers::created_at.eq(at),
            answers::received_on.eq(answer.received_on),
        ))
        .execute(conn)?;
    diesel::update(invitations::table.find(row.id))
        .set((
            invitations::status.eq("answered"),
            invitations::answered_at.eq(at),
            invitations::votum.eq(votum_key(answer.votum)),
            invitations::late.eq(*late),
            invitations::versions.eq(*version as i32),
            invitations::received_on.eq(answer.received_on),
        ))
        .execute(conn)?;
    let Some(organisation) = Organisation::find(conn, row.organisation_id)? else {
        return Ok(());
    };
    let to = mail::addresses_of(conn, &organisation)?;
    if to.is_empty() {
        return Ok(());
    }
    let link = partner_link::current(conn, out, row.id)?;
    let mut context = invitation_context(base, &organisation, &row, link);
    context.antwort = Some(answer_json(answer, *version, *late, at));
    mail::queue(
        conn,
        out,
        QueuedMail {
            case: Some(case),
            invitation: Some(row.id),
            template: mail::CONFIRMATION_TEMPLATE,
            recipients: json!({ "kind": "invitation", "invitation": local, "organisation": organisation.key }),
            to,
            context: &context,
        },
        at,
    )
}

fn answer_json(answer: &Answer, version: u32, late: bool, at: NaiveDateTime) -> Value {
    mail::answer_value(
        votum_de(answer.votum),
        &answer.text,
        &answer.answered_by,
        version,
        late,
        at,
        answer.received_on,
    )
}

/// The invitation is over (its step was left): unanswered ones expire; the link stays readable
/// for the grace period.
pub fn close(
    conn: &mut DbConnection,
    case: i64,
    local: LocalId,
    at: NaiveDateTime,
) -> Result<(), ServiceError> {
    let target = invitations::table
        .filter(invitations::case_id.eq(case))
        .filter(invitations::local_id.eq(local.0 as i64));
    diesel::update(target.filter(invitations::status.eq("open")))
        .set(invitations::status.eq("expired"))
        .execute(conn)?;
    diesel::update(target.filter(invitations::closed_at.is_null()))
        .set(invitations::closed_at.eq(at))
        .execute(conn)?;
    Ok(())
}

/// Tells the coordinating office that the consultation at `step` is over, with the result per
/// participant.
pub fn completed(
    conn: &mut DbConnection,
    out: &Outgoing,
    case: i64,
    applicant: OrganisationId,
    step: &str,
    base: &MailContext,
    at: NaiveDateTime,
) -> Result<(), ServiceError> {
    let rows: Vec<(String, String, Option<String>)> = invitations::table
        .inner_join(organisations::table)
        .filter(invitations::case_id.eq(case))
        .filter(invitations::step.eq(step))
        .filter(invitations::closed_at.is_null())
        .order(organisations::name)
        .select((organisations::kind, organisations::name, invitations::votum))
        .load(conn)?;
    let ergebnis: Vec<Value> = rows
        .into_iter()
        .map(|(kind, name, votum)| {
            let label = votum.as_deref().and_then(parse_votum).map(votum_de);
            let organisation = designation(&kind, &name);
            json!({ "organisation": organisation, "votum": label, "beantwortet": label.is_some() })
        })
        .collect();
    let to = mail::office_addresses(conn, applicant)?;
    let mut context = base.clone();
    context.ergebnis = Some(Value::Array(ergebnis));
    mail::queue(
        conn,
        out,
        QueuedMail {
            case: Some(case),
            invitation: None,
            template: mail::RESULT_TEMPLATE,
            recipients: json!({ "kind": "applicant" }),
            to,
            context: &context,
        },
        at,
    )
}

/// Whether the office may still extend an invitation's deadline, as the engine decides it: the
/// invitation is open, or answered in time (the partner may amend its Stellungnahme until the
/// deadline), and its consultation runs.
pub fn deadline_extendable(status: &str, late: bool, closed_at: Option<NaiveDateTime>) -> bool {
    closed_at.is_none()
        && match status {
            "open" => true,
            "answered" => !late,
            _ => false,
        }
}

/// One participant's line in the consultation matrix.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MatrixRow {
    /// `invitations.id`.
    pub invitation: i64,
    /// The consultation step.
    pub step: String,
    /// AGS or key of the participant.
    pub organisation: String,
    /// Its name as written in text (see [`crate::designation`]).
    pub organisation_name: String,
    /// UTC, RFC 3339.
    #[serde(serialize_with = "crate::utc::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub invited_at: NaiveDateTime,
    pub deadline: NaiveDate,
    /// Why the deadline falls on that day, when it was moved.
    pub deadline_reason: Option<String>,
    pub reminders_sent: i32,
    /// `open`, `answered`, `expired` or `withdrawn`.
    pub status: String,
    /// UTC, RFC 3339.
    #[serde(serialize_with = "crate::utc::serialize_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub answered_at: Option<NaiveDateTime>,
    /// Stored name of the Votum of the latest version.
    pub votum: Option<String>,
    pub late: bool,
    /// How many versions of the answer exist.
    pub versions: i32,
    /// When the consultation closed for this participant (UTC, RFC 3339).
    #[serde(serialize_with = "crate::utc::serialize_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<NaiveDateTime>,
    /// The day the latest answer reached the office, for a Stellungnahme the office entered
    /// (by letter, e-mail or phone); its timeliness counts from that day. Absent for answers
    /// through the link.
    pub received_on: Option<NaiveDate>,
    /// The partner's pending request for more time, made through its link; gone once the
    /// deadline is extended.
    pub extension_request: Option<RequestView>,
    /// The partner's pending notice that it is not the competent body, made through its link;
    /// gone once the invitation is withdrawn.
    pub responsibility_notice: Option<NoticeView>,
}

/// A partner's pending notice that it is not competent, as the matrix shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoticeView {
    pub reason: String,
    /// The body the partner named as competent instead.
    pub competent: Option<String>,
    /// Who wrote it, at the partner.
    pub name: String,
    /// UTC, RFC 3339.
    #[serde(serialize_with = "crate::utc::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub at: NaiveDateTime,
}

/// A partner's pending request for a later deadline, as the matrix shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestView {
    /// The last day asked for.
    pub until: NaiveDate,
    pub reason: String,
    /// Who asked, at the partner.
    pub name: String,
    /// UTC, RFC 3339.
    #[serde(serialize_with = "crate::utc::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub at: NaiveDateTime,
}

/// The consultation matrix of a case: every invitation, oldest consultation first.
pub fn matrix(conn: &mut DbConnection, case: i64) -> Result<Vec<MatrixRow>, ServiceError> {
    type Pending = Option<(NaiveDate, String, String, NaiveDateTime)>;
    type Notice = Option<(String, Option<String>, String, NaiveDateTime)>;
    type Row = (InvitationRow, (String, String, String), Pending, Notice);
    let rows: Vec<Row> = invitations::table
        .inner_join(organisations::table)
        .left_join(extension_requests::table)
        .left_join(responsibility_notices::table)
        .filter(invitations::case_id.eq(case))
        .order((invitations::invited_at, organisations::name))
        .select((
            InvitationRow::as_select(),
            (organisations::key, organisations::kind, organisations::name),
            (
                extension_requests::requested_until,
                extension_requests::reason,
                extension_requests::requested_by,
                extension_requests::requested_at,
            )
                .nullable(),
            (
                responsibility_notices::reason,
                responsibility_notices::competent,
                responsibility_notices::reported_by,
                responsibility_notices::reported_at,
            )
                .nullable(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(row, (key, kind, name), pending, notice)| MatrixRow {
            invitation: row.id,
            step: row.step,
            organisation: key,
            organisation_name: designation(&kind, &name).into_owned(),
            invited_at: row.invited_at,
            deadline: row.deadline,
            deadline_reason: row.deadline_reason,
            reminders_sent: row.reminders_sent,
            status: row.status,
            answered_at: row.answered_at,
            votum: row.votum,
            late: row.late,
            versions: row.versions,
            closed_at: row.closed_at,
            received_on: row.received_on,
            extension_request: pending.map(|(until, reason, name, at)| RequestView {
                until,
                reason,
                name,
                at,
            }),
            responsibility_notice: notice.map(|(reason, competent, name, at)| NoticeView {
                reason,
                competent,
                name,
                at,
            }),
        })
        .collect())
}
