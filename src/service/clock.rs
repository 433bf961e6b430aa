//! The one place the service reads the clock: the instant and the day in Germany.

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc, Weekday,
};

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
        windows: Default::default(),
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

/// Office hours at the authority: on working days in North Rhine-Westphalia from 07:00, when the
/// `reminders` job sends, until 18:00.
const OFFICE_OPENS: u32 = 7;
const OFFICE_CLOSES: u32 = 18;

/// When mail the system writes at `now` goes out: at once during office hours, else at 07:00 on
/// the next working day (no weekend, no public holiday in NRW), when reminders go out too. A
/// flow timer fires at the start of its day and would otherwise mail partners and offices at
/// midnight, also on Karfreitag. Should the holiday calendar fail, the mail is not held.
pub fn office_hours_from(now: DateTime<Utc>) -> DateTime<Utc> {
    let Ok(calendar) = crate::frist::HolidayCalendar::for_land("NW") else {
        return now;
    };
    let local = berlin_local(now);
    let today = local.date();
    let working_today = calendar.is_working_day(today).unwrap_or(true);
    if working_today && (OFFICE_OPENS..OFFICE_CLOSES).contains(&local.hour()) {
        return now;
    }
    // Before opening on a working day: today; else from tomorrow on, the § 193 BGB shift.
    let from = if working_today && local.hour() < OFFICE_OPENS {
        today
    } else {
        today.succ_opt().unwrap_or(today)
    };
    let Ok((day, _)) = crate::frist::compute::next_working_day(from, calendar) else {
        return now;
    };
    let opening = day.and_hms_opt(OFFICE_OPENS, 0, 0).unwrap_or(local);
    berlin_to_utc(opening).max(now)
}

/// The instant at which Germany's wall clock shows `local` (not inside the hour skipped in
/// spring, which office hours never are).
fn berlin_to_utc(local: NaiveDateTime) -> DateTime<Utc> {
    [1, 2]
        .into_iter()
        .map(|offset| Utc.from_utc_datetime(&(local - Duration::hours(offset))))
        .find(|utc| berlin_local(*utc) == local)
        .unwrap_or_else(|| Utc.from_utc_datetime(&(local - Duration::hours(1))))
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

    #[test]
    fn system_mail_waits_for_office_hours_on_a_working_day() {
        let at = |text: &str| office_hours_from(utc(text)).to_rfc3339();
        // Wednesday 04.03.2026 (winter time): 10:00 in Germany goes out at once.
        assert_eq!(at("2026-03-04T09:00:00Z"), "2026-03-04T09:00:00+00:00");
        // 00:05 waits for 07:00 the same day; 19:00 for 07:00 the next.
        assert_eq!(at("2026-03-03T23:05:00Z"), "2026-03-04T06:00:00+00:00");
        assert_eq!(at("2026-03-04T18:00:00Z"), "2026-03-05T06:00:00+00:00");
        // Friday evening and Saturday wait for Monday.
        assert_eq!(at("2026-03-06T18:30:00Z"), "2026-03-09T06:00:00+00:00");
        assert_eq!(at("2026-03-07T09:00:00Z"), "2026-03-09T06:00:00+00:00");
        // Karfreitag 03.04.2026 just after midnight (summer time): Easter lies between, and
        // Ostermontag, so Tuesday 07.04. at 07:00, 05:00 UTC.
        assert_eq!(at("2026-04-02T22:05:00Z"), "2026-04-07T05:00:00+00:00");
        // Christmas Eve evening: 25./26.12. are holidays, 27.12.2026 is a Sunday.
        assert_eq!(at("2026-12-24T19:00:00Z"), "2026-12-28T06:00:00+00:00");
    }
}
