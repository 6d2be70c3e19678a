//! Gradient norms per layer and the vanishing/exploding detector: the ratio of the first
//! layer's gradient norm to the last layer's says whether backpropagation still carries a signal
//! to the bottom of the network.

use serde::Serialize;
use std::fmt;

/// Below this first-to-last ratio, gradients are said to vanish.
pub const VANISHING_RATIO: f64 = 1e-3;
/// Above this first-to-last ratio, gradients are said to explode.
pub const EXPLODING_RATIO: f64 = 1e3;

/// What went wrong with the gradients of a step.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlarmKind {
    Vanishing,
    Exploding,
    NonFinite,
}

/// A layer's gradient norm, named.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerNorm {
    pub layer: String,
    pub norm: f64,
}

/// One step's alarm, with the layers and figures it is about.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum GradientAlarm {
    /// First-layer norm over last-layer norm below [`VANISHING_RATIO`].
    Vanishing {
        first: LayerNorm,
        last: LayerNorm,
        ratio: f64,
    },
    /// First-layer norm over last-layer norm above [`EXPLODING_RATIO`].
    Exploding {
        first: LayerNorm,
        last: LayerNorm,
        ratio: f64,
    },
    /// Every layer whose norm is NaN or infinite.
    NonFinite { layers: Vec<LayerNorm> },
}

impl GradientAlarm {
    pub fn kind(&self) -> AlarmKind {
        match self {
            GradientAlarm::Vanishing { .. } => AlarmKind::Vanishing,
            GradientAlarm::Exploding { .. } => AlarmKind::Exploding,
            GradientAlarm::NonFinite { .. } => AlarmKind::NonFinite,
        }
    }
}

impl fmt::Display for GradientAlarm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (verb, bound, first, last, ratio) = match self {
            GradientAlarm::NonFinite { layers } => {
                write!(f, "gradient norm not finite in ")?;
                for (i, l) in layers.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}layer {} ({})", l.layer, l.norm)?;
                }
                return Ok(());
            }
            GradientAlarm::Vanishing { first, last, ratio } => (
                "vanish",
                format!("below {VANISHING_RATIO:.0e}"),
                first,
                last,
                ratio,
            ),
            GradientAlarm::Exploding { first, last, ratio } => (
                "explode",
                format!("above {EXPLODING_RATIO:.0e}"),
                first,
                last,
                ratio,
            ),
        };
        write!(
            f,
            "gradients {verb}: norm {:.2e} at the first layer {}, {:.2e} at the last layer {} (ratio {ratio:.2e}, {bound})",
            first.norm, first.layer, last.norm, last.layer
        )
    }
}

/// Checks one step's gradient norms, from the first parameterised layer to
/// the last: an alarm when a norm is not finite, or when first/last is below
/// [`VANISHING_RATIO`] or above [`EXPLODING_RATIO`]. Fewer than two layers only get the
/// finiteness check; a step where both ends are zero has no signal to compare and no alarm.
///
/// ```
/// use nabla_inspect::diagnostics::{check_gradients, AlarmKind, LayerNorm};
/// let norm = |layer: &str, norm| LayerNorm { layer: layer.into(), norm };
/// let alarm = check_gradients(&[norm("0: Linear", 1e-7), norm("2: Linear", 0.5)]).unwrap();
/// assert_eq!(alarm.kind(), AlarmKind::Vanishing);
/// assert_eq!(alarm.to_string(), "gradients vanish: norm 1.00e-7 at the first layer 0: Linear, \
///     5.00e-1 at the last layer 2: Linear (ratio 2.00e-7, below 1e-3)");
/// ```
pub fn check_gradients(norms: &[LayerNorm]) -> Option<GradientAlarm> {
    let non_finite: Vec<LayerNorm> = norms
        .iter()
        .filter(|l| !l.norm.is_finite())
        .cloned()
        .collect();
    if !non_finite.is_empty() {
        return Some(GradientAlarm::NonFinite { layers: non_finite });
    }
    let [first, .., last] = norms else {
        return None;
    };
    let (first, last, ratio) = (first.clone(), last.clone(), first.norm / last.norm);
    if ratio < VANISHING_RATIO {
        Some(GradientAlarm::Vanishing { first, last, ratio })
    } else if ratio > EXPLODING_RATIO {
        Some(GradientAlarm::Exploding { first, last, ratio })
    } else {
        None
    }
}

/// How often one kind of alarm went off during an epoch, with the first occurrence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlarmSummary {
    pub epoch: usize,
    pub kind: AlarmKind,
    pub steps: usize,
    pub of_steps: usize,
    pub first_step: usize,
    pub first: GradientAlarm,
}

impl fmt::Display for AlarmSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "epoch {}: in {} of {} steps, first at step {}: {}",
            self.epoch, self.steps, self.of_steps, self.first_step, self.first
        )
    }
}
