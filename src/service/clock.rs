//! The one place the service reads the clock: the instant and the day in Germany.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};

use crate::engine::Clock;

/// The current time, with the calendar day as it is at the authority (Europe/Berlin).
pub fn now() -> Clock {
    at(Utc::now())
}

/// The clock at a given instant (tests and replays).
pub fn at(now: DateTime<Utc>) -> Clock {
    Clock {
        now,
        today: berlin_date(now),
    }
}

/// The date in Germany at this instant: CET (UTC+1), CEST (UTC+2) from the last Sunday of March
/// 01:00 UTC to the last Sunday of October 01:00 UTC (EU summer time rule).
pub fn berlin_date(now: DateTime<Utc>) -> NaiveDate {
    berlin_local(now).date()
}

/// The time in Germany, as shown to people: `23.11.2026, 14:05 Uhr`.
pub fn berlin_time_de(now: DateTime<Utc>) -> String {
    berlin_local(now).format("%d.%m.%Y, %H:%M Uhr").to_string()
}

/// Wall-clock time in Germany as a naive date-time.
fn berlin_local(now: DateTime<Utc>) -> chrono::NaiveDateTime {
    let year = now.year();
    let summer_start = last_sunday_0100_utc(year, 3);
    let summer_end = last_sunday_0100_utc(year, 10);
    let offset = if now >= summer_start && now < summer_end {
        2
    } else {
        1
    };
    (now + Duration::hours(offset)).naive_utc()
}

fn last_sunday_0100_utc(year: i32, month: u32) -> DateTime<Utc> {
    let last_day = NaiveDate::from_ymd_opt(year, month + 1, 1)
        .and_then(|d| d.pred_opt())
        .unwrap_or_default();
    let back = last_day.weekday().num_days_from_sunday();
    let sunday = last_day - Duration::days(i64::from(back));
    debug_assert_eq!(sunday.weekday(), Weekday::Sun);
    Utc.from_utc_datetime(&sunday.and_hms_opt(1, 0, 0).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_german_day_follows_winter_and_summer_time() {
        // Winter: 23:30 UTC is 00:30 the next day in Germany.
        assert_eq!(
            berlin_date(utc("2026-01-15T23:30:00Z")).to_string(),
            "2026-01-16"
        );
        assert_eq!(
            berlin_date(utc("2026-01-15T22:59:00Z")).to_string(),
            "2026-01-15"
        );
        // Summer (29.03.2026 to 25.10.2026): 22:30 UTC is already the next day.
        assert_eq!(
            berlin_date(utc("2026-07-01T22:30:00Z")).to_string(),
            "2026-07-02"
        );
        assert_eq!(
            berlin_date(utc("2026-07-01T21:59:00Z")).to_string(),
            "2026-07-01"
        );
        // The switch days themselves.
        assert_eq!(
            berlin_date(utc("2026-03-29T00:59:00Z")).to_string(),
            "2026-03-29"
        );
        assert_eq!(
            berlin_date(utc("2026-10-24T22:30:00Z")).to_string(),
            "2026-10-25"
        );
        assert_eq!(
            berlin_date(utc("2026-10-25T23:30:00Z")).to_string(),
            "2026-10-26"
        );
    }
}
