//! Every migration runs up, down and up again, and leaves the same schema as a plain up.

use diesel::prelude::*;
use diesel::sql_types::Text;
use vorgang::db::{DbConnection, migrations};

use crate::support::TestDatabase;

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
