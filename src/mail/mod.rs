//! Outbox delivery: commands write rendered mails to the `outbox` table inside their
//! transaction; this module sends them.
//!
//! - [`compose`] builds the MIME message from a row (Message-ID and Date from the row).
//! - [`transport`] writes `.eml` files or talks SMTP (pooled, with timeouts) and tells permanent
//!   from transient failures.
//! - [`outbox`] claims due rows under a lease and records outcomes; the admin API's list and retry.
//! - [`worker`] is the background task of `vorgang serve`.
//!
//! Start-up: [`deliverer`] builds the transport from the settings, [`Worker::spawn`] starts the
//! worker; its [`WorkerHandle`] wakes the worker after a mail was queued.

pub mod compose;
pub mod outbox;
pub mod transport;
pub mod worker;

pub use outbox::{OutboxRow, OutboxStatus};
pub use transport::{MailTransport, SendError, SmtpOptions, TransportError};
pub use worker::{Deliverer, DeliveryPolicy, Round, Worker, WorkerHandle};

use crate::config::Settings;
use crate::db::Database;

/// The transport options of the configured installation.
pub fn smtp_options(settings: &Settings) -> SmtpOptions {
    SmtpOptions {
        timeout: settings.mail_timeout,
        pool_size: settings.mail_pool_size,
        hello_name: settings
            .public_url
            .host_str()
            .unwrap_or("localhost")
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
    }
}

/// The deliverer of the configured installation (transport built, `file://` directory created).
pub fn deliverer(settings: &Settings, db: Database) -> Result<Deliverer, TransportError> {
    let transport = MailTransport::new(&settings.mail_url, &smtp_options(settings))?;
    Ok(Deliverer::new(
        db,
        transport,
        DeliveryPolicy::from_settings(settings),
    ))
}
