//! `vorgang user`: create users, set passwords and lift login limits, for bootstrapping an
//! installation and for the administrator who locked themselves out.
//!
//! Passwords never come from the command line (they would end up in shell histories and process
//! lists): with a terminal on stdin they are prompted twice without echo, otherwise the first
//! line of stdin is the password. Every rejected input is one German line and exit code 2, and
//! nothing is written when anything is wrong.

use std::io::{BufRead, IsTerminal};

use crate::config::Settings;
use crate::db::models::{NewUser, Organisation, Role, User};
use crate::db::{DbConnection, DbError, write_transaction};
use crate::server::{self, StartupError};
use crate::service::{ServiceError, admin_log, login_limits};

use super::limiter::LimitKey;
use super::normalise_email;
use super::password::{PasswordError, Passwords, check_policy};

/// Options of `vorgang user`.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
#[command(about = "Legt Benutzer an und setzt Passwörter", long_about = None)]
pub struct UserArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: UserCommand,
}

/// The subcommands of `vorgang user`.
#[derive(clap::Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum UserCommand {
    /// Creates a user with roles and a password.
    #[command(about = "Legt einen Benutzer an (Passwort von der Standardeingabe oder per Abfrage)")]
    Add(AddArgs),
    /// Sets a user's password.
    #[command(
        about = "Setzt das Passwort eines Benutzers (von der Standardeingabe oder per Abfrage)"
    )]
    Passwd(PasswdArgs),
    /// Lifts the limit on failed logins of an account or a client address.
    #[command(
        about = "Hebt die Anmeldesperre einer E-Mail-Adresse oder Client-Adresse auf (nach fehlgeschlagenen Anmeldungen)"
    )]
    Unlock(UnlockArgs),
}

/// Options of `vorgang user unlock`: exactly one of them.
#[derive(clap::Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct UnlockArgs {
    /// The e-mail address whose failures are forgotten.
    #[arg(
        long,
        value_name = "E-MAIL",
        help = "E-Mail-Adresse, deren Fehlversuche gelöscht werden"
    )]
    pub email: Option<String>,
    /// The client address whose failures are forgotten.
    #[arg(
        long,
        value_name = "ADRESSE",
        help = "Client-Adresse (IPv4 oder IPv6), deren Fehlversuche gelöscht werden"
    )]
    pub address: Option<String>,
}

/// Options of `vorgang user add`; taken as strings so we, not clap, validate them in German.
#[derive(clap::Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct AddArgs {
    /// The user's e-mail address (login name).
    #[arg(long, value_name = "E-MAIL", help = "E-Mail-Adresse (Anmeldename)")]
    pub email: Option<String>,
    /// The display name.
    #[arg(
        long,
        value_name = "NAME",
        help = "Anzeigename, z. B. \"Anna Schmidt\""
    )]
    pub name: Option<String>,
    /// The organisation, by AGS or key.
    #[arg(
        long,
        value_name = "AGS|SCHLÜSSEL",
        help = "Organisation: AGS (z. B. 05154) oder Schlüssel (z. B. KFI)"
    )]
    pub org: Option<String>,
    /// Roles; the option may be repeated.
    #[arg(
        long = "role",
        value_name = "ROLLE",
        help = "Rolle: admin, koordination, bewilligung oder lesen (mehrfach angebbar)"
    )]
    pub roles: Vec<String>,
}

/// Options of `vorgang user passwd`.
#[derive(clap::Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct PasswdArgs {
    /// The user's e-mail address.
    #[arg(long, value_name = "E-MAIL", help = "E-Mail-Adresse des Benutzers")]
    pub email: Option<String>,
}

/// A rejected `vorgang user` invocation; its `Display` is one German line.
#[derive(Debug, thiserror::Error)]
pub enum UserCliError {
    /// A required option was not given.
    #[error("{option} fehlt: Bitte geben Sie {what} an.")]
    Missing {
        /// The option, e.g. `--email`.
        option: &'static str,
        /// What it means, in an accusative phrase.
        what: &'static str,
    },
    /// The e-mail address is not plausible.
    #[error("--email: „{0}“ ist keine gültige E-Mail-Adresse.")]
    InvalidEmail(String),
    /// The display name is empty.
    #[error("--name darf nicht leer sein.")]
    EmptyName,
    /// No organisation has this AGS or key.
    #[error(
        "--org: Organisation „{0}“ ist unbekannt. Bitte geben Sie den AGS (z. B. 05154) oder den Schlüssel (z. B. KFI) an."
    )]
    UnknownOrganisation(String),
    /// A role name is unknown.
    #[error("--role: {0}")]
    UnknownRole(String),
    /// `vorgang user unlock` names both an account and an address.
    #[error("Bitte geben Sie entweder --email oder --address an, nicht beides.")]
    EmailOrAddress,
    /// The client address is none.
    #[error("--address: „{0}“ ist keine IPv4- oder IPv6-Adresse.")]
    InvalidAddress(String),
    /// A user with this address exists already.
    #[error("Ein Benutzer mit der E-Mail-Adresse „{0}“ existiert bereits.")]
    DuplicateEmail(String),
    /// No user has this address.
    #[error("Es gibt keinen Benutzer mit der E-Mail-Adresse „{0}“.")]
    UnknownUser(String),
    /// The password could not be read.
    #[error("Passwort: {0}")]
    PasswordInput(String),
    /// The two prompted passwords differ.
    #[error("Passwort: Die beiden Eingaben stimmen nicht überein.")]
    PasswordMismatch,
    /// The password violates the policy or could not be hashed.
    #[error("Passwort: {0}")]
    Password(#[from] PasswordError),
    /// Settings, data directory or database could not be opened.
    #[error(transparent)]
    Startup(#[from] StartupError),
    /// A query failed.
    #[error("Datenbank: {0}")]
    Database(#[from] DbError),
    /// The change was refused for another reason (German sentence).
    #[error("{0}")]
    Failed(String),
}

/// Runs `vorgang user …` against the configured database (migrating it first, like `serve`);
/// returns the line to print on success.
pub fn run(args: &UserArgs, settings: &Settings) -> Result<String, UserCliError> {
    match &args.command {
        UserCommand::Add(add) => {
            let request = AddRequest::parse(add)?;
            let mut conn = open(settings)?;
            add_user(&mut conn, &request, &Passwords::new(), read_new_password)
        }
        UserCommand::Passwd(passwd) => {
            let email = parse_email(passwd.email.as_deref())?;
            let mut conn = open(settings)?;
            set_password(&mut conn, &email, &Passwords::new(), read_new_password)
        }
        UserCommand::Unlock(unlock) => {
            let key = unlock_key(unlock)?;
            let mut conn = open(settings)?;
            unlock_key_now(&mut conn, &key)
        }
    }
}

/// The key `vorgang user unlock` names: an account (any address, known or not, since failures
/// are counted for both) or a client address.
fn unlock_key(args: &UnlockArgs) -> Result<LimitKey, UserCliError> {
    match (&args.email, &args.address) {
        (Some(_), Some(_)) => Err(UserCliError::EmailOrAddress),
        (Some(email), None) => Ok(LimitKey::account(&parse_email(Some(email))?)),
        (None, Some(address)) => LimitKey::address_named(address)
            .ok_or_else(|| UserCliError::InvalidAddress(address.trim().to_string())),
        (None, None) => Err(UserCliError::Missing {
            option: "--email oder --address",
            what: "die E-Mail-Adresse oder die Client-Adresse",
        }),
    }
}

/// Lifts the limits on `key` under the server's default limits, recorded as done on the
/// command line; nothing counted is no error (the sentence says so).
fn unlock_key_now(conn: &mut DbConnection, key: &LimitKey) -> Result<String, UserCliError> {
    let limiters = [
        super::LoginLimiter::default(),
        super::LoginLimiter::for_reset_links(super::RESET_LIMITS),
    ];
    match login_limits::lift(
        conn,
        &limiters,
        admin_log::COMMAND_LINE,
        key,
        chrono::Utc::now(),
    ) {
        Ok(lifted) => {
            let failures = lifted
                .iter()
                .map(|counted| u64::from(counted.failures))
                .sum();
            Ok(format!("{}.", login_limits::lifted_sentence(key, failures)))
        }
        Err(ServiceError::NotFound(_)) => Ok(format!(
            "Für {} sind keine fehlgeschlagenen Anmeldungen gezählt; es gab nichts aufzuheben.",
            login_limits::whose(key)
        )),
        Err(ServiceError::Db(error)) => Err(UserCliError::Database(error)),
        Err(other) => Err(UserCliError::Failed(other.to_string())),
    }
}

fn open(settings: &Settings) -> Result<crate::db::PooledConnection, UserCliError> {
    server::ensure_data_dir(settings)?;
    let (db, _applied) = server::open_and_migrate(settings)?;
    Ok(db.get()?)
}

/// The validated options of `vorgang user add`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddRequest {
    /// Normalised e-mail address.
    pub email: String,
    /// Trimmed display name.
    pub name: String,
    /// AGS or organisation key as given.
    pub org: String,
    /// Roles, sorted, without duplicates.
    pub roles: Vec<Role>,
}

impl AddRequest {
    /// Validates the options without touching the database.
    pub fn parse(args: &AddArgs) -> Result<Self, UserCliError> {
        let email = parse_email(args.email.as_deref())?;
        let name = args.name.as_deref().ok_or(UserCliError::Missing {
            option: "--name",
            what: "den Anzeigenamen",
        })?;
        let name = name.trim();
        if name.is_empty() {
            return Err(UserCliError::EmptyName);
        }
        let org = args.org.as_deref().map(str::trim).unwrap_or_default();
        if org.is_empty() {
            return Err(UserCliError::Missing {
                option: "--org",
                what: "die Organisation (AGS oder Schlüssel)",
            });
        }
        if args.roles.is_empty() {
            return Err(UserCliError::Missing {
                option: "--role",
                what: "mindestens eine Rolle (admin, koordination, bewilligung, lesen)",
            });
        }
        let mut roles = args
            .roles
            .iter()
            .map(|role| role.trim().parse::<Role>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(UserCliError::UnknownRole)?;
        roles.sort();
        roles.dedup();
        Ok(Self {
            email,
            name: name.to_string(),
            org: org.to_string(),
            roles,
        })
    }
}

fn parse_email(email: Option<&str>) -> Result<String, UserCliError> {
    let email = email.ok_or(UserCliError::Missing {
        option: "--email",
        what: "die E-Mail-Adresse",
    })?;
    let normalised = normalise_email(email);
    let plausible = normalised.len() <= 254
        && !normalised.chars().any(char::is_whitespace)
        && normalised.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if plausible {
        Ok(normalised)
    } else {
        Err(UserCliError::InvalidEmail(email.trim().to_string()))
    }
}

/// Creates the user: checks organisation and address first (before asking for a password),
/// then reads, checks and hashes the password, then inserts user and roles in one transaction.
pub fn add_user(
    conn: &mut DbConnection,
    request: &AddRequest,
    passwords: &Passwords,
    read_password: impl FnOnce() -> Result<String, UserCliError>,
) -> Result<String, UserCliError> {
    let organisation = Organisation::find_by_key(conn, &request.org)?
        .ok_or_else(|| UserCliError::UnknownOrganisation(request.org.clone()))?;
    if User::find_by_email(conn, &request.email)?.is_some() {
        return Err(UserCliError::DuplicateEmail(request.email.clone()));
    }
    let password = read_password()?;
    let hash = passwords.hash(&password)?;
    let mut new_user = NewUser::new(organisation.id, &request.email, &request.name);
    new_user.password_hash = Some(hash);
    let roles: Vec<&str> = request.roles.iter().map(|r| r.as_str()).collect();
    // User, roles and the record of their creation in one transaction. Another process may have
    // taken the address since the check above; the unique index then refuses it.
    let created = write_transaction(conn, |conn| {
        let created = new_user.create(conn, &request.roles)?;
        admin_log::record(
            conn,
            chrono::Utc::now().naive_utc(),
            admin_log::COMMAND_LINE,
            admin_log::USER_CREATED,
            &created.email,
            &serde_json::json!({ "organisation": organisation.key, "roles": roles }),
        )?;
        Ok(created)
    })
    .map_err(|error| match error {
        DbError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => UserCliError::DuplicateEmail(request.email.clone()),
        other => UserCliError::Database(other),
    })?;
    Ok(format!(
        "Benutzer {} angelegt: {} ({}), Rollen: {}.",
        created.email,
        organisation.designation(),
        organisation.key,
        roles.join(", ")
    ))
}

/// Sets the password of an existing user.
pub fn set_password(
    conn: &mut DbConnection,
    email: &str,
    passwords: &Passwords,
    read_password: impl FnOnce() -> Result<String, UserCliError>,
) -> Result<String, UserCliError> {
    let user = User::find_by_email(conn, email)?
        .ok_or_else(|| UserCliError::UnknownUser(email.to_string()))?;
    let password = read_password()?;
    let hash = passwords.hash(&password)?;
    let set = write_transaction(conn, |conn| {
        let set = User::set_password_hash(conn, user.id, &hash)?;
        if set {
            admin_log::record(
                conn,
                chrono::Utc::now().naive_utc(),
                admin_log::COMMAND_LINE,
                admin_log::PASSWORD_SET,
                &user.email,
                &serde_json::json!({}),
            )?;
        }
        Ok::<_, DbError>(set)
    })?;
    if !set {
        return Err(UserCliError::UnknownUser(email.to_string()));
    }
    Ok(format!("Passwort für {} gesetzt.", user.email))
}

/// Reads the new password: prompted twice without echo on a terminal, else stdin's first line.
fn read_new_password() -> Result<String, UserCliError> {
    let stdin = std::io::stdin();
    let password = if stdin.is_terminal() {
        let first = rpassword::prompt_password("Neues Passwort: ")
            .map_err(|e| UserCliError::PasswordInput(e.to_string()))?;
        check_policy(&first)?;
        let second = rpassword::prompt_password("Passwort wiederholen: ")
            .map_err(|e| UserCliError::PasswordInput(e.to_string()))?;
        if first != second {
            return Err(UserCliError::PasswordMismatch);
        }
        first
    } else {
        first_line(stdin.lock())?
    };
    check_policy(&password)?;
    Ok(password)
}

/// The first line of `input` without its line ending; other whitespace is part of the password.
pub fn first_line(mut input: impl BufRead) -> Result<String, UserCliError> {
    let mut line = String::new();
    let read = input
        .read_line(&mut line)
        .map_err(|e| UserCliError::PasswordInput(format!("Standardeingabe nicht lesbar: {e}")))?;
    if read == 0 {
        return Err(UserCliError::PasswordInput(
            "Die Standardeingabe ist leer; erwartet wird das Passwort in der ersten Zeile.".into(),
        ));
    }
    let line = line.strip_suffix('\n').unwrap_or(&line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    Ok(line.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(email: &str, name: &str, org: &str, roles: &[&str]) -> AddArgs {
        AddArgs {
            email: Some(email.into()),
            name: Some(name.into()),
            org: Some(org.into()),
            roles: roles.iter().map(|r| r.to_string()).collect(),
        }
    }

    #[test]
    fn options_are_validated_in_german() {
        let ok = AddRequest::parse(&add(
            " Anna@Kreis-Kleve.DE ",
            " Anna Schmidt ",
            "05154",
            &["lesen", "koordination", "lesen"],
        ))
        .unwrap();
        assert_eq!(ok.email, "anna@kreis-kleve.de");
        assert_eq!(ok.name, "Anna Schmidt");
        assert_eq!(ok.roles, [Role::Koordination, Role::Lesen]);

        let error = |args: AddArgs| AddRequest::parse(&args).unwrap_err().to_string();
        assert_eq!(
            error(add("kein-at", "A", "05154", &["lesen"])),
            "--email: „kein-at“ ist keine gültige E-Mail-Adresse."
        );
        assert_eq!(
            error(add("a@b.de", "A", "05154", &["chef"])),
            "--role: unbekannte Rolle „chef“ (bekannt: admin, koordination, bewilligung, lesen)"
        );
        assert!(error(add("a@b.de", "A", "05154", &[])).starts_with("--role fehlt"));
        assert!(error(add("a@b.de", " ", "05154", &["lesen"])).starts_with("--name"));
        assert!(error(AddArgs::default()).starts_with("--email fehlt"));
    }

    #[test]
    fn the_password_is_the_first_line_only() {
        let read = |text: &str| first_line(text.as_bytes());
        assert_eq!(read("geheim und lang\nzweite").unwrap(), "geheim und lang");
        assert_eq!(read("mit-crlf-am-ende\r\n").unwrap(), "mit-crlf-am-ende");
        assert_eq!(read(" ohne-zeilenende ").unwrap(), " ohne-zeilenende ");
        assert!(read("").is_err());
    }
}
