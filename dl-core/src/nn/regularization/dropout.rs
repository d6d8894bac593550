//! Inverted dropout.
//!
//! ```text
//! training:   m_i ~ Bernoulli(1 − p),   y = x ⊙ m / (1 − p)
//! inference:  y = x
//! backward:   ∂L/∂x = ∂L/∂y ⊙ m / (1 − p)     (identity in Eval mode)
//! ```
//!
//! Scaling by `1 / (1 − p)` during training keeps the expected activation unchanged, so
//! nothing needs rescaling at inference. Masks draw from the crate-wide seeded generator.

use crate::nn::{Layer, LayerConfig, Mode};
use crate::tensor::Tensor;

/// Dropout with drop probability `rate` (active only in `Mode::Train`).
///
/// ```
/// use dl_core::prelude::*;
/// dl_core::seed(0);
/// let mut drop = Dropout::new(0.5);
/// let x = Tensor::ones(ndarray::IxDyn(&[1000]));
/// let y = drop.forward(&x, Mode::Train);
/// assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
/// assert_eq!(drop.forward(&x, Mode::Eval), x);
/// ```
#[derive(Clone, Debug)]
pub struct Dropout {
    rate: f32,
    mask: Option<Tensor>,
}

impl Dropout {
    /// Dropout zeroing each activation with probability `rate` in `[0, 1)`.
    ///
    /// **Panics** if `rate` is outside `[0, 1)`.
    #[track_caller]
    pub fn new(rate: f32) -> Dropout {
        assert!(
            (0.0..1.0).contains(&rate),
            "Dropout::new: rate must be in [0, 1), got {rate}"
        );
        Dropout { rate, mask: None }
    }
}

impl Layer for Dropout {
    fn forward(&mut self, input: &Tensor, mode: Mode) -> Tensor {
        match mode {
            Mode::Eval => {
                self.mask = None;
                input.clone()
            }
            Mode::Train => {
                let keep = 1.0 - self.rate;
                let mask = crate::rng::with_rng(|r| {
                    Tensor::from_shape_simple_fn(input.raw_dim(), || {
                        if r.uniform() < keep { 1.0 / keep } else { 0.0 }
                    })
                });
                let y = input * &mask;
                self.mask = Some(mask);
                y
            }
        }
    }

    #[track_caller]
    fn infer(&self, input: &Tensor) -> Tensor {
        input.clone()
    }

    fn backward(&mut self, grad_output: &Tensor) -> Tensor {
        match &self.mask {
            None => grad_output.clone(),
            Some(mask) => {
                crate::tensor::assert_same_shape("Dropout::backward", mask, grad_output);
                grad_output * mask
            }
        }
    }

    fn config(&self) -> LayerConfig {
        LayerConfig::Dropout { rate: self.rate }
    }

    fn name(&self) -> &str {
        "dropout"
    }
}
