//! The training workloads on MNIST: the small MLP 784-100-10 with SGD (seconds per epoch) and the
//! wide MLP 784-1024-1024-10 with Adam (samples per second in steady state), and the steady-state
//! throughput of any layer spec on the images (the CNN and recurrent workloads). The data is loaded
//! once, outside the timings; the steps are the library loop's ([`nabla_nn::train::fit`]):
//! forward, softmax cross-entropy, zero_grad, backward and the optimiser step, with batches from
//! a seeded shuffling `DataLoader`.

use super::memory;
use super::report::{MnistMlpFigure, ThroughputFigure};
use crate::CliResult;
use nabla_core::{DType, Generator};
use nabla_nn::data::mnist::{IMAGE_SIDE, NUM_CLASSES};
use nabla_nn::data::{DataLoader, Dataset, Mnist, Normalization};
use nabla_nn::models::{Hidden, MlpConfig, WeightInit};
use nabla_nn::module::{Module, Sequential};
use nabla_nn::optim::{Adam, Optim, Sgd};
use nabla_nn::spec::ModelSpec;
use nabla_nn::task::Task;
use nabla_nn::train::{Control, FitOptions, Observer, StepEnd, fit};
use std::path::Path;
use std::time::Instant;

/// Timed epochs (or windows) per figure; the best counts.
const RUNS: usize = 3;
const SMALL_BATCH: usize = 100;
const WIDE_BATCH: usize = 128;
const WIDE_WARMUP_STEPS: usize = 50;
const WIDE_TIMED_STEPS: usize = 200;
const IMAGE_BATCH: usize = 128;
const IMAGE_WARMUP_STEPS: usize = 20;
const IMAGE_TIMED_STEPS: usize = 50;

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

/// The task of MNIST.
pub(super) fn digits() -> Task {
    Task::classes(nabla_nn::data::mnist::NUM_CLASSES)
}

/// Records the loss of the last step, and with `windows` the wall time of windows of steps:
/// after `warmup` steps, `count` windows of `length` steps each, stopping the run after them.
struct Stopwatch {
    last_loss: f64,
    steps: usize,
    warmup: usize,
    length: usize,
    count: usize,
    started: Option<Instant>,
    windows: Vec<f64>,
}

impl Stopwatch {
    fn new(warmup: usize, length: usize, count: usize) -> Stopwatch {
        Stopwatch {
            last_loss: f64::NAN,
            steps: 0,
            warmup,
            length,
            count,
            started: None,
            windows: Vec::new(),
        }
    }
}

impl Observer for Stopwatch {
    fn step_end(&mut self, step: &StepEnd) -> nabla_nn::Result<Control> {
        self.last_loss = step.loss;
        self.steps += 1;
        if self.length == 0 || self.steps < self.warmup {
            return Ok(Control::Continue);
        }
        if (self.steps - self.warmup).is_multiple_of(self.length) {
            if let Some(start) = self.started {
                self.windows.push(start.elapsed().as_secs_f64());
            }
            self.started = Some(Instant::now());
        }
        Ok(if self.windows.len() == self.count {
            Control::Stop
        } else {
            Control::Continue
        })
    }
}

/// MLP 784-100-10, SGD lr 0.1, batch 100: wall time of whole epochs over the 60,000 images.
pub fn mnist_mlp(data: &Path) -> CliResult<MnistMlpFigure> {
    let mnist = Mnist::load(data, Normalization::MNIST)?;
    let data_rss_mib = memory::resident_mib();
    let mut net = mlp(&[100])?;
    let mut optimizer = Optim::new(net.named_parameters(), Sgd::new(), 0.1)?;
    let loader = DataLoader::new(mnist.train.clone(), SMALL_BATCH)?.shuffle(0);
    let mut runs = Vec::new();
    let mut stopwatch = Stopwatch::new(0, 0, 0);
    for epoch in 0..RUNS {
        let options = FitOptions::new(digits(), epoch + 1).resume(epoch, None);
        let start = Instant::now();
        fit(
            &mut net,
            &loader,
            &mut optimizer,
            &options,
            &mut [&mut stopwatch],
        )?;
        runs.push(start.elapsed().as_secs_f64());
    }
    let last_loss = stopwatch.last_loss;
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
/// after a warm-up.
pub fn wide_mlp(data: &Path) -> CliResult<ThroughputFigure> {
    let mnist = Mnist::load(data, Normalization::MNIST)?;
    let data_rss_mib = memory::resident_mib();
    let mut net = mlp(&[1024, 1024])?;
    throughput(
        &mut net,
        &mnist.train,
        WIDE_BATCH,
        (WIDE_WARMUP_STEPS, WIDE_TIMED_STEPS),
        data_rss_mib,
    )
}

/// `net` trained on `train` with Adam lr 1e-3 in batches of `batch_size`: samples per second
/// over windows of `steps.1` steps after `steps.0` warm-up steps, with full batches only,
/// continuing from epoch to epoch; `data_rss_mib` is the memory with the data loaded.
pub(super) fn throughput(
    net: &mut Sequential,
    train: &Dataset,
    batch_size: usize,
    (warmup_steps, timed_steps): (usize, usize),
    data_rss_mib: Option<f64>,
) -> CliResult<ThroughputFigure> {
    let mut optimizer = Optim::new(net.named_parameters(), Adam::new(), 1e-3)?;
    let loader = DataLoader::new(train.clone(), batch_size)?
        .shuffle(0)
        .drop_last(true);
    // Enough epochs for the windows, continuing from epoch to epoch; the stopwatch stops the run.
    let steps = warmup_steps + timed_steps * RUNS;
    let epochs = steps.div_ceil(loader.num_batches());
    let mut stopwatch = Stopwatch::new(warmup_steps, timed_steps, RUNS);
    fit(
        net,
        &loader,
        &mut optimizer,
        &FitOptions::new(digits(), epochs),
        &mut [&mut stopwatch],
    )?;
    let runs: Vec<f64> = stopwatch
        .windows
        .iter()
        .map(|seconds| (timed_steps * batch_size) as f64 / seconds)
        .collect();
    Ok(ThroughputFigure {
        batch_size,
        warmup_steps,
        timed_steps,
        samples_per_second: runs.iter().copied().fold(0.0, f64::max),
        samples_per_second_runs: runs,
        last_loss: stopwatch.last_loss,
        data_rss_mib,
        peak_rss_mib: memory::peak_mib(),
        percent_of_peak: None,
    })
}

/// `spec` built for MNIST's `[1, 28, 28]` images with PyTorch's default initialisation and
/// trained on the 60,000 training images by [`throughput`] (Adam lr 1e-3, batch 128,
/// windows of 50 steps after 20 warm-up steps): the CNN's and the recurrent workloads (the
/// networks of `nabla train --model lstm`, `gru` and `rnn`: MNIST read row by row, 28 time steps
/// of 28 features, a recurrent layer of 128; `benches/peer_pytorch.py` times `torch.nn.LSTM`,
/// `GRU` and `RNN` on the same model).
pub(super) fn image_model(data: &Path, spec: &ModelSpec) -> CliResult<ThroughputFigure> {
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
        IMAGE_BATCH,
        (IMAGE_WARMUP_STEPS, IMAGE_TIMED_STEPS),
        data_rss_mib,
    )
}
