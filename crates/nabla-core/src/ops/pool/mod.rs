//! Pooling over the last two dims of `[N, C, H, W]` (or unbatched `[C, H, W]`) tensors, as
//! PyTorch's `max_pool2d`, `avg_pool2d` and `adaptive_avg_pool2d`. Every plane `H×W` is pooled
//! on its own; the windows come from [`crate::ops::window`]'s options and output sizes.
//!
//! Each pool's backward is an operation of its own, recorded like any other, so gradients of
//! gradients exist: max pooling's backward scatters the gradient to the chosen indices (its own
//! backward gathers from them), average pooling's backward spreads each gradient over its
//! window (its own backward averages again).

mod avg;
mod max;

use crate::error::{Error, Result};
use crate::ops::window::{PoolOptions, output_size};
use crate::shape::Dims;
use crate::tensor::Tensor;

/// The planes of a pooling: the input's shape, its output's shape, and the values per plane
/// on each side.
#[derive(Clone, Debug)]
struct Planes {
    input: Dims,
    output: Dims,
}

impl Planes {
    /// `input` with its last two dims replaced by `(oh, ow)`.
    fn new(input: &[usize], (oh, ow): (usize, usize)) -> Planes {
        let mut output: Dims = input.into();
        let n = output.len();
        output[n - 2] = oh;
        output[n - 1] = ow;
        Planes {
            input: input.into(),
            output,
        }
    }

    fn hw(&self) -> (usize, usize) {
        let n = self.input.len();
        (self.input[n - 2], self.input[n - 1])
    }

    fn in_plane(&self) -> usize {
        let (h, w) = self.hw();
        h * w
    }

    fn out_plane(&self) -> usize {
        let n = self.output.len();
        self.output[n - 2] * self.output[n - 1]
    }
}

/// Checks that `x` is a float tensor of rank 3 (`[C, H, W]`) or 4 (`[N, C, H, W]`) whose
/// planes can be indexed by `u32`, and returns `(H, W)`.
fn check_input(op: &'static str, x: &Tensor) -> Result<(usize, usize)> {
    x.check_float(op)?;
    let (&[_, h, w] | &[_, _, h, w]) = x.shape() else {
        return Err(Error::invalid(
            op,
            format!(
                "expected a [N, C, H, W] or [C, H, W] input, got shape {:?}",
                x.shape()
            ),
        ));
    };
    if h == 0 || w == 0 {
        return Err(Error::invalid(
            op,
            format!(
                "the input's planes must not be empty, got shape {:?}",
                x.shape()
            ),
        ));
    }
    if h.checked_mul(w).is_none_or(|n| n > u32::MAX as usize) {
        return Err(Error::invalid(
            op,
            format!(
                "planes of {h}×{w} values are too large to pool (input shape {:?})",
                x.shape()
            ),
        ));
    }
    Ok((h, w))
}

/// Checks the options of a sliding-window pool on input `shape`: the padding at most half the
/// (dilated) kernel, as PyTorch requires, and windows that fit. Returns the output size
/// `(OH, OW)`.
fn check_options(op: &'static str, shape: &[usize], o: &PoolOptions<2>) -> Result<(usize, usize)> {
    let n = shape.len();
    let mut out = [0usize; 2];
    for d in 0..2 {
        let (k, p, dil) = (o.kernel[d], o.padding[d], o.dilation[d]);
        let effective = dil.saturating_mul(k.saturating_sub(1)).saturating_add(1);
        if k > 0 && dil > 0 && p > effective / 2 {
            return Err(Error::invalid(
                op,
                format!(
                    "padding must be at most half of the effective kernel size, got padding {:?} for kernel {:?} with dilation {:?} (input shape {shape:?})",
                    o.padding, o.kernel, o.dilation
                ),
            ));
        }
        out[d] = output_size(op, shape[n - 2 + d], k, o.stride[d], p, dil, o.ceil_mode).map_err(
            |e| match e {
                Error::InvalidArgument { op, message } => {
                    Error::invalid(op, format!("{message} (input shape {shape:?})"))
                }
                other => other,
            },
        )?;
    }
    Ok((out[0], out[1]))
}
