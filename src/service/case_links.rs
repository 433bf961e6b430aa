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

/// The newest version of each workflow the page or file names, by key: that of every linked
/// case, and that of every case the journal says a step started (`case_start_requested`) or did
/// not start again (`case_start_omitted`), also where the reader may not see that case (the
/// titles of workflows are no secret of any case). What they are named by: title, step titles,
/// outcomes. A key no longer deployed is left out; it is then named as it is.
pub fn workflows_of(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
    links: &CaseLinks,
    journal: &[JournalEntry],
) -> Result<BTreeMap<String, Arc<DeployedWorkflow>>, ServiceError> {
    let linked = links
        .origin
        .iter()
        .chain(&links.started)
        .map(|linked| linked.workflow.as_str());
    let started = journal
        .iter()
        .filter(|e| {
            matches!(
                e.kind.as_str(),
                "case_start_requested" | "case_start_omitted"
            )
        })
        .filter_map(|e| e.payload.get("workflow").and_then(|k| k.as_str()));
    let mut workflows = BTreeMap::new();
    for key in linked.chain(started) {
        if workflows.contains_key(key) {
            continue;
        }
        match registry.latest(conn, key) {
            Ok(workflow) => {
                workflows.insert(key.to_string(), workflow);
            }
            Err(ServiceError::NotFound(_)) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(workflows)
}
