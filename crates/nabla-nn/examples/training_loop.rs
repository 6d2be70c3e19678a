//! A complete MNIST training loop written with the library API: load the data, build a
//! 784-100-10 ReLU network, train it with Adam for two epochs, and measure test accuracy.
//! `nabla train` is this loop with options, progress bars and checkpoints.
//!
//! Run with `cargo run --release -p nabla-nn --example training_loop`.

use nabla_core::{DType, Generator, no_grad};
use nabla_nn::data::{DataLoader, Mnist, Normalization};
use nabla_nn::loss::try_cross_entropy;
use nabla_nn::models::{Hidden, MlpConfig, WeightInit};
use nabla_nn::module::Module;
use nabla_nn::optim::{Adam, Optim, Optimizer};

fn main() -> nabla_nn::Result<()> {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist");
    let mnist = Mnist::load(folder, Normalization::MNIST)?;
    let net = MlpConfig {
        input: 784,
        hidden: vec![100],
        outputs: 10,
        activation: Hidden::Relu,
        init: WeightInit::He,
        batch_norm: false,
        dropout: 0.0,
    }
    .build(DType::F32, &mut Generator::new(0))?;
    let mut optimizer = Optim::new(net.named_parameters(), Adam::new(1e-3))?;
    // A new shuffle of the 60,000 training images each epoch, 128 images per step.
    let loader = DataLoader::new(mnist.train.clone(), 128)?.shuffle(0);
    for epoch in 0..2 {
        for batch in loader.epoch(epoch) {
            let loss = try_cross_entropy(&net.try_forward(&batch.features)?, &batch.targets)?;
            optimizer.zero_grad();
            loss.try_backward()?;
            optimizer.step()?;
        }
        // Evaluation records no graph.
        let logits = no_grad(|| net.try_forward(&mnist.test.features))?;
        let predicted = logits.argmax(1, false).to_vec::<i64>();
        let labels = mnist.test.targets.to_vec::<i64>();
        let correct = (0..labels.len())
            .filter(|&i| predicted[i] == labels[i])
            .count();
        let accuracy = 100.0 * correct as f64 / labels.len() as f64;
        println!("epoch {}: test accuracy {accuracy:.2}%", epoch + 1);
    }
    Ok(())
}
