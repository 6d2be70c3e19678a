//! Reverse-mode automatic differentiation: graph nodes, the engine that walks them, gradient
//! recording modes, the functional `grad`, and numerical gradient checks.

pub mod anomaly;
pub mod checkpoint;
pub mod engine;
pub mod formula;
pub mod forward;
pub mod function;
pub mod functional;
pub mod gradcheck;
pub mod node;
pub mod observe;
pub mod rules;

use std::cell::Cell;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether operations on this thread are recorded for backward.
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(Cell::get)
}

/// Restores the previous recording mode when dropped.
pub struct GradModeGuard {
    previous: bool,
}

impl GradModeGuard {
    /// Switches recording on or off until the guard is dropped.
    pub fn new(enabled: bool) -> Self {
        let previous = GRAD_ENABLED.with(|g| g.replace(enabled));
        GradModeGuard { previous }
    }
}

impl Drop for GradModeGuard {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|g| g.set(self.previous));
    }
}

/// Runs `f` without recording operations (PyTorch's `torch.no_grad()`).
///
/// ```
/// use nabla_core::{no_grad, Tensor};
/// let w = Tensor::scalar(1.0f64).requires_grad();
/// let y = no_grad(|| &w * 2.0);
/// assert!(y.grad_fn().is_none());
/// ```
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = GradModeGuard::new(false);
    f()
}

/// Runs `f` with recording switched on, even inside `no_grad`.
pub fn enable_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = GradModeGuard::new(true);
    f()
}
