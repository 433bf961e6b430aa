//! The periods of time windows (`windows` in a workflow, `within` on an action): entered by an
//! administrator, looked up for the engine before it judges an action bound to one.
//!
//! The KfI publishes its Antragszeitraum anew every year; shipping the dates in a workflow would
//! make every version stale within a year, so they are data. Entering and removing a period is
//! recorded in the administration's record. Periods of one window may not overlap, so "which
//! period is open today" has one answer.

use std::borrow::Cow;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::ServiceError;
use super::admin_log;
use super::mail::{self, Outgoing};
use super::workflows::WorkflowRegistry;
use crate::db::models::{DefinitionId, DefinitionRow, OrganisationId};
use crate::db::schema::{
    cases, organisations, time_windows, window_reminders, workflow_definitions,
};
use crate::db::{DbConnection, DbError, write_transaction};
use crate::designation::designation;
use crate::engine::data::DataError;
use crate::engine::definition::{Definition, Step};
use crate::engine::windows::reminder_due;
use crate::engine::{Clock, Instance, TimeWindows, WindowSpan};

/// The template of the mail that a period ends soon (`templates/mail/zeitraum_endet.*`).
pub const TEMPLATE: &str = "zeitraum_endet";

/// Longest label of a period, as the table's CHECK allows.
const LABEL_MAX: usize = 100;

/// A period of a window as stored, and as the API and the administration's page show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = time_windows)]
pub struct PeriodView {
    pub id: i64,
    /// Name des Zeitraums, wie ihn die Workflows deklarieren (`kfi_antrag`).
    pub name: String,
    /// Bezeichnung des Abschnitts, z. B. „Förderjahr 2027“.
    pub label: String,
    /// Erster Tag, an dem der Zeitraum läuft (`YYYY-MM-DD`).
    #[schema(value_type = String, format = Date)]
    pub opens_on: NaiveDate,
    /// Letzter Tag, an dem der Zeitraum läuft (`YYYY-MM-DD`).
    #[schema(value_type = String, format = Date)]
    pub closes_on: NaiveDate,
    /// Eingetragen am (UTC).
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "crate::utc::serialize")]
    pub created_at: NaiveDateTime,
    /// E-Mail-Adresse der Administratorin bzw. des Administrators, die bzw. der ihn eintrug.
    pub created_by: String,
}

/// A window as the workflows declare it, with its periods: one section of the page where the
/// administration maintains them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WindowView {
    /// Name des Zeitraums (`kfi_antrag`).
    pub name: String,
    /// Deutscher Titel aus der Workflow-Definition.
    pub title: String,
    /// Hilfetext aus der Workflow-Definition: wer die Zeiträume bekannt gibt.
    pub help: Option<String>,
    /// Wie lange vor dem letzten Tag eines laufenden Abschnitts die Stellen der Vorgänge, die
    /// an einer gebundenen Aktion stehen, erinnert werden (ISO 8601, z. B. `P4W`); ohne: keine
    /// Erinnerung.
    pub remind: Option<String>,
    /// Schlüssel der Workflows (neueste Versionen), die Aktionen an ihn binden.
    pub workflows: Vec<String>,
    /// Die eingetragenen Abschnitte, nach Beginn sortiert; keiner: Der Zeitraum wird nicht
    /// geprüft.
    pub periods: Vec<PeriodView>,
}

/// Body of `POST /time-windows`: every field is required.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPeriod {
    /// Name eines in einem Workflow deklarierten Zeitraums.
    #[serde(default)]
    #[schema(value_type = String, required = true, example = "kfi_antragszeitraum")]
    pub name: Option<String>,
    /// Bezeichnung, 1–100 Zeichen, z. B. „Förderjahr 2027“.
    #[serde(default)]
    #[schema(
        value_type = String,
        required = true,
        min_length = 1,
        max_length = 100,
        example = "Förderjahr 2027"
    )]
    pub label: Option<String>,
    /// Erster Tag (`YYYY-MM-DD`).
    #[serde(default)]
    #[schema(value_type = String, format = Date, required = true, example = "2026-04-17")]
    pub opens_on: Option<String>,
    /// Letzter Tag (`YYYY-MM-DD`), nicht vor dem ersten.
    #[serde(default)]
    #[schema(value_type = String, format = Date, required = true, example = "2026-10-31")]
    pub closes_on: Option<String>,
}

/// Every window the newest workflow versions declare, with its periods, ordered by name. Periods
/// of a window no workflow declares any more are listed too (under their name), so they can be
/// removed.
pub fn list(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
) -> Result<Vec<WindowView>, ServiceError> {
    let mut windows = declared(conn, registry)?;
    let rows: Vec<PeriodView> = time_windows::table
        .order((time_windows::name, time_windows::opens_on))
        .select(PeriodView::as_select())
        .load(conn)?;
    for row in rows {
        let at = match windows.iter().position(|w| w.name == row.name) {
            Some(at) => at,
            None => {
                windows.push(WindowView {
                    name: row.name.clone(),
                    title: row.name.clone(),
                    help: None,
                    remind: None,
                    workflows: Vec::new(),
                    periods: Vec::new(),
                });
                windows.len() - 1
            }
        };
        windows[at].periods.push(row);
    }
    windows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(windows)
}

/// The windows the newest version of each workflow declares, by name, each with the workflows
/// that declare it (the first declaration's title and help count).
fn declared(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
) -> Result<Vec<WindowView>, ServiceError> {
    let mut out: Vec<WindowView> = Vec::new();
    for id in DefinitionRow::latest_ids(conn)? {
        let deployed = registry.by_id(conn, id)?;
        for (name, window) in &deployed.definition().windows {
            match out.iter_mut().find(|w| &w.name == name) {
                Some(known) => known.workflows.push(deployed.key().to_string()),
                None => out.push(WindowView {
                    name: name.clone(),
                    title: window.title.clone(),
                    help: window.help.clone(),
                    remind: window.remind.map(|period| period.to_string()),
                    workflows: vec![deployed.key().to_string()],
                    periods: Vec::new(),
                }),
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Enters a period, recorded as done by `by` at `at`: every field error at once (422), and
/// nothing stored unless all is well.
pub fn add(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
    input: NewPeriod,
    by: &str,
    at: NaiveDateTime,
) -> Result<PeriodView, ServiceError> {
    let known = declared(conn, registry)?;
    let mut errors = Vec::new();
    let name = check_name(input.name.as_deref(), &known, &mut errors);
    let label = check_label(input.label.as_deref(), &mut errors);
    let opens_on = check_date(
        input.opens_on.as_deref(),
        "/opens_on",
        "ersten",
        &mut errors,
    );
    let closes_on = check_date(
        input.closes_on.as_deref(),
        "/closes_on",
        "letzten",
        &mut errors,
    );
    if let (Some(opens_on), Some(closes_on)) = (opens_on, closes_on)
        && closes_on < opens_on
    {
        errors.push(error(
            "/closes_on",
            "Der letzte Tag liegt vor dem ersten; beide Tage zählen zum Zeitraum.".into(),
        ));
    }
    let (Some(name), Some(label), Some(opens_on), Some(closes_on), true) =
        (name, label, opens_on, closes_on, errors.is_empty())
    else {
        return Err(ServiceError::InvalidInput(errors));
    };
    write_transaction(conn, |conn| {
        // Two administrators entering overlapping periods at once would both pass the check
        // below; on PostgreSQL the second waits here (SQLite's writers queue anyway).
        if let DbConnection::Pg(pg) = conn {
            diesel::sql_query("LOCK TABLE time_windows IN SHARE ROW EXCLUSIVE MODE").execute(pg)?;
        }
        let overlapping: Option<PeriodView> = time_windows::table
            .filter(time_windows::name.eq(name))
            .filter(time_windows::opens_on.le(closes_on))
            .filter(time_windows::closes_on.ge(opens_on))
            .select(PeriodView::as_select())
            .first(conn)
            .optional()?;
        if let Some(other) = overlapping {
            return Err(ServiceError::InvalidInput(vec![error(
                "/opens_on",
                format!(
                    "Dieser Zeitraum überschneidet sich mit dem eingetragenen Zeitraum „{}“ ({} bis {}).",
                    other.label,
                    german_date(other.opens_on),
                    german_date(other.closes_on)
                ),
            )]));
        }
        let id: i64 = diesel::insert_into(time_windows::table)
            .values((
                time_windows::name.eq(name),
                time_windows::label.eq(&label),
                time_windows::opens_on.eq(opens_on),
                time_windows::closes_on.eq(closes_on),
                time_windows::created_at.eq(at),
                time_windows::created_by.eq(by),
            ))
            .returning(time_windows::id)
            .get_result(conn)?;
        admin_log::record(
            conn,
            at,
            by,
            admin_log::TIME_WINDOW_ADDED,
            name,
            &json!({ "label": label, "opens_on": opens_on, "closes_on": closes_on }),
        )?;
        tracing::info!(window = name, %opens_on, %closes_on, "time window period entered");
        Ok(PeriodView {
            id,
            name: name.to_string(),
            label,
            opens_on,
            closes_on,
            created_at: at,
            created_by: by.to_string(),
        })
    })
}

/// Removes a period entered by mistake, recorded as done by `by` at `at`.
pub fn remove(
    conn: &mut DbConnection,
    id: i64,
    by: &str,
    at: NaiveDateTime,
) -> Result<(), ServiceError> {
    write_transaction(conn, |conn| {
        let row: PeriodView = time_windows::table
            .find(id)
            .select(PeriodView::as_select())
            .first(conn)
            .optional()?
            .ok_or_else(|| {
                ServiceError::NotFound(format!("Es gibt keinen eingetragenen Zeitraum {id}."))
            })?;
        // The reminders go with the period (also where SQLite leaves foreign keys unenforced).
        diesel::delete(window_reminders::table.filter(window_reminders::period_id.eq(id)))
            .execute(conn)?;
        diesel::delete(time_windows::table.find(id)).execute(conn)?;
        admin_log::record(
            conn,
            at,
            by,
            admin_log::TIME_WINDOW_REMOVED,
            &row.name,
            &json!({ "label": row.label, "opens_on": row.opens_on, "closes_on": row.closes_on }),
        )?;
        tracing::info!(window = row.name, id, "time window period removed");
        Ok(())
    })
}

/// `clock` with the periods of the windows the actions at the case's active steps are bound
/// to, for the engine; the clock itself (no lookup) when they are bound to none.
pub fn clock_for<'c>(
    conn: &mut DbConnection,
    definition: &Definition,
    instance: &Instance,
    clock: &'c Clock,
) -> Result<Cow<'c, Clock>, DbError> {
    PeriodLookup::default().clock_for(conn, definition, instance, clock)
}

/// [`clock_for`] for a request that judges many cases (a page of the case list): the periods
/// are read once, at the first case bound to a window, however many follow.
#[derive(Debug, Default)]
pub struct PeriodLookup {
    rows: Option<Vec<PeriodView>>,
}

impl PeriodLookup {
    /// See [`clock_for`].
    pub fn clock_for<'c>(
        &mut self,
        conn: &mut DbConnection,
        definition: &Definition,
        instance: &Instance,
        clock: &'c Clock,
    ) -> Result<Cow<'c, Clock>, DbError> {
        let mut names: Vec<&str> = instance
            .active_steps()
            .flat_map(|token| definition.windows_of_step(&token.step))
            .collect();
        if names.is_empty() {
            return Ok(Cow::Borrowed(clock));
        }
        names.sort_unstable();
        names.dedup();
        let rows = match &mut self.rows {
            Some(rows) => rows,
            // The table holds a few periods per window and year: all of them, once.
            empty => empty.insert(
                time_windows::table
                    .select(PeriodView::as_select())
                    .load(conn)?,
            ),
        };
        let mut windows = TimeWindows::default();
        for name in names {
            let spans = rows
                .iter()
                .filter(|row| row.name == name)
                .map(|row| WindowSpan {
                    label: row.label.clone(),
                    opens_on: row.opens_on,
                    closes_on: row.closes_on,
                })
                .collect();
            windows.insert(name, spans);
        }
        Ok(Cow::Owned(Clock {
            windows,
            ..clock.clone()
        }))
    }
}

/// A running case at a step with an action bound to a window: whom the end of a period
/// concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub case_id: i64,
    pub aktenzeichen: String,
    pub workflow_key: String,
    pub definition_id: DefinitionId,
    pub applicant_id: OrganisationId,
    /// The applicant as people read it („Kreis Soest“).
    pub applicant_name: String,
    /// Whether the case has reached the approving authority (for permission checks).
    pub submitted: bool,
    /// The step, and the title of its action bound to the window.
    pub step: String,
    pub action: String,
}

/// A waiting case as read: id, Aktenzeichen, applicant (id, kind, name), submitted.
type WaitingRow = (i64, String, OrganisationId, (String, String), bool);

/// The running cases (of `applicant`, or all) waiting at a step with an action bound to
/// `window`, on every deployed version (each by its own version's steps), ordered by id. The
/// versions come from the few deployed definitions, not from the cases; the cases of one are
/// found by workflow and status (indexed) and the step.
pub fn waiting_at(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
    window: &str,
    applicant: Option<OrganisationId>,
) -> Result<Vec<Waiting>, ServiceError> {
    let versions: Vec<DefinitionId> = workflow_definitions::table
        .select(workflow_definitions::id)
        .order(workflow_definitions::id)
        .load(conn)?;
    let mut out = Vec::new();
    for version in versions {
        let deployed = registry.by_id(conn, version)?;
        for (step, action) in bound_actions(deployed.definition(), window) {
            let mut query = cases::table
                .inner_join(organisations::table)
                .filter(cases::workflow_key.eq(deployed.key()))
                .filter(cases::status.eq("running"))
                .filter(cases::definition_id.eq(version))
                .filter(cases::current_steps.like(format!("%,{step},%")))
                .select((
                    cases::id,
                    cases::aktenzeichen,
                    cases::applicant_id,
                    (organisations::kind, organisations::name),
                    cases::submitted_at.is_not_null(),
                ))
                .into_boxed();
            if let Some(applicant) = applicant {
                query = query.filter(cases::applicant_id.eq(applicant));
            }
            let rows: Vec<WaitingRow> = query.load(conn)?;
            out.extend(rows.into_iter().map(
                |(case_id, aktenzeichen, applicant_id, (kind, name), submitted)| Waiting {
                    case_id,
                    aktenzeichen,
                    workflow_key: deployed.key().to_string(),
                    definition_id: version,
                    applicant_id,
                    applicant_name: designation(&kind, &name).into_owned(),
                    submitted,
                    step: step.to_string(),
                    action: action.to_string(),
                },
            ));
        }
    }
    out.sort_by_key(|waiting| waiting.case_id);
    Ok(out)
}

/// The periods whose last day lies between `from` and `to` (both included), by their end.
pub fn ending_between(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<PeriodView>, ServiceError> {
    Ok(time_windows::table
        .filter(time_windows::closes_on.ge(from))
        .filter(time_windows::closes_on.le(to))
        .order((time_windows::closes_on, time_windows::name))
        .select(PeriodView::as_select())
        .load(conn)?)
}

/// Mails the coordinating office of every running case waiting at an action bound to a window
/// whose open period ends within the window's `remind`, once per period and case: the mark and
/// the mail are written in one transaction, and a mark another run wrote first skips the case.
/// Each case counts by its own version's declaration. Returns the mails queued.
pub fn mail_closing(
    conn: &mut DbConnection,
    registry: &WorkflowRegistry,
    out: &Outgoing,
    clock: &Clock,
) -> Result<usize, ServiceError> {
    let today = clock.today;
    let open: Vec<PeriodView> = time_windows::table
        .filter(time_windows::opens_on.le(today))
        .filter(time_windows::closes_on.ge(today))
        .select(PeriodView::as_select())
        .load(conn)?;
    let base = out.public_url.as_str().trim_end_matches('/').to_string();
    let mut mails = 0;
    for period in &open {
        let reminded: Vec<i64> = window_reminders::table
            .filter(window_reminders::period_id.eq(period.id))
            .select(window_reminders::case_id)
            .load(conn)?;
        for waiting in waiting_at(conn, registry, &period.name, None)? {
            if reminded.contains(&waiting.case_id) {
                continue;
            }
            let deployed = registry.by_id(conn, waiting.definition_id)?;
            let definition = deployed.definition();
            let Some(window) = definition.windows.get(&period.name) else {
                continue;
            };
            let due = window
                .remind
                .and_then(|before| reminder_due(period.closes_on, before));
            if due.is_none_or(|due| due > today) {
                continue;
            }
            let context = serde_json::json!({
                "aktenzeichen": waiting.aktenzeichen,
                "verfahren": definition.title,
                "zeitraum": window.title,
                "abschnitt": period.label,
                "ende": {
                    "datum": period.closes_on.format("%d.%m.%Y").to_string(),
                    "wochentag": mail::weekday_de(period.closes_on),
                },
                "schritt": definition.step_title(&waiting.step),
                "aktion": waiting.action,
                "link": format!("{base}/vorgaenge/{}", waiting.case_id),
            });
            let at = clock.now.naive_utc();
            let sent = write_transaction(conn, |conn| {
                diesel::insert_into(window_reminders::table)
                    .values((
                        window_reminders::period_id.eq(period.id),
                        window_reminders::case_id.eq(waiting.case_id),
                        window_reminders::sent_at.eq(at),
                    ))
                    .execute(conn)?;
                let to = mail::office_addresses(conn, waiting.applicant_id)?;
                mail::queue_with(
                    conn,
                    out,
                    mail::Envelope {
                        case: Some(waiting.case_id),
                        invitation: None,
                        template: TEMPLATE,
                        recipients: serde_json::json!({ "kind": "applicant" }),
                        to,
                    },
                    &context,
                    &context,
                    at,
                )
            });
            match sent {
                Ok(()) => {
                    mails += 1;
                    tracing::info!(
                        case = waiting.case_id,
                        window = period.name,
                        "office reminded that a period ends"
                    );
                }
                // Another run reminded this office meanwhile (`vorgang jobs run` beside the
                // scheduler): its mail stands, this one is not written.
                Err(ServiceError::Db(DbError::Query(DieselError::DatabaseError(
                    DatabaseErrorKind::UniqueViolation,
                    _,
                )))) => {}
                Err(other) => return Err(other),
            }
        }
    }
    Ok(mails)
}

/// The steps with an action bound to `window`, each with that action's title (the first, where
/// a step binds several).
fn bound_actions<'d>(definition: &'d Definition, window: &str) -> Vec<(&'d str, &'d str)> {
    definition
        .steps
        .iter()
        .filter_map(|(name, step)| match step {
            Step::Task(task) => task
                .actions
                .values()
                .find(|action| action.within.as_deref() == Some(window))
                .map(|action| (name.as_str(), action.title.as_str())),
            _ => None,
        })
        .collect()
}

/// The reminder with sample values (see [`crate::render::SampleMail`]): a template missing a
/// variable stops the start.
pub fn sample_mails() -> Vec<crate::render::SampleMail> {
    let context = serde_json::json!({
        "aktenzeichen": "KI-05974-2026-0001",
        "verfahren": "Antrag auf Einrichtung eines Kommunalen Integrationszentrums",
        "zeitraum": "Antragszeitraum des Kompetenzzentrums für Integration",
        "abschnitt": "Förderjahr 2027",
        "ende": { "datum": "31.10.2026", "wochentag": "Samstag" },
        "schritt": "Antrag einreichen",
        "aktion": "Antrag einreichen",
        "link": "https://vorgang.example/vorgaenge/1",
    });
    vec![crate::render::SampleMail::new(TEMPLATE, context)]
}

fn check_name<'k>(
    name: Option<&str>,
    known: &'k [WindowView],
    errors: &mut Vec<DataError>,
) -> Option<&'k str> {
    let name = name.map(str::trim).unwrap_or_default();
    if name.is_empty() {
        errors.push(error("/name", "Bitte wählen Sie den Zeitraum.".into()));
        return None;
    }
    let found = known.iter().find(|w| w.name == name);
    if found.is_none() {
        let names: Vec<&str> = known.iter().map(|w| w.name.as_str()).collect();
        let hint = if names.is_empty() {
            "kein Workflow deklariert einen".to_string()
        } else {
            format!("deklariert: {}", names.join(", "))
        };
        errors.push(error(
            "/name",
            format!("Den Zeitraum „{name}“ deklariert kein Workflow ({hint})."),
        ));
    }
    found.map(|w| w.name.as_str())
}

fn check_label(label: Option<&str>, errors: &mut Vec<DataError>) -> Option<String> {
    let label = label.map(str::trim).unwrap_or_default();
    if label.is_empty() {
        errors.push(error(
            "/label",
            "Bitte geben Sie eine Bezeichnung an, z. B. „Förderjahr 2027“.".into(),
        ));
        None
    } else if label.chars().count() > LABEL_MAX {
        errors.push(error(
            "/label",
            format!("Die Bezeichnung ist länger als {LABEL_MAX} Zeichen."),
        ));
        None
    } else {
        Some(label.to_string())
    }
}

/// A date of the form; `which` says which day in the message („ersten“, „letzten“).
fn check_date(
    value: Option<&str>,
    pointer: &str,
    which: &str,
    errors: &mut Vec<DataError>,
) -> Option<NaiveDate> {
    let value = value.map(str::trim).unwrap_or_default();
    if value.is_empty() {
        errors.push(error(
            pointer,
            format!("Bitte geben Sie den {which} Tag an."),
        ));
        return None;
    }
    let parsed = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok();
    if parsed.is_none() {
        errors.push(error(
            pointer,
            format!("„{value}“ ist kein Datum im Format JJJJ-MM-TT."),
        ));
    }
    parsed
}

fn error(pointer: &str, message: String) -> DataError {
    DataError {
        pointer: pointer.into(),
        message,
    }
}

/// `31.10.2026`.
fn german_date(date: NaiveDate) -> String {
    date.format("%d.%m.%Y").to_string()
}
