//! The training loop: forward, fused softmax cross-entropy, backward, optional weight decay and
//! clipping, optimiser step; then evaluation on the test set, a checkpoint and a metrics line.

use super::config::TrainConfig;
use super::run_folder::{EpochMetrics, RunFolder};
use crate::CliResult;
use indicatif::{ProgressBar, ProgressStyle};
use nabla_core::{DType, Generator, Tensor, no_grad};
use nabla_nn::clip::{clip_grad_norm, clip_grad_value};
use nabla_nn::data::{DataLoader, Dataset, Mnist};
use nabla_nn::loss::try_cross_entropy;
use nabla_nn::module::{Module, Sequential};
use nabla_nn::optim::Optimizer;
use std::time::Instant;

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

fn progress_bar(quiet: bool, batches: usize, epoch: usize, epochs: usize) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    // indicatif draws nothing when stderr is not a terminal, so piped output stays clean.
    let bar = ProgressBar::new(batches as u64);
    bar.set_style(
        ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(format!("{epoch}/{epochs}"));
    bar
}

pub fn train(
    config: &TrainConfig,
    data: &Mnist,
    folder: &RunFolder,
    quiet: bool,
    resume: bool,
) -> CliResult {
    let mut rng = Generator::new(config.seed);
    let mut net = config.model().build(DType::F32, &mut rng)?;
    let params = net.named_parameters();
    let mut optimizer: Box<dyn Optimizer> = config.optimizer(params.clone())?;
    let schedule = config.schedule()?;
    let first_epoch = if resume {
        folder.restore(&net, optimizer.as_mut())?
    } else {
        0
    };
    if first_epoch >= config.epochs {
        println!(
            "{}: already trained for {first_epoch} epochs; pass --epochs to train longer",
            folder.path().display()
        );
        return Ok(());
    }
    folder.write_config(config)?;
    let loader = DataLoader::new(data.train.clone(), config.batch_size)?.shuffle(config.seed);
    if !quiet {
        println!("{}", net.describe());
        println!(
            "{} parameters, {} training and {} test images, run folder {}",
            params.iter().map(|(_, p)| p.numel()).sum::<usize>(),
            data.train.len(),
            data.test.len(),
            folder.path().display()
        );
    }
    for epoch in first_epoch..config.epochs {
        let lr = schedule.lr(epoch);
        optimizer.set_learning_rate(lr);
        net.set_training(true);
        let bar = progress_bar(quiet, loader.num_batches(), epoch + 1, config.epochs);
        let start = Instant::now();
        let (mut loss_sum, mut hits, mut seen) = (0.0, 0, 0);
        for (step, batch) in loader.epoch(epoch as u64).enumerate() {
            let logits = net.try_forward(&batch.features)?;
            let loss = try_cross_entropy(&logits, &batch.targets)?;
            let loss_value = loss.item::<f32>() as f64;
            if !loss_value.is_finite() {
                return Err(format!(
                    "the loss became {loss_value} at epoch {}, step {}: lower the learning rate (now {lr:.2e}) or clip gradients with --clip-norm",
                    epoch + 1,
                    step + 1
                )
                .into());
            }
            optimizer.zero_grad();
            loss.try_backward()?;
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
            bar.inc(1);
            if step % 20 == 0 {
                let rate = seen as f64 / start.elapsed().as_secs_f64();
                bar.set_message(format!(
                    "loss {:.4} acc {:.2}% {rate:.0} samples/s",
                    loss_sum / seen as f64,
                    100.0 * hits as f64 / seen as f64
                ));
            }
        }
        let train_seconds = start.elapsed().as_secs_f64();
        bar.finish_and_clear();
        net.set_training(false);
        let (test_loss, test_acc) = evaluate(&net, &data.test)?;
        if !test_loss.is_finite() {
            return Err(format!(
                "the test loss became {test_loss} after epoch {}: lower the learning rate (now {lr:.2e}) or clip gradients with --clip-norm",
                epoch + 1
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
        println!(
            "epoch {:>2}/{}  lr {:.2e}  train loss {:.4} acc {:.2}%  test loss {:.4} acc {:.2}%  {:.1}s ({:.0} samples/s)",
            metrics.epoch,
            config.epochs,
            lr,
            metrics.train_loss,
            100.0 * metrics.train_acc,
            metrics.test_loss,
            100.0 * metrics.test_acc,
            metrics.seconds,
            metrics.samples_per_second
        );
        folder.save_checkpoint(&net.state_dict(), &optimizer.state_dict(), epoch + 1)?;
        folder.append_metrics(&metrics)?;
    }
    let history = folder.read_metrics()?;
    if let Some(last) = history.last() {
        let total: f64 = history.iter().map(|m| m.seconds).sum();
        println!(
            "final test accuracy {:.2}% after {} epochs ({total:.1}s of training); run folder {}",
            100.0 * last.test_acc,
            last.epoch,
            folder.path().display()
        );
    }
    Ok(())
}
