//! Graph nodes. Every recorded operation creates one [`Node`] holding its backward rule, the
//! tensors it saved, and edges to the nodes of its inputs (PyTorch's `Node` and `next_functions`).
//! A leaf that requires gradients is reached through an `AccumulateGrad` node.

use crate::DType;
use crate::autograd::formula::{At, Formula};
use crate::error::{Error, Result};
use crate::shape::Dims;
use crate::tensor::Tensor;
use smallvec::SmallVec;
use std::cell::Cell;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

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

    /// Which rule this is, among every rule the library defines (see
    /// [`crate::autograd::rules`]): the name, unless several rules share it (`x²` and `xᵖ` are
    /// both `PowBackward`, with rules `PowBackward(square)` and `PowBackward(scalar)`).
    fn rule(&self) -> &'static str {
        self.name()
    }

    /// The rule stated beside its `vjp` ([`crate::autograd::formula`]): how the output reads in
    /// its inputs, the operation's symbol, and for each input its local derivative (valued at
    /// `at` by the code `vjp` runs) or, for a matrix rule, the map it applies to the upstream
    /// gradient. `inputs` is how many inputs the node has. Every rule of this crate states
    /// one, which its op table checks; the default, for a rule defined elsewhere that states
    /// none, is `None`.
    fn formula(&self, inputs: usize, at: Option<&At>) -> Option<Formula> {
        let _ = (inputs, at);
        None
    }

    /// Given the gradient of the output, the gradients of the inputs (one per input, `None`
    /// where `needs[i]` is false or the input gets no gradient). `saved` holds the tensors the
    /// operation saved in the order it saved them. A gradient may come back in the broadcast
    /// output shape: the engine sums it down to the input's shape.
    fn vjp(&self, saved: &[Tensor], grad: &Tensor, needs: &[bool]) -> Gradients;

    /// [`Backward::vjp`] handed the output's gradient to keep, as the engine does: a rule may
    /// reuse its memory for an input's gradient when nothing else can see it. The default
    /// lends it to `vjp`.
    fn vjp_owned(&self, saved: &[Tensor], grad: Tensor, needs: &[bool]) -> Gradients {
        self.vjp(saved, &grad, needs)
    }

    /// [`Backward::vjp_owned`] for a rule that can fail as it runs (one that runs a forward
    /// computation again, say, and finds it changed): what the engine calls, its error ending
    /// the backward pass. The default cannot fail. `saved` is handed over: when the graph is
    /// not retained, the engine has let go of them, so a saved tensor nothing else holds may be
    /// reused for a gradient.
    fn try_vjp_owned(
        &self,
        saved: &mut [Tensor],
        grad: Tensor,
        needs: &[bool],
    ) -> Result<Gradients> {
        Ok(self.vjp_owned(saved, grad, needs))
    }

    /// For a rule of one input whose gradient is the output's gradient inside zeros (a
    /// narrow): adds `grad` straight into `buffer`, the gradient gathered so far for the input
    /// of shape `input_shape` (zeros when `None`), and returns `true`; then the engine skips
    /// [`Backward::vjp`] and its zero-padded copy, so taking T slices of one tensor costs O(T)
    /// in backward, not O(T²). Called only when the backward pass is not recorded. The
    /// default, and a buffer shared with anything else, returns `false` and leaves it as is.
    fn accumulate_into(
        &self,
        _buffer: &mut Option<Tensor>,
        _input_shape: &[usize],
        _grad: &Tensor,
    ) -> bool {
        false
    }

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

/// The rule of an accumulation node: nothing flows past a leaf.
struct AccumulateGrad;

impl Backward for AccumulateGrad {
    fn name(&self) -> &'static str {
        "AccumulateGrad"
    }

    fn vjp(&self, _saved: &[Tensor], _grad: &Tensor, _needs: &[bool]) -> Gradients {
        Gradients::new()
    }
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

impl InputMeta {
    pub(crate) fn of(t: &Tensor) -> Self {
        InputMeta {
            shape: t.dims_vec(),
            dtype: t.dtype(),
        }
    }
}

/// A function run on a gradient as it arrives; returning `Some` replaces the gradient.
pub type GradHook = Box<dyn Fn(&Tensor) -> Option<Tensor> + Send + Sync>;

/// The hooks of one tensor. Most tensors never get one, so the list is made on the first
/// registration, and running the hooks of a tensor without any takes no lock.
#[derive(Default)]
pub(crate) struct Hooks(OnceLock<Mutex<Vec<GradHook>>>);

impl Hooks {
    pub(crate) fn register(&self, hook: GradHook) {
        self.0
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(hook);
    }

    /// Runs every hook in registration order, each on the gradient the one before left; an
    /// error when a hook returns a gradient of another shape or dtype (as PyTorch refuses a
    /// hook that "has changed the size of value").
    fn run(&self, mut gradient: Tensor) -> Result<Tensor> {
        let Some(hooks) = self.0.get() else {
            return Ok(gradient);
        };
        for hook in hooks.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            if let Some(replaced) = hook(&gradient) {
                if replaced.shape() != gradient.shape() || replaced.dtype() != gradient.dtype() {
                    return Err(Error::invalid(
                        "backward",
                        format!(
                            "a hook returned a gradient of shape {:?} and dtype {} for a tensor \
                             whose gradient has shape {:?} and dtype {}; a hook may replace the \
                             gradient only with one of the same shape and dtype",
                            replaced.shape(),
                            replaced.dtype(),
                            gradient.shape(),
                            gradient.dtype()
                        ),
                    ));
                }
                gradient = replaced;
            }
        }
        Ok(gradient)
    }
}

/// A node of the backward graph. The rule is stored in the node itself (`Arc<Node>` is an
/// `Arc<Node<dyn Backward>>`), so recording an operation allocates one record, not two.
pub struct Node<R: ?Sized + Backward = dyn Backward> {
    /// For an `AccumulateGrad` node, the leaf it accumulates into.
    leaf: Option<Tensor>,
    /// Whether the operation saved any tensor: a node that saved none has nothing to check or
    /// free, and its rule runs without taking the lock (PyTorch, too, only fails a second
    /// backward where a freed tensor is needed).
    saves_tensors: bool,
    saved: Mutex<Saved>,
    /// Hooks registered on the tensor this node produced.
    pub(crate) hooks: Hooks,
    next: Few<Option<Edge>>,
    pub(crate) inputs: Few<InputMeta>,
    /// Creation order; later nodes run first when several are ready.
    pub(crate) sequence_nr: u64,
    rule: R,
}

thread_local! {
    /// Per thread, as PyTorch's: no shared counter (and no atomic) per recorded op. Nodes of one
    /// graph are normally recorded by one thread; across threads the order is arbitrary.
    static NEXT_SEQUENCE_NR: Cell<u64> = const { Cell::new(0) };
}

/// The sequence number the next node recorded on this thread will get.
pub(crate) fn next_sequence_nr() -> u64 {
    NEXT_SEQUENCE_NR.with(Cell::get)
}

impl Node {
    pub(crate) fn new(
        backward: impl Backward + 'static,
        inputs: &[&Tensor],
        saved: Few<SavedTensor>,
    ) -> Arc<Node> {
        // Plain pushes: collecting into a `SmallVec` goes through its generic `extend`, which
        // costs several times more for the one or two inputs an op has.
        let mut next = Few::with_capacity(inputs.len());
        let mut metas = Few::with_capacity(inputs.len());
        for t in inputs {
            next.push(t.gradient_edge());
            metas.push(InputMeta::of(t));
        }
        Node::with_edges(backward, next, metas, saved)
    }

    /// A node whose gradients flow to `next`, one edge per input described by `inputs`.
    pub(crate) fn with_edges(
        backward: impl Backward + 'static,
        next: Few<Option<Edge>>,
        inputs: Few<InputMeta>,
        saved: Few<SavedTensor>,
    ) -> Arc<Node> {
        crate::live::node_created();
        Arc::new(Node {
            leaf: None,
            saves_tensors: !saved.is_empty(),
            saved: Mutex::new(Saved {
                tensors: saved,
                freed: false,
            }),
            hooks: Hooks::default(),
            next,
            inputs,
            sequence_nr: NEXT_SEQUENCE_NR.with(|next| next.replace(next.get() + 1)),
            rule: backward,
        })
    }

    pub(crate) fn accumulator(leaf: Tensor) -> Arc<Node> {
        crate::live::node_created();
        let meta = InputMeta::of(&leaf);
        Arc::new(Node {
            leaf: Some(leaf),
            saves_tensors: false,
            saved: Mutex::new(Saved {
                tensors: Few::new(),
                freed: false,
            }),
            hooks: Hooks::default(),
            next: Few::new(),
            inputs: smallvec::smallvec![meta],
            sequence_nr: u64::MAX,
            rule: AccumulateGrad,
        })
    }

    /// An identity for maps and sets: the node's address, unique among the nodes alive.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let x = Tensor::scalar(2.0f64).requires_grad();
    /// let y = &x * &x;
    /// let (a, b) = (y.grad_fn().unwrap(), y.grad_fn().unwrap());
    /// assert_eq!(a.id(), b.id());
    /// assert_ne!(a.id(), x.exp().grad_fn().unwrap().id());
    /// ```
    pub fn id(&self) -> usize {
        std::ptr::from_ref(self).cast::<()>() as usize
    }

    /// The node's name: `AddBackward`, `MatmulBackward`, `AccumulateGrad`, ...
    pub fn name(&self) -> &'static str {
        self.rule.name()
    }

    /// Which rule computes this node's gradients ([`Backward::rule`]).
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let x = Tensor::scalar(2.0f64).requires_grad();
    /// let node = x.powf(2.0).grad_fn().unwrap();
    /// assert_eq!((node.name(), node.rule()), ("PowBackward", "PowBackward(square)"));
    /// ```
    pub fn rule(&self) -> &'static str {
        self.rule.rule()
    }

    /// The node's rule stated ([`Backward::formula`]), with its local derivatives at `at` when
    /// given (computed without recording); `None` for an accumulation node.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// use nabla_core::autograd::formula::At;
    /// let x = Tensor::scalar(2.0f64).requires_grad();
    /// let y = x.powf(2.0);
    /// let node = y.grad_fn().unwrap();
    /// let formula = node.formula(None).unwrap();
    /// assert_eq!((formula.symbol.as_str(), formula.output.render_names(&["x"], "y").as_str()), ("^2", "x^2"));
    /// ```
    pub fn formula(&self, at: Option<&At>) -> Option<Formula> {
        crate::no_grad(|| self.rule.formula(self.next.len(), at))
    }

    /// [`Backward::accumulate_into`] of this node's rule.
    pub(crate) fn accumulate_into(
        &self,
        buffer: &mut Option<Tensor>,
        input_shape: &[usize],
        grad: &Tensor,
    ) -> bool {
        self.rule.accumulate_into(buffer, input_shape, grad)
    }

    /// Whether this node was recorded on this thread at or after `start` (a value of
    /// [`next_sequence_nr`] read earlier): created since then, not before.
    pub(crate) fn recorded_since(&self, start: u64) -> bool {
        self.leaf.is_none() && self.sequence_nr >= start
    }

    /// The nodes gradients flow to next, one per input (`None` for inputs without gradient).
    pub fn next_functions(&self) -> &[Option<Edge>] {
        &self.next
    }

    /// For an `AccumulateGrad` node, the leaf it accumulates into (PyTorch's `.variable`).
    pub fn variable(&self) -> Option<&Tensor> {
        self.leaf.as_ref()
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
        let saved = self.saved.lock().unwrap_or_else(|p| p.into_inner());
        if saved.freed {
            return None;
        }
        let tensors: Vec<Tensor> = saved.tensors.iter().map(|s| s.tensor.clone()).collect();
        drop(saved);
        self.rule.replay(&tensors, inputs)
    }

    /// Runs this node's rule on the gradient of its output.
    ///
    /// `this` must be the `Arc` holding `self`: saved outputs are re-linked to it when the
    /// backward pass is itself recorded. Frees the saved tensors unless `retain`.
    pub(crate) fn apply(this: &Arc<Node>, grad: Tensor, retain: bool) -> Result<Gradients> {
        let rule = &this.rule;
        let mut tensors = if !this.saves_tensors {
            Few::new()
        } else {
            let mut saved = this.saved.lock().unwrap_or_else(|p| p.into_inner());
            if saved.freed {
                return Err(Error::GraphFreed { node: rule.name() });
            }
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
            }
            let record = crate::autograd::is_grad_enabled();
            let handed = |s: &SavedTensor| {
                if s.is_output && record {
                    s.tensor.relinked(this.clone())
                } else {
                    s.tensor.clone()
                }
            };
            let mut tensors: Few<Tensor> = Few::with_capacity(saved.tensors.len());
            if retain {
                for s in &saved.tensors {
                    tensors.push(handed(s));
                }
            } else {
                // Freed now: moved out instead of cloned and then dropped.
                saved.freed = true;
                for s in std::mem::take(&mut saved.tensors) {
                    tensors.push(if s.is_output && record {
                        handed(&s)
                    } else {
                        s.tensor
                    });
                }
            }
            tensors
        };
        let mut needs: SmallVec<[bool; 4]> = SmallVec::with_capacity(this.next.len());
        for next in &this.next {
            needs.push(next.is_some());
        }
        rule.try_vjp_owned(&mut tensors, grad, &needs)
    }
}

impl Node {
    /// Runs the hooks of the tensor whose gradient arrives at this node: a leaf's own hooks for
    /// an accumulation node, else the hooks registered on this node's output.
    pub(crate) fn run_hooks(&self, gradient: Tensor) -> Result<Tensor> {
        match &self.leaf {
            Some(leaf) => leaf.0.leaf_state().hooks.run(gradient),
            None => self.hooks.run(gradient),
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

impl<R: ?Sized + Backward> Node<R> {
    /// Moves this node's edges, and the `grad_fn`s of saved tensors nothing else holds, to
    /// `pending`, leaving the node without links.
    fn unlink(&mut self, pending: &mut Vec<Arc<Node>>) {
        // Popping is cheaper than draining, and on a node already unlinked costs two checks.
        while let Some(edge) = self.next.pop() {
            pending.extend(edge);
        }
        let saved = &mut self
            .saved
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .tensors;
        while let Some(s) = saved.pop() {
            pending.extend(s.tensor.take_grad_fn_if_unique());
        }
    }
}

/// Dropping a long chain node by node would recurse once per node and overflow the stack; this
/// unlinks the chain iteratively instead, taking apart every node this was the last owner of.
impl<R: ?Sized + Backward> Drop for Node<R> {
    fn drop(&mut self) {
        crate::live::node_freed();
        let mut pending: Vec<Arc<Node>> = Vec::new();
        self.unlink(&mut pending);
        while let Some(mut edge) = pending.pop() {
            // The last owner empties the node where it lies (moving it out of its `Arc` would
            // copy the whole record); dropping `edge` then frees an unlinked node.
            if let Some(node) = Arc::get_mut(&mut edge) {
                node.unlink(&mut pending);
            }
        }
    }
}
