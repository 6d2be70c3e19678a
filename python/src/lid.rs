//! `nabla._C._lid`: backpropagation with the lid off, from Python, on nabla-inspect's public
//! API: recording a computation (`start`/`finish` around a `with nabla.record():` block), its
//! graph as SVG with values and gradients, the chain rule node by node, the textbook's
//! expressions (`grad_expr("apple*count*tax", ...)`), line charts of training curves, and the
//! training diagnostics of `nabla.lid.Monitor` (a nabla-inspect `Recorder` fed from Python
//! modules' hooks, drawn with its histogram and gradient-norm charts).

use crate::errors::IntoPyResult;
use crate::tensor::{Tensor, expect_core};
use nabla_core::Tensor as CoreTensor;
use nabla_core::autograd::observe;
use nabla_inspect::diagnostics::{
    Counts, EpochSnapshot, LayerInfo, LayerKind, LayerSnapshot, Panel, Recorder, Series,
    activation_histograms_svg, distributions_svg, gradient_norms_svg, line_chart_svg,
    weight_histograms_svg,
};
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

/// Per-layer training diagnostics of a Python model: `layers` are `(name, type_name,
/// has_parameters)`, in forward order.
#[pyclass(module = "nabla._C._lid", unsendable)]
struct Diagnostics {
    recorder: Recorder,
}

/// One layer at a probe, from Python: `(index, output, weight, weight_grad, grad_norm)`.
type LayerProbe<'py> = (
    usize,
    Option<Bound<'py, PyAny>>,
    Option<Bound<'py, PyAny>>,
    Option<Bound<'py, PyAny>>,
    Option<f64>,
);

/// One layer of the latest probe: `(label, output mean, output std, saturated, dead,
/// grad_norm)`.
type LayerRow = (String, f64, f64, Option<f64>, Option<f64>, Option<f64>);

/// The tensor `value` holds, outside the graph, or `None`.
fn probed(value: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<CoreTensor>> {
    value
        .map(|v| expect_core(v, what).map(|t| t.detach()))
        .transpose()
}

#[pymethods]
impl Diagnostics {
    #[new]
    fn new(layers: Vec<(String, String, bool)>) -> Self {
        let layers = layers
            .into_iter()
            .enumerate()
            .map(|(index, (name, type_name, has_parameters))| LayerInfo {
                index,
                label: format!("{name} ({type_name})"),
                kind: LayerKind::of(&type_name),
                name,
                type_name,
                has_parameters,
            })
            .collect();
        Diagnostics {
            recorder: Recorder::with_layers(layers),
        }
    }

    /// Records one step's gradient norms (one per layer with parameters) and returns the
    /// alarm's message, if any.
    fn record_norms(
        &mut self,
        epoch: usize,
        step: usize,
        norms: Vec<f64>,
    ) -> PyResult<Option<String>> {
        let expected = self.recorder.report().gradient_layers.len();
        if norms.len() != expected {
            return Err(PyValueError::new_err(format!(
                "Monitor: {} gradient norms for {expected} layers with parameters",
                norms.len()
            )));
        }
        Ok(self
            .recorder
            .record_norms(epoch, step, &norms)
            .map(|a| a.to_string()))
    }

    /// Closes `epoch`: the summaries of the alarms of its steps.
    fn finish_epoch(&mut self, epoch: usize) -> Vec<String> {
        self.recorder
            .finish_epoch(epoch)
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    /// Keeps a probe of every layer after `epoch`: `layers` as [`LayerProbe`], `samples` the
    /// probe batch's size.
    fn snapshot(
        &mut self,
        epoch: usize,
        loss: f64,
        samples: usize,
        layers: Vec<LayerProbe<'_>>,
    ) -> PyResult<()> {
        let count = self.recorder.report().layers.len();
        let mut out = Vec::with_capacity(layers.len());
        for (index, output, weight, grad, grad_norm) in layers {
            let Some(info) = self.recorder.report().layers.get(index) else {
                return Err(PyValueError::new_err(format!(
                    "Monitor: layer {index} of a model of {count} layers"
                )));
            };
            let Some(output) = probed(output.as_ref(), "output")? else {
                continue;
            };
            let weight = probed(weight.as_ref(), "weight")?;
            let grad = probed(grad.as_ref(), "weight_grad")?;
            out.push(LayerSnapshot::of(
                index,
                info.kind,
                &output,
                weight.as_ref().zip(grad.as_ref()),
                grad_norm,
            ));
        }
        let snapshot = EpochSnapshot {
            epoch,
            loss,
            layers: out,
        };
        self.recorder.push_snapshot(snapshot, samples);
        Ok(())
    }

    /// How many probes were kept.
    #[getter]
    fn epochs(&self) -> usize {
        self.recorder.report().epochs.len()
    }

    /// How many steps' gradient norms were kept.
    #[getter]
    fn steps(&self) -> usize {
        self.recorder.report().steps.len()
    }

    /// The latest probe's statistics per layer.
    fn latest(&self) -> Vec<LayerRow> {
        let report = self.recorder.report();
        report
            .epochs
            .last()
            .map(|e| {
                e.layers
                    .iter()
                    .map(|l| {
                        (
                            report.layers[l.layer].label.clone(),
                            l.activation.mean,
                            l.activation.std,
                            l.saturated,
                            l.dead,
                            l.grad_norm,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The charts, each `(title, svg)`: gradient norms per step, the latest probe's
    /// activation histograms, its weight and gradient histograms, and every layer's
    /// distribution over the probes; a chart without data is left out.
    fn charts(&self) -> PyResult<Vec<(String, String)>> {
        let report = self.recorder.report();
        let chart = |r: Result<String, nabla_inspect::diagnostics::ChartError>| {
            r.map_err(|e| PyValueError::new_err(e.0))
        };
        let mut out = Vec::new();
        if !report.steps.is_empty() && !report.gradient_layers.is_empty() {
            let title = "gradient norm per layer and step";
            out.push((title.into(), chart(gradient_norms_svg(report, title))?));
        }
        if let Some(last) = report.epochs.last() {
            let title = format!("epoch {}: outputs", last.epoch);
            out.push((
                title.clone(),
                chart(activation_histograms_svg(
                    &report.layers,
                    last,
                    &title,
                    Counts::Log,
                ))?,
            ));
            if last.layers.iter().any(|l| l.weight.is_some()) {
                let title = format!("epoch {}: weights and gradients", last.epoch);
                out.push((
                    title.clone(),
                    chart(weight_histograms_svg(&report.layers, last, &title))?,
                ));
            }
            let title = "distributions over epochs";
            out.push((title.into(), chart(distributions_svg(report, title))?));
        }
        Ok(out)
    }
}

/// Adds `nabla._C._lid`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let sub = PyModule::new(m.py(), "_lid")?;
    sub.add_class::<Trace>()?;
    sub.add_class::<Expression>()?;
    sub.add_class::<Diagnostics>()?;
    sub.add_function(wrap_pyfunction!(start, &sub)?)?;
    sub.add_function(wrap_pyfunction!(finish, &sub)?)?;
    sub.add_function(wrap_pyfunction!(grad_expr, &sub)?)?;
    sub.add_function(wrap_pyfunction!(line_chart, &sub)?)?;
    m.add_submodule(&sub)
}
