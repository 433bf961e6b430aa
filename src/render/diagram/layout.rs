//! The diagram's layout: layers, placeholders for long edges, ordering and x positions (the
//! steps listed in the parent module's documentation).

use super::{
    BAND_GAP, EDGE_SPACING, Edge, EdgeKind, Graph, LABEL_FONT, LABEL_LINE, MARGIN, NODE_PAD,
    NODE_SPACING, TIMER_ICON_W, text_width,
};

/// Something that takes room in a layer: a node, or an edge passing through (with its label in
/// the layer next to its source).
#[derive(Debug, Clone)]
pub(super) struct Item {
    pub(super) node: Option<usize>,
    pub(super) label: bool,
    pub(super) band: usize,
    /// Room left and right of the item's x (where edges pass or attach).
    pub(super) left: f64,
    pub(super) right: f64,
    pub(super) height: f64,
    pub(super) x: f64,
}

#[derive(Debug)]
pub(super) struct Layout {
    pub(super) items: Vec<Item>,
    /// Item ids per layer (band), in order from left to right.
    pub(super) bands: Vec<Vec<usize>>,
    pub(super) band_top: Vec<f64>,
    pub(super) band_height: Vec<f64>,
    /// Per edge, its items from top to bottom (empty for self-loops).
    pub(super) chains: Vec<Vec<usize>>,
    pub(super) node_item: Vec<usize>,
    pub(super) width: f64,
    pub(super) height: f64,
}

impl Layout {
    pub(super) fn new(graph: &Graph) -> Self {
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
    pub(super) fn node_box(&self, graph: &Graph, node: usize) -> (f64, f64) {
        let item = &self.items[self.node_item[node]];
        let n = &graph.nodes[node];
        let x = item.x - n.anchor();
        let y = self.band_top[item.band] + (self.band_height[item.band] - n.h) / 2.0;
        (x, y)
    }
}

/// Marks the edges that close a loop, found by a depth-first search from the start and then from
/// every step not reached yet (in file order).
pub(super) fn back_edges(n: usize, edges: &[Edge]) -> Vec<bool> {
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
pub(super) fn inversions(values: &mut [usize]) -> usize {
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
