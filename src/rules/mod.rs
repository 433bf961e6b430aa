//! Domain rules of the Kommunales-Integrationszentrum procedure, named in workflow actions
//! (`rules: [antragsberechtigt, ein_standort]`) and checked by the engine when the action is taken.
//!
//! Each rule reads the case data and the applicant organisation and returns findings with German
//! messages that cite the Erlass „Kommunale Integrationszentren“ (or the Ordnungsamt note, or the
//! TIntG 2021). Errors block the action; warnings are shown but do not block.
//!
//! Rules are pure and must never panic: missing or mistyped data is a finding naming the path,
//! never a crash. No I/O, no clock reads (a rule that needs "today" must get it from the data).

mod anregung;
mod antragsberechtigt;
mod bezeichnung;
mod integrationskonzept;
mod leitung;
mod personalausstattung;
pub(crate) mod read;
mod standort;

use serde::{Deserialize, Serialize};

/// What a rule sees: the case data and the applicant organisation.
#[derive(Debug, Clone, Copy)]
pub struct RuleContext<'a> {
    /// The case data (normally a JSON object; anything else is tolerated).
    pub data: &'a serde_json::Value,
    /// Organisation kind as stored (`kreis`, `kreisfreie_stadt`, `gemeinde`, …).
    pub applicant_kind: &'a str,
    /// Display name of the applicant organisation, for messages.
    pub applicant_name: &'a str,
}

/// Whether a finding blocks the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Blocks the action.
    Error,
    /// Shown to the person, does not block.
    Warning,
}

/// One finding of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleFinding {
    /// The rule that found it (`personalausstattung`).
    pub rule: String,
    /// Error (blocks) or warning (informs).
    pub severity: Severity,
    /// German, formal „Sie“, citing the paragraph the rule comes from.
    pub message: String,
    /// Dotted data path concerned (`personal.fachkraefte_vze`, list items by index:
    /// `standorte.0.anschrift`); `None` when the finding is about the applicant, not the data.
    pub path: Option<String>,
}

impl RuleFinding {
    /// A blocking finding.
    pub(crate) fn error(rule: &str, path: Option<&str>, message: impl Into<String>) -> Self {
        Self::new(rule, Severity::Error, path, message)
    }

    /// A non-blocking finding.
    pub(crate) fn warning(rule: &str, path: Option<&str>, message: impl Into<String>) -> Self {
        Self::new(rule, Severity::Warning, path, message)
    }

    fn new(rule: &str, severity: Severity, path: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            rule: rule.to_string(),
            severity,
            message: message.into(),
            path: path.map(str::to_string),
        }
    }

    /// Whether the finding blocks the action.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A workflow named a rule that does not exist (the validator reports it before deployment).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unbekannte Regel „{0}“.")]
pub struct UnknownRule(pub String);

/// One entry of the rule table: the single source for `check`, `known_rules`, `describe` and
/// `judges_applicant_only`.
struct Rule {
    name: &'static str,
    description: &'static str,
    /// Whether the rule reads only the applicant organisation, not the data: such a rule can
    /// refuse a procedure before a case exists.
    applicant_only: bool,
    check: fn(&RuleContext<'_>) -> Vec<RuleFinding>,
}

/// All rules, in the order they are documented.
const RULES: [Rule; 7] = [
    Rule {
        name: antragsberechtigt::NAME,
        description: "Nur Kreise und kreisfreie Städte (einschließlich der Stadt Aachen) dürfen \
                      einen Antrag stellen (Nr. 1.2 des Erlasses; Hinweis des Ordnungsamts).",
        applicant_only: true,
        check: antragsberechtigt::check,
    },
    Rule {
        name: anregung::NAME,
        description: "Die Anregung einer kreisangehörigen Gemeinde erfasst ihr Kreis; eine \
                      kreisfreie Stadt hat keine kreisangehörigen Gemeinden (Hinweis des \
                      Ordnungsamts).",
        applicant_only: true,
        check: anregung::check,
    },
    Rule {
        name: standort::NAME,
        description: "Das Kommunale Integrationszentrum hat genau einen Standort (Hinweis des \
                      Ordnungsamts).",
        applicant_only: false,
        check: standort::check,
    },
    Rule {
        name: integrationskonzept::NAME,
        description: "Ein vom Kreistag bzw. Rat beschlossenes Integrationskonzept liegt vor, oder \
                      der Antrag nennt, bis wann es vorgelegt wird (Nr. 2 des Erlasses).",
        applicant_only: false,
        check: integrationskonzept::check,
    },
    Rule {
        name: personalausstattung::NAME,
        description: "Die Stellen für Lehrkräfte, Fachkräfte und Verwaltungsassistenz halten die \
                      Förderobergrenzen ein (Nr. 4.2 und 4.3 des Erlasses).",
        applicant_only: false,
        check: personalausstattung::check,
    },
    Rule {
        name: leitung::NAME,
        description: "Die Leitung ist eine Lehrkraft oder eine Fachkraft, die Stellvertretung \
                      kommt aus dem jeweils anderen Bereich (Nr. 5.3 des Erlasses).",
        applicant_only: false,
        check: leitung::check,
    },
    Rule {
        name: bezeichnung::NAME,
        description: "Die öffentliche Darstellung weist auf die Anerkennung durch das Land NRW als \
                      Kommunales Integrationszentrum hin (§ 8 TIntG; Hinweis des Ordnungsamts).",
        applicant_only: false,
        check: bezeichnung::check,
    },
];

/// The names of all rules, derived from [`RULES`] at compile time.
const NAMES: [&str; RULES.len()] = {
    let mut names = [""; RULES.len()];
    let mut index = 0;
    while index < RULES.len() {
        names[index] = RULES[index].name;
        index += 1;
    }
    names
};

/// Runs one rule; the engine blocks the action if any finding is an error.
pub fn check(rule: &str, ctx: &RuleContext) -> Result<Vec<RuleFinding>, UnknownRule> {
    RULES
        .iter()
        .find(|entry| entry.name == rule)
        .map(|entry| (entry.check)(ctx))
        .ok_or_else(|| UnknownRule(rule.to_string()))
}

/// Every rule name a workflow may use, so the validator can reject unknown ones.
pub fn known_rules() -> &'static [&'static str] {
    &NAMES
}

/// Whether `rule` judges the applicant organisation alone, so that it can be checked before a
/// case is started (an unknown rule does not).
pub fn judges_applicant_only(rule: &str) -> bool {
    RULES
        .iter()
        .any(|entry| entry.name == rule && entry.applicant_only)
}

/// A German one-line description of a rule, for documentation and the UI.
pub fn describe(rule: &str) -> Option<&'static str> {
    RULES
        .iter()
        .find(|entry| entry.name == rule)
        .map(|entry| entry.description)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    #[test]
    fn every_rule_is_known_described_and_checkable() {
        assert_eq!(
            known_rules(),
            [
                "antragsberechtigt",
                "anregung_beim_kreis",
                "ein_standort",
                "integrationskonzept",
                "personalausstattung",
                "leitung",
                "bezeichnung"
            ]
        );
        let data = json!({});
        let ctx = RuleContext {
            data: &data,
            applicant_kind: "kreis",
            applicant_name: "Kreis Soest",
        };
        for rule in known_rules() {
            assert!(describe(rule).is_some_and(|d| !d.is_empty()), "{rule}");
            let findings = check(rule, &ctx).expect("known rule");
            assert!(findings.iter().all(|f| f.rule == *rule), "{rule}");
        }
    }

    #[test]
    fn rules_judging_the_applicant_alone_do_not_read_the_data() {
        let judging: Vec<&str> = known_rules()
            .iter()
            .copied()
            .filter(|rule| judges_applicant_only(rule))
            .collect();
        assert_eq!(judging, ["antragsberechtigt", "anregung_beim_kreis"]);
        assert!(!judges_applicant_only("gibt_es_nicht"));
        let (empty, full) = (json!({}), valid_application());
        for rule in judging {
            for kind in ["kreis", "kreisfreie_stadt", "gemeinde", "partner"] {
                let with = |data| {
                    check(
                        rule,
                        &RuleContext {
                            data,
                            applicant_kind: kind,
                            applicant_name: "X",
                        },
                    )
                };
                assert_eq!(with(&empty), with(&full), "{rule} {kind}");
            }
        }
    }

    #[test]
    fn unknown_rules_are_reported_not_ignored() {
        let data = json!({});
        let ctx = RuleContext {
            data: &data,
            applicant_kind: "kreis",
            applicant_name: "Kreis Soest",
        };
        assert_eq!(
            check("gibt_es_nicht", &ctx),
            Err(UnknownRule("gibt_es_nicht".into()))
        );
        assert_eq!(describe("gibt_es_nicht"), None);
    }

    #[test]
    fn findings_serialise_with_snake_case_severity() {
        let finding = RuleFinding::warning("leitung", Some("leitung.gruppe"), "Hinweis");
        assert_eq!(
            serde_json::to_value(&finding).unwrap(),
            json!({"rule": "leitung", "severity": "warning", "message": "Hinweis", "path": "leitung.gruppe"})
        );
    }

    /// A complete, valid application for a Kreis: every rule passes without findings.
    fn valid_application() -> Value {
        json!({
            "standorte": [{"bezeichnung": "Kreishaus", "anschrift": "Hoher Weg 1, 59494 Soest"}],
            "integrationskonzept": {
                "status": "beschlossen",
                "beschluss_datum": "2025-06-26",
                "fortschreibung": "aktualisiert"
            },
            "arbeitsaufnahme": "2026-01-01",
            "personal": {
                "lehrkraefte_vze": 2,
                "fachkraefte_vze": 6,
                "verwaltungsassistenz_vze": 0.5,
                "teilzeit": [{"gruppe": "lehrkraft", "anteile": [0.5, 0.5]}]
            },
            "leitung": {"gruppe": "fachkraft", "stellvertretung_gruppe": "lehrkraft"},
            "oeffentliche_bezeichnung": "Kommunales Integrationszentrum Kreis Soest – anerkannt durch \
                das Land NRW als Kommunales Integrationszentrum nach § 8 Teilhabe- und Integrationsgesetz"
        })
    }

    #[test]
    fn a_complete_application_passes_every_rule() {
        let data = valid_application();
        for kind in [
            "kreis",
            "kreisfreie_stadt",
            "kreisfreie_stadt_in_staedteregion",
        ] {
            let ctx = RuleContext {
                data: &data,
                applicant_kind: kind,
                applicant_name: "Antragsteller",
            };
            // The Anregung's rule admits Kreise only; its own tests cover every kind.
            for rule in known_rules()
                .iter()
                .filter(|rule| **rule != "anregung_beim_kreis")
            {
                let findings = check(rule, &ctx).unwrap();
                // Six Fachkräfte exceed the cap of a kreisfreie Stadt; that is the only finding.
                if kind != "kreis" && *rule == "personalausstattung" {
                    assert_eq!(findings.len(), 1, "{findings:?}");
                    assert_eq!(
                        findings[0].path.as_deref(),
                        Some("personal.fachkraefte_vze")
                    );
                } else {
                    assert_eq!(findings, [], "{kind} {rule}");
                }
            }
        }
    }

    /// Arbitrary JSON, nested a few levels, with the keys the rules read so that type confusion
    /// at every known path is exercised.
    fn arbitrary_json() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            Just("standorte".to_string()),
            Just("anschrift".to_string()),
            Just("integrationskonzept".to_string()),
            Just("status".to_string()),
            Just("beschluss_datum".to_string()),
            Just("vorlage_bis".to_string()),
            Just("fortschreibung".to_string()),
            Just("arbeitsaufnahme".to_string()),
            Just("personal".to_string()),
            Just("lehrkraefte_vze".to_string()),
            Just("fachkraefte_vze".to_string()),
            Just("verwaltungsassistenz_vze".to_string()),
            Just("teilzeit".to_string()),
            Just("gruppe".to_string()),
            Just("anteile".to_string()),
            Just("leitung".to_string()),
            Just("stellvertretung_gruppe".to_string()),
            Just("oeffentliche_bezeichnung".to_string()),
            "[a-z_0-9]{0,6}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from), // NaN and infinities become null
            prop_oneof![
                Just("beschlossen".to_string()),
                Just("in_arbeit".to_string()),
                Just("fehlt".to_string()),
                Just("lehrkraft".to_string()),
                Just("fachkraft".to_string()),
                Just("2026-02-29".to_string()),
                Just("2024-02-29".to_string()),
                Just("9999-12-31".to_string()),
                Just("§ 7 § 8 §".to_string()),
                "\\PC{0,30}",
                "[0-9-]{0,12}",
            ]
            .prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..8)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn rules_never_panic_on_arbitrary_json(
            data in arbitrary_json(),
            kind in prop_oneof![
                Just("kreis".to_string()),
                Just("kreisfreie_stadt".to_string()),
                Just("kreisfreie_stadt_in_staedteregion".to_string()),
                Just("gemeinde".to_string()),
                "\\PC{0,12}",
            ],
            name in "\\PC{0,20}",
        ) {
            let ctx = RuleContext { data: &data, applicant_kind: &kind, applicant_name: &name };
            for rule in known_rules() {
                let findings = check(rule, &ctx).unwrap();
                for finding in findings {
                    prop_assert_eq!(&finding.rule, rule);
                    prop_assert!(!finding.message.trim().is_empty());
                }
            }
        }

        #[test]
        fn rules_never_panic_when_known_paths_hold_arbitrary_values(
            value in arbitrary_json(),
            path in prop_oneof![
                Just("standorte"), Just("standorte.0"), Just("standorte.0.anschrift"),
                Just("integrationskonzept"), Just("integrationskonzept.status"),
                Just("integrationskonzept.beschluss_datum"), Just("integrationskonzept.vorlage_bis"),
                Just("integrationskonzept.fortschreibung"), Just("arbeitsaufnahme"),
                Just("personal"), Just("personal.lehrkraefte_vze"), Just("personal.fachkraefte_vze"),
                Just("personal.verwaltungsassistenz_vze"), Just("personal.teilzeit"),
                Just("personal.teilzeit.0"), Just("personal.teilzeit.0.anteile"),
                Just("personal.teilzeit.0.gruppe"), Just("leitung"), Just("leitung.gruppe"),
                Just("leitung.stellvertretung_gruppe"), Just("oeffentliche_bezeichnung"),
            ],
        ) {
            let mut data = valid_application();
            replace_at(&mut data, path, value);
            for kind in ["kreis", "kreisfreie_stadt", "gemeinde"] {
                let ctx = RuleContext { data: &data, applicant_kind: kind, applicant_name: "X" };
                for rule in known_rules() {
                    prop_assert!(check(rule, &ctx).is_ok());
                }
            }
        }
    }

    /// Replaces the value at a dotted path (numeric segments index arrays), if the path exists.
    fn replace_at(data: &mut Value, path: &str, value: Value) {
        let mut current = data;
        let segments: Vec<&str> = path.split('.').collect();
        let Some((last, parents)) = segments.split_last() else {
            return;
        };
        for segment in parents {
            current = match current {
                Value::Object(map) => match map.get_mut(*segment) {
                    Some(next) => next,
                    None => return,
                },
                Value::Array(items) => {
                    match segment.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                        Some(next) => next,
                        None => return,
                    }
                }
                _ => return,
            };
        }
        match current {
            Value::Object(map) => {
                map.insert((*last).to_string(), value);
            }
            Value::Array(items) => {
                if let Some(slot) = last.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                    *slot = value;
                }
            }
            _ => {}
        }
    }
}
