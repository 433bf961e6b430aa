//! The case's journal as people read it: each entry described in German, who did it, and the
//! entries since the version a form was loaded with (the conflict notice).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::NaiveDateTime;
use serde_json::{Value, json};

use super::{date_de, time_de, title_of};
use crate::engine::definition::Step;
use crate::journal::JournalEntry;
use crate::service::workflows::DeployedWorkflow;
use crate::service::{beteiligung, cases, internal, notes};

/// Who did it, as people read it: a user by the e-mail address, a consulted partner by its
/// name (it answered through its personal link, `beteiligung:KEY`), the engine as vorgang.
pub(crate) fn actor_de(actor: &str, names: &HashMap<&str, Cow<'_, str>>) -> String {
    match actor.strip_prefix("beteiligung:") {
        Some(key) => format!(
            "{} (über den persönlichen Link)",
            names.get(key).map_or(key, AsRef::as_ref)
        ),
        // `engine::Actor::system`.
        None if actor == "system" => "vorgang (automatisch)".to_string(),
        None => actor.to_string(),
    }
}

/// One journal entry for the timeline, described in German; `names` are the organisations' by
/// key, `workflows` those it may name as started ([`case_links::workflows_of`]), by key.
pub(crate) fn journal_item(
    entry: &JournalEntry,
    definition: &crate::engine::definition::Definition,
    names: &HashMap<&str, Cow<'_, str>>,
    workflows: &BTreeMap<String, Arc<DeployedWorkflow>>,
) -> Value {
    let p = &entry.payload;
    let text = |key: &str| p.get(key).and_then(Value::as_str).unwrap_or("").to_string();
    let step = || title_of(definition, &text("step"));
    // The started workflow's title, its key where it is no longer deployed.
    let started_workflow = || {
        let key = text("workflow");
        workflows.get(&key).map_or(key, |w| w.title.clone())
    };
    // The invited organisation's name, and a day of the payload as `TT.MM.JJJJ`.
    let partner = || {
        let key = text("participant");
        names
            .get(key.as_str())
            .map_or(key.clone(), |name| name.to_string())
    };
    let day = |key: &str| {
        p.get(key)
            .and_then(Value::as_str)
            .and_then(crate::frist::parse_day)
            .map(|d| d.format("%d.%m.%Y").to_string())
    };
    // The reason a command gave, where it gave one: „{before}Grund: …{after}“.
    let grund = |before: &str, after: &str| {
        p.get("reason")
            .and_then(Value::as_str)
            .map(|r| format!("{before}Grund: {r}{after}"))
            .unwrap_or_default()
    };
    let description = match entry.kind.as_str() {
        "case_started" => match entry.payload.get("origin").and_then(Value::as_str) {
            Some(origin) => format!("Vorgang angelegt, gestartet aus Vorgang {origin}"),
            None => "Vorgang angelegt".to_string(),
        },
        "action_taken" => {
            let action = text("action");
            let title = match definition.steps.get(&text("step")) {
                Some(Step::Task(task)) => task
                    .actions
                    .get(&action)
                    .map_or(action.clone(), |a| a.title.clone()),
                _ => action,
            };
            format!("Aktion „{title}“ ausgeführt")
        }
        "data_changed" => {
            let fields: Vec<String> = p
                .get("patch")
                .and_then(Value::as_object)
                .map(|o| {
                    o.keys()
                        .map(|k| {
                            definition
                                .data
                                .get(k)
                                .map_or(k.clone(), |f| f.label.clone())
                        })
                        .collect()
                })
                .unwrap_or_default();
            format!("Daten geändert: {}", fields.join(", "))
        }
        "data_set" => {
            let path = text("path");
            let label = crate::engine::data::field_at(&definition.data, &path)
                .map_or(path.clone(), |field| field.label.clone());
            format!("Feld „{label}“ vom Verfahren gesetzt")
        }
        "answer_recorded" => {
            let name = partner();
            let votum = beteiligung::parse_votum(&text("votum"))
                .map(beteiligung::votum_de)
                .unwrap_or("");
            let version = p.get("version").and_then(Value::as_u64).unwrap_or(1);
            // One the office entered names the day it came, which decided whether it was in time.
            let received = day("received_on")
                .map(|day| format!("am {day} eingegangen, "))
                .unwrap_or_default();
            match (version > 1, received.is_empty()) {
                (true, _) => format!(
                    "Stellungnahme von {name} geändert (Fassung {version}, {received}Votum: {votum})"
                ),
                (false, true) => format!("Stellungnahme von {name} eingegangen (Votum: {votum})"),
                (false, false) => {
                    format!("Stellungnahme von {name} erfasst ({received}Votum: {votum})")
                }
            }
        }
        "consultation_opened" => {
            let deadline = p
                .get("deadline")
                .and_then(Value::as_str)
                .and_then(crate::frist::parse_day)
                .map(date_de)
                .unwrap_or_default();
            format!("Beteiligung „{}“ eröffnet, Frist bis {deadline}", step())
        }
        "deadline_extended" => {
            let name = partner();
            let reason = grund(" (", ")");
            format!(
                "Frist für {name} vom {} auf den {} verlängert{reason}",
                day("from").unwrap_or_default(),
                day("until").unwrap_or_default()
            )
        }
        "participant_added" => {
            let reason = grund("; ", "");
            format!(
                "{} nachträglich zur Beteiligung „{}“ eingeladen (Frist bis {}{reason})",
                partner(),
                step(),
                day("deadline").unwrap_or_default()
            )
        }
        "participant_withdrawn" => format!(
            "Beteiligung von {} an „{}“ zurückgenommen (Grund: {})",
            partner(),
            step(),
            text("reason")
        ),
        "not_responsible_reported" => format!(
            "{} teilt mit, nicht zuständig zu sein ({}: „{}“{})",
            partner(),
            text("name"),
            text("reason"),
            p.get("competent")
                .and_then(Value::as_str)
                .map(|c| format!(", zuständig sei: {c}"))
                .unwrap_or_default()
        ),
        "extension_request_refused" => format!(
            "Bitte von {} um Fristverlängerung bis {} abgelehnt (Begründung: {})",
            partner(),
            p.pointer("/asked/until")
                .and_then(Value::as_str)
                .and_then(crate::frist::parse_day)
                .map(date_de)
                .unwrap_or_default(),
            text("reason")
        ),
        "not_responsible_refused" => format!(
            "Mitteilung von {}, nicht zuständig zu sein, zurückgewiesen; die Beteiligung bleibt bestehen (Begründung: {})",
            partner(),
            text("reason")
        ),
        "extension_requested" => format!(
            "{} bittet um Fristverlängerung bis {} ({}: {})",
            partner(),
            day("until").unwrap_or_default(),
            text("name"),
            text("reason")
        ),
        "consultation_completed" => format!("Beteiligung „{}“ abgeschlossen", step()),
        "message_received" => format!(
            "Nachricht „{}“ eingegangen",
            definition.message_title(&text("message"))
        ),
        "step_entered" => format!("Schritt „{}“ begonnen", step()),
        "step_left" => format!("Schritt „{}“ beendet", step()),
        "decision_taken" => format!(
            "Entscheidung: weiter mit „{}“",
            title_of(definition, &text("to"))
        ),
        "parallel_started" => "Parallele Bearbeitung begonnen".to_string(),
        "join_completed" => "Parallele Bearbeitung zusammengeführt".to_string(),
        "timer_not_scheduled" => format!("Frist in „{}“ nicht geplant: das Datum fehlt", step()),
        "timer_fired" => {
            let purpose = p
                .get("purpose")
                .and_then(|purpose| purpose.get("kind"))
                .and_then(Value::as_str);
            match purpose {
                Some("consultation_reminder") => {
                    format!("Erinnerung vor Ablauf der Frist in „{}“ fällig", step())
                }
                Some("consultation_deadline") => format!("Frist in „{}“ abgelaufen", step()),
                Some("wait_over") => format!("Wartezeit in „{}“ abgelaufen", step()),
                _ => format!("Frist in „{}“ erreicht", step()),
            }
        }
        "escalated" => format!(
            "Fristüberschreitung in „{}“ an die Leitung gemeldet",
            step()
        ),
        "case_start_requested" => format!("Folgevorgang „{}“ angestoßen", started_workflow()),
        "case_start_omitted" => format!(
            "Folgevorgang „{}“ nicht erneut gestartet: dieser Schritt hat ihn bereits gestartet",
            started_workflow()
        ),
        "case_relocated" => {
            let to = title_of(definition, &text("to"));
            let from: Vec<String> = p
                .get("from")
                .and_then(Value::as_array)
                .map(|steps| {
                    steps
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|step| format!("„{}“", title_of(definition, step)))
                        .collect()
                })
                .unwrap_or_default();
            match p.get("reopened").and_then(Value::as_str) {
                Some(outcome) => format!(
                    "Bearbeitungsstand korrigiert: Der beendete Vorgang („{}“) läuft wieder, weiter bei „{to}“{}",
                    definition.outcome_title(outcome),
                    grund(" (", ")")
                ),
                None => format!(
                    "Bearbeitungsstand korrigiert: von {} zu „{to}“{}",
                    from.join(", "),
                    grund(" (", ")")
                ),
            }
        }
        "case_withdrawn" => format!(
            "Vorgang beendet: {}{}",
            definition.outcome_title(&text("outcome")),
            grund("; ", "")
        ),
        "case_completed" => format!(
            "Vorgang abgeschlossen (Ergebnis: {})",
            definition.outcome_title(&text("outcome"))
        ),
        cases::INVITATION_RESENT => "Einladung erneut gesendet".to_string(),
        notes::NOTE_ADDED if p.get(internal::WITHHELD).is_some() => {
            "Interner Vermerk einer anderen Stelle (nicht einsehbar)".to_string()
        }
        notes::NOTE_ADDED if p.get(internal::INTERNAL_TO).is_some() => {
            "Interner Vermerk (nur für die verfassende Stelle sichtbar)".to_string()
        }
        notes::NOTE_ADDED => "Vermerk".to_string(),
        crate::service::case_migration::WORKFLOW_VERSION_CHANGED => {
            // Renamed steps: the old name as it was, the new one with its title.
            let renamed = p
                .get(crate::service::case_migration::STEPS)
                .and_then(Value::as_object)
                .map(|steps| {
                    steps
                        .iter()
                        .map(|(old, new)| {
                            let new = new.as_str().unwrap_or_default();
                            format!("„{old}“ → „{}“", title_of(definition, new))
                        })
                        .collect::<Vec<_>>()
                })
                .filter(|renamed| !renamed.is_empty())
                .map(|renamed| format!("; Schritte zugeordnet: {}", renamed.join(", ")))
                .unwrap_or_default();
            format!(
                "Auf Version {} des Workflows umgestellt (vorher Version {}){renamed}",
                p.get("to").and_then(Value::as_i64).unwrap_or(0),
                p.get("from").and_then(Value::as_i64).unwrap_or(0)
            )
        }
        crate::service::case_file::EXPORTED => {
            let seq = p.get("journal_seq").and_then(Value::as_i64).unwrap_or(0);
            format!("Akte exportiert (ZIP-Archiv mit dem Journal bis Eintrag {seq})")
        }
        crate::service::documents::UPLOADED if p.get(internal::WITHHELD).is_some() => {
            "Internes Dokument einer anderen Stelle hinzugefügt (nicht einsehbar)".to_string()
        }
        crate::service::documents::UPLOADED => {
            let shared = p.get("partner_visible").and_then(Value::as_bool) == Some(true);
            let internal = p.get(internal::INTERNAL_TO).is_some();
            format!(
                "Dokument „{}“ hinzugefügt{}",
                text("filename"),
                if shared {
                    " (für Beteiligte sichtbar)"
                } else if internal {
                    " (intern, nur für die hochladende Stelle sichtbar)"
                } else {
                    ""
                }
            )
        }
        other => format!("Ereignis „{other}“"),
    };
    json!({
        "zeit": time_de(entry.at),
        "wer": actor_de(&entry.actor, names),
        "text": description,
        "vermerk": (entry.kind == notes::NOTE_ADDED && p.get(internal::WITHHELD).is_none()).then(|| text("text")),
        "nr": entry.seq,
    })
}

/// The journal entries of the commands after `submitted` (each command that changes the version
/// writes its entries with one timestamp, so the newest `current - submitted` timestamps of
/// such entries are the commands since).
pub(super) fn since(
    journal: &[JournalEntry],
    submitted: i64,
    current: i64,
    definition: &crate::engine::definition::Definition,
    names: &HashMap<&str, Cow<'_, str>>,
    workflows: &BTreeMap<String, Arc<DeployedWorkflow>>,
) -> Vec<Value> {
    let wanted = usize::try_from(current - submitted).unwrap_or(0);
    let versioned = || journal.iter().filter(|e| cases::changes_version(&e.kind));
    let mut stamps: Vec<NaiveDateTime> = versioned().map(|e| e.at).collect();
    stamps.dedup();
    let Some(first) = stamps.len().checked_sub(wanted).and_then(|i| stamps.get(i)) else {
        return Vec::new();
    };
    versioned()
        .filter(|e| e.at >= *first && wanted > 0)
        .filter(|e| !matches!(e.kind.as_str(), "step_entered" | "step_left"))
        .map(|e| journal_item(e, definition, names, workflows))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn started_cases_are_named_by_their_workflow_title_or_else_their_key() {
        let definition = crate::engine::load::parse_definition(
            "ki-antrag.yaml",
            include_str!("../../../../workflows/ki-antrag.yaml"),
        )
        .unwrap();
        let entry = |kind: &str| JournalEntry {
            id: 1,
            case_id: 1,
            seq: 9,
            at: NaiveDateTime::default(),
            actor: "system".into(),
            kind: kind.into(),
            payload: json!({"step": "bewilligt", "workflow": "ki-betrieb"}),
            prev_hash: String::new(),
            hash: String::new(),
        };
        let betrieb = crate::engine::load::parse_definition(
            "ki-betrieb.yaml",
            include_str!("../../../../workflows/ki-betrieb.yaml"),
        )
        .unwrap();
        let titles = BTreeMap::from([(
            "ki-betrieb".to_string(),
            Arc::new(DeployedWorkflow {
                id: crate::db::models::DefinitionId(2),
                version: 1,
                title: "Betrieb eines Kommunalen Integrationszentrums".into(),
                source: String::new(),
                workflow: crate::engine::Workflow::new(betrieb).unwrap(),
            }),
        )]);
        let line = |kind: &str, titles: &BTreeMap<String, Arc<DeployedWorkflow>>| {
            journal_item(&entry(kind), &definition, &HashMap::new(), titles)["text"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            line("case_start_requested", &titles),
            "Folgevorgang „Betrieb eines Kommunalen Integrationszentrums“ angestoßen"
        );
        assert_eq!(
            line("case_start_omitted", &titles),
            "Folgevorgang „Betrieb eines Kommunalen Integrationszentrums“ nicht erneut \
             gestartet: dieser Schritt hat ihn bereits gestartet"
        );
        // A workflow that is no longer deployed keeps its key.
        assert_eq!(
            line("case_start_requested", &BTreeMap::new()),
            "Folgevorgang „ki-betrieb“ angestoßen"
        );
    }

    #[test]
    fn partners_and_the_engine_are_named_users_by_their_address() {
        let names: HashMap<&str, Cow<'_, str>> =
            HashMap::from([("SCHULAMT-SO", Cow::from("Schulamt für den Kreis Soest"))]);
        assert_eq!(
            actor_de("beteiligung:SCHULAMT-SO", &names),
            "Schulamt für den Kreis Soest (über den persönlichen Link)"
        );
        assert_eq!(
            actor_de("beteiligung:UNBEKANNT", &names),
            "UNBEKANNT (über den persönlichen Link)"
        );
        assert_eq!(actor_de("system", &names), "vorgang (automatisch)");
        assert_eq!(actor_de("k@kreis-soest.de", &names), "k@kreis-soest.de");
    }
}
