//! The training curves as SVG: `curves.svg` of one run (loss and accuracy, train and test, per
//! epoch) and `compare.svg` of several (train loss and test accuracy, one line per run).

use super::run_folder::EpochMetrics;
use crate::CliResult;
use nabla_inspect::diagnostics::{Panel, Series, line_chart_svg};

fn series(
    name: &str,
    history: &[EpochMetrics],
    field: fn(&EpochMetrics) -> f64,
    dashed: bool,
) -> Series {
    Series {
        name: name.to_string(),
        points: history.iter().map(|m| (m.epoch as f64, field(m))).collect(),
        dashed,
    }
}

fn panel(title: &str, y_label: &str, series: Vec<Series>) -> Panel {
    Panel {
        title: title.into(),
        x_label: "epoch".into(),
        y_label: y_label.into(),
        log_y: false,
        series,
    }
}

/// One run: loss (left) and accuracy (right), train solid and test dashed.
pub fn curves_svg(title: &str, history: &[EpochMetrics]) -> CliResult<String> {
    let loss = panel(
        "cross-entropy loss",
        "loss",
        vec![
            series("train", history, |m| m.train_loss, false),
            series("test", history, |m| m.test_loss, true),
        ],
    );
    let acc = panel(
        "accuracy",
        "accuracy",
        vec![
            series("train", history, |m| m.train_acc, false),
            series("test", history, |m| m.test_acc, true),
        ],
    );
    Ok(line_chart_svg(title, &[loss, acc])?)
}

/// Several runs: train loss (left) and test accuracy (right), one line per named run.
pub fn compare_svg(title: &str, runs: &[(String, Vec<EpochMetrics>)]) -> CliResult<String> {
    let of = |field: fn(&EpochMetrics) -> f64| {
        runs.iter()
            .map(|(name, history)| series(name, history, field, false))
            .collect()
    };
    let loss = panel("train loss", "loss", of(|m| m.train_loss));
    let acc = panel("test accuracy", "accuracy", of(|m| m.test_acc));
    Ok(line_chart_svg(title, &[loss, acc])?)
}
