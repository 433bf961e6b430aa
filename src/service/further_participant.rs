//! Nachträgliche Beteiligung: the office invites one more partner to a running Beteiligung, one
//! forgotten at the start or a further local partner the Schwerpunkte call for (Nr. 2 des
//! Erlasses). The engine gives it the step's whole period from its own invitation, adds it to
//! the case's list of partners and keeps the consultation open until its deadline; the partner
//! gets the step's invitation mail with its personal link, like the others.

use super::ServiceError;
use super::cases::{self, CaseContext, Invocation};
use super::extension::{check_reason, error};
use super::mail;
use super::workflows::WorkflowRegistry;
use crate::db::DbConnection;
use crate::db::models::{CaseId, CaseRow, Organisation};
use crate::engine::data::DataError;
use crate::engine::definition::Step;
use crate::engine::{EngineError, Event, Instance, Workflow};

/// A partner to invite, as the office asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addition {
    /// Key of the organisation.
    pub participant: String,
    /// Why, for the file.
    pub reason: Option<String>,
}

/// A consultation running in a case: its step and title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    pub step: String,
    pub title: String,
    /// The role coordinating it, the one that invites further partners and extends deadlines.
    pub role: String,
}

/// Checks the typed fields (`stelle`, the organisation's key; `grund` optional, one line);
/// every problem at once. Whether the organisation can be invited [`add`] decides.
pub fn check(stelle: Option<&str>, grund: Option<&str>) -> Result<Addition, Vec<DataError>> {
    let mut errors = Vec::new();
    let participant = stelle.map(str::trim).unwrap_or_default();
    if participant.is_empty() {
        errors.push(error(
            "/stelle",
            "Bitte wählen Sie die Stelle, die beteiligt werden soll.",
        ));
    }
    let reason = check_reason(grund, &mut errors);
    if errors.is_empty() {
        Ok(Addition {
            participant: participant.to_string(),
            reason,
        })
    } else {
        Err(errors)
    }
}

/// The consultations running in `instance`, in the order their steps were entered.
pub fn running(workflow: &Workflow, instance: &Instance) -> Vec<Running> {
    instance
        .active_steps()
        .filter_map(|token| match workflow.step(&token.step) {
            Some(Step::Consultation(c)) => Some(Running {
                step: token.step.clone(),
                title: c.title.clone(),
                role: c.role.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// What the office's form about one running consultation offers.
#[derive(Debug)]
pub struct Offer {
    pub aktenzeichen: String,
    pub consultation: Running,
    /// The step's period in words („4 Wochen“), counted from the invitation.
    pub period: String,
    /// The applicant, whose own partner bodies and Gemeinden (those it is the parent of) the
    /// form offers first.
    pub applicant: Organisation,
    /// The organisations that can still be invited: not the applicant, not invited to this
    /// consultation, by name.
    pub organisations: Vec<Organisation>,
}

/// The offer of the form for consultation `step` of the case in `row`; Unprocessable (with why)
/// when that consultation does not run.
pub fn offer(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
    row: CaseRow,
    step: &str,
) -> Result<Offer, ServiceError> {
    let loaded = cases::from_row(conn, registry, row)?;
    let workflow = &loaded.workflow.workflow;
    let (Some(consultation), Some(token)) = (
        running(workflow, &loaded.instance)
            .into_iter()
            .find(|r| r.step == step),
        loaded.instance.active_steps().find(|t| t.step == step),
    ) else {
        return Err(ServiceError::Unprocessable(
            "Diese Beteiligung läuft nicht (mehr); eine Stelle kann nur während der Beteiligung nachträglich beteiligt werden.".into(),
        ));
    };
    let invited: Vec<&str> = loaded
        .instance
        .invitations
        .iter()
        .filter(|i| i.token == token.id)
        .map(|i| i.participant.as_str())
        .collect();
    let period = match workflow.step(step) {
        Some(Step::Consultation(c)) => c.deadline.period.describe_de(),
        _ => String::new(),
    };
    let (applicant, others): (Vec<Organisation>, Vec<Organisation>) = Organisation::all(conn)?
        .into_iter()
        .partition(|o| o.id == loaded.row.applicant_id);
    let applicant = applicant.into_iter().next().ok_or_else(|| {
        ServiceError::NotFound("Die antragstellende Stelle des Vorgangs fehlt.".into())
    })?;
    let mut organisations: Vec<Organisation> = others
        .into_iter()
        .filter(|o| !invited.contains(&o.key.as_str()))
        .collect();
    organisations.sort_by_cached_key(|o| o.designation().to_lowercase());
    Ok(Offer {
        aktenzeichen: loaded.row.aktenzeichen,
        consultation,
        period,
        applicant,
        organisations,
    })
}

/// Invites `addition.participant` to the running consultation `step` of `case` (where the case
/// runs exactly one, `step` may be left out), checked like any command on the case
/// (`call.check`). An unknown organisation, one without an address, or one already invited
/// is an error at `/stelle`; a step that runs no consultation one at `/schritt`.
pub fn add(
    conn: &mut DbConnection,
    ctx: &CaseContext<'_>,
    case: CaseId,
    step: Option<&str>,
    addition: Addition,
    call: Invocation<'_>,
) -> Result<(), ServiceError> {
    let loaded = cases::load(conn, ctx.registry, case)?;
    let running = running(&loaded.workflow.workflow, &loaded.instance);
    let step = match (
        step.map(str::trim).filter(|s| !s.is_empty()),
        running.as_slice(),
    ) {
        (Some(step), _) if running.iter().any(|r| r.step == step) => step.to_string(),
        (Some(step), _) => {
            return Err(invalid(
                "/schritt",
                &format!("Im Vorgang läuft keine Beteiligung im Schritt „{step}“."),
            ));
        }
        (None, [only]) => only.step.clone(),
        (None, []) => {
            return Err(ServiceError::Unprocessable(
                "Im Vorgang läuft keine Beteiligung; eine Stelle kann nur während einer Beteiligung nachträglich beteiligt werden.".into(),
            ));
        }
        (None, _) => {
            return Err(invalid(
                "/schritt",
                "Im Vorgang laufen mehrere Beteiligungen; bitte geben Sie den Schritt an.",
            ));
        }
    };
    let found = mail::organisations_with_addresses(conn, &[addition.participant.as_str()])?;
    match found.first() {
        None => {
            return Err(invalid(
                "/stelle",
                &format!(
                    "„{}“ ist nicht als Organisation erfasst; bitte legen Sie die Stelle zuerst unter Verwaltung → Organisationen an.",
                    addition.participant
                ),
            ));
        }
        Some((organisation, _)) if organisation.id == loaded.row.applicant_id => {
            return Err(invalid(
                "/stelle",
                "Die antragstellende Stelle beteiligt die Partner; sie wird nicht selbst beteiligt.",
            ));
        }
        Some((organisation, to)) if to.is_empty() => {
            return Err(invalid(
                "/stelle",
                &format!(
                    "Für „{}“ ist weder ein Funktionspostfach noch eine Kontaktadresse hinterlegt; die Einladung könnte nicht versandt werden.",
                    organisation.designation()
                ),
            ));
        }
        Some(_) => {}
    }
    let outcome = cases::decide_consultation(
        conn,
        ctx,
        case,
        |actor| Event::AddParticipant {
            step,
            participant: addition.participant,
            actor,
            reason: addition.reason,
        },
        call,
    );
    match outcome {
        Ok(_) => Ok(()),
        Err(ServiceError::Engine(EngineError::ParticipantRefused(message))) => {
            Err(invalid("/stelle", &message))
        }
        Err(other) => Err(other),
    }
}

fn invalid(pointer: &str, message: &str) -> ServiceError {
    ServiceError::InvalidInput(vec![error(pointer, message)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_partner_is_required_and_the_reason_one_line() {
        let addition = check(Some(" DEMO-IR "), Some("  Integrationsrat vergessen  ")).unwrap();
        assert_eq!(addition.participant, "DEMO-IR");
        assert_eq!(
            addition.reason.as_deref(),
            Some("Integrationsrat vergessen")
        );
        assert_eq!(check(Some("X"), Some(" ")).unwrap().reason, None);
        let pointers = |result: Result<Addition, Vec<DataError>>| -> Vec<String> {
            result.unwrap_err().into_iter().map(|e| e.pointer).collect()
        };
        assert_eq!(pointers(check(None, None)), ["/stelle"]);
        assert_eq!(
            pointers(check(Some(" "), Some("a\nb"))),
            ["/stelle", "/grund"]
        );
    }
}
