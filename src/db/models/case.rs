//! Cases (Vorgänge) as stored: the engine state as JSON plus the columns the lists filter on.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::id_newtype;
use super::organisation::OrganisationId;
use crate::db::schema::{cases, disposed_cases};
use crate::db::{DbConnection, DbError, reused};

id_newtype!(
    /// Primary key of `cases`.
    CaseId
);

id_newtype!(
    /// Primary key of `workflow_definitions`.
    DefinitionId
);

/// A row of `cases`, without `journal_seq`: the journal's anchor is written by the journal's
/// writers and read by `vorgang audit verify`, nothing else.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = cases)]
pub struct CaseRow {
    pub id: CaseId,
    pub aktenzeichen: String,
    pub definition_id: DefinitionId,
    pub workflow_key: String,
    pub applicant_id: OrganisationId,
    pub status: String,
    pub outcome: Option<String>,
    /// The engine's `Instance` as JSON.
    pub state: String,
    /// Optimistic-concurrency version, incremented by every change.
    pub version: i64,
    pub submitted_at: Option<NaiveDateTime>,
    /// Active steps as `,a,b,`.
    pub current_steps: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What is needed to insert a case.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = cases)]
pub struct NewCase<'a> {
    pub aktenzeichen: &'a str,
    pub definition_id: DefinitionId,
    pub workflow_key: &'a str,
    pub applicant_id: OrganisationId,
    pub status: &'a str,
    pub outcome: Option<&'a str>,
    pub state: &'a str,
    pub version: i64,
    pub submitted_at: Option<NaiveDateTime>,
    pub current_steps: &'a str,
    /// See `service::cases::stand_rank`.
    pub stand_rank: Option<i32>,
    /// See `service::next_deadline`.
    pub next_deadline: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// How many journal entries the case starts with (see `journal::verify`).
    pub journal_seq: i32,
}

impl CaseRow {
    /// The case with this id, if any.
    pub fn find(conn: &mut DbConnection, id: CaseId) -> Result<Option<Self>, DbError> {
        Ok(cases::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()?)
    }
}

/// A case as a command works on it: the row, the newest journal entry it chains onto, and the
/// applicant's functional mailbox (the contact every mail about the case names).
#[derive(Debug, Clone)]
pub struct CaseForCommand {
    pub row: CaseRow,
    /// Sequence number and hash of the newest journal entry, if the journal has one.
    pub newest_event: Option<(i32, String)>,
    pub applicant_mailbox: Option<String>,
}

/// The newest journal entry's sequence number and hash, and the applicant's mailbox, as columns
/// beside the case: one index lookup each, read in the statement that locks the case rather than
/// in two more round trips.
const NEWEST_SEQ: &str =
    "(SELECT e.seq FROM case_events e WHERE e.case_id = cases.id ORDER BY e.seq DESC LIMIT 1)";
const NEWEST_HASH: &str =
    "(SELECT e.hash FROM case_events e WHERE e.case_id = cases.id ORDER BY e.seq DESC LIMIT 1)";
const APPLICANT_MAILBOX: &str =
    "(SELECT o.mailbox FROM organisations o WHERE o.id = cases.applicant_id)";

impl CaseForCommand {
    /// Locks the row for the rest of the transaction on PostgreSQL (SQLite's IMMEDIATE
    /// transaction already excludes other writers) and reads what a command needs besides the
    /// row in the same statement.
    pub fn lock(conn: &mut DbConnection, id: CaseId) -> Result<Option<Self>, DbError> {
        Self::fetch(conn, id, true)
    }

    /// Reads the same without a lock, for a command that computes its outcome before it locks
    /// and writes only if the version read here still holds (`service::cases::apply`).
    pub fn read(conn: &mut DbConnection, id: CaseId) -> Result<Option<Self>, DbError> {
        Self::fetch(conn, id, false)
    }

    fn fetch(conn: &mut DbConnection, id: CaseId, lock: bool) -> Result<Option<Self>, DbError> {
        use diesel::dsl::sql;
        use diesel::sql_types::{Integer, Nullable, Text};
        macro_rules! query {
            () => {
                cases::table.find(id).select((
                    CaseRow::as_select(),
                    sql::<Nullable<Integer>>(NEWEST_SEQ),
                    sql::<Nullable<Text>>(NEWEST_HASH),
                    sql::<Nullable<Text>>(APPLICANT_MAILBOX),
                ))
            };
        }
        type Found = (CaseRow, Option<i32>, Option<String>, Option<String>);
        let found: Option<Found> = match conn {
            DbConnection::Pg(pg) if lock => {
                reused(query!().for_update()).get_result(pg).optional()?
            }
            DbConnection::Pg(pg) => reused(query!()).get_result(pg).optional()?,
            DbConnection::Sqlite(sqlite) => reused(query!()).get_result(sqlite).optional()?,
        };
        Ok(found.map(|(row, seq, hash, applicant_mailbox)| Self {
            row,
            newest_event: seq.zip(hash),
            applicant_mailbox,
        }))
    }
}

impl NewCase<'_> {
    /// The row this case will be once inserted with `id` (PostgreSQL draws the id beforehand,
    /// see `service::aktenzeichen::reserve`).
    pub fn row_with_id(&self, id: CaseId) -> CaseRow {
        CaseRow {
            id,
            aktenzeichen: self.aktenzeichen.to_string(),
            definition_id: self.definition_id,
            workflow_key: self.workflow_key.to_string(),
            applicant_id: self.applicant_id,
            status: self.status.to_string(),
            outcome: self.outcome.map(str::to_string),
            state: self.state.to_string(),
            version: self.version,
            submitted_at: self.submitted_at,
            current_steps: self.current_steps.to_string(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// Inserts the case and returns the stored row, from the INSERT itself (`RETURNING`).
    pub fn insert(&self, conn: &mut DbConnection) -> Result<CaseRow, DbError> {
        // Built per backend: the returned columns' types depend on it.
        macro_rules! insert {
            () => {
                reused(
                    diesel::insert_into(cases::table)
                        .values(self)
                        .returning(CaseRow::as_returning()),
                )
            };
        }
        Ok(match conn {
            DbConnection::Pg(pg) => insert!().get_result(pg)?,
            DbConnection::Sqlite(sqlite) => {
                // SQLite gives a new row the largest id plus one, so the id of the newest case,
                // once deleted after its retention period, would come back; the record of the
                // deleted case keeps it taken (PostgreSQL's sequence never repeats an id).
                // Both are the last entry of a primary key's index; the second is asked only
                // once some case has been disposed of.
                let disposed: Option<i64> = disposed_cases::table
                    .select(diesel::dsl::max(disposed_cases::id))
                    .first(sqlite)?;
                let newest = |sqlite: &mut diesel::SqliteConnection| {
                    cases::table
                        .select(diesel::dsl::max(cases::id))
                        .first::<Option<i64>>(sqlite)
                };
                match disposed {
                    Some(disposed) if disposed >= newest(sqlite)?.unwrap_or(0) => {
                        diesel::insert_into(cases::table)
                            .values((self, cases::id.eq(disposed + 1)))
                            .returning(CaseRow::as_returning())
                            .get_result(sqlite)?
                    }
                    _ => insert!().get_result(sqlite)?,
                }
            }
        })
    }
}
