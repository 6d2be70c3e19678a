//! Stochastic gradient descent as PyTorch's `torch.optim.SGD`: optional momentum with dampening
//! and Nesterov's form (weight decay is the optimiser's, folded into the gradient).

use super::{Step, UpdateRule, check_range, check_rate};
use crate::{Error, Result};
use nabla_core::Float;

/// PyTorch's `SGD`, for every combination of its options and under any learning-rate schedule:
///
/// ```text
/// d = ∇W + λ W                  (λ: the optimiser's weight decay)
/// b = d                         at the first step
/// b = μ b + (1 − τ) d           after it        (μ momentum, τ dampening)
/// d = d + μ b  (Nesterov)   or   d = b
/// W = W − η d
/// ```
///
/// Without momentum (μ = 0, the default) it is `W ← W − η (∇W + λ W)` and keeps no state;
/// with momentum it keeps `momentum_buffer`, PyTorch's name. The buffer holds gradients, not
/// steps, so a new learning rate applies to all of it at once: this is where it differs from
/// the textbook [`Momentum`](super::Momentum) (`v ← α v − η ∇W`), which equals it only while η
/// is constant.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::optim::{Optim, Optimizer, Sgd};
/// let w = Tensor::from_vec(vec![1.0f64], &[1]).requires_grad();
/// let mut opt = Optim::new(vec![("w".into(), w.clone())], Sgd::new(), 0.1)
///     .unwrap()
///     .with_weight_decay(0.5)
///     .unwrap();
/// w.set_grad(Some(Tensor::from_vec(vec![2.0f64], &[1])));
/// opt.step().unwrap();
/// assert_eq!(w.to_vec::<f64>(), vec![1.0 - 0.1 * (2.0 + 0.5)]);
///
/// // Momentum 0.5: the buffer is the gradient at the first step, then 0.5 b + g.
/// let w = Tensor::from_vec(vec![1.0f64], &[1]).requires_grad();
/// let mut opt = Optim::new(vec![("w".into(), w.clone())], Sgd::new().momentum(0.5), 0.1).unwrap();
/// for lr in [0.1, 0.2] {
///     opt.set_learning_rate(lr);
///     w.set_grad(Some(Tensor::from_vec(vec![1.0f64], &[1])));
///     opt.step().unwrap();
/// }
/// assert_eq!(w.to_vec::<f64>(), vec![1.0 - 0.1 * 1.0 - 0.2 * 1.5]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Sgd {
    momentum: f64,
    dampening: f64,
    nesterov: bool,
}

impl Default for Sgd {
    fn default() -> Self {
        Sgd::new()
    }
}

impl Sgd {
    /// SGD with no momentum.
    pub fn new() -> Self {
        Sgd {
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
        }
    }

    /// Sets the momentum coefficient μ (0 turns momentum off).
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// Sets the dampening τ: each new gradient enters the buffer scaled by `1 − τ`.
    pub fn dampening(mut self, dampening: f64) -> Self {
        self.dampening = dampening;
        self
    }

    /// Uses Nesterov's form (needs momentum and no dampening, as in PyTorch).
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }
}

impl UpdateRule for Sgd {
    const NAME: &'static str = "SGD";
    const STATE: &'static [&'static str] = &["momentum_buffer"];

    fn state(&self) -> &'static [&'static str] {
        if self.momentum == 0.0 {
            &[]
        } else {
            Self::STATE
        }
    }

    fn check(&self) -> Result<()> {
        check_rate(Self::NAME, "momentum", self.momentum)?;
        check_range(Self::NAME, "dampening", self.dampening, 0.0, 1.0)?;
        if self.nesterov && (self.momentum == 0.0 || self.dampening != 0.0) {
            return Err(Error::invalid(
                Self::NAME,
                format!(
                    "Nesterov momentum needs a momentum above 0 and no dampening, got momentum \
                     {} and dampening {}",
                    self.momentum, self.dampening
                ),
            ));
        }
        Ok(())
    }

    fn apply<T: Float>(&self, step: Step, param: &mut [T], grad: &[T], state: &mut [&mut [T]]) {
        let lr = T::from_f64(step.lr);
        let [buffer] = state else {
            for (p, &g) in param.iter_mut().zip(grad) {
                *p = *p - lr * g;
            }
            return;
        };
        let mu = T::from_f64(self.momentum);
        // The first step copies the gradient into the buffer: `0·b + 1·d` with a zero buffer.
        let (keep, take) = if step.count == 1 {
            (T::zero(), T::one())
        } else {
            (mu, T::from_f64(1.0 - self.dampening))
        };
        for ((p, &g), b) in param.iter_mut().zip(grad).zip(buffer.iter_mut()) {
            *b = keep * *b + take * g;
            let d = if self.nesterov { g + mu * *b } else { *b };
            *p = *p - lr * d;
        }
    }
}
