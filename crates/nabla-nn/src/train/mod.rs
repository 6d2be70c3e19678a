//! Training, once for every caller: [`fit`] trains a model over a [`crate::data::DataLoader`]
//! with the task's loss (softmax cross-entropy for classification, mean squared error for
//! regression), an optimiser, a learning-rate schedule, gradient clipping and an optional
//! validation set, reporting [`Metrics`] per epoch to [`Observer`]s (progress, diagnostics,
//! checkpoints, [`EarlyStopping`]); [`evaluate`] and [`predict`] run a trained model.
//!
//!
//! The same loop trains data-parallel over several processes given a [`Communicator`]
//! ([`FitOptions::communicator`]; [`Mpi`] with the feature `mpi`): rank 0's state is broadcast
//! at the start, each rank trains on its rows of every batch, gradients are averaged over the
//! ranks before each update, and every rank keeps the same parameters.
//!
//! The files: `fit.rs` (the step and the epoch), `metrics.rs` (the loss of a task, the figures,
//! evaluation and prediction), `observer.rs` (the callbacks and early stopping),
//! `divergence.rs` (NaN and blow-up reports naming the layer), `communicator.rs` (the group of
//! processes), `distributed.rs` (what data-parallel training does with it), `mpi.rs` (MPI).

mod communicator;
mod distributed;
mod divergence;
mod fit;
mod metrics;
#[cfg(feature = "mpi")]
mod mpi;
mod observer;

pub use communicator::{Communicator, SingleProcess};
pub use distributed::{
    BUCKET_BYTES, all_reduce_gradients, broadcast_state, check_agreement, fingerprint, settle,
    shard_rows,
};
#[cfg(feature = "mpi")]
pub use mpi::Mpi;

pub use divergence::{
    BLOW_UP_FACTOR, Divergence, EPOCH_BLOW_UP_FACTOR, Warning, first_exploded, first_non_finite,
    non_finite_index,
};
pub use fit::{FitOptions, fit};
pub use metrics::{
    DEFAULT_TOP_K, EVAL_BATCH, Metrics, evaluate, evaluate_outputs, predict, task_loss,
};
pub use observer::{Control, EarlyStopping, EpochEnd, EpochReport, Observer, StepEnd};
