//! `--diagnose` and `--detect-anomaly` in the run folder: a [`Recorder`] probed on the first
//! training images before training and after every epoch, its report as `diagnostics.json` with
//! `activations_epoch_N.svg` and `gradient_norms.svg`, warnings when gradients vanish or explode,
//! and `anomaly.svg` with the graph around the operation that first made a NaN or infinity.

use super::progress::Console;
use super::run_folder::RunFolder;
use crate::CliResult;
use nabla_core::{Anomaly, Tensor};
use nabla_inspect::diagnostics::{
    Diagnostics, Recorder, activation_histograms_svg, anomaly_graph, gradient_norms_svg,
};
use nabla_nn::data::Dataset;
use nabla_nn::loss::try_cross_entropy;
use nabla_nn::module::{Module, Sequential};

/// Training images in the probe batch (the textbook's histograms use 1000 samples).
const PROBE_SAMPLES: usize = 1000;
/// Levels of inputs drawn above the anomaly's operation.
const ANOMALY_DEPTH: usize = 4;

pub struct Diagnosis {
    recorder: Recorder,
    probe: Dataset,
}

impl Diagnosis {
    pub fn new(net: &Sequential, train: &Dataset) -> Diagnosis {
        Diagnosis {
            recorder: Recorder::new(net),
            probe: train.take(PROBE_SAMPLES),
        }
    }

    /// Probes the network after `epoch` (0: before training) in evaluation mode, and writes the
    /// report and that epoch's histograms.
    pub fn probe(&mut self, epoch: usize, net: &mut Sequential, folder: &RunFolder) -> CliResult {
        net.set_training(false);
        let targets = self.probe.targets.clone();
        self.recorder
            .snapshot(epoch, net, &self.probe.features, |logits| {
                try_cross_entropy(logits, &targets)
            })?;
        let report = self.recorder.report();
        let snapshot = report.epochs.last().expect("the snapshot just recorded");
        let title = format!(
            "outputs of each activation layer after epoch {epoch} ({} training images)",
            self.probe.len()
        );
        let svg = activation_histograms_svg(&report.layers, snapshot, &title)?;
        folder.write(&format!("activations_epoch_{epoch}.svg"), &svg)?;
        self.write(folder)
    }

    /// Records a training step's gradient norms (after backward).
    pub fn step(&mut self, epoch: usize, step: usize, net: &Sequential) {
        self.recorder.record_step(epoch, step, net);
    }

    /// Prints the epoch's gradient warnings and writes the gradient-norm chart.
    pub fn finish_epoch(
        &mut self,
        epoch: usize,
        console: &Console,
        folder: &RunFolder,
    ) -> CliResult {
        for alarm in self.recorder.finish_epoch(epoch) {
            console.warning(&alarm.to_string());
        }
        let svg = gradient_norms_svg(self.recorder.report(), "gradient norms per layer")?;
        folder.write("gradient_norms.svg", &svg)
    }

    fn write(&self, folder: &RunFolder) -> CliResult {
        folder.write(
            "diagnostics.json",
            &(serde_json::to_string(self.recorder.report())? + "\n"),
        )
    }

    /// The diagnostics recorded over the run.
    pub fn into_report(self) -> Diagnostics {
        self.recorder.into_report()
    }
}

/// The error of a step stopped by `--detect-anomaly`: the anomaly, where in training it
/// happened, and `anomaly.svg` (written when the anomaly has a node to draw).
pub fn anomaly_error(
    anomaly: &Anomaly,
    params: &[(String, Tensor)],
    folder: &RunFolder,
    epoch: usize,
    step: usize,
) -> Box<dyn std::error::Error + Send + Sync> {
    let picture = anomaly_graph(anomaly, params, ANOMALY_DEPTH).map(|graph| {
        folder
            .write("anomaly.svg", &graph.to_svg())
            .map(|()| folder.path().join("anomaly.svg"))
    });
    let place = format!("at epoch {epoch}, step {step}");
    match picture {
        Some(Ok(path)) => format!(
            "{anomaly} {place}; the graph around it is in {}",
            path.display()
        )
        .into(),
        Some(Err(e)) => format!("{anomaly} {place} (and drawing its graph failed: {e})").into(),
        None => format!("{anomaly} {place}").into(),
    }
}
