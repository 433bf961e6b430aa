//! The signing secret for tokens: configured, or generated once and kept in the data directory.
//!
//! The secret never appears in logs or `Debug` output.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Name of the file the generated secret is kept in, inside the data directory.
pub const SECRET_FILE: &str = "secret";

/// Fewer characters than this give too little entropy for HS256.
const MIN_LENGTH: usize = 32;

/// Key material for signing tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<verborgen>)")
    }
}

/// Why the secret could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The secret file exists but is unusable, or could not be written.
    #[error("Signaturschlüssel {path}: {reason}")]
    File { path: PathBuf, reason: String },
}

impl Secret {
    /// A secret given in configuration; it must be long enough to be worth its name.
    pub fn from_configured(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.chars().count() < MIN_LENGTH {
            return Err(format!(
                "muss mindestens {MIN_LENGTH} Zeichen lang sein (z. B. 64 Hex-Zeichen aus `openssl rand -hex 32`)"
            ));
        }
        Ok(Self(text.to_string()))
    }

    /// The key bytes for signing and verifying.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// Reads the secret kept in `data_dir`, or generates and keeps one (mode 0600) on first use.
    pub fn load_or_generate(data_dir: &Path) -> Result<Self, SecretError> {
        let path = data_dir.join(SECRET_FILE);
        let error = |reason: String| SecretError::File {
            path: path.clone(),
            reason,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                warn_if_readable_by_others(&path);
                return Self::from_configured(&text).map_err(error);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(error(format!("kann nicht gelesen werden: {e}"))),
        }
        std::fs::create_dir_all(data_dir)
            .map_err(|e| error(format!("Datenverzeichnis nicht anlegbar: {e}")))?;
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| error(format!("kein Zufall verfügbar: {e}")))?;
        let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        match write_new_private_file(&path, &text) {
            Ok(()) => {}
            // Another process created it in the meantime: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(error(format!("kann nicht geschrieben werden: {e}"))),
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| error(format!("kann nicht gelesen werden: {e}")))?;
        Self::from_configured(&text).map_err(error)
    }
}

/// Creates the file exclusively with owner-only permissions, so the secret is never world-readable.
pub fn write_new_private_file(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                path = %path.display(),
                "the signing secret file is readable by group or others; restrict it to mode 0600"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_kept_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        let first = Secret::load_or_generate(&data_dir).unwrap();
        let second = Secret::load_or_generate(&data_dir).unwrap();
        assert_eq!(first, second);
        assert_eq!(first.as_bytes().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(data_dir.join(SECRET_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let secret = Secret::from_configured(&"a".repeat(40)).unwrap();
        assert!(!format!("{secret:?}").contains("aaaa"));
    }

    #[test]
    fn short_or_corrupt_secrets_are_rejected() {
        assert!(Secret::from_configured("kurz").is_err());
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SECRET_FILE), "x").unwrap();
        let error = Secret::load_or_generate(dir.path())
            .unwrap_err()
            .to_string();
        assert!(error.contains("mindestens 32"), "{error}");
    }
}
