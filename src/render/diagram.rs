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
//!
//! Here: the shapes, sizes and the graph built from a definition. Beside it: `text` (widths,
//! wrapping, escaping), `layout` (the steps above), `draw` (the SVG) and `geometry` (the same
//! layout for the BPMN export).

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::engine::definition::{Definition, Step, WaitFor};

mod draw;
mod geometry;
mod layout;
mod text;

use draw::{Port, draw, ports};
pub(crate) use geometry::{Bounds, Geometry, geometry};
use layout::{Layout, back_edges};
pub(crate) use text::{esc, num};
use text::{text_width, wrap};

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

#[cfg(test)]
mod tests;
