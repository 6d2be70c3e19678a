//! The text of a spec: layers split at the commas outside parentheses, each a name and its
//! space-separated arguments, or `residual(...)` around a nested spec.

use super::{LayerSpec, ModelSpec, RecurrentCell, RecurrentSpec, invalid};
use crate::Result;
use crate::error::clip_to;
use nabla_core::ops::window::{ConvOptions, ConvTransposeOptions, Padding, PoolOptions};

/// Most characters of the user's text echoed in an error message.
const ECHO: usize = 60;

/// Deepest nesting of `residual(...)` accepted, so a hostile spec cannot exhaust the stack.
const MAX_DEPTH: usize = 16;

/// The names and aliases of each layer (lower case; the first is canonical), and the layer
/// each makes from its arguments.
const NAMES: &[(&[&str], MakeLayer)] = &[
    (&["flatten"], |a| none(a, LayerSpec::Flatten)),
    (&["linear", "dense", "fc"], |a| {
        Ok(LayerSpec::Linear {
            out_features: size(a)?,
        })
    }),
    (&["relu"], |a| none(a, LayerSpec::ReLU)),
    (&["leakyrelu", "leaky_relu", "leaky-relu"], |a| {
        Ok(LayerSpec::LeakyReLU {
            negative_slope: number(a, "negative slope")?.unwrap_or(0.01),
        })
    }),
    (&["sigmoid"], |a| none(a, LayerSpec::Sigmoid)),
    (&["tanh"], |a| none(a, LayerSpec::Tanh)),
    (&["gelu"], |a| none(a, LayerSpec::GELU)),
    (&["softmax"], |a| {
        Ok(LayerSpec::Softmax {
            dim: match one(a)? {
                None => -1,
                Some(d) => d
                    .parse()
                    .map_err(|_| format!("the dim must be an integer, got {:?}", clip(d)))?,
            },
        })
    }),
    (&["dropout", "drop"], |a| {
        Ok(LayerSpec::Dropout {
            p: number(a, "probability")?.unwrap_or(0.5),
        })
    }),
    (
        &["batchnorm", "batchnorm1d", "bn", "batch_norm", "batch-norm"],
        |a| {
            Ok(LayerSpec::BatchNorm {
                num_features: size(a)?,
            })
        },
    ),
    (&["layernorm", "ln", "layer_norm", "layer-norm"], |a| {
        Ok(LayerSpec::LayerNorm { features: size(a)? })
    }),
    (&["conv2d", "conv"], conv2d),
    (&["conv1d"], conv1d),
    (
        &["convtranspose2d", "conv_transpose2d", "conv-transpose2d"],
        conv_transpose2d,
    ),
    (&["maxpool2d", "maxpool", "pool", "max_pool2d"], |a| {
        Ok(LayerSpec::MaxPool2d(pool(a, "maxpool2d")?))
    }),
    (&["avgpool2d", "avgpool", "avg_pool2d"], |a| {
        Ok(LayerSpec::AvgPool2d(pool(a, "avgpool2d")?))
    }),
    (&["adaptiveavgpool2d", "adaptive_avg_pool2d"], |a| {
        let (positional, _) = options(a, &[])?;
        let [output] = positional[..] else {
            return Err(
                "takes the output size: `adaptiveavgpool2d 1` or `adaptiveavgpool2d 7x7`"
                    .to_string(),
            );
        };
        Ok(LayerSpec::AdaptiveAvgPool2d {
            output_size: dims(output, "output size", 1)?,
        })
    }),
    (&["gap"], |a| {
        none(
            a,
            LayerSpec::AdaptiveAvgPool2d {
                output_size: [1, 1],
            },
        )
    }),
    (&["batchnorm2d", "bn2d", "batch_norm2d"], |a| {
        Ok(LayerSpec::BatchNorm2d {
            num_features: size(a)?,
        })
    }),
    (&["dropout2d"], |a| {
        Ok(LayerSpec::Dropout2d {
            p: number(a, "probability")?.unwrap_or(0.5),
        })
    }),
    (&["groupnorm", "gn", "group_norm"], |a| {
        let (positional, _) = options(a, &[])?;
        let (groups, channels) = match positional[..] {
            [g] => (g, None),
            [g, c] => (g, Some(c)),
            _ => {
                return Err(
                    "takes the number of groups and optionally of channels: `groupnorm 8`"
                        .to_string(),
                );
            }
        };
        Ok(LayerSpec::GroupNorm {
            num_groups: whole(groups, "number of groups", 1)?,
            num_channels: channels
                .map(|c| whole(c, "number of channels", 1))
                .transpose()?,
        })
    }),
    (&["rows"], |a| none(a, LayerSpec::Rows)),
    (&["lstm"], |a| recurrent(a, RecurrentCell::Lstm)),
    (&["gru"], |a| recurrent(a, RecurrentCell::Gru)),
    (&["rnn"], |a| recurrent(a, RecurrentCell::RnnTanh)),
    (&["embedding"], embedding),
];

/// The options of convolutions, after the output channels and the kernel size.
const CONV_OPTIONS: &[&str] = &["stride", "padding", "dilation", "groups", "bias"];
const CONV_TRANSPOSE_OPTIONS: &[&str] = &[
    "stride",
    "padding",
    "output_padding",
    "dilation",
    "groups",
    "bias",
];
const POOL_OPTIONS: &[&str] = &["stride", "padding"];
const RECURRENT_OPTIONS: &[&str] = &["layers", "bidirectional", "dropout", "sequence"];
const RNN_OPTIONS: &[&str] = &[
    "layers",
    "bidirectional",
    "dropout",
    "sequence",
    "nonlinearity",
];

/// Names of the layer written `residual(...)`.
const RESIDUAL: &[&str] = &["residual", "res"];

/// A layer's arguments read, or what is wrong with them.
type Arg<T> = std::result::Result<T, String>;

/// Makes a layer from its arguments.
type MakeLayer = fn(&[&str]) -> Arg<LayerSpec>;

fn clip(text: &str) -> std::borrow::Cow<'_, str> {
    clip_to(text, ECHO)
}

/// The name of layer `i` of the spec whose layers are named after `prefix` (`3.inner`), as in
/// the model's state dict: `2`, `3.inner.0`.
pub(super) fn position(prefix: &str, i: usize) -> String {
    if prefix.is_empty() {
        i.to_string()
    } else {
        format!("{prefix}.{i}")
    }
}

/// The canonical names of every layer, for the error on an unknown one.
fn known() -> String {
    let mut names: Vec<&str> = NAMES.iter().map(|(n, _)| n[0]).collect();
    names.push(RESIDUAL[0]);
    names.join(", ")
}

/// The layers of `text`, named after `prefix` in errors.
pub(super) fn layers(text: &str, prefix: &str) -> Result<Vec<LayerSpec>> {
    let depth = if prefix.is_empty() {
        0
    } else {
        prefix.matches(".inner").count()
    };
    if depth > MAX_DEPTH {
        return Err(invalid(format!(
            "layer {prefix}: residual blocks are nested more than {MAX_DEPTH} deep"
        )));
    }
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    split(text)?
        .into_iter()
        .enumerate()
        .map(|(i, item)| layer(item.trim(), &position(prefix, i)))
        .collect()
}

/// `text` cut at the commas outside parentheses; unbalanced parentheses are an error.
fn split(text: &str) -> Result<Vec<&str>> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (at, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.checked_sub(1).ok_or_else(|| {
                    invalid(format!(
                        "a `)` without its `(` at character {} of {:?}",
                        text[..at].chars().count() + 1,
                        clip(text)
                    ))
                })?
            }
            ',' if depth == 0 => {
                items.push(&text[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    if depth > 0 {
        return Err(invalid(format!(
            "a `(` is never closed in {:?}",
            clip(text)
        )));
    }
    items.push(&text[start..]);
    Ok(items)
}

/// One layer's text, named `name` in errors.
fn layer(text: &str, name: &str) -> Result<LayerSpec> {
    let fail = |message: String| invalid(format!("layer {name} `{}`: {message}", clip(text)));
    if text.is_empty() {
        return Err(invalid(format!(
            "layer {name} is empty (two commas in a row, or one at the start or end)"
        )));
    }
    if let Some(open) = text.find('(') {
        let head = text[..open].trim().to_lowercase();
        // split() left only balanced parentheses, so the last `)` closes the first `(`.
        let close = text.rfind(')').unwrap_or(text.len());
        if !text[close + 1..].trim().is_empty() {
            return Err(fail(format!(
                "unexpected {:?} after the closing parenthesis",
                clip(text[close + 1..].trim())
            )));
        }
        if !RESIDUAL.contains(&head.as_str()) {
            return Err(fail(
                "only residual takes layers in parentheses; write arguments after the name, \
                 separated by spaces (`linear 256`, `dropout 0.2`)"
                    .to_string(),
            ));
        }
        let inner = layers(&text[open + 1..close], &format!("{name}.inner"))?;
        return Ok(LayerSpec::Residual(ModelSpec { layers: inner }));
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let head = words[0].to_lowercase();
    if RESIDUAL.contains(&head.as_str()) {
        return Err(fail(
            "residual takes its layers in parentheses: `residual(linear 64, relu)`".to_string(),
        ));
    }
    let make = NAMES
        .iter()
        .find(|(names, _)| names.contains(&head.as_str()))
        .map(|(_, make)| make)
        .ok_or_else(|| {
            fail(format!(
                "unknown layer {:?}; known layers: {}",
                clip(words[0]),
                known()
            ))
        })?;
    make(&words[1..]).map_err(fail)
}

/// No arguments.
fn none(args: &[&str], layer: LayerSpec) -> Arg<LayerSpec> {
    match args {
        [] => Ok(layer),
        _ => Err(format!(
            "{} takes no argument, got {:?}",
            layer.name(),
            clip(&args.join(" "))
        )),
    }
}

/// At most one argument.
fn one<'a>(args: &[&'a str]) -> Arg<Option<&'a str>> {
    match args {
        [] => Ok(None),
        [a] => Ok(Some(a)),
        _ => Err(format!(
            "takes one argument, got {}: {:?}",
            args.len(),
            clip(&args.join(" "))
        )),
    }
}

/// An optional size, a whole number of at least 1.
fn size(args: &[&str]) -> Arg<Option<usize>> {
    one(args)?.map(|a| whole(a, "size", 1)).transpose()
}

/// A layer's positional arguments and its `key=value` options (keys in lower case).
type Options<'a> = (Vec<&'a str>, Vec<(String, &'a str)>);

/// The positional arguments and the `key=value` options of a layer, each key one of `allowed`
/// and given once.
fn options<'a>(args: &[&'a str], allowed: &[&str]) -> Arg<Options<'a>> {
    let mut positional = Vec::new();
    let mut keyed: Vec<(String, &str)> = Vec::new();
    for arg in args {
        let Some((key, value)) = arg.split_once('=') else {
            positional.push(*arg);
            continue;
        };
        let key = key.to_lowercase();
        if !allowed.contains(&key.as_str()) {
            return Err(if allowed.is_empty() {
                format!("takes no options, got {:?}", clip(arg))
            } else {
                format!(
                    "unknown option {:?}; options: {}",
                    clip(&key),
                    allowed.join(", ")
                )
            });
        }
        if keyed.iter().any(|(k, _)| *k == key) {
            return Err(format!("the option {key} is given twice"));
        }
        keyed.push((key, value));
    }
    Ok((positional, keyed))
}

/// A whole number of at least `min`, named `what` in errors.
fn whole(text: &str, what: &str, min: usize) -> Arg<usize> {
    text.parse::<usize>()
        .ok()
        .filter(|&n| n >= min)
        .ok_or_else(|| {
            format!(
                "the {what} must be a whole number of at least {min}, got {:?}",
                clip(text)
            )
        })
}

/// A size per spatial dim: `3` for all of them, or `3x5` one per dim (`N` of them), each at
/// least `min`.
fn dims<const N: usize>(text: &str, what: &str, min: usize) -> Arg<[usize; N]> {
    let form = if N == 1 { "K" } else { "K or KHxKW" };
    let fail = || {
        format!(
            "the {what} must be written {form} with whole numbers of at least {min}, got {:?}",
            clip(text)
        )
    };
    let values: Vec<usize> = text
        .split(['x', 'X'])
        .map(|p| p.parse::<usize>().ok().filter(|&n| n >= min))
        .collect::<Option<_>>()
        .ok_or_else(fail)?;
    match values.len() {
        1 => Ok([values[0]; N]),
        n if n == N => Ok(std::array::from_fn(|i| values[i])),
        _ => Err(fail()),
    }
}

/// `true` or `false`.
fn boolean(text: &str, what: &str) -> Arg<bool> {
    match text.to_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!(
            "{what} must be true or false, got {:?}",
            clip(text)
        )),
    }
}

/// The output channels and the kernel size of a convolution, named `layer` in errors.
fn channels_and_kernel<const N: usize>(
    positional: &[&str],
    layer: &str,
) -> Arg<(usize, [usize; N])> {
    let [out, kernel] = positional[..] else {
        return Err(format!(
            "takes the output channels and the kernel size, then options: `{layer} 32 3`"
        ));
    };
    Ok((
        whole(out, "number of output channels", 1)?,
        dims(kernel, "kernel size", 1)?,
    ))
}

/// `conv2d` and `conv1d`'s arguments: channels, kernel, options.
fn conv<const N: usize>(
    args: &[&str],
    layer: &str,
) -> Arg<(usize, [usize; N], ConvOptions<N>, bool)> {
    let (positional, keyed) = options(args, CONV_OPTIONS)?;
    let (out_channels, kernel) = channels_and_kernel(&positional, layer)?;
    let mut options = ConvOptions::<N>::default();
    let mut bias = true;
    for (key, value) in keyed {
        match key.as_str() {
            "stride" => options.stride = dims(value, "stride", 1)?,
            "padding" if value.eq_ignore_ascii_case("same") => options.padding = Padding::Same,
            "padding" => options.padding = Padding::Explicit(dims(value, "padding", 0)?),
            "dilation" => options.dilation = dims(value, "dilation", 1)?,
            "groups" => options.groups = whole(value, "number of groups", 1)?,
            _ => bias = boolean(value, "bias")?,
        }
    }
    Ok((out_channels, kernel, options, bias))
}

fn conv2d(args: &[&str]) -> Arg<LayerSpec> {
    let (out_channels, kernel, options, bias) = conv(args, "conv2d")?;
    Ok(LayerSpec::Conv2d {
        out_channels,
        kernel,
        options,
        bias,
    })
}

fn conv1d(args: &[&str]) -> Arg<LayerSpec> {
    let (out_channels, kernel, options, bias) = conv(args, "conv1d")?;
    Ok(LayerSpec::Conv1d {
        out_channels,
        kernel,
        options,
        bias,
    })
}

fn conv_transpose2d(args: &[&str]) -> Arg<LayerSpec> {
    let (positional, keyed) = options(args, CONV_TRANSPOSE_OPTIONS)?;
    let (out_channels, kernel) = channels_and_kernel(&positional, "convtranspose2d")?;
    let mut options = ConvTransposeOptions::<2>::default();
    let mut bias = true;
    for (key, value) in keyed {
        match key.as_str() {
            "stride" => options.stride = dims(value, "stride", 1)?,
            "padding" => options.padding = dims(value, "padding", 0)?,
            "output_padding" => options.output_padding = dims(value, "output padding", 0)?,
            "dilation" => options.dilation = dims(value, "dilation", 1)?,
            "groups" => options.groups = whole(value, "number of groups", 1)?,
            _ => bias = boolean(value, "bias")?,
        }
    }
    Ok(LayerSpec::ConvTranspose2d {
        out_channels,
        kernel,
        options,
        bias,
    })
}

/// A pool's kernel, stride (the kernel unless given) and padding.
fn pool(args: &[&str], layer: &str) -> Arg<PoolOptions<2>> {
    let (positional, keyed) = options(args, POOL_OPTIONS)?;
    let [kernel] = positional[..] else {
        return Err(format!(
            "takes the kernel size, then options: `{layer} 2` or `{layer} 3 stride=2 padding=1`"
        ));
    };
    let mut options = PoolOptions::new(dims(kernel, "kernel size", 1)?);
    for (key, value) in keyed {
        match key.as_str() {
            "stride" => options.stride = dims(value, "stride", 1)?,
            _ => options.padding = dims(value, "padding", 0)?,
        }
    }
    Ok(options)
}

/// An optional finite number, named `what` in errors.
fn number(args: &[&str], what: &str) -> Arg<Option<f64>> {
    one(args)?
        .map(|a| {
            a.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("the {what} must be a number, got {:?}", clip(a)))
        })
        .transpose()
}

/// A recurrent layer's hidden size and options; `cell` is the plain RNN's tanh form for `rnn`,
/// whose `nonlinearity=relu` changes it.
fn recurrent(args: &[&str], cell: RecurrentCell) -> Arg<LayerSpec> {
    let rnn = cell == RecurrentCell::RnnTanh;
    let (positional, keyed) = options(args, if rnn { RNN_OPTIONS } else { RECURRENT_OPTIONS })?;
    let [hidden] = positional[..] else {
        let name = LayerSpec::Recurrent(RecurrentSpec::new(cell, 1)).name();
        return Err(format!(
            "takes the hidden size, then options: `{name} 128` or `{name} 128 layers=2 \
             bidirectional=true`"
        ));
    };
    let mut spec = RecurrentSpec::new(cell, whole(hidden, "hidden size", 1)?);
    for (key, value) in keyed {
        match key.as_str() {
            "layers" => spec.num_layers = whole(value, "number of layers", 1)?,
            "bidirectional" => spec.bidirectional = boolean(value, "bidirectional")?,
            "sequence" => spec.sequence = boolean(value, "sequence")?,
            "dropout" => {
                spec.dropout = value
                    .parse::<f64>()
                    .ok()
                    .filter(|p| (0.0..1.0).contains(p))
                    .ok_or_else(|| {
                        format!(
                            "the dropout probability must be a number in [0, 1), got {:?}",
                            clip(value)
                        )
                    })?
            }
            _ => {
                spec.cell = match value.to_lowercase().as_str() {
                    "tanh" => RecurrentCell::RnnTanh,
                    "relu" => RecurrentCell::RnnRelu,
                    _ => {
                        return Err(format!(
                            "the nonlinearity must be tanh or relu, got {:?}",
                            clip(value)
                        ));
                    }
                }
            }
        }
    }
    Ok(LayerSpec::Recurrent(spec))
}

/// An embedding's vocabulary size, vector size and padding index.
fn embedding(args: &[&str]) -> Arg<LayerSpec> {
    let (positional, keyed) = options(args, &["padding_idx"])?;
    let [count, dim] = positional[..] else {
        return Err(
            "takes the number of embeddings and their size: `embedding 1000 64` or \
             `embedding 1000 64 padding_idx=0`"
                .to_string(),
        );
    };
    let padding_idx = keyed
        .first()
        .map(|(_, value)| {
            value
                .parse::<usize>()
                .map_err(|_| format!("padding_idx must be a whole number, got {:?}", clip(value)))
        })
        .transpose()?;
    Ok(LayerSpec::Embedding {
        num_embeddings: whole(count, "number of embeddings", 1)?,
        dim: whole(dim, "embedding size", 1)?,
        padding_idx,
    })
}
