//! Training, once for every caller: [`fit`] trains a model over a [`crate::data::DataLoader`]
//! with the task's loss (softmax cross-entropy for classification, mean squared error for
//! regression), an optimiser, a learning-rate schedule, gradient clipping and an optional
//! validation set, reporting [`Metrics`] per epoch to [`Observer`]s (progress, diagnostics,
//! checkpoints, [`EarlyStopping`]); [`evaluate`] and [`predict`] run a trained model.
//!
//! The files: `fit.rs` (the step and the epoch), `metrics.rs` (the loss of a task, the figures,
//! evaluation and prediction), `observer.rs` (the callbacks and early stopping),
//! `divergence.rs` (NaN and blow-up reports naming the layer).

mod divergence;
mod fit;
mod metrics;
mod observer;

pub use divergence::{
    BLOW_UP_FACTOR, Divergence, EPOCH_BLOW_UP_FACTOR, Warning, first_exploded, first_non_finite,
    non_finite_index,
};
pub use fit::{FitOptions, fit};
pub use metrics::{
    DEFAULT_TOP_K, EVAL_BATCH, Metrics, evaluate, evaluate_outputs, predict, task_loss,
};
pub use observer::{Control, EarlyStopping, EpochEnd, EpochReport, Observer, StepEnd};
