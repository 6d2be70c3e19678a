//! An LSTM layer's whole sequence in one kernel, forward and backward, as PyTorch's and cuDNN's
//! fused RNNs run it: the recurrent weight is laid out once per sequence for every step's
//! product, the batch's rows are cut between the kernel threads once per sequence (a row's
//! state never depends on another row's, so the thread that owns a block of rows runs their
//! product and cell through every step, and in backward their cell's backward and their share
//! of `dG·W_hh`, with no meeting between steps), and the weight's gradient is one GEMM over all
//! the steps (`Σ_t dG_tᵀ·h_{t−1}`) instead of one per step.
//!
//! Layouts (row-major): the input's gate pre-activations `x` `[T, N, 4H]` (gates i, f, g, o),
//! `W_hh` `[4H, H]`, the initial states `[N, H]`; the output `[T, N, 2H]` holds `[h_t | c_t]`
//! of every step, the workspace `[T, N, 5H]` the activated gates and `tanh c_t`.

use super::matmul::{Strided, gemm_into};
use super::recurrent::{lstm_row_backward, lstm_row_in_place};
use crate::dtype::Float;
use crate::parallel::{SharedMut, for_each_task, num_threads, team_is_busy};
use crate::pool::take;
use crate::simd::with_simd;
use crate::storage::Data;

/// The fewest rows a thread is given per step: below it, a block's GEMM is mostly edges.
const MIN_ROWS: usize = 16;

/// The fewest rows of the weight's gradient a thread is given.
const MIN_WEIGHT_ROWS: usize = 32;

/// The sizes of a sequence and its direction: `T` steps of `N` rows of `H` hidden values,
/// run from the last step to the first when `reverse`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Steps {
    pub(crate) t: usize,
    pub(crate) n: usize,
    pub(crate) h: usize,
    pub(crate) reverse: bool,
}

impl Steps {
    /// The time step run `s`-th.
    pub(crate) fn at(self, s: usize) -> usize {
        if self.reverse { self.t - 1 - s } else { s }
    }

    /// How many blocks the batch's rows are cut into: one per thread, each of at least
    /// [`MIN_ROWS`] rows.
    fn blocks(self) -> usize {
        block_count(self.n, MIN_ROWS)
    }
}

/// How many blocks `len` rows are cut into: one per thread, each of at least `min` rows (one
/// block when the thread team is already busy).
fn block_count(len: usize, min: usize) -> usize {
    if team_is_busy() {
        1
    } else {
        num_threads().min(len / min).max(1)
    }
}

/// Rows `start..end` of `len` rows cut into `count` blocks: block `b`'s.
fn block(b: usize, count: usize, len: usize) -> (usize, usize) {
    (b * len / count, (b + 1) * len / count)
}

/// The state a step starts from, for rows `r0..`: `h` and `c` with `stride` values from one row
/// to the next.
struct Previous<'a, T> {
    h: &'a [T],
    c: &'a [T],
    stride: usize,
}

impl<'a, T> Previous<'a, T> {
    /// The state before the step run `s`-th, for rows `r0..r1`: the initial state, or the step
    /// run before it (`out` holds every step's `[h | c]`).
    ///
    /// # Safety
    /// `out` must point to the output buffer of `d`, whose step run `s − 1` is written and
    /// stays unwritten while the result lives.
    unsafe fn at(
        d: Steps,
        s: usize,
        (r0, r1): (usize, usize),
        out: *const T,
        (h0, c0): (&'a [T], &'a [T]),
    ) -> Self {
        let h = d.h;
        if s == 0 {
            return Previous {
                h: &h0[r0 * h..r1 * h],
                c: &c0[r0 * h..r1 * h],
                stride: h,
            };
        }
        let start = (d.at(s - 1) * d.n + r0) * 2 * h;
        // SAFETY: rows r0..r1 of that step lie inside the buffer (the caller's contract), and
        // nothing writes them meanwhile.
        let rows = unsafe { std::slice::from_raw_parts(out.add(start), (r1 - r0) * 2 * h) };
        Previous {
            h: rows,
            c: &rows[h..],
            stride: 2 * h,
        }
    }

    /// Row `j`'s cell state.
    fn c_row(&self, j: usize, h: usize) -> &'a [T] {
        &self.c[j * self.stride..j * self.stride + h]
    }
}

/// The part of a buffer of `[T, N, width]` values holding rows `r0..r1` of step `t`.
///
/// # Safety
/// `buf` must hold `T·N·width` values, and no other reference may touch that part while the
/// slice lives.
unsafe fn rows_mut<'a, T>(
    buf: SharedMut<T>,
    d: Steps,
    t: usize,
    (r0, r1): (usize, usize),
    width: usize,
) -> &'a mut [T] {
    // SAFETY: inside the buffer (the caller's contract), and touched by no one else.
    unsafe { std::slice::from_raw_parts_mut(buf.at((t * d.n + r0) * width), (r1 - r0) * width) }
}

/// The forward pass: from the pre-activations `x`, `W_hh` `w` and the initial state, every
/// step's `[h | c]` (`[T, N, 2H]`) and the workspace backward reads (`[T, N, 5H]`).
pub(crate) fn lstm_sequence_forward<T: Float>(
    x: &[T],
    w: &[T],
    (h0, c0): (&[T], &[T]),
    d: Steps,
) -> (Data<T>, Data<T>) {
    let Steps { t: steps, n, h, .. } = d;
    let (mut out, mut ws) = (take(steps * n * 2 * h), take(steps * n * 5 * h));
    if out.is_empty() {
        return (out, ws);
    }
    // W_hhᵀ, [H, 4H]: every step's product reads it row-major.
    let mut wt: Data<T> = take(4 * h * h);
    for (r, row) in w.chunks_exact(h).enumerate() {
        for (k, &v) in row.iter().enumerate() {
            wt[k * 4 * h + r] = v;
        }
    }
    let wt = Strided {
        data: &wt[..],
        row: 4 * h,
        col: 1,
    };
    let blocks = d.blocks();
    let (out_at, ws_at) = (SharedMut(out.as_mut_ptr()), SharedMut(ws.as_mut_ptr()));
    // A row's state depends on no other row's: each task runs its rows through every step.
    let task = |b: usize| {
        let rows = block(b, blocks, n);
        for s in 0..steps {
            let t = d.at(s);
            // SAFETY: step `t`'s rows of this block are this task's alone; the step before
            // (read through `prev`, the same rows) was finished by this task.
            let (prev, out_t, ws_t) = unsafe {
                (
                    Previous::at(d, s, rows, out_at.0, (h0, c0)),
                    rows_mut(out_at, d, t, rows, 2 * h),
                    rows_mut(ws_at, d, t, rows, 5 * h),
                )
            };
            let hp = Strided {
                data: prev.h,
                row: prev.stride,
                col: 1,
            };
            let count = rows.1 - rows.0;
            gemm_into(ws_t, 5 * h, hp, wt, (count, h, 4 * h), false);
            let x_t = &x[(t * n + rows.0) * 4 * h..(t * n + rows.1) * 4 * h];
            with_simd(
                #[inline(always)]
                || {
                    let rows = (ws_t.chunks_exact_mut(5 * h))
                        .zip(out_t.chunks_exact_mut(2 * h))
                        .zip(x_t.chunks_exact(4 * h));
                    for (j, ((ws, out), x)) in rows.enumerate() {
                        lstm_row_in_place(x, prev.c_row(j, h), ws, out);
                    }
                },
            );
        }
    };
    for_each_task(blocks, &task);
    (out, ws)
}

/// What [`lstm_sequence_backward`] returns: the gradients of the pre-activations
/// (`[T, N, 4H]`), of `W_hh` (`[4H, H]`) and of the initial `h` and `c` (`[N, H]` each).
pub(crate) struct SequenceGradients<T> {
    pub(crate) x: Data<T>,
    pub(crate) w: Data<T>,
    pub(crate) h0: Data<T>,
    pub(crate) c0: Data<T>,
}

/// The backward pass: from the gradient of every step's `[h | c]` (`[T, N, 2H]`), what forward
/// returned (`out`, `ws`), `W_hh` and the initial state, the gradients of the four inputs.
pub(crate) fn lstm_sequence_backward<T: Float>(
    grad: &[T],
    (out, ws): (&[T], &[T]),
    w: &[T],
    (h0, c0): (&[T], &[T]),
    d: Steps,
) -> SequenceGradients<T> {
    let Steps { t: steps, n, h, .. } = d;
    let mut dx: Data<T> = take(steps * n * 4 * h);
    // The gradients flowing into the step run before: dh, dc (zero after the last step).
    let (mut dh, mut dc): (Data<T>, Data<T>) = (take(n * h), take(n * h));
    dh.fill(T::default());
    dc.fill(T::default());
    let mut dw: Data<T> = take(4 * h * h);
    if steps == 0 || n == 0 || h == 0 {
        dw.fill(T::default());
        return SequenceGradients {
            x: dx,
            w: dw,
            h0: dh,
            c0: dc,
        };
    }
    let w = Strided {
        data: w,
        row: h,
        col: 1,
    };
    let blocks = d.blocks();
    let (dx_at, dh_at, dc_at) = (
        SharedMut(dx.as_mut_ptr()),
        SharedMut(dh.as_mut_ptr()),
        SharedMut(dc.as_mut_ptr()),
    );
    let one_step = Steps { t: 1, ..d };
    // A row's gradients depend on no other row's: each task runs its rows through every step.
    let task = |b: usize| {
        let rows = block(b, blocks, n);
        for s in (0..steps).rev() {
            let t = d.at(s);
            // SAFETY: step `t`'s rows of this block, in dx, and the block's rows of the
            // carried dh and dc, are this task's alone; `out` is only read.
            let (prev, dx_t, dh, dc) = unsafe {
                (
                    Previous::at(d, s, rows, out.as_ptr(), (h0, c0)),
                    rows_mut(dx_at, d, t, rows, 4 * h),
                    rows_mut(dh_at, one_step, 0, rows, h),
                    rows_mut(dc_at, one_step, 0, rows, h),
                )
            };
            let grad_t = &grad[(t * n + rows.0) * 2 * h..(t * n + rows.1) * 2 * h];
            let ws_t = &ws[(t * n + rows.0) * 5 * h..(t * n + rows.1) * 5 * h];
            with_simd(
                #[inline(always)]
                || {
                    let rows = (dh.chunks_exact_mut(h).zip(dc.chunks_exact_mut(h)))
                        .zip(grad_t.chunks_exact(2 * h).zip(ws_t.chunks_exact(5 * h)))
                        .zip(dx_t.chunks_exact_mut(4 * h));
                    for (j, (((dh, dc), (g, ws)), dx)) in rows.enumerate() {
                        let (g_h, g_c) = g.split_at(h);
                        for (carried, g) in [(&mut *dh, g_h), (&mut *dc, g_c)] {
                            for (a, &b) in carried.iter_mut().zip(g) {
                                *a = *a + b;
                            }
                        }
                        lstm_row_backward(dh, dc, ws, prev.c_row(j, h), dx);
                    }
                },
            );
            let dg = Strided {
                data: &*dx_t,
                row: 4 * h,
                col: 1,
            };
            gemm_into(dh, h, dg, w, (rows.1 - rows.0, 4 * h, h), false);
        }
    };
    for_each_task(blocks, &task);
    weight_gradient(&mut dw, &dx, out, h0, d);
    SequenceGradients {
        x: dx,
        w: dw,
        h0: dh,
        c0: dc,
    }
}

/// `dW_hh = Σ_t dG_tᵀ·h_{t−1}` (`h_{t−1}` the state the step started from) as two GEMMs: the
/// first step run (from the initial `h0`) and all the others at once (from `out`), the rows of
/// `dW_hh` cut between the threads.
fn weight_gradient<T: Float>(dw: &mut [T], dx: &[T], out: &[T], h0: &[T], d: Steps) {
    let Steps { t: steps, n, h, .. } = d;
    let first = d.at(0);
    // The steps that start from `out`, as one block of (steps − 1)·N rows of dx and of out:
    // forward, dx of steps 1.. with out of steps ..T−1; reverse, dx of steps ..T−1 with out of
    // steps 1...
    let (dx_rest, out_rest) = if d.reverse { (0, n) } else { (n, 0) };
    let rest = (steps - 1) * n;
    let gate_rows = 4 * h;
    let blocks = block_count(gate_rows, MIN_WEIGHT_ROWS);
    let dw_at = SharedMut(dw.as_mut_ptr());
    let task = |b: usize| {
        let (i0, i1) = block(b, blocks, gate_rows);
        // SAFETY: rows i0..i1 of dW are this task's alone.
        let dw = unsafe { std::slice::from_raw_parts_mut(dw_at.at(i0 * h), (i1 - i0) * h) };
        // dGᵀ: element (i, r) of rows i0.. at dx[r·4H + i].
        let dg_t = |row: usize| Strided {
            data: &dx[row * gate_rows + i0..],
            row: 1,
            col: gate_rows,
        };
        let h0 = Strided {
            data: h0,
            row: h,
            col: 1,
        };
        gemm_into(dw, h, dg_t(first * n), h0, (i1 - i0, n, h), false);
        if rest > 0 {
            let hp = Strided {
                data: &out[out_rest * 2 * h..],
                row: 2 * h,
                col: 1,
            };
            gemm_into(dw, h, dg_t(dx_rest), hp, (i1 - i0, rest, h), true);
        }
    };
    for_each_task(blocks, &task);
}
