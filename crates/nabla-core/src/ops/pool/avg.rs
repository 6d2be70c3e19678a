//! `avg_pool2d` and `adaptive_avg_pool2d`: the mean of each window, both linear maps given by
//! their windows; the backward of either spreads each gradient over its window, and the
//! backward of that averages again.

use super::{Planes, check_input, check_options};
use crate::autograd::formula::{At, Binding, Formula, Local};
use crate::autograd::node::{Backward, Gradients};
use crate::error::{Error, Result};
use crate::kernels::dispatch_float;
use crate::kernels::pool::{Span, average, average_adjoint};
use crate::ops::window::PoolOptions;
use crate::ops::{ok, record};
use crate::tensor::Tensor;
use std::sync::Arc;

/// The windows of an average pooling along the rows and the columns, with their divisors.
struct Windows {
    /// `"AvgPool2dBackward"` or `"AdaptiveAvgPool2dBackward"`: the name of the nodes.
    name: &'static str,
    /// `"avg_pool2d"` or `"adaptive_avg_pool2d"`: the operation its errors name.
    op: &'static str,
    planes: Planes,
    rows: Vec<Span>,
    cols: Vec<Span>,
}

/// `avg_pool2d`'s windows along one dim of `size`, PyTorch's: window `o` covers
/// `o·stride − padding` for `kernel` positions, cut at the end of the right padding; the
/// divisor counts the padding in it with `count_include_pad`, else only the positions inside.
fn spans(size: usize, out: usize, o: &PoolOptions<2>, d: usize) -> Vec<Span> {
    let (k, s, p) = (o.kernel[d], o.stride[d], o.padding[d]);
    // In u128: the padded size `size + 2·padding` may exceed a usize.
    let (size, k, p) = (size as u128, k as u128, p as u128);
    (0..out)
        .map(|i| {
            let start = i as u128 * s as u128;
            let end = (start + k).min(size + 2 * p);
            let (inner_start, inner_end) = (start.max(p) - p, end.min(size + p) - p);
            let divisor = if o.count_include_pad {
                end - start
            } else {
                inner_end - inner_start
            };
            // Each is at most the kernel or the size, so fits a usize.
            Span {
                start: inner_start as usize,
                end: inner_end as usize,
                divisor: divisor as usize,
            }
        })
        .collect()
}

/// `adaptive_avg_pool2d`'s windows along one dim: window `o` of `out` covers
/// `⌊o·size/out⌋..⌈(o+1)·size/out⌉`.
fn adaptive_spans(size: usize, out: usize) -> Vec<Span> {
    (0..out)
        .map(|o| {
            // In u128: `o·size` may exceed a usize for a large output of a large input.
            let (o, size, out) = (o as u128, size as u128, out as u128);
            let start = (o * size / out) as usize;
            let end = ((o + 1) * size).div_ceil(out) as usize;
            Span {
                start,
                end,
                divisor: end - start,
            }
        })
        .collect()
}

/// The averages of `x` over the windows: the forward of both poolings, and the backward of
/// [`spread`].
fn apply(x: &Tensor, windows: &Arc<Windows>) -> Result<Tensor> {
    let planes = &windows.planes;
    let op = windows.op;
    if x.shape() != &planes.input[..] {
        return Err(Error::shapes(
            op,
            x.shape(),
            &planes.input,
            "the input must have the shape the windows were laid out for",
        ));
    }
    crate::limits::allocation(op, &planes.output, x.dtype())?;
    let out = dispatch_float!(op, x.dtype(), T => {
        let data = x.try_read(op, |v: &[T]| average(v, planes.hw(), &windows.rows, &windows.cols))?;
        Tensor::from_data(data, &planes.output)
    });
    let backward = AvgPool2dBackward {
        windows: windows.clone(),
    };
    Ok(record(out, &[x], backward, &[]))
}

/// The adjoint of [`apply`]: each gradient divided by its window's divisor and added over the
/// window.
fn spread(g: &Tensor, windows: &Arc<Windows>) -> Result<Tensor> {
    const OP: &str = "avg_pool2d_backward";
    let planes = &windows.planes;
    if g.shape() != &planes.output[..] {
        return Err(Error::shapes(
            OP,
            g.shape(),
            &planes.output,
            "the gradient must have the pooled output's shape",
        ));
    }
    crate::limits::allocation(OP, &planes.input, g.dtype())?;
    let out = dispatch_float!(OP, g.dtype(), T => {
        let data = g.try_read(OP, |v: &[T]| average_adjoint(v, planes.hw(), &windows.rows, &windows.cols))?;
        Tensor::from_data(data, &planes.input)
    });
    let backward = AvgPool2dBackwardBackward {
        windows: windows.clone(),
    };
    Ok(record(out, &[g], backward, &[]))
}

/// The rule of both average poolings, linear maps: the gradient is spread back over the
/// windows, the tangent is averaged like the input.
struct AvgPool2dBackward {
    windows: Arc<Windows>,
}

impl Backward for AvgPool2dBackward {
    fn name(&self) -> &'static str {
        self.windows.name
    }

    fn rule(&self) -> &'static str {
        "AvgPool2dBackward"
    }
    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        let inputs = vec![Local::map(
            "{g} spread evenly over each window",
            Binding::Sum,
        )];
        Some(Formula::new(
            "avg_pool2d({0})",
            Binding::Atom,
            "avg_pool2d",
            inputs,
        ))
    }

    fn vjp(&self, _: &[Tensor], grad: &Tensor, _: &[bool]) -> Gradients {
        smallvec::smallvec![Some(ok(spread(grad, &self.windows)))]
    }

    fn jvp(&self, _: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        apply(&tangents[0], &self.windows)
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(apply(&inputs[0], &self.windows))
    }
}

/// The rule of average pooling's backward: its adjoint is the average pooling again.
struct AvgPool2dBackwardBackward {
    windows: Arc<Windows>,
}

impl Backward for AvgPool2dBackwardBackward {
    fn name(&self) -> &'static str {
        "AvgPool2dBackwardBackward"
    }
    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        let inputs = vec![Local::map("avg_pool2d({g})", Binding::Atom)];
        Some(Formula::new(
            "avg_pool2d_backward({0})",
            Binding::Atom,
            "avg_pool2d_backward",
            inputs,
        ))
    }

    fn vjp(&self, _: &[Tensor], grad: &Tensor, _: &[bool]) -> Gradients {
        smallvec::smallvec![Some(ok(apply(grad, &self.windows)))]
    }

    fn jvp(&self, _: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        spread(&tangents[0], &self.windows)
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(spread(&inputs[0], &self.windows))
    }
}

impl Tensor {
    /// 2-d average pooling of a `[N, C, H, W]` or `[C, H, W]` tensor, as PyTorch's
    /// `avg_pool2d`: windows of `kernel` moving by `stride` over the input padded with zeros
    /// (`padding` at most half the kernel), output sizes rounded down or, with `ceil_mode`, up.
    /// Each window's sum is divided by its size counting the padding inside it
    /// (`count_include_pad`, the default) or not. Dilation must be 1.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// use nabla_core::ops::window::PoolOptions;
    /// let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[1, 1, 4]);
    /// let mut o = PoolOptions::new([1, 2]);
    /// assert_eq!(x.avg_pool2d(&o).to_vec::<f64>(), vec![1.5, 3.5]);
    /// o.padding = [0, 1];
    /// assert_eq!(x.avg_pool2d(&o).to_vec::<f64>(), vec![0.5, 2.5, 2.0]);
    /// o.count_include_pad = false;
    /// assert_eq!(x.avg_pool2d(&o).to_vec::<f64>(), vec![1.0, 2.5, 4.0]);
    /// ```
    pub fn try_avg_pool2d(&self, options: &PoolOptions<2>) -> Result<Tensor> {
        const OP: &str = "avg_pool2d";
        let (h, w) = check_input(OP, self)?;
        if options.dilation != [1, 1] {
            return Err(Error::invalid(
                OP,
                format!(
                    "average pooling has no dilation, got {:?} (input shape {:?})",
                    options.dilation,
                    self.shape()
                ),
            ));
        }
        let (oh, ow) = check_options(OP, self.shape(), options)?;
        let windows = Windows {
            name: "AvgPool2dBackward",
            op: "avg_pool2d",
            planes: Planes::new(self.shape(), (oh, ow)),
            rows: spans(h, oh, options, 0),
            cols: spans(w, ow, options, 1),
        };
        apply(self, &Arc::new(windows))
    }

    /// Panicking form of [`Tensor::try_avg_pool2d`].
    #[track_caller]
    pub fn avg_pool2d(&self, options: &PoolOptions<2>) -> Tensor {
        ok(self.try_avg_pool2d(options))
    }

    /// Average pooling of a `[N, C, H, W]` or `[C, H, W]` tensor to `output_size` `[OH, OW]`,
    /// as PyTorch's `adaptive_avg_pool2d`: output `i` along a dim of size `n` averages the
    /// inputs `⌊i·n/OH⌋..⌈(i+1)·n/OH⌉` (windows overlap when the sizes do not divide).
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0], &[1, 1, 5]);
    /// assert_eq!(x.adaptive_avg_pool2d([1, 2]).to_vec::<f64>(), vec![2.0, 4.0]);
    /// assert_eq!(x.adaptive_avg_pool2d([1, 1]).to_vec::<f64>(), vec![3.0]);
    /// ```
    pub fn try_adaptive_avg_pool2d(&self, output_size: [usize; 2]) -> Result<Tensor> {
        const OP: &str = "adaptive_avg_pool2d";
        let (h, w) = check_input(OP, self)?;
        let [oh, ow] = output_size;
        // The windows are laid out per output row and column, whatever the batch.
        crate::limits::allocation(OP, &[oh, ow], self.dtype())?;
        let windows = Windows {
            name: "AdaptiveAvgPool2dBackward",
            op: "adaptive_avg_pool2d",
            planes: Planes::new(self.shape(), (oh, ow)),
            rows: adaptive_spans(h, oh),
            cols: adaptive_spans(w, ow),
        };
        apply(self, &Arc::new(windows))
    }

    /// Panicking form of [`Tensor::try_adaptive_avg_pool2d`].
    #[track_caller]
    pub fn adaptive_avg_pool2d(&self, output_size: [usize; 2]) -> Tensor {
        ok(self.try_adaptive_avg_pool2d(output_size))
    }
}
