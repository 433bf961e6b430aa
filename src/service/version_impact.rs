//! What a new version of a workflow would mean for the cases already running: the editor's
//! „Prüfen“ names the steps running cases occupy that the new version lacks, or has as another
//! kind of step, before the administrator deploys it.
//!
//! Such cases keep running on their own version after the deployment; they can move to the new
//! one only once each of those steps is mapped to a step of the same kind
//! ([`super::case_migration::StepMapping`]). Knowing it before deploying lets the administrator
//! keep a name instead, or plan the mapping.

use std::collections::BTreeMap;

use diesel::prelude::*;

use super::ServiceError;
use super::case_migration::occupied_steps;
use super::cases::parse_state;
use super::workflows::WorkflowRegistry;
use crate::db::DbConnection;
use crate::db::models::CaseRow;
use crate::db::schema::{cases, workflow_definitions};
use crate::engine::definition::{Definition, Step};

/// A step that running cases occupy and a new version would take from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrandedStep {
    /// The step's name in the versions the cases run on.
    pub step: String,
    /// Its title there (in the newest of those versions).
    pub title: String,
    /// Its kind there, in German.
    pub kind: &'static str,
    /// Its kind in the new version where that has a step of the name but of another kind;
    /// `None` where the new version lacks the step.
    pub new_kind: Option<&'static str>,
    /// Aktenzeichen of the cases occupying it, oldest case first.
    pub cases: Vec<String>,
}

/// The steps the running cases of workflow `key` occupy that `new` lacks or has as another kind
/// of step, in the order of the newest version that has them, then by name.
pub fn stranded_steps(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
    key: &str,
    new: &Definition,
) -> Result<Vec<StrandedStep>, ServiceError> {
    let running: Vec<CaseRow> = cases::table
        .inner_join(workflow_definitions::table)
        .filter(workflow_definitions::key.eq(key))
        .filter(cases::status.eq_any(["new", "running"]))
        .order(cases::id)
        .select(CaseRow::as_select())
        .load(conn)?;
    // By name; each with the version it was last seen in, for its title and place.
    let mut found: BTreeMap<String, (i32, usize, StrandedStep)> = BTreeMap::new();
    for row in running {
        let instance = parse_state(&row)?;
        let workflow = registry.by_id(conn, row.definition_id)?;
        for name in occupied_steps(&instance) {
            let old = workflow.workflow.step(name);
            let new_step = new.steps.get(name);
            let new_kind = match (old, new_step) {
                (_, None) => None,
                (Some(old), Some(now))
                    if std::mem::discriminant(old) != std::mem::discriminant(now) =>
                {
                    Some(now.german_kind())
                }
                _ => continue,
            };
            let place = workflow
                .definition()
                .steps
                .get_index_of(name)
                .unwrap_or(usize::MAX);
            let entry = found.entry(name.to_string()).or_insert_with(|| {
                (
                    workflow.version,
                    place,
                    StrandedStep {
                        step: name.to_string(),
                        title: old.map_or(name, Step::title).to_string(),
                        kind: old.map_or("Schritt", Step::german_kind),
                        new_kind,
                        cases: Vec::new(),
                    },
                )
            });
            if workflow.version > entry.0 {
                entry.0 = workflow.version;
                entry.1 = place;
                if let Some(old) = old {
                    entry.2.title = old.title().to_string();
                    entry.2.kind = old.german_kind();
                }
            }
            entry.2.cases.push(row.aktenzeichen.clone());
        }
    }
    let mut stranded: Vec<(i32, usize, StrandedStep)> = found.into_values().collect();
    // Newest version first, then the order of its file, then the name.
    stranded.sort_by(|(version_a, place_a, a), (version_b, place_b, b)| {
        version_b
            .cmp(version_a)
            .then(place_a.cmp(place_b))
            .then_with(|| a.step.cmp(&b.step))
    });
    Ok(stranded.into_iter().map(|(_, _, step)| step).collect())
}
