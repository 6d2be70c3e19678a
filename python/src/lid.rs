//! `nabla._C._lid`: backpropagation with the lid off, from Python, on nabla-inspect's public
//! API: recording a computation (`start`/`finish` around a `with nabla.record():` block), its
//! graph as SVG with values and gradients, the chain rule node by node, the textbook's
//! expressions (`grad_expr("apple*count*tax", ...)`) and line charts of training curves.

use crate::errors::IntoPyResult;
use crate::tensor::Tensor;
use nabla_core::autograd::observe;
use nabla_inspect::diagnostics::{Panel, Series, line_chart_svg};
use nabla_inspect::expr::{self, Recording};
use nabla_inspect::{Graph, GraphOptions, Trace as CoreTrace};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// A recorded computation: every operation's value and every gradient backward sent.
#[pyclass(module = "nabla._C._lid", unsendable)]
struct Trace {
    inner: CoreTrace,
}

fn options(max_nodes: usize, max_values: usize) -> GraphOptions {
    GraphOptions {
        max_nodes,
        max_values,
        ..GraphOptions::default()
    }
}

#[pymethods]
impl Trace {
    /// An empty trace (draws structure and shapes only).
    #[new]
    fn new() -> Self {
        Trace {
            inner: CoreTrace::new(),
        }
    }

    /// Names `tensor` in pictures and explanations.
    fn name(&mut self, tensor: PyRef<'_, Tensor>, name: String) {
        self.inner.name(tensor.core(), name);
    }

    /// Whether the operation that made `tensor` was recorded.
    fn saw(&self, tensor: PyRef<'_, Tensor>) -> bool {
        let t = tensor.core();
        match t.grad_fn() {
            Some(node) => self.inner.op(&node).is_some(),
            None => false,
        }
    }

    /// Whether a backward pass ran through `tensor`'s operation.
    fn saw_backward(&self, tensor: PyRef<'_, Tensor>) -> bool {
        let t = tensor.core();
        t.grad_fn()
            .is_some_and(|node| self.inner.step(&node).is_some())
    }

    /// The graph `tensor` depends on as a self-contained SVG.
    #[pyo3(signature = (tensor, max_nodes = 200, max_values = 6))]
    fn svg(&self, tensor: PyRef<'_, Tensor>, max_nodes: usize, max_values: usize) -> String {
        Graph::of(tensor.core(), &self.inner, options(max_nodes, max_values)).to_svg()
    }

    /// The graph as Graphviz DOT.
    #[pyo3(signature = (tensor, max_nodes = 200, max_values = 6))]
    fn dot(&self, tensor: PyRef<'_, Tensor>, max_nodes: usize, max_values: usize) -> String {
        Graph::of(tensor.core(), &self.inner, options(max_nodes, max_values)).to_dot()
    }

    /// The chain rule of the recorded backward pass, node by node.
    fn explain(&self) -> PyResult<String> {
        nabla_inspect::explain(&self.inner).py()
    }
}

/// Starts recording this thread's operations and backward passes.
#[pyfunction]
fn start() {
    observe::start(CoreTrace::new());
}

/// Stops the recording [`start`] began and returns it.
#[pyfunction]
fn finish() -> PyResult<Trace> {
    observe::finish::<CoreTrace>()
        .map(|inner| Trace { inner })
        .ok_or_else(|| {
            PyRuntimeError::new_err(
                "record: no recording is running on this thread (each `with nabla.record():` \
                 stops its own)",
            )
        })
}

/// An expression of the textbook's kind evaluated, differentiated and recorded.
#[pyclass(module = "nabla._C._lid", unsendable)]
struct Expression {
    recording: Recording,
    variables: Vec<String>,
    source: String,
}

#[pymethods]
impl Expression {
    /// The expression's text.
    #[getter]
    fn source(&self) -> &str {
        &self.source
    }

    /// The variables, in order of first appearance.
    #[getter]
    fn variables(&self) -> Vec<String> {
        self.variables.clone()
    }

    /// The expression's value.
    #[getter]
    fn value(&self) -> f64 {
        self.recording.evaluation().value
    }

    /// `∂value/∂variable`, in [`Expression::variables`] order.
    #[getter]
    fn gradient(&self) -> Vec<f64> {
        self.recording.evaluation().gradient
    }

    /// The graph with values and gradients as SVG.
    #[pyo3(signature = (max_nodes = 200, max_values = 6))]
    fn svg(&self, max_nodes: usize, max_values: usize) -> String {
        self.recording
            .graph(options(max_nodes, max_values))
            .to_svg()
    }

    /// The chain rule node by node.
    fn explain(&self) -> PyResult<String> {
        self.recording.explain().py()
    }
}

/// Parses `source`, binds `values` (`{name: number}`), and runs it forward and backward.
#[pyfunction]
fn grad_expr(source: &str, values: Vec<(String, f64)>) -> PyResult<Expression> {
    let parsed = expr::parse(source).py()?;
    let at: Vec<(&str, f64)> = values.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let bound = expr::bind(&parsed, &at).py()?;
    let recording = expr::record(&parsed, &bound).py()?;
    Ok(Expression {
        variables: parsed.variables().to_vec(),
        source: parsed.source().to_string(),
        recording,
    })
}

/// A panel of a line chart: `(title, x_label, y_label, log_y, [(name, [(x, y), ...]), ...])`.
type PanelSpec = (String, String, String, bool, Vec<(String, Vec<(f64, f64)>)>);

/// A line chart of `panels` as SVG (nabla-inspect's training charts).
#[pyfunction]
fn line_chart(title: &str, panels: Vec<PanelSpec>) -> PyResult<String> {
    let panels: Vec<Panel> = panels
        .into_iter()
        .map(|(title, x_label, y_label, log_y, series)| Panel {
            title,
            x_label,
            y_label,
            log_y,
            series: series
                .into_iter()
                .map(|(name, points)| Series {
                    name,
                    points,
                    ..Series::default()
                })
                .collect(),
            ..Panel::default()
        })
        .collect();
    line_chart_svg(title, &panels).map_err(|e| PyValueError::new_err(e.0))
}

/// Adds `nabla._C._lid`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let sub = PyModule::new(m.py(), "_lid")?;
    sub.add_class::<Trace>()?;
    sub.add_class::<Expression>()?;
    sub.add_function(wrap_pyfunction!(start, &sub)?)?;
    sub.add_function(wrap_pyfunction!(finish, &sub)?)?;
    sub.add_function(wrap_pyfunction!(grad_expr, &sub)?)?;
    sub.add_function(wrap_pyfunction!(line_chart, &sub)?)?;
    m.add_submodule(&sub)
}
