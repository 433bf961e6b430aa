//! Engine throughput on the reference workflow (`bench/ki_antrag_bench.yaml`): one instance from
//! start to end in memory, its 9 tasks completed one by one, as the same process is measured in
//! the BPMN engines SpiffWorkflow and bpmn-engine. Run: `cargo bench --bench engine`.

use std::hint::black_box;

use chrono::{NaiveDate, TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use vorgang::engine::definition::Step;
use vorgang::engine::{Actor, Applicant, CaseStatus, Clock, Event, Instance, Workflow, step_owned};

fn load() -> Workflow {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/ki_antrag_bench.yaml");
    let text = std::fs::read_to_string(path).expect("bench workflow");
    let definition =
        vorgang::engine::load::parse_definition(path, &text).expect("valid bench workflow");
    Workflow::new(definition).expect("expressions compile")
}

/// Runs one case to its end; returns the number of tasks completed.
fn run_case(workflow: &Workflow, actor: &Actor, clock: &Clock) -> usize {
    let applicant = Applicant {
        key: "05154".into(),
        kind: "kreis".into(),
        name: "Kleve".into(),
    };
    let mut instance = Instance::new(workflow.key(), workflow.version(), applicant);
    instance = step_owned(
        workflow,
        instance,
        Event::Start {
            actor: actor.clone(),
            data: json!({}),
            origin: None,
        },
        clock,
    )
    .expect("start")
    .instance;
    let mut tasks = 0;
    while instance.status == CaseStatus::Running {
        let token = instance.active_steps().next().expect("a waiting task");
        let Some(Step::Task(task)) = workflow.step(&token.step) else {
            panic!("token at a non-task step {}", token.step);
        };
        let action = task.actions.keys().next().expect("an action").clone();
        let event = Event::Act {
            token: token.id,
            action,
            actor: actor.clone(),
            data: None,
        };
        instance = step_owned(workflow, instance, event, clock)
            .expect("act")
            .instance;
        tasks += 1;
    }
    tasks
}

fn engine(c: &mut Criterion) {
    let workflow = load();
    let actor = Actor {
        id: "bench".into(),
        roles: vec!["koordination".into(), "bewilligung".into()],
    };
    let today = NaiveDate::from_ymd_opt(2026, 3, 4).expect("date");
    let clock = Clock {
        now: Utc.from_utc_datetime(&today.and_hms_opt(9, 0, 0).expect("time")),
        today,
        windows: Default::default(),
    };
    assert_eq!(run_case(&workflow, &actor, &clock), 9);
    let mut group = c.benchmark_group("ki_antrag_bench");
    group.throughput(Throughput::Elements(1));
    group.bench_function("instance start to end (9 tasks)", |b| {
        b.iter(|| black_box(run_case(black_box(&workflow), &actor, &clock)))
    });
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
