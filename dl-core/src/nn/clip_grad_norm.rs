//! Gradient clipping by global norm (PyTorch `clip_grad_norm_`, Keras `global_clipnorm`).
//!
//! ```text
//! ‖g‖ = sqrt(Σ_p Σ_i g_{p,i}²)                  over every parameter p
//! if ‖g‖ > max_norm:   g ← g · max_norm / ‖g‖
//! ```
//!
//! Recurrent networks trained by backpropagation through time can see their gradients explode;
//! rescaling the whole gradient keeps its direction and bounds the step.

use crate::nn::Parameter;

/// Rescales all gradients together so that their global L2 norm is at most `max_norm`;
/// returns the norm before clipping. Call it between `backward` and the optimiser's `step`.
///
/// ```
/// use dl_core::nn::{Parameter, clip_grad_norm};
/// let mut a = Parameter::new("a", dl_core::tensor::zeros(&[1]));
/// let mut b = Parameter::new("b", dl_core::tensor::zeros(&[1]));
/// a.grad[0] = 3.0;
/// b.grad[0] = 4.0;
/// let norm = clip_grad_norm(&mut [&mut a, &mut b], 1.0);
/// assert_eq!(norm, 5.0);
/// assert!((a.grad[0] - 0.6).abs() < 1e-6 && (b.grad[0] - 0.8).abs() < 1e-6);
/// ```
pub fn clip_grad_norm(parameters: &mut [&mut Parameter], max_norm: f32) -> f32 {
    let total: f64 = parameters
        .iter()
        .map(|p| p.grad.iter().map(|&g| (g as f64) * (g as f64)).sum::<f64>())
        .sum();
    let norm = total.sqrt() as f32;
    if norm > max_norm && norm > 0.0 {
        let scale = max_norm / (norm + 1e-6);
        for p in parameters.iter_mut() {
            p.grad.mapv_inplace(|g| g * scale);
        }
    }
    norm
}
