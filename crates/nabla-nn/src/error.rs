//! The error type of the training library: tensor errors from the core, and file errors that
//! name the file and what is wrong with it.

use std::borrow::Cow;
use std::path::PathBuf;

/// `text` cut to its first `max` characters, with `…` when something was cut: user text
/// echoed in an error message stays short whatever the input.
///
/// ```
/// use nabla_nn::error::clip_to;
/// assert_eq!(clip_to("abc", 5), "abc");
/// assert_eq!(clip_to("abcdef", 3), "abc…");
/// ```
pub fn clip_to(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((at, _)) => Cow::Owned(format!("{}…", &text[..at])),
    }
}

/// Errors raised by layers, losses, optimisers, data loading and checkpoints.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A tensor operation failed (shapes, dtypes, ...).
    #[error(transparent)]
    Core(#[from] nabla_core::Error),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file was read but its contents are wrong (truncated, corrupt, unexpected).
    #[error("{}: {message}", path.display())]
    Format { path: PathBuf, message: String },
    /// Something would need more memory than the machine has (see [`crate::memory`]).
    #[error("{0}")]
    Memory(String),
    /// An invalid argument or state, with what it concerns and what is wrong.
    #[error("{context}: {message}")]
    Invalid {
        context: &'static str,
        message: String,
    },
    /// Training stopped because a loss became NaN or infinite (see [`crate::train`]).
    #[error("{0}")]
    Diverged(crate::train::Divergence),
    /// Training stopped by anomaly detection at the first operation that made a NaN or
    /// infinity (see [`crate::train::FitOptions::detect_anomaly`]).
    #[error("{anomaly} at epoch {epoch}, step {step}")]
    Anomaly {
        anomaly: Box<nabla_core::Anomaly>,
        epoch: usize,
        step: usize,
    },
    /// An observer of a training run failed (writing its files, ...).
    #[error(transparent)]
    Observer(Box<dyn std::error::Error + Send + Sync>),
    /// Another rank of a data-parallel run failed; that rank reports its own error, and every
    /// rank stops (see [`crate::train::settle`]).
    #[error(
        "rank {rank} of {size} failed (its error is reported by that rank); every rank stopped"
    )]
    OtherRank { rank: usize, size: usize },
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An [`Error::Invalid`] from a context and a message.
    pub fn invalid(context: &'static str, message: impl Into<String>) -> Self {
        Error::Invalid {
            context,
            message: message.into(),
        }
    }
}

/// The value of a `try_` form, or a panic with its error's message at the caller's line: what
/// every panicking form calls (a `match`, not `unwrap_or_else`: a panic inside a closure would
/// report the closure's line).
#[track_caller]
pub(crate) fn ok<T>(result: Result<T>) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{e}"),
    }
}
