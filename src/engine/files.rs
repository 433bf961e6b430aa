//! Validating workflow files and directories: the imperative shell around the pure loader and
//! validator. Reads the files, parses and validates each, and adds the checks that need all of
//! them (workflow keys unique, `start_case` targets and the fields they receive).
//!
//! "Cannot read" (I/O) and "invalid" (diagnostics) are kept apart, because the CLI exits with
//! different codes for them.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use super::definition::Definition;
use super::diagnostic::{Diagnostic, Severity};
use super::load::{Loaded, load_definition};
use super::validate::{ValidationContext, validate, validate_start_case_targets};

/// A file or directory that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// The path as given or found.
    pub path: PathBuf,
    /// The operating system's reason.
    pub reason: String,
}

/// The outcome of validating a set of workflow files.
#[derive(Debug, Clone, Default)]
pub struct ValidateReport {
    /// Workflow files that were read, in the order they were checked.
    pub files: Vec<PathBuf>,
    /// Every diagnostic, file by file, each file's in position order.
    pub diagnostics: Vec<Diagnostic>,
    /// What could not be read at all.
    pub unreadable: Vec<Unreadable>,
    /// The definitions without errors, by file.
    pub valid: Vec<(PathBuf, Definition)>,
}

impl ValidateReport {
    /// Number of errors (warnings not counted).
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// Number of warnings.
    pub fn warning_count(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count()
    }

    /// Number of files with at least one error.
    pub fn invalid_file_count(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.file.as_str())
            .collect::<BTreeSet<_>>()
            .len()
    }

    /// 0: all valid (warnings allowed); 1: some definition is invalid; 2: something could not be
    /// read, or there was nothing to check.
    pub fn exit_code(&self) -> u8 {
        if !self.unreadable.is_empty() || self.files.is_empty() {
            2
        } else if self.error_count() > 0 {
            1
        } else {
            0
        }
    }
}

/// Validates workflow files; a directory stands for all `*.yaml`/`*.yml` files directly in it,
/// sorted by name. `start_case` may target any loaded workflow or one of `ctx.workflows`.
pub fn validate_paths(paths: &[PathBuf], ctx: &ValidationContext) -> ValidateReport {
    let mut report = ValidateReport::default();
    let files = expand(paths, &mut report.unreadable);

    let mut loaded: Vec<(PathBuf, Loaded)> = Vec::new();
    let mut failed: BTreeSet<PathBuf> = BTreeSet::new();
    let mut per_file: BTreeMap<PathBuf, Vec<Diagnostic>> = BTreeMap::new();
    for file in &files {
        let name = file.display().to_string();
        let text = match read_text(file, &name) {
            Ok(text) => text,
            Err(ReadError::Io(reason)) => {
                report.unreadable.push(Unreadable {
                    path: file.clone(),
                    reason,
                });
                continue;
            }
            Err(ReadError::Invalid(diagnostic)) => {
                per_file.entry(file.clone()).or_default().push(diagnostic);
                failed.insert(file.clone());
                report.files.push(file.clone());
                continue;
            }
        };
        report.files.push(file.clone());
        match load_definition(&name, &text) {
            Ok(definition) => loaded.push((file.clone(), definition)),
            Err(diagnostics) => {
                per_file
                    .entry(file.clone())
                    .or_default()
                    .extend(diagnostics);
                failed.insert(file.clone());
            }
        }
    }

    // Keys are unique across files: the second use is the error.
    let mut first_use: BTreeMap<&str, (&Path, (usize, usize))> = BTreeMap::new();
    for (file, item) in &loaded {
        let key = item.definition.workflow.as_str();
        let pos = item
            .tree
            .root
            .get("workflow")
            .map_or((1, 1), |node| node.pos.pair());
        if let Some((first_file, (line, column))) = first_use.get(key) {
            per_file
                .entry(file.clone())
                .or_default()
                .push(Diagnostic::error(
                    &item.tree.file,
                    pos,
                    "workflow",
                    format!(
                        "der Workflow-Schlüssel '{key}' wird bereits in {}:{line}:{column} \
                         verwendet",
                        first_file.display()
                    ),
                ));
        } else {
            first_use.insert(key, (file, pos));
        }
    }

    let mut full_ctx = ctx.clone();
    full_ctx
        .workflows
        .extend(loaded.iter().map(|(_, l)| l.definition.workflow.clone()));
    let targets: BTreeMap<&str, &Definition> = loaded
        .iter()
        .map(|(_, l)| (l.definition.workflow.as_str(), &l.definition))
        .rev() // the first file wins for a duplicated key
        .collect();
    for (file, item) in &loaded {
        let diagnostics = per_file.entry(file.clone()).or_default();
        diagnostics.extend(validate(&item.definition, &item.tree, &full_ctx));
        diagnostics.extend(validate_start_case_targets(
            &item.definition,
            &item.tree,
            &targets,
        ));
    }

    for file in &report.files {
        let mut diagnostics = per_file.remove(file).unwrap_or_default();
        diagnostics.sort_by_key(|d| (d.line, d.column));
        diagnostics.dedup();
        if !diagnostics.iter().any(Diagnostic::is_error)
            && !failed.contains(file)
            && let Some((_, item)) = loaded.iter().find(|(path, _)| path == file)
        {
            report.valid.push((file.clone(), item.definition.clone()));
        }
        report.diagnostics.extend(diagnostics);
    }
    report
}

/// The workflow files named by `paths`, directories expanded; unreadable ones are recorded.
fn expand(paths: &[PathBuf], unreadable: &mut Vec<Unreadable>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            match fs::read_dir(path) {
                Ok(entries) => {
                    let mut found: Vec<PathBuf> = entries
                        .filter_map(Result::ok)
                        .map(|entry| entry.path())
                        .filter(|p| p.is_file() && is_workflow_file(p))
                        .collect();
                    found.sort();
                    if found.is_empty() {
                        unreadable.push(Unreadable {
                            path: path.clone(),
                            reason: "keine Workflow-Dateien (*.yaml, *.yml) in diesem Verzeichnis"
                                .into(),
                        });
                    }
                    files.extend(found);
                }
                Err(error) => unreadable.push(Unreadable {
                    path: path.clone(),
                    reason: io_reason(&error),
                }),
            }
        } else {
            files.push(path.clone());
        }
    }
    let mut seen = BTreeSet::new();
    files.retain(|file| seen.insert(file.clone()));
    files
}

fn is_workflow_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// Why a path cannot be read, in German for the common cases (the system's own text, which
/// follows the server's locale, otherwise).
fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "nicht vorhanden".into(),
        std::io::ErrorKind::PermissionDenied => "keine Leseberechtigung".into(),
        std::io::ErrorKind::IsADirectory => "ein Verzeichnis, keine Datei".into(),
        _ => error.to_string(),
    }
}

enum ReadError {
    /// The file cannot be read at all.
    Io(String),
    /// The file was read but is not UTF-8 text.
    Invalid(Diagnostic),
}

fn read_text(path: &Path, name: &str) -> Result<String, ReadError> {
    let bytes = fs::read(path).map_err(|e| ReadError::Io(io_reason(&e)))?;
    String::from_utf8(bytes).map_err(|error| {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        let valid = String::from_utf8_lossy(valid);
        let line = valid.matches('\n').count() + 1;
        let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ReadError::Invalid(Diagnostic::error(
            name,
            (line, column),
            "",
            "die Datei ist kein gültiger UTF-8-Text",
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_support::{KI_ANTRAG, KI_BETRIEB, context};

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, text).unwrap();
        path
    }

    fn lines(report: &ValidateReport) -> Vec<String> {
        report.diagnostics.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_directory_of_valid_files_is_valid_and_start_case_finds_loaded_workflows() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "b-ki-antrag.yaml", KI_ANTRAG);
        write(dir.path(), "a-ki-betrieb.yml", KI_BETRIEB);
        write(dir.path(), "notes.txt", "not a workflow");
        let ctx = ValidationContext {
            workflows: BTreeSet::new(),
            ..context()
        };
        let report = validate_paths(&[dir.path().to_path_buf()], &ctx);
        assert_eq!(lines(&report), Vec::<String>::new());
        let names: Vec<_> = report.files.iter().filter_map(|f| f.file_name()).collect();
        assert_eq!(names, ["a-ki-betrieb.yml", "b-ki-antrag.yaml"]);
        assert_eq!(report.valid.len(), 2);
        assert_eq!(report.exit_code(), 0);
    }

    #[test]
    fn workflow_keys_must_be_unique_across_files() {
        let dir = tempfile::tempdir().unwrap();
        let first = write(dir.path(), "a.yaml", KI_BETRIEB);
        let second = write(dir.path(), "b.yaml", KI_BETRIEB);
        let report = validate_paths(&[first.clone(), second.clone()], &context());
        assert_eq!(
            lines(&report),
            [format!(
                "{}:1:11: Fehler: der Workflow-Schlüssel 'ki-betrieb' wird bereits in {}:1:11 \
                 verwendet",
                second.display(),
                first.display()
            )]
        );
        assert_eq!(report.exit_code(), 1);
        assert_eq!(report.valid.len(), 1);
    }

    #[test]
    fn start_case_targets_must_exist_and_receive_known_fields() {
        let dir = tempfile::tempdir().unwrap();
        let antrag = write(dir.path(), "antrag.yaml", KI_ANTRAG);
        let ctx = ValidationContext {
            workflows: BTreeSet::new(),
            ..context()
        };
        let report = validate_paths(std::slice::from_ref(&antrag), &ctx);
        assert_eq!(
            lines(&report),
            [format!(
                "{}:140:33: Fehler: unbekannter Workflow 'ki-betrieb' in \
                 steps.bewilligt.on_enter[0].start_case.workflow (bekannt: ki-antrag)",
                antrag.display()
            )]
        );

        let betrieb = write(
            dir.path(),
            "betrieb.yaml",
            &KI_BETRIEB.replace("  arbeitsaufnahme: { type: date", "  beginn: { type: date"),
        );
        let report = validate_paths(&[antrag.clone(), betrieb], &ctx);
        assert_eq!(
            lines(&report),
            [format!(
                "{}:140:53: Fehler: unbekanntes Datenfeld 'arbeitsaufnahme' im Workflow 'ki-betrieb', \
                 genannt in steps.bewilligt.on_enter[0].start_case.data.arbeitsaufnahme (bekannt: beginn)",
                antrag.display()
            )]
        );
    }

    #[test]
    fn unreadable_and_invalid_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("fehlt.yaml");
        let report = validate_paths(std::slice::from_ref(&missing), &context());
        assert_eq!(report.unreadable.len(), 1);
        assert_eq!(report.exit_code(), 2);

        let broken = write(dir.path(), "kaputt.yaml", "workflow: [\n");
        let report = validate_paths(&[broken], &context());
        assert!(report.unreadable.is_empty());
        assert_eq!(report.error_count(), 1);
        assert_eq!(report.exit_code(), 1);

        let empty = tempfile::tempdir().unwrap();
        let report = validate_paths(&[empty.path().to_path_buf()], &context());
        assert_eq!(report.exit_code(), 2);
    }

    #[test]
    fn files_that_are_not_utf8_are_invalid_at_the_bad_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latin1.yaml");
        fs::write(&path, b"workflow: w\ntitle: Gr\xfc\xdfe\n").unwrap();
        let report = validate_paths(std::slice::from_ref(&path), &context());
        assert_eq!(
            lines(&report),
            [format!(
                "{}:2:10: Fehler: die Datei ist kein gültiger UTF-8-Text",
                path.display()
            )]
        );
        assert_eq!(report.exit_code(), 1);
    }
}
