//! `nabla grad EXPR --at x=2,w=3`: parses an expression, builds its graph on nabla `f64`
//! scalars, and prints the value and every variable's gradient (by reverse or forward mode),
//! optionally the Hessian, the chain rule node by node, and the graph as DOT or SVG.

mod bindings;
mod report;

use crate::CliResult;
use clap::{Args, ValueEnum};
use nabla_inspect::expr::{self, Mode};
use nabla_inspect::{Error, GraphOptions, RankDir, clip};
use std::path::{Path, PathBuf};

/// How derivatives are propagated.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// One backward pass; the Hessian as the gradient of each gradient entry.
    Reverse,
    /// One JVP per variable; the Hessian forward over reverse.
    Forward,
}

/// Which way values flow in --dot and --svg pictures.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum RankDirArg {
    /// Inputs at the top, the output at the bottom.
    #[value(name = "TB")]
    Tb,
    /// Inputs at the left, the output at the right, as the textbook draws.
    #[value(name = "LR")]
    Lr,
}

#[derive(Args)]
pub struct GradArgs {
    /// The expression, e.g. "(w*x+b-5)^2": + - * / ^ (or **), parentheses, numbers,
    /// variables, and exp log sqrt abs sin cos tanh sigmoid relu max(a,b) min(a,b).
    #[arg(allow_hyphen_values = true)]
    expression: String,
    /// Values of the variables: NAME=VALUE pairs separated by commas (may be repeated).
    #[arg(long, value_name = "NAME=VALUE,...")]
    at: Vec<String>,
    /// Print one JSON object: {"value": …, "grad": {…}} (and "hessian" with --order 2);
    /// infinities and NaN are the strings "inf", "-inf" and "nan".
    #[arg(long, conflicts_with = "explain")]
    json: bool,
    /// Write the graph, with values and gradients, as Graphviz DOT.
    #[arg(long, value_name = "FILE")]
    dot: Option<PathBuf>,
    /// Write the graph, with values and gradients, as SVG (rendered by nabla itself).
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Print the chain rule node by node: upstream gradient, local derivative, product.
    #[arg(long)]
    explain: bool,
    /// 1 for the gradient; 2 adds the Hessian.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    order: u8,
    /// Reverse or forward mode.
    #[arg(long, value_enum, default_value_t = ModeArg::Reverse)]
    mode: ModeArg,
    /// Most nodes drawn by --dot and --svg; the rest are counted in a note.
    #[arg(long, default_value_t = 200)]
    max_nodes: usize,
    /// Which way values flow in --dot and --svg: TB (top to bottom) or LR (left to right).
    #[arg(long, value_enum, default_value_t = RankDirArg::Tb)]
    rankdir: RankDirArg,
    #[command(flatten)]
    view: super::view::ViewFlags,
}

pub fn run(args: &GradArgs) -> CliResult {
    let expression = expr::parse(&args.expression)?;
    let at = bindings::parse(&args.at)?;
    let pairs: Vec<(&str, f64)> = at.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let values = expr::bind(&expression, &pairs).map_err(|e| match e {
        Error::Unbound { name } => {
            let name = clip(&name);
            format!("no value for the variable `{name}`: add {name}=VALUE to --at")
        }
        other @ Error::Unused { .. } => format!("--at: {other}"),
        other => other.to_string(),
    })?;
    let mode = match args.mode {
        ModeArg::Reverse => Mode::Reverse,
        ModeArg::Forward => Mode::Forward,
    };
    let needs_recording =
        mode == Mode::Reverse || args.explain || args.dot.is_some() || args.svg.is_some();
    let recording = needs_recording
        .then(|| expr::record(&expression, &values))
        .transpose()?;
    let evaluation = match (&recording, mode) {
        (Some(recording), Mode::Reverse) => recording.evaluation(),
        _ => expr::gradient(&expression, &values, mode)?,
    };
    let hessian = (args.order == 2)
        .then(|| expr::hessian(&expression, &values, mode))
        .transpose()?;
    if let Some(recording) = &recording {
        let options = GraphOptions {
            max_nodes: args.max_nodes,
            rankdir: match args.rankdir {
                RankDirArg::Tb => RankDir::TopBottom,
                RankDirArg::Lr => RankDir::LeftRight,
            },
            ..GraphOptions::default()
        };
        let graph = recording.graph(options);
        if let Some(path) = &args.dot {
            write(path, &graph.to_dot())?;
        }
        if let Some(path) = &args.svg {
            write(path, &graph.to_svg())?;
        }
    }
    let report = report::Report {
        expression: &expression,
        values: &values,
        evaluation: &evaluation,
        hessian: hessian.as_deref(),
        mode,
    };
    if args.json {
        println!("{}", report.json());
    } else {
        print!("{}", report.text());
        if let Some(recording) = recording.filter(|_| args.explain) {
            println!();
            print!("{}", recording.explain()?);
        }
    }
    if args.view.view {
        let start = super::view::GradStart {
            expression: args.expression.clone(),
            at,
        };
        super::view::serve_expression(start, args.view.port)?;
        super::view::wait_for_interrupt();
    }
    Ok(())
}

fn write(path: &Path, contents: &str) -> CliResult {
    std::fs::write(path, contents)
        .map_err(|e| format!("cannot write the graph to {}: {e}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}
