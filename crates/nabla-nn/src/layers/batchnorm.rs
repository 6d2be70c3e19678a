//! Batch normalisation per channel over the batch and spatial dims, with PyTorch's running
//! statistics: momentum 0.1, the unbiased batch variance in the running estimate, the biased
//! one for normalising. One implementation for `[N, C]` features ([`BatchNorm1d`]) and
//! `[N, C, H, W]` images ([`BatchNorm2d`]).

use crate::module::{Module, expect_dtype, invalid_input};
use crate::{Error, Result};
use nabla_core::{DType, Tensor};

/// PyTorch's defaults.
const EPS: f64 = 1e-5;
const MOMENTUM: f64 = 0.1;

/// What [`Module::describe`] says of a batch norm layer over `spatial` dims (PyTorch's eps and
/// momentum unless given), also for layer specs that are not built.
pub(crate) fn description(spatial: usize, num_features: usize, eps: f64, momentum: f64) -> String {
    format!("BatchNorm{spatial}d({num_features}, eps={eps}, momentum={momentum})")
}

/// The description of a new batch norm layer over `spatial` dims and `num_features` channels.
pub(crate) fn default_description(spatial: usize, num_features: usize) -> String {
    description(spatial, num_features, EPS, MOMENTUM)
}

/// `y = (x − mean)/√(var + eps)·weight + bias` per channel `C` (dim 1), the statistics taken
/// over the batch dim and the `D` spatial dims after the channels (`D = 1` takes flat `[N, C]`
/// features, as [`BatchNorm1d`]).
///
/// In training the batch statistics normalise and the running ones are updated in place; in
/// evaluation the running statistics normalise.
///
/// ```
/// use nabla_core::{DType, Tensor};
/// use nabla_nn::{layers::BatchNorm, module::Module};
/// let bn = BatchNorm::<2>::new(4, DType::F32);
/// assert_eq!(bn.forward(&Tensor::ones(&[2, 4, 3, 3], DType::F32)).shape(), &[2, 4, 3, 3]);
/// assert_eq!(bn.num_batches_tracked(), 1);
/// ```
pub struct BatchNorm<const D: usize> {
    eps: f64,
    momentum: f64,
    training: bool,
    weight: Tensor,
    bias: Tensor,
    running_mean: Tensor,
    running_var: Tensor,
    num_batches_tracked: Tensor,
}

/// Batch normalisation of `[N, C]` features, `torch.nn.BatchNorm1d`.
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
pub type BatchNorm1d = BatchNorm<1>;

/// Batch normalisation of `[N, C, H, W]` images per channel, `torch.nn.BatchNorm2d`.
///
/// ```
/// use nabla_core::{DType, Tensor};
/// use nabla_nn::{layers::BatchNorm2d, module::Module};
/// let mut bn = BatchNorm2d::new(2, DType::F64);
/// // Channel 0 holds 1, 3 in both samples, channel 1 holds 10, 30.
/// let x = Tensor::from_vec(vec![1.0f64, 3.0, 10.0, 30.0, 1.0, 3.0, 10.0, 30.0], &[2, 2, 1, 2]);
/// let y = bn.forward(&x);
/// assert!((y.to_vec::<f64>()[0] + 1.0).abs() < 1e-4);
/// assert_eq!(bn.running_mean().to_vec::<f64>(), [0.2, 2.0]);
/// assert_eq!(bn.describe(), "BatchNorm2d(2, eps=0.00001, momentum=0.1)");
/// bn.set_training(false);
/// let err = bn.try_forward(&Tensor::zeros(&[2, 3, 4, 4], DType::F64)).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "forward: BatchNorm2d(2, eps=0.00001, momentum=0.1): input has shape [2, 3, 4, 4], expected [N, 2, H, W]"
/// );
/// ```
pub type BatchNorm2d = BatchNorm<2>;

impl<const D: usize> BatchNorm<D> {
    /// PyTorch's defaults: eps 1e-5, momentum 0.1, weight 1, bias 0, running mean 0 and
    /// running variance 1; starts in training mode.
    pub fn new(num_features: usize, dtype: DType) -> Self {
        BatchNorm {
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

    /// Number of channels `C`.
    pub fn num_features(&self) -> usize {
        self.weight.numel()
    }

    /// The per-channel scale.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The per-channel shift.
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

    /// The rank of the input: `[N, C]` for one "spatial" dim (PyTorch's flat case), else
    /// `[N, C, ...]` with `D` spatial dims.
    fn rank() -> usize {
        if D == 1 { 2 } else { D + 2 }
    }

    /// The input shape expected, for errors: `[N, 3]`, `[N, 3, H, W]`.
    fn expected(&self) -> String {
        let spatial = match D {
            1 => "",
            2 => ", H, W",
            3 => ", D, H, W",
            _ => ", ...",
        };
        format!("[N, {}{spatial}]", self.num_features())
    }
}

/// Batch normalisation as PyTorch's `F.batch_norm`, over `x` `[N, C, ...]` (any rank from 2)
/// per channel `C`, the statistics taken over every dim but the channel dim.
///
/// With `training`, the batch statistics normalise (biased variance) and `running` — the
/// running mean and variance, when given — moves towards them by `momentum`, the variance in
/// its unbiased form; without it, `running` normalises and must be given. `weight` and `bias`
/// (`[C]`) scale and shift the result when given.
///
/// ```
/// use nabla_core::Tensor;
/// use nabla_nn::layers::batch_norm;
/// let x = Tensor::from_vec(vec![1.0f64, 10.0, 3.0, 30.0], &[2, 2]);
/// let (mean, var) = (Tensor::from_vec(vec![0.0f64; 2], &[2]), Tensor::from_vec(vec![1.0f64; 2], &[2]));
/// let y = batch_norm(&x, Some((&mean, &var)), None, None, true, 0.1, 1e-5).unwrap();
/// assert!((y.to_vec::<f64>()[0] + 1.0).abs() < 1e-4);
/// assert_eq!(mean.to_vec::<f64>(), [0.2, 2.0]);
/// let err = batch_norm(&x, None, None, None, false, 0.1, 1e-5).unwrap_err();
/// assert!(err.to_string().contains("running statistics"));
/// ```
pub fn batch_norm(
    x: &Tensor,
    running: Option<(&Tensor, &Tensor)>,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    training: bool,
    momentum: f64,
    eps: f64,
) -> Result<Tensor> {
    const OP: &str = "batch_norm";
    if x.ndim() < 2 || !x.dtype().is_float() {
        return Err(Error::invalid(
            OP,
            format!(
                "the input must be a float [N, C, ...] tensor, got {} of shape {:?}",
                x.dtype(),
                x.shape()
            ),
        ));
    }
    let c = x.shape()[1];
    let per_channel = [running.map(|r| r.0), running.map(|r| r.1), weight, bias];
    for (name, t) in ["running_mean", "running_var", "weight", "bias"]
        .iter()
        .zip(per_channel)
    {
        if let Some(t) = t.filter(|t| t.shape() != [c] || t.dtype() != x.dtype()) {
            return Err(Error::invalid(
                OP,
                format!(
                    "{name} is {} of shape {:?}, the input of shape {:?} needs {} of shape [{c}]",
                    t.dtype(),
                    t.shape(),
                    x.shape(),
                    x.dtype()
                ),
            ));
        }
    }
    // Per channel: the batch dim and every spatial dim.
    let dims: Vec<isize> = std::iter::once(0).chain(2..x.ndim() as isize).collect();
    let (mean, var) = match (training, running) {
        (true, _) => {
            let n = x.numel() / c.max(1);
            if n < 2 {
                return Err(Error::invalid(
                    OP,
                    format!(
                        "training needs more than one value per channel to estimate a variance, got shape {:?}",
                        x.shape()
                    ),
                ));
            }
            let mean = x.try_mean_dims(&dims, false)?;
            let var = x.try_var_dims(&dims, false, 0)?;
            if let Some((running_mean, running_var)) = running {
                let unbiased = var.detach() * (n as f64 / (n - 1) as f64);
                for (running, batch) in [(running_mean, &mean.detach()), (running_var, &unbiased)] {
                    running.try_mul_scalar_(1.0 - momentum)?;
                    running.try_add_scaled_(batch, momentum)?;
                }
            }
            (mean, var)
        }
        (false, Some((mean, var))) => (mean.clone(), var.clone()),
        (false, None) => {
            return Err(Error::invalid(
                OP,
                "evaluation normalises with the running statistics, and none were given",
            ));
        }
    };
    // [C] broadcast against [N, C, ...]: C followed by a 1 per spatial dim; against [N, C] it
    // broadcasts as it is, with no reshape node in the graph.
    let shape: Vec<usize> = std::iter::once(c)
        .chain(std::iter::repeat_n(1, x.ndim() - 2))
        .collect();
    let shaped = |t: &Tensor| match shape.len() {
        1 => Ok(t.clone()),
        _ => t.try_reshape(&shape),
    };
    let mut y = x
        .try_sub(&shaped(&mean)?)?
        .try_div(&shaped(&var.add_scalar(eps).sqrt())?)?;
    if let Some(w) = weight {
        y = y.try_mul(&shaped(w)?)?;
    }
    if let Some(b) = bias {
        y = y.try_add(&shaped(b)?)?;
    }
    Ok(y)
}

impl<const D: usize> Module for BatchNorm<D> {
    fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        expect_dtype(self, x, self.weight.dtype())?;
        if x.ndim() != Self::rank() || x.shape()[1] != self.num_features() {
            return Err(invalid_input(
                self,
                format!("shape {:?}", x.shape()),
                self.expected(),
            ));
        }
        let y = batch_norm(
            x,
            Some((&self.running_mean, &self.running_var)),
            Some(&self.weight),
            Some(&self.bias),
            self.training,
            self.momentum,
            self.eps,
        )
        .map_err(|e| match e {
            Error::Invalid { message, .. } => {
                Error::invalid("forward", format!("{}: {message}", self.describe()))
            }
            other => other,
        })?;
        if self.training {
            self.num_batches_tracked
                .try_update_::<i64>(&[], |count, _| count[0] += 1)?;
        }
        Ok(y)
    }

    fn describe(&self) -> String {
        description(D, self.num_features(), self.eps, self.momentum)
    }

    fn type_name(&self) -> &'static str {
        match D {
            1 => "BatchNorm1d",
            2 => "BatchNorm2d",
            3 => "BatchNorm3d",
            _ => "BatchNorm",
        }
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
