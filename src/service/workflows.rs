//! Deployed workflow versions: synchronised from `workflows/` at start-up, uploaded through the
//! API, and kept in memory once compiled (a version never changes, so the cache never goes stale).

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use chrono::NaiveDateTime;

use super::error::ServiceError;
use crate::db::models::{DefinitionId, DefinitionRow, NewDefinition};
use crate::db::{DbConnection, DbError, write_transaction};
use crate::engine::definition::Definition;
use crate::engine::diagnostic::Diagnostic;
use crate::engine::validate::{ValidationContext, validate};
use crate::engine::workflow::version_of;
use crate::engine::{Workflow, load};

/// One deployed version, compiled and ready to run.
#[derive(Debug)]
pub struct DeployedWorkflow {
    pub id: DefinitionId,
    /// 1, 2, 3, … per key.
    pub version: i32,
    pub title: String,
    /// The YAML as deployed.
    pub source: String,
    pub workflow: Workflow,
}

impl DeployedWorkflow {
    /// The workflow key.
    pub fn key(&self) -> &str {
        self.workflow.key()
    }

    /// The definition.
    pub fn definition(&self) -> &Definition {
        self.workflow.definition()
    }
}

/// A definition that passed the deployment's checks, with what it was warned about.
#[derive(Debug, Clone)]
pub struct CheckedDefinition {
    /// The definition as it would be deployed.
    pub definition: Definition,
    /// Findings that do not stop the deployment (a role never used, an undeclared message).
    pub warnings: Vec<Diagnostic>,
}

/// What the validator of uploaded and shipped definitions checks against.
#[derive(Debug, Clone)]
pub struct WorkflowSources {
    /// Directory of the shipped definitions (`workflows/`).
    pub workflows_dir: PathBuf,
    /// The mail templates definitions may name (checked for each use).
    pub templates: Arc<crate::render::Templates>,
}

/// The versions in use, compiled once.
#[derive(Debug, Default)]
pub struct WorkflowRegistry {
    compiled: RwLock<HashMap<DefinitionId, Arc<DeployedWorkflow>>>,
}

/// Why the shipped definitions could not be deployed at start-up.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// A file is invalid; every diagnostic is listed.
    #[error("Workflow-Definitionen ungültig: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Diagnostic>),
    /// A file or the template directory cannot be read.
    #[error("Workflow-Definitionen nicht lesbar: {0}")]
    Unreadable(String),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for SyncError {
    fn from(error: diesel::result::Error) -> Self {
        SyncError::Db(DbError::Query(error))
    }
}

fn context(
    sources: &WorkflowSources,
    known_keys: BTreeSet<String>,
) -> Result<ValidationContext, String> {
    let mut context = crate::service::mail::validation_context(&sources.templates);
    context.workflows = known_keys;
    Ok(context)
}

impl WorkflowRegistry {
    /// Deploys every definition in the workflows directory whose content is new; returns
    /// `(key, version)` of the versions added. A missing directory deploys nothing.
    pub fn sync_directory(
        &self,
        conn: &mut DbConnection,
        sources: &WorkflowSources,
        now: NaiveDateTime,
    ) -> Result<Vec<(String, i32)>, SyncError> {
        if !sources.workflows_dir.is_dir() {
            return Ok(Vec::new());
        }
        let context = context(sources, BTreeSet::new()).map_err(SyncError::Unreadable)?;
        let report = crate::engine::files::validate_paths(
            std::slice::from_ref(&sources.workflows_dir),
            &context,
        );
        if let Some(unreadable) = report.unreadable.first() {
            return Err(SyncError::Unreadable(format!(
                "{}: {}",
                unreadable.path.display(),
                unreadable.reason
            )));
        }
        let errors: Vec<Diagnostic> = report
            .diagnostics
            .into_iter()
            .filter(Diagnostic::is_error)
            .collect();
        if !errors.is_empty() {
            return Err(SyncError::Invalid(errors));
        }
        let mut files = Vec::new();
        for (path, definition) in report.valid {
            let source = std::fs::read_to_string(&path)
                .map_err(|e| SyncError::Unreadable(format!("{}: {e}", path.display())))?;
            files.push((definition, source));
        }
        write_transaction(conn, |conn| -> Result<_, SyncError> {
            serialise_deployments(conn)?;
            let mut added = Vec::new();
            for (definition, source) in files {
                if let Some(version) = store_if_new(conn, definition, &source, "system", now)? {
                    added.push(version);
                }
            }
            Ok(added)
        })
    }

    /// Validates and deploys an uploaded definition (`POST /workflows`): a new version of its key,
    /// or the existing version when the content is unchanged.
    pub fn deploy(
        &self,
        conn: &mut DbConnection,
        sources: &WorkflowSources,
        source: &str,
        actor: &str,
        now: NaiveDateTime,
    ) -> Result<Arc<DeployedWorkflow>, ServiceError> {
        let (loaded, _) = Self::validated(conn, sources, source)?;
        self.store(conn, loaded.definition, source, actor, now)
    }

    /// Deploys `source`, which [`Self::check`] found valid as `checked` just before (the API
    /// reports the check's warnings with the deployment, the editor checks the key first:
    /// neither validates twice).
    pub fn deploy_checked(
        &self,
        conn: &mut DbConnection,
        checked: CheckedDefinition,
        source: &str,
        actor: &str,
        now: NaiveDateTime,
    ) -> Result<Arc<DeployedWorkflow>, ServiceError> {
        self.store(conn, checked.definition, source, actor, now)
    }

    /// Stores a valid definition as a new version of its key, unless its content is deployed
    /// already, and returns that version compiled.
    fn store(
        &self,
        conn: &mut DbConnection,
        definition: Definition,
        source: &str,
        actor: &str,
        now: NaiveDateTime,
    ) -> Result<Arc<DeployedWorkflow>, ServiceError> {
        let key = definition.workflow.clone();
        let hash = version_of(&definition);
        write_transaction(conn, |conn| -> Result<(), ServiceError> {
            serialise_deployments(conn)?;
            store_if_new(conn, definition, source, actor, now)?;
            Ok(())
        })?;
        let row = DefinitionRow::find_by_hash(conn, &key, &hash)?
            .ok_or_else(|| ServiceError::NotFound(format!("Workflow „{key}“ nicht gefunden.")))?;
        self.compile(row)
    }

    /// Validates a definition exactly as [`Self::deploy`] would, without deploying it (the
    /// editor's „Prüfen“); returns the definition with the warnings the deployment would pass
    /// over.
    pub fn check(
        &self,
        conn: &mut DbConnection,
        sources: &WorkflowSources,
        source: &str,
    ) -> Result<CheckedDefinition, ServiceError> {
        let (loaded, warnings) = Self::validated(conn, sources, source)?;
        Ok(CheckedDefinition {
            definition: loaded.definition,
            warnings,
        })
    }

    /// The loaded definition and its warnings; its errors as `InvalidDefinition`.
    fn validated(
        conn: &mut DbConnection,
        sources: &WorkflowSources,
        source: &str,
    ) -> Result<(load::Loaded, Vec<Diagnostic>), ServiceError> {
        let loaded = load::load_definition("upload.yaml", source)
            .map_err(ServiceError::InvalidDefinition)?;
        let known: BTreeSet<String> = DefinitionRow::all_latest(conn)?
            .into_iter()
            .map(|row| row.key)
            .collect();
        let context =
            context(sources, known).map_err(|e| ServiceError::Db(DbError::Blocking(e)))?;
        let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) =
            validate(&loaded.definition, &loaded.tree, &context)
                .into_iter()
                .partition(Diagnostic::is_error);
        if !errors.is_empty() {
            return Err(ServiceError::InvalidDefinition(errors));
        }
        Ok((loaded, warnings))
    }

    /// A version by id, compiled once and cached.
    pub fn by_id(
        &self,
        conn: &mut DbConnection,
        id: DefinitionId,
    ) -> Result<Arc<DeployedWorkflow>, ServiceError> {
        if let Some(found) = self.cached(id) {
            return Ok(found);
        }
        let row = DefinitionRow::find(conn, id)?
            .ok_or_else(|| ServiceError::NotFound(format!("Workflow-Version {id} fehlt.")))?;
        self.compile(row)
    }

    /// The newest version of a workflow.
    pub fn latest(
        &self,
        conn: &mut DbConnection,
        key: &str,
    ) -> Result<Arc<DeployedWorkflow>, ServiceError> {
        let id = DefinitionRow::latest_id(conn, key)?
            .ok_or_else(|| ServiceError::NotFound(format!("Es gibt keinen Workflow „{key}“.")))?;
        self.by_id(conn, id)
    }

    /// Version `version` of a workflow, or its newest version for `None`.
    pub fn version_or_latest(
        &self,
        conn: &mut DbConnection,
        key: &str,
        version: Option<i32>,
    ) -> Result<Arc<DeployedWorkflow>, ServiceError> {
        let Some(version) = version else {
            return self.latest(conn, key);
        };
        let id = DefinitionRow::id_of(conn, key, version)?.ok_or_else(|| {
            ServiceError::NotFound(format!(
                "Es gibt keine Version {version} des Workflows „{key}“."
            ))
        })?;
        self.by_id(conn, id)
    }

    fn cached(&self, id: DefinitionId) -> Option<Arc<DeployedWorkflow>> {
        self.compiled
            .read()
            .ok()
            .and_then(|map| map.get(&id).cloned())
    }

    fn compile(&self, row: DefinitionRow) -> Result<Arc<DeployedWorkflow>, ServiceError> {
        let broken = |reason: String| {
            ServiceError::Db(DbError::Migration(format!(
                "gespeicherte Workflow-Version {} ({} v{}) ist unlesbar: {reason}",
                row.id, row.key, row.version
            )))
        };
        let definition: Definition =
            serde_json::from_str(&row.definition).map_err(|e| broken(e.to_string()))?;
        let workflow =
            Workflow::new(definition).map_err(|(expr, e)| broken(format!("{expr}: {e}")))?;
        let deployed = Arc::new(DeployedWorkflow {
            id: row.id,
            version: row.version,
            title: row.title,
            source: row.source,
            workflow,
        });
        if let Ok(mut map) = self.compiled.write() {
            map.insert(row.id, Arc::clone(&deployed));
        }
        Ok(deployed)
    }
}

/// Several instances starting at once against one PostgreSQL database must not race for the
/// same version number: deployments take a transaction-scoped advisory lock (SQLite's IMMEDIATE
/// transaction already excludes other writers).
fn serialise_deployments(conn: &mut DbConnection) -> Result<(), DbError> {
    use diesel::RunQueryDsl;
    if let DbConnection::Pg(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(7651236458011)").execute(pg)?;
    }
    Ok(())
}

/// Inserts the definition as the next version of its key unless this content exists already.
fn store_if_new(
    conn: &mut DbConnection,
    definition: Definition,
    source: &str,
    actor: &str,
    now: NaiveDateTime,
) -> Result<Option<(String, i32)>, DbError> {
    let hash = version_of(&definition);
    if DefinitionRow::find_by_hash(conn, &definition.workflow, &hash)?.is_some() {
        return Ok(None);
    }
    let version =
        DefinitionRow::latest(conn, &definition.workflow)?.map_or(1, |row| row.version + 1);
    let json = serde_json::to_string(&definition).map_err(|e| DbError::Migration(e.to_string()))?;
    NewDefinition {
        key: &definition.workflow,
        version,
        hash: &hash,
        title: &definition.title,
        source,
        definition: &json,
        created_by: actor,
        created_at: now,
    }
    .insert(conn)?;
    Ok(Some((definition.workflow, version)))
}
