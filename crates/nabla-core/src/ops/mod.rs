//! Differentiable operations. Each file holds a family of operations: their forward (calling a
//! kernel), their backward rule beside it, and the `Tensor` methods users call.

pub mod binary;
pub mod compare;
pub mod creation;
pub mod index;
pub mod inplace;
pub mod matmul;
pub mod reduce;
pub mod unary;
pub mod view;

use crate::autograd::is_grad_enabled;
use crate::autograd::node::{Backward, Node, SavedTensor};
use crate::error::Result;
use crate::tensor::Tensor;
use std::sync::Arc;

/// What an operation keeps for its backward rule.
pub(crate) enum Save<'a> {
    /// Input number `i`.
    Input(usize),
    /// The output itself.
    Output,
    /// Another tensor computed during the forward pass.
    Extra(&'a Tensor),
}

/// Links `out` into the graph when recording is on and some input requires gradients.
pub(crate) fn record(
    mut out: Tensor,
    inputs: &[&Tensor],
    backward: impl Backward + 'static,
    save: &[Save],
) -> Tensor {
    if !is_grad_enabled() || !inputs.iter().any(|t| t.requires_grad_flag()) {
        return out;
    }
    let saved = save
        .iter()
        .map(|s| match s {
            Save::Input(i) => SavedTensor::input(inputs[*i]),
            Save::Output => SavedTensor::output(&out),
            Save::Extra(t) => SavedTensor::input(t),
        })
        .collect();
    let node = Node::new(Box::new(backward), inputs, saved);
    match Arc::get_mut(&mut out.0) {
        Some(inner) => {
            inner.grad_fn = Some(node);
            out
        }
        None => out.relinked(node),
    }
}

/// Unwraps a result, panicking with the error's message at the caller's location.
#[track_caller]
pub(crate) fn ok<T>(result: Result<T>) -> T {
    result.unwrap_or_else(|e| panic!("{e}"))
}
