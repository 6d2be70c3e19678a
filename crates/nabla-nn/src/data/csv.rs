//! Tabular data from a CSV file: one column is the target (class labels or a regression value),
//! every other column is a numeric feature. Fields may be double-quoted (`""` escapes a quote);
//! a record must fit on one line. Blank lines are skipped.

use super::dataset::Dataset;
use crate::error::{Error, Result};
use nabla_core::Tensor;
use std::path::Path;

/// Which column holds the target.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    /// The column with this header name (needs a header row).
    Name(String),
    /// The column at this 0-based position.
    Index(usize),
}

/// How target values are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    /// Non-negative integers used as class indices (`i64` targets).
    ClassIndex,
    /// Arbitrary strings; the distinct values in sorted order become classes `0, 1, ...`.
    ClassName,
    /// Numbers to regress (`f32` targets).
    Regression,
}

/// How to read a CSV file.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvOptions {
    /// Whether the first non-blank line names the columns.
    pub has_header: bool,
    /// The field separator.
    pub delimiter: char,
    /// The target column.
    pub target: Column,
    /// How the target column is read.
    pub kind: TargetKind,
}

impl CsvOptions {
    /// Comma-separated with a header row.
    pub fn new(target: Column, kind: TargetKind) -> CsvOptions {
        CsvOptions {
            has_header: true,
            delimiter: ',',
            target,
            kind,
        }
    }
}

/// A dataset read from CSV, with the names that came with it.
///
/// ```
/// use nabla_nn::data::csv::{Column, CsvData, CsvOptions, TargetKind};
/// let text = "x,y,species\n1.0,2.0,setosa\n3.0,4.0,virginica\n5.0,6.0,setosa\n";
/// let options = CsvOptions::new(Column::Name("species".into()), TargetKind::ClassName);
/// let data = CsvData::parse(text, "iris.csv", &options).unwrap();
/// assert_eq!(data.dataset.features.shape(), &[3, 2]);
/// assert_eq!(data.dataset.targets.to_vec::<i64>(), vec![0, 1, 0]);
/// assert_eq!(data.class_names, Some(vec!["setosa".to_string(), "virginica".to_string()]));
/// ```
#[derive(Clone, Debug)]
pub struct CsvData {
    /// Features `[N, D]` `f32`; targets `[N]`, `i64` for classes or `f32` for regression.
    pub dataset: Dataset,
    /// The feature columns' header names, in order (when there is a header).
    pub feature_names: Option<Vec<String>>,
    /// The target column's header name (when there is a header).
    pub target_name: Option<String>,
    /// For [`TargetKind::ClassName`]: the name of each class index.
    pub class_names: Option<Vec<String>>,
}

impl CsvData {
    /// Reads and parses a CSV file.
    pub fn read(path: impl AsRef<Path>, options: &CsvOptions) -> Result<CsvData> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path, options)
    }

    /// Parses CSV text; `path` only names the source in errors.
    pub fn parse(text: &str, path: impl AsRef<Path>, options: &CsvOptions) -> Result<CsvData> {
        let path = path.as_ref();
        let fail = |message: String| Error::Format {
            path: path.to_path_buf(),
            message,
        };
        let mut records = text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(i, line)| {
                split_fields(line, options.delimiter)
                    .map(|fields| (i + 1, fields))
                    .map_err(|m| fail(format!("line {}: {m}", i + 1)))
            });
        let header = if options.has_header {
            Some(
                records
                    .next()
                    .transpose()?
                    .ok_or_else(|| fail("the file is empty".into()))?,
            )
        } else {
            None
        };
        let rows = records.collect::<Result<Vec<_>>>()?;
        let (width, width_line) = match (&header, rows.first()) {
            (Some((line, names)), _) => (names.len(), *line),
            (None, Some((line, fields))) => (fields.len(), *line),
            (None, None) => return Err(fail("the file is empty".into())),
        };
        if rows.is_empty() {
            return Err(fail("no data rows after the header".into()));
        }
        let names = header.map(|(_, names)| names);
        let target = match &options.target {
            Column::Index(i) if *i < width => *i,
            Column::Index(i) => {
                return Err(fail(format!(
                    "target column index {i} is out of range: line {width_line} has {width} columns"
                )));
            }
            Column::Name(name) => match &names {
                None => {
                    return Err(fail(format!(
                        "target column {name:?} is given by name but the file is read without a header row"
                    )));
                }
                Some(names) => names.iter().position(|n| n == name).ok_or_else(|| {
                    fail(format!(
                        "no column named {name:?} in the header (columns: {names:?})"
                    ))
                })?,
            },
        };
        if width < 2 {
            return Err(fail(format!(
                "line {width_line} has {width} column: a target and at least one feature are needed"
            )));
        }
        let describe = |column: usize| match &names {
            Some(names) => format!("column {} ({:?})", column + 1, names[column]),
            None => format!("column {}", column + 1),
        };
        let mut features = Vec::with_capacity(rows.len() * (width - 1));
        let mut target_fields = Vec::with_capacity(rows.len());
        for (line, fields) in &rows {
            if fields.len() != width {
                return Err(fail(format!(
                    "line {line} has {} fields, expected {width} like line {width_line}",
                    fields.len()
                )));
            }
            for (column, field) in fields.iter().enumerate() {
                if column == target {
                    target_fields.push((*line, field.as_str()));
                } else {
                    let value = field.parse::<f32>().map_err(|_| {
                        fail(format!(
                            "line {line}, {}: {field:?} is not a number",
                            describe(column)
                        ))
                    })?;
                    features.push(value);
                }
            }
        }
        let n = rows.len();
        let not_a = |line: usize, field: &str, what: &str| {
            fail(format!(
                "line {line}, {}: {field:?} is not {what}",
                describe(target)
            ))
        };
        let (targets, class_names) = match options.kind {
            TargetKind::Regression => {
                let values = target_fields
                    .iter()
                    .map(|&(line, f)| f.parse::<f32>().map_err(|_| not_a(line, f, "a number")))
                    .collect::<Result<Vec<f32>>>()?;
                (Tensor::from_vec(values, &[n]), None)
            }
            TargetKind::ClassIndex => {
                let labels = target_fields
                    .iter()
                    .map(|&(line, f)| {
                        f.parse::<i64>()
                            .ok()
                            .filter(|&c| c >= 0)
                            .ok_or_else(|| not_a(line, f, "a non-negative integer class index"))
                    })
                    .collect::<Result<Vec<i64>>>()?;
                (Tensor::from_vec(labels, &[n]), None)
            }
            TargetKind::ClassName => {
                let mut classes: Vec<&str> = target_fields.iter().map(|&(_, f)| f).collect();
                classes.sort_unstable();
                classes.dedup();
                let labels = target_fields
                    .iter()
                    .map(|&(_, f)| classes.binary_search(&f).unwrap_or_else(|at| at) as i64)
                    .collect();
                let class_names = classes.into_iter().map(String::from).collect();
                (Tensor::from_vec(labels, &[n]), Some(class_names))
            }
        };
        let (feature_names, target_name) = match names {
            Some(mut names) => {
                let target_name = names.remove(target);
                (Some(names), Some(target_name))
            }
            None => (None, None),
        };
        Ok(CsvData {
            dataset: Dataset::new(Tensor::from_vec(features, &[n, width - 1]), targets)?,
            feature_names,
            target_name,
            class_names,
        })
    }
}

/// Splits one line into trimmed fields, honouring double quotes.
fn split_fields(line: &str, delimiter: char) -> std::result::Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars
            .next_if(|c| *c != delimiter && c.is_whitespace())
            .is_some()
        {}
        let mut field = String::new();
        if chars.next_if_eq(&'"').is_some() {
            loop {
                match chars.next() {
                    Some('"') if chars.next_if_eq(&'"').is_some() => field.push('"'),
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err(format!("unterminated quoted field {}", fields.len() + 1)),
                }
            }
            while chars
                .next_if(|c| *c != delimiter && c.is_whitespace())
                .is_some()
            {}
            if chars.peek().is_some_and(|c| *c != delimiter) {
                return Err(format!(
                    "text after the closing quote of field {}",
                    fields.len() + 1
                ));
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != delimiter) {
                field.push(c);
            }
            field.truncate(field.trim_end().len());
        }
        fields.push(field);
        if chars.next().is_none() {
            return Ok(fields);
        }
    }
}
