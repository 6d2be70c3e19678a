//! The weight gradient of a convolution as an operation of its own,
//! `torch.nn.grad.conv2d_weight`: a convolution's backward computes it, and its rule (the
//! gradients of a weight gradient are a transposed convolution and a convolution) makes
//! gradients of gradients follow.

use super::conv2d::{check_sizes, convolution, plan};
use super::geometry::Geometry;
use super::transpose::convolution_input;
use crate::autograd::formula::{At, Binding, Formula, Local};
use crate::autograd::node::{Backward, Gradients};
use crate::error::{Error, Result};
use crate::kernels::dispatch_float;
use crate::ops::check_dtypes;
use crate::ops::window::ConvOptions;
use crate::ops::{Save, ok, record};
use crate::tensor::Tensor;

/// The rule of `dw = conv_weight(x, g)`: `dx = convᵀ(g, ddw)`, `dg = conv(x, ddw)`.
struct ConvolutionWeightBackward(Geometry);

impl Backward for ConvolutionWeightBackward {
    fn name(&self) -> &'static str {
        "ConvolutionWeightBackward"
    }
    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        let inputs = vec![
            Local::map("conv_transpose2d({1}, {g})", Binding::Atom),
            Local::map("conv2d({0}, {g})", Binding::Atom),
        ];
        Some(Formula::new(
            "conv2d_weight({0}, {1})",
            Binding::Atom,
            "conv2d_weight",
            inputs,
        ))
    }

    fn vjp(&self, saved: &[Tensor], grad: &Tensor, needs: &[bool]) -> Gradients {
        let (x, g) = (&saved[0], &saved[1]);
        smallvec::smallvec![
            needs[0].then(|| ok(convolution_input(g, grad, &self.0))),
            needs[1].then(|| ok(convolution(x, grad, None, &self.0))),
        ]
    }

    fn jvp(&self, saved: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        let (x, g) = (&saved[0], &saved[1]);
        convolution_weight(&tangents[0], g, &self.0)?.try_add(&convolution_weight(
            x,
            &tangents[1],
            &self.0,
        )?)
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(convolution_weight(&inputs[0], &inputs[1], &self.0))
    }
}

/// The recorded weight gradient of the convolution `g` describes, of input `x` whose output
/// has gradient `grad`.
pub(super) fn convolution_weight(x: &Tensor, grad: &Tensor, g: &Geometry) -> Result<Tensor> {
    const OP: &str = "conv2d_weight";
    let shape = g.weight_shape();
    crate::limits::allocation(OP, &shape, x.dtype())?;
    let out = dispatch_float!(OP, x.dtype(), T => {
        let data = x.try_read(OP, |x: &[T]| {
            grad.try_read(OP, |d: &[T]| super::kernels::weight_grad(g, x, d))
        })??;
        Tensor::from_data(data, &shape)
    });
    Ok(record(
        out,
        &[x, grad],
        ConvolutionWeightBackward(*g),
        &[Save::Input(0), Save::Input(1)],
    ))
}

impl Tensor {
    /// The gradient with respect to a weight of shape `weight_shape` of
    /// `self.conv2d(weight, _, options)` whose output has gradient `grad_output`:
    /// `torch.nn.grad.conv2d_weight`. Batched inputs only.
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// use nabla_core::ops::window::ConvOptions;
    /// let x = Tensor::from_vec((0..9).map(f64::from).collect(), &[1, 1, 3, 3]);
    /// let g = Tensor::ones(&[1, 1, 2, 2], DType::F64);
    /// let dw = x.conv2d_weight([1, 1, 2, 2], &g, &ConvOptions::default());
    /// assert_eq!(dw.to_vec::<f64>(), vec![8.0, 12.0, 20.0, 24.0]);
    /// ```
    pub fn try_conv2d_weight(
        &self,
        weight_shape: [usize; 4],
        grad_output: &Tensor,
        options: &ConvOptions<2>,
    ) -> Result<Tensor> {
        const OP: &str = "conv2d_weight";
        check_dtypes(OP, self, &[grad_output])?;
        let Ok(x) = <[usize; 4]>::try_from(self.shape()) else {
            return Err(Error::invalid(
                OP,
                format!(
                    "the input must be [N, C, H, W], got shape {:?}",
                    self.shape()
                ),
            ));
        };
        let g = plan(OP, x, weight_shape, options, (self.shape(), &weight_shape))?;
        if grad_output.shape() != g.output_shape() {
            return Err(Error::shapes(
                OP,
                self.shape(),
                grad_output.shape(),
                format!(
                    "the output's gradient must have the convolution's output shape {:?}",
                    g.output_shape()
                ),
            ));
        }
        check_sizes(OP, &g, self.dtype())?;
        convolution_weight(self, grad_output, &g)
    }

    /// Panicking form of [`Tensor::try_conv2d_weight`].
    #[track_caller]
    pub fn conv2d_weight(
        &self,
        weight_shape: [usize; 4],
        grad_output: &Tensor,
        options: &ConvOptions<2>,
    ) -> Tensor {
        ok(self.try_conv2d_weight(weight_shape, grad_output, options))
    }
}
