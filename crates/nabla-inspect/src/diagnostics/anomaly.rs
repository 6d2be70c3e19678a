//! The graph around an anomaly: the operation where a NaN or infinity first appeared, marked,
//! with the operations and parameters that fed it, a few levels deep, ready for
//! [`Graph::to_svg`](crate::Graph::to_svg); and [`anomaly_svg`], that graph under a header
//! saying which pass made the value, when in training, and how large the operation's inputs
//! were.

use crate::format::op_label;
use crate::graph::{Graph, GraphEdge, GraphNode, GraphOptions, NodeKind};
use crate::svg::{escape, svg_start, text_width};
use crate::trace::key;
use nabla_core::{Anomaly, Node, Phase, Tensor};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Nodes shown at most, nearest the anomaly first.
const MAX_NODES: usize = 40;

/// The graph of the operations feeding `anomaly`'s node, up to `depth` levels of inputs, with
/// the node itself titled `⚠ op: NaN here` (or what it sent back, for a backward anomaly) and
/// leaves named from `names` (such as a network's named parameters). `None` when the anomaly
/// has no node (an operation on tensors that do not require gradients).
///
/// ```
/// use nabla_core::{detect_anomaly, Tensor};
/// use nabla_inspect::diagnostics::anomaly_graph;
/// let x = Tensor::from_vec(vec![-1.0f64, 4.0], &[2]).requires_grad();
/// let anomaly = detect_anomaly(|| (&x * 2.0).log().sum().backward()).unwrap_err();
/// let graph = anomaly_graph(&anomaly, &[("x".to_string(), x.clone())], 3).unwrap();
/// let titles: Vec<_> = graph.nodes.iter().map(|n| n.title.as_str()).collect();
/// assert_eq!(titles, ["⚠ log: NaN here", "mul", "x"]);
/// assert!(graph.to_svg().contains("⚠ log: NaN here"));
/// ```
pub fn anomaly_graph(anomaly: &Anomaly, names: &[(String, Tensor)], depth: usize) -> Option<Graph> {
    let root = anomaly.node.clone()?;
    let op = op_label(root.name());
    let (title, shape) = match anomaly.phase {
        Phase::Forward => (
            format!("⚠ {op}: {} here", anomaly.value),
            anomaly.shape.clone(),
        ),
        Phase::Backward => {
            let input = anomaly.input.unwrap_or(0);
            (
                format!("⚠ {op}: sent {} to input {input} here", anomaly.value),
                anomaly.input_shapes.get(input).cloned().unwrap_or_default(),
            )
        }
    };
    let mut graph = Graph {
        nodes: Vec::new(),
        edges: Vec::new(),
        omitted: 0,
        options: GraphOptions {
            max_nodes: MAX_NODES,
            ..GraphOptions::default()
        },
    };
    let mut index: HashMap<usize, usize> = HashMap::from([(key(&root), 0)]);
    graph.nodes.push(GraphNode {
        kind: NodeKind::Op,
        title,
        shape,
        input_shape: None,
        value: None,
        grad: None,
        step: None,
    });
    let mut queue: VecDeque<(Arc<Node>, usize, usize)> = VecDeque::from([(root, 0, 0)]);
    while let Some((node, at, level)) = queue.pop_front() {
        let shapes = node.input_shapes();
        for (i, next) in node.next_functions().iter().enumerate() {
            let Some(next) = next else { continue };
            let from = match index.get(&key(next)) {
                Some(&j) => j,
                None if level < depth && graph.nodes.len() < MAX_NODES => {
                    graph
                        .nodes
                        .push(describe(next, shapes.get(i).cloned(), names));
                    let j = graph.nodes.len() - 1;
                    index.insert(key(next), j);
                    queue.push_back((next.clone(), j, level + 1));
                    j
                }
                None => {
                    graph.omitted += 1;
                    continue;
                }
            };
            graph.edges.push(GraphEdge {
                from,
                to: at,
                input: i,
                grad: None,
            });
        }
        if level < depth {
            add_constants(&mut graph, &node, at, &shapes);
        }
    }
    Some(graph)
}

/// Height of a header line of [`anomaly_svg`], in pixels.
const HEADER_LINE: f64 = 18.0;

/// The picture of an anomaly: a header (`⚠ NaN made in the forward pass by linear (operation
/// #6) at epoch 1, step 2`, then the magnitudes of the gradient it received for a backward
/// anomaly, and of each of its inputs, named as in the graph) over [`anomaly_graph`]. `place`
/// says when in training it happened (empty outside training). `None` when the anomaly has no
/// node to draw.
///
/// ```
/// use nabla_core::{detect_anomaly, Tensor};
/// use nabla_inspect::diagnostics::anomaly_svg;
/// let x = Tensor::from_vec(vec![-1.0f64, 4.0], &[2]).requires_grad();
/// let anomaly = detect_anomaly(|| (&x * 2.0).log().sum().backward()).unwrap_err();
/// let svg = anomaly_svg(&anomaly, &[], 3, "at epoch 2, step 7").unwrap();
/// assert!(svg.contains("⚠ NaN made in the forward pass by log (operation #1) at epoch 2, step 7"));
/// assert!(svg.contains("input 0 [2] (mul): min -2, max 8, |max| 8"));
/// ```
pub fn anomaly_svg(
    anomaly: &Anomaly,
    names: &[(String, Tensor)],
    depth: usize,
    place: &str,
) -> Option<String> {
    let graph = anomaly_graph(anomaly, names, depth)?.to_svg();
    let root = anomaly.node.as_ref()?;
    let op = op_label(root.name());
    let at = anomaly
        .forward_index
        .map(|i| format!(" (operation #{i})"))
        .unwrap_or_default();
    let place = if place.is_empty() {
        String::new()
    } else {
        format!(" {place}")
    };
    let mut lines = vec![match anomaly.phase {
        Phase::Forward => format!(
            "⚠ {} made in the forward pass by {op}{at}{place}",
            anomaly.value
        ),
        Phase::Backward => format!(
            "⚠ {} made in the backward pass by {op}{at}{place}, in the gradient of its input {}",
            anomaly.value,
            anomaly.input.unwrap_or(0)
        ),
    }];
    if let Some(g) = &anomaly.grad_magnitudes {
        lines.push(format!("gradient it received: {g}"));
    }
    let inputs = root.next_functions();
    for (i, line) in anomaly.input_lines().into_iter().enumerate() {
        let source = inputs
            .get(i)
            .and_then(Option::as_ref)
            .map(|next| match next.variable() {
                Some(leaf) => names
                    .iter()
                    .find(|(_, t)| t.same_as(leaf))
                    .map_or_else(|| "leaf".to_string(), |(name, _)| name.clone()),
                None => op_label(next.name()),
            });
        lines.push(match (source, line.split_once(": ")) {
            (Some(source), Some((head, rest))) => format!("{head} ({source}): {rest}"),
            (Some(source), None) => format!("{line} ({source})"),
            (None, _) => format!("{line} (input)"),
        });
    }
    let header = HEADER_LINE * (lines.len() as f64 + 1.0);
    let size = |attribute: &str| -> f64 {
        let opening = &graph[..graph.find('>').unwrap_or(0)];
        opening
            .split_once(&format!(" {attribute}=\""))
            .and_then(|(_, rest)| rest.split('"').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    let widest = lines.iter().map(|l| text_width(l)).fold(0.0, f64::max) + 24.0;
    let (width, height) = (size("width").max(widest), size("height") + header);
    let mut svg = svg_start(width, height);
    for (k, line) in lines.iter().enumerate() {
        let (weight, fill) = if k == 0 {
            ("bold", "#c0392b")
        } else {
            ("normal", "black")
        };
        svg.push_str(&format!(
            "<text x=\"12\" y=\"{}\" font-weight=\"{weight}\" fill=\"{fill}\">{}</text>\n",
            HEADER_LINE * (k as f64 + 1.0),
            escape(line)
        ));
    }
    svg.push_str(&format!(
        "<g transform=\"translate(0 {header})\">\n{graph}</g>\n</svg>\n"
    ));
    Some(svg)
}

/// A node feeding the anomaly: a named leaf or an operation.
fn describe(node: &Node, shape: Option<Vec<usize>>, names: &[(String, Tensor)]) -> GraphNode {
    match node.variable() {
        Some(leaf) => GraphNode {
            kind: NodeKind::Leaf,
            title: names
                .iter()
                .find(|(_, t)| t.same_as(leaf))
                .map_or_else(|| "leaf".to_string(), |(name, _)| name.clone()),
            shape: leaf.shape().to_vec(),
            input_shape: None,
            value: None,
            grad: None,
            step: None,
        },
        None => GraphNode {
            kind: NodeKind::Op,
            title: op_label(node.name()),
            shape: shape.unwrap_or_default(),
            input_shape: crate::graph::window_input_shape(node),
            value: None,
            grad: None,
            step: None,
        },
    }
}

/// Inputs of `node` outside the graph (constants, data batches), drawn as dashed boxes.
fn add_constants(graph: &mut Graph, node: &Node, at: usize, shapes: &[Vec<usize>]) {
    for (i, next) in node.next_functions().iter().enumerate() {
        if next.is_some() || graph.nodes.len() >= MAX_NODES {
            continue;
        }
        graph.nodes.push(GraphNode {
            kind: NodeKind::Constant,
            title: "input".into(),
            shape: shapes.get(i).cloned().unwrap_or_default(),
            input_shape: None,
            value: None,
            grad: None,
            step: None,
        });
        graph.edges.push(GraphEdge {
            from: graph.nodes.len() - 1,
            to: at,
            input: i,
            grad: None,
        });
    }
}
