//! Constant padding, `torch.nn.functional.pad` with `mode="constant"`, as a concatenation with
//! blocks of the fill value (whose rule gives the gradient back to the middle).

use crate::error::{Error, Result};
use crate::ops::ok;
use crate::tensor::Tensor;

impl Tensor {
    /// The tensor with `pads[i] = (before, after)` elements of `value` added around its
    /// `i`-th dim from the end (the last dim first, as `F.pad` orders them).
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f64, 2.0], &[1, 2]);
    /// let y = x.pad(&[(1, 0), (0, 1)], 0.5);
    /// assert_eq!(y.shape(), &[2, 3]);
    /// assert_eq!(y.to_vec::<f64>(), vec![0.5, 1.0, 2.0, 0.5, 0.5, 0.5]);
    /// ```
    pub fn try_pad(&self, pads: &[(usize, usize)], value: f64) -> Result<Tensor> {
        const OP: &str = "pad";
        let ndim = self.ndim();
        if pads.len() > ndim {
            return Err(Error::invalid(
                OP,
                format!(
                    "{} pairs of paddings for a tensor of shape {:?} with {ndim} dims",
                    pads.len(),
                    self.shape()
                ),
            ));
        }
        let mut shape = self.shape().to_vec();
        for (i, &(before, after)) in pads.iter().enumerate() {
            let d = &mut shape[ndim - 1 - i];
            *d = d
                .checked_add(before)
                .and_then(|d| d.checked_add(after))
                .ok_or_else(|| {
                    Error::invalid(OP, format!("padding ({before}, {after}) overflows"))
                })?;
        }
        crate::limits::allocation(OP, &shape, self.dtype())?;
        let mut out = self.clone();
        for (i, &(before, after)) in pads.iter().enumerate() {
            let dim = ndim - 1 - i;
            let block = |n: usize| {
                let mut s = out.shape().to_vec();
                s[dim] = n;
                Tensor::try_full(&s, value, self.dtype())
            };
            let mut parts = Vec::with_capacity(3);
            if before > 0 {
                parts.push(block(before)?);
            }
            parts.push(out.clone());
            if after > 0 {
                parts.push(block(after)?);
            }
            if parts.len() > 1 {
                out = Tensor::try_cat(&parts.iter().collect::<Vec<_>>(), dim as isize)?;
            }
        }
        Ok(out)
    }

    /// Panicking form of [`Tensor::try_pad`].
    #[track_caller]
    pub fn pad(&self, pads: &[(usize, usize)], value: f64) -> Tensor {
        ok(self.try_pad(pads, value))
    }
}
