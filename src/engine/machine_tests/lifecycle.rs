//! Withdrawal, persistence, versions, loops and who changes the data.

use super::*;

#[test]
fn withdrawal_ends_everything_and_needs_the_role() {
    let (wf, opened) = opened_consultation("all_answered");
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
    let answered = give_answer(
        &wf,
        &opened.instance,
        a,
        answer(Votum::Zustimmung),
        "2026-03-05",
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
