//! Gradients of composite functions against PyTorch (float64), to 1e-10 relative. The pinned
//! values and the script that produced them: `tools/pytorch_reference/composites.py`.

#[path = "reference/pytorch_values.rs"]
mod pytorch;

use nabla_core::{DType, Tensor, grad};
use pytorch::*;

/// `det(shape, k)[i] = sin(0.37 i + k)`, the script's deterministic inputs.
fn det(shape: &[usize], k: f64) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::from_vec((0..n).map(|i| (0.37 * i as f64 + k).sin()).collect(), shape)
}

fn leaf(t: Tensor) -> Tensor {
    t.detach().requires_grad()
}

#[track_caller]
fn assert_close(got: &Tensor, expected: &[f64]) {
    let got = got.to_vec::<f64>();
    assert_eq!(got.len(), expected.len());
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        let tolerance = 1e-10 * e.abs().max(1e-3);
        assert!(
            (g - e).abs() <= tolerance,
            "element {i}: {g} vs PyTorch {e}"
        );
    }
}

fn cross_entropy(logits: &Tensor, targets: &[i64]) -> Tensor {
    let t = Tensor::from_vec(targets.to_vec(), &[targets.len(), 1]);
    -logits.log_softmax(1).gather(1, &t).mean()
}

#[test]
fn mlp_with_softmax_cross_entropy() {
    let x = leaf(det(&[4, 5], 1.0));
    let w1 = leaf(det(&[5, 6], 2.0) * 0.5);
    let b1 = leaf(det(&[6], 3.0) * 0.1);
    let w2 = leaf(det(&[6, 3], 4.0) * 0.5);
    let b2 = leaf(det(&[3], 5.0) * 0.1);
    let h = (x.matmul(&w1) + &b1).relu();
    let loss = cross_entropy(&(h.matmul(&w2) + &b2), &[0, 2, 1, 2]);
    assert_close(&loss, &MLP_LOSS);
    let g = grad(&[&loss], &[&x, &w1, &b1, &w2, &b2]);
    assert_close(&g[0], &MLP_GRAD_X);
    assert_close(&g[1], &MLP_GRAD_W1);
    assert_close(&g[2], &MLP_GRAD_B1);
    assert_close(&g[3], &MLP_GRAD_W2);
    assert_close(&g[4], &MLP_GRAD_B2);
}

#[test]
fn broadcast_normalisation() {
    let x = leaf(det(&[3, 4, 5], 6.0));
    let g = leaf(det(&[5], 7.0));
    let b = leaf(det(&[5], 8.0));
    let w = det(&[3, 4, 5], 9.0);
    let mu = x.mean_dims(&[-1], true);
    let var = x.var_dims(&[-1], true, 0);
    let y = (&x - &mu) / (var + 1e-5).sqrt() * &g + &b;
    let loss = (y * w).sum();
    assert_close(&loss, &NORM_LOSS);
    let grads = grad(&[&loss], &[&x, &g, &b]);
    assert_close(&grads[0], &NORM_GRAD_X);
    assert_close(&grads[1], &NORM_GRAD_G);
    assert_close(&grads[2], &NORM_GRAD_B);
}

#[test]
fn batched_matmul_chain() {
    let a = leaf(det(&[2, 1, 3, 4], 10.0));
    let b = leaf(det(&[3, 4, 5], 11.0));
    let c = leaf(det(&[5, 2], 12.0));
    let loss = a.matmul(&b).matmul(&c).tanh().powf(2.0).sum();
    assert_close(&loss, &BMM_LOSS);
    let g = grad(&[&loss], &[&a, &b, &c]);
    assert_close(&g[0], &BMM_GRAD_A);
    assert_close(&g[1], &BMM_GRAD_B);
    assert_close(&g[2], &BMM_GRAD_C);
}

#[test]
fn softmax_with_loss() {
    let logits = leaf(det(&[3, 4], 13.0) * 3.0);
    let loss = cross_entropy(&logits, &[1, 0, 3]);
    assert_close(&loss, &SWL_LOSS);
    assert_close(&grad(&[&loss], &[&logits])[0], &SWL_GRAD);
}

#[test]
fn every_elementwise_function() {
    let x = leaf(det(&[6], 14.0) * 0.9);
    let y = leaf(det(&[6], 15.0) * 0.5 + 2.0);
    let f = x.exp() * y.sin()
        + y.log() * x.cos()
        + y.sqrt() * x.tanh()
        + (&x * &y).sigmoid()
        + x.abs() * y.powf(1.5)
        + x.powf(3.0) / &y
        + x.maximum(&(&x * -0.5))
        + (&x * &y).minimum(&(&y - 2.5))
        + x.leaky_relu(0.1)
        + x.gelu()
        + x.clamp(-0.3, 0.4)
        + y.pow(&x);
    let f = f.sum();
    assert_close(&f, &ELEM_VALUE);
    let g = grad(&[&f], &[&x, &y]);
    assert_close(&g[0], &ELEM_GRAD_X);
    assert_close(&g[1], &ELEM_GRAD_Y);
}

#[test]
fn reductions() {
    let x = leaf(det(&[3, 4, 5], 16.0));
    let first_class = Tensor::zeros(&[3, 4, 1], DType::I64);
    let f = x.logsumexp(&[1], false).sum()
        + x.max_dims(&[2], false).sum() * 0.5
        + x.min_dims(&[0], false).sum() * 0.25
        + x.var_dims(&[0, 2], false, 1).sum()
        + x.log_softmax(-1).gather(2, &first_class).sum()
        + x.softmax(0).narrow(0, 1, 1).sum() * 2.0;
    assert_close(&f, &RED_VALUE);
    assert_close(&grad(&[&f], &[&x])[0], &RED_GRAD_X);
}
