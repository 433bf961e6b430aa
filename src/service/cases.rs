//! Case commands. Each loads the case, checks its version, calls the engine, then stores the new
//! state, the journal entries, the timers and the outbox rows together: in one write transaction
//! that locks the case first, or on PostgreSQL, where the outcome allows, as one statement guarded
//! by the version read (see `apply`). A failure anywhere writes nothing.

use std::sync::Arc;

use chrono::{NaiveDateTime, Timelike};
use diesel::prelude::*;
use serde_json::{Value, json};

use super::beteiligung;
use super::error::ServiceError;
use super::mail::{CaseMailFacts, MailContext};
use super::workflows::{DeployedWorkflow, WorkflowRegistry};
use crate::db::models::{CaseForCommand, CaseId, CaseRow, Organisation, OrganisationId};
use crate::db::schema::{cases, organisations};
use crate::db::{
    DbConnection, Deferred, execute_reused, in_transaction, is_guard_failure, write_transaction,
};
use crate::engine::data::validate_data;
use crate::engine::definition::Step;
use crate::engine::instance::{Answer, LocalId};
use crate::engine::{
    Actor, CaseStatus, Clock, Event, Instance, JournalEntry, Outcome, SideEffect, step_owned,
};
use crate::journal::{self, ChainHead, NewEvent};

mod messages;
mod record;
mod start;
pub use messages::{correlate_message, receive_message};
use record::record;
pub use start::start_case;

/// The parts of a case a permission decision needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseAccess {
    /// The applicant organisation that owns the case.
    pub applicant: OrganisationId,
    /// Whether the case has reached the approving authority.
    pub submitted: bool,
}

/// Checks, inside the transaction and before anything changes, whether the caller may proceed.
pub type AccessCheck<'a> = &'a dyn Fn(CaseAccess) -> Result<(), ServiceError>;

/// Who runs a command, when, and the permission check to run on the loaded case.
#[derive(Clone, Copy)]
pub struct Invocation<'a> {
    pub actor: &'a Actor,
    pub clock: &'a Clock,
    pub check: AccessCheck<'a>,
}

/// What the commands need besides the connection.
pub struct CaseContext<'a> {
    pub registry: &'a WorkflowRegistry,
    pub pattern: &'a super::aktenzeichen::AktenzeichenPattern,
    /// Templates, link signer and sender for the mails commands write.
    pub mail: &'a super::mail::Outgoing,
}

/// A stored case with its workflow, after a command.
#[derive(Debug)]
pub struct LoadedCase {
    pub row: CaseRow,
    pub instance: Instance,
    pub workflow: Arc<DeployedWorkflow>,
}

impl LoadedCase {
    /// Who may see and change it.
    pub fn access(&self) -> CaseAccess {
        access(&self.row)
    }
}

pub(super) fn access(row: &CaseRow) -> CaseAccess {
    CaseAccess {
        applicant: row.applicant_id,
        submitted: row.submitted_at.is_some(),
    }
}

pub(super) fn db_time(clock: &Clock) -> NaiveDateTime {
    let now = clock.now.naive_utc();
    now.with_nanosecond(now.nanosecond() / 1000 * 1000)
        .unwrap_or(now)
}

fn status_name(status: CaseStatus) -> &'static str {
    match status {
        CaseStatus::New => "new",
        CaseStatus::Running => "running",
        CaseStatus::Completed => "completed",
        CaseStatus::Withdrawn => "withdrawn",
    }
}

/// Reads a case for display or a permission check.
pub fn load(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
    id: CaseId,
) -> Result<LoadedCase, ServiceError> {
    let row = CaseRow::find(conn, id)?.ok_or_else(not_found)?;
    from_row(conn, registry, row)
}

/// A case from a row the caller has read already (a page of a list), without reading it again.
pub fn from_row(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
    row: CaseRow,
) -> Result<LoadedCase, ServiceError> {
    let workflow = registry.by_id(conn, row.definition_id)?;
    let instance = parse_state(&row)?;
    Ok(LoadedCase {
        row,
        instance,
        workflow,
    })
}

/// Reads a case together with its applicant organisation, in one query: what showing a case
/// needs (the view names the applicant), without a second round trip for the organisation.
pub fn load_with_applicant(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
    id: CaseId,
) -> Result<(LoadedCase, Organisation), ServiceError> {
    let found: Option<(CaseRow, Organisation)> = cases::table
        .inner_join(organisations::table)
        .filter(cases::id.eq(id))
        .select((CaseRow::as_select(), Organisation::as_select()))
        .first(conn)
        .optional()?;
    with_applicant(conn, registry, found)
}

/// A case and its applicant from rows the caller has read already (the principal's query of
/// `GET /cases/{id}`, see `auth::Caller::principal_with_case`); not found when there are none.
pub fn with_applicant(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
    found: Option<(CaseRow, Organisation)>,
) -> Result<(LoadedCase, Organisation), ServiceError> {
    let (row, applicant) = found.ok_or_else(not_found)?;
    let workflow = registry.by_id(conn, row.definition_id)?;
    let instance = parse_state(&row)?;
    Ok((
        LoadedCase {
            row,
            instance,
            workflow,
        },
        applicant,
    ))
}

pub(super) fn not_found() -> ServiceError {
    ServiceError::NotFound("Diesen Vorgang gibt es nicht.".into())
}

pub(super) fn parse_state(row: &CaseRow) -> Result<Instance, ServiceError> {
    serde_json::from_str(&row.state).map_err(|e| {
        ServiceError::Db(crate::db::DbError::Migration(format!(
            "Zustand von {} unlesbar: {e}",
            row.aktenzeichen
        )))
    })
}

fn internal(error: serde_json::Error) -> ServiceError {
    ServiceError::Db(crate::db::DbError::Migration(error.to_string()))
}

/// Where a case with `current_steps` (`,a,b,`) stands in `workflow`, stored in
/// `cases.stand_rank` so that lists sort by „Stand“ in procedure order rather than by step key:
/// the authored position of its earliest active step (definitions list their steps in the order
/// of the procedure); after every step once none is active.
pub fn stand_rank(workflow: &DeployedWorkflow, current_steps: &str) -> i32 {
    let steps = &workflow.definition().steps;
    current_steps
        .split(',')
        .filter_map(|step| steps.get_index_of(step))
        .min()
        .unwrap_or(steps.len())
        .try_into()
        .unwrap_or(i32::MAX)
}

/// The active steps in the form stored in `cases.current_steps` (`,a,b,`).
pub(super) fn current_steps(instance: &Instance) -> String {
    let mut steps: Vec<&str> = instance.active_steps().map(|t| t.step.as_str()).collect();
    steps.sort_unstable();
    steps.dedup();
    if steps.is_empty() {
        String::new()
    } else {
        format!(",{},", steps.join(","))
    }
}

/// True once a token rests at a step of the approving authority's role.
pub(super) fn submitted(workflow: &DeployedWorkflow, instance: &Instance) -> bool {
    instance.active_steps().any(|token| {
        matches!(workflow.workflow.step(&token.step), Some(Step::Task(task)) if task.role == "bewilligung")
    })
}

/// Applies an engine event to a stored case under optimistic concurrency.
///
/// A command that names the version it expects reads the case without a lock and runs the
/// engine before it takes one (`apply_optimistic`): the lock is held only to write, and a case
/// changed in between is a version conflict. On PostgreSQL, if the outcome's writes all fit into
/// one statement (`one_statement`), they go out as that statement without a transaction around
/// it: guarded by the version read, it writes all or nothing (`db::deferred`). On SQLite, whose
/// writers queue one at a time on the write gate, this keeps the engine's work out of the queue.
/// A command without an expected version, and any inside a caller's transaction, runs in a
/// write transaction that locks the case first.
pub(super) fn apply(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    id: CaseId,
    expected_version: Option<i64>,
    call: Invocation<'_>,
    make_event: impl FnOnce(&DeployedWorkflow, &Instance) -> Result<Event, ServiceError>,
    validate: bool,
) -> Result<LoadedCase, ServiceError> {
    // Inside a caller's transaction (commands composed into one unit) a failed statement would
    // abort that transaction; there the command takes the lock as always.
    if let Some(expected) = expected_version
        && !in_transaction(conn)
    {
        return apply_optimistic(conn, ctx, id, expected, call, make_event, validate);
    }
    write_transaction(conn, |conn| {
        let case = CaseForCommand::lock(conn, id)?.ok_or_else(not_found)?;
        let change = compute(
            conn,
            ctx,
            case.row,
            expected_version,
            call,
            make_event,
            validate,
        )?;
        let held = Held {
            row: &change.row,
            head: ChainHead::from_newest(case.newest_event),
            applicant_mailbox: case.applicant_mailbox.as_deref(),
        };
        write_change(conn, ctx, &change, held, call)?;
        Ok(change.into_loaded())
    })
}

/// `apply` for a command that names the version it expects: see there.
fn apply_optimistic(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    id: CaseId,
    expected: i64,
    call: Invocation<'_>,
    make_event: impl FnOnce(&DeployedWorkflow, &Instance) -> Result<Event, ServiceError>,
    validate: bool,
) -> Result<LoadedCase, ServiceError> {
    let case = CaseForCommand::read(conn, id)?.ok_or_else(not_found)?;
    let change = compute(
        conn,
        ctx,
        case.row,
        Some(expected),
        call,
        make_event,
        validate,
    )?;
    if matches!(conn, DbConnection::Pg(_)) && one_statement(&change.outcome) {
        let held = Held {
            row: &change.row,
            head: ChainHead::from_newest(case.newest_event.clone()),
            applicant_mailbox: case.applicant_mailbox.as_deref(),
        };
        match write_change(conn, ctx, &change, held, call) {
            Ok(()) => return Ok(change.into_loaded()),
            Err(ServiceError::Db(error)) if is_guard_failure(&error) => {
                let current = cases::table.find(id).select(cases::version).first(conn)?;
                return Err(ServiceError::VersionConflict { current });
            }
            // The journal grew without a new version (an invitation sent again): the outcome
            // still holds, and is written below after the entries that came in between.
            Err(ServiceError::Db(error)) if journal::is_head_taken(&error) => {}
            Err(other) => return Err(other),
        }
    }
    // SQLite, an outcome that needs statements of its own, or one that lost the race for the
    // journal's head: write it under the lock, provided the case is still the one it was
    // computed from.
    write_transaction(conn, |conn| {
        let locked = CaseForCommand::lock(conn, id)?.ok_or_else(not_found)?;
        if locked.row.version != change.read_version {
            return Err(ServiceError::VersionConflict {
                current: locked.row.version,
            });
        }
        let held = Held {
            row: &change.row,
            head: ChainHead::from_newest(locked.newest_event),
            applicant_mailbox: locked.applicant_mailbox.as_deref(),
        };
        write_change(conn, ctx, &change, held, call)
    })?;
    Ok(change.into_loaded())
}

/// A command's new case state, computed from the case as read and not yet written.
struct Change {
    /// The row as it will be stored (version already incremented).
    row: CaseRow,
    /// The version the change was computed from, which the update requires.
    read_version: i64,
    workflow: Arc<DeployedWorkflow>,
    outcome: Outcome,
}

impl Change {
    fn into_loaded(self) -> LoadedCase {
        LoadedCase {
            row: self.row,
            instance: self.outcome.instance,
            workflow: self.workflow,
        }
    }
}

/// Checks access and version, runs the engine on the event and validates the result.
fn compute(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    mut row: CaseRow,
    expected_version: Option<i64>,
    call: Invocation<'_>,
    make_event: impl FnOnce(&DeployedWorkflow, &Instance) -> Result<Event, ServiceError>,
    validate: bool,
) -> Result<Change, ServiceError> {
    (call.check)(access(&row))?;
    if let Some(expected) = expected_version
        && expected != row.version
    {
        return Err(ServiceError::VersionConflict {
            current: row.version,
        });
    }
    let workflow = ctx.registry.by_id(conn, row.definition_id)?;
    let instance = parse_state(&row)?;
    let clock = super::time_windows::clock_for(conn, workflow.definition(), &instance, call.clock)?;
    let event = make_event(&workflow, &instance)?;
    let outcome = step_owned(&workflow.workflow, instance, event, &clock)?;
    if validate {
        let errors = validate_data(&workflow.definition().data, &outcome.instance.data);
        if !errors.is_empty() {
            return Err(ServiceError::InvalidData(errors));
        }
    }
    let now = db_time(call.clock);
    let read_version = row.version;
    row.state = serde_json::to_string(&outcome.instance).map_err(internal)?;
    row.status = status_name(outcome.instance.status).to_string();
    row.outcome = outcome.instance.outcome.clone();
    row.version = read_version + 1;
    row.submitted_at = row
        .submitted_at
        .or_else(|| submitted(&workflow, &outcome.instance).then_some(now));
    row.current_steps = current_steps(&outcome.instance);
    row.updated_at = now;
    Ok(Change {
        row,
        read_version,
        workflow,
        outcome,
    })
}

/// Writes a change: the case update, guarded by the version it was computed from, and what the
/// outcome asks for (`record`); on PostgreSQL the update joins the command's one statement.
fn write_change(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    change: &Change,
    held: Held<'_>,
    call: Invocation<'_>,
) -> Result<(), ServiceError> {
    let row = &change.row;
    // The journal's anchor moves with the entries `record` chains after the head.
    let journal_seq = journal::newest_after(row.id.0, held.head.seq, change.outcome.journal.len())?;
    let update = diesel::update(cases::table)
        .filter(cases::id.eq(row.id))
        .filter(cases::version.eq(change.read_version))
        .set((
            cases::state.eq(row.state.clone()),
            cases::status.eq(row.status.clone()),
            cases::outcome.eq(row.outcome.clone()),
            cases::version.eq(row.version),
            cases::submitted_at.eq(row.submitted_at),
            cases::current_steps.eq(row.current_steps.clone()),
            cases::stand_rank.eq(stand_rank(&change.workflow, &row.current_steps)),
            cases::next_deadline.eq(super::next_deadline::next_deadline(
                &change.workflow.workflow,
                &change.outcome.instance,
            )),
            cases::updated_at.eq(row.updated_at),
            cases::journal_seq.eq(journal_seq),
        ));
    let mut deferred = Deferred::new();
    match conn {
        DbConnection::Pg(_) => {
            deferred.push_counted(update.returning(crate::db::one_per_row()), 1)?
        }
        DbConnection::Sqlite(_) => {
            if execute_reused!(conn, update)? != 1 {
                let current = cases::table
                    .find(row.id)
                    .select(cases::version)
                    .first(conn)?;
                return Err(ServiceError::VersionConflict { current });
            }
        }
    }
    record(
        conn,
        &mut deferred,
        ctx,
        held,
        &change.workflow,
        &change.outcome,
        call.actor,
        call.clock,
    )?;
    deferred.flush(conn)?;
    Ok(())
}

/// Whether `record` writes this outcome with deferred writes only, i.e. on PostgreSQL as the
/// command's one statement and nothing before it. Its reads (the invited organisations, fresh
/// invitation ids) change nothing a failed statement would have to undo. Not so: fired timers
/// and cancelled timers of earlier commands, answers, a completed consultation, mails and closed
/// invitations (written or read back in statements of their own) and a started case.
fn one_statement(outcome: &Outcome) -> bool {
    let journal = outcome.journal.iter().all(|entry| {
        !matches!(
            entry,
            JournalEntry::TimerFired { .. }
                | JournalEntry::AnswerRecorded { .. }
                | JournalEntry::ConsultationCompleted { .. }
        )
    });
    let scheduled = |timer: &LocalId| {
        outcome.effects.iter().any(
            |effect| matches!(effect, SideEffect::ScheduleTimer { timer: new, .. } if new == timer),
        )
    };
    journal
        && outcome.effects.iter().all(|effect| match effect {
            SideEffect::ScheduleTimer { .. }
            | SideEffect::Invite { .. }
            | SideEffect::Finished { .. } => true,
            SideEffect::CancelTimer { timer } => scheduled(timer),
            SideEffect::SendMail { .. }
            | SideEffect::TellCaseEnded { .. }
            | SideEffect::TellStepDropped { .. }
            | SideEffect::StartCase { .. }
            | SideEffect::CloseInvitation { .. }
            | SideEffect::ExtendInvitation { .. }
            | SideEffect::WithdrawInvitation { .. } => false,
        })
}

/// Changes case data (JSON merge patch), validated against the data schema.
pub fn change_data(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    id: CaseId,
    version: i64,
    patch: Value,
    call: Invocation<'_>,
) -> Result<LoadedCase, ServiceError> {
    let actor_for_event = call.actor.clone();
    apply(
        conn,
        ctx,
        id,
        Some(version),
        call,
        move |_, _| {
            Ok(Event::ChangeData {
                actor: actor_for_event,
                data: patch,
            })
        },
        true,
    )
}

/// Takes an action on the task that offers it (`step` picks one when several tasks do).
#[allow(clippy::too_many_arguments)]
pub fn take_action(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    id: CaseId,
    version: i64,
    action: &str,
    step: Option<&str>,
    data: Option<Value>,
    call: Invocation<'_>,
) -> Result<LoadedCase, ServiceError> {
    let actor_for_event = call.actor.clone();
    apply(
        conn,
        ctx,
        id,
        Some(version),
        call,
        move |workflow, instance| {
            let candidates: Vec<LocalId> = instance
            .active_steps()
            .filter(|token| step.is_none_or(|s| s == token.step))
            .filter(|token| {
                matches!(workflow.workflow.step(&token.step), Some(Step::Task(task)) if task.actions.contains_key(action))
            })
            .map(|token| token.id)
            .collect();
            let token = match candidates.as_slice() {
                [one] => *one,
                [] => {
                    return Err(ServiceError::Refused(vec![
                        crate::engine::Refusal::NotAvailable {
                            message: format!(
                                "Die Aktion „{action}“ ist im aktuellen Stand des Vorgangs nicht vorgesehen."
                            ),
                        },
                    ]));
                }
                _ => {
                    return Err(ServiceError::BadRequest(format!(
                        "Die Aktion „{action}“ wird in mehreren Schritten angeboten; bitte geben Sie den Schritt an („step“)."
                    )));
                }
            };
            Ok(Event::Act {
                token,
                action: action.to_string(),
                actor: actor_for_event,
                data,
            })
        },
        true,
    )
}

/// Withdraws the case (the applicant's Rücknahme, or a KI's Betrieb that ends). The reason goes
/// into the journal: one line of at most 500 characters (an error at `/reason` otherwise).
pub fn withdraw(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    id: CaseId,
    version: i64,
    reason: Option<String>,
    call: Invocation<'_>,
) -> Result<LoadedCase, ServiceError> {
    let mut errors = Vec::new();
    let reason =
        super::extension::check_line("/reason", reason.as_deref(), "Der Grund", &mut errors);
    if !errors.is_empty() {
        return Err(ServiceError::InvalidInput(errors));
    }
    let actor_for_event = call.actor.clone();
    apply(
        conn,
        ctx,
        id,
        Some(version),
        call,
        move |_, _| {
            Ok(Event::Withdraw {
                actor: actor_for_event,
                reason,
            })
        },
        false,
    )
}

/// Records a partner's answer to an invitation.
pub fn record_answer(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    id: CaseId,
    invitation: LocalId,
    answer: Answer,
    actor: &Actor,
    clock: &Clock,
) -> Result<LoadedCase, ServiceError> {
    let call = Invocation {
        actor,
        clock,
        check: &|_| Ok(()),
    };
    record_answer_as(conn, ctx, id, invitation, answer, call)
}

/// [`record_answer`] with the caller's permission checked on the locked case: staff recording a
/// Stellungnahme that reached the office by letter, e-mail or phone.
pub fn record_answer_as(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    id: CaseId,
    invitation: LocalId,
    answer: Answer,
    call: Invocation<'_>,
) -> Result<LoadedCase, ServiceError> {
    apply(
        conn,
        ctx,
        id,
        None,
        call,
        move |_, _| Ok(Event::Answer { invitation, answer }),
        false,
    )
}

/// The coordinating office's decision about a running consultation, as the event `decision`
/// builds for the caller: a Fristverlängerung (`Event::ExtendDeadline`), a further partner
/// (`Event::AddParticipant`) or a withdrawn invitation (`Event::WithdrawParticipant`). Not
/// checked against a version the caller read: it decides about one partner, not about the
/// form the caller sees. Where it changes the list of partners in the data, the case gets a
/// new version, so a data form read before it is refused as stale.
pub fn decide_consultation(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    id: CaseId,
    decision: impl FnOnce(Actor) -> Event,
    call: Invocation<'_>,
) -> Result<LoadedCase, ServiceError> {
    let actor = call.actor.clone();
    apply(
        conn,
        ctx,
        id,
        None,
        call,
        move |_, _| Ok(decision(actor)),
        false,
    )
}

/// Fires a due timer (the scheduler's command).
pub fn fire_timer(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    id: CaseId,
    timer: LocalId,
    clock: &Clock,
) -> Result<LoadedCase, ServiceError> {
    let system = Actor::system();
    let call = Invocation {
        actor: &system,
        clock,
        check: &|_| Ok(()),
    };
    apply(
        conn,
        ctx,
        id,
        None,
        call,
        move |_, _| Ok(Event::TimerFired { timer }),
        false,
    )
}

/// The case a command holds (locked, or inserted in its transaction), with what `record` needs
/// besides the row.
struct Held<'a> {
    row: &'a CaseRow,
    /// The journal's newest entry, read with the lock (the genesis for a new case).
    head: ChainHead,
    /// The applicant's functional mailbox, the contact of mails without one in the data.
    applicant_mailbox: Option<&'a str>,
}

/// The journal kind of [`resend_invitation`].
pub const INVITATION_RESENT: &str = "invitation_resent";

/// Whether the command that journals `kind` gives the case a new version. Resending an
/// invitation, attaching a document, writing a Vermerk, exporting the file, a partner's
/// request for more time and its notice that it is not competent, and declining either, leave
/// data and state alone, so they do not; readers that match journal entries to versions (the
/// conflict view) skip these entries.
pub fn changes_version(kind: &str) -> bool {
    !matches!(
        kind,
        INVITATION_RESENT
            | crate::service::documents::UPLOADED
            | super::notes::NOTE_ADDED
            | super::case_file::EXPORTED
            | super::extension_request::REQUESTED
            | super::responsibility_notice::REPORTED
            | super::request_refusal::EXTENSION_REFUSED
            | super::request_refusal::NOTICE_REFUSED
    )
}

/// Sends an open invitation again with a new personal link; the previous link stops working.
/// Journaled as [`INVITATION_RESENT`]; the case version does not change (its state does not).
pub fn resend_invitation(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    id: CaseId,
    invitation: i64,
    actor: &Actor,
    clock: &Clock,
    check: &dyn Fn(CaseAccess) -> Result<(), ServiceError>,
) -> Result<(), ServiceError> {
    write_transaction(conn, |conn| {
        let CaseForCommand {
            row,
            newest_event,
            applicant_mailbox,
        } = CaseForCommand::lock(conn, id)?.ok_or_else(not_found)?;
        check(access(&row))?;
        let invitation_row = beteiligung::InvitationRow::find(conn, invitation)?
            .filter(|i| i.case_id == id.0)
            .ok_or_else(|| ServiceError::NotFound("Diese Einladung gibt es nicht.".into()))?;
        if invitation_row.status != "open" || invitation_row.closed_at.is_some() {
            return Err(ServiceError::Unprocessable(
                "Die Einladung ist beantwortet oder die Beteiligung abgeschlossen; sie kann nicht erneut versandt werden.".into(),
            ));
        }
        let workflow = ctx.registry.by_id(conn, row.definition_id)?;
        let instance = parse_state(&row)?;
        let Some(Step::Consultation(consultation)) = workflow.workflow.step(&invitation_row.step)
        else {
            return Err(ServiceError::NotFound(
                "Diese Einladung gibt es nicht.".into(),
            ));
        };
        let at = db_time(clock);
        let mut context =
            case_mail_context(&row, applicant_mailbox.as_deref(), &workflow, &instance);
        context.schritt = Some(consultation.title.clone());
        context.frage = Some(consultation.question.clone());
        beteiligung::resend(
            conn,
            ctx.mail,
            &invitation_row,
            &consultation.invitation,
            &context,
            at,
        )?;
        // The lock read the chain head already; no second lock, no second read.
        let mut deferred = Deferred::new();
        let head = ChainHead::from_newest(newest_event);
        let newest = journal::newest_after(id.0, head.seq, 1)?;
        journal::append_after(
            conn,
            &mut deferred,
            id.0,
            &[NewEvent {
                at,
                actor: actor.id.clone(),
                kind: INVITATION_RESENT.into(),
                payload: json!({ "invitation": invitation_row.local_id, "step": invitation_row.step }),
            }],
            head,
        )?;
        journal::anchor(conn, &mut deferred, id.0, newest)?;
        deferred.flush(conn)?;
        Ok(())
    })
}

/// What every mail about this case says: Aktenzeichen, procedure, applicant, and the contact of
/// the coordinating office (from the application's `antragsteller` data where the workflow has
/// it, else the applicant organisation and its mailbox).
pub(super) fn case_mail_context(
    case: &CaseRow,
    applicant_mailbox: Option<&str>,
    workflow: &DeployedWorkflow,
    instance: &Instance,
) -> MailContext {
    let text = |path: &str| {
        crate::engine::data::lookup(&instance.data, path)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let applicant = instance.applicant.designation();
    let stelle = match text("antragsteller.dienststelle") {
        Some(office) => format!("{applicant}, {office}"),
        None => applicant.to_string(),
    };
    MailContext {
        case: CaseMailFacts {
            aktenzeichen: case.aktenzeichen.clone(),
            verfahren: workflow.definition().title.clone(),
            antragsteller: applicant.into_owned(),
            kontakt_stelle: stelle,
            kontakt_telefon: text("antragsteller.telefon"),
            kontakt_email: text("antragsteller.email").or(applicant_mailbox.map(str::to_string)),
        },
        ..Default::default()
    }
}
