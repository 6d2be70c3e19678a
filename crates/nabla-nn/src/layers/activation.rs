//! Element-wise non-linearities and softmax as modules, so they can sit in a [`crate::module::Sequential`].

use crate::Result;
use crate::module::{Module, expect_float};
use nabla_core::Tensor;

macro_rules! activation {
    ($($(#[$doc:meta])* $name:ident => $op:ident;)*) => {
        $(
            $(#[$doc])*
            #[derive(Copy, Clone, Debug, Default)]
            pub struct $name;

            impl Module for $name {
                fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
                    Ok(x.$op()?)
                }

                fn describe(&self) -> String {
                    stringify!($name).to_string()
                }

                fn type_name(&self) -> &'static str {
                    stringify!($name)
                }
            }
        )*
    };
}

activation! {
    /// `max(x, 0)`.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// use nabla_nn::{layers::ReLU, module::Module};
    /// let y = ReLU.forward(&Tensor::from_vec(vec![-1.0f32, 2.0], &[2]));
    /// assert_eq!(y.to_vec::<f32>(), [0.0, 2.0]);
    /// ```
    ReLU => try_relu;
    /// The logistic function `1/(1+e⁻ˣ)`.
    Sigmoid => try_sigmoid;
    /// The hyperbolic tangent.
    Tanh => try_tanh;
    /// The exact GELU `x·Φ(x)` (PyTorch's default, not the tanh approximation).
    GELU => try_gelu;
}

/// `x` where positive, `negative_slope·x` elsewhere.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::{layers::LeakyReLU, module::Module};
/// let layer = LeakyReLU::new(0.1);
/// assert_eq!(layer.describe(), "LeakyReLU(0.1)");
/// assert_eq!(layer.forward(&Tensor::from_vec(vec![-2.0f64, 3.0], &[2])).to_vec::<f64>(), [-0.2, 3.0]);
/// ```
#[derive(Copy, Clone, Debug)]
pub struct LeakyReLU {
    negative_slope: f64,
}

impl LeakyReLU {
    /// A leaky ReLU with this slope for negative inputs.
    pub fn new(negative_slope: f64) -> Self {
        LeakyReLU { negative_slope }
    }
}

/// PyTorch's default slope, 0.01.
impl Default for LeakyReLU {
    fn default() -> Self {
        LeakyReLU::new(0.01)
    }
}

impl Module for LeakyReLU {
    fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        // The core has only a panicking leaky_relu, whose one failure is an integer dtype.
        expect_float(self, x)?;
        Ok(x.leaky_relu(self.negative_slope))
    }

    fn describe(&self) -> String {
        format!("LeakyReLU({})", self.negative_slope)
    }

    fn type_name(&self) -> &'static str {
        "LeakyReLU"
    }
}

/// Softmax along `dim` (negative counts from the end).
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::{layers::Softmax, module::Module};
/// let p = Softmax::new(-1).forward(&Tensor::from_vec(vec![0.0f64, 0.0], &[1, 2]));
/// assert_eq!(p.to_vec::<f64>(), [0.5, 0.5]);
/// ```
#[derive(Copy, Clone, Debug)]
pub struct Softmax {
    dim: isize,
}

impl Softmax {
    /// Softmax along `dim`.
    pub fn new(dim: isize) -> Self {
        Softmax { dim }
    }
}

impl Module for Softmax {
    fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.try_softmax(self.dim)?)
    }

    fn describe(&self) -> String {
        format!("Softmax(dim={})", self.dim)
    }

    fn type_name(&self) -> &'static str {
        "Softmax"
    }
}
