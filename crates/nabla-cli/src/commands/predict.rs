//! `nabla predict RUN_DIR INPUT...`: the trained model of a run folder, rebuilt from the folder
//! alone, on new inputs (image files, an IDX file of images, CSV rows), read and preprocessed
//! as its training data was; prints each input's most probable classes with their
//! probabilities, or its predicted values for a regression run, as text or one JSON object a
//! line.

use super::json::{field, number, object, string};
use super::summary::saved_model;
use crate::CliResult;
use clap::Args;
use nabla_nn::report::top_k;
use nabla_nn::task::Task;
use nabla_nn::train::predict;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args)]
pub struct PredictArgs {
    /// The run folder of a training run.
    run: PathBuf,
    /// Image files (PNG, JPEG), IDX files of images or CSV files with the training columns.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// How many of the most probable classes to print for each input.
    #[arg(long, default_value_t = 3)]
    top: usize,
    /// One JSON object a line: `{"input": ..., "class": ..., "probabilities": {...}}` (the
    /// `--top` most probable classes, most probable first), or `{"input": ..., "values": {...}}`
    /// for a regression run.
    #[arg(long)]
    json: bool,
}

/// One input's answer: the most probable classes with their probabilities, or the predicted
/// value of each regression target.
enum Answer {
    Classes(Vec<(String, f64)>),
    Values(Vec<(String, f64)>),
}

/// `{"a": 0.5, "b": 0.25}` in the given order.
fn named_numbers(entries: &[(String, f64)]) -> String {
    object(entries.iter().map(|(k, v)| field(k, number(*v))).collect())
}

pub fn run(args: &PredictArgs) -> CliResult {
    if args.top == 0 {
        return Err("--top must be at least 1".into());
    }
    let saved = saved_model(&args.run)?;
    let inputs = saved.schema.read_inputs(&args.inputs)?;
    let outputs = predict(&saved.net, &inputs.features)?;
    let answers: Vec<Answer> = match &saved.schema.task {
        Task::Classification { classes } => {
            let k = args.top.min(classes.len());
            let probabilities = outputs.try_softmax(1)?.to_f64_vec();
            probabilities
                .chunks(classes.len())
                .map(|row| {
                    Answer::Classes(
                        top_k(row, k)
                            .into_iter()
                            .map(|(c, p)| (classes[c].clone(), p))
                            .collect(),
                    )
                })
                .collect()
        }
        Task::Regression { targets } => outputs
            .to_f64_vec()
            .chunks(targets.len())
            .map(|row| Answer::Values(targets.iter().cloned().zip(row.iter().copied()).collect()))
            .collect(),
    };
    let width = inputs
        .names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = std::io::stdout().lock();
    for (name, answer) in inputs.names.iter().zip(&answers) {
        let line = match (answer, args.json) {
            (Answer::Classes(top), true) => object(vec![
                field("input", string(name)),
                field("class", string(&top[0].0)),
                field("probabilities", named_numbers(top)),
            ]),
            (Answer::Values(values), true) => object(vec![
                field("input", string(name)),
                field("values", named_numbers(values)),
            ]),
            (Answer::Classes(top), false) => {
                let classes: Vec<String> = top
                    .iter()
                    .map(|(c, p)| format!("{c} {:.1}%", 100.0 * p))
                    .collect();
                format!("{name:<width$}  {}", classes.join("  "))
            }
            (Answer::Values(values), false) => {
                let values: Vec<String> =
                    values.iter().map(|(t, v)| format!("{t} {v:.6}")).collect();
                format!("{name:<width$}  {}", values.join("  "))
            }
        };
        writeln!(out, "{line}")?;
    }
    Ok(())
}
