//! `decision_boundary.svg`: the class a model with 2-D inputs predicts over a grid covering the
//! data, lightly coloured, with the training points drawn on top in their classes' colours.

use super::{font, label};
use crate::diagnostics::{ChartError, chart_error, colour};
use nabla_core::Tensor;
use nabla_nn::Error;
use nabla_nn::data::{Dataset, Preprocess, Schema};
use nabla_nn::module::Module;
use nabla_nn::report::top_k;
use nabla_nn::task::Task;
use nabla_nn::train::predict;
use plotters::prelude::*;

/// Cells per side of the grid [`DecisionMap::of`] asks the model about.
pub const GRID_SIDE: usize = 150;
/// The most points [`DecisionMap::of`] keeps (evenly spaced through the data beyond that).
pub const MAX_POINTS: usize = 2000;

/// What a decision-boundary picture shows, in the data's raw coordinates.
#[derive(Clone, Debug, PartialEq)]
pub struct DecisionMap {
    /// Class names, in class-index order.
    pub classes: Vec<String>,
    /// The names of the two input columns (horizontal, vertical).
    pub axes: [String; 2],
    /// The grid's extent: `[left, right]` and `[bottom, top]`.
    pub x: [f64; 2],
    pub y: [f64; 2],
    /// Cells per side of the square grid.
    pub side: usize,
    /// The predicted class of each cell, row by row from the bottom, left to right:
    /// `side * side` values.
    pub regions: Vec<usize>,
    /// The softmax probability of each cell's predicted class, in the order of `regions`.
    pub confidence: Vec<f64>,
    /// The points drawn on top, each with its class.
    pub points: Vec<([f64; 2], usize)>,
}

impl DecisionMap {
    /// What `model`, a classifier of 2-D inputs trained on data of `schema`, predicts over a
    /// [`GRID_SIDE`]-square grid covering the points of `data` (their range padded by a tenth
    /// on each side), with those points (at most [`MAX_POINTS`]); everything in the raw
    /// coordinates the schema's preprocessing started from. The model runs as it is set: put
    /// it in evaluation mode first.
    pub fn of(
        model: &dyn Module,
        data: &Dataset,
        schema: &Schema,
    ) -> nabla_nn::Result<DecisionMap> {
        DecisionMap::with_side(model, data, schema, GRID_SIDE)
    }

    /// [`DecisionMap::of`] on a grid of `side` cells per side (at least 1).
    pub fn with_side(
        model: &dyn Module,
        data: &Dataset,
        schema: &Schema,
        side: usize,
    ) -> nabla_nn::Result<DecisionMap> {
        let side = side.max(1);
        let Task::Classification { classes } = &schema.task else {
            return Err(Error::invalid(
                "decision boundary",
                "the model is a regression, not a classifier",
            ));
        };
        if schema.input_shape != [2] {
            return Err(Error::invalid(
                "decision boundary",
                format!("needs 2-D inputs, the model takes {:?}", schema.input_shape),
            ));
        }
        let features = data.features.to_vec::<f32>();
        let labels = data.targets.to_vec::<i64>();
        let bounds = |axis: usize| {
            let values = features.iter().skip(axis).step_by(2).map(|&v| f64::from(v));
            let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
            let pad = if hi > lo { (hi - lo) / 10.0 } else { 0.5 };
            [lo - pad, hi + pad]
        };
        let (x, y) = (bounds(0), bounds(1));
        if !(x[0].is_finite() && y[0].is_finite()) {
            return Err(Error::invalid(
                "decision boundary",
                "the data has no points with finite coordinates",
            ));
        }
        let grid: Vec<f32> = DecisionMap::grid(x, y, side)
            .into_iter()
            .flat_map(|[a, b]| [a as f32, b as f32])
            .collect();
        let outputs = predict(model, &Tensor::from_vec(grid, &[side * side, 2]))?;
        let (regions, confidence) = outputs
            .to_f64_vec()
            .chunks(classes.len())
            .map(|row| {
                let (class, top) = top_k(row, 1)[0];
                let total: f64 = row.iter().map(|&v| (v - top).exp()).sum();
                (class, 1.0 / total)
            })
            .unzip();
        let step = labels.len().div_ceil(MAX_POINTS).max(1);
        let mut kept: Vec<f32> = features
            .chunks(2)
            .step_by(step)
            .flatten()
            .copied()
            .collect();
        schema.preprocess.restore(&mut kept, 1);
        let points = kept
            .chunks(2)
            .zip(labels.iter().step_by(step))
            .map(|(p, &c)| ([f64::from(p[0]), f64::from(p[1])], c as usize))
            .collect();
        let mut corners = [x[0] as f32, y[0] as f32, x[1] as f32, y[1] as f32];
        schema.preprocess.restore(&mut corners, 1);
        let axes = match &schema.preprocess {
            Preprocess::Table { columns, .. } if columns.len() == 2 => {
                [columns[0].clone(), columns[1].clone()]
            }
            _ => ["x1".to_string(), "x2".to_string()],
        };
        Ok(DecisionMap {
            classes: classes.clone(),
            axes,
            x: [f64::from(corners[0]), f64::from(corners[2])],
            y: [f64::from(corners[1]), f64::from(corners[3])],
            side,
            regions,
            confidence,
            points,
        })
    }

    /// The centres of a `side` x `side` grid over `[x0, x1] x [y0, y1]`, row by row from the
    /// bottom: where a model is asked for the [`DecisionMap::regions`].
    ///
    /// ```
    /// use nabla_inspect::classifier::DecisionMap;
    /// let centres = DecisionMap::grid([0.0, 2.0], [0.0, 2.0], 2);
    /// assert_eq!(centres, vec![[0.5, 0.5], [1.5, 0.5], [0.5, 1.5], [1.5, 1.5]]);
    /// ```
    pub fn grid(x: [f64; 2], y: [f64; 2], side: usize) -> Vec<[f64; 2]> {
        let centre = |[lo, hi]: [f64; 2], i: usize| lo + (hi - lo) * (i as f64 + 0.5) / side as f64;
        (0..side)
            .flat_map(|r| (0..side).map(move |c| [centre(x, c), centre(y, r)]))
            .collect()
    }
}

/// A tick label with two decimals, without `-0.00`.
fn tick(v: &f64) -> String {
    let v = if v.abs() < 0.005 { 0.0 } else { *v };
    format!("{v:.2}")
}

/// `c` mixed with white: the light shade of a class's region.
fn light(c: RGBColor) -> RGBColor {
    let mix = |v: u8| (f64::from(v) * 0.3 + 255.0 * 0.7).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

const SIDE_PX: u32 = 600;

/// The decision regions of `map` under `title`: each class's region in a light shade of its
/// colour (cells of one class next to each other in a row drawn as one rectangle), the points
/// on top as dots in the full colour, axes in the data's coordinates, and a legend of the
/// classes. Refuses regions that are not `side * side` classes or name a class it lacks.
///
/// ```
/// use nabla_inspect::classifier::{DecisionMap, decision_boundary_svg};
/// let map = DecisionMap {
///     classes: vec!["left".into(), "right".into()],
///     axes: ["x".into(), "y".into()],
///     x: [-1.0, 1.0],
///     y: [-1.0, 1.0],
///     side: 2,
///     regions: vec![0, 1, 0, 1],
///     confidence: vec![0.9, 0.8, 0.7, 0.6],
///     points: vec![([-0.5, 0.0], 0), ([0.5, 0.2], 1)],
/// };
/// let svg = decision_boundary_svg(&map, "two halves").unwrap();
/// assert!(svg.starts_with("<svg") && svg.contains("right"));
/// ```
pub fn decision_boundary_svg(map: &DecisionMap, title: &str) -> Result<String, ChartError> {
    let n = map.classes.len();
    if map.regions.len() != map.side * map.side {
        return Err(ChartError(format!(
            "decision boundary: {} regions for a {1}x{1} grid",
            map.regions.len(),
            map.side
        )));
    }
    if let Some(c) = map
        .regions
        .iter()
        .chain(map.points.iter().map(|(_, c)| c))
        .find(|&&c| c >= n)
    {
        return Err(ChartError(format!(
            "decision boundary: class {c} of {n} classes"
        )));
    }
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (SIDE_PX + 80, SIDE_PX + 60)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, font(20))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(map.x[0]..map.x[1], map.y[0]..map.y[1])
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(label(&map.axes[0]))
            .y_desc(label(&map.axes[1]))
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .draw()
            .map_err(chart_error)?;
        let (dx, dy) = (
            (map.x[1] - map.x[0]) / map.side as f64,
            (map.y[1] - map.y[0]) / map.side as f64,
        );
        let mut runs = Vec::new();
        for (r, row) in map.regions.chunks(map.side.max(1)).enumerate() {
            let mut start = 0;
            for c in 1..=row.len() {
                if c == row.len() || row[c] != row[start] {
                    runs.push((r, start, c, row[start]));
                    start = c;
                }
            }
        }
        chart
            .draw_series(runs.into_iter().map(|(r, from, to, class)| {
                let bottom = map.y[0] + r as f64 * dy;
                Rectangle::new(
                    [
                        (map.x[0] + from as f64 * dx, bottom),
                        (map.x[0] + to as f64 * dx, bottom + dy),
                    ],
                    light(colour(class)).filled(),
                )
            }))
            .map_err(chart_error)?;
        for (class, name) in map.classes.iter().enumerate() {
            let fill = colour(class);
            chart
                .draw_series(
                    map.points
                        .iter()
                        .filter(|(_, c)| *c == class)
                        .map(|&([x, y], _)| Circle::new((x, y), 3, fill.filled())),
                )
                .map_err(chart_error)?
                .label(label(name))
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], fill.filled()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}
