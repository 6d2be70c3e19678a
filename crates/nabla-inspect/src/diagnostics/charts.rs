//! SVG charts drawn with plotters: line charts in side-by-side panels (loss and accuracy
//! curves, runs compared, gradient norms per layer on a log scale) and one histogram panel per
//! activation layer (the textbook's figures of activation distributions).

use super::recorder::{Diagnostics, EpochSnapshot, LayerInfo};
use super::ticks::log_tick_label;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::fmt;

/// A chart that could not be drawn (plotters' own error, as text).
#[derive(Debug, Clone, PartialEq)]
pub struct ChartError(pub String);

impl fmt::Display for ChartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "drawing a chart: {}", self.0)
    }
}

impl std::error::Error for ChartError {}

pub(crate) fn chart_error(e: impl fmt::Display) -> ChartError {
    ChartError(e.to_string())
}

/// A named line; points with a non-finite coordinate are left out.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub dashed: bool,
}

/// One panel of a line chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Plot log10 of the values, with ticks labelled as powers of ten (`10⁻³`, `3.2×10⁻⁴`;
    /// non-positive values are left out).
    pub log_y: bool,
    pub series: Vec<Series>,
}

const PANEL_WIDTH: u32 = 520;
const PANEL_HEIGHT: u32 = 400;
const HISTOGRAM_SIDE: u32 = 260;
const TITLE_HEIGHT: u32 = 36;

/// Colours that stay apart for up to ten lines (or classes).
pub(crate) fn colour(i: usize) -> RGBColor {
    const COLOURS: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    COLOURS[i % COLOURS.len()]
}

/// `[lo, hi]` of the (finite) values padded by 5%; widened by 0.5 for a single value, `[0, 1]`
/// for none.
fn padded(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo > hi {
        (0.0, 1.0)
    } else if lo == hi {
        (lo - 0.5, hi + 0.5)
    } else {
        let pad = 0.05 * (hi - lo);
        (lo - pad, hi + pad)
    }
}

/// The legend's corner: of the four corners of the plot (each 40% of its width and 35% of its
/// height), the one over the fewest points, the upper right on a tie.
fn legend_position(
    points: &[(f64, f64)],
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> SeriesLabelPosition {
    let (w, h) = (x1 - x0, y1 - y0);
    let corners = [
        (SeriesLabelPosition::UpperRight, true, true),
        (SeriesLabelPosition::LowerRight, true, false),
        (SeriesLabelPosition::UpperLeft, false, true),
        (SeriesLabelPosition::LowerLeft, false, false),
    ];
    let under = |right: bool, upper: bool| {
        points
            .iter()
            .filter(|&&(x, y)| {
                let in_x = if right {
                    x >= x1 - 0.4 * w
                } else {
                    x <= x0 + 0.4 * w
                };
                let in_y = if upper {
                    y >= y1 - 0.35 * h
                } else {
                    y <= y0 + 0.35 * h
                };
                in_x && in_y
            })
            .count()
    };
    corners
        .into_iter()
        .min_by_key(|&(_, right, upper)| under(right, upper))
        .map_or(SeriesLabelPosition::UpperRight, |c| c.0)
}

/// A linear axis' tick label: at most three decimals, without trailing zeros (`2`, `2.5`,
/// `0.125`).
fn linear_tick_label(v: f64) -> String {
    let text = format!("{v:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    match text {
        "-0" => "0".to_string(),
        t => t.to_string(),
    }
}

/// The panels side by side under `title`, as a standalone SVG document.
///
/// ```
/// use nabla_inspect::diagnostics::{line_chart_svg, Panel, Series};
/// let panel = Panel {
///     title: "loss".into(), x_label: "epoch".into(), y_label: "loss".into(), log_y: false,
///     series: vec![Series { name: "train".into(), points: vec![(1.0, 0.9), (2.0, 0.4)], dashed: false }],
/// };
/// let svg = line_chart_svg("a run", &[panel]).unwrap();
/// assert!(svg.starts_with("<svg") && svg.contains(">\ntrain\n</text>"));
/// ```
pub fn line_chart_svg(title: &str, panels: &[Panel]) -> Result<String, ChartError> {
    titled_row((PANEL_WIDTH, PANEL_HEIGHT), (title, 20), panels, draw_panel)
}

/// An SVG page with `title` (at `title_px`) over one row of `items.len()` panels of
/// `panel` = (width, height) pixels, each drawn by `draw`.
fn titled_row<I>(
    panel: (u32, u32),
    (title, title_px): (&str, u32),
    items: &[I],
    mut draw: impl FnMut(&DrawingArea<SVGBackend, Shift>, &I) -> Result<(), ChartError>,
) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let columns = items.len().max(1);
        let size = (panel.0 * columns as u32, panel.1 + TITLE_HEIGHT);
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let root = root
            .titled(title, ("sans-serif", title_px))
            .map_err(chart_error)?;
        for (area, item) in root.split_evenly((1, columns)).iter().zip(items) {
            draw(area, item)?;
        }
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

fn draw_panel(area: &DrawingArea<SVGBackend, Shift>, panel: &Panel) -> Result<(), ChartError> {
    let transform = |y: f64| if panel.log_y { y.log10() } else { y };
    let lines: Vec<(&Series, Vec<(f64, f64)>)> = panel
        .series
        .iter()
        .map(|s| {
            let points = s
                .points
                .iter()
                .map(|&(x, y)| (x, transform(y)))
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect();
            (s, points)
        })
        .collect();
    let all = || lines.iter().flat_map(|(_, p)| p.iter());
    let points: Vec<(f64, f64)> = all().copied().collect();
    let (x0, x1) = padded(all().map(|p| p.0));
    let (y0, y1) = padded(all().map(|p| p.1));
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(chart_error)?;
    let log_y = panel.log_y;
    chart
        .configure_mesh()
        .x_desc(&panel.x_label)
        .y_desc(&panel.y_label)
        .x_label_formatter(&|v| linear_tick_label(*v))
        .y_label_formatter(&|v| {
            if log_y {
                log_tick_label(*v)
            } else {
                linear_tick_label(*v)
            }
        })
        .draw()
        .map_err(chart_error)?;
    for (i, (series, points)) in lines.into_iter().enumerate() {
        let style = colour(i).stroke_width(2);
        let drawn = if series.dashed {
            chart.draw_series(DashedLineSeries::new(points.iter().copied(), 6, 4, style))
        } else {
            chart.draw_series(LineSeries::new(points.iter().copied(), style))
        };
        drawn
            .map_err(chart_error)?
            .label(&series.name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], style));
        if points.len() <= 60 {
            chart
                .draw_series(
                    points
                        .iter()
                        .map(|&p| Circle::new(p, 2, colour(i).filled())),
                )
                .map_err(chart_error)?;
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(legend_position(&points, (x0, x1), (y0, y1)))
        .draw()
        .map_err(chart_error)
}

/// One histogram panel per activation layer (every layer when the network has no
/// non-linearity) at one probe, titled with the saturated or dead fraction.
pub fn activation_histograms_svg(
    layers: &[LayerInfo],
    snapshot: &EpochSnapshot,
    title: &str,
) -> Result<String, ChartError> {
    let shown: Vec<_> = snapshot
        .layers
        .iter()
        .filter(|l| layers[l.layer].kind.is_activation())
        .collect();
    let shown = if shown.is_empty() {
        snapshot.layers.iter().collect()
    } else {
        shown
    };
    let side = (HISTOGRAM_SIDE, HISTOGRAM_SIDE);
    titled_row(side, (title, 18), &shown, |area, layer| {
        let h = &layer.activation.histogram;
        let note = match (layer.saturated, layer.dead) {
            (Some(s), _) => format!(" ({:.1}% saturated)", 100.0 * s),
            (_, Some(d)) => format!(" ({:.1}% dead)", 100.0 * d),
            _ => String::new(),
        };
        let top = h.counts.iter().copied().max().unwrap_or(0).max(1) as f64 * 1.05;
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!("{}{note}", layers[layer.layer].name),
                ("sans-serif", 13),
            )
            .margin(6)
            .x_label_area_size(28)
            .y_label_area_size(48)
            .build_cartesian_2d(h.lo..h.hi, 0.0..top)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .x_labels(5)
            .y_labels(5)
            .x_label_formatter(&|v| format!("{v:.2}"))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()
            .map_err(chart_error)?;
        let edges = h.edges();
        chart
            .draw_series(h.counts.iter().enumerate().map(|(i, &c)| {
                Rectangle::new(
                    [(edges[i], 0.0), (edges[i + 1], c as f64)],
                    colour(0).filled(),
                )
            }))
            .map_err(chart_error)?;
        Ok(())
    })
}

/// Every training step's gradient norm per layer with parameters, on a log scale.
pub fn gradient_norms_svg(report: &Diagnostics, title: &str) -> Result<String, ChartError> {
    let series = report
        .gradient_layers
        .iter()
        .enumerate()
        .map(|(k, &layer)| Series {
            name: report.layers[layer].name.clone(),
            points: report
                .steps
                .iter()
                .enumerate()
                .map(|(n, s)| ((n + 1) as f64, s.norms[k]))
                .collect(),
            dashed: false,
        })
        .collect();
    let panel = Panel {
        title: "gradient L2 norm per layer (all parameters of the layer)".into(),
        x_label: "training step".into(),
        y_label: "norm".into(),
        log_y: true,
        series,
    };
    line_chart_svg(title, &[panel])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_drop_trailing_zeros() {
        assert_eq!(linear_tick_label(2.0), "2");
        assert_eq!(linear_tick_label(2.5), "2.5");
        assert_eq!(linear_tick_label(0.125), "0.125");
        assert_eq!(linear_tick_label(-0.0001), "0");
        assert_eq!(linear_tick_label(300.0), "300");
    }

    #[test]
    fn the_legend_goes_to_the_corner_with_the_fewest_points() {
        let range = ((0.0, 10.0), (0.0, 10.0));
        // A falling curve fills the upper left and lower right: the upper right is free.
        let falling: Vec<(f64, f64)> = (0..=10).map(|x| (x as f64, 10.0 - x as f64)).collect();
        let at = |points: &[(f64, f64)]| legend_position(points, range.0, range.1);
        assert!(matches!(at(&falling), SeriesLabelPosition::UpperRight));
        // A flat line along the top and one dropping to the bottom on the right: lower left.
        let mut lines: Vec<(f64, f64)> = (0..=10).map(|x| (x as f64, 9.0)).collect();
        lines.extend((0..=10).map(|x| (x as f64, if x < 6 { 9.0 } else { 1.0 })));
        assert!(matches!(at(&lines), SeriesLabelPosition::LowerLeft));
    }
}
