//! Tensor methods with PyTorch's names and signatures: elementwise math, reductions with `dim`
//! and `keepdim`, `matmul`/`@`, and the shape methods (`reshape`, `view`, `permute`,
//! `transpose`, `T`, `unsqueeze`, `squeeze`, `flatten`, `expand`). Each is also a function of
//! the module (`nabla.sum(t, dim)`), added by `nabla/__init__.py`.

use crate::autograd::torch_named;
use crate::errors::IntoPyResult;
use crate::ops::heavy;
use crate::tensor::{Tensor, expect_core};
use nabla_core::{DType, Result, Tensor as CoreTensor};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyInt, PyTuple};

/// Integer tensors go through float64 for kernels that take floats only.
fn via_float(t: &CoreTensor, f: impl Fn(&CoreTensor) -> Result<CoreTensor>) -> Result<CoreTensor> {
    if t.dtype() == DType::I64 {
        f(&t.try_to_dtype(DType::F64)?)?.try_to_dtype(DType::I64)
    } else {
        f(t)
    }
}

/// Integer tensors become float32 for functions whose result is fractional (mean, exp, ...).
fn float_input(t: &CoreTensor) -> Result<CoreTensor> {
    if t.dtype() == DType::I64 {
        t.try_to_dtype(DType::F32)
    } else {
        Ok(t.clone())
    }
}

/// Dimensions given as `None`, an int, or a sequence of ints.
fn dims(dim: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<isize>>> {
    match dim {
        None => Ok(None),
        Some(d) if d.is_none() => Ok(None),
        Some(d) => match d.extract::<isize>() {
            Ok(one) => Ok(Some(vec![one])),
            Err(_) => Ok(Some(d.extract::<Vec<isize>>()?)),
        },
    }
}

/// Integers given as `f(2, 3)` or `f((2, 3))`.
fn int_args(args: &Bound<'_, PyTuple>) -> PyResult<Vec<i64>> {
    if args.len() == 1 && !args.get_item(0)?.is_instance_of::<PyInt>() {
        args.get_item(0)?.extract()
    } else {
        args.extract()
    }
}

fn wrap(
    py: Python<'_>,
    numel: usize,
    f: impl FnOnce() -> Result<CoreTensor> + Send,
) -> PyResult<Tensor> {
    heavy(py, numel, f).py().map(Tensor::from_core)
}

/// `t` with its `grad_fn` under PyTorch's name for the call that made it.
fn named(t: PyResult<Tensor>, name: &'static str) -> PyResult<Tensor> {
    t.map(|t| Tensor::from_core(torch_named(t.inner, name)))
}

/// A reduction by `dim` (all dims when `None`) with `keepdim`.
fn reduce(
    py: Python<'_>,
    t: &CoreTensor,
    dim: Option<&Bound<'_, PyAny>>,
    keepdim: bool,
    f: impl Fn(&CoreTensor, &[isize], bool) -> Result<CoreTensor> + Send + Sync,
) -> PyResult<Tensor> {
    let dims = dims(dim)?;
    let all: Vec<isize> = (0..t.ndim() as isize).collect();
    let dims = dims.unwrap_or(all);
    wrap(py, t.numel(), || f(t, &dims, keepdim))
}

/// Values and indices of a max or min along one dim, as PyTorch's `(values, indices)`.
fn extremum_along<'py>(
    py: Python<'py>,
    t: &CoreTensor,
    dim: isize,
    keepdim: bool,
    max: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let (values, indices) = heavy(py, t.numel(), || -> Result<_> {
        let values = via_float(t, |x| {
            if max {
                x.try_max_dims(&[dim], keepdim)
            } else {
                x.try_min_dims(&[dim], keepdim)
            }
        })?;
        let indices = via_float(t, |x| {
            if max {
                x.try_argmax(dim, keepdim)
            } else {
                x.try_argmin(dim, keepdim)
            }
        })?;
        Ok((values, indices))
    })
    .py()?;
    let namedtuple = py
        .import("nabla._return_types")?
        .getattr(if max { "max" } else { "min" })?;
    namedtuple.call1((Tensor::from_core(values), Tensor::from_core(indices)))
}

impl Tensor {
    /// `f` on the elements as floats (integer tensors become float32, as `float_input` says),
    /// with the GIL released for large tensors.
    fn float_map(
        &self,
        py: Python<'_>,
        f: fn(&CoreTensor) -> Result<CoreTensor>,
    ) -> PyResult<Tensor> {
        let t = float_input(&self.inner).py()?;
        wrap(py, t.numel(), || f(&t))
    }

    /// `f` on the elements keeping the dtype (integer tensors go through float64, as
    /// `via_float` says), with the GIL released for large tensors.
    fn dtype_map(
        &self,
        py: Python<'_>,
        f: fn(&CoreTensor) -> Result<CoreTensor>,
    ) -> PyResult<Tensor> {
        let t = &self.inner;
        wrap(py, t.numel(), || via_float(t, f))
    }
}

#[pymethods]
impl Tensor {
    // Elementwise math.
    fn exp(&self, py: Python<'_>) -> PyResult<Tensor> {
        self.float_map(py, CoreTensor::try_exp)
    }
    fn log(&self, py: Python<'_>) -> PyResult<Tensor> {
        self.float_map(py, CoreTensor::try_log)
    }
    fn sqrt(&self, py: Python<'_>) -> PyResult<Tensor> {
        self.float_map(py, CoreTensor::try_sqrt)
    }
    fn sin(&self, py: Python<'_>) -> PyResult<Tensor> {
        self.float_map(py, CoreTensor::try_sin)
    }
    fn cos(&self, py: Python<'_>) -> PyResult<Tensor> {
        self.float_map(py, CoreTensor::try_cos)
    }
    fn tanh(&self, py: Python<'_>) -> PyResult<Tensor> {
        self.float_map(py, CoreTensor::try_tanh)
    }
    fn sigmoid(&self, py: Python<'_>) -> PyResult<Tensor> {
        self.float_map(py, CoreTensor::try_sigmoid)
    }
    fn reciprocal(&self, py: Python<'_>) -> PyResult<Tensor> {
        self.float_map(py, CoreTensor::try_recip)
    }
    fn relu(&self, py: Python<'_>) -> PyResult<Tensor> {
        self.dtype_map(py, CoreTensor::try_relu)
    }
    fn abs(&self, py: Python<'_>) -> PyResult<Tensor> {
        self.dtype_map(py, CoreTensor::try_abs)
    }
    fn __abs__(&self, py: Python<'_>) -> PyResult<Tensor> {
        self.abs(py)
    }
    fn sign(&self, py: Python<'_>) -> PyResult<Tensor> {
        self.dtype_map(py, CoreTensor::try_sign)
    }
    fn neg(&self, py: Python<'_>) -> PyResult<Tensor> {
        self.__neg__(py)
    }
    fn square(&self, py: Python<'_>) -> PyResult<Tensor> {
        self.dtype_map(py, |x| x.try_powf(2.0))
    }
    fn pow(&self, exponent: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.__pow__(exponent, None)
    }
    fn add(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.__add__(other)
    }
    fn sub(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.__sub__(other)
    }
    fn mul(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.__mul__(other)
    }
    fn div(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.__truediv__(other)
    }
    /// Elementwise `min ≤ x ≤ max` (either bound may be `None`).
    #[pyo3(signature = (min = None, max = None))]
    fn clamp(&self, py: Python<'_>, min: Option<f64>, max: Option<f64>) -> PyResult<Tensor> {
        let t = &self.inner;
        wrap(py, t.numel(), || {
            via_float(t, |x| match (min, max) {
                (Some(lo), Some(hi)) => x.try_clamp(lo, hi),
                (Some(lo), None) => x.try_clamp_min(lo),
                (None, Some(hi)) => x.try_clamp_max(hi),
                (None, None) => Err(nabla_core::Error::InvalidArgument {
                    op: "clamp",
                    message: "At least one of 'min' or 'max' must not be None".into(),
                }),
            })
        })
    }
    fn maximum(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Tensor> {
        let (a, b) = (self.inner.clone(), expect_core(other, "other")?);
        wrap(py, a.numel(), || {
            via_float(&a, |x| x.try_maximum(&b.try_to_dtype(x.dtype())?))
        })
    }
    fn minimum(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Tensor> {
        let (a, b) = (self.inner.clone(), expect_core(other, "other")?);
        wrap(py, a.numel(), || {
            via_float(&a, |x| x.try_minimum(&b.try_to_dtype(x.dtype())?))
        })
    }

    // Reductions.
    #[pyo3(signature = (dim = None, keepdim = false, *, dtype = None))]
    fn sum(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
        dtype: Option<crate::dtype::PyDType>,
    ) -> PyResult<Tensor> {
        let t = match dtype {
            Some(d) => self.inner.try_to_dtype(d.0).py()?,
            None => self.inner.clone(),
        };
        let by_dim = dim.is_some_and(|d| !d.is_none());
        let out = reduce(py, &t, dim, keepdim, |x, d, k| {
            via_float(x, |f| f.try_sum_dims(d, k))
        });
        if by_dim {
            named(out, "SumBackward1")
        } else {
            out
        }
    }
    #[pyo3(signature = (dim = None, keepdim = false, *, dtype = None))]
    fn mean(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
        dtype: Option<crate::dtype::PyDType>,
    ) -> PyResult<Tensor> {
        if self.inner.dtype() == DType::I64 && dtype.is_none() {
            return Err(PyRuntimeError::new_err(
                "mean(): could not infer output dtype. Input dtype must be either a floating \
                 point or complex dtype. Got: Long",
            ));
        }
        let t = match dtype {
            Some(d) => self.inner.try_to_dtype(d.0).py()?,
            None => self.inner.clone(),
        };
        let by_dim = dim.is_some_and(|d| !d.is_none());
        let out = reduce(py, &t, dim, keepdim, |x, d, k| x.try_mean_dims(d, k));
        named(
            out,
            if by_dim {
                "MeanBackward1"
            } else {
                "MeanBackward0"
            },
        )
    }
    /// `max()` is the largest element; `max(dim)` the `(values, indices)` along `dim`;
    /// `max(other)` the elementwise maximum.
    #[pyo3(signature = (dim = None, keepdim = false))]
    fn max<'py>(
        &self,
        py: Python<'py>,
        dim: Option<&Bound<'py, PyAny>>,
        keepdim: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.extremum(py, dim, keepdim, true)
    }
    #[pyo3(signature = (dim = None, keepdim = false))]
    fn min<'py>(
        &self,
        py: Python<'py>,
        dim: Option<&Bound<'py, PyAny>>,
        keepdim: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.extremum(py, dim, keepdim, false)
    }
    #[pyo3(signature = (dim = None, keepdim = false))]
    fn amax(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
    ) -> PyResult<Tensor> {
        reduce(py, &self.inner, dim, keepdim, |x, d, k| {
            via_float(x, |f| f.try_max_dims(d, k))
        })
    }
    #[pyo3(signature = (dim = None, keepdim = false))]
    fn amin(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        keepdim: bool,
    ) -> PyResult<Tensor> {
        reduce(py, &self.inner, dim, keepdim, |x, d, k| {
            via_float(x, |f| f.try_min_dims(d, k))
        })
    }
    #[pyo3(signature = (dim = None, keepdim = false))]
    fn argmax(&self, py: Python<'_>, dim: Option<isize>, keepdim: bool) -> PyResult<Tensor> {
        self.arg_extremum(py, dim, keepdim, true)
    }
    #[pyo3(signature = (dim = None, keepdim = false))]
    fn argmin(&self, py: Python<'_>, dim: Option<isize>, keepdim: bool) -> PyResult<Tensor> {
        self.arg_extremum(py, dim, keepdim, false)
    }
    #[pyo3(signature = (dim = None, unbiased = None, keepdim = false, *, correction = None))]
    fn var(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        unbiased: Option<bool>,
        keepdim: bool,
        correction: Option<usize>,
    ) -> PyResult<Tensor> {
        let c = correction.unwrap_or(if unbiased.unwrap_or(true) { 1 } else { 0 });
        reduce(py, &self.inner, dim, keepdim, move |x, d, k| {
            x.try_var_dims(d, k, c)
        })
    }
    #[pyo3(signature = (dim = None, unbiased = None, keepdim = false, *, correction = None))]
    fn std(
        &self,
        py: Python<'_>,
        dim: Option<&Bound<'_, PyAny>>,
        unbiased: Option<bool>,
        keepdim: bool,
        correction: Option<usize>,
    ) -> PyResult<Tensor> {
        let c = correction.unwrap_or(if unbiased.unwrap_or(true) { 1 } else { 0 });
        reduce(py, &self.inner, dim, keepdim, move |x, d, k| {
            x.try_std_dims(d, k, c)
        })
    }
    #[pyo3(signature = (dim, keepdim = false))]
    fn logsumexp(&self, py: Python<'_>, dim: &Bound<'_, PyAny>, keepdim: bool) -> PyResult<Tensor> {
        reduce(py, &self.inner, Some(dim), keepdim, |x, d, k| {
            x.try_logsumexp(d, k)
        })
    }
    #[pyo3(signature = (dim, dtype = None))]
    fn softmax(
        &self,
        py: Python<'_>,
        dim: isize,
        dtype: Option<crate::dtype::PyDType>,
    ) -> PyResult<Tensor> {
        let t = match dtype {
            Some(d) => self.inner.try_to_dtype(d.0).py()?,
            None => self.inner.clone(),
        };
        named(
            wrap(py, t.numel(), || t.try_softmax(dim)),
            "SoftmaxBackward0",
        )
    }
    #[pyo3(signature = (dim, dtype = None))]
    fn log_softmax(
        &self,
        py: Python<'_>,
        dim: isize,
        dtype: Option<crate::dtype::PyDType>,
    ) -> PyResult<Tensor> {
        let t = match dtype {
            Some(d) => self.inner.try_to_dtype(d.0).py()?,
            None => self.inner.clone(),
        };
        named(
            wrap(py, t.numel(), || t.try_log_softmax(dim)),
            "LogSoftmaxBackward0",
        )
    }

    // Products.
    fn matmul(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Tensor> {
        let (a, b) = (self.inner.clone(), expect_core(other, "other")?);
        if a.dtype() != b.dtype() {
            return Err(PyRuntimeError::new_err(format!(
                "expected m1 and m2 to have the same dtype, but got: {} != {}",
                crate::dtype::name(a.dtype()),
                crate::dtype::name(b.dtype())
            )));
        }
        let work = a.numel().max(b.numel());
        let out = wrap(py, work, || {
            via_float(&a, |x| x.try_matmul(&b.try_to_dtype(x.dtype())?))
        });
        match (a.ndim(), b.ndim()) {
            (1, 1) => named(out, "DotBackward0"),
            (2, 1) => named(out, "MvBackward0"),
            (2, 2) => named(out, "MmBackward0"),
            _ => out,
        }
    }
    fn __matmul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if other.cast::<Tensor>().is_err() {
            return Ok(py.NotImplemented());
        }
        Ok(Bound::new(py, self.matmul(py, other)?)?.into_any().unbind())
    }
    fn __rmatmul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        match other.cast::<Tensor>() {
            Ok(o) => Ok(Bound::new(
                py,
                o.borrow().matmul(
                    py,
                    &Bound::new(py, Tensor::from_core(self.inner.clone()))?.into_any(),
                )?,
            )?
            .into_any()
            .unbind()),
            Err(_) => Ok(py.NotImplemented()),
        }
    }
    fn mm(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Tensor> {
        self.matmul(py, other)
    }
    fn dot(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Tensor> {
        self.matmul(py, other)
    }

    // Shapes.
    #[pyo3(signature = (*shape))]
    fn reshape(&self, shape: &Bound<'_, PyTuple>) -> PyResult<Tensor> {
        let dims: Vec<isize> = int_args(shape)?.into_iter().map(|d| d as isize).collect();
        self.reshaped(&dims)
    }
    /// `view(*shape)`: a reshape that never copies (an error for a layout that would need one).
    #[pyo3(signature = (*shape))]
    fn view(&self, shape: &Bound<'_, PyTuple>) -> PyResult<Tensor> {
        if shape.len() == 1 && shape.get_item(0)?.cast::<crate::dtype::PyDType>().is_ok() {
            return Err(PyTypeError::new_err(
                "view(dtype) is not supported; use .to(dtype)",
            ));
        }
        let out = self.reshape(shape)?;
        if !out.inner.shares_storage(&self.inner) {
            return Err(PyRuntimeError::new_err(format!(
                "view size is not compatible with input tensor's size and stride (shape {:?}, \
                 strides {:?}); use .reshape(...) instead.",
                self.inner.shape(),
                self.inner.layout().strides()
            )));
        }
        Ok(out)
    }
    fn view_as(&self, other: &Bound<'_, PyAny>) -> PyResult<Tensor> {
        let o = expect_core(other, "other")?;
        let dims: Vec<isize> = o.shape().iter().map(|&d| d as isize).collect();
        self.reshaped(&dims)
    }
    fn reshape_as(&self, other: &Bound<'_, PyAny>) -> PyResult<Tensor> {
        self.view_as(other)
    }
    #[pyo3(signature = (*dims))]
    fn permute(&self, dims: &Bound<'_, PyTuple>) -> PyResult<Tensor> {
        let n = self.inner.ndim() as i64;
        let dims = int_args(dims)?
            .into_iter()
            .map(|d| {
                let at = if d < 0 { d + n } else { d };
                usize::try_from(at).map_err(|_| {
                    pyo3::exceptions::PyIndexError::new_err(format!(
                        "Dimension out of range (expected to be in range of [{}, {}], but got {d})",
                        -n,
                        n - 1
                    ))
                })
            })
            .collect::<PyResult<Vec<_>>>()?;
        self.inner.try_permute(&dims).py().map(Tensor::from_core)
    }
    fn transpose(&self, dim0: isize, dim1: isize) -> PyResult<Tensor> {
        let out = self.inner.try_transpose(dim0, dim1).py();
        named(out.map(Tensor::from_core), "TransposeBackward0")
    }
    fn t(&self) -> PyResult<Tensor> {
        if self.inner.ndim() < 2 {
            return Ok(Tensor::from_core(self.inner.clone()));
        }
        named(self.inner.try_t().py().map(Tensor::from_core), "TBackward0")
    }
    /// The dimensions reversed.
    #[getter(T)]
    fn big_t(&self) -> PyResult<Tensor> {
        let dims: Vec<usize> = (0..self.inner.ndim()).rev().collect();
        self.inner.try_permute(&dims).py().map(Tensor::from_core)
    }
    /// The last two dimensions swapped.
    #[getter(mT)]
    fn matrix_t(&self) -> PyResult<Tensor> {
        let out = self.inner.try_transpose(-2, -1).py();
        named(out.map(Tensor::from_core), "TransposeBackward0")
    }
    fn unsqueeze(&self, dim: isize) -> PyResult<Tensor> {
        self.inner.try_unsqueeze(dim).py().map(Tensor::from_core)
    }
    /// Removes dimensions of size 1: all of them, or the given one(s) when they have size 1.
    #[pyo3(signature = (dim = None))]
    fn squeeze(&self, dim: Option<&Bound<'_, PyAny>>) -> PyResult<Tensor> {
        let n = self.inner.ndim() as isize;
        let name = match dim {
            Some(d) if d.is_instance_of::<PyInt>() => "SqueezeBackward1",
            Some(d) if !d.is_none() => "SqueezeBackward2",
            _ => "SqueezeBackward0",
        };
        let mut dims: Vec<isize> = match dims(dim)? {
            None => (0..n)
                .filter(|&d| self.inner.shape()[d as usize] == 1)
                .collect(),
            Some(ds) => {
                let mut kept = Vec::new();
                for d in ds {
                    let size = self
                        .inner
                        .try_size(d)
                        .map_err(|_| nabla_core::Error::DimOutOfRange {
                            op: "squeeze",
                            dim: d,
                            shape: self.inner.shape().into(),
                        })
                        .py()?;
                    if size == 1 {
                        kept.push(if d < 0 { d + n } else { d });
                    }
                }
                kept
            }
        };
        dims.sort_unstable();
        let mut out = self.inner.clone();
        for d in dims.into_iter().rev() {
            out = out.try_squeeze(d).py()?;
        }
        named(Ok(Tensor::from_core(out)), name)
    }
    #[pyo3(signature = (start_dim = 0, end_dim = -1))]
    fn flatten(&self, start_dim: isize, end_dim: isize) -> PyResult<Tensor> {
        if self.inner.ndim() == 0 {
            return self.reshaped(&[1]);
        }
        let out = self.inner.try_flatten(start_dim, end_dim).py()?;
        Ok(self.viewed(out))
    }
    /// A broadcast view; -1 keeps a dimension's size.
    #[pyo3(signature = (*sizes))]
    fn expand(&self, sizes: &Bound<'_, PyTuple>) -> PyResult<Tensor> {
        let wanted = int_args(sizes)?;
        let shape = self.inner.shape();
        let lead = wanted.len().saturating_sub(shape.len());
        let dims = wanted
            .iter()
            .enumerate()
            .map(|(i, &d)| {
                if d == -1 && i >= lead {
                    Ok(shape[i - lead])
                } else {
                    usize::try_from(d).map_err(|_| {
                        PyRuntimeError::new_err(format!(
                            "expand: the expanded size {d} is not allowed at dimension {i}"
                        ))
                    })
                }
            })
            .collect::<PyResult<Vec<_>>>()?;
        self.inner.try_expand(&dims).py().map(Tensor::from_core)
    }
    fn expand_as(&self, other: &Bound<'_, PyAny>) -> PyResult<Tensor> {
        let o = expect_core(other, "other")?;
        self.inner.try_expand(o.shape()).py().map(Tensor::from_core)
    }
    fn narrow(&self, dim: isize, start: usize, length: usize) -> PyResult<Tensor> {
        self.inner
            .try_narrow(dim, start, length)
            .py()
            .map(Tensor::from_core)
    }
}

impl Tensor {
    /// This tensor reshaped to `dims` (one may be -1).
    fn reshaped(&self, dims: &[isize]) -> PyResult<Tensor> {
        let out = self.inner.try_reshape_infer(dims).py()?;
        Ok(self.viewed(out))
    }

    /// `out`, a reshape of this tensor, named `ViewBackward0` as PyTorch names a reshape that
    /// is a view.
    fn viewed(&self, out: CoreTensor) -> Tensor {
        if out.shares_storage(&self.inner) {
            Tensor::from_core(torch_named(out, "ViewBackward0"))
        } else {
            Tensor::from_core(out)
        }
    }

    fn extremum<'py>(
        &self,
        py: Python<'py>,
        dim: Option<&Bound<'py, PyAny>>,
        keepdim: bool,
        max: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let t = &self.inner;
        match dim {
            Some(other) if other.cast::<Tensor>().is_ok() => {
                let out = if max {
                    self.maximum(py, other)?
                } else {
                    self.minimum(py, other)?
                };
                Ok(Bound::new(py, out)?.into_any())
            }
            Some(d) if !d.is_none() => extremum_along(py, t, d.extract()?, keepdim, max),
            _ => {
                if t.numel() == 0 {
                    return Err(PyRuntimeError::new_err(
                        "max(): Expected reduction dim to be specified for input.numel() == 0. \
                         Specify the reduction dim with the 'dim' argument.",
                    ));
                }
                let out = wrap(py, t.numel(), || {
                    via_float(t, |x| if max { x.try_max() } else { x.try_min() })
                });
                let name = if max { "MaxBackward1" } else { "MinBackward1" };
                Ok(Bound::new(py, named(out, name)?)?.into_any())
            }
        }
    }

    fn arg_extremum(
        &self,
        py: Python<'_>,
        dim: Option<isize>,
        keepdim: bool,
        max: bool,
    ) -> PyResult<Tensor> {
        let t = &self.inner;
        wrap(py, t.numel(), || {
            let f = float_input(t)?;
            match dim {
                Some(d) => {
                    if max {
                        f.try_argmax(d, keepdim)
                    } else {
                        f.try_argmin(d, keepdim)
                    }
                }
                None => {
                    let flat = f.try_reshape(&[f.numel()])?;
                    if max {
                        flat.try_argmax(0, false)
                    } else {
                        flat.try_argmin(0, false)
                    }
                }
            }
        })
    }
}
