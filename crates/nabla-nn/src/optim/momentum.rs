//! Momentum methods: the textbook velocity form and PyTorch's Nesterov momentum.

use super::{Step, UpdateRule, check_rate};
use crate::Result;
use nabla_core::Float;

/// Momentum as the textbook writes it: `v ← α v − η ∇W`, `W ← W + v` (state `velocity`,
/// α = 0.9 by default).
///
/// With a constant learning rate this follows the same path as PyTorch's `SGD(momentum=α)`,
/// whose buffer is `−v/η`. They differ as soon as η changes: the velocity keeps the steps taken
/// at the old rate, while PyTorch's buffer keeps gradients and scales all of them by the new
/// rate (on the loss of `tests/optim.rs`, a change from 0.1 to 0.03 moves the weights 1.08 apart
/// after three more steps). For PyTorch's behaviour under a schedule use
/// [`Sgd::momentum`](super::Sgd::momentum).
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::optim::{Momentum, Optim, Optimizer};
/// let w = Tensor::from_vec(vec![1.0f64], &[1]).requires_grad();
/// let mut opt = Optim::new(vec![("w".into(), w.clone())], Momentum::new(), 0.5).unwrap();
/// for _ in 0..2 {
///     w.set_grad(Some(Tensor::from_vec(vec![1.0f64], &[1])));
///     opt.step().unwrap();
/// }
/// // v₁ = −0.5, v₂ = 0.9·(−0.5) − 0.5 = −0.95.
/// assert_eq!(w.to_vec::<f64>(), vec![1.0 - 0.5 - 0.95]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Momentum {
    momentum: f64,
}

impl Default for Momentum {
    fn default() -> Self {
        Momentum::new()
    }
}

impl Momentum {
    /// Momentum with α = 0.9.
    pub fn new() -> Self {
        Momentum { momentum: 0.9 }
    }

    /// Sets the momentum coefficient α.
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }
}

impl UpdateRule for Momentum {
    const NAME: &'static str = "Momentum";
    const STATE: &'static [&'static str] = &["velocity"];

    fn check(&self) -> Result<()> {
        check_rate(Self::NAME, "momentum", self.momentum)
    }

    fn apply<T: Float>(&self, step: Step, param: &mut [T], grad: &[T], state: &mut [&mut [T]]) {
        let (lr, alpha) = (T::from_f64(step.lr), T::from_f64(self.momentum));
        for ((p, &g), v) in param.iter_mut().zip(grad).zip(state[0].iter_mut()) {
            *v = alpha * *v - lr * g;
            *p = *p + *v;
        }
    }
}

/// Nesterov momentum as PyTorch's `SGD(momentum=μ, nesterov=True)`:
/// `b ← μ b + ∇W`, `W ← W − η (∇W + μ b)` (state `momentum_buffer`, μ = 0.9 by default).
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::optim::{Nesterov, Optim, Optimizer};
/// let w = Tensor::from_vec(vec![1.0f64], &[1]).requires_grad();
/// let mut opt = Optim::new(vec![("w".into(), w.clone())], Nesterov::new(), 0.5).unwrap();
/// w.set_grad(Some(Tensor::from_vec(vec![1.0f64], &[1])));
/// opt.step().unwrap();
/// assert_eq!(w.to_vec::<f64>(), vec![1.0 - 0.5 * (1.0 + 0.9)]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Nesterov {
    momentum: f64,
}

impl Default for Nesterov {
    fn default() -> Self {
        Nesterov::new()
    }
}

impl Nesterov {
    /// Nesterov momentum with μ = 0.9.
    pub fn new() -> Self {
        Nesterov { momentum: 0.9 }
    }

    /// Sets the momentum coefficient μ.
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }
}

impl UpdateRule for Nesterov {
    const NAME: &'static str = "Nesterov";
    const STATE: &'static [&'static str] = &["momentum_buffer"];

    fn check(&self) -> Result<()> {
        check_rate(Self::NAME, "momentum", self.momentum)
    }

    fn apply<T: Float>(&self, step: Step, param: &mut [T], grad: &[T], state: &mut [&mut [T]]) {
        let (lr, mu) = (T::from_f64(step.lr), T::from_f64(self.momentum));
        for ((p, &g), b) in param.iter_mut().zip(grad).zip(state[0].iter_mut()) {
            *b = mu * *b + g;
            *p = *p - lr * (g + mu * *b);
        }
    }
}
