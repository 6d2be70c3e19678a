//! Pooling kernels over planes: a tensor `[..., H, W]` is `P` contiguous planes of `H·W`
//! values, and every kernel maps plane `p` of its input to plane `p` of its output, so the
//! planes are split among the kernel threads. Windows are separable: a list of taps along the
//! rows and a list along the columns.

use super::PARALLEL_THRESHOLD;
use super::reduce::sum_run;
use crate::dtype::Float;
use crate::parallel::for_each;
use crate::storage::Data;

/// The taps of one window along one dim: `count` positions from `first`, `step` apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Taps {
    pub first: usize,
    pub count: usize,
    pub step: usize,
}

/// One averaging window along one dim: the positions `start..end`, and the length the average
/// divides by along this dim (which may count padding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
    pub divisor: usize,
}

/// Planes per parallel task for `planes` planes of `values_per_plane` values each (input and
/// output): about a quarter of `PARALLEL_THRESHOLD` values per task, or every plane in one task
/// (run on the calling thread) when all of them hold fewer than `PARALLEL_THRESHOLD`.
fn planes_per_task(planes: usize, values_per_plane: usize) -> usize {
    let total = planes.saturating_mul(values_per_plane.max(1));
    if total < PARALLEL_THRESHOLD || planes < 2 {
        return planes.max(1);
    }
    (PARALLEL_THRESHOLD / 4 / values_per_plane.max(1)).clamp(1, planes)
}

/// Runs `work(p, dst)` for every plane `p` of `out` (`plane` values each), the planes split
/// among the kernel threads by [`planes_per_task`] (`values_per_plane` counting input and
/// output).
fn for_each_plane<T: Send>(
    out: &mut [T],
    plane: usize,
    values_per_plane: usize,
    work: impl Fn(usize, &mut [T]) + Sync,
) {
    if out.is_empty() {
        return;
    }
    let per_task = planes_per_task(out.len() / plane, values_per_plane);
    for_each(
        out.chunks_mut(per_task * plane).enumerate(),
        |(t, chunk)| {
            for (i, dst) in chunk.chunks_exact_mut(plane).enumerate() {
                work(t * per_task + i, dst);
            }
        },
    );
}

/// Max pooling with PyTorch's choice of index: taps are scanned row by row, a value replaces
/// the best so far when it is larger or NaN (so the first maximum wins a tie, the last NaN
/// wins outright), and a window of minus infinities keeps its first tap. Returns the values
/// and, per output, the index of the chosen input within its plane.
pub(crate) fn max_pool<T: Float>(
    x: &[T],
    (h, w): (usize, usize),
    rows: &[Taps],
    cols: &[Taps],
) -> (Data<T>, Vec<u32>) {
    let in_plane = h * w;
    let out_plane = rows.len() * cols.len();
    let planes = x.len().checked_div(in_plane).unwrap_or(0);
    let mut out = crate::pool::take::<T>(planes * out_plane);
    let mut index = vec![0u32; planes * out_plane];
    let halving = halves(rows) && halves(cols);
    if out.is_empty() {
        return (out, index);
    }
    let per_task = planes_per_task(planes, in_plane + out_plane);
    let tasks = out
        .chunks_mut(per_task * out_plane)
        .zip(index.chunks_mut(per_task * out_plane));
    for_each(tasks.enumerate(), |(t, (values, chosen))| {
        let planes = values
            .chunks_exact_mut(out_plane)
            .zip(chosen.chunks_exact_mut(out_plane));
        for (i, (values, chosen)) in planes.enumerate() {
            let p = t * per_task + i;
            let plane = &x[p * in_plane..(p + 1) * in_plane];
            if halving {
                max_plane_2x2(plane, (w, cols.len()), values, chosen);
            } else {
                max_plane(plane, w, (rows, cols), values, chosen);
            }
        }
    });
    (out, index)
}

/// Whether `taps` are the windows of a kernel 2, stride 2 pooling without padding or dilation:
/// window `i` covers positions `2i` and `2i + 1`.
fn halves(taps: &[Taps]) -> bool {
    taps.iter().enumerate().all(|(i, t)| {
        *t == Taps {
            first: 2 * i,
            count: 2,
            step: 1,
        }
    })
}

/// [`max_plane`] for 2×2 windows at stride 2, output row by output row: the four taps of each
/// window are strided reads of two input rows, and the choice (first maximum in scan order, the
/// last NaN) is made by selects rather than branches, so the loop vectorises.
fn max_plane_2x2<T: Float>(
    plane: &[T],
    (w, out_w): (usize, usize),
    values: &mut [T],
    chosen: &mut [u32],
) {
    if out_w == 0 {
        return;
    }
    let rows = values
        .chunks_exact_mut(out_w)
        .zip(chosen.chunks_exact_mut(out_w));
    for (i, (values, chosen)) in rows.enumerate() {
        let top = &plane[2 * i * w..][..2 * out_w];
        let bottom = &plane[(2 * i + 1) * w..][..2 * out_w];
        let (w32, row) = (w as u32, (2 * i * w) as u32);
        for j in 0..out_w {
            let (mut best, mut at) = (top[2 * j], 0u32);
            for (tap, offset) in [
                (top[2 * j + 1], 1),
                (bottom[2 * j], w32),
                (bottom[2 * j + 1], w32 + 1),
            ] {
                // `|` rather than `||`, and NaN as `tap != tap`: no branch on the data.
                #[allow(clippy::eq_op)]
                let take = (tap > best) | (tap != tap);
                best = if take { tap } else { best };
                at = if take { offset } else { at };
            }
            values[j] = best;
            chosen[j] = row + 2 * j as u32 + at;
        }
    }
}

/// One plane of [`max_pool`], window by window, in two passes over the window's taps, neither
/// of which branches on the data (a network's activations are random, and a branch on them
/// mispredicts half the time): the largest value, noting any NaN; then the index PyTorch picks
/// (the first tap equal to the largest, or the last NaN), whose value is the output.
fn max_plane<T: Float>(
    plane: &[T],
    w: usize,
    (rows, cols): (&[Taps], &[Taps]),
    values: &mut [T],
    chosen: &mut [u32],
) {
    let mut o = 0;
    for r in rows {
        for c in cols {
            let tap = |i: usize, j: usize| (r.first + i * r.step) * w + c.first + j * c.step;
            let (mut largest, mut nan) = (T::neg_infinity(), false);
            for i in 0..r.count {
                for j in 0..c.count {
                    let v = plane[tap(i, j)];
                    largest = if v > largest { v } else { largest };
                    nan |= v.is_nan();
                }
            }
            let mut at = tap(0, 0);
            if nan {
                for i in 0..r.count {
                    for j in 0..c.count {
                        let k = tap(i, j);
                        at = if plane[k].is_nan() { k } else { at };
                    }
                }
            } else {
                for i in (0..r.count).rev() {
                    for j in (0..c.count).rev() {
                        let k = tap(i, j);
                        at = if plane[k] == largest { k } else { at };
                    }
                }
            }
            values[o] = plane[at];
            chosen[o] = at as u32;
            o += 1;
        }
    }
}

/// `out[p][o] = x[p][index[p][o]]`: the values at the chosen indices, `out_plane` per plane.
pub(crate) fn gather_planes<T: Float>(
    x: &[T],
    in_plane: usize,
    index: &[u32],
    out_plane: usize,
) -> Data<T> {
    let mut out = crate::pool::take::<T>(index.len());
    for_each_plane(&mut out, out_plane, in_plane + out_plane, |p, dst| {
        let plane = &x[p * in_plane..(p + 1) * in_plane];
        for (d, &i) in dst.iter_mut().zip(&index[p * out_plane..]) {
            *d = plane[i as usize];
        }
    });
    out
}

/// The adjoint of [`gather_planes`]: `out[p][index[p][o]] += g[p][o]`, zero elsewhere, with
/// `in_plane` values per output plane.
pub(crate) fn scatter_planes<T: Float>(
    g: &[T],
    out_plane: usize,
    index: &[u32],
    in_plane: usize,
) -> Data<T> {
    let planes = index.len().checked_div(out_plane).unwrap_or(0);
    let mut out = crate::pool::take::<T>(planes * in_plane);
    for_each_plane(&mut out, in_plane, in_plane + out_plane, |p, dst| {
        dst.fill(T::zero());
        let src = &g[p * out_plane..(p + 1) * out_plane];
        for (&v, &i) in src.iter().zip(&index[p * out_plane..]) {
            dst[i as usize] = dst[i as usize] + v;
        }
    });
    out
}

/// Average pooling: every output is the sum over its window divided by the product of the
/// window's divisors along the two dims.
pub(crate) fn average<T: Float>(
    x: &[T],
    (h, w): (usize, usize),
    rows: &[Span],
    cols: &[Span],
) -> Data<T> {
    let in_plane = h * w;
    let out_plane = rows.len() * cols.len();
    let planes = x.len().checked_div(in_plane).unwrap_or(0);
    let mut out = crate::pool::take::<T>(planes * out_plane);
    for_each_plane(&mut out, out_plane, in_plane + out_plane, |p, dst| {
        let plane = &x[p * in_plane..(p + 1) * in_plane];
        let mut o = 0;
        for r in rows {
            for c in cols {
                let sum = if c.start == 0 && c.end == w {
                    // Whole rows (a global average, say): one contiguous run.
                    T::from_f64(sum_run(&plane[r.start * w..r.end * w]))
                } else {
                    let mut sum = T::zero();
                    for i in r.start..r.end {
                        sum = sum + plane[i * w + c.start..i * w + c.end].iter().copied().sum();
                    }
                    sum
                };
                dst[o] = sum / T::from_f64(r.divisor as f64 * c.divisor as f64);
                o += 1;
            }
        }
    });
    out
}

/// The adjoint of [`average`]: each output's gradient divided by its window's divisor and
/// added to every input of the window.
pub(crate) fn average_adjoint<T: Float>(
    g: &[T],
    (h, w): (usize, usize),
    rows: &[Span],
    cols: &[Span],
) -> Data<T> {
    let in_plane = h * w;
    let out_plane = rows.len() * cols.len();
    let planes = g.len().checked_div(out_plane).unwrap_or(0);
    let mut out = crate::pool::take::<T>(planes * in_plane);
    for_each_plane(&mut out, in_plane, in_plane + out_plane, |p, dst| {
        let src = &g[p * out_plane..(p + 1) * out_plane];
        dst.fill(T::zero());
        let mut o = 0;
        for r in rows {
            for c in cols {
                let v = src[o] / T::from_f64(r.divisor as f64 * c.divisor as f64);
                for i in r.start..r.end {
                    for d in &mut dst[i * w + c.start..i * w + c.end] {
                        *d = *d + v;
                    }
                }
                o += 1;
            }
        }
    });
    out
}
