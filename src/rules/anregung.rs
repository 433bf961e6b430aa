//! Rule `anregung_beim_kreis`: a suggestion (Anregung) of a kreisangehörige Gemeinde is taken up
//! by its Kreis, so only a Kreis runs the procedure that records it.
//!
//! Ordnungsamt note: „Kreisangehörige Kommunen können sich an den Kreis wenden und dort anregen,
//! dass ein Antrag auf Einrichtung eines Kommunalen Integrationszentrums gestellt wird.“ A
//! kreisfreie Stadt has no kreisangehörige Gemeinden and applies itself; a Gemeinde addresses its
//! Kreis, which records the suggestion.

use super::{RuleContext, RuleFinding};
use crate::designation::designation;

/// The rule's name as workflows write it.
pub(super) const NAME: &str = "anregung_beim_kreis";

/// Checks that the applicant organisation is a Kreis (the StädteRegion Aachen counts as one).
pub(super) fn check(ctx: &RuleContext<'_>) -> Vec<RuleFinding> {
    let kind = ctx.applicant_kind.trim();
    if kind == "kreis" {
        return Vec::new();
    }
    let name = ctx.applicant_name.trim();
    let name = if name.is_empty() {
        "Die Organisation".to_string()
    } else {
        format!("„{}“", super::read::shown(&designation(kind, name)))
    };
    let message = match kind {
        "kreisfreie_stadt" | "kreisfreie_stadt_in_staedteregion" => format!(
            "{name} ist eine kreisfreie Stadt und hat keine kreisangehörigen Gemeinden: Eine \
             Anregung richtet eine kreisangehörige Gemeinde an ihren Kreis (Hinweis des \
             Ordnungsamts). Eine kreisfreie Stadt beantragt das Kommunale Integrationszentrum \
             selbst, im Verfahren „Antrag auf Einrichtung eines Kommunalen \
             Integrationszentrums“ (ki-antrag)."
        ),
        "gemeinde" => format!(
            "{name} ist eine kreisangehörige Gemeinde: Ihre Anregung erfasst der Kreis, an den Sie \
             sich wenden (Hinweis des Ordnungsamts). Bitte richten Sie die Anregung an Ihren \
             Kreis."
        ),
        _ => format!(
            "{name} ist kein Kreis: Anregungen kreisangehöriger Gemeinden erfasst der Kreis \
             (Hinweis des Ordnungsamts)."
        ),
    };
    vec![RuleFinding::error(NAME, None, message)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(kind: &str, name: &str) -> Vec<RuleFinding> {
        let data = json!({});
        check(&RuleContext {
            data: &data,
            applicant_kind: kind,
            applicant_name: name,
        })
    }

    #[test]
    fn a_kreis_takes_up_the_suggestion() {
        assert_eq!(run("kreis", "Soest"), []);
        assert_eq!(run("kreis", "StädteRegion Aachen"), []);
    }

    /// A kreisfreie Stadt has no kreisangehörige Gemeinden; it is pointed to the Antrag.
    #[test]
    fn a_kreisfreie_stadt_is_pointed_to_its_own_antrag() {
        for (kind, name, shown) in [
            ("kreisfreie_stadt", "Bielefeld", "„Stadt Bielefeld“"),
            (
                "kreisfreie_stadt_in_staedteregion",
                "Aachen",
                "„Stadt Aachen“",
            ),
        ] {
            let findings = run(kind, name);
            assert_eq!(findings.len(), 1, "{kind}");
            assert!(findings[0].is_error());
            assert!(
                findings[0]
                    .message
                    .starts_with(&format!("{shown} ist eine kreisfreie Stadt")),
                "{}",
                findings[0].message
            );
            assert!(findings[0].message.contains("(ki-antrag)"));
        }
    }

    #[test]
    fn a_gemeinde_and_every_other_kind_are_refused() {
        let gemeinde = run("gemeinde", "Stadt Lippstadt");
        assert!(
            gemeinde[0]
                .message
                .starts_with("„Stadt Lippstadt“ ist eine kreisangehörige Gemeinde")
        );
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
                    .starts_with("Die Organisation ist kein Kreis"),
                "{kind}"
            );
        }
    }
}
