//! The chain-rule explanation: every step in the terms of that node's own inputs, with the
//! rule the operation states instantiated at the recorded values (`2·2¹ = 4`), the textbook's
//! apple example word for word, fan-out sums, a sigmoid, and a two-layer network with
//! softmax-with-loss in matrix form, its numbers pinned against PyTorch (float64).

use nabla_core::{Backward, Gradients, Tensor, record_operation};
use nabla_inspect::{Error, ExplainOptions, Rule, Trace, explain, explanation};

fn scalar(v: f64) -> Tensor {
    Tensor::scalar(v).requires_grad()
}

#[test]
fn apple_example_matches_the_textbook() {
    let (apple, count, tax) = (scalar(100.0), scalar(2.0), scalar(1.1));
    let trace = Trace::new()
        .with_name(&apple, "apple")
        .with_name(&count, "count")
        .with_name(&tax, "tax");
    let (_, trace) = trace.record(|| (&(&apple * &count) * &tax).backward());
    assert_eq!(
        explain(&trace).unwrap(),
        "Backward pass of L = apple*count*tax = 220, node by node (∂L/∂v: the gradient of L with respect to v):

[1] ×: apple*count*tax = 220
    upstream gradient: 1 (∂L/∂L)
    to apple*count (= 200): local ∂(apple*count*tax)/∂(apple*count) = tax = 1.1; 1.1 × 1 = 1.1
    to tax (= 1.1): local ∂(apple*count*tax)/∂tax = apple*count = 200; 200 × 1 = 200

[2] tax: ∂L/∂tax = 200

[3] ×: apple*count = 200
    upstream gradient: 1.1
    to apple (= 100): local ∂(apple*count)/∂apple = count = 2; 2 × 1.1 = 2.2
    to count (= 2): local ∂(apple*count)/∂count = apple = 100; 100 × 1.1 = 110

[4] apple: ∂L/∂apple = 2.2

[5] count: ∂L/∂count = 110
"
    );
}

#[test]
fn each_step_is_in_its_own_inputs_with_the_rule_instantiated() {
    // (w*x+b-5)^2 at x=2, w=3, b=1: the user's b is 1, and no rule reuses b, x or p as a symbol.
    let (w, x, b) = (scalar(3.0), scalar(2.0), scalar(1.0));
    let trace = Trace::new()
        .with_name(&w, "w")
        .with_name(&x, "x")
        .with_name(&b, "b");
    let (_, trace) = trace.record(|| (&(&w * &x) + &b - 5.0).powf(2.0).backward());
    assert_eq!(
        explain(&trace).unwrap(),
        "Backward pass of L = (w*x + b - 5)^2 = 4, node by node (∂L/∂v: the gradient of L with respect to v):

[1] ^2: (w*x + b - 5)^2 = 4
    upstream gradient: 1 (∂L/∂L)
    to w*x + b - 5 (= 2): local ∂((w*x + b - 5)^2)/∂(w*x + b - 5) = 2·(w*x + b - 5)¹ = 2·2¹ = 4; 4 × 1 = 4

[2] +: w*x + b - 5 = 2
    upstream gradient: 4
    to w*x + b (= 7): local ∂(w*x + b - 5)/∂(w*x + b) = 1; 1 × 4 = 4

[3] +: w*x + b = 7
    upstream gradient: 4
    to w*x (= 6): local ∂(w*x + b)/∂(w*x) = 1; 1 × 4 = 4
    to b (= 1): local ∂(w*x + b)/∂b = 1; 1 × 4 = 4

[4] b: ∂L/∂b = 4

[5] ×: w*x = 6
    upstream gradient: 4
    to w (= 3): local ∂(w*x)/∂w = x = 2; 2 × 4 = 8
    to x (= 2): local ∂(w*x)/∂x = w = 3; 3 × 4 = 12

[6] w: ∂L/∂w = 8

[7] x: ∂L/∂x = 12
"
    );
}

#[test]
fn the_users_expression_is_printed_as_written() {
    // docs/grad.md's library example: the constant stays 5 and the minus stays a minus.
    let (w, x) = (scalar(3.0), scalar(2.0));
    let (_, trace) = Trace::new()
        .with_name(&w, "w")
        .with_name(&x, "x")
        .record(|| (&w * &x - 5.0).powf(2.0).backward());
    let text = explain(&trace).unwrap();
    assert!(
        text.starts_with("Backward pass of L = (w*x - 5)^2 = 1,"),
        "{text}"
    );
    assert!(
        text.contains("    to w*x - 5 (= 1): local ∂((w*x - 5)^2)/∂(w*x - 5) = 2·(w*x - 5)¹ = 2·1¹ = 2; 2 × 1 = 2\n"),
        "{text}"
    );
    assert!(
        text.contains("    to w*x (= 6): local ∂(w*x - 5)/∂(w*x) = 1; 1 × 2 = 2\n"),
        "{text}"
    );
}

#[test]
fn fan_out_shows_the_sum_of_contributions() {
    let x = scalar(2.0);
    let (_, trace) = Trace::new()
        .with_name(&x, "x")
        .record(|| (&(&x * &x) + &x.sin()).backward());
    let text = explain(&trace).unwrap();
    // sin(x) was created last, so backward runs it first.
    assert!(text.contains(
        "[4] x: ∂L/∂x = -0.416147 (from sin(x)) + 2 (from x*x, input 1) + 2 (from x*x, input 2) = 3.58385"
    ), "{text}");
    assert!(
        text.contains(
            "to x (= 2): local ∂sin(x)/∂x = cos(x) = cos(2) = -0.416147; -0.416147 × 1 = -0.416147"
        ),
        "{text}"
    );
}

#[test]
fn a_sigmoid_step_states_y_times_one_minus_y() {
    let (w, x) = (scalar(0.5), scalar(2.0));
    let (_, trace) = Trace::new()
        .with_name(&w, "w")
        .with_name(&x, "x")
        .record(|| (&w * &x).sigmoid().backward());
    let text = explain(&trace).unwrap();
    // σ(1) = 0.7310585786300049, σ'(1) = 0.19661193324148185 (PyTorch, float64).
    assert!(text.contains(
        "[1] sigmoid: sigmoid(w*x) = 0.731059\n    upstream gradient: 1 (∂L/∂L)\n    to w*x (= 1): local ∂sigmoid(w*x)/∂(w*x) = sigmoid(w*x)·(1 − sigmoid(w*x)) = 0.731059·(1 − 0.731059) = 0.196612; 0.196612 × 1 = 0.196612\n"
    ), "{text}");
    let steps = explanation(&trace, ExplainOptions::default())
        .unwrap()
        .steps;
    let Rule::Elementwise { local, .. } = &steps[0].inputs[0].rule else {
        panic!("{:?}", steps[0].inputs[0].rule)
    };
    let local = local.as_ref().unwrap().values.as_ref().unwrap()[0];
    assert!((local - 0.19661193324148185).abs() < 1e-16, "{local}");
}

#[test]
fn intermediate_fan_out_and_constants() {
    // h = x + 1 feeds two consumers; 3 is a constant without gradient.
    let x = scalar(0.5);
    let three = Tensor::scalar(3.0f64);
    let (_, trace) = Trace::new().with_name(&x, "x").record(|| {
        let h = x.add_scalar(1.0);
        (&(&h * &three) - &h.exp()).backward()
    });
    let text = explain(&trace).unwrap();
    assert!(
        text.contains("    to 3: no gradient (constant)\n"),
        "{text}"
    );
    assert!(
        text.contains("[2] exp: exp(x + 1) = 4.48169\n    upstream gradient: -1\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "local ∂exp(x + 1)/∂(x + 1) = exp(x + 1) = 4.48169; 4.48169 × (-1) = -4.48169"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "upstream gradient: -4.48169 (from exp(x + 1)) + 3 (from (x + 1)*3) = -1.48169"
        ),
        "{text}"
    );
    assert!(
        text.contains("local ∂(x + 1)/∂x = 1; 1 × (-1.48169) = -1.48169"),
        "{text}"
    );
}

/// The two-layer network of tools/pytorch_reference/explain_two_layer.py.
fn two_layer() -> Trace {
    let x = Tensor::from_vec(vec![1.0f64, -2.0, 0.5, 3.0, 0.1, -1.0], &[2, 3]);
    let wave = |f: fn(f64) -> f64, k: f64| (0..12).map(|i| f(i as f64 * k) * 0.5).collect();
    let w1 = Tensor::from_vec(wave(f64::sin, 0.37), &[4, 3]).requires_grad();
    let b1 = Tensor::from_vec(vec![0.1f64, -0.1, 0.0, 0.2], &[4]).requires_grad();
    let w2 = Tensor::from_vec(wave(f64::cos, 0.71), &[3, 4]).requires_grad();
    let b2 = Tensor::from_vec(vec![0.0f64, 0.1, -0.1], &[3]).requires_grad();
    let t = Tensor::from_vec(vec![2i64, 0], &[2]);
    let trace = Trace::new()
        .with_name(&x, "x")
        .with_name(&w1, "W1")
        .with_name(&b1, "b1")
        .with_name(&w2, "W2")
        .with_name(&b2, "b2")
        .with_name(&t, "t");
    let ((), trace) = trace.record(|| {
        let h = x.linear(&w1, Some(&b1)).relu();
        let z = h.linear(&w2, Some(&b2));
        nabla_nn::loss::cross_entropy(&z, &t).backward()
    });
    trace
}

fn reference(key: &str) -> Vec<f64> {
    let text = include_str!("data/explain_two_layer.json");
    let json: serde_json::Value = serde_json::from_str(text).unwrap();
    match &json[key] {
        serde_json::Value::Array(a) => a.iter().map(|v| v.as_f64().unwrap()).collect(),
        v => vec![v.as_f64().unwrap()],
    }
}

fn assert_close(got: &[f64], key: &str) {
    let want = reference(key);
    assert_eq!(got.len(), want.len(), "{key}");
    for (g, w) in got.iter().zip(&want) {
        assert!(
            (g - w).abs() <= 1e-12 * (1.0 + w.abs()),
            "{key}: {got:?} vs {want:?}"
        );
    }
}

#[test]
fn a_two_layer_network_is_explained_in_matrix_form_with_pytorchs_numbers() {
    let trace = two_layer();
    let text = explain(&trace).unwrap();
    for line in [
        "Backward pass of L = cross_entropy(softmax(relu(x·W1ᵀ + b1)·W2ᵀ + b2), t) = 1.12495,",
        "[1] softmax + CE loss: cross_entropy(softmax(relu(x·W1ᵀ + b1)·W2ᵀ + b2), t) = 1.12495\n",
        "    to [2] [2, 3]: ∂L/∂[2] = ∂L/∂[1]·(softmax([2]) − onehot(t))/2 = [[0.149831, 0.196508, -0.346339], [-0.328504, 0.0772004, 0.251303]]\n",
        "[2] linear: relu(x·W1ᵀ + b1)·W2ᵀ + b2 [2, 3] = [[-0.115657, 0.155543, -0.0904146], [0.315403, -0.482755, 0.697502]]\n",
        "    to relu(x·W1ᵀ + b1) [2, 4]: ∂L/∂relu(x·W1ᵀ + b1) = ∂L/∂[2]·W2 = [[-0.161515, -0.205543, -0.150237, -0.0223249], [-0.0976315, -0.0350523, 0.0444669, 0.102496]]\n",
        "    to W2 [3, 4]: ∂L/∂W2 = (∂L/∂[2])ᵀ·relu(x·W1ᵀ + b1) = [[0, -0.266976, -0.371456, -0.0308891], [0, 0.0627411, 0.0872945, 0.108294], [0, 0.204235, 0.284162, -0.0774049]]\n",
        "    to b2 [3]: ∂L/∂b2 = Σ_batch ∂L/∂[2] = [-0.178673, 0.273709, -0.0950358]\n",
        "    to x·W1ᵀ + b1 [2, 4]: local ∂relu(x·W1ᵀ + b1)/∂(x·W1ᵀ + b1) = 1 if x·W1ᵀ + b1 > 0 else 0 = [[0, 0, 0, 1], [0, 1, 1, 1]]; upstream ⊙ local = [[0, 0, 0, -0.0223249], [0, -0.0350523, 0.0444669, 0.102496]]\n",
        "    to x: no gradient (constant)\n",
        "    to W1 [4, 3]: ∂L/∂W1 = (∂L/∂(x·W1ᵀ + b1))ᵀ·x = [[0, 0, 0], [-0.105157, -0.00350523, 0.0350523], [0.133401, 0.00444669, -0.0444669], [0.285164, 0.0548994, -0.113659]]\n",
        "[8] b1 [4]: ∂L/∂b1 = [0, -0.0350523, 0.0444669, 0.0801714]\n",
    ] {
        assert!(text.contains(line), "{line}\n---\n{text}");
    }
    // Every number, to the last bits, from the structured form.
    let e = explanation(&trace, ExplainOptions::default()).unwrap();
    let values = |i: usize| e.steps[i].value.as_ref().unwrap().values.clone().unwrap();
    let upstream = |i: usize| e.steps[i].upstream.values.clone().unwrap();
    assert_close(&[e.value.values.as_ref().unwrap()[0]], "loss");
    assert_close(&values(1), "z");
    assert_close(&upstream(1), "grad_z");
    assert_close(&upstream(2), "grad_W2");
    assert_close(&upstream(3), "grad_b2");
    assert_close(&values(4), "h");
    assert_close(&upstream(4), "grad_h");
    assert_close(&values(5), "a1");
    assert_close(&upstream(5), "grad_a1");
    assert_close(&upstream(6), "grad_W1");
    assert_close(&upstream(7), "grad_b1");
}

#[test]
fn linear_unfused_is_the_textbooks_affine_layer() {
    let trace = two_layer();
    let options = ExplainOptions {
        unfused_linear: true,
        ..ExplainOptions::default()
    };
    let e = explanation(&trace, options).unwrap();
    let text = e.to_string();
    for line in [
        "[2a] +: relu(x·W1ᵀ + b1)·W2ᵀ + b2 [2, 3] = [[-0.115657, 0.155543, -0.0904146], [0.315403, -0.482755, 0.697502]]\n",
        "    to b2 [3]: local ∂(relu(x·W1ᵀ + b1)·W2ᵀ + b2)/∂b2 = 1; upstream ⊙ local, summed to its shape = [-0.178673, 0.273709, -0.0950358]\n",
        "[2b] matmul: relu(x·W1ᵀ + b1)·W2ᵀ [2, 3] = ",
        "[6b] matmul: x·W1ᵀ [2, 4] = ",
        "    to x: no gradient (constant)\n",
        "    to W1ᵀ [3, 4]: ∂L/∂(W1ᵀ) = xᵀ·∂L/∂(x·W1ᵀ) = [[0, -0.105157, 0.133401, 0.285164], [0, -0.00350523, 0.00444669, 0.0548994], [0, 0.0350523, -0.0444669, -0.113659]]\n",
    ] {
        assert!(text.contains(line), "{line}\n---\n{text}");
    }
    // d(W1ᵀ) = xᵀ·dY is PyTorch's W1.grad transposed.
    let matmul = e
        .steps
        .iter()
        .find(|s| s.number == 6 && s.part == Some('b'))
        .unwrap();
    let sent = matmul.inputs[1]
        .sent
        .as_ref()
        .unwrap()
        .values
        .clone()
        .unwrap();
    let want = reference("grad_W1");
    let transposed: Vec<f64> = (0..12).map(|k| want[(k % 4) * 3 + k / 4]).collect();
    for (g, w) in sent.iter().zip(&transposed) {
        assert!(
            (g - w).abs() <= 1e-12 * (1.0 + w.abs()),
            "{sent:?} vs {transposed:?}"
        );
    }
}

#[test]
fn large_tensors_are_shown_by_statistics() {
    let x = Tensor::from_vec((0..40).map(|i| i as f64 - 20.0).collect(), &[40]).requires_grad();
    let (_, trace) = Trace::new()
        .with_name(&x, "x")
        .record(|| x.relu().sum().backward());
    let text = explain(&trace).unwrap();
    assert!(
        text.contains("[2] relu: relu(x) [40]: min 0, mean 4.75, max 19\n"),
        "{text}"
    );
    assert!(
        text.contains("= min 0, mean 0.475, max 1; upstream ⊙ local = min 0, mean 0.475, max 1\n"),
        "{text}"
    );
}

#[test]
fn a_rule_that_states_no_formula_shows_what_it_sent() {
    struct Triple;
    impl Backward for Triple {
        fn name(&self) -> &'static str {
            "TripleBackward"
        }
        fn vjp(&self, _: &[Tensor], g: &Tensor, _: &[bool]) -> Gradients {
            Gradients::from_iter([Some(g * 3.0)])
        }
    }
    let x = scalar(0.5);
    let (_, trace) = Trace::new().with_name(&x, "x").record(|| {
        let y = record_operation(nabla_core::no_grad(|| &x * 3.0), &[&x], Triple, &[]);
        y.backward()
    });
    let text = explain(&trace).unwrap();
    assert!(text.contains("[1] triple: triple(x) = 1.5\n"), "{text}");
    assert!(
        text.contains("    to x (= 0.5): sent 3 (the rule states no formula)\n"),
        "{text}"
    );
}

#[test]
fn errors_name_what_is_wrong() {
    assert_eq!(explain(&Trace::new()), Err(Error::NoBackward));
    let x = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).requires_grad();
    let (_, trace) = Trace::new()
        .with_name(&x, "x")
        .record(|| (&x * &x).backward_with(&Tensor::ones(&[2], nabla_core::DType::F64)));
    assert_eq!(
        explain(&trace).unwrap_err().to_string(),
        "explain: x*x has shape [2]; the chain rule is explained from a scalar output (a loss)"
    );
}
