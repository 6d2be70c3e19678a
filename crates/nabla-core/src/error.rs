//! The one error type of the core: every variant names the operation and what was wrong with its
//! operands (shapes, dtypes, dims), so a message read out of context still points at the cause.

use crate::DType;
use std::borrow::Cow;
use std::fmt;

/// A shape as it appears in messages: `[2, 3]`.
#[derive(Clone, PartialEq, Eq)]
pub struct ShapeList(pub Vec<usize>);

impl fmt::Debug for ShapeList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl fmt::Display for ShapeList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl From<&[usize]> for ShapeList {
    fn from(dims: &[usize]) -> Self {
        ShapeList(dims.to_vec())
    }
}

/// Errors raised by tensor operations and the autograd engine.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Two operands whose shapes do not fit together.
    #[error("{op}: shapes {lhs} and {rhs} are incompatible ({reason})")]
    ShapeMismatch {
        op: &'static str,
        lhs: ShapeList,
        rhs: ShapeList,
        reason: Cow<'static, str>,
    },
    /// Two operands of different element types.
    #[error("{op}: dtypes {lhs} and {rhs} differ; convert one with .to_dtype()")]
    DTypeMismatch {
        op: &'static str,
        lhs: DType,
        rhs: DType,
    },
    /// An operation that does not accept this element type.
    #[error("{op}: dtype {got} is not supported (expected {expected})")]
    UnsupportedDType {
        op: &'static str,
        got: DType,
        expected: &'static str,
    },
    /// A dimension index outside `-ndim..ndim`.
    #[error("{op}: dimension {dim} is out of range for a tensor of shape {shape}")]
    DimOutOfRange {
        op: &'static str,
        dim: isize,
        shape: ShapeList,
    },
    /// An index outside the size of the dimension it indexes.
    #[error("{op}: index {index} is out of range for size {size}")]
    IndexOutOfRange {
        op: &'static str,
        index: i64,
        size: usize,
    },
    /// A buffer whose length does not match the requested shape.
    #[error("{op}: {len} elements cannot form shape {shape}")]
    ElementCount {
        op: &'static str,
        len: usize,
        shape: ShapeList,
    },
    /// Any other invalid argument, with a sentence that says what is wrong.
    #[error("{op}: {message}")]
    InvalidArgument { op: &'static str, message: String },
    /// `backward` through a graph whose saved tensors were already freed.
    #[error(
        "{node}: trying to backward through the graph a second time; its saved tensors were \
         freed after the first backward (pass retain_graph = true to keep them)"
    )]
    GraphFreed { node: &'static str },
    /// A tensor saved for backward that an in-place operation changed afterwards.
    #[error(
        "{node}: a tensor of shape {shape} saved for backward was modified in place \
         (version {saved} when saved, now {now})"
    )]
    SavedTensorModified {
        node: &'static str,
        shape: ShapeList,
        saved: u64,
        now: u64,
    },
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn shapes(
        op: &'static str,
        lhs: &[usize],
        rhs: &[usize],
        reason: impl Into<Cow<'static, str>>,
    ) -> Self {
        Error::ShapeMismatch {
            op,
            lhs: lhs.into(),
            rhs: rhs.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid(op: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidArgument {
            op,
            message: message.into(),
        }
    }
}
