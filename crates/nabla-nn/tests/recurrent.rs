//! The recurrent layers: cells and sequence layers, their shapes, names, errors and the hidden
//! states they keep for per-time-step gradients.

use nabla_core::{DType, Generator, Tensor};
use nabla_nn::layers::{Gru, Lstm, Nonlinearity, RecurrentOptions, Rnn};
use nabla_nn::module::Module;

fn names(module: &dyn Module) -> Vec<String> {
    module
        .named_parameters()
        .into_iter()
        .map(|(n, _)| n)
        .collect()
}

#[test]
fn single_layer_shapes_and_names() {
    let mut rng = Generator::new(0);
    let options = RecurrentOptions::default();
    let rnn = Rnn::new(3, 5, Nonlinearity::Tanh, options, DType::F64, &mut rng).unwrap();
    let lstm = Lstm::new(3, 5, options, DType::F64, &mut rng).unwrap();
    let gru = Gru::new(3, 5, options, DType::F64, &mut rng).unwrap();
    let x = Tensor::ones(&[7, 2, 3], DType::F64);
    for (layer, gates) in [(&rnn as &dyn Module, 1), (&lstm, 4), (&gru, 3)] {
        assert_eq!(
            names(layer),
            ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
        );
        assert_eq!(layer.parameters()[0].shape(), &[gates * 5, 3]);
        assert_eq!(layer.forward(&x).shape(), &[2, 5]);
    }
    let out = lstm.forward_sequence(&x, None, None);
    assert_eq!(out.output.shape(), &[7, 2, 5]);
    assert_eq!(out.state.h.shape(), &[1, 2, 5]);
    assert_eq!(out.state.c.unwrap().shape(), &[1, 2, 5]);
    // The module's output is the last step's hidden state.
    assert_eq!(
        lstm.forward(&x).to_vec::<f64>(),
        out.output.narrow(0, 6, 1).to_vec::<f64>()
    );
}

#[test]
fn time_steps_hold_the_gradient_of_every_hidden_state() {
    let lstm = Lstm::new(
        2,
        3,
        RecurrentOptions::default(),
        DType::F64,
        &mut Generator::new(1),
    )
    .unwrap();
    let x = Tensor::ones(&[4, 2, 2], DType::F64);
    assert!(lstm.time_steps().is_empty());
    lstm.record_time_steps(true);
    lstm.forward(&x).sum().backward();
    let steps = lstm.time_steps();
    assert_eq!(steps.len(), 4);
    // The loss reads the last state directly: its gradient is all ones.
    assert_eq!(steps[3].grad().unwrap().to_vec::<f64>(), [1.0; 6]);
    assert!(steps.iter().all(|h| h.grad().is_some()));
    lstm.record_time_steps(false);
    assert!(lstm.time_steps().is_empty());
}
