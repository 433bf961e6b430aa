//! Moving an installation to the other backend: every row of one vorgang database copied into a
//! new, empty database of either kind. The usual case is a trial on the embedded SQLite that
//! becomes production on PostgreSQL; the other direction gives a copy to examine on a laptop.
//!
//! Both sides are read from their catalogs (tables, columns, foreign keys), so a table that a
//! later migration adds is copied without a change here, and a table one side lacks stops the
//! copy before anything is written. Rows travel as JSON objects, which both backends build and
//! take apart natively; only timestamps are rewritten on the way into SQLite, in the very text
//! diesel writes there, because SQLite compares them as text (a `UNIQUE` run slot of a job would
//! otherwise not recognise the same instant written differently).
//!
//! The copy is all or nothing. PostgreSQL takes the migrations and the rows in one transaction;
//! a new SQLite file is written under a temporary name and appears under its own only when it is
//! complete and synced. The source is read in one snapshot, so it may stay in use meanwhile
//! (changes after the snapshot are not copied: stop the server first for a move).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl};

use super::{
    ConnectionFactory, DatabaseUrl, DbConnection, DbError, ExistingDbError, migrations,
    open_existing, read_snapshot, write_transaction,
};

/// Rows read and written per statement: large enough to keep round trips few, small enough
/// that a batch of cases with their engine state stays a few megabytes.
const BATCH: i64 = 500;

/// The migrations' bookkeeping table: each side keeps its own.
const MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";

/// How many rows of one table were copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRows {
    /// The table.
    pub table: String,
    /// Its rows, in the source and now in the target.
    pub rows: i64,
}

/// Why a transfer did not happen; in every case the target is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The source's address is no database URL, or no vorgang database of this version is
    /// there.
    #[error("Quelle: {0}")]
    Source(String),
    /// The configured SQLite file exists; a transfer never writes into it.
    #[error(
        "Ziel: die Datenbankdatei {0} existiert bereits; die Übertragung überschreibt nichts (bitte einen neuen Dateinamen angeben oder die Datei beiseitelegen)"
    )]
    TargetFileExists(String),
    /// The target PostgreSQL database has tables already.
    #[error(
        "Ziel: {0} ist nicht leer; die Übertragung überschreibt nichts (bitte eine neue, leere Datenbank angeben)"
    )]
    TargetNotEmpty(String),
    /// Source and target do not have the same tables and columns.
    #[error("Quelle und Ziel passen nicht zusammen: {0}; nichts übertragen")]
    Mismatch(String),
    /// A table holds another number of rows after the copy than in the source.
    #[error(
        "Tabelle {table}: {written} Zeilen übertragen, die Quelle hat {expected}; nichts übertragen"
    )]
    Count {
        /// The table.
        table: String,
        /// Rows in the target.
        written: i64,
        /// Rows in the source.
        expected: i64,
    },
    /// The new SQLite file could not be written or put in place.
    #[error("Ziel: Datenbankdatei {path} nicht anlegbar: {reason}")]
    File {
        /// The configured file.
        path: String,
        /// The operating system's reason.
        reason: String,
    },
    /// A statement failed on either side.
    #[error("Datenbank: {0}")]
    Database(#[from] DbError),
}

impl From<diesel::result::Error> for TransferError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(DbError::Query(error))
    }
}

/// What stands in the way of a database that is to receive a whole installation (by a
/// transfer or a restore): both write only into a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Occupied {
    /// The SQLite file exists (its path).
    File(String),
    /// The PostgreSQL database has tables (its URL without password).
    Tables(String),
}

/// Whether `url` names a new database: an SQLite file that does not exist, or a PostgreSQL
/// database without tables, sequences or views.
pub fn occupied(url: &DatabaseUrl) -> Result<Option<Occupied>, DbError> {
    Ok(match url {
        DatabaseUrl::Sqlite(path) if path.symlink_metadata().is_ok() => {
            Some(Occupied::File(path.display().to_string()))
        }
        DatabaseUrl::Sqlite(_) => None,
        DatabaseUrl::Postgres(_) => {
            let mut conn = ConnectionFactory::new(url.clone()).open()?;
            (!is_empty_postgres(&mut conn)?).then(|| Occupied::Tables(url.redacted()))
        }
    })
}

/// Opens the database a transfer reads: it must exist (an SQLite file is never created) and be
/// migrated by this version.
pub fn open_source(url: &DatabaseUrl) -> Result<DbConnection, TransferError> {
    open_existing(url).map_err(|error| match error {
        ExistingDbError::Unreachable(e) => TransferError::Source(e.to_string()),
        ExistingDbError::NotMigrated(url) => TransferError::Source(format!(
            "Datenbank {url} ist nicht auf dem aktuellen Stand; bitte zuerst mit ihr als database_url „vorgang migrate“ ausführen"
        )),
    })
}

/// Copies every row of the vorgang database `source` (migrated by this version, left unchanged)
/// into the new database at `target`: an SQLite file that does not exist yet, or an empty
/// PostgreSQL database. The target is migrated first; the rows its migrations seed are replaced
/// by the source's. `copied` hears of each table as it is done (a large installation takes
/// minutes), before the whole commits.
pub fn transfer(
    source: &mut DbConnection,
    target: &DatabaseUrl,
    copied: &mut dyn FnMut(&TableRows),
) -> Result<Vec<TableRows>, TransferError> {
    match occupied(target)? {
        Some(Occupied::File(path)) => return Err(TransferError::TargetFileExists(path)),
        Some(Occupied::Tables(url)) => return Err(TransferError::TargetNotEmpty(url)),
        None => {}
    }
    match target {
        DatabaseUrl::Postgres(_) => {
            let mut conn = ConnectionFactory::new(target.clone()).open()?;
            // DDL is transactional on PostgreSQL: a failed copy leaves the database empty.
            read_snapshot(source, |src| {
                conn.transaction(|tgt| {
                    migrations::run_pending(tgt)?;
                    copy_rows(src, tgt, copied)
                })
            })
        }
        DatabaseUrl::Sqlite(path) => into_new_sqlite(source, path, copied),
    }
}

/// Writes the copy into a temporary file beside `path` and links it to `path` when complete,
/// never replacing a file that appeared meanwhile.
fn into_new_sqlite(
    source: &mut DbConnection,
    path: &Path,
    copied: &mut dyn FnMut(&TableRows),
) -> Result<Vec<TableRows>, TransferError> {
    let failed = |e: std::io::Error| TransferError::File {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => dir.to_path_buf(),
        None => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(failed)?;
    let temp = dir.join(format!(
        ".vorgang-uebertragung.{}.tmp",
        uuid::Uuid::new_v4().simple()
    ));
    #[derive(QueryableByName)]
    struct JournalMode {
        #[diesel(sql_type = Text)]
        journal_mode: String,
    }
    let outcome: Result<Vec<TableRows>, TransferError> = (|| {
        let mut conn = ConnectionFactory::new(DatabaseUrl::Sqlite(temp.clone())).open()?;
        migrations::run_pending(&mut conn)?;
        let rows = read_snapshot(source, |src| {
            write_transaction(&mut conn, |tgt| copy_rows(src, tgt, copied))
        })?;
        // The file must hold everything by itself before it gets its name: leaving WAL mode
        // checkpoints the WAL into it and removes it (the server turns WAL on again).
        let mode: JournalMode =
            diesel::sql_query("PRAGMA journal_mode = DELETE").get_result(&mut conn)?;
        if !mode.journal_mode.eq_ignore_ascii_case("delete") {
            return Err(TransferError::File {
                path: path.display().to_string(),
                reason: format!("Journalmodus bleibt {}", mode.journal_mode),
            });
        }
        drop(conn);
        std::fs::File::open(&temp)
            .and_then(|f| f.sync_all())
            .and_then(|()| std::fs::hard_link(&temp, path))
            .map_err(failed)?;
        crate::durable_fs::sync_dir(&dir).map_err(failed)?;
        Ok(rows)
    })();
    for leftover in ["", "-wal", "-shm"] {
        let mut name = temp.clone().into_os_string();
        name.push(leftover);
        let _ = std::fs::remove_file(name);
    }
    outcome
}

/// How many other sessions are connected to the PostgreSQL database of `conn` (a server still at
/// work there, whose changes after the transfer's snapshot would not move along).
pub fn other_sessions(conn: &mut DbConnection) -> Result<i64, DbError> {
    #[derive(QueryableByName)]
    struct Sessions {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let found: Sessions = diesel::sql_query(
        "SELECT count(*) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() \
         AND backend_type = 'client backend'",
    )
    .get_result(conn)?;
    Ok(found.n)
}

/// True when the PostgreSQL database has no tables, sequences or views of its own.
pub fn is_empty_postgres(conn: &mut DbConnection) -> Result<bool, DbError> {
    #[derive(QueryableByName)]
    struct Relations {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let found: Relations = diesel::sql_query(
        "SELECT count(*) AS n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace \
         WHERE s.nspname NOT IN ('pg_catalog', 'information_schema') \
         AND s.nspname NOT LIKE 'pg_toast%' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')",
    )
    .get_result(conn)?;
    Ok(found.n == 0)
}

/// Copies every table inside the caller's transactions (a snapshot of `src`, a write
/// transaction on the freshly migrated `tgt`) and checks the counts before they commit.
fn copy_rows(
    src: &mut DbConnection,
    tgt: &mut DbConnection,
    progress: &mut dyn FnMut(&TableRows),
) -> Result<Vec<TableRows>, TransferError> {
    let source_version = migrations::newest_applied(src)?.unwrap_or_default();
    let target_version = migrations::newest_applied(tgt)?.unwrap_or_default();
    if source_version != target_version {
        return Err(TransferError::Mismatch(format!(
            "Schemastand der Quelle {source_version}, des Ziels {target_version} (die Quelle stammt von einer anderen vorgang-Version)"
        )));
    }
    let source_tables = catalog::tables(src)?;
    let target_tables = catalog::tables(tgt)?;
    if source_tables != target_tables {
        let only = |a: &BTreeSet<String>, b: &BTreeSet<String>| {
            a.difference(b).cloned().collect::<Vec<_>>().join(", ")
        };
        return Err(TransferError::Mismatch(format!(
            "Tabellen nur in der Quelle: [{}], nur im Ziel: [{}]",
            only(&source_tables, &target_tables),
            only(&target_tables, &source_tables)
        )));
    }
    let foreign_keys = catalog::foreign_keys(tgt)?;
    let order = dependency_order(&target_tables, &foreign_keys).map_err(TransferError::Mismatch)?;
    // A row may point at a row of its own table with a higher id (an organisation moved under
    // a newer one). Such tables go in one statement, at whose end PostgreSQL checks its keys.
    let self_referencing: BTreeSet<&str> = foreign_keys
        .iter()
        .filter(|(child, parent)| child == parent)
        .map(|(child, _)| child.as_str())
        .collect();
    // What the target's migrations seeded (the authorities, the record's anchor) makes way for
    // the source's own rows.
    for table in order.iter().rev() {
        diesel::sql_query(format!("DELETE FROM {}", quoted(table))).execute(tgt)?;
    }
    let mut copied = Vec::with_capacity(order.len());
    let mut with_ids = Vec::new();
    for table in &order {
        let columns = catalog::columns(tgt, table)?;
        let source_columns: BTreeSet<String> = catalog::columns(src, table)?
            .into_iter()
            .map(|c| c.name)
            .collect();
        let target_columns: BTreeSet<String> = columns.iter().map(|c| c.name.clone()).collect();
        if source_columns != target_columns {
            return Err(TransferError::Mismatch(format!(
                "Spalten der Tabelle {table}: Quelle [{}], Ziel [{}]",
                source_columns.into_iter().collect::<Vec<_>>().join(", "),
                target_columns.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }
        if target_columns.contains("id") {
            with_ids.push(table);
        }
        let batched = !self_referencing.contains(table.as_str());
        copy_table(src, tgt, table, &columns, batched)?;
        let expected = count(src, table)?;
        let written = count(tgt, table)?;
        if written != expected {
            return Err(TransferError::Count {
                table: table.clone(),
                written,
                expected,
            });
        }
        let done = TableRows {
            table: table.clone(),
            rows: written,
        };
        progress(&done);
        copied.push(done);
    }
    if matches!(tgt, DbConnection::Pg(_)) {
        for table in with_ids {
            // Ids were copied as they are; new rows continue after the highest.
            diesel::sql_query(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {} HAVING max(id) IS NOT NULL",
                quoted(table)
            ))
            .execute(tgt)?;
        }
    }
    Ok(copied)
}

/// One row as the source hands it over: its id (for reading on after it) and its JSON object.
#[derive(QueryableByName)]
struct JsonRow {
    #[diesel(sql_type = BigInt)]
    k: i64,
    #[diesel(sql_type = Text)]
    row: String,
}

/// Copies one table in batches; a table with an `id` column is read on by id, any other (small
/// tables of pairs and counters) in one go, as is one whose rows point at each other.
fn copy_table(
    src: &mut DbConnection,
    tgt: &mut DbConnection,
    table: &str,
    columns: &[catalog::Column],
    batched: bool,
) -> Result<(), TransferError> {
    let keyed = batched && columns.iter().any(|c| c.name == "id");
    let mut after = i64::MIN;
    loop {
        let rows: Vec<JsonRow> = read_batch(src, table, columns, keyed, after)?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.k;
        let full = keyed && rows.len() as i64 == BATCH;
        write_batch(tgt, table, columns, &rows)?;
        if !full {
            return Ok(());
        }
    }
}

fn read_batch(
    src: &mut DbConnection,
    table: &str,
    columns: &[catalog::Column],
    keyed: bool,
    after: i64,
) -> Result<Vec<JsonRow>, TransferError> {
    let name = quoted(table);
    let rows = match src {
        DbConnection::Pg(_) => {
            let object = format!("row_to_json({name})::text AS row");
            if keyed {
                diesel::sql_query(format!(
                    "SELECT id::bigint AS k, {object} FROM {name} WHERE id > $1 ORDER BY id LIMIT {BATCH}"
                ))
                .bind::<BigInt, _>(after)
                .load(src)?
            } else {
                diesel::sql_query(format!("SELECT 0::bigint AS k, {object} FROM {name}"))
                    .load(src)?
            }
        }
        DbConnection::Sqlite(_) => {
            let pairs: Vec<String> = columns
                .iter()
                .map(|c| format!("'{}', {}", c.name, quoted(&c.name)))
                .collect();
            let object = format!("json_object({}) AS row", pairs.join(", "));
            if keyed {
                diesel::sql_query(format!(
                    "SELECT id AS k, {object} FROM {name} WHERE id > ? ORDER BY id LIMIT {BATCH}"
                ))
                .bind::<BigInt, _>(after)
                .load(src)?
            } else {
                diesel::sql_query(format!("SELECT 0 AS k, {object} FROM {name}")).load(src)?
            }
        }
    };
    Ok(rows)
}

fn write_batch(
    tgt: &mut DbConnection,
    table: &str,
    columns: &[catalog::Column],
    rows: &[JsonRow],
) -> Result<(), TransferError> {
    let name = quoted(table);
    let list: Vec<String> = columns.iter().map(|c| quoted(&c.name)).collect();
    let list = list.join(", ");
    match tgt {
        DbConnection::Pg(_) => {
            let batch = format!(
                "[{}]",
                rows.iter()
                    .map(|r| r.row.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            );
            diesel::sql_query(format!(
                "INSERT INTO {name} ({list}) SELECT {list} FROM json_populate_recordset(NULL::{name}, $1::json)"
            ))
            .bind::<Text, _>(batch)
            .execute(tgt)?;
        }
        DbConnection::Sqlite(_) => {
            let mut batch = Vec::with_capacity(rows.len());
            for row in rows {
                batch.push(for_sqlite(&row.row, columns).map_err(|reason| {
                    TransferError::Mismatch(format!("Zeile der Tabelle {table}: {reason}"))
                })?);
            }
            let batch = serde_json::Value::Array(batch).to_string();
            let values: Vec<String> = columns
                .iter()
                .map(|c| format!("json_extract(value, '$.\"{}\"')", c.name))
                .collect();
            diesel::sql_query(format!(
                "INSERT INTO {name} ({list}) SELECT {} FROM json_each(?) ORDER BY key",
                values.join(", ")
            ))
            .bind::<Text, _>(batch)
            .execute(tgt)?;
        }
    }
    Ok(())
}

/// The row with its timestamps in the text diesel writes to SQLite (`%F %T%.f`), whatever form
/// the source gave them (PostgreSQL: `2026-12-05T17:21:30.12`).
fn for_sqlite(row: &str, columns: &[catalog::Column]) -> Result<serde_json::Value, String> {
    let mut object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(row).map_err(|e| e.to_string())?;
    for column in columns.iter().filter(|c| c.timestamp) {
        if let Some(serde_json::Value::String(text)) = object.get(&column.name) {
            let at = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
                .iter()
                .find_map(|format| chrono::NaiveDateTime::parse_from_str(text, format).ok())
                .ok_or_else(|| format!("{} „{text}“ ist kein Zeitpunkt", column.name))?;
            object.insert(
                column.name.clone(),
                serde_json::Value::String(at.format("%F %T%.f").to_string()),
            );
        }
    }
    Ok(serde_json::Value::Object(object))
}

fn count(conn: &mut DbConnection, table: &str) -> Result<i64, TransferError> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let found: Count = diesel::sql_query(format!("SELECT count(*) AS n FROM {}", quoted(table)))
        .get_result(conn)?;
    Ok(found.n)
}

/// An identifier in double quotes, as both backends read it.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The tables in an order in which every table comes after the tables its foreign keys point
/// at (a table pointing at itself is allowed); among equals by name, so the order is stable.
fn dependency_order(
    tables: &BTreeSet<String>,
    foreign_keys: &[(String, String)],
) -> Result<Vec<String>, String> {
    let mut waiting_for: BTreeMap<&str, BTreeSet<&str>> = tables
        .iter()
        .map(|t| (t.as_str(), BTreeSet::new()))
        .collect();
    for (child, parent) in foreign_keys {
        if child != parent
            && tables.contains(parent)
            && let Some(parents) = waiting_for.get_mut(child.as_str())
        {
            parents.insert(parent.as_str());
        }
    }
    let mut order: Vec<String> = Vec::with_capacity(tables.len());
    while !waiting_for.is_empty() {
        let ready: Vec<&str> = waiting_for
            .iter()
            .filter(|(_, parents)| parents.is_empty())
            .map(|(table, _)| *table)
            .collect();
        if ready.is_empty() {
            let rest: Vec<&str> = waiting_for.keys().copied().collect();
            return Err(format!(
                "die Fremdschlüssel der Tabellen {} bilden einen Kreis",
                rest.join(", ")
            ));
        }
        for table in ready {
            waiting_for.remove(table);
            for parents in waiting_for.values_mut() {
                parents.remove(table);
            }
            order.push(table.to_string());
        }
    }
    Ok(order)
}

/// What each backend's catalog says about the tables of the current schema.
mod catalog {
    use std::collections::BTreeSet;

    use diesel::sql_types::Text;
    use diesel::{QueryableByName, RunQueryDsl};

    use super::{DbConnection, MIGRATIONS_TABLE};

    /// A column of a table; `timestamp` marks those whose text form differs between backends.
    pub(super) struct Column {
        pub(super) name: String,
        pub(super) timestamp: bool,
    }

    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        name: String,
    }

    #[derive(QueryableByName)]
    struct Typed {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        kind: String,
    }

    #[derive(QueryableByName)]
    struct Edge {
        #[diesel(sql_type = Text)]
        child: String,
        #[diesel(sql_type = Text)]
        parent: String,
    }

    /// The application's tables (not the migrations' bookkeeping, not SQLite's own).
    pub(super) fn tables(
        conn: &mut DbConnection,
    ) -> Result<BTreeSet<String>, diesel::result::Error> {
        let sql = match conn {
            DbConnection::Pg(_) => {
                "SELECT table_name::text AS name FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            }
            DbConnection::Sqlite(_) => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
            }
        };
        let names: Vec<Name> = diesel::sql_query(sql).load(conn)?;
        Ok(names
            .into_iter()
            .map(|n| n.name)
            .filter(|n| n != MIGRATIONS_TABLE)
            .collect())
    }

    /// The columns of `table` in their order.
    pub(super) fn columns(
        conn: &mut DbConnection,
        table: &str,
    ) -> Result<Vec<Column>, diesel::result::Error> {
        let typed: Vec<Typed> = match conn {
            DbConnection::Pg(_) => diesel::sql_query(
                "SELECT column_name::text AS name, data_type::text AS kind \
                 FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 \
                 ORDER BY ordinal_position",
            )
            .bind::<Text, _>(table)
            .load(conn)?,
            DbConnection::Sqlite(_) => diesel::sql_query(
                "SELECT name, type AS kind FROM pragma_table_info(?) ORDER BY cid",
            )
            .bind::<Text, _>(table)
            .load(conn)?,
        };
        Ok(typed
            .into_iter()
            .map(|t| Column {
                timestamp: t.kind.to_ascii_lowercase().starts_with("timestamp"),
                name: t.name,
            })
            .collect())
    }

    /// Every foreign key as (table holding it, table it points at).
    pub(super) fn foreign_keys(
        conn: &mut DbConnection,
    ) -> Result<Vec<(String, String)>, diesel::result::Error> {
        let sql = match conn {
            DbConnection::Pg(_) => {
                "SELECT c.relname::text AS child, p.relname::text AS parent FROM pg_constraint k \
                 JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid \
                 WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace"
            }
            DbConnection::Sqlite(_) => {
                "SELECT m.name AS child, f.\"table\" AS parent \
                 FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table'"
            }
        };
        let edges: Vec<Edge> = diesel::sql_query(sql).load(conn)?;
        Ok(edges.into_iter().map(|e| (e.child, e.parent)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    fn edge(child: &str, parent: &str) -> (String, String) {
        (child.to_string(), parent.to_string())
    }

    #[test]
    fn a_table_follows_the_tables_it_points_at() {
        let order = dependency_order(
            &set(&["answers", "cases", "invitations", "organisations"]),
            &[
                edge("answers", "invitations"),
                edge("invitations", "cases"),
                edge("cases", "organisations"),
                edge("organisations", "organisations"),
            ],
        )
        .unwrap();
        assert_eq!(order, ["organisations", "cases", "invitations", "answers"]);
    }

    #[test]
    fn a_cycle_is_named_instead_of_looping() {
        let error = dependency_order(
            &set(&["a", "b", "c"]),
            &[edge("a", "b"), edge("b", "a"), edge("c", "a")],
        )
        .unwrap_err();
        assert!(error.contains("a, b, c"), "{error}");
    }

    #[test]
    fn timestamps_reach_sqlite_in_diesels_own_text() {
        let columns = [
            catalog::Column {
                name: "at".into(),
                timestamp: true,
            },
            catalog::Column {
                name: "note".into(),
                timestamp: false,
            },
        ];
        let row = for_sqlite(
            r#"{"at":"2026-12-05T17:21:30.12","note":"2026-12-05T17:21:30.12"}"#,
            &columns,
        )
        .unwrap();
        assert_eq!(row["at"], "2026-12-05 17:21:30.120");
        assert_eq!(
            row["note"], "2026-12-05T17:21:30.12",
            "only timestamp columns change"
        );
        let whole = for_sqlite(r#"{"at":"2026-12-05T17:21:30","note":null}"#, &columns).unwrap();
        assert_eq!(whole["at"], "2026-12-05 17:21:30");
        assert!(for_sqlite(r#"{"at":"gestern","note":null}"#, &columns).is_err());
    }
}
