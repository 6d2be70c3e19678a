//! Gradient clipping between `backward` and the optimiser step, with PyTorch's semantics:
//! rescale all gradients together by their global L2 norm, or clamp each element.

use crate::{Error, Result};
use nabla_core::{DType, Float, Tensor};

/// Rescales the gradients of `params` so that their global L2 norm (over all elements of all
/// gradients) is at most `max_norm`, and returns the norm before clipping.
///
/// As PyTorch's `clip_grad_norm_`: the factor is `max_norm / (norm + 1e-6)`, applied in place
/// when it is below 1 (or NaN, so a non-finite norm poisons the gradients visibly). The norm
/// is accumulated in `f64`. Parameters without a gradient are ignored.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::clip::clip_grad_norm;
/// let w = Tensor::zeros(&[2], nabla_core::DType::F64).requires_grad();
/// w.set_grad(Some(Tensor::from_vec(vec![3.0f64, 4.0], &[2])));
/// let norm = clip_grad_norm(&[("w".to_string(), w.clone())], 1.0).unwrap();
/// assert_eq!(norm, 5.0);
/// let g = w.grad().unwrap().to_vec::<f64>();
/// assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] - 0.8).abs() < 1e-6);
/// ```
pub fn clip_grad_norm(params: &[(String, Tensor)], max_norm: f64) -> Result<f64> {
    const OP: &str = "clip_grad_norm";
    if max_norm.is_nan() || max_norm < 0.0 {
        return Err(Error::invalid(
            OP,
            format!("max_norm must be a non-negative number, got {max_norm}"),
        ));
    }
    check_float_grads(OP, params)?;
    let total = params
        .iter()
        .filter_map(|(_, p)| p.grad())
        .map(|g| g.to_f64_vec().iter().map(|v| v * v).sum::<f64>())
        .sum::<f64>()
        .sqrt();
    let coef = max_norm / (total + 1e-6);
    if coef.is_nan() || coef < 1.0 {
        for_each_grad_once(params, |g| g.try_mul_scalar_(coef))?;
    }
    Ok(total)
}

/// Clamps every gradient element of `params` to `[-clip, clip]`, in place (PyTorch's
/// `clip_grad_value_`). Parameters without a gradient are ignored.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::clip::clip_grad_value;
/// let w = Tensor::zeros(&[3], nabla_core::DType::F32).requires_grad();
/// w.set_grad(Some(Tensor::from_vec(vec![-2.0f32, 0.5, 3.0], &[3])));
/// clip_grad_value(&[("w".to_string(), w.clone())], 1.0).unwrap();
/// assert_eq!(w.grad().unwrap().to_vec::<f32>(), vec![-1.0, 0.5, 1.0]);
/// ```
pub fn clip_grad_value(params: &[(String, Tensor)], clip: f64) -> Result<()> {
    const OP: &str = "clip_grad_value";
    if clip.is_nan() || clip < 0.0 {
        return Err(Error::invalid(
            OP,
            format!("clip must be a non-negative number, got {clip}"),
        ));
    }
    check_float_grads(OP, params)?;
    for_each_grad_once(params, |g| match g.dtype() {
        DType::F32 => g.try_update_(&[], |d: &mut [f32], _| clamp(d, clip)),
        DType::F64 => g.try_update_(&[], |d: &mut [f64], _| clamp(d, clip)),
        DType::I64 => unreachable!("gradients were checked to be floats"),
    })
}

fn clamp<T: Float>(data: &mut [T], clip: f64) {
    let (lo, hi) = (T::from_f64(-clip), T::from_f64(clip));
    // Written with comparisons rather than `T::clamp` so NaN stays NaN, as in PyTorch.
    for v in data {
        if *v < lo {
            *v = lo;
        } else if *v > hi {
            *v = hi;
        }
    }
}

/// Fails before anything changes if a gradient is not a float tensor.
fn check_float_grads(op: &'static str, params: &[(String, Tensor)]) -> Result<()> {
    for (name, p) in params {
        if let Some(g) = p.grad()
            && !g.dtype().is_float()
        {
            return Err(Error::invalid(
                op,
                format!("the gradient of {name:?} has dtype {}", g.dtype()),
            ));
        }
    }
    Ok(())
}

/// Runs `f` on each gradient made contiguous, once per distinct gradient: a parameter listed
/// twice (tied weights) must not be scaled twice.
fn for_each_grad_once(
    params: &[(String, Tensor)],
    mut f: impl FnMut(&Tensor) -> nabla_core::Result<()>,
) -> Result<()> {
    for (i, (_, p)) in params.iter().enumerate() {
        let Some(g) = p.grad() else { continue };
        let seen = params[..i]
            .iter()
            .filter_map(|(_, q)| q.grad())
            .any(|h| h.shares_storage(&g) && h.layout() == g.layout());
        if seen {
            continue;
        }
        let g = if g.is_contiguous() {
            g
        } else {
            let own = g.detach().contiguous();
            p.set_grad(Some(own.clone()));
            own
        };
        f(&g)?;
    }
    Ok(())
}
