//! A layered (Sugiyama-style) layout for directed acyclic graphs, drawn top to bottom: layers by
//! longest path to the sinks, dummy vertices on edges that skip layers, barycentre ordering
//! sweeps that keep the ordering with fewest crossings, then x positions pulled towards the
//! neighbours' mean while keeping each layer's order and spacing.

/// Distances of the layout, in pixels.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Spacing {
    /// Between neighbours in a layer.
    pub(crate) gap_x: f64,
    /// Between layers (room for edge labels).
    pub(crate) gap_y: f64,
    /// Around the drawing.
    pub(crate) margin: f64,
    /// Width reserved for an edge passing through a layer.
    pub(crate) dummy_width: f64,
}

/// Where everything went.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    /// Centre of each node.
    pub(crate) centres: Vec<(f64, f64)>,
    /// One route per edge: from the bottom of its source to the top of its target, through the
    /// layers it crosses.
    pub(crate) routes: Vec<Vec<(f64, f64)>>,
    pub(crate) width: f64,
    pub(crate) height: f64,
}

const ORDER_SWEEPS: usize = 24;
const POSITION_ROUNDS: usize = 8;

struct Vertex {
    layer: usize,
    width: f64,
    height: f64,
    up: Vec<usize>,
    down: Vec<usize>,
}

/// Lays out nodes of the given `(width, height)` joined by `edges` `(from, to)`; sources end
/// up at the top. Edges must not form a cycle.
pub(crate) fn layered(sizes: &[(f64, f64)], edges: &[(usize, usize)], spacing: Spacing) -> Layout {
    let n = sizes.len();
    let rank = ranks(n, edges);
    let top = rank.iter().copied().max().unwrap_or(0);
    let mut vertices: Vec<Vertex> = sizes
        .iter()
        .zip(&rank)
        .map(|(&(width, height), r)| Vertex {
            layer: top - r,
            width,
            height,
            up: Vec::new(),
            down: Vec::new(),
        })
        .collect();
    // Each edge becomes a chain of vertices, one per layer it touches.
    let chains: Vec<Vec<usize>> = edges
        .iter()
        .map(|&(from, to)| {
            let mut chain = vec![from];
            for layer in vertices[from].layer + 1..vertices[to].layer {
                vertices.push(Vertex {
                    layer,
                    width: spacing.dummy_width,
                    height: 0.0,
                    up: Vec::new(),
                    down: Vec::new(),
                });
                chain.push(vertices.len() - 1);
            }
            chain.push(to);
            for pair in chain.windows(2) {
                vertices[pair[0]].down.push(pair[1]);
                vertices[pair[1]].up.push(pair[0]);
            }
            chain
        })
        .collect();
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); top + 1];
    for (v, vertex) in vertices.iter().enumerate() {
        layers[vertex.layer].push(v);
    }
    order(&mut layers, &vertices);
    let x = positions(&layers, &vertices, spacing);

    let heights: Vec<f64> = layers
        .iter()
        .map(|l| l.iter().map(|&v| vertices[v].height).fold(0.0, f64::max))
        .collect();
    let mut layer_centre = Vec::with_capacity(layers.len());
    let mut y = spacing.margin;
    for h in &heights {
        layer_centre.push(y + h / 2.0);
        y += h + spacing.gap_y;
    }
    let height = y - spacing.gap_y + spacing.margin;
    let width = vertices
        .iter()
        .enumerate()
        .map(|(v, vertex)| x[v] + vertex.width / 2.0)
        .fold(0.0, f64::max)
        + spacing.margin;
    let centre = |v: usize| (x[v], layer_centre[vertices[v].layer]);

    let routes = chains
        .iter()
        .enumerate()
        .map(|(e, chain)| {
            let (from, to) = (chain[0], chain[chain.len() - 1]);
            let (fx, fy) = centre(from);
            let (tx, ty) = centre(to);
            let exit = exit_offset(e, from, edges, &chains, &x) * vertices[from].width;
            let mut route = vec![(fx + exit, fy + vertices[from].height / 2.0)];
            route.extend(chain[1..chain.len() - 1].iter().map(|&d| centre(d)));
            let entry = entry_offset(e, to, edges, &chains, &x) * vertices[to].width;
            route.push((tx + entry, ty - vertices[to].height / 2.0));
            route
        })
        .collect();
    Layout {
        centres: (0..n).map(centre).collect(),
        routes,
        width,
        height,
    }
}

/// Longest path from each node to a sink (nodes with no outgoing edge have rank 0).
fn ranks(n: usize, edges: &[(usize, usize)]) -> Vec<usize> {
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut indegree = vec![0usize; n];
    for &(from, to) in edges {
        out[from].push(to);
        indegree[to] += 1;
    }
    let mut topological: Vec<usize> = (0..n).filter(|&v| indegree[v] == 0).collect();
    let mut i = 0;
    while i < topological.len() {
        let v = topological[i];
        for &w in &out[v] {
            indegree[w] -= 1;
            if indegree[w] == 0 {
                topological.push(w);
            }
        }
        i += 1;
    }
    let mut rank = vec![0usize; n];
    for &v in topological.iter().rev() {
        rank[v] = out[v].iter().map(|&w| rank[w] + 1).max().unwrap_or(0);
    }
    rank
}

/// Where along its target's top edge an edge enters, as a fraction of the target's width:
/// edges into one node are spread out, left to right by where they come from.
fn entry_offset(
    edge: usize,
    to: usize,
    edges: &[(usize, usize)],
    chains: &[Vec<usize>],
    x: &[f64],
) -> f64 {
    let from_x = |e: usize| x[chains[e][chains[e].len() - 2]];
    let mut incoming: Vec<usize> = (0..edges.len()).filter(|&e| edges[e].1 == to).collect();
    incoming.sort_by(|&a, &b| from_x(a).total_cmp(&from_x(b)).then(a.cmp(&b)));
    let k = incoming.len() as f64;
    let j = incoming.iter().position(|&e| e == edge).unwrap_or(0) as f64;
    0.6 * ((j + 1.0) / (k + 1.0) - 0.5)
}

/// Where along its source's bottom edge an edge leaves, as a fraction of the source's width:
/// edges out of one node are spread out, left to right by where they go (parallel edges, as
/// `x*x` draws, by their order), so no two leave from one point.
fn exit_offset(
    edge: usize,
    from: usize,
    edges: &[(usize, usize)],
    chains: &[Vec<usize>],
    x: &[f64],
) -> f64 {
    let to_x = |e: usize| x[chains[e][1]];
    let mut outgoing: Vec<usize> = (0..edges.len()).filter(|&e| edges[e].0 == from).collect();
    outgoing.sort_by(|&a, &b| to_x(a).total_cmp(&to_x(b)).then(a.cmp(&b)));
    let k = outgoing.len() as f64;
    let j = outgoing.iter().position(|&e| e == edge).unwrap_or(0) as f64;
    0.6 * ((j + 1.0) / (k + 1.0) - 0.5)
}

/// Barycentre sweeps, down then up, keeping the ordering with the fewest crossings.
fn order(layers: &mut [Vec<usize>], vertices: &[Vertex]) {
    let mut pos = vec![0.0f64; vertices.len()];
    let index = |layers: &[Vec<usize>], pos: &mut [f64]| {
        for layer in layers {
            for (i, &v) in layer.iter().enumerate() {
                pos[v] = i as f64;
            }
        }
    };
    index(layers, &mut pos);
    let mut best = layers.to_vec();
    let mut fewest = crossings(layers, vertices, &pos);
    for sweep in 0..ORDER_SWEEPS {
        let downward = sweep % 2 == 0;
        let sequence: Vec<usize> = if downward {
            (1..layers.len()).collect()
        } else {
            (0..layers.len().saturating_sub(1)).rev().collect()
        };
        for l in sequence {
            let key = |v: usize| {
                let near = if downward {
                    &vertices[v].up
                } else {
                    &vertices[v].down
                };
                if near.is_empty() {
                    pos[v]
                } else {
                    near.iter().map(|&w| pos[w]).sum::<f64>() / near.len() as f64
                }
            };
            let mut keyed: Vec<(f64, usize)> = layers[l].iter().map(|&v| (key(v), v)).collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            layers[l] = keyed.into_iter().map(|(_, v)| v).collect();
            for (i, &v) in layers[l].iter().enumerate() {
                pos[v] = i as f64;
            }
        }
        let count = crossings(layers, vertices, &pos);
        if count < fewest {
            fewest = count;
            best = layers.to_vec();
        }
    }
    layers.clone_from_slice(&best);
}

/// Edge crossings between consecutive layers.
fn crossings(layers: &[Vec<usize>], vertices: &[Vertex], pos: &[f64]) -> usize {
    let mut total = 0;
    for layer in layers {
        let segments: Vec<(f64, f64)> = layer
            .iter()
            .flat_map(|&v| vertices[v].down.iter().map(move |&w| (pos[v], pos[w])))
            .collect();
        for (i, a) in segments.iter().enumerate() {
            total += segments[i + 1..]
                .iter()
                .filter(|b| (a.0 - b.0) * (a.1 - b.1) < 0.0)
                .count();
        }
    }
    total
}

/// x centres: start packed, then pull each vertex towards its neighbours' mean, layer by layer
/// down and up, keeping order and spacing.
fn positions(layers: &[Vec<usize>], vertices: &[Vertex], spacing: Spacing) -> Vec<f64> {
    let mut x = vec![0.0f64; vertices.len()];
    let separation =
        |a: usize, b: usize| (vertices[a].width + vertices[b].width) / 2.0 + spacing.gap_x;
    for layer in layers {
        let mut at = 0.0;
        for (i, &v) in layer.iter().enumerate() {
            if i > 0 {
                at += separation(layer[i - 1], v);
            }
            x[v] = at;
        }
    }
    for round in 0..POSITION_ROUNDS * 2 {
        let downward = round % 2 == 0;
        for l in 0..layers.len() {
            let layer = if downward {
                &layers[l]
            } else {
                &layers[layers.len() - 1 - l]
            };
            let desired: Vec<f64> = layer
                .iter()
                .map(|&v| {
                    let near = if downward {
                        &vertices[v].up
                    } else {
                        &vertices[v].down
                    };
                    if near.is_empty() {
                        x[v]
                    } else {
                        near.iter().map(|&w| x[w]).sum::<f64>() / near.len() as f64
                    }
                })
                .collect();
            // Two feasible placements (pushed right, pushed left); their mean is feasible too.
            let k = layer.len();
            let mut left = desired.clone();
            for i in 1..k {
                left[i] = left[i].max(left[i - 1] + separation(layer[i - 1], layer[i]));
            }
            let mut right = desired;
            for i in (0..k.saturating_sub(1)).rev() {
                right[i] = right[i].min(right[i + 1] - separation(layer[i], layer[i + 1]));
            }
            for i in 0..k {
                x[layer[i]] = (left[i] + right[i]) / 2.0;
            }
        }
    }
    let min_left = vertices
        .iter()
        .enumerate()
        .map(|(v, vertex)| x[v] - vertex.width / 2.0)
        .fold(f64::INFINITY, f64::min);
    if min_left.is_finite() {
        for v in &mut x {
            *v += spacing.margin - min_left;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPACING: Spacing = Spacing {
        gap_x: 10.0,
        gap_y: 20.0,
        margin: 5.0,
        dummy_width: 4.0,
    };

    #[test]
    fn sources_sit_above_their_consumers_without_overlap() {
        // a, b -> m; m, c -> out; a -> out skips a layer.
        let sizes = [(40.0, 20.0); 5];
        let edges = [(1, 0), (2, 0), (3, 2), (4, 2), (3, 0)];
        let layout = layered(&sizes, &edges, SPACING);
        let y: Vec<f64> = layout.centres.iter().map(|c| c.1).collect();
        for &(from, to) in &edges {
            assert!(y[from] < y[to], "edge {from}->{to}");
        }
        assert_eq!(y[3], y[4]);
        for a in 0..5 {
            for b in a + 1..5 {
                if y[a] == y[b] {
                    assert!((layout.centres[a].0 - layout.centres[b].0).abs() >= 50.0);
                }
            }
        }
        // The skipping edge 3 -> 0 passes through the middle layer.
        assert_eq!(layout.routes[4].len(), 3);
        assert_eq!(layout.routes[4][1].1, y[2]);
        assert!(layout.width > 0.0 && layout.height == 5.0 + 3.0 * 20.0 + 2.0 * 20.0 + 5.0);
    }

    #[test]
    fn barycentre_ordering_removes_an_avoidable_crossing() {
        // Two chains 2 -> 5 -> 1 and 3 -> 4 -> 0, numbered so that the first order crosses.
        let sizes = [(10.0, 10.0); 6];
        let edges = [(4, 0), (5, 1), (2, 5), (3, 4)];
        let layout = layered(&sizes, &edges, SPACING);
        let x: Vec<f64> = layout.centres.iter().map(|c| c.0).collect();
        assert_eq!(x[2] < x[3], x[5] < x[4]);
        assert_eq!(x[5] < x[4], x[1] < x[0]);
    }
}
