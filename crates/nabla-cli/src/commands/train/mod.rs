//! `nabla train`: trains a multi-layer perceptron on MNIST-format data with a progress bar, one
//! summary line per epoch, and a run folder holding `config.json`, `metrics.jsonl`,
//! `curves.svg`, `model.safetensors` and `optimizer.safetensors` (so `--resume` continues where
//! it stopped); `--diagnose` adds per-layer diagnostics and `--detect-anomaly` stops at the
//! first NaN or infinity. `nabla compare` runs the same trainer over several settings.

mod charts;
pub mod config;
mod diagnose;
mod progress;
mod run_folder;
mod trainer;

pub use charts::compare_svg;
pub use progress::Console;
pub use run_folder::{EpochMetrics, RunFolder};
pub use trainer::{Outcome, RunOptions, train};

use crate::CliResult;
use clap::Args;
use config::{InitKind, OptimizerKind, ScheduleKind, TrainConfig};
use nabla_nn::data::{Mnist, Normalization};
use nabla_nn::models::Hidden;
use std::path::PathBuf;

/// Every setting of a training run, shared by `nabla train` and `nabla compare`.
#[derive(Args, Clone)]
pub struct SettingsArgs {
    /// Folder with the MNIST-format IDX files (raw or gzip).
    #[arg(long, default_value = "data/mnist")]
    pub data: PathBuf,
    /// Hidden layer sizes, e.g. `--hidden 256,128`.
    #[arg(long, value_delimiter = ',', default_values_t = [256, 128])]
    pub hidden: Vec<usize>,
    #[arg(long, value_enum, default_value = "relu")]
    pub activation: HiddenArg,
    #[arg(long, value_enum, default_value = "he")]
    pub init: InitKind,
    #[arg(long, value_enum, default_value = "adam")]
    pub optimizer: OptimizerKind,
    /// Learning rate (default: 0.001 for Adam-like optimisers, 0.1 otherwise).
    #[arg(long)]
    pub lr: Option<f64>,
    #[arg(long, value_enum, default_value = "cosine")]
    pub schedule: ScheduleKind,
    /// Epochs of linear learning-rate warm-up (fewer than --epochs).
    #[arg(long, default_value_t = 0)]
    pub warmup: usize,
    #[arg(long, default_value_t = 128)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Weight decay (default: 0.01 for AdamW, as PyTorch, 0 otherwise).
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Clip gradients to this global L2 norm.
    #[arg(long)]
    pub clip_norm: Option<f64>,
    /// Clip each gradient element to [-v, v].
    #[arg(long)]
    pub clip_value: Option<f64>,
    /// Batch normalisation after each hidden linear layer.
    #[arg(long)]
    pub batch_norm: bool,
    /// Dropout probability after each hidden activation.
    #[arg(long, default_value_t = 0.0)]
    pub dropout: f64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Train on the first N training images only (quick experiments).
    #[arg(long)]
    pub train_subset: Option<usize>,
    /// Record per-layer histograms of activations, weights and gradients, saturated and dead
    /// units and gradient norms (`diagnostics.json` and SVG charts), and warn when gradients
    /// vanish or explode.
    #[arg(long)]
    pub diagnose: bool,
    /// Check every training step for NaN or infinity and stop at the first operation that
    /// makes one (slower), drawing the graph around it in `anomaly.svg`.
    #[arg(long)]
    pub detect_anomaly: bool,
}

impl SettingsArgs {
    pub fn options(&self) -> RunOptions {
        RunOptions {
            diagnose: self.diagnose,
            detect_anomaly: self.detect_anomaly,
        }
    }
}

#[derive(Args)]
pub struct TrainArgs {
    #[command(flatten)]
    settings: SettingsArgs,
    /// Run folder (default: a new `runs/train-N`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the run in this folder from its last completed epoch (up to `--epochs` if given
    /// explicitly, else the saved count).
    #[arg(long, conflicts_with = "out")]
    resume: Option<PathBuf>,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
}

/// `Hidden` as a command-line value.
#[derive(Copy, Clone, clap::ValueEnum)]
pub enum HiddenArg {
    Relu,
    LeakyRelu,
    Sigmoid,
    Tanh,
    Gelu,
}

impl From<HiddenArg> for Hidden {
    fn from(a: HiddenArg) -> Hidden {
        match a {
            HiddenArg::Relu => Hidden::Relu,
            HiddenArg::LeakyRelu => Hidden::LeakyRelu,
            HiddenArg::Sigmoid => Hidden::Sigmoid,
            HiddenArg::Tanh => Hidden::Tanh,
            HiddenArg::Gelu => Hidden::Gelu,
        }
    }
}

impl SettingsArgs {
    pub fn config(&self) -> TrainConfig {
        let adaptive = matches!(
            self.optimizer,
            OptimizerKind::Adam | OptimizerKind::Adamw | OptimizerKind::Rmsprop
        );
        let adamw = self.optimizer == OptimizerKind::Adamw;
        TrainConfig {
            data: self.data.clone(),
            hidden: self.hidden.clone(),
            activation: self.activation.into(),
            init: self.init,
            optimizer: self.optimizer,
            lr: self.lr.unwrap_or(if adaptive { 1e-3 } else { 0.1 }),
            schedule: self.schedule,
            warmup: self.warmup,
            batch_size: self.batch_size,
            epochs: self.epochs,
            weight_decay: self.weight_decay.unwrap_or(if adamw { 0.01 } else { 0.0 }),
            clip_norm: self.clip_norm,
            clip_value: self.clip_value,
            batch_norm: self.batch_norm,
            dropout: self.dropout,
            seed: self.seed,
            train_subset: self.train_subset,
        }
    }
}

/// The data a configuration trains on: MNIST from its folder, cut to `--train-subset`.
pub fn load_data(config: &TrainConfig) -> CliResult<Mnist> {
    let mut data = Mnist::load(&config.data, Normalization::MNIST)?;
    if let Some(n) = config.train_subset {
        data.train = data.train.take(n);
    }
    Ok(data)
}

pub fn run(args: &TrainArgs, epochs_given: bool) -> CliResult {
    let (folder, config) = match &args.resume {
        Some(dir) => {
            let folder = RunFolder::open(dir)?;
            let mut config = folder.read_config()?;
            if epochs_given {
                config.epochs = args.settings.epochs;
                config.validate()?;
            }
            (folder, config)
        }
        None => {
            let config = args.settings.config();
            config.validate()?;
            (RunFolder::new_run(args.out.as_deref())?, config)
        }
    };
    let data = load_data(&config)?;
    let mut console = Console::new(args.quiet, None);
    train(
        &config,
        &data,
        &folder,
        &args.settings.options(),
        args.resume.is_some(),
        &mut console,
    )?;
    Ok(())
}
