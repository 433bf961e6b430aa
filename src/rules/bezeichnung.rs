//! Rule `bezeichnung`: the public presentation names the recognition by the Land.
//!
//! Ordnungsamt note: „Die Bezeichnung Kommunales Integrationszentrum ist nicht zwingend festgelegt.
//! Denkbar sind auch andere Bezeichnungen. Allerdings ist in der öffentlichen Darstellung darauf
//! hinzuweisen „anerkannt durch das Land NRW als Kommunales Integrationszentrum nach § 7 Teilhabe-
//! und Integrationsgesetz“.“ Since 01.01.2022 the KIs are regulated in § 8 of the Teilhabe- und
//! Integrationsgesetz of 25.11.2021 (domain README), so either paragraph is accepted and § 7 is
//! flagged as outdated.
//!
//! Reads `oeffentliche_bezeichnung` (the text used in the public presentation).

use super::read::{self, FieldError};
use super::{RuleContext, RuleFinding};

/// The rule's name as workflows write it.
pub(super) const NAME: &str = "bezeichnung";

/// The words the public presentation must contain, compared without regard to case, spacing and
/// hyphenation. „Land NRW“ may also be written out. Kept here so a new wording is one edit.
const REQUIRED_PHRASES: [&str; 2] = [
    "anerkannt durch das Land NRW als Kommunales Integrationszentrum",
    "anerkannt durch das Land Nordrhein-Westfalen als Kommunales Integrationszentrum",
];
/// The wording as shown to people.
const SUGGESTED: &str = "anerkannt durch das Land NRW als Kommunales Integrationszentrum nach § 8 \
                         Teilhabe- und Integrationsgesetz";
/// The paragraph of the TIntG of 25.11.2021 on the KIs.
const CURRENT_PARAGRAPH: u32 = 8;
/// The paragraph of the TIntG of 14.02.2012 on the KIs (replaced 01.01.2022).
const OUTDATED_PARAGRAPH: u32 = 7;

const PATH: &str = "oeffentliche_bezeichnung";

/// Checks the presence of the phrase and the paragraph it cites.
pub(super) fn check(ctx: &RuleContext<'_>) -> Vec<RuleFinding> {
    let text = match read::text(ctx.data, PATH) {
        Ok(text) => text,
        Err(FieldError::Missing) => {
            return vec![RuleFinding::error(
                NAME,
                Some(PATH),
                format!(
                    "Bitte geben Sie an, wie das Zentrum öffentlich bezeichnet wird. Die \
                     Bezeichnung ist frei wählbar, in der öffentlichen Darstellung ist aber darauf \
                     hinzuweisen: „{SUGGESTED}“ (Hinweis des Ordnungsamts; § 8 TIntG)."
                ),
            )];
        }
        Err(FieldError::Invalid) => {
            return vec![RuleFinding::error(
                NAME,
                Some(PATH),
                "Die öffentliche Bezeichnung ist kein Text. Bitte geben Sie sie als Text an.",
            )];
        }
    };

    let normalised = normalise(text);
    if !REQUIRED_PHRASES
        .iter()
        .any(|phrase| normalised.contains(&normalise(phrase)))
    {
        return vec![RuleFinding::error(
            NAME,
            Some(PATH),
            format!(
                "In der öffentlichen Darstellung ist darauf hinzuweisen: „{SUGGESTED}“ (Hinweis \
                 des Ordnungsamts; § 8 TIntG). Dieser Hinweis fehlt in der angegebenen Bezeichnung."
            ),
        )];
    }

    let paragraphs = cited_paragraphs(text);
    if paragraphs.contains(&CURRENT_PARAGRAPH) {
        Vec::new()
    } else if paragraphs.contains(&OUTDATED_PARAGRAPH) {
        vec![RuleFinding::warning(
            NAME,
            Some(PATH),
            format!(
                "Die Bezeichnung nennt § 7 des Teilhabe- und Integrationsgesetzes vom 14.02.2012. \
                 Dieses Gesetz wurde zum 01.01.2022 durch das Teilhabe- und Integrationsgesetz vom \
                 25.11.2021 abgelöst; die Kommunalen Integrationszentren sind jetzt in § 8 \
                 geregelt. Bitte verwenden Sie: „{SUGGESTED}“."
            ),
        )]
    } else {
        vec![RuleFinding::warning(
            NAME,
            Some(PATH),
            format!(
                "Die Bezeichnung nennt nicht § 8 des Teilhabe- und Integrationsgesetzes als \
                 Rechtsgrundlage. Empfohlen ist der vollständige Hinweis: „{SUGGESTED}“ (Hinweis des Ordnungsamts; § 8 TIntG)."
            ),
        )]
    }
}

/// Lower case, every run of whitespace, dashes or quotes as one space: so line breaks, „NRW“ in
/// quotes and a hyphen typed as an en dash do not defeat the comparison.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        let separator = c.is_whitespace()
            || matches!(
                c,
                '-' | '‐'
                    | '‑'
                    | '–'
                    | '—'
                    | '"'
                    | '\''
                    | '„'
                    | '“'
                    | '”'
                    | '‚'
                    | '‘'
                    | '’'
                    | '»'
                    | '«'
            );
        if separator {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The numbers directly after each `§` (`§ 8`, `§8`, `§§ 7`), ignoring `Abs.` and the like.
fn cited_paragraphs(text: &str) -> Vec<u32> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(position) = rest.find('§') {
        rest = &rest[position + '§'.len_utf8()..];
        rest = rest.trim_start_matches(|c: char| c == '§' || c.is_whitespace());
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(number) = digits.parse() {
            found.push(number);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Severity;
    use serde_json::{Value, json};

    fn run(value: Value) -> Vec<RuleFinding> {
        let data = json!({ "oeffentliche_bezeichnung": value });
        check(&RuleContext {
            data: &data,
            applicant_kind: "kreis",
            applicant_name: "X",
        })
    }

    fn severities(findings: &[RuleFinding]) -> Vec<Severity> {
        findings.iter().map(|f| f.severity).collect()
    }

    /// „Die Bezeichnung Kommunales Integrationszentrum ist nicht zwingend festgelegt. Denkbar sind
    /// auch andere Bezeichnungen.“ — any name, as long as the recognition is stated (§ 8 TIntG 2021).
    #[test]
    fn any_name_with_the_current_recognition_passes() {
        for text in [
            "Integrationsbüro Kreis Soest – anerkannt durch das Land NRW als Kommunales \
             Integrationszentrum nach § 8 Teilhabe- und Integrationsgesetz",
            "KI Bielefeld, anerkannt durch das Land „NRW“ als\nKommunales Integrationszentrum \
             nach §8 TIntG",
            "Anerkannt durch das Land Nordrhein–Westfalen als Kommunales Integrationszentrum \
             nach § 8 Abs. 1 TIntG",
        ] {
            assert_eq!(run(json!(text)), [], "{text}");
        }
    }

    /// „Allerdings ist in der öffentlichen Darstellung darauf hinzuweisen „anerkannt durch das Land
    /// NRW als Kommunales Integrationszentrum nach § 7 Teilhabe- und Integrationsgesetz“.“ — the
    /// wording of 2012 is still accepted, but flagged: the KIs are now § 8 of the TIntG 2021.
    #[test]
    fn the_2012_paragraph_is_accepted_with_a_warning() {
        let findings = run(json!(
            "Kommunales Integrationszentrum Hamm – anerkannt durch das Land NRW als Kommunales \
             Integrationszentrum nach § 7 Teilhabe- und Integrationsgesetz"
        ));
        assert_eq!(severities(&findings), [Severity::Warning]);
        assert!(findings[0].message.contains("§ 8"));
        assert!(findings[0].message.contains("01.01.2022"));
    }

    #[test]
    fn without_the_recognition_it_is_an_error() {
        for value in [
            json!("Kommunales Integrationszentrum Kreis Soest"),
            json!("anerkannt durch das Land NRW nach § 8 TIntG"),
        ] {
            let findings = run(value);
            assert_eq!(severities(&findings), [Severity::Error]);
            assert_eq!(findings[0].path.as_deref(), Some(PATH));
            assert!(findings[0].message.contains(SUGGESTED));
        }
        assert_eq!(severities(&run(json!(""))), [Severity::Error]);
        assert_eq!(severities(&run(Value::Null)), [Severity::Error]);
        assert_eq!(severities(&run(json!(["anerkannt"]))), [Severity::Error]);
    }

    #[test]
    fn without_a_paragraph_or_with_another_one_it_is_a_warning() {
        for text in [
            "anerkannt durch das Land NRW als Kommunales Integrationszentrum",
            "anerkannt durch das Land NRW als Kommunales Integrationszentrum nach § 70 TIntG",
            "anerkannt durch das Land NRW als Kommunales Integrationszentrum § ",
        ] {
            let findings = run(json!(text));
            assert_eq!(severities(&findings), [Severity::Warning], "{text}");
            assert!(findings[0].message.contains("nennt nicht § 8"));
        }
    }

    #[test]
    fn paragraphs_are_read_after_each_section_sign() {
        assert_eq!(
            cited_paragraphs("§ 8 Abs. 2, §§ 7 und §9, §x, §"),
            [8, 7, 9]
        );
        assert_eq!(normalise("  „NRW“\n–  Land "), "nrw land");
    }
}
