//! The case as the API returns it everywhere.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::db::models::Organisation;
use crate::engine::definition::Step;
use crate::engine::{Actor, Clock, available_actions};
use crate::service::cases::LoadedCase;
use crate::service::next_deadline::step_deadline;
use crate::utc::rfc3339;

/// `{"key","name","designation"}` of the applicant.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicantView {
    pub key: String,
    /// Name wie in den Referenzdaten („Coesfeld“).
    pub name: String,
    /// Bezeichnung für Texte („Kreis Coesfeld“, „Stadt Bielefeld“).
    pub designation: String,
}

/// A step where the case waits.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActiveStepView {
    pub step: String,
    pub title: String,
    /// Since when (UTC).
    pub since: String,
    /// The legal deadline of the step, if it has one (last day, `YYYY-MM-DD`).
    pub deadline: Option<NaiveDate>,
    /// Die Nachricht, auf die der Schritt wartet (`wait` mit `until: { message }`); ihr Eingang
    /// wird mit `POST /api/v1/cases/{id}/messages/{message}` gemeldet. Fehlt bei anderen
    /// Schritten.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Der deutsche Titel dieser Nachricht aus dem Workflow (`messages`); ohne Deklaration ihr
    /// Name. Fehlt bei Schritten, die auf keine Nachricht warten.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_title: Option<String>,
}

/// An action of an active step, with why it cannot be taken now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionView {
    pub step: String,
    pub action: String,
    pub title: String,
    pub allowed: bool,
    /// German reasons, one per obstacle.
    pub reasons: Vec<String>,
    /// Non-blocking hints of domain rules.
    pub warnings: Vec<String>,
}

/// The case document of the API contract.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    pub id: i64,
    pub aktenzeichen: String,
    pub workflow: String,
    pub workflow_version: i32,
    pub version: i64,
    pub status: String,
    pub outcome: Option<String>,
    pub applicant: ApplicantView,
    /// Die fachlichen Daten des Vorgangs (nach dem Datenschema des Verfahrens).
    #[schema(value_type = Object)]
    pub data: Value,
    pub active_steps: Vec<ActiveStepView>,
    pub actions: Vec<ActionView>,
    pub created_at: String,
    pub updated_at: String,
}

/// The steps where the case waits, each with its legal deadline (shared with the web pages,
/// which evaluate the actions themselves).
pub fn active_steps(case: &LoadedCase) -> Vec<ActiveStepView> {
    let workflow = &case.workflow.workflow;
    let instance = &case.instance;
    instance
        .active_steps()
        .map(|token| {
            let deadline = step_deadline(workflow, instance, token);
            let message = workflow.step(&token.step).and_then(Step::awaited_message);
            ActiveStepView {
                step: token.step.clone(),
                title: workflow
                    .step(&token.step)
                    .map_or(token.step.as_str(), Step::title)
                    .to_string(),
                since: rfc3339(token.since.naive_utc()),
                deadline,
                message: message.map(str::to_string),
                message_title: message
                    .map(|name| workflow.definition().message_title(name).to_string()),
            }
        })
        .collect()
}

/// Builds the view for this caller (actions are evaluated with the caller's roles).
pub fn case_view(
    case: &LoadedCase,
    applicant: &Organisation,
    actor: &Actor,
    clock: &Clock,
) -> CaseView {
    let workflow = &case.workflow.workflow;
    let instance = &case.instance;
    let active_steps = active_steps(case);
    let actions = available_actions(workflow, instance, actor, clock)
        .into_iter()
        .map(|a| ActionView {
            step: a.step,
            action: a.action,
            title: a.title,
            allowed: a.allowed,
            reasons: a.reasons.iter().map(|r| r.message().to_string()).collect(),
            warnings: a.warnings,
        })
        .collect();
    CaseView {
        id: case.row.id.0,
        aktenzeichen: case.row.aktenzeichen.clone(),
        workflow: case.row.workflow_key.clone(),
        workflow_version: case.workflow.version,
        version: case.row.version,
        status: case.row.status.clone(),
        outcome: case.row.outcome.clone(),
        applicant: ApplicantView {
            key: applicant.key.clone(),
            name: applicant.name.clone(),
            designation: applicant.designation().into_owned(),
        },
        data: instance.data.clone(),
        active_steps,
        actions,
        created_at: rfc3339(case.row.created_at),
        updated_at: rfc3339(case.row.updated_at),
    }
}
