//! Seeded random numbers. One process-wide generator (seed it with [`manual_seed`]) serves the
//! `rand`/`randn` constructors; a [`Generator`] of your own gives independent reproducible streams.
//! The algorithm is xoshiro256++, whose output is fixed by its specification, so a seed gives the
//! same numbers on every platform and release.

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::sync::{Mutex, OnceLock};

/// A seeded source of random numbers.
///
/// ```
/// use nabla_core::Generator;
/// let mut a = Generator::new(7);
/// let mut b = Generator::new(7);
/// assert_eq!(a.normal(), b.normal());
/// ```
#[derive(Clone, Debug)]
pub struct Generator(Xoshiro256PlusPlus);

impl Generator {
    /// A generator whose stream is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Generator(Xoshiro256PlusPlus::seed_from_u64(seed))
    }

    /// A uniform draw from `[low, high)`.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.0.random::<f64>()
    }

    /// A standard normal draw.
    pub fn normal(&mut self) -> f64 {
        StandardNormal.sample(&mut self.0)
    }

    /// A uniform integer from `0..n`; panics when `n` is 0 (the range is empty).
    #[track_caller]
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "below: cannot draw from the empty range 0..0");
        self.0.random_range(0..n)
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    /// A fresh seed drawn from this stream (to derive sub-generators).
    pub fn next_seed(&mut self) -> u64 {
        self.0.random()
    }
}

fn global() -> &'static Mutex<Generator> {
    static GLOBAL: OnceLock<Mutex<Generator>> = OnceLock::new();
    GLOBAL.get_or_init(|| Mutex::new(Generator::new(0)))
}

/// Reseeds the process-wide generator (PyTorch's `torch.manual_seed`).
pub fn manual_seed(seed: u64) {
    *global().lock().unwrap_or_else(|p| p.into_inner()) = Generator::new(seed);
}

/// Runs `f` with the process-wide generator.
pub fn with_global_generator<R>(f: impl FnOnce(&mut Generator) -> R) -> R {
    f(&mut global().lock().unwrap_or_else(|p| p.into_inner()))
}
