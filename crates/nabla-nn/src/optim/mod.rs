//! Optimisers: the [`Optimizer`] interface a training loop drives, the [`UpdateRule`] each
//! algorithm implements (one element-wise body, generic over `f32`/`f64`), and [`Optim`], which
//! applies a rule to a set of named parameters and keeps its per-parameter state.
//!
//! The learning rate and the weight decay are [`Optim`]'s, for every rule ([`Optim::new`],
//! [`Optim::with_weight_decay`]); a rule holds only its own hyper-parameters.
//!
//! Rules: [`Sgd`] (PyTorch's SGD: momentum, dampening, Nesterov), [`Momentum`]
//! (textbook form, equal to SGD's momentum only at a constant learning rate), [`Nesterov`],
//! [`AdaGrad`], [`RmsProp`], [`Adam`] and [`AdamW`], with PyTorch's formulas and defaults
//! unless their documentation says otherwise.

mod adagrad;
mod adam;
mod driver;
mod momentum;
mod rmsprop;
mod sgd;

pub use adagrad::AdaGrad;
pub use adam::{Adam, AdamW};
pub use driver::Optim;
pub use momentum::{Momentum, Nesterov};
pub use rmsprop::RmsProp;
pub use sgd::Sgd;

use crate::{Error, Result};
use nabla_core::{Float, Tensor};

/// What a training loop needs from an optimiser. Object-safe, so loops can hold a
/// `Box<dyn Optimizer>` chosen at run time.
pub trait Optimizer: Send {
    /// Updates every parameter that has a gradient, in place and outside the graph; parameters
    /// whose gradient is `None` are skipped (their state does not advance).
    fn step(&mut self) -> Result<()>;
    /// Clears every parameter's gradient (sets it to `None`).
    fn zero_grad(&self);
    /// The current learning rate.
    fn learning_rate(&self) -> f64;
    /// Replaces the learning rate (schedules call this between steps).
    fn set_learning_rate(&mut self, lr: f64);
    /// A copy of the optimiser state: `step` (an `i64` scalar counting calls to `step`) and, for
    /// each parameter updated at least once, `<param>.step` and `<param>.<buffer>` per buffer.
    fn state_dict(&self) -> Vec<(String, Tensor)>;
    /// Restores a state produced by [`Optimizer::state_dict`] for the same parameters; on error
    /// the current state is left as it was.
    fn load_state_dict(&mut self, state: &[(String, Tensor)]) -> Result<()>;
}

/// Where an update stands: the optimiser's learning rate, and how many times this parameter has
/// been updated, counting this update (from 1).
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Step {
    pub lr: f64,
    pub count: u64,
}

/// One optimisation algorithm: its own hyper-parameters (not the learning rate or the weight
/// decay, which [`Optim`] holds) and its element-wise update.
///
/// The update is written once for every float type; [`Optim`] dispatches on the parameter's
/// dtype. State buffers have the parameter's shape and dtype and start at zero.
pub trait UpdateRule: Send + Sync {
    /// The algorithm's name, used in error messages.
    const NAME: &'static str;
    /// Names of the per-parameter state buffers this rule may keep (at most two).
    const STATE: &'static [&'static str];

    /// The weight decay [`Optim`] starts with (PyTorch's default for the algorithm).
    const DEFAULT_WEIGHT_DECAY: f64 = 0.0;
    /// Whether [`Optim`] applies the weight decay decoupled from the gradient (AdamW's
    /// `W ← (1 − η λ) W` before the update) instead of as L2 added to it.
    const DECOUPLED_WEIGHT_DECAY: bool = false;

    /// The buffers this configuration keeps: [`UpdateRule::STATE`], or fewer when an option
    /// turns state off (SGD without momentum keeps none).
    fn state(&self) -> &'static [&'static str] {
        Self::STATE
    }

    /// Rejects hyper-parameters outside their valid range.
    fn check(&self) -> Result<()>;
    /// Updates `param` in place from `grad` at `step` (the optimiser's learning rate and this
    /// parameter's update count); `state` holds the buffers named by [`UpdateRule::state`], in
    /// that order.
    fn apply<T: Float>(&self, step: Step, param: &mut [T], grad: &[T], state: &mut [&mut [T]]);
}

/// Fails unless `value` lies in `lo..=hi` (and is not NaN), naming the rule and hyper-parameter.
pub(crate) fn check_range(
    rule: &'static str,
    name: &str,
    value: f64,
    lo: f64,
    hi: f64,
) -> Result<()> {
    if (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid(
            rule,
            format!("{name} must lie in [{lo}, {hi}], got {value}"),
        ))
    }
}

/// Fails unless `value` lies in `[0, 1)`, as decay rates (momentum, betas, alpha) must.
pub(crate) fn check_rate(rule: &'static str, name: &str, value: f64) -> Result<()> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid(
            rule,
            format!("{name} must lie in [0, 1), got {value}"),
        ))
    }
}
