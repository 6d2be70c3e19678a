//! The textbook's computational graphs, built and differentiated with nabla:
//! apple shopping, apples and oranges, and a squared error, then a walk down the `grad_fn` chain.
//!
//! Run with `cargo run -p nabla-nn --example computational_graph`.

use nabla_core::{Node, Tensor};
use std::sync::Arc;

fn leaf(v: f64) -> Tensor {
    Tensor::scalar(v).requires_grad()
}

fn grad(t: &Tensor) -> f64 {
    t.grad().map_or(0.0, |g| g.item::<f64>())
}

/// Prints the graph behind `node`, one line per node, children indented.
fn print_chain(node: &Arc<Node>, depth: usize) {
    let leaf_note = node
        .variable()
        .map(|v| format!(" (leaf = {})", v.item::<f64>()))
        .unwrap_or_default();
    println!("{}{}{}", "  ".repeat(depth), node.name(), leaf_note);
    for next in node.next_functions().iter().flatten() {
        print_chain(next, depth + 1);
    }
}

fn main() {
    println!("Apple shopping: 2 apples at 100, tax 1.1");
    let (apple, count, tax) = (leaf(100.0), leaf(2.0), leaf(1.1));
    let price = &(&apple * &count) * &tax;
    price.backward();
    println!("  price = {:.1}", price.item::<f64>());
    println!(
        "  d price/d apple = {:.1}, d/d count = {:.1}, d/d tax = {:.1}",
        grad(&apple),
        grad(&count),
        grad(&tax)
    );

    println!("\nApples and oranges: 2 apples at 100, 3 oranges at 150, tax 1.1");
    let (apple, apple_n, orange, orange_n, tax) =
        (leaf(100.0), leaf(2.0), leaf(150.0), leaf(3.0), leaf(1.1));
    let total = (&apple * &apple_n + &orange * &orange_n) * &tax;
    total.backward();
    println!("  total = {:.1}", total.item::<f64>());
    println!(
        "  gradients: apple {:.1}, apples {:.1}, orange {:.1}, oranges {:.1}, tax {:.1}",
        grad(&apple),
        grad(&apple_n),
        grad(&orange),
        grad(&orange_n),
        grad(&tax)
    );
    println!("  the graph, from the output back to the leaves:");
    print_chain(&total.grad_fn().expect("total is computed"), 2);

    println!("\nL = (w*x + b - 5)^2 at x = 2, w = 3, b = 1");
    let (x, w, b) = (leaf(2.0), leaf(3.0), leaf(1.0));
    let loss = (&w * &x + &b - 5.0).powf(2.0);
    loss.backward();
    println!(
        "  L = {}, dL/dx = {}, dL/dw = {}, dL/db = {}",
        loss.item::<f64>(),
        grad(&x),
        grad(&w),
        grad(&b)
    );

    println!("\nGradients accumulate: x = 1, backward of x^2 then x^3");
    let x = leaf(1.0);
    x.powf(2.0).backward();
    let after_first = grad(&x);
    x.powf(3.0).backward();
    println!(
        "  x.grad after x^2: {after_first}, after x^3 as well: {}",
        grad(&x)
    );
}
