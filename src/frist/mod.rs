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
