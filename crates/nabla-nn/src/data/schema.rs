//! What a trained model expects of its input and what its outputs mean: the shape of one
//! sample, the task (class names or regression targets) and the preprocessing fitted on the
//! training split. A run saves it beside the weights, so predicting on new files applies the
//! same preprocessing and names the same classes.

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
///     preprocess: Preprocess::None,
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
    /// Used as they are.
    None,
    /// `(x - mean[i]) / std[i]`, with `i` the channel of an image (pixels first scaled from
    /// `0..=255` to `0..=1`) or the column of a table; statistics of the training split.
    Standardize { mean: Vec<f32>, std: Vec<f32> },
}
