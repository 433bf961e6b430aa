//! The diagram renderer on the shipped workflows and on synthetic definitions: well-formed XML,
//! every title present and escaped, no inline styles or scripts, no overlaps, arrows on borders.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::{Value, json};

use super::layout::inversions;
use super::text::wrap;
use super::*;
use crate::engine::load::parse_definition;

const SVG_NS: &str = "http://www.w3.org/2000/svg";

fn shipped() -> Vec<(String, Definition)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("workflows");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 2, "shipped workflows not found in {dir:?}");
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let definition = parse_definition(&path.display().to_string(), &text)
                .unwrap_or_else(|e| panic!("{path:?}: {e:?}"));
            let key = path.file_stem().unwrap().to_string_lossy().into_owned();
            (key, definition)
        })
        .collect()
}

/// A definition from JSON steps, with the boilerplate around them.
fn definition(start: &str, steps: Value) -> Definition {
    serde_json::from_value(json!({
        "workflow": "probe",
        "title": "Probe <&> \"Ablauf\"",
        "roles": { "koordination": { "title": "Koordination" } },
        "start": start,
        "steps": steps,
    }))
    .unwrap()
}

fn task(title: &str, actions: &[(&str, &str)]) -> Value {
    let actions: serde_json::Map<String, Value> = actions
        .iter()
        .enumerate()
        .map(|(i, (title, to))| (format!("a{i}"), json!({ "title": title, "to": to })))
        .collect();
    json!({ "type": "task", "title": title, "role": "koordination", "actions": actions })
}

fn end(title: &str) -> Value {
    json!({ "type": "end", "title": title, "outcome": "fertig" })
}

/// Text of all `<text>` children of `node`, joined by spaces (wrapped lines put back together).
fn joined_text(node: roxmltree::Node) -> String {
    node.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ")
}

fn has_class(node: roxmltree::Node, class: &str) -> bool {
    node.attribute("class")
        .is_some_and(|c| c.split_whitespace().any(|c| c == class))
}

fn own_title(node: roxmltree::Node) -> String {
    node.children()
        .find(|n| n.has_tag_name("title"))
        .and_then(|n| n.text())
        .unwrap_or("")
        .to_string()
}

/// Parses the SVG (which fails on anything not well-formed) and checks what holds for every
/// diagram: accessible name and description, no styles, scripts or outside references.
fn check_document(svg: &str) -> roxmltree::Document<'_> {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
    let root = doc.root_element();
    assert!(root.has_tag_name((SVG_NS, "svg")));
    assert_eq!(root.attribute("role"), Some("img"));
    for (attribute, tag) in [("aria-labelledby", "title"), ("aria-describedby", "desc")] {
        let id = root.attribute(attribute).unwrap();
        let target = doc
            .descendants()
            .find(|n| n.attribute("id") == Some(id))
            .unwrap_or_else(|| panic!("{attribute} points to nothing"));
        assert!(target.has_tag_name(tag));
        assert!(!target.text().unwrap_or("").is_empty());
    }
    for node in doc.descendants().filter(|n| n.is_element()) {
        let name = node.tag_name().name();
        assert!(!["style", "script", "image", "foreignObject", "a", "use"].contains(&name));
        for attribute in node.attributes() {
            let local = attribute.name();
            assert_ne!(local, "style", "inline style on <{name}>");
            assert_ne!(local, "href", "reference on <{name}>");
            assert!(
                !local.starts_with("on"),
                "event handler {local} on <{name}>"
            );
            assert!(!attribute.value().contains("url("), "reference on <{name}>");
        }
    }
    doc
}

/// Geometry checks on the layout itself: node boxes and labels do not overlap, everything lies
/// inside the canvas, and every arrow starts and ends on a shape's border.
fn check_geometry(definition: &Definition) {
    let graph = Graph::new(definition);
    let layout = Layout::new(&graph);
    let boxes: Vec<(f64, f64, f64, f64)> = (0..graph.nodes.len())
        .map(|n| {
            let (x, y) = layout.node_box(&graph, n);
            (x, y, graph.nodes[n].w, graph.nodes[n].h)
        })
        .collect();
    let labels: Vec<(f64, f64, f64, f64)> = layout
        .items
        .iter()
        .filter(|i| i.label)
        .map(|i| {
            let top = layout.band_top[i.band];
            (i.x + 5.0, top, i.right - 5.0, layout.band_height[i.band])
        })
        .collect();
    let overlap = |a: &(f64, f64, f64, f64), b: &(f64, f64, f64, f64)| {
        a.0 < b.0 + b.2 - 0.5
            && b.0 < a.0 + a.2 - 0.5
            && a.1 < b.1 + b.3 - 0.5
            && b.1 < a.1 + a.3 - 0.5
    };
    for (i, a) in boxes.iter().enumerate() {
        assert!(a.0 >= 0.0 && a.1 >= 0.0, "node {i} outside: {a:?}");
        assert!(a.0 + a.2 <= layout.width + 0.5 && a.1 + a.3 <= layout.height + 0.5);
        for (j, b) in boxes.iter().enumerate().skip(i + 1) {
            assert!(!overlap(a, b), "nodes {i} and {j} overlap: {a:?} {b:?}");
        }
        for label in &labels {
            assert!(!overlap(a, label), "label {label:?} over node {i} {a:?}");
        }
    }
    for (i, a) in labels.iter().enumerate() {
        for b in labels.iter().skip(i + 1) {
            assert!(!overlap(a, b), "labels overlap: {a:?} {b:?}");
        }
    }
    let flat: Vec<(f64, f64)> = boxes.iter().map(|b| (b.0, b.1)).collect();
    let (starts, ends) = ports(&graph, &layout, &flat);
    for (e, edge) in graph.edges.iter().enumerate() {
        if edge.is_loop() {
            continue;
        }
        let (upper, lower) = if edge.reversed {
            (edge.to, edge.from)
        } else {
            (edge.from, edge.to)
        };
        for (port, node) in [(starts[e], upper), (ends[e], lower)] {
            let port = port.unwrap_or_else(|| panic!("edge {e} has no port"));
            let n = &graph.nodes[node];
            let cx = flat[node].0 + n.anchor();
            let cy = flat[node].1 + n.sy + n.sh / 2.0;
            let (dx, dy) = ((port.x - cx) / (n.sw / 2.0), (port.y - cy) / (n.sh / 2.0));
            let on_border = match n.shape {
                Shape::Task | Shape::Consultation => {
                    (dy.abs() - 1.0).abs() < 1e-6 && dx.abs() < 1.0
                }
                Shape::Decision | Shape::Parallel | Shape::Join => {
                    (dx.abs() + dy.abs() - 1.0).abs() < 1e-6
                }
                _ => (dx * dx + dy * dy - 1.0).abs() < 1e-6,
            };
            assert!(
                on_border,
                "edge {e} does not end on the border of node {node}"
            );
        }
    }
}

fn transition_count(definition: &Definition) -> usize {
    let known = |name: &str| definition.steps.contains_key(name);
    let mut count = usize::from(known(&definition.start));
    for step in definition.steps.values() {
        count += step.successors().into_iter().filter(|s| known(s)).count();
    }
    count
}

#[test]
fn shipped_workflows_are_well_formed_accessible_and_complete() {
    for (key, definition) in shipped() {
        let svg = workflow_svg(&definition);
        let doc = check_document(&svg);

        let nodes: Vec<_> = doc
            .descendants()
            .filter(|n| has_class(*n, "schritt"))
            .collect();
        assert_eq!(
            nodes.len(),
            definition.steps.len() + 1,
            "{key}: start + steps"
        );
        for step in definition.steps.values() {
            let title = step.title();
            let shown: Vec<_> = nodes
                .iter()
                .filter(|n| own_title(**n).contains(&format!("„{title}“")))
                .collect();
            assert_eq!(shown.len(), 1, "{key}: step {title}");
            assert_eq!(joined_text(*shown[0]), title, "{key}: visible title");
        }

        let edges: Vec<_> = doc
            .descendants()
            .filter(|n| has_class(*n, "kante"))
            .collect();
        assert_eq!(edges.len(), transition_count(&definition), "{key}");
        let mut expected: BTreeMap<String, usize> = BTreeMap::new();
        for step in definition.steps.values() {
            if let Step::Task(task) = step {
                for action in task.actions.values() {
                    *expected.entry(action.title.clone()).or_default() += 1;
                }
            }
        }
        let mut labelled: BTreeMap<String, usize> = BTreeMap::new();
        for edge in edges.iter().filter(|n| has_class(**n, "kante-action")) {
            *labelled.entry(joined_text(*edge)).or_default() += 1;
        }
        assert_eq!(labelled, expected, "{key}: one label per action");

        let timers = definition
            .steps
            .values()
            .flat_map(|s| s.timers())
            .filter(|t| t.to.is_some())
            .count();
        let dashed = doc
            .descendants()
            .filter(|n| has_class(*n, "kante-timer"))
            .filter(|n| {
                n.descendants()
                    .any(|p| p.has_tag_name("path") && p.attribute("stroke-dasharray").is_some())
            })
            .count();
        assert_eq!(dashed, timers, "{key}: dashed timer edges");

        let desc = doc
            .descendants()
            .find(|n| n.has_tag_name("desc"))
            .and_then(|n| n.text())
            .unwrap();
        let mut last = 0;
        for step in definition.steps.values() {
            let at = desc[last..]
                .find(&format!("„{}“", step.title()))
                .unwrap_or_else(|| panic!("{key}: {} not in order in desc", step.title()));
            last += at;
        }
    }
}

#[test]
fn shipped_workflow_layouts_have_no_overlaps_and_arrows_end_on_borders() {
    for (_, definition) in shipped() {
        check_geometry(&definition);
    }
}

#[test]
fn loops_in_the_shipped_workflows_point_back_up() {
    for (key, definition) in shipped() {
        let graph = Graph::new(&definition);
        let layout = Layout::new(&graph);
        let layer = |node: usize| layout.items[layout.node_item[node]].band;
        for edge in &graph.edges {
            if edge.reversed {
                assert!(layer(edge.to) < layer(edge.from), "{key}: {edge:?}");
            } else {
                assert!(layer(edge.to) > layer(edge.from), "{key}: {edge:?}");
            }
        }
        // ki-antrag goes back to the draft from three places.
        if key == "ki-antrag" {
            assert!(graph.edges.iter().filter(|e| e.reversed).count() >= 3);
        }
    }
}

/// Writes `target/diagrams/{name}.svg` for a person to look at.
fn write_for_review(name: &str, svg: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/diagrams");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.svg"));
    std::fs::write(&path, svg).unwrap();
    path
}

/// Writes `target/diagrams/{key}.svg` of every shipped workflow for a person to look at.
#[test]
fn shipped_diagrams_are_written_for_review() {
    for (key, definition) in shipped() {
        let svg = workflow_svg(&definition);
        let path = write_for_review(&key, &svg);
        let written = std::fs::read_to_string(&path).unwrap();
        let doc = check_document(&written);
        let root = doc.root_element();
        let width: f64 = root.attribute("width").unwrap().parse().unwrap();
        let height: f64 = root.attribute("height").unwrap().parse().unwrap();
        assert!(width > 200.0 && width < 2000.0, "{key}: width {width}");
        assert!(height > 200.0, "{key}: height {height}");
        assert_eq!(workflow_svg(&definition), svg, "{key}: deterministic");
    }
}

#[test]
fn hostile_titles_are_escaped() {
    let evil = "<script>alert('x')</script> & \"Bö\u{1}se\"";
    let definition = definition(
        "a",
        json!({
            "a": task(evil, &[(evil, "b"), ("</text><script>", "b")]),
            "b": end("Ende & <Schluss>"),
        }),
    );
    let svg = workflow_svg(&definition);
    assert!(!svg.contains("<script"));
    let doc = check_document(&svg);
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    assert!(texts.iter().any(|t| t.contains("<script>")), "{texts:?}");
    assert!(texts.contains(&"</text><script>"));
    assert!(texts.contains(&"Ende & <Schluss>"));
    assert!(
        texts.iter().any(|t| t.contains("Bö\u{fffd}se")),
        "{texts:?}"
    );
    let title = doc.descendants().find(|n| n.has_tag_name("title")).unwrap();
    assert_eq!(title.text(), Some("Ablaufdiagramm: Probe <&> \"Ablauf\""));
    check_geometry(&definition);
}

#[test]
fn a_single_end_step_is_a_diagram() {
    let definition = definition("fertig", json!({ "fertig": end("Sofort fertig") }));
    let svg = workflow_svg(&definition);
    let doc = check_document(&svg);
    assert!(doc.descendants().any(|n| has_class(n, "schritt-end")));
    assert_eq!(
        doc.descendants().filter(|n| has_class(*n, "kante")).count(),
        1
    );
    check_geometry(&definition);
}

#[test]
fn long_titles_wrap_and_keep_the_full_text_in_the_tooltip() {
    let long =
        "Sehr langer Schrittname ".repeat(12) + "Donaudampfschifffahrtsgesellschaftskapitänsmütze";
    let definition = definition(
        "a",
        json!({ "a": task(&long, &[(&long, "b")]), "b": end(&long) }),
    );
    let svg = workflow_svg(&definition);
    let doc = check_document(&svg);
    let task = doc
        .descendants()
        .find(|n| has_class(*n, "schritt-task"))
        .unwrap();
    assert!(own_title(task).contains(long.trim()));
    let lines: Vec<_> = task
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .collect();
    assert_eq!(lines.len(), RECT_MAX_LINES);
    assert!(lines[RECT_MAX_LINES - 1].text().unwrap().ends_with('…'));
    for line in &lines {
        assert!(text_width(line.text().unwrap(), FONT) <= RECT_W - 2.0 * RECT_PAD_X);
    }
    check_geometry(&definition);
}

#[test]
fn deep_loops_and_self_loops_lay_out() {
    let mut steps = serde_json::Map::new();
    for i in 0..30 {
        let next = if i == 29 {
            "ende".to_string()
        } else {
            format!("s{}", i + 1)
        };
        let actions = [
            ("weiter", next.as_str()),
            ("ganz zurück", "s0"),
            ("nochmal", if i % 5 == 0 { "self" } else { "s0" }),
        ];
        let actions: Vec<(&str, String)> = actions
            .iter()
            .map(|(t, to)| {
                (
                    *t,
                    if *to == "self" {
                        format!("s{i}")
                    } else {
                        to.to_string()
                    },
                )
            })
            .collect();
        let refs: Vec<(&str, &str)> = actions.iter().map(|(t, to)| (*t, to.as_str())).collect();
        steps.insert(format!("s{i}"), task(&format!("Schritt {i}"), &refs));
    }
    steps.insert("ende".into(), end("Ende"));
    let definition = definition("s0", Value::Object(steps));
    let svg = workflow_svg(&definition);
    write_for_review("probe-schleifen", &svg);
    let doc = check_document(&svg);
    assert_eq!(
        doc.descendants().filter(|n| has_class(*n, "kante")).count(),
        transition_count(&definition)
    );
    check_geometry(&definition);
}

#[test]
fn every_step_type_has_its_shape() {
    let definition = definition(
        "pruefen",
        json!({
            "pruefen": task("Prüfen", &[("Weiter", "frage")]),
            "frage": {
                "type": "decision", "title": "Groß?",
                "conditions": [{ "when": "data.menge > 10", "to": "gabel" }],
                "otherwise": "warten"
            },
            "warten": {
                "type": "wait", "title": "Auf Nachricht warten",
                "until": { "message": "antwort" }, "next": "frist"
            },
            "frist": {
                "type": "wait", "title": "Eine Woche warten",
                "until": { "period": { "period": "P1W" } }, "next": "ende"
            },
            "gabel": {
                "type": "parallel", "title": "Beides", "branches": ["beteiligung", "notiz"],
                "join": "treffen"
            },
            "beteiligung": {
                "type": "consultation", "title": "Partner fragen", "role": "koordination",
                "question": "?", "participants": "beteiligte",
                "deadline": { "period": "P4W" }, "invitation": "einladung", "next": "treffen",
                "timers": [{ "name": "zu_spaet", "when": { "after": { "period": "P6W" } },
                             "to": "ende" }]
            },
            "notiz": task("Notiz schreiben", &[("Fertig", "treffen")]),
            "treffen": { "type": "join", "title": "Beide fertig", "next": "ende" },
            "ende": end("Ende")
        }),
    );
    let svg = workflow_svg(&definition);
    write_for_review("probe-schritttypen", &svg);
    let doc = check_document(&svg);
    for class in [
        "schritt-start",
        "schritt-task",
        "schritt-consultation",
        "schritt-decision",
        "schritt-parallel",
        "schritt-join",
        "schritt-wait",
        "schritt-end",
        "kante-condition",
        "kante-otherwise",
        "kante-timer",
        "kante-flow",
    ] {
        assert!(doc.descendants().any(|n| has_class(n, class)), "{class}");
    }
    let condition = doc
        .descendants()
        .find(|n| has_class(*n, "kante-condition"))
        .unwrap();
    assert_eq!(joined_text(condition), "1: data.menge > 10");
    let otherwise = doc
        .descendants()
        .find(|n| has_class(*n, "kante-otherwise"))
        .unwrap();
    assert_eq!(joined_text(otherwise), "sonst");
    check_geometry(&definition);
}

#[test]
fn references_to_missing_steps_are_left_out() {
    let definition = definition(
        "fehlt",
        json!({ "a": task("A", &[("Ins Leere", "nirgends"), ("Weiter", "b")]), "b": end("B") }),
    );
    let svg = workflow_svg(&definition);
    let doc = check_document(&svg);
    assert_eq!(
        doc.descendants().filter(|n| has_class(*n, "kante")).count(),
        1
    );
    check_geometry(&definition);
    let empty = definition_without_steps();
    check_document(&workflow_svg(&empty));
}

fn definition_without_steps() -> Definition {
    definition("nichts", json!({}))
}

#[test]
fn wrapping_cuts_long_words_and_marks_truncation() {
    assert_eq!(wrap("", 100.0, FONT, 3), Vec::<String>::new());
    assert_eq!(wrap("kurz", 100.0, FONT, 3), vec!["kurz"]);
    let lines = wrap(&"x".repeat(100), 60.0, FONT, 10);
    assert!(lines.len() > 1);
    assert!(lines.iter().all(|l| text_width(l, FONT) <= 60.0));
    let lines = wrap("eins zwei drei vier fünf sechs", 40.0, FONT, 2);
    assert_eq!(lines.len(), 2);
    assert!(lines[1].ends_with('…'));
}

#[test]
fn crossings_are_counted_as_inversions() {
    assert_eq!(inversions(&mut [0, 1, 2]), 0);
    assert_eq!(inversions(&mut [2, 1, 0]), 3);
    assert_eq!(inversions(&mut [1, 0, 1, 0]), 3);
}

/// A random graph of every step type with random (sometimes missing) targets.
fn random_definition(spec: &[(u8, Vec<u8>, u8)]) -> Definition {
    let n = spec.len();
    let name = |t: u8| {
        if usize::from(t) < n + 1 {
            format!("s{}", usize::from(t) % n.max(1))
        } else {
            "fehlt".to_string()
        }
    };
    let titles = [
        "Prüfen",
        "<b>&amp;</b>",
        "Ein sehr langer Titel für einen Schritt mit vielen Wörtern",
        "",
        "\"Zitat\" 'x'",
    ];
    let mut steps = serde_json::Map::new();
    for (i, (kind, targets, title)) in spec.iter().enumerate() {
        let title = format!("{} {i}", titles[usize::from(*title) % titles.len()]);
        let first = targets
            .first()
            .map_or_else(|| "s0".to_string(), |t| name(*t));
        let step = match kind % 7 {
            0 => {
                let actions: Vec<(String, String)> = targets
                    .iter()
                    .enumerate()
                    .map(|(k, t)| (format!("Aktion {k} <{t}>"), name(*t)))
                    .collect();
                let refs: Vec<(&str, &str)> = actions
                    .iter()
                    .map(|(a, b)| (a.as_str(), b.as_str()))
                    .collect();
                let mut step = task(&title, &refs);
                if targets.len() > 1 {
                    step["timers"] = json!([{ "name": "frist & ablauf",
                        "when": { "after": { "period": "P1W" } }, "to": name(targets[1]) }]);
                }
                step
            }
            1 => json!({
                "type": "consultation", "title": title, "role": "koordination", "question": "?",
                "participants": "beteiligte", "deadline": { "period": "P4W" },
                "invitation": "einladung", "next": first
            }),
            2 => json!({
                "type": "decision", "title": title,
                "conditions": targets.iter().skip(1).map(|t| json!({ "when": "data.x > 1", "to": name(*t) })).collect::<Vec<_>>(),
                "otherwise": first
            }),
            3 => json!({
                "type": "parallel", "title": title,
                "branches": targets.iter().map(|t| name(*t)).collect::<Vec<_>>(),
                "join": first
            }),
            4 => json!({ "type": "join", "title": title, "next": first }),
            5 => json!({
                "type": "wait", "title": title, "until": { "message": "m" }, "next": first
            }),
            _ => end(&title),
        };
        steps.insert(format!("s{i}"), step);
    }
    definition("s0", Value::Object(steps))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_definitions_render_well_formed_without_overlaps(
        spec in prop::collection::vec(
            (0u8..7, prop::collection::vec(0u8..24, 0..4), 0u8..5),
            1..22,
        )
    ) {
        let definition = random_definition(&spec);
        let svg = workflow_svg(&definition);
        let doc = check_document(&svg);
        prop_assert_eq!(
            doc.descendants().filter(|n| has_class(*n, "kante")).count(),
            transition_count(&definition)
        );
        prop_assert_eq!(
            doc.descendants().filter(|n| has_class(*n, "schritt")).count(),
            definition.steps.len() + 1
        );
        check_geometry(&definition);
    }
}

#[test]
fn a_case_s_steps_are_marked_in_shape_title_and_description() {
    let definition = definition(
        "a",
        json!({
            "a": task("Erster <Schritt>", &[("Weiter", "b")]),
            "b": task("Zweiter & letzter", &[("Fertig", "z")]),
            "z": end("Ende"),
        }),
    );
    // Without marks, the diagram of the administration pages.
    assert_eq!(
        workflow_svg_marked(&definition, &Marks::default()),
        workflow_svg(&definition)
    );
    let marks = Marks {
        current: ["b"].into(),
        done: ["a"].into(),
    };
    let svg = workflow_svg_marked(&definition, &marks);
    let doc = check_document(&svg);
    let group = |class: &str| {
        doc.descendants()
            .find(|n| {
                n.attribute("class")
                    .is_some_and(|c| c.split(' ').any(|c| c == class))
            })
            .unwrap_or_else(|| panic!("no {class}"))
    };
    let current = group("schritt-aktuell");
    let title = current
        .children()
        .find(|n| n.has_tag_name((SVG_NS, "title")))
        .and_then(|t| t.text())
        .unwrap();
    assert!(
        title.contains("„Zweiter & letzter“") && title.ends_with("(b) – aktueller Schritt"),
        "{title}"
    );
    // The outline is no colour alone: a thick border around the shape.
    let outline = current
        .children()
        .find(|n| n.attribute("class") == Some("markierung"))
        .unwrap();
    assert_eq!(outline.attribute("stroke-width"), Some("3"));
    let done = group("schritt-erledigt");
    assert!(
        done.children()
            .find(|n| n.has_tag_name((SVG_NS, "title")))
            .and_then(|t| t.text())
            .unwrap()
            .ends_with("(a) – erledigt")
    );
    assert!(
        done.children()
            .any(|n| n.attribute("class") == Some("markierung-erledigt")),
        "a check mark on the step left"
    );
    assert_eq!(
        doc.descendants()
            .filter(|n| n.attribute("class") == Some("markierung"))
            .count(),
        1,
        "only the current step is outlined"
    );
    let desc = doc
        .descendants()
        .find(|n| n.has_tag_name((SVG_NS, "desc")))
        .and_then(|n| n.text())
        .unwrap();
    assert!(
        desc.starts_with(
            "Der Vorgang steht bei: „Zweiter & letzter“. Erledigt: „Erster <Schritt>“. Ablauf"
        ),
        "{desc}"
    );
}
