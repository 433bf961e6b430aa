//! `vorgang demo` and `vorgang demo --remove` against the configured database, as `serve` uses it
//! (migrated first, workflows deployed, the same secret so the partners' links work).
//!
//! Nothing is logged: the generated password appears once, on stdout, in the result.

use chrono::Utc;

use super::{DemoSummary, RemovedSummary, generate_password, load, remove};
use crate::auth::Passwords;
use crate::config::{MailUrl, Settings};
use crate::documents::DocumentStore;
use crate::server::{self, StartupError};
use crate::service::ServiceError;

/// Options of `vorgang demo`.
#[derive(clap::Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoArgs {
    /// Remove the demo data again.
    #[arg(
        long,
        help = "Entfernt die Demodaten wieder (Vorgänge mit Journal, Benutzer, Partnerstellen, \
                Dokumente, Mails)"
    )]
    pub remove: bool,
}

/// Why `vorgang demo` did nothing.
#[derive(Debug, thiserror::Error)]
pub enum DemoCliError {
    /// Settings, data directory, database or workflows could not be opened (exit code 2).
    #[error(transparent)]
    Startup(#[from] StartupError),
    /// Loading or removing was refused or failed; nothing was changed (exit code 1).
    #[error("{0}")]
    Failed(String),
}

impl From<ServiceError> for DemoCliError {
    fn from(error: ServiceError) -> Self {
        DemoCliError::Failed(describe(&error))
    }
}

/// One German line for a service error, with the details the generic messages leave out.
fn describe(error: &ServiceError) -> String {
    match error {
        ServiceError::Refused(reasons) => format!(
            "{error} {}",
            reasons
                .iter()
                .map(|r| r.message().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        ),
        ServiceError::InvalidData(errors) | ServiceError::InvalidInput(errors) => format!(
            "{error} {}",
            errors
                .iter()
                .map(|e| format!("{}: {}", e.pointer, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => other.to_string(),
    }
}

/// Runs `vorgang demo [--remove]`; returns what to print on stdout.
pub fn run(args: &DemoArgs, settings: &Settings) -> Result<String, DemoCliError> {
    server::ensure_data_dir(settings)?;
    let (db, _applied) = server::open_and_migrate(settings)?;
    let mut conn = db.get().map_err(StartupError::from)?;
    if args.remove {
        let documents = DocumentStore::for_settings(settings);
        let removed = remove(&mut conn, &documents)?;
        return Ok(removed_text(&removed));
    }
    let secret = match &settings.secret {
        Some(secret) => secret.clone(),
        None => crate::secret::Secret::load_or_generate(&settings.data_dir)
            .map_err(StartupError::from)?,
    };
    let api = server::api_state(settings, &secret)?;
    api.registry
        .sync_directory(&mut conn, &api.sources, Utc::now().naive_utc())
        .map_err(StartupError::from)?;
    let password = generate_password()?;
    let summary = load(
        &mut conn,
        &api.case_context(),
        &api.documents,
        &Passwords::new(),
        &password,
        Utc::now(),
    )?;
    Ok(loaded_text(&summary, &password, &settings.mail_url))
}

/// The report after loading: cases, the users with the password, where the mails go.
pub fn loaded_text(summary: &DemoSummary, password: &str, mail: &MailUrl) -> String {
    let mut out = format!(
        "Demodaten geladen: {} Vorgänge, {} Benutzer, {} Partnerstellen, {} Dokumente, {} Stellungnahmen, {} Mails.\n\n",
        summary.cases.len(),
        summary.users.len(),
        summary.partners.len(),
        summary.documents,
        summary.answers,
        summary.mails
    );
    out.push_str("Vorgänge:\n");
    for case in &summary.cases {
        out.push_str(&format!(
            "  {:<20} {:<10} {} – {}\n      {}\n",
            case.aktenzeichen, case.workflow, case.applicant, case.stage, case.note
        ));
    }
    out.push_str(&format!(
        "\nAnmeldung: Passwort aller Demo-Benutzer (wird nur jetzt angezeigt): {password}\n"
    ));
    let width = summary
        .users
        .iter()
        .map(|u| u.email.chars().count())
        .max()
        .unwrap_or(0)
        .max("E-Mail".len());
    out.push_str(&format!(
        "  {:<width$}  {:<13} Organisation\n",
        "E-Mail", "Rolle"
    ));
    for user in &summary.users {
        out.push_str(&format!(
            "  {:<width$}  {:<13} {}\n",
            user.email,
            user.role.as_str(),
            user.organisation
        ));
        if let Some(note) = &user.note {
            out.push_str(&format!("  {:<width$}  {note}\n", ""));
        }
    }
    out.push('\n');
    match mail {
        MailUrl::File(dir) => out.push_str(&format!(
            "Mails: {} Demo-Mails warten im Postausgang; „vorgang serve“ schreibt sie als \
             .eml-Dateien nach {} – nichts verlässt den Rechner. Die Einladungen enthalten die \
             persönlichen Links der Partnerstellen.\n",
            summary.mails,
            dir.display()
        )),
        MailUrl::Smtp(url) => out.push_str(&format!(
            "Achtung: mail_url nennt einen SMTP-Server ({}). „vorgang serve“ übergibt ihm die {} \
             Demo-Mails; sie gehen nur an Adressen unter .demo, die es nicht gibt. Für eine \
             Vorführung eignet sich mail_url = \"file://…\".\n",
            url.host_str().unwrap_or("?"),
            summary.mails
        )),
    }
    out.push_str("Entfernen: vorgang demo --remove\n");
    out
}

/// The report after removing.
pub fn removed_text(removed: &RemovedSummary) -> String {
    let mut out = format!(
        "Demodaten entfernt: {} Vorgänge mit {} Journaleinträgen, {} Benutzer, {} Partnerstellen, \
         {} Dokumente ({} Dateien), {} Stellungnahmen, {} Mails.\n",
        removed.cases,
        removed.journal_entries,
        removed.users,
        removed.organisations,
        removed.documents,
        removed.blobs,
        removed.answers,
        removed.mails
    );
    if !removed.kept_organisations.is_empty() {
        out.push_str(&format!(
            "Behalten, weil andere Daten sie verwenden (jetzt reguläre Daten): {}.\n",
            removed.kept_organisations.join(", ")
        ));
    }
    out
}
