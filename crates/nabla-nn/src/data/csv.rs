//! Tabular data from a CSV file: one column is the target (class labels or a regression value),
//! every other column is a numeric feature. Fields may be double-quoted (`""` escapes a quote);
//! a record must fit on one line. Blank lines are skipped. Every number must be finite: NaN,
//! infinities and values beyond `f32` are refused with their line and column.

use super::dataset::Dataset;
use crate::error::{Error, Result, clip_to};
use nabla_core::Tensor;
use std::borrow::Cow;
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

/// Most columns a table may have: a line with more fields is refused before they are stored.
pub const MAX_COLUMNS: usize = 1 << 20;
/// Most characters of a field or a name echoed in an error message.
const ECHO: usize = 60;

impl CsvData {
    /// Reads and parses a CSV file. A file larger than the memory its text and features would
    /// take ([`crate::memory`]) is refused before it is read.
    pub fn read(path: impl AsRef<Path>, options: &CsvOptions) -> Result<CsvData> {
        let path = path.as_ref();
        Self::parse(&read_text(path)?, path, options)
    }

    /// Parses CSV text; `path` only names the source in errors. Rows are parsed one at a time
    /// straight into the feature matrix, so the memory taken is that of the result; NaN,
    /// infinities and numbers beyond `f32` are refused with their line and column.
    pub fn parse(text: &str, path: impl AsRef<Path>, options: &CsvOptions) -> Result<CsvData> {
        let path = path.as_ref();
        let fail = |message: String| Error::Format {
            path: path.to_path_buf(),
            message,
        };
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, line)| (i + 1, line))
            .filter(|(_, line)| !line.trim().is_empty());
        let (width_line, first) = lines
            .next()
            .ok_or_else(|| fail("the file is empty".into()))?;
        let mut first_fields = Vec::new();
        for field in Fields::new(first, options.delimiter) {
            if first_fields.len() == MAX_COLUMNS {
                return Err(fail(format!(
                    "line {width_line} has more than {MAX_COLUMNS} fields"
                )));
            }
            first_fields.push(field.map_err(|m| fail(format!("line {width_line}: {m}")))?);
        }
        let width = first_fields.len();
        let names: Option<Vec<String>> = options
            .has_header
            .then(|| first_fields.into_iter().map(String::from).collect());
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
                        "target column {:?} is given by name but the file is read without a header row",
                        clip(name)
                    )));
                }
                Some(names) => names.iter().position(|n| n == name).ok_or_else(|| {
                    fail(format!(
                        "no column named {:?} in the header (columns: {})",
                        clip(name),
                        list(names)
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
            Some(names) => format!("column {} ({:?})", column + 1, clip(&names[column])),
            None => format!("column {}", column + 1),
        };
        let data_lines = (!options.has_header)
            .then_some((width_line, first))
            .into_iter()
            .chain(lines);
        let mut features = Vec::new();
        let mut targets = match options.kind {
            TargetKind::Regression => Targets::Values(Vec::new()),
            TargetKind::ClassIndex => Targets::Indices(Vec::new()),
            TargetKind::ClassName => Targets::Names(Vec::new()),
        };
        let mut n = 0;
        for (line, text) in data_lines {
            let mut count = 0;
            for field in Fields::new(text, options.delimiter) {
                let field = field.map_err(|m| fail(format!("line {line}: {m}")))?;
                let column = count;
                count += 1;
                if column >= width {
                    continue;
                }
                let bad = |what: &str| {
                    fail(format!(
                        "line {line}, {}: {:?} {what}",
                        describe(column),
                        clip(&field)
                    ))
                };
                if column != target {
                    features.push(finite(&field).map_err(bad)?);
                    continue;
                }
                match &mut targets {
                    Targets::Values(values) => values.push(finite(&field).map_err(bad)?),
                    Targets::Indices(labels) => labels.push(
                        field
                            .parse::<i64>()
                            .ok()
                            .filter(|&c| c >= 0)
                            .ok_or_else(|| bad("is not a non-negative integer class index"))?,
                    ),
                    Targets::Names(names) => names.push(field),
                }
            }
            if count != width {
                return Err(fail(format!(
                    "line {line} has {count} fields, expected {width} like line {width_line}"
                )));
            }
            n += 1;
        }
        if n == 0 {
            return Err(fail("no data rows after the header".into()));
        }
        let (targets, class_names) = match targets {
            Targets::Values(values) => (Tensor::from_vec(values, &[n]), None),
            Targets::Indices(labels) => (Tensor::from_vec(labels, &[n]), None),
            Targets::Names(fields) => {
                let mut classes: Vec<&str> = fields.iter().map(|f| f.as_ref()).collect();
                classes.sort_unstable();
                classes.dedup();
                let labels = fields
                    .iter()
                    .map(|f| classes.binary_search(&f.as_ref()).unwrap_or_else(|at| at) as i64)
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

/// The text of a CSV file, refused before it is read when the file is larger than the memory
/// its text and features would take ([`crate::memory`]).
pub(crate) fn read_text(path: &Path) -> Result<String> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    // The text, and at most 4 bytes of features for every 2 bytes of it.
    crate::memory::check(
        &format!("{}: its text and features", path.display()),
        len.checked_mul(3),
        crate::memory::available(),
    )?;
    std::fs::read_to_string(path).map_err(io)
}

/// The non-blank lines of `text` with their 1-based numbers, each split into its fields (or
/// what is wrong with its quoting).
pub(crate) fn records(
    text: &str,
    delimiter: char,
) -> impl Iterator<Item = (usize, std::result::Result<Vec<Cow<'_, str>>, String>)> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(move |(i, line)| (i + 1, Fields::new(line, delimiter).collect()))
}

/// The target column as it is read.
enum Targets<'a> {
    Values(Vec<f32>),
    Indices(Vec<i64>),
    Names(Vec<Cow<'a, str>>),
}

/// A field as a finite `f32`, or what is wrong with it.
pub(crate) fn finite(field: &str) -> std::result::Result<f32, &'static str> {
    match field.parse::<f32>() {
        Err(_) => Err("is not a number"),
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_)
            if field
                .trim_start_matches(['+', '-'])
                .starts_with(['i', 'I', 'n', 'N']) =>
        {
            Err("is not a finite number (NaN and infinity are refused)")
        }
        Ok(_) => Err("is beyond the range of f32 (about ±3.4e38)"),
    }
}

/// `text`, cut to its first [`ECHO`] characters (with `…`) for an error message.
fn clip(text: &str) -> Cow<'_, str> {
    clip_to(text, ECHO)
}

/// The first names of a header for an error message, then how many more there are.
fn list(names: &[String]) -> String {
    const SHOWN: usize = 20;
    let shown: Vec<Cow<'_, str>> = names.iter().take(SHOWN).map(|n| clip(n)).collect();
    match names.len().checked_sub(SHOWN) {
        Some(more) if more > 0 => format!("{shown:?} and {more} more"),
        _ => format!("{shown:?}"),
    }
}

/// The trimmed fields of one line, honouring double quotes (`""` inside quotes is a quote).
/// A field is copied only when it holds an escaped quote.
struct Fields<'a> {
    rest: Option<&'a str>,
    delimiter: char,
    index: usize,
}

impl<'a> Fields<'a> {
    fn new(line: &'a str, delimiter: char) -> Fields<'a> {
        Fields {
            rest: Some(line),
            delimiter,
            index: 0,
        }
    }

    /// The field at the start of `line` (whitespace already skipped) and what follows it.
    fn split(&self, line: &'a str) -> std::result::Result<(Cow<'a, str>, Option<&'a str>), String> {
        let delimiter = self.delimiter;
        let Some(quoted) = line.strip_prefix('"') else {
            return Ok(match line.find(delimiter) {
                Some(at) => (
                    Cow::Borrowed(line[..at].trim_end()),
                    Some(&line[at + delimiter.len_utf8()..]),
                ),
                None => (Cow::Borrowed(line.trim_end()), None),
            });
        };
        let mut field = Cow::Borrowed("");
        let mut from = 0;
        let after = loop {
            let Some(quote) = quoted[from..].find('"').map(|q| from + q) else {
                return Err(format!("unterminated quoted field {}", self.index));
            };
            let escaped = quoted[quote + 1..].starts_with('"');
            let piece = &quoted[from..if escaped { quote + 1 } else { quote }];
            if field.is_empty() {
                field = Cow::Borrowed(piece);
            } else {
                field.to_mut().push_str(piece);
            }
            if !escaped {
                break &quoted[quote + 1..];
            }
            from = quote + 2;
        };
        let after = after.trim_start_matches(|c: char| c != delimiter && c.is_whitespace());
        match after.strip_prefix(delimiter) {
            Some(rest) => Ok((field, Some(rest))),
            None if after.is_empty() => Ok((field, None)),
            None => Err(format!(
                "text after the closing quote of field {}",
                self.index
            )),
        }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = std::result::Result<Cow<'a, str>, String>;

    fn next(&mut self) -> Option<Self::Item> {
        let line = self.rest.take()?;
        self.index += 1;
        let delimiter = self.delimiter;
        let line = line.trim_start_matches(|c: char| c != delimiter && c.is_whitespace());
        Some(self.split(line).map(|(field, rest)| {
            self.rest = rest;
            field
        }))
    }
}
