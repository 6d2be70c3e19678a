//! The fully connected (affine) layer `y = x·Wᵀ + b`, with PyTorch's `[out, in]` weight layout.

use crate::init::Init;
use crate::module::{Module, expect_dtype, invalid_input};
use crate::{Error, Result};
use nabla_core::{DType, Generator, Tensor};

/// `y = x·Wᵀ + b` over the last dim of `x`: `[..., in] -> [..., out]`.
///
/// The weight is stored `[out, in]` like `torch.nn.Linear`, so checkpoints load directly.
///
/// ```
/// use nabla_core::{DType, Generator, Tensor};
/// use nabla_nn::layers::Linear;
/// use nabla_nn::module::Module;
/// let layer = Linear::new(784, 100, DType::F32, &mut Generator::new(0));
/// assert_eq!(layer.describe(), "Linear(784 -> 100)");
/// let err = layer.try_forward(&Tensor::zeros(&[32, 700], DType::F32)).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "forward: Linear(784 -> 100): input has shape [32, 700], expected last dim 784"
/// );
/// ```
pub struct Linear {
    weight: Tensor,
    bias: Option<Tensor>,
}

impl Linear {
    /// PyTorch's default initialisation: weight and bias from `U(−1/√in, 1/√in)`.
    #[track_caller]
    pub fn new(in_features: usize, out_features: usize, dtype: DType, rng: &mut Generator) -> Self {
        let weight = Init::linear_default().tensor(&[out_features, in_features], dtype, rng);
        let bound = 1.0 / (in_features as f64).sqrt();
        let bias = Init::Uniform {
            low: -bound,
            high: bound,
        }
        .tensor(&[out_features], dtype, rng);
        Linear {
            weight: weight.requires_grad(),
            bias: Some(bias.requires_grad()),
        }
    }

    /// A weight drawn from `init` and, if `bias`, a zero bias.
    pub fn with_init(
        in_features: usize,
        out_features: usize,
        bias: bool,
        init: Init,
        dtype: DType,
        rng: &mut Generator,
    ) -> Result<Self> {
        let weight = init.try_tensor(&[out_features, in_features], dtype, rng)?;
        Ok(Linear {
            weight: weight.requires_grad(),
            bias: bias.then(|| Tensor::zeros(&[out_features], dtype).requires_grad()),
        })
    }

    /// A layer using the given tensors as its parameters (shared, not copied, and left as they
    /// are: mark them `requires_grad` to train them). The weight must be `[out, in]` and the
    /// bias `[out]`, both of one float dtype.
    pub fn from_parts(weight: Tensor, bias: Option<Tensor>) -> Result<Self> {
        let [out_features, _] = weight.shape() else {
            return Err(Error::invalid(
                "Linear",
                format!(
                    "the weight must be [out, in], got shape {:?}",
                    weight.shape()
                ),
            ));
        };
        if !weight.dtype().is_float() {
            return Err(Error::invalid(
                "Linear",
                format!("the weight must be f32 or f64, not {}", weight.dtype()),
            ));
        }
        if let Some(b) = &bias
            && (b.shape() != [*out_features] || b.dtype() != weight.dtype())
        {
            return Err(Error::invalid(
                "Linear",
                format!(
                    "the bias must be [{out_features}] of dtype {}, got shape {:?} of dtype {}",
                    weight.dtype(),
                    b.shape(),
                    b.dtype()
                ),
            ));
        }
        Ok(Linear { weight, bias })
    }

    /// Number of input features.
    pub fn in_features(&self) -> usize {
        self.weight.shape()[1]
    }

    /// Number of output features.
    pub fn out_features(&self) -> usize {
        self.weight.shape()[0]
    }

    /// The weight, `[out, in]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The bias, `[out]`, if the layer has one.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }
}

/// What [`Module::describe`] says of a linear layer of these sizes, also for layer specs that
/// are not built.
pub(crate) fn description(in_features: usize, out_features: usize, bias: bool) -> String {
    let bias = if bias { "" } else { ", bias=false" };
    format!("Linear({in_features} -> {out_features}{bias})")
}

impl Module for Linear {
    fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        expect_dtype(self, x, self.weight.dtype())?;
        if x.shape().last() != Some(&self.in_features()) {
            return Err(invalid_input(
                self,
                format!("shape {:?}", x.shape()),
                format!("last dim {}", self.in_features()),
            ));
        }
        Ok(x.try_linear(&self.weight, self.bias.as_ref())?)
    }

    fn describe(&self) -> String {
        description(self.in_features(), self.out_features(), self.bias.is_some())
    }

    fn type_name(&self) -> &'static str {
        "Linear"
    }

    fn local_parameters(&self) -> Vec<(String, Tensor)> {
        let mut out = vec![("weight".to_string(), self.weight.clone())];
        out.extend(self.bias.iter().map(|b| ("bias".to_string(), b.clone())));
        out
    }
}
