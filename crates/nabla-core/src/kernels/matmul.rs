//! Batched matrix multiplication on the `gemm` crate, which reads operands through arbitrary
//! strides: transposed views (as in matmul's backward, G·Bᵀ and Aᵀ·G) cost no copy.

use crate::dtype::Float;
use crate::shape::{Dims, Layout, broadcast_strides};
use crate::storage::Storage;
use crate::tensor::Tensor;
use gemm::Parallelism;
use rayon::prelude::*;

/// Products of at least this many multiply-adds use all threads inside one GEMM.
const PARALLEL_FLOPS: usize = 48 * 48 * 48;

/// `a @ b` for `a: [..., m, k]`, `b: [..., k, n]` with broadcast batch dims `batch`, plus
/// `bias` (`n` values added to every row) when given: the GEMM accumulates onto rows that
/// start as the bias, so the addition costs no pass of its own.
pub(crate) fn matmul<T: Float>(
    a: &Tensor,
    b: &Tensor,
    batch: &[usize],
    (m, k, n): (usize, usize, usize),
    bias: Option<&[T]>,
) -> Vec<T> {
    let batch_count: usize = batch.iter().product();
    let mut out = match bias {
        Some(row) => row
            .iter()
            .copied()
            .cycle()
            .take(batch_count * m * n)
            .collect(),
        None => vec![T::default(); batch_count * m * n],
    };
    if out.is_empty() {
        return out;
    }
    let offsets = |t: &Tensor| -> Vec<usize> {
        let l = t.layout();
        let nb = l.shape.len() - 2;
        let batch_layout = Layout {
            shape: l.shape[..nb].into(),
            strides: l.strides[..nb].into(),
            offset: l.offset,
        };
        let view = Layout {
            shape: batch.into(),
            strides: broadcast_strides(&batch_layout, batch),
            offset: l.offset,
        };
        let mut v = Vec::with_capacity(batch_count);
        view.for_each_index(|i| v.push(i));
        v
    };
    let (oa, ob) = (offsets(a), offsets(b));
    let row_col = |t: &Tensor| -> (isize, isize) {
        let s: &Dims = &t.layout().strides;
        (s[s.len() - 2] as isize, s[s.len() - 1] as isize)
    };
    let (a_rs, a_cs) = row_col(a);
    let (b_rs, b_cs) = row_col(b);
    let ga = a.0.storage.read();
    let gb = b.0.storage.read();
    let sa = Storage::slice_of::<T>(&ga);
    let sb = Storage::slice_of::<T>(&gb);
    let threads = rayon::current_num_threads();
    let big = m * n * k >= PARALLEL_FLOPS;
    let run = |(i, dst): (usize, &mut [T])| {
        let parallelism = if big && batch_count == 1 && threads > 1 {
            Parallelism::Rayon(threads)
        } else {
            Parallelism::None
        };
        // SAFETY: the offsets and strides come from the operands' layouts, which stay inside
        // their storages for every (row, col) of an m×k and a k×n matrix; dst holds m×n values.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                dst.as_mut_ptr(),
                1,
                n as isize,
                bias.is_some(),
                sa.as_ptr().add(oa[i]),
                a_cs,
                a_rs,
                sb.as_ptr().add(ob[i]),
                b_cs,
                b_rs,
                T::one(),
                T::one(),
                false,
                false,
                false,
                parallelism,
            );
        }
    };
    if batch_count > 1 && big {
        out.par_chunks_mut(m * n).enumerate().for_each(run);
    } else {
        out.chunks_mut(m * n).enumerate().for_each(run);
    }
    out
}
