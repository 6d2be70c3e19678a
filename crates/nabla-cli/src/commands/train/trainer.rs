//! The training loop: forward, fused softmax cross-entropy, backward, optional weight decay and
//! clipping, optimiser step; then evaluation on the test set, a metrics line, a checkpoint and
//! the curves. A loss that becomes NaN or infinite stops the run naming the layer where the
//! first non-finite value appears; a loss that blows up far above its first value gets a
//! warning naming the layer that exploded. Runs in-process for `nabla train` and for each run of `nabla compare`, and hands
//! back the metrics history (and the diagnostics with `--diagnose`).

use super::abort_hook::AbortHook;
use super::charts::curves_svg;
use super::config::TrainConfig;
use super::diagnose::{Diagnosis, anomaly_error};
use super::divergence::{
    BLOW_UP_FACTOR, EPOCH_BLOW_UP_FACTOR, first_exploded, first_non_finite, usual_causes,
};
use super::progress::Console;
use super::run_folder::{EpochMetrics, Progress, RunFolder};
use crate::CliResult;
use nabla_core::{DType, Generator, Tensor, detect_anomaly, no_grad};
use nabla_inspect::diagnostics::Diagnostics;
use nabla_nn::clip::{clip_grad_norm, clip_grad_value};
use nabla_nn::data::{DataLoader, Dataset, Splits};
use nabla_nn::loss::try_cross_entropy;
use nabla_nn::module::{Module, Sequential};
use nabla_nn::optim::Optimizer;
use std::time::Instant;

/// What a run watches besides training itself.
#[derive(Copy, Clone, Debug)]
pub struct RunOptions {
    pub diagnose: bool,
    pub detect_anomaly: bool,
}

/// What a finished run hands back.
pub struct Outcome {
    /// Every epoch's metrics, including those before a resume.
    pub history: Vec<EpochMetrics>,
    pub diagnostics: Option<Diagnostics>,
}

/// Samples per evaluation batch (no graph is kept, so larger is cheaper).
const EVAL_BATCH: usize = 1000;

/// Number of rows whose largest logit is the target class.
fn correct(logits: &Tensor, targets: &Tensor) -> usize {
    let predicted = logits.argmax(1, false).to_vec::<i64>();
    predicted
        .iter()
        .zip(targets.to_vec::<i64>())
        .filter(|(p, t)| **p == *t)
        .count()
}

/// Mean loss and accuracy over `data`, in evaluation mode without recording.
fn evaluate(net: &Sequential, data: &Dataset) -> CliResult<(f64, f64)> {
    let loader = DataLoader::new(data.clone(), EVAL_BATCH)?;
    let (mut loss, mut hits) = (0.0, 0);
    no_grad(|| -> CliResult {
        for batch in loader.epoch(0) {
            let logits = net.try_forward(&batch.features)?;
            loss += try_cross_entropy(&logits, &batch.targets)?.item::<f32>() as f64
                * batch.len() as f64;
            hits += correct(&logits, &batch.targets);
        }
        Ok(())
    })?;
    let n = data.len() as f64;
    Ok((loss / n, hits as f64 / n))
}

/// Writes `curves.svg` for the epochs of `history`.
fn write_curves(folder: &RunFolder, history: &[EpochMetrics]) -> CliResult {
    let title = format!("{} after {} epochs", folder.path().display(), history.len());
    folder.write("curves.svg", &curves_svg(&title, history)?)
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
    let _lock = folder.lock(resume.is_none())?;
    folder.remove_temporaries()?;
    let mut rng = Generator::new(config.seed);
    // Measured after every epoch: the test set, else the validation split.
    let held_out = data.test.as_ref().or(data.val.as_ref()).ok_or(
        "this data has no test set: give one (--test) or hold out a validation split \
         (--val-split F) to measure the model on",
    )?;
    let mut net = config.model(&data.schema).build(DType::F32, &mut rng)?;
    let params = net.named_parameters();
    let mut optimizer: Box<dyn Optimizer> = config.optimizer(params.clone())?;
    let schedule = config.schedule()?;
    let mut progress = match resume {
        Some(_) => folder.restore(&net, optimizer.as_mut(), config.seed)?,
        None => Progress::default(),
    };
    let first_epoch = progress.epoch;
    // The epochs the checkpoint holds; this loop is the only writer of the metrics file, so it
    // keeps the history in step instead of reading the file back every epoch.
    let mut history = folder.metrics_up_to(first_epoch)?;
    let mut diagnosis = options.diagnose.then(|| Diagnosis::new(&net, &data.train));
    if first_epoch >= config.epochs {
        // A kill after the last checkpoint may have left the charts of an earlier epoch.
        if first_epoch > 0 {
            write_curves(folder, &history)?;
        }
        if let Some(d) = &mut diagnosis {
            d.probe(first_epoch, &mut net, folder)?;
        }
        console.note(&format!(
            "{}: the run already has {first_epoch} epoch{}; pass --epochs with more than \
             {first_epoch} to train longer",
            folder.path().display(),
            if first_epoch == 1 { "" } else { "s" }
        ));
        return Ok(Outcome {
            history,
            diagnostics: diagnosis.map(Diagnosis::into_report),
        });
    }
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
        folder.record_resume(first_epoch, &changes)?;
    }
    let loader = DataLoader::new(data.train.clone(), config.batch_size)?.shuffle(config.seed);
    console.begin(
        &net.describe(),
        params.iter().map(|(_, p)| p.numel()).sum(),
        data.train.len(),
        held_out.len(),
        folder.path(),
    );
    if let Some(d) = &mut diagnosis {
        d.probe(first_epoch, &mut net, folder)?;
    }
    let mut warned = false;
    for epoch in first_epoch..config.epochs {
        let lr = schedule.lr(epoch);
        optimizer.set_learning_rate(lr);
        net.set_training(true);
        console.epoch_started(epoch + 1, config.epochs, loader.num_batches());
        let start = Instant::now();
        let (mut loss_sum, mut hits, mut seen) = (0.0, 0, 0);
        for (step, batch) in loader.epoch(epoch as u64).enumerate() {
            if step == loader.num_batches() / 2 {
                hook.at("mid-epoch", epoch + 1);
            }
            optimizer.zero_grad();
            let forward_backward = || -> CliResult<(Tensor, Tensor)> {
                let logits = net.try_forward(&batch.features)?;
                let loss = try_cross_entropy(&logits, &batch.targets)?;
                loss.try_backward()?;
                Ok((logits, loss))
            };
            let (logits, loss) = if options.detect_anomaly {
                detect_anomaly(forward_backward).map_err(|anomaly| {
                    anomaly_error(&anomaly, &params, folder, epoch + 1, step + 1)
                })??
            } else {
                forward_backward()?
            };
            let loss_value = loss.item::<f32>() as f64;
            let (epoch_number, step_number) = (epoch + 1, step + 1);
            if !loss_value.is_finite() {
                let origin = first_non_finite(&mut net, &batch.features)
                    .map_or_else(String::new, |o| format!(", first in {o}"));
                return Err(format!(
                    "the loss became {loss_value} at epoch {epoch_number}, step {step_number}\
                     {origin}: {}",
                    usual_causes(lr, config.weight_decay)
                )
                .into());
            }
            let first_loss = *progress.first_loss.get_or_insert(loss_value);
            if !warned && loss_value > BLOW_UP_FACTOR * first_loss {
                warned = true;
                let origin = first_exploded(&mut net, &batch.features)
                    .map_or_else(String::new, |o| format!(", first in {o}"));
                console.warning(&format!(
                    "the loss blew up to {loss_value:.3e} at epoch {epoch_number}, \
                     step {step_number}, over {BLOW_UP_FACTOR} times its first value {first_loss:.4}{origin}: {}",
                    usual_causes(lr, config.weight_decay)
                ));
            }
            if let Some(d) = &mut diagnosis {
                d.step(epoch + 1, step + 1, &net);
            }
            if config.coupled_weight_decay() {
                for (_, p) in &params {
                    if let Some(g) = p.grad() {
                        g.try_add_scaled_(p, config.weight_decay)?;
                    }
                }
            }
            if let Some(max_norm) = config.clip_norm {
                clip_grad_norm(&params, max_norm)?;
            }
            if let Some(clip) = config.clip_value {
                clip_grad_value(&params, clip)?;
            }
            optimizer.step()?;
            loss_sum += loss_value * batch.len() as f64;
            hits += correct(&logits, &batch.targets);
            seen += batch.len();
            console.step(
                step,
                loss_sum / seen as f64,
                hits as f64 / seen as f64,
                seen as f64 / start.elapsed().as_secs_f64(),
            );
        }
        let train_seconds = start.elapsed().as_secs_f64();
        net.set_training(false);
        let (test_loss, test_acc) = evaluate(&net, held_out)?;
        if !test_loss.is_finite() {
            let probe = held_out.take(EVAL_BATCH).features;
            let origin = first_non_finite(&mut net, &probe)
                .map_or_else(String::new, |o| format!(", first in {o}"));
            return Err(format!(
                "the test loss became {test_loss} after epoch {}{origin}: {}",
                epoch + 1,
                usual_causes(lr, config.weight_decay)
            )
            .into());
        }
        let metrics = EpochMetrics {
            epoch: epoch + 1,
            lr,
            train_loss: loss_sum / seen as f64,
            train_acc: hits as f64 / seen as f64,
            test_loss,
            test_acc,
            seconds: start.elapsed().as_secs_f64(),
            samples_per_second: seen as f64 / train_seconds,
        };
        console.epoch_finished(&metrics, config.epochs);
        if let Some(first_loss) = progress
            .first_loss
            .filter(|&first| !warned && metrics.train_loss > EPOCH_BLOW_UP_FACTOR * first)
        {
            warned = true;
            console.warning(&format!(
                "the mean training loss of epoch {}, {:.4}, is over {EPOCH_BLOW_UP_FACTOR} \
                 times the run's first loss {first_loss:.4} (test accuracy {:.2}%): the run \
                 diverged; {}",
                epoch + 1,
                metrics.train_loss,
                100.0 * metrics.test_acc,
                usual_causes(lr, config.weight_decay)
            ));
        }
        folder.append_metrics(&metrics)?;
        hook.at("metrics", epoch + 1);
        progress.epoch = epoch + 1;
        folder.save_checkpoint(&net, optimizer.as_ref(), &progress, config.seed, &hook)?;
        history.push(metrics);
        write_curves(folder, &history)?;
        if let Some(d) = &mut diagnosis {
            d.finish_epoch(epoch + 1, console, folder)?;
            d.probe(epoch + 1, &mut net, folder)?;
        }
        hook.at("epoch-end", epoch + 1);
    }
    if let Some(last) = history.last() {
        let total: f64 = history.iter().map(|m| m.seconds).sum();
        console.note(&format!(
            "final test accuracy {:.2}% after {} epochs ({total:.1}s of training); run folder {}",
            100.0 * last.test_acc,
            last.epoch,
            folder.path().display()
        ));
    }
    Ok(Outcome {
        history,
        diagnostics: diagnosis.map(Diagnosis::into_report),
    })
}
