//! New inputs for a trained model, read and preprocessed as its training data was: image files
//! (PNG, JPEG), IDX files of images, CSV rows, and labelled folders (an IDX folder or an
//! `ImageFolder` tree).

use super::csv::{finite, read_text, records};
use super::idx_images::{IdxFolder, Images};
use super::image_folder::{ImageFolder, decode, is_gray, is_image_file, push_pixels, size_of};
use super::schema::{Preprocess, Schema, shape_text};
use crate::error::{Error, Result, clip_to};
use crate::task::Task;
use nabla_core::Tensor;
use std::path::{Path, PathBuf};

/// Inputs ready for a model: features `[M, ...input_shape]`, one name per sample, and the
/// targets when every input carried them (CSV rows with the target column).
#[derive(Clone, Debug)]
pub struct Inputs {
    /// `[M, ...]` `f32`, preprocessed.
    pub features: Tensor,
    /// `cat.png`, `digits.idx[7]`, `rows.csv:12` (file and line).
    pub names: Vec<String>,
    /// `i64` class indices `[M]` or `f32` `[M, 1]`, when every input had them.
    pub targets: Option<Tensor>,
}

/// A refusal of an input, as one line: `predict: cat.png is 3x32x32 but ...`.
fn refuse(message: String) -> Error {
    Error::invalid("predict", message)
}

/// The feature columns and the target column a model was trained on.
struct TableColumns<'a> {
    columns: &'a [String],
    target: &'a str,
}

/// Targets of table rows as they are read.
enum Targets {
    Classes(Vec<i64>),
    Values(Vec<f32>),
}

impl Schema {
    /// Reads `paths` as inputs for a model trained on data of this schema: image files are
    /// resized like the training images (when those were) and standardised with the saved
    /// statistics; an IDX file gives one input per image; a CSV file one per row (the target
    /// column is optional). Inputs whose shape differs from [`Schema::input_shape`] are refused
    /// with one line.
    ///
    /// A folder gives labelled images, read as `nabla train --data` reads it: an IDX folder
    /// its test pair when it has one, else its training pair (`file.idx[7]` names); any other
    /// folder is an `ImageFolder` tree whose class folders must be among the model's classes
    /// and take their indices by name. Only the saved statistics are applied: nothing is
    /// fitted on the new data.
    ///
    /// ```
    /// use nabla_nn::data::{Preprocess, Schema};
    /// use nabla_nn::task::Task;
    /// let schema = Schema {
    ///     input_shape: vec![2],
    ///     task: Task::classes(2),
    ///     preprocess: Preprocess::Table {
    ///         columns: vec!["x".into(), "y".into()],
    ///         target: "class".into(),
    ///         mean: vec![1.0, 0.0],
    ///         std: vec![2.0, 1.0],
    ///     },
    /// };
    /// let path = std::env::temp_dir().join(format!("points-{}.csv", std::process::id()));
    /// std::fs::write(&path, "y,x\n1,3\n0,5\n").unwrap();
    /// let inputs = schema.read_inputs(&[path.clone()]).unwrap();
    /// assert_eq!(inputs.features.to_vec::<f32>(), vec![1.0, 1.0, 2.0, 0.0]);
    /// assert!(inputs.names[1].ends_with(".csv:3"));
    /// assert!(inputs.targets.is_none());
    /// # std::fs::remove_file(path).unwrap();
    /// ```
    pub fn read_inputs(&self, paths: &[PathBuf]) -> Result<Inputs> {
        let mut values = Vec::new();
        let mut names = Vec::new();
        let mut targets = match self.task {
            Task::Classification { .. } => Targets::Classes(Vec::new()),
            Task::Regression { .. } => Targets::Values(Vec::new()),
        };
        let mut all_targets = true;
        for path in paths {
            let is_csv = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
            match (&self.preprocess, is_csv) {
                (
                    Preprocess::Table {
                        columns, target, ..
                    },
                    true,
                ) => {
                    let table = TableColumns { columns, target };
                    all_targets &=
                        self.read_rows(path, table, &mut values, &mut names, &mut targets)?;
                }
                (Preprocess::Table { columns, .. }, false) => {
                    return Err(refuse(format!(
                        "{} is not a CSV file but the model was trained on table rows of {} \
                         columns ({})",
                        path.display(),
                        columns.len(),
                        columns.join(", ")
                    )));
                }
                (Preprocess::Image { .. }, true) => {
                    return Err(refuse(format!(
                        "{} is a table but the model was trained on {} images",
                        path.display(),
                        self.shape_text()
                    )));
                }
                (Preprocess::Image { resize, .. }, false) if path.is_dir() => {
                    let (Task::Classification { classes }, Targets::Classes(labels)) =
                        (&self.task, &mut targets)
                    else {
                        return Err(refuse(format!(
                            "{} is a folder of labelled images but the model is a regression \
                             model",
                            path.display()
                        )));
                    };
                    labels.extend(self.read_folder(
                        path,
                        *resize,
                        classes,
                        &mut values,
                        &mut names,
                    )?);
                }
                (Preprocess::Image { resize, .. }, false) if is_image_file(path) => {
                    self.read_image(path, *resize, &mut values)?;
                    names.push(path.display().to_string());
                    all_targets = false;
                }
                (Preprocess::Image { .. }, false) => {
                    self.push_idx(path, Images::read_idx(path)?, &mut values, &mut names)?;
                    all_targets = false;
                }
            }
        }
        let (inner, m) = match self.input_shape.as_slice() {
            [_, h, w] => (h * w, names.len()),
            _ => (1, names.len()),
        };
        self.preprocess.standardization().apply(&mut values, inner);
        let mut shape = vec![m];
        shape.extend_from_slice(&self.input_shape);
        let targets = all_targets.then(|| match targets {
            Targets::Classes(labels) => Tensor::from_vec(labels, &[m]),
            Targets::Values(values) => Tensor::from_vec(values, &[m, 1]),
        });
        Ok(Inputs {
            features: Tensor::from_vec(values, &shape),
            names,
            targets,
        })
    }

    /// The images of an IDX file, checked against the input shape, appended to `out` with
    /// their names.
    fn push_idx(
        &self,
        path: &Path,
        images: Images,
        out: &mut Vec<f32>,
        names: &mut Vec<String>,
    ) -> Result<()> {
        let [n, c, h, w] = images.shape;
        if [c, h, w][..] != self.input_shape[..] {
            return Err(refuse(format!(
                "{} holds {} images but the model was trained on {} images",
                path.display(),
                shape_text(&[c, h, w]),
                self.shape_text()
            )));
        }
        out.extend(images.values);
        names.extend((0..n).map(|i| format!("{}[{i}]", path.display())));
        Ok(())
    }

    /// The labelled images of a folder (see [`Schema::read_inputs`]), appended to `out` with
    /// their names; their class indices among `classes`.
    fn read_folder(
        &self,
        dir: &Path,
        resize: Option<[usize; 2]>,
        classes: &[String],
        out: &mut Vec<f32>,
        names: &mut Vec<String>,
    ) -> Result<Vec<i64>> {
        if let Ok(idx) = IdxFolder::find(dir) {
            let pair = idx.test.unwrap_or(idx.train);
            let (array, labels) = pair.read()?;
            self.push_idx(
                &pair.images,
                Images::from_idx(&array, &pair.images)?,
                out,
                names,
            )?;
            if let Some(i) = labels.iter().position(|&c| c as usize >= classes.len()) {
                return Err(Error::Format {
                    path: pair.labels,
                    message: format!(
                        "label {} at index {i} is not a class the model knows (it has {} \
                         classes)",
                        labels[i],
                        classes.len()
                    ),
                });
            }
            return Ok(labels);
        }
        let folder = ImageFolder::scan(dir, Some(classes))?;
        for (path, _) in &folder.files {
            self.read_image(path, resize, out)?;
            names.push(path.display().to_string());
        }
        Ok(folder.files.iter().map(|(_, label)| *label).collect())
    }

    /// One image file's pixels, `[C, H, W]` in `0..=1`, appended to `out`.
    fn read_image(
        &self,
        path: &Path,
        resize: Option<[usize; 2]>,
        out: &mut Vec<f32>,
    ) -> Result<()> {
        let image = decode(path)?;
        let channels = if is_gray(&image) { 1 } else { 3 };
        let [h, w] = size_of(&image);
        let [sh, sw] = resize.unwrap_or([h, w]);
        let wanted = self.input_shape.as_slice();
        // A grayscale image is widened to RGB for an RGB model, as the training data was.
        let fits =
            matches!(wanted, [c, th, tw] if (*c == channels || *c == 3) && [*th, *tw] == [sh, sw]);
        if !fits {
            return Err(refuse(format!(
                "{} is {} but the model was trained on {} images",
                path.display(),
                shape_text(&[channels, h, w]),
                self.shape_text()
            )));
        }
        push_pixels(&image, wanted[0], resize, out);
        Ok(())
    }

    /// The rows of a CSV file with a header naming the training columns (in any order; the
    /// target column optional), appended to `out`; whether it had the target column.
    fn read_rows(
        &self,
        path: &Path,
        table: TableColumns<'_>,
        out: &mut Vec<f32>,
        names: &mut Vec<String>,
        targets: &mut Targets,
    ) -> Result<bool> {
        let TableColumns { columns, target } = table;
        let fail = |message: String| Error::Format {
            path: path.to_path_buf(),
            message,
        };
        let text = read_text(path)?;
        let mut lines = records(&text, ',');
        let (header_line, header) = lines
            .next()
            .ok_or_else(|| fail("the file is empty".into()))?;
        let header = header.map_err(|m| fail(format!("line {header_line}: {m}")))?;
        let mut positions = Vec::with_capacity(columns.len());
        for column in columns {
            let at = header.iter().position(|h| h == column).ok_or_else(|| {
                refuse(format!(
                    "{} has no column {column:?}; the model was trained on the columns {}",
                    path.display(),
                    columns.join(", ")
                ))
            })?;
            positions.push(at);
        }
        if let Some(extra) = header
            .iter()
            .find(|h| *h != target && !columns.iter().any(|c| c == *h))
        {
            return Err(refuse(format!(
                "{} has a column {:?} the model was not trained on (its columns: {})",
                path.display(),
                clip_to(extra, 60),
                columns.join(", ")
            )));
        }
        let target_at = header.iter().position(|h| h == target);
        for (line, fields) in lines {
            let fields = fields.map_err(|m| fail(format!("line {line}: {m}")))?;
            if fields.len() != header.len() {
                return Err(fail(format!(
                    "line {line} has {} fields, expected {} like the header",
                    fields.len(),
                    header.len()
                )));
            }
            for (&at, column) in positions.iter().zip(columns) {
                let field = &fields[at];
                out.push(finite(field).map_err(|what| {
                    fail(format!(
                        "line {line}, column {} ({column:?}): {:?} {what}",
                        at + 1,
                        clip_to(field, 60)
                    ))
                })?);
            }
            if let Some(at) = target_at {
                let field = &fields[at];
                match targets {
                    Targets::Classes(labels) => {
                        let known = match &self.task {
                            Task::Classification { classes } => classes.as_slice(),
                            Task::Regression { .. } => &[],
                        };
                        let index = known.iter().position(|c| c == field).ok_or_else(|| {
                            fail(format!(
                                "line {line}: class {:?} is not one the model knows",
                                clip_to(field, 60)
                            ))
                        })?;
                        labels.push(index as i64);
                    }
                    Targets::Values(values) => values.push(finite(field).map_err(|what| {
                        fail(format!(
                            "line {line}, column {} ({target:?}): {:?} {what}",
                            at + 1,
                            clip_to(field, 60)
                        ))
                    })?),
                }
            }
            names.push(format!("{}:{line}", path.display()));
        }
        Ok(target_at.is_some())
    }
}
