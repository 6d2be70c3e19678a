//! `nabla._C`: the native module behind the `nabla` Python package. Each file registers its
//! own classes and functions; the package in `python/nabla/` re-exports them under PyTorch's
//! names.

mod autograd;
mod creation;
mod dtype;
pub mod errors;
mod functional;
mod generator;
mod index;
mod inplace;
mod io;
mod lid;
mod methods;
mod ops;
mod optim;
pub mod tensor;

use pyo3::prelude::*;

#[pymodule(name = "_C")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    dtype::register(m)?;
    tensor::register(m)?;
    creation::register(m)?;
    generator::register(m)?;
    autograd::register(m)?;
    functional::register(m)?;
    optim::register(m)?;
    io::register(m)?;
    lid::register(m)?;
    Ok(())
}
