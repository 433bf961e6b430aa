//! `vorgang validate`, `vorgang schema`, `vorgang import-bpmn` and `vorgang organisations` as
//! processes.

use std::path::Path;

use crate::support::process::vorgang;

fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `vorgang validate --templates DIR` in the project: the shipped workflows against DIR's overrides.
fn validate_shipped_workflows_with(templates: &Path) -> std::process::Output {
    vorgang()
        .args(["validate", "--templates"])
        .arg(templates)
        .current_dir(project())
        .output()
        .unwrap()
}

#[test]
fn the_shipped_workflows_are_valid() {
    let output = vorgang()
        .arg("validate")
        .current_dir(project())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("3 Workflow-Definitionen gültig"),
        "{stdout}"
    );
}

#[test]
fn an_invalid_definition_is_reported_like_a_compiler_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(project().join("workflows/ki-anregung.yaml"))
        .unwrap()
        .replacen("to: ", "to: entscheidnug_typo_", 1);
    let file = dir.path().join("kaputt.yaml");
    std::fs::write(&file, text).unwrap();
    let output = vorgang()
        .args(["validate", file.to_str().unwrap(), "--templates"])
        .arg(project().join("templates/mail"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let first = stdout.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("{}:", file.display())),
        "{first}"
    );
    assert!(
        first.contains(": Fehler: unbekannter Schritt 'entscheidnug_typo_"),
        "{first}"
    );
    assert!(
        stdout
            .lines()
            .last()
            .is_some_and(|l| l.ends_with(" Fehler in 1 Datei")),
        "{stdout}"
    );
}

#[test]
fn an_unreadable_path_exits_2() {
    let output = vorgang()
        .args(["validate", "/nonexistent/workflows"])
        .current_dir(project())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .starts_with("/nonexistent/workflows: Fehler: nicht lesbar: nicht vorhanden\n"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let output = vorgang()
        .args(["validate", "--templates", "/nonexistent/templates"])
        .current_dir(project())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("vorgang: Vorlagenverzeichnis"));
}

#[test]
fn the_committed_json_schema_is_current() {
    let output = vorgang().arg("schema").output().unwrap();
    assert!(output.status.success());
    let committed = std::fs::read_to_string(project().join("docs/workflow.schema.json")).unwrap();
    assert!(
        String::from_utf8_lossy(&output.stdout) == committed,
        "docs/workflow.schema.json is stale: run `cargo run -- schema > docs/workflow.schema.json`"
    );
    let schema: serde_json::Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(schema["title"], "vorgang workflow definition");
    assert!(schema["properties"]["steps"].is_object());
}

#[test]
fn templates_are_checked_for_the_variables_of_each_use() {
    // An override that uses a variable no mail provides.
    let templates = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(templates.path().join("mail")).unwrap();
    std::fs::write(
        templates
            .path()
            .join("mail/beteiligung_erinnerung.text.hbs"),
        "Erinnerung an {{empfaenger.anrede}}: {{link}}\n",
    )
    .unwrap();
    let output = validate_shipped_workflows_with(templates.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("Mailvorlage 'beteiligung_erinnerung'")
            && stdout.contains("empfaenger.anrede"),
        "{stdout}"
    );

    // An invitation template used for a mail to the applicant, which has no deadline or link.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(project().join("workflows/ki-antrag.yaml"))
        .unwrap()
        .replacen(
            "template: antrag_eingegangen",
            "template: beteiligung_einladung",
            1,
        );
    let file = dir.path().join("ki-antrag.yaml");
    std::fs::write(&file, text).unwrap();
    let output = vorgang()
        .args(["validate", file.to_str().unwrap()])
        .current_dir(project())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("Mailvorlage 'beteiligung_einladung'")
            && stdout.contains("kann für diese Mail nicht verwendet werden")
            && stdout.contains("frist"),
        "{stdout}"
    );
}

#[test]
fn page_overrides_with_an_unknown_variable_or_no_page_are_warned_about() {
    let templates = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(templates.path().join("ui")).unwrap();
    let page = std::fs::read_to_string(project().join("templates/ui/vorgang.hbs")).unwrap();
    assert!(
        page.contains("{{fall.aktenzeichen}}"),
        "the shipped page changed"
    );
    std::fs::write(
        templates.path().join("ui/vorgang.hbs"),
        page.replacen("{{fall.aktenzeichen}}", "{{fall.aktenzeichn}}", 1),
    )
    .unwrap();
    std::fs::write(templates.path().join("ui/vorgang_alt.hbs"), "<p>alt</p>").unwrap();
    let output = validate_shipped_workflows_with(templates.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    // Warnings only: the workflows are valid, and the page may still be right.
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let warnings: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains(": Warnung: "))
        .collect();
    assert_eq!(warnings.len(), 2, "{stdout}");
    assert!(
        warnings[0].contains("Vorlage ui/vorgang.hbs verwendet „fall.aktenzeichn“"),
        "{stdout}"
    );
    assert!(
        warnings[1].contains("Vorlage ui/vorgang_alt.hbs ersetzt keine mitgelieferte Seite"),
        "{stdout}"
    );

    // The unchanged page draws no warning.
    std::fs::write(templates.path().join("ui/vorgang.hbs"), page).unwrap();
    std::fs::remove_file(templates.path().join("ui/vorgang_alt.hbs")).unwrap();
    let output = validate_shipped_workflows_with(templates.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("Warnung"), "{stdout}");
}

#[test]
fn import_bpmn_prints_a_draft_and_its_notes_and_refuses_what_it_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(project().join("workflows/ki-anregung.yaml")).unwrap();
    let definition = vorgang::engine::load::parse_definition("ki-anregung.yaml", &text).unwrap();
    let file = dir.path().join("anregung.bpmn");
    std::fs::write(&file, vorgang::render::bpmn::workflow_bpmn(&definition, 1)).unwrap();
    let output = vorgang().arg("import-bpmn").arg(&file).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let draft = vorgang::engine::load::parse_definition("entwurf.yaml", &stdout).unwrap();
    assert_eq!(draft.workflow, "ki-anregung");
    assert_eq!(
        draft.steps.keys().collect::<Vec<_>>(),
        definition.steps.keys().collect::<Vec<_>>()
    );
    assert!(
        stderr.lines().all(|line| line.starts_with("Hinweis: ")) && stderr.contains("„anregung“"),
        "{stderr}"
    );

    let broken = dir.path().join("kaputt.bpmn");
    std::fs::write(&broken, b"<definitions").unwrap();
    let latin1 = dir.path().join("latin1.bpmn");
    std::fs::write(&latin1, b"<a>\xe4</a>").unwrap();
    for (path, message) in [
        (broken, "kein lesbares XML"),
        (latin1, "nicht in UTF-8"),
        (dir.path().join("fehlt.bpmn"), "fehlt.bpmn"),
    ] {
        let output = vorgang().arg("import-bpmn").arg(&path).output().unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(output.stdout.is_empty());
        assert!(stderr.contains(message), "{stderr}");
    }
}

/// `vorgang organisations …` in `dir` with its own SQLite database; (exit code, stdout, stderr).
fn organisations(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let args: Vec<&str> = std::iter::once("organisations")
        .chain(args.iter().copied())
        .collect();
    crate::support::process::run_in(dir, &args)
}

#[test]
fn organisations_come_from_a_table_on_the_command_line_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("partner.csv");
    std::fs::write(
        &table,
        "schluessel;name;art;uebergeordnet;funktionspostfach\n\
         CARITAS-COE;Caritasverband für den Kreis Coesfeld;partner;05558;info@caritas-coesfeld.de\n\
         STADT-DUELMEN;Stadt Dülmen;gemeinde;05558;integration@duelmen.de\n",
    )
    .unwrap();
    let path = table.to_str().unwrap();

    // A trial run reports and stores nothing; then the table is taken.
    let (code, stdout, stderr) = organisations(dir.path(), &["import", path, "--dry-run"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("2 Organisationen würden angelegt (CARITAS-COE, STADT-DUELMEN)"),
        "{stdout}"
    );
    let (_, exported, _) = organisations(dir.path(), &["export"]);
    assert!(
        !exported.contains("CARITAS-COE"),
        "a trial run stores nothing"
    );
    let (code, stdout, stderr) = organisations(dir.path(), &["import", path]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("2 Organisationen wurden angelegt"),
        "{stdout}"
    );

    // The export gives them back as a table, which comes back unchanged.
    let (code, exported, stderr) = organisations(dir.path(), &["export"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        exported.starts_with(
            "\u{feff}schluessel;name;art;uebergeordnet;funktionspostfach;kontakte;leitung\r\n"
        ),
        "{exported}"
    );
    assert!(
        exported
            .contains("\r\nSTADT-DUELMEN;Stadt Dülmen;gemeinde;05558;integration@duelmen.de;;\r\n"),
        "{exported}"
    );
    let back = dir.path().join("zurueck.csv");
    std::fs::write(&back, &exported).unwrap();
    let (code, stdout, _) = organisations(dir.path(), &["import", back.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains(
            "0 Organisationen wurden angelegt (keine), bei 0 die Adressen ersetzt (keine)"
        ),
        "{stdout}"
    );

    // Rows with errors: named like a compiler's, exit 1, nothing stored.
    let faulty = dir.path().join("fehler.csv");
    std::fs::write(&faulty, "schluessel;name;funktionspostfach\nDRK-COE;DRK;drk(at)coesfeld.de\nAWO-COE;AWO;awo@coesfeld.de\n").unwrap();
    let (code, _, stderr) = organisations(dir.path(), &["import", faulty.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}:2: Spalte „funktionspostfach“:",
            faulty.display()
        )),
        "{stderr}"
    );
    let (_, exported, _) = organisations(dir.path(), &["export"]);
    assert!(
        !exported.contains("AWO-COE"),
        "nothing of a faulty table is stored"
    );

    // A table that cannot be read, or no file: exit 2.
    let latin1 = dir.path().join("latin1.csv");
    std::fs::write(&latin1, b"Schl\xfcssel;Name\nA;B\n").unwrap();
    let (code, _, stderr) = organisations(dir.path(), &["import", latin1.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("UTF-8"), "{stderr}");
    let (code, _, stderr) = organisations(dir.path(), &["import", "fehlt.csv"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("fehlt.csv: nicht lesbar"), "{stderr}");
}
