//! Tasks, decisions and parallel branches.

use super::*;

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
