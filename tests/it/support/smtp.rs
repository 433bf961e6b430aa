//! A real SMTP server on loopback (mailin-embedded, an implementation independent of lettre)
//! that keeps every message it accepts, and can be told to refuse messages with a 5xx answer.
//!
//! mailin-embedded serves until the process ends; each test takes its own port, so servers of
//! different tests never meet. "The server is down" is a port nobody listens on yet.
//!
//! For programs outside the test process (the browser stories), a server can also write every
//! message it accepts into a directory (see [`SmtpServer::start_with_sink`]).

use std::net::{IpAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailin_embedded::{Handler, Response, Server};

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// `MAIL FROM`.
    pub from: String,
    /// `RCPT TO`, in order.
    pub to: Vec<String>,
    /// The message as transmitted (dot-unstuffed, without the final `.`).
    pub data: Vec<u8>,
}

impl Received {
    /// The parsed message.
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.data)
            .expect("the received data is a message")
    }
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    /// When set, DATA is answered with this code and text instead of 250.
    refuse: Option<(u16, String)>,
    /// When set, every accepted message is also written here.
    sink: Option<PathBuf>,
}

/// Writes message number `number` (1-based) into `dir`: `NNNN.eml` as received, `NNNN.txt` with
/// the decoded plain-text body (line ends `\n`), then `index.json` with one entry per message so
/// far (`file`, `text`, `from`, `to`, `subject`). The index is replaced by a rename, so a reader
/// never sees it half written, and it only names files that are complete.
fn write_to_sink(dir: &Path, number: usize, received: &[Received]) -> std::io::Result<()> {
    let message = &received[number - 1];
    let stem = format!("{number:04}");
    std::fs::write(dir.join(format!("{stem}.eml")), &message.data)?;
    let parsed = message.parsed();
    let text = parsed
        .body_text(0)
        .map(|t| t.replace("\r\n", "\n"))
        .unwrap_or_default();
    std::fs::write(dir.join(format!("{stem}.txt")), text)?;
    let index: Vec<serde_json::Value> = received
        .iter()
        .enumerate()
        .map(|(i, m)| {
            serde_json::json!({
                "file": format!("{:04}.eml", i + 1),
                "text": format!("{:04}.txt", i + 1),
                "from": m.from,
                "to": m.to,
                "subject": m.parsed().subject().unwrap_or_default(),
            })
        })
        .collect();
    let partial = dir.join("index.json.partial");
    std::fs::write(&partial, serde_json::to_vec_pretty(&index)?)?;
    std::fs::rename(partial, dir.join("index.json"))
}

#[derive(Clone)]
struct Collector {
    state: Arc<Mutex<State>>,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Collector {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.from = from.to_string();
        self.to = to.to_vec();
        self.data.clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let mut state = self.state.lock().unwrap();
        if let Some((code, text)) = &state.refuse {
            return Response::custom(*code, text.clone());
        }
        state.received.push(Received {
            from: std::mem::take(&mut self.from),
            to: std::mem::take(&mut self.to),
            data: std::mem::take(&mut self.data),
        });
        if let Some(dir) = &state.sink
            && let Err(error) = write_to_sink(dir, state.received.len(), &state.received)
        {
            return Response::custom(451, format!("cannot write the mail sink: {error}"));
        }
        mailin_embedded::response::OK
    }

    fn helo(&mut self, _ip: IpAddr, _domain: &str) -> Response {
        mailin_embedded::response::OK
    }
}

/// The SMTP server of one test.
pub struct SmtpServer {
    /// The loopback port it listens on.
    pub port: u16,
    state: Arc<Mutex<State>>,
}

/// A loopback port that was free a moment ago (nobody listens on it now).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl SmtpServer {
    /// A server on a free loopback port.
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// A server on a free loopback port that also writes every accepted message into `dir`
    /// (which must exist): `0001.eml`, `0001.txt` (decoded plain text), … and `index.json`.
    pub fn start_with_sink(dir: &Path) -> Self {
        Self::start_with(free_port(), Some(dir.to_path_buf()))
    }

    /// A server on `port` (which must be free); it accepts connections when this returns.
    pub fn start_on(port: u16) -> Self {
        Self::start_with(port, None)
    }

    fn start_with(port: u16, sink: Option<PathBuf>) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("the SMTP port is free");
        let state = Arc::new(Mutex::new(State {
            sink,
            ..State::default()
        }));
        let handler = Collector {
            state: Arc::clone(&state),
            from: String::new(),
            to: Vec::new(),
            data: Vec::new(),
        };
        std::thread::spawn(move || {
            let mut server = Server::new(handler);
            server
                .with_name("smtp.vorgang.test")
                .with_num_threads(8)
                .with_tcp_listener(listener);
            let _ = server.serve();
        });
        Self { port, state }
    }

    /// From now on every message is refused at the end of DATA with `code text`.
    pub fn refuse_with(&self, code: u16, text: &str) {
        self.state.lock().unwrap().refuse = Some((code, text.to_string()));
    }

    /// From now on messages are accepted again.
    pub fn accept(&self) {
        self.state.lock().unwrap().refuse = None;
    }

    /// Every message accepted so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Waits until at least `count` messages have arrived (bounded by `limit`) and returns all.
    pub fn wait_for(&self, count: usize, limit: Duration) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let received = self.received();
            if received.len() >= count || started.elapsed() > limit {
                return received;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
