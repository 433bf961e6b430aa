//! The `vorgang frist` command: reads the options, computes the deadline and returns the text.
//!
//! Options arrive as plain strings and are validated here, so every error the user sees is
//! German and names the offending option. Nothing is printed here; the caller does the I/O.

use chrono::{Datelike, NaiveDate, Weekday};

use super::calendar::{CalendarError, CalendarSet, HolidayCalendar, non_working_reason};
use super::compute::{Deadline, EndShift, FristError, StartKind, compute_deadline};
use super::period::{Period, PeriodError};

/// Options of `vorgang frist`; all values are taken as strings so that we, not clap, validate them
/// and can answer in German.
#[derive(clap::Args, Debug, Clone, Default, PartialEq, Eq)]
#[command(
    about = "Berechnet das Ende einer Frist nach §§ 187–193 BGB und § 31 VwVfG NRW",
    long_about = None
)]
pub struct FristArgs {
    /// Event day (Ereignisfrist) or first counted day (Beginnfrist), `YYYY-MM-DD`.
    #[arg(
        long,
        value_name = "JJJJ-MM-TT",
        allow_hyphen_values = true,
        help = "Fristbeginn: Tag des Ereignisses bzw. erster mitgezählter Tag (z. B. 2026-03-03)"
    )]
    pub start: Option<String>,
    /// Period length as a restricted ISO 8601 duration or a § 189 BGB keyword.
    #[arg(
        long,
        value_name = "DAUER",
        allow_hyphen_values = true,
        help = "Dauer als ISO-8601-Dauer (P10D, P4W, P6M, P1Y, P1Y6M, P1M15D) oder halbes-jahr, vierteljahr, halber-monat"
    )]
    pub dauer: Option<String>,
    /// `ereignis` (default) or `beginn`.
    #[arg(
        long,
        value_name = "ereignis|beginn",
        allow_hyphen_values = true,
        help = "Art der Frist: ereignis (§ 187 Abs. 1 BGB, Standard) oder beginn (§ 187 Abs. 2 BGB)"
    )]
    pub art: Option<String>,
    /// Land code for the holiday calendar; default `NW`.
    #[arg(
        long,
        value_name = "LAND",
        allow_hyphen_values = true,
        help = "Land, dessen Feiertage gelten (Standard: NW)"
    )]
    pub land: Option<String>,
    /// Keep the end even on a weekend or holiday (§ 31 (3) sentence 2 VwVfG NRW).
    #[arg(
        long,
        help = "Fristende nicht auf den nächsten Werktag verschieben (§ 31 Abs. 3 Satz 2 VwVfG NRW)"
    )]
    pub ohne_verschiebung: bool,
    /// Print one JSON object instead of German sentences.
    #[arg(long, help = "Ergebnis als ein JSON-Objekt ausgeben")]
    pub json: bool,
}

/// A rejected invocation of `vorgang frist`; its `Display` is one German line naming the option.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FristCliError {
    /// `--start` was not given.
    #[error(
        "--start fehlt: Bitte geben Sie den Fristbeginn als Datum an (JJJJ-MM-TT), z. B. --start 2026-03-03."
    )]
    MissingStart,
    /// `--dauer` was not given.
    #[error("--dauer fehlt: Bitte geben Sie die Dauer an, z. B. --dauer P1M.")]
    MissingDauer,
    /// `--start` is no valid calendar date in `YYYY-MM-DD` form.
    #[error("--start: „{0}“ ist kein gültiges Datum (erwartet JJJJ-MM-TT).")]
    InvalidStart(String),
    /// `--dauer` is no accepted period.
    #[error("--dauer: {0}")]
    InvalidDauer(PeriodError),
    /// `--art` is neither `ereignis` nor `beginn`.
    #[error(
        "--art: „{0}“ ist unzulässig; erlaubt sind „ereignis“ (Ereignisfrist, § 187 Abs. 1 BGB) und „beginn“ (Beginnfrist, § 187 Abs. 2 BGB)."
    )]
    InvalidArt(String),
    /// `--land` names no Land in the holiday data.
    #[error("--land: „{code}“ ist unbekannt; bekannt: {}.", known.join(", "))]
    UnknownLand {
        /// The code as given.
        code: String,
        /// The known codes.
        known: Vec<String>,
    },
    /// The computation failed; `option` is the option the user has to change.
    #[error("{option}: {source}")]
    Computation {
        /// The option to blame, e.g. `--start`.
        option: &'static str,
        /// What went wrong.
        source: FristError,
    },
}

/// Runs `vorgang frist` and returns what to print on stdout (without a trailing newline).
pub fn run(args: &FristArgs) -> Result<String, FristCliError> {
    let start_text = args.start.as_deref().ok_or(FristCliError::MissingStart)?;
    let start = parse_iso_date(start_text)
        .ok_or_else(|| FristCliError::InvalidStart(start_text.to_string()))?;
    let period: Period = args
        .dauer
        .as_deref()
        .ok_or(FristCliError::MissingDauer)?
        .parse()
        .map_err(FristCliError::InvalidDauer)?;
    let kind = match args.art.as_deref() {
        None => StartKind::Event,
        Some(word) => {
            StartKind::from_word(word).ok_or_else(|| FristCliError::InvalidArt(word.to_string()))?
        }
    };
    let calendar = land_calendar(args.land.as_deref().unwrap_or("NW"))?;
    let shift = if args.ohne_verschiebung {
        EndShift::NoShift
    } else {
        EndShift::NextWorkingDay
    };

    let deadline = compute_deadline(start, period, kind, calendar, shift).map_err(blame)?;
    if args.json {
        Ok(render_json(&deadline))
    } else {
        render_text(&deadline, calendar).map_err(blame)
    }
}

/// `Dienstag, 07.04.2026`: the date form used in every German message of this module.
pub fn format_date_de(date: NaiveDate) -> String {
    let weekday = match date.weekday() {
        Weekday::Mon => "Montag",
        Weekday::Tue => "Dienstag",
        Weekday::Wed => "Mittwoch",
        Weekday::Thu => "Donnerstag",
        Weekday::Fri => "Freitag",
        Weekday::Sat => "Samstag",
        Weekday::Sun => "Sonntag",
    };
    format!("{weekday}, {}", date.format("%d.%m.%Y"))
}

/// Strict `YYYY-MM-DD` (exactly ten characters, zero-padded); chrono alone would accept `2026-3-3`.
fn parse_iso_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    let year = text.get(0..4)?.parse().ok()?;
    let month = text.get(5..7)?.parse().ok()?;
    let day = text.get(8..10)?.parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

fn land_calendar(code: &str) -> Result<&'static HolidayCalendar, FristCliError> {
    CalendarSet::embedded()
        .and_then(|set| set.land(code))
        .map_err(|error| match error {
            CalendarError::UnknownLand { code, known } => {
                FristCliError::UnknownLand { code, known }
            }
            other => FristCliError::Computation {
                option: "--land",
                source: FristError::Calendar(other),
            },
        })
}

/// Names the option the user has to change for a failed computation.
fn blame(source: FristError) -> FristCliError {
    let option = match &source {
        FristError::StartOutOfRange(_) => "--start",
        FristError::EndOutOfRange => "--dauer",
        FristError::NoWorkingDay(_) | FristError::Calendar(_) => "--land",
    };
    FristCliError::Computation { option, source }
}

#[derive(serde::Serialize)]
struct JsonDeadline {
    start: String,
    dauer: String,
    art: &'static str,
    ende_unverschoben: String,
    ende: String,
    verschoben_wegen: Vec<JsonSkippedDay>,
}

#[derive(serde::Serialize)]
struct JsonSkippedDay {
    datum: String,
    grund: String,
}

fn render_json(deadline: &Deadline) -> String {
    let iso = |date: NaiveDate| date.format("%Y-%m-%d").to_string();
    let output = JsonDeadline {
        start: iso(deadline.start),
        dauer: deadline.period.to_string(),
        art: deadline.kind.as_str(),
        ende_unverschoben: iso(deadline.unshifted_end),
        ende: iso(deadline.end),
        verschoben_wegen: deadline
            .skipped
            .iter()
            .map(|day| JsonSkippedDay {
                datum: iso(day.date),
                grund: day.reason.to_string(),
            })
            .collect(),
    };
    // Only strings and a list of strings: serialising cannot fail, but never panic if it did.
    serde_json::to_string(&output).unwrap_or_else(|_| String::from("{}"))
}

fn render_text(deadline: &Deadline, calendar: &HolidayCalendar) -> Result<String, FristError> {
    let from = match deadline.kind {
        StartKind::Event => format!("ab dem Ereignis am {}", format_date_de(deadline.start)),
        StartKind::StartOfDay => format!("beginnend mit {}", format_date_de(deadline.start)),
    };
    let mut lines = vec![
        format!(
            "Die Frist endet am {}, um 24:00 Uhr.",
            format_date_de(deadline.end)
        ),
        format!(
            "Berechnung: {} von {} {from}; Feiertage: {} ({}).",
            deadline.kind.legal_term_de(),
            deadline.period.describe_de(),
            calendar.name(),
            calendar.code()
        ),
    ];
    if !deadline.skipped.is_empty() {
        let days: Vec<String> = deadline
            .skipped
            .iter()
            .map(|day| format!("{} ({})", day.date.format("%d.%m.%Y"), day.reason))
            .collect();
        lines.push(format!(
            "Das rechnerische Fristende {} ist kein Werktag; nach § 193 BGB / § 31 Abs. 3 VwVfG NRW \
             verschiebt es sich auf den nächsten Werktag. Übersprungen: {}.",
            format_date_de(deadline.unshifted_end),
            days.join(", ")
        ));
    } else if deadline.shift == EndShift::NoShift
        && let Some(reason) = non_working_reason(calendar, deadline.end)?
    {
        lines.push(format!(
            "Das Fristende {} ist kein Werktag ({reason}), wird aber nach § 31 Abs. 3 Satz 2 \
             VwVfG NRW nicht verschoben (--ohne-verschiebung).",
            deadline.end.format("%d.%m.%Y")
        ));
    }
    Ok(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(start: &str, dauer: &str) -> FristArgs {
        FristArgs {
            start: Some(start.into()),
            dauer: Some(dauer.into()),
            ..FristArgs::default()
        }
    }

    /// The options as a user types them, through clap, to prove the flag names.
    #[derive(Parser, Debug)]
    struct TestCli {
        #[command(flatten)]
        frist: FristArgs,
    }

    fn parse_cli(argv: &[&str]) -> FristArgs {
        let mut full = vec!["frist"];
        full.extend_from_slice(argv);
        TestCli::try_parse_from(full).unwrap().frist
    }

    #[test]
    fn json_output_for_the_easter_example_is_exact() {
        let parsed = parse_cli(&["--start", "2026-03-03", "--dauer", "P1M", "--json"]);
        assert_eq!(
            run(&parsed).unwrap(),
            r#"{"start":"2026-03-03","dauer":"P1M","art":"ereignis","ende_unverschoben":"2026-04-03","ende":"2026-04-07","verschoben_wegen":[{"datum":"2026-04-03","grund":"Karfreitag"},{"datum":"2026-04-04","grund":"Samstag"},{"datum":"2026-04-05","grund":"Sonntag"},{"datum":"2026-04-06","grund":"Ostermontag"}]}"#
        );
    }

    #[test]
    fn json_without_shift() {
        let parsed = parse_cli(&[
            "--start",
            "2026-03-03",
            "--dauer",
            "P1M",
            "--ohne-verschiebung",
            "--json",
        ]);
        assert_eq!(
            run(&parsed).unwrap(),
            r#"{"start":"2026-03-03","dauer":"P1M","art":"ereignis","ende_unverschoben":"2026-04-03","ende":"2026-04-03","verschoben_wegen":[]}"#
        );
    }

    #[test]
    fn json_for_a_beginnfrist_uses_the_canonical_period() {
        let parsed = parse_cli(&[
            "--start",
            "2025-12-01",
            "--dauer",
            "halbes-jahr",
            "--art",
            "beginn",
            "--land",
            "NW",
            "--json",
        ]);
        assert_eq!(
            run(&parsed).unwrap(),
            r#"{"start":"2025-12-01","dauer":"P6M","art":"beginn","ende_unverschoben":"2026-05-31","ende":"2026-06-01","verschoben_wegen":[{"datum":"2026-05-31","grund":"Sonntag"}]}"#
        );
    }

    #[test]
    fn text_output_explains_the_shift() {
        let text = run(&args("2026-03-03", "P1M")).unwrap();
        assert_eq!(
            text,
            "Die Frist endet am Dienstag, 07.04.2026, um 24:00 Uhr.\n\
             Berechnung: Ereignisfrist (§ 187 Abs. 1 BGB) von 1 Monat ab dem Ereignis am \
             Dienstag, 03.03.2026; Feiertage: Nordrhein-Westfalen (NW).\n\
             Das rechnerische Fristende Freitag, 03.04.2026 ist kein Werktag; nach § 193 BGB / \
             § 31 Abs. 3 VwVfG NRW verschiebt es sich auf den nächsten Werktag. Übersprungen: \
             03.04.2026 (Karfreitag), 04.04.2026 (Samstag), 05.04.2026 (Sonntag), \
             06.04.2026 (Ostermontag)."
        );
    }

    #[test]
    fn text_output_without_a_shift_needed() {
        let text = run(&args("2026-03-04", "P4W")).unwrap();
        assert_eq!(
            text,
            "Die Frist endet am Mittwoch, 01.04.2026, um 24:00 Uhr.\n\
             Berechnung: Ereignisfrist (§ 187 Abs. 1 BGB) von 4 Wochen ab dem Ereignis am \
             Mittwoch, 04.03.2026; Feiertage: Nordrhein-Westfalen (NW)."
        );
    }

    #[test]
    fn text_output_with_ohne_verschiebung_mentions_the_holiday() {
        let mut with_flag = args("2026-03-03", "P1M");
        with_flag.ohne_verschiebung = true;
        let text = run(&with_flag).unwrap();
        assert!(
            text.starts_with("Die Frist endet am Freitag, 03.04.2026, um 24:00 Uhr."),
            "{text}"
        );
        assert!(
            text.contains("ist kein Werktag (Karfreitag), wird aber nach § 31 Abs. 3 Satz 2"),
            "{text}"
        );
    }

    #[test]
    fn text_output_for_a_beginnfrist() {
        let mut beginn = args("2026-01-01", "P2Y");
        beginn.art = Some("beginn".into());
        let text = run(&beginn).unwrap();
        assert!(
            text.starts_with("Die Frist endet am Freitag, 31.12.2027, um 24:00 Uhr.\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "Beginnfrist (§ 187 Abs. 2 BGB) von 2 Jahren beginnend mit Donnerstag, 01.01.2026"
            ),
            "{text}"
        );
    }

    #[test]
    fn bad_dauer_names_the_option() {
        let message = run(&args("2026-03-03", "4W")).unwrap_err().to_string();
        assert!(
            message.starts_with("--dauer: „4W“ ist keine gültige Dauer"),
            "{message}"
        );
        assert!(
            message.contains("Erlaubt sind ISO-8601-Dauern wie P10D, P4W, P6M, P1Y"),
            "{message}"
        );
        assert!(!message.contains('\n'));
    }

    #[test]
    fn bad_start_names_the_option() {
        for bad in [
            "2026-02-30",
            "2026-3-3",
            "03.03.2026",
            "",
            "+2026-03-03",
            "2026-03-03 ",
        ] {
            let message = run(&args(bad, "P1M")).unwrap_err().to_string();
            assert_eq!(
                message,
                format!("--start: „{bad}“ ist kein gültiges Datum (erwartet JJJJ-MM-TT).")
            );
        }
    }

    #[test]
    fn start_outside_the_calendar_names_the_option() {
        let message = run(&args("1899-12-31", "P1M")).unwrap_err().to_string();
        assert!(message.starts_with("--start: "), "{message}");
        let message = run(&args("2199-12-01", "P1M")).unwrap_err().to_string();
        assert!(message.starts_with("--dauer: "), "{message}");
    }

    #[test]
    fn unknown_land_names_the_option_and_the_known_ones() {
        let mut bad = args("2026-03-03", "P1M");
        bad.land = Some("XX".into());
        assert_eq!(
            run(&bad).unwrap_err().to_string(),
            "--land: „XX“ ist unbekannt; bekannt: NW."
        );
    }

    #[test]
    fn bad_art_names_the_option() {
        let mut bad = args("2026-03-03", "P1M");
        bad.art = Some("foo".into());
        let message = run(&bad).unwrap_err().to_string();
        assert!(
            message.starts_with("--art: „foo“ ist unzulässig"),
            "{message}"
        );
    }

    #[test]
    fn missing_options_name_the_option() {
        let only_dauer = parse_cli(&["--dauer", "P1M"]);
        assert_eq!(run(&only_dauer), Err(FristCliError::MissingStart));
        assert!(
            FristCliError::MissingStart
                .to_string()
                .starts_with("--start fehlt")
        );
        let only_start = parse_cli(&["--start", "2026-03-03"]);
        assert_eq!(run(&only_start), Err(FristCliError::MissingDauer));
        assert!(
            FristCliError::MissingDauer
                .to_string()
                .starts_with("--dauer fehlt")
        );
    }

    #[test]
    fn values_starting_with_a_hyphen_reach_our_validation() {
        let parsed = parse_cli(&["--start", "2026-03-03", "--dauer", "-P1D"]);
        let message = run(&parsed).unwrap_err().to_string();
        assert!(message.contains("negative Dauern"), "{message}");
    }

    #[test]
    fn german_weekday_format() {
        let date = NaiveDate::from_ymd_opt(2026, 4, 7).unwrap();
        assert_eq!(format_date_de(date), "Dienstag, 07.04.2026");
    }
}
