//! An LSTM layer's whole sequence in one kernel, forward and backward, as PyTorch's and cuDNN's
//! fused RNNs run it: both weights are laid out once per sequence for every step's products,
//! the batch's rows are cut between the kernel threads once per sequence (a row's state never
//! depends on another row's, so the thread that owns a block of rows runs their products and
//! cell through every step, and in backward their cell's backward and their share of `dG·W_hh`,
//! with no meeting between steps), and the recurrent weight's gradient is one GEMM over all the
//! steps (`Σ_t dG_tᵀ·h_{t−1}`) instead of one per step.
//!
//! The input's projection `x_t·W_ihᵀ` is part of each step's product too: a block's
//! `x_t·W_ihᵀ + h_{t−1}·W_hhᵀ` goes to a buffer of its rows that stays in cache, where the cell
//! adds the bias and reads it. Projecting every step at once beforehand, as one GEMM, would
//! write a `[T, N, 4H]` tensor to memory and read it back, and the input is narrow (28 values
//! a row for MNIST read by rows) next to those `4H`.
//!
//! Layouts (row-major): the input `x` `[T, N, I]`, `W_ih` `[4H, I]`, `W_hh` `[4H, H]` and the
//! bias `[4H]` (gates i, f, g, o), the initial states `[N, H]`; the output `[T, N, 2H]` holds
//! `[h_t | c_t]` of every step, the workspace `[T, N, 4H]` the activated gates. Backward
//! computes `tanh c_t` again from the output (cheaper than storing and reading it back from
//! memory) and turns the workspace, in place, into the gates' gradient: the memory a step's
//! cell reads is then the memory it writes, already in cache. The input projection's gradients
//! (`W_ih`, the bias, the input) are then products and sums over that gradient of every step.
//!
//! A sequence that starts from `h0 = 0` (a layer's default) skips the products of `h0`, which
//! are zero: the first step's `h0·W_hhᵀ` and its term `dG_1ᵀ·h0` of the weight's gradient
//! (each only when the operand it multiplies is finite, so a NaN or infinity still spreads as
//! the product would spread it). `dh0 = dG_1·W_hh` runs only when `h0` needs its gradient.

use super::matmul::{Strided, gemm_into};
use super::recurrent::{lstm_row, lstm_row_backward};
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

    /// Whether the step run `s`-th is the last run: the one whose state a sequence ends in.
    pub(crate) fn is_last_run(self, s: usize) -> bool {
        s + 1 == self.t
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

/// `len` zeros.
fn zeros<T: Float>(len: usize) -> Data<T> {
    let mut values: Data<T> = take(len);
    values.fill(T::default());
    values
}

/// Whether every value is zero.
fn all_zero<T: Float>(values: &[T]) -> bool {
    values.iter().all(|&v| v == T::default())
}

/// Whether every value is finite.
fn all_finite<T: Float>(values: &[T]) -> bool {
    values.iter().all(|v| v.is_finite())
}

/// `w` (`[rows, cols]`, row-major) transposed into `[cols, rows]`, copied in tiles of 16×16 so
/// that the writes of a tile's rows stay in a few cache lines instead of striding over them all.
fn transposed<T: Float>(w: &[T], (rows, cols): (usize, usize)) -> Data<T> {
    const TILE: usize = 16;
    let mut wt: Data<T> = take(rows * cols);
    for r0 in (0..rows).step_by(TILE) {
        for k0 in (0..cols).step_by(TILE) {
            for r in r0..(r0 + TILE).min(rows) {
                for k in k0..(k0 + TILE).min(cols) {
                    wt[k * rows + r] = w[r * cols + k];
                }
            }
        }
    }
    wt
}

/// A transposed weight `[K, 4H]` as the right operand of a step's product.
fn gate_columns<T>(wt: &[T], h: usize) -> Strided<'_, T> {
    Strided {
        data: wt,
        row: 4 * h,
        col: 1,
    }
}

/// The weights of a sequence: `W_ih` (`[4H, I]`), `W_hh` (`[4H, H]`) and the bias added to
/// every step's gate pre-activations (`[4H]`; `b_ih + b_hh` for a layer with biases).
pub(crate) struct SequenceWeights<'a, T> {
    pub(crate) ih: &'a [T],
    pub(crate) hh: &'a [T],
    pub(crate) bias: Option<&'a [T]>,
}

/// The forward pass: from the input `x` (`[T, N, I]`, `i` values a row), the weights and the
/// initial state, every step's `[h | c]` (`[T, N, 2H]`) and the workspace backward reads
/// (`[T, N, 4H]`).
pub(crate) fn lstm_sequence_forward<T: Float>(
    (x, i): (&[T], usize),
    w: SequenceWeights<'_, T>,
    (h0, c0): (&[T], &[T]),
    d: Steps,
) -> (Data<T>, Data<T>) {
    let Steps { t: steps, n, h, .. } = d;
    let (mut out, mut ws) = (take(steps * n * 2 * h), take(steps * n * 4 * h));
    if out.is_empty() {
        return (out, ws);
    }
    // W_ihᵀ ([I, 4H]) and W_hhᵀ ([H, 4H]): every step's products read them row-major.
    let (w_iht, w_hht) = (transposed(w.ih, (4 * h, i)), transposed(w.hh, (4 * h, h)));
    let (w_iht, w_hht) = (gate_columns(&w_iht, h), gate_columns(&w_hht, h));
    let no_bias: Data<T>;
    let bias = match w.bias {
        Some(b) => b,
        None => {
            no_bias = zeros(4 * h);
            &no_bias
        }
    };
    let zero_start = all_zero(h0) && all_finite(w.hh);
    let blocks = d.blocks();
    let (out_at, ws_at) = (SharedMut(out.as_mut_ptr()), SharedMut(ws.as_mut_ptr()));
    // A row's state depends on no other row's: each task runs its rows through every step.
    let task = |b: usize| {
        let rows = block(b, blocks, n);
        let count = rows.1 - rows.0;
        // The block's `x_t·W_ihᵀ + h·W_hhᵀ`, kept in cache for the cell that reads it next.
        let mut hg: Data<T> = take(count * 4 * h);
        for s in 0..steps {
            let t = d.at(s);
            // SAFETY: step `t`'s rows of this block are this task's alone; the step before
            // (read through `prev`, the same rows) was finished by this task.
            let (prev, out_t, ws_t) = unsafe {
                (
                    Previous::at(d, s, rows, out_at.0, (h0, c0)),
                    rows_mut(out_at, d, t, rows, 2 * h),
                    rows_mut(ws_at, d, t, rows, 4 * h),
                )
            };
            // x_t·W_ihᵀ, then + h_{t−1}·W_hhᵀ (none from a zero h0).
            if i == 0 {
                hg.fill(T::default());
            } else {
                let x_t = Strided {
                    data: &x[(t * n + rows.0) * i..],
                    row: i,
                    col: 1,
                };
                gemm_into(&mut hg, 4 * h, x_t, w_iht, (count, i, 4 * h), false);
            }
            if !(s == 0 && zero_start) {
                let hp = Strided {
                    data: prev.h,
                    row: prev.stride,
                    col: 1,
                };
                gemm_into(&mut hg, 4 * h, hp, w_hht, (count, h, 4 * h), true);
            }
            with_simd(
                #[inline(always)]
                || {
                    let rows = (ws_t.chunks_exact_mut(4 * h))
                        .zip(out_t.chunks_exact_mut(2 * h))
                        .zip(hg.chunks_exact(4 * h));
                    for (j, ((gates, out), hg)) in rows.enumerate() {
                        lstm_row((bias, hg), prev.c_row(j, h), out, gates, None);
                    }
                },
            );
        }
    };
    for_each_task(blocks, &task);
    (out, ws)
}

/// What [`lstm_sequence_backward`] returns besides the gates' gradient (written over the
/// workspace): the gradients of `W_hh` (`[4H, H]`) and of the initial `h` and `c` (`[N, H]`
/// each; `h0` holds unspecified values unless `needs_h0` was given).
pub(crate) struct SequenceGradients<T> {
    pub(crate) w: Data<T>,
    pub(crate) h0: Data<T>,
    pub(crate) c0: Data<T>,
}

/// The gradient arriving at a sequence's output.
#[derive(Clone, Copy)]
pub(crate) enum Incoming<'a, T> {
    /// Of every step's `[h | c]`, `[T, N, 2H]`.
    EveryStep(&'a [T]),
    /// Of the last step run's `[h | c]` alone, `[N, 2H]` (the other steps' is zero).
    FinalStep(&'a [T]),
}

impl<'a, T> Incoming<'a, T> {
    /// Rows `r0..r1` of the gradient of the step run `s`-th (time step `t`), if it has one.
    fn rows(self, d: Steps, (s, t): (usize, usize), (r0, r1): (usize, usize)) -> Option<&'a [T]> {
        let width = 2 * d.h;
        match self {
            Incoming::EveryStep(g) => Some(&g[(t * d.n + r0) * width..(t * d.n + r1) * width]),
            Incoming::FinalStep(g) => d.is_last_run(s).then(|| &g[r0 * width..r1 * width]),
        }
    }
}

/// The backward pass: from the gradient arriving at the output, what forward returned (`out`,
/// and `ws`, which becomes the gradient of the gates' pre-activations, `[T, N, 4H]`), `W_hh`
/// and the initial state, the gradients of the other inputs; `dh0` is computed only when
/// `needs_h0`.
pub(crate) fn lstm_sequence_backward<T: Float>(
    grad: Incoming<'_, T>,
    (out, ws): (&[T], &mut [T]),
    w: &[T],
    (h0, c0): (&[T], &[T]),
    (d, needs_h0): (Steps, bool),
) -> SequenceGradients<T> {
    let Steps { t: steps, n, h, .. } = d;
    // The gradients flowing into the step run before: dh, dc (zero after the last step).
    let (mut dh, mut dc): (Data<T>, Data<T>) = (zeros(n * h), zeros(n * h));
    if steps == 0 || n == 0 || h == 0 {
        return SequenceGradients {
            w: zeros(4 * h * h),
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
    let (dg_at, dh_at, dc_at) = (
        SharedMut(ws.as_mut_ptr()),
        SharedMut(dh.as_mut_ptr()),
        SharedMut(dc.as_mut_ptr()),
    );
    let one_step = Steps { t: 1, ..d };
    // A row's gradients depend on no other row's: each task runs its rows through every step.
    let task = |b: usize| {
        let rows = block(b, blocks, n);
        // One row's tanh c_t, computed again from the output.
        let mut tanh_c: Data<T> = take(h);
        for s in (0..steps).rev() {
            let t = d.at(s);
            // SAFETY: step `t`'s rows of this block in the workspace (becoming dG), and the
            // block's rows of the carried dh and dc, are this task's alone; `out` is only read.
            let (prev, dgates_t, dh, dc) = unsafe {
                (
                    Previous::at(d, s, rows, out.as_ptr(), (h0, c0)),
                    rows_mut(dg_at, d, t, rows, 4 * h),
                    rows_mut(dh_at, one_step, 0, rows, h),
                    rows_mut(dc_at, one_step, 0, rows, h),
                )
            };
            let grad_t = grad.rows(d, (s, t), rows);
            let out_t = &out[(t * n + rows.0) * 2 * h..(t * n + rows.1) * 2 * h];
            with_simd(
                #[inline(always)]
                || {
                    let rows = (dh.chunks_exact_mut(h).zip(dc.chunks_exact_mut(h)))
                        .zip(out_t.chunks_exact(2 * h))
                        .zip(dgates_t.chunks_exact_mut(4 * h));
                    for (j, (((dh, dc), o), gates)) in rows.enumerate() {
                        if let Some(g) = grad_t.map(|g| &g[j * 2 * h..(j + 1) * 2 * h]) {
                            let (g_h, g_c) = g.split_at(h);
                            for (carried, g) in [(&mut *dh, g_h), (&mut *dc, g_c)] {
                                for (a, &b) in carried.iter_mut().zip(g) {
                                    *a = *a + b;
                                }
                            }
                        }
                        for (t, &c) in tanh_c.iter_mut().zip(&o[h..]) {
                            *t = c.tanh_kernel();
                        }
                        lstm_row_backward(dh, dc, gates, &tanh_c, prev.c_row(j, h));
                    }
                },
            );
            if s == 0 && !needs_h0 {
                continue;
            }
            let dg = Strided {
                data: &*dgates_t,
                row: 4 * h,
                col: 1,
            };
            gemm_into(dh, h, dg, w, (rows.1 - rows.0, 4 * h, h), false);
        }
    };
    for_each_task(blocks, &task);
    let mut dw: Data<T> = take(4 * h * h);
    weight_gradient(&mut dw, ws, out, h0, d);
    SequenceGradients {
        w: dw,
        h0: dh,
        c0: dc,
    }
}

/// `dW_hh = Σ_t dG_tᵀ·h_{t−1}` (`h_{t−1}` the state the step started from) as two GEMMs: the
/// first step run (from the initial `h0`; skipped when `h0` is zero and that step's `dG` finite)
/// and all the others at once (from `out`), the rows of `dW_hh` cut between the threads.
fn weight_gradient<T: Float>(dw: &mut [T], dg: &[T], out: &[T], h0: &[T], d: Steps) {
    let Steps { t: steps, n, h, .. } = d;
    let first = d.at(0);
    let gate_rows = 4 * h;
    let from_h0 = !(all_zero(h0) && all_finite(&dg[first * n * gate_rows..][..n * gate_rows]));
    // The steps that start from `out`, as one block of (steps − 1)·N rows of dG and of out:
    // forward, dG of steps 1.. with out of steps ..T−1; reverse, dG of steps ..T−1 with out of
    // steps 1...
    let (dg_rest, out_rest) = if d.reverse { (0, n) } else { (n, 0) };
    let rest = (steps - 1) * n;
    if !from_h0 && rest == 0 {
        dw.fill(T::default());
        return;
    }
    let blocks = block_count(gate_rows, MIN_WEIGHT_ROWS);
    let dw_at = SharedMut(dw.as_mut_ptr());
    let task = |b: usize| {
        let (i0, i1) = block(b, blocks, gate_rows);
        // SAFETY: rows i0..i1 of dW are this task's alone.
        let dw = unsafe { std::slice::from_raw_parts_mut(dw_at.at(i0 * h), (i1 - i0) * h) };
        // dGᵀ: element (i, r) of rows i0.. at dg[r·4H + i].
        let dg_t = |row: usize| Strided {
            data: &dg[row * gate_rows + i0..],
            row: 1,
            col: gate_rows,
        };
        if from_h0 {
            let h0 = Strided {
                data: h0,
                row: h,
                col: 1,
            };
            gemm_into(dw, h, dg_t(first * n), h0, (i1 - i0, n, h), false);
        }
        if rest > 0 {
            let hp = Strided {
                data: &out[out_rest * 2 * h..],
                row: 2 * h,
                col: 1,
            };
            gemm_into(dw, h, dg_t(dg_rest), hp, (i1 - i0, rest, h), from_h0);
        }
    };
    for_each_task(blocks, &task);
}
