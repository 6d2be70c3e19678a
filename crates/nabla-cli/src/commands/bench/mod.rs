//! `nabla bench`: the engine's speed on fixed workloads (MNIST training runs of an MLP, a CNN and
//! recurrent networks, per-op autograd overhead, f32 matmul, elementwise and conv2d throughput) and the machine's FMA peak they are measured against, printed
//! as a table and as one JSON object. `benches/peer_pytorch.py` runs the same workloads in
//! PyTorch and prints the same keys.
//!
//! With several workloads selected, each runs in a fresh child process of this binary, so each
//! peak-memory figure belongs to its workload alone.

mod cnn;
mod conv;
mod elementwise;
mod matmul;
mod memory;
mod mlp;
mod overhead;
mod peak;
mod report;

use crate::CliResult;
use clap::{Args, ValueEnum};
use nabla_nn::models;
use report::Report;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// One measurement `nabla bench` can run.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Workload {
    /// MLP 784-100-10, SGD, batch 100: seconds per MNIST epoch.
    MnistMlp,
    /// MLP 784-1024-1024-10, Adam, batch 128: training samples per second.
    WideMlp,
    /// A chain of elementwise ops on a 1-element tensor: time per op.
    Overhead,
    /// Square f32 matrix products: GFLOP/s.
    Matmul,
    /// Common elementwise ops over 2²⁰ f32 elements: time per call.
    Elementwise,
    /// One conv2d layer's forward and backward at three layer shapes: GFLOP/s.
    Conv,
    /// A register-only FMA loop: the machine's f32 peak, one thread and all threads.
    Peak,
    /// The CNN of `nabla train --model cnn`, Adam, batch 128: training samples per second.
    Cnn,
    /// The row-by-row LSTM of `nabla train --model lstm`, Adam, batch 128: training samples
    /// per second.
    Lstm,
    /// The same with a GRU (`--model gru`).
    Gru,
    /// The same with a plain tanh RNN (`--model rnn`).
    Rnn,
}

#[derive(Args)]
pub struct BenchArgs {
    /// Workloads to run; several run one after the other, each in a fresh process.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [
        Workload::MnistMlp, Workload::WideMlp, Workload::Overhead, Workload::Matmul,
        Workload::Elementwise, Workload::Conv, Workload::Cnn, Workload::Lstm, Workload::Gru,
        Workload::Rnn, Workload::Peak,
    ])]
    workloads: Vec<Workload>,
    /// Matrix sizes for the matmul workload.
    #[arg(long, value_delimiter = ',', default_values_t = [128, 512, 1024, 2048])]
    sizes: Vec<usize>,
    /// Length of the op chain for the overhead workload.
    #[arg(long, default_value_t = 10_000)]
    chain: usize,
    /// Folder with the MNIST IDX files for the training workloads.
    #[arg(long, default_value = "data/mnist")]
    data: PathBuf,
    /// Print only the JSON line.
    #[arg(long)]
    json: bool,
}

/// Best time of `f` over repetitions lasting about `budget` in total (at least 3 runs), after
/// one untimed warm-up run.
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

/// Runs one workload in this process.
fn run_here(args: &BenchArgs, workload: Workload) -> CliResult<Report> {
    let mut report = Report::new();
    match workload {
        Workload::MnistMlp => report.mnist_mlp = Some(mlp::mnist_mlp(&args.data)?),
        Workload::WideMlp => report.wide_mlp = Some(mlp::wide_mlp(&args.data)?),
        Workload::Overhead => report.overhead = Some(overhead::overhead(args.chain)),
        Workload::Matmul => {
            report.matmul_f32 = Some(args.sizes.iter().map(|&n| matmul::matmul(n)).collect())
        }
        Workload::Elementwise => report.elementwise_f32 = Some(elementwise::elementwise()),
        Workload::Conv => report.conv2d_f32 = Some(conv::conv()),
        Workload::Peak => report.fma_peak = Some(peak::fma_peak()),
        Workload::Cnn => report.cnn = Some(cnn::cnn(&args.data)?),
        Workload::Lstm => report.lstm = Some(mlp::image_model(&args.data, &models::lstm())?),
        Workload::Gru => report.gru = Some(mlp::image_model(&args.data, &models::gru())?),
        Workload::Rnn => report.rnn = Some(mlp::image_model(&args.data, &models::rnn())?),
    }
    Ok(report)
}

/// Runs one workload in a child process of this binary and reads back its JSON line.
fn run_child(args: &BenchArgs, workload: Workload) -> CliResult<Report> {
    let name = workload
        .to_possible_value()
        .expect("every workload has a command-line name")
        .get_name()
        .to_string();
    let join = |v: &[usize]| v.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
    let output = Command::new(std::env::current_exe()?)
        .args(["--threads", &nabla_core::num_threads().to_string()])
        .args(["bench", "--json", "--workloads", &name])
        .args(["--sizes", &join(&args.sizes)])
        .args(["--chain", &args.chain.to_string()])
        .arg("--data")
        .arg(&args.data)
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "bench workload {name} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .last()
        .ok_or_else(|| format!("bench workload {name} printed nothing"))?;
    serde_json::from_str(line)
        .map_err(|e| format!("bench workload {name} printed unreadable JSON ({e}): {line}").into())
}

pub fn run(args: &BenchArgs) -> CliResult {
    let mut workloads = args.workloads.clone();
    let mut seen = Vec::new();
    workloads.retain(|w| {
        let first = !seen.contains(w);
        seen.push(*w);
        first
    });
    let mut report = match workloads.as_slice() {
        [only] => run_here(args, *only)?,
        several => {
            let mut report = Report::new();
            for &workload in several {
                report.merge(run_child(args, workload)?);
            }
            report
        }
    };
    report.relate_matmul_to_peak();
    report.relate_cnn_to_peak(cnn::FLOP_PER_SAMPLE);
    if !args.json {
        report.print_table();
    }
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
