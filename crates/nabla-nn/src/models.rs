//! Ready-made networks: the multi-layer perceptron of the textbook's chapters 5 and 6, with the
//! choices its experiments vary (activation, weight initialisation, batch norm, dropout), and
//! the convolutional networks of chapter 7 and of `nabla train --model cnn`, and the
//! row-by-row recurrent networks of `--model lstm`, `gru` and `rnn`.

use crate::Result;
use crate::init::{Activation, FanMode, Init};
use crate::module::Sequential;
use crate::spec::ModelSpec;
use nabla_core::{DType, Generator};
use serde::{Deserialize, Serialize};

/// The non-linearity between hidden layers.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hidden {
    Relu,
    LeakyRelu,
    Sigmoid,
    Tanh,
    Gelu,
}

/// How the weights of each linear layer are drawn.
#[derive(Copy, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WeightInit {
    /// PyTorch's default for `nn.Linear` (Kaiming uniform with a = √5).
    Default,
    /// Xavier/Glorot normal: std `√(2/(fan_in + fan_out))` (the textbook's `1/√n` family).
    Xavier,
    /// He/Kaiming normal for the chosen activation: std `gain/√fan_in`.
    He,
    /// A plain normal with this standard deviation (the textbook's 1 and 0.01 experiments).
    Std(f64),
}

impl WeightInit {
    /// The initialiser of a linear layer followed by `activation` (whose gain He uses).
    pub(crate) fn init(self, activation: Activation) -> Init {
        match self {
            WeightInit::Default => Init::linear_default(),
            WeightInit::Xavier => Init::XavierNormal { gain: 1.0 },
            WeightInit::He => Init::KaimingNormal {
                mode: FanMode::FanIn,
                activation,
            },
            WeightInit::Std(std) => Init::Normal { mean: 0.0, std },
        }
    }
}

/// A multi-layer perceptron: `Linear → [BatchNorm] → activation → [Dropout]` per hidden layer,
/// then a final `Linear` producing logits; the network of [`ModelSpec::mlp`] on flat inputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MlpConfig {
    pub input: usize,
    pub hidden: Vec<usize>,
    pub outputs: usize,
    pub activation: Hidden,
    pub init: WeightInit,
    pub batch_norm: bool,
    pub dropout: f64,
}

impl MlpConfig {
    /// Builds the network, drawing weights from `rng`.
    ///
    /// ```
    /// use nabla_core::{DType, Generator, Tensor};
    /// use nabla_nn::models::{Hidden, MlpConfig, WeightInit};
    /// use nabla_nn::module::Module;
    /// let config = MlpConfig {
    ///     input: 784,
    ///     hidden: vec![50],
    ///     outputs: 10,
    ///     activation: Hidden::Sigmoid,
    ///     init: WeightInit::Xavier,
    ///     batch_norm: false,
    ///     dropout: 0.0,
    /// };
    /// let net = config.build(DType::F32, &mut Generator::new(0)).unwrap();
    /// assert_eq!(net.forward(&Tensor::zeros(&[2, 784], DType::F32)).shape(), &[2, 10]);
    /// assert_eq!(net.describe(), "Sequential(\n  (0): Linear(784 -> 50)\n  (1): Sigmoid\n  (2): Linear(50 -> 10)\n)");
    /// ```
    pub fn build(&self, dtype: DType, rng: &mut Generator) -> Result<Sequential> {
        ModelSpec::mlp(
            &self.hidden,
            self.activation,
            self.batch_norm,
            self.dropout,
            1,
        )
        .build(&[self.input], self.outputs, self.init, dtype, rng)
    }
}

/// The convolutional network of `nabla train --model cnn`: two 3x3 convolutions of 32 and 64
/// channels, each followed by ReLU and a 2x2 max pool, then a hidden linear layer of 128 and
/// the output layer. On MNIST's `[1, 28, 28]` its flattened features are 64·5·5 = 1600 and it
/// has 225,034 parameters.
///
/// ```
/// use nabla_nn::models::cnn;
/// use nabla_nn::spec::totals;
/// let rows = cnn().summary(&[1, 28, 28], 10).unwrap();
/// assert_eq!(rows[7].layer, "Linear(1600 -> 128)");
/// assert_eq!(totals(&rows), (225_034, 0));
/// ```
pub fn cnn() -> ModelSpec {
    ModelSpec::parse(
        "conv2d 32 3, relu, maxpool2d 2, conv2d 64 3, relu, maxpool2d 2, flatten, linear 128, \
         relu, linear",
    )
    .expect("the CNN's spec parses")
}

/// The textbook's SimpleConvNet (chapter 7): 30 filters of 5x5, ReLU, a 2x2 max pool, an
/// affine layer of 100, ReLU and the output layer. On `[1, 28, 28]`: 30·12·12 = 4320 features
/// into the affine layer.
///
/// ```
/// use nabla_nn::models::simple_conv_net;
/// use nabla_nn::spec::totals;
/// let rows = simple_conv_net().summary(&[1, 28, 28], 10).unwrap();
/// assert_eq!(rows[4].layer, "Linear(4320 -> 100)");
/// assert_eq!(totals(&rows), (780 + 432_100 + 1010, 0));
/// ```
pub fn simple_conv_net() -> ModelSpec {
    ModelSpec::parse("conv2d 30 5, relu, maxpool2d 2, flatten, linear 100, relu, linear")
        .expect("SimpleConvNet's spec parses")
}

/// The recurrent network of `nabla train --model lstm`: MNIST read row by row (28 time steps
/// of 28 features), an LSTM of 128, and its last hidden state into the output layer. On
/// `[1, 28, 28]` it has 4·128·(28 + 128) + 8·128 = 80,896 LSTM parameters and 1,290 in the
/// linear layer.
///
/// ```
/// use nabla_nn::models::lstm;
/// use nabla_nn::spec::totals;
/// let rows = lstm().summary(&[1, 28, 28], 10).unwrap();
/// assert_eq!(rows[1].layer, "LSTM(28 -> 128, batch_first)");
/// assert_eq!(totals(&rows), (4 * 128 * (28 + 128) + 8 * 128 + 1290, 0));
/// assert_eq!(totals(&rows).0, 82_186);
/// ```
pub fn lstm() -> ModelSpec {
    ModelSpec::parse("rows, lstm 128, linear").expect("the LSTM's spec parses")
}

/// [`lstm`] with a GRU of 128: 3·128·(28 + 128) + 6·128 = 60,672 GRU parameters.
///
/// ```
/// use nabla_nn::models::gru;
/// use nabla_nn::spec::totals;
/// let rows = gru().summary(&[1, 28, 28], 10).unwrap();
/// assert_eq!(rows[1].layer, "GRU(28 -> 128, batch_first)");
/// assert_eq!(totals(&rows), (3 * 128 * (28 + 128) + 6 * 128 + 1290, 0));
/// assert_eq!(totals(&rows).0, 61_962);
/// ```
pub fn gru() -> ModelSpec {
    ModelSpec::parse("rows, gru 128, linear").expect("the GRU's spec parses")
}

/// [`lstm`] with a plain tanh RNN of 128: 128·(28 + 128) + 2·128 = 20,224 parameters.
///
/// ```
/// use nabla_nn::models::rnn;
/// use nabla_nn::spec::totals;
/// let rows = rnn().summary(&[1, 28, 28], 10).unwrap();
/// assert_eq!(rows[1].layer, "RNN(28 -> 128, batch_first)");
/// assert_eq!(totals(&rows), (128 * (28 + 128) + 2 * 128 + 1290, 0));
/// assert_eq!(totals(&rows).0, 21_514);
/// ```
pub fn rnn() -> ModelSpec {
    ModelSpec::parse("rows, rnn 128, linear").expect("the RNN's spec parses")
}
