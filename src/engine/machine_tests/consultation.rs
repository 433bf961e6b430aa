//! Consultations: invitations, answers, deadlines, late Stellungnahmen.

use super::*;

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
    let (wf, opened) = opened_consultation("all_answered");
    let ids: Vec<LocalId> = opened.instance.invitations.iter().map(|i| i.id).collect();
    let first = give_answer(
        &wf,
        &opened.instance,
        ids[0],
        answer(Votum::Zustimmung),
        "2026-03-10",
    )
    .unwrap();
    assert_eq!(
        token_at(&first.instance, "beteiligung"),
        token_at(&opened.instance, "beteiligung")
    );
    // Amending before the deadline keeps the step open and counts the version.
    let amended = give_answer(
        &wf,
        &first.instance,
        ids[0],
        answer(Votum::Bedenken),
        "2026-03-10",
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
    let second = give_answer(
        &wf,
        &first.instance,
        ids[1],
        answer(Votum::Bedenken),
        "2026-03-11",
    )
    .unwrap();
    token_at(&second.instance, "auswertung");
    assert!(second.instance.timers.is_empty());
    // Once the consultation is over, answers are no longer amended.
    let after = give_answer(
        &wf,
        &second.instance,
        ids[0],
        answer(Votum::Zustimmung),
        "2026-03-12",
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
    let (wf, opened) = opened_consultation("deadline");
    let ids: Vec<LocalId> = opened.instance.invitations.iter().map(|i| i.id).collect();
    let mut state = opened.instance;
    for id in &ids {
        // With complete: deadline, even all answers keep the step open until the deadline.
        state = give_answer(&wf, &state, *id, answer(Votum::Zustimmung), "2026-03-05")
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
    let reminded = fire(&wf, &state, reminder, "2026-03-25");
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
    let deadline = closing_timer(&reminded.instance).id;
    let closed = fire(&wf, &reminded.instance, deadline, "2026-04-02");
    token_at(&closed.instance, "auswertung");
    assert!(matches!(
        closed.instance.invitations[0].status,
        InvitationStatus::Answered { .. }
    ));
    assert_eq!(
        closed.instance.invitations[1].status,
        InvitationStatus::Expired
    );
    let late = give_answer(
        &wf,
        &closed.instance,
        ids[1],
        answer(Votum::Zustimmung),
        "2026-04-03",
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
    let closed = fire(&wf, &opened.instance, deadline, "2026-04-02");
    token_at(&closed.instance, "auswertung");
    let late = give_answer(
        &wf,
        &closed.instance,
        id,
        answer(Votum::Bedenken),
        "2026-04-03",
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
    let (wf, opened) = opened_consultation("all_answered");
    let id = opened.instance.invitations[0].id;
    // The deadline timer has not fired yet, but the deadline (01.04.2026) has passed.
    let refused = give_answer(
        &wf,
        &opened.instance,
        id,
        answer(Votum::Zustimmung),
        "2026-04-02",
    );
    assert_eq!(
        refused.unwrap_err(),
        EngineError::DeadlinePassed("01.04.2026".into())
    );
}

#[test]
fn a_stellungnahme_that_reached_the_office_in_time_counts_as_in_time_when_entered_later() {
    let (wf, opened) = opened_consultation("all_answered");
    let ids: Vec<_> = opened.instance.invitations.iter().map(|i| i.id).collect();
    // A letter that arrived on the last day (01.04.2026), entered the next morning.
    let first = give_answer(
        &wf,
        &opened.instance,
        ids[0],
        received(Votum::Zustimmung, "2026-04-01"),
        "2026-04-02",
    )
    .unwrap();
    assert!(matches!(
        first.journal.as_slice(),
        [JournalEntry::AnswerRecorded { version: 1, late: false, received_on: Some(day), .. }]
            if day.to_string() == "2026-04-01"
    ));
    // One that arrived a day late is refused like a late answer through the link.
    let refused = give_answer(
        &wf,
        &first.instance,
        ids[1],
        received(Votum::Zustimmung, "2026-04-02"),
        "2026-04-02",
    );
    assert_eq!(
        refused.unwrap_err(),
        EngineError::DeadlinePassed("01.04.2026".into())
    );
    // The last answer in time completes the consultation as usual.
    let second = give_answer(
        &wf,
        &first.instance,
        ids[1],
        received(Votum::Bedenken, "2026-03-31"),
        "2026-04-02",
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
    let closed = fire(&wf, &opened.instance, deadline, "2026-04-02");
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
        let refused = give_answer(&wf, &closed.instance, id, late, "2026-04-03");
        assert_eq!(
            refused.unwrap_err(),
            EngineError::DeadlinePassed("01.04.2026".into())
        );
    }
    let entered = give_answer(
        &wf,
        &closed.instance,
        id,
        received(Votum::Bedenken, "2026-04-01"),
        "2026-04-03",
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
