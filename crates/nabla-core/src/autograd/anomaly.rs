//! Anomaly detection, like `torch.autograd.detect_anomaly`: finds the first operation whose
//! output, or the first backward node whose gradient, holds a NaN or an infinity, and says
//! which it is and where it sits in the graph.

use super::node::Node;
use super::observe::{BackwardEvent, ForwardEvent, Observer, observe};
use crate::tensor::Tensor;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// Where the anomaly appeared.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    Forward,
    Backward,
}

/// The first non-finite value met.
#[derive(Clone, Debug)]
pub struct Anomaly {
    pub phase: Phase,
    /// The node's name (`ExpBackward`, ...).
    pub name: &'static str,
    /// Position of the operation among those recorded in the forward pass (from 0), when known.
    pub forward_index: Option<usize>,
    pub input_shapes: Vec<Vec<usize>>,
    /// Shape of the offending tensor (the output, or the gradient sent to `input`).
    pub shape: Vec<usize>,
    /// For a backward anomaly: the input whose gradient is not finite.
    pub input: Option<usize>,
    /// `NaN` or `inf`.
    pub value: &'static str,
    /// The node, to render the graph around it.
    pub node: Option<Arc<Node>>,
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self
            .forward_index
            .map(|i| format!(" (operation #{i} of the forward pass)"))
            .unwrap_or_default();
        match self.phase {
            Phase::Forward => write!(
                f,
                "{}{at} produced {} in its output of shape {:?} from inputs of shapes {:?}",
                self.name, self.value, self.shape, self.input_shapes
            ),
            Phase::Backward => write!(
                f,
                "{}{at} sent {} in the gradient of its input {} (shape {:?}) during backward",
                self.name,
                self.value,
                self.input.unwrap_or(0),
                self.shape
            ),
        }
    }
}

impl std::error::Error for Anomaly {}

/// `NaN` or `inf` if `t` holds one.
fn non_finite(t: &Tensor) -> Option<&'static str> {
    if !t.dtype().is_float() {
        return None;
    }
    let values = t.to_f64_vec();
    if values.iter().any(|v| v.is_nan()) {
        Some("NaN")
    } else if values.iter().any(|v| v.is_infinite()) {
        Some("inf")
    } else {
        None
    }
}

#[derive(Default)]
struct Detector {
    order: HashMap<usize, usize>,
    recorded: usize,
    first: Option<Anomaly>,
}

impl Observer for Detector {
    fn forward(&mut self, event: &ForwardEvent) {
        let node = event.output.grad_fn();
        let index = self.recorded;
        self.recorded += 1;
        if let Some(n) = &node {
            self.order.insert(n.id(), index);
        }
        if self.first.is_some() {
            return;
        }
        // An operation that only passes on a non-finite input is not where it started.
        let inputs_finite = event.inputs.iter().all(|t| non_finite(t).is_none());
        if let (Some(value), true) = (non_finite(event.output), inputs_finite) {
            self.first = Some(Anomaly {
                phase: Phase::Forward,
                name: event.name,
                forward_index: Some(index),
                input_shapes: event.inputs.iter().map(|t| t.shape().to_vec()).collect(),
                shape: event.output.shape().to_vec(),
                input: None,
                value,
                node,
            });
        }
    }

    fn backward(&mut self, event: &BackwardEvent) {
        if self.first.is_some() || non_finite(event.grad_output).is_some() {
            return;
        }
        for (i, g) in event.grad_inputs.iter().enumerate() {
            if let Some(value) = g.as_ref().and_then(non_finite) {
                self.first = Some(Anomaly {
                    phase: Phase::Backward,
                    name: event.node.name(),
                    forward_index: self.order.get(&event.node.id()).copied(),
                    input_shapes: event.node.input_shapes(),
                    shape: g.as_ref().map(|g| g.shape().to_vec()).unwrap_or_default(),
                    input: Some(i),
                    value,
                    node: Some(event.node.clone()),
                });
                return;
            }
        }
    }
}

/// Runs `f` (forward and backward) watching for NaN and infinity; returns `f`'s result, or the
/// first anomaly: the operation that turned finite inputs into a non-finite output, or the
/// backward node that turned a finite gradient into a non-finite one.
///
/// ```
/// use nabla_core::{detect_anomaly, Tensor};
/// let x = Tensor::from_vec(vec![1.0f64, 0.0], &[2]).requires_grad();
/// let err = detect_anomaly(|| (x.sqrt() * 2.0).sum().backward()).unwrap_err();
/// assert_eq!(err.name, "SqrtBackward");
/// assert_eq!(err.to_string(),
///     "SqrtBackward (operation #0 of the forward pass) sent inf in the gradient of its input 0 (shape [2]) during backward");
/// ```
pub fn detect_anomaly<R>(f: impl FnOnce() -> R) -> Result<R, Box<Anomaly>> {
    let (result, detector) = observe(Detector::default(), f);
    match detector.first {
        Some(anomaly) => Err(Box::new(anomaly)),
        None => Ok(result),
    }
}
