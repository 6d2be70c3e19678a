//! Higher-order derivatives, forward mode, Jacobians and Hessians, custom functions and
//! checkpointing, against closed forms and PyTorch.

#[path = "support/cube.rs"]
mod cube;

use cube::cube;
use nabla_core::{
    BackwardOptions, Context, DType, Function, GradcheckOptions, JacobianMode, Result, Tensor,
    apply_function, checkpoint, grad, gradcheck, gradgradcheck, hessian, jacobian, jvp, try_grad,
};

fn det(shape: &[usize], k: f64) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::from_vec((0..n).map(|i| (0.37 * i as f64 + k).sin()).collect(), shape)
}

#[track_caller]
fn assert_close(got: &Tensor, expected: &[f64], tolerance: f64) {
    let got = got.to_f64_vec();
    assert_eq!(got.len(), expected.len());
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (g - e).abs() <= tolerance * (1.0 + e.abs()),
            "element {i}: {g} vs {e}"
        );
    }
}

#[test]
fn hessian_of_a_quadratic_form_is_a_plus_a_transposed() {
    let a = det(&[3, 3], 1.0);
    let x = det(&[3], 2.0);
    let f = |x: &Tensor| x.unsqueeze(0).matmul(&a).matmul(&x.unsqueeze(1)).sum();
    let expected = (&a + &a.t()).to_vec::<f64>();
    assert_close(&hessian(f, &x).unwrap(), &expected, 1e-14);
}

#[test]
fn hessian_of_rosenbrock() {
    let (x0, y0) = (-1.2, 1.0);
    let p = Tensor::from_vec(vec![x0, y0], &[2]);
    let rosenbrock = |p: &Tensor| {
        let (x, y) = (p.narrow(0, 0, 1), p.narrow(0, 1, 1));
        ((1.0 - &x).powf(2.0) + (y - x.powf(2.0)).powf(2.0) * 100.0).sum()
    };
    let expected = [
        2.0 - 400.0 * (y0 - x0 * x0) + 800.0 * x0 * x0,
        -400.0 * x0,
        -400.0 * x0,
        200.0,
    ];
    assert_close(&hessian(rosenbrock, &p).unwrap(), &expected, 1e-12);
}

#[test]
fn hessian_of_logsumexp_is_diag_p_minus_p_p_transposed() {
    let x = det(&[4], 3.0) * 2.0;
    let p = x.softmax(0).to_vec::<f64>();
    let expected: Vec<f64> = (0..16)
        .map(|k| {
            let (i, j) = (k / 4, k % 4);
            if i == j {
                p[i] - p[i] * p[j]
            } else {
                -p[i] * p[j]
            }
        })
        .collect();
    assert_close(
        &hessian(|x| x.logsumexp(&[0], false), &x).unwrap(),
        &expected,
        1e-14,
    );
}

/// PyTorch 2.15, float64:
/// ```python
/// x = det([4,3],20); t = det([4,1],22)
/// w0 = torch.cat([(det([3,2],21)*0.5).flatten(), (det([2,1],23)*0.5).flatten()])
/// def f(w):
///     W1 = w[:6].reshape(3,2); W2 = w[6:].reshape(2,1)
///     return ((torch.tanh(x@W1)@W2 - t)**2).mean()
/// torch.autograd.functional.hessian(f, w0).flatten()
/// ```
const MLP_HESSIAN: [f64; 64] = [
    0.07701962133461535,
    0.2244128181355378,
    0.06962470236433509,
    0.22100056696637904,
    0.05280640655328611,
    0.1876769258188478,
    -0.60559698164446,
    0.03934448849496359,
    0.2244128181355378,
    0.34107011117345515,
    0.22100056696637904,
    0.3385051382108194,
    0.1876769258188478,
    0.29012508279073895,
    -0.19555187975888502,
    -0.4370709568959298,
    0.06962470236433503,
    0.22100056696637904,
    0.08082230660532445,
    0.2363931173338008,
    0.08108099080186341,
    0.21979096824033756,
    -0.7101445080384292,
    0.06911048036428093,
    0.22100056696637901,
    0.33850513821081946,
    0.23639311733380078,
    0.36615565700588465,
    0.2197909682403376,
    0.3442487253390404,
    -0.17748557827623695,
    -0.5181163451326382,
    0.0528064065532861,
    0.18767692581884782,
    0.08108099080186344,
    0.21979096824033761,
    0.09838164331353118,
    0.22215733419654046,
    -0.7185773067078834,
    0.08952269292821238,
    0.1876769258188478,
    0.29012508279073895,
    0.2197909682403376,
    0.3442487253390404,
    0.22215733419654046,
    0.35177991785647755,
    -0.135397436396387,
    -0.5290371166492949,
    -0.60559698164446,
    -0.19555187975888508,
    -0.7101445080384293,
    -0.17748557827623695,
    -0.7185773067078836,
    -0.13539743639638696,
    0.1444702671773031,
    -0.009864205119879683,
    0.03934448849496358,
    -0.43707095689592973,
    0.06911048036428093,
    -0.5181163451326382,
    0.08952269292821238,
    -0.5290371166492949,
    -0.009864205119879683,
    0.0641889680711467,
];

#[test]
fn hessian_of_an_mlp_loss_matches_pytorch() {
    let x = det(&[4, 3], 20.0);
    let t = det(&[4, 1], 22.0);
    let w0 = Tensor::cat(
        &[
            &(det(&[3, 2], 21.0) * 0.5).reshape(&[6]),
            &(det(&[2, 1], 23.0) * 0.5).reshape(&[2]),
        ],
        0,
    );
    let loss = |w: &Tensor| {
        let w1 = w.narrow(0, 0, 6).reshape(&[3, 2]);
        let w2 = w.narrow(0, 6, 2).reshape(&[2, 1]);
        (x.matmul(&w1).tanh().matmul(&w2) - &t).powf(2.0).mean()
    };
    assert_close(&hessian(loss, &w0).unwrap(), &MLP_HESSIAN, 1e-12);
    // Reverse over reverse agrees with forward over reverse.
    let w = w0.detach().requires_grad();
    let create = BackwardOptions {
        retain_graph: true,
        create_graph: true,
    };
    let g = try_grad(&[&loss(&w)], None, &[&w], create)
        .unwrap()
        .remove(0);
    let keep = BackwardOptions {
        retain_graph: true,
        create_graph: false,
    };
    let rows: Vec<Tensor> = (0..8)
        .map(|i| {
            try_grad(&[&g.narrow(0, i, 1).sum()], None, &[&w], keep)
                .unwrap()
                .remove(0)
        })
        .collect();
    assert_close(
        &Tensor::stack(&rows.iter().collect::<Vec<_>>(), 0),
        &MLP_HESSIAN,
        1e-12,
    );
}

#[test]
fn jacobian_modes_agree() {
    let x = det(&[3, 2], 4.0);
    let f = |x: &Tensor| x.matmul(&det(&[2, 4], 5.0)).tanh().softmax(1) * x.sum_dims(&[1], true);
    let reverse = jacobian(f, &x, JacobianMode::Reverse).unwrap();
    let forward = jacobian(f, &x, JacobianMode::Forward).unwrap();
    let auto = jacobian(f, &x, JacobianMode::Auto).unwrap();
    assert_eq!(reverse.shape(), &[3, 4, 3, 2]);
    assert_close(&forward, &reverse.to_vec::<f64>(), 1e-14);
    assert_close(&auto, &reverse.to_vec::<f64>(), 1e-14);
}

#[test]
fn gradient_penalty_differentiates_through_a_gradient() {
    // L(w) = |∂/∂x (w·x)²|² = |2(w·x)w|²; its gradient in w, against the closed form.
    let x = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).requires_grad();
    let w = Tensor::from_vec(vec![0.5f64, -1.5], &[2]).requires_grad();
    let create = BackwardOptions {
        retain_graph: true,
        create_graph: true,
    };
    let inner = (&w * &x).sum().powf(2.0);
    let gx = try_grad(&[&inner], None, &[&x], create).unwrap().remove(0);
    let penalty = (&gx * &gx).sum();
    let gw = grad(&[&penalty], &[&w]).remove(0);
    // With s = w·x = -2.5: L = 4 s² |w|², dL/dw = 8 s |w|² x + 8 s² w.
    let (s, norm2) = (-2.5, 0.25 + 2.25);
    let expected = [
        8.0 * s * norm2 * 1.0 + 8.0 * s * s * 0.5,
        8.0 * s * norm2 * 2.0 + 8.0 * s * s * -1.5,
    ];
    assert_close(&gw, &expected, 1e-14);
}

/// max(x, 0) clamped at 6, whose gradient passes straight through inside [-1, 7] (a
/// straight-through estimator), with a forward-mode rule to match; the second output is the
/// non-differentiable mask of clamped entries.
struct ClampedRelu;

impl Function for ClampedRelu {
    fn name(&self) -> &'static str {
        "ClampedReluBackward"
    }
    fn forward(&self, ctx: &mut Context, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let x = &inputs[0];
        ctx.save_for_backward(&[x]);
        ctx.mark_non_differentiable(1);
        let y = x.clamp(0.0, 6.0);
        let clamped = y.ne(x);
        Ok(vec![y, clamped])
    }
    fn backward(&self, ctx: &Context, grad_outputs: &[Tensor]) -> Vec<Option<Tensor>> {
        let x = &ctx.saved_tensors()[0];
        vec![Some(
            &grad_outputs[0] * (x.ge_scalar(-1.0) * x.le_scalar(7.0)),
        )]
    }
    fn jvp(&self, ctx: &Context, tangents: &[Tensor]) -> Option<Vec<Tensor>> {
        let x = &ctx.saved_tensors()[0];
        Some(vec![
            &tangents[0] * (x.ge_scalar(-1.0) * x.le_scalar(7.0)),
            x.zeros_like(),
        ])
    }
}

#[test]
fn custom_function_forward_backward_and_jvp() {
    let x = Tensor::from_vec(vec![-3.0f64, -0.5, 2.0, 6.5, 9.0], &[5]).requires_grad();
    let outputs = apply_function(ClampedRelu, &[&x]).unwrap();
    let (y, clamped) = (&outputs[0], &outputs[1]);
    assert_eq!(y.grad_fn().unwrap().name(), "ClampedReluBackward");
    assert!(clamped.grad_fn().is_none(), "marked non-differentiable");
    assert_eq!(clamped.to_vec::<f64>(), vec![1.0, 1.0, 0.0, 1.0, 1.0]);
    (y * 2.0).sum().backward();
    assert_eq!(
        x.grad().unwrap().to_vec::<f64>(),
        vec![0.0, 2.0, 2.0, 2.0, 0.0]
    );
    let v = Tensor::ones(&[5], DType::F64);
    let (_, tangent) = jvp(
        |v| apply_function(ClampedRelu, &[&v[0]]).unwrap().remove(0),
        &[x.detach()],
        &[v],
    )
    .unwrap();
    assert_eq!(tangent.to_vec::<f64>(), vec![0.0, 1.0, 1.0, 1.0, 0.0]);
}

#[test]
fn gradcheck_works_on_custom_functions_and_catches_straight_through() {
    let x = det(&[4], 6.0);
    let cube_of_first = |v: &[Tensor]| cube(&v[0]);
    assert!(
        gradcheck(
            cube_of_first,
            std::slice::from_ref(&x),
            GradcheckOptions::default()
        )
        .unwrap()
        .passed()
    );
    let ste = |v: &[Tensor]| apply_function(ClampedRelu, &[&v[0]]).unwrap().remove(0);
    let outside = Tensor::from_vec(vec![-0.5f64, 6.5], &[2]);
    assert!(
        !gradcheck(ste, &[outside], GradcheckOptions::default())
            .unwrap()
            .passed(),
        "a straight-through gradient is not the true one"
    );
}

#[test]
fn forward_mode_without_a_rule_is_a_clear_error() {
    struct NoJvp;
    impl Function for NoJvp {
        fn name(&self) -> &'static str {
            "NoJvpBackward"
        }
        fn forward(&self, _: &mut Context, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
            Ok(vec![inputs[0].exp()])
        }
        fn backward(&self, _: &Context, g: &[Tensor]) -> Vec<Option<Tensor>> {
            vec![Some(g[0].clone())]
        }
    }
    let (x, v) = (Tensor::scalar(1.0f64), Tensor::scalar(1.0f64));
    let err = jvp(
        |v| apply_function(NoJvp, &[&v[0]]).unwrap().remove(0),
        &[x],
        &[v],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "NoJvpBackward: has no forward-mode (JVP) rule"
    );
}

/// Bytes of all tensors the graph behind `t` saved for backward.
fn saved_bytes(t: &Tensor) -> usize {
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![t.grad_fn().unwrap()];
    let mut total = 0;
    while let Some(node) = stack.pop() {
        if !seen.insert(node.id()) {
            continue;
        }
        total += node
            .saved_shapes()
            .iter()
            .map(|s| s.iter().product::<usize>() * 8)
            .sum::<usize>();
        stack.extend(node.next_functions().iter().flatten().cloned());
    }
    total
}

#[test]
fn checkpointing_gives_the_same_gradients_with_less_saved() {
    let depth = 8;
    let weights: Vec<Tensor> = (0..depth)
        .map(|i| (det(&[64, 64], i as f64) * 0.2).requires_grad())
        .collect();
    let x = det(&[32, 64], 100.0);
    let block = |h: &Tensor, w: &Tensor| h.matmul(w).tanh();
    let plain = weights.iter().fold(x.clone(), |h, w| block(&h, w)).sum();
    let mut h = x.clone();
    for pair in weights.chunks(2) {
        let (w0, w1) = (pair[0].clone(), pair[1].clone());
        h = checkpoint(move |v| block(&block(&v[0], &v[1]), &v[2]), &[&h, &w0, &w1]).unwrap();
    }
    let checkpointed = h.sum();
    let refs: Vec<&Tensor> = weights.iter().collect();
    let (saved_plain, saved_checkpointed) = (saved_bytes(&plain), saved_bytes(&checkpointed));
    let g_plain = grad(&[&plain], &refs);
    let g_checkpointed = grad(&[&checkpointed], &refs);
    for (a, b) in g_plain.iter().zip(&g_checkpointed) {
        assert_close(a, &b.to_vec::<f64>(), 1e-13);
    }
    // Plain: every layer keeps its input, weight and output. Checkpointed: each 2-layer
    // segment keeps only its input and two weights.
    assert_eq!(saved_plain, depth * (32 * 64 + 64 * 64 + 32 * 64) * 8);
    assert_eq!(saved_checkpointed, depth / 2 * (32 * 64 + 2 * 64 * 64) * 8);
}

/// `x²` with a planted mistake in its backward rule (3x instead of 2x).
struct WrongSquare;

impl Function for WrongSquare {
    fn name(&self) -> &'static str {
        "WrongSquareBackward"
    }
    fn forward(&self, ctx: &mut Context, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        ctx.save_for_backward(&[&inputs[0]]);
        Ok(vec![&inputs[0] * &inputs[0]])
    }
    fn backward(&self, ctx: &Context, g: &[Tensor]) -> Vec<Option<Tensor>> {
        vec![Some(&g[0] * &ctx.saved_tensors()[0] * 3.0)]
    }
}

#[test]
fn node_by_node_check_names_the_wrong_node_and_no_other() {
    let x = (det(&[4, 3], 30.0) * 0.5)
        .to_dtype(DType::F32)
        .requires_grad();
    let w = (det(&[3, 2], 31.0) * 0.5)
        .to_dtype(DType::F32)
        .requires_grad();
    let labels = Tensor::from_vec(vec![0i64, 1, 1, 0], &[4, 1]);
    let checks = nabla_core::check_nodes(
        || {
            let h = x.matmul(&w).tanh();
            let squared = apply_function(WrongSquare, &[&h]).unwrap().remove(0);
            let logits = (squared + &h).softmax(1).log();
            -logits.gather(1, &labels).mean()
        },
        GradcheckOptions::default(),
    )
    .unwrap();
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| c.outcome.as_ref().is_some_and(|o| !o.passed()))
        .map(|c| c.name)
        .collect();
    assert_eq!(failed, ["WrongSquareBackward"], "{checks:#?}");
    assert!(checks.len() > 8, "the whole graph was checked: {checks:#?}");
    assert!(
        checks.iter().all(|c| c.outcome.is_some()),
        "every node replayable"
    );
}

#[test]
fn second_derivatives_pass_through_a_custom_function() {
    let x = det(&[4], 6.0);
    let outcome = gradgradcheck(
        |v| cube(&v[0]),
        std::slice::from_ref(&x),
        GradcheckOptions::default(),
    );
    assert!(outcome.as_ref().unwrap().passed(), "{}", outcome.unwrap());
    // The Hessian of Σ x³ is diag(6x).
    let h = hessian(|x| cube(x).sum(), &x).unwrap();
    let xs = x.to_vec::<f64>();
    let expected: Vec<f64> = (0..16)
        .map(|k| if k / 4 == k % 4 { 6.0 * xs[k / 4] } else { 0.0 })
        .collect();
    assert_close(&h, &expected, 1e-12);
    // Reverse over reverse.
    let leaf = x.requires_grad();
    let create = BackwardOptions {
        retain_graph: true,
        create_graph: true,
    };
    let g = try_grad(&[&cube(&leaf).sum()], None, &[&leaf], create)
        .unwrap()
        .remove(0);
    let gg = grad(&[&g.sum()], &[&leaf]).remove(0);
    let expected: Vec<f64> = xs.iter().map(|v| 6.0 * v).collect();
    assert_close(&gg, &expected, 1e-12);
}

/// `eˣ` saving its output, and `(x², x·y)` with two outputs saving one of them: backward reads
/// the saved outputs with their graph.
struct ExpSavingOutput;

impl Function for ExpSavingOutput {
    fn name(&self) -> &'static str {
        "ExpSavingOutputBackward"
    }
    fn forward(&self, ctx: &mut Context, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let y = inputs[0].exp();
        ctx.save_for_backward(&[&y]);
        Ok(vec![y])
    }
    fn backward(&self, ctx: &Context, g: &[Tensor]) -> Vec<Option<Tensor>> {
        vec![Some(&g[0] * &ctx.saved_tensors()[0])]
    }
    fn jvp(&self, ctx: &Context, t: &[Tensor]) -> Option<Vec<Tensor>> {
        Some(vec![&t[0] * &ctx.saved_tensors()[0]])
    }
}

struct SquareAndProduct;

impl Function for SquareAndProduct {
    fn name(&self) -> &'static str {
        "SquareAndProductBackward"
    }
    fn forward(&self, ctx: &mut Context, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let (x, y) = (&inputs[0], &inputs[1]);
        let square = x * x;
        ctx.save_for_backward(&[x, y, &square]);
        Ok(vec![square.clone(), x * y])
    }
    fn backward(&self, ctx: &Context, g: &[Tensor]) -> Vec<Option<Tensor>> {
        let [x, y, square] = ctx.saved_tensors() else {
            unreachable!()
        };
        // d(x²)/dx = 2x² / x, through the saved output.
        vec![
            Some(&g[0] * (square * 2.0 / x) + &g[1] * y),
            Some(&g[1] * x),
        ]
    }
}

#[test]
fn saved_outputs_keep_their_graph_too() {
    let x = det(&[3], 1.0);
    let exp = |v: &[Tensor]| apply_function(ExpSavingOutput, &[&v[0]]).unwrap().remove(0);
    let outcome =
        gradgradcheck(exp, std::slice::from_ref(&x), GradcheckOptions::default()).unwrap();
    assert!(outcome.passed(), "{outcome}");
    let h = hessian(|x| exp(std::slice::from_ref(x)).sum(), &x).unwrap();
    let xs = x.to_vec::<f64>();
    let expected: Vec<f64> = (0..9)
        .map(|k| if k / 3 == k % 3 { xs[k / 3].exp() } else { 0.0 })
        .collect();
    assert_close(&h, &expected, 1e-12);

    let both = |v: &[Tensor]| {
        let out = apply_function(SquareAndProduct, &[&v[0], &v[1]]).unwrap();
        &out[0] * 0.7 + &out[1] * 1.3
    };
    let inputs = [det(&[3], 2.0) + 2.0, det(&[3], 3.0)];
    let outcome = gradcheck(both, &inputs, GradcheckOptions::default()).unwrap();
    assert!(outcome.passed(), "{outcome}");
    let outcome = gradgradcheck(both, &inputs, GradcheckOptions::default()).unwrap();
    assert!(outcome.passed(), "{outcome}");
}

/// A linear layer's parameters, captured by the checkpointed closure as a layer's are.
fn layer() -> (Tensor, Tensor) {
    (
        (det(&[3, 4], 40.0) * 0.5).requires_grad(),
        (det(&[3], 41.0) * 0.1).requires_grad(),
    )
}

#[test]
fn checkpoint_gives_captured_parameters_their_gradients() {
    let (w, b) = layer();
    let x = det(&[2, 4], 42.0).requires_grad();
    let forward = |x: &Tensor, w: &Tensor, b: &Tensor| x.linear(w, Some(b)).tanh().powf(2.0).sum();
    let plain = grad(&[&forward(&x, &w, &b)], &[&x, &w, &b]);
    let (cw, cb) = (w.clone(), b.clone());
    let y = checkpoint(
        move |v| v[0].linear(&cw, Some(&cb)).tanh().powf(2.0).sum(),
        &[&x],
    )
    .unwrap();
    assert_eq!(y.grad_fn().unwrap().name(), "CheckpointBackward");
    let retain = BackwardOptions {
        retain_graph: true,
        create_graph: false,
    };
    let checkpointed = try_grad(&[&y], None, &[&x, &w, &b], retain).unwrap();
    for (a, c) in plain.iter().zip(&checkpointed) {
        assert_close(c, &a.to_vec::<f64>(), 1e-14);
    }
    // And through `.backward()`, into every `.grad`.
    y.backward();
    for (t, a) in [&x, &w, &b].iter().zip(&plain) {
        assert_close(&t.grad().unwrap(), &a.to_vec::<f64>(), 1e-14);
    }
}

#[test]
fn checkpoint_has_second_derivatives() {
    let (w, b) = layer();
    let segment = move |v: &[Tensor]| v[0].linear(&w, Some(&b)).tanh();
    let through = {
        let segment = segment.clone();
        move |v: &[Tensor]| checkpoint(segment.clone(), &[&v[0]]).unwrap()
    };
    let x = det(&[2, 4], 43.0);
    let outcome = gradgradcheck(
        &through,
        std::slice::from_ref(&x),
        GradcheckOptions::default(),
    )
    .unwrap();
    assert!(outcome.passed(), "{outcome}");
    let plain = hessian(|x| segment(std::slice::from_ref(x)).powf(2.0).sum(), &x).unwrap();
    let checkpointed = hessian(|x| through(std::slice::from_ref(x)).powf(2.0).sum(), &x).unwrap();
    assert_close(&checkpointed, &plain.to_vec::<f64>(), 1e-13);
    // Second derivatives with respect to a captured weight: ∂²/∂w² of Σ tanh(x·wᵀ)², by reverse
    // over reverse, as without checkpointing.
    let x = det(&[2, 2], 44.0);
    let w = (det(&[2, 2], 45.0) * 0.5).requires_grad();
    let create = BackwardOptions {
        retain_graph: true,
        create_graph: true,
    };
    let second = |checkpointed: bool| {
        let loss = if checkpointed {
            let cw = w.clone();
            checkpoint(move |v| v[0].linear(&cw, None).tanh(), &[&x]).unwrap()
        } else {
            x.linear(&w, None).tanh()
        }
        .powf(2.0)
        .sum();
        let g = try_grad(&[&loss], None, &[&w], create).unwrap().remove(0);
        grad(&[&(&g * &g).sum()], &[&w]).remove(0)
    };
    let (plain, checkpointed) = (second(false), second(true));
    assert!(plain.to_vec::<f64>().iter().any(|v| v.abs() > 0.1));
    assert_close(&checkpointed, &plain.to_vec::<f64>(), 1e-13);
}

#[test]
fn node_by_node_check_passes_correct_custom_functions_and_checkpoints() {
    let (w, b) = layer();
    let x = det(&[2, 4], 46.0).requires_grad();
    let checks = nabla_core::check_nodes(
        || {
            let h = checkpoint(move |v| v[0].linear(&w, Some(&b)).tanh(), &[&x]).unwrap();
            let out = apply_function(SquareAndProduct, &[&h, &cube(&h)]).unwrap();
            (&out[0] + &out[1]).sum()
        },
        GradcheckOptions::default(),
    )
    .unwrap();
    let names: Vec<&str> = checks.iter().map(|c| c.name).collect();
    for expected in [
        "CheckpointBackward",
        "CubeBackward",
        "SquareAndProductBackward",
    ] {
        assert!(names.contains(&expected), "{names:?}");
    }
    for check in &checks {
        assert!(
            check.outcome.as_ref().is_some_and(|o| o.passed()),
            "{check}"
        );
    }
}

#[test]
fn hooks_of_a_checkpoint_input_see_its_whole_gradient_once() {
    let x = det(&[3], 47.0).requires_grad();
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let run = |checkpointed: bool| {
        let h = &x * 2.0;
        h.retain_grad();
        let counter = calls.clone();
        h.register_hook(move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            None
        });
        let segment = |v: &[Tensor]| v[0].sin().sum();
        let y = if checkpointed {
            checkpoint(segment, &[&h]).unwrap()
        } else {
            segment(std::slice::from_ref(&h))
        };
        (y + h.powf(2.0).sum()).backward();
        h.grad().unwrap()
    };
    let plain = run(false);
    let checkpointed = run(true);
    assert_close(&checkpointed, &plain.to_vec::<f64>(), 1e-15);
    assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 2);
}

#[test]
fn a_segment_that_changes_between_runs_is_an_error_not_a_panic() {
    let x = det(&[4], 48.0).requires_grad();
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = runs.clone();
    let y = checkpoint(
        move |v| {
            let first = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 0;
            if first {
                v[0].exp()
            } else {
                v[0].narrow(0, 0, 2).exp()
            }
        },
        &[&x],
    )
    .unwrap();
    let err = y.sum().try_backward().unwrap_err();
    assert_eq!(
        err.to_string(),
        "checkpoint: the segment run again in backward gave [2] f64, the first run [4] f64; it \
         must compute the same thing every time"
    );
}

#[test]
fn a_custom_jvp_with_the_wrong_number_of_tangents_is_an_error() {
    struct TwoTangents;
    impl Function for TwoTangents {
        fn name(&self) -> &'static str {
            "TwoTangentsBackward"
        }
        fn forward(&self, _: &mut Context, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
            Ok(vec![inputs[0].exp()])
        }
        fn backward(&self, _: &Context, g: &[Tensor]) -> Vec<Option<Tensor>> {
            vec![Some(g[0].clone())]
        }
        fn jvp(&self, _: &Context, t: &[Tensor]) -> Option<Vec<Tensor>> {
            Some(vec![t[0].clone(), t[0].clone()])
        }
    }
    let (x, v) = (Tensor::scalar(1.0f64), Tensor::scalar(1.0f64));
    let err = jvp(
        |v| apply_function(TwoTangents, &[&v[0]]).unwrap().remove(0),
        &[x],
        &[v],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "TwoTangentsBackward: jvp returned 2 tangents, one per output expected (1)"
    );
}
