//! The gate nonlinearities of one LSTM or GRU time step, with PyTorch's gate order: the layer
//! computes the input's and the hidden state's gate pre-activations (GEMMs), and these ops
//! combine them into the next state, each in one fused kernel ([`crate::kernels::recurrent`])
//! with a rule of its own.
//!
//! Forward keeps the activated gates (a workspace, as PyTorch's fused cells do) and backward
//! reads them in one fused kernel. When the backward pass is itself recorded (`create_graph`),
//! the rules instead build the gradients from differentiable operations on the gates recomputed
//! from the saved inputs, so that gradients of gradients exist. The input's and the hidden
//! state's gate pre-activations get one gradient tensor for the LSTM (they enter only through
//! their sum); for the GRU they differ only in the n gate's, scaled by `r` for the hidden state's.

use super::{Save, check_dtypes, ok, record};
use crate::autograd::formula::{At, Binding, Formula, Local};
use crate::autograd::node::{Backward, Gradients};
use crate::error::{Error, Result};
use crate::kernels::dispatch_float;
use crate::kernels::recurrent::{gru_backward, gru_forward, lstm_backward, lstm_forward};
use crate::tensor::Tensor;

/// Checks `input_gates` and `hidden_gates` are both `[N, gates·H]` and `state` is `[N, H]`, of
/// one float dtype; returns `H`.
fn check_cell(
    op: &'static str,
    gates: usize,
    input_gates: &Tensor,
    hidden_gates: &Tensor,
    state: &Tensor,
) -> Result<usize> {
    check_dtypes(op, input_gates, &[hidden_gates, state])?;
    let &[n, width] = input_gates.shape() else {
        return Err(Error::invalid(
            op,
            format!(
                "the input gates must be [N, {gates}·H], got shape {:?}",
                input_gates.shape()
            ),
        ));
    };
    if width % gates != 0 {
        return Err(Error::invalid(
            op,
            format!(
                "the input gates must be [N, {gates}·H], got shape {:?} (width {width} is not a \
                 multiple of {gates})",
                input_gates.shape()
            ),
        ));
    }
    if hidden_gates.shape() != input_gates.shape() {
        return Err(Error::shapes(
            op,
            input_gates.shape(),
            hidden_gates.shape(),
            "the input and hidden gates must have one shape",
        ));
    }
    let hidden = width / gates;
    if state.shape() != [n, hidden] {
        return Err(Error::shapes(
            op,
            input_gates.shape(),
            state.shape(),
            format!("the state must be [N, H] = [{n}, {hidden}]"),
        ));
    }
    Ok(hidden)
}

/// Gate `k` of a `[N, gates·H]` tensor: columns `k·H..(k+1)·H`.
pub(super) fn gate(t: &Tensor, k: usize, h: usize) -> Tensor {
    t.narrow(1, k * h, h)
}

/// The activated gates of an LSTM step and `tanh c'`.
pub(super) struct LstmGates {
    i: Tensor,
    f: Tensor,
    g: Tensor,
    o: Tensor,
    tanh_c: Tensor,
}

impl LstmGates {
    /// Read from a fused forward's workspace, which begins with `[i | f | g | o]`, and `tanh c'`
    /// (constants).
    pub(super) fn kept(ws: &Tensor, tanh_c: Tensor, h: usize) -> LstmGates {
        LstmGates {
            i: gate(ws, 0, h),
            f: gate(ws, 1, h),
            g: gate(ws, 2, h),
            o: gate(ws, 3, h),
            tanh_c,
        }
    }

    /// Computed again from the inputs by differentiable operations.
    pub(super) fn recomputed(x: &Tensor, hg: &Tensor, c: &Tensor, h: usize) -> LstmGates {
        let a = x + hg;
        let (i, f) = (gate(&a, 0, h).sigmoid(), gate(&a, 1, h).sigmoid());
        let (g, o) = (gate(&a, 2, h).tanh(), gate(&a, 3, h).sigmoid());
        let tanh_c = (&f * c + &i * &g).tanh();
        LstmGates { i, f, g, o, tanh_c }
    }

    /// The gradients of the pre-activations (`[N, 4H]`) and of `c`, by differentiable
    /// operations, from the gradient `[dh' | dc']`.
    pub(super) fn pull_back(&self, c: &Tensor, grad: &Tensor, h: usize) -> (Tensor, Tensor) {
        let LstmGates { i, f, g, o, tanh_c } = self;
        let (dh, dc_next) = (gate(grad, 0, h), gate(grad, 1, h));
        let dc = dc_next + &dh * o * (1.0 - tanh_c * tanh_c);
        let di = &dc * g * (i * (1.0 - i));
        let df = &dc * c * (f * (1.0 - f));
        let dg = &dc * i * (1.0 - g * g);
        let do_ = dh * tanh_c * (o * (1.0 - o));
        (Tensor::cat(&[&di, &df, &dg, &do_], 1), dc * f)
    }
}

impl LstmGates {
    /// Forward mode: the tangent of `[h' | c']` from the tangent `a` of the summed
    /// pre-activations (`[N, 4H]`) and `tc` of the cell state `c`.
    pub(super) fn push_forward(&self, c: &Tensor, a: &Tensor, tc: &Tensor) -> Result<Tensor> {
        let LstmGates { i, f, g, o, tanh_c } = self;
        let h = c.shape()[1];
        let di = gate(a, 0, h) * (i * (1.0 - i));
        let df = gate(a, 1, h) * (f * (1.0 - f));
        let dg = gate(a, 2, h) * (1.0 - g * g);
        let do_ = gate(a, 3, h) * (o * (1.0 - o));
        let dc = df * c + f * tc + di * g + i * dg;
        let dh = do_ * tanh_c + o * (1.0 - tanh_c * tanh_c) * &dc;
        Tensor::try_cat(&[&dh, &dc], 1)
    }
}

/// `lstm_cell`'s rule. Saved: the input's and the hidden state's pre-activations, `c`, and the
/// workspace `[i | f | g | o | tanh c']` of the fused forward.
struct LstmCellBackward {
    hidden: usize,
}

impl LstmCellBackward {
    fn gradients(&self, saved: &[Tensor], grad: &Tensor, needs: &[bool]) -> Result<Gradients> {
        let (x, hg, c, ws) = (&saved[0], &saved[1], &saved[2], &saved[3]);
        let h = self.hidden;
        let (gates, dc) = if crate::is_grad_enabled() {
            LstmGates::recomputed(x, hg, c, h).pull_back(c, grad, h)
        } else {
            let n = c.shape()[0];
            const OP: &str = "lstm_cell_backward";
            dispatch_float!(OP, grad.dtype(), T => {
                let (gates, dc) = grad.try_read(OP, |g: &[T]| {
                    ws.try_read(OP, |w: &[T]| c.try_read(OP, |c: &[T]| lstm_backward(g, w, c, (n, h))))
                })???;
                (Tensor::from_data(gates, &[n, 4 * h]), Tensor::from_data(dc, &[n, h]))
            })
        };
        Ok(smallvec::smallvec![
            needs[0].then(|| gates.clone()),
            needs[1].then_some(gates),
            needs[2].then_some(dc),
        ])
    }
}

impl Backward for LstmCellBackward {
    fn name(&self) -> &'static str {
        "LstmCellBackward"
    }
    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        let inputs = vec![
            Local::map(
                "[dc·ĝ·i(1−i), dc·{2*}·f(1−f), dc·i(1−ĝ²), dh·tanh(c')·o(1−o)] with [dh, dc'] = {g}, dc = dc' + dh·o(1−tanh²(c')), gates i, f, ĝ, o of {0}+{1}",
                Binding::Sum,
            ),
            Local::map("the same as for {0} (the gates are {0}+{1})", Binding::Sum),
            Local::map("dc·f", Binding::Product),
        ];
        Some(Formula::new(
            "lstm_cell({0}, {1}, {2})",
            Binding::Atom,
            "lstm_cell",
            inputs,
        ))
    }

    fn vjp(&self, saved: &[Tensor], grad: &Tensor, needs: &[bool]) -> Gradients {
        ok(self.gradients(saved, grad, needs))
    }

    fn try_vjp_owned(
        &self,
        saved: &mut [Tensor],
        grad: Tensor,
        needs: &[bool],
    ) -> Result<Gradients> {
        self.gradients(saved, &grad, needs)
    }

    fn jvp(&self, saved: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        let a = tangents[0].try_add(&tangents[1])?;
        let (ws, h) = (&saved[3], self.hidden);
        LstmGates::kept(ws, gate(ws, 4, h), h).push_forward(&saved[2], &a, &tangents[2])
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(inputs[0].try_lstm_cell(&inputs[1], &inputs[2]))
    }
}

/// The activated gates of a GRU step and the hidden state's n-gate pre-activation.
struct GruGates {
    r: Tensor,
    z: Tensor,
    n: Tensor,
    hn: Tensor,
}

impl GruGates {
    /// Read from the fused forward's workspace `[r | z | n | hg_n]` (constants).
    fn kept(ws: &Tensor, h: usize) -> GruGates {
        GruGates {
            r: gate(ws, 0, h),
            z: gate(ws, 1, h),
            n: gate(ws, 2, h),
            hn: gate(ws, 3, h),
        }
    }

    /// Computed again from the inputs by differentiable operations.
    fn recomputed(x: &Tensor, hg: &Tensor, h: usize) -> GruGates {
        let r = (gate(x, 0, h) + gate(hg, 0, h)).sigmoid();
        let z = (gate(x, 1, h) + gate(hg, 1, h)).sigmoid();
        let hn = gate(hg, 2, h);
        let n = (gate(x, 2, h) + &r * &hn).tanh();
        GruGates { r, z, n, hn }
    }

    /// The gradients of the input's and the hidden state's pre-activations and of the hidden
    /// state, by differentiable operations, from the gradient `dh'`.
    fn pull_back(&self, state: &Tensor, grad: &Tensor) -> (Tensor, Tensor, Tensor) {
        let GruGates { r, z, n, hn } = self;
        let dn = grad * (1.0 - z) * (1.0 - n * n);
        let dz = grad * (state - n) * (z * (1.0 - z));
        let dr = &dn * hn * (r * (1.0 - r));
        let dhn = &dn * r;
        (
            Tensor::cat(&[&dr, &dz, &dn], 1),
            Tensor::cat(&[&dr, &dz, &dhn], 1),
            grad * z,
        )
    }
}

/// `gru_cell`'s rule. Saved: the input's and the hidden state's pre-activations, the hidden
/// state, and the workspace `[r | z | n | hg_n]` of the fused forward.
struct GruCellBackward {
    hidden: usize,
}

impl GruCellBackward {
    fn gradients(&self, saved: &[Tensor], grad: &Tensor, needs: &[bool]) -> Result<Gradients> {
        let (x, hg, state, ws) = (&saved[0], &saved[1], &saved[2], &saved[3]);
        let h = self.hidden;
        let (dx, dhg, dh) = if crate::is_grad_enabled() {
            GruGates::recomputed(x, hg, h).pull_back(state, grad)
        } else {
            let n = state.shape()[0];
            const OP: &str = "gru_cell_backward";
            dispatch_float!(OP, grad.dtype(), T => {
                let (dx, dhg, dh) = grad.try_read(OP, |g: &[T]| {
                    ws.try_read(OP, |w: &[T]| state.try_read(OP, |s: &[T]| gru_backward(g, w, s, (n, h))))
                })???;
                (
                    Tensor::from_data(dx, &[n, 3 * h]),
                    Tensor::from_data(dhg, &[n, 3 * h]),
                    Tensor::from_data(dh, &[n, h]),
                )
            })
        };
        Ok(smallvec::smallvec![
            needs[0].then_some(dx),
            needs[1].then_some(dhg),
            needs[2].then_some(dh),
        ])
    }
}

impl Backward for GruCellBackward {
    fn name(&self) -> &'static str {
        "GruCellBackward"
    }
    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        let inputs = vec![
            Local::map(
                "[dr·r(1−r), dh'·({2}−n)·z(1−z), dn] with dh' = {g}, dn = dh'·(1−z)·(1−n²), dr = dn·h_n, gates r, z, n of {0} and {1}",
                Binding::Sum,
            ),
            Local::map(
                "[dr·r(1−r), dh'·({2}−n)·z(1−z), dn·r] (the same gates)",
                Binding::Sum,
            ),
            Local::map("{g}·z", Binding::Product),
        ];
        Some(Formula::new(
            "gru_cell({0}, {1}, {2})",
            Binding::Atom,
            "gru_cell",
            inputs,
        ))
    }

    fn vjp(&self, saved: &[Tensor], grad: &Tensor, needs: &[bool]) -> Gradients {
        ok(self.gradients(saved, grad, needs))
    }

    fn try_vjp_owned(
        &self,
        saved: &mut [Tensor],
        grad: Tensor,
        needs: &[bool],
    ) -> Result<Gradients> {
        self.gradients(saved, &grad, needs)
    }

    fn jvp(&self, saved: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        let (state, h) = (&saved[2], self.hidden);
        let GruGates { r, z, n, hn } = GruGates::kept(&saved[3], h);
        let (tx, thg, ts) = (&tangents[0], &tangents[1], &tangents[2]);
        let dr = (gate(tx, 0, h) + gate(thg, 0, h)) * (&r * (1.0 - &r));
        let dz = (gate(tx, 1, h) + gate(thg, 1, h)) * (&z * (1.0 - &z));
        let dn = (gate(tx, 2, h) + dr * &hn + &r * gate(thg, 2, h)) * (1.0 - &n * &n);
        Ok(&dn + dz * (state - &n) + &z * (ts - &dn))
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(inputs[0].try_gru_cell(&inputs[1], &inputs[2]))
    }
}

impl Tensor {
    /// One LSTM step (`torch.nn.LSTMCell` after its two GEMMs). `self` holds the input's gate
    /// pre-activations `x·W_ihᵀ + b_ih` and `hidden_gates` the hidden state's `h·W_hhᵀ + b_hh`,
    /// both `[N, 4H]` in PyTorch's order i, f, g, o; `c` is the cell state `[N, H]`. With
    /// `a = self + hidden_gates`: `c' = σ(a_f)·c + σ(a_i)·tanh(a_g)` and
    /// `h' = σ(a_o)·tanh(c')`. Returns `[N, 2H]`: `h'` in the first `H` columns, `c'` in the
    /// last `H`. One fused kernel; rule `LstmCellBackward`.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// // H = 1, every pre-activation 0: i = f = o = 1/2, g = 0.
    /// let zeros = Tensor::zeros(&[1, 4], nabla_core::DType::F64);
    /// let c = Tensor::from_vec(vec![2.0f64], &[1, 1]);
    /// let hc = zeros.lstm_cell(&zeros, &c).to_vec::<f64>();
    /// assert_eq!(hc[1], 1.0); // c' = ½·2 + ½·0
    /// assert!((hc[0] - 0.5 * 1.0f64.tanh()).abs() < 1e-15);
    /// ```
    pub fn try_lstm_cell(&self, hidden_gates: &Tensor, c: &Tensor) -> Result<Tensor> {
        const OP: &str = "lstm_cell";
        let h = check_cell(OP, 4, self, hidden_gates, c)?;
        let n = c.shape()[0];
        crate::limits::allocation(OP, &[n, 5 * h], self.dtype())?;
        let (out, ws) = dispatch_float!(OP, self.dtype(), T => {
            let (out, ws) = self.try_read(OP, |x: &[T]| {
                hidden_gates.try_read(OP, |hg: &[T]| c.try_read(OP, |c: &[T]| lstm_forward(x, hg, c, (n, h))))
            })???;
            (Tensor::from_data(out, &[n, 2 * h]), Tensor::from_data(ws, &[n, 5 * h]))
        });
        let save = [
            Save::Input(0),
            Save::Input(1),
            Save::Input(2),
            Save::Extra(&ws),
        ];
        let backward = LstmCellBackward { hidden: h };
        Ok(record(out, &[self, hidden_gates, c], backward, &save))
    }

    /// Panicking form of [`Tensor::try_lstm_cell`].
    #[track_caller]
    pub fn lstm_cell(&self, hidden_gates: &Tensor, c: &Tensor) -> Tensor {
        ok(self.try_lstm_cell(hidden_gates, c))
    }

    /// One GRU step (`torch.nn.GRUCell` after its two GEMMs). `self` holds the input's gate
    /// pre-activations `x·W_ihᵀ + b_ih` and `hidden_gates` the hidden state's `h·W_hhᵀ + b_hh`,
    /// both `[N, 3H]` in PyTorch's order r, z, n; `h` is the hidden state `[N, H]`.
    /// `r = σ(x_r + h_r)`, `z = σ(x_z + h_z)`, `n = tanh(x_n + r·h_n)` and
    /// `h' = (1 − z)·n + z·h`. Returns `h'`, `[N, H]`. One fused kernel; rule `GruCellBackward`.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// // H = 1, every pre-activation 0: z = 1/2, n = 0, so h' = h/2.
    /// let zeros = Tensor::zeros(&[1, 3], nabla_core::DType::F64);
    /// let h = Tensor::from_vec(vec![3.0f64], &[1, 1]);
    /// assert_eq!(zeros.gru_cell(&zeros, &h).to_vec::<f64>(), vec![1.5]);
    /// ```
    pub fn try_gru_cell(&self, hidden_gates: &Tensor, h: &Tensor) -> Result<Tensor> {
        const OP: &str = "gru_cell";
        let width = check_cell(OP, 3, self, hidden_gates, h)?;
        let n = h.shape()[0];
        crate::limits::allocation(OP, &[n, 4 * width], self.dtype())?;
        let (out, ws) = dispatch_float!(OP, self.dtype(), T => {
            let (out, ws) = self.try_read(OP, |x: &[T]| {
                hidden_gates.try_read(OP, |hg: &[T]| h.try_read(OP, |s: &[T]| gru_forward(x, hg, s, (n, width))))
            })???;
            (Tensor::from_data(out, &[n, width]), Tensor::from_data(ws, &[n, 4 * width]))
        });
        let save = [
            Save::Input(0),
            Save::Input(1),
            Save::Input(2),
            Save::Extra(&ws),
        ];
        let backward = GruCellBackward { hidden: width };
        Ok(record(out, &[self, hidden_gates, h], backward, &save))
    }

    /// Panicking form of [`Tensor::try_gru_cell`].
    #[track_caller]
    pub fn gru_cell(&self, hidden_gates: &Tensor, h: &Tensor) -> Tensor {
        ok(self.try_gru_cell(hidden_gates, h))
    }
}
