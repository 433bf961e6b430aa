//! Behaviour of the state machine, step type by step type: the workflows and helpers the tests
//! share are here, the tests in one submodule per topic.

use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};

use super::definition::Definition;
use super::instance::{InvitationStatus, StartedCase, TimerPurpose, Votum};
use super::outcome::CompletionReason;
use super::*;

mod consultation;
mod consultation_changes;
mod lifecycle;
mod tasks_and_gateways;
mod timers_and_messages;
mod windows_and_relocation;

pub(crate) fn workflow(definition: Value) -> Workflow {
    let definition: Definition = serde_json::from_value(definition).expect("test definition");
    Workflow::new(definition).expect("expressions compile")
}

pub(crate) fn clock(date: &str) -> Clock {
    let today = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    Clock {
        now: Utc.from_utc_datetime(&today.and_hms_opt(9, 0, 0).unwrap()),
        today,
        windows: Default::default(),
    }
}

pub(crate) fn kreis() -> Applicant {
    Applicant {
        key: "05154".into(),
        kind: "kreis".into(),
        name: "Kleve".into(),
    }
}

pub(crate) fn koordination() -> Actor {
    Actor {
        id: "anna@kreis-kleve.de".into(),
        roles: vec!["koordination".into()],
    }
}

fn started(workflow: &Workflow, data: Value, date: &str) -> Outcome {
    let instance = Instance::new(workflow.key(), workflow.version(), kreis());
    step(
        workflow,
        &instance,
        Event::Start {
            actor: koordination(),
            data,
            origin: None,
        },
        &clock(date),
    )
    .expect("start")
}

fn token_at(instance: &Instance, step_name: &str) -> LocalId {
    instance
        .active_steps()
        .find(|t| t.step == step_name)
        .unwrap_or_else(|| panic!("no token at {step_name}: {:?}", instance.tokens))
        .id
}

fn act(
    workflow: &Workflow,
    instance: &Instance,
    at: &str,
    action: &str,
) -> Result<Outcome, EngineError> {
    step(
        workflow,
        instance,
        Event::Act {
            token: token_at(instance, at),
            action: action.into(),
            actor: koordination(),
            data: None,
        },
        &clock("2026-03-04"),
    )
}

fn kinds(outcome: &Outcome) -> Vec<&str> {
    outcome.journal.iter().map(JournalEntry::kind).collect()
}

fn base(steps: Value) -> Value {
    json!({
        "workflow": "test",
        "title": "Test",
        "roles": { "koordination": { "title": "Koordination" }, "bewilligung": { "title": "Bewilligung" } },
        "data": {
            "name": { "type": "text", "label": "Name" },
            "menge": { "type": "number", "label": "Menge" },
            "stichtag": { "type": "date", "label": "Stichtag" },
            "beteiligte": { "type": "organisations", "label": "Beteiligte" },
            "konzept": { "type": "group", "label": "Konzept", "fields": {
                "status": { "type": "enum", "label": "Stand", "options": { "beschlossen": "Beschlossen", "offen": "Offen" } }
            } }
        },
        "withdraw": { "roles": ["koordination"], "outcome": "zurueckgezogen" },
        "start": "entwurf",
        "steps": steps,
    })
}

fn linear() -> Workflow {
    workflow(base(json!({
        "entwurf": { "type": "task", "title": "Entwurf", "role": "koordination", "actions": {
            "fertig": {
                "title": "Fertig", "to": "ende",
                "require": ["name", "konzept.status"],
                "guard": [ { "expr": "data.menge <= 6", "message": "Höchstens sechs." } ],
                "set": { "abgeschlossen_von": "koordination" }
            }
        } },
        "ende": { "type": "end", "title": "Ende", "outcome": "erledigt" }
    })))
}

fn branching() -> Workflow {
    workflow(base(json!({
        "entwurf": { "type": "task", "title": "Entwurf", "role": "koordination", "actions": {
            "weiter": { "title": "Weiter", "to": "pruefen" } } },
        "pruefen": { "type": "decision", "title": "Prüfen",
            "conditions": [
                { "when": "data.menge > 10", "to": "gross" },
                { "when": "data.menge > 5", "to": "mittel" } ],
            "otherwise": "klein" },
        "gross": { "type": "end", "title": "Groß", "outcome": "gross" },
        "mittel": { "type": "end", "title": "Mittel", "outcome": "mittel" },
        "klein": { "type": "end", "title": "Klein", "outcome": "klein" }
    })))
}

fn parallel() -> Workflow {
    workflow(base(json!({
        "entwurf": { "type": "task", "title": "Entwurf", "role": "koordination", "actions": {
            "verteilen": { "title": "Verteilen", "to": "verteilen" } } },
        "verteilen": { "type": "parallel", "title": "Verteilen", "branches": ["a", "b", "c"], "join": "sammeln" },
        "a": { "type": "task", "title": "A", "role": "koordination", "actions": { "ok": { "title": "OK", "to": "sammeln" } } },
        "b": { "type": "task", "title": "B", "role": "koordination", "actions": { "ok": { "title": "OK", "to": "sammeln" } } },
        "c": { "type": "task", "title": "C", "role": "koordination", "actions": {
            "ok": { "title": "OK", "to": "sammeln" },
            "nochmal": { "title": "Nochmal", "to": "c" } } },
        "sammeln": { "type": "join", "title": "Sammeln", "next": "abschluss" },
        "abschluss": { "type": "task", "title": "Abschluss", "role": "koordination", "actions": {
            "fertig": { "title": "Fertig", "to": "ende" } } },
        "ende": { "type": "end", "title": "Ende", "outcome": "erledigt" }
    })))
}

fn consultation(complete: &str) -> Workflow {
    workflow(base(json!({
        "entwurf": { "type": "task", "title": "Entwurf", "role": "koordination", "actions": {
            "beteiligen": { "title": "Beteiligen", "to": "beteiligung", "require": ["beteiligte"] } } },
        "beteiligung": {
            "type": "consultation", "title": "Beteiligung", "role": "koordination",
            "question": "Bitte nehmen Sie Stellung.",
            "participants": "data.beteiligte",
            "deadline": { "period": "P4W" },
            "complete": complete,
            "invitation": "beteiligung_einladung",
            "remind": [ { "before": "P1W", "template": "beteiligung_erinnerung" } ],
            "next": "auswertung" },
        "auswertung": { "type": "task", "title": "Auswertung", "role": "koordination", "actions": {
            "fertig": { "title": "Fertig", "to": "ende" } } },
        "ende": { "type": "end", "title": "Ende", "outcome": "erledigt" }
    })))
}

fn answer(votum: Votum) -> instance::Answer {
    instance::Answer {
        votum,
        text: "Keine Einwände.".into(),
        answered_by: "Dr. Meyer, Schulamt".into(),
        attachment: None,
        received_on: None,
    }
}

/// `consultation(complete)` with partners A and B invited on 2026-03-04: the workflow and the
/// outcome of starting the Beteiligung.
fn opened_consultation(complete: &str) -> (Workflow, Outcome) {
    let wf = consultation(complete);
    let start = started(&wf, json!({ "beteiligte": ["A", "B"] }), "2026-03-04");
    let opened = act(&wf, &start.instance, "entwurf", "beteiligen").unwrap();
    (wf, opened)
}

/// `invitation` answered with `answer`, entered on `day`.
fn give_answer(
    workflow: &Workflow,
    instance: &Instance,
    invitation: LocalId,
    answer: instance::Answer,
    day: &str,
) -> Result<Outcome, EngineError> {
    step(
        workflow,
        instance,
        Event::Answer { invitation, answer },
        &clock(day),
    )
}

/// `timer` fired on `day`.
fn fire(workflow: &Workflow, instance: &Instance, timer: LocalId, day: &str) -> Outcome {
    step(workflow, instance, Event::TimerFired { timer }, &clock(day)).expect("timer fires")
}

/// The timer that closes a running consultation at its deadline.
fn closing_timer(instance: &Instance) -> &instance::TimerState {
    instance
        .timers
        .iter()
        .find(|t| t.purpose == TimerPurpose::ConsultationDeadline)
        .expect("a consultation deadline timer")
}

/// A Stellungnahme that reached the office on `day` and is entered later.
fn received(votum: Votum, day: &str) -> instance::Answer {
    instance::Answer {
        received_on: Some(day.parse().unwrap()),
        ..answer(votum)
    }
}

fn timers_and_waits() -> Workflow {
    workflow(base(json!({
        "entwurf": { "type": "task", "title": "Entwurf", "role": "koordination",
            "actions": { "weiter": { "title": "Weiter", "to": "warten" } },
            "timers": [
                { "name": "erinnerung", "when": { "before": { "deadline": { "period": "P6M", "art": "beginn", "from": "stichtag" }, "before": "P1M" } },
                  "effects": [ { "mail": { "template": "frist_erinnerung", "to": { "role": "koordination" } } } ] },
                { "name": "woechentlich", "when": { "every": "P1W" },
                  "effects": [ { "mail": { "template": "frist_erinnerung", "to": "applicant" } } ] },
                { "name": "ueberfaellig", "when": { "after": { "period": "P6M", "art": "beginn", "from": "stichtag" } },
                  "to": "eskalation",
                  "effects": [ { "escalate": { "template": "frist_ueberschritten", "to": { "role": "bewilligung" } } } ] }
            ] },
        "eskalation": { "type": "task", "title": "Eskalation", "role": "koordination", "actions": {
            "weiter": { "title": "Weiter", "to": "warten" } } },
        "warten": { "type": "wait", "title": "Warten", "until": { "message": "konzept_eingegangen" }, "next": "bis_stichtag" },
        "bis_stichtag": { "type": "wait", "title": "Bis Stichtag", "until": { "date": "stichtag" }, "next": "ende" },
        "ende": { "type": "end", "title": "Ende", "outcome": "erledigt" }
    })))
}
