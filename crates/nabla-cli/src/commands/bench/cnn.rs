//! The CNN workload: the network of `nabla train --model cnn` ([`nabla_nn::models::cnn`]) on
//! MNIST's 1×28×28 images with Adam lr 1e-3, batch 128, through the library loop: training
//! samples per second after a warm-up, and the share of the machine's FMA peak that is.

use super::mlp::image_model;
use super::report::ThroughputFigure;
use crate::CliResult;
use nabla_nn::models::cnn as cnn_spec;
use std::path::Path;

/// FLOPs of one training sample (a multiply-add counts 2): the forward pass costs 5.26 M
/// (conv 1→32: 26·26·32·9·2 = 0.39 M, conv 32→64: 11·11·64·288·2 = 4.46 M, linear 1600→128:
/// 0.41 M, linear 128→10: 2.6 k), the backward twice that less the first convolution's input
/// gradient, which is not computed: 3·5.26 M − 0.39 M ≈ 15.4 M.
pub const FLOP_PER_SAMPLE: f64 = 15.4e6;

/// The CNN, PyTorch's default initialisation, on the 60,000 training images.
pub fn cnn(data: &Path) -> CliResult<ThroughputFigure> {
    image_model(data, &cnn_spec())
}
