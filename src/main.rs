//! The `vorgang` command line: serve, migrate, and the tools operators need.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use vorgang::config::{self, Settings};
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

fn run(cli: Cli) -> Result<(), StartupError> {
    match cli.command {
        Command::Serve => {
            let settings = load_settings(&cli)?;
            telemetry::init(settings.log);
            server::serve(settings)
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
    }
}
