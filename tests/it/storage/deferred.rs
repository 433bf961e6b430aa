//! Deferred writes on PostgreSQL: one statement, all or nothing, prepared once per shape.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use vorgang::db::{DbConnection, DbError, Deferred, write_transaction};

use crate::support::{Backend, TestDatabase};

diesel::table! {
    deferred_probe (id) {
        id -> BigInt,
        note -> Text,
    }
}

fn insert(
    id: i64,
    note: &str,
) -> impl diesel::query_builder::QueryFragment<diesel::pg::Pg> + Send + 'static {
    diesel::insert_into(deferred_probe::table).values((
        deferred_probe::id.eq(id),
        deferred_probe::note.eq(note.to_string()),
    ))
}

fn notes(conn: &mut DbConnection) -> Vec<(i64, String)> {
    deferred_probe::table
        .order(deferred_probe::id)
        .load(conn)
        .unwrap()
}

fn probe_database() -> Option<(TestDatabase, DbConnection)> {
    if !crate::support::db::postgres_available() {
        return None;
    }
    let db = TestDatabase::migrated(Backend::Postgres);
    let mut conn = db.connection();
    conn.batch_execute("CREATE TABLE deferred_probe (id BIGINT PRIMARY KEY, note TEXT NOT NULL)")
        .unwrap();
    Some((db, conn))
}

#[test]
fn deferred_writes_are_one_statement_that_succeeds_or_fails_as_a_whole() {
    let Some((_db, mut conn)) = probe_database() else {
        return;
    };
    deferred_probe::table
        .count()
        .get_result::<i64>(&mut conn)
        .unwrap();
    diesel::insert_into(deferred_probe::table)
        .values((deferred_probe::id.eq(10), deferred_probe::note.eq("vorher")))
        .execute(&mut conn)
        .unwrap();

    // Outside any transaction: the third write's duplicate key fails the one statement, so the
    // first two, sent with it, are not written either.
    let mut deferred = Deferred::new();
    deferred.push(insert(1, "eins"));
    deferred.push(insert(2, "zwei"));
    deferred.push(insert(10, "doppelt"));
    let refused = deferred.flush(&mut conn);
    assert!(
        matches!(
            refused,
            Err(DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            )))
        ),
        "{refused:?}"
    );
    assert!(
        deferred.is_empty(),
        "a flush empties the batch, also when it fails"
    );
    assert_eq!(notes(&mut conn), [(10, "vorher".to_string())]);

    // Inserts and a counted update of an existing row: all written.
    let mut deferred = Deferred::new();
    deferred.push(insert(1, "eins"));
    deferred
        .push_counted(
            diesel::update(deferred_probe::table.find(10))
                .set(deferred_probe::note.eq("nachher"))
                .returning(diesel::dsl::sql::<diesel::sql_types::Integer>("1")),
            1,
        )
        .unwrap();
    deferred.push(insert(2, "zwei"));
    deferred.flush(&mut conn).unwrap();
    assert_eq!(
        notes(&mut conn),
        [
            (1, "eins".to_string()),
            (2, "zwei".to_string()),
            (10, "nachher".to_string())
        ]
    );

    // A counted write that misses its row fails the flush, and the transaction rolls back.
    let missed = write_transaction(&mut conn, |conn| {
        let mut deferred = Deferred::new();
        deferred.push(insert(3, "drei"));
        deferred.push_counted(
            diesel::update(deferred_probe::table.find(99))
                .set(deferred_probe::note.eq("niemand"))
                .returning(diesel::dsl::sql::<diesel::sql_types::Integer>("1")),
            1,
        )?;
        deferred.flush(conn)
    });
    assert!(missed.is_err());
    assert_eq!(notes(&mut conn).len(), 3);

    // Only one write per batch can be counted.
    let mut deferred = Deferred::new();
    let counted = || {
        diesel::update(deferred_probe::table.find(1))
            .set(deferred_probe::note.eq("x"))
            .returning(diesel::dsl::sql::<diesel::sql_types::Integer>("1"))
    };
    deferred.push_counted(counted(), 1).unwrap();
    assert!(deferred.push_counted(counted(), 1).is_err());
}

#[test]
fn deferred_writes_of_one_shape_are_prepared_once() {
    let Some((_db, mut conn)) = probe_database() else {
        return;
    };
    for id in [1, 3, 5] {
        let mut deferred = Deferred::new();
        deferred.push(insert(id, "a"));
        deferred.push(insert(id + 1, "b"));
        deferred.flush(&mut conn).unwrap();
    }
    assert_eq!(notes(&mut conn).len(), 6);
    let uses: Vec<i64> = crate::support::db::prepared_statements(&mut conn)
        .into_iter()
        .filter(|(statement, _)| {
            statement.starts_with(r#"WITH "w0" AS (INSERT INTO "deferred_probe""#)
        })
        .map(|(_, executions)| executions)
        .collect();
    assert_eq!(uses, [3]);
}
