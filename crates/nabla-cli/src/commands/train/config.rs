//! What a training run is: every choice `nabla train` takes, saved as `config.json` so a run can
//! be resumed or reproduced, and turned into the model, optimiser and schedule it describes.

use clap::ValueEnum;
use nabla_core::Tensor;
use nabla_nn::data::{DataSpec, Schema};
use nabla_nn::models::WeightInit;
use nabla_nn::optim::{
    AdaGrad, Adam, AdamW, Momentum, Nesterov, Optim, Optimizer, RmsProp, Sgd, UpdateRule,
};
use nabla_nn::schedule::{
    Constant, CosineAnnealing, Exponential, LinearWarmup, Schedule, StepDecay,
};
use nabla_nn::spec::{LayerSummary, ModelSpec, totals};
use serde::{Deserialize, Serialize};

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

/// The ready-made network `--model` names; `--layers` gives any other.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// The multi-layer perceptron of `--hidden`, `--activation`, `--batch-norm` and `--dropout`.
    Mlp,
    /// Two 3×3 convolutions (32 and 64 channels) with ReLU and 2×2 max-pooling, then linear
    /// 128, ReLU and the output layer ([`nabla_nn::models::cnn`]).
    Cnn,
    /// The textbook's chapter 7 network: 30 5×5 filters, ReLU, 2×2 max-pooling, linear 100,
    /// ReLU and the output layer ([`nabla_nn::models::simple_conv_net`]).
    Simpleconvnet,
    /// Images read row by row into an LSTM of 128, its last hidden state into the output
    /// layer ([`nabla_nn::models::lstm`]).
    Lstm,
    /// The same with a GRU of 128 ([`nabla_nn::models::gru`]).
    Gru,
    /// The same with a plain tanh RNN of 128 ([`nabla_nn::models::rnn`]).
    Rnn,
}

impl ModelKind {
    /// The spec of a ready-made convolutional or recurrent network (`None` for the MLP, which
    /// its flags shape).
    pub fn spec(self) -> Option<ModelSpec> {
        match self {
            ModelKind::Mlp => None,
            ModelKind::Cnn => Some(nabla_nn::models::cnn()),
            ModelKind::Simpleconvnet => Some(nabla_nn::models::simple_conv_net()),
            ModelKind::Lstm => Some(nabla_nn::models::lstm()),
            ModelKind::Gru => Some(nabla_nn::models::gru()),
            ModelKind::Rnn => Some(nabla_nn::models::rnn()),
        }
    }

    /// Epochs without `--epochs`: 10 for the MLP, 5 for the convolutional networks, which learn
    /// more per epoch at a higher cost each (the CNN reaches 99.16% on MNIST after 5 epochs in
    /// batches of 64, 99.04% after 4, 98.98% after 3, 98.80% after 3 in batches of 128), and
    /// 3 for the recurrent networks (the LSTM reaches 98.25% after 3 epochs in batches of 128,
    /// 97.60% after 2, 98.64% after 5).
    pub fn default_epochs(self) -> usize {
        match self {
            ModelKind::Mlp => 10,
            ModelKind::Cnn | ModelKind::Simpleconvnet => 5,
            ModelKind::Lstm | ModelKind::Gru | ModelKind::Rnn => 3,
        }
    }

    /// Samples per step without `--batch-size`: 128 for the MLP and the recurrent networks, 64
    /// for the convolutional networks (twice the steps per epoch, for about the same time per
    /// epoch).
    pub fn default_batch_size(self) -> usize {
        match self {
            ModelKind::Mlp | ModelKind::Lstm | ModelKind::Gru | ModelKind::Rnn => 128,
            ModelKind::Cnn | ModelKind::Simpleconvnet => 64,
        }
    }

    /// The name on the command line.
    pub fn flag_value(self) -> String {
        self.to_possible_value()
            .map_or_else(String::new, |v| v.get_name().to_string())
    }
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
    /// The data and how it is read, split and cut (`--data`, `--val-split`, `--train-subset`...).
    pub data: DataSpec,
    /// The ready-made network `layers` is (`--model`); absent for `--layers` and for runs saved
    /// before `--model` existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelKind>,
    /// The network: `--layers`, or the spec of `--model` (for `mlp`, of `--hidden` and the
    /// flags that go with it).
    pub layers: ModelSpec,
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
    pub seed: u64,
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
        if self.data.train_subset == Some(0) {
            return Err("--train-subset must be at least 1, got 0".into());
        }
        if let Some(f) = self.data.val_split.filter(|f| !(*f > 0.0 && *f < 1.0)) {
            return Err(format!("--val-split must be between 0 and 1, got {f}"));
        }
        if self.warmup >= self.epochs {
            return Err(format!(
                "--warmup must be shorter than the run, got --warmup {} with --epochs {}",
                self.warmup, self.epochs
            ));
        }
        Ok(())
    }

    /// The layers for `schema`'s data, each sized (the spec's errors name the layer that does
    /// not fit), and a model whose training would need more memory than `available` refused:
    /// parameters, their gradients and the optimiser's state, batch norm's statistics, and a
    /// batch's activations (the input and every layer's output with their gradients), all
    /// `f32`. Run once the data's schema is known, before anything is built.
    pub fn check_memory(
        &self,
        schema: &Schema,
        available: Option<u64>,
    ) -> Result<Vec<LayerSummary>, String> {
        let (state, optimizer) = match self.optimizer {
            OptimizerKind::Sgd if self.momentum > 0.0 => (1, "SGD's momentum buffer"),
            OptimizerKind::Sgd => (0, "SGD"),
            OptimizerKind::Momentum => (1, "momentum's velocity"),
            OptimizerKind::Nesterov => (1, "Nesterov's velocity"),
            OptimizerKind::Adagrad => (1, "AdaGrad's sums"),
            OptimizerKind::Rmsprop => (1, "RMSprop's averages"),
            OptimizerKind::Adam => (2, "Adam's moments"),
            OptimizerKind::Adamw => (2, "AdamW's moments"),
        };
        let rows = self
            .layers
            .summary(&schema.input_shape, schema.task.outputs())
            .map_err(|e| e.to_string())?;
        let (parameters, statistics) = totals(&rows);
        let numel = |shape: &[usize]| shape.iter().try_fold(1u64, |n, &d| n.checked_mul(d as u64));
        let units = std::iter::once(&schema.input_shape)
            .chain(rows.iter().map(|r| &r.output_shape))
            .try_fold(0u64, |sum, shape| sum.checked_add(numel(shape)?));
        let activations = units.and_then(|u| u.checked_mul(2)?.checked_mul(self.batch_size as u64));
        let bytes = (parameters as u64)
            .checked_mul(2 + state)
            .and_then(|p| p.checked_add(statistics as u64))
            .zip(activations)
            .and_then(|(p, a)| p.checked_add(a)?.checked_mul(4));
        let what = format!(
            "the model \"{}\" ({} parameters with their gradients{}, and the activations of a \
             batch of {})",
            self.layers,
            parameters,
            if state > 0 {
                format!(" and {optimizer}")
            } else {
                String::new()
            },
            self.batch_size
        );
        nabla_nn::memory::check(&what, bytes, available).map_err(|e| e.to_string())?;
        Ok(rows)
    }

    /// `--momentum`, `--dampening` and `--nesterov` belong to `--optimizer sgd`, in PyTorch's
    /// ranges.
    fn check_sgd_momentum(&self) -> Result<(), String> {
        let set = [
            ("--momentum", self.momentum != 0.0),
            ("--dampening", self.dampening != 0.0),
            ("--nesterov", self.nesterov),
        ];
        if let Some((flag, _)) = set.iter().find(|(_, on)| *on)
            && self.optimizer != OptimizerKind::Sgd
        {
            return Err(format!(
                "{flag} applies to --optimizer sgd (PyTorch's SGD), not to --optimizer {}",
                self.optimizer
                    .to_possible_value()
                    .map_or_else(String::new, |v| v.get_name().to_string())
            ));
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

    /// The optimiser over `params` with the run's weight decay (L2 added to the gradient, as
    /// PyTorch's `weight_decay`; decoupled for AdamW); `sgd` is PyTorch's SGD with the run's
    /// momentum, dampening and Nesterov switch, `momentum` the textbook rule.
    pub fn optimizer(&self, params: Vec<(String, Tensor)>) -> nabla_nn::Result<Box<dyn Optimizer>> {
        fn boxed<R: UpdateRule + 'static>(
            params: Vec<(String, Tensor)>,
            rule: R,
            lr: f64,
            weight_decay: f64,
        ) -> nabla_nn::Result<Box<dyn Optimizer>> {
            Ok(Box::new(
                Optim::new(params, rule, lr)?.with_weight_decay(weight_decay)?,
            ))
        }
        let (lr, wd) = (self.lr, self.weight_decay);
        match self.optimizer {
            OptimizerKind::Sgd => boxed(
                params,
                Sgd::new()
                    .momentum(self.momentum)
                    .dampening(self.dampening)
                    .nesterov(self.nesterov),
                lr,
                wd,
            ),
            OptimizerKind::Momentum => boxed(params, Momentum::new(), lr, wd),
            OptimizerKind::Nesterov => boxed(params, Nesterov::new(), lr, wd),
            OptimizerKind::Adagrad => boxed(params, AdaGrad::new(), lr, wd),
            OptimizerKind::Rmsprop => boxed(params, RmsProp::new(), lr, wd),
            OptimizerKind::Adam => boxed(params, Adam::new(), lr, wd),
            OptimizerKind::Adamw => boxed(params, AdamW::new(), lr, wd),
        }
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

/// A run of `hidden` and `optimizer` with PyTorch-like defaults, for tests.
#[cfg(test)]
pub fn test_config(hidden: &[usize], optimizer: OptimizerKind) -> TrainConfig {
    TrainConfig {
        data: DataSpec {
            source: nabla_nn::data::Source::Idx {
                dir: std::path::PathBuf::from("data/mnist"),
            },
            val_split: None,
            train_subset: None,
        },
        model: Some(ModelKind::Mlp),
        layers: ModelSpec::mlp(hidden, nabla_nn::models::Hidden::Relu, false, 0.0, 3),
        init: InitKind::He,
        optimizer,
        lr: 1e-3,
        schedule: ScheduleKind::Constant,
        warmup: 0,
        batch_size: 128,
        epochs: 10,
        weight_decay: 0.0,
        clip_norm: None,
        clip_value: None,
        seed: 0,
        momentum: 0.0,
        dampening: 0.0,
        nesterov: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MNIST's schema: 1x28x28 images in 10 classes.
    fn mnist() -> Schema {
        Schema {
            input_shape: vec![1, 28, 28],
            task: nabla_nn::task::Task::classes(10),
            preprocess: nabla_nn::data::Preprocess::Image {
                mean: vec![0.1307],
                std: vec![0.3081],
                resize: None,
            },
        }
    }

    #[test]
    fn a_model_larger_than_the_machine_is_refused_with_both_sizes() {
        let gb = 1_000_000_000;
        let mnist = mnist();
        // 784·10^9 + 10^9 + 10·10^9 + 10 parameters, three copies with Adam, 4 bytes each.
        assert_eq!(
            test_config(&[1_000_000_000], OptimizerKind::Adam)
                .check_memory(&mnist, Some(8 * gb))
                .unwrap_err(),
            "the model \"flatten, linear 1000000000, relu, linear\" (795000000010 parameters \
             with their gradients and Adam's moments, and the activations of a batch of 128) \
             would need 14.8 TB; this machine has 8.0 GB available"
        );
        assert_eq!(
            test_config(&[usize::MAX, usize::MAX], OptimizerKind::Sgd)
                .check_memory(&mnist, Some(8 * gb))
                .unwrap_err(),
            "layer spec: layer 1 `linear 18446744073709551615`: has more than 2^64 parameters"
        );
        let mut wide = test_config(&[1 << 40], OptimizerKind::Sgd);
        wide.batch_size = 1 << 30;
        assert_eq!(
            wide.check_memory(&mnist, Some(8 * gb)).unwrap_err(),
            "the model \"flatten, linear 1099511627776, relu, linear\" (874111744081930 \
             parameters with their gradients, and the activations of a batch of 1073741824) would \
             need more than 2^64 bytes; this machine has 8.0 GB available"
        );
        // The default model: 235,146 parameters, a few MB.
        let rows = test_config(&[256, 128], OptimizerKind::Adam)
            .check_memory(&mnist, Some(100_000_000))
            .unwrap();
        assert_eq!(totals(&rows), (235_146, 0));
    }

    #[test]
    fn warmup_must_end_before_the_run_does() {
        let mut c = test_config(&[16], OptimizerKind::Sgd);
        c.warmup = 10;
        assert_eq!(
            c.validate().unwrap_err(),
            "--warmup must be shorter than the run, got --warmup 10 with --epochs 10"
        );
        c.warmup = 9;
        assert!(c.validate().is_ok());
    }
}
