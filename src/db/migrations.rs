//! Embedded migrations, one set per backend, applied at `serve` start and by `vorgang migrate`.

use diesel::RunQueryDsl;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{DbConnection, DbError};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Serialises migrations when several instances start against one PostgreSQL database at once.
const PG_MIGRATION_LOCK: i64 = 0x766f_7267_616e_6701;

fn migration_error(error: impl std::fmt::Display) -> DbError {
    DbError::Migration(error.to_string())
}

/// Applies every pending migration; returns the versions applied, oldest first.
pub fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c
            .run_pending_migrations(SQLITE)
            .map_err(migration_error)?
            .into_iter()
            .map(|v| v.to_string())
            .collect(),
        DbConnection::Pg(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({PG_MIGRATION_LOCK})"))
                .execute(c)?;
            let result = c
                .run_pending_migrations(POSTGRES)
                .map(|versions| versions.into_iter().map(|v| v.to_string()).collect())
                .map_err(migration_error);
            diesel::sql_query(format!("SELECT pg_advisory_unlock({PG_MIGRATION_LOCK})"))
                .execute(c)?;
            result?
        }
    };
    Ok(applied)
}

/// True when the database lacks a migration this binary knows (readiness depends on it).
pub fn has_pending(conn: &mut DbConnection) -> Result<bool, DbError> {
    match conn {
        DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE),
        DbConnection::Pg(c) => c.has_pending_migration(POSTGRES),
    }
    .map_err(migration_error)
}

/// Reverts every applied migration, newest first (used by the migration round-trip tests).
pub fn revert_all(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    let reverted = match conn {
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE),
        DbConnection::Pg(c) => c.revert_all_migrations(POSTGRES),
    }
    .map_err(migration_error)?;
    Ok(reverted.into_iter().map(|v| v.to_string()).collect())
}

/// Reverts the newest applied migration; returns its version (used by the tests of a
/// migration that rewrites a table with its rows in place).
pub fn revert_last(conn: &mut DbConnection) -> Result<String, DbError> {
    let reverted = match conn {
        DbConnection::Sqlite(c) => c.revert_last_migration(SQLITE),
        DbConnection::Pg(c) => c.revert_last_migration(POSTGRES),
    }
    .map_err(migration_error)?;
    Ok(reverted.to_string())
}

/// Every migration version this binary knows for the backend, oldest first: a database whose
/// newest applied version is not among them was written by a newer vorgang.
pub fn known_versions(postgres: bool) -> Result<Vec<String>, DbError> {
    use diesel::migration::MigrationSource;
    let names: Vec<String> = if postgres {
        MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES)
            .map_err(migration_error)?
            .iter()
            .map(|m| m.name().version().to_string())
            .collect()
    } else {
        MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE)
            .map_err(migration_error)?
            .iter()
            .map(|m| m.name().version().to_string())
            .collect()
    };
    Ok(names)
}

/// The newest migration version applied to the database, if any.
pub fn newest_applied(conn: &mut DbConnection) -> Result<Option<String>, DbError> {
    #[derive(diesel::QueryableByName)]
    struct Newest {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        version: Option<String>,
    }
    let row: Newest =
        diesel::sql_query("SELECT max(version) AS version FROM __diesel_schema_migrations")
            .get_result(conn)?;
    Ok(row.version)
}
