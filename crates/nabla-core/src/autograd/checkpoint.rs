//! Gradient checkpointing, after PyTorch's non-reentrant `torch.utils.checkpoint`: a segment
//! of the forward pass keeps only its inputs, and backward runs it again to get the rest.

use super::engine::grad_to_boundary;
use super::node::{Backward, Edge, Few, Gradients, InputMeta, Node, SavedTensor, next_sequence_nr};
use super::{enable_grad, is_grad_enabled, no_grad, observe};
use crate::autograd::formula::{At, Binding, Formula, Local};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use std::collections::HashSet;
use std::sync::{Arc, Weak};

/// A segment of the forward pass.
type Segment = dyn Fn(&[Tensor]) -> Tensor + Send + Sync;

/// Gradient checkpointing: runs `f` on `inputs` keeping none of its intermediate results, and
/// runs it again during backward to get them. Saves the memory of every activation inside `f`
/// at the cost of a second forward pass.
///
/// Gradients reach the inputs and everything `f` captures (a layer's weights, say), as
/// without checkpointing; `backward` may itself be recorded (`create_graph`) for second
/// derivatives, and forward mode passes through. `f` must compute the same thing both times
/// and record its operations on the calling thread. Its first run builds its graph once, to
/// find what it captured, and drops it before returning.
///
/// ```
/// use nabla_core::{Tensor, checkpoint};
/// let w = Tensor::from_vec(vec![2.0f64, -1.0], &[2]).requires_grad();
/// let x = Tensor::from_vec(vec![0.5f64, 1.5], &[2]).requires_grad();
/// let captured = w.clone();
/// let y = checkpoint(move |v| (&v[0] * &captured).sin().sum(), &[&x]).unwrap();
/// y.backward();
/// let (xs, ws) = ([0.5f64, 1.5], [2.0f64, -1.0]);
/// let dx: Vec<f64> = (0..2).map(|i| ws[i] * (xs[i] * ws[i]).cos()).collect();
/// let dw: Vec<f64> = (0..2).map(|i| xs[i] * (xs[i] * ws[i]).cos()).collect();
/// assert_eq!(x.grad().unwrap().to_vec::<f64>(), dx);
/// assert_eq!(w.grad().unwrap().to_vec::<f64>(), dw);
/// ```
pub fn checkpoint(
    f: impl Fn(&[Tensor]) -> Tensor + Send + Sync + 'static,
    inputs: &[&Tensor],
) -> Result<Tensor> {
    let f: Arc<Segment> = Arc::new(f);
    Ok(checkpoint_shared(&f, inputs))
}

fn checkpoint_shared(f: &Arc<Segment>, inputs: &[&Tensor]) -> Tensor {
    let originals: Vec<Tensor> = inputs.iter().map(|t| (*t).clone()).collect();
    if !is_grad_enabled() {
        return f(&originals);
    }
    let start = next_sequence_nr();
    let output = f(&originals);
    let Some(root) = output.grad_fn().filter(|n| n.recorded_since(start)) else {
        // Nothing was recorded inside: the output is an input, or a constant.
        return output;
    };
    // The node's edges lead where the segment's graph leaves it: the inputs' first, in order,
    // then every other tensor it captured. Captured leaves are saved, so that a change to one
    // before backward is refused, as for any saved tensor.
    let mut next: Few<Option<Edge>> = inputs.iter().map(|t| t.gradient_edge()).collect();
    let mut metas: Few<InputMeta> = inputs.iter().map(|t| InputMeta::of(t)).collect();
    let mut saved: Few<SavedTensor> = inputs.iter().map(|t| SavedTensor::input(t)).collect();
    let mut seen = HashSet::from([root.id()]);
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        for (edge, meta) in node.next_functions().iter().zip(&node.inputs) {
            let Some(edge) = edge else { continue };
            if edge.recorded_since(start) {
                if seen.insert(edge.id()) {
                    stack.push(edge.clone());
                }
            } else if !next.iter().flatten().any(|e| e.id() == edge.id()) {
                saved.extend(edge.variable().map(SavedTensor::input));
                next.push(Some(edge.clone()));
                metas.push(meta.clone());
            }
        }
    }
    let value = output.detach_keeping_tangent();
    drop(output);
    let rule = CheckpointBackward {
        f: f.clone(),
        inputs: inputs.len(),
        boundary: next
            .iter()
            .map(|e| e.as_ref().map(Arc::downgrade))
            .collect(),
    };
    let out = value.relinked(Node::with_edges(rule, next, metas, saved));
    if observe::is_active() {
        observe::forward("CheckpointBackward", inputs, &out);
    }
    out
}

/// Runs the segment again and differentiates it from its output back to the edges where its
/// graph leaves it.
struct CheckpointBackward {
    f: Arc<Segment>,
    /// How many of the saved tensors (first) are the inputs.
    inputs: usize,
    /// The node's own edges, held weakly (the node holds them): where backward stops.
    boundary: Vec<Option<Weak<Node>>>,
}

impl CheckpointBackward {
    /// Runs the segment again from the saved inputs, recorded, and takes `grad` back through
    /// it to the segment's inputs.
    fn gradients(&self, saved: &[Tensor], grad: Tensor, needs: &[bool]) -> Result<Gradients> {
        let create_graph = is_grad_enabled();
        let output = enable_grad(|| (self.f)(&saved[..self.inputs]));
        if output.shape() != grad.shape() || output.dtype() != grad.dtype() {
            return Err(Error::invalid(
                "checkpoint",
                format!(
                    "the segment run again in backward gave {:?} {}, the first run {:?} {}; it \
                     must compute the same thing every time",
                    output.shape(),
                    output.dtype(),
                    grad.shape(),
                    grad.dtype()
                ),
            ));
        }
        let mut gradients: Gradients = self.boundary.iter().map(|_| None).collect();
        if !output.requires_grad_flag() {
            return Ok(gradients);
        }
        // One slot per distinct edge: an input given twice gets its gradient once.
        let mut slots = Vec::new();
        let mut edges: Vec<Edge> = Vec::new();
        for (slot, edge) in self.boundary.iter().enumerate() {
            let Some(edge) = edge.as_ref().and_then(Weak::upgrade) else {
                continue;
            };
            if needs[slot] && !edges.iter().any(|e| e.id() == edge.id()) {
                slots.push(slot);
                edges.push(edge);
            }
        }
        let arrived = grad_to_boundary(&output, grad, &edges, create_graph)?;
        for (slot, g) in slots.into_iter().zip(arrived) {
            gradients[slot] = g;
        }
        Ok(gradients)
    }
}

impl Backward for CheckpointBackward {
    fn name(&self) -> &'static str {
        "CheckpointBackward"
    }

    fn formula(&self, inputs: usize, _: Option<&At>) -> Option<Formula> {
        let holes: Vec<String> = (0..inputs).map(|i| format!("{{{i}}}")).collect();
        let output = format!("checkpoint({})", holes.join(", "));
        let back = "{g} back through the segment, run again";
        let locals = (0..inputs)
            .map(|_| Local::map(back, Binding::Sum))
            .collect();
        Some(Formula::new(&output, Binding::Atom, "checkpoint", locals))
    }

    fn vjp(&self, saved: &[Tensor], grad: &Tensor, needs: &[bool]) -> Gradients {
        crate::ops::ok(self.gradients(saved, grad.clone(), needs))
    }

    fn try_vjp_owned(
        &self,
        saved: &mut [Tensor],
        grad: Tensor,
        needs: &[bool],
    ) -> Result<Gradients> {
        self.gradients(saved, grad, needs)
    }

    fn jvp(&self, saved: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        // Tensors the segment captured carry their own tangents.
        let duals = saved[..self.inputs]
            .iter()
            .zip(tangents)
            .map(|(x, t)| x.detach().try_with_tangent(t))
            .collect::<Result<Vec<_>>>()?;
        let output = super::forward::enabled(|| no_grad(|| (self.f)(&duals)));
        Ok(output.tangent().unwrap_or_else(|| output.zeros_like()))
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        let refs: Vec<&Tensor> = inputs.iter().collect();
        Some(Ok(checkpoint_shared(&self.f, &refs)))
    }
}
