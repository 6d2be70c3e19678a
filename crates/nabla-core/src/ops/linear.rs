//! The affine map of a linear layer, `y = x·Wᵀ + b` with PyTorch's weight layout `[out, in]`,
//! as one operation: the GEMM starts from rows holding the bias (no separate addition pass),
//! and backward produces the weight's gradient directly in its `[out, in]` layout.

use super::{Save, ok, record};
use crate::autograd::formula::{At, Binding, Formula, Local};
use crate::autograd::node::Backward;
use crate::autograd::node::Gradients;
use crate::error::{Error, Result};
use crate::kernels::{dispatch_float, matmul::matmul};
use crate::tensor::Tensor;

pub(super) struct LinearBackward;

/// `t` with its leading dims merged: `[rows, last]` (a copy when the strides allow no view:
/// an error naming `linear` when that copy could not be held in memory).
fn try_rows(t: &Tensor) -> Result<Tensor> {
    let last = *t.shape().last().expect("at least one dim");
    t.check_gather("linear")?;
    t.try_reshape(&[leading(t), last])
}

/// The product of all dims but the last: the rows `t` has when its leading dims are merged
/// (even when the last dim is 0 and the tensor empty).
fn leading(t: &Tensor) -> usize {
    t.shape()
        .split_last()
        .map_or(1, |(_, dims)| dims.iter().product())
}

/// Whether backward computes the input's and the weight's gradient at once, one GEMM per
/// thread: when the pass is not recorded, no operand carries a tangent, and each product is too
/// small for splitting it over threads to pay (a recurrent layer's per-step `h·W_hhᵀ` at batch
/// 128, a small MLP's layers).
fn concurrent(x: &Tensor, w: &Tensor, grad: &Tensor) -> bool {
    /// Multiply-adds of one product below which two products side by side beat each split
    /// in two (measured on the recurrent and MLP benches, docs/performance.md).
    const SMALL_PRODUCT: usize = 1 << 24;
    let product = leading(x) * w.numel();
    // Forward mode's state is the calling thread's: a tangent stays on it.
    let tangents = [x, w, grad].iter().any(|t| t.0.tangent.is_some());
    crate::parallel::num_threads() > 1
        && !crate::autograd::is_grad_enabled()
        && !tangents
        && product < SMALL_PRODUCT
}

/// Panicking form of [`try_rows`], for gradients (whose shapes the forward pass checked).
fn rows(t: &Tensor) -> Tensor {
    ok(try_rows(t))
}

impl Backward for LinearBackward {
    fn name(&self) -> &'static str {
        "LinearBackward"
    }

    /// With PyTorch's weight layout `[out, in]`: `Y = X·Wᵀ + b`, so `∂L/∂X = ∂L/∂Y·W`,
    /// `∂L/∂W = (∂L/∂Y)ᵀ·X` and `∂L/∂b = Σ_batch ∂L/∂Y` (the textbook's Affine layer, whose `W`
    /// is this `Wᵀ`: `dX = dY·Wᵀ`, `dW = Xᵀ·dY`).
    fn formula(&self, inputs: usize, _: Option<&At>) -> Option<Formula> {
        let biased = inputs == 3;
        let mut locals = vec![
            Local::map("{g*}·{1*}", Binding::Product),
            Local::map("{g^}ᵀ·{0*}", Binding::Product),
        ];
        let output = if biased {
            locals.push(Local::map("Σ_batch {g*}", Binding::Product));
            "{0*}·{1^}ᵀ + {2}"
        } else {
            "{0*}·{1^}ᵀ"
        };
        Some(Formula::new(output, Binding::Sum, "linear", locals))
    }

    fn vjp(&self, saved: &[Tensor], grad: &Tensor, needs: &[bool]) -> Gradients {
        let (x, w) = (&saved[0], &saved[1]);
        let g = rows(grad);
        let input_grad = || grad.matmul(w);
        let weight_grad = || g.t().matmul(&rows(x));
        let (dx, dw) = if needs[0] && needs[1] && concurrent(x, w, grad) {
            // Unrecorded (checked in `concurrent`): the helper thread's own grad mode must
            // not record them either.
            let (dx, dw) = crate::parallel::join(
                || crate::no_grad(input_grad),
                || crate::no_grad(weight_grad),
            );
            (Some(dx), Some(dw))
        } else {
            (needs[0].then(input_grad), needs[1].then(weight_grad))
        };
        let mut grads: Gradients = smallvec::smallvec![dx, dw];
        // A third gradient only when there is a bias, so the common pair stays inline.
        if let Some(&needs_bias) = needs.get(2) {
            grads.push(needs_bias.then(|| g.sum_dims(&[0], false)));
        }
        grads
    }

    fn jvp(&self, saved: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        let (x, w) = (&saved[0], &saved[1]);
        let through_x = tangents[0].try_linear(w, tangents.get(2))?;
        through_x.try_add(&x.try_linear(&tangents[1], None)?)
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(inputs[0].try_linear(&inputs[1], inputs.get(2)))
    }
}

impl Tensor {
    /// `x·Wᵀ + b` over the last dim of `x`, for a weight `[out, in]` and a bias `[out]`.
    /// Gradients: `dx = g·W`, `dW = gᵀ·x`, `db = Σ g` over the leading dims.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0], &[1, 2]);
    /// let w = Tensor::from_vec(vec![1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0], &[3, 2]);
    /// let b = Tensor::from_vec(vec![0.5f32, 0.5, 0.5], &[3]);
    /// assert_eq!(x.linear(&w, Some(&b)).to_vec::<f32>(), vec![1.5, 2.5, 3.5]);
    /// ```
    pub fn try_linear(&self, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        let [out_features, in_features] = *weight.shape() else {
            return Err(Error::invalid(
                "linear",
                format!(
                    "the weight must be [out, in], got shape {:?}",
                    weight.shape()
                ),
            ));
        };
        if self.shape().last() != Some(&in_features) {
            return Err(Error::shapes(
                "linear",
                self.shape(),
                weight.shape(),
                "the input's last dim must equal the weight's in-features",
            ));
        }
        for t in std::iter::once(weight).chain(bias) {
            if t.dtype() != self.dtype() {
                return Err(Error::DTypeMismatch {
                    op: "linear",
                    lhs: self.dtype(),
                    rhs: t.dtype(),
                });
            }
        }
        if let Some(b) = bias
            && b.shape() != [out_features]
        {
            return Err(Error::shapes(
                "linear",
                weight.shape(),
                b.shape(),
                "the bias must be [out]",
            ));
        }
        // The kernel reads the merged input and the transposed weight directly; these views are
        // not operations of the graph.
        let (x, wt) = crate::no_grad(|| Ok((try_rows(self)?, weight.t())))?;
        let mut shape = self.shape().to_vec();
        *shape.last_mut().expect("checked above") = out_features;
        crate::limits::allocation("linear", &shape, self.dtype())?;
        let dims = (x.shape()[0], in_features, out_features);
        let out = dispatch_float!("linear", self.dtype(), T => {
            let y = match bias {
                Some(b) => b.try_read("linear", |row: &[T]| matmul::<T>(&x, &wt, &[], dims, Some(row)))?,
                None => matmul::<T>(&x, &wt, &[], dims, None),
            };
            Tensor::from_data(y, &shape)
        });
        let save = [Save::Input(0), Save::Input(1)];
        Ok(match bias {
            Some(b) => record(out, &[self, weight, b], LinearBackward, &save),
            None => record(out, &[self, weight], LinearBackward, &save),
        })
    }

    /// Panicking form of [`Tensor::try_linear`].
    #[track_caller]
    pub fn linear(&self, weight: &Tensor, bias: Option<&Tensor>) -> Tensor {
        ok(self.try_linear(weight, bias))
    }
}
