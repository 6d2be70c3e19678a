//! The layers for images: BatchNorm2d and GroupNorm against PyTorch in float64
//! (tools/pytorch_reference/conv_layers.py), Dropout2d's channel masks, the names, shapes, modes
//! and errors of each, and state dicts of convolutional networks to and from PyTorch
//! (tools/pytorch_reference/conv_state_dict.py).

mod common;

#[path = "reference/torch_conv_layers.rs"]
mod torch;

use common::{assert_close, assert_gradcheck, det};
use nabla_core::ops::window::{ConvOptions, ConvTransposeOptions, Padding, PoolOptions};
use nabla_core::{DType, Generator, Tensor};
use nabla_nn::checkpoint::{encode, load_safetensors};
use nabla_nn::data::{Preprocess, Schema};
use nabla_nn::layers::{
    AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv1d, Conv2d, ConvTranspose2d, Dropout2d,
    GroupNorm, MaxPool2d,
};
use nabla_nn::models::WeightInit;
use nabla_nn::module::{Module, Sequential};
use nabla_nn::saved::{SavedModel, metadata};
use nabla_nn::spec::ModelSpec;
use nabla_nn::task::Task;
use torch::*;

fn names(items: Vec<(String, Tensor)>) -> Vec<String> {
    items.into_iter().map(|(n, _)| n).collect()
}

fn error(module: &dyn Module, shape: &[usize], dtype: DType) -> String {
    module
        .try_forward(&Tensor::zeros(shape, dtype))
        .unwrap_err()
        .to_string()
}

// ---- BatchNorm2d -------------------------------------------------------------------------

fn batchnorm2d() -> BatchNorm2d {
    let bn = BatchNorm2d::new(3, DType::F64);
    nabla_core::no_grad(|| {
        bn.weight().copy_(&(det(&[3], 9.0) * 0.5 + 1.0));
        bn.bias().copy_(&(det(&[3], 10.0) * 0.2));
    });
    bn
}

#[test]
fn batchnorm2d_training_and_eval_match_pytorch() {
    let mut bn = batchnorm2d();
    let x = (det(&[2, 3, 2, 3], 5.0) * 2.0 + 1.0).requires_grad();
    let y = bn.forward(&x);
    assert_close(&y, &BN2D_Y1);
    (&y * &det(&[2, 3, 2, 3], 8.0)).sum().backward();
    assert_close(&x.grad().unwrap(), &BN2D_GRAD_X);
    assert_close(&bn.weight().grad().unwrap(), &BN2D_GRAD_W);
    assert_close(&bn.bias().grad().unwrap(), &BN2D_GRAD_B);
    bn.forward(&(det(&[2, 3, 2, 3], 6.0) * 3.0 - 0.5));
    bn.forward(&det(&[3, 3, 1, 2], 4.0));
    assert_close(bn.running_mean(), &BN2D_RUNNING_MEAN);
    assert_close(bn.running_var(), &BN2D_RUNNING_VAR);
    assert_eq!(bn.num_batches_tracked(), 3);
    bn.set_training(false);
    assert_close(&bn.forward(&det(&[2, 3, 2, 2], 7.0)), &BN2D_EVAL_Y);
    assert_eq!(bn.num_batches_tracked(), 3);
}

#[test]
fn batchnorm2d_gradcheck_in_train_and_eval_mode() {
    let mut bn = batchnorm2d();
    let x = det(&[2, 3, 2, 2], 5.0) * 2.0 + 1.0;
    assert_gradcheck(|v| bn.forward(&v[0]), std::slice::from_ref(&x));
    bn.set_training(false);
    assert_gradcheck(|v| bn.forward(&v[0]), &[x]);
}

#[test]
fn batchnorm2d_names_and_errors() {
    let bn = BatchNorm2d::new(3, DType::F32);
    assert_eq!(names(bn.named_parameters()), ["weight", "bias"]);
    assert_eq!(
        names(bn.named_buffers()),
        ["running_mean", "running_var", "num_batches_tracked"]
    );
    assert_eq!(bn.weight().shape(), &[3]);
    let head = "forward: BatchNorm2d(3, eps=0.00001, momentum=0.1): input has";
    for shape in [&[4, 2, 5, 5][..], &[3, 5, 5], &[4, 3]] {
        assert_eq!(
            error(&bn, shape, DType::F32),
            format!("{head} shape {shape:?}, expected [N, 3, H, W]")
        );
    }
    assert_eq!(
        error(&bn, &[2, 3, 4, 4], DType::F64),
        format!("{head} dtype f64, expected f32 (convert it with .to_dtype())")
    );
    assert_eq!(
        error(&bn, &[1, 3, 1, 1], DType::F32),
        "forward: BatchNorm2d(3, eps=0.00001, momentum=0.1): training needs more than one value \
         per channel to estimate a variance, got shape [1, 3, 1, 1]"
    );
    assert_eq!(bn.num_batches_tracked(), 0);
}

// ---- GroupNorm ---------------------------------------------------------------------------

fn groupnorm() -> GroupNorm {
    let gn = GroupNorm::new(2, 4, DType::F64);
    nabla_core::no_grad(|| {
        gn.weight().copy_(&(det(&[4], 12.0) * 0.5 + 1.0));
        gn.bias().copy_(&(det(&[4], 13.0) * 0.1));
    });
    gn
}

#[test]
fn groupnorm_matches_pytorch_values_and_gradients() {
    let gn = groupnorm();
    let x = det(&[2, 4, 2, 3], 11.0).requires_grad();
    let y = gn.forward(&x);
    assert_close(&y, &GN_Y);
    (&y * &det(&[2, 4, 2, 3], 14.0)).sum().backward();
    assert_close(&x.grad().unwrap(), &GN_GRAD_X);
    assert_close(&gn.weight().grad().unwrap(), &GN_GRAD_W);
    assert_close(&gn.bias().grad().unwrap(), &GN_GRAD_B);
    assert_gradcheck(|v| gn.forward(&v[0]), &[det(&[1, 4, 1, 3], 2.0)]);
}

#[test]
fn groupnorm_names_and_errors() {
    let gn = GroupNorm::new(2, 4, DType::F32);
    assert_eq!(names(gn.state_dict()), ["weight", "bias"]);
    let head = "forward: GroupNorm(2, 4, eps=0.00001, affine=true): input has";
    for shape in [&[4][..], &[2, 3, 5]] {
        assert_eq!(
            error(&gn, shape, DType::F32),
            format!("{head} shape {shape:?}, expected [N, 4, ...]")
        );
    }
    // [N, C] works: one value per channel, groups of two.
    assert_eq!(
        gn.forward(&Tensor::ones(&[3, 4], DType::F32)).shape(),
        &[3, 4]
    );
    for (groups, channels) in [(3, 4), (0, 4)] {
        assert_eq!(
            GroupNorm::try_new(groups, channels, DType::F32)
                .err()
                .unwrap()
                .to_string(),
            format!(
                "GroupNorm: the number of channels must be a multiple of the number of groups \
                 (at least 1), got {channels} channels in {groups} groups"
            )
        );
    }
}

// ---- Dropout2d ---------------------------------------------------------------------------

#[test]
fn dropout2d_zeroes_whole_channels_about_p_and_scales_the_rest() {
    let drop = Dropout2d::new(0.25, 3);
    let x = Tensor::ones(&[40, 50, 2, 3], DType::F64).requires_grad();
    let y = drop.forward(&x);
    let values = y.to_vec::<f64>();
    let mut dropped = 0;
    for channel in values.chunks(6) {
        assert!(channel.iter().all(|&v| v == channel[0]), "{channel:?}");
        match channel[0] {
            0.0 => dropped += 1,
            v => assert_eq!(v, 1.0 / 0.75),
        }
    }
    // 2000 channels, dropped ~ Binomial(2000, 0.25): mean 500, sd 19.4.
    assert!((430..=570).contains(&dropped), "{dropped} of 2000 dropped");
    y.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), values);
    // [N, C, L] is masked per channel too.
    let y = drop
        .forward(&Tensor::ones(&[4, 30, 5], DType::F32))
        .to_vec::<f32>();
    assert!(y.chunks(5).all(|c| c.iter().all(|&v| v == c[0])));
}

#[test]
fn dropout2d_is_seeded_identity_in_eval_and_saves_its_generator() {
    let x = Tensor::ones(&[2, 16, 2, 2], DType::F32);
    let a = Dropout2d::new(0.5, 11);
    let b = Dropout2d::new(0.5, 11);
    assert_eq!(a.forward(&x).to_vec::<f32>(), b.forward(&x).to_vec::<f32>());
    let saved = a.named_generators();
    assert_eq!(saved[0].0, "generator");
    let next = a.forward(&x).to_vec::<f32>();
    b.load_generators(&saved).unwrap();
    let mut replay = Dropout2d::new(0.5, 0);
    replay.load_generators(&saved).unwrap();
    assert_eq!(replay.forward(&x).to_vec::<f32>(), next);
    replay.set_training(false);
    assert_eq!(replay.forward(&x).to_vec::<f32>(), x.to_vec::<f32>());
    assert_eq!(
        replay
            .load_generators(&[("rng".to_string(), Generator::new(1))])
            .unwrap_err()
            .to_string(),
        "load_generators: the generators do not match the module: missing [\"generator\"]; \
         unexpected [\"rng\"]"
    );
}

#[test]
fn dropout2d_errors() {
    let drop = Dropout2d::new(0.5, 0);
    assert_eq!(drop.describe(), "Dropout2d(p=0.5)");
    for shape in [&[8][..], &[8, 9], &[1, 2, 3, 4, 5]] {
        assert_eq!(
            error(&drop, shape, DType::F32),
            format!(
                "forward: Dropout2d(p=0.5): input has shape {shape:?}, expected [N, C, H, W] or \
                 [N, C, L]"
            )
        );
    }
    assert_eq!(
        error(&drop, &[1, 2, 3, 4], DType::I64),
        "forward: Dropout2d(p=0.5): input has dtype i64, expected f32 or f64"
    );
    assert_eq!(
        Dropout2d::try_new(1.5, 0).err().unwrap().to_string(),
        "Dropout2d: the probability must be in [0, 1], got 1.5"
    );
}

// ---- State dicts to and from PyTorch -----------------------------------------------------

fn data(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Within 1e-12 of PyTorch's float64 values.
#[track_caller]
fn assert_within_1e12(got: &Tensor, expected: &Tensor) {
    assert_eq!(got.shape(), expected.shape());
    for (i, (g, e)) in got
        .to_vec::<f64>()
        .iter()
        .zip(expected.to_vec::<f64>())
        .enumerate()
    {
        assert!((g - e).abs() <= 1e-12, "element {i}: {g} vs PyTorch {e}");
    }
}

/// `torch.nn.Sequential(Conv2d(2, 3, 3, padding=1), BatchNorm2d(3))` after three training steps,
/// its state dict and outputs written by tools/pytorch_reference/conv_state_dict.py.
#[test]
fn a_pytorch_conv_and_batchnorm_state_dict_loads_and_gives_pytorchs_outputs() {
    let (mut tensors, _) = load_safetensors(data("torch_conv_bn.safetensors")).unwrap();
    let mut take = |name: &str| {
        let at = tensors.iter().position(|(n, _)| n == name).unwrap();
        tensors.remove(at).1
    };
    let (x, eval, train) = (take("input"), take("output_eval"), take("output_train"));
    let padding = ConvOptions {
        padding: Padding::Explicit([1, 1]),
        ..Default::default()
    };
    let mut rng = Generator::new(0);
    let mut net = Sequential::new();
    net.push(Box::new(Conv2d::new(
        2,
        3,
        [3, 3],
        padding,
        true,
        DType::F64,
        &mut rng,
    )));
    net.push(Box::new(BatchNorm2d::new(3, DType::F64)));
    net.load_state_dict(&tensors).unwrap();
    assert_eq!(net.named_buffers()[2].1.item::<i64>(), 3);
    net.set_training(false);
    assert_within_1e12(&net.forward(&x), &eval);
    net.set_training(true);
    assert_within_1e12(&net.forward(&x), &train);
}

/// The network of tools/pytorch_reference/conv_state_dict.py's `check`, as nabla writes it.
fn nabla_cnn() -> (ModelSpec, Schema, Sequential, Tensor) {
    let spec = ModelSpec::parse(
        "conv2d 4 3 padding=1, batchnorm2d, relu, maxpool2d 2, conv2d 6 3 groups=2, relu, \
         avgpool2d 2, flatten, linear 8, relu, linear",
    )
    .unwrap();
    let schema = Schema {
        input_shape: vec![2, 8, 8],
        task: Task::classes(3),
        preprocess: Preprocess::Image {
            mean: vec![0.5, 0.5],
            std: vec![0.25, 0.25],
            resize: None,
        },
    };
    let mut net = spec
        .build(
            &schema.input_shape,
            3,
            WeightInit::Default,
            DType::F64,
            &mut Generator::new(0),
        )
        .unwrap();
    for k in [1.0, 2.0] {
        net.forward(&det(&[4, 2, 8, 8], k));
    }
    net.set_training(false);
    (spec, schema, net, det(&[2, 2, 8, 8], 7.0))
}

/// The model tools/pytorch_reference/conv_state_dict.py `check` loads into torch.nn is what
/// nabla writes today (`NABLA_BLESS=1` rewrites it after a deliberate change): the same names,
/// shapes and metadata, the drawn weights and the input bit for bit, and the values computed by
/// kernels (BatchNorm's running statistics, the output) within 1e-12, since their last bits
/// follow the summation order of the machine's SIMD width. Its file rebuilds with
/// [`SavedModel::load`] giving the output it holds.
#[test]
fn the_nabla_cnn_fixture_for_pytorch_is_what_nabla_writes() {
    let (spec, schema, net, x) = nabla_cnn();
    let y = net.forward(&x);
    let files = [
        (
            "nabla_cnn.safetensors",
            net.state_dict(),
            metadata(&spec, &schema),
        ),
        (
            "nabla_cnn_io.safetensors",
            vec![
                ("input".to_string(), x.clone()),
                ("output".to_string(), y.clone()),
            ],
            Default::default(),
        ),
    ];
    for (name, mut tensors, meta) in files {
        // A safetensors file lists its tensors by name.
        tensors.sort_by(|a, b| a.0.cmp(&b.0));
        if std::env::var_os("NABLA_BLESS").is_some() {
            std::fs::write(data(name), encode(&tensors, &meta)).unwrap();
        }
        let (stored, stored_meta) = load_safetensors(data(name)).unwrap();
        let hint = format!(
            "tests/data/{name} is not what nabla writes now: rerun with NABLA_BLESS=1, then \
             tools/pytorch_reference/conv_state_dict.py check"
        );
        assert_eq!(stored_meta, meta, "{hint}");
        let names = |t: &[(String, Tensor)]| t.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(&stored), names(&tensors), "{hint}");
        for ((key, got), (_, now)) in stored.iter().zip(&tensors) {
            assert_eq!(got.shape(), now.shape(), "{key}: {hint}");
            assert_eq!(got.dtype(), now.dtype(), "{key}: {hint}");
            let computed = key.contains("running_") || key == "output";
            if computed {
                assert_within_1e12(got, now);
            } else {
                assert_eq!(got.to_f64_vec(), now.to_f64_vec(), "{key}: {hint}");
            }
        }
    }
    let (stored_io, _) = load_safetensors(data("nabla_cnn_io.safetensors")).unwrap();
    let saved = SavedModel::load(data("nabla_cnn.safetensors")).unwrap();
    assert_within_1e12(&saved.net.forward(&x), &stored_io[1].1);
}

// ---- Convolutions and pools --------------------------------------------------------------

/// Every value within `±bound`, and the largest near it (PyTorch's uniform initialisation).
#[track_caller]
fn assert_uniform_within(t: &Tensor, bound: f64) {
    let values = t.to_f64_vec();
    let largest = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(
        largest <= bound && largest > 0.8 * bound,
        "{largest} vs {bound}"
    );
}

fn options(stride: usize, padding: usize, groups: usize) -> ConvOptions<2> {
    ConvOptions {
        stride: [stride; 2],
        padding: Padding::Explicit([padding; 2]),
        dilation: [1, 1],
        groups,
    }
}

#[test]
fn conv_parameters_have_pytorchs_names_shapes_and_initial_bounds() {
    let mut rng = Generator::new(4);
    let conv = Conv2d::new(6, 8, [3, 5], options(1, 0, 2), true, DType::F64, &mut rng);
    assert_eq!(names(conv.state_dict()), ["weight", "bias"]);
    assert_eq!(conv.weight().shape(), &[8, 3, 3, 5]);
    // fan_in = in/groups·kh·kw = 3·3·5 = 45 for the weight (Kaiming uniform, a = √5) and bias.
    assert_uniform_within(conv.weight(), 1.0 / 45f64.sqrt());
    assert_uniform_within(conv.bias().unwrap(), 1.0 / 45f64.sqrt());
    assert_eq!(conv.describe(), "Conv2d(6 -> 8, 3x5, groups=2)");
    let conv = Conv1d::new(
        3,
        5,
        [4],
        ConvOptions::default(),
        false,
        DType::F32,
        &mut rng,
    );
    assert_eq!(names(conv.state_dict()), ["weight"]);
    assert_eq!(conv.weight().shape(), &[5, 3, 4]);
    assert_eq!(conv.describe(), "Conv1d(3 -> 5, 4, bias=false)");
    // Transposed: weight [in, out/groups, kh, kw], and PyTorch's fan in is its second dim
    // times the kernel, 4·2·2 = 16.
    let up = ConvTranspose2d::new(
        6,
        8,
        [2, 2],
        ConvTransposeOptions {
            groups: 2,
            ..Default::default()
        },
        true,
        DType::F64,
        &mut rng,
    );
    assert_eq!(up.weight().shape(), &[6, 4, 2, 2]);
    assert_eq!(up.bias().unwrap().shape(), &[8]);
    assert_uniform_within(up.weight(), 0.25);
    assert_uniform_within(up.bias().unwrap(), 0.25);
    assert_eq!(up.describe(), "ConvTranspose2d(6 -> 8, 2x2, groups=2)");
    // The same seed draws the same layer.
    let a = Conv2d::new(
        2,
        3,
        [3, 3],
        options(1, 0, 1),
        true,
        DType::F32,
        &mut Generator::new(1),
    );
    let b = Conv2d::new(
        2,
        3,
        [3, 3],
        options(1, 0, 1),
        true,
        DType::F32,
        &mut Generator::new(1),
    );
    assert_eq!(a.weight().to_vec::<f32>(), b.weight().to_vec::<f32>());
}

#[test]
fn conv_layers_apply_their_op_and_train_every_parameter() {
    let mut rng = Generator::new(2);
    let conv = Conv2d::new(4, 6, [3, 3], options(2, 1, 2), true, DType::F64, &mut rng);
    let x = det(&[2, 4, 7, 6], 1.0);
    let y = conv.forward(&x);
    assert_eq!(y.shape(), &[2, 6, 4, 3]);
    let direct = x.conv2d(conv.weight(), conv.bias(), conv.options());
    assert_eq!(y.to_vec::<f64>(), direct.to_vec::<f64>());
    assert_eq!(conv.forward(&det(&[4, 7, 6], 1.0)).shape(), &[6, 4, 3]);
    let conv = Conv2d::new(2, 3, [2, 2], options(1, 0, 1), true, DType::F64, &mut rng);
    assert_gradcheck(
        |v| {
            Conv2d::from_parts(v[1].clone(), Some(v[2].clone()), ConvOptions::default())
                .unwrap()
                .forward(&v[0])
        },
        &[
            det(&[1, 2, 3, 3], 2.0),
            conv.weight().detach(),
            conv.bias().unwrap().detach(),
        ],
    );
    let up = ConvTranspose2d::new(
        3,
        2,
        [3, 3],
        ConvTransposeOptions {
            stride: [2, 2],
            padding: [1, 1],
            output_padding: [1, 1],
            ..Default::default()
        },
        true,
        DType::F64,
        &mut rng,
    );
    assert_eq!(up.forward(&det(&[1, 3, 4, 5], 3.0)).shape(), &[1, 2, 8, 10]);
    let seq = Conv1d::new(
        2,
        3,
        [3],
        ConvOptions::default(),
        true,
        DType::F64,
        &mut rng,
    );
    let y = seq.forward(&det(&[2, 2, 9], 4.0));
    y.sum().backward();
    assert_eq!(y.shape(), &[2, 3, 7]);
    assert!(seq.weight().grad().is_some() && seq.bias().unwrap().grad().is_some());
}

#[test]
fn conv_layers_refuse_wrong_channels_ranks_and_too_small_inputs() {
    let mut rng = Generator::new(0);
    let conv = Conv2d::new(3, 8, [5, 5], options(1, 1, 1), true, DType::F32, &mut rng);
    let head = "forward: Conv2d(3 -> 8, 5x5, padding=1x1): input has";
    let expected = "expected [N, 3, H, W] (or [3, H, W]) with H >= 3 and W >= 3";
    for shape in [
        &[2, 1, 28, 28][..],
        &[2, 3, 2, 28],
        &[3, 28],
        &[1, 1, 3, 28, 28],
    ] {
        assert_eq!(
            error(&conv, shape, DType::F32),
            format!("{head} shape {shape:?}, {expected}")
        );
    }
    assert_eq!(
        error(&conv, &[2, 3, 8, 8], DType::F64),
        format!("{head} dtype f64, expected f32 (convert it with .to_dtype())")
    );
    let seq = Conv1d::new(
        2,
        4,
        [3],
        ConvOptions::default(),
        true,
        DType::F32,
        &mut rng,
    );
    assert_eq!(
        error(&seq, &[5, 2, 2], DType::F32),
        "forward: Conv1d(2 -> 4, 3): input has shape [5, 2, 2], expected [N, 2, L] (or [2, L]) \
         with L >= 3"
    );
    let up = ConvTranspose2d::new(
        4,
        2,
        [1, 1],
        ConvTransposeOptions {
            padding: [1, 1],
            ..Default::default()
        },
        true,
        DType::F32,
        &mut rng,
    );
    assert_eq!(
        error(&up, &[1, 4, 2, 2], DType::F32),
        "forward: ConvTranspose2d(4 -> 2, 1x1, padding=1x1): input has shape [1, 4, 2, 2], \
         expected [N, 4, H, W] (or [4, H, W])"
    );
}

#[test]
fn conv_constructors_refuse_bad_sizes() {
    let mut rng = Generator::new(0);
    let new = |i, o, k, opts: ConvOptions<2>, rng: &mut Generator| {
        Conv2d::try_new(i, o, k, opts, true, DType::F32, rng)
            .err()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        new(6, 4, [3, 3], options(1, 0, 4), &mut rng),
        "layer: Conv2d: in_channels (6) must be divisible by groups (4)"
    );
    assert_eq!(
        new(6, 4, [3, 0], options(1, 0, 1), &mut rng),
        "layer: Conv2d: the kernel size must be at least 1, got 3x0"
    );
    assert_eq!(
        new(0, 4, [3, 3], options(1, 0, 1), &mut rng),
        "layer: Conv2d: the numbers of channels must be at least 1"
    );
    let same = ConvOptions {
        stride: [2, 2],
        padding: Padding::Same,
        ..Default::default()
    };
    assert_eq!(
        new(2, 4, [3, 3], same, &mut rng),
        "layer: Conv2d: padding=same needs stride 1, got stride 2x2"
    );
    let weight = Tensor::zeros(&[4, 2, 3, 3], DType::F32);
    let bias = Tensor::zeros(&[3], DType::F32);
    assert_eq!(
        Conv2d::from_parts(weight, Some(bias), ConvOptions::default())
            .err()
            .unwrap()
            .to_string(),
        "layer: Conv2d: the bias must be [4] of dtype f32, got shape [3] of dtype f32"
    );
    let transpose = ConvTransposeOptions {
        stride: [2, 2],
        output_padding: [2, 0],
        ..Default::default()
    };
    assert_eq!(
        ConvTranspose2d::try_new(2, 2, [3, 3], transpose, true, DType::F32, &mut rng)
            .err()
            .unwrap()
            .to_string(),
        "layer: ConvTranspose2d: the output padding (2x0) must be smaller than the stride (2x2) \
         or the dilation (1x1)"
    );
}

#[test]
fn pools_give_pytorchs_shapes_and_refuse_what_does_not_fit() {
    let x = det(&[2, 3, 7, 9], 1.0);
    let overlapping = PoolOptions {
        stride: [2, 2],
        padding: [1, 1],
        ..PoolOptions::new([3, 3])
    };
    let max = MaxPool2d::try_with_options(overlapping).unwrap();
    assert_eq!(max.describe(), "MaxPool2d(3x3, stride=2x2, padding=1x1)");
    assert_eq!(max.forward(&x).shape(), &[2, 3, 4, 5]);
    assert_eq!(
        max.forward(&x).to_vec::<f64>(),
        x.max_pool2d(&overlapping).to_vec::<f64>()
    );
    let avg = AvgPool2d::new([2, 3]);
    assert_eq!(avg.forward(&x).shape(), &[2, 3, 3, 3]);
    assert_eq!(
        error(&avg, &[2, 3, 1, 9], DType::F64),
        "forward: AvgPool2d(2x3): input has shape [2, 3, 1, 9], expected [N, C, H, W] (or \
         [C, H, W]) with H >= 2 and W >= 3"
    );
    let gap = AdaptiveAvgPool2d::new([2, 3]);
    assert_eq!(gap.forward(&x).shape(), &[2, 3, 2, 3]);
    assert_eq!(gap.forward(&det(&[3, 1, 1], 0.0)).shape(), &[3, 2, 3]);
    for shape in [&[9][..], &[3, 9], &[1, 2, 3, 4, 5]] {
        assert_eq!(
            error(&gap, shape, DType::F64),
            format!(
                "forward: AdaptiveAvgPool2d(2x3): input has shape {shape:?}, expected [N, C, H, \
                 W] (or [C, H, W])"
            )
        );
    }
    assert_eq!(
        error(&max, &[1, 1, 4, 4], DType::I64),
        "forward: MaxPool2d(3x3, stride=2x2, padding=1x1): input has dtype i64, expected f32 or \
         f64"
    );
    assert_eq!(
        MaxPool2d::try_with_options(PoolOptions {
            padding: [2, 0],
            ..PoolOptions::new([3, 3])
        })
        .unwrap_err()
        .to_string(),
        "layer: MaxPool2d: the padding (2x0) must be at most half the kernel size (3x3)"
    );
    assert_eq!(
        AdaptiveAvgPool2d::try_new([0, 1]).unwrap_err().to_string(),
        "layer: AdaptiveAvgPool2d: the output size must be at least 1x1, got 0x1"
    );
}

#[test]
fn layers_with_sizes_near_the_limits_refuse_inputs_without_overflowing() {
    let weight = Tensor::zeros(&[1, 1, 3, 3], DType::F32);
    let huge = ConvOptions {
        padding: Padding::Explicit([1, 1]),
        dilation: [usize::MAX / 2, 1],
        ..Default::default()
    };
    let conv = Conv2d::from_parts(weight, None, huge).unwrap();
    assert_eq!(
        error(&conv, &[1, 1, 4, 4], DType::F32),
        format!(
            "forward: Conv2d(1 -> 1, 3x3, padding=1x1, dilation={}x1, bias=false): input has \
             shape [1, 1, 4, 4], expected [N, 1, H, W] (or [1, H, W]) with H >= {}",
            usize::MAX / 2,
            usize::MAX - 2
        )
    );
    let pool = MaxPool2d::try_with_options(PoolOptions {
        dilation: [usize::MAX, 1],
        ..PoolOptions::new([usize::MAX, 2])
    })
    .unwrap();
    assert_eq!(
        error(&pool, &[1, 1, 4, 4], DType::F32),
        format!(
            "forward: MaxPool2d({}x2): input has shape [1, 1, 4, 4], expected [N, C, H, W] (or \
             [C, H, W]) with H >= {} and W >= 2",
            usize::MAX,
            usize::MAX
        )
    );
}
