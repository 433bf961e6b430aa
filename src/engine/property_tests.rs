//! Properties of the state machine over random event sequences, on fixed and generated definitions:
//! no panic, every scheduled timer cancelled when its step is left, joins fire once, determinism,
//! a consultation closing only after its deadlines, a partner invited to it once; among the
//! events, withdrawals of the whole case and an administrator's moves to any step.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::instance::{InvitationStatus, TimerPurpose, Votum};
use super::machine_tests::{clock, kreis, workflow};
use super::*;

/// Picks the next event from the state and a random number, like a very erratic user would.
pub(crate) fn choose_event(instance: &Instance, workflow: &Workflow, pick: u16) -> Event {
    let actor = Actor {
        id: "prop".into(),
        roles: vec!["koordination".into(), "bewilligung".into()],
    };
    let n = usize::from(pick);
    let data_pool = [
        json!({ "menge": 3 }),
        json!({ "menge": 12 }),
        json!({ "menge": 7, "name": "x" }),
        json!({ "beteiligte": ["A", "B"] }),
        json!({ "stichtag": "2026-05-01" }),
        json!({ "konzept": { "status": "beschlossen" } }),
        json!({ "menge": null }),
    ];
    match n % 10 {
        0..=3 => {
            let actions = available_actions(workflow, instance, &actor, &clock("2026-03-04"));
            match actions.get(n / 10 % actions.len().max(1)) {
                Some(a) => Event::Act {
                    token: a.token,
                    action: a.action.clone(),
                    actor,
                    data: (n % 3 == 0).then(|| data_pool[n / 7 % data_pool.len()].clone()),
                },
                None => Event::ChangeData {
                    actor,
                    data: data_pool[n % data_pool.len()].clone(),
                },
            }
        }
        4 | 5 => match instance.timers.get(n / 10 % instance.timers.len().max(1)) {
            Some(timer) => Event::TimerFired { timer: timer.id },
            None => Event::TimerFired {
                timer: LocalId(n as u64),
            },
        },
        6 => {
            let open: Vec<_> = instance
                .invitations
                .iter()
                .filter(|i| i.status == InvitationStatus::Open)
                .collect();
            let invitation = open
                .get(n / 10 % open.len().max(1))
                .map_or(LocalId(n as u64), |i| i.id);
            Event::Answer {
                invitation,
                answer: instance::Answer {
                    votum: [
                        Votum::Zustimmung,
                        Votum::Bedenken,
                        Votum::KeineStellungnahme,
                    ][n % 3],
                    text: String::new(),
                    answered_by: "x".into(),
                    attachment: None,
                    received_on: None,
                },
            }
        }
        7 => Event::Message {
            name: ["konzept_eingegangen", "weiter", "x"][n / 10 % 3].into(),
            actor,
            data: None,
        },
        8 => Event::ChangeData {
            actor,
            data: data_pool[n / 10 % data_pool.len()].clone(),
        },
        9 if n / 10 % 4 == 0 => {
            let invitation = instance
                .invitations
                .get(n / 20 % instance.invitations.len().max(1));
            Event::ExtendDeadline {
                invitation: invitation.map_or(LocalId(n as u64), |i| i.id),
                until: invitation.map_or(NaiveDate::MIN, |i| i.deadline)
                    + chrono::Days::new((n / 40 % 40) as u64),
                actor,
                reason: None,
            }
        }
        9 if n / 10 % 4 == 1 => {
            let steps: Vec<&str> = instance.tokens.iter().map(|t| t.step.as_str()).collect();
            Event::AddParticipant {
                step: steps
                    .get(n / 40 % steps.len().max(1))
                    .map_or("x".into(), |s| s.to_string()),
                participant: ["A", "B", "C", "D"][n / 160 % 4].into(),
                actor,
                reason: None,
            }
        }
        9 if n / 10 % 4 == 3 => {
            let invitation = instance
                .invitations
                .get(n / 40 % instance.invitations.len().max(1));
            Event::WithdrawParticipant {
                invitation: invitation.map_or(LocalId(n as u64), |i| i.id),
                actor,
                reason: "x".into(),
            }
        }
        // Any step of the definition, also those a case cannot be moved to.
        9 if n / 40 % 2 == 0 => {
            let steps: Vec<&String> = workflow.definition().steps.keys().collect();
            Event::Relocate {
                step: steps
                    .get(n / 80 % steps.len().max(1))
                    .map_or("x".into(), |s| s.to_string()),
                actor,
                reason: "x".into(),
            }
        }
        _ if n % 3 == 0 => Event::Withdraw {
            actor,
            reason: None,
        },
        _ => Event::Act {
            token: LocalId(n as u64 % 50),
            action: "gibtsnicht".into(),
            actor,
            data: Some(Value::Null),
        },
    }
}

/// Runs the sequence, checking invariants after every accepted event; returns the trace.
pub(crate) fn run_and_check(
    workflow: &Workflow,
    picks: &[u16],
) -> Vec<Result<Outcome, EngineError>> {
    let mut instance = Instance::new(workflow.key(), workflow.version(), kreis());
    let mut live_timers: BTreeSet<LocalId> = BTreeSet::new();
    let mut joins: HashMap<String, usize> = HashMap::new();
    let mut trace = Vec::new();
    let start = step(
        workflow,
        &instance,
        Event::Start {
            actor: Actor::system(),
            data: json!({ "menge": 3, "beteiligte": ["A"], "stichtag": "2026-06-01" }),
            origin: None,
        },
        &clock("2026-03-04"),
    );
    let events = std::iter::once(None).chain(picks.iter().map(Some));
    for (i, pick) in events.enumerate() {
        let result = match pick {
            None => start.clone(),
            Some(pick) => {
                let event = choose_event(&instance, workflow, *pick);
                let fired = match &event {
                    Event::TimerFired { timer } => Some(*timer),
                    _ => None,
                };
                let result = step(
                    workflow,
                    &instance,
                    event,
                    &clock(&format!("2026-{:02}-{:02}", 3 + i % 9, 1 + i % 28)),
                );
                if let (Ok(_), Some(timer)) = (&result, fired) {
                    assert!(
                        live_timers.remove(&timer),
                        "fired a timer that was not live"
                    );
                }
                result
            }
        };
        if let Ok(outcome) = &result {
            for effect in &outcome.effects {
                match effect {
                    SideEffect::ScheduleTimer { timer, .. } => assert!(live_timers.insert(*timer)),
                    SideEffect::CancelTimer { timer } => {
                        assert!(live_timers.remove(timer), "cancelled an unknown timer")
                    }
                    _ => {}
                }
            }
            for entry in &outcome.journal {
                if let JournalEntry::JoinCompleted { fork, .. } = entry {
                    *joins.entry(fork.to_string()).or_default() += 1;
                }
            }
            instance = outcome.instance.clone();
            let ids: BTreeSet<LocalId> = instance.timers.iter().map(|t| t.id).collect();
            assert_eq!(
                ids, live_timers,
                "timers in the state and in the effects disagree"
            );
            // A partner is invited to one consultation once.
            let invited: BTreeSet<(LocalId, &str)> = instance
                .invitations
                .iter()
                .map(|i| (i.token, i.participant.as_str()))
                .collect();
            assert_eq!(
                invited.len(),
                instance.invitations.len(),
                "a partner invited twice: {:?}",
                instance.invitations
            );
            // Nobody withdrawn is written to (reminders, the workflow's mails).
            for effect in &outcome.effects {
                if let SideEffect::SendMail {
                    to: MailTarget::Organisations { invitations },
                    ..
                } = effect
                {
                    assert!(
                        invitations.iter().all(|(id, _)| instance
                            .invitations
                            .iter()
                            .any(|i| i.id == *id && i.status != InvitationStatus::Withdrawn)),
                        "mail to a withdrawn partner: {effect:?}"
                    );
                }
            }
            for timer in &instance.timers {
                // A consultation closes the day after the latest deadline of the invitations
                // that count: not before one of them, not later for one withdrawn.
                if timer.purpose == TimerPurpose::ConsultationDeadline {
                    let latest = instance
                        .invitations
                        .iter()
                        .filter(|i| {
                            i.token == timer.token && i.status != InvitationStatus::Withdrawn
                        })
                        .map(|i| i.deadline)
                        .max();
                    assert_eq!(
                        latest.and_then(|day| day.succ_opt()),
                        Some(timer.due),
                        "the consultation does not close after its latest deadline: {timer:?}"
                    );
                }
                assert!(
                    instance
                        .tokens
                        .iter()
                        .any(|t| t.id == timer.token && t.step == timer.step),
                    "timer {timer:?} outlived its step"
                );
            }
            if instance.status != CaseStatus::Running {
                assert!(instance.tokens.is_empty() && instance.timers.is_empty());
                assert!(
                    instance
                        .invitations
                        .iter()
                        .all(|i| i.status != InvitationStatus::Open)
                );
            }
        }
        trace.push(result);
    }
    assert!(
        joins.values().all(|count| *count == 1),
        "a join fired twice: {joins:?}"
    );
    trace
}

/// A random but valid definition: a chain of blocks (task, decision, parallel, consultation, wait).
fn generated(blocks: &[u8]) -> Workflow {
    let mut steps = serde_json::Map::new();
    let name = |i: usize| {
        if i >= blocks.len() {
            "ende".to_string()
        } else {
            format!("b{i}")
        }
    };
    for (i, kind) in blocks.iter().enumerate() {
        let (this, next) = (name(i), name(i + 1));
        let back = name(i.saturating_sub(1));
        match kind % 5 {
            0 => {
                steps.insert(
                    this,
                    json!({ "type": "task", "title": "T", "role": "koordination", "actions": {
                    "weiter": { "title": "Weiter", "to": next },
                    "zurueck": { "title": "Zurück", "to": back } },
                    "timers": [ { "name": "t", "when": { "every": "P1W" } } ] }),
                );
            }
            1 => {
                steps.insert(
                    this,
                    json!({ "type": "decision", "title": "D",
                    "conditions": [ { "when": "has(data.menge) && data.menge > 5", "to": next } ],
                    "otherwise": name(i + 2) }),
                );
            }
            2 => {
                let join = format!("{this}_join");
                steps.insert(this.clone(), json!({ "type": "parallel", "title": "P", "branches": [format!("{this}_x"), format!("{this}_y")], "join": join }));
                steps.insert(format!("{this}_x"), json!({ "type": "task", "title": "X", "role": "koordination", "actions": { "ok": { "title": "OK", "to": join } } }));
                steps.insert(format!("{this}_y"), json!({ "type": "wait", "title": "Y", "until": { "message": "weiter" }, "next": join }));
                steps.insert(join, json!({ "type": "join", "title": "J", "next": next }));
            }
            3 => {
                steps.insert(this, json!({ "type": "consultation", "title": "C", "role": "koordination", "question": "?",
                    "participants": "data.beteiligte", "deadline": { "period": "P2W" }, "invitation": "e",
                    "remind": [ { "before": "P3D", "template": "r" } ], "next": next }));
            }
            _ => {
                steps.insert(this, json!({ "type": "wait", "title": "W", "until": { "date": "stichtag" }, "next": next,
                    "timers": [ { "name": "raus", "when": { "after": { "period": "P10D" } }, "to": next } ] }));
            }
        }
    }
    steps.insert(
        "ende".into(),
        json!({ "type": "end", "title": "Ende", "outcome": "fertig" }),
    );
    workflow(json!({
        "workflow": "generated", "title": "Generated",
        "roles": { "koordination": { "title": "K" }, "bewilligung": { "title": "B" } },
        "data": {
            "menge": { "type": "number", "label": "Menge" },
            "name": { "type": "text", "label": "Name" },
            "stichtag": { "type": "date", "label": "Stichtag" },
            "beteiligte": { "type": "organisations", "label": "Beteiligte" },
            "konzept": { "type": "group", "label": "Konzept", "fields": { "status": { "type": "text", "label": "S" } } }
        },
        "withdraw": { "roles": ["koordination"], "outcome": "zurueckgezogen" },
        "start": name(0),
        "steps": steps,
    }))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn generated_definitions_keep_every_invariant(
        blocks in prop::collection::vec(0u8..5, 1..7),
        picks in prop::collection::vec(any::<u16>(), 0..80),
    ) {
        let wf = generated(&blocks);
        let first = run_and_check(&wf, &picks);
        let second = run_and_check(&wf, &picks);
        prop_assert_eq!(first, second);
    }
}
