//! CSV tables as training data: a training file and optionally a test file with the same
//! columns, one of them the target. Class names may be strings or integers: integers are
//! ordered as numbers (`2` before `10`), other names as strings, as scikit-learn's
//! `LabelEncoder` orders them.

use super::csv::{Column, CsvData, CsvOptions, TargetKind};
use super::dataset::Dataset;
use crate::error::{Error, Result};
use crate::task::Task;
use nabla_core::Tensor;
use std::path::Path;

/// A training table, its test table when there is one, and what they hold.
pub(crate) struct Table {
    pub train: Dataset,
    pub test: Option<Dataset>,
    pub task: Task,
    /// The feature columns, in order.
    pub columns: Vec<String>,
}

/// Reads `train` (and `test`) with `target` as the target column: class names, or with
/// `regression` numbers (`f32` targets `[N, 1]`).
pub(crate) fn load(
    train: &Path,
    test: Option<&Path>,
    target: &str,
    regression: bool,
) -> Result<Table> {
    let kind = if regression {
        TargetKind::Regression
    } else {
        TargetKind::ClassName
    };
    let options = CsvOptions::new(Column::Name(target.to_string()), kind);
    let train_data = CsvData::read(train, &options)?;
    let columns = train_data.feature_names.clone().unwrap_or_default();
    let test_data = test.map(|path| CsvData::read(path, &options)).transpose()?;
    if let (Some(path), Some(data)) = (test, &test_data) {
        let test_columns = data.feature_names.clone().unwrap_or_default();
        if test_columns != columns {
            return Err(Error::Format {
                path: path.to_path_buf(),
                message: format!(
                    "its feature columns {test_columns:?} differ from those of the training file \
                     {} ({columns:?})",
                    train.display()
                ),
            });
        }
    }
    if regression {
        let as_column = |data: &CsvData| {
            let n = data.dataset.len();
            Dataset::new(
                data.dataset.features.clone(),
                data.dataset.targets.reshape(&[n, 1]),
            )
        };
        return Ok(Table {
            train: as_column(&train_data)?,
            test: test_data.as_ref().map(as_column).transpose()?,
            task: Task::Regression {
                targets: vec![target.to_string()],
            },
            columns,
        });
    }
    let names = train_data.class_names.clone().unwrap_or_default();
    let classes = class_order(&names);
    let train_set = relabel(&train_data, &classes, train, target)?;
    let test_set = match (test, &test_data) {
        (Some(path), Some(data)) => Some(relabel(data, &classes, path, target)?),
        _ => None,
    };
    Ok(Table {
        train: train_set,
        test: test_set,
        task: Task::Classification { classes },
        columns,
    })
}

/// The class names in class-index order: as numbers when all are integers, else as strings.
fn class_order(names: &[String]) -> Vec<String> {
    let mut classes = names.to_vec();
    if classes.iter().all(|c| c.parse::<i64>().is_ok()) {
        classes.sort_by_key(|c| c.parse::<i64>().unwrap_or_default());
    }
    classes
}

/// `data`'s targets as indices into `classes` (a class not among them is an error naming the
/// file, `path`, and the class).
fn relabel(data: &CsvData, classes: &[String], path: &Path, target: &str) -> Result<Dataset> {
    let own = data.class_names.clone().unwrap_or_default();
    let mut map = Vec::with_capacity(own.len());
    for name in &own {
        let index = classes
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| Error::Format {
                path: path.to_path_buf(),
                message: format!(
                    "class {:?} in column {target:?} is not a class of the training data (its \
                 classes: {})",
                    crate::error::clip_to(name, 60),
                    classes.join(", ")
                ),
            })?;
        map.push(index as i64);
    }
    let labels: Vec<i64> = data
        .dataset
        .targets
        .to_vec::<i64>()
        .iter()
        .map(|&i| map[i as usize])
        .collect();
    let n = labels.len();
    Dataset::new(
        data.dataset.features.clone(),
        Tensor::from_vec(labels, &[n]),
    )
}

#[cfg(test)]
mod tests {
    use super::class_order;

    #[test]
    fn integer_classes_are_ordered_as_numbers_and_names_as_strings() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            class_order(&names(&["1", "10", "2"])),
            names(&["1", "2", "10"])
        );
        assert_eq!(
            class_order(&names(&["a10", "a2", "b"])),
            names(&["a10", "a2", "b"])
        );
    }
}
