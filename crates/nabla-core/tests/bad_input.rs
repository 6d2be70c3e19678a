//! Bad input through the library: out-of-range views, shapes whose size overflows or exceeds
//! memory, mismatched dtypes. Each returns an error naming the operation and what is wrong (and
//! never reaches memory outside a buffer), and the panicking form panics with the same message.

use nabla_core::{BackwardOptions, DType, Tensor};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The message of the panic `f` raises.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("the call panics");
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

/// A `try_` call's result and its panicking twin.
type Case<'a> = (nabla_core::Result<Tensor>, Box<dyn FnOnce() + 'a>);

fn err(result: nabla_core::Result<Tensor>) -> String {
    result.map(|_| ()).unwrap_err().to_string()
}

fn square(n: usize) -> Tensor {
    Tensor::arange(0.0f32, (n * n) as f32, 1.0).reshape(&[n, n])
}

#[test]
fn narrow_whose_end_wraps_around_is_refused() {
    let x = square(64);
    let message = "narrow: start 18446744073709551553 plus length 64 exceeds size 64 of dim 1 in \
                   shape [64, 64]";
    assert_eq!(err(x.try_narrow(1, usize::MAX - 62, 64)), message);
    assert_eq!(
        panic_message(|| {
            x.narrow(1, usize::MAX - 62, 64);
        }),
        message
    );
    assert!(x.try_narrow(0, usize::MAX, 1).is_err());
    assert!(x.try_narrow(0, 1, usize::MAX).is_err());
    // The largest valid narrow still multiplies correctly.
    let last = x.narrow(1, 63, 1);
    assert_eq!(
        last.matmul(&Tensor::ones(&[1, 1], DType::F32))
            .to_vec::<f32>(),
        (0..64).map(|r| (r * 64 + 63) as f32).collect::<Vec<_>>()
    );
}

#[test]
fn empty_narrows_at_the_end_of_every_dim_read_as_empty() {
    let x = square(4);
    let empty = x.narrow(1, 4, 0).narrow(0, 4, 0);
    assert_eq!(empty.shape(), &[0, 0]);
    assert!(empty.to_vec::<f32>().is_empty());
    assert_eq!(empty.contiguous().numel(), 0);
    assert_eq!(
        x.narrow(1, 4, 0)
            .matmul(&Tensor::zeros(&[0, 3], DType::F32))
            .to_vec::<f32>(),
        vec![0.0; 12]
    );
}

/// Found by the broadcasting property test: the gradient of `[0, 1] - [2]` sums a `[0, 2]`
/// gradient over dim 0, which split its data into chunks of zero elements and panicked.
#[test]
fn sums_over_an_empty_dim_give_zeros() {
    let empty = Tensor::zeros(&[0, 2], DType::F32);
    assert_eq!(empty.sum_dims(&[0], false).to_vec::<f32>(), vec![0.0, 0.0]);
    assert_eq!(empty.sum_dims(&[0], true).shape(), &[1, 2]);
    assert_eq!(empty.sum_dims(&[1], false).shape(), &[0]);
    let a = Tensor::zeros(&[0, 1], DType::F64).requires_grad();
    let b = Tensor::ones(&[2], DType::F64).requires_grad();
    (&a - &b).sum().backward();
    assert_eq!(b.grad().unwrap().to_vec::<f64>(), vec![0.0, 0.0]);
    assert_eq!(a.grad().unwrap().shape(), &[0, 1]);
}

#[test]
fn shapes_whose_size_overflows_are_refused_by_every_constructor() {
    let message = "zeros: shape [18446744073709551615, 2] has more elements than fit in memory \
                   (the product of its dims overflows)";
    assert_eq!(
        err(Tensor::try_zeros(&[usize::MAX, 2], DType::F32)),
        message
    );
    assert_eq!(
        panic_message(|| {
            Tensor::zeros(&[usize::MAX, 2], DType::F32);
        }),
        message
    );
    // A zero-size dim does not hide an overflow of the others.
    assert!(Tensor::try_zeros(&[0, usize::MAX, 2], DType::F32).is_err());
    assert!(Tensor::try_ones(&[1 << 32, 1 << 32], DType::F64).is_err());
    assert!(Tensor::try_full(&[1 << 32, 1 << 32], 1.0, DType::I64).is_err());
    assert!(Tensor::try_randn(&[1 << 32, 1 << 32], DType::F32).is_err());
    assert!(Tensor::try_rand(&[1 << 32, 1 << 32], DType::F32).is_err());
    assert!(Tensor::try_eye(1 << 32, DType::F32).is_err());
    assert!(Tensor::try_linspace(0.0, 1.0, usize::MAX, DType::F32).is_err());
    assert_eq!(
        err(Tensor::try_from_vec(Vec::<f32>::new(), &[1 << 32, 1 << 32])),
        "from_vec: shape [4294967296, 4294967296] has more elements than fit in memory (the \
         product of its dims overflows)"
    );
    assert!(Tensor::try_from_vec(Vec::<f32>::new(), &[0, usize::MAX, 2]).is_err());
}

#[test]
fn allocations_beyond_memory_are_refused_with_the_size_named() {
    assert_eq!(
        err(Tensor::try_zeros(&[1 << 62], DType::F64)),
        "zeros: shape [4611686018427387904] of f64 needs 4611686018427387904 × 8 bytes, more \
         than fit in memory (over isize::MAX)"
    );
    // 4 TiB: beyond any test machine's memory, within isize.
    let message = err(Tensor::try_zeros(&[1 << 40], DType::F32));
    assert!(
        message.starts_with(
            "zeros: shape [1099511627776] of f32 needs 4.0 TiB, more than this machine's "
        ),
        "{message}"
    );
    // An expanded view costs nothing; copying it would.
    let wide = Tensor::scalar(1.0f32).expand(&[1 << 40]);
    assert!(
        err(wide.try_exp()).starts_with("ExpBackward: shape [1099511627776] of f32 needs 4.0 TiB")
    );
    assert!(err(wide.try_contiguous()).starts_with("contiguous: shape [1099511627776] of f32"));
    assert!(err(wide.try_add_scalar(1.0)).starts_with("AddBackward: shape [1099511627776]"));
    assert!(err(wide.try_gt_scalar(0.0)).starts_with("gt: shape [1099511627776]"));
    assert!(err(wide.try_sum_dims(&[], false)).starts_with("sum"));
    let copy = panic_message(|| {
        wide.contiguous();
    });
    assert_eq!(copy, err(wide.try_contiguous()));
}

#[test]
fn views_whose_size_overflows_are_refused() {
    let empty = Tensor::zeros(&[0], DType::F32);
    assert!(empty.try_reshape(&[1 << 32, 1 << 32, 0]).is_err());
    assert!(empty.try_reshape_infer(&[-1, 1 << 32, 1 << 32, 0]).is_err());
    assert!(empty.try_reshape(&[1 << 20, 0]).is_ok());
    let one = Tensor::scalar(1.0f32);
    assert_eq!(
        err(one.try_expand(&[1 << 32, 1 << 32])),
        "expand: shape [4294967296, 4294967296] has more elements than fit in memory (the \
         product of its dims overflows)"
    );
    let column = one.expand(&[1 << 40, 1]);
    let row = one.expand(&[1, 1 << 40]);
    assert_eq!(
        err(column.try_add(&row)),
        "add: shape [1099511627776, 1099511627776] has more elements than fit in memory (the \
         product of its dims overflows)"
    );
    assert!(column.try_lt(&row).is_err());
    assert!(column.try_where_cond(&row, &row).is_err());
}

#[test]
fn index_and_product_outputs_whose_size_overflows_are_refused() {
    let tall = Tensor::zeros(&[1 << 40, 0], DType::F32);
    let wide = Tensor::zeros(&[0, 1 << 40], DType::F32);
    assert_eq!(
        err(tall.try_matmul(&wide)),
        "matmul: shape [1099511627776, 1099511627776] has more elements than fit in memory (the \
         product of its dims overflows)"
    );
    assert!(
        tall.try_linear(&Tensor::zeros(&[1 << 40, 0], DType::F32), None)
            .is_err()
    );
    let half = Tensor::zeros(&[0, 1 << 62], DType::F32);
    assert!(Tensor::try_cat(&[&half, &half, &half, &half], 1).is_err());
    let labels = Tensor::from_vec(vec![0i64], &[1]);
    assert!(labels.try_one_hot(usize::MAX, DType::F32).is_err());
    let picks = Tensor::scalar(0i64).expand(&[1 << 31]);
    let rows = Tensor::scalar(1.0f32).expand(&[1, 1 << 40]);
    assert!(err(rows.try_index_select(0, &picks)).starts_with("index_select: shape"));
}

#[test]
fn arange_follows_pytorch_on_bad_ranges() {
    assert_eq!(
        err(Tensor::try_arange(0.0f64, 1.0, 0.0)),
        "arange: step must not be zero"
    );
    assert_eq!(
        err(Tensor::try_arange(0.0f64, 1.0, -0.5)),
        "arange: the step -0.5 does not lead from 0 to 1"
    );
    assert_eq!(
        err(Tensor::try_arange(0.0f64, f64::NAN, 1.0)),
        "arange: unsupported range 0 to NaN by 1: all three must be finite"
    );
    assert!(Tensor::try_arange(0.0f64, 1e30, 1.0).is_err());
    assert_eq!(
        Tensor::arange(3.0f64, 0.0, -1.0).to_vec::<f64>(),
        vec![3.0, 2.0, 1.0]
    );
    assert_eq!(Tensor::arange(0.0f64, 0.0, 1.0).numel(), 0);
}

#[test]
fn a_gradient_of_another_dtype_is_an_error_naming_both() {
    let x = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).requires_grad();
    let y = &x * 3.0;
    let message = "backward: the output has dtype f32 but its gradient has dtype f64; convert the \
                   gradient with .to_dtype(DType::F32)";
    let g = Tensor::ones(&[2], DType::F64);
    assert_eq!(
        y.try_backward_opts(Some(&g), BackwardOptions::default())
            .unwrap_err()
            .to_string(),
        message
    );
    assert_eq!(panic_message(|| y.backward_with(&g)), message);
    assert!(nabla_core::try_grad(&[&y], Some(&[&g]), &[&x], BackwardOptions::default()).is_err());
    y.backward_with(&Tensor::ones(&[2], DType::F32));
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![3.0, 3.0]);
}

#[test]
fn zero_dim_tensors_have_no_dim_to_index() {
    let s = Tensor::scalar(2.0f64);
    assert_eq!(
        err(s.try_narrow(0, 0, 1)),
        "narrow: dimension 0 is out of range for a tensor of shape []"
    );
    assert!(s.try_size(0).is_err());
    assert!(Tensor::try_cat(&[&s, &s], 0).is_err());
    assert!(
        s.try_index_select(0, &Tensor::from_vec(vec![0i64], &[1]))
            .is_err()
    );
    assert!(s.try_gather(0, &Tensor::scalar(0i64)).is_err());
    // Where PyTorch treats a 0-d tensor as one dim of size 1, so does nabla.
    assert_eq!(s.sum_dims(&[0], false).item::<f64>(), 2.0);
    assert_eq!(s.sum_dims(&[-1], true).shape(), &[] as &[usize]);
    assert_eq!(s.max_dims(&[0], false).item::<f64>(), 2.0);
    assert_eq!(s.argmax(0, false).item::<i64>(), 0);
    assert_eq!(s.squeeze(0).item::<f64>(), 2.0);
    assert_eq!(s.transpose(0, -1).item::<f64>(), 2.0);
    assert!(s.try_sum_dims(&[1], false).is_err());
}

#[test]
fn every_new_try_form_returns_the_error_its_panicking_twin_raises() {
    let ints = Tensor::from_vec(vec![1i64, 2], &[2]);
    let x = Tensor::from_vec(vec![1.0f32, 2.0], &[2]);
    let cases: Vec<Case> = vec![
        (
            x.try_sum_dims(&[3], false),
            Box::new(|| drop(x.sum_dims(&[3], false))),
        ),
        (ints.try_sum(), Box::new(|| drop(ints.sum()))),
        (ints.try_mean(), Box::new(|| drop(ints.mean()))),
        (
            x.try_mean_dims(&[2], true),
            Box::new(|| drop(x.mean_dims(&[2], true))),
        ),
        (
            Tensor::zeros(&[0], DType::F32).try_max(),
            Box::new(|| drop(Tensor::zeros(&[0], DType::F32).max())),
        ),
        (
            Tensor::zeros(&[0], DType::F32).try_min(),
            Box::new(|| drop(Tensor::zeros(&[0], DType::F32).min())),
        ),
        (
            x.try_argmax(1, false),
            Box::new(|| drop(x.argmax(1, false))),
        ),
        (
            x.try_argmin(1, false),
            Box::new(|| drop(x.argmin(1, false))),
        ),
        (ints.try_var(), Box::new(|| drop(ints.var()))),
        (ints.try_powf(2.0), Box::new(|| drop(ints.powf(2.0)))),
        (
            ints.try_leaky_relu(0.1),
            Box::new(|| drop(ints.leaky_relu(0.1))),
        ),
        (
            ints.try_add_scalar(1.0),
            Box::new(|| drop(ints.add_scalar(1.0))),
        ),
        (
            ints.try_mul_scalar(1.0),
            Box::new(|| drop(ints.mul_scalar(1.0))),
        ),
        (
            ints.try_div_scalar(1.0),
            Box::new(|| drop(ints.div_scalar(1.0))),
        ),
        (x.try_t(), Box::new(|| drop(x.t()))),
        (
            x.try_masked_fill(&Tensor::zeros(&[3], DType::F32), 0.0),
            Box::new(|| drop(x.masked_fill(&Tensor::zeros(&[3], DType::F32), 0.0))),
        ),
        (
            Tensor::try_rand(&[2], DType::I64),
            Box::new(|| drop(Tensor::rand(&[2], DType::I64))),
        ),
        (
            Tensor::try_uniform_with(
                &[2],
                1.0,
                0.0,
                DType::F32,
                &mut nabla_core::Generator::new(0),
            ),
            Box::new(|| {
                drop(Tensor::uniform_with(
                    &[2],
                    1.0,
                    0.0,
                    DType::F32,
                    &mut nabla_core::Generator::new(0),
                ))
            }),
        ),
    ];
    for (result, panicking) in cases {
        let message = err(result);
        assert_eq!(panic_message(panicking), message);
    }
    let view = x.expand(&[2, 2]);
    assert_eq!(
        view.try_fill_(1.0).unwrap_err().to_string(),
        panic_message(|| view.fill_(1.0))
    );
    assert!(x.mul_scalar(2.0).try_set_requires_grad(true).is_ok());
    let y = &Tensor::scalar(1.0f64).requires_grad() * 2.0;
    assert_eq!(
        y.try_set_requires_grad(false).unwrap_err().to_string(),
        panic_message(|| y.set_requires_grad(false))
    );
    assert_eq!(
        x.try_register_hook(|_| None).unwrap_err().to_string(),
        panic_message(|| x.register_hook(|_| None))
    );
}

#[test]
fn drawing_from_an_empty_range_names_it() {
    let mut g = nabla_core::Generator::new(0);
    assert_eq!(
        panic_message(|| {
            g.below(0);
        }),
        "below: cannot draw from the empty range 0..0"
    );
    assert!(g.below(1) == 0);
}

/// `Tensor::scalar(1f32)` expanded to `shape`: free as a view, 4 TiB or more as a copy.
fn huge(shape: &[usize]) -> Tensor {
    Tensor::scalar(1.0f32).expand(shape)
}

#[test]
fn views_of_an_expanded_tensor_are_views_not_copies() {
    let wide = huge(&[1 << 20, 1 << 20]);
    for view in [
        wide.try_reshape(&[1 << 40]).unwrap(),
        wide.try_unsqueeze(0).unwrap(),
        wide.try_unsqueeze(0).unwrap().try_squeeze(0).unwrap(),
        wide.try_flatten(0, -1).unwrap(),
        wide.try_reshape_infer(&[-1, 1 << 10]).unwrap(),
    ] {
        assert!(view.shares_storage(&wide), "{:?}", view.shape());
    }
    // A view when the strides allow, with PyTorch's element order; a copy otherwise.
    let m = Tensor::arange(0.0f64, 24.0, 1.0).reshape(&[2, 3, 4]);
    let split = m.narrow(2, 0, 4).permute(&[1, 0, 2]).reshape(&[3, 2, 2, 2]);
    assert!(split.shares_storage(&m));
    assert_eq!(
        split.to_vec::<f64>(),
        m.permute(&[1, 0, 2]).contiguous().to_vec::<f64>()
    );
    let flat = m.transpose(0, 2).reshape(&[24]);
    assert!(!flat.shares_storage(&m));
    assert_eq!(flat.to_vec::<f64>()[..3], [0.0, 12.0, 4.0]);
    let column = m.narrow(2, 1, 1).reshape(&[2, 3]);
    assert!(column.shares_storage(&m));
    assert_eq!(column.to_vec::<f64>(), [1.0, 5.0, 9.0, 13.0, 17.0, 21.0]);
}

#[test]
fn copies_too_large_for_memory_are_errors_in_every_try_form() {
    let wide = huge(&[1 << 40]);
    let message = |r: nabla_core::Result<Tensor>| err(r);
    let starts = |got: String, op: &str| {
        assert!(
            got.starts_with(&format!("{op}: shape [1099511627776] of f32 needs 4.0 TiB")),
            "{got}"
        );
    };
    // Reshapes that cannot be views must copy.
    let pairs = Tensor::from_vec(vec![1.0f32, 2.0], &[1, 2])
        .expand(&[1 << 39, 2])
        .t();
    assert!(
        message(pairs.try_reshape(&[1 << 40]))
            .starts_with("reshape: shape [2, 549755813888] of f32 needs 4.0 TiB")
    );
    assert!(pairs.try_flatten(0, 1).is_err());
    assert!(pairs.try_reshape_infer(&[-1]).is_err());
    starts(message(wide.try_sum()), "sum");
    starts(message(wide.try_mean()), "sum");
    starts(message(wide.try_max()), "max");
    starts(
        message(huge(&[1 << 20, 1 << 20]).try_argmax(0, false))
            .replace("[1048576, 1048576]", "[1099511627776]"),
        "argmax",
    );
    assert!(
        wide.try_to_vec::<f32>()
            .unwrap_err()
            .to_string()
            .starts_with("to_vec: shape [1099511627776] of f32 needs 4.0 TiB")
    );
    assert!(wide.try_to_f64_vec().is_err());
    assert!(
        message(wide.try_to_dtype(DType::F64))
            .starts_with("to_dtype: shape [1099511627776] of f64")
    );
    let index = Tensor::scalar(0i64).expand(&[1 << 40]);
    assert!(
        message(index.try_one_hot(3, DType::F32))
            .starts_with("one_hot: shape [1099511627776, 3] of f32 needs 12.0 TiB")
    );
    let empty = Tensor::zeros(&[5, 0], DType::F32);
    assert!(
        message(empty.try_index_select(0, &index))
            .starts_with("index_select: shape [1099511627776] of i64 needs 8.0 TiB")
    );
    let row = Tensor::zeros(&[1, 1], DType::F32);
    let big_index = Tensor::scalar(0i64).expand(&[1 << 40, 1]);
    let big_src = Tensor::scalar(1.0f32).expand(&[1 << 40, 1]);
    assert!(
        message(row.try_scatter_add(0, &big_index, &big_src))
            .starts_with("scatter_add: shape [1099511627776, 1] of i64")
    );
    let x = huge(&[1 << 20, 1 << 20, 2]).transpose(0, 1);
    let w = Tensor::zeros(&[1, 2], DType::F32);
    assert!(
        message(x.try_linear(&w, None)).starts_with("linear: shape [1048576, 1048576, 2] of f32"),
        "{}",
        message(x.try_linear(&w, None))
    );
    // The panicking forms panic with the same message.
    assert_eq!(panic_message(|| drop(wide.sum())), message(wide.try_sum()));
    assert_eq!(
        panic_message(|| drop(wide.to_vec::<f32>())),
        wide.try_to_vec::<f32>().unwrap_err().to_string()
    );
}

#[test]
fn a_hook_that_changes_the_gradients_shape_or_dtype_is_refused() {
    let expected = |got: &str, shape: &str, dtype: &str| {
        format!(
            "backward: a hook returned a gradient of shape {got} and dtype {dtype} for a tensor \
             whose gradient has shape {shape} and dtype f32; a hook may replace the gradient \
             only with one of the same shape and dtype"
        )
    };
    // On an intermediate tensor: the wrong shape used to reach `.grad` silently.
    let x = Tensor::ones(&[2], DType::F32).requires_grad();
    let y = &x * 2.0;
    y.register_hook(|g| Some(g.sum()));
    let loss = y.sum();
    let message = loss.try_backward().unwrap_err().to_string();
    assert_eq!(message, expected("[]", "[2]", "f32"));
    assert_eq!(panic_message(|| loss.backward()), message);
    assert!(x.grad().is_none());
    // Another dtype, on a leaf.
    let w = Tensor::ones(&[2, 1], DType::F32).requires_grad();
    w.register_hook(|g| Some(g.to_dtype(DType::F64)));
    let message = w.sum().try_backward().unwrap_err().to_string();
    assert_eq!(message, expected("[2, 1]", "[2, 1]", "f64"));
    // A hook keeping shape and dtype still replaces the gradient.
    let v = Tensor::ones(&[2], DType::F32).requires_grad();
    v.register_hook(|g| Some(g * 3.0));
    v.sum().backward();
    assert_eq!(v.grad().unwrap().to_vec::<f32>(), [3.0, 3.0]);
}

#[test]
fn an_assigned_gradient_must_match_the_tensor() {
    let w = Tensor::zeros(&[2, 3], DType::F32).requires_grad();
    let wrong_shape = Tensor::ones(&[3, 2], DType::F32);
    let message = w
        .try_set_grad(Some(wrong_shape.clone()))
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        "set_grad: the assigned gradient has shape [3, 2] and dtype f32, the tensor shape \
         [2, 3] and dtype f32"
    );
    assert_eq!(panic_message(|| w.set_grad(Some(wrong_shape))), message);
    let wrong_dtype = Tensor::ones(&[2, 3], DType::F64);
    assert!(
        w.try_set_grad(Some(wrong_dtype))
            .unwrap_err()
            .to_string()
            .starts_with("set_grad: the assigned gradient has shape [2, 3] and dtype f64")
    );
    assert!(w.grad().is_none());
    w.set_grad(Some(Tensor::ones(&[2, 3], DType::F32)));
    assert_eq!(w.grad().unwrap().shape(), &[2, 3]);
}

#[test]
fn uniform_refuses_bounds_whose_width_is_not_finite() {
    let mut g = nabla_core::Generator::new(0);
    let mut draw = |low: f64, high: f64, dtype: DType| {
        err(Tensor::try_uniform_with(&[2], low, high, dtype, &mut g))
    };
    assert_eq!(
        draw(f64::NEG_INFINITY, f64::INFINITY, DType::F64),
        "uniform: the bounds [-inf, inf) must be finite and high - low at most the largest f64 \
         (1.7976931348623157e308)"
    );
    assert!(draw(0.0, f64::INFINITY, DType::F64).starts_with("uniform: the bounds [0, inf)"));
    assert!(draw(-f64::MAX, f64::MAX, DType::F64).starts_with("uniform: the bounds"));
    assert!(draw(-3e38, 3e38, DType::F32).ends_with("the largest f32 (3.4028234663852886e38)"));
    let fine = Tensor::uniform_with(&[4], -1e300, 1e300, DType::F64, &mut g);
    assert!(fine.to_vec::<f64>().iter().all(|v| v.is_finite()));
}

#[test]
fn gradcheck_refuses_bad_arguments_with_an_error() {
    use nabla_core::{GradcheckOptions, gradcheck, gradgradcheck};
    let x = Tensor::from_vec(vec![0.5f64, 1.5], &[2]);
    let ints = Tensor::from_vec(vec![1i64, 2], &[2]);
    let square = |v: &[Tensor]| &v[0] * &v[0];
    let message = |r: nabla_core::Result<nabla_core::GradcheckOutcome>| r.unwrap_err().to_string();
    assert!(
        message(gradcheck(
            square,
            std::slice::from_ref(&ints),
            GradcheckOptions::default()
        ))
        .starts_with("gradcheck: ")
    );
    // gradgradcheck used to run `f` on the integers before checking them.
    assert!(
        message(gradgradcheck(
            |v| v[0].exp(),
            &[ints],
            GradcheckOptions::default()
        ))
        .starts_with("gradgradcheck: ")
    );
    for eps in [0.0, -1e-6, f64::NAN, f64::INFINITY] {
        let options = GradcheckOptions {
            eps,
            ..GradcheckOptions::default()
        };
        assert_eq!(
            message(gradcheck(square, std::slice::from_ref(&x), options)),
            format!(
                "gradcheck: the step must be finite and positive and the tolerances finite and \
                 non-negative, got eps {eps}, atol 0.00001, rtol 0.001"
            )
        );
    }
    let nan_tolerance = GradcheckOptions {
        rtol: f64::NAN,
        ..GradcheckOptions::default()
    };
    assert!(gradgradcheck(square, std::slice::from_ref(&x), nan_tolerance).is_err());
    // An output that is not f64, or whose shape moves with the input, used to panic.
    assert!(
        message(gradcheck(
            |v| v[0].to_dtype(DType::F32),
            std::slice::from_ref(&x),
            GradcheckOptions::default()
        ))
        .starts_with("gradcheck: ")
    );
    let moving = |v: &[Tensor]| {
        let n = if v[0].to_vec::<f64>()[0] > 0.5 { 2 } else { 1 };
        v[0].narrow(0, 0, n) * 1.0
    };
    assert!(
        message(gradcheck(
            moving,
            std::slice::from_ref(&x),
            GradcheckOptions::default()
        ))
        .contains("the function's output changed shape when an input moved")
    );
}

#[test]
fn a_checkpoint_with_an_integer_input_differentiates_the_float_ones() {
    let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3]).requires_grad();
    let picks = Tensor::from_vec(vec![2i64, 0], &[2]);
    let y =
        nabla_core::checkpoint(|v| v[0].index_select(0, &v[1]).exp().sum(), &[&x, &picks]).unwrap();
    y.backward();
    let e = std::f64::consts::E;
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), [e, 0.0, 3.0f64.exp()]);
}

#[test]
fn printing_a_view_too_large_to_gather_describes_it() {
    let shown = format!("{}", huge(&[1 << 40]));
    assert!(
        shown.starts_with(
            "tensor(<not printable: to_f64_vec: shape [1099511627776] of f64 needs 8.0 TiB"
        ),
        "{shown}"
    );
}

#[test]
fn convolutions_refuse_bad_operands_naming_the_op_and_shapes() {
    use nabla_core::ops::window::{ConvOptions, ConvTransposeOptions, Padding};
    let f = |shape: &[usize]| Tensor::zeros(shape, DType::F32);
    let d = ConvOptions::<2>::default();
    let t = ConvTransposeOptions::<2>::default();
    let stride2 = ConvOptions {
        stride: [2, 2],
        padding: Padding::Same,
        ..d
    };
    let groups = |g| ConvOptions { groups: g, ..d };
    let huge_padding = ConvOptions {
        padding: Padding::Explicit([1 << 40, 1 << 40]),
        ..d
    };
    let cases: Vec<(nabla_core::Result<Tensor>, &str)> = vec![
        (
            f(&[3, 4]).try_conv2d(&f(&[2, 3, 3, 3]), None, &d),
            "conv2d: the input must be [N, C, H, W] or unbatched [C, H, W], got shape [3, 4]",
        ),
        (
            f(&[1, 3, 5, 5]).try_conv2d(&f(&[2, 3, 3]), None, &d),
            "conv2d: the weight must be [Cout, Cin/groups, kh, kw], got shape [2, 3, 3]",
        ),
        (
            f(&[1, 3, 5, 5]).try_conv2d(&f(&[2, 2, 3, 3]), None, &d),
            "conv2d: shapes [1, 3, 5, 5] and [2, 2, 3, 3] are incompatible (the weight expects 2 input channels but the input has 3)",
        ),
        (
            f(&[1, 4, 5, 5]).try_conv2d(&f(&[3, 2, 3, 3]), None, &groups(2)),
            "conv2d: shapes [1, 4, 5, 5] and [3, 2, 3, 3] are incompatible (2 groups must divide both the 4 input channels and the 3 output channels)",
        ),
        (
            f(&[1, 4, 5, 5]).try_conv2d(&f(&[4, 4, 3, 3]), None, &groups(0)),
            "conv2d: groups must be positive, got 0",
        ),
        (
            f(&[1, 1, 2, 2]).try_conv2d(&f(&[1, 1, 3, 3]), None, &d),
            "conv2d: shapes [1, 1, 2, 2] and [1, 1, 3, 3] are incompatible (the window spans 3 elements (kernel 3, dilation 1) but the input has 2 with padding 0 on each side, along the height)",
        ),
        (
            f(&[1, 1, 5, 5]).try_conv2d(&Tensor::zeros(&[1, 1, 3, 3], DType::F64), None, &d),
            "conv2d: dtypes f32 and f64 differ; convert one with .to_dtype()",
        ),
        (
            Tensor::zeros(&[1, 1, 5, 5], DType::I64).try_conv2d(&f(&[1, 1, 3, 3]), None, &d),
            "conv2d: dtype i64 is not supported (expected f32 or f64)",
        ),
        (
            f(&[1, 1, 5, 5]).try_conv2d(&f(&[2, 1, 3, 3]), Some(&f(&[3])), &d),
            "conv2d: shapes [2, 1, 3, 3] and [3] are incompatible (the bias must be [2], one value per output channel)",
        ),
        (
            f(&[1, 1, 5, 5]).try_conv2d(&f(&[2, 1, 3, 3]), None, &stride2),
            "conv2d: padding \"same\" needs stride 1, got stride [2, 2]",
        ),
        (
            f(&[1, 1, 5, 5]).try_conv2d(
                &f(&[2, 1, 3, 3]),
                None,
                &ConvOptions {
                    stride: [0, 1],
                    ..d
                },
            ),
            "conv2d: shapes [1, 1, 5, 5] and [2, 1, 3, 3] are incompatible (kernel size, stride and dilation must be positive, got kernel 3, stride 0, dilation 1, along the height)",
        ),
        (
            f(&[1, 1, 2, 2]).try_conv2d(&f(&[1, 1, 3, 3]), None, &huge_padding),
            "conv2d: shape [1, 1, 2199023255552, 2199023255552] has more elements than fit in memory (the product of its dims overflows)",
        ),
        (
            f(&[1, 2, 3, 4]).try_conv1d(&f(&[2, 2, 3]), None, &ConvOptions::default()),
            "conv1d: the input must be [N, C, L] or unbatched [C, L], got shape [1, 2, 3, 4]",
        ),
        (
            f(&[1, 2, 8]).try_conv1d(&f(&[2, 3, 3]), None, &ConvOptions::default()),
            "conv1d: shapes [1, 2, 8] and [2, 3, 3] are incompatible (the weight expects 3 input channels but the input has 2)",
        ),
        (
            f(&[1, 1, 3, 3]).try_conv_transpose2d(
                &f(&[1, 1, 3, 3]),
                None,
                &ConvTransposeOptions {
                    output_padding: [1, 0],
                    ..t
                },
            ),
            "conv_transpose2d: output padding 1 must be smaller than either the stride 1 or the dilation 1",
        ),
        (
            f(&[1, 2, 3, 3]).try_conv_transpose2d(&f(&[3, 1, 3, 3]), None, &t),
            "conv_transpose2d: shapes [1, 2, 3, 3] and [3, 1, 3, 3] are incompatible (the weight's first dim (3) must equal the input's 2 channels)",
        ),
        (
            f(&[1, 1, 1, 1]).try_conv_transpose2d(
                &f(&[1, 1, 1, 1]),
                None,
                &ConvTransposeOptions {
                    padding: [1, 1],
                    ..t
                },
            ),
            "conv_transpose2d: shapes [1, 1, 1, 1] and [1, 1, 1, 1] are incompatible (the output would have -1 elements along the height (input 1, kernel 1, stride 1, padding 1, dilation 1, output padding 0))",
        ),
        (
            f(&[1, 2, 3, 3]).try_conv_transpose2d(&f(&[2, 3, 3, 3]), Some(&f(&[2])), &t),
            "conv_transpose2d: shapes [2, 3, 3, 3] and [2] are incompatible (the bias must be [3], one value per output channel)",
        ),
        (
            f(&[1, 1, 5, 5]).try_conv2d(
                &f(&[1, 1, 3, 3]),
                None,
                &ConvOptions {
                    padding: Padding::Same,
                    dilation: [usize::MAX / 2, 1],
                    ..d
                },
            ),
            "conv2d: padding 0, stride 1 and the window's span (dilation 9223372036854775807 × (kernel 3 − 1)) must each be at most 2305843009213693951",
        ),
        (
            f(&[1, 1, 3, 3]).try_conv_transpose2d(
                &f(&[1, 1, 3, 3]),
                None,
                &ConvTransposeOptions {
                    padding: [usize::MAX, 0],
                    ..t
                },
            ),
            "conv_transpose2d: padding 18446744073709551615, stride 1 and the window's span (dilation 1 × (kernel 3 − 1)) must each be at most 2305843009213693951",
        ),
        (
            f(&[2, 3]).try_pad(&[(1, 1), (1, 1), (1, 1)], 0.0),
            "pad: 3 pairs of paddings for a tensor of shape [2, 3] with 2 dims",
        ),
        (
            f(&[1, 2, 4, 4]).try_unfold([2, 2], &groups(2)),
            "unfold: takes no groups, got groups 2",
        ),
        (
            f(&[1, 2, 4, 4]).try_conv2d_weight([3, 2, 2, 2], &f(&[1, 3, 2, 2]), &d),
            "conv2d_weight: shapes [1, 2, 4, 4] and [1, 3, 2, 2] are incompatible (the output's gradient must have the convolution's output shape [1, 3, 3, 3])",
        ),
    ];
    for (result, expected) in cases {
        assert_eq!(err(result), expected);
    }
    // The panicking forms raise the same messages.
    let twins: Vec<Case> = vec![
        (
            f(&[1, 1, 2, 2]).try_conv2d(&f(&[1, 1, 3, 3]), None, &d),
            Box::new(|| drop(f(&[1, 1, 2, 2]).conv2d(&f(&[1, 1, 3, 3]), None, &d))),
        ),
        (
            f(&[2, 8]).try_conv1d(&f(&[2, 3, 3]), None, &ConvOptions::default()),
            Box::new(|| drop(f(&[2, 8]).conv1d(&f(&[2, 3, 3]), None, &ConvOptions::default()))),
        ),
        (
            f(&[1, 2, 3, 3]).try_conv_transpose2d(&f(&[3, 1, 3, 3]), None, &t),
            Box::new(|| drop(f(&[1, 2, 3, 3]).conv_transpose2d(&f(&[3, 1, 3, 3]), None, &t))),
        ),
        (
            f(&[2]).try_pad(&[(1, 1), (1, 1)], 0.0),
            Box::new(|| drop(f(&[2]).pad(&[(1, 1), (1, 1)], 0.0))),
        ),
        (
            f(&[1, 2, 4, 4]).try_unfold([2, 2], &groups(2)),
            Box::new(|| drop(f(&[1, 2, 4, 4]).unfold([2, 2], &groups(2)))),
        ),
    ];
    for (result, panicking) in twins {
        assert_eq!(panic_message(panicking), err(result));
    }
}

#[test]
fn pools_refuse_windows_that_do_not_fit_and_inputs_of_the_wrong_rank() {
    use nabla_core::ops::window::PoolOptions;
    let x = Tensor::zeros(&[1, 1, 4, 4], DType::F32);
    let half = PoolOptions {
        padding: [2, 0],
        ..PoolOptions::new([2, 2])
    };
    let zero_stride = PoolOptions {
        stride: [0, 1],
        ..PoolOptions::new([2, 2])
    };
    let dilated = PoolOptions {
        dilation: [2, 2],
        ..PoolOptions::new([2, 2])
    };
    let between_taps = PoolOptions {
        padding: [1, 0],
        dilation: [3, 1],
        ..PoolOptions::new([2, 2])
    };
    let (flat, deep) = (
        Tensor::zeros(&[4, 4], DType::F32),
        Tensor::zeros(&[1, 1, 1, 4, 4], DType::F32),
    );
    let empty_plane = Tensor::zeros(&[1, 0, 4], DType::F32);
    let ints = Tensor::zeros(&[1, 4, 4], DType::I64);
    let cases: Vec<(Case, &str)> = vec![
        (
            (
                x.try_max_pool2d(&half),
                Box::new(|| drop(x.max_pool2d(&half))),
            ),
            "max_pool2d: padding must be at most half of the effective kernel size, got padding \
             [2, 0] for kernel [2, 2] with dilation [1, 1] (input shape [1, 1, 4, 4])",
        ),
        (
            (
                x.try_avg_pool2d(&half),
                Box::new(|| drop(x.avg_pool2d(&half))),
            ),
            "avg_pool2d: padding must be at most half of the effective kernel size, got padding \
             [2, 0] for kernel [2, 2] with dilation [1, 1] (input shape [1, 1, 4, 4])",
        ),
        (
            (
                x.try_max_pool2d(&PoolOptions::new([5, 5])),
                Box::new(|| drop(x.max_pool2d(&PoolOptions::new([5, 5])))),
            ),
            "max_pool2d: the window spans 5 elements (kernel 5, dilation 1) but the input has 4 \
             with padding 0 on each side (input shape [1, 1, 4, 4])",
        ),
        (
            (
                x.try_avg_pool2d(&zero_stride),
                Box::new(|| drop(x.avg_pool2d(&zero_stride))),
            ),
            "avg_pool2d: kernel size, stride and dilation must be positive, got kernel 2, stride \
             0, dilation 1 (input shape [1, 1, 4, 4])",
        ),
        (
            (
                x.try_avg_pool2d(&dilated),
                Box::new(|| drop(x.avg_pool2d(&dilated))),
            ),
            "avg_pool2d: average pooling has no dilation, got [2, 2] (input shape [1, 1, 4, 4])",
        ),
        (
            (
                Tensor::zeros(&[1, 1, 2, 4], DType::F32).try_max_pool2d(&between_taps),
                Box::new(|| {
                    drop(Tensor::zeros(&[1, 1, 2, 4], DType::F32).max_pool2d(&between_taps))
                }),
            ),
            "max_pool2d: window 0 along spatial dim 0 has no tap inside the input (size 2, kernel \
             2, dilation 3, padding 1; input shape [1, 1, 2, 4])",
        ),
        (
            (
                flat.try_max_pool2d(&PoolOptions::new([2, 2])),
                Box::new(|| drop(flat.max_pool2d(&PoolOptions::new([2, 2])))),
            ),
            "max_pool2d: expected a [N, C, H, W] or [C, H, W] input, got shape [4, 4]",
        ),
        (
            (
                deep.try_adaptive_avg_pool2d([2, 2]),
                Box::new(|| drop(deep.adaptive_avg_pool2d([2, 2]))),
            ),
            "adaptive_avg_pool2d: expected a [N, C, H, W] or [C, H, W] input, got shape [1, 1, \
             1, 4, 4]",
        ),
        (
            (
                empty_plane.try_adaptive_avg_pool2d([2, 2]),
                Box::new(|| drop(empty_plane.adaptive_avg_pool2d([2, 2]))),
            ),
            "adaptive_avg_pool2d: the input's planes must not be empty, got shape [1, 0, 4]",
        ),
        (
            (
                ints.try_max_pool2d(&PoolOptions::new([2, 2])),
                Box::new(|| drop(ints.max_pool2d(&PoolOptions::new([2, 2])))),
            ),
            "max_pool2d: dtype i64 is not supported (expected f32 or f64)",
        ),
        (
            (
                Tensor::zeros(&[0, 1, 4, 4], DType::F32).try_adaptive_avg_pool2d([usize::MAX, 3]),
                Box::new(|| {
                    drop(
                        Tensor::zeros(&[0, 1, 4, 4], DType::F32)
                            .adaptive_avg_pool2d([usize::MAX, 3]),
                    )
                }),
            ),
            "adaptive_avg_pool2d: shape [18446744073709551615, 3] has more elements than fit in \
             memory (the product of its dims overflows)",
        ),
    ];
    for ((result, panicking), message) in cases {
        assert_eq!(err(result), message);
        assert_eq!(panic_message(panicking), message);
    }
}

#[test]
fn windows_far_larger_than_the_input_are_refused_or_pooled_at_once() {
    use nabla_core::ops::window::{ConvOptions, PoolOptions};
    let x = Tensor::ones(&[1, 1, 1, 1], DType::F32);
    assert_eq!(
        err(x.try_unfold([usize::MAX, 2], &ConvOptions::default())),
        "unfold: a 18446744073709551615×2 kernel over 1 channels gives more rows than fit in \
         memory (input shape [1, 1, 1, 1])"
    );
    // 2^63 groups of 2 input channels: more than a usize counts.
    let groups = ConvOptions {
        groups: 1 << 63,
        ..ConvOptions::default()
    };
    let (empty, weight) = (
        Tensor::zeros(&[1, 0, 4, 4], DType::F32),
        Tensor::zeros(&[0, 2, 3, 3], DType::F32),
    );
    assert_eq!(
        err(empty.try_conv2d(&weight, None, &groups)),
        "conv2d: shapes [1, 0, 4, 4] and [0, 2, 3, 3] are incompatible (the weight expects \
         18446744073709551615 input channels (2 per group × 9223372036854775808 groups) but the \
         input has 0)"
    );
    // 2^40 taps, one inside the input: counted, not scanned.
    let wide = PoolOptions {
        padding: [1 << 39, 0],
        ..PoolOptions::new([1 << 40, 1])
    };
    assert_eq!(x.max_pool2d(&wide).to_vec::<f32>(), [1.0]);
    // Divisors whose product is 2^66 and a padded size beyond a usize.
    let both = PoolOptions {
        padding: [1 << 32, 1 << 32],
        ..PoolOptions::new([1 << 33, 1 << 33])
    };
    assert_eq!(x.avg_pool2d(&both).to_vec::<f32>(), [2f32.powi(-66)]);
    let tall = PoolOptions {
        padding: [usize::MAX / 2, 0],
        ..PoolOptions::new([usize::MAX, 1])
    };
    let y = Tensor::ones(&[1, 1, 2, 2], DType::F64).avg_pool2d(&tall);
    assert_eq!(y.to_vec::<f64>(), [2.0 / usize::MAX as f64; 2]);
}

#[test]
fn recurrent_cells_and_embedding_refuse_bad_operands_naming_the_op() {
    let f = |shape: &[usize]| Tensor::zeros(shape, DType::F32);
    let ints = |shape: &[usize]| Tensor::zeros(shape, DType::I64);
    let weight = f(&[5, 3]);
    let index = |values: &[i64]| Tensor::from_vec(values.to_vec(), &[values.len()]);
    // `lstm_sequence` (`lstm_sequence_final` when `final_step`) of `[x, W_ih, W_hh, h0, c0]` and
    // the bias, by its `try_` form and its panicking one.
    type SequenceOp<R> =
        fn(&Tensor, &Tensor, &Tensor, Option<&Tensor>, &Tensor, &Tensor, bool) -> R;
    let sequence = |[x, w_ih, w_hh, h0, c0]: [Tensor; 5], bias: Option<Tensor>, final_step| {
        let (checked, panicking): (SequenceOp<nabla_core::Result<Tensor>>, SequenceOp<Tensor>) =
            if final_step {
                (Tensor::try_lstm_sequence_final, Tensor::lstm_sequence_final)
            } else {
                (Tensor::try_lstm_sequence, Tensor::lstm_sequence)
            };
        let result = checked(&x, &w_ih, &w_hh, bias.as_ref(), &h0, &c0, false);
        let run = move || drop(panicking(&x, &w_ih, &w_hh, bias.as_ref(), &h0, &c0, true));
        let case: Case = (result, Box::new(run));
        case
    };
    let cases: Vec<(Case, &str)> = vec![
        (
            (
                f(&[2, 8]).try_lstm_cell(&f(&[2, 8]), &f(&[2, 3])),
                Box::new(|| drop(f(&[2, 8]).lstm_cell(&f(&[2, 8]), &f(&[2, 3])))),
            ),
            "lstm_cell: shapes [2, 8] and [2, 3] are incompatible (the state must be [N, H] = [2, 2])",
        ),
        (
            (
                f(&[2, 7]).try_lstm_cell(&f(&[2, 7]), &f(&[2, 2])),
                Box::new(|| drop(f(&[2, 7]).lstm_cell(&f(&[2, 7]), &f(&[2, 2])))),
            ),
            "lstm_cell: the input gates must be [N, 4·H], got shape [2, 7] (width 7 is not a multiple of 4)",
        ),
        (
            (
                f(&[2, 8]).try_lstm_cell(&f(&[3, 8]), &f(&[2, 2])),
                Box::new(|| drop(f(&[2, 8]).lstm_cell(&f(&[3, 8]), &f(&[2, 2])))),
            ),
            "lstm_cell: shapes [2, 8] and [3, 8] are incompatible (the input and hidden gates must have one shape)",
        ),
        (
            (
                f(&[8]).try_lstm_cell(&f(&[8]), &f(&[2])),
                Box::new(|| drop(f(&[8]).lstm_cell(&f(&[8]), &f(&[2])))),
            ),
            "lstm_cell: the input gates must be [N, 4·H], got shape [8]",
        ),
        (
            (
                f(&[2, 8]).try_lstm_cell(&Tensor::zeros(&[2, 8], DType::F64), &f(&[2, 2])),
                Box::new(|| {
                    drop(f(&[2, 8]).lstm_cell(&Tensor::zeros(&[2, 8], DType::F64), &f(&[2, 2])))
                }),
            ),
            "lstm_cell: dtypes f32 and f64 differ; convert one with .to_dtype()",
        ),
        (
            (
                ints(&[2, 8]).try_lstm_cell(&ints(&[2, 8]), &ints(&[2, 2])),
                Box::new(|| drop(ints(&[2, 8]).lstm_cell(&ints(&[2, 8]), &ints(&[2, 2])))),
            ),
            "lstm_cell: dtype i64 is not supported (expected f32 or f64)",
        ),
        (
            sequence(
                [
                    f(&[3, 2, 5]),
                    f(&[8, 5]),
                    f(&[8, 3]),
                    f(&[2, 2]),
                    f(&[2, 2]),
                ],
                None,
                false,
            ),
            "lstm_sequence: weight_hh must be [4·H, H], got shape [8, 3]",
        ),
        (
            sequence(
                [
                    f(&[3, 2, 5]),
                    f(&[8, 4]),
                    f(&[8, 2]),
                    f(&[2, 2]),
                    f(&[2, 2]),
                ],
                None,
                false,
            ),
            "lstm_sequence: shapes [3, 2, 5] and [8, 4] are incompatible (weight_ih must be [4·H, I] = [8, 5])",
        ),
        (
            sequence(
                [
                    f(&[3, 2, 5]),
                    f(&[8, 5]),
                    f(&[8, 2]),
                    f(&[2, 2]),
                    f(&[2, 2]),
                ],
                Some(f(&[4])),
                false,
            ),
            "lstm_sequence: shapes [8, 2] and [4] are incompatible (the bias must be [4·H] = [8])",
        ),
        (
            sequence(
                [
                    f(&[3, 2, 5]),
                    f(&[8, 5]),
                    f(&[8, 2]),
                    f(&[2, 2]),
                    f(&[3, 2]),
                ],
                None,
                true,
            ),
            "lstm_sequence_final: shapes [3, 2, 5] and [3, 2] are incompatible (c0 must be [N, H] = [2, 2])",
        ),
        (
            sequence(
                [f(&[2, 5]), f(&[8, 5]), f(&[8, 2]), f(&[2, 2]), f(&[2, 2])],
                None,
                false,
            ),
            "lstm_sequence: the input must be [T, N, I], got shape [2, 5]",
        ),
        (
            sequence(
                [
                    f(&[0, 2, 5]),
                    f(&[8, 5]),
                    f(&[8, 2]),
                    f(&[2, 2]),
                    f(&[2, 2]),
                ],
                None,
                false,
            ),
            "lstm_sequence: the input must have at least one time step, got shape [0, 2, 5]",
        ),
        (
            sequence(
                [
                    f(&[3, 2, 5]),
                    f(&[8, 5]),
                    f(&[8, 2]),
                    f(&[3, 2]),
                    f(&[2, 2]),
                ],
                None,
                false,
            ),
            "lstm_sequence: shapes [3, 2, 5] and [3, 2] are incompatible (h0 must be [N, H] = [2, 2])",
        ),
        (
            sequence(
                [
                    f(&[3, 2, 5]),
                    f(&[8, 5]),
                    Tensor::zeros(&[8, 2], DType::F64),
                    f(&[2, 2]),
                    f(&[2, 2]),
                ],
                None,
                false,
            ),
            "lstm_sequence: dtypes f32 and f64 differ; convert one with .to_dtype()",
        ),
        (
            (
                f(&[2, 6]).try_gru_cell(&f(&[2, 6]), &f(&[2, 3])),
                Box::new(|| drop(f(&[2, 6]).gru_cell(&f(&[2, 6]), &f(&[2, 3])))),
            ),
            "gru_cell: shapes [2, 6] and [2, 3] are incompatible (the state must be [N, H] = [2, 2])",
        ),
        (
            (
                f(&[2, 6]).try_gru_cell(&f(&[2, 6]), &Tensor::zeros(&[2, 2], DType::F64)),
                Box::new(|| {
                    drop(f(&[2, 6]).gru_cell(&f(&[2, 6]), &Tensor::zeros(&[2, 2], DType::F64)))
                }),
            ),
            "gru_cell: dtypes f32 and f64 differ; convert one with .to_dtype()",
        ),
        (
            (
                f(&[2, 5]).try_gru_cell(&f(&[2, 5]), &f(&[2, 1])),
                Box::new(|| drop(f(&[2, 5]).gru_cell(&f(&[2, 5]), &f(&[2, 1])))),
            ),
            "gru_cell: the input gates must be [N, 3·H], got shape [2, 5] (width 5 is not a multiple of 3)",
        ),
        (
            (
                weight.try_embedding(&index(&[0, 5, 1]), None),
                Box::new(|| drop(weight.embedding(&index(&[0, 5, 1]), None))),
            ),
            "embedding: index 5 is out of range for a weight of 5 rows (indices must be in 0..5)",
        ),
        (
            (
                weight.try_embedding(&index(&[-1]), None),
                Box::new(|| drop(weight.embedding(&index(&[-1]), None))),
            ),
            "embedding: index -1 is out of range for a weight of 5 rows (indices must be in 0..5)",
        ),
        (
            (
                weight.try_embedding(&f(&[2]), None),
                Box::new(|| drop(weight.embedding(&f(&[2]), None))),
            ),
            "embedding: dtype f32 is not supported (expected i64 indices)",
        ),
        (
            (
                weight.try_embedding(&index(&[0]), Some(5)),
                Box::new(|| drop(weight.embedding(&index(&[0]), Some(5)))),
            ),
            "embedding: padding_idx 5 is out of range for a weight of 5 rows",
        ),
        (
            (
                f(&[5]).try_embedding(&index(&[0]), None),
                Box::new(|| drop(f(&[5]).embedding(&index(&[0]), None))),
            ),
            "embedding: the weight must be [V, D], got shape [5]",
        ),
        (
            (
                ints(&[5, 3]).try_embedding(&index(&[0]), None),
                Box::new(|| drop(ints(&[5, 3]).embedding(&index(&[0]), None))),
            ),
            "embedding: dtype i64 is not supported (expected f32 or f64)",
        ),
        (
            (
                f(&[0, 3]).try_embedding(&index(&[0]), None),
                Box::new(|| drop(f(&[0, 3]).embedding(&index(&[0]), None))),
            ),
            "embedding: index 0 is out of range for a weight of 0 rows (indices must be in 0..0)",
        ),
    ];
    for ((result, panicking), expected) in cases {
        let message = err(result);
        assert_eq!(message, expected);
        assert_eq!(panic_message(panicking), message);
    }
}
