//! MNIST from its four IDX files (Fashion-MNIST and KMNIST use the same names and layout):
//! 28x28 ubyte images flattened to `[N, 784]` `f32` rows and `i64` labels in `0..10`, with a
//! fixed normalisation. The IDX reader of any image size and number of classes, which this one
//! narrows, is [`crate::data::Source::Idx`].

use super::dataset::Dataset;
use super::idx::IdxData;
use super::idx_images::IdxPair;
use crate::error::{Error, Result};
use nabla_core::Tensor;
use std::path::{Path, PathBuf};

/// Rows and columns of an MNIST image.
pub const IMAGE_SIDE: usize = 28;
/// Pixels per flattened image.
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
/// The number of classes.
pub const NUM_CLASSES: usize = 10;

/// How pixel bytes `0..=255` become features.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Normalization {
    /// The raw byte values as `f32`, `0.0..=255.0`.
    None,
    /// Scaled to `0.0..=1.0`.
    UnitRange,
    /// Scaled to `0.0..=1.0`, then `(x - mean) / std`.
    Standardize { mean: f32, std: f32 },
}

impl Normalization {
    /// The MNIST training-set statistics used by the PyTorch MNIST example.
    pub const MNIST: Normalization = Normalization::Standardize {
        mean: 0.1307,
        std: 0.3081,
    };

    fn apply(self, pixels: &[u8]) -> Vec<f32> {
        match self {
            Normalization::None => pixels.iter().map(|&p| f32::from(p)).collect(),
            Normalization::UnitRange => pixels.iter().map(|&p| f32::from(p) / 255.0).collect(),
            Normalization::Standardize { mean, std } => pixels
                .iter()
                .map(|&p| (f32::from(p) / 255.0 - mean) / std)
                .collect(),
        }
    }
}

/// The MNIST training and test sets.
///
/// ```no_run
/// use nabla_nn::data::{Mnist, Normalization};
/// let mnist = Mnist::load("data/mnist", Normalization::MNIST)?;
/// assert_eq!(mnist.train.features.shape(), &[60000, 784]);
/// # Ok::<(), nabla_nn::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Mnist {
    /// `train-images-idx3-ubyte` with its labels.
    pub train: Dataset,
    /// `t10k-images-idx3-ubyte` with its labels.
    pub test: Dataset,
}

impl Mnist {
    /// Loads the four files from `dir`, each either raw or with a `.gz` suffix.
    pub fn load(dir: impl AsRef<Path>, normalization: Normalization) -> Result<Mnist> {
        let dir = dir.as_ref();
        if let Normalization::Standardize { std, .. } = normalization
            && !(std > 0.0 && std.is_finite())
        {
            return Err(Error::invalid(
                "Mnist::load",
                format!("standardisation needs a positive finite std, got {std}"),
            ));
        }
        if !dir.is_dir() {
            return Err(Error::Io {
                path: dir.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no MNIST folder here: it should hold train-images-idx3-ubyte.gz, \
                     train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and \
                     t10k-labels-idx1-ubyte.gz (the repository ships them in data/mnist)",
                ),
            });
        }
        let (train, test) = std::thread::scope(|s| {
            let test = s.spawn(|| load_split(dir, "t10k", normalization));
            let train = load_split(dir, "train", normalization);
            (
                train,
                test.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            )
        });
        Ok(Mnist {
            train: train?,
            test: test?,
        })
    }
}

fn load_split(dir: &Path, prefix: &str, normalization: Normalization) -> Result<Dataset> {
    let pair = IdxPair {
        images: find(dir, &format!("{prefix}-images-idx3-ubyte"))?,
        labels: find(dir, &format!("{prefix}-labels-idx1-ubyte"))?,
    };
    let (images, classes) = pair.read()?;
    let pixels = match (&images.data, images.dims.as_slice()) {
        (IdxData::U8(p), [_, IMAGE_SIDE, IMAGE_SIDE]) => p,
        _ => {
            return Err(Error::Format {
                path: pair.images,
                message: format!(
                    "expected ubyte images of shape [N, {IMAGE_SIDE}, {IMAGE_SIDE}], found {} of shape {:?}",
                    images.data.type_name(),
                    images.dims
                ),
            });
        }
    };
    if let Some(i) = classes.iter().position(|&c| c >= NUM_CLASSES as i64) {
        return Err(Error::Format {
            path: pair.labels,
            message: format!(
                "label {} at index {i} is not a digit 0..{NUM_CLASSES}",
                classes[i]
            ),
        });
    }
    let n = classes.len();
    let features = Tensor::from_vec(normalization.apply(pixels), &[n, IMAGE_PIXELS]);
    Dataset::new(features, Tensor::from_vec(classes, &[n]))
}

/// `dir/name`, or `dir/name.gz` when only the compressed file exists.
fn find(dir: &Path, name: &str) -> Result<PathBuf> {
    let raw = dir.join(name);
    let gz = dir.join(format!("{name}.gz"));
    if raw.is_file() {
        Ok(raw)
    } else if gz.is_file() {
        Ok(gz)
    } else {
        Err(Error::Io {
            path: gz,
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("neither {name} nor {name}.gz is in this MNIST folder"),
            ),
        })
    }
}
