//! Cases (Vorgänge) as stored: the engine state as JSON plus the columns the lists filter on.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::id_newtype;
use super::organisation::OrganisationId;
use crate::db::schema::cases;
use crate::db::{DbConnection, DbError, reused};

id_newtype!(
    /// Primary key of `cases`.
    CaseId
);

id_newtype!(
    /// Primary key of `workflow_definitions`.
    DefinitionId
);

/// A row of `cases`.
#[derive(Debug, Clone, Queryable, Selectable)]
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
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
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

    /// The case by Aktenzeichen.
    pub fn find_by_aktenzeichen(
        conn: &mut DbConnection,
        aktenzeichen: &str,
    ) -> Result<Option<Self>, DbError> {
        Ok(cases::table
            .filter(cases::aktenzeichen.eq(aktenzeichen))
            .select(Self::as_select())
            .first(conn)
            .optional()?)
    }

    /// Locks the row for the rest of the transaction on PostgreSQL (SQLite's IMMEDIATE
    /// transaction already excludes other writers) and returns it.
    pub fn lock(conn: &mut DbConnection, id: CaseId) -> Result<Option<Self>, DbError> {
        match conn {
            DbConnection::Pg(pg) => Ok(cases::table
                .find(id)
                .select(Self::as_select())
                .for_update()
                .first(pg)
                .optional()?),
            DbConnection::Sqlite(_) => Self::find(conn, id),
        }
    }
}

impl NewCase<'_> {
    /// Inserts the case and returns the stored row. PostgreSQL returns it from the INSERT itself
    /// (one round trip instead of two); on SQLite, where a statement costs no round trip, it is
    /// read back by its unique Aktenzeichen.
    pub fn insert(&self, conn: &mut DbConnection) -> Result<CaseRow, DbError> {
        let insert = diesel::insert_into(cases::table).values(self);
        match conn {
            DbConnection::Pg(pg) => {
                Ok(reused(insert.returning(CaseRow::as_returning())).get_result(pg)?)
            }
            DbConnection::Sqlite(_) => {
                insert.execute(conn)?;
                Ok(CaseRow::find_by_aktenzeichen(conn, self.aktenzeichen)?
                    .ok_or(diesel::result::Error::NotFound)?)
            }
        }
    }
}
