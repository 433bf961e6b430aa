//! The earliest legal deadline of a case's active steps, stored in `cases.next_deadline` so that
//! lists sort by „Nächste Frist“ in the database instead of reading every case's state.
//!
//! The date is a function of the workflow and the engine state alone, so every write of the
//! state writes it too (start, command, migration to another version). A case without any
//! deadline stores [`NO_DEADLINE`], which sorts after every real date; `NULL` means not yet
//! computed (cases written before the column existed) and is filled in at start-up
//! ([`fill_unknown`]).

use chrono::{Days, NaiveDate};
use diesel::prelude::*;

use super::ServiceError;
use super::workflows::WorkflowRegistry;
use crate::db::models::{CaseId, DefinitionId};
use crate::db::schema::cases;
use crate::db::{DbConnection, write_transaction};
use crate::engine::Workflow;
use crate::engine::definition::TimerWhen;
use crate::engine::instance::{Instance, TimerPurpose, Token};

/// Stored for a case none of whose active steps has a deadline: a day after every real one, so
/// that an ascending sort puts such cases last. 9999-12-31 rather than chrono's maximum, whose
/// text form (`+262142-12-31`, as SQLite stores dates) would sort before every other date.
pub const NO_DEADLINE: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(day) => day,
    None => panic!("9999-12-31 is a valid date"),
};

/// The legal deadline of one active step (its last day): the invitation's answer deadline for a
/// partner's Stellungnahme, else the day before the earliest timer of the step that fires a
/// fixed time after it began (`after:`), which is when the deadline has passed.
pub fn step_deadline(workflow: &Workflow, instance: &Instance, token: &Token) -> Option<NaiveDate> {
    instance
        .invitations
        .iter()
        .find(|i| i.token == token.id)
        .map(|i| i.deadline)
        .or_else(|| {
            instance
                .timers
                .iter()
                .filter(|t| t.token == token.id)
                .filter_map(|t| match &t.purpose {
                    TimerPurpose::Boundary { name } => workflow
                        .step(&token.step)
                        .and_then(|s| s.timers().iter().find(|d| &d.name == name))
                        .filter(|d| matches!(d.when, TimerWhen::After(_)))
                        .and_then(|_| t.due.checked_sub_days(Days::new(1))),
                    _ => None,
                })
                .min()
        })
}

/// The earliest deadline of the active steps, or [`NO_DEADLINE`]: the value of
/// `cases.next_deadline`.
pub fn next_deadline(workflow: &Workflow, instance: &Instance) -> NaiveDate {
    instance
        .active_steps()
        .filter_map(|token| step_deadline(workflow, instance, token))
        .min()
        .unwrap_or(NO_DEADLINE)
}

/// How many cases [`fill_unknown`] computes per transaction: enough to be quick at start-up,
/// few enough that a large backlog does not hold the write lock for long.
const BATCH: i64 = 500;

/// Computes `next_deadline` of the cases that have none yet (written before the column
/// existed), in batches of their own transaction each; returns how many. Run at start-up, after
/// the workflows are deployed.
pub fn fill_unknown(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
) -> Result<usize, ServiceError> {
    let mut filled = 0;
    loop {
        let done = write_transaction(conn, |conn| -> Result<usize, ServiceError> {
            let batch: Vec<(CaseId, DefinitionId, String)> = cases::table
                .filter(cases::next_deadline.is_null())
                .order(cases::id.asc())
                .limit(BATCH)
                .select((cases::id, cases::definition_id, cases::state))
                .load(conn)?;
            for (id, definition, state) in &batch {
                let workflow = registry.by_id(conn, *definition)?;
                let instance: Instance = serde_json::from_str(state).map_err(|e| {
                    ServiceError::Internal(format!("Zustand des Vorgangs {} unlesbar: {e}", id.0))
                })?;
                diesel::update(cases::table.find(*id))
                    .set(cases::next_deadline.eq(next_deadline(&workflow.workflow, &instance)))
                    .execute(conn)?;
            }
            Ok(batch.len())
        })?;
        filled += done;
        if done < BATCH as usize {
            return Ok(filled);
        }
    }
}
