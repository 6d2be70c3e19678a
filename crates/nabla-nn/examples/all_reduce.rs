//! The cost of averaging gradients over MPI ranks, per training step, for the wide MLP
//! (784-1024-1024-10, 1.86 M parameters, f32): the bucketed all-reduce that
//! [`nabla_nn::train::fit`] runs before each update, timed on its own.
//!
//! ```text
//! cargo build --release --features mpi -p nabla-nn --example all_reduce
//! mpiexec -n 2 target/release/examples/all_reduce [STEPS]
//! ```
//!
//! Rank 0 prints the median, fastest and slowest step over STEPS (200 by default) after 20
//! untimed ones, and the same for one `all_reduce_f32` of a buffer of as many values (MPI alone,
//! without packing the gradients) and for a one-value all-reduce (the latency every step's small
//! sums pay).

use nabla_core::{DType, Generator};
use nabla_nn::layers::{Linear, ReLU};
use nabla_nn::module::{Module, Sequential};
use nabla_nn::train::{Communicator, Mpi, all_reduce_gradients};
use std::time::Instant;

const WARMUP: usize = 20;

fn main() -> nabla_nn::Result<()> {
    let comm = Mpi::init()?;
    let steps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let mut rng = Generator::new(0);
    let mut net = Sequential::new();
    net.push(Box::new(Linear::new(784, 1024, DType::F32, &mut rng)));
    net.push(Box::new(ReLU));
    net.push(Box::new(Linear::new(1024, 1024, DType::F32, &mut rng)));
    net.push(Box::new(ReLU));
    net.push(Box::new(Linear::new(1024, 10, DType::F32, &mut rng)));
    let params = net.named_parameters();
    let count: usize = params.iter().map(|(_, p)| p.numel()).sum();
    for (_, p) in &params {
        p.set_grad(Some(nabla_core::Tensor::ones(p.shape(), DType::F32)));
    }
    let gradients = time(&comm, steps, || {
        all_reduce_gradients(&comm, &params, 0.5)?;
        Ok(())
    })?;
    let mut flat = vec![1.0f32; count];
    let raw = time(&comm, steps, || comm.all_reduce_f32(&mut flat))?;
    let mut one = [1.0f64];
    let latency = time(&comm, steps, || comm.all_reduce_f64(&mut one))?;
    if comm.rank() == 0 {
        println!(
            "{} ranks, {count} parameters ({:.1} MB of f32 gradients)",
            comm.size(),
            count as f64 * 4.0 / 1e6
        );
        report("gradient all-reduce per step", &gradients);
        report("all-reduce of one buffer of as many f32", &raw);
        report("one-value all-reduce", &latency);
    }
    Ok(())
}

/// Seconds of each of `steps` calls of `f` (after untimed ones), every rank starting together.
fn time(
    comm: &Mpi,
    steps: usize,
    mut f: impl FnMut() -> nabla_nn::Result<()>,
) -> nabla_nn::Result<Vec<f64>> {
    let mut seconds = Vec::with_capacity(steps);
    for i in 0..WARMUP + steps {
        comm.barrier()?;
        let start = Instant::now();
        f()?;
        if i >= WARMUP {
            seconds.push(start.elapsed().as_secs_f64());
        }
    }
    seconds.sort_by(f64::total_cmp);
    Ok(seconds)
}

fn report(what: &str, sorted: &[f64]) {
    let ms = |s: f64| s * 1e3;
    println!(
        "{what}: median {:.3} ms, fastest {:.3} ms, slowest {:.3} ms",
        ms(sorted[sorted.len() / 2]),
        ms(sorted[0]),
        ms(sorted[sorted.len() - 1])
    );
}
