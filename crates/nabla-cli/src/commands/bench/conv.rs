//! f32 convolution throughput: one conv2d layer's forward and backward (the weight's and the
//! bias's gradients, and the input's where a network needs it) at three layer shapes of a
//! small CNN, counted as `2·MACs` flops per product: forward, weight gradient, and input
//! gradient except for the stem, whose input is the data.

use super::best_time;
use super::report::ConvFigure;
use nabla_core::ops::window::ConvOptions;
use nabla_core::{BackwardOptions, DType, Generator, Tensor, try_grad};
use std::time::Duration;

/// A layer shape: name, batch, in and out channels, input size, kernel size, and whether the
/// input's gradient is computed.
type Shape = (&'static str, usize, usize, usize, usize, usize, bool);

/// The three shapes, as in `benches/peer_pytorch.py`.
const SHAPES: [Shape; 3] = [
    ("3x3 stem", 128, 1, 32, 28, 3, false),
    ("3x3 middle", 128, 32, 64, 13, 3, true),
    ("1x1", 128, 64, 64, 14, 1, true),
];

/// The best time of forward and backward of every shape, with its GFLOP/s.
pub fn conv() -> Vec<ConvFigure> {
    SHAPES
        .iter()
        .map(|&(name, batch, cin, cout, size, k, input_grad)| {
            let mut generator = Generator::new(0);
            let x = Tensor::randn_with(&[batch, cin, size, size], DType::F32, &mut generator);
            let x = if input_grad { x.requires_grad() } else { x };
            let w = (Tensor::randn_with(&[cout, cin, k, k], DType::F32, &mut generator) * 0.1)
                .requires_grad();
            let b = Tensor::zeros(&[cout], DType::F32).requires_grad();
            let out = size - k + 1;
            let g = Tensor::randn_with(&[batch, cout, out, out], DType::F32, &mut generator);
            let seconds = best_time(Duration::from_millis(700), || {
                let y = x.conv2d(&w, Some(&b), &ConvOptions::default());
                let mut leaves = vec![&w, &b];
                if input_grad {
                    leaves.push(&x);
                }
                try_grad(&[&y], Some(&[&g]), &leaves, BackwardOptions::default())
                    .expect("the gradients of a convolution");
            });
            let macs = (batch * cout * out * out * cin * k * k) as f64;
            let products = if input_grad { 3.0 } else { 2.0 };
            ConvFigure {
                layer: name.to_string(),
                batch,
                in_channels: cin,
                out_channels: cout,
                size,
                kernel: k,
                input_grad,
                seconds,
                gflops: 2.0 * products * macs / seconds / 1e9,
            }
        })
        .collect()
}
