//! Two-class toy sets in the plane, like the TensorFlow Playground's and scikit-learn's
//! `make_moons` / `make_circles`: features `[N, 2]` `f32`, `i64` labels `[N]`, half of the
//! samples in each class (class 0 gets the extra one when `N` is odd), in random order, with
//! Gaussian noise of standard deviation `noise` added to each coordinate. Seeded: the same
//! seed gives the same points.

use super::dataset::Dataset;
use crate::error::{Error, Result};
use nabla_core::{Generator, Tensor};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use std::fmt;

/// Which toy set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ToySet {
    /// Two interleaved spiral arms, each 1.75 turns from the centre out to radius 1, the second
    /// the first turned by half a turn (the Playground's spiral, scaled to the unit disc).
    Spiral,
    /// Two interleaving half circles: the upper one of radius 1 around `(0, 0)`, the lower one
    /// around `(1, 0.5)` (scikit-learn's `make_moons`, angles drawn at random).
    Moons,
    /// A circle of radius 1 around a circle of radius 0.5 (scikit-learn's
    /// `make_circles(factor=0.5)`, angles drawn at random).
    Circles,
    /// Points uniform in `[-1, 1]²`, kept 0.05 off the axes; class 1 where `x·y < 0` (the
    /// Playground's XOR).
    Xor,
}

impl ToySet {
    /// Every toy set.
    pub const ALL: [ToySet; 4] = [ToySet::Spiral, ToySet::Moons, ToySet::Circles, ToySet::Xor];

    /// The set named `name` (`spiral`, `moons`, `circles`, `xor`).
    ///
    /// ```
    /// use nabla_nn::data::ToySet;
    /// assert_eq!(ToySet::from_name("moons"), Some(ToySet::Moons));
    /// assert_eq!(ToySet::from_name("data/mnist"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<ToySet> {
        ToySet::ALL.into_iter().find(|set| set.name() == name)
    }

    /// The set's name.
    pub fn name(self) -> &'static str {
        match self {
            ToySet::Spiral => "spiral",
            ToySet::Moons => "moons",
            ToySet::Circles => "circles",
            ToySet::Xor => "xor",
        }
    }

    /// `samples` points drawn with `seed`, their coordinates perturbed by Gaussian noise of
    /// standard deviation `noise`.
    ///
    /// ```
    /// use nabla_nn::data::ToySet;
    /// let moons = ToySet::Moons.generate(100, 0.1, 7).unwrap();
    /// assert_eq!(moons.features.shape(), &[100, 2]);
    /// let ones = moons.targets.to_vec::<i64>().iter().sum::<i64>();
    /// assert_eq!(ones, 50);
    /// ```
    pub fn generate(self, samples: usize, noise: f64, seed: u64) -> Result<Dataset> {
        if samples < 2 {
            return Err(Error::invalid(
                "ToySet::generate",
                format!("the {self} set needs at least 2 samples (one per class), got {samples}"),
            ));
        }
        if !(noise >= 0.0 && noise.is_finite()) {
            return Err(Error::invalid(
                "ToySet::generate",
                format!("noise must be zero or a positive number, got {noise}"),
            ));
        }
        crate::memory::check(
            &format!("{samples} samples of the {self} set"),
            (samples as u64).checked_mul(16),
            crate::memory::available(),
        )?;
        let mut rng = Generator::new(seed);
        let mut labels: Vec<i64> = (0..samples)
            .map(|i| i64::from(i >= samples.div_ceil(2)))
            .collect();
        rng.shuffle(&mut labels);
        let mut features = Vec::with_capacity(2 * samples);
        for &label in &labels {
            let (x, y) = self.point(label, &mut rng);
            features.push((x + noise * rng.normal()) as f32);
            features.push((y + noise * rng.normal()) as f32);
        }
        Dataset::new(
            Tensor::from_vec(features, &[samples, 2]),
            Tensor::from_vec(labels, &[samples]),
        )
    }

    /// One noiseless point of class `label`.
    fn point(self, label: i64, rng: &mut Generator) -> (f64, f64) {
        match self {
            ToySet::Spiral => {
                let r = rng.uniform(0.0, 1.0);
                let t = 1.75 * 2.0 * PI * r + if label == 1 { PI } else { 0.0 };
                (r * t.sin(), r * t.cos())
            }
            ToySet::Moons => {
                let t = rng.uniform(0.0, PI);
                if label == 0 {
                    (t.cos(), t.sin())
                } else {
                    (1.0 - t.cos(), 0.5 - t.sin())
                }
            }
            ToySet::Circles => {
                let t = rng.uniform(0.0, 2.0 * PI);
                let r = if label == 0 { 1.0 } else { 0.5 };
                (r * t.cos(), r * t.sin())
            }
            ToySet::Xor => {
                const PADDING: f64 = 0.05;
                let off_axis = |v: f64| v + PADDING * v.signum();
                loop {
                    let (x, y) = (
                        off_axis(rng.uniform(-1.0, 1.0)),
                        off_axis(rng.uniform(-1.0, 1.0)),
                    );
                    if i64::from(x * y < 0.0) == label {
                        return (x, y);
                    }
                }
            }
        }
    }
}

impl fmt::Display for ToySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
