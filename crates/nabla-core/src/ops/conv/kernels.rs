//! The convolution kernels: im2col (each window's inputs as a column) and one GEMM per block of
//! samples and group, for the output and for both gradients; the input's gradient adds its
//! columns back (col2im). Blocks are spread over the kernel threads; each GEMM runs on its
//! thread. Where a group's column matrix is its input channels as they lie (a 1×1 kernel,
//! stride 1, no padding), the GEMMs read the input directly, a sample at a time.

use super::geometry::Geometry;
use crate::dtype::Float;
use crate::kernels::matmul::{Strided, gemm_into};
use crate::parallel::{SharedMut, for_each_task};
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

/// Calls `f` on every segment of the column matrix of one group, row by row, for a matrix
/// whose rows are `pitch` elements apart.
fn for_each_segment(g: &Geometry, pitch: usize, mut f: impl FnMut(Segment)) {
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
                let base = ((channel * kh + ki) * kw + kj) * pitch;
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

/// Fills `col` (`patch × positions`, rows `pitch` apart) with the windows of `x` (one group's channels of one
/// sample, `channels × h × w`): a copy of contiguous runs where the stride is 1.
fn im2col<T: Float>(g: &Geometry, x: &[T], col: &mut [T], pitch: usize) {
    let plane = g.input[0] * g.input[1];
    let sw = g.stride[1];
    for_each_segment(g, pitch, |segment| match segment {
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
fn col2im<T: Float>(g: &Geometry, col: &[T], pitch: usize, x: &mut [T]) {
    let plane = g.input[0] * g.input[1];
    let sw = g.stride[1];
    for_each_segment(g, pitch, |segment| {
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

/// Samples whose column matrices one GEMM takes side by side: enough for about this many
/// columns, so that each product is wide enough to run near the kernel's best (a block of 8
/// samples of a 13×13 layer multiplies about 13% faster than 8 products of one).
const BLOCK_COLUMNS: usize = 1024;

/// Samples per block of `g`: one for a pointwise convolution, whose GEMMs read the input
/// where it lies.
fn block_size(g: &Geometry) -> usize {
    if g.is_pointwise() {
        1
    } else {
        (BLOCK_COLUMNS / g.positions().max(1)).clamp(1, g.batch.max(1))
    }
}

/// Runs `work(samples)` on consecutive blocks of the batch, spread over the threads when the
/// convolution is large enough to share (threads claim blocks as they go, so one slowed by
/// other work on its core leaves the rest to the others).
fn over_blocks(g: &Geometry, work: impl Fn(Range<usize>) + Sync) {
    let block = block_size(g);
    let blocks = g.batch.div_ceil(block);
    let run = |i: usize| work(i * block..((i + 1) * block).min(g.batch));
    if g.macs() >= PARALLEL_MACS && blocks > 1 {
        for_each_task(blocks, &run);
    } else {
        (0..blocks).for_each(run);
    }
}

fn release<T: Float>(buffer: Data<T>) {
    crate::pool::give(T::into_buffer(buffer));
}

/// The sizes one sample and one group take in the input and the output.
#[derive(Clone, Copy)]
struct Strides {
    patch: usize,
    positions: usize,
    group_out: usize,
    group_in: usize,
    sample_in: usize,
    sample_out: usize,
}

impl Strides {
    fn of(g: &Geometry) -> Strides {
        let plane = g.input[0] * g.input[1];
        Strides {
            patch: g.patch(),
            positions: g.positions(),
            group_out: g.out_channels / g.groups,
            group_in: g.in_channels / g.groups * plane,
            sample_in: g.in_channels * plane,
            sample_out: g.out_channels * g.positions(),
        }
    }
}

/// The column matrices of group `gi` of `samples`, side by side in `col`
/// (`patch × samples·positions`).
fn block_columns<T: Float>(
    g: &Geometry,
    s: Strides,
    x: &[T],
    samples: Range<usize>,
    gi: usize,
    col: &mut [T],
) {
    let pitch = samples.len() * s.positions;
    for (b, n) in samples.enumerate() {
        let x = &x[n * s.sample_in + gi * s.group_in..][..s.group_in];
        im2col(g, x, &mut col[b * s.positions..], pitch);
    }
}

/// The output gradients of group `gi` of `samples` side by side in `dst`
/// (`group_out × samples·positions`).
fn block_grads<T: Float>(s: Strides, grad: &[T], samples: Range<usize>, gi: usize, dst: &mut [T]) {
    let pitch = samples.len() * s.positions;
    for (b, n) in samples.enumerate() {
        let src = &grad[n * s.sample_out + gi * s.group_out * s.positions..];
        for c in 0..s.group_out {
            dst[c * pitch + b * s.positions..][..s.positions]
                .copy_from_slice(&src[c * s.positions..][..s.positions]);
        }
    }
}

/// The output `[batch, out_channels, oh, ow]` of `x` (`[batch, in_channels, h, w]`) convolved
/// with `w` (`[out_channels, in_channels / groups, kh, kw]`), plus `bias` per output channel:
/// the GEMM starts from rows holding the bias.
pub(crate) fn forward<T: Float>(g: &Geometry, x: &[T], w: &[T], bias: Option<&[T]>) -> Data<T> {
    let mut out = crate::pool::take::<T>(g.output_shape().iter().product());
    let s = Strides::of(g);
    let dst = SharedMut(out.as_mut_ptr());
    over_blocks(g, |samples| {
        let (first, nb) = (samples.start, samples.len());
        let pitch = nb * s.positions;
        let mut col = crate::pool::take::<T>(if g.is_pointwise() { 0 } else { s.patch * pitch });
        let mut block = crate::pool::take::<T>(if nb > 1 { s.group_out * pitch } else { 0 });
        // SAFETY: `samples` lies inside `0..batch` (see `over_blocks`), so the range starts
        // at `first` samples in and ends within `out`, which holds `batch` samples and outlives
        // the tasks; a block of samples writes only its own samples' part.
        let y = unsafe {
            std::slice::from_raw_parts_mut(dst.at(first * s.sample_out), nb * s.sample_out)
        };
        for gi in 0..g.groups {
            let cols: &[T] = if g.is_pointwise() {
                &x[first * s.sample_in + gi * s.group_in..][..s.group_in]
            } else {
                block_columns(g, s, x, samples.clone(), gi, &mut col);
                &col
            };
            let group = gi * s.group_out * s.positions;
            let target: &mut [T] = if nb > 1 {
                &mut block
            } else {
                &mut y[group..][..s.group_out * s.positions]
            };
            if let Some(b) = bias {
                let b = &b[gi * s.group_out..][..s.group_out];
                for (row, &v) in target.chunks_mut(pitch).zip(b) {
                    row.fill(v);
                }
            }
            gemm_into(
                target,
                pitch,
                Strided {
                    data: &w[gi * s.group_out * s.patch..][..s.group_out * s.patch],
                    row: s.patch,
                    col: 1,
                },
                Strided {
                    data: cols,
                    row: pitch,
                    col: 1,
                },
                (s.group_out, s.patch, pitch),
                bias.is_some(),
            );
            if nb > 1 {
                for (b, y) in y.chunks_mut(s.sample_out).enumerate() {
                    for c in 0..s.group_out {
                        y[group + c * s.positions..][..s.positions]
                            .copy_from_slice(&block[c * pitch + b * s.positions..][..s.positions]);
                    }
                }
            }
        }
        release(col);
        release(block);
    });
    out
}

/// The gradient with respect to the input, `[batch, in_channels, h, w]`, of a convolution
/// with weight `w` whose output has gradient `grad`: per block of samples and group, `Wᵀ·G`
/// as columns, added back onto the input positions they came from (col2im). Also the
/// transposed convolution of `grad` with `w`.
pub(crate) fn input_grad<T: Float>(g: &Geometry, grad: &[T], w: &[T]) -> Data<T> {
    let mut out = crate::pool::take::<T>(g.input_shape().iter().product());
    let s = Strides::of(g);
    let dst = SharedMut(out.as_mut_ptr());
    over_blocks(g, |samples| {
        let (first, nb) = (samples.start, samples.len());
        let pitch = nb * s.positions;
        let mut col = crate::pool::take::<T>(if g.is_pointwise() { 0 } else { s.patch * pitch });
        let mut block = crate::pool::take::<T>(if nb > 1 { s.group_out * pitch } else { 0 });
        // SAFETY: `samples` lies inside `0..batch` (see `over_blocks`), so the range starts
        // at `first` samples in and ends within `out`, which holds `batch` samples and outlives
        // the tasks; a block of samples writes only its own samples' part.
        let dx = unsafe {
            std::slice::from_raw_parts_mut(dst.at(first * s.sample_in), nb * s.sample_in)
        };
        if !g.is_pointwise() {
            dx.fill(T::default());
        }
        for gi in 0..g.groups {
            let grads: &[T] = if nb > 1 {
                block_grads(s, grad, samples.clone(), gi, &mut block);
                &block
            } else {
                &grad[first * s.sample_out + gi * s.group_out * s.positions..]
                    [..s.group_out * s.positions]
            };
            let a = Strided {
                data: &w[gi * s.group_out * s.patch..][..s.group_out * s.patch],
                row: 1,
                col: s.patch,
            };
            let b = Strided {
                data: grads,
                row: pitch,
                col: 1,
            };
            let dims = (s.patch, s.group_out, pitch);
            if g.is_pointwise() {
                gemm_into(
                    &mut dx[gi * s.group_in..][..s.group_in],
                    pitch,
                    a,
                    b,
                    dims,
                    false,
                );
            } else {
                gemm_into(&mut col, pitch, a, b, dims, false);
                for (b, dx) in dx.chunks_mut(s.sample_in).enumerate() {
                    let dx = &mut dx[gi * s.group_in..][..s.group_in];
                    col2im(g, &col[b * s.positions..], pitch, dx);
                }
            }
        }
        release(col);
        release(block);
    });
    out
}

/// The gradient with respect to the weight, `[out_channels, in_channels / groups, kh, kw]`,
/// of a convolution of `x` whose output has gradient `grad`: `Σ G·colsᵀ` over blocks of
/// samples, per group. Each block adds into a sum no other thread is using at the time; the
/// sums (one per thread at most) are added at the end.
pub(crate) fn weight_grad<T: Float>(g: &Geometry, x: &[T], grad: &[T]) -> Data<T> {
    let s = Strides::of(g);
    let size = g.out_channels * s.patch;
    let zeros = || {
        let mut sum = crate::pool::take::<T>(size);
        sum.fill(T::default());
        sum
    };
    let sums = std::sync::Mutex::new(Vec::<Data<T>>::new());
    over_blocks(g, |samples| {
        let (first, nb) = (samples.start, samples.len());
        let pitch = nb * s.positions;
        let mut col = crate::pool::take::<T>(if g.is_pointwise() { 0 } else { s.patch * pitch });
        let mut block = crate::pool::take::<T>(if nb > 1 { s.group_out * pitch } else { 0 });
        let taken = sums.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut dw = taken.unwrap_or_else(zeros);
        for gi in 0..g.groups {
            let cols: &[T] = if g.is_pointwise() {
                &x[first * s.sample_in + gi * s.group_in..][..s.group_in]
            } else {
                block_columns(g, s, x, samples.clone(), gi, &mut col);
                &col
            };
            let grads: &[T] = if nb > 1 {
                block_grads(s, grad, samples.clone(), gi, &mut block);
                &block
            } else {
                &grad[first * s.sample_out + gi * s.group_out * s.positions..]
                    [..s.group_out * s.positions]
            };
            gemm_into(
                &mut dw[gi * s.group_out * s.patch..][..s.group_out * s.patch],
                s.patch,
                Strided {
                    data: grads,
                    row: pitch,
                    col: 1,
                },
                Strided {
                    data: cols,
                    row: 1,
                    col: pitch,
                },
                (s.group_out, pitch, s.patch),
                true,
            );
        }
        release(col);
        release(block);
        sums.lock().unwrap_or_else(|p| p.into_inner()).push(dw);
    });
    let mut sums = sums.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut total = sums.pop().unwrap_or_else(zeros);
    for sum in sums {
        total.iter_mut().zip(&sum).for_each(|(t, p)| *t = *t + *p);
        release(sum);
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
            im2col(
                g,
                &x[(n * g.in_channels + c) * plane..][..plane],
                col,
                g.positions(),
            );
        }
    }
    out
}
