//! Time windows, moving a case to another step and starting follow-up cases.

use super::*;

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
    let (wf, opened) = opened_consultation("all_answered");
    let a = opened.instance.invitations[0].id;
    let answered = give_answer(
        &wf,
        &opened.instance,
        a,
        answer(Votum::Zustimmung),
        "2026-03-05",
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
