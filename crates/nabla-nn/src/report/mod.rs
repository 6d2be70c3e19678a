//! How well a trained model does, in the figures scikit-learn reports: for classification the
//! confusion matrix with accuracy and each class's precision, recall, F1 score and support
//! ([`ConfusionMatrix`], [`ClassificationReport`]); for regression the mean squared and
//! absolute errors and the coefficient of determination R² of each target
//! ([`RegressionReport`]); and the most probable classes of a prediction ([`top_k`]).

mod confusion;
mod regression;
mod top;

pub use confusion::{ClassScores, ClassificationReport, ConfusionMatrix};
pub use regression::{RegressionReport, RegressionScores};
pub use top::top_k;

/// Longest name shown in printed tables; longer names are cut with `…`.
const NAME_WIDTH: usize = 16;

/// `name` as printed in a table: at most [`NAME_WIDTH`] characters.
fn shown_name(name: &str) -> String {
    crate::error::clip_to(name, NAME_WIDTH).into_owned()
}
