//! Flattening each sample to one dim, PyTorch's `nn.Flatten()`: the bridge from images to
//! fully connected layers.

use crate::Result;
use crate::module::{Module, invalid_input};
use nabla_core::Tensor;

/// `[N, d1, d2, ...] -> [N, d1·d2·...]`: every dim after the batch dim merged into one, as
/// `torch.nn.Flatten(start_dim=1, end_dim=-1)`. A view, so no data is copied for a contiguous
/// input; it has no parameters.
///
/// ```
/// use nabla_core::{DType, Tensor};
/// use nabla_nn::{layers::Flatten, module::Module};
/// let y = Flatten.forward(&Tensor::zeros(&[2, 1, 28, 28], DType::F32));
/// assert_eq!(y.shape(), &[2, 784]);
/// assert_eq!(Flatten.describe(), "Flatten(start_dim=1, end_dim=-1)");
/// let err = Flatten.try_forward(&Tensor::zeros(&[5], DType::F32)).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "forward: Flatten(start_dim=1, end_dim=-1): input has shape [5], expected [N, ...] with at least 2 dims"
/// );
/// ```
#[derive(Copy, Clone, Debug, Default)]
pub struct Flatten;

impl Module for Flatten {
    fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        if x.ndim() < 2 {
            return Err(invalid_input(
                self,
                format!("shape {:?}", x.shape()),
                "[N, ...] with at least 2 dims".to_string(),
            ));
        }
        Ok(x.try_flatten(1, -1)?)
    }

    fn describe(&self) -> String {
        "Flatten(start_dim=1, end_dim=-1)".to_string()
    }

    fn type_name(&self) -> &'static str {
        "Flatten"
    }
}
