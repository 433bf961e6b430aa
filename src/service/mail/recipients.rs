//! Whom a mail goes to: the addresses of organisations (functional mailbox, then contacts), of
//! the people holding a role, of an office and its head (Leitung), resolved when the mail is
//! queued and again when an administrator retries one that had none.

use diesel::prelude::*;
use serde_json::Value;

use crate::db::models::{Organisation, OrganisationId};
use crate::db::schema::{
    cases, invitations, organisation_contacts, organisations, user_roles, users,
};
use crate::db::{DbConnection, DbError};
use crate::mail::outbox::OutboxRow;

/// The functional mailbox and recorded contact addresses of an organisation, mailbox first.
pub fn organisation_addresses(
    conn: &mut DbConnection,
    organisation: OrganisationId,
) -> Result<Vec<String>, DbError> {
    let mailbox: Option<String> = organisations::table
        .find(organisation)
        .select(organisations::mailbox)
        .first(conn)?;
    addresses_with_contacts(conn, organisation, mailbox.as_deref())
}

/// [`organisation_addresses`] of an organisation whose row is already loaded (one query fewer).
pub fn addresses_of(
    conn: &mut DbConnection,
    organisation: &Organisation,
) -> Result<Vec<String>, DbError> {
    addresses_with_contacts(conn, organisation.id, organisation.mailbox.as_deref())
}

/// The organisations with these keys, each with its addresses (mailbox first), in one query:
/// what inviting the partners of a Beteiligung needs, without a second round trip for the
/// contacts. Keys without an organisation are simply missing from the result.
pub fn organisations_with_addresses(
    conn: &mut DbConnection,
    keys: &[&str],
) -> Result<Vec<(Organisation, Vec<String>)>, DbError> {
    let rows: Vec<(Organisation, Option<String>)> = organisations::table
        .left_join(organisation_contacts::table)
        .filter(organisations::key.eq_any(keys))
        .order((organisations::id, organisation_contacts::email))
        .select((
            Organisation::as_select(),
            organisation_contacts::email.nullable(),
        ))
        .load(conn)?;
    let mut found: Vec<(Organisation, Vec<String>)> = Vec::new();
    for (organisation, contact) in rows {
        match found.last_mut() {
            Some((last, contacts)) if last.id == organisation.id => contacts.extend(contact),
            _ => found.push((organisation, contact.into_iter().collect())),
        }
    }
    Ok(found
        .into_iter()
        .map(|(organisation, contacts)| {
            let addresses = merge_addresses(organisation.mailbox.as_deref(), contacts.into_iter());
            (organisation, addresses)
        })
        .collect())
}

/// The mailbox first, then the contacts not equal to it.
fn merge_addresses(mailbox: Option<&str>, contacts: impl Iterator<Item = String>) -> Vec<String> {
    let mut addresses: Vec<String> = mailbox
        .into_iter()
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty())
        .collect();
    for contact in contacts {
        if !addresses.contains(&contact) {
            addresses.push(contact);
        }
    }
    addresses
}

fn addresses_with_contacts(
    conn: &mut DbConnection,
    organisation: OrganisationId,
    mailbox: Option<&str>,
) -> Result<Vec<String>, DbError> {
    let contacts: Vec<String> = organisation_contacts::table
        .filter(organisation_contacts::organisation_id.eq(organisation))
        .order(organisation_contacts::email)
        .select(organisation_contacts::email)
        .load(conn)?;
    Ok(merge_addresses(mailbox, contacts.into_iter()))
}

/// Addresses of active users holding `role`; for the office roles (`koordination`, `lesen`)
/// only those of `organisation`.
pub fn role_addresses(
    conn: &mut DbConnection,
    role: &str,
    organisation: OrganisationId,
) -> Result<Vec<String>, DbError> {
    let mut query = users::table
        .inner_join(user_roles::table)
        .filter(user_roles::role.eq(role))
        .filter(users::active.eq(true))
        .select(users::email)
        .order(users::email)
        .into_boxed();
    if matches!(role, "koordination" | "lesen") {
        query = query.filter(users::organisation_id.eq(organisation));
    }
    Ok(query.load(conn)?)
}

/// Where mail for the coordinating office of a case goes: the applicant's mailbox and contacts,
/// or else its coordinators.
pub fn office_addresses(
    conn: &mut DbConnection,
    applicant: OrganisationId,
) -> Result<Vec<String>, DbError> {
    let addresses = organisation_addresses(conn, applicant)?;
    if !addresses.is_empty() {
        return Ok(addresses);
    }
    role_addresses(conn, "koordination", applicant)
}

/// Where escalations for an office go: the head of the office (Leitung), or, when none is
/// recorded, the office itself, so an escalation is never dropped.
pub fn head_addresses(
    conn: &mut DbConnection,
    applicant: OrganisationId,
) -> Result<Vec<String>, DbError> {
    let head: Option<String> = organisations::table
        .find(applicant)
        .select(organisations::head_email)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten();
    match head {
        Some(address) => Ok(vec![address]),
        None => office_addresses(conn, applicant),
    }
}

/// Why a mail has nobody to go to, in German for the administrators reading the outbox.
pub(super) fn no_address_reason(recipients: &Value) -> String {
    let whom = match recipients["kind"].as_str() {
        Some("role") => {
            let role = recipients["role"].as_str().unwrap_or_default();
            if matches!(role, "koordination" | "lesen") {
                format!("Bei der antragstellenden Stelle hat niemand mit der Rolle „{role}“ ein aktives Konto")
            } else {
                format!("Niemand mit der Rolle „{role}“ hat ein aktives Konto")
            }
        }
        Some("invitation") => format!(
            "Für die beteiligte Organisation „{}“ ist weder ein Funktionspostfach noch ein Kontakt hinterlegt",
            recipients["organisation"].as_str().unwrap_or_default()
        ),
        _ => "Für die Stelle ist weder ein Funktionspostfach noch ein Kontakt noch ein Konto mit der Rolle „koordination“ hinterlegt".to_string(),
    };
    format!(
        "Keine Empfängeradresse: {whom}. Bitte tragen Sie eine Adresse nach und senden Sie die Mail dann erneut."
    )
}

/// The addresses a queued mail's logical recipients have now, resolved as when it was queued.
pub(super) fn current_addresses(
    conn: &mut DbConnection,
    row: &OutboxRow,
) -> Result<Vec<String>, DbError> {
    let recipients: Value = serde_json::from_str(&row.recipients).unwrap_or(Value::Null);
    let applicant = |conn: &mut DbConnection| -> Result<Option<OrganisationId>, DbError> {
        let Some(case) = row.case_id else {
            return Ok(None);
        };
        Ok(cases::table
            .find(case)
            .select(cases::applicant_id)
            .first(conn)
            .optional()?)
    };
    match recipients["kind"].as_str() {
        Some("role") => match (recipients["role"].as_str(), applicant(conn)?) {
            (Some(role), Some(applicant)) => role_addresses(conn, role, applicant),
            _ => Ok(Vec::new()),
        },
        Some("applicant") => match applicant(conn)? {
            Some(applicant) => office_addresses(conn, applicant),
            None => Ok(Vec::new()),
        },
        Some("leitung") => match applicant(conn)? {
            Some(applicant) => head_addresses(conn, applicant),
            None => Ok(Vec::new()),
        },
        Some("office") => match recipients["organisation"].as_i64() {
            Some(office) => office_addresses(conn, OrganisationId(office)),
            None => Ok(Vec::new()),
        },
        Some("invitation") => {
            let Some(invitation) = row.invitation_id else {
                return Ok(Vec::new());
            };
            let organisation: Option<OrganisationId> = invitations::table
                .find(invitation)
                .select(invitations::organisation_id)
                .first(conn)
                .optional()?;
            match organisation {
                Some(organisation) => organisation_addresses(conn, organisation),
                None => Ok(Vec::new()),
            }
        }
        _ => Ok(Vec::new()),
    }
}
