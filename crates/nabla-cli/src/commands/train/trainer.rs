//! A training run in its folder, on the library loop ([`nabla_nn::train::fit`]): builds the
//! model, optimiser and schedule of the configuration, restores the checkpoint on resume, and
//! watches the loop with the console, the run folder, `--diagnose` and the test hook. With a
//! validation split, each epoch is evaluated on it and the test set once at the end (tuning on
//! test data would make its figures optimistic); without one, on the test set each epoch. A loss
//! that becomes NaN or infinite stops the run naming the layer where the first non-finite value
//! appears, with the usual causes. Runs in-process for `nabla train` and for each run of
//! `nabla compare`, and hands back the metrics history (and the diagnostics with `--diagnose`).
//! Every run writes its event log ([`super::events`]), which ends with how the run stopped:
//! finished, failed with its error, or interrupted by Ctrl-C ([`super::interrupt`]).
//!
//! Over several ranks (`mpiexec`, feature `mpi`) every rank builds the model and trains its
//! rows of each batch; rank 0 alone locks and writes the run folder, restores the checkpoint
//! (the loop copies its state to the other ranks), and prints the progress and epoch lines.

use super::abort_hook::AbortHook;
use super::config::TrainConfig;
use super::diagnose::{Diagnosis, anomaly_error};
use super::divergence::divergence_message;
use super::events::{EventLog, Events, run_start};
use super::interrupt::{Interrupts, StopOnInterrupt};
use super::observers::{
    AbortPoints, Diagnose, RecordRun, ShowProgress, write_curves, write_decision_boundary,
};
use super::progress::{Console, SetSizes};
use super::ranks::{from_leader, settle};
use super::run_folder::{EpochMetrics, Progress, RunFolder, RunLock};
use crate::CliResult;
use crate::run_events::Status;
use nabla_core::{DType, Generator};
use nabla_inspect::diagnostics::Diagnostics;
use nabla_nn::data::{DataLoader, Dataset, Splits};
use nabla_nn::module::Module;
use nabla_nn::optim::Optimizer;
use nabla_nn::saved;
use nabla_nn::train::{Communicator, FitOptions, Metrics, Observer, evaluate, fit};
use std::rc::Rc;

/// What a run watches besides training itself, and the ranks it trains on.
#[derive(Clone)]
pub struct RunOptions {
    pub diagnose: bool,
    pub detect_anomaly: bool,
    /// The processes training together (one, unless `mpiexec` started several).
    pub comm: Rc<dyn Communicator>,
}

/// What a finished run hands back.
pub struct Outcome {
    /// Every epoch's metrics, including those before a resume.
    pub history: Vec<EpochMetrics>,
    /// The test set's figures when it was evaluated once at the end (runs with a validation
    /// split).
    pub test: Option<Metrics>,
    pub diagnostics: Option<Diagnostics>,
}

/// What `--resume` changed in a run's configuration: `{"epochs": [old, new]}`.
pub type Changes = serde_json::Map<String, serde_json::Value>;

/// Trains `config` on `data` into `folder` (resuming from its checkpoint when `resume` gives
/// the settings the resume changed), reporting on `console`.
pub fn train(
    config: &TrainConfig,
    data: &Splits,
    folder: &RunFolder,
    options: &RunOptions,
    resume: Option<&Changes>,
    console: &mut Console,
) -> CliResult<Outcome> {
    let hook = AbortHook::from_env()?;
    let comm = options.comm.as_ref();
    let leader = comm.rank() == 0;
    let mut rng = Generator::new(config.seed);
    let schema = &data.schema;
    let mut net = config.layers.build(
        &schema.input_shape,
        schema.task.outputs(),
        config.init.weight_init(),
        DType::F32,
        &mut rng,
    )?;
    // What makes the saved files rebuildable: the layers and the data's schema.
    let model_meta = saved::metadata(&config.layers, schema);
    let params = net.named_parameters();
    let mut optimizer: Box<dyn Optimizer> = config.optimizer(params.clone())?;
    // Rank 0 alone reads and writes the run folder; every rank learns its progress from it.
    let opened = match leader {
        true => open_run(
            folder,
            &net,
            optimizer.as_mut(),
            config,
            &model_meta,
            resume,
        )
        .map(Some),
        false => Ok(None),
    };
    let opened = settle(comm, opened)?;
    let (epoch, first_loss) = from_leader(
        comm,
        opened
            .as_ref()
            .map(|o| (o.progress.epoch, o.progress.first_loss))
            .as_ref(),
    )?;
    let (_lock, progress, history) = match opened {
        Some(o) => (Some(o.lock), o.progress, o.history),
        None => (
            None,
            Progress {
                epoch,
                first_loss,
                threads: None,
            },
            Vec::new(),
        ),
    };
    let first_epoch = progress.epoch;
    let total_steps = data.train.len().div_ceil(config.batch_size.max(1))
        * config.epochs.saturating_sub(first_epoch);
    // Rank 0 probes every run for its event log; `--diagnose` adds the files.
    let mut diagnosis = leader.then(|| {
        Diagnosis::new(
            &net,
            &schema.task,
            (&data.train, data.test.as_ref()),
            total_steps,
            options.diagnose,
        )
    });
    if first_epoch >= config.epochs {
        if !leader {
            return Ok(Outcome {
                history,
                test: None,
                diagnostics: None,
            });
        }
        // A kill after the last checkpoint may have left the charts of an earlier epoch.
        if first_epoch > 0 {
            write_curves(folder, &history)?;
        }
        if let Some(d) = diagnosis.as_mut().filter(|d| d.writes_files()) {
            d.probe(first_epoch, &mut net, folder)?;
        }
        console.note(&format!(
            "{}: the run already has {}; pass --epochs with more than \
             {first_epoch} to train longer",
            folder.path().display(),
            epochs(first_epoch)
        ));
        return Ok(Outcome {
            history,
            test: None,
            diagnostics: diagnosis
                .filter(Diagnosis::writes_files)
                .map(Diagnosis::into_report),
        });
    }
    // A resumed run's log is read (and a line that is not an event refused) before anything of
    // the run changes; a new run's is created once its configuration is written, since a folder
    // holding a log but no config.json is refused.
    let started = match (leader, &diagnosis) {
        (true, Some(d)) => run_start(folder, config, data, &d.report().layers)
            .and_then(|start| {
                let resumed = match resume {
                    Some(_) => Some(EventLog::resume(
                        folder,
                        start.clone(),
                        &history,
                        config.epochs,
                    )?),
                    None => None,
                };
                start_run(folder, config, &progress, resume, console, comm.size())?;
                match resumed {
                    Some(log) => Ok(log),
                    None => EventLog::create(folder, start),
                }
            })
            .map(Some),
        _ => Ok(None),
    };
    let log = settle(comm, started)?;
    // Ctrl-C on one process ends the run between steps, so that its log says so.
    let interrupts = (log.is_some() && comm.size() == 1).then(Interrupts::catch);
    let mut events = log
        .as_ref()
        .map(|log| Events::new(log, &data.train, &data.schema));
    let trained = (|| -> CliResult<(Outcome, String)> {
        let loader = DataLoader::new(data.train.clone(), config.batch_size)?.shuffle(config.seed);
        if leader {
            console.begin(
                &net.describe(),
                params.iter().map(|(_, p)| p.numel()).sum(),
                &SetSizes {
                    train: data.train.len(),
                    val: data.val.as_ref().map(Dataset::len),
                    test: data.test.as_ref().map(Dataset::len),
                },
                folder.path(),
            );
            if data.test.is_none() {
                console.note("no test set: the run reports no test figures");
            }
            if let Some(tip) = few_steps(data.train.len(), config.batch_size, config.epochs) {
                console.tip(&tip);
            }
        }
        let probed = match (&mut diagnosis, &mut events) {
            (Some(d), Some(events)) => d
                .probe(first_epoch, &mut net, folder)
                .and_then(|()| events.probed(first_epoch, &mut net, d)),
            _ => Ok(()),
        };
        settle(comm, probed)?;
        let mut fit_options = FitOptions::new(data.schema.task.clone(), config.epochs)
            .schedule(config.schedule()?)
            .resume(first_epoch, progress.first_loss)
            .detect_anomaly(options.detect_anomaly)
            .communicator(options.comm.clone());
        if let Some(max_norm) = config.clip_norm {
            fit_options = fit_options.clip_norm(max_norm);
        }
        if let Some(clip) = config.clip_value {
            fit_options = fit_options.clip_value(clip);
        }
        // Without a validation split the test set is followed every epoch, as the run always
        // did.
        let evaluated_is_test = data.val.is_none();
        fit_options = match (&data.val, &data.test) {
            (Some(val), _) => fit_options.validation(val.clone()),
            (None, Some(test)) => fit_options.validation_named("test", test.clone()),
            (None, None) => fit_options,
        };
        let mut show = ShowProgress {
            console,
            weight_decay: config.weight_decay,
            evaluated_is_test,
        };
        let mut record = RecordRun {
            folder,
            hook: &hook,
            log: log.as_ref(),
            seed: config.seed,
            model_meta: &model_meta,
            evaluated_is_test,
            progress,
            history,
        };
        let mut points = AbortPoints {
            hook: &hook,
            steps: 0,
        };
        let mut stop = interrupts.as_ref().map(StopOnInterrupt);
        let result = {
            let mut diagnose = diagnosis.as_mut().map(|diagnosis| Diagnose {
                diagnosis,
                events: events.as_mut(),
                console,
                folder,
            });
            let mut observers: Vec<&mut dyn Observer> = Vec::new();
            if leader {
                observers.push(&mut show);
                observers.push(&mut record);
            }
            if let Some(d) = &mut diagnose {
                observers.push(d);
            }
            observers.push(&mut points);
            if let Some(stop) = &mut stop {
                observers.push(stop);
            }
            fit(
                &mut net,
                &loader,
                optimizer.as_mut(),
                &fit_options,
                &mut observers,
            )
        };
        if let Err(e) = result {
            return Err(match e {
                nabla_nn::Error::Diverged(d) => divergence_message(&d, config.weight_decay).into(),
                nabla_nn::Error::Anomaly {
                    anomaly,
                    epoch,
                    step,
                } => anomaly_error(&anomaly, &params, folder, epoch, step),
                nabla_nn::Error::Observer(e) => e,
                e => e.into(),
            });
        }
        let history = record.history;
        if !leader {
            let outcome = Outcome {
                history,
                test: None,
                diagnostics: None,
            };
            return Ok((outcome, String::new()));
        }
        let test = match (&data.val, &data.test) {
            (Some(_), Some(test)) => Some(evaluate(&net, test, &data.schema.task)?),
            _ => None,
        };
        if data.schema.input_shape == [2] && data.schema.task.is_classification() {
            write_decision_boundary(folder, &net, &data.train, &data.schema)?;
        }
        let mut last_line = format!("finished after {}", epochs(history.len()));
        if let Some(last) = history.last() {
            let total: f64 = history.iter().map(|m| m.seconds).sum();
            let (set, figure) = match (&test, last.test_loss, last.val_loss) {
                (Some(m), _, _) => ("test", headline(m.loss, m.accuracy, m.mae)),
                (None, Some(loss), _) => ("test", headline(loss, last.test_acc, last.test_mae)),
                (None, None, Some(loss)) => {
                    ("validation", headline(loss, last.val_acc, last.val_mae))
                }
                (None, None, None) => (
                    "training",
                    headline(last.train_loss, last.train_acc, last.train_mae),
                ),
            };
            last_line = format!(
                "final {set} {figure} after {} ({total:.1}s of training); run folder {}",
                epochs(last.epoch),
                folder.path().display()
            );
            console.note(&last_line);
        }
        if let Some(line) = diagnosis.as_ref().and_then(|d| d.summary(folder)) {
            console.note(&line);
        }
        let outcome = Outcome {
            history,
            test,
            diagnostics: diagnosis
                .filter(Diagnosis::writes_files)
                .map(Diagnosis::into_report),
        };
        Ok((outcome, last_line))
    })();
    let Some(log) = &log else {
        return trained.map(|(outcome, _)| outcome);
    };
    let interrupted = interrupts.as_ref().is_some_and(Interrupts::requested);
    let ended = match &trained {
        Ok((_, line)) => log.end(Status::Finished, line),
        Err(e) if interrupted => log.end(Status::Interrupted, &e.to_string()),
        Err(e) => log.end(Status::Failed, &e.to_string()),
    };
    if let (true, Some(interrupts)) = (interrupted, interrupts) {
        interrupts.end_process();
    }
    // The run's own error comes first; a log that cannot take its end adds nothing to it.
    let (outcome, _) = trained?;
    ended?;
    Ok(outcome)
}

/// What rank 0 finds in the run folder before training: its lock, the checkpoint's progress
/// (restored into the model and optimiser) and the metrics of the epochs it holds.
struct Opened {
    lock: RunLock,
    progress: Progress,
    history: Vec<EpochMetrics>,
}

/// Locks `folder`, clears what a killed write left, and on resume restores its checkpoint into
/// `net` and `optimizer`.
fn open_run(
    folder: &RunFolder,
    net: &dyn Module,
    optimizer: &mut dyn Optimizer,
    config: &TrainConfig,
    model_meta: &nabla_nn::checkpoint::Metadata,
    resume: Option<&Changes>,
) -> CliResult<Opened> {
    let lock = folder.lock(resume.is_none())?;
    folder.remove_temporaries()?;
    let progress = match resume {
        Some(_) => folder.restore(net, optimizer, config.seed, model_meta)?,
        None => Progress::default(),
    };
    // The epochs the checkpoint holds; the loop's run-folder observer is the only writer of the
    // metrics file, so it keeps the history in step instead of reading the file back.
    let history = folder.metrics_up_to(progress.epoch)?;
    Ok(Opened {
        lock,
        progress,
        history,
    })
}

/// Writes the configuration and, on resume, what the resume changed (warning when the thread
/// count differs from the checkpoint's, or the rank count from one process's).
fn start_run(
    folder: &RunFolder,
    config: &TrainConfig,
    progress: &Progress,
    resume: Option<&Changes>,
    console: &Console,
    ranks: usize,
) -> CliResult {
    folder.write_config(config)?;
    if let Some(changes) = resume {
        let mut changes = changes.clone();
        let threads = nabla_core::num_threads();
        if let Some(saved) = progress.threads.filter(|&t| t != threads) {
            console.warning(&format!(
                "the checkpoint was written with --threads {saved} and this run uses \
                 --threads {threads}: sums are split differently, so the results will not be \
                 bit-identical to an uninterrupted run"
            ));
            changes.insert("threads".to_string(), serde_json::json!([saved, threads]));
        }
        if ranks > 1 {
            changes.insert("ranks".to_string(), serde_json::json!(ranks));
        }
        folder.record_resume(progress.epoch, &changes)?;
    }
    Ok(())
}

/// A set's leading figure: `accuracy 98.12%`, `mean absolute error 0.3100`, or the loss.
fn headline(loss: f64, accuracy: Option<f64>, mae: Option<f64>) -> String {
    match (accuracy, mae) {
        (Some(acc), _) => format!("accuracy {:.2}%", 100.0 * acc),
        (None, Some(mae)) => format!("mean absolute error {mae:.4}"),
        (None, None) => format!("loss {loss:.4}"),
    }
}

/// A tip for a run of few optimiser steps (under 10 an epoch and 500 in all, as small tables and
/// toy sets get with the MNIST-sized defaults), which ends before the model has learned much.
fn few_steps(samples: usize, batch_size: usize, epochs: usize) -> Option<String> {
    let per_epoch = samples.div_ceil(batch_size.max(1));
    (per_epoch < 10 && per_epoch * epochs < 500).then(|| {
        format!(
            "few steps: {per_epoch} per epoch ({samples} training samples in batches of \
             {batch_size}), {} in all; a smaller --batch-size or more --epochs trains further",
            per_epoch * epochs
        )
    })
}

/// `1 epoch`, `2 epochs`: a count of epochs as a sentence says it.
pub(super) fn epochs(n: usize) -> String {
    format!("{n} epoch{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::train::config::{OptimizerKind, test_config};
    use nabla_core::Tensor;
    use nabla_nn::data::{Preprocess, Schema};
    use nabla_nn::task::Task;

    fn config() -> TrainConfig {
        TrainConfig {
            lr: 0.01,
            batch_size: 16,
            epochs: 2,
            ..test_config(&[8], OptimizerKind::Adam)
        }
    }

    /// `n` 28x28 images, image `i` of class `i % 10` lit at pixel `i % 10`.
    fn images(n: usize) -> Dataset {
        let mut pixels = vec![0.0f32; n * 784];
        for i in 0..n {
            pixels[i * 784 + i % 10] = 3.0;
        }
        let labels = (0..n).map(|i| (i % 10) as i64).collect();
        Dataset::new(
            Tensor::from_vec(pixels, &[n, 1, 28, 28]),
            Tensor::from_vec(labels, &[n]),
        )
        .unwrap()
    }

    fn run(name: &str, val: Option<Dataset>, test: Option<Dataset>) -> (Outcome, String) {
        let dir = std::env::temp_dir().join(format!("nabla-trainer-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let folder = RunFolder::new_run(Some(&dir)).unwrap();
        let data = Splits {
            train: images(64),
            val,
            test,
            schema: Schema {
                input_shape: vec![1, 28, 28],
                task: Task::classes(10),
                preprocess: Preprocess::Image {
                    mean: vec![0.0],
                    std: vec![1.0],
                    resize: None,
                },
            },
        };
        let options = RunOptions {
            diagnose: false,
            detect_anomaly: false,
            comm: Rc::new(nabla_nn::train::SingleProcess),
        };
        let mut console = Console::new(true, None);
        let outcome = train(&config(), &data, &folder, &options, None, &mut console).unwrap();
        let metrics = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        (outcome, metrics)
    }

    #[test]
    fn a_validation_split_is_followed_each_epoch_and_the_test_set_evaluated_once() {
        let (outcome, metrics) = run("val", Some(images(20)), Some(images(30)));
        assert_eq!(outcome.history.len(), 2);
        for m in &outcome.history {
            assert!(m.val_loss.is_some() && m.val_acc.is_some(), "{m:?}");
            assert_eq!((m.test_loss, m.test_acc), (None, None));
        }
        assert_eq!(outcome.test.as_ref().map(|t| t.samples), Some(30));
        let first: serde_json::Value =
            serde_json::from_str(metrics.lines().next().unwrap()).unwrap();
        assert!(
            first["val_acc"].is_f64() && first.get("test_acc").is_none(),
            "{first}"
        );
    }

    #[test]
    fn without_a_split_the_test_set_is_followed_each_epoch_and_without_either_nothing_is() {
        let (outcome, _) = run("test", None, Some(images(30)));
        assert!(
            outcome
                .history
                .iter()
                .all(|m| m.test_acc.is_some() && m.val_loss.is_none())
        );
        assert!(outcome.test.is_none());
        let (outcome, metrics) = run("none", None, None);
        assert!(
            outcome
                .history
                .iter()
                .all(|m| m.test_loss.is_none() && m.val_loss.is_none())
        );
        assert!(
            !metrics.contains("test_") && !metrics.contains("val_"),
            "{metrics}"
        );
    }
}
