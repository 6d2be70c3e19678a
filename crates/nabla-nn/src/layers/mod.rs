//! The layers: each implements [`crate::module::Module`] with PyTorch's parameter names and
//! layouts, so their state dicts load into the matching `torch.nn` layers.

mod activation;
pub(crate) mod batchnorm;
pub(crate) mod conv;
pub(crate) mod conv_transpose;
mod dropout;
pub(crate) mod embedding;
mod flatten;
pub(crate) mod groupnorm;
pub(crate) mod layernorm;
pub(crate) mod linear;
pub(crate) mod pool;
pub(crate) mod recurrent;
mod residual;
mod rows;

pub use activation::{GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh};
pub use batchnorm::{BatchNorm, BatchNorm1d, BatchNorm2d, batch_norm};
pub use conv::{Conv, Conv1d, Conv2d};
pub use conv_transpose::ConvTranspose2d;
pub use dropout::{Dropout, Dropout2d};
pub use embedding::Embedding;
pub use flatten::Flatten;
pub use groupnorm::GroupNorm;
pub use layernorm::{LayerNorm, layer_norm};
pub use linear::Linear;
pub use pool::{AdaptiveAvgPool2d, AvgPool2d, MaxPool2d};
pub use recurrent::{
    Gru, GruCell, Lstm, LstmCell, Nonlinearity, RecurrentOptions, RecurrentState, Rnn, RnnCell,
    SequenceOutput,
};
pub use residual::Residual;
pub use rows::Rows;
