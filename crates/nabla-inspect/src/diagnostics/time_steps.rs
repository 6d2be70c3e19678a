//! The gradient through time of a recurrent layer: ‖∂L/∂h_t‖, how much of the loss's gradient
//! reaches the hidden state of each time step `t`, recorded every few training steps
//! ([`TimeStepGradients`]) and drawn as a heatmap, time step across and training step down, on a
//! logarithmic colour scale ([`time_step_gradients_svg`]). A gradient that vanishes through time
//! shows as colours fading, decade by decade, towards the early time steps on the left.

use super::ChartError;
use super::recorder::l2;
use super::ticks::{integer_ticks, log_tick_label, power_of_ten};
use crate::classifier::Picture;
use crate::svg::{escape, svg_start, text_width};
use nabla_core::Tensor;
use serde::Serialize;
use std::fmt::Write;

/// Most rows a run records: [`TimeStepGradients::every_for`] picks the interval from it.
pub const MAX_ROWS: usize = 200;
/// Most decades the colour scale spans below its largest value; smaller norms take its
/// lowest colour.
pub const MAX_DECADES: i32 = 12;

const MARGIN: f64 = 16.0;
const PLOT_LEFT: f64 = MARGIN + 84.0;
const PLOT_TOP: f64 = 62.0;
const PLOT_WIDTH: usize = 640;
const PLOT_HEIGHT: usize = 400;
const BAR_WIDTH: f64 = 18.0;
const LINE: f64 = 15.0;
/// The colour of a cell without a finite, non-zero norm.
const NO_GRADIENT: [u8; 3] = [200, 200, 200];

/// ‖∂L/∂h_t‖ of one recorded training step.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimeStepRow {
    /// The training step, counted over the whole run from 1.
    pub training_step: usize,
    pub epoch: usize,
    /// 1-based within the epoch.
    pub step: usize,
    /// One norm per time step, first to last (see [`time_step_norms`]).
    pub norms: Vec<f64>,
}

/// ‖∂L/∂h_t‖ per time step of one recurrent layer over training, one row every
/// [`every`](TimeStepGradients::every) training steps: what `diagnostics.json` holds under
/// `time_steps`.
///
/// ```
/// use nabla_inspect::diagnostics::TimeStepGradients;
/// let mut grads = TimeStepGradients::new("0: LSTM(28 -> 128)", TimeStepGradients::every_for(469));
/// assert_eq!(grads.every, 3); // 157 rows for the 469 steps of an MNIST epoch in batches of 128
/// assert!(grads.wants(1) && !grads.wants(2) && grads.wants(4));
/// grads.push(1, 1, 1, vec![1e-4, 1e-2, 1.0]);
/// assert_eq!(grads.rows[0].norms[2], 1.0);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimeStepGradients {
    /// The recurrent layer measured, as charts name it (`0: LSTM(28 -> 128)`).
    pub layer: String,
    /// Training steps from one recorded row to the next (the first step is always recorded).
    pub every: usize,
    pub rows: Vec<TimeStepRow>,
}

/// ‖∂L/∂h_t‖ for each hidden state `h_t` of `states` (a recurrent layer's
/// [`time_steps`](nabla_nn::module::Module::time_steps) after `backward()`): the L2 norm of its
/// gradient over the whole batch, `[N, H]`, so the total, not a per-sample average; 0 for a state
/// the gradient did not reach.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_inspect::diagnostics::time_step_norms;
/// let h1 = Tensor::from_vec(vec![1.0f64, 2.0], &[1, 2]).requires_grad();
/// let h2 = (&h1 * 0.5).tanh();
/// h2.retain_grad();
/// (&h2 * 3.0).sum().backward();
/// let norms = time_step_norms(&[h1, h2]);
/// assert!((norms[1] - 3.0 * 2f64.sqrt()).abs() < 1e-12);
/// assert!(norms[0] < norms[1]); // tanh' < 1 and the factor 0.5 shrink it on the way back
/// ```
pub fn time_step_norms(states: &[Tensor]) -> Vec<f64> {
    states
        .iter()
        .map(|h| h.grad().map_or(0.0, |g| l2(&g.to_f64_vec())))
        .collect()
}

impl TimeStepGradients {
    pub fn new(layer: impl Into<String>, every: usize) -> TimeStepGradients {
        TimeStepGradients {
            layer: layer.into(),
            every: every.max(1),
            rows: Vec::new(),
        }
    }

    /// The interval that gives a run of `total_steps` training steps at most [`MAX_ROWS`] rows
    /// (and more than half as many when it is longer than that).
    pub fn every_for(total_steps: usize) -> usize {
        total_steps.div_ceil(MAX_ROWS).max(1)
    }

    /// Whether training step `training_step` (from 1) is one to record.
    pub fn wants(&self, training_step: usize) -> bool {
        training_step.saturating_sub(1).is_multiple_of(self.every)
    }

    /// Adds the row of a training step.
    pub fn push(&mut self, training_step: usize, epoch: usize, step: usize, norms: Vec<f64>) {
        self.rows.push(TimeStepRow {
            training_step,
            epoch,
            step,
            norms,
        });
    }

    /// Records the norms of `states` ([`time_step_norms`]) when training step `training_step`
    /// is one to record; returns whether it was.
    pub fn record(
        &mut self,
        training_step: usize,
        epoch: usize,
        step: usize,
        states: &[Tensor],
    ) -> bool {
        let wanted = self.wants(training_step) && !states.is_empty();
        if wanted {
            self.push(training_step, epoch, step, time_step_norms(states));
        }
        wanted
    }

    /// The smallest non-zero and the largest finite norm recorded, if any.
    pub fn range(&self) -> Option<(f64, f64)> {
        let (lo, hi) = self
            .rows
            .iter()
            .flat_map(|r| &r.norms)
            .filter(|v| v.is_finite() && **v > 0.0)
            .fold((f64::INFINITY, 0.0f64), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        (hi > 0.0).then_some((lo, hi))
    }
}

/// Viridis (perceptually uniform, dark purple to yellow) at `t` in `[0, 1]`.
fn viridis(t: f64) -> [u8; 3] {
    const STOPS: [[f64; 3]; 9] = [
        [68.0, 1.0, 84.0],
        [71.0, 44.0, 122.0],
        [59.0, 81.0, 139.0],
        [44.0, 113.0, 142.0],
        [33.0, 144.0, 141.0],
        [39.0, 173.0, 129.0],
        [92.0, 200.0, 99.0],
        [170.0, 220.0, 50.0],
        [253.0, 231.0, 37.0],
    ];
    let x = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    std::array::from_fn(|c| (STOPS[i][c] + (STOPS[i + 1][c] - STOPS[i][c]) * f).round() as u8)
}

/// The colour scale: whole decades from `10^lo` to `10^hi`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct LogScale {
    lo: i32,
    hi: i32,
}

impl LogScale {
    /// The decades around `(lo, hi)` (positive), at least one and at most [`MAX_DECADES`].
    fn around((lo, hi): (f64, f64)) -> LogScale {
        let top = hi.log10().ceil() as i32;
        let bottom = (lo.log10().floor() as i32)
            .max(top - MAX_DECADES)
            .min(top - 1);
        LogScale {
            lo: bottom,
            hi: top,
        }
    }

    /// Where `v` sits on the scale, 0 at the bottom and 1 at the top; `None` when it has no place
    /// on a log scale (zero, negative, not finite).
    fn position(&self, v: f64) -> Option<f64> {
        (v.is_finite() && v > 0.0).then(|| {
            ((v.log10() - f64::from(self.lo)) / f64::from(self.hi - self.lo)).clamp(0.0, 1.0)
        })
    }

    fn colour(&self, v: f64) -> [u8; 3] {
        self.position(v).map_or(NO_GRADIENT, viridis)
    }

    /// Labelled ticks as `(log10 value, label)`: every decade (every other one past 8), and
    /// 2× and 5× the lower decade when the scale spans only one.
    fn ticks(&self) -> Vec<(f64, String)> {
        let decades = self.hi - self.lo;
        let stride = if decades > 8 { 2 } else { 1 };
        let mut ticks: Vec<f64> = (self.lo..=self.hi)
            .filter(|e| (self.hi - e) % stride == 0)
            .map(f64::from)
            .collect();
        if decades == 1 {
            let lo = f64::from(self.lo);
            ticks.extend([lo + 2f64.log10(), lo + 5f64.log10()]);
            ticks.sort_by(f64::total_cmp);
        }
        ticks.into_iter().map(|t| (t, log_tick_label(t))).collect()
    }
}

/// The heatmap's cells at the plot's pixel size: row `r` (training), column `t` (time step).
fn cells(grads: &TimeStepGradients, scale: LogScale, steps: usize) -> Picture {
    let rows = grads.rows.len();
    let pixels = (0..3)
        .flat_map(|channel| {
            (0..PLOT_HEIGHT).flat_map(move |y| {
                let row = &grads.rows[y * rows / PLOT_HEIGHT];
                (0..PLOT_WIDTH).map(move |x| {
                    let t = x * steps / PLOT_WIDTH;
                    row.norms.get(t).map_or(NO_GRADIENT, |&v| scale.colour(v))[channel]
                })
            })
        })
        .collect();
    Picture {
        channels: 3,
        height: PLOT_HEIGHT,
        width: PLOT_WIDTH,
        pixels,
    }
}

/// The heatmap of `grads` under `title`: time step `t` across (1 on the left), the recorded
/// training steps down (the first at the top), ‖∂L/∂h_t‖ in the colour of a logarithmic scale
/// drawn as a bar on the right with its decades labelled (`10⁻³`), and notes on how to read
/// it. `scale` fixes the scale's ends (positive, smallest first; rounded out to whole decades)
/// so that pictures of several models compare; `None` takes the range of `grads`.
///
/// ```
/// use nabla_inspect::diagnostics::{TimeStepGradients, time_step_gradients_svg};
/// let mut grads = TimeStepGradients::new("0: RNN(2 -> 8)", 1);
/// for step in 1..=3 {
///     grads.push(step, 1, step, (0..7).map(|t| 10f64.powi(t - 6)).collect());
/// }
/// let svg = time_step_gradients_svg(&grads, "why gates: RNN", None).unwrap();
/// assert!(svg.contains(">10⁻⁶</text>") && svg.contains(">10⁰</text>"));
/// assert!(svg.contains("0: RNN(2 -&gt; 8)"));
/// ```
pub fn time_step_gradients_svg(
    grads: &TimeStepGradients,
    title: &str,
    scale: Option<(f64, f64)>,
) -> Result<String, ChartError> {
    if grads.rows.is_empty() {
        return Err(ChartError(format!(
            "no training step of {} was recorded",
            grads.layer
        )));
    }
    if let Some((lo, hi)) = scale
        && !(lo > 0.0 && hi >= lo && hi.is_finite())
    {
        return Err(ChartError(format!(
            "the colour scale of a log heatmap must be positive and ordered, got [{lo}, {hi}]"
        )));
    }
    let range = scale.or_else(|| grads.range());
    let log = LogScale::around(range.unwrap_or((0.1, 1.0)));
    let steps = grads.rows.iter().map(|r| r.norms.len()).max().unwrap_or(0);
    if steps == 0 {
        return Err(ChartError(format!(
            "the recorded steps of {} hold no time step",
            grads.layer
        )));
    }
    let (w, h) = (PLOT_WIDTH as f64, PLOT_HEIGHT as f64);
    let bar_x = PLOT_LEFT + w + 28.0;
    let notes = notes(grads, log);
    let width = (bar_x + BAR_WIDTH + 90.0)
        .max(notes.iter().map(|n| text_width(n)).fold(0.0, f64::max) + 2.0 * MARGIN)
        .max(text_width(title) * 15.0 / 12.0 + 2.0 * MARGIN);
    let notes_top = PLOT_TOP + h + 52.0;
    let height = notes_top + notes.len() as f64 * LINE + MARGIN;
    let mut out = svg_start(width.ceil(), height.ceil());
    let _ = writeln!(
        out,
        "<text x=\"{MARGIN}\" y=\"24\" font-size=\"15\" font-weight=\"bold\">{}</text>\n\
         <text x=\"{MARGIN}\" y=\"44\" fill=\"#404040\">‖∂L/∂h_t‖ of layer {}, \
         every {} training step{}</text>",
        escape(title),
        escape(&grads.layer),
        grads.every,
        if grads.every == 1 { "" } else { "s" }
    );
    let _ = writeln!(
        out,
        "<image x=\"{PLOT_LEFT}\" y=\"{PLOT_TOP}\" width=\"{w}\" height=\"{h}\" \
         preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" href=\"{}\"/>\n\
         <rect x=\"{PLOT_LEFT}\" y=\"{PLOT_TOP}\" width=\"{w}\" height=\"{h}\" fill=\"none\" \
         stroke=\"#404040\" stroke-width=\"1\"/>",
        cells(grads, log, steps).png_url()?
    );
    time_axis(&mut out, steps);
    training_axis(&mut out, grads);
    colour_bar(&mut out, bar_x, log)?;
    for (i, note) in notes.iter().enumerate() {
        let _ = writeln!(
            out,
            "<text x=\"{MARGIN}\" y=\"{:.1}\" fill=\"#404040\">{}</text>",
            notes_top + i as f64 * LINE,
            escape(note)
        );
    }
    out.push_str("</svg>\n");
    Ok(out)
}

/// A tick mark from `(x, y)` by `(dx, dy)`, and `text` at `(lx, ly)` with `anchor`.
fn tick(
    out: &mut String,
    (x, y): (f64, f64),
    (dx, dy): (f64, f64),
    (lx, ly, anchor): (f64, f64, &str),
    text: &str,
) {
    let _ = writeln!(
        out,
        "<line x1=\"{x:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#404040\"/>\n\
         <text x=\"{lx:.1}\" y=\"{ly:.1}\" text-anchor=\"{anchor}\">{}</text>",
        x + dx,
        y + dy,
        escape(text)
    );
}

/// Time steps 1..=`steps` along the bottom, each tick at its column's centre.
fn time_axis(out: &mut String, steps: usize) {
    let column = PLOT_WIDTH as f64 / steps as f64;
    let bottom = PLOT_TOP + PLOT_HEIGHT as f64;
    for t in integer_ticks(1, steps, 10) {
        let x = PLOT_LEFT + (t as f64 - 0.5) * column;
        let text = t.to_string();
        tick(
            out,
            (x, bottom),
            (0.0, 5.0),
            (x, bottom + 18.0, "middle"),
            &text,
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">time step t →</text>",
        PLOT_LEFT + PLOT_WIDTH as f64 / 2.0,
        bottom + 36.0
    );
}

/// The recorded training steps down the left side, each tick at its row's centre.
fn training_axis(out: &mut String, grads: &TimeStepGradients) {
    let rows = &grads.rows;
    let row = PLOT_HEIGHT as f64 / rows.len() as f64;
    let (first, last) = (rows[0].training_step, rows[rows.len() - 1].training_step);
    for s in integer_ticks(first, last.max(first), 8) {
        // The (fractional) row of training step `s`, between the recorded rows around it.
        let after = rows
            .partition_point(|r| r.training_step < s)
            .min(rows.len() - 1);
        let position = if after == 0 {
            0.0
        } else {
            let (a, b) = (rows[after - 1].training_step, rows[after].training_step);
            (after - 1) as f64 + (s - a) as f64 / (b - a).max(1) as f64
        };
        let y = PLOT_TOP + (position + 0.5) * row;
        tick(
            out,
            (PLOT_LEFT, y),
            (-5.0, 0.0),
            (PLOT_LEFT - 8.0, y + 4.0, "end"),
            &s.to_string(),
        );
    }
    let (x, y) = (MARGIN + 10.0, PLOT_TOP + PLOT_HEIGHT as f64 / 2.0);
    let _ = writeln!(
        out,
        "<text x=\"{x}\" y=\"{y}\" text-anchor=\"middle\" \
         transform=\"rotate(-90 {x} {y})\">training step ↓</text>"
    );
}

/// The colour bar at `x`, as tall as the plot, with its ticks on the right.
fn colour_bar(out: &mut String, x: f64, scale: LogScale) -> Result<(), ChartError> {
    let h = PLOT_HEIGHT as f64;
    let levels = 256;
    let colours: Vec<[u8; 3]> = (0..levels)
        .map(|i| viridis(1.0 - i as f64 / (levels - 1) as f64))
        .collect();
    let bar = Picture {
        channels: 3,
        height: levels,
        width: 1,
        pixels: (0..3)
            .flat_map(|c| colours.iter().map(move |rgb| rgb[c]))
            .collect(),
    };
    let _ = writeln!(
        out,
        "<image x=\"{x}\" y=\"{PLOT_TOP}\" width=\"{BAR_WIDTH}\" height=\"{h}\" \
         preserveAspectRatio=\"none\" href=\"{}\"/>\n\
         <rect x=\"{x}\" y=\"{PLOT_TOP}\" width=\"{BAR_WIDTH}\" height=\"{h}\" fill=\"none\" \
         stroke=\"#404040\"/>",
        bar.png_url()?
    );
    let span = f64::from(scale.hi - scale.lo);
    for (value, label) in scale.ticks() {
        let y = PLOT_TOP + h * (1.0 - (value - f64::from(scale.lo)) / span);
        let right = x + BAR_WIDTH;
        tick(
            out,
            (right, y),
            (5.0, 0.0),
            (right + 8.0, y + 4.0, "start"),
            &label,
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"{x}\" y=\"{:.1}\">‖∂L/∂h_t‖</text>",
        PLOT_TOP - 12.0
    );
    Ok(())
}

/// How to read the picture, and what the scale leaves out.
fn notes(grads: &TimeStepGradients, scale: LogScale) -> Vec<String> {
    let mut notes = vec![
        "‖∂L/∂h_t‖: L2 norm of the loss's gradient with respect to the hidden state h_t \
         (whole batch, first layer)."
            .to_string(),
        "Each row is one training step, each column one time step; the gradient enters where \
         the loss reads the states and flows back to the left."
            .to_string(),
        "Vanishing through time: the colour darkens decade by decade towards the early time \
         steps, so what they hold barely moves the weights."
            .to_string(),
    ];
    match grads.range() {
        None => notes.push("No time step received a finite, non-zero gradient.".to_string()),
        Some((lo, _)) if lo < 10f64.powi(scale.lo) => notes.push(format!(
            "Norms below {} take the lowest colour.",
            power_of_ten(scale.lo)
        )),
        Some(_) => {}
    }
    let missing = grads
        .rows
        .iter()
        .flat_map(|r| &r.norms)
        .any(|v| !(v.is_finite() && *v > 0.0));
    if missing {
        notes.push("Grey: no gradient reached that state (zero), or it is not finite.".to_string());
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use nabla_core::DType;

    /// The hidden states of `h_t = a·h_(t-1) + x_t` over `steps` steps for a batch of `n`
    /// samples with 1 unit, `h_0 = 0`, each retaining its gradient.
    fn linear_recurrence(a: f64, steps: usize, n: usize) -> Vec<Tensor> {
        let mut h = Tensor::zeros(&[n, 1], DType::F64);
        let mut states = Vec::new();
        for t in 0..steps {
            let x = Tensor::full(&[n, 1], t as f64, DType::F64).requires_grad();
            h = &(&h * a) + &x;
            h.retain_grad();
            states.push(h.clone());
        }
        states
    }

    #[test]
    fn the_norms_are_the_gradient_through_time_of_the_whole_batch() {
        // L = sum over the batch of h_T: dL/dh_t = a^(T-t) for each of the 4 samples, so the
        // batch's norm is 2·a^(T-t) (the total, not the per-sample 0.5^(T-t)).
        let states = linear_recurrence(0.5, 6, 4);
        states[5].sum().backward();
        let norms = time_step_norms(&states);
        let want: Vec<f64> = (0..6).map(|t| 2.0 * 0.5f64.powi(5 - t)).collect();
        assert_eq!(norms, want);
    }

    #[test]
    fn a_state_the_loss_does_not_read_has_norm_zero() {
        let states = linear_recurrence(0.5, 4, 1);
        // The loss reads h_2 (index 1): h_3 and h_4 come after it.
        (&states[1] * 3.0).sum().backward();
        assert_eq!(time_step_norms(&states), [1.5, 3.0, 0.0, 0.0]);
    }

    #[test]
    fn every_kth_step_is_recorded_from_the_first() {
        assert_eq!(TimeStepGradients::every_for(0), 1);
        assert_eq!(TimeStepGradients::every_for(200), 1);
        assert_eq!(TimeStepGradients::every_for(201), 2);
        assert_eq!(TimeStepGradients::every_for(4690), 24);
        let mut grads = TimeStepGradients::new("0: RNN(1 -> 1)", 3);
        for step in 1..=10 {
            let states = linear_recurrence(0.5, 3, 1);
            states[2].sum().backward();
            grads.record(step, 1 + (step - 1) / 5, 1 + (step - 1) % 5, &states);
        }
        let recorded: Vec<(usize, usize, usize)> = grads
            .rows
            .iter()
            .map(|r| (r.training_step, r.epoch, r.step))
            .collect();
        assert_eq!(recorded, [(1, 1, 1), (4, 1, 4), (7, 2, 2), (10, 2, 5)]);
        assert_eq!(grads.rows[3].norms, [0.25, 0.5, 1.0]);
        assert_eq!(grads.range(), Some((0.25, 1.0)));
        assert!(!grads.record(13, 3, 3, &[]));
    }

    #[test]
    fn the_scale_covers_whole_decades_and_at_most_twelve() {
        let scale = LogScale::around((3e-5, 0.2));
        assert_eq!(scale, LogScale { lo: -5, hi: 0 });
        let labels: Vec<String> = scale.ticks().into_iter().map(|t| t.1).collect();
        assert_eq!(labels, ["10⁻⁵", "10⁻⁴", "10⁻³", "10⁻²", "10⁻¹", "10⁰"]);
        assert_eq!(LogScale::around((1e-30, 1.0)), LogScale { lo: -12, hi: 0 });
        let labels: Vec<String> = LogScale::around((1e-30, 1.0))
            .ticks()
            .into_iter()
            .map(|t| t.1)
            .collect();
        assert_eq!(
            labels,
            ["10⁻¹²", "10⁻¹⁰", "10⁻⁸", "10⁻⁶", "10⁻⁴", "10⁻²", "10⁰"]
        );
        let narrow = LogScale::around((0.2, 0.3));
        assert_eq!(narrow, LogScale { lo: -1, hi: 0 });
        let labels: Vec<String> = narrow.ticks().into_iter().map(|t| t.1).collect();
        assert_eq!(labels, ["10⁻¹", "0.2", "0.5", "10⁰"]);
        assert_eq!(scale.position(1e-5), Some(0.0));
        assert_eq!(scale.position(1.0), Some(1.0));
        assert_eq!(scale.position(0.0), None);
        assert_eq!(scale.position(f64::NAN), None);
    }

    /// The heatmap's cells, decoded from the picture's PNG.
    fn decoded_cells(svg: &str) -> image::RgbImage {
        let start = svg.find("data:image/png;base64,").unwrap() + 22;
        let end = start + svg[start..].find('"').unwrap();
        let png = STANDARD.decode(&svg[start..end]).unwrap();
        image::load_from_memory(&png).unwrap().to_rgb8()
    }

    #[test]
    fn each_cell_takes_the_colour_of_its_norm_on_the_log_scale() {
        // Two training steps of 4 time steps: a gradient that vanishes by a decade per step back
        // through time, then one that does not (plus a state it did not reach).
        let mut grads = TimeStepGradients::new("0: RNN(2 -> 8)", 5);
        grads.push(1, 1, 1, vec![1e-4, 1e-3, 1e-2, 1e-1]);
        grads.push(6, 1, 6, vec![0.0, 1e-1, 1e-1, 1e-1]);
        let svg = time_step_gradients_svg(&grads, "adding problem", None).unwrap();
        let cells = decoded_cells(&svg);
        assert_eq!(cells.dimensions(), (PLOT_WIDTH as u32, PLOT_HEIGHT as u32));
        let at = |row: u32, t: u32| {
            let x = t * PLOT_WIDTH as u32 / 4 + 10;
            let y = row * PLOT_HEIGHT as u32 / 2 + 10;
            cells.get_pixel(x, y).0
        };
        // The scale runs from 10⁻⁴ (the lowest colour) to 10⁻¹ (the highest).
        assert_eq!(at(0, 0), viridis(0.0));
        assert_eq!(at(0, 1), viridis(1.0 / 3.0));
        assert_eq!(at(0, 3), viridis(1.0));
        assert_eq!(at(1, 0), NO_GRADIENT);
        assert_eq!(at(1, 2), viridis(1.0));
        for label in ["10⁻⁴", "10⁻³", "10⁻²", "10⁻¹"] {
            assert!(svg.contains(&format!(">{label}</text>")), "{label}");
        }
        assert!(svg.contains("every 5 training steps"));
        assert!(svg.contains("Grey: no gradient reached that state"));
        assert!(svg.contains("Vanishing through time"));
        // Time steps 1..4 along the bottom, training steps 1 and 5 down the side.
        for label in ["1", "2", "3", "4", "5"] {
            assert!(svg.contains(&format!(">{label}</text>")), "{label}");
        }
    }

    #[test]
    fn a_fixed_scale_lets_pictures_compare_and_clamps_what_it_leaves_out() {
        let mut grads = TimeStepGradients::new("0: LSTM(2 -> 8)", 1);
        grads.push(1, 1, 1, vec![1e-9, 1e-2]);
        let svg = time_step_gradients_svg(&grads, "t", Some((1e-6, 1.0))).unwrap();
        let cells = decoded_cells(&svg);
        assert_eq!(cells.get_pixel(10, 10).0, viridis(0.0));
        assert_eq!(cells.get_pixel(630, 10).0, viridis(4.0 / 6.0));
        assert!(svg.contains("Norms below 10⁻⁶ take the lowest colour."));
    }

    #[test]
    fn nothing_to_draw_and_bad_scales_are_errors_naming_them() {
        let empty = TimeStepGradients::new("0: GRU(2 -> 8)", 1);
        assert_eq!(
            time_step_gradients_svg(&empty, "t", None)
                .unwrap_err()
                .to_string(),
            "drawing a chart: no training step of 0: GRU(2 -> 8) was recorded"
        );
        let mut one = TimeStepGradients::new("0: GRU(2 -> 8)", 1);
        one.push(1, 1, 1, vec![1.0]);
        assert_eq!(
            time_step_gradients_svg(&one, "t", Some((0.0, 1.0)))
                .unwrap_err()
                .to_string(),
            "drawing a chart: the colour scale of a log heatmap must be positive and ordered, \
             got [0, 1]"
        );
        one.rows[0].norms.clear();
        assert_eq!(
            time_step_gradients_svg(&one, "t", None)
                .unwrap_err()
                .to_string(),
            "drawing a chart: the recorded steps of 0: GRU(2 -> 8) hold no time step"
        );
    }
}
