//! Indexing kernels: gather and its adjoint scatter-add along one dimension, and concatenation.
//! Positions split as (outer, along `dim`, inner), the index sharing every dim but `dim` with
//! the data.

use super::PARALLEL_THRESHOLD;
use crate::dtype::Element;
use crate::parallel::for_each_chunk_mut;
use crate::storage::Data;

/// Sizes before, at and after `dim`.
pub(crate) fn split_at_dim(shape: &[usize], dim: usize) -> (usize, usize, usize) {
    let outer = shape[..dim].iter().product();
    let inner = shape[dim + 1..].iter().product();
    (outer, shape[dim], inner)
}

/// `out[o, j, i] = src[o, index[o, j, i], i]` with `src` of size `src_dim` along `dim`.
pub(crate) fn gather<T: Element>(
    src: &[T],
    src_dim: usize,
    index: &[i64],
    index_shape: (usize, usize, usize),
) -> Vec<T> {
    let (outer, along, inner) = index_shape;
    let mut out = Vec::with_capacity(index.len());
    for o in 0..outer {
        for j in 0..along {
            for i in 0..inner {
                let at = index[(o * along + j) * inner + i] as usize;
                out.push(src[(o * src_dim + at) * inner + i]);
            }
        }
    }
    out
}

/// `out[o, j, i] = src[o, indices[j], i]`: whole runs of `inner` values copied at once, and
/// consecutive indices merged into one copy (rows in order cost one copy per block). A large
/// output is filled in parallel pieces of whole runs.
pub(crate) fn select<T: Element>(
    src: &[T],
    (outer, src_dim, inner): (usize, usize, usize),
    indices: &[usize],
) -> Data<T> {
    let along = indices.len();
    let mut out = crate::pool::take(outer * along * inner);
    if out.is_empty() {
        return out;
    }
    // Output run `r` (of `inner` values) is input run `o * src_dim + indices[j]`, r = o·along + j.
    let source_run = |r: usize| (r / along) * src_dim + indices[r % along];
    let fill = |first_run: usize, part: &mut [T]| {
        let runs = part.len() / inner;
        let mut r = 0;
        while r < runs {
            let start = source_run(first_run + r);
            let mut len = 1;
            while r + len < runs && source_run(first_run + r + len) == start + len {
                len += 1;
            }
            part[r * inner..(r + len) * inner]
                .copy_from_slice(&src[start * inner..(start + len) * inner]);
            r += len;
        }
    };
    if out.len() >= PARALLEL_THRESHOLD {
        let runs_per_task = (PARALLEL_THRESHOLD / inner).max(1);
        for_each_chunk_mut(&mut out, runs_per_task * inner, |start, part| {
            fill(start / inner, part)
        });
    } else {
        fill(0, &mut out);
    }
    out
}

/// `dst[o, index[o, j, i], i] += src[o, j, i]`, the adjoint of [`gather`].
pub(crate) fn scatter_add<T: Element + std::ops::AddAssign>(
    dst: &mut [T],
    dst_dim: usize,
    index: &[i64],
    src: &[T],
    index_shape: (usize, usize, usize),
) {
    let (outer, along, inner) = index_shape;
    for o in 0..outer {
        for j in 0..along {
            for i in 0..inner {
                let p = (o * along + j) * inner + i;
                let at = index[p] as usize;
                dst[(o * dst_dim + at) * inner + i] += src[p];
            }
        }
    }
}

/// Concatenates contiguous parts along a dim: part `p` has `sizes[p]` rows of `inner` values
/// within each of `outer` blocks.
pub(crate) fn concat<T: Element>(
    parts: &[Vec<T>],
    sizes: &[usize],
    outer: usize,
    inner: usize,
) -> Vec<T> {
    let total: usize = sizes.iter().sum();
    let mut out = Vec::with_capacity(outer * total * inner);
    for o in 0..outer {
        for (part, &size) in parts.iter().zip(sizes) {
            out.extend_from_slice(&part[o * size * inner..(o + 1) * size * inner]);
        }
    }
    out
}

/// `dst[indices[j]] += src[j]` over rows of `inner` values, skipping the rows whose index is
/// `skip`: the adjoint of [`select`] along the first dim.
pub(crate) fn add_rows<T: Element + std::ops::AddAssign>(
    dst: &mut [T],
    src: &[T],
    indices: &[usize],
    inner: usize,
    skip: Option<usize>,
) {
    if inner == 0 {
        return;
    }
    for (&at, row) in indices.iter().zip(src.chunks_exact(inner)) {
        if Some(at) != skip {
            for (d, &s) in dst[at * inner..(at + 1) * inner].iter_mut().zip(row) {
                *d += s;
            }
        }
    }
}
