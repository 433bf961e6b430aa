//! The running deadlines of cases, as the weekly digest, the calendar feed and the start page
//! list them.
//!
//! Every timer that belongs to a legal deadline carries that deadline's last day
//! (`timers.deadline`) and, when § 193 BGB moved it, why. A deadline with several timers
//! (reminders before it, the timer at its end) is listed once. Only scheduled timers count, so
//! a deadline disappears the moment its step is left or it has passed. The last day of a time
//! window's period (the Antragszeitraum) counts as a deadline of every running case waiting at
//! an action bound to it.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::ServiceError;
use super::workflows::WorkflowRegistry;
use crate::db::DbConnection;
use crate::db::models::{DefinitionId, OrganisationId};
use crate::db::schema::{cases, organisations, timers};
use crate::designation::designation;

/// Which cases' deadlines to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every case (administrators, the Bewilligungsbehörde).
    All,
    /// The cases of one applicant (its coordinating office).
    Applicant(OrganisationId),
}

/// One deadline of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseDeadline {
    pub case_id: i64,
    pub aktenzeichen: String,
    pub workflow_key: String,
    /// Title of the workflow (the procedure), e.g. "Betrieb eines Kommunalen Integrationszentrums".
    pub workflow_title: String,
    pub applicant_id: OrganisationId,
    pub applicant_name: String,
    /// Whether the case has reached the approving authority (for permission checks).
    pub submitted: bool,
    /// The step key.
    pub step: String,
    /// The step's title in the workflow version the case runs.
    pub step_title: String,
    /// The last day of the deadline.
    pub end: NaiveDate,
    /// Why the end was moved (§ 193 BGB), or which period ends, in German.
    pub reason: Option<String>,
    /// The time window whose period ends here, for the last day of a period (which no timer
    /// holds); `None` for a timer's deadline.
    pub window: Option<String>,
}

type Row = (
    i64,
    String,
    String,
    DefinitionId,
    OrganisationId,
    (String, String),
    bool,
    String,
    NaiveDate,
    Option<String>,
);

/// The deadlines ending between `from` and `to` (both included), earliest first.
pub fn between(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
    scope: Scope,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<CaseDeadline>, ServiceError> {
    let mut query = timers::table
        .inner_join(cases::table.inner_join(organisations::table))
        .filter(timers::status.eq("scheduled"))
        .filter(timers::deadline.ge(from))
        .filter(timers::deadline.le(to))
        .select((
            cases::id,
            cases::aktenzeichen,
            cases::workflow_key,
            cases::definition_id,
            cases::applicant_id,
            (organisations::kind, organisations::name),
            cases::submitted_at.is_not_null(),
            timers::step,
            timers::deadline.assume_not_null(),
            timers::deadline_reason,
        ))
        .distinct()
        .order((timers::deadline, cases::aktenzeichen, timers::step))
        .into_boxed();
    if let Scope::Applicant(id) = scope {
        query = query.filter(cases::applicant_id.eq(id));
    }
    let rows: Vec<Row> = query.load(conn)?;
    let mut deadlines = Vec::with_capacity(rows.len());
    for row in rows {
        let (case_id, aktenzeichen, workflow_key, definition, applicant_id) =
            (row.0, row.1, row.2, row.3, row.4);
        let applicant_name = designation(&row.5.0, &row.5.1).into_owned();
        let (submitted, step, end, reason) = (row.6, row.7, row.8, row.9);
        let workflow = registry.by_id(conn, definition)?;
        let step_title = workflow.definition().step_title(&step).to_string();
        deadlines.push(CaseDeadline {
            case_id,
            aktenzeichen,
            workflow_key,
            workflow_title: workflow.title.clone(),
            applicant_id,
            applicant_name,
            submitted,
            step,
            step_title,
            end,
            reason,
            window: None,
        });
    }
    deadlines.extend(window_ends(conn, registry, scope, from, to)?);
    deadlines
        .sort_by(|a, b| (a.end, &a.aktenzeichen, &a.step).cmp(&(b.end, &b.aktenzeichen, &b.step)));
    Ok(deadlines)
}

/// The last days of time-window periods between `from` and `to`, one per running case waiting
/// at an action bound to the window: for its office the end of the Antragszeitraum is a
/// deadline like any other.
fn window_ends(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
    scope: Scope,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<CaseDeadline>, ServiceError> {
    let applicant = match scope {
        Scope::All => None,
        Scope::Applicant(id) => Some(id),
    };
    let mut out = Vec::new();
    for period in super::time_windows::ending_between(conn, from, to)? {
        for waiting in super::time_windows::waiting_at(conn, registry, &period.name, applicant)? {
            let workflow = registry.by_id(conn, waiting.definition_id)?;
            let definition = workflow.definition();
            out.push(CaseDeadline {
                case_id: waiting.case_id,
                aktenzeichen: waiting.aktenzeichen,
                workflow_key: waiting.workflow_key,
                workflow_title: workflow.title.clone(),
                applicant_id: waiting.applicant_id,
                applicant_name: waiting.applicant_name,
                submitted: waiting.submitted,
                step_title: definition.step_title(&waiting.step).to_string(),
                step: waiting.step,
                end: period.closes_on,
                reason: Some(format!(
                    "Letzter Tag des Zeitraums „{}“ ({}): danach ist „{}“ erst im nächsten \
                     Zeitraum möglich.",
                    definition.window_title(&period.name),
                    period.label,
                    waiting.action
                )),
                window: Some(period.name.clone()),
            });
        }
    }
    Ok(out)
}
