//! A small expression language over scalars that builds nabla graphs: the engine of
//! `nabla grad`.
//!
//! Grammar, loosest binding first (as in Python):
//!
//! ```text
//! expr    := expr ('+' | '-') expr            left-associative
//!          | expr ('*' | '/') expr            left-associative
//!          | ('-' | '+') expr                 binds looser than ^ : -x^2 = -(x^2)
//!          | expr ('^' | '**') expr           right-associative: 2^3^2 = 2^9
//!          | number | name | name '(' expr (',' expr)* ')' | '(' expr ')'
//! number  := digits ['.' digits] [('e' | 'E') ['+' | '-'] digits]   (also .5)
//! name    := letter or _, then letters, digits, _
//! ```
//!
//! Functions: `exp log sqrt abs sin cos tanh sigmoid relu` of one argument, `max min` of two.
//! Nesting (parentheses, calls, unary signs, powers) is bounded at 200 levels; a run of `+ -`
//! or of `* /` is one level however long (`x+x+…+x` with 10,000 terms is fine).
//! Every variable becomes a 0-d `f64` leaf; `^` with a constant exponent is `powf`, with one
//! that depends on a variable `pow`.
//!
//! ```
//! use nabla_inspect::expr::{self, Mode};
//! let e = expr::parse("(w*x+b-5)^2").unwrap();
//! assert_eq!(e.variables(), ["w", "x", "b"]);
//! let at = expr::bind(&e, &[("x", 2.0), ("w", 3.0), ("b", 1.0)]).unwrap();
//! let result = expr::gradient(&e, &at, Mode::Reverse).unwrap();
//! assert_eq!((result.value, result.gradient), (4.0, vec![8.0, 12.0, 4.0]));
//! ```

mod derivatives;
mod eval;
mod lexer;
mod parser;
mod stepper;

pub use derivatives::{Evaluation, Mode, Recording, bind, gradient, hessian, record};
pub use parser::parse;
pub use stepper::{
    BackwardStep, ForwardStep, Gradients, Received, Sent, Stepper, StepperEdge, StepperNode,
    stepper,
};

use crate::error::Error;
use std::ops::Range;

/// A parsed expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    source: String,
    root: Ast,
    variables: Vec<String>,
}

impl Expr {
    /// The text it was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Its variables, in order of first appearance.
    pub fn variables(&self) -> &[String] {
        &self.variables
    }
}

impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source)
    }
}

/// A node of the syntax tree, with the bytes of the source it covers.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Ast {
    pub(crate) kind: AstKind,
    pub(crate) span: Range<usize>,
    /// Whether a variable occurs below: `^` with a constant exponent becomes `powf`.
    pub(crate) has_variables: bool,
    /// Levels below, bounded by the parser so evaluating it recurses only so deep.
    pub(crate) height: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum AstKind {
    Number(f64),
    Variable(String),
    Neg(Box<Ast>),
    /// A power, `base ^ exponent`.
    Binary(BinaryOp, Box<Ast>, Box<Ast>),
    /// A left-associative run of `+ -` or of `* /`, however long: `a - b + c` is `a` followed
    /// by `(Sub, b), (Add, c)`. One level of the tree, so a long sum nests no deeper than a
    /// short one and nothing recurses along it.
    Chain(Box<Ast>, Vec<(BinaryOp, Ast)>),
    Call(Function, Vec<Ast>),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Function {
    Exp,
    Log,
    Sqrt,
    Abs,
    Sin,
    Cos,
    Tanh,
    Sigmoid,
    Relu,
    Max,
    Min,
}

/// Every function with its name and number of arguments.
pub(crate) const FUNCTIONS: [(Function, &str, usize); 11] = [
    (Function::Exp, "exp", 1),
    (Function::Log, "log", 1),
    (Function::Sqrt, "sqrt", 1),
    (Function::Abs, "abs", 1),
    (Function::Sin, "sin", 1),
    (Function::Cos, "cos", 1),
    (Function::Tanh, "tanh", 1),
    (Function::Sigmoid, "sigmoid", 1),
    (Function::Relu, "relu", 1),
    (Function::Max, "max", 2),
    (Function::Min, "min", 2),
];

impl BinaryOp {
    /// Whether `self` and `other` chain together: both additive or both multiplicative.
    pub(crate) fn chains_with(self, other: BinaryOp) -> bool {
        use BinaryOp::*;
        matches!(
            (self, other),
            (Add | Sub, Add | Sub) | (Mul | Div, Mul | Div)
        )
    }
}

/// A syntax error at byte `at` of `source`.
pub(crate) fn syntax_error(source: &str, at: usize, message: String) -> Error {
    Error::Syntax {
        message,
        column: source[..at].chars().count() + 1,
        expression: source.to_string(),
    }
}
