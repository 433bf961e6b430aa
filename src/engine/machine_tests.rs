//! Behaviour of the state machine, step type by step type.

use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};

use super::definition::Definition;
use super::instance::{InvitationStatus, StartedCase, TimerPurpose, Votum};
use super::outcome::CompletionReason;
use super::*;

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

#[test]
fn a_task_waits_for_its_action_and_the_case_completes_at_the_end() {
    let wf = linear();
    let start = started(
        &wf,
        json!({ "name": "x", "menge": 3, "konzept": { "status": "offen" } }),
        "2026-03-04",
    );
    assert_eq!(start.instance.status, CaseStatus::Running);
    assert_eq!(kinds(&start), ["case_started", "step_entered"]);
    let done = act(&wf, &start.instance, "entwurf", "fertig").unwrap();
    assert_eq!(done.instance.status, CaseStatus::Completed);
    assert_eq!(done.instance.outcome.as_deref(), Some("erledigt"));
    assert!(done.instance.tokens.is_empty());
    assert_eq!(done.instance.data["abgeschlossen_von"], "koordination");
    assert_eq!(
        done.effects.last(),
        Some(&SideEffect::Finished {
            outcome: "erledigt".into()
        })
    );
    assert!(kinds(&done).contains(&"action_taken"));
}

#[test]
fn a_refused_action_names_every_reason_and_changes_nothing() {
    let wf = linear();
    let start = started(&wf, json!({ "menge": 9 }), "2026-03-04");
    let outsider = Actor {
        id: "x".into(),
        roles: vec!["bewilligung".into()],
    };
    let before = start.instance.clone();
    let error = step(
        &wf,
        &start.instance,
        Event::Act {
            token: token_at(&start.instance, "entwurf"),
            action: "fertig".into(),
            actor: outsider,
            data: None,
        },
        &clock("2026-03-04"),
    )
    .unwrap_err();
    let EngineError::Refused { reasons } = error else {
        panic!("{error:?}")
    };
    assert!(
        matches!(&reasons[0], Refusal::RoleNotAllowed { role, message } if role == "koordination" && message.contains("Koordination"))
    );
    assert!(
        matches!(&reasons[1], Refusal::MissingData { paths, message }
        if paths == &["name", "konzept.status"] && message == "Bitte ergänzen Sie: Name, Stand.")
    );
    assert!(
        matches!(&reasons[2], Refusal::GuardFalse { message, .. } if message == "Höchstens sechs.")
    );
    assert_eq!(start.instance, before);
}

#[test]
fn invalid_required_values_count_as_missing_and_unknown_actions_are_refused() {
    let wf = linear();
    let start = started(
        &wf,
        json!({ "name": "x", "menge": 1, "konzept": { "status": "erfunden" } }),
        "2026-03-04",
    );
    let EngineError::Refused { reasons } =
        act(&wf, &start.instance, "entwurf", "fertig").unwrap_err()
    else {
        panic!()
    };
    assert!(
        matches!(&reasons[0], Refusal::MissingData { paths, .. } if paths == &["konzept.status"])
    );
    let EngineError::Refused { reasons } =
        act(&wf, &start.instance, "entwurf", "gibtsnicht").unwrap_err()
    else {
        panic!()
    };
    assert!(matches!(&reasons[0], Refusal::NotAvailable { .. }));
}

#[test]
fn data_sent_with_an_action_is_applied_before_the_checks() {
    let wf = linear();
    let start = started(&wf, json!({}), "2026-03-04");
    let done = step(
        &wf,
        &start.instance,
        Event::Act {
            token: token_at(&start.instance, "entwurf"),
            action: "fertig".into(),
            actor: koordination(),
            data: Some(json!({ "name": "x", "menge": 1, "konzept": { "status": "offen" } })),
        },
        &clock("2026-03-04"),
    )
    .unwrap();
    assert_eq!(done.instance.status, CaseStatus::Completed);
    assert_eq!(kinds(&done)[0], "data_changed");
}

#[test]
fn available_actions_explain_themselves() {
    let wf = linear();
    let start = started(&wf, json!({ "menge": 1 }), "2026-03-04");
    let actions = available_actions(&wf, &start.instance, &koordination(), &clock("2026-03-04"));
    assert_eq!(actions.len(), 1);
    assert!(!actions[0].allowed);
    assert_eq!(actions[0].title, "Fertig");
    assert_eq!(actions[0].reasons.len(), 1);
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

#[test]
fn a_decision_takes_the_first_condition_that_holds_else_otherwise() {
    let wf = branching();
    for (menge, outcome) in [
        (20, "gross"),
        (11, "gross"),
        (6, "mittel"),
        (5, "klein"),
        (0, "klein"),
    ] {
        let start = started(&wf, json!({ "menge": menge }), "2026-03-04");
        let done = act(&wf, &start.instance, "entwurf", "weiter").unwrap();
        assert_eq!(
            done.instance.outcome.as_deref(),
            Some(outcome),
            "menge {menge}"
        );
    }
}

#[test]
fn a_decision_that_cannot_be_evaluated_refuses_the_event() {
    let wf = branching();
    let start = started(&wf, json!({}), "2026-03-04");
    let error = act(&wf, &start.instance, "entwurf", "weiter").unwrap_err();
    assert!(
        matches!(error, EngineError::Expression { ref step, .. } if step == "pruefen"),
        "{error:?}"
    );
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

#[test]
fn a_join_waits_for_every_branch_and_fires_once() {
    let wf = parallel();
    let start = started(&wf, json!({}), "2026-03-04");
    let forked = act(&wf, &start.instance, "entwurf", "verteilen").unwrap();
    let active: Vec<&str> = forked
        .instance
        .active_steps()
        .map(|t| t.step.as_str())
        .collect();
    assert_eq!(active, ["a", "b", "c"]);
    let after_a = act(&wf, &forked.instance, "a", "ok").unwrap();
    let after_c_loop = act(&wf, &after_a.instance, "c", "nochmal").unwrap();
    let after_c = act(&wf, &after_c_loop.instance, "c", "ok").unwrap();
    assert!(!kinds(&after_c).contains(&"join_completed"));
    assert_eq!(
        after_c
            .instance
            .active_steps()
            .map(|t| t.step.as_str())
            .collect::<Vec<_>>(),
        ["b"]
    );
    let joined = act(&wf, &after_c.instance, "b", "ok").unwrap();
    assert_eq!(
        kinds(&joined)
            .iter()
            .filter(|k| **k == "join_completed")
            .count(),
        1
    );
    let tokens: Vec<&str> = joined
        .instance
        .tokens
        .iter()
        .map(|t| t.step.as_str())
        .collect();
    assert_eq!(tokens, ["abschluss"]);
    assert!(joined.instance.tokens[0].forks.is_empty());
    let done = act(&wf, &joined.instance, "abschluss", "fertig").unwrap();
    assert_eq!(done.instance.status, CaseStatus::Completed);
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

/// A Stellungnahme that reached the office on `day` and is entered later.
fn received(votum: Votum, day: &str) -> instance::Answer {
    instance::Answer {
        received_on: Some(day.parse().unwrap()),
        ..answer(votum)
    }
}

#[test]
fn a_consultation_invites_each_participant_with_a_legal_deadline() {
    let wf = consultation("all_answered");
    // FRISTEN.md example 1: four weeks from Wednesday 04.03.2026 end on Wednesday 01.04.2026.
    let start = started(
        &wf,
        json!({ "beteiligte": ["SCHULAMT-KLE", "JUGENDAMT-KLE", "SCHULAMT-KLE"] }),
        "2026-03-04",
    );
    let opened = act(&wf, &start.instance, "entwurf", "beteiligen").unwrap();
    let invites: Vec<_> = opened
        .effects
        .iter()
        .filter_map(|e| match e {
            SideEffect::Invite {
                participant,
                deadline,
                template,
                ..
            } => Some((participant.as_str(), *deadline, template.as_str())),
            _ => None,
        })
        .collect();
    let deadline = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
    assert_eq!(
        invites,
        [
            ("SCHULAMT-KLE", deadline, "beteiligung_einladung"),
            ("JUGENDAMT-KLE", deadline, "beteiligung_einladung")
        ]
    );
    let timers: Vec<(&TimerPurpose, NaiveDate)> = opened
        .instance
        .timers
        .iter()
        .map(|t| (&t.purpose, t.due))
        .collect();
    assert_eq!(
        timers,
        [
            (
                &TimerPurpose::ConsultationDeadline,
                NaiveDate::from_ymd_opt(2026, 4, 2).unwrap()
            ),
            (
                &TimerPurpose::ConsultationReminder {
                    index: 0,
                    invitation: None
                },
                NaiveDate::from_ymd_opt(2026, 3, 25).unwrap()
            ),
        ]
    );
}

#[test]
fn all_answers_complete_the_consultation_and_cancel_its_timers() {
    let wf = consultation("all_answered");
    let start = started(&wf, json!({ "beteiligte": ["A", "B"] }), "2026-03-04");
    let opened = act(&wf, &start.instance, "entwurf", "beteiligen").unwrap();
    let ids: Vec<LocalId> = opened.instance.invitations.iter().map(|i| i.id).collect();
    let first = step(
        &wf,
        &opened.instance,
        Event::Answer {
            invitation: ids[0],
            answer: answer(Votum::Zustimmung),
        },
        &clock("2026-03-10"),
    )
    .unwrap();
    assert_eq!(
        token_at(&first.instance, "beteiligung"),
        token_at(&opened.instance, "beteiligung")
    );
    // Amending before the deadline keeps the step open and counts the version.
    let amended = step(
        &wf,
        &first.instance,
        Event::Answer {
            invitation: ids[0],
            answer: answer(Votum::Bedenken),
        },
        &clock("2026-03-10"),
    )
    .unwrap();
    token_at(&amended.instance, "beteiligung");
    assert!(matches!(
        &amended.instance.invitations[0].status,
        InvitationStatus::Answered { version: 2, late: false, answer, .. } if answer.votum == Votum::Bedenken
    ));
    assert!(matches!(
        amended.journal.as_slice(),
        [JournalEntry::AnswerRecorded {
            version: 2,
            late: false,
            ..
        }]
    ));
    let second = step(
        &wf,
        &first.instance,
        Event::Answer {
            invitation: ids[1],
            answer: answer(Votum::Bedenken),
        },
        &clock("2026-03-11"),
    )
    .unwrap();
    token_at(&second.instance, "auswertung");
    assert!(second.instance.timers.is_empty());
    // Once the consultation is over, answers are no longer amended.
    let after = step(
        &wf,
        &second.instance,
        Event::Answer {
            invitation: ids[0],
            answer: answer(Votum::Zustimmung),
        },
        &clock("2026-03-12"),
    );
    assert_eq!(after.unwrap_err(), EngineError::InvitationClosed(ids[0]));
    let cancelled = second
        .effects
        .iter()
        .filter(|e| matches!(e, SideEffect::CancelTimer { .. }))
        .count();
    assert_eq!(cancelled, 2);
    let closed = second
        .effects
        .iter()
        .filter(|e| matches!(e, SideEffect::CloseInvitation { .. }))
        .count();
    assert_eq!(closed, 2);
}

#[test]
fn the_deadline_closes_the_consultation_and_unanswered_invitations_expire() {
    let wf = consultation("deadline");
    let start = started(&wf, json!({ "beteiligte": ["A", "B"] }), "2026-03-04");
    let opened = act(&wf, &start.instance, "entwurf", "beteiligen").unwrap();
    let ids: Vec<LocalId> = opened.instance.invitations.iter().map(|i| i.id).collect();
    let mut state = opened.instance;
    for id in &ids {
        // With complete: deadline, even all answers keep the step open until the deadline.
        state = step(
            &wf,
            &state,
            Event::Answer {
                invitation: *id,
                answer: answer(Votum::Zustimmung),
            },
            &clock("2026-03-05"),
        )
        .unwrap()
        .instance;
        if *id == ids[0] {
            break;
        }
    }
    token_at(&state, "beteiligung");
    let reminder = state
        .timers
        .iter()
        .find(|t| matches!(t.purpose, TimerPurpose::ConsultationReminder { .. }))
        .unwrap()
        .id;
    let reminded = step(
        &wf,
        &state,
        Event::TimerFired { timer: reminder },
        &clock("2026-03-25"),
    )
    .unwrap();
    let mails: Vec<_> = reminded
        .effects
        .iter()
        .filter_map(|e| match e {
            SideEffect::SendMail {
                template,
                to: MailTarget::Organisations { invitations },
                ..
            } => Some((template.clone(), invitations.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        mails,
        [(
            "beteiligung_erinnerung".to_string(),
            vec![(ids[1], "B".to_string())]
        )]
    );
    let deadline = reminded
        .instance
        .timers
        .iter()
        .find(|t| t.purpose == TimerPurpose::ConsultationDeadline)
        .unwrap()
        .id;
    let closed = step(
        &wf,
        &reminded.instance,
        Event::TimerFired { timer: deadline },
        &clock("2026-04-02"),
    )
    .unwrap();
    token_at(&closed.instance, "auswertung");
    assert!(matches!(
        closed.instance.invitations[0].status,
        InvitationStatus::Answered { .. }
    ));
    assert_eq!(
        closed.instance.invitations[1].status,
        InvitationStatus::Expired
    );
    let late = step(
        &wf,
        &closed.instance,
        Event::Answer {
            invitation: ids[1],
            answer: answer(Votum::Zustimmung),
        },
        &clock("2026-04-03"),
    );
    assert_eq!(
        late.unwrap_err(),
        EngineError::DeadlinePassed("01.04.2026".into())
    );
}

#[test]
fn late_answers_are_recorded_as_late_where_the_workflow_accepts_them() {
    let mut definition = consultation("deadline").definition().clone();
    if let Some(super::definition::Step::Consultation(c)) = definition.steps.get_mut("beteiligung")
    {
        c.late_answers = true;
    }
    let wf = Workflow::new(definition).unwrap();
    let start = started(&wf, json!({ "beteiligte": ["A"] }), "2026-03-04");
    let opened = act(&wf, &start.instance, "entwurf", "beteiligen").unwrap();
    let id = opened.instance.invitations[0].id;
    let deadline = opened.instance.timers[0].id;
    let closed = step(
        &wf,
        &opened.instance,
        Event::TimerFired { timer: deadline },
        &clock("2026-04-02"),
    )
    .unwrap();
    token_at(&closed.instance, "auswertung");
    let late = step(
        &wf,
        &closed.instance,
        Event::Answer {
            invitation: id,
            answer: answer(Votum::Bedenken),
        },
        &clock("2026-04-03"),
    )
    .unwrap();
    assert!(matches!(
        late.journal.as_slice(),
        [JournalEntry::AnswerRecorded {
            version: 1,
            late: true,
            ..
        }]
    ));
    token_at(&late.instance, "auswertung");
}

#[test]
fn an_open_invitation_past_its_deadline_is_refused_without_late_answers() {
    let wf = consultation("all_answered");
    let start = started(&wf, json!({ "beteiligte": ["A", "B"] }), "2026-03-04");
    let opened = act(&wf, &start.instance, "entwurf", "beteiligen").unwrap();
    let id = opened.instance.invitations[0].id;
    // The deadline timer has not fired yet, but the deadline (01.04.2026) has passed.
    let refused = step(
        &wf,
        &opened.instance,
        Event::Answer {
            invitation: id,
            answer: answer(Votum::Zustimmung),
        },
        &clock("2026-04-02"),
    );
    assert_eq!(
        refused.unwrap_err(),
        EngineError::DeadlinePassed("01.04.2026".into())
    );
}

#[test]
fn a_stellungnahme_that_reached_the_office_in_time_counts_as_in_time_when_entered_later() {
    let wf = consultation("all_answered");
    let start = started(&wf, json!({ "beteiligte": ["A", "B"] }), "2026-03-04");
    let opened = act(&wf, &start.instance, "entwurf", "beteiligen").unwrap();
    let ids: Vec<_> = opened.instance.invitations.iter().map(|i| i.id).collect();
    // A letter that arrived on the last day (01.04.2026), entered the next morning.
    let first = step(
        &wf,
        &opened.instance,
        Event::Answer {
            invitation: ids[0],
            answer: received(Votum::Zustimmung, "2026-04-01"),
        },
        &clock("2026-04-02"),
    )
    .unwrap();
    assert!(matches!(
        first.journal.as_slice(),
        [JournalEntry::AnswerRecorded { version: 1, late: false, received_on: Some(day), .. }]
            if day.to_string() == "2026-04-01"
    ));
    // One that arrived a day late is refused like a late answer through the link.
    let refused = step(
        &wf,
        &first.instance,
        Event::Answer {
            invitation: ids[1],
            answer: received(Votum::Zustimmung, "2026-04-02"),
        },
        &clock("2026-04-02"),
    );
    assert_eq!(
        refused.unwrap_err(),
        EngineError::DeadlinePassed("01.04.2026".into())
    );
    // The last answer in time completes the consultation as usual.
    let second = step(
        &wf,
        &first.instance,
        Event::Answer {
            invitation: ids[1],
            answer: received(Votum::Bedenken, "2026-03-31"),
        },
        &clock("2026-04-02"),
    )
    .unwrap();
    token_at(&second.instance, "auswertung");
}

#[test]
fn a_stellungnahme_that_reached_the_office_in_time_is_taken_after_the_consultation_closed() {
    let wf = consultation("deadline");
    let start = started(&wf, json!({ "beteiligte": ["A"] }), "2026-03-04");
    let opened = act(&wf, &start.instance, "entwurf", "beteiligen").unwrap();
    let id = opened.instance.invitations[0].id;
    let deadline = opened.instance.timers[0].id;
    let closed = step(
        &wf,
        &opened.instance,
        Event::TimerFired { timer: deadline },
        &clock("2026-04-02"),
    )
    .unwrap();
    assert_eq!(
        closed.instance.invitations[0].status,
        InvitationStatus::Expired
    );
    // Through the link it is too late, and so is a letter that came after the deadline, or a
    // day of receipt in the future (counted as today).
    for late in [
        answer(Votum::Zustimmung),
        received(Votum::Zustimmung, "2026-04-02"),
        received(Votum::Zustimmung, "2026-04-09"),
    ] {
        let refused = step(
            &wf,
            &closed.instance,
            Event::Answer {
                invitation: id,
                answer: late,
            },
            &clock("2026-04-03"),
        );
        assert_eq!(
            refused.unwrap_err(),
            EngineError::DeadlinePassed("01.04.2026".into())
        );
    }
    let entered = step(
        &wf,
        &closed.instance,
        Event::Answer {
            invitation: id,
            answer: received(Votum::Bedenken, "2026-04-01"),
        },
        &clock("2026-04-03"),
    )
    .unwrap();
    assert!(matches!(
        &entered.instance.invitations[0].status,
        InvitationStatus::Answered { version: 1, late: false, answer, .. }
            if answer.received_on.map(|d| d.to_string()).as_deref() == Some("2026-04-01")
    ));
    // The step had moved on and stays where it is.
    token_at(&entered.instance, "auswertung");
    assert!(
        entered
            .journal
            .iter()
            .all(|e| matches!(e, JournalEntry::AnswerRecorded { .. }))
    );
}

fn extend(
    wf: &Workflow,
    instance: &Instance,
    invitation: LocalId,
    until: &str,
    today: &str,
) -> Result<Outcome, EngineError> {
    step(
        wf,
        instance,
        Event::ExtendDeadline {
            invitation,
            until: until.parse().unwrap(),
            actor: koordination(),
            reason: Some("Ausschuss tagt am 14.04.".into()),
        },
        &clock(today),
    )
}

#[test]
fn an_extended_deadline_moves_the_partner_and_the_consultations_closing() {
    let wf = consultation("all_answered");
    let start = started(&wf, json!({ "beteiligte": ["A", "B"] }), "2026-03-04");
    let opened = act(&wf, &start.instance, "entwurf", "beteiligen").unwrap();
    let ids: Vec<_> = opened.instance.invitations.iter().map(|i| i.id).collect();
    let old_timer = opened
        .instance
        .timers
        .iter()
        .find(|t| t.purpose == TimerPurpose::ConsultationDeadline)
        .unwrap()
        .clone();
    assert_eq!(old_timer.due.to_string(), "2026-04-02");
    // A asks for two more weeks: its deadline 01.04.2026 becomes Wednesday 15.04.2026.
    let extended = extend(&wf, &opened.instance, ids[0], "2026-04-15", "2026-03-20").unwrap();
    assert_eq!(
        extended.instance.invitations[0].deadline.to_string(),
        "2026-04-15"
    );
    assert_eq!(
        extended.instance.invitations[1].deadline.to_string(),
        "2026-04-01"
    );
    assert!(matches!(
        extended.journal.as_slice(),
        [JournalEntry::DeadlineExtended { from, until, reason: Some(_), .. }]
            if from.to_string() == "2026-04-01" && until.to_string() == "2026-04-15"
    ));
    let new_timer = extended
        .instance
        .timers
        .iter()
        .find(|t| t.purpose == TimerPurpose::ConsultationDeadline)
        .unwrap()
        .clone();
    assert_eq!(new_timer.due.to_string(), "2026-04-16");
    assert!(extended.effects.contains(&SideEffect::CancelTimer {
        timer: old_timer.id
    }));
    assert!(extended.effects.iter().any(|e| matches!(e,
        SideEffect::ExtendInvitation { invitation, deadline } if *invitation == ids[0] && deadline.to_string() == "2026-04-15")));
    // The old closing is gone; B's own deadline still holds for B.
    assert_eq!(
        step(
            &wf,
            &extended.instance,
            Event::TimerFired {
                timer: old_timer.id
            },
            &clock("2026-04-02")
        )
        .unwrap_err(),
        EngineError::UnknownTimer(old_timer.id)
    );
    let b_late = step(
        &wf,
        &extended.instance,
        Event::Answer {
            invitation: ids[1],
            answer: answer(Votum::Zustimmung),
        },
        &clock("2026-04-02"),
    );
    assert_eq!(
        b_late.unwrap_err(),
        EngineError::DeadlinePassed("01.04.2026".into())
    );
    // A answers in time after the old deadline; the consultation closes at the new one.
    let a = step(
        &wf,
        &extended.instance,
        Event::Answer {
            invitation: ids[0],
            answer: answer(Votum::Bedenken),
        },
        &clock("2026-04-10"),
    )
    .unwrap();
    assert!(matches!(
        a.journal.as_slice(),
        [JournalEntry::AnswerRecorded { late: false, .. }]
    ));
    token_at(&a.instance, "beteiligung");
    let closed = step(
        &wf,
        &a.instance,
        Event::TimerFired {
            timer: new_timer.id,
        },
        &clock("2026-04-16"),
    )
    .unwrap();
    token_at(&closed.instance, "auswertung");
    assert_eq!(
        closed.instance.invitations[1].status,
        InvitationStatus::Expired
    );
    // An extension shorter than A's leaves the closing where it is.
    let both = extend(&wf, &extended.instance, ids[1], "2026-04-08", "2026-03-20").unwrap();
    assert!(!both.effects.contains(&SideEffect::CancelTimer {
        timer: new_timer.id
    }));
    assert!(both.instance.timers.iter().any(|t| t.id == new_timer.id));
    // Reminders: the consultation's one (25.03.) reaches B only; A gets its own a week before
    // its new deadline.
    let reminded = |instance: &Instance, purpose: &TimerPurpose, day: &str| {
        let timer = instance
            .timers
            .iter()
            .find(|t| &t.purpose == purpose)
            .unwrap_or_else(|| panic!("{purpose:?}: {:?}", instance.timers));
        assert_eq!(timer.due.to_string(), day);
        let fired = step(
            &wf,
            instance,
            Event::TimerFired { timer: timer.id },
            &clock(day),
        )
        .unwrap();
        fired.effects.iter().find_map(|e| match e {
            SideEffect::SendMail {
                to: MailTarget::Organisations { invitations },
                reminder: true,
                ..
            } => Some(invitations.iter().map(|(id, _)| *id).collect::<Vec<_>>()),
            _ => None,
        })
    };
    let general = TimerPurpose::ConsultationReminder {
        index: 0,
        invitation: None,
    };
    let own = TimerPurpose::ConsultationReminder {
        index: 0,
        invitation: Some(ids[0]),
    };
    assert_eq!(
        reminded(&extended.instance, &general, "2026-03-25"),
        Some(vec![ids[1]])
    );
    assert_eq!(
        reminded(&extended.instance, &own, "2026-04-08"),
        Some(vec![ids[0]])
    );
    // A second extension replaces A's own reminder.
    let again = extend(&wf, &extended.instance, ids[0], "2026-04-22", "2026-03-21").unwrap();
    let own_timers: Vec<_> = again
        .instance
        .timers
        .iter()
        .filter(|t| t.purpose == own)
        .collect();
    assert_eq!(own_timers.len(), 1, "{:?}", again.instance.timers);
    assert_eq!(own_timers[0].due.to_string(), "2026-04-15");
}

#[test]
fn a_deadline_is_extended_only_to_a_later_working_day_of_a_running_consultation() {
    let wf = consultation("deadline");
    let start = started(&wf, json!({ "beteiligte": ["A", "B"] }), "2026-03-04");
    let opened = act(&wf, &start.instance, "entwurf", "beteiligen").unwrap();
    let ids: Vec<_> = opened.instance.invitations.iter().map(|i| i.id).collect();
    for (until, today, message) in [
        (
            "2026-04-01",
            "2026-03-20",
            "nach der bisherigen enden (bisher: 01.04.2026)",
        ),
        ("2026-03-25", "2026-03-20", "nach der bisherigen"),
        (
            "2026-04-04",
            "2026-03-20",
            "Der 04.04.2026 ist kein Werktag (Samstag)",
        ),
        (
            "2026-04-06",
            "2026-03-20",
            "Der 06.04.2026 ist kein Werktag (Ostermontag)",
        ),
        ("2027-03-22", "2026-03-20", "mehr als ein Jahr"),
        ("2026-04-02", "2026-04-03", "in der Vergangenheit"),
    ] {
        match extend(&wf, &opened.instance, ids[0], until, today) {
            Err(EngineError::DeadlineExtension(text)) => {
                assert!(text.contains(message), "{until}: {text}")
            }
            other => panic!("{until}: {other:?}"),
        }
    }
    // Retroactively, after the deadline but before the consultation closed: allowed.
    let late = extend(&wf, &opened.instance, ids[0], "2026-04-08", "2026-04-02").unwrap();
    assert_eq!(
        late.instance.invitations[0].deadline.to_string(),
        "2026-04-08"
    );
    // Once the consultation has closed, nothing is extended.
    let deadline = opened
        .instance
        .timers
        .iter()
        .find(|t| t.purpose == TimerPurpose::ConsultationDeadline)
        .unwrap()
        .id;
    let closed = step(
        &wf,
        &opened.instance,
        Event::TimerFired { timer: deadline },
        &clock("2026-04-02"),
    )
    .unwrap();
    assert_eq!(
        extend(&wf, &closed.instance, ids[0], "2026-04-08", "2026-04-02").unwrap_err(),
        EngineError::InvitationClosed(ids[0])
    );
}

fn add(
    wf: &Workflow,
    instance: &Instance,
    participant: &str,
    today: &str,
) -> Result<Outcome, EngineError> {
    step(
        wf,
        instance,
        Event::AddParticipant {
            step: "beteiligung".into(),
            participant: participant.into(),
            actor: koordination(),
            reason: Some("Integrationsrat vergessen".into()),
        },
        &clock(today),
    )
}

/// Who a fired reminder timer of `purpose`, due on `day`, writes to.
fn reminded(wf: &Workflow, instance: &Instance, purpose: &TimerPurpose, day: &str) -> Vec<String> {
    let timer = instance
        .timers
        .iter()
        .find(|t| &t.purpose == purpose && t.due.to_string() == day)
        .unwrap_or_else(|| panic!("{purpose:?} on {day}: {:?}", instance.timers));
    let fired = step(
        wf,
        instance,
        Event::TimerFired { timer: timer.id },
        &clock(day),
    )
    .unwrap();
    fired
        .effects
        .iter()
        .find_map(|e| match e {
            SideEffect::SendMail {
                to: MailTarget::Organisations { invitations },
                reminder: true,
                ..
            } => Some(invitations.iter().map(|(_, p)| p.clone()).collect()),
            _ => None,
        })
        .unwrap_or_default()
}

#[test]
fn a_partner_invited_later_gets_the_whole_period_and_keeps_the_consultation_open() {
    let wf = consultation("all_answered");
    let start = started(&wf, json!({ "beteiligte": ["A", "B"] }), "2026-03-04");
    let opened = act(&wf, &start.instance, "entwurf", "beteiligen").unwrap();
    let closing = |instance: &Instance| {
        instance
            .timers
            .iter()
            .find(|t| t.purpose == TimerPurpose::ConsultationDeadline)
            .unwrap()
            .due
            .to_string()
    };
    assert_eq!(closing(&opened.instance), "2026-04-02");
    // Two weeks in, the Integrationsrat is invited: four weeks from Wednesday 18.03.2026.
    let added = add(&wf, &opened.instance, " C ", "2026-03-18").unwrap();
    let c = added.instance.invitations.last().unwrap().clone();
    assert_eq!(
        (c.participant.as_str(), c.deadline.to_string(), &c.status),
        ("C", "2026-04-15".to_string(), &InvitationStatus::Open)
    );
    assert!(added.effects.iter().any(|e| matches!(e,
        SideEffect::Invite { invitation, participant, deadline, template, .. }
            if *invitation == c.id && participant == "C" && deadline.to_string() == "2026-04-15"
                && template == "beteiligung_einladung")));
    assert!(matches!(
        added.journal.as_slice(),
        [
            JournalEntry::ParticipantAdded { participant, deadline, reason: Some(_), .. },
            JournalEntry::DataSet { path, .. },
        ] if participant == "C" && deadline.to_string() == "2026-04-15" && path == "beteiligte"
    ));
    assert_eq!(added.instance.data["beteiligte"], json!(["A", "B", "C"]));
    assert_eq!(closing(&added.instance), "2026-04-16");
    // The consultation's reminder (25.03.) is about 01.04. and reaches A and B; C gets its own
    // a week before 15.04.
    let general = TimerPurpose::ConsultationReminder {
        index: 0,
        invitation: None,
    };
    let own = TimerPurpose::ConsultationReminder {
        index: 0,
        invitation: Some(c.id),
    };
    assert_eq!(
        reminded(&wf, &added.instance, &general, "2026-03-25"),
        ["A", "B"]
    );
    assert_eq!(reminded(&wf, &added.instance, &own, "2026-04-08"), ["C"]);
    // A and B answering does not close it: C is still to answer.
    let mut instance = added.instance.clone();
    for (index, day) in [(0, "2026-03-20"), (1, "2026-03-23")] {
        let answered = step(
            &wf,
            &instance,
            Event::Answer {
                invitation: instance.invitations[index].id,
                answer: answer(Votum::Zustimmung),
            },
            &clock(day),
        )
        .unwrap();
        instance = answered.instance;
    }
    token_at(&instance, "beteiligung");
    let last = step(
        &wf,
        &instance,
        Event::Answer {
            invitation: c.id,
            answer: answer(Votum::Bedenken),
        },
        &clock("2026-04-14"),
    )
    .unwrap();
    token_at(&last.instance, "auswertung");
}

#[test]
fn a_partner_is_invited_later_only_once_and_only_while_the_consultation_runs() {
    let wf = consultation("deadline");
    let start = started(&wf, json!({ "beteiligte": ["A", "B"] }), "2026-03-04");
    let opened = act(&wf, &start.instance, "entwurf", "beteiligen").unwrap();
    let refused = |outcome: Result<Outcome, EngineError>, expected: &str| match outcome {
        Err(EngineError::ParticipantRefused(text)) => {
            assert!(text.contains(expected), "{text}")
        }
        other => panic!("{expected}: {other:?}"),
    };
    refused(
        add(&wf, &opened.instance, "B", "2026-03-10"),
        "bereits beteiligt",
    );
    refused(
        add(&wf, &opened.instance, "  ", "2026-03-10"),
        "Bitte wählen Sie",
    );
    // Only the role coordinating the consultation decides about it; so for an extension.
    let authority = Actor {
        id: "kfi@bezreg-arnsberg.nrw.de".into(),
        roles: vec!["bewilligung".into()],
    };
    for event in [
        Event::AddParticipant {
            step: "beteiligung".into(),
            participant: "C".into(),
            actor: authority.clone(),
            reason: None,
        },
        Event::ExtendDeadline {
            invitation: opened.instance.invitations[0].id,
            until: "2026-04-15".parse().unwrap(),
            actor: authority.clone(),
            reason: None,
        },
    ] {
        match step(&wf, &opened.instance, event, &clock("2026-03-10")) {
            Err(EngineError::Refused { reasons }) => assert!(
                matches!(reasons.as_slice(), [Refusal::RoleNotAllowed { role, .. }] if role == "koordination"),
                "{reasons:?}"
            ),
            other => panic!("{other:?}"),
        }
    }
    // Invited on the day the consultation opened, D shares its deadline, its closing and its
    // reminder, and gets no second one of its own.
    let same_day = add(&wf, &opened.instance, "D", "2026-03-04").unwrap();
    assert_eq!(
        same_day
            .instance
            .invitations
            .last()
            .unwrap()
            .deadline
            .to_string(),
        "2026-04-01"
    );
    let reminders: Vec<_> = same_day
        .instance
        .timers
        .iter()
        .filter(|t| matches!(t.purpose, TimerPurpose::ConsultationReminder { .. }))
        .collect();
    assert_eq!(reminders.len(), 1, "{reminders:?}");
    assert_eq!(
        reminded(&wf, &same_day.instance, &reminders[0].purpose, "2026-03-25"),
        ["A", "B", "D"]
    );
    // Answered or not, once the consultation has closed nobody is added.
    let deadline = opened
        .instance
        .timers
        .iter()
        .find(|t| t.purpose == TimerPurpose::ConsultationDeadline)
        .unwrap()
        .id;
    let closed = step(
        &wf,
        &opened.instance,
        Event::TimerFired { timer: deadline },
        &clock("2026-04-02"),
    )
    .unwrap();
    refused(add(&wf, &closed.instance, "C", "2026-04-02"), "läuft nicht");
    // Neither is anyone before it started, nor at a step that is no consultation.
    refused(add(&wf, &start.instance, "C", "2026-03-04"), "läuft nicht");
    let at_task = step(
        &wf,
        &opened.instance,
        Event::AddParticipant {
            step: "auswertung".into(),
            participant: "C".into(),
            actor: koordination(),
            reason: None,
        },
        &clock("2026-03-10"),
    );
    refused(at_task, "keine Beteiligung");
}

fn withdraw(
    wf: &Workflow,
    instance: &Instance,
    invitation: LocalId,
    today: &str,
) -> Result<Outcome, EngineError> {
    step(
        wf,
        instance,
        Event::WithdrawParticipant {
            invitation,
            actor: koordination(),
            reason: "Irrtümlich eingeladen".into(),
        },
        &clock(today),
    )
}

fn closing_day(instance: &Instance) -> String {
    instance
        .timers
        .iter()
        .find(|t| t.purpose == TimerPurpose::ConsultationDeadline)
        .unwrap()
        .due
        .to_string()
}

#[test]
fn a_withdrawn_partner_no_longer_counts_is_not_reminded_and_leaves_the_data() {
    let wf = consultation("all_answered");
    let start = started(&wf, json!({ "beteiligte": ["A", "B"] }), "2026-03-04");
    let opened = act(&wf, &start.instance, "entwurf", "beteiligen").unwrap();
    // C is invited later (deadline 15.04.), by mistake; the closing moved to 16.04.
    let added = add(&wf, &opened.instance, "C", "2026-03-18").unwrap();
    let c = added.instance.invitations.last().unwrap().clone();
    assert_eq!(closing_day(&added.instance), "2026-04-16");
    let own = TimerPurpose::ConsultationReminder {
        index: 0,
        invitation: Some(c.id),
    };
    let own_timer = added
        .instance
        .timers
        .iter()
        .find(|t| t.purpose == own)
        .unwrap()
        .id;
    let withdrawn = withdraw(&wf, &added.instance, c.id, "2026-03-19").unwrap();
    let status = |instance: &Instance, id: LocalId| {
        instance
            .invitations
            .iter()
            .find(|i| i.id == id)
            .unwrap()
            .status
            .clone()
    };
    assert_eq!(
        status(&withdrawn.instance, c.id),
        InvitationStatus::Withdrawn
    );
    assert!(
        matches!(
            withdrawn.journal.as_slice(),
            [
                JournalEntry::ParticipantWithdrawn { participant, reason, actor, .. },
                JournalEntry::DataSet { path, .. },
            ] if participant == "C" && reason == "Irrtümlich eingeladen" && actor == "anna@kreis-kleve.de"
                && path == "beteiligte"
        ),
        "{:?}",
        withdrawn.journal
    );
    assert_eq!(withdrawn.instance.data["beteiligte"], json!(["A", "B"]));
    // Its own reminder is cancelled, the closing goes back to the day after 01.04.
    assert!(withdrawn.effects.iter().any(
        |e| matches!(e, SideEffect::WithdrawInvitation { invitation, case_ended: None } if *invitation == c.id)
    ));
    assert!(
        withdrawn
            .effects
            .iter()
            .any(|e| matches!(e, SideEffect::CancelTimer { timer } if *timer == own_timer))
    );
    assert!(!withdrawn.instance.timers.iter().any(|t| t.purpose == own));
    assert_eq!(closing_day(&withdrawn.instance), "2026-04-02");
    // The consultation's reminder reaches A and B only.
    let general = TimerPurpose::ConsultationReminder {
        index: 0,
        invitation: None,
    };
    assert_eq!(
        reminded(&wf, &withdrawn.instance, &general, "2026-03-25"),
        ["A", "B"]
    );
    // C can no longer answer, nor be withdrawn or extended again.
    let late = step(
        &wf,
        &withdrawn.instance,
        Event::Answer {
            invitation: c.id,
            answer: answer(Votum::Zustimmung),
        },
        &clock("2026-03-20"),
    );
    assert!(
        matches!(late, Err(EngineError::InvitationClosed(id)) if id == c.id),
        "{late:?}"
    );
    assert!(matches!(
        withdraw(&wf, &withdrawn.instance, c.id, "2026-03-20"),
        Err(EngineError::InvitationClosed(_))
    ));
    assert!(matches!(
        extend(&wf, &withdrawn.instance, c.id, "2026-04-20", "2026-03-20"),
        Err(EngineError::InvitationClosed(_))
    ));
    // Once A and B answered, the consultation is complete: it no longer waits for C.
    let mut instance = withdrawn.instance.clone();
    for index in 0..2 {
        instance = step(
            &wf,
            &instance,
            Event::Answer {
                invitation: instance.invitations[index].id,
                answer: answer(Votum::Zustimmung),
            },
            &clock("2026-03-23"),
        )
        .unwrap()
        .instance;
    }
    token_at(&instance, "auswertung");
    // Leaving the step does not turn the withdrawn invitation into an expired one.
    assert_eq!(status(&instance, c.id), InvitationStatus::Withdrawn);
}

#[test]
fn withdrawing_the_last_open_partner_completes_the_consultation() {
    let wf = consultation("all_answered");
    let start = started(&wf, json!({ "beteiligte": ["A", "B"] }), "2026-03-04");
    let opened = act(&wf, &start.instance, "entwurf", "beteiligen").unwrap();
    let [a, b] = [0, 1].map(|i| opened.instance.invitations[i].id);
    let answered = step(
        &wf,
        &opened.instance,
        Event::Answer {
            invitation: a,
            answer: answer(Votum::Zustimmung),
        },
        &clock("2026-03-10"),
    )
    .unwrap();
    // An answered invitation stays: its Stellungnahme is in the file.
    assert!(matches!(
        withdraw(&wf, &answered.instance, a, "2026-03-11"),
        Err(EngineError::InvitationClosed(id)) if id == a
    ));
    let done = withdraw(&wf, &answered.instance, b, "2026-03-11").unwrap();
    assert!(
        done.journal.iter().any(|e| matches!(
            e,
            JournalEntry::ConsultationCompleted {
                reason: CompletionReason::AllAnswered,
                ..
            }
        )),
        "{:?}",
        done.journal
    );
    token_at(&done.instance, "auswertung");
    assert!(!done.instance.timers.iter().any(|t| t.step == "beteiligung"));
    // With every partner withdrawn, nobody is left to ask: it completes for want of partners,
    // also where it would otherwise wait for its deadline.
    let wf = consultation("deadline");
    let start = started(&wf, json!({ "beteiligte": ["A"] }), "2026-03-04");
    let opened = act(&wf, &start.instance, "entwurf", "beteiligen").unwrap();
    let only = opened.instance.invitations[0].id;
    let none_left = withdraw(&wf, &opened.instance, only, "2026-03-05").unwrap();
    assert!(none_left.journal.iter().any(|e| matches!(
        e,
        JournalEntry::ConsultationCompleted {
            reason: CompletionReason::NoParticipants,
            ..
        }
    )));
    assert!(none_left.journal.iter().any(|e| matches!(e,
        JournalEntry::StepLeft { step, via, .. } if step == "beteiligung" && via == "no_participants")));
    token_at(&none_left.instance, "auswertung");
    assert_eq!(none_left.instance.data["beteiligte"], json!([]));
}

#[test]
fn only_the_coordinating_role_withdraws_and_a_deadline_consultation_waits_for_its_day() {
    let wf = consultation("deadline");
    let start = started(&wf, json!({ "beteiligte": ["A", "B"] }), "2026-03-04");
    let opened = act(&wf, &start.instance, "entwurf", "beteiligen").unwrap();
    let b = opened.instance.invitations[1].id;
    let authority = Actor {
        id: "kfi@bezreg-arnsberg.nrw.de".into(),
        roles: vec!["bewilligung".into()],
    };
    let refused = step(
        &wf,
        &opened.instance,
        Event::WithdrawParticipant {
            invitation: b,
            actor: authority,
            reason: "Irrtum".into(),
        },
        &clock("2026-03-10"),
    );
    match refused {
        Err(EngineError::Refused { reasons }) => assert!(
            matches!(reasons.as_slice(), [Refusal::RoleNotAllowed { role, .. }] if role == "koordination"),
            "{reasons:?}"
        ),
        other => panic!("{other:?}"),
    }
    // A consultation that completes at its deadline keeps waiting for it, with A alone.
    let withdrawn = withdraw(&wf, &opened.instance, b, "2026-03-10").unwrap();
    token_at(&withdrawn.instance, "beteiligung");
    assert_eq!(closing_day(&withdrawn.instance), "2026-04-02");
    assert!(
        !withdrawn
            .journal
            .iter()
            .any(|e| matches!(e, JournalEntry::ConsultationCompleted { .. }))
    );
    // An unknown invitation is named as such.
    assert!(matches!(
        withdraw(&wf, &opened.instance, LocalId(999), "2026-03-10"),
        Err(EngineError::UnknownInvitation(LocalId(999)))
    ));
}

#[test]
fn a_consultation_without_participants_moves_on_at_once() {
    let mut definition = consultation("all_answered").definition().clone();
    if let Some(super::definition::Step::Task(task)) = definition.steps.get_mut("entwurf") {
        task.actions["beteiligen"].require.clear();
    }
    let wf = Workflow::new(definition).unwrap();
    let start = started(&wf, json!({}), "2026-03-04");
    let moved = act(&wf, &start.instance, "entwurf", "beteiligen").unwrap();
    token_at(&moved.instance, "auswertung");
    assert!(moved.instance.timers.is_empty());
    assert!(
        moved
            .effects
            .iter()
            .all(|e| !matches!(e, SideEffect::Invite { .. }))
    );
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

#[test]
fn boundary_timers_are_scheduled_from_legal_periods() {
    let wf = timers_and_waits();
    // FRISTEN.md example 4: Beginnfrist of six months from 01.12.2025 ends Monday 01.06.2026.
    let start = started(&wf, json!({ "stichtag": "2025-12-01" }), "2026-01-10");
    let due: Vec<(String, NaiveDate)> = start
        .instance
        .timers
        .iter()
        .map(|t| match &t.purpose {
            TimerPurpose::Boundary { name } => (name.clone(), t.due),
            other => panic!("{other:?}"),
        })
        .collect();
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    assert_eq!(
        due,
        [
            ("erinnerung".to_string(), date("2026-05-01")),
            ("woechentlich".to_string(), date("2026-01-17")),
            ("ueberfaellig".to_string(), date("2026-06-02")),
        ]
    );
}

#[test]
fn non_interrupting_timers_keep_the_token_and_repeat_every_period() {
    let wf = timers_and_waits();
    let start = started(&wf, json!({ "stichtag": "2025-12-01" }), "2026-01-10");
    let weekly = start.instance.timers[1].id;
    let fired = step(
        &wf,
        &start.instance,
        Event::TimerFired { timer: weekly },
        &clock("2026-01-17"),
    )
    .unwrap();
    token_at(&fired.instance, "entwurf");
    assert!(
        matches!(fired.effects[0], SideEffect::SendMail { ref template, to: MailTarget::Applicant, .. } if template == "frist_erinnerung")
    );
    let next = fired.instance.timers.last().unwrap();
    assert_eq!(next.due, NaiveDate::from_ymd_opt(2026, 1, 24).unwrap());
    assert_eq!(
        step(
            &wf,
            &fired.instance,
            Event::TimerFired { timer: weekly },
            &clock("2026-01-17")
        )
        .unwrap_err(),
        EngineError::UnknownTimer(weekly)
    );
}

#[test]
fn an_interrupting_timer_escalates_moves_the_token_and_cancels_the_other_timers() {
    let wf = timers_and_waits();
    let start = started(&wf, json!({ "stichtag": "2025-12-01" }), "2026-01-10");
    let overdue = start.instance.timers[2].id;
    let fired = step(
        &wf,
        &start.instance,
        Event::TimerFired { timer: overdue },
        &clock("2026-06-02"),
    )
    .unwrap();
    token_at(&fired.instance, "eskalation");
    assert!(kinds(&fired).contains(&"escalated"));
    assert!(fired.instance.timers.is_empty());
    let cancelled: Vec<_> = fired
        .effects
        .iter()
        .filter(|e| matches!(e, SideEffect::CancelTimer { .. }))
        .collect();
    assert_eq!(cancelled.len(), 2);
}

#[test]
fn waits_end_on_their_message_or_date() {
    let wf = timers_and_waits();
    let start = started(&wf, json!({ "stichtag": "2026-06-01" }), "2026-01-10");
    let waiting = act(&wf, &start.instance, "entwurf", "weiter").unwrap();
    token_at(&waiting.instance, "warten");
    let wrong = step(
        &wf,
        &waiting.instance,
        Event::Message {
            name: "anderes".into(),
            actor: koordination(),
            data: None,
        },
        &clock("2026-02-01"),
    );
    assert_eq!(
        wrong.unwrap_err(),
        EngineError::NoReceiver("anderes".into())
    );
    let message = step(
        &wf,
        &waiting.instance,
        Event::Message {
            name: "konzept_eingegangen".into(),
            actor: koordination(),
            data: None,
        },
        &clock("2026-02-01"),
    )
    .unwrap();
    token_at(&message.instance, "bis_stichtag");
    let timer = &message.instance.timers[0];
    assert_eq!(timer.due, NaiveDate::from_ymd_opt(2026, 6, 1).unwrap());
    let done = step(
        &wf,
        &message.instance,
        Event::TimerFired { timer: timer.id },
        &clock("2026-06-01"),
    )
    .unwrap();
    assert_eq!(done.instance.status, CaseStatus::Completed);
}

#[test]
fn a_wait_on_a_missing_date_refuses_the_move_there() {
    let wf = timers_and_waits();
    let start = started(&wf, json!({}), "2026-01-10");
    let waiting = act(&wf, &start.instance, "entwurf", "weiter").unwrap();
    let error = step(
        &wf,
        &waiting.instance,
        Event::Message {
            name: "konzept_eingegangen".into(),
            actor: koordination(),
            data: None,
        },
        &clock("2026-02-01"),
    )
    .unwrap_err();
    assert!(
        matches!(error, EngineError::Refused { ref reasons } if matches!(&reasons[0], Refusal::MissingData { paths, .. } if paths == &["stichtag"]))
    );
}

#[test]
fn a_message_carries_the_data_it_declares_and_nothing_else() {
    let mut definition = timers_and_waits().definition().clone();
    definition.messages.insert(
        "konzept_eingegangen".into(),
        super::definition::MessageDefinition {
            title: "Konzept eingegangen".into(),
            help: None,
            data: vec![super::definition::DataPath("stichtag".into())],
        },
    );
    let wf = Workflow::new(definition).unwrap();
    let start = started(&wf, json!({ "name": "Kreis Soest" }), "2026-01-10");
    let waiting = act(&wf, &start.instance, "entwurf", "weiter").unwrap();
    let message = |data: Value| {
        step(
            &wf,
            &waiting.instance,
            Event::Message {
                name: "konzept_eingegangen".into(),
                actor: koordination(),
                data: Some(data),
            },
            &clock("2026-02-01"),
        )
    };
    // A field the message does not declare: nothing of the message is kept.
    assert_eq!(
        message(json!({ "stichtag": "2026-06-01", "name": null })).unwrap_err(),
        EngineError::NotEditable(vec![super::data::DataError {
            pointer: "/name".into(),
            message: "Die Nachricht „Konzept eingegangen“ setzt nur „stichtag“, nicht „name“."
                .into(),
        }])
    );
    assert_eq!(
        message(json!([])).unwrap_err(),
        EngineError::DataNotAnObject
    );
    // A key holding a dot is a key of its own, not a path into a declared field.
    assert!(matches!(
        message(json!({ "stichtag.jahr": 2026 })).unwrap_err(),
        EngineError::NotEditable(errors) if errors[0].pointer == "/stichtag.jahr"
    ));
    // The date comes with the message, so the wait for it behind the message can begin.
    let arrived = message(json!({ "stichtag": "2026-06-01" })).unwrap();
    token_at(&arrived.instance, "bis_stichtag");
    assert_eq!(
        arrived.instance.data,
        json!({ "name": "Kreis Soest", "stichtag": "2026-06-01" })
    );
    assert_eq!(
        arrived.instance.timers[0].due,
        NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
    );
    assert_eq!(&kinds(&arrived)[..2], ["message_received", "data_changed"]);
    // An empty patch brings nothing, and nothing is journaled as changed.
    let dated = started(&wf, json!({ "stichtag": "2026-06-01" }), "2026-01-10");
    let dated = act(&wf, &dated.instance, "entwurf", "weiter").unwrap();
    let empty = step(
        &wf,
        &dated.instance,
        Event::Message {
            name: "konzept_eingegangen".into(),
            actor: koordination(),
            data: Some(json!({})),
        },
        &clock("2026-02-01"),
    )
    .unwrap();
    token_at(&empty.instance, "bis_stichtag");
    assert!(
        !kinds(&empty).contains(&"data_changed"),
        "{:?}",
        kinds(&empty)
    );

    // A message that declares no data carries none.
    let plain = timers_and_waits();
    let start = started(&plain, json!({}), "2026-01-10");
    let waiting = act(&plain, &start.instance, "entwurf", "weiter").unwrap();
    let refused = step(
        &plain,
        &waiting.instance,
        Event::Message {
            name: "konzept_eingegangen".into(),
            actor: koordination(),
            data: Some(json!({ "stichtag": "2026-06-01" })),
        },
        &clock("2026-02-01"),
    )
    .unwrap_err();
    assert_eq!(
        refused,
        EngineError::NotEditable(vec![super::data::DataError {
            pointer: "/stichtag".into(),
            message: "Die Nachricht „konzept_eingegangen“ trägt keine Daten.".into(),
        }])
    );
}

#[test]
fn withdrawal_ends_everything_and_needs_the_role() {
    let wf = consultation("all_answered");
    let start = started(&wf, json!({ "beteiligte": ["A", "B"] }), "2026-03-04");
    let opened = act(&wf, &start.instance, "entwurf", "beteiligen").unwrap();
    let reader = Actor {
        id: "r".into(),
        roles: vec!["lesen".into()],
    };
    assert!(matches!(
        step(
            &wf,
            &opened.instance,
            Event::Withdraw {
                actor: reader,
                reason: None
            },
            &clock("2026-03-05")
        ),
        Err(EngineError::Refused { .. })
    ));
    // A has answered; B is still asked when the case is withdrawn.
    let a = opened.instance.invitations[0].id;
    let answered = step(
        &wf,
        &opened.instance,
        Event::Answer {
            invitation: a,
            answer: answer(Votum::Zustimmung),
        },
        &clock("2026-03-05"),
    )
    .unwrap();
    let withdrawn = step(
        &wf,
        &answered.instance,
        Event::Withdraw {
            actor: koordination(),
            reason: Some("Kreistag hat anders entschieden".into()),
        },
        &clock("2026-03-05"),
    )
    .unwrap();
    assert_eq!(withdrawn.instance.status, CaseStatus::Withdrawn);
    assert_eq!(
        withdrawn.instance.outcome.as_deref(),
        Some("zurueckgezogen")
    );
    assert!(withdrawn.instance.tokens.is_empty() && withdrawn.instance.timers.is_empty());
    let statuses: Vec<(&str, bool)> = withdrawn
        .instance
        .invitations
        .iter()
        .map(|i| {
            (
                i.participant.as_str(),
                matches!(i.status, InvitationStatus::Answered { .. }),
            )
        })
        .collect();
    assert_eq!(statuses, [("A", true), ("B", false)]);
    let b = &withdrawn.instance.invitations[1];
    assert_eq!(b.status, InvitationStatus::Withdrawn);
    // Only B is told, and why: its Stellungnahme is no longer needed.
    let told: Vec<_> = withdrawn
        .effects
        .iter()
        .filter_map(|e| match e {
            SideEffect::WithdrawInvitation {
                invitation,
                case_ended,
            } => Some((*invitation, case_ended.as_deref())),
            _ => None,
        })
        .collect();
    assert_eq!(told, [(b.id, Some("Zurückgezogen"))]);
    // The step stood with the withdrawing role itself: no other role is told.
    assert!(
        !withdrawn
            .effects
            .iter()
            .any(|e| matches!(e, SideEffect::TellCaseEnded { .. }))
    );
    assert_eq!(
        step(
            &wf,
            &withdrawn.instance,
            Event::Withdraw {
                actor: koordination(),
                reason: None
            },
            &clock("2026-03-06")
        )
        .unwrap_err(),
        EngineError::NotRunning
    );
}

#[test]
fn instances_survive_a_json_round_trip_and_steps_are_deterministic() {
    let wf = consultation("all_answered");
    let start = started(&wf, json!({ "beteiligte": ["A", "B"] }), "2026-03-04");
    let opened = act(&wf, &start.instance, "entwurf", "beteiligen").unwrap();
    let json = serde_json::to_string(&opened.instance).unwrap();
    let back: Instance = serde_json::from_str(&json).unwrap();
    assert_eq!(back, opened.instance);
    let again = act(&wf, &start.instance, "entwurf", "beteiligen").unwrap();
    assert_eq!(again, opened);
    let definition_json = serde_json::to_string(wf.definition()).unwrap();
    let definition: Definition = serde_json::from_str(&definition_json).unwrap();
    assert_eq!(&definition, wf.definition());
    assert_eq!(Workflow::new(definition).unwrap().version(), wf.version());
}

#[test]
fn a_case_runs_only_on_the_version_it_started_with() {
    let wf = linear();
    let start = started(&wf, json!({}), "2026-03-04");
    let mut changed = wf.definition().clone();
    changed.title = "Geändert".into();
    let other = Workflow::new(changed).unwrap();
    assert_ne!(other.version(), wf.version());
    let error = step(
        &other,
        &start.instance,
        Event::ChangeData {
            actor: koordination(),
            data: json!({ "name": "y" }),
        },
        &clock("2026-03-04"),
    )
    .unwrap_err();
    assert!(matches!(error, EngineError::Inconsistent(_)));
}

#[test]
fn a_loop_without_a_waiting_step_is_stopped() {
    let wf = workflow(base(json!({
        "entwurf": { "type": "task", "title": "Entwurf", "role": "koordination", "actions": {
            "los": { "title": "Los", "to": "a" } } },
        "a": { "type": "decision", "title": "A", "conditions": [ { "when": "true", "to": "b" } ], "otherwise": "ende" },
        "b": { "type": "decision", "title": "B", "conditions": [ { "when": "true", "to": "a" } ], "otherwise": "ende" },
        "ende": { "type": "end", "title": "Ende", "outcome": "x" }
    })));
    let start = started(&wf, json!({}), "2026-03-04");
    assert!(matches!(
        act(&wf, &start.instance, "entwurf", "los"),
        Err(EngineError::Livelock(_))
    ));
}

#[test]
fn only_the_roles_at_work_change_the_data() {
    let mut definition = base(json!({
        "entwurf": { "type": "task", "title": "Entwurf", "role": "koordination", "actions": {
            "einreichen": { "title": "Einreichen", "to": "pruefung" }
        } },
        "pruefung": { "type": "task", "title": "Antrag prüfen", "role": "bewilligung", "actions": {
            "zurueckgeben": { "title": "Zurückgeben", "to": "entwurf" }
        } }
    }));
    definition["data_editors"] = json!(["koordination"]);
    definition["data"]["bescheid"] =
        json!({ "type": "date", "label": "Bescheid vom", "editors": ["bewilligung"] });
    let wf = workflow(definition);
    let bewilligung = Actor {
        id: "b@bezreg.de".into(),
        roles: vec!["bewilligung".into()],
    };
    let admin = Actor {
        id: "admin".into(),
        roles: vec!["koordination".into(), "bewilligung".into()],
    };
    let change = |instance: &Instance, actor: &Actor, data: Value| {
        step(
            &wf,
            instance,
            Event::ChangeData {
                actor: actor.clone(),
                data,
            },
            &clock("2026-03-04"),
        )
    };
    let refusal = |result: Result<Outcome, EngineError>| match result {
        Err(EngineError::Refused { reasons }) => match reasons.as_slice() {
            [Refusal::RoleNotAllowed { role, message }] => (role.clone(), message.clone()),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };

    // While the applicant drafts, the authority changes nothing, not even its own fields.
    let draft = started(&wf, json!({ "name": "Antrag" }), "2026-03-04").instance;
    let draft = change(&draft, &koordination(), json!({ "name": "Antrag 2" }))
        .unwrap()
        .instance;
    assert_eq!(
        refusal(change(
            &draft,
            &bewilligung,
            json!({ "bescheid": "2026-03-05" })
        )),
        (
            "koordination".to_string(),
            "Solange der Schritt „Entwurf“ läuft, ändert die Angaben nur: Koordination."
                .to_string()
        )
    );

    // Submitted, the Antrag stays as it is while the authority examines it.
    let review = act(&wf, &draft, "entwurf", "einreichen").unwrap().instance;
    assert_eq!(
        refusal(change(
            &review,
            &koordination(),
            json!({ "name": "Nachträglich" })
        ))
        .1,
        "Solange der Schritt „Antrag prüfen“ läuft, ändert die Angaben nur: Bewilligung."
    );
    let decided = change(&review, &bewilligung, json!({ "bescheid": "2026-03-05" }))
        .unwrap()
        .instance;
    assert_eq!(decided.data["bescheid"], "2026-03-05");
    assert_eq!(decided.data["name"], "Antrag 2");
    // An administrator acts in the role at work: the decision yes, the Antrag no.
    assert!(change(&review, &admin, json!({ "bescheid": "2026-03-06" })).is_ok());
    let Err(EngineError::NotEditable(errors)) =
        change(&review, &admin, json!({ "name": "Nachträglich" }))
    else {
        panic!("the administrator must not rewrite the Antrag under review")
    };
    assert_eq!(errors[0].pointer, "/name");
    // An action's data counts the same way: the authority's own step, its own field.
    let returned = step(
        &wf,
        &review,
        Event::Act {
            token: token_at(&review, "pruefung"),
            action: "zurueckgeben".into(),
            actor: bewilligung.clone(),
            data: Some(json!({ "bescheid": "2026-03-07" })),
        },
        &clock("2026-03-04"),
    )
    .unwrap()
    .instance;
    assert_eq!(returned.data["bescheid"], "2026-03-07");
    // Back with the applicant, the Antrag is theirs to change again.
    assert!(
        change(
            &returned,
            &koordination(),
            json!({ "name": "Überarbeitet" })
        )
        .is_ok()
    );
}

#[test]
fn a_refused_change_names_every_step_at_work() {
    let wf = parallel();
    let start = started(&wf, json!({}), "2026-03-04");
    let forked = act(&wf, &start.instance, "entwurf", "verteilen").unwrap();
    let error = step(
        &wf,
        &forked.instance,
        Event::ChangeData {
            actor: Actor {
                id: "b@bezreg.de".into(),
                roles: vec!["bewilligung".into()],
            },
            data: json!({ "name": "x" }),
        },
        &clock("2026-03-04"),
    )
    .unwrap_err();
    let EngineError::Refused { reasons } = error else {
        panic!("{error:?}")
    };
    assert_eq!(
        reasons[0].message(),
        "Solange die Schritte „A“, „B“, „C“ laufen, ändert die Angaben nur: Koordination."
    );
}

/// `linear` with its action bound to the window `kfi` („Antragszeitraum“).
fn within_window() -> Workflow {
    let mut definition = base(json!({
        "entwurf": { "type": "task", "title": "Entwurf", "role": "koordination", "actions": {
            "einreichen": { "title": "Einreichen", "to": "ende", "within": "kfi" }
        } },
        "ende": { "type": "end", "title": "Ende", "outcome": "erledigt" }
    }));
    definition["windows"] = json!({ "kfi": { "title": "Antragszeitraum" } });
    workflow(definition)
}

/// The clock of `date` with the periods of `kfi` entered (none: looked up, none entered).
fn clock_with_kfi(date: &str, periods: &[(&str, &str, &str)]) -> Clock {
    let mut clock = clock(date);
    clock.windows.insert(
        "kfi",
        periods
            .iter()
            .map(|(label, opens, closes)| windows::WindowSpan {
                label: (*label).into(),
                opens_on: opens.parse().unwrap(),
                closes_on: closes.parse().unwrap(),
            })
            .collect(),
    );
    clock
}

#[test]
fn an_action_bound_to_a_window_is_taken_only_while_a_period_is_open() {
    let wf = within_window();
    let start = started(&wf, json!({}), "2026-03-04");
    let periods = [("Förderjahr 2027", "2026-04-17", "2026-10-31")];
    let submit = |date: &str, periods: &[(&str, &str, &str)]| {
        step(
            &wf,
            &start.instance,
            Event::Act {
                token: token_at(&start.instance, "entwurf"),
                action: "einreichen".into(),
                actor: koordination(),
                data: None,
            },
            &clock_with_kfi(date, periods),
        )
    };

    let refused = submit("2026-04-16", &periods).unwrap_err();
    assert_eq!(
        refused,
        EngineError::Refused {
            reasons: vec![Refusal::OutsideWindow {
                window: "kfi".into(),
                message: "Außerhalb des Zeitraums „Antragszeitraum“: Der nächste Zeitraum \
                          (Förderjahr 2027) beginnt am 17.04.2026."
                    .into(),
            }]
        }
    );
    let offered = available_actions(
        &wf,
        &start.instance,
        &koordination(),
        &clock_with_kfi("2026-11-01", &periods),
    );
    assert!(!offered[0].allowed);
    assert!(
        offered[0].reasons[0]
            .message()
            .contains("endete am 31.10.2026")
    );

    let open = available_actions(
        &wf,
        &start.instance,
        &koordination(),
        &clock_with_kfi("2026-10-31", &periods),
    );
    assert!(open[0].allowed);
    assert_eq!(
        open[0].warnings,
        ["Möglich bis 31.10.2026 (Zeitraum „Antragszeitraum“, Förderjahr 2027)."]
    );
    for open in ["2026-04-17", "2026-10-31"] {
        let done = submit(open, &periods).unwrap();
        assert_eq!(done.instance.status, CaseStatus::Completed, "{open}");
    }
}

#[test]
fn a_window_nobody_entered_refuses_nothing_and_says_so() {
    let wf = within_window();
    let start = started(&wf, json!({}), "2026-03-04");
    let offered = available_actions(
        &wf,
        &start.instance,
        &koordination(),
        &clock_with_kfi("2026-03-04", &[]),
    );
    assert!(offered[0].allowed);
    assert_eq!(
        offered[0].warnings,
        [windows::unmaintained_warning("Antragszeitraum")]
    );
    let done = act(&wf, &start.instance, "entwurf", "einreichen").unwrap();
    assert_eq!(done.instance.status, CaseStatus::Completed);
}

fn relocate(
    wf: &Workflow,
    instance: &Instance,
    to: &str,
    day: &str,
) -> Result<Outcome, EngineError> {
    step(
        wf,
        instance,
        Event::Relocate {
            step: to.into(),
            actor: Actor {
                id: "admin@kreis-kleve.de".into(),
                roles: Vec::new(),
            },
            reason: "Falsche Aktion gewählt".into(),
        },
        &clock(day),
    )
}

#[test]
fn relocating_a_consultation_back_to_its_task_withdraws_the_open_invitations() {
    let wf = consultation("all_answered");
    let start = started(&wf, json!({ "beteiligte": ["A", "B"] }), "2026-03-04");
    let opened = act(&wf, &start.instance, "entwurf", "beteiligen").unwrap();
    let a = opened.instance.invitations[0].id;
    let answered = step(
        &wf,
        &opened.instance,
        Event::Answer {
            invitation: a,
            answer: answer(Votum::Zustimmung),
        },
        &clock("2026-03-05"),
    )
    .unwrap();
    let timers: Vec<LocalId> = answered.instance.timers.iter().map(|t| t.id).collect();
    assert!(!timers.is_empty());
    let moved = relocate(&wf, &answered.instance, "entwurf", "2026-03-06").unwrap();
    assert_eq!(moved.instance.status, CaseStatus::Running);
    let steps: Vec<&str> = moved
        .instance
        .active_steps()
        .map(|t| t.step.as_str())
        .collect();
    assert_eq!(steps, ["entwurf"]);
    assert_eq!(
        moved
            .instance
            .active_steps()
            .next()
            .unwrap()
            .entered_on
            .to_string(),
        "2026-03-06"
    );
    assert!(moved.instance.timers.is_empty());
    // A's Stellungnahme stays in the file; B, still asked, is told it is no longer needed.
    assert!(matches!(
        moved.instance.invitations[0].status,
        InvitationStatus::Answered { .. }
    ));
    assert_eq!(
        moved.instance.invitations[1].status,
        InvitationStatus::Withdrawn
    );
    let told: Vec<_> = moved
        .effects
        .iter()
        .filter_map(|e| match e {
            SideEffect::WithdrawInvitation {
                invitation,
                case_ended,
            } => Some((*invitation, case_ended.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(told, [(moved.instance.invitations[1].id, None)]);
    let cancelled: Vec<LocalId> = moved
        .effects
        .iter()
        .filter_map(|e| match e {
            SideEffect::CancelTimer { timer } => Some(*timer),
            _ => None,
        })
        .collect();
    assert_eq!(cancelled, timers);
    // The coordinating role, whose consultation no longer runs, learns where the case stands.
    let dropped: Vec<_> = moved
        .effects
        .iter()
        .filter_map(|e| match e {
            SideEffect::TellStepDropped {
                role,
                step,
                continues_at,
            } => Some((role.as_str(), step.as_str(), continues_at.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(dropped, [("koordination", "beteiligung", "entwurf")]);
    assert_eq!(
        kinds(&moved),
        ["case_relocated", "step_left", "step_entered"]
    );
    assert_eq!(
        moved.journal[0],
        JournalEntry::CaseRelocated {
            from: vec!["beteiligung".into()],
            to: "entwurf".into(),
            actor: "admin@kreis-kleve.de".into(),
            reason: "Falsche Aktion gewählt".into(),
            reopened: None,
        }
    );
    // From there the workflow's own actions go on: a new consultation invites afresh.
    let again = act(&wf, &moved.instance, "entwurf", "beteiligen").unwrap();
    assert_eq!(again.instance.invitations.len(), 4);
}

#[test]
fn an_ended_case_runs_again_at_the_task_with_fresh_deadlines() {
    let wf = timers_and_waits();
    let start = started(&wf, json!({ "stichtag": "2025-12-01" }), "2026-01-10");
    let withdrawn = step(
        &wf,
        &start.instance,
        Event::Withdraw {
            actor: koordination(),
            reason: None,
        },
        &clock("2026-01-12"),
    )
    .unwrap();
    assert_eq!(withdrawn.instance.status, CaseStatus::Withdrawn);
    let reopened = relocate(&wf, &withdrawn.instance, "entwurf", "2026-02-02").unwrap();
    assert_eq!(reopened.instance.status, CaseStatus::Running);
    assert_eq!(reopened.instance.outcome, None);
    assert!(matches!(
        &reopened.journal[0],
        JournalEntry::CaseRelocated { from, reopened: Some(outcome), .. }
            if from.is_empty() && outcome == "zurueckgezogen"
    ));
    // The step's timers are armed again; the weekly one counts from the new entry.
    let due: Vec<(String, String)> = reopened
        .instance
        .timers
        .iter()
        .map(|t| match &t.purpose {
            TimerPurpose::Boundary { name } => (name.clone(), t.due.to_string()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        due,
        [
            ("erinnerung".to_string(), "2026-05-01".to_string()),
            ("woechentlich".to_string(), "2026-02-09".to_string()),
            ("ueberfaellig".to_string(), "2026-06-02".to_string()),
        ]
    );
    assert!(!reopened.effects.iter().any(|e| matches!(
        e,
        SideEffect::Finished { .. } | SideEffect::TellStepDropped { .. }
    )));
}

#[test]
fn only_a_task_outside_the_parallels_takes_a_case_and_not_where_it_stands() {
    let wf = parallel();
    let start = started(&wf, json!({}), "2026-03-04");
    let forked = act(&wf, &start.instance, "entwurf", "verteilen").unwrap();
    let a_done = act(&wf, &forked.instance, "a", "ok").unwrap();
    let refused = |to: &str| match relocate(&wf, &a_done.instance, to, "2026-03-05") {
        Err(EngineError::RelocationRefused(message)) => message,
        other => panic!("{to}: {other:?}"),
    };
    assert!(refused("b").contains("Zweig paralleler Bearbeitung"));
    assert!(refused("verteilen").contains("keine Aufgabe"));
    assert!(refused("ende").contains("keine Aufgabe"));
    assert!(refused("gibt_es_nicht").contains("gibt es in dieser Version"));
    // Out of the parallel: the branches still open and the one parked at the join all go.
    let moved = relocate(&wf, &a_done.instance, "abschluss", "2026-03-05").unwrap();
    let told = moved
        .effects
        .iter()
        .filter(|e| matches!(e, SideEffect::TellStepDropped { .. }))
        .count();
    assert_eq!(told, 1, "two open branches of one role: told once");
    assert_eq!(moved.instance.tokens.len(), 1);
    assert_eq!(moved.instance.tokens[0].step, "abschluss");
    assert!(moved.instance.tokens[0].forks.is_empty());
    let done = act(&wf, &moved.instance, "abschluss", "fertig").unwrap();
    assert_eq!(done.instance.status, CaseStatus::Completed);
    // Where the case already stands alone, nothing would change.
    let at_entwurf = relocate(&wf, &start.instance, "entwurf", "2026-03-05");
    assert!(matches!(
        at_entwurf,
        Err(EngineError::RelocationRefused(message)) if message.contains("steht bereits")
    ));
}

/// `entwurf` → `ende`, whose entry starts a case of `folge` with the name.
fn starting_a_follow_up() -> Workflow {
    workflow(base(json!({
        "entwurf": { "type": "task", "title": "Entwurf", "role": "koordination", "actions": {
            "fertig": { "title": "Fertig", "to": "ende" }
        } },
        "ende": { "type": "end", "title": "Ende", "outcome": "erledigt", "on_enter": [
            { "start_case": { "workflow": "folge", "data": { "titel": "data.name" } } }
        ] }
    })))
}

fn started_cases(outcome: &Outcome) -> Vec<(&str, &str, &Value)> {
    outcome
        .effects
        .iter()
        .filter_map(|e| match e {
            SideEffect::StartCase {
                step,
                workflow,
                data,
            } => Some((step.as_str(), workflow.as_str(), data)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_step_passed_again_after_a_correction_starts_no_second_case() {
    let wf = starting_a_follow_up();
    let start = started(&wf, json!({ "name": "Kleve" }), "2026-03-04");
    let done = act(&wf, &start.instance, "entwurf", "fertig").unwrap();
    assert_eq!(
        started_cases(&done),
        [("ende", "folge", &json!({ "titel": "Kleve" }))]
    );
    assert!(kinds(&done).contains(&"case_start_requested"));
    assert_eq!(
        done.instance.started,
        [StartedCase {
            step: "ende".into(),
            workflow: "folge".into()
        }]
    );
    // The administration reopens the completed case at its draft; passing the end again
    // starts nothing, and the journal says why.
    let reopened = relocate(&wf, &done.instance, "entwurf", "2026-03-05").unwrap();
    assert_eq!(reopened.instance.started, done.instance.started);
    let again = act(&wf, &reopened.instance, "entwurf", "fertig").unwrap();
    assert_eq!(again.instance.status, CaseStatus::Completed);
    assert!(started_cases(&again).is_empty());
    assert!(!kinds(&again).contains(&"case_start_requested"));
    assert!(again.journal.contains(&JournalEntry::CaseStartOmitted {
        step: "ende".into(),
        workflow: "folge".into(),
    }));
    assert_eq!(again.instance.started.len(), 1);
}

#[test]
fn a_started_case_names_its_origin_in_its_first_journal_entry() {
    let wf = linear();
    let instance = Instance::new(wf.key(), wf.version(), kreis());
    let start = step(
        &wf,
        &instance,
        Event::Start {
            actor: Actor::system(),
            data: json!({}),
            origin: Some("KI-05154-2026-0001".into()),
        },
        &clock("2026-03-04"),
    )
    .unwrap();
    assert_eq!(
        start.journal[0],
        JournalEntry::CaseStarted {
            actor: "system".into(),
            workflow: "test".into(),
            version: wf.version().to_string(),
            applicant: "05154".into(),
            origin: Some("KI-05154-2026-0001".into()),
        }
    );
    // A case started by hand names none, and its entry reads as before.
    let by_hand = started(&wf, json!({}), "2026-03-04");
    assert!(by_hand.journal[0].payload().get("origin").is_none());
}
