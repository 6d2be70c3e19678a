use nabla_core::{DType, Tensor, no_grad};
use std::time::Instant;
fn t(name: &str, flops: f64, f: impl Fn() -> Tensor) {
    for _ in 0..20 {
        f();
    }
    let n = 300;
    let s = Instant::now();
    for _ in 0..n {
        std::hint::black_box(f());
    }
    let us = s.elapsed().as_secs_f64() / n as f64 * 1e6;
    println!("{name:40} {us:8.1} us  {:6.1} GFLOP/s", flops / us / 1e3);
}
fn main() {
    let threads: usize = std::env::args().nth(1).map_or(1, |s| s.parse().unwrap());
    nabla_core::set_num_threads(threads).unwrap();
    no_grad(|| {
        let h = Tensor::randn(&[128, 128], DType::F32);
        let w = Tensor::randn(&[512, 128], DType::F32);
        let b = Tensor::randn(&[512], DType::F32);
        let g = Tensor::randn(&[128, 512], DType::F32);
        let x = Tensor::randn(&[128, 28, 28], DType::F32);
        let xt = x.narrow(1, 3, 1).squeeze(1);
        let wi = Tensor::randn(&[512, 28], DType::F32);
        let f = 2.0 * 128.0 * 128.0 * 512.0;
        let fi = 2.0 * 128.0 * 28.0 * 512.0;
        t("fwd h.W^T + b (linear)", f, || h.linear(&w, Some(&b)));
        t("bwd dh = g.W", f, || g.matmul(&w));
        t("bwd dW = g^T.h", f, || g.t().matmul(&h));
        t("fwd x_t.Wih^T + b", fi, || xt.linear(&wi, Some(&b)));
        t("bwd dWih = g^T.x_t", fi, || g.t().matmul(&xt));
        t("db = sum rows g", 0.0, || g.sum_dims(&[0], false));
        let big = Tensor::randn(&[3584, 28], DType::F32);
        t("all-steps x.Wih^T (3584x28x512)", fi * 28.0, || {
            big.linear(&wi, Some(&b))
        });
    });
}
