//! In-place methods (`add_`, `sub_`, `mul_`, `div_`, `zero_`, `fill_`, `copy_`) and the
//! augmented operators (`+=`, `-=`, `*=`, `/=`), which write into the tensor's memory as
//! PyTorch's do: `with no_grad(): w -= lr * w.grad` updates the leaf `w` itself. The core's
//! rules apply: a leaf that requires grad is written only under `no_grad`, and the target must
//! be contiguous.

use crate::errors::IntoPyResult;
use crate::ops::{Op, Operand, apply, heavy};
use crate::tensor::{Tensor, type_name};
use nabla_core::Tensor as CoreTensor;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

/// Writes `value` (the result of an out-of-place op) into `target`, in `target`'s dtype, with
/// the GIL released for a large tensor (as every kernel of this file).
fn write(py: Python<'_>, target: &CoreTensor, value: &CoreTensor) -> PyResult<()> {
    heavy(py, target.numel(), || {
        let value = value
            .detach()
            .try_to_dtype(target.dtype())
            .and_then(|v| v.try_expand(target.shape()))?;
        target.try_copy_(&value)
    })
    .py()
}

/// `target op= other`, computed out of place without recording and written back.
fn update(target: &CoreTensor, other: &Bound<'_, PyAny>, op: Op) -> PyResult<()> {
    let py = other.py();
    // The fast paths of the optimiser loop: `w -= lr * g` and `w *= s` without a temporary.
    match (op, Operand::of(other)) {
        (Op::Mul, Some(Operand::Float(s))) if target.dtype().is_float() => {
            return heavy(py, target.numel(), || target.try_mul_scalar_(s)).py();
        }
        (Op::Add | Op::Sub, Some(Operand::Tensor(o)))
            if target.dtype().is_float()
                && o.dtype() == target.dtype()
                && o.shape() == target.shape() =>
        {
            let alpha = if op == Op::Sub { -1.0 } else { 1.0 };
            return heavy(py, target.numel(), || target.try_add_scaled_(&o, alpha)).py();
        }
        (_, None) => {
            return Err(PyTypeError::new_err(format!(
                "in-place operation with {} is not supported",
                type_name(other)
            )));
        }
        _ => {}
    }
    let value = {
        let _off = nabla_core::GradModeGuard::new(false);
        apply(py, target, other, op, false)?
    };
    match value {
        Some(v) => write(py, target, v.core()),
        None => Err(PyTypeError::new_err(format!(
            "in-place operation with {} is not supported",
            type_name(other)
        ))),
    }
}

#[pymethods]
impl Tensor {
    /// `self += alpha * other`, in place.
    #[pyo3(signature = (other, *, alpha = None))]
    fn add_<'py>(
        slf: Bound<'py, Self>,
        other: &Bound<'py, PyAny>,
        alpha: Option<f64>,
    ) -> PyResult<Bound<'py, Self>> {
        let target = slf.borrow().inner.clone();
        match alpha {
            Some(a) => update(&target, &scaled(other, a)?, Op::Add)?,
            None => update(&target, other, Op::Add)?,
        }
        Ok(slf)
    }

    /// `self -= alpha * other`, in place.
    #[pyo3(signature = (other, *, alpha = None))]
    fn sub_<'py>(
        slf: Bound<'py, Self>,
        other: &Bound<'py, PyAny>,
        alpha: Option<f64>,
    ) -> PyResult<Bound<'py, Self>> {
        let target = slf.borrow().inner.clone();
        match alpha {
            Some(a) => update(&target, &scaled(other, a)?, Op::Sub)?,
            None => update(&target, other, Op::Sub)?,
        }
        Ok(slf)
    }

    fn mul_<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        update(&slf.borrow().inner.clone(), other, Op::Mul)?;
        Ok(slf)
    }

    fn div_<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        update(&slf.borrow().inner.clone(), other, Op::Div)?;
        Ok(slf)
    }

    fn __iadd__(&self, other: &Bound<'_, PyAny>) -> PyResult<()> {
        update(&self.inner, other, Op::Add)
    }

    fn __isub__(&self, other: &Bound<'_, PyAny>) -> PyResult<()> {
        update(&self.inner, other, Op::Sub)
    }

    fn __imul__(&self, other: &Bound<'_, PyAny>) -> PyResult<()> {
        update(&self.inner, other, Op::Mul)
    }

    fn __itruediv__(&self, other: &Bound<'_, PyAny>) -> PyResult<()> {
        update(&self.inner, other, Op::Div)
    }

    /// Sets every element to 0.
    fn zero_(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        let t = slf.borrow().inner.clone();
        heavy(slf.py(), t.numel(), || t.try_fill_(0.0)).py()?;
        Ok(slf)
    }

    /// Sets every element to `value`.
    fn fill_(slf: Bound<'_, Self>, value: f64) -> PyResult<Bound<'_, Self>> {
        let t = slf.borrow().inner.clone();
        heavy(slf.py(), t.numel(), || t.try_fill_(value)).py()?;
        Ok(slf)
    }

    /// Copies `src` (broadcast to this shape, converted to this dtype) into this tensor.
    fn copy_<'py>(slf: Bound<'py, Self>, src: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        let src = crate::tensor::expect_core(src, "src")?;
        let t = slf.borrow().inner.clone();
        write(slf.py(), &t, &src)?;
        Ok(slf)
    }
}

/// `alpha * other` for the `alpha=` keyword of `add_`/`sub_`.
fn scaled<'py>(other: &Bound<'py, PyAny>, alpha: f64) -> PyResult<Bound<'py, PyAny>> {
    let py = other.py();
    let _off = nabla_core::GradModeGuard::new(false);
    let alpha = alpha.into_pyobject(py)?.into_any();
    other.call_method1("__mul__", (alpha,)).map_err(|_| {
        PyTypeError::new_err(format!(
            "alpha needs a Tensor or a number as other, not {}",
            type_name(other)
        ))
    })
}
