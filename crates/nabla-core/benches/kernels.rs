//! Elementwise, broadcast and reduction kernels on a 1000 × 1000 f32 tensor: best of 20 runs.
//! `cargo bench -p nabla-core --bench kernels`. Each line is what one operation costs without
//! autograd; compare with memory bandwidth (8 MB read + 4 MB written per binary op).

use nabla_core::{DType, Generator, Tensor, no_grad};
use std::time::Instant;

fn time(name: &str, f: impl Fn() -> Tensor) {
    f();
    let best = (0..20)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);
    println!("{name:>22}: {:8.3} ms", best * 1e3);
}

fn main() {
    let mut rng = Generator::new(0);
    let a = Tensor::randn_with(&[1000, 1000], DType::F32, &mut rng);
    let b = Tensor::randn_with(&[1000, 1000], DType::F32, &mut rng);
    let row = Tensor::randn_with(&[1000], DType::F32, &mut rng);
    let column = Tensor::randn_with(&[1000, 1], DType::F32, &mut rng);
    println!("threads: {}", nabla_core::num_threads());
    no_grad(|| {
        time("exp", || a.exp());
        time("relu", || a.relu());
        time("tanh", || a.tanh());
        time("x * 2", || &a * 2.0);
        time("a + b", || &a + &b);
        time("a + row", || &a + &row);
        time("a - column", || &a - &column);
        time("x > 0", || a.gt_scalar(0.0));
        time("sum over dim 0", || a.sum_dims(&[0], false));
        time("sum over dim 1", || a.sum_dims(&[1], false));
        time("sum", || a.sum());
        time("max over dim 1", || a.max_dims(&[1], false));
        time("transpose copy", || a.t().contiguous());
        time("broadcast copy", || row.expand(&[1000, 1000]).contiguous());
        time("softmax over dim 1", || a.softmax(1));
    });
}
