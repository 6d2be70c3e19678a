//! RMSprop: AdaGrad with an exponentially decaying average instead of a growing sum.

use super::{Step, UpdateRule, check_range, check_rate};
use crate::Result;
use nabla_core::Float;

/// RMSprop as PyTorch's `RMSprop` (not centred, no momentum):
/// `s ← α s + (1 − α) ∇W²`, `W ← W − η ∇W / (√s + ε)` (state `square_avg`; α = 0.99,
/// ε = 1e-8 by default).
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::optim::{Optim, Optimizer, RmsProp};
/// let w = Tensor::from_vec(vec![1.0f64], &[1]).requires_grad();
/// let rule = RmsProp::new().alpha(0.75).eps(0.0);
/// let mut opt = Optim::new(vec![("w".into(), w.clone())], rule, 0.1).unwrap();
/// w.set_grad(Some(Tensor::from_vec(vec![2.0f64], &[1])));
/// opt.step().unwrap();
/// // s = 0.25·4 = 1, so the step is 0.1·2/1.
/// assert_eq!(w.to_vec::<f64>(), vec![0.8]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RmsProp {
    alpha: f64,
    eps: f64,
}

impl Default for RmsProp {
    fn default() -> Self {
        RmsProp::new()
    }
}

impl RmsProp {
    /// RMSprop with α = 0.99 and ε = 1e-8.
    pub fn new() -> Self {
        RmsProp {
            alpha: 0.99,
            eps: 1e-8,
        }
    }

    /// Sets the decay rate α of the squared-gradient average.
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// Sets ε, added to the root mean square.
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }
}

impl UpdateRule for RmsProp {
    const NAME: &'static str = "RMSprop";
    const STATE: &'static [&'static str] = &["square_avg"];

    fn check(&self) -> Result<()> {
        check_rate(Self::NAME, "alpha", self.alpha)?;
        check_range(Self::NAME, "eps", self.eps, 0.0, f64::INFINITY)
    }

    fn apply<T: Float>(&self, step: Step, param: &mut [T], grad: &[T], state: &mut [&mut [T]]) {
        let (lr, eps) = (T::from_f64(step.lr), T::from_f64(self.eps));
        let (alpha, one_minus_alpha) = (T::from_f64(self.alpha), T::from_f64(1.0 - self.alpha));
        for ((p, &g), s) in param.iter_mut().zip(grad).zip(state[0].iter_mut()) {
            *s = alpha * *s + one_minus_alpha * g * g;
            *p = *p - lr * (g / (s.sqrt() + eps));
        }
    }
}
