//! Every differentiable operation, in one table, checked against central differences in f64,
//! including broadcast and reduced shapes. Adding an op means adding a row here; a test fails
//! while some rule the crate defines has no row.

#[path = "support/cube.rs"]
mod cube;
#[path = "support/op_table.rs"]
mod support;

use cube::cube;
use nabla_core::ops::window::{ConvOptions, ConvTransposeOptions, Padding, PoolOptions};
use nabla_core::{BackwardOptions, DType, GradcheckOptions, Result, Tensor, gradcheck};
use support::{Row, any, input, positive};

/// Convolution options from stride, padding, dilation and groups.
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

fn table() -> Vec<Row> {
    vec![
        (
            "add broadcast",
            |v| &v[0] + &v[1],
            vec![any(&[3, 4], 1.0), any(&[4], 2.0)],
        ),
        (
            "sub broadcast",
            |v| &v[0] - &v[1],
            vec![any(&[3, 1], 1.0), any(&[1, 4], 2.0)],
        ),
        (
            "mul broadcast",
            |v| &v[0] * &v[1],
            vec![any(&[2, 3, 4], 1.0), any(&[3, 1], 2.0)],
        ),
        (
            "div broadcast",
            |v| &v[0] / &v[1],
            vec![any(&[3, 4], 1.0), positive(&[4], 2.0)],
        ),
        (
            "scalar ops",
            |v| (2.0 - &v[0]) * 3.0 + 1.5 / &v[1] - &v[0] / 4.0,
            vec![any(&[5], 1.0), positive(&[5], 2.0)],
        ),
        ("neg", |v| -&v[0], vec![any(&[4], 1.0)]),
        (
            "pow",
            |v| v[0].pow(&v[1]),
            vec![positive(&[3, 2], 1.0), any(&[2], 2.0)],
        ),
        ("powf", |v| v[0].powf(2.5), vec![positive(&[4], 1.0)]),
        ("exp", |v| v[0].exp(), vec![any(&[4], 1.0)]),
        ("log", |v| v[0].log(), vec![positive(&[4], 1.0)]),
        ("sqrt", |v| v[0].sqrt(), vec![positive(&[4], 1.0)]),
        ("abs", |v| v[0].abs(), vec![any(&[6], 1.0)]),
        ("sin", |v| v[0].sin(), vec![any(&[4], 1.0)]),
        ("cos", |v| v[0].cos(), vec![any(&[4], 1.0)]),
        ("tanh", |v| v[0].tanh(), vec![any(&[4], 1.0)]),
        (
            "sigmoid",
            |v| v[0].sigmoid(),
            vec![input(&[4], 1.0, 5.0, 0.0)],
        ),
        ("relu", |v| v[0].relu(), vec![any(&[6], 1.0)]),
        ("leaky_relu", |v| v[0].leaky_relu(0.2), vec![any(&[6], 1.0)]),
        ("gelu", |v| v[0].gelu(), vec![input(&[6], 1.0, 3.0, 0.0)]),
        ("erf", |v| v[0].erf(), vec![any(&[6], 1.0)]),
        ("recip", |v| v[0].recip(), vec![positive(&[4], 1.0)]),
        ("clamp", |v| v[0].clamp(-0.5, 0.6), vec![any(&[8], 1.0)]),
        ("clamp_min", |v| v[0].clamp_min(-0.5), vec![any(&[8], 1.0)]),
        ("clamp_max", |v| v[0].clamp_max(0.6), vec![any(&[8], 1.0)]),
        (
            "maximum",
            |v| v[0].maximum(&v[1]),
            vec![any(&[3, 4], 1.0), any(&[4], 2.5)],
        ),
        (
            "minimum",
            |v| v[0].minimum(&v[1]),
            vec![any(&[3, 4], 1.0), any(&[3, 1], 2.5)],
        ),
        (
            "where",
            |v| v[0].gt_scalar(0.0).where_cond(&v[0], &(&v[1] * 2.0)),
            vec![any(&[3, 4], 1.0), any(&[4], 2.0)],
        ),
        (
            "masked_fill",
            |v| v[0].masked_fill(&v[0].lt_scalar(0.0), 0.5),
            vec![any(&[6], 1.0)],
        ),
        ("sum all", |v| v[0].sum(), vec![any(&[3, 4], 1.0)]),
        (
            "sum dims keepdim",
            |v| v[0].sum_dims(&[0, 2], true),
            vec![any(&[2, 3, 4], 1.0)],
        ),
        (
            "sum dims",
            |v| v[0].sum_dims(&[-1], false),
            vec![any(&[2, 3, 4], 1.0)],
        ),
        (
            "mean",
            |v| v[0].mean_dims(&[1], false),
            vec![any(&[2, 3, 4], 1.0)],
        ),
        (
            "max dims",
            |v| v[0].max_dims(&[1], false),
            vec![any(&[3, 5], 1.0)],
        ),
        ("min all", |v| v[0].min(), vec![any(&[3, 5], 1.0)]),
        (
            "var",
            |v| v[0].var_dims(&[0], true, 1),
            vec![any(&[4, 3], 1.0)],
        ),
        (
            "std",
            |v| v[0].std_dims(&[1], true, 1),
            vec![any(&[3, 4], 1.0)],
        ),
        ("std all", |v| v[0].std(), vec![any(&[2, 3], 1.0)]),
        (
            "logsumexp",
            |v| v[0].logsumexp(&[1], false),
            vec![input(&[3, 4], 1.0, 10.0, 0.0)],
        ),
        ("softmax", |v| v[0].softmax(1), vec![any(&[3, 4], 1.0)]),
        (
            "log_softmax",
            |v| v[0].log_softmax(0),
            vec![any(&[3, 4], 1.0)],
        ),
        (
            "matmul 2-d",
            |v| v[0].matmul(&v[1]),
            vec![any(&[3, 4], 1.0), any(&[4, 2], 2.0)],
        ),
        (
            "matmul batched broadcast",
            |v| v[0].matmul(&v[1]),
            vec![any(&[2, 1, 3, 4], 1.0), any(&[3, 4, 2], 2.0)],
        ),
        (
            "matmul vector",
            |v| v[0].matmul(&v[1]),
            vec![any(&[4], 1.0), any(&[4, 3], 2.0)],
        ),
        (
            "matmul dot",
            |v| v[0].matmul(&v[1]),
            vec![any(&[4], 1.0), any(&[4], 2.0)],
        ),
        (
            "matmul matrix vector",
            |v| v[0].matmul(&v[1]),
            vec![any(&[3, 4], 1.0), any(&[4], 2.0)],
        ),
        (
            "matmul batch vector",
            |v| v[0].matmul(&v[1]),
            vec![any(&[2, 3, 4], 1.0), any(&[4], 2.0)],
        ),
        (
            "matmul vector batch",
            |v| v[0].matmul(&v[1]),
            vec![any(&[4], 1.0), any(&[2, 4, 3], 2.0)],
        ),
        (
            "matmul transposed",
            |v| v[0].t().matmul(&v[1].t()),
            vec![any(&[4, 3], 1.0), any(&[2, 4], 2.0)],
        ),
        (
            "reshape",
            |v| v[0].reshape(&[4, 3]) * &v[1],
            vec![any(&[2, 6], 1.0), any(&[3], 2.0)],
        ),
        (
            "permute",
            |v| v[0].permute(&[2, 0, 1]).exp(),
            vec![any(&[2, 3, 4], 1.0)],
        ),
        (
            "transpose then reshape",
            |v| v[0].t().reshape(&[6]),
            vec![any(&[2, 3], 1.0)],
        ),
        ("narrow", |v| v[0].narrow(1, 1, 2), vec![any(&[3, 4], 1.0)]),
        (
            "expand",
            |v| v[0].expand(&[2, 3, 4]),
            vec![any(&[3, 1], 1.0)],
        ),
        (
            "squeeze unsqueeze",
            |v| v[0].unsqueeze(0).squeeze(2).unsqueeze(-1),
            vec![any(&[3, 1], 1.0)],
        ),
        (
            "flatten",
            |v| v[0].flatten(1, 2),
            vec![any(&[2, 3, 2], 1.0)],
        ),
        (
            "contiguous",
            |v| v[0].t().contiguous(),
            vec![any(&[2, 3], 1.0)],
        ),
        (
            "cat",
            |v| Tensor::cat(&[&v[0], &v[1]], 1),
            vec![any(&[2, 3], 1.0), any(&[2, 1], 2.0)],
        ),
        (
            "stack",
            |v| Tensor::stack(&[&v[0], &v[1]], 0),
            vec![any(&[2, 3], 1.0), any(&[2, 3], 2.0)],
        ),
        (
            "gather",
            |v| v[0].gather(1, &Tensor::from_vec(vec![2i64, 0, 1, 2, 1, 0], &[2, 3])),
            vec![any(&[2, 4], 1.0)],
        ),
        (
            "index_select repeat",
            |v| v[0].index_select(0, &Tensor::from_vec(vec![1i64, 1, 0], &[3])),
            vec![any(&[2, 3], 1.0)],
        ),
        (
            "scatter_add",
            |v| v[0].scatter_add(1, &Tensor::from_vec(vec![0i64, 0, 2, 1], &[2, 2]), &v[1]),
            vec![any(&[2, 3], 1.0), any(&[2, 2], 2.0)],
        ),
        (
            "to_dtype round trip",
            |v| v[0].to_dtype(DType::F32).to_dtype(DType::F64) * &v[0],
            vec![input(&[3], 1.0, 1.0, 0.0)],
        ),
        ("square", |v| v[0].powf(2.0), vec![any(&[4], 1.0)]),
        ("sign", |v| v[0].sign() * &v[0], vec![any(&[5], 1.0)]),
        (
            "add mul div scalar",
            |v| v[0].add_scalar(0.5).mul_scalar(-1.5).div_scalar(4.0),
            vec![any(&[4], 1.0)],
        ),
        (
            "linear",
            |v| v[0].linear(&v[1], Some(&v[2])),
            vec![any(&[2, 3, 4], 1.0), any(&[5, 4], 2.0), any(&[5], 3.0)],
        ),
        (
            "linear without bias",
            |v| v[0].linear(&v[1], None),
            vec![any(&[3, 4], 1.0), any(&[2, 4], 2.0)],
        ),
        (
            "conv2d stride 2 padding 1 with bias",
            |v| {
                v[0].conv2d(
                    &v[1],
                    Some(&v[2]),
                    &conv([2, 2], Padding::Explicit([1, 1]), [1, 1], 1),
                )
            },
            vec![
                any(&[2, 2, 5, 5], 1.0),
                any(&[3, 2, 3, 3], 2.0),
                any(&[3], 3.0),
            ],
        ),
        (
            "conv2d dilation 2 groups 2 without bias",
            |v| {
                v[0].conv2d(
                    &v[1],
                    None,
                    &conv([1, 1], Padding::Explicit([1, 0]), [2, 2], 2),
                )
            },
            vec![any(&[1, 4, 5, 6], 1.0), any(&[4, 2, 2, 2], 2.0)],
        ),
        (
            "conv2d same with an odd total padding",
            |v| v[0].conv2d(&v[1], Some(&v[2]), &conv([1, 1], Padding::Same, [1, 1], 1)),
            vec![
                any(&[1, 1, 4, 5], 1.0),
                any(&[2, 1, 2, 3], 2.0),
                any(&[2], 3.0),
            ],
        ),
        (
            "conv2d 1x1 unbatched",
            |v| v[0].conv2d(&v[1], Some(&v[2]), &ConvOptions::default()),
            vec![
                any(&[3, 3, 3], 1.0),
                any(&[2, 3, 1, 1], 2.0),
                any(&[2], 3.0),
            ],
        ),
        (
            "conv1d stride 2 padding 1 groups 2",
            |v| {
                let o = ConvOptions {
                    stride: [2],
                    padding: Padding::Explicit([1]),
                    dilation: [1],
                    groups: 2,
                };
                v[0].conv1d(&v[1], Some(&v[2]), &o)
            },
            vec![any(&[2, 2, 7], 1.0), any(&[4, 1, 3], 2.0), any(&[4], 3.0)],
        ),
        (
            "conv_transpose2d stride 2 padding 1 output padding 1",
            |v| {
                let o = ConvTransposeOptions {
                    stride: [2, 2],
                    padding: [1, 1],
                    output_padding: [1, 0],
                    ..Default::default()
                };
                v[0].conv_transpose2d(&v[1], Some(&v[2]), &o)
            },
            vec![
                any(&[1, 2, 3, 3], 1.0),
                any(&[2, 3, 3, 3], 2.0),
                any(&[3], 3.0),
            ],
        ),
        (
            "conv_transpose2d dilation 2 groups 2",
            |v| {
                let o = ConvTransposeOptions {
                    dilation: [2, 2],
                    groups: 2,
                    ..Default::default()
                };
                v[0].conv_transpose2d(&v[1], None, &o)
            },
            vec![any(&[2, 4, 3, 3], 1.0), any(&[4, 1, 2, 2], 2.0)],
        ),
        (
            "conv2d_weight stride 2",
            |v| {
                v[0].conv2d_weight(
                    [3, 2, 2, 2],
                    &v[1],
                    &conv([2, 2], Padding::Explicit([1, 1]), [1, 1], 1),
                )
            },
            vec![any(&[1, 2, 4, 4], 1.0), any(&[1, 3, 3, 3], 2.0)],
        ),
        (
            "pad",
            |v| v[0].pad(&[(1, 2), (0, 1)], 0.5),
            vec![any(&[2, 3], 1.0)],
        ),
        (
            "unfold stride padding",
            |v| v[0].unfold([2, 3], &conv([1, 2], Padding::Explicit([1, 0]), [1, 1], 1)),
            vec![any(&[1, 2, 4, 4], 1.0)],
        ),
        (
            "max_pool2d overlapping windows with padding",
            |v| v[0].max_pool2d(&pool([3, 3], [2, 2], [1, 1])),
            vec![any(&[2, 2, 5, 5], 1.0)],
        ),
        (
            "max_pool2d dilated, ceil mode, unbatched",
            |v| {
                let mut o = pool([2, 3], [2, 2], [1, 0]);
                o.dilation = [2, 1];
                o.ceil_mode = true;
                v[0].max_pool2d(&o)
            },
            vec![any(&[2, 6, 7], 1.0)],
        ),
        (
            "max_pool2d backward",
            |v| pool_gradient(&v[0], |x| x.max_pool2d(&pool([3, 2], [2, 1], [1, 0]))),
            vec![any(&[1, 2, 2, 4], 2.0)],
        ),
        (
            "avg_pool2d overlapping windows with padding",
            |v| v[0].avg_pool2d(&pool([3, 3], [2, 2], [1, 1])),
            vec![any(&[2, 2, 5, 5], 1.0)],
        ),
        (
            "avg_pool2d ceil mode without the padding in the count",
            |v| {
                let mut o = pool([3, 2], [2, 2], [1, 1]);
                o.ceil_mode = true;
                o.count_include_pad = false;
                v[0].avg_pool2d(&o)
            },
            vec![any(&[1, 2, 6, 5], 1.0)],
        ),
        (
            "avg_pool2d backward",
            |v| pool_gradient(&v[0], |x| x.avg_pool2d(&pool([2, 3], [1, 2], [1, 1]))),
            vec![any(&[1, 2, 5, 3], 2.0)],
        ),
        (
            "adaptive_avg_pool2d non-divisible sizes",
            |v| v[0].adaptive_avg_pool2d([3, 4]),
            vec![any(&[2, 2, 5, 7], 1.0)],
        ),
        (
            "lstm_cell",
            |v| v[0].lstm_cell(&v[1], &v[2]),
            vec![any(&[2, 12], 1.0), any(&[2, 12], 2.0), any(&[2, 3], 3.0)],
        ),
        (
            "lstm_cell transposed gates, c narrowed",
            |v| v[0].t().lstm_cell(&v[1], &v[2].narrow(1, 3, 3)),
            vec![any(&[12, 2], 1.0), any(&[2, 12], 2.0), any(&[2, 6], 3.0)],
        ),
        (
            "lstm_sequence",
            |v| v[0].lstm_sequence(&v[1], &v[2], Some(&v[3]), &v[4], &v[5], false),
            lstm_sequence_operands(2),
        ),
        (
            "lstm_sequence reverse, unbiased, transposed weight, c0 narrowed",
            |v| v[0].lstm_sequence(&v[1], &v[2].t(), None, &v[3], &v[4].narrow(1, 3, 3), true),
            vec![
                any(&[3, 2, 2], 1.0),
                any(&[12, 2], 5.0),
                any(&[3, 12], 2.0),
                any(&[2, 3], 3.0),
                any(&[2, 6], 4.0),
            ],
        ),
        (
            "lstm_sequence of an input with no features",
            |v| v[0].lstm_sequence(&v[1], &v[2], Some(&v[3]), &v[4], &v[5], false),
            lstm_sequence_operands(0),
        ),
        (
            "lstm_sequence_final",
            |v| v[0].lstm_sequence_final(&v[1], &v[2], Some(&v[3]), &v[4], &v[5], false),
            lstm_sequence_operands(2),
        ),
        (
            "lstm_sequence_final reverse, from zero",
            |v| v[0].lstm_sequence_final(&v[1], &v[2], Some(&v[3]), &(&v[4] * 0.0), &v[5], true),
            lstm_sequence_operands(2),
        ),
        (
            "gru_cell",
            |v| v[0].gru_cell(&v[1], &v[2]),
            vec![any(&[2, 9], 1.0), any(&[2, 9], 2.0), any(&[2, 3], 3.0)],
        ),
        (
            "gru_cell transposed gates, h narrowed",
            |v| v[0].gru_cell(&v[1].t(), &v[2].narrow(1, 3, 3)),
            vec![any(&[2, 9], 1.0), any(&[9, 2], 2.0), any(&[2, 6], 3.0)],
        ),
        (
            "embedding repeated indices",
            |v| v[0].embedding(&embedding_indices(), None),
            vec![any(&[4, 3], 1.0)],
        ),
        (
            "embedding padding_idx",
            // The padding row is a constant: its gradient is zero by convention, not by
            // calculus, so it is no input here.
            |v| {
                let padding = Tensor::full(&[1, 3], 0.5, DType::F64);
                let rows = [&v[0].narrow(0, 0, 1), &padding, &v[0].narrow(0, 1, 2)];
                Tensor::cat(&rows, 0).embedding(&embedding_indices(), Some(1))
            },
            vec![any(&[3, 3], 1.0)],
        ),
        (
            "embedding backward",
            |v| {
                gradient_node(&v[0], &[4, 3], |w| {
                    w.embedding(&embedding_indices(), Some(1))
                })
            },
            vec![any(&[2, 3, 3], 2.0)],
        ),
        ("custom function", |v| cube(&v[0]), vec![any(&[4], 1.0)]),
        (
            "checkpoint with a captured weight",
            |v| {
                let w = v[1].clone();
                nabla_core::checkpoint(move |u| u[0].linear(&w, None).tanh(), &[&v[0]]).unwrap()
            },
            vec![any(&[2, 3], 1.0), any(&[4, 3], 2.0)],
        ),
    ]
}

/// Pooling options with a kernel, stride and padding, the rest PyTorch's defaults.
fn pool(kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2]) -> PoolOptions<2> {
    PoolOptions {
        stride,
        padding,
        ..PoolOptions::new(kernel)
    }
}

/// A biased LSTM sequence's operands `[x, W_ih, W_hh, bias, h0, c0]`: 3 steps of 2 rows of
/// `features` inputs, hidden size 3.
fn lstm_sequence_operands(features: usize) -> Vec<Tensor> {
    vec![
        any(&[3, 2, features], 1.0),
        any(&[12, features], 5.0),
        any(&[12, 3], 2.0),
        any(&[12], 6.0),
        any(&[2, 3], 3.0),
        any(&[2, 3], 4.0),
    ]
}

/// Indices `[2, 3]` into 4 rows, with repeats (row 1, the padding row of the rows with
/// padding, twice; row 3 twice) and a row never looked up.
fn embedding_indices() -> Tensor {
    Tensor::from_vec(vec![3i64, 1, 0, 1, 3, 0], &[2, 3])
}

/// A pool's backward operation run forward on `g`: [`gradient_node`] at an input `[1, 2, 4, 5]`.
fn pool_gradient(g: &Tensor, f: fn(&Tensor) -> Tensor) -> Tensor {
    gradient_node(g, &[1, 2, 4, 5], f)
}

/// A backward operation run forward on `g`: the node that computes the gradient of `f` at a
/// fixed input of `shape` in a differentiable backward pass, replayed on `g` as its output
/// gradient.
fn gradient_node(g: &Tensor, shape: &[usize], f: fn(&Tensor) -> Tensor) -> Tensor {
    // Recorded whatever the mode the checks run it in; only the replay is theirs.
    let node = nabla_core::enable_grad(|| {
        let x = any(shape, 5.0).requires_grad();
        let y = f(&x);
        let seed = Tensor::ones(y.shape(), DType::F64).requires_grad();
        let create = BackwardOptions {
            create_graph: true,
            ..Default::default()
        };
        let dx = nabla_core::try_grad(&[&y], Some(&[&seed]), &[&x], create).unwrap();
        dx[0].grad_fn().unwrap()
    });
    node.replay(std::slice::from_ref(g)).unwrap().unwrap()
}

#[test]
fn every_op_passes_gradcheck() {
    let failures = support::gradcheck_failures(&table(), options_for);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Options per row: the f32 round trip quantises the forward to ~1e-7, so its row takes a wide
/// step (central differences are exact for its quadratic anyway) and a matching tolerance.
fn options_for(name: &str) -> GradcheckOptions {
    let mut options = GradcheckOptions::default();
    if name.starts_with("to_dtype") {
        options.eps = 1e-2;
        options.atol = 1e-4;
    }
    options
}

#[test]
fn every_op_passes_gradgradcheck() {
    let failures = support::gradgradcheck_failures(&table(), options_for);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn forward_mode_agrees_with_reverse_mode_for_every_op() {
    // Through f32, the tangent and the gradient are rounded at different points.
    let tolerance = |name: &str| {
        if name.starts_with("to_dtype") {
            1e-6
        } else {
            1e-9
        }
    };
    let failures = support::forward_reverse_failures(&table(), tolerance);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_node_of_every_row_replays_and_passes_its_own_check() {
    let failures = support::node_check_failures(&table(), options_for);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_table_exercises_every_rule_the_crate_defines() {
    let exercised = support::rules_exercised(&table());
    let gaps = support::coverage_gaps(&exercised, &nabla_core::autograd::rules::all());
    assert!(gaps.is_empty(), "{}", gaps.join("\n"));
}

#[test]
fn every_rule_states_its_formula_and_its_derivative_is_the_engines() {
    let failures = support::formula_failures(&table());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rule_in_the_source_is_declared() {
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let undeclared = support::undeclared_rules(&source, &nabla_core::autograd::rules::all());
    assert!(undeclared.is_empty(), "{}", undeclared.join("\n"));
}

#[test]
fn gradcheck_names_the_worst_entry_of_a_wrong_rule() {
    use nabla_core::{Backward, GradcheckOutcome, Gradients, no_grad, record_operation};
    struct WrongSquare;
    impl Backward for WrongSquare {
        fn name(&self) -> &'static str {
            "WrongSquareBackward"
        }
        fn vjp(&self, saved: &[Tensor], g: &Tensor, _: &[bool]) -> Gradients {
            // 3x instead of 2x.
            Gradients::from_iter([Some(g * &saved[0] * 3.0)])
        }
    }
    let f = |v: &[Tensor]| {
        let x = &v[0];
        record_operation(no_grad(|| x * x), &[x], WrongSquare, &[x])
    };
    let x = Tensor::from_vec(vec![0.5f64, -2.0, 1.0], &[3]);
    match gradcheck(f, &[x], GradcheckOptions::default()).unwrap() {
        GradcheckOutcome::Failed(m) => {
            assert_eq!(
                (m.input, m.input_index.clone(), m.output_index.clone()),
                (0, vec![1], vec![1])
            );
            assert!(
                (m.analytic - -6.0).abs() < 1e-12 && (m.numerical - -4.0).abs() < 1e-6,
                "{m:?}"
            );
        }
        passed => panic!("a wrong rule passed: {passed}"),
    }
}

#[test]
fn gradcheck_rejects_f32_inputs() {
    let err = gradcheck(
        |v| v[0].exp(),
        &[Tensor::zeros(&[2], DType::F32)],
        GradcheckOptions::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("gradcheck: dtype f32 is not supported"),
        "{err}"
    );
}

/// The in-place operations have no rule: they write outside the graph. So that no gradient
/// silently ignores a write, each refuses a tensor computed by a recorded operation while
/// recording is on (PyTorch would record the write), and writes it under `no_grad`.
#[test]
fn in_place_operations_refuse_a_tensor_of_the_graph() {
    type Write = fn(&Tensor) -> Result<()>;
    let writes: [(&str, Write); 5] = [
        ("copy_", |t| t.try_copy_(&any(&[3], 2.0))),
        ("add_scaled_", |t| t.try_add_scaled_(&any(&[3], 2.0), 2.0)),
        ("mul_scalar_", |t| t.try_mul_scalar_(3.0)),
        ("fill_", |t| t.try_fill_(1.0)),
        ("update_", |t| {
            t.try_update_(&[], |v: &mut [f64], _| v[0] = 0.0)
        }),
    ];
    for (name, write) in writes {
        let x = any(&[3], 1.0).requires_grad();
        let y = &x * 2.0;
        assert_eq!(
            write(&y).unwrap_err().to_string(),
            format!(
                "{name}: a tensor of shape [3] computed by MulBackward is being modified in place \
                 while gradients are recorded; the write would not be recorded and gradients \
                 through the tensor would be wrong: use the out-of-place operation, or write \
                 under no_grad"
            )
        );
        assert_eq!(
            y.to_vec::<f64>(),
            (&x * 2.0).to_vec::<f64>(),
            "{name} wrote"
        );
        nabla_core::no_grad(|| write(&y)).unwrap();
    }
}
