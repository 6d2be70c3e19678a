//! f32 matrix-product throughput: `n×n @ n×n` outside the graph, counted as `2n³` flops.

use super::best_time;
use super::report::MatmulFigure;
use nabla_core::{DType, Generator, Tensor, no_grad};
use std::time::Duration;

/// The best time of one `n×n` product and its GFLOP/s (shares of the peak are filled in later).
pub fn matmul(n: usize) -> MatmulFigure {
    let mut generator = Generator::new(0);
    let a = Tensor::randn_with(&[n, n], DType::F32, &mut generator);
    let b = Tensor::randn_with(&[n, n], DType::F32, &mut generator);
    let seconds = best_time(Duration::from_millis(700), || {
        no_grad(|| a.matmul(&b));
    });
    MatmulFigure {
        n,
        seconds,
        gflops: 2.0 * (n as f64).powi(3) / seconds / 1e9,
        percent_of_avx2_peak: None,
        percent_of_avx512_peak: None,
    }
}
