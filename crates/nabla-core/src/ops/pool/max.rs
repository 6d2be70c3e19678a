//! `max_pool2d`: the largest value of each window, its gradient sent to the one input PyTorch's
//! `max_pool2d_with_indices` picks; and the scatter to those indices that is its backward.

use super::{Planes, check_input, check_options};
use crate::autograd::formula::{At, Binding, Formula, Local};
use crate::autograd::node::{Backward, Gradients};
use crate::error::{Error, Result};
use crate::kernels::dispatch_float;
use crate::kernels::pool::{Taps, gather_planes, max_pool, scatter_planes};
use crate::ops::window::PoolOptions;
use crate::ops::{ok, record};
use crate::tensor::Tensor;
use std::sync::Arc;

/// The input index, within its plane, that each output of a max pooling took its value from.
struct Chosen {
    planes: Planes,
    index: Vec<u32>,
}

/// The taps of every window along spatial dim `d` of an input of `shape`: window `o` starts at `o·stride − padding`
/// and has `kernel` taps `dilation` apart, of which those inside the input count. An error when
/// a window has none (it lies in the padding, between dilated taps).
fn taps(
    op: &'static str,
    shape: &[usize],
    out: usize,
    o: &PoolOptions<2>,
    d: usize,
) -> Result<Vec<Taps>> {
    let size = shape[shape.len() - 2 + d];
    let (k, s, p, dil) = (o.kernel[d], o.stride[d], o.padding[d], o.dilation[d]);
    (0..out)
        .map(|i| {
            // Counted, not scanned (a window may have far more taps than the input has
            // values), in i128: `i·stride` and the padding each fit a usize.
            let start = (i as i128) * (s as i128) - p as i128;
            let (size, dil, k) = (size as i128, dil as i128, k as i128);
            // The taps `j` in `0..k` with `0 <= start + j·dil < size`.
            let lo = if start >= 0 { 0 } else { (-start + dil - 1) / dil };
            let hi = if start >= size { 0 } else { ((size - 1 - start) / dil + 1).min(k) };
            if lo >= hi {
                return Err(Error::invalid(
                    op,
                    format!(
                        "window {i} along spatial dim {d} has no tap inside the input (size {size}, kernel {k}, dilation {dil}, padding {p}; input shape {shape:?})"
                    ),
                ));
            }
            Ok(Taps {
                first: (start + lo * dil) as usize,
                count: (hi - lo) as usize,
                step: o.dilation[d],
            })
        })
        .collect()
}

/// `x` at the chosen indices: the forward of a max pooling once its indices are known, and the
/// backward of [`scatter`]. Recorded as a max pooling that replays with `replay`'s options, or
/// as this very gather when there are none.
fn gather(x: &Tensor, chosen: &Arc<Chosen>, replay: Option<PoolOptions<2>>) -> Result<Tensor> {
    let planes = &chosen.planes;
    if x.shape() != &planes.input[..] {
        return Err(Error::shapes(
            "max_pool2d",
            x.shape(),
            &planes.input,
            "the input must have the shape the indices were chosen in",
        ));
    }
    crate::limits::allocation("max_pool2d", &planes.output, x.dtype())?;
    let out = dispatch_float!("max_pool2d", x.dtype(), T => {
        let data = x.try_read("max_pool2d", |v: &[T]| {
            gather_planes(v, planes.in_plane(), &chosen.index, planes.out_plane())
        })?;
        Tensor::from_data(data, &planes.output)
    });
    let backward = MaxPool2dBackward {
        chosen: chosen.clone(),
        replay,
    };
    Ok(record(out, &[x], backward, &[]))
}

/// The gradient of a max pooling's input: `g` added at the chosen indices, zero elsewhere.
fn scatter(g: &Tensor, chosen: &Arc<Chosen>) -> Result<Tensor> {
    let planes = &chosen.planes;
    if g.shape() != &planes.output[..] {
        return Err(Error::shapes(
            "max_pool2d_backward",
            g.shape(),
            &planes.output,
            "the gradient must have the pooled output's shape",
        ));
    }
    crate::limits::allocation("max_pool2d_backward", &planes.input, g.dtype())?;
    let out = dispatch_float!("max_pool2d_backward", g.dtype(), T => {
        let data = g.try_read("max_pool2d_backward", |v: &[T]| {
            scatter_planes(v, planes.out_plane(), &chosen.index, planes.in_plane())
        })?;
        Tensor::from_data(data, &planes.input)
    });
    let backward = MaxPool2dBackwardBackward {
        chosen: chosen.clone(),
    };
    Ok(record(out, &[g], backward, &[]))
}

/// Max pooling's rule: the gradient goes back to the chosen inputs (summed where windows
/// overlap and chose the same one); the tangent is read at them.
struct MaxPool2dBackward {
    chosen: Arc<Chosen>,
    /// The options to pool again with on replay; `None` for a gather inside a backward pass.
    replay: Option<PoolOptions<2>>,
}

impl Backward for MaxPool2dBackward {
    fn name(&self) -> &'static str {
        "MaxPool2dBackward"
    }
    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        let inputs = vec![Local::map(
            "{g} sent to each window's maximum (zeros elsewhere)",
            Binding::Sum,
        )];
        Some(Formula::new(
            "max_pool2d({0})",
            Binding::Atom,
            "max_pool2d",
            inputs,
        ))
    }

    fn vjp(&self, _: &[Tensor], grad: &Tensor, _: &[bool]) -> Gradients {
        smallvec::smallvec![Some(ok(scatter(grad, &self.chosen)))]
    }

    fn jvp(&self, _: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        gather(&tangents[0], &self.chosen, None)
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(match &self.replay {
            Some(options) => inputs[0].try_max_pool2d(options),
            None => gather(&inputs[0], &self.chosen, None),
        })
    }
}

/// The rule of max pooling's backward, a scatter linear in the gradient: its adjoint gathers
/// from the same indices.
struct MaxPool2dBackwardBackward {
    chosen: Arc<Chosen>,
}

impl Backward for MaxPool2dBackwardBackward {
    fn name(&self) -> &'static str {
        "MaxPool2dBackwardBackward"
    }
    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        let inputs = vec![Local::map(
            "{g} read at each window's maximum",
            Binding::Sum,
        )];
        Some(Formula::new(
            "max_pool2d_backward({0})",
            Binding::Atom,
            "max_pool2d_backward",
            inputs,
        ))
    }

    fn vjp(&self, _: &[Tensor], grad: &Tensor, _: &[bool]) -> Gradients {
        smallvec::smallvec![Some(ok(gather(grad, &self.chosen, None)))]
    }

    fn jvp(&self, _: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        scatter(&tangents[0], &self.chosen)
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(scatter(&inputs[0], &self.chosen))
    }
}

impl Tensor {
    /// 2-d max pooling of a `[N, C, H, W]` or `[C, H, W]` tensor, as PyTorch's `max_pool2d`:
    /// windows of `kernel` taps `dilation` apart, moving by `stride`, over the input padded with
    /// minus infinity (`padding` at most half the dilated kernel), output sizes rounded down or,
    /// with `ceil_mode`, up. Each window's value and gradient come from one input, the one
    /// PyTorch picks: scanning row by row, the first maximum (ties go to the earliest), a NaN
    /// over any number (the last NaN), the first tap in a window of minus infinities.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// use nabla_core::ops::window::PoolOptions;
    /// let x = Tensor::from_vec(vec![1.0f64, 3.0, 3.0, 0.0, 2.0, 1.0, 5.0, 4.0], &[1, 2, 4]).requires_grad();
    /// let y = x.max_pool2d(&PoolOptions::new([2, 2]));
    /// assert_eq!(y.to_vec::<f64>(), vec![3.0, 5.0]);
    /// y.sum().backward();
    /// // The tie 3, 3 sends the gradient to the first of them.
    /// assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    /// assert!(x.try_max_pool2d(&PoolOptions::new([3, 3])).is_err());
    /// ```
    pub fn try_max_pool2d(&self, options: &PoolOptions<2>) -> Result<Tensor> {
        const OP: &str = "max_pool2d";
        let (h, w) = check_input(OP, self)?;
        let (oh, ow) = check_options(OP, self.shape(), options)?;
        let rows = taps(OP, self.shape(), oh, options, 0)?;
        let cols = taps(OP, self.shape(), ow, options, 1)?;
        let planes = Planes::new(self.shape(), (oh, ow));
        crate::limits::allocation(OP, &planes.output, self.dtype())?;
        let (out, index) = dispatch_float!(OP, self.dtype(), T => {
            let (values, index) = self.try_read(OP, |v: &[T]| max_pool(v, (h, w), &rows, &cols))?;
            (Tensor::from_data(values, &planes.output), index)
        });
        let backward = MaxPool2dBackward {
            chosen: Arc::new(Chosen { planes, index }),
            replay: Some(*options),
        };
        Ok(record(out, &[self], backward, &[]))
    }

    /// Panicking form of [`Tensor::try_max_pool2d`].
    #[track_caller]
    pub fn max_pool2d(&self, options: &PoolOptions<2>) -> Tensor {
        ok(self.try_max_pool2d(options))
    }
}
