//! [`Graph`]: the part of a computation a tensor depends on, found by walking its `grad_fn`
//! chain, with each node's value and gradient taken from a [`Trace`]. The DOT and SVG exports
//! render it.

use crate::format::{compact, op_label, shape_text, values};
use crate::trace::{Input, Trace, key};
use nabla_core::{Node, Tensor};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

/// How much of a graph to show.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct GraphOptions {
    /// Nodes kept, nearest the output first; the rest are counted in [`Graph::omitted`].
    pub max_nodes: usize,
    /// Values and gradients are shown for tensors with at most this many elements.
    pub max_values: usize,
}

impl Default for GraphOptions {
    fn default() -> Self {
        GraphOptions {
            max_nodes: 200,
            max_values: 6,
        }
    }
}

/// What a node stands for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// An operation (its backward node).
    Op,
    /// A leaf that requires gradients: a variable or parameter.
    Leaf,
    /// An input outside the graph, such as a constant.
    Constant,
}

/// One node as rendered.
#[derive(Clone)]
pub struct GraphNode {
    pub kind: NodeKind,
    /// The operation (`mul`), or the leaf's or constant's name.
    pub title: String,
    pub shape: Vec<usize>,
    /// The shape of the first input of an operation that slides a window over it (a
    /// convolution, a pool, im2col), drawn as `input → output`.
    pub input_shape: Option<Vec<usize>>,
    /// The forward value, when known.
    pub value: Option<Tensor>,
    /// The gradient of the graph's output with respect to this node's value, when known.
    pub grad: Option<Tensor>,
}

/// A value flowing from node `from` into node `to` (forward direction).
#[derive(Clone)]
pub struct GraphEdge {
    pub from: usize,
    pub to: usize,
    /// Which input of `to` this is.
    pub input: usize,
    /// The gradient `to` sent back along this edge, when recorded.
    pub grad: Option<Tensor>,
}

/// A rendered line's role.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum LineRole {
    Title,
    Shape,
    Value,
    Grad,
}

/// A tensor's graph. Node 0 is the output.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_inspect::{Graph, GraphOptions, NodeKind, Trace};
/// let x = Tensor::scalar(2.0f64).requires_grad();
/// let y = (&x * 3.0).exp();
/// let graph = Graph::of(&y, &Trace::new().with_name(&x, "x"), GraphOptions::default());
/// let titles: Vec<_> = graph.nodes.iter().map(|n| n.title.as_str()).collect();
/// assert_eq!(titles, ["exp", "mul", "x"]);
/// assert_eq!(graph.nodes[2].kind, NodeKind::Leaf);
/// ```
#[derive(Clone)]
pub struct Graph {
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
    /// Nodes reachable from the output but left out by [`GraphOptions::max_nodes`].
    pub omitted: usize,
    pub options: GraphOptions,
}

struct Builder<'a> {
    trace: &'a Trace,
    options: GraphOptions,
    graph: Graph,
    index: HashMap<usize, usize>,
    omitted: HashSet<usize>,
}

impl Graph {
    /// The graph `root` depends on, breadth first from `root`, annotated from `trace` (values,
    /// gradients, names; an empty trace gives structure and shapes only).
    pub fn of(root: &Tensor, trace: &Trace, options: GraphOptions) -> Graph {
        let mut builder = Builder {
            trace,
            options,
            graph: Graph {
                nodes: Vec::new(),
                edges: Vec::new(),
                omitted: 0,
                options,
            },
            index: HashMap::new(),
            omitted: HashSet::new(),
        };
        match root.grad_fn() {
            Some(node) => builder.walk(node, root),
            None => {
                let kind = if root.requires_grad_flag() {
                    NodeKind::Leaf
                } else {
                    NodeKind::Constant
                };
                builder.graph.nodes.push(GraphNode {
                    kind,
                    title: trace
                        .name_of(root)
                        .map_or_else(|| default_title(kind, root), str::to_owned),
                    shape: root.shape().to_vec(),
                    input_shape: None,
                    value: Some(root.detach()),
                    grad: root.grad(),
                });
            }
        }
        builder.graph
    }

    /// The lines a node is labelled with: title, shape, `= value`, `grad …`.
    pub(crate) fn lines(&self, node: &GraphNode) -> Vec<(LineRole, String)> {
        let max = self.options.max_values;
        let mut lines = vec![(LineRole::Title, node.title.clone())];
        if node.kind == NodeKind::Constant && node.shape.is_empty() {
            return lines;
        }
        let shape = match &node.input_shape {
            Some(input) => format!("{} → {}", shape_text(input), shape_text(&node.shape)),
            None => shape_text(&node.shape),
        };
        lines.push((LineRole::Shape, shape));
        if let Some(v) = node.value.as_ref().and_then(|v| values(v, max)) {
            lines.push((LineRole::Value, format!("= {v}")));
        }
        if let Some(g) = node.grad.as_ref().and_then(|g| values(g, max)) {
            lines.push((LineRole::Grad, format!("grad {g}")));
        }
        lines
    }

    /// An edge's label: the gradient sent back along it when it is a single number (longer
    /// ones would collide between edges; the nodes show them).
    pub(crate) fn edge_label(&self, edge: &GraphEdge) -> Option<String> {
        edge.grad
            .as_ref()
            .filter(|g| g.numel() == 1)
            .and_then(|g| values(g, 1))
    }

    /// The note under a capped graph.
    pub(crate) fn omitted_note(&self) -> Option<String> {
        (self.omitted > 0).then(|| {
            format!(
                "{} more node{} not shown (max_nodes = {})",
                self.omitted,
                if self.omitted == 1 { "" } else { "s" },
                self.options.max_nodes
            )
        })
    }
}

/// The first input's shape of an operation that slides a window over its input (a convolution,
/// a pool, im2col), whose input and output shapes are both worth reading.
pub(crate) fn window_input_shape(node: &Node) -> Option<Vec<usize>> {
    const WINDOW_OPS: [&str; 5] = [
        "Convolution",
        "MaxPool",
        "AvgPool",
        "AdaptiveAvgPool",
        "Im2Col",
    ];
    let name = node.name();
    WINDOW_OPS
        .iter()
        .any(|op| name.starts_with(op))
        .then(|| node.input_shapes().first().cloned())
        .flatten()
}

fn default_title(kind: NodeKind, t: &Tensor) -> String {
    match kind {
        NodeKind::Leaf => "leaf".into(),
        NodeKind::Constant if t.numel() == 1 => compact(t.to_f64_vec()[0]),
        _ => "const".into(),
    }
}

impl Builder<'_> {
    fn walk(&mut self, root: Arc<Node>, root_tensor: &Tensor) {
        let first = self.add_node(&root, root_tensor.shape().to_vec());
        if let Some(node) = self.graph.nodes.get_mut(first) {
            node.value.get_or_insert_with(|| root_tensor.detach());
        }
        let mut queue: VecDeque<(Arc<Node>, Option<usize>)> = VecDeque::from([(root, Some(first))]);
        while let Some((node, at)) = queue.pop_front() {
            let record = self.trace.op(&node);
            let step = self.trace.step(&node);
            let shapes = node.input_shapes();
            for (i, edge) in node.next_functions().iter().enumerate() {
                let target = match edge {
                    Some(next) => {
                        let k = key(next);
                        if let Some(&j) = self.index.get(&k) {
                            Some(j)
                        } else if self.omitted.contains(&k) {
                            None
                        } else {
                            let shape = shapes.get(i).cloned().unwrap_or_default();
                            let j = (self.graph.nodes.len() < self.options.max_nodes)
                                .then(|| self.add_node(next, shape));
                            if j.is_none() {
                                self.omitted.insert(k);
                                self.graph.omitted += 1;
                            }
                            queue.push_back((next.clone(), j));
                            j
                        }
                    }
                    None => match record.and_then(|r| r.inputs.get(i)) {
                        Some(Input::Constant(c)) => self.add_constant(c, at.is_some()),
                        _ => None,
                    },
                };
                if let (Some(from), Some(to)) = (target, at) {
                    self.graph.edges.push(GraphEdge {
                        from,
                        to,
                        input: i,
                        grad: step.and_then(|s| s.grad_inputs.get(i).cloned().flatten()),
                    });
                }
            }
        }
    }

    fn add_node(&mut self, node: &Arc<Node>, shape: Vec<usize>) -> usize {
        let trace = self.trace;
        let graph_node = match node.variable() {
            Some(leaf) => GraphNode {
                kind: NodeKind::Leaf,
                title: trace
                    .name_of(leaf)
                    .map_or_else(|| default_title(NodeKind::Leaf, leaf), str::to_owned),
                shape: leaf.shape().to_vec(),
                input_shape: None,
                value: Some(leaf.detach()),
                grad: trace
                    .step(node)
                    .map(|s| s.grad_output.clone())
                    .or_else(|| leaf.grad()),
            },
            None => {
                let op = op_label(node.name());
                GraphNode {
                    kind: NodeKind::Op,
                    title: match trace.node_name(node) {
                        Some(name) => format!("{name}: {op}"),
                        None => op,
                    },
                    input_shape: window_input_shape(node),
                    shape,
                    value: trace.op(node).map(|r| r.output.clone()),
                    grad: trace.step(node).map(|s| s.grad_output.clone()),
                }
            }
        };
        self.index.insert(key(node), self.graph.nodes.len());
        self.graph.nodes.push(graph_node);
        self.graph.nodes.len() - 1
    }

    /// A constant input of a shown node; counted as omitted past the cap or under an omitted node.
    fn add_constant(&mut self, c: &Tensor, consumer_shown: bool) -> Option<usize> {
        if !consumer_shown || self.graph.nodes.len() >= self.options.max_nodes {
            self.graph.omitted += 1;
            return None;
        }
        self.graph.nodes.push(GraphNode {
            kind: NodeKind::Constant,
            title: self
                .trace
                .name_of(c)
                .map_or_else(|| default_title(NodeKind::Constant, c), str::to_owned),
            shape: c.shape().to_vec(),
            input_shape: None,
            value: Some(c.detach()),
            grad: None,
        });
        Some(self.graph.nodes.len() - 1)
    }
}
