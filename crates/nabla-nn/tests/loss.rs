//! Losses against PyTorch (float64), numerical gradients, stability and error messages. The
//! pinned values come from this script:
//!
//! ```python
//! import torch, math
//! torch.set_default_dtype(torch.float64)
//! def det(shape, k):
//!     n = math.prod(shape)
//!     return torch.tensor([math.sin(0.37*i + k) for i in range(n)]).reshape(shape)
//! F = torch.nn.functional
//! z = (det([4,5],1.0)*3).requires_grad_(); y = torch.tensor([0,2,4,1])
//! CE = F.cross_entropy(z, y); CE.backward(); CE_GRAD = z.grad
//! z.grad = None
//! CE_LS = F.cross_entropy(z, y, label_smoothing=0.1); CE_LS.backward(); CE_LS_GRAD = z.grad
//! zb = (det([3,4],2.0)*1e4).requires_grad_()
//! CE_BIG = F.cross_entropy(zb, torch.tensor([1,0,3])); CE_BIG.backward(); CE_BIG_GRAD = zb.grad
//! lp = det([3,4],3.0).requires_grad_()
//! NLL = F.nll_loss(lp, torch.tensor([3,1,0])); NLL.backward(); NLL_GRAD = lp.grad
//! p = det([2,3],4.0).requires_grad_()
//! MSE = F.mse_loss(p, det([2,3],5.0)); MSE.backward(); MSE_GRAD = p.grad
//! x = (det([2,3],6.0)*4).requires_grad_(); t = (det([2,3],7.0)*0.5+0.5).requires_grad_()
//! BCE = F.binary_cross_entropy_with_logits(x, t); BCE.backward()
//! BCE_GRAD_X, BCE_GRAD_T = x.grad, t.grad
//! x = torch.tensor([1e4, -1e4, 3e3, -3e3]).requires_grad_(); t = torch.tensor([0.0, 1.0, 1.0, 0.25])
//! BCE_BIG = F.binary_cross_entropy_with_logits(x, t); BCE_BIG.backward(); BCE_BIG_GRAD = x.grad
//! ```

mod common;

use common::{assert_close, assert_gradcheck, det};
use nabla_core::{BackwardOptions, DType, Tensor, try_grad};
use nabla_nn::loss::{
    CrossEntropyOptions, binary_cross_entropy_with_logits, cross_entropy, cross_entropy_with,
    mse_loss, nll_loss, try_binary_cross_entropy_with_logits, try_cross_entropy,
    try_cross_entropy_with, try_mse_loss, try_nll_loss,
};

const CE: [f64; 1] = [1.7741852892295786];
const CE_GRAD: [f64; 20] = [
    -0.2054644810094472,
    0.06746428050638861,
    0.06865072084445493,
    0.04681611984922099,
    0.022533359809382633,
    0.16425256335717758,
    0.054816438754358814,
    -0.2311147993981375,
    0.007758555299622715,
    0.0042872419869784155,
    0.0103280424299179,
    0.012483719422617725,
    0.022072584009698124,
    0.052850164702472925,
    -0.09773451056470667,
    0.009354703926968997,
    -0.22475037642944354,
    0.053533038129590406,
    0.08053019615940973,
    0.08133243821347443,
];
const CE_LS: [f64; 1] = [1.799286688366307];
const CE_LS_GRAD: [f64; 20] = [
    -0.1854644810094472,
    0.062464280506388616,
    0.06365072084445493,
    0.04181611984922099,
    0.017533359809382632,
    0.15925256335717758,
    0.049816438754358816,
    -0.21111479939813751,
    0.002758555299622715,
    -0.0007127580130215846,
    0.005328042429917901,
    0.0074837194226177245,
    0.017072584009698123,
    0.04785016470247293,
    -0.07773451056470668,
    0.004354703926968997,
    -0.20475037642944355,
    0.04853303812959041,
    0.07553019615940973,
    0.07633243821347442,
];
const CE_BIG: [f64; 1] = [706.7322952191465];
const CE_BIG_GRAD: [f64; 12] = [
    0.3333333333333333,
    -0.3333333333333333,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
];
const NLL: [f64; 1] = [0.7107064810834579];
const NLL_GRAD: [f64; 12] = [
    0.0,
    0.0,
    0.0,
    -0.3333333333333333,
    0.0,
    -0.3333333333333333,
    0.0,
    0.0,
    -0.3333333333333333,
    0.0,
    0.0,
    0.0,
];
const MSE: [f64; 1] = [0.4352157858691117];
const MSE_GRAD: [f64; 6] = [
    0.06737392645173675,
    -0.05016686066757832,
    -0.16091779853891888,
    -0.24988926727753516,
    -0.3050393959736839,
    -0.3189038734292902,
];
const BCE: [f64; 1] = [0.5557433661772303];
const BCE_GRAD_X: [f64; 6] = [
    -0.09700801366577598,
    -0.05945462367773977,
    -0.023833309187614615,
    -0.005627672936002266,
    0.011872864189523916,
    0.03503150136147165,
];
const BCE_GRAD_T: [f64; 6] = [
    0.18627699879928392,
    -0.057803788806667554,
    -0.2940611047674682,
    -0.49051862970099536,
    -0.620586759231409,
    -0.6666613822039459,
];
const BCE_BIG: [f64; 1] = [5187.5];
const BCE_BIG_GRAD: [f64; 4] = [0.25, -0.25, 0.0, -0.0625];

fn labels(values: &[i64]) -> Tensor {
    Tensor::from_vec(values.to_vec(), &[values.len()])
}

fn ce_inputs() -> (Tensor, Tensor) {
    (det(&[4, 5], 1.0) * 3.0, labels(&[0, 2, 4, 1]))
}

fn smoothing(label_smoothing: f64) -> CrossEntropyOptions {
    CrossEntropyOptions { label_smoothing }
}

// ---- cross-entropy -----------------------------------------------------------------------

#[test]
fn cross_entropy_matches_pytorch_forward_and_backward() {
    let (z, y) = ce_inputs();
    let z = z.requires_grad();
    let loss = cross_entropy(&z, &y);
    assert_eq!(loss.grad_fn().unwrap().name(), "CrossEntropyBackward");
    assert_close(&loss, &CE);
    loss.backward();
    assert_close(&z.grad().unwrap(), &CE_GRAD);
}

#[test]
fn cross_entropy_with_label_smoothing_matches_pytorch() {
    let (z, y) = ce_inputs();
    let z = z.requires_grad();
    let loss = cross_entropy_with(&z, &y, smoothing(0.1));
    assert_close(&loss, &CE_LS);
    loss.backward();
    assert_close(&z.grad().unwrap(), &CE_LS_GRAD);
}

#[test]
fn cross_entropy_is_stable_for_large_logits() {
    let z = (det(&[3, 4], 2.0) * 1e4).requires_grad();
    let loss = cross_entropy(&z, &labels(&[1, 0, 3]));
    assert!(loss.item::<f64>().is_finite());
    assert_close(&loss, &CE_BIG);
    loss.backward();
    assert_close(&z.grad().unwrap(), &CE_BIG_GRAD);
    let z32 = (det(&[3, 4], 2.0) * 1e4).to_dtype(DType::F32);
    let loss32 = cross_entropy(&z32, &labels(&[1, 0, 3])).item::<f32>();
    assert!((loss32 as f64 - CE_BIG[0]).abs() < 1e-3 * CE_BIG[0]);
}

#[test]
fn cross_entropy_gradcheck_with_and_without_smoothing() {
    let (z, y) = ce_inputs();
    for eps in [0.0, 0.1] {
        assert_gradcheck(
            |v| cross_entropy_with(&v[0], &y, smoothing(eps)),
            std::slice::from_ref(&z),
        );
    }
}

#[test]
fn fused_cross_entropy_equals_the_composite_to_second_order() {
    let (z, y) = ce_inputs();
    let composite = |z: &Tensor| -z.log_softmax(1).gather(1, &y.reshape(&[4, 1])).mean();
    // The squared norm of the gradient depends on the backward rule's own derivative.
    let curvature = |loss: &dyn Fn(&Tensor) -> Tensor| {
        let z = z.clone().requires_grad();
        let create = BackwardOptions {
            retain_graph: true,
            create_graph: true,
        };
        let g = try_grad(&[&loss(&z)], None, &[&z], create).unwrap();
        let norm = (&g[0] * &g[0]).sum();
        let gg = try_grad(&[&norm], None, &[&z], BackwardOptions::default()).unwrap();
        (norm.item::<f64>(), gg[0].to_vec::<f64>())
    };
    let (fused_norm, fused_gg) = curvature(&|z| cross_entropy(z, &y));
    let (norm, gg) = curvature(&composite);
    assert!((fused_norm - norm).abs() < 1e-14);
    for (a, b) in fused_gg.iter().zip(&gg) {
        assert!((a - b).abs() < 1e-14, "{a} vs {b}");
    }
    assert!((cross_entropy(&z, &y).item::<f64>() - composite(&z).item::<f64>()).abs() < 1e-14);
}

#[test]
fn cross_entropy_errors() {
    let (z, _) = ce_inputs();
    let message = |r: nabla_nn::Result<Tensor>| r.unwrap_err().to_string();
    assert_eq!(
        message(try_cross_entropy(&z, &Tensor::zeros(&[4], DType::F32))),
        "cross_entropy: the targets must be i64 class indices, not f32 (convert them with .to_dtype(DType::I64))"
    );
    assert_eq!(
        message(try_cross_entropy(&z, &labels(&[0, 5, 1, 1]))),
        "cross_entropy: target 1 is 5, outside the 5 classes 0..5"
    );
    assert_eq!(
        message(try_cross_entropy(&z, &labels(&[0, 1, -1, 1]))),
        "cross_entropy: target 2 is -1, outside the 5 classes 0..5"
    );
    assert_eq!(
        message(try_cross_entropy(&z, &labels(&[0, 1, 2]))),
        "cross_entropy: scores of shape [4, 5] need targets of shape [4], got [3]"
    );
    assert_eq!(
        message(try_cross_entropy(&det(&[5], 0.0), &labels(&[0]))),
        "cross_entropy: the scores must be [N, C], got shape [5]"
    );
    assert_eq!(
        message(try_cross_entropy(
            &Tensor::zeros(&[0, 5], DType::F64),
            &labels(&[])
        )),
        "cross_entropy: the scores are empty (shape [0, 5])"
    );
    assert_eq!(
        message(try_cross_entropy_with(
            &z,
            &labels(&[0, 1, 2, 3]),
            smoothing(1.5)
        )),
        "cross_entropy: label_smoothing must be in [0, 1], got 1.5"
    );
}

// ---- nll, mse, binary cross-entropy ------------------------------------------------------

#[test]
fn nll_loss_matches_pytorch_and_gradchecks() {
    let lp = det(&[3, 4], 3.0).requires_grad();
    let targets = labels(&[3, 1, 0]);
    let loss = nll_loss(&lp, &targets);
    assert_close(&loss, &NLL);
    loss.backward();
    assert_close(&lp.grad().unwrap(), &NLL_GRAD);
    assert_gradcheck(|v| nll_loss(&v[0], &targets), &[det(&[3, 4], 3.0)]);
    assert_eq!(
        try_nll_loss(&lp, &labels(&[4, 0, 0]))
            .unwrap_err()
            .to_string(),
        "nll_loss: target 0 is 4, outside the 4 classes 0..4"
    );
}

#[test]
fn mse_loss_matches_pytorch_and_gradchecks() {
    let p = det(&[2, 3], 4.0).requires_grad();
    let loss = mse_loss(&p, &det(&[2, 3], 5.0));
    assert_close(&loss, &MSE);
    loss.backward();
    assert_close(&p.grad().unwrap(), &MSE_GRAD);
    assert_gradcheck(
        |v| mse_loss(&v[0], &v[1]),
        &[det(&[2, 3], 4.0), det(&[2, 3], 5.0)],
    );
    assert_eq!(
        try_mse_loss(&p, &det(&[3, 2], 5.0))
            .unwrap_err()
            .to_string(),
        "mse_loss: input and target must have the same shape, got [2, 3] and [3, 2]"
    );
}

#[test]
fn binary_cross_entropy_with_logits_matches_pytorch_and_gradchecks() {
    let x = (det(&[2, 3], 6.0) * 4.0).requires_grad();
    let t = (det(&[2, 3], 7.0) * 0.5 + 0.5).requires_grad();
    let loss = binary_cross_entropy_with_logits(&x, &t);
    assert_close(&loss, &BCE);
    loss.backward();
    assert_close(&x.grad().unwrap(), &BCE_GRAD_X);
    assert_close(&t.grad().unwrap(), &BCE_GRAD_T);
    assert_gradcheck(
        |v| binary_cross_entropy_with_logits(&v[0], &v[1]),
        &[det(&[2, 3], 6.0) * 4.0, det(&[2, 3], 7.0) * 0.5 + 0.5],
    );
    assert_eq!(
        try_binary_cross_entropy_with_logits(&x, &t.to_dtype(DType::F32))
            .unwrap_err()
            .to_string(),
        "binary_cross_entropy_with_logits: input and target must share a float dtype, got f64 and f32"
    );
}

#[test]
fn binary_cross_entropy_with_logits_is_stable_and_exact_at_zero() {
    let x = Tensor::from_vec(vec![1e4f64, -1e4, 3e3, -3e3], &[4]).requires_grad();
    let t = Tensor::from_vec(vec![0.0f64, 1.0, 1.0, 0.25], &[4]);
    let loss = binary_cross_entropy_with_logits(&x, &t);
    assert_close(&loss, &BCE_BIG);
    loss.backward();
    assert_close(&x.grad().unwrap(), &BCE_BIG_GRAD);
    // At x = 0 the gradient is σ(0) − t over N, which a relu-based max(x, 0) would get wrong.
    let zero = Tensor::zeros(&[2], DType::F64).requires_grad();
    let t = Tensor::from_vec(vec![1.0f64, 0.25], &[2]);
    binary_cross_entropy_with_logits(&zero, &t).backward();
    assert_eq!(zero.grad().unwrap().to_vec::<f64>(), [-0.25, 0.125]);
}

#[path = "reference/cross_entropy_hessian.rs"]
mod second_order;

/// The logits and targets of `tools/pytorch_reference/cross_entropy_hessian.py`.
fn second_order_inputs() -> (Tensor, Tensor, Tensor) {
    (
        det(&[3, 4], 2.0) * 2.0,
        Tensor::from_vec(vec![1i64, 3, 0], &[3]),
        det(&[3, 4], 5.0),
    )
}

#[test]
fn cross_entropy_hessian_and_forward_mode_match_pytorch() {
    let (logits, targets, tangent) = second_order_inputs();
    for (smoothing, hessian, derivative) in [
        (0.0, &second_order::CE_HESSIAN, &second_order::CE_JVP),
        (
            0.1,
            &second_order::CE_HESSIAN_SMOOTHED,
            &second_order::CE_JVP_SMOOTHED,
        ),
    ] {
        let options = CrossEntropyOptions {
            label_smoothing: smoothing,
        };
        let loss = |z: &Tensor| cross_entropy_with(z, &targets, options);
        let h = nabla_core::hessian(loss, &logits).unwrap();
        assert_eq!(h.shape(), &[3, 4, 3, 4]);
        assert_close(&h, hessian);
        let (_, along) = nabla_core::jvp(
            |v| loss(&v[0]),
            std::slice::from_ref(&logits),
            std::slice::from_ref(&tangent),
        )
        .unwrap();
        assert_close(&along, derivative);
    }
}

#[test]
fn node_by_node_check_covers_cross_entropy() {
    let (logits, targets, _) = second_order_inputs();
    let logits = logits.requires_grad();
    let checks = nabla_core::check_nodes(
        || cross_entropy(&logits.tanh(), &targets),
        nabla_core::GradcheckOptions::default(),
    )
    .unwrap();
    let names: Vec<&str> = checks.iter().map(|c| c.name).collect();
    assert_eq!(names, ["TanhBackward", "CrossEntropyBackward"]);
    for check in &checks {
        assert!(
            check.outcome.as_ref().is_some_and(|o| o.passed()),
            "{check}"
        );
    }
}
