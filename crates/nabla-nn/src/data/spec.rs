//! Which data a run trains on and how it is read ([`DataSpec`], saved in a run's
//! `config.json`), and the training, validation and test sets it gives ([`Splits`]), with the
//! shape, task and preprocessing taken from the data ([`Schema`]).

use super::dataset::Dataset;
use super::idx_images::{IdxFolder, Images};
use super::image_folder::{Decoded, ImageFolder, is_gray, size_of};
use super::samples::Samples;
use super::schema::{Preprocess, Schema};
use super::standardize::Standardization;
use super::table;
use super::toy::ToySet;
use crate::error::{Error, Result};
use crate::task::Task;
use nabla_core::{Generator, Tensor};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Where the data comes from and how it is read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Source {
    /// A folder of IDX files: images `[N, H, W]` or `[N, C, H, W]`, labels `[N]`, classes
    /// `0..=` the largest training label. Which file is which is read from its name
    /// (lower-cased, a `.gz` suffix set aside): `images` or `idx3` in it makes an images file,
    /// `labels` or `idx1` a labels file; `train` makes it training data, `test` or `t10k` test
    /// data; other files are ignored. MNIST's `train-images-idx3-ubyte.gz` fits, and so do
    /// `train-images.idx` and `digits_test_labels.idx`. Of `NAME` and `NAME.gz`, `NAME` is
    /// read; two other candidates for one role are an error naming both.
    Idx { dir: PathBuf },
    /// CSV tables with a header row: `target` names the target column, every other column is
    /// a numeric feature.
    Csv {
        train: PathBuf,
        test: Option<PathBuf>,
        target: String,
        task: TaskKind,
    },
    /// Folders in torchvision's `ImageFolder` layout (`ROOT/CLASS_NAME/*.png`), resized to
    /// `image_size` (`[H, W]`) when given.
    ImageFolder {
        train: PathBuf,
        test: Option<PathBuf>,
        image_size: Option<[usize; 2]>,
    },
    /// A toy set in the plane, with a test set of the same size drawn with another seed.
    Toy {
        set: ToySet,
        samples: usize,
        noise: f64,
    },
}

/// Whether a table's target column holds classes or numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskKind {
    /// Class names (strings or integers).
    #[default]
    Classification,
    /// Numbers.
    Regression,
}

/// Which data to train on: the source, how much of its training data to use, and how much of
/// that to hold out for validation.
///
/// ```
/// use nabla_nn::data::{DataSpec, Source, ToySet};
/// let spec = DataSpec {
///     source: Source::Toy { set: ToySet::Moons, samples: 200, noise: 0.1 },
///     val_split: Some(0.25),
///     train_subset: None,
/// };
/// let splits = spec.load(0).unwrap();
/// assert_eq!(splits.train.len(), 150);
/// assert_eq!(splits.val.as_ref().unwrap().len(), 50);
/// assert_eq!(splits.test.as_ref().unwrap().len(), 200);
/// assert_eq!(splits.schema.input_shape, vec![2]);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataSpec {
    pub source: Source,
    /// The fraction (in `(0, 1)`) of the training data held out as a validation set, chosen
    /// at random with the run's seed.
    #[serde(default)]
    pub val_split: Option<f64>,
    /// Train on the first N training samples only (before the validation split).
    #[serde(default)]
    pub train_subset: Option<usize>,
}

/// The data sets of a run and the schema they share.
#[derive(Clone, Debug)]
pub struct Splits {
    /// What the model is fitted on.
    pub train: Dataset,
    /// Held out of the training data by [`DataSpec::val_split`].
    pub val: Option<Dataset>,
    /// The source's own test data, when it has some.
    pub test: Option<Dataset>,
    /// Input shape, task and the preprocessing fitted on `train`.
    pub schema: Schema,
}

/// The data as read, before the split and the preprocessing.
struct Raw {
    train: Samples,
    test: Option<Samples>,
    task: Task,
    kind: RawKind,
}

enum RawKind {
    Image {
        resize: Option<[usize; 2]>,
    },
    Table {
        columns: Vec<String>,
        target: String,
    },
    Toy,
}

impl DataSpec {
    /// The number of dimensions of one sample, known before the data is read: 3 for images
    /// (`[C, H, W]`, IDX folders and image folders), 1 for table rows and the toy sets.
    ///
    /// ```
    /// use nabla_nn::data::{DataSpec, Source, ToySet};
    /// let toy = DataSpec {
    ///     source: Source::Toy { set: ToySet::Xor, samples: 100, noise: 0.05 },
    ///     val_split: None,
    ///     train_subset: None,
    /// };
    /// assert_eq!(toy.input_ndim(), 1);
    /// ```
    pub fn input_ndim(&self) -> usize {
        match self.source {
            Source::Idx { .. } | Source::ImageFolder { .. } => 3,
            Source::Csv { .. } | Source::Toy { .. } => 1,
        }
    }

    /// Reads the data, keeps [`DataSpec::train_subset`] of the training samples, holds out
    /// [`DataSpec::val_split`] of them (seeded by `seed`), and standardises every split with
    /// statistics of the remaining training samples (images per channel after scaling pixels
    /// to `0..=1`, tables per column; the toy sets are used as drawn).
    pub fn load(&self, seed: u64) -> Result<Splits> {
        if let Some(f) = self.val_split
            && !(f > 0.0 && f < 1.0)
        {
            return Err(Error::invalid(
                "DataSpec::load",
                format!("the validation split must be a fraction between 0 and 1, got {f}"),
            ));
        }
        if self.train_subset == Some(0) {
            return Err(Error::invalid(
                "DataSpec::load",
                "the training subset must hold at least 1 sample, got 0",
            ));
        }
        let mut seeds = Generator::new(seed);
        let (toy_train, toy_test, split_seed) =
            (seeds.next_seed(), seeds.next_seed(), seeds.next_seed());
        let raw = match &self.source {
            Source::Idx { dir } => read_idx(dir)?,
            Source::Csv {
                train,
                test,
                target,
                task,
            } => {
                let t = table::load(
                    train,
                    test.as_deref(),
                    target,
                    *task == TaskKind::Regression,
                )?;
                Raw {
                    train: Samples::from_dataset(t.train),
                    test: t.test.map(Samples::from_dataset),
                    task: t.task,
                    kind: RawKind::Table {
                        columns: t.columns,
                        target: target.clone(),
                    },
                }
            }
            Source::ImageFolder {
                train,
                test,
                image_size,
            } => read_image_folders(train, test.as_deref(), *image_size)?,
            Source::Toy {
                set,
                samples,
                noise,
            } => Raw {
                train: Samples::from_dataset(set.generate(*samples, *noise, toy_train)?),
                test: Some(Samples::from_dataset(
                    set.generate(*samples, *noise, toy_test)?,
                )),
                task: Task::classes(2),
                kind: RawKind::Toy,
            },
        };
        let mut train = match self.train_subset {
            Some(n) => raw.train.take(n),
            None => raw.train,
        };
        let mut val = None;
        if let Some(fraction) = self.val_split {
            let (kept, held) = train.split(fraction, split_seed)?;
            train = kept;
            val = Some(held);
        }
        let sample_shape = train.shape[1..].to_vec();
        let stats = match raw.kind {
            RawKind::Toy => {
                let (channels, _) = train.layout()?;
                Standardization {
                    mean: vec![0.0; channels],
                    std: vec![1.0; channels],
                }
            }
            _ => train.fit()?,
        };
        let train = train.into_dataset(&stats)?;
        let val = val.map(|v| v.into_dataset(&stats)).transpose()?;
        let test = raw.test.map(|t| t.into_dataset(&stats)).transpose()?;
        let Standardization { mean, std } = stats;
        let preprocess = match raw.kind {
            RawKind::Image { resize } => Preprocess::Image { mean, std, resize },
            RawKind::Table { columns, target } => Preprocess::Table {
                columns,
                target,
                mean,
                std,
            },
            RawKind::Toy => Preprocess::Table {
                columns: vec!["x".into(), "y".into()],
                target: "class".into(),
                mean,
                std,
            },
        };
        Ok(Splits {
            train,
            val,
            test,
            schema: Schema {
                input_shape: sample_shape,
                task: raw.task,
                preprocess,
            },
        })
    }
}

/// An empty split is an error naming where it came from.
fn non_empty(data: Samples, path: &Path, what: &str) -> Result<Samples> {
    if data.len() == 0 {
        return Err(Error::Format {
            path: path.to_path_buf(),
            message: format!("holds no images: the {what} set needs at least one"),
        });
    }
    Ok(data)
}

/// Images with their labels as samples.
fn image_samples(images: Images, labels: Vec<i64>) -> Samples {
    let n = labels.len();
    Samples {
        values: images.values,
        shape: images.shape.to_vec(),
        targets: Tensor::from_vec(labels, &[n]),
    }
}

/// An IDX folder: classes `0..=` the largest training label; a test label beyond them is an
/// error.
fn read_idx(dir: &Path) -> Result<Raw> {
    let folder = IdxFolder::find(dir)?;
    let (train, test) = std::thread::scope(|s| {
        let test = s.spawn(|| folder.test.as_ref().map(|pair| pair.read()).transpose());
        let train = folder.train.read();
        (
            train,
            test.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
        )
    });
    let (train_images, train_labels) = train?;
    let classes = train_labels.iter().max().map_or(0, |&m| m as usize + 1);
    let train = non_empty(
        image_samples(
            Images::from_idx(&train_images, &folder.train.images)?,
            train_labels,
        ),
        &folder.train.images,
        "training",
    )?;
    drop(train_images);
    let test = match (test?, &folder.test) {
        (Some((images, labels)), Some(pair)) => {
            if let Some(i) = labels.iter().position(|&l| l as usize >= classes) {
                return Err(Error::Format {
                    path: pair.labels.clone(),
                    message: format!(
                        "label {} at index {i} is not one of the {classes} classes of the \
                         training labels (0..{classes})",
                        labels[i]
                    ),
                });
            }
            let data = image_samples(Images::from_idx(&images, &pair.images)?, labels);
            if data.shape[1..] != train.shape[1..] {
                return Err(Error::Format {
                    path: pair.images.clone(),
                    message: format!(
                        "test images of shape {:?} differ from the training images' {:?}",
                        &data.shape[1..],
                        &train.shape[1..]
                    ),
                });
            }
            Some(non_empty(data, &pair.images, "test")?)
        }
        _ => None,
    };
    Ok(Raw {
        train,
        test,
        task: Task::classes(classes),
        kind: RawKind::Image { resize: None },
    })
}

/// `ImageFolder` trees: grayscale when every image (training and test) is, else RGB; one size,
/// the first training image's, unless `resize` gives it.
fn read_image_folders(
    train: &Path,
    test: Option<&Path>,
    resize: Option<[usize; 2]>,
) -> Result<Raw> {
    if let Some([h, w]) = resize
        && (h == 0 || w == 0)
    {
        return Err(Error::invalid(
            "DataSpec::load",
            format!("the image size must be at least 1x1, got {h}x{w}"),
        ));
    }
    let train_folder = ImageFolder::scan(train, None)?;
    let test_folder = test
        .map(|root| ImageFolder::scan(root, Some(&train_folder.classes)))
        .transpose()?;
    let train_images = Decoded::read(&train_folder)?;
    let test_images = test_folder.as_ref().map(Decoded::read).transpose()?;
    let gray = train_images
        .images
        .iter()
        .chain(test_images.iter().flat_map(|d| &d.images))
        .all(is_gray);
    let channels = if gray { 1 } else { 3 };
    let first = (
        size_of(&train_images.images[0]),
        train_images.paths[0].as_path(),
    );
    let dataset = |decoded: &Decoded| -> Result<Samples> {
        let images = decoded.to_images(channels, resize, first)?;
        Ok(image_samples(images, decoded.labels.clone()))
    };
    Ok(Raw {
        train: dataset(&train_images)?,
        test: test_images.as_ref().map(dataset).transpose()?,
        task: Task::Classification {
            classes: train_folder.classes,
        },
        kind: RawKind::Image { resize },
    })
}
