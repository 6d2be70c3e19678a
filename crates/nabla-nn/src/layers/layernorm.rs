//! Layer normalisation over the trailing dims of each sample, with a learned scale and shift.

use crate::module::{Module, expect_dtype, invalid_input};
use crate::{Error, Result};
use nabla_core::{DType, Tensor};

/// PyTorch's default.
const EPS: f64 = 1e-5;

/// What [`Module::describe`] says of a layer norm, also for layer specs that are not built.
pub(crate) fn description(normalized_shape: &[usize], eps: f64) -> String {
    format!("LayerNorm({normalized_shape:?}, eps={eps})")
}

/// The description of a new [`LayerNorm`] over `normalized_shape`.
pub(crate) fn default_description(normalized_shape: &[usize]) -> String {
    description(normalized_shape, EPS)
}

/// `y = (x − mean)/√(var + eps)·weight + bias`, statistics over the last
/// `normalized_shape.len()` dims (biased variance, eps 1e-5, as in `torch.nn.LayerNorm`).
///
/// ```
/// use nabla_core::{DType, Tensor};
/// use nabla_nn::{layers::LayerNorm, module::Module};
/// let ln = LayerNorm::new(&[2], DType::F64);
/// let y = ln.forward(&Tensor::from_vec(vec![1.0f64, 3.0], &[1, 2]));
/// assert!((y.to_vec::<f64>()[1] - 1.0).abs() < 1e-4);
/// ```
pub struct LayerNorm {
    normalized_shape: Vec<usize>,
    eps: f64,
    weight: Tensor,
    bias: Tensor,
}

impl LayerNorm {
    /// Weight 1 and bias 0 of shape `normalized_shape` (non-empty, no zero dims).
    pub fn try_new(normalized_shape: &[usize], dtype: DType) -> Result<Self> {
        if normalized_shape.is_empty() || normalized_shape.contains(&0) || !dtype.is_float() {
            return Err(Error::invalid(
                "LayerNorm",
                format!(
                    "needs a non-empty normalized shape without zero dims and a float dtype, got {normalized_shape:?} and {dtype}"
                ),
            ));
        }
        Ok(LayerNorm {
            normalized_shape: normalized_shape.to_vec(),
            eps: EPS,
            weight: Tensor::ones(normalized_shape, dtype).requires_grad(),
            bias: Tensor::zeros(normalized_shape, dtype).requires_grad(),
        })
    }

    /// Panicking form of [`LayerNorm::try_new`].
    #[track_caller]
    pub fn new(normalized_shape: &[usize], dtype: DType) -> Self {
        crate::error::ok(Self::try_new(normalized_shape, dtype))
    }

    /// The per-element scale.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The per-element shift.
    pub fn bias(&self) -> &Tensor {
        &self.bias
    }
}

/// Layer normalisation as PyTorch's `F.layer_norm`: `x` normalised over its trailing dims
/// `normalized_shape` (biased variance), then scaled by `weight` and shifted by `bias` (both of
/// shape `normalized_shape`) when given.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::layers::layer_norm;
/// let y = layer_norm(&Tensor::from_vec(vec![1.0f64, 3.0], &[1, 2]), &[2], None, None, 1e-5).unwrap();
/// assert!((y.to_vec::<f64>()[1] - 1.0).abs() < 1e-4);
/// assert!(layer_norm(&Tensor::from_vec(vec![1.0f64, 3.0], &[1, 2]), &[3], None, None, 1e-5).is_err());
/// ```
pub fn layer_norm(
    x: &Tensor,
    normalized_shape: &[usize],
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
) -> Result<Tensor> {
    const OP: &str = "layer_norm";
    if normalized_shape.is_empty() || !x.shape().ends_with(normalized_shape) {
        return Err(Error::invalid(
            OP,
            format!(
                "normalized_shape {normalized_shape:?} must be the non-empty trailing dims of the input, of shape {:?}",
                x.shape()
            ),
        ));
    }
    for (name, t) in [("weight", weight), ("bias", bias)] {
        if let Some(t) = t.filter(|t| t.shape() != normalized_shape || t.dtype() != x.dtype()) {
            return Err(Error::invalid(
                OP,
                format!(
                    "{name} is {} of shape {:?}, expected {} of shape {normalized_shape:?}",
                    t.dtype(),
                    t.shape(),
                    x.dtype()
                ),
            ));
        }
    }
    let dims: Vec<isize> = (1..=normalized_shape.len() as isize).map(|d| -d).collect();
    let mean = x.try_mean_dims(&dims, true)?;
    let var = x.try_var_dims(&dims, true, 0)?;
    let mut y = x.try_sub(&mean)?.try_div(&var.add_scalar(eps).sqrt())?;
    if let Some(w) = weight {
        y = y.try_mul(w)?;
    }
    if let Some(b) = bias {
        y = y.try_add(b)?;
    }
    Ok(y)
}

impl Module for LayerNorm {
    fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        expect_dtype(self, x, self.weight.dtype())?;
        if !x.shape().ends_with(&self.normalized_shape) {
            return Err(invalid_input(
                self,
                format!("shape {:?}", x.shape()),
                format!("trailing dims {:?}", self.normalized_shape),
            ));
        }
        layer_norm(
            x,
            &self.normalized_shape,
            Some(&self.weight),
            Some(&self.bias),
            self.eps,
        )
    }

    fn describe(&self) -> String {
        description(&self.normalized_shape, self.eps)
    }

    fn type_name(&self) -> &'static str {
        "LayerNorm"
    }

    fn local_parameters(&self) -> Vec<(String, Tensor)> {
        vec![
            ("weight".to_string(), self.weight.clone()),
            ("bias".to_string(), self.bias.clone()),
        ]
    }
}
