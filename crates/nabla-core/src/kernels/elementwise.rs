//! Elementwise kernels: map one tensor, zip two under broadcasting, select between two by a
//! condition. Contiguous operands take a straight (vectorisable, possibly parallel) loop.

use super::PARALLEL_THRESHOLD;
use crate::dtype::Element;
use crate::parallel::for_each_chunk_mut;
use crate::shape::{Dims, Layout, broadcast_strides};
use crate::simd::with_simd;
use crate::storage::{Data, Storage};
use crate::tensor::Tensor;

/// Elements per parallel task: large enough that scheduling is noise, small enough to balance.
const CHUNK: usize = 1 << 14;

/// Below this many elements a kernel runs its plain loop: the wide build's dispatch costs more
/// than it saves.
const SIMD_MIN: usize = 64;

/// Fills `out` chunk by chunk, in parallel when it is long; `fill(start, chunk)` writes the
/// values of positions `start..start + chunk.len()`.
pub(crate) fn fill_chunks<U: Element>(out: &mut [U], fill: impl Fn(usize, &mut [U]) + Sync) {
    if out.len() < SIMD_MIN {
        fill(0, out);
    } else if out.len() >= PARALLEL_THRESHOLD {
        for_each_chunk_mut(out, CHUNK, |start, chunk| with_simd(|| fill(start, chunk)));
    } else {
        with_simd(|| fill(0, out));
    }
}

/// `f` applied to every element, as a new contiguous vector.
pub(crate) fn map<T: Element, U: Element>(x: &Tensor, f: impl Fn(T) -> U + Sync) -> Data<U> {
    x.read(|src: &[T]| {
        let mut out = crate::pool::take(src.len());
        fill_chunks(&mut out, |start, chunk| {
            for (o, &v) in chunk.iter_mut().zip(&src[start..]) {
                *o = f(v);
            }
        });
        out
    })
}

/// `f(a, b)` over the broadcast shape `out_shape`, as a new contiguous vector.
pub(crate) fn zip<T: Element, U: Element>(
    a: &Tensor,
    b: &Tensor,
    out_shape: &[usize],
    f: impl Fn(T, T) -> U + Sync,
) -> Data<U> {
    let n: usize = out_shape.iter().product();
    let full = |t: &Tensor| t.numel() == n;
    let mut out = crate::pool::take(n);
    if a.shape() == b.shape() {
        a.read(|xa: &[T]| {
            b.read(|xb: &[T]| {
                fill_chunks(&mut out, |start, chunk| {
                    for ((o, &p), &q) in chunk.iter_mut().zip(&xa[start..]).zip(&xb[start..]) {
                        *o = f(p, q);
                    }
                })
            })
        });
    } else if b.numel() == 1 && full(a) {
        let q = b.read(|xb: &[T]| xb[0]);
        a.read(|xa: &[T]| {
            fill_chunks(&mut out, |start, chunk| {
                for (o, &p) in chunk.iter_mut().zip(&xa[start..]) {
                    *o = f(p, q);
                }
            })
        });
    } else if a.numel() == 1 && full(b) {
        let p = a.read(|xa: &[T]| xa[0]);
        b.read(|xb: &[T]| {
            fill_chunks(&mut out, |start, chunk| {
                for (o, &q) in chunk.iter_mut().zip(&xb[start..]) {
                    *o = f(p, q);
                }
            })
        });
    } else {
        with_simd(|| strided_zip(a, b, out_shape, &f, &mut out));
    }
    out
}

/// General broadcasting zip. Adjacent dims that both operands step through uniformly are merged
/// first, so the inner loop usually runs over a long contiguous or repeated run.
fn strided_zip<T: Element, U: Element>(
    a: &Tensor,
    b: &Tensor,
    out_shape: &[usize],
    f: &impl Fn(T, T) -> U,
    out: &mut [U],
) {
    let (shape, sa, sb) = coalesce(
        out_shape,
        &broadcast_strides(a.layout(), out_shape),
        &broadcast_strides(b.layout(), out_shape),
    );
    if out.is_empty() {
        return;
    }
    let ga = a.0.storage.read();
    let gb = b.0.storage.read();
    let da = &Storage::slice_of::<T>(&ga)[a.layout().offset..];
    let db = &Storage::slice_of::<T>(&gb)[b.layout().offset..];
    let last = shape.len() - 1;
    let (inner, ia, ib) = (shape[last], sa[last], sb[last]);
    let outer = |strides: &[usize]| Layout {
        shape: shape[..last].into(),
        strides: strides[..last].into(),
        offset: 0,
    };
    let mut starts_b = Vec::with_capacity(out.len() / inner);
    outer(&sb).for_each_index(|j| starts_b.push(j));
    let mut rows = out.chunks_mut(inner).zip(starts_b);
    outer(&sa).for_each_index(|pa| {
        let (row, pb) = rows.next().expect("one row per outer index");
        match (ia, ib) {
            (1, 1) => {
                for ((o, &x), &y) in row
                    .iter_mut()
                    .zip(&da[pa..pa + inner])
                    .zip(&db[pb..pb + inner])
                {
                    *o = f(x, y);
                }
            }
            (1, 0) => {
                let y = db[pb];
                for (o, &x) in row.iter_mut().zip(&da[pa..pa + inner]) {
                    *o = f(x, y);
                }
            }
            (0, 1) => {
                let x = da[pa];
                for (o, &y) in row.iter_mut().zip(&db[pb..pb + inner]) {
                    *o = f(x, y);
                }
            }
            _ => {
                for (i, o) in row.iter_mut().enumerate() {
                    *o = f(da[pa + i * ia], db[pb + i * ib]);
                }
            }
        }
    });
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
            && la == sa[i] * shape[i]
            && lb == sb[i] * shape[i]
        {
            let k = shape_out.len() - 1;
            shape_out[k] = last * shape[i];
            a_out[k] = sa[i];
            b_out[k] = sb[i];
            continue;
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
    let mut out = vec![T::default(); layout.numel()];
    layout.gather_into(Storage::slice_of::<T>(&guard), &mut out);
    out
}
