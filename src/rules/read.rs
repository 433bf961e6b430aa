//! Reading typed values at dotted paths of the case data, for the rules.
//!
//! Never panics: absent, null, empty or mistyped values come back as a [`FieldError`], so a rule
//! can turn them into a finding that names the path.

use chrono::{Datelike, Months, NaiveDate};
use serde_json::Value;

/// Why a value could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldError {
    /// Absent, `null`, or an empty / blank string: not filled in.
    Missing,
    /// Present, but not of the expected type or form.
    Invalid,
}

/// The value at a dotted path (`personal.teilzeit.0.anteile`); numeric segments index arrays.
pub(crate) fn lookup<'a>(data: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(data, |value, segment| match value {
            Value::Object(map) => map.get(segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
}

/// The value at `path` unless it is absent, `null` or a blank string.
fn filled<'a>(data: &'a Value, path: &str) -> Result<&'a Value, FieldError> {
    match lookup(data, path) {
        None | Some(Value::Null) => Err(FieldError::Missing),
        Some(Value::String(text)) if text.trim().is_empty() => Err(FieldError::Missing),
        Some(value) => Ok(value),
    }
}

/// A non-blank string, trimmed.
pub(crate) fn text<'a>(data: &'a Value, path: &str) -> Result<&'a str, FieldError> {
    filled(data, path)?
        .as_str()
        .map(str::trim)
        .ok_or(FieldError::Invalid)
}

/// A JSON number (strings such as `"2,0"` are invalid, not guessed at).
pub(crate) fn number(data: &Value, path: &str) -> Result<f64, FieldError> {
    filled(data, path)?.as_f64().ok_or(FieldError::Invalid)
}

/// A calendar date written exactly as `YYYY-MM-DD`.
pub(crate) fn date(data: &Value, path: &str) -> Result<NaiveDate, FieldError> {
    parse_iso_date(text(data, path)?).ok_or(FieldError::Invalid)
}

/// An array; present but empty is `Ok(&[])`, so the rule decides what "none" means.
pub(crate) fn list<'a>(data: &'a Value, path: &str) -> Result<&'a [Value], FieldError> {
    filled(data, path)?
        .as_array()
        .map(Vec::as_slice)
        .ok_or(FieldError::Invalid)
}

/// Parses a strict ISO date: four-digit year, two-digit month and day, a real calendar day.
pub(crate) fn parse_iso_date(text: &str) -> Option<NaiveDate> {
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

/// The last day of a period of `months` months that starts at the beginning of `start`
/// (Beginnfrist, § 187 Abs. 2, § 188 Abs. 2 Alt. 2 and Abs. 3 BGB), without the § 193 shift.
///
/// The period ends on the day before the day with the same number as `start`; where the last
/// month has no such day, on the last day of that month.
pub(crate) fn beginnfrist_end(start: NaiveDate, months: u32) -> Option<NaiveDate> {
    let same_day = start.checked_add_months(Months::new(months))?;
    if same_day.day() == start.day() {
        same_day.pred_opt()
    } else {
        // chrono clamped to the end of a shorter month: § 188 Abs. 3 BGB.
        Some(same_day)
    }
}

/// A date as Germans write it (`01.12.2025`).
pub(crate) fn german_date(date: NaiveDate) -> String {
    date.format("%d.%m.%Y").to_string()
}

/// A number of full-time equivalents as Germans write it (`5,5`; `2`; `0,25`).
pub(crate) fn german_number(value: f64) -> String {
    let fixed = format!("{value:.2}");
    let trimmed = if fixed.contains('.') {
        fixed.trim_end_matches('0').trim_end_matches('.')
    } else {
        &fixed
    };
    let text = trimmed.replace('.', ",");
    if text == "-0" { "0".into() } else { text }
}

/// A JSON value shown inside a message, shortened so a huge value cannot flood the screen.
pub(crate) fn shown(value: &str) -> String {
    const MAX_CHARS: usize = 60;
    if value.chars().count() <= MAX_CHARS {
        value.to_string()
    } else {
        let head: String = value.chars().take(MAX_CHARS).collect();
        format!("{head} …")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn lookup_walks_objects_and_arrays() {
        let data = json!({"a": {"b": [{"c": 1}]}});
        assert_eq!(lookup(&data, "a.b.0.c"), Some(&json!(1)));
        assert_eq!(lookup(&data, "a.b.1.c"), None);
        assert_eq!(lookup(&data, "a.b.x"), None);
        assert_eq!(lookup(&data, "a.b.0.c.d"), None);
        assert_eq!(lookup(&json!(3), "a"), None);
    }

    #[test]
    fn typed_reads_distinguish_missing_from_invalid() {
        let data = json!({"t": "  x ", "blank": " ", "n": 2.5, "s": "2,5", "nil": null,
                          "d": "2026-02-28", "bad": "2026-02-30", "short": "2026-2-3", "l": []});
        assert_eq!(text(&data, "t"), Ok("x"));
        assert_eq!(text(&data, "blank"), Err(FieldError::Missing));
        assert_eq!(text(&data, "n"), Err(FieldError::Invalid));
        assert_eq!(number(&data, "n"), Ok(2.5));
        assert_eq!(number(&data, "s"), Err(FieldError::Invalid));
        assert_eq!(number(&data, "nil"), Err(FieldError::Missing));
        assert_eq!(number(&data, "absent"), Err(FieldError::Missing));
        assert_eq!(date(&data, "d"), Ok(d(2026, 2, 28)));
        assert_eq!(date(&data, "bad"), Err(FieldError::Invalid));
        assert_eq!(date(&data, "short"), Err(FieldError::Invalid));
        assert_eq!(list(&data, "l"), Ok(&[][..]));
        assert_eq!(list(&data, "t"), Err(FieldError::Invalid));
    }

    #[test]
    fn strict_iso_dates_only() {
        assert_eq!(parse_iso_date("2024-02-29"), Some(d(2024, 2, 29)));
        for bad in [
            "2025-02-29",
            "+2025-01-01",
            "2025-1-01",
            "2025-01-01T00:00",
            "01.01.2025",
            "",
            "2025-13-01",
            "２０２５-01-01",
        ] {
            assert_eq!(parse_iso_date(bad), None, "{bad}");
        }
    }

    /// FRISTEN.md, example 4: work starts Monday 01.12.2025 (Beginnfrist): + 6 months ends on
    /// Sunday 31.05.2026 (before the § 193 shift); + 1 year on Monday 30.11.2026.
    #[test]
    fn beginnfrist_matches_the_worked_examples() {
        assert_eq!(beginnfrist_end(d(2025, 12, 1), 6), Some(d(2026, 5, 31)));
        assert_eq!(beginnfrist_end(d(2025, 12, 1), 12), Some(d(2026, 11, 30)));
        // Example 5: a two-year Schwerpunkt period from 01.01.2026 ends on 31.12.2027.
        assert_eq!(beginnfrist_end(d(2026, 1, 1), 24), Some(d(2027, 12, 31)));
        // § 188 Abs. 3 BGB: no 31st in February, the period ends on its last day.
        assert_eq!(beginnfrist_end(d(2025, 8, 31), 6), Some(d(2026, 2, 28)));
        assert_eq!(beginnfrist_end(NaiveDate::MAX, 12), None);
    }

    #[test]
    fn numbers_and_dates_are_written_the_german_way() {
        assert_eq!(german_number(5.5), "5,5");
        assert_eq!(german_number(2.0), "2");
        assert_eq!(german_number(0.25), "0,25");
        assert_eq!(german_number(-0.0), "0");
        assert_eq!(german_number(-1.5), "-1,5");
        assert_eq!(german_date(d(2026, 3, 4)), "04.03.2026");
        assert_eq!(shown(&"x".repeat(100)).chars().count(), 62);
    }
}
