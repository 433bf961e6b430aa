//! The end of a period by §§ 187–193 BGB (applied through § 31 VwVfG NRW).
//!
//! `compute_deadline` is a pure function: the same input always gives the same, self-explaining
//! [`Deadline`]. Dates outside the supported calendar range give an error, never a panic.

use chrono::{Datelike, Days, Months, NaiveDate};

use super::calendar::{
    CalendarError, FIRST_SUPPORTED_YEAR, HolidayCalendar, LAST_SUPPORTED_YEAR, NonWorkingReason,
    non_working_reason,
};
use super::period::{HALF_MONTH_DAYS, Period};

/// More consecutive non-working days than this means broken holiday data, not a real calendar.
const MAX_SHIFT_DAYS: u64 = 31;

/// How the first day of a period is treated (§ 187 BGB); decides how its end is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum StartKind {
    /// Ereignisfrist (§ 187 (1) BGB): the period starts with an event during a day (a letter is
    /// received, a meeting is held); that day is not counted.
    #[serde(rename = "ereignis")]
    Event,
    /// Beginnfrist (§ 187 (2) BGB): the period starts at the beginning of a day (e.g. the start of
    /// work on 01.12.); that day is counted.
    #[serde(rename = "beginn")]
    StartOfDay,
}

impl StartKind {
    /// The word used on the command line and in JSON (`ereignis` / `beginn`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Event => "ereignis",
            Self::StartOfDay => "beginn",
        }
    }

    /// Reads the command-line / JSON word (`ereignis` / `beginn`, any letter case).
    pub fn from_word(word: &str) -> Option<Self> {
        [Self::Event, Self::StartOfDay]
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(word))
    }

    /// The German legal term with its provision, for explanations.
    pub fn legal_term_de(self) -> &'static str {
        match self {
            Self::Event => "Ereignisfrist (§ 187 Abs. 1 BGB)",
            Self::StartOfDay => "Beginnfrist (§ 187 Abs. 2 BGB)",
        }
    }
}

/// Whether the end moves off Saturdays, Sundays and holidays; there is deliberately no default,
/// because the choice depends on how the authority worded the deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EndShift {
    /// § 193 BGB / § 31 (3) sentence 1 VwVfG NRW: the period ends on the next working day.
    NextWorkingDay,
    /// § 31 (3) sentence 2 VwVfG NRW: the authority named a specific end date together with a
    /// reference to this rule, so the end stays where it is.
    NoShift,
}

/// A day the end was moved over, with the reason shown to the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedDay {
    /// The non-working day.
    pub date: NaiveDate,
    /// Holiday name, or Saturday/Sunday if it is no holiday.
    pub reason: NonWorkingReason,
}

/// A computed deadline that carries its own explanation, so it can be shown and audited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deadline {
    /// The event day (Ereignisfrist) or first counted day (Beginnfrist).
    pub start: NaiveDate,
    /// The period length.
    pub period: Period,
    /// Ereignisfrist or Beginnfrist.
    pub kind: StartKind,
    /// The shift rule that was applied.
    pub shift: EndShift,
    /// The last day by §§ 187–189 BGB alone.
    pub unshifted_end: NaiveDate,
    /// The last day of the period after § 193 BGB (the period ends at 24:00 of this day).
    pub end: NaiveDate,
    /// The non-working days between `unshifted_end` (inclusive) and `end` (exclusive).
    pub skipped: Vec<SkippedDay>,
}

/// Why a deadline could not be computed; shown to users in German.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FristError {
    /// The start date lies outside the supported range.
    #[error(
        "Der Fristbeginn {} liegt außerhalb des unterstützten Bereichs 01.01.{FIRST_SUPPORTED_YEAR}–31.12.{LAST_SUPPORTED_YEAR}.",
        .0.format("%d.%m.%Y")
    )]
    StartOutOfRange(NaiveDate),
    /// The end (shifted or not) would lie outside the supported range.
    #[error(
        "Das Fristende läge außerhalb des unterstützten Bereichs 01.01.{FIRST_SUPPORTED_YEAR}–31.12.{LAST_SUPPORTED_YEAR}."
    )]
    EndOutOfRange,
    /// No working day follows within a month, which only broken holiday data can cause.
    #[error(
        "Nach dem {} folgt innerhalb von {MAX_SHIFT_DAYS} Tagen kein Werktag; die Feiertagsdaten sind offenbar fehlerhaft.",
        .0.format("%d.%m.%Y")
    )]
    NoWorkingDay(NaiveDate),
    /// A holiday lookup failed.
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

/// Whether `date` lies in the range for which holidays are known.
pub(crate) fn in_supported_range(date: NaiveDate) -> bool {
    (FIRST_SUPPORTED_YEAR..=LAST_SUPPORTED_YEAR).contains(&date.year())
}

/// Computes the end of a period by §§ 187–193 BGB, explaining every day it was moved over.
pub fn compute_deadline(
    start: NaiveDate,
    period: Period,
    kind: StartKind,
    calendar: &HolidayCalendar,
    shift: EndShift,
) -> Result<Deadline, FristError> {
    if !in_supported_range(start) {
        return Err(FristError::StartOutOfRange(start));
    }
    let unshifted_end = unshifted_end(start, period, kind).ok_or(FristError::EndOutOfRange)?;
    if !in_supported_range(unshifted_end) {
        return Err(FristError::EndOutOfRange);
    }
    let (end, skipped) = match shift {
        EndShift::NoShift => (unshifted_end, Vec::new()),
        EndShift::NextWorkingDay => next_working_day(unshifted_end, calendar)?,
    };
    Ok(Deadline {
        start,
        period,
        kind,
        shift,
        unshifted_end,
        end,
        skipped,
    })
}

/// Moves `date` forward to the next working day (§ 193 BGB), listing the days passed over.
pub(crate) fn next_working_day(
    date: NaiveDate,
    calendar: &HolidayCalendar,
) -> Result<(NaiveDate, Vec<SkippedDay>), FristError> {
    let mut current = date;
    let mut skipped = Vec::new();
    for _ in 0..=MAX_SHIFT_DAYS {
        if !in_supported_range(current) {
            return Err(FristError::EndOutOfRange);
        }
        match non_working_reason(calendar, current)? {
            None => return Ok((current, skipped)),
            Some(reason) => skipped.push(SkippedDay {
                date: current,
                reason,
            }),
        }
        current = current
            .checked_add_days(Days::new(1))
            .ok_or(FristError::EndOutOfRange)?;
    }
    Err(FristError::NoWorkingDay(date))
}

/// The last day by §§ 187–189 BGB, before any § 193 shift; `None` if chrono's range is left.
fn unshifted_end(start: NaiveDate, period: Period, kind: StartKind) -> Option<NaiveDate> {
    let months = period.total_months();
    if months > 0 {
        let end_of_months = months_end(start, months, kind)?;
        // § 189 (2) BGB: in "n months and a half month" the 15 days are counted last, i.e. they
        // run from the end of the months part; for both kinds that is + 15 days.
        return if period.days() == HALF_MONTH_DAYS {
            end_of_months.checked_add_days(Days::new(u64::from(HALF_MONTH_DAYS)))
        } else {
            Some(end_of_months)
        };
    }
    let days = u64::from(period.weeks()) * 7 + u64::from(period.days());
    match kind {
        // § 187 (1) / § 188 (1), (2) first alt.: n days end on event + n; n weeks on the same
        // weekday n weeks later, which is the same as event + 7n.
        StartKind::Event => start.checked_add_days(Days::new(days)),
        // § 187 (2) / § 188 (1), (2) second alt.: the start day counts, so the period ends one day
        // earlier: start + n − 1 (days), the day before the same weekday (weeks).
        StartKind::StartOfDay => start
            .checked_add_days(Days::new(days))?
            .checked_sub_days(Days::new(1)),
    }
}

/// End of a period of whole months (years counted as twelve months), § 188 (2), (3) BGB.
fn months_end(start: NaiveDate, months: u32, kind: StartKind) -> Option<NaiveDate> {
    // The first day of the month in which the period ends.
    let target_month = start.with_day(1)?.checked_add_months(Months::new(months))?;
    let same_number = target_month.with_day(start.day());
    match (kind, same_number) {
        // § 188 (2) first alt.: the day with the same number as the event day.
        (StartKind::Event, Some(day)) => Some(day),
        // § 188 (2) second alt.: the day before the day with the same number as the start day.
        (StartKind::StartOfDay, Some(day)) => day.checked_sub_days(Days::new(1)),
        // § 188 (3): the last month has no day with that number, so the period ends with the last
        // day of that month — for both kinds. For a Beginnfrist this is the only reading that
        // keeps the period a full month: from 31.01. it ends 28.02. (29.02. in a leap year), not
        // 27.02., and it agrees with the equivalent Ereignisfrist from 30.01. Likewise a
        // Beginnfrist of one year from 29.02.2024 ends 28.02.2025.
        (_, None) => last_day_of_month(target_month),
    }
}

fn last_day_of_month(first_of_month: NaiveDate) -> Option<NaiveDate> {
    first_of_month
        .checked_add_months(Months::new(1))?
        .checked_sub_days(Days::new(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;
    use proptest::prelude::*;

    fn d(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    fn nw() -> &'static HolidayCalendar {
        HolidayCalendar::for_land("NW").unwrap()
    }

    fn p(text: &str) -> Period {
        text.parse().unwrap()
    }

    fn compute(start: NaiveDate, period: &str, kind: StartKind) -> Deadline {
        compute_deadline(start, p(period), kind, nw(), EndShift::NextWorkingDay).unwrap()
    }

    fn skipped(deadline: &Deadline) -> Vec<(NaiveDate, String)> {
        deadline
            .skipped
            .iter()
            .map(|s| (s.date, s.reason.to_string()))
            .collect()
    }

    // Worked examples of FRISTEN.md.

    #[test]
    fn example_1_four_weeks_from_a_notice() {
        let deadline = compute(d(2026, 3, 4), "P4W", StartKind::Event);
        assert_eq!(deadline.unshifted_end, d(2026, 4, 1));
        assert_eq!(deadline.end, d(2026, 4, 1));
        assert_eq!(deadline.end.weekday(), Weekday::Wed);
        assert!(deadline.skipped.is_empty());
    }

    #[test]
    fn example_2_one_month_from_31_january() {
        let deadline = compute(d(2025, 1, 31), "P1M", StartKind::Event);
        assert_eq!(deadline.end, d(2025, 2, 28));
        assert_eq!(deadline.end.weekday(), Weekday::Fri);
    }

    #[test]
    fn example_3_easter_shift() {
        let deadline = compute(d(2026, 3, 3), "P1M", StartKind::Event);
        assert_eq!(deadline.unshifted_end, d(2026, 4, 3));
        assert_eq!(deadline.end, d(2026, 4, 7));
        assert_eq!(
            skipped(&deadline),
            [
                (d(2026, 4, 3), "Karfreitag".to_string()),
                (d(2026, 4, 4), "Samstag".to_string()),
                (d(2026, 4, 5), "Sonntag".to_string()),
                (d(2026, 4, 6), "Ostermontag".to_string()),
            ]
        );
    }

    #[test]
    fn example_4_start_of_work_six_months() {
        let deadline = compute(d(2025, 12, 1), "P6M", StartKind::StartOfDay);
        assert_eq!(deadline.unshifted_end, d(2026, 5, 31));
        assert_eq!(deadline.unshifted_end.weekday(), Weekday::Sun);
        assert_eq!(deadline.end, d(2026, 6, 1));
        assert_eq!(
            skipped(&deadline),
            [(d(2026, 5, 31), "Sonntag".to_string())]
        );
    }

    #[test]
    fn example_4_start_of_work_one_year() {
        let deadline = compute(d(2025, 12, 1), "P1Y", StartKind::StartOfDay);
        assert_eq!(deadline.end, d(2026, 11, 30));
        assert_eq!(deadline.end.weekday(), Weekday::Mon);
        assert!(deadline.skipped.is_empty());
    }

    #[test]
    fn example_5_two_year_schwerpunkt() {
        let deadline = compute(d(2026, 1, 1), "P2Y", StartKind::StartOfDay);
        assert_eq!(deadline.end, d(2027, 12, 31));
        assert_eq!(deadline.end.weekday(), Weekday::Fri);
    }

    // Days and weeks.

    #[test]
    fn days_count_by_kind() {
        assert_eq!(
            compute(d(2026, 3, 2), "P10D", StartKind::Event).unshifted_end,
            d(2026, 3, 12)
        );
        assert_eq!(
            compute(d(2026, 3, 2), "P10D", StartKind::StartOfDay).unshifted_end,
            d(2026, 3, 11)
        );
        assert_eq!(
            compute(d(2026, 3, 2), "P1D", StartKind::StartOfDay).unshifted_end,
            d(2026, 3, 2)
        );
    }

    #[test]
    fn weeks_as_beginnfrist_end_the_day_before_the_same_weekday() {
        // Monday 02.03.2026 + 2 weeks → Sunday 15.03.2026 → shifted to Monday 16.03.2026.
        let deadline = compute(d(2026, 3, 2), "P2W", StartKind::StartOfDay);
        assert_eq!(deadline.unshifted_end, d(2026, 3, 15));
        assert_eq!(deadline.end, d(2026, 3, 16));
    }

    // Month ends and leap years (§ 188 (3) BGB).

    #[test]
    fn one_month_from_31_january_both_kinds() {
        assert_eq!(
            compute(d(2025, 1, 31), "P1M", StartKind::Event).unshifted_end,
            d(2025, 2, 28)
        );
        assert_eq!(
            compute(d(2025, 1, 31), "P1M", StartKind::StartOfDay).unshifted_end,
            d(2025, 2, 28)
        );
        assert_eq!(
            compute(d(2024, 1, 31), "P1M", StartKind::Event).unshifted_end,
            d(2024, 2, 29)
        );
        assert_eq!(
            compute(d(2024, 1, 31), "P1M", StartKind::StartOfDay).unshifted_end,
            d(2024, 2, 29)
        );
    }

    #[test]
    fn beginnfrist_from_the_first_ends_on_the_last_day_of_the_month() {
        assert_eq!(
            compute(d(2025, 3, 1), "P1M", StartKind::StartOfDay).unshifted_end,
            d(2025, 3, 31)
        );
        assert_eq!(
            compute(d(2025, 2, 1), "P1M", StartKind::StartOfDay).unshifted_end,
            d(2025, 2, 28)
        );
        // 29.01.2025: the day before "29.02.2025" does not exist → last day of February.
        assert_eq!(
            compute(d(2025, 1, 29), "P1M", StartKind::StartOfDay).unshifted_end,
            d(2025, 2, 28)
        );
        assert_eq!(
            compute(d(2024, 1, 29), "P1M", StartKind::StartOfDay).unshifted_end,
            d(2024, 2, 28)
        );
        assert_eq!(
            compute(d(2025, 3, 31), "P1M", StartKind::StartOfDay).unshifted_end,
            d(2025, 4, 30)
        );
        assert_eq!(
            compute(d(2025, 3, 30), "P1M", StartKind::StartOfDay).unshifted_end,
            d(2025, 4, 29)
        );
    }

    #[test]
    fn one_year_from_29_february_both_kinds() {
        assert_eq!(
            compute(d(2024, 2, 29), "P1Y", StartKind::Event).unshifted_end,
            d(2025, 2, 28)
        );
        assert_eq!(
            compute(d(2024, 2, 29), "P1Y", StartKind::StartOfDay).unshifted_end,
            d(2025, 2, 28)
        );
        assert_eq!(
            compute(d(2024, 2, 29), "P4Y", StartKind::Event).unshifted_end,
            d(2028, 2, 29)
        );
        assert_eq!(
            compute(d(2024, 2, 29), "P4Y", StartKind::StartOfDay).unshifted_end,
            d(2028, 2, 28)
        );
    }

    #[test]
    fn three_months_from_30_november() {
        // Event: February 2026 has no 30th → 28.02.2026 (a Saturday) → Monday 02.03.2026.
        let deadline = compute(d(2025, 11, 30), "P3M", StartKind::Event);
        assert_eq!(deadline.unshifted_end, d(2026, 2, 28));
        assert_eq!(deadline.end, d(2026, 3, 2));
        assert_eq!(
            compute(d(2025, 11, 30), "vierteljahr", StartKind::StartOfDay).unshifted_end,
            d(2026, 2, 28)
        );
        assert_eq!(
            compute(d(2027, 11, 30), "P3M", StartKind::Event).unshifted_end,
            d(2028, 2, 29)
        );
    }

    #[test]
    fn event_on_the_last_day_of_february_keeps_the_day_number() {
        assert_eq!(
            compute(d(2025, 2, 28), "P1M", StartKind::Event).unshifted_end,
            d(2025, 3, 28)
        );
    }

    // § 189 BGB.

    #[test]
    fn half_month_is_fifteen_days() {
        assert_eq!(
            compute(d(2026, 2, 2), "halber-monat", StartKind::Event).unshifted_end,
            d(2026, 2, 17)
        );
    }

    #[test]
    fn half_year_is_six_months() {
        assert_eq!(
            compute(d(2026, 1, 15), "halbes-jahr", StartKind::Event).unshifted_end,
            d(2026, 7, 15)
        );
    }

    #[test]
    fn month_and_a_half_counts_the_fifteen_days_last() {
        // 31.01.2025 + 1 month → 28.02.2025, then + 15 days → 15.03.2025 (Saturday) → 17.03.2025.
        let deadline = compute(d(2025, 1, 31), "P1M15D", StartKind::Event);
        assert_eq!(deadline.unshifted_end, d(2025, 3, 15));
        assert_eq!(deadline.end, d(2025, 3, 17));
        // 16.01.2026 + 1 month = 16.02., + 15 days = 03.03.2026. Counting the 15 days first would
        // wrongly give 31.01. + 1 month = 28.02.2026.
        assert_eq!(
            compute(d(2026, 1, 16), "P1M15D", StartKind::Event).unshifted_end,
            d(2026, 3, 3)
        );
        // Beginnfrist from 01.02.2026: 1 month → 28.02.2026, + 15 days → 15.03.2026 (Sunday).
        let beginn = compute(d(2026, 2, 1), "P1M15D", StartKind::StartOfDay);
        assert_eq!(beginn.unshifted_end, d(2026, 3, 15));
        assert_eq!(beginn.end, d(2026, 3, 16));
    }

    // Holidays.

    #[test]
    fn reformation_day_2017_shifts_a_deadline() {
        // Tuesday 31.10.2017 was a one-off holiday → Wednesday 01.11.2017 is Allerheiligen →
        // Thursday 02.11.2017.
        let deadline = compute(d(2017, 10, 17), "P2W", StartKind::Event);
        assert_eq!(deadline.unshifted_end, d(2017, 10, 31));
        assert_eq!(deadline.end, d(2017, 11, 2));
        assert_eq!(
            skipped(&deadline),
            [
                (
                    d(2017, 10, 31),
                    "Reformationstag (500. Jahrestag der Reformation)".to_string()
                ),
                (d(2017, 11, 1), "Allerheiligen".to_string()),
            ]
        );
        // The same date in 2018 is an ordinary Wednesday.
        assert!(
            compute(d(2018, 10, 17), "P2W", StartKind::Event)
                .skipped
                .is_empty()
        );
    }

    #[test]
    fn holiday_followed_by_a_weekend() {
        // Friday 01.05.2026 is Tag der Arbeit, then Saturday and Sunday → Monday 04.05.2026.
        let deadline = compute(d(2026, 4, 1), "P1M", StartKind::Event);
        assert_eq!(deadline.unshifted_end, d(2026, 5, 1));
        assert_eq!(deadline.end, d(2026, 5, 4));
        assert_eq!(
            skipped(&deadline),
            [
                (d(2026, 5, 1), "Tag der Arbeit".to_string()),
                (d(2026, 5, 2), "Samstag".to_string()),
                (d(2026, 5, 3), "Sonntag".to_string()),
            ]
        );
    }

    #[test]
    fn holiday_on_a_weekend_is_reported_by_name() {
        // 03.10.2026 is a Saturday and Tag der Deutschen Einheit.
        let deadline = compute(d(2026, 9, 3), "P1M", StartKind::Event);
        assert_eq!(deadline.end, d(2026, 10, 5));
        assert_eq!(
            skipped(&deadline),
            [
                (d(2026, 10, 3), "Tag der Deutschen Einheit".to_string()),
                (d(2026, 10, 4), "Sonntag".to_string()),
            ]
        );
    }

    #[test]
    fn christmas_and_new_year() {
        // Friday 25.12.2026, Saturday, Sunday → Monday 28.12.2026.
        let deadline = compute(d(2026, 11, 25), "P1M", StartKind::Event);
        assert_eq!(deadline.end, d(2026, 12, 28));
        assert_eq!(deadline.skipped.len(), 3);
        assert_eq!(deadline.skipped[1].reason.to_string(), "2. Weihnachtstag");
    }

    #[test]
    fn no_shift_keeps_the_unshifted_end() {
        let deadline = compute_deadline(
            d(2026, 3, 3),
            p("P1M"),
            StartKind::Event,
            nw(),
            EndShift::NoShift,
        )
        .unwrap();
        assert_eq!(deadline.end, d(2026, 4, 3));
        assert_eq!(deadline.unshifted_end, d(2026, 4, 3));
        assert!(deadline.skipped.is_empty());
    }

    // Range errors.

    #[test]
    fn dates_outside_the_calendar_range_are_errors() {
        let shift = EndShift::NextWorkingDay;
        assert_eq!(
            compute_deadline(d(1899, 12, 31), p("P1D"), StartKind::Event, nw(), shift),
            Err(FristError::StartOutOfRange(d(1899, 12, 31)))
        );
        assert_eq!(
            compute_deadline(d(2199, 12, 1), p("P1M"), StartKind::Event, nw(), shift),
            Err(FristError::EndOutOfRange)
        );
        // Tuesday 31.12.2199 is the last supported day and a working day.
        assert!(compute_deadline(d(2199, 12, 30), p("P1D"), StartKind::Event, nw(), shift).is_ok());
        assert_eq!(
            compute_deadline(d(2199, 12, 30), p("P300Y"), StartKind::Event, nw(), shift),
            Err(FristError::EndOutOfRange)
        );
        assert_eq!(
            compute_deadline(d(1900, 1, 1), p("P110000D"), StartKind::Event, nw(), shift),
            Err(FristError::EndOutOfRange)
        );
        assert_eq!(
            compute_deadline(NaiveDate::MAX, p("P1D"), StartKind::Event, nw(), shift),
            Err(FristError::StartOutOfRange(NaiveDate::MAX))
        );
        assert!(
            FristError::StartOutOfRange(d(1899, 12, 31))
                .to_string()
                .contains("31.12.1899")
        );
    }

    #[test]
    fn shift_past_the_last_supported_day_is_an_error() {
        // A test calendar makes 31.12. a holiday, so the shift would need 01.01.2200.
        let data = "[[land]]\ncode = \"ZZ\"\nname = \"Test\"\n\
                    [[land.fixed]]\nmonth = 12\nday = 31\nname = \"Silvester\"";
        let set = super::super::calendar::CalendarSet::from_toml(data).unwrap();
        let zz = set.land("ZZ").unwrap();
        assert_eq!(
            compute_deadline(
                d(2199, 12, 30),
                p("P1D"),
                StartKind::Event,
                zz,
                EndShift::NextWorkingDay
            ),
            Err(FristError::EndOutOfRange)
        );
    }

    #[test]
    fn endless_holidays_are_reported_not_looped() {
        let mut data = String::from("[[land]]\ncode = \"ZZ\"\nname = \"Test\"\n");
        for day in 1..=31 {
            data.push_str(&format!(
                "[[land.fixed]]\nmonth = 1\nday = {day}\nname = \"Ferien\"\n"
            ));
        }
        data.push_str("[[land.fixed]]\nmonth = 2\nday = 1\nname = \"Ferien\"\n");
        let set = super::super::calendar::CalendarSet::from_toml(&data).unwrap();
        let zz = set.land("ZZ").unwrap();
        assert_eq!(
            compute_deadline(
                d(2025, 12, 31),
                p("P1D"),
                StartKind::Event,
                zz,
                EndShift::NextWorkingDay
            ),
            Err(FristError::NoWorkingDay(d(2026, 1, 1)))
        );
    }

    // Properties.

    fn any_start() -> impl Strategy<Value = NaiveDate> {
        // 1950-01-01 plus up to ~200 years, leaving room for the longest generated period.
        (0u64..73_000).prop_map(|offset| d(1950, 1, 1) + Days::new(offset))
    }

    fn any_period() -> impl Strategy<Value = Period> {
        prop_oneof![
            (1u32..400).prop_map(|n| Period::new(0, 0, 0, n).unwrap()),
            (1u32..60).prop_map(|n| Period::new(0, 0, n, 0).unwrap()),
            (0u32..10, 0u32..24, any::<bool>()).prop_filter_map("non-empty", |(y, m, half)| {
                Period::new(y, m, 0, if half { HALF_MONTH_DAYS } else { 0 }).ok()
            }),
        ]
    }

    fn any_kind() -> impl Strategy<Value = StartKind> {
        prop_oneof![Just(StartKind::Event), Just(StartKind::StartOfDay)]
    }

    proptest! {
        #[test]
        fn shifted_end_is_a_working_day(start in any_start(), period in any_period(), kind in any_kind()) {
            let deadline = compute_deadline(start, period, kind, nw(), EndShift::NextWorkingDay).unwrap();
            prop_assert!(!matches!(deadline.end.weekday(), Weekday::Sat | Weekday::Sun));
            prop_assert_eq!(nw().holiday_name(deadline.end).unwrap(), None);
        }

        #[test]
        fn shift_moves_forward_by_at_most_four_days(start in any_start(), period in any_period(), kind in any_kind()) {
            let deadline = compute_deadline(start, period, kind, nw(), EndShift::NextWorkingDay).unwrap();
            prop_assert!(deadline.end >= deadline.unshifted_end);
            prop_assert!(deadline.end <= deadline.unshifted_end + Days::new(4));
            prop_assert_eq!(
                deadline.skipped.len() as i64,
                (deadline.end - deadline.unshifted_end).num_days()
            );
        }

        #[test]
        fn weeks_as_ereignisfrist_keep_the_weekday(start in any_start(), weeks in 1u32..200) {
            let period = Period::new(0, 0, weeks, 0).unwrap();
            let deadline = compute_deadline(start, period, StartKind::Event, nw(), EndShift::NextWorkingDay).unwrap();
            prop_assert_eq!(deadline.unshifted_end.weekday(), start.weekday());
        }

        #[test]
        fn without_shift_end_is_unshifted_end(start in any_start(), period in any_period(), kind in any_kind()) {
            let deadline = compute_deadline(start, period, kind, nw(), EndShift::NoShift).unwrap();
            prop_assert_eq!(deadline.end, deadline.unshifted_end);
            prop_assert!(deadline.skipped.is_empty());
        }

        #[test]
        fn beginnfrist_ends_one_day_before_the_ereignisfrist_for_days_and_weeks(
            start in any_start(), days in 1u32..400
        ) {
            let period = Period::new(0, 0, 0, days).unwrap();
            let event = compute_deadline(start, period, StartKind::Event, nw(), EndShift::NoShift).unwrap();
            let beginn = compute_deadline(start, period, StartKind::StartOfDay, nw(), EndShift::NoShift).unwrap();
            prop_assert_eq!(event.unshifted_end - beginn.unshifted_end, chrono::Duration::days(1));
        }

        #[test]
        fn never_panics_on_any_date_and_period(
            days_from_epoch in -200_000i64..200_000,
            years in 0u32..301, months in 0u32..12, weeks in 0u32..16_001, extra in 0u32..110_001,
            kind in any_kind(),
        ) {
            let start = d(1970, 1, 1) + chrono::Duration::days(days_from_epoch);
            if let Ok(period) = Period::new(years, months, weeks, extra) {
                let _ = compute_deadline(start, period, kind, nw(), EndShift::NextWorkingDay);
            }
        }
    }
}
