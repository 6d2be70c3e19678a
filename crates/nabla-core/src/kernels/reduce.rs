//! Reductions over a set of dimensions: the reduced dims are moved last (a free view), so every
//! output element reduces one contiguous run.

use super::PARALLEL_THRESHOLD;
use crate::dtype::{Element, Float};
use crate::error::Result;
use crate::parallel::for_each_chunk_mut;
use crate::shape::{Dims, Layout};
use crate::tensor::Tensor;

/// Reduces `x` over `dims` (sorted, unique) with `f`, one output per kept position, row-major;
/// an error naming `op` when the runs must be gathered and the copy could not be held in
/// memory.
pub(crate) fn reduce<T: Element, U: Element>(
    op: &'static str,
    x: &Tensor,
    dims: &[usize],
    f: impl Fn(&[T]) -> U + Sync + Send,
) -> Result<Vec<U>> {
    let layout = x.layout();
    let ndim = layout.shape.len();
    let mut order: Dims = (0..ndim).filter(|d| !dims.contains(d)).collect();
    order.extend(dims.iter().copied());
    let permuted = Layout {
        shape: order.iter().map(|&d| layout.shape[d]).collect(),
        strides: order.iter().map(|&d| layout.strides[d]).collect(),
        offset: layout.offset,
    };
    let run: usize = dims.iter().map(|&d| layout.shape[d]).product();
    let outer: usize = (0..ndim)
        .filter(|d| !dims.contains(d))
        .map(|d| layout.shape[d])
        .product();
    if run == 0 {
        return Ok((0..outer).map(|_| f(&[])).collect());
    }
    x.view_with(permuted).try_read(op, |data: &[T]| {
        if data.len() >= PARALLEL_THRESHOLD && outer > 1 {
            let mut out = vec![U::default(); outer];
            let outputs_per_task = (PARALLEL_THRESHOLD / 4 / run).max(1);
            for_each_chunk_mut(&mut out, outputs_per_task, |start, part| {
                for (j, o) in part.iter_mut().enumerate() {
                    *o = f(&data[(start + j) * run..(start + j + 1) * run]);
                }
            });
            out
        } else {
            data.chunks(run).map(&f).collect()
        }
    })
}

/// Columns per task when one block of rows is summed down its columns by several threads.
const COLUMNS_PER_TASK: usize = 64;

/// Sum over `dims` (sorted, unique), accumulated in f64. When the tensor is contiguous and the
/// reduced dims are adjacent, `[outer, reduced, inner]`, whole rows of `inner` values are
/// added at once (a bias gradient, a sum over the batch, runs at memory speed); otherwise
/// every output reduces one gathered run.
pub(crate) fn sum<T: Float>(x: &Tensor, dims: &[usize]) -> Result<Vec<T>> {
    let shape = x.shape();
    if let Some(sums) = sum_around(x, dims) {
        return sums;
    }
    let adjacent = dims.windows(2).all(|w| w[1] == w[0] + 1);
    let inner: usize = dims.last().map_or(1, |&d| shape[d + 1..].iter().product());
    if !x.is_contiguous() || !adjacent || dims.is_empty() || inner == 1 || x.numel() == 0 {
        return reduce("sum", x, dims, |run: &[T]| T::from_f64(sum_run(run)));
    }
    let outer: usize = shape[..dims[0]].iter().product();
    let reduced: usize = dims.iter().map(|&d| shape[d]).product();
    x.try_read("sum", |data: &[T]| {
        let mut out = vec![T::zero(); outer * inner];
        // Columns `start..` of block `b`'s sums, each added in row order (the same order
        // however the columns are shared out), in `acc`.
        let add = |b: usize, start: usize, part: &mut [T], acc: &mut [f64]| {
            acc.fill(0.0);
            for row in data[b * reduced * inner..][..reduced * inner].chunks(inner) {
                let row = &row[start..start + part.len()];
                acc.iter_mut().zip(row).for_each(|(a, &v)| *a += v.as_f64());
            }
            part.iter_mut()
                .zip(&*acc)
                .for_each(|(o, &a)| *o = T::from_f64(a));
        };
        // One block (a bias gradient's sum over the batch) is cut into runs of columns for
        // the threads; several blocks go one after the other.
        if outer == 1 && data.len() >= PARALLEL_THRESHOLD && inner >= 2 * COLUMNS_PER_TASK {
            for_each_chunk_mut(&mut out, COLUMNS_PER_TASK, |start, part| {
                add(0, start, part, &mut vec![0.0; part.len()])
            });
        } else {
            let mut acc = vec![0.0; inner];
            for (b, part) in out.chunks_mut(inner).enumerate() {
                add(b, 0, part, &mut acc);
            }
        }
        out
    })
}

/// [`sum`] when the tensor is contiguous and the kept dims are adjacent with reduced dims on
/// both sides, `[outer, kept, inner]` (a convolution's bias gradient sums `[N, C, H, W]` over
/// N, H and W): each output adds its `outer` runs of `inner` values in place, with no gathered
/// copy. `None` for any other case.
fn sum_around<T: Float>(x: &Tensor, dims: &[usize]) -> Option<Result<Vec<T>>> {
    let shape = x.shape();
    let kept: Dims = (0..shape.len()).filter(|d| !dims.contains(d)).collect();
    let (&first, &last) = (kept.first()?, kept.last()?);
    let adjacent = last - first + 1 == kept.len();
    if !x.is_contiguous() || !adjacent || first == 0 || last + 1 == shape.len() || x.numel() == 0 {
        return None;
    }
    let outer: usize = shape[..first].iter().product();
    let mid: usize = shape[first..=last].iter().product();
    let inner: usize = shape[last + 1..].iter().product();
    Some(x.try_read("sum", |data: &[T]| {
        let mut out = vec![T::zero(); mid];
        let outputs_per_task = (PARALLEL_THRESHOLD / 4 / (outer * inner)).max(1);
        let add = |start: usize, part: &mut [T]| {
            for (j, o) in part.iter_mut().enumerate() {
                let total: f64 = (0..outer)
                    .map(|b| sum_run(&data[(b * mid + start + j) * inner..][..inner]))
                    .sum();
                *o = T::from_f64(total);
            }
        };
        if data.len() >= PARALLEL_THRESHOLD && mid > 1 {
            for_each_chunk_mut(&mut out, outputs_per_task, add);
        } else {
            add(0, &mut out);
        }
        out
    }))
}

/// Sum of a run in f64 with eight independent accumulators, so the additions pipeline and
/// vectorise instead of waiting on one another.
pub(crate) fn sum_run<T: Float>(run: &[T]) -> f64 {
    let mut lanes = [0.0f64; 8];
    let chunks = run.chunks_exact(8);
    let tail: f64 = chunks.remainder().iter().map(|v| v.as_f64()).sum();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += v.as_f64();
        }
    }
    lanes.iter().sum::<f64>() + tail
}
