//! Training that diverges, in the command line's words: the library's reports
//! ([`nabla_nn::train::Divergence`], [`nabla_nn::train::Warning`]) followed by the usual causes
//! and the flags that address them.

use nabla_nn::train::{Divergence, Warning};

/// The usual causes, with the flags that address them (`--weight-decay` when it is set).
pub fn usual_causes(lr: f64, weight_decay: f64) -> String {
    let decay = if weight_decay > 0.0 {
        format!(", lower --weight-decay (now {weight_decay:.2e})")
    } else {
        String::new()
    };
    format!(
        "lower the learning rate (now {lr:.2e}){decay}, use a smaller initialisation (--init) \
         or normalise (--batch-norm), or clip gradients with --clip-norm"
    )
}

/// `the loss became NaN at epoch 2, step 5, first in ...: lower the learning rate ...`.
pub fn divergence_message(d: &Divergence, weight_decay: f64) -> String {
    format!("{d}: {}", usual_causes(d.lr, weight_decay))
}

/// A warning with the usual causes: after a colon for a blow-up, after `the run diverged;`
/// for an epoch far above the first loss.
pub fn warning_message(w: &Warning, weight_decay: f64) -> String {
    let causes = usual_causes(w.lr(), weight_decay);
    match w {
        Warning::LossBlewUp { .. } => format!("{w}: {causes}"),
        Warning::RunDiverged { .. } => format!("{w}; {causes}"),
    }
}
