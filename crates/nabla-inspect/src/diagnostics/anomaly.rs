//! The graph around an anomaly: the operation where a NaN or infinity first appeared, marked,
//! with the operations and parameters that fed it, a few levels deep, ready for
//! [`Graph::to_svg`](crate::Graph::to_svg).

use crate::format::op_label;
use crate::graph::{Graph, GraphEdge, GraphNode, GraphOptions, NodeKind};
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
        },
        None => GraphNode {
            kind: NodeKind::Op,
            title: op_label(node.name()),
            shape: shape.unwrap_or_default(),
            input_shape: crate::graph::window_input_shape(node),
            value: None,
            grad: None,
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
        });
        graph.edges.push(GraphEdge {
            from: graph.nodes.len() - 1,
            to: at,
            input: i,
            grad: None,
        });
    }
}
