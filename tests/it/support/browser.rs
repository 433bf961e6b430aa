//! Browser stories: a real `vorgang serve` on SQLite that sends its mail to a real SMTP server,
//! and a node script (`tests/e2e/<story>.mjs`, Playwright driving Debian's Chromium) that plays
//! the user. The SMTP server writes every mail into a directory (see
//! [`SmtpServer::start_with_sink`]), where the script finds the links people get by mail.
//!
//! A story test: [`available`] (skip, or fail under `CI=true`), [`Stage::start`], prepare data
//! through the API ([`Stage::staff_token`], [`Stage::post`], [`Stage::get`]),
//! `stage.story("name").env("KEY", value).run()`, then check the outcome through the API.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use vorgang::db::models::Role;

use super::auth::create_user;
use super::partners::{add_partners, root};
use super::process::{RunningServer, http, wait_at_most};
use super::smtp::{SmtpServer, free_port};
use super::{Backend, TestDatabase};

/// The Chromium the stories drive unless `CHROMIUM` names another one.
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// The coordinator of the Kreis Soest every stage has, with a password for logging in.
pub const COORDINATOR_EMAIL: &str = "k@kreis-soest.de";
/// The coordinator's password.
pub const COORDINATOR_PASSWORD: &str = "ein-sehr-gutes-passwort";

/// How long one story may run before it is killed: a guard against a hung browser, not a
/// measure of speed. The procedure story alone takes two to three minutes on two cores while
/// the other integration tests run beside it.
const STORY_LIMIT: Duration = Duration::from_secs(420);

/// The node scripts and their `node_modules`.
pub fn e2e_dir() -> PathBuf {
    root().join("tests/e2e")
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CHROMIUM))
}

/// What the browser stories need and is missing on this machine.
fn missing() -> Vec<String> {
    let mut missing = Vec::new();
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !node.is_ok_and(|s| s.success()) {
        missing.push("`node` on the PATH (Node.js 20 or later)".to_string());
    }
    for package in ["playwright-core", "axe-core"] {
        if !e2e_dir()
            .join("node_modules")
            .join(package)
            .join("package.json")
            .is_file()
        {
            missing.push(format!(
                "tests/e2e/node_modules/{package} (run `npm ci --prefix tests/e2e`)"
            ));
        }
    }
    let chromium = chromium();
    if !chromium.is_file() {
        missing.push(format!(
            "{} (`apt-get install chromium`, or set CHROMIUM)",
            chromium.display()
        ));
    }
    missing
}

/// True when browser stories can run. Otherwise it says once on stderr what is missing (outside
/// the test output capture, so it is visible) and the story is skipped; with `CI=true` anything
/// missing fails the test instead.
pub fn available() -> bool {
    let missing = missing();
    if missing.is_empty() {
        return true;
    }
    static SKIP_NOTICE: Once = Once::new();
    let missing = missing.join(", ");
    super::skip_or_fail(
        &SKIP_NOTICE,
        &format!("the browser stories cannot run; missing: {missing}"),
        &format!("the browser stories are skipped; missing: {missing}."),
    )
}

/// A running installation for one story: a database (SQLite unless asked) with the partner
/// bodies and the coordinator, an SMTP server writing its mail into a directory, `vorgang serve` whose public
/// URL is its own address (so links in mails open in the browser as they are).
pub struct Stage {
    // Dropped in this order: the server stops before its database goes.
    pub server: RunningServer,
    pub smtp: SmtpServer,
    pub db: TestDatabase,
    mail_dir: tempfile::TempDir,
    _work_dir: tempfile::TempDir,
}

impl Stage {
    /// Migrates a fresh SQLite database, adds the partners and the coordinator, starts the SMTP
    /// server and `vorgang serve`.
    pub fn start() -> Self {
        Self::start_on_backend(Backend::Sqlite)
    }

    /// Like [`Stage::start`], on a fresh database of `backend`.
    pub fn start_on_backend(backend: Backend) -> Self {
        Self::start_on(backend, &root().join("workflows"), |conn| {
            add_partners(conn);
            create_user(
                conn,
                COORDINATOR_EMAIL,
                "05974",
                &[Role::Koordination],
                Some(COORDINATOR_PASSWORD),
            );
        })
    }

    /// Like [`Stage::start`], with the shipped definitions read from `workflows` and the data
    /// `setup` puts into the fresh database instead of the default partners and coordinator.
    pub fn start_with(
        workflows: &Path,
        setup: impl FnOnce(&mut vorgang::db::DbConnection),
    ) -> Self {
        Self::start_on(Backend::Sqlite, workflows, setup)
    }

    /// Like [`Stage::start_with`], on a fresh database of `backend`.
    pub fn start_on(
        backend: Backend,
        workflows: &Path,
        setup: impl FnOnce(&mut vorgang::db::DbConnection),
    ) -> Self {
        let db = TestDatabase::migrated(backend);
        setup(&mut db.connection());
        let mail_dir = tempfile::tempdir().unwrap();
        let smtp = SmtpServer::start_with_sink(mail_dir.path());
        let work_dir = tempfile::tempdir().unwrap();
        let listen = format!("127.0.0.1:{}", free_port());
        let public_url = format!("http://{listen}");
        let server = RunningServer::start(
            work_dir.path(),
            &[
                ("VORGANG_LISTEN", &listen),
                ("VORGANG_PUBLIC_URL", &public_url),
                ("VORGANG_DATABASE_URL", &db.url_text()),
                ("VORGANG_WORKFLOWS_DIR", workflows.to_str().unwrap()),
                (
                    "VORGANG_MAIL_URL",
                    &format!("smtp://127.0.0.1:{}?tls=none", smtp.port),
                ),
                (
                    "VORGANG_MAIL_FROM",
                    "Kreis Soest – Beteiligung <beteiligung@kreis-soest.test>",
                ),
            ],
        );
        assert_eq!(server.address, listen, "vorgang listens where it was told");
        Self {
            server,
            smtp,
            db,
            mail_dir,
            _work_dir: work_dir,
        }
    }

    /// `http://127.0.0.1:PORT`, the server's address and public URL.
    pub fn base_url(&self) -> String {
        self.server.url("")
    }

    /// The directory the SMTP server writes its mail into.
    pub fn mail_dir(&self) -> &Path {
        self.mail_dir.path()
    }

    /// A bearer token of the coordinator, through `POST /api/v1/auth/token`.
    pub fn staff_token(&self) -> String {
        let (status, body) = self.post(
            "/api/v1/auth/token",
            None,
            &json!({ "email": COORDINATOR_EMAIL, "password": COORDINATOR_PASSWORD }),
        );
        assert_eq!(status, 200, "login: {body}");
        body["token"].as_str().unwrap().to_string()
    }

    /// `GET path` with an optional bearer token: status and JSON body (`null` if none).
    pub fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut request = http().get(self.server.url(path));
        if let Some(token) = token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        let mut response = request.call().unwrap();
        let status = response.status().as_u16();
        (
            status,
            response.body_mut().read_json().unwrap_or(Value::Null),
        )
    }

    /// `POST path` with a JSON body and an optional bearer token: status and JSON body.
    pub fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut request = http().post(self.server.url(path));
        if let Some(token) = token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        let mut response = request.send_json(body).unwrap();
        let status = response.status().as_u16();
        (
            status,
            response.body_mut().read_json().unwrap_or(Value::Null),
        )
    }

    /// The story `tests/e2e/<name>.mjs` against this stage.
    pub fn story(&self, name: &str) -> Story {
        Story {
            name: name.to_string(),
            env: vec![
                ("BASE_URL".into(), self.base_url()),
                ("MAIL_DIR".into(), self.mail_dir().display().to_string()),
            ],
        }
    }
}

/// One run of a node script, with its environment.
pub struct Story {
    name: String,
    env: Vec<(String, String)>,
}

/// `target/e2e-screenshots/<story>` (the target directory of this build, wherever it is).
pub fn screenshot_dir(story: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR lies in the target directory")
        .join("e2e-screenshots")
        .join(story)
}

impl Story {
    /// Adds an environment variable for the script.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Runs `node tests/e2e/<name>.mjs` with `BASE_URL`, `MAIL_DIR`, `SCREENSHOT_DIR` (emptied
    /// first), `CHROMIUM` and the added variables; its output goes to the test's output line by
    /// line (visible with `--nocapture` or when the test fails). Fails unless it exits with 0.
    pub fn run(self) {
        let script = e2e_dir().join(format!("{}.mjs", self.name));
        assert!(script.is_file(), "no story {}", script.display());
        let screenshots = screenshot_dir(&self.name);
        let _ = std::fs::remove_dir_all(&screenshots);
        std::fs::create_dir_all(&screenshots).unwrap();
        let started = Instant::now();
        let mut child = Command::new("node")
            .arg(&script)
            .current_dir(root())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("SCREENSHOT_DIR", &screenshots)
            .env("CHROMIUM", chromium())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("node starts");
        let readers: Vec<_> = [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ]
        .into_iter()
        .map(|stream| {
            let name = self.name.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    eprintln!("[{name}] {line}");
                }
            })
        })
        .collect();
        let Some(status) = wait_at_most(&mut child, started, STORY_LIMIT) else {
            panic!("story {} did not finish within {STORY_LIMIT:?}", self.name);
        };
        for reader in readers {
            let _ = reader.join();
        }
        eprintln!(
            "[{}] exited with {status} after {:.1?}; screenshots in {}",
            self.name,
            started.elapsed(),
            screenshots.display()
        );
        assert!(
            status.success(),
            "story {} failed ({status}); its output is above, screenshots in {}",
            self.name,
            screenshots.display()
        );
    }
}
