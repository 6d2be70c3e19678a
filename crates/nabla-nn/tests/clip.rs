//! Gradient clipping against `torch.nn.utils`, pinned from:
//!
//! ```python
//! import torch
//! GW = [[3.0, -4.0, 1.0], [0.5, 2.0, -1.5]]; GB = [2.0, -0.25]
//! def make(gw, gb, dtype=torch.float64):
//!     w = torch.zeros(2, 3, dtype=dtype, requires_grad=True)
//!     b = torch.zeros(2, dtype=dtype, requires_grad=True)
//!     w.grad = torch.tensor(gw, dtype=dtype); b.grad = torch.tensor(gb, dtype=dtype)
//!     return w, b
//! ```

use nabla_core::{DType, Tensor};
use nabla_nn::clip::{clip_grad_norm, clip_grad_value};

const GW: [f64; 6] = [3.0, -4.0, 1.0, 0.5, 2.0, -1.5];
const GB: [f64; 2] = [2.0, -0.25];

fn make(dtype: DType) -> Vec<(String, Tensor)> {
    let w = Tensor::zeros(&[2, 3], dtype).requires_grad();
    let b = Tensor::zeros(&[2], dtype).requires_grad();
    w.set_grad(Some(Tensor::from_vec(GW.to_vec(), &[2, 3]).to_dtype(dtype)));
    b.set_grad(Some(Tensor::from_vec(GB.to_vec(), &[2]).to_dtype(dtype)));
    vec![("w".into(), w), ("b".into(), b)]
}

fn grads(params: &[(String, Tensor)]) -> Vec<f64> {
    params
        .iter()
        .flat_map(|(_, p)| p.grad().unwrap().to_f64_vec())
        .collect()
}

fn assert_close(got: &[f64], want: &[f64], tol: f64) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "element {i}: got {g}, want {w}");
    }
}

/// `clip_grad_norm_([w, b], max_norm=1.0)` on `make(GW, GB)`: the norm and the clipped grads.
const NORM: f64 = 6.046693311223912;
const CLIPPED: [f64; 8] = [
    0.4961388563055653,
    -0.6615184750740871,
    0.16537961876852178,
    0.08268980938426089,
    0.33075923753704356,
    -0.24806942815278266,
    0.33075923753704356,
    -0.041344904692130445,
];

#[test]
fn clip_grad_norm_scales_all_gradients_together_like_torch() {
    let params = make(DType::F64);
    assert_eq!(clip_grad_norm(&params, 1.0).unwrap(), NORM);
    assert_close(&grads(&params), &CLIPPED, 1e-15);
}

#[test]
fn clip_grad_norm_in_f32_matches_torch_in_f32() {
    // make(GW, GB, torch.float32): the norm is 6.046693325042725 and the clipped grads are
    // CLIPPED rounded to f32 (nabla accumulates the norm in f64, hence the tolerance).
    let params = make(DType::F32);
    let norm = clip_grad_norm(&params, 1.0).unwrap();
    assert!((norm - 6.046693325042725).abs() < 1e-6);
    assert_close(
        &grads(&params),
        &[
            0.4961388409137726,
            -0.6615184545516968,
            0.1653796136379242,
            0.0826898068189621,
            0.3307592272758484,
            -0.2480694204568863,
            0.3307592272758484,
            -0.04134490340948105,
        ],
        1e-7,
    );
}

#[test]
fn clip_grad_norm_leaves_small_gradients_alone() {
    // clip_grad_norm_([w, b], max_norm=10.0) returns the same norm and changes nothing.
    let params = make(DType::F64);
    assert_eq!(clip_grad_norm(&params, 10.0).unwrap(), NORM);
    assert_eq!(grads(&params), [GW.as_slice(), GB.as_slice()].concat());
}

#[test]
fn clip_grad_norm_ignores_missing_gradients_and_scales_tied_ones_once() {
    let params = make(DType::F64);
    let tied = vec![
        params[0].clone(),
        ("w.tied".to_string(), params[0].1.clone()),
    ];
    let unused = Tensor::zeros(&[4], DType::F64).requires_grad();
    let mut all = tied;
    all.push(("unused".into(), unused));
    // The tied weight counts twice in the norm, as in PyTorch, but is scaled once.
    let norm = clip_grad_norm(&all, 1.0).unwrap();
    let w_sq: f64 = GW.iter().map(|v| v * v).sum();
    assert_eq!(norm, (2.0 * w_sq).sqrt());
    let scale = 1.0 / (norm + 1e-6);
    let want: Vec<f64> = GW.iter().map(|v| v * scale).collect();
    assert_close(&params[0].1.grad().unwrap().to_vec::<f64>(), &want, 1e-15);
}

#[test]
fn clip_grad_norm_handles_a_non_contiguous_gradient() {
    let w = Tensor::zeros(&[3, 2], DType::F64).requires_grad();
    w.set_grad(Some(
        Tensor::from_vec(vec![3.0f64, 0.0, 0.0, 4.0, 0.0, 0.0], &[2, 3]).t(),
    ));
    assert_eq!(
        clip_grad_norm(&[("w".into(), w.clone())], 0.5).unwrap(),
        5.0
    );
    let g = w.grad().unwrap().to_vec::<f64>();
    let s = 0.5 / (5.0 + 1e-6);
    assert_eq!(g, vec![3.0 * s, 4.0 * s, 0.0, 0.0, 0.0, 0.0]);
}

#[test]
fn clip_grad_value_clamps_each_element_like_torch() {
    // clip_grad_value_([w, b], clip_value=1.2)
    let params = make(DType::F64);
    clip_grad_value(&params, 1.2).unwrap();
    assert_eq!(grads(&params), [1.2, -1.2, 1.0, 0.5, 1.2, -1.2, 1.2, -0.25]);
}

#[test]
fn invalid_limits_are_rejected() {
    let params = make(DType::F64);
    assert_eq!(
        clip_grad_norm(&params, -1.0).unwrap_err().to_string(),
        "clip_grad_norm: max_norm must be a non-negative number, got -1"
    );
    assert_eq!(
        clip_grad_value(&params, f64::NAN).unwrap_err().to_string(),
        "clip_grad_value: clip must be a non-negative number, got NaN"
    );
    assert_eq!(grads(&params), [GW.as_slice(), GB.as_slice()].concat());
}
