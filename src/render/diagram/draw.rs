//! Drawing the laid-out diagram as SVG: shapes, icons, edges with their ports and labels, and
//! the accessible title and description.

use std::fmt::Write;

use crate::engine::definition::{Definition, Step};
use crate::engine::workflow::version_of;

use super::{
    ARROW, CURRENT, DONE, EDGE, Edge, EdgeKind, FONT, Graph, LABEL_FONT, LABEL_LINE, LINE, LOOP_W,
    Layout, MARKER_ROW, Mark, Node, SIDE_GAP, Shape, TEXT, TIMER_ICON_W, esc, num,
};

/// Where an edge meets a node: x and y on the shape's border.
#[derive(Debug, Clone, Copy)]
pub(super) struct Port {
    pub(super) x: f64,
    pub(super) y: f64,
}

/// The point of the shape's border below (`bottom`) or above the shape's centre at `dx`.
fn border_point(node: &Node, left: f64, top: f64, dx: f64, bottom: bool) -> Port {
    let cx = left + node.anchor();
    let cy = top + node.sy + node.sh / 2.0;
    let (hw, hh) = (node.sw / 2.0, node.sh / 2.0);
    let dy = match node.shape {
        Shape::Task | Shape::Consultation => hh,
        Shape::Decision | Shape::Parallel | Shape::Join => hh * (1.0 - dx.abs() / hw).max(0.0),
        _ => (hw * hw - dx * dx).max(0.0).sqrt(),
    };
    Port {
        x: cx + dx,
        y: if bottom { cy + dy } else { cy - dy },
    }
}

/// Spreads `count` attachments over the usable width of a shape, centred.
fn port_offsets(node: &Node, count: usize) -> Vec<f64> {
    // Round and diamond shapes are small: their edges meet at the top or bottom point, as in
    // BPMN, and merge or split just outside it.
    if count <= 1 || !node.shape.is_rect() {
        return vec![0.0; count];
    }
    let half_span = node.sw / 2.0 - 20.0;
    let step = (2.0 * half_span / (count - 1) as f64).min(26.0);
    (0..count)
        .map(|k| (k as f64 - (count - 1) as f64 / 2.0) * step)
        .collect()
}

/// Where each edge leaves its upper node (at the bottom) and enters its lower node (at the top),
/// spread over the border and ordered by where the other end lies, so that edges of one node do
/// not cross right at its border. `None` for self-loops.
pub(super) fn ports(
    graph: &Graph,
    layout: &Layout,
    boxes: &[(f64, f64)],
) -> (Vec<Option<Port>>, Vec<Option<Port>>) {
    let mut bottom: Vec<Vec<(f64, usize)>> = vec![Vec::new(); graph.nodes.len()];
    let mut top: Vec<Vec<(f64, usize)>> = vec![Vec::new(); graph.nodes.len()];
    for (e, chain) in layout.chains.iter().enumerate() {
        let (Some(&first), Some(&last)) = (chain.first(), chain.last()) else {
            continue;
        };
        if let (Some(a), Some(b)) = (layout.items[first].node, layout.items[last].node) {
            bottom[a].push((layout.items[chain[1]].x, e));
            top[b].push((layout.items[chain[chain.len() - 2]].x, e));
        }
    }
    let mut start_port = vec![None; graph.edges.len()];
    let mut end_port = vec![None; graph.edges.len()];
    for (n, node) in graph.nodes.iter().enumerate() {
        let (left, top_y) = boxes[n];
        for (list, is_bottom) in [(&mut bottom[n], true), (&mut top[n], false)] {
            list.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            for (&(_, e), dx) in list.iter().zip(port_offsets(node, list.len())) {
                let port = border_point(node, left, top_y, dx, is_bottom);
                if is_bottom {
                    start_port[e] = Some(port);
                } else {
                    end_port[e] = Some(port);
                }
            }
        }
    }
    (start_port, end_port)
}

pub(super) fn draw(definition: &Definition, graph: &Graph, layout: &Layout) -> String {
    let id = diagram_id(definition);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"ablaufdiagramm\" role=\"img\" \
         aria-labelledby=\"{id}-titel\" aria-describedby=\"{id}-beschreibung\" \
         width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\">",
        w = num(layout.width),
        h = num(layout.height),
    );
    let _ = writeln!(
        svg,
        "<title id=\"{id}-titel\">Ablaufdiagramm: {}</title>",
        esc(&definition.title)
    );
    // A case's marks, in words ahead of the procedure.
    let marked = |mark: Mark| {
        graph
            .nodes
            .iter()
            .filter(|node| node.mark == mark)
            .map(|node| format!("„{}“", node.title))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut described = description(definition);
    for (mark, lead) in [
        (Mark::Done, "Erledigt"),
        (Mark::Current, "Der Vorgang steht bei"),
    ] {
        let steps = marked(mark);
        if !steps.is_empty() {
            described = format!("{lead}: {steps}. {described}");
        }
    }
    let _ = writeln!(
        svg,
        "<desc id=\"{id}-beschreibung\">{}</desc>",
        esc(&described)
    );

    let boxes: Vec<(f64, f64)> = (0..graph.nodes.len())
        .map(|n| layout.node_box(graph, n))
        .collect();

    svg.push_str("<g class=\"schritte\">\n");
    for (n, node) in graph.nodes.iter().enumerate() {
        draw_node(&mut svg, node, boxes[n]);
    }
    svg.push_str("</g>\n<g class=\"kanten\">\n");

    let (start_port, end_port) = ports(graph, layout, &boxes);
    for (e, edge) in graph.edges.iter().enumerate() {
        let from = &graph.nodes[edge.from];
        let to = &graph.nodes[edge.to];
        let what = match edge.kind {
            EdgeKind::Action => format!("Aktion „{}“", edge.label),
            EdgeKind::Timer => format!("Frist {}", edge.label),
            EdgeKind::Condition => format!("Bedingung {}", edge.label),
            EdgeKind::Otherwise => "sonst".to_string(),
            EdgeKind::Flow => "weiter".to_string(),
        };
        let _ = writeln!(
            svg,
            "<g class=\"kante kante-{}\"><title>{}: von „{}“ nach „{}“</title>",
            edge.kind.class(),
            esc(&what),
            esc(&from.title),
            esc(&to.title)
        );
        if edge.is_loop() {
            draw_loop(&mut svg, graph, edge, e, boxes[edge.from]);
        } else if let (Some(p0), Some(p1)) = (start_port[e], end_port[e]) {
            draw_edge(&mut svg, layout, edge, &layout.chains[e], p0, p1);
        }
        svg.push_str("</g>\n");
    }
    svg.push_str("</g>\n</svg>\n");
    svg
}

/// `ablauf-{key}-{hash}`: unique per workflow version, safe as an XML id.
fn diagram_id(definition: &Definition) -> String {
    let key: String = definition
        .workflow
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let version = version_of(definition);
    format!("ablauf-{key}-{}", &version[..version.len().min(8)])
}

/// The diagram in words, for screen readers: every step in file order with where it leads.
fn description(definition: &Definition) -> String {
    let title_of = |name: &str| {
        definition
            .steps
            .get(name)
            .map_or_else(|| format!("„{name}“"), |s| format!("„{}“", s.title()))
    };
    let count = match definition.steps.len() {
        1 => "einem Schritt".to_string(),
        n => format!("{n} Schritten"),
    };
    let mut text = format!(
        "Ablauf „{}“ mit {count}, Beginn bei {}.",
        definition.title,
        title_of(&definition.start)
    );
    for (i, step) in definition.steps.values().enumerate() {
        let shape = Shape::of(step);
        let _ = write!(text, " {}. {} „{}“", i + 1, shape.german(), step.title());
        let mut ways: Vec<String> = Vec::new();
        match step {
            Step::Task(task) => {
                for action in task.actions.values() {
                    ways.push(format!(
                        "„{}“ führt zu {}",
                        action.title,
                        title_of(&action.to)
                    ));
                }
            }
            Step::Consultation(c) => ways.push(format!("danach {}", title_of(&c.next))),
            Step::Decision(d) => {
                for (n, condition) in d.conditions.iter().enumerate() {
                    ways.push(format!(
                        "Bedingung {} ({}) führt zu {}",
                        n + 1,
                        condition.when.0,
                        title_of(&condition.to)
                    ));
                }
                ways.push(format!("sonst {}", title_of(&d.otherwise)));
            }
            Step::Parallel(p) => {
                let branches: Vec<String> = p.branches.iter().map(|b| title_of(b)).collect();
                ways.push(format!("gleichzeitig {}", branches.join(", ")));
            }
            Step::Join(j) => ways.push(format!("wenn alle Zweige da sind, {}", title_of(&j.next))),
            Step::Wait(w) => ways.push(format!("danach {}", title_of(&w.next))),
            Step::End(end) => ways.push(format!("Ergebnis {}", end.outcome)),
        }
        for timer in step.timers() {
            if let Some(to) = &timer.to {
                ways.push(format!("Frist {} führt zu {}", timer.name, title_of(to)));
            }
        }
        let _ = write!(text, ": {}.", ways.join("; "));
    }
    text
}

fn draw_node(svg: &mut String, node: &Node, (left, top): (f64, f64)) {
    let (fill, stroke) = node.shape.colours();
    let mark = match node.mark {
        Mark::None => "",
        Mark::Current => " schritt-aktuell",
        Mark::Done => " schritt-erledigt",
    };
    let _ = write!(
        svg,
        "<g class=\"schritt schritt-{}{mark}\"><title>{}</title>",
        node.shape.class(),
        esc(&node.tooltip)
    );
    let (sx, sy) = (left + node.sx, top + node.sy);
    if node.mark == Mark::Current {
        // A thick outline around the shape, whatever its form.
        let _ = write!(
            svg,
            "<rect class=\"markierung\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"12\" \
             fill=\"#fff3d6\" stroke=\"{CURRENT}\" stroke-width=\"3\"/>",
            num(sx - 5.0),
            num(sy - 5.0),
            num(node.sw + 10.0),
            num(node.sh + 10.0)
        );
    }
    let (cx, cy) = (sx + node.sw / 2.0, sy + node.sh / 2.0);
    match node.shape {
        Shape::Task | Shape::Consultation => {
            let _ = write!(
                svg,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"10\" fill=\"{fill}\" \
                 stroke=\"{stroke}\" stroke-width=\"1.5\"/>",
                num(sx),
                num(sy),
                num(node.sw),
                num(node.sh)
            );
            if node.shape == Shape::Consultation {
                let _ = write!(
                    svg,
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"7\" fill=\"none\" \
                     stroke=\"{stroke}\" stroke-width=\"1\"/>",
                    num(sx + 3.5),
                    num(sy + 3.5),
                    num(node.sw - 7.0),
                    num(node.sh - 7.0)
                );
                envelope(svg, sx + 10.0, sy + 8.0, 14.0, 10.0, stroke);
            }
            if node.clock {
                clock(svg, sx + node.sw - 15.0, sy + 13.0, 6.0, stroke);
            }
            let marker = if node.clock || node.shape == Shape::Consultation {
                MARKER_ROW
            } else {
                0.0
            };
            let block = node.lines.len() as f64 * LINE;
            let first = sy + marker + (node.sh - marker - block) / 2.0 + LINE * 0.75;
            for (k, line) in node.lines.iter().enumerate() {
                let _ = write!(
                    svg,
                    "<text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{TEXT}\" \
                     text-anchor=\"middle\">{}</text>",
                    num(cx),
                    num(first + k as f64 * LINE),
                    num(FONT),
                    esc(line)
                );
            }
        }
        _ => {
            let r = node.sw / 2.0;
            match node.shape {
                Shape::Decision | Shape::Parallel | Shape::Join => {
                    let _ = write!(
                        svg,
                        "<polygon points=\"{},{} {},{} {},{} {},{}\" fill=\"{fill}\" \
                         stroke=\"{stroke}\" stroke-width=\"1.5\"/>",
                        num(cx),
                        num(sy),
                        num(sx + node.sw),
                        num(cy),
                        num(cx),
                        num(sy + node.sh),
                        num(sx),
                        num(cy)
                    );
                    if node.shape != Shape::Decision {
                        let arm = r * 0.45;
                        let _ = write!(
                            svg,
                            "<path d=\"M{} {}H{}M{} {}V{}\" stroke=\"{stroke}\" \
                             stroke-width=\"3\" fill=\"none\"/>",
                            num(cx - arm),
                            num(cy),
                            num(cx + arm),
                            num(cx),
                            num(cy - arm),
                            num(cy + arm)
                        );
                    }
                }
                Shape::End => {
                    let _ = write!(
                        svg,
                        "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{fill}\" stroke=\"{stroke}\" \
                         stroke-width=\"4\"/>",
                        num(cx),
                        num(cy),
                        num(r - 2.0)
                    );
                }
                Shape::Start => {
                    let _ = write!(
                        svg,
                        "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{fill}\" stroke=\"{stroke}\" \
                         stroke-width=\"1.5\"/>",
                        num(cx),
                        num(cy),
                        num(r - 0.75)
                    );
                }
                _ => {
                    let _ = write!(
                        svg,
                        "<circle cx=\"{x}\" cy=\"{y}\" r=\"{}\" fill=\"{fill}\" stroke=\"{stroke}\" \
                         stroke-width=\"1.5\"/><circle cx=\"{x}\" cy=\"{y}\" r=\"{}\" fill=\"none\" \
                         stroke=\"{stroke}\" stroke-width=\"1\"/>",
                        num(r - 0.75),
                        num(r - 4.5),
                        x = num(cx),
                        y = num(cy),
                    );
                    if node.shape == Shape::WaitMessage {
                        envelope(svg, cx - 8.0, cy - 5.5, 16.0, 11.0, stroke);
                    } else {
                        clock(svg, cx, cy, 9.0, stroke);
                    }
                }
            }
            let block = node.lines.len() as f64 * LINE;
            let first = top + (node.h - block) / 2.0 + LINE * 0.75;
            for (k, line) in node.lines.iter().enumerate() {
                let _ = write!(
                    svg,
                    "<text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{TEXT}\">{}</text>",
                    num(sx + node.sw + SIDE_GAP),
                    num(first + k as f64 * LINE),
                    num(FONT),
                    esc(line)
                );
            }
        }
    }
    if node.mark == Mark::Done && node.shape.is_rect() {
        // A check mark in the lower right corner, clear of the envelope and the clock.
        let (x, y) = (sx + node.sw - 18.0, sy + node.sh - 12.0);
        let _ = write!(
            svg,
            "<path class=\"markierung-erledigt\" d=\"M{} {}l4 4l8 -9\" fill=\"none\" \
             stroke=\"{DONE}\" stroke-width=\"2.2\"/>",
            num(x),
            num(y)
        );
    }
    svg.push_str("</g>\n");
}

fn envelope(svg: &mut String, x: f64, y: f64, w: f64, h: f64, stroke: &str) {
    let _ = write!(
        svg,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#ffffff\" stroke=\"{stroke}\" \
         stroke-width=\"1\"/><path d=\"M{} {}L{} {}L{} {}\" fill=\"none\" stroke=\"{stroke}\" \
         stroke-width=\"1\"/>",
        num(x),
        num(y),
        num(w),
        num(h),
        num(x),
        num(y),
        num(x + w / 2.0),
        num(y + h * 0.55),
        num(x + w),
        num(y)
    );
}

fn clock(svg: &mut String, cx: f64, cy: f64, r: f64, stroke: &str) {
    let _ = write!(
        svg,
        "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"#ffffff\" stroke=\"{stroke}\" \
         stroke-width=\"1.2\"/><path d=\"M{} {}V{}H{}\" fill=\"none\" stroke=\"{stroke}\" \
         stroke-width=\"1.2\"/>",
        num(cx),
        num(cy),
        num(r),
        num(cx),
        num(cy - r * 0.7),
        num(cy),
        num(cx + r * 0.55)
    );
}

fn dash(edge: &Edge) -> &'static str {
    if edge.kind == EdgeKind::Timer {
        " stroke-dasharray=\"6 4\""
    } else {
        ""
    }
}

/// An arrowhead with its tip at (x, y), pointing down (`dir` 1) or up (`dir` -1).
fn arrow_vertical(svg: &mut String, x: f64, y: f64, dir: f64) {
    let base = y - dir * ARROW;
    let _ = write!(
        svg,
        "<polygon points=\"{},{} {},{} {},{}\" fill=\"{EDGE}\"/>",
        num(x),
        num(y),
        num(x - 4.5),
        num(base),
        num(x + 4.5),
        num(base)
    );
}

fn draw_edge(
    svg: &mut String,
    layout: &Layout,
    edge: &Edge,
    chain: &[usize],
    start: Port,
    end: Port,
) {
    let band_bottom = |item: usize| {
        let band = layout.items[item].band;
        layout.band_top[band] + layout.band_height[band]
    };
    let band_top = |item: usize| layout.band_top[layout.items[item].band];
    // The line stops short of the arrowhead, which sits on the target's border: at the bottom
    // end for edges going down, at the top end for loops going back up.
    let (start_y, end_y) = if edge.reversed {
        (start.y + ARROW, end.y)
    } else {
        (start.y, end.y - ARROW)
    };
    let mut d = format!("M{} {}", num(start.x), num(start_y));
    let mut x = start.x;
    for k in 0..chain.len() - 1 {
        let (a, b) = (chain[k], chain[k + 1]);
        let ya = band_bottom(a);
        let yb = band_top(b);
        let xb = if k + 1 == chain.len() - 1 {
            end.x
        } else {
            layout.items[b].x
        };
        let mid = (ya + yb) / 2.0;
        if (x - xb).abs() < 0.05 {
            let _ = write!(d, "V{}", num(yb));
            x = xb;
            continue;
        }
        let _ = write!(
            d,
            "V{}C{} {} {} {} {} {}",
            num(ya),
            num(x),
            num(mid),
            num(xb),
            num(mid),
            num(xb),
            num(yb)
        );
        x = xb;
    }
    let _ = write!(d, "V{}", num(end_y));
    let _ = write!(
        svg,
        "<path d=\"{d}\" fill=\"none\" stroke=\"{EDGE}\" stroke-width=\"1.4\"{}/>",
        dash(edge)
    );
    if edge.reversed {
        arrow_vertical(svg, start.x, start.y, -1.0);
    } else {
        arrow_vertical(svg, end.x, end.y, 1.0);
    }
    // The label, in the item next to the source.
    if let Some(&item) = chain.iter().find(|&&i| layout.items[i].label) {
        let item = &layout.items[item];
        let top = layout.band_top[item.band]
            + (layout.band_height[item.band] - edge.lines.len() as f64 * LABEL_LINE) / 2.0;
        let mut text_x = item.x + 6.0;
        let _ = write!(svg, "<g class=\"kantenbeschriftung\">");
        if edge.kind == EdgeKind::Timer {
            clock(svg, text_x + 5.5, top + LABEL_LINE / 2.0, 5.0, EDGE);
            text_x += TIMER_ICON_W;
        }
        for (k, line) in edge.lines.iter().enumerate() {
            let _ = write!(
                svg,
                "<text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{TEXT}\">{}</text>",
                num(text_x),
                num(top + k as f64 * LABEL_LINE + LABEL_LINE * 0.75),
                num(LABEL_FONT),
                esc(line)
            );
        }
        svg.push_str("</g>");
    }
}

/// An edge from a node to itself: a loop on the left of the shape, its label further left.
fn draw_loop(svg: &mut String, graph: &Graph, edge: &Edge, e: usize, (left, top): (f64, f64)) {
    let node = &graph.nodes[edge.from];
    let k = graph.edges[..e]
        .iter()
        .filter(|o| o.is_loop() && o.from == edge.from)
        .count();
    let count = node.loop_labels.len().max(1);
    let cy = top + node.sy + node.sh / 2.0;
    let offset = 5.0 + 3.0 * k as f64;
    let border_x = |dy: f64| {
        let cx = left + node.anchor();
        let (hw, hh) = (node.sw / 2.0, node.sh / 2.0);
        match node.shape {
            Shape::Task | Shape::Consultation => cx - hw,
            Shape::Decision | Shape::Parallel | Shape::Join => {
                cx - hw * (1.0 - dy.abs() / hh).max(0.0)
            }
            _ => cx - (hw * hw - dy * dy).max(0.0).sqrt(),
        }
    };
    let (x_out, x_in) = (border_x(-offset), border_x(offset));
    let reach = left + node.sx - LOOP_W - 6.0 * k as f64;
    let _ = write!(
        svg,
        "<path d=\"M{} {}C{} {} {} {} {} {}\" fill=\"none\" stroke=\"{EDGE}\" \
         stroke-width=\"1.4\"{}/>",
        num(x_out),
        num(cy - offset),
        num(reach),
        num(cy - offset - 10.0),
        num(reach),
        num(cy + offset + 10.0),
        num(x_in - ARROW),
        num(cy + offset),
        dash(edge)
    );
    let _ = write!(
        svg,
        "<polygon points=\"{},{} {},{} {},{}\" fill=\"{EDGE}\"/>",
        num(x_in),
        num(cy + offset),
        num(x_in - ARROW),
        num(cy + offset - 4.5),
        num(x_in - ARROW),
        num(cy + offset + 4.5)
    );
    if let Some(label) = node.loop_labels.get(k) {
        let label_right = left + node.sx - LOOP_W - 6.0 * count as f64 - 4.0;
        let block = node.loop_labels.len() as f64 * LABEL_LINE;
        let y = cy - block / 2.0 + k as f64 * LABEL_LINE + LABEL_LINE * 0.75;
        let _ = write!(
            svg,
            "<g class=\"kantenbeschriftung\"><text x=\"{}\" y=\"{}\" font-size=\"{}\" \
             fill=\"{TEXT}\" text-anchor=\"end\">{}</text></g>",
            num(label_right),
            num(y),
            num(LABEL_FONT),
            esc(label)
        );
    }
}
