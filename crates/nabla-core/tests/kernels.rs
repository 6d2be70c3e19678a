//! Kernels large enough to be split over threads give the same values as a plain serial loop:
//! GEMM tiles (both orientations, transposed and batched operands), long elementwise maps and
//! reductions, an LSTM sequence against its steps; and repeated runs agree to the bit.

use nabla_core::{DType, Generator, Tensor};

fn randn(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn_with(shape, DType::F64, &mut Generator::new(seed))
}

/// `a @ b` by the textbook triple loop, in f64.
fn naive_matmul(a: &[f64], b: &[f64], (m, k, n): (usize, usize, usize)) -> Vec<f64> {
    let mut out = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            out[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
        }
    }
    out
}

fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-12 * (1.0 + w.abs()),
            "element {i}: {g} vs {w}"
        );
    }
}

#[test]
fn tiled_products_equal_the_triple_loop() {
    // Split by rows: tall, and wide with a small right operand; split by columns: too few rows,
    // a large right operand, and any transposed right operand wide enough; one tile: below the
    // threshold. Each product is also taken from transposed storage.
    for (m, k, n) in [
        (300, 70, 40),
        (100, 60, 500),
        (40, 70, 300),
        (70, 400, 400),
        (130, 200, 130),
        (300, 70, 80),
        (7, 5, 3),
    ] {
        let a = randn(&[m, k], 1);
        let b = randn(&[k, n], 2);
        let want = naive_matmul(&a.to_vec(), &b.to_vec(), (m, k, n));
        assert_close(&a.matmul(&b).to_vec(), &want);
        // The same product from transposed storage: no copy, other strides.
        let at = a.t().contiguous().t();
        let bt = b.t().contiguous().t();
        assert_close(&at.matmul(&bt).to_vec(), &want);
    }
}

#[test]
fn batched_products_equal_the_triple_loop() {
    let (batch, m, k, n) = (5, 60, 50, 70);
    let a = randn(&[batch, m, k], 3);
    let b = randn(&[batch, k, n], 4);
    let got = a.matmul(&b).to_vec::<f64>();
    let (av, bv) = (a.to_vec::<f64>(), b.to_vec::<f64>());
    for i in 0..batch {
        let want = naive_matmul(
            &av[i * m * k..(i + 1) * m * k],
            &bv[i * k * n..(i + 1) * k * n],
            (m, k, n),
        );
        assert_close(&got[i * m * n..(i + 1) * m * n], &want);
    }
}

#[test]
fn long_maps_and_reductions_equal_serial_loops() {
    let n = 300_000;
    let x = randn(&[n], 5);
    let xs = x.to_vec::<f64>();
    let doubled: Vec<f64> = xs.iter().map(|v| v * 2.0 + 1.0).collect();
    assert_eq!((&x * 2.0 + 1.0).to_vec::<f64>(), doubled);
    let rows = x.reshape(&[3000, 100]);
    let want: Vec<f64> = xs
        .chunks(100)
        .map(|r| r.iter().cloned().fold(f64::MIN, f64::max))
        .collect();
    assert_eq!(rows.max_dims(&[1], false).to_vec::<f64>(), want);
}

#[test]
fn repeated_runs_give_identical_bits() {
    let run = || {
        let a = randn(&[257, 300], 6).requires_grad();
        let b = randn(&[300, 190], 7).requires_grad();
        let loss = (a.matmul(&b).relu().sum_dims(&[0], false) * 1e-3)
            .tanh()
            .sum();
        loss.backward();
        (
            loss.to_vec::<f64>(),
            a.grad().unwrap().to_vec::<f64>(),
            b.grad().unwrap().to_vec::<f64>(),
        )
    };
    let first = run();
    for _ in 0..5 {
        assert_eq!(run(), first);
    }
}

#[test]
fn index_select_equals_picking_entry_by_entry() {
    // Long enough to be copied in parallel pieces, with runs of consecutive indices, repeats
    // and reversals; along the first, middle and last dim.
    let x = randn(&[40, 30, 50], 8);
    let xs = x.to_vec::<f64>();
    let picks: Vec<i64> = [0i64, 1, 2, 3, 9, 9, 8, 20, 21, 29, 5].to_vec();
    let at = |i: usize, j: usize, k: usize| xs[(i * 30 + j) * 50 + k];
    for dim in 0..3 {
        let size = x.shape()[dim] as i64;
        let idx: Vec<i64> = picks.iter().map(|&p| p % size).collect();
        let got = x
            .index_select(dim as isize, &Tensor::from_vec(idx.clone(), &[idx.len()]))
            .to_vec::<f64>();
        let mut want = Vec::new();
        let mut shape = [40, 30, 50];
        shape[dim] = idx.len();
        for i in 0..shape[0] {
            for j in 0..shape[1] {
                for k in 0..shape[2] {
                    let mut pos = [i, j, k];
                    pos[dim] = idx[pos[dim]] as usize;
                    want.push(at(pos[0], pos[1], pos[2]));
                }
            }
        }
        assert_eq!(got, want, "dim {dim}");
    }
    // Integer tensors too, and a view whose rows are not contiguous.
    let labels = Tensor::from_vec((0..10i64).collect(), &[10]);
    let picked = labels.index_select(0, &Tensor::from_vec(vec![9i64, 0, 1, 2], &[4]));
    assert_eq!(picked.to_vec::<i64>(), vec![9, 0, 1, 2]);
    let view = x.transpose(0, 2);
    let rows = view.index_select(0, &Tensor::from_vec(vec![49i64, 0], &[2]));
    assert_eq!(rows.shape(), &[2, 30, 40]);
    assert_eq!(rows.to_vec::<f64>()[..2], [at(0, 0, 49), at(1, 0, 49)]);
    // Out of range, and indices of another dtype, are errors naming the op.
    let err = x.try_index_select(1, &Tensor::from_vec(vec![30i64], &[1]));
    assert!(err.unwrap_err().to_string().contains("index_select"));
    let err = x.try_index_select(0, &Tensor::from_vec(vec![0.0f32], &[1]));
    assert!(err.unwrap_err().to_string().contains("index_select"));
}

#[test]
fn a_linear_layer_with_no_outputs_gives_an_empty_result() {
    let x = Tensor::zeros(&[2, 3], DType::F32);
    let y = x.linear(
        &Tensor::zeros(&[0, 3], DType::F32),
        Some(&Tensor::zeros(&[0], DType::F32)),
    );
    assert_eq!(y.shape(), &[2, 0]);
}

/// The wide (vectorised) build of a map gives, bit for bit, what the plain loop gives for a
/// single element, edge values included: NaN passes through exp, log, tanh, sigmoid, relu,
/// leaky_relu and clamp, a NaN clamp bound gives NaN, exp overflows to infinity and underflows to
/// zero, clamp bounds both sides; a square is `x·x`; maximum and minimum give NaN when either
/// operand is NaN.
#[test]
fn vectorised_maps_keep_the_scalar_rules_at_the_edges() {
    let edges = [
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        100.0,
        -100.0,
        88.8,
        -87.5,
        0.0,
        -0.0,
        0.3,
        -2.0,
        1e-30,
    ];
    let values: Vec<f32> = edges.iter().copied().cycle().take(256).collect();
    let long = Tensor::from_vec(values.clone(), &[values.len()]);
    type Map = fn(&Tensor) -> Tensor;
    let ops: [(&str, Map); 14] = [
        ("exp", |t| t.exp()),
        ("log", |t| t.log()),
        ("tanh", |t| t.tanh()),
        ("sigmoid", |t| t.sigmoid()),
        ("relu", |t| t.relu()),
        ("leaky_relu", |t| t.leaky_relu(0.1)),
        ("clamp", |t| t.clamp(-1.0, 2.0)),
        ("clamp nan", |t| t.clamp(f64::NAN, 2.0)),
        ("clamp_min", |t| t.clamp_min(-1.0)),
        ("clamp_max", |t| t.clamp_max(2.0)),
        ("maximum(x, 0)", |t| t.maximum(&t.zeros_like())),
        ("maximum(0, x)", |t| t.zeros_like().maximum(t)),
        ("minimum(x, 0)", |t| t.minimum(&t.zeros_like())),
        ("minimum(0, x)", |t| t.zeros_like().minimum(t)),
    ];
    for (name, op) in ops {
        let wide = op(&long).to_vec::<f32>();
        for (i, &x) in values.iter().enumerate() {
            let single = op(&Tensor::from_vec(vec![x], &[1])).to_vec::<f32>()[0];
            assert!(
                wide[i].to_bits() == single.to_bits() || (wide[i].is_nan() && single.is_nan()),
                "{name}({x}): {} in a long tensor, {single} alone",
                wide[i]
            );
        }
    }
    let squares = long.powf(2.0).to_vec::<f32>();
    for (i, &x) in values.iter().enumerate() {
        assert!(
            squares[i].to_bits() == (x * x).to_bits() || x.is_nan(),
            "{x}² = {}",
            squares[i]
        );
    }
    let exp = long.exp().to_vec::<f32>();
    assert!(exp[0].is_nan());
    assert_eq!(&exp[1..5], &[f32::INFINITY, 0.0, f32::INFINITY, 0.0]);
    let clamped = long.clamp(-1.0, 2.0).to_vec::<f32>();
    assert!(clamped[0].is_nan());
    assert_eq!(&clamped[1..5], &[2.0, -1.0, 2.0, -1.0]);
    for (name, values) in [
        ("relu", long.relu()),
        ("maximum", long.maximum(&long.zeros_like())),
        ("minimum", long.minimum(&long.zeros_like())),
        ("clamp nan", long.clamp_min(f64::NAN)),
    ] {
        assert!(values.to_vec::<f32>()[0].is_nan(), "{name}(NaN)");
    }
    assert!(long.clamp(f64::NAN, 1.0).to_vec::<f32>()[3].is_nan());
}

/// A sequence's weights: `W_ih`, `W_hh` and the bias.
type Weights<'a> = (&'a Tensor, &'a Tensor, Option<&'a Tensor>);

/// `lstm_sequence` and the same steps as `linear`s and `lstm_cell`s, forward and gradients of a
/// weighted sum, from the initial state `(h0, c0)`; `inputs` are the tensors differentiated
/// against.
fn assert_sequence_equals_its_steps(
    x: &Tensor,
    (w_ih, w_hh, b): Weights<'_>,
    (h0, c0): (&Tensor, &Tensor),
    inputs: &[&Tensor],
    reverse: bool,
) {
    let (t, n, h) = (x.shape()[0], x.shape()[1], w_hh.shape()[1]);
    let weights = randn(&[t, n, 2 * h], 5);
    let fused = x.lstm_sequence(w_ih, w_hh, b, h0, c0, reverse);
    let fused_grads = nabla_core::grad(&[&(&fused * &weights).sum()], inputs);
    let (mut state_h, mut state_c) = (h0.clone(), c0.clone());
    let mut steps = vec![None; t];
    for s in 0..t {
        let step = if reverse { t - 1 - s } else { s };
        let gates_x = x.narrow(0, step, 1).squeeze(0).linear(w_ih, b);
        let hc = gates_x.lstm_cell(&state_h.linear(w_hh, None), &state_c);
        (state_h, state_c) = (hc.narrow(1, 0, h), hc.narrow(1, h, h));
        steps[step] = Some(hc);
    }
    let steps: Vec<&Tensor> = steps.iter().flatten().collect();
    let composed = Tensor::stack(&steps, 0);
    let composed_grads = nabla_core::grad(&[&(&composed * &weights).sum()], inputs);
    assert_close(&fused.to_vec::<f64>(), &composed.to_vec::<f64>());
    for (a, b) in fused_grads.iter().zip(&composed_grads) {
        assert_close(&a.to_vec::<f64>(), &b.to_vec::<f64>());
    }
}

#[test]
fn an_lstm_sequence_cut_between_threads_equals_its_steps_one_by_one() {
    // 40 rows and 4·16 weight rows: cut into blocks on a machine with several cores.
    let (t, n, i, h) = (5, 40, 7, 16);
    for reverse in [false, true] {
        let x = randn(&[t, n, i], 1).requires_grad();
        let w_ih = (randn(&[4 * h, i], 6) * 0.4).detach().requires_grad();
        let w_hh = (randn(&[4 * h, h], 2) * 0.3).detach().requires_grad();
        let b = randn(&[4 * h], 7).requires_grad();
        let h0 = randn(&[n, h], 3).requires_grad();
        let c0 = randn(&[n, h], 4).requires_grad();
        let weights = (&w_ih, &w_hh, Some(&b));
        let every = [&x, &w_ih, &w_hh, &b, &h0, &c0];
        assert_sequence_equals_its_steps(&x, weights, (&h0, &c0), &every, reverse);
        // Without a bias.
        let unbiased = (&w_ih, &w_hh, None);
        let inputs = [&x, &w_ih, &w_hh, &h0, &c0];
        assert_sequence_equals_its_steps(&x, unbiased, (&h0, &c0), &inputs, reverse);
        // From h0 = 0, a layer's default, whose products the kernel skips: with and without
        // h0's gradient asked for.
        let zero = Tensor::zeros(&[n, h], DType::F64);
        let inputs = [&x, &w_ih, &w_hh, &b, &c0];
        assert_sequence_equals_its_steps(&x, weights, (&zero, &c0), &inputs, reverse);
        let zero = zero.requires_grad();
        let inputs = [&x, &w_ih, &w_hh, &b, &zero, &c0];
        assert_sequence_equals_its_steps(&x, weights, (&zero, &c0), &inputs, reverse);
    }
}

#[test]
fn an_lstm_sequence_from_zero_still_spreads_a_nan_weight_through_its_first_step() {
    let (t, n, i, h) = (3, 2, 3, 2);
    let x = randn(&[t, n, i], 1);
    let w_ih = randn(&[4 * h, i], 2);
    let zero = Tensor::zeros(&[n, h], DType::F64);
    let mut w = vec![0.1; 4 * h * h];
    w[5] = f64::NAN;
    let w = Tensor::from_vec(w, &[4 * h, h]);
    let out = x
        .lstm_sequence(&w_ih, &w, None, &zero, &zero, false)
        .to_vec::<f64>();
    // 0·NaN is NaN: the first step's h0·W_hhᵀ carries it as the product would.
    assert!(out[..n * 2 * h].iter().any(|v| v.is_nan()));
}

#[test]
fn an_lstm_sequence_of_an_input_with_no_features_equals_its_steps() {
    // I = 0: x·W_ihᵀ is zero, so each step's gates come from the bias and h·W_hhᵀ; the input's
    // and W_ih's gradients are empty.
    let (t, n, h) = (3, 2, 2);
    let x = Tensor::zeros(&[t, n, 0], DType::F64).requires_grad();
    let w_ih = Tensor::zeros(&[4 * h, 0], DType::F64).requires_grad();
    let w_hh = randn(&[4 * h, h], 2).requires_grad();
    let b = randn(&[4 * h], 3).requires_grad();
    let (h0, c0) = (randn(&[n, h], 4), randn(&[n, h], 5));
    let inputs = [&x, &w_ih, &w_hh, &b];
    assert_sequence_equals_its_steps(&x, (&w_ih, &w_hh, Some(&b)), (&h0, &c0), &inputs, false);
}

#[test]
fn an_lstm_sequence_backward_run_twice_on_a_kept_graph_gives_the_same_gradients() {
    // With the graph kept, the saved workspace is not reused for the gradient: the second
    // pass reads the same gates as the first.
    let (t, n, i, h) = (4, 3, 2, 5);
    let x = randn(&[t, n, i], 1).requires_grad();
    let w_ih = randn(&[4 * h, i], 6);
    let w = (randn(&[4 * h, h], 2) * 0.3).detach().requires_grad();
    let (h0, c0) = (randn(&[n, h], 3), randn(&[n, h], 4));
    let out = x.lstm_sequence(&w_ih, &w, None, &h0, &c0, false);
    let loss = (out * randn(&[t, n, 2 * h], 5)).sum();
    let keep = nabla_core::BackwardOptions {
        retain_graph: true,
        ..Default::default()
    };
    let first = nabla_core::try_grad(&[&loss], None, &[&x, &w], keep).unwrap();
    let second = nabla_core::try_grad(&[&loss], None, &[&x, &w], Default::default()).unwrap();
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a.to_vec::<f64>(), b.to_vec::<f64>());
    }
}
