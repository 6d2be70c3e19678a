//! The textbook's two-layer net (Affine → ReLU → Affine → Softmax-with-Loss), its gradients
//! computed twice: by the layers' hand-written backward passes, and by autograd. They agree.
//!
//! Run with `cargo run -p nabla-nn --example two_layer_net`.

use nabla_core::{DType, Generator, Tensor, no_grad};

/// Weights of the net: W1 [input, hidden], b1 [hidden], W2 [hidden, classes], b2 [classes].
struct Params {
    w1: Tensor,
    b1: Tensor,
    w2: Tensor,
    b2: Tensor,
}

/// Hand-written backprop, layer by layer, exactly as the textbook's `backward` methods.
fn manual_gradients(p: &Params, x: &Tensor, t: &Tensor) -> (f64, [Tensor; 4]) {
    no_grad(|| {
        // Forward, keeping what each layer's backward needs.
        let a1 = x.matmul(&p.w1) + &p.b1;
        let mask = a1.gt_scalar(0.0);
        let z1 = &a1 * &mask;
        let scores = z1.matmul(&p.w2) + &p.b2;
        let y = scores.softmax(1);
        let n = x.shape()[0] as f64;
        let loss = -(scores.log_softmax(1) * t).sum().item::<f64>() / n;
        // Backward: Softmax-with-Loss → Affine 2 → ReLU → Affine 1.
        let dscores = (&y - t) / n;
        let dw2 = z1.t().matmul(&dscores);
        let db2 = dscores.sum_dims(&[0], false);
        let dz1 = dscores.matmul(&p.w2.t());
        let da1 = &dz1 * &mask;
        let dw1 = x.t().matmul(&da1);
        let db1 = da1.sum_dims(&[0], false);
        (loss, [dw1, db1, dw2, db2])
    })
}

fn autograd_gradients(p: &Params, x: &Tensor, t: &Tensor) -> (f64, [Tensor; 4]) {
    let scores = (x.matmul(&p.w1) + &p.b1).relu().matmul(&p.w2) + &p.b2;
    let loss = -(scores.log_softmax(1) * t).sum_dims(&[1], false).mean();
    let g = nabla_core::grad(&[&loss], &[&p.w1, &p.b1, &p.w2, &p.b2]);
    (
        loss.item::<f64>(),
        [g[0].clone(), g[1].clone(), g[2].clone(), g[3].clone()],
    )
}

fn main() {
    let (batch, input, hidden, classes) = (8, 20, 10, 3);
    let mut rng = Generator::new(1);
    let mut weight =
        |shape: &[usize]| (Tensor::randn_with(shape, DType::F64, &mut rng) * 0.1).requires_grad();
    let params = Params {
        w1: weight(&[input, hidden]),
        b1: weight(&[hidden]),
        w2: weight(&[hidden, classes]),
        b2: weight(&[classes]),
    };
    let x = Tensor::randn_with(&[batch, input], DType::F64, &mut rng);
    let labels: Vec<i64> = (0..batch).map(|_| rng.below(classes) as i64).collect();
    let t = Tensor::from_vec(labels, &[batch]).one_hot(classes, DType::F64);

    let (loss_manual, manual) = manual_gradients(&params, &x, &t);
    let (loss_auto, auto) = autograd_gradients(&params, &x, &t);
    println!("loss: hand-written {loss_manual:.12}, autograd {loss_auto:.12}");
    for (name, (m, a)) in ["W1", "b1", "W2", "b2"]
        .iter()
        .zip(manual.iter().zip(&auto))
    {
        let diff = (m - a).abs().max().item::<f64>();
        println!("{name}: largest difference between the two gradients {diff:.2e}");
        assert!(diff < 1e-12, "{name} differs by {diff}");
    }
}
