//! # nabla-nn
//!
//! The training library on top of `nabla-core`: modules and layers, losses, initialisers,
//! optimisers, learning-rate schedules, gradient clipping, data loading and checkpoints.

pub mod checkpoint;
pub mod clip;
pub mod data;
pub mod error;
pub mod init;
pub mod layers;
pub mod loss;
pub mod memory;
pub mod models;
pub mod module;
pub mod optim;
pub mod saved;
pub mod schedule;
pub mod spec;
pub mod task;
pub mod train;

pub use error::{Error, Result};

/// The backward rules this crate defines, by [`nabla_core::Backward::rule`] key, beside the
/// core's ([`nabla_core::autograd::rules::all`]): what its table of gradient checks covers.
pub const RULES: &[&str] = &["CrossEntropyBackward"];

/// The README's code examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeExamples;
