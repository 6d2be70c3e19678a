//! Indexing kernels: gather and its adjoint scatter-add along one dimension, and concatenation.
//! Positions split as (outer, along `dim`, inner), the index sharing every dim but `dim` with
//! the data.

use crate::dtype::Element;

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
