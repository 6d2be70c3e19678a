//! Tensors from Python data and PyTorch's factory functions: `tensor`, `from_numpy`, `zeros`,
//! `ones`, `full`, `arange`, `linspace`, `eye`, `rand`, `randn`, `manual_seed`, and the `_like`
//! forms.

use crate::dtype::PyDType;
use crate::errors::IntoPyResult;
use crate::tensor::{Tensor, as_core, type_name};
use nabla_core::{DType, Tensor as CoreTensor};
use numpy::{PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PySequence, PyTuple};

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
    if let Some(t) = as_core(value) {
        if t.numel() == 1 && t.ndim() == 0 {
            let v = t.try_to_f64_vec().py()?[0];
            return leaf(v, t.dtype().is_float(), depth, flat);
        }
    }
    let seq = value.cast::<PySequence>().map_err(|_| {
        PyTypeError::new_err(format!(
            "tensor(): could not infer dtype of {}",
            type_name(value)
        ))
    })?;
    let len = seq.len()?;
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
        CoreTensor::try_from_vec(a.to_vec().unwrap_or_else(|_| a.to_owned_array().into_iter().collect()), &shape)
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
        DType::F32 => CoreTensor::try_from_vec(values.iter().map(|&v| v as f32).collect(), &flat.shape),
        DType::F64 => CoreTensor::try_from_vec(values, &flat.shape),
        DType::I64 => CoreTensor::try_from_vec(values.iter().map(|&v| v as i64).collect(), &flat.shape),
    }
    .py()
}

/// Marks `t` as requiring grad when asked.
fn finish(t: CoreTensor, requires_grad: bool) -> PyResult<Tensor> {
    if requires_grad {
        t.try_set_requires_grad(true).py()?;
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
    let _ = device;
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

use pyo3::exceptions::PyRuntimeError;

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
    let _ = device;
    finish(CoreTensor::try_zeros(&shape_of(size)?, dtype_or(dtype)).py()?, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (*size, dtype = None, device = None, requires_grad = false))]
fn ones(
    size: &Bound<'_, PyTuple>,
    dtype: Option<PyDType>,
    device: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Tensor> {
    let _ = device;
    finish(CoreTensor::try_ones(&shape_of(size)?, dtype_or(dtype)).py()?, requires_grad)
}

/// Adds the functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(tensor, m)?)?;
    m.add_function(wrap_pyfunction!(zeros, m)?)?;
    m.add_function(wrap_pyfunction!(ones, m)?)?;
    Ok(())
}
