//! The single-step cells [`RnnCell`], [`LstmCell`] and [`GruCell`], `torch.nn.RNNCell`,
//! `LSTMCell` and `GRUCell`: parameters `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`.

use super::options::{Kind, Nonlinearity};
use super::weights::{CellWeights, Hidden};
use super::{check_dtype, check_sizes, wrong_input};
use crate::module::Module;
use crate::{Error, Result};
use nabla_core::{DType, Generator, Tensor};

/// What the three cells share: the kind, the sizes and the weights, and one checked step.
pub(super) struct Cell {
    pub(super) kind: Kind,
    pub(super) input: usize,
    pub(super) weights: CellWeights,
}

impl Cell {
    fn try_new(
        kind: Kind,
        input: usize,
        hidden: usize,
        bias: bool,
        dtype: DType,
        rng: &mut Generator,
    ) -> Result<Self> {
        check_sizes(kind.cell_name(), input, hidden, dtype)?;
        Ok(Cell {
            kind,
            input,
            weights: CellWeights::new(kind, input, hidden, bias, dtype, rng)?,
        })
    }

    fn describe(&self) -> String {
        let bias = if self.weights.bias_ih.is_some() {
            ""
        } else {
            ", bias=false"
        };
        format!(
            "{}({} -> {}{}{bias})",
            self.kind.cell_name(),
            self.input,
            self.weights.hidden(),
            self.kind.suffix()
        )
    }

    /// One step from `x` (`[N, I]`, or `[I]` unbatched) and the state (`[N, H]` or `[H]`
    /// tensors; zeros when `None`), with errors naming the cell and the shapes.
    fn try_step(&self, x: &Tensor, state: Option<Hidden>) -> Result<Hidden> {
        let hidden = self.weights.hidden();
        check_dtype(&self.describe(), x, self.weights.weight_hh.dtype())?;
        let batched = x.ndim() == 2;
        if !(1..=2).contains(&x.ndim()) || x.shape().last() != Some(&self.input) {
            return Err(wrong_input(
                &self.describe(),
                format!("input has shape {:?}", x.shape()),
                format!("[N, {0}] or [{0}]", self.input),
            ));
        }
        let n = if batched { x.shape()[0] } else { 1 };
        let expected: &[usize] = if batched { &[n, hidden] } else { &[hidden] };
        let batch = |t: &Tensor| -> Result<Tensor> {
            Ok(if batched {
                t.clone()
            } else {
                t.try_unsqueeze(0)?
            })
        };
        let state = match state {
            None => Hidden::zeros(self.kind, n, hidden, self.weights.weight_hh.dtype())?,
            Some(s) => {
                for (name, t) in std::iter::once(("h", &s.h)).chain(s.c.iter().map(|c| ("c", c))) {
                    if t.shape() != expected || t.dtype() != x.dtype() {
                        return Err(wrong_input(
                            &self.describe(),
                            format!("{name} of shape {:?} and dtype {}", t.shape(), t.dtype()),
                            format!("{expected:?} of dtype {}", x.dtype()),
                        ));
                    }
                }
                Hidden {
                    h: batch(&s.h)?,
                    c: s.c.as_ref().map(batch).transpose()?,
                }
            }
        };
        let gates_x = self.weights.project(self.kind, &batch(x)?)?;
        let next = self.weights.step(self.kind, &gates_x, &state)?;
        let unbatch =
            |t: Tensor| -> Result<Tensor> { Ok(if batched { t } else { t.try_squeeze(0)? }) };
        Ok(Hidden {
            h: unbatch(next.h)?,
            c: next.c.map(unbatch).transpose()?,
        })
    }
}

/// The [`Module`] methods of a cell, from its `cell` field.
macro_rules! cell_module {
    ($name:ident) => {
        impl Module for $name {
            /// The next hidden state from a zero state: `[N, I] -> [N, H]` (or `[I] -> [H]`).
            fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
                Ok(self.cell.try_step(x, None)?.h)
            }

            fn describe(&self) -> String {
                self.cell.describe()
            }

            fn type_name(&self) -> &'static str {
                self.cell.kind.cell_name()
            }

            fn local_parameters(&self) -> Vec<(String, Tensor)> {
                self.cell.weights.named("")
            }
        }
    };
}

/// One step of a vanilla RNN, `torch.nn.RNNCell`: `h' = f(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)`
/// with `f` tanh or ReLU.
///
/// ```
/// use nabla_core::{DType, Generator, Tensor};
/// use nabla_nn::layers::{Nonlinearity, RnnCell};
/// use nabla_nn::module::Module;
/// let cell = RnnCell::new(3, 4, true, Nonlinearity::Relu, DType::F64, &mut Generator::new(0)).unwrap();
/// assert_eq!(cell.describe(), "RNNCell(3 -> 4, relu)");
/// let h = cell.step(&Tensor::ones(&[2, 3], DType::F64), None);
/// let h = cell.step(&Tensor::ones(&[2, 3], DType::F64), Some(&h));
/// assert_eq!(h.shape(), &[2, 4]);
/// ```
pub struct RnnCell {
    pub(super) cell: Cell,
}

impl RnnCell {
    /// A cell with PyTorch's initialisation (every parameter from `U(−1/√H, 1/√H)`).
    pub fn new(
        input_size: usize,
        hidden_size: usize,
        bias: bool,
        nonlinearity: Nonlinearity,
        dtype: DType,
        rng: &mut Generator,
    ) -> Result<Self> {
        let kind = Kind::Rnn(nonlinearity);
        Ok(RnnCell {
            cell: Cell::try_new(kind, input_size, hidden_size, bias, dtype, rng)?,
        })
    }

    /// The next hidden state from `x` (`[N, I]` or `[I]`) and `h` (`[N, H]` or `[H]`; zeros
    /// when `None`).
    pub fn try_step(&self, x: &Tensor, h: Option<&Tensor>) -> Result<Tensor> {
        let state = h.map(|h| Hidden {
            h: h.clone(),
            c: None,
        });
        Ok(self.cell.try_step(x, state)?.h)
    }

    /// Panicking form of [`RnnCell::try_step`].
    #[track_caller]
    pub fn step(&self, x: &Tensor, h: Option<&Tensor>) -> Tensor {
        crate::error::ok(self.try_step(x, h))
    }
}

cell_module!(RnnCell);

/// One LSTM step, `torch.nn.LSTMCell`, gates in PyTorch's order i, f, g, o:
/// `c' = σ(f)·c + σ(i)·tanh(g)`, `h' = σ(o)·tanh(c')`.
///
/// ```
/// use nabla_core::{DType, Generator, Tensor};
/// use nabla_nn::layers::LstmCell;
/// let cell = LstmCell::new(3, 4, true, DType::F64, &mut Generator::new(0)).unwrap();
/// let (h, c) = cell.step(&Tensor::ones(&[3], DType::F64), None);
/// let (h, c) = cell.step(&Tensor::ones(&[3], DType::F64), Some((&h, &c)));
/// assert_eq!((h.shape(), c.shape()), (&[4][..], &[4][..]));
/// ```
pub struct LstmCell {
    pub(super) cell: Cell,
}

impl LstmCell {
    /// A cell with PyTorch's initialisation (every parameter from `U(−1/√H, 1/√H)`).
    pub fn new(
        input_size: usize,
        hidden_size: usize,
        bias: bool,
        dtype: DType,
        rng: &mut Generator,
    ) -> Result<Self> {
        Ok(LstmCell {
            cell: Cell::try_new(Kind::Lstm, input_size, hidden_size, bias, dtype, rng)?,
        })
    }

    /// The next `(h, c)` from `x` (`[N, I]` or `[I]`) and `(h, c)` (`[N, H]` or `[H]` each;
    /// zeros when `None`).
    pub fn try_step(
        &self,
        x: &Tensor,
        state: Option<(&Tensor, &Tensor)>,
    ) -> Result<(Tensor, Tensor)> {
        let state = state.map(|(h, c)| Hidden {
            h: h.clone(),
            c: Some(c.clone()),
        });
        let next = self.cell.try_step(x, state)?;
        let c = next
            .c
            .ok_or_else(|| Error::invalid("LSTMCell", "the step returned no cell state"))?;
        Ok((next.h, c))
    }

    /// Panicking form of [`LstmCell::try_step`].
    #[track_caller]
    pub fn step(&self, x: &Tensor, state: Option<(&Tensor, &Tensor)>) -> (Tensor, Tensor) {
        crate::error::ok(self.try_step(x, state))
    }
}

cell_module!(LstmCell);

/// One GRU step, `torch.nn.GRUCell`, gates in PyTorch's order r, z, n:
/// `n = tanh(x_n + r·(h·W_hnᵀ + b_hn))`, `h' = (1 − z)·n + z·h`.
///
/// ```
/// use nabla_core::{DType, Generator, Tensor};
/// use nabla_nn::layers::GruCell;
/// use nabla_nn::module::Module;
/// let cell = GruCell::new(3, 4, false, DType::F64, &mut Generator::new(0)).unwrap();
/// assert_eq!(cell.describe(), "GRUCell(3 -> 4, bias=false)");
/// let err = cell.try_step(&Tensor::ones(&[2, 5], DType::F64), None).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "forward: GRUCell(3 -> 4, bias=false): input has shape [2, 5], expected [N, 3] or [3]"
/// );
/// ```
pub struct GruCell {
    pub(super) cell: Cell,
}

impl GruCell {
    /// A cell with PyTorch's initialisation (every parameter from `U(−1/√H, 1/√H)`).
    pub fn new(
        input_size: usize,
        hidden_size: usize,
        bias: bool,
        dtype: DType,
        rng: &mut Generator,
    ) -> Result<Self> {
        Ok(GruCell {
            cell: Cell::try_new(Kind::Gru, input_size, hidden_size, bias, dtype, rng)?,
        })
    }

    /// The next hidden state from `x` (`[N, I]` or `[I]`) and `h` (`[N, H]` or `[H]`; zeros
    /// when `None`).
    pub fn try_step(&self, x: &Tensor, h: Option<&Tensor>) -> Result<Tensor> {
        let state = h.map(|h| Hidden {
            h: h.clone(),
            c: None,
        });
        Ok(self.cell.try_step(x, state)?.h)
    }

    /// Panicking form of [`GruCell::try_step`].
    #[track_caller]
    pub fn step(&self, x: &Tensor, h: Option<&Tensor>) -> Tensor {
        crate::error::ok(self.try_step(x, h))
    }
}

cell_module!(GruCell);
