//! `conv_transpose2d`, PyTorch's `ConvTranspose2d`: the adjoint of a convolution, which is
//! also how a convolution's input gradient is computed. As an operation of its own with its own
//! rule (the gradients of a transposed convolution are a convolution and a weight gradient),
//! gradients of gradients follow.

use super::conv2d::{batched, check_bias, check_extents, check_sizes, convolution};
use super::geometry::Geometry;
use super::weight::convolution_weight;
use crate::autograd::formula::{At, Binding, Formula, Local};
use crate::autograd::node::{Backward, Gradients};
use crate::error::{Error, Result};
use crate::kernels::dispatch_float;
use crate::ops::check_dtypes;
use crate::ops::window::{ConvTransposeOptions, transposed_output_size};
use crate::ops::{Save, ok, record};
use crate::tensor::Tensor;

/// The rule of `y = convᵀ(g, w)`: `dg = conv(dy, w)`, `dw = conv_weight(dy, g)`.
struct ConvolutionTransposeBackward(Geometry);

impl Backward for ConvolutionTransposeBackward {
    fn name(&self) -> &'static str {
        "ConvolutionTransposeBackward"
    }
    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        let inputs = vec![
            Local::map("conv2d({g}, {1})", Binding::Atom),
            Local::map("conv2d_weight({g}, {0})", Binding::Atom),
        ];
        Some(Formula::new(
            "conv_transpose2d({0}, {1})",
            Binding::Atom,
            "conv_transpose2d",
            inputs,
        ))
    }

    fn vjp(&self, saved: &[Tensor], grad: &Tensor, needs: &[bool]) -> Gradients {
        let (g, w) = (&saved[0], &saved[1]);
        smallvec::smallvec![
            needs[0].then(|| ok(convolution(grad, w, None, &self.0))),
            needs[1].then(|| ok(convolution_weight(grad, g, &self.0))),
        ]
    }

    fn jvp(&self, saved: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        let (g, w) = (&saved[0], &saved[1]);
        convolution_input(&tangents[0], w, &self.0)?.try_add(&convolution_input(
            g,
            &tangents[1],
            &self.0,
        )?)
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(convolution_input(&inputs[0], &inputs[1], &self.0))
    }
}

/// The recorded transposed convolution of `grad` (shaped like the output of the convolution
/// `g` describes) with that convolution's weight `w`: a tensor shaped like its input.
pub(super) fn convolution_input(grad: &Tensor, w: &Tensor, g: &Geometry) -> Result<Tensor> {
    const OP: &str = "conv_transpose2d";
    let shape = g.input_shape();
    crate::limits::allocation(OP, &shape, grad.dtype())?;
    let out = dispatch_float!(OP, grad.dtype(), T => {
        let data = grad.try_read(OP, |d: &[T]| {
            w.try_read(OP, |w: &[T]| super::kernels::input_grad(g, d, w))
        })??;
        Tensor::from_data(data, &shape)
    });
    Ok(record(
        out,
        &[grad, w],
        ConvolutionTransposeBackward(*g),
        &[Save::Input(0), Save::Input(1)],
    ))
}

impl Tensor {
    /// Transposed 2-d convolution of an `[N, Cin, H, W]` input (or an unbatched `[Cin, H, W]`)
    /// with a weight `[Cin, Cout/groups, kh, kw]` (PyTorch's layout) and an optional bias
    /// `[Cout]`: `torch.nn.functional.conv_transpose2d`. The output's spatial size is
    /// `(H−1)·stride − 2·padding + dilation·(k−1) + output_padding + 1`.
    ///
    /// ```
    /// use nabla_core::{DType, Tensor};
    /// use nabla_core::ops::window::ConvTransposeOptions;
    /// let x = Tensor::ones(&[1, 1, 2, 2], DType::F64);
    /// let w = Tensor::ones(&[1, 1, 2, 2], DType::F64);
    /// let o = ConvTransposeOptions { stride: [2, 2], ..Default::default() };
    /// assert_eq!(x.conv_transpose2d(&w, None, &o).shape(), &[1, 1, 4, 4]);
    /// let y = x.conv_transpose2d(&w, None, &ConvTransposeOptions::default());
    /// assert_eq!(y.to_vec::<f64>(), vec![1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0]);
    /// ```
    pub fn try_conv_transpose2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        options: &ConvTransposeOptions<2>,
    ) -> Result<Tensor> {
        const OP: &str = "conv_transpose2d";
        check_dtypes(
            OP,
            self,
            &[weight].into_iter().chain(bias).collect::<Vec<_>>(),
        )?;
        let (x, unbatched) = batched(OP, self, 4)?;
        let &[w_in, group_out, kh, kw] = weight.shape() else {
            return Err(Error::invalid(
                OP,
                format!(
                    "the weight must be [Cin, Cout/groups, kh, kw], got shape {:?}",
                    weight.shape()
                ),
            ));
        };
        let &[batch, in_channels, h, wd] = x.shape() else {
            unreachable!("batched gives 4 dims")
        };
        let o = options;
        let mismatch = |reason: String| Error::shapes(OP, self.shape(), weight.shape(), reason);
        if o.groups == 0 {
            return Err(Error::invalid(OP, "groups must be positive, got 0"));
        }
        if w_in != in_channels {
            return Err(mismatch(format!(
                "the weight's first dim ({w_in}) must equal the input's {in_channels} channels"
            )));
        }
        if in_channels % o.groups != 0 {
            return Err(mismatch(format!(
                "{} groups must divide the {in_channels} input channels",
                o.groups
            )));
        }
        check_extents(OP, o.padding, o.stride, o.dilation, [kh, kw])?;
        check_extents(OP, o.output_padding, o.stride, o.dilation, [kh, kw])?;
        let mut output = [0; 2];
        for (i, (&n, k)) in [h, wd].iter().zip([kh, kw]).enumerate() {
            let (s, p, d, op) = (
                o.stride[i],
                o.padding[i],
                o.dilation[i],
                o.output_padding[i],
            );
            if k == 0 || s == 0 || d == 0 {
                return Err(Error::invalid(
                    OP,
                    format!(
                        "kernel size, stride and dilation must be positive, got kernel {k}, \
                         stride {s}, dilation {d}"
                    ),
                ));
            }
            if op >= s && op >= d {
                return Err(Error::invalid(
                    OP,
                    format!(
                        "output padding {op} must be smaller than either the stride {s} or the \
                         dilation {d}"
                    ),
                ));
            }
            let size = transposed_output_size(n, k, s, p, op, d).unwrap_or(i128::MAX);
            if n == 0 || size <= 0 {
                let axis = ["height", "width"][i];
                return Err(mismatch(format!(
                    "the output would have {size} elements along the {axis} (input {n}, \
                     kernel {k}, stride {s}, padding {p}, dilation {d}, output padding {op})"
                )));
            }
            output[i] = usize::try_from(size).map_err(|_| {
                Error::invalid(
                    OP,
                    format!("an output size of {size} does not fit in memory"),
                )
            })?;
        }
        let out_channels = group_out * o.groups;
        check_bias(OP, bias, weight.shape(), out_channels)?;
        // The convolution this is the adjoint of: from the output back to the input.
        let g = Geometry {
            batch,
            in_channels: out_channels,
            out_channels: in_channels,
            groups: o.groups,
            input: output,
            output: [h, wd],
            kernel: [kh, kw],
            stride: o.stride,
            padding: o.padding,
            dilation: o.dilation,
        };
        check_sizes(OP, &g, self.dtype())?;
        let mut y = convolution_input(&x, weight, &g)?;
        if let Some(b) = bias {
            y = y.try_add(&b.try_reshape(&[out_channels, 1, 1])?)?;
        }
        if unbatched { y.try_squeeze(0) } else { Ok(y) }
    }

    /// Panicking form of [`Tensor::try_conv_transpose2d`].
    #[track_caller]
    pub fn conv_transpose2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        options: &ConvTransposeOptions<2>,
    ) -> Tensor {
        ok(self.try_conv_transpose2d(weight, bias, options))
    }
}
