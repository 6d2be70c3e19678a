//! `nabla bench`: per-op autograd overhead and f32 matmul throughput, printed as a table and as
//! JSON. Each figure is the best of several timed repetitions after a warm-up.

use crate::CliResult;
use clap::Args;
use nabla_core::{DType, Generator, Tensor, no_grad};
use serde::Serialize;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct BenchArgs {
    /// Matrix sizes for the matmul benchmark.
    #[arg(long, value_delimiter = ',', default_values_t = [128, 256, 512, 1024, 2048])]
    sizes: Vec<usize>,
    /// Length of the op chain for the overhead benchmark.
    #[arg(long, default_value_t = 10_000)]
    chain: usize,
    /// Print only the JSON line.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct MatmulFigure {
    n: usize,
    seconds: f64,
    gflops: f64,
}

#[derive(Serialize)]
struct Report {
    threads: usize,
    chain_length: usize,
    overhead_ns_per_op: f64,
    forward_ns_per_op: f64,
    matmul_f32: Vec<MatmulFigure>,
}

/// Best time of `f` over repetitions lasting about `budget` in total (at least 3 runs).
fn best_time(budget: Duration, mut f: impl FnMut()) -> f64 {
    f();
    let start = Instant::now();
    let mut best = f64::INFINITY;
    let mut runs = 0;
    while runs < 3 || start.elapsed() < budget {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
        runs += 1;
    }
    best
}

/// A chain of `n` multiplications on a one-element tensor: forward only, and forward + backward.
fn overhead(n: usize) -> (f64, f64) {
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
    (both / n as f64 * 1e9, fwd / n as f64 * 1e9)
}

fn matmul(n: usize) -> MatmulFigure {
    let mut generator = Generator::new(0);
    let a = Tensor::randn_with(&[n, n], DType::F32, &mut generator);
    let b = Tensor::randn_with(&[n, n], DType::F32, &mut generator);
    let seconds = best_time(Duration::from_millis(700), || {
        no_grad(|| a.matmul(&b));
    });
    MatmulFigure {
        n,
        seconds,
        gflops: 2.0 * (n as f64).powi(3) / seconds / 1e9,
    }
}

pub fn run(args: &BenchArgs) -> CliResult {
    let (overhead_ns_per_op, forward_ns_per_op) = overhead(args.chain);
    let report = Report {
        threads: nabla_core::num_threads(),
        chain_length: args.chain,
        overhead_ns_per_op,
        forward_ns_per_op,
        matmul_f32: args.sizes.iter().map(|&n| matmul(n)).collect(),
    };
    if !args.json {
        println!("threads: {}", report.threads);
        println!(
            "autograd overhead, {}-op chain on a 1-element tensor: {:.0} ns/op forward + backward ({:.0} ns/op forward only)",
            report.chain_length, report.overhead_ns_per_op, report.forward_ns_per_op
        );
        println!("{:>6} {:>12} {:>10}", "n", "time (ms)", "GFLOP/s");
        for m in &report.matmul_f32 {
            println!("{:>6} {:>12.3} {:>10.1}", m.n, m.seconds * 1e3, m.gflops);
        }
    }
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
