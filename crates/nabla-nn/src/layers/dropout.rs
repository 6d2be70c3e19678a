//! Inverted dropout: in training, zero each unit with probability `p` and scale the survivors
//! by `1/(1−p)` so the expected activation is unchanged; in evaluation, the identity.

use crate::module::{Module, invalid_input};
use crate::{Error, Result};
use nabla_core::{Generator, Tensor};
use std::sync::Mutex;

/// The name of the mask generator in [`Module::local_generators`].
const GENERATOR: &str = "generator";

/// Inverted dropout with its own seeded generator, so a run is reproducible.
///
/// ```
/// use nabla_core::{DType, Tensor};
/// use nabla_nn::{layers::Dropout, module::Module};
/// let mut drop = Dropout::new(0.5, 7);
/// let y = drop.forward(&Tensor::ones(&[1000], DType::F64));
/// assert!(y.to_vec::<f64>().iter().all(|&v| v == 0.0 || v == 2.0));
/// drop.set_training(false);
/// assert_eq!(drop.forward(&Tensor::ones(&[3], DType::F64)).to_vec::<f64>(), [1.0; 3]);
/// ```
pub struct Dropout {
    p: f64,
    training: bool,
    // forward takes &self, yet every call advances the stream.
    rng: Mutex<Generator>,
}

impl Dropout {
    /// Dropout with probability `p` in `[0, 1]`, its masks drawn from a generator seeded with `seed`.
    pub fn try_new(p: f64, seed: u64) -> Result<Self> {
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::invalid(
                "Dropout",
                format!("the probability must be in [0, 1], got {p}"),
            ));
        }
        Ok(Dropout {
            p,
            training: true,
            rng: Mutex::new(Generator::new(seed)),
        })
    }

    /// Panicking form of [`Dropout::try_new`].
    #[track_caller]
    pub fn new(p: f64, seed: u64) -> Self {
        Self::try_new(p, seed).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The drop probability.
    pub fn p(&self) -> f64 {
        self.p
    }
}

impl Module for Dropout {
    fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        if !x.dtype().is_float() {
            return Err(invalid_input(
                self,
                format!("dtype {}", x.dtype()),
                "f32 or f64".to_string(),
            ));
        }
        if !self.training || self.p == 0.0 {
            return Ok(x.clone());
        }
        let uniform = {
            let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
            Tensor::rand_with(x.shape(), x.dtype(), &mut rng)
        };
        // Keep where u ≥ p (probability 1 − p). With p = 1 nothing is kept and the scale is unused.
        let scale = if self.p < 1.0 {
            1.0 / (1.0 - self.p)
        } else {
            0.0
        };
        let mask = uniform.ge_scalar(self.p) * scale;
        Ok(x.try_mul(&mask)?)
    }

    fn describe(&self) -> String {
        format!("Dropout(p={})", self.p)
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    fn local_generators(&self) -> Vec<(String, Generator)> {
        let rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        vec![(GENERATOR.to_string(), rng.clone())]
    }

    fn set_local_generator(&self, name: &str, generator: Generator) -> Result<()> {
        if name != GENERATOR {
            return Err(Error::invalid(
                "load_generators",
                format!("{}: has no generator {name:?}", self.describe()),
            ));
        }
        *self.rng.lock().unwrap_or_else(|p| p.into_inner()) = generator;
        Ok(())
    }
}
