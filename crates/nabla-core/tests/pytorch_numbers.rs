//! Edge values against PyTorch 2 (float64): NaN in, NaN out; the gradients at NaN, at clamp's
//! bounds and at ties; argmax and argmin at NaN; var with too few elements; matmul at every rank.
//! The pinned values and the script that produced them: `tools/pytorch_reference/edge_values.py`.

#[path = "reference/pytorch_numbers.rs"]
mod pytorch;

use nabla_core::Tensor;
use pytorch::*;

/// `det(shape, k)[i] = sin(0.37 i + k)`, the script's deterministic inputs.
fn det(shape: &[usize], k: f64) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::from_vec((0..n).map(|i| (0.37 * i as f64 + k).sin()).collect(), shape)
}

fn tensor(values: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(values.to_vec(), shape)
}

/// Equal as PyTorch's values are: NaN where NaN, and zeros with the same sign.
fn same(got: &[f64], expected: &[f64]) -> bool {
    got.len() == expected.len()
        && got
            .iter()
            .zip(expected)
            .all(|(g, e)| g.to_bits() == e.to_bits() || (g.is_nan() && e.is_nan()))
}

#[track_caller]
fn assert_same(what: &str, got: &Tensor, expected: &[f64]) {
    let got = got.to_vec::<f64>();
    assert!(
        same(&got, expected),
        "{what}: {got:?}, PyTorch gives {expected:?}"
    );
}

#[track_caller]
fn assert_close(what: &str, got: &Tensor, expected: &[f64]) {
    let got = got.to_vec::<f64>();
    assert_eq!(got.len(), expected.len(), "{what}: length");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (g - e).abs() <= 1e-12 * (1.0 + e.abs()),
            "{what}: element {i} is {g}, PyTorch gives {e}"
        );
    }
}

/// `f` at `inputs` and the gradient of its sum with respect to each input.
fn value_and_grads(f: impl Fn(&[Tensor]) -> Tensor, inputs: &[Tensor]) -> (Tensor, Vec<Tensor>) {
    let leaves: Vec<Tensor> = inputs.iter().map(|t| t.detach().requires_grad()).collect();
    let y = f(&leaves);
    let refs: Vec<&Tensor> = leaves.iter().collect();
    let grads = nabla_core::grad(&[&y.sum()], &refs);
    (y.detach(), grads)
}

type Unary = fn(&Tensor) -> Tensor;

/// Values, gradients and tangents, bit for bit.
#[test]
fn elementwise_functions_at_nan_infinities_zeros_and_bounds() {
    let rows: [(&str, Unary, &[f64], &[f64]); 17] = [
        ("relu", |x| x.relu(), &RELU_Y, &RELU_GRAD),
        (
            "leaky_relu",
            |x| x.leaky_relu(0.1),
            &LEAKY_RELU_Y,
            &LEAKY_RELU_GRAD,
        ),
        ("clamp", |x| x.clamp(-1.0, 1.0), &CLAMP_Y, &CLAMP_GRAD),
        (
            "clamp_min",
            |x| x.clamp_min(-1.0),
            &CLAMP_MIN_Y,
            &CLAMP_MIN_GRAD,
        ),
        (
            "clamp_max",
            |x| x.clamp_max(1.0),
            &CLAMP_MAX_Y,
            &CLAMP_MAX_GRAD,
        ),
        (
            "clamp(-inf, inf)",
            |x| x.clamp(f64::NEG_INFINITY, f64::INFINITY),
            &CLAMP_INFINITE_Y,
            &CLAMP_INFINITE_GRAD,
        ),
        (
            "clamp(nan, 1)",
            |x| x.clamp(f64::NAN, 1.0),
            &CLAMP_NAN_MIN_Y,
            &CLAMP_NAN_MIN_GRAD,
        ),
        (
            "clamp(-1, nan)",
            |x| x.clamp(-1.0, f64::NAN),
            &CLAMP_NAN_MAX_Y,
            &CLAMP_NAN_MAX_GRAD,
        ),
        (
            "clamp_min(nan)",
            |x| x.clamp_min(f64::NAN),
            &CLAMP_MIN_NAN_Y,
            &CLAMP_MIN_NAN_GRAD,
        ),
        ("abs", |x| x.abs(), &ABS_Y, &ABS_GRAD),
        ("sign", |x| x.sign(), &SIGN_Y, &SIGN_GRAD),
        ("sigmoid", |x| x.sigmoid(), &SIGMOID_Y, &SIGMOID_GRAD),
        ("tanh", |x| x.tanh(), &TANH_Y, &TANH_GRAD),
        ("exp", |x| x.exp(), &EXP_Y, &EXP_GRAD),
        ("log", |x| x.log(), &LOG_Y, &LOG_GRAD),
        ("sqrt", |x| x.sqrt(), &SQRT_Y, &SQRT_GRAD),
        ("gelu", |x| x.gelu(), &GELU_Y, &GELU_GRAD),
    ];
    let x = tensor(&EDGES, &[EDGES.len()]);
    let mut failures = Vec::new();
    for (name, f, y, g) in rows {
        let (got_y, got_g) = value_and_grads(|v| f(&v[0]), std::slice::from_ref(&x));
        // Forward mode gives the same derivative.
        let (_, tangent) =
            nabla_core::jvp(|v| f(&v[0]), std::slice::from_ref(&x), &[x.ones_like()]).unwrap();
        for (what, got, want) in [
            ("value", got_y, y),
            ("gradient", got_g[0].clone(), g),
            ("tangent", tangent, g),
        ] {
            let got = got.to_vec::<f64>();
            if !same(&got, want) {
                failures.push(format!("{name} {what}: {got:?}, PyTorch gives {want:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn maximum_and_minimum_propagate_nan_and_send_it_the_gradient_of_both() {
    let (a, b) = (tensor(&EDGES, &[9]), tensor(&OTHER, &[9]));
    type Pair = fn(&Tensor, &Tensor) -> Tensor;
    let rows: [(&str, Pair, [&[f64]; 3]); 2] = [
        (
            "maximum",
            |a, b| a.maximum(b),
            [&MAXIMUM_Y, &MAXIMUM_GRAD_A, &MAXIMUM_GRAD_B],
        ),
        (
            "minimum",
            |a, b| a.minimum(b),
            [&MINIMUM_Y, &MINIMUM_GRAD_A, &MINIMUM_GRAD_B],
        ),
    ];
    for (name, f, [y, ga, gb]) in rows {
        let (got, grads) = value_and_grads(|v| f(&v[0], &v[1]), &[a.clone(), b.clone()]);
        // At a tie of 0 and −0 PyTorch's own result depends on the tensor's length (its scalar
        // loop returns the first operand, its vector loop the second), so zeros compare equal
        // here; nabla returns the first at every length.
        let got = got + 0.0;
        let y: Vec<f64> = y.iter().map(|v| v + 0.0).collect();
        assert_same(name, &got, &y);
        assert_same(&format!("{name} gradient of a"), &grads[0], ga);
        assert_same(&format!("{name} gradient of b"), &grads[1], gb);
    }
}

#[test]
fn reductions_propagate_nan_and_arg_reductions_point_at_the_first() {
    let rows = tensor(&ROWS, &[3, 4]);
    let cases: [(&str, Unary, &[f64], &[f64]); 4] = [
        ("max()", |t| t.max(), &MAX_ALL_Y, &MAX_ALL_GRAD),
        ("min()", |t| t.min(), &MIN_ALL_Y, &MIN_ALL_GRAD),
        ("amax", |t| t.max_dims(&[1], false), &AMAX_Y, &AMAX_GRAD),
        ("amin", |t| t.min_dims(&[1], false), &AMIN_Y, &AMIN_GRAD),
    ];
    for (name, f, y, g) in cases {
        let (got, grads) = value_and_grads(|v| f(&v[0]), std::slice::from_ref(&rows));
        assert_same(name, &got, y);
        assert_same(&format!("{name} gradient"), &grads[0], g);
    }
    assert_eq!(rows.argmax(1, false).to_vec::<i64>(), ARGMAX);
    assert_eq!(rows.argmin(1, false).to_vec::<i64>(), ARGMIN);
    assert_eq!(rows.argmax(0, false).to_vec::<i64>(), ARGMAX_COLUMNS);
}

#[test]
fn var_of_too_few_elements_is_nan_or_infinite() {
    let (v, g) = value_and_grads(|v| v[0].var(), &[tensor(&[3.0], &[1])]);
    assert_same("var of one element", &v, &VAR_ONE[..1]);
    assert_same("its gradient", &g[0], &VAR_ONE[1..]);
    let empty = Tensor::zeros(&[2, 0], nabla_core::DType::F64);
    assert_same(
        "var over an empty dim",
        &empty.var_dims(&[1], false, 1),
        &VAR_EMPTY_DIM,
    );
    let over = [
        tensor(&[3.0, 4.0], &[2])
            .var_dims(&[0], false, 2)
            .item::<f64>(),
        tensor(&[3.0, 4.0, 5.0], &[3])
            .var_dims(&[0], false, 5)
            .item::<f64>(),
    ];
    assert_same(
        "var with correction ≥ n",
        &tensor(&over, &[2]),
        &VAR_OVER_CORRECTED,
    );
}

#[test]
fn std_is_nan_with_too_few_elements_and_has_a_zero_gradient_where_flat() {
    let (v, g) = value_and_grads(|v| v[0].std(), &[tensor(&[3.0], &[1])]);
    assert_same("std of one element", &v, &STD_ONE[..1]);
    assert_same("its gradient", &g[0], &STD_ONE[1..]);
    let (v, g) = value_and_grads(|v| v[0].std(), &[tensor(&[2.0, 2.0, 2.0], &[3])]);
    assert_same("std of equal elements", &v, &STD_FLAT[..1]);
    assert_same("its gradient", &g[0], &STD_FLAT[1..]);
    let spread = det(&[3, 4], 3.0).to_vec::<f64>();
    let spread: Vec<f64> = spread
        .iter()
        .enumerate()
        .map(|(i, &v)| if (4..8).contains(&i) { 0.5 } else { v })
        .collect();
    let w = det(&[3], 4.0);
    let (v, g) = value_and_grads(
        |v| v[0].std_dims(&[1], false, 0) * &w,
        &[tensor(&spread, &[3, 4])],
    );
    assert_close("std over rows", &v, &STD_ROWS);
    assert_close("its gradient", &g[0], &STD_ROWS_GRAD);
}

#[test]
fn matmul_at_every_rank() {
    type Case<'a> = (&'a str, &'a [usize], &'a [usize], [&'a [f64]; 3]);
    let cases: [Case; 6] = [
        (
            "dot",
            &[4],
            &[4],
            [&MATMUL_DOT, &MATMUL_DOT_GRAD_A, &MATMUL_DOT_GRAD_B],
        ),
        (
            "vector · matrix",
            &[4],
            &[4, 3],
            [
                &MATMUL_VEC_MAT,
                &MATMUL_VEC_MAT_GRAD_A,
                &MATMUL_VEC_MAT_GRAD_B,
            ],
        ),
        (
            "matrix · vector",
            &[3, 4],
            &[4],
            [
                &MATMUL_MAT_VEC,
                &MATMUL_MAT_VEC_GRAD_A,
                &MATMUL_MAT_VEC_GRAD_B,
            ],
        ),
        (
            "batch · vector",
            &[2, 3, 4],
            &[4],
            [
                &MATMUL_BATCH_VEC,
                &MATMUL_BATCH_VEC_GRAD_A,
                &MATMUL_BATCH_VEC_GRAD_B,
            ],
        ),
        (
            "vector · batch",
            &[4],
            &[2, 4, 3],
            [
                &MATMUL_VEC_BATCH,
                &MATMUL_VEC_BATCH_GRAD_A,
                &MATMUL_VEC_BATCH_GRAD_B,
            ],
        ),
        (
            "broadcast batches",
            &[2, 1, 3, 4],
            &[5, 4, 2],
            [
                &MATMUL_BATCH_BROADCAST,
                &MATMUL_BATCH_BROADCAST_GRAD_A,
                &MATMUL_BATCH_BROADCAST_GRAD_B,
            ],
        ),
    ];
    for (name, sa, sb, [value, ga, gb]) in cases {
        let (a, b) = (det(sa, 1.0), det(sb, 2.0));
        let shape = a.matmul(&b).shape().to_vec();
        let w = det(&shape, 9.0);
        let (got, grads) = value_and_grads(|v| (v[0].matmul(&v[1]) * &w).sum(), &[a, b]);
        assert_close(name, &got, value);
        assert_close(&format!("{name}: gradient of a"), &grads[0], ga);
        assert_close(&format!("{name}: gradient of b"), &grads[1], gb);
    }
    let dot = det(&[4], 1.0).matmul(&det(&[4], 2.0));
    assert_eq!(dot.shape(), &[] as &[usize]);
    let err = det(&[4], 1.0).try_matmul(&det(&[3], 2.0)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "matmul: shapes [4] and [3] are incompatible (inner dims differ: 4 vs 3)"
    );
}

#[test]
fn clamp_min_clamp_max_std_and_var_refuse_integer_tensors_naming_themselves() {
    let ints = Tensor::from_vec(vec![1i64, 2], &[2]);
    for (op, result) in [
        ("clamp_min", ints.try_clamp_min(0.0)),
        ("clamp_max", ints.try_clamp_max(0.0)),
        ("std", ints.try_std()),
        ("var", ints.try_var_dims(&[0], false, 1)),
    ] {
        assert_eq!(
            result.unwrap_err().to_string(),
            format!("{op}: dtype i64 is not supported (expected f32 or f64)")
        );
    }
}
