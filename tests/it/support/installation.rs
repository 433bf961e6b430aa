//! One `vorgang` installation (data directory and database) driven through the binary, as an
//! operator drives it: the backup, restore and transfer tests move data between two of them.

use std::path::PathBuf;

use diesel::prelude::*;
use serde_json::{Value, json};
use vorgang::db::schema::documents;

use super::TestDatabase;
use super::process::{RunningServer, http, vorgang};

/// A data directory and a database, as one `vorgang` installation.
pub struct Installation {
    pub dir: tempfile::TempDir,
    pub db: TestDatabase,
}

impl Installation {
    pub fn new(db: TestDatabase) -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            db,
        }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("VORGANG_DATABASE_URL", self.db.url_text()),
            ("VORGANG_DATA_DIR", self.data().display().to_string()),
            (
                "VORGANG_WORKFLOWS_DIR",
                crate::support::partners::root()
                    .join("workflows")
                    .display()
                    .to_string(),
            ),
        ]
    }

    /// Runs `vorgang ARGS` on this installation: exit code, stdout, stderr.
    pub fn run(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let mut command = vorgang();
        command.args(args).current_dir(self.dir.path());
        for (key, value) in self.env() {
            command.env(key, value);
        }
        let output = command.output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// Loads the demo data; returns the users' password.
    pub fn demo(&self) -> String {
        let (code, stdout, stderr) = self.run(&["demo"]);
        assert_eq!(code, Some(0), "{stderr}{stdout}");
        stdout
            .lines()
            .find_map(|l| l.split("(wird nur jetzt angezeigt): ").nth(1))
            .unwrap()
            .trim()
            .to_string()
    }

    /// Starts `vorgang serve` on this installation; returns it with a token of the demo's
    /// coordinator of the Kreis Coesfeld (whose password `demo` printed).
    pub fn serve_logged_in(&self, password: &str) -> (RunningServer, String) {
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let server = RunningServer::start(self.dir.path(), &env);
        let mut reply = http()
            .post(server.url("/api/v1/auth/token"))
            .send_json(json!({ "email": "koordination@kreis-coesfeld.demo", "password": password }))
            .unwrap();
        assert_eq!(reply.status(), 200);
        let body: Value = reply.body_mut().read_json().unwrap();
        (server, body["token"].as_str().unwrap().to_string())
    }

    /// Every document row: id, case, hash, name, size.
    pub fn documents(&self) -> Vec<(i64, i64, String, String, i64)> {
        documents::table
            .select((
                documents::id,
                documents::case_id,
                documents::sha256,
                documents::filename,
                documents::size,
            ))
            .order(documents::id)
            .load(&mut self.db.connection())
            .unwrap()
    }

    pub fn blob(&self, sha256: &str) -> PathBuf {
        self.data()
            .join("documents")
            .join(&sha256[0..2])
            .join(&sha256[2..4])
            .join(sha256)
    }

    /// `vorgang audit heads` without its header line (which carries the time): equal heads
    /// mean equal journals, every hash covering all entries before it.
    pub fn heads(&self) -> Vec<String> {
        let (code, stdout, stderr) = self.run(&["audit", "heads"]);
        assert_eq!(code, Some(0), "{stderr}");
        stdout.lines().skip(1).map(str::to_string).collect()
    }
}

/// Starts a `ki-antrag` case through the running server's API; the case as answered.
pub fn new_case(server: &RunningServer, token: &str) -> Value {
    let mut reply = http()
        .post(server.url("/api/v1/cases"))
        .header("Authorization", &format!("Bearer {token}"))
        .send_json(json!({ "workflow": "ki-antrag" }))
        .unwrap();
    assert_eq!(reply.status(), 201);
    reply.body_mut().read_json().unwrap()
}
