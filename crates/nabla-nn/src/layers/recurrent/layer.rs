//! The sequence layers [`Rnn`], [`Lstm`] and [`Gru`], `torch.nn.RNN`, `LSTM` and `GRU`.

use super::options::{Kind, Nonlinearity, RecurrentOptions};
use super::sequence::Layers;
use super::state::{RecurrentState, SequenceOutput};
use crate::module::Module;
use crate::{Error, Result};
use nabla_core::{DType, Generator, Tensor};
use std::sync::atomic::Ordering;

/// The methods the three sequence layers share, and their [`Module`] impl, from their
/// `layers` field.
macro_rules! sequence_layer {
    ($name:ident) => {
        impl $name {
            /// Makes [`Module::forward`] return the whole output sequence (`[T, N, D·H]`, or
            /// `[N, T, D·H]` batch-first) instead of the last layer's final hidden state
            /// `[N, D·H]`.
            pub fn returning_sequence(mut self, on: bool) -> Self {
                self.layers.returning_sequence = on;
                self
            }

            /// Runs the layer over `x` (`[T, N, I]`, `[N, T, I]` batch-first, or unbatched
            /// `[T, I]`) from `initial` (zeros when `None`). With `lengths` (one per sequence,
            /// each in `1..=T`) sequence `n` is read for its first `lengths[n]` steps only, as
            /// PyTorch's packed sequences: its outputs past that are zero, its final state is
            /// the one at its last valid step, and the backward direction starts there.
            pub fn try_forward_sequence(
                &self,
                x: &Tensor,
                initial: Option<&RecurrentState>,
                lengths: Option<&[usize]>,
            ) -> Result<SequenceOutput> {
                self.layers.try_forward_sequence(x, initial, lengths)
            }

            /// Panicking form of the `try_forward_sequence` method.
            #[track_caller]
            pub fn forward_sequence(
                &self,
                x: &Tensor,
                initial: Option<&RecurrentState>,
                lengths: Option<&[usize]>,
            ) -> SequenceOutput {
                crate::error::ok(self.try_forward_sequence(x, initial, lengths))
            }

            /// The number of input features `I`.
            pub fn input_size(&self) -> usize {
                self.layers.input_size
            }

            /// The number of hidden features `H` per direction.
            pub fn hidden_size(&self) -> usize {
                self.layers.hidden_size
            }

            /// The options the layer was built with.
            pub fn options(&self) -> &RecurrentOptions {
                &self.layers.options
            }
        }

        impl Module for $name {
            fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
                self.layers.try_forward(x)
            }

            fn describe(&self) -> String {
                self.layers.describe()
            }

            fn type_name(&self) -> &'static str {
                self.layers.kind.name()
            }

            fn local_parameters(&self) -> Vec<(String, Tensor)> {
                self.layers.named_parameters()
            }

            fn local_generators(&self) -> Vec<(String, Generator)> {
                if self.layers.options.dropout == 0.0 {
                    return Vec::new();
                }
                self.layers.dropout.generators()
            }

            fn set_local_generator(&self, name: &str, generator: Generator) -> Result<()> {
                if self.layers.options.dropout == 0.0 {
                    return Err(Error::invalid(
                        "load_generators",
                        format!("{}: has no generator {name:?}", self.describe()),
                    ));
                }
                self.layers.dropout.set_generator(self, name, generator)
            }

            fn set_training(&mut self, training: bool) {
                self.layers.dropout.training = training;
            }

            fn record_time_steps(&self, on: bool) {
                self.layers.recording.store(on, Ordering::Relaxed);
                if !on {
                    self.layers
                        .recorded
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .clear();
                }
            }

            fn time_steps(&self) -> Vec<Tensor> {
                self.layers
                    .recorded
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone()
            }
        }
    };
}

/// A vanilla RNN, `torch.nn.RNN`: `h_t = f(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh)` with `f`
/// tanh or ReLU, stacked and bidirectional as [`RecurrentOptions`] say.
///
/// ```
/// use nabla_core::{DType, Generator, Tensor};
/// use nabla_nn::layers::{Nonlinearity, RecurrentOptions, Rnn};
/// use nabla_nn::module::Module;
/// let rnn = Rnn::new(28, 128, Nonlinearity::Relu, RecurrentOptions::default(), DType::F32, &mut Generator::new(0)).unwrap();
/// assert_eq!(rnn.describe(), "RNN(28 -> 128, relu)");
/// // [T, N, I] -> the last hidden state [N, H]
/// assert_eq!(rnn.forward(&Tensor::zeros(&[5, 2, 28], DType::F32)).shape(), &[2, 128]);
/// ```
pub struct Rnn {
    pub(super) layers: Layers,
}

impl Rnn {
    /// A layer with PyTorch's initialisation (every parameter from `U(−1/√H, 1/√H)`); an error
    /// for sizes of 0, `num_layers` 0 or a dropout outside `[0, 1)`.
    pub fn new(
        input_size: usize,
        hidden_size: usize,
        nonlinearity: Nonlinearity,
        options: RecurrentOptions,
        dtype: DType,
        rng: &mut Generator,
    ) -> Result<Self> {
        let kind = Kind::Rnn(nonlinearity);
        Ok(Rnn {
            layers: Layers::try_new(kind, input_size, hidden_size, options, dtype, rng)?,
        })
    }
}

sequence_layer!(Rnn);

/// A long short-term memory layer, `torch.nn.LSTM`, gates in PyTorch's order i, f, g, o; its
/// state carries a cell state `c` beside `h`.
///
/// ```
/// use nabla_core::{DType, Generator, Tensor};
/// use nabla_nn::layers::{Lstm, RecurrentOptions};
/// use nabla_nn::module::Module;
/// let options = RecurrentOptions { num_layers: 2, bidirectional: true, ..Default::default() };
/// let lstm = Lstm::new(3, 4, options, DType::F64, &mut Generator::new(0)).unwrap();
/// assert_eq!(lstm.describe(), "LSTM(3 -> 4, layers=2, bidirectional)");
/// assert_eq!(lstm.named_parameters()[4].0, "weight_ih_l0_reverse");
/// let x = Tensor::ones(&[6, 2, 3], DType::F64);
/// let out = lstm.forward_sequence(&x, None, Some(&[6, 4]));
/// assert_eq!(out.output.shape(), &[6, 2, 8]);
/// assert_eq!(out.state.h.shape(), &[4, 2, 4]);
/// // Past its length of 4, the second sequence's outputs are zero.
/// assert!(out.output.narrow(0, 4, 2).narrow(1, 1, 1).to_vec::<f64>().iter().all(|&v| v == 0.0));
/// let err = lstm.try_forward(&Tensor::ones(&[6, 2, 5], DType::F64)).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "forward: LSTM(3 -> 4, layers=2, bidirectional): input has shape [6, 2, 5], expected [T, N, 3] or [T, 3] with T >= 1"
/// );
/// ```
pub struct Lstm {
    pub(super) layers: Layers,
}

impl Lstm {
    /// A layer with PyTorch's initialisation (every parameter from `U(−1/√H, 1/√H)`); an error
    /// for sizes of 0, `num_layers` 0 or a dropout outside `[0, 1)`.
    pub fn new(
        input_size: usize,
        hidden_size: usize,
        options: RecurrentOptions,
        dtype: DType,
        rng: &mut Generator,
    ) -> Result<Self> {
        Ok(Lstm {
            layers: Layers::try_new(Kind::Lstm, input_size, hidden_size, options, dtype, rng)?,
        })
    }
}

sequence_layer!(Lstm);

/// A gated recurrent unit layer, `torch.nn.GRU`, gates in PyTorch's order r, z, n.
///
/// ```
/// use nabla_core::{DType, Generator, Tensor};
/// use nabla_nn::layers::{Gru, RecurrentOptions};
/// use nabla_nn::module::Module;
/// let options = RecurrentOptions { batch_first: true, ..Default::default() };
/// let gru = Gru::new(3, 4, options, DType::F64, &mut Generator::new(0)).unwrap().returning_sequence(true);
/// // [N, T, I] -> [N, T, H]
/// assert_eq!(gru.forward(&Tensor::ones(&[2, 7, 3], DType::F64)).shape(), &[2, 7, 4]);
/// ```
pub struct Gru {
    pub(super) layers: Layers,
}

impl Gru {
    /// A layer with PyTorch's initialisation (every parameter from `U(−1/√H, 1/√H)`); an error
    /// for sizes of 0, `num_layers` 0 or a dropout outside `[0, 1)`.
    pub fn new(
        input_size: usize,
        hidden_size: usize,
        options: RecurrentOptions,
        dtype: DType,
        rng: &mut Generator,
    ) -> Result<Self> {
        Ok(Gru {
            layers: Layers::try_new(Kind::Gru, input_size, hidden_size, options, dtype, rng)?,
        })
    }
}

sequence_layer!(Gru);
