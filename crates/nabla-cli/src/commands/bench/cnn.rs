//! The CNN workload: the network of `nabla train --model cnn` ([`nabla_nn::models::cnn`]) on
//! MNIST's 1×28×28 images with Adam lr 1e-3, batch 128, through the library loop: training
//! samples per second after a warm-up, and the share of the machine's FMA peak that is.

use super::memory;
use super::mlp::throughput;
use super::report::ThroughputFigure;
use crate::CliResult;
use nabla_core::{DType, Generator};
use nabla_nn::data::mnist::{IMAGE_SIDE, NUM_CLASSES};
use nabla_nn::data::{Dataset, Mnist, Normalization};
use nabla_nn::models::{WeightInit, cnn as cnn_spec};
use std::path::Path;

const BATCH: usize = 128;
const WARMUP_STEPS: usize = 20;
const TIMED_STEPS: usize = 50;

/// FLOPs of one training sample (a multiply-add counts 2): the forward pass costs 5.26 M
/// (conv 1→32: 26·26·32·9·2 = 0.39 M, conv 32→64: 11·11·64·288·2 = 4.46 M, linear 1600→128:
/// 0.41 M, linear 128→10: 2.6 k), the backward twice that less the first convolution's input
/// gradient, which is not computed: 3·5.26 M − 0.39 M ≈ 15.4 M.
pub const FLOP_PER_SAMPLE: f64 = 15.4e6;

/// The CNN, PyTorch's default initialisation, on the 60,000 training images.
pub fn cnn(data: &Path) -> CliResult<ThroughputFigure> {
    let mnist = Mnist::load(data, Normalization::MNIST)?;
    let n = mnist.train.len();
    let images = mnist
        .train
        .features
        .reshape(&[n, 1, IMAGE_SIDE, IMAGE_SIDE]);
    let train = Dataset::new(images, mnist.train.targets.clone())?;
    let data_rss_mib = memory::resident_mib();
    let mut net = cnn_spec().build(
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
