//! Operations defined outside this crate. A layer library's fused kernel joins the graph
//! through [`record_operation`] with a [`Backward`] rule of its own; a user's function with
//! hand-written derivatives implements [`Function`] (PyTorch's `autograd.Function`); and
//! [`checkpoint`] trades memory for a second forward pass.

use super::engine::{BackwardOptions, grad_or_zeros};
use super::node::Backward;
use crate::autograd::node::Gradients;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::ops::{Save, record};
use crate::tensor::Tensor;
use std::sync::Arc;

/// Links `output`, computed from `inputs` outside the graph, into it: backward will call
/// `backward.vjp` with `saved` (in this order) and the output's gradient. Does nothing when no
/// input requires gradients or recording is off.
///
/// ```
/// use nabla_core::{Backward, Gradients, Tensor, no_grad, record_operation};
/// // y = 3x, with its rule written by hand.
/// struct Triple;
/// impl Backward for Triple {
///     fn name(&self) -> &'static str { "TripleBackward" }
///     fn vjp(&self, _: &[Tensor], g: &Tensor, _: &[bool]) -> Gradients {
///         Gradients::from_iter([Some(g * 3.0)])
///     }
/// }
/// let x = Tensor::scalar(2.0f64).requires_grad();
/// let y = record_operation(no_grad(|| &x * 3.0), &[&x], Triple, &[]);
/// y.backward();
/// assert_eq!(y.grad_fn().unwrap().name(), "TripleBackward");
/// assert_eq!(x.grad().unwrap().item::<f64>(), 3.0);
/// ```
pub fn record_operation(
    output: Tensor,
    inputs: &[&Tensor],
    backward: impl Backward + 'static,
    saved: &[&Tensor],
) -> Tensor {
    let save: Vec<Save> = saved.iter().map(|t| Save::Extra(t)).collect();
    record(output.detach(), inputs, backward, &save)
}

/// What a [`Function`] keeps between its forward and its backward: the tensors it saves, and
/// which outputs are not differentiable.
#[derive(Default)]
pub struct Context {
    saved: Vec<Tensor>,
    non_differentiable: Vec<usize>,
    needs_input_grad: Vec<bool>,
}

impl Context {
    /// Keeps `tensors` for backward (PyTorch's `ctx.save_for_backward`).
    pub fn save_for_backward(&mut self, tensors: &[&Tensor]) {
        self.saved.extend(tensors.iter().map(|t| (*t).clone()));
    }

    /// The tensors saved in forward, in order.
    pub fn saved_tensors(&self) -> &[Tensor] {
        &self.saved
    }

    /// Declares output `index` not differentiable (e.g. an index or a mask): it joins no graph.
    pub fn mark_non_differentiable(&mut self, index: usize) {
        self.non_differentiable.push(index);
    }

    /// Whether input `i` requires a gradient.
    pub fn needs_input_grad(&self, i: usize) -> bool {
        self.needs_input_grad.get(i).copied().unwrap_or(false)
    }
}

/// A differentiable function with hand-written derivatives, like `torch.autograd.Function`.
///
/// `forward` runs without recording on detached inputs; `backward` receives one gradient per
/// output (zeros for outputs that got none) and returns one per input; `jvp`, if given, makes
/// the function usable in forward mode. [`crate::gradcheck`] checks the rules.
pub trait Function: Send + Sync + 'static {
    /// The node's name in the graph, e.g. `ClampedReluBackward`.
    fn name(&self) -> &'static str;
    /// Computes the outputs, saving what backward needs in `ctx`.
    fn forward(&self, ctx: &mut Context, inputs: &[Tensor]) -> Result<Vec<Tensor>>;
    /// Gradients of the inputs from the gradients of the outputs. Write them with tensor
    /// operations and they can be differentiated again.
    fn backward(&self, ctx: &Context, grad_outputs: &[Tensor]) -> Vec<Option<Tensor>>;
    /// Tangents of the outputs from the tangents of the inputs; `None` if forward mode is not
    /// supported.
    fn jvp(&self, ctx: &Context, tangents: &[Tensor]) -> Option<Vec<Tensor>> {
        let _ = (ctx, tangents);
        None
    }
}

/// The graph node of output `index` of a [`Function`] call. A call with several outputs gets a
/// node per differentiable output; each passes its own gradient (zeros for the others) to the
/// function's backward, and the engine adds up what they send to the inputs.
struct FunctionNode<F> {
    function: Arc<F>,
    index: usize,
    output_shapes: Vec<Vec<usize>>,
    output_dtypes: Vec<DType>,
    needs_input_grad: Vec<bool>,
}

impl<F: Function> FunctionNode<F> {
    fn context(&self, saved: &[Tensor]) -> Context {
        Context {
            saved: saved.to_vec(),
            non_differentiable: Vec::new(),
            needs_input_grad: self.needs_input_grad.clone(),
        }
    }
}

impl<F: Function> Backward for FunctionNode<F> {
    fn name(&self) -> &'static str {
        self.function.name()
    }

    fn vjp(&self, saved: &[Tensor], grad: &Tensor, _: &[bool]) -> Gradients {
        let grads: Vec<Tensor> = (0..self.output_shapes.len())
            .map(|k| {
                if k == self.index {
                    grad.clone()
                } else {
                    Tensor::zeros(&self.output_shapes[k], self.output_dtypes[k])
                }
            })
            .collect();
        self.function.backward(&self.context(saved), &grads).into()
    }

    fn jvp(&self, saved: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        self.function
            .jvp(&self.context(saved), tangents)
            .and_then(|mut outputs| {
                (self.index < outputs.len()).then(|| outputs.swap_remove(self.index))
            })
            .ok_or_else(|| Error::invalid(self.function.name(), "has no forward-mode (JVP) rule"))
    }

    fn replay(&self, saved: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        let mut ctx = self.context(saved);
        Some(
            crate::no_grad(|| self.function.forward(&mut ctx, inputs)).and_then(|mut outputs| {
                (self.index < outputs.len())
                    .then(|| outputs.swap_remove(self.index))
                    .ok_or_else(|| {
                        Error::invalid(self.function.name(), "returned fewer outputs on replay")
                    })
            }),
        )
    }
}

/// Calls a [`Function`] on `inputs`, linking each differentiable output into the graph.
///
/// ```
/// use nabla_core::{Context, Function, Result, Tensor, apply_function};
/// /// ReLU clamped at 6 whose gradient passes straight through everywhere.
/// struct StraightThroughRelu6;
/// impl Function for StraightThroughRelu6 {
///     fn name(&self) -> &'static str { "StraightThroughRelu6Backward" }
///     fn forward(&self, _: &mut Context, x: &[Tensor]) -> Result<Vec<Tensor>> {
///         Ok(vec![x[0].clamp(0.0, 6.0)])
///     }
///     fn backward(&self, _: &Context, g: &[Tensor]) -> Vec<Option<Tensor>> {
///         vec![Some(g[0].clone())]
///     }
/// }
/// let x = Tensor::from_vec(vec![-1.0f64, 3.0, 9.0], &[3]).requires_grad();
/// let y = apply_function(StraightThroughRelu6, &[&x]).unwrap().remove(0);
/// y.sum().backward();
/// assert_eq!(y.to_vec::<f64>(), vec![0.0, 3.0, 6.0]);
/// assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![1.0, 1.0, 1.0]);
/// ```
pub fn apply_function<F: Function>(function: F, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    let mut ctx = Context {
        needs_input_grad: inputs.iter().map(|t| t.requires_grad_flag()).collect(),
        ..Context::default()
    };
    let detached: Vec<Tensor> = inputs.iter().map(|t| t.detach()).collect();
    let outputs = crate::no_grad(|| function.forward(&mut ctx, &detached))?;
    let function = Arc::new(function);
    let output_shapes: Vec<Vec<usize>> = outputs.iter().map(|o| o.shape().to_vec()).collect();
    let output_dtypes: Vec<DType> = outputs.iter().map(Tensor::dtype).collect();
    let saved: Vec<Save> = ctx.saved.iter().map(Save::Extra).collect();
    Ok(outputs
        .into_iter()
        .enumerate()
        .map(|(index, output)| {
            if ctx.non_differentiable.contains(&index) {
                return output.detach();
            }
            let node = FunctionNode {
                function: function.clone(),
                index,
                output_shapes: output_shapes.clone(),
                output_dtypes: output_dtypes.clone(),
                needs_input_grad: ctx.needs_input_grad.clone(),
            };
            record(output.detach(), inputs, node, &saved)
        })
        .collect())
}

/// Gradient checkpointing: runs `f` without keeping its intermediate results, and runs it
/// again during backward to get them. Saves the memory of every activation inside `f` at the
/// cost of a second forward pass.
///
/// ```
/// use nabla_core::{Tensor, checkpoint};
/// let x = Tensor::from_vec(vec![0.5f64, 1.5], &[2]).requires_grad();
/// let y = checkpoint(|v| v[0].sin().exp().sum(), &[&x]).unwrap();
/// y.backward();
/// let expected: Vec<f64> = [0.5f64, 1.5].iter().map(|v| v.cos() * v.sin().exp()).collect();
/// assert_eq!(x.grad().unwrap().to_vec::<f64>(), expected);
/// ```
pub fn checkpoint(
    f: impl Fn(&[Tensor]) -> Tensor + Send + Sync + 'static,
    inputs: &[&Tensor],
) -> Result<Tensor> {
    Ok(apply_function(Recompute(f), inputs)?.remove(0))
}

struct Recompute<G>(G);

impl<G: Fn(&[Tensor]) -> Tensor + Send + Sync + 'static> Function for Recompute<G> {
    fn name(&self) -> &'static str {
        "CheckpointBackward"
    }

    fn forward(&self, ctx: &mut Context, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        ctx.save_for_backward(&inputs.iter().collect::<Vec<_>>());
        Ok(vec![(self.0)(inputs)])
    }

    fn backward(&self, ctx: &Context, grad_outputs: &[Tensor]) -> Vec<Option<Tensor>> {
        // Rebuild the segment's graph from the saved inputs, then back-propagate through it,
        // recording only if this backward pass is itself recorded.
        let create_graph = crate::is_grad_enabled();
        crate::enable_grad(|| {
            // Integer inputs (indices, labels) pass through and get no gradient.
            let leaves: Vec<Tensor> = ctx
                .saved_tensors()
                .iter()
                .map(|t| {
                    let leaf = t.detach();
                    if leaf.dtype().is_float() {
                        leaf.requires_grad()
                    } else {
                        leaf
                    }
                })
                .collect();
            let output = (self.0)(&leaves);
            if !output.requires_grad_flag() {
                return leaves.iter().map(|_| None).collect();
            }
            let refs: Vec<&Tensor> = leaves.iter().filter(|t| t.dtype().is_float()).collect();
            let options = BackwardOptions {
                retain_graph: false,
                create_graph,
            };
            let grads = grad_or_zeros(&[&output], Some(&[&grad_outputs[0]]), &refs, options)
                .unwrap_or_else(|e| panic!("{e}"));
            let mut grads = grads.into_iter();
            leaves
                .iter()
                .zip(0..)
                .map(|(leaf, i)| {
                    let g = leaf.dtype().is_float().then(|| grads.next()).flatten();
                    g.filter(|_| ctx.needs_input_grad(i))
                })
                .collect()
        })
    }

    fn jvp(&self, ctx: &Context, tangents: &[Tensor]) -> Option<Vec<Tensor>> {
        let (_, tangent) = crate::jvp(&self.0, ctx.saved_tensors(), tangents).ok()?;
        Some(vec![tangent])
    }
}
