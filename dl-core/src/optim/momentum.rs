//! Gradient descent with momentum (PyTorch's form).
//!
//! ```text
//! g ← ∇θ L + λ θ
//! v ← μ v + g              (v = g on the first step)
//! θ ← θ − η v
//! ```
//!
//! Keras writes the same method as `v ← μ v − η g; θ ← θ + v`; with a constant learning rate the
//! two produce identical parameters.

use crate::nn::Parameter;
use crate::optim::{Optimizer, decayed_grad, ensure_state};
use crate::tensor::Tensor;

/// SGD with momentum `μ` (PyTorch `SGD(lr, momentum)`).
///
/// ```
/// use dl_core::prelude::*;
/// let mut p = Parameter::new("w", dl_core::tensor::from_vec(&[1], vec![0.0]));
/// let mut opt = Momentum::new(0.1, 0.9);
/// p.grad.fill(1.0);
/// opt.step(&mut [&mut p]); // v = 1
/// opt.step(&mut [&mut p]); // v = 1.9
/// assert!((p.value[0] + 0.29).abs() < 1e-6);
/// ```
#[derive(Clone, Debug)]
pub struct Momentum {
    lr: f32,
    momentum: f32,
    weight_decay: f32,
    velocity: Vec<Tensor>,
    started: bool,
}

impl Momentum {
    /// Momentum SGD with learning rate `lr` and momentum `μ` (0.9 is usual).
    pub fn new(lr: f32, momentum: f32) -> Momentum {
        Momentum {
            lr,
            momentum,
            weight_decay: 0.0,
            velocity: Vec::new(),
            started: false,
        }
    }

    /// The same optimiser with L2 weight decay `λ`.
    pub fn with_weight_decay(mut self, weight_decay: f32) -> Momentum {
        self.weight_decay = weight_decay;
        self
    }
}

impl Optimizer for Momentum {
    fn step(&mut self, parameters: &mut [&mut Parameter]) {
        let before = self.velocity.len();
        ensure_state(&mut self.velocity, parameters);
        if self.velocity.len() != before {
            self.started = false;
        }
        for (p, v) in parameters.iter_mut().zip(self.velocity.iter_mut()) {
            let g = decayed_grad(&p.grad, &p.value, self.weight_decay);
            if self.started {
                *v *= self.momentum;
                *v += &*g;
            } else {
                v.assign(&*g);
            }
            p.value.scaled_add(-self.lr, v);
        }
        self.started = true;
    }
    fn learning_rate(&self) -> f32 {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: f32) {
        self.lr = lr;
    }
    fn name(&self) -> &str {
        "momentum"
    }
}
