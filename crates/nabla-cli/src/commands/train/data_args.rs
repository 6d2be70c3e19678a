//! `nabla train`'s data flags and the [`DataSpec`] they describe: which kind of data `--data`
//! names (a toy set, a CSV file, an image folder or an IDX folder), with the flags of other
//! kinds refused by name.

use clap::Args;
use nabla_nn::data::{DataSpec, Source, TaskKind, ToySet};
use std::path::{Path, PathBuf};

/// Samples of a toy set without `--samples`.
const TOY_SAMPLES: usize = 500;
/// Noise of a toy set without `--noise`.
const TOY_NOISE: f64 = 0.05;

/// The data settings of a run (serialised by flag name, so `--resume` can compare the flags
/// given with the run's).
#[derive(Args, Clone, serde::Serialize)]
pub struct DataArgs {
    /// Training data: a folder of IDX files (MNIST's names), a CSV file (with --target), an
    /// image folder (ROOT/CLASS_NAME/*.png|jpg), or a toy set: spiral, moons, circles, xor.
    #[arg(long, default_value = "data/mnist")]
    pub data: PathBuf,
    /// Test data for a CSV file or an image folder, of the same kind as --data (an IDX folder
    /// holds its own test files; a toy set draws its own).
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// The CSV column to predict.
    #[arg(long)]
    pub target: Option<String>,
    /// What the CSV's target column holds: class names (strings or integers) or numbers.
    #[arg(long, value_enum)]
    pub task: Option<TaskArg>,
    /// Resize the images of an image folder to H,W pixels.
    #[arg(long, value_parser = image_size)]
    pub image_size: Option<[usize; 2]>,
    /// Hold out this fraction of the training data (0 < F < 1, chosen with --seed) to
    /// validate on.
    #[arg(long)]
    pub val_split: Option<f64>,
    /// Points of a toy set (default 500; its test set has as many).
    #[arg(long)]
    pub samples: Option<usize>,
    /// Standard deviation of the Gaussian noise added to a toy set's points (default 0.05,
    /// as in scikit-learn's `make_circles` example).
    #[arg(long)]
    pub noise: Option<f64>,
    /// Train on the first N training samples only (quick experiments).
    #[arg(long)]
    pub train_subset: Option<usize>,
}

/// `TaskKind` as a command-line value.
#[derive(Copy, Clone, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskArg {
    Classification,
    Regression,
}

/// `H,W` as an image size.
fn image_size(text: &str) -> Result<[usize; 2], String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    match parts.as_slice() {
        [h, w] => match (h.parse::<usize>(), w.parse::<usize>()) {
            (Ok(h), Ok(w)) if h > 0 && w > 0 => Ok([h, w]),
            _ => Err(format!("{text:?} is not two positive integers H,W")),
        },
        _ => Err(format!("{text:?} is not H,W (e.g. 28,28)")),
    }
}

/// Whether `path` is a folder holding subfolders (an image folder's classes).
fn has_subfolders(path: &Path) -> bool {
    std::fs::read_dir(path)
        .map(|entries| entries.filter_map(Result::ok).any(|e| e.path().is_dir()))
        .unwrap_or(false)
}

impl DataArgs {
    /// The data these flags name. `--data` is a toy set when it is one's name (and no file of
    /// that name exists), a CSV table when it ends in `.csv`, an image folder when it is a
    /// folder of subfolders, and else an IDX folder; a flag that does not apply to that kind
    /// is an error naming it.
    pub fn spec(&self) -> Result<DataSpec, String> {
        let data = &self.data;
        let toy = data
            .to_str()
            .and_then(ToySet::from_name)
            .filter(|_| !data.exists());
        let csv = data
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let (kind, source) = if let Some(set) = toy {
            let source = Source::Toy {
                set,
                samples: self.samples.unwrap_or(TOY_SAMPLES),
                noise: self.noise.unwrap_or(TOY_NOISE),
            };
            (format!("the toy set {set}"), source)
        } else if csv {
            let target = self.target.clone().ok_or_else(|| {
                format!(
                    "--data {} is a CSV table: name the column to predict with --target COLUMN",
                    data.display()
                )
            })?;
            let task = match self.task {
                Some(TaskArg::Regression) => TaskKind::Regression,
                _ => TaskKind::Classification,
            };
            let source = Source::Csv {
                train: data.clone(),
                test: self.test.clone(),
                target,
                task,
            };
            ("a CSV table".to_string(), source)
        } else if has_subfolders(data) {
            let source = Source::ImageFolder {
                train: data.clone(),
                test: self.test.clone(),
                image_size: self.image_size,
            };
            ("an image folder".to_string(), source)
        } else {
            let source = Source::Idx { dir: data.clone() };
            ("an IDX folder".to_string(), source)
        };
        let misplaced = [
            ("--target", self.target.is_some(), "CSV tables"),
            ("--task", self.task.is_some(), "CSV tables"),
            ("--image-size", self.image_size.is_some(), "image folders"),
            ("--samples", self.samples.is_some(), "toy sets"),
            ("--noise", self.noise.is_some(), "toy sets"),
            (
                "--test",
                self.test.is_some(),
                "CSV tables and image folders (an IDX folder holds its own test files; a toy \
                 set draws its own)",
            ),
        ];
        for (flag, given, applies_to) in misplaced {
            let fits = matches!(
                (&source, flag),
                (Source::Csv { .. }, "--target" | "--task" | "--test")
                    | (Source::ImageFolder { .. }, "--image-size" | "--test")
                    | (Source::Toy { .. }, "--samples" | "--noise")
            );
            if given && !fits {
                return Err(format!(
                    "{flag} applies to {applies_to}, but --data {} is {kind}",
                    data.display()
                ));
            }
        }
        Ok(DataSpec {
            source,
            val_split: self.val_split,
            train_subset: self.train_subset,
        })
    }

    /// The flags that give `spec` (the inverse of [`DataArgs::spec`]).
    pub fn from_spec(spec: &DataSpec) -> DataArgs {
        let mut args = DataArgs {
            data: PathBuf::new(),
            test: None,
            target: None,
            task: None,
            image_size: None,
            val_split: spec.val_split,
            samples: None,
            noise: None,
            train_subset: spec.train_subset,
        };
        match &spec.source {
            Source::Idx { dir } => args.data = dir.clone(),
            Source::Csv {
                train,
                test,
                target,
                task,
            } => {
                args.data = train.clone();
                args.test = test.clone();
                args.target = Some(target.clone());
                args.task = Some(match task {
                    TaskKind::Classification => TaskArg::Classification,
                    TaskKind::Regression => TaskArg::Regression,
                });
            }
            Source::ImageFolder {
                train,
                test,
                image_size,
            } => {
                args.data = train.clone();
                args.test = test.clone();
                args.image_size = *image_size;
            }
            Source::Toy {
                set,
                samples,
                noise,
            } => {
                args.data = PathBuf::from(set.name());
                args.samples = Some(*samples);
                args.noise = Some(*noise);
            }
        }
        args
    }
}
