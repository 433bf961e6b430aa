//! Moving a running case to a newer version of its workflow (what BPMN engines call process
//! instance migration).
//!
//! A case runs on the version it was started with; a deployed correction (a period, a title, a
//! further action) reaches only new cases. Cases of the KI procedure run for years, so an
//! administrator moves the running ones over explicitly, one at a time or all of a version at
//! once. A case moves only where nothing of its state would lose its meaning: every step where
//! it stands, waits or consults must exist in the new version as the same kind of step, every
//! pending timer must find what it fires there (its named boundary timer, its reminder), every
//! parallel it is inside must still have its branch, and its data must fit the new data schema.
//! Otherwise nothing changes and the reasons are named. Tokens, timers, invitations and data are
//! taken over as they are: deadlines already set stay; the new version's rules apply from the
//! next step on. The move is journaled (`workflow_version_changed`, from and to) and gives the
//! case a new version, like any other change.
//!
//! A step renamed or replaced in the new version is placed by a [`StepMapping`] (BPMN engines'
//! migration instructions): old name → new name, only between steps of the same kind. Every
//! reference of the case to the old name (tokens, timers, invitations, the parallels it runs in)
//! then names the new one, and the journal entry records the renames that applied to the case.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use serde_json::json;

use super::ServiceError;
use super::cases::{CaseContext, LoadedCase, not_found, parse_state};
use super::workflows::DeployedWorkflow;
use crate::db::models::{CaseId, CaseRow, DefinitionRow};
use crate::db::schema::{cases, invitations, timers};
use crate::db::{DbConnection, write_transaction};
use crate::engine::data::{DataError, validate_data};
use crate::engine::definition::Step;
use crate::engine::instance::{CaseStatus, Instance, InvitationStatus, TimerPurpose};
use crate::engine::{Actor, Clock, Refusal};
use crate::journal::{self, NewEvent};

/// The journal kind of a move; its payload is `{"from", "to"}` (version numbers).
pub const WORKFLOW_VERSION_CHANGED: &str = "workflow_version_changed";

/// Where a case standing at a step of the old version stands in the new one, for steps renamed
/// or replaced between the versions: old name → new name. Steps it does not name keep their name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepMapping(BTreeMap<String, String>);

impl StepMapping {
    /// The mapping `old → new`; an entry naming a step as itself is dropped.
    pub fn new(entries: BTreeMap<String, String>) -> Self {
        Self(
            entries
                .into_iter()
                .filter(|(old, new)| old != new)
                .collect(),
        )
    }

    /// The entries, old name first, ordered by it.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(old, new)| (old.as_str(), new.as_str()))
    }

    /// The name the old version's step `step` has in the new version.
    pub fn renamed<'a>(&'a self, step: &'a str) -> &'a str {
        self.0.get(step).map_or(step, String::as_str)
    }

    /// Every entry that cannot apply between `source` and `target`, pointed at `/steps/{old}`:
    /// a step that does not exist in its version, or a pair of steps of different kinds. Checked
    /// before any case moves, so a mistyped name never moves some cases and not others.
    pub fn check(&self, source: &DeployedWorkflow, target: &DeployedWorkflow) -> Vec<DataError> {
        self.0
            .iter()
            .filter_map(|(old, new)| {
                let message = match (source.workflow.step(old), target.workflow.step(new)) {
                    (None, _) => format!(
                        "Den Schritt „{old}“ gibt es in Version {} nicht.",
                        source.version
                    ),
                    (_, None) => format!(
                        "Den Schritt „{new}“ gibt es in Version {} nicht.",
                        target.version
                    ),
                    (Some(before), Some(after)) if before.type_name() != after.type_name() => {
                        format!(
                            "Der Schritt „{new}“ ({}) ist nicht von derselben Art wie „{old}“ \
                             ({}); zugeordnet wird nur ein Schritt derselben Art.",
                            after.german_kind(),
                            before.german_kind()
                        )
                    }
                    _ => return None,
                };
                Some(DataError {
                    pointer: format!("/steps/{}", old.replace('~', "~0").replace('/', "~1")),
                    message,
                })
            })
            .collect()
    }

    /// Renames every step `instance` refers to (tokens, timers, invitations, the parallels its
    /// tokens run in, the steps that started cases); returns the entries that applied to it.
    fn apply(&self, instance: &mut Instance) -> BTreeMap<String, String> {
        let mut applied = BTreeMap::new();
        let mut rename = |step: &mut String| {
            if let Some(new) = self.0.get(step.as_str()) {
                applied.insert(step.clone(), new.clone());
                step.clone_from(new);
            }
        };
        for token in &mut instance.tokens {
            rename(&mut token.step);
            for frame in &mut token.forks {
                rename(&mut frame.parallel);
            }
        }
        for timer in &mut instance.timers {
            rename(&mut timer.step);
        }
        for invitation in &mut instance.invitations {
            rename(&mut invitation.step);
        }
        // A renamed step that started a case still starts no second one.
        for started in &mut instance.started {
            rename(&mut started.step);
        }
        applied
    }
}

/// The steps a running `instance` stands at: where its tokens rest, its timers wait and its open
/// invitations consult. Sorted, each once.
fn standing_steps(instance: &Instance) -> BTreeSet<&str> {
    let mut steps: BTreeSet<&str> = instance.tokens.iter().map(|t| t.step.as_str()).collect();
    steps.extend(instance.timers.iter().map(|t| t.step.as_str()));
    steps.extend(
        instance
            .invitations
            .iter()
            .filter(|i| matches!(i.status, InvitationStatus::Open))
            .map(|i| i.step.as_str()),
    );
    steps
}

/// Why `instance`, running on `source`, cannot move to `target` with its steps renamed by
/// `steps`; empty when it can. German, one sentence each, naming the step or field concerned.
pub fn obstacles(
    source: &DeployedWorkflow,
    target: &DeployedWorkflow,
    instance: &Instance,
    steps: &StepMapping,
) -> Vec<String> {
    let mut found = Vec::new();
    let to = target.version;
    if source.key() != target.key() {
        found.push(format!(
            "Version {to} gehört zu einem anderen Workflow („{}“).",
            target.key()
        ));
        return found;
    }
    if !matches!(instance.status, CaseStatus::Running | CaseStatus::New) {
        found
            .push("Der Vorgang ist abgeschlossen; umgestellt werden nur laufende Vorgänge.".into());
        return found;
    }
    if to <= source.version {
        found.push(format!(
            "Der Vorgang läuft nach Version {}; umgestellt wird nur auf eine neuere Version.",
            source.version
        ));
        return found;
    }
    for name in standing_steps(instance) {
        let new = steps.renamed(name);
        match (source.workflow.step(name), target.workflow.step(new)) {
            (_, None) if new == name => found.push(format!(
                "Den Schritt „{name}“, an dem der Vorgang steht, gibt es in Version {to} nicht."
            )),
            (_, None) => found.push(format!(
                "Den Schritt „{new}“, dem „{name}“ zugeordnet ist, gibt es in Version {to} nicht."
            )),
            (Some(before), Some(after))
                if std::mem::discriminant(before) != std::mem::discriminant(after) =>
            {
                found.push(if new == name {
                    format!("Der Schritt „{name}“ ist in Version {to} eine andere Art von Schritt.")
                } else {
                    format!(
                        "Der Schritt „{new}“, dem „{name}“ zugeordnet ist, ist in Version {to} \
                         eine andere Art von Schritt."
                    )
                });
            }
            _ => {}
        }
    }
    // A pending timer fires by the new version's rules: what it names must be there.
    for timer in &instance.timers {
        let Some(step) = target.workflow.step(steps.renamed(&timer.step)) else {
            continue; // named above
        };
        match &timer.purpose {
            TimerPurpose::Boundary { name } if !step.timers().iter().any(|t| &t.name == name) => {
                found.push(format!(
                    "Die Frist „{name}“ des Schritts „{}“, die für den Vorgang läuft, gibt es in \
                     Version {to} nicht.",
                    timer.step
                ));
            }
            TimerPurpose::ConsultationReminder { index, .. } => {
                if let Step::Consultation(consultation) = step
                    && *index >= consultation.remind.len()
                {
                    found.push(format!(
                        "Die {}. Erinnerung im Schritt „{}“, die für den Vorgang geplant ist, gibt \
                         es in Version {to} nicht.",
                        index + 1,
                        timer.step
                    ));
                }
            }
            _ => {}
        }
    }
    let mut frames: Vec<(&str, usize)> = instance
        .tokens
        .iter()
        .flat_map(|t| t.forks.iter().map(|f| (f.parallel.as_str(), f.branch)))
        .collect();
    frames.sort_unstable();
    frames.dedup();
    for (parallel, branch) in frames {
        match target.workflow.step(steps.renamed(parallel)) {
            Some(Step::Parallel(step)) if branch < step.branches.len() => {}
            _ => found.push(format!(
                "Die Verzweigung „{parallel}“, in der der Vorgang läuft, hat in Version {to} \
                 nicht mehr den Zweig Nr. {}.",
                branch + 1
            )),
        }
    }
    for error in validate_data(&target.definition().data, &instance.data) {
        found.push(format!(
            "Die Angabe {} passt nicht zu Version {to}: {}",
            error.pointer, error.message
        ));
    }
    found
}

/// The workflow version `to` of `key`, or the newest when `to` is `None`.
pub fn target(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    key: &str,
    to: Option<i32>,
) -> Result<std::sync::Arc<DeployedWorkflow>, ServiceError> {
    let Some(to) = to else {
        return ctx.registry.latest(conn, key);
    };
    let id = DefinitionRow::id_of(conn, key, to)?.ok_or_else(|| missing_version(key, to))?;
    ctx.registry.by_id(conn, id)
}

fn missing_version(key: &str, version: i32) -> ServiceError {
    ServiceError::Unprocessable(format!(
        "Den Workflow „{key}“ gibt es nicht in Version {version}."
    ))
}

/// One case's move: from the case version the caller read, to a workflow version, with the
/// steps renamed between the versions.
#[derive(Debug, Clone, Copy)]
pub struct CaseMove<'a> {
    /// The case version the caller read; another one is a version conflict.
    pub expected: i64,
    /// The workflow version to move to; the newest when `None`.
    pub to: Option<i32>,
    /// Steps renamed or replaced in that version.
    pub steps: &'a StepMapping,
}

/// Moves case `id` as `plan` says, by `actor`. Refused with the obstacles when it cannot move,
/// with input errors when the step mapping does not fit the two versions; a version conflict
/// when the case changed meanwhile.
pub fn migrate(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    id: CaseId,
    plan: CaseMove<'_>,
    actor: &Actor,
    clock: &Clock,
) -> Result<LoadedCase, ServiceError> {
    let now = super::cases::db_time(clock);
    let expected = plan.expected;
    write_transaction(conn, |conn| {
        let row = CaseRow::find(conn, id)?.ok_or_else(not_found)?;
        if row.version != expected {
            return Err(ServiceError::VersionConflict {
                current: row.version,
            });
        }
        let source = ctx.registry.by_id(conn, row.definition_id)?;
        let target = target(conn, ctx, source.key(), plan.to)?;
        let mut instance = parse_state(&row)?;
        let mapping_errors = plan.steps.check(&source, &target);
        if !mapping_errors.is_empty() {
            return Err(ServiceError::InvalidInput(mapping_errors));
        }
        let obstacles = obstacles(&source, &target, &instance, plan.steps);
        if !obstacles.is_empty() {
            return Err(ServiceError::Refused(
                obstacles
                    .into_iter()
                    .map(|message| Refusal::NotAvailable { message })
                    .collect(),
            ));
        }
        instance.workflow_version = target.workflow.version().to_string();
        let renamed = plan.steps.apply(&mut instance);
        rename_mirrored_steps(conn, id, &renamed)?;
        let state =
            serde_json::to_string(&instance).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let current_steps = super::cases::current_steps(&instance);
        let submitted_at = row
            .submitted_at
            .or_else(|| super::cases::submitted(&target, &instance).then_some(now));
        let updated = diesel::update(
            cases::table
                .filter(cases::id.eq(id))
                .filter(cases::version.eq(expected)),
        )
        .set((
            cases::definition_id.eq(target.id),
            cases::state.eq(&state),
            cases::version.eq(expected + 1),
            cases::stand_rank.eq(super::cases::stand_rank(&target, &current_steps)),
            cases::next_deadline.eq(super::next_deadline::next_deadline(
                &target.workflow,
                &instance,
            )),
            cases::current_steps.eq(&current_steps),
            cases::submitted_at.eq(submitted_at),
            cases::updated_at.eq(now),
        ))
        .execute(conn)?;
        if updated != 1 {
            let current = cases::table.find(id).select(cases::version).first(conn)?;
            return Err(ServiceError::VersionConflict { current });
        }
        let mut payload = json!({ "from": source.version, "to": target.version });
        if !renamed.is_empty() {
            payload[STEPS] = json!(renamed);
        }
        journal::append(
            conn,
            id.0,
            &[NewEvent {
                at: now,
                actor: actor.id.clone(),
                kind: WORKFLOW_VERSION_CHANGED.into(),
                payload,
            }],
        )?;
        tracing::info!(case = %row.aktenzeichen, from = source.version, to = target.version, renamed = renamed.len(), "case moved to a newer workflow version");
        let row = CaseRow::find(conn, id)?.ok_or_else(not_found)?;
        Ok(LoadedCase {
            row,
            instance,
            workflow: target,
        })
    })
}

/// The payload key of a move's renamed steps (`{"old": "new"}`), present only when any applied.
pub const STEPS: &str = "steps";

/// Renames the steps in the rows that mirror the case's timers and invitations, one row at a
/// time so that two steps swapping their names end up swapped.
fn rename_mirrored_steps(
    conn: &mut DbConnection,
    id: CaseId,
    renamed: &BTreeMap<String, String>,
) -> Result<(), ServiceError> {
    if renamed.is_empty() {
        return Ok(());
    }
    let timer_rows: Vec<(i64, String)> = timers::table
        .filter(timers::case_id.eq(id.0))
        .filter(timers::step.eq_any(renamed.keys()))
        .select((timers::id, timers::step))
        .load(conn)?;
    for (row, step) in timer_rows {
        diesel::update(timers::table.find(row))
            .set(timers::step.eq(&renamed[&step]))
            .execute(conn)?;
    }
    let invitation_rows: Vec<(i64, String)> = invitations::table
        .filter(invitations::case_id.eq(id.0))
        .filter(invitations::step.eq_any(renamed.keys()))
        .select((invitations::id, invitations::step))
        .load(conn)?;
    for (row, step) in invitation_rows {
        diesel::update(invitations::table.find(row))
            .set(invitations::step.eq(&renamed[&step]))
            .execute(conn)?;
    }
    Ok(())
}

/// How many cases of `key` are still running, per workflow version (versions without any left
/// out), oldest version first.
pub fn running_by_version(
    conn: &mut DbConnection,
    key: &str,
) -> Result<Vec<(i32, i64)>, ServiceError> {
    use crate::db::schema::workflow_definitions;
    Ok(cases::table
        .inner_join(workflow_definitions::table)
        .filter(workflow_definitions::key.eq(key))
        .filter(cases::status.eq_any(["new", "running"]))
        .group_by(workflow_definitions::version)
        .order(workflow_definitions::version)
        .select((workflow_definitions::version, diesel::dsl::count_star()))
        .load(conn)?)
}

/// A step of the old version that running cases occupy, which the new version lacks and the
/// mapping does not place: what an administrator has to map before those cases can move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmatchedStep {
    /// The step's name in the old version.
    pub step: String,
    /// Its title there.
    pub title: String,
    /// Its kind in German.
    pub kind: &'static str,
    /// How many of the cases occupy it.
    pub cases: usize,
    /// The new version's steps of the same kind, `(name, title)` in the order of its file.
    pub candidates: Vec<(String, String)>,
}

/// What moving the running cases of one workflow version did: the moved Aktenzeichen, and the
/// ones that stay with their reasons.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkOutcome {
    /// The workflow version they were (or would be) moved to.
    pub to: i32,
    /// Aktenzeichen of the cases moved (none on a trial run).
    pub moved: Vec<String>,
    /// Aktenzeichen of the cases that would move (on a trial run only).
    pub movable: Vec<String>,
    /// Cases that stay, each with why.
    pub refused: Vec<(String, Vec<String>)>,
    /// Steps the cases that stay occupy which need a mapping, in the order of the old file.
    pub unmatched: Vec<UnmatchedStep>,
}

/// Which cases to move where: every running case of `key` version `from`, to version `to` (the
/// newest when `None`), with the steps renamed by `steps`; with `trial`, only find out which
/// would move.
#[derive(Debug, Clone)]
pub struct BulkMove {
    pub key: String,
    pub from: i32,
    pub to: Option<i32>,
    pub steps: StepMapping,
    pub trial: bool,
}

/// Moves the cases `plan` names, each in its own transaction, so one that cannot move keeps
/// none of the others from moving. On a trial run nothing changes. A step mapping that does not
/// fit the two versions moves nothing.
pub fn migrate_all(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    plan: &BulkMove,
    actor: &Actor,
    clock: &Clock,
) -> Result<BulkOutcome, ServiceError> {
    let key = plan.key.as_str();
    let source_id = DefinitionRow::id_of(conn, key, plan.from)?
        .ok_or_else(|| missing_version(key, plan.from))?;
    let target = target(conn, ctx, key, plan.to)?;
    let source = ctx.registry.by_id(conn, source_id)?;
    let mapping_errors = plan.steps.check(&source, &target);
    if !mapping_errors.is_empty() {
        return Err(ServiceError::InvalidInput(mapping_errors));
    }
    let candidates: Vec<CaseRow> = cases::table
        .filter(cases::definition_id.eq(source_id))
        .filter(cases::status.eq_any(["new", "running"]))
        .order(cases::id)
        .select(CaseRow::as_select())
        .load(conn)?;
    let mut outcome = BulkOutcome {
        to: target.version,
        ..BulkOutcome::default()
    };
    let mut unplaced: BTreeMap<String, usize> = BTreeMap::new();
    for row in candidates {
        let instance = parse_state(&row)?;
        // A step it occupies that the new version lacks keeps a case behind in any case.
        for step in unplaced_steps(&target, &instance, &plan.steps) {
            *unplaced.entry(step).or_default() += 1;
        }
        if plan.trial {
            let obstacles = obstacles(&source, &target, &instance, &plan.steps);
            if obstacles.is_empty() {
                outcome.movable.push(row.aktenzeichen);
            } else {
                outcome.refused.push((row.aktenzeichen, obstacles));
            }
            continue;
        }
        // `migrate` checks the obstacles itself, on the case as it is when it moves.
        let (id, version, aktenzeichen) = (row.id, row.version, row.aktenzeichen);
        let one = CaseMove {
            expected: version,
            to: Some(target.version),
            steps: &plan.steps,
        };
        match migrate(conn, ctx, id, one, actor, clock) {
            Ok(_) => outcome.moved.push(aktenzeichen),
            Err(ServiceError::VersionConflict { .. }) => outcome.refused.push((
                aktenzeichen,
                vec!["Der Vorgang wurde währenddessen geändert; bitte erneut umstellen.".into()],
            )),
            Err(ServiceError::Refused(reasons)) => outcome.refused.push((
                aktenzeichen,
                reasons.iter().map(|r| r.message().to_string()).collect(),
            )),
            Err(other) => return Err(other),
        }
    }
    outcome.unmatched = source
        .definition()
        .steps
        .iter()
        .filter_map(|(name, step)| {
            let cases = *unplaced.get(name.as_str())?;
            let candidates = target
                .definition()
                .steps
                .iter()
                .filter(|(_, other)| other.type_name() == step.type_name())
                .map(|(other_name, other)| (other_name.to_string(), other.title().to_string()))
                .collect();
            Some(UnmatchedStep {
                step: name.to_string(),
                title: step.title().to_string(),
                kind: step.german_kind(),
                cases,
                candidates,
            })
        })
        .collect();
    Ok(outcome)
}

/// The steps `instance` occupies (standing there or running in a parallel) that `target` lacks
/// once renamed by `steps`.
fn unplaced_steps(
    target: &DeployedWorkflow,
    instance: &Instance,
    steps: &StepMapping,
) -> Vec<String> {
    occupied_steps(instance)
        .into_iter()
        .filter(|step| target.workflow.step(steps.renamed(step)).is_none())
        .map(str::to_string)
        .collect()
}

/// The steps a running `instance` occupies: where it stands, waits or consults, and the
/// parallels it runs in. A version that lacks one of them cannot take the case over.
pub(super) fn occupied_steps(instance: &Instance) -> BTreeSet<&str> {
    let mut occupied = standing_steps(instance);
    occupied.extend(
        instance
            .tokens
            .iter()
            .flat_map(|t| t.forks.iter().map(|f| f.parallel.as_str())),
    );
    occupied
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, Utc};
    use serde_json::{Value, json};

    use super::*;
    use crate::db::models::DefinitionId;
    use crate::engine::definition::Definition;
    use crate::engine::instance::{Applicant, ForkFrame, LocalId, Token};
    use crate::engine::workflow::Workflow;

    /// Version `version` of a workflow with these steps and data fields.
    fn deployed(version: i32, steps: Value, data: Value) -> DeployedWorkflow {
        let definition: Definition = serde_json::from_value(json!({
            "workflow": "test",
            "title": "Test",
            "roles": { "koordination": { "title": "Koordination" } },
            "data": data,
            "start": "entwurf",
            "steps": steps,
        }))
        .expect("test definition");
        DeployedWorkflow {
            id: DefinitionId(i64::from(version)),
            version,
            title: "Test".into(),
            source: String::new(),
            workflow: Workflow::new(definition).expect("expressions compile"),
        }
    }

    fn task(to: &str) -> Value {
        json!({ "type": "task", "title": "T", "role": "koordination", "actions": {
            "weiter": { "title": "Weiter", "to": to } } })
    }

    fn steps() -> Value {
        json!({
            "entwurf": task("verteilen"),
            "verteilen": { "type": "parallel", "title": "V", "branches": ["a", "b"], "join": "sammeln" },
            "a": task("sammeln"),
            "b": task("sammeln"),
            "sammeln": { "type": "join", "title": "S", "next": "ende" },
            "ende": { "type": "end", "title": "Ende", "outcome": "erledigt" },
        })
    }

    fn none() -> StepMapping {
        StepMapping::default()
    }

    fn mapping(entries: &[(&str, &str)]) -> StepMapping {
        StepMapping::new(
            entries
                .iter()
                .map(|(old, new)| (old.to_string(), new.to_string()))
                .collect(),
        )
    }

    /// `steps()` with the steps named in `renames` under their new names, references included.
    fn renamed_steps(renames: &[(&str, &str)]) -> Value {
        let mut text = steps().to_string();
        for (old, new) in renames {
            text = text.replace(&format!("\"{old}\""), &format!("\"{new}\""));
        }
        serde_json::from_str(&text).unwrap()
    }

    fn text_field() -> Value {
        json!({ "name": { "type": "text", "label": "Name" } })
    }

    /// A running case with a token in branch `branch` (from 0) of `verteilen`, at `step`.
    fn in_branch(step: &str, branch: usize, data: Value) -> Instance {
        let mut instance = Instance::new(
            "test",
            "v1",
            Applicant {
                key: "05154".into(),
                kind: "kreis".into(),
                name: "Kleve".into(),
            },
        );
        instance.status = CaseStatus::Running;
        instance.data = data;
        instance.tokens.push(Token {
            id: LocalId(1),
            step: step.into(),
            since: Utc::now(),
            entered_on: NaiveDate::from_ymd_opt(2026, 12, 5).unwrap(),
            forks: vec![ForkFrame {
                fork: LocalId(2),
                parallel: "verteilen".into(),
                branch,
            }],
            at_join: false,
        });
        instance
    }

    #[test]
    fn a_newer_version_with_the_same_steps_takes_the_case() {
        let v1 = deployed(1, steps(), text_field());
        let v2 = deployed(2, steps(), text_field());
        let case = in_branch("b", 1, json!({ "name": "KI Kleve" }));
        assert_eq!(obstacles(&v1, &v2, &case, &none()), Vec::<String>::new());
        // Not back, not sideways.
        assert!(obstacles(&v2, &v1, &case, &none())[0].contains("nur auf eine neuere Version"));
        let mut done = case.clone();
        done.status = CaseStatus::Completed;
        assert!(obstacles(&v1, &v2, &done, &none())[0].contains("abgeschlossen"));
    }

    #[test]
    fn a_missing_step_another_kind_of_step_or_a_lost_branch_is_named() {
        let v1 = deployed(1, steps(), text_field());
        let case = in_branch("b", 1, json!({}));

        let mut without_b = steps();
        without_b["verteilen"]["branches"] = json!(["a"]);
        without_b.as_object_mut().unwrap().remove("b");
        let found = obstacles(&v1, &deployed(2, without_b, text_field()), &case, &none());
        assert_eq!(
            found,
            [
                "Den Schritt „b“, an dem der Vorgang steht, gibt es in Version 2 nicht.",
                "Die Verzweigung „verteilen“, in der der Vorgang läuft, hat in Version 2 nicht mehr den Zweig Nr. 2."
            ]
        );

        let mut b_ends = steps();
        b_ends["b"] = json!({ "type": "end", "title": "Ende B", "outcome": "abgebrochen" });
        let found = obstacles(&v1, &deployed(2, b_ends, text_field()), &case, &none());
        assert_eq!(
            found,
            ["Der Schritt „b“ ist in Version 2 eine andere Art von Schritt."]
        );
    }

    #[test]
    fn a_pending_timer_must_find_its_definition_in_the_new_version() {
        let mut with_timer = steps();
        with_timer["b"]["timers"] = json!([{ "name": "mahnung", "when": { "every": "P1W" } }]);
        let v1 = deployed(1, with_timer.clone(), text_field());
        let mut case = in_branch("b", 1, json!({}));
        case.timers.push(crate::engine::instance::TimerState {
            id: LocalId(3),
            token: LocalId(1),
            step: "b".into(),
            purpose: TimerPurpose::Boundary {
                name: "mahnung".into(),
            },
            due: NaiveDate::from_ymd_opt(2026, 12, 19).unwrap(),
            deadline: None,
        });
        assert_eq!(
            obstacles(&v1, &deployed(2, with_timer, text_field()), &case, &none()),
            Vec::<String>::new()
        );
        let found = obstacles(&v1, &deployed(2, steps(), text_field()), &case, &none());
        assert_eq!(
            found,
            [
                "Die Frist „mahnung“ des Schritts „b“, die für den Vorgang läuft, gibt es in Version 2 nicht."
            ]
        );
    }

    #[test]
    fn data_that_does_not_fit_the_new_schema_is_named() {
        let v1 = deployed(1, steps(), text_field());
        let v2 = deployed(
            2,
            steps(),
            json!({ "name": { "type": "number", "label": "Name" } }),
        );
        let found = obstacles(
            &v1,
            &v2,
            &in_branch("a", 0, json!({ "name": "KI Kleve" })),
            &none(),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("Die Angabe /name passt nicht zu Version 2:"),
            "{found:?}"
        );
    }

    #[test]
    fn a_mapping_places_a_case_whose_step_and_parallel_were_renamed() {
        let v1 = deployed(1, steps(), text_field());
        let v2 = deployed(
            2,
            renamed_steps(&[("b", "b_neu"), ("verteilen", "aufteilen")]),
            text_field(),
        );
        let mut case = in_branch("b", 1, json!({}));
        case.timers.push(crate::engine::instance::TimerState {
            id: LocalId(3),
            token: LocalId(1),
            step: "b".into(),
            purpose: TimerPurpose::WaitOver,
            due: NaiveDate::from_ymd_opt(2026, 12, 19).unwrap(),
            deadline: None,
        });
        assert_eq!(
            obstacles(&v1, &v2, &case, &none()),
            [
                "Den Schritt „b“, an dem der Vorgang steht, gibt es in Version 2 nicht.",
                "Die Verzweigung „verteilen“, in der der Vorgang läuft, hat in Version 2 nicht mehr den Zweig Nr. 2."
            ]
        );
        let plan = mapping(&[("b", "b_neu"), ("verteilen", "aufteilen"), ("a", "a")]);
        assert!(plan.check(&v1, &v2).is_empty());
        assert_eq!(obstacles(&v1, &v2, &case, &plan), Vec::<String>::new());
        let applied = plan.apply(&mut case);
        assert_eq!(
            applied,
            BTreeMap::from([
                ("b".to_string(), "b_neu".to_string()),
                ("verteilen".to_string(), "aufteilen".to_string())
            ])
        );
        assert_eq!(case.tokens[0].step, "b_neu");
        assert_eq!(case.tokens[0].forks[0].parallel, "aufteilen");
        assert_eq!(case.timers[0].step, "b_neu");
    }

    #[test]
    fn a_renamed_step_keeps_the_case_it_started() {
        let plan = mapping(&[("a", "a_neu")]);
        let mut case = in_branch("b", 1, json!({}));
        case.started.push(crate::engine::instance::StartedCase {
            step: "a".into(),
            workflow: "folge".into(),
        });
        let applied = plan.apply(&mut case);
        assert_eq!(case.started[0].step, "a_neu");
        assert_eq!(
            applied,
            BTreeMap::from([("a".to_string(), "a_neu".to_string())])
        );
    }

    #[test]
    fn two_steps_swapping_their_names_end_up_swapped() {
        let plan = mapping(&[("a", "b"), ("b", "a")]);
        let mut case = in_branch("a", 0, json!({}));
        let mut other = in_branch("b", 1, json!({}));
        other.tokens[0].id = LocalId(4);
        case.tokens.push(other.tokens.remove(0));
        plan.apply(&mut case);
        let at: Vec<&str> = case.tokens.iter().map(|t| t.step.as_str()).collect();
        assert_eq!(at, ["b", "a"]);
    }

    #[test]
    fn a_mapping_naming_an_unknown_step_or_another_kind_is_refused_at_its_entry() {
        let v1 = deployed(1, steps(), text_field());
        let v2 = deployed(2, renamed_steps(&[("b", "b_neu")]), text_field());
        let errors = mapping(&[
            ("x/y", "a"),
            ("b", "c"),
            ("a", "ende"),
            ("sammeln", "sammeln"),
        ])
        .check(&v1, &v2);
        let found: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.pointer.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "/steps/a",
                    "Der Schritt „ende“ (Ende) ist nicht von derselben Art wie „a“ (Aufgabe); \
                     zugeordnet wird nur ein Schritt derselben Art."
                ),
                ("/steps/b", "Den Schritt „c“ gibt es in Version 2 nicht."),
                (
                    "/steps/x~1y",
                    "Den Schritt „x/y“ gibt es in Version 1 nicht."
                ),
            ]
        );
        // A mapping onto a step of the same kind that is not where the case stands is named by
        // the obstacles with both names.
        let mut elsewhere = renamed_steps(&[("b", "b_neu")]);
        elsewhere["b_neu"] = json!({ "type": "end", "title": "Ende B", "outcome": "abgebrochen" });
        elsewhere["b_task"] = task("sammeln");
        let v3 = deployed(3, elsewhere, text_field());
        let case = in_branch("b", 1, json!({}));
        assert_eq!(
            obstacles(&v1, &v3, &case, &mapping(&[("b", "b_neu")])),
            [
                "Der Schritt „b_neu“, dem „b“ zugeordnet ist, ist in Version 3 eine andere Art von Schritt."
            ]
        );
        assert_eq!(
            obstacles(&v1, &v3, &case, &mapping(&[("b", "b_task")])),
            Vec::<String>::new()
        );
    }
}
