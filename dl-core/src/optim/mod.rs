//! Optimisers: rules that turn gradients into parameter updates, and learning-rate schedules.
//!
//! Each optimiser follows PyTorch's update rule exactly (weight decay is the L2 form
//! `g ← g + λ θ`), so one step can be checked against PyTorch's numbers.

mod adam;
mod momentum;
mod schedule;
mod sgd;

pub use adam::Adam;
pub use momentum::Momentum;
pub use schedule::LrSchedule;
pub use sgd::Sgd;

use crate::nn::Parameter;

/// An update rule for a list of parameters (always passed in the same order).
pub trait Optimizer: Send {
    /// Updates every parameter from its gradient (the gradients are left as they are).
    fn step(&mut self, parameters: &mut [&mut Parameter]);
    /// The current learning rate.
    fn learning_rate(&self) -> f32;
    /// Sets the learning rate (schedules call this once per epoch).
    fn set_learning_rate(&mut self, lr: f32);
    /// A short name, e.g. `"adam"`.
    fn name(&self) -> &str;
}

/// The gradient with L2 weight decay added: `g + λ θ` (borrowed when `λ = 0`).
pub(crate) fn decayed_grad<'a>(
    grad: &'a crate::tensor::Tensor,
    value: &crate::tensor::Tensor,
    weight_decay: f32,
) -> std::borrow::Cow<'a, crate::tensor::Tensor> {
    if weight_decay == 0.0 {
        std::borrow::Cow::Borrowed(grad)
    } else {
        std::borrow::Cow::Owned(grad + &(value * weight_decay))
    }
}

/// Optimiser state (one tensor per parameter), reset when the parameter shapes change.
pub(crate) fn ensure_state(state: &mut Vec<crate::tensor::Tensor>, parameters: &[&mut Parameter]) {
    let fits = state.len() == parameters.len()
        && state
            .iter()
            .zip(parameters)
            .all(|(s, p)| s.shape() == p.value.shape());
    if !fits {
        *state = parameters
            .iter()
            .map(|p| crate::tensor::Tensor::zeros(p.value.raw_dim()))
            .collect();
    }
}
