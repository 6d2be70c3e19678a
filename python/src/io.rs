//! `nabla._C._io`: safetensors files with the API of `safetensors.torch` (`save_file`,
//! `load_file`, `save`, `load`; nabla-nn's checkpoint format, which PyTorch reads), and the
//! MNIST files the repository ships, read by nabla-nn's IDX reader.

use crate::errors::IntoPyResult;
use crate::tensor::Tensor;
use nabla_nn::checkpoint::{self, Metadata};
use nabla_nn::data::{Mnist, Normalization};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use std::path::PathBuf;

/// The tensors of a Python dict `{name: Tensor}`, in its order.
fn named(tensors: &Bound<'_, PyDict>) -> PyResult<Vec<(String, nabla_core::Tensor)>> {
    tensors
        .iter()
        .map(|(k, v)| {
            let name: String = k.extract()?;
            let t = crate::tensor::expect_core(&v, &format!("the value of {name:?}"))?;
            Ok((name, t))
        })
        .collect()
}

fn to_dict<'py>(
    py: Python<'py>,
    tensors: Vec<(String, nabla_core::Tensor)>,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (name, t) in tensors {
        dict.set_item(name, Tensor::from_core(t))?;
    }
    Ok(dict)
}

/// Writes `{name: Tensor}` to `filename` as safetensors (atomically: a failed save leaves the
/// previous file as it was), with optional string `metadata`.
#[pyfunction]
#[pyo3(signature = (tensors, filename, metadata = None))]
fn save_file(
    py: Python<'_>,
    tensors: &Bound<'_, PyDict>,
    filename: PathBuf,
    metadata: Option<Metadata>,
) -> PyResult<()> {
    let tensors = named(tensors)?;
    let metadata = metadata.unwrap_or_default();
    py.detach(|| checkpoint::save_safetensors(&filename, &tensors, &metadata))
        .py()
}

/// The tensors of a safetensors file, as a dict sorted by name.
#[pyfunction]
#[pyo3(signature = (filename, device = "cpu"))]
fn load_file<'py>(
    py: Python<'py>,
    filename: PathBuf,
    device: &str,
) -> PyResult<Bound<'py, PyDict>> {
    check_device(device)?;
    let (tensors, _) = py.detach(|| checkpoint::load_safetensors(&filename)).py()?;
    to_dict(py, tensors)
}

/// The metadata of a safetensors file (`safe_open(...).metadata()`).
#[pyfunction]
fn load_metadata(py: Python<'_>, filename: PathBuf) -> PyResult<Metadata> {
    let (_, metadata) = py.detach(|| checkpoint::load_safetensors(&filename)).py()?;
    Ok(metadata)
}

/// The safetensors bytes of `{name: Tensor}`.
#[pyfunction]
#[pyo3(signature = (tensors, metadata = None))]
fn save<'py>(
    py: Python<'py>,
    tensors: &Bound<'py, PyDict>,
    metadata: Option<Metadata>,
) -> PyResult<Bound<'py, PyBytes>> {
    let tensors = named(tensors)?;
    let mut names = std::collections::BTreeSet::new();
    if let Some((name, _)) = tensors.iter().find(|(n, _)| !names.insert(n.as_str())) {
        return Err(PyValueError::new_err(format!(
            "save: tensor name {name:?} appears twice"
        )));
    }
    let bytes = checkpoint::encode(&tensors, &metadata.unwrap_or_default());
    Ok(PyBytes::new(py, &bytes))
}

/// The tensors of safetensors bytes.
#[pyfunction]
fn load<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyDict>> {
    let (tensors, _) = checkpoint::parse_safetensors(data, "<bytes>").py()?;
    to_dict(py, tensors)
}

fn check_device(device: &str) -> PyResult<()> {
    if device == "cpu" {
        Ok(())
    } else {
        Err(PyValueError::new_err(format!(
            "nabla runs on the CPU only; device must be \"cpu\", got {device:?}"
        )))
    }
}

/// MNIST from `root` (the four IDX files, raw or `.gz`): `(x_train, t_train, x_test, t_test)`,
/// images as `[N, 784]` float32 rows (`normalize`: `"unit"` for 0..1, `"standard"` for the
/// `(x − 0.1307)/0.3081` of PyTorch's example, `"none"` for 0..255) and labels as int64.
#[pyfunction]
#[pyo3(signature = (root, normalize = "unit"))]
fn load_mnist(
    py: Python<'_>,
    root: PathBuf,
    normalize: &str,
) -> PyResult<(Tensor, Tensor, Tensor, Tensor)> {
    let normalization = match normalize {
        "unit" => Normalization::UnitRange,
        "standard" => Normalization::MNIST,
        "none" => Normalization::None,
        other => {
            return Err(PyValueError::new_err(format!(
                "load_mnist: normalize must be \"unit\", \"standard\" or \"none\", got {other:?}"
            )));
        }
    };
    let mnist = py.detach(|| Mnist::load(&root, normalization)).py()?;
    Ok((
        Tensor::from_core(mnist.train.features),
        Tensor::from_core(mnist.train.targets),
        Tensor::from_core(mnist.test.features),
        Tensor::from_core(mnist.test.targets),
    ))
}

/// Adds `nabla._C._io`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let sub = PyModule::new(m.py(), "_io")?;
    sub.add_function(wrap_pyfunction!(save_file, &sub)?)?;
    sub.add_function(wrap_pyfunction!(load_file, &sub)?)?;
    sub.add_function(wrap_pyfunction!(load_metadata, &sub)?)?;
    sub.add_function(wrap_pyfunction!(save, &sub)?)?;
    sub.add_function(wrap_pyfunction!(load, &sub)?)?;
    sub.add_function(wrap_pyfunction!(load_mnist, &sub)?)?;
    m.add_submodule(&sub)
}
