//! The parameters of one recurrent cell (one layer and direction of a sequence layer) and the
//! time step they compute: the input's projection (once for a whole sequence), one GEMM of the
//! hidden state per step, then the cell's gate nonlinearities in one op.

use super::options::{Kind, Nonlinearity};
use crate::init::Init;
use crate::{Error, Result};
use nabla_core::{DType, Generator, Tensor};

/// A cell's hidden state `h` (`[N, H]`) and, for an LSTM, its cell state `c`.
#[derive(Clone)]
pub(crate) struct Hidden {
    pub(crate) h: Tensor,
    pub(crate) c: Option<Tensor>,
}

impl Hidden {
    /// The zero state of `n` sequences (PyTorch's default initial state); an error when it
    /// could not be held in memory.
    pub(crate) fn zeros(kind: Kind, n: usize, hidden: usize, dtype: DType) -> Result<Hidden> {
        let zeros = || Tensor::try_zeros(&[n, hidden], dtype);
        Ok(Hidden {
            h: zeros()?,
            c: (kind == Kind::Lstm).then(zeros).transpose()?,
        })
    }
}

/// `weight_ih [G·H, I]`, `weight_hh [G·H, H]` and the optional biases `bias_ih`, `bias_hh`
/// (`[G·H]`), with `G` gates in PyTorch's order.
pub(crate) struct CellWeights {
    pub(crate) weight_ih: Tensor,
    pub(crate) weight_hh: Tensor,
    pub(crate) bias_ih: Option<Tensor>,
    pub(crate) bias_hh: Option<Tensor>,
}

impl CellWeights {
    /// PyTorch's initialisation: every parameter from `U(−1/√H, 1/√H)`, drawn in the order
    /// weight_ih, weight_hh, bias_ih, bias_hh.
    pub(crate) fn new(
        kind: Kind,
        input: usize,
        hidden: usize,
        bias: bool,
        dtype: DType,
        rng: &mut Generator,
    ) -> Result<Self> {
        let bound = 1.0 / (hidden as f64).sqrt();
        let init = Init::Uniform {
            low: -bound,
            high: bound,
        };
        let rows = kind.gates() * hidden;
        let mut draw = |shape: &[usize]| -> Result<Tensor> {
            Ok(init.try_tensor(shape, dtype, rng)?.requires_grad())
        };
        let weight_ih = draw(&[rows, input])?;
        let weight_hh = draw(&[rows, hidden])?;
        let (bias_ih, bias_hh) = if bias {
            (Some(draw(&[rows])?), Some(draw(&[rows])?))
        } else {
            (None, None)
        };
        Ok(CellWeights {
            weight_ih,
            weight_hh,
            bias_ih,
            bias_hh,
        })
    }

    /// The parameters with PyTorch's names, each followed by `suffix` (`_l0`, `_l1_reverse`,
    /// or nothing for a cell).
    pub(crate) fn named(&self, suffix: &str) -> Vec<(String, Tensor)> {
        let mut out = vec![
            (format!("weight_ih{suffix}"), self.weight_ih.clone()),
            (format!("weight_hh{suffix}"), self.weight_hh.clone()),
        ];
        for (name, bias) in [("bias_ih", &self.bias_ih), ("bias_hh", &self.bias_hh)] {
            out.extend(bias.iter().map(|b| (format!("{name}{suffix}"), b.clone())));
        }
        out
    }

    /// The hidden size `H`.
    pub(crate) fn hidden(&self) -> usize {
        self.weight_hh.shape()[1]
    }

    /// The input's gate pre-activations over the last dim of `x` (one step `[N, I]` or a whole
    /// sequence at once): `x·W_ihᵀ + b_ih`, and for an LSTM or an RNN, whose cell adds the two
    /// projections before anything else, `+ b_hh` too, so the steps' GEMMs need no bias and
    /// `b_hh` gets its gradient from one sum over the sequence instead of one per step.
    pub(crate) fn project(&self, kind: Kind, x: &Tensor) -> Result<Tensor> {
        Ok(x.try_linear(&self.weight_ih, self.input_bias(kind)?.as_ref())?)
    }

    /// The bias of the input's projection: `b_ih`, and for an LSTM or an RNN `+ b_hh` (see
    /// [`CellWeights::project`]).
    fn input_bias(&self, kind: Kind) -> Result<Option<Tensor>> {
        Ok(match (&self.bias_ih, &self.bias_hh) {
            (Some(b_ih), Some(b_hh)) if kind != Kind::Gru => Some(b_ih.try_add(b_hh)?),
            (b_ih, _) => b_ih.clone(),
        })
    }

    /// A whole LSTM sequence in one operation (`lstm_sequence`, which projects each step's
    /// input itself): from the input of every step (`[T, N, I]`) and the initial state,
    /// `[h_t | c_t]` of every step (`[T, N, 2H]`), run from the last step to the first when
    /// `reverse`; with `final_only` the last step run's alone (`[N, 2H]`,
    /// `lstm_sequence_final`), whose backward reads no gradient of the other steps.
    pub(crate) fn lstm_sequence(
        &self,
        x: &Tensor,
        initial: &Hidden,
        (reverse, final_only): (bool, bool),
    ) -> Result<Tensor> {
        let Some(c) = &initial.c else {
            return Err(Error::invalid(
                "lstm",
                "an LSTM sequence needs a cell state c",
            ));
        };
        let (w_ih, w_hh, h0) = (&self.weight_ih, &self.weight_hh, &initial.h);
        let bias = self.input_bias(Kind::Lstm)?;
        Ok(if final_only {
            x.try_lstm_sequence_final(w_ih, w_hh, bias.as_ref(), h0, c, reverse)?
        } else {
            x.try_lstm_sequence(w_ih, w_hh, bias.as_ref(), h0, c, reverse)?
        })
    }

    /// One time step from the input's gate pre-activations `gates_x` (`[N, gates·H]`, from
    /// [`CellWeights::project`]) and the state before it: `gates_h = h·W_hhᵀ` (one GEMM; a
    /// GRU adds `b_hh` here, since its n gate scales `h_n + b_hn` by r), then the fused cell
    /// op (`lstm_cell`, `gru_cell`) or, for an RNN, the nonlinearity of the sum.
    pub(crate) fn step(&self, kind: Kind, gates_x: &Tensor, state: &Hidden) -> Result<Hidden> {
        let hidden_bias = if kind == Kind::Gru {
            self.bias_hh.as_ref()
        } else {
            None
        };
        let gates_h = state.h.try_linear(&self.weight_hh, hidden_bias)?;
        Ok(match (kind, &state.c) {
            (Kind::Rnn(f), _) => {
                let sum = gates_x.try_add(&gates_h)?;
                let h = match f {
                    Nonlinearity::Tanh => sum.try_tanh()?,
                    Nonlinearity::Relu => sum.try_relu()?,
                };
                Hidden { h, c: None }
            }
            (Kind::Lstm, Some(c)) => {
                let hidden = self.hidden();
                let hc = gates_x.try_lstm_cell(&gates_h, c)?;
                Hidden {
                    h: hc.try_narrow(1, 0, hidden)?,
                    c: Some(hc.try_narrow(1, hidden, hidden)?),
                }
            }
            (Kind::Lstm, None) => {
                return Err(Error::invalid("lstm", "an LSTM step needs a cell state c"));
            }
            (Kind::Gru, _) => Hidden {
                h: gates_x.try_gru_cell(&gates_h, &state.h)?,
                c: None,
            },
        })
    }
}
