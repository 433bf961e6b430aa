//! Start-up of `vorgang serve`: every check that can fail runs before the first log line, so a
//! misconfiguration ends in exactly one line on stderr.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};

use actix_web::HttpServer;

use crate::auth::Auth;
use crate::config::{ConfigError, Settings};
use crate::db::{Database, DbError, migrations};
use crate::secret::{Secret, SecretError};
use crate::web;

/// Seconds in-flight requests get to finish after SIGTERM/SIGINT.
const SHUTDOWN_GRACE_SECONDS: u64 = 30;

/// Why the process could not start; each variant names the setting to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Settings could not be loaded.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The data directory cannot be created.
    #[error("Einstellung data_dir: Verzeichnis {path} nicht anlegbar: {reason}")]
    DataDir { path: String, reason: String },
    /// The signing secret cannot be read or generated.
    #[error("Einstellung secret: {0}")]
    Secret(#[from] SecretError),
    /// The database cannot be reached or migrated.
    #[error("Einstellung database_url: {0}")]
    Database(#[from] DbError),
    /// Another `vorgang serve` holds the SQLite database.
    #[error(
        "Einstellung database_url: {url} wird bereits von einem anderen vorgang-Prozess verwendet \
         (Sperrdatei {lock}); mit SQLite bedient genau ein Prozess eine Datenbank – beenden Sie \
         den anderen Prozess oder verwenden Sie PostgreSQL für mehrere Instanzen"
    )]
    DatabaseInUse { url: String, lock: String },
    /// The lock file next to the SQLite database cannot be created or locked.
    #[error("Einstellung database_url: Sperrdatei {lock} nicht nutzbar: {reason}")]
    DatabaseLock { lock: String, reason: String },
    /// The listen address cannot be bound.
    #[error("Einstellung listen: {address} kann nicht gebunden werden: {reason}")]
    Bind { address: String, reason: String },
    /// The shipped workflow definitions are invalid or unreadable.
    #[error("Einstellung workflows_dir: {0}")]
    Workflows(#[from] crate::service::workflows::SyncError),
    /// Older cases could not be ranked for sorting by „Stand“ or „Nächste Frist“ (a case's
    /// workflow version or state unreadable, or the database failed).
    #[error("Vorgänge zum Sortieren einordnen: {0}")]
    Ranking(#[source] crate::service::ServiceError),
    /// The mail transport cannot be set up (e.g. the `file://` directory cannot be created).
    #[error(transparent)]
    Mail(#[from] crate::mail::TransportError),
    /// A template does not parse or render.
    #[error("Einstellung templates_dir: {0}")]
    Templates(#[from] crate::render::TemplateError),
    /// A legal text in `legal_dir` cannot be read.
    #[error("Einstellung legal_dir: {0}")]
    Legal(#[from] crate::web::ui::legal::LegalError),
    /// The first administrator cannot be created.
    #[error("Erster Start: {0}")]
    FirstRun(#[from] crate::service::first_run::FirstRunError),
    /// The HTTP server stopped with an I/O error.
    #[error("HTTP-Server: {0}")]
    Server(std::io::Error),
}

/// Creates the data directory if it is missing.
pub fn ensure_data_dir(settings: &Settings) -> Result<(), StartupError> {
    std::fs::create_dir_all(&settings.data_dir).map_err(|e| StartupError::DataDir {
        path: settings.data_dir.display().to_string(),
        reason: e.to_string(),
    })
}

/// Connects to the configured database and applies pending migrations; returns the versions applied.
/// For commands that end when their work is done (see [`Database::connect_for_command`]).
pub fn open_and_migrate(settings: &Settings) -> Result<(Database, Vec<String>), StartupError> {
    let db =
        Database::connect_for_command(settings.database_url.clone(), settings.database_pool_size)?;
    let applied = migrate(&db)?;
    Ok((db, applied))
}

/// Applies pending migrations, then chains the administration's entries written before its
/// record was chained (nothing once that has happened).
fn migrate(db: &Database) -> Result<Vec<String>, StartupError> {
    let mut conn = db.get()?;
    let applied = migrations::run_pending(&mut conn)?;
    crate::service::admin_chain::chain_legacy(&mut conn)?;
    Ok(applied)
}

/// Proof that this process is the one `vorgang serve` of its SQLite database; released when
/// dropped or when the process ends, however it ends (the kernel drops the lock with the file).
///
/// Two servers on one SQLite file would not corrupt it (SQLite locks every write), but they gain
/// nothing: every write of both queues behind the one writer lock, so under load requests wait
/// out `busy_timeout` and fail, and a second server on the same file is nearly always a mistake
/// (a copied unit, a forgotten process) that nothing else would report.
/// One-shot commands (`migrate`, `user`, `audit`) do not take the lock: SQLite serialises their
/// writes with the server's, and an operator must be able to run them next to it. `transfer`
/// takes it on its source: a server's changes after the copy began would be left behind.
#[derive(Debug)]
pub struct InstanceLock {
    _file: Option<std::fs::File>,
}

impl InstanceLock {
    /// On SQLite, takes an exclusive lock on `{database}.lock` or says who holds it; on
    /// PostgreSQL several instances are intended, so there is nothing to lock.
    ///
    /// A file of its own rather than the database file: SQLite's own (`fcntl`) locks stay
    /// untouched, and on network file systems that emulate `flock` with `fcntl` the two would
    /// collide. The lock file is never deleted, which would let a second process lock a new file
    /// while the first still holds the old one.
    pub fn acquire(url: &crate::db::DatabaseUrl) -> Result<Self, StartupError> {
        let crate::db::DatabaseUrl::Sqlite(path) = url else {
            return Ok(Self { _file: None });
        };
        let mut name = path.as_os_str().to_owned();
        name.push(".lock");
        let lock = std::path::PathBuf::from(name);
        let unusable = |reason: String| StartupError::DatabaseLock {
            lock: lock.display().to_string(),
            reason,
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock)
            .map_err(|e| unusable(e.to_string()))?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: Some(file) }),
            Err(std::fs::TryLockError::WouldBlock) => Err(StartupError::DatabaseInUse {
                url: url.redacted(),
                lock: lock.display().to_string(),
            }),
            Err(std::fs::TryLockError::Error(e)) => Err(unusable(e.to_string())),
        }
    }
}

fn bind(listen: &str) -> Result<TcpListener, StartupError> {
    let bind_error = |reason: String| StartupError::Bind {
        address: listen.to_string(),
        reason,
    };
    let addresses: Vec<SocketAddr> = listen
        .to_socket_addrs()
        .map_err(|e| bind_error(format!("Adresse nicht auflösbar: {e}")))?
        .collect();
    let mut last_error = None;
    for address in addresses {
        match TcpListener::bind(address) {
            Ok(listener) => return Ok(listener),
            Err(e) => last_error = Some(e),
        }
    }
    Err(match last_error {
        Some(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            bind_error("die Adresse ist bereits belegt".into())
        }
        Some(e) => bind_error(e.to_string()),
        None => bind_error("keine Adresse gefunden".into()),
    })
}

/// The state the API handlers share, from the settings.
pub fn api_state(settings: &Settings, secret: &Secret) -> Result<web::api::ApiState, StartupError> {
    let templates = std::sync::Arc::new(crate::render::Templates::load(&settings.templates_dir)?);
    crate::service::mail::check_builtin_templates(&templates)?;
    for warning in templates.override_warnings() {
        tracing::warn!(templates_dir = %settings.templates_dir.display(), "{warning}");
    }
    let mail_domain = settings
        .public_url
        .host_str()
        .unwrap_or("vorgang.invalid")
        .to_string();
    Ok(web::api::ApiState {
        registry: std::sync::Arc::new(crate::service::workflows::WorkflowRegistry::default()),
        pattern: settings.aktenzeichen_pattern.clone(),
        sources: crate::service::workflows::WorkflowSources {
            workflows_dir: settings.workflows_dir.clone(),
            templates: templates.clone(),
        },
        documents: crate::documents::DocumentStore::for_settings(settings),
        outgoing: crate::service::mail::Outgoing {
            templates,
            signer: std::sync::Arc::new(crate::auth::token::Signer::new(secret)),
            public_url: settings.public_url.clone(),
            from: settings.mail_from.to_string(),
            mail_domain,
            link_grace: chrono::TimeDelta::days(i64::from(settings.partner_link_grace_days)),
            hold_until: None,
        },
        jobs: settings.jobs.clone(),
        metrics_token: settings.metrics_token.clone(),
        retention_years: settings.retention_years,
    })
}

/// Runs the server until SIGTERM or SIGINT, then lets in-flight requests finish.
pub fn serve(settings: Settings) -> Result<(), StartupError> {
    ensure_data_dir(&settings)?;
    let secret = match &settings.secret {
        Some(secret) => secret.clone(),
        None => Secret::load_or_generate(&settings.data_dir)?,
    };
    let listener = bind(&settings.listen)?;
    // Connecting first reports an unreachable database as such (and creates the SQLite file's
    // directory); the lock comes before anything is written.
    let db = Database::connect(settings.database_url.clone(), settings.database_pool_size)?;
    let _instance = InstanceLock::acquire(db.url())?;
    let applied = migrate(&db)?;
    let api = api_state(&settings, &secret)?;
    let deployed = {
        let mut conn = db.get()?;
        let deployed =
            api.registry
                .sync_directory(&mut conn, &api.sources, chrono::Utc::now().naive_utc())?;
        let ranked = crate::service::case_list::rank_unranked(&mut conn, &api.registry)
            .map_err(StartupError::Ranking)?;
        if ranked > 0 {
            tracing::info!(ranked, "cases ranked for sorting by Stand");
        }
        let dated = crate::service::next_deadline::fill_unknown(&mut conn, &api.registry)
            .map_err(StartupError::Ranking)?;
        if dated > 0 {
            tracing::info!(dated, "cases given their next deadline for sorting by it");
        }
        deployed
    };
    let deliverer = crate::mail::deliverer(&settings, db.clone())?;
    let legal = match &settings.legal_dir {
        Some(dir) => crate::web::ui::LegalTexts::load(dir)?,
        None => crate::web::ui::LegalTexts::builtin(),
    };
    let first_admin = {
        let mut conn = db.get()?;
        crate::service::first_run::ensure_admin(
            &mut conn,
            &crate::auth::Passwords::new(),
            &settings.public_url,
        )?
    };
    let address = listener.local_addr().map_err(StartupError::Server)?;

    for version in &applied {
        tracing::info!(version, "migration applied");
    }
    for (workflow, version) in &deployed {
        tracing::info!(workflow, version, "workflow version deployed");
    }
    if let Some(admin) = &first_admin {
        // The password goes to stdout once, never into the log.
        tracing::warn!(
            email = %admin.email,
            "first start: administrator created; the one-time password was printed on stdout"
        );
        let announcement = crate::service::first_run::announcement(admin, &settings.public_url);
        let mut stdout = std::io::stdout().lock();
        // Not println!: a closed stdout must not stop the server (the password can be reset
        // with `vorgang user passwd`).
        if let Err(error) = writeln!(stdout, "{announcement}").and_then(|()| stdout.flush()) {
            tracing::error!(%error, "cannot print the one-time password on stdout");
        }
    }
    drop(first_admin);
    if settings.legal_dir.is_some() {
        for page in legal.placeholders() {
            tracing::warn!(
                file = page.name(),
                "legal_dir has no {}.html; the built-in placeholder is shown",
                page.name()
            );
        }
    }
    tracing::info!(
        address = %address,
        database = %db.url(),
        public_url = %settings.public_url,
        version = env!("CARGO_PKG_VERSION"),
        "vorgang listening"
    );

    // Built once, before the workers: the login limits must be shared by all of them.
    let auth = actix_web::web::Data::new(
        Auth::from_secret(&secret, settings.token_lifetime)
            .with_trusted_proxies(settings.trusted_proxies.clone())
            .with_proxy_login(settings.proxy_login.clone()),
    );
    let ui = actix_web::web::Data::new(
        crate::web::ui::UiState::new(&settings.public_url, legal).with_sessions(settings.sessions),
    );
    let api = actix_web::web::Data::new(api);
    actix_web::rt::System::new().block_on(async move {
        let secret = actix_web::web::Data::new(secret);
        let worker = crate::mail::Worker::spawn(deliverer);
        let mail = actix_web::web::Data::new(worker.handle());
        let timers = crate::scheduler::TimerWorker::spawn(
            db.clone(),
            api.clone(),
            format!("{}:{}", address, std::process::id()),
            settings.timer_poll_interval,
            settings.timer_lease,
        );
        let jobs = crate::scheduler::JobWorker::spawn(
            db.clone(),
            api.clone(),
            settings.jobs.clone(),
            format!("{}:{}", address, std::process::id()),
            settings.timer_lease,
        );
        let server = HttpServer::new(move || {
            web::app_with_ui(db.clone(), auth.clone(), api.clone(), ui.clone())
                .app_data(secret.clone())
                .app_data(mail.clone())
        })
        .disable_signals()
        .shutdown_signal(shutdown_requested())
        .shutdown_timeout(SHUTDOWN_GRACE_SECONDS)
        .listen(listener);
        let served = match server {
            Ok(server) => server.run().await,
            Err(error) => Err(error),
        };
        // After the last request: the timer being fired and the sends in flight finish and are
        // recorded; claimed but unfired timers are released.
        jobs.shutdown().await;
        timers.shutdown().await;
        worker.shutdown().await;
        served.map_err(StartupError::Server)?;
        tracing::info!("vorgang stopped");
        Ok(())
    })
}

/// Resolves on the first SIGTERM or SIGINT (Ctrl-C); both mean "finish what you are doing, then stop".
async fn shutdown_requested() {
    #[cfg(unix)]
    {
        use actix_web::rt::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio_select(terminate.recv(), actix_web::rt::signal::ctrl_c()).await;
            }
            Err(_) => {
                let _ = actix_web::rt::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = actix_web::rt::signal::ctrl_c().await;
    }
    tracing::info!("shutdown signal received; finishing open requests");
}

/// Waits for whichever of two futures finishes first.
async fn tokio_select<A: std::future::Future, B: std::future::Future>(a: A, b: B) {
    let a = std::pin::pin!(a);
    let b = std::pin::pin!(b);
    futures_first(a, b).await;
}

async fn futures_first<A, B>(mut a: std::pin::Pin<&mut A>, mut b: std::pin::Pin<&mut B>)
where
    A: std::future::Future,
    B: std::future::Future,
{
    std::future::poll_fn(|cx| {
        if a.as_mut().poll(cx).is_ready() || b.as_mut().poll(cx).is_ready() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await
}
