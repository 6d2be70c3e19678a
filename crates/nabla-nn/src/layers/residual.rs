//! A skip connection around a module: `x + f(x)`.

use crate::Result;
use crate::module::{Module, invalid_input};
use nabla_core::Tensor;

/// `x + f(x)` for a module `f` that keeps the shape of its input. Its child is named `inner`.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::{layers::{ReLU, Residual}, module::Module};
/// let block = Residual::new(Box::new(ReLU));
/// let y = block.forward(&Tensor::from_vec(vec![-1.0f32, 2.0], &[2]));
/// assert_eq!(y.to_vec::<f32>(), [-1.0, 4.0]);
/// ```
pub struct Residual {
    inner: Box<dyn Module>,
}

impl Residual {
    /// A skip connection around `inner`.
    pub fn new(inner: Box<dyn Module>) -> Self {
        Residual { inner }
    }
}

impl Module for Residual {
    fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        let fx = self.inner.try_forward(x)?;
        // Broadcasting would silently turn a shape bug into a different model.
        if fx.shape() != x.shape() {
            return Err(invalid_input(
                self,
                format!(
                    "shape {:?}, which the inner module maps to {:?}",
                    x.shape(),
                    fx.shape()
                ),
                "a module that keeps the shape".to_string(),
            ));
        }
        Ok(x.try_add(&fx)?)
    }

    fn describe(&self) -> String {
        format!("Residual({})", self.inner.describe().replace('\n', "\n  "))
    }

    fn type_name(&self) -> &'static str {
        "Residual"
    }

    fn children(&self) -> Vec<(String, &dyn Module)> {
        vec![("inner".to_string(), self.inner.as_ref())]
    }

    fn set_training(&mut self, training: bool) {
        self.inner.set_training(training);
    }
}
