//! `nabla`: train networks, benchmark the engine, and look inside backpropagation.

mod commands;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Computational graphs and backpropagation with the lid off.
#[derive(Parser)]
#[command(name = "nabla", version, about)]
struct Cli {
    /// Threads for large kernels (default: all cores).
    #[arg(long, global = true)]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Measure autograd overhead and matmul throughput (use a release build).
    Bench(commands::bench::BenchArgs),
}

/// What a command returns: an error becomes one line on stderr and exit status 1.
pub type CliResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = (|| -> CliResult {
        if let Some(threads) = cli.threads {
            nabla_core::set_num_threads(threads)?;
        }
        match cli.command {
            Command::Bench(args) => commands::bench::run(&args),
        }
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
