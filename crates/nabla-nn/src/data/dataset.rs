//! An in-memory dataset: one tensor of features and one of targets whose first dimension
//! indexes the samples, and the batches gathered from it.

use crate::error::{Error, Result};
use nabla_core::Tensor;
use std::ops::Range;

/// Samples held in memory: `features[i]` goes with `targets[i]`.
///
/// Classification targets are `i64` class indices of shape `[N]`; regression targets are
/// floating point, `[N]` or `[N, K]`. Features are usually `f32` of shape `[N, D]`.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::data::Dataset;
/// let features = Tensor::from_vec(vec![0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0], &[3, 2]);
/// let targets = Tensor::from_vec(vec![1i64, 0, 1], &[3]);
/// let data = Dataset::new(features, targets).unwrap();
/// assert_eq!(data.len(), 3);
/// let batch = data.gather(&[2, 0]).unwrap();
/// assert_eq!(batch.features.to_vec::<f32>(), vec![4.0, 5.0, 0.0, 1.0]);
/// assert_eq!(batch.targets.to_vec::<i64>(), vec![1, 1]);
/// ```
#[derive(Clone, Debug)]
pub struct Dataset {
    /// One row per sample: `[N, ...]`.
    pub features: Tensor,
    /// One target per sample: `[N]` or `[N, ...]`.
    pub targets: Tensor,
}

/// A batch of samples copied into fresh contiguous tensors.
#[derive(Clone, Debug)]
pub struct Batch {
    /// `[B, ...]`, the rows of the chosen samples.
    pub features: Tensor,
    /// `[B]` or `[B, ...]`, their targets.
    pub targets: Tensor,
}

impl Batch {
    /// The number of samples in the batch.
    pub fn len(&self) -> usize {
        self.features.shape()[0]
    }

    /// Whether the batch holds no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Dataset {
    /// A dataset from features and targets that agree on the number of samples (dimension 0).
    pub fn new(features: Tensor, targets: Tensor) -> Result<Dataset> {
        if features.ndim() == 0 || targets.ndim() == 0 {
            return Err(Error::invalid(
                "Dataset::new",
                format!(
                    "features and targets need a sample dimension, got shapes {:?} and {:?}",
                    features.shape(),
                    targets.shape()
                ),
            ));
        }
        if features.shape()[0] != targets.shape()[0] {
            return Err(Error::invalid(
                "Dataset::new",
                format!(
                    "features have {} samples (shape {:?}) but targets have {} (shape {:?})",
                    features.shape()[0],
                    features.shape(),
                    targets.shape()[0],
                    targets.shape()
                ),
            ));
        }
        // Batches copy runs of rows straight from row-major storage; a strided view is laid
        // out once here rather than gathered whole for every batch.
        Ok(Dataset {
            features: features.contiguous(),
            targets: targets.contiguous(),
        })
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.features.shape()[0]
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The samples in `range`, sharing storage with this dataset.
    pub fn subset(&self, range: Range<usize>) -> Result<Dataset> {
        if range.start > range.end || range.end > self.len() {
            return Err(Error::invalid(
                "Dataset::subset",
                format!("range {range:?} is outside the {} samples", self.len()),
            ));
        }
        let (start, len) = (range.start, range.end - range.start);
        Ok(Dataset {
            features: self.features.try_narrow(0, start, len)?,
            targets: self.targets.try_narrow(0, start, len)?,
        })
    }

    /// The first `n` samples (all of them when there are fewer), sharing storage.
    pub fn take(&self, n: usize) -> Dataset {
        let n = n.min(self.len());
        Dataset {
            features: self.features.narrow(0, 0, n),
            targets: self.targets.narrow(0, 0, n),
        }
    }

    /// The samples at `indices`, in that order, copied into a new [`Batch`].
    pub fn gather(&self, indices: &[usize]) -> Result<Batch> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(Error::invalid(
                "Dataset::gather",
                format!(
                    "sample index {bad} is out of range for {} samples",
                    self.len()
                ),
            ));
        }
        Ok(self.gather_in_range(indices))
    }

    /// [`Dataset::gather`] for indices known to be in range.
    pub(crate) fn gather_in_range(&self, indices: &[usize]) -> Batch {
        Batch {
            features: gather_rows(&self.features, indices),
            targets: gather_rows(&self.targets, indices),
        }
    }
}

/// The rows at `indices` (in range), copied straight from the dataset's storage by
/// `index_select`: one copy per run of consecutive rows, into a reused buffer.
fn gather_rows(t: &Tensor, indices: &[usize]) -> Tensor {
    let picks: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
    let picks = Tensor::from_vec(picks, &[indices.len()]);
    nabla_core::no_grad(|| t.index_select(0, &picks))
}
