//! Listing cases for one principal: the API's `GET /cases`, the web interface's case list and
//! its start page all read through here, so every list applies the same rule of who may read
//! which case.
//!
//! The rule is [`authorize`]'s `ReadCase`, expressed once as SQL by [`readable`] (so counts
//! and pages are right) and checked again per row by the callers.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::ServiceError;
use super::next_deadline::NO_DEADLINE;
use crate::auth::{CaseScope, InternalReader, Permission, Principal, authorize};
use crate::db::models::{CaseRow, DefinitionId, Organisation, OrganisationId, Role, UserId};
use crate::db::schema::{case_assignments, case_events, cases, organisations};
use crate::db::text_search::{contains_pattern, escape_like, lower};
use crate::db::{DbConnection, write_transaction};
use crate::service::internal::INTERNAL_TO;
use crate::service::notes::NOTE_ADDED;

/// Which cases a principal may read, as a filter on `cases` (the SQL form of `ReadCase`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readable {
    /// Administrators.
    All,
    /// Koordination and Lesen: the own organisation's cases.
    Own(OrganisationId),
    /// Bewilligung: cases that reached the approving authority.
    Submitted,
    /// Both of the above.
    OwnOrSubmitted(OrganisationId),
    /// No role that reads cases.
    Nothing,
}

/// The cases `principal` may read.
pub fn readable(principal: &Principal) -> Readable {
    if principal.has_role(Role::Admin) {
        return Readable::All;
    }
    let own = principal.has_role(Role::Koordination) || principal.has_role(Role::Lesen);
    let submitted = principal.has_role(Role::Bewilligung);
    match (own, submitted) {
        (true, true) => Readable::OwnOrSubmitted(principal.organisation_id),
        (true, false) => Readable::Own(principal.organisation_id),
        (false, true) => Readable::Submitted,
        (false, false) => Readable::Nothing,
    }
}

/// Whether `principal` holds `permission` on a case (the per-row check after the SQL filter).
pub fn permitted(
    principal: &Principal,
    permission: Permission,
    applicant: OrganisationId,
    submitted: bool,
) -> bool {
    let scope = CaseScope {
        applicant,
        submitted,
    };
    authorize(principal, permission, Some(&scope)).is_ok()
}

/// Applies [`Readable`] to a boxed query over `cases` (joined or not).
macro_rules! restrict_to_readable {
    ($query:expr, $readable:expr) => {{
        let query = $query;
        match $readable {
            $crate::service::case_list::Readable::All => query,
            $crate::service::case_list::Readable::Own(own) => {
                query.filter($crate::db::schema::cases::applicant_id.eq(own))
            }
            $crate::service::case_list::Readable::Submitted => {
                query.filter($crate::db::schema::cases::submitted_at.is_not_null())
            }
            $crate::service::case_list::Readable::OwnOrSubmitted(own) => query.filter(
                $crate::db::schema::cases::applicant_id
                    .eq(own)
                    .or($crate::db::schema::cases::submitted_at.is_not_null()),
            ),
            $crate::service::case_list::Readable::Nothing => {
                query.filter($crate::db::schema::cases::id.lt(0))
            }
        }
    }};
}
pub(crate) use restrict_to_readable;

/// The statuses a list can filter by, as stored in `cases.status`.
pub const STATUSES: [&str; 3] = ["running", "completed", "withdrawn"];

/// Filters of a case list; `None` means no filter.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// One of [`STATUSES`].
    pub status: Option<String>,
    /// A step key the case currently rests at.
    pub step: Option<String>,
    /// A workflow key.
    pub workflow: Option<String>,
    /// Part of the Aktenzeichen, of the applicant's name or of a Vermerk's text, in any case.
    pub q: Option<String>,
    /// Only cases assigned to this user (`service::assignments`).
    pub assigned_to: Option<UserId>,
    /// Only cases whose next deadline (`cases.next_deadline`) ends on or before this day, passed
    /// ones included; cases without a deadline never match.
    pub due_by: Option<NaiveDate>,
}

/// Columns a list can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Order of creation (the case id); newest first is the API's default.
    Created,
    Aktenzeichen,
    /// The applicant organisation's name.
    Applicant,
    /// Status, then the position in the procedure (`cases.stand_rank`), then the steps by key.
    Stand,
    /// The earliest deadline of the active steps (`cases.next_deadline`); cases without one
    /// come last in either direction.
    Deadline,
    /// Last change.
    Updated,
}

/// A sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

/// One page of a list, with the number of all matching cases.
#[derive(Debug)]
pub struct CasePage {
    /// The cases with their applicant, only those the principal may read.
    pub rows: Vec<(CaseRow, Organisation)>,
    pub total: i64,
}

/// The LIKE patterns of a search text, lower-cased.
struct SearchPatterns {
    /// For the Aktenzeichen and the applicant's name.
    plain: String,
    /// For a Vermerk's stored payload `{"text":"…"}`, which matches only inside the text (the
    /// search „text“ does not find every Vermerk by its key) and with the text escaped as the
    /// payload stores it (a quotation mark as `\"`).
    note: String,
    /// For the internal Vermerke the reader may read, `{"internal_to":ID,"text":"…"}` (stored
    /// with sorted keys, so the organisation comes first): another organisation's internal
    /// Vermerk must not reveal its words by the cases a search finds.
    internal_note: String,
}

impl SearchPatterns {
    fn of(q: &str, reader: InternalReader) -> Self {
        let needle = q.to_lowercase();
        let as_json = serde_json::to_string(&needle).unwrap_or_default();
        let as_json = as_json
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or_default();
        let text = format!("\"text\":\"%{}%\"}}", escape_like(as_json));
        let owner = match reader {
            InternalReader::All => "%".to_string(),
            InternalReader::Of(own) => own.0.to_string(),
        };
        Self {
            plain: contains_pattern(&needle),
            note: format!("{{{text}"),
            internal_note: format!("{{\"{INTERNAL_TO}\":{owner},{text}"),
        }
    }
}

/// Page `page` (from 1) of `per_page` cases `principal` may read that match `filter`.
pub fn search(
    conn: &mut DbConnection,
    principal: &Principal,
    filter: &CaseFilter,
    sort: Sort,
    page: i64,
    per_page: i64,
) -> Result<CasePage, ServiceError> {
    let scope = readable(principal);
    let filtered = || {
        let mut select = cases::table.inner_join(organisations::table).into_boxed();
        select = restrict_to_readable!(select, scope);
        if let Some(status) = &filter.status {
            select = select.filter(cases::status.eq(status.clone()));
        }
        if let Some(workflow) = &filter.workflow {
            select = select.filter(cases::workflow_key.eq(workflow.clone()));
        }
        if let Some(user) = filter.assigned_to {
            select = select.filter(
                cases::id.eq_any(
                    case_assignments::table
                        .filter(case_assignments::user_id.eq(user.0))
                        .select(case_assignments::case_id),
                ),
            );
        }
        if let Some(day) = filter.due_by {
            select = select
                .filter(cases::next_deadline.le(day))
                .filter(cases::next_deadline.lt(NO_DEADLINE));
        }
        if let Some(step) = &filter.step {
            select = select.filter(
                cases::current_steps
                    .like(format!("%,{},%", escape_like(step)))
                    .escape('\\'),
            );
        }
        if let Some(q) = filter
            .q
            .as_ref()
            .map(|q| q.trim())
            .filter(|q| !q.is_empty())
        {
            let patterns = SearchPatterns::of(q, InternalReader::of(principal));
            let noted = case_events::table
                .filter(case_events::kind.eq(NOTE_ADDED))
                .filter(
                    lower(case_events::payload)
                        .like(patterns.note)
                        .escape('\\')
                        .or(lower(case_events::payload)
                            .like(patterns.internal_note)
                            .escape('\\')),
                )
                .select(case_events::case_id);
            select = select.filter(
                lower(cases::aktenzeichen)
                    .like(patterns.plain.clone())
                    .escape('\\')
                    .or(lower(organisations::name).like(patterns.plain).escape('\\'))
                    .or(cases::id.eq_any(noted)),
            );
        }
        select
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let mut query = filtered();
    query = match (sort.key, sort.descending) {
        (SortKey::Created, false) => query.order(cases::id.asc()),
        (SortKey::Created, true) => query.order(cases::id.desc()),
        (SortKey::Aktenzeichen, false) => query.order(cases::aktenzeichen.asc()),
        (SortKey::Aktenzeichen, true) => query.order(cases::aktenzeichen.desc()),
        (SortKey::Applicant, false) => query.order((organisations::name.asc(), cases::id.asc())),
        (SortKey::Applicant, true) => query.order((organisations::name.desc(), cases::id.desc())),
        (SortKey::Stand, false) => query.order((
            cases::status.asc(),
            cases::stand_rank.asc(),
            cases::current_steps.asc(),
            cases::id.asc(),
        )),
        (SortKey::Stand, true) => query.order((
            cases::status.desc(),
            cases::stand_rank.desc(),
            cases::current_steps.desc(),
            cases::id.desc(),
        )),
        (SortKey::Deadline, false) => query.order((cases::next_deadline.asc(), cases::id.asc())),
        (SortKey::Deadline, true) => query.order((
            cases::next_deadline.eq(NO_DEADLINE).asc(),
            cases::next_deadline.desc(),
            cases::id.desc(),
        )),
        (SortKey::Updated, false) => query.order((cases::updated_at.asc(), cases::id.asc())),
        (SortKey::Updated, true) => query.order((cases::updated_at.desc(), cases::id.desc())),
    };
    let rows: Vec<(CaseRow, Organisation)> = query
        .limit(per_page)
        .offset((page - 1).saturating_mul(per_page))
        .select((CaseRow::as_select(), Organisation::as_select()))
        .load(conn)?;
    let rows = rows
        .into_iter()
        .filter(|(row, _)| {
            permitted(
                principal,
                Permission::ReadCase,
                row.applicant_id,
                row.submitted_at.is_some(),
            )
        })
        .collect();
    Ok(CasePage { rows, total })
}

/// Ranks the cases written before `cases.stand_rank` existed (see [`super::cases::stand_rank`]),
/// once per workflow version and set of active steps, in one transaction; returns how many.
/// Run at start-up, after the workflows are deployed.
pub fn rank_unranked(
    conn: &mut DbConnection,
    registry: &super::workflows::WorkflowRegistry,
) -> Result<usize, ServiceError> {
    write_transaction(conn, |conn| -> Result<usize, ServiceError> {
        let groups: Vec<(DefinitionId, String)> = cases::table
            .filter(cases::stand_rank.is_null())
            .select((cases::definition_id, cases::current_steps))
            .distinct()
            .load(conn)?;
        let mut ranked = 0;
        for (definition, steps) in groups {
            let workflow = registry.by_id(conn, definition)?;
            ranked += diesel::update(
                cases::table
                    .filter(cases::stand_rank.is_null())
                    .filter(cases::definition_id.eq(definition))
                    .filter(cases::current_steps.eq(&steps)),
            )
            .set(cases::stand_rank.eq(super::cases::stand_rank(&workflow, &steps)))
            .execute(conn)?;
        }
        Ok(ranked)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_matches_inside_a_vermerk_as_its_payload_is_stored() {
        let patterns =
            SearchPatterns::of("Frau \"Berg\" 100%_", InternalReader::Of(OrganisationId(7)));
        assert_eq!(patterns.plain, r#"%frau "berg" 100\%\_%"#);
        // Escaped for JSON (`\"`), then for LIKE (`\\`), inside the fixed `{"text":"…"}`.
        assert_eq!(patterns.note, r#"{"text":"%frau \\"berg\\" 100\%\_%"}"#);
        // The reader's own internal Vermerke, and for administrators every one.
        assert_eq!(
            patterns.internal_note,
            r#"{"internal_to":7,"text":"%frau \\"berg\\" 100\%\_%"}"#
        );
        let all = SearchPatterns::of("berg", InternalReader::All);
        assert_eq!(all.internal_note, r#"{"internal_to":%,"text":"%berg%"}"#);
    }
}
