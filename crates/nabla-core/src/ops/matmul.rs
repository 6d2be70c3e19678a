//! Matrix product with PyTorch's rules: 2-d, batched, broadcast batch dims, and 1-d operands
//! promoted to a row or column. Backward: `dA = G·Bᵀ`, `dB = Aᵀ·G` (transposes are free views).

use super::{Save, ok, record};
use crate::autograd::formula::{At, Binding, Formula, Local};
use crate::autograd::node::Backward;
use crate::autograd::node::Gradients;
use crate::error::{Error, Result};
use crate::kernels::{dispatch_float, matmul::matmul};
use crate::shape::{Dims, broadcast_shapes};
use crate::tensor::Tensor;

struct MatmulBackward;

impl Backward for MatmulBackward {
    fn name(&self) -> &'static str {
        "MmBackward"
    }
    fn rule(&self) -> &'static str {
        "MatmulBackward"
    }
    fn formula(&self, _: usize, _: Option<&At>) -> Option<Formula> {
        let inputs = vec![
            Local::map("{g*}·{1^}ᵀ", Binding::Product),
            Local::map("{0^}ᵀ·{g*}", Binding::Product),
        ];
        Some(Formula::new(
            "{0*}·{1*}",
            Binding::Product,
            "matmul",
            inputs,
        ))
    }
    fn vjp(&self, saved: &[Tensor], grad: &Tensor, needs: &[bool]) -> Gradients {
        let (a, b) = (&saved[0], &saved[1]);
        // Each gradient is laid out like its operand: a transposed operand (a weight used as
        // `x @ w.t()`) gets its gradient computed transposed, so undoing the transpose leaves
        // it row-major and no copy is needed to store or update it.
        smallvec::smallvec![
            needs[0].then(|| {
                if is_transposed(a) {
                    b.matmul(&grad.t()).t()
                } else {
                    grad.matmul(&b.t())
                }
            }),
            needs[1].then(|| {
                if is_transposed(b) {
                    grad.t().matmul(a).t()
                } else {
                    a.t().matmul(grad)
                }
            }),
        ]
    }

    fn jvp(&self, saved: &[Tensor], tangents: &[Tensor]) -> Result<Tensor> {
        let (a, b) = (&saved[0], &saved[1]);
        tangents[0]
            .try_matmul(b)?
            .try_add(&a.try_matmul(&tangents[1])?)
    }

    fn replay(&self, _: &[Tensor], inputs: &[Tensor]) -> Option<Result<Tensor>> {
        Some(inputs[0].try_matmul(&inputs[1]))
    }
}

/// Whether the last two dims of `t` are column-major (a transposed view of a row-major matrix).
fn is_transposed(t: &Tensor) -> bool {
    let strides = t.layout().strides();
    let n = strides.len();
    n >= 2 && strides[n - 2] == 1 && strides[n - 1] != 1 && t.shape()[n - 2] > 1
}

impl Tensor {
    /// Matrix product with `torch.matmul`'s rules. `[m, k] @ [k, n] → [m, n]`; leading dims
    /// broadcast as batch dims; a 1-d left operand is a row vector and a 1-d right operand a
    /// column vector, the added dim removed from the result: `[k] @ [k]` is the dot product (0-d),
    /// `[k] @ [k, n] → [n]`, `[m, k] @ [k] → [m]`, `[b, m, k] @ [k] → [b, m]`.
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let v = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3]);
    /// let dot = v.matmul(&v);
    /// assert_eq!((dot.shape(), dot.item::<f64>()), (&[][..], 14.0));
    /// ```
    ///
    /// ```
    /// use nabla_core::Tensor;
    /// let a = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[2, 2]);
    /// let b = Tensor::eye(2, nabla_core::DType::F64);
    /// assert_eq!(a.matmul(&b).to_vec::<f64>(), vec![1.0, 2.0, 3.0, 4.0]);
    /// let err = a.try_matmul(&Tensor::zeros(&[3, 2], nabla_core::DType::F64)).unwrap_err();
    /// assert_eq!(err.to_string(), "matmul: shapes [2, 2] and [3, 2] are incompatible (inner dims differ: 2 vs 3)");
    /// ```
    pub fn try_matmul(&self, other: &Tensor) -> Result<Tensor> {
        if self.ndim() == 0 || other.ndim() == 0 {
            return Err(Error::shapes(
                "matmul",
                self.shape(),
                other.shape(),
                "both operands need at least one dim",
            ));
        }
        if self.ndim() == 1 || other.ndim() == 1 {
            // A 1-d left operand is a row `[1, k]` and a 1-d right one a column `[k, 1]`; the
            // added dims are removed from the product, the column's first, so two vectors give
            // their dot product as a 0-d tensor.
            let row = self.ndim() == 1;
            let column = other.ndim() == 1;
            let a = if row {
                self.try_unsqueeze(0)?
            } else {
                self.clone()
            };
            let b = if column {
                other.try_unsqueeze(1)?
            } else {
                other.clone()
            };
            let mut out = a.try_matmul(&b).map_err(|e| match e {
                // Name the operands as given, not as promoted.
                Error::ShapeMismatch { reason, .. } => {
                    Error::shapes("matmul", self.shape(), other.shape(), reason)
                }
                e => e,
            })?;
            if column {
                out = out.try_squeeze(-1)?;
            }
            if row {
                out = out.try_squeeze(if column { -1 } else { -2 })?;
            }
            return Ok(out);
        }
        if self.dtype() != other.dtype() {
            return Err(Error::DTypeMismatch {
                op: "matmul",
                lhs: self.dtype(),
                rhs: other.dtype(),
            });
        }
        let (sa, sb) = (self.shape(), other.shape());
        let (m, k) = (sa[sa.len() - 2], sa[sa.len() - 1]);
        let (k2, n) = (sb[sb.len() - 2], sb[sb.len() - 1]);
        if k != k2 {
            return Err(Error::shapes(
                "matmul",
                sa,
                sb,
                format!("inner dims differ: {k} vs {k2}"),
            ));
        }
        let batch = broadcast_shapes("matmul", &sa[..sa.len() - 2], &sb[..sb.len() - 2])
            .map_err(|_| Error::shapes("matmul", sa, sb, "batch dims cannot broadcast"))?;
        let mut out_shape: Dims = batch.clone();
        out_shape.extend_from_slice(&[m, n]);
        crate::limits::allocation("matmul", &out_shape, self.dtype())?;
        let out = dispatch_float!("matmul", self.dtype(), T => {
            Tensor::from_data(matmul::<T>(self, other, &batch, (m, k, n), None), &out_shape)
        });
        Ok(record(
            out,
            &[self, other],
            MatmulBackward,
            &[Save::Input(0), Save::Input(1)],
        ))
    }

    /// Panicking form of [`Tensor::try_matmul`].
    #[track_caller]
    pub fn matmul(&self, other: &Tensor) -> Tensor {
        ok(self.try_matmul(other))
    }
}
