//! The LSTM and GRU cells and embedding against PyTorch 2 in float64: outputs and gradients of
//! `torch.nn.LSTMCell`/`GRUCell`'s step (two `linear`s and the cell op here), of the cells fed
//! gate pre-activations with a NaN or infinities, and of `F.embedding` with repeated indices,
//! with and without `padding_idx`; the same through the differentiable backward
//! (`create_graph`), for non-contiguous inputs, in f32, and for an empty batch.
//! The pinned values and the script that produced them:
//! `tools/pytorch_reference/recurrent_cells.py`.

#[path = "reference/pytorch_recurrent.rs"]
mod pytorch;
#[path = "support/reference.rs"]
mod reference;

use nabla_core::{BackwardOptions, DType, Tensor};
use pytorch::*;
use reference::{assert_close, det};

type Cell = dyn Fn(&[Tensor]) -> Tensor;

/// `f` at `inputs` (made leaves), and the gradients of `sum(y · det(y.shape, 9))`, by a plain
/// or a recorded (`create_graph`) backward pass.
fn run(f: &Cell, inputs: &[Tensor], create_graph: bool) -> (Tensor, Vec<Tensor>) {
    let leaves: Vec<Tensor> = inputs.iter().map(|t| t.detach().requires_grad()).collect();
    let y = f(&leaves);
    let loss = (&y * &det(y.shape(), 9.0).to_dtype(y.dtype())).sum();
    let refs: Vec<&Tensor> = leaves.iter().collect();
    let options = BackwardOptions {
        create_graph,
        ..Default::default()
    };
    let grads = nabla_core::try_grad(&[&loss], None, &refs, options).unwrap();
    (y.detach(), grads)
}

/// Checks a case's output shape and values and each input's gradient, by both backward passes.
#[track_caller]
fn check(name: &str, f: &Cell, inputs: &[Tensor], shape: &[usize], y: &[f64], grads: &[&[f64]]) {
    for create_graph in [false, true] {
        let name = format!("{name} (create_graph {create_graph})");
        let (out, got) = run(f, inputs, create_graph);
        assert_eq!(out.shape(), shape, "{name}: output shape");
        assert_close(&format!("{name} output"), &out, y);
        assert_eq!(got.len(), grads.len());
        for (i, (g, e)) in got.iter().zip(grads).enumerate() {
            assert_close(&format!("{name} gradient {i}"), g, e);
        }
    }
}

/// `det(shape, k)` for k = 1, 2, ... in order.
fn dets(shapes: &[&[usize]]) -> Vec<Tensor> {
    shapes
        .iter()
        .enumerate()
        .map(|(k, s)| det(s, k as f64 + 1.0))
        .collect()
}

/// `torch.nn.LSTMCell`'s step from x, h, c, W_ih, W_hh, b_ih, b_hh: `[h' | c']`.
fn lstm(v: &[Tensor]) -> Tensor {
    let gates = v[0].linear(&v[3], Some(&v[5]));
    gates.lstm_cell(&v[1].linear(&v[4], Some(&v[6])), &v[2])
}

/// `torch.nn.GRUCell`'s step from x, h, W_ih, W_hh, b_ih, b_hh: `h'`.
fn gru(v: &[Tensor]) -> Tensor {
    let gates = v[0].linear(&v[2], Some(&v[4]));
    gates.gru_cell(&v[1].linear(&v[3], Some(&v[5])), &v[1])
}

fn lstm_inputs(n: usize, i: usize, h: usize) -> Vec<Tensor> {
    let g = 4 * h;
    dets(&[&[n, i], &[n, h], &[n, h], &[g, i], &[g, h], &[g], &[g]])
}

fn gru_inputs(n: usize, i: usize, h: usize) -> Vec<Tensor> {
    let g = 3 * h;
    dets(&[&[n, i], &[n, h], &[g, i], &[g, h], &[g], &[g]])
}

#[test]
fn lstm_cell_matches_torch_lstm_cell() {
    let grads: [&[f64]; 7] = [
        &LSTM_D0, &LSTM_D1, &LSTM_D2, &LSTM_D3, &LSTM_D4, &LSTM_D5, &LSTM_D6,
    ];
    check(
        "lstm",
        &lstm,
        &lstm_inputs(3, 4, 5),
        &LSTM_SHAPE,
        &LSTM_Y,
        &grads,
    );
    let grads: [&[f64]; 7] = [
        &LSTM_H1_D0,
        &LSTM_H1_D1,
        &LSTM_H1_D2,
        &LSTM_H1_D3,
        &LSTM_H1_D4,
        &LSTM_H1_D5,
        &LSTM_H1_D6,
    ];
    check(
        "lstm H=1",
        &lstm,
        &lstm_inputs(2, 3, 1),
        &LSTM_H1_SHAPE,
        &LSTM_H1_Y,
        &grads,
    );
}

#[test]
fn gru_cell_matches_torch_gru_cell() {
    let grads: [&[f64]; 6] = [&GRU_D0, &GRU_D1, &GRU_D2, &GRU_D3, &GRU_D4, &GRU_D5];
    check(
        "gru",
        &gru,
        &gru_inputs(3, 4, 5),
        &GRU_SHAPE,
        &GRU_Y,
        &grads,
    );
    let grads: [&[f64]; 6] = [
        &GRU_H1_D0, &GRU_H1_D1, &GRU_H1_D2, &GRU_H1_D3, &GRU_H1_D4, &GRU_H1_D5,
    ];
    check(
        "gru H=1",
        &gru,
        &gru_inputs(2, 3, 1),
        &GRU_H1_SHAPE,
        &GRU_H1_Y,
        &grads,
    );
}

#[test]
fn a_nan_in_a_gate_reaches_what_it_reaches_in_pytorch() {
    let lstm_gates = |v: &[Tensor]| v[0].lstm_cell(&v[1], &v[2]);
    let inputs = [
        Tensor::from_vec(LSTM_NAN_IN0.to_vec(), &[2, 12]),
        Tensor::from_vec(LSTM_NAN_IN1.to_vec(), &[2, 12]),
        Tensor::from_vec(LSTM_NAN_IN2.to_vec(), &[2, 3]),
    ];
    let grads: [&[f64]; 3] = [&LSTM_NAN_D0, &LSTM_NAN_D1, &LSTM_NAN_D2];
    check(
        "lstm NaN",
        &lstm_gates,
        &inputs,
        &LSTM_NAN_SHAPE,
        &LSTM_NAN_Y,
        &grads,
    );
    let gru_gates = |v: &[Tensor]| v[0].gru_cell(&v[1], &v[2]);
    let inputs = [
        Tensor::from_vec(GRU_NAN_IN0.to_vec(), &[2, 9]),
        Tensor::from_vec(GRU_NAN_IN1.to_vec(), &[2, 9]),
        Tensor::from_vec(GRU_NAN_IN2.to_vec(), &[2, 3]),
    ];
    let grads: [&[f64]; 3] = [&GRU_NAN_D0, &GRU_NAN_D1, &GRU_NAN_D2];
    check(
        "gru NaN",
        &gru_gates,
        &inputs,
        &GRU_NAN_SHAPE,
        &GRU_NAN_Y,
        &grads,
    );
}

#[test]
fn infinite_pre_activations_saturate_with_finite_values_and_zero_local_gradients() {
    let lstm_gates = |v: &[Tensor]| v[0].lstm_cell(&v[1], &v[2]);
    let inputs = [
        Tensor::from_vec(LSTM_INF_IN0.to_vec(), &[2, 12]),
        Tensor::from_vec(LSTM_INF_IN1.to_vec(), &[2, 12]),
        Tensor::from_vec(LSTM_INF_IN2.to_vec(), &[2, 3]),
    ];
    let grads: [&[f64]; 3] = [&LSTM_INF_D0, &LSTM_INF_D1, &LSTM_INF_D2];
    check(
        "lstm inf",
        &lstm_gates,
        &inputs,
        &LSTM_INF_SHAPE,
        &LSTM_INF_Y,
        &grads,
    );
    assert!(LSTM_INF_Y.iter().chain(&LSTM_INF_D0).all(|v| v.is_finite()));
    let gru_gates = |v: &[Tensor]| v[0].gru_cell(&v[1], &v[2]);
    let inputs = [
        Tensor::from_vec(GRU_INF_IN0.to_vec(), &[2, 9]),
        Tensor::from_vec(GRU_INF_IN1.to_vec(), &[2, 9]),
        Tensor::from_vec(GRU_INF_IN2.to_vec(), &[2, 3]),
    ];
    let grads: [&[f64]; 3] = [&GRU_INF_D0, &GRU_INF_D1, &GRU_INF_D2];
    check(
        "gru inf",
        &gru_gates,
        &inputs,
        &GRU_INF_SHAPE,
        &GRU_INF_Y,
        &grads,
    );
    assert!(GRU_INF_Y.iter().chain(&GRU_INF_D0).all(|v| v.is_finite()));
}

#[test]
fn non_contiguous_states_and_gates_give_the_same_numbers() {
    // h and c narrowed out of an [N, 2H] output, as a sequence layer passes them on; the
    // gates transposed views of their transposes.
    let lstm_views = |v: &[Tensor]| {
        let state = Tensor::cat(&[&v[1], &v[2]], 1);
        let (h, c) = (state.narrow(1, 0, 5), state.narrow(1, 5, 5));
        let input_gates = v[0].linear(&v[3], Some(&v[5])).t().contiguous().t();
        let hidden_gates = h.linear(&v[4], Some(&v[6])).t().contiguous().t();
        assert!(!input_gates.is_contiguous() && !c.is_contiguous());
        input_gates.lstm_cell(&hidden_gates, &c)
    };
    let grads: [&[f64]; 7] = [
        &LSTM_D0, &LSTM_D1, &LSTM_D2, &LSTM_D3, &LSTM_D4, &LSTM_D5, &LSTM_D6,
    ];
    check(
        "lstm views",
        &lstm_views,
        &lstm_inputs(3, 4, 5),
        &LSTM_SHAPE,
        &LSTM_Y,
        &grads,
    );
    let gru_views = |v: &[Tensor]| {
        let h = Tensor::cat(&[&v[1], &v[1]], 1).narrow(1, 5, 5);
        let input_gates = v[0].linear(&v[2], Some(&v[4])).t().contiguous().t();
        let hidden_gates = h.linear(&v[3], Some(&v[5]));
        assert!(!input_gates.is_contiguous() && !h.is_contiguous());
        input_gates.gru_cell(&hidden_gates, &h)
    };
    // Only the second half of the cat is read: the first passes no gradient.
    let grads: [&[f64]; 6] = [&GRU_D0, &GRU_D1, &GRU_D2, &GRU_D3, &GRU_D4, &GRU_D5];
    check(
        "gru views",
        &gru_views,
        &gru_inputs(3, 4, 5),
        &GRU_SHAPE,
        &GRU_Y,
        &grads,
    );
}

#[test]
fn an_empty_batch_gives_empty_outputs_and_gradients() {
    let lstm_gates = |v: &[Tensor]| v[0].lstm_cell(&v[1], &v[2]);
    let inputs = dets(&[&[0, 8], &[0, 8], &[0, 2]]);
    let (y, grads) = run(&lstm_gates, &inputs, false);
    assert_eq!(y.shape(), &[0, 4]);
    let shapes: Vec<&[usize]> = grads.iter().map(|g| g.shape()).collect();
    assert_eq!(shapes, [&[0, 8][..], &[0, 8], &[0, 2]]);
    let gru_gates = |v: &[Tensor]| v[0].gru_cell(&v[1], &v[2]);
    let inputs = dets(&[&[0, 6], &[0, 6], &[0, 2]]);
    let (y, grads) = run(&gru_gates, &inputs, false);
    assert_eq!(y.shape(), &[0, 2]);
    let shapes: Vec<&[usize]> = grads.iter().map(|g| g.shape()).collect();
    assert_eq!(shapes, [&[0, 6][..], &[0, 6], &[0, 2]]);
}

/// Within `tolerance·(1 + |expected|)` of PyTorch's float64 values.
#[track_caller]
fn assert_near(what: &str, got: &Tensor, expected: &[f64], tolerance: f64) {
    let got = got.to_f64_vec();
    assert_eq!(got.len(), expected.len(), "{what}: length");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (g - e).abs() <= tolerance * (1.0 + e.abs()),
            "{what}: element {i} is {g}, PyTorch gives {e}"
        );
    }
}

#[test]
fn f32_agrees_with_float64() {
    // The f32 sigmoid and tanh are within 1.5 ulp; the weights and GEMMs round at 6e-8.
    let f32_inputs = |inputs: Vec<Tensor>| -> Vec<Tensor> {
        inputs.iter().map(|t| t.to_dtype(DType::F32)).collect()
    };
    let (y, grads) = run(&lstm, &f32_inputs(lstm_inputs(3, 4, 5)), false);
    assert_eq!(y.dtype(), DType::F32);
    assert_near("lstm f32 output", &y, &LSTM_Y, 1e-6);
    let expected: [&[f64]; 7] = [
        &LSTM_D0, &LSTM_D1, &LSTM_D2, &LSTM_D3, &LSTM_D4, &LSTM_D5, &LSTM_D6,
    ];
    for (i, (g, e)) in grads.iter().zip(expected).enumerate() {
        assert_near(&format!("lstm f32 gradient {i}"), g, e, 1e-6);
    }
    let (y, grads) = run(&gru, &f32_inputs(gru_inputs(3, 4, 5)), false);
    assert_near("gru f32 output", &y, &GRU_Y, 1e-6);
    let expected: [&[f64]; 6] = [&GRU_D0, &GRU_D1, &GRU_D2, &GRU_D3, &GRU_D4, &GRU_D5];
    for (i, (g, e)) in grads.iter().zip(expected).enumerate() {
        assert_near(&format!("gru f32 gradient {i}"), g, e, 1e-6);
    }
}

#[test]
fn embedding_matches_pytorch_with_and_without_padding() {
    let indices = Tensor::from_vec(EMB_INDICES.to_vec(), &[2, 3]);
    let plain = {
        let indices = indices.clone();
        move |v: &[Tensor]| v[0].embedding(&indices, None)
    };
    check(
        "embedding",
        &plain,
        &dets(&[&[5, 4]]),
        &EMB_SHAPE,
        &EMB_Y,
        &[&EMB_D0],
    );
    let padded = move |v: &[Tensor]| v[0].embedding(&indices, Some(1));
    let inputs = dets(&[&[5, 4]]);
    check(
        "embedding padding_idx 1",
        &padded,
        &inputs,
        &EMB_PAD_SHAPE,
        &EMB_PAD_Y,
        &[&EMB_PAD_D0],
    );
    // The padding row gets no gradient even though it is looked up three times.
    let (_, grads) = run(&padded, &inputs, false);
    assert_eq!(grads[0].narrow(0, 1, 1).to_vec::<f64>(), vec![0.0; 4]);
}

#[test]
fn embedding_of_empty_indices_is_empty() {
    let weight = det(&[5, 4], 1.0).requires_grad();
    let rows = weight.embedding(&Tensor::from_vec(Vec::<i64>::new(), &[0, 3]), Some(2));
    assert_eq!(rows.shape(), &[0, 3, 4]);
    rows.sum().backward();
    assert_eq!(weight.grad().unwrap().to_vec::<f64>(), vec![0.0; 20]);
    // One index, 0-d: one row, [D].
    let row = weight.embedding(&Tensor::scalar(3i64), None);
    assert_eq!(row.to_vec::<f64>(), weight.narrow(0, 3, 1).to_vec::<f64>());
    assert_eq!(row.shape(), &[4]);
}
