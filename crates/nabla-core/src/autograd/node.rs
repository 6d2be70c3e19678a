//! Graph nodes. Every recorded operation creates one [`Node`] holding its backward rule, the
//! tensors it saved, and edges to the nodes of its inputs (PyTorch's `Node` and `next_functions`).
//! A leaf that requires gradients is reached through an `AccumulateGrad` node.

use crate::DType;
use crate::error::{Error, Result};
use crate::shape::Dims;
use crate::tensor::Tensor;
use smallvec::SmallVec;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// An edge from a consumer to the node that produced one of its inputs.
pub type Edge = Arc<Node>;

/// The gradients a rule returns, one per input (`None` where not needed): inline for up to two
/// inputs, so the common op allocates no vector for them.
pub type Gradients = SmallVec<[Option<Tensor>; 2]>;

/// The backward rule of an operation: its vector-Jacobian product.
///
/// Rules are written with ordinary (differentiable) tensor operations, so running them with
/// gradient recording switched on yields a graph of the backward pass itself, which is how
/// higher-order gradients come about.
pub trait Backward: Send + Sync {
    /// PyTorch-style name of the node, e.g. `MulBackward`.
    fn name(&self) -> &'static str;

    /// Given the gradient of the output, the gradients of the inputs (one per input, `None`
    /// where `needs[i]` is false or the input gets no gradient). `saved` holds the tensors the
    /// operation saved in the order it saved them. A gradient may come back in the broadcast
    /// output shape: the engine sums it down to the input's shape.
    fn vjp(&self, saved: &[Tensor], grad: &Tensor, needs: &[bool]) -> Gradients;

    /// Forward mode: the output's tangent given every input's tangent (zeros for inputs without
    /// one), the Jacobian-vector product. `saved` is what the operation saves for `vjp`. The
    /// result may have a shape that broadcasts to the output's. Operations without a rule
    /// return an error, which makes [`crate::jvp`] fail with it.
    fn jvp(&self, saved: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        let _ = (saved, tangents);
        Err(Error::invalid(
            self.name(),
            "has no forward-mode (JVP) rule",
        ))
    }

    /// Runs the operation's forward again on other `inputs` (same shapes), with the same
    /// parameters: how the node-by-node gradient check evaluates one node numerically.
    /// `None` for operations that cannot be replayed.
    fn replay(&self, saved: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        let _ = (saved, inputs);
        None
    }
}

/// A tensor kept for backward, with the storage version it had then.
pub(crate) struct SavedTensor {
    tensor: Tensor,
    version: u64,
    /// The output of this very node, kept without its `grad_fn` to avoid a reference cycle.
    is_output: bool,
}

enum Kind {
    Op(Box<dyn Backward>),
    AccumulateGrad(Tensor),
}

/// Most operations have one or two inputs and save at most two tensors: kept inline, a node
/// costs one allocation.
pub(crate) type Few<T> = SmallVec<[T; 2]>;

struct Saved {
    tensors: Few<SavedTensor>,
    freed: bool,
}

/// What an input looked like when the operation ran: the gradient must come back like it.
#[derive(Clone, Debug)]
pub(crate) struct InputMeta {
    pub(crate) shape: Dims,
    pub(crate) dtype: DType,
}

/// A node of the backward graph.
/// A function run on a gradient as it arrives; returning `Some` replaces the gradient.
pub type GradHook = Box<dyn Fn(&Tensor) -> Option<Tensor> + Send + Sync>;

pub struct Node {
    kind: Kind,
    saved: Mutex<Saved>,
    /// Hooks registered on the tensor this node produced.
    pub(crate) hooks: Mutex<Vec<GradHook>>,
    next: Few<Option<Edge>>,
    pub(crate) inputs: Few<InputMeta>,
    /// Creation order; later nodes run first when several are ready.
    pub(crate) sequence_nr: u64,
}

static NEXT_SEQUENCE_NR: AtomicU64 = AtomicU64::new(0);

impl Node {
    pub(crate) fn new(
        backward: Box<dyn Backward>,
        inputs: &[&Tensor],
        saved: Few<SavedTensor>,
    ) -> Arc<Node> {
        // Plain pushes: collecting into a `SmallVec` goes through its generic `extend`, which
        // costs several times more for the one or two inputs an op has.
        let mut next = Few::with_capacity(inputs.len());
        let mut metas = Few::with_capacity(inputs.len());
        for t in inputs {
            next.push(t.gradient_edge());
            metas.push(InputMeta {
                shape: t.dims_vec(),
                dtype: t.dtype(),
            });
        }
        Arc::new(Node {
            kind: Kind::Op(backward),
            saved: Mutex::new(Saved {
                tensors: saved,
                freed: false,
            }),
            hooks: Mutex::new(Vec::new()),
            next,
            inputs: metas,
            sequence_nr: NEXT_SEQUENCE_NR.fetch_add(1, Ordering::Relaxed),
        })
    }

    pub(crate) fn accumulator(leaf: Tensor) -> Arc<Node> {
        let meta = InputMeta {
            shape: leaf.dims_vec(),
            dtype: leaf.dtype(),
        };
        Arc::new(Node {
            kind: Kind::AccumulateGrad(leaf),
            saved: Mutex::new(Saved {
                tensors: Few::new(),
                freed: false,
            }),
            hooks: Mutex::new(Vec::new()),
            next: Few::new(),
            inputs: smallvec::smallvec![meta],
            sequence_nr: u64::MAX,
        })
    }

    /// The node's name: `AddBackward`, `MatmulBackward`, `AccumulateGrad`, ...
    pub fn name(&self) -> &'static str {
        match &self.kind {
            Kind::Op(b) => b.name(),
            Kind::AccumulateGrad(_) => "AccumulateGrad",
        }
    }

    /// The nodes gradients flow to next, one per input (`None` for inputs without gradient).
    pub fn next_functions(&self) -> &[Option<Edge>] {
        &self.next
    }

    /// For an `AccumulateGrad` node, the leaf it accumulates into (PyTorch's `.variable`).
    pub fn variable(&self) -> Option<&Tensor> {
        match &self.kind {
            Kind::AccumulateGrad(leaf) => Some(leaf),
            Kind::Op(_) => None,
        }
    }

    /// Shapes of the tensors this node saved for backward (empty once freed).
    pub fn saved_shapes(&self) -> Vec<Vec<usize>> {
        let saved = self.saved.lock().unwrap_or_else(|p| p.into_inner());
        saved
            .tensors
            .iter()
            .map(|s| s.tensor.shape().to_vec())
            .collect()
    }

    /// Shapes of the inputs this node computes gradients for.
    pub fn input_shapes(&self) -> Vec<Vec<usize>> {
        self.inputs.iter().map(|m| m.shape.to_vec()).collect()
    }

    /// Runs this node's operation forward on `inputs` (as [`Backward::replay`]); `None` for an
    /// accumulation node, an operation that cannot be replayed, or one whose saved tensors were
    /// freed by backward.
    pub fn replay(&self, inputs: &[Tensor]) -> Option<Result<Tensor>> {
        let Kind::Op(rule) = &self.kind else {
            return None;
        };
        let saved = self.saved.lock().unwrap_or_else(|p| p.into_inner());
        if saved.freed {
            return None;
        }
        let tensors: Vec<Tensor> = saved.tensors.iter().map(|s| s.tensor.clone()).collect();
        drop(saved);
        rule.replay(&tensors, inputs)
    }

    /// Runs this node's rule on the gradient of its output.
    ///
    /// `this` must be the `Arc` holding `self`: saved outputs are re-linked to it when the
    /// backward pass is itself recorded. Frees the saved tensors unless `retain`.
    pub(crate) fn apply(this: &Arc<Node>, grad: &Tensor, retain: bool) -> Result<Gradients> {
        let Kind::Op(rule) = &this.kind else {
            unreachable!("accumulation nodes are handled by the engine")
        };
        let tensors = {
            let mut saved = this.saved.lock().unwrap_or_else(|p| p.into_inner());
            if saved.freed {
                return Err(Error::GraphFreed { node: rule.name() });
            }
            let record = crate::autograd::is_grad_enabled();
            let mut tensors: Few<Tensor> = Few::with_capacity(saved.tensors.len());
            for s in &saved.tensors {
                let now = s.tensor.storage_version();
                if now != s.version {
                    return Err(Error::SavedTensorModified {
                        node: rule.name(),
                        shape: s.tensor.shape().into(),
                        saved: s.version,
                        now,
                    });
                }
                tensors.push(if s.is_output && record {
                    s.tensor.relinked(this.clone())
                } else {
                    s.tensor.clone()
                });
            }
            if !retain {
                saved.tensors.clear();
                saved.freed = true;
            }
            tensors
        };
        let mut needs: SmallVec<[bool; 4]> = SmallVec::with_capacity(this.next.len());
        for next in &this.next {
            needs.push(next.is_some());
        }
        Ok(rule.vjp(&tensors, grad, &needs))
    }
}

impl Node {
    /// Runs the hooks of the tensor whose gradient arrives at this node: a leaf's own hooks for
    /// an accumulation node, else the hooks registered on this node's output.
    pub(crate) fn run_hooks(&self, gradient: Tensor) -> Tensor {
        let run = |hooks: &[GradHook], mut g: Tensor| {
            for hook in hooks {
                if let Some(replaced) = hook(&g) {
                    g = replaced;
                }
            }
            g
        };
        match &self.kind {
            Kind::AccumulateGrad(leaf) => run(
                &leaf
                    .0
                    .leaf_state()
                    .hooks
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()),
                gradient,
            ),
            Kind::Op(_) => run(
                &self.hooks.lock().unwrap_or_else(|p| p.into_inner()),
                gradient,
            ),
        }
    }
}

impl SavedTensor {
    pub(crate) fn input(tensor: &Tensor) -> Self {
        SavedTensor {
            tensor: tensor.clone(),
            version: tensor.storage_version(),
            is_output: false,
        }
    }

    pub(crate) fn output(tensor: &Tensor) -> Self {
        SavedTensor {
            tensor: tensor.detach_keeping_tangent(),
            version: tensor.storage_version(),
            is_output: true,
        }
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}>", self.name())
    }
}

/// Dropping a long chain node by node would recurse once per node and overflow the stack; this
/// unlinks the chain iteratively instead, taking apart every node this was the last owner of.
impl Drop for Node {
    fn drop(&mut self) {
        let mut pending: Vec<Arc<Node>> = Vec::new();
        let take_links = |node: &mut Node, pending: &mut Vec<Arc<Node>>| {
            for edge in std::mem::take(&mut node.next).into_iter().flatten() {
                pending.push(edge);
            }
            let saved = std::mem::take(
                &mut node
                    .saved
                    .get_mut()
                    .unwrap_or_else(|p| p.into_inner())
                    .tensors,
            );
            for s in saved {
                if let Some(grad_fn) = s.tensor.take_grad_fn_if_unique() {
                    pending.push(grad_fn);
                }
            }
        };
        take_links(self, &mut pending);
        while let Some(mut edge) = pending.pop() {
            // The last owner empties the node where it lies (moving it out of its `Arc` would
            // copy the whole record); dropping `edge` then frees an unlinked node.
            if let Some(node) = Arc::get_mut(&mut edge) {
                take_links(node, &mut pending);
            }
        }
    }
}
