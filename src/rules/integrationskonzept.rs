//! Rule `integrationskonzept`: an adopted Integrationskonzept exists, or the application says by
//! when one will be presented.
//!
//! Erlass Nr. 2: „Voraussetzung für die Einrichtung und den Betrieb eines Kommunalen
//! Integrationszentrums sind ein durch den Rat der Stadt oder durch den Kreistag in Abstimmung mit
//! den betroffenen kreisangehörigen Gemeinden verabschiedetes Integrationskonzept und die
//! Landesförderung […]“. Ordnungsamt note: „Wenn es noch kein oder kein aktuelles Konzept gibt, soll
//! im Antrag dargestellt werden, in welchem zeitlichen Rahmen ein neues bzw. überarbeitetes Konzept
//! vorgelegt wird. Es wird erwartet, dass ab Arbeitsaufnahme des Kommunalen Integrationszentrums
//! nach sechs Monaten ein aktualisiertes bzw. nach einem Jahr ein grundsätzlich neues Konzept
//! vorgelegt wird.“
//!
//! Reads `integrationskonzept.status` (`beschlossen` | `in_arbeit` | `fehlt`),
//! `integrationskonzept.beschluss_datum`, `integrationskonzept.vorlage_bis`,
//! `integrationskonzept.fortschreibung` (`aktualisiert` | `neu`) and `arbeitsaufnahme`.

use chrono::{Months, NaiveDate};

use super::read::{self, FieldError, german_date, shown};
use super::{RuleContext, RuleFinding};

/// The rule's name as workflows write it.
pub(super) const NAME: &str = "integrationskonzept";

/// Months after the start of work by which an updated concept is expected (Ordnungsamt note).
/// *(unsure: in no current text)* — `workflows/ki-betrieb.yaml` holds the deadline the engine
/// enforces; keep the two in step when changing it.
const AKTUALISIERT_MONATE: u32 = 6;
/// Months after the start of work by which a fundamentally new concept is expected (note).
const NEU_MONATE: u32 = 12;
/// An adopted concept older than this (before the start of work) is not „aktuell“ (practice of
/// the Bewilligungsbehörde, domain README: „at most about three years old“).
const AKTUELL_HOECHSTENS_MONATE: u32 = 36;

const STATUS: &str = "integrationskonzept.status";
const BESCHLUSS_DATUM: &str = "integrationskonzept.beschluss_datum";
const VORLAGE_BIS: &str = "integrationskonzept.vorlage_bis";
const FORTSCHREIBUNG: &str = "integrationskonzept.fortschreibung";
const ARBEITSAUFNAHME: &str = "arbeitsaufnahme";

/// What the application says about the concept that follows the start of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fortschreibung {
    /// An updated concept, six months after the start of work.
    Aktualisiert,
    /// A fundamentally new concept, one year after the start of work.
    Neu,
}

impl Fortschreibung {
    fn months(self) -> u32 {
        match self {
            Self::Aktualisiert => AKTUALISIERT_MONATE,
            Self::Neu => NEU_MONATE,
        }
    }

    fn phrase(self) -> &'static str {
        match self {
            Self::Aktualisiert => "ein aktualisiertes Konzept nach sechs Monaten",
            Self::Neu => "ein grundsätzlich neues Konzept nach einem Jahr",
        }
    }
}

/// Checks the concept's status and the dates that go with it.
pub(super) fn check(ctx: &RuleContext<'_>) -> Vec<RuleFinding> {
    let mut findings = Vec::new();
    let fortschreibung = read_fortschreibung(ctx, &mut findings);
    let arbeitsaufnahme =
        read_date_or_report(ctx, ARBEITSAUFNAHME, "Arbeitsaufnahme", &mut findings);

    match read::text(ctx.data, STATUS) {
        Ok("beschlossen") => {
            let beschluss = required_date(
                ctx,
                BESCHLUSS_DATUM,
                "Bitte geben Sie das Datum an, an dem der Kreistag bzw. der Rat das \
                 Integrationskonzept beschlossen hat (Nr. 2 des Erlasses „Kommunale \
                 Integrationszentren“).",
                &mut findings,
            );
            if let (Some(beschluss), Some(start)) = (beschluss, arbeitsaufnahme) {
                check_still_current(beschluss, start, &mut findings);
            }
        }
        Ok("in_arbeit" | "fehlt") => {
            let vorlage = required_date(
                ctx,
                VORLAGE_BIS,
                "Liegt noch kein oder kein aktuelles Integrationskonzept vor, stellen Sie bitte im \
                 Antrag dar, in welchem zeitlichen Rahmen ein neues bzw. überarbeitetes Konzept \
                 vorgelegt wird: Bitte geben Sie das Datum an, bis zu dem es vorgelegt wird \
                 (Nr. 2 des Erlasses „Kommunale Integrationszentren“; Hinweis des Ordnungsamts).",
                &mut findings,
            );
            if let (Some(vorlage), Some(start)) = (vorlage, arbeitsaufnahme) {
                let expected = fortschreibung.unwrap_or(Fortschreibung::Neu);
                check_presented_in_time(vorlage, start, expected, &mut findings);
            }
        }
        Ok(other) => findings.push(RuleFinding::error(
            NAME,
            Some(STATUS),
            format!(
                "Der Stand des Integrationskonzepts „{}“ ist nicht vorgesehen. Bitte wählen Sie \
                 „beschlossen“, „in Arbeit“ oder „fehlt“ (Nr. 2 des Erlasses).",
                shown(other)
            ),
        )),
        Err(FieldError::Missing) => findings.push(RuleFinding::error(
            NAME,
            Some(STATUS),
            "Bitte geben Sie an, ob ein vom Kreistag bzw. Rat beschlossenes Integrationskonzept \
             vorliegt. Es ist Voraussetzung für die Einrichtung und den Betrieb eines Kommunalen \
             Integrationszentrums (Nr. 2 des Erlasses „Kommunale Integrationszentren“).",
        )),
        Err(FieldError::Invalid) => findings.push(RuleFinding::error(
            NAME,
            Some(STATUS),
            "Der Stand des Integrationskonzepts ist kein Text. Bitte wählen Sie „beschlossen“, \
             „in Arbeit“ oder „fehlt“ (Nr. 2 des Erlasses).",
        )),
    }
    findings
}

/// `integrationskonzept.fortschreibung`: absent is a warning (the operation case asks again),
/// anything but the two values an error.
fn read_fortschreibung(
    ctx: &RuleContext<'_>,
    findings: &mut Vec<RuleFinding>,
) -> Option<Fortschreibung> {
    match read::text(ctx.data, FORTSCHREIBUNG) {
        Ok("aktualisiert") => Some(Fortschreibung::Aktualisiert),
        Ok("neu") => Some(Fortschreibung::Neu),
        Ok(_) | Err(FieldError::Invalid) => {
            findings.push(RuleFinding::error(
                NAME,
                Some(FORTSCHREIBUNG),
                "Bitte wählen Sie, ob nach Arbeitsaufnahme ein aktualisiertes oder ein \
                 grundsätzlich neues Integrationskonzept vorgelegt wird (Hinweis des \
                 Ordnungsamts zu Nr. 2 des Erlasses).",
            ));
            None
        }
        Err(FieldError::Missing) => {
            findings.push(RuleFinding::warning(
                NAME,
                Some(FORTSCHREIBUNG),
                "Es wird erwartet, dass ab Arbeitsaufnahme des Kommunalen Integrationszentrums \
                 nach sechs Monaten ein aktualisiertes bzw. nach einem Jahr ein grundsätzlich neues \
                 Konzept vorgelegt wird (Hinweis des Ordnungsamts zu Nr. 2 des Erlasses). Bitte \
                 geben Sie an, welches von beiden Sie vorlegen werden; danach richtet sich die \
                 Frist im Betrieb.",
            ));
            None
        }
    }
}

/// A date the rule needs; missing or invalid is an error with `missing_message`.
fn required_date(
    ctx: &RuleContext<'_>,
    path: &str,
    missing_message: &str,
    findings: &mut Vec<RuleFinding>,
) -> Option<NaiveDate> {
    match read::date(ctx.data, path) {
        Ok(date) => Some(date),
        Err(FieldError::Missing) => {
            findings.push(RuleFinding::error(NAME, Some(path), missing_message));
            None
        }
        Err(FieldError::Invalid) => {
            findings.push(invalid_date(path, "Das Datum"));
            None
        }
    }
}

/// An optional date: absent is fine, an invalid one is an error.
fn read_date_or_report(
    ctx: &RuleContext<'_>,
    path: &str,
    label: &str,
    findings: &mut Vec<RuleFinding>,
) -> Option<NaiveDate> {
    match read::date(ctx.data, path) {
        Ok(date) => Some(date),
        Err(FieldError::Missing) => None,
        Err(FieldError::Invalid) => {
            findings.push(invalid_date(path, &format!("Das Datum der {label}")));
            None
        }
    }
}

fn invalid_date(path: &str, what: &str) -> RuleFinding {
    RuleFinding::error(
        NAME,
        Some(path),
        format!(
            "{what} ist kein gültiges Kalenderdatum. Bitte geben Sie es im Format JJJJ-MM-TT an \
             (z. B. 2026-01-01)."
        ),
    )
}

/// A concept adopted long before the start of work is not „aktuell“: warn, do not block.
fn check_still_current(beschluss: NaiveDate, start: NaiveDate, findings: &mut Vec<RuleFinding>) {
    let Some(limit) = start.checked_sub_months(Months::new(AKTUELL_HOECHSTENS_MONATE)) else {
        return;
    };
    if beschluss < limit {
        findings.push(RuleFinding::warning(
            NAME,
            Some(BESCHLUSS_DATUM),
            format!(
                "Das Integrationskonzept wurde am {} beschlossen, mehr als drei Jahre vor der \
                 geplanten Arbeitsaufnahme am {}. Gilt es nicht mehr als aktuell, stellen Sie bitte \
                 im Antrag dar, in welchem zeitlichen Rahmen ein überarbeitetes Konzept vorgelegt \
                 wird (Hinweis des Ordnungsamts zu Nr. 2 des Erlasses).",
                german_date(beschluss),
                german_date(start)
            ),
        ));
    }
}

/// The announced date should not lie after the period the note expects from the start of work.
fn check_presented_in_time(
    vorlage: NaiveDate,
    start: NaiveDate,
    expected: Fortschreibung,
    findings: &mut Vec<RuleFinding>,
) {
    let Some(due) = read::beginnfrist_end(start, expected.months()) else {
        return;
    };
    if vorlage > due {
        findings.push(RuleFinding::warning(
            NAME,
            Some(VORLAGE_BIS),
            format!(
                "Es wird erwartet, dass ab Arbeitsaufnahme {} vorgelegt wird (Hinweis des \
                 Ordnungsamts zu Nr. 2 des Erlasses). Bei Arbeitsaufnahme am {} ist das \
                 rechnerisch der {}; Sie nennen den {}.",
                expected.phrase(),
                german_date(start),
                german_date(due),
                german_date(vorlage)
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Severity;
    use serde_json::{Value, json};

    fn run(data: Value) -> Vec<RuleFinding> {
        check(&RuleContext {
            data: &data,
            applicant_kind: "kreis",
            applicant_name: "Kreis Soest",
        })
    }

    fn summary(findings: &[RuleFinding]) -> Vec<(Severity, &str)> {
        findings
            .iter()
            .map(|f| (f.severity, f.path.as_deref().unwrap_or("")))
            .collect()
    }

    /// Nr. 2: „ein durch den Rat der Stadt oder durch den Kreistag […] verabschiedetes
    /// Integrationskonzept“.
    #[test]
    fn an_adopted_concept_with_its_date_passes() {
        let data = json!({"integrationskonzept": {"status": "beschlossen",
            "beschluss_datum": "2025-06-26", "fortschreibung": "aktualisiert"}});
        assert_eq!(run(data), []);
    }

    #[test]
    fn an_adopted_concept_needs_a_valid_date() {
        let missing =
            json!({"integrationskonzept": {"status": "beschlossen", "fortschreibung": "neu"}});
        assert_eq!(summary(&run(missing)), [(Severity::Error, BESCHLUSS_DATUM)]);
        let invalid = json!({"integrationskonzept": {"status": "beschlossen",
            "beschluss_datum": "26.06.2025", "fortschreibung": "neu"}});
        let findings = run(invalid);
        assert_eq!(summary(&findings), [(Severity::Error, BESCHLUSS_DATUM)]);
        assert!(findings[0].message.contains("JJJJ-MM-TT"));
    }

    /// Note: „Wenn es noch kein oder kein aktuelles Konzept gibt, soll im Antrag dargestellt
    /// werden, in welchem zeitlichen Rahmen ein neues bzw. überarbeitetes Konzept vorgelegt wird.“
    #[test]
    fn without_a_concept_the_application_says_by_when() {
        for status in ["in_arbeit", "fehlt"] {
            let ok = json!({"integrationskonzept": {"status": status,
                "vorlage_bis": "2026-10-31", "fortschreibung": "neu"}});
            assert_eq!(run(ok), [], "{status}");
            let missing =
                json!({"integrationskonzept": {"status": status, "fortschreibung": "neu"}});
            let findings = run(missing);
            assert_eq!(summary(&findings), [(Severity::Error, VORLAGE_BIS)]);
            assert!(findings[0].message.contains("in welchem zeitlichen Rahmen"));
            let invalid = json!({"integrationskonzept": {"status": status,
                "vorlage_bis": "2026-02-30", "fortschreibung": "neu"}});
            assert_eq!(summary(&run(invalid)), [(Severity::Error, VORLAGE_BIS)]);
        }
    }

    /// Note: „Es wird erwartet, dass ab Arbeitsaufnahme […] nach sechs Monaten ein aktualisiertes
    /// bzw. nach einem Jahr ein grundsätzlich neues Konzept vorgelegt wird.“ FRISTEN.md example 4:
    /// work starts 01.12.2025 → six months end 31.05.2026, one year 30.11.2026.
    #[test]
    fn a_presentation_date_beyond_the_expected_period_is_a_warning() {
        let data = |fortschreibung: &str, vorlage: &str| {
            json!({"arbeitsaufnahme": "2025-12-01", "integrationskonzept": {"status": "in_arbeit",
                "vorlage_bis": vorlage, "fortschreibung": fortschreibung}})
        };
        assert_eq!(run(data("aktualisiert", "2026-05-31")), []);
        let late = run(data("aktualisiert", "2026-06-01"));
        assert_eq!(summary(&late), [(Severity::Warning, VORLAGE_BIS)]);
        assert!(late[0].message.contains("rechnerisch der 31.05.2026"));
        assert_eq!(run(data("neu", "2026-11-30")), []);
        assert_eq!(
            summary(&run(data("neu", "2026-12-01"))),
            [(Severity::Warning, VORLAGE_BIS)]
        );
    }

    #[test]
    fn an_old_concept_is_flagged_as_possibly_outdated() {
        let data = json!({"arbeitsaufnahme": "2026-01-01", "integrationskonzept": {
            "status": "beschlossen", "beschluss_datum": "2022-12-31", "fortschreibung": "neu"}});
        assert_eq!(summary(&run(data)), [(Severity::Warning, BESCHLUSS_DATUM)]);
        let recent = json!({"arbeitsaufnahme": "2026-01-01", "integrationskonzept": {
            "status": "beschlossen", "beschluss_datum": "2023-01-01", "fortschreibung": "neu"}});
        assert_eq!(run(recent), []);
    }

    #[test]
    fn missing_or_unknown_status_and_fortschreibung_are_reported() {
        assert_eq!(
            summary(&run(json!({}))),
            [
                (Severity::Warning, FORTSCHREIBUNG),
                (Severity::Error, STATUS)
            ]
        );
        assert_eq!(
            summary(&run(json!({"integrationskonzept": {"status": "geplant",
                "fortschreibung": "irgendwann"}}))),
            [(Severity::Error, FORTSCHREIBUNG), (Severity::Error, STATUS)]
        );
        assert_eq!(
            summary(&run(
                json!({"integrationskonzept": {"status": true, "fortschreibung": "neu"}})
            )),
            [(Severity::Error, STATUS)]
        );
        assert_eq!(
            summary(&run(
                json!({"arbeitsaufnahme": "bald", "integrationskonzept": {
                "status": "beschlossen", "beschluss_datum": "2025-06-26", "fortschreibung": "neu"}})
            )),
            [(Severity::Error, ARBEITSAUFNAHME)]
        );
    }
}
