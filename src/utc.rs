//! UTC instants as the JSON API writes them: RFC 3339 with `Z`, to the second
//! (`2026-03-02T08:15:00Z`). The database keeps UTC in `TIMESTAMP` columns without a zone; written
//! out bare, a client in Germany would read such a time as local, an hour or two off.

use chrono::NaiveDateTime;
use serde::Serializer;

/// `at`, a UTC instant, as RFC 3339 with `Z`.
pub fn rfc3339(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Serde's `serialize_with` for a UTC instant of a response.
pub fn serialize<S: Serializer>(at: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*at))
}

/// Serde's `serialize_with` for an optional UTC instant of a response (`null` when absent).
pub fn serialize_option<S: Serializer>(
    at: &Option<NaiveDateTime>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => s.serialize_str(&rfc3339(*at)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use serde::Serialize;

    #[derive(Serialize)]
    struct Times {
        #[serde(serialize_with = "super::serialize")]
        at: chrono::NaiveDateTime,
        #[serde(serialize_with = "super::serialize_option")]
        maybe: Option<chrono::NaiveDateTime>,
        #[serde(serialize_with = "super::serialize_option")]
        none: Option<chrono::NaiveDateTime>,
    }

    #[test]
    fn instants_carry_their_zone_and_whole_seconds() {
        let at = NaiveDate::from_ymd_opt(2026, 3, 2)
            .unwrap()
            .and_hms_micro_opt(8, 15, 0, 250_000)
            .unwrap();
        let json = serde_json::to_value(Times {
            at,
            maybe: Some(at),
            none: None,
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "at": "2026-03-02T08:15:00Z", "maybe": "2026-03-02T08:15:00Z", "none": null })
        );
    }
}
