//! Where composed mails go: `.eml` files in a directory, or an SMTP relay.
//!
//! Sending blocks (lettre's synchronous SMTP client with its connection pool); the worker calls
//! it on the blocking thread pool. Failures are classified once, here: a 5xx answer is permanent,
//! everything else (4xx, refused or dropped connections, timeouts, TLS problems) is transient and
//! retried.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::Transport as _;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::{PoolConfig, SmtpTransport};

use super::compose::Composed;
use crate::config::MailUrl;

/// Why one send failed, with the text stored in `last_error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Sending again will fail the same way (5xx answer, unusable mail).
    #[error("{0}")]
    Permanent(String),
    /// Worth another attempt later (4xx answer, connection problems, timeouts).
    #[error("{0}")]
    Transient(String),
}

/// The transport could not be set up from `mail_url` (reported at start-up).
#[derive(Debug, thiserror::Error)]
#[error("Einstellung mail_url: {0}")]
pub struct TransportError(String);

/// How TLS is used on an `smtp://` connection (`?tls=` in `mail_url`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StartTls {
    /// STARTTLS or no mail at all (the default).
    Required,
    /// STARTTLS when the server offers it.
    Opportunistic,
    /// Plain SMTP, for a relay on the same host.
    None,
}

/// The configured transport; cheap to clone (the SMTP pool is shared).
#[derive(Clone)]
pub enum MailTransport {
    /// Writes `{dir}/{message id}.eml`.
    File(PathBuf),
    /// Sends through an SMTP relay with pooled connections.
    Smtp(Box<SmtpTransport>),
}

impl std::fmt::Debug for MailTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MailTransport::File(dir) => write!(f, "MailTransport::File({})", dir.display()),
            MailTransport::Smtp(_) => f.write_str("MailTransport::Smtp"),
        }
    }
}

/// What the SMTP transport needs besides the URL.
#[derive(Debug, Clone)]
pub struct SmtpOptions {
    /// Bound for connecting and for each read and write of a send.
    pub timeout: Duration,
    /// Pooled connections.
    pub pool_size: u32,
    /// Our name in `EHLO` (the host of `public_url`).
    pub hello_name: String,
}

impl MailTransport {
    /// Builds the transport for `mail_url`. Creates the directory of a `file://` transport.
    pub fn new(url: &MailUrl, options: &SmtpOptions) -> Result<Self, TransportError> {
        match url {
            MailUrl::File(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    TransportError(format!("Verzeichnis {} nicht anlegbar: {e}", dir.display()))
                })?;
                Ok(MailTransport::File(dir.clone()))
            }
            MailUrl::Smtp(url) => smtp(url, options).map(|t| MailTransport::Smtp(Box::new(t))),
        }
    }

    /// Sends one mail (blocking). `message_id` names the file of the file transport.
    pub fn send(&self, message_id: &str, mail: &Composed) -> Result<(), SendError> {
        match self {
            MailTransport::File(dir) => write_eml(dir, message_id, &mail.bytes)
                .map_err(|e| SendError::Transient(format!("Datei nicht schreibbar: {e}"))),
            MailTransport::Smtp(smtp) => smtp
                .send_raw(&mail.envelope, &mail.bytes)
                .map(|_| ())
                .map_err(classify),
        }
    }
}

fn smtp(url: &url::Url, options: &SmtpOptions) -> Result<SmtpTransport, TransportError> {
    let host = url
        .host_str()
        .ok_or_else(|| TransportError("die SMTP-URL braucht einen Host".into()))?
        // An IPv6 literal comes bracketed; the socket and TLS want the bare address.
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let mut start_tls = StartTls::Required;
    for (key, value) in url.query_pairs() {
        if key == "tls" {
            start_tls = match value.as_ref() {
                "opportunistic" => StartTls::Opportunistic,
                "none" => StartTls::None,
                _ => StartTls::Required,
            };
        }
    }
    let tls_parameters = || {
        TlsParameters::new(host.clone())
            .map_err(|e| TransportError(format!("TLS nicht einrichtbar: {e}")))
    };
    let (tls, default_port) = match (url.scheme(), start_tls) {
        ("smtps", _) => (Tls::Wrapper(tls_parameters()?), 465),
        (_, StartTls::Required) => (Tls::Required(tls_parameters()?), 587),
        (_, StartTls::Opportunistic) => (Tls::Opportunistic(tls_parameters()?), 587),
        (_, StartTls::None) => (Tls::None, 25),
    };
    let mut builder = SmtpTransport::builder_dangerous(host)
        .port(url.port().unwrap_or(default_port))
        .tls(tls)
        .timeout(Some(options.timeout))
        .hello_name(ClientId::Domain(options.hello_name.clone()))
        .pool_config(PoolConfig::new().max_size(options.pool_size).min_idle(0));
    if !url.username().is_empty() {
        let decode = |text: &str| {
            percent_decode(text).map_err(|_| {
                TransportError("Benutzername oder Passwort ist kein gültiges UTF-8".into())
            })
        };
        builder = builder.credentials(Credentials::new(
            decode(url.username())?,
            decode(url.password().unwrap_or(""))?,
        ));
    }
    Ok(builder.build())
}

/// `%XX` sequences of a URL's user or password, decoded.
fn percent_decode(text: &str) -> Result<String, std::str::Utf8Error> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
}

/// 5xx is permanent; the rest is transient. The text keeps the server's answer.
fn classify(error: lettre::transport::smtp::Error) -> SendError {
    let text = one_line(&error.to_string());
    if error.is_permanent() {
        SendError::Permanent(format!("Vom Mailserver abgelehnt: {text}"))
    } else if error.is_transient() {
        SendError::Transient(format!("Vom Mailserver vorläufig abgelehnt: {text}"))
    } else if error.is_timeout() {
        SendError::Transient(format!("Zeitüberschreitung beim Mailserver: {text}"))
    } else {
        SendError::Transient(format!("Mailserver nicht erreichbar: {text}"))
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The file name for a Message-ID: the part inside the angle brackets, with every character
/// other than ASCII letters, digits, `.`, `-`, `_` and `@` replaced by `_` (no path can be
/// injected; ids of our own form `<uuid@host>` stay readable).
pub fn eml_file_name(message_id: &str) -> String {
    let inner = message_id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    let mut name: String = inner
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with('.') {
        name.insert(0, '_');
    }
    name.truncate(200);
    format!("{name}.eml")
}

/// Writes the mail to a temporary file in `dir`, syncs it, renames it into place and syncs the
/// directory, so a reader never sees half a mail and a mail counted as sent survives a power
/// failure. A resend of the same Message-ID replaces the file (no duplicate).
fn write_eml(dir: &Path, message_id: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let target = dir.join(eml_file_name(message_id));
    let temporary = dir.join(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, &target)?;
        crate::durable_fs::sync_dir(dir)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_cannot_leave_the_directory() {
        assert_eq!(
            eml_file_name("<0b1c-2d@vorgang.test>"),
            "0b1c-2d@vorgang.test.eml"
        );
        assert_eq!(eml_file_name("<../../etc/passwd>"), "_.._.._etc_passwd.eml");
        assert_eq!(eml_file_name("<>"), "_.eml");
        assert_eq!(eml_file_name("<a/b\\c\0d>"), "a_b_c_d.eml");
    }

    #[test]
    fn credentials_are_percent_decoded() {
        assert_eq!(percent_decode("p%40ss%3Aw%C3%B6rd").unwrap(), "p@ss:wörd");
        assert_eq!(percent_decode("50%").unwrap(), "50%");
        assert!(percent_decode("%FF").is_err());
    }

    #[test]
    fn file_transport_writes_whole_files_named_by_message_id() {
        let dir = tempfile::tempdir().unwrap();
        let transport = MailTransport::new(
            &MailUrl::File(dir.path().join("outbox")),
            &SmtpOptions {
                timeout: Duration::from_secs(1),
                pool_size: 1,
                hello_name: "localhost".into(),
            },
        )
        .unwrap();
        let mail = Composed {
            envelope: lettre::address::Envelope::new(
                Some("a@b.de".parse().unwrap()),
                vec!["c@d.de".parse().unwrap()],
            )
            .unwrap(),
            bytes: b"Subject: x\r\n\r\nHallo\r\n".to_vec(),
        };
        transport.send("<id1@vorgang.test>", &mail).unwrap();
        transport.send("<id1@vorgang.test>", &mail).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path().join("outbox"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["id1@vorgang.test.eml"]);
    }
}
