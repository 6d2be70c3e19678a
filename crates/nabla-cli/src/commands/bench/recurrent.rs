//! The recurrent workloads: the networks of `nabla train --model lstm`, `gru` and `rnn`
//! ([`nabla_nn::models::lstm`] and its twins: MNIST read row by row, 28 time steps of 28
//! features, a recurrent layer of 128, its last hidden state into a linear layer of 10) with
//! Adam lr 1e-3, batch 128, through the library loop: training samples per second after a
//! warm-up. `benches/peer_pytorch.py` times `torch.nn.LSTM`, `GRU` and `RNN` on the same model.

use super::mlp::image_model;
use super::report::ThroughputFigure;
use crate::CliResult;
use nabla_nn::spec::ModelSpec;
use std::path::Path;

/// The recurrent network `spec` (one of [`nabla_nn::models::lstm`], `gru`, `rnn`), PyTorch's
/// default initialisation, on the 60,000 training images.
pub fn recurrent(data: &Path, spec: ModelSpec) -> CliResult<ThroughputFigure> {
    image_model(data, &spec)
}
