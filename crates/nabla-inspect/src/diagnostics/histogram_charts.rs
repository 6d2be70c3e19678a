//! Histogram pictures of a network's layers: the outputs of each activation layer at one probe
//! (the textbook's figures 6-10, 6-11 and 6-13), the weights and weight gradients of each layer
//! with parameters, and TensorBoard's "distribution over epochs" of all three, one picture per
//! layer. Layers are named as the textbook does (`layer 1 (Sigmoid)`), and pictures meant to be
//! compared side by side share their scale.

use super::charts::{ChartError, Frame, chart, chart_error, colour, titled_grid};
use super::histogram::{Histogram, TensorStats};
use super::recorder::{Diagnostics, EpochSnapshot, LayerInfo, LayerSnapshot};
use super::ticks::{Scale, log_tick_label};
use plotters::coord::Shift;
use plotters::prelude::*;

/// How histogram counts are drawn.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Counts {
    /// Bars as tall as their counts.
    #[default]
    Linear,
    /// Bars as tall as the log10 of their counts (ticks at 1, 10, 100, ...), so a spike (the
    /// zeros of a ReLU) does not flatten every other bar.
    Log,
}

const CELL: (u32, u32) = (280, 240);
const HISTOGRAM_FRAME: Frame = Frame {
    caption: 13,
    margin: 8,
    x_area: 30,
    y_area: 56,
    ticks: 4,
};

/// One histogram to draw, titled.
struct Cell<'a> {
    title: String,
    histogram: &'a Histogram,
}

/// The largest count of the histograms, the top of a shared count axis.
fn top_count<'a>(histograms: impl Iterator<Item = &'a Histogram>) -> u64 {
    histograms
        .flat_map(|h| h.counts.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1)
}

/// Draws one histogram over `x` (its own range, or one shared by a row) with its count axis
/// up to `top` (its own largest count, or one shared by a row).
fn draw_histogram(
    area: &DrawingArea<SVGBackend, Shift>,
    cell: &Cell,
    counts: Counts,
    x: (f64, f64),
    top: u64,
) -> Result<(), ChartError> {
    let h = cell.histogram;
    let (scale, base, top, label) = match counts {
        Counts::Linear => (Scale::Integer, 0.0, top as f64 * 1.05, "count"),
        // Bars start at 0.5 so a bin of one value shows.
        Counts::Log => (
            Scale::Log,
            -0.3,
            (top as f64).log10() * 1.05 + 0.1,
            "count (log)",
        ),
    };
    let height = |c: u64| match counts {
        Counts::Linear => c as f64,
        Counts::Log if c > 0 => (c as f64).log10(),
        Counts::Log => base,
    };
    let mut chart = chart(
        area,
        &cell.title,
        &HISTOGRAM_FRAME,
        (Scale::Linear, x, ""),
        (scale, (base, top), label),
    )?;
    let edges = h.edges();
    chart
        .draw_series(h.counts.iter().enumerate().map(|(i, &c)| {
            Rectangle::new(
                [(edges[i], base), (edges[i + 1], height(c))],
                colour(0).filled(),
            )
        }))
        .map_err(chart_error)?;
    // A line at each bar's centre, so bars narrower than a pixel on a shared axis (a vanishing
    // gradient's values, all near 0) still show as a spike.
    chart
        .draw_series(
            h.counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(i, &c)| {
                    let x = 0.5 * (edges[i] + edges[i + 1]);
                    PathElement::new(vec![(x, base), (x, height(c))], colour(0).stroke_width(1))
                }),
        )
        .map_err(chart_error)?;
    Ok(())
}

/// `note` of a layer at a probe: its saturated or dead fraction.
fn unit_note(layer: &LayerSnapshot) -> String {
    match (layer.saturated, layer.dead) {
        (Some(s), _) => format!(": {:.1}% saturated", 100.0 * s),
        (_, Some(d)) => format!(": {:.1}% dead", 100.0 * d),
        _ => String::new(),
    }
}

/// The layers whose outputs are drawn: the activation layers, or every layer when the network
/// has no non-linearity.
fn shown_outputs<'a>(layers: &[LayerInfo], snapshot: &'a EpochSnapshot) -> Vec<&'a LayerSnapshot> {
    let shown: Vec<_> = snapshot
        .layers
        .iter()
        .filter(|l| layers[l.layer].kind.is_activation())
        .collect();
    if shown.is_empty() {
        snapshot.layers.iter().collect()
    } else {
        shown
    }
}

/// One histogram panel per activation layer (every layer when the network has no
/// non-linearity) at one probe, titled `layer 1 (Sigmoid): 86.3% saturated` (or `% dead`), all
/// on one count axis so the layers compare; `counts` draws them linear or log.
///
/// ```
/// use nabla_core::{DType, Generator, Tensor};
/// use nabla_inspect::diagnostics::{Counts, Recorder, activation_histograms_svg};
/// use nabla_nn::models::{Hidden, MlpConfig, WeightInit};
/// let config = MlpConfig { input: 4, hidden: vec![8], outputs: 2, activation: Hidden::Sigmoid,
///     init: WeightInit::Std(1.0), batch_norm: false, dropout: 0.0 };
/// let net = config.build(DType::F64, &mut Generator::new(0)).unwrap();
/// let mut recorder = Recorder::new(&net);
/// recorder.snapshot(0, &net, &Tensor::ones(&[16, 4], DType::F64), |y| Ok(y.sum())).unwrap();
/// let report = recorder.report();
/// let svg = activation_histograms_svg(&report.layers, &report.epochs[0], "epoch 0", Counts::Linear).unwrap();
/// assert!(svg.contains("layer 1 (Sigmoid): "));
/// ```
pub fn activation_histograms_svg(
    layers: &[LayerInfo],
    snapshot: &EpochSnapshot,
    title: &str,
    counts: Counts,
) -> Result<String, ChartError> {
    let cells: Vec<Cell> = shown_outputs(layers, snapshot)
        .into_iter()
        .map(|l| Cell {
            title: format!("{}{}", layers[l.layer].label, unit_note(l)),
            histogram: &l.activation.histogram,
        })
        .collect();
    let top = top_count(cells.iter().map(|c| c.histogram));
    titled_grid(CELL, (title, 18), &[cells], |area, _, cell| {
        let h = cell.histogram;
        draw_histogram(area, cell, counts, (h.lo, h.hi), top)
    })
}

/// The weights (top row) and weight gradients (bottom row) of each layer with a weight at one
/// probe, one column per layer. Each row shares its value axis so the layers compare (a
/// vanishing gradient is a spike at 0 beside wide ones); counts are per layer, since layers
/// have different numbers of weights.
pub fn weight_histograms_svg(
    layers: &[LayerInfo],
    snapshot: &EpochSnapshot,
    title: &str,
) -> Result<String, ChartError> {
    let row = |what: &str, stats: fn(&LayerSnapshot) -> Option<&TensorStats>| -> Vec<Cell> {
        snapshot
            .layers
            .iter()
            .filter_map(|l| {
                let stats = stats(l)?;
                let spread = if stats.std > 0.0 {
                    format!(", std {}", log_tick_label(stats.std.log10()))
                } else {
                    String::new()
                };
                Some(Cell {
                    title: format!("{} {what}{spread}", layers[l.layer].label),
                    histogram: &stats.histogram,
                })
            })
            .collect()
    };
    let rows = [
        row("weights", |l| l.weight.as_ref()),
        row("gradients", |l| l.weight_grad.as_ref()),
    ];
    let spans: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| {
            r.iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), c| {
                    (lo.min(c.histogram.lo), hi.max(c.histogram.hi))
                })
        })
        .collect();
    titled_grid(CELL, (title, 18), &rows, |area, row, cell| {
        let top = top_count(std::iter::once(cell.histogram));
        draw_histogram(area, cell, Counts::Linear, spans[row], top)
    })
}

/// TensorBoard's quantiles of a distribution: the median, ±0.5, ±1 and ±1.5 standard
/// deviations of a normal, and the extremes.
const QUANTILES: [f64; 9] = [
    0.0, 0.0668, 0.1587, 0.3085, 0.5, 0.6915, 0.8413, 0.9332, 1.0,
];

/// The [`QUANTILES`] of a recorded tensor (the extremes exact, the rest from its histogram).
fn quantiles(stats: &TensorStats) -> Option<[f64; 9]> {
    if !(stats.min.is_finite() && stats.max.is_finite()) {
        return None;
    }
    let mut out = [0.0; 9];
    for (o, &q) in out.iter_mut().zip(&QUANTILES) {
        *o = stats.histogram.quantile(q)?.clamp(stats.min, stats.max);
    }
    out[0] = stats.min;
    out[8] = stats.max;
    Some(out)
}

/// One layer's distribution over epochs: per probe, its epoch and quantiles.
struct Bands {
    title: String,
    epochs: Vec<(f64, [f64; 9])>,
}

fn draw_bands(
    area: &DrawingArea<SVGBackend, Shift>,
    bands: &Bands,
    (y0, y1): (f64, f64),
) -> Result<(), ChartError> {
    let (first, last) = match (bands.epochs.first(), bands.epochs.last()) {
        (Some(f), Some(l)) => (f.0, l.0),
        _ => (0.0, 1.0),
    };
    let mut chart = chart(
        area,
        &bands.title,
        &HISTOGRAM_FRAME,
        (Scale::Integer, (first - 0.5, last + 0.5), "epoch"),
        (Scale::Linear, (y0, y1), ""),
    )?;
    // A single probe is drawn as a short bar around its epoch.
    let at: Vec<(f64, [f64; 9])> = if bands.epochs.len() == 1 {
        let (e, q) = bands.epochs[0];
        vec![(e - 0.3, q), (e + 0.3, q)]
    } else {
        bands.epochs.clone()
    };
    for (k, opacity) in [(0, 0.15), (1, 0.25), (2, 0.35), (3, 0.5)] {
        let mut outline: Vec<(f64, f64)> = at.iter().map(|(e, q)| (*e, q[k])).collect();
        outline.extend(at.iter().rev().map(|(e, q)| (*e, q[8 - k])));
        chart
            .draw_series([Polygon::new(outline, colour(0).mix(opacity).filled())])
            .map_err(chart_error)?;
    }
    chart
        .draw_series(LineSeries::new(
            at.iter().map(|(e, q)| (*e, q[4])),
            colour(0).stroke_width(2),
        ))
        .map_err(chart_error)?;
    Ok(())
}

/// TensorBoard's distributions view: for each layer, how its outputs (activation layers),
/// weights and weight gradients (layers with a weight) spread over the probes, one picture per
/// layer in three rows (outputs, weights, gradients). Bands from light to dark hold all, 87%,
/// 68% and 38% of the values; the line is the median. Each row shares its value axis, so the
/// layers compare (a vanishing gradient is a flat band at 0 beside the wide ones).
///
/// ```
/// use nabla_core::{DType, Generator, Tensor};
/// use nabla_inspect::diagnostics::{Recorder, distributions_svg};
/// use nabla_nn::models::{Hidden, MlpConfig, WeightInit};
/// let config = MlpConfig { input: 4, hidden: vec![8], outputs: 2, activation: Hidden::Relu,
///     init: WeightInit::Std(1.0), batch_norm: false, dropout: 0.0 };
/// let net = config.build(DType::F64, &mut Generator::new(0)).unwrap();
/// let mut recorder = Recorder::new(&net);
/// let x = Tensor::ones(&[16, 4], DType::F64);
/// for epoch in 0..3 {
///     recorder.snapshot(epoch, &net, &x, |y| Ok(y.sum())).unwrap();
/// }
/// let svg = distributions_svg(recorder.report(), "over epochs").unwrap();
/// assert!(svg.contains("layer 1 (ReLU) outputs") && svg.contains("layer 2 (Linear) weight gradients"));
/// ```
pub fn distributions_svg(report: &Diagnostics, title: &str) -> Result<String, ChartError> {
    let Some(last) = report.epochs.last() else {
        return titled_grid(CELL, (title, 18), &[Vec::<()>::new()], |_, _, _| Ok(()));
    };
    let outputs: Vec<usize> = shown_outputs(&report.layers, last)
        .iter()
        .map(|l| l.layer)
        .collect();
    let weighted: Vec<usize> = last
        .layers
        .iter()
        .filter(|l| l.weight.is_some())
        .map(|l| l.layer)
        .collect();
    type Pick = fn(&LayerSnapshot) -> Option<&TensorStats>;
    let row = |layers: &[usize], what: &str, pick: Pick| -> Vec<Bands> {
        layers
            .iter()
            .map(|&i| Bands {
                title: format!("{} {what}", report.layers[i].label),
                epochs: report
                    .epochs
                    .iter()
                    .filter_map(|e| {
                        let stats = pick(e.layers.get(i)?)?;
                        Some((e.epoch as f64, quantiles(stats)?))
                    })
                    .collect(),
            })
            .collect()
    };
    let rows: Vec<Vec<Bands>> = [
        row(&outputs, "outputs", |l| Some(&l.activation)),
        row(&weighted, "weights", |l| l.weight.as_ref()),
        row(&weighted, "weight gradients", |l| l.weight_grad.as_ref()),
    ]
    .into_iter()
    .filter(|r| !r.is_empty())
    .collect();
    let ranges: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| {
            let values = r
                .iter()
                .flat_map(|b| b.epochs.iter().flat_map(|(_, q)| [q[0], q[8]]));
            let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
            if lo < hi {
                let pad = 0.05 * (hi - lo);
                (lo - pad, hi + pad)
            } else if lo == hi {
                (lo - 0.5, hi + 0.5)
            } else {
                (0.0, 1.0)
            }
        })
        .collect();
    titled_grid(CELL, (title, 18), &rows, |area, row, bands| {
        draw_bands(area, bands, ranges[row])
    })
}
