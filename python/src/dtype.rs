//! `nabla.float32`, `nabla.float64` and `nabla.int64`: PyTorch's dtype objects.

use nabla_core::DType;
use pyo3::prelude::*;

/// A tensor's element type, as `torch.dtype`.
#[pyclass(name = "dtype", module = "nabla", frozen, eq, hash, from_py_object)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PyDType(pub DType);

#[pymethods]
impl PyDType {
    fn __repr__(&self) -> &'static str {
        match self.0 {
            DType::F32 => "nabla.float32",
            DType::F64 => "nabla.float64",
            DType::I64 => "nabla.int64",
        }
    }

    /// Whether the type holds floating-point numbers.
    #[getter]
    fn is_floating_point(&self) -> bool {
        self.0.is_float()
    }

    /// Bytes per element.
    #[getter]
    fn itemsize(&self) -> usize {
        self.0.size_in_bytes()
    }

    /// Pickled by name: `nabla.float32` unpickles as the module's own object.
    fn __reduce__(&self) -> &'static str {
        name(self.0)
    }
}

/// The attribute name of a dtype in the `nabla` module.
pub fn name(dtype: DType) -> &'static str {
    match dtype {
        DType::F32 => "float32",
        DType::F64 => "float64",
        DType::I64 => "int64",
    }
}

/// The one object of each dtype, so `t.dtype is nabla.float32` holds (and pickling by name
/// finds the same object), as in PyTorch.
static OBJECTS: pyo3::sync::PyOnceLock<[Py<PyDType>; 3]> = pyo3::sync::PyOnceLock::new();

fn objects(py: Python<'_>) -> PyResult<&[Py<PyDType>; 3]> {
    OBJECTS.get_or_try_init(py, || {
        Ok([
            Py::new(py, PyDType(DType::F32))?,
            Py::new(py, PyDType(DType::F64))?,
            Py::new(py, PyDType(DType::I64))?,
        ])
    })
}

/// The module's object for `dtype`.
pub fn object(py: Python<'_>, dtype: DType) -> PyResult<Py<PyDType>> {
    let [f32, f64, i64] = objects(py)?;
    Ok(match dtype {
        DType::F32 => f32.clone_ref(py),
        DType::F64 => f64.clone_ref(py),
        DType::I64 => i64.clone_ref(py),
    })
}

/// Adds the dtype objects and PyTorch's aliases (`float`, `double`, `long`) to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDType>()?;
    for (alias, dtype) in [
        ("float32", DType::F32),
        ("float", DType::F32),
        ("float64", DType::F64),
        ("double", DType::F64),
        ("int64", DType::I64),
        ("long", DType::I64),
    ] {
        m.add(alias, object(m.py(), dtype)?)?;
    }
    Ok(())
}
