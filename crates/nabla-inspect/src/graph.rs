//! [`Graph`]: the part of a computation a tensor depends on, found by walking its `grad_fn`
//! chain, with each node's value and gradient taken from a [`Trace`]. The DOT and SVG exports
//! render it.

use crate::explain::symbol;
use crate::format::{compact, shape_text, values};
use crate::trace::{Input, Trace, key};
use nabla_core::autograd::formula::Local;
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
    /// Which way values flow in the SVG and DOT renderings.
    pub rankdir: RankDir,
}

impl Default for GraphOptions {
    fn default() -> Self {
        GraphOptions {
            max_nodes: 200,
            max_values: 6,
            rankdir: RankDir::TopBottom,
        }
    }
}

/// The direction values flow in a rendering (Graphviz's `rankdir`): inputs at the top or, as
/// the textbook draws computational graphs, at the left.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum RankDir {
    #[default]
    TopBottom,
    LeftRight,
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
    /// The node's step `[n]` in the backward pass, as `explain` numbers it, when the trace saw
    /// one.
    pub step: Option<usize>,
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
    /// The name or source text of an operation, under its symbol.
    Name,
    Shape,
    Value,
    Grad,
}

/// A tensor's graph. Node 0 is the output. An operation's title is its symbol (`×`, `exp`),
/// after its step number `[n]` in the backward pass when the trace saw one (as `explain`
/// numbers it), and before its name, on a line of its own, when it has one.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_inspect::{Graph, GraphOptions, NodeKind, Trace};
/// let x = Tensor::scalar(2.0f64).requires_grad();
/// let y = (&x * 3.0).exp();
/// let graph = Graph::of(&y, &Trace::new().with_name(&x, "x"), GraphOptions::default());
/// let titles: Vec<_> = graph.nodes.iter().map(|n| n.title.as_str()).collect();
/// assert_eq!(titles, ["exp", "×", "x"]);
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
    /// Each node's step number in the backward pass, as `explain` numbers them.
    steps: HashMap<usize, usize>,
    options: GraphOptions,
    graph: Graph,
    index: HashMap<usize, usize>,
    omitted: HashSet<usize>,
}

impl Graph {
    /// The graph `root` depends on, breadth first from `root`, annotated from `trace` (values,
    /// gradients, names; an empty trace gives structure and shapes only).
    pub fn of(root: &Tensor, trace: &Trace, options: GraphOptions) -> Graph {
        let mut steps = HashMap::new();
        for (i, step) in trace.steps().iter().enumerate() {
            steps.entry(key(&step.node)).or_insert(i + 1);
        }
        let mut builder = Builder {
            trace,
            steps,
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
                let step = trace
                    .steps()
                    .iter()
                    .position(|s| s.node.variable().is_some_and(|v| v.same_as(root)))
                    .map(|i| i + 1);
                let name = trace
                    .name_of(root)
                    .map_or_else(|| default_title(kind, root), str::to_owned);
                builder.graph.nodes.push(GraphNode {
                    kind,
                    title: match step {
                        Some(n) => format!("[{n}] {name}"),
                        None => name,
                    },
                    shape: root.shape().to_vec(),
                    input_shape: None,
                    value: Some(root.detach()),
                    grad: root.grad(),
                    step,
                });
            }
        }
        builder.graph
    }

    /// The lines a node is labelled with: title (and name), shape (none for a scalar),
    /// `= value`, `grad …`.
    pub(crate) fn lines(&self, node: &GraphNode) -> Vec<(LineRole, String)> {
        let max = self.options.max_values;
        let mut title = node.title.lines();
        let mut lines = vec![(
            LineRole::Title,
            title.next().unwrap_or_default().to_string(),
        )];
        lines.extend(title.map(|name| (LineRole::Name, name.to_string())));
        if node.kind == NodeKind::Constant && node.shape.is_empty() {
            return lines;
        }
        let shape = match &node.input_shape {
            Some(input) => Some(format!(
                "{} → {}",
                shape_text(input),
                shape_text(&node.shape)
            )),
            None => (!node.shape.is_empty()).then(|| shape_text(&node.shape)),
        };
        lines.extend(shape.map(|s| (LineRole::Shape, s)));
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

    /// The value flowing along an edge, when it is a single number: the textbook writes it on
    /// the arrow, over the gradient sent back.
    pub(crate) fn edge_value(&self, edge: &GraphEdge) -> Option<String> {
        self.nodes[edge.from]
            .value
            .as_ref()
            .filter(|v| v.numel() == 1)
            .and_then(|v| values(v, 1))
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

/// The first input's shape of an operation whose rule maps its gradient rather than scaling
/// it element by element (a convolution, a pool, a matrix product, a reduction), when it
/// differs from the output's: both are worth reading.
pub(crate) fn mapped_input_shape(node: &Node, output: &[usize]) -> Option<Vec<usize>> {
    window_input_shape(node).filter(|input| input != output)
}

/// The first input's shape of an operation whose rule maps its gradient (see
/// [`mapped_input_shape`]), whatever the output's shape.
pub(crate) fn window_input_shape(node: &Node) -> Option<Vec<usize>> {
    let formula = node.formula(None)?;
    matches!(formula.inputs.first(), Some(Local::Map { .. }))
        .then(|| node.input_shapes().into_iter().next())
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
        let step = self.steps.get(&key(node)).copied();
        let number = step.map_or_else(String::new, |n| format!("[{n}] "));
        let graph_node = match node.variable() {
            Some(leaf) => GraphNode {
                kind: NodeKind::Leaf,
                title: format!(
                    "{number}{}",
                    trace
                        .name_of(leaf)
                        .map_or_else(|| default_title(NodeKind::Leaf, leaf), str::to_owned)
                ),
                shape: leaf.shape().to_vec(),
                input_shape: None,
                value: Some(leaf.detach()),
                grad: trace
                    .step(node)
                    .map(|s| s.grad_output.clone())
                    .or_else(|| leaf.grad()),
                step,
            },
            None => {
                let op = symbol(node, node.formula(None).as_ref());
                GraphNode {
                    kind: NodeKind::Op,
                    title: match trace.node_name(node) {
                        Some(name) => format!("{number}{op}\n{name}"),
                        None => format!("{number}{op}"),
                    },
                    input_shape: mapped_input_shape(node, &shape),
                    shape,
                    value: trace.op(node).map(|r| r.output.clone()),
                    grad: trace.step(node).map(|s| s.grad_output.clone()),
                    step,
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
            step: None,
        });
        Some(self.graph.nodes.len() - 1)
    }
}
