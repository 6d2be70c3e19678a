//! Differentiable operations. Each file holds a family of operations: their forward (calling a
//! kernel), their backward rule beside it, and the `Tensor` methods users call.

pub mod binary;
pub mod compare;
pub mod conv;
pub mod creation;
pub mod embedding;
pub mod index;
pub mod inplace;
pub mod linear;
pub mod lstm_sequence;
pub mod matmul;
pub mod pool;
pub mod recurrent;
pub mod reduce;
pub mod unary;
pub mod view;
pub mod window;

use crate::autograd::node::{Backward, Few, Node, SavedTensor};
use crate::autograd::{forward, is_grad_enabled, observe};
use crate::dtype::{DType, Float};
use crate::error::{Error, Result};
use crate::kernels::elementwise::fill_chunks;
use crate::tensor::Shared;
use crate::tensor::Tensor;

/// `match $value` with one arm per listed variant of `$enum`, each evaluating `$body` with `$op`
/// bound to a function that builds that arm's variant. A kernel closure that calls `$op()` holds
/// only the variant's fields; its discriminant is a constant in every arm's copy of the kernel, so
/// the per-element `match` inside the op's scalar function folds away and the loop vectorises (a
/// closure holding the enum value matches at run time on every element, ~10-20x slower).
/// Variants are listed by payload: none; one field; two fields.
macro_rules! per_variant {
    ($value:expr, $enum:ident, |$op:ident| $body:expr;
     $($plain:ident),*; $($one:ident),*; $($two:ident),*) => {
        match $value {
            $($enum::$plain => {
                let $op = || $enum::$plain;
                $body
            })*
            $($enum::$one(a) => {
                let $op = move || $enum::$one(a);
                $body
            })*
            $($enum::$two(a, b) => {
                let $op = move || $enum::$two(a, b);
                $body
            })*
        }
    };
}
pub(crate) use per_variant;

/// What an operation keeps for its backward rule.
pub enum Save<'a> {
    /// Input number `i`.
    Input(usize),
    /// The output itself.
    Output,
    /// Another tensor computed during the forward pass.
    Extra(&'a Tensor),
}

/// The tensors `save` keeps, taken from recorded forward values: how an elementwise rule
/// values its local derivative for [`Backward::formula`] with the very code its `vjp` runs.
/// `None` when a kept tensor is not among the values (a [`Save::Extra`]).
pub(crate) fn saved_at(save: &[Save], at: &crate::autograd::formula::At) -> Option<Vec<Tensor>> {
    save.iter()
        .map(|s| match s {
            Save::Input(i) => at.inputs.get(*i).cloned(),
            Save::Output => Some(at.output.clone()),
            Save::Extra(_) => None,
        })
        .collect()
}

/// Links `out` into the graph when recording is on and some input requires gradients, and
/// gives it a tangent (forward mode) when some input carries one.
pub(crate) fn record(
    mut out: Tensor,
    inputs: &[&Tensor],
    backward: impl Backward + 'static,
    save: &[Save],
) -> Tensor {
    let reverse = is_grad_enabled() && inputs.iter().any(|t| t.requires_grad_flag());
    let forward = inputs.iter().any(|t| t.0.tangent.is_some()) && forward::is_enabled();
    if forward {
        let tangent = forward::output_tangent(&out, inputs, &backward, save);
        match Shared::get_mut(&mut out.0) {
            Some(inner) => inner.tangent = tangent,
            None => out = out.rebuilt(None, tangent),
        }
    }
    if !reverse {
        if observe::is_active() {
            observe::forward(backward.name(), inputs, &out);
        }
        return out;
    }
    let mut saved = Few::with_capacity(save.len());
    for s in save {
        saved.push(match s {
            Save::Input(i) => SavedTensor::input(inputs[*i]),
            Save::Output => SavedTensor::output(&out),
            Save::Extra(t) => SavedTensor::input(t),
        });
    }
    let node = Node::new(backward, inputs, saved);
    let out = match Shared::get_mut(&mut out.0) {
        Some(inner) => {
            inner.grad_fn = Some(node);
            out
        }
        None => out.relinked(node),
    };
    if observe::is_active() {
        observe::forward(out.grad_fn().expect("just linked").name(), inputs, &out);
    }
    out
}

/// A partial derivative: a constant or a tensor. Both modes apply it the same way: reverse mode
/// multiplies the output's gradient by it, forward mode an input's tangent.
pub(crate) enum Factor {
    Constant(f64),
    Tensor(Tensor),
}

impl Factor {
    /// `t · factor`, skipping the multiplication by one.
    pub(crate) fn times(&self, t: &Tensor) -> Tensor {
        match self {
            Factor::Constant(1.0) => t.clone(),
            Factor::Constant(c) => t * *c,
            Factor::Tensor(d) => t * d,
        }
    }

    /// [`Factor::times`] on a tensor given to keep: scaled where it lies when nothing else can
    /// see it, instead of in a new tensor.
    pub(crate) fn times_owned(&self, mut t: Tensor) -> Tensor {
        if let Factor::Constant(1.0) = self {
            return t;
        }
        if let Factor::Constant(c) = *self {
            let scaled = match t.dtype() {
                DType::F32 => t.update_private(|v: &mut [f32]| scale(v, c as f32)),
                DType::F64 => t.update_private(|v: &mut [f64]| scale(v, c)),
                DType::I64 => false,
            };
            if scaled {
                return t;
            }
        }
        self.times(&t)
    }
}

/// `v *= c`, in parallel for long vectors.
fn scale<T: Float>(v: &mut [T], c: T) {
    fill_chunks(v, |_, chunk| chunk.iter_mut().for_each(|x| *x = *x * c));
}

/// Unwraps a result, panicking with the error's message at the caller's location (a `match`,
/// not `unwrap_or_else`: a panic inside a closure would report the closure's line).
#[track_caller]
pub(crate) fn ok<T>(result: Result<T>) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{e}"),
    }
}

/// An error naming `op` unless `others` share the input's dtype, which is a float type.
pub(crate) fn check_dtypes(op: &'static str, x: &Tensor, others: &[&Tensor]) -> Result<()> {
    x.check_float(op)?;
    for t in others {
        if t.dtype() != x.dtype() {
            return Err(Error::DTypeMismatch {
                op,
                lhs: x.dtype(),
                rhs: t.dtype(),
            });
        }
    }
    Ok(())
}
