//! The recurrent workloads: the networks of `nabla train --model lstm`, `gru` and `rnn`
//! ([`nabla_nn::models::lstm`] and its twins: MNIST read row by row, 28 time steps of 28
//! features, a recurrent layer of 128, its last hidden state into a linear layer of 10) with
//! Adam lr 1e-3, batch 128, through the library loop: training samples per second after a
//! warm-up. `benches/peer_pytorch.py` times `torch.nn.LSTM`, `GRU` and `RNN` on the same model.

use super::memory;
use super::mlp::throughput;
use super::report::ThroughputFigure;
use crate::CliResult;
use nabla_core::{DType, Generator};
use nabla_nn::data::mnist::{IMAGE_SIDE, NUM_CLASSES};
use nabla_nn::data::{Dataset, Mnist, Normalization};
use nabla_nn::models::WeightInit;
use nabla_nn::spec::ModelSpec;
use std::path::Path;

const BATCH: usize = 128;
const WARMUP_STEPS: usize = 20;
const TIMED_STEPS: usize = 50;

/// The recurrent network `spec` (one of [`nabla_nn::models::lstm`], `gru`, `rnn`), PyTorch's
/// default initialisation, on the 60,000 training images.
pub fn recurrent(data: &Path, spec: ModelSpec) -> CliResult<ThroughputFigure> {
    let mnist = Mnist::load(data, Normalization::MNIST)?;
    let n = mnist.train.len();
    let images = mnist
        .train
        .features
        .reshape(&[n, 1, IMAGE_SIDE, IMAGE_SIDE]);
    let train = Dataset::new(images, mnist.train.targets.clone())?;
    let data_rss_mib = memory::resident_mib();
    let mut net = spec.build(
        &[1, IMAGE_SIDE, IMAGE_SIDE],
        NUM_CLASSES,
        WeightInit::Default,
        DType::F32,
        &mut Generator::new(0),
    )?;
    throughput(
        &mut net,
        &train,
        BATCH,
        (WARMUP_STEPS, TIMED_STEPS),
        data_rss_mib,
    )
}
