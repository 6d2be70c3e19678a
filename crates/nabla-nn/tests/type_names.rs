//! `Module::type_name` is PyTorch's class name for every layer, and each description starts
//! with it, so tools can tell the kind of a layer without parsing its description.

use nabla_core::ops::window::{ConvOptions, ConvTransposeOptions};
use nabla_core::{DType, Generator};
use nabla_nn::layers::*;
use nabla_nn::module::{Module, Sequential};

#[test]
fn every_layer_names_its_pytorch_class() {
    let mut rng = Generator::new(0);
    let f = DType::F32;
    let layers: Vec<(Box<dyn Module>, &str)> = vec![
        (Box::new(Linear::new(2, 3, f, &mut rng)), "Linear"),
        (Box::new(ReLU), "ReLU"),
        (Box::new(Sigmoid), "Sigmoid"),
        (Box::new(Tanh), "Tanh"),
        (Box::new(GELU), "GELU"),
        (Box::new(LeakyReLU::default()), "LeakyReLU"),
        (Box::new(Softmax::new(-1)), "Softmax"),
        (Box::new(BatchNorm1d::new(3, f)), "BatchNorm1d"),
        (Box::new(BatchNorm2d::new(3, f)), "BatchNorm2d"),
        (
            Box::new(Conv1d::new(
                1,
                2,
                [3],
                ConvOptions::default(),
                true,
                f,
                &mut rng,
            )),
            "Conv1d",
        ),
        (
            Box::new(Conv2d::new(
                1,
                2,
                [3, 3],
                ConvOptions::default(),
                true,
                f,
                &mut rng,
            )),
            "Conv2d",
        ),
        (
            Box::new(ConvTranspose2d::new(
                1,
                2,
                [3, 3],
                ConvTransposeOptions::default(),
                true,
                f,
                &mut rng,
            )),
            "ConvTranspose2d",
        ),
        (Box::new(MaxPool2d::new([2, 2])), "MaxPool2d"),
        (Box::new(AvgPool2d::new([2, 2])), "AvgPool2d"),
        (
            Box::new(AdaptiveAvgPool2d::new([1, 1])),
            "AdaptiveAvgPool2d",
        ),
        (Box::new(Dropout::new(0.5, 0)), "Dropout"),
        (Box::new(Dropout2d::new(0.5, 0)), "Dropout2d"),
        (
            Box::new(Embedding::new(5, 3, None, f, &mut rng).unwrap()),
            "Embedding",
        ),
        (Box::new(Flatten), "Flatten"),
        (Box::new(GroupNorm::new(2, 4, f)), "GroupNorm"),
        (Box::new(LayerNorm::new(&[3], f)), "LayerNorm"),
        (Box::new(Rows), "Rows"),
        (Box::new(Residual::new(Box::new(ReLU))), "Residual"),
        (
            Box::new(Lstm::new(2, 3, Default::default(), f, &mut rng).unwrap()),
            "LSTM",
        ),
        (
            Box::new(Gru::new(2, 3, Default::default(), f, &mut rng).unwrap()),
            "GRU",
        ),
        (
            Box::new(Rnn::new(2, 3, Nonlinearity::Tanh, Default::default(), f, &mut rng).unwrap()),
            "RNN",
        ),
        (
            Box::new(LstmCell::new(2, 3, true, f, &mut rng).unwrap()),
            "LSTMCell",
        ),
        (
            Box::new(GruCell::new(2, 3, true, f, &mut rng).unwrap()),
            "GRUCell",
        ),
        (
            Box::new(RnnCell::new(2, 3, true, Nonlinearity::Relu, f, &mut rng).unwrap()),
            "RNNCell",
        ),
        (Box::new(Sequential::new()), "Sequential"),
    ];
    for (layer, expected) in &layers {
        assert_eq!(layer.type_name(), *expected, "{}", layer.describe());
        assert!(
            layer.describe().starts_with(expected),
            "{} does not start with {expected}",
            layer.describe()
        );
    }
}
