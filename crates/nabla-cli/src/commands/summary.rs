//! `nabla summary`: each layer's output shape and parameter count, with the totals, as Keras'
//! `model.summary()` prints them; for a trained run (rebuilt from its saved model alone) or for
//! a layer spec.

use crate::CliResult;
use crate::commands::train::DataArgs;
use clap::Args;
use nabla_nn::saved::SavedModel;
use nabla_nn::spec::{ModelSpec, table};
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct SummaryArgs {
    /// A run folder (or a model.safetensors or checkpoint.safetensors file).
    #[arg(required_unless_present = "layers", conflicts_with = "layers")]
    run: Option<PathBuf>,
    /// A layer spec, e.g. `--layers "flatten, linear 256, relu, linear"`.
    #[arg(long)]
    layers: Option<String>,
    /// The shape of one sample, e.g. `1,28,28` (with --outputs; default: that of --data).
    #[arg(long, value_delimiter = ',', requires_all = ["layers", "outputs"], conflicts_with = "data")]
    input_shape: Option<Vec<usize>>,
    /// The number of outputs: classes or regression targets (default: those of --data).
    #[arg(long, requires_all = ["layers", "input_shape"])]
    outputs: Option<usize>,
    /// The data whose sample shape and classes the spec is summarised for (read as `nabla
    /// train` reads it).
    #[command(flatten)]
    data: DataArgs,
}

/// The saved model of `path`: the file itself, or a run folder's `model.safetensors` (its
/// `checkpoint.safetensors` when a kill came between the two).
pub(crate) fn saved_model(path: &Path) -> CliResult<SavedModel> {
    if !path.exists() {
        return Err(format!("{}: no such run folder or model file", path.display()).into());
    }
    if !path.is_dir() {
        return Ok(SavedModel::load(path)?);
    }
    let file = ["model.safetensors", "checkpoint.safetensors"]
        .iter()
        .map(|name| path.join(name))
        .find(|file| file.is_file())
        .ok_or_else(|| {
            format!(
                "{}: holds no model.safetensors or checkpoint.safetensors (not a run folder, or \
                 its first epoch never finished)",
                path.display()
            )
        })?;
    Ok(SavedModel::load(file)?)
}

pub fn run(args: &SummaryArgs) -> CliResult {
    let (spec, input_shape, outputs) = match (&args.run, &args.layers) {
        (Some(path), _) => {
            let saved = saved_model(path)?;
            println!("{}: {}", path.display(), saved.spec);
            let outputs = saved.schema.task.outputs();
            (saved.spec, saved.schema.input_shape, outputs)
        }
        (None, Some(text)) => {
            let spec = ModelSpec::parse(text)?;
            match (&args.input_shape, args.outputs) {
                (Some(shape), Some(outputs)) => (spec, shape.clone(), outputs),
                _ => {
                    let schema = args.data.spec()?.load(0)?.schema;
                    let outputs = schema.task.outputs();
                    (spec, schema.input_shape, outputs)
                }
            }
        }
        (None, None) => unreachable!("clap requires a run folder or --layers"),
    };
    let rows = spec.summary(&input_shape, outputs)?;
    print!("{}", table(&input_shape, &rows));
    Ok(())
}
