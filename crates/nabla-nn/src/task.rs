//! What a model is trained to do: pick one of named classes, or predict named numbers. The
//! data readers find the task in the data; the training loop picks its loss and metrics from it;
//! a run saves it so `predict` and `evaluate` can name their answers.

use serde::{Deserialize, Serialize};

/// The task of a data set and of the model trained on it.
///
/// ```
/// use nabla_nn::task::Task;
/// let digits = Task::classes(10);
/// assert_eq!(digits.outputs(), 10);
/// assert_eq!(digits.class_name(3), Some("3"));
/// let price = Task::Regression { targets: vec!["price".into()] };
/// assert_eq!(price.outputs(), 1);
/// assert!(!price.is_classification());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Task {
    /// One of `classes` (their names, in class-index order): the model gives one logit per
    /// class, trained with softmax cross-entropy; targets are `i64` class indices `[N]`.
    Classification { classes: Vec<String> },
    /// The numbers named by `targets`: the model gives one output per target, trained with the
    /// mean squared error; targets are `f32`, `[N, targets.len()]`.
    Regression { targets: Vec<String> },
}

impl Task {
    /// Classification into `n` classes named `0`, `1`, ... (IDX labels, toy sets).
    pub fn classes(n: usize) -> Task {
        Task::Classification {
            classes: (0..n).map(|i| i.to_string()).collect(),
        }
    }

    /// The number of model outputs the task needs: classes or regression targets.
    pub fn outputs(&self) -> usize {
        match self {
            Task::Classification { classes } => classes.len(),
            Task::Regression { targets } => targets.len(),
        }
    }

    /// Whether the task is classification.
    pub fn is_classification(&self) -> bool {
        matches!(self, Task::Classification { .. })
    }

    /// The name of class `index`, if the task is classification and has it.
    pub fn class_name(&self, index: usize) -> Option<&str> {
        match self {
            Task::Classification { classes } => classes.get(index).map(String::as_str),
            Task::Regression { .. } => None,
        }
    }
}
