//! What `nabla compare` records and prints: `compare.json` (each run's configuration,
//! per-epoch metrics and, with `--diagnose`, per-layer activation statistics) and the final
//! table of results.

use super::vary::Setting;
use crate::CliResult;
use crate::commands::train::config::TrainConfig;
use crate::commands::train::{EpochMetrics, Outcome};
use nabla_inspect::diagnostics::{Diagnostics, LayerKind};
use nabla_nn::train::Metrics;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Serialize)]
pub struct CompareReport {
    pub vary: Setting,
    pub values: Vec<String>,
    pub runs: Vec<RunReport>,
}

impl CompareReport {
    pub fn new(vary: Setting, values: &[String]) -> CompareReport {
        CompareReport {
            vary,
            values: values.to_vec(),
            runs: Vec::new(),
        }
    }
}

/// One layer's outputs at one probe, without the histogram (that is in the run's
/// `diagnostics.json`).
#[derive(Serialize)]
pub struct LayerActivation {
    pub layer: usize,
    pub name: String,
    pub kind: LayerKind,
    pub mean: f64,
    pub std: f64,
    pub saturated: Option<f64>,
    pub dead: Option<f64>,
}

#[derive(Serialize)]
pub struct EpochActivations {
    pub epoch: usize,
    pub layers: Vec<LayerActivation>,
}

#[derive(Serialize)]
pub struct RunReport {
    pub value: String,
    pub folder: PathBuf,
    pub config: TrainConfig,
    pub metrics: Vec<EpochMetrics>,
    /// The test set's figures evaluated once at the end, for runs with a validation split.
    pub test: Option<Metrics>,
    /// Why the run stopped early, if it did.
    pub error: Option<String>,
    /// With `--diagnose`: every activation layer at every probe (epoch 0 is before training).
    pub activations: Option<Vec<EpochActivations>>,
}

/// The activation layers of each probe of `d`.
fn activations(d: &Diagnostics) -> Vec<EpochActivations> {
    d.epochs
        .iter()
        .map(|e| EpochActivations {
            epoch: e.epoch,
            layers: e
                .layers
                .iter()
                .filter(|l| d.layers[l.layer].kind.is_activation())
                .map(|l| LayerActivation {
                    layer: l.layer,
                    name: d.layers[l.layer].name.clone(),
                    kind: d.layers[l.layer].kind,
                    mean: l.activation.mean,
                    std: l.activation.std,
                    saturated: l.saturated,
                    dead: l.dead,
                })
                .collect(),
        })
        .collect()
}

impl RunReport {
    /// The record of a run; a failed run keeps the epochs it completed.
    pub fn new(
        value: &str,
        folder: &Path,
        config: &TrainConfig,
        outcome: CliResult<Outcome>,
    ) -> RunReport {
        let (metrics, test, diagnostics, error) = match outcome {
            Ok(o) => (o.history, o.test, o.diagnostics, None),
            Err(e) => {
                let completed = std::fs::read_to_string(folder.join("metrics.jsonl"))
                    .map(|text| {
                        text.lines()
                            .filter_map(|l| serde_json::from_str(l).ok())
                            .collect()
                    })
                    .unwrap_or_default();
                (completed, None, None, Some(e.to_string()))
            }
        };
        RunReport {
            value: value.to_string(),
            folder: folder.to_path_buf(),
            config: config.clone(),
            metrics,
            test,
            error,
            activations: diagnostics.as_ref().map(activations),
        }
    }

    /// The mean saturated (sigmoid, tanh) or dead (ReLU) fraction over the activation layers at
    /// the first and last probe, named.
    fn unit_summary(&self) -> Option<(&'static str, f64, f64)> {
        let epochs = self.activations.as_ref()?;
        let mean = |e: &EpochActivations| -> Option<(&'static str, f64)> {
            let (name, values): (&str, Vec<f64>) = match e.layers.first()?.kind {
                LayerKind::Relu => ("dead", e.layers.iter().filter_map(|l| l.dead).collect()),
                _ => (
                    "saturated",
                    e.layers.iter().filter_map(|l| l.saturated).collect(),
                ),
            };
            (!values.is_empty()).then(|| (name, values.iter().sum::<f64>() / values.len() as f64))
        };
        let (name, first) = mean(epochs.first()?)?;
        let (_, last) = mean(epochs.last()?)?;
        Some((name, first, last))
    }
}

/// The figures of a run's last epoch the table shows and ranks by: the validation split's
/// when the run has one, else the test set's; `(loss, accuracy or mean absolute error)`.
fn ranked_figures(m: &EpochMetrics, by_validation: bool) -> Option<(f64, Option<f64>)> {
    if by_validation {
        Some((m.val_loss?, m.val_acc.or(m.val_mae)))
    } else {
        Some((m.test_loss?, m.test_acc.or(m.test_mae)))
    }
}

/// The order of `runs` from best to worst by their last epoch: highest accuracy (then lowest
/// loss) for classification, lowest loss for regression; runs without figures last.
fn ranking(runs: &[RunReport], by_validation: bool) -> Vec<usize> {
    let key = |run: &RunReport| -> (f64, f64) {
        let last = run.metrics.last();
        match last.and_then(|m| ranked_figures(m, by_validation).map(|f| (m, f))) {
            Some((m, (loss, _))) if m.train_acc.is_some() => {
                let acc = if by_validation { m.val_acc } else { m.test_acc };
                (-acc.unwrap_or(f64::NEG_INFINITY), loss)
            }
            Some((_, (loss, _))) => (loss, 0.0),
            None => (f64::INFINITY, f64::INFINITY),
        }
    };
    let mut order: Vec<usize> = (0..runs.len()).collect();
    order.sort_by(|&a, &b| {
        key(&runs[a])
            .partial_cmp(&key(&runs[b]))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    order
}

/// The results table: the last epoch of each run, best first, ranked by the validation figures
/// when the runs have a validation split and by the test figures otherwise (said above the
/// table).
pub fn print_table(report: &CompareReport) {
    let setting = report.vary.name();
    let width = report
        .runs
        .iter()
        .map(|r| r.value.len())
        .chain([setting.len()])
        .max()
        .unwrap_or(0);
    let units = report
        .runs
        .iter()
        .find_map(RunReport::unit_summary)
        .map(|u| u.0);
    let last_epochs = report.runs.iter().filter_map(|r| r.metrics.last());
    let by_validation = last_epochs.clone().any(|m| m.val_loss.is_some());
    let classification = last_epochs.clone().any(|m| m.train_acc.is_some());
    let (set, figure) = match (by_validation, classification) {
        (true, true) => ("val", "acc"),
        (true, false) => ("val", "mae"),
        (false, true) => ("test", "acc"),
        (false, false) => ("test", "mae"),
    };
    println!(
        "{}",
        match (by_validation, classification) {
            (true, true) => "ranked by validation accuracy",
            (true, false) => "ranked by validation loss",
            (false, true) => "ranked by test accuracy (the runs have no validation split)",
            (false, false) => "ranked by test loss (the runs have no validation split)",
        }
    );
    let mut header = format!(
        "rank  {setting:<width$}  epochs  train loss  train {figure}  {set:>4} loss  {set:>4} {figure}    time"
    );
    if let Some(name) = units {
        header.push_str(&format!("  {name} (start -> end)"));
    }
    println!("{header}");
    let cell = |v: Option<f64>| match v {
        Some(v) if classification => format!("{:>8.2}%", 100.0 * v),
        Some(v) => format!("{v:>9.4}"),
        None => format!("{:>9}", "-"),
    };
    for (rank, &i) in ranking(&report.runs, by_validation).iter().enumerate() {
        let run = &report.runs[i];
        let mut line = match run.metrics.last() {
            Some(m) => {
                let (loss, value) = ranked_figures(m, by_validation).unwrap_or((f64::NAN, None));
                format!(
                    "{:>4}  {:<width$}  {:>6}  {:>10.4}  {}  {:>9.4}  {}  {:>5.1}s",
                    rank + 1,
                    run.value,
                    m.epoch,
                    m.train_loss,
                    cell(m.train_acc.or(m.train_mae)),
                    loss,
                    cell(value),
                    run.metrics.iter().map(|m| m.seconds).sum::<f64>()
                )
            }
            None => format!("{:>4}  {:<width$}  {:>6}", rank + 1, run.value, 0),
        };
        if let Some((_, first, last)) = run.unit_summary() {
            line.push_str(&format!("  {:.1}% -> {:.1}%", 100.0 * first, 100.0 * last));
        }
        if let Some(e) = &run.error {
            line.push_str(&format!("  failed: {e}"));
        }
        println!("{line}");
    }
}
