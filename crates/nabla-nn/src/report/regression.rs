//! Regression figures as scikit-learn's `mean_squared_error`, `mean_absolute_error` and
//! `r2_score` give them, per target and averaged uniformly over targets.

use super::shown_name;
use crate::error::{Error, Result};
use std::fmt;

/// The errors of predictions of one target (or their mean over targets).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RegressionScores {
    /// Mean squared error.
    pub mse: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// Coefficient of determination, `1 - Σ(y - ŷ)² / Σ(y - ȳ)²`: 1 is perfect, 0 is no better
    /// than predicting the mean, negative is worse. A constant target gives 1 when predicted
    /// exactly and 0 otherwise (scikit-learn's `force_finite`).
    pub r2: f64,
}

/// Each target's [`RegressionScores`] and their uniform average (scikit-learn's
/// `multioutput="uniform_average"`).
///
/// ```
/// use nabla_nn::report::RegressionReport;
/// // Two samples of one target: true 1 and 3, predicted 2 and 3.
/// let report = RegressionReport::from_values(&[1.0, 3.0], &[2.0, 3.0], vec!["y".into()])?;
/// assert_eq!(report.mean.mse, 0.5);
/// assert_eq!(report.mean.mae, 0.5);
/// assert_eq!(report.mean.r2, 0.5); // 1 - 1 / 2
/// # Ok::<(), nabla_nn::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RegressionReport {
    /// Samples scored.
    pub samples: usize,
    /// Each target's name and scores, in column order.
    pub targets: Vec<(String, RegressionScores)>,
    /// The mean of the targets' scores.
    pub mean: RegressionScores,
}

impl RegressionReport {
    /// The scores of `predicted` against `actual` values, both row-major `[N, K]` with `K`
    /// the number of `targets`. Refuses no targets, no samples, slices of different lengths
    /// or not a whole number of rows.
    pub fn from_values(
        actual: &[f64],
        predicted: &[f64],
        targets: Vec<String>,
    ) -> Result<RegressionReport> {
        const CONTEXT: &str = "regression report";
        let k = targets.len();
        if k == 0 {
            return Err(Error::invalid(CONTEXT, "no targets"));
        }
        if actual.len() != predicted.len() || !actual.len().is_multiple_of(k) || actual.is_empty() {
            return Err(Error::invalid(
                CONTEXT,
                format!(
                    "{} true values and {} predictions are not the same positive number of \
                     rows of {k} targets",
                    actual.len(),
                    predicted.len()
                ),
            ));
        }
        let n = actual.len() / k;
        let column = |values: &[f64], j: usize| -> Vec<f64> {
            values.iter().skip(j).step_by(k).copied().collect()
        };
        let scored: Vec<(String, RegressionScores)> = targets
            .into_iter()
            .enumerate()
            .map(|(j, name)| (name, scores(&column(actual, j), &column(predicted, j))))
            .collect();
        let mean_of = |f: fn(&RegressionScores) -> f64| {
            scored.iter().map(|(_, s)| f(s)).sum::<f64>() / k as f64
        };
        let mean = RegressionScores {
            mse: mean_of(|s| s.mse),
            mae: mean_of(|s| s.mae),
            r2: mean_of(|s| s.r2),
        };
        Ok(RegressionReport {
            samples: n,
            targets: scored,
            mean,
        })
    }
}

/// The scores of one target's column.
fn scores(actual: &[f64], predicted: &[f64]) -> RegressionScores {
    let n = actual.len() as f64;
    let mean = actual.iter().sum::<f64>() / n;
    let (mut squared, mut absolute, mut total) = (0.0, 0.0, 0.0);
    for (y, p) in actual.iter().zip(predicted) {
        squared += (y - p) * (y - p);
        absolute += (y - p).abs();
        total += (y - mean) * (y - mean);
    }
    let r2 = match (squared == 0.0, total == 0.0) {
        (true, _) => 1.0,
        (false, true) => 0.0,
        (false, false) => 1.0 - squared / total,
    };
    RegressionScores {
        mse: squared / n,
        mae: absolute / n,
        r2,
    }
}

impl fmt::Display for RegressionReport {
    /// A table: a row per target, then the mean when there are several.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.targets.iter().map(|(t, _)| shown_name(t)).collect();
        let w = names
            .iter()
            .map(|n| n.chars().count())
            .chain(["target".len()])
            .max()
            .unwrap_or(0);
        writeln!(
            f,
            "{:<w$}  {:>12} {:>12} {:>9}",
            "target", "MSE", "MAE", "R²"
        )?;
        let mut rows: Vec<(&str, &RegressionScores)> = names
            .iter()
            .map(String::as_str)
            .zip(self.targets.iter().map(|(_, s)| s))
            .collect();
        if self.targets.len() > 1 {
            rows.push(("mean", &self.mean));
        }
        for (name, s) in rows {
            writeln!(
                f,
                "{name:<w$}  {:>12.6} {:>12.6} {:>9.4}",
                s.mse, s.mae, s.r2
            )?;
        }
        write!(f, "{} samples", self.samples)
    }
}
