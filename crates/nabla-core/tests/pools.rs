//! The pools against PyTorch (float64, to 1e-12): outputs and input gradients of `max_pool2d`
//! (overlapping windows, padding, dilation, ceil mode, ties, NaN and minus infinity),
//! `avg_pool2d` (with and without the padding in the count) and `adaptive_avg_pool2d` (sizes
//! that do not divide, up and down). The pinned values and the script that produced them:
//! `tools/pytorch_reference/pool.py`.

#[path = "reference/pytorch_pools.rs"]
mod pytorch;
#[path = "support/reference.rs"]
mod reference;

use nabla_core::ops::window::PoolOptions;
use nabla_core::{DType, Tensor, grad};
use pytorch::*;
use reference::{assert_close, det};

fn options(kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2]) -> PoolOptions<2> {
    PoolOptions {
        stride,
        padding,
        ..PoolOptions::new(kernel)
    }
}

/// Checks `f` at `x` against PyTorch's output and its input gradient for `det(out, 7)`.
#[track_caller]
fn check(x: Tensor, f: impl Fn(&Tensor) -> Tensor, out: &[f64], gradient: &[f64]) {
    let x = x.requires_grad();
    let y = f(&x);
    assert_close("output", &y, out);
    let seed = det(y.shape(), 7.0);
    y.backward_with(&seed);
    assert_close("gradient", &x.grad().unwrap(), gradient);
}

#[test]
fn max_pool_with_overlapping_windows_and_padding_accumulates_gradients() {
    check(
        det(&[2, 3, 7, 6], 0.5),
        |x| x.max_pool2d(&options([3, 3], [2, 2], [1, 1])),
        &MAX_OVERLAP_OUT,
        &MAX_OVERLAP_GRAD,
    );
}

#[test]
fn max_pool_sends_a_tie_to_the_first_maximum_in_scan_order() {
    let mut o = options([3, 3], [1, 1], [1, 1]);
    o.ceil_mode = true;
    check(
        Tensor::from_vec(MAX_TIES_X.to_vec(), &[1, 2, 5, 6]),
        |x| x.max_pool2d(&o),
        &MAX_TIES_OUT,
        &MAX_TIES_GRAD,
    );
    check(
        Tensor::full(&[1, 1, 4, 4], 2.0, DType::F64),
        |x| x.max_pool2d(&options([2, 2], [1, 1], [0, 0])),
        &MAX_EQUAL_OUT,
        &MAX_EQUAL_GRAD,
    );
}

#[test]
fn max_pool_picks_nan_and_keeps_the_first_tap_of_a_window_of_minus_infinities() {
    let x = || Tensor::from_vec(MAX_SPECIAL_X.to_vec(), &[1, 1, 4, 6]);
    check(
        x(),
        |x| x.max_pool2d(&options([2, 2], [2, 2], [1, 1])),
        &MAX_SPECIAL_OUT,
        &MAX_SPECIAL_GRAD,
    );
    check(
        x(),
        |x| x.max_pool2d(&options([2, 2], [1, 1], [0, 0])),
        &MAX_SPECIAL_OVERLAP_OUT,
        &MAX_SPECIAL_OVERLAP_GRAD,
    );
}

/// The 2×2, stride 2 pooling (a kernel of its own) makes the same choices as the pinned 2×2,
/// stride 1 pooling at the windows they share, ties, NaN and minus infinities included: the
/// same values, and the gradient lands on the same inputs.
#[test]
fn max_pool_2x2_at_stride_2_chooses_as_the_overlapping_pooling_does() {
    let inputs = [
        Tensor::from_vec(MAX_SPECIAL_X.to_vec(), &[1, 1, 4, 6]),
        Tensor::from_vec(MAX_TIES_X.to_vec(), &[1, 2, 5, 6]),
        Tensor::full(&[1, 1, 4, 4], 2.0, DType::F64),
        Tensor::from_vec(vec![f64::NAN; 12], &[1, 1, 2, 6]),
        det(&[2, 3, 7, 9], 0.5),
    ];
    for x in inputs {
        let x = x.requires_grad();
        let (shape, (h, w)) = (x.shape().to_vec(), (x.shape()[2], x.shape()[3]));
        let halved = x.max_pool2d(&options([2, 2], [2, 2], [0, 0]));
        let overlapping = x.max_pool2d(&options([2, 2], [1, 1], [0, 0]));
        let (out_h, out_w) = (h / 2, w / 2);
        let planes = shape[0] * shape[1];
        let seed = det(halved.shape(), 7.0).to_vec::<f64>();
        let (mut shared, mut spread) = (Vec::new(), vec![0.0; planes * (h - 1) * (w - 1)]);
        let values = overlapping.to_vec::<f64>();
        for p in 0..planes {
            for i in 0..out_h {
                for j in 0..out_w {
                    let at = (p * (h - 1) + 2 * i) * (w - 1) + 2 * j;
                    shared.push(values[at]);
                    spread[at] = seed[(p * out_h + i) * out_w + j];
                }
            }
        }
        assert_close("output", &halved, &shared);
        let weighted = |y: &Tensor, seed: Vec<f64>| (y * &Tensor::from_vec(seed, y.shape())).sum();
        let gradient = &grad(&[&weighted(&halved, seed)], &[&x])[0];
        let expected = &grad(&[&weighted(&overlapping, spread)], &[&x])[0];
        assert_close("gradient", gradient, &expected.to_vec::<f64>());
    }
}

#[test]
fn max_pool_with_dilation_and_ceil_mode() {
    let mut o = options([3, 2], [2, 3], [1, 1]);
    o.dilation = [2, 1];
    o.ceil_mode = true;
    check(
        det(&[2, 2, 9, 8], 1.0),
        |x| x.max_pool2d(&o),
        &MAX_DILATED_OUT,
        &MAX_DILATED_GRAD,
    );
}

#[test]
fn max_pool_of_an_unbatched_input() {
    let mut o = PoolOptions::new([2, 2]);
    o.ceil_mode = true;
    check(
        det(&[3, 5, 5], 2.0),
        |x| {
            let y = x.max_pool2d(&o);
            assert_eq!(y.shape(), &[3, 3, 3]);
            y
        },
        &MAX_UNBATCHED_OUT,
        &MAX_UNBATCHED_GRAD,
    );
}

#[test]
fn avg_pool_counts_the_padding_or_not() {
    check(
        det(&[2, 3, 7, 6], 0.5),
        |x| x.avg_pool2d(&options([3, 3], [2, 2], [1, 1])),
        &AVG_OVERLAP_OUT,
        &AVG_OVERLAP_GRAD,
    );
    let mut o = options([3, 2], [2, 2], [1, 1]);
    o.ceil_mode = true;
    check(
        det(&[1, 2, 6, 5], 1.0),
        |x| x.avg_pool2d(&o),
        &AVG_CEIL_INCLUDE_PAD_OUT,
        &AVG_CEIL_INCLUDE_PAD_GRAD,
    );
    o.count_include_pad = false;
    check(
        det(&[1, 2, 6, 5], 1.0),
        |x| x.avg_pool2d(&o),
        &AVG_CEIL_EXCLUDE_PAD_OUT,
        &AVG_CEIL_EXCLUDE_PAD_GRAD,
    );
}

#[test]
fn adaptive_avg_pool_to_sizes_that_do_not_divide() {
    check(
        det(&[2, 3, 5, 7], 3.0),
        |x| x.adaptive_avg_pool2d([3, 4]),
        &ADAPTIVE_DOWN_OUT,
        &ADAPTIVE_DOWN_GRAD,
    );
    check(
        det(&[2, 3, 4], 4.0),
        |x| x.adaptive_avg_pool2d([5, 7]),
        &ADAPTIVE_UP_OUT,
        &ADAPTIVE_UP_GRAD,
    );
}

#[test]
fn an_empty_batch_pools_to_an_empty_batch() {
    let x = Tensor::zeros(&[0, 3, 4, 4], DType::F32).requires_grad();
    let pools = [
        x.max_pool2d(&PoolOptions::new([2, 2])),
        x.avg_pool2d(&PoolOptions::new([2, 2])),
        x.adaptive_avg_pool2d([2, 2]),
    ];
    for y in pools {
        assert_eq!(y.shape(), &[0, 3, 2, 2]);
        let g = grad(&[&y.sum()], &[&x]);
        assert_eq!(g[0].shape(), &[0, 3, 4, 4]);
    }
}

#[test]
fn one_element_pools_to_itself() {
    let x = Tensor::from_vec(vec![-2.5f64], &[1, 1, 1, 1]).requires_grad();
    let pools = [
        x.max_pool2d(&PoolOptions::new([1, 1])),
        x.avg_pool2d(&PoolOptions::new([1, 1])),
        x.adaptive_avg_pool2d([1, 1]),
    ];
    for y in pools {
        assert_eq!(y.to_vec::<f64>(), vec![-2.5]);
        assert_eq!(
            grad(&[&(&y * 3.0).sum()], &[&x])[0].to_vec::<f64>(),
            vec![3.0]
        );
    }
}

#[test]
fn f32_and_strided_inputs_pool_like_contiguous_f64() {
    let x = det(&[2, 3, 6, 7], 0.25);
    let strided = x.transpose(2, 3).contiguous().transpose(2, 3);
    assert!(!strided.is_contiguous());
    let o = options([3, 2], [2, 1], [1, 1]);
    let cases: [fn(&Tensor, &PoolOptions<2>) -> Tensor; 3] = [
        |x, o| x.max_pool2d(o),
        |x, o| x.avg_pool2d(o),
        |x, _| x.adaptive_avg_pool2d([4, 3]),
    ];
    for f in cases {
        let expected = f(&x, &o).to_vec::<f64>();
        assert_eq!(f(&strided, &o).to_vec::<f64>(), expected);
        let single = f(&x.to_dtype(DType::F32), &o)
            .to_dtype(DType::F64)
            .to_vec::<f64>();
        for (a, b) in single.iter().zip(&expected) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }
}
