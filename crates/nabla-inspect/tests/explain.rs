//! The chain-rule explanation: the textbook's apple example word for word, the sums written out
//! where a value fans out, local derivatives from the node type, and its errors.

use nabla_core::Tensor;
use nabla_inspect::{Error, Trace, explain};

#[test]
fn apple_example_matches_the_textbook() {
    let apple = Tensor::scalar(100.0f64).requires_grad();
    let count = Tensor::scalar(2.0f64).requires_grad();
    let tax = Tensor::scalar(1.1f64).requires_grad();
    let trace = Trace::new()
        .with_name(&apple, "apple")
        .with_name(&count, "count")
        .with_name(&tax, "tax");
    let (_, trace) = trace.record(|| (&(&apple * &count) * &tax).backward());
    assert_eq!(
        explain(&trace).unwrap(),
        "Backward pass of L = apple*count*tax = 220, node by node (∂L/∂v: the gradient of L with respect to v):

[1] mul: apple*count*tax = 220
    upstream gradient: 1 (∂L/∂L)
    to apple*count (= 200): local ∂(a*b)/∂a = b = 1.1; 1.1 × 1 = 1.1
    to tax (= 1.1): local ∂(a*b)/∂b = a = 200; 200 × 1 = 200

[2] tax: ∂L/∂tax = 200

[3] mul: apple*count = 200
    upstream gradient: 1.1
    to apple (= 100): local ∂(a*b)/∂a = b = 2; 2 × 1.1 = 2.2
    to count (= 2): local ∂(a*b)/∂b = a = 100; 100 × 1.1 = 110

[4] apple: ∂L/∂apple = 2.2

[5] count: ∂L/∂count = 110
"
    );
}

#[test]
fn fan_out_shows_the_sum_of_contributions() {
    let x = Tensor::scalar(2.0f64).requires_grad();
    let (_, trace) = Trace::new()
        .with_name(&x, "x")
        .record(|| (&(&x * &x) + &x.sin()).backward());
    let text = explain(&trace).unwrap();
    // sin(x) was created last, so backward runs it first.
    assert!(text.contains(
        "x: ∂L/∂x = -0.416147 (from sin(x)) + 2 (from x*x, input 1) + 2 (from x*x, input 2) = 3.58385"
    ), "{text}");
    assert!(
        text.contains(
            "to x (= 2): local ∂sin(x)/∂x = cos(x) = -0.416147; -0.416147 × 1 = -0.416147"
        ),
        "{text}"
    );
}

#[test]
fn intermediate_fan_out_and_constants() {
    // h = x + 1 feeds two consumers; 3 is a constant without gradient.
    let x = Tensor::scalar(0.5f64).requires_grad();
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
        text.contains("[2] exp: exp(x+c) = 4.48169\n    upstream gradient: -1\n"),
        "{text}"
    );
    assert!(
        text.contains("upstream gradient: -4.48169 (from exp(x+c)) + 3 (from (x+c)*3) = -1.48169"),
        "{text}"
    );
    assert!(
        text.contains("local ∂(x+c)/∂x = 1; 1 × (-1.48169) = -1.48169"),
        "{text}"
    );
}

#[test]
fn a_rule_outside_the_table_uses_the_ratio_unless_upstream_is_zero() {
    let x = Tensor::scalar(0.5f64).requires_grad();
    let z = Tensor::scalar(0.0f64).requires_grad();
    let (_, trace) = Trace::new()
        .with_name(&x, "x")
        .with_name(&z, "z")
        .record(|| (&x.gelu() * &z).backward());
    let text = explain(&trace).unwrap();
    assert!(
        text.contains("to x (= 0.5): local grad_in/upstream = undetermined; undetermined × 0 = 0"),
        "{text}"
    );
}

#[test]
fn errors_name_what_is_wrong() {
    assert_eq!(explain(&Trace::new()), Err(Error::NoBackward));
    let x = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).requires_grad();
    let (_, trace) = Trace::new()
        .with_name(&x, "x")
        .record(|| (&x * &x).sum().backward());
    let error = explain(&trace).unwrap_err();
    assert_eq!(
        error.to_string(),
        "explain: x*x has shape [2]; the chain rule is explained for scalar graphs only"
    );
}
