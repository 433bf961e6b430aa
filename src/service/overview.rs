//! What the start page summarises for one user: the running cases it may read (for tasks and
//! the counts per step) and the latest partner answers. Two queries in all, since the page is
//! opened all day; permissions as in every list (see [`super::case_list`]).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::ServiceError;
use super::case_list::{Readable, permitted, readable, restrict_to_readable};
use super::workflows::WorkflowRegistry;
use crate::auth::{Permission, Principal};
use crate::db::DbConnection;
use crate::db::models::{DefinitionId, OrganisationId};
use crate::db::schema::{
    cases, extension_requests, invitations, organisations, responsibility_notices,
};
use crate::designation::designation;
use crate::engine::definition::Step;

/// The rows of `$requests` (a table of partners' pending requests, keyed by invitation) joined
/// with their invitation, its case and the partner, as far as the invitation is open in a
/// running case: the requests that still wait for the office (the start page, the digest).
macro_rules! waiting_requests {
    ($requests:ident) => {
        $crate::db::schema::$requests::table
            .inner_join(
                $crate::db::schema::invitations::table
                    .inner_join($crate::db::schema::cases::table)
                    .inner_join($crate::db::schema::organisations::table),
            )
            .filter($crate::db::schema::invitations::status.eq("open"))
            .filter($crate::db::schema::invitations::closed_at.is_null())
            .filter($crate::db::schema::cases::status.eq("running"))
    };
}
pub(crate) use waiting_requests;

/// A running case, as much as the start page needs of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningCase {
    pub id: i64,
    pub aktenzeichen: String,
    pub definition_id: DefinitionId,
    pub applicant_id: OrganisationId,
    /// The applicant as named in text („Kreis Coesfeld“): a task of the Bewilligungsbehörde is
    /// someone else's case, and its Aktenzeichen alone does not say whose.
    pub applicant: String,
    pub submitted: bool,
    /// The active step keys.
    pub steps: Vec<String>,
    pub updated_at: NaiveDateTime,
}

type RunningRow = (
    i64,
    String,
    DefinitionId,
    OrganisationId,
    Option<NaiveDateTime>,
    String,
    NaiveDateTime,
    (String, String),
);

/// The running cases `principal` may read, the most recently changed first.
pub fn running_cases(
    conn: &mut DbConnection,
    principal: &Principal,
) -> Result<Vec<RunningCase>, ServiceError> {
    let scope: Readable = readable(principal);
    let query = cases::table
        .inner_join(organisations::table)
        .filter(cases::status.eq("running"))
        .into_boxed();
    let rows: Vec<RunningRow> = restrict_to_readable!(query, scope)
        .order((cases::updated_at.desc(), cases::id.desc()))
        .select((
            cases::id,
            cases::aktenzeichen,
            cases::definition_id,
            cases::applicant_id,
            cases::submitted_at,
            cases::current_steps,
            cases::updated_at,
            (organisations::kind, organisations::name),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                aktenzeichen,
                definition_id,
                applicant_id,
                submitted_at,
                steps,
                updated_at,
                (kind, name),
            )| {
                RunningCase {
                    id,
                    aktenzeichen,
                    definition_id,
                    applicant_id,
                    applicant: designation(&kind, &name).into_owned(),
                    submitted: submitted_at.is_some(),
                    steps: steps
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect(),
                    updated_at,
                }
            },
        )
        .filter(|case| {
            permitted(
                principal,
                Permission::ReadCase,
                case.applicant_id,
                case.submitted,
            )
        })
        .collect())
}

/// A partner's answer (its latest version) to an invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentAnswer {
    pub case_id: i64,
    pub aktenzeichen: String,
    /// The answering organisation.
    pub organisation: String,
    /// The stored Votum name (`zustimmung_mit_hinweisen`).
    pub votum: Option<String>,
    pub answered_at: NaiveDateTime,
    pub late: bool,
    /// The day it reached the office, for a Stellungnahme the office entered.
    pub received_on: Option<NaiveDate>,
}

type AnswerRow = (
    i64,
    String,
    OrganisationId,
    Option<NaiveDateTime>,
    (String, String),
    Option<String>,
    (Option<NaiveDateTime>, bool, Option<NaiveDate>),
);

/// The `limit` latest answers on cases `principal` may read, newest first.
pub fn recent_answers(
    conn: &mut DbConnection,
    principal: &Principal,
    limit: i64,
) -> Result<Vec<RecentAnswer>, ServiceError> {
    let scope = readable(principal);
    let query = invitations::table
        .inner_join(cases::table)
        .inner_join(organisations::table)
        .filter(invitations::answered_at.is_not_null())
        .into_boxed();
    let rows: Vec<AnswerRow> = restrict_to_readable!(query, scope)
        .order((invitations::answered_at.desc(), invitations::id.desc()))
        .limit(limit)
        .select((
            cases::id,
            cases::aktenzeichen,
            cases::applicant_id,
            cases::submitted_at,
            (organisations::kind, organisations::name),
            invitations::votum,
            (
                invitations::answered_at,
                invitations::late,
                invitations::received_on,
            ),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|row| permitted(principal, Permission::ReadCase, row.2, row.3.is_some()))
        .filter_map(
            |(
                case_id,
                aktenzeichen,
                _,
                _,
                (kind, name),
                votum,
                (answered_at, late, received_on),
            )| {
                Some(RecentAnswer {
                    case_id,
                    aktenzeichen,
                    organisation: designation(&kind, &name).into_owned(),
                    votum,
                    answered_at: answered_at?,
                    late,
                    received_on,
                })
            },
        )
        .collect())
}

/// A partner's request for more time that waits for the office's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenRequest {
    pub case_id: i64,
    pub aktenzeichen: String,
    /// `invitations.id`, for the Fristverlängerung form.
    pub invitation: i64,
    /// The asking organisation.
    pub organisation: String,
    /// Its current deadline.
    pub deadline: NaiveDate,
    /// The day it asks for.
    pub until: NaiveDate,
    pub reason: String,
}

/// Id, Aktenzeichen, applicant, submitted at and workflow of a case.
type CaseColumns = (
    i64,
    String,
    OrganisationId,
    Option<NaiveDateTime>,
    DefinitionId,
);

/// Whether `principal`, holding the workflow `roles`, may act on `case` and holds the role
/// coordinating its consultation `step`: it alone extends deadlines and withdraws invitations,
/// so a partner's request waits for it.
fn coordinating(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
    (principal, roles): (&Principal, &[String]),
    (_, _, applicant, submitted, definition): &CaseColumns,
    step: &str,
) -> Result<bool, ServiceError> {
    if !permitted(
        principal,
        Permission::TakeAction,
        *applicant,
        submitted.is_some(),
    ) {
        return Ok(false);
    }
    let workflow = registry.by_id(conn, *definition)?;
    Ok(matches!(
        workflow.workflow.step(step),
        Some(Step::Consultation(c)) if roles.contains(&c.role)
    ))
}

type RequestRow = (
    CaseColumns,
    (i64, NaiveDate, String),
    (String, String),
    (NaiveDate, String),
);

/// The requests for more time on open invitations of running cases `principal` may act on,
/// in consultations whose coordinating role it holds (it alone extends deadlines), oldest
/// first: they wait for the office's decision.
pub fn open_requests(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
    principal: &Principal,
) -> Result<Vec<OpenRequest>, ServiceError> {
    let scope = readable(principal);
    let query = waiting_requests!(extension_requests).into_boxed();
    let rows: Vec<RequestRow> = restrict_to_readable!(query, scope)
        .order((extension_requests::requested_at, invitations::id))
        .select((
            (
                cases::id,
                cases::aktenzeichen,
                cases::applicant_id,
                cases::submitted_at,
                cases::definition_id,
            ),
            (invitations::id, invitations::deadline, invitations::step),
            (organisations::kind, organisations::name),
            (
                extension_requests::requested_until,
                extension_requests::reason,
            ),
        ))
        .load(conn)?;
    let roles = crate::auth::workflow_roles(principal);
    let mut requests = Vec::new();
    for row in rows {
        let (case, (_, _, step), ..) = &row;
        if coordinating(conn, registry, (principal, &roles), case, step)? {
            requests.push(row);
        }
    }
    Ok(requests
        .into_iter()
        .map(
            |(
                (case_id, aktenzeichen, _, _, _),
                (invitation, deadline, _),
                (kind, name),
                (until, reason),
            )| {
                OpenRequest {
                    case_id,
                    aktenzeichen,
                    invitation,
                    organisation: designation(&kind, &name).into_owned(),
                    deadline,
                    until,
                    reason,
                }
            },
        )
        .collect())
}

/// A partner's notice that it is not the competent body, waiting for the office's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenNotice {
    pub case_id: i64,
    pub aktenzeichen: String,
    /// `invitations.id`, for the withdrawal form.
    pub invitation: i64,
    /// The organisation that says it is not competent.
    pub organisation: String,
    pub reason: String,
    /// The body it names as competent instead.
    pub competent: Option<String>,
}

type NoticeRow = (
    CaseColumns,
    (i64, String),
    (String, String),
    (String, Option<String>),
);

/// The notices that a partner is not competent, on open invitations of running cases
/// `principal` may act on, in consultations whose coordinating role it holds (it alone
/// withdraws), oldest first.
pub fn open_notices(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
    principal: &Principal,
) -> Result<Vec<OpenNotice>, ServiceError> {
    let scope = readable(principal);
    let query = waiting_requests!(responsibility_notices).into_boxed();
    let rows: Vec<NoticeRow> = restrict_to_readable!(query, scope)
        .order((responsibility_notices::reported_at, invitations::id))
        .select((
            (
                cases::id,
                cases::aktenzeichen,
                cases::applicant_id,
                cases::submitted_at,
                cases::definition_id,
            ),
            (invitations::id, invitations::step),
            (organisations::kind, organisations::name),
            (
                responsibility_notices::reason,
                responsibility_notices::competent,
            ),
        ))
        .load(conn)?;
    let roles = crate::auth::workflow_roles(principal);
    let mut notices = Vec::new();
    for (case, (invitation, step), (kind, name), (reason, competent)) in rows {
        if coordinating(conn, registry, (principal, &roles), &case, &step)? {
            notices.push(OpenNotice {
                case_id: case.0,
                aktenzeichen: case.1,
                invitation,
                organisation: designation(&kind, &name).into_owned(),
                reason,
                competent,
            });
        }
    }
    Ok(notices)
}
