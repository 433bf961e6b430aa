//! Rule `personalausstattung`: staffing within the funding caps.
//!
//! Erlass Nr. 4.2: „In jedem Kommunalen Integrationszentrum arbeiten auf in der Regel zwei
//! Vollzeitstellen vom Land frei gestellte Lehrkräfte. Sofern eine Stelle mit Teilzeitkräften
//! besetzt wird, wird […] eine Besetzung zu zwei gleichen Anteilen empfohlen.“
//! Erlass Nr. 4.3: „[…] können ab sofort in allen kreisfreien Städten bis zu fünf Fachkräfte und
//! eine ½ Verwaltungsassistentkraft und in Kreisen bis zu sechs Fachkräfte und eine ½
//! Verwaltungsassistentkraft arbeiten, für die das Land eine Zuwendung gewährt (Förderung von
//! Vollzeitäquivalenten).“ (the same recommendation of two equal shares follows).
//!
//! Reads `personal.lehrkraefte_vze`, `personal.fachkraefte_vze`,
//! `personal.verwaltungsassistenz_vze` (numbers, full-time equivalents) and `personal.teilzeit`
//! (a list of shared posts `{ gruppe: lehrkraft|fachkraft|verwaltungsassistenz, bezeichnung,
//! anteile: [number, …] }`, each share in full-time equivalents).

use serde_json::Value;

use super::read::{self, FieldError, german_number, shown};
use super::{RuleContext, RuleFinding};

/// The rule's name as workflows write it.
pub(super) const NAME: &str = "personalausstattung";

/// The staffing caps in one place.
///
/// *(unsure)* Which version of the Förderrichtlinie is current is not settled (domain README:
/// „up to 5.5 posts for a kreisfreie Stadt (5 Fachkräfte + 0.5 VA), 6.5 for a Kreis (6 + 0.5)“, the
/// figures of Erlass Nr. 4.3 as amended in 2016; Nr. 4.7: „Das Land kann die Zahl für alle Stellen
/// aufgrund aktueller Bedarfe erhöhen.“). Change [`CAPS`] when the Richtlinie changes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct StaffingCaps {
    /// Teacher posts „in der Regel“ (Nr. 4.2): other values are a warning, not an error.
    pub lehrkraefte_regel_vze: f64,
    /// Most Fachkräfte for a kreisfreie Stadt, including the Stadt Aachen (Nr. 4.3).
    pub fachkraefte_kreisfreie_stadt_vze: f64,
    /// Most Fachkräfte for a Kreis, including the StädteRegion Aachen (Nr. 4.3).
    pub fachkraefte_kreis_vze: f64,
    /// Most Verwaltungsassistenz (Nr. 4.3: „eine ½ Verwaltungsassistentkraft“).
    pub verwaltungsassistenz_vze: f64,
}

/// The caps of Erlass Nr. 4.2/4.3 in the version of 24.04.2016 (in force 01.01.2017).
pub(crate) const CAPS: StaffingCaps = StaffingCaps {
    lehrkraefte_regel_vze: 2.0,
    fachkraefte_kreisfreie_stadt_vze: 5.0,
    fachkraefte_kreis_vze: 6.0,
    verwaltungsassistenz_vze: 0.5,
};

/// Tolerance for comparing full-time equivalents entered as decimals.
const EPSILON: f64 = 1e-9;

const LEHRKRAEFTE: &str = "personal.lehrkraefte_vze";
const FACHKRAEFTE: &str = "personal.fachkraefte_vze";
const VERWALTUNGSASSISTENZ: &str = "personal.verwaltungsassistenz_vze";
const TEILZEIT: &str = "personal.teilzeit";

/// Checks the staffing against [`CAPS`].
pub(super) fn check(ctx: &RuleContext<'_>) -> Vec<RuleFinding> {
    check_with(ctx, &CAPS)
}

/// Checks the staffing against the given caps (for a future configurable Richtlinie version).
pub(crate) fn check_with(ctx: &RuleContext<'_>, caps: &StaffingCaps) -> Vec<RuleFinding> {
    let mut findings = Vec::new();

    if let Some(lehrkraefte) = read_vze(ctx, LEHRKRAEFTE, "Lehrkräfte", &mut findings)
        && (lehrkraefte - caps.lehrkraefte_regel_vze).abs() > EPSILON
    {
        findings.push(RuleFinding::warning(
                NAME,
                Some(LEHRKRAEFTE),
                format!(
                    "In jedem Kommunalen Integrationszentrum arbeiten in der Regel Lehrkräfte auf \
                     {} Vollzeitstellen (Nr. 4.2 des Erlasses „Kommunale Integrationszentren“). Sie \
                     haben {} Vollzeitäquivalente angegeben; bitte begründen Sie die Abweichung im \
                     Antrag.",
                    german_number(caps.lehrkraefte_regel_vze),
                    german_number(lehrkraefte)
                ),
            ));
    }

    if let Some(fachkraefte) = read_vze(ctx, FACHKRAEFTE, "Fachkräfte", &mut findings)
        && let Some((cap, wo)) = fachkraefte_cap(ctx.applicant_kind, caps)
        && fachkraefte > cap + EPSILON
    {
        findings.push(RuleFinding::error(
            NAME,
            Some(FACHKRAEFTE),
            format!(
                "{wo} fördert das Land bis zu {} Fachkräfte (Vollzeitäquivalente) (Nr. 4.3 \
                         des Erlasses „Kommunale Integrationszentren“). Sie haben {} angegeben; \
                         bitte verringern Sie die Zahl.",
                german_number(cap),
                german_number(fachkraefte)
            ),
        ));
    }

    if let Some(assistenz) = read_vze(
        ctx,
        VERWALTUNGSASSISTENZ,
        "Verwaltungsassistenz",
        &mut findings,
    ) && assistenz > caps.verwaltungsassistenz_vze + EPSILON
    {
        findings.push(RuleFinding::error(
            NAME,
            Some(VERWALTUNGSASSISTENZ),
            format!(
                "Das Land fördert höchstens eine halbe Stelle Verwaltungsassistenz ({} \
                     Vollzeitäquivalente; Nr. 4.3 des Erlasses „Kommunale Integrationszentren“). \
                     Sie haben {} angegeben.",
                german_number(caps.verwaltungsassistenz_vze),
                german_number(assistenz)
            ),
        ));
    }

    check_part_time(ctx, caps, &mut findings);
    findings
}

/// The Fachkräfte cap for the applicant's kind, with the phrase naming it; `None` for kinds that
/// may not apply at all (the rule `antragsberechtigt` reports those).
fn fachkraefte_cap(kind: &str, caps: &StaffingCaps) -> Option<(f64, &'static str)> {
    match kind {
        "kreis" => Some((caps.fachkraefte_kreis_vze, "In einem Kreis")),
        "kreisfreie_stadt" | "kreisfreie_stadt_in_staedteregion" => Some((
            caps.fachkraefte_kreisfreie_stadt_vze,
            "In einer kreisfreien Stadt",
        )),
        _ => None,
    }
}

/// A required, non-negative number of full-time equivalents; problems become findings.
fn read_vze(
    ctx: &RuleContext<'_>,
    path: &str,
    label: &str,
    findings: &mut Vec<RuleFinding>,
) -> Option<f64> {
    match read::number(ctx.data, path) {
        Ok(value) if value < 0.0 => {
            findings.push(RuleFinding::error(
                NAME,
                Some(path),
                format!(
                    "{label}: Die Zahl der Vollzeitäquivalente kann nicht negativ sein (angegeben: \
                     {}).",
                    german_number(value)
                ),
            ));
            None
        }
        Ok(value) => Some(value),
        Err(FieldError::Missing) => {
            findings.push(RuleFinding::error(
                NAME,
                Some(path),
                format!(
                    "{label}: Bitte geben Sie die Zahl der Stellen in Vollzeitäquivalenten an \
                     (Nr. 4.2 und 4.3 des Erlasses „Kommunale Integrationszentren“); geben Sie 0 \
                     an, wenn keine Stelle vorgesehen ist."
                ),
            ));
            None
        }
        Err(FieldError::Invalid) => {
            findings.push(RuleFinding::error(
                NAME,
                Some(path),
                format!(
                    "{label}: Bitte geben Sie die Vollzeitäquivalente als Zahl an (z. B. 2 oder 0,5)."
                ),
            ));
            None
        }
    }
}

/// Nr. 4.2/4.3: a post shared by part-timers should be split into two equal shares.
fn check_part_time(ctx: &RuleContext<'_>, caps: &StaffingCaps, findings: &mut Vec<RuleFinding>) {
    let posts = match read::list(ctx.data, TEILZEIT) {
        Ok(posts) => posts,
        Err(FieldError::Missing) => return,
        Err(FieldError::Invalid) => {
            findings.push(RuleFinding::error(
                NAME,
                Some(TEILZEIT),
                "Die Teilzeitstellen sind nicht als Liste angegeben.",
            ));
            return;
        }
    };
    for (index, post) in posts.iter().enumerate() {
        check_shared_post(index, post, caps, findings);
    }
}

/// One shared post: its group, its shares, and whether they are two equal halves.
fn check_shared_post(
    index: usize,
    post: &Value,
    caps: &StaffingCaps,
    findings: &mut Vec<RuleFinding>,
) {
    let post_path = format!("{TEILZEIT}.{index}");
    let group_path = format!("{post_path}.gruppe");
    let shares_path = format!("{post_path}.anteile");
    let name = match read::text(post, "bezeichnung") {
        Ok(name) => format!("Teilzeitstelle „{}“", shown(name)),
        Err(_) => format!("Teilzeitstelle Nr. {}", index + 1),
    };

    // (paragraph, size of one post in full-time equivalents)
    let (paragraph, post_size) = match read::text(post, "gruppe") {
        Ok("lehrkraft") => ("Nr. 4.2", 1.0),
        Ok("fachkraft") => ("Nr. 4.3", 1.0),
        Ok("verwaltungsassistenz") => ("Nr. 4.3", caps.verwaltungsassistenz_vze),
        Ok(_) | Err(_) => {
            findings.push(RuleFinding::error(
                NAME,
                Some(&group_path),
                format!(
                    "{name}: Bitte geben Sie an, ob es eine Stelle für Lehrkräfte, Fachkräfte oder \
                     die Verwaltungsassistenz ist."
                ),
            ));
            ("Nr. 4.2 und 4.3", 1.0)
        }
    };

    let Some(shares) = read::lookup(post, "anteile")
        .and_then(Value::as_array)
        .filter(|shares| !shares.is_empty())
    else {
        findings.push(RuleFinding::error(
            NAME,
            Some(&shares_path),
            format!(
                "{name}: Bitte geben Sie die Stellenanteile der Teilzeitkräfte als Liste von \
                 Vollzeitäquivalenten an (z. B. 0,5 und 0,5)."
            ),
        ));
        return;
    };
    let mut values = Vec::with_capacity(shares.len());
    for (share_index, share) in shares.iter().enumerate() {
        match share.as_f64() {
            Some(value) if value > 0.0 => values.push(value),
            _ => findings.push(RuleFinding::error(
                NAME,
                Some(&format!("{shares_path}.{share_index}")),
                format!("{name}: Jeder Stellenanteil muss eine Zahl größer als 0 sein."),
            )),
        }
    }
    if values.len() != shares.len() {
        return;
    }

    let total: f64 = values.iter().sum();
    if total > post_size + EPSILON {
        findings.push(RuleFinding::error(
            NAME,
            Some(&shares_path),
            format!(
                "{name}: Die Anteile ergeben zusammen {} Vollzeitäquivalente, mehr als die Stelle \
                 umfasst ({}).",
                german_number(total),
                german_number(post_size)
            ),
        ));
    }
    let two_equal = matches!(values.as_slice(), [a, b] if (a - b).abs() <= EPSILON);
    if !two_equal {
        let listed: Vec<String> = values.iter().map(|v| german_number(*v)).collect();
        findings.push(RuleFinding::warning(
            NAME,
            Some(&shares_path),
            format!(
                "{name}: Sofern eine Stelle mit Teilzeitkräften besetzt wird, wird im Interesse der \
                 besseren Handhabung und ggf. Wiederbesetzung von Stellenanteilen eine Besetzung zu \
                 zwei gleichen Anteilen empfohlen ({paragraph} des Erlasses „Kommunale \
                 Integrationszentren“). Angegeben: {}.",
                listed.join(" und ")
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Severity;
    use serde_json::json;

    fn run(kind: &str, personal: Value) -> Vec<RuleFinding> {
        let data = json!({ "personal": personal });
        check(&RuleContext {
            data: &data,
            applicant_kind: kind,
            applicant_name: "X",
        })
    }

    fn summary(findings: &[RuleFinding]) -> Vec<(Severity, String)> {
        findings
            .iter()
            .map(|f| (f.severity, f.path.clone().unwrap_or_default()))
            .collect()
    }

    fn staffing(lehrkraefte: f64, fachkraefte: f64, assistenz: f64) -> Value {
        json!({"lehrkraefte_vze": lehrkraefte, "fachkraefte_vze": fachkraefte,
               "verwaltungsassistenz_vze": assistenz})
    }

    /// Nr. 4.3: „in allen kreisfreien Städten bis zu fünf Fachkräfte und eine ½
    /// Verwaltungsassistentkraft und in Kreisen bis zu sechs Fachkräfte“.
    #[test]
    fn fachkraefte_cap_depends_on_the_kind_of_applicant() {
        assert_eq!(run("kreis", staffing(2.0, 6.0, 0.5)), []);
        let over = run("kreis", staffing(2.0, 6.5, 0.5));
        assert_eq!(summary(&over), [(Severity::Error, FACHKRAEFTE.into())]);
        assert!(
            over[0]
                .message
                .contains("In einem Kreis fördert das Land bis zu 6 Fachkräfte")
        );
        assert!(over[0].message.contains("Sie haben 6,5 angegeben"));

        for kind in ["kreisfreie_stadt", "kreisfreie_stadt_in_staedteregion"] {
            assert_eq!(run(kind, staffing(2.0, 5.0, 0.5)), [], "{kind}");
            let over = run(kind, staffing(2.0, 5.5, 0.5));
            assert_eq!(
                summary(&over),
                [(Severity::Error, FACHKRAEFTE.into())],
                "{kind}"
            );
            assert!(over[0].message.contains("In einer kreisfreien Stadt"));
        }
        // Not an applicant kind: `antragsberechtigt` reports it; no cap is guessed here.
        assert_eq!(run("gemeinde", staffing(2.0, 9.0, 0.5)), []);
    }

    /// Nr. 4.3: „eine ½ Verwaltungsassistentkraft“.
    #[test]
    fn verwaltungsassistenz_at_most_a_half_post() {
        assert_eq!(run("kreis", staffing(2.0, 3.0, 0.0)), []);
        assert_eq!(
            summary(&run("kreis", staffing(2.0, 3.0, 0.75))),
            [(Severity::Error, VERWALTUNGSASSISTENZ.into())]
        );
    }

    /// Nr. 4.2: „auf in der Regel zwei Vollzeitstellen vom Land frei gestellte Lehrkräfte“.
    #[test]
    fn teachers_other_than_two_posts_is_only_a_warning() {
        for teachers in [1.5, 3.0, 0.0] {
            let findings = run("kreis", staffing(teachers, 3.0, 0.5));
            assert_eq!(
                summary(&findings),
                [(Severity::Warning, LEHRKRAEFTE.into())]
            );
            assert!(findings[0].message.contains("in der Regel"));
        }
    }

    #[test]
    fn negative_missing_and_mistyped_numbers_are_errors() {
        let findings = run("kreis", staffing(-1.0, -0.5, -0.1));
        assert_eq!(
            summary(&findings),
            [
                (Severity::Error, LEHRKRAEFTE.into()),
                (Severity::Error, FACHKRAEFTE.into()),
                (Severity::Error, VERWALTUNGSASSISTENZ.into())
            ]
        );
        assert!(findings.iter().all(|f| f.message.contains("nicht negativ")));
        let findings = run("kreis", json!({"lehrkraefte_vze": "2,0"}));
        assert_eq!(
            summary(&findings),
            [
                (Severity::Error, LEHRKRAEFTE.into()),
                (Severity::Error, FACHKRAEFTE.into()),
                (Severity::Error, VERWALTUNGSASSISTENZ.into())
            ]
        );
        assert!(findings[0].message.contains("als Zahl"));
        assert!(
            findings[1]
                .message
                .contains("Bitte geben Sie die Zahl der Stellen")
        );
        assert_eq!(summary(&run("kreis", json!(null))).len(), 3);
    }

    /// Nr. 4.2/4.3: „Sofern eine Stelle mit Teilzeitkräften besetzt wird, wird […] eine Besetzung
    /// zu zwei gleichen Anteilen empfohlen.“
    #[test]
    fn shared_posts_should_be_two_equal_halves() {
        let with = |teilzeit: Value| {
            let mut personal = staffing(2.0, 3.0, 0.5);
            personal["teilzeit"] = teilzeit;
            run("kreis", personal)
        };
        assert_eq!(
            with(json!([
                {"gruppe": "lehrkraft", "anteile": [0.5, 0.5]},
                {"gruppe": "verwaltungsassistenz", "anteile": [0.25, 0.25]}
            ])),
            []
        );

        let unequal = with(
            json!([{"gruppe": "fachkraft", "bezeichnung": "Bildung", "anteile": [0.75, 0.25]}]),
        );
        assert_eq!(
            summary(&unequal),
            [(Severity::Warning, "personal.teilzeit.0.anteile".into())]
        );
        assert!(unequal[0].message.contains("empfohlen (Nr. 4.3"));
        assert!(unequal[0].message.contains("Teilzeitstelle „Bildung“"));
        assert!(unequal[0].message.contains("0,75 und 0,25"));

        let three = with(json!([{"gruppe": "lehrkraft", "anteile": [0.3, 0.3, 0.3]}]));
        assert_eq!(
            summary(&three),
            [(Severity::Warning, "personal.teilzeit.0.anteile".into())]
        );
        assert!(three[0].message.contains("(Nr. 4.2"));

        let too_much = with(json!([{"gruppe": "verwaltungsassistenz", "anteile": [0.5, 0.5]}]));
        assert_eq!(
            summary(&too_much),
            [(Severity::Error, "personal.teilzeit.0.anteile".into())]
        );
    }

    #[test]
    fn malformed_shared_posts_are_errors_naming_the_path() {
        let with = |teilzeit: Value| {
            let mut personal = staffing(2.0, 3.0, 0.5);
            personal["teilzeit"] = teilzeit;
            summary(&run("kreis", personal))
        };
        assert_eq!(with(json!("zwei")), [(Severity::Error, TEILZEIT.into())]);
        assert_eq!(
            with(json!([{"anteile": [0.5, 0.5]}])),
            [(Severity::Error, "personal.teilzeit.0.gruppe".into())]
        );
        assert_eq!(
            with(json!([{"gruppe": "fachkraft"}])),
            [(Severity::Error, "personal.teilzeit.0.anteile".into())]
        );
        assert_eq!(
            with(json!([{"gruppe": "fachkraft", "anteile": [0.5, "0,5", -1]}])),
            [
                (Severity::Error, "personal.teilzeit.0.anteile.1".into()),
                (Severity::Error, "personal.teilzeit.0.anteile.2".into())
            ]
        );
        assert_eq!(
            with(json!([7])),
            [
                (Severity::Error, "personal.teilzeit.0.gruppe".into()),
                (Severity::Error, "personal.teilzeit.0.anteile".into())
            ]
        );
        assert_eq!(
            with(json!([{"gruppe": "fachkraft", "anteile": []}])),
            [(Severity::Error, "personal.teilzeit.0.anteile".into())]
        );
    }

    #[test]
    fn other_caps_can_be_passed_in() {
        let data = json!({"personal": staffing(2.0, 7.0, 0.5)});
        let ctx = RuleContext {
            data: &data,
            applicant_kind: "kreis",
            applicant_name: "X",
        };
        let raised = StaffingCaps {
            fachkraefte_kreis_vze: 7.0,
            ..CAPS
        };
        assert_eq!(check_with(&ctx, &raised), []);
        assert_eq!(check_with(&ctx, &CAPS).len(), 1);
    }
}
