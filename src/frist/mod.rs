//! Legal period computation (Fristberechnung, §§ 187–193 BGB via § 31 VwVfG NRW) and holiday
//! calendars as data; pure: this module must never do I/O or read the clock.
//!
//! - [`period`]: period lengths parsed from restricted ISO 8601 durations (`P1M`, `P1M15D`, …).
//! - [`calendar`]: public holidays per Land from the embedded `feiertage.toml`, Easter 1900–2199.
//! - [`compute`]: the end of an Ereignisfrist or Beginnfrist, shifted by § 193 BGB if asked.
//! - [`delivery`]: the delivery fiction of § 41 (2) VwVfG NRW.
//! - [`cli`]: the `vorgang frist` command (returns text; the caller prints it).

pub mod calendar;
pub mod cli;
pub mod compute;
pub mod delivery;
pub mod period;

pub use calendar::{
    CalendarError, CalendarSet, FIRST_SUPPORTED_YEAR, HolidayCalendar, LAST_SUPPORTED_YEAR,
    NonWorkingReason, easter_sunday, non_working_reason,
};
pub use cli::{FristArgs, FristCliError, format_date_de, run};
pub use compute::{Deadline, EndShift, FristError, SkippedDay, StartKind, compute_deadline};
pub use delivery::{
    DeemedDelivery, DeliveryDayShift, FOUR_DAY_RULE_FROM, days_until_deemed_delivery,
    deemed_delivery,
};
pub use period::{Period, PeriodError, PeriodErrorKind};

use chrono::NaiveDate;

/// A day as people give it: `2026-09-01` (a date input, the API) or `1.9.2026` (typed by hand);
/// surrounding blanks are ignored.
pub fn parse_day(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d.%m.%Y"))
        .ok()
}

/// Why `until` cannot be the new last day of a period that now ends on `current`, as the
/// authority names it when extending (§ 31 (7) VwVfG NRW) or a partner when asking for it;
/// `None` when it can. It must be later than `current`, not before `today`, at most a year
/// ahead, and a working day in `calendar`: a named day is not shifted by § 193 BGB (§ 31 (3)
/// sentence 2 VwVfG NRW), so it must not need shifting. German, naming the day.
pub fn refuse_named_end(
    calendar: &HolidayCalendar,
    current: NaiveDate,
    until: NaiveDate,
    today: NaiveDate,
) -> Result<Option<String>, CalendarError> {
    let day = |d: NaiveDate| d.format("%d.%m.%Y").to_string();
    if until <= current {
        return Ok(Some(format!(
            "Die neue Frist muss nach der bisherigen enden (bisher: {}).",
            day(current)
        )));
    }
    if until < today {
        return Ok(Some(format!(
            "Der {} liegt in der Vergangenheit; die neue Frist muss heute oder später enden.",
            day(until)
        )));
    }
    if until
        > today
            .checked_add_months(chrono::Months::new(12))
            .unwrap_or(until)
    {
        return Ok(Some(format!(
            "Der {} liegt mehr als ein Jahr in der Zukunft; bitte wählen Sie einen früheren Tag.",
            day(until)
        )));
    }
    Ok(non_working_reason(calendar, until)?.map(|why| {
        format!(
            "Der {} ist kein Werktag ({why}); bitte wählen Sie einen Werktag als Fristende.",
            day(until)
        )
    }))
}
