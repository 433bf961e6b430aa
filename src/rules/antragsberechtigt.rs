//! Rule `antragsberechtigt`: only Kreise and kreisfreie Städte (and the Stadt Aachen) may apply.
//!
//! Ordnungsamt note: „Antragsberechtigt sind alle kreisfreien Städte und Kreise des Landes
//! Nordrhein-Westfalen. Eine kreisangehörige Stadt kann keinen Antrag stellen. […] Kreisangehörige
//! Kommunen können sich an den Kreis wenden und dort anregen, dass ein Antrag auf Einrichtung eines
//! Kommunalen Integrationszentrums gestellt wird.“ Erlass Nr. 1.2: the Land „fördert bei Kreisen
//! und kreisfreien Städten die Einrichtung von Kommunalen Integrationszentren“.

use super::{RuleContext, RuleFinding};

/// The rule's name as workflows write it.
pub(super) const NAME: &str = "antragsberechtigt";

/// Organisation kinds that may apply: Kreise (the StädteRegion Aachen counts as one), kreisfreie
/// Städte, and the Stadt Aachen, which keeps the rights of a kreisfreie Stadt.
const ELIGIBLE_KINDS: [&str; 3] = [
    "kreis",
    "kreisfreie_stadt",
    "kreisfreie_stadt_in_staedteregion",
];

/// Checks the applicant organisation's kind.
pub(super) fn check(ctx: &RuleContext<'_>) -> Vec<RuleFinding> {
    let kind = ctx.applicant_kind.trim();
    if ELIGIBLE_KINDS.contains(&kind) {
        return Vec::new();
    }
    let name = applicant_label(ctx.applicant_name);
    let message = if kind == "gemeinde" {
        format!(
            "{name} ist eine kreisangehörige Gemeinde und kann keinen Antrag auf Einrichtung eines \
             Kommunalen Integrationszentrums stellen: Antragsberechtigt sind nur Kreise und \
             kreisfreie Städte (Nr. 1.2 des Erlasses „Kommunale Integrationszentren“; Hinweis des \
             Ordnungsamts: „Eine kreisangehörige Stadt kann keinen Antrag stellen.“). Sie können \
             sich jedoch an Ihren Kreis wenden und dort anregen, dass er einen Antrag stellt; der \
             Kreis erfasst Ihre Anregung im Verfahren „Anregung eines Kommunalen \
             Integrationszentrums durch eine kreisangehörige Gemeinde“ (ki-anregung)."
        )
    } else {
        format!(
            "{name} ist nicht antragsberechtigt. Einen Antrag auf Einrichtung eines Kommunalen \
             Integrationszentrums können nur Kreise und kreisfreie Städte stellen (Nr. 1.2 des \
             Erlasses „Kommunale Integrationszentren“; Hinweis des Ordnungsamts)."
        )
    };
    vec![RuleFinding::error(NAME, None, message)]
}

/// The applicant's name for a message, or a neutral phrase when it is blank.
fn applicant_label(name: &str) -> String {
    let name = name.trim();
    if name.is_empty() {
        "Die antragstellende Organisation".to_string()
    } else {
        format!("„{}“", super::read::shown(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Severity;
    use serde_json::json;

    fn run(kind: &str, name: &str) -> Vec<RuleFinding> {
        let data = json!({});
        check(&RuleContext {
            data: &data,
            applicant_kind: kind,
            applicant_name: name,
        })
    }

    /// „Antragsberechtigt sind alle kreisfreien Städte und Kreise des Landes Nordrhein-Westfalen.“
    /// The Stadt Aachen keeps the rights of a kreisfreie Stadt inside the StädteRegion.
    #[test]
    fn kreise_and_kreisfreie_staedte_may_apply() {
        for kind in [
            "kreis",
            "kreisfreie_stadt",
            "kreisfreie_stadt_in_staedteregion",
        ] {
            assert_eq!(run(kind, "X"), [], "{kind}");
        }
    }

    /// „Eine kreisangehörige Stadt kann keinen Antrag stellen. […] Kreisangehörige Kommunen können
    /// sich an den Kreis wenden und dort anregen, dass ein Antrag […] gestellt wird.“
    #[test]
    fn a_gemeinde_is_refused_and_pointed_to_the_anregung() {
        let findings = run("gemeinde", "Stadt Lippstadt");
        assert_eq!(findings.len(), 1);
        let finding = &findings[0];
        assert_eq!(finding.severity, Severity::Error);
        assert_eq!(finding.path, None);
        assert!(
            finding
                .message
                .starts_with("„Stadt Lippstadt“ ist eine kreisangehörige Gemeinde")
        );
        assert!(finding.message.contains("ki-anregung"));
        assert!(finding.message.contains("Nr. 1.2"));
    }

    #[test]
    fn any_other_kind_gets_a_plain_refusal() {
        for kind in [
            "bezirksregierung",
            "bewilligungsbehoerde",
            "partner",
            "",
            "KREIS",
        ] {
            let findings = run(kind, "");
            assert_eq!(findings.len(), 1, "{kind}");
            assert!(findings[0].is_error());
            assert!(
                findings[0]
                    .message
                    .starts_with("Die antragstellende Organisation ist nicht")
            );
            assert!(!findings[0].message.contains("ki-anregung"));
        }
    }
}
