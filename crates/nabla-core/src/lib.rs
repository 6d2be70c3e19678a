//! # nabla-core
//!
//! n-d tensors (`f32`, `f64`, `i64`) with NumPy broadcasting and cheap views, operations that
//! carry their own derivative rules, and a define-by-run reverse-mode autograd engine with
//! PyTorch's semantics: leaf `.grad` accumulates, `zero_grad`, `no_grad`, `detach`,
//! `retain_graph`, a walkable `grad_fn` chain, functional [`grad`], and [`gradcheck`].
//!
//! ```
//! use nabla_core::Tensor;
//! // L = (w·x + b − 5)² at x = 2, w = 3, b = 1.
//! let x = Tensor::scalar(2.0f64).requires_grad();
//! let w = Tensor::scalar(3.0f64).requires_grad();
//! let b = Tensor::scalar(1.0f64).requires_grad();
//! let loss = (&w * &x + &b - 5.0).powf(2.0);
//! loss.backward();
//! assert_eq!(loss.item::<f64>(), 4.0);
//! assert_eq!(x.grad().unwrap().item::<f64>(), 12.0);
//! assert_eq!(w.grad().unwrap().item::<f64>(), 8.0);
//! assert_eq!(b.grad().unwrap().item::<f64>(), 4.0);
//! ```

pub mod autograd;
mod display;
pub mod dtype;
pub mod error;
pub(crate) mod kernels;
pub mod limits;
mod live;
pub mod ops;
pub mod parallel;
mod pool;
pub mod random;
pub mod shape;
pub mod simd;
pub mod storage;
mod tensor;

pub use autograd::anomaly::{Anomaly, Magnitudes, Phase, detect_anomaly};
pub use autograd::checkpoint::checkpoint;
pub use autograd::engine::{BackwardOptions, GradOptions, grad, try_grad, try_grad_opts};
pub use autograd::forward::jvp;
pub use autograd::function::{Context, Function, apply_function, record_operation};
pub use autograd::functional::{JacobianMode, Pullback, hessian, hvp, jacobian, vjp};
pub use autograd::gradcheck::{
    GradcheckMismatch, GradcheckOptions, GradcheckOutcome, NodeCheck, check_nodes, gradcheck,
    gradgradcheck,
};
pub use autograd::node::{Backward, Gradients, Node};
pub use autograd::{GradModeGuard, enable_grad, is_grad_enabled, no_grad};
pub use dtype::{DType, Element, Float};
pub use error::{Error, Result};
pub use live::{LiveCounts, live_counts};
pub use parallel::{num_threads, set_num_threads};
pub use pool::set_buffer_pool_limit;
pub use random::{Generator, manual_seed};
pub use shape::Layout;
pub use tensor::Tensor;
