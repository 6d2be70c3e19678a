//! Comparisons. They are not differentiable: results are 0/1 masks in the operands' dtype (so a
//! mask multiplies straight into a gradient) and never join the graph.

use super::{ok, per_variant};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::kernels::{dispatch_any, elementwise};
use crate::shape::broadcast_shapes;
use crate::storage::Data;
use crate::tensor::Tensor;

#[derive(Copy, Clone)]
enum Compare {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// Greater or unordered: `!(a <= b)`, true where either is NaN.
    GtOrNan,
}

impl Compare {
    fn name(self) -> &'static str {
        match self {
            Compare::Eq => "eq",
            Compare::Ne => "ne",
            Compare::Lt => "lt",
            Compare::Le => "le",
            Compare::Gt => "gt",
            Compare::Ge => "ge",
            Compare::GtOrNan => "gt_or_nan",
        }
    }

    #[inline(always)]
    fn holds<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            Compare::Eq => a == b,
            Compare::Ne => a != b,
            Compare::Lt => a < b,
            Compare::Le => a <= b,
            Compare::Gt => a > b,
            Compare::Ge => a >= b,
            Compare::GtOrNan => a.partial_cmp(&b).is_none_or(|o| o.is_gt()),
        }
    }
}

impl Compare {
    /// The comparison over broadcast operands, with the variant fixed in each closure so the
    /// kernel's loop vectorises.
    fn zip<T: Element>(self, a: &Tensor, b: &Tensor, shape: &[usize]) -> Data<T> {
        per_variant!(self, Compare,
            |c| elementwise::zip(a, b, shape, move |p: T, q: T| one_zero::<T>(c().holds(p, q)));
            Eq, Ne, Lt, Le, Gt, Ge, GtOrNan; ;)
    }

    /// The comparison of every element with `value`.
    fn map_scalar<T: Element>(self, x: &Tensor, value: T) -> Data<T> {
        per_variant!(self, Compare,
            |c| elementwise::map(x, move |p: T| one_zero::<T>(c().holds(p, value)));
            Eq, Ne, Lt, Le, Gt, Ge, GtOrNan; ;)
    }
}

fn one_zero<T: Element>(flag: bool) -> T {
    T::from_f64(if flag { 1.0 } else { 0.0 })
}

impl Tensor {
    fn try_compare(&self, other: &Tensor, cmp: Compare) -> Result<Tensor> {
        if self.dtype() != other.dtype() {
            return Err(Error::DTypeMismatch {
                op: cmp.name(),
                lhs: self.dtype(),
                rhs: other.dtype(),
            });
        }
        let shape = broadcast_shapes(cmp.name(), self.shape(), other.shape())?;
        crate::limits::allocation(cmp.name(), &shape, self.dtype())?;
        Ok(dispatch_any!(self.dtype(), T => {
            Tensor::from_data(cmp.zip::<T>(self, other, &shape), &shape)
        }))
    }

    fn try_compare_scalar(&self, value: f64, cmp: Compare) -> Result<Tensor> {
        // The output has the input's shape and dtype: only a view's gather can be too large.
        self.check_gather(cmp.name())?;
        Ok(dispatch_any!(self.dtype(), T => {
            let v = T::from_f64(value);
            Tensor::from_data(cmp.map_scalar::<T>(self, v), self.shape())
        }))
    }
}

macro_rules! compare_methods {
    ($($name:ident, $try_name:ident, $scalar:ident, $try_scalar:ident => $cmp:expr, $doc:literal;)*) => {
        impl Tensor {
            $(
                #[doc = concat!("1 where `a ", $doc, " b` (broadcasting), else 0, in the operands' dtype.")]
                pub fn $try_name(&self, other: &Tensor) -> Result<Tensor> {
                    self.try_compare(other, $cmp)
                }

                #[doc = concat!("1 where `a ", $doc, " b` (broadcasting), else 0; panics on a shape mismatch.")]
                #[track_caller]
                pub fn $name(&self, other: &Tensor) -> Tensor {
                    ok(self.$try_name(other))
                }

                #[doc = concat!("1 where `x ", $doc, " value`, else 0.")]
                pub fn $try_scalar(&self, value: f64) -> Result<Tensor> {
                    self.try_compare_scalar(value, $cmp)
                }

                #[doc = concat!("1 where `x ", $doc, " value`, else 0; panics only when the result could not be held in memory.")]
                #[track_caller]
                pub fn $scalar(&self, value: f64) -> Tensor {
                    ok(self.$try_scalar(value))
                }
            )*
        }
    };
}

compare_methods! {
    eq, try_eq, eq_scalar, try_eq_scalar => Compare::Eq, "==";
    ne, try_ne, ne_scalar, try_ne_scalar => Compare::Ne, "!=";
    lt, try_lt, lt_scalar, try_lt_scalar => Compare::Lt, "<";
    le, try_le, le_scalar, try_le_scalar => Compare::Le, "<=";
    gt, try_gt, gt_scalar, try_gt_scalar => Compare::Gt, ">";
    ge, try_ge, ge_scalar, try_ge_scalar => Compare::Ge, ">=";
}

impl Tensor {
    /// 1 where `x > value` or `x` is NaN, else 0: a backward rule's mask where PyTorch tests
    /// `!(x <= value)`.
    #[track_caller]
    pub(crate) fn gt_or_nan_scalar(&self, value: f64) -> Tensor {
        ok(self.try_compare_scalar(value, Compare::GtOrNan))
    }
}
