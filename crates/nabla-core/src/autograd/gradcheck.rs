//! Numerical gradient checking, like `torch.autograd.gradcheck`: the Jacobian from backward,
//! row by row, against central differences `(f(x + ε) − f(x − ε)) / 2ε`, entry by entry, in f64.

use crate::autograd::engine::{BackwardOptions, grad_or_zeros};
use crate::autograd::no_grad;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use std::fmt;

/// Step and tolerances of a gradient check: an entry passes when
/// `|analytic − numerical| ≤ atol + rtol·|numerical|`.
#[derive(Copy, Clone, Debug)]
pub struct GradcheckOptions {
    pub eps: f64,
    pub atol: f64,
    pub rtol: f64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
        }
    }
}

/// The entry of the Jacobian that disagrees most.
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckMismatch {
    /// Which input (position in the list).
    pub input: usize,
    /// Multi-index of the element within that input.
    pub input_index: Vec<usize>,
    /// Multi-index of the output element.
    pub output_index: Vec<usize>,
    pub analytic: f64,
    pub numerical: f64,
}

/// Result of a gradient check.
#[derive(Clone, Debug, PartialEq)]
pub enum GradcheckOutcome {
    /// Every entry within tolerance; the largest absolute difference seen.
    Passed { max_abs_error: f64 },
    /// The worst entry outside tolerance.
    Failed(GradcheckMismatch),
}

impl GradcheckOutcome {
    /// Whether the check passed.
    pub fn passed(&self) -> bool {
        matches!(self, GradcheckOutcome::Passed { .. })
    }
}

impl fmt::Display for GradcheckOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GradcheckOutcome::Passed { max_abs_error } => {
                write!(
                    f,
                    "gradcheck passed (largest difference {max_abs_error:.3e})"
                )
            }
            GradcheckOutcome::Failed(m) => write!(
                f,
                "gradcheck failed: d output{:?} / d input {}{:?}: analytic {} vs numerical {} (difference {:.3e})",
                m.output_index,
                m.input,
                m.input_index,
                m.analytic,
                m.numerical,
                (m.analytic - m.numerical).abs()
            ),
        }
    }
}

fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (slot, &dim) in index.iter_mut().zip(shape).rev() {
        *slot = flat % dim;
        flat /= dim;
    }
    index
}

/// Checks the gradients of `f` at `inputs` (f64 tensors; each is used as a fresh leaf).
///
/// ```
/// use nabla_core::{gradcheck, GradcheckOptions, Tensor};
/// let x = Tensor::from_vec(vec![0.5f64, -1.0, 2.0], &[3]);
/// let outcome = gradcheck(|v| (&v[0] * &v[0]).sin(), &[x], GradcheckOptions::default()).unwrap();
/// assert!(outcome.passed(), "{outcome}");
/// ```
///
/// An error for inputs or an output that are not f64, a step or tolerance that is not a finite
/// positive (or, for the tolerances, non-negative) number, or an `f` whose output changes shape
/// when an input moves.
pub fn gradcheck(
    f: impl Fn(&[Tensor]) -> Tensor,
    inputs: &[Tensor],
    options: GradcheckOptions,
) -> Result<GradcheckOutcome> {
    check_gradient(|xs: &[Tensor]| Ok(f(xs)), inputs, options)
}

/// Refuses inputs that are not f64 and steps or tolerances that make every comparison
/// meaningless (a zero or NaN step divides by zero).
fn check_arguments(op: &'static str, inputs: &[Tensor], options: GradcheckOptions) -> Result<()> {
    for t in inputs {
        if t.dtype() != DType::F64 {
            return Err(Error::UnsupportedDType {
                op,
                got: t.dtype(),
                expected: "f64 inputs (f32 is too coarse for central differences)",
            });
        }
    }
    let GradcheckOptions { eps, atol, rtol } = options;
    let usable = |v: f64, least: f64| v.is_finite() && v >= least;
    if !(usable(eps, f64::MIN_POSITIVE) && usable(atol, 0.0) && usable(rtol, 0.0)) {
        return Err(Error::invalid(
            op,
            format!(
                "the step must be finite and positive and the tolerances finite and \
                 non-negative, got eps {eps}, atol {atol}, rtol {rtol}"
            ),
        ));
    }
    Ok(())
}

/// An error unless `output` is f64 of `shape` (what `f` gave at the unshifted inputs).
fn check_output(output: &Tensor, shape: &[usize]) -> Result<()> {
    if output.dtype() != DType::F64 {
        return Err(Error::UnsupportedDType {
            op: "gradcheck",
            got: output.dtype(),
            expected: "an f64 output",
        });
    }
    if output.shape() != shape {
        return Err(Error::shapes(
            "gradcheck",
            shape,
            output.shape(),
            "the function's output changed shape when an input moved",
        ));
    }
    Ok(())
}

/// [`gradcheck`] of a fallible `f`.
fn check_gradient(
    f: impl Fn(&[Tensor]) -> Result<Tensor>,
    inputs: &[Tensor],
    options: GradcheckOptions,
) -> Result<GradcheckOutcome> {
    check_arguments("gradcheck", inputs, options)?;
    let leaves: Vec<Tensor> = inputs
        .iter()
        .map(|t| Ok(t.detach().try_contiguous_copy("gradcheck")?.requires_grad()))
        .collect::<Result<_>>()?;
    let output = f(&leaves)?;
    let out_shape = output.shape().to_vec();
    check_output(&output, &out_shape)?;
    let n_out = output.numel();
    // analytic[i][o][e]: d output[o] / d input i element e.
    let mut analytic: Vec<Vec<Vec<f64>>> = vec![Vec::with_capacity(n_out); leaves.len()];
    let refs: Vec<&Tensor> = leaves.iter().collect();
    for o in 0..n_out {
        let mut seed = vec![0.0f64; n_out];
        seed[o] = 1.0;
        let seed = Tensor::from_vec(seed, &out_shape);
        let options = BackwardOptions {
            retain_graph: true,
            create_graph: false,
        };
        let grads = if output.requires_grad_flag() {
            grad_or_zeros(&[&output], Some(&[&seed]), &refs, options)?
        } else {
            leaves.iter().map(Tensor::zeros_like).collect()
        };
        for (i, g) in grads.iter().enumerate() {
            analytic[i].push(g.to_vec::<f64>());
        }
    }
    let mut worst: Option<(f64, GradcheckMismatch)> = None;
    let mut max_abs_error = 0.0f64;
    for (i, leaf) in leaves.iter().enumerate() {
        let base = leaf.to_vec::<f64>();
        for e in 0..base.len() {
            let evaluate = |delta: f64| -> Result<Vec<f64>> {
                let mut shifted = base.clone();
                shifted[e] += delta;
                let mut args: Vec<Tensor> = leaves.iter().map(Tensor::detach).collect();
                args[i] = Tensor::from_vec(shifted, leaf.shape());
                let moved = no_grad(|| f(&args))?;
                check_output(&moved, &out_shape)?;
                moved.try_to_vec::<f64>()
            };
            let (plus, minus) = (evaluate(options.eps)?, evaluate(-options.eps)?);
            for o in 0..n_out {
                let numerical = (plus[o] - minus[o]) / (2.0 * options.eps);
                let a = analytic[i][o][e];
                let error = (a - numerical).abs();
                max_abs_error = max_abs_error.max(error);
                let excess = error - (options.atol + options.rtol * numerical.abs());
                let worse = worst.as_ref().is_none_or(|(w, _)| excess > *w);
                if (excess > 0.0 || !error.is_finite()) && worse {
                    worst = Some((
                        excess,
                        GradcheckMismatch {
                            input: i,
                            input_index: unravel(e, leaf.shape()),
                            output_index: unravel(o, &out_shape),
                            analytic: a,
                            numerical,
                        },
                    ));
                }
            }
        }
    }
    Ok(match worst {
        Some((_, mismatch)) => GradcheckOutcome::Failed(mismatch),
        None => GradcheckOutcome::Passed { max_abs_error },
    })
}

/// Deterministic weights in `[0.5, 1.5)`, so no output's second derivatives cancel by chance.
fn probe(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::from_vec(
        (0..n)
            .map(|i| 1.0 + 0.5 * (1.3 * i as f64 + 0.4).sin())
            .collect(),
        shape,
    )
}

/// Checks second derivatives: runs [`gradcheck`] on `x ↦ ∂⟨w, f(x)⟩/∂x` (all inputs' gradients,
/// flattened and joined), where the gradient is computed with `create_graph` so its own
/// derivative comes from the recorded backward pass.
///
/// ```
/// use nabla_core::{gradgradcheck, GradcheckOptions, Tensor};
/// let x = Tensor::from_vec(vec![0.5f64, -1.0, 2.0], &[3]);
/// let outcome = gradgradcheck(|v| v[0].tanh() * &v[0], &[x], GradcheckOptions::default()).unwrap();
/// assert!(outcome.passed(), "{outcome}");
/// ```
pub fn gradgradcheck(
    f: impl Fn(&[Tensor]) -> Tensor,
    inputs: &[Tensor],
    options: GradcheckOptions,
) -> Result<GradcheckOutcome> {
    check_arguments("gradgradcheck", inputs, options)?;
    let weights = probe(no_grad(|| f(inputs)).shape());
    let first_derivatives = |xs: &[Tensor]| {
        crate::enable_grad(|| {
            let leaves: Vec<Tensor> = xs
                .iter()
                .map(|x| {
                    if x.requires_grad_flag() {
                        x.clone()
                    } else {
                        x.detach().requires_grad()
                    }
                })
                .collect();
            let refs: Vec<&Tensor> = leaves.iter().collect();
            let total = f(&leaves).try_mul(&weights)?.try_sum()?;
            let create = BackwardOptions {
                retain_graph: true,
                create_graph: true,
            };
            let grads = if total.requires_grad_flag() {
                grad_or_zeros(&[&total], None, &refs, create)?
            } else {
                leaves.iter().map(Tensor::zeros_like).collect()
            };
            let flat = grads
                .iter()
                .map(|g| g.try_reshape(&[g.numel()]))
                .collect::<Result<Vec<_>>>()?;
            Tensor::try_cat(&flat.iter().collect::<Vec<_>>(), 0)
        })
    };
    check_gradient(first_derivatives, inputs, options)
}

/// The check of one node of a recorded graph.
#[derive(Clone, Debug)]
pub struct NodeCheck {
    /// Position in forward order.
    pub index: usize,
    /// The node's name, e.g. `MulBackward`.
    pub name: &'static str,
    pub input_shapes: Vec<Vec<usize>>,
    /// `None` when the node's operation cannot be replayed (no check possible).
    pub outcome: Option<GradcheckOutcome>,
}

impl fmt::Display for NodeCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "node {} {} (inputs {:?}): ",
            self.index, self.name, self.input_shapes
        )?;
        match &self.outcome {
            Some(outcome) => write!(f, "{outcome}"),
            None => write!(f, "not replayable, not checked"),
        }
    }
}

/// Records the operations `build` runs, with their inputs.
#[derive(Default)]
struct Recorder(Vec<(std::sync::Arc<crate::Node>, Vec<Tensor>)>);

impl crate::autograd::observe::Observer for Recorder {
    fn forward(&mut self, event: &crate::autograd::observe::ForwardEvent) {
        if let Some(node) = event.output.grad_fn() {
            self.0
                .push((node, event.inputs.iter().map(|t| t.detach()).collect()));
        }
    }
}

/// Checks every node of the graph `build` records, one at a time: each node's operation is
/// replayed on its own inputs converted to f64, and its backward rule is compared with central
/// differences of that replay. A wrong rule shows up at its own node, whatever surrounds it.
///
/// ```
/// use nabla_core::{check_nodes, GradcheckOptions, Tensor};
/// let x = Tensor::from_vec(vec![0.5f32, 1.5], &[2]).requires_grad();
/// let checks = check_nodes(|| (&x * &x).exp().sum(), GradcheckOptions::default()).unwrap();
/// let names: Vec<_> = checks.iter().map(|c| c.name).collect();
/// assert_eq!(names, ["MulBackward", "ExpBackward", "SumBackward"]);
/// assert!(checks.iter().all(|c| c.outcome.as_ref().is_some_and(|o| o.passed())));
/// ```
pub fn check_nodes(
    build: impl FnOnce() -> Tensor,
    options: GradcheckOptions,
) -> Result<Vec<NodeCheck>> {
    let (_output, recorder) = crate::autograd::observe::observe(Recorder::default(), build);
    recorder
        .0
        .into_iter()
        .enumerate()
        .map(|(index, (node, inputs))| {
            let input_shapes = inputs.iter().map(|t| t.shape().to_vec()).collect();
            let floats: Vec<usize> = (0..inputs.len())
                .filter(|&i| inputs[i].dtype().is_float())
                .collect();
            let shadow = floats
                .iter()
                .map(|&i| inputs[i].try_to_dtype(DType::F64))
                .collect::<Result<Vec<_>>>()?;
            let replayable = node.replay(&inputs).is_some();
            let outcome = if replayable {
                let replay = |xs: &[Tensor]| {
                    let mut all = inputs.clone();
                    for (&i, x) in floats.iter().zip(xs) {
                        all[i] = x.clone();
                    }
                    let y = node.replay(&all).expect("replayable")?;
                    y.try_to_dtype(DType::F64)
                };
                Some(check_gradient(replay, &shadow, options)?)
            } else {
                None
            };
            Ok(NodeCheck {
                index,
                name: node.name(),
                input_shapes,
                outcome,
            })
        })
        .collect()
}
