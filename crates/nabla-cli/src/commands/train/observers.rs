//! What `nabla train` watches the library loop ([`nabla_nn::train::fit`]) with: the console
//! (progress bar with ETA, epoch lines, warnings), the run folder (metrics line, checkpoint,
//! curves), the recorder of gradient norms and probes (the event log's, and `--diagnose`'s
//! charts), and the test hook's abort points; and the pictures a run ends with.

use super::abort_hook::AbortHook;
use super::charts::curves_svg;
use super::diagnose::Diagnosis;
use super::divergence::warning_message;
use super::events::{EventLog, Events};
use super::progress::Console;
use super::run_folder::{EpochMetrics, Progress, RunFolder};
use crate::CliResult;
use crate::run_events::RunEvent;
use nabla_inspect::classifier::{DecisionMap, decision_boundary_svg};
use nabla_nn::checkpoint::Metadata;
use nabla_nn::data::{Dataset, Schema};
use nabla_nn::module::{Module, Sequential};
use nabla_nn::train::{Control, EpochEnd, Observer, StepEnd, Warning};

/// A command-line result as the library loop takes an observer's.
fn observed<T>(result: CliResult<T>) -> nabla_nn::Result<T> {
    result.map_err(nabla_nn::Error::Observer)
}

/// Writes `curves.svg` for the epochs of `history`.
pub fn write_curves(folder: &RunFolder, history: &[EpochMetrics]) -> CliResult {
    let title = format!(
        "{} after {}",
        folder.path().display(),
        super::trainer::epochs(history.len())
    );
    folder.write("curves.svg", &curves_svg(&title, history)?)
}

/// Writes `decision_boundary.svg` for a classifier of 2-D inputs: the class `net` (in
/// evaluation mode) predicts over the plane of the training points, drawn on top.
pub fn write_decision_boundary(
    folder: &RunFolder,
    net: &dyn Module,
    train: &Dataset,
    schema: &Schema,
) -> CliResult {
    let map = DecisionMap::of(net, train, schema)?;
    let title = format!(
        "{}: decision regions and training points",
        folder.path().display()
    );
    folder.write(
        "decision_boundary.svg",
        &decision_boundary_svg(&map, &title)?,
    )
}

/// The console: a bar per epoch, the epoch's line, warnings with their usual causes.
pub struct ShowProgress<'a> {
    pub console: &'a Console,
    pub weight_decay: f64,
    /// Whether the set evaluated after each epoch is the test set (no validation split).
    pub evaluated_is_test: bool,
}

impl Observer for ShowProgress<'_> {
    fn epoch_begin(&mut self, epoch: usize, epochs: usize, steps: usize) -> nabla_nn::Result<()> {
        self.console.epoch_started(epoch, epochs, steps);
        Ok(())
    }

    fn warning(&mut self, warning: &Warning) -> nabla_nn::Result<()> {
        self.console
            .warning(&warning_message(warning, self.weight_decay));
        Ok(())
    }

    fn step_end(&mut self, step: &StepEnd) -> nabla_nn::Result<Control> {
        self.console.step(step);
        Ok(Control::Continue)
    }

    fn epoch_end(&mut self, end: &mut EpochEnd<'_>) -> nabla_nn::Result<Control> {
        let metrics = EpochMetrics::new(end.report, self.evaluated_is_test);
        self.console.epoch_finished(&metrics, end.epochs);
        Ok(Control::Continue)
    }
}

/// The run folder after each epoch: the metrics line (synced), the checkpoint that completes
/// the epoch, the curves. Keeps the history of every epoch, including those before a resume.
pub struct RecordRun<'a> {
    pub folder: &'a RunFolder,
    pub hook: &'a AbortHook,
    /// The event log, which gets the metrics line as an `epoch` event (rank 0).
    pub log: Option<&'a EventLog>,
    pub seed: u64,
    /// The layers and schema saved with the model.
    pub model_meta: &'a Metadata,
    pub evaluated_is_test: bool,
    pub progress: Progress,
    pub history: Vec<EpochMetrics>,
}

impl Observer for RecordRun<'_> {
    fn epoch_end(&mut self, end: &mut EpochEnd<'_>) -> nabla_nn::Result<Control> {
        let metrics = EpochMetrics::new(end.report, self.evaluated_is_test);
        observed(self.folder.append_metrics(&metrics))?;
        if let Some(log) = self.log {
            observed(log.write_synced(&RunEvent::Epoch(metrics.clone())))?;
        }
        self.hook.at("metrics", metrics.epoch);
        self.progress.epoch = metrics.epoch;
        self.progress.first_loss = end.first_loss;
        observed(self.folder.save_checkpoint(
            end.model,
            end.optimizer,
            &self.progress,
            self.seed,
            self.model_meta,
            self.hook,
        ))?;
        self.history.push(metrics);
        observed(write_curves(self.folder, &self.history))?;
        Ok(Control::Continue)
    }
}

/// Gradient norms at every step, a probe after every epoch, and what they give: the event
/// log's steps and probes, and with `--diagnose` the charts.
pub struct Diagnose<'a, 'b> {
    pub diagnosis: &'a mut Diagnosis,
    pub events: Option<&'a mut Events<'b>>,
    pub console: &'a Console,
    pub folder: &'a RunFolder,
}

impl Observer for Diagnose<'_, '_> {
    fn after_backward(
        &mut self,
        epoch: usize,
        step: usize,
        model: &Sequential,
    ) -> nabla_nn::Result<()> {
        self.diagnosis.step(epoch, step, model);
        Ok(())
    }

    fn step_end(&mut self, step: &StepEnd) -> nabla_nn::Result<Control> {
        if let Some(events) = &mut self.events {
            observed(events.step(step, self.diagnosis.last_step_norms()))?;
        }
        Ok(Control::Continue)
    }

    fn epoch_end(&mut self, end: &mut EpochEnd<'_>) -> nabla_nn::Result<Control> {
        let epoch = end.report.epoch;
        observed(
            self.diagnosis
                .finish_epoch(epoch, self.console, self.folder),
        )?;
        observed(self.diagnosis.probe(epoch, end.model, self.folder))?;
        if let Some(events) = &mut self.events {
            observed(events.probed(epoch, end.model, self.diagnosis))?;
        }
        Ok(Control::Continue)
    }
}

/// The test hook's points outside the run folder's writes: `mid-epoch` (half of the epoch's
/// steps done) and `epoch-end` (after every other observer).
pub struct AbortPoints<'a> {
    pub hook: &'a AbortHook,
    pub steps: usize,
}

impl Observer for AbortPoints<'_> {
    fn epoch_begin(&mut self, _epoch: usize, _epochs: usize, steps: usize) -> nabla_nn::Result<()> {
        self.steps = steps;
        Ok(())
    }

    fn step_begin(&mut self, epoch: usize, step: usize) -> nabla_nn::Result<()> {
        if step - 1 == self.steps / 2 {
            self.hook.at("mid-epoch", epoch);
        }
        Ok(())
    }

    fn epoch_end(&mut self, end: &mut EpochEnd<'_>) -> nabla_nn::Result<Control> {
        self.hook.at("epoch-end", end.report.epoch);
        Ok(Control::Continue)
    }
}
