//! `nabla`: train networks, benchmark the engine, and look inside backpropagation.

mod allocator;
mod broken_pipe;
mod commands;
mod run_events;

use clap::{Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: allocator::MiMalloc = allocator::MiMalloc;

/// Computational graphs and backpropagation with the lid off.
#[derive(Parser)]
#[command(name = "nabla", version, about)]
struct Cli {
    /// Threads for large kernels, from 1 to 1024 (default: all cores; 0 is refused, as in
    /// PyTorch's set_num_threads).
    #[arg(long, global = true)]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a network (an MLP by default, or --layers) on MNIST (shipped in data/mnist), an
    /// IDX folder, a CSV table, an image folder or a toy set.
    Train(commands::train::TrainArgs),
    /// Measure autograd overhead and matmul throughput (use a release build).
    Bench(commands::bench::BenchArgs),
    /// Train several runs that differ in one setting and compare their curves.
    Compare(commands::compare::CompareArgs),
    /// Print each layer's output shape and parameter count, for a run folder or a --layers spec.
    Summary(commands::summary::SummaryArgs),
    /// Classify new inputs (image files, IDX files, CSV rows) with a trained run's model.
    Predict(commands::predict::PredictArgs),
    /// A trained run on labelled data (its test set by default): accuracy, precision and
    /// recall per class, the confusion matrix (confusion.svg) and misclassified images
    /// (mistakes.svg); MSE, MAE and R² for regression.
    Evaluate(commands::evaluate::EvaluateArgs),
    /// Differentiate an expression at a point: value, gradient, Hessian, chain rule, graph.
    Grad(commands::grad::GradArgs),
    /// Watch runs in the browser, live while they train: a local page (127.0.0.1 only) with
    /// their curves, histograms, gradient norms, graph and more.
    View(commands::view::ViewArgs),
}

/// What a command returns: an error becomes one line on stderr and exit status 1.
pub type CliResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn main() -> ExitCode {
    broken_pipe::end_quietly_on_a_closed_pipe();
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    // The settings given on `nabla train`'s command line, which `--resume` checks against the run.
    let given: Vec<String> = matches
        .subcommand_matches("train")
        .map(|m| {
            m.ids()
                .filter(|id| {
                    m.value_source(id.as_str()) == Some(clap::parser::ValueSource::CommandLine)
                })
                .map(|id| id.as_str().to_string())
                .collect()
        })
        .unwrap_or_default();
    let cli =
        <Cli as clap::FromArgMatches>::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let result = (|| -> CliResult {
        if let Some(threads) = cli.threads {
            nabla_core::set_num_threads(threads)
                .map_err(|e| format!("--threads {threads}: {e}"))?;
        }
        match cli.command {
            Command::Train(args) => commands::train::run(&args, &given),
            Command::Compare(args) => commands::compare::run(&args),
            Command::Bench(args) => commands::bench::run(&args),
            Command::Grad(args) => commands::grad::run(&args),
            Command::Summary(args) => commands::summary::run(&args),
            Command::Predict(args) => commands::predict::run(&args),
            Command::Evaluate(args) => commands::evaluate::run(&args),
            Command::View(args) => commands::view::run(&args),
        }
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One write of the whole line: under `mpiexec` several ranks share stderr, and
            // `eprintln!`'s separate writes of the prefix and the message interleave.
            let line = format!("error: {e}\n");
            let _ = std::io::stderr().write_all(line.as_bytes());
            ExitCode::FAILURE
        }
    }
}
