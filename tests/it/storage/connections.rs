//! Pooled connections are prepared for their backend; SQLite write transactions never fail busy.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use vorgang::db::{DbConnection, DbError, write_transaction};

use crate::support::{Backend, TestDatabase};

#[derive(QueryableByName)]
struct TextValue {
    #[diesel(sql_type = Text)]
    value: String,
}

#[derive(QueryableByName)]
struct NumberValue {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

fn pragma_text(conn: &mut DbConnection, pragma: &str) -> String {
    diesel::sql_query(format!("SELECT {pragma} AS value FROM pragma_{pragma}"))
        .get_result::<TextValue>(conn)
        .unwrap()
        .value
}

fn pragma_number(conn: &mut DbConnection, pragma: &str) -> i64 {
    // `busy_timeout` reports its value in a column named `timeout`.
    let column = if pragma == "busy_timeout" {
        "timeout"
    } else {
        pragma
    };
    diesel::sql_query(format!("SELECT {column} AS value FROM pragma_{pragma}"))
        .get_result::<NumberValue>(conn)
        .unwrap()
        .value
}

#[test]
fn every_pooled_sqlite_connection_gets_the_pragmas() {
    let db = TestDatabase::migrated(Backend::Sqlite);
    let pool = db.pool(4);
    // Hold several connections at once so the pool has to open more than one.
    let mut held: Vec<_> = (0..3).map(|_| pool.get().unwrap()).collect();
    for conn in held.iter_mut() {
        assert_eq!(pragma_text(conn, "journal_mode"), "wal");
        assert_eq!(pragma_number(conn, "foreign_keys"), 1);
        assert_eq!(pragma_number(conn, "busy_timeout"), 10_000);
        assert_eq!(pragma_number(conn, "synchronous"), 1, "NORMAL");
    }
}

#[test]
fn concurrent_sqlite_read_modify_write_transactions_neither_fail_nor_lose_updates() {
    let db = TestDatabase::migrated(Backend::Sqlite);
    let pool = db.pool(8);
    pool.get()
        .unwrap()
        .batch_execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n BIGINT NOT NULL); INSERT INTO counter VALUES (1, 0);")
        .unwrap();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                for _ in 0..25 {
                    let mut conn = pool.get().unwrap();
                    write_transaction(&mut conn, |conn| -> Result<(), DbError> {
                        let n = diesel::sql_query("SELECT n AS value FROM counter WHERE id = 1")
                            .get_result::<NumberValue>(conn)?
                            .value;
                        diesel::sql_query(format!("UPDATE counter SET n = {} WHERE id = 1", n + 1))
                            .execute(conn)?;
                        Ok(())
                    })
                    .expect("a busy database must not surface as an error");
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let n = diesel::sql_query("SELECT n AS value FROM counter WHERE id = 1")
        .get_result::<NumberValue>(&mut pool.get().unwrap())
        .unwrap()
        .value;
    assert_eq!(n, 200);
}

both_backends! {
    fn a_failed_write_transaction_changes_nothing(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let outcome = write_transaction(&mut conn, |conn| -> Result<(), DbError> {
            diesel::sql_query("UPDATE organisations SET name = 'geändert' WHERE key = '05154'")
                .execute(conn)?;
            Err(DbError::Migration("simulated failure".into()))
        });
        assert!(outcome.is_err());
        let name = diesel::sql_query("SELECT name AS value FROM organisations WHERE key = '05154'")
            .get_result::<TextValue>(&mut conn)
            .unwrap()
            .value;
        assert_eq!(name, "Kleve");
        // The connection is usable for the next transaction.
        write_transaction(&mut conn, |conn| -> Result<(), DbError> {
            diesel::sql_query("UPDATE organisations SET mailbox = 'ki@kreis-kleve.de' WHERE key = '05154'")
                .execute(conn)?;
            Ok(())
        })
        .unwrap();
    }
}

both_backends! {
    fn a_command_s_pool_opens_a_connection_only_when_asked_for_one(backend) {
        let db = TestDatabase::migrated(backend);
        let settle = || std::thread::sleep(std::time::Duration::from_millis(300));
        // The server keeps one in reserve, opened by the pool's own thread.
        let server = db.pool(4);
        settle();
        assert_eq!(server.connections(), 1);
        // A command's pool opens nothing by itself, so no connection is being set up on another
        // thread when the command exits.
        let command = vorgang::db::Database::connect_for_command(db.url.clone(), 4).unwrap();
        settle();
        assert_eq!(command.connections(), 0);
        let conn = command.get().unwrap();
        assert_eq!(command.connections(), 1);
        drop(conn);
        settle();
        assert_eq!(command.connections(), 1, "the one it opened, and no other");
    }
}
