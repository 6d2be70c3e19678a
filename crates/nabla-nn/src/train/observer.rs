//! [`Observer`]: what watches a run of [`crate::train::fit`] (progress, diagnostics,
//! checkpoints, early stopping), called at the start and end of each step and epoch, able to
//! stop the run; and [`EarlyStopping`], Keras' callback of that name.

use super::Warning;
use super::metrics::Metrics;
use crate::module::Sequential;
use crate::optim::Optimizer;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Whether the run goes on after a callback.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Control {
    Continue,
    /// From [`Observer::step_end`]: end this epoch after the step (it is still evaluated and
    /// reported) and stop; from [`Observer::epoch_end`]: stop after this epoch.
    Stop,
}

/// What one epoch measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// The epoch, from 1.
    pub epoch: usize,
    /// Its learning rate.
    pub lr: f64,
    /// The training figures, averaged over the epoch's steps as they ran.
    pub train: Metrics,
    /// The figures on the validation set after the epoch, when the run has one.
    pub validation: Option<Metrics>,
    /// Wall time of the epoch, evaluation included.
    pub seconds: f64,
    /// Training samples per second over the epoch's steps.
    pub samples_per_second: f64,
}

/// A finished training step.
#[derive(Clone, Debug)]
pub struct StepEnd {
    /// The epoch and the step within it, from 1; `steps` in the epoch.
    pub epoch: usize,
    pub step: usize,
    pub steps: usize,
    pub lr: f64,
    /// This step's loss.
    pub loss: f64,
    /// The epoch's training figures so far.
    pub running: Metrics,
    /// Training samples per second so far in the epoch.
    pub samples_per_second: f64,
}

/// A finished epoch, with the model and optimiser as it leaves them (checkpoints save these).
pub struct EpochEnd<'a> {
    pub report: &'a EpochReport,
    /// The epochs the run trains to.
    pub epochs: usize,
    /// In evaluation mode; the next epoch puts it back in training mode.
    pub model: &'a mut Sequential,
    pub optimizer: &'a dyn Optimizer,
    /// The run's first loss, against which blow-ups are measured (a resumed run carries it on).
    pub first_loss: Option<f64>,
}

/// Callbacks of a training run, in the order the run meets them; each defaults to doing
/// nothing. An error from any callback stops the run with that error.
pub trait Observer {
    /// Epoch `epoch` (from 1) of `epochs` starts, with `steps` steps.
    fn epoch_begin(&mut self, _epoch: usize, _epochs: usize, _steps: usize) -> Result<()> {
        Ok(())
    }

    /// Step `step` (from 1) of epoch `epoch` is about to start.
    fn step_begin(&mut self, _epoch: usize, _step: usize) -> Result<()> {
        Ok(())
    }

    /// The step's gradients are in place (before clipping and the optimiser's update).
    fn after_backward(&mut self, _epoch: usize, _step: usize, _model: &Sequential) -> Result<()> {
        Ok(())
    }

    /// The run is going wrong (each kind of warning comes once per run).
    fn warning(&mut self, _warning: &Warning) -> Result<()> {
        Ok(())
    }

    /// The optimiser has updated the parameters.
    fn step_end(&mut self, _step: &StepEnd) -> Result<Control> {
        Ok(Control::Continue)
    }

    /// The epoch is trained and evaluated.
    fn epoch_end(&mut self, _end: &mut EpochEnd<'_>) -> Result<Control> {
        Ok(Control::Continue)
    }
}

/// Stops a run when a monitored figure has stopped improving, as Keras' `EarlyStopping`:
/// after `patience` epochs in a row without an improvement of more than `min_delta` on the
/// best value so far. Figures are named as in Keras: `loss`, `accuracy`, `top_k`, `mse`,
/// `mae` for training, with `val_` in front for the validation set (`val_loss`, the default).
/// Accuracies improve upwards, losses and errors downwards.
///
/// ```
/// use nabla_nn::train::EarlyStopping;
/// let stop = EarlyStopping::new("val_accuracy", 3).unwrap().min_delta(0.001);
/// assert_eq!(stop.best(), None);
/// assert!(EarlyStopping::new("val_precision", 3).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct EarlyStopping {
    monitor: String,
    validation: bool,
    figure: fn(&Metrics) -> Option<f64>,
    higher_is_better: bool,
    patience: usize,
    min_delta: f64,
    best: Option<f64>,
    waited: usize,
    stopped_after: Option<usize>,
}

impl EarlyStopping {
    /// Monitors the figure named `monitor` with the given `patience` (epochs in a row
    /// without improvement that stop the run; 0 and 1 both stop at the first such epoch).
    pub fn new(monitor: &str, patience: usize) -> Result<EarlyStopping> {
        let (validation, name) = match monitor.strip_prefix("val_") {
            Some(name) => (true, name),
            None => (false, monitor),
        };
        let (figure, higher_is_better): (fn(&Metrics) -> Option<f64>, bool) = match name {
            "loss" => (|m| Some(m.loss), false),
            "accuracy" => (|m| m.accuracy, true),
            "top_k" => (|m| m.top_k.map(|(_, a)| a), true),
            "mse" => (|m| m.mse, false),
            "mae" => (|m| m.mae, false),
            _ => {
                return Err(Error::invalid(
                    "EarlyStopping",
                    format!(
                        "unknown figure {monitor:?}; expected loss, accuracy, top_k, mse or \
                         mae, with val_ in front for the validation set"
                    ),
                ));
            }
        };
        Ok(EarlyStopping {
            monitor: monitor.to_string(),
            validation,
            figure,
            higher_is_better,
            patience,
            min_delta: 0.0,
            best: None,
            waited: 0,
            stopped_after: None,
        })
    }

    /// The smallest change that counts as an improvement (0 by default).
    pub fn min_delta(mut self, min_delta: f64) -> EarlyStopping {
        self.min_delta = min_delta.abs();
        self
    }

    /// The best value seen so far.
    pub fn best(&self) -> Option<f64> {
        self.best
    }

    /// The epoch after which it stopped the run, if it did.
    pub fn stopped_after(&self) -> Option<usize> {
        self.stopped_after
    }

    fn improves(&self, value: f64) -> bool {
        match self.best {
            None => true,
            Some(best) if self.higher_is_better => value > best + self.min_delta,
            Some(best) => value < best - self.min_delta,
        }
    }
}

impl Observer for EarlyStopping {
    fn epoch_end(&mut self, end: &mut EpochEnd<'_>) -> Result<Control> {
        let metrics = if self.validation {
            end.report.validation.as_ref()
        } else {
            Some(&end.report.train)
        };
        let Some(value) = metrics.and_then(self.figure) else {
            return Err(Error::invalid(
                "EarlyStopping",
                format!(
                    "monitors {}, which this run does not measure ({})",
                    self.monitor,
                    if self.validation && end.report.validation.is_none() {
                        "it has no validation set"
                    } else {
                        "its task has no such figure"
                    }
                ),
            ));
        };
        if self.improves(value) {
            self.best = Some(value);
            self.waited = 0;
            return Ok(Control::Continue);
        }
        self.waited += 1;
        if self.waited >= self.patience {
            self.stopped_after = Some(end.report.epoch);
            return Ok(Control::Stop);
        }
        Ok(Control::Continue)
    }
}
