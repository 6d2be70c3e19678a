//! `nabla train`: trains a multi-layer perceptron on MNIST-format data with a progress bar, one
//! summary line per epoch, and a run folder holding `config.json`, `metrics.jsonl`,
//! `model.safetensors` and `optimizer.safetensors` (so `--resume` continues where it stopped).

pub mod config;
mod run_folder;
mod trainer;

use crate::CliResult;
use clap::Args;
use config::{InitKind, OptimizerKind, ScheduleKind, TrainConfig};
use nabla_nn::data::{Mnist, Normalization};
use nabla_nn::models::Hidden;
use run_folder::RunFolder;
use std::path::PathBuf;

#[derive(Args)]
pub struct TrainArgs {
    /// Folder with the MNIST-format IDX files (raw or gzip).
    #[arg(long, default_value = "data/mnist")]
    data: PathBuf,
    /// Hidden layer sizes, e.g. `--hidden 256,128`.
    #[arg(long, value_delimiter = ',', default_values_t = [256, 128])]
    hidden: Vec<usize>,
    #[arg(long, value_enum, default_value = "relu")]
    activation: HiddenArg,
    #[arg(long, value_enum, default_value = "he")]
    init: InitKind,
    #[arg(long, value_enum, default_value = "adam")]
    optimizer: OptimizerKind,
    /// Learning rate (default: 0.001 for Adam-like optimisers, 0.1 otherwise).
    #[arg(long)]
    lr: Option<f64>,
    #[arg(long, value_enum, default_value = "cosine")]
    schedule: ScheduleKind,
    /// Epochs of linear learning-rate warm-up.
    #[arg(long, default_value_t = 0)]
    warmup: usize,
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// Weight decay (default: 0.01 for AdamW, as PyTorch, 0 otherwise).
    #[arg(long)]
    weight_decay: Option<f64>,
    /// Clip gradients to this global L2 norm.
    #[arg(long)]
    clip_norm: Option<f64>,
    /// Clip each gradient element to [-v, v].
    #[arg(long)]
    clip_value: Option<f64>,
    /// Batch normalisation after each hidden linear layer.
    #[arg(long)]
    batch_norm: bool,
    /// Dropout probability after each hidden activation.
    #[arg(long, default_value_t = 0.0)]
    dropout: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
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
enum HiddenArg {
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

impl TrainArgs {
    fn config(&self) -> TrainConfig {
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
        }
    }
}

pub fn run(args: &TrainArgs, epochs_given: bool) -> CliResult {
    let (folder, config) = match &args.resume {
        Some(dir) => {
            let folder = RunFolder::open(dir)?;
            let mut config = folder.read_config()?;
            if epochs_given {
                config.epochs = args.epochs;
                config.validate()?;
            }
            (folder, config)
        }
        None => {
            let config = args.config();
            config.validate()?;
            (RunFolder::new_run(args.out.as_deref())?, config)
        }
    };
    let data = Mnist::load(&config.data, Normalization::MNIST)?;
    trainer::train(&config, &data, &folder, args.quiet, args.resume.is_some())
}
