//! Keeping the commands' INSERTs and UPDATEs prepared per connection.
//!
//! Diesel prepares a statement once per connection and reuses it only when it can prove that
//! the SQL alone identifies the statement. It never does for UPDATEs, INSERTs with nullable
//! values on PostgreSQL, multi-row INSERTs or `sql_query`: their SQL may vary with the values.
//! PostgreSQL therefore parsed and planned every write of every command anew, and SQLite parsed
//! them inside its write lock, where every other writer waited. Yet the statement
//! cache is keyed by the SQL text *and* the bind types, so a statement whose text differs with
//! its values simply gets an entry of its own.
//!
//! [`reused`] marks a query as safe to keep; it takes effect where diesel receives the query by
//! value, i.e. when it is loaded (`get_result`, `load`, an INSERT … RETURNING). Diesel's
//! `execute` passes the query on by reference, and the reference asks the wrapped query itself,
//! which says no; [`execute_reused!`] therefore runs such a write as a load with `RETURNING 1`.
//! The cost is one cache entry per distinct text, which stays small where the variations are
//! few (a batch of a handful of rows, a fixed changeset). Use them only for such queries, never
//! for SQL assembled from unbounded input.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// A query the connection keeps prepared, keyed by its SQL text and bind types.
#[derive(Debug, Clone, Copy)]
pub struct Reused<Q>(Q);

/// Wraps `query` so that the connection prepares it once and reuses it (see the module docs).
pub fn reused<Q>(query: Q) -> Reused<Q> {
    Reused(query)
}

impl<Q, DB> QueryFragment<DB> for Reused<Q>
where
    Q: QueryFragment<DB>,
    DB: Backend,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for Reused<Q> {
    // No type-level identity: the cache falls back to the SQL text and the bind types.
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Reused<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> RunQueryDsl<Conn> for Reused<Q> {}

/// `RETURNING 1`: one row per row written, which the load-path writes count instead of
/// `execute`'s affected rows.
pub fn one_per_row() -> diesel::expression::SqlLiteral<diesel::sql_types::Integer> {
    diesel::dsl::sql("1")
}

/// `query.execute(conn)` for an UPDATE or a one-row INSERT that the connection keeps prepared;
/// evaluates to the number of rows written, as `execute` would. It is a load with `RETURNING 1`
/// (one row per row written) on both backends. Multi-row INSERTs go through [`insert_rows!`].
macro_rules! execute_reused {
    ($conn:expr, $query:expr) => {{
        let query = $query;
        match $conn {
            $crate::db::DbConnection::Pg(pg) => {
                $crate::db::reused(query.returning($crate::db::one_per_row()))
                    .load::<i32>(pg)
                    .map(|rows| rows.len())
            }
            $crate::db::DbConnection::Sqlite(sqlite) => {
                $crate::db::reused(query.returning($crate::db::one_per_row()))
                    .load::<i32>(sqlite)
                    .map(|rows| rows.len())
            }
        }
    }};
}
pub(crate) use execute_reused;

/// Inserts `rows` (a `Vec` of value tuples or insertable structs) into `table` with statements
/// the connection keeps prepared; evaluates to `Result<(), DbError>`.
///
/// PostgreSQL sends one multi-row INSERT, which saves round trips. SQLite has no round trip to
/// save but cannot keep a multi-row INSERT prepared (diesel builds it anew for SQLite's lack of
/// `DEFAULT` in `VALUES`), and parsing it again for every command, inside the write lock, cost
/// more than stepping one prepared single-row INSERT once per row. Several rows are therefore
/// all-or-nothing on SQLite only within a transaction, which every caller with more than one
/// row runs in.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let rows = $rows;
        match $conn {
            $crate::db::DbConnection::Pg(pg) => ::diesel::RunQueryDsl::load::<i32>(
                $crate::db::reused(
                    ::diesel::insert_into($table)
                        .values(rows)
                        .returning($crate::db::one_per_row()),
                ),
                pg,
            )
            .map(|_| ())
            .map_err($crate::db::DbError::from),
            $crate::db::DbConnection::Sqlite(sqlite) => rows
                .into_iter()
                .try_for_each(|row| {
                    ::diesel::RunQueryDsl::load::<i32>(
                        $crate::db::reused(
                            ::diesel::insert_into($table)
                                .values(row)
                                .returning($crate::db::one_per_row()),
                        ),
                        sqlite,
                    )
                    .map(|_| ())
                })
                .map_err($crate::db::DbError::from),
        }
    }};
}
pub(crate) use insert_rows;
