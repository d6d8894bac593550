//! A small, seeded pseudo-random number generator shared by the whole crate.
//!
//! The generator is xoshiro256++ (Blackman and Vigna), seeded through SplitMix64:
//!
//! ```text
//! state  <- splitmix64(seed), four times
//! output  = rotl(s0 + s3, 23) + s0
//! ```
//!
//! Uniform floats in `[0, 1)` take the top 24 bits: `u = (x >> 40) / 2^24`.
//! Normal samples use the Box–Muller transform: `z = sqrt(-2 ln u1) * cos(2π u2)`.
//!
//! Everything random in dl-core (weight initialisation, dropout masks, shuffling, splits)
//! draws from one crate-wide generator, so `dl_core::seed(42)` makes a whole notebook
//! reproducible. Code that wants its own stream can create an [`Rng`] directly.
//!
//! The generator is kept per thread (a notebook cell runs on one thread), so that tests
//! running in parallel, or a background thread, never disturb each other's sequence. In a
//! notebook kernel (`DL_KERNEL=1`) it is one generator for the whole process instead, shared
//! by every cell's copy of dl-core (see [`crate::process_wide`]), so a seed set in one cell
//! carries on into the next.

use std::cell::RefCell;

/// A seeded xoshiro256++ generator.
///
/// ```
/// use dl_core::rng::Rng;
/// let mut a = Rng::new(7);
/// let mut b = Rng::new(7);
/// assert_eq!(a.next_u64(), b.next_u64());
/// let u = a.uniform();
/// assert!((0.0..1.0).contains(&u));
/// ```
#[derive(Clone, Debug)]
pub struct Rng {
    state: [u64; 4],
}

const fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator whose whole sequence is determined by `seed`.
    pub const fn new(seed: u64) -> Rng {
        let mut x = seed;
        let s0 = splitmix64(&mut x);
        let s1 = splitmix64(&mut x);
        let s2 = splitmix64(&mut x);
        let s3 = splitmix64(&mut x);
        Rng {
            state: [s0, s1, s2, s3],
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
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

    /// A uniform `f32` in `[0, 1)`.
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// A uniform `f32` in `[low, high)`.
    pub fn uniform_range(&mut self, low: f32, high: f32) -> f32 {
        low + (high - low) * self.uniform()
    }

    /// A sample from the normal distribution with the given mean and standard deviation.
    pub fn normal(&mut self, mean: f32, std: f32) -> f32 {
        // 53-bit uniforms in (0, 1] for the logarithm, computed in f64 for accuracy.
        let u1 = ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        let u2 = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        mean + std * z as f32
    }

    /// A uniform integer in `0..n` (`n > 0`).
    ///
    /// **Panics** if `n == 0`.
    #[track_caller]
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below: n must be positive");
        // Lemire's multiply-shift; the bias for n << 2^64 is negligible for teaching use.
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Shuffles a slice in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    /// A random permutation of `0..n`.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        self.shuffle(&mut p);
        p
    }
}

thread_local! {
    static GLOBAL: RefCell<Rng> = const { RefCell::new(Rng::new(0)) };
}

/// Reseeds the crate-wide generator (weights, dropout, shuffling, splits).
///
/// ```
/// dl_core::seed(42);
/// let a = dl_core::rng::with_rng(|r| r.next_u64());
/// dl_core::seed(42);
/// let b = dl_core::rng::with_rng(|r| r.next_u64());
/// assert_eq!(a, b);
/// ```
pub fn seed(seed: u64) {
    with_rng(|r| *r = Rng::new(seed));
}

/// Runs `f` with the crate-wide generator.
pub fn with_rng<T>(f: impl FnOnce(&mut Rng) -> T) -> T {
    if crate::display::in_kernel() {
        let shared = crate::process_wide::shared("RNG", || Rng::new(0));
        return f(&mut shared.lock().unwrap_or_else(|e| e.into_inner()));
    }
    GLOBAL.with(|g| f(&mut g.borrow_mut()))
}

/// A fresh generator seeded from the crate-wide one (for a loop that draws many numbers).
pub fn fork() -> Rng {
    with_rng(|r| Rng::new(r.next_u64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_mean_and_normal_moments() {
        let mut rng = Rng::new(1);
        let n = 100_000;
        let mean: f32 = (0..n).map(|_| rng.uniform()).sum::<f32>() / n as f32;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
        let xs: Vec<f32> = (0..n).map(|_| rng.normal(2.0, 3.0)).collect();
        let m = xs.iter().sum::<f32>() / n as f32;
        let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f32>() / n as f32;
        assert!((m - 2.0).abs() < 0.05, "{m}");
        assert!((v.sqrt() - 3.0).abs() < 0.05, "{v}");
    }

    #[test]
    fn permutation_is_a_permutation() {
        let mut p = Rng::new(3).permutation(100);
        p.sort();
        assert_eq!(p, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn different_seeds_differ() {
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }
}
