//! What the loader tells about each demo case when it is done, read from the stored cases.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::super::{DemoCase, DemoSummary, DemoUser};
use crate::db::models::{CaseId, CaseRow};
use crate::db::schema::{answers, documents, invitations, outbox, timers};
use crate::engine::definition::Step;
use crate::service::ServiceError;
use crate::service::cases::{self as commands};

use super::{Loader, Note, display_name, german};

impl Loader<'_, '_> {
    pub(super) fn summary(
        &mut self,
        users: Vec<DemoUser>,
        partners: Vec<String>,
        offices: Vec<String>,
    ) -> Result<DemoSummary, ServiceError> {
        let mut users = users;
        for user in &mut users {
            let away =
                crate::service::absences::covering_of_email(self.conn, &user.email, self.today)?;
            user.note = away.map(|(absence, covering)| {
                format!(
                    "abwesend bis {}, vertreten durch {}",
                    german(absence.until),
                    covering.name
                )
            });
        }
        let ids: Vec<i64> = self.cases.iter().map(|(id, _)| id.0).collect();
        let mut listed = Vec::new();
        for (id, note) in self.cases.clone() {
            let (case, applicant) =
                commands::load_with_applicant(self.conn, self.ctx.registry, id)?;
            let workflow = &case.workflow.workflow;
            let mut steps: Vec<String> = case
                .instance
                .active_steps()
                .map(|t| {
                    workflow
                        .step(&t.step)
                        .map_or(t.step.as_str(), Step::title)
                        .to_string()
                })
                .collect();
            steps.dedup();
            let stage = if steps.is_empty() {
                // Ended: the title of the end step that records this outcome.
                let outcome = case.row.outcome.clone().unwrap_or_default();
                workflow
                    .definition()
                    .steps
                    .values()
                    .find_map(|step| match step {
                        Step::End(end) if end.outcome == outcome => Some(end.title.clone()),
                        _ => None,
                    })
                    .unwrap_or(outcome)
            } else {
                steps.join(", ")
            };
            let note = match note {
                Note::Fixed(text) => text.to_string(),
                Note::Consultation => self.consultation_note(id)?,
                Note::Submitted => self.submitted_note(&case.row)?,
                Note::Operation => self.operation_note(id)?,
            };
            listed.push(DemoCase {
                id: id.0,
                aktenzeichen: case.row.aktenzeichen.clone(),
                workflow: case.row.workflow_key.clone(),
                applicant: display_name(&applicant),
                stage,
                note,
            });
        }
        let count = |n: i64| usize::try_from(n).unwrap_or(0);
        let documents: i64 = documents::table
            .filter(documents::case_id.eq_any(&ids))
            .count()
            .get_result(self.conn)?;
        let answers: i64 = answers::table
            .inner_join(invitations::table)
            .filter(invitations::case_id.eq_any(&ids))
            .count()
            .get_result(self.conn)?;
        let mails: i64 = outbox::table
            .filter(outbox::case_id.eq_any(&ids))
            .count()
            .get_result(self.conn)?;
        let scheduled: i64 = timers::table
            .filter(timers::case_id.eq_any(&ids))
            .filter(timers::status.eq("scheduled"))
            .count()
            .get_result(self.conn)?;
        let fired: i64 = timers::table
            .filter(timers::case_id.eq_any(&ids))
            .filter(timers::status.eq("fired"))
            .count()
            .get_result(self.conn)?;
        Ok(DemoSummary {
            users,
            partners,
            offices,
            cases: listed,
            documents: count(documents),
            answers: count(answers),
            mails: count(mails),
            timers_scheduled: count(scheduled),
            timers_fired: count(fired),
        })
    }

    /// The scheduled timers of `case` at `step` of `kind`: (due, deadline), earliest first.
    pub(super) fn scheduled(
        &mut self,
        case: CaseId,
        step: &str,
        kind: &str,
    ) -> Result<Vec<(NaiveDate, Option<NaiveDate>)>, ServiceError> {
        Ok(timers::table
            .filter(timers::case_id.eq(case.0))
            .filter(timers::step.eq(step))
            .filter(timers::kind.eq(kind))
            .filter(timers::status.eq("scheduled"))
            .order(timers::due)
            .select((timers::due, timers::deadline))
            .load(self.conn)?)
    }

    /// „Eingereicht am …; … eskaliert am …“ for the case at the Bewilligungsbehörde.
    pub(super) fn submitted_note(&mut self, row: &CaseRow) -> Result<String, ServiceError> {
        let mut note = String::from("Eingereicht");
        if let Some(at) = row.submitted_at {
            note.push_str(&format!(
                " am {}",
                german(crate::service::clock::berlin_date(at.and_utc()))
            ));
        }
        note.push_str("; liegt beim Kompetenzzentrum für Integration zur Bewilligung");
        if let Some((_, Some(deadline))) =
            self.scheduled(row.id, "bewilligung", "reminder")?.first()
        {
            note.push_str(&format!(
                "; ein Bescheid wird bis zum {} erwartet, danach wird eskaliert",
                german(*deadline)
            ));
        }
        Ok(note)
    }

    /// „Aktualisiertes Integrationskonzept fällig am …“ for the operation case.
    pub(super) fn operation_note(&mut self, case: CaseId) -> Result<String, ServiceError> {
        let step = "konzept_aktualisiert";
        let deadline = self
            .scheduled(case, step, "flow")?
            .first()
            .and_then(|(_, deadline)| *deadline);
        let sent: i64 = timers::table
            .filter(timers::case_id.eq(case.0))
            .filter(timers::step.eq(step))
            .filter(timers::kind.eq("reminder"))
            .filter(timers::status.eq("fired"))
            .count()
            .get_result(self.conn)?;
        let next = self.scheduled(case, step, "reminder")?.first().map(|t| t.0);
        let mut note = String::from("Aktualisiertes Integrationskonzept");
        if let Some(deadline) = deadline {
            note.push_str(&format!(" fällig am {}", german(deadline)));
        }
        match sent {
            0 => {}
            1 => note.push_str("; eine Erinnerung versandt"),
            n => note.push_str(&format!("; {n} Erinnerungen versandt")),
        }
        if let Some(next) = next {
            note.push_str(&format!(", die nächste am {}", german(next)));
        }
        note.push_str(". Schwerpunkte der Arbeit sind mit den Partnern festgelegt.");
        Ok(note)
    }

    /// „Beteiligung läuft: 4 von 6 Stellungnahmen …, Frist bis …“ for the case in consultation.
    pub(super) fn consultation_note(&mut self, case: CaseId) -> Result<String, ServiceError> {
        let rows: Vec<(String, Option<String>, NaiveDate, i32)> = invitations::table
            .filter(invitations::case_id.eq(case.0))
            .filter(invitations::closed_at.is_null())
            .select((
                invitations::status,
                invitations::votum,
                invitations::deadline,
                invitations::reminders_sent,
            ))
            .load(self.conn)?;
        let answered = rows.iter().filter(|r| r.0 == "answered").count();
        let concerns = rows
            .iter()
            .filter(|r| r.1.as_deref() == Some("bedenken"))
            .count();
        let reminded = rows.iter().filter(|r| r.3 > 0).count();
        let deadline = rows.iter().map(|r| r.2).max();
        let mut note = format!(
            "Beteiligung läuft: {answered} von {} Stellungnahmen liegen vor, {concerns} mit Bedenken",
            rows.len()
        );
        match reminded {
            0 => {}
            1 => note.push_str("; eine Stelle wurde erinnert"),
            n => note.push_str(&format!("; {n} Stellen wurden erinnert")),
        }
        if let Some(deadline) = deadline {
            note.push_str(&format!("; die Frist endet am {}", german(deadline)));
        }
        let asking: i64 = crate::db::schema::extension_requests::table
            .inner_join(invitations::table)
            .filter(invitations::case_id.eq(case.0))
            .count()
            .get_result(self.conn)?;
        if asking > 0 {
            note.push_str("; eine Stelle bittet um Fristverlängerung");
        }
        Ok(note)
    }
}
