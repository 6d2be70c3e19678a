//! Pictures of what a trained classifier does, as standalone SVG: the confusion matrix as a
//! heat map ([`confusion_svg`]), a gallery of misclassified images with their true and
//! predicted classes ([`mistakes_svg`]), and the decision regions of a model with 2-D inputs
//! under its training points ([`decision_boundary_svg`]).

mod boundary;
mod confusion;
mod mistakes;

pub use boundary::{DecisionMap, GRID_SIDE, MAX_POINTS, decision_boundary_svg};
pub use confusion::confusion_svg;
pub use mistakes::{MAX_SHOWN, Mistake, Picture, mistakes_svg};

use nabla_nn::error::clip_to;
use plotters::style::{IntoFont, TextStyle};

/// Longest class name drawn; longer names are cut with `…`.
const LABEL_CHARS: usize = 16;

/// A class name as drawn: at most [`LABEL_CHARS`] characters.
fn label(name: &str) -> String {
    clip_to(name, LABEL_CHARS).into_owned()
}

/// The sans-serif font at plotters' `size`.
fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().into()
}
