//! The convolution kernels: im2col (each window's inputs as a column) and one GEMM per sample
//! and group, for the output and for both gradients. Samples are spread over the kernel
//! threads; each GEMM runs on its thread. Where a group's column matrix is its input channels
//! as they lie (a 1×1 kernel, stride 1, no padding), the GEMMs read the input directly.

use super::geometry::Geometry;
use crate::dtype::Float;
use crate::kernels::matmul::{Strided, gemm_into};
use crate::parallel::{SharedMut, for_each_task, num_threads};
use crate::storage::Data;
use std::ops::Range;

/// Convolutions of fewer multiply-adds run on the calling thread.
const PARALLEL_MACS: usize = 1 << 17;

/// The input positions a window tap reads along one dim, for every output position: the
/// first and one past the last output position whose tap lands inside `0..size`, and the
/// input position of output position 0 (negative inside the leading padding).
fn span(size: usize, out: usize, stride: usize, offset: isize) -> (usize, usize, isize) {
    let (size, stride) = (size as isize, stride as isize);
    let first = if offset >= 0 {
        0
    } else {
        (-offset + stride - 1) / stride
    };
    let end = if size - offset <= 0 {
        0
    } else {
        (size - offset + stride - 1) / stride
    };
    let first = (first as usize).min(out);
    (first, (end.max(0) as usize).clamp(first, out), offset)
}

/// A stretch of one row of a group's column matrix (`patch × positions`, row-major).
enum Segment {
    /// Positions whose window tap lies in the padding: zeros.
    Padding(Range<usize>),
    /// Positions `cols` reading the input of channel `channel` from element `from` of its
    /// plane on, one element every stride.
    Input {
        channel: usize,
        from: usize,
        cols: Range<usize>,
    },
}

/// Calls `f` on every segment of the column matrix of one group, row by row.
fn for_each_segment(g: &Geometry, mut f: impl FnMut(Segment)) {
    let [h, w] = g.input;
    let [oh, ow] = g.output;
    let [kh, kw] = g.kernel;
    let [sh, sw] = g.stride;
    let [ph, pw] = g.padding;
    let [dh, dw] = g.dilation;
    let positions = oh * ow;
    for channel in 0..g.in_channels / g.groups {
        for ki in 0..kh {
            let (y0, y1, ybase) = span(h, oh, sh, (ki * dh) as isize - ph as isize);
            for kj in 0..kw {
                let (x0, x1, xbase) = span(w, ow, sw, (kj * dw) as isize - pw as isize);
                let base = ((channel * kh + ki) * kw + kj) * positions;
                if y0 > 0 {
                    f(Segment::Padding(base..base + y0 * ow));
                }
                for oy in y0..y1 {
                    let at = base + oy * ow;
                    if x0 > 0 {
                        f(Segment::Padding(at..at + x0));
                    }
                    if x0 < x1 {
                        let iy = (ybase + (oy * sh) as isize) as usize;
                        let ix = (xbase + (x0 * sw) as isize) as usize;
                        f(Segment::Input {
                            channel,
                            from: iy * w + ix,
                            cols: at + x0..at + x1,
                        });
                    }
                    if x1 < ow {
                        f(Segment::Padding(at + x1..at + ow));
                    }
                }
                if y1 < oh {
                    f(Segment::Padding(base + y1 * ow..base + positions));
                }
            }
        }
    }
}

/// Fills `col` (`patch × positions`) with the windows of `x` (one group's channels of one
/// sample, `channels × h × w`): a copy of contiguous runs where the stride is 1.
fn im2col<T: Float>(g: &Geometry, x: &[T], col: &mut [T]) {
    let plane = g.input[0] * g.input[1];
    let sw = g.stride[1];
    for_each_segment(g, |segment| match segment {
        Segment::Padding(r) => col[r].fill(T::default()),
        Segment::Input {
            channel,
            from,
            cols,
        } => {
            let src = &x[channel * plane + from..];
            let dst = &mut col[cols];
            if sw == 1 {
                dst.copy_from_slice(&src[..dst.len()]);
            } else {
                dst.iter_mut()
                    .zip(src.iter().step_by(sw))
                    .for_each(|(d, s)| *d = *s);
            }
        }
    });
}

/// Adds each column of `col` back onto the inputs its window read: the adjoint of [`im2col`].
fn col2im<T: Float>(g: &Geometry, col: &[T], x: &mut [T]) {
    let plane = g.input[0] * g.input[1];
    let sw = g.stride[1];
    for_each_segment(g, |segment| {
        if let Segment::Input {
            channel,
            from,
            cols,
        } = segment
        {
            let from_cols = &col[cols];
            let to = &mut x[channel * plane + from..];
            if sw == 1 {
                let to = &mut to[..from_cols.len()];
                to.iter_mut().zip(from_cols).for_each(|(t, f)| *t = *t + *f);
            } else {
                let to = to.iter_mut().step_by(sw);
                to.zip(from_cols).for_each(|(t, f)| *t = *t + *f);
            }
        }
    });
}

/// Ranges of the batch handed out per thread when the convolution is shared: several, so that
/// a thread slowed by other work on its core leaves the rest of its share to the others.
const TASKS_PER_THREAD: usize = 4;

/// Runs `work(samples)` over consecutive ranges of the batch, spread over the threads when the
/// convolution is large enough to share.
fn over_batch(g: &Geometry, work: impl Fn(std::ops::Range<usize>) + Sync) {
    let tasks = if g.macs() >= PARALLEL_MACS {
        (num_threads() * TASKS_PER_THREAD).min(g.batch).max(1)
    } else {
        1
    };
    let range = |t: usize| t * g.batch / tasks..(t + 1) * g.batch / tasks;
    if tasks == 1 {
        work(0..g.batch);
    } else {
        for_each_task(tasks, &|t| work(range(t)));
    }
}

/// A column buffer for one group of one sample, from the pool; none for a pointwise
/// convolution, which reads its input directly.
fn column_buffer<T: Float>(g: &Geometry) -> Data<T> {
    crate::pool::take(if g.is_pointwise() {
        0
    } else {
        g.patch() * g.positions()
    })
}

fn release<T: Float>(buffer: Data<T>) {
    crate::pool::give(T::into_buffer(buffer));
}

/// The output `[batch, out_channels, oh, ow]` of `x` (`[batch, in_channels, h, w]`) convolved
/// with `w` (`[out_channels, in_channels / groups, kh, kw]`), plus `bias` per output channel:
/// the GEMM starts from rows holding the bias.
pub(crate) fn forward<T: Float>(g: &Geometry, x: &[T], w: &[T], bias: Option<&[T]>) -> Data<T> {
    let mut out = crate::pool::take::<T>(g.output_shape().iter().product());
    let (patch, positions) = (g.patch(), g.positions());
    let group_out = g.out_channels / g.groups;
    let group_in = g.in_channels / g.groups * g.input[0] * g.input[1];
    let sample_in = g.in_channels * g.input[0] * g.input[1];
    let sample_out = g.out_channels * positions;
    let dst = SharedMut(out.as_mut_ptr());
    over_batch(g, |samples| {
        let mut col = column_buffer::<T>(g);
        for n in samples {
            // SAFETY: sample `n` writes only its own block of `out`, which outlives the tasks.
            let y = unsafe { std::slice::from_raw_parts_mut(dst.at(n * sample_out), sample_out) };
            if let Some(b) = bias {
                for (row, &v) in y.chunks_mut(positions).zip(b) {
                    row.fill(v);
                }
            }
            for gi in 0..g.groups {
                let x = &x[n * sample_in + gi * group_in..][..group_in];
                let cols = if g.is_pointwise() {
                    x
                } else {
                    im2col(g, x, &mut col);
                    &col[..]
                };
                gemm_into(
                    &mut y[gi * group_out * positions..][..group_out * positions],
                    positions,
                    Strided {
                        data: &w[gi * group_out * patch..][..group_out * patch],
                        row: patch,
                        col: 1,
                    },
                    Strided {
                        data: cols,
                        row: positions,
                        col: 1,
                    },
                    (group_out, patch, positions),
                    bias.is_some(),
                );
            }
        }
        release(col);
    });
    out
}

/// The gradient with respect to the input, `[batch, in_channels, h, w]`, of a convolution
/// with weight `w` whose output has gradient `grad`: per sample and group, `Wᵀ·G` as columns,
/// added back onto the input positions they came from (col2im). Also the transposed
/// convolution of `grad` with `w`.
pub(crate) fn input_grad<T: Float>(g: &Geometry, grad: &[T], w: &[T]) -> Data<T> {
    let mut out = crate::pool::take::<T>(g.input_shape().iter().product());
    let (patch, positions) = (g.patch(), g.positions());
    let group_out = g.out_channels / g.groups;
    let group_in = g.in_channels / g.groups * g.input[0] * g.input[1];
    let sample_in = g.in_channels * g.input[0] * g.input[1];
    let sample_out = g.out_channels * positions;
    let dst = SharedMut(out.as_mut_ptr());
    over_batch(g, |samples| {
        let mut col = column_buffer::<T>(g);
        for n in samples {
            // SAFETY: sample `n` writes only its own block of `out`, which outlives the tasks.
            let dx = unsafe { std::slice::from_raw_parts_mut(dst.at(n * sample_in), sample_in) };
            if !g.is_pointwise() {
                dx.fill(T::default());
            }
            for gi in 0..g.groups {
                let dx = &mut dx[gi * group_in..][..group_in];
                let a = Strided {
                    data: &w[gi * group_out * patch..][..group_out * patch],
                    row: 1,
                    col: patch,
                };
                let b = Strided {
                    data: &grad[n * sample_out + gi * group_out * positions..]
                        [..group_out * positions],
                    row: positions,
                    col: 1,
                };
                let dims = (patch, group_out, positions);
                if g.is_pointwise() {
                    gemm_into(dx, positions, a, b, dims, false);
                } else {
                    gemm_into(&mut col, positions, a, b, dims, false);
                    col2im(g, &col, dx);
                }
            }
        }
        release(col);
    });
    out
}

/// The gradient with respect to the weight, `[out_channels, in_channels / groups, kh, kw]`,
/// of a convolution of `x` whose output has gradient `grad`: `Σₙ G·colsᵀ` per group. Each
/// thread sums its samples into a buffer of its own; the buffers are added at the end.
pub(crate) fn weight_grad<T: Float>(g: &Geometry, x: &[T], grad: &[T]) -> Data<T> {
    let (patch, positions) = (g.patch(), g.positions());
    let size = g.out_channels * patch;
    let group_out = g.out_channels / g.groups;
    let group_in = g.in_channels / g.groups * g.input[0] * g.input[1];
    let sample_in = g.in_channels * g.input[0] * g.input[1];
    let sample_out = g.out_channels * positions;
    let parts = std::sync::Mutex::new(Vec::<Data<T>>::new());
    over_batch(g, |samples| {
        let mut col = column_buffer::<T>(g);
        let mut dw = crate::pool::take::<T>(size);
        dw.fill(T::default());
        for n in samples {
            for gi in 0..g.groups {
                let x = &x[n * sample_in + gi * group_in..][..group_in];
                let cols = if g.is_pointwise() {
                    x
                } else {
                    im2col(g, x, &mut col);
                    &col[..]
                };
                gemm_into(
                    &mut dw[gi * group_out * patch..][..group_out * patch],
                    patch,
                    Strided {
                        data: &grad[n * sample_out + gi * group_out * positions..]
                            [..group_out * positions],
                        row: positions,
                        col: 1,
                    },
                    Strided {
                        data: cols,
                        row: 1,
                        col: positions,
                    },
                    (group_out, positions, patch),
                    true,
                );
            }
        }
        release(col);
        parts.lock().unwrap_or_else(|p| p.into_inner()).push(dw);
    });
    let mut parts = parts.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut total = parts.pop().unwrap_or_else(|| {
        let mut zeros = crate::pool::take::<T>(size);
        zeros.fill(T::default());
        zeros
    });
    for part in parts {
        total.iter_mut().zip(&part).for_each(|(t, p)| *t = *t + *p);
        release(part);
    }
    total
}

/// The column matrices of every sample, `[batch, in_channels · kh · kw, oh · ow]`: im2col
/// itself (`torch.nn.functional.unfold`), for a geometry with one group per input channel.
pub(crate) fn unfold<T: Float>(g: &Geometry, x: &[T]) -> Data<T> {
    let block = g.patch() * g.positions();
    let plane = g.input[0] * g.input[1];
    let mut out = crate::pool::take::<T>(g.batch * g.groups * block);
    for (n, cols) in out.chunks_mut(g.groups * block).enumerate() {
        for (c, col) in cols.chunks_mut(block).enumerate() {
            im2col(g, &x[(n * g.in_channels + c) * plane..][..plane], col);
        }
    }
    out
}
