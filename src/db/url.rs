//! Which database a URL names; the scheme picks the backend.

use std::fmt;
use std::path::PathBuf;

use url::Url;

/// A validated database location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file (`sqlite://PATH`, `sqlite:PATH` or a plain path).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://` or `postgresql://`).
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses a URL from configuration; the error is a German reason for the operator.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("darf nicht leer sein".into());
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            let url = Url::parse(text).map_err(|e| {
                format!("„{}“ ist keine gültige PostgreSQL-URL ({e})", redact(text))
            })?;
            if url.path().trim_start_matches('/').is_empty() {
                return Err(format!(
                    "„{}“ nennt keine Datenbank (erwartet postgres://BENUTZER@HOST:PORT/DATENBANK)",
                    redact(text)
                ));
            }
            return Ok(DatabaseUrl::Postgres(text.to_string()));
        }
        if let Some(path) = text
            .strip_prefix("sqlite://")
            .or_else(|| text.strip_prefix("sqlite:"))
        {
            if path.is_empty() || path == ":memory:" {
                return Err(
                    "sqlite braucht einen Dateipfad, z. B. sqlite://./data/vorgang.db".into(),
                );
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(format!(
                "Schema „{scheme}“ wird nicht unterstützt; erlaubt sind sqlite://PFAD und postgres://…"
            ));
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(text)))
    }

    /// The URL with any password replaced, safe for logs and error messages.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => redact(url),
        }
    }

    /// Short backend name for logs and metrics.
    pub fn backend_name(&self) -> &'static str {
        match self {
            DatabaseUrl::Sqlite(_) => "sqlite",
            DatabaseUrl::Postgres(_) => "postgres",
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

fn redact(text: &str) -> String {
    match Url::parse(text) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_picks_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://./data/x.db").unwrap(),
            DatabaseUrl::Sqlite("./data/x.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("/var/lib/vorgang.db").unwrap(),
            DatabaseUrl::Sqlite("/var/lib/vorgang.db".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("postgresql://u@localhost/vorgang").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
    }

    #[test]
    fn bad_urls_are_rejected_with_a_reason() {
        assert!(
            DatabaseUrl::parse("mysql://h/db")
                .unwrap_err()
                .contains("mysql")
        );
        assert!(DatabaseUrl::parse("postgres://h:notaport/db").is_err());
        assert!(
            DatabaseUrl::parse("postgres://h")
                .unwrap_err()
                .contains("keine Datenbank")
        );
        assert!(DatabaseUrl::parse("sqlite://").is_err());
        assert!(DatabaseUrl::parse("  ").is_err());
    }

    #[test]
    fn passwords_never_appear_in_redacted_form() {
        let url = DatabaseUrl::parse("postgres://user:geheim@db/vorgang").unwrap();
        assert!(!url.redacted().contains("geheim"));
        assert!(!format!("{url}").contains("geheim"));
    }
}
