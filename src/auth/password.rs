//! Passwords: the policy, argon2id hashing, and verification that takes as long for a user that
//! does not exist as for one that does.
//!
//! Hashing and verifying are deliberately expensive and block; async callers run them on the
//! blocking pool (`actix_web::web::block`).

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// Shortest password accepted, counted in characters (not bytes).
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Password input of the dummy hash; its value does not matter, the result is always discarded.
const DUMMY_PASSWORD: &[u8] = b"vorgang-dummy-password";

/// Salt of the dummy hash: fixed so that building [`Passwords`] cannot fail for want of randomness.
const DUMMY_SALT: &[u8] = b"vorgang-dummy-salt";

/// Why a password could not be set.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// The password is shorter than [`MIN_PASSWORD_CHARS`].
    #[error("Das Passwort muss mindestens {MIN_PASSWORD_CHARS} Zeichen lang sein.")]
    TooShort,
    /// Argon2 failed (no randomness for the salt, or invalid parameters).
    #[error("Das Passwort konnte nicht verschlüsselt werden: {0}")]
    Hashing(String),
}

/// Checks the password policy: at least [`MIN_PASSWORD_CHARS`] characters.
pub fn check_policy(password: &str) -> Result<(), PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    Ok(())
}

/// Hashes and verifies passwords with argon2id; shared by the login endpoint and `vorgang user`.
#[derive(Debug, Clone)]
pub struct Passwords {
    params: Params,
    /// A hash with the same parameters as new hashes, verified against when there is no real one,
    /// so that "unknown user" costs as much time as "wrong password".
    dummy_hash: Option<String>,
}

impl Passwords {
    /// argon2id with the argon2 crate's default parameters (19 MiB, 2 passes, 1 lane), which
    /// follow the OWASP recommendation. This is what the server and `vorgang user` use.
    pub fn new() -> Self {
        Self::with_params(Params::default())
    }

    /// argon2id with other cost parameters. Exists for tests, which hash many passwords and use
    /// the cheapest parameters argon2 allows; production code uses [`Passwords::new`]. Stored
    /// hashes carry their own parameters, so hashes of either kind verify with either.
    pub fn with_params(params: Params) -> Self {
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let dummy_hash = match argon2.hash_password_with_salt(DUMMY_PASSWORD, DUMMY_SALT) {
            Ok(hash) => Some(hash.to_string()),
            Err(error) => {
                tracing::error!(%error, "cannot compute the dummy password hash");
                None
            }
        };
        Self { params, dummy_hash }
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Checks the policy and hashes the password into a PHC string with a fresh random salt.
    pub fn hash(&self, password: &str) -> Result<String, PasswordError> {
        check_policy(password)?;
        self.argon2()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| PasswordError::Hashing(e.to_string()))
    }

    /// True when `password` matches the stored hash. Without a stored hash (unknown user, or a
    /// user without password) or with an unreadable one, a dummy hash is verified instead so the
    /// answer takes comparable time, and the result is `false`.
    pub fn verify(&self, stored: Option<&str>, password: &str) -> bool {
        let argon2 = self.argon2();
        if let Some(stored) = stored {
            match argon2::PasswordHash::new(stored) {
                Ok(parsed) => return argon2.verify_password(password.as_bytes(), &parsed).is_ok(),
                Err(error) => {
                    tracing::warn!(%error, "a stored password hash cannot be parsed");
                }
            }
        }
        if let Some(dummy) = &self.dummy_hash {
            let _ = argon2.verify_password(password.as_bytes(), dummy.as_str());
        }
        false
    }
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Passwords {
        Passwords::with_params(Params::new(Params::MIN_M_COST, 1, 1, None).unwrap())
    }

    #[test]
    fn hashes_verify_and_are_salted() {
        let passwords = cheap();
        let first = passwords.hash("richtig-und-lang").unwrap();
        let second = passwords.hash("richtig-und-lang").unwrap();
        assert!(first.starts_with("$argon2id$v=19$"), "{first}");
        assert_ne!(first, second, "every hash gets its own salt");
        assert!(passwords.verify(Some(&first), "richtig-und-lang"));
        assert!(!passwords.verify(Some(&first), "falsch-aber-lang"));
    }

    #[test]
    fn production_parameters_are_the_crate_defaults() {
        let hash = Passwords::new().hash("richtig-und-lang").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        // Hashes carry their parameters: a cheap verifier checks a default-cost hash.
        assert!(cheap().verify(Some(&hash), "richtig-und-lang"));
    }

    #[test]
    fn missing_or_corrupt_hashes_never_match() {
        let passwords = cheap();
        assert!(!passwords.verify(None, "vorgang-dummy-password"));
        assert!(!passwords.verify(Some("kein-hash"), "irgendwas-langes"));
    }

    #[test]
    fn policy_counts_characters_not_bytes() {
        assert!(matches!(
            check_policy("elf-Zeichen"),
            Err(PasswordError::TooShort)
        ));
        assert!(check_policy("zwölf-Zeiche").is_ok());
        // Twelve characters, more bytes: "ä" is two bytes in UTF-8.
        assert!(check_policy("ääääääääääää").is_ok());
        assert!(check_policy("äääääääääää").is_err());
        assert!(matches!(cheap().hash("kurz"), Err(PasswordError::TooShort)));
    }
}
