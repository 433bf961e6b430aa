//! Boundary timers, waits and messages.

use super::*;

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
    let fired = fire(&wf, &start.instance, weekly, "2026-01-17");
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
    let fired = fire(&wf, &start.instance, overdue, "2026-06-02");
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
    let done = fire(&wf, &message.instance, timer.id, "2026-06-01");
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
