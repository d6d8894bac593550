//! Adam (Kingma and Ba, 2015), in PyTorch's form.
//!
//! ```text
//! g ← ∇θ L + λ θ
//! m ← β₁ m + (1 − β₁) g
//! v ← β₂ v + (1 − β₂) g²
//! m̂ = m / (1 − β₁ᵗ),   v̂ = v / (1 − β₂ᵗ)
//! θ ← θ − η m̂ / (√v̂ + ε)
//! ```

use crate::nn::Parameter;
use crate::optim::{Optimizer, decayed_grad, ensure_state};
use crate::tensor::Tensor;

/// Adam with β₁ = 0.9, β₂ = 0.999, ε = 1e-8 by default (PyTorch's; Keras uses ε = 1e-7).
///
/// ```
/// use dl_core::prelude::*;
/// let mut p = Parameter::new("w", dl_core::tensor::from_vec(&[1], vec![1.0]));
/// p.grad.fill(3.0);
/// Adam::new(0.01).step(&mut [&mut p]);
/// assert!((p.value[0] - 0.99).abs() < 1e-6); // the first Adam step moves by ≈ lr
/// ```
#[derive(Clone, Debug)]
pub struct Adam {
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    t: i32,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
}

impl Default for Adam {
    fn default() -> Self {
        Adam::new(1e-3)
    }
}

impl Adam {
    /// Adam with learning rate `lr` (1e-3 is usual).
    pub fn new(lr: f32) -> Adam {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            t: 0,
            m: Vec::new(),
            v: Vec::new(),
        }
    }

    /// The same optimiser with other moment decay rates.
    pub fn with_betas(mut self, beta1: f32, beta2: f32) -> Adam {
        self.beta1 = beta1;
        self.beta2 = beta2;
        self
    }

    /// The same optimiser with another ε.
    pub fn with_eps(mut self, eps: f32) -> Adam {
        self.eps = eps;
        self
    }

    /// The same optimiser with L2 weight decay `λ` (PyTorch `Adam(weight_decay=λ)`).
    pub fn with_weight_decay(mut self, weight_decay: f32) -> Adam {
        self.weight_decay = weight_decay;
        self
    }
}

impl Optimizer for Adam {
    fn step(&mut self, parameters: &mut [&mut Parameter]) {
        let before = self.m.len();
        ensure_state(&mut self.m, parameters);
        ensure_state(&mut self.v, parameters);
        if self.m.len() != before {
            self.t = 0;
        }
        self.t += 1;
        let bias1 = 1.0 - self.beta1.powi(self.t);
        let bias2 = 1.0 - self.beta2.powi(self.t);
        let (b1, b2, eps) = (self.beta1, self.beta2, self.eps);
        let step_size = self.lr / bias1;
        for ((p, m), v) in parameters.iter_mut().zip(&mut self.m).zip(&mut self.v) {
            let g = decayed_grad(&p.grad, &p.value, self.weight_decay);
            let update = |theta: &mut f32, m: &mut f32, v: &mut f32, &g: &f32| {
                *m = b1 * *m + (1.0 - b1) * g;
                *v = b2 * *v + (1.0 - b2) * g * g;
                let denom = (*v).sqrt() / bias2.sqrt() + eps;
                *theta -= step_size * *m / denom;
            };
            // A large weight matrix (the book CNN's dense layer: 205k values) on every thread.
            let large = p.value.len() >= 1 << 15 && rayon::current_num_threads() > 1;
            let zip = ndarray::Zip::from(&mut p.value).and(m).and(v).and(&*g);
            if large {
                zip.par_for_each(update);
            } else {
                zip.for_each(update);
            }
        }
    }
    fn learning_rate(&self) -> f32 {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: f32) {
        self.lr = lr;
    }
    fn name(&self) -> &str {
        "adam"
    }
}
