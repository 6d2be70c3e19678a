//! Elementwise throughput: common maps over one f32 tensor of 2²⁰ elements outside the graph,
//! in time per call. The cheap ones (relu, clamp, add) are bound by memory; the others (exp, log,
//! tanh, sigmoid, GELU) by arithmetic, which is where vectorised approximations tell.

use super::best_time;
use super::report::ElementwiseFigure;
use nabla_core::{DType, Generator, Tensor, no_grad};
use std::time::Duration;

/// Elements per tensor: 4 MiB of f32, past the per-core caches.
const NUMEL: usize = 1 << 20;

/// An op of the workload, called with the input and a second operand (used by `add` only).
type Op = fn(&Tensor, &Tensor) -> Tensor;

/// Each op's name (as in `benches/peer_pytorch.py`) and its call.
const OPS: [(&str, Op); 9] = [
    ("relu", |x, _| x.relu()),
    ("clamp", |x, _| x.clamp(-1.0, 1.0)),
    ("add", |x, y| x + y),
    ("square", |x, _| x.powf(2.0)),
    ("exp", |x, _| x.exp()),
    ("log", |x, _| x.log()),
    ("tanh", |x, _| x.tanh()),
    ("sigmoid", |x, _| x.sigmoid()),
    ("gelu", |x, _| x.gelu()),
];

/// The best time of every op on standard normal inputs (positive ones for log).
pub fn elementwise() -> Vec<ElementwiseFigure> {
    let mut generator = Generator::new(0);
    let x = Tensor::randn_with(&[NUMEL], DType::F32, &mut generator);
    let y = Tensor::randn_with(&[NUMEL], DType::F32, &mut generator);
    let positive = x.abs();
    OPS.iter()
        .map(|&(op, call)| {
            let input = if op == "log" { &positive } else { &x };
            let seconds = best_time(Duration::from_millis(200), || {
                no_grad(|| call(input, &y));
            });
            ElementwiseFigure {
                op: op.to_string(),
                numel: NUMEL,
                microseconds: seconds * 1e6,
            }
        })
        .collect()
}
