//! `nabla.Generator`: a random stream of its own, as `torch.Generator`, for the `generator=`
//! arguments of `rand`, `randn`, `nn.init` and the data loaders; without one they draw from the
//! global generator (`nabla.manual_seed`).

use crate::tensor::type_name;
use nabla_core::Generator as CoreGenerator;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use std::sync::Mutex;

/// A random number generator: `Generator().manual_seed(0)`.
#[pyclass(name = "Generator", module = "nabla", frozen)]
pub struct Generator {
    stream: Mutex<CoreGenerator>,
    seed: Mutex<u64>,
}

/// PyTorch's default seed of a fresh generator.
const DEFAULT_SEED: u64 = 67_280_421_310_721;

#[pymethods]
impl Generator {
    #[new]
    #[pyo3(signature = (device = None))]
    fn new(device: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        if let Some(d) = device.filter(|d| !d.is_none()) {
            let text = d.str()?.to_string();
            if text != "cpu" {
                return Err(PyValueError::new_err(format!(
                    "Generator: only the cpu device is supported, got {text}"
                )));
            }
        }
        Ok(Generator {
            stream: Mutex::new(CoreGenerator::new(DEFAULT_SEED)),
            seed: Mutex::new(DEFAULT_SEED),
        })
    }

    /// Restarts the stream from `seed` (a negative seed counts from 2⁶⁴, as PyTorch's);
    /// returns the generator.
    fn manual_seed(slf: Bound<'_, Self>, seed: i128) -> PyResult<Bound<'_, Self>> {
        if !(-(1i128 << 63)..(1i128 << 64)).contains(&seed) {
            return Err(PyValueError::new_err(format!(
                "Generator.manual_seed: the seed must be from -2**63 to 2**64 - 1, got {seed}"
            )));
        }
        let seed = seed.rem_euclid(1 << 64) as u64;
        {
            let g = slf.get();
            *g.stream.lock().unwrap_or_else(|p| p.into_inner()) = CoreGenerator::new(seed);
            *g.seed.lock().unwrap_or_else(|p| p.into_inner()) = seed;
        }
        Ok(slf)
    }

    /// The seed the stream last started from.
    fn initial_seed(&self) -> u64 {
        *self.seed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Restarts the stream from a seed drawn from the global generator, and returns it.
    fn seed(&self) -> u64 {
        let seed = nabla_core::random::with_global_generator(|g| g.next_seed());
        *self.stream.lock().unwrap_or_else(|p| p.into_inner()) = CoreGenerator::new(seed);
        *self.seed.lock().unwrap_or_else(|p| p.into_inner()) = seed;
        seed
    }

    /// The stream's state, for `set_state`.
    fn get_state(&self) -> Vec<u64> {
        self.stream
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .state()
            .to_vec()
    }

    /// Continues the stream from a state `get_state` gave.
    fn set_state(&self, state: Vec<u64>) -> PyResult<()> {
        let state: [u64; 4] = state.try_into().map_err(|s: Vec<u64>| {
            PyValueError::new_err(format!(
                "Generator.set_state: a state is 4 integers, got {}",
                s.len()
            ))
        })?;
        let stream = CoreGenerator::from_state(state).map_err(|_| {
            PyValueError::new_err(
                "Generator.set_state: the state is all zeros, which xoshiro256++ never reaches",
            )
        })?;
        *self.stream.lock().unwrap_or_else(|p| p.into_inner()) = stream;
        Ok(())
    }

    #[getter]
    fn device(&self) -> &'static str {
        "cpu"
    }
}

/// Runs `f` with `generator` (a `nabla.Generator`) or, when it is `None`, the global one.
pub fn with_generator<R>(
    generator: Option<&Bound<'_, PyAny>>,
    f: impl FnOnce(&mut CoreGenerator) -> R,
) -> PyResult<R> {
    match generator.filter(|g| !g.is_none()) {
        None => Ok(nabla_core::random::with_global_generator(f)),
        Some(g) => {
            let g = g.cast::<Generator>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "generator must be a nabla.Generator, not {}",
                    type_name(g)
                ))
            })?;
            let mut stream = g.get().stream.lock().unwrap_or_else(|p| p.into_inner());
            Ok(f(&mut stream))
        }
    }
}

/// Adds `Generator`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Generator>()
}
