//! Helpers shared by the layer and loss tests: the reference scripts' deterministic inputs and
//! the comparisons with the values they pinned.

use nabla_core::{GradcheckOptions, Tensor, gradcheck};

/// `det(shape, k)[i] = sin(0.37 i + k)`, the reference scripts' deterministic inputs.
pub fn det(shape: &[usize], k: f64) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::from_vec((0..n).map(|i| (0.37 * i as f64 + k).sin()).collect(), shape)
}

/// Every element within 1e-10 relative (1e-13 absolute near zero) of PyTorch's value.
#[track_caller]
pub fn assert_close(got: &Tensor, expected: &[f64]) {
    let got = got.to_f64_vec();
    assert_eq!(got.len(), expected.len());
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (g - e).abs() <= 1e-10 * e.abs().max(1e-3),
            "element {i}: {g} vs PyTorch {e}"
        );
    }
}

/// Gradients of `f` at `inputs` agree with central differences.
#[track_caller]
pub fn assert_gradcheck(f: impl Fn(&[Tensor]) -> Tensor, inputs: &[Tensor]) {
    let outcome = gradcheck(f, inputs, GradcheckOptions::default()).unwrap();
    assert!(outcome.passed(), "{outcome}");
}
