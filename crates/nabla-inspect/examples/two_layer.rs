//! The chain rule of a two-layer network with softmax-with-loss, the textbook's chapter 5 in
//! tensors: `x [2, 3] → Linear(3, 4) → ReLU → Linear(4, 3) → cross-entropy` against targets
//! `[2, 0]`, with the weights of `tools/pytorch_reference/explain_two_layer.py` (whose float64
//! numbers the explain tests pin). Prints the explanation, each linear un-fused into the
//! Affine layer's matrix product and bias, and draws the graph left to right.
//!
//! Run with `cargo run -p nabla-inspect --example two_layer [-- OUT.svg]` (default
//! `two_layer_graph.svg`).

use nabla_core::Tensor;
use nabla_inspect::{ExplainOptions, Graph, GraphOptions, RankDir, Trace, explanation};

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "two_layer_graph.svg".into());
    let x = Tensor::from_vec(vec![1.0f64, -2.0, 0.5, 3.0, 0.1, -1.0], &[2, 3]);
    let wave = |f: fn(f64) -> f64, k: f64| (0..12).map(|i| f(i as f64 * k) * 0.5).collect();
    let w1 = Tensor::from_vec(wave(f64::sin, 0.37), &[4, 3]).requires_grad();
    let b1 = Tensor::from_vec(vec![0.1f64, -0.1, 0.0, 0.2], &[4]).requires_grad();
    let w2 = Tensor::from_vec(wave(f64::cos, 0.71), &[3, 4]).requires_grad();
    let b2 = Tensor::from_vec(vec![0.0f64, 0.1, -0.1], &[3]).requires_grad();
    let t = Tensor::from_vec(vec![2i64, 0], &[2]);
    let trace = Trace::new()
        .with_name(&x, "x")
        .with_name(&w1, "W1")
        .with_name(&b1, "b1")
        .with_name(&w2, "W2")
        .with_name(&b2, "b2")
        .with_name(&t, "t");
    let (loss, trace) = trace.record(|| {
        let h = x.linear(&w1, Some(&b1)).relu();
        let z = h.linear(&w2, Some(&b2));
        let loss = nabla_nn::loss::cross_entropy(&z, &t);
        loss.backward();
        loss
    });
    let options = ExplainOptions {
        unfused_linear: true,
        ..ExplainOptions::default()
    };
    match explanation(&trace, options) {
        Ok(steps) => print!("{steps}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
    let graph = Graph::of(
        &loss,
        &trace,
        GraphOptions {
            rankdir: RankDir::LeftRight,
            ..GraphOptions::default()
        },
    );
    if let Err(e) = std::fs::write(&out, graph.to_svg()) {
        eprintln!("error: cannot write {out}: {e}");
        std::process::exit(1);
    }
    eprintln!("wrote {out}");
}
