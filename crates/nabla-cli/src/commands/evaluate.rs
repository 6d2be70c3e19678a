//! `nabla evaluate RUN_DIR [--data PATH...]`: the trained model of a run folder, rebuilt from
//! the folder alone, on labelled data (by default the run's own test set, read again from the
//! data settings in its `config.json`; with `--data`, CSV files with the target column, an
//! IDX folder or an `ImageFolder` tree, preprocessed with the run's saved statistics): loss and accuracy, each class's precision, recall and
//! F1 score, the confusion matrix printed and drawn (`confusion.svg`) and, for images, the
//! misclassified ones (`mistakes.svg`); MSE, MAE and R² for a regression run.

use super::json::{array, field, number, object, string};
use super::summary::saved_model;
use super::train::RunFolder;
use crate::CliResult;
use clap::Args;
use nabla_core::Tensor;
use nabla_inspect::classifier::{MAX_SHOWN, Mistake, Picture, confusion_svg, mistakes_svg};
use nabla_nn::data::{Dataset, Schema};
use nabla_nn::report::{ConfusionMatrix, RegressionReport, top_k};
use nabla_nn::saved::SavedModel;
use nabla_nn::task::Task;
use nabla_nn::train::{Metrics, evaluate_outputs};
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct EvaluateArgs {
    /// The run folder of a training run.
    run: PathBuf,
    /// Labelled data instead of the run's test set, of the run's own kind: CSV files with the
    /// training columns and the target column, an IDX folder (its test pair if it has one,
    /// else its training pair) or an image folder (ROOT/CLASS_NAME/*.png, classes among the
    /// model's). The run's saved preprocessing is applied; nothing is refitted.
    #[arg(long, num_args = 1..)]
    data: Vec<PathBuf>,
    /// Folder for confusion.svg and mistakes.svg (default: the run folder).
    #[arg(long)]
    out: Option<PathBuf>,
    /// One JSON object: the figures, the confusion matrix and every sample's prediction.
    #[arg(long)]
    json: bool,
}

/// The samples evaluated, with a name for each and a description of where they come from.
struct Labelled {
    data: Dataset,
    names: Vec<String>,
    source: String,
}

/// The run's own test set, read again with the settings of its `config.json`; refused when
/// the data no longer gives the schema the model was trained with.
fn test_set(run: &Path, schema: &Schema) -> CliResult<Labelled> {
    let config = RunFolder::open(run)?.read_config()?;
    let splits = config.data.load(config.seed)?;
    if splits.schema != *schema {
        return Err(format!(
            "{}: the run's data no longer reads as it did in training (its shape, classes or \
             statistics changed); evaluate other data with --data",
            run.display()
        )
        .into());
    }
    let data = splits.test.ok_or_else(|| {
        format!(
            "{}: the run's data has no test set; give labelled data with --data",
            run.display()
        )
    })?;
    let names = (0..data.len()).map(|i| format!("test[{i}]")).collect();
    Ok(Labelled {
        data,
        names,
        source: "its test set".into(),
    })
}

/// The labelled inputs of `files`, read as `nabla predict` reads its inputs.
fn labelled_files(files: &[PathBuf], schema: &Schema) -> CliResult<Labelled> {
    let inputs = schema.read_inputs(files)?;
    let targets = inputs.targets.ok_or_else(|| {
        "evaluate: the inputs carry no answers to compare with; give CSV files with the \
         target column, an IDX folder or an image folder (ROOT/CLASS_NAME/*.png)"
            .to_string()
    })?;
    let shown: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    Ok(Labelled {
        data: Dataset::new(inputs.features, targets)?,
        names: inputs.names,
        source: shown.join(", "),
    })
}

/// Writes `contents` to `dir/name`, returning the path.
fn write_into(dir: &Path, name: &str, contents: &str) -> CliResult<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(name);
    std::fs::write(&path, contents).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// `loss 0.0712  accuracy 97.95%  top-5 accuracy 99.93%` (or MSE and MAE).
fn metrics_line(m: &Metrics) -> String {
    let mut parts = vec![format!("loss {:.4}", m.loss)];
    parts.extend(m.accuracy.map(|a| format!("accuracy {:.2}%", 100.0 * a)));
    parts.extend(
        m.top_k
            .map(|(k, a)| format!("top-{k} accuracy {:.2}%", 100.0 * a)),
    );
    parts.extend(m.mse.map(|v| format!("MSE {v:.6}")));
    parts.extend(m.mae.map(|v| format!("MAE {v:.6}")));
    parts.join("  ")
}

/// The image of sample `row` of `features` (`[N, C, H, W]`), back in pixels.
fn picture(features: &Tensor, row: usize, schema: &Schema) -> CliResult<Picture> {
    let [channels, height, width] = schema.input_shape[..] else {
        return Err("evaluate: the gallery needs images".into());
    };
    let mut values = features.try_narrow(0, row, 1)?.to_vec::<f32>();
    schema.preprocess.restore(&mut values, height * width);
    Ok(Picture {
        channels,
        height,
        width,
        pixels: values
            .iter()
            .map(|v| v.round().clamp(0.0, 255.0) as u8)
            .collect(),
    })
}

/// The misclassified samples, the most confident first, up to the gallery's size, and how
/// many there are in all.
fn mistakes(
    set: &Labelled,
    schema: &Schema,
    classes: &[String],
    actual: &[i64],
    predicted: &[(usize, f64)],
) -> CliResult<(Vec<Mistake>, usize)> {
    let mut wrong: Vec<usize> = (0..actual.len())
        .filter(|&i| actual[i] as usize != predicted[i].0)
        .collect();
    wrong.sort_by(|&a, &b| predicted[b].1.total_cmp(&predicted[a].1));
    let total = wrong.len();
    wrong.truncate(MAX_SHOWN);
    let shown = wrong
        .into_iter()
        .map(|i| {
            Ok(Mistake {
                picture: picture(&set.data.features, i, schema)?,
                actual: classes[actual[i] as usize].clone(),
                predicted: classes[predicted[i].0].clone(),
                probability: predicted[i].1,
                name: set.names[i].clone(),
            })
        })
        .collect::<CliResult<_>>()?;
    Ok((shown, total))
}

fn classification(
    args: &EvaluateArgs,
    saved: &SavedModel,
    set: &Labelled,
    (metrics, logits): (&Metrics, &Tensor),
    classes: &[String],
) -> CliResult {
    let n = classes.len();
    let probabilities = logits.try_softmax(1)?.to_f64_vec();
    let predicted: Vec<(usize, f64)> = logits
        .to_f64_vec()
        .chunks(n)
        .zip(probabilities.chunks(n))
        .map(|(row, p)| {
            let class = top_k(row, 1)[0].0;
            (class, p[class])
        })
        .collect();
    let actual = set.data.targets.to_vec::<i64>();
    let indices: Vec<i64> = predicted.iter().map(|p| p.0 as i64).collect();
    let matrix = ConfusionMatrix::from_indices(&actual, &indices, classes.to_vec())?;
    let out = args.out.as_deref().unwrap_or(&args.run);
    let title = format!("{} on {}", args.run.display(), set.source);
    let mut written = vec![write_into(
        out,
        "confusion.svg",
        &confusion_svg(&matrix, &title)?,
    )?];
    if saved.schema.input_shape.len() == 3 {
        let (shown, total) = mistakes(set, &saved.schema, classes, &actual, &predicted)?;
        let gallery = mistakes_svg(&format!("misclassified: {title}"), &shown, total)?;
        written.push(write_into(out, "mistakes.svg", &gallery)?);
    }
    let report = matrix.report();
    if args.json {
        let scores = report
            .classes
            .iter()
            .map(|(name, s)| {
                field(
                    name,
                    object(vec![
                        field("precision", number(s.precision)),
                        field("recall", number(s.recall)),
                        field("f1", number(s.f1)),
                        field("support", s.support.to_string()),
                    ]),
                )
            })
            .collect();
        let rows = (0..n)
            .map(|a| array((0..n).map(|p| matrix.count(a, p).to_string()).collect()))
            .collect();
        let mut fields = vec![
            field("data", string(&set.source)),
            field("samples", matrix.total().to_string()),
            field("loss", number(metrics.loss)),
            field("accuracy", number(matrix.accuracy())),
        ];
        if let Some((k, a)) = metrics.top_k {
            fields.push(field(&format!("top_{k}_accuracy"), number(a)));
        }
        fields.extend([
            field("classes", object(scores)),
            field("confusion", array(rows)),
            field(
                "predictions",
                array(
                    indices
                        .iter()
                        .map(|&c| string(&classes[c as usize]))
                        .collect(),
                ),
            ),
        ]);
        println!("{}", object(fields));
    } else {
        println!(
            "{} on {}: {} samples",
            args.run.display(),
            set.source,
            matrix.total()
        );
        println!("{}\n", metrics_line(metrics));
        print!("{report}");
        println!("\nconfusion matrix (rows: true class, columns: predicted class)\n{matrix}\n");
        for path in &written {
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}

fn regression(
    args: &EvaluateArgs,
    set: &Labelled,
    (metrics, outputs): (&Metrics, &Tensor),
    targets: &[String],
) -> CliResult {
    let outputs = outputs.to_f64_vec();
    let actual = set.data.targets.to_f64_vec();
    let report = RegressionReport::from_values(&actual, &outputs, targets.to_vec())?;
    if args.json {
        let scores = |s: &nabla_nn::report::RegressionScores| {
            object(vec![
                field("mse", number(s.mse)),
                field("mae", number(s.mae)),
                field("r2", number(s.r2)),
            ])
        };
        let per_target = report
            .targets
            .iter()
            .map(|(name, s)| field(name, scores(s)))
            .collect();
        let predictions = outputs
            .chunks(targets.len())
            .map(|row| array(row.iter().map(|v| number(*v)).collect()))
            .collect();
        println!(
            "{}",
            object(vec![
                field("data", string(&set.source)),
                field("samples", report.samples.to_string()),
                field("loss", number(metrics.loss)),
                field("mse", number(report.mean.mse)),
                field("mae", number(report.mean.mae)),
                field("r2", number(report.mean.r2)),
                field("targets", object(per_target)),
                field("predictions", array(predictions)),
            ])
        );
    } else {
        println!(
            "{} on {}: {} samples",
            args.run.display(),
            set.source,
            report.samples
        );
        println!("{}\n", metrics_line(metrics));
        println!("{report}");
    }
    Ok(())
}

pub fn run(args: &EvaluateArgs) -> CliResult {
    let saved = saved_model(&args.run)?;
    let set = if args.data.is_empty() {
        test_set(&args.run, &saved.schema)?
    } else {
        labelled_files(&args.data, &saved.schema)?
    };
    let (metrics, outputs) = evaluate_outputs(&saved.net, &set.data, &saved.schema.task)?;
    let figures = (&metrics, &outputs);
    match &saved.schema.task {
        Task::Classification { classes } => classification(args, &saved, &set, figures, classes),
        Task::Regression { targets } => regression(args, &set, figures, targets),
    }
}
