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
//! | `conv2d OUT K [stride=S] [padding=P\|same] [dilation=D] [groups=G] [bias=false]` (`conv`) | output channels, kernel size and options on `[C, H, W]` inputs | `nn.Conv2d(C, OUT, K, ...)` |
//! | `conv1d OUT K [options as conv2d]` | the same on `[C, L]` inputs | `nn.Conv1d(C, OUT, K, ...)` |
//! | `convtranspose2d OUT K [stride=S] [padding=P] [output_padding=P] [dilation=D] [groups=G] [bias=false]` | the transposed convolution | `nn.ConvTranspose2d(C, OUT, K, ...)` |
//! | `maxpool2d K [stride=S] [padding=P]` (`maxpool`, `pool`) | window, stride (default: the window), padding | `nn.MaxPool2d(K, S, P)` |
//! | `avgpool2d K [stride=S] [padding=P]` (`avgpool`) | as maxpool2d | `nn.AvgPool2d(K, S, P)` |
//! | `adaptiveavgpool2d H[xW]` (`gap` = `adaptiveavgpool2d 1`) | output size | `nn.AdaptiveAvgPool2d((H, W))` |
//! | `batchnorm2d [C]` (`bn2d`) | channels, checked if given | `nn.BatchNorm2d(C)` |
//! | `dropout2d [P]` | probability of dropping a channel, default 0.5 | `nn.Dropout2d(P)` |
//! | `groupnorm G [C]` (`gn`) | groups, and channels checked if given | `nn.GroupNorm(G, C)` |
//! | `rows` | none: images `[C, H, W]` read row by row as sequences `[H, C·W]` | `x.permute(0, 2, 1, 3).flatten(2)` |
//! | `lstm H [layers=L] [bidirectional=B] [dropout=P] [sequence=S]` | hidden size and options on `[T, I]` sequences | `nn.LSTM(I, H, L, batch_first=True, dropout=P, bidirectional=B)` |
//! | `gru H [options as lstm]` | the same with GRU cells | `nn.GRU(I, H, ...)` |
//! | `rnn H [nonlinearity=tanh\|relu] [options as lstm]` | the same with plain cells | `nn.RNN(I, H, ..., nonlinearity=...)` |
//! | `embedding V D [padding_idx=P]` | vocabulary and vector size, on integer indices | `nn.Embedding(V, D, padding_idx=P)` |
//!
//! Sizes of convolutions and pools (`K`, `S`, `P`, `D`) are one number for every spatial dim
//! or one per dim: `3` or `3x5`. Input sizes are always inferred from the data: the channels of
//! a convolution from its input, which is `[C, H, W]` for images. The canonical text ([`ModelSpec`]'s
//! `Display`) writes names in lower case with every default made explicit, and parses back to
//! the same spec; it is what a run saves in `config.json` and in its model files.
//!
//! Recurrent layers take sequences batch first (`[N, T, I]`, `batch_first=True`): `rows` makes
//! them from images. They return the last layer's final hidden state `[N, D·H]` (both
//! directions side by side when `bidirectional=true`), ready for a `linear`, or with
//! `sequence=true` every time step's output `[N, T, D·H]`, ready for another recurrent layer.
//! `layers` stacks cells (default 1), with `dropout` between them (default 0), and `rnn`'s
//! `nonlinearity` is `tanh` (default) or `relu`.

mod build;
mod parse;
mod shape;

pub use shape::{LayerSummary, table, totals};

use crate::layers::conv::{check_geometry, sizes};
use crate::layers::conv_transpose::check_output_padding;
use crate::layers::pool::check_options;
use crate::layers::recurrent::Kind;
use crate::layers::{Nonlinearity, RecurrentOptions};
use crate::models::Hidden;
use crate::{Error, Result};
use nabla_core::ops::window::{ConvOptions, ConvTransposeOptions, Padding, PoolOptions};
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
    /// A 2-d convolution of `[C, H, W]` inputs, `C` taken from the input.
    Conv2d {
        out_channels: usize,
        kernel: [usize; 2],
        options: ConvOptions<2>,
        bias: bool,
    },
    /// A 1-d convolution of `[C, L]` inputs.
    Conv1d {
        out_channels: usize,
        kernel: [usize; 1],
        options: ConvOptions<1>,
        bias: bool,
    },
    /// A transposed 2-d convolution of `[C, H, W]` inputs.
    ConvTranspose2d {
        out_channels: usize,
        kernel: [usize; 2],
        options: ConvTransposeOptions<2>,
        bias: bool,
    },
    /// Max pooling of `[C, H, W]` inputs (kernel, stride and padding; the other options at
    /// PyTorch's defaults).
    MaxPool2d(PoolOptions<2>),
    /// Average pooling of `[C, H, W]` inputs.
    AvgPool2d(PoolOptions<2>),
    /// Adaptive average pooling of `[C, H, W]` inputs to `[C, output_size]`.
    AdaptiveAvgPool2d {
        output_size: [usize; 2],
    },
    /// Batch normalisation per channel of `[C, H, W]` inputs; `Some(C)` is checked.
    BatchNorm2d {
        num_features: Option<usize>,
    },
    /// Dropout of whole channels.
    Dropout2d {
        p: f64,
    },
    /// Group normalisation of `[C, ...]` inputs; `Some(C)` is checked.
    GroupNorm {
        num_groups: usize,
        num_channels: Option<usize>,
    },
    /// Images `[C, H, W]` read row by row as sequences `[H, C·W]` ([`crate::layers::Rows`]).
    Rows,
    /// An RNN, LSTM or GRU on batch-first sequences `[T, I]`.
    Recurrent(RecurrentSpec),
    /// A lookup table of `num_embeddings` vectors of `dim` on integer indices.
    Embedding {
        num_embeddings: usize,
        dim: usize,
        padding_idx: Option<usize>,
    },
}

/// The cell of a recurrent layer.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RecurrentCell {
    /// `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`, PyTorch's `nn.RNN`.
    RnnTanh,
    /// The same with ReLU, `nn.RNN(nonlinearity="relu")`.
    RnnRelu,
    /// `nn.LSTM`: four gates (input, forget, cell, output) and a cell state.
    Lstm,
    /// `nn.GRU`: three gates (reset, update, new).
    Gru,
}

impl RecurrentCell {
    /// The kind of cell the built layer runs.
    fn kind(self) -> Kind {
        match self {
            RecurrentCell::RnnTanh => Kind::Rnn(Nonlinearity::Tanh),
            RecurrentCell::RnnRelu => Kind::Rnn(Nonlinearity::Relu),
            RecurrentCell::Lstm => Kind::Lstm,
            RecurrentCell::Gru => Kind::Gru,
        }
    }

    /// The gates of one cell: the rows of its weights are this many times the hidden size.
    pub fn gates(self) -> usize {
        self.kind().gates()
    }
}

/// A recurrent layer of a spec: `lstm 128 layers=2 bidirectional=true`.
#[derive(Clone, Debug, PartialEq)]
pub struct RecurrentSpec {
    pub cell: RecurrentCell,
    pub hidden_size: usize,
    /// Stacked layers, each reading the previous one's outputs.
    pub num_layers: usize,
    pub bidirectional: bool,
    /// Dropout on the outputs of every layer but the last, in [0, 1).
    pub dropout: f64,
    /// Whether the layer returns every time step's output `[T, D·H]` rather than the last
    /// hidden state `[D·H]`.
    pub sequence: bool,
}

impl RecurrentSpec {
    /// A single-layer, one-direction layer returning its last hidden state.
    pub fn new(cell: RecurrentCell, hidden_size: usize) -> RecurrentSpec {
        RecurrentSpec {
            cell,
            hidden_size,
            num_layers: 1,
            bidirectional: false,
            dropout: 0.0,
            sequence: false,
        }
    }

    /// The directions: 2 when bidirectional, else 1.
    pub fn directions(&self) -> usize {
        self.options().directions()
    }

    /// PyTorch's parameter count on inputs of `input_size` features (`None` on overflow): per
    /// layer and direction `G·H·(I + H)` weights and `2·G·H` biases, with `G` gates and `I` the
    /// input size of the first layer and `D·H` of the others. An LSTM 28 -> 128 has
    /// `4·128·(28 + 128) + 8·128` = 80,896.
    ///
    /// ```
    /// use nabla_nn::spec::{RecurrentCell, RecurrentSpec};
    /// let lstm = RecurrentSpec::new(RecurrentCell::Lstm, 128);
    /// assert_eq!(lstm.parameters(28), Some(80_896));
    /// let gru = RecurrentSpec { num_layers: 2, bidirectional: true, ..RecurrentSpec::new(RecurrentCell::Gru, 8) };
    /// assert_eq!(gru.parameters(4), Some(2 * (3 * 8 * (4 + 8) + 48) + 2 * (3 * 8 * (16 + 8) + 48)));
    /// ```
    pub fn parameters(&self, input_size: usize) -> Option<usize> {
        let rows = self.cell.gates().checked_mul(self.hidden_size)?;
        let inner = self.directions().checked_mul(self.hidden_size)?;
        (0..self.num_layers).try_fold(0usize, |total, layer| {
            let inputs = if layer == 0 { input_size } else { inner };
            let per_direction = inputs
                .checked_add(self.hidden_size)?
                .checked_add(2)?
                .checked_mul(rows)?;
            total.checked_add(per_direction.checked_mul(self.directions())?)
        })
    }

    /// The options of the layer it builds (batch first, with biases).
    pub fn options(&self) -> RecurrentOptions {
        RecurrentOptions {
            num_layers: self.num_layers,
            bias: true,
            batch_first: true,
            dropout: self.dropout,
            bidirectional: self.bidirectional,
        }
    }

    /// The layer as the built module describes itself on inputs of `input_size` features:
    /// `LSTM(28 -> 128, batch_first)`, `RNN(28 -> 128, relu, layers=2, bidirectional,
    /// batch_first, sequence)`.
    ///
    /// ```
    /// use nabla_nn::spec::{RecurrentCell, RecurrentSpec};
    /// let lstm = RecurrentSpec::new(RecurrentCell::Lstm, 128);
    /// assert_eq!(lstm.description(28), "LSTM(28 -> 128, batch_first)");
    /// ```
    pub fn description(&self, input_size: usize) -> String {
        crate::layers::recurrent::description(
            self.cell.kind(),
            input_size,
            self.hidden_size,
            &self.options(),
            self.sequence,
        )
    }
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
            LayerSpec::Conv2d { .. } => "conv2d",
            LayerSpec::Conv1d { .. } => "conv1d",
            LayerSpec::ConvTranspose2d { .. } => "convtranspose2d",
            LayerSpec::MaxPool2d(_) => "maxpool2d",
            LayerSpec::AvgPool2d(_) => "avgpool2d",
            LayerSpec::AdaptiveAvgPool2d { .. } => "adaptiveavgpool2d",
            LayerSpec::BatchNorm2d { .. } => "batchnorm2d",
            LayerSpec::Dropout2d { .. } => "dropout2d",
            LayerSpec::GroupNorm { .. } => "groupnorm",
            LayerSpec::Rows => "rows",
            LayerSpec::Recurrent(r) => match r.cell {
                RecurrentCell::RnnTanh | RecurrentCell::RnnRelu => "rnn",
                RecurrentCell::Lstm => "lstm",
                RecurrentCell::Gru => "gru",
            },
            LayerSpec::Embedding { .. } => "embedding",
        }
    }

    /// Whether the layer has weights (linear layers, convolutions, recurrent layers and
    /// embeddings): an activation's gain initialises the weighted layer next to it, never one
    /// beyond another weighted layer.
    fn is_weighted(&self) -> bool {
        matches!(
            self,
            LayerSpec::Linear { .. }
                | LayerSpec::Conv2d { .. }
                | LayerSpec::Conv1d { .. }
                | LayerSpec::ConvTranspose2d { .. }
                | LayerSpec::Recurrent(_)
                | LayerSpec::Embedding { .. }
        )
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
            | LayerSpec::LayerNorm { features: Some(0) }
            | LayerSpec::BatchNorm2d {
                num_features: Some(0),
            } => Err("the size must be at least 1, got 0".to_string()),
            LayerSpec::Dropout { p } | LayerSpec::Dropout2d { p } if !(0.0..1.0).contains(&p) => {
                Err(format!("the probability must be in [0, 1), got {p}"))
            }
            LayerSpec::Conv2d {
                out_channels,
                kernel,
                ref options,
                ..
            } => check_conv(out_channels, &kernel, options),
            LayerSpec::Conv1d {
                out_channels,
                kernel,
                ref options,
                ..
            } => check_conv(out_channels, &kernel, options),
            LayerSpec::ConvTranspose2d {
                out_channels,
                kernel,
                ref options,
                ..
            } => check_geometry(
                None,
                out_channels,
                options.groups,
                &kernel,
                &options.stride,
                &options.dilation,
            )
            .and_then(|()| check_output_padding(options)),
            LayerSpec::MaxPool2d(ref options) | LayerSpec::AvgPool2d(ref options) => {
                check_options(options)
            }
            LayerSpec::AdaptiveAvgPool2d { output_size } if output_size.contains(&0) => {
                Err(format!(
                    "the output size must be at least 1x1, got {}",
                    sizes(&output_size)
                ))
            }
            LayerSpec::GroupNorm { num_groups: 0, .. } => {
                Err("the number of groups must be at least 1, got 0".to_string())
            }
            LayerSpec::GroupNorm {
                num_groups,
                num_channels: Some(c),
            } if c % num_groups != 0 => Err(format!(
                "the channels ({c}) must be a multiple of the groups ({num_groups})"
            )),
            LayerSpec::Residual(ref inner) if inner.layers.is_empty() => {
                Err("a residual block needs at least one layer inside".to_string())
            }
            LayerSpec::LeakyReLU { negative_slope } if !negative_slope.is_finite() => Err(format!(
                "the negative slope must be a finite number, got {negative_slope}"
            )),
            LayerSpec::Recurrent(ref r) => check_recurrent(r),
            LayerSpec::Embedding {
                num_embeddings,
                dim,
                padding_idx,
            } => check_embedding(num_embeddings, dim, padding_idx),
            _ => Ok(()),
        }
    }
}

/// What is wrong with a recurrent layer's own arguments.
fn check_recurrent(r: &RecurrentSpec) -> std::result::Result<(), String> {
    if r.hidden_size == 0 {
        return Err("the hidden size must be at least 1, got 0".to_string());
    }
    if r.num_layers == 0 {
        return Err("the number of layers must be at least 1, got 0".to_string());
    }
    if !(0.0..1.0).contains(&r.dropout) {
        return Err(format!(
            "the dropout probability must be in [0, 1), got {}",
            r.dropout
        ));
    }
    Ok(())
}

/// What is wrong with an embedding's own arguments.
fn check_embedding(
    num_embeddings: usize,
    dim: usize,
    padding_idx: Option<usize>,
) -> std::result::Result<(), String> {
    if num_embeddings == 0 || dim == 0 {
        return Err(format!(
            "the number of embeddings and their size must be at least 1, got {num_embeddings} \
             and {dim}"
        ));
    }
    match padding_idx {
        Some(p) if p >= num_embeddings => Err(format!(
            "padding_idx must be below the number of embeddings ({num_embeddings}), got {p}"
        )),
        _ => Ok(()),
    }
}

/// What is wrong with a convolution's own arguments: its sizes, and `same` padding with a
/// stride (which PyTorch refuses).
fn check_conv<const N: usize>(
    out_channels: usize,
    kernel: &[usize; N],
    options: &ConvOptions<N>,
) -> std::result::Result<(), String> {
    check_geometry(
        None,
        out_channels,
        options.groups,
        kernel,
        &options.stride,
        &options.dilation,
    )?;
    if options.padding == Padding::Same && options.stride != [1; N] {
        return Err(format!(
            "padding=same needs stride 1, got stride {}",
            sizes(&options.stride)
        ));
    }
    Ok(())
}

/// `3` when every spatial dim has the same size, else `3x5`: the canonical text of a size.
fn compact(values: &[usize]) -> String {
    if values.windows(2).all(|w| w[0] == w[1]) {
        values[0].to_string()
    } else {
        sizes(values)
    }
}

/// The canonical text of a convolution's options: every one written out.
fn conv_options<const N: usize>(options: &ConvOptions<N>, bias: bool) -> String {
    let padding = match options.padding {
        Padding::Same => "same".to_string(),
        Padding::Explicit(p) => compact(&p),
    };
    format!(
        "stride={} padding={padding} dilation={} groups={} bias={bias}",
        compact(&options.stride),
        compact(&options.dilation),
        options.groups
    )
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
            LayerSpec::Conv2d {
                out_channels,
                kernel,
                options,
                bias,
            } => write!(
                f,
                " {out_channels} {} {}",
                compact(kernel),
                conv_options(options, *bias)
            ),
            LayerSpec::Conv1d {
                out_channels,
                kernel,
                options,
                bias,
            } => write!(
                f,
                " {out_channels} {} {}",
                compact(kernel),
                conv_options(options, *bias)
            ),
            LayerSpec::ConvTranspose2d {
                out_channels,
                kernel,
                options,
                bias,
            } => write!(
                f,
                " {out_channels} {} stride={} padding={} output_padding={} dilation={} groups={} bias={bias}",
                compact(kernel),
                compact(&options.stride),
                compact(&options.padding),
                compact(&options.output_padding),
                compact(&options.dilation),
                options.groups
            ),
            LayerSpec::MaxPool2d(options) | LayerSpec::AvgPool2d(options) => write!(
                f,
                " {} stride={} padding={}",
                compact(&options.kernel),
                compact(&options.stride),
                compact(&options.padding)
            ),
            LayerSpec::AdaptiveAvgPool2d { output_size } => write!(f, " {}", compact(output_size)),
            LayerSpec::BatchNorm2d {
                num_features: Some(n),
            } => write!(f, " {n}"),
            LayerSpec::Dropout2d { p } => write!(f, " {p}"),
            LayerSpec::GroupNorm {
                num_groups,
                num_channels,
            } => {
                write!(f, " {num_groups}")?;
                match num_channels {
                    Some(c) => write!(f, " {c}"),
                    None => Ok(()),
                }
            }
            LayerSpec::Recurrent(r) => {
                write!(f, " {}", r.hidden_size)?;
                match r.cell {
                    RecurrentCell::RnnTanh => f.write_str(" nonlinearity=tanh")?,
                    RecurrentCell::RnnRelu => f.write_str(" nonlinearity=relu")?,
                    RecurrentCell::Lstm | RecurrentCell::Gru => {}
                }
                write!(
                    f,
                    " layers={} bidirectional={} dropout={} sequence={}",
                    r.num_layers, r.bidirectional, r.dropout, r.sequence
                )
            }
            LayerSpec::Embedding {
                num_embeddings,
                dim,
                padding_idx,
            } => {
                write!(f, " {num_embeddings} {dim}")?;
                match padding_idx {
                    Some(p) => write!(f, " padding_idx={p}"),
                    None => Ok(()),
                }
            }
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
