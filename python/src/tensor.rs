//! `nabla.Tensor`: the one tensor class, a thin handle on `nabla_core::Tensor`. This file holds
//! the class, its attributes and its conversions to Python values; the operators are in
//! `ops.rs`, indexing in `index.rs`, the autograd attributes in `autograd.rs`.

use crate::dtype::PyDType;
use crate::errors::IntoPyResult;
use nabla_core::{DType, Tensor as CoreTensor};
use numpy::{Element as NpElement, PyArrayDescr};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

/// An n-dimensional array of `float32`, `float64` or `int64` that records the operations on it
/// for autograd, like `torch.Tensor`. `nabla.Tensor([[1., 2.]])` builds one from nested lists.
#[pyclass(name = "Tensor", module = "nabla", subclass, weakref, dict)]
pub struct Tensor {
    pub(crate) inner: CoreTensor,
    /// Set on the 0/1 results of comparisons (nabla has no bool dtype): indexing with it selects
    /// elements as PyTorch's bool masks do, where another int64 tensor picks indices.
    pub(crate) is_mask: bool,
}

impl Tensor {
    /// Wraps a core tensor; how the crate's other files return tensors to Python.
    #[inline]
    pub fn from_core(inner: CoreTensor) -> Self {
        Tensor {
            inner,
            is_mask: false,
        }
    }

    /// Wraps a 0/1 comparison result that indexes as a mask.
    #[inline]
    pub fn mask(inner: CoreTensor) -> Self {
        Tensor {
            inner,
            is_mask: true,
        }
    }

    /// The core tensor behind this handle.
    #[inline]
    pub fn core(&self) -> &CoreTensor {
        &self.inner
    }
}

/// `value` as a core tensor when it is a `nabla.Tensor` (or a subclass such as `nn.Parameter`).
#[inline]
pub fn as_core(value: &Bound<'_, PyAny>) -> Option<CoreTensor> {
    value
        .cast::<Tensor>()
        .ok()
        .map(|t| t.borrow().inner.clone())
}

/// `value` as a core tensor, or a `TypeError` naming the argument.
pub fn expect_core(value: &Bound<'_, PyAny>, what: &str) -> PyResult<CoreTensor> {
    as_core(value).ok_or_else(|| {
        PyTypeError::new_err(format!("{what} must be a Tensor, not {}", type_name(value)))
    })
}

/// The Python type name of `value`, for messages.
pub fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".into())
}

/// A tensor's elements as nested Python lists (a number for a 0-d tensor).
fn to_python(py: Python<'_>, t: &CoreTensor) -> PyResult<Py<PyAny>> {
    fn nest<T: Copy + for<'a> pyo3::IntoPyObjectExt<'a>>(
        py: Python<'_>,
        shape: &[usize],
        values: &[T],
    ) -> PyResult<Py<PyAny>> {
        match shape.split_first() {
            None => values[0].into_py_any(py),
            Some((&n, rest)) => {
                let step: usize = rest.iter().product();
                let items = (0..n)
                    .map(|i| nest(py, rest, &values[i * step..(i + 1) * step]))
                    .collect::<PyResult<Vec<_>>>()?;
                Ok(PyList::new(py, items)?.into_any().unbind())
            }
        }
    }
    let shape = t.shape();
    match t.dtype() {
        DType::F32 => nest(py, shape, &t.try_to_vec::<f32>().py()?),
        DType::F64 => nest(py, shape, &t.try_to_vec::<f64>().py()?),
        DType::I64 => nest(py, shape, &t.try_to_vec::<i64>().py()?),
    }
}

/// A NumPy array viewing the tensor's memory, as `torch.Tensor.numpy()` does. The array's base
/// is a tensor of its own on the same storage, so the memory outlives a later `t.data = ...`
/// that points the Python tensor somewhere else.
fn numpy_view<'py, T: NpElement>(py: Python<'py>, t: &CoreTensor) -> PyResult<Bound<'py, PyAny>> {
    let owner = Bound::new(py, Tensor::from_core(t.clone()))?;
    let size = std::mem::size_of::<T>() as isize;
    let dims: Vec<numpy::npyffi::npy_intp> = t.shape().iter().map(|&d| d as _).collect();
    let strides: Vec<numpy::npyffi::npy_intp> = t
        .layout()
        .strides()
        .iter()
        .map(|&s| (s as isize * size) as _)
        .collect();
    let descr: Bound<'py, PyArrayDescr> = T::get_dtype(py);
    // SAFETY: the pointer and strides describe this tensor's elements inside its storage,
    // which `owner` (set as the array's base, holding its own handle on the storage) keeps
    // alive as long as the array lives.
    unsafe {
        use numpy::npyffi::{NPY_ARRAY_WRITEABLE, PY_ARRAY_API};
        let api = &PY_ARRAY_API;
        let subtype = numpy::npyffi::get_type_object(py, numpy::npyffi::NpyTypes::PyArray_Type);
        let descr_ptr = descr.into_ptr() as *mut numpy::npyffi::PyArray_Descr;
        let ptr = api.PyArray_NewFromDescr(
            py,
            subtype,
            descr_ptr,
            dims.len() as i32,
            dims.as_ptr() as *mut _,
            strides.as_ptr() as *mut _,
            t.data_ptr() as *mut std::ffi::c_void,
            NPY_ARRAY_WRITEABLE,
            std::ptr::null_mut(),
        );
        if ptr.is_null() {
            return Err(PyErr::fetch(py));
        }
        let array = Bound::from_owned_ptr(py, ptr);
        let base = owner.into_ptr();
        if api.PyArray_SetBaseObject(py, ptr as *mut _, base) < 0 {
            return Err(PyErr::fetch(py));
        }
        Ok(array)
    }
}

#[pymethods]
impl Tensor {
    /// `Tensor(data)` copies nested lists, numbers or arrays into a float32 tensor (as
    /// `torch.Tensor(list)` does); `Tensor(2, 3)` is a float32 tensor of that shape (zeros,
    /// where PyTorch leaves the memory unset); `Tensor()` is an empty one.
    #[new]
    #[pyo3(signature = (*args))]
    fn py_new(args: &Bound<'_, PyTuple>) -> PyResult<Self> {
        let sizes: Option<Vec<usize>> = args
            .iter()
            .map(|a| {
                a.is_instance_of::<pyo3::types::PyInt>()
                    .then(|| a.extract::<usize>().ok())
                    .flatten()
            })
            .collect();
        let inner = match sizes {
            Some(shape) if !shape.is_empty() || args.is_empty() => {
                let shape = if args.is_empty() { vec![0] } else { shape };
                CoreTensor::try_zeros(&shape, DType::F32).py()?
            }
            _ if args.len() == 1 => {
                crate::creation::from_data(&args.get_item(0)?, Some(DType::F32))?
            }
            _ => {
                return Err(PyTypeError::new_err(
                    "Tensor() takes one sequence of data or non-negative integer sizes",
                ));
            }
        };
        Ok(Tensor::from_core(inner))
    }

    /// Makes NumPy defer to the tensor's reflected operators (`np.float64(2) * t` is a
    /// tensor), as PyTorch does.
    #[classattr]
    fn __array_priority__() -> f64 {
        1000.0
    }

    /// The dimensions, as a `nabla.Size` (a tuple).
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        size_object(py, self.inner.shape())
    }

    /// `size()` is the shape; `size(d)` one dimension (negative counts from the end).
    #[pyo3(signature = (dim = None))]
    fn size<'py>(&self, py: Python<'py>, dim: Option<isize>) -> PyResult<Bound<'py, PyAny>> {
        match dim {
            None => size_object(py, self.inner.shape()),
            Some(d) => Ok(self.inner.try_size(d).py()?.into_pyobject(py)?.into_any()),
        }
    }

    #[getter]
    fn dtype(&self, py: Python<'_>) -> PyResult<Py<PyDType>> {
        crate::dtype::object(py, self.inner.dtype())
    }

    #[getter]
    fn ndim(&self) -> usize {
        self.inner.ndim()
    }

    fn dim(&self) -> usize {
        self.inner.ndim()
    }

    fn numel(&self) -> usize {
        self.inner.numel()
    }

    fn nelement(&self) -> usize {
        self.inner.numel()
    }

    fn element_size(&self) -> usize {
        self.inner.dtype().size_in_bytes()
    }

    fn is_contiguous(&self) -> bool {
        self.inner.is_contiguous()
    }

    fn is_floating_point(&self) -> bool {
        self.inner.dtype().is_float()
    }

    /// Strides in elements, as `torch.Tensor.stride()`.
    #[pyo3(signature = (dim = None))]
    fn stride<'py>(&self, py: Python<'py>, dim: Option<isize>) -> PyResult<Bound<'py, PyAny>> {
        let strides = self.inner.layout().strides();
        match dim {
            None => Ok(PyTuple::new(py, strides)?.into_any()),
            Some(d) => {
                let at = self.inner.try_size(d).map(|_| {
                    if d < 0 {
                        (d + strides.len() as isize) as usize
                    } else {
                        d as usize
                    }
                });
                Ok(strides[at.py()?].into_pyobject(py)?.into_any())
            }
        }
    }

    /// The value of a one-element tensor as a Python number.
    fn item<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let t = &self.inner;
        if t.numel() != 1 {
            return Err(PyRuntimeError::new_err(format!(
                "a Tensor with {} elements cannot be converted to Scalar",
                t.numel()
            )));
        }
        Ok(match t.dtype() {
            DType::F32 => (t.try_item::<f32>().py()? as f64)
                .into_pyobject(py)?
                .into_any(),
            DType::F64 => t.try_item::<f64>().py()?.into_pyobject(py)?.into_any(),
            DType::I64 => t.try_item::<i64>().py()?.into_pyobject(py)?.into_any(),
        })
    }

    /// The elements as nested lists of Python numbers.
    fn tolist(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_python(py, &self.inner)
    }

    /// A NumPy array sharing this tensor's memory (no copy), as `torch.Tensor.numpy()`.
    /// Refused for a tensor that requires grad: call `.detach().numpy()`.
    #[pyo3(signature = (*, force = false))]
    fn numpy<'py>(slf: &Bound<'py, Self>, force: bool) -> PyResult<Bound<'py, PyAny>> {
        let t = slf.borrow().inner.clone();
        if t.requires_grad_flag() && !force {
            return Err(PyRuntimeError::new_err(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() \
                 instead.",
            ));
        }
        match t.dtype() {
            DType::F32 => numpy_view::<f32>(slf.py(), &t),
            DType::F64 => numpy_view::<f64>(slf.py(), &t),
            DType::I64 => numpy_view::<i64>(slf.py(), &t),
        }
    }

    /// NumPy's array protocol, so `np.asarray(t)` works (a copy when a dtype is asked for).
    #[pyo3(signature = (dtype = None, copy = None))]
    fn __array__<'py>(
        slf: &Bound<'py, Self>,
        dtype: Option<&Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let detached = Bound::new(slf.py(), Tensor::from_core(slf.borrow().inner.detach()))?;
        let array = Tensor::numpy(&detached, false)?;
        let array = match dtype {
            Some(d) => array.call_method1("astype", (d,))?,
            None if copy == Some(true) => array.call_method0("copy")?,
            None => array,
        };
        Ok(array)
    }

    fn __len__(&self) -> PyResult<usize> {
        match self.inner.shape().first() {
            Some(&n) => Ok(n),
            None => Err(PyTypeError::new_err("len() of a 0-d tensor")),
        }
    }

    fn __bool__(&self) -> PyResult<bool> {
        if self.inner.numel() != 1 {
            return Err(PyRuntimeError::new_err(format!(
                "Boolean value of Tensor with {} values is ambiguous",
                self.inner.numel()
            )));
        }
        Ok(self.inner.try_to_f64_vec().py()?[0] != 0.0)
    }

    fn __float__(&self, py: Python<'_>) -> PyResult<f64> {
        self.item(py)?.extract()
    }

    fn __int__(&self, py: Python<'_>) -> PyResult<i64> {
        let v = self.item(py)?;
        match v.extract::<i64>() {
            Ok(i) => Ok(i),
            Err(_) => Ok(v.extract::<f64>()?.trunc() as i64),
        }
    }

    fn __index__(&self, py: Python<'_>) -> PyResult<i64> {
        if self.inner.dtype() != DType::I64 || self.inner.numel() != 1 {
            return Err(PyTypeError::new_err(
                "only integer tensors of a single element can be converted to an index",
            ));
        }
        self.item(py)?.extract()
    }

    fn __hash__(slf: &Bound<'_, Self>) -> isize {
        slf.as_ptr() as isize
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let py = slf.py();
        py.import("nabla._tensor_str")?
            .call_method1("tensor_repr", (slf,))?
            .extract()
    }

    /// A copy with the given dtype (`t.to(nabla.float64)`, `t.to(other)`); the same tensor
    /// when nothing changes. Devices other than "cpu" are refused.
    #[pyo3(signature = (*args, **kwargs))]
    fn to(
        slf: &Bound<'_, Self>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, pyo3::types::PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let mut dtype = None;
        let mut check = |value: &Bound<'_, PyAny>| -> PyResult<()> {
            if let Ok(d) = value.cast::<PyDType>() {
                dtype = Some(d.get().0);
            } else if let Some(other) = as_core(value) {
                dtype = Some(other.dtype());
            } else {
                crate::creation::cpu_only(Some(value))?;
            }
            Ok(())
        };
        for a in args.iter() {
            check(&a)?;
        }
        if let Some(kw) = kwargs {
            for (key, value) in kw.iter() {
                let key: String = key.extract()?;
                match key.as_str() {
                    "dtype" | "device" => check(&value)?,
                    "non_blocking" | "copy" => {}
                    other => {
                        return Err(PyTypeError::new_err(format!(
                            "to() got an unexpected keyword argument '{other}'"
                        )));
                    }
                }
            }
        }
        convert(slf, dtype)
    }

    fn float(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        convert(slf, Some(DType::F32))
    }

    fn double(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        convert(slf, Some(DType::F64))
    }

    fn long(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        convert(slf, Some(DType::I64))
    }

    /// `type()` names the tensor type as PyTorch does ("torch.FloatTensor" becomes
    /// "nabla.FloatTensor"); `type(dtype)` converts.
    #[pyo3(signature = (dtype = None))]
    fn r#type(slf: &Bound<'_, Self>, dtype: Option<PyDType>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        match dtype {
            Some(d) => convert(slf, Some(d.0)),
            None => {
                let name = match slf.borrow().inner.dtype() {
                    DType::F32 => "nabla.FloatTensor",
                    DType::F64 => "nabla.DoubleTensor",
                    DType::I64 => "nabla.LongTensor",
                };
                Ok(name.into_pyobject(py)?.into_any().unbind())
            }
        }
    }

    fn cpu(slf: &Bound<'_, Self>) -> Py<PyAny> {
        slf.clone().into_any().unbind()
    }

    #[getter]
    fn device(&self) -> &'static str {
        "cpu"
    }

    #[getter]
    fn is_cuda(&self) -> bool {
        false
    }

    /// A copy sharing no memory, recorded for autograd (`torch.Tensor.clone`).
    fn clone(&self, py: Python<'_>) -> PyResult<Tensor> {
        let t = self.inner.clone();
        let out = crate::ops::heavy(py, t.numel(), move || match t.dtype() {
            DType::I64 => CoreTensor::try_from_vec(t.try_to_vec::<i64>()?, t.shape()),
            _ => t.try_mul_scalar(1.0),
        })
        .py()?;
        Ok(Tensor::from_core(crate::autograd::torch_named(
            out,
            "CloneBackward0",
        )))
    }

    /// A contiguous tensor with the same values (this one when already contiguous).
    fn contiguous(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let t = slf.borrow().inner.clone();
        if t.is_contiguous() {
            return Ok(slf.clone().into_any().unbind());
        }
        let out = t.try_contiguous().py()?;
        Ok(Bound::new(slf.py(), Tensor::from_core(out))?
            .into_any()
            .unbind())
    }

    /// Pickling (and `copy.deepcopy`) rebuilds a leaf with a copy of the values, the dtype and
    /// `requires_grad`, as PyTorch's.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let rebuild = py.import("nabla")?.getattr("_rebuild_tensor")?;
        let values = to_python(py, &self.inner)?;
        let dtype = crate::dtype::object(py, self.inner.dtype())?;
        let shape = PyTuple::new(py, self.inner.shape())?;
        let args = (values, shape, dtype, self.inner.requires_grad_flag()).into_pyobject(py)?;
        PyTuple::new(py, [rebuild.into_any(), args.into_any()])
    }

    fn data_ptr(&self) -> usize {
        self.inner.data_ptr() as usize
    }
}

/// `slf` converted to `dtype` (itself when the dtype already matches or none is given).
fn convert(slf: &Bound<'_, Tensor>, dtype: Option<DType>) -> PyResult<Py<PyAny>> {
    let t = slf.borrow().inner.clone();
    match dtype {
        Some(d) if d != t.dtype() => {
            let out = crate::ops::heavy(slf.py(), t.numel(), move || t.try_to_dtype(d)).py()?;
            Ok(Bound::new(slf.py(), Tensor::from_core(out))?
                .into_any()
                .unbind())
        }
        _ => Ok(slf.clone().into_any().unbind()),
    }
}

/// A shape as `nabla.Size`.
pub fn size_object<'py>(py: Python<'py>, dims: &[usize]) -> PyResult<Bound<'py, PyAny>> {
    let tuple = PyTuple::new(py, dims)?;
    let size = SIZE.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("nabla._size")?.getattr("Size")?.unbind())
    })?;
    size.bind(py).call1((tuple,))
}

static SIZE: pyo3::sync::PyOnceLock<Py<PyAny>> = pyo3::sync::PyOnceLock::new();

/// Adds the class to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Tensor>()
}
