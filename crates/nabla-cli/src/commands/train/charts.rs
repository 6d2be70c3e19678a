//! The training curves as SVG: `curves.svg` of one run (loss and accuracy in percent, or mean
//! absolute error for regression; train, validation and test per epoch) and `compare.svg` of
//! several (train loss and the accuracy, or error, the runs are ranked by, one line per run; a
//! failed run drawn up to its failure and marked).

use super::run_folder::EpochMetrics;
use crate::CliResult;
use nabla_inspect::diagnostics::{Failure, Panel, Series, line_chart_svg};

/// A figure of an epoch's record, when the run measured it.
type Field = fn(&EpochMetrics) -> Option<f64>;

fn series(name: &str, history: &[EpochMetrics], field: Field, dashed: bool) -> Series {
    Series {
        name: name.to_string(),
        points: history
            .iter()
            .filter_map(|m| Some((m.epoch as f64, field(m)?)))
            .collect(),
        dashed,
        failure: None,
        smoothing: 0.0,
    }
}

/// A panel of the series that have points (or a failure to mark); accuracy (`percent`) drawn
/// as percentages, as the console prints it.
fn panel(title: &str, y_label: &str, percent: bool, series: Vec<Series>) -> Panel {
    Panel {
        title: title.into(),
        x_label: "epoch".into(),
        y_label: y_label.into(),
        percent,
        series: series
            .into_iter()
            .filter(|s| !s.points.is_empty() || s.failure.is_some())
            .collect(),
        ..Panel::default()
    }
}

/// One panel of train (solid), validation and test (dashed) lines of the figure each field
/// gives.
fn sets(
    title: &str,
    y_label: &str,
    percent: bool,
    history: &[EpochMetrics],
    fields: [Field; 3],
) -> Panel {
    let [train, val, test] = fields;
    panel(
        title,
        y_label,
        percent,
        vec![
            series("train", history, train, false),
            series("validation", history, val, true),
            series("test", history, test, true),
        ],
    )
}

/// Whether the runs are classification (they measure accuracy).
fn classifies(history: &[EpochMetrics]) -> bool {
    history.iter().any(|m| m.train_acc.is_some())
}

/// One run: loss (left) and accuracy or mean absolute error (right).
pub fn curves_svg(title: &str, history: &[EpochMetrics]) -> CliResult<String> {
    let loss = sets(
        if classifies(history) {
            "cross-entropy loss"
        } else {
            "mean squared error"
        },
        "loss",
        false,
        history,
        [|m| Some(m.train_loss), |m| m.val_loss, |m| m.test_loss],
    );
    let second = if classifies(history) {
        sets(
            "accuracy",
            "accuracy",
            true,
            history,
            [|m| m.train_acc, |m| m.val_acc, |m| m.test_acc],
        )
    } else {
        sets(
            "mean absolute error",
            "error",
            false,
            history,
            [|m| m.train_mae, |m| m.val_mae, |m| m.test_mae],
        )
    };
    Ok(line_chart_svg(title, &[loss, second])?)
}

/// One run of a comparison: its name, the epochs it completed and, if it failed, why.
pub struct ComparedRun {
    pub name: String,
    pub history: Vec<EpochMetrics>,
    pub error: Option<String>,
}

/// Several runs: train loss (left) and the validation accuracy (or mean absolute error) when
/// the runs have a validation split, else the test one (right), one line per named run. A run
/// that failed is drawn up to its last completed epoch with a `×` in the epoch it failed in
/// and the error in the legend.
pub fn compare_svg(title: &str, runs: &[ComparedRun]) -> CliResult<String> {
    let of = |field: Field| {
        runs.iter()
            .map(|run| {
                let mut line = series(&run.name, &run.history, field, false);
                line.failure = run.error.as_ref().map(|e| Failure {
                    x: run.history.last().map_or(1, |m| m.epoch + 1) as f64,
                    note: e.clone(),
                });
                line
            })
            .collect()
    };
    let all: Vec<EpochMetrics> = runs.iter().flat_map(|r| r.history.clone()).collect();
    let validated = all.iter().any(|m| m.val_loss.is_some());
    let loss = panel("train loss", "loss", false, of(|m| Some(m.train_loss)));
    let second = match (classifies(&all), validated) {
        (true, true) => panel("validation accuracy", "accuracy", true, of(|m| m.val_acc)),
        (true, false) => panel("test accuracy", "accuracy", true, of(|m| m.test_acc)),
        (false, true) => panel(
            "validation mean absolute error",
            "error",
            false,
            of(|m| m.val_mae),
        ),
        (false, false) => panel(
            "test mean absolute error",
            "error",
            false,
            of(|m| m.test_mae),
        ),
    };
    Ok(line_chart_svg(title, &[loss, second])?)
}
