//! A real `vorgang` process, started the way an operator starts it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The binary under test.
pub fn vorgang() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vorgang"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("VORGANG_") {
            command.env_remove(key);
        }
    }
    command.env_remove("RUST_LOG");
    command
}

/// `vorgang ARGS` run to its end in `dir`, with its data (and so its SQLite database) in
/// `dir/data`: (exit code, stdout, stderr).
pub fn run_in(dir: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = vorgang()
        .args(args)
        .current_dir(dir)
        .env("VORGANG_DATA_DIR", dir.join("data"))
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A `vorgang serve` process that is killed when dropped.
pub struct RunningServer {
    child: Child,
    pub address: String,
    stderr_lines: Arc<Mutex<Vec<String>>>,
    stdout_lines: Arc<Mutex<Vec<String>>>,
    /// Collects stderr until the process closes it; joined after the exit, so the last lines
    /// (e.g. "vorgang stopped") are in `log_lines` when `signal_and_wait` returns.
    reader: Option<std::thread::JoinHandle<()>>,
}

impl RunningServer {
    /// Starts `vorgang serve` in `dir` on a free port with JSON logs and waits until it listens.
    pub fn start(dir: &Path, env: &[(&str, &str)]) -> Self {
        let mut command = vorgang();
        command
            .arg("serve")
            .current_dir(dir)
            .env("VORGANG_LISTEN", "127.0.0.1:0")
            .env("VORGANG_LOG", "json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("vorgang starts");
        let stderr = child.stderr.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let stdout_lines = Arc::new(Mutex::new(Vec::new()));
        let printed = Arc::clone(&stdout_lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                printed.lock().unwrap().push(line);
            }
        });
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (address_tx, address_rx) = mpsc::channel();
        let collected = Arc::clone(&lines);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(event) = serde_json::from_str::<serde_json::Value>(&line)
                    && event["message"] == "vorgang listening"
                {
                    let _ = address_tx.send(event["address"].as_str().unwrap_or("").to_string());
                }
                collected.lock().unwrap().push(line);
            }
        });
        let address = match address_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(address) => address,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "vorgang did not report its address; stderr:\n{}",
                    lines.lock().unwrap().join("\n")
                );
            }
        };
        Self {
            child,
            address,
            stderr_lines: lines,
            stdout_lines,
            reader: Some(reader),
        }
    }

    /// `http://ADDRESS{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// The process id, for sending signals.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Every stderr line so far.
    pub fn log_lines(&self) -> Vec<String> {
        self.stderr_lines.lock().unwrap().clone()
    }

    /// Every stdout line so far (the server prints there only what an operator must see once,
    /// such as the first administrator's password).
    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout_lines.lock().unwrap().clone()
    }

    /// Sends a signal by name (`TERM`, `INT`) and waits for the exit.
    pub fn signal_and_wait(&mut self, signal: &str, limit: Duration) -> ExitStatus {
        let sent = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{signal} failed");
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                if let Some(reader) = self.reader.take() {
                    let _ = reader.join();
                }
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "vorgang did not stop within {limit:?} after SIG{signal}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client that reports 4xx/5xx as responses, not errors.
pub fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// Waits for `child` for at most `limit` since `started`; kills it and gives `None` when it
/// takes longer (a hung helper program must not hang the test run).
pub fn wait_at_most(child: &mut Child, started: Instant, limit: Duration) -> Option<ExitStatus> {
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
