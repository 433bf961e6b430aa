//! Every migration runs up, down and up again, and leaves the same schema as a plain up.

use diesel::prelude::*;
use diesel::sql_types::Text;
use sha2::Digest;
use vorgang::db::{DbConnection, migrations};

use crate::support::{Backend, TestDatabase};

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// A textual dump of the schema: tables, columns, types, defaults, indexes and constraints.
fn schema_dump(conn: &mut DbConnection) -> Vec<String> {
    let query = match conn {
        DbConnection::Sqlite(_) => {
            "SELECT type || ' ' || name || ' ON ' || tbl_name || ': ' || coalesce(sql, '') AS line \
             FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY line"
        }
        DbConnection::Pg(_) => {
            "SELECT line FROM ( \
               SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || \
                      is_nullable || ' ' || coalesce(column_default, '') AS line \
                 FROM information_schema.columns WHERE table_schema = 'public' \
               UNION ALL \
               SELECT 'index ' || indexname || ': ' || indexdef FROM pg_indexes WHERE schemaname = 'public' \
               UNION ALL \
               SELECT 'constraint ' || conrelid::regclass::text || '.' || conname || ': ' || \
                      pg_get_constraintdef(oid) \
                 FROM pg_constraint WHERE connamespace = 'public'::regnamespace \
               UNION ALL \
               SELECT 'options ' || relname || ': ' || array_to_string(reloptions, ',') \
                 FROM pg_class WHERE relnamespace = 'public'::regnamespace AND reloptions IS NOT NULL \
               UNION ALL \
               SELECT 'compression ' || c.relname || '.' || a.attname || ': ' || a.attcompression::text \
                 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
                WHERE c.relnamespace = 'public'::regnamespace AND a.attcompression <> '' \
               UNION ALL \
               SELECT 'function ' || p.oid::regprocedure::text || ': ' || md5(p.prosrc) \
                 FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace \
             ) dump ORDER BY line"
        }
    };
    diesel::sql_query(query)
        .load::<Line>(conn)
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect()
}

fn dump_mentions_only_migration_bookkeeping(dump: &[String]) -> bool {
    dump.iter()
        .all(|line| line.contains("__diesel_schema_migrations"))
}

both_backends! {
    fn up_down_up_gives_the_schema_of_a_plain_up(backend) {
        let reference = TestDatabase::empty(backend);
        let mut plain = reference.connection();
        assert!(!migrations::run_pending(&mut plain).unwrap().is_empty());
        let expected = schema_dump(&mut plain);
        assert!(expected.iter().any(|l| l.contains("organisations")), "{expected:?}");

        let db = TestDatabase::empty(backend);
        let mut conn = db.connection();
        let applied = migrations::run_pending(&mut conn).unwrap();
        let reverted = migrations::revert_all(&mut conn).unwrap();
        assert_eq!(applied.len(), reverted.len());
        let after_down = schema_dump(&mut conn);
        assert!(
            dump_mentions_only_migration_bookkeeping(&after_down),
            "down.sql must remove everything up.sql created: {after_down:?}"
        );
        assert!(migrations::has_pending(&mut conn).unwrap());

        migrations::run_pending(&mut conn).unwrap();
        assert_eq!(schema_dump(&mut conn), expected);
        assert!(!migrations::has_pending(&mut conn).unwrap());
    }
}

both_backends! {
    fn running_migrations_twice_is_harmless(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        assert_eq!(migrations::run_pending(&mut conn).unwrap(), Vec::<String>::new());
    }
}

/// The invitations with what refers to them, one line each, by id.
fn invitation_lines(conn: &mut DbConnection) -> Vec<String> {
    diesel::sql_query(
        "SELECT CAST(i.id AS TEXT) || ' ' || CAST(i.local_id AS TEXT) || ' ' || i.status || ' ' || \
                CAST(i.deadline AS TEXT) || ' links=' || \
                CAST((SELECT COUNT(*) FROM partner_links l WHERE l.invitation_id = i.id) AS TEXT) || \
                ' answers=' || \
                CAST((SELECT COUNT(*) FROM answers a WHERE a.invitation_id = i.id) AS TEXT) || \
                ' requests=' || \
                CAST((SELECT COUNT(*) FROM extension_requests r WHERE r.invitation_id = i.id) AS TEXT) \
                AS line \
         FROM invitations i ORDER BY i.id",
    )
    .load::<Line>(conn)
    .unwrap()
    .into_iter()
    .map(|l| l.line)
    .collect()
}

both_backends! {
    fn the_withdrawn_status_keeps_every_invitation_and_what_refers_to_it(backend) {
        let db = TestDatabase::migrated(backend);
        let mut conn = db.connection();
        let case = crate::support::cases::insert_case(&mut conn, "KI-05154-2026-0001");
        let organisation: i64 = vorgang::db::schema::organisations::table
            .select(vorgang::db::schema::organisations::id)
            .first(&mut conn)
            .unwrap();
        let insert = |conn: &mut DbConnection, local: i64, status: &str| {
            diesel::sql_query(format!(
                "INSERT INTO invitations (case_id, local_id, step, organisation_id, deadline, status, invited_at) \
                 VALUES ({case}, {local}, 'beteiligung', {organisation}, '2027-01-15', '{status}', '2026-12-01 10:00:00')"
            ))
            .execute(conn)
        };
        for (local, status) in [(1, "answered"), (2, "withdrawn"), (3, "open")] {
            insert(&mut conn, local, status).unwrap();
        }
        let ids: Vec<i64> = vorgang::db::schema::invitations::table
            .order(vorgang::db::schema::invitations::id)
            .select(vorgang::db::schema::invitations::id)
            .load(&mut conn)
            .unwrap();
        for (n, id) in ids.iter().enumerate() {
            diesel::sql_query(format!(
                "INSERT INTO partner_links (jti, invitation_id, created_at, expires_at) \
                 VALUES ('jti-{n}', {id}, '2026-12-01 10:00:00', '2027-01-20 00:00:00')"
            ))
            .execute(&mut conn)
            .unwrap();
        }
        diesel::sql_query(format!(
            "INSERT INTO answers (invitation_id, version, votum, text, answered_by, created_at) \
             VALUES ({}, 1, 'zustimmung', 'Einverstanden.', 'Frau Berg', '2026-12-02 09:00:00')",
            ids[0]
        ))
        .execute(&mut conn)
        .unwrap();
        diesel::sql_query(format!(
            "INSERT INTO extension_requests (invitation_id, requested_until, reason, requested_by, requested_at) \
             VALUES ({}, '2027-02-01', 'Ausschuss', 'Herr Kaya', '2026-12-03 09:00:00')",
            ids[2]
        ))
        .execute(&mut conn)
        .unwrap();
        let before = invitation_lines(&mut conn);
        assert_eq!(before.len(), 3, "{before:?}");

        // Down: the withdrawn one becomes expired, the status list is the old one again, and
        // every row and reference is kept.
        // (Later migrations go down first.)
        let mut reverted = 0;
        while !migrations::revert_last(&mut conn).unwrap().contains("000026") {
            reverted += 1;
            assert!(reverted < 50, "000026 was never reverted");
        }
        reverted += 1;
        let down = invitation_lines(&mut conn);
        let expected: Vec<String> = before.iter().map(|l| l.replace(" withdrawn ", " expired ")).collect();
        assert_eq!(down, expected);
        assert!(insert(&mut conn, 4, "withdrawn").is_err(), "the old CHECK is back");
        // Up again: the same rows, and the new status is accepted.
        assert_eq!(migrations::run_pending(&mut conn).unwrap().len(), reverted);
        assert_eq!(invitation_lines(&mut conn), expected);
        insert(&mut conn, 4, "withdrawn").unwrap();
        assert!(insert(&mut conn, 5, "vergessen").is_err(), "other values are still refused");
        if let DbConnection::Sqlite(_) = conn {
            let dangling = diesel::sql_query("SELECT 'x' AS line FROM pragma_foreign_key_check")
                .load::<Line>(&mut conn)
                .unwrap();
            assert!(dangling.is_empty(), "no reference points nowhere");
        }
    }
}

#[test]
fn both_backends_have_the_same_migrations() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let names = |backend: &str| {
        let mut names: Vec<String> = std::fs::read_dir(root.join(backend))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names("sqlite"), names("postgres"));
}

/// The compression method of a column, as `pg_attribute` records it (`l` lz4, `p` pglz, empty
/// for the server's default).
#[derive(QueryableByName)]
struct Compression {
    #[diesel(sql_type = diesel::sql_types::Text)]
    column: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    method: String,
}

#[test]
fn large_values_are_compressed_with_lz4_on_postgres() {
    if !crate::support::db::postgres_available() {
        return;
    }
    let db = TestDatabase::migrated(Backend::Postgres);
    let mut conn = db.connection();
    let lz4: bool = diesel::sql_query(
        "SELECT 'lz4' = ANY (enumvals) AS value FROM pg_settings WHERE name = 'default_toast_compression'",
    )
    .get_result::<Flag>(&mut conn)
    .unwrap()
    .value;
    let methods: Vec<Compression> = diesel::sql_query(
        "SELECT c.relname || '.' || a.attname AS column, a.attcompression::text AS method \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
         WHERE (c.relname, a.attname) IN (('cases', 'state'), ('outbox', 'rendered'), ('outbox', 'context')) \
         ORDER BY 1",
    )
    .load(&mut conn)
    .unwrap();
    let expected = if lz4 { "l" } else { "" };
    assert_eq!(
        methods
            .iter()
            .map(|m| (m.column.as_str(), m.method.as_str()))
            .collect::<Vec<_>>(),
        [
            ("cases.state", expected),
            ("outbox.context", expected),
            ("outbox.rendered", expected)
        ]
    );
}

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    value: bool,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}

#[test]
fn rewritten_rows_are_stored_for_cheap_updates_on_postgres() {
    if !crate::support::db::postgres_available() {
        return;
    }
    let db = TestDatabase::migrated(Backend::Postgres);
    let mut conn = db.connection();
    // Case rows leave room on their page, so updates that touch no index stay there.
    let options: Vec<Line> = diesel::sql_query(
        "SELECT relname || ': ' || array_to_string(reloptions, ',') AS line FROM pg_class \
         WHERE relname IN ('cases', 'outbox') ORDER BY relname",
    )
    .load(&mut conn)
    .unwrap();
    assert_eq!(
        options.iter().map(|o| o.line.as_str()).collect::<Vec<_>>(),
        ["cases: fillfactor=75", "outbox: toast_tuple_target=128"]
    );
    // A mail's rendered text (some 3 kB) and context (some 1 kB), text that compresses
    // moderately, both go out of line, so the row that is updated when the mail is claimed and
    // sent is small. With PostgreSQL's default target, the context would stay in the row.
    let text = |seed: &str, lines: usize| -> String {
        (0..lines)
            .map(|i| {
                format!(
                    "{seed} Zeile {i}: {:x} ",
                    sha2::Sha256::digest(format!("{seed}{i}"))
                )
            })
            .collect()
    };
    // A hundred such mails: with both values out of line a row takes some 150 bytes, and they
    // fit on a few pages; with the context in the row (PostgreSQL's default target) they took
    // twenty. Measured on the table itself: reading the TOAST table needs a superuser.
    diesel::sql_query(
        "INSERT INTO outbox (message_id, template, recipients, context, next_attempt_at, rendered) \
         SELECT '<probe-' || n || '@vorgang.test>', 'probe', '[]', $1, now(), $2 \
         FROM generate_series(1, 100) AS n",
    )
    .bind::<Text, _>(text("Kontext", 15))
    .bind::<Text, _>(text("Nachricht", 40))
    .execute(&mut conn)
    .unwrap();
    let heap: Count = diesel::sql_query("SELECT pg_relation_size('outbox') AS count")
        .get_result(&mut conn)
        .unwrap();
    assert!(heap.count <= 4 * 8192, "{} bytes for 100 mails", heap.count);
}
