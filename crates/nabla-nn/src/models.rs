//! Ready-made networks: the multi-layer perceptron of the textbook's chapters 5 and 6, with the
//! choices its experiments vary (activation, weight initialisation, batch norm, dropout).

use crate::init::{Activation, FanMode, Init};
use crate::layers::{BatchNorm1d, Dropout, GELU, LeakyReLU, Linear, ReLU, Sigmoid, Tanh};
use crate::module::{Module, Sequential};
use crate::{Error, Result};
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

impl Hidden {
    fn module(self) -> Box<dyn Module> {
        match self {
            Hidden::Relu => Box::new(ReLU),
            Hidden::LeakyRelu => Box::new(LeakyReLU::default()),
            Hidden::Sigmoid => Box::new(Sigmoid),
            Hidden::Tanh => Box::new(Tanh),
            Hidden::Gelu => Box::new(GELU),
        }
    }

    /// The activation whose gain Xavier and He initialisation use.
    fn gain_activation(self) -> Activation {
        match self {
            Hidden::Relu | Hidden::Gelu => Activation::Relu,
            Hidden::LeakyRelu => Activation::LeakyRelu(0.01),
            Hidden::Sigmoid => Activation::Sigmoid,
            Hidden::Tanh => Activation::Tanh,
        }
    }
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
    fn init(self, hidden: Hidden) -> Init {
        match self {
            WeightInit::Default => Init::linear_default(),
            WeightInit::Xavier => Init::XavierNormal { gain: 1.0 },
            WeightInit::He => Init::KaimingNormal {
                mode: FanMode::FanIn,
                activation: hidden.gain_activation(),
            },
            WeightInit::Std(std) => Init::Normal { mean: 0.0, std },
        }
    }
}

/// A multi-layer perceptron: `Linear → [BatchNorm] → activation → [Dropout]` per hidden layer,
/// then a final `Linear` producing logits.
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
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::invalid(
                "mlp",
                format!("dropout must be in [0, 1), got {}", self.dropout),
            ));
        }
        let mut net = Sequential::new();
        let mut width = self.input;
        let init = self.init.init(self.activation);
        for &size in &self.hidden {
            net.push(Box::new(Linear::with_init(
                width, size, true, init, dtype, rng,
            )?));
            if self.batch_norm {
                net.push(Box::new(BatchNorm1d::new(size, dtype)));
            }
            net.push(self.activation.module());
            if self.dropout > 0.0 {
                net.push(Box::new(Dropout::try_new(self.dropout, rng.next_seed())?));
            }
            width = size;
        }
        net.push(Box::new(Linear::with_init(
            width,
            self.outputs,
            true,
            init,
            dtype,
            rng,
        )?));
        Ok(net)
    }
}
