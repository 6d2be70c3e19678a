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

    fn __reduce__(&self) -> (&'static str,) {
        (name(self.0),)
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
        m.add(alias, PyDType(dtype))?;
    }
    Ok(())
}
