//! The crate's error type: syntax errors point at a column of the expression, evaluation errors
//! name the variable or node at fault, and core errors pass through unchanged.

/// Errors of parsing, evaluating and explaining.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// An expression that does not parse. Displays as the message, then the expression with a
    /// caret under the offending column.
    #[error("syntax error at column {column}: {message}\n  {expression}\n  {caret}^", caret = " ".repeat(column - 1))]
    Syntax {
        message: String,
        /// 1-based, counted in characters.
        column: usize,
        expression: String,
    },
    /// A variable the expression uses but that was given no value.
    #[error("no value for the variable `{name}`")]
    Unbound { name: String },
    /// The chain-rule explanation works on scalars only.
    #[error(
        "explain: {what} has shape {shape:?}; the chain rule is explained for scalar graphs only"
    )]
    NotScalar { what: String, shape: Vec<usize> },
    /// An explanation was asked of a trace that saw no backward pass.
    #[error("explain: the trace recorded no backward pass; call backward() inside Trace::record")]
    NoBackward,
    #[error(transparent)]
    Core(#[from] nabla_core::Error),
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
