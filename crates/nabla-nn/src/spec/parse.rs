//! The text of a spec: layers split at the commas outside parentheses, each a name and its
//! space-separated arguments, or `residual(...)` around a nested spec.

use super::{LayerSpec, ModelSpec, invalid};
use crate::Result;
use crate::error::clip_to;

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
    one(args)?
        .map(|a| {
            a.parse::<usize>().ok().filter(|&n| n > 0).ok_or_else(|| {
                format!(
                    "the size must be a whole number of at least 1, got {:?}",
                    clip(a)
                )
            })
        })
        .transpose()
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
