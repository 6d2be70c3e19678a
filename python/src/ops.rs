//! Arithmetic and comparison operators with PyTorch's type promotion and Python numbers on
//! either side. A Python `float` or `int` goes straight to the core's scalar kernels (no tensor
//! is made for it); integer tensors, which the core's arithmetic kernels do not take, are
//! computed in float64 and converted back, exactly for values below 2⁵³.

use crate::autograd::torch_named;
use crate::errors::IntoPyResult;
use crate::tensor::Tensor;
use nabla_core::{DType, Result, Tensor as CoreTensor};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt};

/// Tensors with at least this many elements release the GIL while their kernel runs.
const HEAVY_ELEMENTS: usize = 1 << 15;

/// Runs `f` with the GIL released when the work is large enough for other Python threads to
/// gain from it (releasing and taking it back costs more than a small kernel).
#[inline]
pub fn heavy<R: Send>(py: Python<'_>, elements: usize, f: impl FnOnce() -> R + Send) -> R {
    if elements >= HEAVY_ELEMENTS {
        py.detach(f)
    } else {
        f()
    }
}

/// The right-hand side of an operator: a tensor or a Python number.
pub enum Operand {
    Tensor(CoreTensor),
    Float(f64),
    Int(i64),
}

impl Operand {
    /// `value` as an operand, or `None` for a type the operators do not take (Python then
    /// tries the reflected operator or raises `TypeError`).
    #[inline]
    pub fn of(value: &Bound<'_, PyAny>) -> Option<Operand> {
        if let Ok(f) = value.cast_exact::<PyFloat>() {
            return Some(Operand::Float(f.value()));
        }
        if let Ok(t) = value.cast::<Tensor>() {
            return Some(Operand::Tensor(t.borrow().inner.clone()));
        }
        if value.is_instance_of::<PyBool>() {
            return Some(Operand::Int(value.is_truthy().ok()? as i64));
        }
        if value.is_instance_of::<PyInt>() {
            return value.extract::<i64>().ok().map(Operand::Int);
        }
        if let Ok(f) = value.cast::<PyFloat>() {
            return Some(Operand::Float(f.value()));
        }
        // NumPy scalars and other numbers.
        if value.hasattr("__float__").ok()? && !value.hasattr("__len__").ok()? {
            if let Ok(i) = value
                .call_method0("__index__")
                .and_then(|i| i.extract::<i64>())
            {
                return Some(Operand::Int(i));
            }
            return value.extract::<f64>().ok().map(Operand::Float);
        }
        None
    }
}

/// The binary operations the operators map to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn is_comparison(self) -> bool {
        matches!(self, Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge)
    }

    /// The comparison that gives the same answer with the operands swapped.
    fn swapped(self) -> Op {
        match self {
            Op::Lt => Op::Gt,
            Op::Le => Op::Ge,
            Op::Gt => Op::Lt,
            Op::Ge => Op::Le,
            other => other,
        }
    }
}

/// The dtype PyTorch gives `a op b`: a float beats an integer, and among the same kind a
/// 0-d tensor does not widen a tensor with dimensions.
pub fn result_type(a: &CoreTensor, b: &CoreTensor) -> DType {
    let (da, db) = (a.dtype(), b.dtype());
    if da.is_float() == db.is_float() {
        if a.ndim() == 0 && b.ndim() > 0 {
            return db;
        }
        if b.ndim() == 0 && a.ndim() > 0 {
            return da;
        }
    }
    promote(da, db)
}

/// The dtype both of two dtypes convert to: the float one, or the wider.
pub fn promote(a: DType, b: DType) -> DType {
    match (a.is_float(), b.is_float()) {
        _ if a == b => a,
        (true, false) => a,
        (false, true) => b,
        _ => DType::F64,
    }
}

fn tensor_op(a: &CoreTensor, b: &CoreTensor, op: Op) -> Result<CoreTensor> {
    let dtype = result_type(a, b);
    let (a, b) = (a.try_to_dtype(dtype)?, b.try_to_dtype(dtype)?);
    if dtype == DType::I64 && !op.is_comparison() && op != Op::Div {
        let (fa, fb) = (a.try_to_dtype(DType::F64)?, b.try_to_dtype(DType::F64)?);
        return float_tensor_op(&fa, &fb, op)?.try_to_dtype(DType::I64);
    }
    if dtype == DType::I64 && op == Op::Div {
        let (fa, fb) = (a.try_to_dtype(DType::F32)?, b.try_to_dtype(DType::F32)?);
        return fa.try_div(&fb);
    }
    float_tensor_op(&a, &b, op)
}

fn float_tensor_op(a: &CoreTensor, b: &CoreTensor, op: Op) -> Result<CoreTensor> {
    match op {
        Op::Add => a.try_add(b),
        Op::Sub => a.try_sub(b),
        Op::Mul => a.try_mul(b),
        Op::Div => a.try_div(b),
        Op::Pow => a.try_pow(b).map(|t| torch_named(t, "PowBackward1")),
        Op::Eq => a.try_eq(b).and_then(as_mask),
        Op::Ne => a.try_ne(b).and_then(as_mask),
        Op::Lt => a.try_lt(b).and_then(as_mask),
        Op::Le => a.try_le(b).and_then(as_mask),
        Op::Gt => a.try_gt(b).and_then(as_mask),
        Op::Ge => a.try_ge(b).and_then(as_mask),
    }
}

/// Comparison results are int64 0/1 tensors (nabla has no bool dtype): they sum to counts and
/// index like PyTorch's bool masks.
fn as_mask(t: CoreTensor) -> Result<CoreTensor> {
    t.try_to_dtype(DType::I64)
}

/// `t op s` (or `s op t` when `reflected`) for a Python number `s`.
fn scalar_op(
    t: &CoreTensor,
    s: f64,
    s_is_int: bool,
    op: Op,
    reflected: bool,
) -> Result<CoreTensor> {
    if t.dtype() == DType::I64 && !op.is_comparison() {
        let exact_int = s_is_int && op != Op::Div && !(op == Op::Pow && !reflected && s < 0.0);
        let target = if exact_int { DType::F64 } else { DType::F32 };
        let out = scalar_op(&t.try_to_dtype(target)?, s, s_is_int, op, reflected)?;
        return if exact_int {
            out.try_to_dtype(DType::I64)
        } else {
            Ok(out)
        };
    }
    let op = if reflected { op.swapped() } else { op };
    match (op, reflected) {
        (Op::Add, _) => t.try_add_scalar(s),
        (Op::Sub, false) => t.try_add_scalar(-s).map(|t| torch_named(t, "SubBackward0")),
        (Op::Sub, true) => t
            .try_neg()?
            .try_add_scalar(s)
            .map(|t| torch_named(t, "RsubBackward1")),
        (Op::Mul, _) => t.try_mul_scalar(s),
        (Op::Div, false) => t.try_div_scalar(s),
        (Op::Div, true) => t.try_recip()?.try_mul_scalar(s),
        (Op::Pow, false) => t.try_powf(s),
        (Op::Pow, true) => t.full_like(s).try_pow(t),
        (Op::Eq, _) => t.try_eq_scalar(s).and_then(as_mask),
        (Op::Ne, _) => t.try_ne_scalar(s).and_then(as_mask),
        (Op::Lt, _) => t.try_lt_scalar(s).and_then(as_mask),
        (Op::Le, _) => t.try_le_scalar(s).and_then(as_mask),
        (Op::Gt, _) => t.try_gt_scalar(s).and_then(as_mask),
        (Op::Ge, _) => t.try_ge_scalar(s).and_then(as_mask),
    }
}

/// `t op other` (or `other op t` when `reflected`); `None` when `other` is not an operand.
#[inline]
pub fn apply(
    py: Python<'_>,
    t: &CoreTensor,
    other: &Bound<'_, PyAny>,
    op: Op,
    reflected: bool,
) -> PyResult<Option<Tensor>> {
    let out = match Operand::of(other) {
        None => return Ok(None),
        Some(Operand::Float(s)) => heavy(py, t.numel(), || scalar_op(t, s, false, op, reflected)),
        Some(Operand::Int(i)) => heavy(py, t.numel(), || {
            scalar_op(t, i as f64, true, op, reflected)
        }),
        Some(Operand::Tensor(o)) => {
            let elements = t.numel().max(o.numel());
            if reflected {
                heavy(py, elements, || tensor_op(&o, t, op))
            } else {
                heavy(py, elements, || tensor_op(t, &o, op))
            }
        }
    };
    let wrap = if op.is_comparison() {
        Tensor::mask
    } else {
        Tensor::from_core
    };
    out.py().map(|t| Some(wrap(t)))
}

/// Both operands as masks, for `&`, `|` and `^`.
fn masks(a: &Tensor, b: &Bound<'_, PyAny>, what: &str) -> PyResult<(CoreTensor, CoreTensor)> {
    let other = b.cast::<Tensor>().ok().filter(|t| t.borrow().is_mask);
    match other {
        Some(o) if a.is_mask => Ok((a.inner.clone(), o.borrow().inner.clone())),
        _ => Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "{what} is defined for comparison results (masks) only in nabla, which has no bool \
             or bitwise integer operations"
        ))),
    }
}

/// Runs a binary method, turning an unusable operand into `NotImplemented`.
macro_rules! binary {
    ($slf:ident, $other:ident, $op:expr, $reflected:expr) => {{
        let py = $other.py();
        match apply(py, &$slf.inner, $other, $op, $reflected)? {
            Some(t) => Ok(Bound::new(py, t)?.into_any().unbind()),
            None => Ok(py.NotImplemented()),
        }
    }};
}

#[pymethods]
impl Tensor {
    pub(crate) fn __add__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binary!(self, other, Op::Add, false)
    }
    fn __radd__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binary!(self, other, Op::Add, true)
    }
    pub(crate) fn __sub__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binary!(self, other, Op::Sub, false)
    }
    fn __rsub__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binary!(self, other, Op::Sub, true)
    }
    pub(crate) fn __mul__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binary!(self, other, Op::Mul, false)
    }
    fn __rmul__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binary!(self, other, Op::Mul, true)
    }
    pub(crate) fn __truediv__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binary!(self, other, Op::Div, false)
    }
    fn __rtruediv__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binary!(self, other, Op::Div, true)
    }
    pub(crate) fn __pow__(
        &self,
        other: &Bound<'_, PyAny>,
        _modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        binary!(self, other, Op::Pow, false)
    }
    fn __rpow__(
        &self,
        other: &Bound<'_, PyAny>,
        _modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        binary!(self, other, Op::Pow, true)
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binary!(self, other, Op::Eq, false)
    }
    fn __ne__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binary!(self, other, Op::Ne, false)
    }
    fn __lt__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binary!(self, other, Op::Lt, false)
    }
    fn __le__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binary!(self, other, Op::Le, false)
    }
    fn __gt__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binary!(self, other, Op::Gt, false)
    }
    fn __ge__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binary!(self, other, Op::Ge, false)
    }

    pub(crate) fn __neg__(&self, py: Python<'_>) -> PyResult<Tensor> {
        let t = &self.inner;
        let out = if t.dtype() == DType::I64 {
            scalar_op(t, -1.0, true, Op::Mul, false)
        } else {
            heavy(py, t.numel(), || t.try_neg())
        };
        out.py().map(Tensor::from_core)
    }

    fn __pos__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// Logical and of two masks.
    fn __and__(&self, other: &Bound<'_, PyAny>) -> PyResult<Tensor> {
        let (a, b) = masks(self, other, "&")?;
        tensor_op(&a, &b, Op::Mul).py().map(Tensor::mask)
    }

    /// Logical or of two masks.
    fn __or__(&self, other: &Bound<'_, PyAny>) -> PyResult<Tensor> {
        let (a, b) = masks(self, other, "|")?;
        let sum = tensor_op(&a, &b, Op::Add).py()?;
        scalar_op(&sum, 0.0, true, Op::Gt, false)
            .py()
            .map(Tensor::mask)
    }

    /// Logical exclusive or of two masks.
    fn __xor__(&self, other: &Bound<'_, PyAny>) -> PyResult<Tensor> {
        let (a, b) = masks(self, other, "^")?;
        tensor_op(&a, &b, Op::Ne).py().map(Tensor::mask)
    }

    /// Logical not of a mask.
    fn __invert__(&self) -> PyResult<Tensor> {
        if !self.is_mask {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "~ is defined for comparison results (masks) only in nabla, which has no bool or \
                 bitwise integer operations",
            ));
        }
        scalar_op(&self.inner, 0.0, true, Op::Eq, false)
            .py()
            .map(Tensor::mask)
    }
}
