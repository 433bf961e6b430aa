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

use diesel::prelude::*;
use serde_json::json;

use super::ServiceError;
use super::cases::{CaseContext, LoadedCase, not_found, parse_state};
use super::workflows::DeployedWorkflow;
use crate::db::models::{CaseId, CaseRow, DefinitionRow};
use crate::db::schema::cases;
use crate::db::{DbConnection, write_transaction};
use crate::engine::data::validate_data;
use crate::engine::definition::Step;
use crate::engine::instance::{CaseStatus, Instance, InvitationStatus, TimerPurpose};
use crate::engine::{Actor, Clock, Refusal};
use crate::journal::{self, NewEvent};

/// The journal kind of a move; its payload is `{"from", "to"}` (version numbers).
pub const WORKFLOW_VERSION_CHANGED: &str = "workflow_version_changed";

/// Why `instance`, running on `source`, cannot move to `target`; empty when it can. German, one
/// sentence each, naming the step or field concerned.
pub fn obstacles(
    source: &DeployedWorkflow,
    target: &DeployedWorkflow,
    instance: &Instance,
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
    let mut steps: Vec<&str> = instance.tokens.iter().map(|t| t.step.as_str()).collect();
    steps.extend(instance.timers.iter().map(|t| t.step.as_str()));
    steps.extend(
        instance
            .invitations
            .iter()
            .filter(|i| matches!(i.status, InvitationStatus::Open))
            .map(|i| i.step.as_str()),
    );
    steps.sort_unstable();
    steps.dedup();
    for name in steps {
        match (source.workflow.step(name), target.workflow.step(name)) {
            (_, None) => found.push(format!(
                "Den Schritt „{name}“, an dem der Vorgang steht, gibt es in Version {to} nicht."
            )),
            (Some(before), Some(after))
                if std::mem::discriminant(before) != std::mem::discriminant(after) =>
            {
                found.push(format!(
                    "Der Schritt „{name}“ ist in Version {to} eine andere Art von Schritt."
                ));
            }
            _ => {}
        }
    }
    // A pending timer fires by the new version's rules: what it names must be there.
    for timer in &instance.timers {
        let Some(step) = target.workflow.step(&timer.step) else {
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
            TimerPurpose::ConsultationReminder { index } => {
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
        match target.workflow.step(parallel) {
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

/// Moves case `id`, at case version `expected`, to workflow version `to` (the newest when
/// `None`), by `actor`. Refused with the obstacles when it cannot move; a version conflict when
/// the case changed meanwhile.
pub fn migrate(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    id: CaseId,
    expected: i64,
    to: Option<i32>,
    actor: &Actor,
    clock: &Clock,
) -> Result<LoadedCase, ServiceError> {
    let now = super::cases::db_time(clock);
    write_transaction(conn, |conn| {
        let row = CaseRow::find(conn, id)?.ok_or_else(not_found)?;
        if row.version != expected {
            return Err(ServiceError::VersionConflict {
                current: row.version,
            });
        }
        let source = ctx.registry.by_id(conn, row.definition_id)?;
        let target = target(conn, ctx, source.key(), to)?;
        let mut instance = parse_state(&row)?;
        let obstacles = obstacles(&source, &target, &instance);
        if !obstacles.is_empty() {
            return Err(ServiceError::Refused(
                obstacles
                    .into_iter()
                    .map(|message| Refusal::NotAvailable { message })
                    .collect(),
            ));
        }
        instance.workflow_version = target.workflow.version().to_string();
        let state =
            serde_json::to_string(&instance).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let updated = diesel::update(
            cases::table
                .filter(cases::id.eq(id))
                .filter(cases::version.eq(expected)),
        )
        .set((
            cases::definition_id.eq(target.id),
            cases::state.eq(&state),
            cases::version.eq(expected + 1),
            cases::stand_rank.eq(super::cases::stand_rank(&target, &row.current_steps)),
            cases::updated_at.eq(now),
        ))
        .execute(conn)?;
        if updated != 1 {
            let current = cases::table.find(id).select(cases::version).first(conn)?;
            return Err(ServiceError::VersionConflict { current });
        }
        journal::append(
            conn,
            id.0,
            &[NewEvent {
                at: now,
                actor: actor.id.clone(),
                kind: WORKFLOW_VERSION_CHANGED.into(),
                payload: json!({ "from": source.version, "to": target.version }),
            }],
        )?;
        tracing::info!(case = %row.aktenzeichen, from = source.version, to = target.version, "case moved to a newer workflow version");
        let row = CaseRow::find(conn, id)?.ok_or_else(not_found)?;
        Ok(LoadedCase {
            row,
            instance,
            workflow: target,
        })
    })
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
}

/// Which cases to move where: every running case of `key` version `from`, to version `to` (the
/// newest when `None`); with `trial`, only find out which would move.
#[derive(Debug, Clone)]
pub struct BulkMove {
    pub key: String,
    pub from: i32,
    pub to: Option<i32>,
    pub trial: bool,
}

/// Moves the cases `plan` names, each in its own transaction, so one that cannot move keeps
/// none of the others from moving. On a trial run nothing changes.
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
    for row in candidates {
        if plan.trial {
            let obstacles = obstacles(&source, &target, &parse_state(&row)?);
            if obstacles.is_empty() {
                outcome.movable.push(row.aktenzeichen);
            } else {
                outcome.refused.push((row.aktenzeichen, obstacles));
            }
            continue;
        }
        // `migrate` checks the obstacles itself, on the case as it is when it moves.
        let (id, version, aktenzeichen) = (row.id, row.version, row.aktenzeichen);
        match migrate(conn, ctx, id, version, Some(target.version), actor, clock) {
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
    Ok(outcome)
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
        assert_eq!(obstacles(&v1, &v2, &case), Vec::<String>::new());
        // Not back, not sideways.
        assert!(obstacles(&v2, &v1, &case)[0].contains("nur auf eine neuere Version"));
        let mut done = case.clone();
        done.status = CaseStatus::Completed;
        assert!(obstacles(&v1, &v2, &done)[0].contains("abgeschlossen"));
    }

    #[test]
    fn a_missing_step_another_kind_of_step_or_a_lost_branch_is_named() {
        let v1 = deployed(1, steps(), text_field());
        let case = in_branch("b", 1, json!({}));

        let mut without_b = steps();
        without_b["verteilen"]["branches"] = json!(["a"]);
        without_b.as_object_mut().unwrap().remove("b");
        let found = obstacles(&v1, &deployed(2, without_b, text_field()), &case);
        assert_eq!(
            found,
            [
                "Den Schritt „b“, an dem der Vorgang steht, gibt es in Version 2 nicht.",
                "Die Verzweigung „verteilen“, in der der Vorgang läuft, hat in Version 2 nicht mehr den Zweig Nr. 2."
            ]
        );

        let mut b_ends = steps();
        b_ends["b"] = json!({ "type": "end", "title": "Ende B", "outcome": "abgebrochen" });
        let found = obstacles(&v1, &deployed(2, b_ends, text_field()), &case);
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
            obstacles(&v1, &deployed(2, with_timer, text_field()), &case),
            Vec::<String>::new()
        );
        let found = obstacles(&v1, &deployed(2, steps(), text_field()), &case);
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
        let found = obstacles(&v1, &v2, &in_branch("a", 0, json!({ "name": "KI Kleve" })));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("Die Angabe /name passt nicht zu Version 2:"),
            "{found:?}"
        );
    }
}
