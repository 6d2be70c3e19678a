//! # nabla-inspect
//!
//! Backpropagation with the lid off, built only on `nabla-core`'s public API (the `grad_fn`
//! walk and autograd observers):
//!
//! - [`Trace`] records, while a computation runs forward and backward, every node's value, the
//!   gradient it received and what it sent to each input;
//! - [`Graph`] is any tensor's graph (everything its `grad_fn` chain reaches), annotated from a
//!   trace, exported to Graphviz DOT ([`Graph::to_dot`]) or rendered to a self-contained SVG
//!   ([`Graph::to_svg`]) with nabla's own layered layout;
//! - [`explain`] prints the chain rule node by node for any graph with a scalar output, each
//!   step in the terms of that node's own inputs: the rule the operation states beside its
//!   backward ([`nabla_core::Backward::formula`]) instantiated at the recorded values, the
//!   matrix form for matrix rules (`∂L/∂W = (∂L/∂Y)ᵀ·X`), values of small tensors and
//!   statistics of large ones. [`explanation`] gives the same steps as data ([`Explanation`]:
//!   [`ExplainedStep`]s with their values, upstream gradients, fan-in contributions and, per
//!   input, the [`Rule`] with its numbers; serialisable with serde), which other front ends
//!   (Python's HTML, a browser page) render as they like;
//! - [`expr`] is a small expression language (`(w*x+b-5)^2`) that builds nabla graphs, the
//!   engine behind `nabla grad`;
//! - [`diagnostics`] watches a network train: per-layer histograms of activations, weights and
//!   gradients, saturated and dead units, gradient norms with a vanishing/exploding detector,
//!   SVG charts, and the graph around a NaN;
//! - [`classifier`] draws what a trained classifier does: its confusion matrix, its
//!   misclassified images and, for 2-D inputs, its decision regions.
//!
//! ```
//! use nabla_core::Tensor;
//! use nabla_inspect::{Graph, GraphOptions, Trace};
//! let x = Tensor::scalar(3.0f64).requires_grad();
//! let trace = Trace::new().with_name(&x, "x");
//! let (y, trace) = trace.record(|| {
//!     let y = (&x * &x).exp();
//!     y.backward();
//!     y
//! });
//! let graph = Graph::of(&y, &trace, GraphOptions::default());
//! assert!(graph.to_dot().contains("label=\"[1] exp"));
//! assert!(graph.to_svg().starts_with("<svg"));
//! ```

pub mod classifier;
pub mod diagnostics;
mod dot;
pub mod error;
mod explain;
pub mod expr;
mod format;
mod graph;
mod layout;
mod svg;
mod trace;

pub use error::{Error, Result};
pub use explain::{
    ExplainOptions, ExplainedStep, Explanation, InputStep, Rule, Values, explain, explanation,
};
pub use format::{clip, compact, op_label, shortest};
pub use graph::{Graph, GraphEdge, GraphNode, GraphOptions, NodeKind, RankDir};
pub use trace::{Input, OpRecord, Step, Trace};
