//! The diagram's layout as plain geometry for exports that draw it with elements of their own
//! (the BPMN diagram interchange, [`crate::render::bpmn`]): the same layout as the SVG, so
//! both look alike.

use super::{
    Definition, Edge, EdgeKind, EdgeOrigin, Graph, LABEL_FONT, LABEL_LINE, LINE, LOOP_W, Layout,
    Port, SIDE_GAP, TIMER_ICON_W, ports, text_width,
};

/// The laid-out diagram as plain geometry, for an export that draws it with its own elements
/// (the BPMN diagram interchange): the same layout as [`super::workflow_svg`], so both look
/// alike.
#[derive(Debug)]
pub(crate) struct Geometry {
    /// The start marker first, then every step in file order: the shape.
    pub nodes: Vec<Bounds>,
    /// Per node, where its title stands when it is beside the shape (events and gateways);
    /// `None` for titles inside the shape.
    pub titles: Vec<Option<Bounds>>,
    /// Every transition whose target exists.
    pub edges: Vec<EdgeGeometry>,
}

/// A rectangle: left, top, width, height.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bounds {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// A transition as laid out.
#[derive(Debug)]
pub(crate) struct EdgeGeometry {
    /// Index into [`Geometry::nodes`] of the source and the target.
    pub from: usize,
    pub to: usize,
    pub origin: EdgeOrigin,
    /// The label as shown (action title, numbered condition, „sonst“, timer name); empty for
    /// plain flow.
    pub label: String,
    /// From the source's border to the target's, in that direction (also for loops drawn
    /// going back up).
    pub waypoints: Vec<(f64, f64)>,
    /// Where the label stands, if it has one.
    pub label_bounds: Option<Bounds>,
}

/// The layout of `definition` as geometry (see [`Geometry`]).
pub(crate) fn geometry(definition: &Definition) -> Geometry {
    let graph = Graph::new(definition);
    let layout = Layout::new(&graph);
    let boxes: Vec<(f64, f64)> = (0..graph.nodes.len())
        .map(|n| layout.node_box(&graph, n))
        .collect();
    let nodes = graph
        .nodes
        .iter()
        .zip(&boxes)
        .map(|(node, &(left, top))| Bounds {
            x: left + node.sx,
            y: top + node.sy,
            w: node.sw,
            h: node.sh,
        })
        .collect::<Vec<_>>();
    let titles = graph
        .nodes
        .iter()
        .zip(&boxes)
        .map(|(node, &(left, top))| {
            if node.shape.is_rect() || node.lines.is_empty() {
                return None;
            }
            let h = node.lines.len() as f64 * LINE;
            Some(Bounds {
                x: left + node.sx + node.sw + SIDE_GAP,
                y: top + (node.h - h) / 2.0,
                w: node.w - node.sx - node.sw - SIDE_GAP,
                h,
            })
        })
        .collect();
    let (start_port, end_port) = ports(&graph, &layout, &boxes);
    let edges = graph
        .edges
        .iter()
        .enumerate()
        .map(|(e, edge)| {
            let (waypoints, label_bounds) = if edge.is_loop() {
                let earlier = graph.edges[..e]
                    .iter()
                    .filter(|other| other.is_loop() && other.from == edge.from)
                    .count();
                (loop_waypoints(nodes[edge.from], earlier), None)
            } else if let (Some(p0), Some(p1)) = (start_port[e], end_port[e]) {
                edge_waypoints(&layout, edge, &layout.chains[e], p0, p1)
            } else {
                (Vec::new(), None)
            };
            EdgeGeometry {
                from: edge.from,
                to: edge.to,
                origin: edge.origin.clone(),
                label: edge.label.clone(),
                waypoints,
                label_bounds,
            }
        })
        .collect();
    Geometry {
        nodes,
        titles,
        edges,
    }
}

/// The polyline of [`super::draw_edge`]'s path (straight instead of curved between layers),
/// turned to run from source to target, and the box of its label.
fn edge_waypoints(
    layout: &Layout,
    edge: &Edge,
    chain: &[usize],
    start: Port,
    end: Port,
) -> (Vec<(f64, f64)>, Option<Bounds>) {
    let mut points = vec![(start.x, start.y)];
    let mut x = start.x;
    for k in 0..chain.len() - 1 {
        let (a, b) = (chain[k], chain[k + 1]);
        let band_a = layout.items[a].band;
        let ya = layout.band_top[band_a] + layout.band_height[band_a];
        let yb = layout.band_top[layout.items[b].band];
        let xb = if k + 1 == chain.len() - 1 {
            end.x
        } else {
            layout.items[b].x
        };
        if (x - xb).abs() >= 0.05 {
            points.push((x, ya));
            points.push((xb, yb));
        }
        x = xb;
    }
    points.push((end.x, end.y));
    points.dedup();
    if edge.reversed {
        points.reverse();
    }
    let label = chain.iter().find(|&&i| layout.items[i].label).map(|&i| {
        let item = &layout.items[i];
        let h = edge.lines.len() as f64 * LABEL_LINE;
        let w = edge
            .lines
            .iter()
            .map(|l| text_width(l, LABEL_FONT))
            .fold(0.0, f64::max);
        Bounds {
            x: item.x + 6.0,
            y: layout.band_top[item.band] + (layout.band_height[item.band] - h) / 2.0,
            w: w + if edge.kind == EdgeKind::Timer {
                TIMER_ICON_W
            } else {
                0.0
            },
            h,
        }
    });
    (points, label)
}

/// A loop out of the shape's left side and back into it; `earlier` loops of the same shape lie
/// inside it.
fn loop_waypoints(shape: Bounds, earlier: usize) -> Vec<(f64, f64)> {
    let cy = shape.y + shape.h / 2.0;
    let out = shape.x - LOOP_W - 8.0 * earlier as f64;
    vec![
        (shape.x, cy - 6.0),
        (out, cy - 6.0),
        (out, cy + 6.0),
        (shape.x, cy + 6.0),
    ]
}
