//! The blind writes of a PostgreSQL transaction, sent together as one statement.
//!
//! A command writes a handful of rows to different tables: the case, its journal entries, its
//! timers, partner links and outbox rows. Sent one by one, each write costs a round trip and
//! PostgreSQL's fixed work per statement (bind, snapshot, executor start and end), a large
//! share of PostgreSQL's CPU per command, whose profile is flat. [`Deferred`] collects such
//! writes and [`Deferred::flush`] sends them as one statement of data-modifying CTEs:
//!
//! ```sql
//! WITH w0 AS (UPDATE cases … RETURNING 1), w1 AS (INSERT INTO case_events …), …
//! SELECT vorgang_expect_rows(count(*), 1) FROM w0
//! ```
//!
//! PostgreSQL runs every part once and to completion. The parts share one snapshot: none sees
//! what another wrote, and no row may be changed by two parts. Defer therefore only *blind*
//! writes, whose rows nothing else in the transaction reads or changes before the flush, and
//! flush before anything that might. An error of any part fails the statement, and the caller's
//! transaction rolls back as it would have for the single write.
//!
//! The counted write (the case update under optimistic concurrency) is checked by the statement
//! itself: `vorgang_expect_rows` (a migration) raises a serialization failure when the count is
//! wrong, which PostgreSQL raises before it runs the writes no part reads. So the statement
//! writes all or nothing also without a transaction around it, and a command whose writes all
//! fit into it needs none ([`is_guard_failure`] tells its refusal from other errors).
//!
//! SQLite has no data-modifying CTEs, and a statement there costs no round trip: [`defer_insert!`]
//! executes the write at once.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::BigInt;
use diesel::{QueryResult, RunQueryDsl};

use super::{DbConnection, DbError};

/// A write waiting for the flush.
type Write = Box<dyn QueryFragment<Pg> + Send>;

/// Blind writes of one transaction not sent yet (PostgreSQL only; see the module docs).
#[derive(Default)]
pub struct Deferred {
    writes: Vec<Write>,
    /// The write whose row count the flush checks, and the count it must have.
    counted: Option<(usize, i64)>,
}

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deferred")
            .field("writes", &self.writes.len())
            .field("counted", &self.counted)
            .finish()
    }
}

impl Deferred {
    /// Nothing deferred yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no write is waiting.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// Adds a write; it must own its values (they are sent at the flush).
    pub fn push(&mut self, write: impl QueryFragment<Pg> + Send + 'static) {
        self.writes.push(Box::new(write));
    }

    /// Adds a write with `RETURNING 1` that must write exactly `rows` rows, or the flush fails
    /// as a whole (and with it the transaction, if there is one). One per flush: the guard of an
    /// update under optimistic concurrency, which the other writes presuppose.
    pub fn push_counted(
        &mut self,
        write: impl QueryFragment<Pg> + Send + 'static,
        rows: i64,
    ) -> Result<(), DbError> {
        if self.counted.is_some() {
            return Err(DbError::Query(diesel::result::Error::QueryBuilderError(
                "nur ein gezählter Schreibvorgang je Sammelanweisung".into(),
            )));
        }
        self.counted = Some((self.writes.len(), rows));
        self.push(write);
        Ok(())
    }

    /// Sends the waiting writes as one statement and empties the batch. On SQLite there is
    /// never anything to send (its writes ran at once).
    pub fn flush(&mut self, conn: &mut DbConnection) -> Result<(), DbError> {
        if self.writes.is_empty() {
            return Ok(());
        }
        let chain = Chain {
            writes: std::mem::take(&mut self.writes),
            counted: self.counted.take(),
        };
        let DbConnection::Pg(pg) = conn else {
            return Err(DbError::Query(diesel::result::Error::QueryBuilderError(
                "aufgeschobene Schreibvorgänge gibt es nur für PostgreSQL".into(),
            )));
        };
        // The count is checked by the statement itself (see the module docs).
        let _written: i64 = chain.get_result(pg)?;
        Ok(())
    }
}

/// Whether `error` is the refusal of a flush whose counted write did not write the rows it had
/// to: under optimistic concurrency, the case changed since it was read.
pub fn is_guard_failure(error: &DbError) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    matches!(
        error,
        DbError::Query(Error::DatabaseError(DatabaseErrorKind::SerializationFailure, info))
            if info.constraint_name() == Some("vorgang_expect_rows")
    )
}

/// The statement a flush sends: every write as a CTE, then the counted write's row count.
struct Chain {
    writes: Vec<Write>,
    counted: Option<(usize, i64)>,
}

impl QueryFragment<Pg> for Chain {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        for (index, write) in self.writes.iter().enumerate() {
            out.push_sql(if index == 0 { "WITH " } else { ", " });
            out.push_identifier(&format!("w{index}"))?;
            out.push_sql(" AS (");
            write.walk_ast(out.reborrow())?;
            out.push_sql(")");
        }
        match &self.counted {
            Some((index, expected)) => {
                out.push_sql(" SELECT vorgang_expect_rows(count(*), ");
                out.push_bind_param::<BigInt, i64>(expected)?;
                out.push_sql(") FROM ");
                out.push_identifier(&format!("w{index}"))?;
            }
            None => out.push_sql(" SELECT CAST(0 AS BIGINT)"),
        }
        Ok(())
    }

    /// The text depends only on the shape of the writes (tables, columns, number of rows), of
    /// which a command has few, so the connection keeps each shape prepared; see `db::reused`.
    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

impl QueryId for Chain {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Chain {
    type SqlType = BigInt;
}

impl RunQueryDsl<diesel::pg::PgConnection> for Chain {}

/// Adds a multi-row INSERT of `rows` into `table` to `deferred` on PostgreSQL, or inserts them
/// at once on SQLite (row by row, see [`insert_rows!`]); evaluates to `Result<(), DbError>`.
/// The rows must own their values.
macro_rules! defer_insert {
    ($conn:expr, $deferred:expr, $table:expr, $rows:expr) => {{
        let rows = $rows;
        let conn: &mut $crate::db::DbConnection = &mut *$conn;
        if matches!(conn, $crate::db::DbConnection::Pg(_)) {
            $deferred.push(::diesel::insert_into($table).values(rows));
            Ok::<(), $crate::db::DbError>(())
        } else {
            $crate::db::insert_rows!(conn, $table, rows)
        }
    }};
}
pub(crate) use defer_insert;
