//! The gate nonlinearities of one LSTM or GRU time step, with PyTorch's gate order: the layer
//! computes the input's and the hidden state's gate pre-activations (two GEMMs), and these ops
//! combine them into the next state.

use super::ok;
use crate::error::{Error, Result};
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
    let dtype = input_gates.dtype();
    if !dtype.is_float() {
        return Err(Error::UnsupportedDType {
            op,
            got: dtype,
            expected: "f32 or f64",
        });
    }
    for t in [hidden_gates, state] {
        if t.dtype() != dtype {
            return Err(Error::DTypeMismatch {
                op,
                lhs: dtype,
                rhs: t.dtype(),
            });
        }
    }
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
            format!("the gates' width {width} is not a multiple of {gates}"),
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

impl Tensor {
    /// One LSTM step (`torch.nn.LSTMCell` after its two GEMMs). `self` holds the input's gate
    /// pre-activations `x·W_ihᵀ + b_ih` and `hidden_gates` the hidden state's `h·W_hhᵀ + b_hh`,
    /// both `[N, 4H]` in PyTorch's order i, f, g, o; `c` is the cell state `[N, H]`. With
    /// `a = self + hidden_gates`: `c' = σ(a_f)·c + σ(a_i)·tanh(a_g)` and
    /// `h' = σ(a_o)·tanh(c')`. Returns `[N, 2H]`: `h'` in the first `H` columns, `c'` in the
    /// last `H`.
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
        let h = check_cell("lstm_cell", 4, self, hidden_gates, c)?;
        let gates = self.try_add(hidden_gates)?;
        let gate = |k: usize| gates.try_narrow(1, k * h, h);
        let (i, f) = (gate(0)?.try_sigmoid()?, gate(1)?.try_sigmoid()?);
        let (g, o) = (gate(2)?.try_tanh()?, gate(3)?.try_sigmoid()?);
        let c_next = f.try_mul(c)?.try_add(&i.try_mul(&g)?)?;
        let h_next = o.try_mul(&c_next.try_tanh()?)?;
        Tensor::try_cat(&[&h_next, &c_next], 1)
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
    /// `h' = (1 − z)·n + z·h`. Returns `h'`, `[N, H]`.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// // H = 1, every pre-activation 0: z = 1/2, n = 0, so h' = h/2.
    /// let zeros = Tensor::zeros(&[1, 3], nabla_core::DType::F64);
    /// let h = Tensor::from_vec(vec![3.0f64], &[1, 1]);
    /// assert_eq!(zeros.gru_cell(&zeros, &h).to_vec::<f64>(), vec![1.5]);
    /// ```
    pub fn try_gru_cell(&self, hidden_gates: &Tensor, h: &Tensor) -> Result<Tensor> {
        let width = check_cell("gru_cell", 3, self, hidden_gates, h)?;
        let x_gate = |k: usize| self.try_narrow(1, k * width, width);
        let h_gate = |k: usize| hidden_gates.try_narrow(1, k * width, width);
        let r = x_gate(0)?.try_add(&h_gate(0)?)?.try_sigmoid()?;
        let z = x_gate(1)?.try_add(&h_gate(1)?)?.try_sigmoid()?;
        let n = x_gate(2)?.try_add(&r.try_mul(&h_gate(2)?)?)?.try_tanh()?;
        // (1 − z)·n + z·h = n + z·(h − n)
        n.try_add(&z.try_mul(&h.try_sub(&n)?)?)
    }

    /// Panicking form of [`Tensor::try_gru_cell`].
    #[track_caller]
    pub fn gru_cell(&self, hidden_gates: &Tensor, h: &Tensor) -> Tensor {
        ok(self.try_gru_cell(hidden_gates, h))
    }
}
