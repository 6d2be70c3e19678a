//! Derivatives of an expression at a point: value and gradient by reverse mode (one backward
//! pass, recorded in a [`Trace`] for rendering and explaining) or forward mode (one JVP per
//! variable), and the Hessian forward-over-reverse or reverse-over-reverse.

use super::Expr;
use crate::error::{Error, Result};
use crate::explain::explain;
use crate::graph::{Graph, GraphOptions};
use crate::trace::Trace;
use nabla_core::{BackwardOptions, GradOptions, Tensor, no_grad, try_grad, try_grad_opts};
use std::cell::RefCell;
use std::collections::HashMap;

/// Which way derivatives are propagated.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Vector-Jacobian products: one backward pass for the whole gradient.
    Reverse,
    /// Jacobian-vector products: one forward pass per variable.
    Forward,
}

/// A value with its gradient, one entry per variable in [`Expr::variables`] order.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub value: f64,
    pub gradient: Vec<f64>,
}

/// The values of `expr`'s variables, in [`Expr::variables`] order, looked up in `at`. A variable
/// without a value is an error, and so is a value for a name the expression does not use (a
/// misspelt name would otherwise pass unnoticed).
///
/// ```
/// use nabla_inspect::expr;
/// let e = expr::parse("x*y").unwrap();
/// assert_eq!(expr::bind(&e, &[("y", 2.0), ("x", 1.0)]).unwrap(), vec![1.0, 2.0]);
/// let error = expr::bind(&e, &[("x", 1.0), ("y", 2.0), ("z", 3.0)]).unwrap_err();
/// assert_eq!(error.to_string(), "`z` is given a value but x*y does not use it (its variables: x, y)");
/// ```
pub fn bind(expr: &Expr, at: &[(&str, f64)]) -> Result<Vec<f64>> {
    if let Some((name, _)) = at
        .iter()
        .find(|(n, _)| !expr.variables().iter().any(|v| v == n))
    {
        return Err(Error::Unused {
            name: name.to_string(),
            expression: expr.source().to_string(),
            variables: expr.variables().to_vec(),
        });
    }
    expr.variables()
        .iter()
        .map(|name| {
            at.iter()
                .find(|(n, _)| n == name)
                .map(|&(_, v)| v)
                .ok_or_else(|| Error::Unbound { name: name.clone() })
        })
        .collect()
}

/// A reverse-mode evaluation with its trace: the graph, each node's value and gradient.
pub struct Recording {
    /// The expression's value (with its graph).
    pub root: Tensor,
    /// One 0-d leaf per variable, holding its gradient.
    pub leaves: Vec<Tensor>,
    /// Leaves named after their variables.
    pub trace: Trace,
    /// Each operation's result with its source text.
    operations: Vec<(Tensor, String)>,
}

impl Recording {
    /// Value and gradient.
    pub fn evaluation(&self) -> Evaluation {
        Evaluation {
            value: self.root.item::<f64>(),
            gradient: self
                .leaves
                .iter()
                .map(|leaf| leaf.grad().map_or(0.0, |g| g.item::<f64>()))
                .collect(),
        }
    }

    /// The graph with values and gradients.
    pub fn graph(&self, options: GraphOptions) -> Graph {
        Graph::of(&self.root, &self.trace, options)
    }

    /// The chain rule node by node (see [`explain`]), each operation named by its source text.
    ///
    /// ```
    /// use nabla_inspect::expr;
    /// let e = expr::parse("apple*count*tax").unwrap();
    /// let text = expr::record(&e, &[100.0, 2.0, 1.1]).unwrap().explain().unwrap();
    /// assert!(text.contains(
    ///     "to apple*count (= 200): local ∂(apple*count*tax)/∂(apple*count) = tax = 1.1; 1.1 × 1 = 1.1"
    /// ));
    /// ```
    pub fn explain(&self) -> Result<String> {
        explain(&self.named_trace())
    }

    /// The trace with every operation named by its source text (`apple*count`), as
    /// [`Recording::explain`] and the stepper show them.
    pub(crate) fn named_trace(&self) -> Trace {
        let mut named = self.trace.clone();
        for (tensor, text) in &self.operations {
            named.name(tensor, text.clone());
        }
        named
    }

    /// Each operation's result, in the order they were evaluated (innermost first).
    pub(crate) fn operations(&self) -> impl Iterator<Item = &Tensor> {
        self.operations.iter().map(|(tensor, _)| tensor)
    }
}

/// Evaluates `expr` at `values` (in [`Expr::variables`] order) on fresh leaves and runs
/// backward, recording everything.
pub fn record(expr: &Expr, values: &[f64]) -> Result<Recording> {
    let leaves = leaves(expr, values)?;
    let mut trace = Trace::new();
    for (leaf, name) in leaves.iter().zip(expr.variables()) {
        trace.name(leaf, name.clone());
    }
    let mut operations = Vec::new();
    let (root, trace) = trace.record(|| -> Result<Tensor> {
        let root = expr.eval_visiting(&lookup(expr, &leaves), &mut |text, t| {
            operations.push((t.clone(), name_of(text)))
        })?;
        if root.requires_grad_flag() {
            root.try_backward()?;
        }
        Ok(root)
    });
    Ok(Recording {
        root: root?,
        leaves,
        trace,
        operations,
    })
}

/// Longest operation name kept, in characters: the partial sums of a long chain would otherwise
/// take memory quadratic in its length.
const MAX_NAME: usize = 80;

/// `text` as an operation's name: its start and end around `…` when it is longer than
/// [`MAX_NAME`].
fn name_of(text: &str) -> String {
    let half = MAX_NAME / 2;
    let head_end = text
        .char_indices()
        .nth(half)
        .map_or(text.len(), |(at, _)| at);
    let tail_start = text
        .char_indices()
        .rev()
        .nth(half - 1)
        .map_or(0, |(at, _)| at);
    if head_end >= tail_start {
        return text.to_string();
    }
    format!(
        "{}…{}",
        text[..head_end].trim_end(),
        text[tail_start..].trim_start()
    )
}

/// Value and gradient of `expr` at `values`.
pub fn gradient(expr: &Expr, values: &[f64], mode: Mode) -> Result<Evaluation> {
    match mode {
        Mode::Reverse => Ok(record(expr, values)?.evaluation()),
        Mode::Forward => {
            let primals = constants(expr, values)?;
            let failure = RefCell::new(None);
            let f = as_function(expr, &failure);
            let value = no_grad(|| f(&primals)).try_item::<f64>();
            let gradient = (0..primals.len())
                .map(|i| {
                    let tangents: Vec<Tensor> = (0..primals.len())
                        .map(|j| Tensor::scalar(if i == j { 1.0f64 } else { 0.0 }))
                        .collect();
                    let (_, derivative) = nabla_core::jvp(&f, &primals, &tangents)?;
                    Ok(derivative.try_item::<f64>()?)
                })
                .collect::<Result<Vec<f64>>>();
            if let Some(e) = failure.take() {
                return Err(e);
            }
            Ok(Evaluation {
                value: value?,
                gradient: gradient?,
            })
        }
    }
}

/// The Hessian of `expr` at `values`, rows and columns in [`Expr::variables`] order:
/// `Mode::Forward` is forward over reverse ([`nabla_core::hessian`], one Hessian-vector
/// product per variable), `Mode::Reverse` is reverse over reverse (the gradient of each
/// gradient entry, from a backward pass recorded with `create_graph`).
///
/// ```
/// use nabla_inspect::expr::{self, Mode};
/// let e = expr::parse("x^2*y").unwrap();
/// let h = expr::hessian(&e, &[3.0, 5.0], Mode::Forward).unwrap();
/// assert_eq!(h, vec![vec![10.0, 6.0], vec![6.0, 0.0]]);
/// assert_eq!(expr::hessian(&e, &[3.0, 5.0], Mode::Reverse).unwrap(), h);
/// ```
pub fn hessian(expr: &Expr, values: &[f64], mode: Mode) -> Result<Vec<Vec<f64>>> {
    let n = expr.variables().len();
    if values.len() != n {
        return Err(wrong_count(expr, values));
    }
    if n == 0 {
        return Ok(Vec::new());
    }
    // n² entries, held about three times over (rows, the flat copy, the result).
    let bytes = (n as u64)
        .checked_mul(n as u64)
        .and_then(|e| e.checked_mul(24));
    nabla_nn::memory::check(
        &format!("the Hessian of {n} variables"),
        bytes,
        nabla_nn::memory::available(),
    )
    .map_err(|e| nabla_core::Error::InvalidArgument {
        op: "hessian",
        message: e.to_string(),
    })?;
    let flat = match mode {
        Mode::Forward => {
            let failure = RefCell::new(None);
            let f = as_function(expr, &failure);
            let point = Tensor::from_vec(values.to_vec(), &[n]);
            let h = nabla_core::hessian(
                |x: &Tensor| {
                    let parts: Vec<Tensor> =
                        (0..n).map(|i| x.narrow(0, i, 1).reshape(&[])).collect();
                    f(&parts)
                },
                &point,
            );
            if let Some(e) = failure.take() {
                return Err(e);
            }
            h?.to_f64_vec()
        }
        Mode::Reverse => {
            let leaves = leaves(expr, values)?;
            let refs: Vec<&Tensor> = leaves.iter().collect();
            let y = expr.eval(&lookup(expr, &leaves))?;
            let create = BackwardOptions {
                retain_graph: true,
                create_graph: true,
            };
            let first = try_grad(&[&y], None, &refs, create)?;
            let mut flat = Vec::with_capacity(n * n);
            for g in &first {
                if g.requires_grad_flag() {
                    // A variable this entry does not depend on has a zero second derivative.
                    let retain = GradOptions {
                        retain_graph: true,
                        materialize_grads: true,
                        ..GradOptions::default()
                    };
                    for row in try_grad_opts(&[g], None, &refs, retain)?
                        .into_iter()
                        .flatten()
                    {
                        flat.push(row.try_item::<f64>()?);
                    }
                } else {
                    // This gradient entry is constant: its row of second derivatives is zero.
                    flat.extend(std::iter::repeat_n(0.0, n));
                }
            }
            flat
        }
    };
    Ok(flat.chunks(n).map(<[f64]>::to_vec).collect())
}

fn wrong_count(expr: &Expr, values: &[f64]) -> Error {
    Error::Core(nabla_core::Error::InvalidArgument {
        op: "expression",
        message: format!(
            "{} values for the {} variables of {expr}",
            values.len(),
            expr.variables().len()
        ),
    })
}

fn constants(expr: &Expr, values: &[f64]) -> Result<Vec<Tensor>> {
    if values.len() != expr.variables().len() {
        return Err(wrong_count(expr, values));
    }
    Ok(values.iter().map(|&v| Tensor::scalar(v)).collect())
}

fn leaves(expr: &Expr, values: &[f64]) -> Result<Vec<Tensor>> {
    Ok(constants(expr, values)?
        .into_iter()
        .map(Tensor::requires_grad)
        .collect())
}

/// Looks variables up among `tensors`, which follow `expr`'s variable order.
fn lookup<'a>(expr: &'a Expr, tensors: &'a [Tensor]) -> impl Fn(&str) -> Option<Tensor> + 'a {
    let index: HashMap<&str, &Tensor> = expr
        .variables()
        .iter()
        .map(String::as_str)
        .zip(tensors)
        .collect();
    move |name| index.get(name).map(|&t| t.clone())
}

/// `expr` as the infallible function of its variables that `jvp` and `hessian` take: a failure
/// is kept in `failure` (and NaN returned) for the caller to report afterwards.
fn as_function<'a>(
    expr: &'a Expr,
    failure: &'a RefCell<Option<Error>>,
) -> impl Fn(&[Tensor]) -> Tensor + 'a {
    move |inputs| match expr.eval(&lookup(expr, inputs)) {
        Ok(t) => t,
        Err(e) => {
            failure.borrow_mut().get_or_insert(e);
            Tensor::scalar(f64::NAN)
        }
    }
}
