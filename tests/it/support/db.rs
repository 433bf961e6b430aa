//! Test databases: SQLite in a temporary file per test; PostgreSQL as a fresh database per test,
//! cloned from a migrated template (created once per migration set) and dropped afterwards.

use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::{Mutex, Once};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use url::Url;
use vorgang::db::{Database, DatabaseUrl, DbConnection, migrations};

/// Admin URL of a PostgreSQL server the tests may create databases on.
pub const PG_URL_VAR: &str = "VORGANG_TEST_PG_URL";

/// Serialises template creation and cloning across test processes.
const TEMPLATE_LOCK: i64 = 0x766f_7267_616e_6702;

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// True when PostgreSQL tests can run. Without `VORGANG_TEST_PG_URL` it says so once on stderr
/// (outside the test output capture, so it is visible); with `CI=true` a missing URL fails the test.
pub fn postgres_available() -> bool {
    if std::env::var_os(PG_URL_VAR).is_some() {
        return true;
    }
    static SKIP_NOTICE: Once = Once::new();
    super::skip_or_fail(
        &SKIP_NOTICE,
        &format!("{PG_URL_VAR} is not set: the PostgreSQL half of the tests must run in CI"),
        &format!("{PG_URL_VAR} is not set; the PostgreSQL half of the storage tests is skipped."),
    )
}

fn admin_url() -> String {
    std::env::var(PG_URL_VAR).expect("postgres_available() was checked first")
}

fn with_database_name(admin_url: &str, name: &str) -> String {
    let mut url = Url::parse(admin_url).expect("VORGANG_TEST_PG_URL must be a postgres:// URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

fn admin_connection() -> PgConnection {
    vorgang::db::init_openssl();
    PgConnection::establish(&admin_url()).expect("cannot connect with VORGANG_TEST_PG_URL")
}

/// Name of the template database for the current migration set (changes when a migration changes).
fn template_name() -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut files: Vec<_> = walk(&root);
    files.sort();
    for file in files {
        file.hash(&mut hasher);
        std::fs::read(&file).unwrap().hash(&mut hasher);
    }
    format!("vorgang_tpl_{:016x}", hasher.finish())
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn database_exists(conn: &mut PgConnection, name: &str) -> bool {
    diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
        "EXISTS (SELECT 1 FROM pg_database WHERE datname = '{name}')"
    )))
    .get_result(conn)
    .unwrap()
}

/// Creates a fresh PostgreSQL database, migrated (cloned from the template) or empty.
fn create_pg_database(migrated: bool) -> String {
    static IN_PROCESS: Mutex<()> = Mutex::new(());
    let _guard = IN_PROCESS.lock().unwrap_or_else(|e| e.into_inner());
    let mut admin = admin_connection();
    admin
        .batch_execute(&format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})"))
        .unwrap();
    let name = format!("vorgang_test_{}", uuid::Uuid::new_v4().simple());
    if migrated {
        let template = template_name();
        if !database_exists(&mut admin, &template) {
            let building = format!("{template}_build");
            admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {building}"))
                .unwrap();
            admin
                .batch_execute(&format!("CREATE DATABASE {building}"))
                .unwrap();
            {
                let url = DatabaseUrl::Postgres(with_database_name(&admin_url(), &building));
                let mut conn = vorgang::db::ConnectionFactory::new(url).open().unwrap();
                migrations::run_pending(&mut conn).unwrap();
            }
            admin
                .batch_execute(&format!("ALTER DATABASE {building} RENAME TO {template}"))
                .unwrap();
        }
        admin
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .unwrap();
    } else {
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
    }
    admin
        .batch_execute(&format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK})"))
        .unwrap();
    name
}

enum Cleanup {
    Directory(#[allow(dead_code)] tempfile::TempDir),
    DropPostgres(String),
}

/// A database that exists for one test and is removed afterwards.
pub struct TestDatabase {
    pub url: DatabaseUrl,
    cleanup: Cleanup,
}

impl TestDatabase {
    /// A database with every migration applied (and so the seed organisations present).
    pub fn migrated(backend: Backend) -> Self {
        Self::create(backend, true)
    }

    /// A database with nothing in it.
    pub fn empty(backend: Backend) -> Self {
        Self::create(backend, false)
    }

    fn create(backend: Backend, migrated: bool) -> Self {
        let db = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = DatabaseUrl::Sqlite(dir.path().join("vorgang.db"));
                Self {
                    url,
                    cleanup: Cleanup::Directory(dir),
                }
            }
            Backend::Postgres => {
                let name = create_pg_database(migrated);
                Self {
                    url: DatabaseUrl::Postgres(with_database_name(&admin_url(), &name)),
                    cleanup: Cleanup::DropPostgres(name),
                }
            }
        };
        if migrated && backend == Backend::Sqlite {
            migrations::run_pending(&mut db.connection()).unwrap();
        }
        db
    }

    /// The URL as the server takes it in `VORGANG_DATABASE_URL`.
    pub fn url_text(&self) -> String {
        match &self.url {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => url.clone(),
        }
    }

    /// One unpooled connection.
    pub fn connection(&self) -> DbConnection {
        vorgang::db::ConnectionFactory::new(self.url.clone())
            .open()
            .unwrap()
    }

    /// `(kind, subject)` of the administration's record, oldest first.
    pub fn admin_record(&self) -> Vec<(String, String)> {
        use vorgang::db::schema::admin_events;
        admin_events::table
            .order(admin_events::id)
            .select((admin_events::kind, admin_events::subject))
            .load(&mut self.connection())
            .unwrap()
    }

    /// A pool, as the server builds it.
    pub fn pool(&self, size: u32) -> Database {
        Database::connect(self.url.clone(), size).unwrap()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::DropPostgres(name) = &self.cleanup {
            let mut admin = admin_connection();
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// A row of `pg_prepared_statements`.
#[derive(QueryableByName)]
struct PreparedRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    statement: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    executions: i64,
}

/// The statements PostgreSQL keeps prepared for this connection, with how often each ran from
/// its plan cache: what shows whether writes are sent together and prepared once.
pub fn prepared_statements(conn: &mut DbConnection) -> Vec<(String, i64)> {
    diesel::sql_query(
        "SELECT statement, generic_plans + custom_plans AS executions FROM pg_prepared_statements",
    )
    .load::<PreparedRow>(conn)
    .unwrap()
    .into_iter()
    .map(|row| (row.statement, row.executions))
    .collect()
}
