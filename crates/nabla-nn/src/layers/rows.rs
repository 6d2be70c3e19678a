//! Images read row by row, the input of a recurrent network on pictures: each image becomes a
//! sequence of its rows, as in the row-by-row MNIST models (28 time steps of 28 features).

use crate::Result;
use crate::module::{Module, invalid_input};
use nabla_core::Tensor;

/// `[N, C, H, W] -> [N, H, C·W]` (and an unbatched `[C, H, W] -> [H, C·W]`): time step `t` is
/// row `t` of every channel side by side, batch first as the recurrent layers of a spec take
/// it. A permute and a reshape, so gradients flow through it (a view when `C` is 1); it has no
/// parameters. PyTorch writes it `x.permute(0, 2, 1, 3).reshape(N, H, C * W)`.
///
/// ```
/// use nabla_core::{DType, Tensor};
/// use nabla_nn::{layers::Rows, module::Module};
/// let y = Rows.forward(&Tensor::zeros(&[2, 1, 28, 28], DType::F32));
/// assert_eq!(y.shape(), &[2, 28, 28]);
/// let x = Tensor::arange(0.0f32, 8.0, 1.0).reshape(&[2, 2, 2]);
/// assert_eq!(Rows.forward(&x).to_vec::<f32>(), [0.0, 1.0, 4.0, 5.0, 2.0, 3.0, 6.0, 7.0]);
/// let err = Rows.try_forward(&Tensor::zeros(&[5, 784], DType::F32)).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "forward: Rows: input has shape [5, 784], expected images [N, C, H, W] or [C, H, W]"
/// );
/// ```
#[derive(Copy, Clone, Debug, Default)]
pub struct Rows;

impl Module for Rows {
    fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        let (permutation, shape) = match *x.shape() {
            [n, c, h, w] => (vec![0, 2, 1, 3], vec![n, h, c * w]),
            [c, h, w] => (vec![1, 0, 2], vec![h, c * w]),
            _ => {
                return Err(invalid_input(
                    self,
                    format!("shape {:?}", x.shape()),
                    "images [N, C, H, W] or [C, H, W]".to_string(),
                ));
            }
        };
        Ok(x.try_permute(&permutation)?.try_reshape(&shape)?)
    }

    fn describe(&self) -> String {
        "Rows".to_string()
    }

    fn type_name(&self) -> &'static str {
        "Rows"
    }
}
