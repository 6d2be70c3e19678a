//! Learning-rate schedules: the rate as a pure function of the epoch (or step) count, set on an
//! optimiser with [`crate::optim::Optimizer::set_learning_rate`] before each epoch. Being
//! functions of the count, they need no state to resume from a checkpoint.

use crate::{Error, Result};
use std::f64::consts::PI;

/// A learning rate for every epoch (or step) `t`, counted from 0.
pub trait Schedule: Send + Sync {
    /// The learning rate to use during epoch `t`.
    fn lr(&self, t: usize) -> f64;
}

/// A schedule chosen at run time is a schedule too (so it can sit inside [`LinearWarmup`]).
impl Schedule for Box<dyn Schedule> {
    fn lr(&self, t: usize) -> f64 {
        (**self).lr(t)
    }
}

/// The same rate at every epoch.
///
/// ```
/// use nabla_nn::schedule::{Constant, Schedule};
/// assert_eq!(Constant::new(0.1).lr(1000), 0.1);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Constant {
    lr: f64,
}

impl Constant {
    /// The constant rate `lr`.
    pub fn new(lr: f64) -> Self {
        Constant { lr }
    }
}

impl Schedule for Constant {
    fn lr(&self, _t: usize) -> f64 {
        self.lr
    }
}

/// `lr · γ^⌊t / step_size⌋`: multiplied by γ every `step_size` epochs (PyTorch's `StepLR`).
///
/// ```
/// use nabla_nn::schedule::{Schedule, StepDecay};
/// let s = StepDecay::new(0.1, 3, 0.5).unwrap();
/// assert_eq!((s.lr(2), s.lr(3), s.lr(6)), (0.1, 0.05, 0.025));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct StepDecay {
    lr: f64,
    step_size: usize,
    gamma: f64,
}

impl StepDecay {
    /// Starts at `lr` and multiplies by `gamma` every `step_size` (> 0) epochs.
    pub fn new(lr: f64, step_size: usize, gamma: f64) -> Result<Self> {
        if step_size == 0 {
            return Err(Error::invalid("StepDecay", "step_size must be at least 1"));
        }
        Ok(StepDecay {
            lr,
            step_size,
            gamma,
        })
    }
}

impl Schedule for StepDecay {
    fn lr(&self, t: usize) -> f64 {
        self.lr * self.gamma.powf((t / self.step_size) as f64)
    }
}

/// `lr · γ^t` (PyTorch's `ExponentialLR`).
///
/// ```
/// use nabla_nn::schedule::{Exponential, Schedule};
/// assert_eq!(Exponential::new(1.0, 0.5).lr(3), 0.125);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Exponential {
    lr: f64,
    gamma: f64,
}

impl Exponential {
    /// Starts at `lr` and multiplies by `gamma` every epoch.
    pub fn new(lr: f64, gamma: f64) -> Self {
        Exponential { lr, gamma }
    }
}

impl Schedule for Exponential {
    fn lr(&self, t: usize) -> f64 {
        self.lr * self.gamma.powf(t as f64)
    }
}

/// `η_min + (lr − η_min)(1 + cos(π t / T_max)) / 2`: from `lr` down to `η_min` over `T_max`
/// epochs along a half cosine, then back up, with period `2 T_max` (PyTorch's
/// `CosineAnnealingLR`, in its closed form).
///
/// ```
/// use nabla_nn::schedule::{CosineAnnealing, Schedule};
/// let s = CosineAnnealing::new(0.1, 4, 0.01).unwrap();
/// assert_eq!((s.lr(0), s.lr(4)), (0.1, 0.01));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CosineAnnealing {
    lr: f64,
    t_max: usize,
    eta_min: f64,
}

impl CosineAnnealing {
    /// Anneals from `lr` to `eta_min` over `t_max` (> 0) epochs.
    pub fn new(lr: f64, t_max: usize, eta_min: f64) -> Result<Self> {
        if t_max == 0 {
            return Err(Error::invalid(
                "CosineAnnealing",
                "t_max must be at least 1",
            ));
        }
        Ok(CosineAnnealing { lr, t_max, eta_min })
    }
}

impl Schedule for CosineAnnealing {
    fn lr(&self, t: usize) -> f64 {
        let phase = PI * t as f64 / self.t_max as f64;
        // Halving before the product keeps a rate near f64::MAX finite (and changes no bit:
        // halving is exact).
        self.eta_min + (self.lr - self.eta_min) * ((1.0 + phase.cos()) / 2.0)
    }
}

/// A linear warm-up followed by another schedule: for `t < warmup` the rate rises linearly
/// from `start_factor · after.lr(0)` towards `after.lr(0)`; from then on it is
/// `after.lr(t − warmup)`. This is PyTorch's `SequentialLR([LinearLR(start_factor,
/// total_iters=warmup), after], milestones=[warmup])`.
///
/// ```
/// use nabla_nn::schedule::{Constant, LinearWarmup, Schedule};
/// let s = LinearWarmup::new(2, 0.5, Constant::new(1.0)).unwrap();
/// assert_eq!((s.lr(0), s.lr(1), s.lr(2)), (0.5, 0.75, 1.0));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LinearWarmup<S> {
    warmup: usize,
    start_factor: f64,
    after: S,
}

impl<S: Schedule> LinearWarmup<S> {
    /// Warms up over `warmup` epochs from `start_factor` (in `[0, 1]`) times the rate `after`
    /// starts with.
    pub fn new(warmup: usize, start_factor: f64, after: S) -> Result<Self> {
        if !(0.0..=1.0).contains(&start_factor) {
            return Err(Error::invalid(
                "LinearWarmup",
                format!("start_factor must lie in [0, 1], got {start_factor}"),
            ));
        }
        Ok(LinearWarmup {
            warmup,
            start_factor,
            after,
        })
    }
}

impl<S: Schedule> Schedule for LinearWarmup<S> {
    fn lr(&self, t: usize) -> f64 {
        if t >= self.warmup {
            return self.after.lr(t - self.warmup);
        }
        let progress = t as f64 / self.warmup as f64;
        self.after.lr(0) * (self.start_factor + (1.0 - self.start_factor) * progress)
    }
}
