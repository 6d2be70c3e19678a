//! `nabla view RUN_DIR...`: a local web page for runs, live while they train. A small HTTP
//! server on 127.0.0.1 serves the page's files (embedded in the binary) and each run's log
//! (`events.jsonl`, or `metrics.jsonl` of an older run) as server-sent events; `nabla train
//! --view` serves the run it writes and `nabla grad --view` an expression's stepper.
//!
//! Modules: [`server`] (binding, the `Host` check, a thread per request), [`reply`]
//! (responses), [`routes`] (paths,
//! refused when they could escape), [`assets`] (the embedded files), [`runs`] (the run list
//! and statuses), [`tail`] and [`stream`] (following a log and sending it as events),
//! [`grad_api`] (`/api/grad`).

mod assets;
mod grad_api;
mod reply;
mod routes;
mod runs;
mod server;
mod stream;
mod tail;

pub use grad_api::Start as GradStart;

use crate::CliResult;
use crate::commands::train::Interrupts;
use clap::Args;
use runs::Run;
use server::Site;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Args)]
pub struct ViewArgs {
    /// Run folders (each holding events.jsonl, or metrics.jsonl of an older run), shown side
    /// by side.
    #[arg(required = true, value_name = "RUN_DIR")]
    runs: Vec<PathBuf>,
    /// The port to listen on, on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
}

/// The `--view` and `--port` flags of `nabla train` and `nabla grad`.
#[derive(Args, Clone, Debug)]
pub struct ViewFlags {
    /// Serve a live page of it on 127.0.0.1 (the address is printed) until Ctrl-C.
    #[arg(long)]
    pub view: bool,
    /// The port of --view (0: any free port).
    #[arg(long, default_value_t = 0, requires = "view")]
    pub port: u16,
}

/// Runs `nabla view`: checks each folder is a run, serves them, and waits for Ctrl-C.
pub fn run(args: &ViewArgs) -> CliResult {
    for dir in &args.runs {
        runs::check_run_folder(dir)?;
    }
    let runs = args
        .runs
        .iter()
        .enumerate()
        .map(|(id, path)| Run {
            id,
            path: path.clone(),
            existed: true,
        })
        .collect();
    let addr = server::start(Site { runs, grad: None }, args.port)?;
    println!(
        "viewing {} run(s) at {}; press Ctrl-C to stop",
        args.runs.len(),
        url(addr, "/")
    );
    wait_for_interrupt();
    Ok(())
}

/// Starts serving the run `nabla train --view` is about to write into `dir` (which need not
/// exist yet) and prints its address; the server runs until the process ends.
pub fn serve_training(dir: &Path, port: u16) -> CliResult<String> {
    let run = Run {
        id: 0,
        path: dir.to_path_buf(),
        existed: false,
    };
    let addr = server::start(
        Site {
            runs: vec![run],
            grad: None,
        },
        port,
    )?;
    let url = url(addr, "/");
    println!("viewing 1 run(s) at {url}");
    Ok(url)
}

/// After `nabla train --view`'s run has stopped (`error` says why, when it failed): says the
/// page is still served and waits for Ctrl-C.
pub fn keep_serving(url: &str, error: Option<String>) {
    let ended = match error {
        Some(e) => format!("the run stopped ({e})"),
        None => "the run has ended".to_string(),
    };
    println!("{ended}; still serving it at {url}; press Ctrl-C to stop");
    wait_for_interrupt();
}

/// Starts serving the stepper of `start`'s expression (`/grad`) and prints its address; the
/// server runs until the process ends.
pub fn serve_expression(start: GradStart, port: u16) -> CliResult<String> {
    let addr = server::start(
        Site {
            runs: Vec::new(),
            grad: Some(start),
        },
        port,
    )?;
    let url = url(addr, "/grad");
    println!("viewing the expression at {url}");
    Ok(url)
}

/// Blocks until Ctrl-C (SIGINT), caught as a training run catches it; a second Ctrl-C ends the
/// process at once.
pub fn wait_for_interrupt() {
    let interrupts = Interrupts::catch();
    while !interrupts.requested() {
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn url(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}{path}")
}
