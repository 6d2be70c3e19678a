//! What each layer of a `Sequential` network is, as far as the diagnostics care: its kind (from
//! its PyTorch class name, `Module::type_name`) decides the histogram range of its outputs and whether saturated or dead
//! units are counted.

use serde::{Deserialize, Serialize};

/// The kinds of layer the diagnostics treat differently.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayerKind {
    Linear,
    /// A convolution (`Conv1d`, `Conv2d`, `ConvTranspose2d`): its units are its channels.
    Conv,
    BatchNorm,
    /// Outputs in (0, 1); saturated below 0.01 or above 0.99.
    Sigmoid,
    /// Outputs in (-1, 1); saturated where |y| > 0.99.
    Tanh,
    /// A unit is dead when its output is exactly 0 for every sample of the batch.
    Relu,
    /// A recurrent layer (`RNN`, `LSTM`, `GRU`): its gradient through time is recorded.
    Recurrent,
    Other,
}

impl LayerKind {
    /// The kind of a layer of class `type_name` ([`Module::type_name`]).
    ///
    /// ```
    /// use nabla_core::{DType, Generator};
    /// use nabla_inspect::diagnostics::LayerKind;
    /// use nabla_nn::layers::{LeakyReLU, Linear, ReLU};
    /// use nabla_nn::module::Module;
    /// let linear = Linear::new(784, 100, DType::F32, &mut Generator::new(0));
    /// assert_eq!(LayerKind::of(linear.type_name()), LayerKind::Linear);
    /// assert_eq!(LayerKind::of(ReLU.type_name()), LayerKind::Relu);
    /// assert_eq!(LayerKind::of("Conv2d"), LayerKind::Conv);
    /// assert_eq!(LayerKind::of("LSTM"), LayerKind::Recurrent);
    /// assert_eq!(LayerKind::of(LeakyReLU::default().type_name()), LayerKind::Other);
    /// ```
    ///
    /// [`Module::type_name`]: nabla_nn::module::Module::type_name
    pub fn of(type_name: &str) -> LayerKind {
        match type_name {
            "Linear" => LayerKind::Linear,
            "Conv1d" | "Conv2d" | "Conv3d" | "ConvTranspose2d" => LayerKind::Conv,
            "BatchNorm1d" | "BatchNorm2d" | "BatchNorm3d" => LayerKind::BatchNorm,
            "Sigmoid" => LayerKind::Sigmoid,
            "Tanh" => LayerKind::Tanh,
            "ReLU" => LayerKind::Relu,
            "RNN" | "LSTM" | "GRU" => LayerKind::Recurrent,
            _ => LayerKind::Other,
        }
    }

    /// Whether the layer is a non-linearity, whose outputs are the "activations" of the
    /// textbook's histograms.
    pub fn is_activation(self) -> bool {
        matches!(self, LayerKind::Sigmoid | LayerKind::Tanh | LayerKind::Relu)
    }

    /// The fixed histogram range of the layer's outputs, when it has one.
    pub fn output_range(self) -> Option<(f64, f64)> {
        match self {
            LayerKind::Sigmoid => Some((0.0, 1.0)),
            LayerKind::Tanh => Some((-1.0, 1.0)),
            _ => None,
        }
    }

    /// The fraction of outputs in the flat parts of a sigmoid or tanh, where the derivative
    /// is below 0.01 (sigmoid) or 0.02 (tanh) and gradients barely pass.
    ///
    /// ```
    /// use nabla_inspect::diagnostics::LayerKind;
    /// assert_eq!(LayerKind::Sigmoid.saturated(&[0.005, 0.5, 0.995, 0.3]), Some(0.5));
    /// assert_eq!(LayerKind::Tanh.saturated(&[-0.995, 0.5]), Some(0.5));
    /// assert_eq!(LayerKind::Relu.saturated(&[0.0]), None);
    /// ```
    pub fn saturated(self, outputs: &[f64]) -> Option<f64> {
        let saturated = |y: f64| match self {
            LayerKind::Sigmoid => !(0.01..=0.99).contains(&y),
            _ => y.abs() > 0.99,
        };
        matches!(self, LayerKind::Sigmoid | LayerKind::Tanh).then(|| {
            outputs.iter().filter(|&&y| saturated(y)).count() as f64 / outputs.len().max(1) as f64
        })
    }

    /// For a ReLU output of shape `[batch, units]` (row-major), the fraction of units that are
    /// exactly 0 for every sample: units no gradient reaches. A convolution's channels are its
    /// units: give its output with the channels last, `[batch, positions..., channels]`.
    ///
    /// ```
    /// use nabla_inspect::diagnostics::LayerKind;
    /// // Two samples of three units: unit 1 is dead, units 0 and 2 fire once.
    /// assert_eq!(LayerKind::Relu.dead(&[0.0, 0.0, 2.0, 1.0, 0.0, 0.0], 3), Some(1.0 / 3.0));
    /// ```
    pub fn dead(self, outputs: &[f64], units: usize) -> Option<f64> {
        (self == LayerKind::Relu && units > 0).then(|| {
            let dead = (0..units)
                .filter(|&u| outputs.iter().skip(u).step_by(units).all(|&y| y == 0.0))
                .count();
            dead as f64 / units as f64
        })
    }
}
