//! Seeded random numbers. One process-wide generator (seed it with [`manual_seed`]) serves the
//! `rand`/`randn` constructors; a [`Generator`] of your own gives independent reproducible streams.
//! The algorithm is xoshiro256++, whose output is fixed by its specification, so a seed gives the
//! same numbers on every platform and release. Its whole state is four 64-bit words
//! ([`Generator::state`]), which a checkpoint saves so a resumed run draws what an uninterrupted
//! one would.

use crate::{Error, Result};
use rand::{Rng, RngCore, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::SplitMix64;
use std::sync::{Mutex, OnceLock};

/// A seeded source of random numbers.
///
/// ```
/// use nabla_core::Generator;
/// let mut a = Generator::new(7);
/// let mut b = Generator::new(7);
/// assert_eq!(a.normal(), b.normal());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generator(Xoshiro256PlusPlus);

impl Generator {
    /// A generator whose stream is fixed by `seed` (the state is four SplitMix64 draws from
    /// `seed`, as `rand_xoshiro`'s `Xoshiro256PlusPlus::seed_from_u64`).
    pub fn new(seed: u64) -> Self {
        let mut mix = SplitMix64::seed_from_u64(seed);
        Generator(Xoshiro256PlusPlus {
            s: std::array::from_fn(|_| mix.next_u64()),
        })
    }

    /// The whole state: the generator [`Generator::from_state`] rebuilds from it continues this
    /// stream exactly.
    ///
    /// ```
    /// use nabla_core::Generator;
    /// let mut a = Generator::new(7);
    /// a.normal();
    /// let mut b = Generator::from_state(a.state()).unwrap();
    /// assert_eq!(a.normal(), b.normal());
    /// ```
    pub fn state(&self) -> [u64; 4] {
        self.0.s
    }

    /// The generator in `state`; all zeros is not a state of xoshiro256++ (it would only ever
    /// produce zeros) and is an error.
    pub fn from_state(state: [u64; 4]) -> Result<Self> {
        if state == [0; 4] {
            return Err(Error::invalid(
                "Generator::from_state",
                "the state is all zeros, which xoshiro256++ never reaches",
            ));
        }
        Ok(Generator(Xoshiro256PlusPlus { s: state }))
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

/// xoshiro256++ (Blackman and Vigna), with its state in reach so it can be saved.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Xoshiro256PlusPlus {
    s: [u64; 4],
}

impl RngCore for Xoshiro256PlusPlus {
    fn next_u32(&mut self) -> u32 {
        // The upper bits: the lowest ones have linear dependencies.
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand::rand_core::impls::fill_bytes_via_next(self, dest);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The stream is `rand_xoshiro`'s, draw for draw, so seeds give the numbers they gave before
    /// the state was made reachable.
    #[test]
    fn the_stream_is_rand_xoshiros() {
        for seed in [0, 1, 7, 42, u64::MAX] {
            let mut ours = Generator::new(seed);
            let mut reference = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
            for _ in 0..100 {
                assert_eq!(ours.0.next_u64(), reference.next_u64());
                assert_eq!(ours.0.next_u32(), reference.next_u32());
                assert_eq!(ours.normal(), StandardNormal.sample(&mut reference));
                assert_eq!(ours.below(1000), reference.random_range(0..1000));
            }
        }
    }

    #[test]
    fn a_saved_state_continues_the_stream() {
        let mut a = Generator::new(3);
        a.uniform(0.0, 1.0);
        let mut b = Generator::from_state(a.state()).unwrap();
        let draws = |g: &mut Generator| (0..10).map(|_| g.next_seed()).collect::<Vec<_>>();
        assert_eq!(draws(&mut a), draws(&mut b));
        assert_eq!(
            Generator::from_state([0; 4]).unwrap_err().to_string(),
            "Generator::from_state: the state is all zeros, which xoshiro256++ never reaches"
        );
    }
}
