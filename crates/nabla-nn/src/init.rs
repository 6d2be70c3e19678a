//! Weight initialisation with PyTorch's formulas (`torch.nn.init`): Xavier/Glorot and
//! He/Kaiming in their uniform and normal forms, plain normal and uniform, zeros and ones. Every
//! draw comes from a caller's [`Generator`], so a seed fixes the initial model.

use crate::{Error, Result};
use nabla_core::{DType, Generator, Tensor};

/// The non-linearity a layer feeds, which sets the gain of Xavier and Kaiming initialisation.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Activation {
    /// No non-linearity (also convolutions).
    Linear,
    Sigmoid,
    Tanh,
    Relu,
    /// Leaky ReLU with this negative slope.
    LeakyRelu(f64),
    Selu,
}

/// PyTorch's `calculate_gain`: 1 for linear and sigmoid, 5/3 for tanh, √2 for ReLU,
/// √(2/(1+s²)) for leaky ReLU with slope `s`, 3/4 for SELU.
///
/// ```
/// use nabla_nn::init::{gain, Activation};
/// assert_eq!(gain(Activation::Relu), 2f64.sqrt());
/// assert_eq!(gain(Activation::Tanh), 5.0 / 3.0);
/// ```
pub fn gain(activation: Activation) -> f64 {
    match activation {
        Activation::Linear | Activation::Sigmoid => 1.0,
        Activation::Tanh => 5.0 / 3.0,
        Activation::Relu => 2f64.sqrt(),
        Activation::LeakyRelu(slope) => (2.0 / (1.0 + slope * slope)).sqrt(),
        Activation::Selu => 0.75,
    }
}

/// Which fan Kaiming initialisation preserves: the forward pass's variance (`FanIn`) or the
/// backward pass's (`FanOut`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FanMode {
    FanIn,
    FanOut,
}

/// `(fan_in, fan_out)` of a weight shaped like PyTorch's (`[out, in]` for a linear layer,
/// `[out, in, k...]` for a convolution, whose kernel size multiplies both).
///
/// ```
/// use nabla_nn::init::fans;
/// assert_eq!(fans(&[100, 784]).unwrap(), (784, 100));
/// assert!(fans(&[10]).is_err());
/// ```
pub fn fans(shape: &[usize]) -> Result<(usize, usize)> {
    if shape.len() < 2 {
        return Err(Error::invalid(
            "init",
            format!("fan in and fan out need a weight of at least 2 dims, got shape {shape:?}"),
        ));
    }
    let receptive: usize = shape[2..].iter().product();
    Ok((shape[1] * receptive, shape[0] * receptive))
}

/// How to fill a new weight.
///
/// ```
/// use nabla_core::{DType, Generator};
/// use nabla_nn::init::{Activation, FanMode, Init};
/// let mut rng = Generator::new(0);
/// let init = Init::KaimingUniform { mode: FanMode::FanIn, activation: Activation::Relu };
/// let w = init.tensor(&[100, 50], DType::F32, &mut rng);
/// let bound = (6.0f64 / 50.0).sqrt();
/// assert!(w.to_f64_vec().iter().all(|v| v.abs() <= bound));
/// ```
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Init {
    /// `U(−a, a)` with `a = gain·√(6/(fan_in + fan_out))`.
    XavierUniform {
        gain: f64,
    },
    /// `N(0, σ²)` with `σ = gain·√(2/(fan_in + fan_out))`.
    XavierNormal {
        gain: f64,
    },
    /// `U(−b, b)` with `b = gain(activation)·√(3/fan)`.
    KaimingUniform {
        mode: FanMode,
        activation: Activation,
    },
    /// `N(0, σ²)` with `σ = gain(activation)/√fan`.
    KaimingNormal {
        mode: FanMode,
        activation: Activation,
    },
    /// `N(mean, std²)`.
    Normal {
        mean: f64,
        std: f64,
    },
    /// `U(low, high)`.
    Uniform {
        low: f64,
        high: f64,
    },
    Zeros,
    Ones,
}

impl Init {
    /// The initialisation of PyTorch's `nn.Linear` weight: Kaiming uniform for a leaky ReLU of
    /// slope √5, which comes to `U(−1/√fan_in, 1/√fan_in)`.
    pub fn linear_default() -> Init {
        Init::KaimingUniform {
            mode: FanMode::FanIn,
            activation: Activation::LeakyRelu(5f64.sqrt()),
        }
    }

    /// A new tensor of `shape` drawn from this distribution; errors for an integer dtype, for
    /// Xavier/Kaiming on fewer than 2 dims or a zero fan, and for invalid bounds.
    pub fn try_tensor(&self, shape: &[usize], dtype: DType, rng: &mut Generator) -> Result<Tensor> {
        if !dtype.is_float() {
            return Err(Error::invalid(
                "init",
                format!("weights must be f32 or f64, not {dtype}"),
            ));
        }
        let uniform = |bound: f64, rng: &mut Generator| -> Result<Tensor> {
            Ok(Tensor::try_uniform_with(shape, -bound, bound, dtype, rng)?)
        };
        let normal = |mean: f64, std: f64, rng: &mut Generator| -> Result<Tensor> {
            Ok(Tensor::try_randn_with(shape, dtype, rng)?
                .try_mul_scalar(std)?
                .try_add_scalar(mean)?)
        };
        Ok(match *self {
            Init::XavierUniform { gain } => {
                let (fan_in, fan_out) = nonzero_fans(shape)?;
                uniform(gain * (6.0 / (fan_in + fan_out) as f64).sqrt(), rng)?
            }
            Init::XavierNormal { gain } => {
                let (fan_in, fan_out) = nonzero_fans(shape)?;
                normal(0.0, gain * (2.0 / (fan_in + fan_out) as f64).sqrt(), rng)?
            }
            Init::KaimingUniform { mode, activation } => {
                let fan = mode_fan(shape, mode)?;
                uniform(gain(activation) * (3.0 / fan).sqrt(), rng)?
            }
            Init::KaimingNormal { mode, activation } => {
                let fan = mode_fan(shape, mode)?;
                normal(0.0, gain(activation) / fan.sqrt(), rng)?
            }
            Init::Normal { mean, std } => {
                if std.is_nan() || std < 0.0 {
                    return Err(Error::invalid(
                        "init",
                        format!("normal std must be non-negative, got {std}"),
                    ));
                }
                normal(mean, std, rng)?
            }
            Init::Uniform { low, high } => {
                if low.is_nan() || high.is_nan() || low > high {
                    return Err(Error::invalid(
                        "init",
                        format!("uniform bounds must satisfy low <= high, got [{low}, {high})"),
                    ));
                }
                Tensor::try_uniform_with(shape, low, high, dtype, rng)?
            }
            Init::Zeros => Tensor::try_zeros(shape, dtype)?,
            Init::Ones => Tensor::try_ones(shape, dtype)?,
        })
    }

    /// Panicking form of [`Init::try_tensor`].
    #[track_caller]
    pub fn tensor(&self, shape: &[usize], dtype: DType, rng: &mut Generator) -> Tensor {
        match self.try_tensor(shape, dtype, rng) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

fn nonzero_fans(shape: &[usize]) -> Result<(usize, usize)> {
    let (fan_in, fan_out) = fans(shape)?;
    if fan_in == 0 || fan_out == 0 {
        return Err(Error::invalid(
            "init",
            format!("cannot scale by the fans of an empty weight of shape {shape:?}"),
        ));
    }
    Ok((fan_in, fan_out))
}

fn mode_fan(shape: &[usize], mode: FanMode) -> Result<f64> {
    let (fan_in, fan_out) = nonzero_fans(shape)?;
    Ok(match mode {
        FanMode::FanIn => fan_in,
        FanMode::FanOut => fan_out,
    } as f64)
}
