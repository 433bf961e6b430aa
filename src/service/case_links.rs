//! Which case started which. A step's `start_case` effect (the Bewilligung starts the Betrieb,
//! the Anregung the Antrag) links the new case to the case and step it came from when it writes
//! it (`cases::Start`); here the link is read in both directions, for the case page, the case file
//! and the API.
//! Whoever reads a case sees only those linked cases they may read themselves.

use std::collections::BTreeMap;
use std::sync::Arc;

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::case_list::permitted;
use super::error::ServiceError;
use super::workflows::{DeployedWorkflow, WorkflowRegistry};
use crate::auth::{Permission, Principal};
use crate::db::DbConnection;
use crate::db::models::{CaseId, OrganisationId};
use crate::db::schema::{case_origins, cases};
use crate::journal::JournalEntry;

/// A case at the other end of a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LinkedCase {
    /// Nummer des Vorgangs.
    pub id: i64,
    /// Aktenzeichen des Vorgangs.
    pub aktenzeichen: String,
    /// Schlüssel seines Workflows.
    pub workflow: String,
    /// `running`, `completed` oder `withdrawn`.
    pub status: String,
    /// Wie er endete (bei `completed` und `withdrawn`).
    pub outcome: Option<String>,
    /// Der Schritt des auslösenden Vorgangs, der den Folgevorgang gestartet hat.
    pub step: String,
}

/// The cases linked to one case, as far as the reader may see them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct CaseLinks {
    /// Der Vorgang, aus dem dieser gestartet wurde (`null`: von Hand angelegt, oder für den
    /// Aufrufer nicht sichtbar, oder ausgesondert).
    pub origin: Option<LinkedCase>,
    /// Die Vorgänge, die dieser gestartet hat, ältester zuerst.
    pub started: Vec<LinkedCase>,
}

impl CaseLinks {
    /// Whether the case has no link a reader may see.
    pub fn is_empty(&self) -> bool {
        self.origin.is_none() && self.started.is_empty()
    }
}

type LinkRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    OrganisationId,
    Option<chrono::NaiveDateTime>,
    String,
);

/// Reads the links of `case`, keeping the linked cases `reader` may read.
pub fn of_case(
    conn: &mut DbConnection,
    case: CaseId,
    reader: &Principal,
) -> Result<CaseLinks, ServiceError> {
    let columns = (
        cases::id,
        cases::aktenzeichen,
        cases::workflow_key,
        cases::status,
        cases::outcome,
        cases::applicant_id,
        cases::submitted_at,
        case_origins::step,
    );
    let origin: Option<LinkRow> = case_origins::table
        .inner_join(cases::table.on(cases::id.eq(case_origins::origin_case_id)))
        .filter(case_origins::case_id.eq(case))
        .select(columns)
        .first(conn)
        .optional()?;
    let started: Vec<LinkRow> = case_origins::table
        .inner_join(cases::table.on(cases::id.eq(case_origins::case_id)))
        .filter(case_origins::origin_case_id.eq(case))
        .order(cases::id)
        .select(columns)
        .load(conn)?;
    let keep = |row: LinkRow| {
        let (id, aktenzeichen, workflow, status, outcome, applicant, submitted_at, step) = row;
        let readable = permitted(
            reader,
            Permission::ReadCase,
            applicant,
            submitted_at.is_some(),
        );
        readable.then_some(LinkedCase {
            id,
            aktenzeichen,
            workflow,
            status,
            outcome,
            step,
        })
    };
    Ok(CaseLinks {
        origin: origin.and_then(keep),
        started: started.into_iter().filter_map(keep).collect(),
    })
}

/// The titles of the workflows a journal says were started (`case_start_requested`) or not
/// started again (`case_start_omitted`), by key, so that its lines name the procedure, not its
/// key. A workflow no longer deployed is left out (the line keeps the key). Titles of workflows
/// are no secret of any case: every staff role may read the workflows.
pub fn started_workflow_titles(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
    journal: &[JournalEntry],
) -> Result<BTreeMap<String, String>, ServiceError> {
    let mut titles = BTreeMap::new();
    for entry in journal {
        if !matches!(
            entry.kind.as_str(),
            "case_start_requested" | "case_start_omitted"
        ) {
            continue;
        }
        let Some(key) = entry.payload.get("workflow").and_then(|k| k.as_str()) else {
            continue;
        };
        if titles.contains_key(key) {
            continue;
        }
        match registry.latest(conn, key) {
            Ok(workflow) => {
                titles.insert(key.to_string(), workflow.title.clone());
            }
            Err(ServiceError::NotFound(_)) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(titles)
}

/// The newest version of each linked case's workflow, by key: what the pages and the case file
/// name them by (title, step titles, outcomes).
pub fn workflows_of(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
    links: &CaseLinks,
) -> Result<BTreeMap<String, Arc<DeployedWorkflow>>, ServiceError> {
    let mut workflows = BTreeMap::new();
    for linked in links.origin.iter().chain(&links.started) {
        if !workflows.contains_key(&linked.workflow) {
            let workflow = registry.latest(conn, &linked.workflow)?;
            workflows.insert(linked.workflow.clone(), workflow);
        }
    }
    Ok(workflows)
}
