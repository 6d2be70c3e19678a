//! Autograd overhead: a chain of multiplications on a one-element tensor, where the arithmetic is
//! negligible and the time is the cost of recording and replaying the graph.

use super::best_time;
use super::report::OverheadFigure;
use nabla_core::Tensor;
use std::time::Duration;

/// Time per op of a chain of `n` multiplications: forward only, and forward + backward.
pub fn overhead(n: usize) -> OverheadFigure {
    let forward = || {
        let x = Tensor::scalar(1.0f32).requires_grad();
        let mut y = x.clone();
        for _ in 0..n {
            y = &y * 1.0001;
        }
        (x, y)
    };
    let fwd = best_time(Duration::from_millis(500), || {
        forward();
    });
    let both = best_time(Duration::from_millis(500), || {
        let (_x, y) = forward();
        y.backward();
    });
    OverheadFigure {
        chain_length: n,
        ns_per_op: both / n as f64 * 1e9,
        forward_ns_per_op: fwd / n as f64 * 1e9,
    }
}
