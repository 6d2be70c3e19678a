//! Adam, and AdamW (Adam with weight decay decoupled from the gradient).

use super::{Step, UpdateRule, check_range, check_rate};
use crate::Result;
use nabla_core::Float;

/// Adam as PyTorch's `Adam`, with bias correction:
/// `m ← β₁ m + (1 − β₁) ∇W`, `v ← β₂ v + (1 − β₂) ∇W²`,
/// `W ← W − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)` (state `exp_avg`, `exp_avg_sq`;
/// β = (0.9, 0.999), ε = 1e-8 by default; t counts the parameter's updates).
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::optim::{Adam, Optim, Optimizer};
/// let w = Tensor::from_vec(vec![1.0f64], &[1]).requires_grad();
/// let mut opt = Optim::new(vec![("w".into(), w.clone())], Adam::new().eps(0.0), 0.1).unwrap();
/// w.set_grad(Some(Tensor::from_vec(vec![-3.0f64], &[1])));
/// opt.step().unwrap();
/// // The first bias-corrected step has length η whatever the gradient's size.
/// assert!((w.to_vec::<f64>()[0] - 1.1).abs() < 1e-15);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Adam {
    beta1: f64,
    beta2: f64,
    eps: f64,
}

impl Default for Adam {
    fn default() -> Self {
        Adam::new()
    }
}

impl Adam {
    /// Adam with β = (0.9, 0.999) and ε = 1e-8.
    pub fn new() -> Self {
        Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }

    /// Sets the decay rates (β₁, β₂) of the gradient and squared-gradient averages.
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.beta1 = beta1;
        self.beta2 = beta2;
        self
    }

    /// Sets ε, added to the bias-corrected root mean square.
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }
}

impl UpdateRule for Adam {
    const NAME: &'static str = "Adam";
    const STATE: &'static [&'static str] = &["exp_avg", "exp_avg_sq"];

    fn check(&self) -> Result<()> {
        check_rate(Self::NAME, "beta1", self.beta1)?;
        check_rate(Self::NAME, "beta2", self.beta2)?;
        check_range(Self::NAME, "eps", self.eps, 0.0, f64::INFINITY)
    }

    fn apply<T: Float>(&self, step: Step, param: &mut [T], grad: &[T], state: &mut [&mut [T]]) {
        let t = step.count as f64;
        let bias1 = 1.0 - self.beta1.powf(t);
        let bias2_sqrt = (1.0 - self.beta2.powf(t)).sqrt();
        let step_size = T::from_f64(step.lr / bias1);
        let (bias2_sqrt, eps) = (T::from_f64(bias2_sqrt), T::from_f64(self.eps));
        // 1 − β in f64 first: in f32, 1 − 0.999f32 is off by 1e-5 relative.
        let (one_minus_b1, one_minus_b2) =
            (T::from_f64(1.0 - self.beta1), T::from_f64(1.0 - self.beta2));
        let b2 = T::from_f64(self.beta2);
        let [m, v] = state else {
            unreachable!("Adam declares two state buffers")
        };
        for (((p, &g), m), v) in param
            .iter_mut()
            .zip(grad)
            .zip(m.iter_mut())
            .zip(v.iter_mut())
        {
            *m = *m + (g - *m) * one_minus_b1;
            *v = b2 * *v + one_minus_b2 * g * g;
            *p = *p - step_size * (*m / (v.sqrt() / bias2_sqrt + eps));
        }
    }
}

/// AdamW as PyTorch's `AdamW`: `W ← (1 − η λ) W`, then the [`Adam`] update (same state and
/// defaults). The decay λ is the optimiser's ([`Optim::with_weight_decay`](super::Optim::with_weight_decay)),
/// 0.01 unless set, as PyTorch.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::optim::{AdamW, Optim, Optimizer};
/// let w = Tensor::from_vec(vec![2.0f64], &[1]).requires_grad();
/// let mut opt = Optim::new(vec![("w".into(), w.clone())], AdamW::new(), 0.1)
///     .unwrap()
///     .with_weight_decay(0.5)
///     .unwrap();
/// w.set_grad(Some(Tensor::from_vec(vec![0.0f64], &[1])));
/// opt.step().unwrap();
/// // A zero gradient leaves only the decay: 2·(1 − 0.1·0.5).
/// assert_eq!(w.to_vec::<f64>(), vec![1.9]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct AdamW {
    adam: Adam,
}

impl Default for AdamW {
    fn default() -> Self {
        AdamW::new()
    }
}

impl AdamW {
    /// AdamW with Adam's defaults.
    pub fn new() -> Self {
        AdamW { adam: Adam::new() }
    }

    /// Sets the decay rates (β₁, β₂).
    pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.adam = self.adam.betas(beta1, beta2);
        self
    }

    /// Sets ε.
    pub fn eps(mut self, eps: f64) -> Self {
        self.adam = self.adam.eps(eps);
        self
    }
}

impl UpdateRule for AdamW {
    const NAME: &'static str = "AdamW";
    const STATE: &'static [&'static str] = Adam::STATE;
    const DEFAULT_WEIGHT_DECAY: f64 = 0.01;
    const DECOUPLED_WEIGHT_DECAY: bool = true;

    fn check(&self) -> Result<()> {
        self.adam.check()
    }

    fn apply<T: Float>(&self, step: Step, param: &mut [T], grad: &[T], state: &mut [&mut [T]]) {
        self.adam.apply(step, param, grad, state);
    }
}
