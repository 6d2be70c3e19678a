//! What training and evaluation measure: the task's loss (softmax cross-entropy for
//! classification, mean squared error for regression), accuracy and top-k accuracy for
//! classification, MSE and MAE for regression; and [`evaluate`] and [`predict`], which run a
//! model over data in batches without recording a graph.

use crate::data::{DataLoader, Dataset};
use crate::loss::{try_cross_entropy, try_mse_loss};
use crate::module::Module;
use crate::task::Task;
use crate::{Error, Result};
use nabla_core::{DType, Element, Tensor, no_grad};
use serde::{Deserialize, Serialize};

/// Samples per batch of [`evaluate`] and [`predict`] (no graph is kept, so larger is cheaper).
pub const EVAL_BATCH: usize = 1000;

/// The `k` of top-k accuracy unless [`crate::train::FitOptions::top_k`] says otherwise (Keras'
/// `top_k_categorical_accuracy`).
pub const DEFAULT_TOP_K: usize = 5;

/// The figures of a model on a set of samples, averaged over the samples.
///
/// `loss` is the task's loss; classification fills `accuracy` and, when the task has more
/// classes than `k`, `top_k` as `(k, accuracy)`; regression fills `mse` and `mae` (over every
/// target value).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Samples measured.
    pub samples: usize,
    pub loss: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<(usize, f64)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mse: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mae: Option<f64>,
}

/// The loss `task` trains with: softmax cross-entropy of `outputs` (logits `[B, classes]`)
/// against class indices `[B]`, or the mean squared error against targets of the outputs'
/// shape.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::task::Task;
/// use nabla_nn::train::task_loss;
/// let task = Task::Regression { targets: vec!["y".into()] };
/// let out = Tensor::from_vec(vec![1.0f32, 3.0], &[2, 1]);
/// let target = Tensor::from_vec(vec![0.0f32, 1.0], &[2, 1]);
/// assert_eq!(task_loss(&task, &out, &target).unwrap().item::<f32>(), 2.5);
/// ```
pub fn task_loss(task: &Task, outputs: &Tensor, targets: &Tensor) -> Result<Tensor> {
    match task {
        Task::Classification { .. } => try_cross_entropy(outputs, targets),
        Task::Regression { .. } => try_mse_loss(outputs, targets),
    }
}

/// Running sums from which [`Metrics`] are formed, batch after batch.
#[derive(Clone, Debug)]
pub(crate) struct Tally {
    classification: bool,
    /// The `k` of top-k accuracy; `None` when the task has no more classes than it.
    k: Option<usize>,
    samples: usize,
    loss_sum: f64,
    hits: usize,
    top_k_hits: usize,
    values: usize,
    squared_sum: f64,
    absolute_sum: f64,
}

impl Tally {
    pub(crate) fn new(task: &Task, k: usize) -> Tally {
        Tally {
            classification: task.is_classification(),
            k: (k > 0 && task.outputs() > k).then_some(k),
            samples: 0,
            loss_sum: 0.0,
            hits: 0,
            top_k_hits: 0,
            values: 0,
            squared_sum: 0.0,
            absolute_sum: 0.0,
        }
    }

    /// Counts a batch: its `outputs`, `targets` and mean `loss`. The outputs and targets are
    /// read in place, without copying them out of their tensors.
    pub(crate) fn add(&mut self, outputs: &Tensor, targets: &Tensor, loss: f64) -> Result<()> {
        let batch = outputs.shape().first().copied().unwrap_or(0);
        if self.classification {
            let classes = (outputs.numel() / batch.max(1)).max(1);
            match outputs.dtype() {
                DType::F32 => self.count_ranks::<f32>(outputs, targets, classes)?,
                DType::F64 => self.count_ranks::<f64>(outputs, targets, classes)?,
                DType::I64 => self.count_ranks::<i64>(outputs, targets, classes)?,
            }
        } else {
            let (outputs, targets) = (outputs.try_to_f64_vec()?, targets.try_to_f64_vec()?);
            for (o, t) in outputs.iter().zip(&targets) {
                let error = o - t;
                self.squared_sum += error * error;
                self.absolute_sum += error.abs();
            }
            self.values += outputs.len();
        }
        self.samples += batch;
        self.loss_sum += loss * batch as f64;
        Ok(())
    }

    /// Counts the hits and top-k hits of rows of `classes` logits against class indices.
    fn count_ranks<T: Element>(
        &mut self,
        outputs: &Tensor,
        targets: &Tensor,
        classes: usize,
    ) -> Result<()> {
        if targets.dtype() != DType::I64 {
            return Err(Error::invalid(
                "accuracy",
                format!(
                    "the targets must be i64 class indices, got {:?} of shape {:?}",
                    targets.dtype(),
                    targets.shape()
                ),
            ));
        }
        let k = self.k;
        let (hits, top_k_hits) = outputs.try_with_slice(|logits: &[T]| {
            targets.try_with_slice(|targets: &[i64]| {
                let mut hits = (0, 0);
                for (row, &target) in logits.chunks(classes).zip(targets) {
                    let rank = usize::try_from(target).map_or(row.len(), |t| rank_of(row, t));
                    hits.0 += usize::from(rank == 0);
                    hits.1 += usize::from(k.is_some_and(|k| rank < k));
                }
                hits
            })
        })??;
        self.hits += hits;
        self.top_k_hits += top_k_hits;
        Ok(())
    }

    /// The running sums, in the order [`Tally::add_sums`] takes them (counts as exact `f64`s):
    /// what ranks add up to get the figures of a whole batch.
    pub(crate) fn sums(&self) -> Vec<f64> {
        vec![
            self.samples as f64,
            self.loss_sum,
            self.hits as f64,
            self.top_k_hits as f64,
            self.values as f64,
            self.squared_sum,
            self.absolute_sum,
        ]
    }

    /// The number of values [`Tally::sums`] gives.
    pub(crate) const SUMS: usize = 7;

    /// Counts the sums of another tally ([`Tally::sums`]).
    pub(crate) fn add_sums(&mut self, sums: &[f64]) {
        let count = |i: usize| sums.get(i).copied().unwrap_or(0.0) as usize;
        let value = |i: usize| sums.get(i).copied().unwrap_or(0.0);
        self.samples += count(0);
        self.loss_sum += value(1);
        self.hits += count(2);
        self.top_k_hits += count(3);
        self.values += count(4);
        self.squared_sum += value(5);
        self.absolute_sum += value(6);
    }

    /// The samples counted so far.
    pub(crate) fn samples(&self) -> usize {
        self.samples
    }

    pub(crate) fn metrics(&self) -> Metrics {
        let n = self.samples.max(1) as f64;
        let values = self.values.max(1) as f64;
        Metrics {
            samples: self.samples,
            loss: self.loss_sum / n,
            accuracy: self.classification.then(|| self.hits as f64 / n),
            top_k: self
                .k
                .filter(|_| self.classification)
                .map(|k| (k, self.top_k_hits as f64 / n)),
            mse: (!self.classification).then(|| self.squared_sum / values),
            mae: (!self.classification).then(|| self.absolute_sum / values),
        }
    }
}

/// The place of class `target` when `row`'s logits are sorted from largest, ties going to the
/// lower index (as `argmax` picks the first largest): 0 when it is the prediction. A target
/// outside the row, or a NaN logit, ranks last.
fn rank_of<T: Element>(row: &[T], target: usize) -> usize {
    let Some(&own) = row.get(target) else {
        return row.len();
    };
    // NaN is the one value unordered against itself.
    if own.partial_cmp(&own).is_none() {
        return row.len();
    }
    row.iter()
        .enumerate()
        .filter(|&(j, &v)| v > own || (v == own && j < target))
        .count()
}

/// The task's [`Metrics`] of `model` on `data`, in batches of [`EVAL_BATCH`] without recording
/// a graph. The model runs as it is set: put it in evaluation mode first
/// (`set_training(false)`, as [`crate::train::fit`] leaves it).
///
/// ```
/// use nabla_core::{DType, Generator, Tensor};
/// use nabla_nn::data::Dataset;
/// use nabla_nn::layers::Linear;
/// use nabla_nn::task::Task;
/// use nabla_nn::train::evaluate;
/// let model = Linear::new(2, 3, DType::F32, &mut Generator::new(0));
/// let data = Dataset::new(Tensor::ones(&[4, 2], DType::F32), Tensor::zeros(&[4], DType::I64))
///     .unwrap();
/// let metrics = evaluate(&model, &data, &Task::classes(3)).unwrap();
/// assert_eq!(metrics.samples, 4);
/// assert!(metrics.accuracy == Some(0.0) || metrics.accuracy == Some(1.0));
/// ```
pub fn evaluate(model: &dyn Module, data: &Dataset, task: &Task) -> Result<Metrics> {
    evaluate_with(model, data, task, DEFAULT_TOP_K)
}

/// [`evaluate`] that also hands back the model's outputs for every sample (`[N, outputs]`, as
/// [`predict`] gives them), from the same single pass over the data: what a report that needs
/// both the figures and the predictions calls.
///
/// ```
/// use nabla_core::{DType, Generator, Tensor};
/// use nabla_nn::data::Dataset;
/// use nabla_nn::layers::Linear;
/// use nabla_nn::task::Task;
/// use nabla_nn::train::{evaluate, evaluate_outputs};
/// let model = Linear::new(2, 3, DType::F32, &mut Generator::new(0));
/// let data = Dataset::new(Tensor::ones(&[4, 2], DType::F32), Tensor::zeros(&[4], DType::I64))
///     .unwrap();
/// let (metrics, outputs) = evaluate_outputs(&model, &data, &Task::classes(3)).unwrap();
/// assert_eq!(outputs.shape(), &[4, 3]);
/// assert_eq!(metrics, evaluate(&model, &data, &Task::classes(3)).unwrap());
/// ```
pub fn evaluate_outputs(
    model: &dyn Module,
    data: &Dataset,
    task: &Task,
) -> Result<(Metrics, Tensor)> {
    let mut pieces = Vec::new();
    let metrics = tally_batches(model, data, task, DEFAULT_TOP_K, |outputs| {
        pieces.push(outputs)
    })?;
    let refs: Vec<&Tensor> = pieces.iter().collect();
    Ok((metrics, Tensor::try_cat(&refs, 0)?))
}

/// [`evaluate`] with top-k accuracy for a given `k`.
pub(crate) fn evaluate_with(
    model: &dyn Module,
    data: &Dataset,
    task: &Task,
    k: usize,
) -> Result<Metrics> {
    tally_batches(model, data, task, k, drop)
}

/// The evaluation pass: the figures of `data` in batches of [`EVAL_BATCH`] without a graph,
/// each batch's outputs handed to `keep` once counted.
fn tally_batches(
    model: &dyn Module,
    data: &Dataset,
    task: &Task,
    k: usize,
    mut keep: impl FnMut(Tensor),
) -> Result<Metrics> {
    if data.is_empty() {
        return Err(Error::invalid(
            "evaluate",
            "the data set is empty; evaluation needs at least one sample",
        ));
    }
    let loader = DataLoader::new(data.clone(), EVAL_BATCH)?;
    let mut tally = Tally::new(task, k);
    no_grad(|| -> Result<()> {
        for batch in loader.epoch(0) {
            let outputs = model.try_forward(&batch.features)?;
            let loss = task_loss(task, &outputs, &batch.targets)?;
            tally.add(&outputs, &batch.targets, loss.try_to_f64_vec()?[0])?;
            keep(outputs);
        }
        Ok(())
    })?;
    Ok(tally.metrics())
}

/// The outputs of `model` for every row of `features` (`[N, ...]`), in batches of
/// [`EVAL_BATCH`] without recording a graph, joined into one `[N, outputs]` tensor: logits for
/// classification (softmax gives probabilities), values for regression. The model runs as it
/// is set: put it in evaluation mode first.
///
/// ```
/// use nabla_core::{DType, Generator, Tensor};
/// use nabla_nn::layers::Linear;
/// use nabla_nn::train::predict;
/// let model = Linear::new(2, 3, DType::F32, &mut Generator::new(0));
/// let outputs = predict(&model, &Tensor::ones(&[2500, 2], DType::F32)).unwrap();
/// assert_eq!(outputs.shape(), &[2500, 3]);
/// assert!(!outputs.requires_grad_flag());
/// ```
pub fn predict(model: &dyn Module, features: &Tensor) -> Result<Tensor> {
    let Some(&n) = features.shape().first() else {
        return Err(Error::invalid(
            "predict",
            "features need a sample dimension, got a scalar",
        ));
    };
    no_grad(|| -> Result<Tensor> {
        let mut pieces = Vec::with_capacity(n.div_ceil(EVAL_BATCH));
        for start in (0..n).step_by(EVAL_BATCH) {
            let rows = features.try_narrow(0, start, EVAL_BATCH.min(n - start))?;
            pieces.push(model.try_forward(&rows)?);
        }
        if pieces.is_empty() {
            return model.try_forward(features);
        }
        let refs: Vec<&Tensor> = pieces.iter().collect();
        Ok(Tensor::try_cat(&refs, 0)?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_break_ties_toward_the_lower_index_and_put_nan_last() {
        assert_eq!(rank_of(&[0.1, 0.7, 0.2], 1), 0);
        assert_eq!(rank_of(&[0.1, 0.7, 0.2], 0), 2);
        assert_eq!(rank_of(&[0.5, 0.5], 1), 1);
        assert_eq!(rank_of(&[f64::NAN, 0.5], 0), 2);
        assert_eq!(rank_of(&[0.5, 0.5], 7), 2);
    }

    #[test]
    fn a_tally_gives_accuracy_and_top_k_for_classes_and_errors_for_regression() {
        let mut t = Tally::new(&Task::classes(3), 2);
        let logits = Tensor::from_vec(vec![3.0f32, 2.0, 1.0, 1.0, 2.0, 3.0], &[2, 3]);
        t.add(&logits, &Tensor::from_vec(vec![1i64, 2], &[2]), 0.5)
            .unwrap();
        let m = t.metrics();
        assert_eq!((m.samples, m.loss, m.accuracy), (2, 0.5, Some(0.5)));
        assert_eq!(m.top_k, Some((2, 1.0)));
        let float_labels = Tensor::from_vec(vec![1.0f32, 2.0], &[2]);
        let err = t.add(&logits, &float_labels, 0.5).unwrap_err().to_string();
        assert!(
            err.contains("accuracy") && err.contains("i64 class indices"),
            "{err}"
        );
        assert_eq!(t.metrics(), m, "a refused batch is not counted");
        assert_eq!((m.mse, m.mae), (None, None));

        let task = Task::Regression {
            targets: vec!["a".into(), "b".into()],
        };
        let mut t = Tally::new(&task, 5);
        let out = Tensor::from_vec(vec![1.0f32, 2.0], &[1, 2]);
        t.add(&out, &Tensor::from_vec(vec![0.0f32, 4.0], &[1, 2]), 2.5)
            .unwrap();
        let m = t.metrics();
        assert_eq!(
            (m.mse, m.mae, m.accuracy, m.top_k),
            (Some(2.5), Some(1.5), None, None)
        );
    }
}
