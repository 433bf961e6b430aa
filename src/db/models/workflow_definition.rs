//! Deployed workflow versions: the source as uploaded and the parsed definition as JSON.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::case::DefinitionId;
use crate::db::schema::workflow_definitions;
use crate::db::{DbConnection, DbError};

/// A row of `workflow_definitions`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = workflow_definitions)]
pub struct DefinitionRow {
    pub id: DefinitionId,
    pub key: String,
    /// 1, 2, 3, … per key, in deployment order.
    pub version: i32,
    /// Content hash of the definition (the engine's version).
    pub hash: String,
    pub title: String,
    /// The YAML as deployed.
    pub source: String,
    /// The parsed definition as JSON.
    pub definition: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

/// A new version to store.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = workflow_definitions)]
pub struct NewDefinition<'a> {
    pub key: &'a str,
    pub version: i32,
    pub hash: &'a str,
    pub title: &'a str,
    pub source: &'a str,
    pub definition: &'a str,
    pub created_by: &'a str,
    pub created_at: NaiveDateTime,
}

impl DefinitionRow {
    /// The version with this id.
    pub fn find(conn: &mut DbConnection, id: DefinitionId) -> Result<Option<Self>, DbError> {
        Ok(workflow_definitions::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()?)
    }

    /// The version of `key` with this content hash, if it was deployed before.
    pub fn find_by_hash(
        conn: &mut DbConnection,
        key: &str,
        hash: &str,
    ) -> Result<Option<Self>, DbError> {
        Ok(workflow_definitions::table
            .filter(workflow_definitions::key.eq(key))
            .filter(workflow_definitions::hash.eq(hash))
            .select(Self::as_select())
            .first(conn)
            .optional()?)
    }

    /// The newest version of `key`.
    pub fn latest(conn: &mut DbConnection, key: &str) -> Result<Option<Self>, DbError> {
        Ok(workflow_definitions::table
            .filter(workflow_definitions::key.eq(key))
            .order(workflow_definitions::version.desc())
            .select(Self::as_select())
            .first(conn)
            .optional()?)
    }

    /// The id of version `version` of `key`, if deployed.
    pub fn id_of(
        conn: &mut DbConnection,
        key: &str,
        version: i32,
    ) -> Result<Option<DefinitionId>, DbError> {
        Ok(workflow_definitions::table
            .filter(workflow_definitions::key.eq(key))
            .filter(workflow_definitions::version.eq(version))
            .select(workflow_definitions::id)
            .first(conn)
            .optional()?)
    }

    /// The id of the newest version of `key`: reads no source or definition, which the
    /// registry has compiled and cached already for every version it has seen.
    pub fn latest_id(conn: &mut DbConnection, key: &str) -> Result<Option<DefinitionId>, DbError> {
        Ok(workflow_definitions::table
            .filter(workflow_definitions::key.eq(key))
            .order(workflow_definitions::version.desc())
            .select(workflow_definitions::id)
            .first(conn)
            .optional()?)
    }

    /// The id of the newest version of every key, ordered by key (see [`Self::latest_id`]).
    pub fn latest_ids(conn: &mut DbConnection) -> Result<Vec<DefinitionId>, DbError> {
        let rows: Vec<(String, DefinitionId)> = workflow_definitions::table
            .order((
                workflow_definitions::key,
                workflow_definitions::version.desc(),
            ))
            .select((workflow_definitions::key, workflow_definitions::id))
            .load(conn)?;
        let mut latest: Vec<(String, DefinitionId)> = Vec::new();
        for (key, id) in rows {
            if latest.last().is_none_or(|(last, _)| *last != key) {
                latest.push((key, id));
            }
        }
        Ok(latest.into_iter().map(|(_, id)| id).collect())
    }

    /// Every version of `key`, newest first (the version history of the admin pages).
    pub fn history(conn: &mut DbConnection, key: &str) -> Result<Vec<Self>, DbError> {
        Ok(workflow_definitions::table
            .filter(workflow_definitions::key.eq(key))
            .order(workflow_definitions::version.desc())
            .select(Self::as_select())
            .load(conn)?)
    }

    /// How many versions each key has, ordered by key.
    pub fn version_counts(conn: &mut DbConnection) -> Result<Vec<(String, i64)>, DbError> {
        Ok(workflow_definitions::table
            .group_by(workflow_definitions::key)
            .select((workflow_definitions::key, diesel::dsl::count_star()))
            .order(workflow_definitions::key)
            .load(conn)?)
    }

    /// The newest version of every workflow, ordered by key.
    pub fn all_latest(conn: &mut DbConnection) -> Result<Vec<Self>, DbError> {
        let rows: Vec<Self> = workflow_definitions::table
            .order((
                workflow_definitions::key,
                workflow_definitions::version.desc(),
            ))
            .select(Self::as_select())
            .load(conn)?;
        let mut latest: Vec<Self> = Vec::new();
        for row in rows {
            if latest.last().is_none_or(|last| last.key != row.key) {
                latest.push(row);
            }
        }
        Ok(latest)
    }
}

impl NewDefinition<'_> {
    /// Inserts the version and returns its id.
    pub fn insert(&self, conn: &mut DbConnection) -> Result<DefinitionId, DbError> {
        diesel::insert_into(workflow_definitions::table)
            .values(self)
            .execute(conn)?;
        Ok(workflow_definitions::table
            .filter(workflow_definitions::key.eq(self.key))
            .filter(workflow_definitions::version.eq(self.version))
            .select(workflow_definitions::id)
            .first(conn)?)
    }
}
