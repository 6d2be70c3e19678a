//! SVG charts drawn with plotters: line charts in side-by-side panels (loss and accuracy
//! curves, runs compared, gradient norms per layer on a log scale), and the one axis, grid and
//! legend mechanism every chart of the diagnostics uses ([`chart`], [`titled_grid`]).

use super::recorder::Diagnostics;
use super::ticks::Scale;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
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

/// Where and why a run stopped early: drawn as a `×` at the top of the plot at `x` (the epoch
/// or step it failed in), joined by a dotted line to the last point, with the note in the legend.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Failure {
    pub x: f64,
    /// What happened, such as `the loss became NaN at epoch 2, step 4`.
    pub note: String,
}

/// A named line; points with a non-finite coordinate are left out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub dashed: bool,
    /// A run that failed: drawn up to its failure, then marked.
    pub failure: Option<Failure>,
    /// The weight of an exponential moving average (TensorBoard's smoothing, debiased) drawn
    /// over the values of a per-step series, the raw values faint behind it; 0 draws the values
    /// as they are.
    pub smoothing: f64,
}

/// One panel of a line chart. The x axis has whole-number ticks when every x is a whole
/// number (epochs, steps).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Plot log10 of the values, with ticks at powers of ten (`10⁻³`; within a single decade
    /// at 1, 2 and 5 times one). Non-positive values are left out.
    pub log_y: bool,
    /// The values are fractions drawn as percentages (accuracy): ticks read `95%`.
    pub percent: bool,
    pub series: Vec<Series>,
}

const PLOT_WIDTH: u32 = 520;
const PANEL_HEIGHT: u32 = 400;
const TITLE_HEIGHT: u32 = 36;
/// Font size of legend entries, and the height of one legend line.
const LEGEND_FONT: u32 = 13;
const LEGEND_LINE: i32 = 18;
/// Widest legend column, in pixels; longer entries wrap.
const LEGEND_MAX: u32 = 240;

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

/// TensorBoard's smoothing: an exponential moving average with weight `weight`, divided by
/// `1 − weight^n` so the first points are not pulled towards 0.
///
/// ```text
/// smooth([1, 1, 1], 0.9) = [1, 1, 1]
/// ```
pub(crate) fn smoothed(points: &[(f64, f64)], weight: f64) -> Vec<(f64, f64)> {
    let mut average = 0.0;
    let mut kept = 1.0;
    points
        .iter()
        .map(|&(x, y)| {
            average = weight * average + (1.0 - weight) * y;
            kept *= weight;
            (x, average / (1.0 - kept))
        })
        .collect()
}

/// `text` cut into lines of at most `width` characters at spaces (a longer word keeps its own
/// line).
pub(crate) fn wrapped(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// One entry of a legend: its text lines (name first, then the note), colour, and how its
/// sample is drawn.
struct LegendEntry {
    lines: Vec<String>,
    /// How many of the lines are the name (the rest are the note, in the line's colour).
    name_lines: usize,
    colour: RGBColor,
    dashed: bool,
    failed: bool,
}

/// Lines of a failure's note in a legend (the rest is in the run's error).
const NOTE_LINES: usize = 3;
/// Characters per legend line.
const LEGEND_CHARS: usize = ((LEGEND_MAX - 44) / 7) as usize;

fn legend_entries(panel: &Panel) -> Vec<LegendEntry> {
    panel
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut lines = wrapped(&s.name, LEGEND_CHARS);
            let name_lines = lines.len();
            if let Some(f) = &s.failure {
                let mut note = wrapped(&format!("failed: {}", f.note), LEGEND_CHARS);
                if note.len() > NOTE_LINES {
                    note.truncate(NOTE_LINES);
                    note[NOTE_LINES - 1].push_str(" …");
                }
                lines.extend(note);
            }
            LegendEntry {
                lines,
                name_lines,
                colour: colour(i),
                dashed: s.dashed,
                failed: s.failure.is_some(),
            }
        })
        .collect()
}

/// The width of the legend column of entries: their longest line, in pixels (about 7 per
/// character at 13 px) plus the sample, at most [`LEGEND_MAX`]; 0 with no entry.
fn legend_width(entries: &[LegendEntry]) -> u32 {
    let longest = entries
        .iter()
        .flat_map(|e| e.lines.iter())
        .map(|l| l.chars().count() as u32)
        .max();
    longest.map_or(0, |chars| (44 + 7 * chars).min(LEGEND_MAX))
}

/// Draws the legend in its own column beside the plot, so it never covers a line: a sample of
/// each line (dashed, or marked `×` for a failed run) and its name, with the note under it.
fn draw_legend(
    area: &DrawingArea<SVGBackend, Shift>,
    entries: &[LegendEntry],
    top: i32,
) -> Result<(), ChartError> {
    let mut y = top;
    for entry in entries {
        let style = entry.colour.stroke_width(2);
        let middle = y + LEGEND_LINE / 2;
        if entry.dashed {
            for (a, b) in [(4, 10), (14, 20), (24, 30)] {
                area.draw(&PathElement::new(vec![(a, middle), (b, middle)], style))
                    .map_err(chart_error)?;
            }
        } else {
            area.draw(&PathElement::new(vec![(4, middle), (30, middle)], style))
                .map_err(chart_error)?;
        }
        if entry.failed {
            area.draw(&Cross::new((17, middle), 5, style))
                .map_err(chart_error)?;
        }
        for (k, line) in entry.lines.iter().enumerate() {
            let colour = if k < entry.name_lines {
                BLACK
            } else {
                entry.colour
            };
            area.draw(&Text::new(
                line.clone(),
                (38, y + 2),
                ("sans-serif", LEGEND_FONT).into_font().color(&colour),
            ))
            .map_err(chart_error)?;
            y += LEGEND_LINE;
        }
        y += 4;
    }
    Ok(())
}

/// The panels side by side under `title`, as a standalone SVG document. Each panel's legend
/// stands in a column to the right of its plot.
///
/// ```
/// use nabla_inspect::diagnostics::{line_chart_svg, Panel, Series};
/// let panel = Panel {
///     title: "loss".into(), x_label: "epoch".into(), y_label: "loss".into(),
///     series: vec![Series { name: "train".into(), points: vec![(1.0, 0.9), (2.0, 0.4)], ..Default::default() }],
///     ..Default::default()
/// };
/// let svg = line_chart_svg("a run", &[panel]).unwrap();
/// assert!(svg.starts_with("<svg") && svg.contains(">\ntrain\n</text>"));
/// ```
pub fn line_chart_svg(title: &str, panels: &[Panel]) -> Result<String, ChartError> {
    let legend = panels
        .iter()
        .map(|p| legend_width(&legend_entries(p)))
        .max()
        .unwrap_or(0);
    titled_grid(
        (PLOT_WIDTH + legend, PANEL_HEIGHT),
        (title, 20),
        &[panels.iter().collect::<Vec<_>>()],
        |area, _, panel| draw_panel(area, panel, legend),
    )
}

/// An SVG page with `title` (at `title_px`) over rows of panels of `panel` = (width, height)
/// pixels, each drawn by `draw` with its row's index (as many columns as the longest row).
pub(crate) fn titled_grid<I>(
    panel: (u32, u32),
    (title, title_px): (&str, u32),
    rows: &[Vec<I>],
    mut draw: impl FnMut(&DrawingArea<SVGBackend, Shift>, usize, &I) -> Result<(), ChartError>,
) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let columns = rows.iter().map(Vec::len).max().unwrap_or(0).max(1);
        // Wide enough for the title (about 0.55 em per character) however few the panels.
        let title_width = (title.chars().count() as f64 * 0.55 * title_px as f64) as u32 + 40;
        let size = (
            (panel.0 * columns as u32).max(title_width),
            panel.1 * rows.len().max(1) as u32 + TITLE_HEIGHT,
        );
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let root = root
            .titled(title, ("sans-serif", title_px))
            .map_err(chart_error)?;
        let (grid, _) = root.split_horizontally(panel.0 * columns as u32);
        let areas = grid.split_evenly((rows.len().max(1), columns));
        for (r, row) in rows.iter().enumerate() {
            for (c, item) in row.iter().enumerate() {
                draw(&areas[r * columns + c], r, item)?;
            }
        }
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// The scale of an x axis: whole numbers when every value is one.
fn x_scale(xs: impl Iterator<Item = f64>) -> Scale {
    let mut xs = xs.peekable();
    if xs.peek().is_some() && xs.all(|x| x.fract() == 0.0) {
        Scale::Integer
    } else {
        Scale::Linear
    }
}

/// An axis over `f64` whose ticks are given (by a [`Scale`]) rather than chosen by plotters,
/// with no light grid lines.
pub(crate) struct Ticked {
    range: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ranged for Ticked {
    type ValueType = f64;
    type FormatOption = DefaultFormatting;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.range.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.range.range()
    }
}

/// The cartesian chart of a panel, its axes ticked by [`Scale`]s.
pub(crate) type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<Ticked, Ticked>>;

/// The sizes of a chart's frame, in pixels, and how many ticks its linear axes get.
pub(crate) struct Frame {
    pub caption: u32,
    pub margin: u32,
    pub x_area: u32,
    pub y_area: u32,
    pub ticks: usize,
}

const LINE_FRAME: Frame = Frame {
    caption: 16,
    margin: 10,
    x_area: 40,
    y_area: 64,
    ticks: 6,
};

/// A chart on `area` titled `caption` over `x` and `y` (positions as the scales give them),
/// with the scales' ticks and labels and the axis descriptions: the one axis mechanism of
/// every chart here.
pub(crate) fn chart<'a, 'b>(
    area: &'a DrawingArea<SVGBackend<'b>, Shift>,
    caption: &str,
    frame: &Frame,
    (x_scale, (x0, x1), x_desc): (Scale, (f64, f64), &str),
    (y_scale, (y0, y1), y_desc): (Scale, (f64, f64), &str),
) -> Result<Chart<'a, 'b>, ChartError> {
    let x_ticks = x_scale.ticks(x0, x1, frame.ticks);
    let y_ticks = y_scale.ticks(y0, y1, frame.ticks);
    let x_label = x_scale.labeller(&x_ticks);
    let y_label = y_scale.labeller(&y_ticks);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", frame.caption))
        .margin(frame.margin)
        .x_label_area_size(frame.x_area)
        .y_label_area_size(frame.y_area)
        .build_cartesian_2d(
            Ticked {
                range: (x0..x1).into(),
                ticks: x_ticks,
            },
            Ticked {
                range: (y0..y1).into(),
                ticks: y_ticks,
            },
        )
        .map_err(chart_error)?;
    let mut mesh = chart.configure_mesh();
    mesh.x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .label_style(("sans-serif", 12));
    if !x_desc.is_empty() {
        mesh.x_desc(x_desc);
    }
    if !y_desc.is_empty() {
        mesh.y_desc(y_desc);
    }
    mesh.draw().map_err(chart_error)?;
    Ok(chart)
}

fn draw_panel(
    area: &DrawingArea<SVGBackend, Shift>,
    panel: &Panel,
    legend: u32,
) -> Result<(), ChartError> {
    let y_scale = if panel.log_y {
        Scale::Log
    } else if panel.percent {
        Scale::Percent
    } else {
        Scale::Linear
    };
    let lines: Vec<(&Series, Vec<(f64, f64)>)> = panel
        .series
        .iter()
        .map(|s| {
            let points = s
                .points
                .iter()
                .map(|&(x, y)| (x, y_scale.position(y)))
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect();
            (s, points)
        })
        .collect();
    let all = || lines.iter().flat_map(|(_, p)| p.iter());
    let failures = || panel.series.iter().filter_map(|s| s.failure.as_ref());
    let xs = || all().map(|p| p.0).chain(failures().map(|f| f.x));
    let (x0, x1) = padded(xs());
    let (y0, y1) = padded(all().map(|p| p.1));
    let (plot, side) = area.split_horizontally(area.dim_in_pixel().0 - legend);
    let mut chart = chart(
        &plot,
        &panel.title,
        &LINE_FRAME,
        (x_scale(xs()), (x0, x1), &panel.x_label),
        (y_scale, (y0, y1), &panel.y_label),
    )?;
    for (i, (series, points)) in lines.iter().enumerate() {
        let style = colour(i).stroke_width(2);
        let drawn = if series.smoothing > 0.0 {
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    colour(i).mix(0.25).stroke_width(1),
                ))
                .map_err(chart_error)?;
            smoothed(points, series.smoothing)
        } else {
            points.clone()
        };
        if series.dashed {
            chart.draw_series(DashedLineSeries::new(drawn.iter().copied(), 6, 4, style))
        } else {
            chart.draw_series(LineSeries::new(drawn.iter().copied(), style))
        }
        .map_err(chart_error)?;
        if points.len() <= 60 && series.smoothing == 0.0 {
            chart
                .draw_series(
                    points
                        .iter()
                        .map(|&p| Circle::new(p, 2, colour(i).filled())),
                )
                .map_err(chart_error)?;
        }
        if let Some(failure) = &series.failure {
            let top = (failure.x, y1 - 0.03 * (y1 - y0));
            if let Some(&last) = drawn.last() {
                chart
                    .draw_series(DashedLineSeries::new([last, top], 2, 3, style))
                    .map_err(chart_error)?;
            }
            chart
                .draw_series([Cross::new(top, 6, colour(i).stroke_width(3))])
                .map_err(chart_error)?;
        }
    }
    draw_legend(&side, &legend_entries(panel), 40)
}

/// The smoothing of per-step series (TensorBoard's slider at 0.9): the raw values stay faint
/// behind.
pub const STEP_SMOOTHING: f64 = 0.9;

/// Every training step's gradient norm per layer with parameters, on a log scale, smoothed
/// (the raw norms faint behind) once there are more than 20 steps. Lines are named as the
/// layers' pictures are (`layer 0 (Linear)`).
pub fn gradient_norms_svg(report: &Diagnostics, title: &str) -> Result<String, ChartError> {
    let smoothing = if report.steps.len() > 20 {
        STEP_SMOOTHING
    } else {
        0.0
    };
    let series = report
        .gradient_layers
        .iter()
        .enumerate()
        .map(|(k, &layer)| Series {
            name: report.layers[layer].label.clone(),
            points: report
                .steps
                .iter()
                .enumerate()
                .map(|(n, s)| ((n + 1) as f64, s.norms[k]))
                .collect(),
            smoothing,
            ..Series::default()
        })
        .collect();
    let panel = Panel {
        title: if smoothing > 0.0 {
            "gradient L2 norm per layer (smoothed; raw values faint)".into()
        } else {
            "gradient L2 norm per layer (all parameters of the layer)".into()
        },
        x_label: "training step".into(),
        y_label: "norm".into(),
        log_y: true,
        series,
        ..Panel::default()
    };
    line_chart_svg(title, &[panel])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoothing_keeps_a_constant_and_lags_a_step() {
        let flat = smoothed(&[(1.0, 2.0), (2.0, 2.0), (3.0, 2.0)], 0.9);
        assert!(flat.iter().all(|&(_, y)| (y - 2.0).abs() < 1e-12));
        let step = smoothed(&[(1.0, 0.0), (2.0, 1.0)], 0.5);
        assert_eq!(step[1].1, 0.5 / 0.75);
    }

    #[test]
    fn legend_notes_wrap_at_spaces() {
        assert_eq!(
            wrapped("failed: the loss became NaN at epoch 1, step 4", 20),
            ["failed: the loss", "became NaN at epoch", "1, step 4"]
        );
    }
}
