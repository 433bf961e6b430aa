//! Aktenzeichen: the file number every case carries, e.g. `KI-05154-2026-0007`.
//!
//! The running number counts per prefix, applicant and year, as far as the pattern shows them: a
//! pattern without `{ags}` numbers all applicants in one sequence, one without `{year}` goes on
//! across years, so that no two cases ever read alike. It is drawn inside the case-creating
//! transaction with an upsert, so two concurrent creations never get the same number.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};

use crate::db::models::CaseId;
use crate::db::{DbConnection, DbError, reused};

/// The default pattern: workflow prefix, applicant AGS, year, four-digit running number.
pub const DEFAULT_PATTERN: &str = "{prefix}-{ags}-{year}-{number:04}";

/// A validated Aktenzeichen pattern with the placeholders `{prefix}`, `{ags}`, `{year}` and
/// `{number}` (optionally zero-padded: `{number:04}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AktenzeichenPattern {
    pattern: String,
}

impl AktenzeichenPattern {
    /// Checks that the pattern contains `{number}` (else numbers would repeat) and no unknown placeholder.
    pub fn parse(pattern: &str) -> Result<Self, String> {
        let mut rest = pattern;
        let mut has_number = false;
        while let Some(start) = rest.find('{') {
            let Some(end) = rest[start..].find('}') else {
                return Err(format!("„{pattern}“: „{{“ ohne schließende Klammer"));
            };
            let placeholder = &rest[start + 1..start + end];
            match placeholder {
                "prefix" | "ags" | "year" => {}
                "number" => has_number = true,
                other
                    if other.starts_with("number:0")
                        && other[8..].parse::<u8>().is_ok_and(|w| (1..=9).contains(&w)) =>
                {
                    has_number = true
                }
                other => {
                    return Err(format!(
                        "„{pattern}“: unbekannter Platzhalter „{{{other}}}“ (erlaubt: {{prefix}}, {{ags}}, {{year}}, {{number}}, {{number:04}})"
                    ));
                }
            }
            rest = &rest[start + end + 1..];
        }
        if !has_number {
            return Err(format!("„{pattern}“ enthält keinen Platzhalter {{number}}"));
        }
        Ok(Self {
            pattern: pattern.to_string(),
        })
    }

    /// The counter a case with these parts draws its number from: the parts the pattern does
    /// not show are left out (empty, year 0), or two cases could get the same Aktenzeichen.
    pub fn counter<'a>(&self, prefix: &'a str, ags: &'a str, year: i32) -> Counter<'a> {
        let shows = |placeholder: &str| self.pattern.contains(placeholder);
        Counter {
            prefix: if shows("{prefix}") { prefix } else { "" },
            applicant_key: if shows("{ags}") { ags } else { "" },
            year: if shows("{year}") { year } else { 0 },
        }
    }

    /// The Aktenzeichen for these parts.
    pub fn render(&self, prefix: &str, ags: &str, year: i32, number: i32) -> String {
        let mut out = self
            .pattern
            .replace("{prefix}", prefix)
            .replace("{ags}", ags)
            .replace("{year}", &year.to_string())
            .replace("{number}", &number.to_string());
        while let Some(start) = out.find("{number:0") {
            let Some(end) = out[start..].find('}') else {
                break;
            };
            let width: usize = out[start + 9..start + end].parse().unwrap_or(4);
            out.replace_range(start..start + end + 1, &format!("{number:0width$}"));
        }
        out
    }
}

impl Default for AktenzeichenPattern {
    fn default() -> Self {
        Self {
            pattern: DEFAULT_PATTERN.to_string(),
        }
    }
}

/// Which running number a new case draws: one row of `aktenzeichen_counters`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter<'a> {
    /// The workflow's prefix, or empty where the pattern leaves it out.
    pub prefix: &'a str,
    /// The applicant's AGS or key, or empty where the pattern leaves it out.
    pub applicant_key: &'a str,
    /// The year of creation, or 0 where the pattern leaves it out.
    pub year: i32,
}

#[derive(QueryableByName)]
struct LastNumber {
    #[diesel(sql_type = Integer)]
    last_number: i32,
}

#[derive(QueryableByName)]
struct NumberAndId {
    #[diesel(sql_type = Integer)]
    last_number: i32,
    #[diesel(sql_type = BigInt)]
    case_id: i64,
}

/// What a new case draws before it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reserved {
    /// The running number of its Aktenzeichen.
    pub number: i32,
    /// On PostgreSQL the id the case will have, drawn from its identity column's sequence
    /// (`cases_id_seq`, resolved once when the statement is prepared) in the same
    /// statement, so the case's INSERT can join the command's other writes instead of coming
    /// back with its id first. SQLite, where a statement costs no round trip, assigns the id
    /// when the case is inserted.
    pub case_id: Option<CaseId>,
}

/// Draws the next running number of `counter` and, on PostgreSQL, the new case's id. Must run
/// inside the caller's write transaction: the upsert locks the counter row until commit, so
/// numbers stay gapless; ids may have gaps (a sequence is not transactional).
pub fn reserve(conn: &mut DbConnection, counter: Counter<'_>) -> Result<Reserved, DbError> {
    let Counter {
        prefix,
        applicant_key,
        year,
    } = counter;
    // One statement on both backends; PostgreSQL also draws the case id in it.
    let upsert = |placeholders: &str, also: &str| {
        format!(
            "INSERT INTO aktenzeichen_counters (prefix, applicant_key, year, last_number) \
             VALUES ({placeholders}, 1) ON CONFLICT (prefix, applicant_key, year) \
             DO UPDATE SET last_number = aktenzeichen_counters.last_number + 1 \
             RETURNING last_number{also}"
        )
    };
    macro_rules! bound {
        ($sql:expr) => {
            reused(
                diesel::sql_query($sql)
                    .bind::<Text, _>(prefix)
                    .bind::<Text, _>(applicant_key)
                    .bind::<Integer, _>(year),
            )
        };
    }
    Ok(match conn {
        DbConnection::Sqlite(c) => {
            let row: LastNumber = bound!(upsert("?, ?, ?", "")).get_result(c)?;
            Reserved {
                number: row.last_number,
                case_id: None,
            }
        }
        DbConnection::Pg(c) => {
            let row: NumberAndId = bound!(upsert(
                "$1, $2, $3",
                ", nextval('cases_id_seq'::regclass) AS case_id"
            ))
            .get_result(c)?;
            Reserved {
                number: row.last_number,
                case_id: Some(CaseId(row.case_id)),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_pattern_gives_the_documented_form() {
        let pattern = AktenzeichenPattern::default();
        assert_eq!(pattern.render("KI", "05154", 2026, 7), "KI-05154-2026-0007");
        assert_eq!(
            pattern.render("KI", "05154", 2026, 12345),
            "KI-05154-2026-12345"
        );
    }

    #[test]
    fn patterns_are_checked() {
        assert!(AktenzeichenPattern::parse("{prefix}/{year}/{number}").is_ok());
        assert_eq!(
            AktenzeichenPattern::parse("{prefix}/{year}/{number:06}")
                .unwrap()
                .render("A", "1", 2026, 5),
            "A/2026/000005"
        );
        assert!(
            AktenzeichenPattern::parse("{prefix}-{year}")
                .unwrap_err()
                .contains("{number}")
        );
        assert!(
            AktenzeichenPattern::parse("{prefix}-{jahr}-{number}")
                .unwrap_err()
                .contains("{jahr}")
        );
        assert!(AktenzeichenPattern::parse("{prefix-{number}").is_err());
    }

    #[test]
    fn a_counter_counts_over_what_the_pattern_shows() {
        let counter = |pattern: &str| {
            let pattern = AktenzeichenPattern::parse(pattern).unwrap();
            let Counter {
                prefix,
                applicant_key,
                year,
            } = pattern.counter("KI", "05154", 2026);
            (prefix, applicant_key, year)
        };
        assert_eq!(counter(DEFAULT_PATTERN), ("KI", "05154", 2026));
        // All applicants in one sequence, or „KI/2026/1“ twice.
        assert_eq!(counter("{prefix}/{year}/{number}"), ("KI", "", 2026));
        // On across years, or „KI-05154-1“ again next January.
        assert_eq!(counter("{prefix}-{ags}-{number:05}"), ("KI", "05154", 0));
        assert_eq!(counter("{number}"), ("", "", 0));
    }
}
