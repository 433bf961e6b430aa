//! `/admin/workflows…`: the deployed workflows, their version history and sources, and the editor
//! that checks and deploys a new version.
//!
//! The editor validates with the very function the deployment uses
//! ([`crate::service::workflows::WorkflowRegistry::check`]), so „Prüfen“ and „Bereitstellen“ can
//! never disagree. Errors carry line and column; the source is shown again with line numbers and
//! the erroneous lines marked in text, each error linking to its line.

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{failure, local_time, query_value, refusal};
use crate::auth::Permission;
use crate::db::Database;
use crate::db::models::DefinitionRow;
use crate::engine::diagnostic::Diagnostic;
use crate::service::workflows::CheckedDefinition;
use crate::service::{ServiceError, case_migration, clock, version_impact};
use crate::web::api::ApiState;
use crate::web::ui::{CsrfForm, Session, UiSession, encode_query_value, layout, render, see_other};

/// What a new workflow's editor starts with: the keys every definition needs.
pub(super) const SKELETON: &str = "workflow: neuer-workflow\ntitle: Neuer Workflow\n";

/// `GET /admin/workflows`: every workflow with its latest version and number of versions.
pub async fn list(
    session: UiSession,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    if let Some(refused) = refusal(&api, &session, Permission::DeployWorkflow) {
        return refused;
    }
    let rows = db
        .run(|conn| {
            Ok((
                DefinitionRow::all_latest(conn)?,
                DefinitionRow::version_counts(conn)?,
            ))
        })
        .await;
    let (latest, counts) = match rows {
        Ok(rows) => rows,
        Err(error) => return failure(&api, &session, ServiceError::Db(error)),
    };
    let workflows: Vec<Value> = latest
        .iter()
        .map(|row| {
            let count = counts
                .iter()
                .find(|(key, _)| *key == row.key)
                .map_or(1, |(_, n)| *n);
            json!({
                "key": row.key,
                "titel": row.title,
                "version": row.version,
                "anzahl": count,
                "erstellt": local_time(row.created_at),
            })
        })
        .collect();
    let mut context = layout("Workflows", Some(&session), Some("/admin"));
    context["workflows"] = json!(workflows);
    render(&api, StatusCode::OK, "admin_workflows", &context)
}

/// `GET /admin/workflows/{key}`: the version history and the source of one version
/// (`?version=`, else the newest).
pub async fn show(
    req: HttpRequest,
    session: UiSession,
    key: web::Path<String>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    if let Some(refused) = refusal(&api, &session, Permission::DeployWorkflow) {
        return refused;
    }
    let key = key.into_inner();
    let lookup = key.clone();
    let found = db
        .run(move |conn| {
            Ok((
                DefinitionRow::history(conn, &lookup),
                case_migration::running_by_version(conn, &lookup),
            ))
        })
        .await;
    let (history, running) = match found {
        Ok((Ok(history), Ok(running))) => (history, running),
        Ok((Err(error), _)) | Err(error) => {
            return failure(&api, &session, ServiceError::Db(error));
        }
        Ok((_, Err(error))) => return failure(&api, &session, error),
    };
    if history.is_empty() {
        return failure(
            &api,
            &session,
            ServiceError::NotFound(format!("Es gibt keinen Workflow „{key}“.")),
        );
    }
    let query = req.query_string();
    // A version that is no number (a mistyped address) matches none, like one that never existed.
    let wanted: Option<Option<i32>> = query_value(query, "version").map(|v| v.trim().parse().ok());
    let Some(selected) = history.iter().find(|row| match wanted {
        None => true,
        Some(version) => version == Some(row.version),
    }) else {
        return failure(
            &api,
            &session,
            ServiceError::NotFound(format!("Workflow „{key}“ hat keine solche Version.")),
        );
    };
    let hinweis = match query_value(query, "hinweis").as_deref() {
        Some("bereitgestellt") => Some(format!(
            "Version {} wurde bereitgestellt.",
            selected.version
        )),
        Some("unveraendert") => Some(format!(
            "Die Definition ist unverändert; es gilt weiterhin Version {}. Es wurde keine neue \
             Version angelegt.",
            selected.version
        )),
        _ => None,
    };
    let versions: Vec<Value> = history
        .iter()
        .map(|row| {
            json!({
                "version": row.version,
                "titel": row.title,
                "erstellt": local_time(row.created_at),
                "von": row.created_by,
                "gewaehlt": row.version == selected.version,
                "laufend": running_of(&running, row.version),
            })
        })
        .collect();
    let mut context = layout(
        &format!("Workflow {}", selected.title),
        Some(&session),
        Some("/admin"),
    );
    context["key"] = json!(key);
    context["hinweis"] = json!(hinweis);
    context["versionen"] = json!(versions);
    let newest = history[0].version;
    context["neueste_version"] = json!(newest);
    context["umstellbar"] = json!(
        running
            .iter()
            .filter(|(version, _)| *version < newest)
            .map(|(version, count)| json!({ "version": version, "laufend": count }))
            .collect::<Vec<_>>()
    );
    context["gewaehlt"] = json!({
        "version": selected.version,
        "titel": selected.title,
        "erstellt": local_time(selected.created_at),
        "von": selected.created_by,
        "neueste": selected.version == history[0].version,
    });
    // The newest version's period applies to every case of the workflow (service::retention).
    let own_period = serde_json::from_str::<serde_json::Value>(&history[0].definition)
        .ok()
        .and_then(|definition| crate::service::retention::own_period(&definition));
    context["aufbewahrung"] = json!(match own_period {
        Some(years) => format!(
            "Beendete Vorgänge dieses Workflows werden bis zum Ende des Jahres, in dem sie \
             endeten, und weitere {years} Jahre aufbewahrt (eigene Frist des Workflows, \
             Version {}).",
            history[0].version
        ),
        None => format!(
            "Beendete Vorgänge dieses Workflows werden bis zum Ende des Jahres, in dem sie \
             endeten, und weitere {} Jahre aufbewahrt (Einstellung der Installation; der \
             Workflow setzt mit „retention_years“ keine eigene Frist).",
            api.retention_years
        ),
    });
    context["zeilen"] = json!(numbered_lines(&selected.source, &BTreeSet::new()));
    // The diagram is generated here from the stored definition, its titles escaped by the
    // generator, so the template inserts it as markup.
    context["diagramm"] = json!(
        serde_json::from_str::<crate::engine::definition::Definition>(&selected.definition)
            .ok()
            .map(|definition| crate::render::diagram::workflow_svg(&definition))
    );
    let previous = history.iter().find(|row| row.version < selected.version);
    context["vorversion"] = json!(previous.map(|row| row.version));
    context["unterschiede"] =
        json!(previous.map(|row| crate::render::diff::source_diff(&row.source, &selected.source)));
    context["unterschiede_titel"] = json!(
        previous.map(|row| format!("Version {} → Version {}", row.version, selected.version))
    );
    render(&api, StatusCode::OK, "admin_workflow", &context)
}

/// `GET /admin/workflows/{key}/bpmn?version=`: a version as a BPMN 2.0 file, as
/// `GET /api/v1/workflows/{key}/bpmn` gives it.
pub async fn bpmn(
    req: HttpRequest,
    session: UiSession,
    key: web::Path<String>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    if let Some(refused) = refusal(&api, &session, Permission::DeployWorkflow) {
        return refused;
    }
    let key = key.into_inner();
    let version = match query_value(req.query_string(), "version") {
        None => None,
        Some(text) => match text.trim().parse::<i32>() {
            Ok(version) => Some(version),
            Err(_) => {
                return failure(
                    &api,
                    &session,
                    ServiceError::NotFound(format!("Workflow „{key}“ hat keine solche Version.")),
                );
            }
        },
    };
    let registry = api.registry.clone();
    let found = db
        .run(move |conn| Ok(registry.version_or_latest(conn, &key, version)))
        .await;
    match found {
        Ok(Ok(deployed)) => crate::web::api::workflows::bpmn_download(&deployed),
        Ok(Err(error)) => failure(&api, &session, error),
        Err(error) => failure(&api, &session, ServiceError::Db(error)),
    }
}

/// The running cases of `version` in a per-version count.
fn running_of(running: &[(i32, i64)], version: i32) -> i64 {
    running
        .iter()
        .find(|(v, _)| *v == version)
        .map_or(0, |(_, count)| *count)
}

/// The form that moves the running cases of an older version to the newest.
#[derive(Deserialize)]
pub struct MigrateInput {
    #[serde(default)]
    von: String,
    /// `pruefen` (a trial run) or `umstellen`.
    #[serde(default)]
    aktion: String,
    /// Every other field; `schritt.{old}` = the new version's step a case at `old` moves to
    /// (empty: none).
    #[serde(flatten)]
    weitere: std::collections::BTreeMap<String, String>,
}

/// The prefix of the form fields that map a missing step to one of the new version.
const STEP_FIELD: &str = "schritt.";

/// `POST /admin/workflows/{key}/umstellen`: moves (or, with `aktion=pruefen`, checks) the
/// running cases of version `von` to the newest version and shows what happened to each.
pub async fn migrate(
    form: CsrfForm<MigrateInput>,
    key: web::Path<String>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    let CsrfForm { session, form, .. } = form;
    if let Some(refused) = refusal(&api, &session, Permission::DeployWorkflow) {
        return refused;
    }
    let key = key.into_inner();
    let Ok(from) = form.von.trim().parse::<i32>() else {
        return failure(
            &api,
            &session,
            ServiceError::Unprocessable(
                "Bitte wählen Sie die Version, deren Vorgänge umgestellt werden.".into(),
            ),
        );
    };
    let trial = form.aktion != "umstellen";
    let steps = case_migration::StepMapping::new(
        form.weitere
            .iter()
            .filter_map(|(field, value)| {
                let old = field.strip_prefix(STEP_FIELD)?;
                let new = value.trim();
                (!new.is_empty()).then(|| (old.to_string(), new.to_string()))
            })
            .collect(),
    );
    let chosen: Vec<Value> = steps
        .entries()
        .map(|(old, new)| json!({ "alt": old, "neu": new }))
        .collect();
    let plan = case_migration::BulkMove {
        key: key.clone(),
        from,
        to: None,
        steps,
        trial,
    };
    let actor = crate::web::api::actor(session.principal());
    let context_api = api.clone();
    let outcome = db
        .run(move |conn| {
            let ctx = context_api.case_context();
            Ok(case_migration::migrate_all(
                conn,
                &ctx,
                &plan,
                &actor,
                &clock::now(),
            ))
        })
        .await;
    let outcome = match outcome {
        Ok(Ok(done)) => done,
        Ok(Err(error)) => return failure(&api, &session, error),
        Err(error) => return failure(&api, &session, ServiceError::Db(error)),
    };
    let mut context = layout(
        if trial {
            "Umstellung prüfen"
        } else {
            "Vorgänge umgestellt"
        },
        Some(&session),
        Some("/admin"),
    );
    context["key"] = json!(key);
    context["von"] = json!(from);
    context["nach"] = json!(outcome.to);
    context["probe"] = json!(trial);
    context["anzahl_umgestellt"] = json!(outcome.moved.len());
    context["anzahl_umstellbar"] = json!(outcome.movable.len());
    context["umgestellt"] = json!(outcome.moved);
    context["umstellbar"] = json!(outcome.movable);
    context["abgelehnt"] = json!(
        outcome
            .refused
            .iter()
            .map(|(aktenzeichen, reasons)| json!({ "aktenzeichen": aktenzeichen, "gruende": reasons }))
            .collect::<Vec<_>>()
    );
    context["zuordnung"] = json!(chosen);
    context["offen"] = json!(
        outcome
            .unmatched
            .iter()
            .map(|step| json!({
                "schritt": step.step,
                "titel": step.title,
                "art": step.kind,
                "vorgaenge": step.cases,
                "ziele": step.candidates.iter()
                    .map(|(name, title)| json!({ "schritt": name, "titel": title }))
                    .collect::<Vec<_>>(),
            }))
            .collect::<Vec<_>>()
    );
    render(&api, StatusCode::OK, "admin_workflow_umstellung", &context)
}

/// `GET /admin/workflows/{key}/bearbeiten`: the editor with the newest version's source.
pub async fn edit(
    session: UiSession,
    key: web::Path<String>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    if let Some(refused) = refusal(&api, &session, Permission::DeployWorkflow) {
        return refused;
    }
    let key = key.into_inner();
    let lookup = key.clone();
    match db
        .run(move |conn| DefinitionRow::latest(conn, &lookup))
        .await
    {
        Ok(Some(row)) => editor(
            &api,
            StatusCode::OK,
            &session,
            Some(&key),
            &row.source,
            &[],
            None,
        ),
        Ok(None) => failure(
            &api,
            &session,
            ServiceError::NotFound(format!("Es gibt keinen Workflow „{key}“.")),
        ),
        Err(error) => failure(&api, &session, ServiceError::Db(error)),
    }
}

/// `GET /admin/workflows/neu`: the editor for a new workflow.
pub async fn new_form(session: UiSession, api: web::Data<ApiState>) -> HttpResponse {
    if let Some(refused) = refusal(&api, &session, Permission::DeployWorkflow) {
        return refused;
    }
    editor(&api, StatusCode::OK, &session, None, SKELETON, &[], None)
}

/// The editor's form.
#[derive(Deserialize)]
pub struct EditorInput {
    #[serde(default)]
    quelle: String,
    /// `pruefen` or `bereitstellen`.
    #[serde(default)]
    aktion: String,
}

/// `POST /admin/workflows/{key}/bearbeiten`.
pub async fn submit_edit(
    form: CsrfForm<EditorInput>,
    key: web::Path<String>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    submit(form, Some(key.into_inner()), api, db).await
}

/// `POST /admin/workflows/neu`.
pub async fn submit_new(
    form: CsrfForm<EditorInput>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    submit(form, None, api, db).await
}

/// What submitting the editor came to.
enum Checked {
    /// „Bereitstellen“ of a valid source: the version, and whether it was deployed already.
    Deployed {
        key: String,
        version: i32,
        unchanged: bool,
    },
    /// „Prüfen“ of a valid source.
    Reviewed(Box<Review>),
    Invalid(Vec<Diagnostic>),
}

/// What „Prüfen“ shows about a valid definition besides its validity: what it was warned about,
/// how it differs from the deployed version, and which running cases it would leave behind.
struct Review {
    warnings: Vec<Diagnostic>,
    /// The newest deployed version and the lines changed against it.
    previous: Option<(i32, Vec<crate::render::diff::DiffLine>)>,
    /// Running cases of the workflow, all versions.
    running: i64,
    stranded: Vec<version_impact::StrandedStep>,
}

impl Review {
    /// Reviews `checked` (the source `text`, of workflow `key`) against what is deployed.
    fn of(
        conn: &mut crate::db::DbConnection,
        registry: &crate::service::workflows::WorkflowRegistry,
        key: &str,
        text: &str,
        checked: CheckedDefinition,
    ) -> Result<Self, ServiceError> {
        let previous = DefinitionRow::latest(conn, key)?.map(|row| {
            (
                row.version,
                crate::render::diff::source_diff(&row.source, text),
            )
        });
        let running = case_migration::running_by_version(conn, key)?
            .iter()
            .map(|(_, count)| count)
            .sum();
        let stranded = if running > 0 {
            version_impact::stranded_steps(conn, registry, key, &checked.definition)?
        } else {
            Vec::new()
        };
        Ok(Self {
            warnings: checked.warnings,
            previous,
            running,
            stranded,
        })
    }
}

async fn submit(
    form: CsrfForm<EditorInput>,
    fixed_key: Option<String>,
    api: web::Data<ApiState>,
    db: web::Data<Database>,
) -> HttpResponse {
    let CsrfForm { session, form, .. } = form;
    if let Some(refused) = refusal(&api, &session, Permission::DeployWorkflow) {
        return refused;
    }
    // Browsers send a textarea's line breaks as CR LF.
    let source = form.quelle.replace("\r\n", "\n");
    let deploy = form.aktion == "bereitstellen";
    let state = api.clone().into_inner();
    let expected = fixed_key.clone();
    let text = source.clone();
    let actor = session.principal().email.clone();
    let outcome = db
        .run(move |conn| {
            // Other service errors are the database's own or unexpected: the error page.
            let unexpected = |error: ServiceError| match error {
                ServiceError::Db(error) => error,
                other => crate::db::DbError::Blocking(other.to_string()),
            };
            let checked = match state.registry.check(conn, &state.sources, &text) {
                Ok(checked) => checked,
                Err(ServiceError::InvalidDefinition(diagnostics)) => {
                    return Ok(Checked::Invalid(diagnostics));
                }
                Err(other) => return Err(unexpected(other)),
            };
            let key = checked.definition.workflow.clone();
            if let Some(problem) = key_problem(conn, &text, &key, expected.as_deref())? {
                return Ok(Checked::Invalid(vec![problem]));
            }
            if !deploy {
                let review =
                    Review::of(conn, &state.registry, &key, &text, checked).map_err(unexpected)?;
                return Ok(Checked::Reviewed(Box::new(review)));
            }
            let before = DefinitionRow::latest(conn, &key)?.map(|row| row.version);
            let now = chrono::Utc::now().naive_utc();
            // The source was validated just now; it is stored as checked.
            let deployed = state
                .registry
                .deploy_checked(conn, checked, &text, &actor, now)
                .map_err(unexpected)?;
            Ok(Checked::Deployed {
                key,
                version: deployed.version,
                unchanged: before == Some(deployed.version),
            })
        })
        .await;
    match outcome {
        Ok(Checked::Deployed {
            key,
            version,
            unchanged,
        }) => {
            let hinweis = if unchanged {
                "unveraendert"
            } else {
                "bereitgestellt"
            };
            tracing::info!(workflow = %key, version, unchanged, "workflow deployed in the web interface");
            see_other(&format!(
                "/admin/workflows/{}?version={version}&hinweis={hinweis}",
                encode_query_value(&key)
            ))
        }
        Ok(Checked::Reviewed(review)) => editor(
            &api,
            StatusCode::OK,
            &session,
            fixed_key.as_deref(),
            &source,
            &[],
            Some(&review),
        ),
        Ok(Checked::Invalid(diagnostics)) => editor(
            &api,
            StatusCode::UNPROCESSABLE_ENTITY,
            &session,
            fixed_key.as_deref(),
            &source,
            &diagnostics,
            None,
        ),
        Err(error) => failure(&api, &session, ServiceError::Db(error)),
    }
}

/// The editor of one workflow must keep its key; a new workflow must not take an existing one.
fn key_problem(
    conn: &mut crate::db::DbConnection,
    source: &str,
    key: &str,
    expected: Option<&str>,
) -> Result<Option<Diagnostic>, crate::db::DbError> {
    let message = match expected {
        Some(expected) if expected != key => format!(
            "Der Schlüssel „{key}“ passt nicht zu diesem Workflow („{expected}“); für einen \
             neuen Workflow nutzen Sie bitte „Neuer Workflow“."
        ),
        None if DefinitionRow::latest(conn, key)?.is_some() => format!(
            "Einen Workflow „{key}“ gibt es bereits; bitte bearbeiten Sie ihn dort oder wählen \
             Sie einen anderen Schlüssel."
        ),
        _ => return Ok(None),
    };
    let line = source
        .lines()
        .position(|line| line.starts_with("workflow:"))
        .map_or(1, |index| index + 1);
    Ok(Some(Diagnostic::error(
        "upload.yaml",
        (line, 1),
        "workflow",
        message,
    )))
}

/// The editor page: the source, its errors with links to their lines, and after a successful
/// „Prüfen“ the `review`.
fn editor(
    api: &ApiState,
    status: StatusCode,
    session: &Session,
    key: Option<&str>,
    source: &str,
    diagnostics: &[Diagnostic],
    review: Option<&Review>,
) -> HttpResponse {
    let context = editor_context(session, key, source, diagnostics, review);
    render(api, status, "admin_workflow_editor", &context)
}

/// The context of the editor page for a new workflow holding `source`, for pages that add to
/// it (a draft read from a BPMN file).
pub(super) fn new_editor_context(session: &Session, source: &str) -> Value {
    editor_context(session, None, source, &[], None)
}

fn editor_context(
    session: &Session,
    key: Option<&str>,
    source: &str,
    diagnostics: &[Diagnostic],
    review: Option<&Review>,
) -> Value {
    let titel = match key {
        Some(key) => format!("Workflow {key} bearbeiten"),
        None => "Neuer Workflow".to_string(),
    };
    let mut context = layout(&titel, Some(session), Some("/admin"));
    context["key"] = json!(key);
    context["ziel"] = json!(match key {
        Some(key) => format!("/admin/workflows/{}/bearbeiten", encode_query_value(key)),
        None => "/admin/workflows/neu".to_string(),
    });
    context["quelle"] = json!(source);
    context["gueltig"] = json!(review.map(|_| {
        "Die Definition ist gültig. Mit „Bereitstellen“ legen Sie eine neue Version an."
    }));
    // A diagnostic behind the last line (e.g. an unexpected end) links to one extra line.
    let last = source.lines().count() + 1;
    let listed = |found: &[Diagnostic]| {
        let mut sorted: Vec<&Diagnostic> = found.iter().collect();
        sorted.sort_by_key(|d| (d.line, d.column));
        sorted
            .iter()
            .map(|d| {
                json!({
                    "zeile": d.line,
                    "spalte": d.column,
                    "meldung": d.message,
                    "anker": d.line.clamp(1, last),
                })
            })
            .collect::<Vec<_>>()
    };
    context["fehler"] = json!(listed(diagnostics));
    let warnings = review.map_or(&[][..], |r| r.warnings.as_slice());
    context["hinweise"] = json!(listed(warnings));
    let marked: BTreeSet<usize> = diagnostics.iter().map(|d| d.line.clamp(1, last)).collect();
    // The numbered source, for the links of errors and warnings.
    context["zeilen"] = if diagnostics.is_empty() && warnings.is_empty() {
        json!([])
    } else {
        json!(numbered_lines(source, &marked))
    };
    context["zeilen_titel"] = json!(if diagnostics.is_empty() {
        "Geprüfter Quelltext"
    } else {
        "Geprüfter Quelltext mit markierten Fehlerzeilen"
    });
    if let Some(review) = review {
        context["geprueft"] = json!(true);
        context["vorversion"] = json!(review.previous.as_ref().map(|(version, _)| version));
        context["unterschiede"] = json!(
            review
                .previous
                .as_ref()
                .map(|(_, diff)| diff)
                .filter(|diff| !diff.is_empty())
        );
        context["unterschiede_titel"] = json!(
            review
                .previous
                .as_ref()
                .map(|(version, _)| format!("Version {version} → geprüfte Fassung"))
        );
        context["laufend"] = json!(review.running);
        context["gestrandet"] = json!(
            review
                .stranded
                .iter()
                .map(|step| json!({
                    "schritt": step.step,
                    "titel": step.title,
                    "art": step.kind,
                    "neue_art": step.new_kind,
                    "anzahl": step.cases.len(),
                    "beispiele": step.cases.iter().take(STRANDED_EXAMPLES).collect::<Vec<_>>(),
                    "weitere": step.cases.len().saturating_sub(STRANDED_EXAMPLES),
                }))
                .collect::<Vec<_>>()
        );
    }
    context
}

/// How many Aktenzeichen „Prüfen“ names per step that running cases would be left behind at.
const STRANDED_EXAMPLES: usize = 5;

/// The source's lines, numbered from 1, those in `marked` flagged as erroneous; a mark behind
/// the last line adds one empty line, so an error's link has a target.
fn numbered_lines(source: &str, marked: &BTreeSet<usize>) -> Vec<Value> {
    let mut lines: Vec<Value> = source
        .lines()
        .enumerate()
        .map(|(index, text)| {
            json!({ "nummer": index + 1, "text": text, "fehler": marked.contains(&(index + 1)) })
        })
        .collect();
    let count = lines.len();
    if marked.iter().any(|line| *line > count) {
        lines.push(json!({ "nummer": count + 1, "text": "", "fehler": true }));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_and_marked() {
        let lines = numbered_lines("a: 1\nb: 2\n", &BTreeSet::from([2]));
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["nummer"], 2);
        assert_eq!(lines[1]["fehler"], true);
        assert_eq!(lines[0]["fehler"], false);
        let past_end = numbered_lines("a: 1", &BTreeSet::from([2]));
        assert_eq!(past_end.len(), 2);
        assert_eq!(past_end[1]["fehler"], true);
    }
}
