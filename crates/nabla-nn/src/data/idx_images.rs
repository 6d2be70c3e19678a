//! Image data sets in IDX files, of any image size and number of classes: a folder holding a
//! training pair (images and labels) and optionally a test pair.
//!
//! Which file is which is read from its name (lower-cased, a `.gz` suffix set aside): a name
//! holding `images` (or `idx3`) is an images file, one holding `labels` (or `idx1`) a labels
//! file; `train` in the name makes it training data, `test` or `t10k` test data. Files that
//! match neither are ignored. MNIST's `train-images-idx3-ubyte.gz` and `t10k-labels-idx1-ubyte`
//! fit, and so do `train-images.idx` / `test-labels.idx` or `digits_train_images.idx`. When both
//! `NAME` and `NAME.gz` are there, `NAME` is read; two other candidates for one role are an error
//! naming both.

use super::idx::{IdxArray, IdxData};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Images as `f32` values, `[N, C, H, W]` in row-major order: ubyte pixels scaled from
/// `0..=255` to `0..=1`, other element types as they are.
#[derive(Clone, Debug)]
pub(crate) struct Images {
    pub values: Vec<f32>,
    /// `[N, C, H, W]`.
    pub shape: [usize; 4],
}

/// An IDX images file and its labels file.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct IdxPair {
    pub images: PathBuf,
    pub labels: PathBuf,
}

/// The training pair and the test pair (when there is one) of an IDX folder.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct IdxFolder {
    pub train: IdxPair,
    pub test: Option<IdxPair>,
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Images,
    Labels,
}

#[derive(Clone, Copy, PartialEq)]
enum Split {
    Train,
    Test,
}

/// The role and split a file name gives, by the rule in the module documentation.
fn classify(name: &str) -> Option<(Split, Role)> {
    let name = name.to_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    let role = if name.contains("images") || name.contains("idx3") {
        Role::Images
    } else if name.contains("labels") || name.contains("idx1") {
        Role::Labels
    } else {
        return None;
    };
    let split = if name.contains("train") {
        Split::Train
    } else if name.contains("test") || name.contains("t10k") {
        Split::Test
    } else {
        return None;
    };
    Some((split, role))
}

impl IdxFolder {
    /// Finds the pairs in `dir` by the naming rule of the module documentation.
    pub fn find(dir: &Path) -> Result<IdxFolder> {
        let io = |source| Error::Io {
            path: dir.to_path_buf(),
            source,
        };
        if !dir.is_dir() {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such folder: an IDX data set is a folder holding train-images and \
                 train-labels files (MNIST's train-images-idx3-ubyte.gz, ...; the repository \
                 ships MNIST in data/mnist)",
            )));
        }
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|entry| entry.ok())
            .filter(|entry| entry.path().is_file())
            .filter_map(|entry| entry.file_name().into_string().ok())
            .collect();
        names.sort();
        let pick = |split: Split, role: Role| -> Result<Option<PathBuf>> {
            let found: Vec<&String> = names
                .iter()
                .filter(|n| classify(n) == Some((split, role)))
                // `NAME.gz` beside `NAME`: the raw file is read.
                .filter(|n| {
                    n.strip_suffix(".gz")
                        .is_none_or(|raw| !names.iter().any(|m| m == raw))
                })
                .collect();
            match found.as_slice() {
                [] => Ok(None),
                [one] => Ok(Some(dir.join(one))),
                [a, b, ..] => Err(Error::Format {
                    path: dir.to_path_buf(),
                    message: format!(
                        "both {a} and {b} could be the {} {}: keep one",
                        match split {
                            Split::Train => "training",
                            Split::Test => "test",
                        },
                        match role {
                            Role::Images => "images",
                            Role::Labels => "labels",
                        }
                    ),
                }),
            }
        };
        let missing = |what: &str| Error::Format {
            path: dir.to_path_buf(),
            message: format!(
                "no {what} file here: an IDX folder holds files named like \
                 train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] (and optionally \
                 t10k-... or test-... for a test set)"
            ),
        };
        let train = IdxPair {
            images: pick(Split::Train, Role::Images)?.ok_or_else(|| missing("training images"))?,
            labels: pick(Split::Train, Role::Labels)?.ok_or_else(|| missing("training labels"))?,
        };
        let test = match (
            pick(Split::Test, Role::Images)?,
            pick(Split::Test, Role::Labels)?,
        ) {
            (Some(images), Some(labels)) => Some(IdxPair { images, labels }),
            (None, None) => None,
            (Some(_), None) => return Err(missing("test labels (there are test images)")),
            (None, Some(_)) => return Err(missing("test images (there are test labels)")),
        };
        Ok(IdxFolder { train, test })
    }
}

impl IdxPair {
    /// Reads the images (`[N, H, W]` or `[N, C, H, W]`) and their labels (`[N]`, non-negative
    /// integers), checking that they agree.
    pub fn read(&self) -> Result<(IdxArray, Vec<i64>)> {
        let (images, labels) = std::thread::scope(|s| {
            let labels = s.spawn(|| IdxArray::read(&self.labels));
            let images = IdxArray::read(&self.images);
            (
                images,
                labels
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            )
        });
        let (images, labels) = (images?, labels?);
        let [n, ..] = image_shape(&images, &self.images)?;
        let fail = |message: String| Error::Format {
            path: self.labels.clone(),
            message,
        };
        let values: Vec<i64> = match (&labels.data, labels.dims.as_slice()) {
            (IdxData::U8(v), [_]) => v.iter().map(|&x| i64::from(x)).collect(),
            (IdxData::I8(v), [_]) => v.iter().map(|&x| i64::from(x)).collect(),
            (IdxData::I16(v), [_]) => v.iter().map(|&x| i64::from(x)).collect(),
            (IdxData::I32(v), [_]) => v.iter().map(|&x| i64::from(x)).collect(),
            _ => {
                return Err(fail(format!(
                    "expected integer labels of shape [N], found {} of shape {:?}",
                    labels.data.type_name(),
                    labels.dims
                )));
            }
        };
        if values.len() != n {
            return Err(fail(format!(
                "{} labels for the {n} images of {}",
                values.len(),
                self.images.display()
            )));
        }
        if let Some(i) = values.iter().position(|&c| c < 0) {
            return Err(fail(format!(
                "label {} at index {i} is negative: labels are class indices 0, 1, ...",
                values[i]
            )));
        }
        Ok((images, values))
    }
}

/// The `[N, C, H, W]` shape of an IDX array of `[N, H, W]` or `[N, C, H, W]` images, or an
/// error for any other shape.
fn image_shape(images: &IdxArray, path: &Path) -> Result<[usize; 4]> {
    match *images.dims.as_slice() {
        [n, h, w] if h > 0 && w > 0 => Ok([n, 1, h, w]),
        [n, c, h, w] if c > 0 && h > 0 && w > 0 => Ok([n, c, h, w]),
        _ => Err(Error::Format {
            path: path.to_path_buf(),
            message: format!(
                "expected images of shape [N, H, W] or [N, C, H, W], found {} of shape {:?}",
                images.data.type_name(),
                images.dims
            ),
        }),
    }
}

impl Images {
    /// The images of an IDX array of shape `[N, H, W]` or `[N, C, H, W]` (checked).
    pub fn from_idx(images: &IdxArray, path: &Path) -> Result<Images> {
        let shape = image_shape(images, path)?;
        let values = match &images.data {
            IdxData::U8(pixels) => pixels.iter().map(|&p| f32::from(p) / 255.0).collect(),
            other => other.to_f32(),
        };
        Ok(Images { values, shape })
    }

    /// Reads an IDX file of images.
    pub fn read_idx(path: &Path) -> Result<Images> {
        Images::from_idx(&IdxArray::read(path)?, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sorted_into_roles_and_splits() {
        use Role::*;
        use Split::*;
        let cases = [
            ("train-images-idx3-ubyte.gz", Some((Train, Images))),
            ("t10k-labels-idx1-ubyte", Some((Test, Labels))),
            ("Train-Images.idx", Some((Train, Images))),
            ("digits_test_labels.idx", Some((Test, Labels))),
            ("README.md", None),
            ("images.idx", None),
        ];
        for (name, expected) in cases {
            assert!(classify(name) == expected, "{name}");
        }
    }
}
