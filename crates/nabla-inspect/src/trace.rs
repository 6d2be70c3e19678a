//! [`Trace`]: an autograd observer that records, for every node a computation creates, its
//! forward value and where its inputs came from, and for every node backward runs, the gradient
//! it received and what it sent to each input. Graph rendering and the chain-rule explanation
//! read it.

use nabla_core::autograd::observe::{BackwardEvent, ForwardEvent, Observer, observe};
use nabla_core::{Node, Tensor};
use std::collections::HashMap;
use std::sync::Arc;

/// Where one input of an operation came from.
#[derive(Clone)]
pub enum Input {
    /// The node gradients flow to: another operation's node, or a leaf's `AccumulateGrad`.
    Node(Arc<Node>),
    /// A tensor outside the graph (a constant, or anything not requiring gradients).
    Constant(Tensor),
}

/// An operation seen running forward.
#[derive(Clone)]
pub struct OpRecord {
    pub node: Arc<Node>,
    /// The operation's result, detached. Read when rendered: update it in place afterwards and
    /// the rendering shows the new values.
    pub output: Tensor,
    /// One per input, in the operation's order.
    pub inputs: Vec<Input>,
}

/// A node backward ran, in execution order.
#[derive(Clone)]
pub struct Step {
    pub node: Arc<Node>,
    /// The gradient of the node's output (for `AccumulateGrad`, what reached the leaf).
    pub grad_output: Tensor,
    /// What the node sent to each input (`None` where the input takes no gradient).
    pub grad_inputs: Vec<Option<Tensor>>,
}

/// A recording of a computation's graph and of the backward passes through it, with names for
/// the tensors a person cares about.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_inspect::Trace;
/// let x = Tensor::scalar(3.0f64).requires_grad();
/// let (y, trace) = Trace::new().with_name(&x, "x").record(|| {
///     let y = &x * &x;
///     y.backward();
///     y
/// });
/// let node = y.grad_fn().unwrap();
/// assert_eq!(trace.op(&node).unwrap().output.item::<f64>(), 9.0);
/// assert_eq!(trace.step(&node).unwrap().grad_output.item::<f64>(), 1.0);
/// assert_eq!(trace.steps().len(), 2); // MulBackward, then x's AccumulateGrad
/// ```
#[derive(Clone, Default)]
pub struct Trace {
    /// Names of leaves and constants, by tensor identity.
    names: Vec<(Tensor, String)>,
    /// Names of operation results, by their node.
    node_names: HashMap<usize, String>,
    ops: HashMap<usize, OpRecord>,
    steps: Vec<Step>,
    /// The latest step of each node.
    latest_step: HashMap<usize, usize>,
}

/// Node identity; the trace holds every node it keys, so an address is never reused meanwhile.
pub(crate) fn key(node: &Node) -> usize {
    node.id()
}

impl Trace {
    /// An empty trace.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names `tensor` (builder style); see [`Trace::name`].
    pub fn with_name(mut self, tensor: &Tensor, name: impl Into<String>) -> Self {
        self.name(tensor, name);
        self
    }

    /// Names `tensor` in renderings and explanations: a leaf (or constant) by its identity, an
    /// operation's result by its node.
    pub fn name(&mut self, tensor: &Tensor, name: impl Into<String>) {
        match tensor.grad_fn() {
            Some(node) => {
                self.node_names.insert(key(&node), name.into());
            }
            None => {
                self.names.retain(|(t, _)| !t.same_as(tensor));
                self.names.push((tensor.clone(), name.into()));
            }
        }
    }

    /// The name given to `tensor`, if any.
    pub fn name_of(&self, tensor: &Tensor) -> Option<&str> {
        match tensor.grad_fn() {
            Some(node) => self.node_names.get(&key(&node)).map(String::as_str),
            None => self
                .names
                .iter()
                .find(|(t, _)| t.same_as(tensor))
                .map(|(_, name)| name.as_str()),
        }
    }

    /// The name of what `node` stands for: its leaf for an `AccumulateGrad`, else its result.
    pub fn node_name(&self, node: &Node) -> Option<&str> {
        match node.variable() {
            Some(leaf) => self.name_of(leaf),
            None => self.node_names.get(&key(node)).map(String::as_str),
        }
    }

    /// Runs `f` (a forward pass, usually with `backward()` inside) while recording it, and hands
    /// back `f`'s result with the trace.
    pub fn record<R>(self, f: impl FnOnce() -> R) -> (R, Trace) {
        observe(self, f)
    }

    /// The forward record of an operation's node.
    pub fn op(&self, node: &Node) -> Option<&OpRecord> {
        self.ops.get(&key(node))
    }

    /// Every node backward ran, in execution order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The latest backward step through `node`.
    pub fn step(&self, node: &Node) -> Option<&Step> {
        self.latest_step.get(&key(node)).map(|&i| &self.steps[i])
    }
}

impl Observer for Trace {
    fn forward(&mut self, event: &ForwardEvent) {
        let Some(node) = event.output.grad_fn() else {
            return;
        };
        let edges = node.next_functions();
        let inputs = event
            .inputs
            .iter()
            .enumerate()
            .map(|(i, input)| match edges.get(i) {
                Some(Some(edge)) => Input::Node(edge.clone()),
                _ => Input::Constant((*input).clone()),
            })
            .collect();
        self.ops.insert(
            key(&node),
            OpRecord {
                output: event.output.detach(),
                node,
                inputs,
            },
        );
    }

    fn backward(&mut self, event: &BackwardEvent) {
        self.latest_step.insert(key(event.node), self.steps.len());
        self.steps.push(Step {
            node: event.node.clone(),
            grad_output: event.grad_output.detach(),
            grad_inputs: event
                .grad_inputs
                .iter()
                .map(|g| g.as_ref().map(Tensor::detach))
                .collect(),
        });
    }
}
