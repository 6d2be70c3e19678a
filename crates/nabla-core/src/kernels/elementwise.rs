//! Elementwise kernels: map one tensor, zip two under broadcasting, select between two by a
//! condition. Contiguous operands take a straight (vectorisable, possibly parallel) loop.

use super::PARALLEL_THRESHOLD;
use crate::dtype::Element;
use crate::shape::{Layout, broadcast_strides};
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

/// General broadcasting zip: walks both operands with broadcast strides.
fn strided_zip<T: Element, U: Element>(
    a: &Tensor,
    b: &Tensor,
    out_shape: &[usize],
    f: &impl Fn(T, T) -> U,
) -> Vec<U> {
    let la = Layout {
        shape: out_shape.into(),
        strides: broadcast_strides(a.layout(), out_shape),
        offset: a.layout().offset,
    };
    let lb = Layout {
        shape: out_shape.into(),
        strides: broadcast_strides(b.layout(), out_shape),
        offset: b.layout().offset,
    };
    let ga = a.0.storage.read();
    let gb = b.0.storage.read();
    let sa = Storage::slice_of::<T>(&ga);
    let sb = Storage::slice_of::<T>(&gb);
    let mut ia = Vec::with_capacity(la.numel());
    la.for_each_index(|i| ia.push(i));
    let mut out = Vec::with_capacity(ia.len());
    let mut k = 0;
    lb.for_each_index(|j| {
        out.push(f(sa[ia[k]], sb[j]));
        k += 1;
    });
    out
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
