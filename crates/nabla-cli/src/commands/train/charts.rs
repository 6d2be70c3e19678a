//! The training curves as SVG: `curves.svg` of one run (loss and accuracy, or mean absolute
//! error for regression; train, validation and test per epoch) and `compare.svg` of several
//! (train loss and the accuracy, or error, the runs are ranked by, one line per run).

use super::run_folder::EpochMetrics;
use crate::CliResult;
use nabla_inspect::diagnostics::{Panel, Series, line_chart_svg};

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
    }
}

fn panel(title: &str, y_label: &str, series: Vec<Series>) -> Panel {
    Panel {
        title: title.into(),
        x_label: "epoch".into(),
        y_label: y_label.into(),
        log_y: false,
        series: series
            .into_iter()
            .filter(|s| !s.points.is_empty())
            .collect(),
    }
}

/// One panel of train (solid), validation and test (dashed) lines of the figure each field
/// gives.
fn sets(title: &str, y_label: &str, history: &[EpochMetrics], fields: [Field; 3]) -> Panel {
    let [train, val, test] = fields;
    panel(
        title,
        y_label,
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
        history,
        [|m| Some(m.train_loss), |m| m.val_loss, |m| m.test_loss],
    );
    let second = if classifies(history) {
        sets(
            "accuracy",
            "accuracy",
            history,
            [|m| m.train_acc, |m| m.val_acc, |m| m.test_acc],
        )
    } else {
        sets(
            "mean absolute error",
            "error",
            history,
            [|m| m.train_mae, |m| m.val_mae, |m| m.test_mae],
        )
    };
    Ok(line_chart_svg(title, &[loss, second])?)
}

/// Several runs: train loss (left) and the validation accuracy (or mean absolute error) when
/// the runs have a validation split, else the test one (right), one line per named run.
pub fn compare_svg(title: &str, runs: &[(String, Vec<EpochMetrics>)]) -> CliResult<String> {
    let of = |field: Field| {
        runs.iter()
            .map(|(name, history)| series(name, history, field, false))
            .collect()
    };
    let all: Vec<EpochMetrics> = runs.iter().flat_map(|(_, h)| h.clone()).collect();
    let validated = all.iter().any(|m| m.val_loss.is_some());
    let loss = panel("train loss", "loss", of(|m| Some(m.train_loss)));
    let second = match (classifies(&all), validated) {
        (true, true) => panel("validation accuracy", "accuracy", of(|m| m.val_acc)),
        (true, false) => panel("test accuracy", "accuracy", of(|m| m.test_acc)),
        (false, true) => panel("validation mean absolute error", "error", of(|m| m.val_mae)),
        (false, false) => panel("test mean absolute error", "error", of(|m| m.test_mae)),
    };
    Ok(line_chart_svg(title, &[loss, second])?)
}
