//! The length of a legal period, parsed from a restricted ISO 8601 duration.
//!
//! Only the shapes that §§ 187–191 BGB know are accepted: days, weeks, months, years, years with
//! months, and whole months/years plus half a month (§ 189 (2) BGB). Everything else — time parts,
//! fractions, weeks mixed with other units, zero, negative or absurdly large values — is rejected
//! with a German message, because a silently "repaired" period is a wrong deadline.

use std::fmt;
use std::str::FromStr;

/// Largest number of days accepted; any larger period leaves the supported calendar range anyway.
const MAX_DAYS: u64 = 110_000;
/// Largest number of weeks accepted (about 300 years).
const MAX_WEEKS: u64 = 16_000;
/// Largest number of months (years × 12 + months) accepted (300 years).
const MAX_MONTHS: u64 = 3_600;
/// Half a month in days (§ 189 (1) BGB).
pub(crate) const HALF_MONTH_DAYS: u32 = 15;

/// Hint appended to every parse error so the user sees what would have been accepted.
const ALLOWED_FORMS: &str = "Erlaubt sind ISO-8601-Dauern wie P10D, P4W, P6M, P1Y, P1Y6M und \
P1M15D (ein Monat und ein halber Monat) sowie halbes-jahr, vierteljahr und halber-monat.";

/// A period length as §§ 187–191 BGB understand it; its fields are private so every value has
/// passed the same validation as a parsed one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Period {
    years: u32,
    months: u32,
    weeks: u32,
    days: u32,
}

/// Why a period was rejected; kept apart from the input so messages stay precise and testable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeriodErrorKind {
    /// Nothing was given.
    Empty,
    /// The text does not start with the ISO designator `P`.
    MissingDesignator,
    /// Lower-case designators such as `p10d`.
    LowerCase,
    /// A minus sign anywhere.
    Negative,
    /// Hours, minutes or seconds (`PT5H`).
    TimePart,
    /// Decimal fractions (`P0.5M`).
    Fraction,
    /// `P` with nothing after it.
    NoComponents,
    /// A unit letter without a number before it (`PD`).
    MissingNumber(char),
    /// A number without a unit letter after it (`P10`).
    MissingUnit,
    /// A character that is no unit of a period.
    UnknownUnit(char),
    /// Units repeated or not in the order Y, M, W, D.
    WrongOrder,
    /// All components are zero.
    Zero,
    /// Weeks combined with any other unit.
    WeeksCombined,
    /// Days next to months/years other than exactly one half month.
    DaysWithMonths(u32),
    /// A value beyond the supported calendar range.
    TooLarge,
}

impl fmt::Display for PeriodErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("die Angabe ist leer"),
            Self::MissingDesignator => f.write_str("eine ISO-8601-Dauer beginnt mit „P“"),
            Self::LowerCase => {
                f.write_str("die Einheiten werden großgeschrieben (z. B. P10D statt p10d)")
            }
            Self::Negative => f.write_str("negative Dauern sind nicht zulässig"),
            Self::TimePart => f.write_str(
                "Stunden, Minuten und Sekunden (Angaben nach „T“) sind für Fristen nach \
                 §§ 187 ff. BGB nicht vorgesehen",
            ),
            Self::Fraction => f.write_str(
                "Bruchteile sind nicht zulässig; ein halber Monat ist P15D, ein halbes Jahr P6M",
            ),
            Self::NoComponents => f.write_str("nach „P“ fehlt eine Angabe wie 10D oder 6M"),
            Self::MissingNumber(unit) => write!(f, "vor „{unit}“ fehlt eine Zahl"),
            Self::MissingUnit => f.write_str("nach der Zahl fehlt die Einheit (Y, M, W oder D)"),
            Self::UnknownUnit(c) => {
                write!(f, "„{c}“ ist keine zulässige Einheit (erlaubt: Y, M, W, D)")
            }
            Self::WrongOrder => f.write_str(
                "die Einheiten müssen in der Reihenfolge Y, M, W, D stehen und dürfen nur \
                 einmal vorkommen",
            ),
            Self::Zero => f.write_str("die Dauer muss mindestens einen Tag betragen"),
            Self::WeeksCombined => {
                f.write_str("Wochen lassen sich nicht mit Jahren, Monaten oder Tagen kombinieren")
            }
            Self::DaysWithMonths(days) => write!(
                f,
                "neben Jahren oder Monaten sind nur 15 Tage (ein halber Monat, § 189 Abs. 2 BGB) \
                 zulässig, nicht {days}"
            ),
            Self::TooLarge => write!(
                f,
                "der Wert ist zu groß (höchstens {MAX_DAYS} Tage, {MAX_WEEKS} Wochen oder \
                 {MAX_MONTHS} Monate)"
            ),
        }
    }
}

/// A rejected period text together with the reason, shown to users in German.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("„{input}“ ist keine gültige Dauer: {kind}. {ALLOWED_FORMS}")]
pub struct PeriodError {
    /// The text as the user gave it.
    pub input: String,
    /// What is wrong with it.
    pub kind: PeriodErrorKind,
}

impl Period {
    /// Builds a period from its components, applying exactly the rules the parser applies.
    pub fn new(years: u32, months: u32, weeks: u32, days: u32) -> Result<Self, PeriodError> {
        let candidate = Self {
            years,
            months,
            weeks,
            days,
        };
        let reject = |kind| PeriodError {
            input: candidate.to_string(),
            kind,
        };
        let total_months = u64::from(years) * 12 + u64::from(months);
        if total_months == 0 && weeks == 0 && days == 0 {
            return Err(reject(PeriodErrorKind::Zero));
        }
        if weeks > 0 && (total_months > 0 || days > 0) {
            return Err(reject(PeriodErrorKind::WeeksCombined));
        }
        if total_months > 0 && days > 0 && days != HALF_MONTH_DAYS {
            return Err(reject(PeriodErrorKind::DaysWithMonths(days)));
        }
        if total_months > MAX_MONTHS || u64::from(weeks) > MAX_WEEKS || u64::from(days) > MAX_DAYS {
            return Err(reject(PeriodErrorKind::TooLarge));
        }
        Ok(candidate)
    }

    /// Whole years of the period (the `Y` part).
    pub fn years(&self) -> u32 {
        self.years
    }

    /// Months beyond the whole years (the `M` part).
    pub fn months(&self) -> u32 {
        self.months
    }

    /// Weeks; never combined with another unit.
    pub fn weeks(&self) -> u32 {
        self.weeks
    }

    /// Days; next to months or years this is always the half month of § 189 (2) BGB.
    pub fn days(&self) -> u32 {
        self.days
    }

    /// Years and months together, because § 188 (2) BGB counts a year as twelve months.
    pub(crate) fn total_months(&self) -> u32 {
        // Bounded by MAX_MONTHS in `new`, so this cannot overflow.
        self.years * 12 + self.months
    }

    /// German dative phrase for sentences like „eine Frist von 1 Monat“.
    pub fn describe_de(&self) -> String {
        fn unit(n: u32, singular: &str, plural: &str) -> String {
            if n == 1 {
                format!("1 {singular}")
            } else {
                format!("{n} {plural}")
            }
        }
        let mut parts = Vec::new();
        if self.years > 0 {
            parts.push(unit(self.years, "Jahr", "Jahren"));
        }
        if self.months > 0 {
            parts.push(unit(self.months, "Monat", "Monaten"));
        }
        if self.weeks > 0 {
            parts.push(unit(self.weeks, "Woche", "Wochen"));
        }
        if self.days > 0 {
            if self.total_months() > 0 {
                parts.push(
                    "einem halben Monat (15 Tage, zuletzt gezählt nach § 189 Abs. 2 BGB)".into(),
                );
            } else {
                parts.push(unit(self.days, "Tag", "Tagen"));
            }
        }
        parts.join(" und ")
    }
}

impl fmt::Display for Period {
    /// Canonical ISO 8601 form: upper case, units in the order Y, M, W, D, zero parts left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("P")?;
        let parts = [
            (self.years, 'Y'),
            (self.months, 'M'),
            (self.weeks, 'W'),
            (self.days, 'D'),
        ];
        let mut wrote_any = false;
        for (value, unit) in parts {
            if value > 0 {
                write!(f, "{value}{unit}")?;
                wrote_any = true;
            }
        }
        if !wrote_any {
            // Only reachable while `new` builds an error message for an all-zero candidate.
            f.write_str("0D")?;
        }
        Ok(())
    }
}

impl FromStr for Period {
    type Err = PeriodError;

    /// Parses `P10D`, `P4W`, `P6M`, `P1Y`, `P1Y6M`, `P1M15D` and the § 189 BGB keywords.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let reject = |kind| PeriodError {
            input: input.to_string(),
            kind,
        };
        match input.to_lowercase().as_str() {
            "halbes-jahr" => return Self::new(0, 6, 0, 0),
            "vierteljahr" => return Self::new(0, 3, 0, 0),
            "halber-monat" => return Self::new(0, 0, 0, HALF_MONTH_DAYS),
            _ => {}
        }
        if input.is_empty() {
            return Err(reject(PeriodErrorKind::Empty));
        }
        if input.contains('-') {
            return Err(reject(PeriodErrorKind::Negative));
        }
        let Some(body) = input.strip_prefix('P') else {
            return Err(reject(if input.starts_with('p') {
                PeriodErrorKind::LowerCase
            } else {
                PeriodErrorKind::MissingDesignator
            }));
        };
        if body.contains(['T', 't']) {
            return Err(reject(PeriodErrorKind::TimePart));
        }
        if body.contains(['.', ',']) {
            return Err(reject(PeriodErrorKind::Fraction));
        }
        if body.is_empty() {
            return Err(reject(PeriodErrorKind::NoComponents));
        }

        // Values per unit in canonical order Y, M, W, D; `None` = not given.
        let units = ['Y', 'M', 'W', 'D'];
        let mut values: [Option<u64>; 4] = [None; 4];
        let mut next_allowed = 0usize;
        let mut number: Option<u64> = None;
        for c in body.chars() {
            if let Some(digit) = c.to_digit(10) {
                let so_far = number.unwrap_or(0);
                number = Some(
                    so_far
                        .checked_mul(10)
                        .and_then(|n| n.checked_add(u64::from(digit)))
                        .ok_or_else(|| reject(PeriodErrorKind::TooLarge))?,
                );
                continue;
            }
            let Some(index) = units.iter().position(|u| *u == c) else {
                return Err(reject(if units.contains(&c.to_ascii_uppercase()) {
                    PeriodErrorKind::LowerCase
                } else {
                    PeriodErrorKind::UnknownUnit(c)
                }));
            };
            let Some(value) = number.take() else {
                return Err(reject(PeriodErrorKind::MissingNumber(c)));
            };
            if index < next_allowed {
                return Err(reject(PeriodErrorKind::WrongOrder));
            }
            values[index] = Some(value);
            next_allowed = index + 1;
        }
        if number.is_some() {
            return Err(reject(PeriodErrorKind::MissingUnit));
        }

        let narrow = |value: Option<u64>| {
            u32::try_from(value.unwrap_or(0)).map_err(|_| reject(PeriodErrorKind::TooLarge))
        };
        let [years, months, weeks, days] = values;
        Self::new(
            narrow(years)?,
            narrow(months)?,
            narrow(weeks)?,
            narrow(days)?,
        )
        .map_err(|e| PeriodError {
            input: input.to_string(),
            kind: e.kind,
        })
    }
}

impl serde::Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Period, PeriodErrorKind> {
        s.parse::<Period>().map_err(|e| e.kind)
    }

    #[test]
    fn accepts_the_shapes_the_bgb_knows() {
        assert_eq!(parse("P10D"), Ok(Period::new(0, 0, 0, 10).unwrap()));
        assert_eq!(parse("P4W"), Ok(Period::new(0, 0, 4, 0).unwrap()));
        assert_eq!(parse("P6M"), Ok(Period::new(0, 6, 0, 0).unwrap()));
        assert_eq!(parse("P1Y"), Ok(Period::new(1, 0, 0, 0).unwrap()));
        assert_eq!(parse("P2Y"), Ok(Period::new(2, 0, 0, 0).unwrap()));
        assert_eq!(parse("P1Y6M"), Ok(Period::new(1, 6, 0, 0).unwrap()));
        assert_eq!(parse("P1M15D"), Ok(Period::new(0, 1, 0, 15).unwrap()));
        assert_eq!(parse("P1Y15D"), Ok(Period::new(1, 0, 0, 15).unwrap()));
    }

    #[test]
    fn section_189_keywords_map_to_months_and_days() {
        assert_eq!(
            parse("halbes-jahr").map(|p| p.to_string()),
            Ok("P6M".into())
        );
        assert_eq!(
            parse("vierteljahr").map(|p| p.to_string()),
            Ok("P3M".into())
        );
        assert_eq!(
            parse("halber-monat").map(|p| p.to_string()),
            Ok("P15D".into())
        );
        assert_eq!(
            parse("Halbes-Jahr").map(|p| p.to_string()),
            Ok("P6M".into())
        );
    }

    #[test]
    fn display_is_canonical_and_round_trips() {
        for (input, canonical) in [
            ("P10D", "P10D"),
            ("P04W", "P4W"),
            ("P0Y6M", "P6M"),
            ("P1Y6M", "P1Y6M"),
            ("P1M15D", "P1M15D"),
            ("P18M", "P18M"),
        ] {
            let period: Period = input.parse().unwrap();
            assert_eq!(period.to_string(), canonical);
            assert_eq!(canonical.parse::<Period>().unwrap(), period);
        }
    }

    #[test]
    fn rejects_everything_else_with_a_specific_reason() {
        use PeriodErrorKind::*;
        let cases = [
            ("", Empty),
            ("4W", MissingDesignator),
            ("10 Tage", MissingDesignator),
            ("p10d", LowerCase),
            ("P10d", LowerCase),
            ("P", NoComponents),
            ("P0D", Zero),
            ("P0Y0M", Zero),
            ("PT5H", TimePart),
            ("P1DT5H", TimePart),
            ("P1W2D", WeeksCombined),
            ("P1M2W", WeeksCombined),
            ("P1M10D", DaysWithMonths(10)),
            ("-P1D", Negative),
            ("P-1D", Negative),
            ("P0.5M", Fraction),
            ("P1,5Y", Fraction),
            ("PD", MissingNumber('D')),
            ("P10", MissingUnit),
            ("P1X", UnknownUnit('X')),
            ("P1M1Y", WrongOrder),
            ("P1D1D", WrongOrder),
            ("P99999999999999999999999D", TooLarge),
            ("P4294967296D", TooLarge),
            ("P110001D", TooLarge),
            ("P301Y", TooLarge),
            ("P16001W", TooLarge),
        ];
        for (input, expected) in cases {
            assert_eq!(parse(input), Err(expected), "input {input:?}");
        }
    }

    #[test]
    fn error_message_is_german_and_names_the_input() {
        let message = "4W".parse::<Period>().unwrap_err().to_string();
        assert!(
            message.starts_with("„4W“ ist keine gültige Dauer"),
            "{message}"
        );
        assert!(message.contains("P10D, P4W, P6M, P1Y"), "{message}");
    }

    #[test]
    fn constructor_applies_the_parser_rules() {
        assert_eq!(
            Period::new(0, 0, 0, 0).unwrap_err().kind,
            PeriodErrorKind::Zero
        );
        assert_eq!(
            Period::new(0, 1, 1, 0).unwrap_err().kind,
            PeriodErrorKind::WeeksCombined
        );
        assert_eq!(
            Period::new(u32::MAX, 0, 0, 0).unwrap_err().kind,
            PeriodErrorKind::TooLarge
        );
    }

    #[test]
    fn serde_uses_the_canonical_string() {
        let period: Period = serde_json::from_str("\"P1Y6M\"").unwrap();
        assert_eq!(serde_json::to_string(&period).unwrap(), "\"P1Y6M\"");
        assert!(serde_json::from_str::<Period>("\"4W\"").is_err());
    }

    #[test]
    fn german_description_uses_the_dative() {
        assert_eq!(parse("P1M").unwrap().describe_de(), "1 Monat");
        assert_eq!(parse("P4W").unwrap().describe_de(), "4 Wochen");
        assert_eq!(parse("P1D").unwrap().describe_de(), "1 Tag");
        assert_eq!(
            parse("P1Y6M").unwrap().describe_de(),
            "1 Jahr und 6 Monaten"
        );
        assert!(
            parse("P1M15D")
                .unwrap()
                .describe_de()
                .starts_with("1 Monat und einem halben Monat")
        );
    }
}
