//! Aussonderung: deleting a case once its retention period has run out, after the archive has
//! decided whether to take the file.
//!
//! Nothing in vorgang is deleted in the course of a case: documents are never overwritten and
//! the journal only grows. But personal data may not be kept longer than needed, and public
//! records must be offered to the responsible archive before they are destroyed. So an ended
//! case (completed or withdrawn) is kept until the end of the calendar year in which it ended
//! plus the years of its workflow's `retention_years`, or of the installation's setting of that
//! name where the workflow sets none (five by default, as for grant paperwork); from the next day
//! on it is listed as due. An administrator then records the archive's decision:
//! - `archived`: the archive takes the file. The exported case file (`GET /cases/{id}/export`)
//!   is what it takes, so the newest export must hold the whole journal.
//! - `declined`: the archive has declared the file not worth archiving.
//!
//! Either way the case is deleted in one transaction with everything that belongs to it:
//! journal, documents, consultations with their links and answers, timers, mails and
//! Wiedervorlagen. A record stays in `disposed_cases`: the Aktenzeichen, applicant, when the case
//! ended, the decision with the archive's reference, who deleted it and when, and the head of
//! its journal. Its id is never given to another case. Document files are removed after the
//! commit, each only if no other document has the same content.
//!
//! Backups taken before the deletion still hold the case until they are rotated away.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ServiceError;
use super::case_file::EXPORTED;
use super::case_removal;
use crate::db::models::{CaseId, DefinitionRow};
use crate::db::schema::{case_events, cases, disposed_cases, organisations, workflow_definitions};
use crate::db::{DbConnection, DbError, write_transaction};
use crate::designation::designation;
use crate::documents::DocumentStore;
use crate::engine::data::DataError;
use crate::engine::{Actor, Clock};

/// Years a case is kept after the end of the year in which it ended, unless configured
/// (`retention_years`): the usual period for grant paperwork.
pub const DEFAULT_RETENTION_YEARS: u32 = 5;

/// Longest archive reference, in characters.
pub const MAX_REFERENCE_CHARS: usize = 500;

/// Statuses of an ended case.
const ENDED: [&str; 2] = ["completed", "withdrawn"];

/// How long the cases of each workflow are kept: the newest version's `retention_years`, else
/// the installation's. Records managers set periods per kind of file; the newest version
/// speaks for the workflow, so a period changed by a new version applies to its older cases too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicy {
    default_years: u32,
    by_workflow: BTreeMap<String, u32>,
}

impl RetentionPolicy {
    /// The periods the newest versions of the deployed workflows set, `default_years` for the
    /// rest. Read from the stored definitions, without compiling them.
    pub fn load(conn: &mut DbConnection, default_years: u32) -> Result<Self, ServiceError> {
        let ids = DefinitionRow::latest_ids(conn)?;
        let stored: Vec<(String, String)> = workflow_definitions::table
            .filter(workflow_definitions::id.eq_any(ids))
            .select((workflow_definitions::key, workflow_definitions::definition))
            .load(conn)?;
        let mut by_workflow = BTreeMap::new();
        for (key, definition) in stored {
            let definition: serde_json::Value = serde_json::from_str(&definition).map_err(|e| {
                ServiceError::Db(DbError::Migration(format!(
                    "gespeicherte Workflow-Definition „{key}“ ist unlesbar: {e}"
                )))
            })?;
            if let Some(years) = own_period(&definition) {
                by_workflow.insert(key, years);
            }
        }
        Ok(Self {
            default_years,
            by_workflow,
        })
    }

    /// Years the cases of `workflow` are kept.
    pub fn years(&self, workflow: &str) -> u32 {
        self.by_workflow
            .get(workflow)
            .copied()
            .unwrap_or(self.default_years)
    }

    /// The installation's period, for workflows that set none.
    pub fn default_years(&self) -> u32 {
        self.default_years
    }

    /// The workflows with a period of their own, by key.
    pub fn by_workflow(&self) -> &BTreeMap<String, u32> {
        &self.by_workflow
    }

    /// Whether a case of `workflow` that ended at `ended_at` is no longer to be kept on `today`.
    fn is_due(&self, workflow: &str, ended_at: NaiveDateTime, today: NaiveDate) -> bool {
        ended_at < kept_from(today, self.years(workflow))
    }

    /// Only cases that ended before this can be due on `today`: the bound of the shortest
    /// period, for the database to filter by; [`Self::is_due`] decides for each case.
    fn candidates_before(&self, today: NaiveDate) -> NaiveDateTime {
        let shortest = self
            .by_workflow
            .values()
            .copied()
            .chain([self.default_years])
            .min()
            .unwrap_or(self.default_years);
        kept_from(today, shortest)
    }
}

/// The `retention_years` a stored definition (its JSON form) sets, if any.
pub fn own_period(definition: &serde_json::Value) -> Option<u32> {
    definition
        .get("retention_years")
        .and_then(serde_json::Value::as_u64)
        .map(|years| u32::try_from(years).unwrap_or(u32::MAX))
}

/// What the archive decided about a file offered to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The archive takes the file (the exported case file).
    Archived,
    /// The archive declared the file not worth archiving.
    Declined,
}

impl Decision {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Archived => "archived",
            Decision::Declined => "declined",
        }
    }

    /// The stored form read back; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "archived" => Some(Decision::Archived),
            "declined" => Some(Decision::Declined),
            _ => None,
        }
    }

    /// How the staff pages name it.
    pub fn label(self) -> &'static str {
        match self {
            Decision::Archived => "vom Archiv übernommen",
            Decision::Declined => "vom Archiv als nicht archivwürdig bewertet",
        }
    }
}

/// An ended case whose retention period has run out.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DueCase {
    /// The case's id.
    pub id: i64,
    pub aktenzeichen: String,
    /// Key of the workflow.
    pub workflow: String,
    /// Key of the applicant organisation (its AGS for a Kreis or kreisfreie Stadt).
    pub applicant: String,
    /// The applicant as written in text („Kreis Soest“, „Stadt Bielefeld“).
    pub applicant_name: String,
    /// `completed` or `withdrawn`.
    pub status: String,
    /// When the case ended (its last change).
    #[serde(serialize_with = "crate::utc::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub ended_at: NaiveDateTime,
    /// Years the case is kept after the end of the year it ended in (its workflow's period).
    pub retention_years: u32,
    /// Last day of the retention period.
    pub retention_until: NaiveDate,
    /// Whether the newest export of the case file holds its whole journal, i.e. what the
    /// archive would take is complete (required for the decision `archived`).
    pub exported: bool,
}

/// What is left of a deleted case.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DisposedCase {
    /// The case's former id.
    pub id: i64,
    pub aktenzeichen: String,
    /// Key of the workflow.
    pub workflow: String,
    /// Key of the applicant organisation.
    pub applicant: String,
    /// The applicant as written in text („Kreis Soest“, „Stadt Bielefeld“).
    pub applicant_name: String,
    /// `completed` or `withdrawn`, as the case ended.
    pub status: String,
    #[serde(serialize_with = "crate::utc::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::utc::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub ended_at: NaiveDateTime,
    /// Last day of the retention period.
    pub retention_until: NaiveDate,
    pub decision: Decision,
    /// The archive's reference or letter, as entered (may be empty).
    pub reference: String,
    /// Sequence number of the journal's newest entry when the case was deleted.
    pub journal_seq: i32,
    /// That entry's hash.
    pub journal_head: String,
    /// Documents deleted with the case.
    pub documents: i32,
    /// Who deleted the case.
    pub disposed_by: String,
    #[serde(serialize_with = "crate::utc::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub disposed_at: NaiveDateTime,
}

/// The last day a case that ended at `ended_at` (UTC) must be kept: 31 December of the year it
/// ended (in Germany) plus `years`.
pub fn retention_until(ended_at: NaiveDateTime, years: u32) -> NaiveDate {
    let year = super::clock::berlin_date(ended_at.and_utc()).year();
    let end_year = year.saturating_add(i32::try_from(years).unwrap_or(i32::MAX));
    NaiveDate::from_ymd_opt(end_year, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// The first instant (UTC) at which a case ending then would still be kept on `today`: midnight
/// in Germany at the start of the year `years` before `today`'s. Cases that ended before it
/// are due.
fn kept_from(today: NaiveDate, years: u32) -> NaiveDateTime {
    let year = today
        .year()
        .saturating_sub(i32::try_from(years).unwrap_or(i32::MAX));
    NaiveDate::from_ymd_opt(year, 1, 1)
        .and_then(|day| {
            chrono_tz::Europe::Berlin
                .from_local_datetime(&day.and_time(NaiveTime::MIN))
                .single()
        })
        .map_or(NaiveDateTime::MIN, |at| at.naive_utc())
}

/// Every ended case whose retention period was over before `today`, oldest end first.
pub fn due(
    conn: &mut DbConnection,
    today: NaiveDate,
    policy: &RetentionPolicy,
) -> Result<Vec<DueCase>, DbError> {
    due_among(conn, today, policy, i64::MIN, i64::MAX)
}

/// Case `id` if it is due (see [`due`]); `None` while it runs or is still kept, or when there is
/// no such case.
pub fn due_case(
    conn: &mut DbConnection,
    id: CaseId,
    today: NaiveDate,
    policy: &RetentionPolicy,
) -> Result<Option<DueCase>, DbError> {
    Ok(due_among(conn, today, policy, id.0, id.0)?.pop())
}

/// The due cases with ids from `first` to `last`.
fn due_among(
    conn: &mut DbConnection,
    today: NaiveDate,
    policy: &RetentionPolicy,
    first: i64,
    last: i64,
) -> Result<Vec<DueCase>, DbError> {
    type Row = (
        i64,
        String,
        String,
        String,
        String,
        String,
        String,
        NaiveDateTime,
    );
    let rows: Vec<Row> = cases::table
        .inner_join(organisations::table.on(organisations::id.eq(cases::applicant_id)))
        .filter(cases::id.between(first, last))
        .filter(cases::status.eq_any(ENDED))
        .filter(cases::updated_at.lt(policy.candidates_before(today)))
        .order((cases::updated_at, cases::id))
        .select((
            cases::id,
            cases::aktenzeichen,
            cases::workflow_key,
            organisations::key,
            organisations::name,
            organisations::kind,
            cases::status,
            cases::updated_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .filter(|(_, _, workflow, _, _, _, _, ended_at)| policy.is_due(workflow, *ended_at, today))
        .map(
            |(id, aktenzeichen, workflow, applicant, name, kind, status, ended_at)| {
                let years = policy.years(&workflow);
                Ok(DueCase {
                    exported: fully_exported(conn, id)?,
                    id,
                    aktenzeichen,
                    workflow,
                    applicant,
                    applicant_name: designation(&kind, &name).into_owned(),
                    status,
                    ended_at,
                    retention_years: years,
                    retention_until: retention_until(ended_at, years),
                })
            },
        )
        .collect()
}

/// How many ended cases are due (what [`due`] would list), for the administrators' start page.
pub fn count_due(
    conn: &mut DbConnection,
    today: NaiveDate,
    policy: &RetentionPolicy,
) -> Result<usize, DbError> {
    let candidates: Vec<(String, NaiveDateTime)> = cases::table
        .filter(cases::status.eq_any(ENDED))
        .filter(cases::updated_at.lt(policy.candidates_before(today)))
        .select((cases::workflow_key, cases::updated_at))
        .load(conn)?;
    Ok(candidates
        .iter()
        .filter(|(workflow, ended_at)| policy.is_due(workflow, *ended_at, today))
        .count())
}

/// Whether the newest export of case `id` holds every journal entry except the records of
/// exports themselves.
fn fully_exported(conn: &mut DbConnection, id: i64) -> Result<bool, DbError> {
    let newest_other: Option<i32> = case_events::table
        .filter(case_events::case_id.eq(id))
        .filter(case_events::kind.ne(EXPORTED))
        .select(diesel::dsl::max(case_events::seq))
        .first(conn)?;
    let exports: Vec<String> = case_events::table
        .filter(case_events::case_id.eq(id))
        .filter(case_events::kind.eq(EXPORTED))
        .select(case_events::payload)
        .load(conn)?;
    let exported = exports
        .iter()
        .filter_map(|payload| {
            serde_json::from_str::<serde_json::Value>(payload)
                .ok()?
                .get("journal_seq")?
                .as_i64()
        })
        .max();
    Ok(exported.is_some_and(|seq| seq >= i64::from(newest_other.unwrap_or(0))))
}

/// Every deleted case, most recently deleted first.
pub fn disposed(conn: &mut DbConnection) -> Result<Vec<DisposedCase>, DbError> {
    let rows: Vec<(DisposedRow, String, String, String)> = disposed_cases::table
        .inner_join(organisations::table.on(organisations::id.eq(disposed_cases::applicant_id)))
        .order((
            disposed_cases::disposed_at.desc(),
            disposed_cases::id.desc(),
        ))
        .select((
            DisposedRow::as_select(),
            organisations::key,
            organisations::name,
            organisations::kind,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(row, applicant, name, kind)| {
            row.into_view(applicant, designation(&kind, &name).into_owned())
        })
        .collect())
}

/// A row of `disposed_cases`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = disposed_cases)]
struct DisposedRow {
    id: i64,
    aktenzeichen: String,
    workflow_key: String,
    applicant_id: i64,
    status: String,
    created_at: NaiveDateTime,
    ended_at: NaiveDateTime,
    retention_until: NaiveDate,
    decision: String,
    reference: String,
    journal_seq: i32,
    journal_head: String,
    documents: i32,
    disposed_by: String,
    disposed_at: NaiveDateTime,
}

impl DisposedRow {
    fn into_view(self, applicant: String, applicant_name: String) -> DisposedCase {
        DisposedCase {
            id: self.id,
            aktenzeichen: self.aktenzeichen,
            workflow: self.workflow_key,
            applicant,
            applicant_name,
            status: self.status,
            created_at: self.created_at,
            ended_at: self.ended_at,
            retention_until: self.retention_until,
            // The column's CHECK admits only the two.
            decision: Decision::parse(&self.decision).unwrap_or(Decision::Declined),
            reference: self.reference,
            journal_seq: self.journal_seq,
            journal_head: self.journal_head,
            documents: self.documents,
            disposed_by: self.disposed_by,
            disposed_at: self.disposed_at,
        }
    }
}

/// The archive's decision about one case, as an administrator records it.
#[derive(Debug, Clone)]
pub struct Disposal {
    pub decision: Decision,
    /// The archive's reference or letter (may be empty).
    pub reference: String,
}

/// Deletes case `id` after the archive's decision, if its retention period is over (see the
/// module documentation), and returns what is left of it. Refused, changing nothing: a case
/// that has not ended or is still to be kept, `archived` without a complete export, a case with
/// mails still to be sent, a reference that is too long or holds control characters.
pub fn dispose(
    conn: &mut DbConnection,
    store: &DocumentStore,
    id: CaseId,
    disposal: &Disposal,
    actor: &Actor,
    clock: &Clock,
    policy: &RetentionPolicy,
) -> Result<DisposedCase, ServiceError> {
    let reference = checked_reference(&disposal.reference)?;
    let now = super::cases::db_time(clock);
    let (disposed, blobs) = write_transaction(conn, |conn| {
        let row = locked_case(conn, id)?;
        if !ENDED.contains(&row.status.as_str()) {
            return Err(ServiceError::Unprocessable(format!(
                "Der Vorgang {} ist nicht abgeschlossen; nur abgeschlossene oder \
                 zurückgenommene Vorgänge werden nach Ablauf der Aufbewahrungsfrist \
                 ausgesondert.",
                row.aktenzeichen
            )));
        }
        let until = retention_until(row.updated_at, policy.years(&row.workflow_key));
        if clock.today <= until {
            return Err(ServiceError::Unprocessable(format!(
                "Die Aufbewahrungsfrist des Vorgangs {} läuft noch bis zum {}.",
                row.aktenzeichen,
                until.format("%d.%m.%Y")
            )));
        }
        if disposal.decision == Decision::Archived && !fully_exported(conn, id.0)? {
            return Err(ServiceError::Unprocessable(format!(
                "Das Archiv übernimmt die exportierte Akte; exportieren Sie die Akte des \
                 Vorgangs {} vollständig (mit dem Journal bis zum letzten Eintrag), bevor Sie \
                 die Übernahme eintragen.",
                row.aktenzeichen
            )));
        }
        let (journal_seq, journal_head) = journal_head(conn, id.0, row.journal_seq)?;
        let unsent = case_removal::unsent_mails(conn, &[id.0])?;
        if unsent > 0 {
            return Err(ServiceError::Conflict(format!(
                "Zum Vorgang {} sind noch {unsent} Mails zu versenden; er kann erst \
                 ausgesondert werden, wenn sie versandt oder als fehlgeschlagen erledigt sind.",
                row.aktenzeichen
            )));
        }
        let deleted = case_removal::delete_rows(conn, &[id.0])?;
        let record = DisposedRow {
            id: id.0,
            aktenzeichen: row.aktenzeichen,
            workflow_key: row.workflow_key,
            applicant_id: row.applicant_id,
            status: row.status,
            created_at: row.created_at,
            ended_at: row.updated_at,
            retention_until: until,
            decision: disposal.decision.as_str().to_string(),
            reference: reference.clone(),
            journal_seq,
            journal_head,
            documents: i32::try_from(deleted.documents).unwrap_or(i32::MAX),
            disposed_by: actor.id.clone(),
            disposed_at: now,
        };
        diesel::insert_into(disposed_cases::table)
            .values(&record)
            .execute(conn)?;
        super::admin_log::record(
            conn,
            now,
            &actor.id,
            super::admin_log::CASE_DISPOSED,
            &record.aktenzeichen,
            &serde_json::json!({ "decision": record.decision }),
        )?;
        let (applicant, name, kind): (String, String, String) = organisations::table
            .find(record.applicant_id)
            .select((organisations::key, organisations::name, organisations::kind))
            .first(conn)?;
        let applicant_name = designation(&kind, &name).into_owned();
        Ok((record.into_view(applicant, applicant_name), deleted.blobs))
    })?;
    case_removal::release_blobs(conn, store, &blobs);
    tracing::info!(
        case = disposed.id,
        aktenzeichen = %disposed.aktenzeichen,
        decision = disposed.decision.as_str(),
        "case disposed after its retention period"
    );
    Ok(disposed)
}

/// The reference as stored (trimmed), or why it cannot be one.
fn checked_reference(text: &str) -> Result<String, ServiceError> {
    let text = text.trim();
    let message = if text.chars().count() > MAX_REFERENCE_CHARS {
        "Das Zeichen des Archivs ist zu lang (höchstens 500 Zeichen)."
    } else if text.chars().any(char::is_control) {
        "Das Zeichen des Archivs enthält Steuerzeichen; bitte geben Sie nur eine Zeile Text ein."
    } else {
        return Ok(text.to_string());
    };
    Err(ServiceError::InvalidInput(vec![DataError {
        pointer: "/reference".into(),
        message: message.into(),
    }]))
}

/// The columns of the case a disposal needs.
#[derive(Queryable, Selectable)]
#[diesel(table_name = cases)]
struct EndedCase {
    aktenzeichen: String,
    workflow_key: String,
    applicant_id: i64,
    status: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    journal_seq: i32,
}

/// Reads the case, locking its row on PostgreSQL (SQLite's write transaction holds the
/// database's write lock already), so no command changes it while it is deleted.
fn locked_case(conn: &mut DbConnection, id: CaseId) -> Result<EndedCase, ServiceError> {
    // Built per backend: `as_select` fixes the backend it is used with.
    macro_rules! query {
        () => {
            cases::table.find(id.0).select(EndedCase::as_select())
        };
    }
    let row = match conn {
        DbConnection::Pg(pg) => query!().for_update().first(pg).optional()?,
        DbConnection::Sqlite(sqlite) => query!().first(sqlite).optional()?,
    };
    row.ok_or_else(super::cases::not_found)
}

/// The journal's newest entry as the case row records it: its number and hash.
fn journal_head(conn: &mut DbConnection, id: i64, seq: i32) -> Result<(i32, String), ServiceError> {
    if seq == 0 {
        return Ok((0, crate::journal::GENESIS_HASH.to_string()));
    }
    let hash: Option<String> = case_events::table
        .filter(case_events::case_id.eq(id))
        .filter(case_events::seq.eq(seq))
        .select(case_events::hash)
        .first(conn)
        .optional()?;
    hash.map(|hash| (seq, hash)).ok_or_else(|| {
        ServiceError::Unprocessable(
            "Das Journal des Vorgangs ist unvollständig (der letzte verzeichnete Eintrag \
             fehlt); prüfen Sie es mit „vorgang audit verify“, bevor der Vorgang \
             ausgesondert wird."
                .into(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    }

    #[test]
    fn the_period_runs_to_the_end_of_the_year_the_case_ended_in_germany() {
        let until = |ended| retention_until(ended, 5);
        assert_eq!(
            until(at(2020, 5, 10, 9)),
            NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()
        );
        assert_eq!(
            until(at(2020, 1, 1, 0)),
            NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()
        );
        // 23:00 UTC on New Year's Eve is already the next year in Germany.
        assert_eq!(
            until(at(2020, 12, 31, 23)),
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
    }

    #[test]
    fn due_from_the_day_after_the_period() {
        // Kept from midnight of 1 January 2021 in Germany (23:00 UTC the day before) when the
        // question is asked in 2026 with five years.
        let from = kept_from(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(), 5);
        assert_eq!(from, at(2020, 12, 31, 23));
        let ended = at(2020, 12, 31, 22);
        assert!(ended < from);
        assert!(retention_until(ended, 5) < NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        let ended = at(2020, 12, 31, 23);
        assert!(ended >= from);
        assert_eq!(
            retention_until(ended, 5),
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
    }

    #[test]
    fn each_workflow_is_judged_by_its_own_period() {
        let policy = RetentionPolicy {
            default_years: 5,
            by_workflow: BTreeMap::from([("ki-betrieb".to_string(), 10), ("kurz".to_string(), 2)]),
        };
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let ended = at(2019, 3, 1, 10);
        assert_eq!(policy.years("ki-antrag"), 5);
        assert!(policy.is_due("ki-antrag", ended, today));
        assert_eq!(policy.years("ki-betrieb"), 10);
        assert!(!policy.is_due("ki-betrieb", ended, today));
        assert!(policy.is_due("ki-betrieb", at(2014, 3, 1, 10), today));
        // Two years: kept to the end of 2025, due in 2026; a case of 2024 is not.
        assert!(policy.is_due("kurz", at(2023, 12, 1, 10), today));
        assert!(!policy.is_due("kurz", at(2024, 1, 2, 10), today));
        // The database's bound is the shortest period's: nothing due is filtered out.
        assert_eq!(policy.candidates_before(today), kept_from(today, 2));
        let uniform = RetentionPolicy {
            default_years: 7,
            by_workflow: BTreeMap::new(),
        };
        assert_eq!(uniform.candidates_before(today), kept_from(today, 7));
    }

    #[test]
    fn references_are_checked() {
        assert_eq!(checked_reference("  Az. 12/2031 ").unwrap(), "Az. 12/2031");
        assert_eq!(checked_reference("").unwrap(), "");
        for bad in ["x".repeat(501), "a\nb".to_string()] {
            let Err(ServiceError::InvalidInput(errors)) = checked_reference(&bad) else {
                panic!("{bad:?} accepted");
            };
            assert_eq!(errors[0].pointer, "/reference");
        }
    }

    #[test]
    fn decisions_read_back() {
        for decision in [Decision::Archived, Decision::Declined] {
            assert_eq!(Decision::parse(decision.as_str()), Some(decision));
        }
        assert_eq!(Decision::parse("kept"), None);
    }
}
