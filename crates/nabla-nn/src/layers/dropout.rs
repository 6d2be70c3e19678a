//! Inverted dropout: in training, zero each unit ([`Dropout`]) or each whole channel
//! ([`Dropout2d`]) with probability `p` and scale the survivors by `1/(1−p)` so the expected
//! activation is unchanged; in evaluation, the identity.

use crate::module::{Module, expect_float, invalid_input};
use crate::{Error, Result};
use nabla_core::{Generator, Tensor};
use std::sync::Mutex;

/// The name of the mask generator in [`Module::local_generators`].
const GENERATOR: &str = "generator";

/// What every dropout shares (these layers, and a recurrent layer's between its layers): the
/// probability, the mode and the seeded mask stream.
pub(crate) struct Masks {
    p: f64,
    pub(crate) training: bool,
    // forward takes &self, yet every call advances the stream.
    rng: Mutex<Generator>,
}

impl Masks {
    pub(crate) fn try_new(layer: &'static str, p: f64, seed: u64) -> Result<Self> {
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::invalid(
                layer,
                format!("the probability must be in [0, 1], got {p}"),
            ));
        }
        Ok(Masks {
            p,
            training: true,
            rng: Mutex::new(Generator::new(seed)),
        })
    }

    /// `x` times a mask of `mask_shape` (broadcast over `x`): 0 with probability `p`, else
    /// `1/(1−p)`; `x` itself in evaluation or for `p = 0`.
    fn apply(&self, module: &dyn Module, x: &Tensor, mask_shape: &[usize]) -> Result<Tensor> {
        expect_float(module, x)?;
        self.multiply(x, mask_shape)
    }

    /// [`Masks::apply`] for a float `x` its caller has checked.
    pub(crate) fn multiply(&self, x: &Tensor, mask_shape: &[usize]) -> Result<Tensor> {
        if !self.training || self.p == 0.0 {
            return Ok(x.clone());
        }
        let uniform = {
            let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
            Tensor::try_rand_with(mask_shape, x.dtype(), &mut rng)?
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

    pub(crate) fn generators(&self) -> Vec<(String, Generator)> {
        let rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        vec![(GENERATOR.to_string(), rng.clone())]
    }

    pub(crate) fn set_generator(
        &self,
        module: &dyn Module,
        name: &str,
        generator: Generator,
    ) -> Result<()> {
        if name != GENERATOR {
            return Err(Error::invalid(
                "load_generators",
                format!("{}: has no generator {name:?}", module.describe()),
            ));
        }
        *self.rng.lock().unwrap_or_else(|p| p.into_inner()) = generator;
        Ok(())
    }
}

/// Inverted dropout of single units, with its own seeded generator, so a run is reproducible.
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
    masks: Masks,
}

impl Dropout {
    /// Dropout with probability `p` in `[0, 1]`, its masks drawn from a generator seeded with `seed`.
    pub fn try_new(p: f64, seed: u64) -> Result<Self> {
        Ok(Dropout {
            masks: Masks::try_new("Dropout", p, seed)?,
        })
    }

    /// Panicking form of [`Dropout::try_new`].
    #[track_caller]
    pub fn new(p: f64, seed: u64) -> Self {
        crate::error::ok(Self::try_new(p, seed))
    }

    /// The drop probability.
    pub fn p(&self) -> f64 {
        self.masks.p
    }
}

impl Module for Dropout {
    fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        self.masks.apply(self, x, x.shape())
    }

    fn describe(&self) -> String {
        format!("Dropout(p={})", self.masks.p)
    }

    fn type_name(&self) -> &'static str {
        "Dropout"
    }

    fn set_training(&mut self, training: bool) {
        self.masks.training = training;
    }

    fn local_generators(&self) -> Vec<(String, Generator)> {
        self.masks.generators()
    }

    fn set_local_generator(&self, name: &str, generator: Generator) -> Result<()> {
        self.masks.set_generator(self, name, generator)
    }
}

/// Channel dropout, `torch.nn.Dropout2d`: each channel of each sample of an `[N, C, H, W]`
/// (or `[N, C, L]`, which PyTorch 2.15 also reads as batch, channels, length) input is zeroed
/// whole with probability `p`, the others scaled by `1/(1−p)`; its own seeded generator, saved
/// with a checkpoint like [`Dropout`]'s.
///
/// ```
/// use nabla_core::{DType, Tensor};
/// use nabla_nn::{layers::Dropout2d, module::Module};
/// let drop = Dropout2d::new(0.5, 7);
/// let y = drop.forward(&Tensor::ones(&[2, 8, 3, 3], DType::F64)).to_vec::<f64>();
/// // Every channel (9 values) is all 0 or all 2.
/// assert!(y.chunks(9).all(|c| c.iter().all(|&v| v == c[0]) && (c[0] == 0.0 || c[0] == 2.0)));
/// let err = drop.try_forward(&Tensor::ones(&[8, 9], DType::F64)).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "forward: Dropout2d(p=0.5): input has shape [8, 9], expected [N, C, H, W] or [N, C, L]"
/// );
/// ```
pub struct Dropout2d {
    masks: Masks,
}

impl Dropout2d {
    /// Channel dropout with probability `p` in `[0, 1]`, its masks drawn from a generator
    /// seeded with `seed`.
    pub fn try_new(p: f64, seed: u64) -> Result<Self> {
        Ok(Dropout2d {
            masks: Masks::try_new("Dropout2d", p, seed)?,
        })
    }

    /// Panicking form of [`Dropout2d::try_new`].
    #[track_caller]
    pub fn new(p: f64, seed: u64) -> Self {
        crate::error::ok(Self::try_new(p, seed))
    }

    /// The probability of dropping a channel.
    pub fn p(&self) -> f64 {
        self.masks.p
    }
}

impl Module for Dropout2d {
    fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
        let &[n, c, ref spatial @ ..] = x.shape() else {
            return Err(self.shape_error(x));
        };
        if !(1..=2).contains(&spatial.len()) {
            return Err(self.shape_error(x));
        }
        // One draw per (sample, channel), broadcast over the spatial dims.
        let mask_shape: Vec<usize> = [n, c]
            .into_iter()
            .chain(spatial.iter().map(|_| 1))
            .collect();
        self.masks.apply(self, x, &mask_shape)
    }

    fn describe(&self) -> String {
        format!("Dropout2d(p={})", self.masks.p)
    }

    fn type_name(&self) -> &'static str {
        "Dropout2d"
    }

    fn set_training(&mut self, training: bool) {
        self.masks.training = training;
    }

    fn local_generators(&self) -> Vec<(String, Generator)> {
        self.masks.generators()
    }

    fn set_local_generator(&self, name: &str, generator: Generator) -> Result<()> {
        self.masks.set_generator(self, name, generator)
    }
}

impl Dropout2d {
    fn shape_error(&self, x: &Tensor) -> Error {
        invalid_input(
            self,
            format!("shape {:?}", x.shape()),
            "[N, C, H, W] or [N, C, L]".to_string(),
        )
    }
}
