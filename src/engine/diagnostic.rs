//! Diagnostics about workflow files, printed like a compiler's (`file:line:col: Fehler: …`), and
//! the did-you-mean helper every "unknown name" message uses.
//!
//! Diagnostics are read by the administrators who write workflows, in the editor, the API's answer
//! and the CLI, so they are German like the rest of the product; YAML keys, names and the path of
//! the place in the file (`steps.entwurf.actions.weiter.to`) stay as written, so a reader never
//! has to guess what a message refers to.

use std::fmt;

/// How bad a finding is: errors make a definition unusable, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The definition cannot be used.
    Error,
    /// Probably a mistake, but the definition works.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "Fehler",
            Severity::Warning => "Warnung",
        })
    }
}

/// One finding in a workflow file, with the exact 1-based position it is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    /// The file as named to the user (`workflows/ki-antrag.yaml`).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, in German, compiler style.
    pub message: String,
    /// Dotted path of the place in the file (`steps.entwurf.actions.weiter.to`); empty for the
    /// file as a whole.
    pub path: String,
}

impl Diagnostic {
    /// An error at a position.
    pub fn error(
        file: &str,
        (line, column): (usize, usize),
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.to_string(),
            line,
            column,
            severity: Severity::Error,
            message: message.into(),
            path: path.into(),
        }
    }

    /// A warning at a position.
    pub fn warning(
        file: &str,
        position: (usize, usize),
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(file, position, path, message)
        }
    }

    /// Whether this diagnostic makes the definition invalid.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.column, self.severity, self.message
        )
    }
}

/// The candidate closest to `name`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .filter(|candidate| *candidate != name)
        .filter_map(|candidate| {
            let distance = strsim::damerau_levenshtein(&lower, &candidate.to_lowercase());
            let longest = lower.chars().count().max(candidate.chars().count());
            let close = distance == 0
                || (distance <= 2 && distance < longest / 2 + 1)
                || strsim::normalized_damerau_levenshtein(&lower, &candidate.to_lowercase())
                    >= 0.75;
            close.then_some((distance, candidate))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// ` (meinten Sie 'x'?)` or nothing, ready to append to a message.
pub fn suggestion<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(name, candidates)
        .map(|candidate| format!(" (meinten Sie '{candidate}'?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_a_compiler() {
        let diagnostic = Diagnostic::error(
            "workflows/ki-antrag.yaml",
            (42, 9),
            "steps.kreistag_vorbereiten.actions.weiter.to",
            "unbekannter Schritt 'kreistg' in steps.kreistag_vorbereiten.actions.weiter.to (meinten Sie 'kreistag'?)",
        );
        assert_eq!(
            diagnostic.to_string(),
            "workflows/ki-antrag.yaml:42:9: Fehler: unbekannter Schritt 'kreistg' in \
             steps.kreistag_vorbereiten.actions.weiter.to (meinten Sie 'kreistag'?)"
        );
        let warning = Diagnostic::warning("a.yaml", (1, 1), "", "Vorsicht");
        assert_eq!(warning.to_string(), "a.yaml:1:1: Warnung: Vorsicht");
    }

    #[test]
    fn suggests_close_names_only() {
        let names = ["kreistag", "entwurf", "beteiligung", "to"];
        assert_eq!(did_you_mean("kreistg", names), Some("kreistag"));
        assert_eq!(did_you_mean("tto", names), Some("to"));
        assert_eq!(did_you_mean("Entwurf", names), Some("entwurf"));
        assert_eq!(did_you_mean("beteilgung", names), Some("beteiligung"));
        assert_eq!(did_you_mean("xyz", names), None);
        assert_eq!(did_you_mean("ab", names), None);
        assert_eq!(suggestion("xyz", names), "");
    }
}
