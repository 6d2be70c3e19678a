//! Training that diverges: where a NaN or infinity first appears in the network, where a loss
//! that blew up (finite, but far above its first value) comes from, and the [`Divergence`] and
//! [`Warning`] values [`crate::train::fit`] reports them with.

use crate::module::{Module, Sequential};
use nabla_core::{Tensor, no_grad};
use std::fmt;

/// A step whose loss exceeds this multiple of the run's first loss gets a warning.
pub const BLOW_UP_FACTOR: f64 = 100.0;

/// An epoch whose mean training loss exceeds this multiple of the run's first loss gets a
/// warning: training lowers the mean loss of every epoch below the loss at the initial
/// weights (about ln 10 = 2.30 for ten classes), so a mean ten times above it means the run
/// diverged even when no single step blew up a hundredfold.
pub const EPOCH_BLOW_UP_FACTOR: f64 = 10.0;

/// Outputs or gradients whose largest magnitude exceeds this have exploded, once the loss has
/// blown up (the activations, logits and gradients of a healthy network on normalised inputs
/// stay within a few tens; a cross-entropy loss of L needs logits L apart).
const EXPLODED: f64 = 100.0;

/// A loss that became NaN or infinite, where, and the layer where the first non-finite value
/// appears: `the loss became NaN at epoch 2, step 5, first in the output of layer 2
/// (Linear(16 -> 10))`.
#[derive(Clone, Debug, PartialEq)]
pub struct Divergence {
    /// Which loss: `the loss` (of a training step) or `the validation loss`.
    pub what: String,
    pub value: f64,
    /// `at epoch 2, step 5` or `after epoch 2`.
    pub when: String,
    /// Where the first NaN or infinity is: `the output of layer 2 (Linear(16 -> 10))`.
    pub origin: Option<String>,
    /// The learning rate in use.
    pub lr: f64,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} became {} {}", self.what, self.value, self.when)?;
        if let Some(origin) = &self.origin {
            write!(f, ", first in {origin}")?;
        }
        Ok(())
    }
}

/// A run that is going wrong without a NaN yet; each kind is reported once per run.
#[derive(Clone, Debug, PartialEq)]
pub enum Warning {
    /// A step's loss rose above [`BLOW_UP_FACTOR`] times the run's first loss.
    LossBlewUp { message: String, lr: f64 },
    /// An epoch's mean training loss stayed above [`EPOCH_BLOW_UP_FACTOR`] times the run's
    /// first loss: the run diverged.
    RunDiverged { message: String, lr: f64 },
}

impl Warning {
    /// The learning rate in use when the warning was raised.
    pub fn lr(&self) -> f64 {
        match self {
            Warning::LossBlewUp { lr, .. } | Warning::RunDiverged { lr, .. } => *lr,
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::LossBlewUp { message, .. } | Warning::RunDiverged { message, .. } => {
                f.write_str(message)
            }
        }
    }
}

/// The index of the first NaN or infinity of a float tensor (`None` for an integer one).
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::train::non_finite_index;
/// assert_eq!(non_finite_index(&Tensor::from_vec(vec![1.0f32, f32::NAN], &[2])), Some(1));
/// assert_eq!(non_finite_index(&Tensor::from_vec(vec![1i64], &[1])), None);
/// ```
pub fn non_finite_index(t: &Tensor) -> Option<usize> {
    if !t.dtype().is_float() {
        return None;
    }
    t.to_f64_vec().iter().position(|v| !v.is_finite())
}

/// The first layer where a NaN or infinity appears: its weights, else its output on `features`
/// (evaluation mode, so nothing the run depends on is drawn or updated), else its gradient.
pub fn first_non_finite(net: &mut Sequential, features: &Tensor) -> Option<String> {
    let bad = |t: &Tensor| non_finite_index(t).is_some();
    let params = net.named_parameters();
    if let Some((name, _)) = params.iter().find(|(_, p)| bad(p)) {
        return Some(format!("the weights of {} ({name})", layer_of(net, name)));
    }
    if let Some(i) = layer_outputs(net, features).iter().position(bad) {
        return Some(format!("the output of {}", layer(net, i)));
    }
    let (name, _) = params
        .iter()
        .find(|(_, p)| p.grad().is_some_and(|g| bad(&g)))?;
    Some(format!("the gradient of {} ({name})", layer_of(net, name)))
}

/// The first layer whose output on `features` (evaluation mode) or whose gradient has a value
/// above [`EXPLODED`] in magnitude, with that value.
pub fn first_exploded(net: &mut Sequential, features: &Tensor) -> Option<String> {
    let largest = |t: &Tensor| t.to_f64_vec().iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let outputs = layer_outputs(net, features);
    if let Some((i, size)) = outputs
        .iter()
        .map(largest)
        .enumerate()
        .find(|&(_, m)| m > EXPLODED)
    {
        return Some(format!(
            "the output of {} (up to {size:.2e})",
            layer(net, i)
        ));
    }
    net.named_parameters().iter().find_map(|(name, p)| {
        let size = largest(&p.grad()?);
        (size > EXPLODED).then(|| {
            format!(
                "the gradient of {} ({name}, up to {size:.2e})",
                layer_of(net, name)
            )
        })
    })
}

/// Every layer's output on `features` in evaluation mode, outside the graph; the network is
/// back in training mode afterwards.
fn layer_outputs(net: &mut Sequential, features: &Tensor) -> Vec<Tensor> {
    net.set_training(false);
    let outputs = no_grad(|| net.forward_trace(features)).unwrap_or_default();
    net.set_training(true);
    outputs
}

/// `layer 2 (Linear(16 -> 10))`.
fn layer(net: &Sequential, index: usize) -> String {
    format!("layer {index} ({})", net.layers()[index].describe())
}

/// The layer a parameter name such as `2.weight` belongs to.
fn layer_of(net: &Sequential, parameter: &str) -> String {
    parameter
        .split('.')
        .next()
        .and_then(|i| i.parse().ok())
        .filter(|&i| i < net.len())
        .map_or_else(|| "a layer".to_string(), |i| layer(net, i))
}
