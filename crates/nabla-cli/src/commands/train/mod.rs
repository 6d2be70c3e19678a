//! `nabla train`: trains a multi-layer perceptron on an IDX folder (MNIST by default), a CSV
//! table, an image folder or a toy set (see [`data_args`]) with a progress bar, one
//! summary line per epoch, and a run folder holding `config.json`, `metrics.jsonl`,
//! `curves.svg`, `checkpoint.safetensors` (so `--resume` continues where it stopped, to the
//! same weights), `model.safetensors` and `events.jsonl` (the log a live page follows); `--diagnose` adds per-layer diagnostics and
//! `--detect-anomaly` stops at the first NaN or infinity. `nabla compare` runs the same trainer
//! over several settings.

mod abort_hook;
mod charts;
pub mod config;
mod data_args;
mod diagnose;
mod divergence;
mod events;
mod interrupt;
mod observers;
mod progress;
mod ranks;
pub(crate) mod run_folder;
mod trainer;

pub use charts::{ComparedRun, compare_svg};
pub use data_args::DataArgs;
pub use interrupt::Interrupts;
pub use progress::Console;
pub use run_folder::{EpochMetrics, RunFolder};
pub use trainer::{Changes, Outcome, RunOptions, train};

use crate::CliResult;
use clap::{Args, ValueEnum};
use config::{InitKind, ModelKind, OptimizerKind, ScheduleKind, TrainConfig};
use nabla_nn::data::Splits;
use nabla_nn::models::Hidden;
use nabla_nn::spec::{LayerSpec, ModelSpec};
use nabla_nn::train::{Communicator, check_agreement, fingerprint};
use std::path::PathBuf;
use std::rc::Rc;

/// `--hidden` without the flag; the check that refuses MLP flags with a convolutional
/// `--model` compares against it too.
const DEFAULT_HIDDEN: [usize; 2] = [256, 128];

/// Every setting of a training run, shared by `nabla train` and `nabla compare`.
#[derive(Args, Clone)]
pub struct SettingsArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The network: `mlp` (shaped by --hidden, --activation, --batch-norm and --dropout),
    /// `cnn` (two 3×3 convolutions with max-pooling, then linear 128; 99.16% on MNIST with its
    /// defaults), `simpleconvnet` (the textbook's chapter 7 network), or `lstm`, `gru`, `rnn`
    /// (images read row by row into a recurrent layer of 128, its last hidden state into the
    /// output layer; the LSTM reaches 98.25% on MNIST with its defaults).
    #[arg(long, value_enum, default_value = "mlp", conflicts_with = "layers")]
    pub model: ModelKind,
    /// The network as a list of layers, e.g. `--layers "flatten, linear 256, relu, dropout
    /// 0.2, linear"` (input sizes are inferred, and the last `linear` without a size gets one
    /// output per class); instead of --hidden, --activation, --batch-norm and --dropout.
    #[arg(long, conflicts_with_all = ["hidden", "activation", "batch_norm", "dropout"])]
    pub layers: Option<String>,
    /// Hidden layer sizes, e.g. `--hidden 256,128`.
    #[arg(long, value_delimiter = ',', default_values_t = DEFAULT_HIDDEN)]
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
    /// Samples per step (default: 128 for --model mlp, lstm, gru, rnn and --layers, 64 for the
    /// convolutional models).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Passes over the training data (default: 10 for --model mlp and --layers, 5 for the
    /// convolutional models, 3 for the recurrent ones).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Weight decay (default: 0.01 for AdamW, as PyTorch, 0 otherwise).
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Momentum of `--optimizer sgd`, as `torch.optim.SGD(momentum=…)` (0: none). The
    /// `momentum` optimiser is the textbook rule instead, equal to this only at a constant rate.
    #[arg(long, default_value_t = 0.0)]
    pub momentum: f64,
    /// Dampening of `--optimizer sgd`'s momentum.
    #[arg(long, default_value_t = 0.0)]
    pub dampening: f64,
    /// Nesterov's form of `--optimizer sgd`'s momentum.
    #[arg(long)]
    pub nesterov: bool,
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
    /// Record per-layer histograms of activations, weights and gradients, saturated and dead
    /// units and gradient norms (`diagnostics.json` and SVG charts), and warn when gradients
    /// vanish or explode; for a recurrent network, the gradient norm at each time step
    /// (`time_step_gradients.svg`).
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
            comm: Rc::new(nabla_nn::train::SingleProcess),
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
    /// explicitly, else the saved count). Settings of the run may not change, except `--epochs`.
    #[arg(long, conflicts_with = "out")]
    resume: Option<PathBuf>,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
    #[command(flatten)]
    view: crate::commands::view::ViewFlags,
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
    /// The settings as a run's configuration; a bad `--layers` spec, MLP flag or data flag
    /// is an error naming it.
    pub fn config(&self) -> Result<TrainConfig, String> {
        let adaptive = matches!(
            self.optimizer,
            OptimizerKind::Adam | OptimizerKind::Adamw | OptimizerKind::Rmsprop
        );
        let adamw = self.optimizer == OptimizerKind::Adamw;
        let data = self.data.spec()?;
        let layers = self.model(data.input_ndim())?;
        let model = self.layers.is_none().then_some(self.model);
        Ok(TrainConfig {
            data,
            model,
            layers,
            init: self.init,
            optimizer: self.optimizer,
            lr: self.lr.unwrap_or(if adaptive { 1e-3 } else { 0.1 }),
            schedule: self.schedule,
            warmup: self.warmup,
            batch_size: self
                .batch_size
                .unwrap_or(model.unwrap_or(ModelKind::Mlp).default_batch_size()),
            epochs: self
                .epochs
                .unwrap_or(model.unwrap_or(ModelKind::Mlp).default_epochs()),
            weight_decay: self.weight_decay.unwrap_or(if adamw { 0.01 } else { 0.0 }),
            momentum: self.momentum,
            dampening: self.dampening,
            nesterov: self.nesterov,
            clip_norm: self.clip_norm,
            clip_value: self.clip_value,
            seed: self.seed,
        })
    }

    /// The network: `--layers` as given, the ready-made network of `--model`, or the MLP of
    /// `--hidden`, `--activation`, `--batch-norm` and `--dropout`, after a `flatten` for samples
    /// of `input_ndim` > 1 dimensions (images). The MLP's flags set to other values than their
    /// defaults with another `--model` are an error naming them.
    pub fn model(&self, input_ndim: usize) -> Result<ModelSpec, String> {
        if let Some(text) = &self.layers {
            return ModelSpec::parse(text).map_err(|e| e.to_string());
        }
        if let Some(spec) = self.model.spec() {
            let set = [
                ("--hidden", self.hidden != DEFAULT_HIDDEN),
                ("--activation", !matches!(self.activation, HiddenArg::Relu)),
                ("--batch-norm", self.batch_norm),
                ("--dropout", self.dropout != 0.0),
            ];
            let flags: Vec<&str> = set.iter().filter(|(_, on)| *on).map(|(f, _)| *f).collect();
            if !flags.is_empty() {
                return Err(format!(
                    "{} shape{} --model mlp, not --model {} (give the whole network with \
                     --layers to change it)",
                    flags.join(", "),
                    if flags.len() == 1 { "s" } else { "" },
                    self.model.flag_value()
                ));
            }
            return Ok(spec);
        }
        if let Some(&size) = self.hidden.iter().find(|&&s| s == 0) {
            return Err(format!("--hidden sizes must be at least 1, got {size}"));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!("--dropout must be in [0, 1), got {}", self.dropout));
        }
        Ok(ModelSpec::mlp(
            &self.hidden,
            self.activation.into(),
            self.batch_norm,
            self.dropout,
            input_ndim,
        ))
    }
}

/// The data a configuration trains on, read and split by its [`nabla_nn::data::DataSpec`]
/// with the run's seed.
pub fn load_data(config: &TrainConfig) -> CliResult<Splits> {
    Ok(config.data.load(config.seed)?)
}

/// Settings `--resume` may change (besides those outside the configuration: `--quiet`,
/// `--diagnose`, `--detect-anomaly`, `--threads`).
const CHANGEABLE: [&str; 1] = ["epochs"];

/// The flags of the `--hidden` network, which `--layers` replaces.
const MLP_FLAGS: [&str; 4] = ["hidden", "activation", "batch_norm", "dropout"];

/// The `--hidden`, `--activation`, `--batch-norm` and `--dropout` values whose network is
/// `spec`, if it is one of theirs.
fn mlp_flags(spec: &ModelSpec) -> Option<serde_json::Value> {
    let layers = spec.layers();
    let flat = usize::from(layers.first() == Some(&LayerSpec::Flatten));
    let hidden: Vec<usize> = layers
        .iter()
        .filter_map(|l| match l {
            LayerSpec::Linear { out_features } => *out_features,
            _ => None,
        })
        .collect();
    let activation = [
        Hidden::Relu,
        Hidden::LeakyRelu,
        Hidden::Sigmoid,
        Hidden::Tanh,
        Hidden::Gelu,
    ]
    .into_iter()
    .find(|h| layers.contains(&h.layer()))
    .unwrap_or(Hidden::Relu);
    let batch_norm = layers.contains(&LayerSpec::BatchNorm { num_features: None });
    let dropout = layers
        .iter()
        .find_map(|l| match l {
            LayerSpec::Dropout { p } => Some(*p),
            _ => None,
        })
        .unwrap_or(0.0);
    let input_ndim = 1 + flat;
    (ModelSpec::mlp(&hidden, activation, batch_norm, dropout, input_ndim) == *spec).then(|| {
        serde_json::json!({
            "hidden": hidden,
            "activation": activation,
            "batch_norm": batch_norm,
            "dropout": dropout,
        })
    })
}

/// The settings of `args` given on the command line (`given` holds their names) that differ
/// from the run's `config`: the changeable ones as changes to apply, the others as an error
/// naming each. The `--hidden` flags compare one by one when the run's network is theirs.
fn resume_changes(
    args: &SettingsArgs,
    given: &[String],
    config: &TrainConfig,
) -> CliResult<Changes> {
    // The data flags are compared flag by flag with those that give the run's data; the
    // other settings with the run's config.json.
    let run_data = DataArgs::from_spec(&config.data);
    let mut probe = args.clone();
    probe.data = run_data.clone();
    let mut saved = serde_json::to_value(config)?;
    let mut asked = serde_json::to_value(probe.config()?)?;
    if let (Some(saved), Some(asked)) = (saved.as_object_mut(), asked.as_object_mut()) {
        let flags = |d: &DataArgs| serde_json::to_value(d).map(|v| v.as_object().cloned());
        saved.extend(flags(&run_data)?.into_iter().flatten());
        asked.extend(flags(&args.data)?.into_iter().flatten());
    }
    let run_mlp = mlp_flags(&config.layers);
    if let (Some(saved), Some(run_mlp)) = (saved.as_object_mut(), &run_mlp) {
        saved.extend(
            run_mlp
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
    }
    if let Some(asked) = asked.as_object_mut() {
        asked.insert("hidden".into(), serde_json::json!(args.hidden));
        asked.insert(
            "activation".into(),
            serde_json::json!(Hidden::from(args.activation)),
        );
        asked.insert("batch_norm".into(), serde_json::json!(args.batch_norm));
        asked.insert("dropout".into(), serde_json::json!(args.dropout));
    }
    let mut changes = Changes::new();
    let mut conflicts = Vec::new();
    for name in given {
        if MLP_FLAGS.contains(&name.as_str()) && run_mlp.is_none() {
            let run_model = match config.model {
                Some(kind) if kind != ModelKind::Mlp => format!("--model {}", kind.flag_value()),
                _ => format!("--layers {}", saved["layers"]),
            };
            conflicts.push(format!(
                "{} (the run has {run_model})",
                model_flag(args, name)
            ));
            continue;
        }
        let (Some(old), Some(new)) = (saved.get(name), asked.get(name)) else {
            continue;
        };
        if old == new {
            continue;
        }
        if CHANGEABLE.contains(&name.as_str()) {
            changes.insert(name.clone(), serde_json::json!([old, new]));
        } else {
            let flag = format!("--{}", name.replace('_', "-"));
            // A switch given on the command line is on, so the run has it off.
            conflicts.push(match new {
                serde_json::Value::Bool(_) => format!("{flag} (the run has no {flag})"),
                _ if name == "layers" => format!("{flag} {new} (the run has {old})"),
                _ => format!(
                    "{flag} {} (the run has {})",
                    flag_value(new),
                    flag_value(old)
                ),
            });
        }
    }
    if conflicts.is_empty() {
        Ok(changes)
    } else {
        Err(format!(
            "{} conflict{} with the run's config.json; --resume continues a run as it was \
             configured, changing only --epochs (start a new run with --out to change the rest)",
            conflicts.join(", "),
            if conflicts.len() == 1 { "s" } else { "" }
        )
        .into())
    }
}

/// The model flag `name` as given on the command line: `--hidden 64,32`, `--batch-norm`.
fn model_flag(args: &SettingsArgs, name: &str) -> String {
    let flag = format!("--{}", name.replace('_', "-"));
    match name {
        "layers" => format!("{flag} {:?}", args.layers.as_deref().unwrap_or_default()),
        "hidden" => format!("{flag} {}", flag_value(&serde_json::json!(args.hidden))),
        "activation" => match args.activation.to_possible_value() {
            Some(value) => format!("{flag} {}", value.get_name()),
            None => flag,
        },
        "dropout" => format!("{flag} {}", args.dropout),
        _ => flag,
    }
}

/// A configuration value as it is written on the command line (`64,32`, `sgd`, `0.5`).
fn flag_value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => {
            items.iter().map(flag_value).collect::<Vec<_>>().join(",")
        }
        serde_json::Value::Null => "none".to_string(),
        serde_json::Value::Number(n) => n
            .as_f64()
            .filter(|_| n.is_f64())
            .map_or_else(|| n.to_string(), |f| f.to_string()),
        other => other.to_string(),
    }
}

/// Runs `nabla train`; `given` names the settings given on the command line.
pub fn run(args: &TrainArgs, given: &[String]) -> CliResult {
    let comm = ranks::communicator(given)?;
    let result = run_on(args, given, &comm);
    ranks::finish(comm, result)
}

/// `nabla train` on the ranks of `comm`. Rank 0 opens or names the run folder and settles the
/// configuration (a resumed run's comes from its folder); a new run's other ranks make theirs
/// from their own flags, which must agree with rank 0's, and every rank loads the data itself
/// (the same path on every host).
fn run_on(args: &TrainArgs, given: &[String], comm: &Rc<dyn Communicator>) -> CliResult {
    let leader = comm.rank() == 0;
    if comm.size() > 1 {
        let ranks = ranks::roll_call(comm.as_ref())?;
        if leader {
            println!(
                "data-parallel training on {} ranks (each trains on its share of every \
                 --batch-size samples): {ranks}",
                comm.size()
            );
        }
    }
    let own = match (leader, &args.resume) {
        (true, _) => open(args, given).map(|(folder, config, changes)| {
            let own = config.clone();
            (Some((folder, config, changes)), Some(own))
        }),
        (false, None) => args
            .settings
            .config()
            .map_err(Into::into)
            .and_then(|config| Ok(config.validate().map(|()| (None, Some(config)))?)),
        (false, Some(_)) => Ok((None, None)),
    };
    let (opened, own) = ranks::settle(comm.as_ref(), own)?;
    let shared = opened
        .as_ref()
        .map(|(folder, config, _)| (folder.path().to_path_buf(), config.clone()));
    let (path, config): (PathBuf, TrainConfig) =
        ranks::from_leader(comm.as_ref(), shared.as_ref())?;
    // A new run's settings come from each rank's flags; a resumed one's from rank 0's folder,
    // with each rank's flags checked against it there.
    let settings = match (&args.resume, &own) {
        (None, Some(own)) => serde_json::to_vec(own)?,
        _ => format!("{given:?} {:?}", args.settings.epochs).into_bytes(),
    };
    check_agreement(
        comm.as_ref(),
        &[("the settings (command-line flags)", fingerprint(&settings))],
    )?;
    let data = ranks::settle(comm.as_ref(), load_checked(args, &config))?;
    let (folder, changes) = match opened {
        Some((folder, _, changes)) => (folder, changes),
        None => (RunFolder::named(&path), None),
    };
    let mut console = Console::new(args.quiet || !leader, None);
    let options = RunOptions {
        comm: comm.clone(),
        ..args.settings.options()
    };
    let viewing = match leader && args.view.view {
        true => Some(crate::commands::view::serve_training(
            folder.path(),
            args.view.port,
        )?),
        false => None,
    };
    let trained = train(
        &config,
        &data,
        &folder,
        &options,
        changes.as_ref(),
        &mut console,
    );
    if let Some(url) = viewing {
        crate::commands::view::keep_serving(&url, trained.as_ref().err().map(|e| e.to_string()));
    }
    trained.map(|_| ())
}

/// The run folder and configuration of `nabla train`: a new run's from the flags, a resumed
/// one's from its folder (with what the flags change).
fn open(
    args: &TrainArgs,
    given: &[String],
) -> CliResult<(RunFolder, TrainConfig, Option<Changes>)> {
    Ok(match &args.resume {
        Some(dir) => {
            let folder = RunFolder::open(dir)?;
            let mut config = folder.read_config()?;
            let changes = resume_changes(&args.settings, given, &config)
                .map_err(|e| format!("{}: {e}", dir.display()))?;
            if let (true, Some(epochs)) = (changes.contains_key("epochs"), args.settings.epochs) {
                config.epochs = epochs;
                config.validate()?;
            }
            (folder, config, Some(changes))
        }
        None => {
            let config = args.settings.config()?;
            config.validate()?;
            (RunFolder::new_run(args.out.as_deref())?, config, None)
        }
    })
}

/// The run's data, checked to fit in memory.
fn load_checked(args: &TrainArgs, config: &TrainConfig) -> CliResult<Splits> {
    let data = load_data(config)?;
    config
        .check_memory(&data.schema, nabla_nn::memory::available())
        .map_err(|e| match &args.resume {
            Some(dir) => format!("{}: {e}", dir.join("config.json").display()),
            None => e,
        })?;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        settings: SettingsArgs,
    }

    fn config(args: &[&str]) -> TrainConfig {
        let args = std::iter::once("train").chain(args.iter().copied());
        Cli::try_parse_from(args)
            .unwrap()
            .settings
            .config()
            .unwrap()
    }

    #[test]
    fn each_ready_made_model_has_its_default_epochs_and_batch_size() {
        let c = config(&["--model", "cnn"]);
        assert_eq!(
            (c.model, c.epochs, c.batch_size),
            (Some(ModelKind::Cnn), 5, 64)
        );
        assert_eq!(c.layers, nabla_nn::models::cnn());
        let c = config(&[
            "--model",
            "simpleconvnet",
            "--epochs",
            "2",
            "--batch-size",
            "100",
        ]);
        assert_eq!((c.epochs, c.batch_size), (2, 100));
        assert_eq!(c.layers, nabla_nn::models::simple_conv_net());
        let c = config(&[]);
        assert_eq!(
            (c.model, c.epochs, c.batch_size),
            (Some(ModelKind::Mlp), 10, 128)
        );
        let c = config(&["--layers", "flatten, linear"]);
        assert_eq!((c.model, c.epochs, c.batch_size), (None, 10, 128));
        for (flag, kind, spec) in [
            ("lstm", ModelKind::Lstm, nabla_nn::models::lstm()),
            ("gru", ModelKind::Gru, nabla_nn::models::gru()),
            ("rnn", ModelKind::Rnn, nabla_nn::models::rnn()),
        ] {
            let c = config(&["--model", flag]);
            assert_eq!((c.model, c.epochs, c.batch_size), (Some(kind), 3, 128));
            assert_eq!(c.layers, spec);
        }
    }
}
