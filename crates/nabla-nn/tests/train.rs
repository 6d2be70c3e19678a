//! The library loop (`nabla_nn::train`) on small made-up data: validation figures, metrics of
//! both tasks, early stopping, observers that stop a run, divergence reports, `evaluate` and
//! `predict`.

use nabla_core::{DType, Generator, Tensor};
use nabla_nn::Error;
use nabla_nn::data::{DataLoader, Dataset};
use nabla_nn::layers::{Linear, ReLU};
use nabla_nn::module::{Module, Sequential};
use nabla_nn::optim::{Adam, Optim, Optimizer, Sgd};
use nabla_nn::schedule::StepDecay;
use nabla_nn::task::Task;
use nabla_nn::train::{
    Control, EarlyStopping, FitOptions, Observer, StepEnd, evaluate, fit, predict,
};

/// 256 points in the unit square, class 1 above the diagonal.
fn points(seed: u64) -> Dataset {
    let x = Tensor::rand_with(&[256, 2], DType::F32, &mut Generator::new(seed));
    let labels: Vec<i64> = x
        .to_vec::<f32>()
        .chunks(2)
        .map(|p| i64::from(p[1] > p[0]))
        .collect();
    Dataset::new(x, Tensor::from_vec(labels, &[256])).unwrap()
}

fn mlp(outputs: usize) -> Sequential {
    let mut rng = Generator::new(0);
    let mut net = Sequential::new();
    net.push(Box::new(Linear::new(2, 16, DType::F32, &mut rng)));
    net.push(Box::new(ReLU));
    net.push(Box::new(Linear::new(16, outputs, DType::F32, &mut rng)));
    net
}

fn adam(net: &Sequential, lr: f64) -> Box<dyn Optimizer> {
    Box::new(Optim::new(net.named_parameters(), Adam::new(), lr).unwrap())
}

#[test]
fn fit_reports_training_and_validation_figures_per_epoch() {
    let mut net = mlp(2);
    let mut opt = adam(&net, 0.05);
    let loader = DataLoader::new(points(0), 32).unwrap().shuffle(0);
    let options = FitOptions::new(Task::classes(2), 20)
        .schedule(StepDecay::new(0.05, 10, 0.1).unwrap())
        .clip_norm(5.0)
        .validation(points(1));
    let history = fit(&mut net, &loader, opt.as_mut(), &options, &mut []).unwrap();
    assert_eq!(history.len(), 20);
    assert_eq!((history[9].lr, history[10].lr), (0.05, 0.05 * 0.1));
    let last = history.last().unwrap();
    let val = last.validation.as_ref().unwrap();
    assert_eq!(val.samples, 256);
    assert!(val.accuracy.unwrap() > 0.95, "{val:?}");
    assert!(last.train.loss < history[0].train.loss);
    // Two classes: top-5 accuracy says nothing, so there is none; no regression figures.
    assert_eq!((val.top_k, val.mse, val.mae), (None, None, None));
    // The model is left in evaluation mode: evaluate agrees with the last report.
    let again = evaluate(&net, &points(1), &Task::classes(2)).unwrap();
    assert_eq!(&again, val);
}

#[test]
fn regression_reports_mse_and_mae_and_predict_gives_every_row() {
    // y = x0 - 2 x1, one target column.
    let x = Tensor::rand_with(&[200, 2], DType::F32, &mut Generator::new(3));
    let y: Vec<f32> = x
        .to_vec::<f32>()
        .chunks(2)
        .map(|p| p[0] - 2.0 * p[1])
        .collect();
    let data = Dataset::new(x.clone(), Tensor::from_vec(y, &[200, 1])).unwrap();
    let task = Task::Regression {
        targets: vec!["y".into()],
    };
    let mut net = mlp(1);
    let mut opt = adam(&net, 0.02);
    let loader = DataLoader::new(data.clone(), 20).unwrap().shuffle(0);
    let options = FitOptions::new(task.clone(), 30).validation(data.clone());
    let history = fit(&mut net, &loader, opt.as_mut(), &options, &mut []).unwrap();
    let val = history.last().unwrap().validation.clone().unwrap();
    assert_eq!(val.accuracy, None);
    // The loss is the model's f32 mean; the MSE is summed in f64.
    assert!(
        (val.mse.unwrap() - val.loss).abs() <= 1e-5 * val.loss,
        "{val:?}"
    );
    assert!(val.mae.unwrap() < 0.1, "{val:?}");
    let outputs = predict(&net, &x).unwrap();
    assert_eq!(outputs.shape(), &[200, 1]);
    let direct = net.forward(&x).to_vec::<f32>();
    assert_eq!(outputs.to_vec::<f32>(), direct);
}

#[test]
fn early_stopping_stops_after_patience_epochs_without_improvement() {
    let mut net = mlp(2);
    // A learning rate of zero: the loss never improves after the first epoch.
    let mut opt = Optim::new(net.named_parameters(), Sgd::new(), 0.0).unwrap();
    let loader = DataLoader::new(points(0), 64).unwrap();
    let options = FitOptions::new(Task::classes(2), 10).validation(points(1));
    let mut stop = EarlyStopping::new("val_loss", 2).unwrap().min_delta(1e-6);
    let history = fit(&mut net, &loader, &mut opt, &options, &mut [&mut stop]).unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(stop.stopped_after(), Some(3));
    assert_eq!(
        stop.best(),
        Some(history[0].validation.as_ref().unwrap().loss)
    );
}

#[test]
fn early_stopping_on_a_figure_the_run_lacks_is_an_error() {
    let mut net = mlp(2);
    let mut opt = adam(&net, 0.01);
    let loader = DataLoader::new(points(0), 64).unwrap();
    let options = FitOptions::new(Task::classes(2), 3);
    let mut stop = EarlyStopping::new("val_accuracy", 1).unwrap();
    let err = fit(&mut net, &loader, opt.as_mut(), &options, &mut [&mut stop]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "EarlyStopping: monitors val_accuracy, which this run does not measure (it has no \
         validation set)"
    );
    assert_eq!(
        EarlyStopping::new("precision", 1).unwrap_err().to_string(),
        "EarlyStopping: unknown figure \"precision\"; expected loss, accuracy, top_k, mse or \
         mae, with val_ in front for the validation set"
    );
}

/// Stops the run after a given number of steps and counts the steps it saw.
struct StopAfter(usize, usize);

impl Observer for StopAfter {
    fn step_end(&mut self, step: &StepEnd) -> nabla_nn::Result<Control> {
        self.1 += 1;
        assert_eq!(step.steps, 4);
        Ok(if step.step == self.0 {
            Control::Stop
        } else {
            Control::Continue
        })
    }
}

#[test]
fn an_observer_stopping_at_a_step_ends_the_run_with_that_epoch_reported() {
    let mut net = mlp(2);
    let mut opt = adam(&net, 0.01);
    let loader = DataLoader::new(points(0), 64).unwrap();
    let options = FitOptions::new(Task::classes(2), 5);
    let mut stop = StopAfter(2, 0);
    let history = fit(&mut net, &loader, opt.as_mut(), &options, &mut [&mut stop]).unwrap();
    assert_eq!((history.len(), stop.1), (1, 2));
    assert_eq!(history[0].train.samples, 128);
}

#[test]
fn a_loss_that_becomes_nan_stops_the_run_naming_the_layer() {
    let mut net = mlp(2);
    let mut opt = Optim::new(net.named_parameters(), Sgd::new(), 1e30).unwrap();
    let loader = DataLoader::new(points(0), 64).unwrap();
    let options = FitOptions::new(Task::classes(2), 2);
    let err = fit(&mut net, &loader, &mut opt, &options, &mut []).unwrap_err();
    let Error::Diverged(d) = &err else {
        panic!("{err}")
    };
    assert_eq!(d.lr, 1e30);
    assert!(
        err.to_string()
            .starts_with("the loss became NaN at epoch 1, step 2, first in "),
        "{err}"
    );
}

#[test]
fn evaluate_and_predict_refuse_what_they_cannot_measure() {
    let net = mlp(2);
    let empty = points(0).take(0);
    assert_eq!(
        evaluate(&net, &empty, &Task::classes(2))
            .unwrap_err()
            .to_string(),
        "evaluate: the data set is empty; evaluation needs at least one sample"
    );
    assert_eq!(
        predict(&net, &Tensor::scalar(1.0f32))
            .unwrap_err()
            .to_string(),
        "predict: features need a sample dimension, got a scalar"
    );
    let wrong = Tensor::ones(&[3, 5], DType::F32);
    assert!(predict(&net, &wrong).is_err());
}
