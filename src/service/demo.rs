//! `vorgang demo`: a realistic demo data set, loaded through the real commands and removed again.
//!
//! [`load`] creates users for the Kreis Coesfeld, the Stadt Bielefeld and the Bewilligungsbehörde,
//! partner bodies with `.demo` mailboxes, and drives five `ki-antrag` cases (and the `ki-betrieb`
//! case one of them starts) through the engine with a clock in the past: every journal entry,
//! timer, invitation, partner link, answer and mail is what the real commands write. Due timers
//! are fired on their days as the server would have fired them, so the cases stand where real
//! ones would stand today: a consultation whose deadline ends in a few days (answers in, one with
//! Bedenken, reminders sent), a case waiting for the Kreistag, one at the Bewilligungsbehörde,
//! an approved one whose operation runs towards its concept deadline, and a Bielefeld draft.
//!
//! Everything created is listed in `demo_records`; [`remove`] deletes exactly that, with every
//! row hanging off it, in one transaction. Demo data is recognisable: addresses end in `.demo`,
//! names of people and partner bodies carry „(Demo)“, partner keys start with `DEMO-`.
//!
//! While the demo is loaded, the Kreis Coesfeld and the Stadt Bielefeld belong to it: loading is
//! refused when real users or addresses of theirs (or real users of the Bewilligungsbehörde)
//! exist, because demo mails would reach them, and cases of the two created after loading (by a
//! visitor, or started by the engine from a demo case) are removed with the demo.

pub mod cli;
pub mod pdf;
mod scenario;

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;

use super::ServiceError;
use super::case_removal;
use super::cases::CaseContext;
use crate::auth::Passwords;
use crate::db::models::{OrganisationId, Role};
use crate::db::schema::{
    absences, calendar_tokens, case_assignments, cases, demo_records, follow_ups, invitations,
    organisation_contacts, organisations, outbox, user_roles, users,
};
use crate::db::{DbConnection, write_transaction};
use crate::documents::DocumentStore;

/// Every demo address ends with this: a top-level domain that does not exist, so no demo mail
/// can reach a real mailbox.
pub const DEMO_DOMAIN: &str = ".demo";

/// A demo user as created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Name of the organisation.
    pub organisation: String,
    /// What a visitor should know before logging in as this user (German): an absence, say.
    pub note: Option<String>,
}

/// A demo case as it stands after loading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCase {
    pub id: i64,
    pub aktenzeichen: String,
    /// Workflow key (`ki-antrag`, `ki-betrieb`).
    pub workflow: String,
    /// Name of the applicant organisation.
    pub applicant: String,
    /// Titles of the active steps, or of the end reached.
    pub stage: String,
    /// What the visitor finds there (German).
    pub note: String,
}

/// What [`load`] created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    /// The users; they all share the password the caller passed.
    pub users: Vec<DemoUser>,
    /// Names of the partner bodies registered.
    pub partners: Vec<String>,
    /// The offices (Kreis Coesfeld, Stadt Bielefeld) whose addresses were set.
    pub offices: Vec<String>,
    pub cases: Vec<DemoCase>,
    /// Documents attached (PDFs generated for the demo).
    pub documents: usize,
    /// Answers of partners (all versions).
    pub answers: usize,
    /// Mails queued in the outbox.
    pub mails: usize,
    /// Timers waiting to fire.
    pub timers_scheduled: usize,
    /// Timers already fired (deadlines passed, reminders sent).
    pub timers_fired: usize,
}

/// What [`remove`] deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemovedSummary {
    pub cases: usize,
    pub journal_entries: usize,
    pub users: usize,
    pub organisations: usize,
    pub documents: usize,
    /// Document files deleted from the store (those no remaining document refers to).
    pub blobs: usize,
    pub mails: usize,
    pub invitations: usize,
    pub answers: usize,
    pub timers: usize,
    /// Offices whose demo addresses were cleared.
    pub offices: usize,
    /// Demo organisations kept because data outside the demo refers to them; no longer demo.
    pub kept_organisations: Vec<String>,
}

/// Whether demo data is loaded.
pub fn is_loaded(conn: &mut DbConnection) -> Result<bool, ServiceError> {
    let count: i64 = demo_records::table.count().get_result(conn)?;
    Ok(count > 0)
}

/// A random password for the demo users: 16 letters and digits in groups of four (no 0/O, 1/l/I).
pub fn generate_password() -> Result<String, ServiceError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut chars = String::new();
    while chars.len() < 16 {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| ServiceError::Internal(e.to_string()))?;
        // Rejection sampling keeps every character equally likely.
        let limit = 256 - 256 % ALPHABET.len();
        for byte in bytes {
            if usize::from(byte) < limit && chars.len() < 16 {
                chars.push(char::from(ALPHABET[usize::from(byte) % ALPHABET.len()]));
            }
        }
    }
    let groups: Vec<&str> = (0..4).map(|i| &chars[i * 4..i * 4 + 4]).collect();
    Ok(groups.join("-"))
}

/// Loads the demo as of `now`: users (all with `password`, hashed with `passwords`), partner
/// bodies, the offices' addresses and the cases, in one transaction. Refused with a German
/// message, changing nothing, when demo data is loaded already or when demo mails could reach
/// real people (see the module documentation).
pub fn load(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    documents: &DocumentStore,
    passwords: &Passwords,
    password: &str,
    now: DateTime<Utc>,
) -> Result<DemoSummary, ServiceError> {
    crate::auth::password::check_policy(password)
        .map_err(|e| ServiceError::BadRequest(e.to_string()))?;
    // Hash before the transaction: deliberately slow, and nothing to do with the database.
    let hashes = scenario::USERS
        .iter()
        .map(|_| passwords.hash(password))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    let mut written: Vec<String> = Vec::new();
    let result = write_transaction(conn, |conn| {
        let mut loader = scenario::Loader {
            conn,
            ctx,
            documents,
            now,
            today: super::clock::at(now).today,
            cases: Vec::new(),
            written: &mut written,
        };
        loader.run(&hashes)
    });
    if result.is_err() {
        // Blobs written for the rolled-back documents; a blob another document uses stays.
        case_removal::release_blobs(conn, documents, &written.iter().cloned().collect());
    }
    result
}

/// Removes every demo record with everything hanging off it, in one transaction; then deletes
/// the document files no remaining document refers to. Refused when no demo data is loaded.
pub fn remove(
    conn: &mut DbConnection,
    documents: &DocumentStore,
) -> Result<RemovedSummary, ServiceError> {
    let (mut summary, blobs) = write_transaction(conn, remove_rows)?;
    summary.blobs = case_removal::release_blobs(conn, documents, &blobs);
    tracing::info!(
        cases = summary.cases,
        users = summary.users,
        organisations = summary.organisations,
        documents = summary.documents,
        "demo data removed"
    );
    Ok(summary)
}

/// The ids of one kind of demo record.
fn recorded(conn: &mut DbConnection, kind: &str) -> Result<Vec<i64>, ServiceError> {
    Ok(demo_records::table
        .filter(demo_records::kind.eq(kind))
        .select(demo_records::record_id)
        .order(demo_records::record_id)
        .load(conn)?)
}

fn is_demo_address(address: &str) -> bool {
    address.trim().to_lowercase().ends_with(DEMO_DOMAIN)
}

fn remove_rows(
    conn: &mut DbConnection,
) -> Result<(RemovedSummary, BTreeSet<String>), ServiceError> {
    if !is_loaded(conn)? {
        return Err(ServiceError::NotFound(
            "Es sind keine Demodaten geladen; es gibt nichts zu entfernen.".into(),
        ));
    }
    let mut summary = RemovedSummary::default();
    let mut case_ids = recorded(conn, "case")?;
    let offices = recorded(conn, "office")?;
    let user_ids = recorded(conn, "user")?;
    let organisation_ids = recorded(conn, "organisation")?;
    // Cases of the demo offices created after loading (by visitors, or started by the engine
    // from a demo case) belong to the demo too: their ids are larger than every loaded one.
    if let Some(&newest) = case_ids.iter().max()
        && !offices.is_empty()
    {
        let later: Vec<i64> = cases::table
            .filter(cases::applicant_id.eq_any(&offices))
            .filter(cases::id.gt(newest))
            .select(cases::id)
            .load(conn)?;
        case_ids.extend(later);
    }

    // Wiedervorlagen the demo users set on other cases, and cases assigned to them; those on the
    // demo cases go with them.
    diesel::delete(follow_ups::table.filter(follow_ups::user_id.eq_any(&user_ids)))
        .execute(conn)?;
    diesel::delete(case_assignments::table.filter(case_assignments::user_id.eq_any(&user_ids)))
        .execute(conn)?;
    // Absences of demo users, and those where a real user named a demo user as deputy.
    diesel::delete(
        absences::table.filter(
            absences::user_id
                .eq_any(&user_ids)
                .or(absences::deputy_id.eq_any(&user_ids)),
        ),
    )
    .execute(conn)?;
    let deleted = case_removal::delete_rows(conn, &case_ids)?;
    summary.mails += deleted.mails;
    summary.answers = deleted.answers;
    summary.invitations = deleted.invitations;
    summary.timers = deleted.timers;
    summary.documents = deleted.documents;
    summary.journal_entries = deleted.journal_entries;
    summary.cases = deleted.cases;
    let blobs = deleted.blobs;

    diesel::delete(calendar_tokens::table.filter(calendar_tokens::user_id.eq_any(&user_ids)))
        .execute(conn)?;
    diesel::delete(user_roles::table.filter(user_roles::user_id.eq_any(&user_ids)))
        .execute(conn)?;
    summary.users =
        diesel::delete(users::table.filter(users::id.eq_any(&user_ids))).execute(conn)?;

    // Demo organisations that data outside the demo refers to stay (as regular data).
    let mut kept: BTreeSet<i64> = BTreeSet::new();
    kept.extend(
        invitations::table
            .filter(invitations::organisation_id.eq_any(&organisation_ids))
            .select(invitations::organisation_id)
            .load::<OrganisationId>(conn)?
            .into_iter()
            .map(|id| id.0),
    );
    kept.extend(
        users::table
            .filter(users::organisation_id.eq_any(&organisation_ids))
            .select(users::organisation_id)
            .load::<i64>(conn)?,
    );
    kept.extend(
        cases::table
            .filter(cases::applicant_id.eq_any(&organisation_ids))
            .select(cases::applicant_id)
            .load::<i64>(conn)?,
    );
    kept.extend(
        organisations::table
            .filter(organisations::parent_id.eq_any(&organisation_ids))
            .filter(organisations::id.ne_all(&organisation_ids))
            .select(organisations::parent_id)
            .load::<Option<i64>>(conn)?
            .into_iter()
            .flatten(),
    );
    let gone: Vec<i64> = organisation_ids
        .iter()
        .copied()
        .filter(|id| !kept.contains(id))
        .collect();
    summary.kept_organisations = organisations::table
        .filter(organisations::id.eq_any(kept.iter().copied().collect::<Vec<_>>()))
        .select(organisations::name)
        .order(organisations::name)
        .load(conn)?;
    diesel::delete(
        organisation_contacts::table.filter(organisation_contacts::organisation_id.eq_any(&gone)),
    )
    .execute(conn)?;
    summary.organisations =
        diesel::delete(organisations::table.filter(organisations::id.eq_any(&gone)))
            .execute(conn)?;

    // The offices get back what they had before the demo (no addresses: loading insists), unless
    // someone has entered real addresses since.
    for office in &offices {
        let (mailbox, head): (Option<String>, Option<String>) = organisations::table
            .find(office)
            .select((organisations::mailbox, organisations::head_email))
            .first(conn)?;
        if mailbox.as_deref().is_some_and(is_demo_address) {
            diesel::update(organisations::table.find(office))
                .set(organisations::mailbox.eq(None::<String>))
                .execute(conn)?;
        }
        if head.as_deref().is_some_and(is_demo_address) {
            diesel::update(organisations::table.find(office))
                .set(organisations::head_email.eq(None::<String>))
                .execute(conn)?;
        }
        let contacts: Vec<String> = organisation_contacts::table
            .filter(organisation_contacts::organisation_id.eq(office))
            .select(organisation_contacts::email)
            .load(conn)?;
        let demo: Vec<String> = contacts
            .into_iter()
            .filter(|c| is_demo_address(c))
            .collect();
        diesel::delete(
            organisation_contacts::table
                .filter(organisation_contacts::organisation_id.eq(office))
                .filter(organisation_contacts::email.eq_any(&demo)),
        )
        .execute(conn)?;
        summary.offices += 1;
    }

    // Mails about no case (the weekly digest) that went only to demo addresses.
    let loose: Vec<(i64, String)> = outbox::table
        .filter(outbox::case_id.is_null())
        .filter(outbox::rendered.like("%.demo%"))
        .select((outbox::id, outbox::rendered))
        .load(conn)?;
    let demo_only: Vec<i64> = loose
        .into_iter()
        .filter(|(_, rendered)| {
            serde_json::from_str::<Value>(rendered)
                .ok()
                .and_then(|v| v["to"].as_array().cloned())
                .is_some_and(|to| {
                    !to.is_empty() && to.iter().all(|a| a.as_str().is_some_and(is_demo_address))
                })
        })
        .map(|(id, _)| id)
        .collect();
    summary.mails +=
        diesel::delete(outbox::table.filter(outbox::id.eq_any(&demo_only))).execute(conn)?;

    diesel::delete(demo_records::table).execute(conn)?;
    Ok((summary, blobs))
}
