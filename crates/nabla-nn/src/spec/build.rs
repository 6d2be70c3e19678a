//! Building the layers of a spec, with each linear layer's weights drawn for the activation
//! that follows it.

use super::{LayerSpec, ModelSpec};
use crate::Result;
use crate::init::Activation;
use crate::layers::{
    BatchNorm1d, Dropout, Flatten, GELU, LayerNorm, LeakyReLU, Linear, ReLU, Residual, Sigmoid,
    Softmax, Tanh,
};
use crate::models::WeightInit;
use crate::module::{Module, Sequential};
use nabla_core::{DType, Generator};

impl ModelSpec {
    /// The network for samples of `input_shape` (batch dim left out) and `outputs` outputs,
    /// after the checks of [`ModelSpec::summary`]. Each linear layer's weights are drawn from
    /// `init` with the gain of the activation after it (for the last layer, the one before it,
    /// as `--hidden` models always had), zero biases; dropout layers get seeds from `rng`.
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
        let mut width = input_shape.last().copied().unwrap_or(1);
        self.build_level(&mut width, &mut rows, init, dtype, rng)
    }

    /// The layers of this level; `width` is the last dim of the input, `shapes` the output
    /// shapes of the summary rows from this level's first layer on.
    fn build_level<'a>(
        &self,
        width: &mut usize,
        shapes: &mut impl Iterator<Item = &'a Vec<usize>>,
        init: WeightInit,
        dtype: DType,
        rng: &mut Generator,
    ) -> Result<Sequential> {
        let mut net = Sequential::new();
        for (i, layer) in self.layers.iter().enumerate() {
            let output = shapes.next().expect("the summary has a row per layer");
            let module: Box<dyn Module> = match layer {
                LayerSpec::Flatten => Box::new(Flatten),
                LayerSpec::Linear { .. } => {
                    let out = output[0];
                    let init = init.init(self.gain_activation(i));
                    Box::new(Linear::with_init(*width, out, true, init, dtype, rng)?)
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
                LayerSpec::BatchNorm { .. } => Box::new(BatchNorm1d::new(*width, dtype)),
                LayerSpec::LayerNorm { .. } => Box::new(LayerNorm::try_new(&[*width], dtype)?),
                LayerSpec::Residual(inner) => {
                    let mut inner_width = *width;
                    let block = inner.build_level(&mut inner_width, shapes, init, dtype, rng)?;
                    Box::new(Residual::new(Box::new(block)))
                }
            };
            *width = *output.last().expect("shapes have at least one dim");
            net.push(module);
        }
        Ok(net)
    }

    /// The activation whose gain initialises linear layer `i`: the first one after it before
    /// the next linear layer, else the last one before it, else none.
    fn gain_activation(&self, i: usize) -> Activation {
        let after = self.layers[i + 1..]
            .iter()
            .take_while(|l| !matches!(l, LayerSpec::Linear { .. }))
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
