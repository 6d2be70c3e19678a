//! Plain stochastic gradient descent, with optional L2 weight decay folded into the gradient.

use super::{UpdateRule, check_range};
use crate::Result;
use nabla_core::Float;

/// `W ← W − η (∇W + λ W)` (PyTorch's `SGD` without momentum; λ = 0 by default).
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::optim::{Optim, Optimizer, Sgd};
/// let w = Tensor::from_vec(vec![1.0f64], &[1]).requires_grad();
/// let mut opt = Optim::new(vec![("w".into(), w.clone())], Sgd::new(0.1).weight_decay(0.5)).unwrap();
/// w.set_grad(Some(Tensor::from_vec(vec![2.0f64], &[1])));
/// opt.step().unwrap();
/// assert_eq!(w.to_vec::<f64>(), vec![1.0 - 0.1 * (2.0 + 0.5)]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Sgd {
    lr: f64,
    weight_decay: f64,
}

impl Sgd {
    /// SGD with learning rate `lr` and no weight decay.
    pub fn new(lr: f64) -> Self {
        Sgd {
            lr,
            weight_decay: 0.0,
        }
    }

    /// Sets the L2 weight-decay coefficient λ.
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }
}

impl UpdateRule for Sgd {
    const NAME: &'static str = "SGD";
    const STATE: &'static [&'static str] = &[];

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn check(&self) -> Result<()> {
        check_range(Self::NAME, "learning rate", self.lr, 0.0, f64::INFINITY)?;
        check_range(
            Self::NAME,
            "weight decay",
            self.weight_decay,
            0.0,
            f64::INFINITY,
        )
    }

    fn apply<T: Float>(&self, _step: u64, param: &mut [T], grad: &[T], _state: &mut [&mut [T]]) {
        let (lr, wd) = (T::from_f64(self.lr), T::from_f64(self.weight_decay));
        for (p, &g) in param.iter_mut().zip(grad) {
            *p = *p - lr * (g + wd * *p);
        }
    }
}
