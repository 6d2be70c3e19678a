//! Every backward rule this crate defines, by its [`Backward::rule`] key: what a table of
//! gradient checks must cover. A rule is one way of computing gradients: a `Backward` type, or
//! one variant of a family of elementwise operations (`x²` and `xᵖ` are both `PowBackward`
//! nodes, with two rules). Layer libraries list their own beside these.
//!
//! [`Backward::rule`]: crate::Backward::rule

use crate::ops::{binary::Binary, unary::Unary};

/// Implements `rule` for a family enum (one rule key per variant, by an exhaustive match, so
/// a new variant does not compile without a key) and lists the keys in `RULES`.
macro_rules! rule_keys {
    ($family:ident { $($variant:ident => $key:literal),* $(,)? }) => {
        impl $family {
            /// Every rule key of the family, one per variant.
            pub(crate) const RULES: &'static [&'static str] = &[$($key),*];

            /// The rule key of this variant.
            pub(crate) fn rule(self) -> &'static str {
                match self {
                    $($family::$variant { .. } => $key,)*
                }
            }
        }
    };
}
pub(crate) use rule_keys;

/// The rules defined by a `Backward` type of their own, rather than a family's variant.
const TYPE_RULES: &[&str] = &[
    "SumBackward",
    "ExtremumBackward",
    "StdBackward",
    "CatBackward",
    "GatherBackward",
    "IndexSelectBackward",
    "ScatterAddBackward",
    "WhereBackward",
    "ReshapeBackward",
    "PermuteBackward",
    "IdentityBackward",
    "NarrowBackward",
    "ToDtypeBackward",
    "MatmulBackward",
    "LinearBackward",
    "ConvolutionBackward",
    "ConvolutionTransposeBackward",
    "ConvolutionWeightBackward",
    "Im2ColBackward",
    "MaxPool2dBackward",
    "MaxPool2dBackwardBackward",
    "AvgPool2dBackward",
    "AvgPool2dBackwardBackward",
    "LstmCellBackward",
    "LstmSequenceBackward",
    "LstmSequenceBackward(final)",
    "GruCellBackward",
    "EmbeddingBackward",
    "EmbeddingBackwardBackward",
    "Function",
    "CheckpointBackward",
];

/// Every rule key of this crate, each once.
///
/// ```
/// let rules = nabla_core::autograd::rules::all();
/// assert!(rules.contains(&"PowBackward(square)") && rules.contains(&"LinearBackward"));
/// ```
pub fn all() -> Vec<&'static str> {
    let mut rules: Vec<&'static str> = Unary::RULES.to_vec();
    rules.extend(Binary::RULES);
    rules.extend(TYPE_RULES);
    rules
}
