//! Loss functions, each the mean over the batch as in PyTorch's default `reduction='mean'`.
//!
//! Cross-entropy is one fused operation with its own backward rule: the forward pass computes a
//! stable log-softmax and the negative log-likelihood in one sweep over the logits, and the
//! backward pass is `(softmax − target distribution)/N`, written with tensor operations so that
//! it can itself be differentiated.

use crate::{Error, Result};
use nabla_core::autograd::formula::{At, Binding, Formula, Local};
use nabla_core::{Backward, DType, Float, Gradients, Tensor, record_operation};

/// Options of [`cross_entropy_with`].
#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub struct CrossEntropyOptions {
    /// ε in `[0, 1]`: the target becomes `(1 − ε)·onehot + ε/C`, as in PyTorch's
    /// `label_smoothing`.
    pub label_smoothing: f64,
}

/// Mean cross-entropy of `logits` `[N, C]` (f32 or f64) against class indices `targets`
/// (i64 `[N]`, each in `0..C`).
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::loss::cross_entropy;
/// let logits = Tensor::from_vec(vec![0.0f64, 0.0], &[1, 2]).requires_grad();
/// let loss = cross_entropy(&logits, &Tensor::from_vec(vec![1i64], &[1]));
/// assert!((loss.item::<f64>() - 2f64.ln()).abs() < 1e-15);
/// loss.backward();
/// assert_eq!(logits.grad().unwrap().to_vec::<f64>(), [0.5, -0.5]);
/// assert_eq!(loss.grad_fn().unwrap().name(), "CrossEntropyBackward");
/// ```
#[track_caller]
pub fn cross_entropy(logits: &Tensor, targets: &Tensor) -> Tensor {
    unwrap(try_cross_entropy(logits, targets))
}

/// Fallible form of [`cross_entropy`]: errors for a wrong shape or dtype, an empty batch and a
/// label out of range.
pub fn try_cross_entropy(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    try_cross_entropy_with(logits, targets, CrossEntropyOptions::default())
}

/// [`cross_entropy`] with options (label smoothing).
#[track_caller]
pub fn cross_entropy_with(
    logits: &Tensor,
    targets: &Tensor,
    options: CrossEntropyOptions,
) -> Tensor {
    unwrap(try_cross_entropy_with(logits, targets, options))
}

/// Fallible form of [`cross_entropy_with`].
pub fn try_cross_entropy_with(
    logits: &Tensor,
    targets: &Tensor,
    options: CrossEntropyOptions,
) -> Result<Tensor> {
    let eps = options.label_smoothing;
    if !(0.0..=1.0).contains(&eps) {
        return Err(Error::invalid(
            "cross_entropy",
            format!("label_smoothing must be in [0, 1], got {eps}"),
        ));
    }
    let (labels, classes) = check_classification("cross_entropy", logits, targets)?;
    let loss = match logits.dtype() {
        DType::F32 => fused_cross_entropy::<f32>(logits, &labels, classes, eps),
        // The check above admits only f32 and f64.
        _ => fused_cross_entropy::<f64>(logits, &labels, classes, eps),
    };
    Ok(record_operation(
        loss,
        &[logits],
        CrossEntropyBackward {
            label_smoothing: eps,
        },
        &[logits, targets],
    ))
}

/// Row by row: `(1 − ε)·(lse − z_y) + ε·(lse − mean(z))`, with `lse` shifted by the row maximum so large
/// logits cannot overflow. Rows are summed in f64.
fn fused_cross_entropy<T: Float>(
    logits: &Tensor,
    labels: &[i64],
    classes: usize,
    eps: f64,
) -> Tensor {
    let z = logits.to_vec::<T>();
    let total: f64 = z
        .chunks_exact(classes)
        .zip(labels)
        .map(|(row, &label)| {
            let max = row.iter().fold(T::neg_infinity(), |m, &v| m.max(v));
            let sum_exp: T = row.iter().map(|&v| (v - max).exp()).sum();
            let lse = (max + sum_exp.ln()).as_f64();
            let nll = lse - row[label as usize].as_f64();
            if eps == 0.0 {
                return nll;
            }
            let row_mean = row.iter().map(|v| v.as_f64()).sum::<f64>() / classes as f64;
            (1.0 - eps) * nll + eps * (lse - row_mean)
        })
        .sum();
    Tensor::scalar(T::from_f64(total / labels.len() as f64))
}

/// `∂loss/∂logits = (softmax(logits) − q)/N` with `q = (1 − ε)·onehot + ε/C`: times the
/// output's gradient in reverse mode, summed against the logits' tangent in forward mode.
struct CrossEntropyBackward {
    label_smoothing: f64,
}

impl CrossEntropyBackward {
    /// `(softmax(logits) − q)/N`, in differentiable operations on the saved logits.
    fn derivative(&self, saved: &[Tensor]) -> Tensor {
        let (logits, targets) = (&saved[0], &saved[1]);
        let &[n, classes] = logits.shape() else {
            unreachable!("the forward pass checked that the logits are [N, C]")
        };
        let eps = self.label_smoothing;
        let target_dist =
            targets.one_hot(classes, logits.dtype()) * (1.0 - eps) + eps / classes as f64;
        (logits.softmax(1) - target_dist) / n as f64
    }
}

impl Backward for CrossEntropyBackward {
    fn name(&self) -> &'static str {
        "CrossEntropyBackward"
    }

    /// Softmax-with-loss: `∂L/∂z = (softmax(z) − t)/N` times the upstream gradient, `t` the
    /// one-hot targets (smoothed by ε when set) and `N` the batch.
    fn formula(&self, _: usize, at: Option<&At>) -> Option<Formula> {
        let n = at
            .and_then(|at| at.inputs.first())
            .map_or("N".to_string(), |z| {
                z.shape().first().map_or("N".to_string(), usize::to_string)
            });
        let target = if self.label_smoothing > 0.0 {
            format!("((1 − {0})·onehot(t) + {0}/C)", self.label_smoothing)
        } else {
            "onehot(t)".to_string()
        };
        let gradient = format!("{{g*}}·(softmax({{0}}) − {target})/{n}");
        let inputs = vec![Local::map(&gradient, Binding::Product)];
        let output = "cross_entropy(softmax({0}), t)";
        Some(Formula::new(
            output,
            Binding::Atom,
            "softmax + CE loss",
            inputs,
        ))
    }

    fn vjp(&self, saved: &[Tensor], grad: &Tensor, needs: &[bool]) -> Gradients {
        Gradients::from_iter([needs[0].then(|| self.derivative(saved) * grad)])
    }

    fn jvp(&self, saved: &[Tensor], tangents: &[Tensor]) -> nabla_core::Result<Tensor> {
        Ok((self.derivative(saved) * &tangents[0]).sum())
    }

    fn replay(&self, saved: &[Tensor], inputs: &[Tensor]) -> Option<nabla_core::Result<Tensor>> {
        let options = CrossEntropyOptions {
            label_smoothing: self.label_smoothing,
        };
        Some(
            try_cross_entropy_with(&inputs[0], &saved[1], options).map_err(|e| match e {
                Error::Core(e) => e,
                other => nabla_core::Error::InvalidArgument {
                    op: "cross_entropy",
                    message: other.to_string(),
                },
            }),
        )
    }
}

/// Mean negative log-likelihood of `log_probs` `[N, C]` at the class indices `targets` (i64
/// `[N]`): PyTorch's `nll_loss`, the second half of cross-entropy.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::loss::nll_loss;
/// let log_probs = Tensor::from_vec(vec![-1.0f64, -2.0, -3.0, -4.0], &[2, 2]);
/// let loss = nll_loss(&log_probs, &Tensor::from_vec(vec![1i64, 0], &[2]));
/// assert_eq!(loss.item::<f64>(), 2.5);
/// ```
#[track_caller]
pub fn nll_loss(log_probs: &Tensor, targets: &Tensor) -> Tensor {
    unwrap(try_nll_loss(log_probs, targets))
}

/// Fallible form of [`nll_loss`].
pub fn try_nll_loss(log_probs: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let (labels, _) = check_classification("nll_loss", log_probs, targets)?;
    let index = targets.try_reshape(&[labels.len(), 1])?;
    Ok(-log_probs.try_gather(1, &index)?.mean())
}

/// Mean squared error between `prediction` and `target` of the same shape and dtype.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::loss::mse_loss;
/// let p = Tensor::from_vec(vec![1.0f32, 2.0], &[2]);
/// let t = Tensor::from_vec(vec![0.0f32, 4.0], &[2]);
/// assert_eq!(mse_loss(&p, &t).item::<f32>(), 2.5);
/// ```
#[track_caller]
pub fn mse_loss(prediction: &Tensor, target: &Tensor) -> Tensor {
    unwrap(try_mse_loss(prediction, target))
}

/// Fallible form of [`mse_loss`].
pub fn try_mse_loss(prediction: &Tensor, target: &Tensor) -> Result<Tensor> {
    check_same("mse_loss", prediction, target)?;
    let diff = prediction.try_sub(target)?;
    Ok((&diff * &diff).mean())
}

/// Mean binary cross-entropy of probabilities `sigmoid(logits)` against `targets` in `[0, 1]`
/// (same shape and dtype), computed stably as `max(x, 0) − x·t + log(1 + e^(−|x|))`.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::loss::binary_cross_entropy_with_logits;
/// let x = Tensor::from_vec(vec![0.0f64], &[1]);
/// let t = Tensor::from_vec(vec![1.0f64], &[1]);
/// assert!((binary_cross_entropy_with_logits(&x, &t).item::<f64>() - 2f64.ln()).abs() < 1e-15);
/// ```
#[track_caller]
pub fn binary_cross_entropy_with_logits(logits: &Tensor, targets: &Tensor) -> Tensor {
    unwrap(try_binary_cross_entropy_with_logits(logits, targets))
}

/// Fallible form of [`binary_cross_entropy_with_logits`].
pub fn try_binary_cross_entropy_with_logits(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    check_same("binary_cross_entropy_with_logits", logits, targets)?;
    let abs = logits.try_abs()?;
    // max(x, 0) written as (x + |x|)/2: relu's zero derivative at 0 would make the gradient
    // there −t instead of the correct σ(0) − t.
    let positive_part = (logits + &abs) * 0.5;
    let softplus_tail = (-&abs).exp().add_scalar(1.0).log();
    let per_element = positive_part - logits.try_mul(targets)? + softplus_tail;
    Ok(per_element.mean())
}

/// Checks `[N, C]` float scores against i64 `[N]` labels in `0..C`; returns the labels and `C`.
fn check_classification(
    op: &'static str,
    scores: &Tensor,
    targets: &Tensor,
) -> Result<(Vec<i64>, usize)> {
    if !scores.dtype().is_float() {
        return Err(Error::invalid(
            op,
            format!("the scores must be f32 or f64, not {}", scores.dtype()),
        ));
    }
    let &[n, classes] = scores.shape() else {
        return Err(Error::invalid(
            op,
            format!("the scores must be [N, C], got shape {:?}", scores.shape()),
        ));
    };
    if n == 0 || classes == 0 {
        return Err(Error::invalid(
            op,
            format!("the scores are empty (shape {:?})", scores.shape()),
        ));
    }
    if targets.dtype() != DType::I64 {
        return Err(Error::invalid(
            op,
            format!(
                "the targets must be i64 class indices, not {} (convert them with .to_dtype(DType::I64))",
                targets.dtype()
            ),
        ));
    }
    if targets.shape() != [n] {
        return Err(Error::invalid(
            op,
            format!(
                "scores of shape {:?} need targets of shape [{n}], got {:?}",
                scores.shape(),
                targets.shape()
            ),
        ));
    }
    let labels = targets.to_vec::<i64>();
    if let Some((i, label)) = labels
        .iter()
        .enumerate()
        .find(|&(_, &l)| l < 0 || l as usize >= classes)
    {
        return Err(Error::invalid(
            op,
            format!("target {i} is {label}, outside the {classes} classes 0..{classes}"),
        ));
    }
    Ok((labels, classes))
}

/// Checks that an elementwise loss gets two non-empty float tensors of one shape and dtype.
fn check_same(op: &'static str, input: &Tensor, target: &Tensor) -> Result<()> {
    if !input.dtype().is_float() || input.dtype() != target.dtype() {
        return Err(Error::invalid(
            op,
            format!(
                "input and target must share a float dtype, got {} and {}",
                input.dtype(),
                target.dtype()
            ),
        ));
    }
    if input.shape() != target.shape() {
        return Err(Error::invalid(
            op,
            format!(
                "input and target must have the same shape, got {:?} and {:?}",
                input.shape(),
                target.shape()
            ),
        ));
    }
    if input.numel() == 0 {
        return Err(Error::invalid(op, "the input is empty"));
    }
    Ok(())
}

#[track_caller]
fn unwrap(result: Result<Tensor>) -> Tensor {
    crate::error::ok(result)
}
