//! The first start of an installation: without any user nobody could log in, so `vorgang serve`
//! creates an administrator with a random one-time password, which the server prints once on
//! stdout (never into the log) and the web interface makes the administrator replace at the
//! first login.

use std::fmt;

use crate::auth::Passwords;
use crate::db::models::{NewUser, Organisation, Role, User};
use crate::db::{DbConnection, DbError, write_transaction};

/// The organisation the first administrator belongs to: the Kompetenzzentrum für Integration,
/// the Bewilligungsbehörde every installation has (seeded by the first migration). An admin's
/// permissions do not depend on it.
pub const ADMIN_ORGANISATION: &str = "KFI";

/// Length of the one-time password.
pub const PASSWORD_CHARS: usize = 20;

/// Characters of one-time passwords: letters and digits without look-alikes (0/O, 1/l/I), so the
/// password can be read off a console and typed without mistakes.
const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// The administrator created on the first start, with the password to show once.
pub struct FirstAdmin {
    /// Login name.
    pub email: String,
    /// The one-time password (must be changed at the first login).
    pub password: String,
}

impl fmt::Debug for FirstAdmin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FirstAdmin")
            .field("email", &self.email)
            .field("password", &"<verborgen>")
            .finish()
    }
}

/// Why the first administrator could not be created.
#[derive(Debug, thiserror::Error)]
pub enum FirstRunError {
    /// The operating system gave no randomness.
    #[error("kein Zufall für das Einmalpasswort verfügbar: {0}")]
    Random(String),
    /// The organisation of the administrator is missing (the migrations seed it).
    #[error("Organisation {ADMIN_ORGANISATION} fehlt in der Datenbank")]
    NoOrganisation,
    /// Hashing the password failed.
    #[error("{0}")]
    Password(#[from] crate::auth::password::PasswordError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for FirstRunError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Db(error.into())
    }
}

/// A one-time password: [`PASSWORD_CHARS`] characters of [`ALPHABET`], uniformly (rejection
/// sampling, so no character is likelier than another).
pub fn one_time_password() -> Result<String, FirstRunError> {
    let limit = 256 - 256 % ALPHABET.len();
    let mut password = String::with_capacity(PASSWORD_CHARS);
    while password.len() < PASSWORD_CHARS {
        let mut buffer = [0u8; 32];
        getrandom::fill(&mut buffer).map_err(|e| FirstRunError::Random(e.to_string()))?;
        for byte in buffer {
            if usize::from(byte) < limit && password.len() < PASSWORD_CHARS {
                password.push(char::from(ALPHABET[usize::from(byte) % ALPHABET.len()]));
            }
        }
    }
    Ok(password)
}

/// The administrator's address: `admin@` the host of `public_url` when that makes a plain
/// address, else `admin@vorgang.invalid`.
pub fn admin_email(public_url: &url::Url) -> String {
    let host = public_url.host_str().unwrap_or_default().to_lowercase();
    let plain = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if plain {
        format!("admin@{host}")
    } else {
        "admin@vorgang.invalid".to_string()
    }
}

/// Creates the first administrator when the database has no user at all; `None` when there are
/// users already (every later start), including when another instance starting at the same time
/// created the administrator first.
pub fn ensure_admin(
    conn: &mut DbConnection,
    passwords: &Passwords,
    public_url: &url::Url,
) -> Result<Option<FirstAdmin>, FirstRunError> {
    if User::any_exists(conn)? {
        return Ok(None);
    }
    let password = one_time_password()?;
    let hash = passwords.hash(&password)?;
    let email = admin_email(public_url);
    let created = write_transaction(conn, |conn| {
        if User::any_exists(conn)? {
            return Ok(false);
        }
        let organisation = Organisation::find_by_key(conn, ADMIN_ORGANISATION)?
            .ok_or(FirstRunError::NoOrganisation)?;
        let mut admin = NewUser::new(organisation.id, &email, "Administration");
        admin.password_hash = Some(hash);
        admin.must_change_password = true;
        admin.create(conn, &[Role::Admin])?;
        super::admin_log::record(
            conn,
            chrono::Utc::now().naive_utc(),
            super::admin_log::FIRST_START,
            super::admin_log::USER_CREATED,
            &email,
            &serde_json::json!({ "organisation": ADMIN_ORGANISATION, "roles": ["admin"] }),
        )?;
        Ok::<_, FirstRunError>(true)
    });
    match created {
        Ok(true) => Ok(Some(FirstAdmin { email, password })),
        Ok(false) => Ok(None),
        // PostgreSQL: another instance inserted the same administrator in the meantime.
        Err(FirstRunError::Db(DbError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )))) => Ok(None),
        Err(error) => Err(error),
    }
}

/// The lines `vorgang serve` prints on stdout after creating the first administrator.
pub fn announcement(admin: &FirstAdmin, public_url: &url::Url) -> String {
    let login = format!("{}/login", public_url.as_str().trim_end_matches('/'));
    format!(
        "Erster Start: Ein Administrationskonto wurde angelegt.\n\
         \x20 Anmeldung:  {login}\n\
         \x20 E-Mail:     {}\n\
         \x20 Passwort:   {}\n\
         Das Passwort wird nur dieses eine Mal angezeigt. Bei der ersten Anmeldung müssen Sie \
         ein eigenes Passwort festlegen.",
        admin.email, admin.password
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_passwords_use_the_unambiguous_alphabet() {
        let a = one_time_password().unwrap();
        let b = one_time_password().unwrap();
        assert_eq!(a.chars().count(), PASSWORD_CHARS);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| ALPHABET.contains(&c)), "{a}");
        for ambiguous in ['0', 'O', '1', 'l', 'I'] {
            assert!(!ALPHABET.contains(&(ambiguous as u8)));
        }
        crate::auth::password::check_policy(&a).unwrap();
    }

    #[test]
    fn the_admin_address_follows_the_public_host() {
        let url = |text: &str| url::Url::parse(text).unwrap();
        assert_eq!(
            admin_email(&url("https://Vorgang.Kreis-Kleve.de")),
            "admin@vorgang.kreis-kleve.de"
        );
        assert_eq!(
            admin_email(&url("http://127.0.0.1:8080")),
            "admin@127.0.0.1"
        );
        assert_eq!(
            admin_email(&url("http://[::1]:8080")),
            "admin@vorgang.invalid"
        );
    }
}
