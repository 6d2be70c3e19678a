//! [`fit`]: the training step, once. Each step runs forward, the task's loss, backward, then
//! clipping and the optimiser's update; a loss that becomes NaN or infinite stops the run
//! naming the first layer with a non-finite value, a loss that blows up gets a warning. Each
//! epoch sets the scheduled learning rate first and evaluates the validation set last.
//!
//! Over several ranks ([`FitOptions::communicator`]) the loop checks that every rank has the
//! same model, data and options, copies rank 0's state to the others, trains each rank on its
//! rows of every batch, sums the step's figures and averages the gradients over the ranks
//! before the update, and settles every step and epoch with one outcome for all ranks (a rank
//! that fails stops them all instead of leaving them waiting).

use super::communicator::{Communicator, SingleProcess};
use super::distributed::{Fingerprint, check_agreement, reduce_buckets, settle, shard_rows};
use super::divergence::{
    BLOW_UP_FACTOR, Divergence, EPOCH_BLOW_UP_FACTOR, Warning, first_exploded, first_non_finite,
};
use super::metrics::{DEFAULT_TOP_K, EVAL_BATCH, Metrics, Tally, evaluate_with, task_loss};
use super::observer::{Control, EpochEnd, EpochReport, Observer, StepEnd};
use crate::clip::{clip_grad_norm, clip_grad_value};
use crate::data::{Batch, DataLoader, Dataset};
use crate::module::{Module, Sequential};
use crate::optim::Optimizer;
use crate::schedule::Schedule;
use crate::task::Task;
use crate::{Error, Result};
use nabla_core::{Tensor, detect_anomaly};
use std::rc::Rc;
use std::time::Instant;

/// How [`fit`] trains: the task (which picks the loss and metrics), the epochs, and the
/// options, set with the builder methods.
///
/// ```
/// use nabla_nn::schedule::Constant;
/// use nabla_nn::task::Task;
/// use nabla_nn::train::FitOptions;
/// let options = FitOptions::new(Task::classes(10), 20)
///     .schedule(Constant::new(0.1))
///     .clip_norm(1.0)
///     .top_k(3);
/// assert_eq!(options.epochs(), 20);
/// ```
pub struct FitOptions {
    task: Task,
    epochs: usize,
    start_epoch: usize,
    first_loss: Option<f64>,
    schedule: Option<Box<dyn Schedule>>,
    clip_norm: Option<f64>,
    clip_value: Option<f64>,
    validation: Option<(String, Dataset)>,
    top_k: usize,
    detect_anomaly: bool,
    communicator: Rc<dyn Communicator>,
}

impl FitOptions {
    /// Trains for `task` up to epoch `epochs`, at the optimiser's learning rate, without
    /// clipping or validation.
    pub fn new(task: Task, epochs: usize) -> FitOptions {
        FitOptions {
            task,
            epochs,
            start_epoch: 0,
            first_loss: None,
            schedule: None,
            clip_norm: None,
            clip_value: None,
            validation: None,
            top_k: DEFAULT_TOP_K,
            detect_anomaly: false,
            communicator: Rc::new(SingleProcess),
        }
    }

    /// The learning rate of each epoch, set on the optimiser before the epoch starts.
    pub fn schedule(mut self, schedule: impl Schedule + 'static) -> FitOptions {
        self.schedule = Some(Box::new(schedule));
        self
    }

    /// Scales the gradients down to this global L2 norm before each update
    /// ([`crate::clip::clip_grad_norm`]).
    pub fn clip_norm(mut self, max_norm: f64) -> FitOptions {
        self.clip_norm = Some(max_norm);
        self
    }

    /// Clips each gradient element to `[-clip, clip]` before each update (after the norm
    /// clipping, when both are set).
    pub fn clip_value(mut self, clip: f64) -> FitOptions {
        self.clip_value = Some(clip);
        self
    }

    /// Evaluates `data` after every epoch, reported as the `validation` figures.
    pub fn validation(self, data: Dataset) -> FitOptions {
        self.validation_named("validation", data)
    }

    /// [`FitOptions::validation`] under another name in messages (a run without a validation
    /// split may follow its test set each epoch as `test`).
    pub fn validation_named(mut self, name: &str, data: Dataset) -> FitOptions {
        self.validation = Some((name.to_string(), data));
        self
    }

    /// Resumes: the first epoch to train is `epoch` (from 0, the epochs done), with the run's
    /// first loss (against which blow-ups are measured) when it has one.
    pub fn resume(mut self, epoch: usize, first_loss: Option<f64>) -> FitOptions {
        self.start_epoch = epoch;
        self.first_loss = first_loss;
        self
    }

    /// The `k` of top-k accuracy (5 by default; reported when the task has more classes).
    pub fn top_k(mut self, k: usize) -> FitOptions {
        self.top_k = k;
        self
    }

    /// Checks every step for NaN or infinity and stops at the first operation that makes one,
    /// with [`Error::Anomaly`] (slower).
    pub fn detect_anomaly(mut self, on: bool) -> FitOptions {
        self.detect_anomaly = on;
        self
    }

    /// Trains data-parallel over the ranks of `communicator` (one process, [`SingleProcess`],
    /// by default), each rank calling [`fit`] with the same model, data and options:
    ///
    /// - at the start, every rank checks that the others have the same model (layers, shapes),
    ///   training and validation data, batch order (batch size and shuffle seed) and options, and
    ///   rank 0's parameters, buffers, generators and optimiser state are copied to the others
    ///   (so a model restored from a checkpoint on rank 0 alone resumes on every rank);
    /// - each rank trains on its rows of every batch ([`crate::train::shard_rows`]): the
    ///   loader's batch size is the global batch, in the same seeded order as one process;
    /// - the step's loss and figures are summed over the ranks, and the gradients averaged
    ///   ([`crate::train::all_reduce_gradients`]) before clipping and the update, so every rank
    ///   keeps the same parameters, equal to one process's up to the rounding of the sums;
    /// - observers run on every rank and see the figures of the whole batch; a run writes its
    ///   files from rank 0 only (`communicator.rank() == 0`);
    /// - an error on any rank (its data, an observer, a NaN) stops every rank at the end of the
    ///   step or epoch: the lowest failed rank returns its error, the others
    ///   [`Error::OtherRank`].
    ///
    /// Layers that use the statistics of their batch (batch normalisation) see each rank's rows
    /// only, as in PyTorch's `DistributedDataParallel` without `SyncBatchNorm`; dropout draws
    /// the same mask stream on every rank (rank 0's generators).
    pub fn communicator(mut self, communicator: Rc<dyn Communicator>) -> FitOptions {
        self.communicator = communicator;
        self
    }

    /// The epoch the run trains to.
    pub fn epochs(&self) -> usize {
        self.epochs
    }

    /// The task.
    pub fn task(&self) -> &Task {
        &self.task
    }
}

/// Trains `model` on the batches of `loader` with `optimizer` as `options` say, calling each
/// of `observers` in order at each callback, and gives back the report of every epoch it
/// trained. The model is left in evaluation mode.
///
/// A loss that becomes NaN or infinite (a step's, or the validation loss) stops the run with
/// [`Error::Diverged`]; a loss that blows up is reported to the observers as a [`Warning`].
///
/// ```
/// use nabla_core::{DType, Generator, Tensor};
/// use nabla_nn::data::{DataLoader, Dataset};
/// use nabla_nn::layers::{Linear, ReLU};
/// use nabla_nn::module::{Module, Sequential};
/// use nabla_nn::optim::{Adam, Optim};
/// use nabla_nn::task::Task;
/// use nabla_nn::train::{EarlyStopping, FitOptions, fit};
///
/// // Two classes of points: is x above y?
/// let mut rng = Generator::new(0);
/// let x = Tensor::rand_with(&[256, 2], DType::F32, &mut rng);
/// let xs = x.to_vec::<f32>();
/// let labels: Vec<i64> = xs.chunks(2).map(|p| i64::from(p[0] > p[1])).collect();
/// let data = Dataset::new(x, Tensor::from_vec(labels, &[256])).unwrap();
///
/// let mut model = Sequential::new();
/// model.push(Box::new(Linear::new(2, 16, DType::F32, &mut rng)));
/// model.push(Box::new(ReLU));
/// model.push(Box::new(Linear::new(16, 2, DType::F32, &mut rng)));
/// let mut optimizer = Optim::new(model.named_parameters(), Adam::new(), 0.05).unwrap();
/// let loader = DataLoader::new(data.clone(), 32).unwrap().shuffle(0);
/// let options = FitOptions::new(Task::classes(2), 30).validation(data);
/// let mut stop = EarlyStopping::new("val_loss", 3).unwrap();
/// let history = fit(&mut model, &loader, &mut optimizer, &options, &mut [&mut stop]).unwrap();
/// let last = history.last().unwrap().validation.clone().unwrap();
/// assert!(last.accuracy.unwrap() > 0.9, "{last:?}");
/// ```
pub fn fit(
    model: &mut Sequential,
    loader: &DataLoader,
    optimizer: &mut dyn Optimizer,
    options: &FitOptions,
    observers: &mut [&mut dyn Observer],
) -> Result<Vec<EpochReport>> {
    let params = model.named_parameters();
    let comm = options.communicator.as_ref();
    let (rank, ranks) = (comm.rank(), comm.size());
    if ranks > 1 {
        start_ranks(comm, model, loader, optimizer, options)?;
    }
    let mut run = Run {
        first_loss: options.first_loss,
        warned: false,
    };
    let mut history = Vec::new();
    for epoch in options.start_epoch..options.epochs {
        let number = epoch + 1;
        let lr = match &options.schedule {
            Some(schedule) => {
                let lr = schedule.lr(epoch);
                optimizer.set_learning_rate(lr);
                lr
            }
            None => optimizer.learning_rate(),
        };
        model.set_training(true);
        let steps = loader.num_batches();
        // Settled with the first step (or the epoch's end): every rank leaves together.
        let mut pending = observers
            .iter_mut()
            .try_for_each(|o| o.epoch_begin(number, options.epochs, steps));
        let start = Instant::now();
        let mut tally = Tally::new(&options.task, options.top_k);
        let mut stop = false;
        for (index, batch) in loader.epoch(epoch as u64).enumerate() {
            let step = index + 1;
            let rows = shard_rows(batch.len(), rank, ranks);
            // This rank's share of the batch, which scales its mean-loss gradient.
            let weight = rows.len() as f64 / batch.len().max(1) as f64;
            let local = std::mem::replace(&mut pending, Ok(())).and_then(|()| {
                for o in observers.iter_mut() {
                    o.step_begin(number, step)?;
                }
                optimizer.zero_grad();
                if rows.is_empty() {
                    return Ok(None);
                }
                let shard = Batch {
                    features: batch.features.try_narrow(0, rows.start, rows.len())?,
                    targets: batch.targets.try_narrow(0, rows.start, rows.len())?,
                };
                let (outputs, loss) = forward_backward(model, &shard, options, number, step)?;
                Ok(Some((shard, outputs, loss)))
            });
            let loss = if ranks == 1 {
                let Some((shard, outputs, loss)) = local? else {
                    continue;
                };
                tally.add(&outputs, &shard.targets, loss)?;
                loss
            } else {
                let sums = settle(comm, step_sums(local, &params, options, weight), {
                    Tally::SUMS + 1 + params.len()
                })?;
                tally.add_sums(&sums[..Tally::SUMS]);
                let present: Vec<bool> = sums[Tally::SUMS + 1..].iter().map(|&n| n > 0.0).collect();
                reduce_buckets(comm, &params, weight, &present)?;
                sums[Tally::SUMS]
            };
            // The same loss on every rank: rank 0 reports a divergence.
            let warning = run
                .check_step(model, &batch, loss, (number, step, lr))
                .map_err(|e| match rank {
                    0 => e,
                    _ => Error::OtherRank {
                        rank: 0,
                        size: ranks,
                    },
                })?;
            let control = (|| -> Result<Control> {
                if let Some(warning) = &warning {
                    observers.iter_mut().try_for_each(|o| o.warning(warning))?;
                }
                for o in observers.iter_mut() {
                    o.after_backward(number, step, model)?;
                }
                if let Some(max_norm) = options.clip_norm {
                    clip_grad_norm(&params, max_norm)?;
                }
                if let Some(clip) = options.clip_value {
                    clip_grad_value(&params, clip)?;
                }
                optimizer.step()?;
                let end = StepEnd {
                    epoch: number,
                    step,
                    steps,
                    lr,
                    loss,
                    running: tally.metrics(),
                    samples_per_second: tally.samples() as f64 / start.elapsed().as_secs_f64(),
                };
                let mut control = Control::Continue;
                for o in observers.iter_mut() {
                    if o.step_end(&end)? == Control::Stop {
                        control = Control::Stop;
                    }
                }
                Ok(control)
            })();
            stop |= agreed_stop(comm, control)?;
            if stop {
                break;
            }
        }
        let train_seconds = start.elapsed().as_secs_f64();
        model.set_training(false);
        let mut report = None;
        let control = pending.and_then(|()| {
            let validation = match &options.validation {
                Some((name, data)) => Some(validate(model, name, data, options, lr, number)?),
                None => None,
            };
            let epoch_report = report.insert(EpochReport {
                epoch: number,
                lr,
                train: tally.metrics(),
                validation,
                seconds: start.elapsed().as_secs_f64(),
                samples_per_second: tally.samples() as f64 / train_seconds,
            });
            run.check_epoch(epoch_report, options, observers)?;
            let mut end = EpochEnd {
                report: epoch_report,
                epochs: options.epochs,
                model,
                optimizer,
                first_loss: run.first_loss,
            };
            let mut control = Control::Continue;
            for o in observers.iter_mut() {
                if o.epoch_end(&mut end)? == Control::Stop {
                    control = Control::Stop;
                }
            }
            Ok(control)
        });
        stop |= agreed_stop(comm, control)?;
        history.extend(report);
        if stop {
            break;
        }
    }
    model.set_training(false);
    Ok(history)
}

/// What every rank checks and copies before a data-parallel run: the same model, data, batch
/// order and options on every rank (an error naming what differs otherwise), then rank 0's
/// state on every rank.
fn start_ranks(
    comm: &dyn Communicator,
    model: &Sequential,
    loader: &DataLoader,
    optimizer: &mut dyn Optimizer,
    options: &FitOptions,
) -> Result<()> {
    let (prints, outcome) = match fingerprints(model, loader, options) {
        Ok(prints) => (prints, Ok(Vec::new())),
        Err(e) => (Vec::new(), Err(e)),
    };
    settle(comm, outcome, 0)?;
    let named: Vec<(&str, u64)> = [
        "the model (layers, parameter names and shapes)",
        "the training data",
        "the batch order (batch size, shuffle seed, epoch)",
        "the training options (task, epochs, schedule, clipping)",
        "the validation data",
    ]
    .into_iter()
    .zip(prints)
    .collect();
    check_agreement(comm, &named)?;
    // Loading rank 0's state can fail on one rank only: settled, so none waits in step 1.
    let copied = crate::train::broadcast_state(comm, model, Some(optimizer)).map(|()| Vec::new());
    settle(comm, copied, 0).map(drop)
}

/// Hashes of what every rank must agree on, in the order [`start_ranks`] names them.
fn fingerprints(model: &Sequential, loader: &DataLoader, options: &FitOptions) -> Result<Vec<u64>> {
    let mut layers = Fingerprint::new();
    layers.bytes(model.describe().as_bytes());
    for (name, t) in model.state_dict() {
        layers.bytes(name.as_bytes());
        layers.bytes(t.dtype().to_string().as_bytes());
        layers.bytes(format!("{:?}", t.shape()).as_bytes());
    }
    let data = |set: Option<&Dataset>| -> Result<u64> {
        let mut print = Fingerprint::new();
        if let Some(set) = set {
            print.tensor(&set.features)?;
            print.tensor(&set.targets)?;
        }
        Ok(print.finish())
    };
    let mut order = Fingerprint::new();
    order.bytes(format!("{} {}", loader.batch_size(), loader.num_batches()).as_bytes());
    for i in loader.order(options.start_epoch as u64) {
        order.bytes(&(i as u64).to_le_bytes());
    }
    let mut settings = Fingerprint::new();
    let lrs: Vec<f64> = (0..options.epochs)
        .map(|e| options.schedule.as_ref().map_or(0.0, |s| s.lr(e)))
        .collect();
    settings.bytes(
        format!(
            "{:?} {} {} {:?} {:?} {:?} {} {} {lrs:?}",
            options.task,
            options.epochs,
            options.start_epoch,
            options.first_loss.map(f64::to_bits),
            options.clip_norm,
            options.clip_value,
            options.top_k,
            options.detect_anomaly,
        )
        .as_bytes(),
    );
    Ok(vec![
        layers.finish(),
        data(Some(loader.dataset()))?,
        order.finish(),
        settings.finish(),
        data(options.validation.as_ref().map(|(_, d)| d))?,
    ])
}

/// What a rank adds to the sums of a data-parallel step: its [`Tally`] sums, its loss weighted
/// by its share of the batch (the sum is the mean loss over the whole batch), and 1 for each
/// parameter that has a gradient.
fn step_sums(
    local: Result<Option<(Batch, Tensor, f64)>>,
    params: &[(String, Tensor)],
    options: &FitOptions,
    weight: f64,
) -> Result<Vec<f64>> {
    let mut tally = Tally::new(&options.task, options.top_k);
    let mut loss = 0.0;
    if let Some((shard, outputs, own)) = local? {
        tally.add(&outputs, &shard.targets, own)?;
        loss = own * weight;
    }
    let mut sums = tally.sums();
    sums.push(loss);
    sums.extend(
        params
            .iter()
            .map(|(_, p)| f64::from(u8::from(p.grad().is_some()))),
    );
    Ok(sums)
}

/// Whether the run stops after this step or epoch, the same on every rank: when any rank's
/// observers asked to; an error on any rank stops every rank ([`settle`]).
fn agreed_stop(comm: &dyn Communicator, control: Result<Control>) -> Result<bool> {
    let stop = settle(
        comm,
        control.map(|c| vec![f64::from(u8::from(c == Control::Stop))]),
        1,
    )?;
    Ok(stop[0] > 0.0)
}

/// The outputs and loss of a training step, gradients in place; under anomaly detection, the
/// first operation making a NaN or infinity stops it.
fn forward_backward(
    model: &Sequential,
    batch: &Batch,
    options: &FitOptions,
    epoch: usize,
    step: usize,
) -> Result<(Tensor, f64)> {
    let pass = || -> Result<(Tensor, f64)> {
        let outputs = model.try_forward(&batch.features)?;
        let loss = task_loss(&options.task, &outputs, &batch.targets)?;
        loss.try_backward()?;
        Ok((outputs, loss.try_to_f64_vec()?[0]))
    };
    if options.detect_anomaly {
        detect_anomaly(pass).map_err(|anomaly| Error::Anomaly {
            anomaly,
            epoch,
            step,
        })?
    } else {
        pass()
    }
}

/// The validation figures after epoch `epoch`; a non-finite loss stops the run naming the first
/// layer with a non-finite output on the set's first samples.
fn validate(
    model: &mut Sequential,
    name: &str,
    data: &Dataset,
    options: &FitOptions,
    lr: f64,
    epoch: usize,
) -> Result<Metrics> {
    let metrics = evaluate_with(model, data, &options.task, options.top_k)?;
    if metrics.loss.is_finite() {
        return Ok(metrics);
    }
    let origin = first_non_finite(model, &data.take(EVAL_BATCH).features);
    model.set_training(false);
    Err(Error::Diverged(Divergence {
        what: format!("the {name} loss"),
        value: metrics.loss,
        when: format!("after epoch {epoch}"),
        origin,
        lr,
    }))
}

/// What a run watches from step to step: its first loss and whether it has warned.
struct Run {
    first_loss: Option<f64>,
    warned: bool,
}

impl Run {
    /// Stops at a non-finite loss of step `step` of epoch `epoch` (at rate `lr`); the warning
    /// to report, once, when the loss blows up.
    fn check_step(
        &mut self,
        model: &mut Sequential,
        batch: &Batch,
        loss: f64,
        (epoch, step, lr): (usize, usize, f64),
    ) -> Result<Option<Warning>> {
        if !loss.is_finite() {
            return Err(Error::Diverged(Divergence {
                what: "the loss".to_string(),
                value: loss,
                when: format!("at epoch {epoch}, step {step}"),
                origin: first_non_finite(model, &batch.features),
                lr,
            }));
        }
        let first = *self.first_loss.get_or_insert(loss);
        if self.warned || loss <= BLOW_UP_FACTOR * first {
            return Ok(None);
        }
        self.warned = true;
        let origin = first_exploded(model, &batch.features)
            .map_or_else(String::new, |o| format!(", first in {o}"));
        Ok(Some(Warning::LossBlewUp {
            message: format!(
                "the loss blew up to {loss:.3e} at epoch {epoch}, step {step}, over \
                 {BLOW_UP_FACTOR} times its first value {first:.4}{origin}"
            ),
            lr,
        }))
    }

    /// Warns once when an epoch's mean training loss stays far above the first loss.
    fn check_epoch(
        &mut self,
        report: &EpochReport,
        options: &FitOptions,
        observers: &mut [&mut dyn Observer],
    ) -> Result<()> {
        let Some(first) = self.first_loss else {
            return Ok(());
        };
        if self.warned || report.train.loss <= EPOCH_BLOW_UP_FACTOR * first {
            return Ok(());
        }
        self.warned = true;
        let accuracy = match (&options.validation, &report.validation) {
            (
                Some((name, _)),
                Some(Metrics {
                    accuracy: Some(a), ..
                }),
            ) => format!(" ({name} accuracy {:.2}%)", 100.0 * a),
            _ => String::new(),
        };
        let warning = Warning::RunDiverged {
            message: format!(
                "the mean training loss of epoch {}, {:.4}, is over {EPOCH_BLOW_UP_FACTOR} \
                 times the run's first loss {first:.4}{accuracy}: the run diverged",
                report.epoch, report.train.loss
            ),
            lr: report.lr,
        };
        observers.iter_mut().try_for_each(|o| o.warning(&warning))
    }
}
