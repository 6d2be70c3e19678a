//! Recurrent layers with PyTorch's semantics, gate order and parameter names: the single-step
//! cells [`RnnCell`], [`LstmCell`], [`GruCell`] and the sequence layers [`Rnn`], [`Lstm`],
//! [`Gru`] (stacked layers, both directions, dropout between layers, initial states and
//! variable lengths). Backpropagation through time is the ordinary autograd graph of the
//! steps; [`RecurrentState::detach`] truncates it.

mod cell;
mod layer;
mod options;
mod parts;
mod sequence;
mod state;
mod weights;

pub use cell::{GruCell, LstmCell, RnnCell};
pub use layer::{Gru, Lstm, Rnn};
pub use options::{Nonlinearity, RecurrentOptions};
pub use state::{RecurrentState, SequenceOutput};

pub(crate) use options::Kind;
pub(crate) use sequence::description;

use crate::Error;
use nabla_core::{DType, Tensor};

/// The error for an input or state a recurrent layer cannot take: `forward: LSTM(3 -> 4): input
/// has shape [2, 5], expected ...`.
fn wrong_input(layer: &str, what: String, expected: String) -> Error {
    Error::invalid("forward", format!("{layer}: {what}, expected {expected}"))
}

/// An error naming the layer (`LSTM(3 -> 4)`) unless the sizes are at least 1 and the dtype
/// a float one.
fn check_sizes(name: &str, input: usize, hidden: usize, dtype: DType) -> Result<(), Error> {
    let problem = if input == 0 || hidden == 0 {
        format!("the input size ({input}) and hidden size ({hidden}) must be at least 1")
    } else if !dtype.is_float() {
        format!("the parameters must be f32 or f64, not {dtype}")
    } else {
        return Ok(());
    };
    Err(Error::invalid(
        "layer",
        format!("{name}({input} -> {hidden}): {problem}"),
    ))
}

/// An error naming `layer` unless `x` has the dtype of its parameters.
fn check_dtype(layer: &str, x: &Tensor, dtype: DType) -> Result<(), Error> {
    if x.dtype() == dtype {
        return Ok(());
    }
    Err(wrong_input(
        layer,
        format!("input has dtype {}", x.dtype()),
        format!("{dtype} (convert it with .to_dtype())"),
    ))
}
