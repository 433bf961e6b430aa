//! The delivery fiction of § 41 (2) VwVfG NRW: when a posted administrative act counts as notified.
//!
//! The deemed delivery date is the event from which an Ereignisfrist (e.g. for an objection) runs.
//! Whether it moves off a weekend or holiday is disputed, so the caller must choose explicitly.

use chrono::{Days, NaiveDate};

use super::calendar::HolidayCalendar;
use super::compute::{FristError, SkippedDay, in_supported_range, next_working_day};

/// First posting day for which the fourth-day rule applies; before it, the third day applied.
pub const FOUR_DAY_RULE_FROM: NaiveDate = match NaiveDate::from_ymd_opt(2025, 1, 1) {
    Some(date) => date,
    None => NaiveDate::MIN,
};

/// Whether the deemed delivery date moves off Saturdays, Sundays and holidays. There is no default
/// on purpose: the question is disputed and the authority must decide which view it follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeliveryDayShift {
    /// The date stays as computed: § 41 (2) names a day, not a period, and § 31 (3) VwVfG NRW
    /// moves only the end of a period ("Frist").
    Keep,
    /// The date moves to the next working day, applying § 31 (3) VwVfG NRW / § 193 BGB to the
    /// fiction (the view the tax courts take for the parallel rule in § 122 (2) AO).
    NextWorkingDay,
}

/// A deemed delivery date with the facts it rests on, so it can be shown and audited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeemedDelivery {
    /// The day the letter was handed to the post.
    pub posted: NaiveDate,
    /// 4 for postings from 01.01.2025, 3 before.
    pub days_after_posting: u32,
    /// The rule that was applied to weekends and holidays.
    pub shift: DeliveryDayShift,
    /// Posting day plus `days_after_posting`.
    pub unshifted: NaiveDate,
    /// The day the act counts as notified.
    pub delivered: NaiveDate,
    /// The non-working days passed over (empty with [`DeliveryDayShift::Keep`]).
    pub skipped: Vec<SkippedDay>,
}

/// Days after posting after which a letter counts as delivered, by the law in force on the
/// posting day (§ 41 (2) VwVfG NRW: third day until 31.12.2024, fourth day since 01.01.2025).
pub fn days_until_deemed_delivery(posted: NaiveDate) -> u32 {
    if posted >= FOUR_DAY_RULE_FROM { 4 } else { 3 }
}

/// Computes the day a posted administrative act counts as notified (§ 41 (2) VwVfG NRW).
pub fn deemed_delivery(
    posted: NaiveDate,
    calendar: &HolidayCalendar,
    shift: DeliveryDayShift,
) -> Result<DeemedDelivery, FristError> {
    if !in_supported_range(posted) {
        return Err(FristError::StartOutOfRange(posted));
    }
    let days_after_posting = days_until_deemed_delivery(posted);
    let unshifted = posted
        .checked_add_days(Days::new(u64::from(days_after_posting)))
        .filter(|date| in_supported_range(*date))
        .ok_or(FristError::EndOutOfRange)?;
    let (delivered, skipped) = match shift {
        DeliveryDayShift::Keep => (unshifted, Vec::new()),
        DeliveryDayShift::NextWorkingDay => next_working_day(unshifted, calendar)?,
    };
    Ok(DeemedDelivery {
        posted,
        days_after_posting,
        shift,
        unshifted,
        delivered,
        skipped,
    })
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
    fn posted_thursday_counts_as_delivered_on_monday() {
        for shift in [DeliveryDayShift::Keep, DeliveryDayShift::NextWorkingDay] {
            let delivery = deemed_delivery(d(2026, 1, 8), nw(), shift).unwrap();
            assert_eq!(delivery.days_after_posting, 4);
            assert_eq!(delivery.delivered, d(2026, 1, 12));
            assert!(delivery.skipped.is_empty());
        }
    }

    #[test]
    fn fourth_day_on_a_saturday_under_both_options() {
        // Posted Tuesday 06.01.2026; the fourth day is Saturday 10.01.2026.
        let kept = deemed_delivery(d(2026, 1, 6), nw(), DeliveryDayShift::Keep).unwrap();
        assert_eq!(kept.unshifted, d(2026, 1, 10));
        assert_eq!(kept.delivered, d(2026, 1, 10));
        assert!(kept.skipped.is_empty());

        let moved = deemed_delivery(d(2026, 1, 6), nw(), DeliveryDayShift::NextWorkingDay).unwrap();
        assert_eq!(moved.unshifted, d(2026, 1, 10));
        assert_eq!(moved.delivered, d(2026, 1, 12));
        let reasons: Vec<(NaiveDate, String)> = moved
            .skipped
            .iter()
            .map(|s| (s.date, s.reason.to_string()))
            .collect();
        assert_eq!(
            reasons,
            [
                (d(2026, 1, 10), "Samstag".to_string()),
                (d(2026, 1, 11), "Sonntag".to_string()),
            ]
        );
    }

    #[test]
    fn postings_before_2025_use_three_days() {
        let delivery = deemed_delivery(d(2024, 3, 4), nw(), DeliveryDayShift::Keep).unwrap();
        assert_eq!(delivery.days_after_posting, 3);
        assert_eq!(delivery.delivered, d(2024, 3, 7));
    }

    #[test]
    fn the_posting_day_decides_which_rule_applies() {
        // Posted 31.12.2024: third day, Friday 03.01.2025.
        let old = deemed_delivery(d(2024, 12, 31), nw(), DeliveryDayShift::Keep).unwrap();
        assert_eq!(old.delivered, d(2025, 1, 3));
        // Posted 01.01.2025: fourth day, Sunday 05.01.2025 → Monday 06.01.2025 if moved.
        let new = deemed_delivery(d(2025, 1, 1), nw(), DeliveryDayShift::NextWorkingDay).unwrap();
        assert_eq!(new.unshifted, d(2025, 1, 5));
        assert_eq!(new.delivered, d(2025, 1, 6));
    }

    #[test]
    fn fourth_day_on_a_holiday_is_named() {
        // Posted Monday 30.03.2026; the fourth day is Karfreitag 03.04.2026 → Tuesday 07.04.2026.
        let moved =
            deemed_delivery(d(2026, 3, 30), nw(), DeliveryDayShift::NextWorkingDay).unwrap();
        assert_eq!(moved.delivered, d(2026, 4, 7));
        assert_eq!(moved.skipped[0].reason.to_string(), "Karfreitag");
    }

    #[test]
    fn out_of_range_is_an_error() {
        assert_eq!(
            deemed_delivery(d(1899, 6, 1), nw(), DeliveryDayShift::Keep),
            Err(FristError::StartOutOfRange(d(1899, 6, 1)))
        );
        assert_eq!(
            deemed_delivery(d(2199, 12, 30), nw(), DeliveryDayShift::Keep),
            Err(FristError::EndOutOfRange)
        );
    }
}
