//! What `nabla compare` records and prints: `compare.json` (each run's configuration,
//! per-epoch metrics and, with `--diagnose`, per-layer activation statistics) and the final
//! table of results.

use super::vary::Setting;
use crate::CliResult;
use crate::commands::train::config::TrainConfig;
use crate::commands::train::{EpochMetrics, Outcome};
use nabla_inspect::diagnostics::{Diagnostics, LayerKind};
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
        let (metrics, diagnostics, error) = match outcome {
            Ok(o) => (o.history, o.diagnostics, None),
            Err(e) => {
                let completed = std::fs::read_to_string(folder.join("metrics.jsonl"))
                    .map(|text| {
                        text.lines()
                            .filter_map(|l| serde_json::from_str(l).ok())
                            .collect()
                    })
                    .unwrap_or_default();
                (completed, None, Some(e.to_string()))
            }
        };
        RunReport {
            value: value.to_string(),
            folder: folder.to_path_buf(),
            config: config.clone(),
            metrics,
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

/// The results table: the last epoch of each run.
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
    let mut header =
        format!("{setting:<width$}  epochs  train loss  train acc  test loss  test acc    time");
    if let Some(name) = units {
        header.push_str(&format!("  {name} (start -> end)"));
    }
    println!("{header}");
    for run in &report.runs {
        let mut line = match run.metrics.last() {
            Some(m) => format!(
                "{:<width$}  {:>6}  {:>10.4}  {:>8.2}%  {:>9.4}  {:>7.2}%  {:>5.1}s",
                run.value,
                m.epoch,
                m.train_loss,
                100.0 * m.train_acc,
                m.test_loss,
                100.0 * m.test_acc,
                run.metrics.iter().map(|m| m.seconds).sum::<f64>()
            ),
            None => format!("{:<width$}  {:>6}", run.value, 0),
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
