//! The fused LSTM and GRU cell kernels: one sweep over the rows, forward (the gate
//! nonlinearities and the next state, keeping the activated gates for backward) and backward
//! (every gate's pre-activation gradient and the previous state's from what forward kept). Each
//! row's gates are handled in a few short passes while the row sits in L1. Rows are split over
//! the kernel threads when there are enough of them; each row's loops run inside [`with_simd`],
//! so the f32 sigmoid and tanh (from [`Float::exp_kernel`] and [`Float::tanh_kernel`])
//! vectorise. Every input is `[N, k·H]` row-major.

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
/// spread over the kernel threads when there are several, each inside [`with_simd`]. The
/// closures are inlined by force: a row's loop is too large for the compiler to inline on its
/// own into the three builds `with_simd` makes, and left out of line it would be compiled for
/// the baseline target, each `mul_add` a library call.
fn run<W: Send>(items: Vec<W>, f: impl Fn(usize, W) + Sync) {
    let body = |(k, item): (usize, W)| {
        with_simd(
            #[inline(always)]
            || f(k, item),
        )
    };
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
    run(
        items,
        #[inline(always)]
        |k, (out, ws)| {
            let rows = out.chunks_exact_mut(2 * h).zip(ws.chunks_exact_mut(5 * h));
            for (r, (out, ws)) in (k * rows_per_task(h)..).zip(rows) {
                let pre = r * 4 * h..(r + 1) * 4 * h;
                let (gates, kept_tanh) = ws.split_at_mut(4 * h);
                let c = &c[r * h..(r + 1) * h];
                lstm_row((&x[pre.clone()], &hg[pre]), c, out, gates, Some(kept_tanh));
            }
        },
    );
    (out, ws)
}

/// The `K` gates of a row of `K·h` values, `h` each.
#[inline(always)]
fn split<const K: usize, T>(row: &[T], h: usize) -> [&[T]; K] {
    std::array::from_fn(|k| &row[k * h..(k + 1) * h])
}

/// [`split`] of a row to write.
#[inline(always)]
pub(super) fn split_mut<const K: usize, T>(row: &mut [T], h: usize) -> [&mut [T]; K] {
    let mut rest = row;
    std::array::from_fn(|_| {
        let (gate, after) = std::mem::take(&mut rest).split_at_mut(h);
        rest = after;
        gate
    })
}

// A row's work is a few passes of these, each over at most four slices: a loop over many
// slices at once would need more run-time overlap checks than the compiler vectorises with.

/// `out[j] = f(a[j], b[j])`.
#[inline(always)]
fn map2<T: Float>(out: &mut [T], a: &[T], b: &[T], f: impl Fn(T, T) -> T) {
    for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
        *o = f(a, b);
    }
}

/// `out[j] = f(a[j], b[j], c[j])`.
#[inline(always)]
fn map3<T: Float>(out: &mut [T], a: &[T], b: &[T], c: &[T], f: impl Fn(T, T, T) -> T) {
    for (((o, &a), &b), &c) in out.iter_mut().zip(a).zip(b).zip(c) {
        *o = f(a, b, c);
    }
}

/// A row's LSTM step from the pre-activations `x + hg` (`4H` each) and the cell state `c`: the
/// activated gates `[i | f | g | o]` into `gates`, then [`lstm_update`].
#[inline(always)]
pub(super) fn lstm_row<T: Float>(
    (x, hg): (&[T], &[T]),
    c: &[T],
    out: &mut [T],
    gates: &mut [T],
    kept_tanh: Option<&mut [T]>,
) {
    let h = c.len();
    let [xi, xf, xg, xo] = split(x, h);
    let [hi, hf, hg, ho] = split(hg, h);
    let [i, f, g, o] = split_mut(gates, h);
    map2(i, xi, hi, |a, b| (a + b).sigmoid_kernel());
    map2(f, xf, hf, |a, b| (a + b).sigmoid_kernel());
    map2(g, xg, hg, |a, b| (a + b).tanh_kernel());
    map2(o, xo, ho, |a, b| (a + b).sigmoid_kernel());
    lstm_update(c, gates, out, kept_tanh);
}

/// From a row's activated gates `[i | f | g | o]` and the cell state `c`: `c' = f·c + i·g` and
/// `h' = o·tanh c'`, written to `out` as `[h' | c']`; `tanh c'` also into `kept_tanh` when
/// given (else backward computes it again from `c'`).
#[inline(always)]
fn lstm_update<T: Float>(c: &[T], gates: &[T], out: &mut [T], kept_tanh: Option<&mut [T]>) {
    let h = c.len();
    let [h_out, c_out] = split_mut(out, h);
    let [i, f, g, o] = split(gates, h);
    for ((((c_next, &c), &i), &f), &g) in c_out.iter_mut().zip(c).zip(i).zip(f).zip(g) {
        *c_next = f * c + i * g;
    }
    match kept_tanh {
        Some(t) => {
            map2(t, c_out, c_out, |c, _| c.tanh_kernel());
            map2(h_out, o, t, |o, t| o * t);
        }
        None => map2(h_out, o, c_out, |o, c| o * c.tanh_kernel()),
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
    run(
        items,
        #[inline(always)]
        |k, (gates, dc)| {
            let rows = gates.chunks_exact_mut(4 * h).zip(dc.chunks_exact_mut(h));
            for (r, (gates, dc)) in (k * rows_per_task(h)..).zip(rows) {
                let (g, w, c) = (
                    &grad[r * 2 * h..(r + 1) * 2 * h],
                    &ws[r * 5 * h..(r + 1) * 5 * h],
                    &c[r * h..(r + 1) * h],
                );
                let [dh, dc_next] = split(g, h);
                dc.copy_from_slice(dc_next);
                let (kept_gates, kept_tanh) = w.split_at(4 * h);
                gates.copy_from_slice(kept_gates);
                lstm_row_backward(dh, dc, gates, kept_tanh, c);
            }
        },
    );
    (gates, dc)
}

/// A row's LSTM backward, in place: `gates` holds the row's activated gates `[i | f | g | o]`
/// and becomes the gradient of their pre-activations; `dc` holds `dc'` and becomes the
/// gradient of the cell state `c`; `dh` is `dh'` and `t` is `tanh c'`.
#[inline(always)]
pub(super) fn lstm_row_backward<T: Float>(
    dh: &[T],
    dc: &mut [T],
    gates: &mut [T],
    t: &[T],
    c: &[T],
) {
    let h = c.len();
    let [i, f, g, o] = split_mut(gates, h);
    let one = T::one();
    // dc (through c' and through h' = o·tanh c') first, then each gate's from it; a gate is
    // overwritten only after the last formula that reads it.
    for (((dc, &dh), &o), &t) in dc.iter_mut().zip(dh).zip(&*o).zip(t) {
        *dc = *dc + dh * (o * (one - t * t));
    }
    for ((o, &dh), &t) in o.iter_mut().zip(dh).zip(t) {
        *o = dh * t * (*o * (one - *o));
    }
    for ((i, g), &dc) in i.iter_mut().zip(g.iter_mut()).zip(&*dc) {
        let (iv, gv) = (*i, *g);
        *i = dc * gv * (iv * (one - iv));
        *g = dc * iv * (one - gv * gv);
    }
    for ((f, dc), &c) in f.iter_mut().zip(dc.iter_mut()).zip(c) {
        let fv = *f;
        *f = *dc * c * (fv * (one - fv));
        *dc = *dc * fv;
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
    run(
        items,
        #[inline(always)]
        |k, (out, ws)| {
            let rows = out.chunks_exact_mut(h).zip(ws.chunks_exact_mut(4 * h));
            for (r, (out, ws)) in (k * rows_per_task(h)..).zip(rows) {
                let gates = r * 3 * h..(r + 1) * 3 * h;
                let s = &state[r * h..(r + 1) * h];
                gru_row(&x[gates.clone()], &hg[gates], s, out, ws);
            }
        },
    );
    (out, ws)
}

#[inline(always)]
fn gru_row<T: Float>(x: &[T], hg: &[T], state: &[T], out: &mut [T], ws: &mut [T]) {
    let h = state.len();
    let [xr, xz, xn] = split(x, h);
    let [hr, hz, hn] = split(hg, h);
    let [r, z, n, kept_hn] = split_mut(ws, h);
    map2(r, xr, hr, |a, b| (a + b).sigmoid_kernel());
    map2(z, xz, hz, |a, b| (a + b).sigmoid_kernel());
    kept_hn.copy_from_slice(hn);
    map3(n, xn, r, hn, |x, r, hn| (x + r * hn).tanh_kernel());
    map3(out, n, z, state, |n, z, s| n + z * (s - n));
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
    run(
        items,
        #[inline(always)]
        |k, ((dx, dhg), dh)| {
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
        },
    );
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
    let [r, z, n, hn] = split(ws, h);
    let [dxr, dxz, dxn] = split_mut(dx, h);
    let [dhr, dhz, dhn] = split_mut(dhg, h);
    let one = T::one();
    map3(dxn, grad, z, n, |g, z, n| g * (one - z) * (one - n * n));
    map3(dhz, state, n, z, |s, n, z| (s - n) * (z * (one - z)));
    map2(dxz, grad, dhz, |g, d| g * d);
    map3(dxr, dxn, hn, r, |dn, hn, r| dn * hn * (r * (one - r)));
    dhr.copy_from_slice(dxr);
    dhz.copy_from_slice(dxz);
    map2(dhn, dxn, r, |dn, r| dn * r);
    map2(dh, grad, z, |g, z| g * z);
}
