//! One conversion from nabla's Rust errors to Python exceptions, with the message unchanged and
//! the class PyTorch raises for the same mistake: `IndexError` for a dimension or index out of
//! range, `ValueError` for a bad argument value or a malformed file or expression, `OSError` (and
//! its subclasses) for a file that cannot be read, and `RuntimeError` for the rest (shapes that
//! do not broadcast, dtypes that differ, a graph freed by an earlier backward).

use pyo3::exceptions::{PyIndexError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// The Python exception for a tensor error.
pub fn core_error(err: nabla_core::Error) -> PyErr {
    use nabla_core::Error as E;
    let message = err.to_string();
    match err {
        E::DimOutOfRange { .. } | E::IndexOutOfRange { .. } => PyIndexError::new_err(message),
        _ => PyRuntimeError::new_err(message),
    }
}

/// The Python exception for an error of the training library.
pub fn nn_error(err: nabla_nn::Error) -> PyErr {
    use nabla_nn::Error as E;
    match err {
        E::Core(inner) => core_error(inner),
        E::Io { path, source } => {
            let message = format!("{}: {source}", path.display());
            PyErr::from(std::io::Error::new(source.kind(), message))
        }
        E::Format { .. } | E::Invalid { .. } => PyValueError::new_err(err.to_string()),
        other => PyRuntimeError::new_err(other.to_string()),
    }
}

/// The Python exception for an error of the graph and expression tools.
pub fn inspect_error(err: nabla_inspect::Error) -> PyErr {
    use nabla_inspect::Error as E;
    match err {
        E::Core(inner) => core_error(inner),
        E::NotScalar { .. } | E::NoBackward => PyRuntimeError::new_err(err.to_string()),
        other => PyValueError::new_err(other.to_string()),
    }
}

/// `result.py()?` turns any of nabla's results into a Python one.
pub trait IntoPyResult<T> {
    /// The value, or the Python exception for the error.
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for nabla_core::Result<T> {
    #[inline]
    fn py(self) -> PyResult<T> {
        self.map_err(core_error)
    }
}

impl<T> IntoPyResult<T> for nabla_nn::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(nn_error)
    }
}

impl<T> IntoPyResult<T> for Result<T, nabla_inspect::Error> {
    fn py(self) -> PyResult<T> {
        self.map_err(inspect_error)
    }
}
