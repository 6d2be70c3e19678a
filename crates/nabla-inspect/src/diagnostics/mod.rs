//! Training diagnostics for `Sequential` networks, the pictures of the textbook's chapter 6:
//! per-layer histograms of activations, weights and gradients with saturated and dead fractions
//! ([`Recorder`]), gradient norms per layer and step with a vanishing/exploding detector
//! ([`check_gradients`]), SVG charts of all of it and of training curves (one axis, tick and
//! legend mechanism for all: whole-number epochs, percentages, powers of ten on log axes,
//! legends beside the plot), each layer's distribution over epochs ([`distributions_svg`]), the graph around
//! the operation where a NaN or infinity first appeared ([`anomaly_graph`]), and for
//! convolutional networks the first layer's filters and one image's feature maps
//! ([`filters_svg`], [`feature_maps_svg`]); for recurrent networks, the gradient norm of the
//! hidden state at each time step over training, drawn as a heatmap
//! ([`time_step_gradients_svg`]).

mod anomaly;
mod charts;
mod feature_maps;
mod gradients;
mod histogram;
mod histogram_charts;
mod layers;
mod recorder;
mod ticks;
mod time_steps;

pub use anomaly::{anomaly_graph, anomaly_svg};
pub use charts::{
    ChartError, Failure, Panel, STEP_SMOOTHING, Series, gradient_norms_svg, line_chart_svg,
};
pub(crate) use charts::{chart_error, colour};
pub use feature_maps::{MAX_CHANNELS, feature_maps_svg, filters_svg};
pub use gradients::{
    AlarmKind, AlarmSummary, EXPLODING_RATIO, GradientAlarm, LayerNorm, VANISHING_RATIO,
    check_gradients,
};
pub use histogram::{Histogram, TensorStats};
pub use histogram_charts::{
    Counts, activation_histograms_svg, distributions_svg, weight_histograms_svg,
};
pub use layers::LayerKind;
pub use recorder::{
    BINS, Diagnostics, EpochSnapshot, LayerInfo, LayerSnapshot, Recorder, StepNorms,
};
pub use time_steps::{
    MAX_DECADES, MAX_ROWS, TimeStepGradients, TimeStepRow, time_step_gradients_svg, time_step_norms,
};
