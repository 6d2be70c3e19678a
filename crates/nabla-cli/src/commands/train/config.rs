//! What a training run is: every choice `nabla train` takes, saved as `config.json` so a run can
//! be resumed or reproduced, and turned into the model, optimiser and schedule it describes.

use clap::ValueEnum;
use nabla_core::Tensor;
use nabla_nn::models::{Hidden, MlpConfig, WeightInit};
use nabla_nn::optim::{AdaGrad, Adam, AdamW, Momentum, Nesterov, Optim, Optimizer, RmsProp, Sgd};
use nabla_nn::schedule::{
    Constant, CosineAnnealing, Exponential, LinearWarmup, Schedule, StepDecay,
};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerKind {
    Sgd,
    Momentum,
    Nesterov,
    Adagrad,
    Rmsprop,
    Adam,
    Adamw,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScheduleKind {
    Constant,
    /// Multiply by 0.1 every third of the run.
    Step,
    /// Multiply by 0.9 every epoch.
    Exponential,
    /// Cosine annealing to zero over the run.
    Cosine,
}

/// Weight initialisation as named on the command line.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InitKind {
    /// PyTorch's default for linear layers.
    Default,
    Xavier,
    He,
    /// Normal with std 1 (the textbook's saturating example).
    Std1,
    /// Normal with std 0.01 (the textbook's collapsing example).
    Std001,
}

impl InitKind {
    pub fn weight_init(self) -> WeightInit {
        match self {
            InitKind::Default => WeightInit::Default,
            InitKind::Xavier => WeightInit::Xavier,
            InitKind::He => WeightInit::He,
            InitKind::Std1 => WeightInit::Std(1.0),
            InitKind::Std001 => WeightInit::Std(0.01),
        }
    }
}

/// Every setting of a run. A `config.json` with a key this version does not know is refused
/// (every key it writes is one of these).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub data: PathBuf,
    pub hidden: Vec<usize>,
    pub activation: Hidden,
    pub init: InitKind,
    pub optimizer: OptimizerKind,
    pub lr: f64,
    pub schedule: ScheduleKind,
    pub warmup: usize,
    pub batch_size: usize,
    pub epochs: usize,
    pub weight_decay: f64,
    /// `--optimizer sgd`'s momentum, dampening and Nesterov switch (runs saved before these
    /// settings existed had none).
    #[serde(default)]
    pub momentum: f64,
    #[serde(default)]
    pub dampening: f64,
    #[serde(default)]
    pub nesterov: bool,
    pub clip_norm: Option<f64>,
    pub clip_value: Option<f64>,
    pub batch_norm: bool,
    pub dropout: f64,
    pub seed: u64,
    /// Train on the first N training images only (runs saved before this setting existed
    /// trained on all of them).
    #[serde(default)]
    pub train_subset: Option<usize>,
}

impl TrainConfig {
    /// Checks every setting, naming the command-line flag that sets it, before anything is
    /// loaded or written.
    pub fn validate(&self) -> Result<(), String> {
        let positive = |flag: &str, v: f64| {
            if v > 0.0 && v.is_finite() {
                Ok(())
            } else {
                Err(format!("{flag} must be a positive number, got {v}"))
            }
        };
        if let Some(&size) = self.hidden.iter().find(|&&s| s == 0) {
            return Err(format!("--hidden sizes must be at least 1, got {size}"));
        }
        positive("--lr", self.lr)?;
        if self.batch_size == 0 {
            return Err("--batch-size must be at least 1, got 0".into());
        }
        if self.epochs == 0 {
            return Err("--epochs must be at least 1, got 0".into());
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return Err(format!(
                "--weight-decay must be zero or a positive number, got {}",
                self.weight_decay
            ));
        }
        self.check_sgd_momentum()?;
        if let Some(v) = self.clip_norm {
            positive("--clip-norm", v)?;
        }
        if let Some(v) = self.clip_value {
            positive("--clip-value", v)?;
        }
        if self.train_subset == Some(0) {
            return Err("--train-subset must be at least 1, got 0".into());
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!("--dropout must be in [0, 1), got {}", self.dropout));
        }
        Ok(())
    }

    /// `--momentum`, `--dampening` and `--nesterov` belong to `--optimizer sgd`, in PyTorch's
    /// ranges.
    fn check_sgd_momentum(&self) -> Result<(), String> {
        let set = [
            ("--momentum", self.momentum != 0.0),
            ("--dampening", self.dampening != 0.0),
            ("--nesterov", self.nesterov),
        ];
        if let Some((flag, _)) = set.iter().find(|(_, on)| *on) {
            if self.optimizer != OptimizerKind::Sgd {
                return Err(format!(
                    "{flag} applies to --optimizer sgd (PyTorch's SGD), not to --optimizer {}",
                    self.optimizer
                        .to_possible_value()
                        .map_or_else(String::new, |v| v.get_name().to_string())
                ));
            }
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(format!(
                "--momentum must be in [0, 1), got {}",
                self.momentum
            ));
        }
        if !(0.0..=1.0).contains(&self.dampening) {
            return Err(format!(
                "--dampening must be in [0, 1], got {}",
                self.dampening
            ));
        }
        if self.nesterov && (self.momentum == 0.0 || self.dampening != 0.0) {
            return Err("--nesterov needs --momentum above 0 and no --dampening".into());
        }
        Ok(())
    }

    pub fn model(&self) -> MlpConfig {
        MlpConfig {
            input: nabla_nn::data::mnist::IMAGE_PIXELS,
            hidden: self.hidden.clone(),
            outputs: nabla_nn::data::mnist::NUM_CLASSES,
            activation: self.activation,
            init: self.init.weight_init(),
            batch_norm: self.batch_norm,
            dropout: self.dropout,
        }
    }

    /// The optimiser over `params`; `sgd` is PyTorch's SGD with the run's momentum, dampening
    /// and Nesterov switch, `momentum` the textbook rule. Weight decay is decoupled for AdamW,
    /// built into SGD, and
    /// added to the gradient (L2, as PyTorch's `weight_decay`) by the loop for the others.
    pub fn optimizer(&self, params: Vec<(String, Tensor)>) -> nabla_nn::Result<Box<dyn Optimizer>> {
        let lr = self.lr;
        Ok(match self.optimizer {
            OptimizerKind::Sgd => Box::new(Optim::new(
                params,
                Sgd::new(lr)
                    .weight_decay(self.weight_decay)
                    .momentum(self.momentum)
                    .dampening(self.dampening)
                    .nesterov(self.nesterov),
            )?),
            OptimizerKind::Momentum => Box::new(Optim::new(params, Momentum::new(lr))?),
            OptimizerKind::Nesterov => Box::new(Optim::new(params, Nesterov::new(lr))?),
            OptimizerKind::Adagrad => Box::new(Optim::new(params, AdaGrad::new(lr))?),
            OptimizerKind::Rmsprop => Box::new(Optim::new(params, RmsProp::new(lr))?),
            OptimizerKind::Adam => Box::new(Optim::new(params, Adam::new(lr))?),
            OptimizerKind::Adamw => Box::new(Optim::new(
                params,
                AdamW::new(lr).weight_decay(self.weight_decay),
            )?),
        })
    }

    /// Whether the loop must add `weight_decay · w` to each gradient itself.
    pub fn coupled_weight_decay(&self) -> bool {
        self.weight_decay > 0.0
            && !matches!(self.optimizer, OptimizerKind::Sgd | OptimizerKind::Adamw)
    }

    /// The learning rate of every epoch.
    pub fn schedule(&self) -> nabla_nn::Result<Box<dyn Schedule>> {
        let main_epochs = self.epochs.saturating_sub(self.warmup).max(1);
        let main: Box<dyn Schedule> = match self.schedule {
            ScheduleKind::Constant => Box::new(Constant::new(self.lr)),
            ScheduleKind::Step => Box::new(StepDecay::new(self.lr, main_epochs.div_ceil(3), 0.1)?),
            ScheduleKind::Exponential => Box::new(Exponential::new(self.lr, 0.9)),
            ScheduleKind::Cosine => Box::new(CosineAnnealing::new(self.lr, main_epochs, 0.0)?),
        };
        Ok(if self.warmup > 0 {
            Box::new(LinearWarmup::new(self.warmup, 0.1, main)?)
        } else {
            main
        })
    }
}
