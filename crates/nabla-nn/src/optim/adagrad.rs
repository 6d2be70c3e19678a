//! AdaGrad: per-element learning rates shrinking with the accumulated squared gradient.

use super::{Step, UpdateRule, check_range};
use crate::Result;
use nabla_core::Float;

/// AdaGrad as the textbook writes it: `h ← h + ∇W²`, `W ← W − η ∇W / (√h + ε)` (state `sum`,
/// ε = 1e-7 by default).
///
/// PyTorch's `Adagrad` is the same update with ε = 1e-10 (and no learning-rate decay or
/// initial accumulator): set `.eps(1e-10)` to match it.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::optim::{AdaGrad, Optim, Optimizer};
/// let w = Tensor::from_vec(vec![1.0f64], &[1]).requires_grad();
/// let mut opt = Optim::new(vec![("w".into(), w.clone())], AdaGrad::new().eps(0.0), 0.5).unwrap();
/// w.set_grad(Some(Tensor::from_vec(vec![4.0f64], &[1])));
/// opt.step().unwrap();
/// assert_eq!(w.to_vec::<f64>(), vec![0.5]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct AdaGrad {
    eps: f64,
}

impl Default for AdaGrad {
    fn default() -> Self {
        AdaGrad::new()
    }
}

impl AdaGrad {
    /// AdaGrad with ε = 1e-7.
    pub fn new() -> Self {
        AdaGrad { eps: 1e-7 }
    }

    /// Sets ε, added to `√h` so that elements never seen with a gradient do not divide by zero.
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }
}

impl UpdateRule for AdaGrad {
    const NAME: &'static str = "AdaGrad";
    const STATE: &'static [&'static str] = &["sum"];

    fn check(&self) -> Result<()> {
        check_range(Self::NAME, "eps", self.eps, 0.0, f64::INFINITY)
    }

    fn apply<T: Float>(&self, step: Step, param: &mut [T], grad: &[T], state: &mut [&mut [T]]) {
        let (lr, eps) = (T::from_f64(step.lr), T::from_f64(self.eps));
        for ((p, &g), h) in param.iter_mut().zip(grad).zip(state[0].iter_mut()) {
            *h = *h + g * g;
            *p = *p - lr * (g / (h.sqrt() + eps));
        }
    }
}
