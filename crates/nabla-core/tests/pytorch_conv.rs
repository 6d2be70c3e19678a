//! Convolutions against PyTorch 2 in float64: outputs and gradients of conv1d, conv2d,
//! conv_transpose2d, pad and unfold over several configurations, a NaN in the input, and the
//! edges (an empty batch, a 1×1 kernel, a one-element input).
//! The pinned values and the script that produced them: `tools/pytorch_reference/conv.py`.

#[path = "reference/pytorch_conv.rs"]
mod pytorch;
#[path = "support/reference.rs"]
mod reference;

use nabla_core::ops::window::{ConvOptions, ConvTransposeOptions, Padding};
use nabla_core::{DType, Tensor};
use pytorch::*;
use reference::{assert_close, det};

/// `f` at the script's inputs of `shapes`, and the gradients of `sum(y · det(y.shape, 9))`.
fn run(f: &dyn Fn(&[Tensor]) -> Tensor, shapes: &[&[usize]]) -> (Tensor, Vec<Tensor>) {
    let leaves: Vec<Tensor> = shapes
        .iter()
        .enumerate()
        .map(|(k, s)| det(s, k as f64 + 1.0).requires_grad())
        .collect();
    let y = f(&leaves);
    let loss = (&y * &det(y.shape(), 9.0)).sum();
    let refs: Vec<&Tensor> = leaves.iter().collect();
    let grads = nabla_core::grad(&[&loss], &refs);
    (y.detach(), grads)
}

/// Checks one configuration: its output shape and values, and each input's gradient.
#[track_caller]
fn check(
    name: &str,
    f: &dyn Fn(&[Tensor]) -> Tensor,
    shapes: &[&[usize]],
    shape: &[usize],
    y: &[f64],
    grads: &[&[f64]],
) {
    let (out, got) = run(f, shapes);
    assert_eq!(out.shape(), shape, "{name}: output shape");
    assert_close(&format!("{name} output"), &out, y);
    for (i, (g, e)) in got.iter().zip(grads).enumerate() {
        assert_close(&format!("{name} gradient {i}"), g, e);
    }
}

fn conv(
    stride: [usize; 2],
    padding: Padding<2>,
    dilation: [usize; 2],
    groups: usize,
) -> ConvOptions<2> {
    ConvOptions {
        stride,
        padding,
        dilation,
        groups,
    }
}

#[test]
fn conv2d_matches_pytorch() {
    check(
        "stride 2 padding 1",
        &|v| {
            v[0].conv2d(
                &v[1],
                Some(&v[2]),
                &conv([2, 2], Padding::Explicit([1, 1]), [1, 1], 1),
            )
        },
        &[&[2, 2, 5, 5], &[3, 2, 3, 3], &[3]],
        &C2_STRIDE_PAD_SHAPE,
        &C2_STRIDE_PAD_Y,
        &[&C2_STRIDE_PAD_DX, &C2_STRIDE_PAD_DW, &C2_STRIDE_PAD_DB],
    );
    check(
        "dilation 2 groups 2",
        &|v| {
            v[0].conv2d(
                &v[1],
                None,
                &conv([1, 1], Padding::Explicit([1, 0]), [2, 2], 2),
            )
        },
        &[&[1, 4, 5, 6], &[4, 2, 2, 2]],
        &C2_DIL_GROUPS_SHAPE,
        &C2_DIL_GROUPS_Y,
        &[&C2_DIL_GROUPS_DX, &C2_DIL_GROUPS_DW],
    );
    check(
        "same",
        &|v| v[0].conv2d(&v[1], Some(&v[2]), &conv([1, 1], Padding::Same, [1, 1], 1)),
        &[&[1, 1, 4, 5], &[2, 1, 2, 3], &[2]],
        &C2_SAME_SHAPE,
        &C2_SAME_Y,
        &[&C2_SAME_DX, &C2_SAME_DW, &C2_SAME_DB],
    );
    check(
        "mixed stride padding dilation",
        &|v| {
            v[0].conv2d(
                &v[1],
                Some(&v[2]),
                &conv([2, 1], Padding::Explicit([0, 2]), [1, 2], 1),
            )
        },
        &[&[2, 3, 6, 6], &[4, 3, 3, 3], &[4]],
        &C2_MIXED_SHAPE,
        &C2_MIXED_Y,
        &[&C2_MIXED_DX, &C2_MIXED_DW, &C2_MIXED_DB],
    );
    check(
        "1x1",
        &|v| v[0].conv2d(&v[1], Some(&v[2]), &ConvOptions::default()),
        &[&[2, 3, 3, 3], &[2, 3, 1, 1], &[2]],
        &C2_POINTWISE_SHAPE,
        &C2_POINTWISE_Y,
        &[&C2_POINTWISE_DX, &C2_POINTWISE_DW, &C2_POINTWISE_DB],
    );
    check(
        "1x1 stride 2 padding 1",
        &|v| {
            v[0].conv2d(
                &v[1],
                None,
                &conv([2, 2], Padding::Explicit([1, 1]), [1, 1], 1),
            )
        },
        &[&[1, 2, 4, 4], &[3, 2, 1, 1]],
        &C2_POINTWISE_STRIDE_SHAPE,
        &C2_POINTWISE_STRIDE_Y,
        &[&C2_POINTWISE_STRIDE_DX, &C2_POINTWISE_STRIDE_DW],
    );
}

#[test]
fn conv1d_matches_pytorch() {
    check(
        "conv1d stride 2 padding 1 groups 2",
        &|v| {
            let o = ConvOptions {
                stride: [2],
                padding: Padding::Explicit([1]),
                dilation: [1],
                groups: 2,
            };
            v[0].conv1d(&v[1], Some(&v[2]), &o)
        },
        &[&[2, 2, 7], &[4, 1, 3], &[4]],
        &C1_STRIDE_GROUPS_SHAPE,
        &C1_STRIDE_GROUPS_Y,
        &[
            &C1_STRIDE_GROUPS_DX,
            &C1_STRIDE_GROUPS_DW,
            &C1_STRIDE_GROUPS_DB,
        ],
    );
    check(
        "conv1d same dilation 2",
        &|v| {
            let o = ConvOptions {
                padding: Padding::Same,
                dilation: [2],
                ..Default::default()
            };
            v[0].conv1d(&v[1], None, &o)
        },
        &[&[1, 3, 8], &[2, 3, 4]],
        &C1_SAME_DIL_SHAPE,
        &C1_SAME_DIL_Y,
        &[&C1_SAME_DIL_DX, &C1_SAME_DIL_DW],
    );
}

#[test]
fn conv_transpose2d_matches_pytorch() {
    check(
        "transpose stride 2 padding 1 output padding",
        &|v| {
            let o = ConvTransposeOptions {
                stride: [2, 2],
                padding: [1, 1],
                output_padding: [1, 0],
                ..Default::default()
            };
            v[0].conv_transpose2d(&v[1], Some(&v[2]), &o)
        },
        &[&[1, 2, 3, 3], &[2, 3, 3, 3], &[3]],
        &CT_STRIDE_SHAPE,
        &CT_STRIDE_Y,
        &[&CT_STRIDE_DX, &CT_STRIDE_DW, &CT_STRIDE_DB],
    );
    check(
        "transpose dilation 2 groups 2",
        &|v| {
            let o = ConvTransposeOptions {
                stride: [1, 2],
                dilation: [2, 2],
                groups: 2,
                ..Default::default()
            };
            v[0].conv_transpose2d(&v[1], None, &o)
        },
        &[&[2, 4, 3, 3], &[4, 1, 2, 2]],
        &CT_GROUPS_SHAPE,
        &CT_GROUPS_Y,
        &[&CT_GROUPS_DX, &CT_GROUPS_DW],
    );
}

#[test]
fn pad_and_unfold_match_pytorch() {
    check(
        "pad",
        &|v| v[0].pad(&[(1, 2), (0, 1)], 0.5),
        &[&[2, 3]],
        &PAD_SHAPE,
        &PAD_Y,
        &[&PAD_DX],
    );
    check(
        "unfold",
        &|v| v[0].unfold([2, 3], &conv([1, 2], Padding::Explicit([1, 0]), [1, 1], 1)),
        &[&[1, 2, 4, 4]],
        &UNFOLD_SHAPE,
        &UNFOLD_Y,
        &[&UNFOLD_DX],
    );
    check(
        "unfold dilation 2",
        &|v| v[0].unfold([2, 2], &conv([1, 1], Padding::Explicit([1, 1]), [2, 2], 1)),
        &[&[2, 1, 3, 4]],
        &UNFOLD_DIL_SHAPE,
        &UNFOLD_DIL_Y,
        &[&UNFOLD_DIL_DX],
    );
}

#[test]
fn a_nan_reaches_the_outputs_and_weight_gradients_whose_windows_cover_it() {
    let mut values = det(&[1, 1, 5, 5], 1.0).to_vec::<f64>();
    values[0] = f64::NAN;
    let x = Tensor::from_vec(values, &[1, 1, 5, 5]).requires_grad();
    let w = det(&[1, 1, 3, 3], 2.0).requires_grad();
    let y = x.conv2d(&w, None, &ConvOptions::default());
    let loss = (&y * &det(y.shape(), 9.0)).sum();
    let grads = nabla_core::grad(&[&loss], &[&x, &w]);
    assert_close("output", &y, &NAN_Y);
    assert_close("input gradient", &grads[0], &NAN_DX);
    assert_close("weight gradient", &grads[1], &NAN_DW);
}

#[test]
fn an_empty_batch_gives_an_empty_output_and_zero_parameter_gradients() {
    let x = Tensor::zeros(&[0, 2, 5, 5], DType::F64).requires_grad();
    let w = det(&[3, 2, 3, 3], 2.0).requires_grad();
    let b = det(&[3], 3.0).requires_grad();
    let y = x.conv2d(
        &w,
        Some(&b),
        &conv([2, 2], Padding::Explicit([1, 1]), [1, 1], 1),
    );
    assert_eq!(y.shape(), &[0, 3, 3, 3]);
    let grads = nabla_core::grad(&[&y.sum()], &[&x, &w, &b]);
    assert_eq!(grads[0].shape(), &[0, 2, 5, 5]);
    assert_eq!(grads[1].to_vec::<f64>(), vec![0.0; 54]);
    assert_eq!(grads[2].to_vec::<f64>(), vec![0.0; 3]);
    let t = Tensor::zeros(&[0, 3, 2, 2], DType::F64);
    let o = ConvTransposeOptions::default();
    assert_eq!(t.conv_transpose2d(&w, None, &o).shape(), &[0, 2, 4, 4]);
}

#[test]
fn a_one_element_input_and_a_1x1_kernel_scale_and_shift() {
    let x = Tensor::from_vec(vec![1.5f64], &[1, 1, 1, 1]).requires_grad();
    let w = Tensor::from_vec(vec![-2.0f64], &[1, 1, 1, 1]).requires_grad();
    let b = Tensor::from_vec(vec![0.25f64], &[1]).requires_grad();
    let y = x.conv2d(&w, Some(&b), &ConvOptions::default());
    assert_eq!(
        (y.shape(), y.to_vec::<f64>()),
        (&[1, 1, 1, 1][..], vec![-2.75])
    );
    let grads = nabla_core::grad(&[&y.sum()], &[&x, &w, &b]);
    let values: Vec<f64> = grads.iter().map(|g| g.to_vec::<f64>()[0]).collect();
    assert_eq!(values, vec![-2.0, 1.5, 1.0]);
    // Unbatched, with padding around the single element.
    let x1 = Tensor::from_vec(vec![3.0f64], &[1, 1, 1]);
    let w3 = Tensor::ones(&[1, 1, 3, 3], DType::F64);
    let same = conv([1, 1], Padding::Same, [1, 1], 1);
    assert_eq!(x1.conv2d(&w3, None, &same).to_vec::<f64>(), vec![3.0]);
}

#[test]
fn f32_agrees_with_f64() {
    let x = det(&[2, 4, 7, 6], 1.0);
    let w = det(&[6, 2, 3, 3], 2.0);
    let b = det(&[6], 3.0);
    let o = conv([2, 1], Padding::Explicit([1, 2]), [1, 2], 2);
    let y64 = x.conv2d(&w, Some(&b), &o).to_vec::<f64>();
    let f = |t: &Tensor| t.to_dtype(DType::F32);
    let y32 = f(&x).conv2d(&f(&w), Some(&f(&b)), &o).to_vec::<f32>();
    for (a, b) in y64.iter().zip(&y32) {
        assert!((a - *b as f64).abs() < 1e-5, "{a} vs {b}");
    }
}

/// A batch large enough to be cut into blocks of samples and shared between threads gives
/// what im2col followed by one matrix product gives, for the output and both gradients.
#[test]
fn blocks_of_samples_over_threads_agree_with_unfold_and_matmul() {
    let x = det(&[24, 4, 12, 12], 1.0);
    let w = det(&[8, 4, 3, 3], 2.0);
    let o = conv([1, 1], Padding::Explicit([1, 0]), [1, 1], 1);
    let direct = |v: &[Tensor]| v[0].conv2d(&v[1], None, &o);
    let unfolded = |v: &[Tensor]| {
        let cols = v[0].unfold([3, 3], &o);
        v[1].reshape(&[8, 36])
            .matmul(&cols)
            .reshape(&[24, 8, 12, 10])
    };
    let (y, grads) = run(&direct, &[x.shape(), w.shape()]);
    let (y_ref, grads_ref) = run(&unfolded, &[x.shape(), w.shape()]);
    assert_close("output", &y, &y_ref.to_vec::<f64>());
    for (i, (g, r)) in grads.iter().zip(&grads_ref).enumerate() {
        assert_close(&format!("gradient {i}"), g, &r.to_vec::<f64>());
    }
}
