//! Pooling on the activations of a small CNN's training step: best of 20 runs of the forward
//! pass alone and of forward plus backward. `cargo bench -p nabla-core --bench pool [-- THREADS]`
//! (all cores by default).

use nabla_core::ops::window::PoolOptions;
use nabla_core::{DType, Generator, Tensor, no_grad};
use std::time::Instant;

fn time(name: &str, f: impl Fn()) {
    f();
    let best = (0..20)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);
    println!("{name:>44}: {:8.3} ms", best * 1e3);
}

/// Times `pool` on `x` without the graph, and forward plus backward with it.
fn forward_and_backward(name: &str, x: &Tensor, pool: impl Fn(&Tensor) -> Tensor) {
    time(&format!("{name} forward"), || {
        no_grad(|| pool(x));
    });
    let leaf = x.detach().requires_grad();
    let seed = no_grad(|| pool(x)).ones_like();
    time(&format!("{name} forward+backward"), || {
        let y = pool(&leaf);
        let _ = nabla_core::try_grad(&[&y], Some(&[&seed]), &[&leaf], Default::default());
    });
}

fn main() {
    // `cargo bench` passes `--bench` before the arguments given after `--`.
    if let Some(threads) = std::env::args().skip(1).find_map(|a| a.parse().ok()) {
        nabla_core::set_num_threads(threads).expect("a thread count from 1 up");
    }
    let mut rng = Generator::new(0);
    let first = Tensor::randn_with(&[128, 32, 26, 26], DType::F32, &mut rng);
    let second = Tensor::randn_with(&[128, 64, 11, 11], DType::F32, &mut rng);
    println!("threads: {}", nabla_core::num_threads());
    let two = PoolOptions::new([2, 2]);
    forward_and_backward("max_pool2d 2x2 [128, 32, 26, 26]", &first, |x| {
        x.max_pool2d(&two)
    });
    forward_and_backward("max_pool2d 2x2 [128, 64, 11, 11]", &second, |x| {
        x.max_pool2d(&two)
    });
    let overlapping = PoolOptions {
        stride: [2, 2],
        padding: [1, 1],
        ..PoolOptions::new([3, 3])
    };
    forward_and_backward("max_pool2d 3x3/2 pad 1 [128, 32, 26, 26]", &first, |x| {
        x.max_pool2d(&overlapping)
    });
    forward_and_backward("avg_pool2d 2x2 [128, 32, 26, 26]", &first, |x| {
        x.avg_pool2d(&two)
    });
    forward_and_backward("adaptive_avg_pool2d 1x1 [128, 64, 11, 11]", &second, |x| {
        x.adaptive_avg_pool2d([1, 1])
    });
}
