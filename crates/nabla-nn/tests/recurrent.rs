//! The recurrent layers and Embedding against PyTorch in float64
//! (tools/pytorch_reference/recurrent_layers.py writes tests/data/torch_recurrent.safetensors:
//! torch's weights, inputs, outputs, final states and the gradients of a weighted sum of them),
//! plus truncated backpropagation through time, dropout between layers, per-time-step hidden
//! states and the errors for bad inputs.

use nabla_core::{DType, Generator, Tensor};
use nabla_nn::checkpoint::{Metadata, encode, load_safetensors};
use nabla_nn::layers::{
    Embedding, Gru, GruCell, Lstm, LstmCell, Nonlinearity, RecurrentOptions, RecurrentState, Rnn,
    RnnCell, SequenceOutput,
};
use nabla_nn::module::Module;
use std::collections::HashMap;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/torch_recurrent.safetensors"
);

/// What nabla writes for tools/pytorch_reference/recurrent_layers.py's `check`.
const NABLA_LSTM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/nabla_lstm.safetensors"
);

/// Every element within 1e-12 of PyTorch's (relative above 1).
#[track_caller]
fn assert_close(what: &str, got: &Tensor, expected: &Tensor) {
    assert_eq!(got.shape(), expected.shape(), "{what}: shape");
    for (i, (g, e)) in got
        .to_f64_vec()
        .iter()
        .zip(expected.to_f64_vec())
        .enumerate()
    {
        assert!(
            (g - e).abs() <= 1e-12 * e.abs().max(1.0),
            "{what}[{i}]: {g} vs PyTorch {e}"
        );
    }
}

struct Fixture {
    tensors: HashMap<String, Tensor>,
    metadata: Metadata,
}

impl Fixture {
    fn load() -> Fixture {
        let (tensors, metadata) = load_safetensors(FIXTURE).unwrap();
        Fixture {
            tensors: tensors.into_iter().collect(),
            metadata,
        }
    }

    fn get(&self, case: &str, name: &str) -> Option<Tensor> {
        self.tensors.get(&format!("{case}.{name}")).cloned()
    }

    #[track_caller]
    fn expect(&self, case: &str, name: &str) -> Tensor {
        self.get(case, name)
            .unwrap_or_else(|| panic!("the fixture has no {case}.{name}"))
    }

    /// Loads torch's state dict of `case` into `module`, after checking the module's names
    /// and shapes are torch's, in torch's order.
    #[track_caller]
    fn load_into(&self, case: &str, module: &dyn Module) {
        let names: Vec<&str> = self.metadata[&format!("{case}.names")].split(',').collect();
        let own: Vec<(String, Tensor)> = module.state_dict();
        assert_eq!(
            own.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            names,
            "{case}: names"
        );
        let state: Vec<(String, Tensor)> = names
            .iter()
            .map(|n| (n.to_string(), self.expect(case, &format!("param.{n}"))))
            .collect();
        for ((_, mine), (name, theirs)) in own.iter().zip(&state) {
            assert_eq!(mine.shape(), theirs.shape(), "{case}: shape of {name}");
        }
        module.load_state_dict(&state).unwrap();
    }

    /// Compares `results` with torch's, backpropagates the weighted sum of them and compares
    /// the gradients of `inputs` and of every parameter of `module`.
    #[track_caller]
    fn check(
        &self,
        case: &str,
        module: &dyn Module,
        results: &[(&str, Option<&Tensor>)],
        inputs: &[(&str, &Tensor)],
    ) {
        let mut loss = Tensor::zeros(&[], DType::F64);
        for &(name, got) in results {
            let Some(got) = got else {
                assert!(self.get(case, name).is_none(), "{case}: no {name}");
                continue;
            };
            assert_close(&format!("{case}.{name}"), got, &self.expect(case, name));
            loss = loss + (got * &self.expect(case, &format!("w_{name}"))).sum();
        }
        loss.backward();
        let params = module.named_parameters();
        let grads = inputs
            .iter()
            .map(|&(n, t)| (n.to_string(), t))
            .chain(params.iter().map(|(n, t)| (n.clone(), t)));
        for (name, t) in grads {
            let what = format!("{case}.grad.{name}");
            assert_close(
                &what,
                &t.grad().unwrap(),
                &self.expect(case, &format!("grad.{name}")),
            );
        }
    }
}

#[test]
fn cells_match_torch() {
    let fx = Fixture::load();
    let mut rng = Generator::new(0);
    let x = fx.expect("cell_rnn_tanh", "input").requires_grad();
    for (case, f) in [
        ("cell_rnn_tanh", Nonlinearity::Tanh),
        ("cell_rnn_relu", Nonlinearity::Relu),
    ] {
        let cell = RnnCell::new(3, 4, true, f, DType::F64, &mut rng).unwrap();
        fx.load_into(case, &cell);
        let (x, h0) = (
            x.detach().requires_grad(),
            fx.expect(case, "h0").requires_grad(),
        );
        let h = cell.step(&x, Some(&h0));
        fx.check(
            case,
            &cell,
            &[("output", Some(&h))],
            &[("input", &x), ("h0", &h0)],
        );
    }
    let cell = GruCell::new(3, 4, true, DType::F64, &mut rng).unwrap();
    fx.load_into("cell_gru", &cell);
    let (x1, h0) = (
        x.detach().requires_grad(),
        fx.expect("cell_gru", "h0").requires_grad(),
    );
    let h = cell.step(&x1, Some(&h0));
    fx.check(
        "cell_gru",
        &cell,
        &[("output", Some(&h))],
        &[("input", &x1), ("h0", &h0)],
    );
    let cell = LstmCell::new(3, 4, true, DType::F64, &mut rng).unwrap();
    fx.load_into("cell_lstm", &cell);
    let x2 = x.detach().requires_grad();
    let h0 = fx.expect("cell_lstm", "h0").requires_grad();
    let c0 = fx.expect("cell_lstm", "c0").requires_grad();
    let (h, c) = cell.step(&x2, Some((&h0, &c0)));
    fx.check(
        "cell_lstm",
        &cell,
        &[("output", Some(&h)), ("c_n", Some(&c))],
        &[("input", &x2), ("h0", &h0), ("c0", &c0)],
    );
}

/// A sequence layer of any kind.
enum Layer {
    Rnn(Rnn),
    Lstm(Lstm),
    Gru(Gru),
}

impl Layer {
    fn new(kind: &str, options: RecurrentOptions) -> Layer {
        let mut rng = Generator::new(0);
        let (i, h, dtype) = (3, 4, DType::F64);
        match kind {
            "rnn_tanh" => {
                Layer::Rnn(Rnn::new(i, h, Nonlinearity::Tanh, options, dtype, &mut rng).unwrap())
            }
            "rnn_relu" => {
                Layer::Rnn(Rnn::new(i, h, Nonlinearity::Relu, options, dtype, &mut rng).unwrap())
            }
            "lstm" => Layer::Lstm(Lstm::new(i, h, options, dtype, &mut rng).unwrap()),
            "gru" => Layer::Gru(Gru::new(i, h, options, dtype, &mut rng).unwrap()),
            _ => panic!("no layer {kind}"),
        }
    }

    fn module(&self) -> &dyn Module {
        match self {
            Layer::Rnn(l) => l,
            Layer::Lstm(l) => l,
            Layer::Gru(l) => l,
        }
    }

    fn sequence(
        &self,
        x: &Tensor,
        initial: Option<&RecurrentState>,
        lengths: Option<&[usize]>,
    ) -> nabla_nn::Result<SequenceOutput> {
        match self {
            Layer::Rnn(l) => l.try_forward_sequence(x, initial, lengths),
            Layer::Lstm(l) => l.try_forward_sequence(x, initial, lengths),
            Layer::Gru(l) => l.try_forward_sequence(x, initial, lengths),
        }
    }
}

/// Runs fixture case `case` through a `kind` layer with `options` and compares everything.
#[track_caller]
fn matches_torch(case: &str, kind: &str, options: RecurrentOptions) {
    let fx = Fixture::load();
    let layer = Layer::new(kind, options);
    fx.load_into(case, layer.module());
    let x = fx.expect(case, "input").requires_grad();
    let h0 = fx.get(case, "h0").map(Tensor::requires_grad);
    let c0 = fx.get(case, "c0").map(Tensor::requires_grad);
    let initial = h0.as_ref().map(|h| RecurrentState {
        h: h.clone(),
        c: c0.clone(),
    });
    let lengths: Option<Vec<usize>> = fx
        .get(case, "lengths")
        .map(|l| l.to_vec::<i64>().into_iter().map(|v| v as usize).collect());
    let out = layer
        .sequence(&x, initial.as_ref(), lengths.as_deref())
        .unwrap();
    let mut inputs = vec![("input", &x)];
    inputs.extend(h0.iter().map(|h| ("h0", h)));
    inputs.extend(c0.iter().map(|c| ("c0", c)));
    fx.check(
        case,
        layer.module(),
        &[
            ("output", Some(&out.output)),
            ("h_n", Some(&out.state.h)),
            ("c_n", out.state.c.as_ref()),
        ],
        &inputs,
    );
}

fn layers(num_layers: usize, bidirectional: bool) -> RecurrentOptions {
    RecurrentOptions {
        num_layers,
        bidirectional,
        ..Default::default()
    }
}

#[test]
fn one_layer_matches_torch() {
    for kind in ["rnn_tanh", "rnn_relu", "lstm", "gru"] {
        matches_torch(kind, kind, layers(1, false));
    }
    let no_bias = RecurrentOptions {
        bias: false,
        ..Default::default()
    };
    matches_torch("lstm_nobias", "lstm", no_bias);
}

#[test]
fn two_layers_match_torch_through_time() {
    matches_torch("rnn_2", "rnn_tanh", layers(2, false));
    matches_torch("lstm_2", "lstm", layers(2, false));
    matches_torch("gru_2", "gru", layers(2, false));
}

#[test]
fn bidirectional_matches_torch() {
    matches_torch("rnn_bi", "rnn_tanh", layers(1, true));
    matches_torch("lstm_bi", "lstm", layers(1, true));
    matches_torch("gru_bi", "gru", layers(1, true));
    matches_torch("lstm_2_bi", "lstm", layers(2, true));
}

#[test]
fn initial_states_match_torch() {
    matches_torch("lstm_init", "lstm", layers(2, true));
    matches_torch("gru_init", "gru", layers(2, true));
    matches_torch("rnn_init", "rnn_tanh", layers(2, false));
    matches_torch("lstm_unbatched", "lstm", layers(1, true));
}

#[test]
fn batch_first_matches_torch() {
    let first = |options: RecurrentOptions| RecurrentOptions {
        batch_first: true,
        ..options
    };
    matches_torch("lstm_batch_first", "lstm", first(layers(2, false)));
    matches_torch("gru_batch_first", "gru", first(layers(1, false)));
}

#[test]
fn variable_lengths_match_torch_packed_sequences() {
    matches_torch("lstm_lengths", "lstm", layers(2, true));
    matches_torch("gru_lengths", "gru", layers(2, true));
    matches_torch("rnn_lengths", "rnn_tanh", layers(1, true));
    let first = RecurrentOptions {
        batch_first: true,
        ..layers(1, true)
    };
    matches_torch("lstm_lengths_batch_first", "lstm", first);
}

#[test]
fn module_output_is_the_last_layers_final_hidden_state() {
    let fx = Fixture::load();
    let layer = Layer::new("lstm", layers(2, true));
    fx.load_into("lstm_2_bi", layer.module());
    let x = fx.expect("lstm_2_bi", "input");
    let y = layer.module().forward(&x);
    let h_n = fx.expect("lstm_2_bi", "h_n");
    // Rows 2 and 3 of h_n: the last layer's forward and backward directions, side by side.
    let expected = Tensor::cat(
        &[
            &h_n.narrow(0, 2, 1).squeeze(0),
            &h_n.narrow(0, 3, 1).squeeze(0),
        ],
        1,
    );
    assert_close("forward", &y, &expected);
    let Layer::Lstm(lstm) = Layer::new("lstm", layers(2, true)) else {
        unreachable!()
    };
    let lstm = lstm.returning_sequence(true);
    lstm.load_state_dict(&layer.module().state_dict()).unwrap();
    assert_eq!(
        lstm.describe(),
        "LSTM(3 -> 4, layers=2, bidirectional, sequence)"
    );
    assert_close(
        "sequence",
        &lstm.forward(&x),
        &fx.expect("lstm_2_bi", "output"),
    );
}

#[test]
fn embedding_matches_torch_and_the_padding_row_gets_no_gradient() {
    let fx = Fixture::load();
    let weight = fx.expect("embedding", "param.weight").requires_grad();
    let emb = Embedding::from_parts(weight.clone(), Some(2)).unwrap();
    let y = emb.forward(&fx.expect("embedding", "input"));
    assert_close("embedding", &y, &fx.expect("embedding", "output"));
    (&y * &fx.expect("embedding", "w_output")).sum().backward();
    let grad = weight.grad().unwrap();
    assert_close(
        "embedding.grad",
        &grad,
        &fx.expect("embedding", "grad.weight"),
    );
    assert_eq!(grad.narrow(0, 2, 1).to_vec::<f64>(), [0.0; 3]);
    let fresh = Embedding::new(5, 3, Some(4), DType::F32, &mut Generator::new(0)).unwrap();
    assert_eq!(fresh.weight().narrow(0, 4, 1).to_vec::<f32>(), [0.0; 3]);
}

#[test]
fn truncated_bptt_passes_no_gradient_to_the_earlier_chunk() {
    let lstm = Lstm::new(2, 3, layers(2, false), DType::F64, &mut Generator::new(3)).unwrap();
    let first = Tensor::ones(&[4, 2, 2], DType::F64).requires_grad();
    let second = Tensor::ones(&[4, 2, 2], DType::F64).requires_grad();
    let out = lstm.forward_sequence(&first, None, None);
    let carried = out.state.detach();
    let next = lstm.forward_sequence(&second, Some(&carried), None);
    next.output.sum().backward();
    assert!(first.grad().is_none());
    assert!(second.grad().is_some());
    // Without the detach, the gradient reaches the first chunk.
    let out = lstm.forward_sequence(&first, None, None);
    lstm.forward_sequence(&second, Some(&out.state), None)
        .output
        .sum()
        .backward();
    assert!(
        first
            .grad()
            .unwrap()
            .to_vec::<f64>()
            .iter()
            .any(|&g| g != 0.0)
    );
}

#[test]
fn dropout_between_layers_in_training_only_with_a_saved_generator() {
    let options = RecurrentOptions {
        num_layers: 2,
        dropout: 0.5,
        ..Default::default()
    };
    let mut lstm = Lstm::new(2, 8, options, DType::F64, &mut Generator::new(0)).unwrap();
    let x = Tensor::ones(&[3, 4, 2], DType::F64);
    let saved = lstm.named_generators();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].0, "generator");
    let a = lstm.forward(&x).to_vec::<f64>();
    let b = lstm.forward(&x).to_vec::<f64>();
    assert_ne!(a, b, "fresh masks every pass");
    lstm.load_generators(&saved).unwrap();
    assert_eq!(
        lstm.forward(&x).to_vec::<f64>(),
        a,
        "the restored stream repeats the masks"
    );
    lstm.set_training(false);
    let e1 = lstm.forward(&x).to_vec::<f64>();
    assert_eq!(lstm.forward(&x).to_vec::<f64>(), e1);
    let no_dropout = Lstm::new(2, 8, layers(2, false), DType::F64, &mut Generator::new(0)).unwrap();
    no_dropout.load_state_dict(&lstm.state_dict()).unwrap();
    assert_eq!(no_dropout.forward(&x).to_vec::<f64>(), e1);
    assert!(no_dropout.named_generators().is_empty());
}

#[test]
fn time_steps_hold_the_gradient_of_every_hidden_state() {
    let lstm = Lstm::new(2, 3, layers(2, false), DType::F64, &mut Generator::new(1)).unwrap();
    let x = Tensor::ones(&[4, 2, 2], DType::F64);
    lstm.forward(&x).sum().backward();
    assert!(lstm.time_steps().is_empty(), "off by default");
    lstm.record_time_steps(true);
    let out = lstm.forward_sequence(&x, None, None);
    let steps = lstm.time_steps();
    assert_eq!(steps.len(), 4);
    // The first layer's forward states: the last one is h_n's first row.
    assert_eq!(
        steps[3].to_vec::<f64>(),
        out.state.h.narrow(0, 0, 1).to_vec::<f64>()
    );
    out.state.h.narrow(0, 0, 1).sum().backward();
    assert_eq!(steps[3].grad().unwrap().to_vec::<f64>(), [1.0; 6]);
    assert!(steps.iter().all(|h| h.grad().is_some()));
    lstm.record_time_steps(false);
    assert!(lstm.time_steps().is_empty());
}

#[test]
fn bad_inputs_are_errors_naming_the_layer_and_shapes() {
    let mut rng = Generator::new(0);
    let lstm = Lstm::new(3, 4, layers(2, false), DType::F64, &mut rng).unwrap();
    let err = |r: nabla_nn::Result<SequenceOutput>| r.unwrap_err().to_string();
    let x = Tensor::zeros(&[5, 2, 3], DType::F64);
    assert_eq!(
        lstm.try_forward(&Tensor::zeros(&[5, 2, 7], DType::F64))
            .unwrap_err()
            .to_string(),
        "forward: LSTM(3 -> 4, layers=2): input has shape [5, 2, 7], expected [T, N, 3] or [T, 3] with T >= 1"
    );
    assert_eq!(
        lstm.try_forward(&Tensor::zeros(&[0, 2, 3], DType::F64))
            .unwrap_err()
            .to_string(),
        "forward: LSTM(3 -> 4, layers=2): input has shape [0, 2, 3], expected [T, N, 3] or [T, 3] with T >= 1"
    );
    assert_eq!(
        lstm.try_forward(&Tensor::zeros(&[5, 2, 3], DType::F32))
            .unwrap_err()
            .to_string(),
        "forward: LSTM(3 -> 4, layers=2): input has dtype f32, expected f64 (convert it with .to_dtype())"
    );
    let h = Tensor::zeros(&[1, 2, 4], DType::F64);
    let c = Tensor::zeros(&[2, 2, 4], DType::F64);
    let bad_h = RecurrentState {
        h,
        c: Some(c.clone()),
    };
    assert_eq!(
        err(lstm.try_forward_sequence(&x, Some(&bad_h), None)),
        "forward: LSTM(3 -> 4, layers=2): initial h of shape [1, 2, 4] and dtype f64, expected [L·D, N, H] = [2, 2, 4] of dtype f64"
    );
    let no_c = RecurrentState { h: c, c: None };
    assert_eq!(
        err(lstm.try_forward_sequence(&x, Some(&no_c), None)),
        "forward: LSTM(3 -> 4, layers=2): an initial state without c, expected h and c"
    );
    assert_eq!(
        err(lstm.try_forward_sequence(&x, None, Some(&[5, 6]))),
        "forward: LSTM(3 -> 4, layers=2): lengths[1] = 6, expected a length in 1..=5 (the input's T)"
    );
    assert_eq!(
        err(lstm.try_forward_sequence(&x, None, Some(&[0, 5]))),
        "forward: LSTM(3 -> 4, layers=2): lengths[0] = 0, expected a length in 1..=5 (the input's T)"
    );
    assert_eq!(
        err(lstm.try_forward_sequence(&x, None, Some(&[5]))),
        "forward: LSTM(3 -> 4, layers=2): 1 lengths, expected one per sequence (2)"
    );
    let build = |options: RecurrentOptions| {
        Gru::new(3, 4, options, DType::F64, &mut Generator::new(0))
            .err()
            .unwrap()
            .to_string()
    };
    let dropout = |p: f64| RecurrentOptions {
        dropout: p,
        ..Default::default()
    };
    assert_eq!(
        build(dropout(1.0)),
        "layer: GRU(3 -> 4): dropout must be in [0, 1), got 1"
    );
    assert_eq!(
        build(dropout(-0.1)),
        "layer: GRU(3 -> 4): dropout must be in [0, 1), got -0.1"
    );
    assert_eq!(
        build(layers(0, false)),
        "layer: GRU(3 -> 4): num_layers must be at least 1, got 0"
    );
    assert_eq!(
        Rnn::new(
            0,
            4,
            Nonlinearity::Tanh,
            Default::default(),
            DType::F64,
            &mut rng
        )
        .err()
        .unwrap()
        .to_string(),
        "layer: RNN(0 -> 4): the input size (0) and hidden size (4) must be at least 1"
    );
    assert_eq!(
        Lstm::new(3, 4, Default::default(), DType::I64, &mut rng)
            .err()
            .unwrap()
            .to_string(),
        "layer: LSTM(3 -> 4): the parameters must be f32 or f64, not i64"
    );
    assert_eq!(
        Embedding::new(5, 3, None, DType::I64, &mut rng)
            .err()
            .unwrap()
            .to_string(),
        "layer: Embedding(5, 3): the weight must be f32 or f64, not i64"
    );
    let cell = LstmCell::new(3, 4, true, DType::F64, &mut rng).unwrap();
    let h = Tensor::zeros(&[2, 5], DType::F64);
    assert_eq!(
        cell.try_step(&Tensor::zeros(&[2, 3], DType::F64), Some((&h, &h)))
            .unwrap_err()
            .to_string(),
        "forward: LSTMCell(3 -> 4): h of shape [2, 5] and dtype f64, expected [2, 4] of dtype f64"
    );
    let emb = Embedding::new(5, 3, None, DType::F64, &mut rng).unwrap();
    assert_eq!(
        emb.try_forward(&Tensor::zeros(&[2], DType::F64))
            .unwrap_err()
            .to_string(),
        "forward: Embedding(5, 3): input has dtype f64, expected i64 indices"
    );
    assert_eq!(
        emb.try_forward(&Tensor::from_vec(vec![1i64, 5], &[2]))
            .unwrap_err()
            .to_string(),
        "forward: Embedding(5, 3): embedding: index 5 is out of range for a weight of 5 rows (indices must be in 0..5)"
    );
    assert_eq!(
        Embedding::new(5, 3, Some(5), DType::F64, &mut rng)
            .err()
            .unwrap()
            .to_string(),
        "layer: Embedding: padding_idx 5 is not a row of a table of 5 rows"
    );
}

/// The file tools/pytorch_reference/recurrent_layers.py's `check` loads into
/// `torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)` (strict names) to compare torch's
/// outputs with nabla's: nabla's state dict (drawn from `Generator::new(0)`), `input`
/// `[5, 3, 3]` and nabla's `output`, `h_n`, `c_n`. It holds what nabla writes now: the weights
/// and input bit for bit, the computed values within 1e-12 (rewrite it with NABLA_BLESS=1).
#[test]
fn the_nabla_lstm_fixture_for_pytorch_is_what_nabla_writes() {
    let lstm = Lstm::new(3, 4, layers(2, true), DType::F64, &mut Generator::new(0)).unwrap();
    let x = Tensor::from_vec(
        (0..45).map(|i| (0.37 * i as f64 + 1.0).sin()).collect(),
        &[5, 3, 3],
    );
    let out = lstm.forward_sequence(&x, None, None);
    let mut tensors = lstm.state_dict();
    tensors.push(("input".to_string(), x));
    tensors.push(("output".to_string(), out.output));
    tensors.push(("h_n".to_string(), out.state.h));
    tensors.push(("c_n".to_string(), out.state.c.unwrap()));
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    if std::env::var_os("NABLA_BLESS").is_some() {
        std::fs::write(NABLA_LSTM, encode(&tensors, &Metadata::new())).unwrap();
    }
    let (stored, _) = load_safetensors(NABLA_LSTM).unwrap();
    let hint = "tests/data/nabla_lstm.safetensors is not what nabla writes now: rerun with \
                NABLA_BLESS=1, then tools/pytorch_reference/recurrent_layers.py check";
    assert_eq!(stored.len(), tensors.len(), "{hint}");
    for ((key, got), (name, now)) in stored.iter().zip(&tensors) {
        assert_eq!(key, name, "{hint}");
        if ["output", "h_n", "c_n"].contains(&key.as_str()) {
            assert_close(key, got, now);
        } else {
            assert_eq!(got.to_vec::<f64>(), now.to_vec::<f64>(), "{key}: {hint}");
        }
    }
}

#[test]
fn an_unbatched_input_is_one_sequence() {
    let options = RecurrentOptions {
        batch_first: true,
        ..layers(2, true)
    };
    let gru = Gru::new(3, 4, options, DType::F64, &mut Generator::new(5)).unwrap();
    let x = Tensor::from_vec((0..15).map(|i| (0.37 * i as f64).sin()).collect(), &[5, 3]);
    let one = gru.forward_sequence(&x, None, Some(&[3]));
    let batched = gru.forward_sequence(&x.unsqueeze(0), None, Some(&[3]));
    assert_eq!(one.output.shape(), &[5, 8]);
    assert_eq!(one.state.h.shape(), &[4, 4]);
    assert_eq!(one.output.to_vec::<f64>(), batched.output.to_vec::<f64>());
    assert_eq!(one.state.h.to_vec::<f64>(), batched.state.h.to_vec::<f64>());
    // Past the length of 3, the outputs are zero.
    assert_eq!(one.output.narrow(0, 3, 2).to_vec::<f64>(), [0.0; 16]);
    assert_eq!(gru.forward(&x).shape(), &[8]);
}
