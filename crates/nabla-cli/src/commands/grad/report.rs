//! What `nabla grad` prints: aligned text, or one JSON object. Numbers are written with the
//! shortest text that reads back as the same `f64`.

use crate::commands::json::{field, number, object};
use nabla_inspect::expr::{Evaluation, Expr, Mode};
use nabla_inspect::shortest;
use std::fmt::Write;

pub(super) struct Report<'a> {
    pub(super) expression: &'a Expr,
    pub(super) values: &'a [f64],
    pub(super) evaluation: &'a Evaluation,
    pub(super) hessian: Option<&'a [Vec<f64>]>,
    pub(super) mode: Mode,
}

impl Report<'_> {
    /// `{"value": 4, "grad": {"x": 12, ...}, "hessian": {"x": {"x": 2, ...}, ...}}`, variables
    /// in order of first appearance.
    pub(super) fn json(&self) -> String {
        let names = self.expression.variables();
        let grad = object(
            names
                .iter()
                .zip(&self.evaluation.gradient)
                .map(|(n, g)| field(n, number(*g)))
                .collect(),
        );
        let mut fields = vec![
            field("value", number(self.evaluation.value)),
            field("grad", grad),
        ];
        if let Some(hessian) = self.hessian {
            let rows = names
                .iter()
                .zip(hessian)
                .map(|(n, row)| {
                    let cells = names
                        .iter()
                        .zip(row)
                        .map(|(m, h)| field(m, number(*h)))
                        .collect();
                    field(n, object(cells))
                })
                .collect();
            fields.push(field("hessian", object(rows)));
        }
        object(fields)
    }

    /// The expression, the point, the value and gradient aligned on `=`, and the Hessian as a
    /// table.
    pub(super) fn text(&self) -> String {
        let names = self.expression.variables();
        let mut out = format!("f = {}\n", self.expression);
        if !names.is_empty() {
            let point: Vec<String> = names
                .iter()
                .zip(self.values)
                .map(|(n, v)| format!("{n} = {}", shortest(*v)))
                .collect();
            let _ = writeln!(out, "  at {}", point.join(", "));
        }
        let mut rows = vec![("f".to_string(), self.evaluation.value)];
        rows.extend(
            names
                .iter()
                .zip(&self.evaluation.gradient)
                .map(|(n, g)| (format!("∂f/∂{n}"), *g)),
        );
        let width = rows
            .iter()
            .map(|(l, _)| l.chars().count())
            .max()
            .unwrap_or(0);
        for (label, v) in &rows {
            let pad = width - label.chars().count();
            let _ = writeln!(out, "{label}{} = {}", " ".repeat(pad), shortest(*v));
        }
        if !names.is_empty() {
            let how = match self.mode {
                Mode::Reverse => "reverse mode: one backward pass",
                Mode::Forward => "forward mode: one JVP per variable",
            };
            let _ = writeln!(out, "(gradient by {how})");
        }
        if let Some(hessian) = self.hessian {
            let how = match self.mode {
                Mode::Reverse => "reverse over reverse",
                Mode::Forward => "forward over reverse",
            };
            let _ = writeln!(out, "\nHessian ∂²f/∂u∂v ({how}):");
            out.push_str(&table(names, hessian));
        }
        out
    }
}

/// A square table with `names` heading the rows and columns.
fn table(names: &[String], cells: &[Vec<f64>]) -> String {
    let text: Vec<Vec<String>> = cells
        .iter()
        .map(|row| row.iter().map(|v| shortest(*v)).collect())
        .collect();
    let first = names.iter().map(String::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..names.len())
        .map(|j| {
            text.iter()
                .map(|r| r[j].len())
                .chain([names[j].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = format!("  {:first$}", "");
    for (name, w) in names.iter().zip(&widths) {
        let _ = write!(out, "  {name:>w$}");
    }
    out.push('\n');
    for (name, row) in names.iter().zip(&text) {
        let _ = write!(out, "  {name:<first$}");
        for (cell, w) in row.iter().zip(&widths) {
            let _ = write!(out, "  {cell:>w$}");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use nabla_inspect::expr;

    #[test]
    fn hessian_table_aligns_columns() {
        let names = vec!["x".to_string(), "long".to_string()];
        let table = table(&names, &[vec![2.0, -0.5], vec![-0.5, 10.0]]);
        assert_eq!(
            table,
            "           x  long\n  x        2  -0.5\n  long  -0.5    10\n"
        );
    }

    #[test]
    fn non_finite_values_are_distinct_strings_in_json() {
        let e = expr::parse("log(x) + y").unwrap();
        let evaluation = Evaluation {
            value: f64::NEG_INFINITY,
            gradient: vec![f64::INFINITY, f64::NAN],
        };
        let report = Report {
            expression: &e,
            values: &[0.0, 1.0],
            evaluation: &evaluation,
            hessian: None,
            mode: Mode::Reverse,
        };
        assert_eq!(
            report.json(),
            r#"{"value": "-inf", "grad": {"x": "inf", "y": "nan"}}"#
        );
    }
}
