//! Seeded weight initialisers.
//!
//! For a weight with `fan_in` inputs and `fan_out` outputs:
//!
//! | initialiser | distribution |
//! |---|---|
//! | uniform(a, b) | `U(a, b)` |
//! | normal(μ, σ) | `N(μ, σ²)` |
//! | Xavier/Glorot uniform | `U(-l, l)`, `l = sqrt(6 / (fan_in + fan_out))` |
//! | Xavier/Glorot normal | `N(0, 2 / (fan_in + fan_out))` |
//! | He/Kaiming uniform | `U(-l, l)`, `l = sqrt(6 / fan_in)` |
//! | He/Kaiming normal | `N(0, 2 / fan_in)` |
//!
//! All draw from the crate-wide generator (`dl_core::seed`).

use crate::rng::with_rng;
use crate::tensor::Tensor;
use ndarray::{ArrayD, IxDyn};
use serde::{Deserialize, Serialize};

/// How to fill a new weight tensor.
///
/// ```
/// use dl_core::init::Initializer;
/// dl_core::seed(0);
/// let w = Initializer::GlorotUniform.tensor(&[100, 50], 100, 50);
/// let limit = (6.0f32 / 150.0).sqrt();
/// assert!(w.iter().all(|v| v.abs() <= limit));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Initializer {
    /// All zeros.
    Zeros,
    /// Uniform in `[low, high)`.
    Uniform {
        /// Lower bound.
        low: f32,
        /// Upper bound.
        high: f32,
    },
    /// Normal with mean and standard deviation.
    Normal {
        /// Mean.
        mean: f32,
        /// Standard deviation.
        std: f32,
    },
    /// Xavier/Glorot uniform (Keras' default for Dense).
    GlorotUniform,
    /// Xavier/Glorot normal.
    GlorotNormal,
    /// He/Kaiming uniform (for ReLU networks).
    HeUniform,
    /// He/Kaiming normal (for ReLU networks).
    HeNormal,
}

impl Initializer {
    /// A new tensor of `shape` for a weight with the given fans.
    pub fn tensor(&self, shape: &[usize], fan_in: usize, fan_out: usize) -> Tensor {
        let (fi, fo) = (fan_in.max(1) as f32, fan_out.max(1) as f32);
        match *self {
            Initializer::Zeros => ArrayD::zeros(IxDyn(shape)),
            Initializer::Uniform { low, high } => uniform(shape, low, high),
            Initializer::Normal { mean, std } => normal(shape, mean, std),
            Initializer::GlorotUniform => {
                let l = (6.0 / (fi + fo)).sqrt();
                uniform(shape, -l, l)
            }
            Initializer::GlorotNormal => normal(shape, 0.0, (2.0 / (fi + fo)).sqrt()),
            Initializer::HeUniform => {
                let l = (6.0 / fi).sqrt();
                uniform(shape, -l, l)
            }
            Initializer::HeNormal => normal(shape, 0.0, (2.0 / fi).sqrt()),
        }
    }
}

/// A tensor with entries uniform in `[low, high)`.
///
/// ```
/// dl_core::seed(1);
/// let t = dl_core::init::uniform(&[1000], -1.0, 1.0);
/// assert!(t.iter().all(|v| (-1.0..1.0).contains(v)));
/// ```
pub fn uniform(shape: &[usize], low: f32, high: f32) -> Tensor {
    with_rng(|r| ArrayD::from_shape_simple_fn(IxDyn(shape), || r.uniform_range(low, high)))
}

/// A tensor with entries from `N(mean, std²)`.
///
/// ```
/// dl_core::seed(1);
/// let t = dl_core::init::normal(&[10_000], 0.0, 1.0);
/// assert!(t.mean().unwrap().abs() < 0.05);
/// ```
pub fn normal(shape: &[usize], mean: f32, std: f32) -> Tensor {
    with_rng(|r| ArrayD::from_shape_simple_fn(IxDyn(shape), || r.normal(mean, std)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn std_of(t: &Tensor) -> f32 {
        let m = t.mean().unwrap();
        (t.mapv(|v| (v - m) * (v - m)).mean().unwrap()).sqrt()
    }

    #[test]
    fn he_normal_has_the_right_spread() {
        crate::seed(5);
        let t = Initializer::HeNormal.tensor(&[200, 200], 200, 200);
        assert!((std_of(&t) - (2.0f32 / 200.0).sqrt()).abs() < 0.005);
    }

    #[test]
    fn glorot_normal_has_the_right_spread() {
        crate::seed(5);
        let t = Initializer::GlorotNormal.tensor(&[300, 100], 300, 100);
        assert!((std_of(&t) - (2.0f32 / 400.0).sqrt()).abs() < 0.005);
    }

    #[test]
    fn seeding_reproduces_weights() {
        crate::seed(9);
        let a = Initializer::HeUniform.tensor(&[4, 4], 4, 4);
        crate::seed(9);
        let b = Initializer::HeUniform.tensor(&[4, 4], 4, 4);
        assert_eq!(a, b);
    }
}
