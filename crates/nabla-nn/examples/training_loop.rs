//! A complete MNIST training run with the library API: load the data, build a 784-100-10 ReLU
//! network, train it with Adam for two epochs with the library loop, following test accuracy.
//! `nabla train` is this loop with options, progress bars and checkpoints.
//!
//! Run with `cargo run --release -p nabla-nn --example training_loop`.

use nabla_core::{DType, Generator};
use nabla_nn::data::{DataLoader, Mnist, Normalization};
use nabla_nn::models::{Hidden, MlpConfig, WeightInit};
use nabla_nn::module::Module;
use nabla_nn::optim::{Adam, Optim};
use nabla_nn::task::Task;
use nabla_nn::train::{Control, EpochEnd, FitOptions, Observer, fit};

/// Prints each epoch's test accuracy as it finishes.
struct PrintEpochs;

impl Observer for PrintEpochs {
    fn epoch_end(&mut self, end: &mut EpochEnd<'_>) -> nabla_nn::Result<Control> {
        let test = end.report.validation.as_ref().and_then(|m| m.accuracy);
        println!(
            "epoch {}: train loss {:.4}, test accuracy {:.2}%",
            end.report.epoch,
            end.report.train.loss,
            100.0 * test.unwrap_or(f64::NAN)
        );
        Ok(Control::Continue)
    }
}

fn main() -> nabla_nn::Result<()> {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist");
    let mnist = Mnist::load(folder, Normalization::MNIST)?;
    let mut net = MlpConfig {
        input: 784,
        hidden: vec![100],
        outputs: 10,
        activation: Hidden::Relu,
        init: WeightInit::He,
        batch_norm: false,
        dropout: 0.0,
    }
    .build(DType::F32, &mut Generator::new(0))?;
    let mut optimizer = Optim::new(net.named_parameters(), Adam::new(), 1e-3)?;
    // A new shuffle of the 60,000 training images each epoch, 128 images per step.
    let loader = DataLoader::new(mnist.train.clone(), 128)?.shuffle(0);
    // The test set evaluated after each epoch (without recording a graph).
    let options = FitOptions::new(Task::classes(10), 2).validation_named("test", mnist.test);
    fit(
        &mut net,
        &loader,
        &mut optimizer,
        &options,
        &mut [&mut PrintEpochs],
    )?;
    Ok(())
}
