//! The crate's error type: syntax errors point at a column of the expression, evaluation errors
//! name the variable or node at fault, and core errors pass through unchanged. User text echoed
//! in a message is cut to a bounded length.

use crate::format::clip;

/// Errors of parsing, evaluating and explaining.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// An expression that does not parse. Displays as the message, then the expression (at most
    /// [`CONTEXT`] characters of it around the fault) with a caret under the offending column.
    #[error("syntax error at column {column}: {message}\n{}", excerpt(expression, *column))]
    Syntax {
        message: String,
        /// 1-based, counted in characters.
        column: usize,
        expression: String,
    },
    /// A variable the expression uses but that was given no value.
    #[error("no value for the variable `{}`", clip(name))]
    Unbound { name: String },
    /// A value for a name the expression does not use.
    #[error(
        "`{}` is given a value but {} does not use it (its variables: {})",
        clip(name),
        clip(expression),
        list(variables)
    )]
    Unused {
        name: String,
        expression: String,
        variables: Vec<String>,
    },
    /// A name given two values.
    #[error("{} is given twice", clip(name))]
    Twice { name: String },
    /// The chain-rule explanation works on scalars only.
    #[error(
        "explain: {what} has shape {shape:?}; the chain rule is explained from a scalar output (a loss)"
    )]
    NotScalar { what: String, shape: Vec<usize> },
    /// An explanation was asked of a trace that saw no backward pass.
    #[error("explain: the trace recorded no backward pass; call backward() inside Trace::record")]
    NoBackward,
    #[error(transparent)]
    Core(#[from] nabla_core::Error),
}

/// The first names of `names`, comma-separated, then how many more there are.
fn list(names: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut text: Vec<String> = names
        .iter()
        .take(SHOWN)
        .map(|n| clip(n).into_owned())
        .collect();
    if names.len() > SHOWN {
        text.push(format!("and {} more", names.len() - SHOWN));
    }
    if text.is_empty() {
        "none".into()
    } else {
        text.join(", ")
    }
}

/// Most characters of an expression shown under a syntax error.
pub const CONTEXT: usize = 60;

/// The expression around 1-based `column`, at most [`CONTEXT`] characters with `…` where cut,
/// and a caret under the column, each line indented by two spaces.
fn excerpt(expression: &str, column: usize) -> String {
    let at = column.saturating_sub(1);
    let start = at.saturating_sub(CONTEXT / 2);
    let window: String = expression.chars().skip(start).take(CONTEXT).collect();
    let cut_before = start > 0;
    let cut_after = expression.chars().nth(start + CONTEXT).is_some();
    format!(
        "  {}{window}{}\n  {}^",
        if cut_before { "…" } else { "" },
        if cut_after { "…" } else { "" },
        " ".repeat(at - start + usize::from(cut_before))
    )
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
