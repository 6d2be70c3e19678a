//! What configures a recurrent layer: [`RecurrentOptions`] (PyTorch's keyword arguments) and the
//! [`Nonlinearity`] of a vanilla RNN, plus the kind of cell a layer runs.

use crate::{Error, Result};

/// The options of a sequence layer, with PyTorch's meanings and defaults
/// (`num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False`).
///
/// ```
/// use nabla_nn::layers::RecurrentOptions;
/// let two = RecurrentOptions { num_layers: 2, bidirectional: true, ..Default::default() };
/// assert!(two.bias && !two.batch_first && two.dropout == 0.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecurrentOptions {
    /// Layers stacked on each other, each reading the previous one's outputs (at least 1).
    pub num_layers: usize,
    /// Whether the cells have the biases `b_ih` and `b_hh`.
    pub bias: bool,
    /// Whether inputs and outputs are `[N, T, features]` rather than `[T, N, features]`.
    pub batch_first: bool,
    /// The probability of dropout on the outputs of every layer but the last, in training (in
    /// `[0, 1)`).
    pub dropout: f64,
    /// Whether every layer also runs a second cell from the last time step to the first, its
    /// outputs concatenated to the forward cell's.
    pub bidirectional: bool,
}

impl Default for RecurrentOptions {
    fn default() -> Self {
        RecurrentOptions {
            num_layers: 1,
            bias: true,
            batch_first: false,
            dropout: 0.0,
            bidirectional: false,
        }
    }
}

impl RecurrentOptions {
    /// The number of directions: 2 when bidirectional, else 1.
    pub fn directions(&self) -> usize {
        if self.bidirectional { 2 } else { 1 }
    }

    /// An error naming `layer` (`LSTM(3 -> 4)`) unless the options can make a layer.
    pub(crate) fn check(&self, layer: &str) -> Result<()> {
        let problem = if self.num_layers == 0 {
            "num_layers must be at least 1, got 0".to_string()
        } else if !(0.0..1.0).contains(&self.dropout) {
            format!("dropout must be in [0, 1), got {}", self.dropout)
        } else {
            return Ok(());
        };
        Err(Error::invalid("layer", format!("{layer}: {problem}")))
    }
}

/// The nonlinearity of a vanilla RNN cell: `h' = f(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nonlinearity {
    /// `tanh`, PyTorch's default.
    Tanh,
    /// `max(0, x)`.
    Relu,
}

/// Which cell a recurrent layer runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Rnn(Nonlinearity),
    Lstm,
    Gru,
}

impl Kind {
    /// Gate pre-activations per hidden unit: 1, 4 (i, f, g, o) or 3 (r, z, n).
    pub(crate) fn gates(self) -> usize {
        match self {
            Kind::Rnn(_) => 1,
            Kind::Lstm => 4,
            Kind::Gru => 3,
        }
    }

    /// PyTorch's name of the sequence layer: `RNN`, `LSTM` or `GRU`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Rnn(_) => "RNN",
            Kind::Lstm => "LSTM",
            Kind::Gru => "GRU",
        }
    }

    /// PyTorch's name of the cell: `RNNCell`, `LSTMCell` or `GRUCell`.
    pub(crate) fn cell_name(self) -> &'static str {
        match self {
            Kind::Rnn(_) => "RNNCell",
            Kind::Lstm => "LSTMCell",
            Kind::Gru => "GRUCell",
        }
    }

    /// `, relu` for a ReLU RNN (tanh is the default and not written), else nothing.
    pub(crate) fn suffix(self) -> &'static str {
        match self {
            Kind::Rnn(Nonlinearity::Relu) => ", relu",
            _ => "",
        }
    }
}
