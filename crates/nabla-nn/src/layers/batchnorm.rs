//! Batch normalisation over the batch dim of `[N, C]` inputs, with PyTorch's running
//! statistics: momentum 0.1, the unbiased batch variance in the running estimate, the biased
//! one for normalising.

use crate::module::{Module, expect_dtype, invalid_input};
use crate::{Error, Result};
use nabla_core::{DType, Tensor};

/// PyTorch's defaults.
const EPS: f64 = 1e-5;
const MOMENTUM: f64 = 0.1;

/// What [`Module::describe`] says of a batch norm layer (PyTorch's eps and momentum unless
/// given), also for layer specs that are not built.
pub(crate) fn description(num_features: usize, eps: f64, momentum: f64) -> String {
    format!("BatchNorm1d({num_features}, eps={eps}, momentum={momentum})")
}

/// The description of a new [`BatchNorm1d`] over `num_features`.
pub(crate) fn default_description(num_features: usize) -> String {
    description(num_features, EPS, MOMENTUM)
}

/// `y = (x − mean)/√(var + eps)·weight + bias` per feature of an `[N, C]` input.
///
/// In training the batch statistics normalise and the running ones are updated in place; in
/// evaluation the running statistics normalise.
///
/// ```
/// use nabla_core::{DType, Tensor};
/// use nabla_nn::{layers::BatchNorm1d, module::Module};
/// let bn = BatchNorm1d::new(2, DType::F64);
/// let x = Tensor::from_vec(vec![1.0f64, 10.0, 3.0, 30.0], &[2, 2]);
/// let y = bn.forward(&x);
/// assert!((y.to_vec::<f64>()[0] + 1.0).abs() < 1e-4);
/// assert_eq!(bn.running_mean().to_vec::<f64>(), [0.2, 2.0]);
/// ```
pub struct BatchNorm1d {
    eps: f64,
    momentum: f64,
    training: bool,
    weight: Tensor,
    bias: Tensor,
    running_mean: Tensor,
    running_var: Tensor,
    num_batches_tracked: Tensor,
}

impl BatchNorm1d {
    /// PyTorch's defaults: eps 1e-5, momentum 0.1, weight 1, bias 0, running mean 0 and
    /// running variance 1; starts in training mode.
    pub fn new(num_features: usize, dtype: DType) -> Self {
        BatchNorm1d {
            eps: EPS,
            momentum: MOMENTUM,
            training: true,
            weight: Tensor::ones(&[num_features], dtype).requires_grad(),
            bias: Tensor::zeros(&[num_features], dtype).requires_grad(),
            running_mean: Tensor::zeros(&[num_features], dtype),
            running_var: Tensor::ones(&[num_features], dtype),
            num_batches_tracked: Tensor::scalar(0i64),
        }
    }

    /// Number of features `C`.
    pub fn num_features(&self) -> usize {
        self.weight.numel()
    }

    /// The per-feature scale.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The per-feature shift.
    pub fn bias(&self) -> &Tensor {
        &self.bias
    }

    /// The running mean used in evaluation.
    pub fn running_mean(&self) -> &Tensor {
        &self.running_mean
    }

    /// The running (unbiased) variance used in evaluation.
    pub fn running_var(&self) -> &Tensor {
        &self.running_var
    }

    /// How many training batches have updated the running statistics.
    pub fn num_batches_tracked(&self) -> i64 {
        self.num_batches_tracked.item::<i64>()
    }

    fn update_running_stats(&self, mean: &Tensor, biased_var: &Tensor, n: usize) -> Result<()> {
        let m = self.momentum;
        let unbiased = biased_var.detach() * (n as f64 / (n - 1) as f64);
        for (running, batch) in [
            (&self.running_mean, &mean.detach()),
            (&self.running_var, &unbiased),
        ] {
            running.try_mul_scalar_(1.0 - m)?;
            running.try_add_scaled_(batch, m)?;
        }
        self.num_batches_tracked
            .try_update_::<i64>(&[], |count, _| count[0] += 1)?;
        Ok(())
    }
}

impl Module for BatchNorm1d {
    fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        expect_dtype(self, x, self.weight.dtype())?;
        let &[n, c] = x.shape() else {
            return Err(invalid_input(
                self,
                format!("shape {:?}", x.shape()),
                format!("[N, {}]", self.num_features()),
            ));
        };
        if c != self.num_features() {
            return Err(invalid_input(
                self,
                format!("shape {:?}", x.shape()),
                format!("[N, {}]", self.num_features()),
            ));
        }
        let (mean, var) = if self.training {
            if n < 2 {
                return Err(Error::invalid(
                    "forward",
                    format!(
                        "{}: training needs more than one sample per feature to estimate a variance, got shape {:?}",
                        self.describe(),
                        x.shape()
                    ),
                ));
            }
            let mean = x.mean_dims(&[0], false);
            let var = x.try_var_dims(&[0], false, 0)?;
            self.update_running_stats(&mean, &var, n)?;
            (mean, var)
        } else {
            (self.running_mean.clone(), self.running_var.clone())
        };
        let normalised = x
            .try_sub(&mean)?
            .try_div(&var.add_scalar(self.eps).sqrt())?;
        Ok(normalised.try_mul(&self.weight)?.try_add(&self.bias)?)
    }

    fn describe(&self) -> String {
        description(self.num_features(), self.eps, self.momentum)
    }

    fn local_parameters(&self) -> Vec<(String, Tensor)> {
        vec![
            ("weight".to_string(), self.weight.clone()),
            ("bias".to_string(), self.bias.clone()),
        ]
    }

    fn local_buffers(&self) -> Vec<(String, Tensor)> {
        vec![
            ("running_mean".to_string(), self.running_mean.clone()),
            ("running_var".to_string(), self.running_var.clone()),
            (
                "num_batches_tracked".to_string(),
                self.num_batches_tracked.clone(),
            ),
        ]
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
}
