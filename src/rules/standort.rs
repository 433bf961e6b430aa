//! Rule `ein_standort`: the KI has exactly one location.
//!
//! Ordnungsamt note: „Das Kommunale Integrationszentrum darf nicht an zwei oder mehr Standorten im
//! Kreis angesiedelt werden. Die Fragen der Anbindung und organisatorischen Ausgestaltung liegen in
//! der alleinigen Organisationshoheit des Kreises. […] Das Kommunale Integrationszentrum muss aber
//! nicht am Standort des Kreises angesiedelt sein.“
//!
//! Reads `standorte` (a list of `{ bezeichnung, anschrift }`); the one entry needs an `anschrift`.

use super::read::{self, FieldError};
use super::{RuleContext, RuleFinding};

/// The rule's name as workflows write it.
pub(super) const NAME: &str = "ein_standort";

const PATH: &str = "standorte";

/// Checks that exactly one location with an address is given.
pub(super) fn check(ctx: &RuleContext<'_>) -> Vec<RuleFinding> {
    let standorte = match read::list(ctx.data, PATH) {
        Ok(items) => items,
        Err(FieldError::Missing) => &[],
        Err(FieldError::Invalid) => {
            return vec![RuleFinding::error(
                NAME,
                Some(PATH),
                "Die Standorte sind nicht als Liste angegeben. Bitte geben Sie den einen Standort \
                 des Kommunalen Integrationszentrums an (Hinweis des Ordnungsamts: ein Standort im \
                 Kreis).",
            )];
        }
    };
    match standorte.len() {
        0 => vec![RuleFinding::error(
            NAME,
            Some(PATH),
            "Bitte geben Sie den Standort des Kommunalen Integrationszentrums an. Es wird an genau \
             einem Standort angesiedelt; über Anbindung und organisatorische Ausgestaltung \
             entscheiden Sie in eigener Organisationshoheit (Hinweis des Ordnungsamts).",
        )],
        1 => check_address(ctx),
        count => vec![RuleFinding::error(
            NAME,
            Some(PATH),
            format!(
                "Sie haben {count} Standorte angegeben. Das Kommunale Integrationszentrum „darf \
                 nicht an zwei oder mehr Standorten im Kreis angesiedelt werden“ (Hinweis des \
                 Ordnungsamts). Bitte geben Sie genau einen Standort an; Außensprechstunden können \
                 Sie in der Beschreibung der organisatorischen Anbindung erläutern."
            ),
        )],
    }
}

/// The single location must have an address.
fn check_address(ctx: &RuleContext<'_>) -> Vec<RuleFinding> {
    const ADDRESS: &str = "standorte.0.anschrift";
    match read::text(ctx.data, ADDRESS) {
        Ok(_) => Vec::new(),
        Err(FieldError::Missing) => vec![RuleFinding::error(
            NAME,
            Some(ADDRESS),
            "Bitte geben Sie die Anschrift des Standorts des Kommunalen Integrationszentrums an \
             (Hinweis des Ordnungsamts: ein Standort im Kreis).",
        )],
        Err(FieldError::Invalid) => vec![RuleFinding::error(
            NAME,
            Some(ADDRESS),
            "Die Anschrift des Standorts ist kein Text. Bitte geben Sie sie als Text an.",
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn run(data: Value) -> Vec<RuleFinding> {
        check(&RuleContext {
            data: &data,
            applicant_kind: "kreis",
            applicant_name: "Kreis Soest",
        })
    }

    fn paths(findings: &[RuleFinding]) -> Vec<Option<&str>> {
        findings.iter().map(|f| f.path.as_deref()).collect()
    }

    /// „Das Kommunale Integrationszentrum muss aber nicht am Standort des Kreises angesiedelt
    /// sein.“ One location anywhere in the Kreis is fine.
    #[test]
    fn exactly_one_location_passes() {
        assert_eq!(
            run(json!({"standorte": [{"anschrift": "Marktstraße 1, 59555 Lippstadt"}]})),
            []
        );
    }

    #[test]
    fn no_location_asks_for_it() {
        for data in [
            json!({}),
            json!({"standorte": []}),
            json!({"standorte": null}),
        ] {
            let findings = run(data);
            assert_eq!(paths(&findings), [Some("standorte")]);
            assert!(findings[0].is_error());
            assert!(
                findings[0]
                    .message
                    .starts_with("Bitte geben Sie den Standort")
            );
        }
    }

    /// „Das Kommunale Integrationszentrum darf nicht an zwei oder mehr Standorten im Kreis
    /// angesiedelt werden.“
    #[test]
    fn two_or_more_locations_are_refused_quoting_the_note() {
        let findings = run(json!({"standorte": [{"anschrift": "A"}, {"anschrift": "B"}]}));
        assert_eq!(paths(&findings), [Some("standorte")]);
        assert!(findings[0].is_error());
        assert!(
            findings[0]
                .message
                .contains("Sie haben 2 Standorte angegeben")
        );
        assert!(
            findings[0]
                .message
                .contains("darf nicht an zwei oder mehr Standorten im Kreis angesiedelt werden")
        );
    }

    #[test]
    fn the_location_needs_an_address_and_odd_shapes_do_not_panic() {
        assert_eq!(
            paths(&run(json!({"standorte": [{"bezeichnung": "Kreishaus"}]}))),
            [Some("standorte.0.anschrift")]
        );
        assert_eq!(
            paths(&run(json!({"standorte": ["Kreishaus"]}))),
            [Some("standorte.0.anschrift")]
        );
        assert_eq!(
            paths(&run(json!({"standorte": [{"anschrift": 5}]}))),
            [Some("standorte.0.anschrift")]
        );
        assert_eq!(
            paths(&run(json!({"standorte": "Kreishaus"}))),
            [Some("standorte")]
        );
    }
}
