//! Learning-rate schedules: the rate for epoch `e` (counted from 0) given the initial rate η₀.
//!
//! ```text
//! constant:      η_e = η₀
//! step decay:    η_e = η₀ γ^⌊e / s⌋                         (PyTorch StepLR)
//! exponential:   η_e = η₀ γ^e                               (PyTorch ExponentialLR)
//! cosine:        η_e = η_min + (η₀ − η_min)(1 + cos(π e / T)) / 2   (PyTorch CosineAnnealingLR, e ≤ T)
//! ```

use serde::{Deserialize, Serialize};

/// A learning-rate schedule applied at the start of each epoch by `fit`.
///
/// ```
/// use dl_core::prelude::*;
/// let s = LrSchedule::StepDecay { step_size: 10, gamma: 0.5 };
/// assert_eq!(s.lr_at(0.1, 0), 0.1);
/// assert_eq!(s.lr_at(0.1, 10), 0.05);
/// let c = LrSchedule::Cosine { t_max: 10, min_lr: 0.0 };
/// assert!(c.lr_at(1.0, 10).abs() < 1e-6);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
pub enum LrSchedule {
    /// The initial rate throughout.
    #[default]
    Constant,
    /// Multiply by `gamma` every `step_size` epochs.
    StepDecay {
        /// Epochs between decays.
        step_size: usize,
        /// Factor per decay.
        gamma: f32,
    },
    /// Multiply by `gamma` every epoch.
    Exponential {
        /// Factor per epoch.
        gamma: f32,
    },
    /// Cosine annealing from the initial rate down to `min_lr` over `t_max` epochs.
    Cosine {
        /// Epochs to reach `min_lr`.
        t_max: usize,
        /// Final rate.
        min_lr: f32,
    },
}

impl LrSchedule {
    /// The learning rate for `epoch` (0-based) starting from `initial_lr`.
    pub fn lr_at(&self, initial_lr: f32, epoch: usize) -> f32 {
        match *self {
            LrSchedule::Constant => initial_lr,
            LrSchedule::StepDecay { step_size, gamma } => {
                initial_lr * gamma.powi((epoch / step_size.max(1)) as i32)
            }
            LrSchedule::Exponential { gamma } => initial_lr * gamma.powi(epoch as i32),
            LrSchedule::Cosine { t_max, min_lr } => {
                let e = epoch.min(t_max) as f32;
                let t = t_max.max(1) as f32;
                min_lr + (initial_lr - min_lr) * (1.0 + (std::f32::consts::PI * e / t).cos()) / 2.0
            }
        }
    }
}
