//! Stochastic gradient descent.
//!
//! ```text
//! g ← ∇θ L + λ θ          (weight decay λ, optional)
//! θ ← θ − η g             (learning rate η)
//! ```

use crate::nn::Parameter;
use crate::optim::{Optimizer, decayed_grad};

/// Plain gradient descent (PyTorch `SGD(lr, weight_decay)`, Keras `SGD`).
///
/// ```
/// use dl_core::prelude::*;
/// let mut p = Parameter::new("w", dl_core::tensor::from_vec(&[1], vec![1.0]));
/// p.grad.fill(0.5);
/// Sgd::new(0.1).step(&mut [&mut p]);
/// assert!((p.value[0] - 0.95).abs() < 1e-7);
/// ```
#[derive(Clone, Debug)]
pub struct Sgd {
    lr: f32,
    weight_decay: f32,
}

impl Sgd {
    /// SGD with learning rate `lr`.
    pub fn new(lr: f32) -> Sgd {
        Sgd {
            lr,
            weight_decay: 0.0,
        }
    }

    /// The same optimiser with L2 weight decay `λ`.
    pub fn with_weight_decay(mut self, weight_decay: f32) -> Sgd {
        self.weight_decay = weight_decay;
        self
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, parameters: &mut [&mut Parameter]) {
        for p in parameters.iter_mut() {
            let g = decayed_grad(&p.grad, &p.value, self.weight_decay);
            p.value.scaled_add(-self.lr, &*g);
        }
    }
    fn learning_rate(&self) -> f32 {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: f32) {
        self.lr = lr;
    }
    fn name(&self) -> &str {
        "sgd"
    }
}
