//! What the tests against PyTorch's numbers share: the scripts' deterministic inputs and the
//! comparison of a tensor with pinned float64 values.

#![allow(dead_code)]

use nabla_core::Tensor;

/// `det(shape, k)[i] = sin(0.37 i + k)`, the scripts' deterministic inputs.
pub fn det(shape: &[usize], k: f64) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::from_vec((0..n).map(|i| (0.37 * i as f64 + k).sin()).collect(), shape)
}

/// Equal to PyTorch's values within `1e-12·(1 + |expected|)`: NaN where PyTorch has NaN, the
/// same infinities.
#[track_caller]
pub fn assert_close(what: &str, got: &Tensor, expected: &[f64]) {
    let got = got.to_vec::<f64>();
    assert_eq!(got.len(), expected.len(), "{what}: length");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        let same = (g.is_nan() && e.is_nan()) || g == e || (g - e).abs() <= 1e-12 * (1.0 + e.abs());
        assert!(same, "{what}: element {i} is {g}, PyTorch gives {e}");
    }
}
