//! Forward mode. A tensor may carry a tangent; every operation then computes its output's
//! tangent with its JVP rule as it runs (dual numbers, one direction at a time), and no reverse
//! graph is needed. Tangents of tangents are not tracked: rules run with forward mode paused.

use super::node::Backward;
use crate::error::{Error, Result};
use crate::ops::Save;
use crate::tensor::Tensor;
use std::cell::{Cell, RefCell};

thread_local! {
    static ENABLED: Cell<bool> = const { Cell::new(true) };
    /// The first operation on this thread that met a tangent but has no JVP rule.
    static FAILURE: RefCell<Option<Error>> = const { RefCell::new(None) };
}

pub(crate) fn is_enabled() -> bool {
    ENABLED.with(Cell::get)
}

/// Runs `f` with forward mode on, also inside a rule (where it is paused): for a rule that
/// computes its tangent by running operations forward.
pub(crate) fn enabled<R>(f: impl FnOnce() -> R) -> R {
    let previous = ENABLED.with(|e| e.replace(true));
    let result = f();
    ENABLED.with(|e| e.set(previous));
    result
}

/// The tangent of `out`, from the tangents of `inputs` by the operation's rule.
pub(crate) fn output_tangent(
    out: &Tensor,
    inputs: &[&Tensor],
    rule: &dyn Backward,
    save: &[Save],
) -> Option<Tensor> {
    let previous = ENABLED.with(|e| e.replace(false));
    let saved: Vec<Tensor> = save
        .iter()
        .map(|s| match s {
            Save::Input(i) => inputs[*i].clone(),
            Save::Output => out.detach(),
            Save::Extra(t) => (*t).clone(),
        })
        .collect();
    let tangents: Vec<Tensor> = inputs
        .iter()
        .map(|t| t.tangent().unwrap_or_else(|| t.zeros_like()))
        .collect();
    let tangent = rule.jvp(&saved, &tangents).and_then(|t| {
        if t.shape() == out.shape() {
            Ok(t)
        } else {
            t.try_expand(out.shape())?.try_contiguous()
        }
    });
    ENABLED.with(|e| e.set(previous));
    match tangent {
        Ok(t) => Some(t.detach()),
        Err(e) => {
            FAILURE.with(|f| f.borrow_mut().get_or_insert(e).clone());
            None
        }
    }
}

/// Takes the failure recorded since the last call, if any.
pub(crate) fn take_failure() -> Option<Error> {
    FAILURE.with(|f| f.borrow_mut().take())
}

/// Runs `f` at `primals` with `tangents` attached: returns `f`'s output and its directional
/// derivative `J·v` (forward mode; no reverse graph is built).
///
/// ```
/// use nabla_core::{Tensor, jvp};
/// let x = Tensor::from_vec(vec![1.0f64, 2.0], &[2]);
/// let v = Tensor::from_vec(vec![1.0f64, 0.0], &[2]);
/// let (y, dy) = jvp(|x| (&x[0] * &x[0]).sum(), &[x], &[v]).unwrap();
/// assert_eq!((y.item::<f64>(), dy.item::<f64>()), (5.0, 2.0));
/// ```
pub fn jvp(
    f: impl Fn(&[Tensor]) -> Tensor,
    primals: &[Tensor],
    tangents: &[Tensor],
) -> Result<(Tensor, Tensor)> {
    if primals.len() != tangents.len() {
        return Err(Error::invalid(
            "jvp",
            format!("{} primals but {} tangents", primals.len(), tangents.len()),
        ));
    }
    let duals = primals
        .iter()
        .zip(tangents)
        .map(|(p, t)| p.detach().try_with_tangent(t))
        .collect::<Result<Vec<_>>>()?;
    take_failure();
    let out = super::no_grad(|| f(&duals));
    if let Some(e) = take_failure() {
        return Err(e);
    }
    let tangent = out.tangent().unwrap_or_else(|| out.zeros_like());
    Ok((out.detach(), tangent))
}
