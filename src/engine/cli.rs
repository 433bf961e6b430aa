//! The `vorgang validate` and `vorgang schema` commands. Return text and exit codes; the caller
//! prints.

use std::path::PathBuf;

use super::definition::Definition;
use super::files::validate_paths;
use super::validate::ValidationContext;

/// Options of `vorgang validate`.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
#[command(about = "Prüft Workflow-Definitionen und meldet jedes Problem mit Datei:Zeile:Spalte")]
pub struct ValidateArgs {
    /// Workflow files, or directories whose `*.yaml`/`*.yml` files are all checked.
    #[arg(value_name = "PATH", default_value = "workflows")]
    pub paths: Vec<PathBuf>,
}

/// Runs `vorgang validate`: one line per diagnostic, then a summary. Exit code 0 when every
/// definition is valid (warnings allowed), 1 when one is invalid, 2 when something could not be
/// read.
pub fn run_validate(args: &ValidateArgs, ctx: &ValidationContext) -> (u8, String) {
    let report = validate_paths(&args.paths, ctx);
    let mut out = String::new();
    for unreadable in &report.unreadable {
        out.push_str(&format!(
            "{}: Fehler: nicht lesbar: {}\n",
            unreadable.path.display(),
            unreadable.reason
        ));
    }
    for diagnostic in &report.diagnostics {
        out.push_str(&format!("{diagnostic}\n"));
    }
    let errors = report.error_count();
    let warnings = report.warning_count();
    let warning_note = if warnings > 0 {
        format!(" ({})", count(warnings, "Warnung", "Warnungen"))
    } else {
        String::new()
    };
    if !report.unreadable.is_empty() {
        out.push_str(&format!(
            "{} nicht lesbar\n",
            count(report.unreadable.len(), "Pfad", "Pfade")
        ));
    }
    if errors > 0 {
        out.push_str(&format!(
            "{} in {}{warning_note}\n",
            count(errors, "Fehler", "Fehler"),
            count(report.invalid_file_count(), "Datei", "Dateien")
        ));
    } else if !report.files.is_empty() {
        out.push_str(&format!(
            "{} gültig{warning_note}\n",
            count(
                report.valid.len(),
                "Workflow-Definition",
                "Workflow-Definitionen"
            )
        ));
    }
    (report.exit_code(), out)
}

fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The JSON Schema of workflow files (`vorgang schema`), pretty-printed: editors use it for
/// completion and checks while a definition is written.
pub fn json_schema() -> String {
    let mut schema = schemars::schema_for!(Definition);
    schema.insert(
        "$id".into(),
        "urn:vorgang:schema:workflow-definition".into(),
    );
    schema.insert("title".into(), "vorgang workflow definition".into());
    schema.insert(
        "description".into(),
        "One workflow of vorgang, as written in workflows/*.yaml (see docs/workflow-language.md)"
            .into(),
    );
    let mut text = serde_json::to_string_pretty(&schema)
        .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"));
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;

    use clap::Parser;

    use super::*;
    use crate::engine::test_support::{KI_ANTRAG, KI_BETRIEB, context};

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        validate: ValidateArgs,
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn paths_default_to_the_workflows_directory() {
        let cli = Cli::try_parse_from(["validate"]).unwrap();
        assert_eq!(cli.validate.paths, [PathBuf::from("workflows")]);
        let cli = Cli::try_parse_from(["validate", "a.yaml", "dir"]).unwrap();
        assert_eq!(
            cli.validate.paths,
            [PathBuf::from("a.yaml"), PathBuf::from("dir")]
        );
    }

    #[test]
    fn valid_definitions_exit_0_with_a_summary() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "ki-antrag.yaml", KI_ANTRAG);
        write(dir.path(), "ki-betrieb.yaml", KI_BETRIEB);
        let args = ValidateArgs {
            paths: vec![dir.path().to_path_buf()],
        };
        assert_eq!(
            run_validate(&args, &context()),
            (0, "2 Workflow-Definitionen gültig\n".to_string())
        );
    }

    #[test]
    fn invalid_definitions_exit_1_with_every_diagnostic() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "ki-betrieb.yaml",
            &KI_BETRIEB
                .replace("to: beendet", "to: beendt")
                .replace("role: koordination", "role: koordinaton"),
        );
        let args = ValidateArgs {
            paths: vec![path.clone()],
        };
        let file = path.display();
        assert_eq!(
            run_validate(&args, &context()),
            (
                1,
                format!(
                    "{file}:12:11: Fehler: unbekannte Rolle 'koordinaton' in steps.laufend.role (meinten Sie 'koordination'?)\n\
                     {file}:14:38: Fehler: unbekannter Schritt 'beendt' in steps.laufend.actions.beenden.to (meinten Sie 'beendet'?)\n\
                     2 Fehler in 1 Datei\n"
                )
            )
        );
    }

    #[test]
    fn unreadable_paths_exit_2() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("fehlt.yaml");
        let args = ValidateArgs {
            paths: vec![missing.clone()],
        };
        let (code, output) = run_validate(&args, &context());
        assert_eq!(code, 2);
        assert!(
            output.starts_with(&format!(
                "{}: Fehler: nicht lesbar: nicht vorhanden\n",
                missing.display()
            )),
            "{output}"
        );
        assert!(output.ends_with("1 Pfad nicht lesbar\n"), "{output}");
    }

    #[test]
    fn the_json_schema_describes_definitions() {
        let text = json_schema();
        let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(schema["$id"], "urn:vorgang:schema:workflow-definition");
        assert_eq!(schema["title"], "vorgang workflow definition");
        assert!(schema["properties"]["steps"].is_object());
        assert_eq!(
            schema["required"],
            serde_json::json!(["workflow", "title", "roles", "start", "steps"])
        );
        assert!(text.ends_with("}\n"));
    }
}
