//! Samples as read, before preprocessing: their features kept as a plain vector until they are
//! standardised in place, so a large data set is never held twice.

use super::dataset::Dataset;
use super::standardize::Standardization;
use crate::error::{Error, Result};
use nabla_core::{Generator, Tensor};

/// `values` of shape `shape` (`[N, ...]`, row-major) with one target per sample.
pub(crate) struct Samples {
    pub values: Vec<f32>,
    pub shape: Vec<usize>,
    pub targets: Tensor,
}

impl Samples {
    /// The samples of a dataset (its features copied out).
    pub fn from_dataset(data: Dataset) -> Samples {
        Samples {
            values: data.features.to_vec::<f32>(),
            shape: data.features.shape().to_vec(),
            targets: data.targets,
        }
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.shape[0]
    }

    /// Values per sample.
    fn row(&self) -> usize {
        self.shape[1..].iter().product()
    }

    /// The first `n` samples (all when there are fewer).
    pub fn take(mut self, n: usize) -> Samples {
        let n = n.min(self.len());
        self.values.truncate(n * self.row());
        self.shape[0] = n;
        self.targets = self.targets.narrow(0, 0, n);
        self
    }

    /// The samples at `indices`, in that order.
    fn pick(&self, indices: &[usize]) -> Result<Samples> {
        let row = self.row();
        let mut values = Vec::with_capacity(indices.len() * row);
        for &i in indices {
            values.extend_from_slice(&self.values[i * row..(i + 1) * row]);
        }
        let mut shape = self.shape.clone();
        shape[0] = indices.len();
        let picks = Tensor::from_vec(
            indices.iter().map(|&i| i as i64).collect::<Vec<_>>(),
            &[indices.len()],
        );
        let targets = nabla_core::no_grad(|| self.targets.try_index_select(0, &picks))?;
        Ok(Samples {
            values,
            shape,
            targets,
        })
    }

    /// The samples split at random (seeded) into those kept and `fraction` of them held out
    /// (rounded up, as scikit-learn's `train_test_split`), each in the original order.
    pub fn split(self, fraction: f64, seed: u64) -> Result<(Samples, Samples)> {
        let n = self.len();
        let held = ((n as f64) * fraction).ceil() as usize;
        if held == 0 || held >= n {
            return Err(Error::invalid(
                "DataSpec::load",
                format!(
                    "a validation split of {fraction} of {n} training samples leaves {} for \
                     training and {held} for validation; each needs at least one",
                    n.saturating_sub(held)
                ),
            ));
        }
        let mut order: Vec<usize> = (0..n).collect();
        Generator::new(seed).shuffle(&mut order);
        let (mut val, mut kept) = (order[..held].to_vec(), order[held..].to_vec());
        val.sort_unstable();
        kept.sort_unstable();
        Ok((self.pick(&kept)?, self.pick(&val)?))
    }

    /// `(channels, inner)` of the standardisation layout: `[C, H, W]` samples have `C`
    /// channels of `H * W` values, `[D]` samples `D` channels of one value.
    pub fn layout(&self) -> Result<(usize, usize)> {
        match self.shape[1..] {
            [c, h, w] => Ok((c, h * w)),
            [d] => Ok((d, 1)),
            _ => Err(Error::invalid(
                "DataSpec::load",
                format!(
                    "samples of shape {:?} are neither images nor table rows",
                    &self.shape[1..]
                ),
            )),
        }
    }

    /// The statistics of each channel or column.
    pub fn fit(&self) -> Result<Standardization> {
        let (channels, inner) = self.layout()?;
        Ok(Standardization::fit(&self.values, channels, inner))
    }

    /// A dataset of the samples standardised with `stats`, in place.
    pub fn into_dataset(mut self, stats: &Standardization) -> Result<Dataset> {
        let (_, inner) = self.layout()?;
        stats.apply(&mut self.values, inner);
        Dataset::new(Tensor::from_vec(self.values, &self.shape), self.targets)
    }
}
