//! Building the layers of a spec, with each linear layer's weights drawn for the activation
//! that follows it.

use super::{LayerSpec, ModelSpec, RecurrentCell, RecurrentSpec};
use crate::Result;
use crate::init::{Activation, Init};
use crate::layers::{
    AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, ConvTranspose2d,
    Dropout, Dropout2d, Embedding, Flatten, GELU, GroupNorm, Gru, LayerNorm, LeakyReLU, Linear,
    Lstm, MaxPool2d, Nonlinearity, ReLU, Residual, Rnn, Rows, Sigmoid, Softmax, Tanh,
};
use crate::models::WeightInit;
use crate::module::{Module, Sequential};
use nabla_core::{DType, Generator, Tensor};

impl ModelSpec {
    /// The network for samples of `input_shape` (batch dim left out) and `outputs` outputs,
    /// after the checks of [`ModelSpec::summary`]. The weights of each linear layer and
    /// convolution are drawn from `init` (whose fan in is `in_channels/groups·∏kernel` for a
    /// convolution) with the gain of the activation after it (for the last layer, the one
    /// before it, as `--hidden` models always had), zero biases; recurrent layers and
    /// embeddings get PyTorch's initialisation, drawn from `rng`, and dropout layers seeds from
    /// it.
    ///
    /// ```
    /// use nabla_core::{DType, Generator, Tensor};
    /// use nabla_nn::models::WeightInit;
    /// use nabla_nn::module::Module;
    /// use nabla_nn::spec::ModelSpec;
    /// let spec = ModelSpec::parse("flatten, linear 32, relu, residual(linear 32, tanh), linear").unwrap();
    /// let net = spec.build(&[1, 8, 8], 10, WeightInit::He, DType::F32, &mut Generator::new(0)).unwrap();
    /// assert_eq!(net.forward(&Tensor::zeros(&[5, 1, 8, 8], DType::F32)).shape(), &[5, 10]);
    /// let names: Vec<String> = net.named_parameters().into_iter().map(|(n, _)| n).collect();
    /// assert_eq!(names, ["1.weight", "1.bias", "3.inner.0.weight", "3.inner.0.bias", "4.weight", "4.bias"]);
    /// ```
    pub fn build(
        &self,
        input_shape: &[usize],
        outputs: usize,
        init: WeightInit,
        dtype: DType,
        rng: &mut Generator,
    ) -> Result<Sequential> {
        let rows = self.summary(input_shape, outputs)?;
        let mut rows = rows.iter().map(|r| &r.output_shape);
        self.build_level(input_shape, &mut rows, init, dtype, rng)
    }

    /// The layers of this level for samples of `input`; `shapes` are the output shapes of the
    /// summary rows from this level's first layer on.
    fn build_level<'a>(
        &self,
        input: &[usize],
        shapes: &mut impl Iterator<Item = &'a Vec<usize>>,
        init: WeightInit,
        dtype: DType,
        rng: &mut Generator,
    ) -> Result<Sequential> {
        let mut net = Sequential::new();
        let mut shape = input.to_vec();
        for (i, layer) in self.layers.iter().enumerate() {
            let output = shapes.next().expect("the summary has a row per layer");
            let width = *shape.last().expect("shapes have at least one dim");
            // The channels of an image or sequence input.
            let channels = shape[0];
            let weights = || init.init(self.gain_activation(i));
            let module: Box<dyn Module> = match layer {
                LayerSpec::Flatten => Box::new(Flatten),
                LayerSpec::Linear { .. } => {
                    let out = output[0];
                    Box::new(Linear::with_init(width, out, true, weights(), dtype, rng)?)
                }
                LayerSpec::Conv2d {
                    out_channels,
                    kernel,
                    options,
                    bias,
                } => {
                    let shape = [
                        *out_channels,
                        channels / options.groups,
                        kernel[0],
                        kernel[1],
                    ];
                    let (w, b) = drawn(&shape, *out_channels, *bias, weights(), dtype, rng)?;
                    Box::new(Conv2d::from_parts(w, b, *options)?)
                }
                LayerSpec::Conv1d {
                    out_channels,
                    kernel,
                    options,
                    bias,
                } => {
                    let shape = [*out_channels, channels / options.groups, kernel[0]];
                    let (w, b) = drawn(&shape, *out_channels, *bias, weights(), dtype, rng)?;
                    Box::new(Conv1d::from_parts(w, b, *options)?)
                }
                LayerSpec::ConvTranspose2d {
                    out_channels,
                    kernel,
                    options,
                    bias,
                } => {
                    let shape = [
                        channels,
                        out_channels / options.groups,
                        kernel[0],
                        kernel[1],
                    ];
                    let (w, b) = drawn(&shape, *out_channels, *bias, weights(), dtype, rng)?;
                    Box::new(ConvTranspose2d::from_parts(w, b, *options)?)
                }
                LayerSpec::MaxPool2d(options) => Box::new(MaxPool2d::try_with_options(*options)?),
                LayerSpec::AvgPool2d(options) => Box::new(AvgPool2d::try_with_options(*options)?),
                LayerSpec::AdaptiveAvgPool2d { output_size } => {
                    Box::new(AdaptiveAvgPool2d::try_new(*output_size)?)
                }
                LayerSpec::BatchNorm2d { .. } => Box::new(BatchNorm2d::new(channels, dtype)),
                LayerSpec::Dropout2d { p } => Box::new(Dropout2d::try_new(*p, rng.next_seed())?),
                LayerSpec::GroupNorm { num_groups, .. } => {
                    Box::new(GroupNorm::try_new(*num_groups, channels, dtype)?)
                }
                LayerSpec::ReLU => Box::new(ReLU),
                LayerSpec::LeakyReLU { negative_slope } => {
                    Box::new(LeakyReLU::new(*negative_slope))
                }
                LayerSpec::Sigmoid => Box::new(Sigmoid),
                LayerSpec::Tanh => Box::new(Tanh),
                LayerSpec::GELU => Box::new(GELU),
                LayerSpec::Softmax { dim } => Box::new(Softmax::new(*dim)),
                LayerSpec::Dropout { p } => Box::new(Dropout::try_new(*p, rng.next_seed())?),
                LayerSpec::BatchNorm { .. } => Box::new(BatchNorm1d::new(width, dtype)),
                LayerSpec::LayerNorm { .. } => Box::new(LayerNorm::try_new(&[width], dtype)?),
                LayerSpec::Rows => Box::new(Rows),
                LayerSpec::Recurrent(r) => recurrent(r, width, dtype, rng)?,
                LayerSpec::Embedding {
                    num_embeddings,
                    dim,
                    padding_idx,
                } => Box::new(Embedding::new(
                    *num_embeddings,
                    *dim,
                    *padding_idx,
                    dtype,
                    rng,
                )?),
                LayerSpec::Residual(inner) => {
                    let block = inner.build_level(&shape, shapes, init, dtype, rng)?;
                    Box::new(Residual::new(Box::new(block)))
                }
            };
            shape.clone_from(output);
            net.push(module);
        }
        Ok(net)
    }

    /// The activation whose gain initialises the weights of layer `i`: the first one after it
    /// before the next layer with weights, else the last one before it, else none.
    fn gain_activation(&self, i: usize) -> Activation {
        let after = self.layers[i + 1..]
            .iter()
            .take_while(|l| !l.is_weighted())
            .find_map(LayerSpec::activation);
        after
            .or_else(|| {
                self.layers[..i]
                    .iter()
                    .rev()
                    .find_map(LayerSpec::activation)
            })
            .unwrap_or(Activation::Linear)
    }
}

/// The recurrent layer of `r` on inputs of `input_size` features, batch first, with PyTorch's
/// initialisation (`U(−1/√H, 1/√H)` on every parameter) drawn from `rng`.
fn recurrent(
    r: &RecurrentSpec,
    input_size: usize,
    dtype: DType,
    rng: &mut Generator,
) -> Result<Box<dyn Module>> {
    let (hidden, options) = (r.hidden_size, r.options());
    let rnn = |nonlinearity, rng: &mut Generator| {
        Rnn::new(input_size, hidden, nonlinearity, options, dtype, rng)
    };
    Ok(match r.cell {
        RecurrentCell::RnnTanh => {
            Box::new(rnn(Nonlinearity::Tanh, rng)?.returning_sequence(r.sequence))
        }
        RecurrentCell::RnnRelu => {
            Box::new(rnn(Nonlinearity::Relu, rng)?.returning_sequence(r.sequence))
        }
        RecurrentCell::Lstm => Box::new(
            Lstm::new(input_size, hidden, options, dtype, rng)?.returning_sequence(r.sequence),
        ),
        RecurrentCell::Gru => Box::new(
            Gru::new(input_size, hidden, options, dtype, rng)?.returning_sequence(r.sequence),
        ),
    })
}

/// A weight of `shape` drawn from `init` and, if `bias`, a zero bias `[bias_size]`, both
/// trained.
fn drawn(
    shape: &[usize],
    bias_size: usize,
    bias: bool,
    init: Init,
    dtype: DType,
    rng: &mut Generator,
) -> Result<(Tensor, Option<Tensor>)> {
    let weight = init.try_tensor(shape, dtype, rng)?.requires_grad();
    let bias = bias
        .then(|| Tensor::try_zeros(&[bias_size], dtype).map(Tensor::requires_grad))
        .transpose()?;
    Ok((weight, bias))
}

impl LayerSpec {
    /// The non-linearity of an activation layer, for initialisation gains (GELU takes ReLU's,
    /// as the `--hidden` models always did).
    fn activation(&self) -> Option<Activation> {
        match *self {
            LayerSpec::ReLU | LayerSpec::GELU => Some(Activation::Relu),
            LayerSpec::LeakyReLU { negative_slope } => Some(Activation::LeakyRelu(negative_slope)),
            LayerSpec::Sigmoid => Some(Activation::Sigmoid),
            LayerSpec::Tanh => Some(Activation::Tanh),
            _ => None,
        }
    }
}
