//! Rule `leitung`: the Leitung is a Lehrkraft or a Fachkraft; the deputy comes from the other group.
//!
//! Erlass Nr. 5.3: „Die Leitung eines Kommunalen Integrationszentrums kann durch eine Lehrkraft oder
//! eine Fachkraft übernommen werden. Die stellvertretende Leitung ist mit einer oder einem
//! Angehörigen der jeweils anderen Bereiche zu besetzen.“
//!
//! Reads `leitung.gruppe` and `leitung.stellvertretung_gruppe` (`lehrkraft` | `fachkraft`).

use super::read::{self, FieldError, shown};
use super::{RuleContext, RuleFinding};

/// The rule's name as workflows write it.
pub(super) const NAME: &str = "leitung";

const GRUPPE: &str = "leitung.gruppe";
const STELLVERTRETUNG: &str = "leitung.stellvertretung_gruppe";

/// The two groups a Leitung or its deputy may come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gruppe {
    Lehrkraft,
    Fachkraft,
}

impl Gruppe {
    fn noun(self) -> &'static str {
        match self {
            Self::Lehrkraft => "eine Lehrkraft",
            Self::Fachkraft => "eine Fachkraft",
        }
    }

    fn other(self) -> Self {
        match self {
            Self::Lehrkraft => Self::Fachkraft,
            Self::Fachkraft => Self::Lehrkraft,
        }
    }
}

/// Checks both groups and that they differ.
pub(super) fn check(ctx: &RuleContext<'_>) -> Vec<RuleFinding> {
    let mut findings = Vec::new();
    let leitung = read_group(ctx, GRUPPE, "die Leitung", &mut findings);
    let stellvertretung = read_group(
        ctx,
        STELLVERTRETUNG,
        "die stellvertretende Leitung",
        &mut findings,
    );
    if let (Some(leitung), Some(stellvertretung)) = (leitung, stellvertretung)
        && leitung == stellvertretung
    {
        findings.push(RuleFinding::error(
                NAME,
                Some(STELLVERTRETUNG),
                format!(
                    "Die stellvertretende Leitung ist mit einer oder einem Angehörigen der jeweils \
                     anderen Bereiche zu besetzen (Nr. 5.3 des Erlasses „Kommunale \
                     Integrationszentren“). Da die Leitung {} ist, muss die Stellvertretung {} sein.",
                    leitung.noun(),
                    leitung.other().noun()
                ),
            ));
    }
    findings
}

/// Reads one group; missing or other values become findings.
fn read_group(
    ctx: &RuleContext<'_>,
    path: &str,
    who: &str,
    findings: &mut Vec<RuleFinding>,
) -> Option<Gruppe> {
    let problem = match read::text(ctx.data, path) {
        Ok("lehrkraft") => return Some(Gruppe::Lehrkraft),
        Ok("fachkraft") => return Some(Gruppe::Fachkraft),
        Ok(other) => format!("Angegeben ist „{}“. ", shown(other)),
        Err(FieldError::Invalid) => String::new(),
        Err(FieldError::Missing) => {
            findings.push(RuleFinding::error(
                NAME,
                Some(path),
                format!(
                    "Bitte geben Sie an, ob {who} eine Lehrkraft oder eine Fachkraft ist (Nr. 5.3 \
                     des Erlasses „Kommunale Integrationszentren“)."
                ),
            ));
            return None;
        }
    };
    findings.push(RuleFinding::error(
        NAME,
        Some(path),
        format!(
            "{problem}Die Leitung kann durch eine Lehrkraft oder eine Fachkraft übernommen werden, \
             die Stellvertretung kommt aus dem jeweils anderen Bereich (Nr. 5.3 des Erlasses \
             „Kommunale Integrationszentren“). Bitte wählen Sie für {who} „Lehrkraft“ oder \
             „Fachkraft“."
        ),
    ));
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn run(leitung: Value) -> Vec<RuleFinding> {
        let data = json!({ "leitung": leitung });
        check(&RuleContext {
            data: &data,
            applicant_kind: "kreis",
            applicant_name: "X",
        })
    }

    fn paths(findings: &[RuleFinding]) -> Vec<&str> {
        findings.iter().filter_map(|f| f.path.as_deref()).collect()
    }

    /// „Die Leitung […] kann durch eine Lehrkraft oder eine Fachkraft übernommen werden. Die
    /// stellvertretende Leitung ist mit einer oder einem Angehörigen der jeweils anderen Bereiche
    /// zu besetzen.“
    #[test]
    fn leitung_and_deputy_from_different_groups_pass() {
        assert_eq!(
            run(json!({"gruppe": "lehrkraft", "stellvertretung_gruppe": "fachkraft"})),
            []
        );
        assert_eq!(
            run(json!({"gruppe": "fachkraft", "stellvertretung_gruppe": "lehrkraft"})),
            []
        );
    }

    #[test]
    fn a_deputy_from_the_same_group_is_refused() {
        let findings = run(json!({"gruppe": "lehrkraft", "stellvertretung_gruppe": "lehrkraft"}));
        assert_eq!(paths(&findings), [STELLVERTRETUNG]);
        assert!(findings[0].is_error());
        assert!(findings[0].message.contains("jeweils anderen Bereiche"));
        assert!(
            findings[0]
                .message
                .contains("muss die Stellvertretung eine Fachkraft sein")
        );
    }

    #[test]
    fn other_groups_and_missing_values_are_errors() {
        let findings = run(json!({"gruppe": "verwaltungsassistenz", "stellvertretung_gruppe": 3}));
        assert_eq!(paths(&findings), [GRUPPE, STELLVERTRETUNG]);
        assert!(
            findings[0]
                .message
                .starts_with("Angegeben ist „verwaltungsassistenz“.")
        );
        assert!(findings.iter().all(RuleFinding::is_error));

        let findings = run(Value::Null);
        assert_eq!(paths(&findings), [GRUPPE, STELLVERTRETUNG]);
        assert!(findings[1].message.contains("die stellvertretende Leitung"));
    }
}
