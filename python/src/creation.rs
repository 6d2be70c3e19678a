//! Tensors from Python data and PyTorch's factory functions: `tensor`, `from_numpy`, `zeros`,
//! `ones`, `full`, `arange`, `linspace`, `eye`, `rand`, `randn`, `manual_seed`, and the `_like`
//! forms.

use crate::dtype::PyDType;
use crate::errors::IntoPyResult;
use crate::generator::with_generator;
use crate::tensor::{Tensor, as_core, type_name};
use nabla_core::{DType, Tensor as CoreTensor};
use numpy::{
    PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyFloat, PyInt, PySequence, PyString, PyTuple};

/// Deeper nesting is refused (a list that contains itself would never end).
const MAX_DIMS: usize = 64;

/// Nested sequences flattened: the shape, the values and whether any was a float.
struct Flat {
    shape: Vec<usize>,
    values: Vec<f64>,
    any_float: bool,
}

fn flatten(value: &Bound<'_, PyAny>, depth: usize, flat: &mut Flat) -> PyResult<()> {
    if let Ok(f) = value.cast::<PyFloat>() {
        return leaf(f.value(), true, depth, flat);
    }
    if value.is_instance_of::<PyBool>() || value.is_instance_of::<PyInt>() {
        let v: i64 = value.extract()?;
        return leaf(v as f64, false, depth, flat);
    }
    if let Some(t) = as_core(value)
        && t.numel() == 1
        && t.ndim() == 0
    {
        let v = t.try_to_f64_vec().py()?[0];
        return leaf(v, t.dtype().is_float(), depth, flat);
    }
    if !value.hasattr("__len__")? {
        // NumPy scalars and other numbers.
        if let Ok(i) = value
            .call_method0("__index__")
            .and_then(|i| i.extract::<i64>())
        {
            return leaf(i as f64, false, depth, flat);
        }
        if let Ok(f) = value.extract::<f64>() {
            return leaf(f, true, depth, flat);
        }
    }
    let not_sequence = value.is_instance_of::<PyString>() || value.is_instance_of::<PyBytes>();
    let seq = value
        .cast::<PySequence>()
        .ok()
        .filter(|_| !not_sequence)
        .ok_or_else(|| {
            PyTypeError::new_err(format!(
                "tensor(): could not infer dtype of {}",
                type_name(value)
            ))
        })?;
    let len = seq.len()?;
    if depth >= MAX_DIMS {
        return Err(PyValueError::new_err(format!(
            "tensor(): too many dimensions (more than {MAX_DIMS} levels of nesting)"
        )));
    }
    if depth == flat.shape.len() {
        if !flat.values.is_empty() {
            return Err(PyValueError::new_err(
                "expected sequence of numbers at the same depth, got a nested sequence",
            ));
        }
        flat.shape.push(len);
    } else if flat.shape[depth] != len {
        return Err(PyValueError::new_err(format!(
            "expected sequence of length {} at dim {depth} (got {len})",
            flat.shape[depth]
        )));
    }
    for item in seq.try_iter()? {
        flatten(&item?, depth + 1, flat)?;
    }
    Ok(())
}

fn leaf(v: f64, is_float: bool, depth: usize, flat: &mut Flat) -> PyResult<()> {
    if depth != flat.shape.len() {
        return Err(PyValueError::new_err(format!(
            "expected a sequence at dim {depth}, got a number"
        )));
    }
    flat.any_float |= is_float;
    flat.values.push(v);
    Ok(())
}

/// A copy of NumPy's array in the matching dtype (float16/32 become float32, integers int64).
fn from_ndarray(array: &Bound<'_, PyUntypedArray>, dtype: Option<DType>) -> PyResult<CoreTensor> {
    let shape = array.shape().to_vec();
    let kind = array.dtype().kind();
    let native = if let Ok(a) = array.cast::<PyArrayDyn<f32>>() {
        CoreTensor::try_from_vec(
            a.to_vec()
                .unwrap_or_else(|_| a.to_owned_array().into_iter().collect()),
            &shape,
        )
    } else if let Ok(a) = array.cast::<PyArrayDyn<f64>>() {
        CoreTensor::try_from_vec(a.to_owned_array().into_iter().collect(), &shape)
    } else if let Ok(a) = array.cast::<PyArrayDyn<i64>>() {
        CoreTensor::try_from_vec(a.to_owned_array().into_iter().collect(), &shape)
    } else if matches!(kind, b'i' | b'u' | b'b') {
        let converted = array.call_method1("astype", ("int64",))?;
        return from_ndarray(converted.cast::<PyUntypedArray>()?, dtype);
    } else if kind == b'f' {
        let converted = array.call_method1("astype", ("float32",))?;
        return from_ndarray(converted.cast::<PyUntypedArray>()?, dtype);
    } else {
        return Err(PyTypeError::new_err(format!(
            "can't convert np.ndarray of type {}. The only supported types are: float64, \
             float32, float16, int64, int32, int16, int8, uint8, and bool.",
            array.dtype()
        )));
    }
    .py()?;
    match dtype {
        Some(d) => native.try_to_dtype(d).py(),
        None => Ok(native),
    }
}

/// A new tensor from nested lists, numbers, a NumPy array or a tensor, in `dtype` (default:
/// float32 when any value is a float, else int64).
pub fn from_data(data: &Bound<'_, PyAny>, dtype: Option<DType>) -> PyResult<CoreTensor> {
    if let Ok(array) = data.cast::<PyUntypedArray>() {
        return from_ndarray(array, dtype);
    }
    if let Some(t) = as_core(data) {
        let copy = t.detach().try_to_f64_vec().py()?;
        let out = CoreTensor::try_from_vec(copy, t.shape()).py()?;
        return out.try_to_dtype(dtype.unwrap_or(t.dtype())).py();
    }
    let mut flat = Flat {
        shape: Vec::new(),
        values: Vec::new(),
        any_float: false,
    };
    flatten(data, 0, &mut flat)?;
    let dtype = dtype.unwrap_or(if flat.any_float || flat.values.is_empty() {
        DType::F32
    } else {
        DType::I64
    });
    let values = flat.values;
    match dtype {
        DType::F32 => {
            CoreTensor::try_from_vec(values.iter().map(|&v| v as f32).collect(), &flat.shape)
        }
        DType::F64 => CoreTensor::try_from_vec(values, &flat.shape),
        DType::I64 => {
            CoreTensor::try_from_vec(values.iter().map(|&v| v as i64).collect(), &flat.shape)
        }
    }
    .py()
}

/// Refuses a device other than the CPU (`device="cpu"` and `None` are accepted), as
/// PyTorch refuses a device it was not built for.
pub fn cpu_only(device: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    match device {
        Some(d) if !d.is_none() => {
            let name = d.str()?.to_string();
            if name == "cpu" {
                Ok(())
            } else {
                Err(PyRuntimeError::new_err(format!(
                    "nabla runs on the CPU only; cannot put a tensor on {name:?}"
                )))
            }
        }
        _ => Ok(()),
    }
}

/// Marks `t` as requiring grad when asked.
fn finish(t: CoreTensor, requires_grad: bool) -> PyResult<Tensor> {
    if requires_grad {
        crate::autograd::set_flag(&t, true)?;
    }
    Ok(Tensor::from_core(t))
}

/// `nabla.tensor(data, dtype=None, requires_grad=False)`, as `torch.tensor`.
#[pyfunction]
#[pyo3(signature = (data, *, dtype = None, device = None, requires_grad = false))]
fn tensor(
    data: &Bound<'_, PyAny>,
    dtype: Option<PyDType>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Tensor> {
    cpu_only(device)?;
    finish(from_data(data, dtype.map(|d| d.0))?, requires_grad)
}

/// A shape given as `f(2, 3)`, `f((2, 3))` or `f([2, 3])`.
fn shape_of(args: &Bound<'_, PyTuple>) -> PyResult<Vec<usize>> {
    let dims = if args.len() == 1 && args.get_item(0)?.cast::<PySequence>().is_ok() {
        args.get_item(0)?.extract::<Vec<i64>>()?
    } else {
        args.extract::<Vec<i64>>()?
    };
    dims.into_iter()
        .map(|d| {
            usize::try_from(d).map_err(|_| {
                PyRuntimeError::new_err(format!(
                    "Trying to create tensor with negative dimension {d}"
                ))
            })
        })
        .collect()
}

fn dtype_or(dtype: Option<PyDType>) -> DType {
    dtype.map(|d| d.0).unwrap_or(DType::F32)
}

#[pyfunction]
#[pyo3(signature = (*size, dtype = None, device = None, requires_grad = false))]
fn zeros(
    size: &Bound<'_, PyTuple>,
    dtype: Option<PyDType>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Tensor> {
    cpu_only(device)?;
    finish(
        CoreTensor::try_zeros(&shape_of(size)?, dtype_or(dtype)).py()?,
        requires_grad,
    )
}

#[pyfunction]
#[pyo3(signature = (*size, dtype = None, device = None, requires_grad = false))]
fn ones(
    size: &Bound<'_, PyTuple>,
    dtype: Option<PyDType>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Tensor> {
    cpu_only(device)?;
    finish(
        CoreTensor::try_ones(&shape_of(size)?, dtype_or(dtype)).py()?,
        requires_grad,
    )
}

#[pyfunction]
#[pyo3(signature = (size, fill_value, *, dtype = None, device = None, requires_grad = false))]
fn full(
    size: &Bound<'_, PyAny>,
    fill_value: &Bound<'_, PyAny>,
    dtype: Option<PyDType>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Tensor> {
    cpu_only(device)?;
    let shape = shape_of(&PyTuple::new(size.py(), [size])?)?;
    let is_int = fill_value.is_instance_of::<PyInt>() || fill_value.is_instance_of::<PyBool>();
    let default = if is_int { DType::I64 } else { DType::F32 };
    let value: f64 = fill_value.extract()?;
    finish(
        CoreTensor::try_full(&shape, value, dtype.map(|d| d.0).unwrap_or(default)).py()?,
        requires_grad,
    )
}

/// `arange(end)`, `arange(start, end)`, `arange(start, end, step)`: int64 when every bound is
/// an integer, else float32.
#[pyfunction]
#[pyo3(signature = (start, end = None, step = None, *, dtype = None, device = None, requires_grad = false))]
fn arange(
    start: &Bound<'_, PyAny>,
    end: Option<&Bound<'_, PyAny>>,
    step: Option<&Bound<'_, PyAny>>,
    dtype: Option<PyDType>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Tensor> {
    cpu_only(device)?;
    let (start, end) = match end {
        Some(e) => (Some(start), e),
        None => (None, start),
    };
    let bounds = [start, Some(end), step];
    let all_int = bounds.iter().flatten().all(|b| b.is_instance_of::<PyInt>());
    let value = |b: Option<&Bound<'_, PyAny>>, default: f64| -> PyResult<f64> {
        b.map_or(Ok(default), |b| b.extract())
    };
    let (s, e, st) = (
        value(start, 0.0)?,
        value(Some(end), 0.0)?,
        value(step, 1.0)?,
    );
    let dtype = dtype
        .map(|d| d.0)
        .unwrap_or(if all_int { DType::I64 } else { DType::F32 });
    let t = match dtype {
        DType::I64 if all_int => CoreTensor::try_arange::<i64>(s as i64, e as i64, st as i64),
        DType::F32 => CoreTensor::try_arange::<f32>(s as f32, e as f32, st as f32),
        _ => CoreTensor::try_arange::<f64>(s, e, st).and_then(|t| t.try_to_dtype(dtype)),
    }
    .py()?;
    finish(t, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (start, end, steps, *, dtype = None, device = None, requires_grad = false))]
fn linspace(
    start: f64,
    end: f64,
    steps: i64,
    dtype: Option<PyDType>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Tensor> {
    cpu_only(device)?;
    let steps = usize::try_from(steps)
        .map_err(|_| PyRuntimeError::new_err("linspace(): number of steps must be non-negative"))?;
    finish(
        CoreTensor::try_linspace(start, end, steps, dtype_or(dtype)).py()?,
        requires_grad,
    )
}

#[pyfunction]
#[pyo3(signature = (n, m = None, *, dtype = None, device = None, requires_grad = false))]
fn eye(
    n: i64,
    m: Option<i64>,
    dtype: Option<PyDType>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Tensor> {
    cpu_only(device)?;
    let n = usize::try_from(n).map_err(|_| {
        PyRuntimeError::new_err(format!("n must be greater or equal to 0, got {n}"))
    })?;
    let t = CoreTensor::try_eye(n, dtype_or(dtype)).py()?;
    let t = match m {
        Some(m) if m as usize != n => {
            let m = usize::try_from(m).map_err(|_| {
                PyRuntimeError::new_err(format!("m must be greater or equal to 0, got {m}"))
            })?;
            let wide = CoreTensor::try_eye(n.max(m), dtype_or(dtype)).py()?;
            wide.try_narrow(0, 0, n)
                .and_then(|w| w.try_narrow(1, 0, m))
                .and_then(|w| w.try_contiguous())
                .py()?
        }
        _ => t,
    };
    finish(t, requires_grad)
}

/// Uniform samples in [0, 1) from `generator` or the global generator (`manual_seed`).
#[pyfunction]
#[pyo3(signature = (*size, dtype = None, device = None, requires_grad = false, generator = None))]
fn rand(
    size: &Bound<'_, PyTuple>,
    dtype: Option<PyDType>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
    generator: Option<&Bound<'_, PyAny>>,
) -> PyResult<Tensor> {
    cpu_only(device)?;
    let shape = shape_of(size)?;
    let t = with_generator(generator, |g| {
        CoreTensor::try_rand_with(&shape, dtype_or(dtype), g)
    })?;
    finish(t.py()?, requires_grad)
}

/// Standard normal samples from `generator` or the global generator (`manual_seed`).
#[pyfunction]
#[pyo3(signature = (*size, dtype = None, device = None, requires_grad = false, generator = None))]
fn randn(
    size: &Bound<'_, PyTuple>,
    dtype: Option<PyDType>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
    generator: Option<&Bound<'_, PyAny>>,
) -> PyResult<Tensor> {
    cpu_only(device)?;
    let shape = shape_of(size)?;
    let t = with_generator(generator, |g| {
        CoreTensor::try_randn_with(&shape, dtype_or(dtype), g)
    })?;
    finish(t.py()?, requires_grad)
}

/// Seeds the global generator behind `rand`, `randn` and the layers' initialisation.
#[pyfunction]
fn manual_seed(seed: u64) {
    nabla_core::manual_seed(seed);
}

/// A tensor sharing the array's memory, as `torch.from_numpy`: writes through either show in
/// the other, and the tensor keeps the array alive. That needs a C-contiguous, aligned,
/// writeable float32, float64 or int64 array in the machine's byte order; any other array is
/// copied (in the matching dtype, as `tensor` does).
#[pyfunction]
fn from_numpy(array: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    let array = array.cast::<PyUntypedArray>().map_err(|_| {
        PyTypeError::new_err(format!("expected np.ndarray (got {})", type_name(array)))
    })?;
    let shared = if let Ok(a) = array.cast::<PyArrayDyn<f32>>() {
        shared(a)?
    } else if let Ok(a) = array.cast::<PyArrayDyn<f64>>() {
        shared(a)?
    } else if let Ok(a) = array.cast::<PyArrayDyn<i64>>() {
        shared(a)?
    } else {
        None
    };
    match shared {
        Some(t) => Ok(Tensor::from_core(t)),
        None => Ok(Tensor::from_core(from_ndarray(array, None)?)),
    }
}

/// A tensor over `array`'s memory when its layout allows one, else `None`.
fn shared<T: nabla_core::Element + numpy::Element>(
    array: &Bound<'_, PyArrayDyn<T>>,
) -> PyResult<Option<CoreTensor>> {
    // SAFETY: `array` is a live NumPy array, whose object holds its flags.
    let flags = unsafe { (*array.as_array_ptr()).fields.flags };
    let writeable = flags & numpy::npyffi::flags::NPY_ARRAY_WRITEABLE != 0;
    if !(array.is_c_contiguous() && array.is_aligned() && writeable) {
        return Ok(None);
    }
    let Some(ptr) = std::ptr::NonNull::new(array.data()) else {
        return Ok(None);
    };
    let owner: Py<PyAny> = array.clone().into_any().unbind();
    // SAFETY: a C-contiguous, aligned, writeable array holds its shape's elements of type `T`
    // from `data()` on, and they stay valid while the array object lives, which `owner` keeps
    // alive (a `Py` dropped without the interpreter is released once it is next held).
    unsafe { CoreTensor::try_from_foreign(ptr, array.shape(), Box::new(owner)) }
        .py()
        .map(Some)
}

fn like(input: &Bound<'_, PyAny>, dtype: Option<PyDType>) -> PyResult<(Vec<usize>, DType)> {
    let t = crate::tensor::expect_core(input, "input")?;
    Ok((t.shape().to_vec(), dtype.map(|d| d.0).unwrap_or(t.dtype())))
}

#[pyfunction]
#[pyo3(signature = (input, *, dtype = None, requires_grad = false))]
fn zeros_like(
    input: &Bound<'_, PyAny>,
    dtype: Option<PyDType>,
    requires_grad: bool,
) -> PyResult<Tensor> {
    let (shape, dtype) = like(input, dtype)?;
    finish(CoreTensor::try_zeros(&shape, dtype).py()?, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (input, *, dtype = None, requires_grad = false))]
fn ones_like(
    input: &Bound<'_, PyAny>,
    dtype: Option<PyDType>,
    requires_grad: bool,
) -> PyResult<Tensor> {
    let (shape, dtype) = like(input, dtype)?;
    finish(CoreTensor::try_ones(&shape, dtype).py()?, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (input, fill_value, *, dtype = None, requires_grad = false))]
fn full_like(
    input: &Bound<'_, PyAny>,
    fill_value: f64,
    dtype: Option<PyDType>,
    requires_grad: bool,
) -> PyResult<Tensor> {
    let (shape, dtype) = like(input, dtype)?;
    finish(
        CoreTensor::try_full(&shape, fill_value, dtype).py()?,
        requires_grad,
    )
}

#[pyfunction]
#[pyo3(signature = (input, *, dtype = None, requires_grad = false))]
fn rand_like(
    input: &Bound<'_, PyAny>,
    dtype: Option<PyDType>,
    requires_grad: bool,
) -> PyResult<Tensor> {
    let (shape, dtype) = like(input, dtype)?;
    finish(CoreTensor::try_rand(&shape, dtype).py()?, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (input, *, dtype = None, requires_grad = false))]
fn randn_like(
    input: &Bound<'_, PyAny>,
    dtype: Option<PyDType>,
    requires_grad: bool,
) -> PyResult<Tensor> {
    let (shape, dtype) = like(input, dtype)?;
    finish(CoreTensor::try_randn(&shape, dtype).py()?, requires_grad)
}

fn tensor_list(tensors: &Bound<'_, PyAny>) -> PyResult<Vec<CoreTensor>> {
    let list = tensors
        .try_iter()?
        .map(|t| crate::tensor::expect_core(&t?, "each element of tensors"))
        .collect::<PyResult<Vec<_>>>()?;
    let dtype = list.iter().map(|t| t.dtype()).reduce(crate::ops::promote);
    match dtype {
        Some(d) => list
            .iter()
            .map(|t| t.try_to_dtype(d))
            .collect::<nabla_core::Result<Vec<_>>>()
            .py(),
        None => Ok(list),
    }
}

/// Joins tensors along an existing dimension.
#[pyfunction]
#[pyo3(signature = (tensors, dim = 0))]
fn cat(py: Python<'_>, tensors: &Bound<'_, PyAny>, dim: isize) -> PyResult<Tensor> {
    let list = tensor_list(tensors)?;
    let refs: Vec<&CoreTensor> = list.iter().collect();
    let work = list.iter().map(CoreTensor::numel).sum();
    crate::ops::heavy(py, work, || CoreTensor::try_cat(&refs, dim))
        .py()
        .map(Tensor::from_core)
}

/// Joins tensors of one shape along a new dimension.
#[pyfunction]
#[pyo3(signature = (tensors, dim = 0))]
fn stack(py: Python<'_>, tensors: &Bound<'_, PyAny>, dim: isize) -> PyResult<Tensor> {
    let list = tensor_list(tensors)?;
    let refs: Vec<&CoreTensor> = list.iter().collect();
    let work = list.iter().map(CoreTensor::numel).sum();
    crate::ops::heavy(py, work, || CoreTensor::try_stack(&refs, dim))
        .py()
        .map(|t| Tensor::from_core(crate::autograd::torch_named(t, "StackBackward0")))
}

/// Sets how many threads the kernels use (PyTorch's `set_num_threads`). The thread team
/// starts once: call it before the first large operation; a later call with another count is a
/// `RuntimeError` naming the count in force.
#[pyfunction]
fn set_num_threads(threads: i64) -> PyResult<()> {
    let count = usize::try_from(threads).map_err(|_| {
        PyValueError::new_err(format!(
            "set_num_threads: the thread count must be from 1 to {}, got {threads}",
            nabla_core::parallel::MAX_THREADS
        ))
    })?;
    if count == 0 || count > nabla_core::parallel::MAX_THREADS {
        return nabla_core::set_num_threads(count)
            .map_err(|e| PyValueError::new_err(e.to_string()));
    }
    nabla_core::set_num_threads(count).map_err(|e| {
        PyRuntimeError::new_err(format!(
            "{e}; call nabla.set_num_threads before the first large operation"
        ))
    })
}

#[pyfunction]
fn get_num_threads() -> usize {
    nabla_core::num_threads()
}

/// Adds the functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(tensor, m)?)?;
    m.add_function(wrap_pyfunction!(zeros, m)?)?;
    m.add_function(wrap_pyfunction!(ones, m)?)?;
    m.add_function(wrap_pyfunction!(full, m)?)?;
    m.add_function(wrap_pyfunction!(arange, m)?)?;
    m.add_function(wrap_pyfunction!(linspace, m)?)?;
    m.add_function(wrap_pyfunction!(eye, m)?)?;
    m.add_function(wrap_pyfunction!(rand, m)?)?;
    m.add_function(wrap_pyfunction!(randn, m)?)?;
    m.add_function(wrap_pyfunction!(manual_seed, m)?)?;
    m.add_function(wrap_pyfunction!(from_numpy, m)?)?;
    m.add_function(wrap_pyfunction!(zeros_like, m)?)?;
    m.add_function(wrap_pyfunction!(ones_like, m)?)?;
    m.add_function(wrap_pyfunction!(full_like, m)?)?;
    m.add_function(wrap_pyfunction!(rand_like, m)?)?;
    m.add_function(wrap_pyfunction!(randn_like, m)?)?;
    m.add_function(wrap_pyfunction!(cat, m)?)?;
    m.add_function(wrap_pyfunction!(stack, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    Ok(())
}
