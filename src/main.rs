//! The `vorgang` command line: serve, migrate, and the tools operators need.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use vorgang::auth::cli::{UserArgs, UserCliError};
use vorgang::config::{self, Settings};
use vorgang::frist::cli::{FristArgs, FristCliError};
use vorgang::server::{self, StartupError};
use vorgang::telemetry;

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
    /// Legt Benutzer an und setzt Passwörter.
    User(UserArgs),
}

/// Everything a command can fail with; each is one German line on stderr and exit code 2.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error(transparent)]
    Frist(#[from] FristCliError),
    #[error(transparent)]
    User(#[from] UserCliError),
}

/// Exit code for every start-up and input error: the operator must change something.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("vorgang: {error}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn load_settings(cli: &Cli) -> Result<Settings, StartupError> {
    Ok(config::load(cli.config.as_deref(), &|key| {
        std::env::var(key).ok()
    })?)
}

fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Serve => {
            let settings = load_settings(&cli)?;
            telemetry::init(settings.log);
            Ok(server::serve(settings)?)
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
            Ok(())
        }
        Command::Frist(args) => {
            println!("{}", vorgang::frist::cli::run(&args)?);
            Ok(())
        }
        Command::User(ref args) => {
            let settings = load_settings(&cli)?;
            println!("{}", vorgang::auth::cli::run(args, &settings)?);
            Ok(())
        }
    }
}
