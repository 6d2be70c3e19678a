//! PyTorch's autograd semantics: accumulation, retain_graph, no_grad, detach, the grad_fn
//! chain, functional grad, in-place detection, deep graphs, and the errors users meet.

use nabla_core::{
    BackwardOptions, DType, Error, GradOptions, Tensor, grad, no_grad, try_grad, try_grad_opts,
};

fn scalar(v: f64) -> Tensor {
    Tensor::scalar(v).requires_grad()
}

#[test]
fn second_backward_through_a_freed_graph_is_an_error() {
    let x = scalar(2.0);
    let y = x.exp() * &x;
    y.backward();
    let err = y.try_backward().unwrap_err();
    assert!(
        matches!(
            err,
            Error::GraphFreed {
                node: "MulBackward"
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("retain_graph"));
}

#[test]
fn retain_graph_allows_a_second_backward_that_accumulates() {
    let x = scalar(2.0);
    let y = &x * &x * 3.0;
    let keep = BackwardOptions {
        retain_graph: true,
        create_graph: false,
    };
    y.try_backward_opts(None, keep).unwrap();
    y.try_backward_opts(None, keep).unwrap();
    assert_eq!(x.grad().unwrap().item::<f64>(), 24.0);
}

#[test]
fn no_grad_and_detach_cut_the_graph() {
    let x = scalar(1.5);
    let inside = no_grad(|| x.exp());
    assert!(inside.grad_fn().is_none() && !inside.requires_grad_flag());
    let y = x.exp();
    let d = y.detach();
    assert!(d.shares_storage(&y) && d.is_leaf() && !d.requires_grad_flag());
    let z = (&d * &x).sum();
    z.backward();
    assert_eq!(x.grad().unwrap().item::<f64>(), 1.5f64.exp());
}

#[test]
fn grad_fn_chain_can_be_walked_to_the_leaves() {
    let a = scalar(2.0);
    let b = scalar(3.0);
    let c = Tensor::scalar(4.0f64);
    let y = (&a * &b + &c).exp();
    let exp = y.grad_fn().unwrap();
    assert_eq!(exp.name(), "ExpBackward");
    let add = exp.next_functions()[0].clone().unwrap();
    assert_eq!(add.name(), "AddBackward");
    assert!(add.next_functions()[1].is_none(), "a constant has no edge");
    let mul = add.next_functions()[0].clone().unwrap();
    assert_eq!(mul.name(), "MulBackward");
    assert_eq!(mul.saved_shapes(), vec![Vec::<usize>::new(), vec![]]);
    let leaves: Vec<_> = mul
        .next_functions()
        .iter()
        .map(|n| n.clone().unwrap())
        .collect();
    assert!(leaves.iter().all(|n| n.name() == "AccumulateGrad"));
    assert!(leaves[0].variable().unwrap().same_as(&a));
    assert!(leaves[1].variable().unwrap().same_as(&b));
}

#[test]
fn functional_grad_leaves_dot_grad_untouched() {
    let x = scalar(3.0);
    let y = x.powf(3.0);
    let g = grad(&[&y], &[&x]);
    assert_eq!(g[0].item::<f64>(), 27.0);
    assert!(x.grad().is_none());
}

/// As `torch.autograd.grad`: an input the outputs do not depend on is an error naming it, unless
/// `allow_unused` (then `None`) or `materialize_grads` (then zeros).
#[test]
fn functional_grad_refuses_an_unused_input_unless_allowed() {
    let (x, unused) = (scalar(3.0), Tensor::zeros(&[2], DType::F64).requires_grad());
    let y = x.powf(3.0);
    let retain = BackwardOptions {
        retain_graph: true,
        create_graph: false,
    };
    let err = try_grad(&[&y], None, &[&x, &unused], retain).unwrap_err();
    assert_eq!(
        err.to_string(),
        "grad: input 1 (shape [2]) is not used by the outputs; set allow_unused in GradOptions \
         (try_grad_opts) to get None for it, or materialize_grads to get zeros"
    );
    let allow = GradOptions {
        allow_unused: true,
        retain_graph: true,
        ..GradOptions::default()
    };
    let g = try_grad_opts(&[&y], None, &[&x, &unused], allow).unwrap();
    assert_eq!(g[0].as_ref().map(|g| g.item::<f64>()), Some(27.0));
    assert!(g[1].is_none());
    let zeros = GradOptions {
        materialize_grads: true,
        ..GradOptions::default()
    };
    let g = try_grad_opts(&[&y], None, &[&unused, &x], zeros).unwrap();
    assert_eq!(g[0].as_ref().unwrap().to_vec::<f64>(), vec![0.0, 0.0]);
    assert!(x.grad().is_none() && unused.grad().is_none());
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        grad(&[&x.powf(2.0)], &[&unused])
    }));
    assert!(panicked.is_err());
}

#[test]
fn functional_grad_answers_every_input_even_one_asked_twice() {
    let x = scalar(3.0);
    let y = x.powf(2.0);
    let g = grad(&[&y], &[&x, &x]);
    assert_eq!((g[0].item::<f64>(), g[1].item::<f64>()), (6.0, 6.0));
}

#[test]
fn gradient_of_an_intermediate_tensor() {
    let x = scalar(2.0);
    let h = &x * 3.0;
    let y = &h * &h;
    let g = grad(&[&y], &[&h]);
    assert_eq!(g[0].item::<f64>(), 12.0);
}

#[test]
fn create_graph_gives_differentiable_gradients() {
    let x = scalar(2.0);
    let y = x.powf(3.0);
    let options = BackwardOptions {
        retain_graph: true,
        create_graph: true,
    };
    let dy = try_grad(&[&y], None, &[&x], options).unwrap().remove(0);
    assert_eq!(dy.item::<f64>(), 12.0);
    let d2y = grad(&[&dy], &[&x]);
    assert_eq!(d2y[0].item::<f64>(), 12.0);
    // Through a saved output (exp saves y): d²/dx² eˣ = eˣ.
    let e = x.exp();
    let de = try_grad(&[&e], None, &[&x], options).unwrap().remove(0);
    assert_eq!(grad(&[&de], &[&x])[0].item::<f64>(), 2f64.exp());
}

#[test]
fn in_place_change_of_a_saved_tensor_is_detected() {
    let w = scalar(2.0);
    let x = Tensor::scalar(5.0f64);
    let y = &w * &x;
    x.fill_(7.0);
    let err = y.try_backward().unwrap_err();
    assert!(
        matches!(
            err,
            Error::SavedTensorModified {
                node: "MulBackward",
                ..
            }
        ),
        "{err}"
    );
}

/// As PyTorch: every in-place op on a leaf that requires grad is refused while gradients are
/// recorded, and allowed under `no_grad` (where optimisers update their parameters).
#[test]
fn in_place_change_of_a_leaf_that_requires_grad_is_refused_outside_no_grad() {
    let w = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).requires_grad();
    let other = Tensor::from_vec(vec![0.5f64, 0.5], &[2]);
    let attempts: [(&str, Result<(), Error>); 5] = [
        ("copy_", w.try_copy_(&other)),
        ("add_scaled_", w.try_add_scaled_(&other, 2.0)),
        ("mul_scalar_", w.try_mul_scalar_(3.0)),
        ("fill_", w.try_fill_(0.0)),
        ("update_", w.try_update_(&[], |d: &mut [f64], _| d[0] = 9.0)),
    ];
    for (op, result) in attempts {
        assert_eq!(
            result.unwrap_err().to_string(),
            format!(
                "{op}: a leaf tensor of shape [2] that requires grad is being used in an in-place \
                 operation; run it under no_grad (as optimisers and initialisers do), or write to \
                 a detached copy"
            )
        );
    }
    assert_eq!(w.to_vec::<f64>(), vec![1.0, 2.0]);
    no_grad(|| {
        w.copy_(&other);
        w.add_scaled_(&other, 2.0);
        w.mul_scalar_(2.0);
    });
    assert_eq!(w.to_vec::<f64>(), vec![3.0, 3.0]);
    // A view of it is refused too; a tensor that does not require grad is written as before, and
    // a result of a recorded operation under no_grad (outside, its write is refused: the gradient
    // would ignore it; see op_table.rs).
    let err = w
        .reshape(&[2, 1])
        .narrow(0, 1, 1)
        .try_fill_(0.0)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "fill_: a view of a leaf tensor of shape [2] that requires grad is being used in an \
         in-place operation; run it under no_grad (as optimisers and initialisers do), or write \
         to a detached copy"
    );
    no_grad(|| w.reshape(&[2, 1]).fill_(3.0));
    other.fill_(1.0);
    let y = &w * 2.0;
    assert!(y.try_fill_(0.0).is_err());
    no_grad(|| y.fill_(0.0));
    assert_eq!(y.to_vec::<f64>(), vec![0.0, 0.0]);
}

#[test]
fn a_million_node_chain_neither_overflows_backward_nor_drop() {
    let x = scalar(1.0);
    let mut y = x.clone();
    for _ in 0..1_000_000 {
        y = &y * 1.0;
    }
    y.backward();
    assert_eq!(x.grad().unwrap().item::<f64>(), 1.0);
    drop(y);
}

#[test]
fn fan_out_sums_gradients() {
    let x = scalar(3.0);
    let y = &x * &x + &x * 2.0 + x.exp();
    y.backward();
    assert_eq!(x.grad().unwrap().item::<f64>(), 6.0 + 2.0 + 3f64.exp());
}

#[test]
fn errors_name_the_operation_and_shapes() {
    let a = Tensor::zeros(&[2, 3], DType::F32);
    let b = Tensor::zeros(&[4, 3], DType::F32);
    assert_eq!(
        a.try_mul(&b).unwrap_err().to_string(),
        "mul: shapes [2, 3] and [4, 3] are incompatible (cannot broadcast)"
    );
    assert_eq!(
        a.try_add(&Tensor::zeros(&[3], DType::F64))
            .unwrap_err()
            .to_string(),
        "add: dtypes f32 and f64 differ; convert one with .to_dtype()"
    );
    assert_eq!(
        a.try_sum_dims_opt(Some(&[2]), false)
            .unwrap_err()
            .to_string(),
        "sum: dimension 2 is out of range for a tensor of shape [2, 3]"
    );
    assert_eq!(
        a.try_reshape(&[4]).unwrap_err().to_string(),
        "reshape: 6 elements cannot form shape [4]"
    );
    let labels = Tensor::from_vec(vec![0i64, 5], &[2]);
    assert_eq!(
        labels.try_one_hot(3, DType::F32).unwrap_err().to_string(),
        "one_hot: index 5 is out of range for size 3"
    );
    assert!(
        labels
            .try_exp()
            .unwrap_err()
            .to_string()
            .starts_with("ExpBackward: dtype i64 is not supported")
    );
    let v = Tensor::zeros(&[3], DType::F64).requires_grad();
    let err = (&v * 2.0).try_backward().unwrap_err().to_string();
    assert!(
        err.contains("only for scalar outputs, not shape [3]"),
        "{err}"
    );
    let err = Tensor::scalar(1.0f64)
        .try_backward()
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "backward: a tensor of shape [] does not require grad and has no grad_fn"
    );
}

#[test]
#[should_panic(
    expected = "matmul: shapes [2, 3] and [2, 3] are incompatible (inner dims differ: 3 vs 2)"
)]
fn panicking_forms_carry_the_same_message() {
    let a = Tensor::zeros(&[2, 3], DType::F32);
    let _ = a.matmul(&a);
}

#[test]
fn tensors_cross_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Tensor>();
    let t = std::thread::spawn(|| Tensor::ones(&[2, 2], DType::F32))
        .join()
        .unwrap();
    assert_eq!(t.sum().item::<f32>(), 4.0);
}

#[test]
fn views_share_storage_and_copy_only_when_needed() {
    let base = Tensor::arange(0.0f64, 12.0, 1.0).reshape(&[3, 4]);
    let t = base.t();
    assert!(t.shares_storage(&base) && !t.is_contiguous());
    assert_eq!(
        t.narrow(0, 1, 2).to_vec::<f64>(),
        vec![1.0, 5.0, 9.0, 2.0, 6.0, 10.0]
    );
    let flat = t.reshape(&[12]);
    assert!(
        !flat.shares_storage(&base),
        "a non-contiguous reshape copies"
    );
    assert!(base.reshape(&[12]).shares_storage(&base));
}

#[test]
fn anomaly_detection_names_the_first_operation_that_produced_a_non_finite_value() {
    let x = Tensor::from_vec(vec![2.0f64, 1.0], &[2]).requires_grad();
    let err = nabla_core::detect_anomaly(|| {
        let shifted = &x - 1.0;
        let logs = shifted.log();
        (logs * 3.0).sum().backward();
    })
    .unwrap_err();
    assert_eq!(err.phase, nabla_core::Phase::Forward);
    assert_eq!(err.name, "LogBackward");
    assert_eq!(err.forward_index, Some(1));
    assert_eq!(
        err.to_string(),
        "LogBackward (operation #1 of the forward pass) produced inf in the forward pass, in its \
         output of shape [2], from finite inputs (input 0 [2]: min 0, max 1, |max| 1)"
    );
    let fine = nabla_core::detect_anomaly(|| (&x * 2.0).sum().item::<f64>()).unwrap();
    assert_eq!(fine, 6.0);
}

#[test]
fn gradients_reused_in_place_are_never_ones_anybody_else_holds() {
    // Constant factors scale the gradient they are handed in place when nothing else can see
    // it; the caller's seed, a gradient a hook kept and a retained gradient must stay as they were.
    let x = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).requires_grad();
    let h = &x * 3.0;
    let kept = std::sync::Arc::new(std::sync::Mutex::new(None));
    let slot = kept.clone();
    h.register_hook(move |g| {
        *slot.lock().unwrap() = Some(g.clone());
        None
    });
    let m = &h * 5.0;
    m.retain_grad();
    let y = &m * 7.0;
    let seed = Tensor::from_vec(vec![1.0f64, 10.0], &[2]);
    y.backward_with(&seed);
    assert_eq!(seed.to_vec::<f64>(), vec![1.0, 10.0]);
    assert_eq!(m.grad().unwrap().to_vec::<f64>(), vec![7.0, 70.0]);
    let hooked = kept.lock().unwrap().clone().unwrap();
    assert_eq!(hooked.to_vec::<f64>(), vec![35.0, 350.0]);
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![105.0, 1050.0]);
}

/// Slices of one tensor pass their gradients back into one buffer in place (the engine's
/// `accumulate_into`): the result must equal the zero-padded sum the recorded pass builds,
/// along the leading and an inner dim, with overlapping slices, and with the buffer also
/// retained as an intermediate's `.grad`.
#[test]
fn gradients_of_many_slices_gather_like_their_zero_padded_sum() {
    for dim in [0usize, 1] {
        let x =
            Tensor::from_vec((0..30).map(|v| v as f64 / 7.0).collect(), &[6, 5]).requires_grad();
        let loss_of = |x: &Tensor| {
            let y = x.mul_scalar(2.0);
            y.retain_grad();
            let size = y.shape()[dim];
            let mut loss = y.narrow(dim as isize, 0, 2).sum();
            for k in 0..size {
                loss = &loss + &y.narrow(dim as isize, k, 1).powf(2.0).sum();
            }
            (loss, y)
        };
        let (loss, y) = loss_of(&x);
        loss.backward();
        // dL/dy = 2y everywhere, plus 1 inside the first two slices.
        let y_values = y.to_vec::<f64>();
        let expected: Vec<f64> = (0..30)
            .map(|i| {
                let index = if dim == 0 { i / 5 } else { i % 5 };
                2.0 * y_values[i] + if index < 2 { 1.0 } else { 0.0 }
            })
            .collect();
        assert_eq!(y.grad().unwrap().to_vec::<f64>(), expected);
        let doubled: Vec<f64> = expected.iter().map(|g| 2.0 * g).collect();
        assert_eq!(x.grad().unwrap().to_vec::<f64>(), doubled);
        // The recorded pass (create_graph) builds each zero-padded gradient: same numbers.
        let (loss, _) = loss_of(&x);
        let options = BackwardOptions {
            create_graph: true,
            ..Default::default()
        };
        let recorded = try_grad(&[&loss], None, &[&x], options).unwrap();
        assert_eq!(recorded[0].to_vec::<f64>(), doubled);
    }
}
