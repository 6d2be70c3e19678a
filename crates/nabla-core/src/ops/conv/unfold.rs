//! `unfold` (im2col), `torch.nn.functional.unfold`: every window of the input as a column.
//! Its gradient adds each column back where it came from, which is the transposed convolution
//! with a one-hot weight per window position, so gradients of gradients follow.

use super::conv2d::{batched, check_sizes, plan};
use super::geometry::Geometry;
use super::transpose::convolution_input;
use crate::autograd::formula::{At, Binding, Formula, Local};
use crate::autograd::node::{Backward, Gradients};
use crate::error::{Error, Result};
use crate::kernels::dispatch_float;
use crate::ops::window::ConvOptions;
use crate::ops::{Save, ok, record};
use crate::tensor::Tensor;

/// The rule of unfold over the geometry of a convolution with one group per input channel
/// and `kh · kw` outputs per group.
struct Im2ColBackward(Geometry);

impl Backward for Im2ColBackward {
    fn name(&self) -> &'static str {
        "Im2ColBackward"
    }
    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        let inputs = vec![Local::map(
            "fold({g}) (overlapping patches added)",
            Binding::Atom,
        )];
        Some(Formula::new("im2col({0})", Binding::Atom, "im2col", inputs))
    }

    fn vjp(&self, _: &[Tensor], grad: &Tensor, needs: &[bool]) -> Gradients {
        smallvec::smallvec![needs[0].then(|| ok(fold(grad, &self.0)))]
    }

    fn jvp(&self, _: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        unfold(&tangents[0], &self.0)
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(unfold(&inputs[0], &self.0))
    }
}

/// The adjoint of unfold: columns `[N, C·kh·kw, L]` added back onto an `[N, C, H, W]` input,
/// as the transposed convolution with the one-hot weight `[C·kh·kw, 1, kh, kw]`.
fn fold(columns: &Tensor, g: &Geometry) -> Result<Tensor> {
    let taps = g.kernel[0] * g.kernel[1];
    let weight = Tensor::try_eye(taps, columns.dtype())?
        .try_reshape(&[1, taps, 1, g.kernel[0], g.kernel[1]])?
        .try_expand(&[g.in_channels, taps, 1, g.kernel[0], g.kernel[1]])?
        .try_contiguous()?
        .try_reshape(&g.weight_shape())?;
    let grad = columns.try_reshape(&g.output_shape())?;
    convolution_input(&grad, &weight, g)
}

/// The recorded unfold of a batched `x` over the geometry `g`.
fn unfold(x: &Tensor, g: &Geometry) -> Result<Tensor> {
    const OP: &str = "unfold";
    let shape = [g.batch, g.out_channels, g.positions()];
    crate::limits::allocation(OP, &shape, x.dtype())?;
    let out = dispatch_float!(OP, x.dtype(), T => {
        let data = x.try_read(OP, |x: &[T]| super::kernels::unfold(g, x))?;
        Tensor::from_data(data, &shape)
    });
    Ok(record(out, &[x], Im2ColBackward(*g), &[] as &[Save]))
}

impl Tensor {
    /// Every `kernel`-sized window of an `[N, C, H, W]` input (or an unbatched `[C, H, W]`) as
    /// a column: `[N, C·kh·kw, L]` with `L` the number of windows, rows ordered by channel, then
    /// kernel row, then kernel column (im2col, `torch.nn.functional.unfold`). Uses the stride,
    /// padding and dilation of `options`; its groups must be 1.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// use nabla_core::ops::window::ConvOptions;
    /// let x = Tensor::from_vec((1..=9).map(f64::from).collect(), &[1, 1, 3, 3]);
    /// let cols = x.unfold([2, 2], &ConvOptions::default());
    /// assert_eq!(cols.shape(), &[1, 4, 4]);
    /// assert_eq!(&cols.to_vec::<f64>()[..4], &[1.0, 2.0, 4.0, 5.0]);
    /// ```
    pub fn try_unfold(&self, kernel: [usize; 2], options: &ConvOptions<2>) -> Result<Tensor> {
        const OP: &str = "unfold";
        self.check_float(OP)?;
        if options.groups != 1 {
            return Err(Error::invalid(
                OP,
                format!("takes no groups, got groups {}", options.groups),
            ));
        }
        let (x, unbatched) = batched(OP, self, 4)?;
        let &[n, channels, h, w] = x.shape() else {
            unreachable!("batched gives 4 dims")
        };
        let too_large = || {
            Error::invalid(
                OP,
                format!(
                    "a {}×{} kernel over {channels} channels gives more rows than fit in memory (input shape {:?})",
                    kernel[0],
                    kernel[1],
                    self.shape()
                ),
            )
        };
        let taps = kernel[0].checked_mul(kernel[1]).ok_or_else(too_large)?;
        let rows = channels.checked_mul(taps).ok_or_else(too_large)?;
        let one_hot = [rows, 1, kernel[0], kernel[1]];
        let o = ConvOptions {
            groups: channels.max(1),
            ..*options
        };
        let g = plan(
            OP,
            [n, channels, h, w],
            one_hot,
            &o,
            (self.shape(), &kernel),
        )?;
        check_sizes(OP, &g, self.dtype())?;
        let y = unfold(&x, &g)?;
        if unbatched { y.try_squeeze(0) } else { Ok(y) }
    }

    /// Panicking form of [`Tensor::try_unfold`].
    #[track_caller]
    pub fn unfold(&self, kernel: [usize; 2], options: &ConvOptions<2>) -> Tensor {
        ok(self.try_unfold(kernel, options))
    }
}
