//! The backward engine, after PyTorch's: count how many edges reach each node, then run nodes
//! whose gradient is complete (all consumers have sent theirs), latest-created first, summing
//! gradients where a value fans out. Iterative throughout, so graph depth costs no stack.

use super::GradModeGuard;
use super::node::{Edge, Gradients, Node};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use rustc_hash::FxHashMap as HashMap;
use std::cmp::Reverse;
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

/// The part of the graph a backward pass runs over, with every node numbered in the order it was
/// discovered. Nodes are borrowed from the roots (each reachable node is owned through some edge
/// of the graph), and a node's edges are resolved to numbers once, so running the pass looks
/// nothing up in a map and clones no `Arc`.
struct Graph<'a> {
    nodes: Vec<&'a Arc<Node>>,
    /// Where each node's resolved edges sit in `edges`.
    edge_ranges: Vec<(u32, u32)>,
    /// One entry per input of each node: the number of the node its gradient flows to.
    edges: Vec<Option<u32>>,
    /// How many edges into each node have not delivered their gradient yet.
    dependencies: Vec<u32>,
    /// Each node's number, by [`Node::id`].
    number: HashMap<usize, u32>,
}

impl<'a> Graph<'a> {
    /// Every node reachable from `roots`, with its incoming edges counted. The edges of the
    /// nodes in `boundary` (by [`Node::id`]) are not followed.
    fn discover(roots: &[&'a Arc<Node>], boundary: &[usize]) -> Self {
        let mut graph = Graph {
            nodes: Vec::new(),
            edge_ranges: Vec::new(),
            edges: Vec::new(),
            dependencies: Vec::new(),
            number: HashMap::default(),
        };
        let mut stack: Vec<u32> = Vec::new();
        for root in roots {
            if let Ok(i) = graph.add(root) {
                stack.push(i);
            }
        }
        while let Some(i) = stack.pop() {
            let node = graph.nodes[i as usize];
            if boundary.contains(&node.id()) {
                continue;
            }
            let first = graph.edges.len() as u32;
            for next in node.next_functions() {
                let resolved = next.as_ref().map(|next| {
                    let j = match graph.add(next) {
                        Ok(new) => {
                            stack.push(new);
                            new
                        }
                        Err(seen) => seen,
                    };
                    graph.dependencies[j as usize] += 1;
                    j
                });
                graph.edges.push(resolved);
            }
            graph.edge_ranges[i as usize] = (first, graph.edges.len() as u32);
        }
        graph
    }

    /// Numbers `node`: `Ok` with the new number, or `Err` with the number it was given when
    /// seen before.
    fn add(&mut self, node: &'a Arc<Node>) -> std::result::Result<u32, u32> {
        let next_number = self.nodes.len() as u32;
        match self.number.entry(node.id()) {
            std::collections::hash_map::Entry::Occupied(seen) => Err(*seen.get()),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(next_number);
                self.nodes.push(node);
                self.edge_ranges.push((0, 0));
                self.dependencies.push(0);
                Ok(next_number)
            }
        }
    }

    fn edges_of(&self, i: u32) -> &[Option<u32>] {
        let (first, end) = self.edge_ranges[i as usize];
        &self.edges[first as usize..end as usize]
    }

    /// Which nodes lead to one of `targets` (by number): only those need their rules run.
    fn leading_to(&self, targets: &[u32]) -> Vec<bool> {
        let mut needed = vec![false; self.nodes.len()];
        let mut visited = vec![false; self.nodes.len()];
        for start in 0..self.nodes.len() as u32 {
            if visited[start as usize] {
                continue;
            }
            // Post-order walk without recursion: (node, next edge to follow).
            let mut stack: Vec<(u32, usize)> = vec![(start, 0)];
            visited[start as usize] = true;
            while let Some((i, child)) = stack.pop() {
                let edges = self.edges_of(i);
                if let Some(next) = edges.get(child) {
                    stack.push((i, child + 1));
                    if let Some(j) = *next
                        && !visited[j as usize]
                    {
                        visited[j as usize] = true;
                        stack.push((j, 0));
                    }
                    continue;
                }
                needed[i as usize] =
                    targets.contains(&i) || edges.iter().flatten().any(|&j| needed[j as usize]);
            }
        }
        needed
    }
}

/// What a backward pass does with the gradients it computes.
#[derive(Copy, Clone)]
enum Capture<'e> {
    /// Accumulates into every leaf's `.grad`.
    Leaves,
    /// Returns the gradients reaching these edges, accumulating nothing (`torch.autograd.grad`:
    /// an edge's node still runs when it leads to another captured edge).
    Edges(&'e [Edge]),
    /// As `Edges`, but the captured nodes are a boundary: neither they nor anything past them
    /// runs, so each gets only what flows into it from inside.
    Boundary(&'e [Edge]),
}

/// Runs backward from `roots`, accumulating or capturing the gradients as `capture` says.
fn run(
    roots: Vec<(Edge, Tensor)>,
    options: BackwardOptions,
    capture: Capture,
) -> Result<Vec<Option<Tensor>>> {
    let (capture, boundary): (_, Vec<usize>) = match capture {
        Capture::Leaves => (None, Vec::new()),
        Capture::Edges(edges) => (Some(edges), Vec::new()),
        Capture::Boundary(edges) => (Some(edges), edges.iter().map(|e| e.id()).collect()),
    };
    let stops = !boundary.is_empty();
    let retain = options.retain_graph || options.create_graph;
    let (root_nodes, root_gradients): (Vec<Edge>, Vec<Tensor>) = roots.into_iter().unzip();
    let root_refs: Vec<&Arc<Node>> = root_nodes.iter().collect();
    let mut graph = Graph::discover(&root_refs, &boundary);
    // Each captured edge, by node number (an edge the roots do not reach gets nothing).
    let captured: Vec<(usize, u32)> = capture
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(slot, edge)| graph.number.get(&edge.id()).map(|&i| (slot, i)))
        .collect();
    let needed = match capture {
        Some(_) => {
            let targets: Vec<u32> = captured.iter().map(|&(_, i)| i).collect();
            graph.leading_to(&targets)
        }
        None => Vec::new(),
    };

    let _mode = GradModeGuard::new(options.create_graph);
    let _scope = super::observe::BackwardScope::enter();
    let mut results: Vec<Option<Tensor>> = vec![None; capture.map_or(0, |c| c.len())];
    let mut gradients: Vec<Option<Tensor>> = vec![None; graph.nodes.len()];
    // Latest-created first; accumulation nodes (numbered `u64::MAX`) as soon as they are ready,
    // in the order they were discovered (an op's inputs in order).
    let mut ready: BinaryHeap<(u64, Reverse<u32>)> = BinaryHeap::new();
    for (root, gradient) in root_nodes.iter().zip(root_gradients) {
        let i = graph.number[&root.id()];
        accumulate(&mut gradients[i as usize], gradient);
        let entry = (root.sequence_nr, Reverse(i));
        if graph.dependencies[i as usize] == 0 && !ready.iter().any(|&r| r == entry) {
            ready.push(entry);
        }
    }
    while let Some((_, Reverse(i))) = ready.pop() {
        let node = graph.nodes[i as usize];
        if stops && captured.iter().any(|&(_, c)| c == i) {
            // A boundary node: what arrived is the result; neither its hooks nor its rule run
            // (the pass that owns the node runs them, on its whole gradient).
            for &(slot, _) in captured.iter().filter(|&&(_, c)| c == i) {
                results[slot] = gradients[i as usize].clone();
            }
            continue;
        }
        let mut gradient = gradients[i as usize]
            .take()
            .map(|g| node.run_hooks(g))
            .transpose()?;
        for &(slot, _) in captured.iter().filter(|&&(_, c)| c == i) {
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
                    super::observe::backward(node, &g, &[]);
                }
                continue;
            }
            (Some(_), None) if needed.get(i as usize).copied().unwrap_or(true) => {
                // The rule gets the gradient to keep (it may reuse its memory); an observer
                // still needs it afterwards.
                let g = gradient.take().expect("matched Some");
                let observed = super::observe::is_active();
                let single_next = match graph.edges_of(i) {
                    &[Some(j)] => Some(j as usize),
                    _ => None,
                };
                match single_next {
                    Some(j)
                        if !options.create_graph
                            && !observed
                            && node.accumulate_into(
                                &mut gradients[j],
                                &node.inputs[0].shape,
                                &g,
                            ) =>
                    {
                        Gradients::from_iter([None])
                    }
                    _ => {
                        gradient = observed.then(|| g.clone());
                        Node::apply(node, g, retain)?
                    }
                }
            }
            _ => Gradients::new(),
        };
        // Sum each gradient down to its input's shape (broadcasting happened forward).
        for (slot, meta) in input_grads.iter_mut().zip(&node.inputs) {
            let Some(g) = slot.as_mut() else { continue };
            if g.shape() != meta.shape.as_slice() {
                *g = g.try_sum_to(&meta.shape)?;
            }
            if g.dtype() != meta.dtype {
                *g = g.try_to_dtype(meta.dtype)?;
            }
        }
        if let (Some(g), true) = (&gradient, super::observe::is_active()) {
            super::observe::backward(node, g, &input_grads);
        }
        let mut input_grads = input_grads.into_iter();
        let (first, end) = graph.edge_ranges[i as usize];
        for &next in &graph.edges[first as usize..end as usize] {
            let grad_i = input_grads.next().flatten();
            let Some(j) = next else { continue };
            if let Some(g) = grad_i {
                accumulate(&mut gradients[j as usize], g);
            }
            let waiting = &mut graph.dependencies[j as usize];
            *waiting -= 1;
            if *waiting == 0 {
                ready.push((graph.nodes[j as usize].sequence_nr, Reverse(j)));
            }
        }
    }
    Ok(results)
}

/// Adds `gradient` to what `slot` gathered: in place when the pass is not recorded and nothing
/// else holds the gathered tensor (what `add_blocks_private` checks), else into a new one.
fn accumulate(slot: &mut Option<Tensor>, gradient: Tensor) {
    *slot = Some(match slot.take() {
        None => gradient,
        Some(mut previous) => {
            let n = previous.numel();
            let same_shape = previous.shape() == gradient.shape();
            if same_shape && previous.add_blocks_private(&gradient, (1, n, 0, n)) {
                previous
            } else {
                &previous + &gradient
            }
        }
    });
}

fn accumulate_into_leaf(leaf: &Tensor, gradient: Tensor, create_graph: bool) {
    let gradient = if create_graph {
        gradient
    } else {
        gradient.detach_owned()
    };
    let previous = leaf.grad();
    leaf.store_grad(Some(match previous {
        None if create_graph || gradient.owns_all_of_its_storage() => gradient,
        // The gradient shares memory with something else (another gradient, a view, the root
        // seed): `.grad` gets its own buffer, since optimisers and clipping write into it.
        None => crate::ops::ok(gradient.try_contiguous_copy("backward")),
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
                if g.dtype() != output.dtype() {
                    return Err(Error::invalid(
                        op,
                        format!(
                            "the output has dtype {} but its gradient has dtype {}; convert the \
                             gradient with .to_dtype(DType::{})",
                            output.dtype(),
                            g.dtype(),
                            output.dtype().as_str()
                        ),
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
    #[track_caller]
    pub fn backward(&self) {
        crate::ops::ok(self.try_backward())
    }

    /// Back-propagates `grad` (the gradient of some scalar with respect to this tensor).
    #[track_caller]
    pub fn backward_with(&self, grad: &Tensor) {
        crate::ops::ok(self.try_backward_opts(Some(grad), BackwardOptions::default()))
    }

    /// Back-propagates with explicit options; `grad` defaults to one for a scalar. The
    /// gradient must have the output's shape and dtype.
    ///
    /// ```
    /// use nabla_core::{BackwardOptions, Tensor};
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).requires_grad();
    /// let y = &x * 2.0;
    /// let err = y
    ///     .try_backward_opts(Some(&Tensor::ones(&[2], nabla_core::DType::F64)), BackwardOptions::default())
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("dtype f64"));
    /// ```
    pub fn try_backward_opts(&self, grad: Option<&Tensor>, options: BackwardOptions) -> Result<()> {
        let grads: Option<[&Tensor; 1]> = grad.map(|g| [g]);
        let roots = root_gradients("backward", &[self], grads.as_ref().map(|g| g.as_slice()))?;
        run(roots, options, Capture::Leaves).map(|_| ())
    }
}

/// Options of [`try_grad_opts`], after the keyword arguments of `torch.autograd.grad`.
#[derive(Copy, Clone, Debug, Default)]
pub struct GradOptions {
    /// Keep saved tensors so the graph can be traversed again.
    pub retain_graph: bool,
    /// Record the backward pass itself, so the gradients are differentiable (implies retain).
    pub create_graph: bool,
    /// An input the outputs do not depend on gets `None` instead of an error.
    pub allow_unused: bool,
    /// An input the outputs do not depend on gets zeros of its shape instead of an error
    /// (PyTorch's `materialize_grads`; here it implies `allow_unused`).
    pub materialize_grads: bool,
}

impl From<BackwardOptions> for GradOptions {
    fn from(options: BackwardOptions) -> Self {
        GradOptions {
            retain_graph: options.retain_graph,
            create_graph: options.create_graph,
            ..GradOptions::default()
        }
    }
}

/// Gradients of `outputs` (scalars) with respect to `inputs`, without touching any `.grad`.
/// Every input must be used by the outputs, as in PyTorch; see [`try_grad_opts`] for
/// `allow_unused` and `materialize_grads`.
///
/// ```
/// use nabla_core::{grad, Tensor};
/// let x = Tensor::scalar(3.0f64).requires_grad();
/// let y = &x * &x;
/// let g = grad(&[&y], &[&x]);
/// assert_eq!(g[0].item::<f64>(), 6.0);
/// assert!(x.grad().is_none());
/// ```
#[track_caller]
pub fn grad(outputs: &[&Tensor], inputs: &[&Tensor]) -> Vec<Tensor> {
    crate::ops::ok(try_grad(outputs, None, inputs, BackwardOptions::default()))
}

/// Fallible, general form of [`grad`]: explicit output gradients and options (`create_graph`
/// makes the returned gradients differentiable). An input the outputs do not depend on is an
/// error naming it.
///
/// ```
/// use nabla_core::{BackwardOptions, Tensor, try_grad};
/// let (x, unused) = (Tensor::scalar(3.0f64).requires_grad(), Tensor::scalar(1.0f64).requires_grad());
/// let err = try_grad(&[&(&x * &x)], None, &[&x, &unused], BackwardOptions::default()).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "grad: input 1 (shape []) is not used by the outputs; set allow_unused in GradOptions \
///      (try_grad_opts) to get None for it, or materialize_grads to get zeros"
/// );
/// ```
pub fn try_grad(
    outputs: &[&Tensor],
    grad_outputs: Option<&[&Tensor]>,
    inputs: &[&Tensor],
    options: BackwardOptions,
) -> Result<Vec<Tensor>> {
    Ok(
        try_grad_opts(outputs, grad_outputs, inputs, options.into())?
            .into_iter()
            .map(|g| g.expect("every input used"))
            .collect(),
    )
}

/// [`try_grad`] with PyTorch's options for unused inputs: `None` for each with `allow_unused`,
/// zeros with `materialize_grads`, an error naming the first otherwise.
///
/// ```
/// use nabla_core::{GradOptions, Tensor, try_grad_opts};
/// let (x, unused) = (Tensor::scalar(3.0f64).requires_grad(), Tensor::scalar(1.0f64).requires_grad());
/// let y = &x * &x;
/// let options = GradOptions { allow_unused: true, retain_graph: true, ..GradOptions::default() };
/// let g = try_grad_opts(&[&y], None, &[&x, &unused], options).unwrap();
/// assert_eq!((g[0].as_ref().unwrap().item::<f64>(), g[1].is_none()), (6.0, true));
/// let options = GradOptions { materialize_grads: true, ..GradOptions::default() };
/// let g = try_grad_opts(&[&y], None, &[&x, &unused], options).unwrap();
/// assert_eq!(g[1].as_ref().unwrap().item::<f64>(), 0.0);
/// ```
pub fn try_grad_opts(
    outputs: &[&Tensor],
    grad_outputs: Option<&[&Tensor]>,
    inputs: &[&Tensor],
    options: GradOptions,
) -> Result<Vec<Option<Tensor>>> {
    let roots = root_gradients("grad", outputs, grad_outputs)?;
    let edges = inputs
        .iter()
        .map(|t| root_edge("grad", t))
        .collect::<Result<Vec<_>>>()?;
    let backward = BackwardOptions {
        retain_graph: options.retain_graph,
        create_graph: options.create_graph,
    };
    let results = run(roots, backward, Capture::Edges(&edges))?;
    let allowed = options.allow_unused || options.materialize_grads;
    if let (false, Some(i)) = (allowed, results.iter().position(Option::is_none)) {
        return Err(Error::invalid(
            "grad",
            format!(
                "input {i} (shape {:?}) is not used by the outputs; set allow_unused in \
                 GradOptions (try_grad_opts) to get None for it, or materialize_grads to get zeros",
                inputs[i].shape()
            ),
        ));
    }
    Ok(results
        .into_iter()
        .zip(inputs)
        .map(|(g, input)| match g {
            None if options.materialize_grads => Some(Tensor::zeros(input.shape(), input.dtype())),
            g => g,
        })
        .collect())
}

/// [`try_grad_opts`] with `materialize_grads`: zeros for an input the outputs do not depend on,
/// as the function transforms need (a function that ignores an input has a zero derivative in
/// it).
pub(crate) fn grad_or_zeros(
    outputs: &[&Tensor],
    grad_outputs: Option<&[&Tensor]>,
    inputs: &[&Tensor],
    options: BackwardOptions,
) -> Result<Vec<Tensor>> {
    let options = GradOptions {
        materialize_grads: true,
        ..options.into()
    };
    Ok(try_grad_opts(outputs, grad_outputs, inputs, options)?
        .into_iter()
        .map(|g| g.expect("materialized"))
        .collect())
}

/// The gradients that flow from `output` (seeded with `gradient`) into each of `boundary`'s
/// nodes, without running those nodes or anything past them: the part of the graph between
/// `output` and the boundary, differentiated on its own (`None` where nothing arrives). With
/// `create_graph`, the gradients are themselves recorded.
pub(crate) fn grad_to_boundary(
    output: &Tensor,
    gradient: Tensor,
    boundary: &[Edge],
    create_graph: bool,
) -> Result<Vec<Option<Tensor>>> {
    let root = root_edge("grad", output)?;
    let options = BackwardOptions {
        retain_graph: false,
        create_graph,
    };
    run(vec![(root, gradient)], options, Capture::Boundary(boundary))
}
