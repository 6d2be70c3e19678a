//! One LSTM and one GRU step's gate nonlinearities at batch 128, hidden size 128, f32 (the
//! row-by-row MNIST model's cell): the fused `lstm_cell` and `gru_cell` against the same step
//! composed from elementwise operations, forward alone and forward plus backward, best of 20
//! rounds of 100; then the whole 28-step sequence of that model's LSTM layer in one
//! `lstm_sequence`, from a zero initial state as `nn::LSTM` starts, best of 20 rounds of 10.
//! `cargo bench -p nabla-core --bench recurrent [-- THREADS]` (all cores by default).

use nabla_core::{DType, Generator, Tensor, no_grad};
use std::time::Instant;

fn time(name: &str, f: impl Fn()) {
    time_rounds(name, 100, f);
}

/// The best of 20 rounds of `calls` calls of `f`, per call.
fn time_rounds(name: &str, calls: usize, f: impl Fn()) {
    f();
    let best = (0..20)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..calls {
                f();
            }
            start.elapsed().as_secs_f64() / calls as f64
        })
        .fold(f64::INFINITY, f64::min);
    println!("{name:>34}: {:8.1} µs", best * 1e6);
}

/// The LSTM step from elementwise operations: `[h' | c']`.
fn composed_lstm(v: &[Tensor]) -> Tensor {
    let h = v[2].shape()[1];
    let gates = &v[0] + &v[1];
    let gate = |k: usize| gates.narrow(1, k * h, h);
    let (i, f, g, o) = (
        gate(0).sigmoid(),
        gate(1).sigmoid(),
        gate(2).tanh(),
        gate(3).sigmoid(),
    );
    let c = &f * &v[2] + &i * &g;
    Tensor::cat(&[&(&o * &c.tanh()), &c], 1)
}

/// The GRU step from elementwise operations: `h'`.
fn composed_gru(v: &[Tensor]) -> Tensor {
    let h = v[2].shape()[1];
    let (x, hg) = (
        |k: usize| v[0].narrow(1, k * h, h),
        |k: usize| v[1].narrow(1, k * h, h),
    );
    let r = (x(0) + hg(0)).sigmoid();
    let z = (x(1) + hg(1)).sigmoid();
    let n = (x(2) + &r * &hg(2)).tanh();
    &n + &z * &(&v[2] - &n)
}

/// Times `step` on `inputs` without the graph, and forward plus backward with it.
fn forward_and_backward(name: &str, inputs: &[Tensor], step: impl Fn(&[Tensor]) -> Tensor) {
    time(&format!("{name} forward"), || {
        no_grad(|| step(inputs));
    });
    let leaves: Vec<Tensor> = inputs.iter().map(|t| t.detach().requires_grad()).collect();
    let refs: Vec<&Tensor> = leaves.iter().collect();
    let seed = no_grad(|| step(inputs)).ones_like();
    time(&format!("{name} forward+backward"), || {
        let y = step(&leaves);
        let _ = nabla_core::try_grad(&[&y], Some(&[&seed]), &refs, Default::default());
    });
}

fn main() {
    // `cargo bench` passes `--bench` before the arguments given after `--`.
    if let Some(threads) = std::env::args().skip(1).find_map(|a| a.parse().ok()) {
        nabla_core::set_num_threads(threads).expect("a thread count from 1 up");
    }
    println!("threads: {}", nabla_core::num_threads());
    let mut rng = Generator::new(0);
    let mut randn = |shape: &[usize]| Tensor::randn_with(shape, DType::F32, &mut rng);
    let (n, h) = (128, 128);
    let lstm = [randn(&[n, 4 * h]), randn(&[n, 4 * h]), randn(&[n, h])];
    forward_and_backward("lstm_cell", &lstm, |v| v[0].lstm_cell(&v[1], &v[2]));
    forward_and_backward("lstm composed", &lstm, composed_lstm);
    let gru = [randn(&[n, 3 * h]), randn(&[n, 3 * h]), randn(&[n, h])];
    forward_and_backward("gru_cell", &gru, |v| v[0].gru_cell(&v[1], &v[2]));
    forward_and_backward("gru composed", &gru, composed_gru);
    // The MNIST-by-rows layer: 28 steps of 28 inputs, with a bias.
    let (steps, inputs) = (28, 28);
    let x = randn(&[steps, n, inputs]);
    let w_ih = (randn(&[4 * h, inputs]) * 0.2).detach();
    let w_hh = (randn(&[4 * h, h]) * 0.09).detach();
    let b = randn(&[4 * h]).detach();
    let zero = Tensor::zeros(&[n, h], DType::F32);
    let run = |w_ih: &Tensor, w_hh: &Tensor, b: &Tensor| {
        x.lstm_sequence(w_ih, w_hh, Some(b), &zero, &zero, false)
    };
    time_rounds("lstm_sequence T=28 forward", 10, || {
        no_grad(|| run(&w_ih, &w_hh, &b));
    });
    let weights = [w_ih, w_hh, b].map(|w| w.requires_grad());
    let seed = no_grad(|| run(&weights[0], &weights[1], &weights[2])).ones_like();
    time_rounds("lstm_sequence T=28 forward+backward", 10, || {
        let y = run(&weights[0], &weights[1], &weights[2]);
        let leaves: Vec<&Tensor> = weights.iter().collect();
        let _ = nabla_core::try_grad(&[&y], Some(&[&seed]), &leaves, Default::default());
    });
}
