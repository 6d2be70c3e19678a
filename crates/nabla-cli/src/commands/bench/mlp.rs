//! The training workloads on MNIST: the small MLP 784-100-10 with SGD (seconds per epoch) and the
//! wide MLP 784-1024-1024-10 with Adam (samples per second in steady state). The data is loaded
//! once, outside the timings; a timed step is forward, softmax cross-entropy, zero_grad,
//! backward and the optimiser step, with batches from a seeded shuffling `DataLoader`.

use super::memory;
use super::report::{MnistMlpFigure, WideMlpFigure};
use crate::CliResult;
use nabla_core::{DType, Generator, Tensor};
use nabla_nn::data::{Batch, DataLoader, Mnist, Normalization};
use nabla_nn::loss::try_cross_entropy;
use nabla_nn::models::{Hidden, MlpConfig, WeightInit};
use nabla_nn::module::{Module, Sequential};
use nabla_nn::optim::{Adam, Optim, Optimizer, Sgd};
use std::path::Path;
use std::time::Instant;

/// Timed epochs (or windows) per figure; the best counts.
const RUNS: u64 = 3;
const SMALL_BATCH: usize = 100;
const WIDE_BATCH: usize = 128;
const WIDE_WARMUP_STEPS: usize = 50;
const WIDE_TIMED_STEPS: usize = 200;

/// An MLP on MNIST with ReLU and PyTorch's default `nn.Linear` initialisation.
fn mlp(hidden: &[usize]) -> CliResult<Sequential> {
    let config = MlpConfig {
        input: nabla_nn::data::mnist::IMAGE_PIXELS,
        hidden: hidden.to_vec(),
        outputs: nabla_nn::data::mnist::NUM_CLASSES,
        activation: Hidden::Relu,
        init: WeightInit::Default,
        batch_norm: false,
        dropout: 0.0,
    };
    Ok(config.build(DType::F32, &mut Generator::new(0))?)
}

/// One training step; returns the loss.
fn step(net: &Sequential, optimizer: &mut dyn Optimizer, batch: &Batch) -> CliResult<Tensor> {
    let logits = net.try_forward(&batch.features)?;
    let loss = try_cross_entropy(&logits, &batch.targets)?;
    optimizer.zero_grad();
    loss.try_backward()?;
    optimizer.step()?;
    Ok(loss)
}

/// MLP 784-100-10, SGD lr 0.1, batch 100: wall time of whole epochs over the 60,000 images.
pub fn mnist_mlp(data: &Path) -> CliResult<MnistMlpFigure> {
    let mnist = Mnist::load(data, Normalization::MNIST)?;
    let data_rss_mib = memory::resident_mib();
    let net = mlp(&[100])?;
    let mut optimizer = Optim::new(net.named_parameters(), Sgd::new(0.1))?;
    let loader = DataLoader::new(mnist.train.clone(), SMALL_BATCH)?.shuffle(0);
    let mut runs = Vec::new();
    let mut last_loss = f64::NAN;
    for epoch in 0..RUNS {
        let start = Instant::now();
        let mut loss = None;
        for batch in loader.epoch(epoch) {
            loss = Some(step(&net, &mut optimizer, &batch)?);
        }
        runs.push(start.elapsed().as_secs_f64());
        last_loss = loss.map_or(f64::NAN, |l| l.item::<f32>() as f64);
    }
    Ok(MnistMlpFigure {
        batch_size: SMALL_BATCH,
        steps_per_epoch: loader.num_batches(),
        epoch_seconds: runs.iter().copied().fold(f64::INFINITY, f64::min),
        epoch_seconds_runs: runs,
        last_loss,
        data_rss_mib,
        peak_rss_mib: memory::peak_mib(),
    })
}

/// MLP 784-1024-1024-10, Adam lr 1e-3, batch 128: samples per second over windows of steps
/// after a warm-up, with full batches only, continuing from epoch to epoch.
pub fn wide_mlp(data: &Path) -> CliResult<WideMlpFigure> {
    let mnist = Mnist::load(data, Normalization::MNIST)?;
    let data_rss_mib = memory::resident_mib();
    let net = mlp(&[1024, 1024])?;
    let mut optimizer = Optim::new(net.named_parameters(), Adam::new(1e-3))?;
    let loader = DataLoader::new(mnist.train.clone(), WIDE_BATCH)?
        .shuffle(0)
        .drop_last(true);
    let mut batches = (0..).flat_map(|epoch| loader.epoch(epoch));
    let mut loss = None;
    for batch in batches.by_ref().take(WIDE_WARMUP_STEPS) {
        loss = Some(step(&net, &mut optimizer, &batch)?);
    }
    let mut runs = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        for batch in batches.by_ref().take(WIDE_TIMED_STEPS) {
            loss = Some(step(&net, &mut optimizer, &batch)?);
        }
        runs.push((WIDE_TIMED_STEPS * WIDE_BATCH) as f64 / start.elapsed().as_secs_f64());
    }
    Ok(WideMlpFigure {
        batch_size: WIDE_BATCH,
        warmup_steps: WIDE_WARMUP_STEPS,
        timed_steps: WIDE_TIMED_STEPS,
        samples_per_second: runs.iter().copied().fold(0.0, f64::max),
        samples_per_second_runs: runs,
        last_loss: loss.map_or(f64::NAN, |l| l.item::<f32>() as f64),
        data_rss_mib,
        peak_rss_mib: memory::peak_mib(),
    })
}
