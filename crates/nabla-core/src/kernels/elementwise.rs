//! Elementwise kernels: map one tensor, zip two under broadcasting, select between two by a
//! condition. Contiguous operands take a straight (vectorisable, possibly parallel) loop.

use super::PARALLEL_THRESHOLD;
use crate::dtype::Element;
use crate::shape::{Dims, Layout, broadcast_strides};
use crate::storage::Storage;
use crate::tensor::Tensor;
use rayon::prelude::*;

/// `f` applied to every element, as a new contiguous vector.
pub(crate) fn map<T: Element, U: Element>(x: &Tensor, f: impl Fn(T) -> U + Sync) -> Vec<U> {
    x.read(|src: &[T]| {
        if src.len() >= PARALLEL_THRESHOLD {
            src.par_iter().map(|&v| f(v)).collect()
        } else {
            src.iter().map(|&v| f(v)).collect()
        }
    })
}

/// `f(a, b)` over the broadcast shape `out_shape`, as a new contiguous vector.
pub(crate) fn zip<T: Element, U: Element>(
    a: &Tensor,
    b: &Tensor,
    out_shape: &[usize],
    f: impl Fn(T, T) -> U + Sync,
) -> Vec<U> {
    let n: usize = out_shape.iter().product();
    if a.shape() == b.shape() {
        return a.read(|xa: &[T]| {
            b.read(|xb: &[T]| {
                if n >= PARALLEL_THRESHOLD {
                    xa.par_iter().zip(xb).map(|(&p, &q)| f(p, q)).collect()
                } else {
                    xa.iter().zip(xb).map(|(&p, &q)| f(p, q)).collect()
                }
            })
        });
    }
    if b.numel() == 1 {
        let q = b.read(|xb: &[T]| xb[0]);
        return a.read(|xa: &[T]| {
            let a_full = xa.len() == n;
            if a_full {
                xa.iter().map(|&p| f(p, q)).collect()
            } else {
                strided_zip(a, b, out_shape, &f)
            }
        });
    }
    if a.numel() == 1 {
        let p = a.read(|xa: &[T]| xa[0]);
        if b.numel() == n {
            return b.read(|xb: &[T]| xb.iter().map(|&q| f(p, q)).collect());
        }
    }
    strided_zip(a, b, out_shape, &f)
}

/// General broadcasting zip. Adjacent dims that both operands step through uniformly are merged
/// first, so the inner loop usually runs over a long contiguous or repeated run.
fn strided_zip<T: Element, U: Element>(
    a: &Tensor,
    b: &Tensor,
    out_shape: &[usize],
    f: &impl Fn(T, T) -> U,
) -> Vec<U> {
    let (shape, sa, sb) = coalesce(
        out_shape,
        &broadcast_strides(a.layout(), out_shape),
        &broadcast_strides(b.layout(), out_shape),
    );
    let ga = a.0.storage.read();
    let gb = b.0.storage.read();
    let da = &Storage::slice_of::<T>(&ga)[a.layout().offset..];
    let db = &Storage::slice_of::<T>(&gb)[b.layout().offset..];
    let n: usize = shape.iter().product();
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    let last = shape.len() - 1;
    let (inner, ia, ib) = (shape[last], sa[last], sb[last]);
    let outer = Layout {
        shape: shape[..last].into(),
        strides: sa[..last].into(),
        offset: 0,
    };
    let outer_b = Layout {
        shape: shape[..last].into(),
        strides: sb[..last].into(),
        offset: 0,
    };
    let mut starts_b = Vec::with_capacity(n / inner);
    outer_b.for_each_index(|j| starts_b.push(j));
    let mut row = 0;
    outer.for_each_index(|pa| {
        let pb = starts_b[row];
        row += 1;
        match (ia, ib) {
            (1, 1) => out.extend(
                da[pa..pa + inner]
                    .iter()
                    .zip(&db[pb..pb + inner])
                    .map(|(&x, &y)| f(x, y)),
            ),
            (1, 0) => {
                let y = db[pb];
                out.extend(da[pa..pa + inner].iter().map(|&x| f(x, y)));
            }
            (0, 1) => {
                let x = da[pa];
                out.extend(db[pb..pb + inner].iter().map(|&y| f(x, y)));
            }
            _ => out.extend((0..inner).map(|i| f(da[pa + i * ia], db[pb + i * ib]))),
        }
    });
    out
}

/// Merges adjacent dims where both stride patterns are row-major-continuous, and drops size-1
/// dims; returns the merged shape and the strides of each operand over it.
fn coalesce(shape: &[usize], sa: &[usize], sb: &[usize]) -> (Dims, Dims, Dims) {
    let (mut shape_out, mut a_out, mut b_out) = (Dims::new(), Dims::new(), Dims::new());
    for i in 0..shape.len() {
        if shape[i] == 1 {
            continue;
        }
        if let (Some(&last), Some(&la), Some(&lb)) = (shape_out.last(), a_out.last(), b_out.last())
        {
            if la == sa[i] * shape[i] && lb == sb[i] * shape[i] {
                let k = shape_out.len() - 1;
                shape_out[k] = last * shape[i];
                a_out[k] = sa[i];
                b_out[k] = sb[i];
                continue;
            }
        }
        shape_out.push(shape[i]);
        a_out.push(sa[i]);
        b_out.push(sb[i]);
    }
    if shape_out.is_empty() {
        shape_out.push(1);
        a_out.push(0);
        b_out.push(0);
    }
    (shape_out, a_out, b_out)
}

/// Reads `x` broadcast to `shape` as a contiguous vector.
pub(crate) fn expand_to_vec<T: Element>(x: &Tensor, shape: &[usize]) -> Vec<T> {
    let layout = Layout {
        shape: shape.into(),
        strides: broadcast_strides(x.layout(), shape),
        offset: x.layout().offset,
    };
    let guard = x.0.storage.read();
    let s = Storage::slice_of::<T>(&guard);
    let mut out = Vec::with_capacity(layout.numel());
    layout.for_each_index(|i| out.push(s[i]));
    out
}
