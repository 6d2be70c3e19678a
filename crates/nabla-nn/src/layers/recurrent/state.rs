//! The state a recurrent layer carries between time steps, and what a sequence layer returns.

use nabla_core::Tensor;

/// The hidden state of a sequence layer: `h` is `[L·D, N, H]` (`[L·D, H]` for an unbatched
/// input), one row per layer and direction in PyTorch's order (layer 0 forward, layer 0
/// backward, layer 1 forward, ...); `c` is the LSTM's cell state of the same shape, `None` for
/// RNN and GRU.
///
/// ```
/// use nabla_core::{DType, Tensor};
/// use nabla_nn::layers::RecurrentState;
/// let h = Tensor::zeros(&[1, 2, 3], DType::F64).requires_grad();
/// let state = RecurrentState { h: &h * &h, c: None };
/// assert!(state.h.grad_fn().is_some() && state.detach().h.grad_fn().is_none());
/// ```
#[derive(Clone, Debug)]
pub struct RecurrentState {
    /// The hidden state.
    pub h: Tensor,
    /// The LSTM's cell state.
    pub c: Option<Tensor>,
}

impl RecurrentState {
    /// The same values cut from the graph, for truncated backpropagation through time: a state
    /// carried into the next chunk of a sequence passes no gradient back into the previous one.
    pub fn detach(&self) -> RecurrentState {
        RecurrentState {
            h: self.h.detach(),
            c: self.c.as_ref().map(Tensor::detach),
        }
    }
}

/// What a sequence layer returns: `output` is the last layer's hidden state at every time step,
/// `[T, N, D·H]` (`[N, T, D·H]` when batch-first, `[T, D·H]` unbatched), both directions
/// concatenated and zeros past each sequence's length; `state` holds every layer's state at
/// each sequence's last valid step (`h_n`, and `c_n` for an LSTM).
#[derive(Clone, Debug)]
pub struct SequenceOutput {
    /// The outputs of every time step.
    pub output: Tensor,
    /// The final state.
    pub state: RecurrentState,
}
