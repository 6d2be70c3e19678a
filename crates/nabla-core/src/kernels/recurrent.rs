//! The fused LSTM and GRU cell kernels: one pass over the gates of each row, forward (the gate
//! nonlinearities and the next state, keeping the activated gates for backward) and backward
//! (every gate's pre-activation gradient and the previous state's from what forward kept).
//! Rows are split over the kernel threads when there are enough of them; each row's loop runs
//! inside [`with_simd`], so the f32 sigmoid and tanh (from [`Float::exp_kernel`] and
//! [`Float::tanh_kernel`]) vectorise. Every input is `[N, k·H]` row-major.

use crate::dtype::Float;
use crate::parallel::for_each;
use crate::simd::with_simd;
use crate::storage::Data;

/// About this many gate values per parallel task: below it a kernel runs on the calling thread.
const TASK_VALUES: usize = 1 << 12;

/// Rows per task for rows of `h` hidden values.
fn rows_per_task(h: usize) -> usize {
    (TASK_VALUES / h.max(1)).max(1)
}

/// Runs `f` on every item (consecutive blocks of rows, the `k`th starting at row `k·rows`),
/// spread over the kernel threads when there are several.
fn run<W: Send>(items: Vec<W>, f: impl Fn(usize, W) + Sync) {
    let body = |(k, item): (usize, W)| with_simd(|| f(k, item));
    if items.len() > 1 {
        for_each(items.into_iter().enumerate(), body);
    } else {
        items.into_iter().enumerate().for_each(body);
    }
}

/// A buffer of `n·width` values, every one written by the caller.
fn buffer<T: Float>(n: usize, width: usize) -> Data<T> {
    crate::pool::take(n * width)
}

/// The LSTM step of every row: from the pre-activations `x + hg` (`[N, 4H]`, gates i, f, g, o)
/// and the cell state `c` (`[N, H]`), returns `[h' | c']` (`[N, 2H]`) and the workspace
/// backward reads, `[i | f | g | o | tanh c']` (`[N, 5H]`).
pub(crate) fn lstm_forward<T: Float>(
    x: &[T],
    hg: &[T],
    c: &[T],
    (n, h): (usize, usize),
) -> (Data<T>, Data<T>) {
    let (mut out, mut ws) = (buffer(n, 2 * h), buffer(n, 5 * h));
    if n == 0 || h == 0 {
        return (out, ws);
    }
    let rows = rows_per_task(h);
    let items: Vec<_> = out
        .chunks_mut(rows * 2 * h)
        .zip(ws.chunks_mut(rows * 5 * h))
        .collect();
    run(items, |k, (out, ws)| {
        let rows = out.chunks_exact_mut(2 * h).zip(ws.chunks_exact_mut(5 * h));
        for (r, (out, ws)) in (k * rows_per_task(h)..).zip(rows) {
            let gates = r * 4 * h..(r + 1) * 4 * h;
            lstm_row(
                &x[gates.clone()],
                &hg[gates],
                &c[r * h..(r + 1) * h],
                out,
                ws,
            );
        }
    });
    (out, ws)
}

#[inline(always)]
fn lstm_row<T: Float>(x: &[T], hg: &[T], c: &[T], out: &mut [T], ws: &mut [T]) {
    let h = c.len();
    let (x, hg) = (&x[..4 * h], &hg[..4 * h]);
    let (h_out, c_out) = out.split_at_mut(h);
    let c_out = &mut c_out[..h];
    let (wi, ws) = ws.split_at_mut(h);
    let (wf, ws) = ws.split_at_mut(h);
    let (wg, ws) = ws.split_at_mut(h);
    let (wo, wt) = ws.split_at_mut(h);
    let wt = &mut wt[..h];
    for j in 0..h {
        let i = (x[j] + hg[j]).sigmoid_kernel();
        let f = (x[h + j] + hg[h + j]).sigmoid_kernel();
        let g = (x[2 * h + j] + hg[2 * h + j]).tanh_kernel();
        let o = (x[3 * h + j] + hg[3 * h + j]).sigmoid_kernel();
        let c_next = f * c[j] + i * g;
        let t = c_next.tanh_kernel();
        h_out[j] = o * t;
        c_out[j] = c_next;
        (wi[j], wf[j], wg[j], wo[j], wt[j]) = (i, f, g, o, t);
    }
}

/// The LSTM step's backward: from the gradient `[dh' | dc']` (`[N, 2H]`), the workspace of
/// [`lstm_forward`] and the cell state `c`, the gradient of the pre-activations (`[N, 4H]`,
/// the same for the input's and the hidden state's) and of `c` (`[N, H]`).
pub(crate) fn lstm_backward<T: Float>(
    grad: &[T],
    ws: &[T],
    c: &[T],
    (n, h): (usize, usize),
) -> (Data<T>, Data<T>) {
    let (mut gates, mut dc) = (buffer(n, 4 * h), buffer(n, h));
    if n == 0 || h == 0 {
        return (gates, dc);
    }
    let rows = rows_per_task(h);
    let items: Vec<_> = gates
        .chunks_mut(rows * 4 * h)
        .zip(dc.chunks_mut(rows * h))
        .collect();
    run(items, |k, (gates, dc)| {
        let rows = gates.chunks_exact_mut(4 * h).zip(dc.chunks_exact_mut(h));
        for (r, (gates, dc)) in (k * rows_per_task(h)..).zip(rows) {
            let (g, w, c) = (
                &grad[r * 2 * h..(r + 1) * 2 * h],
                &ws[r * 5 * h..(r + 1) * 5 * h],
                &c[r * h..(r + 1) * h],
            );
            lstm_row_backward(g, w, c, gates, dc);
        }
    });
    (gates, dc)
}

#[inline(always)]
fn lstm_row_backward<T: Float>(grad: &[T], ws: &[T], c: &[T], gates: &mut [T], dc: &mut [T]) {
    let h = c.len();
    let (grad, ws, dc) = (&grad[..2 * h], &ws[..5 * h], &mut dc[..h]);
    let (di, rest) = gates.split_at_mut(h);
    let (df, rest) = rest.split_at_mut(h);
    let (dg, do_) = rest.split_at_mut(h);
    let do_ = &mut do_[..h];
    let one = T::one();
    for j in 0..h {
        let (dh, dc_next) = (grad[j], grad[h + j]);
        let (i, f, g, o, t) = (
            ws[j],
            ws[h + j],
            ws[2 * h + j],
            ws[3 * h + j],
            ws[4 * h + j],
        );
        let dc_total = dc_next + dh * o * (one - t * t);
        do_[j] = dh * t * (o * (one - o));
        di[j] = dc_total * g * (i * (one - i));
        df[j] = dc_total * c[j] * (f * (one - f));
        dg[j] = dc_total * i * (one - g * g);
        dc[j] = dc_total * f;
    }
}

/// The GRU step of every row: from the input's pre-activations `x` and the hidden state's `hg`
/// (`[N, 3H]`, gates r, z, n) and the hidden state `h` (`[N, H]`), returns `h'` (`[N, H]`) and
/// the workspace backward reads, `[r | z | n | hg_n]` (`[N, 4H]`).
pub(crate) fn gru_forward<T: Float>(
    x: &[T],
    hg: &[T],
    state: &[T],
    (n, h): (usize, usize),
) -> (Data<T>, Data<T>) {
    let (mut out, mut ws) = (buffer(n, h), buffer(n, 4 * h));
    if n == 0 || h == 0 {
        return (out, ws);
    }
    let rows = rows_per_task(h);
    let items: Vec<_> = out
        .chunks_mut(rows * h)
        .zip(ws.chunks_mut(rows * 4 * h))
        .collect();
    run(items, |k, (out, ws)| {
        let rows = out.chunks_exact_mut(h).zip(ws.chunks_exact_mut(4 * h));
        for (r, (out, ws)) in (k * rows_per_task(h)..).zip(rows) {
            let gates = r * 3 * h..(r + 1) * 3 * h;
            let s = &state[r * h..(r + 1) * h];
            gru_row(&x[gates.clone()], &hg[gates], s, out, ws);
        }
    });
    (out, ws)
}

#[inline(always)]
fn gru_row<T: Float>(x: &[T], hg: &[T], state: &[T], out: &mut [T], ws: &mut [T]) {
    let h = state.len();
    let (x, hg, out) = (&x[..3 * h], &hg[..3 * h], &mut out[..h]);
    let (wr, ws) = ws.split_at_mut(h);
    let (wz, ws) = ws.split_at_mut(h);
    let (wn, whn) = ws.split_at_mut(h);
    let whn = &mut whn[..h];
    for j in 0..h {
        let r = (x[j] + hg[j]).sigmoid_kernel();
        let z = (x[h + j] + hg[h + j]).sigmoid_kernel();
        let hn = hg[2 * h + j];
        let n = (x[2 * h + j] + r * hn).tanh_kernel();
        out[j] = n + z * (state[j] - n);
        (wr[j], wz[j], wn[j], whn[j]) = (r, z, n, hn);
    }
}

/// The GRU step's backward: from the gradient `dh'` (`[N, H]`), the workspace of
/// [`gru_forward`] and the hidden state, the gradients of the input's pre-activations, of the
/// hidden state's (`[N, 3H]` each: equal but for the n gate's, which `r` scales) and of the
/// hidden state (`[N, H]`).
pub(crate) fn gru_backward<T: Float>(
    grad: &[T],
    ws: &[T],
    state: &[T],
    (n, h): (usize, usize),
) -> (Data<T>, Data<T>, Data<T>) {
    let (mut dx, mut dhg, mut dh) = (buffer(n, 3 * h), buffer(n, 3 * h), buffer(n, h));
    if n == 0 || h == 0 {
        return (dx, dhg, dh);
    }
    let rows = rows_per_task(h);
    let items: Vec<_> = dx
        .chunks_mut(rows * 3 * h)
        .zip(dhg.chunks_mut(rows * 3 * h))
        .zip(dh.chunks_mut(rows * h))
        .collect();
    run(items, |k, ((dx, dhg), dh)| {
        let rows = dx
            .chunks_exact_mut(3 * h)
            .zip(dhg.chunks_exact_mut(3 * h))
            .zip(dh.chunks_exact_mut(h));
        for (r, ((dx, dhg), dh)) in (k * rows_per_task(h)..).zip(rows) {
            let (g, w, s) = (
                &grad[r * h..(r + 1) * h],
                &ws[r * 4 * h..(r + 1) * 4 * h],
                &state[r * h..(r + 1) * h],
            );
            gru_row_backward(g, w, s, dx, dhg, dh);
        }
    });
    (dx, dhg, dh)
}

#[inline(always)]
fn gru_row_backward<T: Float>(
    grad: &[T],
    ws: &[T],
    state: &[T],
    dx: &mut [T],
    dhg: &mut [T],
    dh: &mut [T],
) {
    let h = state.len();
    let (grad, ws, dh) = (&grad[..h], &ws[..4 * h], &mut dh[..h]);
    let (dx, dhg) = (&mut dx[..3 * h], &mut dhg[..3 * h]);
    let one = T::one();
    for j in 0..h {
        let g = grad[j];
        let (r, z, n, hn) = (ws[j], ws[h + j], ws[2 * h + j], ws[3 * h + j]);
        let dn = g * (one - z) * (one - n * n);
        let dz = g * (state[j] - n) * (z * (one - z));
        let dr = dn * hn * (r * (one - r));
        (dx[j], dx[h + j], dx[2 * h + j]) = (dr, dz, dn);
        (dhg[j], dhg[h + j], dhg[2 * h + j]) = (dr, dz, dn * r);
        dh[j] = g * z;
    }
}
