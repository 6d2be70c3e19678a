//! Networks described in one line of text, for the command line and for saved models:
//! `"flatten, linear 256, relu, dropout 0.2, linear"`.
//!
//! A spec is a comma-separated list of layers, each a name and its arguments separated by
//! spaces. Names are case-insensitive and PyTorch's class names work too:
//!
//! | layer | arguments | PyTorch |
//! |---|---|---|
//! | `flatten` | none | `nn.Flatten()` |
//! | `linear N` (`dense`, `fc`) | output size; the last linear layer may leave it out and gets the task's outputs | `nn.Linear(in, N)` |
//! | `relu`, `sigmoid`, `tanh`, `gelu` | none | `nn.ReLU()`, ... |
//! | `leakyrelu [SLOPE]` (`leaky_relu`) | negative slope, default 0.01 | `nn.LeakyReLU(SLOPE)` |
//! | `softmax [DIM]` | dim, default -1 | `nn.Softmax(dim=DIM)` |
//! | `dropout [P]` (`drop`) | probability in [0, 1), default 0.5 | `nn.Dropout(P)` |
//! | `batchnorm [N]` (`batchnorm1d`, `bn`) | features, checked against the input if given | `nn.BatchNorm1d(N)` |
//! | `layernorm [N]` (`ln`) | size of the last dim, checked if given | `nn.LayerNorm(N)` |
//! | `residual(SPEC)` (`res`) | layers that keep the shape | `x + f(x)` |
//!
//! Input sizes are always inferred from the data. The canonical text ([`ModelSpec`]'s
//! `Display`) writes names in lower case with every default made explicit, and parses back to
//! the same spec; it is what a run saves in `config.json` and in its model files.

mod build;
mod parse;
mod shape;

pub use shape::{LayerSummary, table, totals};

use crate::models::Hidden;
use crate::{Error, Result};
use std::fmt;

/// One layer of a [`ModelSpec`], with its arguments.
#[derive(Clone, Debug, PartialEq)]
pub enum LayerSpec {
    /// Every dim after the batch dim merged into one ([`crate::layers::Flatten`]).
    Flatten,
    /// A fully connected layer with bias; `None`: the task's number of outputs (only the last
    /// linear layer of the top level).
    Linear {
        out_features: Option<usize>,
    },
    ReLU,
    LeakyReLU {
        negative_slope: f64,
    },
    Sigmoid,
    Tanh,
    GELU,
    Softmax {
        dim: isize,
    },
    Dropout {
        p: f64,
    },
    /// Batch normalisation of `[N, C]` features; `Some(C)` is checked against the input.
    BatchNorm {
        num_features: Option<usize>,
    },
    /// Layer normalisation over the last dim; `Some(D)` is checked against the input.
    LayerNorm {
        features: Option<usize>,
    },
    /// `x + f(x)` around these layers, which must keep the shape.
    Residual(ModelSpec),
}

/// A network as a list of layers, built into a [`crate::module::Sequential`] for a given input
/// shape and number of outputs.
///
/// ```
/// use nabla_nn::spec::ModelSpec;
/// let spec = ModelSpec::parse("Flatten, Linear 256, ReLU, Dropout 0.2, Linear").unwrap();
/// assert_eq!(spec.to_string(), "flatten, linear 256, relu, dropout 0.2, linear");
/// let rows = spec.summary(&[1, 28, 28], 10).unwrap();
/// assert_eq!(rows[1].layer, "Linear(784 -> 256)");
/// assert_eq!(rows[4].output_shape, [10]);
/// assert_eq!(nabla_nn::spec::totals(&rows), (203_530, 0));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSpec {
    layers: Vec<LayerSpec>,
}

/// The context of every spec error.
const CONTEXT: &str = "layer spec";

fn invalid(message: String) -> Error {
    Error::invalid(CONTEXT, message)
}

impl ModelSpec {
    /// A spec of these layers (at least one; their arguments are checked).
    pub fn new(layers: Vec<LayerSpec>) -> Result<ModelSpec> {
        let spec = ModelSpec { layers };
        spec.check_arguments("")?;
        Ok(spec)
    }

    /// Parses a spec such as `"flatten, linear 256, relu, linear"`; an error names the layer
    /// by position and text and says what is wrong with it.
    ///
    /// ```
    /// use nabla_nn::spec::ModelSpec;
    /// let err = ModelSpec::parse("linear 64, dropout 1.5").unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "layer spec: layer 1 `dropout 1.5`: the probability must be in [0, 1), got 1.5"
    /// );
    /// ```
    pub fn parse(text: &str) -> Result<ModelSpec> {
        let spec = ModelSpec {
            layers: parse::layers(text, "")?,
        };
        spec.check_arguments("")?;
        Ok(spec)
    }

    /// The multi-layer perceptron of `--hidden`: a leading `flatten` when samples have more than
    /// one dim (images), then per hidden size `linear`, `batchnorm` if asked, the activation,
    /// `dropout` unless `dropout` is 0; then the output `linear`.
    ///
    /// ```
    /// use nabla_nn::models::Hidden;
    /// use nabla_nn::spec::ModelSpec;
    /// let spec = ModelSpec::mlp(&[256, 128], Hidden::Relu, false, 0.0, 3);
    /// assert_eq!(spec.to_string(), "flatten, linear 256, relu, linear 128, relu, linear");
    /// let spec = ModelSpec::mlp(&[8], Hidden::Tanh, true, 0.1, 1);
    /// assert_eq!(spec.to_string(), "linear 8, batchnorm, tanh, dropout 0.1, linear");
    /// ```
    pub fn mlp(
        hidden: &[usize],
        activation: Hidden,
        batch_norm: bool,
        dropout: f64,
        input_ndim: usize,
    ) -> ModelSpec {
        let mut layers = Vec::new();
        if input_ndim > 1 {
            layers.push(LayerSpec::Flatten);
        }
        for &size in hidden {
            layers.push(LayerSpec::Linear {
                out_features: Some(size),
            });
            if batch_norm {
                layers.push(LayerSpec::BatchNorm { num_features: None });
            }
            layers.push(activation.layer());
            // Any other value than 0, even outside [0, 1), becomes a layer, which the checks of
            // summary and build then refuse by name.
            if dropout != 0.0 {
                layers.push(LayerSpec::Dropout { p: dropout });
            }
        }
        layers.push(LayerSpec::Linear { out_features: None });
        ModelSpec { layers }
    }

    /// The layers in order.
    pub fn layers(&self) -> &[LayerSpec] {
        &self.layers
    }

    /// Checks the arguments of every layer (the sizes are checked against the input by
    /// [`ModelSpec::summary`]); `prefix` names a nested spec's layers.
    fn check_arguments(&self, prefix: &str) -> Result<()> {
        if self.layers.is_empty() {
            return Err(invalid(
                "the spec is empty; give layers such as \"flatten, linear 256, relu, linear\""
                    .to_string(),
            ));
        }
        for (i, layer) in self.layers.iter().enumerate() {
            let name = parse::position(prefix, i);
            layer
                .check()
                .map_err(|m| invalid(format!("layer {name} `{layer}`: {m}")))?;
            if let LayerSpec::Residual(inner) = layer {
                inner.check_arguments(&format!("{name}.inner"))?;
            }
        }
        Ok(())
    }
}

impl LayerSpec {
    /// The canonical name of the layer (the first of its names).
    pub fn name(&self) -> &'static str {
        match self {
            LayerSpec::Flatten => "flatten",
            LayerSpec::Linear { .. } => "linear",
            LayerSpec::ReLU => "relu",
            LayerSpec::LeakyReLU { .. } => "leakyrelu",
            LayerSpec::Sigmoid => "sigmoid",
            LayerSpec::Tanh => "tanh",
            LayerSpec::GELU => "gelu",
            LayerSpec::Softmax { .. } => "softmax",
            LayerSpec::Dropout { .. } => "dropout",
            LayerSpec::BatchNorm { .. } => "batchnorm",
            LayerSpec::LayerNorm { .. } => "layernorm",
            LayerSpec::Residual(_) => "residual",
        }
    }

    /// What is wrong with the layer's own arguments, if anything.
    fn check(&self) -> std::result::Result<(), String> {
        match *self {
            LayerSpec::Linear {
                out_features: Some(0),
            }
            | LayerSpec::BatchNorm {
                num_features: Some(0),
            }
            | LayerSpec::LayerNorm { features: Some(0) } => {
                Err("the size must be at least 1, got 0".to_string())
            }
            LayerSpec::Dropout { p } if !(0.0..1.0).contains(&p) => {
                Err(format!("the probability must be in [0, 1), got {p}"))
            }
            LayerSpec::Residual(ref inner) if inner.layers.is_empty() => {
                Err("a residual block needs at least one layer inside".to_string())
            }
            LayerSpec::LeakyReLU { negative_slope } if !negative_slope.is_finite() => Err(format!(
                "the negative slope must be a finite number, got {negative_slope}"
            )),
            _ => Ok(()),
        }
    }
}

impl Hidden {
    /// The layer of this activation.
    pub fn layer(self) -> LayerSpec {
        match self {
            Hidden::Relu => LayerSpec::ReLU,
            Hidden::LeakyRelu => LayerSpec::LeakyReLU {
                negative_slope: 0.01,
            },
            Hidden::Sigmoid => LayerSpec::Sigmoid,
            Hidden::Tanh => LayerSpec::Tanh,
            Hidden::Gelu => LayerSpec::GELU,
        }
    }
}

impl fmt::Display for LayerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        match self {
            LayerSpec::Linear {
                out_features: Some(n),
            }
            | LayerSpec::BatchNorm {
                num_features: Some(n),
            }
            | LayerSpec::LayerNorm { features: Some(n) } => write!(f, " {n}"),
            LayerSpec::LeakyReLU { negative_slope } => write!(f, " {negative_slope}"),
            LayerSpec::Softmax { dim } => write!(f, " {dim}"),
            LayerSpec::Dropout { p } => write!(f, " {p}"),
            LayerSpec::Residual(inner) => write!(f, "({inner})"),
            _ => Ok(()),
        }
    }
}

/// The canonical text: lower-case names, defaults explicit, `", "` between layers.
impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, layer) in self.layers.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{layer}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for ModelSpec {
    type Err = Error;

    fn from_str(text: &str) -> Result<ModelSpec> {
        ModelSpec::parse(text)
    }
}

/// Serialised as its canonical text.
impl serde::Serialize for ModelSpec {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ModelSpec {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ModelSpec::parse(&text).map_err(serde::de::Error::custom)
    }
}
