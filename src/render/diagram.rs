//! A workflow definition as an SVG diagram, rendered on the server for the administration pages,
//! so administrators see the procedure they wrote without a JavaScript diagram library.
//!
//! Shapes follow BPMN: rounded rectangle for a task, double-bordered rectangle with an envelope for
//! a consultation, empty diamond for a decision, diamond with "+" for parallel and join, a thin
//! circle for the start, a thick circle for an end, a double circle with a clock (or an envelope
//! for a message) for a wait step; a clock in the corner marks boundary timers. Every transition
//! is an arrow: actions carry the action title, decisions their numbered condition or "sonst",
//! interrupting timers are dashed and carry the timer's name next to a clock.
//!
//! Layout (top to bottom) is a small Sugiyama-style layered layout, deterministic for a given
//! definition:
//! 1. a depth-first search from the start marks the edges that close a loop (back edges) and
//!    turns them around, so the rest is acyclic;
//! 2. longest-path layering from the start puts every step one layer below its latest
//!    predecessor; between two step layers lies a layer for edge labels;
//! 3. edges spanning several layers get a placeholder in every layer they cross, the one next to
//!    the source carries the label, so labels take space like nodes and never overlap them;
//! 4. each layer is ordered by a depth-first walk from the start, then by barycenter sweeps (down
//!    and up) each followed by swapping neighbours while that removes crossings; the ordering
//!    with the fewest crossings wins;
//! 5. x positions come from alternating sweeps that pull every item to the weighted mean of its
//!    neighbours, each layer solved exactly under the no-overlap constraints (pool adjacent
//!    violators), with long edges weighted stiffer; a last pass lines up the placeholders of
//!    each long edge (and a node whose only edge on that side it is) wherever every layer on
//!    the way has room, so long edges and simple sequences run straight;
//! 6. edges are vertical within a layer and smooth curves between layers; back edges leave the
//!    top of their source and enter the bottom of their target, so loops read as going back up.
//!    Edges meet rectangles at points spread over the border, diamonds and circles at their top
//!    or bottom point.
//!
//! Known limits: no edge bundling, so a step many edges lead to (a join that every branch can
//! reach) gets a fan of lines that merge just above it; a definition with very many loops back
//! to one step gets wide; layout time grows with steps × layers (a few hundred steps with loops
//! take a second or more in a debug build).
//!
//! The output has no `style` attribute or element (the site's Content-Security-Policy forbids
//! inline styles), no script and no external reference; colours are presentation attributes and
//! every element group has a `class` for the page's stylesheet. Text widths are estimated from
//! character classes with a generous margin, since the server cannot measure fonts.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::engine::definition::{Definition, Step, WaitFor};
use crate::engine::workflow::version_of;

mod geometry;

pub(crate) use geometry::{Bounds, Geometry, geometry};

/// The definition as a standalone, accessible SVG document, so the administration pages can show
/// the procedure a workflow file describes (inline in HTML or as an image). Pass
/// `workflow.definition()` for a compiled [`crate::engine::Workflow`].
///
/// Never panics: references to steps that do not exist (an invalid definition) are left out, an
/// empty definition gives a diagram with only the start. Element ids are derived from the
/// workflow key and the definition's content hash, so two versions can share one page.
pub fn workflow_svg(definition: &Definition) -> String {
    workflow_svg_marked(definition, &Marks::default())
}

/// Where a case stands in its procedure, to be marked in its diagram.
#[derive(Debug, Default)]
pub struct Marks<'a> {
    /// Steps a token is at: outlined, and named in the title and the description.
    pub current: BTreeSet<&'a str>,
    /// Steps the case has left (and is not back at): a check mark, and named as done in the
    /// title and the description.
    pub done: BTreeSet<&'a str>,
}

/// The diagram of a case's procedure with the steps it stands at outlined, so the case page
/// shows where the case is among the branches and loops the progress line cannot show. The
/// outline has a thick border besides its colour, and the title and the description name the
/// current and the finished steps in words.
pub fn workflow_svg_marked(definition: &Definition, marks: &Marks) -> String {
    let mut graph = Graph::new(definition);
    for (i, name) in definition.steps.keys().enumerate() {
        let node = &mut graph.nodes[i + 1];
        if marks.current.contains(name.as_str()) {
            node.mark = Mark::Current;
            node.tooltip.push_str(" – aktueller Schritt");
        } else if marks.done.contains(name.as_str()) {
            node.mark = Mark::Done;
            node.tooltip.push_str(" – erledigt");
        }
    }
    let layout = Layout::new(&graph);
    draw(definition, &graph, &layout)
}

/// How a node is marked for a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    None,
    Current,
    Done,
}

// ---------------------------------------------------------------------------------------------
// Sizes (pixels)

const MARGIN: f64 = 16.0;
/// Title font of steps.
const FONT: f64 = 13.0;
const LINE: f64 = 16.0;
/// Font of edge labels.
const LABEL_FONT: f64 = 12.0;
const LABEL_LINE: f64 = 14.0;
const RECT_W: f64 = 184.0;
const RECT_PAD_X: f64 = 10.0;
const RECT_PAD_Y: f64 = 9.0;
/// Extra room at the top of a rectangle that shows a marker (envelope, clock).
const MARKER_ROW: f64 = 12.0;
const RECT_MIN_H: f64 = 44.0;
const RECT_MAX_LINES: usize = 4;
const DIAMOND: f64 = 42.0;
const EVENT: f64 = 34.0;
const WAIT: f64 = 38.0;
/// Room between a round or diamond shape and its title on the right.
const SIDE_GAP: f64 = 8.0;
const SIDE_TEXT_W: f64 = 150.0;
const SIDE_MAX_LINES: usize = 4;
const LABEL_TEXT_W: f64 = 150.0;
const LABEL_MAX_LINES: usize = 3;
const TIMER_ICON_W: f64 = 15.0;
/// Vertical room between layers, where edges curve.
const BAND_GAP: f64 = 26.0;
/// Free room above and below the nodes of a layer, for the straight ends of edges and arrows.
const NODE_PAD: f64 = 10.0;
const NODE_SPACING: f64 = 24.0;
const EDGE_SPACING: f64 = 8.0;
const ARROW: f64 = 8.0;
const LOOP_W: f64 = 22.0;

const TEXT: &str = "#1a1a1a";
/// Outline of a case's current step: dark amber, about 6.8:1 against white (WCAG 1.4.11).
const CURRENT: &str = "#8a4b00";
/// Check mark of a step the case has left: dark green, about 5.6:1 against the task fill.
const DONE: &str = "#2e6b30";
const EDGE: &str = "#4a4a4a";

// ---------------------------------------------------------------------------------------------
// The graph: one node per step plus the start marker, one edge per transition.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Start,
    Task,
    Consultation,
    Decision,
    Parallel,
    Join,
    WaitTimer,
    WaitMessage,
    End,
}

impl Shape {
    fn of(step: &Step) -> Self {
        match step {
            Step::Task(_) => Shape::Task,
            Step::Consultation(_) => Shape::Consultation,
            Step::Decision(_) => Shape::Decision,
            Step::Parallel(_) => Shape::Parallel,
            Step::Join(_) => Shape::Join,
            Step::Wait(w) if matches!(w.until, WaitFor::Message(_)) => Shape::WaitMessage,
            Step::Wait(_) => Shape::WaitTimer,
            Step::End(_) => Shape::End,
        }
    }

    /// German name of the element, for tooltips and the description.
    fn german(self) -> &'static str {
        match self {
            Shape::Start => "Start",
            Shape::Task => "Aufgabe",
            Shape::Consultation => "Beteiligung",
            Shape::Decision => "Entscheidung",
            Shape::Parallel => "Verzweigung (parallel)",
            Shape::Join => "Zusammenführung",
            Shape::WaitTimer | Shape::WaitMessage => "Warten",
            Shape::End => "Ende",
        }
    }

    fn class(self) -> &'static str {
        match self {
            Shape::Start => "start",
            Shape::Task => "task",
            Shape::Consultation => "consultation",
            Shape::Decision => "decision",
            Shape::Parallel => "parallel",
            Shape::Join => "join",
            Shape::WaitTimer | Shape::WaitMessage => "wait",
            Shape::End => "end",
        }
    }

    fn is_rect(self) -> bool {
        matches!(self, Shape::Task | Shape::Consultation)
    }

    /// Fill and stroke: light fills under dark text, dark strokes (at least 3:1 on white).
    fn colours(self) -> (&'static str, &'static str) {
        match self {
            Shape::Start => ("#ffffff", "#2b2b2b"),
            Shape::Task => ("#e6f0fa", "#1f4e79"),
            Shape::Consultation => ("#e8f4e8", "#2d6a2f"),
            Shape::Decision => ("#fff3d1", "#7a5600"),
            Shape::Parallel | Shape::Join => ("#efe7f6", "#5a3a7a"),
            Shape::WaitTimer | Shape::WaitMessage => ("#ffffff", "#2b2b2b"),
            Shape::End => ("#fbe8e8", "#8a1c1c"),
        }
    }
}

/// Which part of its source step an edge stands for, so an export can name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EdgeOrigin {
    /// From the start to the first step.
    Start,
    /// The action of this name of a task.
    Action(String),
    /// The condition at this index of a decision.
    Condition(usize),
    /// The `otherwise` of a decision.
    Otherwise,
    /// The interrupting timer of this name.
    Timer(String),
    /// The single way on (`next`, a branch of a parallel, the join's continuation).
    Next,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EdgeKind {
    Action,
    Timer,
    Condition,
    Otherwise,
    Flow,
}

impl EdgeKind {
    fn class(self) -> &'static str {
        match self {
            EdgeKind::Action => "action",
            EdgeKind::Timer => "timer",
            EdgeKind::Condition => "condition",
            EdgeKind::Otherwise => "otherwise",
            EdgeKind::Flow => "flow",
        }
    }
}

#[derive(Debug)]
struct Node {
    shape: Shape,
    title: String,
    /// Tooltip: type, title and role.
    tooltip: String,
    /// The title, wrapped.
    lines: Vec<String>,
    /// Shows the clock marker (the step has boundary timers).
    clock: bool,
    /// Box of the node (shape, its title and self-loops).
    w: f64,
    h: f64,
    /// The shape within the box.
    sx: f64,
    sy: f64,
    sw: f64,
    sh: f64,
    /// Labels of edges from the node to itself, wrapped to one line each.
    loop_labels: Vec<String>,
    /// Marked for a case (see [`workflow_svg_marked`]).
    mark: Mark,
}

impl Node {
    /// Horizontal offset of the shape's centre within the box: where edges attach.
    fn anchor(&self) -> f64 {
        self.sx + self.sw / 2.0
    }
}

#[derive(Debug)]
struct Edge {
    from: usize,
    to: usize,
    kind: EdgeKind,
    /// The part of the definition the edge stands for.
    origin: EdgeOrigin,
    /// Full label text (action title, timer name, condition); empty for plain flow.
    label: String,
    lines: Vec<String>,
    /// Closes a loop: drawn from the source's top up to the target's bottom.
    reversed: bool,
}

impl Edge {
    fn is_loop(&self) -> bool {
        self.from == self.to
    }
}

#[derive(Debug)]
struct Graph {
    nodes: Vec<Node>,
    edges: Vec<Edge>,
}

impl Graph {
    fn new(definition: &Definition) -> Self {
        let mut nodes = vec![Node::new(Shape::Start, "Start", "Start".to_string(), false)];
        for (name, step) in &definition.steps {
            let shape = Shape::of(step);
            let mut tooltip = format!("{} „{}“", shape.german(), step.title());
            if let Some(role) = step.role() {
                let _ = write!(tooltip, ", Rolle: {}", definition.role_title(role));
            }
            let timers: Vec<&str> = step.timers().iter().map(|t| t.name.as_str()).collect();
            if !timers.is_empty() {
                let _ = write!(tooltip, ", Fristen: {}", timers.join(", "));
            }
            if let Step::End(end) = step {
                let _ = write!(tooltip, ", Ergebnis: {}", end.outcome);
            }
            let _ = write!(tooltip, " ({name})");
            nodes.push(Node::new(
                shape,
                step.title(),
                tooltip,
                !step.timers().is_empty(),
            ));
        }
        let index = |name: &str| definition.steps.get_index_of(name).map(|i| i + 1);

        let mut edges = Vec::new();
        let mut add =
            |from: usize, to: Option<usize>, kind: EdgeKind, origin: EdgeOrigin, label: String| {
                if let Some(to) = to {
                    let lines = if label.is_empty() {
                        Vec::new()
                    } else {
                        let width = LABEL_TEXT_W
                            - if kind == EdgeKind::Timer {
                                TIMER_ICON_W
                            } else {
                                0.0
                            };
                        wrap(&label, width, LABEL_FONT, LABEL_MAX_LINES)
                    };
                    edges.push(Edge {
                        from,
                        to,
                        kind,
                        origin,
                        label,
                        lines,
                        reversed: false,
                    });
                }
            };
        add(
            0,
            index(&definition.start),
            EdgeKind::Flow,
            EdgeOrigin::Start,
            String::new(),
        );
        for (i, step) in definition.steps.values().enumerate() {
            let from = i + 1;
            let next = |to: &str| (index(to), EdgeKind::Flow, EdgeOrigin::Next, String::new());
            let mut outgoing = Vec::new();
            match step {
                Step::Task(task) => {
                    for (name, action) in &task.actions {
                        outgoing.push((
                            index(&action.to),
                            EdgeKind::Action,
                            EdgeOrigin::Action(name.clone()),
                            action.title.clone(),
                        ));
                    }
                }
                Step::Consultation(c) => outgoing.push(next(&c.next)),
                Step::Decision(d) => {
                    for (n, condition) in d.conditions.iter().enumerate() {
                        let text = condition.when.0.split_whitespace().collect::<Vec<_>>();
                        let label = format!("{}: {}", n + 1, text.join(" "));
                        outgoing.push((
                            index(&condition.to),
                            EdgeKind::Condition,
                            EdgeOrigin::Condition(n),
                            label,
                        ));
                    }
                    outgoing.push((
                        index(&d.otherwise),
                        EdgeKind::Otherwise,
                        EdgeOrigin::Otherwise,
                        "sonst".into(),
                    ));
                }
                Step::Parallel(p) => {
                    for branch in &p.branches {
                        outgoing.push(next(branch));
                    }
                }
                Step::Join(j) => outgoing.push(next(&j.next)),
                Step::Wait(w) => outgoing.push(next(&w.next)),
                Step::End(_) => {}
            }
            for timer in step.timers() {
                if let Some(to) = &timer.to {
                    outgoing.push((
                        index(to),
                        EdgeKind::Timer,
                        EdgeOrigin::Timer(timer.name.clone()),
                        timer.name.clone(),
                    ));
                }
            }
            for (to, kind, origin, label) in outgoing {
                add(from, to, kind, origin, label);
            }
        }

        for (i, node) in nodes.iter_mut().enumerate() {
            let loops: Vec<String> = edges
                .iter()
                .filter(|e| e.is_loop() && e.from == i)
                .map(|e| {
                    let text = if e.label.is_empty() {
                        "zurück"
                    } else {
                        &e.label
                    };
                    wrap(text, LABEL_TEXT_W, LABEL_FONT, 1).concat()
                })
                .collect();
            node.add_loops(loops);
        }
        let reversed = back_edges(nodes.len(), &edges);
        for (edge, reversed) in edges.iter_mut().zip(reversed) {
            edge.reversed = reversed;
        }
        Graph { nodes, edges }
    }
}

impl Node {
    fn new(shape: Shape, title: &str, tooltip: String, clock: bool) -> Self {
        let mut node = Node {
            shape,
            title: title.to_string(),
            tooltip,
            lines: Vec::new(),
            clock: clock && shape.is_rect(),
            w: 0.0,
            h: 0.0,
            sx: 0.0,
            sy: 0.0,
            sw: 0.0,
            sh: 0.0,
            loop_labels: Vec::new(),
            mark: Mark::None,
        };
        if shape.is_rect() {
            node.lines = wrap(title, RECT_W - 2.0 * RECT_PAD_X, FONT, RECT_MAX_LINES);
            let marker = if node.clock || shape == Shape::Consultation {
                MARKER_ROW
            } else {
                0.0
            };
            let h = (node.lines.len() as f64 * LINE + 2.0 * RECT_PAD_Y + marker).max(RECT_MIN_H);
            (node.w, node.h, node.sw, node.sh) = (RECT_W, h, RECT_W, h);
        } else {
            let size = match shape {
                Shape::Decision | Shape::Parallel | Shape::Join => DIAMOND,
                Shape::WaitTimer | Shape::WaitMessage => WAIT,
                _ => EVENT,
            };
            node.lines = wrap(title, SIDE_TEXT_W, FONT, SIDE_MAX_LINES);
            let text_w = node
                .lines
                .iter()
                .map(|l| text_width(l, FONT))
                .fold(0.0, f64::max);
            let text_h = node.lines.len() as f64 * LINE;
            node.w = if node.lines.is_empty() {
                size
            } else {
                size + SIDE_GAP + text_w
            };
            node.h = size.max(text_h);
            (node.sw, node.sh) = (size, size);
            node.sy = (node.h - size) / 2.0;
        }
        node
    }

    /// Makes room on the left of the shape for edges from the node to itself and their labels.
    fn add_loops(&mut self, labels: Vec<String>) {
        if labels.is_empty() {
            return;
        }
        let label_w = labels
            .iter()
            .map(|l| text_width(l, LABEL_FONT))
            .fold(0.0, f64::max);
        let extra = LOOP_W + 6.0 * labels.len() as f64 + 4.0 + label_w;
        self.sx += extra;
        self.w += extra;
        let needed = labels.len() as f64 * LABEL_LINE + 4.0;
        if needed > self.h {
            self.sy += (needed - self.h) / 2.0;
            self.h = needed;
        }
        self.loop_labels = labels;
    }
}

// ---------------------------------------------------------------------------------------------
// Text

/// Estimated advance of a character in em, erring on the wide side (DejaVu Sans is wider than
/// Arial or Liberation Sans).
fn char_em(c: char) -> f64 {
    match c {
        'i' | 'j' | 'l' | '!' | '|' | '.' | ',' | ':' | ';' | '\'' | '´' | '`' => 0.32,
        'f' | 't' | 'r' | 'I' | ' ' | '(' | ')' | '[' | ']' | '-' | '/' | '"' => 0.42,
        'm' | 'w' | 'M' | 'W' | '—' | '%' | '@' => 0.95,
        'A'..='Z' | 'Ä' | 'Ö' | 'Ü' | '&' | '_' | '=' | '<' | '>' | '–' | '„' | '“' => {
            0.74
        }
        c if c.is_ascii() || ('\u{a0}'..='\u{24f}').contains(&c) => 0.62,
        _ => 1.0,
    }
}

fn text_width(text: &str, font: f64) -> f64 {
    text.chars().map(char_em).sum::<f64>() * font
}

/// Greedy word wrap to `max_width`; words wider than a line are cut, and the last of
/// `max_lines` lines ends in "…" when text is left over.
fn wrap(text: &str, max_width: f64, font: f64, max_lines: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    for word in text.split_whitespace() {
        if text_width(word, font) <= max_width {
            pieces.push(word.to_string());
            continue;
        }
        let mut piece = String::new();
        for c in word.chars() {
            if !piece.is_empty() && text_width(&piece, font) + char_em(c) * font > max_width {
                pieces.push(std::mem::take(&mut piece));
            }
            piece.push(c);
        }
        pieces.push(piece);
    }
    let mut lines: Vec<String> = Vec::new();
    let mut truncated = false;
    for piece in pieces {
        let fits = |line: &&mut String| text_width(&format!("{line} {piece}"), font) <= max_width;
        if let Some(line) = lines.last_mut().filter(fits) {
            line.push(' ');
            line.push_str(&piece);
        } else if lines.len() == max_lines {
            truncated = true;
            break;
        } else {
            lines.push(piece);
        }
    }
    if truncated && let Some(last) = lines.last_mut() {
        while !last.is_empty() && text_width(&format!("{last} …"), font) > max_width {
            last.pop();
        }
        let kept = last.trim_end().to_string();
        *last = format!("{kept} …").trim_start().to_string();
    }
    lines
}

/// Escapes text for XML content and attribute values, and replaces characters XML 1.0 does not
/// allow (control characters from a YAML escape) so the document stays well-formed.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate with at most one decimal.
pub(crate) fn num(value: f64) -> String {
    let value = if value.is_finite() { value } else { 0.0 };
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    }
}

// ---------------------------------------------------------------------------------------------
// Layout

/// Something that takes room in a layer: a node, or an edge passing through (with its label in
/// the layer next to its source).
#[derive(Debug, Clone)]
struct Item {
    node: Option<usize>,
    label: bool,
    band: usize,
    /// Room left and right of the item's x (where edges pass or attach).
    left: f64,
    right: f64,
    height: f64,
    x: f64,
}

#[derive(Debug)]
struct Layout {
    items: Vec<Item>,
    /// Item ids per layer (band), in order from left to right.
    bands: Vec<Vec<usize>>,
    band_top: Vec<f64>,
    band_height: Vec<f64>,
    /// Per edge, its items from top to bottom (empty for self-loops).
    chains: Vec<Vec<usize>>,
    node_item: Vec<usize>,
    width: f64,
    height: f64,
}

impl Layout {
    fn new(graph: &Graph) -> Self {
        let n = graph.nodes.len();
        let layer = layers(graph);
        let band_count = layer.iter().max().map_or(1, |l| 2 * l + 1);

        let mut items = Vec::new();
        let node_item: Vec<usize> = (0..n)
            .map(|i| {
                let node = &graph.nodes[i];
                items.push(Item {
                    node: Some(i),
                    label: false,
                    band: 2 * layer[i],
                    left: node.anchor(),
                    right: node.w - node.anchor(),
                    height: node.h + 2.0 * NODE_PAD,
                    x: 0.0,
                });
                items.len() - 1
            })
            .collect();

        let mut chains = Vec::with_capacity(graph.edges.len());
        for edge in &graph.edges {
            if edge.is_loop() {
                chains.push(Vec::new());
                continue;
            }
            let (top, bottom) = if edge.reversed {
                (edge.to, edge.from)
            } else {
                (edge.from, edge.to)
            };
            let (top_band, bottom_band) = (2 * layer[top], 2 * layer[bottom]);
            let label_band = if edge.reversed {
                bottom_band.saturating_sub(1)
            } else {
                top_band + 1
            };
            let mut chain = vec![node_item[top]];
            for band in top_band + 1..bottom_band {
                let label = band == label_band && !edge.lines.is_empty();
                let (left, right, height) = if label {
                    let icon = if edge.kind == EdgeKind::Timer {
                        TIMER_ICON_W
                    } else {
                        0.0
                    };
                    let text_w = edge
                        .lines
                        .iter()
                        .map(|l| text_width(l, LABEL_FONT))
                        .fold(0.0, f64::max);
                    (
                        4.0,
                        6.0 + icon + text_w + 2.0,
                        edge.lines.len() as f64 * LABEL_LINE + 4.0,
                    )
                } else {
                    (EDGE_SPACING / 2.0, EDGE_SPACING / 2.0, 0.0)
                };
                items.push(Item {
                    node: None,
                    label,
                    band,
                    left,
                    right,
                    height,
                    x: 0.0,
                });
                chain.push(items.len() - 1);
            }
            chain.push(node_item[bottom]);
            chains.push(chain);
        }

        let mut layout = Layout {
            items,
            bands: vec![Vec::new(); band_count],
            band_top: vec![0.0; band_count],
            band_height: vec![0.0; band_count],
            chains,
            node_item,
            width: 0.0,
            height: 0.0,
        };
        layout.order();
        layout.place_x();
        layout.place_y();
        layout
    }

    /// Links between items of neighbouring bands: (upper, lower, weight).
    fn links(&self) -> Vec<(usize, usize, f64)> {
        let mut links = Vec::new();
        for chain in &self.chains {
            for pair in chain.windows(2) {
                let dummies = [pair[0], pair[1]]
                    .iter()
                    .filter(|&&i| self.items[i].node.is_none())
                    .count();
                let weight = match dummies {
                    2 => 8.0,
                    1 => 2.0,
                    _ => 1.0,
                };
                links.push((pair[0], pair[1], weight));
            }
        }
        links
    }

    /// Orders every band: an initial depth-first order, then barycenter sweeps, keeping the
    /// order with the fewest crossings.
    fn order(&mut self) {
        let links = self.links();
        let count = self.items.len();
        let mut down: Vec<Vec<usize>> = vec![Vec::new(); count];
        let mut up: Vec<Vec<usize>> = vec![Vec::new(); count];
        for &(a, b, _) in &links {
            down[a].push(b);
            up[b].push(a);
        }

        // Depth-first from the start, children in transition order.
        let mut seen = vec![false; count];
        let roots = std::iter::once(self.node_item[0])
            .chain(self.node_item.iter().copied())
            .chain(0..count)
            .collect::<Vec<_>>();
        for root in roots {
            if seen[root] {
                continue;
            }
            let mut stack = vec![root];
            while let Some(item) = stack.pop() {
                if seen[item] {
                    continue;
                }
                seen[item] = true;
                self.bands[self.items[item].band].push(item);
                stack.extend(down[item].iter().rev().filter(|&&c| !seen[c]));
            }
        }

        self.transpose(&up, &down);
        let mut best = self.bands.clone();
        let mut best_crossings = self.crossings(&links);
        for round in 0..12 {
            if best_crossings == 0 {
                break;
            }
            if round % 2 == 0 {
                for band in 1..self.bands.len() {
                    self.sort_band(band, &up);
                }
            } else {
                for band in (0..self.bands.len().saturating_sub(1)).rev() {
                    self.sort_band(band, &down);
                }
            }
            self.transpose(&up, &down);
            let crossings = self.crossings(&links);
            if crossings < best_crossings {
                best_crossings = crossings;
                best = self.bands.clone();
            }
        }
        self.bands = best;
    }

    /// Swaps neighbours within a band while that removes crossings (a few rounds at most).
    fn transpose(&mut self, up: &[Vec<usize>], down: &[Vec<usize>]) {
        let mut pos = self.positions();
        let pair = |left: usize, right: usize, pos: &[usize]| {
            [up, down]
                .iter()
                .map(|neighbours| {
                    let mut count = 0;
                    for &p in &neighbours[left] {
                        count += neighbours[right]
                            .iter()
                            .filter(|&&q| pos[p] > pos[q])
                            .count();
                    }
                    count
                })
                .sum::<usize>()
        };
        for _ in 0..8 {
            let mut improved = false;
            for band in 0..self.bands.len() {
                for k in 0..self.bands[band].len().saturating_sub(1) {
                    let (u, v) = (self.bands[band][k], self.bands[band][k + 1]);
                    if pair(v, u, &pos) < pair(u, v, &pos) {
                        self.bands[band].swap(k, k + 1);
                        pos[u] = k + 1;
                        pos[v] = k;
                        improved = true;
                    }
                }
            }
            if !improved {
                break;
            }
        }
    }

    fn positions(&self) -> Vec<usize> {
        let mut pos = vec![0; self.items.len()];
        for band in &self.bands {
            for (p, &item) in band.iter().enumerate() {
                pos[item] = p;
            }
        }
        pos
    }

    /// Sorts one band by the mean position of each item's neighbours in `neighbours`; items
    /// without neighbours keep their place.
    fn sort_band(&mut self, band: usize, neighbours: &[Vec<usize>]) {
        let pos = self.positions();
        let mut keyed: Vec<(f64, usize)> = self.bands[band]
            .iter()
            .enumerate()
            .map(|(p, &item)| {
                let others = &neighbours[item];
                let key = if others.is_empty() {
                    p as f64
                } else {
                    others.iter().map(|&o| pos[o] as f64).sum::<f64>() / others.len() as f64
                };
                (key, item)
            })
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
        self.bands[band] = keyed.into_iter().map(|(_, item)| item).collect();
    }

    /// Number of crossing links, counted band by band as inversions.
    fn crossings(&self, links: &[(usize, usize, f64)]) -> usize {
        let pos = self.positions();
        let mut by_band: Vec<Vec<(usize, usize)>> = vec![Vec::new(); self.bands.len()];
        for &(a, b, _) in links {
            by_band[self.items[a].band].push((pos[a], pos[b]));
        }
        by_band
            .into_iter()
            .map(|mut pairs| {
                pairs.sort_unstable();
                let mut lower: Vec<usize> = pairs.into_iter().map(|(_, b)| b).collect();
                inversions(&mut lower)
            })
            .sum()
    }

    /// Horizontal positions: pack, then alternate sweeps towards the neighbours' weighted mean.
    fn place_x(&mut self) {
        let links = self.links();
        let count = self.items.len();
        let mut up: Vec<Vec<(usize, f64)>> = vec![Vec::new(); count];
        let mut down: Vec<Vec<(usize, f64)>> = vec![Vec::new(); count];
        for &(a, b, w) in &links {
            down[a].push((b, w));
            up[b].push((a, w));
        }
        let both: Vec<Vec<(usize, f64)>> = (0..count)
            .map(|i| up[i].iter().chain(&down[i]).copied().collect())
            .collect();

        for band in 0..self.bands.len() {
            let mut x = 0.0;
            let order = self.bands[band].clone();
            for (k, &item) in order.iter().enumerate() {
                if k > 0 {
                    x += self.separation(order[k - 1], item);
                }
                self.items[item].x = x;
            }
        }
        let bands = self.bands.len();
        for _ in 0..20 {
            for band in 1..bands {
                self.settle(band, &up);
            }
            for band in (0..bands.saturating_sub(1)).rev() {
                self.settle(band, &down);
            }
        }
        for _ in 0..6 {
            for band in 0..bands {
                self.settle(band, &both);
            }
        }

        self.straighten();

        let min_left = self
            .items
            .iter()
            .map(|i| i.x - i.left)
            .fold(f64::INFINITY, f64::min);
        let shift = if min_left.is_finite() {
            MARGIN - min_left
        } else {
            MARGIN
        };
        for item in &mut self.items {
            item.x += shift;
        }
        self.width = self.items.iter().map(|i| i.x + i.right).fold(0.0, f64::max) + MARGIN;
    }

    /// Straightens edges: moves each run of an edge's placeholders to one x that every layer on
    /// the way has room for (between the neighbours' positions), as close as possible to where
    /// they are; a run ends where there is no such x. An end node joins the run when this edge
    /// is its only one on that side, so simple sequences of steps line up vertically.
    fn straighten(&mut self) {
        let pos = self.positions();
        let (mut ups, mut downs) = (
            vec![0usize; self.items.len()],
            vec![0usize; self.items.len()],
        );
        for (a, b, _) in self.links() {
            downs[a] += 1;
            ups[b] += 1;
        }
        for _ in 0..8 {
            for e in 0..self.chains.len() {
                let chain = &self.chains[e];
                if chain.len() < 3 {
                    continue;
                }
                let (first, last) = (chain[0], chain[chain.len() - 1]);
                let mut run_items = Vec::with_capacity(chain.len());
                if downs[first] == 1 {
                    run_items.push(first);
                }
                run_items.extend_from_slice(&chain[1..chain.len() - 1]);
                if ups[last] == 1 {
                    run_items.push(last);
                }
                self.align(&run_items, &pos);
            }
        }
    }

    /// Lines up consecutive items of `items` greedily from the top (see [`Self::straighten`]).
    fn align(&mut self, items: &[usize], pos: &[usize]) {
        let mut start = 0;
        while start < items.len() {
            let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
            let mut end = start;
            while end < items.len() {
                let (l, h) = self.room(items[end], pos);
                if lo.max(l) > hi.min(h) + 1e-6 {
                    break;
                }
                (lo, hi) = (lo.max(l), hi.min(h));
                end += 1;
            }
            if end <= start + 1 {
                start += 1;
                continue;
            }
            let run = &items[start..end];
            let mean = run.iter().map(|&i| self.items[i].x).sum::<f64>() / run.len() as f64;
            let x = mean.max(lo).min(hi);
            for &i in run {
                self.items[i].x = x;
            }
            start = end;
        }
    }

    /// The interval an item can move in without coming closer to its neighbours than allowed.
    fn room(&self, item: usize, pos: &[usize]) -> (f64, f64) {
        let band = &self.bands[self.items[item].band];
        let p = pos[item];
        let lo = match p.checked_sub(1).map(|q| band[q]) {
            Some(left) => self.items[left].x + self.separation(left, item),
            None => f64::NEG_INFINITY,
        };
        let hi = match band.get(p + 1) {
            Some(&right) => self.items[right].x - self.separation(item, right),
            None => f64::INFINITY,
        };
        (lo.min(self.items[item].x), hi.max(self.items[item].x))
    }

    fn separation(&self, a: usize, b: usize) -> f64 {
        let (a, b) = (&self.items[a], &self.items[b]);
        let gap = if a.node.is_some() && b.node.is_some() {
            NODE_SPACING
        } else if a.label || b.label {
            EDGE_SPACING + 4.0
        } else {
            EDGE_SPACING
        };
        a.right + gap + b.left
    }

    /// Moves the items of one band as close as the order and spacing allow to the weighted mean
    /// of their neighbours (least squares, solved exactly by pooling adjacent violators).
    fn settle(&mut self, band: usize, neighbours: &[Vec<(usize, f64)>]) {
        let order = &self.bands[band];
        if order.is_empty() {
            return;
        }
        let mut offsets = Vec::with_capacity(order.len());
        let mut offset = 0.0;
        for (k, &item) in order.iter().enumerate() {
            if k > 0 {
                offset += self.separation(order[k - 1], item);
            }
            offsets.push(offset);
        }
        // Blocks of (weighted sum of targets, total weight, item count).
        let mut blocks: Vec<(f64, f64, usize)> = Vec::new();
        for (k, &item) in order.iter().enumerate() {
            let others = &neighbours[item];
            let total: f64 = others.iter().map(|(_, w)| w).sum();
            let (desired, weight) = if total > 0.0 {
                let mean = others
                    .iter()
                    .map(|&(o, w)| self.items[o].x * w)
                    .sum::<f64>()
                    / total;
                (mean, total)
            } else {
                (self.items[item].x, 0.05)
            };
            blocks.push(((desired - offsets[k]) * weight, weight, 1));
            while blocks.len() > 1 {
                let last = blocks[blocks.len() - 1];
                let previous = blocks[blocks.len() - 2];
                if previous.0 / previous.1 <= last.0 / last.1 {
                    break;
                }
                blocks.pop();
                let merged = blocks.last_mut().expect("two blocks");
                merged.0 += last.0;
                merged.1 += last.1;
                merged.2 += last.2;
            }
        }
        let mut k = 0;
        let order = order.clone();
        for (sum, weight, len) in blocks {
            let value = sum / weight;
            for _ in 0..len {
                self.items[order[k]].x = value + offsets[k];
                k += 1;
            }
        }
    }

    fn place_y(&mut self) {
        let mut y = MARGIN;
        for band in 0..self.bands.len() {
            let height = self.bands[band]
                .iter()
                .map(|&i| self.items[i].height)
                .fold(0.0, f64::max);
            self.band_top[band] = y;
            self.band_height[band] = height;
            y += height + BAND_GAP;
        }
        self.height = y - BAND_GAP + MARGIN;
    }

    /// Top-left corner of a node's box.
    fn node_box(&self, graph: &Graph, node: usize) -> (f64, f64) {
        let item = &self.items[self.node_item[node]];
        let n = &graph.nodes[node];
        let x = item.x - n.anchor();
        let y = self.band_top[item.band] + (self.band_height[item.band] - n.h) / 2.0;
        (x, y)
    }
}

/// Marks the edges that close a loop, found by a depth-first search from the start and then from
/// every step not reached yet (in file order).
fn back_edges(n: usize, edges: &[Edge]) -> Vec<bool> {
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (e, edge) in edges.iter().enumerate() {
        out[edge.from].push(e);
    }
    let mut reversed = vec![false; edges.len()];
    // 0: not visited, 1: on the current path, 2: done.
    let mut state = vec![0u8; n];
    for root in 0..n {
        if state[root] != 0 {
            continue;
        }
        state[root] = 1;
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(top) = stack.last_mut() {
            let (node, next) = *top;
            if let Some(&e) = out[node].get(next) {
                top.1 += 1;
                let to = edges[e].to;
                match state[to] {
                    0 => {
                        state[to] = 1;
                        stack.push((to, 0));
                    }
                    1 => reversed[e] = to != node,
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
    reversed
}

/// Longest-path layers over the edges with loops turned around; the start is layer 0, steps
/// are at least in layer 1.
fn layers(graph: &Graph) -> Vec<usize> {
    let n = graph.nodes.len();
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut indegree = vec![0usize; n];
    for edge in &graph.edges {
        if edge.is_loop() {
            continue;
        }
        let (a, b) = if edge.reversed {
            (edge.to, edge.from)
        } else {
            (edge.from, edge.to)
        };
        succ[a].push(b);
        indegree[b] += 1;
    }
    let mut layer: Vec<usize> = (0..n).map(|i| usize::from(i > 0)).collect();
    let mut ready: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).rev().collect();
    while let Some(node) = ready.pop() {
        for &next in &succ[node] {
            layer[next] = layer[next].max(layer[node] + 1);
            indegree[next] -= 1;
            if indegree[next] == 0 {
                ready.push(next);
            }
        }
    }
    layer
}

/// Number of pairs out of order (merge sort).
fn inversions(values: &mut [usize]) -> usize {
    if values.len() < 2 {
        return 0;
    }
    let mid = values.len() / 2;
    let mut count = inversions(&mut values[..mid]) + inversions(&mut values[mid..]);
    let mut merged = Vec::with_capacity(values.len());
    let (mut i, mut j) = (0, mid);
    while i < mid && j < values.len() {
        if values[i] <= values[j] {
            merged.push(values[i]);
            i += 1;
        } else {
            merged.push(values[j]);
            count += mid - i;
            j += 1;
        }
    }
    merged.extend_from_slice(&values[i..mid]);
    merged.extend_from_slice(&values[j..]);
    values.copy_from_slice(&merged);
    count
}

// ---------------------------------------------------------------------------------------------
// Drawing

/// Where an edge meets a node: x and y on the shape's border.
#[derive(Debug, Clone, Copy)]
struct Port {
    x: f64,
    y: f64,
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
fn ports(
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

fn draw(definition: &Definition, graph: &Graph, layout: &Layout) -> String {
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

#[cfg(test)]
mod tests;
