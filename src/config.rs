//! Settings: built-in defaults < optional `vorgang.toml` < `VORGANG_*` environment variables.
//!
//! Loading never panics: every problem becomes a [`ConfigError`] that names the setting and where
//! its value came from, so an operator can fix it from one line on stderr.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use url::Url;

use crate::db::DatabaseUrl;
use crate::web::client_addr::{ForwardedHeader, TrustedProxies};

/// File read when neither `--config` nor `VORGANG_CONFIG` names one (and only if it exists).
pub const DEFAULT_CONFIG_FILE: &str = "vorgang.toml";

/// Where a setting's value came from; shown in error messages so the operator knows what to edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The built-in default.
    Default,
    /// A key in the configuration file.
    File(PathBuf),
    /// An environment variable.
    Env(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("Voreinstellung"),
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Env(var) => f.write_str(var),
        }
    }
}

/// A configuration problem, always tied to the setting it concerns.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file could not be read or parsed.
    #[error("Konfigurationsdatei {path}: {reason}")]
    File { path: PathBuf, reason: String },
    /// A setting has a value of the wrong type or form.
    #[error("Einstellung {key} ({origin}): {reason}")]
    Invalid {
        key: &'static str,
        origin: Source,
        reason: String,
    },
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines, the default for a terminal.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Where outgoing mail goes; parsed from `mail_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailUrl {
    /// Messages are written as `.eml` files into this directory.
    File(PathBuf),
    /// SMTP relay with STARTTLS (`smtp://`) or implicit TLS (`smtps://`).
    Smtp(Url),
}

/// The resolved settings the whole process runs with.
#[derive(Clone)]
pub struct Settings {
    /// The database to use; its scheme picks the backend.
    pub database_url: DatabaseUrl,
    /// Upper bound of pooled database connections.
    pub database_pool_size: u32,
    /// Address the HTTP server binds (`HOST:PORT`; port 0 picks a free port).
    pub listen: String,
    /// Base URL used in links sent by mail (no trailing slash).
    pub public_url: Url,
    /// Outgoing mail transport.
    pub mail_url: MailUrl,
    /// Sender of outgoing mail: the `From` of mails rendered without one, and the envelope sender
    /// (where bounces go) of every mail.
    pub mail_from: lettre::message::Mailbox,
    /// Upper bound for connecting and for each read or write of one SMTP send.
    pub mail_timeout: std::time::Duration,
    /// Pooled SMTP connections, and so the number of mails sent at once.
    pub mail_pool_size: u32,
    /// First retry delay after a transient failure; doubled per attempt (capped at one hour).
    pub mail_retry_base: std::time::Duration,
    /// Attempts after which a mail that keeps failing transiently is marked failed.
    pub mail_max_attempts: u32,
    /// Directory for the SQLite database, the outbox, documents and the generated secret.
    pub data_dir: PathBuf,
    /// Log line format.
    pub log: LogFormat,
    /// Signing secret from configuration; `None` means: generate once and keep in `data_dir`.
    pub secret: Option<crate::secret::Secret>,
    /// Workflow definitions deployed at start-up (new content becomes a new version).
    pub workflows_dir: PathBuf,
    /// Mail templates (`mail/`) and partials (`partials/`).
    pub templates_dir: PathBuf,
    /// The operator's legal texts (`impressum.html`, `datenschutz.html`,
    /// `barrierefreiheit.html`); `None` shows the built-in placeholders.
    pub legal_dir: Option<PathBuf>,
    /// How Aktenzeichen are formed.
    pub aktenzeichen_pattern: crate::service::aktenzeichen::AktenzeichenPattern,
    /// Largest accepted document upload in bytes (`document_max_mb` × 1 MiB).
    pub document_max_size: u64,
    /// Days a partner's answer link stays readable after its consultation closed.
    pub partner_link_grace_days: u32,
    /// Years an ended case is kept after the end of the year it ended in, before it is due for
    /// Aussonderung (`service::retention`).
    pub retention_years: u32,
    /// How often `serve` looks for due timers (`timer_poll_secs`).
    pub timer_poll_interval: std::time::Duration,
    /// How long a claimed timer stays with the process that claimed it (`timer_lease_secs`);
    /// a process that dies mid-way delays its timers by at most this long.
    pub timer_lease: std::time::Duration,
    /// The periodic jobs (`[jobs.<name>]`) and `outbox_retention_days`.
    pub jobs: crate::scheduler::jobs::Jobs,
    /// Bearer token of `GET /metrics` (`metrics_token`); `None` leaves the endpoint off.
    pub metrics_token: Option<crate::secret::Secret>,
    /// Reverse proxies whose forwarding header names the client (`trusted_proxies`, the header
    /// by `forwarded_header`); none by default.
    pub trusted_proxies: TrustedProxies,
    /// The header in which the trusted proxies name the logged-in user (`proxy_login_header`);
    /// `None`: everybody logs in with a password.
    pub proxy_login: Option<crate::auth::ProxyLogin>,
    /// How long an API token is valid (`token_lifetime_minutes`).
    pub token_lifetime: chrono::TimeDelta,
    /// How long a web session lasts unused and at most (`session_idle_minutes`,
    /// `session_max_hours`): a security policy may ask for less than the defaults.
    pub sessions: crate::auth::session::SessionLifetimes,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &self.database_url.redacted())
            .field("database_pool_size", &self.database_pool_size)
            .field("listen", &self.listen)
            .field("public_url", &self.public_url.as_str())
            .field("mail_url", &self.mail_url)
            .field("mail_from", &self.mail_from.to_string())
            .field("mail_timeout", &self.mail_timeout)
            .field("mail_pool_size", &self.mail_pool_size)
            .field("mail_retry_base", &self.mail_retry_base)
            .field("mail_max_attempts", &self.mail_max_attempts)
            .field("data_dir", &self.data_dir)
            .field("log", &self.log)
            .field("secret", &self.secret.as_ref().map(|_| "<gesetzt>"))
            .field("workflows_dir", &self.workflows_dir)
            .field("templates_dir", &self.templates_dir)
            .field("legal_dir", &self.legal_dir)
            .field("aktenzeichen_pattern", &self.aktenzeichen_pattern)
            .field("document_max_size", &self.document_max_size)
            .field("partner_link_grace_days", &self.partner_link_grace_days)
            .field("retention_years", &self.retention_years)
            .field("timer_poll_interval", &self.timer_poll_interval)
            .field("timer_lease", &self.timer_lease)
            .field("jobs", &self.jobs)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<gesetzt>"),
            )
            .field("trusted_proxies", &self.trusted_proxies)
            .field("proxy_login", &self.proxy_login)
            .field("token_lifetime", &self.token_lifetime)
            .field("sessions", &self.sessions)
            .finish()
    }
}

/// Every key the file may contain, with the environment variable that overrides it.
const KEYS: &[(&str, Option<&str>)] = &[
    ("database_url", Some("VORGANG_DATABASE_URL")),
    ("database_pool_size", Some("VORGANG_DATABASE_POOL_SIZE")),
    ("listen", Some("VORGANG_LISTEN")),
    ("public_url", Some("VORGANG_PUBLIC_URL")),
    ("mail_url", Some("VORGANG_MAIL_URL")),
    ("mail_from", Some("VORGANG_MAIL_FROM")),
    ("mail_timeout_secs", Some("VORGANG_MAIL_TIMEOUT_SECS")),
    ("mail_pool_size", Some("VORGANG_MAIL_POOL_SIZE")),
    ("mail_retry_base_secs", Some("VORGANG_MAIL_RETRY_BASE_SECS")),
    ("mail_max_attempts", Some("VORGANG_MAIL_MAX_ATTEMPTS")),
    ("data_dir", Some("VORGANG_DATA_DIR")),
    ("log", Some("VORGANG_LOG")),
    ("secret", Some("VORGANG_SECRET")),
    ("metrics_token", Some("VORGANG_METRICS_TOKEN")),
    ("trusted_proxies", Some("VORGANG_TRUSTED_PROXIES")),
    ("forwarded_header", Some("VORGANG_FORWARDED_HEADER")),
    ("proxy_login_header", Some("VORGANG_PROXY_LOGIN_HEADER")),
    (
        "token_lifetime_minutes",
        Some("VORGANG_TOKEN_LIFETIME_MINUTES"),
    ),
    ("session_idle_minutes", Some("VORGANG_SESSION_IDLE_MINUTES")),
    ("session_max_hours", Some("VORGANG_SESSION_MAX_HOURS")),
    ("workflows_dir", Some("VORGANG_WORKFLOWS_DIR")),
    ("templates_dir", Some("VORGANG_TEMPLATES_DIR")),
    ("legal_dir", Some("VORGANG_LEGAL_DIR")),
    ("aktenzeichen_pattern", Some("VORGANG_AKTENZEICHEN_PATTERN")),
    ("document_max_mb", Some("VORGANG_DOCUMENT_MAX_MB")),
    (
        "partner_link_grace_days",
        Some("VORGANG_PARTNER_LINK_GRACE_DAYS"),
    ),
    ("retention_years", Some("VORGANG_RETENTION_YEARS")),
    ("timer_poll_secs", Some("VORGANG_TIMER_POLL_SECS")),
    ("timer_lease_secs", Some("VORGANG_TIMER_LEASE_SECS")),
    (
        "outbox_retention_days",
        Some("VORGANG_OUTBOX_RETENTION_DAYS"),
    ),
    // Keys of the `[jobs.<name>]` tables, one pair per `scheduler::jobs::JobName`.
    (
        "jobs.reminders.schedule",
        Some("VORGANG_JOBS_REMINDERS_SCHEDULE"),
    ),
    (
        "jobs.reminders.enabled",
        Some("VORGANG_JOBS_REMINDERS_ENABLED"),
    ),
    ("jobs.digest.schedule", Some("VORGANG_JOBS_DIGEST_SCHEDULE")),
    ("jobs.digest.enabled", Some("VORGANG_JOBS_DIGEST_ENABLED")),
    (
        "jobs.housekeeping.schedule",
        Some("VORGANG_JOBS_HOUSEKEEPING_SCHEDULE"),
    ),
    (
        "jobs.housekeeping.enabled",
        Some("VORGANG_JOBS_HOUSEKEEPING_ENABLED"),
    ),
    ("jobs.backup.schedule", Some("VORGANG_JOBS_BACKUP_SCHEDULE")),
    ("jobs.backup.enabled", Some("VORGANG_JOBS_BACKUP_ENABLED")),
    ("backup_dir", Some("VORGANG_BACKUP_DIR")),
    ("backup_keep", Some("VORGANG_BACKUP_KEEP")),
    ("pg_dump", Some("VORGANG_PG_DUMP")),
];

/// The table holding one sub-table per job.
const JOBS_TABLE: &str = "jobs";

/// A raw value before validation: from the file it keeps its TOML type, from the environment it is text.
#[derive(Debug, Clone)]
enum RawValue {
    Toml(toml::Value),
    Text(String),
}

struct Raw {
    values: BTreeMap<&'static str, (RawValue, Source)>,
}

impl Raw {
    fn take(&mut self, key: &'static str) -> Option<(RawValue, Source)> {
        self.values.remove(key)
    }

    /// An integer setting within `min..=max`: TOML integers or environment text.
    fn integer(
        &mut self,
        key: &'static str,
        min: i64,
        max: i64,
    ) -> Result<Option<i64>, ConfigError> {
        let Some((value, source)) = self.take(key) else {
            return Ok(None);
        };
        let invalid = |reason: String| ConfigError::Invalid {
            key,
            origin: source.clone(),
            reason,
        };
        let number = match value {
            RawValue::Toml(toml::Value::Integer(n)) => n,
            RawValue::Text(text) => text
                .trim()
                .parse::<i64>()
                .map_err(|_| invalid(format!("„{text}“ ist keine ganze Zahl")))?,
            RawValue::Toml(other) => {
                return Err(invalid(format!(
                    "erwartet eine ganze Zahl, gefunden: {}",
                    other.type_str()
                )));
            }
        };
        if (min..=max).contains(&number) {
            Ok(Some(number))
        } else {
            Err(invalid(format!(
                "{number} liegt nicht zwischen {min} und {max}"
            )))
        }
    }

    /// A boolean setting: TOML booleans or environment text `true`/`false`.
    fn boolean(&mut self, key: &'static str) -> Result<Option<bool>, ConfigError> {
        let Some((value, source)) = self.take(key) else {
            return Ok(None);
        };
        match value {
            RawValue::Toml(toml::Value::Boolean(flag)) => Ok(Some(flag)),
            RawValue::Text(text) => match text.trim() {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                _ => Err(ConfigError::Invalid {
                    key,
                    origin: source,
                    reason: format!("„{text}“ ist weder „true“ noch „false“"),
                }),
            },
            RawValue::Toml(other) => Err(ConfigError::Invalid {
                key,
                origin: source,
                reason: format!("erwartet true oder false, gefunden: {}", other.type_str()),
            }),
        }
    }

    /// A string setting: TOML strings or environment text; any other TOML type is an error.
    fn string(&mut self, key: &'static str) -> Result<Option<(String, Source)>, ConfigError> {
        match self.take(key) {
            None => Ok(None),
            Some((RawValue::Text(text), source)) => Ok(Some((text, source))),
            Some((RawValue::Toml(toml::Value::String(text)), source)) => Ok(Some((text, source))),
            Some((RawValue::Toml(other), source)) => Err(ConfigError::Invalid {
                key,
                origin: source,
                reason: format!("erwartet eine Zeichenkette, gefunden: {}", other.type_str()),
            }),
        }
    }

    /// A string setting read by `parse`, whose complaint is reported at the key, naming where
    /// the value came from.
    fn parsed<T>(
        &mut self,
        key: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        let Some((text, source)) = self.string(key)? else {
            return Ok(None);
        };
        parse(&text)
            .map(Some)
            .map_err(|reason| ConfigError::Invalid {
                key,
                origin: source,
                reason,
            })
    }

    /// A directory setting that must exist when configured: a typo would otherwise silently
    /// drop what the directory was meant to provide.
    fn existing_dir(&mut self, key: &'static str) -> Result<Option<PathBuf>, ConfigError> {
        self.parsed(key, |dir| {
            let dir = PathBuf::from(dir);
            if dir.is_dir() {
                Ok(dir)
            } else {
                Err(format!("Verzeichnis {} gibt es nicht", dir.display()))
            }
        })
    }
}

/// Reads the settings for this process: `config_path` is `--config`, `env` the process environment.
pub fn load(
    config_path: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, ConfigError> {
    let mut raw = Raw {
        values: BTreeMap::new(),
    };
    let explicit = config_path
        .map(Path::to_path_buf)
        .or_else(|| env("VORGANG_CONFIG").map(PathBuf::from));
    match explicit {
        Some(path) => read_file(&path, &mut raw)?,
        None => {
            let path = PathBuf::from(DEFAULT_CONFIG_FILE);
            if path.exists() {
                read_file(&path, &mut raw)?;
            }
        }
    }
    for (key, var) in KEYS {
        if let Some(var) = var
            && let Some(value) = env(var)
        {
            raw.values
                .insert(key, (RawValue::Text(value), Source::Env(var)));
        }
    }
    resolve(raw)
}

fn read_file(path: &Path, raw: &mut Raw) -> Result<(), ConfigError> {
    let file_error = |reason: String| ConfigError::File {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| file_error(format!("kann nicht gelesen werden: {e}")))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| file_error(one_line_toml_error(&text, &e)))?;
    for (key, value) in table {
        if key == JOBS_TABLE {
            read_jobs_table(path, value, raw)?;
            continue;
        }
        let Some((known, _)) = KEYS.iter().find(|(k, _)| *k == key && !k.contains('.')) else {
            let known: Vec<&str> = KEYS
                .iter()
                .map(|(k, _)| *k)
                .filter(|k| !k.contains('.'))
                .chain([JOBS_TABLE])
                .collect();
            return Err(file_error(format!(
                "unbekannter Schlüssel „{key}“ (bekannt: {})",
                known.join(", ")
            )));
        };
        raw.values.insert(
            known,
            (RawValue::Toml(value), Source::File(path.to_path_buf())),
        );
    }
    Ok(())
}

/// `[jobs.<name>]` tables: each key becomes the flat setting `jobs.<name>.<key>`, so it is
/// validated, overridden by the environment and named in errors like every other setting.
fn read_jobs_table(path: &Path, value: toml::Value, raw: &mut Raw) -> Result<(), ConfigError> {
    let file_error = |reason: String| ConfigError::File {
        path: path.to_path_buf(),
        reason,
    };
    let toml::Value::Table(jobs) = value else {
        return Err(file_error(format!(
            "„{JOBS_TABLE}“ muss eine Tabelle sein, z. B. [jobs.reminders]"
        )));
    };
    for (name, settings) in jobs {
        if crate::scheduler::jobs::JobName::parse(&name).is_none() {
            return Err(file_error(format!(
                "unbekannter Job „{name}“ (bekannt: {})",
                crate::scheduler::jobs::JobName::known()
            )));
        }
        let toml::Value::Table(settings) = settings else {
            return Err(file_error(format!(
                "„jobs.{name}“ muss eine Tabelle sein, z. B. [jobs.{name}]"
            )));
        };
        for (field, value) in settings {
            let flat = format!("jobs.{name}.{field}");
            let Some((known, _)) = KEYS.iter().find(|(k, _)| *k == flat) else {
                return Err(file_error(format!(
                    "unbekannter Schlüssel „{flat}“ (bekannt: schedule, enabled)"
                )));
            };
            raw.values.insert(
                known,
                (RawValue::Toml(value), Source::File(path.to_path_buf())),
            );
        }
    }
    Ok(())
}

fn one_line_toml_error(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim().replace('\n', " ");
    match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("Zeile {line}, Spalte {column}: {message}")
        }
        None => message,
    }
}

fn resolve(mut raw: Raw) -> Result<Settings, ConfigError> {
    let data_dir = raw
        .parsed("data_dir", |dir| match dir.trim() {
            "" => Err("darf nicht leer sein".to_string()),
            _ => Ok(PathBuf::from(dir)),
        })?
        .unwrap_or_else(|| PathBuf::from("./data"));

    let database_url = raw
        .parsed("database_url", DatabaseUrl::parse)?
        .unwrap_or_else(|| DatabaseUrl::Sqlite(data_dir.join("vorgang.db")));

    let database_pool_size = raw
        .integer("database_pool_size", 1, 256)?
        .map_or(8, |n| n as u32);

    let listen = raw
        .parsed("listen", |listen| {
            validate_listen(listen).map(|()| listen.to_string())
        })?
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());

    let public_url = match raw.parsed("public_url", parse_public_url)? {
        Some(url) => url,
        None => parse_public_url(&format!("http://{listen}")).map_err(|reason| {
            ConfigError::Invalid {
                key: "listen",
                origin: Source::Default,
                reason,
            }
        })?,
    };

    let mail_url = raw
        .parsed("mail_url", parse_mail_url)?
        .unwrap_or_else(|| MailUrl::File(data_dir.join("outbox")));
    let mail_from = raw
        .parsed("mail_from", parse_mailbox)?
        .unwrap_or_else(|| default_mail_from(&public_url));
    let mail_timeout = std::time::Duration::from_secs(
        raw.integer("mail_timeout_secs", 1, 600)?.unwrap_or(30) as u64,
    );
    let mail_pool_size = raw.integer("mail_pool_size", 1, 64)?.unwrap_or(4) as u32;
    let mail_retry_base = std::time::Duration::from_secs(
        raw.integer("mail_retry_base_secs", 1, 3600)?.unwrap_or(60) as u64,
    );
    let mail_max_attempts = raw.integer("mail_max_attempts", 1, 100)?.unwrap_or(8) as u32;

    let log = raw
        .parsed("log", |text| match text.trim() {
            "" | "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!(
                "„{other}“ ist unbekannt; erlaubt sind „text“ und „json“"
            )),
        })?
        .unwrap_or(LogFormat::Text);

    let secret = raw.parsed("secret", crate::secret::Secret::from_configured)?;
    let metrics_token = raw.parsed("metrics_token", crate::secret::Secret::from_configured)?;

    let workflows_dir = raw.string("workflows_dir")?.map_or_else(
        || PathBuf::from("./workflows"),
        |(dir, _)| PathBuf::from(dir),
    );
    // The shipped templates are compiled in; this directory only overrides them. The default
    // may be absent, a configured one must exist (a typo would silently drop the overrides).
    let templates_dir = raw
        .existing_dir("templates_dir")?
        .unwrap_or_else(|| PathBuf::from("./templates"));
    // Like templates_dir: a configured directory must exist (a typo would silently keep the
    // placeholder texts online).
    let legal_dir = raw.existing_dir("legal_dir")?;
    let aktenzeichen_pattern = raw
        .parsed(
            "aktenzeichen_pattern",
            crate::service::aktenzeichen::AktenzeichenPattern::parse,
        )?
        .unwrap_or_default();
    let document_max_size = match raw.integer("document_max_mb", 1, 1024)? {
        Some(mb) => mb as u64 * 1024 * 1024,
        None => crate::documents::DEFAULT_MAX_SIZE,
    };
    let partner_link_grace_days = raw
        .integer("partner_link_grace_days", 0, 365)?
        .map_or(DEFAULT_PARTNER_LINK_GRACE_DAYS, |days| days as u32);
    let retention_years = raw.integer("retention_years", 1, 100)?.map_or(
        crate::service::retention::DEFAULT_RETENTION_YEARS,
        |years| years as u32,
    );
    let trusted_proxies = raw
        .parsed("trusted_proxies", TrustedProxies::parse)?
        .unwrap_or_default();
    let trusted_proxies = match raw.parsed("forwarded_header", ForwardedHeader::parse)? {
        None => trusted_proxies,
        Some(header) => trusted_proxies.with_header(header),
    };
    let proxy_login = match raw.string("proxy_login_header")? {
        None => None,
        Some((text, source)) => {
            let login =
                crate::auth::ProxyLogin::parse(&text).map_err(|reason| ConfigError::Invalid {
                    key: "proxy_login_header",
                    origin: source.clone(),
                    reason,
                })?;
            if trusted_proxies.is_empty() {
                return Err(ConfigError::Invalid {
                    key: "proxy_login_header",
                    origin: source,
                    reason: "setzt `trusted_proxies` voraus: nur den dort genannten Proxys wird \
                             geglaubt, wer angemeldet ist"
                        .into(),
                });
            }
            Some(login)
        }
    };
    let token_lifetime = raw
        .integer("token_lifetime_minutes", 5, 1440)?
        .map_or(crate::auth::StaffTokens::DEFAULT_LIFETIME, |minutes| {
            chrono::TimeDelta::minutes(minutes)
        });
    let defaults = crate::auth::session::SessionLifetimes::default();
    let sessions = crate::auth::session::SessionLifetimes {
        idle: raw
            .integer("session_idle_minutes", 5, 1440)?
            .map_or(defaults.idle, chrono::TimeDelta::minutes),
        absolute: raw
            .integer("session_max_hours", 1, 24)?
            .map_or(defaults.absolute, chrono::TimeDelta::hours),
    };
    let timer_poll_interval = std::time::Duration::from_secs(
        raw.integer("timer_poll_secs", 1, 3600)?.unwrap_or(30) as u64,
    );
    let timer_lease = std::time::Duration::from_secs(
        raw.integer("timer_lease_secs", 5, 86_400)?
            .unwrap_or(DEFAULT_TIMER_LEASE_SECS) as u64,
    );

    // Before the jobs: whether the backup job runs depends on `backup_dir`.
    let (backup, backup_enabled) =
        resolve_backup(&mut raw, &database_url, &data_dir, secret.is_some())?;
    let mut jobs = resolve_jobs(&mut raw)?;
    for job in &mut jobs.jobs {
        if job.name == crate::scheduler::jobs::JobName::Backup {
            job.enabled = backup_enabled;
        }
    }
    jobs.backup = backup;
    jobs.sessions = sessions;

    Ok(Settings {
        database_url,
        database_pool_size,
        listen,
        public_url,
        mail_url,
        mail_from,
        mail_timeout,
        mail_pool_size,
        mail_retry_base,
        mail_max_attempts,
        data_dir,
        log,
        secret,
        workflows_dir,
        templates_dir,
        legal_dir,
        aktenzeichen_pattern,
        document_max_size,
        partner_link_grace_days,
        retention_years,
        timer_poll_interval,
        timer_lease,
        jobs,
        metrics_token,
        trusted_proxies,
        proxy_login,
        token_lifetime,
        sessions,
    })
}

/// The nightly backup: on when `backup_dir` is set (switching the job on without it is a
/// mistake, since it would have nowhere to write).
fn resolve_backup(
    raw: &mut Raw,
    database_url: &crate::db::DatabaseUrl,
    data_dir: &std::path::Path,
    secret_configured: bool,
) -> Result<(Option<crate::scheduler::jobs::BackupPlan>, bool), ConfigError> {
    use crate::scheduler::jobs::{BackupPlan, DEFAULT_BACKUP_KEEP};
    let keep = raw
        .integer("backup_keep", 1, 365)?
        .map_or(DEFAULT_BACKUP_KEEP, |n| n as u32);
    let pg_dump = raw
        .string("pg_dump")?
        .map_or_else(|| PathBuf::from("pg_dump"), |(path, _)| PathBuf::from(path));
    let explicitly_enabled = raw.boolean("jobs.backup.enabled")?;
    let Some((dir, _)) = raw.string("backup_dir")? else {
        if explicitly_enabled == Some(true) {
            return Err(ConfigError::Invalid {
                key: "jobs.backup.enabled",
                origin: Source::Default,
                reason: "die Sicherung braucht ein Zielverzeichnis: bitte backup_dir (VORGANG_BACKUP_DIR) einstellen".into(),
            });
        }
        return Ok((None, false));
    };
    let plan = BackupPlan {
        dir: PathBuf::from(dir),
        keep,
        pg_dump,
        installation: crate::backup::Installation {
            database_url: database_url.clone(),
            data_dir: data_dir.to_path_buf(),
            secret_configured,
        },
    };
    Ok((Some(plan), explicitly_enabled.unwrap_or(true)))
}

/// The keys of one job's settings; every job has its pair in [`KEYS`].
fn job_keys(job: crate::scheduler::jobs::JobName) -> (&'static str, &'static str) {
    use crate::scheduler::jobs::JobName;
    match job {
        JobName::Reminders => ("jobs.reminders.schedule", "jobs.reminders.enabled"),
        JobName::Digest => ("jobs.digest.schedule", "jobs.digest.enabled"),
        JobName::Housekeeping => ("jobs.housekeeping.schedule", "jobs.housekeeping.enabled"),
        JobName::Backup => ("jobs.backup.schedule", "jobs.backup.enabled"),
    }
}

fn resolve_jobs(raw: &mut Raw) -> Result<crate::scheduler::jobs::Jobs, ConfigError> {
    use crate::scheduler::jobs::{DEFAULT_OUTBOX_RETENTION_DAYS, JobName, JobSettings, Schedule};
    let mut jobs = Vec::new();
    for name in JobName::ALL {
        let (schedule_key, enabled_key) = job_keys(name);
        let schedule = match raw.parsed(schedule_key, Schedule::parse)? {
            Some(schedule) => schedule,
            None => {
                Schedule::parse(name.default_schedule()).map_err(|reason| ConfigError::Invalid {
                    key: schedule_key,
                    origin: Source::Default,
                    reason,
                })?
            }
        };
        let enabled = raw.boolean(enabled_key)?.unwrap_or(true);
        jobs.push(JobSettings {
            name,
            schedule,
            enabled,
        });
    }
    let outbox_retention_days = raw
        .integer("outbox_retention_days", 1, 3650)?
        .map_or(DEFAULT_OUTBOX_RETENTION_DAYS, |days| days as u32);
    Ok(crate::scheduler::jobs::Jobs {
        jobs,
        outbox_retention_days,
        backup: None,
        sessions: Default::default(),
    })
}

/// A claimed timer is the claiming process's for five minutes: far longer than firing a batch
/// takes, short enough that the timers of a crashed process are not late by much.
pub const DEFAULT_TIMER_LEASE_SECS: i64 = 300;

/// Partners can still read their answer page for two weeks after the consultation closed.
pub const DEFAULT_PARTNER_LINK_GRACE_DAYS: u32 = 14;

fn validate_listen(listen: &str) -> Result<(), String> {
    if listen.parse::<SocketAddr>().is_ok() {
        return Ok(());
    }
    let valid_host_port = listen.rsplit_once(':').is_some_and(|(host, port)| {
        !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            && port.parse::<u16>().is_ok()
    });
    if valid_host_port {
        Ok(())
    } else {
        Err(format!(
            "„{listen}“ ist keine gültige Adresse (erwartet HOST:PORT, z. B. 127.0.0.1:8080)"
        ))
    }
}

fn parse_public_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim_end_matches('/'))
        .map_err(|e| format!("„{text}“ ist keine gültige URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!(
            "„{text}“ muss eine http- oder https-URL mit Host sein"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("„{text}“ darf weder Query noch Fragment enthalten"));
    }
    Ok(url)
}

/// A mailbox such as `vorgang <noreply@kreis.de>` or a bare address.
fn parse_mailbox(text: &str) -> Result<lettre::message::Mailbox, String> {
    text.trim()
        .parse()
        .map_err(|e| format!("„{text}“ ist keine gültige Absenderadresse ({e})"))
}

/// `vorgang <noreply@HOST>` with the host of `public_url`; a host that makes no valid address
/// (rare: e.g. an IPv6 literal) falls back to `localhost`.
fn default_mail_from(public_url: &Url) -> lettre::message::Mailbox {
    let host = public_url.host_str().unwrap_or("localhost");
    parse_mailbox(&format!("vorgang <noreply@{host}>")).unwrap_or_else(|_| {
        lettre::message::Mailbox::new(
            Some("vorgang".into()),
            lettre::Address::new("noreply", "localhost").expect("a valid literal address"),
        )
    })
}

fn parse_mail_url(text: &str) -> Result<MailUrl, String> {
    if let Some(dir) = text.strip_prefix("file://") {
        if dir.is_empty() {
            return Err("file:// braucht ein Verzeichnis, z. B. file://./data/outbox".into());
        }
        return Ok(MailUrl::File(PathBuf::from(dir)));
    }
    let url = Url::parse(text).map_err(|e| format!("„{text}“ ist keine gültige URL ({e})"))?;
    for (key, value) in url.query_pairs() {
        match (url.scheme(), key.as_ref(), value.as_ref()) {
            ("smtp", "tls", "required" | "opportunistic" | "none") => {}
            ("smtp", "tls", other) => {
                return Err(format!(
                    "tls={other} ist unbekannt; erlaubt sind required, opportunistic und none"
                ));
            }
            (_, other, _) => return Err(format!("unbekannter Parameter „{other}“")),
        }
    }
    match url.scheme() {
        "smtp" | "smtps" if url.host().is_some() => Ok(MailUrl::Smtp(url)),
        "smtp" | "smtps" => Err("die SMTP-URL braucht einen Host".into()),
        other => Err(format!(
            "Schema „{other}“ wird nicht unterstützt; erlaubt sind smtp://, smtps:// und file://"
        )),
    }
}

#[cfg(test)]
mod tests;
