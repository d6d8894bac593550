//! Layer normalisation: each position's vector scaled to mean 0 and variance 1, then by a
//! learned `γ` and shifted by a learned `β` (the maths and its fused backward are in
//! [`Var::layer_norm`]).

use crate::autograd::Var;
use crate::nn::{Mode, Module, Parameter, Tape};

/// Layer normalisation of the last axis (`γ` starts at 1, `β` at 0, `ε = 1e-5`).
///
/// ```
/// use dl_core::prelude::*;
/// use dl_core::nn::attention::LayerNorm;
/// let mut norm = Autograd::new(LayerNorm::new("ln", 4));
/// let y = norm.forward(&dl_core::tensor::from_vec(&[1, 4], vec![1., 2., 3., 4.]), Mode::Train);
/// assert!(y.sum().abs() < 1e-5);
/// ```
#[derive(Clone, Debug)]
pub struct LayerNorm {
    /// Scale `γ [d]`.
    pub gamma: Parameter,
    /// Shift `β [d]`.
    pub beta: Parameter,
    eps: f32,
}

impl LayerNorm {
    /// Normalisation of `dim` features; parameters `<name>.gamma`, `<name>.beta`.
    pub fn new(name: &str, dim: usize) -> LayerNorm {
        LayerNorm {
            gamma: Parameter::new(
                &format!("{name}.gamma"),
                crate::tensor::Tensor::ones(ndarray::IxDyn(&[dim])),
            ),
            beta: Parameter::new(&format!("{name}.beta"), crate::tensor::zeros(&[dim])),
            eps: 1e-5,
        }
    }
}

impl Module for LayerNorm {
    fn forward(&self, x: &Var, tape: &Tape, _mode: Mode) -> Var {
        x.layer_norm(&tape.param(&self.gamma), &tape.param(&self.beta), self.eps)
    }
    fn parameters(&self) -> Vec<&Parameter> {
        vec![&self.gamma, &self.beta]
    }
    fn parameters_mut(&mut self) -> Vec<&mut Parameter> {
        vec![&mut self.gamma, &mut self.beta]
    }
    fn name(&self) -> &str {
        "layer_norm"
    }
    fn settings(&self) -> serde_json::Value {
        serde_json::json!({"dim": self.gamma.len(), "eps": self.eps})
    }
}
