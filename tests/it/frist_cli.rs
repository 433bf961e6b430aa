//! `vorgang frist` as a process: the exact interface other tools depend on.

use crate::support::process::vorgang;

fn frist(args: &[&str]) -> std::process::Output {
    vorgang().arg("frist").args(args).output().unwrap()
}

#[test]
fn json_output_is_exactly_one_object() {
    let output = frist(&["--start", "2026-03-03", "--dauer", "P1M", "--json"]);
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        concat!(
            r#"{"start":"2026-03-03","dauer":"P1M","art":"ereignis","ende_unverschoben":"2026-04-03","#,
            r#""ende":"2026-04-07","verschoben_wegen":[{"datum":"2026-04-03","grund":"Karfreitag"},"#,
            r#"{"datum":"2026-04-04","grund":"Samstag"},{"datum":"2026-04-05","grund":"Sonntag"},"#,
            r#"{"datum":"2026-04-06","grund":"Ostermontag"}]}"#,
            "\n"
        )
    );
}

#[test]
fn beginnfrist_without_shift() {
    let output = frist(&[
        "--start",
        "2025-12-01",
        "--dauer",
        "P6M",
        "--art",
        "beginn",
        "--land",
        "NW",
        "--ohne-verschiebung",
        "--json",
    ]);
    assert!(output.status.success());
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["art"], "beginn");
    assert_eq!(value["ende_unverschoben"], "2026-05-31");
    assert_eq!(value["ende"], "2026-05-31");
    assert_eq!(value["verschoben_wegen"], serde_json::json!([]));
}

#[test]
fn plain_output_is_a_german_sentence_with_weekday_and_reasons() {
    let output = frist(&["--start", "2026-03-03", "--dauer", "P1M"]);
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("Dienstag, 07.04.2026"), "{text}");
    assert!(
        text.contains("Karfreitag") && text.contains("Ostermontag"),
        "{text}"
    );
}

#[test]
fn bad_input_names_the_argument_in_german_and_exits_2() {
    let cases: [(&[&str], &str); 5] = [
        (&["--start", "2026-03-03", "--dauer", "4W"], "--dauer"),
        (&["--start", "2026-02-30", "--dauer", "P1M"], "--start"),
        (
            &["--start", "2026-03-03", "--dauer", "P1M", "--land", "XX"],
            "--land",
        ),
        (
            &[
                "--start",
                "2026-03-03",
                "--dauer",
                "P1M",
                "--art",
                "irgendwann",
            ],
            "--art",
        ),
        (&["--dauer", "P1M"], "--start"),
    ];
    for (args, argument) in cases {
        let output = frist(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains(argument),
            "{args:?} must name {argument}: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{args:?}: nothing on stdout");
    }
    let stderr =
        String::from_utf8(frist(&["--start", "2026-03-03", "--dauer", "4W"]).stderr).unwrap();
    assert!(stderr.contains("keine gültige Dauer"), "{stderr}");
}
