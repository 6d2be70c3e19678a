//! Group normalisation: the channels of each sample split into groups, each group normalised
//! over its channels and spatial positions, then a learned per-channel scale and shift
//! (`torch.nn.GroupNorm`). Independent of the batch, so the same in training and evaluation.

use crate::module::{Module, expect_dtype, invalid_input};
use crate::{Error, Result};
use nabla_core::{DType, Tensor};

/// PyTorch's default.
const EPS: f64 = 1e-5;

/// What [`Module::describe`] says of a group norm, also for layer specs that are not built.
pub(crate) fn description(num_groups: usize, num_channels: usize, eps: f64) -> String {
    format!("GroupNorm({num_groups}, {num_channels}, eps={eps}, affine=true)")
}

/// The description of a new [`GroupNorm`].
pub(crate) fn default_description(num_groups: usize, num_channels: usize) -> String {
    description(num_groups, num_channels, EPS)
}

/// `y = (x − mean)/√(var + eps)·weight + bias` for `[N, C, ...]` inputs, the statistics per
/// sample and per group of `C / num_groups` consecutive channels (biased variance), weight and
/// bias per channel.
///
/// ```
/// use nabla_core::{DType, Tensor};
/// use nabla_nn::{layers::GroupNorm, module::Module};
/// let gn = GroupNorm::new(2, 4, DType::F64);
/// assert_eq!(gn.describe(), "GroupNorm(2, 4, eps=0.00001, affine=true)");
/// let x = Tensor::from_vec(vec![1.0f64, 3.0, 10.0, 30.0], &[1, 4, 1, 1]);
/// let y = gn.forward(&x).to_vec::<f64>();
/// assert!((y[0] + 1.0).abs() < 1e-4 && (y[3] - 1.0).abs() < 1e-4);
/// let err = gn.try_forward(&Tensor::zeros(&[1, 3, 2, 2], DType::F64)).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "forward: GroupNorm(2, 4, eps=0.00001, affine=true): input has shape [1, 3, 2, 2], expected [N, 4, ...]"
/// );
/// ```
pub struct GroupNorm {
    num_groups: usize,
    eps: f64,
    weight: Tensor,
    bias: Tensor,
}

impl GroupNorm {
    /// `num_groups` groups over `num_channels` channels (a multiple of it), weight 1, bias 0,
    /// eps 1e-5.
    pub fn try_new(num_groups: usize, num_channels: usize, dtype: DType) -> Result<Self> {
        if num_groups == 0 || !num_channels.is_multiple_of(num_groups) {
            return Err(Error::invalid(
                "GroupNorm",
                format!(
                    "the number of channels must be a multiple of the number of groups (at least 1), got {num_channels} channels in {num_groups} groups"
                ),
            ));
        }
        if !dtype.is_float() {
            return Err(Error::invalid(
                "GroupNorm",
                format!("the parameters must be f32 or f64, not {dtype}"),
            ));
        }
        Ok(GroupNorm {
            num_groups,
            eps: EPS,
            weight: Tensor::ones(&[num_channels], dtype).requires_grad(),
            bias: Tensor::zeros(&[num_channels], dtype).requires_grad(),
        })
    }

    /// Panicking form of [`GroupNorm::try_new`].
    #[track_caller]
    pub fn new(num_groups: usize, num_channels: usize, dtype: DType) -> Self {
        crate::error::ok(Self::try_new(num_groups, num_channels, dtype))
    }

    /// Number of groups.
    pub fn num_groups(&self) -> usize {
        self.num_groups
    }

    /// Number of channels `C`.
    pub fn num_channels(&self) -> usize {
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
}

impl Module for GroupNorm {
    fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        expect_dtype(self, x, self.weight.dtype())?;
        let c = self.num_channels();
        if x.ndim() < 2 || x.shape()[1] != c {
            return Err(invalid_input(
                self,
                format!("shape {:?}", x.shape()),
                format!("[N, {c}, ...]"),
            ));
        }
        let n = x.shape()[0];
        let grouped = x.try_reshape(&[
            n,
            self.num_groups,
            x.numel() / (n * c).max(1) * (c / self.num_groups),
        ])?;
        let mean = grouped.try_mean_dims(&[-1], true)?;
        let var = grouped.try_var_dims(&[-1], true, 0)?;
        let normalised = grouped
            .try_sub(&mean)?
            .try_div(&var.add_scalar(self.eps).sqrt())?
            .try_reshape(x.shape())?;
        let per_channel: Vec<usize> = std::iter::once(c)
            .chain(std::iter::repeat_n(1, x.ndim() - 2))
            .collect();
        Ok(normalised
            .try_mul(&self.weight.try_reshape(&per_channel)?)?
            .try_add(&self.bias.try_reshape(&per_channel)?)?)
    }

    fn describe(&self) -> String {
        description(self.num_groups, self.num_channels(), self.eps)
    }

    fn type_name(&self) -> &'static str {
        "GroupNorm"
    }

    fn local_parameters(&self) -> Vec<(String, Tensor)> {
        vec![
            ("weight".to_string(), self.weight.clone()),
            ("bias".to_string(), self.bias.clone()),
        ]
    }
}
