//! `GET /vorgaenge/{id}`: one case with everything its people work with — progress, active
//! steps with deadlines, actions (or why not), the data form, documents, the consultation
//! matrix and the journal (newest entry first).
//!
//! Everything is read in one blocking call with six queries (case with applicant, documents,
//! matrix, journal, organisations for the pickers and names); forms posting back here re-render
//! the page through [`show`] with their [`Overrides`] (field errors, a conflict, a notice).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::form::{self, FieldErrors};
use super::{Session, UiSession, error_page, render};
use crate::auth::InternalReader;
use crate::auth::{Permission, Principal};
use crate::db::models::{CaseId, Organisation};
use crate::db::{Database, DbConnection};
use crate::documents::{self, Document};
use crate::engine::definition::Definition;
use crate::engine::{Clock, Refusal};
use crate::journal::{self, JournalEntry};
use crate::mail::outbox::{self, FailedMail};
use crate::service::beteiligung::{self, MatrixRow};
use crate::service::case_links::{self, CaseLinks, LinkedCase};
use crate::service::cases::{self, LoadedCase};
use crate::service::workflows::DeployedWorkflow;
use crate::service::{ServiceError, clock, mail};
use crate::service::{absences, assignments, follow_ups};
use crate::service::{internal, time_windows};
use crate::web::api::ApiState;
use crate::web::api::cases::permit;

mod context;
mod sections;
mod timeline;
use context::context;
use timeline::since;
pub(crate) use timeline::{actor_de, journal_item};

/// What a form handler changes about the page it re-renders.
#[derive(Debug, Default)]
pub struct Overrides {
    /// Values to show in the data form instead of the stored data (what the user submitted).
    pub data: Option<Value>,
    /// Field errors by JSON pointer.
    pub errors: FieldErrors,
    /// Further messages for the error summary: (target id, message).
    pub summary: Vec<(String, String)>,
    /// A problem notice above everything (`role="alert"`).
    pub notice: Option<String>,
    /// A confirmation of the last form (`role="status"`).
    pub confirmation: Option<String>,
    /// A version conflict: the comparison and what happened since.
    pub conflict: Option<Conflict>,
    /// Why the last upload was refused.
    pub upload_error: Option<String>,
    /// Whether the refused upload was to be internal (the box stays ticked).
    pub document_internal: bool,
    /// Whether the refused upload was to be shown to the partners (the box stays ticked).
    pub document_partner_visible: bool,
    /// The Vermerk as typed, shown again with [`Overrides::note_error`].
    pub note: Option<String>,
    /// Whether that Vermerk was to be internal.
    pub note_internal: bool,
    /// Why the Vermerk was not written.
    pub note_error: Option<String>,
    /// The Wiedervorlage form as sent (`tag`, `anlass`), shown again with its errors.
    pub follow_up: Option<(String, String)>,
    /// Why the Wiedervorlage was not set, by field (`tag`, `anlass`).
    pub follow_up_errors: FieldErrors,
    /// Why the Zuständigkeit was not changed.
    pub assignment_error: Option<String>,
    /// Top-level data fields whose sections of the data form are shown open (those just saved).
    pub open_fields: Vec<String>,
}

/// What the conflict notice shows.
#[derive(Debug, Default)]
pub struct Conflict {
    /// The version the form was loaded with.
    pub submitted_version: i64,
    /// Field-by-field comparison (from [`form::differences`]); empty for actions.
    pub differences: Vec<Value>,
}

/// Query of the case page: `hinweis` names what the last form did, `offen` the top-level data
/// fields (comma-separated) whose sections it changed and shows open again.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    hinweis: Option<String>,
    offen: Option<String>,
}

/// Everything the page shows, read together.
pub(super) struct Loaded {
    pub case: LoadedCase,
    pub applicant: Organisation,
    pub documents: Vec<Document>,
    pub matrix: Vec<MatrixRow>,
    pub journal: Vec<JournalEntry>,
    pub organisations: Vec<Organisation>,
    /// Mails of the case that did not go out (no address, refused by the mail server).
    pub undelivered: Vec<FailedMail>,
    /// The open Wiedervorlagen, earliest first.
    pub follow_ups: Vec<follow_ups::OpenFollowUp>,
    /// Who works on the case in the user's organisation.
    pub assignment: Option<assignments::Assignment>,
    /// The assigned person's current absence, with who stands in (the deputy to turn to).
    pub assignee_absence: Option<(absences::Absence, absences::StandingIn)>,
    /// Whom the user's organisation may make responsible (empty for someone who may not).
    pub assignable: Vec<assignments::Candidate>,
    /// For administrators of a running case on an older workflow version: the newest version,
    /// to which it could be moved.
    pub newer_version: Option<i32>,
    /// The clock the actions are judged by, with the periods of the time windows they are
    /// bound to.
    pub clock: Clock,
    /// The case that started this one and the cases it started, as the user may see them.
    pub links: Value,
    /// The newest versions of the workflows of the linked cases and of those the journal names
    /// as started, by key (`case_links::workflows_of`).
    pub workflows: BTreeMap<String, Arc<DeployedWorkflow>>,
}

/// Reads the case for `principal` (404 when hidden) with everything the page shows.
pub(super) fn load(
    conn: &mut DbConnection,
    api: &ApiState,
    principal: &Principal,
    id: CaseId,
) -> Result<Loaded, ServiceError> {
    let (case, applicant) = cases::load_with_applicant(conn, &api.registry, id)?;
    permit(principal, Permission::ReadCase, case.access())?;
    let documents = documents::list_for(conn, id.0, InternalReader::of(principal))?;
    let matrix = beteiligung::matrix(conn, id.0)?;
    let journal = internal::redact(journal::list(conn, id.0)?, InternalReader::of(principal));
    let organisations = Organisation::all(conn)?;
    let undelivered = outbox::failed_of_case(conn, id)?;
    let follow_ups = follow_ups::open_of_case(conn, id, principal.organisation_id)?;
    let assignment = assignments::of_case(conn, id, principal.organisation_id)?;
    let assignee_absence = match &assignment {
        Some(assigned) => absences::covering_of_email(conn, &assigned.email, clock::now().today)?,
        None => None,
    };
    // Only someone who may change the Zuständigkeit is offered whom to name.
    let assignable = if permit(principal, Permission::AddNote, case.access()).is_ok() {
        assignments::candidates(conn, principal.organisation_id)?
    } else {
        Vec::new()
    };
    let newer_version = if case.row.status == "running"
        && crate::auth::authorize(principal, Permission::DeployWorkflow, None).is_ok()
    {
        let newest = api.registry.latest(conn, case.workflow.key())?.version;
        (newest > case.workflow.version).then_some(newest)
    } else {
        None
    };
    let linked = case_links::of_case(conn, case.row.id, principal)?;
    let workflows = case_links::workflows_of(conn, &api.registry, &linked, &journal)?;
    let links = linked_cases_de(&linked, &workflows, Some(case.workflow.definition()));
    let now = clock::now();
    let judged_by =
        time_windows::clock_for(conn, case.workflow.definition(), &case.instance, &now)?
            .into_owned();
    Ok(Loaded {
        clock: judged_by,
        case,
        applicant,
        documents,
        matrix,
        journal,
        organisations,
        undelivered,
        follow_ups,
        assignment,
        assignee_absence,
        assignable,
        newer_version,
        links,
        workflows,
    })
}

/// The Vorgänger and Folgevorgänge as the case page and the case file name them: Aktenzeichen,
/// procedure, status in German and the title of the step that started the later case (a step
/// of the earlier case's workflow: the other's for the Vorgänger, `own` for the Folgevorgänge;
/// its key where `own` is not given).
pub(crate) fn linked_cases_de(
    links: &CaseLinks,
    workflows: &BTreeMap<String, Arc<DeployedWorkflow>>,
    own: Option<&Definition>,
) -> Value {
    let definition_of = |key: &str| workflows.get(key).map(|w| w.definition());
    // `origin`: the workflow the step that started the later case belongs to.
    let line = |linked: &LinkedCase, origin: Option<&Definition>| {
        let workflow = workflows.get(&linked.workflow);
        let definition = definition_of(&linked.workflow);
        json!({
            "id": linked.id,
            "aktenzeichen": linked.aktenzeichen,
            "verfahren": workflow.map_or(linked.workflow.as_str(), |w| w.title.as_str()),
            "status": definition.map_or_else(
                || linked.status.clone(),
                |d| status_de(d, &linked.status, linked.outcome.as_deref()),
            ),
            "schritt": origin.map_or(linked.step.as_str(), |d| d.step_title(&linked.step)),
        })
    };
    json!({
        "vorgaenger": links.origin.as_ref().map(|o| line(o, definition_of(&o.workflow))),
        "folgevorgaenge": links.started.iter().map(|s| line(s, own)).collect::<Vec<_>>(),
    })
}

/// Runs `work` on the blocking pool with a connection.
pub(super) async fn blocking<T, F>(db: &Database, work: F) -> Result<T, ServiceError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ServiceError> + Send + 'static,
    T: Send + 'static,
{
    let database = db.clone();
    web::block(move || {
        let mut conn = database.get().map_err(ServiceError::Db)?;
        work(&mut conn)
    })
    .await
    .map_err(|e| ServiceError::Internal(e.to_string()))?
}

/// The German page for a failed service call: 404 for hidden or missing things, 403, else 500.
pub(super) fn service_error(
    api: &ApiState,
    session: &Session,
    error: ServiceError,
) -> HttpResponse {
    match error {
        ServiceError::NotFound(message) => error_page(
            api,
            StatusCode::NOT_FOUND,
            Some(session),
            "Nicht gefunden",
            &message,
            "Vielleicht wurde die Adresse falsch eingegeben, oder Sie haben keinen Zugriff darauf.",
        ),
        ServiceError::Forbidden(message) => error_page(
            api,
            StatusCode::FORBIDDEN,
            Some(session),
            "Keine Berechtigung",
            &message,
            "Es wurde nichts geändert.",
        ),
        other => {
            tracing::error!(error = %other, "case page failed");
            error_page(
                api,
                StatusCode::INTERNAL_SERVER_ERROR,
                Some(session),
                "Interner Fehler",
                "Die Seite kann gerade nicht angezeigt werden. Bitte versuchen Sie es später \
                 erneut.",
                "",
            )
        }
    }
}

/// `GET /vorgaenge/{id}`.
pub async fn page(
    session: UiSession,
    path: web::Path<i64>,
    query: web::Query<PageQuery>,
    db: web::Data<Database>,
    api: web::Data<ApiState>,
) -> HttpResponse {
    let session = session.into_inner();
    let notice = query.hinweis.as_deref().and_then(|h| match h {
        "gespeichert" => Some("Die Änderungen wurden gespeichert."),
        "unveraendert" => Some("Sie haben nichts geändert; es wurde nichts gespeichert."),
        "aktion" => Some("Die Aktion wurde ausgeführt."),
        "nachricht" => Some("Der Eingang der Nachricht ist vermerkt; der Vorgang geht weiter."),
        "angelegt" => Some("Der Vorgang wurde angelegt."),
        "hochgeladen" => Some("Das Dokument wurde hochgeladen."),
        "erneut-gesendet" => Some("Die Einladung wurde mit einem neuen Link erneut gesendet."),
        "stellungnahme-erfasst" => {
            Some("Die Stellungnahme wurde erfasst; die Stelle erhält eine Eingangsbestätigung.")
        }
        "frist-verlaengert" => {
            Some("Die Frist wurde verlängert; die Stelle erhält eine Mail mit dem neuen Fristende.")
        }
        "beteiligung-zurueckgenommen" => Some(
            "Die Beteiligung wurde zurückgenommen; die Stelle erhält eine Mail, dass keine Stellungnahme erforderlich ist.",
        ),
        "anliegen-abgelehnt" => Some(
            "Die Entscheidung ist vermerkt; die Stelle erhält eine Mail mit Ihrer Begründung und ihrer Frist.",
        ),
        "stelle-beteiligt" => Some(
            "Die Stelle wurde zur Beteiligung eingeladen; sie erhält die Einladung mit ihrem persönlichen Link.",
        ),
        "vermerk" => Some("Der Vermerk wurde in den Verlauf aufgenommen."),
        "korrigiert" => Some(
            "Der Bearbeitungsstand wurde korrigiert. Stellen, die noch um eine Stellungnahme gebeten waren, erhalten eine Mail, dass sie nicht mehr erforderlich ist.",
        ),
        "beendet" => Some(
            "Der Vorgang ist beendet. Stellen, die noch um eine Stellungnahme gebeten waren, erhalten eine Mail, dass sie nicht mehr erforderlich ist.",
        ),
        "wiedervorlage" => {
            Some("Die Wiedervorlage ist gesetzt; sie erscheint am Tag auf Ihrer Startseite.")
        }
        "wiedervorlage-erledigt" => Some("Die Wiedervorlage ist erledigt."),
        "zustaendigkeit" => Some("Die Zuständigkeit wurde gespeichert."),
        _ => None,
    });
    show(
        &db,
        &api,
        &session,
        CaseId(path.into_inner()),
        StatusCode::OK,
        Overrides {
            confirmation: notice.map(str::to_string),
            open_fields: query
                .offen
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .filter(|key| !key.is_empty())
                .map(str::to_string)
                .collect(),
            ..Overrides::default()
        },
    )
    .await
}

/// Loads and renders the case page with `status` and `overrides`.
pub async fn show(
    db: &Database,
    api: &web::Data<ApiState>,
    session: &Session,
    id: CaseId,
    status: StatusCode,
    overrides: Overrides,
) -> HttpResponse {
    let principal = session.principal().clone();
    let state = api.clone();
    let loaded = blocking(db, move |conn| load(conn, &state, &principal, id)).await;
    match loaded {
        Ok(loaded) => {
            let context = context(session, &loaded, overrides);
            render(api, status, "vorgang", &context)
        }
        Err(error) => service_error(api, session, error),
    }
}

/// `Montag, 01.09.2026`.
pub(super) fn date_de(date: chrono::NaiveDate) -> String {
    format!("{}, {}", mail::weekday_de(date), date.format("%d.%m.%Y"))
}

/// A stored UTC time as German wall-clock time.
pub(crate) fn time_de(at: NaiveDateTime) -> String {
    clock::berlin_time_de(Utc.from_utc_datetime(&at))
}

/// The case's status as staff read it (the outcome by its title).
pub(crate) fn status_de(
    definition: &crate::engine::definition::Definition,
    status: &str,
    outcome: Option<&str>,
) -> String {
    match (status, outcome) {
        ("running", _) => "In Bearbeitung".into(),
        ("new", _) => "Neu".into(),
        ("completed", Some(outcome)) => {
            format!("Abgeschlossen: {}", definition.outcome_title(outcome))
        }
        ("completed", None) => "Abgeschlossen".into(),
        ("withdrawn", Some(outcome)) => definition.outcome_title(outcome).to_string(),
        ("withdrawn", None) => "Zurückgezogen".into(),
        (other, _) => other.to_string(),
    }
}

/// An invitation's status in German.
pub(crate) fn status_invitation_de(status: &str) -> &str {
    match status {
        "open" => "offen",
        "answered" => "beantwortet",
        "expired" => "abgelaufen",
        "withdrawn" => "zurückgenommen",
        other => other,
    }
}

/// The reminders an invitation received, for the consultation matrix's „Stand“ column; nothing
/// while there were none.
fn reminders_de(sent: i32) -> Option<String> {
    match sent {
        ..=0 => None,
        1 => Some("1 Erinnerung versandt".to_owned()),
        n => Some(format!("{n} Erinnerungen versandt")),
    }
}

/// A file size as Germans write it (`1,5 MB`, `12 KB`).
pub(crate) fn size_de(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0)).replace('.', ",")
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

/// Label of every field by dotted path (`antragsteller.email` → „Antragsteller › E-Mail …“).
fn field_labels(definition: &crate::engine::definition::Definition) -> HashMap<String, String> {
    fn walk(
        fields: &indexmap::IndexMap<String, crate::engine::definition::Field>,
        path: &str,
        label: &str,
        out: &mut HashMap<String, String>,
    ) {
        for (key, field) in fields {
            let path = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            let label = if label.is_empty() {
                field.label.clone()
            } else {
                format!("{label} › {}", field.label)
            };
            if let Some(children) = &field.fields {
                walk(children, &path, &label, out);
            }
            out.insert(path, label);
        }
    }
    let mut out = HashMap::new();
    walk(&definition.data, "", "", &mut out);
    out
}

/// A refusal for the page: its text and links to the fields it is about.
fn reason(refusal: &Refusal, labels: &HashMap<String, String>) -> Value {
    let paths: Vec<&str> = match refusal {
        Refusal::MissingData { paths, .. } => paths.iter().map(String::as_str).collect(),
        Refusal::RuleViolated {
            path: Some(path), ..
        } => vec![path.as_str()],
        _ => Vec::new(),
    };
    json!({
        "text": refusal.message(),
        "felder": paths.iter().map(|p| json!({
            "id": form::field_id(&form::pointer_of_path(p)),
            "label": labels.get(*p).cloned().unwrap_or_else(|| p.to_string()),
        })).collect::<Vec<_>>(),
    })
}

fn title_of(definition: &crate::engine::definition::Definition, step: &str) -> String {
    definition.step_title(step).to_string()
}
