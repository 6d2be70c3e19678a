//! Operations defined outside this crate: a layer library's fused kernels or a user's own
//! function join the graph through [`record_operation`] with a [`Backward`] rule of their own.

use super::node::Backward;
use crate::ops::{Save, record};
use crate::tensor::Tensor;

/// Links `output`, computed from `inputs` outside the graph, into it: backward will call
/// `backward.vjp` with `saved` (in this order) and the output's gradient. Does nothing when no
/// input requires gradients or recording is off.
///
/// ```
/// use nabla_core::{Backward, Tensor, no_grad, record_operation};
/// // y = 3x, with its rule written by hand.
/// struct Triple;
/// impl Backward for Triple {
///     fn name(&self) -> &'static str { "TripleBackward" }
///     fn vjp(&self, _: &[Tensor], g: &Tensor, _: &[bool]) -> Vec<Option<Tensor>> {
///         vec![Some(g * 3.0)]
///     }
/// }
/// let x = Tensor::scalar(2.0f64).requires_grad();
/// let y = record_operation(no_grad(|| &x * 3.0), &[&x], Triple, &[]);
/// y.backward();
/// assert_eq!(y.grad_fn().unwrap().name(), "TripleBackward");
/// assert_eq!(x.grad().unwrap().item::<f64>(), 3.0);
/// ```
pub fn record_operation(
    output: Tensor,
    inputs: &[&Tensor],
    backward: impl Backward + 'static,
    saved: &[&Tensor],
) -> Tensor {
    let save: Vec<Save> = saved.iter().map(|t| Save::Extra(t)).collect();
    record(output.detach(), inputs, backward, &save)
}
