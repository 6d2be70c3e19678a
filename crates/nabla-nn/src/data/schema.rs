//! What a trained model expects of its input and what its outputs mean: the shape of one
//! sample, the task (class names or regression targets) and the preprocessing fitted on the
//! training split. A run saves it beside the weights, so predicting on new files applies the
//! same preprocessing and names the same classes.

use super::standardize::Standardization;
use crate::task::Task;
use serde::{Deserialize, Serialize};

/// The input and output description of a data set, saved with every model trained on it.
///
/// ```
/// use nabla_nn::data::{Preprocess, Schema};
/// use nabla_nn::task::Task;
/// let schema = Schema {
///     input_shape: vec![1, 28, 28],
///     task: Task::classes(10),
///     preprocess: Preprocess::Image {
///         mean: vec![0.1307],
///         std: vec![0.3081],
///         resize: None,
///     },
/// };
/// let json = serde_json::to_string(&schema).unwrap();
/// assert_eq!(serde_json::from_str::<Schema>(&json).unwrap(), schema);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    /// The shape of one sample's features as the model sees them: `[C, H, W]` for images
    /// (`C` = 1 for grayscale, 3 for RGB), `[D]` for tables and the 2-D toy sets.
    pub input_shape: Vec<usize>,
    /// Classes or regression targets.
    pub task: Task,
    /// How raw values become features.
    pub preprocess: Preprocess,
}

/// How raw input values become the features a model was trained on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Preprocess {
    /// Image pixels: resized to `resize` (`[H, W]`, bilinear) when the training images were,
    /// scaled from `0..=255` to `0..=1`, then `(x - mean[c]) / std[c]` per channel `c`, with
    /// the statistics of the training split (torchvision's `Resize`, `ToTensor`, `Normalize`).
    Image {
        mean: Vec<f32>,
        std: Vec<f32>,
        resize: Option<[usize; 2]>,
    },
    /// Table rows: the feature `columns` by name (a `target` column, when present, holds the
    /// answers), each standardised as `(x - mean[i]) / std[i]` with the statistics of the
    /// training split (scikit-learn's `StandardScaler`). The toy sets are drawn already
    /// centred and have mean 0 and std 1 here.
    Table {
        columns: Vec<String>,
        target: String,
        mean: Vec<f32>,
        std: Vec<f32>,
    },
}

impl Preprocess {
    /// The per-channel or per-column statistics as a [`Standardization`].
    pub(crate) fn standardization(&self) -> Standardization {
        match self {
            Preprocess::Image { mean, std, .. } | Preprocess::Table { mean, std, .. } => {
                Standardization {
                    mean: mean.clone(),
                    std: std.clone(),
                }
            }
        }
    }

    /// The raw values behind preprocessed features, in place: table columns back in their own
    /// units, image pixels back in `0..=255` (unrounded). `values` are whole samples, channel
    /// after channel of `inner` values each (`H * W` for images, 1 for table rows). Pictures of
    /// the data use it: the misclassified images of `nabla evaluate`, the axes of a decision
    /// boundary.
    ///
    /// ```
    /// use nabla_nn::data::Preprocess;
    /// let image = Preprocess::Image { mean: vec![0.5], std: vec![0.25], resize: None };
    /// let mut pixels = vec![-2.0, 0.0, 2.0];
    /// image.restore(&mut pixels, 3);
    /// assert_eq!(pixels, vec![0.0, 127.5, 255.0]);
    /// ```
    pub fn restore(&self, values: &mut [f32], inner: usize) {
        self.standardization().undo(values, inner);
        if let Preprocess::Image { .. } = self {
            for v in values.iter_mut() {
                *v *= 255.0;
            }
        }
    }
}

impl Schema {
    /// The input shape written as `1x28x28` (images) or `4` (table rows).
    ///
    /// ```
    /// use nabla_nn::data::{Preprocess, Schema};
    /// use nabla_nn::task::Task;
    /// let schema = Schema {
    ///     input_shape: vec![3, 32, 32],
    ///     task: Task::classes(10),
    ///     preprocess: Preprocess::Image { mean: vec![0.5; 3], std: vec![0.25; 3], resize: None },
    /// };
    /// assert_eq!(schema.shape_text(), "3x32x32");
    /// ```
    pub fn shape_text(&self) -> String {
        shape_text(&self.input_shape)
    }
}

/// A shape written as `CxHxW`.
pub(crate) fn shape_text(shape: &[usize]) -> String {
    shape
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("x")
}
