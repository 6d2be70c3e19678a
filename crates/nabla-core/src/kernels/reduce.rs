//! Reductions over a set of dimensions: the reduced dims are moved last (a free view), so every
//! output element reduces one contiguous run.

use super::PARALLEL_THRESHOLD;
use crate::dtype::Element;
use crate::shape::{Dims, Layout};
use crate::tensor::Tensor;
use rayon::prelude::*;

/// Reduces `x` over `dims` (sorted, unique) with `f`, one output per kept position, row-major.
pub(crate) fn reduce<T: Element, U: Element>(
    x: &Tensor,
    dims: &[usize],
    f: impl Fn(&[T]) -> U + Sync + Send,
) -> Vec<U> {
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
        return (0..outer).map(|_| f(&[])).collect();
    }
    x.view_with(permuted).read(|data: &[T]| {
        if data.len() >= PARALLEL_THRESHOLD && outer > 1 {
            data.par_chunks(run).map(&f).collect()
        } else {
            data.chunks(run).map(&f).collect()
        }
    })
}
