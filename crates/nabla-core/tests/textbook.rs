//! The computational-graph examples of the textbook, reproduced exactly.

use nabla_core::{DType, Tensor};

fn leaf(v: f64) -> Tensor {
    Tensor::scalar(v).requires_grad()
}

fn grad_of(t: &Tensor) -> f64 {
    t.grad().expect("gradient accumulated").item::<f64>()
}

#[test]
fn apple_shopping() {
    let (apple, count, tax) = (leaf(100.0), leaf(2.0), leaf(1.1));
    let price = &(&apple * &count) * &tax;
    assert!((price.item::<f64>() - 220.0).abs() < 1e-12);
    price.backward();
    assert!((grad_of(&apple) - 2.2).abs() < 1e-15);
    assert!((grad_of(&count) - 110.0).abs() < 1e-12);
    assert_eq!(grad_of(&tax), 200.0);
}

#[test]
fn apple_and_orange_shopping() {
    let (apple, apple_n, orange, orange_n, tax) =
        (leaf(100.0), leaf(2.0), leaf(150.0), leaf(3.0), leaf(1.1));
    let total = (&apple * &apple_n + &orange * &orange_n) * &tax;
    assert!((total.item::<f64>() - 715.0).abs() < 1e-9);
    total.backward();
    assert!((grad_of(&apple) - 2.2).abs() < 1e-12);
    assert!((grad_of(&apple_n) - 110.0).abs() < 1e-12);
    assert!((grad_of(&orange) - 3.3).abs() < 1e-12);
    assert!((grad_of(&orange_n) - 165.0).abs() < 1e-12);
    assert_eq!(grad_of(&tax), 650.0);
}

#[test]
fn squared_error_of_a_line() {
    let (x, w, b) = (leaf(2.0), leaf(3.0), leaf(1.0));
    let loss = (&w * &x + &b - 5.0).powf(2.0);
    assert_eq!(loss.item::<f64>(), 4.0);
    loss.backward();
    assert_eq!((grad_of(&x), grad_of(&w), grad_of(&b)), (12.0, 8.0, 4.0));
}

#[test]
fn gradients_accumulate_until_zeroed() {
    let x = leaf(1.0);
    x.powf(2.0).backward();
    assert_eq!(grad_of(&x), 2.0);
    x.powf(3.0).backward();
    assert_eq!(grad_of(&x), 5.0);
    x.zero_grad();
    assert!(x.grad().is_none());
    x.powf(3.0).backward();
    assert_eq!(grad_of(&x), 3.0);
}

#[test]
fn sigmoid_backward_is_y_times_one_minus_y() {
    let x = Tensor::from_vec(vec![-3.0f64, -0.5, 0.0, 0.7, 4.0], &[5]).requires_grad();
    let y = x.sigmoid();
    let upstream = Tensor::from_vec(vec![1.0f64, 2.0, -1.0, 0.5, 3.0], &[5]);
    y.backward_with(&upstream);
    let expected: Vec<f64> = y
        .to_vec::<f64>()
        .iter()
        .zip(upstream.to_vec::<f64>())
        .map(|(y, g)| g * (y * (1.0 - y)))
        .collect();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), expected);
}

#[test]
fn affine_layer_gradients() {
    // Y = X·W + b with X [2, 3], W [3, 2], b [2].
    let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, -1.0, 0.5, 2.0], &[2, 3]).requires_grad();
    let w = Tensor::from_vec(vec![0.1f64, -0.2, 0.3, 0.4, -0.5, 0.6], &[3, 2]).requires_grad();
    let b = Tensor::from_vec(vec![0.01f64, -0.02], &[2]).requires_grad();
    let y = x.matmul(&w) + &b;
    let dy = Tensor::from_vec(vec![1.0f64, -2.0, 0.5, 3.0], &[2, 2]);
    y.backward_with(&dy);
    let no_grad = |t: &Tensor| t.detach();
    assert_eq!(
        x.grad().unwrap().to_vec::<f64>(),
        dy.matmul(&no_grad(&w).t()).to_vec::<f64>()
    );
    assert_eq!(
        w.grad().unwrap().to_vec::<f64>(),
        no_grad(&x).t().matmul(&dy).to_vec::<f64>()
    );
    assert_eq!(b.grad().unwrap().to_vec::<f64>(), vec![1.5, 1.0]);
}

#[test]
fn relu_passes_gradient_only_where_positive() {
    let x = Tensor::from_vec(vec![-1.0f64, 0.0, 2.0, -0.1, 0.3], &[5]).requires_grad();
    x.relu().backward_with(&Tensor::full(&[5], 7.0, DType::F64));
    assert_eq!(
        x.grad().unwrap().to_vec::<f64>(),
        vec![0.0, 0.0, 7.0, 0.0, 7.0]
    );
}

#[test]
fn softmax_with_loss_gives_y_minus_t_over_n() {
    let logits = Tensor::from_vec(
        vec![0.3f64, 2.9, 4.0, 1.0, -1.0, 0.5, 0.0, 0.0, 3.0],
        &[3, 3],
    )
    .requires_grad();
    let labels = Tensor::from_vec(vec![2i64, 0, 1], &[3]);
    let t = labels.one_hot(3, DType::F64);
    let loss = -(logits.log_softmax(1) * &t).sum_dims(&[1], false).mean();
    loss.backward();
    let y = logits.detach().softmax(1);
    let expected = ((y - &t) / 3.0).to_vec::<f64>();
    let got = logits.grad().unwrap().to_vec::<f64>();
    for (g, e) in got.iter().zip(&expected) {
        assert!((g - e).abs() < 1e-15, "{got:?} vs {expected:?}");
    }
}
