//! Zuständigkeit: who in an organisation works on a case. At the Kreis one Sachbearbeiterin
//! drafts the Antrag and runs the Beteiligung, at the Bewilligungsbehörde a colleague examines
//! it; each organisation names its own person, and a colleague standing in can take the case
//! over. The case list filters by it („Meine Vorgänge“).
//!
//! Like the Wiedervorlagen it is a working arrangement, not part of the file: it changes neither
//! the case nor its journal, and another organisation reading the case does not see it.

use std::collections::HashMap;

use chrono::{NaiveDateTime, Timelike};
use diesel::prelude::*;

use super::ServiceError;
use super::cases::AccessCheck;
use super::mail::{Envelope, Outgoing};
use crate::auth::{Principal, normalise_email};
use crate::db::models::{
    CaseForCommand, CaseId, CaseRow, Organisation, OrganisationId, Role, UserId,
};
use crate::db::schema::{case_assignments, user_roles, users, workflow_definitions};
use crate::db::{DbConnection, write_transaction};
use crate::engine::data::DataError;

/// The person a case is assigned to in an organisation, and since when, by whom.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Assignment {
    /// E-mail address of the person.
    pub email: String,
    /// Display name of the person.
    pub name: String,
    /// Since when (UTC).
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "crate::utc::serialize")]
    pub since: NaiveDateTime,
    /// E-mail address of whoever arranged it.
    pub by: String,
    /// `false` once the person's account is deactivated: the case then counts as assigned to
    /// nobody (its tasks are everyone's again) until someone else is named.
    pub active: bool,
}

/// Someone a case may be assigned to: an active user of the organisation who works on cases.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Candidate {
    /// The address the assignment names them by.
    pub email: String,
    /// Display name, for the choice on the case page.
    pub name: String,
}

/// Roles whose holders work on cases; someone who only reads is not assigned a case.
const WORKING_ROLES: [Role; 3] = [Role::Koordination, Role::Bewilligung, Role::Admin];

/// The person the case is assigned to in `organisation`, if any.
pub fn of_case(
    conn: &mut DbConnection,
    id: CaseId,
    organisation: OrganisationId,
) -> Result<Option<Assignment>, ServiceError> {
    let found: Option<(String, String, NaiveDateTime, String, bool)> = case_assignments::table
        .inner_join(users::table)
        .filter(case_assignments::case_id.eq(id.0))
        .filter(case_assignments::organisation_id.eq(organisation.0))
        .select((
            users::email,
            users::display_name,
            case_assignments::assigned_at,
            case_assignments::assigned_by,
            users::active,
        ))
        .first(conn)
        .optional()?;
    Ok(found.map(|(email, name, since, by, active)| Assignment {
        email,
        name,
        since,
        by,
        active,
    }))
}

/// The people of `organisation` a case may be assigned to, by name.
pub fn candidates(
    conn: &mut DbConnection,
    organisation: OrganisationId,
) -> Result<Vec<Candidate>, ServiceError> {
    Ok(candidate_rows(conn, organisation)?
        .into_iter()
        .map(|(_, email, name)| Candidate { email, name })
        .collect())
}

/// [`candidates`] with their user ids: (id, e-mail, name).
fn candidate_rows(
    conn: &mut DbConnection,
    organisation: OrganisationId,
) -> Result<Vec<(i64, String, String)>, ServiceError> {
    let working: Vec<&str> = WORKING_ROLES.iter().map(|r| r.as_str()).collect();
    Ok(users::table
        .filter(users::organisation_id.eq(organisation))
        .filter(users::active.eq(true))
        .filter(
            users::id.eq_any(
                user_roles::table
                    .filter(user_roles::role.eq_any(working))
                    .select(user_roles::user_id),
            ),
        )
        .order((users::display_name, users::email))
        .select((users::id, users::email, users::display_name))
        .load(conn)?)
}

/// Removes the Zuständigkeit `organisation` recorded for case `id`, if any.
fn unassign(
    conn: &mut DbConnection,
    id: CaseId,
    organisation: OrganisationId,
) -> Result<(), ServiceError> {
    diesel::delete(
        case_assignments::table
            .filter(case_assignments::case_id.eq(id.0))
            .filter(case_assignments::organisation_id.eq(organisation.0)),
    )
    .execute(conn)?;
    Ok(())
}

/// The template of the mail to someone another person made responsible
/// (`templates/mail/zustaendigkeit.*`).
pub const TEMPLATE: &str = "zustaendigkeit";

/// Assigns case `id` in the caller's organisation to the person with e-mail `to`, or to nobody
/// (`None`), provided `check` allows the caller on the case. The person must be one of the
/// [`candidates`] (refused at the pointer `/user` otherwise); someone made responsible by
/// another person is told by mail, queued with the change. Returns the assignment now in force;
/// assigning the person already assigned changes nothing and mails nobody.
pub fn assign(
    conn: &mut DbConnection,
    out: &Outgoing,
    id: CaseId,
    by: &Principal,
    to: Option<&str>,
    at: NaiveDateTime,
    check: AccessCheck<'_>,
) -> Result<Option<Assignment>, ServiceError> {
    let organisation = by.organisation_id;
    // As stored: PostgreSQL keeps microseconds, and the answer is what a later read returns.
    let at = at
        .with_nanosecond(at.nanosecond() / 1000 * 1000)
        .unwrap_or(at);
    write_transaction(conn, |conn| {
        // The case's lock makes concurrent changes of its Zuständigkeit queue on PostgreSQL
        // (SQLite's write transaction excludes them anyway): each replaces the row the one
        // before wrote, instead of two inserting side by side.
        let row = CaseForCommand::lock(conn, id)?
            .ok_or_else(super::cases::not_found)?
            .row;
        check(super::cases::access(&row))?;
        let Some(to) = to.map(normalise_email).filter(|email| !email.is_empty()) else {
            unassign(conn, id, organisation)?;
            return Ok(None);
        };
        let Some((user, _, name)) = candidate_rows(conn, organisation)?
            .into_iter()
            .find(|(_, email, _)| *email == to)
        else {
            return Err(ServiceError::InvalidInput(vec![DataError {
                pointer: "/user".into(),
                message: format!(
                    "Zuständig kann nur sein, wer in Ihrer Organisation Vorgänge bearbeitet \
                     (aktiv, nicht nur lesend); „{to}“ gehört nicht dazu."
                ),
            }]));
        };
        let current = of_case(conn, id, organisation)?;
        if current.as_ref().is_some_and(|a| a.email == to) {
            return Ok(current);
        }
        unassign(conn, id, organisation)?;
        diesel::insert_into(case_assignments::table)
            .values((
                case_assignments::case_id.eq(id.0),
                case_assignments::organisation_id.eq(organisation.0),
                case_assignments::user_id.eq(user),
                case_assignments::assigned_at.eq(at),
                case_assignments::assigned_by.eq(&by.email),
            ))
            .execute(conn)?;
        // What was just written: a candidate is active.
        let assignment = Assignment {
            email: to,
            name,
            since: at,
            by: by.email.clone(),
            active: true,
        };
        if user != by.user_id.0 {
            tell(conn, out, &row, &assignment, UserId(user), at)?;
        }
        Ok(Some(assignment))
    })
}

/// Queues the mail telling the person of `assignment` that someone else made them responsible.
fn tell(
    conn: &mut DbConnection,
    out: &Outgoing,
    case: &CaseRow,
    assignment: &Assignment,
    user: UserId,
    at: NaiveDateTime,
) -> Result<(), ServiceError> {
    let von = display_name(conn, &assignment.by)?;
    let context = mail_context(
        &assignment.name,
        &von,
        &case.aktenzeichen,
        &workflow_title(conn, case)?,
        &case_link(out, case, "zustaendigkeit"),
    );
    queue(conn, out, TEMPLATE, (user, &assignment.email), &context, at)
}

/// The template of the mail announcing another organisation's Vermerk
/// (`templates/mail/vermerk_eingegangen.*`).
pub const NOTE_TEMPLATE: &str = "vermerk_eingegangen";

/// Tells whoever is responsible for `case` in an organisation other than `writer`'s (the
/// Bewilligungsbehörde, when the Kreis writes; the Kreis, when the authority does) that `actor`
/// wrote a Vermerk for everyone reading the case. The mail names the case and the writer, not the
/// text, which stays in the file. Nobody is mailed where no other organisation named anyone.
pub fn announce_note(
    conn: &mut DbConnection,
    out: &Outgoing,
    case: &CaseRow,
    actor: &crate::engine::Actor,
    writer: OrganisationId,
    at: NaiveDateTime,
) -> Result<(), ServiceError> {
    let others: Vec<(i64, String, String)> = case_assignments::table
        .inner_join(users::table)
        .filter(case_assignments::case_id.eq(case.id.0))
        .filter(case_assignments::organisation_id.ne(writer.0))
        .filter(users::active.eq(true))
        .select((users::id, users::email, users::display_name))
        .load(conn)?;
    if others.is_empty() {
        return Ok(());
    }
    let stelle = Organisation::find(conn, writer)?
        .map(|organisation| organisation.designation().into_owned())
        .unwrap_or_default();
    let von = format!("{} ({stelle})", display_name(conn, &actor.id)?);
    let verfahren = workflow_title(conn, case)?;
    let link = case_link(out, case, "journal");
    for (user, email, name) in others {
        let context = mail_context(&name, &von, &case.aktenzeichen, &verfahren, &link);
        queue(
            conn,
            out,
            NOTE_TEMPLATE,
            (UserId(user), &email),
            &context,
            at,
        )?;
    }
    Ok(())
}

/// The display name of the user with `email`; the address itself for anyone else (`system`).
fn display_name(conn: &mut DbConnection, email: &str) -> Result<String, ServiceError> {
    Ok(users::table
        .filter(users::email.eq(email))
        .select(users::display_name)
        .first(conn)
        .optional()?
        .unwrap_or_else(|| email.to_string()))
}

/// The title of the workflow version the case runs on.
pub(crate) fn workflow_title(
    conn: &mut DbConnection,
    case: &CaseRow,
) -> Result<String, ServiceError> {
    Ok(workflow_definitions::table
        .find(case.definition_id.0)
        .select(workflow_definitions::title)
        .first(conn)?)
}

/// The case page's section `anchor`, as a link in a mail.
fn case_link(out: &Outgoing, case: &CaseRow, anchor: &str) -> String {
    let base = out.public_url.as_str().trim_end_matches('/');
    format!("{base}/vorgaenge/{}#{anchor}", case.id.0)
}

/// Queues a mail about a case to one user. Not filed with the case, like the Wiedervorlage
/// mails: a mail that failed would otherwise show on the case page of every organisation
/// reading the case.
fn queue(
    conn: &mut DbConnection,
    out: &Outgoing,
    template: &str,
    (user, email): (UserId, &str),
    context: &serde_json::Value,
    at: NaiveDateTime,
) -> Result<(), ServiceError> {
    super::mail::queue_with(
        conn,
        out,
        Envelope {
            case: None,
            invitation: None,
            template,
            recipients: serde_json::json!({ "kind": "user", "user": user.0 }),
            to: vec![email.to_string()],
        },
        context,
        context,
        at,
    )
}

/// What the mails' templates see.
fn mail_context(
    name: &str,
    von: &str,
    aktenzeichen: &str,
    verfahren: &str,
    link: &str,
) -> serde_json::Value {
    serde_json::json!({
        "name": name,
        "von": von,
        "aktenzeichen": aktenzeichen,
        "verfahren": verfahren,
        "link": link,
    })
}

/// The mails with sample data (see [`crate::render::SampleMail`]): a broken override stops
/// start-up instead of the next assignment or Vermerk.
pub fn sample_mails() -> Vec<crate::render::SampleMail> {
    let context = mail_context(
        "Anna Berg",
        "Ben Kaya",
        "KI-05558-2027-0001",
        "Antrag auf Einrichtung eines Kommunalen Integrationszentrums",
        "https://vorgang.example/vorgaenge/1#zustaendigkeit",
    );
    [TEMPLATE, NOTE_TEMPLATE]
        .into_iter()
        .map(|template| crate::render::SampleMail::new(template, context.clone()))
        .collect()
}

/// Every case `organisation` has assigned to an active account, with that user: the start page
/// leaves a colleague's cases out of one's tasks (a deactivated colleague's are everyone's).
pub fn assigned_in(
    conn: &mut DbConnection,
    organisation: OrganisationId,
) -> Result<HashMap<CaseId, UserId>, ServiceError> {
    let rows: Vec<(i64, i64)> = case_assignments::table
        .inner_join(users::table)
        .filter(case_assignments::organisation_id.eq(organisation.0))
        .filter(users::active.eq(true))
        .select((case_assignments::case_id, case_assignments::user_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(case, user)| (CaseId(case), UserId(user)))
        .collect())
}

/// Who is responsible, in `organisation`, for each of the cases `ids` that has someone: the name,
/// marked where the account is deactivated. For the case list, one query per page.
pub fn names_of(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    ids: &[CaseId],
) -> Result<HashMap<CaseId, String>, ServiceError> {
    let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
    let rows: Vec<(i64, String, bool)> = case_assignments::table
        .inner_join(users::table)
        .filter(case_assignments::organisation_id.eq(organisation.0))
        .filter(case_assignments::case_id.eq_any(ids))
        .select((
            case_assignments::case_id,
            users::display_name,
            users::active,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(case, name, active)| {
            let name = if active {
                name
            } else {
                format!("{name} (deaktiviert)")
            };
            (CaseId(case), name)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_mail_renders() {
        let templates = crate::render::Templates::embedded().unwrap();
        for sample in sample_mails() {
            sample.render(&templates).unwrap();
        }
    }
}
