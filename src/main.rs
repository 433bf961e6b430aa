//! The `vorgang` command line: serve, migrate, and the tools operators need.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use vorgang::auth::cli::{UserArgs, UserCliError};
use vorgang::config::{self, Settings};
use vorgang::engine::cli::ValidateArgs;
use vorgang::frist::cli::{FristArgs, FristCliError};
use vorgang::journal::cli::AuditArgs;
use vorgang::server::{self, StartupError};
use vorgang::service::demo::cli::{DemoArgs, DemoCliError};
use vorgang::telemetry;

/// The allocator of the server binary (see Cargo.toml: glibc's malloc contends under load).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Vorgangsbearbeitung für Verwaltungsverfahren mit Fristen und Beteiligungen.
#[derive(Debug, Parser)]
#[command(name = "vorgang", version, about, long_about = None)]
struct Cli {
    /// Konfigurationsdatei (Voreinstellung: ./vorgang.toml, falls vorhanden; auch VORGANG_CONFIG).
    #[arg(long, global = true, value_name = "DATEI")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Startet den HTTP-Server (wendet ausstehende Migrationen vorher an).
    Serve,
    /// Wendet ausstehende Datenbankmigrationen an und beendet sich.
    Migrate,
    /// Berechnet das Ende einer Frist nach §§ 187–193 BGB und § 31 VwVfG NRW.
    Frist(FristArgs),
    /// Prüft Workflow-Definitionen und meldet jedes Problem mit Datei:Zeile:Spalte.
    Validate {
        #[command(flatten)]
        args: ValidateArgs,
        /// Vorlagenverzeichnis (mit `mail/`, `partials/`), dessen Dateien die mitgelieferten
        /// Vorlagen ersetzen; gegen das Ergebnis werden Vorlagennamen und -variablen geprüft.
        /// (Voreinstellung: ./templates, falls vorhanden.)
        #[arg(long, value_name = "VERZEICHNIS")]
        templates: Option<PathBuf>,
    },
    /// Gibt das JSON-Schema des Workflow-Formats aus (für die Autovervollständigung im Editor).
    Schema,
    /// Liest eine BPMN-2.0-Datei (Camunda Modeler, bpmn.io) und gibt einen Entwurf der
    /// Workflow-Definition als YAML aus; Hinweise auf Fehlendes nach stderr (Exit-Code 0:
    /// Entwurf ausgegeben, 2: Datei nicht lesbar).
    ImportBpmn {
        /// Die BPMN-Datei.
        #[arg(value_name = "DATEI")]
        file: PathBuf,
    },
    /// Prüft die Unversehrtheit der Vorgangsjournale und der Dokumentablage (Exit-Code 0:
    /// unversehrt, 1: gebrochen oder verändert).
    Audit(AuditArgs),
    /// Sichert Datenbank und Dokumentablage in ein neues Verzeichnis, auch im laufenden Betrieb
    /// (Exit-Code 0: vollständig, 1: Dokumentdateien fehlten, 2: keine Sicherung angelegt).
    Backup(vorgang::backup::cli::BackupArgs),
    /// Stellt eine Sicherung in eine leere Datenbank und die Dokumentablage wieder her
    /// (Exit-Code 0: wiederhergestellt, 2: nichts verändert).
    Restore(vorgang::backup::cli::RestoreArgs),
    /// Überträgt alle Daten einer anderen vorgang-Datenbank (z. B. der SQLite-Datei eines
    /// Probebetriebs) in die eingestellte, neue Datenbank (z. B. PostgreSQL); beide Richtungen
    /// (Exit-Code 0: übertragen, 2: nichts verändert).
    Transfer(vorgang::backup::cli::TransferArgs),
    /// Legt Benutzer an und setzt Passwörter.
    User(UserArgs),
    /// Übernimmt Partnerstellen, Gemeinden und Adressen aus einer Tabelle (CSV) oder gibt sie
    /// als Tabelle aus.
    #[command(subcommand)]
    Organisations(vorgang::service::organisation_cli::OrganisationsCommand),
    /// Lädt Demodaten (Kreis Coesfeld, Stadt Bielefeld, Bewilligungsbehörde) oder entfernt sie
    /// mit --remove wieder (Exit-Code 0: erledigt, 1: abgelehnt, nichts geändert).
    Demo(DemoArgs),
    /// Zeigt die regelmäßigen Aufgaben oder führt eine davon einmal aus.
    #[command(subcommand)]
    Jobs(JobsCommand),
}

#[derive(Debug, Subcommand)]
enum JobsCommand {
    /// Zeigt die Aufgaben mit Zeitplan und nächstem Lauf.
    List,
    /// Führt eine Aufgabe einmal aus (Exit-Code 0: erfolgreich, 1: fehlgeschlagen oder schon gelaufen).
    Run {
        /// Name der Aufgabe, z. B. reminders oder housekeeping.
        job: String,
        /// Zeitpunkt, für den die Aufgabe läuft (RFC 3339, z. B. 2027-06-01T07:00:00+02:00);
        /// Voreinstellung: jetzt.
        #[arg(long, value_name = "ZEITPUNKT")]
        now: Option<String>,
    },
}

/// Everything a command can fail with; each is one German line on stderr and exit code 2.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error(transparent)]
    Frist(#[from] FristCliError),
    #[error(transparent)]
    Audit(#[from] vorgang::journal::cli::AuditError),
    #[error("Vorlagenverzeichnis {path}: {reason}")]
    Templates { path: String, reason: String },
    #[error(transparent)]
    User(#[from] UserCliError),
    #[error(transparent)]
    Backup(#[from] vorgang::backup::BackupError),
    #[error("Unbekannte Aufgabe „{name}“ (bekannt: {known})")]
    UnknownJob { name: String, known: String },
    #[error("--now: „{0}“ ist kein Zeitpunkt nach RFC 3339 (z. B. 2027-06-01T07:00:00+02:00)")]
    InvalidNow(String),
    #[error("Datenbank: {0}")]
    Job(#[from] vorgang::service::ServiceError),
}

/// Exit code for every start-up and input error: the operator must change something.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("vorgang: {error}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// `vorgang validate`: exit 0 valid, 1 invalid, 2 cannot read.
fn validate(
    args: &ValidateArgs,
    templates: Option<&std::path::Path>,
) -> Result<ExitCode, CliError> {
    let templates = match templates {
        Some(dir) if !dir.is_dir() => {
            return Err(CliError::Templates {
                path: dir.display().to_string(),
                reason: "Verzeichnis gibt es nicht".into(),
            });
        }
        Some(dir) => dir,
        None => std::path::Path::new("templates"),
    };
    let loaded = vorgang::render::Templates::load(templates)
        .and_then(|loaded| {
            vorgang::service::mail::check_builtin_templates(&loaded)?;
            Ok(loaded)
        })
        .map_err(|error| CliError::Templates {
            path: templates.display().to_string(),
            reason: error.to_string(),
        })?;
    for warning in loaded.override_warnings() {
        println!("{}: Warnung: {warning}", templates.display());
    }
    let context = vorgang::service::mail::validation_context(&loaded);
    let (code, output) = vorgang::engine::cli::run_validate(args, &context);
    print!("{output}");
    Ok(ExitCode::from(code))
}

/// `vorgang import-bpmn`: the draft on stdout, its notes on stderr; 2 when the file cannot be
/// read as BPMN.
fn import_bpmn(file: &std::path::Path) -> ExitCode {
    let text = match std::fs::read(file) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => {
                eprintln!("{}: Die Datei ist nicht in UTF-8 kodiert.", file.display());
                return ExitCode::from(EXIT_USAGE);
            }
        },
        Err(error) => {
            eprintln!("{}: {error}", file.display());
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match vorgang::bpmn_import::import_bpmn(&text) {
        Ok(draft) => {
            print!("{}", draft.yaml);
            for note in &draft.notes {
                eprintln!("Hinweis: {note}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{}: {error}", file.display());
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// `vorgang jobs list` and `vorgang jobs run`.
fn jobs(cli: &Cli, command: &JobsCommand) -> Result<ExitCode, CliError> {
    use vorgang::scheduler::jobs::{self, JobContext, JobName, RunOutcome};
    let settings = load_settings(cli)?;
    match command {
        JobsCommand::List => {
            let now = chrono::Utc::now();
            for job in &settings.jobs.jobs {
                let next = match job.schedule.next_after(now) {
                    Some(at) if job.enabled => at.to_rfc3339(),
                    Some(_) => "abgeschaltet".to_string(),
                    None => "nie".to_string(),
                };
                println!(
                    "{:<14} {:<24} nächster Lauf: {next}",
                    job.name.as_str(),
                    job.schedule.expression()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        JobsCommand::Run { job, now } => {
            let name = JobName::parse(job).ok_or_else(|| CliError::UnknownJob {
                name: job.clone(),
                known: JobName::known(),
            })?;
            let now = match now {
                Some(text) => chrono::DateTime::parse_from_rfc3339(text.trim())
                    .map_err(|_| CliError::InvalidNow(text.clone()))?
                    .to_utc(),
                // Whole seconds, like the scheduled times: the run lock compares exactly.
                None => chrono::DateTime::from_timestamp(chrono::Utc::now().timestamp(), 0)
                    .unwrap_or_else(chrono::Utc::now),
            };
            server::ensure_data_dir(&settings)?;
            let secret = match &settings.secret {
                Some(secret) => secret.clone(),
                None => vorgang::secret::Secret::load_or_generate(&settings.data_dir)
                    .map_err(StartupError::from)?,
            };
            let (db, _) = server::open_and_migrate(&settings)?;
            let api = server::api_state(&settings, &secret)?;
            let owner = format!("vorgang jobs run (pid {})", std::process::id());
            let lease = chrono::TimeDelta::from_std(settings.timer_lease)
                .unwrap_or(chrono::TimeDelta::days(1));
            let ctx = JobContext {
                case: api.case_context(),
                jobs: &settings.jobs,
                owner: &owner,
                timer_lease: lease,
                stop: &|| false,
            };
            let mut conn = db.get().map_err(StartupError::from)?;
            let when = now.with_timezone(&jobs::ZONE).to_rfc3339();
            match jobs::run_locked(&mut conn, &ctx, name, now, now)? {
                RunOutcome::Ran { counts, .. } => {
                    println!(
                        "Aufgabe {name} für {when} ausgeführt: {}",
                        serde_json::Value::Object(counts)
                    );
                    Ok(ExitCode::SUCCESS)
                }
                RunOutcome::Failed { error, .. } => {
                    eprintln!("vorgang: Aufgabe {name} für {when} fehlgeschlagen: {error}");
                    Ok(ExitCode::from(1))
                }
                RunOutcome::Skipped => {
                    eprintln!("vorgang: Aufgabe {name} für {when} ist bereits gelaufen");
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}

fn load_settings(cli: &Cli) -> Result<Settings, StartupError> {
    Ok(config::load(cli.config.as_deref(), &|key| {
        std::env::var(key).ok()
    })?)
}

fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Serve => {
            let settings = load_settings(&cli)?;
            telemetry::init(settings.log);
            server::serve(settings)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let settings = load_settings(&cli)?;
            server::ensure_data_dir(&settings)?;
            let (db, applied) = server::open_and_migrate(&settings)?;
            if applied.is_empty() {
                println!("Datenbank {} ist aktuell.", db.url());
            } else {
                println!(
                    "Datenbank {}: {} Migration(en) angewendet: {}",
                    db.url(),
                    applied.len(),
                    applied.join(", ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema => {
            print!("{}", vorgang::engine::cli::json_schema());
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate { args, templates } => validate(&args, templates.as_deref()),
        Command::ImportBpmn { ref file } => Ok(import_bpmn(file)),
        Command::Frist(args) => {
            println!("{}", vorgang::frist::cli::run(&args)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(ref args) => {
            let settings = load_settings(&cli)?;
            let outcome = vorgang::journal::cli::run(args, &settings)?;
            for line in &outcome.lines {
                println!("{line}");
            }
            for line in &outcome.problems {
                eprintln!("{line}");
            }
            Ok(if outcome.intact {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Backup(ref args) => {
            let settings = load_settings(&cli)?;
            let (lines, problems) = vorgang::backup::cli::backup(args, &settings)?;
            for line in &lines {
                println!("{line}");
            }
            for line in &problems {
                eprintln!("{line}");
            }
            Ok(if problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Restore(ref args) => {
            let settings = load_settings(&cli)?;
            for line in vorgang::backup::cli::restore(args, &settings)? {
                println!("{line}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Transfer(ref args) => {
            let settings = load_settings(&cli)?;
            for line in vorgang::backup::cli::transfer(args, &settings)? {
                println!("{line}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Jobs(ref command) => jobs(&cli, command),
        Command::Demo(ref args) => {
            let settings = load_settings(&cli)?;
            match vorgang::service::demo::cli::run(args, &settings) {
                Ok(text) => {
                    print!("{text}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(DemoCliError::Failed(message)) => {
                    eprintln!("vorgang: {message}");
                    Ok(ExitCode::from(1))
                }
                Err(DemoCliError::Startup(error)) => Err(error.into()),
            }
        }
        Command::Organisations(ref command) => {
            use std::io::Write;
            let settings = load_settings(&cli)?;
            let outcome = vorgang::service::organisation_cli::run(command, &settings)?;
            // A closed pipe (`| head`) is no error of the command.
            let _ = std::io::stdout().write_all(&outcome.output);
            for line in &outcome.problems {
                eprintln!("{line}");
            }
            Ok(ExitCode::from(outcome.code))
        }
        Command::User(ref args) => {
            let settings = load_settings(&cli)?;
            println!("{}", vorgang::auth::cli::run(args, &settings)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}
