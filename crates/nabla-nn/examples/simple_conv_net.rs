//! The textbook's SimpleConvNet (chapter 7) on MNIST: conv 30 filters 5×5 → ReLU → max-pool 2 →
//! affine 100 → ReLU → affine 10, trained with Adam in batches of 100 through the library loop,
//! printing test accuracy after each epoch. First, the step that makes a convolution a matrix
//! product: the im2col unfolding of a 1×1×4×4 image with a 2×2 kernel.
//!
//! Run with `cargo run --release -p nabla-nn --example simple_conv_net [EPOCHS]` (10 by default: 98.76% test accuracy).

use nabla_core::ops::window::ConvOptions;
use nabla_core::{DType, Generator, Tensor};
use nabla_nn::data::mnist::{IMAGE_SIDE, NUM_CLASSES};
use nabla_nn::data::{DataLoader, Dataset, Mnist, Normalization};
use nabla_nn::models::{WeightInit, simple_conv_net};
use nabla_nn::module::Module;
use nabla_nn::optim::{Adam, Optim};
use nabla_nn::task::Task;
use nabla_nn::train::{Control, EpochEnd, FitOptions, Observer, fit};
use std::time::Instant;

/// Prints each epoch's test accuracy and the time since training began.
struct PrintEpochs(Instant);

impl Observer for PrintEpochs {
    fn epoch_end(&mut self, end: &mut EpochEnd<'_>) -> nabla_nn::Result<Control> {
        let test = end.report.validation.as_ref().and_then(|m| m.accuracy);
        println!(
            "epoch {}: train loss {:.4}, test accuracy {:.2}% ({:.0} s)",
            end.report.epoch,
            end.report.train.loss,
            100.0 * test.unwrap_or(f64::NAN),
            self.0.elapsed().as_secs_f64()
        );
        Ok(Control::Continue)
    }
}

/// Prints the windows of a 4×4 image with the values 1..16 under a 2×2 kernel as the textbook's
/// `im2col` lays them out: one row per window (`torch.nn.functional.unfold`, and nabla's
/// `unfold`, give the transpose: one column per window).
fn show_im2col() {
    let image = Tensor::from_vec((1..=16).map(|v| v as f32).collect(), &[1, 1, 4, 4]);
    let columns = image.unfold([2, 2], &ConvOptions::default());
    let rows = columns.squeeze(0).transpose(0, 1);
    let [windows, taps] = *rows.shape() else {
        unreachable!("unfold of one image gives a matrix")
    };
    println!("a 1x1x4x4 image:");
    for row in image.to_vec::<f32>().chunks(4) {
        println!("  {}", cells(row));
    }
    println!(
        "im2col with a 2x2 kernel, stride 1: {windows} windows x {taps} values \
         (unfold gives {:?}, printed transposed, one row per window)",
        columns.shape()
    );
    for row in rows.contiguous().to_vec::<f32>().chunks(taps) {
        println!("  {}", cells(row));
    }
    println!(
        "a convolution is then this matrix times the filters as columns: [9, 4] x [4, C_out]\n"
    );
}

fn cells(values: &[f32]) -> String {
    values
        .iter()
        .map(|v| format!("{v:>3}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// MNIST's images as `[N, 1, 28, 28]`, the layout a convolution takes.
fn images(set: &Dataset) -> nabla_nn::Result<Dataset> {
    let n = set.len();
    let features = set.features.reshape(&[n, 1, IMAGE_SIDE, IMAGE_SIDE]);
    Dataset::new(features, set.targets.clone())
}

fn main() -> nabla_nn::Result<()> {
    show_im2col();
    let epochs = match std::env::args().nth(1) {
        Some(text) => text.parse().map_err(|_| {
            nabla_nn::Error::invalid(
                "simple_conv_net",
                format!("EPOCHS must be a whole number, got {text:?}"),
            )
        })?,
        None => 10,
    };
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/mnist");
    let mnist = Mnist::load(folder, Normalization::MNIST)?;
    let (train, test) = (images(&mnist.train)?, images(&mnist.test)?);
    let spec = simple_conv_net();
    let mut net = spec.build(
        &[1, IMAGE_SIDE, IMAGE_SIDE],
        NUM_CLASSES,
        WeightInit::He,
        DType::F32,
        &mut Generator::new(0),
    )?;
    println!("{spec}\n{}", net.describe());
    let mut optimizer = Optim::new(net.named_parameters(), Adam::new(), 1e-3)?;
    let loader = DataLoader::new(train, 100)?.shuffle(0);
    let options =
        FitOptions::new(Task::classes(NUM_CLASSES), epochs).validation_named("test", test);
    fit(
        &mut net,
        &loader,
        &mut optimizer,
        &options,
        &mut [&mut PrintEpochs(Instant::now())],
    )?;
    Ok(())
}
