//! Operations defined outside this crate. A layer library's fused kernel joins the graph
//! through [`record_operation`] with a [`Backward`] rule of its own, and a user's function with
//! hand-written derivatives implements [`Function`] (PyTorch's `autograd.Function`).

use super::node::Backward;
use crate::autograd::formula::{At, Binding, Formula, Local};
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
    /// Keeps `tensors` for backward (PyTorch's `ctx.save_for_backward`). An input or an output
    /// of the function comes back to backward with its place in the graph, so a backward
    /// written with tensor operations can be differentiated again; any other tensor comes
    /// back as a constant.
    pub fn save_for_backward(&mut self, tensors: &[&Tensor]) {
        self.saved.extend(tensors.iter().map(|t| (*t).clone()));
    }

    /// The tensors saved in forward, in order.
    pub fn saved_tensors(&self) -> &[Tensor] {
        &self.saved
    }

    /// Declares output `index` not differentiable (e.g. an index or a mask): it joins no graph.
    /// Integer outputs never do.
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
/// the function usable in forward mode. [`crate::gradcheck`] checks the rules, and
/// [`crate::gradgradcheck`] their derivatives: when a gradient is itself recorded
/// (`create_graph`), `backward` runs recorded too, on the saved inputs and outputs with their
/// graph, so a `backward` written with tensor operations has second derivatives.
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

/// Where a tensor saved by a [`Function`] came from.
#[derive(Copy, Clone, Debug, PartialEq)]
enum Origin {
    /// Input number `i`: saved with its graph.
    Input(usize),
    /// Differentiable output number `o`: saved as the node's own output, relinked to the node
    /// when backward is recorded.
    Output(usize),
    /// Anything else: a constant.
    Other,
}

/// A differentiable output of a call: where it sits in the node's joined output.
#[derive(Clone, Debug)]
struct Part {
    output: usize,
    offset: usize,
    shape: Vec<usize>,
    dtype: DType,
}

/// How the differentiable outputs of one call make up the single output of its node: the
/// output itself when there is one, else all of them flattened end to end (in f64 if their
/// dtypes differ). One node per call, as in PyTorch: its backward runs once, with the
/// gradients of every output.
#[derive(Clone, Debug)]
struct Joined {
    parts: Vec<Part>,
    dtype: DType,
}

impl Joined {
    fn new(outputs: &[Tensor], non_differentiable: &[usize]) -> Self {
        let mut parts = Vec::new();
        let mut offset = 0;
        for (output, y) in outputs.iter().enumerate() {
            if y.dtype().is_float() && !non_differentiable.contains(&output) {
                parts.push(Part {
                    output,
                    offset,
                    shape: y.shape().to_vec(),
                    dtype: y.dtype(),
                });
                offset += y.numel();
            }
        }
        let dtype = match parts.first() {
            Some(first) if parts.iter().all(|p| p.dtype == first.dtype) => first.dtype,
            _ => DType::F64,
        };
        Joined { parts, dtype }
    }

    fn part(&self, output: usize) -> Option<&Part> {
        self.parts.iter().find(|p| p.output == output)
    }

    /// The joined tensor of `outputs` (one per output of the call).
    fn join(&self, outputs: &[Tensor]) -> Result<Tensor> {
        if let [only] = self.parts.as_slice() {
            return Ok(outputs[only.output].clone());
        }
        let flat = self
            .parts
            .iter()
            .map(|p| {
                outputs[p.output]
                    .try_reshape(&[outputs[p.output].numel()])
                    .map(|t| t.to_dtype(self.dtype))
            })
            .collect::<Result<Vec<_>>>()?;
        Tensor::try_cat(&flat.iter().collect::<Vec<_>>(), 0)
    }

    /// The piece of `joined` that is `part`, in its shape and dtype.
    fn split(&self, joined: &Tensor, part: &Part) -> Tensor {
        if self.parts.len() == 1 {
            return joined.clone();
        }
        let n = part.shape.iter().product();
        joined
            .narrow(0, part.offset, n)
            .reshape(&part.shape)
            .to_dtype(part.dtype)
    }
}

/// The graph node of one [`Function`] call.
struct FunctionNode<F> {
    function: Arc<F>,
    /// Shape and dtype of every output, differentiable or not.
    outputs: Vec<(Vec<usize>, DType)>,
    joined: Joined,
    /// Where each saved tensor came from, in the order saved.
    origins: Vec<Origin>,
    needs_input_grad: Vec<bool>,
}

impl<F: Function> FunctionNode<F> {
    /// The context backward sees: the saved tensors as the node kept them, a saved output as
    /// its piece of the node's (relinked) output.
    fn context(&self, saved: &[Tensor]) -> Context {
        let saved = self
            .origins
            .iter()
            .zip(saved)
            .map(|(origin, t)| match origin {
                Origin::Output(o) => {
                    let part = self.joined.part(*o).expect("a differentiable output");
                    self.joined.split(t, part)
                }
                Origin::Input(_) | Origin::Other => t.clone(),
            })
            .collect();
        Context {
            saved,
            non_differentiable: Vec::new(),
            needs_input_grad: self.needs_input_grad.clone(),
        }
    }
}

impl<F: Function> Backward for FunctionNode<F> {
    fn name(&self) -> &'static str {
        self.function.name()
    }

    fn rule(&self) -> &'static str {
        "Function"
    }

    fn formula(&self, inputs: usize, _: Option<&At>) -> Option<Formula> {
        let name = self.function.name();
        let holes: Vec<String> = (0..inputs).map(|i| format!("{{{i}}}")).collect();
        let output = format!("{name}({})", holes.join(", "));
        let back = format!("{{g}} through {name}'s own backward");
        let locals = (0..inputs)
            .map(|_| Local::map(&back, Binding::Atom))
            .collect();
        Some(Formula::new(&output, Binding::Atom, name, locals))
    }

    fn vjp(&self, saved: &[Tensor], grad: &Tensor, _: &[bool]) -> Gradients {
        let grads: Vec<Tensor> = self
            .outputs
            .iter()
            .enumerate()
            .map(|(o, (shape, dtype))| match self.joined.part(o) {
                Some(part) => self.joined.split(grad, part),
                None => Tensor::zeros(shape, *dtype),
            })
            .collect();
        self.function.backward(&self.context(saved), &grads).into()
    }

    fn jvp(&self, saved: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        let outputs = self
            .function
            .jvp(&self.context(saved), tangents)
            .ok_or_else(|| {
                Error::invalid(self.function.name(), "has no forward-mode (JVP) rule")
            })?;
        if outputs.len() != self.outputs.len() {
            return Err(Error::invalid(
                self.function.name(),
                format!(
                    "jvp returned {} tangents, one per output expected ({})",
                    outputs.len(),
                    self.outputs.len()
                ),
            ));
        }
        self.joined.join(&outputs)
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        let refs: Vec<&Tensor> = inputs.iter().collect();
        Some(apply_shared(&self.function, &refs).and_then(|outputs| {
            if outputs.len() != self.outputs.len() {
                return Err(Error::invalid(
                    self.function.name(),
                    format!(
                        "returned {} outputs on replay, {} the first time",
                        outputs.len(),
                        self.outputs.len()
                    ),
                ));
            }
            self.joined.join(&outputs)
        }))
    }
}

/// Calls a [`Function`] on `inputs`, linking its differentiable outputs into the graph.
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
    apply_shared(&Arc::new(function), inputs)
}

fn apply_shared<F: Function>(function: &Arc<F>, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
    let mut ctx = Context {
        needs_input_grad: inputs.iter().map(|t| t.requires_grad_flag()).collect(),
        ..Context::default()
    };
    let detached: Vec<Tensor> = inputs.iter().map(|t| t.detach()).collect();
    let outputs = crate::no_grad(|| function.forward(&mut ctx, &detached))?;
    let joined = Joined::new(&outputs, &ctx.non_differentiable);
    if joined.parts.is_empty() {
        return Ok(outputs.iter().map(Tensor::detach).collect());
    }
    let origins: Vec<Origin> = ctx
        .saved
        .iter()
        .map(|t| {
            if let Some(i) = detached.iter().position(|d| d.same_as(t)) {
                Origin::Input(i)
            } else if let Some(part) = joined.parts.iter().find(|p| outputs[p.output].same_as(t)) {
                Origin::Output(part.output)
            } else {
                Origin::Other
            }
        })
        .collect();
    let save: Vec<Save> = origins
        .iter()
        .zip(&ctx.saved)
        .map(|(origin, t)| match origin {
            Origin::Input(i) => Save::Input(*i),
            Origin::Output(_) => Save::Output,
            Origin::Other => Save::Extra(t),
        })
        .collect();
    let node = FunctionNode {
        function: function.clone(),
        outputs: outputs
            .iter()
            .map(|y| (y.shape().to_vec(), y.dtype()))
            .collect(),
        joined: joined.clone(),
        origins,
        needs_input_grad: ctx.needs_input_grad.clone(),
    };
    let outputs: Vec<Tensor> = outputs.iter().map(Tensor::detach).collect();
    let linked = record(
        crate::no_grad(|| joined.join(&outputs))?,
        inputs,
        node,
        &save,
    );
    Ok(outputs
        .iter()
        .enumerate()
        .map(|(o, y)| match joined.part(o) {
            Some(part) => joined.split(&linked, part),
            None => y.clone(),
        })
        .collect())
}
