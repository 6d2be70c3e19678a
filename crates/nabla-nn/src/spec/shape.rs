//! Shape inference through a spec: each layer's output shape and parameter count for an input
//! shape and a number of outputs, without building anything, and the table `nabla summary`
//! prints (Keras' `model.summary()`).

use super::{LayerSpec, ModelSpec, RecurrentSpec, invalid};
use crate::Result;
use crate::layers::conv::{self, conv_output, sizes};
use crate::layers::conv_transpose;
use crate::layers::{
    Dropout, Dropout2d, Flatten, GELU, LeakyReLU, ReLU, Rows, Sigmoid, Softmax, Tanh,
};
use crate::layers::{batchnorm, embedding, groupnorm, layernorm, linear, pool};
use crate::module::Module;
use nabla_core::ops::window::{ConvOptions, PoolOptions, output_size};

/// One row of a model summary.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerSummary {
    /// The layer's name in the model, the prefix of its tensors: `2`, `3.inner.0`.
    pub name: String,
    /// The layer as the built module describes itself (`Linear(784 -> 256)`); `Residual` for a
    /// residual block, whose layers follow in their own rows.
    pub layer: String,
    /// The shape of one sample's output (the batch dim left out).
    pub output_shape: Vec<usize>,
    /// Trainable parameters (for a residual block, those of its layers).
    pub parameters: usize,
    /// Non-trainable state counted as parameters by Keras: batch norm's running mean and
    /// variance.
    pub buffers: usize,
}

impl LayerSummary {
    /// Whether the row is a layer of the top level (not inside a residual block).
    pub fn is_top_level(&self) -> bool {
        !self.name.contains('.')
    }
}

/// The trainable and non-trainable parameter counts of a summary's model (`usize::MAX` when
/// they overflow).
///
/// ```
/// use nabla_nn::spec::{ModelSpec, totals};
/// let spec = ModelSpec::parse("linear 4, batchnorm, relu, linear").unwrap();
/// assert_eq!(totals(&spec.summary(&[3], 2).unwrap()), (16 + 8 + 10, 8));
/// ```
pub fn totals(rows: &[LayerSummary]) -> (usize, usize) {
    rows.iter()
        .filter(|r| r.is_top_level())
        .fold((0, 0), |(p, b), r| {
            (p.saturating_add(r.parameters), b.saturating_add(r.buffers))
        })
}

/// A shape with the batch dim first, as torchsummary prints it: `[-1, 256]`.
pub(crate) fn batch_shape(shape: &[usize]) -> String {
    let dims: Vec<String> = std::iter::once("-1".to_string())
        .chain(shape.iter().map(usize::to_string))
        .collect();
    format!("[{}]", dims.join(", "))
}

/// `n` with thousands separated by commas, as Keras prints counts.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The summary as a table: one row per layer (those inside a residual block indented under
/// it) with its output shape and parameter count, then the totals, as Keras prints them.
///
/// ```
/// use nabla_nn::spec::{ModelSpec, table};
/// let spec = ModelSpec::parse("linear 4, relu, linear").unwrap();
/// let text = table(&[3], &spec.summary(&[3], 2).unwrap());
/// assert!(text.contains("0  Linear(3 -> 4)"));
/// assert!(text.contains("Total params: 26"));
/// ```
pub fn table(input_shape: &[usize], rows: &[LayerSummary]) -> String {
    let cells: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            let depth = r.name.matches('.').count() / 2;
            (
                format!("{}{}  {}", "  ".repeat(depth), r.name, r.layer),
                batch_shape(&r.output_shape),
                thousands(r.parameters + r.buffers),
            )
        })
        .collect();
    let headers = ("Layer", "Output shape", "Param #");
    let w0 = cells
        .iter()
        .map(|c| c.0.chars().count())
        .max()
        .unwrap_or(0)
        .max(headers.0.len());
    let w1 = cells
        .iter()
        .map(|c| c.1.len())
        .max()
        .unwrap_or(0)
        .max(headers.1.len());
    let w2 = cells
        .iter()
        .map(|c| c.2.len())
        .max()
        .unwrap_or(0)
        .max(headers.2.len());
    let width = w0 + w1 + w2 + 4;
    let mut out = format!("Input shape: {}\n", batch_shape(input_shape));
    out.push_str(&format!(
        "{:<w0$}  {:<w1$}  {:>w2$}\n{}\n",
        headers.0,
        headers.1,
        headers.2,
        "=".repeat(width)
    ));
    for (layer, shape, params) in &cells {
        out.push_str(&format!("{layer:<w0$}  {shape:<w1$}  {params:>w2$}\n"));
    }
    let (trainable, frozen) = totals(rows);
    out.push_str(&format!(
        "{}\nTotal params: {}\nTrainable params: {}\nNon-trainable params: {}\n",
        "=".repeat(width),
        thousands(trainable + frozen),
        thousands(trainable),
        thousands(frozen)
    ));
    out
}

impl ModelSpec {
    /// Each layer's output shape and parameter count for samples of `input_shape` (the batch
    /// dim left out, as in a data set's schema) and a task of `outputs` outputs, depth first.
    /// Every size is checked: a layer whose input does not fit is named with what it got.
    ///
    /// ```
    /// use nabla_nn::spec::ModelSpec;
    /// let spec = ModelSpec::parse("linear 64, batchnorm 32, relu, linear").unwrap();
    /// assert_eq!(
    ///     spec.summary(&[20], 10).unwrap_err().to_string(),
    ///     "layer spec: layer 1 `batchnorm 32`: expects 32 features, but its input is [-1, 64]"
    /// );
    /// ```
    pub fn summary(&self, input_shape: &[usize], outputs: usize) -> Result<Vec<LayerSummary>> {
        if input_shape.is_empty() || input_shape.contains(&0) {
            return Err(invalid(format!(
                "the input shape must have at least one dim and no dim of 0, got {input_shape:?}"
            )));
        }
        if outputs == 0 {
            return Err(invalid(
                "the task must have at least one output, got 0".into(),
            ));
        }
        self.check_arguments("")?;
        let mut rows = Vec::new();
        let output = self.walk(input_shape, Some(outputs), "", &mut rows)?;
        if output != [outputs] {
            let last = self.layers.len() - 1;
            return Err(invalid(format!(
                "layer {last} `{}`: the model's output is {}, but the task has {outputs} \
                 outputs; end with `linear`, whose size is then taken from the task",
                self.layers[last],
                batch_shape(&output)
            )));
        }
        Ok(rows)
    }

    /// Appends the rows of this spec's layers (named after `prefix`) for `input`, and returns
    /// the output shape. `outputs` is the size of a last linear layer without one (none inside
    /// a residual block).
    fn walk(
        &self,
        input: &[usize],
        outputs: Option<usize>,
        prefix: &str,
        rows: &mut Vec<LayerSummary>,
    ) -> Result<Vec<usize>> {
        let last_linear = self
            .layers
            .iter()
            .rposition(|l| matches!(l, LayerSpec::Linear { .. }));
        let mut shape = input.to_vec();
        for (i, layer) in self.layers.iter().enumerate() {
            let name = super::parse::position(prefix, i);
            let fail = |message: String| invalid(format!("layer {name} `{layer}`: {message}"));
            let flat = |what: &str| -> Result<usize> {
                match shape[..] {
                    [d] => Ok(d),
                    _ => Err(fail(format!(
                        "needs flat features [-1, {what}], but its input is {}; put `flatten` \
                         before it",
                        batch_shape(&shape)
                    ))),
                }
            };
            let too_many = || fail("has more than 2^64 parameters".to_string());
            let row = |layer: String, output: Vec<usize>, parameters, buffers| LayerSummary {
                name: name.clone(),
                layer,
                output_shape: output,
                parameters,
                buffers,
            };
            let simple = |module: &dyn Module| row(module.describe(), shape.clone(), 0, 0);
            let summary = match layer {
                LayerSpec::Flatten => {
                    let size = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
                    let size = size.ok_or_else(|| fail("has more than 2^64 features".into()))?;
                    row(Flatten.describe(), vec![size], 0, 0)
                }
                LayerSpec::Linear { out_features } => {
                    let inputs = flat("D")?;
                    let out = match (out_features, outputs) {
                        (Some(n), _) => *n,
                        (None, Some(n)) if Some(i) == last_linear => n,
                        (None, Some(n)) => {
                            return Err(fail(format!(
                                "needs a size; only the last linear layer takes its size from \
                                 the task ({n} outputs)"
                            )));
                        }
                        (None, None) => {
                            return Err(fail("needs a size inside a residual block".to_string()));
                        }
                    };
                    let params = inputs
                        .checked_mul(out)
                        .and_then(|w| w.checked_add(out))
                        .ok_or_else(too_many)?;
                    row(linear::description(inputs, out, true), vec![out], params, 0)
                }
                LayerSpec::BatchNorm { num_features } => {
                    let c = flat("C")?;
                    if num_features.is_some_and(|n| n != c) {
                        return Err(fail(format!(
                            "expects {} features, but its input is {}",
                            num_features.unwrap_or(c),
                            batch_shape(&shape)
                        )));
                    }
                    let twice = c.checked_mul(2).ok_or_else(too_many)?;
                    row(
                        batchnorm::default_description(1, c),
                        shape.clone(),
                        twice,
                        twice,
                    )
                }
                LayerSpec::LayerNorm { features } => {
                    let d = *shape.last().expect("shapes have at least one dim");
                    if features.is_some_and(|n| n != d) {
                        return Err(fail(format!(
                            "expects a last dim of {}, but its input is {}",
                            features.unwrap_or(d),
                            batch_shape(&shape)
                        )));
                    }
                    let twice = d.checked_mul(2).ok_or_else(too_many)?;
                    row(
                        layernorm::default_description(&[d]),
                        shape.clone(),
                        twice,
                        0,
                    )
                }
                LayerSpec::Softmax { dim } => {
                    let ndim = shape.len() as isize + 1;
                    if !(-ndim..ndim).contains(dim) {
                        return Err(fail(format!(
                            "dim {dim} is out of range for its input {}",
                            batch_shape(&shape)
                        )));
                    }
                    simple(&Softmax::new(*dim))
                }
                LayerSpec::ReLU => simple(&ReLU),
                LayerSpec::LeakyReLU { negative_slope } => simple(&LeakyReLU::new(*negative_slope)),
                LayerSpec::Sigmoid => simple(&Sigmoid),
                LayerSpec::Tanh => simple(&Tanh),
                LayerSpec::GELU => simple(&GELU),
                LayerSpec::Dropout { p } => simple(&Dropout::try_new(*p, 0)?),
                LayerSpec::Conv2d {
                    out_channels,
                    kernel,
                    options,
                    bias,
                } => {
                    let (layer, output, params) =
                        conv_summary(&shape, *out_channels, *kernel, options, *bias)
                            .map_err(fail)?;
                    row(layer, output, params.ok_or_else(too_many)?, 0)
                }
                LayerSpec::Conv1d {
                    out_channels,
                    kernel,
                    options,
                    bias,
                } => {
                    let (layer, output, params) =
                        conv_summary(&shape, *out_channels, *kernel, options, *bias)
                            .map_err(fail)?;
                    row(layer, output, params.ok_or_else(too_many)?, 0)
                }
                LayerSpec::ConvTranspose2d {
                    out_channels,
                    kernel,
                    options,
                    bias,
                } => {
                    let [c, h, w] = images(&shape).map_err(fail)?;
                    groups_divide(&shape, options.groups).map_err(fail)?;
                    conv::check_geometry(
                        Some(c),
                        *out_channels,
                        options.groups,
                        kernel,
                        &options.stride,
                        &options.dilation,
                    )
                    .map_err(fail)?;
                    let output = [h, w]
                        .iter()
                        .enumerate()
                        .map(|(i, &size)| {
                            conv_transpose::output_size(
                                size,
                                kernel[i],
                                options.stride[i],
                                options.padding[i],
                                options.output_padding[i],
                                options.dilation[i],
                            )
                        })
                        .collect::<std::result::Result<Vec<usize>, String>>()
                        .map_err(|m| fail(format!("{m} for its input {}", batch_shape(&shape))))?;
                    let params = weights(c, *out_channels, kernel, options.groups, *bias);
                    row(
                        conv_transpose::description(c, *out_channels, *kernel, options, *bias),
                        [*out_channels].into_iter().chain(output).collect(),
                        params.ok_or_else(too_many)?,
                        0,
                    )
                }
                LayerSpec::MaxPool2d(options) => {
                    let output = pool_summary(&shape, options).map_err(fail)?;
                    row(pool::description("MaxPool2d", options), output, 0, 0)
                }
                LayerSpec::AvgPool2d(options) => {
                    let output = pool_summary(&shape, options).map_err(fail)?;
                    row(pool::description("AvgPool2d", options), output, 0, 0)
                }
                LayerSpec::AdaptiveAvgPool2d { output_size } => {
                    let [c, ..] = images(&shape).map_err(fail)?;
                    row(
                        pool::adaptive_description(*output_size),
                        vec![c, output_size[0], output_size[1]],
                        0,
                        0,
                    )
                }
                LayerSpec::BatchNorm2d { num_features } => {
                    let [c, ..] = images(&shape).map_err(fail)?;
                    if num_features.is_some_and(|n| n != c) {
                        return Err(fail(format!(
                            "expects {} channels, but its input is {}",
                            num_features.unwrap_or(c),
                            batch_shape(&shape)
                        )));
                    }
                    let twice = c.checked_mul(2).ok_or_else(too_many)?;
                    row(
                        batchnorm::default_description(2, c),
                        shape.clone(),
                        twice,
                        twice,
                    )
                }
                LayerSpec::Dropout2d { p } => {
                    if !(2..=3).contains(&shape.len()) {
                        return Err(fail(format!(
                            "needs [-1, C, H, W] or [-1, C, L], but its input is {}",
                            batch_shape(&shape)
                        )));
                    }
                    simple(&Dropout2d::try_new(*p, 0)?)
                }
                LayerSpec::GroupNorm {
                    num_groups,
                    num_channels,
                } => {
                    let c = shape[0];
                    if num_channels.is_some_and(|n| n != c) {
                        return Err(fail(format!(
                            "expects {} channels, but its input is {}",
                            num_channels.unwrap_or(c),
                            batch_shape(&shape)
                        )));
                    }
                    if !c.is_multiple_of(*num_groups) {
                        return Err(fail(format!(
                            "its input {} has {c} channels, not a multiple of the {num_groups} \
                             groups",
                            batch_shape(&shape)
                        )));
                    }
                    let twice = c.checked_mul(2).ok_or_else(too_many)?;
                    row(
                        groupnorm::default_description(*num_groups, c),
                        shape.clone(),
                        twice,
                        0,
                    )
                }
                LayerSpec::Rows => {
                    let [c, h, w] = images(&shape).map_err(fail)?;
                    let width = c
                        .checked_mul(w)
                        .ok_or_else(|| fail("has more than 2^64 features".into()))?;
                    row(Rows.describe(), vec![h, width], 0, 0)
                }
                LayerSpec::Recurrent(r) => {
                    let (output, params) = recurrent_summary(&shape, r).map_err(fail)?;
                    row(
                        r.description(shape[shape.len() - 1]),
                        output.ok_or_else(|| fail("has more than 2^64 features".into()))?,
                        params.ok_or_else(too_many)?,
                        0,
                    )
                }
                LayerSpec::Embedding {
                    num_embeddings,
                    dim,
                    padding_idx,
                } => {
                    let params = num_embeddings.checked_mul(*dim).ok_or_else(too_many)?;
                    let output = shape.iter().copied().chain([*dim]).collect();
                    let description = embedding::description(*num_embeddings, *dim, *padding_idx);
                    row(description, output, params, 0)
                }
                LayerSpec::Residual(inner) => {
                    let at = rows.len();
                    rows.push(row("Residual".to_string(), shape.clone(), 0, 0));
                    let output = inner.walk(&shape, None, &format!("{name}.inner"), rows)?;
                    if output != shape {
                        return Err(fail(format!(
                            "its layers map {} to {}; a residual block must keep the shape",
                            batch_shape(&shape),
                            batch_shape(&output)
                        )));
                    }
                    let (parameters, buffers) = totals_below(&rows[at + 1..], &name);
                    rows[at].parameters = parameters.ok_or_else(too_many)?;
                    rows[at].buffers = buffers.ok_or_else(too_many)?;
                    continue;
                }
            };
            shape = summary.output_shape.clone();
            rows.push(summary);
        }
        Ok(shape)
    }
}

/// `[C, H, W]` of an image input, or what is wrong with the input.
fn images(shape: &[usize]) -> std::result::Result<[usize; 3], String> {
    match *shape {
        [c, h, w] => Ok([c, h, w]),
        _ => Err(format!(
            "needs images [-1, C, H, W], but its input is {}",
            batch_shape(shape)
        )),
    }
}

/// The output shape (`None` on overflow) and parameter count of a recurrent layer on batch-first
/// sequences `[T, I]`, or what is wrong with its input.
fn recurrent_summary(
    shape: &[usize],
    r: &RecurrentSpec,
) -> std::result::Result<(Option<Vec<usize>>, Option<usize>), String> {
    let [t, i] = *shape else {
        let hint = match shape.len() {
            1 => "; its input has no time dim",
            3 => "; put `rows` before it to read images row by row",
            _ => "",
        };
        return Err(format!(
            "needs sequences [-1, T, I] (batch first), but its input is {}{hint}",
            batch_shape(shape)
        ));
    };
    let width = r.directions().checked_mul(r.hidden_size);
    let output = width.map(|w| if r.sequence { vec![t, w] } else { vec![w] });
    Ok((output, r.parameters(i)))
}

/// The weights and bias of a convolution (`None` on overflow).
fn weights(
    in_channels: usize,
    out_channels: usize,
    kernel: &[usize],
    groups: usize,
    bias: bool,
) -> Option<usize> {
    kernel
        .iter()
        .try_fold(in_channels / groups, |a, &k| a.checked_mul(k))?
        .checked_mul(out_channels)?
        .checked_add(if bias { out_channels } else { 0 })
}

/// The description, output shape and parameter count (`None` on overflow) of a convolution
/// over `N` spatial dims on an input `[C, spatial...]`, or what is wrong.
fn conv_summary<const N: usize>(
    shape: &[usize],
    out_channels: usize,
    kernel: [usize; N],
    options: &ConvOptions<N>,
    bias: bool,
) -> std::result::Result<(String, Vec<usize>, Option<usize>), String> {
    if shape.len() != N + 1 {
        let form = if N == 1 {
            "sequences [-1, C, L]"
        } else {
            "images [-1, C, H, W]"
        };
        return Err(format!(
            "needs {form}, but its input is {}",
            batch_shape(shape)
        ));
    }
    let c = shape[0];
    groups_divide(shape, options.groups)?;
    conv::check_geometry(
        Some(c),
        out_channels,
        options.groups,
        &kernel,
        &options.stride,
        &options.dilation,
    )?;
    let spatial = conv_output(&shape[1..], kernel, options)
        .map_err(|m| format!("{m} its input {}", batch_shape(shape)))?;
    Ok((
        conv::description(c, out_channels, kernel, options, bias),
        std::iter::once(out_channels).chain(spatial).collect(),
        weights(c, out_channels, &kernel, options.groups, bias),
    ))
}

/// The output shape of a pool on an image input, or what is wrong.
fn pool_summary(
    shape: &[usize],
    options: &PoolOptions<2>,
) -> std::result::Result<Vec<usize>, String> {
    let [c, h, w] = images(shape)?;
    let mut output = vec![c];
    for (i, size) in [h, w].into_iter().enumerate() {
        let out = output_size(
            "pool",
            size,
            options.kernel[i],
            options.stride[i],
            options.padding[i],
            options.dilation[i],
            options.ceil_mode,
        )
        .map_err(|_| {
            format!(
                "the {} window (padding {}) does not fit its input {}",
                sizes(&options.kernel),
                sizes(&options.padding),
                batch_shape(shape)
            )
        })?;
        output.push(out);
    }
    Ok(output)
}

/// The parameter and buffer counts of the rows directly inside the residual block `name`
/// (`None` on overflow).
fn totals_below(rows: &[LayerSummary], name: &str) -> (Option<usize>, Option<usize>) {
    let depth = name.matches('.').count() + 2;
    rows.iter()
        .filter(|r| r.name.matches('.').count() == depth)
        .fold((Some(0), Some(0)), |(p, b), r| {
            (
                p.and_then(|p| p.checked_add(r.parameters)),
                b.and_then(|b| b.checked_add(r.buffers)),
            )
        })
}

/// An error unless the channels of `shape` (`[C, ...]`, without the batch dim) divide into
/// `groups`.
fn groups_divide(shape: &[usize], groups: usize) -> std::result::Result<(), String> {
    match shape[0] % groups {
        0 => Ok(()),
        _ => Err(format!(
            "its input {} has {} channels, not a multiple of groups={groups}",
            batch_shape(shape),
            shape[0]
        )),
    }
}
