//! Anomaly detection, like `torch.autograd.detect_anomaly`: finds the first operation whose
//! output, or the first backward node whose gradient, holds a NaN or an infinity, and says
//! which it is, whether the forward or the backward pass made it, where it sits in the graph
//! and how large the values it was given were.

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

/// How large a tensor's values are: the smallest, the largest and the largest absolute finite
/// value, and how many values are not finite.
///
/// ```
/// use nabla_core::{Magnitudes, Tensor};
/// let m = Magnitudes::of(&Tensor::from_vec(vec![-3.0f64, 2.0, f64::NAN], &[3])).unwrap();
/// assert_eq!((m.min, m.max, m.abs_max, m.non_finite), (-3.0, 2.0, 3.0, 1));
/// assert_eq!(m.to_string(), "min -3, max 2, |max| 3, 1 not finite");
/// ```
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Magnitudes {
    pub min: f64,
    pub max: f64,
    pub abs_max: f64,
    pub non_finite: usize,
}

impl Magnitudes {
    /// The magnitudes of a float tensor's values (`None` for an integer or boolean one). With no
    /// finite value, `min`, `max` and `abs_max` are NaN.
    pub fn of(t: &Tensor) -> Option<Magnitudes> {
        t.dtype()
            .is_float()
            .then(|| Magnitudes::of_values(&t.to_f64_vec()))
    }

    fn of_values(values: &[f64]) -> Magnitudes {
        let mut m = Magnitudes {
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            abs_max: 0.0,
            non_finite: 0,
        };
        for &v in values {
            if v.is_finite() {
                m.min = m.min.min(v);
                m.max = m.max.max(v);
                m.abs_max = m.abs_max.max(v.abs());
            } else {
                m.non_finite += 1;
            }
        }
        if m.min > m.max {
            (m.min, m.max, m.abs_max) = (f64::NAN, f64::NAN, f64::NAN);
        }
        m
    }

    /// `NaN` or `inf` when some value is one (NaN first).
    fn non_finite_kind(values: &[f64]) -> Option<&'static str> {
        if values.iter().any(|v| v.is_nan()) {
            Some("NaN")
        } else if values.iter().any(|v| v.is_infinite()) {
            Some("inf")
        } else {
            None
        }
    }
}

/// Four significant digits, without trailing zeros (`2`, `0.5`, `1.235e12`).
fn short(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-4..1e6).contains(&v.abs()) {
        format!("{v:.3e}")
    } else {
        let text = format!("{v:.4}");
        let text = if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.')
        } else {
            &text
        };
        text.to_string()
    }
}

impl fmt::Display for Magnitudes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "min {}, max {}, |max| {}",
            short(self.min),
            short(self.max),
            short(self.abs_max)
        )?;
        if self.non_finite > 0 {
            write!(f, ", {} not finite", self.non_finite)?;
        }
        Ok(())
    }
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
    /// The magnitudes of the operation's inputs in its forward pass, in order (`None` for an
    /// integer input, or when the forward pass was not watched).
    pub input_magnitudes: Vec<Option<Magnitudes>>,
    /// For a backward anomaly: the magnitudes of the gradient the node received.
    pub grad_magnitudes: Option<Magnitudes>,
    /// The node, to render the graph around it.
    pub node: Option<Arc<Node>>,
}

impl Anomaly {
    /// One line per input: `input 0 [8, 16]: min -2, max 3, |max| 3`.
    pub fn input_lines(&self) -> Vec<String> {
        self.input_shapes
            .iter()
            .enumerate()
            .map(
                |(i, shape)| match self.input_magnitudes.get(i).copied().flatten() {
                    Some(m) => format!("input {i} {shape:?}: {m}"),
                    None => format!("input {i} {shape:?}"),
                },
            )
            .collect()
    }
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
                "{}{at} produced {} in the forward pass, in its output of shape {:?}, from \
                 finite inputs ({})",
                self.name,
                self.value,
                self.shape,
                self.input_lines().join("; ")
            ),
            Phase::Backward => {
                write!(
                    f,
                    "{}{at} sent {} in the gradient of its input {} (shape {:?}) in the backward \
                     pass, from a finite gradient",
                    self.name,
                    self.value,
                    self.input.unwrap_or(0),
                    self.shape
                )?;
                if let Some(g) = &self.grad_magnitudes {
                    write!(f, " ({g})")?;
                }
                write!(f, "; its forward inputs: {}", self.input_lines().join("; "))
            }
        }
    }
}

impl std::error::Error for Anomaly {}

/// `NaN` or `inf` if `t` holds one.
fn non_finite(t: &Tensor) -> Option<&'static str> {
    if !t.dtype().is_float() {
        return None;
    }
    Magnitudes::non_finite_kind(&t.to_f64_vec())
}

#[derive(Default)]
struct Detector {
    /// Per node: its position in the forward pass and its inputs' magnitudes there.
    order: HashMap<usize, (usize, Vec<Option<Magnitudes>>)>,
    recorded: usize,
    first: Option<Anomaly>,
}

impl Observer for Detector {
    fn forward(&mut self, event: &ForwardEvent) {
        let node = event.output.grad_fn();
        let index = self.recorded;
        self.recorded += 1;
        if self.first.is_some() {
            return;
        }
        let magnitudes: Vec<Option<Magnitudes>> =
            event.inputs.iter().map(|t| Magnitudes::of(t)).collect();
        if let Some(n) = &node {
            self.order.insert(n.id(), (index, magnitudes.clone()));
        }
        // An operation that only passes on a non-finite input is not where it started.
        let inputs_finite = magnitudes.iter().flatten().all(|m| m.non_finite == 0);
        if let (Some(value), true) = (non_finite(event.output), inputs_finite) {
            self.first = Some(Anomaly {
                phase: Phase::Forward,
                name: event.name,
                forward_index: Some(index),
                input_shapes: event.inputs.iter().map(|t| t.shape().to_vec()).collect(),
                shape: event.output.shape().to_vec(),
                input: None,
                value,
                input_magnitudes: magnitudes,
                grad_magnitudes: None,
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
                let forward = self.order.get(&event.node.id());
                self.first = Some(Anomaly {
                    phase: Phase::Backward,
                    name: event.node.name(),
                    forward_index: forward.map(|f| f.0),
                    input_shapes: event.node.input_shapes(),
                    shape: g.as_ref().map(|g| g.shape().to_vec()).unwrap_or_default(),
                    input: Some(i),
                    value,
                    input_magnitudes: forward.map(|f| f.1.clone()).unwrap_or_default(),
                    grad_magnitudes: Magnitudes::of(event.grad_output),
                    node: Some(event.node.clone()),
                });
                return;
            }
        }
    }
}

/// Runs `f` (forward and backward) watching for NaN and infinity; returns `f`'s result, or the
/// first anomaly: the operation that turned finite inputs into a non-finite output, or the
/// backward node that turned a finite gradient into a non-finite one, with the magnitudes of
/// what it was given.
///
/// ```
/// use nabla_core::{detect_anomaly, Tensor};
/// let x = Tensor::from_vec(vec![1.0f64, 0.0], &[2]).requires_grad();
/// let err = detect_anomaly(|| (x.sqrt() * 2.0).sum().backward()).unwrap_err();
/// assert_eq!(err.name, "SqrtBackward");
/// assert_eq!(err.to_string(),
///     "SqrtBackward (operation #0 of the forward pass) sent inf in the gradient of its input 0 \
///      (shape [2]) in the backward pass, from a finite gradient (min 2, max 2, |max| 2); its \
///      forward inputs: input 0 [2]: min 0, max 1, |max| 1");
/// ```
pub fn detect_anomaly<R>(f: impl FnOnce() -> R) -> Result<R, Box<Anomaly>> {
    let (result, detector) = observe(Detector::default(), f);
    match detector.first {
        Some(anomaly) => Err(Box::new(anomaly)),
        None => Ok(result),
    }
}
