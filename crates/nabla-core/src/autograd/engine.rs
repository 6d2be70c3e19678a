//! The backward engine, after PyTorch's: count how many edges reach each node, then run nodes
//! whose gradient is complete (all consumers have sent theirs), latest-created first, summing
//! gradients where a value fans out. Iterative throughout, so graph depth costs no stack.

use super::GradModeGuard;
use super::node::{Edge, Gradients, Node};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::BinaryHeap;
use std::sync::Arc;

/// Options of a backward pass.
#[derive(Copy, Clone, Debug, Default)]
pub struct BackwardOptions {
    /// Keep saved tensors so the graph can be traversed again.
    pub retain_graph: bool,
    /// Record the backward pass itself, so the gradients are differentiable (implies retain).
    pub create_graph: bool,
}

struct NodeState {
    dependencies: usize,
    gradient: Option<Tensor>,
    /// In `grad` mode: whether the node leads to a requested input.
    needed: bool,
}

struct Ready(Arc<Node>);

impl PartialEq for Ready {
    fn eq(&self, other: &Self) -> bool {
        self.0.sequence_nr == other.0.sequence_nr
    }
}
impl Eq for Ready {}
impl PartialOrd for Ready {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ready {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.sequence_nr.cmp(&other.0.sequence_nr)
    }
}

fn key(node: &Node) -> usize {
    node.id()
}

/// Runs backward from `roots`. With `capture`, returns the gradients reaching those edges
/// instead of accumulating into leaves.
fn run(
    roots: Vec<(Edge, Tensor)>,
    options: BackwardOptions,
    capture: Option<&[Edge]>,
) -> Result<Vec<Option<Tensor>>> {
    let retain = options.retain_graph || options.create_graph;
    let mut states: HashMap<usize, NodeState> = HashMap::default();
    // Discover the graph and count incoming edges.
    let mut stack: Vec<Arc<Node>> = Vec::new();
    for (root, _) in &roots {
        if let std::collections::hash_map::Entry::Vacant(slot) = states.entry(key(root)) {
            slot.insert(NodeState {
                dependencies: 0,
                gradient: None,
                needed: true,
            });
            stack.push(root.clone());
        }
    }
    // Only `grad` (which prunes what it need not run) needs the list of all nodes.
    let mut discovered: Vec<Arc<Node>> = if capture.is_some() {
        stack.clone()
    } else {
        Vec::new()
    };
    while let Some(node) = stack.pop() {
        for next in node.next_functions().iter().flatten() {
            let state = states.entry(key(next)).or_insert_with(|| {
                stack.push(next.clone());
                if capture.is_some() {
                    discovered.push(next.clone());
                }
                NodeState {
                    dependencies: 0,
                    gradient: None,
                    needed: true,
                }
            });
            state.dependencies += 1;
        }
    }
    let captured: HashMap<usize, usize> = capture
        .map(|edges| edges.iter().enumerate().map(|(i, e)| (key(e), i)).collect())
        .unwrap_or_default();
    if capture.is_some() {
        mark_needed(&discovered, &captured, &mut states);
    }
    drop(discovered);

    let _mode = GradModeGuard::new(options.create_graph);
    let _scope = super::observe::BackwardScope::enter();
    let mut results: Vec<Option<Tensor>> = vec![None; capture.map_or(0, |c| c.len())];
    let mut ready: BinaryHeap<Ready> = BinaryHeap::new();
    for (root, gradient) in roots {
        let state = states.get_mut(&key(&root)).expect("root discovered");
        accumulate(&mut state.gradient, gradient);
        if state.dependencies == 0 && !ready.iter().any(|r| Arc::ptr_eq(&r.0, &root)) {
            ready.push(Ready(root));
        }
    }
    while let Some(Ready(node)) = ready.pop() {
        let mut gradient = states
            .get_mut(&key(&node))
            .and_then(|s| s.gradient.take())
            .map(|g| node.run_hooks(g));
        if let Some(&slot) = captured.get(&key(&node)) {
            results[slot] = gradient.clone();
        }
        let mut input_grads = match (&gradient, node.variable()) {
            (Some(_), Some(leaf)) if capture.is_none() => {
                let observed = super::observe::is_active()
                    .then(|| gradient.clone())
                    .flatten();
                accumulate_into_leaf(
                    leaf,
                    gradient.take().expect("matched Some"),
                    options.create_graph,
                );
                if let Some(g) = observed {
                    super::observe::backward(&node, &g, &[]);
                }
                continue;
            }
            (Some(g), None) if states[&key(&node)].needed => Node::apply(&node, g, retain)?,
            _ => Gradients::new(),
        };
        // Sum each gradient down to its input's shape (broadcasting happened forward).
        for (slot, meta) in input_grads.iter_mut().zip(&node.inputs) {
            let Some(g) = slot.as_mut() else { continue };
            if g.shape() != meta.shape.as_slice() {
                *g = g.try_sum_to(&meta.shape)?;
            }
            if g.dtype() != meta.dtype {
                *g = g.to_dtype(meta.dtype);
            }
        }
        if let (Some(g), true) = (&gradient, super::observe::is_active()) {
            super::observe::backward(&node, g, &input_grads);
        }
        let mut input_grads = input_grads.into_iter();
        for next in node.next_functions() {
            let grad_i = input_grads.next().flatten();
            let Some(next) = next else { continue };
            let state = states.get_mut(&key(next)).expect("next discovered");
            if let Some(g) = grad_i {
                accumulate(&mut state.gradient, g);
            }
            state.dependencies -= 1;
            if state.dependencies == 0 {
                ready.push(Ready(next.clone()));
            }
        }
    }
    Ok(results)
}

/// Marks the nodes from which a captured edge can be reached (post-order walk, no recursion).
fn mark_needed(
    discovered: &[Arc<Node>],
    captured: &HashMap<usize, usize>,
    states: &mut HashMap<usize, NodeState>,
) {
    for state in states.values_mut() {
        state.needed = false;
    }
    let mut visited: HashSet<usize> = HashSet::default();
    for start in discovered {
        if visited.contains(&key(start)) {
            continue;
        }
        let mut stack: Vec<(Arc<Node>, usize)> = vec![(start.clone(), 0)];
        visited.insert(key(start));
        while let Some((node, child)) = stack.pop() {
            let nexts = node.next_functions();
            if let Some(next) = nexts.get(child) {
                stack.push((node.clone(), child + 1));
                if let Some(next) = next {
                    if visited.insert(key(next)) {
                        stack.push((next.clone(), 0));
                    }
                }
                continue;
            }
            let needed = captured.contains_key(&key(&node))
                || nexts.iter().flatten().any(|n| states[&key(n)].needed);
            states.get_mut(&key(&node)).expect("discovered").needed = needed;
        }
    }
}

fn accumulate(slot: &mut Option<Tensor>, gradient: Tensor) {
    *slot = Some(match slot.take() {
        None => gradient,
        Some(previous) => &previous + &gradient,
    });
}

fn accumulate_into_leaf(leaf: &Tensor, gradient: Tensor, create_graph: bool) {
    let gradient = if create_graph {
        gradient
    } else {
        gradient.detach_owned()
    };
    let previous = leaf.grad();
    leaf.set_grad(Some(match previous {
        None if create_graph || gradient.owns_all_of_its_storage() => gradient,
        // The gradient shares memory with something else (another gradient, a view, the root
        // seed): `.grad` gets its own buffer, since optimisers and clipping write into it.
        None => gradient.contiguous_copy(),
        Some(previous) => &previous + &gradient,
    }));
}

fn root_edge(op: &'static str, tensor: &Tensor) -> Result<Edge> {
    tensor.gradient_edge().ok_or_else(|| {
        Error::invalid(
            op,
            format!(
                "a tensor of shape {:?} does not require grad and has no grad_fn",
                tensor.shape()
            ),
        )
    })
}

fn root_gradients(
    op: &'static str,
    outputs: &[&Tensor],
    grad_outputs: Option<&[&Tensor]>,
) -> Result<Vec<(Edge, Tensor)>> {
    let mut roots = Vec::with_capacity(outputs.len());
    for (i, output) in outputs.iter().enumerate() {
        let edge = root_edge(op, output)?;
        let gradient = match grad_outputs {
            Some(gs) => {
                let g = gs.get(i).ok_or_else(|| {
                    Error::invalid(
                        op,
                        format!(
                            "{} outputs but {} output gradients",
                            outputs.len(),
                            gs.len()
                        ),
                    )
                })?;
                if g.shape() != output.shape() {
                    return Err(Error::shapes(
                        op,
                        output.shape(),
                        g.shape(),
                        "output and its gradient differ",
                    ));
                }
                (*g).clone()
            }
            None => {
                if output.numel() != 1 {
                    return Err(Error::invalid(
                        op,
                        format!(
                            "gradient can be implicitly created only for scalar outputs, not shape {:?}; \
                             pass the output gradient explicitly",
                            output.shape()
                        ),
                    ));
                }
                Tensor::ones(output.shape(), output.dtype())
            }
        };
        roots.push((edge, gradient));
    }
    Ok(roots)
}

impl Tensor {
    /// Back-propagates from this scalar, accumulating into every leaf's `.grad`.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// // The textbook's apple shopping: price 100, count 2, tax 1.1.
    /// let apple = Tensor::scalar(100.0f64).requires_grad();
    /// let count = Tensor::scalar(2.0f64).requires_grad();
    /// let tax = Tensor::scalar(1.1f64).requires_grad();
    /// let total = &(&apple * &count) * &tax;
    /// total.backward();
    /// assert!((apple.grad().unwrap().item::<f64>() - 2.2).abs() < 1e-12);
    /// assert!((count.grad().unwrap().item::<f64>() - 110.0).abs() < 1e-12);
    /// assert_eq!(tax.grad().unwrap().item::<f64>(), 200.0);
    /// ```
    pub fn try_backward(&self) -> Result<()> {
        self.try_backward_opts(None, BackwardOptions::default())
    }

    /// Panicking form of [`Tensor::try_backward`].
    pub fn backward(&self) {
        self.try_backward().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Back-propagates `grad` (the gradient of some scalar with respect to this tensor).
    pub fn backward_with(&self, grad: &Tensor) {
        self.try_backward_opts(Some(grad), BackwardOptions::default())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Back-propagates with explicit options; `grad` defaults to one for a scalar.
    pub fn try_backward_opts(&self, grad: Option<&Tensor>, options: BackwardOptions) -> Result<()> {
        let grads: Option<[&Tensor; 1]> = grad.map(|g| [g]);
        let roots = root_gradients("backward", &[self], grads.as_ref().map(|g| g.as_slice()))?;
        run(roots, options, None).map(|_| ())
    }
}

/// Gradients of `outputs` (scalars) with respect to `inputs`, without touching any `.grad`.
/// An input the outputs do not depend on gets zeros.
///
/// ```
/// use nabla_core::{grad, Tensor};
/// let x = Tensor::scalar(3.0f64).requires_grad();
/// let y = &x * &x;
/// let g = grad(&[&y], &[&x]);
/// assert_eq!(g[0].item::<f64>(), 6.0);
/// assert!(x.grad().is_none());
/// ```
pub fn grad(outputs: &[&Tensor], inputs: &[&Tensor]) -> Vec<Tensor> {
    try_grad(outputs, None, inputs, BackwardOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// Fallible, general form of [`grad`]: explicit output gradients and options (`create_graph`
/// makes the returned gradients differentiable).
pub fn try_grad(
    outputs: &[&Tensor],
    grad_outputs: Option<&[&Tensor]>,
    inputs: &[&Tensor],
    options: BackwardOptions,
) -> Result<Vec<Tensor>> {
    let roots = root_gradients("grad", outputs, grad_outputs)?;
    let edges = inputs
        .iter()
        .map(|t| root_edge("grad", t))
        .collect::<Result<Vec<_>>>()?;
    let results = run(roots, options, Some(&edges))?;
    Ok(results
        .into_iter()
        .zip(inputs)
        .map(|(g, input)| g.unwrap_or_else(|| Tensor::zeros(input.shape(), input.dtype())))
        .collect())
}
