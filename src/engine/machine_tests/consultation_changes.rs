//! Changing a running consultation: extending a deadline, inviting a partner later, withdrawing one.

use super::*;

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
    let (wf, opened) = opened_consultation("all_answered");
    let ids: Vec<_> = opened.instance.invitations.iter().map(|i| i.id).collect();
    let old_timer = closing_timer(&opened.instance).clone();
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
    let new_timer = closing_timer(&extended.instance).clone();
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
    let b_late = give_answer(
        &wf,
        &extended.instance,
        ids[1],
        answer(Votum::Zustimmung),
        "2026-04-02",
    );
    assert_eq!(
        b_late.unwrap_err(),
        EngineError::DeadlinePassed("01.04.2026".into())
    );
    // A answers in time after the old deadline; the consultation closes at the new one.
    let a = give_answer(
        &wf,
        &extended.instance,
        ids[0],
        answer(Votum::Bedenken),
        "2026-04-10",
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
    let (wf, opened) = opened_consultation("deadline");
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
    let deadline = closing_timer(&opened.instance).id;
    let closed = fire(&wf, &opened.instance, deadline, "2026-04-02");
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
    let (wf, opened) = opened_consultation("all_answered");
    assert_eq!(closing_day(&opened.instance), "2026-04-02");
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
    assert_eq!(closing_day(&added.instance), "2026-04-16");
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
        let answered = give_answer(
            &wf,
            &instance,
            instance.invitations[index].id,
            answer(Votum::Zustimmung),
            day,
        )
        .unwrap();
        instance = answered.instance;
    }
    token_at(&instance, "beteiligung");
    let last = give_answer(&wf, &instance, c.id, answer(Votum::Bedenken), "2026-04-14").unwrap();
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
    let deadline = closing_timer(&opened.instance).id;
    let closed = fire(&wf, &opened.instance, deadline, "2026-04-02");
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
    closing_timer(instance).due.to_string()
}

#[test]
fn a_withdrawn_partner_no_longer_counts_is_not_reminded_and_leaves_the_data() {
    let (wf, opened) = opened_consultation("all_answered");
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
    let late = give_answer(
        &wf,
        &withdrawn.instance,
        c.id,
        answer(Votum::Zustimmung),
        "2026-03-20",
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
        instance = give_answer(
            &wf,
            &instance,
            instance.invitations[index].id,
            answer(Votum::Zustimmung),
            "2026-03-23",
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
    let answered = give_answer(
        &wf,
        &opened.instance,
        a,
        answer(Votum::Zustimmung),
        "2026-03-10",
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
    let (wf, opened) = opened_consultation("deadline");
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
