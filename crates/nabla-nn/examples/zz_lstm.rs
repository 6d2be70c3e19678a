use nabla_core::{DType, Generator, Tensor};
use nabla_nn::layers::*;
use nabla_nn::loss::*;
use nabla_nn::module::{Module, Sequential};
use nabla_nn::optim::{Adam, Optim, Optimizer};
use std::time::Instant;
fn main() {
    let kind = std::env::args().nth(1).unwrap_or("lstm".into());
    let threads: usize = std::env::args().nth(2).map_or(2, |s| s.parse().unwrap());
    nabla_core::set_num_threads(threads).unwrap();
    let mut g = Generator::new(0);
    let o = RecurrentOptions {
        batch_first: true,
        ..Default::default()
    };
    let mut net = Sequential::new();
    match kind.as_str() {
        "lstm" => net.push(Box::new(Lstm::new(28, 128, o, DType::F32, &mut g).unwrap())),
        "gru" => net.push(Box::new(Gru::new(28, 128, o, DType::F32, &mut g).unwrap())),
        _ => net.push(Box::new(
            Rnn::new(28, 128, Nonlinearity::Tanh, o, DType::F32, &mut g).unwrap(),
        )),
    }
    net.push(Box::new(Linear::new(128, 10, DType::F32, &mut g)));
    let mut opt = Optim::new(net.named_parameters(), Adam::new(), 1e-3).unwrap();
    let x = Tensor::randn(&[128, 28, 28], DType::F32);
    let y = Tensor::from_vec(
        (0..128).map(|i| (i % 10) as i64).collect::<Vec<_>>(),
        &[128],
    );
    let mut times = vec![];
    for i in 0..40 {
        let t = Instant::now();
        opt.zero_grad();
        let l = cross_entropy(&net.forward(&x), &y);
        l.backward();
        opt.step().unwrap();
        if i >= 10 {
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "{kind}: median {:.2} ms best {:.2} ms",
        times[times.len() / 2],
        times[0]
    );
}
