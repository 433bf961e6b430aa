//! Public-holiday calendars per Land, read from data (`feiertage.toml`), and the Easter date.
//!
//! The holiday rules are data so that another Land needs a data edit, not code. Easter Sunday is
//! computed only for 1900–2199; any date outside that range is an error, never a guess.

use std::sync::OnceLock;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::Deserialize;

/// First year for which holidays (and therefore deadlines) are computed.
pub const FIRST_SUPPORTED_YEAR: i32 = 1900;
/// Last year for which holidays (and therefore deadlines) are computed.
pub const LAST_SUPPORTED_YEAR: i32 = 2199;

/// Largest distance of an Easter-relative holiday from Easter Sunday, so it stays in the same year.
const MAX_EASTER_OFFSET: i64 = 80;

/// The embedded holiday data, compiled into the binary so the module never reads files.
const EMBEDDED_DATA: &str = include_str!("feiertage.toml");

/// Why a holiday question could not be answered; shown to users in German.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The Land code is not in the data.
    #[error("Das Land „{code}“ ist unbekannt; bekannt: {}.", known.join(", "))]
    UnknownLand {
        /// The code as given.
        code: String,
        /// All codes the data knows, in data order.
        known: Vec<String>,
    },
    /// The year lies outside the range for which Easter (and so every holiday) is computed.
    #[error(
        "Das Jahr {year} liegt außerhalb des unterstützten Bereichs {FIRST_SUPPORTED_YEAR}–{LAST_SUPPORTED_YEAR}."
    )]
    YearOutOfRange {
        /// The offending year.
        year: i32,
    },
    /// The holiday data itself is broken.
    #[error("Die Feiertagsdaten sind fehlerhaft: {0}")]
    InvalidData(String),
}

/// One Land's holidays, validated and ready for lookups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HolidayCalendar {
    code: String,
    name: String,
    source: String,
    fixed: Vec<FixedHoliday>,
    easter: Vec<EasterHoliday>,
    one_off: Vec<OneOffHoliday>,
}

/// All Länder of one data file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarSet {
    lands: Vec<HolidayCalendar>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct FixedHoliday {
    month: u32,
    day: u32,
    name: String,
    from_year: Option<i32>,
    until_year: Option<i32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct EasterHoliday {
    offset_days: i64,
    name: String,
    from_year: Option<i32>,
    until_year: Option<i32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct OneOffHoliday {
    date: NaiveDate,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    land: Vec<RawLand>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLand {
    code: String,
    name: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    fixed: Vec<RawFixed>,
    #[serde(default)]
    easter: Vec<RawEaster>,
    #[serde(default)]
    one_off: Vec<RawOneOff>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFixed {
    month: u32,
    day: u32,
    name: String,
    from_year: Option<i32>,
    until_year: Option<i32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEaster {
    offset_days: i64,
    name: String,
    from_year: Option<i32>,
    until_year: Option<i32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOneOff {
    date: String,
    name: String,
}

/// Easter Sunday (Gregorian calendar) for 1900–2199, by the anonymous Gregorian algorithm
/// (Meeus/Jones/Butcher); needed because most movable holidays hang on it.
pub fn easter_sunday(year: i32) -> Result<NaiveDate, CalendarError> {
    check_year(year)?;
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    // month is 3 or 4 and day 1..=31 for every year in range; still no panic if that were wrong.
    u32::try_from(month)
        .ok()
        .zip(u32::try_from(day).ok())
        .and_then(|(month, day)| NaiveDate::from_ymd_opt(year, month, day))
        .ok_or(CalendarError::YearOutOfRange { year })
}

/// Rejects years outside the supported range before any holiday arithmetic happens.
fn check_year(year: i32) -> Result<(), CalendarError> {
    if (FIRST_SUPPORTED_YEAR..=LAST_SUPPORTED_YEAR).contains(&year) {
        Ok(())
    } else {
        Err(CalendarError::YearOutOfRange { year })
    }
}

fn in_years(year: i32, from: Option<i32>, until: Option<i32>) -> bool {
    from.is_none_or(|from| year >= from) && until.is_none_or(|until| year <= until)
}

impl CalendarSet {
    /// The calendars compiled into the binary, parsed once per process.
    pub fn embedded() -> Result<&'static CalendarSet, CalendarError> {
        static EMBEDDED: OnceLock<Result<CalendarSet, CalendarError>> = OnceLock::new();
        EMBEDDED
            .get_or_init(|| CalendarSet::from_toml(EMBEDDED_DATA))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Parses and validates holiday data in the `feiertage.toml` format (e.g. for tests or an
    /// operator-supplied file read by the caller).
    pub fn from_toml(text: &str) -> Result<CalendarSet, CalendarError> {
        let raw: RawFile =
            toml::from_str(text).map_err(|e| CalendarError::InvalidData(e.to_string()))?;
        let mut lands: Vec<HolidayCalendar> = Vec::with_capacity(raw.land.len());
        for land in raw.land {
            let calendar = HolidayCalendar::from_raw(land)?;
            if lands
                .iter()
                .any(|known| known.code.eq_ignore_ascii_case(&calendar.code))
            {
                return Err(CalendarError::InvalidData(format!(
                    "Land „{}“ ist doppelt angegeben",
                    calendar.code
                )));
            }
            lands.push(calendar);
        }
        if lands.is_empty() {
            return Err(CalendarError::InvalidData("kein Land angegeben".into()));
        }
        Ok(CalendarSet { lands })
    }

    /// Finds a Land by its code (case-insensitive), or says which codes exist.
    pub fn land(&self, code: &str) -> Result<&HolidayCalendar, CalendarError> {
        self.lands
            .iter()
            .find(|land| land.code.eq_ignore_ascii_case(code))
            .ok_or_else(|| CalendarError::UnknownLand {
                code: code.to_string(),
                known: self.known_codes().map(str::to_string).collect(),
            })
    }

    /// The Land codes in data order, for messages and selection lists.
    pub fn known_codes(&self) -> impl Iterator<Item = &str> {
        self.lands.iter().map(|land| land.code.as_str())
    }
}

impl HolidayCalendar {
    /// Shortcut to one Land of the embedded data, the usual entry point.
    pub fn for_land(code: &str) -> Result<&'static HolidayCalendar, CalendarError> {
        CalendarSet::embedded()?.land(code)
    }

    fn from_raw(raw: RawLand) -> Result<Self, CalendarError> {
        let code = raw.code.trim().to_string();
        if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(CalendarError::InvalidData(format!(
                "ungültiger Land-Code „{}“",
                raw.code
            )));
        }
        let bad = |what: String| CalendarError::InvalidData(format!("Land {code}: {what}"));
        let check_range = |name: &str, from: Option<i32>, until: Option<i32>| {
            if let (Some(from), Some(until)) = (from, until)
                && from > until
            {
                return Err(bad(format!(
                    "„{name}“: from_year {from} liegt nach until_year {until}"
                )));
            }
            Ok(())
        };

        let mut fixed = Vec::with_capacity(raw.fixed.len());
        for entry in raw.fixed {
            // 2000 is a leap year, so 29 February is accepted as a (rare) fixed date.
            if NaiveDate::from_ymd_opt(2000, entry.month, entry.day).is_none() {
                return Err(bad(format!(
                    "„{}“: {}.{}. ist kein gültiger Tag",
                    entry.name, entry.day, entry.month
                )));
            }
            check_range(&entry.name, entry.from_year, entry.until_year)?;
            fixed.push(FixedHoliday {
                month: entry.month,
                day: entry.day,
                name: entry.name,
                from_year: entry.from_year,
                until_year: entry.until_year,
            });
        }

        let mut easter = Vec::with_capacity(raw.easter.len());
        for entry in raw.easter {
            if entry.offset_days.abs() > MAX_EASTER_OFFSET {
                return Err(bad(format!(
                    "„{}“: offset_days {} liegt außerhalb von ±{MAX_EASTER_OFFSET}",
                    entry.name, entry.offset_days
                )));
            }
            check_range(&entry.name, entry.from_year, entry.until_year)?;
            easter.push(EasterHoliday {
                offset_days: entry.offset_days,
                name: entry.name,
                from_year: entry.from_year,
                until_year: entry.until_year,
            });
        }

        let mut one_off = Vec::with_capacity(raw.one_off.len());
        for entry in raw.one_off {
            let date = NaiveDate::parse_from_str(&entry.date, "%Y-%m-%d").map_err(|_| {
                bad(format!(
                    "„{}“: „{}“ ist kein Datum (JJJJ-MM-TT)",
                    entry.name, entry.date
                ))
            })?;
            one_off.push(OneOffHoliday {
                date,
                name: entry.name,
            });
        }

        Ok(Self {
            code,
            name: raw.name,
            source: raw.source,
            fixed,
            easter,
            one_off,
        })
    }

    /// The Land code (e.g. `NW`), for output and storage.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The Land's name, for output.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the holiday list comes from, for explanations.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The holiday's name if `date` is a public holiday in this Land; errors outside 1900–2199.
    pub fn holiday_name(&self, date: NaiveDate) -> Result<Option<&str>, CalendarError> {
        let year = date.year();
        check_year(year)?;
        if let Some(holiday) = self.one_off.iter().find(|h| h.date == date) {
            return Ok(Some(&holiday.name));
        }
        if let Some(holiday) = self.fixed.iter().find(|h| {
            h.month == date.month()
                && h.day == date.day()
                && in_years(year, h.from_year, h.until_year)
        }) {
            return Ok(Some(&holiday.name));
        }
        let easter = easter_sunday(year)?;
        let found = self.easter.iter().find(|h| {
            in_years(year, h.from_year, h.until_year) && offset(easter, h.offset_days) == Some(date)
        });
        Ok(found.map(|h| h.name.as_str()))
    }

    /// Whether `date` is neither a Saturday, a Sunday nor a holiday (the test of § 193 BGB).
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        Ok(non_working_reason(self, date)?.is_none())
    }

    /// All holidays of one year in date order, for overviews and tests.
    pub fn holidays_in_year(&self, year: i32) -> Result<Vec<(NaiveDate, &str)>, CalendarError> {
        check_year(year)?;
        let easter = easter_sunday(year)?;
        let mut dates: Vec<NaiveDate> = Vec::new();
        dates.extend(
            self.one_off
                .iter()
                .filter(|h| h.date.year() == year)
                .map(|h| h.date),
        );
        dates.extend(
            self.fixed
                .iter()
                .filter(|h| in_years(year, h.from_year, h.until_year))
                .filter_map(|h| NaiveDate::from_ymd_opt(year, h.month, h.day)),
        );
        dates.extend(
            self.easter
                .iter()
                .filter(|h| in_years(year, h.from_year, h.until_year))
                .filter_map(|h| offset(easter, h.offset_days)),
        );
        dates.sort();
        dates.dedup();
        let mut holidays = Vec::with_capacity(dates.len());
        for date in dates {
            if let Some(name) = self.holiday_name(date)? {
                holidays.push((date, name));
            }
        }
        Ok(holidays)
    }
}

/// Why a day is not a working day: the holiday name wins over the weekday name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NonWorkingReason {
    /// A public holiday with its name.
    Holiday(String),
    /// A Saturday that is no holiday.
    Saturday,
    /// A Sunday that is no holiday.
    Sunday,
}

impl std::fmt::Display for NonWorkingReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Holiday(name) => f.write_str(name),
            Self::Saturday => f.write_str("Samstag"),
            Self::Sunday => f.write_str("Sonntag"),
        }
    }
}

/// Why `date` is not a working day in `calendar`, or `None` if it is one.
pub fn non_working_reason(
    calendar: &HolidayCalendar,
    date: NaiveDate,
) -> Result<Option<NonWorkingReason>, CalendarError> {
    if let Some(name) = calendar.holiday_name(date)? {
        return Ok(Some(NonWorkingReason::Holiday(name.to_string())));
    }
    Ok(match date.weekday() {
        Weekday::Sat => Some(NonWorkingReason::Saturday),
        Weekday::Sun => Some(NonWorkingReason::Sunday),
        _ => None,
    })
}

fn offset(date: NaiveDate, days: i64) -> Option<NaiveDate> {
    let magnitude = Days::new(days.unsigned_abs());
    if days >= 0 {
        date.checked_add_days(magnitude)
    } else {
        date.checked_sub_days(magnitude)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    fn nw() -> &'static HolidayCalendar {
        HolidayCalendar::for_land("NW").unwrap()
    }

    #[test]
    fn embedded_data_loads() {
        let set = CalendarSet::embedded().unwrap();
        assert_eq!(set.known_codes().collect::<Vec<_>>(), ["NW"]);
        assert_eq!(nw().name(), "Nordrhein-Westfalen");
        assert!(nw().source().contains("Feiertagsgesetz"));
    }

    /// Easter Sundays from the published Easter table of the Physikalisch-Technische
    /// Bundesanstalt (PTB); written out literally, not computed.
    #[test]
    fn easter_matches_published_table() {
        for (year, month, day) in [
            (1900, 4, 15),
            (1913, 3, 23),
            (1943, 4, 25),
            (1954, 4, 18),
            (2000, 4, 23),
            (2008, 3, 23),
            (2019, 4, 21),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2038, 4, 25),
            (2100, 3, 28),
            (2199, 4, 14),
        ] {
            assert_eq!(
                easter_sunday(year),
                Ok(d(year, month, day)),
                "Ostern {year}"
            );
        }
    }

    #[test]
    fn easter_outside_range_is_an_error() {
        for year in [1899, 2200, -5, i32::MAX, i32::MIN] {
            assert_eq!(
                easter_sunday(year),
                Err(CalendarError::YearOutOfRange { year })
            );
        }
        assert_eq!(
            easter_sunday(2200).unwrap_err().to_string(),
            "Das Jahr 2200 liegt außerhalb des unterstützten Bereichs 1900–2199."
        );
        assert!(nw().holiday_name(d(1899, 12, 31)).is_err());
        assert!(nw().is_working_day(d(2200, 1, 2)).is_err());
    }

    /// NRW holidays 2024–2030 per § 2 Feiertagsgesetz NW. The Easter Sundays are from the PTB
    /// Easter table (2024-03-31, 2025-04-20, 2026-04-05, 2027-03-28, 2028-04-16, 2029-04-01,
    /// 2030-04-21); the movable dates were worked out by hand from them and cross-checked with
    /// python-dateutil's `easter()`, and 2026 agrees with FRISTEN.md. Written out literally.
    #[test]
    fn nrw_holidays_2024_to_2030() {
        let table: [(i32, [(u32, u32); 11]); 7] = [
            (
                2024,
                [
                    (1, 1),
                    (3, 29),
                    (4, 1),
                    (5, 1),
                    (5, 9),
                    (5, 20),
                    (5, 30),
                    (10, 3),
                    (11, 1),
                    (12, 25),
                    (12, 26),
                ],
            ),
            (
                2025,
                [
                    (1, 1),
                    (4, 18),
                    (4, 21),
                    (5, 1),
                    (5, 29),
                    (6, 9),
                    (6, 19),
                    (10, 3),
                    (11, 1),
                    (12, 25),
                    (12, 26),
                ],
            ),
            (
                2026,
                [
                    (1, 1),
                    (4, 3),
                    (4, 6),
                    (5, 1),
                    (5, 14),
                    (5, 25),
                    (6, 4),
                    (10, 3),
                    (11, 1),
                    (12, 25),
                    (12, 26),
                ],
            ),
            (
                2027,
                [
                    (1, 1),
                    (3, 26),
                    (3, 29),
                    (5, 1),
                    (5, 6),
                    (5, 17),
                    (5, 27),
                    (10, 3),
                    (11, 1),
                    (12, 25),
                    (12, 26),
                ],
            ),
            (
                2028,
                [
                    (1, 1),
                    (4, 14),
                    (4, 17),
                    (5, 1),
                    (5, 25),
                    (6, 5),
                    (6, 15),
                    (10, 3),
                    (11, 1),
                    (12, 25),
                    (12, 26),
                ],
            ),
            (
                2029,
                [
                    (1, 1),
                    (3, 30),
                    (4, 2),
                    (5, 1),
                    (5, 10),
                    (5, 21),
                    (5, 31),
                    (10, 3),
                    (11, 1),
                    (12, 25),
                    (12, 26),
                ],
            ),
            (
                2030,
                [
                    (1, 1),
                    (4, 19),
                    (4, 22),
                    (5, 1),
                    (5, 30),
                    (6, 10),
                    (6, 20),
                    (10, 3),
                    (11, 1),
                    (12, 25),
                    (12, 26),
                ],
            ),
        ];
        for (year, dates) in table {
            let expected: Vec<NaiveDate> = dates.iter().map(|&(m, day)| d(year, m, day)).collect();
            let actual: Vec<NaiveDate> = nw()
                .holidays_in_year(year)
                .unwrap()
                .into_iter()
                .map(|(date, _)| date)
                .collect();
            assert_eq!(actual, expected, "Feiertage NW {year}");
            for date in expected {
                assert!(nw().holiday_name(date).unwrap().is_some(), "{date}");
            }
        }
    }

    #[test]
    fn holiday_names_for_2026() {
        let names: Vec<(NaiveDate, &str)> = nw().holidays_in_year(2026).unwrap();
        let names: Vec<&str> = names.into_iter().map(|(_, name)| name).collect();
        assert_eq!(
            names,
            [
                "Neujahr",
                "Karfreitag",
                "Ostermontag",
                "Tag der Arbeit",
                "Christi Himmelfahrt",
                "Pfingstmontag",
                "Fronleichnam",
                "Tag der Deutschen Einheit",
                "Allerheiligen",
                "1. Weihnachtstag",
                "2. Weihnachtstag",
            ]
        );
    }

    #[test]
    fn not_holidays_in_nrw() {
        // Heilige Drei Könige, Reformationstag (outside 2017), Buß- und Bettag 2026.
        for date in [
            d(2026, 1, 6),
            d(2026, 10, 31),
            d(2016, 10, 31),
            d(2026, 11, 18),
        ] {
            assert_eq!(nw().holiday_name(date), Ok(None), "{date}");
        }
        assert_eq!(nw().is_working_day(d(2026, 1, 6)), Ok(true));
    }

    #[test]
    fn reformation_day_2017_was_a_one_off_holiday() {
        assert_eq!(
            nw().holiday_name(d(2017, 10, 31)),
            Ok(Some("Reformationstag (500. Jahrestag der Reformation)"))
        );
        assert_eq!(nw().is_working_day(d(2017, 10, 31)), Ok(false));
        assert_eq!(nw().is_working_day(d(2018, 10, 31)), Ok(true));
        assert_eq!(nw().holidays_in_year(2017).unwrap().len(), 12);
    }

    #[test]
    fn validity_years_are_respected() {
        assert_eq!(nw().holiday_name(d(1989, 10, 3)), Ok(None));
        assert_eq!(
            nw().holiday_name(d(1990, 10, 3)),
            Ok(Some("Tag der Deutschen Einheit"))
        );
        assert!(nw().holiday_name(d(1990, 6, 17)).unwrap().is_some());
        assert_eq!(nw().holiday_name(d(1991, 6, 17)), Ok(None));
    }

    #[test]
    fn weekends_are_not_working_days() {
        assert_eq!(nw().is_working_day(d(2026, 4, 4)), Ok(false));
        assert_eq!(nw().is_working_day(d(2026, 4, 5)), Ok(false));
        assert_eq!(nw().is_working_day(d(2026, 4, 7)), Ok(true));
        assert_eq!(
            non_working_reason(nw(), d(2026, 10, 3)),
            Ok(Some(NonWorkingReason::Holiday(
                "Tag der Deutschen Einheit".into()
            )))
        );
    }

    #[test]
    fn unknown_land_names_the_code_and_the_known_ones() {
        let err = HolidayCalendar::for_land("XX").unwrap_err();
        assert_eq!(err.to_string(), "Das Land „XX“ ist unbekannt; bekannt: NW.");
        assert_eq!(HolidayCalendar::for_land("nw").map(|c| c.code()), Ok("NW"));
    }

    #[test]
    fn another_land_is_a_data_edit() {
        let data = r#"
            [[land]]
            code = "BY"
            name = "Bayern"
            [[land.fixed]]
            month = 1
            day = 6
            name = "Heilige Drei Könige"
            [[land.easter]]
            offset_days = 60
            name = "Fronleichnam"

            [[land]]
            code = "NW"
            name = "Nordrhein-Westfalen"
        "#;
        let set = CalendarSet::from_toml(data).unwrap();
        let by = set.land("BY").unwrap();
        assert_eq!(
            by.holiday_name(d(2026, 1, 6)),
            Ok(Some("Heilige Drei Könige"))
        );
        assert_eq!(by.holiday_name(d(2026, 6, 4)), Ok(Some("Fronleichnam")));
        assert_eq!(
            set.land("XX").unwrap_err().to_string(),
            "Das Land „XX“ ist unbekannt; bekannt: BY, NW."
        );
    }

    #[test]
    fn broken_data_is_reported_not_panicked() {
        for data in [
            "",
            "[[land]]\ncode = \"NW\"",
            "[[land]]\ncode = \"NW\"\nname = \"x\"\n[[land.fixed]]\nmonth = 2\nday = 30\nname = \"x\"",
            "[[land]]\ncode = \"NW\"\nname = \"x\"\n[[land.easter]]\noffset_days = 200\nname = \"x\"",
            "[[land]]\ncode = \"NW\"\nname = \"x\"\n[[land.one_off]]\ndate = \"2017-13-01\"\nname = \"x\"",
            "[[land]]\ncode = \"NW\"\nname = \"x\"\n[[land]]\ncode = \"nw\"\nname = \"y\"",
            "[[land]]\ncode = \"NW\"\nname = \"x\"\nunknown = 1",
            "[[land]]\ncode = \"NW\"\nname = \"x\"\n[[land.fixed]]\nmonth = 1\nday = 1\nname = \"x\"\nfrom_year = 2000\nuntil_year = 1999",
        ] {
            let err = CalendarSet::from_toml(data).unwrap_err();
            assert!(
                matches!(err, CalendarError::InvalidData(_)),
                "{data:?}: {err}"
            );
        }
    }
}
