//! A custom differentiable function: ReLU clamped at 6 whose backward lets the gradient pass
//! straight through on [-1, 7] (a straight-through estimator), like `torch.autograd.Function`.
//! gradcheck shows where the hand-written rule differs from the true derivative.
//!
//! Run with `cargo run -p nabla-core --example custom_function`.

use nabla_core::{
    Context, Function, GradcheckOptions, GradcheckOutcome, Result, Tensor, apply_function,
    gradcheck,
};

struct ClampedRelu;

impl Function for ClampedRelu {
    fn name(&self) -> &'static str {
        "ClampedReluBackward"
    }

    fn forward(&self, ctx: &mut Context, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        ctx.save_for_backward(&[&inputs[0]]);
        Ok(vec![inputs[0].clamp(0.0, 6.0)])
    }

    fn backward(&self, ctx: &Context, grad_outputs: &[Tensor]) -> Vec<Option<Tensor>> {
        let x = &ctx.saved_tensors()[0];
        let window = x.ge_scalar(-1.0) * x.le_scalar(7.0);
        vec![Some(&grad_outputs[0] * window)]
    }

    fn jvp(&self, ctx: &Context, tangents: &[Tensor]) -> Option<Vec<Tensor>> {
        let x = &ctx.saved_tensors()[0];
        Some(vec![&tangents[0] * (x.ge_scalar(-1.0) * x.le_scalar(7.0))])
    }
}

fn clamped_relu(x: &Tensor) -> Tensor {
    apply_function(ClampedRelu, &[x])
        .expect("forward cannot fail")
        .remove(0)
}

fn main() {
    let x = Tensor::from_vec(vec![-2.0f64, -0.5, 1.0, 5.0, 6.5, 8.0], &[6]).requires_grad();
    let y = clamped_relu(&x);
    y.sum().backward();
    println!("x              = {:?}", x.to_vec::<f64>());
    println!("y              = {:?}", y.to_vec::<f64>());
    println!("dy/dx (custom) = {:?}", x.grad().unwrap().to_vec::<f64>());
    println!("graph node     = {}", y.grad_fn().unwrap().name());

    let f = |v: &[Tensor]| clamped_relu(&v[0]);
    let inside = Tensor::from_vec(vec![0.5f64, 2.0, 5.5], &[3]);
    println!(
        "\ngradcheck where the rule is exact:  {}",
        gradcheck(f, &[inside], GradcheckOptions::default()).unwrap()
    );
    let outside = Tensor::from_vec(vec![-0.5f64, 6.5], &[2]);
    match gradcheck(f, &[outside], GradcheckOptions::default()).unwrap() {
        GradcheckOutcome::Failed(m) => println!(
            "gradcheck where it passes gradient straight through: element {:?} analytic {} vs numerical {}",
            m.input_index, m.analytic, m.numerical
        ),
        passed => println!("unexpected: {passed}"),
    }
}
