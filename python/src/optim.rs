//! `nabla._C._optim.Fused`: one parameter group's optimiser step in Rust (nabla-nn's `Optim`
//! with the rule of SGD, Adam, AdamW, RMSprop or Adagrad), so `optimizer.step()` in Python is
//! one call that updates every parameter in place with the GIL released, not a Python loop
//! over tensors. `nabla.optim`'s classes hold one per group and keep PyTorch's interface.

use crate::errors::IntoPyResult;
use crate::tensor::Tensor;
use nabla_nn::optim::{AdaGrad, Adam, AdamW, Optim, Optimizer, RmsProp, Sgd, UpdateRule};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// The hyper-parameters of a group, as `torch.optim`'s keyword arguments.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct Hyper {
    lr: f64,
    weight_decay: f64,
    momentum: f64,
    dampening: f64,
    nesterov: bool,
    betas: (f64, f64),
    eps: f64,
    alpha: f64,
}

/// A fused optimiser over one parameter group.
#[pyclass(module = "nabla._C._optim")]
struct Fused {
    inner: Box<dyn Optimizer + Sync>,
}

fn build<R: UpdateRule + 'static>(
    params: Vec<(String, nabla_core::Tensor)>,
    rule: R,
    hyper: &Hyper,
) -> PyResult<Box<dyn Optimizer + Sync>> {
    let optim = Optim::new(params, rule, hyper.lr)
        .and_then(|o| o.with_weight_decay(hyper.weight_decay))
        .py()?;
    Ok(Box::new(optim))
}

#[pymethods]
impl Fused {
    /// `kind` is `"SGD"`, `"Adam"`, `"AdamW"`, `"RMSprop"` or `"Adagrad"`; `params` the group's
    /// tensors, named by position in the state.
    #[new]
    fn new(kind: &str, params: Vec<PyRef<'_, Tensor>>, hyper: Hyper) -> PyResult<Self> {
        let params: Vec<(String, nabla_core::Tensor)> = params
            .iter()
            .enumerate()
            .map(|(i, p)| (i.to_string(), p.core().clone()))
            .collect();
        let (b1, b2) = hyper.betas;
        let inner = match kind {
            "SGD" => build(
                params,
                Sgd::new()
                    .momentum(hyper.momentum)
                    .dampening(hyper.dampening)
                    .nesterov(hyper.nesterov),
                &hyper,
            )?,
            "Adam" => build(params, Adam::new().betas(b1, b2).eps(hyper.eps), &hyper)?,
            "AdamW" => build(params, AdamW::new().betas(b1, b2).eps(hyper.eps), &hyper)?,
            "RMSprop" => build(
                params,
                RmsProp::new().alpha(hyper.alpha).eps(hyper.eps),
                &hyper,
            )?,
            "Adagrad" => build(params, AdaGrad::new().eps(hyper.eps), &hyper)?,
            other => {
                return Err(PyValueError::new_err(format!(
                    "unknown optimiser {other:?}: expected SGD, Adam, AdamW, RMSprop or Adagrad"
                )));
            }
        };
        Ok(Fused { inner })
    }

    /// Updates every parameter that has a gradient, at learning rate `lr`.
    fn step(&mut self, py: Python<'_>, lr: f64) -> PyResult<()> {
        if lr.is_nan() || lr < 0.0 {
            return Err(PyValueError::new_err(format!(
                "Invalid learning rate: {lr}"
            )));
        }
        self.inner.set_learning_rate(lr);
        let inner = &mut self.inner;
        py.detach(|| inner.step()).py()
    }

    /// The state: `step`, and per updated parameter `i.step` and its buffers `i.<name>`.
    fn state(&self) -> Vec<(String, Tensor)> {
        self.inner
            .state_dict()
            .into_iter()
            .map(|(n, t)| (n, Tensor::from_core(t)))
            .collect()
    }

    /// Restores a state of the form [`Fused::state`] returns.
    fn load_state(&mut self, state: Vec<(String, PyRef<'_, Tensor>)>) -> PyResult<()> {
        let state: Vec<(String, nabla_core::Tensor)> = state
            .into_iter()
            .map(|(n, t)| (n, t.core().clone()))
            .collect();
        self.inner.load_state_dict(&state).py()
    }
}

/// Adds `nabla._C._optim`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let sub = PyModule::new(m.py(), "_optim")?;
    sub.add_class::<Fused>()?;
    m.add_submodule(&sub)
}
