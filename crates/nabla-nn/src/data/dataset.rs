//! An in-memory dataset: one tensor of features and one of targets whose first dimension
//! indexes the samples, and the batches gathered from it.

use crate::error::{Error, Result};
use nabla_core::{DType, Element, Tensor};
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

fn gather_rows(t: &Tensor, indices: &[usize]) -> Tensor {
    match t.dtype() {
        DType::F32 => gather_typed::<f32>(t, indices),
        DType::F64 => gather_typed::<f64>(t, indices),
        DType::I64 => gather_typed::<i64>(t, indices),
    }
}

/// Copies rows run by run, straight from the dataset's storage: consecutive indices (an
/// unshuffled loader) cost one copy per batch.
fn gather_typed<T: Element>(t: &Tensor, indices: &[usize]) -> Tensor {
    let row_len: usize = t.shape()[1..].iter().product();
    let out = t
        .try_with_slice(|all: &[T]| {
            let mut out = Vec::with_capacity(indices.len() * row_len);
            let mut rest = indices;
            while let Some(&start) = rest.first() {
                let run = 1 + rest.windows(2).take_while(|w| w[1] == w[0] + 1).count();
                out.extend_from_slice(&all[start * row_len..(start + run) * row_len]);
                rest = &rest[run..];
            }
            out
        })
        .expect("gather_rows dispatches on the tensor's dtype");
    let mut shape = t.shape().to_vec();
    shape[0] = indices.len();
    Tensor::from_vec(out, &shape)
}
