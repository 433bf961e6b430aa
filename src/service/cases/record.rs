//! Writing what an engine outcome asks for: journal entries, timers, invitations, outbox rows
//! and started cases, in the command's transaction (or its one guarded statement, see
//! `Deferred`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::start::{Origin, Start};
use super::{CaseContext, Held, internal};
use crate::db::models::{CaseId, CaseRow, Organisation, OrganisationId};
use crate::db::schema::timers;
use crate::db::{DbConnection, Deferred, defer_insert, execute_reused};
use crate::engine::definition::Step;
use crate::engine::{Actor, Clock, JournalEntry, MailTarget, Outcome, SideEffect};
use crate::journal::{self, NewEvent};
use crate::service::beteiligung::{self, NewInvitation};
use crate::service::error::ServiceError;
use crate::service::mail::{self, MailContext, QueuedMail};
use crate::service::workflows::DeployedWorkflow;

/// Writes what an engine outcome asks for: journal entries, timers, outbox rows, started cases.
#[allow(clippy::too_many_arguments)]
pub(super) fn record(
    conn: &mut DbConnection,
    deferred: &mut Deferred,
    ctx: &CaseContext<'_>,
    held: Held<'_>,
    workflow: &DeployedWorkflow,
    outcome: &Outcome,
    actor: &Actor,
    clock: &Clock,
) -> Result<(), ServiceError> {
    let case = held.row;
    let at = super::db_time(clock);
    let events: Vec<NewEvent> = outcome
        .journal
        .iter()
        .map(|entry| NewEvent {
            at,
            actor: actor.id.clone(),
            kind: entry.kind().to_string(),
            payload: entry.payload(),
        })
        .collect();
    // The commands hold the case (row lock or a fresh insert), see `journal::append_after`.
    journal::append_after(conn, deferred, case.id.0, &events, held.head)?;
    let fired: Vec<i64> = outcome
        .journal
        .iter()
        .filter_map(|entry| match entry {
            JournalEntry::TimerFired { timer, .. } => Some(timer.0 as i64),
            _ => None,
        })
        .collect();
    set_timer_status(conn, case.id, &fired, "fired")?;
    // What a timer writes outside office hours (a flow timer fires at the start of its day)
    // waits for them, like the reminders.
    let held_until_office_hours = if fired.is_empty() {
        None
    } else {
        let opening = crate::service::clock::office_hours_from(clock.now);
        (opening > clock.now).then(|| ctx.mail.holding_until(opening.naive_utc()))
    };
    let facts = super::case_mail_context(case, held.applicant_mailbox, workflow, &outcome.instance);
    let mut recorder = Recorder {
        conn,
        deferred,
        ctx,
        case,
        workflow,
        out: held_until_office_hours.as_ref().unwrap_or(ctx.mail),
        facts,
        at,
        clock,
        scheduled: Vec::new(),
        cancelled: Vec::new(),
        invites: Vec::new(),
    };
    recorder.journal_mails(outcome)?;
    for effect in &outcome.effects {
        recorder.effect(effect)?;
    }
    recorder.finish()
}

/// One outcome being written: where its mails go, what they all say about the case, and the
/// timers and invitations collected to be written together.
struct Recorder<'a> {
    conn: &'a mut DbConnection,
    deferred: &'a mut Deferred,
    ctx: &'a CaseContext<'a>,
    case: &'a CaseRow,
    workflow: &'a DeployedWorkflow,
    /// The outbox, holding mails until office hours where a timer fired outside them.
    out: &'a mail::Outgoing,
    facts: MailContext,
    at: NaiveDateTime,
    clock: &'a Clock,
    /// Timer rows are written at the end, one statement each for new and cancelled timers, with
    /// the same result as writing them effect by effect: a timer scheduled and cancelled by the
    /// same outcome is inserted as cancelled.
    scheduled: Vec<NewTimer<'a>>,
    cancelled: Vec<i64>,
    /// Invitations are written together (`beteiligung::invite_all`): before the first effect
    /// that could read them (a mail to invited organisations, closing an invitation) and at the
    /// end.
    invites: Vec<NewInvitation<'a>>,
}

impl<'a> Recorder<'a> {
    fn id(&self) -> CaseId {
        self.case.id
    }

    fn applicant(&self) -> OrganisationId {
        self.case.applicant_id
    }

    /// The mail context of a mail about `step`: the case's facts, the step's title and, for a
    /// Beteiligung, its question.
    fn base(&self, step: &str) -> MailContext {
        let mut context = self.facts.clone();
        let definition = &self.workflow.workflow;
        context.schritt = Some(definition.step(step).map_or(step, Step::title).to_string());
        if let Some(Step::Consultation(consultation)) = definition.step(step) {
            context.frage = Some(consultation.question.clone());
        }
        context
    }

    /// The mails the journal itself calls for: an answer recorded, a Beteiligung completed.
    fn journal_mails(&mut self, outcome: &Outcome) -> Result<(), ServiceError> {
        let (id, at) = (self.id().0, self.at);
        for entry in &outcome.journal {
            match entry {
                JournalEntry::AnswerRecorded {
                    invitation, step, ..
                } => {
                    let invited = outcome.instance.invitations.iter();
                    if let Some(state) = invited.clone().find(|i| i.id == *invitation) {
                        let context = self.base(step);
                        let status = &state.status;
                        beteiligung::answered(
                            self.conn,
                            self.out,
                            id,
                            *invitation,
                            status,
                            &context,
                            at,
                        )?;
                    }
                }
                JournalEntry::ConsultationCompleted { step, .. } => {
                    let context = self.base(step);
                    let applicant = self.applicant();
                    beteiligung::completed(self.conn, self.out, id, applicant, step, &context, at)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Writes the invitations collected so far, so that what follows can read them.
    fn write_invites(&mut self) -> Result<(), ServiceError> {
        if self.invites.is_empty() {
            return Ok(());
        }
        let (id, at) = (self.id().0, self.at);
        beteiligung::invite_all(self.conn, self.deferred, self.out, id, &self.invites, at)?;
        self.invites.clear();
        // The mail and the closing read the links and invitations just written.
        self.deferred.flush(self.conn)?;
        Ok(())
    }

    /// Writes one effect, or collects it for [`Self::finish`] (timers, invitations).
    fn effect(&mut self, effect: &'a SideEffect) -> Result<(), ServiceError> {
        if matches!(
            effect,
            SideEffect::SendMail { .. } | SideEffect::CloseInvitation { .. }
        ) {
            self.write_invites()?;
        }
        let (id, at) = (self.id().0, self.at);
        match effect {
            SideEffect::ScheduleTimer {
                timer,
                step,
                due,
                kind,
                deadline,
            } => self.scheduled.push(NewTimer {
                local: timer.0 as i64,
                step,
                due: *due,
                kind: kind.as_str(),
                deadline: deadline.as_ref(),
                status: "scheduled",
            }),
            SideEffect::CancelTimer { timer } => {
                let local = timer.0 as i64;
                match self.scheduled.iter_mut().find(|new| new.local == local) {
                    Some(new) => new.status = "cancelled",
                    None => self.cancelled.push(local),
                }
            }
            SideEffect::Invite {
                invitation,
                step,
                participant,
                deadline,
                deadline_reason,
                template,
            } => {
                let base = self.base(step);
                self.invites.push(NewInvitation {
                    invitation: *invitation,
                    step,
                    participant,
                    deadline: *deadline,
                    deadline_reason: deadline_reason.as_deref(),
                    template,
                    base,
                });
            }
            SideEffect::SendMail {
                template,
                step,
                to,
                reminder,
                deadline,
            } => {
                let mut context = self.base(step);
                if let Some(deadline) = deadline {
                    context.frist = Some((deadline.end, deadline.reason.clone()));
                }
                match to {
                    MailTarget::Organisations { invitations } => beteiligung::mail_invited(
                        self.conn,
                        self.out,
                        id,
                        invitations,
                        template,
                        *reminder,
                        &context,
                        at,
                    )?,
                    MailTarget::Applicant | MailTarget::Leitung | MailTarget::Role { .. } => {
                        self.mail_staff(to, template, &context)?;
                    }
                }
            }
            SideEffect::TellCaseEnded {
                role,
                step,
                outcome,
            } => {
                let mut context = self.base(step);
                context.vorgang_beendet = Some(outcome.clone());
                let to = MailTarget::Role { role: role.clone() };
                self.mail_staff(&to, mail::CASE_ENDED_TEMPLATE, &context)?;
            }
            SideEffect::TellStepDropped {
                role,
                step,
                continues_at,
            } => {
                let mut context = self.base(step);
                let continues = self.workflow.definition().step_title(continues_at);
                context.weiter_bei = Some(continues.to_string());
                let to = MailTarget::Role { role: role.clone() };
                self.mail_staff(&to, mail::STEP_DROPPED_TEMPLATE, &context)?;
            }
            SideEffect::StartCase {
                step,
                workflow: key,
                data,
            } => self.start_case(step, key, data)?,
            SideEffect::CloseInvitation { invitation } => {
                beteiligung::close(self.conn, id, *invitation, at)?;
            }
            SideEffect::ExtendInvitation {
                invitation,
                deadline,
            } => {
                if let Some(row) = beteiligung::InvitationRow::by_local(self.conn, id, *invitation)?
                {
                    let context = self.base(&row.step);
                    beteiligung::extended(self.conn, self.out, row, *deadline, &context, at)?;
                }
            }
            SideEffect::WithdrawInvitation {
                invitation,
                case_ended,
            } => {
                if let Some(row) = beteiligung::InvitationRow::by_local(self.conn, id, *invitation)?
                {
                    let mut context = self.base(&row.step);
                    context.vorgang_beendet = case_ended.clone();
                    beteiligung::withdrawn(self.conn, self.out, row, &context, at)?;
                }
            }
            SideEffect::Finished { .. } => {}
        }
        Ok(())
    }

    /// Queues a mail about the case to the applicant's office, its Leitung or the people of a
    /// role (`to`); invited organisations get theirs through `beteiligung::mail_invited`.
    fn mail_staff(
        &mut self,
        to: &MailTarget,
        template: &str,
        context: &MailContext,
    ) -> Result<(), ServiceError> {
        let applicant = self.applicant();
        let addresses = match to {
            MailTarget::Role { role } => mail::role_addresses(self.conn, role, applicant)?,
            MailTarget::Leitung => mail::head_addresses(self.conn, applicant)?,
            _ => mail::office_addresses(self.conn, applicant)?,
        };
        let queued = QueuedMail {
            case: Some(self.id().0),
            invitation: None,
            template,
            recipients: serde_json::to_value(to).map_err(internal)?,
            to: addresses,
            context,
        };
        mail::queue(self.conn, self.out, queued, self.at)?;
        Ok(())
    }

    /// Starts a case of workflow `key` for the same applicant, linked to this case's `step`.
    fn start_case(
        &mut self,
        step: &str,
        key: &str,
        data: &serde_json::Value,
    ) -> Result<(), ServiceError> {
        let target = self.ctx.registry.latest(self.conn, key)?;
        let owner = Organisation::find(self.conn, self.applicant())?
            .ok_or_else(|| ServiceError::NotFound("Antragsteller fehlt.".into()))?;
        let system = Actor::system();
        // The started case's first mails wait for office hours like this case's.
        let started_ctx = CaseContext {
            mail: self.out,
            ..*self.ctx
        };
        let origin = Origin {
            case: self.case,
            step,
        };
        let clock = self.clock;
        Start::compute(&target, &owner, data.clone(), &system, clock, Some(origin))?.write(
            self.conn,
            self.deferred,
            &started_ctx,
            &target,
            &owner,
            &system,
            clock,
        )?;
        Ok(())
    }

    /// Writes the collected invitations and timers, and the cancelled timers' status.
    fn finish(mut self) -> Result<(), ServiceError> {
        self.write_invites_unflushed()?;
        let (id, at) = (self.id(), self.at);
        if !self.scheduled.is_empty() {
            let rows: Vec<_> = self
                .scheduled
                .iter()
                .map(|new| {
                    (
                        timers::case_id.eq(id),
                        timers::local_id.eq(new.local),
                        timers::step.eq(new.step.to_string()),
                        timers::due.eq(new.due),
                        timers::status.eq(new.status),
                        timers::created_at.eq(at),
                        timers::kind.eq(new.kind),
                        timers::deadline.eq(new.deadline.map(|d| d.end)),
                        timers::deadline_reason.eq(new.deadline.and_then(|d| d.reason.clone())),
                    )
                })
                .collect();
            // One multi-row INSERT, with the command's other writes on PostgreSQL.
            defer_insert!(self.conn, self.deferred, timers::table, rows)?;
        }
        set_timer_status(self.conn, id, &self.cancelled, "cancelled")
    }

    /// The last invitations, left to the command's other writes (one statement on PostgreSQL).
    fn write_invites_unflushed(&mut self) -> Result<(), ServiceError> {
        let (id, at) = (self.id().0, self.at);
        beteiligung::invite_all(self.conn, self.deferred, self.out, id, &self.invites, at)?;
        self.invites.clear();
        Ok(())
    }
}

/// A timer row to insert.
struct NewTimer<'a> {
    local: i64,
    step: &'a str,
    due: chrono::NaiveDate,
    kind: &'static str,
    deadline: Option<&'a crate::engine::TimerDeadline>,
    status: &'static str,
}

/// Moves the case's scheduled timers `locals` to `status` in one statement.
fn set_timer_status(
    conn: &mut DbConnection,
    id: CaseId,
    locals: &[i64],
    status: &str,
) -> Result<(), ServiceError> {
    if locals.is_empty() {
        return Ok(());
    }
    let update = diesel::update(timers::table)
        .filter(timers::case_id.eq(id))
        .filter(timers::local_id.eq_any(locals))
        .filter(timers::status.eq("scheduled"))
        .set(timers::status.eq(status));
    execute_reused!(conn, update)?;
    Ok(())
}
